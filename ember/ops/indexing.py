"""Indexing: __getitem__/__setitem__, gather/scatter, index_select/index_add/index_fill, masks, nonzero."""
import functools
import math
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, record_result, run, run_on, overload, as_node
from ..autograd.grad_mode import STATE
from ._util import wrap_dim, sum_to, as_tensor_arg, check_out_overlap, check_out_dtype

_new = object.__new__

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
               "complex128": "ComplexDouble"}
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long", "int32": "int",
              "int16": "short", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _tname(a):
    """PyTorch's scalar-type name of an array's dtype ('Float', 'Long', ...), as used in its messages."""
    return _TYPE_NAMES.get(a.dtype.name, a.dtype.name)


# ---- accumulation kernels (duplicates add up in index order, as PyTorch's sequential CPU loops) -------------------
# np.ufunc.at has a fast indexed loop for 1-D arrays with one integer index (NumPy >= 1.25): sequential, so float32
# sums of repeated indices round exactly as PyTorch's scatter_add/index_put loops do.
# Index offsets of up to this many positions are cached by shape (shapes repeat from step to step).
_OFFSETS_CACHED = 16384


def _offsets(ishape, dim, shape):
    """(base, step): the flat offset, in a C-contiguous array of `shape`, of every position of an index of shape
    `ishape` with its entry along dim taken as 0 (None when all are 0), and the flat step of one along dim."""
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    strides.reverse()
    base = None
    for i, n in enumerate(ishape):
        if i != dim and n > 1:
            r = np.arange(0, n * strides[i], strides[i]).reshape([n if j == i else 1 for j in range(len(ishape))])
            base = r if base is None else base + r
    if base is not None:
        base.setflags(write=False)
    return base, strides[dim] if ishape else 1


_cached_offsets = functools.lru_cache(maxsize=64)(_offsets)


def _linear_index(idx, dim, shape):
    """Flat positions, in a C-contiguous array of `shape`, of the elements that idx addresses along dim (the
    positions of gather/scatter); idx holds in-range, non-negative indices."""
    ishape = idx.shape
    small = idx.size <= _OFFSETS_CACHED * (ishape[dim] if ishape else 1)
    base, step = (_cached_offsets if small else _offsets)(ishape, dim, tuple(shape))
    if base is None:
        return np.multiply(idx, step, dtype=np.int64)
    if step == 1:
        return np.add(idx, base) if idx.dtype == np.int64 else np.add(idx, base, dtype=np.int64)
    lin = np.multiply(idx, step, dtype=np.int64)
    lin += base
    return lin


_ADD_AT_MAX = 4096  # up to this many elements, np.add.at (its per-call cost is lower; its per-element one higher)
_RANKS_MAX = 64  # add_rows adds the first this many occurrences of every index rank by rank, any later ones per index


def add_rows(out, idx, rows, zero=False):
    """out[idx[i]] += rows[i] for a 2-D out, repeated indices added in position order (as PyTorch's sequential CPU
    loops add them, so float sums round alike). zero: out holds zeros, so its rows are not read (reading a fresh
    table's pages costs as much as writing them), and when few indices repeat all rows are assigned at once (the
    repeated ones are rewritten after). Indices that occur once are added directly, the others by _add_repeated."""
    if not len(idx):
        return
    if rows.size <= _ADD_AT_MAX:
        np.add.at(out, idx, rows)
        return
    repeated = _repeated(idx, out.shape[0])
    positions = np.flatnonzero(repeated)
    if len(positions) < len(idx):
        once = slice(None) if zero and 2 * len(positions) < len(idx) else ~repeated  # zero: repeats are rewritten
        if zero:
            out[idx[once]] = np.add(rows[once], rows.dtype.type(0))  # 0 + row, as torch adds into zeros (-0 -> +0)
        else:
            out[idx[once]] += rows[once]
    if len(positions):
        _add_repeated(out, idx, rows, positions[stable_order(idx[positions], out.shape[0])], zero)


def stable_order(idx, nrows):
    """A stable argsort of non-negative indices below nrows, by 16-bit radix passes (NumPy's stable sort of 16-bit
    keys is a radix sort, several times faster than sorting int64)."""
    if nrows <= 1 << 16:
        return np.argsort(idx.astype(np.uint16), kind="stable")
    if nrows > 1 << 32:
        return np.argsort(idx, kind="stable")
    low = np.argsort((idx & 0xFFFF).astype(np.uint16), kind="stable")
    return low[np.argsort((idx[low] >> 16).astype(np.uint16), kind="stable")]


def _repeated(idx, n_rows):
    """Whether each position's index occurs more than once (by counting, unless the table dwarfs idx)."""
    if n_rows <= 64 * len(idx):
        return np.bincount(idx)[idx] > 1
    _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
    return counts[inverse] > 1


def _add_repeated(out, idx, rows, order, zero):
    """add_rows for the positions `order` (sorted by index, each index occurring more than once): the groups of one
    index, most occurrences first, are summed rank by rank, the k-th occurrences of all indices that have one being
    one contiguous block (one add per rank); the occurrences past _RANKS_MAX of the few indices with more, by a running
    sum per index."""
    sidx = idx[order]
    first = np.empty(len(sidx), bool)
    first[0] = True
    np.not_equal(sidx[1:], sidx[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=len(sidx))
    by_count = stable_order(counts.max() - counts, len(sidx))  # most occurrences first
    ranks = min(int(counts[by_count[0]]), _RANKS_MAX)
    having = np.cumsum(np.bincount(np.minimum(counts, ranks), minlength=ranks + 1)[:0:-1])[::-1]  # groups per rank
    firsts = np.cumsum(having) - having
    slot = np.empty(len(counts), np.int64)
    slot[by_count] = np.arange(len(counts))
    rank = np.arange(len(sidx)) - np.repeat(starts, counts)
    dest = firsts[np.minimum(rank, ranks - 1)] + np.repeat(slot, counts)
    pos = np.empty(int(having.sum()), np.int64)
    if ranks == counts[by_count[0]]:
        pos[dest] = order
    else:
        kept = rank < ranks
        pos[dest[kept]] = order[kept]
    blocks = np.take(rows, pos, axis=0)
    targets = sidx[starts[by_count]]
    acc = np.zeros((len(targets), out.shape[1]), out.dtype) if zero else out[targets]
    for begin, n in zip(firsts.tolist(), having.tolist()):
        acc[:n] += blocks[begin:begin + n]
    for g in range(int(np.count_nonzero(counts > ranks))):
        i = by_count[g]
        rest = order[starts[i] + ranks:starts[i] + counts[i]]
        acc[g] = np.cumsum(np.concatenate([acc[g:g + 1], rows[rest]]), axis=0)[-1]  # a running sum adds in order
    out[targets] = acc


def index_add_into(out, dim, idx, src):
    """out.index_add_(dim, idx, src) on a C-contiguous `out` (idx non-negative and in range); src has out's shape
    with idx.size along dim."""
    if idx.size == 0:
        return out
    shape = out.shape
    pre, n, post = math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])
    if pre == 1 and post >= 16:
        add_rows(out.reshape(n, post), idx, src.reshape(idx.size, post))
    elif pre == 1 and post == 1:
        np.add.at(out.reshape(-1), idx, src.reshape(-1))
    else:
        lin = np.arange(0, pre * n * post, n * post)[:, None, None] + np.multiply(idx, post)[None, :, None]
        np.add.at(out.reshape(-1), (lin + np.arange(post)).reshape(-1), src.reshape(-1))
    return out


