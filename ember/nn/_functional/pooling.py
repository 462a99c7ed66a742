"""Functional pooling: max/avg/LP, adaptive, fractional pooling and max_unpool, with PyTorch's checks and messages.

1-d pooling runs as 2-d pooling of height 1 where torch does so, which is why some 1-d messages name 2-d shapes.
"""
import math

import numpy as np

from ..._tensor import Tensor
from ...ops import pooling as _pool
from ... import random as _random
from ..._dtype import scalar_name
from ...autograd.function import as_node
from ...autograd.grad_mode import STATE
from ..modules.utils import _ntuple, _list_with_default

_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
           "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_WORDS = {1: "one", 2: "two", 3: "three"}


def _as_tuple(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


def _expand(v, nd):
    """A scalar or 1-tuple repeated to nd values (torch's IntArrayRef broadcasting)."""
    v = _as_tuple(v)
    return v * nd if len(v) == 1 else v


def _unbatch(out, batched):
    """out without the batch dim added to an unbatched input, its node named as the pool's (torch pools such inputs
    as they are)."""
    if batched:
        return out
    if isinstance(out, tuple):
        return tuple(_unbatch(o, False) for o in out)
    return out.squeeze(0) if out._grad_fn is None else as_node(out.squeeze(0), out._grad_fn._node_name)


def _dims_str(*sizes):
    return "x".join(map(str, sizes))


def _window_outs(spatial, ks, st, pads, dils, ceil_mode):
    """torch's pooling_output_shape per dim, with its stride/padding checks, first dim first."""
    outs = []
    for n, k, s, p, d in zip(spatial, ks, st, pads, dils):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} "
                               f"and dilation={d}")
        outs.append(_pool.pool_out_size(n, k, s, p, d, ceil_mode))
    return outs


def _shape_check2d(x, ks, st, pads, dils, outs):
    """torch's pool2d_shape_check (x is the 3-d or 4-d input as given)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = ks, st, pads, dils
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
    if any(s == 0 for s in x.shape[-3:]) or x.dim() not in (3, 4):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{list(x.shape)}")
    if kw // 2 < pw or kh // 2 < ph:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {pw}, padH = "
                           f"{ph}, kW = {kw}, kH = {kh}")
    if outs[0] < 1 or outs[1] < 1:
        raise RuntimeError(f"Given input size: ({_dims_str(*x.shape[-3:])}). Calculated output size: "
                           f"({_dims_str(x.shape[-3], *outs)}). Output size is too small")


def _shape_check3d(x, ks, st, pads, dils, outs, fn_name):
    """torch's pool3d_shape_check."""
    (kt, kh, kw), (st_, sh, sw), (pt, ph, pw), (dt, dh, dw) = ks, st, pads, dils
    if min(ks) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {kt} kH: {kh} kW: {kw}")
    if min(st) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {st_} dH: {sh} dW: {sw}")
    if min(dils) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {dt} dilationH: {dh} "
                           f"dilationW: {dw}")
    if any(s == 0 for s in x.shape[-4:]):
        raise RuntimeError(f"{fn_name}: Expected input's non-batch dimensions to have positive length, but input has "
                           f"a shape of {list(x.shape)} and non-batch dimension 0 has length zero!")
    if kt // 2 < pt or kw // 2 < pw or kh // 2 < ph:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got kT: {kt} kW: {kw} "
                           f"kH: {kh} padT: {pt} padW: {pw} padH: {ph}")
    if min(outs) < 1:
        raise RuntimeError(f"Given input size: ({_dims_str(*x.shape[-4:])}). Calculated output size: "
                           f"({_dims_str(x.shape[-4], *outs)}). Output size is too small")


def _pool_args(name, nd, kernel_size, stride, padding, dilation, avg=False):
    """Normalise kernel/stride/padding/dilation with torch's length checks (messages per function)."""
    word = _WORDS[nd]
    ks, st, pads, dils = _as_tuple(kernel_size), _as_tuple(stride) if stride is not None else (), \
        _as_tuple(padding), _as_tuple(dilation)
    verb = "must be" if avg and nd == 3 else "must either be"
    if len(ks) not in (1, nd):
        raise RuntimeError(f"{name}: kernel_size {verb} a single int, or a tuple of {word} ints")
    if len(st) not in (0, 1, nd):
        omitted = "must be omitted" if avg and nd == 3 else "must either be omitted"
        raise RuntimeError(f"{name}: stride {omitted}, a single int, or a tuple of {word} ints")
    if len(pads) not in (1, nd):
        raise RuntimeError(f"{name}: padding {verb} a single int, or a tuple of {word} ints")
    if len(dils) not in (1, nd):
        raise RuntimeError(f"{name}: dilation must be either a single int, or a tuple of {word} ints")
    ks = _expand(ks, nd)
    st = _expand(st, nd) if st else ks
    return ks, st, _expand(pads, nd), _expand(dils, nd)


