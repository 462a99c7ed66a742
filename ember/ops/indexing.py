"""Indexing: __getitem__/__setitem__, gather/scatter, index_select/index_add/index_fill, masks, nonzero."""
import numpy as np

from .._tensor import Tensor
from .. import _dtype
from ..autograd.function import Function
from ._util import wrap_dim, sum_to, as_tensor_arg


# ---- accumulation kernels (duplicates add up; no np.add.at) ---------------------------------------------------
def add_rows(out, idx, rows):
    """out[idx[i]] += rows[i] along axis 0, summing duplicate indices (sort + reduceat)."""
    idx = idx.reshape(-1)
    if idx.size == 0:
        return out
    rows = rows.reshape((idx.size,) + out.shape[1:])
    uniq, first = np.unique(idx, return_index=True)
    if uniq.size == idx.size:
        out[idx] += rows
        return out
    order = np.argsort(idx, kind="stable")
    sidx = idx[order]
    starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
    out[sidx[starts]] += np.add.reduceat(rows[order], starts, axis=0)
    return out


def _linear_index(idx, dim, shape):
    """Flat indices into an array of `shape` for placing idx-shaped values along `dim`."""
    coords = list(np.indices(idx.shape, sparse=True))
    coords[dim] = idx
    return np.ravel_multi_index(tuple(coords), shape, mode="raise")


def scatter_add_array(shape, dim, idx, src, dtype):
    """zeros(shape) with src added at idx along dim (torch.scatter_add semantics)."""
    out = np.zeros(int(np.prod(shape)), dtype)
    if idx.size:
        lin = _linear_index(idx, dim, shape).reshape(-1)
        add_rows(out, lin, np.ascontiguousarray(src[tuple(slice(0, s) for s in idx.shape)]).reshape(-1))
    return out.reshape(shape)


