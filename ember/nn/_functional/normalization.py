"""Functional normalisation: batch/instance/layer/group/RMS norm, local response norm, normalize."""
import numpy as np

from ..._tensor import Tensor
from ...ops.normalization import BatchNormFn, BatchNormEval, LayerNormFn, GroupNormFn
from ...ops.reduction import vector_norm
from ...autograd.grad_mode import no_grad


def _channel_shape(x):
    return (1, -1) + (1,) * (x.dim() - 2)


def _full_channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.dim() - 2)


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _update_running(running, batch_value, momentum):
    """running = (1 - momentum) * running + momentum * batch_value, in place and unrecorded."""
    with no_grad():
        r = running._data
        r *= (1 - momentum)
        r += momentum * batch_value.reshape(r.shape).astype(r.dtype, copy=False)
        running._bump()


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if input.dim() < 2:
        raise RuntimeError(f"batch_norm: expected at least 2D input (got {input.dim()}D input)")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"running_mean should contain {c} elements not {t.numel()}" if name == "running_mean"
                               else f"{name} should contain {c} elements not {t.numel()}")
    shape = _channel_shape(input)
    if training:
        dims = (0,) + tuple(range(2, input.dim()))
        m = input.numel() // c if c else 0
        if m <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        out, mean, var = BatchNormFn.apply(input, weight, bias, input.shape, dims, eps, _full_channel_shape(input))
        if running_mean is not None:
            _update_running(running_mean, mean._data, momentum)
        if running_var is not None:
            _update_running(running_var, var._data * (m / (m - 1)), momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    return BatchNormEval.apply(input, running_mean.detach(), running_var.detach(), weight, bias, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher input (got {input.dim()}D input)")
    n, c = input.shape[:2]
    shape = _channel_shape(input)
    if not use_input_stats:
        return BatchNormEval.apply(input, running_mean.detach(), running_var.detach(), weight, bias, eps)
    spatial = int(np.prod(input.shape[2:]))
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    dims = tuple(range(2, input.dim()))
    out, mean, var = BatchNormFn.apply(input, weight, bias, input.shape, dims, eps, _full_channel_shape(input))
    if running_mean is not None:
        _update_running(running_mean, mean._data.reshape(n, c).mean(0), momentum)
    if running_var is not None:
        _update_running(running_var, (var._data * (spatial / (spatial - 1))).reshape(n, c).mean(0), momentum)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape or k > input.dim():
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    dims = tuple(range(input.dim() - k, input.dim()))
    affine = (1,) * (input.dim() - k) + normalized_shape
    return LayerNormFn.apply(input, weight, bias, input.shape, dims, eps, affine)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    group_shape = (n, num_groups, -1) if input.numel() else input.shape
    return GroupNormFn.apply(input, weight, bias, group_shape, (2,), eps, _full_channel_shape(input))[0]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    from .pooling import avg_pool2d, avg_pool3d
    from ...ops.padding import pad
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
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
    denom = vector_norm(input, p, dim, True).clamp(min=eps).expand_as(input)
    return input / denom
