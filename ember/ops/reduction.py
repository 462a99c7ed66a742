"""Reductions, scans and sorting: sum, mean, max/min, var/std, norm, logsumexp, cumsum, sort, topk, ..."""
import builtins

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from .. import return_types
from ..autograd.function import Function
from ._util import wrap_dim, wrap_dims


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input shape."""
    if not keepdim and dims:
        g = g.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))
    return g.expand(shape)


def _sum_dtype(x, dtype):
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    if x.dtype.kind in "biu":
        return np.int64
    return x.dtype


class Sum(Function):
    _raw = True
    _node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, nd):
        ctx.meta = (x.shape, dims, keepdim, x.dtype)
        return np.asarray(np.sum(x, axis=dims, keepdims=keepdim, dtype=nd))

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim, src = ctx.meta
        g = _expand_back(g, shape, dims, keepdim)
        if g._data.dtype != src:
            g = g.to(_dtype.from_numpy_dtype(src))
        return g, None, None, None


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    dims = wrap_dims(dim, input._data.ndim) if dim is not None and dim != () and dim != [] else tuple(range(input._data.ndim))
    return Sum.apply(input, dims, keepdim, _sum_dtype(input._data, dtype))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import where, isnan
    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def _reduced_count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind not in "fc":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_legacy_name(input.dtype)}")
    dims = wrap_dims(dim, input._data.ndim) if dim is not None and dim != () and dim != [] else tuple(range(input._data.ndim))
    n = _reduced_count(input._data.shape, dims)
    return sum(input, dims, keepdim) / n if n else sum(input, dims, keepdim) * float("nan")


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import isnan
    notnan = (~isnan(input)).sum(dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / notnan


def _legacy_name(d):
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(d.name, d.name.capitalize())


class Prod(Function):
    _raw = True
    _node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, nd):
        ctx.meta = (x.shape, dims, keepdim)
        out = np.asarray(np.prod(x, axis=dims, keepdims=keepdim, dtype=nd))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        g = _expand_back(g, shape, dims, keepdim)
        out = _expand_back(out, shape, dims, keepdim)
        xd = x._data
        if not (xd == 0).any():
            return g * out / x, None, None, None
        # With zeros: product of the other elements, computed without dividing.
        from .elementwise import where
        others = _prod_of_others(x, dims)
        return g * others, None, None, None


def _prod_of_others(x, dims):
    """For each element, the product of the other elements of its reduction group."""
    xd = x._data
    moved = np.moveaxis(xd, dims, list(range(xd.ndim - len(dims), xd.ndim)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(dims)] + (-1,))
    n = flat.shape[-1]
    ones = np.ones(flat.shape[:-1] + (1,), flat.dtype)
    left = np.concatenate([ones, np.cumprod(flat, axis=-1)[..., :-1]], axis=-1)
    right = np.concatenate([np.cumprod(flat[..., ::-1], axis=-1)[..., :-1][..., ::-1], ones], axis=-1)
    res = (left * right).reshape(moved.shape)
    res = np.moveaxis(res, list(range(xd.ndim - len(dims), xd.ndim)), dims)
    return Tensor._make(np.ascontiguousarray(res))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    dims = (wrap_dim(dim, input._data.ndim),) if dim is not None else tuple(range(input._data.ndim))
    if input._data.ndim == 0:
        dims = ()
    return Prod.apply(input, dims, keepdim, _sum_dtype(input._data, dtype))


# ---- max / min -----------------------------------------------------------------------------------
class _ExtremumAll(Function):
    """max()/min()/amax/amin over dims: the gradient is shared evenly among tied extrema."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x, dims, keepdim):
        if x.size == 0 and builtins.any(x.shape[d] == 0 for d in dims) or (x.size == 0 and not dims):
            raise RuntimeError(f"{cls.opname}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        out = np.asarray(cls.np_fn(x, axis=dims, keepdims=keepdim))
        ctx.meta = (x.shape, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        outk = out._data if keepdim or not dims else np.expand_dims(out._data, dims)
        hit = (x._data == outk) | (np.isnan(x._data) & np.isnan(outk))
        count = np.sum(hit, axis=dims, keepdims=True)
        mask = Tensor._make((hit / count).astype(x._data.dtype))
        return _expand_back(g, shape, dims, keepdim) * mask, None, None


class AMax(_ExtremumAll):
    _node_name = "AmaxBackward0"
    opname = "max"
    np_fn = staticmethod(np.max)


class AMin(_ExtremumAll):
    _node_name = "AminBackward0"
    opname = "min"
    np_fn = staticmethod(np.min)


class _ExtremumDim(Function):
    """max(dim)/min(dim): values and indices; the gradient goes to the returned index."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        if x.ndim == 0:
            idx = np.zeros((), np.int64)
            ctx.mark_non_differentiable_idx = True
            ctx.meta = (x.shape, dim, keepdim)
            ctx.idx = idx
            return x.copy(), idx
        if x.shape[dim] == 0:
            raise IndexError(f"{cls.opname}(): Expected reduction dim {dim} to have non-zero size.")
        idx = cls.arg_fn(x, dim)
        vals = np.take_along_axis(x, np.expand_dims(idx, dim), dim)
        if not keepdim:
            vals = np.squeeze(vals, dim)
        else:
            idx = np.expand_dims(idx, dim)
        ctx.meta = (x.shape, dim, keepdim)
        ctx.idx = idx
        return vals, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, g, _gi):
        shape, dim, keepdim = ctx.meta
        return _scatter_grad(g, Tensor._make(ctx.idx), shape, dim, keepdim), None, None


def _scatter_grad(g, idx, shape, dim, keepdim):
    """Gradient of taking `idx` along `dim`: g placed at idx, zeros elsewhere (differentiable in g)."""
    if len(shape) == 0:
        return g
    from .indexing import scatter_grad_along
    if not keepdim:
        g = g.unsqueeze(dim)
        idx = idx.unsqueeze(dim)
    return scatter_grad_along(g, idx, shape, dim)


def _nan_argmax(x, dim):
    nan = np.isnan(x) if x.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return np.where(nan.any(axis=dim), np.argmax(nan, axis=dim), np.argmax(x, axis=dim))
    return np.argmax(x, axis=dim)


def _nan_argmin(x, dim):
    nan = np.isnan(x) if x.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return np.where(nan.any(axis=dim), np.argmax(nan, axis=dim), np.argmin(x, axis=dim))
    return np.argmin(x, axis=dim)


class MaxDim(_ExtremumDim):
    _node_name = "MaxBackward0"
    opname = "max"
    arg_fn = staticmethod(_nan_argmax)


class MinDim(_ExtremumDim):
    _node_name = "MinBackward0"
    opname = "min"
    arg_fn = staticmethod(_nan_argmin)


def _extremum(input, dim, keepdim, other, pair_fn, all_cls, dim_cls, rt):
    if isinstance(dim, Tensor):
        return pair_fn(input, dim)
    if other is not None:
        return pair_fn(input, other)
    if dim is None:
        return all_cls.apply(input, tuple(range(input._data.ndim)), False)
    dim = wrap_dim(dim, input._data.ndim)
    vals, idx = dim_cls.apply(input, dim, keepdim)
    return rt(vals, idx)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    from .elementwise import maximum
    return _extremum(input, dim, keepdim, other, maximum, AMax, MaxDim, return_types.max)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    from .elementwise import minimum
    return _extremum(input, dim, keepdim, other, minimum, AMin, MinDim, return_types.min)


def amax(input, dim=(), keepdim=False):
    return AMax.apply(input, _dims_or_all(dim, input), keepdim)


def amin(input, dim=(), keepdim=False):
    return AMin.apply(input, _dims_or_all(dim, input), keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    d = () if dim is None else dim
    return return_types.aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


def _dims_or_all(dim, input):
    if dim is None or dim == () or dim == []:
        return tuple(range(input._data.ndim))
    return wrap_dims(dim, input._data.ndim)


def argmax(input, dim=None, keepdim=False):
    x = input._data
    if dim is None:
        r = _nan_argmax(x.reshape(-1), 0)
        return Tensor._make(np.asarray(r, np.int64).reshape((1,) * x.ndim if keepdim else ()))
    dim = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    r = _nan_argmax(x, dim).astype(np.int64)
    return Tensor._make(np.expand_dims(r, dim) if keepdim else r)


def argmin(input, dim=None, keepdim=False):
    x = input._data
    if dim is None:
        r = _nan_argmin(x.reshape(-1), 0)
        return Tensor._make(np.asarray(r, np.int64).reshape((1,) * x.ndim if keepdim else ()))
    dim = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    r = _nan_argmin(x, dim).astype(np.int64)
    return Tensor._make(np.expand_dims(r, dim) if keepdim else r)


# ---- var / std ---------------------------------------------------------------------------------------
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_args(input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    dims = _dims_or_all(dim, input)
    return dims, _correction(unbiased, correction), keepdim


class Var(Function):
    _raw = True
    _node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        n = _reduced_count(x.shape, dims)
        mu = np.mean(x, axis=dims, keepdims=True)
        d = x - mu
        out = np.asarray(np.sum(d * d, axis=dims, keepdims=keepdim) / builtins.max(n - correction, 0))
        ctx.meta = (x.shape, dims, keepdim, n - correction)
        ctx.save_for_backward(x)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        shape, dims, keepdim, denom = ctx.meta
        g = _expand_back(g, shape, dims, keepdim)
        return g * (x - x.mean(dims, keepdim=True)) * (2.0 / denom), None, None, None


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dims, corr, keepdim = _var_args(input, dim, unbiased, keepdim, correction)
    return Var.apply(input, dims, corr, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    from .elementwise import sqrt
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dims, corr, keepdim = _var_args(input, dim, unbiased, keepdim, correction)
    return Var.apply(input, dims, corr, keepdim), mean(input, dims, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dims, corr, keepdim = _var_args(input, dim, unbiased, keepdim, correction)
    return std(input, dims, keepdim=keepdim, correction=corr), mean(input, dims, keepdim)


# ---- norms, logsumexp ----------------------------------------------------------------------------------
class VectorNorm(Function):
    _raw = True
    _node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        a = np.abs(x)
        if p == 2:
            out = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
        elif p == float("inf"):
            out = np.max(a, axis=dims, keepdims=keepdim, initial=0)
        elif p == -float("inf"):
            out = np.min(a, axis=dims, keepdims=keepdim)
        elif p == 0:
            out = np.sum(a != 0, axis=dims, keepdims=keepdim).astype(a.dtype)
        elif p == 1:
            out = np.sum(a, axis=dims, keepdims=keepdim)
        else:
            out = np.sum(a ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        out = np.asarray(out).astype(a.dtype, copy=False)
        ctx.meta = (x.shape, p, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, p, dims, keepdim = ctx.meta
        g = _expand_back(g, shape, dims, keepdim)
        out = _expand_back(out, shape, dims, keepdim)
        from .elementwise import sgn, where, zeros_like_
        if p == 0:
            return g * 0, None, None, None
        if p == 1:
            return g * sgn(x), None, None, None
        if p == 2:
            gx = g * x / out
            return where(out == 0, zeros_like_(gx), gx), None, None, None
        if p in (float("inf"), -float("inf")):
            hit = (x.abs()._data == out._data)
            cnt = np.sum(hit, axis=dims, keepdims=True)
            return g * sgn(x) * Tensor._make((hit / cnt).astype(x._data.dtype)), None, None, None
        gx = g * x * x.abs().pow(p - 2) / out.pow(p - 1)
        return where(out == 0, zeros_like_(gx), gx), None, None, None


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_legacy_name(x.dtype)}")
    dims = _dims_or_all(dim, x)
    return VectorNorm.apply(x, float(ord), dims, keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("ember does not implement the nuclear norm")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


class LogSumExp(Function):
    _raw = True
    _node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        m = np.max(x, axis=dims, keepdims=True) if x.size else np.zeros([1] * x.ndim, x.dtype)
        m = np.where(np.isfinite(m), m, 0)
        out = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        ctx.meta = (x.shape, dims, keepdim)
        res = out if keepdim else np.squeeze(out, dims)
        ctx.save_for_backward(x, res)
        return np.asarray(res)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.meta
        from .elementwise import exp
        return _expand_back(g, shape, dims, keepdim) * exp(x - _expand_back(out, shape, dims, keepdim)), None, None


def logsumexp(input, dim=None, keepdim=False):
    if input._data.dtype.kind not in "fc":
        input = input.to(_dtype.get_default_dtype())
    return LogSumExp.apply(input, _dims_or_all(dim, input), keepdim)


# ---- scans ----------------------------------------------------------------------------------------------
class CumSum(Function):
    _raw = True
    _node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim, nd):
        ctx.dim = dim
        if x.ndim == 0:
            return x.astype(nd)
        return np.cumsum(x, axis=dim, dtype=nd)

    @staticmethod
    def backward(ctx, g):
        if g.dim() == 0:
            return g, None, None
        return g.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim), None, None


def cumsum(input, dim, *, dtype=None):
    return CumSum.apply(input, wrap_dim(dim, input._data.ndim), _sum_dtype(input._data, dtype))


class CumProd(Function):
    _raw = True
    _node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim, nd):
        ctx.dim = dim
        out = x.astype(nd) if x.ndim == 0 else np.cumprod(x, axis=dim, dtype=nd)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        d = ctx.dim
        if x.dim() == 0:
            return g, None, None
        if not (x._data == 0).any():
            return (g * out).flip(d).cumsum(d).flip(d) / x, None, None
        # With zeros: S_i = g_i + x_{i+1} S_{i+1}; grad_i = (prod_{k<i} x_k) S_i. Loop over the scanned dim.
        xd = np.moveaxis(x._data, d, 0)
        gd = np.moveaxis(g._data, d, 0)
        n = xd.shape[0]
        s = np.empty_like(gd)
        s[n - 1] = gd[n - 1]
        for i in range(n - 2, -1, -1):
            s[i] = gd[i] + xd[i + 1] * s[i + 1]
        excl = np.concatenate([np.ones_like(xd[:1]), np.cumprod(xd, axis=0)[:-1]], axis=0)
        return Tensor._make(np.ascontiguousarray(np.moveaxis(excl * s, 0, d))), None, None


def cumprod(input, dim, *, dtype=None):
    return CumProd.apply(input, wrap_dim(dim, input._data.ndim), _sum_dtype(input._data, dtype))


def _cum_extremum(input, dim, better, rt):
    x = input._data
    dim = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return rt(input.clone(), Tensor._make(np.zeros((), np.int64)))
    xm = np.moveaxis(x, dim, 0)
    n = xm.shape[0]
    idx = np.zeros(xm.shape, np.int64)
    best = xm[0].copy()
    cur = np.zeros(xm.shape[1:], np.int64)
    for i in range(n):
        take = better(xm[i], best) | (xm[i] == best) | np.isnan(xm[i]) if x.dtype.kind == "f" else \
            better(xm[i], best) | (xm[i] == best)
        best = np.where(take, xm[i], best)
        cur = np.where(take, i, cur)
        idx[i] = cur
    idx = np.ascontiguousarray(np.moveaxis(idx, 0, dim))
    from .indexing import gather
    return rt(gather(input, dim, Tensor._make(idx)), Tensor._make(idx))


def cummax(input, dim):
    return _cum_extremum(input, dim, np.greater, return_types.cummax)


def cummin(input, dim):
    return _cum_extremum(input, dim, np.less, return_types.cummin)


def logcumsumexp(input, dim):
    from .elementwise import exp, log
    d = wrap_dim(dim, input._data.ndim)
    m = input.detach().amax(d, keepdim=True) if input.numel() else input.detach()
    m = Tensor._make(np.where(np.isfinite(m._data), m._data, 0))
    return log(exp(input - m).cumsum(d)) + m


# ---- logical reductions ------------------------------------------------------------------------------------
def all(input, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.asarray(np.all(input._data)))
    return Tensor._make(np.asarray(np.all(input._data, axis=wrap_dims(dim, input._data.ndim), keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.asarray(np.any(input._data)))
    return Tensor._make(np.asarray(np.any(input._data, axis=wrap_dims(dim, input._data.ndim), keepdims=keepdim)))


def count_nonzero(input, dim=None):
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=None if dim is None else
                                                   wrap_dims(dim, input._data.ndim)), dtype=np.int64))


# ---- sorting and selection ------------------------------------------------------------------------------------
def _sort_keys(x, descending):
    """Keys whose ascending stable order is torch's order (NaN sorts as the largest value)."""
    if x.dtype == np.bool_:
        x = x.astype(np.int8)
    if descending:
        if x.dtype.kind == "f":
            return np.where(np.isnan(x), -np.inf, -x), np.isnan(x)
        if x.dtype.kind == "u":
            return -(x.astype(np.int64)), None
        return -(x.astype(np.int64) if x.dtype.kind == "i" else x), None
    return x, None


def _argsort(x, dim, descending):
    if x.ndim == 0:
        return np.zeros((), np.int64)
    keys, nanmask = _sort_keys(x, descending)
    if nanmask is not None and nanmask.any():
        # NaNs first when descending: sort by (not nan, key).
        order = np.argsort(keys, axis=dim, kind="stable")
        nan_sorted = np.take_along_axis(~nanmask, order, dim)
        order2 = np.argsort(nan_sorted, axis=dim, kind="stable")
        return np.take_along_axis(order, order2, dim).astype(np.int64)
    return np.argsort(keys, axis=dim, kind="stable").astype(np.int64)


def sort(input, dim=-1, descending=False, stable=False):
    if isinstance(dim, bool):
        dim, descending = -1, dim
    x = input._data
    d = wrap_dim(dim, x.ndim)
    idx = Tensor._make(_argsort(x, d, descending))
    from .indexing import gather
    vals = gather(input, d, idx) if x.ndim else input.clone()
    return return_types.sort(vals, idx)


def argsort(input, dim=-1, descending=False, stable=False):
    return Tensor._make(_argsort(input._data, wrap_dim(dim, input._data.ndim), descending))


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range")
    idx = _argsort(x, d, largest)
    idx = np.take(idx, np.arange(k), axis=d) if x.ndim else idx
    from .indexing import gather
    idx_t = Tensor._make(np.ascontiguousarray(idx))
    return return_types.topk(gather(input, d, idx_t) if x.ndim else input.clone(), idx_t)


def kthvalue(input, k, dim=-1, keepdim=False):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if x.ndim == 0:
        return return_types.kthvalue(input.clone(), Tensor._make(np.zeros((), np.int64)))
    idx = np.take(_argsort(x, d, False), [k - 1], axis=d)
    return _select_at(input, idx, d, keepdim, return_types.kthvalue)


def _select_at(input, idx, d, keepdim, rt):
    from .indexing import gather
    idx_t = Tensor._make(np.ascontiguousarray(idx))
    vals = gather(input, d, idx_t)
    if not keepdim:
        vals, idx_t = vals.squeeze(d), idx_t.squeeze(d)
    return rt(vals, idx_t)


def median(input, dim=None, keepdim=False):
    x = input._data
    if dim is None:
        flat = input.reshape(-1)
        if flat.numel() == 0:
            return Tensor._make(np.asarray(np.nan, x.dtype))
        n = flat.numel()
        idx = _argsort(flat._data, 0, False)
        if x.dtype.kind == "f" and np.isnan(flat._data).any():
            pos = int(np.argmax(np.isnan(flat._data[idx])))
            return flat[int(idx[pos])]
        return flat[int(idx[(n - 1) // 2])]
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return return_types.median(input.clone(), Tensor._make(np.zeros((), np.int64)))
    n = x.shape[d]
    order = _argsort(x, d, False)
    pos = np.full(np.delete(np.array(x.shape), d), (n - 1) // 2)
    if x.dtype.kind == "f":
        nan_sorted = np.isnan(np.take_along_axis(x, order, d))
        has = nan_sorted.any(axis=d)
        pos = np.where(has, np.argmax(nan_sorted, axis=d), pos)
    idx = np.take_along_axis(order, np.expand_dims(pos, d), d)
    return _select_at(input, idx, d, keepdim, return_types.median)


def nanmedian(input, dim=None, keepdim=False):
    x = input._data
    if dim is None:
        flat = x.reshape(-1)
        valid = flat[~np.isnan(flat)] if x.dtype.kind == "f" else flat
        if valid.size == 0:
            return Tensor._make(np.asarray(np.nan, x.dtype))
        order = np.argsort(flat, kind="stable")
        return input.reshape(-1)[int(order[(valid.size - 1) // 2])]
    d = wrap_dim(dim, x.ndim)
    order = _argsort(x, d, False)
    cnt = np.sum(~np.isnan(x), axis=d) if x.dtype.kind == "f" else np.full(np.delete(np.array(x.shape), d), x.shape[d])
    pos = np.maximum((cnt - 1) // 2, 0)
    idx = np.take_along_axis(order, np.expand_dims(pos, d), d)
    return _select_at(input, idx, d, keepdim, return_types.nanmedian)


def mode(input, dim=-1, keepdim=False):
    x = input._data
    d = wrap_dim(dim, x.ndim)
    xm = np.moveaxis(x, d, -1)
    s = np.sort(xm, axis=-1, kind="stable")
    n = s.shape[-1]
    # run lengths of equal values in the sorted rows; the mode is the smallest most frequent value
    change = np.concatenate([np.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], axis=-1)
    run_id = np.cumsum(change, axis=-1) - 1
    counts = np.zeros(s.shape[:-1] + (n,), np.int64)
    np.put_along_axis(counts, run_id, 0, -1)
    flat_counts = np.apply_along_axis(lambda r: np.bincount(r, minlength=n), -1, run_id) if s.ndim > 1 else \
        np.bincount(run_id, minlength=n)
    best_run = np.argmax(flat_counts, axis=-1)
    first_pos = np.argmax(run_id == best_run[..., None], axis=-1)
    vals = np.take_along_axis(s, first_pos[..., None], -1)[..., 0]
    last_idx = n - 1 - np.argmax((xm == vals[..., None])[..., ::-1], axis=-1)
    vals_t = Tensor._make(np.ascontiguousarray(vals))
    idx_t = Tensor._make(np.ascontiguousarray(last_idx.astype(np.int64)))
    if keepdim:
        vals_t, idx_t = vals_t.unsqueeze(d), idx_t.unsqueeze(d)
    return return_types.mode(vals_t, idx_t)


__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax",
           "argmin", "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "cumsum", "cumprod", "cummax",
           "cummin", "logcumsumexp", "all", "any", "count_nonzero", "sort", "argsort", "msort", "topk",
           "kthvalue", "median", "nanmedian", "mode"]
