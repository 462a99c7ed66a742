"""Pooling on NumPy: loops over kernel offsets on strided views, with no masked writes in the hot paths.

Max-pool indices are flat positions in each (n, c) input plane, as PyTorch returns them, chosen by PyTorch's rule
(the first maximum of a window wins, a NaN always wins, and an all -inf window points at its first in-bounds
position). Max-pool gradients are one scatter to those indices (an assignment for disjoint windows, a sum for
overlapping ones), as adaptive/fractional pooling and max_unpool do (IndexScatter); the adjoint of each is a gather.
Every backward is itself differentiable.
"""
import functools
import itertools
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, overload
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
    return _window_geometry_of(tuple(spatial), tuple(ks), tuple(strides), tuple(pads), tuple(dils), ceil_mode)


@functools.lru_cache(maxsize=512)
def _window_geometry_of(spatial, ks, strides, pads, dils, ceil_mode):
    """_window_geometry, cached by its (tuple) arguments."""
    outs = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(spatial, ks, strides, pads, dils))
    need = tuple(max((o - 1) * s + d * (k - 1) + 1, n + p) for o, s, d, k, n, p in
                 zip(outs, strides, dils, ks, spatial, pads))
    return outs, need


def _plane_strides(spatial):
    """Flat-index step of each spatial dim within one (n, c) plane."""
    return tuple(math.prod(spatial[d + 1:]) for d in range(len(spatial)))


