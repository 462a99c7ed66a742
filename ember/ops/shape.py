"""Shape ops: views (view/reshape/permute/expand/...), joins and splits, flips, triangles, diagonals."""
import builtins
import functools
import math

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from ..autograd.function import (Function, record_result, record_on, run, run_on, edge, _wrap, NOT_TENSOR, overload,
                                  as_node)
from ..autograd.grad_mode import STATE
from ._util import wrap_dim, wrap_dims, sum_to, check_out_overlap
from ._bits import keep
from .indexing import basic_index, GetItem, SLICE, SELECT

_new = object.__new__


def _shape_arg(shape):
    """Accept view(2, 3), view((2, 3)), view([2, 3]) and Size; return a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(map(int, shape))


def _dims_arg(name, args, dims):
    """The dims of permute/flip given positionally (varargs or one sequence) or as the dims= keyword."""
    if dims is None:
        return _shape_arg(args)
    if args:
        raise TypeError(f"{name}() got multiple values for argument 'dims'")
    return _shape_arg((dims,))


def _infer_shape(shape, numel):
    if -1 not in shape and math.prod(shape) == numel and (not shape or min(shape) >= 0):
        return shape
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    if neg:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 and numel:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                               "unspecified dimension size -1 can be any value and is ambiguous")
        if numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Function):
    _raw = True
    _node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape, must_view):
        ctx.in_shape = x.shape
        if must_view:
            try:
                return x.reshape(shape, copy=False)
            except ValueError:
                raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                                   "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") \
                    from None
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        if STATE.enabled:
            return g.reshape(ctx.in_shape), None, None
        return _wrap(g._data.reshape(ctx.in_shape)), None, None


class Unsqueeze(Reshape):
    _node_name = "UnsqueezeBackward0"


class SqueezeAll(Reshape):
    _node_name = "SqueezeBackward0"


class SqueezeDim(Reshape):
    _node_name = "SqueezeBackward1"


class SqueezeDims(Reshape):
    _node_name = "SqueezeBackward2"


class UnsafeView(Reshape):
    """The reshape of a copy (reshape of an input that no view can give): PyTorch's clone + _unsafe_view."""

    _node_name = "UnsafeViewBackward0"


class ReshapeAlias(Reshape):
    """reshape of a non-contiguous input that a view can give (PyTorch's _reshape_alias)."""

    _node_name = "ReshapeAliasBackward0"


def _view_op(cls, input, args, compute, view_fn):
    """A view op whose node class cls takes (input, *args): compute(data, args[0]) without re-checking on the fast
    path (recorded when input needs a graph), marked as a view of input."""
    if type(input) is Tensor and STATE.fast:
        if input._rg and STATE.enabled:
            out = record_on(cls, input, args)
        else:
            out = _new(Tensor)
            out._data = compute(input._data, args[0])
    else:
        out = cls.apply(input, *args)
    return input._make_view(out, view_fn)


def _reshape_view(cls, input, shape, view_fn):
    """input's data reshaped to `shape`, recorded as node cls (a Reshape)."""
    return _view_op(cls, input, (shape, False), np.ndarray.reshape, view_fn)


def _numpy_view(d, shape):
    """d reshaped by NumPy without a copy, or None: NumPy infers -1 and refuses what torch's view refuses (the
    checked paths then raise torch's errors)."""
    try:
        arr = d.reshape(*shape) if d.flags.c_contiguous else d.reshape(*shape, copy=False)  # C order: never a copy
        if arr.shape == shape:
            return arr
        dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return None if dims and min(dims) < -1 else arr  # NumPy reads any negative size as -1
    except (TypeError, ValueError):
        return None


def _fast_view(input, shape, view_fn, strided=Reshape):
    """view/reshape of a plain Tensor that NumPy can view: recorded without re-checking (as `strided` when the input is
    not contiguous); else None."""
    if not (STATE.fast and type(input) is Tensor):
        return None
    d = input._data
    arr = _numpy_view(d, shape)
    if arr is None:
        return None
    if input._rg and STATE.enabled:
        out = record_result(Reshape if d.flags.c_contiguous else strided, input, arr, None, 3)
        out._grad_fn.in_shape = d.shape
    else:
        out = _new(Tensor)
        out._data = arr
    return input._make_view(out, view_fn)


def view(input, *shape):
    out = _fast_view(input, shape, lambda b: b.view(*shape))
    if out is not None:
        return out
    if len(shape) == 1 and (isinstance(shape[0], _dtype.dtype) or isinstance(shape[0], type)):
        return view_dtype(input, shape[0])
    shape = _infer_shape(_shape_arg(shape), input._data.size)
    out = Reshape.apply(input, shape, True)
    return input._make_view(out, lambda b: b.view(shape))


def view_dtype(input, d):
    d = _dtype.to_dtype(d)
    return Tensor._make(input._data.view(d.np))


def reshape(input, *shape):
    out = _fast_view(input, shape, lambda b: b.reshape(*shape), ReshapeAlias)
    if out is not None:
        return out
    shape = _infer_shape(_shape_arg(shape), input._data.size)
    if _numpy_view(input._data, shape) is None:
        return UnsafeView.apply(contiguous(input), shape, False)
    cls = Reshape if input._data.flags.c_contiguous else ReshapeAlias
    return _reshape_view(cls, input, shape, lambda b: b.reshape(shape))


def ravel(input):
    """The elements as a 1-D tensor: a view when the input is contiguous, else a copy (PyTorch's contiguous + view)."""
    return view(contiguous(input), -1)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input  # nothing to merge: PyTorch returns the tensor itself
    shp = input._data.shape
    n = 1
    for v in shp[s:e + 1]:
        n *= v
    return reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    shp = input._data.shape
    d = wrap_dim(dim, len(shp))
    sizes = tuple(sizes)
    if -1 in sizes:
        known = 1
        for v in sizes:
            if v != -1:
                known *= v
        sizes = tuple(shp[d] // known if v == -1 else v for v in sizes)
    n = 1
    for v in sizes:
        n *= v
    if n != shp[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shp[d]}) in the input tensor")
    return view(input, shp[:d] + sizes + shp[d + 1:])