def _check_index_range(idx, size, dim):
    if idx.size and (idx.max() >= size or idx.min() < -size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


# ---- __getitem__ / __setitem__ -------------------------------------------------------------------------------
def _convert_key(key):
    """Turn a PyTorch index into a NumPy one (Tensors to arrays, with PyTorch's dtype rules)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    advanced = False
    for k in key:
        if isinstance(k, Tensor):
            d = k._data
            if d.dtype.kind == "f" or d.dtype.kind == "c":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if d.dtype == np.uint8:
                d = d.astype(bool)
            out.append(d)
            advanced = True
        elif isinstance(k, (list, np.ndarray)):
            a = np.asarray([x._data if isinstance(x, Tensor) else x for x in k] if isinstance(k, list) else k)
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            advanced = True
        elif isinstance(k, (bool, np.bool_)):
            out.append(bool(k))
            advanced = True
        elif isinstance(k, slice):
            out.append(slice(_int_or_none(k.start), _int_or_none(k.stop), _int_or_none(k.step)))
            if k.step is not None and int(k.step) <= 0:
                raise ValueError("step must be greater than zero")
        elif k is None or k is Ellipsis:
            out.append(k)
        else:
            out.append(int(k.__index__()) if hasattr(k, "__index__") else k)
    return tuple(out), advanced


def _int_or_none(v):
    return None if v is None else int(v)


class GetItem(Function):
    _raw = True
    _node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, key, advanced):
        ctx.args = (x.shape, key, advanced)
        try:
            return x[key]
        except IndexError as e:
            raise IndexError(str(e).replace("axis", "dimension")) from None

    @staticmethod
    def backward(ctx, g):
        shape, key, advanced = ctx.args
        return IndexPutZeros.apply(g, shape, key, advanced), None, None


class IndexPutZeros(Function):
    """zeros(shape) with g accumulated at key: the backward of indexing."""

    _raw = True
    _node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, shape, key, advanced):
        ctx.args = (key, advanced)
        out = np.zeros(shape, g.dtype)
        if not advanced:
            out[key] = g
        else:
            _accumulate_at(out, key, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        key, advanced = ctx.args
        return GetItem.apply(gg, key, advanced), None, None, None


def _accumulate_at(out, key, g):
    """out[key] += g where an advanced key may repeat positions."""
    flat_ids = np.arange(out.size).reshape(out.shape)[key]
    add_rows(out.reshape(-1), flat_ids.reshape(-1), np.broadcast_to(g, flat_ids.shape).reshape(-1)) \
        if out.flags.c_contiguous else np.add.at(out, key, g)


def getitem(self, key):
    k, advanced = _convert_key(key)
    out = GetItem.apply(self, k, advanced)
    if not advanced:
        self._make_view(out, lambda b: b[key])
    return out


class IndexPut(Function):
    _raw = True
    _node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, value, key, advanced, accumulate):
        out = x.copy()
        v = value.astype(x.dtype, copy=False) if isinstance(value, np.ndarray) else value
        ctx.args = (key, advanced, np.shape(value), accumulate)
        if accumulate:
            _accumulate_at(out, key, v)
        else:
            out[key] = v
        return out

    @staticmethod
    def backward(ctx, g):
        key, advanced, vshape, accumulate = ctx.args
        gx = gv = None
        if ctx.needs_input_grad[0]:
            if accumulate:
                gx = g
            else:
                mask = np.ones(g._data.shape, g._data.dtype)
                mask[key] = 0
                gx = g * Tensor._make(mask)
        if ctx.needs_input_grad[1]:
            gv = sum_to(GetItem.apply(g, key, advanced), vshape)
        return gx, gv, None, None, None


def _value_operand(self, value):
    value = as_tensor_arg(value)
    if isinstance(value, Tensor) and value._data.dtype != self._data.dtype:
        value = value.to(self.dtype)
    return value


def setitem(self, key, value):
    k, advanced = _convert_key(key)
    value = _value_operand(self, value)
    self._inplace(lambda old, v: IndexPut.apply(old, v, k, advanced, False), value)


def index_put(input, indices, values, accumulate=False):
    k, advanced = _convert_key(tuple(indices))
    return IndexPut.apply(input, _value_operand(input, values), k, True, accumulate)


def index_put_(input, indices, values, accumulate=False):
    k, advanced = _convert_key(tuple(indices))
    values = _value_operand(input, values)
    return input._inplace(lambda old, v: IndexPut.apply(old, v, k, True, accumulate), values)


# ---- gather / scatter ---------------------------------------------------------------------------------------------
def _check_gather_args(input, dim, index, name):
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index._data.ndim != input._data.ndim and not (index._data.ndim <= 1 and input._data.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    d = wrap_dim(dim, input._data.ndim)
    return d


class Gather(Function):
    _raw = True
    _node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx):
        ctx.args = (x.shape, dim)
        ctx.idx = idx
        if x.ndim == 0:
            return x.reshape(idx.shape).copy()
        _check_index_range(idx, x.shape[dim], dim)
        coords = list(np.indices(idx.shape, sparse=True))
        coords[dim] = idx
        return x[tuple(coords)]

    @staticmethod
    def backward(ctx, g):
        shape, dim = ctx.args
        return ScatterAdd.apply(g, Tensor._make(ctx.idx), shape, dim), None, None


class ScatterAdd(Function):
    """zeros(shape) with src added at index along dim; backward is gather."""

    _raw = True
    _node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, src, idx, shape, dim):
        ctx.args = (dim,)
        ctx.idx = idx
        if len(shape) == 0:
            return src.reshape(()).copy()
        return scatter_add_array(shape, dim, idx, src, src.dtype)

    @staticmethod
    def backward(ctx, g):
        (dim,) = ctx.args
        return gather(g, dim, Tensor._make(ctx.idx)), None, None, None


def scatter_grad_along(g, idx, shape, dim):
    return ScatterAdd.apply(g, idx, tuple(shape), dim)


def gather(input, dim, index, *, sparse_grad=False):
    d = _check_gather_args(input, dim, index, "gather")
    return Gather.apply(input, d, index)


class Scatter(Function):
    _raw = True
    _node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, src, dim, idx, reduce):
        out = x.copy()
        if idx.size:
            _check_index_range(idx, x.shape[dim], dim)
            coords = list(np.indices(idx.shape, sparse=True))
            coords[dim] = idx
            coords = tuple(coords)
            vals = src[tuple(slice(0, s) for s in idx.shape)] if isinstance(src, np.ndarray) and src.ndim else src
            if reduce is None:
                out[coords] = vals
            elif reduce == "add":
                lin = _linear_index(idx, dim, x.shape).reshape(-1)
                add_rows(out.reshape(-1), lin, np.broadcast_to(vals, idx.shape).reshape(-1))
            elif reduce == "multiply":
                np.multiply.at(out, coords, vals)
            else:
                raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        ctx.args = (dim, reduce)
        ctx.idx = idx
        return out

    @staticmethod
    def backward(ctx, g):
        dim, reduce = ctx.args
        idx = Tensor._make(ctx.idx)
        gx = gs = None
        if reduce is None:
            if ctx.needs_input_grad[0]:
                mask = np.ones(g._data.shape, g._data.dtype)
                if ctx.idx.size:
                    coords = list(np.indices(ctx.idx.shape, sparse=True))
                    coords[dim] = ctx.idx
                    mask[tuple(coords)] = 0
                gx = g * Tensor._make(mask)
            if ctx.needs_input_grad[1]:
                gs = gather(g, dim, idx)
        elif reduce == "add":
            gx = g
            gs = gather(g, dim, idx) if ctx.needs_input_grad[1] else None
        else:
            raise NotImplementedError("ember does not differentiate scatter with reduce='multiply'")
        if gs is not None and ctx.src_shape is not None and gs.shape != ctx.src_shape:
            gs = _pad_to(gs, ctx.src_shape)
        return gx, gs, None, None, None


def _pad_to(g, shape):
    out = np.zeros(shape, g._data.dtype)
    out[tuple(slice(0, s) for s in g._data.shape)] = g._data
    return Tensor._make(out)


def _scatter(input, dim, index, src, value, reduce):
    d = _check_gather_args(input, dim, index, "scatter")
    if src is None:
        src = value
    src = as_tensor_arg(src)
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
    out = Scatter.apply(input, src, d, index, reduce)
    if out._grad_fn is not None:
        out._grad_fn.src_shape = tuple(src.shape) if isinstance(src, Tensor) else None
    return out


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    return _scatter(input, dim, index, src, value, reduce)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    return input._inplace(lambda old: _scatter(old, dim, index, src, value, reduce))


def scatter_add(input, dim, index, src):
    return _scatter(input, dim, index, src, None, "add")


def scatter_add_(input, dim, index, src):
    return input._inplace(lambda old: _scatter(old, dim, index, src, None, "add"))


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    d = _check_gather_args(input, dim, index, "scatter_reduce")
    x = input._data
    idx = index._data
    s = src._data[tuple(slice(0, n) for n in idx.shape)]
    coords = list(np.indices(idx.shape, sparse=True))
    coords[d] = idx
    coords = tuple(coords)
    if reduce in ("sum", "mean"):
        out = x.copy() if include_self else x.copy()
        if not include_self:
            out[coords] = 0
        lin = _linear_index(idx, d, x.shape).reshape(-1)
        add_rows(out.reshape(-1), lin, s.reshape(-1))
        if reduce == "mean":
            cnt = np.full(x.shape, 1 if include_self else 0, np.int64)
            add_rows(cnt.reshape(-1), lin, np.ones(lin.size, np.int64))
            out = out / np.maximum(cnt, 1)
            out = out.astype(x.dtype) if x.dtype.kind == "f" else np.floor(out).astype(x.dtype)
    else:
        ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}.get(reduce)
        if ufunc is None:
            raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
        out = x.copy()
        if not include_self:
            init = {"prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
            out[coords] = init if x.dtype.kind == "f" else np.iinfo(x.dtype).min if reduce == "amax" else \
                np.iinfo(x.dtype).max if reduce == "amin" else 1
        ufunc.at(out, coords, s)
    if input._rg or src._rg:
        raise NotImplementedError("ember does not differentiate scatter_reduce")
    return Tensor._make(out)


# ---- index_select / index_add / index_fill / index_copy --------------------------------------------------------------
def _check_index_vector(index, name):
    if index._data.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise IndexError(f"{name}(): Expected dtype int32/int64 for index")
    return index._data.reshape(-1).astype(np.int64, copy=False)


class IndexSelect(Function):
    _raw = True
    _node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx):
        ctx.args = (x.shape, dim)
        ctx.idx = idx
        if x.ndim == 0:
            return x.reshape(1)[idx].reshape(idx.shape if idx.ndim else ())
        _check_index_range(idx, x.shape[dim], dim)
        return np.take(x, idx, axis=dim)

    @staticmethod
    def backward(ctx, g):
        shape, dim = ctx.args
        return IndexAddZeros.apply(g, shape, dim, ctx.idx), None, None


class IndexAddZeros(Function):
    """zeros(shape) with g's slices added at idx along dim: the backward of index_select."""

    _raw = True
    _node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, g, shape, dim, idx):
        ctx.args = (dim,)
        ctx.idx = idx
        out = np.zeros(shape, g.dtype)
        if len(shape) == 0:
            return g.reshape(()).copy()
        add_rows(np.moveaxis(out, dim, 0), idx, np.moveaxis(g, dim, 0))
        return out

    @staticmethod
    def backward(ctx, gg):
        (dim,) = ctx.args
        return IndexSelect.apply(gg, dim, ctx.idx), None, None, None


