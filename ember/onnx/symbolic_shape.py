"""Converters of shape, indexing, reduction and matrix ops (view/permute/cat/slicing/gather/sum/matmul/...)."""
import numpy as np

from ..ops import embedding as EMB
from ..ops import indexing as I
from ..ops import linalg as LA
from ..ops import linear as LIN
from ..ops import reduction as R
from ..ops import shape as S
from . import _registry as reg
from ._dynamic import SymInt
from ._emitter import INT64_MAX, Unsupported
from ._tracer import TRef
from .symbolic_helper import cast, out_dtype, reshape, x0


# ---- views and copies ----------------------------------------------------------------------------------------------
@reg.op(S.Reshape, dynamic=(1,))
def view(e, op):
    entries = e.ints(op, lambda c: c.args[1])
    e.set(op, 0, reshape(e, x0(e, op), entries))


@reg.op(S.Permute)
def permute(e, op):
    e.set(op, 0, e.g.op("Transpose", [x0(e, op)], perm=[int(d) for d in op.args[1]]))


@reg.op(S.Expand, dynamic=(1,))
def expand(e, op):
    entries = e.ints(op, lambda c: c.args[1])
    e.set(op, 0, e.g.op("Expand", [x0(e, op), e.shape_tensor(entries)]))


@reg.op(S._Contig)
def contiguous(e, op):
    e.set(op, 0, x0(e, op))


@reg.op(S.Cat)
def cat(e, op):
    dim, nd, xs = op.args[0], np.dtype(op.args[1]), op.args[2:]
    keep = [r for r in xs if not (len(r.shape) == 1 and r.shape[0] == 0)] or list(xs[:1])
    names = [cast(e, e.x(r), r.dtype, nd) for r in keep]
    e.set(op, 0, names[0] if len(names) == 1 else e.g.op("Concat", names, axis=int(dim)))


@reg.op(S.Flip)
def flip(e, op):
    dims = [int(d) for d in op.args[1]]
    g = e.g
    n = len(dims)
    e.set(op, 0, g.op("Slice", [x0(e, op), g.ints([-1] * n), g.ints([-INT64_MAX] * n), g.ints(dims),
                                g.ints([-1] * n)]))


@reg.op(S.Repeat, dynamic=(1,))
def repeat(e, op):
    x, reps = op.args
    lead = len(reps) - len(x.shape)
    name = e.x(x)
    if lead:
        name = e.g.op("Unsqueeze", [name, e.g.ints(list(range(lead)))])
    e.set(op, 0, e.g.op("Tile", [name, e.shape_tensor(e.ints(op, lambda c: c.args[1]))]))


@reg.op(S.Tril, S.Triu)
def trilu(e, op):
    k = e.g.scalar(int(op.args[1]), np.int64)
    e.set(op, 0, e.g.op("Trilu", [x0(e, op), k], upper=int(op.fn is S.Triu)))


# ---- indexing ------------------------------------------------------------------------------------------------------
def _expanded(call):
    x, key = call.args[0], call.args[1]
    comps = []
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    for k in key:
        comps += [slice(None)] * (len(x.shape) - used) if k is Ellipsis else [k]
    dims = sum(1 for k in comps if k is not None)
    return comps + [slice(None)] * (len(x.shape) - dims)


def _kind(c):
    if c is None:
        return "none"
    if isinstance(c, slice):
        return "slice"
    if isinstance(c, np.ndarray):
        return "array"
    if isinstance(c, bool):
        return "bool"
    return "int"


