"""Elementwise math: arithmetic with PyTorch's type promotion and broadcasting, and unary functions."""
import builtins
import math
import warnings

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from .. import return_types
from ..autograd.function import Function, record_result, edge, saved_input, NOT_TENSOR, overload, as_node, _wrap
from ..autograd.grad_mode import STATE
from ._util import sum_to, sum_to_array, as_tensor_arg, float_dtype_for, to_tensor, holomorphic_grads
from . import special_math as sm
from . import _bits

np.seterr(all="ignore")  # PyTorch never warns on inf/nan arithmetic; neither do we.

_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "float16": "c10::Half", "float32": "float", "float64": "double"}


def _kind(d):
    """One letter for d's category: b(ool), i(nteger), f(loat) or c(omplex)."""
    return "bifc"[d._category]


def _nyi(kinds, kernel):
    """An `errors` entry: PyTorch has no `kernel` for these dtype kinds (NotImplementedError naming the dtype)."""
    return {kinds: (NotImplementedError, f"\"{kernel}\" not implemented for '{{}}'")}


def _reject(d, errors):
    """Raise the error PyTorch gives for dtype d if `errors` (kinds -> (exception class, message)) lists its kind."""
    for kinds, (exc, msg) in errors.items():
        if _kind(d) in kinds:
            raise exc(msg.format(_dtype.scalar_name(d)))


def _result_dtype(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a._data.dtype == b._data.dtype:
            return _dtype.from_numpy_dtype(a._data.dtype)
    return _dtype.result_type(a, b)


def _check_operands(a, b, name, operands):
    """Check which arguments may be Python scalars: 'scalars' (both), 'any' (one Tensor suffices), 'self' (the
    input must be a Tensor) or 'tensors' (neither)."""
    if operands == "scalars":
        return
    if operands == "tensors":
        for pos, (arg, v) in enumerate((("input", a), ("other", b)), 1):
            if not isinstance(v, Tensor):
                raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")
    elif not isinstance(a, Tensor):
        if operands == "self" and isinstance(b, Tensor):
            raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(a).__name__}, "
                            "Tensor), but expected (Tensor input, Tensor other) or (Tensor input, Number other)")
        if not isinstance(b, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(a).__name__}")


def _operand(a, np_dtype):
    """An operand as an array of the computation dtype; Python ints wrap around as PyTorch's scalar casts do."""
    if isinstance(a, np.ndarray):
        return a if a.dtype == np_dtype else a.astype(np_dtype)
    return np.asarray(a).astype(np_dtype)


# ---------------------------------------------------------------------------------------------
# binary ops
# ---------------------------------------------------------------------------------------------
_NO_SCALARS = (None, None)


class _Binary(Function):
    """Base of broadcasting binary ops: forward casts both operands to the computation dtype and calls np_fn.

    `errors` maps dtype kinds of the promoted dtype to the error PyTorch raises for them, `scalar_args` says which
    arguments may be Python scalars, `float_out` makes integer inputs compute in the default float dtype.
    """

    _raw = True
    np_fn = None
    save = True
    errors = {}
    scalar_args = "any"
    float_out = False
    int_scalars = False  # whether a Python int in an integer tensor's range goes straight to np_fn (wrapping as torch)
    ufunc_like = False   # np_fn is not a ufunc but computes in its operands' dtype as one (may take the fast paths)
    _fast_dtypes = {}    # numpy dtype -> whether _fast_dtype holds (one dict per op class)
    scalar_nodes = None  # PyTorch's node names when the first or the second operand is a Python number

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._fast_dtypes = {}

    @classmethod
    def forward(cls, ctx, a, b, nd):
        if type(a) is np.ndarray and a.dtype is nd:
            # No casts needed: b is an array in nd, or a Python number the ufunc casts to float nd as _operand would.
            tb = type(b)
            if tb is np.ndarray and b.dtype is nd:
                b_shape, scalars, b_saved = b.shape, _NO_SCALARS, b
            elif (tb is float or tb is int) and nd.kind == "f" and _fast_dtype(cls, nd):
                b_shape, scalars, b_saved = (), (None, b), None
            else:
                b_shape = None
            if b_shape is not None:
                ctx.shapes = (a.shape, b_shape)
                ctx.scalars = scalars
                if cls.save:
                    ctx.save_for_backward(a, b_saved)
                out = cls.np_fn(a, b)
                return out if type(out) is np.ndarray else np.asarray(out)
        a_arr, b_arr = isinstance(a, np.ndarray), isinstance(b, np.ndarray)
        ctx.shapes = (a.shape if a_arr else np.shape(a), b.shape if b_arr else np.shape(b))
        ctx.scalars = (None if a_arr else a, None if b_arr else b)
        if cls.save:
            ctx.save_for_backward(a if a_arr else None, b if b_arr else None)
        out = cls.np_fn(_operand(a, nd), _operand(b, nd))
        return out if type(out) is np.ndarray else np.asarray(out)

    array_grads = None   # (g, a, b, need) -> (ga, gb) on float32/64 arrays, for a backward that records no graph

    @staticmethod
    def backward(ctx, g):
        if ctx.array_grads is not None and not STATE.enabled:
            grads = _array_backward(ctx, g._data)
            if grads is not None:
                return grads
        a, b = ctx.operands()
        ga, gb = holomorphic_grads(ctx.grads, g, a, b)
        sa, sb = ctx.shapes
        need = ctx.needs_input_grad
        return (sum_to(ga, sa) if need[0] and ga is not None else None,
                sum_to(gb, sb) if need[1] and gb is not None else None, None)

    def operands(self):
        """(a, b): the saved tensors, or the numbers given in their place."""
        return self._with_scalars(self.saved_tensors if self._saved is not None or self._freed else ())

    def array_operands(self):
        """operands() with the arrays of the saved tensors."""
        return self._with_scalars(self.saved_arrays() if self._saved is not None or self._freed else ())

    def _with_scalars(self, saved):
        a, b = saved if saved else (None, None)
        sa, sb = self.scalars
        return (a if a is not None else sa), (b if b is not None else sb)


def _array_backward(ctx, g):
    """A binary op's gradients by its array_grads on the arrays, when g is float32/64 and each operand is a number or
    an array of g's dtype (no casts whose rounding the Tensor formulas would make differently); else None."""
    dt = g.dtype
    if dt.char not in "fd":
        return None
    a, b = ctx.array_operands()
    if (type(a) is np.ndarray and a.dtype is not dt) or (type(b) is np.ndarray and b.dtype is not dt):
        return None
    need = ctx.needs_input_grad
    ga, gb = ctx.array_grads(g, a, b, need)
    sa, sb = ctx.shapes
    return (_grad_tensor(ga, sa) if need[0] and ga is not None else None,
            _grad_tensor(gb, sb) if need[1] and gb is not None else None, None)


def _grad_tensor(g, shape):
    """Gradient array g (a NumPy scalar for 0-d operands) summed down to an input's shape, as a Tensor."""
    g = sum_to_array(g, shape)
    return _wrap(g if type(g) is np.ndarray else np.asarray(g))


def _broadcast_check(*operands):
    """Raise PyTorch's RuntimeError when the shapes of the Tensor operands do not broadcast together."""
    shapes = [o._data.shape for o in operands if isinstance(o, Tensor)]
    sa = shapes[0]
    for sb in shapes[1:]:
        if sb == sa:
            continue
        n = max(len(sa), len(sb))
        pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
        bad = [i for i in range(n) if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1]
        if bad:
            raise RuntimeError(f"The size of tensor a ({pa[bad[-1]]}) must match the size of tensor b "
                               f"({pb[bad[-1]]}) at non-singleton dimension {bad[-1]}")
        sa = tuple(x if y == 1 else y for x, y in zip(pa, pb))


def _fast_dtype(cls, np_dtype):
    """Whether ufunc op cls computes in np_dtype itself with no dtype error (cached per op and dtype)."""
    ok = cls._fast_dtypes.get(np_dtype)
    if ok is None:
        kind = _kind(_dtype.from_numpy_dtype(np_dtype))
        ok = cls._fast_dtypes[np_dtype] = (isinstance(cls.np_fn, np.ufunc) or cls.ufunc_like) and not any(
            kind in kinds for kinds in cls.errors) and not (cls.float_out and np_dtype.kind not in "fc")
    return ok


_new = object.__new__


def _scalar_overload(cls, a, b):
    """cls, or its overload for a Python-number operand, named as PyTorch names that overload's node."""
    name = cls.scalar_nodes[0] if not isinstance(a, Tensor) else \
        cls.scalar_nodes[1] if not isinstance(b, Tensor) else None
    return overload(cls, name) if name else cls


def _binary(cls, a, b, name, nd=None):
    """Apply binary op cls after PyTorch's operand and dtype checks; nd forces the computation dtype."""
    if cls.scalar_nodes is not None:
        cls = _scalar_overload(cls, a, b)
    if nd is None and STATE.fast and isinstance(a, Tensor):
        # Fast paths: tensors of one dtype, or a float tensor and a Python number, need no dtype checks and NumPy
        # broadcasts as torch does (a shape mismatch goes on to the checks below, which raise torch's error); with
        # no graph to record they skip Function.apply too.
        ad = a._data
        tb = type(b)
        if isinstance(b, Tensor):
            bd = b._data
            dt = ad.dtype
            if dt is bd.dtype and _fast_dtype(cls, dt):
                try:
                    out = cls.np_fn(ad, bd)
                except ValueError:
                    pass
                else:
                    if type(out) is not np.ndarray:
                        out = np.asarray(out)
                    if STATE.enabled and (a._rg or b._rg):
                        return _record_uncast(cls, a, b, out)
                    t = _new(Tensor)
                    t._data = out
                    return t
        elif (tb is float or tb is int) and ad.dtype.kind == "f" and cls.scalar_args != "tensors" and \
                _fast_dtype(cls, ad.dtype):
            out = cls.np_fn(ad, b)
            if type(out) is not np.ndarray:
                out = np.asarray(out)
            if STATE.enabled and a._rg:
                return _record_uncast(cls, a, b, out)
            t = _new(Tensor)
            t._data = out
            return t
        elif tb is int and cls.int_scalars and ad.dtype.kind in "iu" and _int_fits(b, ad.dtype):
            out = cls.np_fn(ad, b)  # an integer tensor cannot require grad: nothing to record
            t = _new(Tensor)
            t._data = out if type(out) is np.ndarray else np.asarray(out)
            return t
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    _check_operands(a, b, name, cls.scalar_args)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = to_tensor(a)
    _broadcast_check(a, b)
    if nd is None:
        rd = _result_dtype(a, b)
        _reject(rd, cls.errors)
        nd = float_dtype_for(rd) if cls.float_out else rd
    return cls.apply(a, b, nd.np)


