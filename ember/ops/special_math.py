"""Special mathematical functions on NumPy arrays (pure NumPy, vectorised, float64-accurate).

Every public function maps ndarray(s) to an ndarray of the input's float dtype; integer and
bool inputs give float32 (torch's default dtype).  Python scalars next to an array do not
promote it (like torch's wrapped numbers).  Work is done in float64 and cast back at the end,
so float16/float32 results are correctly rounded float64 values; the exceptions are expit
(torch's 1 / (1 + exp(-x)) in the input's dtype) and erf, erfc, erfinv on float32 arrays, which
run float32 kernels accurate to a few ulp (torch's own float32 results are within 1 ulp). Small
arrays of erf, erfc and lgamma go through the math module (libm) element by element. The Cephes
Bessel/Airy kernels and the orthogonal polynomials instead run torch's own formulas in the input's
dtype (the polynomial recurrences with torch's fused multiply-adds), since torch's float32 rounding
there is part of its values.

Edge-case conventions follow torch (e.g. digamma(+0) = -inf, digamma(-0) = +inf, digamma at
negative integers = nan, lgamma at poles = +inf, erfinv(+-1) = +-inf).  Where torch's value is
a rounding artefact rather than a convention, the mathematically correct value is returned
instead: polygamma(1, -k) = +inf (torch: ~1e32 for k >= 1), polygamma(n, +inf) = 0 and
zeta(inf, q > 1) = 0 (torch: nan), i0/i1 stay finite up to |x| ~ 713.98 (torch overflows at 709.78),
sinc(k) = 0 exactly for integers k (torch: ~1e-17). One exception: igamma/igammac keep torch's
float32-rounded pi in Temme's expansion (~1e-9 relative off for a > 20 near x), to give torch's values.
"""
import functools
import math
from fractions import Fraction

import numpy as np

from ._bits import INT_OF, clip, constant, select

__all__ = [
    "erf", "erfc", "erfinv", "lgamma", "gammaln", "digamma", "polygamma", "multigammaln", "zeta",
    "i0", "i0e", "i1", "i1e", "sinc", "xlogy", "xlog1py", "entr", "logit", "expit",
    "ndtr", "ndtri", "log_ndtr", "igamma", "igammac",
    "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai",
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p",
]

_PI = np.pi
_SQRT2 = 1.41421356237309504880
_SQRT1_2 = 0.70710678118654752440
_EULER = 0.57721566490153286061
_LOG_PI = 1.14472988584940017414
_HALF_LOG_2PI = 0.91893853320467274178
_INV_SQRTPI = 0.56418958354775628695
_SQRTPI_2 = 0.88622692545275801365          # sqrt(pi) / 2


# ----------------------------------------------------------------------------- dtype plumbing

def _result_dtype(args):
    """torch-like result dtype: float dtype of the array args; ints/bools -> float32."""
    if len(args) == 1 and type(args[0]) is np.ndarray and args[0].dtype.kind == "f":
        return args[0].dtype  # one float array (the common call): its own dtype
    arrays = [a for a in args if not isinstance(a, (bool, int, float))] or list(args)
    dt = np.result_type(*[np.asarray(a) for a in arrays])
    if dt.kind == "c":
        raise TypeError(f"complex input ({dt}) is not supported")
    return dt if dt.kind == "f" else np.dtype(np.float32)


def _elementwise(nargs):
    """Decorator: run the kernel on float64 copies of the first `nargs` args, cast the result back."""
    def deco(kernel):
        @functools.wraps(kernel)
        def wrapper(*args, **kwargs):
            dtype = _result_dtype(args[:nargs])
            arrays = [np.asarray(a, dtype=np.float64) for a in args[:nargs]]
            with np.errstate(all="ignore"):
                out = kernel(*arrays, *args[nargs:], **kwargs)
            return np.asarray(out).astype(dtype, copy=False)
        return wrapper
    return deco


def _horner(coefs, z):
    """Evaluate sum(coefs[k] * z**k) by Horner's rule (coefs in increasing degree)."""
    acc = np.zeros_like(z) + coefs[-1]
    for c in coefs[-2::-1]:
        acc = acc * z + c
    return acc


def _bernoulli_even(count):
    """Exact B_2, B_4, ..., B_(2*count) (Akiyama-Tanigawa algorithm, run once at import)."""
    a, out = [], []
    for m in range(2 * count + 1):
        a.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        if m >= 2 and m % 2 == 0:
            out.append(a[0])
    return out


def _factorial(n):
    """n! as an exact Python int (for scalar n only)."""
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out


_B2K = _bernoulli_even(12)                                                      # B_2 .. B_24
_STIRLING = [float(b / (2 * k * (2 * k - 1))) for k, b in enumerate(_B2K[:10], 1)]
_PSI_ASYM = [float(b / (2 * k)) for k, b in enumerate(_B2K[:10], 1)]
_EULER_MACLAURIN = [float(b / _factorial(2 * k)) for k, b in enumerate(_B2K, 1)]


# ----------------------------------------------------------------------------- sin(pi x) helpers

def _sinpi(x):
    """sin(pi*x) with exact argument reduction (exactly 0 at integers)."""
    r = x - 2.0 * np.round(0.5 * x)                          # exact, in [-1, 1]
    r = np.where(np.abs(r) > 0.5, np.sign(r) - r, r)         # sin(pi - t) = sin(t), exact
    return np.sin(_PI * r)


def _pi_cotpi(x):
    """pi*cot(pi*x) with exact argument reduction to [-1/2, 1/2]."""
    r = x - np.round(x)
    s = np.sin(_PI * r)
    c = np.where(np.abs(r) < 0.25, np.cos(_PI * r), np.sin(_PI * (0.5 - np.abs(r))))
    return _PI * c / s


# ----------------------------------------------------------------------------- erf family (Cody)

_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
_ERF_THRESH = 0.46875


def _erf_small(x):
    """erf(x) for |x| <= 0.46875: Cody's rational approximation in x**2."""
    z = x * x
    num, den = _ERF_A[4] * z, z
    for a, b in zip(_ERF_A[:3], _ERF_B[:3]):
        num, den = (num + a) * z, (den + b) * z
    return x * (num + _ERF_A[3]) / (den + _ERF_B[3])


def _erfcx_pos(y):
    """Scaled exp(y**2) * erfc(y) for y >= 0: Cody's three rational approximations."""
    r1 = np.exp(y * y) * (1.0 - _erf_small(y))
    num, den = _ERF_C[8] * y, y
    for c, d in zip(_ERF_C[:7], _ERF_D[:7]):
        num, den = (num + c) * y, (den + d) * y
    r2 = (num + _ERF_C[7]) / (den + _ERF_D[7])
    z = 1.0 / (y * y)
    num, den = _ERF_P[5] * z, z
    for p, q in zip(_ERF_P[:4], _ERF_Q[:4]):
        num, den = (num + p) * z, (den + q) * z
    r3 = (_INV_SQRTPI - z * (num + _ERF_P[4]) / (den + _ERF_Q[4])) / y
    return np.where(y <= _ERF_THRESH, r1, np.where(y <= 4.0, r2, r3))


def _exp_neg_sq(y):
    """exp(-y**2) without the rounding error of y*y (Cody's split y = y_hi + y_lo, y_hi = k/16)."""
    y = np.minimum(y, 40.0)
    hi = np.trunc(16.0 * y) / 16.0
    return np.exp(-hi * hi) * np.exp(-(y - hi) * (y + hi))


def _erfc(x):
    """erfc in float64 (Cody): 1 - erf near 0, exp(-x^2) * scaled rational in the tails."""
    y = np.abs(x)
    tail = _exp_neg_sq(y) * _erfcx_pos(y)
    return np.where(y <= _ERF_THRESH, 1.0 - _erf_small(x), np.where(x < 0, 2.0 - tail, tail))


def _erf(x):
    """erf in float64 (Cody's rational approximations)."""
    y = np.abs(x)
    tail = _exp_neg_sq(y) * _erfcx_pos(y)
    return np.where(y <= _ERF_THRESH, _erf_small(x), np.copysign(1.0 - tail, x))


# float32 kernels: a few passes of float32 ufuncs (NumPy's float32 exp/log are vectorised, its float64 ones are not).

# erf(x) / x = 2/sqrt(pi) sum_n (-x^2)^n / (n! (2n+1)), n <= 5: relative truncation error < 3e-8 for |x| < 1/2.
_ERF_TAYLOR = tuple(2 / math.sqrt(math.pi) * (-1) ** n / (_factorial(n) * (2 * n + 1)) for n in range(5, -1, -1))
# Abramowitz-Stegun 7.1.26 (torch's vectorised erf): 1 - t P(t) exp(-a^2), t = 1/(1 + p a), |error| < 1.5e-7.
_AS_P = 0.3275911
_AS = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
# Numerical Recipes' erfcc: erfc(a) = t exp(-a^2 + P(t)), t = 1/(1 + a/2), relative error < 1.2e-7 for all a >= 0.
_ERFCC = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
          1.00002368, -1.26551223)
_ERF_SMALL = 0.5
_ERFC_ZERO = 11.0       # erfc(11) ~ 1e-54 is 0 in float32


def _with_sign_of(out, x):
    """Copy the sign bits of x into the non-negative float array out, in place."""
    it = INT_OF[x.dtype.itemsize]
    oi = out.view(it)
    oi |= np.bitwise_and(x.view(it), it(np.iinfo(it).min))
    return out


def _poly(coefs, z, out=None):
    """sum c_k z^k (coefs from the highest degree down) by Horner's rule in z's dtype, into out (not z)."""
    p = np.multiply(z, coefs[0], out=out)
    p += coefs[1]
    for c in coefs[2:]:
        p *= z
        p += c
    return p


def _reciprocal_affine(a, slope):
    """1 / (1 + slope * a) in a's dtype."""
    t = np.multiply(a, slope)
    t += 1
    return np.divide(1, t, out=t)


def _erf_taylor(x, z, out):
    """x * (Taylor series of erf(x)/x) into out, for |x| <= 1/2; z is a scratch buffer of x's shape."""
    np.multiply(x, x, out=z)
    p = _poly(_ERF_TAYLOR, z, out=out)
    p *= x
    return p


