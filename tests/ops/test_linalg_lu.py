"""LU and friends against torch: linalg.lu_factor(_ex)/lu/lu_solve, solve_ex/inv_ex/cholesky_ex, the deprecated
torch.lu/lu_solve/lu_unpack/cholesky/triangular_solve/frobenius_norm/nuclear_norm, lstsq, tensorinv, tensorsolve,
vander and eig: values, pivots and infos, dtypes, node names, gradients, double backward, errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import check, check_raises, assert_same

F = ("float64", "float32")
F32_TOL = dict(rtol=2e-4, atol=2e-5)


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def spd(n, batch=(), seed=0):
    a = rnd(*batch, n, n, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def well(n, batch=(), seed=0):
    return 2 * n ** 0.5 * np.eye(n) + rnd(*batch, n, n, seed=seed)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def case(name, fn, *inputs, **kw):
    return pytest.param(fn, inputs, kw, id=name)


def run(fn, inputs, kw):
    """check() in float64 at the default tolerance and in float32 at a factorization's tolerance."""
    kw = dict(kw)
    dtypes = kw.pop("dtypes", F)
    for dt in dtypes:
        tol = kw.pop("tol", None) if dt == "float64" else kw.get("tol32", F32_TOL)
        check(fn, list(inputs), dtypes=[dt], tol=tol, **{k: v for k, v in kw.items() if k not in ("tol", "tol32")})


SQ, SQB, TALL, WIDE = rnd(4, 4, seed=1), rnd(3, 4, 4, seed=2), rnd(2, 5, 3, seed=3), rnd(2, 3, 5, seed=4)
TIES = np.array([[1.0, 2, 3], [-1, 0, 1], [1, 1, 0]])      # equal |values| in the first column: the first wins
B42, B432 = rnd(4, 2, seed=5), rnd(3, 4, 2, seed=6)


def lu_solve(t, a, b, **kw):
    return t.linalg.lu_solve(*t.linalg.lu_factor(a), b, **kw)


FACTOR_CASES = [
    case("lu_factor", lambda t, a: t.linalg.lu_factor(a), SQ),
    case("lu_factor-batch", lambda t, a: t.linalg.lu_factor(a), SQB),
    case("lu_factor-tall", lambda t, a: t.linalg.lu_factor(a), TALL),
    case("lu_factor-wide", lambda t, a: t.linalg.lu_factor(a), WIDE),
    case("lu_factor-ties", lambda t, a: t.linalg.lu_factor(a), TIES),
    case("lu_factor-noncontig", lambda t, a: t.linalg.lu_factor(a.mT), SQB),
    case("lu_factor-empty", lambda t, a: t.linalg.lu_factor(a), np.zeros((2, 0, 0)), grad=False),
    case("lu_factor_ex", lambda t, a: t.linalg.lu_factor_ex(a), SQB),
    case("lu_factor_ex-tall", lambda t, a: t.linalg.lu_factor_ex(a), TALL),
    case("lu", lambda t, a: t.linalg.lu(a), SQB),
    case("lu-tall", lambda t, a: t.linalg.lu(a), TALL),
    case("lu-wide", lambda t, a: t.linalg.lu(a), WIDE),
    case("lu-L-only", lambda t, a: t.linalg.lu(a).L, SQ),
    case("lu-U-only", lambda t, a: t.linalg.lu(a).U, SQ),
    case("lu-tall-L-only", lambda t, a: t.linalg.lu(a).L, TALL),
    case("lu-tall-U-only", lambda t, a: t.linalg.lu(a).U, TALL),
    case("lu-wide-L-only", lambda t, a: t.linalg.lu(a).L, WIDE),
    case("lu-wide-U-only", lambda t, a: t.linalg.lu(a).U, WIDE),
    case("lu_solve", lambda t, a, b: lu_solve(t, a, b), well(4, seed=7), B42),
    case("lu_solve-adjoint", lambda t, a, b: lu_solve(t, a, b, adjoint=True), well(4, seed=7), B42),
    case("lu_solve-right", lambda t, a, b: lu_solve(t, a, b, left=False), well(4, seed=7), B42.T),
    case("lu_solve-right-adjoint", lambda t, a, b: lu_solve(t, a, b, left=False, adjoint=True), well(4, seed=7),
         B42.T),
    case("lu_solve-batch", lambda t, a, b: lu_solve(t, a, b), well(4, (3,), seed=8), B432),
    case("lu_solve-bcast-B", lambda t, a, b: lu_solve(t, a, b), well(4, (3,), seed=8), B42),
    case("lu_solve-bcast-LU", lambda t, a, b: lu_solve(t, a, b, adjoint=True), well(4, seed=8), B432),
    case("lu_solve-bcast-both", lambda t, a, b: lu_solve(t, a, b, left=False),
         well(4, (2, 1), seed=9), rnd(3, 2, 4, seed=9)),
    # empty systems: 0 x 0 matrices, or an empty batch
    case("lu_solve-0x0", lambda t, a, b: lu_solve(t, a, b, adjoint=True), np.zeros((0, 0)), np.zeros((0, 4))),
    case("lu_solve-0x0-right", lambda t, a, b: lu_solve(t, a, b, left=False), np.zeros((0, 0)), np.zeros((4, 0))),
    case("lu_solve-empty-batch", lambda t, a, b: lu_solve(t, a, b), np.zeros((0, 3, 3)), np.zeros((0, 3, 2))),
    case("torch.lu_solve-0x0", lambda t, a, b: t.lu_solve(b, *t.linalg.lu_factor(a)), np.zeros((0, 0)),
         np.zeros((0, 4))),
    case("solve_ex", lambda t, a, b: t.linalg.solve_ex(a, b), well(4, (3,), seed=10), B432),
    case("solve_ex-vec", lambda t, a, b: t.linalg.solve_ex(a, b), well(4, (3,), seed=10), rnd(3, 4, seed=10)),
    case("solve_ex-right", lambda t, a, b: t.linalg.solve_ex(a, b, left=False), well(4, seed=10), B42.T),
    case("inv_ex", lambda t, a: t.linalg.inv_ex(a), well(4, (3,), seed=11)),
    case("cholesky_ex", lambda t, a: t.linalg.cholesky_ex(a), spd(4, (2,), seed=12)),
    case("cholesky_ex-upper", lambda t, a: t.linalg.cholesky_ex(a, upper=True), spd(4, (2,), seed=12)),
    case("torch.lu", lambda t, a: t.lu(a), SQB),
    case("torch.lu-infos", lambda t, a: t.lu(a, get_infos=True), SQB),
    case("Tensor.lu", lambda t, a: a.lu(), TALL),
    case("torch.lu_solve", lambda t, a, b: t.lu_solve(b, *t.linalg.lu_factor(a)), well(4, (3,), seed=13), B432),
    case("Tensor.lu_solve", lambda t, a, b: b.lu_solve(*t.lu(a)), well(4, seed=13), B432),
    case("lu_unpack", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a)), SQB),
    case("lu_unpack-tall", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a)), TALL),
    case("lu_unpack-wide", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a)), WIDE),
    case("lu_unpack-L-only", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a)).L, TALL),
    case("lu_unpack-U-only", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a)).U, WIDE),
    case("lu_unpack-no-data", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a), unpack_data=False), SQ, grad=False),
    case("lu_unpack-no-pivots", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a), unpack_pivots=False), SQ),
    case("torch.cholesky", lambda t, a: t.cholesky(a), spd(4, (2,), seed=14)),
    case("Tensor.cholesky-upper", lambda t, a: a.cholesky(upper=True), spd(4, seed=14)),
    case("triangular_solve", lambda t, b, a: t.triangular_solve(b, a), B432, well(4, (3,), seed=15)),
    case("triangular_solve-lower-T", lambda t, b, a: t.triangular_solve(b, a, upper=False, transpose=True),
         B432, well(4, (3,), seed=15)),
    case("triangular_solve-unit", lambda t, b, a: t.triangular_solve(b, a, unitriangular=True), B42, well(4, seed=15)),
    case("triangular_solve-lower-unit-T", lambda t, b, a: t.triangular_solve(b, a, False, True, True),
         B42, well(4, seed=15)),
    case("triangular_solve-bcast", lambda t, b, a: t.triangular_solve(b, a), B42, well(4, (3,), seed=15)),
    case("triangular_solve-solution-only", lambda t, b, a: t.triangular_solve(b, a).solution, B432, well(4, seed=15)),
    case("Tensor.triangular_solve", lambda t, b, a: b.triangular_solve(a, upper=False), B42, well(4, seed=15)),
    case("frobenius_norm", lambda t, a: t.frobenius_norm(a, (0, 2)), TALL),
    case("frobenius_norm-keepdim", lambda t, a: t.frobenius_norm(a, (-1, -2), keepdim=True), TALL),
    case("frobenius_norm-1dim", lambda t, a: t.frobenius_norm(a, 1), TALL),
    case("nuclear_norm", lambda t, a: t.nuclear_norm(a), rnd(5, 3, seed=16)),
    case("nuclear_norm-keepdim", lambda t, a: t.nuclear_norm(a, True), rnd(3, 5, seed=16)),
    case("nuclear_norm-dims", lambda t, a: t.nuclear_norm(a, (0, 2)), TALL),
    case("nuclear_norm-dims-keepdim", lambda t, a: t.nuclear_norm(a, (2, 1), keepdim=True), TALL),
]


