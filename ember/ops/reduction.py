"""Reductions, scans and sorting: sum, mean, max/min, var/std, norm, logsumexp, cumsum, sort, topk, ..."""
import builtins
import functools
import math
import warnings

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from .. import return_types
from ..autograd.function import Function, _wrap, record_result, run_on, as_node
from ..autograd.grad_mode import STATE
from ._util import holomorphic_grads, row_sums, vector_sum, wrap_dim, wrap_dims, check_out_overlap, check_out_dtype
from .activation import quiet
from ._bits import SMALL
from . import elementwise as _E

INF = float("inf")
NAN = float("nan")


# ---- helpers --------------------------------------------------------------------------------------------------------
# Up to this many elements, the gradient of a full reduction is a filled array rather than a broadcast view: quicker
# to make than np.broadcast_to, and a leaf's .grad can take it without the copy a view needs.
_SMALL = 4096


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input shape."""
    if not STATE.enabled:
        d = g._data
        if d.ndim == 0 and math.prod(shape) <= _SMALL:
            return _wrap(np.full(shape, d))
        if not keepdim and dims and len(shape):
            d = d.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))
        if math.prod(shape) <= _SMALL:
            out = np.empty(shape, d.dtype)
            np.copyto(out, d)
            return _wrap(out)
        return _wrap(np.broadcast_to(d, shape))
    return _unsqueeze_back(g, shape, dims, keepdim).expand(shape)


def _unsqueeze_back(g, shape, dims, keepdim):
    """Re-insert the reduced dims (as size 1) into a reduced gradient or result."""
    if not keepdim and dims and len(shape):
        g = g.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))
    return g


def _sum_dtype(x, dtype):
    """Accumulation dtype of sum/prod/cumsum: `dtype`, else int64 for bool and integers, else the input's."""
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    if x.dtype.kind in "biu":
        return np.dtype(np.int64)
    return x.dtype


def _is_full(dim):
    """dim=None or an empty list: reduce over every dim."""
    return dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)


def _all_dims(dim, ndim):
    """Dims of a reduction whose dim=None (or an empty list) means every dim."""
    return tuple(range(ndim)) if _is_full(dim) else wrap_dims(dim, ndim)


def _reduced_count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _legacy_name(d):
    """PyTorch's scalar-type name used in messages (Long, Int, Bool, Float, ...)."""
    name = np.dtype(d).name
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "float32": "Float", "float64": "Double", "float16": "Half", "complex64": "ComplexFloat",
            "complex128": "ComplexDouble"}.get(name, name.capitalize())


def _require_float(input, opname, what):
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"{opname}(): {what} {_legacy_name(input._data.dtype)}")


def _out(result, out, name):
    """Write `result` into `out` (a tensor or a tuple of tensors) when given, as `out=` does."""
    if out is None:
        return result
    if isinstance(out, (tuple, list)):
        return type(result)(*(_out(r, o, name) for r, o in zip(result, out)))
    if STATE.enabled and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, out._data.dtype)
    np.copyto(out._data, result._data, casting="unsafe")
    out._bump()
    return out


def _check_nonempty(x, dims, opname, sep="()"):
    """Reductions without identity (max, argmax, ...) reject reducing over a zero-size dim."""
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{opname}{sep}: Expected reduction dim {d} to have non-zero size.")


# ---- sum / mean / prod ----------------------------------------------------------------------------------------------
class Sum(Function):
    _raw = True
    _node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, nd):
        ctx.meta = (x.shape, dims, keepdim, x.dtype)
        return np.asarray(_add_reduce(x, dims, keepdim, nd))

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim, src = ctx.meta
        g = _expand_back(g, shape, dims, keepdim)
        if g._data.dtype != src:
            g = g.to(_dtype.from_numpy_dtype(src))
        return g, None, None, None


class SumAll(Sum):
    _node_name = "SumBackward0"


# Float reductions over every axis, or over a last axis longer than this, are split into rows of this many elements:
# einsum's SIMD loop sums each row and the row sums are added pairwise (faster than one pairwise pass). Each SIMD lane
# then accumulates only a few dozen values, so the error stays of the order of PyTorch's cascade sum (4096-element
# rows let float32 sums of a million similar values drift by ~3e-6 relative; 512 keeps them near 2e-7).
_ROW = 512
_ROW_SHORT = 1024  # last axes up to this long are summed as whole rows (longer ones in _ROW chunks, else pairwise)


def _simd_rows(x, dims, nd):
    """(rows, tail): x as 2-D rows whose sums over the last axis, combined by _finish_rows, give the reduction over
    dims, plus the elements left over by a whole reduction; None when einsum's fast path does not apply. It applies
    to float32/64 C-contiguous data reduced over every axis, or over its last axis when that is 256..1024 long or a
    multiple of _ROW up to 16384."""
    if nd != x.dtype or x.dtype.kind != "f" or x.dtype.itemsize < 4 or x.size < 65536 or not x.flags.c_contiguous:
        return None
    if len(dims) == x.ndim:
        flat = x.reshape(-1)
        head = x.size - x.size % _ROW
        return flat[:head].reshape(-1, _ROW), flat[head:]
    n = x.shape[-1]
    if dims != (x.ndim - 1,) or not 256 <= n <= 16384:
        return None
    if n <= _ROW_SHORT:
        return x.reshape(-1, n), None
    return (x.reshape(-1, _ROW), None) if n % _ROW == 0 else None


def _finish_rows(out, tail, x, keepdim, ufunc=np.add):
    """Shape the row results of _simd_rows as the reduction: a whole reduction's row results and tail combined,
    or the _ROW chunks of each last-axis row combined."""
    if tail is not None:
        out = ufunc.reduce(np.append(out, tail) if tail.size else out)
        return np.reshape(out, (1,) * x.ndim) if keepdim else out
    out = out.reshape(x.shape[:-1] + (-1,))
    if out.shape[-1] > 1:
        out = ufunc.reduce(out, axis=-1)
        return out[..., None] if keepdim else out
    return out if keepdim else out[..., 0]


def _add_reduce(x, dims, keepdim, nd):
    """np.add.reduce over dims, through einsum's SIMD loop where _simd_rows applies (2-4x faster than NumPy's
    pairwise sum, with float32 error of the same order as PyTorch's)."""
    fast = _simd_rows(x, dims, nd)
    if fast is None:
        return np.add.reduce(x, axis=dims, keepdims=keepdim, dtype=nd)
    rows, tail = fast
    return _finish_rows(np.einsum("ij->i", rows), tail, x, keepdim)


def _sum_squares(x, dims, keepdim):
    """Sum of x*x over dims (float x), as BLAS dot products of the rows where _simd_rows applies."""
    fast = _simd_rows(x, dims, x.dtype)
    if fast is None:
        if len(dims) == x.ndim and x.ndim:  # a small whole reduction: one BLAS dot
            total = np.vdot(x, x)
            return np.reshape(total, (1,) * x.ndim) if keepdim else total
        return np.add.reduce(x * x, axis=dims, keepdims=keepdim)
    rows, tail = fast
    return _finish_rows(np.vecdot(rows, rows), None if tail is None else tail * tail, x, keepdim)


class _Whole:
    """The default of sum's and mean's dim: left out, they record torch's whole-tensor node (SumBackward0), while an
    explicit dim=None records the dim-list node (SumBackward1), as torch's two overloads do."""

    def __repr__(self):
        return "None"


_WHOLE = _Whole()


def _fast_dims(input, dim, keepdim):
    """The dims of a reduction of a float Tensor over everything (dim None, no keepdim) or one int dim in range, for
    the fast paths of sum and mean; None for the other calls, which take the checked path."""
    if type(input) is Tensor and STATE.fast and input._data.dtype.kind == "f":
        n = input._data.ndim
        if dim is None:
            return None if keepdim else tuple(range(n))
        if type(dim) is int and -n <= dim < n:
            return (dim % n,)
    return None


