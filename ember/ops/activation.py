"""Activation kernels: one fused Function per activation. Forward and (when no graph is recorded) backward run on
the arrays in the input's dtype, in torch's CPU formulas, with blends done bitwise rather than by np.where (which is
~20x slower on random masks); with create_graph the backward is written in ember ops, so double backward works.
softmax/log_softmax are stable and fused: one exp pass per element, shifted by the max only where the plain
exponentials would leave float range, and none in backward."""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, _wrap, record_result, edge, saved_input, _NOT_TENSORS
from . import special_math as sm
from ._bits import clip, constant, keep, put, two_values
from ._util import row_sums
from . import elementwise as E
from .shape import cat
from .creation import _CAPABILITY
from ..autograd.grad_mode import STATE

_INF = float("inf")
_HALF = np.dtype(np.float16)
_new = object.__new__


def _const(mask, like):
    """A constant tensor from a NumPy mask/array, in the gradient's dtype."""
    return Tensor._make(np.asarray(mask, dtype=like._data.dtype))


def _1d(a):
    """a, with a 0-d array as 1-d (NumPy ufuncs turn 0-d results into scalars, which take no `out=`)."""
    return a.reshape(1) if a.ndim == 0 else a


def _log1p(y):
    """log1p of a float array y >= 0 (inf allowed), to ~3 ulp: log(1 + y) corrected by the rounding of 1 + y
    (numpy's float32 log is vectorised, its log1p is not)."""
    if y.dtype != np.float32 or y.size <= SMALL:
        return np.log1p(y)
    w = y + 1
    out = np.log(w)
    c = np.subtract(w, 1)
    c -= y
    c /= w
    out -= c
    return put(out, _INF, y == _INF)  # the correction is NaN there


def _expm1_nonpos(z):
    """expm1 of a float array z <= 0 (or -inf, NaN), to ~3 ulp: 2t / (1 - t) with t = tanh(z / 2) (numpy's float32
    tanh is vectorised, its expm1 is not); other dtypes use np.expm1."""
    if z.dtype != np.float32 or z.size <= SMALL:
        return np.expm1(z)
    t = np.multiply(z, 0.5)
    np.tanh(t, out=t)
    d = np.subtract(1, t)
    t += t
    t /= d
    return t


class _Pointwise(Function):
    """An elementwise activation. forward: `compute(ctx, x, *params)` on float arrays in their dtype, half in float32
    rounded once as torch's CPU kernels compute it (compute may keep intermediates on ctx for the backward);
    backward: `grad(ctx, g, x, out, *params)` on arrays when no graph is recorded, else g * `deriv(x_tensor,
    out_tensor, *params)` in ember ops (so double backward works). x and the result are saved for backward as torch
    saves them (in-place changes before backward raise torch's error)."""

    _raw = True
    grad = None
    opmath = True  # half in float32: True both ways, "forward" in forward only, False never (torch's composites)

    @classmethod
    def forward(cls, ctx, x, *params):
        if x.ndim and x.dtype.kind == "f":
            out = cls.compute(ctx, x, *params) if x.dtype != _HALF or not cls.opmath else \
                cls.compute(ctx, x.astype(np.float32), *params).astype(_HALF)
        else:
            out = cls.compute(ctx, _1d(x).astype(np.float64, copy=False), *params).astype(x.dtype).reshape(x.shape)
        ctx.params = params
        ctx.save_for_backward(x, out)
        return out

    @classmethod
    def run(cls, input, params):
        """apply() on a float32/float64 Tensor of at least one dimension (the functional fast path): compute, and
        the node recorded by hand when input needs a graph."""
        node = _new(cls._backward_cls)
        out = cls.compute(node, input._data, *params)
        if not (input._rg and STATE.enabled):
            return _wrap(out)
        node.params = params
        node._edges = [edge(input), *_NOT_TENSORS[len(params)]]
        t = node._output_tensor(out)
        node._saved = [saved_input(input), saved_input(t, 0)]
        return t

    @classmethod
    def backward(cls, ctx, g):
        x, out = ctx.saved_tensors
        if STATE.enabled or cls.grad is None or g._data.dtype != x._data.dtype:
            gx = g * cls.deriv(x, out, *ctx.params)
        else:
            gd = g._data
            if gd.dtype == _HALF and cls.opmath is True:
                gx = Tensor._make(_opmath(cls.grad, ctx, gd, x._data, out._data, *ctx.params))
            elif gd.ndim:
                gx = Tensor._make(cls.grad(ctx, gd, x._data, out._data, *ctx.params))
            else:
                gx = Tensor._make(cls.grad(ctx, _1d(gd), _1d(x._data), _1d(out._data), *ctx.params).reshape(()))
        return (gx,) + (None,) * len(ctx.params)