def squeeze(input, dim=None):
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    elif type(dim) is int and shp:
        d = wrap_dim(dim, len(shp))
        new = shp[:d] + shp[d + 1:] if shp[d] == 1 else shp
    else:
        dims = wrap_dims(dim, len(shp)) if len(shp) else ()
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    cls = SqueezeAll if dim is None else SqueezeDims if isinstance(dim, (tuple, list)) else SqueezeDim
    return _reshape_view(cls, input, new, lambda b: b.reshape(new))


def unsqueeze(input, dim):
    shp = input._data.shape
    d = wrap_dim(dim, len(shp) + 1)
    return _reshape_view(Unsqueeze, input, shp[:d] + (1,) + shp[d:], lambda b: b.unsqueeze(d))


class Permute(Function):
    _raw = True
    _node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        if STATE.enabled:
            return g.permute(inverse), None
        return _wrap(g._data.transpose(inverse)), None


class Transpose(Permute):
    """A permute that swaps two dims (transpose, swapaxes, mT), named as PyTorch names it."""

    _node_name = "TransposeBackward0"


class T(Permute):
    _node_name = "TBackward0"


def _permute_view(cls, input, perm, view_fn):
    """input's data permuted by `perm`, recorded as node cls (a Permute)."""
    return _view_op(cls, input, (perm,), np.ndarray.transpose, view_fn)


def permute(input, *args, dims=None):
    dims = _dims_arg("permute", args, dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permute_view(Permute, input, dims, lambda b: b.permute(dims))


def _swap(nd, d0, d1):
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return tuple(perm)


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    if nd == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return _permute_view(Transpose, input, (), lambda b: b)
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    return _permute_view(Transpose, input, _swap(nd, d0, d1), lambda b: b.transpose(d0, d1))


swapaxes = swapdims = transpose


def t(input):
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return _permute_view(T, input, (1, 0) if nd == 2 else tuple(range(nd)), lambda b: b.t())


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    given = (("source", src), ("destination", dst))
    src = [wrap_dim(s, nd) for s in src]
    dst = [wrap_dim(d, nd) for d in dst]
    for (name, orig), ds in zip(given, (src, dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({orig})")  # printed as given, as PyTorch does
    order = [i for i in range(nd) if i not in src]
    perm = [None] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return permute(input, perm)


moveaxis = movedim


def adjoint(input):
    return transpose(input, -2, -1)


class Expand(Function):
    _raw = True
    _node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return _expanded(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape), None


def expand(input, *sizes):
    target = _expand_shape(_shape_arg(sizes), input._data.shape)
    return _view_op(Expand, input, (target,), _expanded, lambda b: b.expand(target))


def _expand_shape(sizes, shp):
    """The shape expand(*sizes) gives a tensor of shape shp (-1 keeps a size), with PyTorch's errors."""
    lead = len(sizes) - len(shp)
    if lead >= 0 and sizes[lead:] == shp and (not lead or min(sizes[:lead]) >= 0):
        return sizes
    if lead < 0:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shp)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(shp)})")
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            target.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
        target.append(s)
    return tuple(target)


def _expanded(x, shape):
    """x broadcast to shape, as a read-only view (writes to it would be wrong). A C-contiguous x is viewed with stride
    0 on the new and expanded dims directly: a sixth of np.broadcast_to's cost, which sets the time of a small
    expand."""
    if shape == x.shape:
        return x.view()
    if not (x.size and x.flags.c_contiguous):
        return np.broadcast_to(x, shape)
    lead = len(shape) - x.ndim
    kept = shape[lead:]
    strides = x.strides if kept == x.shape else tuple([st if n == m else 0
                                                       for n, m, st in zip(x.shape, kept, x.strides)])
    out = np.ndarray(shape, x.dtype, x, 0, (0,) * lead + strides)
    out.setflags(write=False)
    return out


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_shapes(*shapes):
    """The common broadcast shape, checked and reported argument by argument as PyTorch does."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes if s is not None]
    common = [1] * builtins.max((len(s) for s in shapes), default=0)
    for k, shape in enumerate(shapes):
        for i in range(-1, -1 - len(shape), -1):
            if shape[i] == common[i] or shape[i] == 1:
                continue
            if common[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[i]} at {i}! Mismatching "
                                   f"argument at index {k} had {shape}; but expected shape should be broadcastable "
                                   f"to {common}")
            if shape[i] < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            common[i] = shape[i]
    return _dtype.Size(common)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = ()
    for t in tensors:
        shape = broadcast_pair(shape, t._data.shape)
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def broadcast_pair(a, b):
    """The broadcast of two shapes, with PyTorch's size-mismatch message (checked from the last dim)."""
    n = builtins.max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                               f"non-singleton dimension {i}")
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return _Contig.apply(input)


class _Contig(Function):
    _raw = True
    _node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