def _max_pool_nd(input, nd, ks, st, pads, dils, ceil_mode, name, indices=True):
    """max_pool{2,3}d_with_indices: torch's checks, then values and flat per-plane indices (values only when
    indices is False)."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    outs = _window_outs(input.shape[-nd:], ks, st, pads, dils, ceil_mode)
    if nd == 2:
        _shape_check2d(input, ks, st, pads, dils, outs)
    else:
        _shape_check3d(input, ks, st, pads, dils, outs, "max_pool3d_with_indices_out_cpu_template()")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    if not indices:
        return _unbatch(_max_values(x, ks, st, pads, dils, ceil_mode), batched)
    return _unbatch(_pool.nd_node(_pool.MaxPool, nd).apply(x, ks, st, pads, dils, ceil_mode), batched)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling; with indices it runs as 2-d pooling of height 1, as torch does."""
    ks, pads, dils = _as_tuple(kernel_size), _as_tuple(padding), _as_tuple(dilation)
    st = _as_tuple(stride) if stride is not None else ()
    if return_indices:
        if input.dim() not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                               "'self' (while checking arguments for max_pool1d)")
        st = st or ks
        vals, idx = _max_pool_nd(input.unsqueeze(-2), 2, (1, ks[0]), (1, st[0]), (0, pads[0]), (1, dils[0]),
                                 ceil_mode, "max_pool1d")
        return vals.squeeze(-2), idx.squeeze(-2)
    if input.dim() not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{list(input.shape)}")
    if len(ks) != 1:
        raise RuntimeError(f"max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got "
                           f"size {len(ks)}")
    k, s, p, d = ks[0], (st or ks)[0], pads[0], dils[0]
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    out = _pool.pool_out_size(input.shape[-1], k, s, p, d, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    out = _max_values(x, (k,), (s,), (p,), (d,), ceil_mode)
    return as_node(out if batched else out.squeeze(0), "SqueezeBackward1")  # torch pools 1-d as 2-d of height 1


def _max_values(x, ks, st, pads, dils, ceil_mode):
    """Max-pool values: without indices when no gradient will be asked for (inference)."""
    if (STATE.enabled and x.requires_grad) or STATE.tracing:
        return _pool.nd_node(_pool.MaxPool, len(ks)).apply(x, ks, st, pads, dils, ceil_mode)[0]
    return Tensor._make(_pool.max_pool_values(x._data, ks, st, pads, dils, ceil_mode))


def _max_pool(nd):
    name = f"max_pool{nd}d"

    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        ks, st, pads, dils = _pool_args(name, nd, kernel_size, stride, padding, dilation)
        if not return_indices:
            return _max_pool_nd(input, nd, ks, st, pads, dils, ceil_mode, name, indices=False)
        return _max_pool_nd(input, nd, ks, st, pads, dils, ceil_mode, name)

    max_pool.__name__ = name
    return max_pool


max_pool2d = _max_pool(2)
max_pool3d = _max_pool(3)


def max_pool1d_with_indices(*args, **kwargs):
    return max_pool1d(*args, **{**kwargs, "return_indices": True})


def max_pool2d_with_indices(*args, **kwargs):
    return max_pool2d(*args, **{**kwargs, "return_indices": True})


def max_pool3d_with_indices(*args, **kwargs):
    return max_pool3d(*args, **{**kwargs, "return_indices": True})


def _avg_pool_nd(input, nd, ks, st, pads, ceil_mode, count_include_pad, divisor_override):
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if nd == 2 and input.dim() < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.dim(), 1)}, "
                         f"{max(input.dim(), 1) - 1}], but got -3)")
    if nd == 3 and input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    ones = (1,) * nd
    outs = _window_outs(input.shape[-nd:], ks, st, pads, ones, ceil_mode)
    if nd == 2:
        _shape_check2d(input, ks, st, pads, ones, outs)
    else:
        _shape_check3d(input, ks, st, pads, ones, outs, "avg_pool3d()")
    _check_avg_dtype(input, nd)
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    out = _pool.nd_node(_pool.AvgPool, nd).apply(x, ks, st, pads, ceil_mode, count_include_pad, divisor_override)
    return _unbatch(out, batched)


_AVG_DTYPES = {2: ("float32", "float64", "float16", "int64"), 3: ("float32", "float64", "int64")}


