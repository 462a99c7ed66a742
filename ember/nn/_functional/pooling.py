"""Functional pooling: max/avg/LP, adaptive, fractional pooling and max_unpool, with PyTorch's checks."""
import numpy as np

from ..._tensor import Tensor
from ...ops import pooling as _pool
from ... import random as _random
from .utils import ntuple


def _batched(input, nd, name):
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, but got: "
                           f"{list(input.shape)}")
    if any(s == 0 for s in input.shape[1 if input.dim() == nd + 2 else 0:]):
        raise RuntimeError(f"{name}: Expected input's non-batch dimensions to have positive length, but input has "
                           f"a shape of {list(input.shape)}")
    return input if input.dim() == nd + 2 else input.unsqueeze(0), input.dim() == nd + 2


def _unbatch(out, batched):
    if batched:
        return out
    if isinstance(out, tuple):
        return tuple(o.squeeze(0) for o in out)
    return out.squeeze(0)


def _max_pool(nd):
    tup = ntuple(nd)
    name = f"max_pool{nd}d"

    def max_pool_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                              return_indices=False):
        x, batched = _batched(input, nd, name)
        ks = tup(kernel_size)
        st = tup(stride) if stride is not None and stride != [] and stride != () else ks
        pads, dils = tup(padding), tup(dilation)
        for k, p in zip(ks, pads):
            if p > k // 2:
                raise RuntimeError(f"{name}(): pad should be at most half of effective kernel size, but got pad={p}, "
                                   f"kernel_size={k} and dilation={dils[0]}")
        if any(s <= 0 for s in st):
            raise RuntimeError(f"{name}(): stride should be greater than zero, but got stride: {st}")
        outs = [_pool.pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                zip(x.shape[2:], ks, st, pads, dils)]
        if any(o <= 0 for o in outs):
            raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                               f"({'x'.join(map(str, [x.shape[1]] + outs))}). Output size is too small")
        vals, idx = _pool.MaxPool.apply(x, ks, st, pads, dils, ceil_mode)
        return _unbatch((vals, idx), batched) if return_indices else _unbatch(vals, batched)

    max_pool_with_indices.__name__ = name
    return max_pool_with_indices


max_pool1d = _max_pool(1)
max_pool2d = _max_pool(2)
max_pool3d = _max_pool(3)
max_pool1d_with_indices = lambda *a, **k: max_pool1d(*a, **{**k, "return_indices": True})  # noqa: E731
max_pool2d_with_indices = lambda *a, **k: max_pool2d(*a, **{**k, "return_indices": True})  # noqa: E731
max_pool3d_with_indices = lambda *a, **k: max_pool3d(*a, **{**k, "return_indices": True})  # noqa: E731


def _avg_pool(nd):
    tup = ntuple(nd)
    name = f"avg_pool{nd}d"

    def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        x, batched = _batched(input, nd, name)
        ks = tup(kernel_size)
        st = tup(stride) if stride is not None and stride != [] and stride != () else ks
        pads = tup(padding)
        for k, p in zip(ks, pads):
            if p > k // 2:
                raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                                   f"kernel_size={k} and dilation=1")
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        outs = [_pool.pool_out_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(x.shape[2:], ks, st, pads)]
        if any(o <= 0 for o in outs):
            raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                               f"({'x'.join(map(str, [x.shape[1]] + outs))}). Output size is too small")
        out = _pool.AvgPool.apply(x, ks, st, pads, ceil_mode, count_include_pad, divisor_override)
        return _unbatch(out, batched)

    avg_pool.__name__ = name
    return avg_pool


avg_pool1d = _avg_pool(1)
avg_pool2d = _avg_pool(2)
avg_pool3d = _avg_pool(3)