# ---- joins and splits ------------------------------------------------------------------------------------
class Cat(Function):
    _raw = True
    _node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, nd, *xs):
        ctx.dim = dim
        ctx.dtypes = dtypes = [x.dtype for x in xs]
        skip = [x.ndim == 1 and x.shape[0] == 0 for x in xs]
        if True not in skip:  # the common case: no legacy empty tensor to leave out
            ctx.sizes = [x.shape[dim] for x in xs]
            same = builtins.all(dt is nd for dt in dtypes)
            return np.concatenate(xs if same else [x.astype(nd, copy=False) for x in xs], axis=dim)
        skip[0] = skip[0] and not builtins.all(skip)
        ctx.sizes = [None if sk else x.shape[dim] for x, sk in zip(xs, skip)]
        return np.concatenate([x.astype(nd, copy=False) for x, sk in zip(xs, skip) if not sk], axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = [None, None]
        start = 0
        lead = (slice(None),) * ctx.dim
        for n, dt, need in zip(ctx.sizes, ctx.dtypes, ctx.needs_input_grad[2:]):
            if n is None:
                out.append(Tensor._make(np.zeros((0,), dt)) if need else None)
                continue
            if not need:
                gi = None
            elif STATE.enabled:
                gi = g.narrow(ctx.dim, start, n)
            else:
                gi = _wrap(g._data[lead + (slice(start, start + n),)])
            out.append(gi.to(_dtype.from_numpy_dtype(dt)) if gi is not None and dt != g._data.dtype else gi)
            start += n
        return tuple(out)


def _fast_join(cls, tensors, dim, extra):
    """cat (extra 0) or stack (extra 1) of a non-empty list or tuple of Tensors of one dtype and rank, over an int dim
    in range, through node cls; None for the other calls (and for shapes NumPy refuses), which take the checked
    path and its errors."""
    if not STATE.fast or type(dim) is not int or (type(tensors) is not list and type(tensors) is not tuple) \
            or not tensors:
        return None
    first = tensors[0]
    if not isinstance(first, Tensor):
        return None
    dt, n = first._data.dtype, first._data.ndim
    arrays = []
    rg = False
    for t in tensors:
        if not isinstance(t, Tensor):
            return None
        a = t._data
        if a.dtype is not dt or a.ndim != n:
            return None
        arrays.append(a)
        rg = rg or t._rg
    n += extra
    if not n or not -n <= dim < n:
        return None
    d = dim % n
    if cls is not Cat:
        shape = arrays[0].shape
        for a in arrays:
            if a.shape != shape:
                return None
        key = (slice(None),) * d + (None,)
        arrays = [a[key] for a in arrays]
    try:
        out = np.concatenate(arrays, axis=d)  # one dtype and rank: the forward without its checks
    except ValueError:
        return None
    return _record_join(cls, d, dt, tensors, arrays, out) if rg and STATE.enabled else _wrap(out)


def _record_join(cls, dim, dt, tensors, arrays, out):
    """Record `out`, the concatenation of the same-dtype arrays (of `tensors`, with a new axis for Stack) along dim,
    as a node of cls (Cat or Stack)."""
    ctx = _new(cls._backward_cls)
    ctx.dim, ctx.dtypes = dim, [dt] * len(arrays)
    if cls is Cat:
        ctx.sizes = [a.shape[dim] for a in arrays]
    ctx._edges = [NOT_TENSOR, NOT_TENSOR] + [edge(t) for t in tensors]
    return ctx._single_output(out)


def cat(tensors, dim=0, *, out=None):
    if out is None:
        r = _fast_join(Cat, tensors, dim, 0)
        if r is not None:
            return r
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    ref = next((t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)), tensors[0])
    if ref._data.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref._data.ndim)
    for i, t in enumerate(tensors):
        if t._data.ndim == 1 and t._data.shape[0] == 0:
            continue
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref._data.ndim} and {t._data.ndim}")
        for j, (a, b) in enumerate(zip(t._data.shape, ref._data.shape)):
            if j != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size {b} but got "
                                   f"size {a} for tensor number {i} in the list.")
    return _join(Cat, d, tensors, out)


def _join(cls, d, tensors, out):
    """cls (Cat or Stack) of tensors along dim d in their promoted dtype; written into out when given."""
    nd = tensors[0].dtype
    for t in tensors[1:]:
        nd = _dtype.promote_types(nd, t.dtype)
    r = cls.apply(d, nd.np, *tensors)
    if out is not None:
        check_out_overlap(out, *tensors)
        from .elementwise import _out
        return _out(r, out)
    return r


concat = concatenate = cat


class Stack(Function):
    """Tensors of one shape joined along a new dim; each gets its slice of the gradient, in its own dtype."""

    _raw = True
    _node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, nd, *xs):
        if builtins.any(x.shape != xs[0].shape for x in xs):
            raise ValueError("stack expects each tensor to be equal size")
        ctx.dim, ctx.dtypes = dim, [x.dtype for x in xs]
        key = (slice(None),) * dim + (None,)
        return np.concatenate([x[key].astype(nd, copy=False) for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = [None, None]
        for i, (dt, need) in enumerate(zip(ctx.dtypes, ctx.needs_input_grad[2:])):
            gi = g.select(ctx.dim, i) if need else None
            out.append(gi.to(_dtype.from_numpy_dtype(dt)) if gi is not None and dt != g._data.dtype else gi)
        return tuple(out)


def stack(tensors, dim=0, *, out=None):
    if out is None:
        r = _fast_join(Stack, tensors, dim, 1)
        if r is not None:
            return r
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shp) + 1)
    if STATE.tracing:  # the ONNX exporter has no Stack converter; it converts the unsqueezes and the cat
        return cat([unsqueeze(t, d) for t in tensors], d, out=out)
    return _join(Stack, d, tensors, out)


