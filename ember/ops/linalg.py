"""Linear algebra: matmul and friends, einsum, the fused add-multiply forms, and the solvers and
decompositions behind torch.linalg.

Shape and dtype checks follow the kernel PyTorch dispatches to (dot, mv, mm or bmm), so that the
errors carry PyTorch's messages; the arithmetic is one NumPy matmul/einsum/LAPACK call per op.
Backward passes are ember ops on saved inputs/outputs, so they differentiate again.
"""
import builtins
import functools
import math
import string
import warnings

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from ..autograd.function import Function, _wrap, record_result, as_node, overload
from ..autograd.grad_mode import STATE
from ._util import sum_to, wrap_dim, holomorphic_grads
from .creation import eye, _cast_scalar
from .shape import cat

_new = object.__new__

_CAP = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
        "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
        "complex128": "ComplexDouble"}
_LOWER = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
          "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _cap(d):
    """PyTorch's ScalarType name ('Float', 'Long', ...) for a NumPy dtype."""
    return _CAP.get(np.dtype(d).name, np.dtype(d).name)


def _lower(d):
    """PyTorch's C++ type name ('float', 'long int', ...) for a NumPy dtype."""
    return _LOWER.get(np.dtype(d).name, np.dtype(d).name)


def _x(shape):
    """A shape as PyTorch prints it in matrix messages: '2x3'."""
    return "x".join(map(str, shape))


def _no_bool(d, kernel):
    if d == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _check_tensor(x, name, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


# ---- the checks of the four kernels (shapes as tuples, dtypes as NumPy dtypes) -----------------------------
def _check_dot(sa, sb, ta, tb):
    if ta != tb:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_cap(ta)} and {_cap(tb)}")
    if sa[0] != sb[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same "
                           f"number of elements, but got {sa[0]} and {sb[0]} elements respectively")
    _no_bool(ta, "dot")


def _check_mv(sm, sv, tm, tv, t_in=None, n_in=None):
    if sm[1] != sv[0] or (n_in is not None and n_in not in (1, sm[0])):
        raise RuntimeError(f"size mismatch, got input ({sm[0] if n_in is None else n_in}), mat ({_x(sm)}), "
                           f"vec ({sv[0]})")
    t_in = tv if t_in is None else t_in
    if not t_in == tm == tv:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_cap(t_in)}, {_cap(tm)}, and "
                           f"{_cap(tv)}")
    _no_bool(tm, "addmv_impl_cpu")


def _check_mm(sa, sb, ta, tb):
    if sa[1] != sb[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_x(sa)} and {_x(sb)})")
    if ta != tb:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_lower(ta)} != {_lower(tb)}")
    _no_bool(ta, "addmm_impl_cpu_")


def _check_bmm(sa, sb, ta, tb):
    if sb[0] != sa[0] or sb[1] != sa[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] but "
                           f"got: [{sb[0]}, {sb[1]}].")
    if ta != tb:
        raise RuntimeError(f"expected scalar type {_cap(ta)} but found {_cap(tb)}")
    _no_bool(ta, "bmm")


def _broadcast_shape(sa, sb):
    """Broadcast two shapes with PyTorch's error text (infer_size)."""
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for i in reversed(range(n)):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}")
    return tuple(max(x, y) if min(x, y) != 0 else 0 for x, y in zip(pa, pb))


