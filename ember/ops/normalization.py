"""The fused normalisation kernels shared by batch, layer, group and instance norm.

_NormFn works on x viewed as `group_shape`: x_hat = (x - mean) / sqrt(var + eps) over `dims` of that view, then
y = x_hat * weight + bias with weight/bias broadcast as `affine_shape` (in the same view). It also returns the
(non-differentiable) mean and biased variance, for running statistics. Backward:
g_x = rstd * (g' - mean(g') - x_hat * mean(g' * x_hat)) with g' = g * weight. With create_graph the backward is
recomposed from ember ops so double backward works.

A pass over the data costs about as much as its arithmetic, so each layout has a kernel that makes few passes and
keeps one full-size array for backward (`saved`): batch norm ((N, C, L), statistics over (0, 2)) keeps the centred
input and runs its elementwise passes block by block, so a block is reused from cache; layer norm ((R, K),
statistics and affine along the last axis) keeps x_hat, and so does the generic kernel (group and instance norm).
Reductions go through einsum's contiguous kernels and BLAS dot products instead of NumPy's strided reductions.
"""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, edge, _wrap, NOT_TENSOR, saved_input
from ..autograd.grad_mode import STATE
from .activation import UFUNC_BUFFER, row_buffers
from ._util import c_einsum, column_sums, row_sums
from ._bits import constant
from .shape import cat

_new = object.__new__
_HALF = np.dtype(np.float16)

_BLOCK = 1 << 17  # elements per block: the few arrays of one block's passes stay in cache between the passes
_ROW_BLOCK, _ROW_WHOLE = 1 << 18, 1 << 21  # layer norm: block size, and the largest input done in one piece
_ROW_SMALL = 1 << 14  # layer norm inputs up to this size take the one-piece kernels (fewer calls than blocking)


def _dsum(a, dims):
    """a.sum(dims, keepdims=True), the last axis reduced by einsum's contiguous kernel (several times faster than
    NumPy's strided reduction, and single-threaded, unlike a BLAS matrix-vector product)."""
    last = a.ndim - 1
    if last not in dims:
        return a.sum(axis=dims, keepdims=True)
    s = np.einsum("...i->...", a)[..., None]
    rest = tuple(d for d in dims if d != last)
    return s.sum(axis=rest, keepdims=True) if rest else s


