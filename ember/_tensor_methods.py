"""Binds the ops as Tensor methods, operators and in-place variants."""
import math

import numpy as np

from ._tensor import Tensor
from . import _dtype
from .ops import elementwise as E, reduction as R, shape as S, indexing as I, linalg as L, creation as C, \
    misc as M
from .ops import special_math as _sm  # noqa: F401  (import check)
from .ops._util import sum_to
from .autograd.function import Function, as_node, overload
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
                                                      "atleast_3d", "view_as_real", "view_as_complex")])
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
Tensor.scatter_reduce_ = I.scatter_reduce_
Tensor.index_reduce_ = I.index_reduce_
Tensor.index_add_ = I.index_add_
Tensor.index_fill_ = I.index_fill_
Tensor.index_copy_ = I.index_copy_
Tensor.masked_fill_ = I.masked_fill_
Tensor.masked_scatter_ = I.masked_scatter_
Tensor.put_ = I.put_
Tensor.unfold = S.unfold_windows


def _sum_to_size(self, *size):
    """self summed down to `size` (a size self's shape broadcasts from), as the gradient of an expand."""
    size = S._shape_arg(size)
    shape = self._data.shape
    if len(size) > len(shape) or any(s not in (1, n) for s, n in zip(size[::-1], shape[::-1])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    return self.sum() if not size else sum_to(self, size)   # PyTorch sums (promoting integers) even a 0-d self


def _fill_diagonal_(self, fill_value, wrap=False):
    """Write fill_value on the main diagonal (of a 2-D tensor, or of one whose dims are all equal); with wrap, a tall
    matrix's diagonal restarts below every square block, as PyTorch's."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    step = sum(math.prod(shape[k + 1:]) for k in range(len(shape)))
    end = self._data.size if wrap and len(shape) == 2 else min(shape) * math.prod(shape[1:])
    self[tuple(Tensor._make(i) for i in np.unravel_index(np.arange(0, end, step), shape))] = fill_value
    return as_node(self, "CopySlices")


Tensor.sum_to_size = _sum_to_size
Tensor.fill_diagonal_ = _fill_diagonal_
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


def _float_binop(cls, name, slow):
    """An operator whose float-tensor cases go straight to the binary kernel (dtype rules are unchanged)."""
    binary = E._binary

    def op(self, other):
        t = type(other)
        if (t is Tensor or t is float or t is int) and self._data.dtype.kind == "f":
            return binary(cls, self, other, name)
        if not isinstance(other, (Tensor, int, float, bool, complex, np.ndarray, np.generic)):
            return NotImplemented
        return slow(self, other)
    return op


Tensor.__add__ = _float_binop(E.Add, "add", E.add)
Tensor.__radd__ = _float_binop(E.Add, "add", E.add)
Tensor.__sub__ = _float_binop(E.Sub, "sub", E.sub)
Tensor.__rsub__ = _binop(E.rsub)
Tensor.__mul__ = _float_binop(E.Mul, "mul", E.mul)
Tensor.__rmul__ = _float_binop(E.Mul, "mul", E.mul)
Tensor.__truediv__ = _float_binop(E.Div, "div", E.div)
Tensor.__rtruediv__ = Tensor.__rdiv__ = _binop(lambda self, other: E.mul(E.reciprocal(self), other))
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
        a = self._data.dtype == np.bool_ and isinstance(other, Tensor) and other._data.dtype == np.bool_
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
Tensor.__rlshift__ = _binop(_rev(E.bitwise_left_shift))
Tensor.__rrshift__ = _binop(_rev(E.bitwise_right_shift))


def _invert(self):
    if self._data.dtype == np.bool_:
        return E.logical_not(self)
    return E.bitwise_not(self)


Tensor.__invert__ = _invert


# ---- in-place variants ---------------------------------------------------------------------------------------------
def _make_inplace(fn, node=None):
    """The in-place method of op fn; `node` names its graph node where PyTorch numbers it apart (asinh_)."""
    def method(self, *args, **kwargs):
        out = self._inplace(fn, *args, **kwargs)
        return as_node(out, node) if node is not None and out._grad_fn is not None else out
    method.__name__ = fn.__name__ + "_"
    return method


_INPLACE = ["add", "sub", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "atan2", "exp", "exp2", "expm1",
            "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
            "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "erfinv", "lgamma", "digamma",
            "reciprocal", "square", "abs", "neg", "negative", "frac", "sign", "sgn", "floor", "ceil", "trunc", "fix",
            "round", "clamp", "clip", "clamp_min", "clamp_max", "lerp", "addcmul", "addcdiv", "heaviside", "deg2rad",
            "rad2deg", "gcd", "lcm", "addmm", "addmv", "baddbmm", "addbmm", "addr", "nan_to_num", "logit", "hypot",
            "copysign", "xlogy", "maximum", "minimum", "logical_and",
            "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
            "tril", "triu", "subtract", "multiply", "divide", "true_divide", "arcsin", "arccos", "arctan",
            "float_power", "sinc", "i0", "absolute", "cumsum", "cumprod", "squeeze", "unsqueeze", "t", "transpose",
            "swapaxes", "renorm", "bitwise_left_shift", "bitwise_right_shift", "ldexp", "nextafter"]


_INPLACE_NODES = {"asinh": "AsinhBackward1", "acosh": "AcoshBackward1", "atanh": "AtanhBackward1"}


for _name in _INPLACE:
    _fn = getattr(Tensor, _name, None)
    if _fn is not None:
        setattr(Tensor, _name + "_", _make_inplace(_fn, _INPLACE_NODES.get(_name)))


class _CompareInPlace(Function):
    """The node of an in-place comparison on a tensor that requires grad: its 0/1 values have zero gradient, and
    the tensor keeps requiring grad (PyTorch's Eq/Ne/Lt/Le/Gt/GeBackward0 for a number, ...1 for a tensor)."""
    _raw = True

    @staticmethod
    def forward(ctx, x, other, values):
        return values

    @staticmethod
    def backward(ctx, g):
        return C.zeros_like(g), (C.zeros_like(g) if ctx.needs_input_grad[1] else None), None


def _compare_inplace(name):
    compare = getattr(Tensor, name)
    node = name.capitalize() + "Backward"

    def values(old, other):
        res = compare(old, other)
        if STATE.enabled and (old._rg or (isinstance(other, Tensor) and other._rg)):
            fn = overload(_CompareInPlace, node + ("1" if isinstance(other, Tensor) else "0"))
            return fn.apply(old, other, res._data.astype(old._data.dtype))
        return res

    def method(self, other):
        return self._inplace(values, other)
    method.__name__ = name + "_"
    return method


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Tensor, _name + "_", _compare_inplace(_name))


for _alias, _name in (("arcsinh_", "asinh_"), ("arccosh_", "acosh_"), ("arctanh_", "atanh_"), ("arctan2_", "atan2_"),
                      ("greater_", "gt_"), ("greater_equal_", "ge_"), ("less_", "lt_"), ("less_equal_", "le_"),
                      ("not_equal_", "ne_")):
    setattr(Tensor, _alias, getattr(Tensor, _name))


# The nodes of the in-place shape ops, by the node of their out-of-place op (PyTorch numbers them apart).
_SHAPE_INPLACE_NODES = {"SqueezeBackward0": "SqueezeBackward3", "SqueezeBackward1": "SqueezeBackward4",
                        "SqueezeBackward2": "SqueezeBackward5", "UnsqueezeBackward0": "UnsqueezeBackward1",
                        "TransposeBackward0": "TransposeBackward1", "TBackward0": "TBackward1"}


def _shape_inplace(fn):
    """squeeze_/unsqueeze_/t_/transpose_: change self's shape in place (a metadata change)."""
    def method(self, *args):
        res = fn(self, *args)
        self._data = res._data
        if res._grad_fn is not None:
            as_node(res, _SHAPE_INPLACE_NODES.get(res._grad_fn._node_name, res._grad_fn._node_name))
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
Tensor.__ilshift__ = lambda self, other: self.bitwise_left_shift_(other)
Tensor.__irshift__ = lambda self, other: self.bitwise_right_shift_(other)
Tensor.__imatmul__ = lambda self, other: self._inplace(L.matmul, other)


class _Overwrite(Function):
    """An in-place write of values that do not depend on the old contents: the old tensor gets a zero gradient."""
    _raw = True
    _node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, old, values):
        out = np.empty_like(old)
        np.copyto(out, values, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, g):
        return C.zeros_like(g), None