def sum(input, dim=_WHOLE, keepdim=False, *, dtype=None, out=None):
    whole = dim is _WHOLE
    if whole:
        dim = None
    if type(dim) is int and dtype is None and out is None:
        dims = _fast_dims(input, dim, keepdim)
        if dims is not None:
            d = input._data
            return run_on(Sum, input, (dims, keepdim, d.dtype), input._rg and STATE.enabled)
    if dim is None and not keepdim and dtype is None and out is None and STATE.fast and type(input) is Tensor:
        d = input._data
        if d.dtype.kind == "f":
            if d.size <= 256 and d.dtype in _F32_64:
                r = np.asarray(vector_sum(d.reshape(-1)))
            else:
                r = np.asarray(np.add.reduce(d, axis=None) if d.size < 65536 else
                               _add_reduce(d, tuple(range(d.ndim)), False, d.dtype))
            if input._rg and STATE.enabled:
                dims = tuple(range(d.ndim))
                t = record_result(SumAll if whole else Sum, input, r, None, 4)
                t._grad_fn.meta = (d.shape, dims, False, d.dtype)
                return t
            return _wrap(r)
    cls = SumAll if whole else Sum
    dims = _all_dims(dim, input._data.ndim)
    return _out(cls.apply(input, dims, keepdim, _sum_dtype(input._data, dtype)), out, "sum")


class NanSum(Function):
    _raw = True
    _node_name = "NansumBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim, nd):
        ctx.meta = (x.shape, dims, keepdim, x.dtype)
        ctx.save_for_backward(x)
        return np.asarray(np.nansum(x, axis=dims, keepdims=keepdim, dtype=nd))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        shape, dims, keepdim, src = ctx.meta
        if g._data.dtype != src:
            g = g.to(_dtype.from_numpy_dtype(src))
        return _unsqueeze_back(g, shape, dims, keepdim) * x.isnan().logical_not(), None, None, None


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    dims = _all_dims(dim, input._data.ndim)
    nd = _sum_dtype(input._data, dtype)
    if input._data.dtype.kind not in "fc":
        return _out(Sum.apply(input, dims, keepdim, nd), out, "nansum")
    return _out(NanSum.apply(input, dims, keepdim, nd), out, "nansum")


class Mean(Function):
    _raw = True
    _node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        n = _reduced_count(x.shape, dims)
        ctx.meta = (x.shape, dims, keepdim, n)
        if n:
            return np.asarray(_add_reduce(x, dims, keepdim, x.dtype) / x.dtype.type(n))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(_add_reduce(x, dims, keepdim, x.dtype) / x.dtype.type(n))

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim, n = ctx.meta
        if not STATE.enabled:  # each element is g / n either way: divide before expanding
            return _expand_back(_wrap(np.asarray(np.true_divide(g._data, n))), shape, dims, keepdim), None, None
        return _expand_back(g, shape, dims, keepdim) / n, None, None


class MeanAll(Mean):
    _node_name = "MeanBackward0"


def mean(input, dim=_WHOLE, keepdim=False, *, dtype=None, out=None):
    whole = dim is _WHOLE
    if whole:
        dim = None
    if dtype is None and out is None:
        dims = _fast_dims(input, dim, keepdim)
        if dims is not None:
            return run_on(MeanAll if whole else Mean, input, (dims, keepdim), input._rg and STATE.enabled)
    if dtype is not None:
        input = input.to(dtype)
    _require_float(input, "mean", f"could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype "
                   "must be either a floating point or complex dtype. Got:")
    cls = MeanAll if whole else Mean
    return _out(cls.apply(input, _all_dims(dim, input._data.ndim), keepdim), out, "mean")


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    _require_float(input, "nanmean", "expected input to have floating point or complex dtype but got")
    count = input.isnan().logical_not().sum(dim, keepdim)
    return _out(nansum(input, dim, keepdim, dtype=dtype) / count, out, "nanmean")


class Prod(Function):
    _raw = True
    _node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, dim, keepdim, nd):
        dims = tuple(range(x.ndim)) if dim is None else (dim,)
        ctx.meta = (x.shape, dim, keepdim)
        out = np.asarray(_mul_reduce(x, dims, keepdim, nd))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_prod_grads, g, ctx)


def _prod_grads(g, ctx):
    """g * out / x, or the zero-safe exclusive-cumprod form where x has zeros."""
    x, out = ctx.saved_tensors
    shape, dim, keepdim = ctx.meta
    if x.dim() == 0:
        return g, None, None, None
    if dim is None:
        g, out = g.reshape((1,) * len(shape)), out.reshape((1,) * len(shape))
    else:
        g, out = _unsqueeze_back(g, shape, (dim,), keepdim), _unsqueeze_back(out, shape, (dim,), keepdim)
    if not (x._data == 0).any():
        return g * (out / x), None, None, None
    if dim is None:
        return _prod_safe_zeros_backward(g.reshape(1), x.reshape(-1), 0).reshape(shape), None, None, None
    return _prod_safe_zeros_backward(g, x, dim), None, None, None


def _mul_reduce(x, dims, keepdim, nd):
    """np.multiply.reduce over dims. Where _simd_rows applies, the product is vectorized (NumPy multiplies element
    by element): a whole array as per-lane products down its rows, rows by halving; as in PyTorch's vectorized
    kernel the factors are grouped differently from a left-to-right product (equal up to rounding)."""
    fast = _simd_rows(x, dims, nd)
    if fast is None:
        return np.multiply.reduce(x, axis=dims, keepdims=keepdim, dtype=nd)
    rows, tail = fast
    with np.errstate(over="ignore", invalid="ignore"):
        if tail is None:
            return _finish_rows(_halving_product(rows), None, x, keepdim, np.multiply)
        return _finish_rows(np.multiply.reduce(rows, axis=0), tail, x, keepdim, np.multiply)


def _halving_product(rows):
    """The product of each row of a 2-D array: multiply the two halves of the rows until they are short."""
    while rows.shape[1] > 16:
        w = rows.shape[1]
        h = w // 2
        half = rows[:, :h] * rows[:, h:2 * h]
        if w % 2:
            half[:, -1] *= rows[:, -1]
        rows = half
    return np.multiply.reduce(rows, axis=1)


class ProdAll(Prod):
    _node_name = "ProdBackward0"


def _prod_safe_zeros_backward(g, x, dim):
    """g times the product of the other elements along dim, from exclusive cumprods (no division by zero)."""
    from .shape import cat
    n = x.shape[dim]
    ones = Tensor._make(np.ones(tuple(1 if i == dim else s for i, s in enumerate(x.shape)), x._data.dtype))
    before = cat([ones, x.narrow(dim, 0, n - 1)], dim).cumprod(dim)
    after = cat([ones, x.narrow(dim, 1, n - 1).flip(dim)], dim).cumprod(dim).flip(dim)
    return g * (before * after)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    nd = _sum_dtype(input._data, dtype)
    if dim is None:
        return _out(ProdAll.apply(input, None, False, nd), out, "prod")
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return _out(Prod.apply(input, None, keepdim, nd), out, "prod")
    return _out(Prod.apply(input, d, keepdim, nd), out, "prod")


# ---- selection along a dim: the shared autograd node for max(dim), sort, topk, median, cummax, ... -------------------
class _Select(Function):
    """Values picked along `dim` at precomputed indices; the gradient is scattered (added) back to those indices."""

    _raw = True
    _materialize = False  # backward takes None for the indices' gradient, which is never defined
    unique = True

    @staticmethod
    def forward(ctx, x, idx, dim, keepdim):
        ctx.meta = (x.shape, dim, keepdim)
        if x.ndim == 0:
            ctx.idx = np.zeros((), np.int64)
            return x.copy(), ctx.idx.copy()
        vals, idx = _pick(x, idx, dim, keepdim)
        ctx.idx = idx.copy()
        return vals, idx.copy()

    @classmethod
    def backward(cls, ctx, g, _gi):
        shape, dim, keepdim = ctx.meta
        if len(shape) == 0:
            return g, None, None, None
        idx = ctx.idx if keepdim else np.expand_dims(ctx.idx, dim)
        if not keepdim:
            g = g.unsqueeze(dim)
        if cls.unique:
            return _PlaceAt.apply(g, idx, shape, dim), None, None, None
        from .indexing import scatter_grad_along
        return scatter_grad_along(g, Tensor._make(idx), shape, dim), None, None, None


