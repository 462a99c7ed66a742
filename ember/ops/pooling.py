"""Pooling on NumPy: loops over kernel offsets on strided views, with no masked writes in the hot paths.

Max-pool indices are flat positions in each (n, c) input plane, as PyTorch returns them, chosen by PyTorch's rule
(the first maximum of a window wins, a NaN always wins, and an all -inf window points at its first in-bounds
position). Max-pool gradients of disjoint windows are written through the kernel offsets, of overlapping ones by one
index scatter (as adaptive/fractional pooling and max_unpool do: IndexScatter, whose adjoint is a gather). Every
backward is itself differentiable.
"""
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
    if not any(pads_lo) and tuple(sizes_needed) == x.shape[-nd:]:
        return x
    out = np.full(x.shape[:-nd] + tuple(sizes_needed), fill, x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pads_lo, x.shape[-nd:]))] = x
    return out


def _window_geometry(spatial, ks, strides, pads, dils, ceil_mode):
    """Output sizes, and the padded extent the windows read (at least the input plus its leading padding)."""
    outs = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(spatial, ks, strides, pads, dils))
    need = tuple(max((o - 1) * s + d * (k - 1) + 1, n + p) for o, s, d, k, n, p in
                 zip(outs, strides, dils, ks, spatial, pads))
    return outs, need


def _plane_strides(spatial):
    """Flat-index step of each spatial dim within one (n, c) plane."""
    return tuple(int(np.prod(spatial[d + 1:])) for d in range(len(spatial)))