def _opmath(grad, ctx, g, x, out, *params):
    """A half gradient computed in float32 and rounded once, as torch's CPU kernels compute half (its opmath)."""
    f = np.float32
    ctx.itemsize = g.itemsize  # the width torch's half loops step by, for grads that emulate it
    return grad(ctx, _1d(g).astype(f), _1d(x).astype(f), _1d(out).astype(f), *params).astype(_HALF).reshape(g.shape)


def _pointwise(name, compute, deriv, grad=None, node=None, opmath=True):
    attrs = {"compute": staticmethod(compute), "deriv": staticmethod(deriv), "_node_name": node or name + "Backward0",
             "opmath": opmath}
    if grad is not None:
        attrs["grad"] = staticmethod(grad)
    return type(name, (_Pointwise,), attrs)


SQRT_2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
ONE_SIXTH_F32 = float(np.float32(1.0 / 6.0))  # PyTorch's hardsigmoid backward uses the float constant
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
# torch's GELU constants (M_SQRT1_2, M_2_SQRTPI * M_SQRT1_2 * 0.5, M_SQRT2 * M_2_SQRTPI * 0.5, 0.044715)
GELU_ALPHA = 1.0 / math.sqrt(2.0)
GELU_PDF = 2.0 / math.sqrt(math.pi) / math.sqrt(2.0) * 0.5
GELU_TANH_BETA = math.sqrt(2.0) * 2.0 / math.sqrt(math.pi) * 0.5
GELU_TANH_KAPPA = 0.044715


# ---- ELU, SELU, CELU: x > 0 ? scale x : alpha scale expm1(input_scale x) ---------------------------------------
def _elu_coefs(dt, alpha, scale, input_scale):
    """(negcoef, poscoef, negiptcoef) in the input's dtype, multiplied as torch multiplies them."""
    t = dt.type
    return t(alpha) * t(scale), t(scale), t(input_scale)


# PyTorch's CPU loops over contiguous operands step two SIMD vectors at a time, then finish element by element; the
# two can treat NaN differently (ELU's backward blend gives NaN, its scalar `x <= 0 ? ... : ...` the x > 0 branch).
_SIMD_BYTES = 64 if _CAPABILITY == "avx512" else 32
_GRAIN = 32768  # at::internal::GRAIN_SIZE: longer loops are split among threads, each part with its own tail