def _pick(x, idx, dim, keepdim):
    """The values of x at idx (which keeps the reduced dim) along dim, and idx; both without that dim unless
    keepdim."""
    vals = _take_along(x, idx, dim)
    return (vals, idx) if keepdim else (vals.squeeze(dim), idx.squeeze(dim))


def _take_along(x, idx, dim):
    """np.take_along_axis(x, idx, dim) (a new array), with the 2-D case indexed directly (its cost is in the
    argument handling on small arrays)."""
    if x.ndim == 2:
        if dim == 1:
            return x[np.arange(x.shape[0])[:, None], idx]
        return x[idx, np.arange(x.shape[1])]
    return np.take_along_axis(x, idx, dim)


class _PlaceAt(Function):
    """zeros(shape) with g written at idx along dim, for indices unique within each slice (no accumulation needed)."""

    _raw = True
    _node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, g, idx, shape, dim):
        ctx.meta = (idx, dim)
        out = np.zeros(shape, g.dtype)
        np.put_along_axis(out, idx, g, dim)
        return out

    @staticmethod
    def backward(ctx, gg):
        from .indexing import gather
        idx, dim = ctx.meta
        return gather(gg, dim, Tensor._make(idx)), None, None, None


def _select_node(name, unique=True):
    return type(name, (_Select,), {"_node_name": name, "unique": unique})


MaxDim = _select_node("MaxBackward0")
MinDim = _select_node("MinBackward0")
SortSelect = _select_node("SortBackward0")
SortStableSelect = _select_node("SortBackward1")  # sort called with stable= (PyTorch's sort.stable overload)
TopkSelect = _select_node("TopkBackward0")
KthvalueSelect = _select_node("KthvalueBackward0")
MedianDim = _select_node("MedianBackward1")
NanmedianDim = _select_node("NanmedianBackward1")
ModeSelect = _select_node("ModeBackward0")
CummaxSelect = _select_node("CummaxBackward0", unique=False)
CumminSelect = _select_node("CumminBackward0", unique=False)


def _fast_select(cls, rt, input, idx, dim, keepdim):
    """_select of a plain Tensor, without Function.apply: the values are recorded as output 0 of node cls (the
    indices, output 1, need no gradient)."""
    x = input._data
    vals, idx = _pick(x, idx, dim, keepdim)
    if not (input._rg and STATE.enabled):
        return tuple.__new__(rt, (_wrap(vals), _wrap(idx)))
    t = record_result(cls, input, vals, None, 4)
    node = t._grad_fn
    node.meta, node.idx = (x.shape, dim, keepdim), idx.copy()
    node._out_meta += ((idx.shape, idx.dtype),)
    return tuple.__new__(rt, (t, _wrap(idx)))


def _select(cls, rt, input, idx, dim, keepdim=True):
    """Apply a selection node with int64 indices (a C-contiguous array the result may keep) and wrap the pair in
    the named tuple `rt`."""
    if type(input) is Tensor and STATE.fast and input._data.ndim:
        return _fast_select(cls, rt, input, np.ascontiguousarray(idx, np.int64), dim, keepdim)
    vals, ind = cls.apply(input, np.asarray(idx, np.int64), dim, keepdim)
    return rt(vals, ind)


