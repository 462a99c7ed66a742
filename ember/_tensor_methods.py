"""Binds the ops as Tensor methods, operators and in-place variants."""
import numpy as np

from ._tensor import Tensor
from . import _dtype
from .ops import elementwise as E, reduction as R, shape as S, indexing as I, linalg as L, creation as C
from .ops import special_math as _sm  # noqa: F401  (import check)
from .autograd.grad_mode import STATE


def _bind_functions(module, names):
    for n in names:
        if not hasattr(Tensor, n):
            setattr(Tensor, n, getattr(module, n))


_bind_functions(E, [n for n in E.__all__ if n not in ("where", "positive")])
_bind_functions(R, R.__all__)
_bind_functions(S, [n for n in S.__all__ if n not in ("broadcast_shapes", "broadcast_tensors", "cat", "concat",
                                                      "concatenate", "stack", "hstack", "vstack", "row_stack",
                                                      "dstack", "column_stack", "atleast_1d", "atleast_2d",
                                                      "atleast_3d")])
_bind_functions(I, [n for n in I.__all__])
_bind_functions(L, [n for n in L.__all__ if n not in ("einsum", "tensordot")])

Tensor.where = lambda self, condition, other: E.where(condition, self, other)
Tensor.positive = lambda self: self
Tensor.__getitem__ = I.getitem
Tensor.__setitem__ = I.setitem
Tensor.index_put = I.index_put
Tensor.index_put_ = I.index_put_
Tensor.scatter_ = I.scatter_
Tensor.scatter_add_ = I.scatter_add_
Tensor.index_add_ = I.index_add_
Tensor.index_fill_ = I.index_fill_
Tensor.index_copy_ = I.index_copy_
Tensor.masked_fill_ = I.masked_fill_
Tensor.masked_scatter_ = I.masked_scatter_
Tensor.put_ = I.put_
Tensor.norm = lambda self, p="fro", dim=None, keepdim=False, dtype=None: R.norm(self, p, dim, keepdim, dtype)


# ---- operators --------------------------------------------------------------------------------------------------
def _rev(fn):
    return lambda self, other: fn(other, self)


def _binop(fn):
    def op(self, other):
        if not isinstance(other, (Tensor, int, float, bool, complex, np.ndarray, np.generic)):
            return NotImplemented
        return fn(self, other)
    return op


Tensor.__add__ = _binop(E.add)
Tensor.__radd__ = _binop(E.add)
Tensor.__sub__ = _binop(E.sub)
Tensor.__rsub__ = _binop(_rev(E.sub))
Tensor.__mul__ = _binop(E.mul)
Tensor.__rmul__ = _binop(E.mul)
Tensor.__truediv__ = _binop(E.div)
Tensor.__rtruediv__ = _binop(_rev(E.div))
Tensor.__floordiv__ = _binop(E.floor_divide)
Tensor.__rfloordiv__ = _binop(_rev(E.floor_divide))
Tensor.__mod__ = _binop(E.remainder)
Tensor.__rmod__ = _binop(_rev(E.remainder))
Tensor.__pow__ = _binop(E.pow)
Tensor.__rpow__ = _binop(_rev(E.pow))
Tensor.__matmul__ = _binop(L.matmul)
Tensor.__rmatmul__ = _binop(_rev(L.matmul))
Tensor.__neg__ = E.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = E.abs
Tensor.__eq__ = _binop(E.eq)
Tensor.__ne__ = _binop(E.ne)
Tensor.__lt__ = _binop(E.lt)
Tensor.__le__ = _binop(E.le)
Tensor.__gt__ = _binop(E.gt)
Tensor.__ge__ = _binop(E.ge)


def _logical_or_bitwise(bitwise, logical):
    def op(self, other):
        a = self._data.dtype == np.bool_ and (not isinstance(other, Tensor) or other._data.dtype == np.bool_) \
            and (isinstance(other, (Tensor, bool)))
        return logical(self, other) if a else bitwise(self, other)
    return op


Tensor.__and__ = _logical_or_bitwise(E.bitwise_and, E.logical_and)
Tensor.__rand__ = Tensor.__and__
Tensor.__or__ = _logical_or_bitwise(E.bitwise_or, E.logical_or)
Tensor.__ror__ = Tensor.__or__
Tensor.__xor__ = _logical_or_bitwise(E.bitwise_xor, E.logical_xor)
Tensor.__rxor__ = Tensor.__xor__
Tensor.__lshift__ = E.bitwise_left_shift
Tensor.__rshift__ = E.bitwise_right_shift


def _invert(self):
    if self._data.dtype == np.bool_:
        return E.logical_not(self)
    return E.bitwise_not(self)


Tensor.__invert__ = _invert


# ---- in-place variants ---------------------------------------------------------------------------------------------
def _make_inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)
    method.__name__ = fn.__name__ + "_"
    return method


