"""Vision kernels: pixel/channel shuffle, grid_sample and the affine_grid base grid.

The shuffles are a reshape, a permutation and one copy (ember views, so autograd and double backward
come from the shape ops). grid_sample is one fused Function: along each spatial dim every output point has
a few taps (nearest 1, bilinear 2, bicubic 4) with indices fixed by the grid and weights that are
polynomials of the point's fractional coordinate f. The forward gathers channel rows of the input at the
taps' flat indices; the backward is written with ember ops (row gather/scatter plus elementwise math on f,
which carries d f / d grid), so create_graph=True gives second derivatives as PyTorch does. Gradients reach
the input through a scatter of channel rows that adds each destination's rows in order (indexing.add_rows).
"""
import itertools
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, as_node
from ..autograd.grad_mode import STATE
from . import shape as S
from .conv import _padded_rows, _unaliased
from .indexing import add_rows
from .interpolate import cubic_coefficients, CUBIC_A


# ---- pixel / channel shuffle ---------------------------------------------------------------------------------
def _fresh(y):
    """y as a new contiguous tensor (PyTorch's shuffles never return a view of their input)."""
    return y.clone() if y.is_contiguous() else y.contiguous()


def pixel_shuffle(x, r):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    *lead, c, h, w = x.shape
    n = len(lead)
    oc = c // (r * r)
    y = x.reshape(*lead, oc, r, r, h, w).permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return as_node(_fresh(y).reshape(*lead, oc, h * r, w * r), "PixelShuffleBackward0")


