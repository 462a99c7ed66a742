"""ember.special against torch.special: values, dtypes, gradients (random upstream), double backward, errors."""
import numpy as np
import pytest
import torch
from hypothesis import example, given, settings, strategies as st

import ember
from parity import check, check_raises

F = ("float64", "float32")


def uni(lo, hi, *shape, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


X = uni(-3, 3, 4, 5)                       # general real arguments
P = uni(0.02, 0.98, 4, 5, seed=1)          # probabilities
POS = uni(0.2, 6, 4, 5, seed=2)            # positive arguments
WIDE = np.array([-30.0, -12.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 0.7, 2.0, 8.0, 25.0])
EMPTY = np.zeros((0, 3))
ZERO_D = np.array(0.4)

# torch's trigamma (the gradient of digamma) is only accurate to ~5e-10 relative; ember's matches mpmath to 1e-15.
LOOSE64 = dict(rtol=1e-8, atol=1e-12)


def case(name, fn, *inputs, **kw):
    kw.setdefault("dtypes", F)
    return pytest.param(fn, inputs, kw, id=name)


S = lambda t: t.special  # noqa: E731
CASES = [
    case("erf", lambda t, x: S(t).erf(x), X),
    case("erf-wide", lambda t, x: S(t).erf(x), WIDE),
    case("erfc", lambda t, x: S(t).erfc(x), X),
    case("erfc-wide", lambda t, x: S(t).erfc(x), WIDE, dtypes=["float64"]),
    case("erfinv", lambda t, x: S(t).erfinv(x), P * 2 - 1),
    case("erfinv-ends", lambda t, x: S(t).erfinv(x), np.array([-1.0, -0.999999, 0.0, 0.999999, 1.0]), grad=False),
    case("erfcx", lambda t, x: S(t).erfcx(x), X),
    case("erfcx-wide", lambda t, x: S(t).erfcx(x), WIDE[1:], dtypes=["float64"]),
    case("expit", lambda t, x: S(t).expit(x), X),
    case("expit-wide", lambda t, x: S(t).expit(x), WIDE),
    case("logit", lambda t, x: S(t).logit(x), P),
    case("logit-eps", lambda t, x: S(t).logit(x, eps=0.1), P),
    case("logit-eps-outside", lambda t, x: S(t).logit(x, 1e-3), np.array([-0.5, 0.0, 0.5, 1.0, 1.5]), grad=False),
    case("xlogy", lambda t, x, y: S(t).xlogy(x, y), X, POS),
    case("xlogy-zero-x", lambda t, x, y: S(t).xlogy(x, y), np.array([0.0, 0.0, 1.0, 2.0]),
         np.array([0.0, np.nan, 3.0, 0.5]), grad=False),
    case("xlogy-bcast", lambda t, x, y: S(t).xlogy(x, y), X[:1], POS[:, :1]),
    case("xlogy-scalar-x", lambda t, y: S(t).xlogy(2.0, y), POS),
    case("xlogy-scalar-y", lambda t, x: S(t).xlogy(x, 3.0), X),
    case("xlog1py", lambda t, x, y: S(t).xlog1py(x, y), X, POS),
    case("xlog1py-zero-x", lambda t, x, y: S(t).xlog1py(x, y), np.array([0.0, 0.0, 0.0, 1.0]),
         np.array([np.nan, -1.0, 2.0, 2.0]), grad=False),
    case("xlog1py-bcast", lambda t, x, y: S(t).xlog1py(x, y), X[:, :1], POS[:1]),
    case("xlog1py-scalar-x", lambda t, y: S(t).xlog1py(2, y), POS),
    case("xlog1py-scalar-y", lambda t, x: S(t).xlog1py(x, 3), X),
    case("i0", lambda t, x: S(t).i0(x), X),
    case("i0-wide", lambda t, x: S(t).i0(x), WIDE),
    case("i0e", lambda t, x: S(t).i0e(x), X),
    case("i0e-wide", lambda t, x: S(t).i0e(x), WIDE),
    case("i1", lambda t, x: S(t).i1(x), X),
    case("i1-wide", lambda t, x: S(t).i1(x), WIDE),
    case("i1e", lambda t, x: S(t).i1e(x), X),
    case("i1e-wide", lambda t, x: S(t).i1e(x), WIDE),
    case("ndtr", lambda t, x: S(t).ndtr(x), X),
    case("ndtr-wide", lambda t, x: S(t).ndtr(x), WIDE),
    case("ndtri", lambda t, x: S(t).ndtri(x), P),
    case("ndtri-tails", lambda t, x: S(t).ndtri(x), np.array([1e-300, 1e-20, 1e-5, 0.5, 1 - 1e-12]),
         dtypes=["float64"]),
    case("ndtri-ends", lambda t, x: S(t).ndtri(x), np.array([0.0, 1.0, -0.5, 1.5]), grad=False),
    case("log_ndtr", lambda t, x: S(t).log_ndtr(x), X),
    case("log_ndtr-wide", lambda t, x: S(t).log_ndtr(x), WIDE),
    case("digamma", lambda t, x: S(t).digamma(x), POS, dtypes=["float32"]),
    case("digamma-64", lambda t, x: S(t).digamma(x), POS, dtypes=["float64"], tol=LOOSE64),
    case("digamma-neg", lambda t, x: S(t).digamma(x), np.array([-2.5, -0.5, 0.3, 1.0]), grad=False),
    case("psi", lambda t, x: S(t).psi(x), POS, dtypes=["float64"], tol=LOOSE64),
    case("gammaln", lambda t, x: S(t).gammaln(x), POS),
    case("gammaln-neg", lambda t, x: S(t).gammaln(x), np.array([-2.5, -0.5, 0.3, 15.0])),
    case("polygamma-0", lambda t, x: S(t).polygamma(0, x), POS, dtypes=["float64"], tol=LOOSE64),
    case("polygamma-1", lambda t, x: S(t).polygamma(1, x), POS, dtypes=["float64"], tol=LOOSE64),
    case("polygamma-2", lambda t, x: S(t).polygamma(2, x), POS, dtypes=["float64"], tol=LOOSE64),
    case("polygamma-3", lambda t, x: S(t).polygamma(3, x), POS, dtypes=["float64"], tol=LOOSE64),
    case("polygamma-f32", lambda t, x: S(t).polygamma(2, x), POS, dtypes=["float32"]),
    case("multigammaln-1", lambda t, x: S(t).multigammaln(x, 1), POS),
    case("multigammaln-3", lambda t, x: S(t).multigammaln(x, 3), POS + 1),
    case("multigammaln-pole", lambda t, x: S(t).multigammaln(x, 3), np.array([0.5, 1.0, 2.0]), grad=False),
    case("entr", lambda t, x: S(t).entr(x), POS),
    case("entr-edges", lambda t, x: S(t).entr(x), np.array([-1.0, 0.0, 0.5, 1.0])),
    case("sinc", lambda t, x: S(t).sinc(x), X),
    case("sinc-integers", lambda t, x: S(t).sinc(x), np.array([-2.0, -1.0, 0.0, 1.0, 3.0]), grad=False),
    case("softmax", lambda t, x: S(t).softmax(x, 1), X),
    case("softmax-dim0", lambda t, x: S(t).softmax(x, 0), X),
    case("softmax-dtype", lambda t, x: S(t).softmax(x, -1, dtype=t.float64), X.astype(np.float32), dtypes=None),
    case("log_softmax", lambda t, x: S(t).log_softmax(x, 1), X),
    case("log_softmax-dtype", lambda t, x: S(t).log_softmax(x, 0, dtype=t.float64), X.astype(np.float32),
         dtypes=None),
    case("logsumexp", lambda t, x: S(t).logsumexp(x, 1), X),
    case("logsumexp-keepdim", lambda t, x: S(t).logsumexp(x, (0, 1), keepdim=True), X),
    case("round", lambda t, x: S(t).round(x * 10), X),
    case("round-decimals", lambda t, x: S(t).round(x, decimals=2), X),
    case("expm1", lambda t, x: S(t).expm1(x), X),
    case("exp2", lambda t, x: S(t).exp2(x), X),
    case("log1p", lambda t, x: S(t).log1p(x), POS),
    case("zeta", lambda t, x, q: S(t).zeta(x, q), POS + 1.5, POS, grad_inputs=[1]),
    case("zeta-scalar-x", lambda t, q: S(t).zeta(2.0, q), POS),
    case("zeta-scalar-q", lambda t, x: S(t).zeta(x, 1.5), POS + 1.5, grad=False),
    case("zeta-bcast", lambda t, x, q: S(t).zeta(x, q), POS[:1] + 1.5, POS[:, :1], grad_inputs=[1]),
]


@pytest.mark.parametrize("fn,inputs,kw", CASES)
def test_special(fn, inputs, kw):
    check(fn, list(inputs), **kw)


UNARY = ["erf", "erfc", "erfinv", "erfcx", "expit", "logit", "i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr",
         "digamma", "psi", "gammaln", "entr", "sinc", "expm1", "exp2", "log1p"]


def _domain(name, *shape):
    if name in ("erfinv",):
        return uni(-0.9, 0.9, *shape)
    if name in ("logit", "ndtri"):
        return uni(0.05, 0.95, *shape)
    if name in ("digamma", "psi", "gammaln", "entr", "log1p"):
        return uni(0.3, 4, *shape)
    return uni(-2, 2, *shape)


@pytest.mark.parametrize("name", UNARY)
def test_unary_shapes_and_layouts(name):
    """0-d, empty and non-contiguous inputs keep shape, dtype and gradients."""
    f = lambda t, x: getattr(t.special, name)(x)  # noqa: E731
    g = lambda t, x: getattr(t.special, name)(x.t()[::2])  # noqa: E731
    for dt in F:
        tol = LOOSE64 if name in ("digamma", "psi") and dt == "float64" else None
        check(f, [np.asarray(_domain(name))], dtypes=[dt], tol=tol)
        check(f, [EMPTY], dtypes=[dt])
        check(g, [_domain(name, 3, 4)], dtypes=[dt], tol=tol)


@pytest.mark.parametrize("name", ["erf", "erfc", "expit", "i0", "i0e", "i1", "i1e", "ndtr", "log_ndtr", "sinc",
                                  "gammaln", "digamma", "entr", "expm1", "exp2", "erfcx"])
def test_integer_input_gives_float32(name):
    check(lambda t, x: getattr(t.special, name)(x), [np.array([1, 2, 3])], grad=False)


def test_integer_polygamma_multigammaln():
    check(lambda t, x: t.special.polygamma(1, x), [np.array([1, 2, 3])], grad=False)
    check(lambda t, x: t.special.multigammaln(x, 2), [np.array([1, 2, 3])], grad=False)
    check(lambda t, x, y: t.special.xlog1py(x, y), [np.array([0, 1, 2]), np.array([1, 2, 3])], grad=False)


def check_double_backward(fn, x, tol=dict(rtol=1e-8, atol=1e-10)):
    """Second derivative through d/dx <grad f(x), v>, ember against torch, in float64."""
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal(x.shape), rng.standard_normal(x.shape)
    res = []
    for lib in (torch, ember):
        t = lib.from_numpy(x.copy()).requires_grad_(True)
        (g,) = lib.autograd.grad(fn(lib, t), t, lib.from_numpy(u.copy()), create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.from_numpy(v.copy())).sum(), t)
        res.append((g.detach().numpy(), gg.detach().numpy()))
    for e, t in zip(res[1], res[0]):
        np.testing.assert_allclose(e, t, **tol)