# Large float32 kernels keep at most three 1-array temporaries alive: with more, glibc returns the freed memory to
# the OS after each call and the next call pays page faults (~2 ms for 256k floats).

def _erfc_pos32(a):
    """erfc(a) for float32 a in [0, 11] by erfcc, overwriting a; -a^2 + P is formed in float64 (hi + lo) so that
    deep-tail values keep a few-ulp accuracy instead of losing |a^2| * 2^-24 to the rounding of the exponent."""
    t = _reciprocal_affine(a, 0.5)
    arg = a.astype(np.float64)
    np.multiply(arg, arg, out=arg)
    p = _poly(_ERFCC, t, out=a)
    np.subtract(p, arg, out=arg)
    np.copyto(p, arg, casting="same_kind")               # hi
    arg -= p
    np.exp(p, out=p)
    p *= t
    np.copyto(t, arg, casting="same_kind")               # lo
    del arg
    t += 1
    p *= t
    return p


def _erf32(x):
    """erf for float32: Taylor series for |x| < 1/2, Abramowitz-Stegun 7.1.26 above (within 6 ulp of erf)."""
    a = np.abs(x)
    clip(a, 0.0, 4.0, out=a)                              # erf(4) rounds to 1 in float32
    small = a < _ERF_SMALL
    t = _reciprocal_affine(a, _AS_P)
    big = _poly(_AS, t)
    big *= t
    np.multiply(a, a, out=t)
    np.negative(t, out=t)
    np.exp(t, out=t)
    big *= t
    np.subtract(1, big, out=big)
    p = _erf_taylor(x, t, out=a)
    del t
    _with_sign_of(big, x)
    return select(small, p, big)


def _erfc32(x):
    """erfc for float32: erfcc(|x|), reflected as 2 - erfcc(|x|) for x < 0; 1 - erf(x) for |x| < 1/2."""
    a = np.abs(x)
    clip(a, 0.0, _ERFC_ZERO, out=a)
    small = a < _ERF_SMALL
    big = _erfc_pos32(a)
    p = np.subtract(2, big)
    select(np.signbit(x), p, big)
    p = _erf_taylor(x, np.empty_like(x), out=p)
    np.subtract(1, p, out=p)
    return select(small, p, big)


# ----------------------------------------------------------------------------- elementary float32 kernels
# NumPy's float32 expm1, log1p, sinh, cosh, tan, atan, atanh, arctan2, fmod, remainder, floor_divide and logaddexp
# call libm element by element (5-40 ns each); these forms use its vectorised exp, log, sin, cos, sqrt and
# arithmetic instead and stay within a few ulp of the correctly rounded value, as torch's Sleef/MKL kernels do.

def expm1_f32(x):
    """exp(x) - 1 by Kahan's (u - 1) * x / log(u), u = exp(x); exact at u == 1 and at the -1 / inf limits."""
    u = np.exp(x)
    d = np.subtract(u, 1, out=np.empty_like(u))
    at_one, limit = d == 0, (d == -1) | (d == np.inf)
    np.log(u, out=u)
    np.divide(x, u, out=u)
    u *= d
    select(limit, d, u)
    return select(at_one, x, u)


def log1p_f32(x):
    """log(1 + x) by Goldberg's log(w) * x / (w - 1), w = 1 + x; exact where w == 1 and at x = inf."""
    w = np.add(x, 1)
    d = np.subtract(w, 1)
    keep_x = (d == 0) | (x == np.inf)
    np.log(w, out=w)
    np.divide(x, d, out=d)
    w *= d
    return select(keep_x, x, w)


def sinh_f32(x):
    """sinh(x) = (E + E / (E + 1)) / 2 with E = expm1(|x|), then x's sign (inf above 88.72, as torch's vector loop)."""
    a = np.abs(x)
    e = expm1_f32(a)
    r = np.add(e, 1)
    np.divide(e, r, out=r)
    r += e
    r *= 0.5
    select(e == np.inf, e, r)
    return _with_sign_of(r, x)


def cosh_f32(x):
    """cosh(x) = (e + 1 / e) / 2 with e = exp(|x|) (inf above 88.72, as torch's vector loop)."""
    e = np.abs(x)
    np.exp(e, out=e)
    r = np.divide(1, e)
    r += e
    r *= 0.5
    return r


def tan_f32(x):
    """tan(x) = sin(x) / cos(x) (NumPy's float32 sin and cos are vectorised and accurate)."""
    r = np.sin(x)
    return np.divide(r, np.cos(x), out=r)


def atanh_f32(x):
    """atanh(x) = log1p(2a / (1 - a)) / 2 for a = |x| (1 - a is exact near 1), with x's sign."""
    a = np.abs(x)
    d = np.subtract(1, a)
    np.divide(a, d, out=d)
    d *= 2
    r = log1p_f32(d)
    r *= 0.5
    return _with_sign_of(r, x)


# atan(t) = t P(t^2) on [0, 1]: relative-error least-squares fit, max relative error 1.7e-8.
_ATAN = (0.0028429784910392053, -0.01603843036044507, 0.0426371727388722, -0.07499109376350153, 0.10638125043668355,
         -0.14202787822545765, 0.19992483395724353, -0.33333064118960776, 0.999999983243542)
_HALF_PI = 1.5707963267948966


def _atan_unit(t):
    """atan(t) for float32 t in [0, 1] (NaN passes through), overwriting nothing."""
    p = _poly(_ATAN, np.multiply(t, t))
    p *= t
    return p


def atan_f32(x):
    """atan(x): atan(|x|) for |x| <= 1, pi/2 - atan(1/|x|) above, with x's sign (atan(+-inf) = +-pi/2)."""
    a = np.abs(x)
    swap = a > 1
    inv = np.divide(1, a)
    select(swap, inv, a)
    del inv
    r = _atan_unit(a)
    np.subtract(_HALF_PI, r, out=a)
    select(swap, a, r)
    return _with_sign_of(r, x)


def atan2_f32(y, x):
    """atan2(y, x) by octant reduction to atan(min/max) on [0, 1]; NaN ratios (0/0, inf/inf, NaN) go to NumPy."""
    ax, ay = np.abs(x), np.abs(y)
    swap = ay > ax
    t = np.minimum(ax, ay)
    m = np.maximum(ax, ay)
    np.divide(t, m, out=t)
    del ax, ay
    odd = np.isnan(t)
    r = _atan_unit(t)
    np.subtract(_HALF_PI, r, out=m)
    select(swap, m, r)
    np.subtract(np.pi, r, out=m)
    select(np.signbit(x), m, r)
    del m
    _with_sign_of(r, y)
    if odd.any():
        r[odd] = np.arctan2(*[np.broadcast_to(v, r.shape)[odd] for v in (y, x)])
    return r


def logaddexp_f32(a, b, base2=False):
    """log(e^a + e^b) = max + log1p(exp(-|a - b|)) as torch computes it (base2: max + log1p(2^-|a - b|) / ln 2);
    equal infinities give that infinity."""
    d = np.subtract(a, b)
    m = np.maximum(a, b)
    same_inf = np.isinf(m) & (d != d)
    np.abs(d, out=d)
    np.negative(d, out=d)
    if base2:
        d *= math.log(2)
    np.exp(d, out=d)
    r = log1p_f32(d)
    if base2:
        r *= 1 / math.log(2)
    r += m
    return select(same_inf, m, r)


def _float_division(a, b, rounding):
    """floor or trunc of a / b for float32 a, b in float64, where it is exact for |a / b| < 2**24 (the quotient is
    an integer of <= 24 bits); returns the float64 quotient and the mask of entries NumPy must redo (b = +-inf,
    a = +-inf, b = 0, |a / b| >= 2**24 or NaN)."""
    if type(b) is not np.ndarray:
        b = float(np.float32(b))                          # the divisor torch sees: the number cast to float32
    q = np.divide(a, b, dtype=np.float64)
    rounding(q, out=q)
    redo = np.abs(q) < 2 ** 24
    np.logical_not(redo, out=redo)
    if type(b) is np.ndarray:
        redo |= np.isinf(b)
    return q, redo


def _redo(out, redo, fn, a, b):
    """Recompute out where redo with the exact NumPy fn."""
    if redo.any():
        shape = out.shape
        out[redo] = fn(np.broadcast_to(a, shape)[redo], np.broadcast_to(b, shape)[redo] if type(b) is np.ndarray else b)
    return out


def _fmod_exact(a, b):
    return np.fmod(a, b)


def _remainder_exact(a, b):
    """torch's remainder (fmod, plus b where the signs of the result and b differ): NumPy's, whose zeros take b's
    sign where torch's keep a's (those of fmod)."""
    r = np.remainder(a, b)
    if type(r) is np.ndarray and r.ndim:
        return np.copysign(r, a, out=r, where=r == 0)
    return np.asarray(np.copysign(r, a) if r == 0 else r)


def _residue(a, b, rounding, exact):
    """a - rounding(a / b) * b for float32 a, b: exact in float64 for |a / b| < 2**24, then one rounding to float32
    (the value torch's fmod-based kernels give); a zero result takes a's sign, as fmod's does."""
    q, redo = _float_division(a, b, rounding)
    b = b if type(b) is np.ndarray else float(np.float32(b))
    q *= b
    np.subtract(a, q, out=q)
    r = q.astype(np.float32)
    del q
    zero = (r == 0).astype(np.int32)
    np.left_shift(zero, 31, out=zero)                     # the sign bit where r == 0
    zero &= np.broadcast_to(a, r.shape).view(np.int32)
    ri = r.view(np.int32)
    ri |= zero
    return _redo(r, redo, exact, a, b)


def fmod_f32(a, b):
    """fmod for float32 (a, b arrays of one shape, or b a Python number)."""
    return _residue(a, b, np.trunc, _fmod_exact)


def remainder_f32(a, b):
    """Python-style remainder (sign of b) for float32 (a, b arrays of one shape, or b a Python number)."""
    return _residue(a, b, np.floor, _remainder_exact)


def floor_divide_f32(a, b):
    """floor(a / b) for float32 (a, b arrays of one shape, or b a Python number), as torch's div_floor."""
    q, redo = _float_division(a, b, np.floor)
    return _redo(q.astype(np.float32), redo, np.floor_divide, a, b)


_MATH_SMALL = 256  # below this many elements, the math module's scalar call per element beats a vectorised kernel