def _fit(src, shape):
    """src cut to `shape` (scatter and gather-backward use only the leading part of a larger src)."""
    return src if src.shape == tuple(shape) else src[tuple(slice(0, s) for s in shape)]


def _first_bad(idx, size, allow_negative):
    """The first index outside [0, size) (or [-size, size) when negatives wrap), or None."""
    if idx.size == 0:
        return None
    bad = (idx >= size) | (idx < (-size if allow_negative else 0))
    return int(idx.reshape(-1)[np.argmax(bad.reshape(-1))]) if bad.any() else None


_UNSIGNED = {np.dtype(np.int64): np.uint64, np.dtype(np.int32): np.uint32}


def _in_range(idx, size, allow_negative=False):
    """Every index is in [0, size) (or [-size, size)): one unsigned max for the usual int64/int32 index."""
    if not idx.size:
        return True
    unsigned = None if allow_negative else _UNSIGNED.get(idx.dtype)
    if unsigned is not None:
        return idx.view(unsigned).max() < size
    return idx.min() >= (-size if allow_negative else 0) and idx.max() < size


def _check_range(idx, size, dim, allow_negative=False, exc=RuntimeError, prefix=""):
    if not _in_range(idx, size, allow_negative):
        raise exc(f"{prefix}index {_first_bad(idx, size, allow_negative)} is out of bounds for dimension {dim} with "
                  f"size {size}")


def _wrap_negative(idx, size):
    """idx with negative entries wrapped by size (no copy when there are none)."""
    return np.where(idx < 0, idx + size, idx) if idx.size and idx.min() < 0 else idx


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
            if d.dtype.kind in "fc":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if d.ndim == 0 and d.dtype.kind in "iu" and d.dtype != np.uint8:
                out.append(int(d))  # PyTorch selects with a 0-d integer tensor, as with an int
                continue
            if d.dtype == np.uint8:
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                              "instead.", UserWarning, stacklevel=3)
                d = d.astype(bool)
            out.append(d)
            advanced = True
        elif isinstance(k, (list, np.ndarray)):
            a = np.asarray([x._data if isinstance(x, Tensor) else x for x in k] if isinstance(k, list) else k)
            if a.dtype.kind in "fc" or a.dtype == object:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a.astype(np.int64) if a.dtype.kind in "iu" else a)
            advanced = True
        elif isinstance(k, (bool, np.bool_)):
            out.append(bool(k))
            advanced = True
        elif isinstance(k, slice):
            step = _int_or_none(k.step)
            if step is not None and step <= 0:
                raise ValueError("slice step cannot be zero" if step == 0 else "step must be greater than zero")
            out.append(slice(_int_or_none(k.start), _int_or_none(k.stop), step))
        elif k is None or k is Ellipsis:
            out.append(k)
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             "valid indices (got " + type(k).__name__ + ")")
    return tuple(out), advanced


def _int_or_none(v):
    return None if v is None else int(v)


def _key_error(shape, key):
    """PyTorch's error for an invalid key into an array of `shape`, or None when the key is valid."""
    nd = len(shape)
    if sum(k is Ellipsis for k in key) > 1:
        return IndexError("an index can only have a single ellipsis ('...')")
    used = sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else
               0 if k is None or k is Ellipsis or isinstance(k, bool) else 1 for k in key)
    if used > nd:
        if nd == 0:
            return IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                              "in C++ to convert a 0-dim tensor to a number")
        return IndexError(f"too many indices for tensor of dimension {nd}")
    dim, shapes = 0, []
    for k in key:
        if k is Ellipsis:
            dim += nd - used
        elif isinstance(k, np.ndarray) and k.dtype == np.bool_:
            for j, (a, b) in enumerate(zip(k.shape, shape[dim:])):
                if a != b:
                    return IndexError(f"The shape of the mask {list(k.shape)} at index {j} does not match the shape "
                                      f"of the indexed tensor {list(shape)} at index {dim + j}")
            shapes.append((int(k.sum()),))
            dim += k.ndim
        elif isinstance(k, (np.ndarray, int)) and not isinstance(k, bool):
            k = np.asarray(k)
            if not _in_range(k, shape[dim], True):
                return IndexError(f"index {_first_bad(k, shape[dim], True)} is out of bounds for dimension {dim} with "
                                  f"size {shape[dim]}")
            if isinstance(k, np.ndarray):
                shapes.append(k.shape)
            dim += 1
        elif isinstance(k, slice):
            dim += 1
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                          + ", ".join(str(list(s)) for s in shapes))
    return None


def _index(x, key):
    """x[key] with PyTorch's errors; a key of integers only gives a 0-d view, as in PyTorch, not a scalar copy."""
    try:
        out = x[key]
        if not isinstance(out, np.ndarray):
            out = x[key + (Ellipsis,)]
        return out
    except (IndexError, ValueError) as e:
        err = _key_error(x.shape, key)
        raise (err or IndexError(str(e))) from None