def index_select(input, dim, index):
    idx = _check_index_vector(index, "index_select")
    d = wrap_dim(dim, input._data.ndim)
    return IndexSelect.apply(input, d, idx)


class IndexAdd(Function):
    _raw = True
    _node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, src, alpha):
        out = x.copy()
        ctx.args = (dim, alpha)
        ctx.idx = idx
        s = src * alpha if alpha != 1 else src
        add_rows(np.moveaxis(out, dim, 0), idx, np.moveaxis(s.astype(x.dtype, copy=False), dim, 0))
        return out

    @staticmethod
    def backward(ctx, g):
        dim, alpha = ctx.args
        gs = IndexSelect.apply(g, dim, ctx.idx) if ctx.needs_input_grad[3] else None
        if gs is not None and alpha != 1:
            gs = gs * alpha
        return g, None, None, gs, None


def index_add(input, dim, index, source, *, alpha=1):
    idx = _check_index_vector(index, "index_add")
    d = wrap_dim(dim, input._data.ndim)
    return IndexAdd.apply(input, d, idx, source, alpha)


def index_add_(input, dim, index, source, *, alpha=1):
    return input._inplace(lambda old: index_add(old, dim, index, source, alpha=alpha))


class IndexFill(Function):
    _raw = True
    _node_name = "IndexFillBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, value, copy_src):
        out = x.copy()
        key = (slice(None),) * dim + (idx,)
        ctx.args = (dim, copy_src)
        ctx.idx = idx
        out[key] = value if not copy_src else np.moveaxis(np.moveaxis(value, dim, 0), 0, dim)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, copy_src = ctx.args
        key = (slice(None),) * dim + (ctx.idx,)
        mask = np.ones(g._data.shape, g._data.dtype)
        mask[key] = 0
        gv = None
        if ctx.needs_input_grad[3]:
            sel = IndexSelect.apply(g, dim, ctx.idx)
            gv = sel if copy_src else sel.sum()
        return g * Tensor._make(mask), None, None, gv, None