def _folds_transposed(a, b):
    """Whether torch's matmul folds a >=3-D right operand into a matrix (it then multiplies b^T a^T): always when
    the smaller operand a requires grad, else when b^T views as a matrix without a copy."""
    if a._rg:
        return True
    if a._data.ndim == 2:
        return False
    x = b._data
    if x.size == 0:
        return True
    st = [s // x.itemsize for s in x.strides]
    st[-1], st[-2] = st[-2], st[-1]
    shape = list(x.shape)
    shape[-1], shape[-2] = shape[-2], shape[-1]
    return all(st[i] == st[i + 1] * shape[i + 1] for i in range(x.ndim - 2))


def _transposed_fold_node(n, sb):
    """The last node of torch's folded (n, k) @ (..., k, p): (b^T a^T)^T made contiguous, a copy unless the
    transposed result is already contiguous."""
    p = sb[-1]
    return "TransposeBackward0" if n <= 1 or p <= 1 or not math.prod(sb[:-2]) else "CloneBackward0"


# ---- the differentiable product -----------------------------------------------------------------------------
def _mH(t):
    """The conjugate transpose of the last two dims (the transpose for real tensors): PyTorch's backward formulas
    hold for complex inputs with it."""
    return t.transpose(-1, -2).conj()


class MatMul(Function):
    """np.matmul with PyTorch's 1-D promotion rules; batch dims against a matrix fold into one GEMM."""

    _raw = True
    _node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:
            rows = math.prod(a.shape[:-1])
            return np.matmul(a.reshape(rows, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[1:])
        return np.asarray(np.matmul(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return holomorphic_grads(_matmul_grads, g, a, b, ctx.needs_input_grad)  # complex: g @ b^H and a^H @ g


def _matmul_grads(g, a, b, need):
    """Gradients of a @ b for upstream g, as ember ops (so double backward works)."""
    if not STATE.enabled and a._data.ndim == 2 and b._data.ndim == 2:
        gd = g._data
        return (_wrap(np.matmul(gd, b._data.T)) if need[0] else None,
                _wrap(np.matmul(a._data.T, gd)) if need[1] else None)
    a2 = a.unsqueeze(0) if a.dim() == 1 else a
    b2 = b.unsqueeze(-1) if b.dim() == 1 else b
    if b.dim() == 1:
        g = g.unsqueeze(-1)
    if a.dim() == 1:
        g = g.unsqueeze(-2)
    ga = gb = None
    if need[0]:
        if a2.dim() == 2 and b2.dim() > 2:
            n, k = a2.shape
            rows = math.prod(b2.shape[:-2]) * b2.shape[-1]
            ga = matmul(g.movedim(-2, 0).reshape(n, rows), b2.transpose(-1, -2).reshape(rows, k))
        else:
            ga = sum_to(matmul(g, b2.transpose(-1, -2)), a2.shape)
        ga = ga.reshape(a.shape)
    if need[1]:
        if b2.dim() == 2 and a2.dim() > 2:
            k, p = b2.shape
            rows = math.prod(a2.shape[:-1])
            gb = matmul(a2.reshape(rows, k).transpose(0, 1), g.reshape(rows, p))
        else:
            gb = sum_to(matmul(a2.transpose(-1, -2), g), b2.shape)
        gb = gb.reshape(b.shape)
    return ga, gb


def _product(a, b, node):
    """MatMul recorded under the node name PyTorch's kernel gives."""
    return overload(MatMul, node).apply(a, b)


def _finish(r, out):
    if out is not None:
        from .elementwise import _out
        return _out(r, out)
    return r


def _fast_product(input, other, ndims, node):
    """The product of two float Tensors of one dtype with `ndims` = (a.ndim, b.ndim): (2, 2) matrices, (3, 3)
    batches of one size, (2, 1) matrix-vector or (1, 1) vectors, with matching inner sizes, recorded as `node`;
    None for the other calls, which take the checked path."""
    if type(input) is Tensor and type(other) is Tensor and STATE.fast:
        a, b = input._data, other._data
        if (a.ndim, b.ndim) == ndims and a.dtype is b.dtype and a.dtype.kind == "f" and \
                a.shape[-1] == b.shape[-2 if b.ndim > 1 else 0] and (a.ndim < 3 or a.shape[0] == b.shape[0]):
            out = a.dot(b) if b.ndim < 3 else np.matmul(a, b)  # ndarray.dot: half matmul's call cost on small data
            if type(out) is not np.ndarray:
                out = np.asarray(out)
            if (input._rg or other._rg) and STATE.enabled:
                return record_result(overload(MatMul, node), (input, other), out, (input, other))
            t = _new(Tensor)
            t._data = out
            return t
    return None


# matmul's ranks that take the fast path, and the node each records.
_FAST_MATMUL = {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0"}


def matmul(input, other, *, out=None):
    if out is None and type(input) is Tensor and type(other) is Tensor:
        ndims = (input._data.ndim, other._data.ndim)
        node = _FAST_MATMUL.get(ndims)
        r = _fast_product(input, other, ndims, node) if node else None
        if r is not None:
            return r
    _check_tensor(input, "matmul")
    _check_tensor(other, "matmul", "other", 2)
    a, b = input, other
    da, db = a._data.ndim, b._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    sa, sb, ta, tb = a._data.shape, b._data.shape, a._data.dtype, b._data.dtype
    if da == 1 and db == 1:
        _check_dot(sa, sb, ta, tb)
        node = "DotBackward0"
    elif da == 2 and db == 1:
        _check_mv(sa, sb, ta, tb)
        node = "MvBackward0"
    elif da == 1 and db == 2:
        _check_mm((1,) + sa, sb, ta, tb)
        node = "SqueezeBackward4"
    elif da == 2 and db == 2:
        _check_mm(sa, sb, ta, tb)
        node = "MmBackward0"
    elif da >= 3 and db <= 2:
        folded = (math.prod(sa[:-1]), sa[-1])
        _check_mv(folded, sb, ta, tb) if db == 1 else _check_mm(folded, sb, ta, tb)
        node = "UnsafeViewBackward0"
    elif da <= 2 and db >= 3 and _folds_transposed(a, b):
        folded = (math.prod(sb[:-2]) * sb[-1], sb[-2])
        _check_mv(folded, sa, tb, ta) if da == 1 else _check_mm(folded, sa[::-1], tb, ta)
        node = "UnsafeViewBackward0" if da == 1 else _transposed_fold_node(sa[0], sb)
    else:
        batch = math.prod(_broadcast_shape(sa[:-2], sb[:-2]))
        n, p = (sa[-2] if da > 1 else 1), (sb[-1] if db > 1 else 1)
        _check_bmm((batch, n, sa[-1]), (batch, sb[-2] if db > 1 else sb[0], p), ta, tb)
        node = "UnsafeViewBackward0"
        if da == db == 3 and sa[0] == 1 != sb[0] and a._rg:  # torch drops a's unit batch, then folds b
            node = _transposed_fold_node(sa[1], sb)
    return _finish(_product(a, b, node), out)


def mm(input, mat2, *, out=None):
    if out is None:
        r = _fast_product(input, mat2, (2, 2), "MmBackward0")
        if r is not None:
            return r
    _check_tensor(input, "mm")
    _check_tensor(mat2, "mm", "mat2", 2)
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_mm(input._data.shape, mat2._data.shape, input._data.dtype, mat2._data.dtype)
    return _finish(_product(input, mat2, "MmBackward0"), out)


def bmm(input, mat2, *, out=None):
    if out is None:
        r = _fast_product(input, mat2, (3, 3), "BmmBackward0")
        if r is not None:
            return r
    _check_tensor(input, "bmm")
    _check_tensor(mat2, "bmm", "mat2", 2)
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    _check_bmm(input._data.shape, mat2._data.shape, input._data.dtype, mat2._data.dtype)
    return _finish(_product(input, mat2, "BmmBackward0"), out)


def mv(input, vec, *, out=None):
    if out is None:
        r = _fast_product(input, vec, (2, 1), "MvBackward0")
        if r is not None:
            return r
    _check_tensor(input, "mv")
    _check_tensor(vec, "mv", "vec", 2)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    _check_mv(input._data.shape, vec._data.shape, input._data.dtype, vec._data.dtype)
    return _finish(_product(input, vec, "MvBackward0"), out)


def _check_vectors(input, other, name):
    _check_tensor(input, name)
    _check_tensor(other, name, "other", 2)
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    _check_dot(input._data.shape, other._data.shape, input._data.dtype, other._data.dtype)


def dot(input, other, *, out=None):
    if out is None:
        r = _fast_product(input, other, (1, 1), "DotBackward0")
        if r is not None:
            return r
    _check_vectors(input, other, "dot")
    return _finish(_product(input, other, "DotBackward0"), out)


inner_dot = dot


def vdot(input, other, *, out=None):
    _check_vectors(input, other, "vdot")
    a = input.conj() if input.is_complex() else input
    return _finish(_product(a, other, "VdotBackward0"), out)


def outer(input, vec2, *, out=None):
    _check_tensor(input, "outer")
    _check_tensor(vec2, "outer", "vec2", 2)
    for x, name in ((input, "self"), (vec2, "vec2")):
        if x._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {x._data.ndim}-D")
    return _finish(input.reshape(-1, 1) * vec2.reshape(1, -1), out)


ger = outer


def inner(input, other, *, out=None):
    _check_tensor(input, "inner")
    _check_tensor(other, "inner", "other", 2)
    if input.dim() == 0 or other.dim() == 0:
        return _finish(input * other, out)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return _finish(tensordot(input, other, dims=([-1], [-1])), out)


# ---- fused add-multiply: beta * input + alpha * product ------------------------------------------------------
_HALF = np.dtype(np.float16)


def _scale(g, s):
    """g times conj(s): the gradient of s * x (no multiply for s == 1)."""
    if _is_one(s):
        return g
    return g * (s.conjugate() if isinstance(s, complex) else s)


class _AddProduct(Function):
    """beta * input + alpha * (m1 · m2) as one node, as PyTorch's fused kernels: beta = 0 ignores input (NaN
    included), half computes the product in float32 and rounds once. Subclasses give the product (`_multiply`, on
    arrays) and its factors' gradients (`_factor_grads`, on Tensors, for real upstream gradients)."""

    _raw = True

    @staticmethod
    def forward(ctx, inp, m1, m2, beta, alpha):
        ctx.scale = (beta, alpha)
        ctx.input_shape = inp.shape
        ctx.save_for_backward(m1, m2)
        return ctx._compute(inp, m1, m2, beta, alpha)

    @classmethod
    def _compute(cls, inp, m1, m2, beta, alpha):
        d = m1.dtype
        if d == _HALF:
            if m1.shape[-1] == 0 and beta != 0:  # no product to add: the kernel scales input in half arithmetic
                return np.broadcast_to(inp * np.float16(beta), cls._multiply(m1, m2).shape).copy()
            alpha, beta = np.float32(alpha), np.float32(beta)
            m1, m2, inp = m1.astype(np.float32), m2.astype(np.float32), inp.astype(np.float32)
        p = cls._multiply(m1, m2)
        r = p if _is_one(alpha) else p * alpha
        if beta != 0:
            r = r + (inp if _is_one(beta) else inp * beta)
        return np.asarray(r).astype(d, copy=False)

    @staticmethod
    def backward(ctx, g):
        beta, alpha = ctx.scale
        need = ctx.needs_input_grad
        m1, m2 = ctx.saved_tensors
        gi = sum_to(_scale(g, beta), ctx.input_shape) if need[0] else None
        grads = holomorphic_grads(ctx._factor_grads, _scale(g, alpha), m1, m2, need[1:3]) \
            if need[1] or need[2] else (None, None)
        return (gi,) + tuple(grads) + (None, None)

    @staticmethod
    def _factor_grads(g, m1, m2, need):
        return _matmul_grads(g, m1, m2, need)

    @staticmethod
    def _multiply(m1, m2):
        return np.matmul(m1, m2)


class Addmm(_AddProduct):
    """addmm: input + mat1 @ mat2 (2-D)."""

    _node_name = "AddmmBackward0"


class Baddbmm(_AddProduct):
    """baddbmm: a batch of addmm."""

    _node_name = "BaddbmmBackward0"


class Addmv(_AddProduct):
    """addmv: input + mat @ vec. The half kernel rounds the scaled input, and the scalars, to half first."""

    _node_name = "AddmvBackward0"

    @classmethod
    def _compute(cls, inp, m1, m2, beta, alpha):
        if m1.dtype != _HALF or m1.shape[-1] == 0:
            return super()._compute(inp, m1, m2, beta, alpha)
        p = np.float32(np.float16(alpha)) * np.matmul(m1.astype(np.float32), m2.astype(np.float32))
        if m1.shape[-1] == 1:  # one column: a scaled copy (axpy) rounded before the add
            p = p.astype(np.float16)
        r = p if beta == 0 else p + inp * np.float16(beta)
        return np.asarray(np.broadcast_to(r, p.shape)).astype(np.float16)


class Addbmm(_AddProduct):
    """addbmm: input + the sum over the batch of batch1[i] @ batch2[i]. Half runs one rounded addmm per batch
    entry, as PyTorch's kernel does."""

    _node_name = "AddbmmBackward0"

    @classmethod
    def _compute(cls, inp, m1, m2, beta, alpha):
        if m1.dtype != _HALF or m1.shape[0] == 0:
            return super()._compute(inp, m1, m2, beta, alpha)
        r = np.broadcast_to(inp, (m1.shape[1], m2.shape[2]))
        for i in range(m1.shape[0]):
            r = Addmm._compute(r, m1[i], m2[i], beta if i == 0 else 1, alpha)
        return r

    @staticmethod
    def _multiply(m1, m2):
        b, n, k = m1.shape
        return np.matmul(m1.transpose(1, 0, 2).reshape(n, b * k), m2.reshape(b * k, m2.shape[2]))

    @staticmethod
    def _factor_grads(g, m1, m2, need):
        return _matmul_grads(g.expand(m1.shape[0], *g.shape), m1, m2, need)


class Addr(_AddProduct):
    """addr: input + outer(vec1, vec2), computed elementwise in the result dtype as PyTorch's kernel does
    (alpha * vec1 * vec2 + beta * input, each operation rounded; logical and/or for bool)."""

    _node_name = "AddrBackward0"

    @classmethod
    def _compute(cls, inp, m1, m2, beta, alpha):
        d = m1.dtype
        if d == np.bool_:
            r = np.logical_and.outer(m1, m2) & bool(alpha)
            return r | (inp & bool(beta)) if beta else r
        r = np.multiply.outer(m1 * np.asarray(alpha, d), m2)
        return r + inp * np.asarray(beta, d) if beta != 0 else r

    @staticmethod
    def _factor_grads(g, m1, m2, need):
        return (mv(g, m2) if need[0] else None, mv(g.transpose(0, 1), m1) if need[1] else None)


def _kernel_scalars(d, beta, alpha):
    """beta and alpha as the kernels read them for result dtype d: an integer type truncates them (checking for
    overflow, as PyTorch converts Scalars); a real type refuses a complex one."""
    if d.kind in "iu":
        return tuple(int(_cast_scalar(v, d)) for v in (beta, alpha))
    if d.kind == "f" and (isinstance(beta, complex) or isinstance(alpha, complex)):
        raise RuntimeError(f"value cannot be converted to type {_lower(d)} without overflow")
    return beta, alpha


def _check_scalars(d, beta, alpha):
    if d.kind in "iub":
        for v, name in ((beta, "beta"), (alpha, "alpha")):
            if isinstance(v, float) and d.kind != "b":
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")


def _check_matrix(x, name):
    if x._data.ndim != 2:
        raise RuntimeError(f"{name} must be a matrix, got {x._data.ndim}-D tensor")


def _check_self_dtypes(ts, t1, t2):
    if ts != t2:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_cap(ts)} and {_cap(t2)}")
    if t1 != t2:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_cap(t1)} and {_cap(t2)}")


def _is_one(v):
    return (type(v) is int or type(v) is float) and v == 1


def _add_product(cls, input, m1, m2, beta, alpha, out):
    """cls's beta * input + alpha * product, input broadcast to the product's shape."""
    beta, alpha = _kernel_scalars(m1._data.dtype, beta, alpha)
    return _finish(cls.apply(input, m1, m2, beta, alpha), out)


def _fast_addmm(input, mat1, mat2):
    """addmm (beta = alpha = 1) of float Tensors of one dtype, 2-D matrices with matching inner sizes and an input
    NumPy broadcasts onto their product; None for the other calls, which take the checked path."""
    if not (isinstance(input, Tensor) and isinstance(mat1, Tensor) and isinstance(mat2, Tensor) and STATE.fast):
        return None
    x, a, b = input._data, mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2 or x.ndim > 2 or a.shape[1] != b.shape[0] or a.dtype.kind != "f" or \
            a.dtype == _HALF or not (x.dtype is a.dtype is b.dtype):
        return None
    out = np.matmul(a, b)
    try:
        out += x
    except ValueError:
        return None
    if (input._rg or mat1._rg or mat2._rg) and STATE.enabled:
        t = record_result(Addmm, (input, mat1, mat2), out, (mat1, mat2), 5)
        t._grad_fn.input_shape = x.shape
        t._grad_fn.scale = (1, 1)
        return t
    return _wrap(out)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    if out is None and _is_one(beta) and _is_one(alpha):
        r = _fast_addmm(input, mat1, mat2)
        if r is not None:
            return r
    _check_tensor(input, "addmm")
    _check_matrix(mat1, "mat1")
    _check_matrix(mat2, "mat2")
    _check_self_dtypes(input._data.dtype, mat1._data.dtype, mat2._data.dtype)
    s1, s2 = mat1._data.shape, mat2._data.shape
    _check_mm(s1, s2, mat1._data.dtype, mat2._data.dtype)
    input.expand(s1[0], s2[1])
    return _add_product(Addmm, input, mat1, mat2, beta, alpha, out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    _check_tensor(input, "addmv")
    if input._data.ndim > 1 or mat._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, {mat._data.ndim}, "
                           f"{vec._data.ndim}")
    n_in = input._data.shape[0] if input._data.ndim else 1
    _check_mv(mat._data.shape, vec._data.shape, mat._data.dtype, vec._data.dtype, input._data.dtype, n_in)
    return _add_product(Addmv, input, mat, vec, beta, alpha, out)


def _batch_out_shape(batch1, batch2, lead):
    """The result shape addbmm/baddbmm compute before any check (indexing errors come from here)."""
    s1, s2 = batch1._data.shape, batch2._data.shape
    rows = s1[wrap_dim(1, len(s1))]
    cols = s2[wrap_dim(2, len(s2))]
    return ((s1[0],) if lead else ()) + (rows, cols)


def _check_batches(batch1, batch2):
    for x, name in ((batch1, "batch1"), (batch2, "batch2")):
        if x._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _check_tensor(input, "addbmm")
    input.expand(_batch_out_shape(batch1, batch2, False))
    _check_batches(batch1, batch2)
    (b, n, k), (b2, k2, p) = batch1._data.shape, batch2._data.shape
    if b != b2:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b} and {b2}")
    if k != k2:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{k} and {k2}x{p})")
    _check_self_dtypes(input._data.dtype, batch1._data.dtype, batch2._data.dtype)
    _no_bool(batch1._data.dtype, "addbmm")
    return _add_product(Addbmm, input, batch1, batch2, beta, alpha, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _check_tensor(input, "baddbmm")
    input.expand(_batch_out_shape(batch1, batch2, True))
    _check_batches(batch1, batch2)
    ts, t1, t2 = input._data.dtype, batch1._data.dtype, batch2._data.dtype
    if ts != t1:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_lower(ts)}, batch1: {_lower(t1)}, "
                           f"batch2: {_lower(t2)}")
    _check_bmm(batch1._data.shape, batch2._data.shape, t1, t2)
    return _add_product(Baddbmm, input, batch1, batch2, beta, alpha, out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    _check_tensor(input, "addr")
    for x, name in ((vec1, "vec1"), (vec2, "vec2")):
        if x._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {x._data.ndim}-D")
    d = _dtype.result_type(input, vec1, vec2)
    _check_scalars(d.np, beta, alpha)
    input.to(d).expand(vec1._data.shape[0], vec2._data.shape[0])
    return _add_product(Addr, input.to(d), vec1.to(d), vec2.to(d), beta, alpha, out)


# ---- tensordot, kron, cross ---------------------------------------------------------------------------------
def _dims_list(d):
    if isinstance(d, Tensor):
        d = d.tolist()
    return [int(d)] if isinstance(d, (int, np.integer)) else [int(x) for x in d]


def tensordot(a, b, dims=2, out=None):
    _check_tensor(a, "tensordot", "a")
    _check_tensor(b, "tensordot", "b", 2)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        da, db = (_dims_list(x) for x in dims)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    wa, wb = [wrap_dim(d, a.dim()) for d in da], [wrap_dim(d, b.dim()) for d in db]
    for ws in (wa, wb):
        if len(set(ws)) != len(ws):
            raise RuntimeError(f"dim {next(w for w in ws if ws.count(w) > 1)} appears multiple times in the list "
                               "of dims")
    for x, y, ra, rb in zip(wa, wb, da, db):
        s1, s2 = a.shape[x], b.shape[y]
        if s1 != s2:
            if s1 != 1 and s2 != 1:
                raise RuntimeError(f"contracted dimensions need to match, but first has size {s1} in dim {ra} and "
                                   f"second has size {s2} in dim {rb}")
            if s1 == 1:  # a broadcast dim is summed away first, in the operands' own dtype
                b = b.sum(y, keepdim=True, dtype=b.dtype)
            else:
                a = a.sum(x, keepdim=True, dtype=a.dtype)
    fa = [d for d in range(a.dim()) if d not in wa]
    fb = [d for d in range(b.dim()) if d not in wb]
    k = math.prod(a.shape[d] for d in wa)
    am = a.permute(fa + wa).reshape(math.prod(a.shape[d] for d in fa), k)
    bm = b.permute(wb + fb).reshape(k, math.prod(b.shape[d] for d in fb))
    r = mm(am, bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])
    return _finish(r, out)


def kron(input, other, *, out=None):
    _check_tensor(input, "kron")
    _check_tensor(other, "kron", "other", 2)
    a, b = input, other
    nd = max(a.dim(), b.dim())
    a = a.reshape((1,) * (nd - a.dim()) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.dim()) + tuple(b.shape))
    ai = a.reshape(sum(([s, 1] for s in a.shape), []))
    bi = b.reshape(sum(([1, s] for s in b.shape), []))
    prod = as_node((ai * bi).reshape([x * y for x, y in zip(a.shape, b.shape)]), "UnsafeViewBackward0")
    return _finish(prod, out)


class Cross(Function):
    """Cross product along one dim of two broadcast tensors; the gradients are cross products too."""

    _raw = True
    _node_name = "LinalgCrossBackward0"

    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.dim = dim
        ctx.save_for_backward(a, b)
        return np.asarray(np.cross(a, b, axis=dim))

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_cross_grads, g, ctx)


def _cross_grads(g, ctx):
    a, b = ctx.saved_tensors
    ga = sum_to(Cross.apply(b, g, ctx.dim), a.shape) if ctx.needs_input_grad[0] else None
    gb = sum_to(Cross.apply(g, a, ctx.dim), b.shape) if ctx.needs_input_grad[1] else None
    return ga, gb, None


def linalg_cross(input, other, *, dim=-1, out=None):
    """torch.linalg.cross: same number of dims, size 3 along dim, broadcasting elsewhere."""
    _check_tensor(input, "linalg_cross")
    _check_tensor(other, "linalg_cross", "other", 2)
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, input._data.ndim)
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input._data.shape[d]} "
                           f"and {other._data.shape[d]}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"expected scalar type {_cap(input._data.dtype)} but found {_cap(other._data.dtype)}")
    _broadcast_shape(input._data.shape, other._data.shape)
    return _finish(Cross.apply(input, other, d), out)