class GetItem(Function):
    _raw = True
    _node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, key, advanced):
        ctx.args = (x.shape, key, advanced)
        out = _index(x, key)
        if not advanced and any(k is None for k in key):
            out = x[tuple(k for k in key if k is not None)].reshape(out.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        shape, key, advanced = ctx.args
        if not STATE.enabled:
            return Tensor._make(_zeros_put(g._data, shape, key, advanced)), None, None
        return IndexPutZeros.apply(g, shape, key, advanced), None, None


def _view_node(name):
    return type(name, (GetItem,), {"_node_name": name, "__module__": __name__, "__qualname__": name})


# Basic indexing records the node PyTorch's indexing records last: a select, a slice, an unsqueeze for None, or an
# alias when every index is a no-op (PyTorch chains one node per index; ember records the chain as one node).
_BASIC_NODES = {name: _view_node(name) for name in
                ("SelectBackward0", "SliceBackward0", "UnsqueezeBackward0", "AliasBackward0")}


SLICE, SELECT = _BASIC_NODES["SliceBackward0"], _BASIC_NODES["SelectBackward0"]


def _basic_node(shape, key, bare):
    """The node class for basic key (ints, slices, None, Ellipsis) on an array of `shape`, named as PyTorch's: a
    slice that keeps a whole dim counts only when it is the whole (bare, not tuple) key."""
    if bare:
        return SLICE if type(key[0]) is slice else SELECT if type(key[0]) is int else _basic_node(shape, key, False)
    name = "AliasBackward0"
    dim = 0
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - sum(1 for j in key if j is not None and j is not Ellipsis)
        elif k is None:
            name = "UnsqueezeBackward0"
        elif type(k) is slice:
            if dim < len(shape) and not _whole_slice(k, shape[dim]):
                name = "SliceBackward0"
            dim += 1
        else:
            name = "SelectBackward0"
            dim += 1
    return _BASIC_NODES[name]


def _whole_slice(k, n):
    """Whether PyTorch skips slice k of a dim of size n in a tuple key: start 0 (as written), stop >= n, step 1."""
    return (k.start is None or k.start == 0) and (k.stop is None or k.stop >= n) and k.step in (None, 1)


def basic_index(x, key, node):
    """x[key] for a converted basic key, recorded as `node` (a GetItem class), as a view of x."""
    return x._make_view(node.apply(x, key, False), lambda b: b[key])


class IndexPutZeros(Function):
    """zeros(shape) with g accumulated at key: the backward of indexing."""

    _raw = True
    _node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, shape, key, advanced):
        ctx.args = (key, advanced)
        return _zeros_put(g, shape, key, advanced)

    @staticmethod
    def backward(ctx, gg):
        key, advanced = ctx.args
        return GetItem.apply(gg, key, advanced), None, None, None


def _zeros_put(g, shape, key, advanced):
    """Zeros of `shape` with array g written (summed, for an advanced key) at key."""
    out = np.zeros(shape, g.dtype)
    if not advanced:
        out[key] = g
    else:
        _accumulate_at(out, key, g)
    return out


def _accumulate_at(out, key, g):
    """out[key] += g where an advanced key may repeat positions (out is C-contiguous)."""
    if not any(isinstance(k, np.ndarray) and k.dtype.kind in "iu" for k in key):
        out[key] += g                       # slices, ints and masks never address a position twice
        return
    first = key[0]
    if isinstance(first, np.ndarray) and first.dtype.kind in "iu" and out.ndim and \
            all(isinstance(k, slice) and k == slice(None) for k in key[1:]):
        rows = _wrap_negative(first, out.shape[0]).reshape(-1)
        vals = np.broadcast_to(g, first.shape + out.shape[1:]).reshape((rows.size,) + out.shape[1:])
        index_add_into(out, 0, rows, vals)
        return
    flat_ids = np.arange(out.size).reshape(out.shape)[key]
    np.add.at(out.reshape(-1), flat_ids.reshape(-1), np.broadcast_to(g, flat_ids.shape).reshape(-1))


def _plain_slice(k):
    """A slice of Python ints or Nones with a positive step (the slices NumPy indexes as PyTorch does)."""
    step = k.step
    return (step is None or (type(step) is int and step > 0)) and (k.start is None or type(k.start) is int) and \
        (k.stop is None or type(k.stop) is int)


_BASIC_ITEMS = {int, type(None), type(Ellipsis)}


def _basic_tuple(d, key):
    """d[key] for a tuple of ints, plain slices, None and at most one Ellipsis (a view, with PyTorch's strides for
    the new dims), or None when NumPy rejects it (the general path then raises PyTorch's error)."""
    ellipses = 0
    for k in key:
        tk = type(k)
        if tk is slice:
            if not _plain_slice(k):
                return None
        elif tk not in _BASIC_ITEMS:
            return None
        elif k is Ellipsis:
            ellipses += 1
    if ellipses > 1:
        return None
    try:
        out = d[key]
        if not isinstance(out, np.ndarray):
            return d[key + (Ellipsis,)]
        if None in key:
            return d[tuple(k for k in key if k is not None)].reshape(out.shape)
        return out
    except IndexError:
        return None


def _basic_fast(self, key):
    """self[key] for an int, a plain slice, None or a tuple of those and Ellipsis (the fast path, recording its node
    when self needs a graph), else None."""
    d = self._data
    tk = type(key)
    if tk is slice:
        if not d.ndim or not _plain_slice(key):
            return None
        out = d[key]
        node, k = SLICE, (key,)
    elif tk is int:
        if not d.ndim or not -d.shape[0] <= key < d.shape[0]:
            return None
        out = d[key, ...]
        node, k = SELECT, (key,)
    elif tk is tuple or key is None:
        k = key if tk is tuple else (None,)
        out = _basic_tuple(d, k)
        if out is None:
            return None
        node = _basic_node(d.shape, k, tk is not tuple)
    else:
        return None
    if self._rg and STATE.enabled:
        t = record_result(node, self, out, None, 3)
        t._grad_fn.args = (d.shape, k, False)
    else:
        t = _new(Tensor)
        t._data = out
    return self._make_view(t, lambda b: b[k])


def getitem(self, key):
    if STATE.fast and type(self) is Tensor:
        out = _basic_fast(self, key)
        if out is not None:
            return out
    k, advanced = _convert_key(key)
    if advanced:
        return GetItem.apply(self, k, True)
    return basic_index(self, k, _basic_node(self._data.shape, k, not isinstance(key, tuple)))


def _value_shape_error(x, key, advanced, value):
    """PyTorch's error for a value that does not broadcast to x[key]."""
    target = np.broadcast_to(np.zeros((), np.int8), x.shape)[key].shape
    vshape = np.shape(value)
    if advanced:
        return RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to indexing "
                            f"result of shape {list(target)}")
    from .shape import expand
    try:
        expand(Tensor._make(np.broadcast_to(np.zeros((), np.int8), vshape)), target)
    except RuntimeError as e:
        return e
    return RuntimeError(f"output with shape {list(target)} doesn't match the broadcast shape {list(vshape)}")


class IndexPut(Function):
    _raw = True
    _node_name = "IndexPutBackward0"

    def name(self):
        """The node's name as PyTorch's name(): its copy nodes (setitem's overloads) are C++ classes in a namespace."""
        n = self._node_name
        return "torch::autograd::" + n if n in ("CopySlices", "CopyBackwards") else n

    @staticmethod
    def forward(ctx, x, value, key, advanced, accumulate):
        out = x.copy()
        v = value.astype(x.dtype, copy=False) if isinstance(value, np.ndarray) else value
        ctx.args = (key, advanced, np.shape(value), accumulate)
        err = _key_error(x.shape, key) if advanced else None
        if err is not None:
            raise err
        try:
            if accumulate:
                _accumulate_at(out, key, v)
            else:
                out[key] = v
        except (IndexError, ValueError):
            raise (_key_error(x.shape, key) or _value_shape_error(x, key, advanced, v)) from None
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
            gv = GetItem.apply(g, key, advanced)
            if gv._data.ndim < len(vshape):
                gv = gv.reshape((1,) * (len(vshape) - gv._data.ndim) + tuple(gv._data.shape))
            gv = sum_to(gv, vshape)
        return gx, gv, None, None, None