def _scatter_add(g, idx, in_spatial):
    """(N, C, *in_spatial) zeros with g added at flat per-plane indices (out-of-plane indices dropped)."""
    n, c = g.shape[:2]
    plane = int(np.prod(in_spatial))
    gf = g.reshape(n * c, g.size // max(n * c, 1))
    ix = idx.reshape(gf.shape)
    inside = (ix >= 0) & (ix < plane)
    if not inside.all():
        gf, ix = np.where(inside, gf, 0), np.where(inside, ix, 0)
    flat = (ix + (np.arange(n * c) * plane)[:, None]).reshape(-1)
    out = np.bincount(flat, weights=gf.reshape(-1), minlength=n * c * plane).astype(g.dtype, copy=False)
    return out.reshape((n, c) + tuple(in_spatial))


class IndexScatter(Function):
    """out (N, C, *in_spatial) with g's values added at flat per-plane indices; backward gathers."""

    _raw = True
    _node_name = "MaxPoolWithIndicesBackward0"

    @staticmethod
    def forward(ctx, g, idx, in_spatial):
        ctx.idx = idx
        return _scatter_add(g, idx, in_spatial)

    @staticmethod
    def backward(ctx, gg):
        return IndexGather.apply(gg, ctx.idx), None, None


class IndexGather(Function):
    """Values of x (N, C, *spatial) at flat per-plane indices idx (N, C, *out); out-of-plane indices give 0."""

    _raw = True
    _node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        n, c = x.shape[:2]
        ctx.in_spatial = x.shape[2:]
        ctx.idx = idx
        flat = x.reshape(n, c, int(np.prod(x.shape[2:])))
        ix = idx.reshape(n, c, int(np.prod(idx.shape[2:])))
        inside = (ix >= 0) & (ix < flat.shape[2])
        if inside.all():
            return np.take_along_axis(flat, ix, 2).reshape(idx.shape)
        return np.where(inside, np.take_along_axis(flat, np.where(inside, ix, 0), 2), 0).reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        return IndexScatter.apply(g, ctx.idx, ctx.in_spatial), None


def _scatter_planes(g, idx, in_spatial):
    """IndexScatter for inputs with or without the (N, C) leading dims."""
    nd = len(in_spatial)
    lead = g.shape[:-nd] if g.dim() > nd else ()
    g4 = g.reshape((-1, 1) + tuple(g.shape[-nd:]))
    idx4 = idx.reshape((-1, 1) + idx.shape[-nd:])
    out = IndexScatter.apply(g4, idx4, tuple(in_spatial))
    return out.reshape(tuple(lead) + tuple(in_spatial))


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _window_bases(outs, strides, pads, dils, spatial, nd_total):
    """Per output position: the flat index of the window origin and of its first in-bounds position (torch's
    initial argmax), shaped to broadcast against (N, C, *outs)."""
    ps = _plane_strides(spatial)
    origin = first = 0
    for d, (o, s, p, dl, st) in enumerate(zip(outs, strides, pads, dils, ps)):
        shape = [1] * nd_total
        shape[nd_total - len(outs) + d] = o
        base = np.arange(o) * s - p
        start = base + (-(np.minimum(base, 0) // dl)) * dl
        origin = origin + (base * st).reshape(shape)
        first = first + (start * st).reshape(shape)
    return origin, first


def _first_offsets(outs, ks, strides, pads, dils, nd_total):
    """Kernel offset number of each window's first in-bounds position (prod(ks) when there is none in the window)."""
    num = 0
    outside = False
    for d, (o, k, s, p, dl) in enumerate(zip(outs, ks, strides, pads, dils)):
        shape = [1] * nd_total
        shape[nd_total - len(outs) + d] = o
        base = np.arange(o) * s - p
        kf = (-(np.minimum(base, 0) // dl)).reshape(shape)
        num = num * k + kf
        outside = outside | (kf >= k)
    return np.where(outside, int(np.prod(ks)), num)


def _offset_table(ks, dils, spatial):
    """Flat in-plane displacement of each kernel offset from the window origin (plus a 0 for the sentinel)."""
    ps = _plane_strides(spatial)
    koffs = np.unravel_index(np.arange(int(np.prod(ks))), ks)
    return np.append(sum(k * d * s for k, d, s in zip(koffs, dils, ps)), 0)


class MaxPool(Function):
    """Max pooling over N-d windows, returning values and PyTorch's flat indices.

    The argmax is tracked as a kernel offset number (a small int) with branch-free arithmetic; the backward
    scatters through the kernel offsets, and is itself differentiable (its backward gathers at the indices)."""

    _raw = True
    _node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, ks, strides, pads, dils, ceil_mode):
        nd = len(ks)
        spatial = x.shape[-nd:]
        outs, need = _window_geometry(spatial, ks, strides, pads, dils, ceil_mode)
        shape = x.shape[:-nd] + outs
        if any(o == 0 for o in outs) or x.size == 0:
            arg = np.zeros(shape, np.int8)
            idx = np.zeros(shape, np.int64)
            best = np.zeros(shape, x.dtype)
        else:
            low = _lowest(x.dtype)
            xp = _padded(x, pads, need, low)
            views = [xp[(Ellipsis,) + sl] for _, sl in _offset_slices(ks, strides, dils, outs)]
            if x.dtype.kind == "f" and np.isnan(x).any():
                best, arg = _max_arg_nan(views)
            else:
                best, arg = _max_arg(views)
            empty = best == low
            any_empty = empty.any()
            if any_empty:  # all -inf (or padding): torch points at the window's first in-bounds position
                arg = np.where(empty, _first_offsets(outs, ks, strides, pads, dils, x.ndim), arg).astype(arg.dtype)
            origin, first = _window_bases(outs, strides, pads, dils, spatial, x.ndim)
            idx = origin + np.take(_offset_table(ks, dils, spatial), arg)
            if any_empty:
                idx = np.where(empty, first, idx)
        ctx.geom = (spatial, ks, strides, pads, dils, outs, need)
        ctx.arg, ctx.idx = arg, idx
        return best, idx

    @staticmethod
    def backward(ctx, g, _gi):
        return MaxPoolBackward.apply(g, ctx.arg, ctx.idx, ctx.geom), None, None, None, None, None


def _arg_dtype(count):
    return np.int8 if count < 127 else np.int32


def _max_arg(views):
    """Window maxima and the first offset reaching them, without masked writes (a running max; ties keep the
    earlier offset)."""
    best = views[0].copy()
    arg = np.zeros(best.shape, _arg_dtype(len(views)))
    step = np.empty_like(arg)
    for k, v in enumerate(views[1:], 1):
        gt = v > best
        np.maximum(best, v, out=best)
        np.subtract(k, arg, out=step, dtype=arg.dtype)
        np.multiply(step, gt, out=step)
        arg += step
    return best, arg


def _max_arg_nan(views):
    """Like _max_arg, with torch's NaN rule: any NaN takes the window, the last NaN its index."""
    best = views[0].copy()
    arg = np.zeros(best.shape, _arg_dtype(len(views)))
    for k, v in enumerate(views[1:], 1):
        take = (v > best) | np.isnan(v)
        np.copyto(best, v, where=take)
        arg[take] = k
    return best, arg


class MaxPoolBackward(Function):
    """The max-pool gradient, written through the kernel offsets or scattered by index; its backward gathers at the
    flat indices."""

    _raw = True
    _node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, g, arg, idx, geom):
        spatial, ks, strides, pads, dils, outs, need = geom
        ctx.idx = idx
        if not _disjoint(ks, strides, dils):  # overlapping windows: one scatter by index beats a masked add per offset
            return _scatter_add(g, idx, spatial)
        gxp = _grad_buffer(g, spatial, ks, strides, pads, dils, outs, need)
        finite = np.isfinite(g).all()  # then a 0/1 mask can multiply (inf * 0 would make NaN)
        for k, (_, sl) in enumerate(_offset_slices(ks, strides, dils, outs)):
            gxp[(Ellipsis,) + sl] = g * (arg == k) if finite else np.where(arg == k, g, 0)
        return _crop(gxp, pads, spatial)

    @staticmethod
    def backward(ctx, gg):
        return IndexGather.apply(gg, ctx.idx), None, None, None


def _disjoint(ks, strides, dils):
    """Whether the pooling windows never overlap."""
    return all(d * (k - 1) < s for k, s, d in zip(ks, strides, dils))


def _grad_buffer(g, spatial, ks, strides, pads, dils, outs, need):
    """A buffer for an input gradient over the padded extent: empty when the windows write disjoint positions that
    cover it (plain assignment through the offsets fills it), zeros otherwise."""
    covered = _disjoint(ks, strides, dils) and all(d == 1 and k == s and o * s == n for k, s, d, o, n in
                                                  zip(ks, strides, dils, outs, need))
    shape = g.shape[:-len(ks)] + tuple(need)
    return np.empty(shape, g.dtype) if covered else np.zeros(shape, g.dtype)


def _crop(a, pads, spatial):
    if not any(pads) and a.shape[-len(spatial):] == tuple(spatial):
        return a
    return np.ascontiguousarray(a[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pads, spatial))])


class AvgPool(Function):
    """Average pooling with PyTorch's divisor rules (ceil_mode, count_include_pad, divisor_override)."""

    _raw = True
    _node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, ks, strides, pads, ceil_mode, count_include_pad, divisor_override):
        nd = len(ks)
        spatial = x.shape[-nd:]
        outs, need = _window_geometry(spatial, ks, strides, pads, (1,) * nd, ceil_mode)
        div = _avg_divisor(spatial, ks, strides, pads, outs, count_include_pad, divisor_override, x.dtype)
        ctx.geom = (spatial, ks, strides, pads, outs, need, div)
        return _avg_forward(x, ks, strides, pads, outs, need, div)

    @staticmethod
    def backward(ctx, g):
        return AvgPoolBackward.apply(g, ctx.geom), None, None, None, None, None, None