def cross(input, other, dim=None, *, out=None):
    _check_tensor(input, "cross")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((i for i, s in enumerate(input._data.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim, out=out)


# ---- einsum -------------------------------------------------------------------------------------------------
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _sublist_eq(args):
    """The equation string of einsum's sublist form (op, [0, 1], op, [1, 2], [0, 2])."""
    out = args[-1] if len(args) % 2 else None
    args = args[:-1] if len(args) % 2 else args
    ops, subs = list(args[0::2]), list(args[1::2])

    def spell(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
            elif not 0 <= v < 52:
                raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
            else:
                s += _LETTERS[v]
        return s
    eq = ",".join(spell(s) for s in subs)
    return (eq + ("->" + spell(out) if out is not None else "")), ops


def _split_terms(eq):
    """Per-operand label lists of one side of an equation; '...' becomes the token None."""
    terms, cur, i = [], [], 0
    while i < len(eq):
        c = eq[i]
        if c == ",":
            terms.append(cur)
            cur = []
        elif c == ".":
            if eq[i:i + 3] != "..." or None in cur:
                raise RuntimeError(f"einsum(): found '.' for operand {len(terms)} that is not part of any ellipsis")
            cur.append(None)
            i += 2
        elif c in _LETTERS:
            cur.append(c)
        elif c != " ":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts "
                               "must be in [a-zA-Z]")
        i += 1
    terms.append(cur)
    return terms


def _parse_einsum(eq, shapes):
    """Explicit form of an einsum equation: ellipses spelled as letters, sizes broadcast, output spelled out.

    Returns (input label strings, output label string, size of every label); the answer is cached per equation and
    shapes (a loop calls einsum with the same ones)."""
    return _parsed_einsum(eq, tuple(shapes))


@functools.lru_cache(maxsize=256)
def _parsed_einsum(eq, shapes):
    lhs, arrow, rhs = eq.partition("->")
    terms = _split_terms(lhs)
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    used = {c for t in terms for c in t if c}
    if arrow:
        out_terms = _split_terms(rhs)
        used |= {c for c in out_terms[0] if c}
    free = [c for c in _LETTERS if c not in used]
    ell_n = 0
    for k, (t, s) in enumerate(zip(terms, shapes)):
        n_lab = len([c for c in t if c])
        if None in t:
            if n_lab > len(s):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n_lab}) is more than the "
                                   f"number of dimensions ({len(s)}) for operand {k}")
            ell_n = max(ell_n, len(s) - n_lab)
        elif n_lab != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n_lab}) does not match the "
                               f"number of dimensions ({len(s)}) for operand {k} and no ellipsis was given")
    ell = "".join(free[:ell_n])
    ins, sizes = [], {}
    for k, (t, s) in enumerate(zip(terms, shapes)):
        n_ell = len(s) - len([c for c in t if c])
        sub = "".join(ell[ell_n - n_ell:] if c is None else c for c in t)
        seen = {}
        for j, (c, n) in enumerate(zip(sub, s)):
            if c in seen and seen[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, "
                                   f"{n} != {seen[c]}")
            seen[c] = n
            prev = sizes.get(c, 1)
            if n != prev and n != 1 and prev != 1:
                if c in ell:
                    raise RuntimeError(f"einsum(): dimension {ell.index(c) - (ell_n - n_ell)} covered by ellipsis in "
                                       f"operand {k}has size {n} which does not broadcast with previously seen "
                                       f"ellipsis with size {prev} for the respective dimension")
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast "
                                   f"with previously seen size {prev}")
            sizes[c] = n if prev == 1 else prev
        ins.append(sub)
    if arrow:
        out = ""
        for c in out_terms[0]:
            if c is not None and c in out:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c is not None and c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
            out += ell if c is None else c
    else:
        counts = {}
        for c in "".join(ins):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return tuple(ins), out, sizes


def _fresh_letters(subs, n):
    used = set("".join(subs))
    return [c for c in _LETTERS if c not in used][:n]


# Operands up to this size are contracted by NumPy's C einsum directly: planning a contraction order (and BLAS calls)
# costs more than it saves on them.
_EINSUM_DIRECT_MAX = 4096


class Einsum(Function):
    """np.einsum on an explicit equation whose operands already agree on every label's size."""

    _raw = True
    _node_name = "EinsumBackward"

    @staticmethod
    def forward(ctx, eq, *xs):
        lhs, out = eq.split("->")
        ctx.spec = (lhs.split(","), out)
        ctx.save_for_backward(*xs)
        optimize = len(xs) > 1 and builtins.max(x.size for x in xs) > _EINSUM_DIRECT_MAX
        return np.asarray(np.einsum(eq, *xs, optimize=optimize)).astype(xs[0].dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_einsum_grads, g, ctx)


def _einsum_grads(g, ctx):
    ins, out = ctx.spec
    xs = ctx.saved_tensors
    return (None,) + tuple(_einsum_grad(g, out, ins, xs, i) if ctx.needs_input_grad[i + 1] else None
                           for i in range(len(xs)))


def _einsum_grad(g, out, ins, xs, i):
    """Gradient of operand i: contract g with the other operands; a repeated label becomes an identity factor."""
    sub, x = ins[i], xs[i]
    fresh = iter(_fresh_letters(ins + [out], len(sub)))
    target, deltas = "", []
    for k, c in enumerate(sub):
        if c in sub[:k]:
            nc = next(fresh)
            deltas.append((c + nc, Tensor._make(np.eye(x.shape[k], dtype=x._data.dtype))))
            c = nc
        target += c
    subs = [out] + [s for j, s in enumerate(ins) if j != i] + [d for d, _ in deltas]
    ops = [g] + [t for j, t in enumerate(xs) if j != i] + [t for _, t in deltas]
    avail = set("".join(subs))
    kept = "".join(c for c in target if c in avail)
    gi = einsum(",".join(subs) + "->" + kept, *ops)
    if kept != target:
        gi = gi.reshape([n if c in avail else 1 for c, n in zip(target, x.shape)]).expand(x.shape)
    return gi


def einsum(*args):
    if not args or (isinstance(args[0], str) and len(args) == 1):
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_eq(args)
    for t in operands:
        _check_tensor(t, "einsum", "operands", 2)
    ins, out, sizes = _parse_einsum(equation, [t._data.shape for t in operands])
    dt = operands[0]._data.dtype
    for t in operands[1:]:
        if t._data.dtype != dt:
            raise RuntimeError(f"expected scalar type {_cap(dt)} but found {_cap(t._data.dtype)}")
    summed = set("".join(ins)) - set(out)
    if dt.kind in "iub" and summed:
        wide = _einsum_integer_dtype(ins, out, [t._data.shape for t in operands], dt)
        if wide != dt:
            operands = tuple(t.to(_dtype.from_numpy_dtype(wide)) for t in operands)
    ops = []
    for sub, t in zip(ins, operands):
        full = tuple(sizes[c] for c in sub)
        ops.append(t.expand(full) if full != t._data.shape else t)
    return as_node(Einsum.apply(",".join(ins) + "->" + out, *ops), _EINSUM_NODES[len(ops) > 1, bool(summed)])


def _einsum_integer_dtype(ins, out, shapes, dt):
    """The dtype PyTorch's einsum gives integer or bool operands of dtype dt: it contracts them pairwise from the left,
    first summing away (sum promotes to int64) the labels only one side still has, then multiplying (promoting) or,
    when labels are shared, taking a bmm (which needs one dtype, and no bool)."""
    nonunit = [{c for c, n in zip(sub, s) if n != 1} for sub, s in zip(ins, shapes)]
    if len(ins) == 1:
        return np.dtype(np.int64)
    contracted = set("".join(ins)) - set(out)
    counts = {c: sum(c in labels for labels in nonunit) for c in contracted}
    ops = [(labels, np.dtype(dt)) for labels in nonunit]
    while len(ops) > 1:
        (a, ta), (b, tb) = ops[0], ops[1]
        pair, a_sum, b_sum = set(), set(), set()
        for c in contracted:
            if c in a and c in b:
                counts[c] -= 1
                if counts[c] == 1:
                    pair.add(c)
                    counts[c] = 0
            elif counts[c] == 1 and (c in a or c in b):
                (a_sum if c in a else b_sum).add(c)
                counts[c] = 0
        ta, tb = (np.dtype(np.int64) if s else t for s, t in ((a_sum, ta), (b_sum, tb)))
        t = np.promote_types(ta, tb)
        if pair:
            _no_bool(ta, "bmm")
            if ta != tb:
                raise RuntimeError(f"expected scalar type {_cap(ta)} but found {_cap(tb)}")
        ops[:2] = [(((a - a_sum) | (b - b_sum)) - pair, t)]
    return ops[0][1]


# The op PyTorch's einsum ends with, by (several operands, some label summed): a permute or a sum of one operand,
# a product or the reshape after a batched matmul of several.
_EINSUM_NODES = {(False, False): "PermuteBackward0", (False, True): "SumBackward1",
                 (True, False): "MulBackward0", (True, True): "ViewBackward0"}


# ---- decompositions and solvers (the kernels behind torch.linalg) --------------------------------------------
class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a factorization or solve failed because of the values in its input."""


def _check_square(A, name, what="A"):
    _check_tensor(A, name.rpartition(".")[2], what)
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are {m} by {n} matrices")
    _check_float(A, name)


def _check_float(A, name):
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_cap(A._data.dtype)}")


def _check_matrices(A, name):
    _check_tensor(A, name.rpartition(".")[2], "A")
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    _check_float(A, name)


def _batch_prefix(a, k):
    return f"(Batch element {k}): " if a.ndim > 2 else ""


def _first_failure(a, fails):
    """(flat batch index, detail) of the first matrix of `a` for which `fails` returns a detail (error path only)."""
    mats = a.reshape((-1,) + a.shape[-2:])
    for k in range(mats.shape[0]):
        detail = fails(mats[k])
        if detail:
            return k, detail
    return 0, fails(mats[0]) or 1


def _zero_pivot(m):
    """1-based index of the first zero pivot of LU with partial pivoting (as LAPACK getrf reports it), or 0."""
    u = np.array(m)
    n = u.shape[0]
    for j in range(n):
        p = j + int(np.argmax(np.abs(u[j:, j])))
        u[[j, p]] = u[[p, j]]
        if u[j, j] == 0:
            return j + 1
        u[j + 1:, j:] -= np.outer(u[j + 1:, j] / u[j, j], u[j, j:])
    return 0


def _bad_minor(m):
    """Order of the first leading minor that is not positive-definite, or 0."""
    for k in range(1, m.shape[0] + 1):
        try:
            np.linalg.cholesky(m[:k, :k])
        except np.linalg.LinAlgError:
            return k
    return 0


def _singular_error(name, a, info):
    """LinAlgError for the first batch element whose getrf info is nonzero (inv's wording)."""
    k = int(np.flatnonzero(info.reshape(-1))[0])
    return LinAlgError(f"{name}: {_batch_prefix(a, k)}The diagonal element {int(info.reshape(-1)[k])} is zero, the "
                       "inversion could not be completed because the input matrix is singular.")


def _inv_array(a, check=True, name="linalg.inv"):
    """(A^-1, info); on a singular batch element the LU-based inverse (inf/nan there) and getrf's info."""
    try:
        return np.linalg.inv(a), np.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        lu, piv, info = _getrf(a)
        if check:
            raise _singular_error(name, a, info) from None
        eye_ = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
        return _lu_solve_arrays(lu, piv, eye_), info


class Inv(Function):
    _raw = True
    _node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a, check=True, name="linalg.inv"):
        out, info = _inv_array(a, check, name)
        ctx.save_for_backward(out)
        return out, info

    @staticmethod
    def backward(ctx, g, _info=None):
        (inv_,) = ctx.saved_tensors
        inv_h = _mH(inv_)
        return -matmul(inv_h, matmul(g, inv_h)), None, None


def inverse(input, *, out=None):
    _check_square(input, "linalg.inv")
    return _finish(Inv.apply(input)[0], out)


class Det(Function):
    _raw = True
    _node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        d = np.asarray(np.linalg.det(a)).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        return (g * d.conj()).unsqueeze(-1).unsqueeze(-1) * _mH(inverse(a))


def det(input, *, out=None):
    _check_square(input, "linalg.det")
    return _finish(Det.apply(input), out)


class Slogdet(Function):
    _raw = True
    _node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        sign, logabs = np.asarray(sign).astype(a.dtype), np.asarray(logabs).astype(a.real.dtype)
        ctx.sign = sign
        ctx.save_for_backward(a)
        return sign, logabs

    @staticmethod
    def backward(ctx, g_sign, g_log):
        """A real determinant's sign is locally constant, so only logabsdet carries gradient; a complex one's phase
        does too: PyTorch's g = g_logabsdet - i Im(g_sign conj(sign)), gradient conj(g) A^-H."""
        (a,) = ctx.saved_tensors
        if a._data.dtype.kind == "c":
            turn = (g_sign * Tensor._make(ctx.sign.conj())).imag * -1j
            g_log = (g_log + turn).conj()
        return g_log.unsqueeze(-1).unsqueeze(-1) * _mH(inverse(a))


def _slogdet(input, name):
    _check_square(input, name)
    return Slogdet.apply(input)


def slogdet(input):
    return _named("slogdet", ("sign", "logabsdet"))(_slogdet(input, "linalg.slogdet"))


def logdet(input):
    """log det(A): NaN for a negative real determinant; log(sign) + log|det| for complex A."""
    sign, logabs = _slogdet(input, "linalg.slogdet")
    from .elementwise import where, log
    if sign._data.dtype.kind == "c":
        return log(sign) + logabs
    return where(sign < 0, Tensor._make(np.array(np.nan, logabs._data.dtype)), logabs)


_RETURN_TYPES = {}