def _check_avg_dtype(input, nd):
    """The dtypes torch's CPU average-pooling kernels are compiled for (no half in 3-d, no other integers)."""
    name = input._data.dtype.name
    if name not in _AVG_DTYPES[nd]:
        kernel = "avg_pool2d" if nd == 2 else "avg_pool3d_out_frame"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_name(input.dtype)}'")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling, computed as 2-d pooling of height 1 (torch's checks and messages)."""
    ks, pads = _as_tuple(kernel_size), _as_tuple(padding)
    st = _as_tuple(stride) if stride is not None and _as_tuple(stride) else ks
    for arg, v in (("kernel_size", ks), ("stride", st), ("padding", pads)):
        if len(v) != 1:
            raise RuntimeError(f"avg_pool1d() argument '{arg}' should contain one int (got {len(v)})")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for avg_pool1d)")
    out = _avg_pool_nd(input.unsqueeze(-2), 2, (1, ks[0]), (1, st[0]), (0, pads[0]), ceil_mode, count_include_pad,
                       None)
    return out.squeeze(-2)


def _avg_pool(nd):
    name = f"avg_pool{nd}d"

    def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        ks, st, pads, _ = _pool_args(name, nd, kernel_size, stride, padding, 1, avg=True)
        return _avg_pool_nd(input, nd, ks, st, pads, ceil_mode, count_include_pad, divisor_override)

    avg_pool.__name__ = name
    return avg_pool


avg_pool2d = _avg_pool(2)
avg_pool3d = _avg_pool(3)


def _lp_pool(nd):
    def lp_pool(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        """(sum over the window of x**p) ** (1/p), through avg_pool as in torch (p=+-inf: max of |x|)."""
        ks = _ntuple(nd)(kernel_size)
        maxp = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[nd]
        if norm_type == float("inf"):
            return maxp(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -maxp(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        avg = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
        if stride is not None:
            out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
        else:
            out = avg(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
        return (out.sign() * out.abs().relu()).mul(math.prod(ks)).pow(1.0 / norm_type)

    lp_pool.__name__ = f"lp_pool{nd}d"
    return lp_pool


lp_pool1d = _lp_pool(1)
lp_pool2d = _lp_pool(2)
lp_pool3d = _lp_pool(3)


def _check_1d_adaptive(input, output_size, name):
    osz = _as_tuple(output_size)
    if len(osz) != 1:
        raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got {len(osz)})")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for {name})")
    return osz[0]


def _check_floating(input, name):
    """torch's adaptive pooling kernels exist for floating dtypes only."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f'"{name}" not implemented for \'{_SCALAR.get(input._data.dtype.name)}\'')


def _adaptive_avg_nd(input, outs, nd):
    name = f"adaptive_avg_pool{nd}d"
    outs = _expand(outs, nd)
    if len(outs) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    if any(o < 0 for o in outs):
        sep = ", " if nd == 2 else ","
        shown = f"{outs[0]}, " + sep.join(map(str, outs[1:]))
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{shown}}}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}")
    for d in range(input.dim() - nd, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {d} being empty")
    _check_floating(input, name)
    if STATE.tracing:  # the exporter knows the matrix-product form
        return _adaptive_avg_by_matmul(input, outs, nd)
    out = _pool.nd_node(_pool.AdaptiveAvgPool, nd).apply(input, tuple(int(o) for o in outs))
    return as_node(out, "MeanBackward1") if all(o == 1 for o in outs) else out  # torch takes the mean


def _adaptive_avg_by_matmul(input, outs, nd):
    """Adaptive average pooling as one matrix product per pooled dim."""
    out = input
    for d, (n, o) in enumerate(zip(input.shape[-nd:], outs)):
        if n == o:
            continue
        dim = input.dim() - nd + d
        m = Tensor._make(_pool.adaptive_avg_matrix(n, o, input._data.dtype))
        out = out.movedim(dim, -1).matmul(m.t()).movedim(-1, dim)
    return out.contiguous() if out is not input else input.clone()


def adaptive_avg_pool1d(input, output_size):
    o = _check_1d_adaptive(input, output_size, "adaptive_avg_pool1d")
    return _adaptive_avg_nd(input.unsqueeze(-2), (1, o), 2).squeeze(-2)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_nd(input, _list_with_default(output_size, list(input.shape)), 2)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_nd(input, _list_with_default(output_size, list(input.shape)), 3)


def _adaptive_max_nd(input, outs, nd, return_indices):
    name = f"adaptive_max_pool{nd}d"
    outs = _expand(outs, nd)
    if len(outs) != nd:
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {nd}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {d} being empty")
    if any(o < 0 for o in outs):
        shape = list(input.shape[:-nd]) + list(outs)
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(outs)}: {shape}")
    _check_floating(input, name)
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    vals, idx = _unbatch(_pool.nd_node(_pool.AdaptiveMaxPool, nd).apply(x, tuple(int(o) for o in outs)), batched)
    if nd == 1:  # torch pools 1-d as 2-d of height 1
        vals = as_node(vals, "SqueezeBackward1")
    return (vals, idx) if return_indices else vals