def pixel_unshuffle(x, r):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    *lead, c, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r).permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return as_node(_fresh(y).reshape(*lead, c * r * r, h // r, w // r), "PixelUnshuffleBackward0")


def channel_shuffle(x, groups):
    """(N, g*k, *) -> (N, k*g, *): channel j*k+i moves to i*g+j."""
    n, c, *rest = x.shape
    y = x.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return as_node(_fresh(y).reshape(n, c, *rest), "ChannelShuffleBackward0")


# ---- affine_grid ---------------------------------------------------------------------------------------------
def _linspace_from_neg_one(n, align_corners, dtype):
    """PyTorch's base-grid coordinates: linspace(-1, 1, n) (symmetric form), shrunk by (n-1)/n unless aligned."""
    if n <= 1:
        return np.zeros(n, dtype)
    step = dtype.type(2) / dtype.type(n - 1)
    i = np.arange(n)
    r = np.where(i < n // 2, -1 + step * i.astype(dtype), 1 - step * (n - 1 - i).astype(dtype)).astype(dtype)
    return r if align_corners else r * dtype.type(n - 1) / dtype.type(n)


def affine_base_grid(spatial, align_corners, dtype):
    """(prod(spatial), nd+1) rows (x, y[, z], 1) of the normalised output coordinates, x varying fastest."""
    dtype = np.dtype(dtype)
    nd = len(spatial)
    axes = [_linspace_from_neg_one(n, align_corners, dtype) for n in spatial]
    cols = np.meshgrid(*axes, indexing="ij") if nd else []
    base = np.empty(tuple(spatial) + (nd + 1,), dtype)
    for k in range(nd):
        base[..., k] = cols[nd - 1 - k]
    base[..., nd] = 1
    return base.reshape(-1, nd + 1)


def affine_grid(theta, spatial, align_corners):
    """grid (N, *spatial, nd) = base_grid @ theta^T, differentiable in theta."""
    base = Tensor._make(affine_base_grid(spatial, align_corners, theta._data.dtype))
    out = base.unsqueeze(0).matmul(theta.transpose(1, 2))
    return as_node(out.reshape(theta.shape[0], *spatial, len(spatial)), "AffineGridGeneratorBackward0")


# ---- grid_sample: source coordinates -------------------------------------------------------------------------
def _unnormalize(coord, size, align_corners):
    """Grid coordinate (-1..1) -> pixel coordinate, and its derivative."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _clip(x, size):
    """Clamp to [0, size-1]; derivative 1 strictly inside, 0 on and beyond the borders (as PyTorch)."""
    return np.clip(x, 0, size - 1), ((x > 0) & (x < size - 1)).astype(x.dtype)


def _reflect(x, twice_low, twice_high):
    """Reflect x into [twice_low/2, twice_high/2] by repeated mirroring, and the derivative (+-1)."""
    if twice_low == twice_high:
        return np.zeros_like(x), np.zeros_like(x)
    lo = x.dtype.type(twice_low) / 2
    span = x.dtype.type(twice_high - twice_low) / 2
    v = x - lo
    sign = np.where(v < 0, -1, 1).astype(x.dtype)
    v = np.abs(v)
    extra = np.fmod(v, span)
    even = np.fmod(np.floor(v / span), 2) == 0
    return np.where(even, extra + lo, span - extra + lo), np.where(even, sign, -sign)


def _pad_coords(x, size, padding, align_corners):
    """PyTorch's compute_coordinates for padding modes border/reflection (identity for zeros), with derivative."""
    if padding == "border":
        return _clip(x, size)
    if padding == "reflection":
        twice = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        x, d1 = _reflect(x, *twice)
        x, d2 = _clip(x, size)
        return x, d1 * d2
    return x, 1


class _Dim:
    """One spatial dim of a grid_sample: tap indices and in-bounds masks (T, K), fraction f (K,), d src/d grid."""

    def __init__(self, idx, valid, frac, mult):
        self.idx, self.valid, self.frac, self.mult = idx, valid, frac, mult


def _taps(coords, size):
    """Integer-valued tap coordinates (T, K) -> indices (invalid ones set to 0) and in-bounds masks."""
    valid = (coords >= 0) & (coords <= size - 1)
    return np.where(valid, coords, 0).astype(np.int64), valid


def sample_plan(grid, spatial, mode, padding, align_corners):
    """Per spatial dim (D, H, W order) the taps of every grid point; grid's last axis is (x, y[, z])."""
    nd = len(spatial)
    g = grid.reshape(-1, nd)
    dims = []
    for d, size in enumerate(spatial):
        u, du = _unnormalize(g[:, nd - 1 - d], size, align_corners)
        if mode == "bicubic":
            fl = np.floor(u)
            coords = np.stack([_pad_coords(fl + k, size, padding, align_corners)[0] for k in (-1, 0, 1, 2)])
            dims.append(_Dim(*_taps(coords, size), u - fl, du))
            continue
        src, dsrc = _pad_coords(u, size, padding, align_corners)
        if mode == "nearest":
            dims.append(_Dim(*_taps(np.rint(src)[None], size), None, 0))
            continue
        fl = np.floor(src)
        dims.append(_Dim(*_taps(np.stack([fl, fl + 1]), size), src - fl, dsrc * du))
    return dims


def _kernel(mode, f):
    """Tap weights as functions of the fraction f (works on arrays and on Tensors)."""
    if mode == "nearest":
        return [1]
    if mode == "bicubic":
        return cubic_coefficients(f)
    return [1 - f, f]


def _kernel_grad(mode, f):
    """d(tap weight)/df for bilinear and bicubic (PyTorch's get_cubic_coefficients_grad, negated)."""
    if mode == "bilinear":
        return [-1, 1]
    a = CUBIC_A
    x = -1 - f
    g0 = (-3 * a * x - 10 * a) * x - 8 * a
    x = -f
    g1 = (-3 * (a + 2) * x - 2 * (a + 3)) * x
    x = 1 - f
    g2 = (3 * (a + 2) * x - 2 * (a + 3)) * x
    x = 2 - f
    g3 = (3 * a * x - 10 * a) * x + 8 * a
    return [-g0, -g1, -g2, -g3]


def _corners(dims, spatial, n, m):
    """For every combination of per-dim taps: its tap numbers, flat row index into (N*P, C), in-bounds mask."""
    strides = [math.prod(spatial[d + 1:]) for d in range(len(spatial))]
    base = np.repeat(np.arange(n, dtype=np.int64) * math.prod(spatial), m)
    for taps in itertools.product(*[range(len(dm.idx)) for dm in dims]):
        flat = base.copy()
        valid = None
        for dm, t, s in zip(dims, taps, strides):
            flat += dm.idx[t] * s
            valid = dm.valid[t] if valid is None else valid & dm.valid[t]
        yield taps, flat, valid


def _product(factors):
    """Product of tap weights; integer 1 factors (nearest) are skipped rather than multiplied in."""
    out = 1
    for f in factors:
        out = f if isinstance(out, int) and out == 1 else out * f
    return out


def _channel_rows(a, n, c, p):
    """(N, C, *sp) array -> (N*P, C) rows, one per pixel (P = prod(sp)); the transposing copy reads an unaliased
    copy when the plane stride would thrash the cache (see conv._aliasing)."""
    planes = _unaliased(np.ascontiguousarray(a).reshape(n * c, p))
    return np.ascontiguousarray(planes.reshape(n, c, p).transpose(0, 2, 1)).reshape(n * p, c)


def _rows_to_channels(rows, n, c, out_sp):
    """(N*M, C) rows -> a new (N, C, *out_sp) array (rows padded in memory so the transposing read is unaliased)."""
    m = rows.shape[0] // max(n, 1)
    if rows.shape[1] > 1:
        padded = _padded_rows((n * m,), c, rows.dtype)
        padded[...] = rows
        rows = padded
    return np.ascontiguousarray(rows.reshape(n, m, c).transpose(0, 2, 1)).reshape((n, c) + tuple(out_sp))


def _corner_weights(dims, weights, taps, valid, finite):
    """The weight of one corner per grid point, zero where the corner lies outside the input (finite data only: the
    caller masks the values instead when 0 * inf could appear)."""
    w = _product(weights[d][t] for d, t in reversed(tuple(enumerate(taps))))  # x, y, z as torch multiplies
    if isinstance(w, int):
        w = np.ones(valid.shape, dims[0].idx.dtype if dims[0].frac is None else dims[0].frac.dtype)
    if finite and not valid.all():
        w = w * valid
    return w


def _nearest_columns(x, dims, out_sp):
    """Nearest-mode forward straight in (N, C, ...) layout: per image one column gather of its planes (no channel-row
    transposes), out-of-bounds points zeroed."""
    n, c = x.shape[:2]
    p = math.prod(x.shape[2:])
    (_, flat, valid), = _corners(dims, x.shape[2:], n, math.prod(out_sp))
    local = flat.reshape(n, -1) - (np.arange(n) * p)[:, None]
    planes = x.reshape(n, c, p)
    out = np.empty((n, c, local.shape[1]), x.dtype)
    for i in range(n):
        np.take(planes[i], local[i], axis=1, out=out[i])
    if not valid.all():
        out.transpose(0, 2, 1)[~valid.reshape(n, -1)] = 0
    return out.reshape((n, c) + tuple(out_sp))


def grid_sample_array(x, grid, mode, padding, align_corners):
    """Forward: (N, C, *in) sampled at grid (N, *out, nd) -> (N, C, *out), and the plan for backward.

    Channel rows of the input are gathered at each corner's flat index and weighted; out-of-bounds corners get
    weight 0 (or, for non-finite input, a masked write, as 0 * inf is NaN)."""
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    out_sp = grid.shape[1:-1]
    m = math.prod(out_sp)
    dims = sample_plan(grid, spatial, mode, padding, align_corners)
    if mode == "nearest":
        return _nearest_columns(x, dims, out_sp), dims
    rows = _channel_rows(x, n, c, math.prod(spatial))
    if mode == "bicubic" and x.dtype == np.float16:
        return _rows_to_channels(_bicubic_half(rows, dims, spatial, n, m), n, c, out_sp), dims
    finite = bool(np.isfinite(rows).all())
    weights = [_kernel(mode, dm.frac) for dm in dims]
    out = None
    for taps, flat, valid in _corners(dims, spatial, n, m):
        vals = np.take(rows, flat, axis=0)
        if not finite and not valid.all():
            vals[~valid] = 0
        w = _corner_weights(dims, weights, taps, valid, finite)
        if mode != "nearest" or (finite and not valid.all()):
            vals *= w.astype(vals.dtype, copy=False)[:, None]
        if out is None:
            out = vals
        else:
            out += vals
    return _rows_to_channels(out, n, c, out_sp), dims


def _bicubic_half(rows, dims, spatial, n, m):
    """Bicubic sampling of half channel rows (N*P, C) as torch's scalar kernel computes half: along x for each of
    the 4 rows of taps, then along y, each product and sum rounded to half, with its coefficient formulas."""
    dy, dx = dims
    cy, cx = _cubic_half(dy.frac), _cubic_half(dx.frac)
    base = np.repeat(np.arange(n, dtype=np.int64) * math.prod(spatial), m)
    out = None
    for i in range(4):
        line = None
        for j in range(4):
            vals = np.take(rows, base + dy.idx[i] * spatial[1] + dx.idx[j], axis=0)
            vals[~(dy.valid[i] & dx.valid[j])] = 0
            vals *= cx[j][:, None]
            line = vals if line is None else np.add(line, vals, out=line)
        line *= cy[i][:, None]
        out = line if out is None else np.add(out, line, out=out)
    return out


def _cubic_half(t):
    """torch's get_cubic_upsample_coefficients in half arithmetic (each operation rounded to half)."""
    h = np.float16
    a = h(CUBIC_A)

    def near(x):
        return ((a + h(2)) * x - (a + h(3))) * x * x + h(1)

    def far(x):
        return ((a * x - h(5) * a) * x + h(8) * a) * x - h(4) * a

    t2 = h(1) - t
    return [far(t + h(1)), near(t), near(t2), far(t2 + h(1))]


def scatter_rows(idx, rows, nrows):
    """(nrows, C) sums of rows (E, C) by destination idx (E,), each destination's rows added in order."""
    out = np.zeros((nrows, rows.shape[1]), rows.dtype)
    add_rows(out, idx, rows, zero=True)
    return out


def grid_sample_backward_array(g, x, grid, dims, mode, need):
    """Gradients wrt input and grid on raw arrays (no graph: the create_graph case uses grid_sample_backward)."""
    n, c = x.shape[:2]
    spatial = tuple(x.shape[2:])
    nd = len(spatial)
    m = math.prod(grid.shape[1:-1])
    p = math.prod(spatial)
    gt = _channel_rows(g, n, c, m)
    want_grid = need[1] and mode != "nearest"
    weights = [_kernel(mode, dm.frac) for dm in dims]
    grads = [_kernel_grad(mode, dm.frac) for dm in dims] if want_grid else None
    xrows = _channel_rows(x, n, c, p) if want_grid else None
    flats, contribs = [], []
    acc = [0] * nd
    for taps, flat, valid in _corners(dims, spatial, n, m):
        if need[0]:  # only in-bounds corners are scattered (the rest would pile onto one row)
            w = _product(weights[d][t] for d, t in enumerate(taps))
            inside = None if valid.all() else np.flatnonzero(valid)
            rows = gt if inside is None else np.take(gt, inside, axis=0)
            if not isinstance(w, int):
                rows = rows * (w if inside is None else w[inside]).astype(gt.dtype, copy=False)[:, None]
            flats.append(flat if inside is None else flat[inside])
            contribs.append(rows)
        if want_grid:
            gv = np.einsum("ij,ij->i", gt, np.take(xrows, flat, axis=0))
            if not valid.all():
                gv[~valid] = 0
            for d in range(nd):
                acc[d] = acc[d] + gv * _product([grads[e][t] if e == d else weights[e][t] for e, t in enumerate(taps)])
    gx = ggrid = None
    if need[0]:
        gx = _rows_to_channels(scatter_rows(np.concatenate(flats), np.concatenate(contribs), n * p), n, c, spatial)
    if need[1]:
        if want_grid:
            ggrid = np.stack([np.asarray(acc[d] * dims[d].mult, x.dtype) for d in reversed(range(nd))], 1)
            ggrid = ggrid.reshape(grid.shape)
        else:
            ggrid = np.zeros(grid.shape, x.dtype)
    return gx, ggrid


class RowGather(Function):
    """rows (E, C) = table (R, C)[idx]; backward is RowScatter."""

    _raw = True
    _node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, table, idx):
        ctx.idx, ctx.nrows = idx, table.shape[0]
        return np.take(table, idx, axis=0)

    @staticmethod
    def backward(ctx, g):
        return RowScatter.apply(g, ctx.idx, ctx.nrows), None


class RowScatter(Function):
    """(nrows, C) sums of rows by destination idx (the adjoint of RowGather); backward is RowGather."""

    _raw = True
    _node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, rows, idx, nrows):
        ctx.idx = idx
        return scatter_rows(idx, rows, nrows)

    @staticmethod
    def backward(ctx, g):
        return RowGather.apply(g, ctx.idx), None, None


def _frac_tensor(dm, gcol):
    """The fraction f as a Tensor: f's values, with derivative d src/d grid wrt the grid column when recording."""
    f = Tensor._make(dm.frac)
    if STATE.enabled and gcol.requires_grad:
        f = f + (gcol - gcol.detach()) * _as_operand(dm.mult, dm.frac.dtype)
    return f


def _as_operand(v, dtype):
    return v if not isinstance(v, np.ndarray) else Tensor._make(v.astype(dtype, copy=False))


def grid_sample_backward(g, x, grid, dims, mode, need):
    """Gradients wrt input and grid, written with ember ops (differentiable again when recording)."""
    n, c = x.shape[:2]
    spatial = tuple(x.shape[2:])
    nd = len(spatial)
    out_sp = tuple(grid.shape[1:-1])
    m = math.prod(out_sp)
    p = math.prod(spatial)
    dt = x._data.dtype
    gt = g.reshape(n, c, m).transpose(1, 2).reshape(n * m, c)
    want_grid = need[1] and mode != "nearest"
    gflat = grid.reshape(n * m, nd)
    fracs = [None if dm.frac is None else _frac_tensor(dm, gflat[:, nd - 1 - d]) for d, dm in enumerate(dims)]
    weights = [_kernel(mode, f) for f in fracs]
    grads = [_kernel_grad(mode, f) for f in fracs] if want_grid else None
    xrows = x.reshape(n, c, p).transpose(1, 2).reshape(n * p, c) if want_grid else None
    flats, contribs = [], []
    acc = [0] * nd
    for taps, flat, valid in _corners(dims, spatial, n, m):
        mask = Tensor._make(valid.astype(dt))
        w = _product([weights[d][t] for d, t in enumerate(taps)] + [mask])
        if need[0]:
            flats.append(flat)
            contribs.append(gt * w.unsqueeze(1))
        if want_grid:
            vals = RowGather.apply(xrows, flat)
            gv = (gt * vals).sum(1) * mask
            for d in range(nd):
                dw = _product([grads[e][t] if e == d else weights[e][t] for e, t in enumerate(taps)])
                acc[d] = acc[d] + gv * dw
    gx = ggrid = None
    if need[0]:
        rows = RowScatter.apply(S.cat(contribs, 0), np.concatenate(flats), n * p)
        gx = rows.reshape(n, p, c).transpose(1, 2).reshape(x.shape)
    if need[1]:
        if want_grid:
            cols = [acc[d] * _as_operand(dims[d].mult, dt) for d in reversed(range(nd))]
            ggrid = S.stack(cols, 1).reshape(grid.shape)
        else:
            ggrid = Tensor._make(np.zeros(grid.shape, dt))
    return gx, ggrid


class GridSample(Function):
    """Fused grid_sample (2-D); backward in ember ops."""

    _raw = True
    _node_name = "GridSampler2DBackward0"

    @staticmethod
    def forward(ctx, x, grid, mode, padding, align_corners):
        out, dims = grid_sample_array(x, grid, mode, padding, align_corners)
        ctx.dims, ctx.mode = dims, mode
        ctx.save_for_backward(x, grid)
        return out

    @staticmethod
    def backward(ctx, g):
        x, grid = ctx.saved_tensors
        if STATE.enabled:
            gx, ggrid = grid_sample_backward(g, x, grid, ctx.dims, ctx.mode, ctx.needs_input_grad)
            return gx, ggrid, None, None, None
        gx, ggrid = grid_sample_backward_array(g._data, x._data, grid._data, ctx.dims, ctx.mode,
                                               ctx.needs_input_grad)
        return tuple(None if a is None else Tensor._make(a) for a in (gx, ggrid)) + (None, None, None)


class GridSample3d(GridSample):
    """grid_sample on 5-D input (trilinear or nearest)."""

    _node_name = "GridSampler3DBackward0"


def grid_sample(x, grid, mode, padding, align_corners):
    """Differentiable grid_sample of x (N, C, *in) at grid (N, *out, nd); inputs already checked. Half precision
    runs in half arithmetic, as torch's scalar kernels; other dtypes in float32, the result (cast back) named as
    the sampler's node."""
    fn = GridSample if x.dim() == 4 else GridSample3d
    if x._data.dtype not in (np.float16, np.float32, np.float64):
        return as_node(fn.apply(x.float(), grid.float(), mode, padding, align_corners).to(x.dtype), fn._node_name)
    return fn.apply(x, grid, mode, padding, align_corners)
