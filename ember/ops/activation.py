"""Activation kernels: one fused Function per activation, with a backward written in ember ops
(so double backward works); softmax/log_softmax are stable and fused: one exp pass per element, shifted by the
max only where the plain exponentials would leave float range, and none in backward."""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from . import special_math as sm
from . import elementwise as E
from ..autograd.grad_mode import STATE


def _const(mask, like):
    """A constant tensor from a NumPy mask/array, in the gradient's dtype."""
    return Tensor._make(np.asarray(mask, dtype=like._data.dtype))


class _Pointwise(Function):
    """forward: `compute(x, *params)`; backward: g * `deriv(x_tensor, out_tensor, *params)`."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x, *params):
        out = cls.compute(x, *params)
        if out.dtype != x.dtype:
            out = out.astype(x.dtype)
        ctx.params = params
        ctx.save_for_backward(x, out)
        return out

    @classmethod
    def backward(cls, ctx, g):
        x, out = ctx.saved_tensors
        return (g * cls.deriv(x, out, *ctx.params),) + (None,) * len(ctx.params)


def _pointwise(name, compute, deriv, node=None):
    cls = type(name, (_Pointwise,), {"compute": staticmethod(compute), "deriv": staticmethod(deriv),
                                     "_node_name": node or name + "Backward0"})
    return cls


SQRT_2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
ONE_SIXTH_F32 = float(np.float32(1.0 / 6.0))  # PyTorch's hardsigmoid backward uses the float constant
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _elu_compute(x, alpha, scale, input_scale, bw_input_scale):
    neg = alpha * np.expm1(np.minimum(x, 0) * input_scale)
    return scale * np.where(x > 0, x, neg)


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
        out = np.maximum(x, x.dtype.type(0))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if STATE.enabled:
            return E.where(Tensor._make(out._data <= 0), 0.0, g)
        gd = g._data
        return Tensor._make(np.where(out._data <= 0, gd.dtype.type(0), gd))


Elu = _pointwise("Elu", _elu_compute, _elu_deriv)
EluResult = _pointwise("EluResult", _elu_compute, _elu_result_deriv, node="EluBackward1")
LeakyRelu = _pointwise("LeakyRelu", lambda x, s: np.where(x > 0, x, x * s),
                       lambda x, out, s: _const(np.where(x._data > 0, 1.0, s), x))
Hardtanh = _pointwise("Hardtanh", lambda x, lo, hi: np.clip(x, lo, hi),
                      lambda x, out, lo, hi: _const((x._data > lo) & (x._data < hi), x))
Hardsigmoid = _pointwise("Hardsigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1),
                         lambda x, out: _const(((x._data > -3) & (x._data < 3)) * ONE_SIXTH_F32, x))
Hardswish = _pointwise("Hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6,
                       lambda x, out: E.where(Tensor._make(x._data <= -3), 0.0,
                                              E.where(Tensor._make(x._data < 3), x / 3 + 0.5, 1.0)))
Hardshrink = _pointwise("Hardshrink", lambda x, l: np.where(np.abs(x) <= l, 0, x),
                        lambda x, out, l: _const(~(np.abs(x._data) <= l), x))
Softshrink = _pointwise("Softshrink", lambda x, l: np.where(np.abs(x) <= l, 0, x - np.copysign(l, x)),
                        lambda x, out, l: _const(~(np.abs(x._data) <= l), x))
Threshold = _pointwise("Threshold", lambda x, th, v: np.where(x <= th, v, x),
                       lambda x, out, th, v: _const(~(x._data <= th), x))
Softsign = _pointwise("Softsign", lambda x: x / (1 + np.abs(x)), lambda x, out: (x.abs() + 1).pow(-2))
Tanhshrink = _pointwise("Tanhshrink", lambda x: x - np.tanh(x), lambda x, out: E.tanh(x).pow(2))
Silu = _pointwise("Silu", lambda x: x * sm.expit(x),
                  lambda x, out: E.sigmoid(x) * (x * (1 - E.sigmoid(x)) + 1))


def _softplus_compute(x, beta, threshold):
    bx = x * beta
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def _softplus_deriv(x, out, beta, threshold):
    return E.where(Tensor._make(x._data * beta > threshold), 1.0, E.sigmoid(x * beta))


Softplus = _pointwise("Softplus", _softplus_compute, _softplus_deriv)
LogSigmoid = _pointwise("LogSigmoid", lambda x: np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))),
                        lambda x, out: E.sigmoid(-x), node="LogSigmoidBackward0")


def _mish_compute(x):
    return x * np.tanh(_softplus_compute(x, 1.0, 20.0))


def _mish_deriv(x, out):
    sp = Softplus.apply(x, 1.0, 20.0)
    t = E.tanh(sp)
    return t + x * E.sigmoid(x) * (1 - t * t)


Mish = _pointwise("Mish", _mish_compute, _mish_deriv)


def _gelu_compute(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + sm.erf(x / SQRT_2))


def _gelu_deriv(x, out, approximate):
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * SQRT_2_OVER_PI
        t = E.tanh(inner)
        return (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * SQRT_2_OVER_PI * (x * x * (3 * 0.044715) + 1)
    return (E.erf(x * (1 / SQRT_2)) + 1) * 0.5 + x * E.exp(x * x * -0.5) * INV_SQRT_2PI


Gelu = _pointwise("Gelu", _gelu_compute, _gelu_deriv)


class Prelu(Function):
    """PReLU with one weight, or one per channel (dim 1)."""

    _raw = True
    _node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w):
        wb = w.reshape((1, -1) + (1,) * (x.ndim - 2)) if w.size > 1 else w.reshape(())
        ctx.save_for_backward(x, w)
        return np.where(x > 0, x, wb * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        pos = _const(x._data > 0, x)
        wb = w.reshape((1, -1) + (1,) * (x.dim() - 2)) if w.numel() > 1 else w.reshape(())
        gx = g * (pos + (1 - pos) * wb)
        gw = None
        if ctx.needs_input_grad[1]:
            contrib = g * x * (1 - pos)
            if w.numel() > 1:
                dims = (0,) + tuple(range(2, x.dim()))
                gw = contrib.sum(dims).reshape(w.shape)
            else:
                gw = contrib.sum().reshape(w.shape)
        return gx, gw


class RreluWithNoise(Function):
    """RReLU in training mode: negative inputs scaled by per-element random slopes (`noise`)."""

    _raw = True
    _node_name = "RreluWithNoiseBackward0"

    @staticmethod
    def forward(ctx, x, noise):
        ctx.noise = noise
        return np.where(x >= 0, x, x * noise).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * _const(ctx.noise, g), None


# Plain sums of exp(x) in [lo, hi] need no max shift (softmax is shift-invariant): nothing overflows, 1 / sum is a
# normal number, and a term that underflows is below 2^-90 of its sum. Other slices are redone with the shift.
_UNSHIFTED_SUM_RANGE = {np.dtype(np.float32): (2.0 ** -30, 2.0 ** 60), np.dtype(np.float64): (2.0 ** -200, 2.0 ** 500)}
UFUNC_BUFFER = 8192  # numpy's default ufunc buffer, in elements


def sum_keepdim(a, dim):
    """a.sum(dim, keepdims=True); over the last axis by einsum's contiguous kernel (several times faster)."""
    if dim == a.ndim - 1 and a.dtype in _UNSHIFTED_SUM_RANGE:
        return np.einsum("...i->...", a)[..., None]
    return np.sum(a, axis=dim, keepdims=True)


