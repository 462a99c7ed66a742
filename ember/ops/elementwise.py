"""Elementwise math: arithmetic with PyTorch's type promotion and broadcasting, and unary functions."""
import math

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._util import sum_to, as_tensor_arg, cast, float_dtype_for, to_tensor
from . import special_math as sm

np.seterr(all="ignore")  # PyTorch never warns on inf/nan arithmetic; neither do we.


def _result_dtype(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a._data.dtype == b._data.dtype:
            return _dtype.from_numpy_dtype(a._data.dtype)
    return _dtype.result_type(a, b)


def _check_tensor_operand(a, b, name):
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(a).__name__}")


# ---------------------------------------------------------------------------------------------
# binary ops
# ---------------------------------------------------------------------------------------------
class _Binary(Function):
    """Base of broadcasting binary ops: forward casts operands to the result dtype and calls np_fn."""

    _raw = True
    np_fn = None
    save = True

    @classmethod
    def forward(cls, ctx, a, b, nd):
        ctx.shapes = (np.shape(a), np.shape(b))
        ctx.scalars = (None if isinstance(a, np.ndarray) else a, None if isinstance(b, np.ndarray) else b)
        if cls.save:
            ctx.save_for_backward(a if isinstance(a, np.ndarray) else None, b if isinstance(b, np.ndarray) else None)
        return np.asarray(cls.np_fn(cast(a, nd), cast(b, nd)))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.operands()
        ga, gb = ctx.grads(g, a, b)
        sa, sb = ctx.shapes
        need = ctx.needs_input_grad
        return (sum_to(ga, sa) if need[0] and ga is not None else None,
                sum_to(gb, sb) if need[1] and gb is not None else None, None)

    def operands(self):
        saved = self.saved_tensors if self._saved is not None or self._freed else (None, None)
        a, b = saved if saved else (None, None)
        sa, sb = self.scalars
        return (a if a is not None else sa), (b if b is not None else sb)


def _binary(cls, a, b, name, nd=None):
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    _check_tensor_operand(a, b, name)
    if nd is None:
        nd = _result_dtype(a, b)
    return cls.apply(a, b, nd.np)


class Add(_Binary):
    _node_name = "AddBackward0"
    np_fn = np.add
    save = False

    def grads(self, g, a, b):
        return g, g


class Sub(_Binary):
    _node_name = "SubBackward0"
    np_fn = np.subtract
    save = False

    def grads(self, g, a, b):
        return g, -g


class Mul(_Binary):
    _node_name = "MulBackward0"
    np_fn = np.multiply

    def grads(self, g, a, b):
        return (g * b if self.needs_input_grad[0] else None), (g * a if self.needs_input_grad[1] else None)


class Div(_Binary):
    _node_name = "DivBackward0"
    np_fn = np.true_divide

    def grads(self, g, a, b):
        ga = g / b if self.needs_input_grad[0] else None
        gb = -g * a / (b * b) if self.needs_input_grad[1] else None
        return ga, gb


class Pow(_Binary):
    _node_name = "PowBackward0"
    np_fn = np.power

    def grads(self, g, a, b):
        ga = gb = None
        if self.needs_input_grad[0]:
            if isinstance(b, (int, float)) and b == 0:
                ga = g * 0
            else:
                ga = g * b * pow(a, b - 1)
        if self.needs_input_grad[1]:
            out = pow(a, b)
            la = log(a) if isinstance(a, Tensor) else math.log(a) if a > 0 else float("nan")
            gb = g * out * la
            if isinstance(a, Tensor):
                gb = where(Tensor._make((a._data == 0) & (to_tensor(b)._data >= 0)), zeros_like_(gb), gb)
            elif a == 0:
                gb = where(to_tensor(b) >= 0, zeros_like_(gb), gb)
        return ga, gb


class Atan2(_Binary):
    _node_name = "Atan2Backward0"
    np_fn = np.arctan2

    def grads(self, g, a, b):
        denom = a * a + b * b
        return g * b / denom, -g * a / denom


class _MaxMin(_Binary):
    def grads(self, g, a, b):
        a_t, b_t = to_tensor(a), to_tensor(b)
        tie = Tensor._make((a_t._data == b_t._data))
        win_a = Tensor._make(self.a_wins(a_t._data, b_t._data))
        half = g * 0.5
        ga = where(tie, half, where(win_a, g, zeros_like_(g)))
        gb = where(tie, half, where(win_a, zeros_like_(g), g))
        return ga, gb


