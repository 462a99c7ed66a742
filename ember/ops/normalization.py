"""The fused normalisation kernels shared by batch, layer, group and instance norm.

_NormFn works on x viewed as `group_shape`: x_hat = (x - mean) / sqrt(var + eps) over `dims` of that view, then
y = x_hat * weight + bias with weight/bias broadcast as `affine_shape` (in the same view). It also returns the
(non-differentiable) mean and biased variance, for running statistics. Backward:
g_x = rstd * (g' - mean(g') - x_hat * mean(g' * x_hat)) with g' = g * weight. When the affine parameters are
constant over each normalised group (batch norm: the weight/bias sums are the same reductions), those sums are
shared. With create_graph the backward is recomposed from ember ops so double backward works.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from .shape import cat


def _dsum(a, dims):
    """a.sum(dims, keepdims=True), the last axis reduced by einsum's contiguous kernel (several times faster than
    NumPy's strided reduction, and single-threaded, unlike a BLAS matrix-vector product)."""
    last = a.ndim - 1
    if last not in dims:
        return a.sum(axis=dims, keepdims=True)
    s = np.einsum("...i->...", a)[..., None]
    rest = tuple(d for d in dims if d != last)
    return s.sum(axis=rest, keepdims=True) if rest else s


class _NormFn(Function):
    _raw = True

    @staticmethod
    def forward(ctx, x, w, b, group_shape, dims, eps, affine_shape):
        xv = x.reshape(group_shape)
        n = max(int(np.prod([xv.shape[d] for d in dims])), 1)
        mean = _dsum(xv, dims) / n
        xhat = np.subtract(xv, mean)
        buf = np.multiply(xhat, xhat)
        var = _dsum(buf, dims) / n
        rstd = 1.0 / np.sqrt(var + eps)
        np.multiply(xhat, rstd, out=xhat)
        if w is not None:
            out = np.multiply(xhat, w.reshape(affine_shape), out=buf)
            if b is not None:
                out += b.reshape(affine_shape)
        elif b is not None:
            out = np.add(xhat, b.reshape(affine_shape), out=buf)
        else:
            out = xhat.copy()
        red = tuple(i for i, sz in enumerate(affine_shape) if sz == 1)
        ctx.geom = (xv.shape, dims, eps, affine_shape, red, n)
        ctx.shapes = (w.shape if w is not None else None, b.shape if b is not None else None)
        ctx.rstd, ctx.xhat = rstd, xhat
        ctx.save_for_backward(x, w)
        ctx.mark_non_differentiable(mean, var)
        return out.reshape(x.shape), mean, var

    @staticmethod
    def backward(ctx, g, _gm, _gv):
        group_shape, dims, eps, affine_shape, red, n = ctx.geom
        w_shape, b_shape = ctx.shapes
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        if STATE.enabled:
            return _norm_backward_graph(ctx, g, x, w) + (None,) * 4
        gd = g._data.reshape(group_shape)
        xhat, rstd = ctx.xhat, ctx.rstd
        wb = w._data.reshape(affine_shape) if w is not None else None
        if red == tuple(dims):
            # Batch norm: the stats reductions are the affine ones, so sum(g) and sum(g * x_hat) serve both.
            gsum = _dsum(gd, dims)
            prod = np.multiply(gd, xhat)
            gxsum = _dsum(prod, dims)
            scale = rstd * wb if wb is not None else rstd
            gx = np.multiply(xhat, gxsum * (scale / n), out=prod)
            np.subtract(gd * scale, gx, out=gx)
            gx -= gsum * (scale / n)
            gw = gxsum.reshape(w_shape) if w is not None and need[1] else None
            gb = gsum.reshape(b_shape) if b_shape is not None and need[2] else None
        else:
            gw = _dsum(np.multiply(gd, xhat), red).reshape(w_shape) if w is not None and need[1] else None
            gb = _dsum(gd, red).reshape(b_shape) if b_shape is not None and need[2] else None
            gp = np.multiply(gd, wb) if wb is not None else gd.copy()
            gpsum = _dsum(gp, dims)
            prod = np.multiply(gp, xhat)
            gpxsum = _dsum(prod, dims)
            gx = np.multiply(xhat, gpxsum * (rstd / n), out=prod)
            gp *= rstd
            np.subtract(gp, gx, out=gx)
            gx -= gpsum * (rstd / n)
        gx = Tensor._make(gx.reshape(x.shape).astype(gd.dtype, copy=False))
        return (gx, None if gw is None else Tensor._make(gw), None if gb is None else Tensor._make(gb),
                None, None, None, None)


def _norm_backward_graph(ctx, g, x, w):
    """The backward as ember ops (for create_graph): recomputes the statistics from x."""
    group_shape, dims, eps, affine_shape, red, n = ctx.geom
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
        rstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(shape)
        xhat = (x - mean.reshape(shape)) * rstd
        ctx.rstd, ctx.shape = rstd, shape
        ctx.has = (w is not None, b is not None)
        ctx.save_for_backward(x, mean, w)
        out = xhat * w.reshape(shape) if w is not None else xhat
        return out + b.reshape(shape) if b is not None else out

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
