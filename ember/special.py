"""torch.special: special functions, differentiable wherever torch's are (backward passes use ember ops)."""
import math

import numpy as np

from ._tensor import Tensor
from .autograd.function import Function, overload, as_node
from .ops import elementwise as _E
from .ops import special_math as _sm
from .ops._util import as_tensor_arg, to_tensor, float_dtype_for, sum_to
from ._dtype import float32, float64, scalar_name
from .ops.elementwise import (erf, erfc, erfinv, expm1, exp2, log1p, sinc, i0, digamma, lgamma as gammaln, logit,
                              xlogy, sigmoid as expit, exp, log, where, sgn, zeros_like_, _unary, _result_dtype,
                              _check_tensor)
from .ops.reduction import logsumexp
from .nn._functional import activation as _act

_SQRT_2PI = math.sqrt(2 * math.pi)


def psi(input, *, out=None):
    return digamma(input, out=out)


def _tiny_safe(x):
    """(|x| <= eps, x with those entries set to eps): I1 slopes are 0.5 there (as in torch); 1/x stays finite."""
    eps = Tensor._make(np.array(np.finfo(x._data.dtype).eps, x._data.dtype))
    tiny = x.abs() <= eps
    return tiny, where(tiny, eps, x)


def _i1_grad(g, x):
    tiny, xs = _tiny_safe(x)
    return g * where(tiny, Tensor._make(np.array(0.5, x._data.dtype)), i0(xs) - i1(xs) / xs)


def _i1e_grad(g, x):
    tiny, xs = _tiny_safe(x)
    return g * where(tiny, Tensor._make(np.array(0.5, x._data.dtype)), i0e(xs) - i1e(xs) * (sgn(xs) + 1 / xs))


@_sm._elementwise(1)
def _erfcx(x):
    """exp(x^2) erfc(x) without overflow: Cody's scaled rational form for x >= 0, reflection below."""
    pos = _sm._erfcx_pos(np.abs(x))
    return np.where(x >= 0, pos, 2 * np.exp(x * x) - pos)


i0e = _unary("i0e", _sm.i0e, lambda g, x: g * (i1e(x) - sgn(x) * i0e(x)), node="SpecialI0EBackward0")
i1 = _unary("i1", _sm.i1, _i1_grad, node="SpecialI1Backward0")
i1e = _unary("i1e", _sm.i1e, _i1e_grad, node="SpecialI1EBackward0")
# PyTorch composes ndtr as (1 + erf(x / sqrt(2))) * 0.5: its node is that product's.
ndtr = _unary("ndtr", _sm.ndtr, lambda g, x: g * exp(x * x * -0.5) * (1 / _SQRT_2PI), node="MulBackward1")
ndtri = _unary("ndtri", _sm.ndtri, lambda g, out: g * exp(out * out * 0.5) * _SQRT_2PI, "out",
               node="SpecialNdtriBackward0")
log_ndtr = _unary("log_ndtr", _sm.log_ndtr, lambda g, x: g * exp(-(log_ndtr(x) + x * x * 0.5)) * (1 / _SQRT_2PI),
                  node="SpecialLogNdtrBackward0")
entr = _unary("entr", _sm.entr, lambda g, x: g * -(log(x) + 1), node="SpecialEntrBackward0")
erfcx = _unary("erfcx", _erfcx, lambda g, x: g * (x * erfcx(x) * 2 - 2 / math.sqrt(math.pi)),
               node="SpecialErfcxBackward0")