_INT_RANGES = {}


def _int_fits(value, dtype):
    """Whether Python int value is in integer dtype's range (then NumPy computes in dtype, as torch does)."""
    r = _INT_RANGES.get(dtype)
    if r is None:
        info = np.iinfo(dtype)
        r = _INT_RANGES[dtype] = (int(info.min), int(info.max))
    return r[0] <= value <= r[1]


def _record_uncast(cls, a, b, out):
    """Record binary op cls on tensor a and b (a tensor of a's dtype or a Python number), whose forward (no casts)
    gave out: what cls.forward would keep on the node, without its checks."""
    ctx = _new(cls._backward_cls)
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        ctx.shapes = (ad.shape, bd.shape)
        ctx.scalars = _NO_SCALARS
        ctx._edges = [edge(a), edge(b), NOT_TENSOR]
    else:
        bd = None
        ctx.shapes = (ad.shape, ())
        ctx.scalars = (None, b)
        ctx._edges = [edge(a), NOT_TENSOR, NOT_TENSOR]
    if cls.save:
        ctx._saved = [saved_input(a), None if bd is None else saved_input(b)]
    return ctx._single_output(out)


def _mask(m):
    """A constant boolean Tensor from a NumPy mask (used to route gradients)."""
    return Tensor._make(np.asarray(m))


def _data_as(x, like):
    """The ndarray of operand x (Tensor or Python scalar) in the dtype of Tensor `like`."""
    return np.asarray(x._data if isinstance(x, Tensor) else x).astype(like._data.dtype, copy=False)


class Add(_Binary):
    _node_name = "AddBackward0"
    scalar_args = "scalars"
    int_scalars = True
    np_fn = np.add
    save = False

    def grads(self, g, a, b):
        return g, g

    def array_grads(self, g, a, b, need):
        return g, g

    @staticmethod
    def backward(ctx, g):
        """g itself for each input of g's shape (as PyTorch's AddBackward0 hands grad on); else the general path."""
        d = g._data
        if d.dtype.char in "fd":
            sa, sb = ctx.shapes
            need = ctx.needs_input_grad
            if (sa == d.shape or not need[0]) and (sb == d.shape or not need[1]):
                return (g if need[0] else None), (g if need[1] else None), None
        return _Binary.backward(ctx, g)


class Sub(_Binary):
    _node_name = "SubBackward0"
    scalar_args = "scalars"
    int_scalars = True
    np_fn = np.subtract
    save = False

    def grads(self, g, a, b):
        return g, -g

    def array_grads(self, g, a, b, need):
        return g, (np.negative(g) if need[1] else None)


class Rsub(_Binary):
    """other - input, with the inputs in torch's order (input, other)."""
    _node_name = "RsubBackward0"
    scalar_args = "scalars"
    np_fn = staticmethod(lambda a, b: np.subtract(b, a))
    ufunc_like = True
    save = False

    def grads(self, g, a, b):
        return -g, g


class RsubScalar(Rsub):
    _node_name = "RsubBackward1"


class Mul(_Binary):
    _node_name = "MulBackward0"
    scalar_args = "scalars"
    int_scalars = True
    np_fn = np.multiply

    def grads(self, g, a, b):
        return (g * b if self.needs_input_grad[0] else None), (g * a if self.needs_input_grad[1] else None)

    def array_grads(self, g, a, b, need):
        return (np.multiply(g, b) if need[0] else None), (np.multiply(g, a) if need[1] else None)

    @staticmethod
    def backward(ctx, g):
        """g * b and g * a straight from the saved input arrays when both are unmodified and of g's float dtype and
        shape (the common call); else the general path."""
        saved = ctx._saved
        if saved is not None and not STATE.enabled and len(saved) == 2:
            sa, sb = saved
            if type(sa) is tuple and type(sb) is tuple and sa[1][0] == sa[2] and sb[1][0] == sb[2]:
                d, a, b = g._data, sa[0]._data, sb[0]._data
                dt = d.dtype
                if dt.char in "fd" and a.dtype is dt and b.dtype is dt and a.shape == b.shape == d.shape:
                    need = ctx.needs_input_grad
                    return (_wrap(np.multiply(d, b)) if need[0] else None,
                            _wrap(np.multiply(d, a)) if need[1] else None, None)
        return _Binary.backward(ctx, g)


class Div(_Binary):
    _node_name = "DivBackward0"
    np_fn = np.true_divide
    scalar_args = "scalars"
    float_out = True

    def grads(self, g, a, b):
        ga = g / b if self.needs_input_grad[0] else None
        gb = -g * ((a / b) / b) if self.needs_input_grad[1] else None
        return ga, gb

    def array_grads(self, g, a, b, need):
        ga = np.true_divide(g, b) if need[0] else None
        gb = np.negative(g) * ((a / b) / b) if need[1] else None
        return ga, gb


def _int_power(a, b):
    """Integer power; a negative exponent gives 1 / a**|b| truncated (1, -1 or 0) as in PyTorch, not an error."""
    neg = b < 0
    if not neg.any():
        return np.power(a, b)
    out = np.power(a, np.where(neg, 0, b).astype(b.dtype))
    odd = (b & 1) != 0
    small = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(neg, small, out).astype(out.dtype)


def _pow_scalar(a, e):
    """a ** e for a float array and the exponents torch's CPU kernel special-cases (x*x, x*x*x, 1/(x*x), sqrt,
    1/sqrt, 1/x), or None for the others."""
    if e == 2:
        return np.multiply(a, a)
    if e == 3:
        out = np.multiply(a, a)
        return np.multiply(out, a, out=out)
    if e == -2:
        out = np.multiply(a, a)
        return np.divide(1, out, out=out)
    if e == 0.5:
        return np.sqrt(a)
    if e == -0.5:
        out = np.sqrt(a)
        return np.divide(1, out, out=out)
    if e == -1:
        return np.divide(1, a)
    return None


class Pow(_Binary):
    _node_name = "PowBackward0"
    ufunc_like = True   # float operands compute in their dtype; pow() reaches the fast paths only with those

    @staticmethod
    def np_fn(a, b):
        if a.dtype.kind == "f" and (b.ndim == 0 if type(b) is np.ndarray else type(b) is float or type(b) is int) \
                and a.ndim:
            out = _pow_scalar(a, float(b))
            if out is not None:
                return out
        if a.dtype == np.bool_:
            return a | ~b
        if a.dtype.kind in "iu":
            return _int_power(a, b)
        return np.power(a, b)

    def grads(self, g, a, b):
        ga = gb = None
        if self.needs_input_grad[0]:
            if isinstance(b, Tensor):
                ga = where(_mask(b._data == 0), 0.0, g * b * pow(a, b - 1))
            else:
                ga = g * 0 if b == 0 else g * b * pow(a, b - 1)
        if self.needs_input_grad[1]:
            out = pow(a, b)
            if isinstance(a, Tensor):
                zero = _mask((a._data == 0) & (_data_as(b, g) >= 0))
                gb = g * where(zero, 0.0, out * log(a.to(g.dtype)))
            else:
                la = math.log(a) if a > 0 else -math.inf if a == 0 else math.nan
                gb = g * (where(_mask(b._data >= 0), 0.0, out * la) if a == 0 else out * la)
        return ga, gb


class PowTensor(Pow):
    """tensor ** tensor (torch's pow.Tensor_Tensor overload)."""

    _node_name = "PowBackward1"


class PowScalarBase(Pow):
    """number ** tensor (torch's pow.Scalar overload)."""

    _node_name = "PowBackward2"


def _pow_cls(a, b):
    """The node class of a ** b, by which operands are tensors (as torch picks the pow overload)."""
    if isinstance(b, Tensor):
        return PowTensor if isinstance(a, Tensor) else PowScalarBase
    return Pow


def _atan2(a, b):
    return sm.atan2_f32(a, b) if _fast_pair(a, b) and type(b) is np.ndarray else np.arctan2(a, b)


class Atan2(_Binary):
    _node_name = "Atan2Backward0"
    np_fn = staticmethod(_atan2)
    ufunc_like = True
    errors = _nyi("c", "atan2_cpu")
    scalar_args = "tensors"
    float_out = True

    def grads(self, g, a, b):
        recip = reciprocal(a * a + b * b)
        return g * b * recip, g * -a * recip


class _MaxMin(_Binary):
    """maximum/minimum: ties split the gradient evenly; a NaN (which wins) sends the gradient to both sides."""
    scalar_args = "tensors"

    def grads(self, g, a, b):
        ad, bd = _data_as(a, g), _data_as(b, g)
        shared = where(_mask(ad == bd), g / 2, g)
        a_loses, b_loses = self.loses(ad, bd), self.loses(bd, ad)
        return where(_mask(a_loses), 0.0, shared), where(_mask(b_loses), 0.0, shared)