def _named(name, fields):
    """torch.return_types.<name>: the named tuple class (built once)."""
    cls = _RETURN_TYPES.get(name)
    if cls is None:
        from ..return_types import _make
        cls = _RETURN_TYPES[name] = _make(name, fields)
    return cls


def _solve_arrays(a, b, check=True, name="torch.linalg.solve"):
    """(A^-1 B, info); on a singular batch element the LU solve (inf/nan there) and getrf's info."""
    try:
        return np.asarray(np.linalg.solve(a, b)), np.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        lu, piv, info = _getrf(a)
        if check:
            k = int(np.flatnonzero(info.reshape(-1))[0])
            raise LinAlgError(f"{name}: {_batch_prefix(a, k)}The solver failed because the input matrix is "
                              "singular.") from None
        return _lu_solve_arrays(lu, piv, b), info


class Solve(Function):
    """(X, info) with X = A^-1 B for matrix-shaped B (batch dims broadcast); gradients are solves with A^T."""

    _raw = True
    _node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b, check=True, name="torch.linalg.solve"):
        x, info = _solve_arrays(a, b, check, name)
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a, x)
        return x, info

    @staticmethod
    def backward(ctx, g, _info=None):
        a, x = ctx.saved_tensors
        gb = Solve.apply(_mH(a), g)[0]
        ga = -matmul(gb, _mH(x)) if ctx.needs_input_grad[0] else None
        shape_a, shape_b = ctx.shapes
        return (sum_to(ga, shape_a) if ga is not None else None,
                sum_to(gb, shape_b) if ctx.needs_input_grad[1] else None, None, None)


def _solve_ex(A, B, left, check, name="linalg.solve", err_name="torch.linalg.solve"):
    """(X, info) of linalg.solve_ex with linalg.solve's checks (`name` prefixes the shape/dtype messages)."""
    _check_square(A, name)
    _check_tensor(B, name.rpartition(".")[2], "B", 2)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of type "
                           f"{_cap(A._data.dtype)} and B of type {_cap(B._data.dtype)} instead")
    sa, sb = A._data.shape, B._data.shape
    vector = B._data.ndim == 1 or (left and B._data.ndim == len(sa) - 1 and sb == sa[:-1])
    B2 = B.unsqueeze(-1) if vector else B
    rows, cols = B2.shape[-2:]
    if (rows if left else cols) != sa[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {'AX' if left else 'XA'} "
                           f"= B ({sa[-2]}x{sa[-1]} and {rows}x{cols})")
    _broadcast_shape(B2.shape[:-2], sa[:-2])
    if left:
        X, info = Solve.apply(A, B2, check, err_name)
    else:
        X, info = Solve.apply(A.transpose(-1, -2), B2.transpose(-1, -2), check, err_name)
        X = X.transpose(-1, -2)
    return as_node(X.squeeze(-1) if vector else X, "LinalgSolveExBackward0"), info


def solve(A, B, *, left=True, out=None):
    return _finish(_solve_ex(A, B, left, True)[0], out)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Triangular solve: a general solve on the masked triangle (so only that triangle receives gradient)."""
    _check_tensor(A, "solve_triangular", "A")
    if A._data.ndim < 2 or B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor A must have at least 2 dimensions.")
    T = A.triu() if upper else A.tril()
    if unitriangular:
        T = T - T.diagonal(0, -2, -1).diag_embed() + Tensor._make(np.eye(A.shape[-1], dtype=A._data.dtype))
    return _finish(as_node(solve(T, B, left=left), "LinalgSolveTriangularBackward0"), out)


def _potrf(a):
    """Lower Cholesky factor and info of a batch as LAPACK potf2 leaves them: a failing matrix keeps its finished
    columns, the failing diagonal entry (not positive) and the input below it (error path only)."""
    n = a.shape[-1]
    L = np.tril(a).reshape((-1, n, n)).copy()
    info = np.zeros(L.shape[0], np.int32)
    active = np.ones(L.shape[0], bool)
    for j in range(n):
        ajj = L[:, j, j] - np.einsum("bk,bk->b", L[:, j, :j], L[:, j, :j].conj()).real
        bad = active & ~(ajj > 0)
        info[bad] = j + 1
        L[bad, j, j] = ajj[bad]
        active &= ~bad
        d = np.sqrt(np.where(active, ajj, 1))
        L[active, j, j] = d[active]
        upd = (L[:, j + 1:, j] - np.einsum("bik,bk->bi", L[:, j + 1:, :j], L[:, j, :j].conj())) / d[:, None]
        L[active, j + 1:, j] = upd[active]
    return L.reshape(a.shape), info.reshape(a.shape[:-2])


def _cholesky_arrays(a, upper, check, name):
    """(factor, info) with torch's reading of the triangle (upper: A's upper triangle) and its error."""
    src = np.swapaxes(a, -1, -2).conj() if upper else a
    try:
        L, info = np.linalg.cholesky(src), np.zeros(a.shape[:-2], np.int32)
        if np.isnan(np.diagonal(L, 0, -2, -1)).any():  # NumPy lets NaN through; LAPACK's potrf fails on it
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        L, info = _potrf(src)
        if check:
            k = int(np.flatnonzero(info.reshape(-1))[0])
            raise LinAlgError(f"{name}: {_batch_prefix(a, k)}The factorization could not be completed because the "
                              f"input is not positive-definite (the leading minor of order {int(info.reshape(-1)[k])}"
                              " is not positive-definite).") from None
    return (np.ascontiguousarray(np.swapaxes(L, -1, -2).conj()) if upper else L), info


class Cholesky(Function):
    _raw = True
    _node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a, upper, check=True, name="linalg.cholesky"):
        out, info = _cholesky_arrays(a, upper, check, name)
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out, info

    @staticmethod
    def backward(ctx, g, _info=None):
        (out,) = ctx.saved_tensors
        L, gL = (_mH(out), _mH(g)) if ctx.upper else (out, g)
        P = matmul(_mH(L), gL).tril()
        S = (P + _mH(P.tril(-1))) * 0.5
        return solve(L, solve(_mH(L), S), left=False), None, None, None


def cholesky_ex(A, upper=False, check_errors=False, name="linalg.cholesky_ex"):
    """(factor, info) of linalg.cholesky_ex (the kernel behind linalg.cholesky and torch.cholesky)."""
    _check_square(A, name.replace("_ex", ""))
    return Cholesky.apply(A, bool(upper), bool(check_errors), name)


def _cholesky(input, upper=False, *, out=None):
    return _finish(cholesky_ex(input, upper, True, "linalg.cholesky")[0], out)


# ---- LU: LAPACK's partial-pivot factorization, unpacking and solves -----------------------------------------
def _pivot_abs(x):
    """The magnitude LAPACK's i?amax compares: |x| for real, |re| + |im| for complex."""
    return np.abs(x.real) + np.abs(x.imag) if x.dtype.kind == "c" else np.abs(x)


def _getrf(a):
    """LU with partial pivoting of a batch (..., m, n) as LAPACK getf2: packed L\\U, 1-based int32 pivots and int32
    info (the first zero pivot). The pivot is the max-|value| row, first on ties; a column is scaled by the
    reciprocal of its pivot, as LAPACK does, so small factors agree with torch's bit for bit."""
    m, n = a.shape[-2:]
    k = min(m, n)
    nb = math.prod(a.shape[:-2])
    lu = np.array(a).reshape((nb, m, n))
    piv = np.empty((nb, k), np.int32)
    info = np.zeros(nb, np.int32)
    rows = np.arange(nb)
    for j in range(k):
        p = j + np.argmax(_pivot_abs(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        d = lu[:, j, j]
        zero = d == 0
        info[(info == 0) & zero] = j + 1
        if j + 1 < m:
            lu[:, j + 1:, j] *= np.where(zero, 1, 1 / np.where(zero, 1, d)).astype(lu.dtype)[:, None]
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, None, j, j + 1:]
    return lu.reshape(a.shape), piv.reshape(a.shape[:-2] + (k,)), info.reshape(a.shape[:-2])


def _permutation(piv, m):
    """perm with (P^T A)[i] = A[perm[i]]: getrf's row swaps applied in order to 0..m-1."""
    batch = piv.shape[:-1]
    count = math.prod(batch)  # not -1: the batch may be empty, or the matrices 0 x 0
    perm = np.array(np.broadcast_to(np.arange(m), batch + (m,))).reshape(count, m)
    swaps = piv.reshape(count, piv.shape[-1]).astype(np.int64) - 1
    rows = np.arange(perm.shape[0])
    for i in range(swaps.shape[1]):
        p = swaps[:, i]
        top = perm[:, i].copy()
        perm[:, i] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(batch + (m,))


def _p_matrix(piv, m, dtype):
    """The permutation matrix P of A = P L U (P[perm[i], i] = 1)."""
    perm = _permutation(piv, m)
    return np.swapaxes(perm[..., :, None] == np.arange(m), -1, -2).astype(dtype)


def _unpack_arrays(lu):
    """Unit-lower L (m x k) and upper U (k x n) of a packed LU."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    return np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype), np.triu(lu[..., :k, :])


def _tri_solve(T, B):
    """T^-1 B for triangular T (LAPACK's partial pivoting never swaps rows of a triangular matrix with unit or
    dominant diagonal, so this is a triangular solve); zero diagonals give inf/nan, as trsm."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.solve(T, B)
        except np.linalg.LinAlgError:
            return _back_substitute(T, B)


def _back_substitute(T, B):
    """Row-by-row substitution for a triangular T (a singular T: infinities propagate as in trsm)."""
    n = T.shape[-1]
    lower = not np.triu(T, 1).any()
    shape = np.broadcast_shapes(T.shape[:-2], B.shape[:-2])
    T = np.broadcast_to(T, shape + T.shape[-2:])
    X = np.array(np.broadcast_to(B, shape + B.shape[-2:]), dtype=np.result_type(T, B))
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        rest = slice(0, i) if lower else slice(i + 1, n)
        X[..., i, :] = (X[..., i, :] - np.einsum("...k,...kj->...j", T[..., i, rest], X[..., rest, :])) / \
            T[..., i, i, None]
    return X


def _lu_solve_arrays(lu, piv, b, adjoint=False):
    """A^-1 B (A^-H B with adjoint) for A = P L U given packed LU and pivots, batch dims broadcast."""
    P = _p_matrix(piv, lu.shape[-2], lu.dtype)
    L, U = _unpack_arrays(lu)
    with np.errstate(all="ignore"):
        if adjoint:
            H = lambda x: np.swapaxes(x, -1, -2).conj()  # noqa: E731
            return np.matmul(P, _tri_solve(H(L), _tri_solve(H(U), b)))
        return _tri_solve(U, _tri_solve(L, np.matmul(np.swapaxes(P, -1, -2), b)))


def _lu_factors(LU):
    """L (unit lower, m x k) and U (upper, k x n) of a packed LU, as ember ops so they carry its gradient."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = LU[..., :, :k].tril(-1) + Tensor._make(np.eye(m, k, dtype=LU._data.dtype))
    return L, LU[..., :k, :].triu()


def _acc(a, b, sign=1):
    """a + sign * b where either may be None (an undefined gradient)."""
    if a is None:
        return b if sign > 0 or b is None else -b
    return a if b is None else (a + b if sign > 0 else a - b)


def _lu_backward(gL, gU, P, L, U):
    """PyTorch's linalg_lu_backward (pivoted): the gradient of A = P L U from those of L and U (None: unused)."""
    if gL is None and gU is None:
        return None
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    Lh, Uh = L.mH, U.mH
    if m == n:
        gA = _acc(matmul(Lh, gL).tril(-1) if gL is not None else None,
                  matmul(gU, Uh).triu() if gU is not None else None)
        gA = solve_triangular(Uh, gA, upper=False, left=False)
        gA = solve_triangular(Lh, gA, upper=True, unitriangular=True)
    elif m < n:
        gA = _acc(matmul(Lh, gL) if gL is not None else None,
                  matmul(gU.triu(), Uh) if gU is not None else None, -1)
        gA = solve_triangular(U[..., :k].mH, gA.tril(-1), upper=False, left=False)
        if gU is not None:
            gA = cat([gA + gU[..., :k].triu(), gU[..., k:]], -1)
        gA = solve_triangular(Lh, gA, upper=True, unitriangular=True)
        if gU is None:
            gA = cat([gA, U[..., k:].detach() * 0], -1)
    else:
        gA = _acc(matmul(gU, Uh) if gU is not None else None,
                  matmul(Lh, gL.tril(-1)) if gL is not None else None, -1)
        gA = solve_triangular(L[..., :k, :].mH, gA.triu(), upper=True, unitriangular=True)
        if gL is not None:
            gA = cat([gA + gL[..., :k, :].tril(-1), gL[..., k:, :]], -2)
        gA = solve_triangular(Uh, gA, upper=False, left=False)
        if gL is None:
            gA = cat([gA, L[..., k:, :].detach() * 0], -2)
    return matmul(P, gA)


class LuFactorEx(Function):
    """(LU, pivots, info) of getrf; the gradient reaches A through PyTorch's lu_factor_ex_backward."""

    _raw = True
    _node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, a):
        lu, piv, info = _getrf(a)
        ctx.piv = piv
        ctx.save_for_backward(lu)
        return lu, piv, info

    @staticmethod
    def backward(ctx, g, _piv=None, _info=None):
        (LU,) = ctx.saved_tensors
        L, U = _lu_factors(LU)
        k = min(LU.shape[-2:])
        P = Tensor._make(_p_matrix(ctx.piv, LU.shape[-2], LU._data.dtype))
        return _lu_backward(g[..., :, :k], g[..., :k, :], P, L, U)