# ---- max / min -------------------------------------------------------------------------------------------------------
class _EvenAll(Function):
    """A full reduction to one element whose gradient is shared evenly by the elements equal to it (NaN matches NaN)."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x):
        if x.size == 0:
            cls.empty(x)
        out = np.asarray(cls.value(x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        v = out._data
        mask = np.isnan(x._data) if v.dtype.kind == "f" and np.isnan(v) else x._data == v
        m = Tensor._make(mask.astype(x._data.dtype))
        return m * (g / int(mask.sum()))

    @classmethod
    def empty(cls, x):
        raise RuntimeError(f"{cls.opname}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                           "the reduction dim with the 'dim' argument.")


class MaxAll(_EvenAll):
    _node_name = "MaxBackward1"
    opname = "max"
    value = staticmethod(functools.partial(np.maximum.reduce, axis=None))


class MinAll(_EvenAll):
    _node_name = "MinBackward1"
    opname = "min"
    value = staticmethod(functools.partial(np.minimum.reduce, axis=None))


class _AmaxAmin(Function):
    """amax/amin over dims: the gradient is shared evenly among tied extrema (NaN results give NaN gradients)."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x, dims, keepdim, full):
        if x.size == 0:
            if full:
                raise RuntimeError(f"{cls.opname}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            _check_nonempty(x, dims, cls.opname)
        out = np.asarray(cls.np_fn(x, axis=dims, keepdims=keepdim))
        ctx.meta = (x.shape, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        return _scale_grad_by_count(g, x, out, shape, dims, keepdim), None, None, None


def _scale_grad_by_count(g, x, out, shape, dims, keepdim):
    """(g / count) * mask where mask marks the elements equal to the reduced result, as PyTorch's amax backward."""
    mask = x._data == _unsqueeze_back(out, shape, dims, keepdim)._data
    count = np.sum(mask, axis=dims, keepdims=True)
    with quiet(mask):
        return (_unsqueeze_back(g, shape, dims, keepdim) / Tensor._make(count.astype(x._data.dtype))) * \
            Tensor._make(mask.astype(x._data.dtype))


class AMax(_AmaxAmin):
    _node_name = "AmaxBackward0"
    opname = "amax"
    np_fn = staticmethod(np.maximum.reduce)  # np.max without its Python wrapper


class AMin(_AmaxAmin):
    _node_name = "AminBackward0"
    opname = "amin"
    np_fn = staticmethod(np.minimum.reduce)


def _extremum(input, dim, keepdim, other, out, pair_fn, all_cls, dim_cls, arg_fn, rt):
    """max/min: of the whole tensor, along a dim (values and indices) or against another tensor. arg_fn is
    ndarray.argmax/argmin, which pick the first NaN (as PyTorch) or else the first extremum."""
    if other is None and out is None and type(input) is Tensor and STATE.fast:
        x = input._data
        if dim is None:
            return run_on(all_cls, input, (), input._rg and STATE.enabled)
        n = x.ndim
        if type(dim) is int and n and x.size and -n <= dim < n:
            return _fast_select(dim_cls, rt, input, arg_fn(x, dim % n, keepdims=True), dim % n, keepdim)
    if isinstance(dim, Tensor):
        return _out(pair_fn(input, dim), out, all_cls.opname)
    if other is not None:
        return _out(pair_fn(input, other), out, all_cls.opname)
    if dim is None:
        return _out(all_cls.apply(input), out, all_cls.opname)
    x = input._data
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return _out(_select(dim_cls, rt, input, np.zeros((), np.int64), 0), out, all_cls.opname)
    _check_nonempty(x, (d,), all_cls.opname)
    idx = arg_fn(x, d, keepdims=True)
    return _out(_select(dim_cls, rt, input, idx, d, keepdim), out, all_cls.opname)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    return _extremum(input, dim, keepdim, other, out, _E.maximum, MaxAll, MaxDim, np.ndarray.argmax, return_types.max)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    return _extremum(input, dim, keepdim, other, out, _E.minimum, MinAll, MinDim, np.ndarray.argmin, return_types.min)


def _check_same_dtype_out(input, out):
    """amax/amin's out= must have the input's dtype, as in PyTorch."""
    if out is not None and out._data.dtype != input._data.dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got {_legacy_name(input._data.dtype)} "
                           f"for input's dtype and {_legacy_name(out._data.dtype)} for out's dtype.")


def amax(input, dim=(), keepdim=False, *, out=None):
    _check_same_dtype_out(input, out)
    return _out(AMax.apply(input, _all_dims(dim, input._data.ndim), keepdim, _is_full(dim)), out, "amax")


def amin(input, dim=(), keepdim=False, *, out=None):
    _check_same_dtype_out(input, out)
    return _out(AMin.apply(input, _all_dims(dim, input._data.ndim), keepdim, _is_full(dim)), out, "amin")


class AMinMax(Function):
    _raw = True
    _node_name = "AminmaxBackward0"
    _materialize = False

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        lo = np.asarray(np.min(x, axis=dims, keepdims=keepdim))
        hi = np.asarray(np.max(x, axis=dims, keepdims=keepdim))
        ctx.meta = (x.shape, dims, keepdim)
        ctx.save_for_backward(x, lo, hi)
        return lo, hi

    @staticmethod
    def backward(ctx, g_lo, g_hi):
        x, lo, hi = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        parts = [_scale_grad_by_count(g, x, r, shape, dims, keepdim) for g, r in ((g_lo, lo), (g_hi, hi))
                 if g is not None]
        return (parts[0] if len(parts) == 1 else parts[0] + parts[1]), None, None


def aminmax(input, *, dim=None, keepdim=False, out=None):
    x = input._data
    if dim is None:
        if x.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
        dims = tuple(range(x.ndim))
    else:
        dims = (wrap_dim(dim, x.ndim),) if x.ndim else ()
        _check_nonempty(x, dims, "aminmax", "")
    if out is not None:
        for o in out:
            check_out_dtype(o, x.dtype)
    return _out(return_types.aminmax(*AMinMax.apply(input, dims, keepdim)), out, "aminmax")


def _arg_extremum(input, dim, keepdim, fn, name):
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if x.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = np.asarray(fn(x, None), np.int64)
        return Tensor._make(r.reshape((1,) * x.ndim if keepdim else ()))
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    _check_nonempty(x, (d,), name)
    return Tensor._make(np.asarray(fn(x, d, keepdims=keepdim), np.int64))


def argmax(input, dim=None, keepdim=False, *, out=None):
    return _out(_arg_extremum(input, dim, keepdim, np.ndarray.argmax, "argmax"), out, "argmax")


def argmin(input, dim=None, keepdim=False, *, out=None):
    return _out(_arg_extremum(input, dim, keepdim, np.ndarray.argmin, "argmin"), out, "argmin")


# ---- var / std -------------------------------------------------------------------------------------------------------
def _var_args(input, dim, unbiased, keepdim, correction, opname):
    """Normalise the var/std family's arguments into (dims, correction, keepdim, full)."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if unbiased is not None and correction is not None:
        raise TypeError(f"{opname}() received an invalid combination of arguments: pass either unbiased or "
                        "correction, not both")
    corr = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
    dims = _all_dims(dim, input._data.ndim)
    n = _reduced_count(input._data.shape, dims)
    if n - corr <= 0:
        warnings.warn(f"{opname}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      "factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    full = dim is None or input._data.ndim == 0
    return dims, corr, keepdim, full


def _var_forward(x, dims, correction, keepdim):
    if x.ndim > 1 and len(dims) == x.ndim and x.size <= 4096 and x.flags.c_contiguous:  # one row: the BLAS path
        v = _var_forward(x.reshape(1, -1), (1,), correction, False)
        return v.reshape((1,) * x.ndim if keepdim else ())
    n = _reduced_count(x.shape, dims)
    if n and x.size <= 4096 and dims == (x.ndim - 1,) and x.dtype in _F32_64:  # row sums by BLAS (row_sums)
        d = row_sums(x, True, 1 / n)
        d = np.subtract(x, d, out=d if d.shape == x.shape else None)
        np.multiply(d, d, out=d)
        dof = n - correction
        v = row_sums(d, False, 1 / dof) if dof > 0 else row_sums(d) / builtins.max(dof, 0)
        return v if keepdim else v[..., 0]
    if n and x.dtype in _F32_64:
        # np.mean's own result for these dtypes (the sum divided by n, correctly rounded), without its wrapper;
        # ember's global np.seterr(all="ignore") keeps a zero divisor quiet.
        # Python int divisors are cast to x's dtype by NumPy, as the dtype.type() scalars were (and cost less).
        d = np.subtract(x, np.add.reduce(x, axis=dims, keepdims=True) / n)
        dof = builtins.max(n - correction, 0)
        return np.asarray(np.add.reduce(np.multiply(d, d), axis=dims, keepdims=keepdim) / dof, x.dtype)
    real = x.real.dtype  # a complex input's variance is the mean squared modulus, a real number
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.mean(x, axis=dims, keepdims=True) if n else np.zeros([1] * x.ndim, x.dtype)
        d = x - mu
        sq = d.real * d.real + d.imag * d.imag if x.dtype.kind == "c" else d * d
        out = np.sum(sq, axis=dims, keepdims=keepdim) / real.type(builtins.max(n - correction, 0))
    return np.asarray(out, real)


_F32_64 = (np.dtype(np.float32), np.dtype(np.float64))


def _var_backward(g, x, dims, correction, keepdim, full):
    """PyTorch's var_backward, in ember ops (so it is differentiable)."""
    from .elementwise import where
    shape = x.shape
    dof = _reduced_count(shape, dims) - correction
    if full:
        if dof <= 0:
            return g * where(x == x.mean(), NAN, INF)
        return (2.0 / dof) * g * (x - x.mean())
    g = _unsqueeze_back(g, shape, dims, keepdim)
    return ((2.0 / dof) if dof else INF) * g * (x - x.mean(dims, keepdim=True))


def _std_backward(g, x, out, dims, correction, keepdim, full):
    gv = g / (out * 2)
    gv = gv.masked_fill(out == 0, 0)
    return _var_backward(gv, x, dims, correction, keepdim, full)


def _mean_backward(g, x, dims, keepdim):
    return _expand_back(g, x.shape, dims, keepdim) / _reduced_count(x.shape, dims)


class Var(Function):
    _raw = True
    _node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim, full):
        ctx.meta = (dims, correction, keepdim, full)
        ctx.save_for_backward(x)
        return _var_forward(x, dims, correction, keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _var_backward(g, x, *ctx.meta), None, None, None, None


class Std(Function):
    _raw = True
    _node_name = "StdBackward0"

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim, full):
        ctx.meta = (dims, correction, keepdim, full)
        out = np.asarray(np.sqrt(_var_forward(x, dims, correction, keepdim)))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return _std_backward(g, x, out, *ctx.meta), None, None, None, None


class VarMean(Function):
    _raw = True
    _node_name = "VarMeanBackward0"
    _materialize = False
    take_sqrt = False

    @classmethod
    def forward(cls, ctx, x, dims, correction, keepdim, full):
        ctx.meta = (dims, correction, keepdim, full)
        v = _var_forward(x, dims, correction, keepdim)
        if cls.take_sqrt:
            v = np.asarray(np.sqrt(v))
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.asarray(np.mean(x, axis=dims, keepdims=keepdim), x.dtype) if x.size else \
                np.full(v.shape, np.nan, x.dtype)
        ctx.save_for_backward(x, v)
        return v, m

    @classmethod
    def backward(cls, ctx, gv, gm):
        x, v = ctx.saved_tensors
        dims, correction, keepdim, full = ctx.meta
        res = None
        if gv is not None:
            res = _std_backward(gv, x, v, *ctx.meta) if cls.take_sqrt else _var_backward(gv, x, *ctx.meta)
        if gm is not None:
            gm = _mean_backward(gm, x, dims, keepdim)
            res = gm if res is None else res + gm
        return res, None, None, None, None


class StdMean(VarMean):
    _node_name = "StdMeanBackward0"
    take_sqrt = True


def _fast_var_args(input, dim, unbiased, keepdim, correction):
    """_var_args of a call over one int dim in range, or over all dims, of a float Tensor with at most one of
    unbiased/correction and more elements than the correction; None for the other calls (the checked path)."""
    if type(input) is Tensor and STATE.fast and (unbiased is None or correction is None):
        d = input._data
        n = d.ndim
        if d.dtype.kind == "f" and (type(dim) is int and -n <= dim < n or dim is None):
            corr = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
            if dim is None:
                return (tuple(range(n)), corr, keepdim, True) if d.size - corr > 0 else None
            if d.shape[dim] - corr > 0:
                return (dim % n,), corr, keepdim, False
    return None


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    args = _fast_var_args(input, dim, unbiased, keepdim, correction)
    if args is not None and out is None:
        return run_on(Var, input, args, input._rg and STATE.enabled)
    return _out(Var.apply(input, *_var_args(input, dim, unbiased, keepdim, correction, "var")), out, "var")


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    args = _fast_var_args(input, dim, unbiased, keepdim, correction)
    if args is not None and out is None:
        return run_on(Std, input, args, input._rg and STATE.enabled)
    return _out(Std.apply(input, *_var_args(input, dim, unbiased, keepdim, correction, "std")), out, "std")


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return VarMean.apply(input, *_var_args(input, dim, unbiased, keepdim, correction, "var_mean"))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return StdMean.apply(input, *_var_args(input, dim, unbiased, keepdim, correction, "std_mean"))


