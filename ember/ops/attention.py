"""Fused scaled dot-product attention: softmax(q k^T * scale + mask) v, with dropout on the weights.

One Function for the whole block; backward computes dq, dk, dv (and the additive mask's gradient)
from the saved weights: dS = P * (dP - sum(dP * P)). Double backward raises, as PyTorch's fused
attention kernels do.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, once_differentiable
from .. import random as _random


class Attention(Function):
    _raw = True
    _node_name = "ScaledDotProductAttentionBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, dropout_p):
        s = np.matmul(q, np.swapaxes(k, -1, -2)) * q.dtype.type(scale)
        if mask is not None:
            s = s + mask
        m = np.max(s, axis=-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(s - m)
        denom = np.sum(e, axis=-1, keepdims=True)
        p = e / denom
        keep = None
        if dropout_p > 0:
            keep = (_random.rng(None).random(p.shape) >= dropout_p).astype(p.dtype) / p.dtype.type(1 - dropout_p)
            pd = p * keep
        else:
            pd = p
        out = np.matmul(pd, v)
        ctx.state = (p, keep, scale, mask is not None, mask.shape if mask is not None else None)
        ctx.save_for_backward(q, k, v)
        return out, pd

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_w):
        q, k, v = (t._data for t in ctx.saved_tensors)
        p, keep, scale, has_mask, mask_shape = ctx.state
        go = g_out._data
        pd = p * keep if keep is not None else p
        dv = np.matmul(np.swapaxes(pd, -1, -2), go)
        dpd = np.matmul(go, np.swapaxes(v, -1, -2)) + g_w._data
        dp = dpd * keep if keep is not None else dpd
        ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
        dq = np.matmul(ds, k) * q.dtype.type(scale)
        dk = np.matmul(np.swapaxes(ds, -1, -2), q) * q.dtype.type(scale)
        need = ctx.needs_input_grad
        dmask = None
        if has_mask and need[3]:
            from ._util import sum_to_array
            dmask = Tensor._make(sum_to_array(ds, mask_shape))
        return (Tensor._make(_sum_lead(dq, q.shape)), Tensor._make(_sum_lead(dk, k.shape)),
                Tensor._make(_sum_lead(dv, v.shape)), dmask, None, None)


def _sum_lead(g, shape):
    from ._util import sum_to_array
    return sum_to_array(g, shape)
