"""Functional normalisation: batch/instance/layer/group/RMS norm, local response norm, normalize."""
import math

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ...ops.normalization import BatchNormFn, BatchNormEval, LayerNormFn, GroupNormFn, norm_output, norm_outputs
from ...ops.elementwise import div
from ...ops.reduction import vector_norm
from ...autograd.grad_mode import STATE
from ...autograd.function import as_node
from ..functional import _scalar_name
from ...ops._util import wrap_dim


def _update_running(running, batch_value, momentum):
    """running = (1 - momentum) * running + momentum * batch_value, in place on the array (nothing recorded)."""
    r = running._data
    r *= (1 - momentum)
    r += momentum * batch_value.reshape(r.shape).astype(r.dtype, copy=False)
    running._bump()


def count_batch(counter):
    """counter.add_(1) for a BatchNorm's num_batches_tracked: in place on the array when it is a plain 0-d int64
    tensor (nothing to record or check), as _update_running updates the statistics."""
    d = counter._data
    if type(counter) is Tensor and not counter._rg and counter._base is None and not counter._inference \
            and d.ndim == 0 and d.dtype == np.int64 and d.flags.writeable:
        np.add(d, 1, out=d)
        counter._bump()
        return
    counter.add_(1)


def _verify_batch_size(size):
    if math.prod((size[0],) + tuple(size[2:])) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training:
        _verify_batch_size(input.shape)
    _check_eps(eps, training)
    if not input._data.size:
        return _empty_batch_norm(input, weight, bias)
    return batch_norm_stats(input, running_mean, running_var, weight, bias, training, momentum, eps)[0]


def batch_norm_stats(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """Batch norm after torch's checks, updating the running statistics: (output, batch mean, biased batch
    variance), the statistics as (C,) arrays (None in evaluation mode)."""
    c = input.shape[1] if input.dim() > 1 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is None and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
        _check_features(name, t, c)
    _check_features("weight", weight, c)
    _check_features("bias", bias, c)
    wrap_dim(1, input.dim())
    _check_param_dtypes(input, (weight, bias, running_mean, running_var))
    if training:
        m = input.numel() // c if c else 0
        args = (_ncl(input), (0, 2), eps, (1, c, 1))
        if STATE.fast and type(input) is Tensor:
            out, mean, var = norm_outputs(BatchNormFn, input, weight, bias, *args)
        else:
            out, mean, var = BatchNormFn.apply(input, weight, bias, *args)
            mean, var = mean._data, var._data
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:
            _update_running(running_var, var * (m / max(m - 1, 1)), momentum)
        return out, mean.reshape(c), var.reshape(c)
    return BatchNormEval.apply(input, running_mean.detach(), running_var.detach(), weight, bias, eps), None, None


def _check_eps(eps, training):
    """torch's Python-level eps check: positive in training mode, non-negative in evaluation mode."""
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")


def _check_features(name, t, c):
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def _empty_batch_norm(input, weight, bias):
    """An empty input, as torch's batch norm takes it before any check: a clone, times weight[0], plus bias[0]."""
    out = input.clone()
    if weight is not None:
        out = out * weight[0]
    return out + bias[0] if bias is not None else out


def _check_param_dtypes(input, params):
    """PyTorch's CPU batch-norm dtype rules: the parameters (weight, bias, running statistics) share the input's
    dtype, or are all float32 beside a float16 input."""
    params = [p for p in params if p is not None]
    x = input._data.dtype
    if not params:
        return
    if params[0]._data.dtype != x:
        if any(p._data.dtype != np.float32 for p in params):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if x != np.float16:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    for p in params:
        if p._data.dtype != x:
            raise RuntimeError(f"expected scalar type {_scalar_name(input)} but found {_scalar_name(p)}")


def _ncl(x):
    """x viewed as (N, C, L): batch, channel, everything else."""
    shape = x._data.shape
    return shape[:2] + (math.prod(shape[2:]),)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    spatial = math.prod(input.shape[2:])
    if use_input_stats and spatial == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        out = BatchNormEval.apply(input, running_mean.detach(), running_var.detach(), weight, bias, eps)
        return as_node(out, "ViewBackward0")  # PyTorch normalises a (1, N * C, ...) view, then views it back
    n, c = input.shape[:2]
    out, mean, var = BatchNormFn.apply(input, weight, bias, _ncl(input), (2,), eps, (1, c, 1))
    if running_mean is not None:
        _update_running(running_mean, mean._data.reshape(n, c).mean(0), momentum)
    if running_var is not None:
        _update_running(running_var, (var._data * (spatial / (spatial - 1))).reshape(n, c).mean(0), momentum)
    return as_node(out, "ViewBackward0")


def _check_shape_arg(name, normalized_shape):
    if isinstance(normalized_shape, int):
        raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    normalized_shape = tuple(normalized_shape)
    if not normalized_shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    return normalized_shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    args = _layer_norm_args(input, normalized_shape, eps, weight, bias)
    if STATE.fast and type(input) is Tensor:
        return norm_output(LayerNormFn, input, weight, bias, *args)
    return LayerNormFn.apply(input, weight, bias, *args)[0]


def _layer_norm_args(input, normalized_shape, eps, weight, bias):
    """LayerNormFn's geometry arguments for input, after torch's checks of normalized_shape and the parameters."""
    normalized_shape = _check_shape_arg("layer_norm", normalized_shape)
    _check_param_shape("weight", weight, normalized_shape)
    _check_param_shape("bias", bias, normalized_shape)
    k = len(normalized_shape)
    shape = input._data.shape
    if shape[len(shape) - k:] != normalized_shape or k > len(shape):
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    inner = math.prod(normalized_shape)
    rows = math.prod(shape[:len(shape) - k])
    return (rows, inner), (1,), eps, (1, inner)


def _check_param_shape(name, t, normalized_shape):
    """torch's layer_norm/rms_norm check that an affine parameter has exactly normalized_shape."""
    if t is not None and t._data.shape != normalized_shape:
        raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                           f"{list(t.shape)} and normalized_shape = {list(normalized_shape)}")