class LinalgLu(Function):
    """(P, L, U) with A = P L U; P carries no gradient."""

    _raw = True
    _node_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, a):
        lu, piv, _ = _getrf(a)
        P = _p_matrix(piv, a.shape[-2], a.dtype)
        L, U = _unpack_arrays(lu)
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(P)
        ctx.save_for_backward(P, L, U)
        return P, L, U

    @staticmethod
    def backward(ctx, gP, gL, gU):
        P, L, U = ctx.saved_tensors
        return _lu_backward(gL, gU, P, L, U)


class LuUnpack(Function):
    """torch.lu_unpack: P from the pivots, L and U from the packed factor (empty when not asked for)."""

    _raw = True
    _node_name = "LuUnpackBackward0"

    @staticmethod
    def forward(ctx, lu, piv, unpack_data, unpack_pivots):
        empty = np.zeros(0, lu.dtype)
        P = _p_matrix(piv, lu.shape[-2], lu.dtype) if unpack_pivots else empty
        L, U = _unpack_arrays(lu) if unpack_data else (empty.copy(), empty.copy())
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(P)
        ctx.mn = lu.shape[-2:]
        return P, L, U

    @staticmethod
    def backward(ctx, gP, gL, gU):
        return _lu_unpack_backward(gL, gU, *ctx.mn), None, None, None


def _lu_unpack_backward(gL, gU, m, n):
    """PyTorch's lu_unpack_backward: the strict lower part of gL and the upper part of gU, packed as LU."""
    if gL is None and gU is None:
        return None
    k = min(m, n)
    if gL is not None and gU is not None:
        if m == n:
            return gL.tril(-1) + gU.triu()
        if m > n:
            return cat([gL[..., :k, :].tril(-1) + gU[..., :k].triu(), gL[..., k:, :]], -2)
        return cat([gL[..., :k, :].tril(-1) + gU[..., :k].triu(), gU[..., k:]], -1)
    if gL is not None:
        return gL.tril(-1) if m >= n else cat([gL.tril(-1), gL.new_zeros(gL.shape[:-1] + (n - m,))], -1)
    return gU.triu() if n >= m else cat([gU.triu(), gU.new_zeros(gU.shape[:-2] + (m - n, gU.shape[-1]))], -2)


class LuSolve(Function):
    """X solving op(A) X = B (left) or X op(A) = B, A = P L U packed; op = ^H with adjoint. Batch dims broadcast."""

    _raw = True
    _node_name = "LinalgLuSolveBackward0"

    @staticmethod
    def forward(ctx, lu, piv, b, left, adjoint):
        if left:
            x = _lu_solve_arrays(lu, piv, b, adjoint)
        else:
            x = np.swapaxes(_lu_solve_arrays(lu, piv, np.swapaxes(b, -1, -2).conj(), not adjoint), -1, -2).conj()
        x = np.ascontiguousarray(x)
        ctx.opts = (left, adjoint, lu.shape, b.shape)
        ctx.piv = piv
        ctx.save_for_backward(lu, x)
        return x

    @staticmethod
    def backward(ctx, g):
        left, adjoint, shape_lu, shape_b = ctx.opts
        LU, X = ctx.saved_tensors
        piv = Tensor._make(ctx.piv)
        gLU = gB = None
        if ctx.needs_input_grad[2]:
            gB = sum_to(LuSolve.apply(LU, piv, g, left, not adjoint), shape_b)
        if ctx.needs_input_grad[0]:
            gLU = sum_to(_lu_solve_grad_lu(g, LU, ctx.piv, X, left, adjoint), shape_lu)
        return gLU, None, gB, None, None


def _lu_solve_grad_lu(gX, LU, piv, X, left, adjoint):
    """PyTorch's linalg_lu_solve_LU: the gradient of the packed factor of an LU solve."""
    L, U = _lu_factors(LU)
    Lh, Uh = L.mH, U.mH
    if left != adjoint:
        gR = solve_triangular(Uh, -matmul(gX if left else gX.mH, X.mH if left else X), upper=False)
        gL = solve_triangular(Lh, matmul(gR, Uh), upper=True, unitriangular=True).tril(-1)
        return gL + gR.triu()
    P = Tensor._make(_p_matrix(piv, LU.shape[-2], LU._data.dtype))
    gR = -matmul(matmul(matmul(P.mT, X if left else X.mH), gX.mH if left else gX), P)
    gR = solve_triangular(Lh, gR, upper=True, left=False, unitriangular=True)
    gU = solve_triangular(Uh, matmul(Lh, gR), upper=False, left=False).triu()
    return gR.tril(-1) + gU


def _check_lu_input(A, name, pivot=True):
    """torch's checks of an LU factorization's input (2+ dims, floating, pivoting on the CPU)."""
    _check_tensor(A, name.rpartition(".")[2], "A")
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead")
    if A._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_cap(A._data.dtype)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def _lu_factor_ex(A, pivot, check_errors, name):
    """(LU, pivots, info); check_errors raises torch's zero-pivot RuntimeError naming `name`."""
    _check_lu_input(A, "torch.lu_factor", pivot)
    LU, piv, info = LuFactorEx.apply(A)
    if check_errors and info._data.any():
        k = int(np.flatnonzero(info._data.reshape(-1))[0])
        i = int(info._data.reshape(-1)[k])
        raise RuntimeError(f"{name}: {_batch_prefix(A._data, k)}U[{i},{i}] is zero and using it on lu_solve would "
                           "result in a division by zero. If you still want to perform the factorization, consider "
                           "calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return LU, piv, info


def _check_pivots_range(piv, m, what):
    """lu_solve/lu_unpack refuse pivots outside 1..m (they would index out of the matrix)."""
    if piv.size and (piv.min() < 1 or piv.max() > m):
        if what == "lu_unpack":
            raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you "
                               "properly pass the result of lu_factor?")
        bound = "greater or equal to 1" if piv.min() < 1 else "smaller or equal to LU.size(-2)"
        raise RuntimeError(f"Pivots given to lu_solve must all be {bound}. Did you properly pass the result of "
                           "lu_factor?")


def _lu_solve(LU, pivots, B, left=True, adjoint=False):
    """linalg.lu_solve with torch's checks, in torch's order."""
    _check_tensor(LU, "lu_solve", "LU")
    _check_tensor(pivots, "lu_solve", "pivots", 2)
    _check_tensor(B, "lu_solve", "B", 3)
    _check_float(LU, "torch.linalg.lu_solve")
    if LU._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_cap(LU._data.dtype)} and B of type {_cap(B._data.dtype)} instead")
    if pivots._data.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    _check_square(LU, "torch.linalg.lu_solve")
    if B._data.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    n, (rows, cols) = LU.shape[-1], B.shape[-2:]
    if (rows if left else cols) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX' if left else 'XA'} = B ({n}x{n} and {rows}x{cols})")
    if pivots._data.ndim == 0 or pivots.shape[-1] != n:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the dimension of the matrix")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(f"linalg.lu_solve: Expected LU.shape[:-1] and pivots.shape to be the same, but got "
                           f"pivots with shape {list(pivots.shape)} instead")
    _broadcast_shape(B.shape[:-2], LU.shape[:-2])
    _check_pivots_range(pivots._data, n, "lu_solve")
    return LuSolve.apply(LU, pivots, B, bool(left), bool(adjoint))


def _lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    _check_tensor(LU_data, "lu_unpack", "LU_data")
    if LU_data._data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    piv = LU_pivots._data
    if piv.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\n"
                           "Note: this function is intended to be used with the output produced by "
                           "torch.linalg.lu_factor")
    m, n = LU_data.shape[-2:]
    if unpack_pivots and (piv.ndim == 0 or piv.shape[-1] != min(m, n)):
        raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly "
                           "pass the result of lu_factor?")
    if unpack_pivots:
        _check_pivots_range(piv, m, "lu_unpack")
    return _named("lu_unpack", ("P", "L", "U"))(LuUnpack.apply(LU_data, LU_pivots, bool(unpack_data),
                                                               bool(unpack_pivots)))


_WARNED = set()


def _warn_once(key, message):
    """A deprecation UserWarning shown once per process, as TORCH_WARN_ONCE (every time under warn_always)."""
    from .._settings import is_warn_always_enabled
    if key in _WARNED and not is_warn_always_enabled():
        return
    _WARNED.add(key)
    warnings.warn(message, UserWarning, stacklevel=3)


def lu(A, pivot=True, get_infos=False, *, out=None):
    """torch.lu (deprecated): (LU, pivots), or torch.return_types._lu_with_info with get_infos; never raises on a
    singular input (torch checks nothing here)."""
    _warn_once("lu", "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and "
               "will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be "
               "replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = "
               "torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
               "torch.linalg.lu_factor_ex(A, compute_pivots)")
    LU, piv, info = _lu_factor_ex(A, pivot, False, "torch.lu")
    if get_infos:
        return _named("_lu_with_info", ("LU", "pivots", "info"))(LU, piv, info)
    return LU, piv


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    _warn_once("lu_solve", "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a "
               "future PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = "
               "torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")
    return _finish(_lu_solve(LU_data, LU_pivots, b), out)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    return _lu_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots)


def cholesky(input, upper=False, *, out=None):
    """torch.cholesky (deprecated): linalg.cholesky's kernel recorded as CholeskyBackward0."""
    _warn_once("cholesky", "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
               "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)"
               "\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
               "This transform will produce equivalent results for all valid (symmetric positive definite) inputs.")
    _check_square(input, "cholesky")
    return _finish(overload(Cholesky, "CholeskyBackward0").apply(input, bool(upper), True, "cholesky")[0], out)


class TriangularSolve(Function):
    """torch.triangular_solve: (op(T)^-1 b, a copy of A) with T the chosen triangle of A; both outputs carry
    gradient to A (PyTorch's triangular_solve_backward)."""

    _raw = True
    _node_name = "TriangularSolveBackward0"

    @staticmethod
    def forward(ctx, b, a, upper, transpose, unitriangular):
        T = _triangle(a, upper, unitriangular)
        if transpose:
            T = np.swapaxes(T, -1, -2)
        x = np.ascontiguousarray(_tri_solve(T, b))
        ctx.opts = (upper, transpose, unitriangular, b.shape, a.shape)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a, x)
        return x, np.array(np.broadcast_to(a, x.shape[:-2] + a.shape[-2:]))

    @staticmethod
    def backward(ctx, gx, gm):
        upper, transpose, unit, shape_b, shape_a = ctx.opts
        a, x = ctx.saved_tensors
        gb = ga = None
        if gx is not None:
            gb = TriangularSolve.apply(gx, a.conj(), upper, not transpose, unit)[0]
            if ctx.needs_input_grad[1]:
                ga = -matmul(x.conj(), gb.mT) if transpose else -matmul(gb, x.mH)
                ga = ga.triu(int(unit)) if upper else ga.tril(-int(unit))
        if gm is not None and ctx.needs_input_grad[1]:
            ga = _acc(ga, gm)
        return (sum_to(gb, shape_b) if gb is not None and ctx.needs_input_grad[0] else None,
                sum_to(ga, shape_a) if ga is not None else None, None, None, None)


def _triangle(a, upper, unitriangular):
    """The triangle of `a` a triangular solve reads (unit diagonal when unitriangular)."""
    T = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        T = T - np.einsum("...ii->...i", T)[..., None] * np.eye(a.shape[-1], dtype=a.dtype) + \
            np.eye(a.shape[-1], dtype=a.dtype)
    return T


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    _warn_once("triangular_solve", "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand "
               "will be removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments "
               "reversed and does not return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution"
               "\nshould be replaced with\nX = torch.linalg.solve_triangular(A, B).")
    _check_tensor(b, "triangular_solve")
    _check_tensor(A, "triangular_solve", "A", 2)
    if b._data.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
                           f"{b._data.ndim} dimensions instead")
    if A._data.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has "
                           f"{A._data.ndim} dimensions instead")
    if b._data.dtype != A._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_cap(b._data.dtype)} and "
                           f"A of type {_cap(A._data.dtype)} instead.")
    m, n = A.shape[-2:]
    if m != n:
        raise RuntimeError(f"A must be batches of square matrices, but they are {m} by {n} matrices")
    if b.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is {m} by {n} but each b "
                           f"matrix is {b.shape[-2]} by {b.shape[-1]}")
    _check_float(A, "triangular_solve")
    _broadcast_shape(b.shape[:-2], A.shape[:-2])
    res = TriangularSolve.apply(b, A, bool(upper), bool(transpose), bool(unitriangular))
    return _named("triangular_solve", ("solution", "cloned_coefficient"))(res)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """at::frobenius_norm (deprecated): the 2-norm over at most two dims, recorded as NormBackward1."""
    from .reduction import vector_norm
    dims = (int(dim),) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    _warn_once("frobenius_norm", "at::frobenius_norm is deprecated and it is just left for JIT compatibility. It "
               "will be removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` "
               "instead")
    wrapped = [wrap_dim(d, input.dim()) for d in dims]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"dim {wrapped[0]} appears multiple times in the list of dims")
    return _finish(as_node(vector_norm(input, 2, dims, keepdim), "NormBackward1"), out)


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """at::nuclear_norm (deprecated): the sum of singular values over two dims (the last two of a matrix)."""
    from ..linalg import matrix_norm
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    _warn_once("nuclear_norm", "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be "
               "removed in a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead")
    return _finish(matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim), out)


class Eigh(Function):
    """Symmetric eigendecomposition; backward is PyTorch's formula on the saved outputs (so it nests)."""

    _raw = True
    _node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        Vt = _mH(V)
        if gV is None:
            return matmul(V * gL.unsqueeze(-2), Vt), None
        VgV = matmul(Vt, gV)
        VgV = (VgV - _mH(VgV)) * 0.5
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        E = E + Tensor._make(np.eye(E.shape[-1], dtype=E._data.dtype))
        gA = VgV / E
        if gL is not None:  # PyTorch replaces the diagonal (imaginary for complex input) by the eigenvalues' grad
            gA = gA - gA.diagonal(0, -2, -1).diag_embed() + gL.to(gA.dtype).diag_embed()
        return matmul(V, matmul(gA, Vt)), None


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(input, UPLO="L"):
    _check_square(input, "linalg.eigh")
    _check_uplo(UPLO)
    return _named("linalg_eigh", ("eigenvalues", "eigenvectors"))(Eigh.apply(input, UPLO))


