"""torch.special: special functions (differentiable where torch's are)."""
import numpy as np

from ._tensor import Tensor
from .ops import elementwise as _E
from .ops import special_math as _sm
from .ops.elementwise import erf, erfc, erfinv, expm1, exp2, log1p, sinc, i0, digamma, lgamma as gammaln, logit, xlogy
from .ops.elementwise import sigmoid as expit
from .ops.reduction import logsumexp


def psi(input):
    return digamma(input)


def _nograd(fn):
    def op(input, *args):
        return Tensor._make(np.asarray(fn(input._data, *args)))
    return op


i0e = _nograd(_sm.i0e)
i1 = _nograd(_sm.i1)
i1e = _nograd(_sm.i1e)
ndtri = _nograd(_sm.ndtri)
log_ndtr = _nograd(_sm.log_ndtr)
entr = _nograd(_sm.entr)


def ndtr(input):
    return (erf(input * (2 ** -0.5)) + 1) * 0.5


def erfcx(input):
    return _E.exp(input * input) * erfc(input)


def xlog1py(input, other):
    res = input * log1p(other)
    return _E.where(input == 0, _E.zeros_like_(res), res)


def polygamma(n, input):
    return Tensor._make(np.asarray(_sm.polygamma(n, input._data)))


def multigammaln(input, p):
    return Tensor._make(np.asarray(_sm.multigammaln(input._data, p)))


def softmax(input, dim, *, dtype=None):
    x = input if dtype is None else input.to(dtype)
    return _E.exp(x - logsumexp(x, dim, keepdim=True))


def log_softmax(input, dim, *, dtype=None):
    x = input if dtype is None else input.to(dtype)
    return x - logsumexp(x, dim, keepdim=True)


def round(input, *, decimals=0):
    return _E.round(input, decimals=decimals)