class _FillTensor(Function):
    """fill_(value) with a 0-d value tensor: every element is value, so value's gradient is the sum."""
    _raw = True
    _node_name = "FillBackward3"

    @staticmethod
    def forward(ctx, old, value):
        ctx.value_dtype = value.dtype
        return _Overwrite.forward(ctx, old, value)

    @staticmethod
    def backward(ctx, g):
        gv = E.cast_to(g.sum(), _dtype.from_numpy_dtype(ctx.value_dtype)) if ctx.needs_input_grad[1] else None
        return C.zeros_like(g), gv


class _Copy(Function):
    """copy_(src): the gradient goes to src (summed over broadcast dims, in src's dtype), none to the old values."""
    _raw = True
    _node_name = "CopyBackwards"

    def name(self):
        return "torch::autograd::CopyBackwards"

    @staticmethod
    def forward(ctx, old, src):
        ctx.src_meta = (src.shape, src.dtype)
        return _Overwrite.forward(ctx, old, src)

    @staticmethod
    def backward(ctx, g):
        shape, dt = ctx.src_meta
        gs = E.cast_to(sum_to(g, shape), _dtype.from_numpy_dtype(dt)) if ctx.needs_input_grad[1] else None
        return (C.zeros_like(g) if ctx.needs_input_grad[0] else None), gs


