"""Pooling on NumPy: loops over kernel offsets on strided views; max-pool gradients scatter through indices.

Max-pool indices are flat positions in each (n, c) input plane, as PyTorch returns them; one scatter
(IndexScatter, by bincount) and its adjoint gather serve every max-pool flavour and max_unpool.
"""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from .conv import _offset_slices


def pool_out_size(size, k, s, p, d, ceil_mode):
    """Output length of a pooling window sweep (PyTorch's pooling_output_shape)."""
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _padded(x, pads_lo, sizes_needed, fill):
    """x padded with `fill`: pads_lo before each spatial dim, and enough after to reach sizes_needed."""
    nd = len(pads_lo)
    shape = x.shape[:-nd] + tuple(sizes_needed)
    if all(p == 0 for p in pads_lo) and shape == x.shape:
        return x
    out = np.full(shape, fill, x.dtype)
    region = tuple(slice(p, p + s) for p, s in zip(pads_lo, x.shape[-nd:]))
    out[(Ellipsis,) + region] = x
    return out


def _window_geometry(spatial, ks, strides, pads, dils, ceil_mode):
    outs = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(spatial, ks, strides, pads, dils))
    need = tuple(max((o - 1) * s + d * (k - 1) + 1, n + p) for o, s, d, k, n, p in
                 zip(outs, strides, dils, ks, spatial, pads))
    return outs, need


class IndexScatter(Function):
    """out (N, C, *in_spatial) with g's values added at flat per-plane indices; backward gathers."""

    _raw = True
    _node_name = "MaxPoolWithIndicesBackward0"

    @staticmethod
    def forward(ctx, g, idx, in_spatial):
        n, c = g.shape[:2]
        plane = int(np.prod(in_spatial))
        ctx.idx = idx
        flat = (np.arange(n * c).reshape(n, c, *([1] * (idx.ndim - 2))) * plane + idx).reshape(-1)
        out = np.bincount(flat, weights=g.reshape(-1), minlength=n * c * plane)
        return out.astype(g.dtype, copy=False).reshape((n, c) + tuple(in_spatial))

    @staticmethod
    def backward(ctx, gg):
        return IndexGather.apply(gg, ctx.idx), None, None


class IndexGather(Function):
    """Values of x (N, C, *spatial) at flat per-plane indices idx (N, C, *out)."""

    _raw = True
    _node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        n, c = x.shape[:2]
        ctx.in_spatial = x.shape[2:]
        ctx.idx = idx
        flat = x.reshape(n, c, -1)
        return np.take_along_axis(flat, idx.reshape(n, c, -1), 2).reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        return IndexScatter.apply(g, ctx.idx, ctx.in_spatial), None


def _flat_index(coords, spatial):
    """Flat per-plane index from per-dim coordinate arrays."""
    idx = coords[0]
    for c, n in zip(coords[1:], spatial[1:]):
        idx = idx * n + c
    return idx


class MaxPool(Function):
    """Max pooling over N-d windows, returning values and PyTorch's flat indices."""

    _raw = True
    _node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, ks, strides, pads, dils, ceil_mode):
        nd = len(ks)
        spatial = x.shape[-nd:]
        outs, need = _window_geometry(spatial, ks, strides, pads, dils, ceil_mode)
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = _padded(x, pads, need, fill)
        best = arg = None
        lead = (Ellipsis,)
        for k, (offs, sl) in enumerate(_offset_slices(ks, strides, dils, outs)):
            v = xp[lead + sl]
            if best is None:
                best = v.copy()
                arg = np.zeros(v.shape, np.int64)
                continue
            take = v > best
            if x.dtype.kind == "f":
                take |= np.isnan(v) & ~np.isnan(best)
            np.copyto(best, v, where=take)
            arg[take] = k
        # Window offset k -> absolute input coordinates -> flat index per plane.
        kcoords = np.unravel_index(arg, ks)
        coords = []
        for d in range(nd):
            shape = [1] * arg.ndim
            shape[arg.ndim - nd + d] = outs[d]
            base = (np.arange(outs[d]) * strides[d] - pads[d]).reshape(shape)
            coords.append(base + kcoords[d] * dils[d])
        idx = _flat_index(coords, spatial)
        ctx.idx = idx
        ctx.in_spatial = spatial
        return best, idx

    @staticmethod
    def backward(ctx, g, _gi):
        return _scatter_planes(g, ctx.idx, ctx.in_spatial), None, None, None, None, None


