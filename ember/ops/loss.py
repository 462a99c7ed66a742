"""Fused loss kernels: negative log-likelihood, cross-entropy on class indices, binary cross-entropy, CTC."""
import functools

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as E
from ._util import sum_to, vector_sum
from .activation import Softmax, exp_sum, row_buffers, _log1p
from ._bits import clip
from ..autograd.grad_mode import STATE

_INF = float("inf")


def _targets(target, ignore_index, c, batched):
    """(safe targets, kept mask) as 1-D arrays; torch's IndexError for a class out of range. The mask is None when
    every target is kept: batched int64 targets all in [0, c) while ignore_index is not."""
    if batched and target.dtype == np.int64 and not 0 <= ignore_index < c and _classes_in_range(target, c):
        return target, None
    valid = target != ignore_index
    safe_t = np.where(valid, target, 0)
    bad = (safe_t < 0) | (safe_t >= c)
    if bad.any():
        raise IndexError(f"Target {safe_t[bad][0]} is out of bounds.")
    return (safe_t, valid) if batched else (safe_t[None], valid[None])


def _classes_in_range(target, c):
    """Whether every int64 target is in [0, c): a few values compared in Python, more as one NumPy max of the
    values read as unsigned (negative ones are then out of range too)."""
    if target.size <= 64:
        v = target.tolist()
        return not v or (min(v) >= 0 and max(v) < c)
    return np.maximum.reduce(target.view(np.uint64)) < c


_ROWS = np.arange(64)
_ROWS.flags.writeable = False


def _rows(n):
    """np.arange(n), a shared read-only one for small n (the row index of a class pick)."""
    return _ROWS[:n] if n <= 64 else np.arange(n)


def _nll_forward(ctx, losses, st, vm, weight, reduction, dtype, shape, batched):
    """w[t] * losses per position (losses: -logp[t]), reduced; remembers what _nll_coef needs (w None: every
    weight is 1)."""
    if vm is None and weight is None:
        ctx.geom, ctx.out_dtype = (shape, st, None, None, reduction, batched), dtype
        if reduction == "none":
            return losses
        total = vector_sum(losses)
        if reduction == "sum":
            return np.asarray(total, dtype)
        ctx.wsum = dtype.type(len(st))
        return np.asarray(total / ctx.wsum, dtype)
    if vm is None:
        vm = np.ones(len(st), bool)
    w = (weight[st] if weight is not None else np.ones_like(losses)) * vm
    w = w.astype(dtype, copy=False)
    losses = losses * w
    ctx.geom = (shape, st, w, vm, reduction, batched)
    if reduction == "none":
        return losses.astype(dtype, copy=False) if batched else losses[0].astype(dtype, copy=False)
    total = losses.sum()
    if reduction == "sum":
        return np.asarray(total, dtype)
    ctx.wsum = w.sum()
    return np.asarray(total / ctx.wsum, dtype)


def _geom(ctx):
    """ctx.geom with the weights and kept mask that _nll_forward left out as all ones filled in."""
    shape, st, w, vm, reduction, batched = ctx.geom
    if w is None:
        w, vm = np.ones(len(st), ctx.out_dtype), np.ones(len(st), bool)
    return shape, st, w, vm, reduction, batched


def _nll_coef(ctx, g):
    """d loss / d logp[t] per position (-w[t] times the upstream gradient, / total weight for 'mean')."""
    shape, st, w, vm, reduction, batched = _geom(ctx)
    if reduction == "mean":
        # torch writes -w[t] * (g / total_weight) at kept positions only: all-ignored gives zeros, not nan.
        return E.where(Tensor._make(vm), Tensor._make(-w) * (g / Tensor._make(np.asarray(ctx.wsum))), 0.0)
    if reduction == "sum":
        return Tensor._make(-w) * g
    return Tensor._make(-w) * (g if batched else g.reshape(1))


def _nll_coef_array(ctx, g):
    """_nll_coef on arrays, for a backward that records no graph; unweighted with every target kept, one
    coefficient for all positions unless reduction is 'none'."""
    shape, st, w, vm, reduction, batched = ctx.geom
    if w is None:
        if reduction == "mean":
            return -(g / ctx.wsum)
        return -g if batched or reduction == "sum" else -g.reshape(1)
    shape, st, w, vm, reduction, batched = _geom(ctx)
    if reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(vm, -w * (g / ctx.wsum), 0).astype(w.dtype, copy=False)
    return -w * (g if batched or reduction == "sum" else g.reshape(1))