def _small_by_math(scalar_fn):
    """Decorator: float32/float64 arrays of at most _MATH_SMALL elements go element by element through `scalar_fn`
    (the math module's libm function, as PyTorch's scalar CPU loops call it); a few Python calls beat a vectorised
    kernel's dozens of NumPy passes there. Values math rejects (poles, overflow) go to the kernel."""
    def deco(kernel):
        @functools.wraps(kernel)
        def wrapper(x):
            if type(x) is np.ndarray and x.size <= _MATH_SMALL and x.dtype.char in "fd":
                try:
                    return np.array(list(map(scalar_fn, x.ravel().tolist())), x.dtype).reshape(x.shape)
                except (ValueError, OverflowError):
                    pass
            return kernel(x)
        return wrapper
    return deco


def _float32_kernel(fast):
    """Decorator: float32 arrays go to `fast` (a float32 kernel), everything else to the decorated kernel."""
    def deco(slow):
        @functools.wraps(slow)
        def wrapper(x):
            if type(x) is np.ndarray and x.dtype == np.float32:
                return fast(x) if x.ndim else fast(x.reshape(1)).reshape(())
            return slow(x)
        return wrapper
    return deco


@_small_by_math(math.erf)
@_float32_kernel(_erf32)
@_elementwise(1)
def erf(x):
    """Error function (W. J. Cody's rational Chebyshev approximations; float32: see _erf32)."""
    return _erf(x)


@_small_by_math(math.erfc)
@_float32_kernel(_erfc32)
@_elementwise(1)
def erfc(x):
    """Complementary error function (Cody's rational approximations; exact-split exp(-x^2) tail)."""
    return _erfc(x)


# ----------------------------------------------------------------------------- inverse erf / normal

_ACK_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
          1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_ACK_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
          6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_ACK_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
          -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_ACK_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
          3.754408661907416e+00, 1.0)


def _acklam_central(q):
    """Acklam's ndtri(0.5 + q) for |q| <= 0.47575 (relative error < 1.2e-9)."""
    r = q * q
    return q * _horner(_ACK_A[::-1], r) / _horner(_ACK_B[::-1], r)


def _acklam_lower(p):
    """Acklam's ndtri(p) for 0 < p < 0.02425 (relative error < 1.2e-9)."""
    t = np.sqrt(-2.0 * np.log(p))
    return _horner(_ACK_C[::-1], t) / _horner(_ACK_D[::-1], t)


def _erfinv_small(x):
    """erfinv(x) for |x| <= 0.5: Acklam start, then two Halley steps on erf(y) - x."""
    y = _acklam_central(0.5 * x) * _SQRT1_2
    for _ in range(2):
        u = (_erf(y) - x) * _SQRTPI_2 * np.exp(y * y)
        y = y - u / (1.0 + y * u)
    return y


def _erfcinv_small(c):
    """erfcinv(c) for 0 < c <= 0.5: Acklam start, two Halley steps on the scaled erfc(y) - c."""
    p = 0.5 * c
    y = -np.where(p < 0.02425, _acklam_lower(p), _acklam_central(p - 0.5)) * _SQRT1_2
    log_c = np.log(c)
    for _ in range(2):
        u = -_SQRTPI_2 * (_erfcx_pos(y) - np.exp(log_c + y * y))   # (erfc(y) - c) / erfc'(y)
        y = y - u / (1.0 + y * u)
    return y


# Giles, "Approximating the erfinv function" (2010): erfinv(y) = y P(w), w = -log(1 - y^2), rel. error < 1.3e-7.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
               0.00943887047, 1.00167406, 2.83297682)


def _erfinv32(y):
    """erfinv for float32 by Giles' single-precision polynomials (central w < 5, tail in sqrt(w)); both polynomials
    are positive, so |P| * y also gives +-inf at y = +-1, where the tail polynomial is -inf."""
    t = np.add(1, y)
    w = np.subtract(1, y)
    w *= t
    np.log(w, out=w)
    np.negative(w, out=w)
    np.subtract(w, 2.5, out=t)
    central = _poly(_GILES_CENTRAL, t)
    use_tail = w >= 5
    np.sqrt(w, out=t)
    t -= 3
    tail = _poly(_GILES_TAIL, t, out=w)
    del t, w
    out = select(use_tail, tail, central)
    np.abs(out, out=out)
    out *= y
    return out


@_float32_kernel(_erfinv32)
@_elementwise(1)
def erfinv(x):
    """Inverse error function: Acklam initial guess refined by Halley steps on Cody's erf/erfc."""
    a = np.abs(x)
    y = np.where(a <= 0.5, _erfinv_small(np.minimum(a, 0.5)),
                 _erfcinv_small(np.clip(1.0 - a, 0.0, 0.5)))        # 1 - a is exact here
    y = np.where(a == 1.0, np.inf, np.where(a > 1.0, np.nan, y))
    return np.copysign(y, x)


@_elementwise(1)
def ndtr(x):
    """Standard normal CDF, 0.5 * erfc(-x / sqrt(2)) with Cody's erfc."""
    return 0.5 * _erfc(-x * _SQRT1_2)


@_elementwise(1)
def ndtri(p):
    """Inverse normal CDF via sqrt(2) * erfinv / erfcinv (Acklam start + Halley refinement)."""
    lo = -_SQRT2 * _erfcinv_small(np.clip(2.0 * p, 0.0, 0.5))
    mid = _SQRT2 * _erfinv_small(np.clip(2.0 * p - 1.0, -0.5, 0.5))
    hi = _SQRT2 * _erfcinv_small(np.clip(2.0 * (1.0 - p), 0.0, 0.5))
    y = np.where(p <= 0.25, lo, np.where(p < 0.75, mid, hi))
    y = np.where(p == 0.0, -np.inf, np.where(p == 1.0, np.inf, y))
    return np.where((p < 0.0) | (p > 1.0), np.nan, y)


@_elementwise(1)
def log_ndtr(x):
    """log of the normal CDF: log(erfcx(t)/2) - t^2 for x < 0 (no underflow), log1p(-erfc/2) else."""
    t = -x * _SQRT1_2
    left = np.log(0.5 * _erfcx_pos(np.maximum(t, 0.0))) - t * t
    right = np.log1p(-0.5 * _erfc(-t))
    return np.where(x < 0, left, right)


# ----------------------------------------------------------------------------- Hurwitz zeta

def _zeta_pos(s, q):
    """Hurwitz zeta for s > 1, q > 0: 10 direct terms plus an Euler-Maclaurin tail (12 Bernoulli terms)."""
    total = np.zeros(np.broadcast(s, q).shape)
    for k in range(10):
        total = total + (q + k) ** -s
    a = q + 10.0
    b = a ** -s
    total = total + a ** (1.0 - s) / (s - 1.0) + 0.5 * b
    fac = b * s / a
    for i, c in enumerate(_EULER_MACLAURIN):
        total = total + c * fac
        fac = fac * (s + 2 * i + 1) * (s + 2 * i + 2) / (a * a)
    return total


def _zeta(s, q):
    """Hurwitz zeta(s, q) in float64, incl. negative non-integer q for integer s (torch's domain)."""
    s, q = np.broadcast_arrays(s, q)
    pos = _zeta_pos(s, np.where(q > 0, q, 1.0))
    # q < 0, integer s: zeta(s,q) = sum_{k<m} (q+k)^-s + zeta(s,q+m); the finite sum is a zeta difference.
    m = -np.floor(q)
    sign = np.where(np.fmod(s, 2.0) == 0, 1.0, -1.0)
    neg = _zeta_pos(s, np.where(q < 0, q + m, 1.0)) + sign * (
        _zeta_pos(s, np.where(q < 0, -(q + (m - 1.0)), 1.0)) - _zeta_pos(s, np.where(q < 0, 1.0 - q, 1.0)))
    out = np.where(q > 0, pos, np.where(s == np.floor(s), neg, np.nan))
    out = np.where(np.isinf(s) & (q > 0), np.where(q > 1, 0.0, np.where(q == 1, 1.0, np.inf)), out)
    out = np.where((q <= 0) & (q == np.floor(q)), np.inf, out)
    out = np.where(q == np.inf, 0.0, np.where(q == -np.inf, np.nan, out))
    out = np.where(s == 1.0, np.inf, np.where(s < 1.0, np.nan, out))
    return np.where(np.isnan(s) | np.isnan(q), np.nan, out)


@_elementwise(2)
def zeta(x, q):
    """Hurwitz zeta function sum_k (k+q)^-x: direct sum + Euler-Maclaurin (as in Cephes), x > 1."""
    return _zeta(x, q)


# ----------------------------------------------------------------------------- gamma family

# lgamma(1+z) = -log1p(z) + (1-euler) z + sum_{k>=2} (-1)^k (zeta(k)-1)/k z^k, |z| <= 1/2
_LGAMMA1P = [(-1.0) ** k * float(_zeta_pos(np.float64(k), np.float64(2.0))) / k for k in range(2, 31)]


def _lgamma1p(z):
    """lgamma(1+z) for |z| <= 1/2: Taylor series about 1 with (zeta(k)-1) coefficients."""
    return z * (1.0 - _EULER) - np.log1p(z) + z * z * _horner(_LGAMMA1P, z)


def _lgamma_stirling(x):
    """lgamma(x) for x >= 10: Stirling's series with 10 Bernoulli terms."""
    series = _horner(_STIRLING, 1.0 / (x * x)) / x
    return (x - 0.5) * np.log(x) - x + _HALF_LOG_2PI + series


def _lgamma_right(x):
    """lgamma(x) for x > -1/2: Taylor series about 1 or 2 (exact shifts), recurrence, or Stirling."""
    ax = np.abs(x)
    n = np.clip(np.floor(x - 1.5), 0.0, 8.0)
    xr = x - n                                   # exact; in [1.5, 2.5) for 1.5 <= x < 10
    prod = np.ones_like(x)
    for j in range(8):
        prod = prod * np.where(j < n, xr + j, 1.0)
    z = np.where(ax < 0.5, x, np.where(x < 1.5, x - 1.0, xr - 2.0))
    extra = np.where(ax < 0.5, -np.log(ax), np.where(x < 1.5, 0.0, np.log(prod) + np.log1p(z)))
    small = _lgamma1p(z) + extra
    return np.where(x >= 10.0, _lgamma_stirling(np.maximum(x, 10.0)), small)