# ---- norms, logsumexp ------------------------------------------------------------------------------------------------
class VectorNorm(Function):
    _raw = True
    _node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        with quiet(x):
            if x.dtype == np.float16:  # PyTorch accumulates half norms in float32 and rounds once
                out = _vector_norm_array(x.astype(np.float32), p, dims, keepdim).astype(np.float16)
            else:
                out = _vector_norm_array(x, p, dims, keepdim)
        ctx.meta = (x.shape, p, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, p, dims, keepdim = ctx.meta
        return _norm_backward(g, x, out, p, dims, keepdim, shape), None, None, None


def _vector_norm_array(x, p, dims, keepdim):
    """The p-norm of x over dims, in x's real dtype (sums of squares and of |x| through the SIMD row sums)."""
    if p == 2 and x.dtype.kind == "f":
        return np.asarray(np.sqrt(_sum_squares(x, dims, keepdim)))
    a = np.abs(x)
    if p == 2:
        out = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
    elif p == INF:
        out = np.max(a, axis=dims, keepdims=keepdim)
    elif p == -INF:
        out = np.min(a, axis=dims, keepdims=keepdim)
    elif p == 0:
        out = np.sum(a != 0, axis=dims, keepdims=keepdim)
    elif p == 1:
        out = _add_reduce(a, dims, keepdim, a.dtype)
    else:
        out = np.sum(a ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    return np.asarray(out).astype(a.dtype, copy=False)


def _norm_backward(g, x, norm, p, dims, keepdim, shape):
    """PyTorch's norm_backward, in ember ops."""
    if len(shape):
        g, norm = _unsqueeze_back(g, shape, dims, keepdim), _unsqueeze_back(norm, shape, dims, keepdim)
    if p == 0:
        return Tensor._make(np.zeros(shape, x._data.dtype))
    if p == 1:
        return x.sgn() * g
    if p == 2:
        if not STATE.enabled:
            return Tensor._make(_norm2_backward_array(g._data, x._data, norm._data))
        return g * (x / norm).masked_fill(norm == 0, 0)
    if p in (INF, -INF):
        a = x.abs()
        mask = (a == norm).logical_or(a.isnan())
        return x.sgn() * ((g / mask.sum(dims, True)) * mask)
    if p < 1:
        scaled = x.sgn() * x.abs().pow(p - 1).masked_fill(x == 0, 0)
        return scaled * g * norm.pow(1 - p)
    scaled = x.sgn() * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
    return scaled * (g / norm.pow(p - 1)).masked_fill(norm == 0, 0)


def _norm2_backward_array(g, x, norm):
    """g * (x / norm), 0 where the norm is 0: PyTorch's 2-norm backward, on arrays."""
    zero = norm == 0
    if zero.any():
        r = x / np.where(zero, norm.dtype.type(1), norm)
        r[np.broadcast_to(zero, r.shape)] = 0
    else:
        r = x / norm
    r *= g
    return r


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_legacy_name(x._data.dtype)}")
    if dtype is not None:
        x = x.to(dtype)
    ord = float(ord)
    dims = _all_dims(dim, x._data.ndim)
    if (ord < 0 or ord == INF) and x._data.size == 0:
        _check_norm_identity(x._data.shape, dims, ord, dim is None)
    if out is None and type(x) is Tensor and STATE.fast:
        return run_on(VectorNorm, x, (ord, dims, keepdim), x._rg and STATE.enabled)
    return _out(VectorNorm.apply(x, ord, dims, keepdim), out, "vector_norm")


def _check_norm_identity(shape, dims, ord, full):
    """Norms with no identity (negative or infinite order) cannot reduce an empty dim."""
    if full:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because the "
                           "operation does not have an identity")
    for d in dims:
        if shape[d] == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on the dimension {d}because this "
                               "dimension is empty and the operation does not have an identity")


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, *, out=None):
    """torch.norm: a vector norm, except that 'nuc' (and 'fro' over more than two dims, or any other string) is
    linalg.matrix_norm over dim (all dims when None), as PyTorch dispatches it."""
    dims = (dim,) if isinstance(dim, int) else dim
    if not isinstance(p, str):
        return vector_norm(input, 2 if p is None else p, dims, keepdim, dtype=dtype, out=out)
    if p == "fro" and (dims is None or len(dims) <= 2):
        return vector_norm(input, 2, dims, keepdim, dtype=dtype, out=out)
    from ..linalg import matrix_norm
    return matrix_norm(input, p, tuple(range(input.dim())) if dims is None else dims, keepdim, dtype=dtype, out=out)