class NLLLoss(Function):
    """-w[t] * logp[t] per position; 'mean' divides by the total weight of non-ignored targets."""

    _raw = True
    _node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, logp, target, weight, reduction, ignore_index):
        batched = logp.ndim > 1
        st, vm = _targets(target, ignore_index, logp.shape[-1] if not batched else logp.shape[1], batched)
        lp = logp if batched else logp[None]
        losses = np.negative(lp[_rows(len(st)), st])
        return _nll_forward(ctx, losses, st, vm, weight, reduction, logp.dtype, logp.shape, batched)

    @staticmethod
    def backward(ctx, g):
        shape, st, _, _, _, batched = ctx.geom
        return NLLScatter.apply(_nll_coef(ctx, g), st, shape, batched), None, None, None, None


class CrossEntropy(Function):
    """nll_loss(log_softmax(x, 1)) for class-index targets in one kernel: one exp pass (exp_sum), whose result is
    kept unnormalised, so the backward is e * (coef / sum) - onehot * coef: one pass and no exp."""

    _raw = True
    _node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index):
        batched = x.ndim > 1
        x2 = x if batched else x[None]
        st, vm = _targets(target, ignore_index, x2.shape[1], batched)
        rows = _rows(len(st))
        with row_buffers(x2, 1):
            if x2.size == 0:
                e, s, picked = x2.copy(), np.ones((len(st), 1), x2.dtype), x2[rows, st]
            else:
                e, s, shift = exp_sum(x2, 1)
                picked = x2[rows, st] if shift is None else x2[rows, st] - shift[:, 0]
            losses = np.subtract(np.log(s[:, 0]), picked)
        ctx.es = (e, s)
        ctx.save_for_backward(x)
        return _nll_forward(ctx, losses, st, vm, weight, reduction, x.dtype, x.shape, batched)

    @staticmethod
    def backward(ctx, g):
        shape, st, _, _, _, batched = ctx.geom
        if STATE.enabled:
            (x,) = ctx.saved_tensors
            coef = _nll_coef(ctx, g)
            p = Softmax.apply(x if batched else x.reshape(1, -1), 1)
            grad = NLLScatter.apply(coef, st, p.shape, True) - p * coef.unsqueeze(1)
            return (grad if batched else grad.reshape(shape)), None, None, None, None
        e, s = ctx.es
        c = _nll_coef_array(ctx, g._data)
        with row_buffers(e, 1):
            grad = np.multiply(e, np.divide(-c, s) if c.ndim == 0 else (-c)[:, None] / s)
        grad[_rows(len(st)), st] += c
        grad = Tensor._make(grad.astype(e.dtype, copy=False))
        return (grad if batched else grad.reshape(shape)), None, None, None, None


class NLLScatter(Function):
    """zeros(shape) with coef placed at the target class of each position (linear in coef)."""

    _raw = True

    @staticmethod
    def forward(ctx, coef, st, shape, batched):
        ctx.st, ctx.batched = st, batched
        out = np.zeros(shape if batched else (1,) + tuple(shape), coef.dtype)
        np.put_along_axis(out, st[:, None], coef[:, None], 1)
        return out if batched else out[0]

    @staticmethod
    def backward(ctx, gg):
        g2 = gg if ctx.batched else gg.reshape(1, -1)
        picked = Tensor._make(np.take_along_axis(g2._data, ctx.st[:, None], 1)[:, 0])
        return picked, None, None, None


BCE_EPS = float(np.float32(1e-12))  # torch clamps (1 - x) * x at the float constant 1e-12f


def _log_sigmoid(x):
    """min(x, 0) - log1p(exp(-|x|)) in x's dtype, as torch's log_sigmoid."""
    b = np.abs(x)
    np.negative(b, out=b)
    np.exp(b, out=b)
    out = clip(x, -_INF, 0)
    out -= _log1p(b)
    return out


def _sigmoid(x):
    """1 / (1 + exp(-x)) in x's dtype, as torch's sigmoid."""
    e = np.negative(x)
    np.exp(e, out=e)
    e += 1
    return np.divide(1, e, out=e)