def _nonempty(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def hstack(tensors, *, out=None):
    tensors = atleast_1d(_nonempty(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0, out=out)


def row_stack(tensors, *, out=None):
    return cat(atleast_2d(_nonempty(tensors, "row_stack")), 0, out=out)


def dstack(tensors, *, out=None):
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2, out=out)


def column_stack(tensors, *, out=None):
    cols = [t.reshape(-1, 1) if t.dim() <= 1 else t for t in _nonempty(tensors, "column_stack")]
    return cat(cols, 1, out=out)


def atleast_1d(*tensors):
    res = [t.reshape(1) if t.dim() == 0 else t for t in (tensors[0] if len(tensors) == 1 and
                                                          isinstance(tensors[0], (list, tuple)) else tensors)]
    return res[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(res)


def atleast_2d(*tensors):
    def f(t):
        return t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t
    res = [f(t) for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors)]
    return res[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(res)


def atleast_3d(*tensors):
    def f(t):
        if t.dim() == 0:
            return t.reshape(1, 1, 1)
        if t.dim() == 1:
            return t.unsqueeze(0).unsqueeze(-1)
        if t.dim() == 2:
            return t.unsqueeze(-1)
        return t
    res = [f(t) for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors)]
    return res[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(res)


def _narrow_key(input, dim, start, length):
    """The basic key of narrow(input, dim, start, length), after PyTorch's checks."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    size = input._data.shape[d]
    if isinstance(start, Tensor) and (start._data.ndim or start._data.dtype.kind not in "iu"):
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return (slice(None),) * d + (slice(start, start + length),)


def narrow(input, dim, start, length):
    return basic_index(input, _narrow_key(input, dim, start, length), SLICE)


def _narrow_copy_error(input, dim, start, length):
    """narrow_copy's own errors (its kernel's checks differ from narrow's) for a dim past the end or a negative
    length."""
    if dim >= input._data.ndim:
        raise RuntimeError("Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an enhancement request to "
                           "PyTorch.)")
    size = input._data.shape[dim]
    start = int(start) + size if int(start) < 0 else int(start)
    raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")


class NarrowCopy(GetItem):
    """narrow_copy: the narrowed slice as a new contiguous tensor."""

    _node_name = "NarrowCopyBackward0"

    @staticmethod
    def forward(ctx, x, key, advanced):
        return GetItem.forward(ctx, x, key, advanced).copy()


def narrow_copy(input, dim, start, length):
    nd = input._data.ndim
    if nd and (dim >= nd or length < 0):
        _narrow_copy_error(input, dim, start, length)
    return NarrowCopy.apply(input, _narrow_key(input, dim, start, length), False)


class Split(Function):
    """Consecutive pieces of the given sizes along dim: one node with an output per piece, as in PyTorch."""

    _raw = True
    _node_name = "SplitBackward0"

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        lead, start, out = (slice(None),) * dim, 0, []
        for n in sizes:
            out.append(x[lead + (slice(start, start + n),)])
            start += n
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


SplitWithSizes = overload(Split, "SplitWithSizesBackward0")
UnsafeSplit = overload(Split, "UnsafeSplitBackward0")
UnsafeSplitWithSizes = overload(Split, "UnsafeSplitWithSizesBackward0")


def _sections(tensor, split_size_or_sections, dim):
    """(dim, sizes of the pieces, whether one split size was given) for split and unsafe_split."""
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, Tensor) and split_size_or_sections._data.ndim == 0:
        split_size_or_sections = int(split_size_or_sections)
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        return d, [builtins.min(step, size - s) for s in range(0, size, step)] if size else [0], True
    sections = list(split_size_or_sections)
    if builtins.sum(sections) != size:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                           f"at dimension {d}), but got split_sizes={sections}")
    return d, sections, False


def _split(cls, input, dim, sizes, views=True):
    """The pieces of input along dim, recorded by node cls: views of input unless views is false (PyTorch's unsafe
    splits do not track them as views)."""
    starts = [0]
    for n in sizes[:-1]:
        starts.append(starts[-1] + n)
    if STATE.tracing:  # the exporter knows the narrow form
        return tuple(narrow(input, dim, a, n) for a, n in zip(starts, sizes))
    outs = _run_pieces(cls, input, (dim, tuple(sizes)))
    if not views:
        return outs
    return tuple([input._make_multi_view(o, lambda b, a=a, n=n: b.narrow(dim, a, n))
                  for o, a, n in zip(outs, starts, sizes)])


def split(tensor, split_size_or_sections, dim=0):
    d, sizes, one_size = _sections(tensor, split_size_or_sections, dim)
    return _split(Split if one_size else SplitWithSizes, tensor, d, sizes)


def split_with_sizes(tensor, split_sizes, dim=0):
    return split(tensor, list(split_sizes), dim)


def unsafe_split(tensor, split_size, dim=0):
    d, sizes, one_size = _sections(tensor, split_size, dim)
    return _split(UnsafeSplit if one_size else UnsafeSplitWithSizes, tensor, d, sizes, views=False)


def unsafe_split_with_sizes(tensor, split_sizes, dim=0):
    return unsafe_split(tensor, list(split_sizes), dim)


def _split_signature_error(name, sections):
    """hsplit/vsplit/dsplit's TypeError for sections that are neither an int nor a sequence of ints."""
    t = type(sections).__name__
    bad = f"      didn't match because some of the arguments have invalid types: (Tensor, !{t}!)\n"
    raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, {t}), "
                    f"but expected one of:\n * (Tensor input, int sections)\n{bad} * (Tensor input, tuple of ints "
                    f"indices)\n{bad}")


def _np_style_split(name, input, sections, dim, min_dims):
    """hsplit/vsplit/dsplit: tensor_split along a fixed dim, with an int meaning equal sections."""
    nd = input._data.ndim
    if nd < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor with "
                           f"{nd} dimensions!")
    if not isinstance(sections, (int, np.integer, list, tuple, Tensor)):
        _split_signature_error(name, sections)
    if isinstance(sections, (int, np.integer)):
        size = input._data.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{size} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    return _np_style_split("hsplit", input, indices_or_sections, 0 if input._data.ndim == 1 else 1, 1)


def vsplit(input, indices_or_sections):
    return _np_style_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    return _np_style_split("dsplit", input, indices_or_sections, 2, 3)