def _value_operand(self, value):
    """setitem's value: a Python scalar, or a Tensor cast to self's dtype (PyTorch casts on assignment)."""
    value = as_tensor_arg(value)
    if isinstance(value, Tensor) and value._data.dtype != self._data.dtype:
        value = value.to(self.dtype)
    return value


# self[key] = value recorded as PyTorch records it: through a view of self (the key has an int, None, a bool or a slice
# PyTorch does not skip), or as a copy or (from a number or 0-d tensor) a fill of all of self.
_CopySlices = overload(IndexPut, "CopySlices")
_CopyWhole = overload(IndexPut, "CopyBackwards")
_FillWhole = overload(IndexPut, "FillBackward3")


def _setitem_node(shape, key, vshape):
    """The IndexPut class recording self[key] = value as PyTorch's node: CopySlices when the key goes through a view of
    self, IndexPut for tensor indices alone, else a copy (or, from a 0-d value, a fill) of all of self."""
    used = sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else
               0 if k is None or k is Ellipsis or isinstance(k, bool) else 1 for k in key)
    dim, view, index = 0, False, False
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - used
        elif k is None or isinstance(k, bool):
            view, index = True, index or k is not None
        elif type(k) is slice:
            view = view or dim >= len(shape) or not _whole_slice(k, shape[dim])
            dim += 1
        elif isinstance(k, np.ndarray):
            view, index = view or (k.ndim == 0 and k.dtype == np.bool_), True
            dim += k.ndim if k.dtype == np.bool_ else 1
        else:
            view = True
            dim += 1
    if view:
        return _CopySlices
    if index:
        return IndexPut
    return _FillWhole if vshape == () and shape != () else _CopyWhole


def setitem(self, key, value):
    if key is False:
        return  # PyTorch writes nothing
    k, advanced = _convert_key(key)
    value = _value_operand(self, value)
    cls = IndexPut
    if STATE.enabled and (self._rg or self._base is not None or isinstance(value, Tensor) and value._rg):  # a graph
        cls = _setitem_node(self._data.shape, k, value._data.shape if isinstance(value, Tensor) else ())
    self._inplace(lambda old, v: cls.apply(old, v, k, advanced, False), value)


def _index_put_args(input, indices, values):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    k, _ = _convert_key(tuple(indices))
    values = as_tensor_arg(values)
    if isinstance(values, Tensor) and values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_tname(input._data)} for the destination and {_tname(values._data)} for the source.")
    return k, values


def index_put(input, indices, values, accumulate=False):
    k, values = _index_put_args(input, indices, values)
    return IndexPut.apply(input, values, k, True, accumulate)


def index_put_(input, indices, values, accumulate=False):
    k, values = _index_put_args(input, indices, values)
    return input._inplace(lambda old, v: IndexPut.apply(old, v, k, True, accumulate), values)


# ---- gather / scatter ---------------------------------------------------------------------------------------------
def _check_index_dtype(index, name):
    if index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


def _check_gather(input, dim, index):
    """Validate gather's arguments (dtype, rank, sizes) and return the wrapped dim; an empty index, of any dtype
    and shape, is not checked (as in PyTorch)."""
    x, idx = input._data, index._data
    if not idx.size:
        return wrap_dim(dim, x.ndim)
    _check_index_dtype(index, "gather")
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    d = wrap_dim(dim, x.ndim)
    for i in range(idx.ndim if x.ndim else 0):
        if i != d and idx.shape[i] > x.shape[i]:
            raise RuntimeError(f"Size does not match at dimension {i} expected index {list(idx.shape)} to be no "
                               f"larger than self {list(x.shape)} apart from dimension {d}")
    return d


def _check_scatter(input, dim, index, src, name="scatter"):
    """Validate scatter-like arguments (dtype, rank, sizes against self and src); return the wrapped dim. Only the
    dtypes of self and src are checked for an empty index, as in PyTorch."""
    x, idx = input._data, index._data
    if not idx.size:
        _check_src_dtype(x, src, name)
        return wrap_dim(dim, x.ndim)
    _check_index_dtype(index, name)
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    d = wrap_dim(dim, x.ndim)
    s = src._data.shape if isinstance(src, Tensor) else None
    if s is not None and len(s) != idx.ndim and not (idx.ndim <= 1 and len(s) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    bad_self = any(i != d and idx.shape[i] > x.shape[i] for i in range(idx.ndim if x.ndim else 0))
    bad_src = s is not None and any(idx.shape[i] > s[i] for i in range(idx.ndim if len(s) else 0))
    if bad_self or bad_src:
        msg = f"Expected index {list(idx.shape)} to be no larger than self {list(x.shape)} apart from dimension {d}"
        raise RuntimeError(msg + (f" and to be no larger size than src {list(s)}" if s is not None else ""))
    _check_src_dtype(x, src, name)
    return d


def _check_src_dtype(x, src, name):
    if isinstance(src, Tensor) and src._data.dtype != x.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")


class Gather(Function):
    _raw = True
    _node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, lin=None):
        """lin: idx's flat positions in x when the caller already has them (backward passes of scatters)."""
        ctx.args = (x.shape, dim)
        ctx.idx = idx
        if x.ndim == 0:
            _check_range(idx, 1, dim)
            ctx.lin = None
            return x.reshape(idx.shape).copy() if idx.ndim == 0 else np.broadcast_to(x, idx.shape).copy()
        if lin is None:
            _check_range(idx, x.shape[dim], dim)
            lin = _linear_index(idx, dim, x.shape)
        ctx.lin = lin
        return x.reshape(-1).take(lin)

    @staticmethod
    def backward(ctx, g):
        shape, dim = ctx.args
        return ScatterAdd.apply(g, Tensor._make(ctx.idx), shape, dim, ctx.lin), None, None, None


class ScatterAdd(Function):
    """zeros(shape) with src added at index along dim (the backward of gather); its backward is gather."""

    _raw = True
    _node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, src, idx, shape, dim, lin=None):
        ctx.args = (dim,)
        ctx.idx = idx
        ctx.lin = None
        if len(shape) == 0:
            return src.sum().reshape(()).astype(src.dtype) if src.size else np.zeros((), src.dtype)
        out = np.zeros(math.prod(shape), src.dtype)
        if idx.size:
            ctx.lin = lin = _linear_index(idx, dim, shape) if lin is None else lin
            np.add.at(out, lin.reshape(-1), _fit(src, idx.shape).reshape(-1))
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        (dim,) = ctx.args
        return Gather.apply(g, dim, ctx.idx, ctx.lin), None, None, None, None


def scatter_grad_along(g, idx, shape, dim):
    return ScatterAdd.apply(g, idx, tuple(shape), dim)