def _avg_forward(x, ks, strides, pads, outs, need, div):
    """Window sums (accumulated in x's dtype; int64 for integers) divided by the divisor (truncating for ints)."""
    nd = len(ks)
    acc_dtype = x.dtype if x.dtype.kind in "fc" else np.int64
    xp = _padded(x, pads, need, 0)
    acc = None
    for _, sl in _offset_slices(ks, strides, (1,) * nd, outs):
        v = xp[(Ellipsis,) + sl]
        if acc is None:
            acc = v.astype(acc_dtype)
        else:
            acc += v
    if acc is None:
        acc = np.zeros(x.shape[:-nd] + outs, acc_dtype)
    if x.dtype.kind not in "fc":
        return (np.sign(acc) * (np.abs(acc) // div.astype(np.int64))).astype(x.dtype)
    acc /= div
    return acc


class AvgPoolBackward(Function):
    """The adjoint of AvgPool (linear in g); its backward is AvgPool's forward arithmetic."""

    _raw = True
    _node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, g, geom):
        spatial, ks, strides, pads, outs, need, div = geom
        nd = len(ks)
        ctx.geom = geom
        gd = g / div
        gxp = _grad_buffer(g, spatial, ks, strides, pads, (1,) * nd, outs, need)
        disjoint = _disjoint(ks, strides, (1,) * nd)
        for _, sl in _offset_slices(ks, strides, (1,) * nd, outs):
            if disjoint:
                gxp[(Ellipsis,) + sl] = gd
            else:
                gxp[(Ellipsis,) + sl] += gd
        return _crop(gxp, pads, spatial)

    @staticmethod
    def backward(ctx, gg):
        _, ks, strides, pads, outs, need, div = ctx.geom
        return Tensor._make(_avg_forward(gg._data, ks, strides, pads, outs, need, div)), None


def _avg_divisor(spatial, ks, strides, pads, outs, count_include_pad, divisor_override, dtype):
    """Per-output divisor (broadcastable to the output): window size clipped to the padded or the real input."""
    fdtype = dtype if dtype.kind in "fc" else np.float64
    if divisor_override:
        return np.asarray(divisor_override, fdtype)
    div = None
    for d, (n, k, s, p, o) in enumerate(zip(spatial, ks, strides, pads, outs)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        size = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * len(ks)
        shape[d] = o
        size = size.reshape(shape)
        div = size if div is None else div * size
    return div.astype(fdtype)


def adaptive_windows(n, o):
    """PyTorch's adaptive pooling windows: start = floor(i*n/o), end = ceil((i+1)*n/o)."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def adaptive_avg_matrix(n, o, dtype):
    """(o, n) matrix averaging each adaptive window."""
    start, end = adaptive_windows(n, o)
    j = np.arange(n)
    m = ((j >= start[:, None]) & (j < end[:, None])).astype(np.float64)
    return (m / np.maximum(end - start, 1)[:, None]).astype(dtype)


def _gather_windows(x, coords_fn, count, lead=(Ellipsis,)):
    """Running max over `count` window offsets; coords_fn(j) gives per-dim coordinate arrays (broadcastable to the
    output) of offset j. Returns values and the per-dim coordinates of torch's argmax (first max; NaN wins)."""
    has_nan = x.dtype.kind == "f" and np.isnan(x).any()
    best = coords_best = None
    for j in range(count):
        coords = coords_fn(j)
        v = x[lead + tuple(coords)]
        if best is None:
            best = v.copy()
            coords_best = [np.broadcast_to(c, v.shape).astype(np.int64) for c in coords]
            continue
        take = v > best
        if has_nan:
            take |= np.isnan(v)
        np.copyto(best, v, where=take)
        for cb, c in zip(coords_best, coords):
            np.copyto(cb, c, where=take)
    return best, coords_best


def _flat_index(coords, spatial):
    """Flat per-plane index from per-dim coordinate arrays."""
    idx = coords[0]
    for c, n in zip(coords[1:], spatial[1:]):
        idx = idx * n + c
    return idx


class AdaptiveMaxPool(Function):
    """Adaptive max pooling: values and flat indices, windows as in PyTorch."""

    _raw = True
    _node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, outs):
        nd = len(outs)
        spatial = x.shape[-nd:]
        ctx.in_spatial = spatial
        if any(o == 0 for o in outs) or x.size == 0:
            ctx.idx = np.zeros(x.shape[:-nd] + tuple(outs), np.int64)
            return np.zeros(x.shape[:-nd] + tuple(outs), x.dtype), ctx.idx
        wins = [adaptive_windows(n, o) for n, o in zip(spatial, outs)]
        kmax = [int(np.max(e - s)) for s, e in wins]
        offsets = list(np.ndindex(*kmax))

        def coords_fn(j):
            coords = []
            for d, ((s, e), off) in enumerate(zip(wins, offsets[j])):
                shape = [1] * nd
                shape[d] = len(s)
                coords.append(np.minimum(s + off, e - 1).reshape(shape))
            return coords
        best, coords = _gather_windows(x, coords_fn, len(offsets))
        idx = _flat_index(coords, spatial)
        ctx.idx = idx
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
        ctx.in_spatial = spatial
        if any(o == 0 for o in outs) or x.size == 0:
            ctx.idx = np.zeros(x.shape[:-nd] + tuple(outs), np.int64)
            return np.zeros(x.shape[:-nd] + tuple(outs), x.dtype), ctx.idx
        # PyTorch's sample order: (W, H) for 2-d pooling, (T, H, W) for 3-d.
        order = [1, 0] if nd == 2 else list(range(nd))
        starts = [_fractional_intervals(samples[..., order[d]].astype(x.dtype), spatial[d], outs[d], ks[d])
                  for d in range(nd)]
        offsets = list(np.ndindex(*ks))

        def coords_fn(j):
            coords = []
            for d in range(nd):
                shape = list(starts[d].shape[:-1]) + [1] * nd
                shape[len(starts[d].shape) - 1 + d] = outs[d]
                coords.append((starts[d] + offsets[j][d]).reshape(shape))
            return coords
        lead_idx = np.indices(x.shape[:-nd], sparse=True)
        lead = tuple(li.reshape(li.shape + (1,) * nd) for li in lead_idx)
        best, coords = _gather_windows(x, coords_fn, len(offsets), lead)
        idx = _flat_index(coords, spatial)
        ctx.idx = idx
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
            bad = idx.reshape(-1)[np.flatnonzero((idx.reshape(-1) < 0) | (idx.reshape(-1) >= plane))[0]]
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{'x'.join(map(str, out_spatial))})")
        out = np.zeros((n, c, plane), x.dtype)
        np.put_along_axis(out, idx.reshape(n, c, -1), x.reshape(n, c, -1), 2)
        ctx.idx = idx
        return out.reshape((n, c) + tuple(out_spatial))

    @staticmethod
    def backward(ctx, g):
        return IndexGather.apply(g, ctx.idx), None, None