def layer_norm_stats(input, normalized_shape, weight, bias, eps):
    """layer_norm's (output, mean, biased variance), the statistics as arrays shaped input.shape[:-k] + (1,) * k."""
    args = _layer_norm_args(input, normalized_shape, eps, weight, bias)
    out, mean, var = LayerNormFn.apply(input, weight, bias, *args)
    k = len(tuple(normalized_shape))
    shape = tuple(input.shape[:input.dim() - k]) + (1,) * k
    return out, mean._data.reshape(shape), var._data.reshape(shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[:2]
    args = _group_norm_args(input, n, c, math.prod(input.shape[2:]), num_groups, weight, bias, eps)
    if STATE.fast and type(input) is Tensor:
        return norm_output(GroupNormFn, input, weight, bias, *args)
    return GroupNormFn.apply(input, weight, bias, *args)[0]


def _group_norm_args(input, n, c, hxw, num_groups, weight, bias, eps):
    """GroupNormFn's geometry arguments for input as (N, C, HxW), after torch's checks of the groups and
    parameters."""
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, but "
                               f"got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    return (n, num_groups, c // num_groups, hxw), (2, 3), eps, (1, num_groups, c // num_groups, 1)


def group_norm_stats(input, weight, bias, n, c, hxw, group, eps):
    """torch.native_group_norm: (output, mean, rstd) over each (N, group) block of input viewed as (N, C, HxW); the
    statistics differentiable, as torch's."""
    if input.numel() != n * c * hxw:
        raise RuntimeError(f"Expected X.numel() == N * C * HxW, but got X.numel() = {input.numel()} for input of shape "
                           f"{list(input.shape)} and N * C * HxW = {n} * {c} * {hxw}")
    args = _group_norm_args(input, n, c, hxw, group, weight, bias, eps)
    out = GroupNormFn.apply(input, weight, bias, *args)[0]
    x = input.reshape(n, group, c // group * hxw)
    x = x.float() if x._data.dtype == np.float16 else x  # half statistics in float32, as torch
    mean = x.mean(-1)
    rstd = ((x - mean.unsqueeze(-1)).pow(2).mean(-1) + eps).rsqrt()
    dt = _stats_dtype(input, weight, bias)
    return out, as_node(mean.to(dt), "NativeGroupNormBackward0"), as_node(rstd.to(dt), "NativeGroupNormBackward0")


def _stats_dtype(input, *params):
    """The dtype torch's norms return statistics in: float32 for a half input beside float32 parameters, else the
    input's."""
    if input._data.dtype == np.float16 and any(p is not None and p._data.dtype == np.float32 for p in params):
        return _dtype.float32
    return input.dtype


def rms_norm(input, normalized_shape, weight=None, eps=None):
    normalized_shape = _check_shape_arg("rms_norm", normalized_shape)
    _check_param_shape("weight", weight, normalized_shape)
    k = len(normalized_shape)
    if input.dim() < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {input.dim()}")
    if tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    x = input.float() if input._data.dtype == np.float16 else input  # half in float32, as torch (its opmath)
    if eps is None:
        eps = float(np.finfo(x._data.dtype).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    y = y * weight if weight is not None else y
    if x is not input:
        return y.to(input.dtype)
    return as_node(y, "CloneBackward0") if _dense_permuted(input._data) else y


def _dense_permuted(a):
    """a is a permutation of a contiguous layout but not C-contiguous: PyTorch's elementwise results keep such a
    layout, so its rms_norm copies the result to a contiguous one."""
    if a.flags.c_contiguous:
        return False
    step = a.itemsize
    for i in sorted(range(a.ndim), key=lambda i: a.strides[i]):
        if a.shape[i] != 1 and a.strides[i] != step:
            return False
        step *= a.shape[i]
    return True


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    from .pooling import avg_pool2d, avg_pool3d
    from ...ops.padding import pad
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = (input * input).unsqueeze(1)
    if dim == 3:
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = (div * alpha + k) ** beta
    return input / div


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along dim; with out=, written into out (and then not differentiable)."""
    denom = vector_norm(input, p, dim, True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    return div(input, denom, out=out)