def renorm(input, p, dim, maxnorm):
    """input with each slice along dim whose p-norm exceeds maxnorm scaled to norm maxnorm (PyTorch's factor
    maxnorm / (norm + 1e-7))."""
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    nd = input.dim()
    if nd < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    d = wrap_dim(dim, nd)
    norm = vector_norm(input, p, tuple(i for i in range(nd) if i != d), True)
    factor = _E.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return as_node(_E.mul(input, factor), "RenormBackward0")


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), as one node."""
    return as_node(vector_norm(_E.sub(input, other), p), "DistBackward0")


class LogSumExp(Function):
    _raw = True
    _node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        with quiet(x):
            if x.size:   # complex: the shift is the largest real part, so the log's imaginary part is principal
                m = np.max(x.real if x.dtype.kind == "c" else x, axis=dims, keepdims=True)
                if not np.isfinite(m).all():
                    m = np.where(np.isinf(m), 0, m).astype(x.dtype)
                e = np.asarray(np.subtract(x, m))
                np.exp(e, out=e)
            else:
                m, e = np.zeros([1] * x.ndim, x.dtype), x
            out = np.asarray(_add_reduce(e, dims, True, e.dtype))
            np.log(out, out=out)
            out += m
        res = out if keepdim else np.squeeze(out, dims)
        ctx.meta = (x.shape, dims, keepdim)
        ctx.save_for_backward(x, res)
        return res

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_logsumexp_grads, g, ctx)


def _logsumexp_grads(g, ctx):
    """g * exp(x - logsumexp) (softmax), on arrays when no graph is recorded."""
    x, out = ctx.saved_tensors
    shape, dims, keepdim = ctx.meta
    g, out = _unsqueeze_back(g, shape, dims, keepdim), _unsqueeze_back(out, shape, dims, keepdim)
    if STATE.enabled:
        return g * (x - out).exp(), None, None
    with quiet(x._data):
        e = np.asarray(np.subtract(x._data, out._data))
        np.exp(e, out=e)
    return Tensor._make(np.multiply(g._data, e, out=e)), None, None


def logsumexp(input, dim=None, keepdim=False, *, out=None):
    if input._data.dtype.kind not in "fc":
        input = input.to(_dtype.get_default_dtype())
    return _out(LogSumExp.apply(input, _all_dims(dim, input._data.ndim), keepdim), out, "logsumexp")


# ---- scans -----------------------------------------------------------------------------------------------------------
# A scan runs as one vectorized ufunc call per position along dim when the slices across dim hold at least this many
# elements (NumPy's accumulate otherwise steps element by element, 3-8x slower).
_WIDE_SCAN = 32


_SCAN_ACC = {np.dtype(np.float32): np.dtype(np.float64), np.dtype(np.float16): np.dtype(np.float32),
             np.dtype(np.complex64): np.dtype(np.complex128)}


def _scan_acc(nd):
    """Accumulator dtype of cumsum/cumprod, PyTorch's CPU acc_type: double for float32, float for float16, complex
    double for complex float, else nd itself."""
    nd = np.dtype(nd)
    return _SCAN_ACC.get(nd, nd)


def _scan(ufunc, x, dim, nd, reverse=False):
    """ufunc.accumulate of x along dim in PyTorch's CPU order: sequential, in _scan_acc(nd), rounded to nd at the end
    (reverse=True accumulates from the end: the backward of cumsum). Returns a new C-contiguous array."""
    if x.ndim and x.size <= SMALL and not reverse and x.flags.c_contiguous:  # one accumulate casting as it goes, no errstate
        out = ufunc.accumulate(x, axis=dim, dtype=_scan_acc(nd))
        return out if out.dtype == nd else out.astype(nd)
    acc = np.array(x, dtype=_scan_acc(nd), order="C")
    if acc.dtype.kind not in "fc":
        if acc.shape[dim] > 1:
            _scan_inplace(ufunc, acc, dim, reverse)
        return acc if acc.dtype == nd else acc.astype(nd)
    with quiet(acc):      # inf - inf, overflow: PyTorch gives NaN/inf silently
        if acc.shape[dim] > 1:
            _scan_inplace(ufunc, acc, dim, reverse)
        return acc if acc.dtype == nd else acc.astype(nd)


def _scan_inplace(ufunc, acc, dim, reverse):
    n, post = acc.shape[dim], math.prod(acc.shape[dim + 1:])
    if post < _WIDE_SCAN:
        view = np.flip(acc, dim) if reverse else acc
        ufunc.accumulate(view, axis=dim, out=view)
        return
    slices = list(np.moveaxis(acc.reshape(math.prod(acc.shape[:dim]), n, post), 1, 0))
    if reverse:
        slices.reverse()
    prev = slices[0]
    for cur in slices[1:]:
        ufunc(prev, cur, out=cur)
        prev = cur


class CumSum(Function):
    _raw = True
    _node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim, nd):
        ctx.meta = (dim, x.dtype)
        if x.ndim == 0:
            return x.astype(nd)
        return _scan(np.add, x, dim, nd)

    @staticmethod
    def backward(ctx, g):
        dim, src = ctx.meta
        if g._data.dtype != src:
            g = g.to(_dtype.from_numpy_dtype(src))
        if g.dim() == 0:
            return g, None, None
        if not STATE.enabled:
            return Tensor._make(_scan(np.add, g._data, dim, g._data.dtype, reverse=True)), None, None
        return g.flip(dim).cumsum(dim).flip(dim), None, None


def cumsum(input, dim, *, dtype=None, out=None):
    if out is None and dtype is None and STATE.fast and type(input) is Tensor and type(dim) is int:
        x = input._data
        if x.dtype.kind == "f" and -x.ndim <= dim < x.ndim:
            return run_on(CumSum, input, (dim % x.ndim, x.dtype), input._rg and STATE.enabled)
    return _out(CumSum.apply(input, wrap_dim(dim, input._data.ndim), _sum_dtype(input._data, dtype)), out, "cumsum")


class CumProd(Function):
    _raw = True
    _node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim, nd):
        ctx.meta = (dim, x.dtype)
        out = x.astype(nd) if x.ndim == 0 else _scan(np.multiply, x, dim, nd)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        d, src = ctx.meta
        if g._data.dtype != src:
            g = g.to(_dtype.from_numpy_dtype(src))
        return holomorphic_grads(_cumprod_grads, g, ctx)


def _cumprod_grads(g, ctx):
    """The reversed cumulative sum of out * g divided by x; the zero-safe forms where x has zeros."""
    x, out = ctx.saved_tensors
    d, src = ctx.meta
    if x.numel() <= 1 or x.shape[d] == 1:
        return g, None, None
    if not (x._data == 0).any():
        if not STATE.enabled and out._data.dtype == src:
            w = out._data * g._data
            res = _scan(np.add, w, d, w.dtype, reverse=True)
            return Tensor._make(np.divide(res, x._data, out=res)), None, None
        return (out * g).flip(d).cumsum(d).flip(d) / x, None, None
    if STATE.enabled:
        return _cumprod_grad_quadratic(g, x, d), None, None
    return _cumprod_grad_zeros(g._data, x._data, out._data, d), None, None


def _cumprod_grad_zeros(g, x, out, d):
    """O(n) gradient of cumprod with zeros (first-order only): d out_j / d x_k is zero past the first zero."""
    zero = x == 0
    nz = np.cumsum(zero, axis=d)
    before = nz == 0
    first = zero & (nz == 1)
    between = (nz == 1) & ~first
    w = np.where(before, out * g, 0)
    rev = np.flip(np.cumsum(np.flip(w, d), axis=d), d)
    res = np.where(before, rev / np.where(before, x, 1), 0)
    lead = np.prod(np.where(before, x, 1), axis=d, keepdims=True)
    tail = np.cumprod(np.where(between, x, 1), axis=d)
    at_first = lead * np.sum(np.where(nz == 1, g * tail, 0), axis=d, keepdims=True)
    res = np.where(first, at_first, res)
    return Tensor._make(np.ascontiguousarray(res.astype(x.dtype, copy=False)))


def _cumprod_grad_quadratic(g, x, d):
    """Gradient of cumprod with zeros in ember ops (differentiable): sum_j g_j * prod_{i<=j, i!=k} x_i."""
    from .elementwise import where
    from .shape import cat
    n = x.shape[d]
    xm, gm = x.movedim(d, -1), g.movedim(d, -1)
    k = np.arange(n)
    upper = Tensor._make(k[None, :] > k[:, None])           # [k, j]: j > k
    ones = Tensor._make(np.ones(xm.shape[:-1] + (1,), xm._data.dtype))
    rest = where(upper, xm.unsqueeze(-2), 1.0).cumprod(-1)    # prod_{k<i<=j} x_i
    lead = cat([ones, xm.narrow(-1, 0, n - 1)], -1).cumprod(-1)   # prod_{i<k} x_i
    keep = Tensor._make((k[None, :] >= k[:, None]).astype(xm._data.dtype))
    res = lead * (rest * keep * gm.unsqueeze(-2)).sum(-1)
    return res.movedim(-1, d)


def cumprod(input, dim, *, dtype=None, out=None):
    return _out(CumProd.apply(input, wrap_dim(dim, input._data.ndim), _sum_dtype(input._data, dtype)), out, "cumprod")


def _cum_extremum(input, dim, ufunc, cls, rt):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return _select(cls, rt, input, np.zeros((), np.int64), 0)
    if x.size == 0:
        return _select(cls, rt, input, np.zeros(x.shape, np.int64), d)
    vals = ufunc.accumulate(x, axis=d)
    hit = x == vals
    if x.dtype.kind == "f":
        hit |= np.isnan(x)
    pos = np.arange(x.shape[d]).reshape([-1 if i == d else 1 for i in range(x.ndim)])
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=d)
    return _select(cls, rt, input, idx, d)


def cummax(input, dim, *, out=None):
    return _out(_cum_extremum(input, dim, np.maximum, CummaxSelect, return_types.cummax), out, "cummax")


def cummin(input, dim, *, out=None):
    return _out(_cum_extremum(input, dim, np.minimum, CumminSelect, return_types.cummin), out, "cummin")


class LogCumSumExp(Function):
    _raw = True
    _node_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        if x.ndim == 0:
            out = x.copy()
        elif x.dtype.kind == "c":
            out = _complex_logcumsumexp(x, dim)
        else:
            acc = np.float32 if x.dtype == np.float16 else x.dtype
            out = np.logaddexp.accumulate(x.astype(acc), axis=dim).astype(x.dtype)
        ctx.dim = dim
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        d = ctx.dim
        if x.dim() == 0:
            return g, None
        rev = lambda t: t.flip(d).logcumsumexp(d).flip(d)
        if g._data.dtype.kind == "c":   # no sign split needed: log of a complex gradient exists
            return (rev(g.conj().log() - out) + x).exp().conj(), None
        from .elementwise import where
        low = float(np.finfo(x._data.dtype).min)
        with np.errstate(divide="ignore"):
            log_abs = g.abs().log()
        pos = where(g > 0, log_abs, low)
        neg = where(g < 0, log_abs, low)
        return (rev(pos - out) + x).exp() - (rev(neg - out) + x).exp(), None


def _complex_logcumsumexp(x, dim):
    """The complex scan of ATen's logcumsumexp, one vectorized step per position along dim (in complex128)."""
    from .elementwise import complex_logaddexp
    xs = np.moveaxis(x.astype(np.complex128), dim, 0)
    out = np.empty_like(xs)
    cum = np.full(xs.shape[1:], complex(-np.inf, 0))
    for i in range(xs.shape[0]):
        cum = out[i] = complex_logaddexp(xs[i], cum)
    return np.moveaxis(out, 0, dim).astype(x.dtype)


