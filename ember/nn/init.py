"""nn.init: PyTorch's initializers with its fan rules and gains (ember's random stream)."""
import math
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from .. import random as _random


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (as in PyTorch)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    num_input_fmaps = tensor.size(1)
    num_output_fmaps = tensor.size(0)
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _write(tensor, values):
    """Fill tensor in place without recording history (initializers run under no_grad)."""
    with no_grad():
        tensor._data[...] = values
        tensor._bump()
    return tensor


def _rng(generator):
    return _random.rng(generator)


def _work_dtype(tensor):
    """The NumPy float type samples for `tensor` are drawn in: float64 for float64 tensors, else float32."""
    return np.float64 if tensor._data.dtype == np.float64 else np.float32


def _plain_float(tensor, *numbers):
    """Whether the direct NumPy fill applies: a float32/float64 tensor and plain-number arguments (anything else
    goes through the Tensor method, which owns the errors for other dtypes and argument types)."""
    return tensor._data.dtype in (np.float32, np.float64) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b): u * (b - a) + a, drawn straight into a contiguous float tensor."""
    if not (_plain_float(tensor, a, b) and a <= b):
        with no_grad():
            return tensor.uniform_(a, b, generator=generator)
    d = tensor._data
    u = d if d.flags.c_contiguous else np.empty(d.shape, d.dtype)
    _rng(generator).random(out=u, dtype=d.dtype)
    u *= d.dtype.type(b - a)
    u += d.dtype.type(a)
    return _bumped(tensor) if u is d else _write(tensor, u)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2): z * std + mean."""
    if not (_plain_float(tensor, mean, std) and std >= 0):
        with no_grad():
            return tensor.normal_(mean, std, generator=generator)
    from ..ops.creation import _standard_normal
    d = tensor._data
    z = _standard_normal(_rng(generator), d.shape, d.dtype.type)
    z *= d.dtype.type(std)
    z += d.dtype.type(mean)
    return _write(tensor, z)


def _bumped(tensor):
    """Record an in-place write made directly into tensor._data."""
    tensor._bump()
    return tensor


def _truncated_by_rejection(r, n, work, mean, std, a, b, accept):
    """n draws of N(mean, std^2) conditioned on [a, b]: normal draws outside the interval are drawn again."""
    from ..ops.creation import _standard_normal
    out = np.empty(n, work)
    filled = 0
    while filled < n:
        need = n - filled
        x = _standard_normal(r, (int(need / accept * 1.05) + 64,), work)
        x *= work(std)
        x += work(mean)
        x = x[(x >= a) & (x <= b)][:need]
        out[filled:filled + x.size] = x
        filled += x.size
    return out


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) truncated to [a, b]: rejection of normal draws when at least a quarter of them land in
    [a, b], else inverse-CDF sampling as PyTorch does (both give the same distribution)."""
    from ..ops import special_math as sm

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may "
                      "be incorrect.", stacklevel=2)
    lo, hi = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)
    work, shape = _work_dtype(tensor), tensor._data.shape
    if hi - lo >= 0.25:
        v = _truncated_by_rejection(_rng(generator), tensor._data.size, work, mean, std, a, b, hi - lo)
        return _write(tensor, v.reshape(shape))
    u = _rng(generator).random(shape, dtype=work)
    u *= work(2 * hi - 2 * lo)
    u += work(2 * lo - 1)
    v = sm.erfinv(u)
    v *= work(std * math.sqrt(2.0))
    v += work(mean)
    return _write(tensor, np.clip(v, a, b, out=v))


def constant_(tensor, val):
    """Fill with the value val."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (as many inputs preserved as possible)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    d = tensor._data
    with no_grad():
        d[...] = 0
        k = np.arange(min(d.shape))
        d[k, k] = 1
    return _bumped(tensor)


def dirac_(tensor, groups=1):
    """Fill a 3/4/5-D conv weight with the Dirac delta: each group passes its first channels through."""
    dimensions = tensor.dim()
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.size()
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    w = np.zeros(tensor._data.shape)
    d = np.tile(np.arange(min_dim), groups)
    out_ch = np.repeat(np.arange(groups) * out_chans_per_grp, min_dim) + d
    w[(out_ch, d) + tuple(s // 2 for s in sizes[2:])] = 1
    return _write(tensor, w)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    from ..ops.creation import _standard_normal
    flattened = _standard_normal(_rng(generator), (rows, cols), _work_dtype(tensor))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    q *= q.dtype.type(gain)
    return _write(tensor, q.reshape(tensor._data.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    r = _rng(generator)
    w = r.standard_normal((rows, cols)) * std
    zero_rows = np.argsort(r.random((rows, cols)), axis=0)[:num_zeros]  # an independent permutation per column
    w[zero_rows, np.arange(cols)] = 0
    return _write(tensor, w)


def _deprecated(new):
    def old(*args, **kwargs):
        warnings.warn(f"`nn.init.{new.__name__[:-1]}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = new.__name__[:-1]
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