_OVERWRITE_NODES = {"FillBackward2": _Overwrite}


def _overwrite_node(name):
    """The _Overwrite Function recorded under torch's node name for one filling op (ZeroBackward0, ...)."""
    cls = _OVERWRITE_NODES.get(name)
    if cls is None:
        cls = _OVERWRITE_NODES[name] = type(name, (_Overwrite,), {"_node_name": name})
    return cls


def _fill_inplace(self, make, node="FillBackward2"):
    """Write values produced by make(shape, np_dtype) into self; recorded as `node`, which passes no gradient."""
    if STATE.enabled and self._rg and self._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    vals = make(self._data.shape, self._data.dtype)
    if STATE.enabled and (self._rg or (self._base is not None and self._base._rg)):
        return self._inplace(lambda old: _overwrite_node(node).apply(old, vals))
    self._data[...] = vals
    self._bump()
    return self


def zero_(self):
    return _fill_inplace(self, lambda shape, dt: 0, "ZeroBackward0")


def fill_(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if STATE.enabled and (value._rg or self._rg or (self._base is not None and self._base._rg)):
            return self._inplace(_FillTensor.apply, value)
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
        return self._inplace(_Copy.apply, src)
    np.copyto(self._data, src._data, casting="unsafe")
    self._bump()
    return self


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_


def _require_float(self, kernel):
    if self._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_name(self.dtype)}'")


def _float_draws(self, generator, kind):
    """Uniform [0, 1) or standard normal draws with self's shape, sampled at self's float precision."""
    return C._sample(generator, self._data.shape, self.dtype, kind)