@pytest.mark.parametrize("fn,inputs,kw", FACTOR_CASES)
def test_factor_parity(fn, inputs, kw):
    run(fn, inputs, kw)


LSTSQ_TOL = dict(tol=dict(rtol=1e-9, atol=1e-10), tol32=dict(rtol=2e-3, atol=2e-4))
LOW_RANK = np.outer(rnd(6, seed=17), rnd(3, seed=18))
OTHER_CASES = [
    case("lstsq-tall", lambda t, a, b: t.linalg.lstsq(a, b), TALL, rnd(2, 5, 2, seed=19), **LSTSQ_TOL),
    case("lstsq-wide", lambda t, a, b: t.linalg.lstsq(a, b), WIDE, rnd(2, 3, 2, seed=19), **LSTSQ_TOL),
    case("lstsq-square", lambda t, a, b: t.linalg.lstsq(a, b), well(4, seed=20), B42, **LSTSQ_TOL),
    case("lstsq-vec", lambda t, a, b: t.linalg.lstsq(a, b), TALL, rnd(2, 5, seed=19), **LSTSQ_TOL),
    case("lstsq-bcast", lambda t, a, b: t.linalg.lstsq(a, b), TALL[:1], rnd(3, 5, 2, seed=19), **LSTSQ_TOL),
    case("lstsq-gels", lambda t, a, b: t.linalg.lstsq(a, b, driver="gels"), TALL, rnd(2, 5, 2, seed=19),
         **LSTSQ_TOL),
    case("lstsq-gels-wide", lambda t, a, b: t.linalg.lstsq(a, b, driver="gels"), WIDE, rnd(2, 3, 2, seed=19),
         **LSTSQ_TOL),
    case("lstsq-gelsd", lambda t, a, b: t.linalg.lstsq(a, b, driver="gelsd"), TALL, rnd(2, 5, 2, seed=19),
         **LSTSQ_TOL),
    case("lstsq-gelss-vec", lambda t, a, b: t.linalg.lstsq(a, b, driver="gelss"), TALL, rnd(2, 5, seed=19),
         **LSTSQ_TOL),
    case("lstsq-gelsd-rcond", lambda t, a, b: t.linalg.lstsq(a, b, rcond=0.4, driver="gelsd"), TALL,
         rnd(2, 5, 2, seed=19), **LSTSQ_TOL),
    case("lstsq-low-rank", lambda t, a, b: t.linalg.lstsq(a, b), LOW_RANK, rnd(6, 2, seed=21), grad=False,
         **LSTSQ_TOL),
    case("lstsq-low-rank-gelsd", lambda t, a, b: t.linalg.lstsq(a, b, driver="gelsd"), LOW_RANK, rnd(6, 2, seed=21),
         grad=False, **LSTSQ_TOL),
    case("tensorinv", lambda t, a: t.linalg.tensorinv(a), well(6, seed=22).reshape(2, 3, 6)),
    case("tensorinv-ind1", lambda t, a: t.linalg.tensorinv(a, ind=1), well(4, seed=23).reshape(4, 2, 2)),
    case("tensorsolve", lambda t, a, b: t.linalg.tensorsolve(a, b), well(6, seed=24).reshape(2, 3, 6),
         rnd(2, 3, seed=25)),
    case("tensorsolve-dims", lambda t, a, b: t.linalg.tensorsolve(a, b, dims=(0,)), well(6, seed=24).reshape(6, 2, 3),
         rnd(2, 3, seed=25)),
    case("vander", lambda t, x: t.linalg.vander(x), rnd(2, 4, seed=26)),
    case("vander-N", lambda t, x: t.linalg.vander(x, N=6), np.array([0.5, 0.0, -2.0])),
    case("vander-scalar", lambda t, x: t.linalg.vander(x, N=3), np.array(1.5)),
    case("vander-int", lambda t, x: t.linalg.vander(x), np.array([1, 2, -3], dtype=np.int32), grad=False,
         dtypes=[None]),
    case("eigvals", lambda t, a: t.linalg.eigvals(a), rnd(2, 4, 4, seed=27)),
    case("eig-abs-vectors", lambda t, a: (lambda r: (r.eigenvalues, r.eigenvectors.abs()))(t.linalg.eig(a)),
         rnd(2, 4, 4, seed=27)),
    case("eig-symmetric", lambda t, a: (lambda r: (r.eigenvalues, r.eigenvectors.abs()))(t.linalg.eig(a)),
         spd(3, seed=28)),
]