def index_fill(input, dim, index, value):
    idx = _check_index_vector(index, "index_fill")
    d = wrap_dim(dim, input._data.ndim)
    value = as_tensor_arg(value)
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    return IndexFill.apply(input, d, idx, value, False)


def index_fill_(input, dim, index, value):
    return input._inplace(lambda old: index_fill(old, dim, index, value))


def index_copy(input, dim, index, source):
    idx = _check_index_vector(index, "index_copy")
    d = wrap_dim(dim, input._data.ndim)
    return IndexFill.apply(input, d, idx, source, True)


def index_copy_(input, dim, index, source):
    return input._inplace(lambda old: index_copy(old, dim, index, source))


# ---- masks ---------------------------------------------------------------------------------------------------------------
def _mask_array(mask, name):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        if m.dtype == np.uint8:
            return m.astype(bool)
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{_dtype.from_numpy_dtype(m.dtype).name}")
    return m


def masked_fill(input, mask, value):
    from .elementwise import where
    m = _mask_array(mask, "masked_fill_")
    value = as_tensor_arg(value)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        value = value.to(input.dtype)
    elif input._data.dtype.kind in "iub" and isinstance(value, float):
        value = Tensor._make(np.asarray(value).astype(input._data.dtype))
    else:
        value = Tensor._make(np.asarray(value, dtype=input._data.dtype))
    try:
        np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({input._data.shape[-1] if input._data.ndim else 1}) must match the "
                           f"size of tensor b ({m.shape[-1] if m.ndim else 1}) at non-singleton dimension "
                           f"{input._data.ndim - 1}") from None
    out = where(Tensor._make(m), value, input)
    if out._data.shape != input._data.shape:
        raise RuntimeError("masked_fill: mask shape must broadcast to the input's shape")
    return out