def uniform_(self, *args, generator=None, **kwargs):
    """Fill with U[from, to) samples (positional from/to, or the keywords 'from'/'to')."""
    a, b = (list(args) + [kwargs.get("from", 0), kwargs.get("to", 1)][len(args):])[:2]
    _require_float(self, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    return _fill_inplace(self, lambda shape, dt: _float_draws(self, generator, "uniform") * (b - a) + a,
                         "UniformBackward0")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _require_float(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _fill_inplace(self, lambda shape, dt: _float_draws(self, generator, "normal") * std + mean,
                         "NormalBackward0")


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 draws of probability p (a number or a tensor broadcast to self)."""
    node = "BernoulliBackward2"
    if isinstance(p, Tensor):
        if ((p._data < 0) | (p._data > 1)).any():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                               "message be improved?  If so, please report an enhancement request to PyTorch.)")
        p = p._data
        node = "BernoulliBackward1"
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    from . import random as rnd
    return _fill_inplace(self, lambda shape, dt: rnd.rng(generator).random(shape) < p, node)


def exponential_(self, lambd=1.0, *, generator=None):
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_dtype.scalar_name(self.dtype)}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    from . import random as rnd
    return _fill_inplace(self, lambda shape, dt: rnd.rng(generator).exponential(1.0 / lambd, shape),
                         "ExponentialBackward0")


def geometric_(self, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    from . import random as rnd
    return _fill_inplace(self, lambda shape, dt: rnd.rng(generator).geometric(p, shape), "GeometricBackward0")


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    _require_float(self, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    from . import random as rnd
    return _fill_inplace(self, lambda shape, dt: rnd.rng(generator).lognormal(mean, std, shape),
                         "LogNormalBackward0")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    _require_float(self, "cauchy_cpu")
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    from . import random as rnd
    return _fill_inplace(self, lambda shape, dt: median + sigma * rnd.rng(generator).standard_cauchy(shape),
                         "CauchyBackward0")


def _random_range(dtype):
    """random_()'s default [0, to): every integer the dtype holds exactly (floats: up to 2**mantissa)."""
    if dtype.is_floating_point:
        return 2 ** (np.finfo(dtype.np).nmant + 1) + 1
    return 2 if dtype is _dtype.bool_ else int(np.iinfo(dtype.np).max) + 1


def random_(self, *args, generator=None, **kwargs):
    """random_() / random_(to) / random_(from, to): integers drawn uniformly into self."""
    args = list(args) + [kwargs[k] for k in ("from", "to") if k in kwargs]
    if len(args) == 0:
        lo, hi = 0, _random_range(self.dtype)
    elif len(args) == 1:
        lo, hi = 0, int(args[0])
    else:
        lo, hi = int(args[0]), _random_range(self.dtype) if args[1] is None else int(args[1])
    C._check_random_bounds(lo, hi, self.dtype)
    from . import random as rnd
    return _fill_inplace(self, lambda shape, dt: rnd.rng(generator).integers(lo, hi, shape),
                         f"RandomBackward{2 - min(len(args), 2)}")


for _f in (uniform_, normal_, bernoulli_, exponential_, geometric_, log_normal_, cauchy_, random_):
    setattr(Tensor, _f.__name__, _f)
for _f in (C.bernoulli, C.multinomial, M.unique_consecutive, M.bincount, M.histc, M.diff):
    setattr(Tensor, _f.__name__, _f)


# ---- conversions ----------------------------------------------------------------------------------------------
def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
    """to(dtype) / to(device, dtype) / to(other): strings and ints name devices, as in PyTorch."""
    flags = [a for a in args if isinstance(a, bool)]
    args = [a for a in args if not isinstance(a, bool)]
    non_blocking, copy = (flags + [non_blocking, copy][len(flags):])[:2]
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, _dtype.dtype) or a in (float, int, bool, complex):
            dtype = a
        elif isinstance(a, (str, _dtype.device, int)):
            device = a
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
    _dtype.check_device(device)
    if dtype is None:
        return self.clone() if copy else self
    return E.cast_to(self, _dtype.to_dtype(dtype), copy)


Tensor.to = to

_LEGACY_NAMES = {"FloatTensor": _dtype.float32, "DoubleTensor": _dtype.float64, "HalfTensor": _dtype.float16,
                 "LongTensor": _dtype.int64, "IntTensor": _dtype.int32, "ShortTensor": _dtype.int16,
                 "CharTensor": _dtype.int8, "ByteTensor": _dtype.uint8, "BoolTensor": _dtype.bool_,
                 "ComplexFloatTensor": _dtype.complex64, "ComplexDoubleTensor": _dtype.complex128}
_LEGACY_BY_DTYPE = {d: name for name, d in _LEGACY_NAMES.items()}


def _type_method(self, dtype=None, non_blocking=False):
    """type(): the legacy type name ('torch.FloatTensor'); type(T): cast to a legacy type, its name or a dtype."""
    if dtype is None:
        return "torch." + _LEGACY_BY_DTYPE.get(self.dtype, "Tensor")
    if isinstance(dtype, str):
        name = dtype[6:] if dtype.startswith("torch.") else None
        if name not in _LEGACY_NAMES:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _LEGACY_NAMES[name]
    elif isinstance(dtype, type) and hasattr(dtype, "_legacy_dtype"):
        dtype = dtype._legacy_dtype
    return E.cast_to(self, _dtype.to_dtype(dtype))


Tensor.type = _type_method
Tensor.type_as = lambda self, other: E.cast_to(self, other.dtype)
for _meth, _d in [("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
                  ("long", _dtype.int64), ("int", _dtype.int32), ("short", _dtype.int16), ("char", _dtype.int8),
                  ("byte", _dtype.uint8), ("bool", _dtype.bool_), ("cfloat", _dtype.complex64),
                  ("cdouble", _dtype.complex128), ("chalf", _dtype.complex32), ("bfloat16", _dtype.bfloat16)]:
    setattr(Tensor, _meth, (lambda d: lambda self, memory_format=None: E.cast_to(self, _dtype.to_dtype(d)))(_d))


def _new(self, *args, device=None):
    """Legacy x.new(...): the typed legacy constructor with x's dtype."""
    from ._legacy import legacy_new
    return legacy_new(self.dtype, args, device)


Tensor.new = _new
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
def is_nonzero(self):
    """True if the single-element tensor is non-zero (PyTorch's errors for empty and multi-element input)."""
    n = self.numel()
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if n == 0 else
                           "Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())


Tensor.is_nonzero = is_nonzero
Tensor.conj = E.conj
Tensor.nonzero_static = lambda self, *, size, fill_value=-1: I.nonzero_static(self, size=size, fill_value=fill_value)
Tensor.dim_order = lambda self, *, ambiguity_check=False: tuple(sorted(range(self.dim()),
                                                                       key=lambda d: -self.stride(d)))
Tensor.conj_physical = E.conj_physical
Tensor.conj_physical_ = lambda self: as_node(self._inplace(E.conj_physical), "ConjPhysicalBackward1") \
    if self._data.dtype.kind == "c" else self
Tensor.as_strided = S.as_strided
Tensor.as_strided_scatter = S.as_strided_scatter
Tensor.new_empty_strided = lambda self, size, stride, dtype=None, device=None, requires_grad=False: \
    C.empty_strided(size, stride, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.to_dense = lambda self, dtype=None, *, masked_grad=None: self if dtype is None else self.to(dtype)


def _no_sparse(name):
    """Tensor.<name>: ember has only strided tensors, so the conversion to a sparse layout is refused clearly."""
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"Tensor.{name}(): ember has no sparse tensors (only the strided layout); keep the "
                                  f"tensor dense")
    method.__name__ = method.__qualname__ = name
    return method


for _name in ("to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr", "to_sparse_bsc"):
    setattr(Tensor, _name, _no_sparse(_name))
Tensor.cov = lambda self, *, correction=1, fweights=None, aweights=None: M.cov(
    self, correction=correction, fweights=fweights, aweights=aweights)
Tensor.corrcoef = lambda self: M.corrcoef(self)
Tensor.histogram = lambda self, bins, *, range=None, weight=None, density=False: M.histogram(
    self, bins, range=range, weight=weight, density=density)


def _as_strided_(self, size, stride, storage_offset=None):
    """In place: self becomes the as_strided view of its own storage (AsStridedBackward1)."""
    view = S.as_strided(self, size, stride, storage_offset)
    self._data = view._data
    if view._grad_fn is not None:
        as_node(view, "AsStridedBackward1")
        self._grad_fn, self._output_nr = view._grad_fn, view._output_nr
    return self


Tensor.as_strided_ = _as_strided_
Tensor.is_same_size = lambda self, other: self._data.shape == other._data.shape
Tensor.resolve_conj = lambda self: self
Tensor.resolve_neg = lambda self: self
Tensor.equal = lambda self, other: (self._data.shape == other._data.shape
                                    and bool(np.array_equal(self._data, other._data)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise; both tensors of one dtype, broadcast together."""
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_dtype.scalar_name(input.dtype)} did not match {_dtype.scalar_name(other.dtype)}")
    if rtol < 0 or atol < 0:
        name, v = ("rtol", rtol) if rtol < 0 else ("atol", atol)
        raise RuntimeError(f"{name} must be greater than or equal to zero, but got {v:g}")
    a, b = input._data, other._data
    _broadcast_or_raise(a.shape, b.shape)
    if a.dtype == np.bool_:
        return Tensor._make(np.asarray(a == b))
    return Tensor._make(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def _broadcast_or_raise(sa, sb):
    """The broadcast shape of sa and sb, or PyTorch's RuntimeError naming the first mismatching dimension."""
    for i in range(1, min(len(sa), len(sb)) + 1):
        if sa[-i] != sb[-i] and sa[-i] != 1 and sb[-i] != 1:
            raise RuntimeError(f"The size of tensor a ({sa[-i]}) must match the size of tensor b ({sb[-i]}) at "
                               f"non-singleton dimension {max(len(sa), len(sb)) - i}")
    return np.broadcast_shapes(sa, sb)


Tensor.allclose = allclose
Tensor.isclose = isclose
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self._data.ndim)))))