def _scatter_add(g, idx, in_spatial, unique=False):
    """(N, C, *in_spatial) zeros with g added at flat per-plane indices (out-of-plane indices dropped); unique
    (in-plane indices that never repeat within a plane) lets a plain indexed assignment do it."""
    n, c = g.shape[:2]
    plane = math.prod(in_spatial)
    gf = g.reshape(n * c, g.size // max(n * c, 1))
    ix = idx.reshape(gf.shape)
    inside = (ix >= 0) & (ix < plane)
    if not inside.all():
        gf, ix = np.where(inside, gf, 0), np.where(inside, ix, 0)
    return _scatter_in_plane(gf, ix, (n, c), in_spatial, unique)


def _scatter_in_plane(g, idx, lead, in_spatial, unique):
    """_scatter_add for (planes, m) g and in-plane idx: one flat index per value, then an indexed assignment (unique)
    or a weighted bincount."""
    plane = math.prod(in_spatial)
    size = math.prod(lead) * plane
    flat = np.add(idx, _plane_starts(idx.shape[0], plane)).reshape(-1)
    if unique:
        out = np.zeros(size, g.dtype)
        out[flat] = g.reshape(-1)
    else:
        out = np.bincount(flat, weights=g.reshape(-1), minlength=size).astype(g.dtype, copy=False)
    return out.reshape(tuple(lead) + tuple(in_spatial))


@functools.lru_cache(maxsize=64)
def _plane_starts(planes, plane):
    """The flat start of each of `planes` planes of `plane` elements, as a read-only (planes, 1) column."""
    starts = (np.arange(planes, dtype=np.int64) * plane)[:, None]
    starts.flags.writeable = False
    return starts


class IndexScatter(Function):
    """out (N, C, *in_spatial) with g's values added at flat per-plane indices; backward gathers."""

    _raw = True
    _node_name = "MaxPoolWithIndicesBackward0"

    @staticmethod
    def forward(ctx, g, idx, in_spatial, unique=False):
        ctx.idx = idx
        return _scatter_add(g, idx, in_spatial, unique)

    @staticmethod
    def backward(ctx, gg):
        return IndexGather.apply(gg, ctx.idx), None, None, None


class IndexGather(Function):
    """Values of x (N, C, *spatial) at flat per-plane indices idx (N, C, *out); out-of-plane indices give 0."""

    _raw = True
    _node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        n, c = x.shape[:2]
        ctx.in_spatial = x.shape[2:]
        ctx.idx = idx
        flat = x.reshape(n, c, math.prod(x.shape[2:]))
        ix = idx.reshape(n, c, math.prod(idx.shape[2:]))
        inside = (ix >= 0) & (ix < flat.shape[2])
        if inside.all():
            return np.take_along_axis(flat, ix, 2).reshape(idx.shape)
        return np.where(inside, np.take_along_axis(flat, np.where(inside, ix, 0), 2), 0).reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        return IndexScatter.apply(g, ctx.idx, ctx.in_spatial), None


def _scatter_planes(g, idx, in_spatial, unique=False):
    """IndexScatter for inputs with or without the (N, C) leading dims."""
    nd = len(in_spatial)
    lead = g.shape[:-nd] if g.dim() > nd else ()
    g4 = g.reshape((-1, 1) + tuple(g.shape[-nd:]))
    idx4 = idx.reshape((-1, 1) + idx.shape[-nd:])
    out = IndexScatter.apply(g4, idx4, tuple(in_spatial), unique)
    return out.reshape(tuple(lead) + tuple(in_spatial))


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _read_only(*arrays):
    """The arrays, made read-only: the shape-keyed caches below hand the same arrays to every call."""
    for a in arrays:
        a.flags.writeable = False
    return arrays if len(arrays) > 1 else arrays[0]


_CACHED_POSITIONS = 1 << 14  # outputs up to this many positions keep their window bases cached (<= 256 KB each)


def _window_bases(outs, strides, pads, dils, spatial, nd_total):
    """Per output position: the flat index of the window origin and of its first in-bounds position (torch's
    initial argmax), shaped to broadcast against (N, C, *outs). Small outputs' are cached: they depend on the
    geometry only, and their dozen small NumPy calls cost more than the pooling of a small batch."""
    compute = _cached_window_bases if math.prod(outs) <= _CACHED_POSITIONS else _window_bases_of
    return compute(outs, strides, pads, dils, spatial, nd_total)


def _window_bases_of(outs, strides, pads, dils, spatial, nd_total):
    """_window_bases, computed."""
    ps = _plane_strides(spatial)
    origin = first = 0
    for d, (o, s, p, dl, st) in enumerate(zip(outs, strides, pads, dils, ps)):
        shape = [1] * nd_total
        shape[nd_total - len(outs) + d] = o
        base = np.arange(o) * s - p
        start = base + (-(np.minimum(base, 0) // dl)) * dl
        origin = origin + (base * st).reshape(shape)
        first = first + (start * st).reshape(shape)
    return _read_only(origin, first)


_cached_window_bases = functools.lru_cache(maxsize=64)(_window_bases_of)


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
    return np.where(outside, math.prod(ks), num)


@functools.lru_cache(maxsize=256)
def _offset_table(ks, dils, spatial):
    """Flat in-plane displacement of each kernel offset from the window origin (plus a 0 for the sentinel);
    cached by geometry, as _window_bases."""
    ps = _plane_strides(spatial)
    koffs = np.unravel_index(np.arange(math.prod(ks)), ks)
    return _read_only(np.append(sum(k * d * s for k, d, s in zip(koffs, dils, ps)), 0))


def _inside_ranges(n, k, s, p, d, o):
    """Per kernel offset along one dim: the output range [j0, j1) whose reads fall inside the input, and the input
    slice they read (None when no read does)."""
    out = []
    for off in range(k):
        a = off * d - p
        j0 = max(0, -(a // s) if a < 0 else 0)
        j1 = min(o, (n - 1 - a) // s + 1) if n - 1 - a >= 0 else 0
        out.append((slice(j0, j1), slice(a + j0 * s, a + (j1 - 1) * s + 1, s)) if j1 > j0 else None)
    return out


def max_pool_values(x, ks, strides, pads, dils, ceil_mode):
    """Max pooling values only (no indices, nothing saved) for inputs that need no gradient: a running np.maximum
    over each kernel offset's in-bounds view, straight from the unpadded input (the -inf padding never wins), started
    from the offsets that cover the whole output. NaN propagates, as PyTorch's NaN-wins rule gives."""
    nd = len(ks)
    outs, _ = _window_geometry(x.shape[-nd:], ks, strides, pads, dils, ceil_mode)
    shape = x.shape[:-nd] + outs
    if 0 in shape:
        return np.zeros(shape, x.dtype)
    ranges = [_inside_ranges(n, k, s, p, d, o) for n, k, s, p, d, o in
              zip(x.shape[-nd:], ks, strides, pads, dils, outs)]
    reads = [combo for combo in itertools.product(*ranges) if all(c is not None for c in combo)]
    read = _phase_reader(x, strides[-1], outs[-1])
    first = [c for c in reads if all(d.start == 0 and d.stop == o for (d, _), o in zip(c, outs))][:2]
    if first:  # the max of the first two offsets that cover the output (of one with itself: a copy)
        best = np.maximum(read(first[0]), read(first[-1]))
        for c in first:
            reads.remove(c)
    else:
        best = np.full(shape, _lowest(x.dtype), x.dtype)
    for combo in reads:
        dst = best[(Ellipsis,) + tuple(c[0] for c in combo)]
        np.maximum(dst, read(combo), out=dst)
    return best


def _phase_reader(x, s, width):
    """A function from an offset's (dst, src) slices to the input block it reads. With a last-dim stride s > 1 and
    output rows `width` >= 64 long the input is first split into s contiguous phases along that dim, so the maxima
    run over contiguous rows (on shorter rows the copies cost more than the strided reads)."""
    if s == 1 or width < 64:
        return lambda combo: x[(Ellipsis,) + tuple(c[1] for c in combo)]
    phases = [np.ascontiguousarray(x[..., r::s]) for r in range(s)]

    def read(combo):
        last = combo[-1][1]
        start = last.start // s
        count = combo[-1][0].stop - combo[-1][0].start
        return phases[last.start % s][(Ellipsis,) + tuple(c[1] for c in combo[:-1]) + (slice(start, start + count),)]
    return read


def nd_node(cls, nd):
    """cls, or for 3-d pooling its overload named as PyTorch's 3-d node (the classes carry the 2-d names)."""
    return overload(cls, cls._node_name.replace("2D", "3D")) if nd == 3 else cls


class MaxPool(Function):
    """Max pooling over N-d windows, returning values and PyTorch's flat indices.

    The argmax is tracked as a kernel offset number (a small int) with branch-free arithmetic, then turned into the
    flat index; the backward scatters to those indices, and is itself differentiable (its backward gathers at them)."""

    _raw = True
    _materialize = False  # backward takes None for the indices' gradient
    _node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, ks, strides, pads, dils, ceil_mode):
        nd = len(ks)
        spatial = x.shape[-nd:]
        outs, need = _window_geometry(spatial, ks, strides, pads, dils, ceil_mode)
        shape = x.shape[:-nd] + outs
        if any(o == 0 for o in outs) or x.size == 0:
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
        ctx.idx = idx
        return best, idx

    @staticmethod
    def backward(ctx, g, _gi):
        spatial, ks, strides, _, dils = ctx.geom[:5]
        gx = nd_node(MaxPoolBackward, len(ks)).apply(g, ctx.idx, spatial, _disjoint(ks, strides, dils))
        return gx, None, None, None, None, None


def _arg_dtype(count):
    return np.int8 if count < 127 else np.int32


def _max_arg(views):
    """Window maxima and the first offset reaching them, without masked writes (a running max; ties keep the
    earlier offset). A strided view is first copied to a contiguous buffer: its two reads then run ~30% faster."""
    best = views[0].copy()
    arg = np.zeros(best.shape, _arg_dtype(len(views)))
    step = np.empty_like(arg)
    buf = np.empty_like(best)
    for k, v in enumerate(views[1:], 1):
        if not v.flags.c_contiguous:
            np.copyto(buf, v)
            v = buf
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
    """The max-pool gradient: g scattered to its flat per-plane indices (assigned when the windows are disjoint, so
    no index repeats; summed otherwise). Its backward gathers at the indices."""

    _raw = True
    _node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, g, idx, spatial, disjoint):
        ctx.idx = idx
        lead = g.shape[:-len(spatial)]
        planes = math.prod(lead)
        m = g.size // max(planes, 1)
        if disjoint:  # assigned, not summed: 0 + g, as torch adds into zeros (-0.0 becomes +0.0)
            g = np.add(g, g.dtype.type(0))
        return _scatter_in_plane(g.reshape(planes, m), idx.reshape(planes, m), lead, spatial, disjoint)

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
        return nd_node(AvgPoolBackward, len(ctx.geom[1])).apply(g, ctx.geom), None, None, None, None, None, None


def _avg_forward(x, ks, strides, pads, outs, need, div):
    """Window sums (accumulated in x's dtype, half in float32, integers in int64) divided by the divisor (truncating
    toward zero for integers, as C++ division), rounded once to x's dtype."""
    nd = len(ks)
    acc_dtype = np.dtype(np.int64) if x.dtype.kind not in "fc" else np.dtype(np.float32) if x.dtype == np.float16 \
        else x.dtype
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
        return _trunc_div(acc, div.astype(np.int64)).astype(x.dtype)
    acc /= div
    return acc.astype(x.dtype, copy=False)


def _trunc_div(a, d):
    """Integer a / d rounded toward zero (C++ integer division, as torch's integer kernels divide)."""
    q = np.abs(a) // np.abs(d)
    return np.where((a < 0) != (d < 0), -q, q)


class AvgPoolBackward(Function):
    """The adjoint of AvgPool (linear in g); its backward is AvgPool's forward arithmetic."""

    _raw = True
    _node_name = "AvgPool2DBackwardBackward0"

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


def _window_sum_matrix(n, o, dtype):
    """(o, n) 0/1 matrix selecting each adaptive window (its row sums are the window sizes)."""
    start, end = adaptive_windows(n, o)
    j = np.arange(n)
    return ((j >= start[:, None]) & (j < end[:, None])).astype(dtype)


def _gemm_pays(a, axis, n, o):
    """Whether a shrinking axis is summed by a GEMM with the 0/1 window matrix (short windows along the last axis,
    where reduceat's per-run cost dominates): only for finite data, as 0 * inf is NaN."""
    return axis == -1 and n < 16 * o and bool(np.isfinite(a).all())


def _adaptive_sum_axis(a, axis, o):
    """Sums over the adaptive windows of one axis: a whole-axis sum, k-wide slices for windows that tile the axis,
    reduceat runs (or a GEMM) for shrinking axes, gathers for growing ones (windows of one or two positions)."""
    n = a.shape[axis]
    lead = (slice(None),) * (a.ndim + axis)
    if o == 1:
        return a.sum(axis, keepdims=True)
    if n % o == 0:
        k = n // o
        if axis == -1 and k > 4:
            return a.reshape(a.shape[:-1] + (o, k)).sum(-1)
        out = a[lead + (slice(0, None, k),)].copy()
        for j in range(1, k):
            out += a[lead + (slice(j, None, k),)]
        return out
    start, end = adaptive_windows(n, o)
    if o > n:
        out = np.take(a, start, axis=axis)
        two = np.flatnonzero(end - start == 2)
        out[lead + (two,)] += np.take(a, start[two] + 1, axis=axis)
        return out
    if _gemm_pays(a, axis, n, o):
        return np.matmul(a, _window_sum_matrix(n, o, a.dtype).T)
    out = np.add.reduceat(a, start, axis=axis)  # windows overlap by at most one position: runs, plus the overlaps
    over = np.flatnonzero(end[:-1] > start[1:])
    out[lead + (over,)] += a[lead + (start[over + 1],)]
    return out


def _adaptive_spread_axis(g, axis, n):
    """The adjoint of _adaptive_sum_axis: each window's value added to every position in it."""
    o = g.shape[axis]
    lead = (slice(None),) * (g.ndim + axis)
    if n % o == 0:
        return np.repeat(g, n // o, axis=axis) if o > 1 else \
            np.broadcast_to(g, g.shape[:g.ndim + axis] + (n,) + g.shape[g.ndim + axis + 1:]).copy()
    start, end = adaptive_windows(n, o)
    if o > n:  # many windows per position: sum the runs of windows sharing a first (then a second) position
        out = np.zeros(g.shape[:g.ndim + axis] + (n,) + g.shape[g.ndim + axis + 1:], g.dtype)
        for wins in (np.arange(o), np.flatnonzero(end - start == 2)):
            pos = start[wins] + (0 if wins.size == o else 1)
            heads = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]]) if pos.size else pos
            if pos.size:
                out[lead + (pos[heads],)] += np.add.reduceat(np.take(g, wins, axis=axis), heads, axis=axis)
        return out
    if _gemm_pays(g, axis, n, o):
        return np.matmul(g, _window_sum_matrix(n, o, g.dtype))
    out = np.repeat(g, np.diff(np.r_[start, n]), axis=axis)  # each window over its run, plus the overlaps
    over = np.flatnonzero(end[:-1] > start[1:])
    out[lead + (start[over + 1],)] += g[lead + (over,)]
    return out


def _divide_by_window_sizes(a, spatial, outs):
    """a /= the window size along each dim in turn (PyTorch's sum / kh / kw)."""
    nd = len(outs)
    for d, (n, o) in enumerate(zip(spatial, outs)):
        start, end = adaptive_windows(n, o)
        size = end - start
        if (size == size[0]).all():
            a /= a.dtype.type(size[0])
        else:
            a /= size.astype(a.dtype).reshape((o,) + (1,) * (nd - 1 - d))
    return a


def _opmath(x):
    """Float arrays below float32 are computed in float32 (PyTorch's opmath type)."""
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


def adaptive_avg(x, outs):
    """Adaptive average pooling of the trailing len(outs) dims: window sums, then / each window size."""
    nd = len(outs)
    spatial = x.shape[-nd:]
    if x.size == 0 or any(o == 0 for o in outs):
        return np.zeros(x.shape[:-nd] + tuple(outs), x.dtype)
    if nd == 3 and x.dtype == np.float16 and any(o != 1 for o in outs):
        return _half_adaptive_avg3d(x, outs)
    a = _opmath(x)
    if all(o == 1 for o in outs):  # global pooling: one matrix-vector product sums every plane (BLAS beats sum)
        planes = np.ascontiguousarray(a).reshape(-1, math.prod(spatial))
        a = np.matmul(planes, np.ones(planes.shape[1], a.dtype)).reshape(a.shape[:-nd] + (1,) * nd)
    for d in reversed(range(nd)):
        if a.shape[d - nd] != outs[d]:
            a = _adaptive_sum_axis(a, d - nd, outs[d])
    a = a.copy() if a is x or a.base is x else a
    return _divide_by_window_sizes(a, spatial, outs).astype(x.dtype, copy=False)


def _half_adaptive_avg3d(x, outs):
    """torch's 3-d adaptive average of half input (other than global pooling, which it takes as a float mean): each
    window summed in half in (d, h, w) order, then divided by its depth, height and width in turn, in half."""
    spatial = x.shape[-3:]
    wins = [adaptive_windows(n, o) for n, o in zip(spatial, outs)]
    acc = np.zeros(x.shape[:-3] + tuple(outs), np.float16)
    zero = np.float16(0)
    for offs in itertools.product(*(range(int((end - start).max())) for start, end in wins)):
        idx = [np.minimum(start + j, n - 1) for (start, _), j, n in zip(wins, offs, spatial)]
        inside = [start + j < end for (start, end), j in zip(wins, offs)]
        v = x[..., idx[0][:, None, None], idx[1][None, :, None], idx[2][None, None, :]]
        acc += np.where(inside[0][:, None, None] & inside[1][None, :, None] & inside[2][None, None, :], v, zero)
    for d, (start, end) in enumerate(wins):
        acc /= (end - start).astype(np.float16).reshape((-1,) + (1,) * (2 - d))
    return acc


def adaptive_avg_adjoint(g, spatial):
    """The transpose of adaptive_avg: g / each window size, spread over the windows (overlaps summed)."""
    nd = len(spatial)
    outs = g.shape[-nd:]
    if g.size == 0:
        return np.zeros(g.shape[:-nd] + tuple(spatial), g.dtype)
    a = _divide_by_window_sizes(_opmath(g).copy(), spatial, outs)
    for d in range(nd):
        if spatial[d] != outs[d]:
            a = _adaptive_spread_axis(a, d - nd, spatial[d])
    return a.astype(g.dtype, copy=False)


def adaptive_avg_matrix(n, o, dtype):
    """(o, n) matrix averaging each adaptive window (the traced form of adaptive average pooling: a MatMul)."""
    start, end = adaptive_windows(n, o)
    j = np.arange(n)
    m = ((j >= start[:, None]) & (j < end[:, None])).astype(np.float64)
    return (m / np.maximum(end - start, 1)[:, None]).astype(dtype)


class AdaptiveAvgPool(Function):
    """Adaptive average pooling (PyTorch's windows); backward is AdaptiveAvgPoolBackward, whose backward is this."""

    _raw = True
    _node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, outs):
        ctx.spatial = x.shape[-len(outs):]
        return adaptive_avg(x, outs)

    @staticmethod
    def backward(ctx, g):
        return nd_node(AdaptiveAvgPoolBackward, len(ctx.spatial)).apply(g, ctx.spatial), None


class AdaptiveAvgPoolBackward(Function):
    """The adjoint of AdaptiveAvgPool (linear in g)."""

    _raw = True
    _node_name = "AdaptiveAvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, spatial):
        ctx.outs = g.shape[-len(spatial):]
        return adaptive_avg_adjoint(g, spatial)

    @staticmethod
    def backward(ctx, gg):
        return nd_node(AdaptiveAvgPool, len(ctx.outs)).apply(gg, ctx.outs), None


def _axis_max(a, axis, o, has_nan):
    """Adaptive-window max along one axis: values and the window offset of PyTorch's argmax (first max; with NaNs,
    the last NaN). The windows are laid out as a (o, kmax) pair of axes (a reshape when they tile the axis, else one
    gather, short windows repeating their last position: a repeat never wins a strict comparison and a repeated NaN
    maps to the same position); short windows are compared as kmax strided views, long ones reduced by argmax."""
    n = a.shape[axis]
    lead = (slice(None),) * (a.ndim + axis)
    start, end = adaptive_windows(n, o)
    kmax = int((end - start).max())
    if n % o == 0 and (kmax < 16 or has_nan):
        views = [a[lead + (slice(j, None, kmax),)] for j in range(kmax)]
        return _max_arg_nan(views) if has_nan else _max_arg(views)
    pre, post = a.shape[:a.ndim + axis], a.shape[a.ndim + axis:][1:]
    if n % o == 0:
        w = a.reshape(pre + (o, kmax) + post)
    elif kmax < 16 or has_nan:  # offset-major (kmax, o): each offset's view reads runs of o
        cols = np.minimum(start + np.arange(kmax)[:, None], end - 1).reshape(-1)
        views = list(np.moveaxis(np.take(a, cols, axis=axis).reshape(pre + (kmax, o) + post), len(pre), 0))
        return _max_arg_nan(views) if has_nan else _max_arg(views)
    else:
        cols = np.minimum(start[:, None] + np.arange(kmax), (end - 1)[:, None]).reshape(-1)
        w = np.take(a, cols, axis=axis).reshape(pre + (o, kmax) + post)
    arg = w.argmax(axis=axis)
    return _take_along(w, np.expand_dims(arg, axis), axis).squeeze(axis), arg


def _take_along(a, ix, axis):
    """np.take_along_axis(a, ix, axis) (ix broadcasting against a off the axis) through one flat np.take: the flat
    index is built from small per-dim ranges, several times cheaper than take_along_axis's fancy indexing."""
    a = np.ascontiguousarray(a)
    ax = axis % a.ndim
    m, post = a.shape[ax], a.shape[ax + 1:]
    lead = np.arange(math.prod(a.shape[:ax])).reshape(a.shape[:ax] + (1,) * (a.ndim - ax))
    tail = np.arange(math.prod(post)).reshape((1,) * (ax + 1) + post)
    return np.take(a.reshape(-1), (lead * m + ix) * math.prod(post) + tail)


def _separable_max(x, nd, axis_max):
    """Max pooling of the trailing nd dims one dim at a time (last first): values and flat per-plane indices.

    axis_max(a, d, has_nan) reduces dim d of a: values and the absolute input position of each window's argmax.
    Row-major first max (or last NaN) over a window is the first max (last NaN) over the rows of each row's first
    max (last NaN), so reducing one dim at a time gives PyTorch's argmax."""
    spatial = x.shape[-nd:]
    strides = _plane_strides(spatial)
    has_nan = x.dtype.kind == "f" and np.isnan(x).any()
    a, idx = x, 0
    for d in reversed(range(nd)):
        a, pos = axis_max(a, d, has_nan)
        if d < nd - 1:  # the inner dims' chosen index, at the chosen position of this dim
            idx = _take_along(idx, pos, d - nd)
        idx = idx + pos * strides[d]
    return a, idx


def adaptive_max(x, outs):
    """Adaptive max pooling of the trailing dims: values and flat per-plane indices."""
    nd = len(outs)
    if nd > 1 and all(o == 1 for o in outs):  # global pooling: one flat window per plane
        best, idx = adaptive_max(x.reshape(x.shape[:-nd] + (-1,)), (1,))
        return best.reshape(best.shape + (1,) * (nd - 1)), idx.reshape(idx.shape + (1,) * (nd - 1))

    def axis_max(a, d, has_nan):
        best, arg = _axis_max(a, d - nd, outs[d], has_nan)
        start, end = adaptive_windows(a.shape[d - nd], outs[d])
        shape = (outs[d],) + (1,) * (nd - 1 - d)
        return best, np.minimum(start.reshape(shape) + arg, (end - 1).reshape(shape))
    return _separable_max(x, nd, axis_max)


class AdaptiveMaxPool(Function):
    """Adaptive max pooling: values and flat indices, windows as in PyTorch."""

    _raw = True
    _materialize = False  # backward takes None for the indices' gradient
    _node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, outs):
        nd = len(outs)
        ctx.in_spatial = x.shape[-nd:]
        if any(o == 0 for o in outs) or x.size == 0:
            ctx.idx = np.zeros(x.shape[:-nd] + tuple(outs), np.int64)
            return np.zeros(x.shape[:-nd] + tuple(outs), x.dtype), ctx.idx
        best, idx = adaptive_max(x, outs)
        ctx.idx = idx
        return best, idx

    @staticmethod
    def backward(ctx, g, _gi):
        disjoint = all(n % o == 0 for n, o in zip(ctx.in_spatial, g.shape[-len(ctx.in_spatial):]))
        return _scatter_planes(g, ctx.idx, ctx.in_spatial, disjoint), None