def _lgamma(x):
    """lgamma in float64: series/Stirling for x > -1/2, reflection formula below."""
    left = _LOG_PI - np.log(np.abs(x * _sinpi(x))) - _lgamma_right(np.maximum(-x, 0.5))
    out = np.where(x <= -0.5, left, _lgamma_right(x))
    return np.where(np.isinf(x), np.inf, out)


@_small_by_math(math.lgamma)
@_elementwise(1)
def lgamma(x):
    """log|Gamma(x)|: Taylor series about 1 and 2, Stirling series for x >= 10, reflection for x < 0."""
    return _lgamma(x)


gammaln = lgamma


@_elementwise(1)
def multigammaln(x, p):
    """Multivariate log-gamma: p(p-1)/4 log(pi) + sum_j lgamma(x - j/2), j = 0..p-1."""
    p = int(p)
    if p < 1:
        raise ValueError(f"p has to be greater than or equal to 1, but got {p}")
    if not np.all(x > 0.5 * (p - 1)):
        raise ValueError(f"All elements of x must be greater than (p-1)/2 = {0.5 * (p - 1)}")
    return sum(_lgamma(x - 0.5 * j) for j in range(p)) + 0.25 * p * (p - 1) * _LOG_PI


# digamma has its only positive root at X0; near it a Taylor series keeps full relative accuracy.
_PSI_X0_HI, _PSI_X0_LO = 1.4616321449683622, 9.549995429965697e-17
_PSI_ROOT = [(-1.0) ** (k + 1) * float(_zeta_pos(np.float64(k + 1), np.float64(_PSI_X0_HI)))
             for k in range(1, 25)]


def _digamma_pos(x):
    """digamma for x > 0: recurrence up to x >= 10 then asymptotic series; Taylor series near the root."""
    acc = np.zeros_like(x)
    w = x
    for _ in range(10):
        small = w < 10.0
        acc = acc - np.where(small, 1.0 / w, 0.0)
        w = np.where(small, w + 1.0, w)
    asym = acc + np.log(w) - 0.5 / w - _horner([0.0] + _PSI_ASYM, 1.0 / (w * w))
    d = (x - _PSI_X0_HI) - _PSI_X0_LO
    root = d * _horner(_PSI_ROOT, d)
    return np.where(np.abs(d) < 0.2, root, asym)


def _digamma(x):
    """digamma in float64 with torch's conventions at 0 and the negative integers."""
    t = np.where(x > 0, x, 1.0 - x)
    psi = _digamma_pos(t)
    out = np.where(x > 0, psi, psi - _pi_cotpi(x))            # reflection psi(1-x) - pi cot(pi x)
    out = np.where((x < 0) & (x == np.floor(x)), np.nan, out)
    return np.where(x == 0, np.copysign(np.inf, -x), out)


@_elementwise(1)
def digamma(x):
    """Psi function: recurrence + asymptotic series, Taylor series at the root, reflection for x < 0."""
    return _digamma(x)


@_elementwise(1)
def _polygamma(x, n):
    """(-1)^(n+1) n! zeta(n+1, x) (or digamma for n = 0)."""
    if n == 0:
        return _digamma(x)
    return (-1.0) ** (n + 1) * float(_factorial(n)) * _zeta(np.float64(n + 1), x)


def _trigamma32(x):
    """polygamma(1, x) for float32 as torch computes it: pi^2 / sin^2(pi x) - trigamma(1 - x) below 1/2, six
    recurrence steps, then the asymptotic series (1 + 1/(2y) + B2/y^2 + B4/y^4 + B6/y^6) / y."""
    refl = x < 0.5
    s = np.multiply(x, np.float32(_PI))
    np.sin(s, out=s)
    np.multiply(s, s, out=s)
    np.divide(np.float32(_PI * _PI), s, out=s)
    y = np.subtract(1, x)
    select(~refl, x, y)
    acc = np.zeros_like(y)
    t = np.empty_like(y)
    for _ in range(6):
        np.multiply(y, y, out=t)
        np.divide(1, t, out=t)
        acc += t
        y += 1
    np.multiply(y, y, out=t)
    np.divide(1, t, out=t)                                  # 1 / y^2
    p = _poly((-1 / 42, 1 / 30, -1 / 6), t)
    np.negative(p, out=p)
    p *= t
    np.divide(0.5, y, out=t)
    p += t
    p += 1
    p /= y
    acc += p
    np.subtract(s, acc, out=s)
    return select(refl, s, acc)


def polygamma(n, x):
    """n-th derivative of digamma: (-1)^(n+1) n! zeta(n+1, x) via the Hurwitz zeta (Euler-Maclaurin); float32
    trigamma (digamma's derivative) uses torch's own float32 formula."""
    if int(n) != n or n < 0:
        raise ValueError(f"polygamma(n, x) does not support negative n (got {n})")
    if n == 1 and type(x) is np.ndarray and x.dtype == np.float32 and x.ndim:
        return _trigamma32(x)
    return _polygamma(x, int(n))


# ----------------------------------------------------------------------------- modified Bessel I0, I1

def _bessel_ie(x, nu):
    """exp(-|x|) I_nu(|x|), nu in {0, 1}: power series for |x| <= 20, Hankel asymptotic series above."""
    ax = np.abs(x)
    h = 0.5 * np.minimum(ax, 20.0)
    term = h ** nu
    series = term
    for k in range(1, 40):
        term = term * (h * h) / (k * (k + nu))
        series = series + term
    series = series * np.exp(-np.minimum(ax, 20.0))
    big = np.maximum(ax, 20.0)
    c, asym = np.ones_like(big), np.ones_like(big)
    for k in range(1, 36):
        c = c * ((2 * k - 1) ** 2 - 4 * nu * nu) / (8.0 * k * big)
        asym = asym + c
    asym = asym / np.sqrt(2.0 * _PI * big)
    return np.where(ax <= 20.0, series, asym)


def _unscale(ie, ax):
    """exp(ax) * ie without premature overflow of exp(ax) (finite up to I_nu ~ 1.8e308)."""
    half = np.exp(0.5 * ax)
    out = np.where(ax < 700.0, np.exp(ax) * ie, half * (half * ie))
    return np.where(ax == np.inf, np.inf, out)


@_elementwise(1)
def i0e(x):
    """Exponentially scaled Bessel I0: power series (|x| <= 20) / Hankel asymptotic expansion."""
    return _bessel_ie(x, 0)


@_elementwise(1)
def i0(x):
    """Modified Bessel function I0: power series (|x| <= 20) / Hankel asymptotic expansion."""
    return _unscale(_bessel_ie(x, 0), np.abs(x))


@_elementwise(1)
def i1e(x):
    """Exponentially scaled Bessel I1: power series (|x| <= 20) / Hankel asymptotic expansion."""
    return np.copysign(_bessel_ie(x, 1), x)


@_elementwise(1)
def i1(x):
    """Modified Bessel function I1: power series (|x| <= 20) / Hankel asymptotic expansion."""
    return np.copysign(_unscale(_bessel_ie(x, 1), np.abs(x)), x)


# ----------------------------------------------------------------------------- elementary helpers

@_elementwise(1)
def sinc(x):
    """Normalised sinc sin(pi x)/(pi x) with exact argument reduction; 1 at x = 0."""
    return np.where(x == 0, 1.0, _sinpi(x) / (_PI * x))


@_elementwise(2)
def xlogy(x, y):
    """x * log(y), defined as 0 where x == 0 (unless y is nan)."""
    out = np.where(x == 0, 0.0, x * np.log(y))
    return np.where(np.isnan(y), np.nan, out)


@_elementwise(2)
def xlog1py(x, y):
    """x * log1p(y), defined as 0 where x == 0 (unless y is nan)."""
    out = np.where(x == 0, 0.0, x * np.log1p(y))
    return np.where(np.isnan(y), np.nan, out)


@_elementwise(1)
def entr(x):
    """Elementwise entropy -x log x (0 at 0, -inf for x < 0)."""
    out = np.where(x > 0, -x * np.log(x), np.where(x == 0, 0.0, -np.inf))
    return np.where(np.isnan(x), np.nan, out)


def logit(x, eps=None):
    """log(x / (1 - x)) with optional clamping to [eps, 1 - eps]; log1p form near x = 1/2."""
    x = np.asarray(x)
    if eps is not None and x.dtype.kind == "f":
        lo = x.dtype.type(eps)
        x = np.clip(x, lo, x.dtype.type(1) - lo)               # clamp in the input dtype, like torch
    elif eps is not None:
        x = np.clip(x.astype(np.float32), np.float32(eps), np.float32(1) - np.float32(eps))
    return _logit(x)


@_elementwise(1)
def _logit(x):
    """log(x/(1-x)) as log(x) - log1p(-x) (x < 1/4), log1p((2x-1)/(1-x)) (middle), log(x/(1-x))."""
    mid = np.log1p((2.0 * x - 1.0) / (1.0 - x))
    return np.where(x < 0.25, np.log(x) - np.log1p(-x), np.where(x <= 0.75, mid, np.log(x / (1.0 - x))))


def expit(x):
    """Logistic sigmoid as torch's CPU kernel computes it, 1 / (1 + exp(-x)), in the input's float dtype (float16 via
    float32); exp(-x) overflows harmlessly to inf for very negative x, giving 0 as in torch."""
    if type(x) is np.ndarray and x.ndim and (x.dtype.char == "f" or x.dtype.char == "d"):  # no casts to make
        return _expit_of_negated(np.negative(x))
    x = np.asarray(x)
    dtype = _result_dtype((x,))
    out = np.empty(x.shape, np.float64 if dtype == np.float64 else np.float32)
    np.negative(x if x.dtype.kind == "f" else x.astype(out.dtype), out=out)
    _expit_of_negated(out)
    return out if out.dtype == dtype else out.astype(dtype)


def _expit_of_negated(out):
    """1 / (1 + exp(out)) in place, for out = -x."""
    np.exp(out, out=out)
    one = constant(1, out.dtype)
    out += one
    return np.divide(one, out, out=out)