def row_buffers(a, dim=-1):
    """A context for ufuncs that broadcast per-row values along the rows (last axis) of a C-contiguous `a`
    (x - max, e / sum): numpy's ufunc buffer cut to the row length, so rows shorter than the default buffer are
    iterated in place rather than gathered into buffers (about 30% faster; gathering is faster for rows shorter
    than ~300). Errors are ignored inside, as in PyTorch's kernels."""
    state = np.errstate(all="ignore")
    n = a.shape[-1] if a.ndim else 1
    last = dim in (-1, a.ndim - 1) and a.flags.c_contiguous
    if last and 320 <= n < UFUNC_BUFFER and a.size >= 4 * UFUNC_BUFFER:
        return _Buffered(state, n // 16 * 16)
    return state


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
    """(e, s, shift) with e = exp(x - shift) and s = e.sum(dim) (keepdims): the stable core of softmax, log_softmax
    and cross-entropy in one exp pass. shift is None when every slice's plain sum of exp(x) is in the safe range,
    else the max along dim for the slices that were redone shifted (0 for the others; all slices for dtypes other
    than float32/64); NaN and inf propagate as in PyTorch's max-shifted kernels."""
    if x.dtype not in _UNSHIFTED_SUM_RANGE:
        shift = np.max(x, axis=dim, keepdims=True)
        e = np.exp(np.subtract(x, shift, out=np.empty_like(x)))
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


def _vecdot_keepdim(a, b, dim):
    """sum(a * b, dim) keepdims, without the product temporary."""
    return np.expand_dims(np.vecdot(a, b, axis=dim), dim)


class Softmax(Function):
    _raw = True
    _node_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.size == 0:
            out = x.copy()
        else:
            with row_buffers(x, dim):
                out, s, _ = exp_sum(x, dim)
                np.multiply(out, 1 / s, out=out)  # torch multiplies by the reciprocal sum too
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if STATE.enabled or out._data.size == 0 or out._data.ndim == 0:
            return out * (g - (g * out).sum(ctx.dim, keepdim=True)), None
        o, gd = out._data, g._data
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
        ctx.es = None
        if x.size == 0:
            out = x.copy()
        else:
            with row_buffers(x, dim):
                e, s, shift = exp_sum(x, dim)
                if shift is None:
                    out = np.subtract(x, np.log(s))
                else:
                    out = np.subtract(x, shift)
                    out -= np.log(s)  # (x - max) - log(sum), rounded as PyTorch rounds it
            ctx.es = (e, s)
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
            gx = np.multiply(e, sum_keepdim(gd, ctx.dim) / s)
            np.subtract(gd, gx, out=gx)
        return Tensor._make(gx), None
