"""Fused scaled dot-product attention: softmax(q k^T * scale + mask) v, with dropout on the weights.

One Function for the whole block; backward computes dq, dk, dv (and the additive mask's gradient)
from the saved weights: dS = P * (dP - sum(dP * P)). With create_graph, backward recomputes the block as
a graph of ember ops instead, so double backward works (as PyTorch's composite CPU path). `safe` gives
fully masked rows zero weights (PyTorch's scaled_dot_product_attention) instead of NaN (a plain
softmax, as in MultiheadAttention's need_weights path).
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._util import sum_to_array
from .dropout import keep_mask


def _softmax_rows(s, safe):
    """Softmax over the last axis, in place in s; fully masked (all -inf) rows give 0 when safe, else NaN."""
    if s.shape[-1] == 0:
        return s
    m = np.max(s, axis=-1, keepdims=True)
    if safe:
        m[~np.isfinite(m)] = 0
    s -= m
    np.exp(s, out=s)
    denom = np.sum(s, axis=-1, keepdims=True)
    if safe:
        denom[denom == 0] = 1
    s /= denom
    return s


class Attention(Function):
    """q, k, v (..., L|S, E); or one packed (3, ..., L, E) q-k-v tensor with k and v None (self-attention,
    whose gradient then comes back as one packed array instead of three to be summed)."""

    _raw = True
    _node_name = "ScaledDotProductAttentionBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, dropout_p, safe):
        ctx.packed = k is None
        saved = (q, mask) if ctx.packed else (q, k, v, mask)
        if ctx.packed:
            q, k, v = q
        dt = q.dtype
        s = np.matmul(q, np.swapaxes(k, -1, -2))
        s *= dt.type(scale)
        if mask is not None:
            np.add(s, mask, out=s)
        p = _softmax_rows(s, safe)
        keep = None
        pd = p
        if dropout_p > 0:
            keep = np.zeros(p.shape, dt) if dropout_p >= 1 else keep_mask(p.shape, dropout_p, dt) / dt.type(
                1 - dropout_p)
            pd = p * keep
        out = np.matmul(pd, v)
        ctx.state = (p, keep, pd, scale, mask.shape if mask is not None else None, safe)
        ctx.save_for_backward(*saved)
        ctx.set_materialize_grads(False)
        return out, pd

    @staticmethod
    def backward(ctx, g_out, g_w):
        saved = ctx.saved_tensors
        p, keep, pd, scale, mask_shape, safe = ctx.state
        need = ctx.needs_input_grad
        if ctx.packed:
            saved = (saved[0], None, None, saved[1])
            need = (need[0],) * 3 + need[3:]
        if STATE.enabled:
            return _graph_backward(saved, keep, scale, safe, need, g_out, g_w, ctx.packed)
        q, k, v = saved[0]._data if ctx.packed else (t._data for t in saved[:3])
        sc = q.dtype.type(scale)
        dqkv = np.empty((3,) + q.shape, q.dtype) if ctx.packed else None
        dv = None
        if g_out is not None:
            go = g_out._data
            if need[2]:
                dv = np.matmul(np.swapaxes(pd, -1, -2), go, out=dqkv[2] if ctx.packed else None)
            dp = np.matmul(go, np.swapaxes(v, -1, -2))
            if g_w is not None:
                dp += g_w._data
        else:
            dp = g_w._data.copy()
            if ctx.packed:
                dqkv[2] = 0
        if keep is not None:
            dp *= keep
        ds = dp
        ds -= np.einsum("...ij,...ij->...i", dp, p)[..., None]
        ds *= p
        dq = dk = None
        if need[0]:
            dq = np.matmul(ds, k, out=dqkv[0] if ctx.packed else None)
            dq *= sc
        if need[1]:
            dk = np.matmul(np.swapaxes(ds, -1, -2), q, out=dqkv[1] if ctx.packed else None)
            dk *= sc
        dmask = Tensor._make(sum_to_array(ds, mask_shape)) if mask_shape is not None and need[3] else None
        if ctx.packed:
            return Tensor._make(dqkv), None, None, dmask, None, None, None
        wrap = lambda g, a: Tensor._make(sum_to_array(g, a.shape)) if g is not None else None  # noqa: E731
        return wrap(dq, q), wrap(dk, k), wrap(dv, v), dmask, None, None, None


def _graph_backward(saved, keep, scale, safe, need, g_out, g_w, packed):
    """Gradients through the block recomputed from ember ops, themselves differentiable (double backward)."""
    from ..autograd import grad as _grad
    from ..autograd.grad_mode import enable_grad
    if packed:
        saved, need = saved[:1] + (None, None) + saved[3:], need[:1] + (False, False) + need[3:]
    with enable_grad():
        qkv = (saved[0][0], saved[0][1], saved[0][2]) if packed else saved[:3]
        out, pd = graph_attention(*qkv, saved[3], scale, keep, safe)
        outs = [(o, g) for o, g in ((out, g_out), (pd, g_w)) if g is not None]
        wanted = [k for k in range(4) if saved[k] is not None and need[k]]
        res = _grad([o for o, _ in outs], [saved[k] for k in wanted], [g for _, g in outs], create_graph=True,
                    allow_unused=True)
    result = [None] * 7
    for k, g in zip(wanted, res):
        result[k] = g
    return tuple(result)


def graph_attention(q, k, v, mask, scale, keep=None, safe=True):
    """The attention block composed of differentiable ember ops (reference semantics of Attention)."""
    s = q.matmul(k.transpose(-1, -2)) * scale
    if mask is not None:
        s = s + mask
    if safe and s.shape[-1]:
        dead = Tensor._make(np.isneginf(s._data).all(-1, keepdims=True))
        s = s.masked_fill(dead, 0.0)
        p = s.softmax(-1).masked_fill(dead, 0.0)
    else:
        p = s.softmax(-1)
    pd = p * Tensor._make(keep) if keep is not None else p
    return pd.matmul(v), pd