def _matrix_dims(self, name, batches=True):
    """PyTorch's check for .mT/.mH (0-d, or >= 2 dims) and .H (0-d or 2 dims)."""
    n = self._data.ndim
    if n == 0 or n == 2 or (batches and n > 2):
        return
    if batches:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    raise RuntimeError(f"tensor.{name} is only supported on matrices (2-D tensors). Got {n}-D tensor."
                       + (" For batches of matrices, consider using tensor.mH" if n > 2 else ""))


def _mT(self):
    _matrix_dims(self, "mT")
    return S.transpose(self, -2, -1)


def _mH(self):
    _matrix_dims(self, "mH")
    return S.transpose(self, -2, -1).conj()


def _H(self):
    _matrix_dims(self, "H", batches=False)
    return S.t(self).conj()


Tensor.mT = property(_mT)
Tensor.mH = property(_mH)
Tensor.H = property(_H)
Tensor.real = property(E.real)
Tensor.imag = property(E.imag)
Tensor.unique = lambda self, sorted=True, return_inverse=False, return_counts=False, dim=None: __import__(
    "ember").unique(self, sorted, return_inverse, return_counts, dim)


def apply_(self, fn):
    """Replace every element x by fn(x) (a Python callable; not differentiable)."""
    if self._rg:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead.")
    return _fill_inplace(self, lambda shape, dt: np.vectorize(fn)(self._data))


