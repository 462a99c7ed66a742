"""Linear algebra against torch: matmul family, fused add-multiply ops, tensordot/kron/cross, einsum, and
torch.linalg (norms, solvers, decompositions): values, dtypes, gradients, double backward, errors."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, check_raises, assert_same, raises, r

F = ("float64", "float32")
NAN = np.nan


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def ints(*shape, seed=0):
    return np.random.default_rng(seed).integers(-4, 5, shape)


def spd(n, batch=(), seed=0):
    """A well-conditioned symmetric positive-definite matrix (or batch of them)."""
    a = rnd(*batch, n, n, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def well(n, batch=(), seed=0):
    """A well-conditioned general square matrix: identity-dominated plus noise."""
    return 2 * n ** 0.5 * np.eye(n) + rnd(*batch, n, n, seed=seed)


def case(name, fn, *inputs, **kw):
    kw.setdefault("dtypes", F)
    return pytest.param(fn, inputs, kw, id=name)


def check_double_backward(fn, inputs, tol=dict(rtol=1e-8, atol=1e-10), seed=1):
    """Second-order gradients in float64: grad of <grad(fn; u), v> w.r.t. the inputs, ember against torch."""
    rng = np.random.default_rng(seed)
    arrs = [np.asarray(a, dtype=np.float64) for a in inputs]
    u = v = None
    res = []
    for lib in (torch, ember):
        xs = [lib.from_numpy(a.copy()).requires_grad_(True) for a in arrs]
        out = fn(lib, *xs)
        if u is None:
            u = rng.standard_normal(tuple(out.shape))
            v = [rng.standard_normal(a.shape) for a in arrs]
        gs = lib.autograd.grad(out, xs, lib.from_numpy(u.copy()), create_graph=True)
        s = sum((g * lib.from_numpy(w.copy())).sum() for g, w in zip(gs, v))
        ggs = lib.autograd.grad(s, xs, allow_unused=True) if s.requires_grad else [None] * len(xs)
        res.append(([g.detach().numpy() for g in gs],
                    [np.zeros(a.shape) if g is None else g.detach().numpy() for g, a in zip(ggs, arrs)]))
    (t_g, t_gg), (e_g, e_gg) = res
    for k, (e, t) in enumerate(zip(e_g + e_gg, t_g + t_gg)):
        np.testing.assert_allclose(e, t, err_msg=f"gradient {k}", **tol)


# ---- matmul in every rank combination --------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((4, 2, 3), (3, 5)),
    ((4, 2, 3), (3,)),
    ((3,), (4, 3, 2)),
    ((2, 3), (4, 3, 2)),
    ((4, 2, 3), (4, 3, 2)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 2, 3), (5, 3, 2)),
    ((2, 2, 1, 3), (3, 1)),
    ((0, 3), (3, 4)),
    ((2, 0), (0, 4)),
    ((2, 3), (3, 0)),
    ((0, 2, 3), (3, 4)),
    ((0,), (0,)),
    ((3, 0), (0,)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_ranks(sa, sb):
    a, b = rnd(*sa, seed=1), rnd(*sb, seed=2)
    check(lambda t, x, y: t.matmul(x, y), [a, b], dtypes=F)
    check(lambda t, x, y: x @ y, [a, b], dtypes=F)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                   ((4, 2, 3), (3, 5)), ((3,), (4, 3, 2)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_double_backward(sa, sb):
    check_double_backward(lambda t, x, y: t.matmul(x, y), [rnd(*sa, seed=3), rnd(*sb, seed=4)])


def test_matmul_gradcheck():
    a = ember.from_numpy(rnd(2, 3, seed=5)).requires_grad_(True)
    b = ember.from_numpy(rnd(4, 3, 2, seed=6)).requires_grad_(True)
    assert ember.autograd.gradcheck(ember.matmul, (a, b))


def test_matmul_gradgradcheck():
    a = ember.from_numpy(rnd(2, 3, seed=5)).requires_grad_(True)
    b = ember.from_numpy(rnd(4, 3, 2, seed=6)).requires_grad_(True)
    assert ember.autograd.gradgradcheck(ember.matmul, (a, b))


@pytest.mark.parametrize("sa,sb", [((2, 3), (3,)), ((3,), (3, 4)), ((4, 2, 3), (3, 5)), ((3,), (4, 3, 2)),
                                   ((2, 3), (4, 3, 2))])
def test_matmul_grad_one_side(sa, sb):
    a, b = rnd(*sa, seed=7), rnd(*sb, seed=8)
    check(lambda t, x, y: t.matmul(x, y), [a, b], dtypes=F, grad_inputs=[0])
    check(lambda t, x, y: t.matmul(x, y), [a, b], dtypes=F, grad_inputs=[1])


def test_matmul_noncontiguous():
    a, b = rnd(3, 2, seed=1), rnd(5, 4, 3, seed=2)
    check(lambda t, x, y: x.t() @ y.transpose(1, 2)[..., ::2], [a, b], dtypes=F)
    check(lambda t, x, y: t.matmul(y.permute(2, 0, 1), x.t()[:, :2]), [rnd(3, 3, seed=3), rnd(3, 3, 2, seed=4)],
          dtypes=F)
    check(lambda t, x, y: t.mm(x.t(), y.t()), [rnd(3, 2), rnd(4, 3)], dtypes=F)
    check(lambda t, x, y: t.bmm(x.transpose(1, 2), y[:, ::2]), [rnd(2, 3, 4), rnd(2, 6, 5)], dtypes=F)
    check(lambda t, x, y: t.mv(x.t(), y[::2]), [rnd(6, 3), rnd(12)], dtypes=F)


@pytest.mark.parametrize("dt", [np.int64, np.int32])
def test_matmul_integer(dt):
    a, b = ints(2, 3).astype(dt), ints(3, 4, seed=1).astype(dt)
    check(lambda t, x, y: x @ y, [a, b], grad=False)
    check(lambda t, x, y: t.matmul(x, y), [a[0], b[:, 0]], grad=False)
    check(lambda t, x, y: t.bmm(x, y), [ints(2, 2, 3).astype(dt), ints(2, 3, 2, seed=1).astype(dt)], grad=False)


def test_matmul_float16():
    a, b = rnd(2, 3).astype(np.float16), rnd(3, 4, seed=1).astype(np.float16)
    check(lambda t, x, y: x @ y, [a, b], grad=False)


@given(st.integers(0, 3), st.integers(0, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 3),
       st.booleans(), st.booleans())
@settings(max_examples=25, deadline=None)
def test_matmul_hypothesis(nbatch_a, nbatch_b, n, k, p, vec_a, vec_b):
    rng = np.random.default_rng(n * 100 + k * 10 + p)
    batch = list(rng.integers(1, 3, 3))
    sa = (k,) if vec_a else tuple(rng.choice([1, b]) for b in batch[3 - nbatch_a:]) + (n, k)
    sb = (k,) if vec_b else tuple(rng.choice([1, b]) for b in batch[3 - nbatch_b:]) + (k, p)
    check(lambda t, x, y: t.matmul(x, y), [rnd(*sa, seed=1), rnd(*sb, seed=2)], dtypes=["float64"])


# ---- the named products -------------------------------------------------------------------------------------------
A23, B34, V3, V4 = rnd(2, 3, seed=1), rnd(3, 4, seed=2), rnd(3, seed=3), rnd(4, seed=4)
BA, BB = rnd(5, 2, 3, seed=5), rnd(5, 3, 4, seed=6)

PRODUCT_CASES = [
    case("mm", lambda t, a, b: t.mm(a, b), A23, B34),
    case("mm-method", lambda t, a, b: a.mm(b), A23, B34),
    case("mm-empty-k", lambda t, a, b: t.mm(a, b), np.zeros((2, 0)), np.zeros((0, 4))),
    case("bmm", lambda t, a, b: t.bmm(a, b), BA, BB),
    case("bmm-empty-batch", lambda t, a, b: t.bmm(a, b), np.zeros((0, 2, 3)), np.zeros((0, 3, 4))),
    case("mv", lambda t, a, b: t.mv(a, b), A23, V3),
    case("mv-method", lambda t, a, b: a.mv(b), B34.T, V3),
    case("dot", lambda t, a, b: t.dot(a, b), V3, rnd(3, seed=9)),
    case("dot-method", lambda t, a, b: a.dot(b), V3, rnd(3, seed=9)),
    case("dot-empty", lambda t, a, b: t.dot(a, b), np.zeros(0), np.zeros(0)),
    case("vdot", lambda t, a, b: t.vdot(a, b), V3, rnd(3, seed=9)),
    case("outer", lambda t, a, b: t.outer(a, b), V3, V4),
    case("ger", lambda t, a, b: t.ger(a, b), V3, V4),
    case("outer-empty", lambda t, a, b: t.outer(a, b), np.zeros(0), V4),
    case("inner-vec", lambda t, a, b: t.inner(a, b), V3, rnd(3, seed=9)),
    case("inner-mat-vec", lambda t, a, b: t.inner(a, b), A23, V3),
    case("inner-mat-mat", lambda t, a, b: t.inner(a, b), A23, rnd(4, 3, seed=9)),
    case("inner-3d", lambda t, a, b: t.inner(a, b), BA, rnd(2, 4, 3, seed=9)),
    case("inner-scalar", lambda t, a, b: t.inner(a, b), np.array(1.5), A23),
    case("tensordot-int", lambda t, a, b: t.tensordot(a, b, dims=1), A23, B34),
    case("tensordot-2", lambda t, a, b: t.tensordot(a, b), rnd(2, 3, 4), rnd(3, 4, 5)),
    case("tensordot-0", lambda t, a, b: t.tensordot(a, b, dims=0), A23, V4),
    case("tensordot-lists", lambda t, a, b: t.tensordot(a, b, dims=([1, 0], [0, 2])), rnd(3, 4, 2), rnd(4, 5, 3)),
    case("tensordot-neg", lambda t, a, b: t.tensordot(a, b, dims=([-1], [0])), A23, B34),
    case("tensordot-size1-bcast", lambda t, a, b: t.tensordot(a, b, dims=([1], [0])), rnd(2, 1), rnd(3, 4)),
    case("kron-2d", lambda t, a, b: t.kron(a, b), A23, rnd(2, 2, seed=9)),
    case("kron-1d", lambda t, a, b: t.kron(a, b), V3, V4),
    case("kron-mixed-rank", lambda t, a, b: t.kron(a, b), V3, A23),
    case("kron-3d", lambda t, a, b: t.kron(a, b), rnd(2, 1, 2), rnd(1, 3, 2)),
    case("cross-dim", lambda t, a, b: t.cross(a, b, dim=1), rnd(4, 3), rnd(4, 3, seed=9)),
    case("cross-dim0", lambda t, a, b: t.cross(a, b, dim=0), rnd(3, 4), rnd(3, 4, seed=9)),
    case("cross-bcast", lambda t, a, b: t.cross(a, b, dim=-1), rnd(2, 4, 3), rnd(1, 4, 3, seed=9)),
    case("linalg-cross", lambda t, a, b: t.linalg.cross(a, b), rnd(5, 3), rnd(5, 3, seed=9)),
    case("linalg-cross-dim", lambda t, a, b: t.linalg.cross(a, b, dim=0), rnd(3, 2), rnd(3, 1, seed=9)),
    case("cross-noncontig", lambda t, a, b: t.linalg.cross(a.t(), b.t()), rnd(3, 5), rnd(3, 5, seed=9)),
]


@pytest.mark.parametrize("fn,inputs,kw", PRODUCT_CASES)
def test_products(fn, inputs, kw):
    check(fn, list(inputs), **kw)


def test_cross_default_dim_warns():
    a, b = rnd(4, 3), rnd(4, 3, seed=1)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        check(lambda t, x, y: t.cross(x, y), [a, b], dtypes=F)


def test_integer_products():
    check(lambda t, a, b: t.outer(a, b), [ints(3), rnd(2)], grad=False)
    check(lambda t, a, b: t.kron(a, b), [ints(3), ints(2, seed=1)], grad=False)
    check(lambda t, a, b: t.tensordot(a, b, 1), [ints(3, 3), ints(3, 2, seed=1)], grad=False)
    for dt in (np.int32, np.uint8):  # a broadcast contracted dim is summed in the operand's own dtype
        check(lambda t, a, b: t.tensordot(a, b, ([0, 1], [2, 0])),
              [np.abs(ints(1, 1, 1)).astype(dt), np.abs(ints(2, 1, 2, seed=1)).astype(dt)], grad=False)
        check(lambda t, a, b: t.tensordot(a, b, ([1], [0])), [np.abs(ints(3, 1)).astype(dt),
                                                              np.abs(ints(2, 3, seed=1)).astype(dt)], grad=False)
    check(lambda t, a, b: t.inner(a, b), [ints(3), ints(3, seed=1)], grad=False)
    check(lambda t, a, b: t.cross(a, b, dim=0), [ints(3), ints(3, seed=1)], grad=False)
    check(lambda t, a, b: t.dot(a, b), [ints(3), ints(3, seed=1)], grad=False)


# ---- fused add-multiply ---------------------------------------------------------------------------------------
IN23 = rnd(2, 4, seed=10)
EXACT = dict(rtol=0, atol=0)
NAN_IN = np.full((2, 4), NAN)
ADD_CASES = [
    case("addmm", lambda t, i, a, b: t.addmm(i, a, b), IN23, A23, B34),
    case("addmm-beta-alpha", lambda t, i, a, b: t.addmm(i, a, b, beta=0.5, alpha=-2), IN23, A23, B34),
    case("addmm-bcast-row", lambda t, i, a, b: t.addmm(i, a, b, beta=2), rnd(4, seed=11), A23, B34),
    case("addmm-bcast-scalar", lambda t, i, a, b: t.addmm(i, a, b), np.array(0.7), A23, B34),
    case("addmm-bcast-col", lambda t, i, a, b: t.addmm(i, a, b), rnd(2, 1, seed=11), A23, B34),
    case("addmm-beta0-nan", lambda t, i, a, b: t.addmm(i, a, b, beta=0), NAN_IN, A23, B34),
    case("addmm-method", lambda t, i, a, b: i.addmm(a, b, alpha=3), IN23, A23, B34),
    case("addmm-noncontig", lambda t, i, a, b: t.addmm(i.t(), a.t(), b.t()), rnd(4, 2), rnd(3, 2), rnd(4, 3)),
    case("addmm-empty-k", lambda t, i, a, b: t.addmm(i, a, b), IN23, np.zeros((2, 0)), np.zeros((0, 4))),
    case("addmv", lambda t, i, a, b: t.addmv(i, a, b), rnd(2, seed=12), A23, V3),
    case("addmv-beta-alpha", lambda t, i, a, b: t.addmv(i, a, b, beta=-1, alpha=0.25), rnd(2, seed=12), A23, V3),
    case("addmv-bcast", lambda t, i, a, b: t.addmv(i, a, b), rnd(1, seed=12), A23, V3),
    case("addmv-beta0-nan", lambda t, i, a, b: t.addmv(i, a, b, beta=0), np.full(2, NAN), A23, V3),
    case("addbmm", lambda t, i, a, b: t.addbmm(i, a, b), IN23, BA, BB),
    case("addbmm-beta-alpha", lambda t, i, a, b: t.addbmm(i, a, b, beta=3, alpha=0.5), rnd(4, seed=13), BA, BB),
    case("addbmm-beta0-nan", lambda t, i, a, b: t.addbmm(i, a, b, beta=0), NAN_IN, BA, BB),
    case("baddbmm", lambda t, i, a, b: t.baddbmm(i, a, b), rnd(5, 2, 4, seed=14), BA, BB),
    case("baddbmm-bcast", lambda t, i, a, b: t.baddbmm(i, a, b, beta=0.5, alpha=2), IN23, BA, BB),
    case("baddbmm-beta0-nan", lambda t, i, a, b: t.baddbmm(i, a, b, beta=0), NAN_IN, BA, BB),
    case("addr", lambda t, i, a, b: t.addr(i, a, b), rnd(3, 4, seed=15), V3, V4),
    case("addr-beta-alpha", lambda t, i, a, b: t.addr(i, a, b, beta=2, alpha=-0.5), rnd(3, 4, seed=15), V3, V4),
    case("addr-bcast", lambda t, i, a, b: t.addr(i, a, b), rnd(4, seed=15), V3, V4),
    case("addr-beta0-nan", lambda t, i, a, b: t.addr(i, a, b, beta=0), np.full((3, 4), NAN), V3, V4),
    # half: the GEMMs compute in float32 and round once (addbmm once per batch entry), addr rounds every operation
    case("addmm-half", lambda t, i, a, b: t.addmm(i, a, b, beta=0.2, alpha=0.6), IN23, A23, B34,
         dtypes=("float16",), tol=EXACT, grad=False),
    case("addmm-half-empty-k", lambda t, i, a, b: t.addmm(i, a, b, beta=0.3), IN23, np.zeros((2, 0)),
         np.zeros((0, 4)), dtypes=("float16",), tol=EXACT, grad=False),
    case("addmv-half", lambda t, i, a, b: t.addmv(i, a, b, beta=0.2, alpha=0.6), rnd(2, seed=12), A23, V3,
         dtypes=("float16",), tol=EXACT, grad=False),
    case("addbmm-half", lambda t, i, a, b: t.addbmm(i, a, b, beta=0.6, alpha=0.2), rnd(4, seed=13), BA, BB,
         dtypes=("float16",), tol=EXACT, grad=False),
    case("baddbmm-half", lambda t, i, a, b: t.baddbmm(i, a, b, beta=0.6, alpha=0.2), IN23, BA, BB,
         dtypes=("float16",), tol=EXACT, grad=False),
    case("addr-half", lambda t, i, a, b: t.addr(i, a, b, beta=0.6, alpha=0.2), rnd(3, 4, seed=15), 4 * V3, V4,
         dtypes=("float16",), tol=EXACT, grad=False),
    case("addr-half-beta0", lambda t, i, a, b: t.addr(i, a, b, beta=0.0, alpha=0.0), np.full((3, 4), NAN), V3, V4,
         dtypes=("float16",), tol=EXACT, grad=False),
]


@pytest.mark.parametrize("fn,inputs,kw", ADD_CASES)
def test_add_products(fn, inputs, kw):
    check(fn, list(inputs), **kw)


def test_add_products_integer():
    i, a, b = ints(2, 4), ints(2, 3, seed=1), ints(3, 4, seed=2)
    check(lambda t, i, a, b: t.addmm(i, a, b, beta=2, alpha=3), [i, a, b], grad=False)
    check(lambda t, i, a, b: t.addr(i, a, b, beta=2), [ints(3, 4), ints(3, seed=1), ints(4, seed=2)], grad=False)


INT_ADD_PRODUCTS = [
    ("addmm", lambda t, i, a, b, **kw: t.addmm(i, a, b, **kw), (2, 4), (2, 3), (3, 4)),
    ("addmv", lambda t, i, a, b, **kw: t.addmv(i, a, b, **kw), (2,), (2, 3), (3,)),
    ("addbmm", lambda t, i, a, b, **kw: t.addbmm(i, a, b, **kw), (2, 4), (5, 2, 3), (5, 3, 4)),
    ("baddbmm", lambda t, i, a, b, **kw: t.baddbmm(i, a, b, **kw), (1, 4), (5, 2, 3), (5, 3, 4)),
]


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("beta,alpha", [(0.2, 0.6), (1.5, 2.7), (True, False), (3, -1), (0, 2)])
@pytest.mark.parametrize("fn,si,sa,sb", [c[1:] for c in INT_ADD_PRODUCTS], ids=[c[0] for c in INT_ADD_PRODUCTS])
def test_add_products_integer_scalars(fn, si, sa, sb, beta, alpha, dt):
    """Integer kernels truncate float scalars (0.2 -> 0: input ignored, 1.5 -> 1); uint8 wraps -1 around."""
    arrs = [np.abs(ints(*s, seed=k)).astype(dt) for k, s in enumerate((si, sa, sb))]
    check(lambda t, i, a, b: fn(t, i, a, b, beta=beta, alpha=alpha), arrs, grad=False)


@pytest.mark.parametrize("fn,si,sa,sb", [c[1:] for c in INT_ADD_PRODUCTS], ids=[c[0] for c in INT_ADD_PRODUCTS])
def test_add_products_scalar_overflow(fn, si, sa, sb):
    """A negative float scalar does not fit uint8; a complex one does not fit a real type."""
    def run(t, dtype, **kw):
        return fn(t, *(t.ones(s, dtype=dtype) for s in (si, sa, sb)), **kw)
    check_raises(lambda t: run(t, t.uint8, alpha=-1.7), RuntimeError, "cannot be converted to type uint8_t")
    check_raises(lambda t: run(t, t.float64, beta=1j), RuntimeError, "cannot be converted to type double")


def test_addr_promotes():
    check(lambda t, i, a, b: t.addr(i, a, b), [rnd(3, 4).astype(np.float32), rnd(3), rnd(4)], grad=False)


def test_add_products_double_backward():
    check_double_backward(lambda t, i, a, b: t.addmm(i, a, b, beta=0.5, alpha=2), [IN23, A23, B34])
    check_double_backward(lambda t, i, a, b: t.baddbmm(i, a, b, alpha=2), [IN23, BA, BB])


def test_out_argument():
    for fn in (lambda t, a, b, o: t.matmul(a, b, out=o), lambda t, a, b, o: t.mm(a, b, out=o)):
        res = []
        for lib in (torch, ember):
            o = lib.empty(2, 4, dtype=lib.float64)
            r = fn(lib, lib.from_numpy(A23.copy()), lib.from_numpy(B34.copy()), o)
            assert r is o
            res.append(o)
        assert_same(res[1], res[0])


def test_float32_stays_float32():
    a, b = ember.from_numpy(rnd(2, 3).astype(np.float32)), ember.from_numpy(rnd(3, 4).astype(np.float32))
    for res in (a @ b, ember.addmm(ember.zeros(2, 4), a, b, beta=0.5, alpha=0.3), ember.einsum("ij,jk", a, b),
              ember.tensordot(a, b, 1), ember.kron(a, b), ember.inner(a, b.t())):
        assert res.dtype == ember.float32 and res.numpy().dtype == np.float32


@pytest.mark.parametrize("make,node", [
    (lambda t, a, b, v, m: t.matmul(v, v), "DotBackward0"),
    (lambda t, a, b, v, m: t.matmul(a, v), "MvBackward0"),
    (lambda t, a, b, v, m: t.matmul(v, b), "SqueezeBackward4"),
    (lambda t, a, b, v, m: a @ b, "MmBackward0"),
    (lambda t, a, b, v, m: m @ b, "UnsafeViewBackward0"),
    (lambda t, a, b, v, m: t.bmm(m, m.transpose(1, 2)), "BmmBackward0"),
    (lambda t, a, b, v, m: t.addmm(a, a, b), "AddmmBackward0"),
    (lambda t, a, b, v, m: t.addmv(v, a, v), "AddmvBackward0"),
    (lambda t, a, b, v, m: t.addr(a, v, v), "AddrBackward0"),
    (lambda t, a, b, v, m: t.baddbmm(m, m, b.expand(2, 3, 3)), "BaddbmmBackward0"),
    (lambda t, a, b, v, m: t.addbmm(a, m, b.expand(2, 3, 3)), "AddbmmBackward0"),
    (lambda t, a, b, v, m: t.vdot(v, v), "VdotBackward0"),
    (lambda t, a, b, v, m: t.cross(a, b, dim=1), "LinalgCrossBackward0"),
])
def test_grad_fn_names(make, node):
    for lib in (torch, ember):
        a, b = lib.ones(3, 3, requires_grad=True), lib.ones(3, 3, requires_grad=True)
        v, m = lib.ones(3, requires_grad=True), lib.ones(2, 3, 3, requires_grad=True)
        assert make(lib, a, b, v, m).grad_fn.name() == node


# ---- errors ---------------------------------------------------------------------------------------------------
def z(lib, *shape, dtype="float32"):
    return lib.zeros(shape, dtype=getattr(lib, dtype))


ERROR_CASES = [
    ("ormqr-0d", lambda t: t.ormqr(t.tensor(1.), t.tensor(1.), t.tensor(1.)), "input must have at least 2 dimensions"),
    ("ormqr-tau", lambda t: t.ormqr(z(t, 5, 0), z(t, 5), z(t, 5, 5)),
     r"tau.shape\[-1\] must be equal to min\(other.shape\[-2\], input.shape\[-1\]\)"),
    ("ormqr-tau-ndim", lambda t: t.ormqr(z(t, 3, 2), z(t, 1, 2), z(t, 3, 2)),
     "Expected tau to have one dimension less than input"),
    ("mm-shapes", lambda t: z(t, 2, 3) @ z(t, 4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    ("mm-fn-shapes", lambda t: t.mm(z(t, 2, 3), z(t, 4, 5)), r"\(2x3 and 4x5\)"),
    ("vec-mat", lambda t: z(t, 3) @ z(t, 4, 5), r"\(1x3 and 4x5\)"),
    ("mat-vec", lambda t: z(t, 2, 3) @ z(t, 4), r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
    ("vec-vec", lambda t: z(t, 3) @ z(t, 4), r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"),
    ("folded", lambda t: z(t, 2, 2, 3) @ z(t, 4, 5), r"\(4x3 and 4x5\)"),
    ("folded-vec", lambda t: z(t, 2, 2, 3) @ z(t, 4), r"got input \(4\), mat \(4x3\), vec \(4\)"),
    ("batched", lambda t: z(t, 2, 2, 3) @ z(t, 2, 4, 5), r"batch2 tensor to be: \[2, 3\] but got: \[2, 4\]"),
    ("vec-batched", lambda t: z(t, 3) @ z(t, 2, 4, 5), r"batch2 tensor to be: \[2, 3\] but got: \[2, 4\]"),
    ("batch-bcast", lambda t: z(t, 2, 2, 3) @ z(t, 3, 3, 5),
     r"The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0"),
    ("0d-left", lambda t: t.matmul(z(t), z(t, 3)),
     "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ("0d-right", lambda t: z(t, 3) @ z(t), "but they are 1D and 0D"),
    ("dtype-mm", lambda t: z(t, 2, 3) @ z(t, 3, 4, dtype="float64"),
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("dtype-mm-rev", lambda t: z(t, 2, 3, dtype="float64") @ z(t, 3, 4), "but got: double != float"),
    ("dtype-dot", lambda t: z(t, 3) @ z(t, 3, dtype="float64"),
     "dot : expected both vectors to have same dtype, but found Float and Double"),
    ("dtype-mv", lambda t: z(t, 2, 3) @ z(t, 3, dtype="float64"),
     "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
    ("dtype-bmm", lambda t: z(t, 2, 2, 3) @ z(t, 2, 3, 4, dtype="float64"),
     "expected scalar type Float but found Double"),
    ("dtype-int-float", lambda t: z(t, 2, 3, dtype="int64") @ z(t, 3, 4), "but got: long int != float"),
    ("bool-mm", lambda t: z(t, 2, 3, dtype="bool") @ z(t, 3, 2, dtype="bool"), "not implemented for 'Bool'"),
    ("bool-bmm", lambda t: t.bmm(z(t, 2, 2, 3, dtype="bool"), z(t, 2, 3, 2, dtype="bool")), "\"bmm\" not implemented"),
    ("bool-dot", lambda t: t.dot(z(t, 3, dtype="bool"), z(t, 3, dtype="bool")), "\"dot\" not implemented"),
    ("mm-not-matrix", lambda t: t.mm(z(t, 3), z(t, 3, 5)), "self must be a matrix"),
    ("mm-not-matrix2", lambda t: t.mm(z(t, 2, 3), z(t, 3)), "mat2 must be a matrix"),
    ("bmm-not-3d", lambda t: t.bmm(z(t, 2, 3), z(t, 2, 3, 5)), "batch1 must be a 3D tensor"),
    ("bmm-not-3d-2", lambda t: t.bmm(z(t, 2, 2, 3), z(t, 2, 3)), "batch2 must be a 3D tensor"),
    ("bmm-batches", lambda t: t.bmm(z(t, 2, 2, 3), z(t, 3, 3, 5)), r"to be: \[2, 3\] but got: \[3, 3\]"),
    ("mv-dims", lambda t: t.mv(z(t, 2, 3), z(t, 3, 1)), "vector \\+ matrix @ vector expected, got 1, 2, 2"),
    ("dot-dims", lambda t: t.dot(z(t, 2, 1), z(t, 2)), "1D tensors expected, but got 2D and 1D tensors"),
    ("dot-sizes", lambda t: t.dot(z(t, 2), z(t, 3)), r"expected tensor \[2\] and src \[3\]"),
    ("vdot-dims", lambda t: t.vdot(z(t, 2, 2), z(t, 2)), "1D tensors expected"),
    ("outer-dims", lambda t: t.outer(z(t, 2, 2), z(t, 3)), "outer: Expected 1-D argument self, but got 2-D"),
    ("outer-dims2", lambda t: t.outer(z(t, 2), z(t)), "outer: Expected 1-D argument vec2, but got 0-D"),
    ("inner-last", lambda t: t.inner(z(t, 2, 3), z(t, 4)),
     r"inner\(\) the last dimension must match on both input tensors but got shapes \[2, 3\] and \[4\]"),
    ("inner-dtype", lambda t: t.inner(z(t, 2, 3), z(t, 3, dtype="float64")), "both inputs should have same dtype"),
    ("tensordot-sizes", lambda t: t.tensordot(z(t, 2, 3), z(t, 4, 5), dims=1),
     "contracted dimensions need to match, but first has size 3 in dim -1 and second has size 4 in dim 0"),
    ("tensordot-lists", lambda t: t.tensordot(z(t, 2, 3), z(t, 3, 2), dims=([0, 1], [1])),
     "both dimension lists should have same length"),
    ("tensordot-neg", lambda t: t.tensordot(z(t, 2, 3), z(t, 3, 2), dims=-1),
     "tensordot expects dims >= 0, but got dims=-1"),
    ("tensordot-big", lambda t: t.tensordot(z(t, 2, 3), z(t, 3, 2), dims=3), "but got dims=3"),
    ("tensordot-dtype", lambda t: t.tensordot(z(t, 3), z(t, 3, dtype="float64"), dims=1), "same dtype"),
    ("tensordot-range", lambda t: t.tensordot(z(t, 2, 3), z(t, 3, 2), dims=([2], [0])),
     r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    ("cross-len", lambda t: t.linalg.cross(z(t, 2, 4), z(t, 2, 4)),
     "linalg.cross: inputs dimension -1 must have length 3. Got 4 and 4"),
    ("cross-ndim", lambda t: t.cross(z(t, 2, 3), z(t, 2, 3, 3), dim=-1),
     "linalg.cross: inputs must have the same number of dimensions."),
    ("cross-bcast", lambda t: t.cross(z(t, 2, 3), z(t, 3, 3), dim=1), r"size of tensor a \(2\) must match"),
    ("cross-dtype", lambda t: t.cross(z(t, 3, dtype="int64"), z(t, 3), dim=0),
     "expected scalar type Long but found Float"),
    ("cross-dim-range", lambda t: t.cross(z(t, 2, 3), z(t, 2, 3), dim=2), "Dimension out of range"),
    ("addmm-shapes", lambda t: t.addmm(z(t, 2, 3), z(t, 2, 4), z(t, 5, 3)), r"\(2x4 and 5x3\)"),
    ("addmm-input", lambda t: t.addmm(z(t, 5, 3), z(t, 2, 4), z(t, 4, 3)),
     r"The expanded size of the tensor \(2\) must match the existing size \(5\) at non-singleton dimension 0"),
    ("addmm-self-dtype", lambda t: t.addmm(z(t, 2, 3, dtype="float64"), z(t, 2, 4), z(t, 4, 3)),
     "self and mat2 must have the same dtype, but got Double and Float"),
    ("addmm-mat-dtype", lambda t: t.addmm(z(t, 2, 3), z(t, 2, 4, dtype="float64"), z(t, 4, 3)),
     "mat1 and mat2 must have the same dtype, but got Double and Float"),
    ("addmm-not-matrix", lambda t: t.addmm(z(t, 2, 3), z(t, 4), z(t, 4, 3)), "mat1 must be a matrix, got 1-D tensor"),
    ("addmm-bool", lambda t: t.addmm(*(z(t, 2, 2, dtype="bool"),) * 3), "not implemented for 'Bool'"),
    ("addmv-input", lambda t: t.addmv(z(t, 3), z(t, 2, 4), z(t, 4)), r"got input \(3\), mat \(2x4\), vec \(4\)"),
    ("addmv-dims", lambda t: t.addmv(z(t, 2, 2), z(t, 2, 4), z(t, 4)), "got 2, 2, 1"),
    ("addmv-dtype", lambda t: t.addmv(z(t, 2), z(t, 2, 4, dtype="float64"), z(t, 4)),
     "addmv input tensors must have the same dtype, but got Float, Double, and Float"),
    ("addbmm-batches", lambda t: t.addbmm(z(t, 2, 3), z(t, 2, 2, 4), z(t, 3, 4, 3)),
     "batch1 and batch2 must have same number of batches, got 2 and 3"),
    ("addbmm-sizes", lambda t: t.addbmm(z(t, 2, 3), z(t, 2, 2, 4), z(t, 2, 5, 3)),
     r"Incompatible matrix sizes for bmm \(2x4 and 5x3\)"),
    ("addbmm-3d", lambda t: t.addbmm(z(t, 4, 3), z(t, 2, 4), z(t, 2, 4, 3)), "batch1 must be a 3D tensor"),
    ("addbmm-input", lambda t: t.addbmm(z(t, 3, 3), z(t, 2, 2, 4), z(t, 2, 4, 3)), "Target sizes: \\[2, 3\\]"),
    ("baddbmm-dtype", lambda t: t.baddbmm(z(t, 2, 3, dtype="float64"), z(t, 2, 2, 4), z(t, 2, 4, 3)),
     "Input dtypes must be the same, got: input double, batch1: float, batch2: float"),
    ("baddbmm-dtype2", lambda t: t.baddbmm(z(t, 2, 3), z(t, 2, 2, 4), z(t, 2, 4, 3, dtype="float64")),
     "expected scalar type Float but found Double"),
    ("baddbmm-sizes", lambda t: t.baddbmm(z(t, 2, 3), z(t, 2, 2, 4), z(t, 3, 4, 3)),
     r"to be: \[2, 4\] but got: \[3, 4\]"),
    ("addr-dims", lambda t: t.addr(z(t, 2, 3), z(t, 2, 2), z(t, 3)), "addr: Expected 1-D argument vec1, but got 2-D"),
    ("addr-input", lambda t: t.addr(z(t, 3, 3), z(t, 2), z(t, 3)),
     "Target sizes: \\[2, 3\\].  Tensor sizes: \\[3, 3\\]"),
    ("addr-int-beta", lambda t: t.addr(*(z(t, 3, dtype="int64"),) * 3, beta=0.5),
     "For integral input tensors, argument beta must not be a floating point number."),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors(fn, match):
    check_raises(fn, match=match)


def test_matmul_folding_with_grad_changes_message():
    # torch folds a >=3-D right operand when the smaller left one requires grad (its message then shows the folded
    # shapes); otherwise it goes through bmm
    raises(lambda t: t.matmul(t.zeros(3, requires_grad=True), z(t, 2, 4, 5)), RuntimeError,
           r"size mismatch, got input \(10\), mat \(10x4\), vec \(3\)")
    raises(lambda t: t.matmul(z(t, 3), t.zeros(2, 4, 5, requires_grad=True)), RuntimeError,
           r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\] but got: \[2, 4\]")


def test_cross_no_size3_dim():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_raises(lambda t: t.cross(z(t, 2, 4), z(t, 2, 4)), match="no dimension of size 3 in input")


# ---- einsum ---------------------------------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(3,), (3,)]),
    ("i,i", [(3,), (3,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),
    ("...ij,jk", [(2, 2, 3), (3, 4)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,jk,kl", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ij", [(3, 3, 2)]),
    ("ij,ij->ij", [(2, 3), (1, 3)]),
    ("ij,jk->ik", [(0, 3), (3, 4)]),
    ("ij,jk->ik", [(2, 0), (0, 4)]),
    ("i j , j k -> i k", [(2, 3), (3, 4)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ij->i...", [(2, 3)]),
    ("...,...->...", [(2, 3), (3,)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum(eq, shapes):
    arrs = [rnd(*s, seed=k) for k, s in enumerate(shapes)]
    check(lambda t, *xs: t.einsum(eq, *xs), arrs, dtypes=F)


def test_einsum_forms():
    a, b = rnd(2, 3), rnd(3, 4, seed=1)
    check(lambda t, x, y: t.einsum("ij,jk->ik", [x, y]), [a, b], dtypes=F)
    check(lambda t, x, y: t.einsum(x, [0, 1], y, [1, 2], [0, 2]), [a, b], dtypes=F)
    check(lambda t, x, y: t.einsum(x, [0, 1], y, [1, 2]), [a, b], dtypes=F)
    check(lambda t, x, y: t.einsum(x, [Ellipsis, 1], y, [1, 2], [Ellipsis, 2]), [a, b], dtypes=F)
    check(lambda t, x, y: t.einsum("ij,jk->ik", x.t(), y.t()), [rnd(3, 2), rnd(4, 3, seed=1)], dtypes=F)
    check(lambda t, x, y: t.einsum("i,i", x, y), [ints(3), ints(3, seed=1)], grad=False)


INT_EINSUM = [("i,i->", [(3,), (3,)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]), ("ij->i", [(2, 3)]),
              ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij,jk", [(2, 3), (3, 2)]), ("i,j", [(3,), (2,)]),
              # a label only one operand has is summed first (to int64), then multiplied or contracted
              ("...ik,...j->ij", [(1, 2, 3), (3,)]), ("ij,jk->", [(2, 3), (3, 4)]), ("ij,k->jk", [(2, 3), (4,)]),
              ("ij,kl->", [(2, 2), (2, 2)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("i,i->", [(1,), (3,)]),
              ("ab,bc,cd,de->ae", [(2, 3), (3, 1), (1, 4), (4, 2)])]


@pytest.mark.parametrize("eq,shapes", INT_EINSUM, ids=[c[0] for c in INT_EINSUM])
@pytest.mark.parametrize("dt", [np.int32, np.int64, np.uint8])
def test_einsum_integer_dtypes(eq, shapes, dt):
    """A single-operand reduction sums (integers promote to int64); contractions keep the dtype."""
    check(lambda t, *xs: t.einsum(eq, *xs), [ints(*s, seed=k).astype(dt) for k, s in enumerate(shapes)], grad=False)


@pytest.mark.parametrize("eq,shapes", [("i,j", [(3,), (2,)]), ("ij,ij->ij", [(2, 2), (2, 2)]), ("ij->", [(2, 3)]),
                                       ("ij->ji", [(2, 3)]), ("ij,k->jk", [(2, 3), (4,)])])
def test_einsum_bool(eq, shapes):
    check(lambda t, *xs: t.einsum(eq, *xs), [ints(*s, seed=k) > 0 for k, s in enumerate(shapes)], grad=False)


@pytest.mark.parametrize("eq,dt,exc,match", [
    ("ij,jk->k", "int32", RuntimeError, "expected scalar type Long but found Int"),
    ("ij,jk->i", "int32", RuntimeError, "expected scalar type Int but found Long"),
    ("ij,jk->i", "bool", NotImplementedError, "\"bmm\" not implemented for 'Bool'"),
    ("ij,jk->k", "bool", RuntimeError, "expected scalar type Long but found Bool"),
])
def test_einsum_integer_contraction_errors(eq, dt, exc, match):
    """A summed-away operand (now int64) cannot meet one of another dtype in the batched matmul."""
    check_raises(lambda t: t.einsum(eq, t.ones(2, 3, dtype=getattr(t, dt)), t.ones(3, 4, dtype=getattr(t, dt))),
                 exc, match)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]),
                                       ("ij->", [(2, 3)]), ("i,j->ij", [(3,), (4,)]), ("ii->i", [(3, 3)]),
                                       ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),
                                       ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
                                       ("ij,ij->ij", [(2, 3), (1, 3)])])
def test_einsum_double_backward(eq, shapes):
    check_double_backward(lambda t, *xs: t.einsum(eq, *xs), [rnd(*s, seed=k + 3) for k, s in enumerate(shapes)])


def test_einsum_gradgradcheck():
    xs = [ember.from_numpy(rnd(2, 3, seed=1)).requires_grad_(True),
          ember.from_numpy(rnd(3, 3, seed=2)).requires_grad_(True)]
    fn = lambda a, b: ember.einsum("ij,jj,jk->ik", a, b, b)  # noqa: E731
    assert ember.autograd.gradgradcheck(fn, xs)


EINSUM_ERRORS = [
    ("sizes", lambda t: t.einsum("ij,jk", z(t, 2, 3), z(t, 4, 5)),
     "einsum\\(\\): subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3"),
    ("fewer", lambda t: t.einsum("ij,jk", z(t, 2, 3)),
     "einsum\\(\\): fewer operands were provided than specified in the equation"),
    ("more", lambda t: t.einsum("ij->ij", z(t, 2, 3), z(t, 2)), "more operands were provided"),
    ("dtype", lambda t: t.einsum("ij,jk->ik", z(t, 2, 3), z(t, 3, 5, dtype="float64")),
     "expected scalar type Float but found Double"),
    ("ndim", lambda t: t.einsum("ijk,jk", z(t, 2, 3), z(t, 3, 5)),
     r"the number of subscripts in the equation \(3\) does not match the number of dimensions \(2\) for operand 0 "
     "and no ellipsis was given"),
    ("ndim-ellipsis", lambda t: t.einsum("...ij->...", z(t, 3)),
     r"the number of subscripts in the equation \(2\) is more than the number of dimensions \(1\) for operand 0"),
    ("repeat-size", lambda t: t.einsum("ii->i", z(t, 2, 3)),
     "subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    ("out-repeat", lambda t: t.einsum("i->ii", z(t, 2)), "output subscript i appears more than once in the output"),
    ("out-unknown", lambda t: t.einsum("i->j", z(t, 2)),
     "output subscript j does not appear in the equation for any input operand"),
    ("bad-char", lambda t: t.einsum("i1", z(t, 2, 2)),
     r"invalid subscript given at index 1 in the equation string, subscripts must be in \[a-zA-Z\]"),
    ("bad-dot", lambda t: t.einsum("i..j", z(t, 3)), "found '.' for operand 0 that is not part of any ellipsis"),
    ("ellipsis-bcast", lambda t: t.einsum("...i,...i->...", z(t, 2, 3), z(t, 4, 3)),
     "dimension 0 covered by ellipsis in operand 1has size 4 which does not broadcast"),
    ("bool", lambda t: t.einsum("ij,jk", z(t, 2, 2, dtype="bool"), z(t, 2, 2, dtype="bool")), "not implemented"),
    ("sublist-range", lambda t: t.einsum(z(t, 3, 3), [0, 52]), r"not within the valid range \[0, 52\)"),
    ("no-operands", lambda t: t.einsum("ij"), "must specify the equation string and at least one operand"),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in EINSUM_ERRORS], ids=[c[0] for c in EINSUM_ERRORS])
def test_einsum_errors(fn, match):
    check_raises(fn, match=match)


# ---- torch.linalg: norms ------------------------------------------------------------------------------------------
M = rnd(3, 4, seed=20)
MB = rnd(2, 3, 4, seed=21)
NORM_CASES = [
    case("norm-default", lambda t, a: t.linalg.norm(a), MB),
    case("norm-vec-ord", lambda t, a: t.linalg.norm(a, 3), rnd(5, seed=22)),
    case("norm-vec-inf", lambda t, a: t.linalg.norm(a, float("inf")), rnd(5, seed=22)),
    case("norm-mat-fro", lambda t, a: t.linalg.norm(a, "fro"), M),
    case("norm-mat-1", lambda t, a: t.linalg.norm(a, 1), M),
    case("norm-mat-ninf", lambda t, a: t.linalg.norm(a, -float("inf")), M),
    case("norm-dim-int", lambda t, a: t.linalg.norm(a, dim=1), MB),
    case("norm-dim-int-ord", lambda t, a: t.linalg.norm(a, 1, dim=-1, keepdim=True), MB),
    case("norm-dim-pair", lambda t, a: t.linalg.norm(a, dim=(0, 2)), MB),
    case("norm-dim-pair-ord", lambda t, a: t.linalg.norm(a, float("inf"), dim=(2, 1)), MB),
    case("norm-dtype", lambda t, a: t.linalg.norm(a, dtype=t.float64), M.astype(np.float32), dtypes=None),
    case("vector-norm", lambda t, a: t.linalg.vector_norm(a, 1.5, dim=(0, 1)), MB),
    case("vector-norm-0", lambda t, a: t.linalg.vector_norm(a, 0), MB, grad=False),
    case("vector-norm-empty", lambda t, a: t.linalg.vector_norm(a), np.zeros((0, 3))),
    case("matrix-norm-fro", lambda t, a: t.linalg.matrix_norm(a), MB),
    case("matrix-norm-fro-keep", lambda t, a: t.linalg.matrix_norm(a, "fro", dim=(0, 2), keepdim=True), MB),
    case("matrix-norm-nuc", lambda t, a: t.linalg.matrix_norm(a, "nuc"), MB),
    case("matrix-norm-2", lambda t, a: t.linalg.matrix_norm(a, 2), MB),
    case("matrix-norm-m2-keep", lambda t, a: t.linalg.matrix_norm(a, -2, dim=(2, 0), keepdim=True), MB),
    case("matrix-norm-1", lambda t, a: t.linalg.matrix_norm(a, 1), MB),
    case("matrix-norm-m1", lambda t, a: t.linalg.matrix_norm(a, -1, keepdim=True), MB),
    case("matrix-norm-inf-dims", lambda t, a: t.linalg.matrix_norm(a, float("inf"), dim=(0, 2)), MB),
    case("matrix-norm-noncontig", lambda t, a: t.linalg.matrix_norm(a.transpose(0, 2)), MB),
    # a positive-order norm of an empty matrix is 0 (new zeros, outside the graph); 'nuc' and 'fro' sum to 0
    case("matrix-norm-empty-2", lambda t, a: t.linalg.matrix_norm(a, 2), np.zeros((0, 0))),
    case("matrix-norm-empty-2-keep", lambda t, a: t.linalg.matrix_norm(a, 2, keepdim=True), np.zeros((2, 0, 3))),
    case("matrix-norm-empty-1", lambda t, a: t.linalg.matrix_norm(a, 1), np.zeros((5, 0))),
    case("matrix-norm-empty-1-keep", lambda t, a: t.linalg.matrix_norm(a, 1, keepdim=True), np.zeros((2, 0, 3))),
    case("matrix-norm-empty-inf", lambda t, a: t.linalg.matrix_norm(a, float("inf")), np.zeros((0, 5))),
    case("matrix-norm-empty-m1-rows", lambda t, a: t.linalg.matrix_norm(a, -1), np.zeros((0, 5))),
    case("matrix-norm-empty-nuc", lambda t, a: t.linalg.matrix_norm(a, "nuc"), np.zeros((0, 5))),
    case("norm-empty-2", lambda t, a: t.linalg.norm(a, 2), np.zeros((0, 5))),
    # half norms accumulate in float32: no overflow of the squares
    case("vector-norm-half", lambda t, a: t.linalg.vector_norm(a), 300 * MB, dtypes=("float16",), grad=False),
    case("vector-norm-half-p3", lambda t, a: t.linalg.vector_norm(a, 3, dim=1), 40 * MB, dtypes=("float16",),
         grad=False),
    case("dist-half", lambda t, a, b: t.dist(a, b), 300 * MB, rnd(3, 4, seed=23), dtypes=("float16",), grad=False),
]


@pytest.mark.parametrize("fn,inputs,kw", NORM_CASES)
def test_norms(fn, inputs, kw):
    check(fn, list(inputs), **kw)


NORM_ERRORS = [
    ("mat-1d", lambda t: t.linalg.matrix_norm(z(t, 3)),
     "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
    ("mat-ord", lambda t: t.linalg.matrix_norm(z(t, 3, 3), ord=3), "linalg.matrix_norm: Order 3 not supported."),
    ("mat-ord-str", lambda t: t.linalg.matrix_norm(z(t, 3, 3), ord="abc"), "Order abc not supported."),
    ("norm-3d-ord", lambda t: t.linalg.norm(z(t, 3, 3, 3), ord=2),
     "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got 3D."),
    ("norm-fro-1d", lambda t: t.linalg.norm(z(t, 3), ord="fro"), "must have at least 2 dimensions"),
    ("norm-fro-dim", lambda t: t.linalg.norm(z(t, 3, 3), ord="fro", dim=0),
     "linalg.matrix_norm: dim must be a 2-tuple. Got 0"),
    ("vec-str", lambda t: t.linalg.vector_norm(z(t, 3), ord="fro"), "must be Number, not str"),
    ("int", lambda t: t.linalg.norm(z(t, 3, 3, dtype="int64")),
     "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
    ("empty-m2", lambda t: t.linalg.matrix_norm(z(t, 0, 0), -2), "amin\\(\\): Expected reduction dim"),
    ("empty-minf", lambda t: t.linalg.matrix_norm(z(t, 0, 5), -float("inf")),
     "amin\\(\\): Expected reduction dim 0 to have non-zero size"),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in NORM_ERRORS], ids=[c[0] for c in NORM_ERRORS])
def test_norm_errors(fn, match):
    check_raises(fn, match=match)


# ---- torch.linalg: solvers and decompositions ---------------------------------------------------------------------
W3, WB = well(3, seed=30), well(3, (2,), seed=31)
S3, SB = spd(3, seed=32), spd(3, (2,), seed=33)

LINALG_CASES = [
    case("inv", lambda t, a: t.linalg.inv(a), W3),
    case("inv-batch", lambda t, a: t.linalg.inv(a), WB),
    case("inv-noncontig", lambda t, a: t.linalg.inv(a.transpose(-1, -2)), WB),
    case("inverse", lambda t, a: t.inverse(a), W3),
    case("inverse-method", lambda t, a: a.inverse(), WB),
    case("inv-empty", lambda t, a: t.linalg.inv(a), np.zeros((0, 0))),
    case("det", lambda t, a: t.linalg.det(a), W3),
    case("det-batch", lambda t, a: t.linalg.det(a), WB),
    case("det-top", lambda t, a: t.det(a), WB),
    case("det-1x1", lambda t, a: t.linalg.det(a), np.array([[2.5]])),
    case("slogdet", lambda t, a: t.linalg.slogdet(a), WB),
    case("slogdet-neg", lambda t, a: t.linalg.slogdet(a), -W3),
    case("slogdet-top", lambda t, a: t.slogdet(a), W3),
    case("logdet", lambda t, a: t.logdet(a), S3),
    case("logdet-neg", lambda t, a: t.logdet(a), np.diag([-1.0, 2.0, 3.0]), grad=False),
    case("solve-mat", lambda t, a, b: t.linalg.solve(a, b), W3, rnd(3, 2, seed=34)),
    case("solve-vec", lambda t, a, b: t.linalg.solve(a, b), W3, rnd(3, seed=34)),
    case("solve-batch-vec", lambda t, a, b: t.linalg.solve(a, b), WB, rnd(2, 3, seed=34)),
    case("solve-bcast", lambda t, a, b: t.linalg.solve(a, b), WB, rnd(3, 4, seed=34)),
    case("solve-bcast-A", lambda t, a, b: t.linalg.solve(a, b), W3, rnd(2, 3, 4, seed=34)),
    case("solve-left-false", lambda t, a, b: t.linalg.solve(a, b, left=False), W3, rnd(4, 3, seed=34)),
    case("solve-triangular", lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True), W3, rnd(3, 2, seed=35)),
    case("solve-triangular-lower-left-false",
         lambda t, a, b: t.linalg.solve_triangular(a, b, upper=False, left=False), W3, rnd(2, 3, seed=35)),
    case("solve-triangular-unit", lambda t, a, b: t.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
         W3, rnd(3, 2, seed=35)),
    case("cholesky", lambda t, a: t.linalg.cholesky(a), S3),
    case("cholesky-batch-upper", lambda t, a: t.linalg.cholesky(a, upper=True), SB),
    case("cholesky-solve", lambda t, b, a: t.cholesky_solve(b, t.linalg.cholesky(a)), rnd(3, 2, seed=36), S3),
    case("cholesky-inverse", lambda t, a: t.cholesky_inverse(t.linalg.cholesky(a)), S3),
    case("eigvalsh", lambda t, a: t.linalg.eigvalsh(a), SB),
    case("eigvalsh-upper", lambda t, a: t.linalg.eigvalsh(a, UPLO="U"), SB),
    case("eigh-invariant", lambda t, a: (lambda r: (r.eigenvalues, r.eigenvectors.abs()))(t.linalg.eigh(a)), SB),
    case("svdvals", lambda t, a: t.linalg.svdvals(a), MB),
    case("svdvals-wide", lambda t, a: t.linalg.svdvals(a), MB.transpose(0, 2, 1)),
    case("svd-invariant-tall", lambda t, a: (lambda r: (r.S, r.U.abs(), r.Vh.abs()))(
        t.linalg.svd(a, full_matrices=False)), MB.transpose(0, 2, 1)),
    case("svd-invariant-wide", lambda t, a: (lambda r: (r.S, r.U.abs(), r.Vh.abs()))(
        t.linalg.svd(a, full_matrices=False)), MB),
    case("svd-invariant-square", lambda t, a: (lambda r: (r.S, r.U.abs(), r.Vh.abs()))(t.linalg.svd(a)), W3),
    case("matrix-power", lambda t, a: t.linalg.matrix_power(a, 5), W3 / 3),
    case("matrix-power-neg", lambda t, a: t.linalg.matrix_power(a, -2), WB),
    case("matrix-power-0", lambda t, a: t.linalg.matrix_power(a, 0), WB),  # an identity; A's gradient is zero
    case("matrix-power-0-empty-batch", lambda t, a: t.linalg.matrix_power(a, 0), np.zeros((0, 2, 2))),
    case("householder-product", lambda t, a, tau: t.linalg.householder_product(a, tau), rnd(5, 3, seed=39),
         rnd(2, seed=40)),
    case("householder-product-batch", lambda t, a, tau: t.linalg.householder_product(a, tau), rnd(2, 4, 4, seed=39),
         rnd(2, 3, seed=40)),
    case("householder-product-no-reflectors", lambda t, a, tau: t.linalg.householder_product(a, tau), W3,
         np.zeros(0)),
    case("householder-product-empty", lambda t, a, tau: t.linalg.householder_product(a, tau), np.zeros((0, 0)),
         np.zeros(0)),
    case("matrix-power-int", lambda t, a: t.linalg.matrix_power(a, 3), ints(2, 2), grad=False),
    case("multi-dot", lambda t, a, b, c: t.linalg.multi_dot([a, b, c]), V3, B34, rnd(4, 2, seed=37)),
    case("multi-dot-vec-end", lambda t, a, b, c: t.linalg.multi_dot([a, b, c]), A23, B34, V4),
    case("vecdot", lambda t, a, b: t.linalg.vecdot(a, b), MB, rnd(3, 4, seed=38)),
    case("vecdot-dim", lambda t, a, b: t.linalg.vecdot(a, b, dim=0), M, rnd(3, 1, seed=38)),
    case("linalg-matmul", lambda t, a, b: t.linalg.matmul(a, b), MB, rnd(4, 2, seed=38)),
    case("linalg-diagonal", lambda t, a: t.linalg.diagonal(a, offset=1), MB),
    case("cond", lambda t, a: t.linalg.cond(a), W3),
    case("cond-fro", lambda t, a: t.linalg.cond(a, "fro"), W3, grad=False),  # torch cannot differentiate it
    case("cond-batch", lambda t, a: t.linalg.cond(a, 1), WB, grad=False),
]


@pytest.mark.parametrize("fn,inputs,kw", LINALG_CASES)
def test_linalg(fn, inputs, kw):
    kw = dict(kw)
    if kw.get("dtypes") == F:
        check(fn, list(inputs), dtypes=["float64"], **{k: v for k, v in kw.items() if k != "dtypes"})
        check(fn, list(inputs), dtypes=["float32"], tol=dict(rtol=2e-4, atol=2e-5),
              **{k: v for k, v in kw.items() if k != "dtypes"})
    else:
        check(fn, list(inputs), **kw)


@pytest.mark.parametrize("name,fn,inputs", [
    ("inv", lambda t, a: t.linalg.inv(a), [W3]),
    ("det", lambda t, a: t.linalg.det(a), [W3]),
    ("slogdet", lambda t, a: t.linalg.slogdet(a)[1], [WB]),
    ("solve", lambda t, a, b: t.linalg.solve(a, b), [W3, rnd(3, 2, seed=1)]),
    ("cholesky", lambda t, a: t.linalg.cholesky(a), [S3]),
    ("eigvalsh", lambda t, a: t.linalg.eigvalsh(a), [S3]),
    ("svdvals", lambda t, a: t.linalg.svdvals(a), [M]),
    ("matrix-norm-2", lambda t, a: t.linalg.matrix_norm(a, 2), [M]),
])
def test_linalg_double_backward(name, fn, inputs):
    check_double_backward(fn, inputs, tol=dict(rtol=1e-7, atol=1e-9))


def _with_norm(norm, n=6, seed=0):
    """A random n x n matrix scaled to the given 1-norm (which picks PyTorch's Taylor degree)."""
    a = rnd(n, n, seed=seed)
    return a / np.abs(a).sum(0).max() * norm


def _assert_close_to_scale(e, t, bound):
    """|e - t| within bound times the largest |t| (rounding differences of the BLAS, grown by the squarings)."""
    assert e.dtype == t.dtype
    assert np.abs(e - t).max() <= bound * np.abs(t).max()


@pytest.mark.parametrize("dt", ["float64", "float32"])
@pytest.mark.parametrize("norm", [1e-8, 3e-4, 0.03, 0.4, 1.2, 2.5, 27.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_matrix_exp_taylor_degrees(norm, dt, seed):
    """One matrix: PyTorch's Taylor form for its 1-norm's bracket, scaling and squaring past the last."""
    a = _with_norm(norm, seed=seed).astype(dt)[None]
    t = torch.linalg.matrix_exp(torch.from_numpy(a)).numpy()
    e = ember.linalg.matrix_exp(ember.from_numpy(a)).numpy()
    _assert_close_to_scale(e, t, {"float64": 1e-15 if norm < 1 else 2e-14, "float32": 1e-8 if norm < 1 else 2e-6}[dt])


@pytest.mark.parametrize("dt", ["float64", "float32"])
def test_matrix_exp_batch(dt):
    """A batch takes the degree-18 form with scaling and squaring for every matrix, whatever its norm."""
    a = np.stack([_with_norm(v, seed=k) for k, v in enumerate((1e-9, 3e-4, 0.2, 1.5, 40.0))]).astype(dt)
    t = torch.linalg.matrix_exp(torch.from_numpy(a)).numpy()
    e = ember.linalg.matrix_exp(ember.from_numpy(a)).numpy()
    for k in range(len(a)):
        _assert_close_to_scale(e[k], t[k], 1e-14 if dt == "float64" else 1e-6)


def test_matrix_exp_half():
    """Half computes in float32 and rounds once. (torch 2.13's own half matrix_exp reads its float64 coefficient
    tables as half and returns garbage, so the oracle is its float32 result rounded.)"""
    a = np.stack([_with_norm(v, n=4, seed=1) for v in (0.03, 1.2, 9.0)]).astype(np.float16)
    want = torch.linalg.matrix_exp(torch.from_numpy(a).float()).half().numpy()
    got = ember.linalg.matrix_exp(ember.from_numpy(a))
    assert got.dtype == ember.float16
    np.testing.assert_allclose(got.numpy().astype(np.float32), want.astype(np.float32), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5), (2, 4, 3)])
def test_svd_reconstructs(shape):
    a = rnd(*shape, seed=40)
    for full in (True, False):
        e = ember.linalg.svd(ember.from_numpy(a), full_matrices=full)
        t = torch.linalg.svd(torch.from_numpy(a), full_matrices=full)
        assert type(e).__name__ == "linalg_svd" and e._fields == ("U", "S", "Vh")
        for x, y in zip(e, t):
            assert tuple(x.shape) == tuple(y.shape)
        assert_same(e.S, t.S)
        k = min(shape[-2:])
        rec = (e.U[..., :k] * e.S.unsqueeze(-2)) @ e.Vh[..., :k, :]
        np.testing.assert_allclose(rec.numpy(), a, atol=1e-12)
        np.testing.assert_allclose(np.abs(e.U.numpy()[..., :k]), np.abs(t.U.numpy()[..., :k]), atol=1e-10)
    old = ember.svd(ember.from_numpy(a))
    told = torch.svd(torch.from_numpy(a))
    assert_same(old.S, told.S)
    np.testing.assert_allclose(np.abs(old.V.numpy()), np.abs(told.V.numpy()), atol=1e-10)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr(shape, mode):
    a = rnd(*shape, seed=41)
    e = ember.linalg.qr(ember.from_numpy(a), mode=mode)
    t = torch.linalg.qr(torch.from_numpy(a), mode=mode)
    assert type(e).__name__ == "linalg_qr"
    for x, y in zip(e, t):
        assert tuple(x.shape) == tuple(y.shape) and x.dtype == ember.float64
    np.testing.assert_allclose(np.abs(e.R.numpy()), np.abs(t.R.numpy()), atol=1e-10)
    if mode != "r":
        np.testing.assert_allclose((e.Q @ e.R).numpy(), a, atol=1e-12)
        np.testing.assert_allclose(np.abs(e.Q.numpy()), np.abs(t.Q.numpy()), atol=1e-10)


# ---- randomized low-rank SVD / PCA: the random basis differs from torch's, the factors of a low-rank input do not ----
def _low_rank_factors(batch, m, n, k, complex_=False, seed=50):
    a, b = rnd(*batch, m, k, seed=seed), rnd(*batch, n, k, seed=seed + 1)
    if complex_:
        a, b = a + 1j * rnd(*batch, m, k, seed=seed + 2), b + 1j * rnd(*batch, n, k, seed=seed + 3)
    return a, b


def _top_part(t, r, k):
    """S and U V^H over the top k singular triplets (free of the vectors' phases), complex parts as real pairs."""
    U, S, V = r
    uv = U[..., :k] @ V[..., :k].mH
    return S[..., :k], t.view_as_real(uv) if uv.is_complex() else uv


LOWRANK_SHAPES = [((), 6, 4, 2), ((), 3, 5, 2), ((2,), 5, 5, 3), ((), 4, 4, 4)]


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("batch,m,n,k", LOWRANK_SHAPES)
def test_svd_lowrank_exact_on_low_rank(batch, m, n, k, complex_):
    """A = a b^H of rank k and q >= k: the factors are A's own (and so are their gradients), as in torch."""
    a, b = _low_rank_factors(batch, m, n, k, complex_)
    check(lambda t, x, y: _top_part(t, t.svd_lowrank(x @ y.mH, q=k), k), [a, b], dtypes=["float64"],
          grad_inputs=[0, 1], tol=dict(rtol=1e-8, atol=1e-9))
    q = min(m, n)
    check(lambda t, x, y: _top_part(t, t.svd_lowrank(x @ y.mH, q=q, niter=1), k), [a, b], dtypes=["float64"],
          grad=False, tol=dict(rtol=1e-8, atol=1e-9))


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("batch,m,n,k", LOWRANK_SHAPES[:3])
def test_pca_lowrank_exact_on_low_rank(batch, m, n, k, center):
    """Centering keeps a rank-k matrix rank k; the default q = min(6, m, n) covers it."""
    a, b = _low_rank_factors(batch, m, n, k)
    check(lambda t, x, y: _top_part(t, t.pca_lowrank(x @ y.mT, q=k, center=center), k), [a, b],
          dtypes=["float64"], grad_inputs=[0, 1], tol=dict(rtol=1e-8, atol=1e-9))
    check(lambda t, x, y: _top_part(t, t.pca_lowrank(x @ y.mT, center=center), k), [a, b], dtypes=["float64"],
          grad=False, tol=dict(rtol=1e-8, atol=1e-9))


def test_svd_lowrank_with_mean():
    """M is subtracted (broadcast): A - M of rank q is recovered exactly."""
    a, b = _low_rank_factors((), 6, 5, 2)
    low = a @ b.T
    mean = rnd(1, 5, seed=60)
    check(lambda t, x, mu: _top_part(t, t.svd_lowrank(x + mu, q=2, M=mu), 2), [low, mean], dtypes=["float64"],
          tol=dict(rtol=1e-8, atol=1e-9))


@pytest.mark.parametrize("complex_", [False, True])
def test_svd_lowrank_factors(complex_):
    """On a full-rank input: orthonormal U (m x q) and V (n x q), nonnegative S in decreasing order, dtype kept;
    reproducible under manual_seed."""
    a = rnd(7, 5) + (1j * rnd(7, 5, seed=1) if complex_ else 0)
    x = ember.from_numpy(a)
    ember.manual_seed(3)
    U, S, V = ember.svd_lowrank(x, q=3)
    assert tuple(U.shape) == (7, 3) and tuple(S.shape) == (3,) and tuple(V.shape) == (5, 3)
    assert U.dtype == x.dtype and V.dtype == x.dtype and S.dtype == ember.float64
    np.testing.assert_allclose((U.mH @ U).numpy(), np.eye(3), atol=1e-12)
    np.testing.assert_allclose((V.mH @ V).numpy(), np.eye(3), atol=1e-12)
    s = S.numpy()
    assert (s >= 0).all() and (np.diff(s) <= 0).all() and (s <= np.linalg.svd(a, compute_uv=False)[0] + 1e-12).all()
    ember.manual_seed(3)
    assert np.array_equal(ember.svd_lowrank(x, q=3)[1].numpy(), s)


@pytest.mark.parametrize("fn,match", [
    (lambda t: t.pca_lowrank(t.ones(4, 3), q=4), r"q\(=4\) must be non-negative integer and not greater than "
                                                 r"min\(m, n\)=3"),
    (lambda t: t.pca_lowrank(t.ones(4, 3), q=-1), r"q\(=-1\) must be non-negative"),
    (lambda t: t.pca_lowrank(t.ones(4, 3), niter=-1), r"niter\(=-1\) must be non-negative integer"),
])
def test_pca_lowrank_errors(fn, match):
    check_raises(fn, ValueError, match)


def test_deprecated_forms_warn():
    a = rnd(4, 3, seed=42)
    with pytest.warns(UserWarning, match="torch.qr is deprecated in favor of torch.linalg.qr"):
        q, r = ember.qr(ember.from_numpy(a), some=False)
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        tq, tr = torch.qr(torch.from_numpy(a), some=False)
    assert tuple(q.shape) == tuple(tq.shape) == (4, 4) and tuple(r.shape) == tuple(tr.shape)
    np.testing.assert_allclose(np.abs(r.numpy()), np.abs(tr.numpy()), atol=1e-10)
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        check(lambda t, x, y, z: t.chain_matmul(x, y, z), [A23, B34, rnd(4, 2, seed=37)], dtypes=F)


def test_eigh_values_and_vectors():
    for dt in F:
        a = SB.astype(dt)
        e, t = ember.linalg.eigh(ember.from_numpy(a)), torch.linalg.eigh(torch.from_numpy(a))
        assert type(e).__name__ == "linalg_eigh" and e._fields == ("eigenvalues", "eigenvectors")
        tol = dict(rtol=1e-10, atol=1e-10) if dt == "float64" else dict(rtol=1e-4, atol=1e-5)
        assert_same(e.eigenvalues, t.eigenvalues, tol)
        assert_same(e.eigenvectors.abs(), t.eigenvectors.abs(), tol)
        rec = (e.eigenvectors * e.eigenvalues.unsqueeze(-2)) @ e.eigenvectors.transpose(-1, -2)
        np.testing.assert_allclose(rec.numpy(), a, **tol)


LOW_RANK = np.outer(rnd(3), rnd(4, seed=1))


@pytest.mark.parametrize("fn,a,grad", [
    (lambda t, a: t.linalg.pinv(a), MB, True),
    (lambda t, a: t.linalg.pinv(a), LOW_RANK, True),
    (lambda t, a: t.linalg.pinv(a.transpose(-1, -2)), MB, True),
    (lambda t, a: t.linalg.pinv(a, rtol=0.5), MB, True),
    (lambda t, a: t.pinverse(a), MB, True),
    (lambda t, a: t.linalg.matrix_rank(a), MB, False),
    (lambda t, a: t.linalg.matrix_rank(a), LOW_RANK, False),
    (lambda t, a: t.linalg.matrix_rank(a, atol=1.0, rtol=0.0), MB, False),
    # hermitian: eigh of the lower triangle, |eigenvalues| against the cut-off (a non-symmetric input shows it)
    (lambda t, a: t.linalg.pinv(a, hermitian=True), W3, True),
    (lambda t, a: t.linalg.pinv(a, hermitian=True), S3 - 4 * np.eye(3), True),
    (lambda t, a: t.linalg.pinv(a, hermitian=True, rtol=0.3), S3 - 4 * np.eye(3), True),
    (lambda t, a: t.linalg.pinv(a, 0.3, True), S3 - 4 * np.eye(3), True),
    (lambda t, a: t.linalg.matrix_rank(a, hermitian=True), np.array([[1.0, 5.0], [1.0, 1.0]]), False),
    (lambda t, a: t.linalg.matrix_rank(a, hermitian=True, atol=2.0), S3 - 4 * np.eye(3), False),
    (lambda t, a: t.linalg.matrix_rank(a, 1.0, True), S3 - 4 * np.eye(3), False),
    (lambda t, a: t.linalg.matrix_rank(a, 1.0), MB, False),
    # tolerances as tensors, one per matrix of the batch
    (lambda t, a: t.linalg.matrix_rank(a, rtol=t.tensor([0.0, 0.9])), MB, False),
    (lambda t, a: t.linalg.matrix_rank(a, atol=t.tensor([0.0, 2.0])), MB, False),
    (lambda t, a: t.linalg.pinv(a, atol=t.tensor([[0.0], [1.5]]), rtol=t.tensor([0.0, 0.1])), MB, True),
    # empty inputs: rank 0, an empty pseudo-inverse
    (lambda t, a: t.linalg.matrix_rank(a), np.zeros((3, 0, 4)), False),
    (lambda t, a: t.linalg.matrix_rank(a, rtol=t.zeros(0)), np.zeros((0, 5, 5)), False),
    (lambda t, a: t.linalg.matrix_rank(a, atol=t.ones(2), rtol=t.ones(2)), np.zeros((2, 0, 0)), False),
    (lambda t, a: t.linalg.pinv(a), np.zeros((3, 0, 4)), True),
    (lambda t, a: t.linalg.pinv(a, hermitian=True), np.zeros((2, 0, 0)), True),
])
def test_pinv_and_rank(fn, a, grad):
    for dt in F:
        tol = None if dt == "float64" else dict(rtol=1e-4, atol=1e-5)
        check(fn, [a.astype(dt)], grad=grad, tol=tol)


def test_singular_and_not_pd_raise_linalg_error():
    sing = np.array([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])
    cases = [
        (lambda t: t.linalg.inv(t.from_numpy(sing.copy())),
         r"linalg.inv: The diagonal element 3 is zero, the inversion could not be completed because the input "
         r"matrix is singular."),
        (lambda t: t.linalg.inv(t.tensor([[0.0, 0], [0, 1]])), "The diagonal element 1 is zero"),
        (lambda t: t.linalg.inv(t.stack([t.eye(3, dtype=t.float64), t.from_numpy(sing.copy())])),
         r"linalg.inv: \(Batch element 1\): The diagonal element 3 is zero"),
        (lambda t: t.linalg.solve(t.from_numpy(sing.copy()), t.ones(3, dtype=t.float64)),
         "torch.linalg.solve: The solver failed because the input matrix is singular."),
        (lambda t: t.linalg.cholesky(t.tensor([[1.0, 2], [2, 1]])),
         r"linalg.cholesky: The factorization could not be completed because the input is not positive-definite "
         r"\(the leading minor of order 2 is not positive-definite\)."),
        (lambda t: t.linalg.cholesky(t.tensor([[[1.0, 0], [0, 1]], [[-1.0, 0], [0, 1]]])),
         r"\(Batch element 1\): .*leading minor of order 1"),
    ]
    for fn, match in cases:
        with pytest.raises(torch.linalg.LinAlgError):
            fn(torch)
        with pytest.raises(ember.linalg.LinAlgError, match=match):
            fn(ember)
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


LINALG_ERRORS = [
    ("inv-square", lambda t: t.linalg.inv(z(t, 2, 3)),
     "linalg.inv: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("inv-1d", lambda t: t.linalg.inv(z(t, 3)), "linalg.inv: The input tensor A must have at least 2 dimensions."),
    ("inv-int", lambda t: t.linalg.inv(z(t, 2, 2, dtype="int64")),
     "linalg.inv: Expected a floating point or complex tensor as input. Got Long"),
    ("det-square", lambda t: t.linalg.det(z(t, 2, 3)), "linalg.det: A must be batches of square matrices"),
    ("slogdet-1d", lambda t: t.linalg.slogdet(z(t, 3)), "linalg.slogdet: The input tensor A must have at least 2"),
    ("cholesky-square", lambda t: t.linalg.cholesky(z(t, 2, 3)), "linalg.cholesky: A must be batches of square"),
    ("eigh-square", lambda t: t.linalg.eigh(z(t, 2, 3)), "linalg.eigh: A must be batches of square matrices"),
    ("svd-1d", lambda t: t.linalg.svd(z(t, 3)), "linalg.svd: The input tensor A must have at least 2 dimensions."),
    ("svd-int", lambda t: t.linalg.svd(z(t, 2, 2, dtype="int64")), "linalg.svd: Expected a floating point"),
    ("qr-1d", lambda t: t.linalg.qr(z(t, 3)), "linalg.qr: The input tensor A must have at least 2 dimensions."),
    ("pinv-1d", lambda t: t.linalg.pinv(z(t, 3)),
     r"linalg.pinv\(Float\{\[3\]\}\): expected a tensor with 2 or more dimensions of float, double, cfloat or "
     "cdouble types"),
    ("rank-1d", lambda t: t.linalg.matrix_rank(z(t, 3)),
     "torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions."),
    ("rank-complex-atol", lambda t: t.linalg.matrix_rank(z(t, 3, 3), atol=t.tensor(1j)),
     "torch.linalg.matrix_rank: atol tensor of complex type is not supported. Got ComplexFloat"),
    ("pinv-complex-rtol", lambda t: t.linalg.pinv(z(t, 3, 3), rtol=t.tensor(1j)),
     "torch.linalg.pinv: rtol tensor of complex type is not supported. Got ComplexFloat"),
    ("power-square", lambda t: t.linalg.matrix_power(z(t, 2, 3), 2),
     "linalg.matrix_power: A must be batches of square"),
    ("solve-shapes", lambda t: t.linalg.solve(t.eye(2), z(t, 3)),
     r"linalg.solve: Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"),
    ("solve-shapes-mat", lambda t: t.linalg.solve(t.eye(2), z(t, 3, 2)), r"AX = B \(2x2 and 3x2\)"),
    ("solve-left-false", lambda t: t.linalg.solve(t.eye(2), z(t, 2), left=False), r"XA = B \(2x2 and 2x1\)"),
    ("solve-dtype", lambda t: t.linalg.solve(t.eye(2), z(t, 2, dtype="float64")),
     "linalg.solve: Expected A and B to have the same dtype, but found A of type Float and B of type Double instead"),
    ("solve-batch", lambda t: t.linalg.solve(t.eye(2).expand(3, 2, 2), z(t, 4, 2, 1)),
     r"The size of tensor a \(4\) must match the size of tensor b \(3\) at non-singleton dimension 0"),
    ("multi-dot-one", lambda t: t.linalg.multi_dot([z(t, 2, 2)]),
     "multi_dot\\(\\): expected at least 2 tensors but got 1"),
    ("vecdot-dtype", lambda t: t.linalg.vecdot(z(t, 3), z(t, 3, dtype="float64")),
     "linalg.vecdot: Expected x and y to have the same dtype, but found x of type Float and y of type Double instead."),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in LINALG_ERRORS], ids=[c[0] for c in LINALG_ERRORS])
def test_linalg_errors(fn, match):
    check_raises(fn, match=match)


# ---- complex inputs: PyTorch's conjugate-transpose formulas -------------------------------------------------------
def _c(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


_CA, _CB = _c(3, 3), _c(3, 2, seed=1)
_CH = _CA @ _CA.conj().T + 3 * np.eye(3)
COMPLEX_GRADS = [
    ("solve", lambda t, a, b: t.linalg.solve(a, b), [_CA, _CB]),
    ("inv", lambda t, a: t.linalg.inv(a), [_CA]),
    ("det", lambda t, a: t.linalg.det(a), [_CA]),
    ("slogdet", lambda t, a: t.linalg.slogdet(a), [_CA]),
    ("logdet", lambda t, a: t.logdet(a), [_CH]),
    ("cholesky", lambda t, a: t.linalg.cholesky(a), [_CH]),
    ("cholesky_upper", lambda t, a: t.linalg.cholesky(a, upper=True), [_CH]),
    ("eigvalsh", lambda t, a: t.linalg.eigvalsh(a), [_CH]),
    ("pinv", lambda t, a: t.linalg.pinv(a), [_c(3, 4)]),
    ("qr", lambda t, a: t.linalg.qr(a), [_c(4, 3)]),
    ("qr_wide", lambda t, a: t.linalg.qr(a), [_c(2, 4)]),
    ("solve_triangular", lambda t, a, b: t.linalg.solve_triangular(a.triu(), b, upper=True), [_CA, _CB]),
    ("cholesky_solve", lambda t, a, b: t.cholesky_solve(b, t.linalg.cholesky(a)), [_CH, _CB]),
    ("cholesky_inverse", lambda t, a: t.cholesky_inverse(t.linalg.cholesky(a)), [_CH]),
    ("matrix_power_neg", lambda t, a: t.linalg.matrix_power(a, -2), [_CA]),
    ("cross", lambda t, a, b: t.linalg.cross(a, b), [_CA, _c(3, 3, seed=2)]),
    ("einsum", lambda t, a, b: t.einsum("ij,jk->ik", a, b), [_CA, _CB]),
    ("addmm", lambda t, i, a, b: t.addmm(i, a, b, beta=1 + 2j, alpha=2 - 3j), [_c(3, 2, seed=3), _CA, _CB]),
    ("addmv", lambda t, i, a, b: t.addmv(i, a, b[:, 0], beta=0.5j, alpha=2 + 1j), [_c(3, seed=3), _CA, _CB]),
    ("addbmm", lambda t, i, a, b: t.addbmm(i, a.expand(2, 3, 3), b.expand(2, 3, 2), beta=1j, alpha=1 - 1j),
     [_c(1, 2, seed=3), _CA, _CB]),
    ("baddbmm", lambda t, i, a, b: t.baddbmm(i, a.expand(2, 3, 3), b.expand(2, 3, 2), beta=2 + 1j, alpha=3j),
     [_c(3, 2, seed=3), _CA, _CB]),
    ("addr", lambda t, i, a, b: t.addr(i, a, b, beta=1 - 2j, alpha=0.5 + 1j), [_CA, _CA[0], _CB[:, 0]]),
    # torch.svd's V is Vh's conjugate transpose: u_ik conj(v_jk) is free of the singular vectors' phases
    ("svd_V", lambda t, a: (lambda r: t.einsum("ik,jk->ijk", r.U, r.V.conj()))(t.svd(a)), [_c(4, 3)]),
    ("svd_V_full", lambda t, a: (lambda r: t.einsum("ik,jk->ijk", r.U, r.V[:, :3].conj()))(t.svd(a, some=False)),
     [_c(3, 4)]),
]


def _real_view(t, out):
    """Complex outputs seen as real pairs, so that check() compares the gradients flowing through them too."""
    if isinstance(out, (tuple, list)):
        return tuple(_real_view(t, o) for o in out)
    return t.view_as_real(out) if out.is_complex() else out


@pytest.mark.parametrize("fn,inputs", [c[1:] for c in COMPLEX_GRADS], ids=[c[0] for c in COMPLEX_GRADS])
def test_complex_gradients(fn, inputs):
    check(lambda t, *xs: _real_view(t, fn(t, *xs)), inputs, grad_inputs=range(len(inputs)))


@pytest.mark.parametrize("shape,mode", [((5, 3), "reduced"), ((3, 3), "complete"), ((3, 5), "reduced"),
                                        ((2, 4, 3), "reduced"), ((3, 5), "complete")])
def test_qr_gradients(shape, mode):
    check(lambda t, a: t.linalg.qr(a, mode), [r(*shape)], dtypes=("float64",))
    check(lambda t, a: t.linalg.qr(a, mode).R, [r(*shape, seed=1)], dtypes=("float64",))


def test_complex_svd_phase_dependent_loss_raises():
    """A loss that sees the phases of complex singular vectors has no gradient: PyTorch's svd_backward refuses it."""
    def fn(t):
        u = t.linalg.svd(t.tensor(_c(3, 3), requires_grad=True)).U
        u.real.sum().backward()
    check_raises(fn, RuntimeError, "specified up to multiplication by e\\^\\{i phi\\}")


def test_qr_not_differentiable_cases():
    for mode, shape in (("r", (3, 3)), ("complete", (4, 2))):
        for lib in (ember, torch):
            a = lib.tensor(r(*shape), requires_grad=True)
            with pytest.raises(RuntimeError, match="QR|qr"):
                lib.linalg.qr(a, mode)[1].sum().backward()


@pytest.mark.parametrize("a", [[[4.0, 1.0], [1.0, np.nan]], [[np.nan, 0.0], [0.0, 1.0]]])
def test_cholesky_of_nan_fails_as_lapack(a):
    """NumPy's Cholesky lets NaN through; LAPACK's potrf (torch) stops there and reports the minor."""
    check_raises(lambda t: t.linalg.cholesky(t.tensor(a)), RuntimeError, "leading minor of order")
    check(lambda t: t.linalg.cholesky_ex(t.tensor(a)), [], grad=False)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 4, 3), (3, 3)])