@pytest.mark.parametrize("fn,inputs,kw", OTHER_CASES)
def test_other_parity(fn, inputs, kw):
    run(fn, inputs, kw)


SING = np.array([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])
NOT_PD = np.array([[1.0, 2, 0], [2, 1, 0], [0, 0, 1]])


@pytest.mark.parametrize("name,fn,a", [
    ("lu_factor_ex", lambda t, a: t.linalg.lu_factor_ex(a), np.stack([np.eye(3), SING, np.zeros((3, 3))])),
    ("lu_factor_ex-tall", lambda t, a: t.linalg.lu_factor_ex(a), np.stack([SING, SING])[..., :2].repeat(2, -2)),
    ("torch.lu-infos", lambda t, a: t.lu(a, get_infos=True), np.stack([SING, np.eye(3)])),
    ("lu", lambda t, a: t.linalg.lu(a), SING),
    ("cholesky_ex", lambda t, a: t.linalg.cholesky_ex(a), np.stack([np.eye(3), NOT_PD, -np.eye(3)])),
    ("cholesky_ex-upper", lambda t, a: t.linalg.cholesky_ex(a, upper=True), np.stack([NOT_PD, np.eye(3)])),
])
def test_singular_values_and_infos(name, fn, a):
    """getrf/potrf leave deterministic factors and infos on singular input: compared in full."""
    check(fn, [a], grad=False, dtypes=["float64", "float32"])


@pytest.mark.parametrize("name,fn", [
    ("solve_ex", lambda t, a: t.linalg.solve_ex(a, t.ones(2, 3, 2, dtype=a.dtype))),
    ("inv_ex", lambda t, a: t.linalg.inv_ex(a)),
])
def test_singular_infos(name, fn):
    """LAPACK's values for a singular matrix are inf/nan by-products: only infos and the regular element compare."""
    a = np.stack([well(3, seed=29), SING])
    e, t = fn(ember, ember.from_numpy(a.copy())), fn(torch, torch.from_numpy(a.copy()))
    assert_same(e.info, t.info)
    assert_same(e[0][0], t[0][0])


def check_raises_linalg(fn, match):
    """torch raises (message matching) and ember raises the same class (its LinAlgError for torch's) and message."""
    with pytest.raises(Exception, match=match) as err:
        fn(torch)
    if isinstance(err.value, torch.linalg.LinAlgError):
        with pytest.raises(ember.linalg.LinAlgError, match=match):
            fn(ember)
    else:
        check_raises(fn, match=match)


def z(t, *shape, dtype="float32"):
    return t.zeros(*shape, dtype=getattr(t, dtype))


def piv(t, *values):
    return t.tensor(values, dtype=t.int32)