class Maximum(_MaxMin):
    _node_name = "MaximumBackward0"
    np_fn = np.maximum

    @staticmethod
    def a_wins(a, b):
        return (a > b) | np.isnan(a)


class Minimum(_MaxMin):
    _node_name = "MinimumBackward0"
    np_fn = np.minimum

    @staticmethod
    def a_wins(a, b):
        return (a < b) | np.isnan(a)


class Fmax(_MaxMin):
    np_fn = np.fmax

    @staticmethod
    def a_wins(a, b):
        return (a > b) | np.isnan(b)


class Fmin(_MaxMin):
    np_fn = np.fmin

    @staticmethod
    def a_wins(a, b):
        return (a < b) | np.isnan(b)


class Remainder(_Binary):
    _node_name = "RemainderBackward0"
    np_fn = np.remainder

    def grads(self, g, a, b):
        return g, (-g * floor_divide(a, b) if self.needs_input_grad[1] else None)


class Fmod(_Binary):
    _node_name = "FmodBackward0"
    np_fn = np.fmod

    def grads(self, g, a, b):
        return g, (-g * trunc(div(a, b)) if self.needs_input_grad[1] else None)


class Hypot(_Binary):
    np_fn = np.hypot

    def grads(self, g, a, b):
        out = hypot(a, b)
        return g * a / out, g * b / out


class Logaddexp(_Binary):
    np_fn = np.logaddexp

    def grads(self, g, a, b):
        out = logaddexp(a, b)
        return g * exp(a - out), g * exp(b - out)


class Logaddexp2(_Binary):
    np_fn = np.logaddexp2

    def grads(self, g, a, b):
        out = logaddexp2(a, b)
        return g * pow(2.0, a - out), g * pow(2.0, b - out)


class Copysign(_Binary):
    np_fn = np.copysign

    def grads(self, g, a, b):
        a_t = to_tensor(a)
        s = Tensor._make(np.where(a_t._data == 0, 0.0, np.sign(a_t._data) * np.sign(np.copysign(1.0, to_tensor(b)._data)))
                         .astype(g._data.dtype))
        return g * s, g * 0


class _NoGrad(_Binary):
    """Binary ops with zero or undefined gradients (comparisons, integer ops)."""
    save = False

    def grads(self, g, a, b):
        return g * 0, g * 0


def add(input, other, *, alpha=1, out=None):
    if alpha != 1:
        other = mul(other, alpha)
    return _out(_binary(Add, input, other, "add"), out)


def sub(input, other, *, alpha=1, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    if (isinstance(a, Tensor) and a._data.dtype == np.bool_) and (isinstance(b, Tensor) and b._data.dtype == np.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        b = mul(b, alpha)
    return _out(_binary(Sub, a, b, "sub"), out)


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None):
    return _out(_binary(Mul, input, other, "mul"), out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _check_tensor_operand(a, b, "div")
    rd = _result_dtype(a, b)
    if rounding_mode is None:
        return _out(_binary(Div, a, b, "div", float_dtype_for(rd)), out)
    if rounding_mode == "trunc":
        if rd.is_floating_point:
            return _out(trunc(_binary(Div, a, b, "div", rd)), out)
        return _out(_binary(_TruncDivInt, a, b, "div", rd), out)
    if rounding_mode == "floor":
        return _out(floor_divide(a, b), out)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


divide = div
true_divide = div


class _TruncDivInt(_NoGrad):
    @staticmethod
    def np_fn(a, b):
        _check_int_zero_div(b)
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))


def _check_int_zero_div(b):
    if isinstance(b, np.ndarray) and b.dtype.kind in "iu" and (b == 0).any() or (isinstance(b, int) and b == 0):
        raise RuntimeError("ZeroDivisionError")


class _FloorDiv(_NoGrad):
    @staticmethod
    def np_fn(a, b):
        if (isinstance(a, np.ndarray) and a.dtype.kind in "iu") or isinstance(a, int):
            _check_int_zero_div(b)
        return np.floor_divide(a, b)


def floor_divide(input, other, *, out=None):
    return _out(_binary(_FloorDiv, input, other, "floor_divide"), out)


def remainder(input, other, *, out=None):
    return _out(_binary(Remainder, input, other, "remainder"), out)