class FractionalMaxPool(Function):
    """Fractional max pooling (fixed pool size, pseudo-random window starts from `samples`)."""

    _raw = True
    _materialize = False  # backward takes None for the indices' gradient
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
        best, idx = _separable_max(x, nd, lambda a, d, has_nan: _sliding_max_at(a, d - nd, ks[d], starts[d],
                                                                                 has_nan))
        ctx.idx = idx
        return best, idx

    @staticmethod
    def backward(ctx, g, _gi):
        return _scatter_planes(g, ctx.idx, ctx.in_spatial), None, None, None


def _sliding_max_at(a, axis, k, starts, has_nan):
    """Max over the k-wide windows of one axis starting at per-plane `starts` (lead, o): the max at every start
    (contiguous slices), then gathered at the starts. Values and absolute argmax positions."""
    n = a.shape[axis]
    lead = (slice(None),) * (a.ndim + axis)
    views = [a[lead + (slice(j, n - k + 1 + j),)] for j in range(k)]
    best, arg = _max_arg_nan(views) if has_nan else _max_arg(views)
    ix = starts.reshape(starts.shape[:-1] + (1,) * (a.ndim - starts.ndim + axis + 1) + starts.shape[-1:]
                        + (1,) * (-axis - 1))
    return _take_along(best, ix, axis), ix + _take_along(arg, ix, axis)


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
        plane = math.prod(out_spatial)
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