ERRORS = [
    ("lu_factor-singular", lambda t: t.linalg.lu_factor(t.from_numpy(SING.copy())),
     r"torch.linalg.lu_factor: U\[3,3\] is zero and using it on lu_solve would result in a division by zero. If you "
     r"still want to perform the factorization, consider calling linalg.lu\(A, pivot\) or "
     r"linalg.lu_factor_ex\(A, pivot\)"),
    ("lu_factor-singular-batch", lambda t: t.linalg.lu_factor(t.stack([t.eye(3, dtype=t.float64),
                                                                        t.from_numpy(SING.copy())])),
     r"torch.linalg.lu_factor: \(Batch element 1\): U\[3,3\] is zero"),
    ("lu_factor_ex-check", lambda t: t.linalg.lu_factor_ex(t.from_numpy(SING.copy()), check_errors=True),
     r"torch.linalg.lu_factor_ex: U\[3,3\] is zero"),
    ("lu_factor-no-pivot", lambda t: t.linalg.lu_factor(t.eye(3), pivot=False),
     "linalg.lu_factor: LU without pivoting is not implemented on the CPU"),
    ("lu-no-pivot", lambda t: t.linalg.lu(t.eye(3), pivot=False),
     "linalg.lu_factor: LU without pivoting is not implemented on the CPU"),
    ("lu_factor-1d", lambda t: t.linalg.lu_factor(z(t, 3)),
     r"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: \[3\] instead"),
    ("lu-1d", lambda t: t.linalg.lu(z(t, 3)), r"linalg.lu: Expected tensor with 2 or more dimensions"),
    ("lu_factor-int", lambda t: t.linalg.lu_factor(z(t, 3, 3, dtype="int64")), "\"lu_cpu\" not implemented for 'Long'"),
    ("lu_solve-shapes", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, 1, 2, 3), z(t, 2, 2)),
     r"linalg.lu_solve: Incompatible shapes of A and B for the equation AX = B \(3x3 and 2x2\)"),
    ("lu_solve-shapes-right", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, 1, 2, 3), z(t, 2, 2), left=False),
     r"XA = B \(3x3 and 2x2\)"),
    ("lu_solve-B-1d", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, 1, 2, 3), z(t, 3)),
     "linalg.lu_solve: The input tensor B must have at least 2 dimensions."),
    ("lu_solve-pivots-dtype", lambda t: t.linalg.lu_solve(t.eye(3), t.ones(3, dtype=t.int64), z(t, 3, 2)),
     "linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32"),
    ("lu_solve-square", lambda t: t.linalg.lu_solve(z(t, 2, 3), piv(t, 1, 2), z(t, 2, 2)),
     "torch.linalg.lu_solve: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("lu_solve-npivots", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, 1, 2), z(t, 3, 2)),
     "linalg.lu_solve: Number of pivots per batch should be same as the dimension of the matrix"),
    ("lu_solve-pivot-batch", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, [1, 2, 3]), z(t, 3, 2)),
     r"linalg.lu_solve: Expected LU.shape\[:-1\] and pivots.shape to be the same, but got pivots with shape "
     r"\[1, 3\] instead"),
    ("lu_solve-dtype", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, 1, 2, 3), z(t, 3, 2, dtype="float64")),
     "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type Float and B of type Double"),
    ("lu_solve-int", lambda t: t.linalg.lu_solve(t.eye(3, dtype=t.int64), piv(t, 1, 2, 3), z(t, 3, 2, dtype="int64")),
     "torch.linalg.lu_solve: Expected a floating point or complex tensor as input. Got Long"),
    ("lu_solve-batch", lambda t: t.linalg.lu_solve(t.eye(3).expand(2, 3, 3), piv(t, [1, 2, 3], [1, 2, 3]),
                                                   z(t, 4, 3, 2)),
     r"The size of tensor a \(4\) must match the size of tensor b \(2\) at non-singleton dimension 0"),
    ("lu_solve-pivot-high", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, 4, 2, 3), z(t, 3, 2)),
     r"Pivots given to lu_solve must all be smaller or equal to LU.size\(-2\)"),
    ("lu_solve-pivot-low", lambda t: t.linalg.lu_solve(t.eye(3), piv(t, 0, 2, 3), z(t, 3, 2)),
     "Pivots given to lu_solve must all be greater or equal to 1"),
    ("lu_unpack-dtype", lambda t: t.lu_unpack(t.eye(3), t.ones(3)),
     "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype"),
    ("lu_unpack-range", lambda t: t.lu_unpack(t.eye(3), piv(t, 4, 1, 1)),
     "pivots passed to lu_unpack must be between 1 and LU.size"),
    ("solve_ex-check", lambda t: t.linalg.solve_ex(t.from_numpy(SING.copy()), t.ones(3, dtype=t.float64),
                                                   check_errors=True),
     "torch.linalg.solve_ex: The solver failed because the input matrix is singular."),
    ("solve_ex-shapes", lambda t: t.linalg.solve_ex(t.eye(2), z(t, 3)),
     r"linalg.solve: Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"),
    ("inv_ex-check", lambda t: t.linalg.inv_ex(t.stack([t.eye(3, dtype=t.float64), t.from_numpy(SING.copy())]),
                                               check_errors=True),
     r"linalg.inv_ex: \(Batch element 1\): The diagonal element 3 is zero, the inversion could not be completed"),
    ("inv_ex-square", lambda t: t.linalg.inv_ex(z(t, 2, 3)), "linalg.inv: A must be batches of square matrices"),
    ("cholesky_ex-check", lambda t: t.linalg.cholesky_ex(t.from_numpy(NOT_PD.copy()), check_errors=True),
     r"linalg.cholesky_ex: The factorization could not be completed because the input is not positive-definite "
     r"\(the leading minor of order 2 is not positive-definite\)."),
    ("cholesky_ex-square", lambda t: t.linalg.cholesky_ex(z(t, 2, 3)),
     "linalg.cholesky: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("torch.cholesky-not-pd", lambda t: t.cholesky(t.from_numpy(NOT_PD.copy())),
     r"cholesky: The factorization could not be completed because the input is not positive-definite"),
    ("torch.cholesky-square", lambda t: t.cholesky(z(t, 2, 3)), "cholesky: A must be batches of square matrices"),
    ("triangular_solve-b-1d", lambda t: t.triangular_solve(z(t, 3), t.eye(3)),
     "torch.triangular_solve: Expected b to have at least 2 dimensions, but it has 1 dimensions instead"),
    ("triangular_solve-sizes", lambda t: t.triangular_solve(z(t, 2, 2), t.eye(3)),
     "Incompatible matrix sizes for triangular_solve: each A matrix is 3 by 3 but each b matrix is 2 by 2"),
    ("triangular_solve-square", lambda t: t.triangular_solve(z(t, 3, 2), z(t, 2, 3)),
     "A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("triangular_solve-dtype", lambda t: t.triangular_solve(z(t, 3, 2, dtype="float64"), t.eye(3)),
     "Expected b and A to have the same dtype, but found b of type Double and A of type Float instead."),
    ("frobenius_norm-3dims", lambda t: t.frobenius_norm(z(t, 2, 2, 2), (0, 1, 2)),
     "Expected at most 2 dimensions, but got 3 dimensions instead."),
    ("frobenius_norm-repeated", lambda t: t.frobenius_norm(z(t, 2, 2, 2), (1, 1)),
     "dim 1 appears multiple times in the list of dims"),
    ("nuclear_norm-1dim", lambda t: t.nuclear_norm(z(t, 2, 2, 2), (0,)), "linalg.matrix_norm: dim must be a 2-tuple"),
    ("lstsq-rows", lambda t: t.linalg.lstsq(z(t, 5, 3), z(t, 4, 2)),
     r"torch.linalg.lstsq: input.size\(-2\) should match other.size\(-2\)"),
    ("lstsq-driver", lambda t: t.linalg.lstsq(z(t, 5, 3), z(t, 5, 2), driver="foo"),
     r"torch.linalg.lstsq: parameter `driver` should be one of \(gels, gelsy, gelsd, gelss\)"),
    ("lstsq-1d", lambda t: t.linalg.lstsq(z(t, 3), z(t, 3)), "torch.linalg.lstsq: input must have at least 2 dim"),
    ("lstsq-0d-other", lambda t: t.linalg.lstsq(z(t, 3, 3), t.tensor(0.0)), "other must have at least 1 dimension."),
    ("lstsq-dtype", lambda t: t.linalg.lstsq(z(t, 5, 3), z(t, 5, 2, dtype="float64")),
     "Expected input and other to have the same dtype, but got input's dtype Float and other's dtype Double"),
    ("lstsq-ndims", lambda t: t.linalg.lstsq(z(t, 2, 5, 3), z(t, 2, 2, 5, 2)),
     r"input.dim\(\) must be greater or equal to other.dim\(\)"),
    ("lstsq-vector-batch", lambda t: t.linalg.lstsq(z(t, 2, 5, 3), z(t, 5, 2)),
     r"The size of tensor a \(2\) must match the size of tensor b \(5\) at non-singleton dimension 0"),
    ("tensorinv-ind", lambda t: t.linalg.tensorinv(z(t, 2, 2), ind=0),
     "Expected a strictly positive integer for 'ind', but got 0"),
    ("tensorinv-shape", lambda t: t.linalg.tensorinv(z(t, 2, 3, 4), ind=1),
     r"Expected self to satisfy the requirement prod\(self.shape\[ind:\]\) == prod\(self.shape\[:ind\]\), but got "
     "12 != 2"),
    ("tensorsolve-shape", lambda t: t.linalg.tensorsolve(z(t, 2, 3, 4), z(t, 2, 3)),
     r"Expected self to satisfy the requirement prod\(self.shape\[other.ndim:\]\) == "
     r"prod\(self.shape\[:other.ndim\]\), but got 4 != 6"),
    ("vander-N", lambda t: t.linalg.vander(z(t, 3), N=1), "N must be greater than 1."),
    ("vander-bool", lambda t: t.linalg.vander(t.ones(3, dtype=t.bool)),
     "linalg.vander supports floating point, complex, and integer tensors, but got Bool"),
    ("eig-square", lambda t: t.linalg.eig(z(t, 2, 3)), "linalg.eig: A must be batches of square matrices"),
    ("eigvals-1d", lambda t: t.linalg.eigvals(z(t, 3)), "linalg.eigvals: The input tensor A must have at least 2"),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors(fn, match):
    check_raises_linalg(fn, match)