def fmod(input, other, *, out=None):
    return _out(_binary(Fmod, input, other, "fmod"), out)


def pow(input, exponent, *, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(exponent)
    rd = _result_dtype(a, b)
    if not (rd.is_floating_point or rd.is_complex):
        bd = b._data if isinstance(b, Tensor) else np.asarray(b)
        if (bd < 0).any():
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    if isinstance(b, (int, float)) and not isinstance(a, Tensor):
        raise TypeError("pow(): argument 'input' must be Tensor")
    return _out(_binary(Pow, a, b, "pow", rd), out)


def float_power(input, exponent, *, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(exponent)
    cd = _dtype.complex128 if any(isinstance(v, Tensor) and v.is_complex() or isinstance(v, complex) for v in (a, b)) \
        else _dtype.float64
    a = a.to(cd) if isinstance(a, Tensor) else a
    b = b.to(cd) if isinstance(b, Tensor) else b
    return _out(_binary(Pow, a, b, "float_power", cd), out)


def atan2(input, other, *, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    return _out(_binary(Atan2, a, b, "atan2", float_dtype_for(_result_dtype(a, b))), out)


arctan2 = atan2


def maximum(input, other, *, out=None):
    return _out(_binary(Maximum, input, other, "maximum"), out)


def minimum(input, other, *, out=None):
    return _out(_binary(Minimum, input, other, "minimum"), out)


def fmax(input, other, *, out=None):
    return _out(_binary(Fmax, input, other, "fmax"), out)


def fmin(input, other, *, out=None):
    return _out(_binary(Fmin, input, other, "fmin"), out)


def hypot(input, other, *, out=None):
    return _out(_binary(Hypot, input, other, "hypot"), out)


def logaddexp(input, other, *, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    return _out(_binary(Logaddexp, a, b, "logaddexp", float_dtype_for(_result_dtype(a, b))), out)


def logaddexp2(input, other, *, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    return _out(_binary(Logaddexp2, a, b, "logaddexp2", float_dtype_for(_result_dtype(a, b))), out)


def copysign(input, other, *, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    return _out(_binary(Copysign, a, b, "copysign", float_dtype_for(_result_dtype(a, b))), out)


def _make_nograd_binary(np_fn, name, int_only=False, out_bool=False):
    cls = type(name.capitalize(), (_NoGrad,), {"np_fn": staticmethod(np_fn)})

    def op(input, other, *, out=None):
        a, b = as_tensor_arg(input), as_tensor_arg(other)
        _check_tensor_operand(a, b, name)
        nd = _result_dtype(a, b)
        if int_only and (nd.is_floating_point or nd.is_complex):
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{nd.name.capitalize()}\'')
        with _no_record():
            r = cls.apply(a, b, nd.np)
        return _out(r, out)

    op.__name__ = name
    return op


class _no_record:
    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc):
        STATE.enabled = self.prev


eq = _make_nograd_binary(np.equal, "eq")
ne = _make_nograd_binary(np.not_equal, "ne")
lt = _make_nograd_binary(np.less, "lt")
le = _make_nograd_binary(np.less_equal, "le")
gt = _make_nograd_binary(np.greater, "gt")
ge = _make_nograd_binary(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _make_nograd_binary(np.logical_and, "logical_and")
logical_or = _make_nograd_binary(np.logical_or, "logical_or")
logical_xor = _make_nograd_binary(np.logical_xor, "logical_xor")
bitwise_and = _make_nograd_binary(np.bitwise_and, "bitwise_and", int_only=True)
bitwise_or = _make_nograd_binary(np.bitwise_or, "bitwise_or", int_only=True)
bitwise_xor = _make_nograd_binary(np.bitwise_xor, "bitwise_xor", int_only=True)
bitwise_left_shift = _make_nograd_binary(np.left_shift, "bitwise_left_shift", int_only=True)
bitwise_right_shift = _make_nograd_binary(np.right_shift, "bitwise_right_shift", int_only=True)


def _out(result, out):
    if out is None:
        return result
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, out._data.dtype)
    np.copyto(out._data, result._data, casting="unsafe")
    out._bump()
    return out


# ---------------------------------------------------------------------------------------------
# unary ops
# ---------------------------------------------------------------------------------------------
class _Unary(Function):
    """Base of unary ops. `uses` says what backward needs saved: 'x', 'out' or nothing."""

    _raw = True
    uses = "x"
    float_out = True

    @classmethod
    def forward(cls, ctx, x):
        if cls.float_out and x.dtype.kind not in "fc":
            x = x.astype(_dtype.get_default_dtype().np)
        out = np.asarray(cls.compute(x))
        if out.dtype != x.dtype and x.dtype.kind in "fc":
            out = out.astype(x.dtype)
        if cls.uses == "x":
            ctx.save_for_backward(x)
        elif cls.uses == "out":
            ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        return ctx.grad(g, saved[0] if saved else None)


def _unary(name, compute, grad, uses="x", float_out=True, node=None):
    cls = type(name, (_Unary,), {"compute": staticmethod(compute), "grad": staticmethod(grad), "uses": uses,
                                 "float_out": float_out,
                                 "_node_name": node or name[0].upper() + name[1:] + "Backward0"})

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        return _out(cls.apply(input), out)

    op.__name__ = name
    op.__qualname__ = name
    return op


LN2, LN10 = math.log(2.0), math.log(10.0)

exp = _unary("exp", np.exp, lambda g, out: g * out, "out")
exp2 = _unary("exp2", np.exp2, lambda g, out: g * out * LN2, "out")
expm1 = _unary("expm1", np.expm1, lambda g, out: g * (out + 1), "out")
log = _unary("log", np.log, lambda g, x: g / x)
log2 = _unary("log2", np.log2, lambda g, x: g / (x * LN2))
log10 = _unary("log10", np.log10, lambda g, x: g / (x * LN10))
log1p = _unary("log1p", np.log1p, lambda g, x: g / (x + 1))
sqrt = _unary("sqrt", np.sqrt, lambda g, out: g / (out * 2), "out")
rsqrt = _unary("rsqrt", lambda x: 1 / np.sqrt(x), lambda g, out: g * out * out * out * -0.5, "out")
sin = _unary("sin", np.sin, lambda g, x: g * cos(x))
cos = _unary("cos", np.cos, lambda g, x: -g * sin(x))
tan = _unary("tan", np.tan, lambda g, out: g * (out * out + 1), "out")
asin = _unary("asin", np.arcsin, lambda g, x: g * rsqrt(-x * x + 1))
acos = _unary("acos", np.arccos, lambda g, x: -g * rsqrt(-x * x + 1))
atan = _unary("atan", np.arctan, lambda g, x: g / (x * x + 1))
sinh = _unary("sinh", np.sinh, lambda g, x: g * cosh(x))
cosh = _unary("cosh", np.cosh, lambda g, x: g * sinh(x))
tanh = _unary("tanh", np.tanh, lambda g, out: g * (-out * out + 1), "out")
asinh = _unary("asinh", np.arcsinh, lambda g, x: g * rsqrt(x * x + 1))
acosh = _unary("acosh", np.arccosh, lambda g, x: g * rsqrt(x * x - 1))
atanh = _unary("atanh", np.arctanh, lambda g, x: g / (-x * x + 1))
sigmoid = _unary("sigmoid", sm.expit, lambda g, out: g * out * (-out + 1), "out")
erf = _unary("erf", sm.erf, lambda g, x: g * (2 / math.sqrt(math.pi)) * exp(-x * x))
erfc = _unary("erfc", sm.erfc, lambda g, x: g * (-2 / math.sqrt(math.pi)) * exp(-x * x))
erfinv = _unary("erfinv", sm.erfinv, lambda g, out: g * (math.sqrt(math.pi) / 2) * exp(out * out), "out")
lgamma = _unary("lgamma", sm.lgamma, lambda g, x: g * digamma(x))
digamma = _unary("digamma", sm.digamma, lambda g, x: g * _polygamma1(x))
_polygamma1 = _unary("polygamma1", lambda x: sm.polygamma(1, x), lambda g, x: g * _polygamma2(x),
                     node="PolygammaBackward0")
_polygamma2 = _unary("polygamma2", lambda x: sm.polygamma(2, x), lambda g, x: g * _polygamma3(x),
                     node="PolygammaBackward0")
_polygamma3 = _unary("polygamma3", lambda x: sm.polygamma(3, x), lambda g, x: None, node="PolygammaBackward0")
reciprocal = _unary("reciprocal", np.reciprocal, lambda g, out: -g * out * out, "out")
square = _unary("square", np.square, lambda g, x: g * x * 2, float_out=False)
abs = _unary("abs", np.abs, lambda g, x: g * sgn(x), float_out=False)
absolute = abs
neg = _unary("neg", np.negative, lambda g, x: -g, None, float_out=False)
negative = neg
positive = lambda input: input
frac = _unary("frac", lambda x: x - np.trunc(x), lambda g, x: g, None, float_out=False)
sinc = _unary("sinc", sm.sinc, lambda g, x: g * Tensor._make(
    np.where(x._data == 0, 0.0, (np.cos(np.pi * x._data) * np.pi * x._data - np.sin(np.pi * x._data)) /
             (np.pi * x._data ** 2)).astype(x._data.dtype)))
i0 = _unary("i0", sm.i0, lambda g, x: g * Tensor._make(sm.i1(x._data)))


def _zero_grad_unary(name, compute, float_out=False):
    return _unary(name, compute, lambda g, x: g * 0, None, float_out=float_out)


sign = _zero_grad_unary("sign", np.sign)
sgn = sign
floor = _zero_grad_unary("floor", lambda x: np.floor(x) if x.dtype.kind in "fc" else x.copy())
ceil = _zero_grad_unary("ceil", lambda x: np.ceil(x) if x.dtype.kind in "fc" else x.copy())
trunc = _zero_grad_unary("trunc", lambda x: np.trunc(x) if x.dtype.kind in "fc" else x.copy())
fix = trunc
_round0 = _zero_grad_unary("round", lambda x: np.round(x) if x.dtype.kind in "fc" else x.copy())
def round(input, *, decimals=0, out=None):
    if decimals == 0:
        return _round0(input, out=out)
    scale = 10.0 ** decimals
    return _out(_round0(input * scale) / scale, out)


def _nondiff_unary(np_fn, name):
    def op(input, *, out=None):
        return _out(Tensor._make(np.asarray(np_fn(input._data))), out)
    op.__name__ = name
    return op


isnan = _nondiff_unary(np.isnan, "isnan")
isinf = _nondiff_unary(np.isinf, "isinf")
isfinite = _nondiff_unary(np.isfinite, "isfinite")
isposinf = _nondiff_unary(np.isposinf, "isposinf")
isneginf = _nondiff_unary(np.isneginf, "isneginf")
isreal = _nondiff_unary(np.isreal, "isreal")
signbit = _nondiff_unary(np.signbit, "signbit")
logical_not = _nondiff_unary(np.logical_not, "logical_not")


def bitwise_not(input, *, out=None):
    if input._data.dtype.kind not in "iub":
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{input.dtype.name.capitalize()}'")
    return _out(Tensor._make(np.invert(input._data)), out)


# ---------------------------------------------------------------------------------------------
# ops with extra arguments
# ---------------------------------------------------------------------------------------------
class Clamp(Function):
    _raw = True
    _node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        out = x
        if lo is not None:
            out = np.maximum(out, lo) if not isinstance(lo, np.ndarray) else np.maximum(out, lo.astype(x.dtype))
        if hi is not None:
            out = np.minimum(out, hi) if not isinstance(hi, np.ndarray) else np.minimum(out, hi.astype(x.dtype))
        if out is x:
            out = x.copy()
        if x.dtype.kind == "f":
            out = np.where(np.isnan(x), x, out)
        ctx.save_for_backward(x, lo if isinstance(lo, np.ndarray) else None, hi if isinstance(hi, np.ndarray) else None)
        ctx.bounds = (lo, hi)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, lo_t, hi_t = ctx.saved_tensors
        lo, hi = ctx.bounds
        xd = x._data
        keep = np.ones(xd.shape, bool)
        lo_d = lo_t._data if lo_t is not None else lo
        hi_d = hi_t._data if hi_t is not None else hi
        if lo is not None:
            keep &= xd >= lo_d
        if hi is not None:
            keep &= xd <= hi_d
        gx = g * Tensor._make(np.broadcast_to(keep, g._data.shape).astype(g._data.dtype))
        glo = ghi = None
        if lo_t is not None and ctx.needs_input_grad[1]:
            glo = sum_to(g * Tensor._make(np.broadcast_to(xd < lo_d, g._data.shape).astype(g._data.dtype)), lo_t.shape)
        if hi_t is not None and ctx.needs_input_grad[2]:
            m = (xd > hi_d) & ((xd >= lo_d) if lo is not None else True)
            ghi = sum_to(g * Tensor._make(np.broadcast_to(m, g._data.shape).astype(g._data.dtype)), hi_t.shape)
        return sum_to(gx, x.shape), glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = as_tensor_arg(min) if min is not None else None
    hi = as_tensor_arg(max) if max is not None else None
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        nd = _dtype.result_type(*[v for v in (input, lo, hi) if v is not None])
        if nd != input.dtype:
            input = input.to(nd)
    elif input._data.dtype.kind in "iub" and any(isinstance(v, float) for v in (lo, hi)):
        input = input.to(_dtype.get_default_dtype())
    return _out(Clamp.apply(input, lo, hi), out)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class Where(Function):
    _raw = True
    _node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b, nd):
        ctx.cond = cond
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.where(cond, cast(a, nd), cast(b, nd))

    @staticmethod
    def backward(ctx, g):
        cond = Tensor._make(ctx.cond)
        z = zeros_like_(g)
        sa, sb = ctx.shapes
        ga = sum_to(where(cond, g, z), sa) if ctx.needs_input_grad[1] else None
        gb = sum_to(where(cond, z, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb, None


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        if cond.dtype == np.uint8:
            cond = cond.astype(bool)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dtype.from_numpy_dtype(cond.dtype).name.capitalize()}")
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    nd = _result_dtype(a, b)
    return _out(Where.apply(Tensor._make(cond), a, b, nd.np), out)


def lerp(input, end, weight, *, out=None):
    return _out(input + weight * (end - input), out)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    d = input._data
    if d.dtype.kind not in "fc":
        return _out(input.clone(), out)
    fi = np.finfo(d.dtype)
    posinf = fi.max if posinf is None else posinf
    neginf = fi.min if neginf is None else neginf
    keep = Tensor._make(np.isfinite(d))
    repl = Tensor._make(np.nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf))
    return _out(where(keep, input, repl), out)


def xlogy(input, other, *, out=None):
    a, b = to_tensor(as_tensor_arg(input)), to_tensor(as_tensor_arg(other))
    nd = float_dtype_for(_result_dtype(a, b))
    a, b = a.to(nd), b.to(nd)
    res = a * log(b)
    zero = Tensor._make((a._data == 0) & ~np.isnan(b._data))
    return _out(where(zero, zeros_like_(res), res), out)


def logit(input, eps=None, *, out=None):
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return _out(log(x / (1 - x)), out)


def zeros_like_(t):
    return Tensor._make(np.zeros(t._data.shape, t._data.dtype))


# ---------------------------------------------------------------------------------------------
# copies and dtype conversion
# ---------------------------------------------------------------------------------------------
class Clone(Function):
    _raw = True
    _node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


class Cast(Function):
    _raw = True
    _node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, nd, copy):
        ctx.src = x.dtype
        if x.dtype == nd and not copy:
            return x.view()
        if nd.kind not in "c" and x.dtype.kind == "c":
            return x.real.astype(nd)
        return x.astype(nd)

    @staticmethod
    def backward(ctx, g):
        if g._data.dtype == ctx.src:
            return g, None, None
        return Cast.apply(g, ctx.src, False), None, None


def cast_to(t, d, copy=False):
    """Tensor t converted to ember dtype d (returns t itself when nothing changes and no copy asked)."""
    if t._data.dtype == d.np and not copy:
        return t
    return Cast.apply(t, d.np, copy)


def real(input):
    return Tensor._make(input._data.real) if input.is_complex() else input


def imag(input):
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Tensor._make(input._data.imag)


__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "float_power", "atan2", "arctan2", "maximum", "minimum", "fmax", "fmin", "hypot", "logaddexp",
    "logaddexp2", "copysign", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
    "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "erfinv",
    "lgamma", "digamma", "reciprocal", "square", "abs", "absolute", "neg", "negative", "positive", "frac", "sinc",
    "i0", "sign", "sgn", "floor", "ceil", "trunc", "fix", "round", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "isreal", "signbit", "clamp", "clip", "clamp_min", "clamp_max", "where", "lerp", "nan_to_num",
    "xlogy", "logit", "clone", "real", "imag",
]
for _n, _np_name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                     ("arccosh", "acosh"), ("arctanh", "atanh")]:
    globals()[_n] = globals()[_np_name]
    __all__.append(_n)