class Maximum(_MaxMin):
    _node_name = "MaximumBackward0"
    np_fn = np.maximum

    @staticmethod
    def loses(x, y):
        return x < y


class Minimum(_MaxMin):
    _node_name = "MinimumBackward0"
    np_fn = np.minimum

    @staticmethod
    def loses(x, y):
        return x > y


class _FMaxMin(_Binary):
    """fmax/fmin: the whole gradient goes to the chosen operand (input on ties; the non-NaN one)."""
    scalar_args = "tensors"

    def grads(self, g, a, b):
        ad, bd = _data_as(a, g), _data_as(b, g)
        a_wins = _mask(self.a_wins(ad, bd) | np.isnan(bd))
        return where(a_wins, g, 0.0), where(a_wins, 0.0, g)


class Fmax(_FMaxMin):
    _node_name = "FmaxBackward0"
    np_fn = np.fmax

    @staticmethod
    def a_wins(a, b):
        return a >= b


class Fmin(_FMaxMin):
    _node_name = "FminBackward0"
    np_fn = np.fmin

    @staticmethod
    def a_wins(a, b):
        return a <= b


def _check_int_divisor(b):
    if type(b) is np.ndarray and b.dtype.kind in "iu" and (b == 0).any():
        raise RuntimeError("ZeroDivisionError")


_FAST_MIN = 4096   # below this many elements NumPy's single libm loop beats a float32 kernel's ~20 ufunc calls


def _fast_pair(a, b):
    """Whether float32 kernel fns of special_math may take (a, b): large float32 a with a float32 b of a's shape or a
    finite non-zero Python number b."""
    if a.dtype != np.float32 or a.size < _FAST_MIN:
        return False
    if type(b) is np.ndarray:
        return b.dtype == np.float32 and b.shape == a.shape
    return (type(b) is float or type(b) is int) and b != 0 and math.isfinite(b)


class Remainder(_Binary):
    _node_name = "RemainderBackward1"
    scalar_nodes = (None, "RemainderBackward0")
    errors = _nyi("bc", "remainder_cpu")
    ufunc_like = True

    @staticmethod
    def np_fn(a, b):
        if _fast_pair(a, b):
            return sm.remainder_f32(a, b)
        _check_int_divisor(b)
        if a.dtype.kind == "f":
            return sm._remainder_exact(a, b)
        return np.remainder(a, b)

    def grads(self, g, a, b):
        if not isinstance(a, Tensor):
            raise RuntimeError("derivative for aten::remainder is not implemented")
        return g, (-g * div(a, b, rounding_mode="floor") if self.needs_input_grad[1] else None)


class Fmod(_Binary):
    _node_name = "FmodBackward1"
    scalar_nodes = (None, "FmodBackward0")
    errors = _nyi("bc", "fmod_cpu")
    scalar_args = "self"
    ufunc_like = True

    @staticmethod
    def np_fn(a, b):
        if _fast_pair(a, b):
            return sm.fmod_f32(a, b)
        _check_int_divisor(b)
        return np.fmod(a, b)

    def grads(self, g, a, b):
        return g, (-g * div(a, b, rounding_mode="trunc") if self.needs_input_grad[1] else None)


class _DivFloor(_Binary):
    """Division rounded down: piecewise constant, so its gradient is zero."""
    _node_name = "DivBackward2"
    save = False
    scalar_args = "scalars"
    errors = _nyi("bc", "div_floor_cpu")
    ufunc_like = True

    @staticmethod
    def np_fn(a, b):
        if _fast_pair(a, b):
            return sm.floor_divide_f32(a, b)
        _check_int_divisor(b)
        return np.floor_divide(a, b)

    def grads(self, g, a, b):
        return g * 0, g * 0


class _FloorDivide(_DivFloor):
    """torch.floor_divide: same values as div(rounding_mode='floor'), but PyTorch defines no derivative."""
    _node_name = "NotImplemented"

    def grads(self, g, a, b):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class _DivTrunc(_DivFloor):
    """Division rounded toward zero."""
    _node_name = "DivBackward2"
    errors = _nyi("bc", "div_trunc_cpu")

    @staticmethod
    def np_fn(a, b):
        if a.dtype.kind == "f":
            out = np.true_divide(a, b)
            return np.trunc(out, out=out) if type(out) is np.ndarray else np.trunc(out)
        _check_int_divisor(b)
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))


class Hypot(_Binary):
    _node_name = "HypotBackward0"
    np_fn = np.hypot
    errors = _nyi("bic", "hypot_cpu")
    scalar_args = "tensors"

    def grads(self, g, a, b):
        out = hypot(a, b)
        return g * a / out, g * b / out


def _logaddexp(a, b):
    if _fast_pair(a, b) and type(b) is np.ndarray:
        return sm.logaddexp_f32(a, b)
    if a.dtype.kind != "c":
        return np.logaddexp(a, b)
    return complex_logaddexp(a, b)


def complex_logaddexp(x, y):
    """log(exp(x) + exp(y)) for complex arrays as ATen's _log_add_exp_helper: the operand of larger real part
    factored out, a NaN anywhere gives NaN, equal infinite real parts are special-cased."""
    x, y = np.broadcast_arrays(np.asarray(x), np.asarray(y))
    x_small = x.real < y.real
    lo, hi = np.where(x_small, x, y), np.where(x_small, y, x)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        out = np.log1p(np.exp(lo - hi)) + hi
        same_inf = ~np.isfinite(lo.real) & (lo.real == hi.real)
        if same_inf.any():
            out = np.where(same_inf, np.where(lo.real < 0, lo, np.log(np.exp(lo) + np.exp(hi))), out)
    nan = np.isnan(x) | np.isnan(y)
    return np.where(nan, np.array(builtins.complex(np.nan, np.nan), out.dtype), out) if nan.any() else out


class Logaddexp(_Binary):
    _node_name = "LogaddexpBackward0"
    np_fn = staticmethod(_logaddexp)
    errors = _nyi("bi", "logaddexp_cpu")
    scalar_args = "tensors"

    def grads(self, g, a, b):
        return g / (exp(b - a) + 1), g / (exp(a - b) + 1)


def _logaddexp2(a, b):
    if _fast_pair(a, b) and type(b) is np.ndarray:
        return sm.logaddexp_f32(a, b, base2=True)
    return np.logaddexp2(a, b)


class Logaddexp2(_Binary):
    _node_name = "Logaddexp2Backward0"
    np_fn = staticmethod(_logaddexp2)
    ufunc_like = True
    errors = _nyi("bic", "logaddexp2_cpu")
    scalar_args = "tensors"

    def grads(self, g, a, b):
        return g / (pow(2.0, b - a) + 1), g / (pow(2.0, a - b) + 1)


class Copysign(_Binary):
    _node_name = "CopysignBackward0"
    scalar_nodes = (None, "CopysignBackward1")
    np_fn = np.copysign
    errors = _nyi("c", "copysign_cpu")
    scalar_args = "self"
    float_out = True

    def grads(self, g, a, b):
        ad = _data_as(a, g)
        ratio = np.where(ad == 0, 0.0, np.sign(ad) * np.sign(np.copysign(1.0, _data_as(b, g))))
        return g * _mask(ratio.astype(g._data.dtype)), g * 0


def _xlogy(a, b):
    return np.where((a == 0) & ~np.isnan(b), 0, a * np.log(b))


class Xlogy(_Binary):
    _node_name = "XlogyBackward0"
    scalar_nodes = ("XlogyBackward1", "XlogyBackward2")
    np_fn = staticmethod(_xlogy)
    errors = _nyi("c", "xlogy_cpu")
    float_out = True

    def grads(self, g, a, b):
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = xlogy(g, b)
            if not isinstance(b, Tensor):
                if not b > 0:
                    ga = where(_mask(_data_as(a, g) == 0), 0.0, ga)
            else:
                ga = where(_mask((_data_as(a, g) == 0) & (_data_as(b, g) <= 0)), 0.0, ga)
        if self.needs_input_grad[1]:
            gb = g * a / b
        return ga, gb


def _check_alpha(alpha, rd):
    if isinstance(alpha, bool):
        if rd is not _dtype.bool_:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and not (rd.is_floating_point or rd.is_complex):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")


def _scaled_other(a, b, alpha):
    """other * alpha for add/sub, computed in the result dtype so alpha does not change the promotion."""
    rd = _result_dtype(a, b)
    _check_alpha(alpha, rd)
    if isinstance(b, Tensor):
        return mul(cast_to(b, rd), alpha)
    return b * alpha


