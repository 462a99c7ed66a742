"""torch.linalg: norms (differentiable) and a few decompositions (forward only)."""
import numpy as np

from ._tensor import Tensor
from .ops.reduction import vector_norm
from .ops.linalg import matmul, cross


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    if ord is None or (dim is not None and not isinstance(dim, int) and len(dim) == 1) or isinstance(dim, int):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    raise NotImplementedError(f"ember's linalg.matrix_norm supports ord='fro' only, got {ord!r}")


def _forward_only(fn, name):
    def op(A, *args, **kwargs):
        if A.requires_grad:
            raise NotImplementedError(f"ember does not differentiate linalg.{name}")
        r = fn(A._data, *args, **kwargs)
        return tuple(Tensor._make(np.asarray(x)) for x in r) if isinstance(r, tuple) else Tensor._make(np.asarray(r))
    op.__name__ = name
    return op


inv = _forward_only(np.linalg.inv, "inv")
det = _forward_only(np.linalg.det, "det")
pinv = _forward_only(np.linalg.pinv, "pinv")
matrix_rank = _forward_only(lambda a: np.linalg.matrix_rank(a).astype(np.int64), "matrix_rank")
eigh = _forward_only(lambda a, UPLO="L": tuple(np.linalg.eigh(a, UPLO)), "eigh")
eigvalsh = _forward_only(lambda a, UPLO="L": np.linalg.eigvalsh(a, UPLO), "eigvalsh")
svd = _forward_only(lambda a, full_matrices=True: tuple(np.linalg.svd(a, full_matrices)), "svd")
svdvals = _forward_only(lambda a: np.linalg.svd(a, compute_uv=False), "svdvals")
qr = _forward_only(lambda a, mode="reduced": tuple(np.linalg.qr(a, mode)), "qr")
cholesky = _forward_only(np.linalg.cholesky, "cholesky")
slogdet = _forward_only(lambda a: tuple(np.linalg.slogdet(a)), "slogdet")


def solve(A, B, *, left=True):
    if A.requires_grad or B.requires_grad:
        raise NotImplementedError("ember does not differentiate linalg.solve")
    b = B._data
    if b.ndim == A._data.ndim - 1:
        return Tensor._make(np.linalg.solve(A._data, b[..., None])[..., 0])
    return Tensor._make(np.linalg.solve(A._data, b))