# ----------------------------------------------------------------------------- regularized incomplete gamma
# The algorithm of Cephes' igam/igamc as revised in SciPy (and used by torch): power series (DLMF 8.11.4 / 8.7.3),
# continued fraction (DLMF 8.9.2) and Temme's uniform asymptotic expansion for large a near x (DLMF 8.12.3/8.12.4).

_EPS64 = 1.11022302462515654042e-16
_MAXLOG = 7.09782712893383996843e2
_IGAM_MAXITER = 2000
_IGAM_BIG, _IGAM_BIGINV = 4.503599627370496e15, 2.22044604925031308085e-16
_LANCZOS_G = 6.024680040776729583740234375
# Lanczos sum scaled by exp(g): numerator coefficients from the highest degree; the denominator is x(x+1)...(x+11).
_LANCZOS_NUM = (0.006061842346248906525783753964555936883222, 0.5098416655656676188125178644804694509993,
                19.51992788247617482847860966235652136208, 449.9445569063168119446858607650988409623,
                6955.999602515376140356310115515198987526, 75999.29304014542649875303443598909137092,
                601859.6171681098786670226533699352302507, 3481712.15498064590882071018964774556468,
                14605578.08768506808414169982791359218571, 43338889.32467613834773723740590533316085,
                86363131.28813859145546927288977868422342, 103794043.1163445451906271053616070238554,
                56906521.91347156388090791033559122686859)
_LANCZOS_DEN = (1.0, 66.0, 1925.0, 32670.0, 357423.0, 2637558.0, 13339535.0, 45995730.0, 105258076.0, 150917976.0,
                120543840.0, 39916800.0, 0.0)
# torch scales the asymptotic correction by 1 / sqrt(2 pi a) with pi rounded to float32 (c10::pi<float>).
_TWO_PI_F32 = 2.0 * float(np.float32(np.pi))


def _ratevl(x, num, den):
    """num(x) / den(x) (coefficients from the highest degree, equal degrees), in 1/x for |x| > 1 (no overflow)."""
    y = np.where(np.abs(x) > 1, 1.0 / x, x)
    big = np.abs(x) > 1
    n = np.where(big, _horner(num, y), _horner(num[::-1], y))
    d = np.where(big, _horner(den, y), _horner(den[::-1], y))
    return n / d


def _igam_fac(a, x):
    """x^a e^-x / Gamma(a): direct for |a - x| > 0.4 a, Lanczos form (no cancellation) near a = x."""
    log_direct = a * np.log(x) - x - _lgamma(a)
    direct = np.where(log_direct < -_MAXLOG, 0.0, np.exp(log_direct))
    fac = a + _LANCZOS_G - 0.5
    res = np.sqrt(fac / np.e) / _ratevl(a, _LANCZOS_NUM, _LANCZOS_DEN)
    num = x - a - _LANCZOS_G + 0.5
    small = res * np.exp(a - x) * (x / fac) ** a
    large = res * np.exp(a * (np.log1p(num / fac) - num / fac) + x * (0.5 - _LANCZOS_G) / fac)
    near = np.where((a < 200) & (x < 200), small, large)
    return np.where(np.abs(a - x) > 0.4 * np.abs(a), direct, near)


def _iterate(step, state, limit):
    """Apply step(state) -> (state, done) at most `limit` times, each element dropping out once done; returns every
    element's final state[0]."""
    out = state[0].copy()
    idx = np.arange(out.size)
    for _ in range(limit):
        if not idx.size:
            break
        state, done = step(state)
        out[idx] = state[0]
        keep = ~done
        idx = idx[keep]
        state = tuple(s[keep] for s in state)
    return out


def _igam_series_step(state):
    ans, c, r, x = state
    r = r + 1.0
    c = c * x / r
    ans = ans + c
    return (ans, c, r, x), c <= _EPS64 * ans


def _igam_series(a, x):
    """P(a, x) by the power series x^a e^-x / Gamma(a + 1) * sum x^n / ((a+1)...(a+n))."""
    ax = _igam_fac(a, x)
    one = np.ones_like(a)
    total = _iterate(_igam_series_step, (one, one, a, x), _IGAM_MAXITER)
    return np.where(ax == 0, 0.0, total * ax / a)


def _igamc_series_step(state):
    total, fac, n, x, a = state
    fac = fac * -x / n
    term = fac / (a + n)
    total = total + term
    return (total, fac, n + 1.0, x, a), np.abs(term) <= _EPS64 * np.abs(total)


def _igamc_series(a, x):
    """Q(a, x) for small x: 1 - x^a / Gamma(a + 1) minus the alternating series, without cancellation."""
    total = _iterate(_igamc_series_step, (np.zeros_like(a), np.ones_like(a), np.ones_like(a), x, a),
                     _IGAM_MAXITER - 1)
    logx = np.log(x)
    return -np.expm1(a * logx - _lgamma(1.0 + a)) - np.exp(a * logx - _lgamma(a)) * total


def _igamc_cf_step(state):
    ans, y, z, c, pkm1, pkm2, qkm1, qkm2 = state
    c, y, z = c + 1.0, y + 1.0, z + 2.0
    yc = y * c
    pk = pkm1 * z - pkm2 * yc
    qk = qkm1 * z - qkm2 * yc
    nonzero = qk != 0
    r = pk / np.where(nonzero, qk, 1.0)
    t = np.where(nonzero, np.abs((ans - r) / r), 1.0)
    ans = np.where(nonzero, r, ans)
    scale = np.where(np.abs(pk) > _IGAM_BIG, _IGAM_BIGINV, 1.0)
    return (ans, y, z, c, pk * scale, pkm1 * scale, qk * scale, qkm1 * scale), t <= _EPS64


def _igamc_cf(a, x):
    """Q(a, x) for x > a by the continued fraction of DLMF 8.9.2 (Cephes' recurrences with rescaling)."""
    ax = _igam_fac(a, x)
    y = 1.0 - a
    z = x + y + 1.0
    state = ((x + 1.0) / (z * x), y, z, np.zeros_like(a), x + 1.0, np.ones_like(a), z * x, x)
    return np.where(ax == 0, 0.0, _iterate(_igamc_cf_step, state, _IGAM_MAXITER) * ax)


@functools.lru_cache(maxsize=None)
def _temme_coefficients(rows=25, cols=25):
    """d[k][n] of Temme's expansion (DLMF 8.12.12), exactly: from the inversion of eta^2/2 = mu - log(1 + mu) and the
    Stirling-series coefficients of Gamma; shape (rows, cols), float64."""
    m = cols + 2 * rows
    alpha = [Fraction(0), Fraction(1)]                     # mu = sum alpha_n eta^n, from mu mu' = eta (1 + mu)
    for j in range(2, m + 2):
        alpha.append((alpha[j - 1] - sum(alpha[i] * (j + 1 - i) * alpha[j + 1 - i] for i in range(2, j))) / (j + 1))
    log_terms = [Fraction(0)] * rows                       # log Gamma*(a) = sum B_2j / (2j (2j-1)) a^(1-2j)
    for j, b in enumerate(_B2K, 1):
        if 2 * j - 1 < rows:
            log_terms[2 * j - 1] = b / (2 * j * (2 * j - 1))
    g = [Fraction(1)]                                      # Gamma*(a) = sum g_k a^-k (exponential of the series)
    for n in range(1, rows):
        g.append(sum(k * log_terms[k] * g[n - k] for k in range(1, n + 1)) / n)
    d = [[Fraction(-1, 3)] + [(n + 2) * alpha[n + 2] for n in range(1, m)]]
    for k in range(1, rows):
        d.append([(-1) ** k * g[k] * d[0][n] + (n + 2) * d[k - 1][n + 2] for n in range(m - 2 * k)])
    return np.array([[float(v) for v in row[:cols]] for row in d])


def _igam_asymptotic(a, x, lower):
    """P(a, x) (lower) or Q(a, x) by Temme's uniform expansion in eta, for large a with x near a."""
    d = _temme_coefficients()
    sigma = (x - a) / a
    eta = np.copysign(np.sqrt(-2.0 * (np.log1p(sigma) - sigma)), sigma)
    eta = np.where(x == a, 0.0, eta)
    sgn = -1.0 if lower else 1.0
    res = 0.5 * _erfc(sgn * eta * np.sqrt(a / 2.0))
    total, afac = np.zeros_like(a), np.ones_like(a)
    old = np.full_like(a, np.inf)
    active = np.ones(a.shape, bool)
    for k in range(d.shape[0]):
        term = _horner(d[k], eta) * afac
        absterm = np.abs(term)
        active &= absterm <= old
        total = np.where(active, total + term, total)
        active &= absterm >= _EPS64 * np.abs(total)
        old, afac = absterm, afac / a
    return res + sgn * np.exp(-0.5 * a * eta * eta) * total / np.sqrt(_TWO_PI_F32 * a)


def _on(out, mask, fn, *args):
    """out[mask] = fn(*(arg[mask] for arg in args)) (the kernel runs on the selected elements only)."""
    if mask.any():
        out[mask] = fn(*(v[mask] for v in args))


def _igam_asymptotic_region(a, x):
    """Where Temme's expansion is used: 20 < a < 200 with |x - a| / a < 0.3, or a > 200 with |x - a| / a < 4.5/sqrt(a)."""
    r = np.abs(x - a) / a
    return ((a > 20) & (a < 200) & (r < 0.3)) | ((a > 200) & (r < 4.5 / np.sqrt(a)))


def _igammac_core(a, x, rest, out):
    """Q(a, x) into out[rest] (finite a > 0, x > 0 outside the asymptotic region), choosing as Cephes does between the
    continued fraction, the small-x series and 1 - P."""
    ln_x = np.log(np.where(x > 0, x, 1.0))
    via_p = np.where(x > 1.1, x < a, np.where(x <= 0.5, -0.4 / ln_x < a, x * 1.1 < a))
    _on(out, rest & via_p, lambda a, x: 1.0 - _igam_series(a, x), a, x)
    _on(out, rest & ~via_p & (x > 1.1), _igamc_cf, a, x)
    _on(out, rest & ~via_p & ~(x > 1.1), _igamc_series, a, x)