def _lp_pool(nd):
    tup = ntuple(nd)

    def lp_pool(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        ks = tup(kernel_size)
        avg = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
        if stride is not None:
            out = avg(input.pow(norm_type), ks, stride, 0, ceil_mode)
        else:
            out = avg(input.pow(norm_type), ks, padding=0, ceil_mode=ceil_mode)
        n = int(np.prod(ks))
        return (out.sign() * out.abs().clamp(min=0)).mul(n).pow(1.0 / norm_type)

    lp_pool.__name__ = f"lp_pool{nd}d"
    return lp_pool


lp_pool1d = _lp_pool(1)
lp_pool2d = _lp_pool(2)
lp_pool3d = _lp_pool(3)


def _adaptive_sizes(output_size, spatial, nd):
    osz = ntuple(nd)(output_size)
    return tuple(s if o is None else int(o) for o, s in zip(osz, spatial))


def _adaptive_avg(nd):
    name = f"adaptive_avg_pool{nd}d"

    def adaptive_avg_pool(input, output_size):
        x, batched = _batched(input, nd, name)
        outs = _adaptive_sizes(output_size, x.shape[2:], nd)
        out = x
        for d, (n, o) in enumerate(zip(x.shape[2:], outs)):
            if n == o:
                continue
            m = Tensor._make(_pool.adaptive_avg_matrix(n, o, x._data.dtype))
            moved = out.movedim(2 + d, -1)
            out = moved.matmul(m.t()).movedim(-1, 2 + d)
        if out is x:
            out = x.clone()
        return _unbatch(out.contiguous(), batched)

    adaptive_avg_pool.__name__ = name
    return adaptive_avg_pool


adaptive_avg_pool1d = _adaptive_avg(1)
adaptive_avg_pool2d = _adaptive_avg(2)
adaptive_avg_pool3d = _adaptive_avg(3)


def _adaptive_max(nd):
    name = f"adaptive_max_pool{nd}d"

    def adaptive_max_pool(input, output_size, return_indices=False):
        x, batched = _batched(input, nd, name)
        outs = _adaptive_sizes(output_size, x.shape[2:], nd)
        vals, idx = _pool.AdaptiveMaxPool.apply(x, outs)
        return _unbatch((vals, idx), batched) if return_indices else _unbatch(vals, batched)

    adaptive_max_pool.__name__ = name
    return adaptive_max_pool


adaptive_max_pool1d = _adaptive_max(1)
adaptive_max_pool2d = _adaptive_max(2)
adaptive_max_pool3d = _adaptive_max(3)
adaptive_max_pool1d_with_indices = lambda i, o: adaptive_max_pool1d(i, o, True)  # noqa: E731
adaptive_max_pool2d_with_indices = lambda i, o: adaptive_max_pool2d(i, o, True)  # noqa: E731
adaptive_max_pool3d_with_indices = lambda i, o: adaptive_max_pool3d(i, o, True)  # noqa: E731


def _fractional(nd):
    tup = ntuple(nd)
    name = f"fractional_max_pool{nd}d"

    def fractional_max_pool(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                            _random_samples=None):
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
        x, batched = _batched(input, nd, name)
        ks = tup(kernel_size)
        if output_size is None:
            ratio = tup(output_ratio)
            output_size = [int(s * r) for s, r in zip(x.shape[2:], ratio)]
        outs = tup(output_size)
        for n, k, o in zip(x.shape[2:], ks, outs):
            if o + k - 1 > n:
                raise RuntimeError(f"{name}_out(): pool size {k} too large relative to input size {n} for output "
                                   f"size {o}")
        if _random_samples is None:
            samples = _random.rng(None).random((x.shape[0], x.shape[1], nd)).astype(x._data.dtype)
        else:
            samples = _random_samples._data if isinstance(_random_samples, Tensor) else np.asarray(_random_samples)
        vals, idx = _pool.FractionalMaxPool.apply(x, ks, outs, samples)
        return _unbatch((vals, idx), batched) if return_indices else _unbatch(vals, batched)

    fractional_max_pool.__name__ = name
    return fractional_max_pool


fractional_max_pool2d = _fractional(2)
fractional_max_pool3d = _fractional(3)


def _unpool_size(input, kernel_size, stride, padding, output_size, nd):
    ks = ntuple(nd)(kernel_size)
    st = ntuple(nd)(stride) if stride is not None else ks
    pads = ntuple(nd)(padding)
    default = [(n - 1) * s + k - 2 * p for n, s, k, p in zip(input.shape[-nd:], st, ks, pads)]
    if output_size is None:
        return tuple(default)
    output_size = list(output_size)
    if len(output_size) == nd + 2 or len(output_size) == nd + 1:
        output_size = output_size[-nd:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                         f"length of '{len(output_size)}'")
    for d in range(nd):
        lo = default[d] - st[d]
        hi = default[d] + st[d]
        if not lo < output_size[d] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    return tuple(output_size)


def _max_unpool(nd):
    def max_unpool(input, indices, kernel_size, stride=None, padding=0, output_size=None):
        batched = input.dim() == nd + 2
        x = input if batched else input.unsqueeze(0)
        idx = indices if batched else indices.unsqueeze(0)
        if idx.dtype != __import__("ember").int64:
            raise RuntimeError("elements in indices should be type int64")
        osz = _unpool_size(x, kernel_size, stride, padding, output_size, nd)
        out = _pool.MaxUnpool.apply(x, idx._data, osz)
        return out if batched else out.squeeze(0)

    max_unpool.__name__ = f"max_unpool{nd}d"
    return max_unpool


max_unpool1d = _max_unpool(1)
max_unpool2d = _max_unpool(2)
max_unpool3d = _max_unpool(3)