def _scatter_planes(g, idx, in_spatial):
    """IndexScatter for inputs with or without the (N, C) leading dims."""
    nd = len(in_spatial)
    lead = g.shape[:-nd] if g.dim() > nd else ()
    g4 = g.reshape((-1, 1) + tuple(g.shape[-nd:]))
    idx4 = idx.reshape((-1, 1) + idx.shape[-nd:])
    out = IndexScatter.apply(g4, idx4, tuple(in_spatial))
    return out.reshape(tuple(lead) + tuple(in_spatial))


class AvgPool(Function):
    """Average pooling with PyTorch's divisor rules (ceil_mode, count_include_pad, divisor_override)."""

    _raw = True
    _node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, ks, strides, pads, ceil_mode, count_include_pad, divisor_override):
        nd = len(ks)
        spatial = x.shape[-nd:]
        outs, need = _window_geometry(spatial, ks, strides, pads, (1,) * nd, ceil_mode)
        xp = _padded(x, pads, need, 0)
        acc = np.zeros(x.shape[:-nd] + outs, x.dtype)
        for _, sl in _offset_slices(ks, strides, (1,) * nd, outs):
            acc += xp[(Ellipsis,) + sl]
        div = _avg_divisor(spatial, ks, strides, pads, outs, count_include_pad, divisor_override, x.dtype)
        ctx.geom = (spatial, ks, strides, pads, outs, need, div)
        return acc / div

    @staticmethod
    def backward(ctx, g):
        return AvgPoolBackward.apply(g, ctx.geom), None, None, None, None, None, None


class AvgPoolBackward(Function):
    """The adjoint of AvgPool (linear in g); its backward is AvgPool's forward arithmetic."""

    _raw = True

    @staticmethod
    def forward(ctx, g, geom):
        spatial, ks, strides, pads, outs, need, div = geom
        nd = len(ks)
        ctx.geom = geom
        gd = g / div
        gxp = np.zeros(g.shape[:-nd] + tuple(need), g.dtype)
        for _, sl in _offset_slices(ks, strides, (1,) * nd, outs):
            gxp[(Ellipsis,) + sl] += gd
        return np.ascontiguousarray(gxp[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pads, spatial))])

    @staticmethod
    def backward(ctx, gg):
        spatial, ks, strides, pads, outs, need, div = ctx.geom
        nd = len(ks)
        xp = _padded(gg._data, pads, need, 0)
        acc = np.zeros(gg.shape[:-nd] + outs, gg._data.dtype)
        for _, sl in _offset_slices(ks, strides, (1,) * nd, outs):
            acc += xp[(Ellipsis,) + sl]
        return Tensor._make(acc / div), None