def _igamma_edges(a, x, lower):
    """(values at the domain edges with torch's conventions, mask of the regular entries)."""
    out = np.full(a.shape, np.nan)
    zero_a = (a == 0) & (x > 0)
    out[zero_a] = 1.0 if lower else 0.0
    out[(x == 0) & ((a > 0) | np.isnan(a))] = 0.0 if lower else 1.0
    inf_a = (a == np.inf) & (x > 0) | (a == np.inf) & np.isnan(x)
    out[inf_a & (x != np.inf)] = 0.0 if lower else 1.0
    inf_x = (x == np.inf) & (a > 0) & (a != np.inf) | (x == np.inf) & np.isnan(a)
    out[inf_x] = 1.0 if lower else 0.0
    regular = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    return out, regular


def _igamma_prepare(a, x, lower):
    a, x = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(a, x))
    out, regular = _igamma_edges(a, x, lower)
    asym = regular & _igam_asymptotic_region(a, x)
    _on(out, asym, lambda a, x: _igam_asymptotic(a, x, lower), a, x)
    return a, x, out, regular & ~asym


@_elementwise(2)
def igamma(a, x):
    """Regularized lower incomplete gamma P(a, x): series for x <= max(1, a), 1 - Q above, Temme's expansion for
    large a near x; P(0, x > 0) = 1, P(inf, finite x) = 0, nan outside a, x >= 0 (torch's conventions)."""
    a, x, out, rest = _igamma_prepare(a, x, True)
    via_q = rest & (x > 1.0) & (x > a)
    q = np.zeros_like(out)
    _igammac_core(a, x, via_q, q)
    out[via_q] = 1.0 - q[via_q]
    _on(out, rest & ~via_q, _igam_series, a, x)
    return out


@_elementwise(2)
def igammac(a, x):
    """Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x), computed directly where that would cancel."""
    a, x, out, rest = _igamma_prepare(a, x, False)
    _igammac_core(a, x, rest, out)
    return out


# ----------------------------------------------------------------------------- Cephes-style Bessel and Airy kernels
# These run in the input's own float dtype, with torch's operation order, because torch evaluates the same formulas
# in float for float32 inputs (its float32 rounding, e.g. of x - pi/4 at large x, is part of the values it returns).

def _own_dtype(nargs):
    """Decorator: run the kernel on the first `nargs` args broadcast to their common float dtype (float32 or float64;
    integers and bools -> float32, float16 via float32), casting the result back to that dtype."""
    def deco(kernel):
        @functools.wraps(kernel)
        def wrapper(*args):
            dtype = _result_dtype(args[:nargs])
            work = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)
            arrays = [np.array(a, dtype=work) for a in np.broadcast_arrays(*args[:nargs])]
            with np.errstate(all="ignore"):
                out = kernel(*arrays, *args[nargs:])
            return np.asarray(out, dtype=work).astype(dtype, copy=False)
        return wrapper
    return deco


def _polevl(z, coefs):
    """Horner's rule from the highest coefficient, starting from 0 * z as torch's loops do."""
    acc = z * 0.0 + coefs[0]
    for c in coefs[1:]:
        acc = acc * z + c
    return acc


_SQRT_2_PI = 0.797884560802865355879892119868763737           # sqrt(2 / pi)
_TWO_OVER_PI = 0.636619772367581343075535053490057448
_PIO4, _3PIO4 = 0.785398163397448309615660845819875721, 2.356194490192344928846982537459627163

_J0_PP = (7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
          5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
          9.99999999999999997821e-01)
_J0_PQ = (9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
          5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
          1.00000000000000000218e+00)
_J0_QP = (-1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
          -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
          -5.14105326766599330220e+01, -6.05014350600728481186e+00)
_J0_QQ = (6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03,
          7.24046774195652478189e+03, 5.93072701187316984827e+03, 2.06209331660327847417e+03,
          2.42005740240291393179e+02)
_J0_RP = (-4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
          9.70862251047306323952e+15)
_J0_RQ = (4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07,
          1.11855537045356834862e+10, 2.11277520115489217587e+12, 3.10518229857422583814e+14,
          3.18121955943204943306e+16, 1.71086294081043136091e+18)
_J0_DR1, _J0_DR2 = 5.78318596294678452118e+00, 3.04712623436620863991e+01
_Y0_YP = (1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
          -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
          4.42733268572569800351e+16, -1.84950800436986690637e+16)
_Y0_YQ = (1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08,
          8.64002487103935000337e+10, 2.02979612750105546709e+13, 3.17157752842975028269e+15,
          2.50596256172653059228e+17)
_J1_PP = (7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
          5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
          1.00000000000000000254e+00)
_J1_PQ = (5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
          5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
          9.99999999999999997461e-01)
_J1_QP = (5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
          3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
          2.11688757100572135698e+02, 2.52070205858023719784e+01)
_J1_QQ = (7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03,
          9.56231892404756170795e+03, 7.99704160447350683650e+03, 2.82619278517639096600e+03,
          3.36093607810698293419e+02)
_J1_RP = (-8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
          3.68295732863852883286e+15)
_J1_RQ = (6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07,
          2.21511595479792499675e+10, 4.74914122079991414898e+12, 7.84369607876235854894e+14,
          8.95222336184627338078e+16, 5.32278620332680085395e+18)
_J1_Z1, _J1_Z2 = 1.46819706421238932572e+01, 4.92184563216946036703e+01
_Y1_YP = (1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
          -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17)
_Y1_YQ = (5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07,
          1.87601316108706159478e+10, 3.88231277496238566008e+12, 6.20557727146953693363e+14,
          6.87141087355300489866e+16, 3.97270608116560655612e+18)


def _hankel(x, z, coefs, shift, second_kind):
    """Large-x form sqrt(2/(pi x)) (P cos(x - shift) - 5/x Q sin(x - shift)) of J (Y: P sin + 5/x Q cos), with P and
    Q rational in z ~ 25 / x^2."""
    pp, pq, qp, qq = coefs
    p = _polevl(z, pp) / _polevl(z, pq)
    q = _polevl(z, qp) / _polevl(z, qq)
    s, c = np.sin(x - shift), np.cos(x - shift)
    v = p * s + 5.0 / x * q * c if second_kind else p * c - 5.0 / x * q * s
    return v * _SQRT_2_PI / np.sqrt(x)


def _j0(x):
    """J0 of |x| (x >= 0 or nan here): 1 - x^2/4 below 1e-5, Cephes' rational form to 5, Hankel form above."""
    xx = x * x
    small = (xx - _J0_DR1) * (xx - _J0_DR2) * _polevl(xx, _J0_RP) / _polevl(xx, _J0_RQ)
    small = np.where(x < 0.00001, 1.0 - xx / 4.0, small)
    return np.where(x <= 5.0, small, _hankel(x, 25.0 / xx, (_J0_PP, _J0_PQ, _J0_QP, _J0_QQ), _PIO4, False))


def _j1(x):
    """J1 for x >= 0 (or nan): Cephes' rational form to 5, Hankel form above."""
    xx = x * x
    small = _polevl(xx, _J1_RP) / _polevl(xx, _J1_RQ) * x * (xx - _J1_Z1) * (xx - _J1_Z2)
    big = _hankel(x, 5.0 / x * (5.0 / x), (_J1_PP, _J1_PQ, _J1_QP, _J1_QQ), _3PIO4, False)
    return np.where(x <= 5.0, small, big)


@_own_dtype(1)
def bessel_j0(x):
    """Bessel function of the first kind of order 0 (Cephes j0; even, nan at +-inf as torch)."""
    return _j0(np.abs(x))


@_own_dtype(1)
def bessel_j1(x):
    """Bessel function of the first kind of order 1 (Cephes j1; odd, -0 kept, nan at +-inf as torch)."""
    return np.where(x < 0, -_j1(-x), _j1(np.where(x < 0, 0.0, x)))


@_own_dtype(1)
def bessel_y0(x):
    """Bessel function of the second kind of order 0: -inf at 0, nan for x < 0 (Cephes y0)."""
    xs = np.where(x > 0, np.minimum(x, 5.0), 1.0)
    xx = xs * xs
    small = _polevl(xx, _Y0_YP) / _polevl(xx, _Y0_YQ) + _TWO_OVER_PI * np.log(xs) * _j0(xs)
    small = np.where(x == 0, -np.inf, np.where(x < 0, np.nan, small))
    big = _hankel(x, 25.0 / (x * x), (_J0_PP, _J0_PQ, _J0_QP, _J0_QQ), _PIO4, True)
    return np.where(x <= 5.0, small, big)


@_own_dtype(1)
def bessel_y1(x):
    """Bessel function of the second kind of order 1: -inf at 0, nan for x < 0 (Cephes y1)."""
    xs = np.where(x > 0, np.minimum(x, 5.0), 1.0)
    xx = xs * xs
    small = xs * (_polevl(xx, _Y1_YP) / _polevl(xx, _Y1_YQ)) + _TWO_OVER_PI * (_j1(xs) * np.log(xs) - 1.0 / xs)
    small = np.where(x == 0, -np.inf, np.where(x < 0, np.nan, small))
    big = _hankel(x, 5.0 / x * (5.0 / x), (_J1_PP, _J1_PQ, _J1_QP, _J1_QQ), _3PIO4, True)
    return np.where(x <= 5.0, small, big)


_K0_A = (1.37446543561352307156e-16, 4.25981614279661018399e-14, 1.03496952576338420167e-11,
         1.90451637722020886025e-09, 2.53479107902614945675e-07, 2.28621210311945178607e-05,
         1.26461541144692592338e-03, 3.59799365153615016266e-02, 3.44289899924628486886e-01,
         -5.35327393233902768720e-01)
_K0_B = (5.30043377268626276149e-18, -1.64758043015242134646e-17, 5.21039150503902756861e-17,
         -1.67823109680541210385e-16, 5.51205597852431940784e-16, -1.84859337734377901440e-15,
         6.34007647740507060557e-15, -2.22751332699166985548e-14, 8.03289077536357521100e-14,
         -2.98009692317273043925e-13, 1.14034058820847496303e-12, -4.51459788337394416547e-12,
         1.85594911495471785253e-11, -7.95748924447710747776e-11, 3.57739728140030116597e-10,
         -1.69753450938905987466e-09, 8.57403401741422608519e-09, -4.66048989768794782956e-08,
         2.76681363944501510342e-07, -1.83175552271911948767e-06, 1.39498137188764993662e-05,
         -1.28495495816278026384e-04, 1.56988388573005337491e-03, -3.14481013119645005427e-02,
         2.44030308206595545468e+00)
