"""The fused normalisation kernel shared by batch, layer, group and instance norm.

Forward: x_hat = (x - mean) / sqrt(var + eps) over `dims` of x viewed as `group_shape`, then
y = x_hat * weight + bias with weight/bias broadcast as the full-rank `affine_shape`. Also returns the
(non-differentiable) mean and biased variance, for running statistics. Backward:
g_x = rstd * (g' - mean(g') - x_hat * mean(g' * x_hat)) with g' = g * weight. With create_graph the
backward is recomposed from ember ops so double backward works.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE


class _NormFn(Function):
    _raw = True

    @staticmethod
    def forward(ctx, x, w, b, group_shape, dims, eps, affine_shape):
        xv = x.reshape(group_shape)
        mean = xv.mean(axis=dims, keepdims=True, dtype=x.dtype)
        xc = xv - mean
        var = np.mean(xc * xc, axis=dims, keepdims=True, dtype=x.dtype)
        rstd = 1.0 / np.sqrt(var + eps)
        xhat = (xc * rstd).reshape(x.shape)
        out = xhat
        if w is not None:
            out = out * w.reshape(affine_shape)
        if b is not None:
            out = out + b.reshape(affine_shape)
        ctx.geom = (group_shape, dims, eps, affine_shape, w is not None, b is not None)
        ctx.b_shape = b.shape if b is not None else None
        ctx.rstd, ctx.xhat = rstd, xhat
        ctx.save_for_backward(x, w)
        ctx.mark_non_differentiable(mean, var)
        return out, mean, var

    @staticmethod
    def backward(ctx, g, _gm, _gv):
        group_shape, dims, eps, affine_shape, has_w, has_b = ctx.geom
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        red = tuple(i for i, s in enumerate(affine_shape) if s == 1)
        if STATE.enabled:
            xv = x.reshape(group_shape)
            xc = xv - xv.mean(dims, keepdim=True)
            rstd = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
            xhat_v = xc * rstd
            gp = (g * w.reshape(affine_shape) if has_w else g).reshape(group_shape)
            gx = rstd * (gp - gp.mean(dims, keepdim=True) - xhat_v * (gp * xhat_v).mean(dims, keepdim=True))
            gx = gx.reshape(x.shape)
            xhat = xhat_v.reshape(x.shape)
            gw = (g * xhat).sum(red).reshape(w.shape) if has_w and need[1] else None
            gb = g.sum(red).reshape(ctx.b_shape) if has_b and need[2] else None
            return gx, gw, gb, None, None, None, None
        gd, xhat = g._data, ctx.xhat
        gp = (gd * w._data.reshape(affine_shape) if has_w else gd).reshape(group_shape)
        xhat_v = xhat.reshape(group_shape)
        gx = ctx.rstd * (gp - gp.mean(axis=dims, keepdims=True) -
                         xhat_v * (gp * xhat_v).mean(axis=dims, keepdims=True))
        gx = Tensor._make(gx.reshape(x.shape).astype(gd.dtype, copy=False))
        gw = Tensor._make((gd * xhat).sum(axis=red).reshape(w.shape)) if has_w and need[1] else None
        gb = Tensor._make(gd.sum(axis=red).reshape(ctx.b_shape)) if has_b and need[2] else None
        return gx, gw, gb, None, None, None, None


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