def _chunk_size(input, chunks, dim):
    """(dim, the split size of chunk), or (dim, None) for an empty dim (split into `chunks` empty pieces)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    return d, -(-size // chunks) if size else None


def chunk(input, chunks, dim=0):
    d, step = _chunk_size(input, chunks, dim)
    return split(input, [0] * chunks if step is None else step, d)


def tensor_split(input, indices_or_sections, dim=0):
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor) and indices_or_sections._data.ndim == 0:
        indices_or_sections = int(indices_or_sections)
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        base, extra = divmod(size, n)
        sizes = [base + 1 if i < extra else base for i in range(n)]
        starts = np.cumsum([0] + sizes[:-1]).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [size]
        spans = [slice(a, b).indices(size)[:2] for a, b in zip(bounds[:-1], bounds[1:])]
        starts = [a for a, _ in spans]
        sizes = [builtins.max(b - a, 0) for a, b in spans]
    return tuple(narrow(input, d, a, n) for a, n in zip(starts, sizes))


def unsafe_chunk(input, chunks, dim=0):
    d, step = _chunk_size(input, chunks, dim)
    return unsafe_split(input, [0] * chunks if step is None else step, d)


class Unbind(Function):
    """The slices along dim: one node with an output per slice, as in PyTorch."""

    _raw = True
    _node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def unbind(input, dim=0):
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, input._data.ndim)
    if STATE.tracing:  # the exporter knows the select form
        return tuple(select(input, d, i) for i in range(input._data.shape[d]))
    pieces = _run_pieces(Unbind, input, (d,))
    return tuple([input._make_multi_view(o, lambda b, i=i: b.select(d, i)) for i, o in enumerate(pieces)])


def _run_pieces(cls, input, args):
    """The arrays of split/unbind node cls as output Tensors (run_on for a plain Tensor; apply for others)."""
    if type(input) is Tensor and STATE.fast:
        return run_on(cls, input, args, input._rg and STATE.enabled)
    return cls.apply(input, *args)


def select(input, dim, index):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    size = input._data.shape[d]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at "
                         f"dimension {d}")
    return basic_index(input, (slice(None),) * d + (index,), SELECT)


# ---- copies with structure -------------------------------------------------------------------------------------
class Flip(Function):
    _raw = True
    _node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dims), None


def flip(input, *args, dims=None):
    dims = wrap_dims(_dims_arg("flip", args, dims), input._data.ndim)
    if STATE.fast and type(input) is Tensor:
        return run_on(Flip, input, (dims,), input._rg and STATE.enabled)
    return Flip.apply(input, dims)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


class Roll(Function):
    _raw = True
    _node_name = "RollBackward0"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.args = (shifts, dims)
        if dims is None:
            return np.roll(x, shifts)
        if len(dims) == 1 and x.shape[dims[0]]:  # one dim: two slices joined (np.roll's own setup costs more)
            d, n = dims[0], x.shape[dims[0]]
            cut = n - shifts[0] % n
            lead = (slice(None),) * d
            return np.concatenate((x[lead + (slice(cut, None),)], x[lead + (slice(0, cut),)]), axis=d)
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        shifts, dims = ctx.args
        neg = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
        return Roll.apply(g, neg, dims), None, None


def roll(input, shifts, dims=None):
    if isinstance(shifts, (list, tuple)):
        shifts = tuple(int(s) for s in shifts)
        if not shifts:
            raise RuntimeError("`shifts` required")
    if dims is not None:
        if input._data.ndim == 0:
            first = dims if isinstance(dims, int) else next(iter(dims), 0)
            raise IndexError(f"Dimension specified as {first} but tensor has no dimensions")
        dims = tuple(wrap_dim(d, input._data.ndim) for d in ((dims,) if isinstance(dims, int) else dims))
        if not isinstance(shifts, tuple):
            shifts = (int(shifts),)
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return Roll.apply(input, shifts, dims)


def rot90(input, k=1, dims=(0, 1)):
    nd = input._data.ndim
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    if dims[0] == dims[1] or builtins.abs(dims[0] - dims[1]) == nd:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    for i, v in enumerate(dims):
        if not -nd <= v < nd:
            raise RuntimeError(f"Rotation dim{i} out of range, dim{i} = {v}")
    d0, d1 = dims[0] % nd, dims[1] % nd
    k %= 4
    if STATE.tracing:  # the exporter knows the flip and transpose form
        return _rot90_composite(input, k, d0, d1)
    return Rot90.apply(input, k, (d0, d1))


class Rot90(Function):
    """A copy turned k quarter turns from dim d0 towards d1, strided as PyTorch's (a flip, then a transposed view)."""

    _raw = True
    _node_name = "Rot90Backward0"

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.args = (k, dims)
        if k == 0:
            return x.copy()
        if k == 2:
            return np.flip(x, dims).copy()
        return np.flip(x, dims[1] if k == 1 else dims[0]).copy().swapaxes(*dims)

    @staticmethod
    def backward(ctx, g):
        k, dims = ctx.args
        return Rot90.apply(g, -k % 4, dims), None, None


def _rot90_composite(input, k, d0, d1):
    """rot90 as PyTorch composes it from flip and transpose."""
    if k == 0:
        return input.clone()
    if k == 1:
        return flip(input, d1).transpose(d0, d1)
    if k == 2:
        return flip(input, d0, d1)
    return flip(input, d0).transpose(d0, d1)


class _Tri(Function):
    """Keeps one triangle of the last two dims; the other becomes +0 (NaN and inf included, as in PyTorch)."""

    _raw = True

    @classmethod
    def forward(cls, ctx, x, k):
        ctx.k = k
        n, m = x.shape[-2:]
        mask = _dropped_mask(cls, n, m, k) if n * m <= _CACHED_MASK else cls.dropped(n, m, k)
        return keep(x, mask, invert=True)

    @classmethod
    def backward(cls, ctx, g):
        return cls.apply(g, ctx.k), None


_CACHED_MASK = 1 << 16  # triangle masks up to this many elements are cached (<= 64 KB each)


@functools.lru_cache(maxsize=64)
def _dropped_mask(cls, n, m, k):
    """cls.dropped(n, m, k) made read-only and cached: np.tri costs more than masking a small matrix."""
    mask = cls.dropped(n, m, k)
    mask.flags.writeable = False
    return mask


class Tril(_Tri):
    _node_name = "TrilBackward0"

    @staticmethod
    def dropped(n, m, k):
        return ~np.tri(n, m, k, dtype=bool)


class Triu(_Tri):
    _node_name = "TriuBackward0"

    @staticmethod
    def dropped(n, m, k):
        return np.tri(n, m, k - 1, dtype=bool)