def add(input, other, *, alpha=1, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    if alpha != 1 or isinstance(alpha, bool):
        b = _scaled_other(a, b, alpha)
    return _out(_binary(Add, a, b, "add"), out, "add")


def _check_bool_sub(a, b):
    a_bool = isinstance(a, bool) or isinstance(a, Tensor) and a._data.dtype == np.bool_
    b_bool = isinstance(b, bool) or isinstance(b, Tensor) and b._data.dtype == np.bool_
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def sub(input, other, *, alpha=1, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _check_bool_sub(a, b)
    if alpha != 1:
        b = _scaled_other(a, b, alpha)
    return _out(_binary(Sub, a, b, "sub"), out, "sub")


subtract = sub


def _rsub_signature_error(input, other):
    """PyTorch's TypeError for rsub with a non-tensor input."""
    got = ", ".join("Tensor" if isinstance(v, Tensor) else type(v).__name__ for v in (input, other))
    raise TypeError(f"rsub() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                    " * (Tensor input, Tensor other, *, Number alpha = 1)\n"
                    " * (Tensor input, Number other, Number alpha = 1)\n")


def rsub(input, other, *, alpha=1):
    """other - alpha * input; recorded as torch records it (RsubBackward0, or RsubBackward1 for a Python number)."""
    if not isinstance(input, Tensor):
        _rsub_signature_error(input, other)
    if alpha != 1:
        node = "RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1"
        return as_node(sub(other, input, alpha=alpha), node)
    cls = Rsub if isinstance(other, Tensor) else RsubScalar
    if type(input) is Tensor and (type(other) is float or type(other) is int) and input._data.dtype.kind == "f":
        return _binary(cls, input, other, "rsub")
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _check_bool_sub(b, a)
    return _binary(cls, a, b, "rsub")


def mul(input, other, *, out=None):
    return _out(_binary(Mul, input, other, "mul"), out, "mul")


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        return _out(_binary(Div, input, other, "div"), out, "div")
    if rounding_mode == "trunc":
        return _out(_binary(_DivTrunc, input, other, "div"), out, "div")
    if rounding_mode == "floor":
        return _out(_binary(_DivFloor, input, other, "div"), out, "div")
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


divide = div


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None):
    return _out(_binary(_FloorDivide, input, other, "floor_divide"), out, "floor_divide")


def remainder(input, other, *, out=None):
    return _out(_binary(Remainder, input, other, "remainder"), out, "remainder")


def fmod(input, other, *, out=None):
    return _out(_binary(Fmod, input, other, "fmod"), out, "fmod")


def pow(input, exponent, *, out=None):
    if type(input) is Tensor and out is None and input._data.dtype.kind == "f":
        tb = type(exponent)
        if tb is float or tb is int:
            return _binary(Pow, input, exponent, "pow")
        if tb is Tensor and exponent._data.dtype is input._data.dtype:
            return _binary(PowTensor, input, exponent, "pow")
    a, b = as_tensor_arg(input), as_tensor_arg(exponent)
    _check_operands(a, b, "pow", "any")
    rd = _result_dtype(a, b)
    if rd is _dtype.bool_ and not (isinstance(a, Tensor) and isinstance(b, bool)):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if _kind(rd) in "bi" and isinstance(a, Tensor) and type(b) is int and b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _out(_binary(_pow_cls(input, exponent), a, b, "pow", rd), out, "pow")


def float_power(input, exponent, *, out=None):
    a, b = as_tensor_arg(input), as_tensor_arg(exponent)
    _check_operands(a, b, "float_power", "any")
    cd = _dtype.complex128 if any(isinstance(v, Tensor) and v.is_complex() or isinstance(v, builtins.complex) for v in (a, b)) \
        else _dtype.float64
    a = cast_to(a, cd) if isinstance(a, Tensor) else a
    b = cast_to(b, cd) if isinstance(b, Tensor) else b
    return _out(_binary(_pow_cls(input, exponent), a, b, "float_power", cd), out, "float_power")


def atan2(input, other, *, out=None):
    return _out(_binary(Atan2, input, other, "atan2"), out, "atan2")


arctan2 = atan2


def _extremum(cls, input, other, name, out):
    if any(isinstance(v, Tensor) and v.is_complex() for v in (input, other)):
        _check_operands(input, other, name, "tensors")
        raise RuntimeError(f"{name} not implemented for complex tensors.")
    return _out(_binary(cls, input, other, name), out, name)


def maximum(input, other, *, out=None):
    return _extremum(Maximum, input, other, "maximum", out)


def minimum(input, other, *, out=None):
    return _extremum(Minimum, input, other, "minimum", out)


def fmax(input, other, *, out=None):
    return _extremum(Fmax, input, other, "fmax", out)


def fmin(input, other, *, out=None):
    return _extremum(Fmin, input, other, "fmin", out)


def hypot(input, other, *, out=None):
    return _out(_binary(Hypot, input, other, "hypot"), out, "hypot")


def logaddexp(input, other, *, out=None):
    return _out(_binary(Logaddexp, input, other, "logaddexp"), out, "logaddexp")


def logaddexp2(input, other, *, out=None):
    return _out(_binary(Logaddexp2, input, other, "logaddexp2"), out, "logaddexp2")


def copysign(input, other, *, out=None):
    return _out(_binary(Copysign, input, other, "copysign"), out, "copysign")


class Nextafter(_Binary):
    """One float step from input toward other; PyTorch passes the gradient to input where the two differ."""
    _node_name = "NextafterBackward0"
    np_fn = np.nextafter
    errors = _nyi("biuc", "nextafter_cpu")

    def grads(self, g, a, b):
        differ = _data_as(a, g) != _data_as(b, g)
        return g * _mask(differ.astype(g._data.dtype)), g * 0


def nextafter(input, other, *, out=None):
    return _out(_binary(Nextafter, input, other, "nextafter"), out, "nextafter")


def xlogy(input, other, *, out=None):
    return _out(_binary(Xlogy, input, other, "xlogy"), out, "xlogy")


class _Compare(_Binary):
    """Comparisons and bitwise/logical ops: no gradient (bool or integer results)."""
    save = False


def _shift_amount(a, b):
    """Shift counts as int64 and whether each is in range (negative or too large counts are out of range)."""
    bits = a.dtype.itemsize * 8
    s = b.astype(np.int64)
    return s, (s >= 0) & (s < bits)


def _left_shift(a, b):
    s, ok = _shift_amount(a, b)
    return np.where(ok, np.left_shift(a, np.where(ok, s, 0).astype(a.dtype)), 0).astype(a.dtype)


def _right_shift(a, b):
    s, ok = _shift_amount(a, b)
    fill = np.right_shift(a, a.dtype.itemsize * 8 - 1) if a.dtype.kind == "i" else np.zeros_like(a)
    return np.where(ok, np.right_shift(a, np.where(ok, s, 0).astype(a.dtype)), fill).astype(a.dtype)


def _make_nograd_binary(np_fn, name, errors=None, operands="any"):
    cls = type("".join(w.capitalize() for w in name.split("_")), (_Compare,),
               {"np_fn": staticmethod(np_fn), "errors": errors or {}, "scalar_args": operands})

    def op(input, other, *, out=None):
        with _no_record():
            r = _binary(cls, input, other, name)
        return _out(r, out, name)

    op.__name__ = name
    op.__qualname__ = name
    return op


class _no_record:
    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc):
        STATE.enabled = self.prev


gcd = _make_nograd_binary(np.gcd, "gcd", _nyi("bfc", "gcd_cpu"), "tensors")
lcm = _make_nograd_binary(np.lcm, "lcm", _nyi("bfc", "lcm_cpu"), "tensors")
eq = _make_nograd_binary(np.equal, "eq", operands="self")
ne = _make_nograd_binary(np.not_equal, "ne", operands="self")
lt = _make_nograd_binary(np.less, "lt", _nyi("c", "lt_cpu"), "self")
le = _make_nograd_binary(np.less_equal, "le", _nyi("c", "le_cpu"), "self")
gt = _make_nograd_binary(np.greater, "gt", _nyi("c", "gt_cpu"), "self")
ge = _make_nograd_binary(np.greater_equal, "ge", _nyi("c", "ge_cpu"), "self")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _make_nograd_binary(np.logical_and, "logical_and", operands="tensors")
logical_or = _make_nograd_binary(np.logical_or, "logical_or", operands="tensors")
logical_xor = _make_nograd_binary(np.logical_xor, "logical_xor", operands="tensors")
bitwise_and = _make_nograd_binary(np.bitwise_and, "bitwise_and", _nyi("fc", "bitwise_and_cpu"))
bitwise_or = _make_nograd_binary(np.bitwise_or, "bitwise_or", _nyi("fc", "bitwise_or_cpu"))
bitwise_xor = _make_nograd_binary(np.bitwise_xor, "bitwise_xor", _nyi("fc", "bitwise_xor_cpu"))
bitwise_left_shift = _make_nograd_binary(_left_shift, "bitwise_left_shift", _nyi("bfc", "lshift_cpu"))
bitwise_right_shift = _make_nograd_binary(_right_shift, "bitwise_right_shift", _nyi("bfc", "rshift_cpu"))


def _can_cast(src, dst):
    """PyTorch's canCast: never to a lower category (complex -> float -> integer -> bool)."""
    return src._category <= dst._category


def _out(result, out, name=None):
    """Write result into the out= tensor (resizing it as PyTorch does); returns out, or result when out is None."""
    if out is None:
        return result
    if STATE.enabled and (result._rg or out._rg):
        raise RuntimeError(f"{name or 'op'}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if not _can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {_dtype.scalar_name(result.dtype)} can't be cast to the desired output type "
                           f"{_dtype.scalar_name(out.dtype)}")
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
        if out.dtype != x.dtype and out.dtype.kind == x.dtype.kind:
            out = out.astype(x.dtype)
        if cls.uses == "x":
            ctx.save_for_backward(x)
        elif cls.uses == "out":
            ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        grad = ctx.grad
        if type(grad) is _RawGrad and not STATE.enabled and g._data.dtype.kind != "c":
            return Tensor._make(grad.np_grad(g._data, ctx.saved_arrays()[0]))
        saved = ctx.saved_tensors
        return holomorphic_grads(grad, g, saved[0] if saved else None)


