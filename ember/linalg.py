"""torch.linalg: norms, solvers and decompositions (the kernels live in ember.ops.linalg)."""
import math

import numpy as np

from .ops import reduction as _R
from .autograd.function import as_node
from .ops.linalg import (LinAlgError, matmul, inverse as inv, det, solve, solve_triangular, _cholesky as cholesky,
                         eigh, eigvalsh, svdvals, pinv, matrix_rank, matrix_power, linalg_cross as cross,
                         linalg_svd as svd, linalg_qr as qr, matrix_exp, householder_product, _cap, _check_tensor,
                         _finish, _slogdet, _named, _check_square, _check_lu_input, _lu_factor_ex, _lu_solve,
                         _solve_ex, _ldl_factor_ex, _ldl_solve, cholesky_ex as _cholesky_ex,
                         Inv, LinalgLu, Lstsq, _eig)


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
        r = s.sum(-1) if ord == "nuc" else _max_min(s, -1, ord, False)
        if keepdim:  # PyTorch moves the kept dims back with a permute
            r = as_node(r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1)), "PermuteBackward0")
        return _finish(r, out)
    if abs(ord) == math.inf:
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    return _finish(_max_min(_R.vector_norm(A, 1, d0, keepdim), d1, ord, keepdim), out)


def _max_min(x, dim, ord, keepdim):
    """amax (positive ord) or amin of x over dim. A positive-order norm of an empty matrix is 0: PyTorch returns
    new zeros there (outside the graph) rather than reducing an empty dim."""
    if ord > 0 and x.shape[dim] == 0:
        shape = list(x.shape)
        if keepdim:
            shape[dim] = 1
        else:
            del shape[dim]
        return x.new_zeros(shape)
    return x.amax(dim, keepdim) if ord > 0 else x.amin(dim, keepdim)


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


def _pair(name, fields, values, out):
    """A torch.return_types result, written into `out` (a tuple of tensors) when given."""
    if out is not None:
        values = tuple(_finish(v, o) for v, o in zip(values, out))
    return _named(name, fields)(*values)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    return _pair("linalg_lu_factor_ex", ("LU", "pivots", "info"),
                 _lu_factor_ex(A, pivot, check_errors, "torch.linalg.lu_factor_ex"), out)


def lu_factor(A, *, pivot=True, out=None):
    LU, piv, _ = _lu_factor_ex(A, pivot, True, "torch.linalg.lu_factor")
    return _pair("linalg_lu_factor", ("LU", "pivots"), (LU, piv), out)


def lu(A, *, pivot=True, out=None):
    _check_lu_input(A, "linalg.lu", pivot)
    return _pair("linalg_lu", ("P", "L", "U"), LinalgLu.apply(A), out)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    return _finish(_lu_solve(LU, pivots, B, left, adjoint), out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    return _pair("linalg_solve_ex", ("result", "info"),
                 _solve_ex(A, B, left, check_errors, "linalg.solve", "torch.linalg.solve_ex"), out)


def inv_ex(A, *, check_errors=False, out=None):
    _check_square(A, "linalg.inv")
    return _pair("linalg_inv_ex", ("inverse", "info"), Inv.apply(A, bool(check_errors), "linalg.inv_ex"), out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    return _pair("linalg_cholesky_ex", ("L", "info"), _cholesky_ex(A, upper, check_errors), out)


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _check_lstsq(A, B, driver):
    """torch.linalg.lstsq's argument checks, in torch's order."""
    _check_tensor(A, "linalg_lstsq", "self")
    _check_tensor(B, "linalg_lstsq", "b", 2)
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B._data.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_cap(A._data.dtype)} and other's dtype {_cap(B._data.dtype)}")
    if not 0 <= A._data.ndim - B._data.ndim <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError("This function doesn't handle types other than float and double")
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")


def lstsq(A, B, rcond=None, *, driver=None):
    """Least squares by SVD for every driver: the minimum-norm solution (gelsy/gels agree on full-rank inputs);
    rank, residuals and singular values filled as each driver fills them on the CPU."""
    driver = "gelsy" if driver is None else driver
    _check_lstsq(A, B, driver)
    vector = A._data.ndim - B._data.ndim == 1
    B2 = B.unsqueeze(-1) if vector else B
    from .ops.linalg import _broadcast_shape
    _broadcast_shape(A.shape[:-2], B2.shape[:-2])
    if A.shape[-2] != B2.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    X, res, rank, sv = Lstsq.apply(A, B2, rcond, driver)
    return _named("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))(
        as_node(X.squeeze(-1), "LinalgLstsqBackward0") if vector else X, res, rank, sv)


def eig(A, *, out=None):
    return _pair("linalg_eig", ("eigenvalues", "eigenvectors"), _eig(A, "linalg.eig"), out)


def eigvals(A, *, out=None):
    return _finish(_eig(A, "linalg.eigvals")[0], out)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A viewed as a (prod(shape[:ind]) x prod(shape[ind:])) matrix, shaped shape[ind:] + shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    r = inv(A.reshape(rows, cols)).reshape(shape[ind:] + shape[:ind])
    return _finish(as_node(r, "ReshapeAliasBackward0"), out)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B: a solve on A as a square matrix (dims first moved to the end)."""
    if dims is not None:
        dims = [d % A.dim() for d in dims]
        A = A.permute([d for d in range(A.dim()) if d not in dims] + dims)
    result_shape = tuple(A.shape[B.dim():])
    n, nb = math.prod(result_shape), math.prod(tuple(A.shape[:B.dim()]))
    if n != nb:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {n} != {nb}")
    r = solve(A.reshape(n, n), B.reshape(-1)).reshape(result_shape)
    return _finish(as_node(r, "ViewBackward0"), out)


def vander(x, N=None):
    """Rows (1, x, x^2, ..., x^(N-1)) of increasing powers (unlike torch.vander): ones, then a cumprod."""
    _check_tensor(x, "linalg_vander", "x")
    if x._data.dtype.kind not in "fciu" or x._data.dtype in (np.float16,):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_cap(x._data.dtype)}")
    x_ = x.unsqueeze(-1) if x.dim() == 0 else x
    n = x_.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .ops.shape import cat
    powers = x_.unsqueeze(-1).expand(*x_.shape, n - 1).cumprod(-1)
    return cat([powers.new_ones(tuple(x_.shape) + (1,)), powers], -1)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    return _pair("linalg_ldl_factor_ex", ("LD", "pivots", "info"),
                 _ldl_factor_ex(A, hermitian, check_errors, "torch.linalg.ldl_factor_ex"), out)


def ldl_factor(A, *, hermitian=False, out=None):
    LD, piv, _ = _ldl_factor_ex(A, hermitian, True, "torch.linalg.ldl_factor")
    return _pair("linalg_ldl_factor", ("LD", "pivots"), (LD, piv), out)


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    return _finish(_ldl_solve(LD, pivots, B, hermitian), out)

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "solve", "solve_triangular",
           "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv", "matrix_rank", "matrix_power", "cross",
           "matmul", "vecdot", "multi_dot", "diagonal", "cond", "matrix_exp", "householder_product", "lu_factor",
           "lu_factor_ex", "lu", "lu_solve", "solve_ex", "inv_ex", "cholesky_ex", "lstsq", "eig", "eigvals",
           "tensorinv", "tensorsolve", "vander", "ldl_factor", "ldl_factor_ex", "ldl_solve"]