def _triangle(cls, input, diagonal, name):
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    if STATE.fast and type(input) is Tensor:
        return run_on(cls, input, (diagonal,), input._rg and STATE.enabled)
    return cls.apply(input, diagonal)


def tril(input, diagonal=0):
    return _triangle(Tril, input, diagonal, "tril")


def triu(input, diagonal=0):
    return _triangle(Triu, input, diagonal, "triu")


def _diag_view(x, offset, d1, d2):
    """A view of a diagonal, writable when x is (NumPy flags its diagonal views read-only)."""
    d = np.diagonal(x, offset, d1, d2)
    if x.flags.writeable:
        d.flags.writeable = True
    return d


class Diagonal(Function):
    _raw = True
    _node_name = "DiagonalBackward0"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (x.shape, offset, d1, d2)
        return _diag_view(x, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        shape, offset, d1, d2 = ctx.args
        return DiagonalBackward.apply(g, shape, offset, d1, d2), None, None, None


class DiagonalCopy(Diagonal):
    """diag of a matrix: its diagonal as a new tensor (PyTorch's diagonal_copy)."""

    _node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        return Diagonal.forward(ctx, x, offset, d1, d2).copy()


class DiagonalScatter(Function):
    """A copy of x with src written on its diagonal (offset, d1, d2)."""

    _raw = True
    _node_name = "DiagonalScatterBackward0"

    @staticmethod
    def forward(ctx, x, src, offset, d1, d2):
        ctx.args = (offset, d1, d2, src.shape)
        out = x.copy()
        _diag_view(out, offset, d1, d2)[...] = src
        return out

    @staticmethod
    def backward(ctx, g):
        offset, d1, d2, src_shape = ctx.args
        zeros = Tensor._make(np.zeros(src_shape, g._data.dtype))
        gx = DiagonalScatter.apply(g, zeros, offset, d1, d2) if ctx.needs_input_grad[0] else None
        gs = diagonal(g, offset, d1, d2) if ctx.needs_input_grad[1] else None
        return gx, gs, None, None, None


class DiagonalBackward(Function):
    """zeros(shape) with g written on the diagonal (offset, d1, d2): the backward of diagonal, and diag_embed."""

    _raw = True
    _node_name = "DiagonalBackwardBackward0"

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        out = np.zeros(shape, g.dtype)
        _diag_view(out, offset, d1, d2)[...] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        offset, d1, d2 = ctx.args
        return Diagonal.apply(gg, offset, d1, d2), None, None, None, None


DiagEmbed = overload(DiagonalBackward, "DiagEmbedBackward0")


def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    out = Diagonal.apply(input, offset, d1, d2)
    return input._make_view(out, lambda b: b.diagonal(offset, d1, d2))


def diag(input, diagonal=0):
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal)
    if nd == 2:
        return DiagonalCopy.apply(input, diagonal, 0, 1)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{nd}D")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input._data.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input._data.shape[-1] if input._data.ndim else 1) + builtins.abs(offset)
    rest = iter(input._data.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    return DiagEmbed.apply(input, shape, offset, d1, d2)


def diagflat(input, offset=0):
    return diag_embed(input.reshape(-1), offset)


def trace(input):
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return Trace.apply(input)


class Trace(Function):
    """The sum of a matrix's diagonal (in int64 for integers, as sum)."""

    _raw = True
    _node_name = "TraceBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return np.asarray(np.add.reduce(np.diagonal(x), dtype=np.int64 if x.dtype.kind in "biu" else x.dtype))

    @staticmethod
    def backward(ctx, g):
        shape = ctx.shape
        return DiagonalBackward.apply(g.expand(builtins.min(shape)), shape, 0, 0, 1)


class Repeat(Function):
    _raw = True
    _node_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, x, reps):
        lead = len(reps) - x.ndim
        xs = x.reshape((1,) * lead + x.shape)
        ctx.shape = xs.shape
        ctx.in_shape = x.shape
        return np.tile(xs, reps)

    @staticmethod
    def backward(ctx, g):
        shp = ctx.shape
        reps = [gs // s if s else 0 for gs, s in zip(g._data.shape, shp)]
        inter = []
        for r, s in zip(reps, shp):
            inter += [r, s]
        gs = g.reshape(inter) if g.numel() else g
        if g.numel():
            gs = gs.sum(tuple(range(0, 2 * len(shp), 2)))
        else:
            from .creation import zeros
            gs = zeros(shp, dtype=g.dtype)
        return gs.reshape(ctx.in_shape), None


def repeat(input, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shp = (1,) * (len(sizes) - input._data.ndim) + input._data.shape
    target = [a * b for a, b in zip(shp, sizes)]
    for v in target:
        if v < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {v}: {target}")
    return Repeat.apply(input, sizes)


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def _repeat_counts(reps, output_size):
    """Indices 0..len(reps)-1 each repeated reps[i] times (the core of repeat_interleave)."""
    if reps.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if reps.size and reps.min() < 0:
        raise RuntimeError("repeats can not be negative")
    idx = np.repeat(np.arange(reps.shape[0], dtype=np.int64), reps)
    if output_size is not None and idx.shape[0] != output_size:
        raise RuntimeError("allocated size does not match required size")
    return Tensor._make(idx)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:
        return _repeat_counts(input._data.astype(np.int64), output_size)
    if dim is None:
        input = input.reshape(-1)
        dim = 0
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if not isinstance(repeats, Tensor) and int(repeats) >= 0 and output_size in (None, n * int(repeats)):
        return _repeat_each(input, d, int(repeats))
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        reps = repeats._data.astype(np.int64)
    else:
        reps = np.asarray(int(repeats), np.int64)
        if reps < 0:
            raise RuntimeError("Repeats must be non-negative")
    if reps.ndim == 0 or reps.size == 1:
        reps = np.full(n, int(reps.reshape(-1)[0]), np.int64)
    if reps.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{reps.shape[0]} and input.size({d}) = {n}")
    return input.index_select(d, _repeat_counts(reps, output_size))


def _repeat_each(input, d, r):
    """Each slice along d repeated r times, as PyTorch repeats by a number: unsqueeze, expand, copy, view."""
    shape = input._data.shape
    x, target = unsqueeze(input, d + 1), shape[:d + 1] + (r,) + shape[d + 1:]
    wide = _view_op(Expand, x, (target,), _expanded, lambda b: b.expand(target))  # target is valid: no checks
    return view(contiguous(wide), shape[:d] + (shape[d] * r,) + shape[d + 1:])


# ---- CopySlices: in-place ops on views ------------------------------------------------------------------------------
class CopySlices(Function):
    """The base's new history after an in-place op on one of its views."""

    _raw = True
    _node_name = "CopySlices"

    def name(self):
        return "torch::autograd::CopySlices"

    @staticmethod
    def forward(ctx, base, result, view_fn):
        ctx.view_fn = view_fn
        ctx.base_shape = base.shape
        return base

    @staticmethod
    def backward(ctx, g):
        mask = np.ones(ctx.base_shape, g._data.dtype)
        ctx.view_fn(Tensor._make(mask))._data[...] = 0
        g_base = g * Tensor._make(mask)
        g_result = ctx.view_fn(g)
        return g_base, g_result, None


def copy_slices(view, node, output_nr):
    """After `view` got new history (node, output_nr) in place, route its base's history through it."""
    base = view._base
    result = Tensor._make(view._data)
    result._grad_fn, result._output_nr, result._rg = node, output_nr, True
    old_base = base._alias()
    new = CopySlices.apply(old_base, result, view._view_fn)
    base._grad_fn, base._output_nr, base._rg = new._grad_fn, 0, True
    fresh = view._view_fn(base)
    if fresh._grad_fn is not base._grad_fn:
        as_node(fresh, "AsStridedBackward0")  # PyTorch regenerates the view of a changed base with as_strided
    view._grad_fn, view._output_nr = fresh._grad_fn, fresh._output_nr


class UnfoldWindows(Function):
    """Tensor.unfold: the windows of `size` every `step` along dim, as a new last dim (a view; windows overlap)."""

    _raw = True
    _node_name = "UnfoldBackward0"

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.args = (x.shape, dim, size, step)
        if x.ndim == 0:
            return x.reshape(1)
        windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
        return windows[(slice(None),) * dim + (slice(None, None, step),)]

    @staticmethod
    def backward(ctx, g):
        shape, dim, size, step = ctx.args
        if not shape:
            return g.reshape(()), None, None, None
        gx = g.new_zeros(shape)
        starts = np.arange(g.shape[dim]) * step
        for k in range(size):  # window offset k: distinct positions, so one index_add each
            gx = gx.index_add(dim, Tensor._make(starts + k), g.select(-1, k))
        return gx, None, None, None


def unfold_windows(input, dimension, size, step):
    """Tensor.unfold(dimension, size, step), with PyTorch's checks."""
    nd = input._data.ndim
    d = wrap_dim(dimension, builtins.max(nd, 1))
    n = input._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    out = UnfoldWindows.apply(input, d, size, step)
    return input._make_view(out, lambda b: b.unfold(dimension, size, step))


_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
_COMPLEX_OF = {v: k for k, v in _REAL_OF.items()}


class ViewAsReal(Function):
    """A complex tensor's memory seen as real pairs in a new last dim of size 2."""

    _raw = True
    _node_name = "ViewAsRealBackward0"

    @staticmethod
    def forward(ctx, x):
        return x[..., None].view(_REAL_OF[x.dtype])

    @staticmethod
    def backward(ctx, g):
        return view_as_complex(contiguous(g))


class ViewAsComplex(Function):
    """A real tensor's last dim of size 2 (stride 1) seen as complex numbers."""

    _raw = True
    _node_name = "ViewAsComplexBackward0"

    @staticmethod
    def forward(ctx, x):
        return x.view(_COMPLEX_OF[x.dtype])[..., 0]

    @staticmethod
    def backward(ctx, g):
        return view_as_real(g)


def view_as_real(input):
    if input._data.dtype not in _REAL_OF:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return input._make_view(ViewAsReal.apply(input), view_as_real)


def view_as_complex(input):
    x = input._data
    if not x.ndim or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if x.strides[-1] != x.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if x.dtype not in _COMPLEX_OF:
        raise NotImplementedError(f"ember has no complex dtype for {x.dtype.name} pairs")
    return input._make_view(ViewAsComplex.apply(input), view_as_complex)


__all__ = ["view", "reshape", "view_as", "reshape_as", "ravel", "flatten", "unflatten", "squeeze", "unsqueeze",
           "permute", "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "adjoint", "expand", "expand_as",
           "broadcast_to", "broadcast_shapes", "broadcast_tensors", "contiguous", "cat", "concat", "concatenate",
           "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack", "atleast_1d", "atleast_2d",
           "atleast_3d", "narrow", "narrow_copy", "split", "split_with_sizes", "unsafe_split",
           "unsafe_split_with_sizes", "hsplit", "vsplit", "dsplit", "chunk", "unsafe_chunk", "tensor_split", "unbind",
           "select", "flip", "fliplr", "flipud", "roll", "rot90", "tril", "triu", "diagonal", "diag", "diag_embed",
           "diagflat", "trace", "repeat", "tile", "repeat_interleave", "view_as_real", "view_as_complex"]


# ---- torch.<view op>_copy: the view's values as a new tensor -------------------------------------------------------
def _slice(input, dim=0, start=None, end=None, step=1):
    return input[(slice(None),) * wrap_dim(dim, input.dim()) + (slice(start, end, step),)]


def _copy_variant(view_op, name, node=None):
    """torch.<name>: view_op's result copied into new contiguous memory, its node named as PyTorch's
    (<view node>_copy, or `node`)."""
    def fn(input, *args, **kwargs):
        out = view_op(input, *args, **kwargs)
        if isinstance(out, (tuple, list)):
            return tuple(_copied(t, node) for t in out)
        return _copied(out, node)
    fn.__name__ = fn.__qualname__ = name
    return fn


def _copied(view, node):
    out = view.clone()
    if out._rg:
        as_node(out, node or view.grad_fn._node_name + "_copy")
    return out


_COPY_VARIANTS = {
    "view_copy": lambda x, *shape: x.view(*shape), "permute_copy": permute, "t_copy": t,
    "transpose_copy": transpose, "expand_copy": expand, "squeeze_copy": squeeze, "unsqueeze_copy": unsqueeze,
    "select_copy": select, "split_copy": split, "split_with_sizes_copy": split_with_sizes,
    "unbind_copy": unbind, "diagonal_copy": diagonal, "detach_copy": lambda x: x.detach(), "unfold_copy": unfold_windows, "view_as_real_copy": view_as_real,
    "view_as_complex_copy": view_as_complex,
}
for _name, _op in _COPY_VARIANTS.items():
    globals()[_name] = _copy_variant(_op, _name)
alias_copy = _copy_variant(lambda x: x.view_as(x), "alias_copy", "AliasBackward0_copy")
slice_copy = _copy_variant(_slice, "slice_copy", "SliceBackward0_copy")  # a full slice too
__all__ += list(_COPY_VARIANTS) + ["alias_copy", "slice_copy"]
del _name, _op


# ---- as_strided: a view with explicit sizes, strides and storage offset ---------------------------------------------
def _storage(a):
    """(flat storage, a's offset in it): the memory of the ndarray that owns a's data, in elements."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        raise NotImplementedError("as_strided: ember cannot address the storage of this array")
    offset = (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize
    return root.reshape(-1, order="A"), offset


def _element_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


def _storage_index(size, stride, offset):
    """The storage position of every element of a strided view (an int64 array of shape size)."""
    idx = np.full(tuple(size), offset, np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        idx += (np.arange(n, dtype=np.int64) * s).reshape((-1,) + (1,) * (len(size) - d - 1))
    return idx


def _check_strided(storage_size, size, stride, offset, itemsize):
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    if math.prod(size) == 0:
        return
    need = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if need > storage_size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {itemsize} requiring a storage size of {need * itemsize} are out of bounds for "
                           f"storage of size {storage_size * itemsize}")


class AsStrided(Function):
    """A view of the input's storage; backward scatters the gradient into a storage-sized buffer (adding where
    the view overlaps itself) and reads it back in the input's geometry (divided by the input's own overlap), as
    PyTorch's as_strided_backward."""

    _raw = True
    _node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        flat, x_offset = _storage(x)
        _check_strided(flat.size, size, stride, offset, x.itemsize)
        ctx.geom = (flat.size, x.shape, _element_strides(x), x_offset, size, stride, offset)
        if not math.prod(size):
            offset, stride = builtins.min(offset, flat.size), (0,) * len(size)
        return np.ndarray(size, x.dtype, buffer=flat, offset=offset * x.itemsize,
                          strides=tuple(s * x.itemsize for s in stride))

    @staticmethod
    def backward(ctx, g):
        from .creation import zeros
        n, xshape, xstride, xoffset, size, stride, offset = ctx.geom
        out_idx = Tensor._make(_storage_index(size, stride, offset).reshape(-1))
        storage = zeros(n, dtype=g.dtype).index_add(0, out_idx, g.reshape(-1))
        in_idx = _storage_index(xshape, xstride, xoffset)
        counts = np.bincount(in_idx.reshape(-1), minlength=n)
        if counts.max(initial=0) > 1:
            storage = storage / Tensor._make(np.maximum(counts, 1).astype(g._data.dtype))
        return storage[Tensor._make(in_idx)], None, None, None