@reg.op(I.GetItem, dynamic=(1,))
def getitem(e, op):
    comps = _expanded(op)
    e.same_in_runs(op, lambda c: [_kind(k) for k in _expanded(c)], "the index structure")
    kinds = [_kind(k) for k in comps]
    if "bool" in kinds:
        raise Unsupported("indexing with a Python bool")
    if "array" in kinds:
        return _advanced(e, op, comps, kinds)
    starts, ends, axes, steps, squeeze, unsq = [], [], [], [], [], []
    d = pos = 0
    for j, (c, kind) in enumerate(zip(comps, kinds)):
        if kind == "none":
            unsq.append(pos)
            pos += 1
            continue
        bounds = _bounds(e, op, j, d, kind)
        if bounds is not None:
            starts.append(bounds[0])
            ends.append(bounds[1])
            steps.append(bounds[2])
            axes.append(d)
        if kind == "int":
            squeeze.append(d)
        else:
            pos += 1
        d += 1
    out = x0(e, op)
    g = e.g
    if axes:
        out = g.op("Slice", [out, e.shape_tensor(starts), e.shape_tensor(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        out = g.op("Squeeze", [out, g.ints(squeeze)])
    if unsq:
        out = g.op("Unsqueeze", [out, g.ints(unsq)])
    e.set(op, 0, out)


def _bounds(e, op, j, d, kind):
    """(start, end, step) of component j on input dim d (None for a full slice); ends at the dim's end are open."""
    def norm(call):
        n = call.args[0].shape[d]
        c = _expanded(call)[j]
        if kind == "int":
            i = int(c) + n if int(c) < 0 else int(c)
            return i, i + 1, 1, n
        start, stop, step = c.indices(n)
        return start, max(stop, start), step, n

    vals = [norm(c) for c in [op] + e.alts(op)]
    step = e.same_in_runs(op, lambda c: norm(c)[2], "a slice step")
    if step <= 0:
        raise Unsupported("non-positive slice step")
    start = e.ints(op, lambda c: norm(c)[0])
    to_end = all(v[1] == v[3] for v in vals)
    end = INT64_MAX if to_end else e.ints(op, lambda c: norm(c)[1])
    if kind == "slice" and start == 0 and to_end and step == 1:
        return None
    return start, end, step


def _advanced(e, op, comps, kinds):
    """One integer (or boolean) index array on one dim, full slices elsewhere: a Gather."""
    arrays = [j for j, k in enumerate(kinds) if k == "array"]
    if len(arrays) != 1 or "none" in kinds or "int" in kinds:
        raise Unsupported("advanced indexing beyond one index array")
    for j, c in enumerate(comps):
        if j != arrays[0] and not (c.start is None and c.stop is None and c.step in (None, 1)):
            raise Unsupported("advanced indexing combined with slicing")
    j = arrays[0]
    idx = e.same_in_runs(op, lambda c: _expanded(c)[j], "an index array")
    if idx.dtype == np.bool_:
        if idx.ndim != 1:
            raise Unsupported("a multi-dimensional boolean mask")
        idx = np.flatnonzero(idx)
    n = op.args[0].shape[j]
    if (idx < 0).any():
        e.same_in_runs(op, lambda c: c.args[0].shape[j], "the size of an indexed dim")
        idx = np.where(idx < 0, idx + n, idx)
    e.set(op, 0, e.g.op("Gather", [x0(e, op), e.g.const(idx.astype(np.int64))], axis=j))


def _index(e, ref):
    """An index operand: a live tensor (cast to int64) or a constant array."""
    if isinstance(ref, TRef):
        return cast(e, e.x(ref), ref.dtype, np.int64)
    return e.g.const(np.asarray(ref, np.int64))


@reg.op(I.IndexSelect, dynamic=(3,), arrays=(2,))
def index_select(e, op):
    x, dim, idx, _ = op.args
    if len(x.shape) == 0:
        raise Unsupported("index_select of a 0-d tensor")
    e.set(op, 0, e.g.op("Gather", [e.x(x), _index(e, idx)], axis=int(dim)))


@reg.op(I.Gather, arrays=(2,))
def gather(e, op):
    x, dim, idx = op.args
    e.set(op, 0, e.g.op("GatherElements", [e.x(x), _index(e, idx)], axis=int(dim)))


@reg.op(EMB.Embedding, arrays=(1,))
def embedding(e, op):
    w, idx = op.args[:2]
    e.set(op, 0, e.g.op("Gather", [e.x(w), _index(e, idx)], axis=0))


# ---- reductions ----------------------------------------------------------------------------------------------------
def _all(ref, dims):
    return list(range(len(ref.shape))) if dims is None else [int(d) for d in dims]


def _reduce(e, op, op_type, x, dims, keepdim):
    if not dims:
        return x
    return e.g.reduce(op_type, x, dims, keepdim)


@reg.op(R.Sum, R.NanSum)
def reduce_sum(e, op):
    x, dims, keepdim, nd = op.args
    if op.fn is R.NanSum:
        raise Unsupported("nansum")
    name = cast(e, e.x(x), x.dtype, nd if nd is not None else out_dtype(op))
    e.set(op, 0, _reduce(e, op, "ReduceSum", name, _all(x, dims), keepdim))


@reg.op(R.Mean)
def reduce_mean(e, op):
    x, dims, keepdim = op.args
    e.set(op, 0, _reduce(e, op, "ReduceMean", e.x(x), _all(x, dims), keepdim))


@reg.op(R.AMax, R.AMin)
def amax(e, op):
    x, dims, keepdim, _ = op.args
    e.set(op, 0, _reduce(e, op, "ReduceMax" if op.fn is R.AMax else "ReduceMin", e.x(x), _all(x, dims), keepdim))


@reg.op(R.MaxAll, R.MinAll)
def max_all(e, op):
    x = op.args[0]
    e.set(op, 0, _reduce(e, op, "ReduceMax" if op.fn is R.MaxAll else "ReduceMin", e.x(x), _all(x, None), False))


@reg.op(R.MaxDim, R.MinDim, dynamic=(1,))
def max_dim(e, op):
    x, _, dim, keepdim = op.args
    if len(x.shape) == 0:
        raise Unsupported("max/min over a 0-d tensor")
    name = e.x(x)
    kind = "Max" if op.fn is R.MaxDim else "Min"
    e.set(op, 0, e.g.reduce("Reduce" + kind, name, [dim], keepdim))
    e.set(op, 1, e.g.op("Arg" + kind, [name], axis=int(dim), keepdims=int(keepdim)))


@reg.op(R.Var, R.Std)
def var(e, op):
    x, dims, correction, keepdim, _ = op.args
    dims = _all(x, dims)
    g = e.g
    dt = out_dtype(op)
    name = e.x(x)
    d = g.op("Sub", [name, g.reduce("ReduceMean", name, dims, True)])
    sq = g.reduce("ReduceSum", g.op("Mul", [d, d]), dims, keepdim)
    count = e.ints(op, lambda c: int(np.prod([c.args[0].shape[k] for k in dims])))
    if isinstance(count, SymInt):
        denom = cast(e, g.op("Sub", [e.dyn(count), g.ints([int(correction)])]), np.int64, dt)
    else:
        denom = g.scalar(max(count - correction, 0), dt)
    out = g.op("Div", [sq, denom])
    e.set(op, 0, g.op("Sqrt", [out]) if op.fn is R.Std else out)


@reg.op(R.LogSumExp)
def logsumexp(e, op):
    x, dims, keepdim = op.args
    e.set(op, 0, _reduce(e, op, "ReduceLogSumExp", e.x(x), _all(x, dims), keepdim))


@reg.op(R.VectorNorm)
def vector_norm(e, op):
    x, p, dims, keepdim = op.args
    dims = _all(x, dims)
    g = e.g
    a = g.op("Abs", [e.x(x)])
    dt = out_dtype(op)
    if p == 2:
        r = g.reduce("ReduceL2", e.x(x), dims, keepdim)
    elif p == 1:
        r = g.reduce("ReduceL1", e.x(x), dims, keepdim)
    elif p == float("inf"):
        r = g.reduce("ReduceMax", a, dims, keepdim)
    elif p == -float("inf"):
        r = g.reduce("ReduceMin", a, dims, keepdim)
    elif p == 0:
        r = g.reduce("ReduceSum", cast(e, g.op("Not", [g.op("Equal", [a, g.scalar(0, dt)])]), np.bool_, dt), dims,
                     keepdim)
    else:
        r = g.op("Pow", [g.reduce("ReduceSum", g.op("Pow", [a, g.scalar(p, dt)]), dims, keepdim),
                         g.scalar(1.0 / p, dt)])
    e.set(op, 0, r)


@reg.op(R.Prod)
def prod(e, op):
    x, dim, keepdim, nd = op.args
    name = cast(e, e.x(x), x.dtype, nd if nd is not None else out_dtype(op))
    e.set(op, 0, _reduce(e, op, "ReduceProd", name, _all(x, None if dim is None else (dim,)), keepdim))


@reg.op(R.CumSum)
def cumsum(e, op):
    x, dim, nd = op.args
    name = cast(e, e.x(x), x.dtype, nd if nd is not None else out_dtype(op))
    e.set(op, 0, e.g.op("CumSum", [name, e.g.scalar(int(dim), np.int64)]))


# ---- matrix products -----------------------------------------------------------------------------------------------
@reg.op(LA.MatMul)
def matmul(e, op):
    e.set(op, 0, e.g.op("MatMul", [e.x(op.args[0]), e.x(op.args[1])]))


@reg.op(LA.Einsum)
def einsum(e, op):
    eq, xs = op.args[0], op.args[1:]
    e.set(op, 0, e.g.op("Einsum", [e.x(r) for r in xs], equation=str(eq).replace(" ", "")))


@reg.op(LIN.Addmm)
def addmm(e, op):
    x, w, b = op.args
    inputs = [e.x(x), e.x(w)] + ([e.x(b)] if isinstance(b, TRef) else [])
    e.set(op, 0, e.g.op("Gemm", inputs, transB=1))
