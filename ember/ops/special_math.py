"""Special mathematical functions on NumPy arrays (pure NumPy, vectorised, float64-accurate).

Every public function maps ndarray(s) to an ndarray of the input's float dtype; integer and
bool inputs give float32 (torch's default dtype).  Python scalars next to an array do not
promote it (like torch's wrapped numbers).  Work is done in float64 and cast back at the end,
so float16/float32 results are correctly rounded float64 values; the exceptions are expit
(torch's 1 / (1 + exp(-x)) in the input's dtype) and erf, erfc, erfinv on float32 arrays, which
run float32 kernels accurate to a few ulp (torch's own float32 results are within 1 ulp). Small
arrays of erf, erfc and lgamma go through the math module (libm) element by element.

Edge-case conventions follow torch (e.g. digamma(+0) = -inf, digamma(-0) = +inf, digamma at
negative integers = nan, lgamma at poles = +inf, erfinv(+-1) = +-inf).  Where torch's value is
a rounding artefact rather than a convention, the mathematically correct value is returned
instead: polygamma(1, -k) = +inf (torch: ~1e32 for k >= 1), polygamma(n, +inf) = 0 and
zeta(inf, q > 1) = 0 (torch: nan), i0/i1 stay finite up to |x| ~ 713.98 (torch overflows at 709.78),
sinc(k) = 0 exactly for integers k (torch: ~1e-17).
"""
import functools
import math
from fractions import Fraction

import numpy as np

from ._bits import INT_OF, clip, select

__all__ = [
    "erf", "erfc", "erfinv", "lgamma", "gammaln", "digamma", "polygamma", "multigammaln", "zeta",
    "i0", "i0e", "i1", "i1e", "sinc", "xlogy", "xlog1py", "entr", "logit", "expit",
    "ndtr", "ndtri", "log_ndtr",
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
    out += 1
    return np.divide(1, out, out=out)