def adaptive_max_pool1d(input, output_size, return_indices=False):
    o = _check_1d_adaptive(input, output_size, "adaptive_max_pool1d")
    return _adaptive_max_nd(input, (o,), 1, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max_nd(input, _list_with_default(output_size, list(input.shape)), 2, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_nd(input, _list_with_default(output_size, list(input.shape)), 3, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


def _check_fractional(x, ks, outs, samples, nd, name):
    """torch's fractional_max_pool{2,3}d shape checks (x batched)."""
    if any(s == 0 for s in x.shape[1:]):
        dim = next(i for i, s in enumerate(x.shape) if i and s == 0)
        raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but got"
                           f"{list(x.shape)} with dimension {dim} being empty.")
    words = ("height", "width") if nd == 2 else ("time", "height", "width")
    prefix = f"{name}()" if nd == 2 else f"{name}_out()"
    for n, k, o, word in zip(x.shape[2:], ks, outs, words):
        if o + k - 1 > n:
            raise RuntimeError(f"{prefix}: pool {word} {k} too large relative to input {word} {n}")
    if samples.shape[0] < x.shape[0]:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != x.shape[1]:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {samples.shape[2]}.")


def _fractional(nd):
    tup = _ntuple(nd)
    name = f"fractional_max_pool{nd}d"

    def fractional_max_pool(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                            _random_samples=None):
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
        if output_size is None:
            if nd == 2 and len(output_ratio) > 2:
                raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
            output_size = [int(s * r) for s, r in zip(input.shape[-nd:], tup(output_ratio))]
        ks, outs = tup(kernel_size), tup(output_size)
        if input.dim() not in (nd + 1, nd + 2):
            raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
        batched = input.dim() == nd + 2
        x = input if batched else input.unsqueeze(0)
        if _random_samples is None:
            samples = _random.rng(None).random((x.shape[0], x.shape[1], nd)).astype(x._data.dtype)
        else:
            samples = _random_samples._data if isinstance(_random_samples, Tensor) else np.asarray(_random_samples)
        _check_fractional(x, ks, outs, samples, nd, name)
        vals, idx = _unbatch(_pool.nd_node(_pool.FractionalMaxPool, nd).apply(x, ks, outs, samples[:x.shape[0]]),
                             batched)
        return (vals, idx) if return_indices else vals

    fractional_max_pool.__name__ = name
    return fractional_max_pool


fractional_max_pool2d = _fractional(2)
fractional_max_pool3d = _fractional(3)
fractional_max_pool2d_with_indices = fractional_max_pool2d
fractional_max_pool3d_with_indices = fractional_max_pool3d


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    """torch's _unpool_output_size: the default size, or output_size checked to be within one stride of it."""
    nd = len(kernel_size)
    default = [(input.shape[-nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        return default
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a length "
                         f"of '{len(output_size)}'")
    for d in range(nd):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < output_size[d] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    return list(output_size)


def _max_unpool_nd(input, indices, osz, nd):
    """max_unpooling{2,3}d with torch's checks; values land at their flat per-plane indices."""
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_SCALAR.get(indices._data.dtype.name)}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d Tensor, but got a tensor "
                           f"with {input.dim()} dimensions.")
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"max_unpooling{nd}d_forward_out_cpu(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but got {list(input.shape)} with dimension {d} being empty.")
    batched = input.dim() == nd + 2
    x, idx = (input, indices) if batched else (input.unsqueeze(0), indices.unsqueeze(0))
    return _unbatch(_pool.nd_node(_pool.MaxUnpool, nd).apply(x, idx._data, tuple(int(s) for s in osz)), batched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """1-d unpooling runs as 2-d unpooling of width 1, as in torch."""
    ks, pads = _ntuple(1)(kernel_size), _ntuple(1)(padding)
    st = _ntuple(1)(stride) if stride is not None else ks
    osz = _unpool_output_size(input, ks, st, pads, output_size)
    if len(osz) == 1:
        osz = list(osz) + [1]
    return _max_unpool_nd(input.unsqueeze(-1), indices.unsqueeze(-1), osz, 2).squeeze(-1)


def _max_unpool(nd):
    tup = _ntuple(nd)

    def max_unpool(input, indices, kernel_size, stride=None, padding=0, output_size=None):
        ks, pads = tup(kernel_size), tup(padding)
        st = tup(stride) if stride is not None else ks
        osz = _unpool_output_size(input, ks, st, pads, output_size)
        return _max_unpool_nd(input, indices, osz, nd)

    max_unpool.__name__ = f"max_unpool{nd}d"
    return max_unpool


max_unpool2d = _max_unpool(2)
max_unpool3d = _max_unpool(3)
