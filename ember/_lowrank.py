"""Randomized low-rank SVD and PCA (Halko, Martinsson and Tropp 2009, algorithms 4.4 and 5.1), as torch/_lowrank.py.

The random test matrix comes from ember's generator: results are reproducible under manual_seed but are not
PyTorch's. Inputs are dense (ember has no sparse layout)."""
from . import _dtype
from . import linalg as _linalg
from .ops.creation import randn
from .ops.linalg import matmul

__all__ = ["svd_lowrank", "pca_lowrank"]


def _floating_dtype(A):
    """A's dtype when it is floating point or complex, float32 otherwise (torch._linalg_utils.get_floating_dtype)."""
    return A.dtype if A.dtype.is_floating_point or A.dtype.is_complex else _dtype.float32


def get_approximate_basis(A, q, niter=2, M=None):
    """Q with q orthonormal columns whose span approximates the range of A (of A - M when M is given): a random
    start refined by niter rounds of subspace iteration."""
    niter = 2 if niter is None else niter
    R = randn(A.shape[-1], q, dtype=_floating_dtype(A))
    X = matmul(A, R)
    if M is not None:
        X = X - matmul(M, R)
    Q = _linalg.qr(X).Q
    for _ in range(niter):
        X = matmul(A.mH, Q)
        if M is not None:
            X = X - matmul(M.mH, Q)
        Q = _linalg.qr(X).Q
        X = matmul(A, Q)
        if M is not None:
            X = X - matmul(M, Q)
        Q = _linalg.qr(X).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A - M ~ U diag(S) V^H, of rank q: the SVD of A projected on an approximate basis of its range.
    Exact when A - M has rank at most q."""
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = matmul(Q.mH, A)
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = _linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """svd_lowrank of A with its column means removed (center=True): V's columns are the principal directions and
    S ** 2 / (m - 1) the variances along them. q defaults to min(6, m, n)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    return svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter=niter, M=None)