def check_double_backward(fn, inputs, tol=dict(rtol=1e-7, atol=1e-9), seed=1):
    """Second-order gradients in float64 of <grad(fn; u), v>, ember against torch."""
    rng = np.random.default_rng(seed)
    res, u, v = [], None, None
    for lib in (torch, ember):
        xs = [lib.from_numpy(np.array(a, dtype=np.float64)).requires_grad_(True) for a in inputs]
        out = fn(lib, *xs)
        if u is None:
            u = rng.standard_normal(tuple(out.shape))
            v = [rng.standard_normal(a.shape) for a in inputs]
        gs = lib.autograd.grad(out, xs, lib.from_numpy(u.copy()), create_graph=True)
        s = sum((g * lib.from_numpy(w.copy())).sum() for g, w in zip(gs, v))
        ggs = lib.autograd.grad(s, xs, allow_unused=True)
        ggs = [np.zeros(x.shape) if g is None else g.detach().numpy() for g, x in zip(ggs, xs)]
        res.append([g.detach().numpy() for g in gs] + ggs)
    for k, (e, t) in enumerate(zip(res[1], res[0])):
        np.testing.assert_allclose(e, t, err_msg=f"gradient {k}", **tol)


@pytest.mark.parametrize("name,fn,inputs", [
    ("lu_factor", lambda t, a: t.linalg.lu_factor(a).LU, [rnd(4, 4, seed=30)]),
    ("lu_factor-tall", lambda t, a: t.linalg.lu_factor(a).LU, [rnd(5, 3, seed=30)]),
    ("lu-L", lambda t, a: t.linalg.lu(a).L, [rnd(3, 5, seed=31)]),
    ("lu_solve", lambda t, a, b: lu_solve(t, a, b), [well(3, seed=32), rnd(3, 2, seed=33)]),
    ("lu_solve-adjoint", lambda t, a, b: lu_solve(t, a, b, adjoint=True), [well(3, seed=32), rnd(3, 2, seed=33)]),
    ("lu_solve-right", lambda t, a, b: lu_solve(t, a, b, left=False), [well(3, seed=32), rnd(2, 3, seed=33)]),
    ("lu_solve-right-adjoint", lambda t, a, b: lu_solve(t, a, b, left=False, adjoint=True),
     [well(3, seed=32), rnd(2, 3, seed=33)]),
    ("lu_factor-wide", lambda t, a: t.linalg.lu_factor(a).LU, [rnd(3, 5, seed=30)]),
    ("lu-U-tall", lambda t, a: t.linalg.lu(a).U, [rnd(5, 3, seed=31)]),
    ("lu_unpack", lambda t, a: t.lu_unpack(*t.linalg.lu_factor(a)).L, [rnd(4, 3, seed=31)]),
    ("triangular_solve", lambda t, b, a: t.triangular_solve(b, a).solution, [rnd(3, 2, seed=34), well(3, seed=35)]),
    ("solve_ex", lambda t, a, b: t.linalg.solve_ex(a, b).result, [well(3, seed=36), rnd(3, 2, seed=37)]),
    ("vander", lambda t, x: t.linalg.vander(x), [rnd(4, seed=38)]),
])
def test_double_backward(name, fn, inputs):
    check_double_backward(fn, inputs)