def _check_tensor(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _unary(name, compute, grad, uses="x", float_out=True, node=None, errors=None):
    """Make a differentiable unary op: compute(ndarray) -> ndarray, grad(g, saved) -> Tensor (ember ops)."""
    cls = type(name, (_Unary,), {"compute": staticmethod(compute), "grad": staticmethod(grad), "uses": uses,
                                 "float_out": float_out,
                                 "_node_name": node or name[0].upper() + name[1:] + "Backward0"})
    errors = errors or {}
    fast = {} if "f" in "".join(errors) else {np.dtype(c) for c in "efd"}

    def op(input, *, out=None):
        if type(input) is Tensor and out is None and STATE.fast and input._data.dtype in fast:
            d = input._data
            r = compute(d)
            if type(r) is not np.ndarray or r.dtype != d.dtype:
                r = np.asarray(r)
                if r.dtype != d.dtype and r.dtype.kind == d.dtype.kind:
                    r = r.astype(d.dtype)
            if input._rg and STATE.enabled:
                return record_result(cls, input, r, (input,) if uses == "x" else uses)
            t = _new(Tensor)
            t._data = r
            return t
        _check_tensor(input, name)
        _reject(input.dtype, errors)
        return _out(cls.apply(input), out, name)

    op.__name__ = name
    op.__qualname__ = name
    return op


def _on_real(real_fn, complex_fn):
    """A compute function that uses real_fn on real arrays and complex_fn on complex ones."""
    return lambda x: complex_fn(x) if x.dtype.kind == "c" else real_fn(x)


def _sign(x):
    """torch's (0 < x) - (x < 0): 0 for NaN and +0 for -0.0."""
    if x.dtype == np.bool_:
        return x.copy()
    if x.dtype.kind != "f":
        return np.sign(x)
    out = (x > 0).astype(x.dtype)
    out -= x < 0
    return out


def _complex_sgn(x):
    mag = np.abs(x)
    return np.where(mag == 0, 0, x / np.where(mag == 0, 1, mag)).astype(x.dtype)


def _sinc_grad(g, x):
    """d sinc / dx = (cos(pi x) pi x - sin(pi x)) / (pi x^2), 0 at x = 0; written with ember ops."""
    zero = _mask(x._data == 0)
    px = where(zero, 1.0, x) * math.pi
    return g * where(zero, 0.0, (cos(px) * px - sin(px)) / (px * px) * math.pi)


def _i1_grad(g, x):
    """d i1 / dx = i0(x) - i1(x) / x, which is 1/2 at x = 0."""
    zero = _mask(x._data == 0)
    safe = where(zero, 1.0, x)
    return g * where(zero, 0.5, i0(x) - _i1(safe) / safe)


LN2, LN10 = math.log(2.0), math.log(10.0)
_NEG_BOOL = {"b": (RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                                 "to invert a mask, use the `~` or `logical_not()` operator instead.")}


def _rounding_errors(name):
    return {"b": (NotImplementedError, f"\"{name}_vml_cpu\" not implemented for '{{}}'"),
            "c": (NotImplementedError, f"{name} is not supported for complex inputs")}


def _int_identity(np_fn):
    return lambda x: np_fn(x) if x.dtype.kind in "fc" else x.copy()


def _fast32(fast, slow):
    """A compute function: the float32 kernel `fast` on large float32 arrays, NumPy's `slow` ufunc otherwise."""
    return lambda x: fast(x) if x.dtype == np.float32 and x.size >= _FAST_MIN else slow(x)


def _rsqrt(x):
    out = np.sqrt(x)
    return np.divide(1, out, out=out) if type(out) is np.ndarray else 1 / out


def _frac(x):
    out = np.trunc(x)
    return np.subtract(x, out, out=out) if type(out) is np.ndarray else x - out


class _RawGrad:
    """A unary gradient: np_grad(g, saved) on the arrays in a plain backward (no graph being recorded), the ember
    expression grad(g, saved) otherwise (create_graph, so double backward works)."""

    def __init__(self, np_grad, grad):
        self.np_grad, self.grad = np_grad, grad

    def __call__(self, g, saved):
        if STATE.enabled:
            return self.grad(g, saved)
        return Tensor._make(self.np_grad(g._data, saved._data))


def _times_g(fn):
    """np_grad computing fn(saved) into a fresh array and multiplying it by g in place."""
    def np_grad(g, saved):
        out = np.asarray(fn(saved))
        if out.dtype != g.dtype or out.shape != g.shape or not out.flags.writeable:
            return g * out
        out *= g
        return out
    return np_grad


def _exp_neg_square(x, scale):
    """scale * exp(-x*x) in x's dtype (the derivative of erf, up to scale)."""
    out = np.multiply(x, x)
    if type(out) is not np.ndarray:
        return scale * np.exp(-out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    out *= scale
    return out


def _sigmoid_slope(out):
    """out * (1 - out): the derivative of sigmoid from its result."""
    d = np.subtract(_bits.constant(1, out.dtype), out)
    return np.multiply(d, out, out=d) if type(d) is np.ndarray else d * out


def _tanh_slope(out):
    d = np.multiply(out, out)
    return np.subtract(_bits.constant(1, out.dtype), d, out=d) if type(d) is np.ndarray else 1 - d


exp = _unary("exp", np.exp, _RawGrad(np.multiply, lambda g, out: g * out), "out")
exp2 = _unary("exp2", np.exp2, lambda g, out: g * out * LN2, "out")
expm1 = _unary("expm1", _fast32(sm.expm1_f32, np.expm1), lambda g, out: g * (out + 1), "out")
log = _unary("log", np.log, _RawGrad(np.divide, lambda g, x: g / x))
log2 = _unary("log2", np.log2, lambda g, x: g / (x * LN2))
log10 = _unary("log10", np.log10, lambda g, x: g / (x * LN10))
log1p = _unary("log1p", _fast32(sm.log1p_f32, np.log1p), lambda g, x: g / (x + 1), node="Log1PBackward0")
sqrt = _unary("sqrt", np.sqrt, lambda g, out: g / (out * 2), "out")
rsqrt = _unary("rsqrt", _rsqrt, lambda g, out: g * out * out * out * -0.5, "out")
sin = _unary("sin", np.sin, lambda g, x: g * cos(x))
cos = _unary("cos", np.cos, lambda g, x: -g * sin(x))
tan = _unary("tan", _fast32(sm.tan_f32, np.tan), lambda g, out: g * (out * out + 1), "out")
asin = _unary("asin", np.arcsin, lambda g, x: g * rsqrt(-x * x + 1))
acos = _unary("acos", np.arccos, lambda g, x: -g * rsqrt(-x * x + 1))
atan = _unary("atan", _fast32(sm.atan_f32, np.arctan), lambda g, x: g / (x * x + 1))
sinh = _unary("sinh", _fast32(sm.sinh_f32, np.sinh), lambda g, x: g * cosh(x))
cosh = _unary("cosh", _fast32(sm.cosh_f32, np.cosh), lambda g, x: g * sinh(x))
tanh = _unary("tanh", np.tanh, _RawGrad(_times_g(_tanh_slope), lambda g, out: g * (-out * out + 1)), "out")
asinh = _unary("asinh", np.arcsinh, lambda g, x: g * rsqrt(x * x + 1))
acosh = _unary("acosh", np.arccosh, lambda g, x: g * (rsqrt(x * x - 1) if not x.is_complex() else
                                                     ((x - 1).sqrt() * (x + 1).sqrt()).reciprocal()))
atanh = _unary("atanh", _fast32(sm.atanh_f32, np.arctanh), lambda g, x: g / (-x * x + 1))
sigmoid = _unary("sigmoid", _on_real(sm.expit, lambda x: 1 / (1 + np.exp(-x))),
                 _RawGrad(_times_g(_sigmoid_slope), lambda g, out: g * out * (-out + 1)), "out")
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
erf = _unary("erf", sm.erf, _RawGrad(_times_g(lambda x: _exp_neg_square(x, _TWO_OVER_SQRT_PI)),
                                      lambda g, x: g * _TWO_OVER_SQRT_PI * exp(-x * x)),
             errors=_nyi("c", "erf_vml_cpu"))
erfc = _unary("erfc", sm.erfc, _RawGrad(_times_g(lambda x: _exp_neg_square(x, -_TWO_OVER_SQRT_PI)),
                                         lambda g, x: g * -_TWO_OVER_SQRT_PI * exp(-x * x)),
              errors=_nyi("c", "erfc_vml_cpu"))
erfinv = _unary("erfinv", sm.erfinv, lambda g, out: g * (math.sqrt(math.pi) / 2) * exp(out * out), "out",
                errors=_nyi("c", "erfinv_vml_cpu"))
lgamma = _unary("lgamma", sm.lgamma, lambda g, x: g * digamma(x), errors=_nyi("c", "lgamma_vml_cpu"))
digamma = _unary("digamma", sm.digamma, lambda g, x: g * _polygamma1(x), errors=_nyi("c", "digamma"))
_polygamma1 = _unary("polygamma1", lambda x: sm.polygamma(1, x), lambda g, x: g * _polygamma2(x),
                     node="PolygammaBackward0")
_polygamma2 = _unary("polygamma2", lambda x: sm.polygamma(2, x), lambda g, x: g * _polygamma3(x),
                     node="PolygammaBackward0")
_polygamma3 = _unary("polygamma3", lambda x: sm.polygamma(3, x), lambda g, x: g * _polygamma_const(4, x),
                     node="PolygammaBackward0")
reciprocal = _unary("reciprocal", np.reciprocal, lambda g, out: -g * out * out, "out")
square = _unary("square", lambda x: np.square(x.astype(np.int64) if x.dtype == np.bool_ else x),
                lambda g, x: g * x * 2, float_out=False, node="PowBackward0")
abs = _unary("abs", np.abs, lambda g, x: g * sgn(x), float_out=False, errors=_nyi("b", "abs_cpu"))
absolute = abs
neg = _unary("neg", np.negative, lambda g, x: -g, None, float_out=False, errors=_NEG_BOOL)
negative = neg
frac = _unary("frac", _frac, lambda g, x: g, None, float_out=False,
              errors=_nyi("bic", "frac_cpu"))
sinc = _unary("sinc", _on_real(sm.sinc, np.sinc), _sinc_grad)
i0 = _unary("i0", sm.i0, lambda g, x: g * _i1(x), errors=_nyi("c", "i0_vml_cpu"))
_i1 = _unary("i1", sm.i1, _i1_grad, node="SpecialI1Backward0")


def _polygamma_const(n, x):
    """polygamma(n, x) as a constant Tensor (the end of the differentiable polygamma chain)."""
    return Tensor._make(np.asarray(sm.polygamma(n, x._data)))


def positive(input):
    _check_tensor(input, "positive")
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _zero_grad_unary(name, compute, float_out=False, errors=None):
    return _unary(name, compute, lambda g, x: g * 0, None, float_out=float_out, errors=errors)


sign = _zero_grad_unary("sign", _sign, errors={"c": (NotImplementedError, "Unlike NumPy, torch.sign is not intended to "
                                                "support complex numbers. Please use torch.sgn instead.")})
def _sgn_grad(g, x):
    """Zero for real x; for complex x PyTorch's sgn_backward (g - Re(g conj(sgn)) sgn) / |x|, 0 at x = 0, written
    for holomorphic_grads, which conjugates around it."""
    if x._data.dtype.kind != "c":
        return g * 0
    mag = abs(x)
    s = sgn(x)
    return where(mag == 0, 0.0, (g - (g * s).real * s.conj()) / mag)


sgn = _unary("sgn", _on_real(_sign, _complex_sgn), _sgn_grad, float_out=False)
floor = _zero_grad_unary("floor", _int_identity(np.floor), errors=_rounding_errors("floor"))
ceil = _zero_grad_unary("ceil", _int_identity(np.ceil), errors=_rounding_errors("ceil"))
trunc = _zero_grad_unary("trunc", _int_identity(np.trunc), errors=_rounding_errors("trunc"))
fix = trunc
_round0 = _zero_grad_unary("round", _int_identity(np.round), errors=_nyi("bc", "round_vml_cpu"))


class RoundDecimals(Function):
    """round(x, decimals): x * 10**d rounded half-to-even, then scaled back (divides first for d < 0)."""
    _raw = True
    _node_name = "RoundBackward1"

    @staticmethod
    def forward(ctx, x, decimals):
        xo = x.astype(np.float32) if x.dtype == np.float16 else x
        scale = np.asarray(10.0 ** builtins.abs(decimals)).astype(xo.dtype)
        out = np.round(xo / scale) * scale if decimals < 0 else np.round(xo * scale) / scale
        return out.astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


def round(input, *, decimals=None, out=None):
    if decimals is None:
        return _round0(input, out=out)
    if decimals == 0:  # round's values, recorded as the decimals overload (RoundBackward1), as in PyTorch
        return as_node(_round0(input, out=out), "RoundBackward1")
    _check_tensor(input, "round")
    _reject(input.dtype, _nyi("bic", "round_cpu"))
    return _out(RoundDecimals.apply(input, int(decimals)), out, "round")


class _NonDiffUnary(Function):
    """Base of unary ops without a gradient (isnan, logical_not, ...): a node only so exporters can trace them."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x):
        return np.asarray(cls.compute(x))


def _nondiff_unary(np_fn, name, errors=None):
    errors = errors or {}
    cls = type(name, (_NonDiffUnary,), {"compute": staticmethod(np_fn)})

    def op(input, *, out=None):
        _check_tensor(input, name)
        _reject(input.dtype, errors)
        if STATE.fast:
            return _out(Tensor._make(np.asarray(np_fn(input._data))), out, name)
        return _out(cls.apply(input), out, name)
    op.__name__ = name
    op.__qualname__ = name
    return op


isnan = _nondiff_unary(np.isnan, "isnan")
isinf = _nondiff_unary(np.isinf, "isinf")
isfinite = _nondiff_unary(np.isfinite, "isfinite")
isposinf = _nondiff_unary(np.isposinf, "isposinf", {"c": (RuntimeError, "isposinf does not support complex inputs.")})
isneginf = _nondiff_unary(np.isneginf, "isneginf", {"c": (RuntimeError, "isneginf does not support complex inputs.")})
isreal = _nondiff_unary(np.isreal, "isreal")
signbit = _nondiff_unary(np.signbit, "signbit",
                         {"c": (NotImplementedError, "signbit is not implemented for complex tensors.")})
logical_not = _nondiff_unary(np.logical_not, "logical_not")
bitwise_not = _nondiff_unary(np.invert, "bitwise_not", _nyi("fc", "bitwise_not_cpu"))


# ---------------------------------------------------------------------------------------------
# ops with extra arguments
# ---------------------------------------------------------------------------------------------
class Clamp(Function):
    """clamp with Python-number or Tensor bounds; gradients follow PyTorch's clamp_backward(_min_max)."""
    _raw = True
    _node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        lo_d = None if lo is None else _operand(lo, x.dtype)
        hi_d = None if hi is None else _operand(hi, x.dtype)
        inf, ninf = _INF.get(x.dtype, (None, None))
        if inf is not None and x.ndim and lo_d is not None and hi_d is not None:
            out = _bits.clip(x, lo_d, hi_d)            # one pass; NaN propagates and -0.0 stays, as in torch
        elif inf is not None and x.ndim and lo_d is not None and lo_d.ndim == 0:
            out = _bits.clip(x, lo_d, inf)
        elif inf is not None and x.ndim and hi_d is not None and hi_d.ndim == 0:
            out = _bits.clip(x, ninf, hi_d)
        else:
            out = np.maximum(x, lo_d) if lo_d is not None else x
            out = np.minimum(out, hi_d) if hi_d is not None else out
        ctx.save_for_backward(x, lo if isinstance(lo, np.ndarray) else None, hi if isinstance(hi, np.ndarray) else None)
        ctx.bounds = (lo_d, hi_d)
        return out

    @staticmethod
    def backward(ctx, g):
        x, lo_t, hi_t = ctx.saved_tensors
        lo, hi = ctx.bounds
        xd = x._data
        keep = None if lo is None else xd >= lo
        if hi is not None:
            keep = xd <= hi if keep is None else keep & (xd <= hi)
        if STATE.enabled:
            gx = sum_to(where(_mask(keep), g, 0.0), x.shape)
        else:
            gx = sum_to(Tensor._make(_bits.keep(g._data, keep)), x.shape)
        glo = ghi = None
        if lo_t is not None and ctx.needs_input_grad[1]:
            m = (xd < lo) & (lo < hi) if hi is not None else xd < lo
            glo = sum_to(where(_mask(m), g, 0.0), lo_t.shape)
        if hi_t is not None and ctx.needs_input_grad[2]:
            m = (xd > hi) | (hi < lo) if lo is not None else xd > hi
            ghi = sum_to(where(_mask(m), g, 0.0), hi_t.shape)
        return gx, glo, ghi


_INF = {np.dtype(t): (np.asarray(np.inf, t), np.asarray(-np.inf, t)) for t in (np.float16, np.float32, np.float64)}


def _check_bound(v, d):
    """A Python-number clamp bound must fit the computation dtype d (inf excepted), as PyTorch checks."""
    if v is None or isinstance(v, bool) or d is _dtype.bool_:
        return
    if d.is_floating_point:
        bad = not _fits_float(v, np.finfo(d.np).max)
    else:
        info = np.iinfo(d.np)
        lowest = -info.max if info.min == 0 else info.min  # unsigned types accept negatives that wrap around
        bad = not lowest <= v <= info.max
    if bad:
        raise RuntimeError(f"value cannot be converted to type {_C_NAMES[d.name]} without overflow")


_FLOAT_MAX = {np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32, np.float64)}


def _fits_float(v, limit):
    """Whether number v converts to a float type whose largest value is limit (inf and NaN do)."""
    return builtins.abs(v) <= limit or not math.isfinite(v)


def _number_bound(v, limit):
    """A clamp bound that needs no conversion or check: None, or a Python float/int the dtype can hold."""
    return v is None or (type(v) is float or type(v) is int) and _fits_float(v, limit)


def _clamp_by_numbers(input, d, lo, hi, node_name):
    """Clamp.apply for a float Tensor and checked Python-number bounds: one clip pass, the node recorded by hand."""
    t = d.dtype.type
    inf, ninf = _INF[d.dtype]
    lo_d = None if lo is None else t(lo)
    hi_d = None if hi is None else t(hi)
    out = _bits.clip(d, ninf if lo_d is None else lo_d, inf if hi_d is None else hi_d)
    if not (input._rg and STATE.enabled):
        return _wrap(out)
    node = _new(overload(Clamp, node_name)._backward_cls)
    node._edges = [edge(input), NOT_TENSOR, NOT_TENSOR]
    result = node._output_tensor(out)
    node._saved = [saved_input(input), None, None]
    node.bounds = (lo_d, hi_d)
    return result


# The node names of clamp, clamp_min and clamp_max: (Python-number bounds, Tensor bounds).
_CLAMP_NODES = ("ClampBackward1", "ClampBackward0")


def clamp(input, min=None, max=None, *, out=None, _nodes=_CLAMP_NODES):
    if out is None and type(input) is Tensor and (min is not None or max is not None):
        d = input._data
        limit = _FLOAT_MAX.get(d.dtype)
        if limit is not None and _number_bound(min, limit) and _number_bound(max, limit):
            if STATE.fast and d.ndim:
                return _clamp_by_numbers(input, d, min, max, _nodes[0])
            return overload(Clamp, _nodes[0]).apply(input, min, max)
    _check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input.is_complex():
        raise NotImplementedError("clamp is not supported for complex types")
    lo, hi = as_tensor_arg(min) if min is not None else None, as_tensor_arg(max) if max is not None else None
    if isinstance(lo, Tensor) != isinstance(hi, Tensor) and lo is not None and hi is not None:
        t = lo if isinstance(lo, Tensor) else hi
        if t.ndim != 0:
            kinds = ", ".join(type(v).__name__ if not isinstance(v, Tensor) else "Tensor" for v in (input, lo, hi))
            raise TypeError(f"clamp() received an invalid combination of arguments - got ({kinds}), but expected "
                            "(Tensor input, Tensor min, Tensor max) or (Tensor input, Number min, Number max)")
        lo, hi = [v.item() if isinstance(v, Tensor) else v for v in (lo, hi)]
    nd = _dtype.result_type(*[v for v in (input, lo, hi) if v is not None])
    if isinstance(lo, Tensor) and isinstance(hi, Tensor):
        _reject(nd, _nyi("b", "clamp_cpu"))
    elif not (isinstance(lo, Tensor) or isinstance(hi, Tensor)):
        _reject(nd, _nyi("b", "clamp_scalar_cpu"))
        _check_bound(lo, nd)
        _check_bound(hi, nd)
    _broadcast_check(input, lo, hi)
    cls = overload(Clamp, _nodes[isinstance(lo, Tensor) or isinstance(hi, Tensor)])
    return _out(cls.apply(cast_to(input, nd), lo, hi), out, "clamp")


def clip(input, min=None, max=None, *, out=None):
    return clamp(input, min, max, out=out)


def clamp_min(input, min):
    return clamp(input, min=min, _nodes=("ClampMinBackward0", "ClampMinBackward1"))


def clamp_max(input, max):
    return clamp(input, max=max, _nodes=("ClampMaxBackward0", "ClampMaxBackward1"))


class Where(Function):
    _raw = True
    _node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b, nd):
        ctx.cond = cond
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.where(cond, _operand(a, nd), _operand(b, nd))

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need = ctx.needs_input_grad
        if not STATE.enabled:
            gd, cond = g._data, ctx.cond
            zero = _bits.constant(0, gd.dtype)
            return (None, _grad_tensor(np.where(cond, gd, zero), sa) if need[1] else None,
                    _grad_tensor(np.where(cond, zero, gd), sb) if need[2] else None, None)
        cond = _mask(ctx.cond)
        ga = sum_to(where(cond, g, 0.0), sa) if ctx.needs_input_grad[1] else None
        gb = sum_to(where(cond, 0.0, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb, None


def _fast_where(condition, a, b):
    """where(bool condition, float Tensor a, Tensor of a's dtype or Python float b) without the argument checks
    (shapes NumPy cannot broadcast go on to them); None for the other calls."""
    cond, ad = condition._data, a._data
    tb = type(b)
    if cond.dtype != np.bool_ or ad.dtype.kind != "f":
        return None
    if tb is Tensor:
        bd = b._data
        if bd.dtype is not ad.dtype:
            return None
    elif tb is float:
        bd = ad.dtype.type(b)
    else:
        return None
    try:
        out = np.where(cond, ad, bd)
    except ValueError:
        return None
    if not (STATE.enabled and (a._rg or tb is Tensor and b._rg)):
        t = _new(Tensor)
        t._data = out
        return t
    t = record_result(Where, (condition, a, b) if tb is Tensor else (condition, a), out, None, 4)
    t._grad_fn.cond, t._grad_fn.shapes = cond, (ad.shape, np.shape(bd))
    return t


def where(condition, input=None, other=None, *, out=None):
    if out is None and STATE.fast and type(condition) is Tensor and type(input) is Tensor:
        r = _fast_where(condition, input, other)
        if r is not None:
            return r
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    _check_tensor(condition, "where")
    cond = condition._data
    if cond.dtype == np.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be removed in a "
                      "future version of PyTorch. Use a boolean condition instead.")
        cond = cond.astype(bool)
    elif cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.scalar_name(condition.dtype)}")
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _broadcast_check(condition, a, b)
    nd = _result_dtype(a, b)
    return _out(Where.apply(condition if cond is condition._data else Tensor._make(cond), a, b, nd.np), out, "where")


