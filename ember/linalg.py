"""torch.linalg: norms, solvers and decompositions (the kernels live in ember.ops.linalg)."""
import math

import numpy as np

from .ops import reduction as _R
from .autograd.function import as_node
from .ops.linalg import (LinAlgError, matmul, inverse as inv, det, solve, solve_triangular, cholesky, eigh,
                         eigvalsh, svdvals, pinv, matrix_rank, matrix_power, linalg_cross as cross,
                         linalg_svd as svd, linalg_qr as qr, matrix_exp, householder_product, _cap, _check_tensor,
                         _finish, _slogdet, _named)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' must be Number, not str")
    return _finish(_R.vector_norm(x, ord, dim, keepdim, dtype=dtype), out)


def _ord_str(ord):
    """An order as PyTorch prints it in messages (3, 2.5, inf, fro)."""
    if isinstance(ord, float) and ord.is_integer():
        return str(int(ord))
    return str(ord)


def _dims_tuple(dim):
    return None if dim is None else ((int(dim),) if isinstance(dim, (int, np.integer)) else tuple(dim))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    _check_tensor(A, "matrix_norm", "A")
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dims = _dims_tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    d0, d1 = (d % A._data.ndim for d in dims)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, {dims[1]})")
    if (isinstance(ord, str) and ord not in ("fro", "nuc")) or \
            (not isinstance(ord, str) and abs(ord) not in (1, 2, math.inf)):
        raise RuntimeError(f"linalg.matrix_norm: Order {_ord_str(ord)} not supported.")
    if dtype is not None:
        A = A.to(dtype)
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_cap(A._data.dtype)}")
    if ord == "fro":
        return _finish(_R.vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord == "nuc" or abs(ord) == 2:
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        r = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord > 0 else s.amin(-1))
        if keepdim:  # PyTorch moves the kept dims back with a permute
            r = as_node(r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1)), "PermuteBackward0")
        return _finish(r, out)
    if abs(ord) == math.inf:
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    col = _R.vector_norm(A, 1, d0, keepdim)
    return _finish(col.amax(d1, keepdim) if ord > 0 else col.amin(d1, keepdim), out)


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    _check_tensor(A, "linalg_norm", "input")
    dims = _dims_tuple(dim)
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if dims is None and ord is not None and A._data.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A._data.ndim}D.")
    if isinstance(ord, str) or (ord is not None and (len(dims) == 2 if dims else A._data.ndim == 2)):
        return matrix_norm(A, ord, dims or (0, 1), keepdim, dtype=dtype, out=out)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype, out=out)


def slogdet(A, *, out=None):
    return _named("linalg_slogdet", ("sign", "logabsdet"))(_slogdet(A, "linalg.slogdet"))


def cond(A, p=None, *, out=None):
    """Condition number: ratio of extreme singular values (p None/2/-2), else norm(A) * norm(A^-1)."""
    if p is None or p in (2, -2):
        s = svdvals(A)
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return _finish(as_node(r, "SqueezeBackward1"), out)
    return _finish(as_node(matrix_norm(A, p) * matrix_norm(inv(A), p), "NanToNumBackward0"), out)


def vecdot(x, y, *, dim=-1, out=None):
    _check_tensor(x, "linalg_vecdot", "x")
    _check_tensor(y, "linalg_vecdot", "y", 2)
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_cap(x._data.dtype)} and y of type {_cap(y._data.dtype)} instead.")
    return _finish((x.conj() * y).sum(dim), out)


def multi_dot(tensors, *, out=None):
    """Left-to-right chain of matmuls; the first and last operands may be vectors."""
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(tensors):
        d = t.dim()
        if i == 0 and d not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {d}D")
        if i == n - 1 and d not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {d}D")
        if 0 < i < n - 1 and d != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {d}D")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_cap(tensors[0]._data.dtype)} and tensor {i} is {_cap(t._data.dtype)}")
    r = tensors[0]
    for t in tensors[1:]:
        r = matmul(r, t)
    return _finish(as_node(r, "ViewBackward0"), out)  # PyTorch's multi_dot ends with a view to the output shape


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def _not_implemented(name):
    def op(*args, **kwargs):
        raise NotImplementedError(f"ember does not implement torch.linalg.{name}")
    op.__name__ = name
    return op


for _name in ("eig", "eigvals", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "ldl_factor",
              "ldl_factor_ex", "ldl_solve", "tensorinv", "tensorsolve", "vander", "inv_ex", "cholesky_ex", "solve_ex"):
    globals()[_name] = _not_implemented(_name)
del _name

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "solve", "solve_triangular",
           "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv", "matrix_rank", "matrix_power", "cross",
           "matmul", "vecdot", "multi_dot", "diagonal", "cond", "matrix_exp", "householder_product"]