class BCEWithLogits(Function):
    """(1 - y) x - (1 + (pos_weight - 1) y) log_sigmoid(x), times weight, in x's dtype as torch; torch's fused
    gradients (sigmoid(x) - y for the input), which stay exact at x = 0 and at |x| up to 1e4."""

    _raw = True
    _node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight):
        ctx.save_for_backward(x, y, weight, pos_weight)
        dt = np.result_type(x, y)
        ls = _log_sigmoid(np.atleast_1d(x).astype(dt, copy=False))
        if pos_weight is not None:
            ls = ls * ((pos_weight - 1) * y + 1)
        loss = np.subtract(1, y, dtype=dt) * x
        loss = loss - ls
        if weight is not None:
            loss = loss * weight
        loss = np.asarray(loss, dt)
        if x.ndim:
            return loss
        return loss.reshape(np.broadcast_shapes(x.shape, y.shape, *(a.shape for a in (weight, pos_weight)
                                                                     if a is not None)))

    @staticmethod
    def backward(ctx, g):
        x, y, w, pw = ctx.saved_tensors
        if STATE.enabled:
            if pw is not None:
                t = pw * y
                gx = ((t + 1 - y) * E.sigmoid(x) - t) * g
            else:
                gx = (E.sigmoid(x) - y) * g
            if w is not None:
                gx = gx * w
        else:
            xd, yd, gd = x._data, y._data, g._data
            sig = _sigmoid(np.atleast_1d(xd)).reshape(xd.shape)
            if pw is not None:
                t = pw._data * yd
                gxd = (t + 1 - yd) * sig
                gxd -= t
                gxd = gxd * gd
            else:
                gxd = np.subtract(sig, yd, out=sig) if sig.shape == np.broadcast_shapes(sig.shape, yd.shape) \
                    else sig - yd
                gxd = gxd * gd
            if w is not None:
                gxd = gxd * w._data
            gx = Tensor._make(np.asarray(gxd, gd.dtype))
        gy = None
        if ctx.needs_input_grad[1]:
            gy = (_ls(-x) - _ls(x) * pw) * g if pw is not None else -x * g
            gy = sum_to(gy * w if w is not None else gy, y.shape)
        return sum_to(gx, x.shape), gy, None, None


def _ls(x):
    """log_sigmoid as ember ops (differentiable again)."""
    return x.clamp(max=0) - E.log1p(E.exp(-x.abs()))


class BCELoss(Function):
    """Binary cross-entropy on probabilities, log clamped at -100 as in PyTorch."""

    _raw = True
    _node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, y, weight):
        if ((x < 0) | (x > 1)).any():
            raise RuntimeError("all elements of input should be between 0 and 1")
        loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y, w = ctx.saved_tensors
        eps = BCE_EPS
        denom = ((1 - x) * x).clamp(min=eps)
        gx = g * (x - y) / denom
        if w is not None:
            gx = gx * w
        gy = None
        if ctx.needs_input_grad[1]:
            gy = -g * E.log(x / (1 - x))
            if w is not None:
                gy = gy * w
        return gx, gy, None


class _ReducedLoss(Function):
    """An elementwise loss Function (`elementwise`) and its 'mean' or 'sum' reduction as one node, as torch's loss
    ops take the reduction as an argument; backward hands the scaled 0-d gradient to the elementwise backward, whose
    arithmetic broadcasts it."""

    _raw = True
    elementwise = None

    @classmethod
    def forward(cls, ctx, *args):
        *args, reduction = args
        loss = cls.elementwise.forward(ctx, *args)
        total = np.add.reduce(loss, axis=None, dtype=np.float32 if loss.dtype == np.float16 else None)
        ctx.count = loss.size if reduction == "mean" and loss.size else None
        if reduction == "mean":
            total = total / loss.size if loss.size else np.nan
        return np.asarray(total, loss.dtype)

    @classmethod
    def backward(cls, ctx, g):
        if ctx.count is not None:
            g = g / ctx.count if STATE.enabled else Tensor._make(np.divide(g._data, g._data.dtype.type(ctx.count)))
        return tuple(cls.elementwise.backward(ctx, g)) + (None,)


@functools.lru_cache(maxsize=None)
def reduced(elementwise):
    """The Function computing elementwise's loss reduced by a trailing 'mean' or 'sum' argument, in one node."""
    return type(elementwise.__name__ + "Reduced", (_ReducedLoss,),
                {"elementwise": elementwise, "_node_name": elementwise._node_name})


def _logsumexp3(a, b, c):
    m = np.maximum(np.maximum(a, b), c)
    ms = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a - ms) + np.exp(b - ms) + np.exp(c - ms)) + ms


def _shift(a, k, fill):
    out = np.full_like(a, fill)
    out[:, k:] = a[:, :-k] if k else a
    return out