def _lerp(x, end, w):
    """torch's lerp: x + w * (end - x) where |w| < 1/2, end - (end - x) * (1 - w) elsewhere (exact at both ends)."""
    diff = np.subtract(end, x)
    if diff.ndim and w.ndim == 0:                   # a number weight: one branch, in place
        if builtins.abs(w.item()) < 0.5:
            diff *= w
            diff += x
            return diff
        diff *= 1 - w
        return np.subtract(end, diff, out=diff)
    small = np.abs(w) < 0.5
    if x.shape == end.shape == w.shape and x.dtype.kind == "f" and x.size >= _FAST_MIN:
        near = np.multiply(w, diff)
        near += x
        far = np.subtract(1, w)
        far *= diff
        del diff
        np.subtract(end, far, out=far)
        return _bits.select(small, near, far)
    return np.asarray(np.where(small, x + w * diff, end - diff * (1 - w)), x.dtype)


def _lerp_half(x, end, w):
    """PyTorch's half lerp, computed in float: fma(w, end - x, x) where |w| < 1/2, else fma(w - 1, end - x, end), each
    fma exact in float64 and rounded to float, then to half."""
    x, end = x.astype(np.float32), end.astype(np.float32)
    small = np.abs(w) < 0.5
    coeff = np.where(small, w, w - np.float32(1)).astype(np.float64)
    base = np.where(small, x, end).astype(np.float64)
    return (base + coeff * (end - x)).astype(np.float32).astype(np.float16)