@pytest.mark.parametrize("fn,x", [
    (lambda t, x: t.special.i0e(x), uni(-3, 3, 6)),
    (lambda t, x: t.special.i1(x), uni(-3, 3, 6)),
    (lambda t, x: t.special.i1e(x), uni(-3, 3, 6)),
    (lambda t, x: t.special.ndtr(x), uni(-3, 3, 6)),
    (lambda t, x: t.special.ndtri(x), uni(0.05, 0.95, 6)),
    (lambda t, x: t.special.log_ndtr(x), uni(-3, 3, 6)),
    (lambda t, x: t.special.entr(x), uni(0.2, 3, 6)),
    (lambda t, x: t.special.erfcx(x), uni(-3, 3, 6)),
    (lambda t, x: t.special.polygamma(1, x), uni(0.5, 4, 6)),
    (lambda t, x: t.special.multigammaln(x, 2), uni(1.5, 4, 6)),
    (lambda t, x: t.special.xlog1py(x, x * x), uni(-0.9, 3, 6)),
    (lambda t, x: t.special.zeta(3.0, x), uni(0.5, 3, 6)),
    (lambda t, x: t.special.softmax(x, 0), uni(-3, 3, 6)),
])
def test_double_backward(fn, x):
    check_double_backward(fn, x, tol=dict(rtol=1e-7, atol=1e-10))