@pytest.mark.parametrize("name,fn,inputs", [
    ("lu_factor", lambda a: ember.linalg.lu_factor(a).LU, [rnd(3, 4, seed=40)]),
    ("lu", lambda a: ember.linalg.lu(a)[1:], [rnd(4, 3, seed=41)]),
    ("lu_solve", lambda a, b: ember.linalg.lu_solve(*ember.linalg.lu_factor(a), b, adjoint=True),
     [well(3, seed=42), rnd(3, 2, seed=43)]),
    ("lu_unpack", lambda a: ember.lu_unpack(a, ember.tensor([2, 3, 3], dtype=ember.int32))[1:], [rnd(3, 3, seed=44)]),
    ("triangular_solve", lambda b, a: ember.triangular_solve(b, a, upper=False), [rnd(3, 2, seed=45), well(3)]),
    ("cholesky_ex", lambda a: ember.linalg.cholesky_ex(a @ a.mT + 3 * ember.eye(3, dtype=a.dtype)).L,
     [rnd(3, 3, seed=46)]),
    ("lstsq", lambda a, b: ember.linalg.lstsq(a, b, driver="gelsd")[:2], [rnd(5, 3, seed=47), rnd(5, 2, seed=48)]),
    ("eigvals", lambda a: (lambda w: (w.real, w.imag))(ember.linalg.eigvals(a)), [rnd(3, 3, seed=49)]),
    ("eig", lambda a: (lambda r: (r[0].real, r[0].imag, r[1].abs()))(ember.linalg.eig(a)), [rnd(3, 3, seed=49)]),
])
def test_gradcheck(name, fn, inputs):
    xs = [ember.from_numpy(a).requires_grad_(True) for a in inputs]
    assert ember.autograd.gradcheck(fn, xs)


def test_return_types_and_dtypes():
    a = ember.from_numpy(rnd(2, 3, 3, seed=50))
    cases = [(ember.linalg.lu_factor(a), "linalg_lu_factor", ("LU", "pivots")),
             (ember.linalg.lu_factor_ex(a), "linalg_lu_factor_ex", ("LU", "pivots", "info")),
             (ember.linalg.lu(a), "linalg_lu", ("P", "L", "U")),
             (ember.lu_unpack(*ember.linalg.lu_factor(a)), "lu_unpack", ("P", "L", "U")),
             (ember.linalg.solve_ex(a, a), "linalg_solve_ex", ("result", "info")),
             (ember.linalg.inv_ex(a), "linalg_inv_ex", ("inverse", "info")),
             (ember.linalg.cholesky_ex(a), "linalg_cholesky_ex", ("L", "info")),
             (ember.triangular_solve(a, a), "triangular_solve", ("solution", "cloned_coefficient")),
             (ember.linalg.lstsq(a, a), "linalg_lstsq", ("solution", "residuals", "rank", "singular_values")),
             (ember.linalg.eig(a), "linalg_eig", ("eigenvalues", "eigenvectors")),
             (ember.lu(a, get_infos=True), "_lu_with_info", ("LU", "pivots", "info"))]
    for r, name, fields in cases:
        assert type(r).__name__ == name and r._fields == fields
    assert type(ember.lu(a)) is tuple and len(ember.lu(a)) == 2
    assert ember.linalg.lu_factor(a).pivots.dtype == ember.int32
    assert ember.linalg.lstsq(a, a).rank.dtype == ember.int64


def test_eig_invariants():
    """Eigen-pairs reconstruct A and have unit norm, whatever phase LAPACK picks (complex eigenvalues included)."""
    for dt, tol in (("float64", 1e-12), ("float32", 1e-5)):
        a = rnd(3, 5, 5, seed=51).astype(dt)
        w, v = ember.linalg.eig(ember.from_numpy(a))
        tw = torch.linalg.eigvals(torch.from_numpy(a))
        assert w.dtype == (ember.complex128 if dt == "float64" else ember.complex64)
        ac = a.astype(w.numpy().dtype)
        np.testing.assert_allclose(ac @ v.numpy(), v.numpy() * w.numpy()[..., None, :], atol=tol * 10)
        np.testing.assert_allclose(np.linalg.norm(v.numpy(), axis=-2), 1, atol=tol)
        np.testing.assert_allclose(np.sort_complex(w.numpy()), np.sort_complex(tw.numpy()), atol=tol * 10)


def test_eig_phase_dependent_loss_raises():
    a = ember.from_numpy(rnd(3, 3, seed=52)).requires_grad_(True)
    v = ember.linalg.eig(a).eigenvectors
    with pytest.raises(RuntimeError, match="linalg_eig_backward: The eigenvectors in the complex case"):
        (v.imag.sum() + v.real.sum()).backward()