def _blocks(n, inner, size=None):
    """Slices of an axis of length n into blocks of about `size` (_BLOCK) elements, given `inner` per index."""
    step = max(1, (size or _BLOCK) // max(inner, 1))
    return [slice(i, i + step) for i in range(0, n, step)]


def _channel_sum(a, b=None):
    """sum(a), or sum(a * b) without forming the product, over axes 0 and 2 of (N, C, L) arrays: BLAS dots along
    long rows; short rows leave many terms to add one after another, so they accumulate in float64 (as PyTorch's
    CPU kernels accumulate)."""
    if a.shape[2] >= 128:
        return np.einsum("ncl->c", a) if b is None else np.vecdot(a, b).sum(0)
    if b is None:
        return np.einsum("ncl->c", a, dtype=np.float64).astype(a.dtype)
    return np.einsum("ncl,ncl->c", a, b, dtype=np.float64).astype(a.dtype)


class _RowVector:
    """A (K,) vector to combine with (R, K) arrays, also tiled q times: q rows at a time then form one row of q * K
    elements, so NumPy's inner loop runs as long as for same-shape operands (~30% faster)."""

    def __init__(self, v):
        self.v = v.reshape(-1)
        k = self.v.shape[0]
        self.q = UFUNC_BUFFER // k if k else 0
        self.tiled = None  # built on first use: most calls on small inputs never tile

    def apply(self, ufunc, a, out):
        """ufunc(a, v, out=out)."""
        r, k = a.shape
        q = self.q
        if q < 2 or r < q or not (a.flags.c_contiguous and out.flags.c_contiguous):
            return ufunc(a, self.v, out=out)
        if self.tiled is None:
            self.tiled = np.tile(self.v, q)
        m = r // q * q
        ufunc(a[:m].reshape(-1, q * k), self.tiled, out=out[:m].reshape(-1, q * k))
        if m < r:
            ufunc(a[m:], self.v, out=out[m:])
        return out


_CHANNEL_SMALL = 1 << 13  # batch norm inputs up to this size take _Channel.forward_small
_ZERO_RESIDS = {}


def _zero_resid(c, dt):
    """A cached read-only (1, c, 1) zero residual mean of dtype dt."""
    z = _ZERO_RESIDS.get((c, dt))
    if z is None:
        z = _ZERO_RESIDS[(c, dt)] = np.zeros((1, c, 1), dt)
        z.flags.writeable = False
    return z


class _Channel:
    """Batch norm on (N, C, L), statistics over (0, 2) and affine parameters per channel. Saves xc = x - mean0,
    centred on a first float32 mean; the mean of xc (what that mean's rounding left, summed over small centred
    values) corrects mean, var, y and the gradients without another pass (the corrected two-pass algorithm)."""

    @staticmethod
    def forward(x3, w, b, eps, dims, affine_shape):
        if x3.size <= _CHANNEL_SMALL:
            return _Channel.forward_small(x3, w, b, eps)
        n, c, l = x3.shape
        count = max(n * l, 1)
        mean0 = (_channel_sum(x3) / count).reshape(1, c, 1)
        xc = np.empty_like(x3)
        sq = np.zeros(c)
        lin = np.zeros(c)
        blocks = _blocks(n, c * l)
        with row_buffers(x3):
            for s in blocks:
                blk = np.subtract(x3[s], mean0, out=xc[s])
                sq += _channel_sum(blk, blk)
                lin += _channel_sum(blk)
        lin /= count
        resid = lin.astype(x3.dtype).reshape(1, c, 1)
        var = (sq / count - lin * lin).astype(x3.dtype).reshape(1, c, 1)
        rstd = 1.0 / np.sqrt(var + eps)
        scale = rstd * w.reshape(1, c, 1) if w is not None else rstd
        shift = -resid * scale if b is None else b.reshape(1, c, 1) - resid * scale
        y = np.empty_like(x3)
        with row_buffers(x3):
            for s in blocks:
                blk = np.multiply(xc[s], scale, out=y[s])
                blk += shift
        return y, (xc, resid), mean0 + resid, var, rstd

    @staticmethod
    def forward_small(x3, w, b, eps):
        """forward for small inputs, in fewer NumPy calls: the statistics from one float64 copy (exact centring,
        so the saved residual mean is zero)."""
        n, c, l = x3.shape
        count = max(n * l, 1)
        x64 = x3.astype(np.float64)
        mean = np.einsum("ncl->c", x64)
        mean /= count
        xc64 = np.subtract(x64, mean.reshape(1, c, 1), out=x64)
        var = np.einsum("ncl,ncl->c", xc64, xc64)
        var /= count
        dt = x3.dtype
        mean, var = mean.astype(dt).reshape(1, c, 1), var.astype(dt).reshape(1, c, 1)
        rstd = 1.0 / np.sqrt(var + eps)
        scale = rstd * w.reshape(1, c, 1) if w is not None else rstd
        xc = xc64.astype(dt)
        y = np.multiply(xc, scale)
        if b is not None:
            y += b.reshape(1, c, 1)
        return y, (xc, _zero_resid(c, dt)), mean, var, rstd

    @staticmethod
    def backward(g3, saved, rstd, w, gx, dims, affine_shape, need_w, need_b):
        """PyTorch's form: g_x = (g - mean(g) - (x - mean) * rstd * mean(g * x_hat)) * rstd * w, into gx."""
        xc, resid = saved
        n, c, l = xc.shape
        count = max(n * l, 1)
        gsum = _channel_sum(g3)
        gdot = (_channel_sum(g3, xc) - resid.reshape(c) * gsum) * rstd.reshape(c)  # sum(g * x_hat): dweight
        k_xc = (-gdot / count).reshape(1, c, 1) * rstd
        k_const = (-gsum / count).reshape(1, c, 1) - resid * k_xc
        scale = rstd * w.reshape(1, c, 1) if w is not None else rstd
        with row_buffers(xc):
            for s in _blocks(n, c * l):
                blk = np.multiply(xc[s], k_xc, out=gx[s])
                blk += k_const
                blk += g3[s]
                blk *= scale
        return gdot, gsum


class _Row:
    """Layer norm on (R, K), statistics and affine parameters along the last axis; saves x_hat. Inputs too large
    for the cache go in blocks of rows, so each block's passes reuse it from cache."""

    @staticmethod
    def forward(x2, w, b, eps, dims, affine_shape):
        if x2.size <= _ROW_SMALL:
            return _Row._forward_small(x2, w, b, eps)
        r, k = x2.shape
        xhat, y = np.empty_like(x2), np.empty_like(x2)
        mean, var, rstd = (np.empty((r, 1), x2.dtype) for _ in range(3))
        wv = _RowVector(w) if w is not None else None
        bv = _RowVector(b) if b is not None else None
        with row_buffers(x2):
            for s in _row_blocks(x2):
                _Row._forward_block(x2[s], wv, bv, eps, xhat[s], y[s], mean[s], var[s], rstd[s])
        return y, xhat, mean, var, rstd

    @staticmethod
    def _forward_small(x, w, b, eps):
        """_forward_block's arithmetic in fresh arrays: on small inputs the per-call costs of blocking and of tiled
        affine parameters exceed the arithmetic."""
        xhat, mean, var, rstd = _small_row_stats(x, eps)
        if w is not None:
            y = xhat * w.reshape(-1)
            if b is not None:
                y += b.reshape(-1)
        else:
            y = xhat + b.reshape(-1) if b is not None else xhat.copy()
        return y, xhat, mean, var, rstd

    @staticmethod
    def _forward_block(x, w, b, eps, xhat, y, mean, var, rstd):
        _row_stats(x, eps, xhat, mean, var, rstd)
        if w is not None:
            w.apply(np.multiply, xhat, y)
            if b is not None:
                b.apply(np.add, y, y)
        elif b is not None:
            b.apply(np.add, xhat, y)
        else:
            np.copyto(y, xhat)

    @staticmethod
    def backward(g2, xhat, rstd, w, gx, dims, affine_shape, need_w, need_b):
        if xhat.size <= _ROW_SMALL:
            return _Row._backward_small(g2, xhat, rstd, w, gx, need_w, need_b)
        k = xhat.shape[1]
        wv = _RowVector(w) if w is not None else None
        gw = np.zeros(k, xhat.dtype) if need_w else None
        gb = np.zeros(k, xhat.dtype) if need_b else None
        blocks = _row_blocks(xhat)
        tmp = np.empty_like(xhat[blocks[0]])
        with row_buffers(xhat):
            for s in blocks:
                g, xh = g2[s], xhat[s]
                if need_w:
                    gw += np.einsum("rk,rk->k", g, xh)
                if need_b:
                    gb += column_sums(g)
                _Row._backward_block(g, xh, rstd[s], wv, gx[s], tmp[:g.shape[0]])
        return gw, gb

    @staticmethod
    def _backward_small(g, xhat, rstd, w, gx, need_w, need_b):
        """backward's arithmetic on a small input, in one piece."""
        gw = column_sums(np.multiply(g, xhat)) if need_w else None
        gb = column_sums(g) if need_b else None
        if w is not None:
            np.multiply(g, w.reshape(-1), out=gx)
        else:
            np.copyto(gx, g)
        _small_row_input_grad(gx, xhat, rstd)
        return gw, gb

    @staticmethod
    def _backward_block(g, xhat, rstd, w, gx, tmp):
        """g_x = rstd * (g' - mean(g') - x_hat * mean(g' * x_hat)), g' = g * w, into gx."""
        if w is not None:
            w.apply(np.multiply, g, gx)
        else:
            np.copyto(gx, g)
        _row_input_grad(gx, xhat, rstd, tmp)


def _row_stats(x, eps, xhat=None, mean=None, var=None, rstd=None):
    """Statistics of each row of (R, K) x as (R, 1) arrays, and x_hat = (x - mean) * rstd, into the given arrays
    (new ones where None); returns (xhat, mean, var, rstd)."""
    k = max(x.shape[1], 1)
    mean = np.divide(c_einsum("rk->r", x)[:, None], k, out=mean)
    xhat = np.subtract(x, mean, out=xhat)
    var = np.divide(np.vecdot(xhat, xhat)[:, None], k, out=var)
    rstd = np.divide(1.0, np.sqrt(var + eps), out=rstd)
    xhat *= rstd
    return xhat, mean, var, rstd


def _small_row_stats(x, eps):
    """_row_stats of a small (R, K) x by row_sums' BLAS products; for rows up to FULL_ROW_SUMS_MAX long the row
    means come repeated along the rows, so every step is a same-shape ufunc. mean and var are (R, 1); rstd is (R, K)
    or (R, 1)."""
    inv_k = 1 / max(x.shape[1], 1)
    mean = row_sums(x, True, inv_k)
    xhat = np.subtract(x, mean)
    var = row_sums(np.multiply(xhat, xhat), True, inv_k)
    rstd = np.add(var, constant(eps, var.dtype))
    np.sqrt(rstd, out=rstd)
    np.reciprocal(rstd, out=rstd)
    xhat *= rstd
    return xhat, mean[:, :1], var[:, :1], rstd


def _small_row_input_grad(gp, xhat, rstd):
    """_row_input_grad of a small input, in place: gp <- rstd * (gp - mean(gp) - x_hat * mean(gp * x_hat)), the
    row means by row_sums as in _small_row_stats."""
    inv_k = 1 / max(xhat.shape[1], 1)
    tmp = np.multiply(gp, xhat)
    np.multiply(xhat, row_sums(tmp, True, inv_k), out=tmp)
    tmp += row_sums(gp, True, inv_k)
    gp -= tmp
    gp *= rstd


def _row_input_grad(gp, xhat, rstd, tmp):
    """In place, gp <- rstd * (gp - mean(gp) - x_hat * mean(gp * x_hat)) along the rows of (R, K) arrays."""
    k = max(xhat.shape[1], 1)
    gp_mean = c_einsum("rk->r", gp)[:, None] / k
    gp -= np.multiply(xhat, np.vecdot(gp, xhat)[:, None] / k, out=tmp)
    gp -= gp_mean
    gp *= rstd


def _group_rows(v, group_shape):
    """Per-channel v as the (G, C/G * L) rows it meets in (N, G, C/G * L) data: long same-shape inner loops, ~40%
    faster than broadcasting (1, C, 1) along L (the copy costs 1/N of a pass)."""
    _, groups, cg, l = group_shape
    return np.repeat(v.reshape(groups, cg), l, axis=1)


class _Group:
    """Group norm on (N, G, C/G, L), statistics over (2, 3), affine parameters per channel: the row kernel's
    statistics on (N * G, C/G * L) rows, and the affine step on (N, C, L). Saves x_hat."""

    @staticmethod
    def forward(xv, w, b, eps, dims, affine_shape):
        n, groups, cg, l = xv.shape
        x2 = xv.reshape(n * groups, cg * l)
        xhat = np.empty_like(x2)
        mean, var, rstd = (np.empty((n * groups, 1), xv.dtype) for _ in range(3))
        with row_buffers(x2):
            _row_stats(x2, eps, xhat, mean, var, rstd)
        xg = xhat.reshape(n, groups, cg * l)
        if w is not None:
            y = np.multiply(xg, _group_rows(w, xv.shape))
            if b is not None:
                y += _group_rows(b, xv.shape)
        elif b is not None:
            y = np.add(xg, _group_rows(b, xv.shape))
        else:
            y = xg.copy()
        shape4 = (n, groups, 1, 1)
        return y.reshape(xv.shape), xhat, mean.reshape(shape4), var.reshape(shape4), rstd

    @staticmethod
    def backward(gd, xhat, rstd, w, gx, dims, affine_shape, need_w, need_b):
        n, groups, cg, l = gd.shape
        g3, xhat3, gx3 = (a.reshape(n, groups * cg, l) for a in (gd, xhat, gx))
        gw = _channel_sum(g3, xhat3).reshape(affine_shape) if need_w else None
        gb = _channel_sum(g3).reshape(affine_shape) if need_b else None
        if w is not None:
            np.multiply(gd.reshape(n, groups, cg * l), _group_rows(w, gd.shape), out=gx.reshape(n, groups, cg * l))
        else:
            np.copyto(gx3, g3)
        gx2 = gx.reshape(n * groups, cg * l)
        with row_buffers(gx2):
            _row_input_grad(gx2, xhat, rstd, np.empty_like(gx2))
        return gw, gb


def _row_blocks(a):
    """Row slices of (R, K) `a`: the whole array when it fits in cache, else blocks of about _ROW_BLOCK elements."""
    r, k = a.shape
    if a.size <= _ROW_WHOLE:
        return [slice(0, r)]
    return _blocks(r, k, _ROW_BLOCK)


class _Generic:
    """Any other grouping (group and instance norm), by keepdims reductions over `dims`; saves x_hat."""

    @staticmethod
    def forward(xv, w, b, eps, dims, affine_shape):
        n = max(math.prod(xv.shape[d] for d in dims), 1)
        mean = _dsum(xv, dims) / n
        xhat = np.subtract(xv, mean)
        y = np.multiply(xhat, xhat)
        var = _dsum(y, dims) / n
        rstd = 1.0 / np.sqrt(var + eps)
        xhat *= rstd
        if w is not None:
            np.multiply(xhat, w.reshape(affine_shape), out=y)
            if b is not None:
                y += b.reshape(affine_shape)
        elif b is not None:
            np.add(xhat, b.reshape(affine_shape), out=y)
        else:
            np.copyto(y, xhat)
        return y, xhat, mean, var, rstd

    @staticmethod
    def backward(gd, xhat, rstd, w, gx, dims, affine_shape, need_w, need_b):
        n = max(math.prod(gd.shape[d] for d in dims), 1)
        red = tuple(i for i, sz in enumerate(affine_shape) if sz == 1)
        prod = np.multiply(gd, xhat)
        gw = _dsum(prod, red) if need_w else None
        gb = _dsum(gd, red) if need_b else None
        gp = np.multiply(gd, w.reshape(affine_shape)) if w is not None else gd
        gp_sum = _dsum(gp, dims)
        np.multiply(gp, xhat, out=prod)
        gpx_sum = _dsum(prod, dims)
        np.multiply(xhat, gpx_sum * (rstd / n), out=prod)
        np.multiply(gp, rstd, out=gx)
        gx -= prod
        gx -= gp_sum * (rstd / n)
        return gw, gb


def _kernel(group_shape, dims, affine_shape):
    """The kernel class for a grouping (see the module docstring)."""
    if len(group_shape) == 3 and tuple(dims) == (0, 2) and affine_shape[0] == affine_shape[2] == 1:
        return _Channel
    if len(group_shape) == 2 and tuple(dims) == (1,) and affine_shape[0] == 1:
        return _Row
    if len(group_shape) == 4 and tuple(dims) == (2, 3) and affine_shape[0] == affine_shape[3] == 1:
        return _Group
    return _Generic


class _NormFn(Function):
    _raw = True
    _materialize = False  # mean and var are non-differentiable: backward takes None for their gradients

    @staticmethod
    def forward(ctx, x, w, b, group_shape, dims, eps, affine_shape):
        ctx.save_for_backward(x, w)
        dt = x.dtype
        ctx.dtypes = (dt, None if w is None else w.dtype, None if b is None else b.dtype)
        half = dt == _HALF
        if half:  # torch's CPU kernels normalise half in float32 (its opmath), rounding the output once
            x, w, b = (None if a is None else a.astype(np.float32) for a in (x, w, b))
        xv = x.reshape(group_shape)
        kernel = _kernel(group_shape, dims, affine_shape)
        out, saved, mean, var, rstd = kernel.forward(xv, w, b, eps, dims, affine_shape)
        ctx.geom = (xv.shape, dims, eps, affine_shape, kernel)
        ctx.shapes = (None if w is None else w.shape, None if b is None else b.shape)
        ctx.rstd, ctx.saved = rstd, saved
        ctx.mark_non_differentiable(mean, var)
        out = out.reshape(x.shape)
        return (out.astype(dt) if half else out), mean, var

    @staticmethod
    def backward(ctx, g, _gm, _gv):
        group_shape, dims, eps, affine_shape, kernel = ctx.geom
        w_shape, b_shape = ctx.shapes
        if STATE.enabled:
            return _norm_backward_graph(ctx, g, *ctx.saved_tensors) + (None,) * 4
        x, wd = ctx.saved_arrays()
        need_w = wd is not None and ctx.needs_input_grad[1]
        need_b = b_shape is not None and ctx.needs_input_grad[2]
        gd = g._data
        if ctx.dtypes[0] == _HALF:
            gd, wd = gd.astype(np.float32), None if wd is None else wd.astype(np.float32)
        gx = np.empty(x.shape, ctx.rstd.dtype)  # owns its memory, so the engine can make it .grad uncopied
        gw, gb = kernel.backward(gd.reshape(group_shape), ctx.saved, ctx.rstd, wd, gx.reshape(group_shape), dims,
                                 affine_shape, need_w, need_b)
        dx, dw, db = ctx.dtypes
        return (Tensor._make(gx.astype(dx, copy=False)), Tensor._make(gw.reshape(w_shape).astype(dw, copy=False))
                if need_w else None, Tensor._make(gb.reshape(b_shape).astype(db, copy=False)) if need_b else None,
                None, None, None, None)


def _norm_backward_graph(ctx, g, x, w):
    """The backward as ember ops (for create_graph): recomputes the statistics from x."""
    group_shape, dims, eps, affine_shape, _ = ctx.geom
    red = tuple(i for i, sz in enumerate(affine_shape) if sz == 1)
    w_shape, b_shape = ctx.shapes
    need = ctx.needs_input_grad
    xv = x.reshape(group_shape)
    xc = xv - xv.mean(dims, keepdim=True)
    rstd = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    xhat = xc * rstd
    gv = g.reshape(group_shape)
    gp = gv * w.reshape(affine_shape) if w is not None else gv
    gx = rstd * (gp - gp.mean(dims, keepdim=True) - xhat * (gp * xhat).mean(dims, keepdim=True))
    gw = (gv * xhat).sum(red).reshape(w_shape) if w is not None and need[1] else None
    gb = gv.sum(red).reshape(b_shape) if b_shape is not None and need[2] else None
    return gx.reshape(x.shape), gw, gb


def norm_output(cls, x, w, b, group_shape, dims, eps, affine_shape):
    """cls.apply(...)[0] for plain calls (fast paths): the statistics outputs 1 and 2, which the callers drop, are
    recorded in the node's output metadata only, not built as tensors."""
    return norm_outputs(cls, x, w, b, group_shape, dims, eps, affine_shape)[0]


def norm_outputs(cls, x, w, b, group_shape, dims, eps, affine_shape):
    """norm_output's tensor and the statistics as arrays (mean, var): what batch norm's running update reads."""
    ctx = _new(cls._backward_cls)
    out, mean, var = cls.forward(ctx, x._data, None if w is None else w._data, None if b is None else b._data,
                                 group_shape, dims, eps, affine_shape)
    if not (STATE.enabled and (x._rg or w is not None and w._rg or b is not None and b._rg)):
        return _wrap(out), mean, var
    del ctx._to_save
    ctx._non_diff = ()
    ctx._edges = [edge(x), NOT_TENSOR if w is None else edge(w), NOT_TENSOR if b is None else edge(b),
                  NOT_TENSOR, NOT_TENSOR, NOT_TENSOR, NOT_TENSOR]
    t = ctx._output_tensor(out)
    ctx._saved = [saved_input(x), None if w is None else saved_input(w)]
    ctx._out_meta = (ctx._out_meta[0], (mean.shape, mean.dtype), (var.shape, var.dtype))
    return t, mean, var


class BatchNormFn(_NormFn):
    _node_name = "NativeBatchNormBackward0"


class LayerNormFn(_NormFn):
    _node_name = "NativeLayerNormBackward0"


class GroupNormFn(_NormFn):
    _node_name = "NativeGroupNormBackward0"


class BatchNormEval(Function):
    """Batch norm with given (running) statistics: y = (x - mean) * rstd * weight + bias."""

    _raw = True
    _node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, mean, var, w, b, eps):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        ctx.save_for_backward(x, mean, w)
        ctx.has = (w is not None, b is not None)
        dt = x.dtype
        if dt == _HALF:  # in float32, rounded once (torch's opmath)
            x, mean, var, w, b = (None if a is None else a.astype(np.float32) for a in (x, mean, var, w, b))
        rstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(shape)
        xhat = (x - mean.reshape(shape)) * rstd
        ctx.rstd, ctx.shape = rstd.astype(dt, copy=False), shape
        out = xhat * w.reshape(shape) if w is not None else xhat
        out = out + b.reshape(shape) if b is not None else out
        return out.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, mean, w = ctx.saved_tensors
        shape, rstd = ctx.shape, Tensor._make(ctx.rstd)
        has_w, has_b = ctx.has
        red = (0,) + tuple(range(2, g.dim()))
        scale = rstd * w.reshape(shape) if has_w else rstd
        gw = (g * (x - mean.reshape(shape)) * rstd).sum(red) if has_w and ctx.needs_input_grad[3] else None
        gb = g.sum(red) if has_b and ctx.needs_input_grad[4] else None
        return g * scale, None, None, gw, gb, None