def _avg_divisor(spatial, ks, strides, pads, outs, count_include_pad, divisor_override, dtype):
    if divisor_override:
        return np.asarray(divisor_override, dtype)
    div = None
    for d, (n, k, s, p, o) in enumerate(zip(spatial, ks, strides, pads, outs)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        size = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * len(ks)
        shape[d] = o
        size = size.reshape(shape)
        div = size if div is None else div * size
    return div.astype(dtype)


def adaptive_windows(n, o):
    """PyTorch's adaptive pooling windows: start = floor(i*n/o), end = ceil((i+1)*n/o)."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def adaptive_avg_matrix(n, o, dtype):
    """(o, n) matrix averaging each adaptive window."""
    start, end = adaptive_windows(n, o)
    j = np.arange(n)
    m = ((j >= start[:, None]) & (j < end[:, None])).astype(np.float64)
    return (m / (end - start)[:, None]).astype(dtype)


class AdaptiveMaxPool(Function):
    """Adaptive max pooling: values and flat indices, windows as in PyTorch."""

    _raw = True
    _node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, outs):
        nd = len(outs)
        spatial = x.shape[-nd:]
        wins = [adaptive_windows(n, o) for n, o in zip(spatial, outs)]
        kmax = [int(np.max(e - s)) if o else 0 for (s, e), o in zip(wins, outs)]
        best = arg_coords = None
        for offs in np.ndindex(*kmax):
            coords = []
            for d, ((s, e), j) in enumerate(zip(wins, offs)):
                c = np.minimum(s + j, e - 1)
                shape = [1] * nd
                shape[d] = len(c)
                coords.append(c.reshape(shape))
            v = x[(Ellipsis,) + tuple(coords)]
            full = [np.broadcast_to(c, outs) for c in coords]
            if best is None:
                best = v.copy()
                arg_coords = [f.copy() * np.ones(v.shape, np.int64) for f in full]
                continue
            take = v > best
            if x.dtype.kind == "f":
                take |= np.isnan(v) & ~np.isnan(best)
            np.copyto(best, v, where=take)
            for ac, f in zip(arg_coords, full):
                np.copyto(ac, np.broadcast_to(f, ac.shape), where=take)
        idx = _flat_index(arg_coords, spatial)
        ctx.idx = idx
        ctx.in_spatial = spatial
        return best, idx

    @staticmethod
    def backward(ctx, g, _gi):
        return _scatter_planes(g, ctx.idx, ctx.in_spatial), None


class FractionalMaxPool(Function):
    """Fractional max pooling (fixed pool size, pseudo-random window starts from `samples`)."""

    _raw = True
    _node_name = "FractionalMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, ks, outs, samples):
        nd = len(ks)
        spatial = x.shape[-nd:]
        # PyTorch's sample order: (W, H) for 2-d pooling, (T, H, W) for 3-d.
        order = [1, 0] if nd == 2 else list(range(nd))
        starts = [_fractional_intervals(samples[..., order[d]].astype(x.dtype), spatial[d], outs[d], ks[d])
                  for d in range(nd)]
        best = arg_coords = None
        for offs in np.ndindex(*ks):
            coords = []
            for d in range(nd):
                shape = list(starts[d].shape[:-1]) + [1] * nd
                shape[len(starts[d].shape) - 1 + d] = outs[d]
                coords.append((starts[d] + offs[d]).reshape(shape))
            bshape = np.broadcast_shapes(*[c.shape for c in coords])
            lead_idx = np.indices(x.shape[:-nd], sparse=True)
            lead_idx = tuple(li.reshape(li.shape + (1,) * nd) for li in lead_idx)
            v = x[lead_idx + tuple(coords)]
            full = [np.broadcast_to(c, v.shape) for c in coords]
            if best is None:
                best = v.copy()
                arg_coords = [f.copy() for f in full]
                continue
            take = v > best
            if x.dtype.kind == "f":
                take |= np.isnan(v) & ~np.isnan(best)
            np.copyto(best, v, where=take)
            for ac, f in zip(arg_coords, full):
                np.copyto(ac, f, where=take)
        idx = _flat_index(arg_coords, spatial)
        ctx.idx = idx
        ctx.in_spatial = spatial
        return best, idx

    @staticmethod
    def backward(ctx, g, _gi):
        return _scatter_planes(g, ctx.idx, ctx.in_spatial), None, None, None


def _fractional_intervals(sample, n, o, k):
    """Window starts per (N, C): PyTorch's generate_intervals from uniform samples in [0, 1)."""
    if o == 1:
        return np.full(sample.shape + (1,), n - k, np.int64)
    alpha = sample.dtype.type(n - k) / sample.dtype.type(o - 1)
    i = np.arange(o - 1, dtype=sample.dtype)
    seq = ((i + sample[..., None]) * alpha).astype(np.int64) - (sample[..., None] * alpha).astype(np.int64)
    last = np.full(sample.shape + (1,), n - k, np.int64)
    return np.concatenate([seq, last], axis=-1)


class MaxUnpool(Function):
    """Places values at their flat per-plane indices in a zero tensor of the requested size."""

    _raw = True
    _node_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, idx, out_spatial):
        n, c = x.shape[:2]
        plane = int(np.prod(out_spatial))
        if idx.size and (idx.min() < 0 or idx.max() >= plane):
            bad = idx.max() if idx.max() >= plane else idx.min()
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{'x'.join(map(str, out_spatial))}")
        out = np.zeros((n, c, plane), x.dtype)
        np.put_along_axis(out, idx.reshape(n, c, -1), x.reshape(n, c, -1), 2)
        ctx.idx = idx
        return out.reshape((n, c) + tuple(out_spatial))

    @staticmethod
    def backward(ctx, g):
        return IndexGather.apply(g, ctx.idx), None, None