def test_deprecated_forms_warn_once():
    from ember.ops import linalg as L
    a = ember.from_numpy(spd(3, seed=53))
    LU, p = ember.linalg.lu_factor(a)
    calls = [("torch.lu is deprecated in favor of torch.linalg.lu_factor", lambda: ember.lu(a)),
             ("torch.lu_solve is deprecated in favor of torch.linalg.lu_solve", lambda: ember.lu_solve(a, LU, p)),
             ("torch.cholesky is deprecated in favor of torch.linalg.cholesky", lambda: ember.cholesky(a)),
             ("torch.triangular_solve is deprecated", lambda: ember.triangular_solve(a, a)),
             ("at::frobenius_norm is deprecated", lambda: ember.frobenius_norm(a, (0, 1))),
             ("at::nuclear_norm is deprecated", lambda: ember.nuclear_norm(a))]
    L._WARNED.clear()
    for match, call in calls:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            call()
            call()
        assert len(w) == 1 and match in str(w[0].message) and w[0].category is UserWarning



def sym_cases(n, kind, dt, seed, batch=4):
    """Batched symmetric (Hermitian for complex) matrices: random, small integers (ties), rank-deficient, zero
    diagonal."""
    g = np.random.default_rng(seed)
    cx = dt.startswith("complex")
    r = lambda *s: g.standard_normal(s) + (1j * g.standard_normal(s) if cx else 0)  # noqa: E731
    a = {"rand": lambda: r(batch, n, n), "int": lambda: g.integers(-3, 4, (batch, n, n)).astype(float),
         "zerodiag": lambda: r(batch, n, n) * (1 - np.eye(n)),
         "sing": lambda: (lambda u: u @ np.swapaxes(u, -1, -2))(r(batch, n, max(n - 2, 0)))}[kind]()
    return (a + np.swapaxes(a, -1, -2).conj() if kind != "sing" else a).astype(dt)


LDL_KINDS = ("rand", "int", "zerodiag", "sing")


@pytest.mark.parametrize("dt", F)
@pytest.mark.parametrize("kind", LDL_KINDS)
def test_ldl_factor_exact(dt, kind):
    """sytf2's pivots, LD and info equal torch's bit for bit for real inputs up to n = 40 (MKL's unblocked path)."""
    for n in list(range(0, 13)) + [20, 40]:
        a = sym_cases(n, kind, dt, seed=n)
        e = ember.linalg.ldl_factor_ex(ember.from_numpy(a.copy()))
        t = torch.linalg.ldl_factor_ex(torch.from_numpy(a.copy()))
        for x, y, what in zip(e, t, ("LD", "pivots", "info")):
            assert_same(x, y, dict(rtol=0, atol=0), what=f"{what} n={n}")


@pytest.mark.parametrize("dt", ("complex128", "complex64"))
@pytest.mark.parametrize("herm", (False, True))
def test_ldl_factor_complex(dt, herm):
    """zsytrf/zhetrf: pivots and infos exact, LD to rounding (MKL's complex arithmetic is ordered differently)."""
    tol = dict(rtol=1e-10, atol=1e-10) if dt == "complex128" else dict(rtol=1e-3, atol=1e-4)
    for n in range(1, 13):
        a = sym_cases(n, "rand", dt, seed=n)
        a = (a + np.swapaxes(a, -1, -2).conj()) if herm else (a + np.swapaxes(a, -1, -2))
        e = ember.linalg.ldl_factor_ex(ember.from_numpy(a.copy()), hermitian=herm)
        t = torch.linalg.ldl_factor_ex(torch.from_numpy(a.copy()), hermitian=herm)
        assert_same(e.pivots, t.pivots)
        assert_same(e.info, t.info)
        assert_same(e.LD, t.LD, tol)


LDL_SOLVE_CASES = [
    case("ldl_solve", lambda t, a, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(a), b), sym_cases(6, "rand", "float64", 1),
         rnd(4, 6, 3, seed=2)),
    case("ldl_solve-zerodiag", lambda t, a, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(a), b),
         sym_cases(9, "zerodiag", "float64", 3), rnd(4, 9, 2, seed=3)),
    case("ldl_solve-bcast-B", lambda t, a, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(a), b),
         sym_cases(5, "int", "float64", 4, batch=1)[0], rnd(3, 5, 2, seed=4)),
    case("ldl_solve-bcast-LD", lambda t, a, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(a), b),
         sym_cases(5, "rand", "float64", 5, batch=3), rnd(5, 2, seed=5)),
    case("ldl_solve-hermitian-real", lambda t, a, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(a, hermitian=True), b,
                                                                          hermitian=True),
         sym_cases(7, "rand", "float64", 6), rnd(4, 7, 1, seed=6)),
    case("ldl_factor-noncontig", lambda t, a: t.linalg.ldl_factor(a.mT), sym_cases(5, "rand", "float64", 7)),
    case("ldl_factor-empty", lambda t, a: t.linalg.ldl_factor_ex(a), np.zeros((2, 0, 0))),
    case("ldl_solve-0x0", lambda t, a, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(a), b), np.zeros((0, 0)),
         np.zeros((0, 5))),
    case("ldl_solve-empty-batch", lambda t, a, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(a), b),
         np.zeros((0, 3, 3)), np.zeros((0, 3, 2))),
]


@pytest.mark.parametrize("fn,inputs,kw", LDL_SOLVE_CASES)
def test_ldl_parity(fn, inputs, kw):
    """Values and dtypes in float64 and float32 (no derivative: see test_ldl_no_derivative)."""
    run(fn, inputs, {**kw, "grad": False})


@pytest.mark.parametrize("dt,herm", [("complex128", False), ("complex128", True), ("float32", False)])
def test_ldl_solve_values(dt, herm):
    tol = dict(rtol=1e-9, atol=1e-10) if dt != "float32" else dict(rtol=1e-3, atol=1e-4)
    for n in list(range(1, 13)) + [40]:
        a = sym_cases(n, "rand", dt, seed=n)
        a = (a + np.swapaxes(a, -1, -2).conj()) if herm else (a + np.swapaxes(a, -1, -2))
        b = sym_cases(n, "rand", dt, seed=n + 100)[..., :2]
        e = ember.linalg.ldl_solve(*ember.linalg.ldl_factor(ember.from_numpy(a.copy()), hermitian=herm),
                                   ember.from_numpy(b.copy()), hermitian=herm)
        t = torch.linalg.ldl_solve(*torch.linalg.ldl_factor(torch.from_numpy(a.copy()), hermitian=herm),
                                   torch.from_numpy(b.copy()), hermitian=herm)
        assert_same(e, t, tol, what=f"n={n}")