def test_i1_gradient_at_zero():
    check(lambda t, x: (t.special.i1(x), t.special.i1e(x), t.special.i0e(x)), [np.array([0.0, 1.0, -1.0])],
          dtypes=F)


@given(st.lists(st.floats(-20, 20, allow_nan=False), min_size=1, max_size=8))
@settings(max_examples=25, deadline=None)
@example([2.2250738585e-313, -0.0, 0.0])
def test_hypothesis_bessel_and_normal(xs):
    x = np.array(xs)
    for name in ("i0e", "i1e", "log_ndtr", "erfcx", "expit"):
        check(lambda t, a: getattr(t.special, name)(a), [x], dtypes=["float64"], tol=dict(rtol=1e-9, atol=1e-300))
    # torch evaluates ndtr as (1 + erf(x/sqrt2)) / 2, which cancels in the lower tail: compare absolutely there
    check(lambda t, a: t.special.ndtr(a), [x], dtypes=["float64"], tol=dict(rtol=1e-9, atol=1e-15))


def test_ndtr_lower_tail_is_accurate():
    """Where torch's ndtr loses all relative accuracy (x < -7), ember keeps it (oracle: mpmath)."""
    import mpmath
    x = np.array([-7.0, -10.0, -20.0, -37.0])
    want = np.array([float(mpmath.ncdf(v)) for v in x])
    got = ember.special.ndtr(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(np.exp(ember.special.log_ndtr(ember.from_numpy(x)).numpy()), want, rtol=1e-12)


ERRORS = [
    ("xlog1py-numbers", lambda t: t.special.xlog1py(2, 3), "special_xlog1py\\(\\) received an invalid combination"),
    ("zeta-numbers", lambda t: t.special.zeta(2, 3.0), "special_zeta\\(\\) received an invalid combination"),
    ("polygamma-neg", lambda t: t.special.polygamma(-1, t.ones(2)), "polygamma\\(n, x\\) does not support negative n."),
    ("multigammaln-p", lambda t: t.special.multigammaln(t.ones(2) * 3, 0), "p has to be greater than or equal to 1"),
    ("erf-not-tensor", lambda t: t.special.erf([1.0]), None),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors(fn, match):
    check_raises(fn, match=match)


def test_zeta_not_differentiable_in_x():
    def run(lib):
        x = lib.tensor([2.0, 3.0], requires_grad=True)
        lib.special.zeta(x, lib.tensor([1.0, 2.0])).sum().backward()
    check_raises(run, match="the derivative for 'zeta' is not implemented")


def test_grad_fn_names():
    for name, fn in [("SpecialI1Backward0", lambda t, x: t.special.i1(x)),
                     ("SpecialI0EBackward0", lambda t, x: t.special.i0e(x)),
                     ("SpecialNdtriBackward0", lambda t, x: t.special.ndtri(x)),
                     ("SpecialEntrBackward0", lambda t, x: t.special.entr(x)),
                     ("PolygammaBackward0", lambda t, x: t.special.polygamma(2, x)),
                     ("MvlgammaBackward0", lambda t, x: t.special.multigammaln(x, 2))]:
        for lib in (torch, ember):
            assert fn(lib, lib.ones(2, requires_grad=True) * 1.5).grad_fn.name() == name


def test_every_torch_special_function_exists():
    """Values of the newer ones are compared in tests/test_special_functions.py."""
    names = [n for n in dir(torch.special) if not n.startswith("_") and callable(getattr(torch.special, n))]
    assert [n for n in names if not callable(getattr(ember.special, n, None))] == []


@pytest.mark.parametrize("fn", [
    lambda t, x: t.polygamma(1, x), lambda t, x: x.polygamma(2), lambda t, x: (x * 1).polygamma_(1),
    lambda t, x: t.mvlgamma(x.abs() + 2, 3), lambda t, x: (x.abs() + 2).mvlgamma(2),
    lambda t, x: (x.abs() + 2).mvlgamma_(2),
])
def test_top_level_polygamma_and_mvlgamma(fn):
    check(fn, [np.linspace(0.3, 4.0, 7)], dtypes=["float64"], tol=LOOSE64)  # torch's polygamma is ~1e-9 off