def eigvalsh(input, UPLO="L"):
    return eigh(input, UPLO)[0]


class Svd(Function):
    """SVD; backward is PyTorch's svd_backward on the saved outputs (assumes distinct singular values)."""

    _raw = True
    _node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
        if U.shape[-1] != k:
            U, gU = U[..., :k], (gU[..., :k] if gU is not None else None)
        if Vh.shape[-2] != k:
            Vh, gVh = Vh[..., :k, :], (gVh[..., :k, :] if gVh is not None else None)
        if gU is None and gVh is None:
            if gS is None:
                return None, None
            return (matmul(U, gS.unsqueeze(-1) * Vh) if m >= n else matmul(U * gS.unsqueeze(-2), Vh)), None
        UhgU = _skew(matmul(_mH(U), gU)) if gU is not None else None
        VhgV = _skew(matmul(Vh, _mH(gVh))) if gVh is not None else None
        if U.is_complex():
            _check_phase_invariant(UhgU, VhgV, S)
        return _svd_input_grad(U, S, Vh, gU, gS, gVh, UhgU, VhgV, m, n), None


def _skew(X):
    return X - _mH(X)


def _check_phase_invariant(UhgU, VhgV, S):
    """Complex singular vectors are fixed only up to a phase each: a loss that sees the phases has no gradient."""
    im_u = np.zeros(S.shape) if UhgU is None else np.diagonal(UhgU._data, 0, -2, -1).imag
    im_v = np.zeros(S.shape) if VhgV is None else np.diagonal(VhgV._data, 0, -2, -1).imag
    if not np.allclose(im_u, -im_v, rtol=1e-2, atol=1e-2):
        raise RuntimeError("svd_backward: The singular vectors in the complex case are specified up to multiplication "
                           "by e^{i phi}. The specified loss function depends on this phase term, making it "
                           "ill-defined.")


def _svd_input_grad(U, S, Vh, gU, gS, gVh, UhgU, VhgV, m, n):
    """PyTorch's svd_backward: U [(skew(U^H gU) / E) S + S (skew(V^H gV) / E) + I o (gS + i Im diag(U^H gU) / S)] V^H,
    plus the parts off the span of U (m > n) or of V (m < n)."""
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + Tensor._make(np.eye(S.shape[-1], dtype=S._data.dtype))
    if UhgU is not None and VhgV is not None:
        gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif UhgU is not None:
        gA = (UhgU / E) * S.unsqueeze(-2)
    else:
        gA = S.unsqueeze(-1) * (VhgV / E)
    if gS is not None:
        gA = gA + gS.diag_embed()
    if U.is_complex() and UhgU is not None:
        gA = gA + (UhgU.diagonal(0, -2, -1) / (2 * S)).diag_embed()
    if m > n and gU is not None:
        gUSinv = gU / S.unsqueeze(-2)
        gA = matmul(U, gA) + gUSinv - matmul(U, matmul(_mH(U), gUSinv))
        return matmul(gA, Vh)
    if m < n and gVh is not None:
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = matmul(gA, Vh) + SinvgVh - matmul(matmul(SinvgVh, _mH(Vh)), Vh)
        return matmul(U, gA)
    return matmul(U, matmul(gA, Vh)) if m >= n else matmul(matmul(U, gA), Vh)


def _svd(input, full_matrices, name="linalg.svd"):
    _check_matrices(input, name)
    return Svd.apply(input, bool(full_matrices))


def linalg_svd(A, full_matrices=True, *, driver=None):
    return _named("linalg_svd", ("U", "S", "Vh"))(_svd(A, full_matrices))


def svdvals(A, *, driver=None):
    return _svd(A, False)[1]


def svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd (deprecated form): returns V rather than Vh; compute_uv=False gives zero-filled U and V."""
    U, S, Vh = _svd(input, not some)
    if not compute_uv:
        U, Vh = U.detach() * 0, Vh.detach() * 0
    return _named("svd", ("U", "S", "V"))(U, S, _mH(Vh))


def _qr(A, mode):
    _check_matrices(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    return Qr.apply(A, mode)


class Qr(Function):
    """A = Q R as LAPACK (and so NumPy) computes it; backward is PyTorch's linalg_qr_backward."""

    _raw = True
    _node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, a, mode):
        if mode == "r":
            q, r = np.zeros(0, a.dtype), np.linalg.qr(a, mode="r")
        else:
            q, r = np.linalg.qr(a, mode=mode)
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(q, r)
        return q, np.asarray(r)

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        return _qr_backward(gQ, gR, Q, R, ctx.mode), None


def _qr_backward(gQ, gR, Q, R, mode):
    """PyTorch's linalg_qr_backward (tall: through R^-H; wide: through the leading square block of R)."""
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                           "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    m, n = Q.shape[-2], R.shape[-1]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if gQ is None and gR is None:
        return None
    if gQ is None:
        gA = matmul(gR, _mH(R))
    else:
        gA = -matmul(_mH(Q), gQ) if gR is None else matmul(gR, _mH(R)) - matmul(_mH(Q), gQ)
    if m >= n:
        sym = gA.triu()
        sym = sym + _mH(sym)
        sym = sym - (sym.diagonal(0, -2, -1).real * 0.5).diag_embed()
        gA = matmul(Q, sym)
        if gQ is not None:
            gA = gA + gQ
        return solve_triangular(_mH(R), gA, upper=False, left=False)
    X = -gA
    skew = (X - _mH(X)).tril()
    if skew._data.dtype.kind == "c":
        skew = skew - (skew.diagonal(0, -2, -1).imag * 0.5j).diag_embed()
    gA = solve_triangular(_mH(R[..., :m]), matmul(Q, skew), upper=False, left=False)
    from .shape import cat
    from .creation import zeros
    gA = cat([gA, zeros(R.shape[:-1] + (n - m,), dtype=gA.dtype)], -1)
    return gA + matmul(Q, gR) if gR is not None else gA


def linalg_qr(A, mode="reduced"):
    return _named("linalg_qr", ("Q", "R"))(_qr(A, mode))


def qr(input, some=True):
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                  "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = "
                  "torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
                  "'complete')", UserWarning, stacklevel=2)
    return _named("qr", ("Q", "R"))(_qr(input, "reduced" if some else "complete"))


def _tol_array(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v, np.float64)


def _tolerances(A, atol, rtol, name):
    """PyTorch's get_atol_rtol as arrays: atol (default 0) and rtol (default eps * max(m, n), 0 where atol > 0)."""
    for v, what in ((atol, "atol"), (rtol, "rtol")):
        if isinstance(v, Tensor) and v._data.dtype.kind == "c":
            raise RuntimeError(f"{name}: {what} tensor of complex type is not supported. Got {_cap(v._data.dtype)}")
    atol = np.zeros((), np.float64) if atol is None else _tol_array(atol)
    if rtol is not None:
        return atol, _tol_array(rtol)
    default = np.finfo(A._data.dtype).eps * max(A._data.shape[-2:])
    return atol, np.where(atol > 0, 0.0, default)


def _cutoff(atol, rtol, smax):
    """max(atol, rtol * largest singular value), per matrix of the batch (a trailing unit dim)."""
    return np.maximum(atol[..., None], rtol[..., None] * smax)


def pinv(input, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    A = input
    _check_tensor(A, "pinv")
    if A._data.ndim < 2 or A._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.pinv({_cap(A._data.dtype)}{{{list(A.shape)}}}): expected a tensor with 2 or "
                           "more dimensions of float, double, cfloat or cdouble types")
    if rcond is not None:  # the positional (rcond, hermitian) overload: rtol = rcond, atol = 0
        atol, rtol = 0.0, rcond
    atol, rtol = _tolerances(A, atol, rtol, "torch.linalg.pinv")
    return _finish(Pinv.apply(A, atol, rtol, bool(hermitian)), out)


class Pinv(Function):
    """Pseudo-inverse by SVD (by eigh of the lower triangle when hermitian), singular values (|eigenvalues|) at or
    below max(atol, rtol * largest) dropped; backward is PyTorch's pinv_backward."""

    _raw = True
    _node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        if a.size == 0:
            out = np.zeros(a.shape[:-2] + a.shape[-2:][::-1], a.dtype)
        elif hermitian:
            w, u = np.linalg.eigh(a)
            keep = np.abs(w) > _cutoff(atol, rtol, np.abs(w).max(-1, keepdims=True))
            w_inv = np.where(keep, 1 / np.where(keep, w, 1), 0).astype(a.dtype)
            out = np.matmul(u * w_inv[..., None, :], np.swapaxes(u, -1, -2).conj())
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            keep = s > _cutoff(atol, rtol, s[..., :1])
            s_inv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype)
            out = np.matmul(np.swapaxes(vh, -1, -2).conj() * s_inv[..., None, :], np.swapaxes(u, -1, -2).conj())
        ctx.save_for_backward(a, out)
        return np.asarray(out)

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return _pinv_backward(g, out, a), None, None, None


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    _check_tensor(A, "matrix_rank")
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError("This function doesn't handle types other than float and double")
    if tol is not None:  # the positional (tol, hermitian) overload: an absolute tolerance
        atol, rtol = tol, 0.0
    atol, rtol = _tolerances(A, atol, rtol, "torch.linalg.matrix_rank")
    if A._data.size == 0:  # no nonzero rows: rank 0
        return _finish(Tensor._make(np.zeros(A._data.shape[:-2], np.int64)), out)
    if hermitian:
        s = np.abs(np.linalg.eigvalsh(A._data))
        smax = s.max(-1, keepdims=True)
    else:
        s = np.linalg.svd(A._data, compute_uv=False)
        smax = s[..., :1]
    rank = (s > _cutoff(atol, rtol, smax)).sum(-1).astype(np.int64)
    return _finish(Tensor._make(np.asarray(rank)), out)


def matrix_power(input, n):
    """A^n by repeated squaring of ember matmuls (differentiable); negative n inverts first."""
    _check_tensor(input, "matrix_power")
    A = input
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    n = int(n)
    if n == 0:  # PyTorch copies an identity into a clone of A: A gets a zero gradient
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A._data.shape)
        return overload(_Constant, "CopyBackwards").apply(np.array(eye), A)
    if n < 0:
        A, n = inverse(A), -n
    result = None
    while n:
        if n & 1:
            result = A if result is None else matmul(result, A)
        n >>= 1
        if n:
            A = matmul(A, A)
    return result


def chain_matmul(*matrices, out=None):
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    r = matrices[0]
    for m in matrices[1:]:
        r = mm(r, m)
    return _finish(as_node(r, "ViewBackward0"), out)  # as PyTorch's multi_dot, which it calls


def cholesky_solve(B, L, upper=False, *, out=None):
    Lo = _mH(L) if upper else L
    return _finish(as_node(solve(_mH(Lo), solve(Lo, B)), "CholeskySolveBackward0"), out)


def cholesky_inverse(L, upper=False, *, out=None):
    Lo = _mH(L) if upper else L
    return _finish(as_node(matmul(_mH(inverse(Lo)), inverse(Lo)), "CholeskyInverseBackward0"), out)


# ---- least squares and the general eigendecomposition ----------------------------------------------------------
def _pinv_backward(g, pinvA, A):
    """PyTorch's pinv_backward: the gradient of A from that of pinv(A) (Golub-Pereyra)."""
    pinvAh, gh = pinvA.mH, g.mH
    if A.shape[-2] <= A.shape[-1]:
        K = matmul(gh, pinvA)
        KpinvAh = matmul(K, pinvAh)
        return (-matmul(pinvA, K).mH + KpinvAh - matmul(matmul(A, pinvA), KpinvAh)
                + matmul(matmul(pinvAh, pinvA), gh - matmul(K, A)))
    K = matmul(pinvA, gh)
    pinvAhK = matmul(pinvAh, K)
    return (-matmul(K, pinvA).mH + matmul(matmul(gh - matmul(A, K), pinvA), pinvAh) + pinvAhK
            - matmul(matmul(pinvAhK, pinvA), A))


class Lstsq(Function):
    """(solution, residuals, rank, singular_values) of min ||A X - B|| by SVD: the minimum-norm solution with
    singular values below rcond * max cut; the outputs torch fills per driver, the others empty."""

    _raw = True
    _node_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, a, b, rcond, driver):
        m, n = a.shape[-2:]
        real = np.finfo(a.dtype).dtype
        if rcond is None or rcond < 0:
            rcond = np.finfo(a.dtype).eps * max(m, n)
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), real)
        keep = s > (0 if driver == "gels" else rcond * smax)
        s_inv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(real)
        pinv_ = np.matmul(np.swapaxes(vh, -1, -2).conj() * s_inv[..., None, :], np.swapaxes(u, -1, -2).conj())
        x = np.ascontiguousarray(np.matmul(pinv_, b)).astype(a.dtype, copy=False)
        rank = keep.sum(-1).astype(np.int64) if driver != "gels" else np.zeros(0, np.int64)
        full = driver == "gels" or (driver != "gelsy" and bool((rank == n).all()))
        if m > n and driver != "gelsy" and full:
            res = (np.abs(np.matmul(a, x) - b) ** 2).sum(-2).astype(real)
        else:
            res = np.zeros(0, real)
        sv = s.astype(real) if driver in ("gelsd", "gelss") else np.zeros(0, real)
        ctx.mark_non_differentiable(sv)
        ctx.set_materialize_grads(False)
        ctx.has_res = res.size > 0
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a, b, x)
        return x, res, rank, sv

    @staticmethod
    def backward(ctx, gX, gres, _rank=None, _sv=None):
        A, B, X = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        gA = gB = None
        if gX is not None:
            pinvA = pinv(A)
            if ctx.needs_input_grad[0]:
                gA = _pinv_backward(matmul(gX, B.mH), pinvA, A)
            gB = matmul(pinvA.mH, gX)
        if gres is not None and ctx.has_res:
            r = (matmul(A, X) - B) * gres.unsqueeze(-2) * 2
            gA = _acc(gA, matmul(r, X.mH))
            gB = _acc(gB, r, -1)
        return (sum_to(gA, shape_a) if gA is not None and ctx.needs_input_grad[0] else None,
                sum_to(gB, shape_b) if gB is not None and ctx.needs_input_grad[1] else None, None, None)


