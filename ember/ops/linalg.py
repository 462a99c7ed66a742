"""Linear algebra: matmul and friends, einsum, and the fused add-multiply forms."""
import string

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import sum_to


def _legacy(d):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int"}.get(np.dtype(d).name, np.dtype(d).name)


def _check_same_dtype(a, b):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_legacy(a._data.dtype)} != "
                           f"{_legacy(b._data.dtype)}")


class MatMul(Function):
    _raw = True
    _node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.asarray(np.matmul(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a.unsqueeze(0) if a.dim() == 1 else a
        b2 = b.unsqueeze(-1) if b.dim() == 1 else b
        g2 = g
        if a.dim() == 1:
            g2 = g2.unsqueeze(-2)
        if b.dim() == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(matmul(g2, b2.transpose(-1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = sum_to(matmul(a2.transpose(-1, -2), g2), b2.shape).reshape(b.shape)
        return ga, gb


def matmul(input, other, *, out=None):
    a, b = input, other
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a._data.ndim}D and "
                           f"{b._data.ndim}D")
    _check_same_dtype(a, b)
    ka = a._data.shape[-1]
    kb = b._data.shape[0] if b._data.ndim == 1 else b._data.shape[-2]
    if ka != kb:
        if a._data.ndim == 1 and b._data.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] to have the same "
                               "number of elements, but got {ka} and {kb} elements respectively")
        ash = "x".join(map(str, a._data.shape if a._data.ndim > 1 else (1,) + a._data.shape))
        bsh = "x".join(map(str, b._data.shape if b._data.ndim > 1 else b._data.shape + (1,)))
        if a._data.ndim <= 2 and b._data.ndim <= 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ash} and {bsh})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a._data.shape[0]}, "
                           f"{ka}] but got: [{b._data.shape[0]}, {kb}].")
    r = MatMul.apply(a, b)
    if out is not None:
        from .elementwise import _out
        return _out(r, out)
    return r


def mm(input, mat2, *, out=None):
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0] or input._data.shape[2] != mat2._data.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input._data.shape[0]}, "
                           f"{input._data.shape[2]}] but got: [{mat2._data.shape[0]}, {mat2._data.shape[1]}].")
    return matmul(input, mat2, out=out)


def mv(input, vec, *, out=None):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    return matmul(input, vec, out=out)


def dot(input, other, *, out=None):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {input.dtype.name.capitalize()} "
                           f"and {other.dtype.name.capitalize()}")
    if input._data.shape[0] != other._data.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src "
                           f"[{other._data.shape[0]}] to have the same number of elements, but got "
                           f"{input._data.shape[0]} and {other._data.shape[0]} elements respectively")
    return matmul(input, other, out=out)


inner_dot = dot


def vdot(input, other):
    return dot(input.conj() if input.is_complex() else input, other)


def outer(input, vec2):
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def inner(input, other):
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    return matmul(input, other.transpose(-1, -2) if other.dim() > 1 else other) if other.dim() <= 2 else \
        tensordot(input, other, dims=([-1], [-1]))


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    prod = mm(mat1, mat2)
    return _combine(input, prod, beta, alpha, out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    return _combine(input, mv(mat, vec), beta, alpha, out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _combine(input, bmm(batch1, batch2).sum(0), beta, alpha, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _combine(input, bmm(batch1, batch2), beta, alpha, out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    return _combine(input, outer(vec1, vec2), beta, alpha, out)


def _combine(input, prod, beta, alpha, out):
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        r = prod
    else:
        r = prod + (input * beta if beta != 1 else input)
    if out is not None:
        from .elementwise import _out
        return _out(r, out)
    return r


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, int):
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [d % a.dim() for d in da]
    db = [d % b.dim() for d in db]
    fa = [d for d in range(a.dim()) if d not in da]
    fb = [d for d in range(b.dim()) if d not in db]
    am = a.permute(fa + da).reshape(int(np.prod([a.shape[d] for d in fa])), -1)
    bm = b.permute(db + fb).reshape(int(np.prod([b.shape[d] for d in db])), -1)
    return mm(am, bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])


def kron(input, other):
    a, b = input, other
    nd = max(a.dim(), b.dim())
    a = a.reshape((1,) * (nd - a.dim()) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.dim()) + tuple(b.shape))
    ai = a.reshape(sum(([s, 1] for s in a.shape), []))
    bi = b.reshape(sum(([1, s] for s in b.shape), []))
    return (ai * bi).reshape([x * y for x, y in zip(a.shape, b.shape)])


def cross(input, other, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(input.shape) if s == 3)
    a0, a1, a2 = input.unbind(dim)
    b0, b1, b2 = other.unbind(dim)
    from .shape import stack
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


# ---- einsum ---------------------------------------------------------------------------------------------------
def _parse_einsum(eq, shapes):
    """Explicit form of an einsum equation: ellipses expanded, output spelled out."""
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = max([len(s) - (len(i) - 3) for i, s in zip(ins, shapes) if "..." in i] or [0])
    ell = "".join(free[:ell_n])
    new_ins = []
    for i, s in zip(ins, shapes):
        if "..." in i:
            n = len(s) - (len(i) - 3)
            i = i.replace("...", ell[ell_n - n:])
        if len(i) != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(i)}) does not match the "
                               f"number of dimensions ({len(s)}) for operand and no ellipsis was given")
        new_ins.append(i)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for i in new_ins:
            for c in i:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return new_ins, out


class Einsum(Function):
    _raw = True
    _node_name = "EinsumBackward"

    @staticmethod
    def forward(ctx, eq, *xs):
        ins, out = _parse_einsum(eq, [x.shape for x in xs])
        ctx.spec = (ins, out)
        ctx.save_for_backward(*xs)
        return np.asarray(np.einsum(",".join(ins) + "->" + out, *xs, optimize=len(xs) > 2))

    @staticmethod
    def backward(ctx, g):
        ins, out = ctx.spec
        xs = ctx.saved_tensors
        grads = [None]
        for i, (sub, x) in enumerate(zip(ins, xs)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            if len(set(sub)) != len(sub):
                raise NotImplementedError("ember's einsum backward does not support repeated subscripts in one operand")
            others = [(s, t) for j, (s, t) in enumerate(zip(ins, xs)) if j != i]
            avail = set(out).union(*[set(s) for s, _ in others]) if others else set(out)
            target = "".join(c for c in sub if c in avail)
            eq = ",".join([out] + [s for s, _ in others]) + "->" + target
            gi = einsum(eq, g, *[t for _, t in others])
            if target != sub:
                shape = [x.shape[k] if c not in avail else -1 for k, c in enumerate(sub)]
                gi = gi.reshape([x.shape[k] if c in avail else 1 for k, c in enumerate(sub)]).expand(x.shape)
            grads.append(gi)
        return tuple(grads)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise NotImplementedError("ember's einsum takes the equation-string form only")
    dt = operands[0]._data.dtype
    for t in operands[1:]:
        if t._data.dtype != dt:
            raise RuntimeError(f"expected scalar type {_legacy(dt)} but found {_legacy(t._data.dtype)}")
    return Einsum.apply(equation, *operands)


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "addmm", "addmv", "addbmm",
           "baddbmm", "addr", "tensordot", "kron", "cross", "einsum"]