def _write_out(result, out, name, inputs, same_dtype_error=None):
    """result written into out= after PyTorch's checks: the same dtype (same_dtype_error's message, or the generic
    one) and no aliasing of out with itself or an input."""
    if out._data.dtype != result._data.dtype:
        if same_dtype_error is None:
            check_out_dtype(out, result._data.dtype)
        raise RuntimeError(same_dtype_error)
    check_out_overlap(out, *inputs)
    from .elementwise import _out
    return _out(result, out, name)


def gather(input, dim, index, *, sparse_grad=False, out=None):
    if out is not None:
        return _write_out(gather(input, dim, index), out, "gather", (input, index))
    d = _check_gather(input, dim, index)
    if not index._data.size:
        empty = np.zeros(index._data.shape, np.int64)
        return Gather.apply(input, d, empty, empty)
    idx = index._data.astype(np.int64, copy=False)
    if type(input) is Tensor and STATE.fast:
        return run_on(Gather, input, (d, idx), input._rg and STATE.enabled)
    return Gather.apply(input, d, idx)


def _pad_grad(g, shape):
    """g placed at the start of zeros(shape) (differentiably): the gradient of a src larger than its index."""
    if tuple(g._data.shape) == tuple(shape):
        return g
    if not g._data.size:
        return g.new_zeros(tuple(shape))
    key = tuple(slice(0, s) for s in g._data.shape)
    return IndexPutZeros.apply(g, tuple(shape), key, False)


def _zero_at(g, lin):
    """g with the flat positions lin set to 0 (PyTorch's grad.scatter(dim, index, 0)), differentiably."""
    if not STATE.enabled:
        out = np.array(g._data, order="C")
        out.reshape(-1)[lin.reshape(-1)] = 0
        return Tensor._make(out)
    from .elementwise import where
    keep = np.ones(g._data.shape, bool)
    keep.reshape(-1)[lin.reshape(-1)] = False
    return where(Tensor._make(keep), g, 0.0)


def _scatter_values(src, idx, dtype):
    """The values a scatter writes, one per index, flat: src cut to idx's shape, or a scalar repeated."""
    if isinstance(src, np.ndarray) and src.ndim:
        return _fit(src, idx.shape).reshape(-1)
    return np.broadcast_to(np.asarray(src).astype(dtype), idx.shape).reshape(-1)


class Scatter(Function):
    _raw = True
    _node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, src, dim, idx, reduce):
        out = x.copy()
        ctx.args = (dim, reduce, src.shape if isinstance(src, np.ndarray) else None)
        ctx.idx, ctx.lin = idx, None
        if idx.size:
            _check_range(idx, x.shape[dim] if x.ndim else 1, dim)
            ctx.lin = lin = _linear_index(idx, dim, x.shape) if x.ndim else np.zeros(idx.shape, np.int64)
            flat, vals = out.reshape(-1), _scatter_values(src, idx, x.dtype)
            if reduce is None:
                flat[lin.reshape(-1)] = vals
            else:
                (np.add if reduce == "add" else np.multiply).at(flat, lin.reshape(-1), vals)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, reduce, src_shape = ctx.args
        gx = gs = None
        if reduce == "multiply":
            raise NotImplementedError("ember does not differentiate scatter with reduce='multiply'")
        if ctx.needs_input_grad[0]:
            gx = _zero_at(g, ctx.lin) if reduce is None and ctx.lin is not None else g
        if ctx.needs_input_grad[1]:
            gs = _pad_grad(Gather.apply(g, dim, ctx.idx, ctx.lin), src_shape)
        return gx, gs, None, None, None


def _scatter(input, dim, index, src, value, reduce, name="scatter"):
    if src is None:
        src = value
    src = as_tensor_arg(src)
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    d = _check_scatter(input, dim, index, src, name)
    if not index._data.size:
        return _scatter_nothing(_scatter_node(name, src), input, src, d)
    if name == "scatter" and reduce is not None and isinstance(src, Tensor):
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                      "future PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
                      UserWarning, stacklevel=3)
    return _scatter_node(name, src).apply(input, src, d, index._data.astype(np.int64, copy=False), reduce)


def _scatter_nothing(node, input, src, d):
    """A scatter through an empty index (of any shape): input unchanged, src given a zero gradient."""
    empty = np.zeros((0,) * max(input._data.ndim, 1), np.int64)
    return overload(Scatter, node._node_name).apply(input, src, d, empty, None)


def _scatter_node(name, src):
    """Scatter recorded as PyTorch's node of the overload: scatter_add, scatter with a number, or with a tensor."""
    if name == "scatter_add":
        return overload(Scatter, "ScatterAddBackward0")
    return Scatter if isinstance(src, Tensor) else overload(Scatter, "ScatterBackward1")


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    return _scatter(input, dim, index, src, value, reduce)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    return input._inplace(lambda old: _scatter(old, dim, index, src, value, reduce))


def scatter_add(input, dim, index, src):
    return _scatter(input, dim, index, src, None, "add", "scatter_add")


def scatter_add_(input, dim, index, src):
    return input._inplace(lambda old: _scatter(old, dim, index, src, None, "add", "scatter_add"))


def _scatter_reduce_array(x, s, d, idx, reduce, include_self):
    """NumPy kernel of scatter_reduce on a C-contiguous copy of x: (result, the flat positions of idx)."""
    lin = _linear_index(idx, d, x.shape).reshape(-1)
    out = x.copy()
    flat = out.reshape(-1)
    if not include_self:
        flat[lin] = 0 if reduce in ("sum", "mean") else _reduce_identity(reduce, x.dtype)
    ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
    ufunc.at(flat, lin, np.ascontiguousarray(s).reshape(-1))
    if reduce == "mean":
        n = _scatter_counts(lin, x.shape, include_self)
        if x.dtype.kind in "fc":
            out /= n.astype(x.dtype)
        else:
            out = np.floor_divide(out, n).astype(x.dtype)
    return out, lin


def _scatter_counts(lin, shape, include_self):
    """Per position of `shape`, the number of values a scatter_reduce 'mean' averaged (at least 1)."""
    n = np.bincount(lin, minlength=math.prod(shape)).reshape(shape)
    return n + 1 if include_self else np.maximum(n, 1)


