"""torch.<name> functions that are nn.functional ops under ATen's native signatures: the norms take weight and bias
first and a cudnn flag, the losses take `reduction` as an int (0 none, 1 mean, 2 sum; omitted, torch's bindings
reduce nothing), dropout takes `train`, the pooling functions return (values, indices) where ATen does."""
import numpy as _np

from ._tensor import Tensor as _Tensor
from .nn import functional as F
from .nn._functional import dropout as _dropout
from .nn._functional import loss as _loss_fn
from .nn._functional import normalization as _norm
from .ops.creation import empty as _empty

def _reduction(reduction):
    """ATen's Reduction enum as nn.functional's string: 1 mean, 2 sum, any other int none (as torch reads it)."""
    if isinstance(reduction, str):
        return reduction
    return {1: "mean", 2: "sum"}.get(reduction, "none")


# ---- convolution and pooling -----------------------------------------------------------------------------------
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d
avg_pool1d, adaptive_avg_pool1d = F.avg_pool1d, F.adaptive_avg_pool1d
pixel_shuffle, pixel_unshuffle, channel_shuffle = F.pixel_shuffle, F.pixel_unshuffle, F.channel_shuffle
bilinear, pdist = F.bilinear, F.pdist


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """The convolution every conv*d and conv_transpose*d is an instance of, chosen by the input's rank."""
    nd = input.dim() - 2
    if nd not in (1, 2, 3):
        raise RuntimeError(f"Expected 3D, 4D or 5D input to convolution, but got input of size: {list(input.shape)}")
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return (F.conv1d, F.conv2d, F.conv3d)[nd - 1](input, weight, bias, stride, padding, dilation, groups)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d(input, output_size):
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)


# ---- normalization -----------------------------------------------------------------------------------------------
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return F.rms_norm(input, normalized_shape, weight, eps)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(output, mean, rstd), the statistics shaped input.shape[:-k] + (1,) * k and not differentiable."""
    out, mean, var = _norm.layer_norm_stats(input, normalized_shape, weight, bias, eps)
    return out, *_saved_stats(mean, var, eps, _norm._stats_dtype(input, weight, bias))


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd) over the batch in training, updating the running statistics; in evaluation
    the running statistics normalise and the saved ones are empty."""
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if training and not input.numel():
        raise RuntimeError(f"input tensor must have at least one element, but got input_sizes = {list(input.shape)}")
    out, mean, var = _norm.batch_norm_stats(input, running_mean, running_var, weight, bias, training, momentum, eps)
    dt = _norm._stats_dtype(input, weight, bias, running_mean)
    if mean is None:
        return out, _empty(0, dtype=dt), _empty(0, dtype=dt)
    return out, *_saved_stats(mean, var, eps, dt)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(output, mean, rstd) of input viewed as (N, C, HxW) in `group` groups; the statistics are (N, group)."""
    return _norm.group_norm_stats(input, weight, bias, N, C, HxW, group, eps)


def _saved_stats(mean, var, eps, dtype):
    """The mean and 1 / sqrt(var + eps) arrays as tensors of dtype (no grad: torch marks them non-differentiable)."""
    with _np.errstate(divide="ignore", invalid="ignore"):
        rstd = 1 / _np.sqrt(var + eps)
    return _Tensor._make(mean.astype(dtype.np)), _Tensor._make(rstd.astype(dtype.np))


# ---- activations and dropout -------------------------------------------------------------------------------------
def threshold(input, threshold, value):
    return F.threshold(input, threshold, value)


def threshold_(input, threshold, value):
    return F.threshold_(input, threshold, value)


def selu_(input):
    return F.selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return F.celu(input, alpha, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return F.rrelu(input, lower, upper, training, inplace=True)


def dropout_(input, p, train):
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p, train):
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input, p, train):
    return _dropout.feature_dropout(input, p, train)


def feature_dropout_(input, p, train):
    return _dropout.feature_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input, p, train):
    return F.feature_alpha_dropout(input, p, train, inplace=True)


# ---- losses (reduction as ATen's int) ----------------------------------------------------------------------------
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                              pos_weight=pos_weight)


def kl_div(input, target, reduction=0, *, log_target=False):
    return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    return _loss_fn.triplet_margin_loss_unchecked(anchor, positive, negative, margin, p, eps, swap,
                                                  _reduction(reduction))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction), zero_infinity)


# ---- sampling grids ------------------------------------------------------------------------------------------------
_INTERPOLATION = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    return F.grid_sample(input, grid, _INTERPOLATION[interpolation_mode], _PADDING[padding_mode], align_corners)


grid_sampler_2d = grid_sampler_3d = grid_sampler


def affine_grid_generator(theta, size, align_corners):
    return F.affine_grid(theta, list(size), align_corners)


__all__ = [n for n in dir() if not n.startswith("_") and n != "F"]