class Eig(Function):
    """Eigenvalues and unit-norm eigenvectors of a general square matrix (LAPACK geev via NumPy), complex; the
    backward is PyTorch's linalg_eig_backward on the saved outputs."""

    _raw = True
    _node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, a):
        cdt = np.result_type(a.dtype, np.complex64)
        if a.size and not np.isfinite(a).all():
            raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
        w, v = np.linalg.eig(a)
        w, v = w.astype(cdt), v.astype(cdt)
        ctx.set_materialize_grads(False)
        ctx.real_input = a.dtype.kind == "f"
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        Vh = V.mH
        if gV is None:
            gA = solve(Vh, gL.unsqueeze(-1) * Vh)
        else:
            VhgV = matmul(Vh, gV)
            diag = VhgV.diagonal(0, -2, -1)
            if not np.allclose(diag._data.imag, 0, rtol=1e-2, atol=1e-2):
                raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                                   "multiplication by e^{i phi}. The specified loss function depends on this "
                                   "quantity, so it is ill-defined.")
            VhgV = VhgV - matmul(Vh, V * diag.real.unsqueeze(-2))
            Lc = L.conj()
            E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1)
            E = E + Tensor._make(np.eye(E.shape[-1], dtype=E._data.dtype))
            gA = VhgV / E
            if gL is not None:
                gA = gA + gL.diag_embed()
            gA = solve(Vh, matmul(gA, Vh))
        return gA.real if ctx.real_input else gA


def _eig(A, name):
    """(eigenvalues, eigenvectors) with torch's checks."""
    _check_square(A, name)
    return Eig.apply(A)


# ---- matrix exponential, Householder products ---------------------------------------------------------------
# PyTorch's matrix_exp: optimized Taylor polynomials of degree 1, 2, 4, 8, 12, 18 (Bader, Blanes, Casas 2019), the
# degree picked per matrix by its 1-norm, with scaling and squaring past the last bound. The bounds per precision:
_MEXP_THETAS = {
    np.dtype(np.float32): (1.192092800768788e-07, 5.978858893805233e-04, 5.116619363445086e-02,
                           5.800524627688768e-01, 1.461661507209034e+00, 3.010066362817634e+00),
    np.dtype(np.float64): (2.220446049250313e-16, 2.580956802971767e-08, 3.397168839976962e-04,
                           4.991228871115323e-02, 2.996158913811580e-01, 1.090863719290036e+00),
}
_T12 = ((9.0198e-16, 0.46932117595418237389, -0.20099424927047284052, -0.04623946134063071740),
        (5.31597895759871264183, 1.19926790417132231573, 0.01179296240992997031, 0.01108844528519167989),
        (0.18188869982170434744, 0.05502798439925399070, 0.09351590770535414968, 0.00610700528898058230),
        (-2.0861320e-13, -0.13181061013830184015, -0.02027855540589259079, -0.00675951846863086359))
_T18 = ((0., -1.00365581030144618291e-01, -8.02924648241156932449e-03, -8.92138498045729985177e-04, 0.),
        (0., 3.97849749499645077844e-01, 1.36783778460411720168e+00, 4.98289622525382669416e-01,
         -6.37898194594723280150e-04),
        (-1.09676396052962061844e+01, 1.68015813878906206114e+00, 5.71779846478865511061e-02,
         -6.98210122488052056106e-03, 3.34975017086070470649e-05),
        (-9.04316832390810593223e-02, -6.76404519071381882256e-02, 6.75961301770459654925e-02,
         2.95552570429315521194e-02, -1.39180257516060693404e-05),
        (0., 0., -9.23364619367118555360e-02, -1.69364939002081722752e-02, -1.40086798182036094347e-05))


def _powers(a, k):
    """The first k of I, A, A^2, A^3, A^6 (the products the Taylor forms share)."""
    out = [np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape), a]
    if k > 2:
        out.append(a @ a)
    if k > 3:
        out.append(a @ out[2])
    if k > 4:
        out.append(out[3] @ out[3])
    return out[:k]


def _lincomb(mats, coeffs):
    """sum_j coeffs[j] * mats[j], coefficients in the matrices' real precision, accumulated in order."""
    real = mats[0].real.dtype
    out = None
    for c, m in zip(coeffs, mats):
        term = real.type(c) * m
        out = term if out is None else out + term
    return out


def _taylor1(a):
    i, a1 = _powers(a, 2)
    return i + a1


def _taylor2(a):
    i, a1, a2 = _powers(a, 3)
    return i + a1 + a2 / 2


def _taylor4(a):
    p = _powers(a, 3)
    return _lincomb(p[:2] + [p[2], p[2] @ _lincomb(p, (1 / 2, 1 / 6, 1 / 24))], (1, 1, 0, 1))


def _taylor8(a):
    f = a.real.dtype.type
    r177, x3 = float(f(0.1330413469565007072504e+2)), float(f(2 / 3))
    x1, x2 = x3 * ((1 + r177) / 88), x3 * ((1 + r177) / 352)
    x4, x5 = (-271 + 29 * r177) / (315 * x3), (-11 + 11 * r177) / (1260 * x3)
    x6, x7, y2 = (-99 + 11 * r177) / (5040 * x3), (89 - r177) / (5040 * x3), (857 - 58 * r177) / 630
    p = _powers(a, 3)
    a4 = p[2] @ _lincomb(p[1:], (x1, x2))
    a8 = _lincomb([p[2], a4], (x3, 1)) @ _lincomb(p + [a4], (x4, x5, x6, x7))
    return _lincomb(p + [a4, a8], (1, 1, y2, 0, 1))


def _taylor12(a):
    b = [_lincomb(_powers(a, 4), row) for row in _T12]
    b[2] = b[2] + b[3] @ b[3]
    return b[0] + (b[1] + b[2]) @ b[2]


def _taylor18(a):
    b = [_lincomb(_powers(a, 5), row) for row in _T18]
    b[3] = b[3] + b[0] @ b[4]
    return b[1] + (b[2] + b[3]) @ b[3]


def _taylor18_scaled(a, norm, theta):
    """exp by the degree-18 form of A / 2^s, squared back s times (s per matrix)."""
    real = a.real.dtype.type
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.ceil(np.log2(norm / real(theta)))
    s = np.where(np.isfinite(s) & (s > 0), s, 0).astype(np.int64)  # a NaN or infinite A needs no scaling
    r = _taylor18(a / np.exp2(s).astype(real)[:, None, None])
    for k in range(int(s.max(initial=0))):
        r = np.where((s > k)[:, None, None], r @ r, r)
    return r


def _expm(a):
    """exp of a batch of square arrays, as PyTorch computes it: one matrix by the Taylor form its norm calls for, a
    batch by the degree-18 one; half in float32, rounded once."""
    n = a.shape[-1]
    if n == 0:
        return a.copy()
    if n == 1:
        return np.exp(a)
    if a.dtype == np.float16:
        return _expm(a.astype(np.float32)).astype(np.float16)
    thetas = _MEXP_THETAS[np.dtype(a.real.dtype)]
    a3 = a.reshape(-1, n, n)
    norm = np.abs(a3).sum(-2).max(-1)
    if len(a3) > 1:  # a batch takes the degree-18 form throughout
        return _taylor18_scaled(a3, norm, thetas[5]).reshape(a.shape)
    res = np.empty_like(a3)
    lower = -1
    for theta, form in zip(thetas, (_taylor1, _taylor2, _taylor4, _taylor8, _taylor12)):
        idx = np.nonzero((lower < norm) & (norm <= theta))[0]
        if idx.size:
            res[idx] = form(a3[idx])
        lower = theta
    idx = np.nonzero(~(norm < thetas[4]))[0]  # past the degree-12 bound (NaN norms too)
    if idx.size:
        res[idx] = _taylor18_scaled(a3[idx], norm[idx], thetas[5])
    return res.reshape(a.shape)


class MatrixExp(Function):
    """exp(A) for a batch of square matrices; the gradient is a block of exp([[A^H, G], [0, A^H]])."""

    _raw = True
    _node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        n = a.shape[-1]
        ah = a.mH
        block = cat([cat([ah, g], -1), cat([ah.new_zeros(ah.shape), ah], -1)], -2)
        return MatrixExp.apply(block)[..., :n, n:]


def matrix_exp(A):
    """The matrix exponential of a square matrix or batch of them (differentiable, double-differentiable)."""
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return MatrixExp.apply(A)


class _Constant(Function):
    """A value that does not depend on its inputs' entries (an identity), recorded as their op's node so that they
    get the zero gradients PyTorch's node gives them."""

    _raw = True

    @staticmethod
    def forward(ctx, value, *inputs):
        ctx.metas = [(x.shape, x.dtype) for x in inputs]
        return value

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(Tensor._make(np.zeros(s, d)) for s, d in ctx.metas)


def householder_product(A, tau):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H, v_i the i-th column of unit-lower A."""
    m, n = A.shape[-2], A.shape[-1]
    if tau.shape[-1] == 0:  # no reflectors: the identity, with zero gradients for A and tau
        Q = np.array(np.broadcast_to(np.eye(m, n, dtype=A._data.dtype), A._data.shape))
        return overload(_Constant, "LinalgHouseholderProductBackward0").apply(Q, A, tau)
    V = A.tril(-1) + eye(m, n, dtype=A.dtype)
    Q = eye(m, n, dtype=A.dtype).expand(*A.shape)
    for i in reversed(range(tau.shape[-1])):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    return as_node(Q, "LinalgHouseholderProductBackward0")


class Geqrf(Function):
    """LAPACK's geqrf QR in Householder form (NumPy's qr mode='raw' computes it); PyTorch defines no derivative."""

    _raw = True
    _node_name = "GeqrfBackward0"

    @staticmethod
    def forward(ctx, a):
        h, tau = np.linalg.qr(a, mode="raw")
        return np.ascontiguousarray(np.swapaxes(h, -1, -2)), np.asarray(tau)

    @staticmethod
    def backward(ctx, ga, gtau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input, *, out=None):
    """(a, tau) of torch.geqrf: R above the diagonal of a, the Householder vectors below it."""
    _check_tensor(input, "geqrf")
    if input._data.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{_dtype.scalar_name(input.dtype)}'")
    return _named("geqrf", ("a", "tau"))(Geqrf.apply(input))


def orgqr(input, tau):
    return householder_product(input, tau)


def _check_ormqr(input, tau, other, left):
    """PyTorch's shape and dtype checks of ormqr, in its order."""
    for name, t in (("input", input), ("other", other)):
        if t.dim() < 2:
            raise RuntimeError(f"torch.ormqr: {name} must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"torch.ormqr: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.dim() == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if tau.shape[-1] != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])")
    if input.dim() - tau.dim() != 1:
        raise RuntimeError(f"torch.ormqr: Expected tau to have one dimension less than input, but got tau.ndim equal "
                           f"to {tau.dim()} and input.ndim is equal to {input.dim()}")
    if input.dim() != other.dim():
        raise RuntimeError(f"torch.ormqr: Expected other to have the same number of dimensions as input, but got "
                           f"other.ndim equal to {other.dim()} and input.ndim is equal to {input.dim()}")


def ormqr(input, tau, other, left=True, transpose=False):
    """other multiplied by Q (or Q^H with transpose) from the left or right, Q = H_1 ... H_k the full m x m
    product of geqrf's reflectors."""
    _check_ormqr(input, tau, other, left)
    m = input.shape[-2]
    V = input.tril(-1) + eye(m, input.shape[-1], dtype=input.dtype)
    Q = eye(m, dtype=input.dtype).expand(*input.shape[:-2], m, m)
    for i in reversed(range(tau.shape[-1])):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    Q = Q.mH if transpose else Q
    return as_node(Q @ other if left else other @ Q, "OrmqrBackward0")


__all__ = ["matrix_exp", "matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "addmm", "addmv",
           "addbmm", "baddbmm", "addr", "tensordot", "kron", "cross", "einsum", "det", "logdet", "slogdet", "inverse",
           "pinverse", "matrix_power", "chain_matmul", "svd", "qr", "cholesky_solve", "cholesky_inverse", "geqrf",
           "orgqr", "ormqr", "lu", "lu_solve", "lu_unpack", "cholesky", "triangular_solve", "frobenius_norm",
           "nuclear_norm"]


Tensor.cholesky = lambda self, upper=False: cholesky(self, upper)
Tensor.geqrf = lambda self: geqrf(self)
Tensor.orgqr = lambda self, input2: orgqr(self, input2)
Tensor.ormqr = lambda self, input2, input3, left=True, transpose=False: ormqr(self, input2, input3, left, transpose)
Tensor.lu = lambda self, pivot=True, get_infos=False: lu(self, pivot, get_infos)
Tensor.lu_solve = lambda self, LU_data, LU_pivots: lu_solve(self, LU_data, LU_pivots)
Tensor.triangular_solve = lambda self, A, upper=True, transpose=False, unitriangular=False: \
    triangular_solve(self, A, upper, transpose, unitriangular)