def masked_fill_(input, mask, value):
    return input._inplace(lambda old: masked_fill(old, mask, value))


def masked_select(input, mask):
    m = _mask_array(mask, "masked_select")
    shape = np.broadcast_shapes(m.shape, input._data.shape)
    x = input.expand(shape) if input._data.shape != shape else input
    return getitem(x, Tensor._make(np.broadcast_to(m, shape)))


def masked_scatter(input, mask, source):
    m = np.broadcast_to(_mask_array(mask, "masked_scatter"), input._data.shape)
    n = int(m.sum())
    src = source.reshape(-1)[:n]
    k, _ = _convert_key((Tensor._make(m),))
    return IndexPut.apply(input, src, k, True, False)


def masked_scatter_(input, mask, source):
    return input._inplace(lambda old: masked_scatter(old, mask, source))


def nonzero(input, *, as_tuple=False):
    nz = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in nz)
    return Tensor._make(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


def argwhere(input):
    return nonzero(input)


def take(input, index):
    flat = input.reshape(-1)
    idx = index._data
    n = flat._data.shape[0]
    _check_index_range(idx, n, 0)
    return getitem(flat, Tensor._make(np.where(idx < 0, idx + n, idx)))


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices.reshape(-1))
    d = wrap_dim(dim, input._data.ndim)
    shape = list(np.broadcast_shapes(tuple(s if i != d else 1 for i, s in enumerate(input._data.shape)),
                                     tuple(s if i != d else 1 for i, s in enumerate(indices._data.shape))))
    ishape = list(shape)
    ishape[d] = input._data.shape[d]
    jshape = list(shape)
    jshape[d] = indices._data.shape[d]
    return gather(input.expand(ishape), d, indices.expand(jshape).contiguous())


def put(input, index, source, accumulate=False):
    flat_key = np.unravel_index(np.where(index._data < 0, index._data + input.numel(), index._data).reshape(-1),
                                input._data.shape)
    return IndexPut.apply(input, source.reshape(-1), flat_key, True, accumulate)


def put_(input, index, source, accumulate=False):
    return input._inplace(lambda old: put(old, index, source, accumulate))


__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_fill",
           "index_copy", "index_put", "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere", "take",
           "take_along_dim", "put"]