_K1_A = (-7.02386347938628759343e-18, -2.42744985051936593393e-15, -6.66690169419932900609e-13,
         -1.41148839263352776110e-10, -2.21338763073472585583e-08, -2.43340614156596823496e-06,
         -1.73028895751305206302e-04, -6.97572385963986435018e-03, -1.22611180822657148235e-01,
         -3.53155960776544875667e-01, 1.52530022733894777053e+00)
_K1_B = (-5.75674448366501715755e-18, 1.79405087314755922667e-17, -5.68946255844285935196e-17,
         1.83809354436663880070e-16, -6.05704724837331885336e-16, 2.03870316562433424052e-15,
         -7.01983709041831346144e-15, 2.47715442448130437068e-14, -8.97670518232499435011e-14,
         3.34841966607842919884e-13, -1.28917396095102890680e-12, 5.13963967348173025100e-12,
         -2.12996783842756842877e-11, 9.21831518760500529508e-11, -4.19035475934189648750e-10,
         2.01504975519703286596e-09, -1.03457624656780970260e-08, 5.74108412545004946722e-08,
         -3.50196060308781257119e-07, 2.40648494783721712015e-06, -1.93619797416608296024e-05,
         1.95215518471351631108e-04, -2.85781685962277938680e-03, 1.03923736576817238437e-01,
         2.72062619048444266945e+00)


def _chbevl(z, coefs):
    """Clenshaw sum of a Chebyshev series at z (Cephes chbevl, as torch inlines it): 0.5 (b0 - b2)."""
    b0, b1, b2 = z * 0.0 + coefs[0], z * 0.0, z * 0.0
    for c in coefs[1:]:
        b0, b1, b2 = z * b0 - b1 + c, b0, b1
    return 0.5 * (b0 - b2)


def _k_parts(x, order, scaled):
    """(K_order(x) for 0 < x <= 2, the Chebyshev sum exp(x) sqrt(x) K_order(x) for x > 2); unscaled K0 takes
    log(x/2) in float64, as torch does."""
    xs = np.where(x > 0, np.minimum(x, 2.0), 1.0)
    i_nu = (_unscale(_bessel_ie(xs.astype(np.float64), order), xs.astype(np.float64))).astype(x.dtype)
    if order == 0:
        log_half = np.log(0.5 * (xs if scaled else xs.astype(np.float64)))
        small = (_chbevl(xs * xs - 2.0, _K0_A) - log_half * i_nu).astype(x.dtype)
    else:
        small = np.log(0.5 * xs) * i_nu + _chbevl(xs * xs - 2.0, _K1_A) / xs
    xb = np.where(x <= 2.0, 4.0, x)
    big = _chbevl(8.0 / xb - 2.0, _K0_B if order == 0 else _K1_B)
    return small, big


def _modified_k(x, order, scaled):
    """K0/K1 (scaled: times exp(x)) by Cephes' Chebyshev expansions: inf at 0, nan for x < 0."""
    small, big = _k_parts(x, order, scaled)
    if scaled:
        small, big = small * np.exp(x), big / np.sqrt(x)
    else:
        big = np.exp(-x) * big / np.sqrt(x)
    out = np.where(x <= 2.0, small, big)
    return np.where(x == 0, np.inf, np.where(x < 0, np.nan, out))


@_own_dtype(1)
def modified_bessel_k0(x):
    """Modified Bessel function of the second kind K0 (Cephes k0)."""
    return _modified_k(x, 0, False)


@_own_dtype(1)
def modified_bessel_k1(x):
    """Modified Bessel function of the second kind K1 (Cephes k1)."""
    return _modified_k(x, 1, False)


@_own_dtype(1)
def scaled_modified_bessel_k0(x):
    """exp(x) K0(x) (Cephes k0e)."""
    return _modified_k(x, 0, True)


@_own_dtype(1)
def scaled_modified_bessel_k1(x):
    """exp(x) K1(x) (Cephes k1e)."""
    return _modified_k(x, 1, True)


@_own_dtype(1)
def spherical_bessel_j0(x):
    """sin(x) / x: its Taylor polynomial for |x| < 1/2, 0 at +-inf."""
    xx = x * x
    taylor = 1.0 + xx * (-1.0 / 6.0 + xx * (1.0 / 120.0 + xx * (-1.0 / 5040.0 + xx * (
        1.0 / 362880.0 + xx * (-1.0 / 39916800.0 + xx * (1.0 / 6227020800.0))))))
    out = np.where(np.abs(x) < 0.5, taylor, np.sin(x) / x)
    return np.where(np.isinf(x), 0.0, out)


_AI_AN = (3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
          1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
          1.40264691163389668864e+01, 9.99999999999999995305e-01)
_AI_AD = (5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
          1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
          1.40959135607834029598e+01, 1.00000000000000000470e+00)
_AI_AFN = (-1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
           -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
           -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08)
_AI_AFD = (1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
           9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
           4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07)
_AI_AGN = (1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
           9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
           5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
           8.11789239554389293311e-08, 3.41551784765923618484e-10)
_AI_AGD = (9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
           5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
           4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
           4.91834570062930015649e-09)
_INV_SQRTPI_AI = 5.64189583547756286948e-01
_AI_C1, _AI_C2 = 0.355028053887817239260, 0.258819403792806798405


def _airy_oscillating(x):
    """Ai(x) for x < -2.09: modulus-phase asymptotic form with rational corrections in 1/zeta."""
    zeta = -2.0 * x * np.sqrt(-x) / 3.0
    z = 1.0 / zeta
    zz = z * z
    f = 1.0 + zz * _polevl(zz, _AI_AFN) / _polevl(zz, _AI_AFD)
    g = z * _polevl(zz, _AI_AGN) / _polevl(zz, _AI_AGD)
    t = zeta + 0.25 * x.dtype.type(np.pi)
    return _INV_SQRTPI_AI / np.sqrt(np.sqrt(-x)) * (np.sin(t) * f - np.cos(t) * g)


def _airy_decaying(x):
    """Ai(x) for x >= 2.09: exp(-zeta) / (2 sqrt(pi) x^(1/4)) times a rational function of 1/zeta."""
    zeta = 2.0 * x * np.sqrt(x) / 3.0
    ratio = _polevl(1.0 / zeta, _AI_AN) / _polevl(1.0 / zeta, _AI_AD)
    return _INV_SQRTPI_AI * ratio / (2.0 * np.sqrt(np.sqrt(x)) * np.exp(zeta))


def _airy_series(x):
    """Ai(x) for |x| < 2.09 from the Maclaurin series of its two fundamental solutions, summed until a term is below
    the dtype's epsilon (per element, as torch's loop)."""
    eps = np.finfo(x.dtype).eps
    z = x * x * x
    f, g, m, n = np.ones_like(x), x.copy(), np.ones_like(x), x.copy()
    active = np.ones(x.shape, bool)
    k = 1.0
    while active.any():
        m2 = m * z / (k + 1.0) / (k + 2.0)
        n2 = n * z / (k + 2.0) / (k + 3.0)
        k += 3.0
        f, g = np.where(active, f + m2, f), np.where(active, g + n2, g)
        m, n = np.where(active, m2, m), np.where(active, n2, n)
        active &= np.abs(m / f) > eps
    return _AI_C1 * f - _AI_C2 * g


@_own_dtype(1)
def airy_ai(x):
    """Airy function Ai (Cephes airy): series near 0, asymptotic forms beyond +-2.09; 0 above 103.892, nan at +-inf."""
    out = np.full_like(x, np.nan)
    _on(out, (x >= -2.09) & (x < 2.09) | np.isnan(x), _airy_series, x)
    _on(out, x < -2.09, _airy_oscillating, x)
    _on(out, (x >= 2.09) & (x <= 103.892), _airy_decaying, x)
    out[x > 103.892] = 0.0
    out[np.isinf(x)] = np.nan
    return out


# ----------------------------------------------------------------------------- classical orthogonal polynomials
# torch truncates the degree n to an integer, returns 0 for n < 0, uses closed trigonometric forms for |x| < 1 and
# large n (Chebyshev), and otherwise runs the three-term recurrence in the input dtype, stopping at a nan; its
# compiled loops contract each step into one fused multiply-add, which _fma reproduces. Its scalar loops take acos
# from libm, whose last bit the degree multiplies; NumPy's arccos is an SIMD kernel on AVX512 machines that differs
# from libm by an ulp or two, so _acos calls libm's acos (float64) or replays glibc's acosf (float32) instead.

def _degree(n):
    """torch's static_cast<int64_t>(n): truncation toward 0; nan, +-inf and |n| >= 2^63 give a negative degree."""
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, n, 0.0)), -1.0).astype(np.int64)


def _recurrence(step, x, q, k, nan_stop):
    """q_(j+1) = step(x, q_(j-1), q_j, j) for j = 1 .. k-1 from (1, q), per element (ending early where q is nan if
    nan_stop); returns the last q."""
    out = q.copy()
    idx = np.arange(q.size)
    p = np.ones_like(q)
    j = 1
    while True:
        keep = (k > j) & ~np.isnan(q) if nan_stop else k > j
        if not keep.all():
            out[idx[~keep]] = q[~keep]
            idx, x, p, q, k = idx[keep], x[keep], p[keep], q[keep], k[keep]
        if not idx.size:
            return out
        p, q = q, step(x, p, q, j)
        j += 1


def _orthogonal(x, k, q0, step, branches, nan_stop=True):
    """Degree-k polynomial as torch evaluates it: 0 for k < 0, then `branches` ((mask, value) pairs, first match
    wins), 1 for k = 0, q0 for k = 1, else the recurrence `step` from (1, q0)."""
    out = np.zeros_like(x)
    done = k < 0
    for mask, value in branches + [(k == 0, 1.0), (k == 1, q0)]:
        out = np.where(mask & ~done, np.asarray(value).astype(x.dtype), out)
        done = done | mask
    rest = ~done
    if rest.any():
        out[rest] = _recurrence(step, x[rest], np.broadcast_to(q0, x.shape)[rest], k[rest], nan_stop)
    return out