def logcumsumexp(input, dim, *, out=None):
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_legacy_name(input._data.dtype)}'")
    return _out(LogCumSumExp.apply(input, wrap_dim(dim, input._data.ndim)), out, "logcumsumexp")


# ---- logical reductions ----------------------------------------------------------------------------------------------
def _logical(input, dim, keepdim, fn):
    x = input._data
    axis = None if dim is None else _all_dims(dim, x.ndim)
    res = np.asarray(fn(x, axis=axis, keepdims=keepdim and dim is not None))
    return Tensor._make(res.astype(np.uint8) if x.dtype == np.uint8 else res)


def all(input, dim=None, keepdim=False, *, out=None):
    return _out(_logical(input, dim, keepdim, np.all), out, "all")


def any(input, dim=None, keepdim=False, *, out=None):
    return _out(_logical(input, dim, keepdim, np.any), out, "any")


def count_nonzero(input, dim=None):
    x = input._data
    axis = None if dim is None else wrap_dims(dim, x.ndim)
    return Tensor._make(np.asarray(np.count_nonzero(x, axis=axis), dtype=np.int64))


# ---- sorting and selection -------------------------------------------------------------------------------------------
# From this many elements, topk/kthvalue/median select with np.partition (O(n)) instead of a full stable argsort.
_PARTITION_MIN = 1024


def _argsort(x, dim, descending):
    """Stable argsort along dim in PyTorch's order: NaN is the largest value; ties keep their original order."""
    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return x.argsort(axis=dim, kind="stable")
    if x.dtype.kind in "iu":
        return np.invert(x).argsort(axis=dim, kind="stable")  # ~x = -1 - x reverses the order without overflow
    if x.dtype.kind == "f" and _nan_free(x):                       # without NaN, -x sorts stably in reverse
        return np.negative(x).argsort(axis=dim, kind="stable")
    n = x.shape[dim]
    backwards = (slice(None),) * dim + (slice(None, None, -1),)
    r = x[backwards].argsort(axis=dim, kind="stable")
    return np.subtract(n - 1, r[backwards], dtype=np.int64)


def _nan_free(x):
    """Whether x holds no NaN: x . x (one BLAS dot) is NaN exactly when some element is."""
    return x.dtype.kind != "f" or not math.isnan(np.vdot(x, x))


def _partitionable(x, dim):
    """Big enough, with a real or integer dtype, for the np.partition paths of topk/kthvalue/median."""
    return x.ndim and x.size >= _PARTITION_MIN and x.shape[dim] > 1 and x.dtype.kind in "iuf"


def _rows(x, dim):
    """x with dim moved last, as C-contiguous 2-D rows."""
    return np.ascontiguousarray(np.moveaxis(x, dim, -1)).reshape(-1, x.shape[dim])


def _from_rows(idx, x, dim):
    """Per-row indices (rows, k) back in x's layout, with k along dim."""
    shape = tuple(s for i, s in enumerate(x.shape) if i != dim) + (idx.shape[-1],)
    return np.moveaxis(idx.reshape(shape), -1, dim)


def _order_stat(rows, kth):
    """The kth smallest of each row (NaN largest, as np.partition and PyTorch order them), as a column."""
    return np.partition(rows, kth, axis=-1)[:, kth:kth + 1]


def _tied(rows, v):
    """Mask of the elements equal to their row's value v (NaN equal to NaN)."""
    eq = rows == v
    if rows.dtype.kind == "f" and np.isnan(v).any():
        eq |= np.isnan(rows) & np.isnan(v)
    return eq


def _topk_rows(rows, k, largest):
    """Indices (rows, k) of the k largest (smallest) of each row in PyTorch's sorted order, ties by lowest index:
    one partition finds the kth value; elements ranked before it and the first ties after them are picked."""
    n = rows.shape[1]
    v = _order_stat(rows, n - k if largest else k - 1)
    before = rows > v if largest else rows < v
    if rows.dtype.kind == "f":
        nan, vnan = np.isnan(rows), np.isnan(v)
        if vnan.any() or nan.any():
            before |= (nan & ~vnan) if largest else (~nan & vnan)
    eq = _tied(rows, v)
    need = k - np.count_nonzero(before, axis=1)[:, None]
    if (np.count_nonzero(eq, axis=1)[:, None] != need).any():
        eq &= np.cumsum(eq, axis=1) <= need
    before |= eq
    pos = np.flatnonzero(before).reshape(-1, k) - (np.arange(rows.shape[0]) * n)[:, None]
    order = _argsort(np.take_along_axis(rows, pos, 1), 1, largest)
    return np.take_along_axis(pos, order, 1)


def _first_at_rank(rows, kth):
    """Per row, the lowest index holding the kth smallest value."""
    return np.argmax(_tied(rows, _order_stat(rows, kth)), axis=1)


_NOT_GIVEN = object()


def sort(input, dim=-1, descending=False, stable=_NOT_GIVEN, *, out=None):
    if isinstance(dim, bool):
        dim, descending = -1, dim
    x = input._data
    d = wrap_dim(dim, x.ndim)
    cls = SortSelect if stable is _NOT_GIVEN else SortStableSelect
    return _out(_select(cls, return_types.sort, input, _argsort(x, d, descending), d), out, "sort")


def argsort(input, dim=-1, descending=False, stable=False):
    return Tensor._make(_argsort(input._data, wrap_dim(dim, input._data.ndim), descending))