# ---- LDL^T (Bunch-Kaufman, LAPACK's sytf2/hetf2 and sytrs/hetrs) ---------------------------------------------
_BK_ALPHA = (1 + 17 ** 0.5) / 8


def _abs1(x):
    """LAPACK's cabs1 (|re| + |im|) for complex values, |x| for real ones."""
    return np.abs(x.real) + np.abs(x.imag) if np.iscomplexobj(x) else np.abs(x)


def _mirror(t, herm):
    """The full symmetric (Hermitian, real diagonal) matrices whose lower triangles are those of `t`."""
    low = np.tril(t, -1)
    up = np.swapaxes(low, -1, -2)
    full = low + (up.conj() if herm else up)
    i = np.arange(t.shape[-1])
    d = t[..., i, i]
    full[..., i, i] = d.real if herm else d
    return full


def _dlapy2(z):
    """LAPACK's dlapy2: |z| as max * sqrt(1 + (min / max)^2)."""
    x, y = np.abs(z.real), np.abs(z.imag)
    w, v = np.maximum(x, y), np.minimum(x, y)
    with np.errstate(all="ignore"):
        return np.where(v == 0, w, w * np.sqrt(1 + (v / np.where(w == 0, 1, w)) ** 2))


def _bk_pivot(s, k, herm):
    """Bunch-Kaufman's choice at column k for every matrix: (kp, kstep, singular)."""
    b, n = s.shape[0], s.shape[-1]
    rows = np.arange(b)
    diag = (lambda x: np.abs(x.real)) if herm else _abs1
    absakk = diag(s[:, k, k])
    if k + 1 < n:
        col = _abs1(s[:, k + 1:, k])
        imax = k + 1 + np.argmax(col, -1)
        colmax = col[rows, imax - k - 1]
    else:
        imax, colmax = np.full(b, k), np.zeros(b, absakk.dtype)
    row = _abs1(s[rows, imax, k:])
    row[rows, imax - k] = 0
    rowmax = row.max(-1)
    singular = (np.maximum(absakk, colmax) == 0) | np.isnan(absakk)
    with np.errstate(all="ignore"):
        keep = singular | (absakk >= _BK_ALPHA * colmax) | (absakk >= _BK_ALPHA * colmax * (colmax / rowmax))
        one = keep | (diag(s[rows, imax, imax]) >= _BK_ALPHA * rowmax)
    return np.where(keep, k, imax), np.where(one, 1, 2), singular


def _bk_swap(s, k, kk, kp):
    """Symmetric interchange of rows and columns kk and kp of the trailing blocks s[:, k:, k:]."""
    b, n = s.shape[0], s.shape[-1]
    rows = np.arange(b)
    perm = np.array(np.broadcast_to(np.arange(k, n), (b, n - k)))
    perm[rows, kk - k] = kp
    perm[rows, kp - k] = kk
    s[:, k:, k:] = s[rows[:, None, None], perm[:, :, None], perm[:, None, :]]


def _bk_one(s, k, herm):
    """The 1x1 pivot step: syr/her rank-one update of the trailing matrices, then the column scaled."""
    x = s[:, k + 1:, k]
    d = s[:, k, k].real if herm else s[:, k, k]
    r1 = 1 / d
    temp = (-r1)[:, None] * (x.conj() if herm else x)
    s[:, k + 1:, k + 1:] = _mirror(s[:, k + 1:, k + 1:] + x[:, :, None] * temp[:, None, :], herm)
    s[:, k + 1:, k] = x * r1[:, None]


def _bk_two(s, k, herm):
    """The 2x2 pivot step of sytf2/hetf2 on columns k and k + 1."""
    a21 = s[:, k + 1, k]
    if herm:
        d = _dlapy2(a21)
        d11, d22 = s[:, k + 1, k + 1].real / d, s[:, k, k].real / d
        c21, d = a21 / d, 1 / (d11 * d22 - 1) / d
        ak, ak1 = s[:, k + 2:, k], s[:, k + 2:, k + 1]
        wk = d[:, None] * (d11[:, None] * ak - c21[:, None] * ak1)
        wk1 = d[:, None] * (d22[:, None] * ak1 - c21.conj()[:, None] * ak)
        cwk, cwk1 = wk.conj(), wk1.conj()
    else:
        d11, d22 = s[:, k + 1, k + 1] / a21, s[:, k, k] / a21
        d21 = (1 / (d11 * d22 - 1)) / a21
        ak, ak1 = s[:, k + 2:, k], s[:, k + 2:, k + 1]
        wk = d21[:, None] * (d11[:, None] * ak - ak1)
        wk1 = d21[:, None] * (d22[:, None] * ak1 - ak)
        cwk, cwk1 = wk, wk1
    t = s[:, k + 2:, k + 2:] - ak[:, :, None] * cwk[:, None, :] - ak1[:, :, None] * cwk1[:, None, :]
    s[:, k + 2:, k + 2:] = _mirror(t, herm)
    s[:, k + 2:, k], s[:, k + 2:, k + 1] = wk, wk1


def _bk_apply(s, k, idx, step):
    """Run one pivot step on the matrices `idx` of s (written back in place)."""
    if idx.size:
        sub = s[idx]
        step(sub)
        s[idx] = sub


def _sytf2_lower(a, herm):
    """LAPACK's sytf2/hetf2 with uplo='L' on a stack of matrices: (LD, 1-based pivots, info)."""
    b, n = a.shape[0], a.shape[-1]
    s = _mirror(a, herm)
    piv = np.zeros((b, n), np.int32)
    info = np.zeros(b, np.int32)
    skip = np.zeros(b, bool)
    with np.errstate(all="ignore"):
        for k in range(n):
            act = np.flatnonzero(~skip)
            kp, kstep, singular = _bk_pivot(s[act], k, herm)
            info[act] = np.where((info[act] == 0) & singular, k + 1, info[act])
            _bk_apply(s, k, act, lambda t: _bk_swap(t, k, k + kstep - 1, kp))
            ones, twos = act[(kstep == 1) & ~singular], act[kstep == 2]
            if k + 1 < n:
                _bk_apply(s, k, ones, lambda t: _bk_one(t, k, herm))
            if k + 2 < n:
                _bk_apply(s, k, twos, lambda t: _bk_two(t, k, herm))
            piv[act, k] = np.where(kstep == 1, kp + 1, -(kp + 1))
            skip[:] = False
            if twos.size:
                piv[twos, k + 1] = piv[twos, k]
            skip[twos] = True
    return np.tril(s), piv, info


def _sytrf(a, herm):
    """(LD, pivots, info) of LAPACK's sytrf/hetrf (uplo='L') for a batch of square matrices."""
    n = a.shape[-1]
    ld, piv, info = _sytf2_lower(a.reshape((math.prod(a.shape[:-2]), n, n)), herm)
    return ld.reshape(a.shape), piv.reshape(a.shape[:-1]), info.reshape(a.shape[:-2])


def _rows_swap(x, g, i, j):
    """Swap rows i and j (arrays over the matrices g) of x[g]."""
    top = x[g, i].copy()
    x[g, i] = x[g, j]
    x[g, j] = top


def _ldl_blocks(piv):
    """Per matrix and column: True where a 1x1 or 2x2 diagonal block of D starts."""
    start = np.zeros(piv.shape, bool)
    skip = np.zeros(piv.shape[0], bool)
    for k in range(piv.shape[1]):
        start[:, k] = ~skip
        skip = ~skip & (piv[:, k] < 0)
    return start


def _sytrs_forward(L, piv, x, start, herm):
    """Solve L D Y = B in place (the first sweep of sytrs/hetrs)."""
    n = L.shape[-1]
    cj = np.conj if herm else (lambda v: v)
    for k in range(n):
        one = np.flatnonzero(start[:, k] & (piv[:, k] > 0))
        two = np.flatnonzero(start[:, k] & (piv[:, k] < 0))
        _rows_swap(x, one, k, piv[one, k] - 1)
        x[one, k + 1:] -= L[one, k + 1:, k, None] * x[one, None, k]
        x[one, k] *= (1 / (L[one, k, k].real if herm else L[one, k, k]))[:, None]
        if two.size:
            _rows_swap(x, two, k + 1, -piv[two, k] - 1)
            x[two, k + 2:] -= L[two, k + 2:, k, None] * x[two, None, k]
            x[two, k + 2:] -= L[two, k + 2:, k + 1, None] * x[two, None, k + 1]
            e = L[two, k + 1, k]
            akm1, ak = L[two, k, k] / cj(e), L[two, k + 1, k + 1] / e
            denom = (akm1 * ak - 1)[:, None]
            bkm1, bk = x[two, k] / cj(e)[:, None], x[two, k + 1] / e[:, None]
            x[two, k] = (ak[:, None] * bkm1 - bk) / denom
            x[two, k + 1] = (akm1[:, None] * bk - bkm1) / denom


def _sytrs_backward(L, piv, x, start, herm):
    """Solve L^T X = Y (L^H with herm) in place (the second sweep of sytrs/hetrs)."""
    n = L.shape[-1]
    cj = np.conj if herm else (lambda v: v)
    for k in range(n - 1, -1, -1):
        one = np.flatnonzero(start[:, k] & (piv[:, k] > 0))
        two = np.flatnonzero(~start[:, k])
        x[one, k] -= np.einsum("bi,bij->bj", cj(L[one, k + 1:, k]), x[one, k + 1:])
        _rows_swap(x, one, k, piv[one, k] - 1)
        if two.size:
            x[two, k] -= np.einsum("bi,bij->bj", cj(L[two, k + 1:, k]), x[two, k + 1:])
            x[two, k - 1] -= np.einsum("bi,bij->bj", cj(L[two, k + 1:, k - 1]), x[two, k + 1:])
            _rows_swap(x, two, k, -piv[two, k] - 1)


def _sytrs(ld, piv, b, herm):
    """A^-1 B for A = P L D L^T P^T (L^H with herm) given sytrf's LD and pivots; batch dims broadcast."""
    shape = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    n, m = b.shape[-2:]
    rows = math.prod(shape)  # not -1: the batch may be empty, or the matrices 0 x 0
    L = np.broadcast_to(ld, shape + (n, n)).reshape(rows, n, n)
    p = np.broadcast_to(piv, shape + (n,)).reshape(rows, n).astype(np.int64)
    x = np.array(np.broadcast_to(b, shape + (n, m))).reshape(rows, n, m)
    start = _ldl_blocks(p)
    with np.errstate(all="ignore"):
        _sytrs_forward(L, p, x, start, herm)
        _sytrs_backward(L, p, x, start, herm)
    return x.reshape(shape + (n, m))


class LdlFactorEx(Function):
    """(LD, pivots, info) of LAPACK's sytrf/hetrf; PyTorch defines no derivative."""

    _raw = True
    _node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, a, herm):
        ld, piv, info = _sytrf(a, herm)
        ctx.mark_non_differentiable(piv, info)
        return ld, piv, info

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


class LdlSolve(Function):
    """X with A X = B from ldl_factor's (LD, pivots) (sytrs/hetrs); PyTorch defines no derivative."""

    _raw = True
    _node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, ld, piv, b, herm):
        return _sytrs(ld, piv, b, herm)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def _ldl_factor_ex(A, hermitian, check_errors, name):
    """torch.linalg.ldl_factor(_ex) with torch's checks; a nonzero info raises torch's (internal-assert) error."""
    _check_tensor(A, name.rpartition(".")[2].replace("ldl", "linalg_ldl"), "input")
    _check_square(A, "torch.linalg.ldl_factor_ex")
    if A._data.dtype == np.float16:
        raise NotImplementedError("\"ldl_factor_kernel_cpu\" not implemented for 'Half'")
    LD, piv, info = LdlFactorEx.apply(A, bool(hermitian) and A._data.dtype.kind == "c")
    if check_errors and info._data.any():
        code = int(info._data.reshape(-1)[np.flatnonzero(info._data.reshape(-1))[0]])
        raise RuntimeError(f"false INTERNAL ASSERT FAILED at \"/__w/pytorch/pytorch/aten/src/ATen/native/"
                           f"BatchLinearAlgebra.cpp\":1642, please report a bug to PyTorch. {name}: Unknown error "
                           f"code: {code}.")
    return LD, piv, info


def _ldl_solve(LD, pivots, B, hermitian=False):
    """torch.linalg.ldl_solve with torch's checks, in torch's order."""
    for pos, (x, arg) in enumerate(((LD, "LD"), (pivots, "pivots"), (B, "B")), 1):
        _check_tensor(x, "linalg_ldl_solve", arg, pos)
    name = "torch.linalg.ldl_solve"
    if LD._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if B._data.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got -2)")
    _check_square(LD, name)
    n, (rows, cols) = LD.shape[-1], B.shape[-2:]
    if rows != n:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} but each b matrix "
                           f"is {rows} by {cols}")
    if LD._data.dtype != B._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_cap(B._data.dtype)} and "
                           f"A of type {_cap(LD._data.dtype)} instead.")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots with "
                           f"shape {list(pivots.shape)} instead")
    _broadcast_shape(B.shape[:-2], LD.shape[:-2])
    p = np.abs(pivots._data)
    if p.size and (p.min() < 1 or p.max() > n):
        bound = ">= 1" if p.min() < 1 else "<= LD.size(-2)"
        raise RuntimeError(f"Pivots given to ldl_solve must all satisfy |pivot| {bound}. Did you properly pass the "
                           "result of ldl_factor?")
    return LdlSolve.apply(LD, pivots, B, bool(hermitian) and LD._data.dtype.kind == "c")