_INPLACE = ["add", "sub", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "atan2", "exp", "exp2", "expm1",
            "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
            "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "erfinv", "lgamma", "digamma",
            "reciprocal", "square", "abs", "neg", "negative", "frac", "sign", "sgn", "floor", "ceil", "trunc", "fix",
            "round", "clamp", "clip", "clamp_min", "clamp_max", "lerp", "nan_to_num", "logit", "hypot", "copysign",
            "xlogy", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
            "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "tril", "triu",
            "relu", "subtract", "multiply", "divide", "true_divide", "arcsin", "arccos", "arctan", "float_power",
            "sinc", "i0", "absolute", "cumsum", "cumprod", "squeeze", "unsqueeze", "t", "transpose", "swapaxes",
            "renorm"]


def _relu(self):
    return E.clamp(self, min=0) if self._data.dtype.kind != "b" else self.clone()


Tensor.relu = _relu
for _name in _INPLACE:
    _fn = getattr(Tensor, _name, None)
    if _fn is not None:
        setattr(Tensor, _name + "_", _make_inplace(_fn))


def _shape_inplace(fn):
    """squeeze_/unsqueeze_/t_/transpose_: change self's shape in place (a metadata change)."""
    def method(self, *args):
        res = fn(self, *args)
        self._data = res._data
        if res._grad_fn is not None:
            self._grad_fn, self._output_nr = res._grad_fn, res._output_nr
        return self
    return method


for _name in ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims"):
    setattr(Tensor, _name + "_", _shape_inplace(getattr(S, _name)))


Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.__ifloordiv__ = lambda self, other: self.floor_divide_(other)
Tensor.__imod__ = lambda self, other: self.remainder_(other)
Tensor.__ipow__ = lambda self, other: self.pow_(other)
Tensor.__iand__ = lambda self, other: self._inplace(Tensor.__and__, other)
Tensor.__ior__ = lambda self, other: self._inplace(Tensor.__or__, other)
Tensor.__ixor__ = lambda self, other: self._inplace(Tensor.__xor__, other)
Tensor.__imatmul__ = lambda self, other: self._inplace(L.matmul, other)


def _fill_inplace(self, make):
    """Write values produced by make(shape, np_dtype) into self (no history: the result is a constant)."""
    if STATE.enabled and self._rg and self._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    vals = make(self._data.shape, self._data.dtype)
    if STATE.enabled and (self._rg or (self._base is not None and self._base._rg)):
        return self._inplace(lambda old: E.mul(old, 0) + Tensor._make(np.asarray(vals, self._data.dtype)))
    self._data[...] = vals
    self._bump()
    return self


def zero_(self):
    return _fill_inplace(self, lambda shape, dt: 0)


def fill_(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if value._rg and STATE.enabled:
            return self._inplace(lambda old, v: E.mul(old, 0) + v, value)
        value = value.item()
    return _fill_inplace(self, lambda shape, dt: value)


def copy_(self, src, non_blocking=False):
    src = src if isinstance(src, Tensor) else C.tensor(src)
    try:
        np.broadcast_shapes(src._data.shape, self._data.shape)
        if np.broadcast_shapes(src._data.shape, self._data.shape) != self._data.shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(np.broadcast_shapes(src._data.shape, self._data.shape))}") from None
    if STATE.enabled and (src._rg or self._rg or (self._base is not None and self._base._rg)):
        return self._inplace(lambda old, s: E.mul(old, 0) + s.to(self.dtype).expand(self._data.shape)
                             if s._data.shape != self._data.shape else E.mul(old, 0) + s.to(self.dtype), src)
    np.copyto(self._data, src._data, casting="unsafe")
    self._bump()
    return self


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_


def _random_fill(kind):
    def method(self, *args, generator=None, **kwargs):
        from . import random as rnd
        r = rnd.rng(generator)
        if kind == "uniform":
            a, b = (list(args) + [0, 1][len(args):])[:2] if args else (kwargs.get("from", kwargs.get("a", 0)),
                                                                      kwargs.get("to", kwargs.get("b", 1)))
            make = lambda shape, dt: (r.random(shape) * (b - a) + a)
        elif kind == "normal":
            mean = args[0] if args else kwargs.get("mean", 0.0)
            std = args[1] if len(args) > 1 else kwargs.get("std", 1.0)
            make = lambda shape, dt: r.standard_normal(shape) * std + mean
        elif kind == "bernoulli":
            p = args[0] if args else kwargs.get("p", 0.5)
            p = p._data if isinstance(p, Tensor) else p
            make = lambda shape, dt: (r.random(shape) < p)
        elif kind == "exponential":
            lambd = args[0] if args else kwargs.get("lambd", 1.0)
            make = lambda shape, dt: r.exponential(1.0 / lambd, shape)
        elif kind == "geometric":
            p = args[0]
            make = lambda shape, dt: r.geometric(p, shape)
        elif kind == "log_normal":
            mean = args[0] if args else kwargs.get("mean", 1.0)
            std = args[1] if len(args) > 1 else kwargs.get("std", 2.0)
            make = lambda shape, dt: r.lognormal(mean, std, shape)
        elif kind == "cauchy":
            median = args[0] if args else kwargs.get("median", 0.0)
            sigma = args[1] if len(args) > 1 else kwargs.get("sigma", 1.0)
            make = lambda shape, dt: median + sigma * r.standard_cauchy(shape)
        else:  # random_
            if len(args) == 0:
                hi = 2 ** 24 if self._data.dtype == np.float32 else 2 ** 53 if self._data.dtype == np.float64 else \
                    np.iinfo(self._data.dtype).max if self._data.dtype.kind in "iu" else 2
                lo = 0
            elif len(args) == 1:
                lo, hi = 0, args[0]
            else:
                lo, hi = args[0], args[1]
            make = lambda shape, dt: r.integers(lo, hi, shape)
        return _fill_inplace(self, make)
    return method