Tensor.apply_ = apply_


def _map_inplace(self, name, others, fn):
    """self[i] = fn(self[i], *(o[i] for o in others)) with the others broadcast to self (Python callable)."""
    if self._rg:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    args = [S.expand(o, self.shape)._data for o in others]
    return _fill_inplace(self, lambda shape, dt: np.vectorize(fn, otypes=[dt])(self._data, *args))


Tensor.map_ = lambda self, tensor, callable: _map_inplace(self, "map_", (tensor,), callable)
Tensor.map2_ = lambda self, x, y, callable: _map_inplace(self, "map2_", (x, y), callable)
Tensor.const_data_ptr = lambda self: self.data_ptr()
for _name in ("is_mps", "is_xpu", "is_ipu", "is_xla", "is_vulkan", "is_maia", "is_mtia"):
    setattr(Tensor, _name, False)


def resize_(self, *sizes, memory_format=None):
    """Change the shape in place, keeping the leading elements in memory order (new ones are zero)."""
    shape = S._shape_arg(sizes)
    n = math.prod(shape) if shape else 1
    flat = np.ascontiguousarray(self._data).reshape(-1)
    if n <= flat.size:
        self._data = flat[:n].reshape(shape)
    else:
        new = np.zeros(n, self._data.dtype)
        new[:flat.size] = flat
        self._data = new.reshape(shape)
    self._bump()
    return self


Tensor.resize_ = resize_
Tensor.resize_as_ = lambda self, other, memory_format=None: resize_(self, other.shape)