class ScatterReduce(Function):
    _raw = True
    _node_name = "ScatterReduceBackward0"

    @staticmethod
    def forward(ctx, x, src, dim, idx, reduce, include_self):
        _check_range(idx, x.shape[dim] if x.ndim else 1, dim)
        xs = x.reshape(x.shape or (1,))
        s = src.reshape(src.shape or (1,))[tuple(slice(0, n) for n in (idx.shape or (1,)))]
        out, lin = _scatter_reduce_array(xs, s, dim, idx.reshape(idx.shape or (1,)), reduce, include_self)
        out = out.reshape(x.shape)
        ctx.args = (dim, reduce, include_self, src.shape)
        ctx.idx, ctx.lin = idx, lin.reshape(idx.shape)
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, reduce, include_self, src_shape = ctx.args
        x, src, out = ctx.saved_tensors
        idx = Tensor._make(ctx.idx)
        at = lambda t: Gather.apply(t, dim, ctx.idx, ctx.lin)      # t.gather(dim, idx) for t of x's shape
        s = src[tuple(slice(0, n) for n in ctx.idx.shape)] if src._data.ndim else src
        if reduce == "sum":
            gx, gs = g, at(g)
        elif reduce == "mean":
            cnt = _scatter_counts(ctx.lin.reshape(-1), x._data.shape or (1,), include_self).reshape(x._data.shape)
            gx = g / Tensor._make(cnt.astype(g._data.dtype))
            gs = at(gx)
        elif reduce == "prod":
            gx, gs = _prod_grads(g, x, s, out, dim, idx, include_self)
        else:
            value = at(out)
            x_hit = (x == out).to(g.dtype)
            s_hit = (s == value).to(g.dtype)
            share = g / ScatterAdd.apply(s_hit, idx, tuple(x._data.shape), dim, ctx.lin).add(x_hit)
            gx, gs = x_hit * share, s_hit * at(share)
        if not include_self:
            gx = _zero_at(gx, ctx.lin)
        return gx, _pad_grad(gs, src_shape), None, None, None, None


def _prod_grads(g, x, s, out, dim, idx, include_self):
    """Gradients of a scatter 'prod', exact when an input is zero (PyTorch's masked-product formulation)."""
    from .elementwise import where
    mx = x.masked_fill(x == 0, 1)
    gx = g * ScatterReduce.apply(mx, s, dim, idx._data, "prod", include_self) / mx
    s_zero = s == 0
    n_zero = x.new_zeros(x.shape).scatter_add(dim, idx, s_zero.to(x.dtype)).gather(dim, idx)
    single = s_zero & (n_zero == 1)
    alt = ScatterReduce.apply(x, s.masked_fill(single, 1), dim, idx._data, "prod", include_self)
    gs = where(single, (g * alt).gather(dim, idx), (g * out).gather(dim, idx) / s.masked_fill(s_zero, 1))
    return gx, gs


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    d = _check_scatter(input, dim, index, src, "scatter_reduce")
    if not index._data.size:
        return _scatter_nothing(ScatterReduce, input, src, d)
    return ScatterReduce.apply(input, src, d, index._data.astype(np.int64, copy=False), reduce, include_self)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    return input._inplace(lambda old: scatter_reduce(old, dim, index, src, reduce, include_self=include_self))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """scatter_reduce of whole slices: source's slice i is reduced into input's slice index[i] along dim."""
    warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=2)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    idx = _index_vector(index, "index_reduce_")
    d = wrap_dim(dim, input._data.ndim)
    _check_index_source(input, d, idx, source, "index_reduce_")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_tname(input._data)}) and source ({_tname(source._data)}) must "
                           "have the same scalar type")
    _check_range(idx, input._data.shape[d] if input._data.ndim else 1, d, exc=IndexError,
                 prefix="index_reduce_(): ")
    shape = [1] * source._data.ndim
    if shape:
        shape[d] = idx.size
    full = np.broadcast_to(idx.reshape(shape), source._data.shape).copy()   # (ascontiguousarray makes 0-d 1-d)
    return overload(ScatterReduce, "IndexReduceBackward0").apply(input, source, d, full, reduce, include_self)


def index_reduce_(input, dim, index, source, reduce, *, include_self=True):
    return input._inplace(lambda old: index_reduce(old, dim, index, source, reduce, include_self=include_self))


def _reduce_identity(reduce, dtype):
    """The identity of a scatter_reduce reduction in `dtype` (the start value when include_self=False)."""
    if reduce == "prod":
        return 1
    if dtype.kind in "fc":
        return -np.inf if reduce == "amax" else np.inf
    if dtype == np.bool_:
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


# ---- index_select / index_add / index_fill / index_copy --------------------------------------------------------------
def _index_vector(index, name, dtypes=(np.int64, np.int32)):
    """index as a flat int64 array, after the dtype and rank checks of `name`."""
    d = index._data
    if d.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {d.ndim} with type: {_tname(d)} "
                         f"and size: {list(d.shape)}")
    if d.dtype not in dtypes:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: {_tname(d)}")
    return d.reshape(-1).astype(np.int64, copy=False)


class IndexSelect(Function):
    _raw = True
    _node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, out_shape):
        ctx.args = (x.shape, dim)
        ctx.idx = idx
        if x.ndim == 0:
            if idx.size != 1:
                raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
            if idx[0] != 0:
                raise IndexError("index out of range in self")
            return x.copy()
        if not _in_range(idx, x.shape[dim]):
            if dim != 1:                        # PyTorch checks dim 1 in a kernel of its own, with its own message
                raise IndexError("index out of range in self")
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={_first_bad(idx, x.shape[dim], False)} "
                               f"axis_dim={x.shape[dim]}")
        return np.take(x, idx, axis=dim).reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        shape, dim = ctx.args
        return IndexAddZeros.apply(g, shape, dim, ctx.idx), None, None, None


class IndexAddZeros(Function):
    """zeros(shape) with g's slices added at idx along dim: the backward of index_select."""

    _raw = True
    _node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, g, shape, dim, idx):
        ctx.args = (dim, g.shape)
        ctx.idx = idx
        if len(shape) == 0:
            return g.sum().reshape(()).astype(g.dtype)
        out = np.zeros(shape, g.dtype)
        return index_add_into(out, dim, idx, g.reshape(shape[:dim] + (idx.size,) + shape[dim + 1:]))

    @staticmethod
    def backward(ctx, gg):
        dim, gshape = ctx.args
        return IndexSelect.apply(gg, dim, ctx.idx, gshape), None, None, None


def index_select(input, dim, index, *, out=None):
    if out is not None:
        return _write_out(index_select(input, dim, index), out, "index_select", (input, index),
                          "index_select(): self and result must have the same scalar type")
    d = index._data
    if d.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if d.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    idx = d.reshape(-1).astype(np.int64, copy=False)
    nd = input._data.ndim
    dm = wrap_dim(dim, nd)
    out_shape = input._data.shape[:dm] + (idx.size,) + input._data.shape[dm + 1:] if nd else ()
    return IndexSelect.apply(input, dm, idx, out_shape)


def _check_index_source(input, dim, idx, source, name):
    """index_add/index_copy: source must match self except along dim, with one slice per index."""
    x, s = input._data, source._data
    n = s.shape[dim] if s.ndim else 1
    if idx.size != n:
        if name == "index_copy_":
            raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                             f"({n})")
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                           f"({n}), for dim: {dim}")
    xs, ss = list(x.shape), list(s.shape)
    if xs:
        del xs[dim]
    if ss:
        del ss[dim]
    if xs != ss:
        if name == "index_copy_":
            raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                               f"slice shape: {' '.join(map(str, xs))} at dimension {dim} and source slice shape: "
                               f"{' '.join(map(str, ss))} at dimension 0.")
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(x.shape)} source.shape = {list(s.shape)}")