for _kind in ("uniform", "normal", "bernoulli", "exponential", "geometric", "log_normal", "cauchy", "random"):
    setattr(Tensor, _kind + "_", _random_fill(_kind))


# ---- conversions ------------------------------------------------------------------------------------------------------
def to(self, *args, **kwargs):
    """to(dtype) / to(device) / to(other) / to(device, dtype); non_blocking and copy accepted."""
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (_dtype.dtype, type)) or (isinstance(a, str) and a.replace("torch.", "") in
                                                     _dtype._BY_NAME):
            dtype = a
        elif isinstance(a, (str, _dtype.device, int)):
            device = a
    _dtype.check_device(device)
    if dtype is None:
        return self.clone() if copy else self
    return E.cast_to(self, _dtype.to_dtype(dtype), copy)


Tensor.to = to


def _type_method(self, dtype=None, non_blocking=False):
    if dtype is None:
        return "torch." + {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                           "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                           "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}.get(
            self._data.dtype.name, "Tensor")
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        dtype = _LEGACY_NAMES[dtype.replace("torch.", "")]
    elif isinstance(dtype, type) and hasattr(dtype, "_legacy_dtype"):
        dtype = dtype._legacy_dtype
    return E.cast_to(self, _dtype.to_dtype(dtype))


_LEGACY_NAMES = {"FloatTensor": _dtype.float32, "DoubleTensor": _dtype.float64, "HalfTensor": _dtype.float16,
                 "LongTensor": _dtype.int64, "IntTensor": _dtype.int32, "ShortTensor": _dtype.int16,
                 "CharTensor": _dtype.int8, "ByteTensor": _dtype.uint8, "BoolTensor": _dtype.bool_}
Tensor.type = _type_method
Tensor.type_as = lambda self, other: E.cast_to(self, other.dtype)
for _meth, _d in [("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
                  ("long", _dtype.int64), ("int", _dtype.int32), ("short", _dtype.int16), ("char", _dtype.int8),
                  ("byte", _dtype.uint8), ("bool", _dtype.bool_), ("cfloat", _dtype.complex64),
                  ("cdouble", _dtype.complex128)]:
    setattr(Tensor, _meth, (lambda d: lambda self, memory_format=None: E.cast_to(self, d))(_d))


def _bfloat16(self, memory_format=None):
    _dtype.to_dtype(_dtype.bfloat16)


Tensor.bfloat16 = _bfloat16
Tensor.new_tensor = lambda self, data, dtype=None, device=None, requires_grad=False: C.tensor(
    data, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_zeros = lambda self, *size, dtype=None, device=None, requires_grad=False: C.zeros(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_ones = lambda self, *size, dtype=None, device=None, requires_grad=False: C.ones(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_empty = lambda self, *size, dtype=None, device=None, requires_grad=False: C.empty(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_full = lambda self, size, fill_value, dtype=None, device=None, requires_grad=False: C.full(
    size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.conj = lambda self: Tensor._make(np.conj(self._data)) if self.is_complex() else self
Tensor.resolve_conj = lambda self: self
Tensor.resolve_neg = lambda self: self
Tensor.equal = lambda self, other: self._data.shape == other._data.shape and bool(np.array_equal(self._data, other._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    o = other._data if isinstance(other, Tensor) else other
    return Tensor._make(np.asarray(np.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan)))


Tensor.allclose = allclose
Tensor.isclose = isclose
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self._data.ndim)))))
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
Tensor.H = property(lambda self: S.t(self).conj())
Tensor.mH = property(lambda self: S.transpose(self, -2, -1).conj())
Tensor.real = property(E.real)
Tensor.imag = property(E.imag)
Tensor.unique = lambda self, sorted=True, return_inverse=False, return_counts=False, dim=None: __import__(
    "ember").unique(self, sorted, return_inverse, return_counts, dim)
Tensor.apply_ = lambda self, fn: _fill_inplace(self, lambda shape, dt: np.vectorize(fn)(self._data))
Tensor.map_ = None
del Tensor.map_