def msort(input, *, out=None):
    return _out(sort(input, 0).values, out, "msort")


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if k and _partitionable(x, d):
        idx = _from_rows(_topk_rows(_rows(x, d), k, largest), x, d)
    else:
        idx = _argsort(x, d, largest)
        if x.ndim:
            idx = idx[(slice(None),) * d + (slice(0, k),)]
    return _out(_select(TopkSelect, return_types.topk, input, idx, d), out, "topk")


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    if x.ndim and x.shape[d] == 0:
        _check_nonempty(x, (d,), "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if out is not None:
        for o in out:
            check_out_overlap(o, input)
    if _partitionable(x, d):
        idx = _from_rows(_first_at_rank(_rows(x, d), k - 1)[:, None], x, d)
    else:
        idx = np.take(_argsort(x, d, False), [k - 1], axis=d) if x.ndim else np.zeros((), np.int64)
    return _out(_select(KthvalueSelect, return_types.kthvalue, input, idx, d, keepdim), out, "kthvalue")


class _MedianAll(_EvenAll):
    """median()/nanmedian() of all elements: the lower median; the gradient is shared among equal elements."""

    _node_name = "MedianBackward0"
    ignore_nan = False

    @classmethod
    def value(cls, x):
        flat = x.reshape(-1)
        nan = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, bool)
        valid = int(flat.size - nan.sum())
        if valid == 0 or not cls.ignore_nan and valid < flat.size:
            return np.nan
        return np.partition(flat[~nan] if cls.ignore_nan else flat, (valid - 1) // 2)[(valid - 1) // 2]

    @classmethod
    def empty(cls, x):
        """The median of no elements is NaN (no error)."""


class _NanmedianAll(_MedianAll):
    _node_name = "NanmedianBackward0"
    ignore_nan = True


def _median_dim(input, dim, keepdim, ignore_nan, cls, rt, name):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return _select(cls, rt, input, np.zeros((), np.int64), 0, keepdim)
    _check_nonempty(x, (d,), name)
    n = x.shape[d]
    if _partitionable(x, d):
        idx = _median_rows(_rows(x, d), ignore_nan)
        if idx is not None:
            return _select(cls, rt, input, _from_rows(idx[:, None], x, d), d, keepdim)
    order = _argsort(x, d, False)
    if _nan_free(x):  # the lower median is at (n - 1) // 2
        m = (n - 1) // 2
        return _select(cls, rt, input, order[(slice(None),) * d + (slice(m, m + 1),)], d, keepdim)
    nan = np.isnan(x)
    count = n - np.sum(nan, axis=d)
    if ignore_nan:
        pos = np.maximum(count - 1, 0) // 2
    else:
        pos = np.where(count < n, count, (n - 1) // 2)    # with a NaN: the first NaN (sorted stably after numbers)
    idx = np.take_along_axis(order, np.expand_dims(pos, d), d)
    return _select(cls, rt, input, idx, d, keepdim)


def _median_rows(rows, ignore_nan):
    """Index of each row's lower median (of a row with NaN: its first NaN), or None for nanmedian of rows with NaN
    (left to the sorting path)."""
    nan = np.isnan(rows) if rows.dtype.kind == "f" else None
    has = nan.any(axis=1) if nan is not None else None
    if has is not None and has.any():
        if ignore_nan:
            return None
        return np.where(has, np.argmax(nan, axis=1), _first_at_rank(rows, (rows.shape[1] - 1) // 2))
    return _first_at_rank(rows, (rows.shape[1] - 1) // 2)


def median(input, dim=None, keepdim=False, *, out=None):
    if dim is None:
        return _out(_MedianAll.apply(input), out, "median")
    return _out(_median_dim(input, dim, keepdim, False, MedianDim, return_types.median, "median"), out, "median")


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    if dim is None:
        return _out(_NanmedianAll.apply(input), out, "nanmedian")
    res = _median_dim(input, dim, keepdim, True, NanmedianDim, return_types.nanmedian, "nanmedian")
    return _out(res, out, "nanmedian")


def mode(input, dim=-1, keepdim=False, *, out=None):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return _out(_select(ModeSelect, return_types.mode, input, np.zeros((), np.int64), 0, keepdim), out, "mode")
    _check_nonempty(x, (d,), "mode")
    xm = np.moveaxis(x, d, -1)
    s = np.sort(xm, axis=-1)
    n = s.shape[-1]
    pos = np.arange(n)
    start = np.maximum.accumulate(np.where(np.concatenate(
        [np.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], axis=-1), pos, 0), axis=-1)
    is_end = np.concatenate([s[..., 1:] != s[..., :-1], np.ones(s.shape[:-1] + (1,), bool)], axis=-1)
    run = np.where(is_end, pos - start + 1, 0)
    vals = np.take_along_axis(s, np.argmax(run, axis=-1)[..., None], -1)        # smallest most frequent value
    last = n - 1 - np.argmax((xm == vals)[..., ::-1], axis=-1)                     # its last occurrence
    idx = np.expand_dims(last, d)
    return _out(_select(ModeSelect, return_types.mode, input, idx, d, keepdim), out, "mode")


# ---- quantiles -------------------------------------------------------------------------------------------------------
_QUANTILE_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _check_quantile_args(input, q, interpolation, name):
    """PyTorch's argument checks for quantile/nanquantile; returns q as a 1-D array in the input's dtype."""
    x = input._data
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if x.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._data.dtype != x.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qd = q._data
        if ((qd < 0) | (qd > 1)).any():
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        qd = np.asarray(q)
    if interpolation not in _QUANTILE_MODES:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, but "
                           f"got {interpolation}")
    return qd.astype(x.dtype).reshape(-1)


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    """Sort along dim, then interpolate between the order statistics at rank q*(n-1) (PyTorch's algorithm)."""
    qd = _check_quantile_args(input, q, interpolation, name)
    shape, x = input._data.shape, input._data
    if dim is None or x.ndim == 0:
        if dim is not None:
            wrap_dim(dim, 0)
        rows, kept = input.reshape(-1), (1,) * len(shape) if keepdim else ()
    else:
        d = wrap_dim(dim, x.ndim)
        rows = input.movedim(d, -1)
        kept = tuple(1 if i == d else s for i, s in enumerate(shape)) if keepdim else shape[:d] + shape[d + 1:]
    srt = rows.sort(-1).values
    sd = srt._data
    n = sd.shape[-1]
    nan = np.isnan(sd)
    lead = sd.shape[:-1]
    if ignore_nan:
        count = (n - nan.sum(-1, keepdims=True)).astype(x.dtype)
        ranks = np.maximum(qd * (count - 1), 0)
    else:
        ranks = np.where(nan.any(-1, keepdims=True), x.dtype.type(n - 1), np.broadcast_to(qd * x.dtype.type(n - 1),
                                                                                          lead + (len(qd),)))
    ranks = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}.get(interpolation, np.asarray)(ranks)
    below = ranks.astype(np.int64)
    res = srt.gather(-1, Tensor._make(below))
    if interpolation in ("linear", "midpoint"):
        from .elementwise import lerp
        w = np.full(ranks.shape, 0.5, x.dtype) if interpolation == "midpoint" else (ranks - below).astype(x.dtype)
        w = Tensor._make(w)
        if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad and STATE.enabled:
            w = _rank_tensor(q, nan, ignore_nan) - Tensor._make(below.astype(x.dtype))
        above = srt.gather(-1, Tensor._make(np.ceil(ranks).astype(np.int64)))
        res = lerp(res, above, w)
    if isinstance(q, Tensor) and q.dim() == 1:
        res = res.movedim(-1, 0).reshape((len(qd),) + kept)
    else:
        res = res.reshape(kept)
    return as_node(res, "SqueezeBackward4")  # PyTorch's last step: squeezing the dim of q in place


def _rank_tensor(q, nan, ignore_nan):
    """The ranks q*(n-1) (per row, n counting non-NaNs for nanquantile) as PyTorch's graph from q, so linear
    interpolation's weights carry q's gradient; a row of NaNs (quantile) or a rank below 0 takes a constant."""
    n = nan.shape[-1]
    dt = q._data.dtype
    qf = q.reshape(-1)
    if ignore_nan:
        ranks = qf * Tensor._make((n - nan.sum(-1, keepdims=True) - 1).astype(dt))
        return ranks.masked_fill(Tensor._make(ranks._data < 0), 0)
    ranks = (qf * (n - 1)).expand(nan.shape[:-1] + (qf.shape[0],))
    return ranks.masked_fill(Tensor._make(nan.any(-1, keepdims=True)), n - 1)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _out(_quantile(input, q, dim, keepdim, interpolation, False, "quantile"), out, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _out(_quantile(input, q, dim, keepdim, interpolation, True, "nanquantile"), out, "nanquantile")


def hash_tensor(input, dim=None, *, keepdim=False, mode=0):
    """The xor of the elements' 64-bit patterns over dim (floats widened to float64, integers and bool to int64):
    PyTorch's mode 0, the only one it has."""
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    x = input._data
    if x.dtype.kind == "c":
        raise NotImplementedError(f'"xor_sum_cpu" not implemented for \'{_legacy_name(x.dtype)}\'')
    if _is_full(dim) and x.size == 0:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    dims = _all_dims(dim, x.ndim)
    _check_nonempty(x, dims, "hash_tensor", sep="")
    wide = x.astype(np.float64 if x.dtype.kind == "f" else np.uint64 if x.dtype == np.uint64 else np.int64)
    bits = wide.view(np.uint64)
    return Tensor._make(np.asarray(np.bitwise_xor.reduce(bits, axis=dims, keepdims=keepdim)))


def _numpy_names(fn):
    """Accept NumPy's spelling of the reduction arguments (axis=, keepdims=), as PyTorch's argument parser does."""
    @functools.wraps(fn)
    def op(*args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)
    return op


__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax",
           "argmin", "var", "std", "var_mean", "std_mean", "norm", "dist", "renorm", "logsumexp", "cumsum", "cumprod",
           "cummax", "cummin", "logcumsumexp", "all", "any", "count_nonzero", "sort", "argsort", "msort", "topk",
           "kthvalue", "median", "nanmedian", "mode", "quantile", "nanquantile", "hash_tensor"]

for _name in __all__:
    globals()[_name] = _numpy_names(globals()[_name])