class IndexAdd(Function):
    _raw = True
    _node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, src, alpha):
        out = x.copy()
        ctx.args = (dim, alpha, src.shape)
        ctx.idx = idx
        s = src * alpha if alpha != 1 else src
        if x.ndim == 0:
            return (out + s.sum()).astype(x.dtype)
        return index_add_into(out, dim, idx, s.astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        dim, alpha, sshape = ctx.args
        gs = IndexSelect.apply(g, dim, ctx.idx, sshape) if ctx.needs_input_grad[3] else None
        if gs is not None and alpha != 1:
            gs = gs * alpha
        return g, None, None, gs, None


def index_add(input, dim, index, source, *, alpha=1):
    idx = _index_vector(index, "index_add_")
    d = wrap_dim(dim, input._data.ndim)
    if source._data.ndim and d >= source._data.ndim:
        raise RuntimeError(f"index_add_(): Indexing dim {d} is out of bounds of the source tensor with dim "
                           f"{source._data.ndim}")
    _check_index_source(input, d, idx, source, "index_add_")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add_(): self ({_tname(input._data)}) and source ({_tname(source._data)}) must "
                           "have the same scalar type")
    _check_range(idx, input._data.shape[d] if input._data.ndim else 1, d)
    if input._data.dtype.kind in "biu":
        from .creation import _cast_scalar
        alpha = _cast_scalar(alpha, input._data.dtype)[()]     # C conversion: -1 is 255 in uint8, 1.5 is 1
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
        ctx.args = (dim, copy_src, np.shape(value))
        ctx.idx = idx
        if x.ndim == 0:
            if idx.size:
                out[...] = value.reshape(()) if copy_src else value
            return out
        out[key] = value if not isinstance(value, np.ndarray) else value.astype(x.dtype, copy=False)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, copy_src, vshape = ctx.args
        mask = np.ones(g._data.shape, g._data.dtype)
        mask.reshape(mask.shape or (1,))[(slice(None),) * dim + (ctx.idx,)] = 0
        gv = None
        if ctx.needs_input_grad[3]:
            gshape = g._data.shape
            idx = ctx.idx if copy_src else np.unique(_wrap_negative(ctx.idx, gshape[dim] if gshape else 1))
            sel = IndexSelect.apply(g, dim, idx, gshape[:dim] + (idx.size,) + gshape[dim + 1:])
            gv = sel.reshape(vshape) if copy_src else sel.sum()   # a position filled twice takes value once
        return g * Tensor._make(mask), None, None, gv, None


def index_fill(input, dim, index, value):
    d = index._data
    if d.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if d.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    nd = input._data.ndim
    dm = wrap_dim(dim, nd)
    idx = d.reshape(-1)
    size = input._data.shape[dm] if nd else 1
    _check_range(idx, size, dm, allow_negative=True, exc=IndexError)
    value = as_tensor_arg(value)
    cls = IndexFill
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        value, cls = value.to(input.dtype), overload(IndexFill, "IndexFillBackward1")
    else:
        value = Tensor._make(np.asarray(value).astype(input._data.dtype))
    return cls.apply(input, dm, np.where(idx < 0, idx + size, idx), value, False)


def index_fill_(input, dim, index, value):
    return input._inplace(lambda old: index_fill(old, dim, index, value))


def index_copy(input, dim, index, source):
    d = index._data
    if d.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {d.ndim})")
    if d.dtype != np.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_tname(d)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_tname(input._data)} and (source) {_tname(source._data)}")
    nd = input._data.ndim
    dm = wrap_dim(dim, nd)
    idx = d.reshape(-1)
    _check_index_source(input, dm, idx, source, "index_copy_")
    _check_range(idx, input._data.shape[dm] if nd else 1, dm, exc=IndexError, prefix="index_copy_(): ")
    return overload(IndexFill, "IndexCopyBackward0").apply(input, dm, idx, source, True)


def index_copy_(input, dim, index, source):
    return input._inplace(lambda old: index_copy(old, dim, index, source))


# ---- *_scatter: out-of-place writes of a slice -----------------------------------------------------------------------
def _check_slice(src, view):
    if tuple(src._data.shape) != tuple(view._data.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src._data.shape)}"
                           f", slice size = {list(view._data.shape)}")


def _embed(input, src, key, view, node):
    """A copy of input with src written at a basic `key` (whose view of input is `view`), differentiably, recorded as
    PyTorch's `node`."""
    _check_slice(src, view)
    src = src.to(input.dtype) if src._data.dtype != input._data.dtype else src
    return overload(IndexPut, node).apply(input, src, key, False, False)


def select_scatter(input, src, dim, index):
    from .shape import select
    d = wrap_dim(dim, input._data.ndim)
    view = select(input.detach(), d, index)
    return _embed(input, src, (slice(None),) * d + (int(index),), view, "SelectScatterBackward0")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (slice(start, end, step),)
    return _embed(input, src, key, getitem(input.detach(), key), "SliceScatterBackward0")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    from .shape import diagonal, DiagonalScatter
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    _check_slice(src, diagonal(input.detach(), offset, d1, d2))
    src = src.to(input.dtype) if src._data.dtype != input._data.dtype else src
    return DiagonalScatter.apply(input, src, offset, d1, d2)


def unravel_index(indices, shape):
    """Coordinates of flat `indices` in a tensor of `shape` (indices wrap modulo the number of elements)."""
    if not isinstance(indices, Tensor):
        indices = Tensor._make(np.asarray(indices))
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    n = math.prod(shape)
    flat = np.mod(indices._data.astype(np.int64), n) if n else indices._data.astype(np.int64)
    return tuple(Tensor._make(c.astype(np.int64)) for c in np.unravel_index(flat, shape))


# ---- masks -----------------------------------------------------------------------------------------------------------
def _bool_mask(mask, name):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{_CPP_NAMES.get(m.dtype.name, m.dtype.name)}")
    return m


class MaskedFill(Function):
    """x with a number value where mask is true, in the broadcast shape of x and mask (contiguous)."""

    _raw = True
    _node_name = "MaskedFillBackward0"

    @staticmethod
    def forward(ctx, x, mask, value, shape):
        ctx.args = (x.shape, mask)
        out = x.copy() if x.shape == shape else np.broadcast_to(x, shape).copy()
        np.copyto(out, value, casting="unsafe", where=mask)
        return out

    @staticmethod
    def backward(ctx, g):
        shape, mask = ctx.args
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = sum_to(MaskedFill.apply(g, mask, 0, g._data.shape), shape)
        if ctx.needs_input_grad[2]:
            gv = getitem(g, Tensor._make(np.broadcast_to(mask, g._data.shape))).sum()
        return gx, None, gv, None


MaskedFillTensor = overload(MaskedFill, "MaskedFillBackward1")  # the value is a 0-d tensor