def _flat(a):
    """a's elements in memory order as a 1-d view, or None when a is not contiguous."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    return a.T.reshape(-1) if a.flags.f_contiguous else None


def _same_order(a, b):
    """Whether same-shape arrays a and b are contiguous in one memory order (a flat index means one element)."""
    return (a.flags.c_contiguous and b.flags.c_contiguous) or (a.flags.f_contiguous and b.flags.f_contiguous)


def _tail_len(x, itemsize):
    """How many trailing elements (in memory order) torch's vectorised loop over contiguous x, two SIMD vectors of
    itemsize-byte elements a step, leaves to its scalar tail; 0 also where ember cannot tell (x strided, or long
    enough for the loop to be split among threads)."""
    n = x.size
    if n > _GRAIN or not (x.flags.c_contiguous or x.flags.f_contiguous):
        return 0
    return n % (2 * _SIMD_BYTES // itemsize)


def _tail_of(g, x, k):
    """g's last k elements in x's memory order (g of x's shape): a scalar if g is a broadcast scalar; None when g is
    laid out otherwise (torch's loop is then not that split)."""
    if not any(st for st, d in zip(g.strides, g.shape) if d > 1):
        return g.flat[0]
    return _flat(g)[-k:] if _same_order(x, g) else None


def _elu_nan_tail(ctx, r, x, g, pos):
    """r = g * scale at NaN x in torch's scalar tail, whose `x <= 0 ? ... : g * scale` takes the x > 0 branch there
    (its vector loop's blend gives NaN, as r holds); x is the input, or the result for elu_."""
    k = _tail_len(x, getattr(ctx, "itemsize", x.itemsize))
    if not k:
        return r
    xt = _flat(x)[-k:]
    if not math.isnan(sum(xt.tolist())):  # a Python sum is the cheapest NaN test of a few values
        return r
    gt = _tail_of(g, x, k)
    if gt is not None and _same_order(x, r):
        np.copyto(_flat(r)[-k:], np.multiply(gt, pos), where=np.isnan(xt))
    return r


def _elu_compute(ctx, x, alpha, scale, input_scale, bw_input_scale):
    neg, pos, ipt = _elu_coefs(x.dtype, alpha, scale, input_scale)
    z = clip(x, -_INF, 0)
    if ipt != 1:
        z *= ipt
    out = _expm1_nonpos(z)
    if neg != 1:
        out *= neg
    p = clip(x, 0, _INF)  # x where x > 0, else zero: the sum picks each branch exactly
    if pos != 1:
        p *= pos
    out += p
    return out


def _elu_grad(ctx, g, x, out, alpha, scale, input_scale, bw_input_scale):
    """x > 0 ? g * scale : g * input_scale * alpha * scale * exp(x * input_scale), in torch's order."""
    neg, pos, ipt = _elu_coefs(x.dtype, alpha, scale, bw_input_scale)
    e = clip(x, -_INF, 0)
    if ipt != 1:
        e *= ipt
    np.exp(e, out=e)  # exactly 1 where x > 0
    r = np.multiply(g, ipt) if ipt != 1 else g
    r = np.multiply(r, neg) if neg != 1 else r
    r = np.multiply(r, e, out=e)
    if pos != 1 or ipt != 1 or neg != 1:
        put(r, np.multiply(g, pos), x > 0)
    return _elu_nan_tail(ctx, r, x, g, pos)


def _elu_result_grad(ctx, g, x, out, alpha, scale, input_scale, bw_input_scale):
    """The in-place (elu_) backward, from the result: out > 0 ? g * scale : g * input_scale * (out + alpha scale)."""
    neg, pos, ipt = _elu_coefs(x.dtype, alpha, scale, bw_input_scale)
    r = np.add(out, neg)
    r *= np.multiply(g, ipt)
    put(r, np.multiply(g, pos), out > 0)
    return _elu_nan_tail(ctx, r, out, g, pos)


def _elu_deriv(x, out, alpha, scale, input_scale, bw_input_scale):
    pos = _const(x._data > 0, x)
    return pos * scale + (1 - pos) * (E.exp(x.clamp(max=0) * bw_input_scale) * (alpha * scale * bw_input_scale))


def _elu_result_deriv(x, out, alpha, scale, input_scale, bw_input_scale):
    """The in-place (elu_) derivative, from the result: input_scale * (out + alpha * scale) where x <= 0."""
    pos = _const(x._data > 0, x)
    return pos * scale + (1 - pos) * ((out + alpha * scale) * bw_input_scale)


class Relu(Function):
    """max(x, 0), saving only the result: backward passes g where the result is not <= 0 (so NaN inputs pass
    their gradient and NaN gradients of negative inputs become 0), as torch's threshold_backward does."""

    _raw = True
    _node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "f":
            out = _relu_float(x) if x.ndim else _relu_float(x.reshape(1)).reshape(())
        else:
            out = np.maximum(x, x.dtype.type(0))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if STATE.enabled:
            return E.where(Tensor._make(out._data <= 0), 0.0, g)
        d = out._data
        return Tensor._make(keep(g._data, d <= constant(0, d.dtype), invert=True))


def relu_fast(input):
    """Relu.apply on a float Tensor of at least one dimension, recorded without Function.apply; None for other
    inputs."""
    d = input._data
    if d.dtype.kind != "f" or not d.ndim:
        return None
    out = _relu_float(d)
    if input._rg and STATE.enabled:
        return record_result(Relu, input, out, "out")
    return _wrap(out)


def _relu_float(x):
    """max(x, 0) of a float array of at least one dimension, in one clip pass (keeps -0.0, as torch)."""
    return clip(x, constant(0, x.dtype), constant(_INF, x.dtype))


# ---- piecewise-linear activations ----------------------------------------------------------------------------------
def _leaky_compute(ctx, x, s):
    """x > 0 ? x : x * s, as torch. For a finite positive slope that is max(x, x * s) (min when s > 1): two passes
    without a mask."""
    slope = x.dtype.type(s)
    if not (0 < slope < _INF):
        return np.multiply(x, _leaky_factor(x, s))
    out = np.multiply(x, slope)
    return (np.maximum if s <= 1 else np.minimum)(out, x, out=out)


def _leaky_grad(ctx, g, x, out, s):
    return np.multiply(g, _leaky_factor(x, s))


def _leaky_factor(x, s):
    return two_values(x > 0, 1, s, x.dtype)


def _hardtanh_compute(ctx, x, lo, hi):
    t = x.dtype.type
    return clip(x, t(lo), t(hi))


def _hardtanh_grad(ctx, g, x, out, lo, hi):
    t = x.dtype.type
    inside = np.greater(x, t(lo))
    inside &= np.less(x, t(hi))
    return keep(g, inside)


def _hardsigmoid_compute(ctx, x):
    """min(max(x + 3, 0), 6) / 6, as torch."""
    out = np.add(x, 3)
    clip(out, 0, 6, out=out)
    out /= 6
    return out


def _hardsigmoid_grad(ctx, g, x, out):
    inside = np.greater(x, -3)
    inside &= np.less(x, 3)
    return keep(np.multiply(g, x.dtype.type(ONE_SIXTH_F32)), inside)


def _hardswish_compute(ctx, x):
    """x * min(max(x + 3, 0), 6) / 6, as torch."""
    out = np.add(x, 3)
    clip(out, 0, 6, out=out)
    np.multiply(x, out, out=out)
    out /= 6
    return out


def _hardswish_grad(ctx, g, x, out):
    """x <= -3 ? 0 : x < 3 ? g (x / 3 + 0.5) : g (NaN inputs give NaN, as torch's vectorised kernel)."""
    d = np.divide(x, 3)
    d += 0.5
    put(d, 1, x >= 3)
    d *= g
    return keep(d, x <= -3, invert=True)


def _shrink_grad(ctx, g, x, out, lambd):
    """g where x < -lambd or x > lambd, else 0 (NaN inputs give 0, as torch's vectorised kernel)."""
    lam = x.dtype.type(lambd)
    outside = np.less(x, -lam)
    outside |= np.greater(x, lam)
    return keep(g, outside)


def _hardshrink_compute(ctx, x, lambd):
    lam = x.dtype.type(lambd)
    band = np.greater_equal(x, -lam)
    band &= np.less_equal(x, lam)
    return keep(x, band, invert=True)


def _softshrink_compute(ctx, x, lambd):
    """x - clamp(x, -lambd, lambd): x - lambd above, x + lambd below, +0 inside (NaN stays NaN), as torch."""
    lam = x.dtype.type(lambd)
    out = clip(x, -lam, lam)
    return np.subtract(x, out, out=out)


def _threshold_compute(ctx, x, th, v):
    t = x.dtype.type
    return put(x.copy(), t(v), x <= t(th))


def _threshold_grad(ctx, g, x, out, th, v):
    return keep(g, x <= x.dtype.type(th), invert=True)


def _hardswish_deriv(x, out):
    return E.where(Tensor._make(x._data <= -3), 0.0, E.where(Tensor._make(x._data < 3), x / 3 + 0.5, 1.0))


def _shrink_deriv(x, out, l):
    return _const(~(np.abs(x._data) <= l), x)


Elu = _pointwise("Elu", _elu_compute, _elu_deriv, _elu_grad)
EluResult = _pointwise("EluResult", _elu_compute, _elu_result_deriv, _elu_result_grad, node="EluBackward1")
LeakyRelu = _pointwise("LeakyRelu", _leaky_compute, lambda x, out, s: _const(np.where(x._data > 0, 1.0, s), x),
                       _leaky_grad)
Hardtanh = _pointwise("Hardtanh", _hardtanh_compute, lambda x, out, lo, hi: _const((x._data > lo) & (x._data < hi), x),
                      _hardtanh_grad)
Hardsigmoid = _pointwise("Hardsigmoid", _hardsigmoid_compute,
                         lambda x, out: _const(((x._data > -3) & (x._data < 3)) * ONE_SIXTH_F32, x), _hardsigmoid_grad)
Hardswish = _pointwise("Hardswish", _hardswish_compute, _hardswish_deriv, _hardswish_grad)
Hardshrink = _pointwise("Hardshrink", _hardshrink_compute, _shrink_deriv, _shrink_grad, opmath=False)
Softshrink = _pointwise("Softshrink", _softshrink_compute, _shrink_deriv, _shrink_grad, opmath="forward")
Threshold = _pointwise("Threshold", _threshold_compute, lambda x, out, th, v: _const(~(x._data <= th), x),
                       _threshold_grad)


# ---- smooth activations --------------------------------------------------------------------------------------------
def _softsign_compute(ctx, x):
    d = np.abs(x)
    d += 1
    return np.divide(x, d, out=d)


def _softsign_grad(ctx, g, x, out):
    """g / d + (-g ((x / d) / d)) sgn(x), d = 1 + |x|: torch's composite x / (1 + |x|) differentiated in its order
    (NaN at +-inf)."""
    d = np.abs(x)
    d += 1
    r = np.divide(g, d)
    q = np.divide(x, d)
    q /= d
    q *= np.negative(g, out=d)
    q *= np.sign(x)
    r += q
    return r


def _tanhshrink_compute(ctx, x):
    ctx.tanh = np.tanh(x)
    return np.subtract(x, ctx.tanh)


def _tanhshrink_grad(ctx, g, x, out):
    r = np.multiply(ctx.tanh, ctx.tanh)
    r *= g
    return r


def _silu_compute(ctx, x):
    """x / (1 + exp(-x)), as torch; the denominator is kept for the backward."""
    d = np.negative(x)
    np.exp(d, out=d)
    d += constant(1, d.dtype)
    ctx.den = d
    return np.divide(x, d)


def _silu_grad(ctx, g, x, out):
    """g * sigmoid * (1 + x * (1 - sigmoid)), sigmoid = 1 / (1 + exp(-x)), as torch."""
    one = constant(1, x.dtype)
    sig = np.divide(one, ctx.den)
    r = np.multiply(g, sig)
    np.subtract(one, sig, out=sig)
    sig *= x
    sig += one
    r *= sig
    return r


def _softplus_compute(ctx, x, beta, threshold):
    """x * beta > threshold ? x : log1p(exp(x * beta)) / beta, as torch; exp(x * beta) is kept for the backward."""
    t = x.dtype.type
    b, th = t(beta), t(threshold)
    bx = np.multiply(x, b) if b != 1 else x
    e = np.exp(bx)
    ctx.exp = e
    out = _log1p(e)
    if b != 1:
        out /= b
    return put(out, x, bx > th)


def _softplus_grad(ctx, g, x, out, beta, threshold):
    """x * beta > threshold ? g : g * z / (z + 1), z = exp(x * beta), as torch."""
    t = x.dtype.type
    b, th = t(beta), t(threshold)
    z = ctx.exp
    r = np.multiply(g, z)
    r /= z + 1
    bx = np.multiply(x, b) if b != 1 else x
    return put(r, g, bx > th)


def _softplus_deriv(x, out, beta, threshold):
    return E.where(Tensor._make(x._data * beta > threshold), 1.0, E.sigmoid(x * beta))


def _logsigmoid_compute(ctx, x):
    """min(x, 0) - log1p(exp(-|x|)), as torch; exp(-|x|) is kept for the backward (torch's buffer)."""
    b = np.abs(x)
    np.negative(b, out=b)
    np.exp(b, out=b)
    ctx.buffer = b
    out = clip(x, -_INF, 0)
    out -= _log1p(b)
    return out


def _logsigmoid_grad(ctx, g, x, out):
    """(x < 0 ? 1 - s : s) * g with s = b / (1 + b), as torch's (max_deriv - sign * s) * g (exact in both branches)."""
    b = ctx.buffer
    s = np.add(b, 1)
    np.divide(b, s, out=s)
    neg = np.less(x, 0).astype(x.dtype)
    sign = np.multiply(neg, 2)
    sign -= 1
    sign *= s
    np.subtract(neg, sign, out=neg)
    neg *= g
    return neg


MISH_CLIP = 20.0  # tanh(softplus(x)) is 1 in float64 from x ~ 18.7 on


def _mish_compute(ctx, x):
    """x * tanh(softplus(x)), with tanh(log1p(e)) = n / (n + 2), n = e (e + 2), e = exp(x) (one exp, no log or tanh;
    within a few ulp of torch's x * tanh(log1p(exp(x)))); e and the tanh are kept for the backward."""
    e = clip(x, -_INF, MISH_CLIP)
    np.exp(e, out=e)
    n = np.add(e, 2)
    n *= e
    r = np.add(n, 2)
    np.divide(n, r, out=r)
    ctx.exp, ctx.tsp = e, r
    return np.multiply(x, r, out=n)


def _mish_grad(ctx, g, x, out):
    """g * (tsp + x * sigmoid(x) * (1 - tsp^2)), as torch (sigmoid(x) = e / (1 + e))."""
    e, tsp = ctx.exp, ctx.tsp
    sig = np.add(e, 1)
    np.divide(e, sig, out=sig)
    sig *= x
    q = np.multiply(tsp, tsp)
    np.subtract(1, q, out=q)
    sig *= q
    sig += tsp
    sig *= g
    return sig


def _mish_deriv(x, out):
    sp = Softplus.apply(x, 1.0, 20.0)
    t = E.tanh(sp)
    return t + x * E.sigmoid(x) * (1 - t * t)


def _erf(x):
    """special_math.erf in x's dtype."""
    return np.asarray(sm.erf(x)).astype(x.dtype, copy=False)


_AS_P = 0.3275911
_AS_POLY = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


def _gelu_erf(z):
    """erf as torch's float GELU kernel computes it (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7, in torch's order):
    sign(z) (1 - r(t) t exp(-z^2)) with t = 1 / (1 + p |z|); float64 and small arrays use special_math.erf."""
    if z.dtype != np.float32 or z.size <= SMALL:
        return _erf(z)
    f = np.float32
    t = np.abs(z)
    t *= f(_AS_P)
    t += 1
    np.divide(1, t, out=t)
    r = np.multiply(t, f(_AS_POLY[0]))
    for c in _AS_POLY[1:]:
        r += f(c)
        if c != _AS_POLY[-1]:
            r *= t
    e = np.multiply(z, z)
    np.negative(e, out=e)
    np.exp(e, out=e)
    e *= t
    e *= r
    np.subtract(1, e, out=e)
    return np.copysign(e, z, out=e)


def _gelu_compute(ctx, x, approximate):
    t = x.dtype.type
    if approximate == "tanh":
        # 0.5 x (1 + tanh(beta (x + kappa x^3))), as torch; the tanh is kept for the backward
        inner = np.multiply(x, x)
        inner *= x
        inner *= t(GELU_TANH_KAPPA)
        inner += x
        inner *= t(GELU_TANH_BETA)
        np.tanh(inner, out=inner)
        ctx.tanh = inner
        right = np.add(inner, 1)
    else:
        # x * 0.5 * (1 + erf(x * M_SQRT1_2)), as torch; 1 + erf is kept for the backward
        right = _gelu_erf(np.multiply(x, t(GELU_ALPHA)))
        right += 1
        ctx.cdf2 = right
    out = np.multiply(x, 0.5)
    out *= right
    return out


def _gelu_grad(ctx, g, x, out, approximate):
    t = x.dtype.type
    if approximate == "tanh":
        th = ctx.tanh
        r = np.add(th, 1)
        r *= 0.5                                     # left derivative 0.5 (1 + tanh)
        q = np.multiply(th, th)
        np.subtract(1, q, out=q)                      # tanh derivative
        inner = np.multiply(x, x)
        inner *= t(3) * t(GELU_TANH_KAPPA)
        inner += 1
        inner *= t(GELU_TANH_BETA)                    # inner derivative
        left = np.multiply(x, 0.5)
        left *= q
        left *= inner
        r += left
    else:
        pdf = np.multiply(x, x)
        pdf *= -0.5
        np.exp(pdf, out=pdf)
        pdf *= t(GELU_PDF)
        pdf *= x
        r = np.multiply(ctx.cdf2, 0.5)               # cdf
        r += pdf
    r *= g
    return r


def _gelu_deriv(x, out, approximate):
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * SQRT_2_OVER_PI
        t = E.tanh(inner)
        return (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * SQRT_2_OVER_PI * (x * x * (3 * 0.044715) + 1)
    return (E.erf(x * (1 / SQRT_2)) + 1) * 0.5 + x * E.exp(x * x * -0.5) * INV_SQRT_2PI


Softsign = _pointwise("Softsign", _softsign_compute, lambda x, out: (x.abs() + 1).pow(-2), _softsign_grad,
                      opmath=False)
Tanhshrink = _pointwise("Tanhshrink", _tanhshrink_compute, lambda x, out: E.tanh(x).pow(2), _tanhshrink_grad,
                        opmath=False)
Silu = _pointwise("Silu", _silu_compute, lambda x, out: E.sigmoid(x) * (x * (1 - E.sigmoid(x)) + 1), _silu_grad)
Softplus = _pointwise("Softplus", _softplus_compute, _softplus_deriv, _softplus_grad)
LogSigmoid = _pointwise("LogSigmoid", _logsigmoid_compute, lambda x, out: E.sigmoid(-x), _logsigmoid_grad,
                        node="LogSigmoidBackward0")
Mish = _pointwise("Mish", _mish_compute, _mish_deriv, _mish_grad)
Gelu = _pointwise("Gelu", _gelu_compute, _gelu_deriv, _gelu_grad)


class Glu(Function):
    """a * sigmoid(b) for the two halves of x along dim, sigmoid = 1 / (1 + exp(-b)) as torch; sigmoid(b) is kept,
    so the backward (g sigmoid(b) for a, g a sigmoid(b) (1 - sigmoid(b)) for b) needs no exp."""

    _raw = True
    _node_name = "GluBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        a, b = np.split(x, 2, axis=dim)
        sig = np.negative(b)
        np.exp(sig, out=sig)
        sig += 1
        np.divide(1, sig, out=sig)
        ctx.dim, ctx.sig = dim, sig
        ctx.save_for_backward(x)
        return np.multiply(a, sig)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if STATE.enabled:
            a, b = x.chunk(2, ctx.dim)
            s = E.sigmoid(b)
            return cat([g * s, g * a * s * (1 - s)], ctx.dim), None
        gd, sig = g._data, ctx.sig
        gx = np.empty(x._data.shape, gd.dtype)
        ga, gb = np.split(gx, 2, axis=ctx.dim)
        np.multiply(sig, gd, out=ga)
        np.subtract(1, sig, out=gb)                    # (1 - s) * s * a * g, as torch's glu_backward
        gb *= sig
        gb *= np.split(x._data, 2, axis=ctx.dim)[0]
        gb *= gd
        return Tensor._make(gx), None


def _channel_view(w, ndim):
    """PReLU's weight broadcast against the input: one per channel (dim 1), or a single slope."""
    return w.reshape((1, -1) + (1,) * (ndim - 2)) if w.size > 1 else w.reshape(())


class Prelu(Function):
    """PReLU with one weight, or one per channel (dim 1): x > 0 ? x : w x."""

    _raw = True
    _node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        out = np.multiply(_1d(x), _channel_view(w, x.ndim)).astype(x.dtype, copy=False)
        return put(out, _1d(x), _1d(x) > 0).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        if STATE.enabled or g._data.dtype != x._data.dtype:
            pos = _const(x._data > 0, x)
            wb = w.reshape((1, -1) + (1,) * (x.dim() - 2)) if w.numel() > 1 else w.reshape(())
            gx = g * (pos + (1 - pos) * wb)
            contrib = g * x * (1 - pos) if ctx.needs_input_grad[1] else None
        else:
            xd, gd = _1d(x._data), _1d(g._data)
            pos = xd > 0
            gx = np.multiply(gd, _channel_view(w._data, x.dim())).astype(gd.dtype, copy=False)
            gx = Tensor._make(put(gx, gd, pos).reshape(x.shape))
            contrib = None
            if ctx.needs_input_grad[1]:
                contrib = Tensor._make(keep(np.multiply(gd, xd), pos, invert=True).reshape(x.shape))
        gw = None
        if contrib is not None:
            if w.numel() > 1:
                gw = contrib.sum((0,) + tuple(range(2, x.dim()))).reshape(w.shape)
            else:
                gw = contrib.sum().reshape(w.shape)
        return gx, gw


class RreluWithNoise(Function):
    """RReLU in training mode: x * noise, with noise 1 where x >= 0 and the random slope elsewhere."""

    _raw = True
    _node_name = "RreluWithNoiseBackward0"

    @staticmethod
    def forward(ctx, x, noise):
        ctx.noise = noise
        return np.multiply(_1d(x), _1d(noise)).astype(x.dtype, copy=False).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        if STATE.enabled:
            return g * _const(ctx.noise, g), None
        gd = g._data
        return Tensor._make(np.multiply(_1d(gd), _1d(ctx.noise)).astype(gd.dtype, copy=False).reshape(gd.shape)), None


# Plain sums of exp(x) in [lo, hi] need no max shift (softmax is shift-invariant): nothing overflows, 1 / sum is a
# normal number, and a term that underflows is below 2^-90 of its sum. Other slices are redone with the shift.
_UNSHIFTED_SUM_RANGE = {np.dtype(np.float32): (2.0 ** -30, 2.0 ** 60), np.dtype(np.float64): (2.0 ** -200, 2.0 ** 500)}
UFUNC_BUFFER = 8192  # numpy's default ufunc buffer, in elements


# Arrays up to this size take the plain paths: at this size a NumPy call's fixed cost, not the data, sets the time.
SMALL = 1024


def sum_keepdim(a, dim, full=False):
    """a.sum(dim, keepdims=True); over the last axis by einsum's contiguous kernel for large float arrays (several
    times faster) and row_sums' BLAS product for small ones (with full, repeated along short rows)."""
    if dim == a.ndim - 1 and a.ndim:
        if a.dtype in _UNSHIFTED_SUM_RANGE and a.size > SMALL:
            return np.einsum("...i->...", a)[..., None]
        return row_sums(a, full)
    return np.add.reduce(a, axis=dim, keepdims=True)


def quiet(a):
    """A context ignoring floating-point errors for work on `a`: nothing to switch for small arrays, which rely on
    ember's global np.seterr(all="ignore") (an errstate switch costs more than their arithmetic)."""
    return _QUIET if a.size <= SMALL else np.errstate(all="ignore")


def row_buffers(a, dim=-1):
    """A context for ufuncs that broadcast per-row values along the rows (last axis) of a C-contiguous `a`
    (x - max, e / sum): numpy's ufunc buffer cut to the row length, so rows shorter than the default buffer are
    iterated in place rather than gathered into buffers (about 30% faster; gathering is faster for rows shorter
    than ~300). Errors are ignored inside, as in PyTorch's kernels (small arrays rely on ember's global
    np.seterr(all="ignore"), which saves the errstate switch that would cost more than the arithmetic)."""
    if a.size <= SMALL:
        return _QUIET
    state = np.errstate(all="ignore")
    n = a.shape[-1] if a.ndim else 1
    last = dim in (-1, a.ndim - 1) and a.flags.c_contiguous
    if last and 320 <= n < UFUNC_BUFFER and a.size >= 4 * UFUNC_BUFFER:
        return _Buffered(state, n // 16 * 16)
    return state


class _Quiet:
    """A context that does nothing (row_buffers of a small array)."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


_QUIET = _Quiet()


class _Buffered:
    """np.errstate that also sets the ufunc buffer size (errstate restores it on exit)."""

    def __init__(self, state, size):
        self.state, self.size = state, size

    def __enter__(self):
        self.state.__enter__()
        np.setbufsize(self.size)

    def __exit__(self, *exc):
        return self.state.__exit__(*exc)


def exp_sum(x, dim):
    """(e, s, shift) with e = exp(x - shift) and s = e.sum(dim) (keepdims, or repeated along dim as row_sums'
    full=True gives it for short rows of small arrays): the stable core of softmax, log_softmax and cross-entropy in
    one exp pass. shift is None when every slice's plain sum of exp(x) is in the safe range,
    else the max along dim for the slices that were redone shifted (0 for the others; all slices for small arrays
    out of that range or not reduced over their last dim, and for dtypes other than float32/64); NaN and inf
    propagate as in PyTorch's max-shifted kernels."""
    if x.size <= SMALL:
        es = small_exp_sum(x, dim)
        if es is not None:
            return es[0], es[1], None
    if x.dtype not in _UNSHIFTED_SUM_RANGE or x.size <= SMALL:
        shift = np.maximum.reduce(x, axis=dim, keepdims=True)
        e = np.subtract(x, shift, out=np.empty_like(x))
        np.exp(e, out=e)
        return e, sum_keepdim(e, dim), shift
    e = np.exp(x, out=np.empty_like(x))
    s = sum_keepdim(e, dim)
    lo, hi = _UNSHIFTED_SUM_RANGE[x.dtype]
    ok = (s >= lo) & (s <= hi)
    if ok.all():
        return e, s, None
    if dim == x.ndim - 1:
        bad = ~ok[..., 0]
        xb = x[bad]
        mb = np.max(xb, axis=-1, keepdims=True)
        eb = np.exp(np.subtract(xb, mb, out=np.empty_like(xb)))
        e[bad] = eb
        s[bad] = sum_keepdim(eb, -1)
        shift = np.zeros_like(s)
        shift[bad] = mb
        return e, s, shift
    shift = np.where(ok, 0, np.max(x, axis=dim, keepdims=True)).astype(x.dtype, copy=False)
    np.exp(np.subtract(x, shift, out=e), out=e)
    return e, sum_keepdim(e, dim), shift


def small_exp_sum(x, dim):
    """exp_sum's unshifted case for a small array (float32/64, reduced over its last dim): (e, s) with s from
    row_sums(full=True), or None when that does not apply or a sum is out of range (Python's min and max cannot pass
    a NaN off as in range, and a NaN sum's slice is NaN either way)."""
    rng = _UNSHIFTED_SUM_RANGE.get(x.dtype)
    if rng is None or not x.size or not x.ndim or dim != x.ndim - 1:
        return None
    e = np.exp(x)
    s = row_sums(e, True)
    vals = (s[:, 0] if s.ndim == 2 else s[..., 0].ravel()).tolist()
    if rng[0] <= min(vals) and max(vals) <= rng[1]:
        return e, s
    return None


def _vecdot_keepdim(a, b, dim):
    """sum(a * b, dim) keepdims, without the product temporary."""
    return np.expand_dims(np.vecdot(a, b, axis=dim), dim)


def softmax_array(x, dim):
    """softmax of array x over dim: exp, times the reciprocal of the sum (as torch's kernel)."""
    if x.size <= SMALL:
        es = small_exp_sum(x, dim)
        if es is None:
            if not x.size:
                return x.copy()
            es = exp_sum(x, dim)
        return np.multiply(es[0], np.reciprocal(es[1]), es[0])
    with row_buffers(x, dim):
        out, s, _ = exp_sum(x, dim)
        np.multiply(out, np.reciprocal(s), out=out)
    return out


def log_softmax_arrays(x, dim):
    """(log_softmax of array x over dim, (e, s) for the backward or None)."""
    if x.size == 0:
        return x.copy(), None
    with row_buffers(x, dim):
        e, s, shift = exp_sum(x, dim)
        if shift is None:
            out = np.subtract(x, np.log(s))
        else:
            out = np.subtract(x, shift)
            out -= np.log(s)  # (x - max) - log(sum), rounded as PyTorch rounds it
    return out, (e, s)


def recorded_softmax(cls, input, dim, rg):
    """Softmax or LogSoftmax (cls) of a float Tensor over dim (in range) for the fast paths: the kernel on its
    array and, with rg, the node recorded directly on the output (record_result), without Function.apply."""
    if cls is Softmax:
        out, es = softmax_array(input._data, dim), None
    else:
        out, es = log_softmax_arrays(input._data, dim)
    if not rg:
        return _wrap(out)
    t = record_result(cls, input, out, "out", 2)
    node = t._grad_fn
    node.dim, node.es = dim, es
    return t


class Softmax(Function):
    _raw = True
    _node_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = softmax_array(x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if STATE.enabled or out._data.size == 0 or out._data.ndim == 0:
            return out * (g - (g * out).sum(ctx.dim, keepdim=True)), None
        o, gd = out._data, g._data
        if o.size <= SMALL and ctx.dim == o.ndim - 1:
            gx = np.multiply(gd, o)
            np.subtract(gd, sum_keepdim(gx, ctx.dim, True), out=gx)
        else:
            with row_buffers(o, ctx.dim):
                gx = np.subtract(gd, _vecdot_keepdim(gd, o, ctx.dim))
        np.multiply(gx, o, out=gx)
        return Tensor._make(gx), None


class LogSoftmax(Function):
    """x - log(sum(exp(x))); the exp pass's result is kept, so backward (g - softmax * sum(g)) needs no exp."""

    _raw = True
    _node_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out, ctx.es = log_softmax_arrays(x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if STATE.enabled or ctx.es is None or out._data.ndim == 0:
            return g - E.exp(out) * g.sum(ctx.dim, keepdim=True), None
        e, s = ctx.es
        gd = g._data
        with row_buffers(e, ctx.dim):
            gx = np.multiply(e, sum_keepdim(gd, ctx.dim, True) / s)
            np.subtract(gd, gx, out=gx)
        return Tensor._make(gx), None