def _strided_args(input, size, stride, storage_offset):
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    return size, stride, input.storage_offset() if storage_offset is None else int(storage_offset)


def as_strided(input, size, stride, storage_offset=None):
    size, stride, offset = _strided_args(input, size, stride, storage_offset)
    return input._make_view(AsStrided.apply(input, size, stride, offset),
                            lambda b: as_strided(b, size, stride, offset))


def as_strided_copy(input, size, stride, storage_offset=None):
    out = as_strided(input, size, stride, storage_offset).clone()
    return as_node(out, "AsStridedBackward0_copy") if out._rg else out


def _strided_region(a, size, stride, offset):
    """The as_strided view of a fresh array's own memory (a is not a view)."""
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        raise NotImplementedError("as_strided_scatter: ember supports inputs laid out row- or column-major")
    flat = a.reshape(-1, order="A")
    return np.ndarray(size, a.dtype, buffer=flat, offset=offset * a.itemsize,
                      strides=tuple(s * a.itemsize for s in stride))


class AsStridedScatter(Function):
    """input (copied in its own layout) with src written into the as_strided region of the copy's storage. The
    gradient of input is g outside the region; PyTorch's formula gives g inside it instead, which is not the
    derivative, so ember keeps the derivative."""

    _raw = True
    _node_name = "AsStridedScatterBackward0"

    @staticmethod
    def forward(ctx, x, src, size, stride, offset):
        out = x.copy(order="K")
        _check_strided(out.size, size, stride, offset, out.itemsize)
        if src.shape != size:
            raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                               f"slice size = {list(size)}")
        ctx.geom = (size, stride, offset)
        if math.prod(size):
            _strided_region(out, size, stride, offset)[...] = src
        return out

    @staticmethod
    def backward(ctx, g):
        size, stride, offset = ctx.geom
        gd = g._data.copy(order="K")
        region = _strided_region(gd, size, stride, offset) if math.prod(size) else np.zeros(size, gd.dtype)
        g_src = region.copy()
        region[...] = 0
        return Tensor._make(gd), Tensor._make(g_src), None, None, None


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    return AsStridedScatter.apply(input, src, size, stride, 0 if storage_offset is None else int(storage_offset))


__all__ += ["as_strided", "as_strided_copy", "as_strided_scatter"]