class CTCLoss(Function):
    """Connectionist temporal classification: alpha recursion forward, alpha-beta backward (loops over time)."""

    _raw = True
    _node_name = "CtcLossBackward0"

    @staticmethod
    def forward(ctx, lp, ext, in_len, tgt_len, zero_infinity):
        t_max, n, c = lp.shape
        L = ext.shape[1]
        emit = np.take_along_axis(lp, np.broadcast_to(ext[None], (t_max, n, L)), 2)
        skip = np.zeros((n, L), bool)
        blank = ext[:, 0:1]
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        valid_state = np.arange(L)[None, :] < (2 * tgt_len + 1)[:, None]
        ninf = -np.inf
        alpha = np.full((t_max, n, L), ninf, lp.dtype)
        alpha[0, :, 0] = emit[0, :, 0]
        alpha[0, :, 1] = np.where(tgt_len > 0, emit[0, :, 1], ninf)
        for t in range(1, t_max):
            prev = alpha[t - 1]
            new = _logsumexp3(prev, _shift(prev, 1, ninf), np.where(skip, _shift(prev, 2, ninf), ninf)) + emit[t]
            new = np.where(valid_state, new, ninf)
            alpha[t] = np.where((t < in_len)[:, None], new, prev)
        last_t = np.maximum(in_len - 1, 0)
        a_end = alpha[last_t, np.arange(n)]
        i1 = 2 * tgt_len
        i2 = np.maximum(2 * tgt_len - 1, 0)
        l1 = a_end[np.arange(n), i1]
        l2 = np.where(tgt_len > 0, a_end[np.arange(n), i2], ninf)
        m = np.maximum(l1, l2)
        ms = np.where(np.isfinite(m), m, 0)
        nll = -(np.log(np.exp(l1 - ms) + np.exp(l2 - ms)) + ms)
        ctx.state = (lp, ext, emit, alpha, skip, valid_state, in_len, tgt_len, nll, zero_infinity)
        if zero_infinity:
            nll = np.where(np.isinf(nll), 0, nll)
        return nll.astype(lp.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        lp, ext, emit, alpha, skip, valid_state, in_len, tgt_len, nll, zero_infinity = ctx.state
        t_max, n, c = lp.shape
        L = ext.shape[1]
        ninf = -np.inf
        beta = np.full((t_max, n, L), ninf, lp.dtype)
        rows = np.arange(n)
        last_t = np.maximum(in_len - 1, 0)
        init = np.full((n, L), ninf, lp.dtype)
        init[rows, 2 * tgt_len] = emit[last_t, rows, 2 * tgt_len]
        has = tgt_len > 0
        init[rows[has], 2 * tgt_len[has] - 1] = emit[last_t[has], rows[has], 2 * tgt_len[has] - 1]
        skip_next = np.zeros((n, L), bool)
        skip_next[:, :-2] = skip[:, 2:]
        for t in range(t_max - 1, -1, -1):
            at_end = (t == last_t)[:, None]
            active = (t < last_t)[:, None]
            if t < t_max - 1:
                nxt = beta[t + 1]
                s1 = np.full_like(nxt, ninf)
                s1[:, :-1] = nxt[:, 1:]
                s2 = np.full_like(nxt, ninf)
                s2[:, :-2] = nxt[:, 2:]
                rec = _logsumexp3(nxt, s1, np.where(skip_next, s2, ninf)) + emit[t]
                rec = np.where(valid_state, rec, ninf)
            else:
                rec = np.full((n, L), ninf, lp.dtype)
            beta[t] = np.where(at_end, init, np.where(active, rec, ninf))
        ab = alpha + beta
        m = np.max(ab, axis=2, keepdims=True)
        ms = np.where(np.isfinite(m), m, 0)
        e = np.exp(ab - ms)
        idx = (np.arange(t_max * n).reshape(t_max, n, 1) * c + ext[None]).reshape(-1)
        summed = np.bincount(idx, weights=e.reshape(-1), minlength=t_max * n * c).reshape(t_max, n, c)
        with np.errstate(divide="ignore"):
            lcab = np.log(summed) + ms
        grad = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
        grad = np.where((np.arange(t_max)[:, None] < in_len[None, :])[:, :, None], grad, 0)
        bad = np.isinf(nll)
        if zero_infinity:
            grad = np.where(bad[None, :, None], 0, grad)
        grad = np.nan_to_num(grad, nan=0.0) if zero_infinity else grad
        return g.reshape(1, n, 1) * Tensor._make(grad.astype(lp.dtype, copy=False)), None, None, None, None


class _Regression(Function):
    """A pointwise regression loss of d = x - y (same shapes and dtype), reduced ('none' | 'mean' | 'sum') in one
    kernel: forward `elementwise(d, param)`, backward `slope(d, param)` times the upstream gradient (and -that for
    y), with d kept from the forward. With create_graph the backward is `slope_ops` in ember ops."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x, y, reduction, param):
        d = np.subtract(np.atleast_1d(x), np.atleast_1d(y))
        loss = cls.elementwise(d, param)
        ctx.d, ctx.reduction, ctx.param = d, reduction, param
        ctx.save_for_backward(x, y)
        if reduction == "none":
            return loss.reshape(x.shape)
        total = np.add.reduce(loss, axis=None)
        return np.asarray(total / loss.size if reduction == "mean" else total, x.dtype)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        n = max(ctx.d.size, 1)  # an empty input's gradient is empty whatever the scale
        if STATE.enabled:
            gx = cls.slope_ops(x - y, ctx.param) * (g / n if ctx.reduction == "mean" else g)
        else:
            gd = g._data
            dt = ctx.d.dtype
            scale = dt.type(1 / n) * gd if ctx.reduction == "mean" else gd if ctx.reduction == "sum" else None
            r = cls.slope(ctx.d, ctx.param)
            r *= scale if scale is not None else np.atleast_1d(gd)
            gx = Tensor._make(r.reshape(x.shape))
        return gx, (-gx if ctx.needs_input_grad[1] else None), None, None


class MSELoss(_Regression):
    """(x - y)^2; gradient 2 (x - y) g (/ numel for 'mean'), as torch's mse_loss_backward."""

    _node_name = "MseLossBackward0"

    @staticmethod
    def elementwise(d, param):
        return np.multiply(d, d)

    @staticmethod
    def slope(d, param):
        return np.multiply(d, 2)

    @staticmethod
    def slope_ops(d, param):
        return d * 2


class HuberLoss(_Regression):
    """|d| < delta ? 0.5 d^2 : delta (|d| - 0.5 delta), as 0.5 c^2 + delta (|d| - c) with c = min(|d|, delta) (the
    same value, without a select); gradient clamp(d, -delta, delta) g, as torch's huber_loss_backward."""

    _node_name = "HuberLossBackward0"

    @staticmethod
    def elementwise(d, delta):
        t = d.dtype.type(delta)
        z = np.abs(d)
        c = clip(z, 0, t)
        z -= c
        if delta != 1:
            z *= t
        q = np.multiply(c, 0.5)
        q *= c
        q += z
        return q

    @staticmethod
    def slope(d, delta):
        t = d.dtype.type(delta)
        return clip(d, -t, t)

    @staticmethod
    def slope_ops(d, delta):
        return d.clamp(-delta, delta)


class SmoothL1Loss(_Regression):
    """|d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta, as 0.5 c^2 / beta + (|d| - c), c = min(|d|, beta); gradient
    clamp(d, -beta, beta) / beta g, as torch's smooth_l1_loss_backward (beta > 0)."""

    _node_name = "SmoothL1LossBackward0"

    @staticmethod
    def elementwise(d, beta):
        b = d.dtype.type(beta)
        z = np.abs(d)
        c = clip(z, 0, b)
        z -= c
        q = np.multiply(c, 0.5)
        q *= c
        if beta != 1:
            q /= b
        q += z
        return q

    @staticmethod
    def slope(d, beta):
        b = d.dtype.type(beta)
        r = clip(d, -b, b)
        if beta != 1:
            r /= b
        return r

    @staticmethod
    def slope_ops(d, beta):
        return d.clamp(-beta, beta) / beta


class SoftMarginLoss(Function):
    """log1p(exp(-y x)), reduced, in x's dtype as torch; exp(-y x) is kept, so the gradient
    -y z / (1 + z) g (/ numel for 'mean') needs no exp."""

    _raw = True
    _node_name = "SoftMarginLossBackward0"

    @staticmethod
    def forward(ctx, x, y, reduction):
        z = np.negative(np.atleast_1d(x))
        z *= np.atleast_1d(y)
        np.exp(z, out=z)
        loss = _log1p(z)
        ctx.z, ctx.reduction = z, reduction
        ctx.save_for_backward(x, y)
        if reduction == "none":
            return loss.reshape(x.shape)
        total = np.add.reduce(loss, axis=None)
        return np.asarray(total / loss.size if reduction == "mean" else total, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        n = max(ctx.z.size, 1)
        gs = g / n if ctx.reduction == "mean" else g
        if STATE.enabled:
            z = E.exp(-y * x)
            return -y * z / (z + 1) * gs, None, None
        z = ctx.z
        r = np.add(z, 1)
        np.divide(z, r, out=r)
        r *= np.atleast_1d(y._data)
        np.negative(r, out=r)
        r *= np.atleast_1d(gs._data)
        return Tensor._make(r.reshape(x.shape)), None, None