def test_ldl_no_derivative():
    """torch records a NotImplemented node and raises on backward: same here."""
    for lib in (ember, torch):
        a = lib.eye(3, dtype=lib.float64).requires_grad_(True)
        LD, p = lib.linalg.ldl_factor(a)
        assert type(LD.grad_fn).__name__ == "NotImplemented" and not p.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
            LD.sum().backward()
        x = lib.linalg.ldl_solve(LD.detach(), p, a)
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not implemented"):
            x.sum().backward()


def _e3(t):
    return t.eye(3, dtype=t.float64)


LDL_ERRORS = [
    ("ldl_factor-singular", lambda t: t.linalg.ldl_factor(t.zeros(2, 3, 3)), "torch.linalg.ldl_factor: Unknown error "
     "code: 1."),
    ("ldl_factor_ex-check", lambda t: t.linalg.ldl_factor_ex(t.stack([_e3(t), _e3(t) * 0]), check_errors=True),
     "torch.linalg.ldl_factor_ex: Unknown error code: 1."),
    ("ldl_factor-1d", lambda t: t.linalg.ldl_factor(z(t, 3)),
     "torch.linalg.ldl_factor_ex: The input tensor A must have at least 2 dimensions."),
    ("ldl_factor-square", lambda t: t.linalg.ldl_factor(z(t, 2, 3)),
     "torch.linalg.ldl_factor_ex: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("ldl_factor-int", lambda t: t.linalg.ldl_factor(z(t, 3, 3, dtype="int64")),
     "torch.linalg.ldl_factor_ex: Expected a floating point or complex tensor as input. Got Long"),
    ("ldl_factor-half", lambda t: t.linalg.ldl_factor(z(t, 3, 3, dtype="float16")),
     "\"ldl_factor_kernel_cpu\" not implemented for 'Half'"),
    ("ldl_solve-shapes", lambda t: t.linalg.ldl_solve(_e3(t), piv(t, 1, 2, 3), z(t, 2, 2, dtype="float64")),
     "Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is 3 by 3 but each b matrix is 2 by 2"),
    ("ldl_solve-B-1d", lambda t: t.linalg.ldl_solve(_e3(t), piv(t, 1, 2, 3), z(t, 3, dtype="float64")),
     r"Dimension out of range \(expected to be in range of \[-1, 0\], but got -2\)"),
    ("ldl_solve-dtype", lambda t: t.linalg.ldl_solve(_e3(t), piv(t, 1, 2, 3), z(t, 3, 2)),
     "Expected b and A to have the same dtype, but found b of type Float and A of type Double instead."),
    ("ldl_solve-square", lambda t: t.linalg.ldl_solve(z(t, 2, 3), piv(t, 1, 2), z(t, 2, 2)),
     "torch.linalg.ldl_solve: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("ldl_solve-npivots", lambda t: t.linalg.ldl_solve(_e3(t), piv(t, 1, 2), z(t, 3, 2, dtype="float64")),
     r"torch.linalg.ldl_solve: Expected LD.shape\[:-1\] and pivots.shape to be the same, but got pivots with shape "
     r"\[2\] instead"),
    ("ldl_solve-batch", lambda t: t.linalg.ldl_solve(_e3(t).expand(2, 3, 3), piv(t, [1, 2, 3], [1, 2, 3]),
                                                     z(t, 4, 3, 2, dtype="float64")),
     r"The size of tensor a \(4\) must match the size of tensor b \(2\) at non-singleton dimension 0"),
    ("ldl_solve-int", lambda t: t.linalg.ldl_solve(_e3(t).long(), piv(t, 1, 2, 3), z(t, 3, 2, dtype="int64")),
     "torch.linalg.ldl_solve: Expected a floating point or complex tensor as input. Got Long"),
    ("ldl_solve-LD-1d", lambda t: t.linalg.ldl_solve(z(t, 3), piv(t, 1, 2, 3), z(t, 3, 2)),
     "torch.linalg.ldl_solve: The input tensor A must have at least 2 dimensions."),
    ("ldl_solve-pivot-high", lambda t: t.linalg.ldl_solve(_e3(t), piv(t, 5, 2, 3), z(t, 3, 2, dtype="float64")),
     r"Pivots given to ldl_solve must all satisfy \|pivot\| <= LD.size\(-2\)"),
    ("ldl_solve-pivot-zero", lambda t: t.linalg.ldl_solve(_e3(t), piv(t, 0, 2, 3), z(t, 3, 2, dtype="float64")),
     r"Pivots given to ldl_solve must all satisfy \|pivot\| >= 1"),
    ("ldl_factor-not-tensor", lambda t: t.linalg.ldl_factor([[1.0]]),
     r"linalg_ldl_factor\(\): argument 'input' \(position 1\) must be Tensor, not list"),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in LDL_ERRORS], ids=[c[0] for c in LDL_ERRORS])
def test_ldl_errors(fn, match):
    check_raises_linalg(fn, match)


def test_ldl_return_types():
    a = ember.from_numpy(sym_cases(3, "rand", "float64", 0))
    f, fx = ember.linalg.ldl_factor(a), ember.linalg.ldl_factor_ex(a)
    assert type(f).__name__ == "linalg_ldl_factor" and f._fields == ("LD", "pivots")
    assert type(fx).__name__ == "linalg_ldl_factor_ex" and fx._fields == ("LD", "pivots", "info")
    assert f.pivots.dtype == ember.int32 and fx.info.dtype == ember.int32