@pytest.mark.parametrize("complex_", [False, True])
def test_geqrf_orgqr_ormqr(shape, complex_):
    a = r(*shape) + (1j * r(*shape, seed=1) if complex_ else 0)
    other = r(*shape[:-2], shape[-2], 2, seed=2).astype(a.dtype)
    check(lambda t, x: t.geqrf(x), [a], grad=False)

    def products(t, h, tau, o):
        q = (t.orgqr(h, tau),) if shape[-2] >= shape[-1] else ()  # orgqr needs a tall input, as in torch
        return q + (t.ormqr(h, tau, o), h.ormqr(tau, o, transpose=True), t.ormqr(h, tau, o.mT, left=False))
    h, tau = np.linalg.qr(a, mode="raw")
    check(products, [np.ascontiguousarray(np.swapaxes(h, -1, -2)), np.asarray(tau), other],
          grad_inputs=[0, 1] if not complex_ else [], grad=not complex_)


def test_geqrf_errors_and_no_derivative():
    check_raises(lambda t: t.geqrf(t.ones(3)), RuntimeError, "at least 2 dimensions")
    check_raises(lambda t: t.geqrf(t.ones(2, 2, dtype=t.int64)), NotImplementedError, "geqrf_cpu")
    check_raises(lambda t: t.ormqr(*t.geqrf(t.eye(3)), t.eye(2)), RuntimeError, "must be equal to input.shape")
    for lib in (ember, torch):
        a, tau = lib.geqrf(lib.tensor(r(3, 3), requires_grad=True))
        assert type(a.grad_fn).__name__ == "GeqrfBackward0"
        with pytest.raises(NotImplementedError, match="derivative for 'geqrf' is not implemented"):
            a.sum().backward()
