"""Fused scaled dot-product attention: softmax(q k^T * scale + mask) v, with dropout on the weights.

One Function for the whole block; backward computes dq, dk, dv (and the additive mask's gradient)
from the saved weights: dS = P * (dP - sum(dP * P)). With create_graph, backward recomputes the block as
a graph of ember ops instead, so double backward works (as PyTorch's composite CPU path). `safe` gives
fully masked rows zero weights (PyTorch's scaled_dot_product_attention) instead of NaN (a plain
softmax, as in MultiheadAttention's need_weights path). Half inputs are computed in float32 and rounded once, as
PyTorch's CPU kernels compute them; FlashAttention also rounds the unnormalised weights to half before the product
with v, as PyTorch's CPU flash kernel does.
"""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._util import sum_to_array
from .activation import exp_sum, row_buffers
from .dropout import keep_mask


_HALF = np.dtype(np.float16)


def _opmath(*arrays):
    """Half arrays as float32 (None passes): the precision PyTorch computes half attention in."""
    return tuple(a if a is None or a.dtype != _HALF else a.astype(np.float32) for a in arrays)


def _softmax_rows(s, safe):
    """Softmax over the last axis (as F.softmax computes it); fully masked (all -inf) rows give 0 when safe, else
    NaN. Such a row's sum of exponentials is NaN, so the row maxima are only taken when some sum is."""
    if s.size == 0:
        return s
    dim = s.ndim - 1
    with row_buffers(s, dim):
        e, total, _ = exp_sum(s, dim)
        np.multiply(e, np.reciprocal(total), out=e)
    if safe and np.isnan(total).any():
        e[np.isneginf(np.max(s, axis=-1))] = 0
    return e


class Attention(Function):
    """q, k, v (..., L|S, E); or one packed (3, ..., L, E) q-k-v tensor with k and v None (self-attention,
    whose gradient then comes back as one packed array instead of three to be summed)."""

    _raw = True
    _node_name = "ScaledDotProductAttentionBackward0"
    _kind = "math"  # PyTorch's path whose arithmetic this follows: "math", "flash" or "ops" (see _scores)

    @classmethod
    def forward(cls, ctx, q, k, v, mask, scale, dropout_p, safe):
        ctx.packed = k is None
        saved = (q, mask) if ctx.packed else (q, k, v, mask)
        dt = q.dtype
        q, mask = _opmath(q, mask)
        if ctx.packed:
            q, k, v = q
        else:
            k, v = _opmath(k, v)
        steps = dt if cls._kind == "ops" else None  # the dtype each step is rounded to, if any
        s = _scores(q, k, mask, scale, cls._kind, steps)
        if cls._kind == "flash" and dt == _HALF and dropout_p == 0:
            out, p = _flash_half(s, v)
            keep, pd = None, p
        else:
            p = _round(_softmax_rows(s, safe), steps)
            keep = None
            pd = p
            if dropout_p > 0:
                keep = np.zeros(p.shape, p.dtype) if dropout_p >= 1 else \
                    keep_mask(p.shape, dropout_p, p.dtype) / p.dtype.type(1 - dropout_p)
                pd = _round(p * keep, steps)
            out = np.matmul(pd, v)
        ctx.state = (p, keep, pd, scale, None if mask is None else (mask.shape, saved[-1].dtype), safe)
        ctx.save_for_backward(*saved)
        ctx.set_materialize_grads(False)
        return out.astype(dt, copy=False), pd.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, g_out, g_w):
        saved = ctx.saved_tensors
        p, keep, pd, scale, mask_meta, safe = ctx.state
        need = ctx.needs_input_grad
        if ctx.packed:
            saved = (saved[0], None, None, saved[1])
            need = (need[0],) * 3 + need[3:]
        if STATE.enabled:
            return _graph_backward(saved, keep, scale, safe, need, g_out, g_w, ctx.packed)
        dt = saved[0]._data.dtype
        q, k, v = _opmath(saved[0]._data)[0] if ctx.packed else _opmath(*(t._data for t in saved[:3]))
        sc = q.dtype.type(scale)
        dqkv = np.empty((3,) + q.shape, q.dtype) if ctx.packed else None
        dv = None
        if g_out is not None:
            go = _opmath(g_out._data)[0]
            if need[2]:
                dv = np.matmul(np.swapaxes(pd, -1, -2), go, out=dqkv[2] if ctx.packed else None)
            dp = np.matmul(go, np.swapaxes(v, -1, -2))
            if g_w is not None:
                dp += g_w._data
        else:
            dp = g_w._data.astype(p.dtype)
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
        dmask = None
        if mask_meta is not None and need[3]:
            dmask = Tensor._make(sum_to_array(ds, mask_meta[0]).astype(mask_meta[1], copy=False))
        if ctx.packed:
            return Tensor._make(dqkv.astype(dt, copy=False)), None, None, dmask, None, None, None
        return _grad_of(dq, q, dt), _grad_of(dk, k, dt), _grad_of(dv, v, dt), dmask, None, None, None


def _grad_of(g, a, dt):
    """Gradient array g summed to a's shape (undoing broadcasting) in dtype dt, as a Tensor (None passes)."""
    return None if g is None else Tensor._make(sum_to_array(g, a.shape).astype(dt, copy=False))


def _scores(q, k, mask, scale, kind, steps):
    """q k^T * scale + mask in the order of PyTorch's path `kind`: the flash kernel scales the product, the math
    path scales q and k by sqrt(|scale|) each (q's factor carrying the sign), MultiheadAttention's ops ("ops")
    scale q; with a `steps` dtype q * scale and the sum are each rounded to it."""
    t = q.dtype.type
    if kind == "flash":
        s = np.matmul(q, np.swapaxes(k, -1, -2))
        s *= t(scale)
    elif kind == "math":
        root = math.sqrt(abs(scale))
        s = np.matmul(q * t(math.copysign(root, scale)), np.swapaxes(k * t(root), -1, -2))
    else:
        s = np.matmul(_round(q * t(scale), steps), np.swapaxes(k, -1, -2))
    if mask is not None:
        np.add(s, mask, out=s)
    return _round(s, steps)


def _round(a, dt):
    """a rounded to dt where dt is given and narrower (half), kept in a's dtype."""
    return a.astype(dt).astype(a.dtype) if dt is not None and dt.itemsize < a.dtype.itemsize else a


class OpsAttention(Attention):
    """Attention as MultiheadAttention's need_weights path composes it from separate ops: q scaled before the
    product, scores and weights each rounded to the input dtype."""

    _kind = "ops"


class FlashAttention(Attention):
    """Attention on the inputs PyTorch's CPU flash kernel takes (4-D, no dropout, ...): its arithmetic for half."""

    _kind = "flash"


def _flash_half(s, v):
    """torch's CPU flash kernel's half arithmetic on float32 scores s: exp(s - max) rounded to half for the product
    with v, divided afterwards by the float32 row sums (fully masked rows give zeros). Returns (out, weights)."""
    m = np.max(s, axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    m[~np.isfinite(m)] = 0
    e = np.exp(s - m)
    denom = np.sum(e, axis=-1, keepdims=True)
    denom[denom == 0] = 1
    out = np.matmul(e.astype(_HALF).astype(np.float32), v)
    out /= denom
    e /= denom
    return out, e


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