class CrossMapLRN(Function):
    """Legacy CrossMapLRN2d: PyTorch's running-window forward (channel 0 never leaves the window) and its own
    hand-written backward (an offset window over g * out / scale), reproduced as they are."""

    _raw = True
    _node_name = "CrossMapLRN2dBackward"

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        c = x.shape[1]
        pre_pad = int((size - 1) / 2 + 1)
        sq = x * x
        csum = np.concatenate([np.zeros_like(sq[:, :1]), np.cumsum(sq, axis=1)], axis=1)
        ch = np.arange(c)
        lo = np.maximum(ch - pre_pad + 1, 1)
        dropped = (csum[:, lo] - csum[:, 1:2]) * (ch - pre_pad >= 1).reshape(1, -1, 1, 1)
        scale = (csum[:, np.minimum(ch + pre_pad, c)] - dropped) * (alpha / size) + k
        out = (x * scale ** -beta).astype(x.dtype, copy=False)
        ctx.scale, ctx.args = scale.astype(x.dtype, copy=False), (size, alpha, beta)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        size, alpha, beta = ctx.args
        scale = Tensor._make(ctx.scale)
        c = x.shape[1]
        inv_pre_pad = int(size - (size - 1) / 2)
        ratio = g * out / scale
        csum = cat([ratio.narrow(1, 0, 1) * 0, ratio.cumsum(1)], 1)
        ch = np.arange(c)
        hi = Tensor._make(np.minimum(ch + size - inv_pre_pad, c))
        lo = Tensor._make(np.maximum(ch - inv_pre_pad, 0))
        accum = csum.index_select(1, hi) - csum.index_select(1, lo)
        return g * scale.pow(-beta) - x * accum * (2 * alpha * beta / size), None, None, None, None