class Lerp(Function):
    """lerp(x, end, w) with PyTorch's two-sided formula (exact at both ends)."""
    _raw = True
    _node_name = "LerpBackward0"

    @staticmethod
    def forward(ctx, x, end, w):
        ctx.shapes = (x.shape, end.shape, np.shape(w))
        ctx.save_for_backward(x, end, w if isinstance(w, np.ndarray) else None)
        ctx.weight = w
        if x.dtype == np.float16:
            return _lerp_half(x, end, _operand(w, np.float32))
        return _lerp(x, end, _operand(w, x.dtype))

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_lerp_grads, g, ctx)


def _lerp_grads(g, ctx):
    x, end, w_t = ctx.saved_tensors
    w = w_t if w_t is not None else ctx.weight
    sx, se, sw = ctx.shapes
    need = ctx.needs_input_grad
    gx = sum_to(g * (1 - w), sx) if need[0] else None
    ge = sum_to(g * w, se) if need[1] else None
    gw = sum_to(g * (end - x), sw) if w_t is not None and need[2] else None
    return gx, ge, gw


def lerp(input, end, weight, *, out=None):
    _check_tensor(input, "lerp")
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp() received an invalid combination of arguments - got (Tensor, {type(end).__name__}, "
                        f"{type(weight).__name__}), but expected (Tensor input, Tensor end, Tensor weight) or "
                        "(Tensor input, Tensor end, Number weight)")
    weight = as_tensor_arg(weight)
    for arg, v in (("end", end), ("weight", weight)):
        if isinstance(v, Tensor) and v.dtype is not input.dtype:
            raise RuntimeError(f"expected dtype {_short_name(input.dtype)} for `{arg}` but got dtype "
                               f"{_short_name(v.dtype)}")
    _broadcast_check(input, end, weight)
    kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
    _reject(input.dtype, _nyi("bi", kernel))
    cls = overload(Lerp, "LerpBackward1") if isinstance(weight, Tensor) else Lerp
    return _out(cls.apply(input, end, weight), out, "lerp")


def heaviside(input, values, *, out=None):
    """0 where input < 0 (and NaN), values where input == 0, 1 where input > 0; both tensors of one dtype."""
    _check_tensor(input, "heaviside")
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    _broadcast_check(input, values)
    x, v = input._data, values._data
    return _out(Tensor._make(np.asarray(np.where(x == 0, v, x > 0), x.dtype)), out, "heaviside")


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of `elements` is in `test_elements` (either may be a number)."""
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._make(np.asarray(np.isin(e, t, assume_unique=assume_unique, invert=invert)))


def _real_angle(x):
    """angle of real numbers: pi for negatives, 0 otherwise (-0.0 included), NaN for NaN."""
    return np.where(x < 0, np.pi, np.where(x != x, x, 0)).astype(x.dtype, copy=False)


def _angle_grad(g, x):
    """0 for real x; for complex z, PyTorch's g * i z / |z|^2 (0 at z = 0)."""
    if x._data.dtype.kind != "c":
        return g * 0
    zero = _mask(x._data == 0)
    return where(zero, 0.0, g * x / (x.abs() ** 2) * 1j)


angle = _unary("angle", _on_real(_real_angle, np.angle), _angle_grad, node="AngleBackward0")


class Conj(Function):
    """The complex conjugate (a copy; PyTorch's is a lazy view), differentiable: its gradient is g's conjugate."""

    _raw = True
    _node_name = "ConjBackward0"

    @staticmethod
    def forward(ctx, x):
        return np.conj(x)

    @staticmethod
    def backward(ctx, g):
        return conj(g)


# ---- complex from parts ---------------------------------------------------------------------------------------------
def _complex_parts(a, b):
    """The complex dtype for two float tensors of one dtype, with PyTorch's errors."""
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f":
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_dtype.scalar_name(a.dtype)} and {_dtype.scalar_name(b.dtype)}")
    if da != db:
        raise RuntimeError(f"Expected object of scalar type {_dtype.scalar_name(a.dtype)} but got scalar type "
                           f"{_dtype.scalar_name(b.dtype)} for second argument")
    if da == np.float16:
        raise NotImplementedError("ember has no complex32 (complex half) dtype")
    _broadcast_check(a, b)
    return np.complex64 if da == np.float32 else np.complex128