def _two_product_error(a, b, p):
    """a * b - p exactly, for p = fl(a * b) (Dekker's product with Veltkamp's splitting)."""
    def split(v):
        c = 134217729.0 * v
        hi = c - (c - v)
        return hi, v - hi
    ah, al = split(a)
    bh, bl = split(b)
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma(a, b, c):
    """a * b + c rounded once, as torch's FMA-contracted loops compute it: exact through float64 for float32 operands;
    for float64 by the error-free product and sum (plain a * b + c where splitting overflows)."""
    if a.dtype == np.float32:
        return (a.astype(np.float64) * b + c).astype(np.float32)
    p = a * b
    s = p + c
    v = s - p
    r = s + (((p - (s - v)) + (c - v)) + _two_product_error(a, b, p))
    return np.where(np.isfinite(r), r, s)


def _chebyshev_step(x, p, q, j):
    return _fma(x + x, q, -p)


def _signed(k, value):
    """value for even k, -value for odd k."""
    return np.where(k % 2 == 0, value, -value)


def _chebyshev_ends(kind, k):
    """torch's values of the degree-k Chebyshev polynomial of this kind at y = 1 and at y = -1."""
    plus = {"t": 1, "u": k + 1, "v": 1, "w": k + k + 1}[kind]
    minus = {"t": 1, "u": k + 1, "v": k + k + 1, "w": 1}[kind]
    return plus, _signed(k, minus)


_F32 = np.float32
_ACOSF_P = tuple(_F32(c) for c in (3.4793309169e-05, 7.9153501429e-04, -4.0055535734e-02, 2.0121252537e-01,
                                   -3.2556581497e-01, 1.6666667163e-01))
_ACOSF_Q = tuple(_F32(c) for c in (7.7038154006e-02, -6.8828397989e-01, 2.0209457874e+00, -2.4033949375e+00))
_ACOSF_PI, _ACOSF_PIO2_HI, _ACOSF_PIO2_LO = _F32(3.1415925026e+00), _F32(1.5707962513e+00), _F32(7.5497894159e-08)


def _acosf_ratio(z):
    """fdlibm's acosf rational approximation z p(z) / q(z) in float32, Horner from the highest coefficient (in place:
    fresh temporaries cost more than the arithmetic on large arrays)."""
    p, q = z * _ACOSF_P[0], z * _ACOSF_Q[0]
    for c in _ACOSF_P[1:]:
        p += c
        p *= z
    for c in _ACOSF_Q[1:]:
        q += c
        q *= z
    q += _F32(1)
    p /= q
    return p


def _acosf(x):
    """glibc's acosf (fdlibm's algorithm, glibc <= 2.40) for float32 |x| < 1, operation for operation: the acos torch's
    float32 loops call (equal on all 2^31 such inputs), where NumPy's float32 arccos may be an AVX512 kernel."""
    a = np.abs(x)
    small = a < _F32(0.5)
    np.subtract(_F32(1), a, out=a)
    a *= _F32(0.5)
    z = select(small, x * x, a)
    r = _acosf_ratio(z)
    s = np.sqrt(z)
    head = (s.view(np.int32) & np.int32(-4096)).view(np.float32)
    rs = r * s
    above = np.subtract(z, head * head, out=z)
    above /= s + head
    above += rs
    above += head
    above *= _F32(2)
    rs -= _ACOSF_PIO2_LO
    rs += s
    rs *= _F32(2)
    below = np.subtract(_ACOSF_PI, rs, out=rs)
    centre = np.multiply(x, r, out=r)
    np.subtract(_ACOSF_PIO2_LO, centre, out=centre)
    np.subtract(x, centre, out=centre)
    np.subtract(_ACOSF_PIO2_HI, centre, out=centre)
    return select(small, centre, select(x < 0, below, above))


_LIBM_ACOS = np.frompyfunc(math.acos, 1, 1)


def _acos(y):
    """acos as torch's scalar loops take it from libm, as NumPy's arccos may be an AVX512 kernel an ulp or two off:
    math.acos per element in float64, glibc's acosf replayed in float32."""
    if y.dtype == np.float32:
        return _acosf(y)
    return _LIBM_ACOS(y).astype(np.float64)


def _chebyshev_trig(kind, y, k, fallback):
    """torch's closed forms for |y| < 1, t = acos(y): T = cos(k t), U = sin((k+1) t) / sin t, V = cos((k+1/2) t) /
    cos(t/2), W = sin((k+1/2) t) / sin(t/2); `fallback` where the V or W denominator rounds to 0."""
    t = _acos(y)
    kf = k.astype(y.dtype)
    if kind == "t":
        return np.cos(kf * t)
    if kind == "u":
        k1 = (k + 1).astype(y.dtype)
        s = np.sin(t)
        return np.where(s != 0, np.sin(k1 * t) / s, k1 * np.cos(k1 * t) / y)
    if kind == "v":
        return np.where(np.sin(t / 2.0) != 1, np.cos((kf + 0.5) * t) / np.cos(t / 2.0), fallback)
    return np.where(np.cos(t / 2.0) != 1, np.sin((kf + 0.5) * t) / np.sin(t / 2.0), fallback)


_CHEBYSHEV_Q0 = {"t": lambda y: y, "u": lambda y: y + y, "v": lambda y: y + y - 1.0, "w": lambda y: y + y + 1.0}


def _chebyshev(kind, x, n, shifted=False):
    """Chebyshev polynomial of the first to fourth kind ("t", "u", "v", "w") of degree n at x (shifted: at 2x - 1),
    with torch's endpoint values, trigonometric forms for |y| < 1 above degree 6 or 8 (shifted W: 4) and recurrence."""
    k = _degree(n)
    y = x + x - 1.0 if shifted else x
    plus, minus = _chebyshev_ends(kind, k)
    if shifted:
        ends, above = [(x == 1, plus), (x == 0, minus)], 4 if kind == "w" else 6
        fallback = minus
    else:
        ends, above = [(np.abs(x) == 1, np.where(x > 0, plus, minus))], 6 if kind == "t" else 8
        fallback = minus if kind == "v" else np.where(x > 0, plus, minus)
    in_trig = (k > above) & (np.abs(y) < 1)
    trig = np.zeros_like(y)
    _on(trig, in_trig, lambda *a: _chebyshev_trig(kind, *a), y, k, np.broadcast_to(fallback, y.shape))
    return _orthogonal(y, k, _CHEBYSHEV_Q0[kind](y), _chebyshev_step, ends + [(in_trig, trig)])


def _hermite_step(x, p, q, j):
    return _fma(x + x, q, -((2 * j) * p))


def _hermite_e_step(x, p, q, j):
    return _fma(x, q, -(j * p))


def _laguerre_step(x, p, q, j):
    return _fma(2 * j + (1.0 - x), q, -(j * p)) / (j + 1)


def _legendre_step(x, p, q, j):
    return _fma((2 * j + 1) * x, q, -(j * p)) / (j + 1)


def _hermite_limit(x):
    """The degree above which torch returns nan for Hermite polynomials (128 in float32, 512 in float64)."""
    return 128 if x.dtype == np.float32 else 512


def _hermite(x, n, probabilists=False):
    """Physicists' Hermite polynomial H_n(x) (probabilists: He_n(x)) by the recurrence, nan above torch's degree limit."""
    k = _degree(n)
    q0, step = (x, _hermite_e_step) if probabilists else (x + x, _hermite_step)
    return _orthogonal(x, k, q0, step, [(k > _hermite_limit(x), np.nan)], nan_stop=False)


def _laguerre(x, n):
    """Laguerre polynomial L_n(x) by the recurrence (1 at x = 0)."""
    k = _degree(n)
    return _orthogonal(x, k, 1.0 - x, _laguerre_step, [(x == 0, 1.0)])


def _legendre(x, n):
    """Legendre polynomial P_n(x) by the recurrence (+-1 at x = +-1)."""
    k = _degree(n)
    return _orthogonal(x, k, x, _legendre_step, [(np.abs(x) == 1, np.where(x > 0, 1, _signed(k, 1)))])


@_own_dtype(2)
def chebyshev_polynomial_t(x, n):
    """Chebyshev polynomial of the first kind T_n(x)."""
    return _chebyshev("t", x, n)


@_own_dtype(2)
def chebyshev_polynomial_u(x, n):
    """Chebyshev polynomial of the second kind U_n(x)."""
    return _chebyshev("u", x, n)


@_own_dtype(2)
def chebyshev_polynomial_v(x, n):
    """Chebyshev polynomial of the third kind V_n(x)."""
    return _chebyshev("v", x, n)


@_own_dtype(2)
def chebyshev_polynomial_w(x, n):
    """Chebyshev polynomial of the fourth kind W_n(x)."""
    return _chebyshev("w", x, n)


@_own_dtype(2)
def shifted_chebyshev_polynomial_t(x, n):
    """Shifted Chebyshev polynomial of the first kind T*_n(x) = T_n(2x - 1)."""
    return _chebyshev("t", x, n, shifted=True)


@_own_dtype(2)
def shifted_chebyshev_polynomial_u(x, n):
    """Shifted Chebyshev polynomial of the second kind U*_n(x) = U_n(2x - 1)."""
    return _chebyshev("u", x, n, shifted=True)


@_own_dtype(2)
def shifted_chebyshev_polynomial_v(x, n):
    """Shifted Chebyshev polynomial of the third kind V*_n(x) = V_n(2x - 1)."""
    return _chebyshev("v", x, n, shifted=True)


@_own_dtype(2)
def shifted_chebyshev_polynomial_w(x, n):
    """Shifted Chebyshev polynomial of the fourth kind W*_n(x) = W_n(2x - 1)."""
    return _chebyshev("w", x, n, shifted=True)


@_own_dtype(2)
def hermite_polynomial_h(x, n):
    """Physicists' Hermite polynomial H_n(x)."""
    return _hermite(x, n)


@_own_dtype(2)
def hermite_polynomial_he(x, n):
    """Probabilists' Hermite polynomial He_n(x)."""
    return _hermite(x, n, probabilists=True)


@_own_dtype(2)
def laguerre_polynomial_l(x, n):
    """Laguerre polynomial L_n(x)."""
    return _laguerre(x, n)


@_own_dtype(2)
def legendre_polynomial_p(x, n):
    """Legendre polynomial P_n(x)."""
    return _legendre(x, n)
