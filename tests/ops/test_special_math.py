"""Accuracy tests for ember/ops/special_math.py against torch (and mpmath where torch is inaccurate).

Tolerances: rtol 1e-14 where both torch and the module are accurate to a few ulp.
Looser or mixed (absolute) tolerances are used, with the reason given next to them, only where
the function is ill-conditioned (near a zero of the function, in cancelling reflection formulas) or
where torch itself is known to be inaccurate (then mpmath at 50 digits is the reference).
"""
import math

import numpy as np
import pytest
import torch

mpmath = pytest.importorskip("mpmath")

from ember.ops import special_math as sm

RNG = np.random.default_rng(1234)
INF, NAN = np.inf, np.nan
TIGHT = 1e-14


# ----------------------------------------------------------------------------- helpers

def tref(fn, *xs, **kw):
    """Evaluate a torch function on float64 copies of numpy arrays."""
    return fn(*[torch.from_numpy(np.asarray(x, dtype=np.float64).copy()) for x in xs], **kw).numpy()


def mpref(f, *xs, dps=50):
    """Evaluate an mpmath function element by element at `dps` digits (reference only)."""
    xs = np.broadcast_arrays(*[np.asarray(x, dtype=np.float64) for x in xs])
    with mpmath.workdps(dps):
        vals = [float(f(*[mpmath.mpf(float(v)) for v in row])) for row in zip(*[x.ravel() for x in xs])]
    return np.array(vals).reshape(xs[0].shape)