class Complex(Function):
    """real + i imag; the gradient splits into the real and imaginary parts of g."""
    _raw = True
    _node_name = "ComplexBackward0"

    @staticmethod
    def forward(ctx, re, im, cdt):
        ctx.shapes = (re.shape, im.shape)
        out = np.empty(np.broadcast_shapes(re.shape, im.shape), cdt)
        out.real, out.imag = re, im
        return out

    @staticmethod
    def backward(ctx, g):
        sr, si = ctx.shapes
        return sum_to(g.real, sr), sum_to(g.imag, si), None


class Polar(Function):
    """abs (cos angle + i sin angle); backward as PyTorch's polar_backward (from the result's sign, so a zero
    magnitude gets no gradient)."""
    _raw = True
    _node_name = "PolarBackward0"

    @staticmethod
    def forward(ctx, r, theta, cdt):
        ctx.shapes = (r.shape, theta.shape)
        out = np.empty(np.broadcast_shapes(r.shape, theta.shape), cdt)
        out.real, out.imag = r * np.cos(theta), r * np.sin(theta)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        sr, st = ctx.shapes
        gc = g.conj()
        return sum_to((gc * sgn(out)).real, sr), sum_to((gc * (out * 1j)).real, st), None


def complex(real, imag, *, out=None):
    """A complex tensor from real and imaginary parts (float32 -> complex64, float64 -> complex128)."""
    cd = _complex_parts(real, imag)
    if out is not None:
        _check_complex_out(cd, out)
    return _out(Complex.apply(real, imag, cd), out, "complex")


def polar(abs, angle, *, out=None):
    """A complex tensor from magnitudes and angles."""
    cd = _complex_parts(abs, angle)
    if out is not None:
        _check_complex_out(cd, out)
    return _out(Polar.apply(abs, angle, cd), out, "polar")


def _check_complex_out(np_dtype, out):
    """complex/polar write only into an out= of exactly their complex dtype, as in PyTorch."""
    if out._data.dtype != np_dtype:
        raise RuntimeError(f"Expected object of scalar type {_dtype.scalar_name(_dtype.from_numpy_dtype(np_dtype))} "
                           f"but got scalar type {_dtype.scalar_name(out.dtype)} for argument 'out'")


def conj(input):
    """The complex conjugate; a real tensor is returned as it is, as in PyTorch."""
    _check_tensor(input, "conj")
    return Conj.apply(input) if input._data.dtype.kind == "c" else input


def conj_physical(input, *, out=None):
    """The conjugate, always computed (ember's conj is too); real tensors come back as they are."""
    _check_tensor(input, "conj_physical")
    if input._data.dtype.kind != "c":
        return _out(input, out, "conj_physical")
    return _out(as_node(Conj.apply(input), "ConjPhysicalBackward0"), out, "conj_physical")


def ldexp(input, other, *, out=None):
    """input * 2 ** other, as PyTorch computes it (both must be tensors, as in PyTorch)."""
    _check_operands(input, other, "ldexp", "tensors")
    return _out(as_node(mul(input, pow(2.0, other)), "LdexpBackward0"), out, "ldexp")


class Frexp(Function):
    """frexp as one node: the mantissa's gradient is g / exponent.exp2() (2 ** exponent in float32, as PyTorch's
    formula computes it); the integer exponent has none."""

    _raw = True
    _materialize = False  # backward takes None for the integer exponent's gradient
    _node_name = "FrexpBackward0"

    @staticmethod
    def forward(ctx, x):
        m, e = np.frexp(x)
        e = e.astype(np.int32)
        ctx.exp2 = np.exp2(e, dtype=np.float32)
        return m, e

    @staticmethod
    def backward(ctx, gm, ge):
        return div(gm, Tensor._make(ctx.exp2)).to(gm.dtype)


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1); exponent as int32."""
    _check_tensor(input, "frexp")
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    res = return_types.frexp(*Frexp.apply(input))
    if out is not None:
        for dst, src in zip(out, res):
            _out(src, dst, "frexp")
        return return_types.frexp(*out)
    return res


def deg2rad(input, *, out=None):
    return _out(as_node(mul(input, math.pi / 180), "Deg2RadBackward0"), out, "deg2rad")


def rad2deg(input, *, out=None):
    return _out(as_node(mul(input, 180 / math.pi), "Rad2DegBackward0"), out, "rad2deg")


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2, in PyTorch's order ((value * tensor1) * tensor2, then the sum)."""
    _check_tensor(input, "addcmul")
    _broadcast_check(input, tensor1, tensor2)
    if _half_opmath(input, tensor1, tensor2):   # fma(float(value) * t1, t2, self) in float, rounded once
        res = add(input.double(), mul(mul(tensor1.float(), value).double(), tensor2.double())).float().half()
        return _out(as_node(res, "AddcmulBackward0"), out, "addcmul")
    prod = mul(tensor1 if value == 1 else mul(tensor1, value), tensor2)
    return _out(as_node(add(input, prod), "AddcmulBackward0"), out, "addcmul")


def _half_opmath(input, *tensors):
    """Whether a fused op computes in float16, which PyTorch's CPU kernels do in float32, rounding once."""
    return input._data.dtype == np.float16 and _dtype.result_type(input, *tensors) is _dtype.float16


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + (value * tensor1) / tensor2, in PyTorch's order; PyTorch refuses integer tensor1 and tensor2."""
    _check_tensor(input, "addcdiv")
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
                           "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    _broadcast_check(input, tensor1, tensor2)
    if _half_opmath(input, tensor1, tensor2):
        res = add(input.float(), div(mul(tensor1.float(), value), tensor2.float())).half()
        return _out(as_node(res, "AddcdivBackward0"), out, "addcdiv")
    quot = div(tensor1 if value == 1 else mul(tensor1, value), tensor2)
    return _out(as_node(add(input, quot), "AddcdivBackward0"), out, "addcdiv")


def _short_name(d):
    return {"float32": "float", "float64": "double", "float16": "half", "int64": "long", "int32": "int"}.get(d.name,
                                                                                                          d.name)


class NanToNum(Function):
    """nan_to_num as a clip to the finite range (or copies where infinite) and a fill of the few NaNs; the gradient
    passes where the input is finite (torch: grad * isfinite(self))."""
    _raw = True
    _node_name = "NanToNumBackward0"

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        if x.dtype.kind != "f" or not x.ndim:
            return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
        fi = np.finfo(x.dtype)
        if posinf == fi.max and neginf == fi.min:
            out = _bits.clip(x, neginf, posinf)        # +-inf -> the finite extremes; NaN stays for the next step
        else:
            out = x.copy()
            np.copyto(out, posinf, where=x == np.inf)
            np.copyto(out, neginf, where=x == -np.inf)
        if out.size and np.isnan(np.maximum.reduce(out, axis=None)):  # a max is NaN iff an entry is: one pass
            np.copyto(out, nan, where=np.isnan(x))
        return out

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        finite = np.isfinite(x._data)
        if STATE.enabled:
            return where(_mask(finite), g, 0.0), None, None, None
        return Tensor._make(_bits.keep(g._data, finite)), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    _check_tensor(input, "nan_to_num")
    d = input._data
    if d.dtype.kind not in "fc":
        return _out(input.clone(), out, "nan_to_num")
    fi = np.finfo(d.dtype)
    posinf = fi.max if posinf is None else posinf
    neginf = fi.min if neginf is None else neginf
    return _out(NanToNum.apply(input, nan, posinf, neginf), out, "nan_to_num")


class Logit(Function):
    """logit(x) = log(x / (1 - x)), x clamped to [eps, 1 - eps] when eps is given."""
    _raw = True
    _node_name = "LogitBackward0"

    @staticmethod
    def forward(ctx, x, eps):
        if x.dtype.kind != "f":
            x = x.astype(_dtype.get_default_dtype().np)
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x if eps is None else np.clip(x, eps, 1 - eps).astype(x.dtype)
        return np.log(z / (1 - z))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        xd, eps = x._data, ctx.eps
        if eps is None:
            outside, fill = (xd < 0) | (xd > 1), math.nan
        else:
            outside, fill = (xd < eps) | (xd > 1 - eps), 0.0
        return where(_mask(outside), fill, g / (x * (1 - x))), None


def logit(input, eps=None, *, out=None):
    _check_tensor(input, "logit")
    _reject(input.dtype, _nyi("c", "logit_cpu"))
    return _out(Logit.apply(input, eps), out, "logit")


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


class _Real(Function):
    """The real part of a complex tensor, as a view; its gradient is g as a complex tensor. PyTorch selects from
    view_as_real, so the node shows as a select."""

    _raw = True
    _node_name = "SelectBackward0"

    @staticmethod
    def forward(ctx, x):
        return x.real

    @staticmethod
    def backward(ctx, g):
        return g * (1 + 0j)


class _Imag(_Real):
    """The imaginary part, likewise; its gradient is g * i."""

    @staticmethod
    def forward(ctx, x):
        return x.imag

    @staticmethod
    def backward(ctx, g):
        return g * 1j


def real(input):
    if not input.is_complex():
        return input
    return input._make_view(_Real.apply(input), real)


def imag(input):
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return input._make_view(_Imag.apply(input), imag)


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
    "isneginf", "isreal", "signbit", "clamp", "clip", "clamp_min", "clamp_max", "where", "lerp", "addcmul",
    "addcdiv", "heaviside", "isin", "deg2rad", "rad2deg", "gcd", "lcm", "nextafter", "angle", "conj", "ldexp",
    "frexp", "nan_to_num", "xlogy", "logit", "clone", "complex", "polar", "conj_physical",
    "real", "imag",
]
for _n, _np_name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                     ("arccosh", "acosh"), ("arctanh", "atanh")]:
    globals()[_n] = globals()[_np_name]
    __all__.append(_n)