class Polygamma(Function):
    """n-th derivative of digamma; its gradient is polygamma(n + 1)."""

    _raw = True
    _node_name = "PolygammaBackward0"

    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        ctx.save_for_backward(x)
        return np.asarray(_sm.polygamma(n, x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * Polygamma.apply(x, ctx.n + 1), None


def _as_float(input):
    return input if input._data.dtype.kind in "fc" else input.to(float_dtype_for(input.dtype))


def polygamma(n, input, *, out=None):
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _E._out(Polygamma.apply(_as_float(input), int(n)), out)


class Mvlgamma(Function):
    """Multivariate log-gamma: sum_j lgamma(x - j/2) + p(p-1)/4 log(pi); gradient sum_j digamma(x - j/2)."""

    _raw = True
    _node_name = "MvlgammaBackward0"

    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        ctx.save_for_backward(x)
        shifts = np.arange(p, dtype=x.dtype) * x.dtype.type(0.5)
        out = _sm.lgamma(x[..., None] - shifts).sum(-1) + x.dtype.type(0.25 * p * (p - 1) * math.log(math.pi))
        return np.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        shifts = Tensor._make(np.arange(ctx.p, dtype=x._data.dtype) * 0.5)
        return g * digamma(x.unsqueeze(-1) - shifts).sum(-1), None


def multigammaln(input, p, *, out=None):
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return _E._out(Mvlgamma.apply(_as_float(input), int(p)), out)


def _float_pair(input, other):
    """Both operands as tensors of their promoted float dtype (Python scalars don't up-cast)."""
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    d = float_dtype_for(_result_dtype(a, b))
    return to_tensor(a, d).to(d), to_tensor(b, d).to(d)


def _overload_number(input, other):
    """Which overload of a binary special function PyTorch calls: 0 for two tensors, 1 for a number input, 2 for a
    number other."""
    return 1 if not isinstance(input, Tensor) else 2 if not isinstance(other, Tensor) else 0


def _need_a_tensor(name, input, other):
    """PyTorch's TypeError when neither operand of a (Tensor|Number, Tensor|Number) special function is a Tensor."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected one of:\n"
                        " * (Tensor input, Tensor other, *, Tensor out = None)\n"
                        " * (Number self, Tensor other, *, Tensor out = None)\n"
                        " * (Tensor input, Number other, *, Tensor out = None)\n")


def xlog1py(input, other, *, out=None):
    _need_a_tensor("special_xlog1py", input, other)
    a, b = _float_pair(input, other)
    res = a * log1p(b)
    zero = Tensor._make((a._data == 0) & ~np.isnan(b._data))
    res = as_node(where(zero, zeros_like_(res), res), f"SpecialXlog1PyBackward{_overload_number(input, other)}")
    return _E._out(res, out)


class Zeta(Function):
    """Hurwitz zeta(x, q); torch differentiates it in q only."""

    _raw = True
    _node_name = "SpecialZetaBackward0"

    @staticmethod
    def forward(ctx, x, q):
        ctx.save_for_backward(x, q)
        return np.asarray(_sm.zeta(x, q))

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        x, q = ctx.saved_tensors
        return None, sum_to(g * -x * Zeta.apply(x + 1, q), q.shape)


def zeta(input, other, *, out=None):
    _need_a_tensor("special_zeta", input, other)
    a, b = _float_pair(input, other)
    k = _overload_number(input, other)
    return _E._out((overload(Zeta, f"SpecialZetaBackward{k}") if k else Zeta).apply(a, b), out)


def softmax(input, dim, *, dtype=None):
    return _act.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return _act.log_softmax(input, dim, dtype=dtype)


def round(input, *, decimals=0, out=None):
    return _E.round(input, decimals=decimals, out=out)


class Igamma(Function):
    """Regularized lower incomplete gamma P(a, x); torch differentiates it in x only."""

    _raw = True
    _node_name = "IgammaBackward0"
    _op = "igamma"
    _kernel = staticmethod(_sm.igamma)
    _sign = 1.0

    @classmethod
    def forward(cls, ctx, a, x):
        ctx.save_for_backward(a, x)
        return np.asarray(cls._kernel(a, x))

    @classmethod
    def backward(cls, ctx, g):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{cls._op}: input' is not implemented.")
        a, x = ctx.saved_tensors
        density = exp((a - 1) * log(x) - x - gammaln(a))
        return None, sum_to(g * density * cls._sign, x.shape)


class Igammac(Igamma):
    """Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x)."""

    _node_name = "IgammacBackward0"
    _op = "igammac"
    _kernel = staticmethod(_sm.igammac)
    _sign = -1.0


def _incomplete_gamma(fn, name, input, other, out):
    """fn applied to both operands in their promoted dtype: torch takes Tensor operands only and computes igamma for
    floating dtypes only."""
    for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")
    _E._broadcast_check(input, other)
    d = _result_dtype(input, other)
    if not d.is_floating_point:
        raise NotImplementedError(f'"{fn._op}_cpu" not implemented for \'{scalar_name(d)}\'')
    return _E._out(fn.apply(input.to(d), other.to(d)), out, fn._op)


def igamma(input, other, *, out=None):
    return _incomplete_gamma(Igamma, "igamma", input, other, out)


def igammac(input, other, *, out=None):
    return _incomplete_gamma(Igammac, "igammac", input, other, out)


def gammainc(input, other, *, out=None):
    return _incomplete_gamma(Igamma, "special_gammainc", input, other, out)


def gammaincc(input, other, *, out=None):
    return _incomplete_gamma(Igammac, "special_gammaincc", input, other, out)


def _check_kernel_dtype(name, d):
    """torch's CPU kernels of these functions exist for float32 and float64 only."""
    if d not in (float32, float64):
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{scalar_name(d)}\'')


def _no_grad_unary(name, kernel):
    """A torch.special function of one Tensor that autograd does not track (torch defines no derivative)."""
    def op(input, *, out=None):
        _check_tensor(input, name)
        _check_kernel_dtype(name, float_dtype_for(input.dtype))
        return _E._out(Tensor._make(kernel(input._data)), out, name)
    op.__name__ = op.__qualname__ = name
    return op


def _no_grad_polynomial(name, kernel):
    """A torch.special polynomial (input, n): either may be a number (not both); the result has no autograd history."""
    def op(input, n, *, out=None):
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(n).__name__}), but expected (Tensor input, Tensor n), "
                            "(Number x, Tensor n) or (Tensor x, Number n)")
        _E._broadcast_check(input, n)
        x, k = _float_pair(input, n)
        _check_kernel_dtype(name, x.dtype)
        return _E._out(Tensor._make(kernel(x._data, k._data)), out, name)
    op.__name__ = op.__qualname__ = name
    return op


for _name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
              "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai"):
    globals()[_name] = _no_grad_unary(_name, getattr(_sm, _name))
for _name in ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
              "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
              "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
              "laguerre_polynomial_l", "legendre_polynomial_p"):
    globals()[_name] = _no_grad_polynomial(_name, getattr(_sm, _name))
del _name

modified_bessel_i0 = i0
modified_bessel_i1 = i1


# Tensor methods for the functions torch also has at top level (torch.polygamma, torch.mvlgamma, torch.igamma,
# torch.igammac).
Tensor.polygamma = lambda self, n: polygamma(n, self)
Tensor.mvlgamma = lambda self, p: multigammaln(self, p)
Tensor.polygamma_ = lambda self, n: as_node(self._inplace(lambda old: polygamma(n, old)), "PolygammaBackward1")
Tensor.mvlgamma_ = lambda self, p: self._inplace(lambda old: multigammaln(old, p))
Tensor.igamma = lambda self, other: igamma(self, other)
Tensor.igammac = lambda self, other: igammac(self, other)
Tensor.igamma_ = lambda self, other: self._inplace(igamma, other)
Tensor.igammac_ = lambda self, other: self._inplace(igammac, other)