def check(actual, expected, rtol, atol=0.0):
    """nan/inf pattern must match exactly; finite values within atol + rtol*|expected|."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), (
        f"nan mismatch at {np.flatnonzero(np.isnan(actual) != np.isnan(expected))[:10]}")
    inf = np.isinf(expected)
    assert np.array_equal(actual[inf], expected[inf]), f"inf mismatch: {actual[inf]} vs {expected[inf]}"
    fin = np.isfinite(expected)
    a, e = actual[fin], expected[fin]
    assert np.isfinite(a).all(), f"non-finite results where finite expected: {a[~np.isfinite(a)][:10]}"
    tol = np.broadcast_to(atol, expected.shape)[fin] + rtol * np.abs(e)
    err = np.abs(a - e)
    if (err > tol).any():
        i = np.argmax(err - tol)
        raise AssertionError(f"{(err > tol).sum()} values out of tolerance; worst: got {a[i]!r}, "
                             f"expected {e[i]!r}, rel err {err[i] / max(abs(e[i]), 1e-300):.3e}")


def sym(x):
    """x together with -x."""
    return np.concatenate([x, -x])


SPECIAL = np.array([0.0, -0.0, INF, -INF, NAN])
WIDE = np.concatenate([
    np.linspace(-30, 30, 6001), sym(np.logspace(-300, 300, 301)), RNG.uniform(-1e3, 1e3, 500), SPECIAL])


# ----------------------------------------------------------------------------- erf family

def test_erf_vs_torch():
    check(sm.erf(WIDE), tref(torch.erf, WIDE), TIGHT)


def test_erf_vs_mpmath_small_and_breakpoints():
    x = sym(np.concatenate([np.logspace(-300, 0.7, 400), [0.46875, 0.46876, 4.0, 4.000001, 5.9]]))
    check(sm.erf(x), mpref(mpmath.erf, x), TIGHT)


def test_erfc_vs_torch_including_deep_tail():
    x = np.concatenate([WIDE, np.linspace(20, 27.3, 2001)])
    expected = tref(torch.erfc, x)
    normal = np.abs(expected) >= np.finfo(np.float64).tiny
    check(sm.erfc(x[normal]), expected[normal], TIGHT)
    # subnormal results carry few significant bits: compare to within 2 subnormal ulps
    check(sm.erfc(x[~normal]), expected[~normal], 0.0, atol=1e-323)


def test_erfc_tail_values():
    x = np.array([10.0, 20.0, 26.0, 26.5, 30.0, 1e300, -30.0])
    out = sm.erfc(x)
    check(out[:4], mpref(mpmath.erfc, x[:4]), TIGHT)
    assert abs(out[0] / 2.088487583762545e-45 - 1) < 1e-14
    assert out[4] == 0.0 and out[5] == 0.0 and out[6] == 2.0


def test_erfinv_vs_torch():
    x = np.concatenate([np.linspace(-1, 1, 4001), sym(1 - np.logspace(-16, -0.3, 300)),
                        sym(np.logspace(-300, -0.3, 300)), [1.5, -1.5, 1 + 1e-15], SPECIAL])
    check(sm.erfinv(x), tref(torch.erfinv, x), TIGHT)


def test_erfinv_edges_and_roundtrip():
    out = sm.erfinv(np.array([1.0, -1.0, 1.0000001, -2.0, NAN, -0.0]))
    assert out[0] == INF and out[1] == -INF and np.isnan(out[2:5]).all()
    assert out[5] == 0 and np.signbit(out[5])
    x = 1.0 - np.logspace(-16, -1, 200)
    check(sm.erfinv(x), mpref(mpmath.erfinv, x), TIGHT)
    check(sm.erfc(sm.erfinv(x)), 1.0 - x, 1e-13)   # erfc(erfinv(x)) = 1 - x (cond. ~2y^2 ~ 60)


def test_ndtr_vs_torch_and_mpmath():
    x = np.concatenate([np.linspace(-10, 10, 4001), SPECIAL])
    # torch computes 0.5*(1+erf(x/sqrt2)): only absolutely accurate (~1e-16) in the lower tail
    check(sm.ndtr(x), tref(torch.special.ndtr, x), TIGHT, atol=2e-16)
    xs = np.linspace(-37.5, 8, 3001)
    # in the lower tail ndtr is ill-conditioned (cond ~ x^2), so allow rtol ~ x^2 * 2e-16
    check(sm.ndtr(xs), mpref(mpmath.ncdf, xs), TIGHT, atol=2e-16 * xs ** 2 * mpref(mpmath.ncdf, xs))


def test_ndtri_vs_torch():
    p = np.concatenate([np.logspace(-300, -0.31, 600), np.linspace(0, 1, 2001), 1 - np.logspace(-16, -0.31, 300),
                        [0.5, 0.5 + 1e-16, 0.5 - 1e-12, -0.1, 1.1, 1e-310], SPECIAL])
    check(sm.ndtri(p), tref(torch.special.ndtri, p), TIGHT)


def test_ndtri_vs_mpmath_and_roundtrip():
    p = np.concatenate([np.logspace(-300, -1, 100), np.linspace(0.01, 0.99, 99)])
    with mpmath.workdps(40):   # solve log(ncdf(y)) = log(p) (no cancellation for tiny p)
        ref = np.array([float(mpmath.findroot(lambda y: mpmath.log(mpmath.ncdf(y) / v), float(tref(
            torch.special.ndtri, v)))) for v in map(mpmath.mpf, p)])
    check(sm.ndtri(p), ref, TIGHT)
    out = sm.ndtri(np.array([0.0, 1.0, -0.0, 2.0]))
    assert out[0] == -INF and out[1] == INF and out[2] == -INF and np.isnan(out[3])


def test_log_ndtr_vs_torch():
    x = np.concatenate([-np.logspace(-3, 150, 600), np.linspace(-40, 40, 4001), np.logspace(-3, 1.5, 100), SPECIAL])
    check(sm.log_ndtr(x), tref(torch.special.log_ndtr, x), TIGHT)


def test_log_ndtr_very_negative_vs_mpmath():
    x = -np.logspace(0, 150, 300)
    check(sm.log_ndtr(x), mpref(lambda v: mpmath.log(mpmath.ncdf(v)), x, dps=60), TIGHT)
    assert sm.log_ndtr(np.array([-1e5]))[0] == pytest.approx(-5000000012.4318639982749, rel=1e-15)


# ----------------------------------------------------------------------------- gamma family

POS = np.concatenate([np.logspace(-300, 305, 500), np.linspace(1e-3, 30, 3000), RNG.uniform(0, 1e4, 300),
                      1 + sym(np.logspace(-16, -1, 60)), 2 + sym(np.logspace(-16, -1, 60)),
                      [0.5, 1.5, 2.5, 10.0, 10.0 - 1e-14, 2.5e305]])
NEG = -np.concatenate([np.linspace(0.001, 30, 2999) + 1e-7, RNG.uniform(0, 1e6, 200), 1 + np.logspace(-12, -1, 30)])


def test_lgamma_positive_vs_torch():
    check(sm.lgamma(POS), tref(torch.lgamma, POS), TIGHT)


def test_lgamma_near_one_and_two_vs_mpmath():
    x = np.concatenate([1 + sym(np.logspace(-300, -0.5, 200)), 2 + sym(np.logspace(-300, -0.5, 200))])
    check(sm.lgamma(x), mpref(mpmath.loggamma, x), TIGHT)


def test_lgamma_negative_vs_torch():
    # reflection: log(pi) - log|x sin(pi x)| - lgamma(-x) cancels near the zeros of lgamma on the
    # negative axis (ill-conditioned there), so add an absolute term ~ 2 ulp of the cancelling parts
    expected = tref(torch.lgamma, NEG)
    scale = 1.0 + np.abs(tref(torch.lgamma, -NEG)) + np.abs(np.log(np.abs(NEG)))
    check(sm.lgamma(NEG), expected, TIGHT, atol=1e-15 * scale)


def test_lgamma_poles_and_specials():
    x = np.array([0.0, -0.0, -1.0, -2.0, -100.0, -1e20, INF, -INF, NAN])
    out = sm.lgamma(x)
    assert (out[:8] == INF).all() and np.isnan(out[8])
    check(out, tref(torch.lgamma, x), TIGHT)
    assert sm.gammaln is sm.lgamma


@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_multigammaln_vs_torch(p):
    x = np.concatenate([0.5 * (p - 1) + np.logspace(-10, 3, 300), RNG.uniform(50, 1e5, 100)])
    check(sm.multigammaln(x, p), tref(torch.special.multigammaln, x, p=p), TIGHT)


def test_multigammaln_domain_error():
    with pytest.raises(ValueError):
        sm.multigammaln(np.array([1.0, 0.9]), 3)


DIGAMMA_ROOT = 1.4616321449683622


def test_digamma_positive_vs_torch():
    # torch's digamma loses relative accuracy next to its root x0 = 1.46163..., hence the tiny atol
    check(sm.digamma(POS), tref(torch.digamma, POS), TIGHT, atol=1e-15)


def test_digamma_near_root_vs_mpmath():
    x = np.concatenate([DIGAMMA_ROOT + sym(np.logspace(-16, -0.7, 200)), [DIGAMMA_ROOT], np.linspace(1.2, 1.7, 501)])
    check(sm.digamma(x), mpref(mpmath.digamma, x), TIGHT)


def test_digamma_negative_vs_torch():
    # ill-conditioned near the roots of psi between the poles: rtol 1e-13 plus atol 1e-14 (a few ulp of
    # the reflection terms psi(1-x) and pi*cot(pi*x)).  torch evaluates tan(pi*r) with r in (-1, 0), which
    # near r = -1 costs it an absolute error ~eps/dist^2 (dist = distance to the pole); mpmath test below.
    dist = np.abs(NEG - np.round(NEG))
    check(sm.digamma(NEG), tref(torch.digamma, NEG), 1e-13, atol=1e-14 + 1e-15 / dist ** 2)


def test_digamma_negative_vs_mpmath():
    x = NEG[::5]
    check(sm.digamma(x), mpref(mpmath.digamma, x), 1e-13, atol=1e-14)   # same conditioning caveat


def test_digamma_conventions_match_torch():
    x = np.array([0.0, -0.0, -1.0, -2.0, -1e20, INF, -INF, NAN, 1e-310, -1e-300])
    out = sm.digamma(x)
    assert out[0] == -INF and out[1] == INF and np.isnan(out[2:5]).all() and out[5] == INF
    check(out, tref(torch.digamma, x), TIGHT)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_positive_vs_mpmath(n):
    x = np.concatenate([np.logspace(-5, 8, 200), np.linspace(0.01, 20, 400)])
    check(sm.polygamma(n, x), mpref(lambda v: mpmath.polygamma(n, v), x), TIGHT)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_positive_vs_torch(n):
    x = np.concatenate([np.logspace(-5, 8, 300), np.linspace(0.01, 30, 1000)])
    # torch's trigamma (n = 1) has relative errors up to ~5e-10 (see the mpmath test above)
    check(sm.polygamma(n, x), tref(lambda t: torch.polygamma(n, t), x), 1e-9 if n == 1 else TIGHT)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_negative_vs_mpmath(n):
    x = -np.concatenate([np.linspace(0.01, 30, 200) + 0.005, RNG.uniform(0, 1e4, 50)])
    expected = mpref(lambda v: mpmath.polygamma(n, v), x)
    # ill-conditioned when the pole term n!/dist^(n+1) nearly cancels against the rest: absolute term
    dist = np.abs(x - np.round(x))
    check(sm.polygamma(n, x), expected, TIGHT, atol=1e-15 * math.factorial(n) / dist ** (n + 1))


def test_polygamma_poles_and_specials():
    x = np.array([0.0, -1.0, -3.0, INF, -INF, NAN])
    assert (sm.polygamma(1, x)[:3] == INF).all()            # torch returns ~1e32 at -1, -3 (rounding artefact)
    assert (sm.polygamma(2, x)[:3] == -INF).all()           # as torch
    assert (sm.polygamma(3, x)[:3] == INF).all()            # as torch
    for n in (1, 2, 3):
        out = sm.polygamma(n, x)
        assert out[3] == 0 and np.isnan(out[4]) and np.isnan(out[5])   # torch: nan at +inf for n >= 2
    check(sm.polygamma(0, POS), sm.digamma(POS), 0.0)
    with pytest.raises(ValueError):
        sm.polygamma(-1, x)


def test_zeta_vs_torch():
    # q <= 1e8: beyond that Cephes/torch switch to a two-term asymptotic formula (error ~ s^2/q^2)
    s = RNG.uniform(1.0001, 40, 4000)
    q = np.exp(RNG.uniform(-6, np.log(1e8), 4000))
    expected = tref(torch.special.zeta, s, q)
    keep = expected > 1e-290          # torch also loses digits in results close to underflow
    check(sm.zeta(s, q)[keep], expected[keep], TIGHT)


def test_zeta_vs_mpmath():
    # mpmath needs many digits for large q (at 80 digits it is off by ~1e-11 there)
    s = np.concatenate([RNG.uniform(1.0001, 40, 60), [1.000001, 2.0, 3.0, 50.0, 37.26407487834814]])
    q = np.concatenate([np.exp(RNG.uniform(-5, 22, 60)), [1.0, 1.0, 0.5, 1.0, 273610896.9412559]])
    check(sm.zeta(s, q), mpref(mpmath.zeta, s, q, dps=300), TIGHT, atol=1e-323)


def test_zeta_negative_q_integer_s_vs_torch():
    s = np.repeat(np.arange(2.0, 9.0), 100)
    q = -RNG.uniform(0, 60, s.size)
    # the sum over the terms before q turns positive cancels for odd s: absolute term ~ ulp of 1/dist^s
    dist = np.abs(q - np.round(q))
    check(sm.zeta(s, q), tref(torch.special.zeta, s, q), TIGHT, atol=1e-15 * dist ** -s)


def test_zeta_domain():
    s = np.array([1.0, 0.5, 2.0, 2.0, 2.5, 2.0, 3.0, INF, INF])
    q = np.array([1.0, 1.0, 0.0, -3.0, -0.5, 1e300, INF, 1.0, 2.0])
    out = sm.zeta(s, q)
    assert out[0] == INF and np.isnan(out[1]) and out[2] == INF and out[3] == INF and np.isnan(out[4])
    assert out[5] == pytest.approx(1e-300, rel=1e-14)
    assert out[6] == 0.0 and out[7] == 1.0 and out[8] == 0.0   # torch: 0, nan, 1, nan at these points


# ----------------------------------------------------------------------------- Bessel I0 / I1

BESSEL_X = np.concatenate([np.linspace(-50, 50, 4001), sym(np.logspace(-300, np.log10(709), 300)),
                           RNG.uniform(-709, 709, 500), [19.999999, 20.0, 20.000001, 0.0, -0.0, NAN]])


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_bessel_vs_torch(name):
    expected = tref(getattr(torch.special, name), BESSEL_X)
    tiny = np.abs(BESSEL_X) < 1e-307        # i1 ~ x/2 is subnormal there; torch rounds differently
    check(getattr(sm, name)(BESSEL_X), expected, TIGHT, atol=np.where(tiny, 1e-323, 0.0))


@pytest.mark.parametrize("nu", [0, 1])
def test_bessel_vs_mpmath(nu):
    x = sym(np.concatenate([np.logspace(-5, np.log10(713.9), 300), [709.9, 711.0, 713.9]]))
    i = getattr(sm, f"i{nu}")
    ie = getattr(sm, f"i{nu}e")
    check(i(x), mpref(lambda v: mpmath.besseli(nu, v), x), TIGHT)         # finite beyond exp's overflow
    check(ie(x), mpref(lambda v: mpmath.besseli(nu, v) * mpmath.exp(-abs(v)), x), TIGHT)


def test_bessel_specials():
    x = np.array([INF, -INF, 1e4, -1e4])
    assert (sm.i0(x) == INF).all()                                  # torch gives nan at +-inf
    assert list(sm.i1(x)) == [INF, -INF, INF, -INF]
    assert list(sm.i0e(x)[:2]) == [0.0, 0.0] and list(sm.i1e(x)[:2]) == [0.0, -0.0]
    check(sm.i0e(x[2:]), tref(torch.special.i0e, x[2:]), TIGHT)


# ----------------------------------------------------------------------------- elementary

def test_sinc_vs_torch_and_mpmath():
    x = np.concatenate([np.linspace(-10, 10, 4001) + 1e-9, sym(np.logspace(-300, 15, 300)), SPECIAL])
    # torch evaluates sin(pi*x) with a rounded pi*x: its absolute error is ~1e-16
    check(sm.sinc(x), tref(torch.special.sinc, x), TIGHT, atol=4e-16)
    xm = np.concatenate([np.linspace(-10, 10, 2000) + 1e-7, np.array([1e-300, 0.5, 1 - 1e-12, 1e6 + 0.25])])
    check(sm.sinc(xm), mpref(lambda v: mpmath.sinpi(v) / (mpmath.pi * v), xm), TIGHT)
    out = sm.sinc(np.array([0.0, -0.0, 1.0, -3.0, 1e20]))
    assert list(out) == [1.0, 1.0, 0.0, 0.0, 0.0]                   # exact zeros at integers


XY_VALUES = np.array([0.0, -0.0, 1e-300, 0.3, 1.0, 2.5, 1e300, -1.0, -0.5, -2.0, INF, -INF, NAN])


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_family_vs_torch(name):
    x, y = np.meshgrid(XY_VALUES, XY_VALUES)
    check(getattr(sm, name)(x, y), tref(getattr(torch.special, name), x, y), TIGHT)
    a, b = RNG.uniform(-5, 5, 1000), np.exp(RNG.uniform(-50, 50, 1000))
    check(getattr(sm, name)(a, b), tref(getattr(torch.special, name), a, b), TIGHT)


def test_xlogy_broadcasts():
    out = sm.xlogy(np.zeros((3, 1)), np.array([0.0, NAN, 2.0]))
    assert out.shape == (3, 3)
    assert np.array_equal(np.isnan(out), np.tile([False, True, False], (3, 1)))


def test_entr_vs_torch():
    x = np.concatenate([np.logspace(-300, 300, 500), np.linspace(-2, 2, 401), SPECIAL])
    check(sm.entr(x), tref(torch.special.entr, x), TIGHT)


def test_logit_vs_torch_and_mpmath():
    x = np.concatenate([np.linspace(0, 1, 2001), np.logspace(-300, -0.3, 300), 1 - np.logspace(-16, -0.3, 300),
                        [-0.1, 1.1, 0.5 + 1e-15, 0.5 - 1e-12], SPECIAL])
    # torch's log(x/(1-x)) has absolute error ~eps next to x = 1/2 where logit -> 0 (hence atol)
    check(sm.logit(x), tref(torch.special.logit, x), TIGHT, atol=1e-15)
    xm = np.concatenate([np.linspace(0.001, 0.999, 999), 0.5 + sym(np.logspace(-16, -2, 50))])
    check(sm.logit(xm), mpref(lambda v: mpmath.log(v / (1 - v)), xm), TIGHT)


@pytest.mark.parametrize("eps", [1e-6, 0.25, 0.0])
def test_logit_eps_vs_torch(eps):
    x = np.concatenate([np.linspace(-0.5, 1.5, 2001), SPECIAL])
    check(sm.logit(x, eps=eps), tref(lambda t: torch.special.logit(t, eps=eps), x), TIGHT, atol=1e-15)
    x32 = x.astype(np.float32)
    expected = torch.special.logit(torch.from_numpy(x32), eps=eps).numpy()
    check(sm.logit(x32, eps=eps), expected, 1e-6, atol=1e-6)   # clamping happens in float32, as in torch


def test_expit_vs_torch():
    x = np.concatenate([np.linspace(-760, 760, 6001), sym(np.logspace(-300, 300, 200)), SPECIAL])
    # torch's kernel is 1 / (1 + exp(-x)): below -709 exp overflows and the result is 0, as here
    with np.errstate(over="ignore"):
        check(sm.expit(x), tref(torch.special.expit, x), TIGHT, atol=1e-308)
        edges = np.array([-740.0, -1e308, 1e308, -0.0])
        np.testing.assert_array_equal(sm.expit(edges), tref(torch.special.expit, edges))


# ----------------------------------------------------------------------------- float32 / dtypes

UNARY = {
    "erf": (torch.erf, np.linspace(-6, 6, 2001)),
    "erfc": (torch.erfc, np.linspace(-6, 14, 2001)),
    "erfinv": (torch.erfinv, np.linspace(-1, 1, 2001)),
    "lgamma": (torch.lgamma, np.concatenate([np.linspace(-20, 40, 3001), np.logspace(-30, 36, 200)])),
    "digamma": (torch.digamma, np.concatenate([np.linspace(-20, 40, 3001), np.logspace(-30, 36, 200)])),
    "i0": (torch.special.i0, np.linspace(-88, 88, 2001)),
    "i0e": (torch.special.i0e, np.linspace(-500, 500, 2001)),
    "i1": (torch.special.i1, np.linspace(-88, 88, 2001)),
    "i1e": (torch.special.i1e, np.linspace(-500, 500, 2001)),
    "sinc": (torch.special.sinc, np.linspace(-20, 20, 2001) + 0.001),
    "entr": (torch.special.entr, np.linspace(-1, 100, 2001)),
    "logit": (torch.special.logit, np.linspace(0, 1, 2001)),
    "ndtr": (torch.special.ndtr, np.linspace(-5, 8, 2001)),
    "ndtri": (torch.special.ndtri, np.linspace(0, 1, 2001)),
    "log_ndtr": (torch.special.log_ndtr, np.linspace(-1e3, 10, 2001)),
    "expit": (torch.special.expit, np.linspace(-100, 100, 2001)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_vs_torch(name):
    fn, x = UNARY[name]
    specials = SPECIAL[[0, 1, 4]] if name in ("i0", "i1") else SPECIAL      # torch: i0(inf) = nan
    x32 = np.concatenate([x, specials]).astype(np.float32)
    out = getattr(sm, name)(x32)
    assert out.dtype == np.float32
    # reference: torch in float64 on the same float32 inputs, rounded to float32
    expected = fn(torch.from_numpy(x32.astype(np.float64))).numpy().astype(np.float32)
    check(out, expected, 1e-6, atol=np.finfo(np.float32).tiny)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "i0", "i0e", "expit", "ndtri", "entr"])
def test_float32_vs_torch_native_float32(name):
    fn, x = UNARY[name]
    x32 = x.astype(np.float32)
    check(getattr(sm, name)(x32), fn(torch.from_numpy(x32)).numpy(), 1e-6, atol=np.finfo(np.float32).tiny)


def test_float32_binary_and_parametrised():
    x32 = np.linspace(0.1, 20, 500, dtype=np.float32)
    y32 = np.linspace(-0.5, 30, 500, dtype=np.float32)
    for name in ["xlogy", "xlog1py"]:
        out = getattr(sm, name)(x32, y32)
        assert out.dtype == np.float32
        check(out, getattr(torch.special, name)(torch.from_numpy(x32), torch.from_numpy(y32)).numpy(), 1e-6, atol=1e-6)
    z = sm.zeta(x32 + 1, x32)
    assert z.dtype == np.float32
    check(z, torch.special.zeta(torch.from_numpy(x32 + 1), torch.from_numpy(x32)).numpy(), 1e-6)
    for n in (1, 2, 3):
        out = sm.polygamma(n, x32)
        assert out.dtype == np.float32
        check(out, torch.polygamma(n, torch.from_numpy(x32).double()).numpy().astype(np.float32), 1e-6)
    out = sm.multigammaln(x32 + 2, 3)
    assert out.dtype == np.float32
    check(out, torch.special.multigammaln(torch.from_numpy(x32 + 2), 3).numpy(), 1e-6)


ALL_UNARY = ["erf", "erfc", "erfinv", "lgamma", "gammaln", "digamma", "i0", "i0e", "i1", "i1e", "sinc",
             "entr", "logit", "ndtr", "ndtri", "log_ndtr", "expit"]


@pytest.mark.parametrize("name", ALL_UNARY)
def test_dtypes_unary(name):
    fn = getattr(sm, name)
    x = np.array([[0.25, 0.5], [0.75, 0.125]])
    for dt in (np.float16, np.float32, np.float64):
        out = fn(x.astype(dt))
        assert out.dtype == dt and out.shape == (2, 2)
    assert fn(np.array([1, 0], dtype=np.int64)).dtype == np.float32     # torch's default dtype
    assert fn(np.array([True, False])).dtype == np.float32
    out = fn(np.float32(0.25))
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float32
    np.testing.assert_allclose(fn(x.astype(np.float16)), fn(x).astype(np.float16), rtol=1e-3)


def test_dtypes_binary_and_parametrised():
    f32, f64, i64 = np.ones(3, np.float32), np.ones(3, np.float64), np.ones(3, np.int64)
    for fn in (sm.xlogy, sm.xlog1py):
        assert fn(f32, f32).dtype == np.float32
        assert fn(f32, f64).dtype == np.float64
        assert fn(i64, i64).dtype == np.float32
        assert fn(f32, 2.0).dtype == np.float32           # python scalars do not promote (like torch)
        assert fn(i64, 2.5).dtype == np.float32
    assert sm.zeta(f32 + 1, f32).dtype == np.float32
    assert sm.zeta(f32 + 1, 2.0).dtype == np.float32
    assert sm.polygamma(2, np.float16(3.0)).dtype == np.float16
    assert sm.polygamma(1, i64).dtype == np.float32
    assert sm.multigammaln(f32 * 3, 2).dtype == np.float32
    assert sm.logit(f32 / 2, eps=1e-3).dtype == np.float32
    assert sm.logit(i64, eps=1e-3).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["erf", "erfc", "lgamma"])
def test_small_arrays_through_libm(name, dtype):
    """Arrays of at most sm._MATH_SMALL elements take the math module's scalar functions (libm, as torch's scalar
    loops): in float64 as torch's values; poles and overflow fall back to the vectorised kernel."""
    fn, x = UNARY[name]
    small = np.concatenate([x[::len(x) // 40], SPECIAL, [-3.0, 1e308] if name == "lgamma" else []])
    small = small.astype(dtype).reshape(-1, 1)
    assert small.size <= sm._MATH_SMALL
    out = getattr(sm, name)(small)
    assert out.dtype == dtype and out.shape == small.shape
    check(out, fn(torch.from_numpy(small.astype(np.float64))).numpy().astype(dtype),
          TIGHT if dtype == np.float64 else 1e-6, atol=np.finfo(dtype).tiny)
    scalar = getattr(sm, name)(np.array(0.75, dtype))
    assert scalar.shape == () and scalar.dtype == dtype