def _check_fill_value(value, np_dtype):
    """PyTorch's overflow error for a fill value (a number or a 0-d tensor) that the input's dtype cannot hold."""
    from .elementwise import _check_bound
    from .. import _dtype
    if isinstance(value, Tensor):
        if value._data.ndim:
            return
        value = value.item()
    d = _dtype.from_numpy_dtype(np_dtype)
    if d.is_complex or not isinstance(value, (int, float, complex)):
        return
    if isinstance(value, complex):
        if value.imag:
            from .elementwise import _C_NAMES
            raise RuntimeError(f"value cannot be converted to type {_C_NAMES.get(d.name, d.name)} without overflow")
        value = value.real
    _check_bound(value, d)


def masked_fill(input, mask, value):
    m = _bool_mask(mask, "masked_fill_")
    x = input._data
    if m.shape == x.shape:
        shape = x.shape
    else:
        from .shape import broadcast_pair
        shape = broadcast_pair(m.shape, x.shape)
    cls, v = MaskedFill, value
    if type(value) is not float or not -65504.0 <= value <= 65504.0 or x.dtype.kind not in "fc":
        _check_fill_value(value, x.dtype)
    if type(value) is not float:
        value = v = as_tensor_arg(value)
        if isinstance(value, Tensor):
            if value._data.ndim != 0:
                raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                                   f"{value._data.ndim} dimension(s).")
            value = value.to(input.dtype)
            cls, v = MaskedFillTensor, value._data
    if STATE.tracing:  # the exporter knows the where form
        return _masked_fill_where(input, m, value)
    if STATE.fast and type(input) is Tensor:
        rg = STATE.enabled and (input._rg or (cls is MaskedFillTensor and value._rg))
        return run(cls, (input, m, value, shape), (x, m, v, shape), rg)
    return cls.apply(input, m, value, shape)


def _masked_fill_where(input, mask, value):
    """masked_fill as where(mask, value, input)."""
    from .elementwise import where
    v = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value).astype(input._data.dtype))
    return where(Tensor._make(mask), v, input)


def _check_inplace_shape(input, other_shape):
    from .shape import broadcast_pair
    full = broadcast_pair(input._data.shape, other_shape)
    if full != input._data.shape:
        raise RuntimeError(f"output with shape {list(input._data.shape)} doesn't match the broadcast shape "
                           f"{list(full)}")


def masked_fill_(input, mask, value):
    _check_inplace_shape(input, np.shape(mask._data if isinstance(mask, Tensor) else mask))
    return input._inplace(lambda old: masked_fill(old, mask, value))


def masked_select(input, mask, *, out=None):
    if out is not None:
        return _write_out(masked_select(input, mask), out, "masked_select", (input, mask),
                          "masked_select(): self and result must have the same scalar type")
    from .shape import broadcast_pair
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    m = mask._data
    shape = broadcast_pair(m.shape, input._data.shape)
    x = input.expand(shape) if input._data.shape != shape else input
    return as_node(getitem(x, Tensor._make(np.broadcast_to(m, shape))), "MaskedSelectBackward0")


def masked_scatter(input, mask, source):
    from .shape import broadcast_pair
    m = _bool_mask(mask, "masked_scatter_")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_tname(input._data)} and {_tname(source._data)}")
    shape = broadcast_pair(m.shape, input._data.shape)
    m = np.broadcast_to(m, shape)
    n = int(m.sum())
    if source.numel() < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    x = input.expand(shape).contiguous() if input._data.shape != shape else input
    return overload(IndexPut, "MaskedScatterBackward0").apply(x, source.reshape(-1)[:n], (m,), True, False)


def masked_scatter_(input, mask, source):
    _check_inplace_shape(input, np.shape(mask._data if isinstance(mask, Tensor) else mask))
    return input._inplace(lambda old: masked_scatter(old, mask, source))


def nonzero(input, *, out=None, as_tuple=False):
    x = input._data.reshape(1) if input._data.ndim == 0 else input._data
    nz = np.nonzero(x)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in nz)
    res = np.stack(nz, axis=1).astype(np.int64)
    return Tensor._make(res[:, :0] if input._data.ndim == 0 else res)


def argwhere(input):
    return nonzero(input)


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero() cut or padded (with fill_value rows) to exactly `size` rows: a shape known before the data."""
    if not isinstance(size, int) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = nonzero(input)._data[:size]
    out = np.full((size, found.shape[1]), fill_value, np.int64)
    out[:len(found)] = found
    return Tensor._make(out)


def _out_of_range(bad, n):
    return IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")


def _flat_index(index, n, name):
    """index as wrapped flat positions into n elements, with take/put's dtype and range errors."""
    idx = index._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {_tname(idx)}")
    if not _in_range(idx, n, True):
        raise _out_of_range(_first_bad(idx, n, True), n)
    return _wrap_negative(idx, n)


def take(input, index, *, out=None):
    if out is not None:
        return _write_out(take(input, index), out, "take", (input, index),
                          f"take(): self and out expected to have the same dtype, but got self.dtype = "
                          f"{_tname(input._data)} and out.dtype = {_tname(out._data)}")
    flat = input.reshape(-1)
    return as_node(getitem(flat, Tensor._make(_flat_index(index, flat._data.shape[0], "take"))), "TakeBackward0")


def take_along_dim(input, indices, dim=None):
    """gather along dim after broadcasting input and indices against each other; with a dim, indices wrap modulo the
    dim's size as in PyTorch (so -1 is the last element)."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input._data.ndim} dimensions for input, and {indices._data.ndim} dimensions for "
                           "indices")
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {_tname(indices._data)}")
    from .shape import broadcast_pair
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if size and not _in_range(indices._data, size):
        indices = Tensor._make(np.remainder(indices._data, size))
    shape = list(broadcast_pair(tuple(s if i != d else 1 for i, s in enumerate(input._data.shape)),
                                tuple(s if i != d else 1 for i, s in enumerate(indices._data.shape))))
    ishape, jshape = list(shape), list(shape)
    ishape[d], jshape[d] = size, indices._data.shape[d]
    return gather(input.expand(ishape), d, indices.expand(jshape))


def put(input, index, source, accumulate=False):
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_tname(input._data)} and source.dtype = {_tname(source._data)}")
    if source.numel() != index.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    flat = _flat_index(index, input.numel(), "put_").reshape(-1)
    shape = input._data.shape
    out = IndexPut.apply(input.reshape(-1), source.reshape(-1), (flat,), True, accumulate).reshape(shape)
    return as_node(out, "PutBackward0")


def put_(input, index, source, accumulate=False):
    return input._inplace(lambda old: put(old, index, source, accumulate))


__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_fill",
           "index_copy", "index_put", "index_put_", "index_reduce", "masked_fill", "masked_select", "masked_scatter",
           "nonzero", "nonzero_static", "argwhere", "take", "take_along_dim", "put", "select_scatter", "slice_scatter",
           "diagonal_scatter", "unravel_index"]
