"""torch.signal.windows, composed of ember ops exactly as PyTorch composes them (a linspace of the window's sample
points, then elementwise ops), so values, dtypes and the autograd graph under requires_grad match PyTorch's."""
import math
from collections.abc import Iterable

from ... import _dtype
from ..._dtype import get_default_dtype, to_dtype
from ...ops import creation as C, elementwise as E

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


def _window_function_checks(function_name, M, dtype, layout):
    """PyTorch's checks shared by every window: a non-negative length, the strided layout, float32 or float64."""
    if M < 0:
        raise ValueError(f"{function_name} requires non-negative window length, got M={M}")
    if layout not in (None, "torch.strided"):
        raise ValueError(f"{function_name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"{function_name} expects float32 or float64 dtypes, got: {dtype}")


def _checked(function_name, M, dtype, layout):
    """The window's dtype (the default one when None), after the common checks (which name an unsupported dtype such
    as bfloat16 before ember's lack of it is reported)."""
    if dtype is None:
        dtype = get_default_dtype()
    elif not isinstance(dtype, _dtype.dtype):
        dtype = to_dtype(dtype)
    _window_function_checks(function_name, M, dtype, layout)
    return dtype


def _trivial(M, dtype, device, requires_grad):
    """The window of 0 points (empty) or of 1 point (a one), which most windows return without computing."""
    return (C.zeros if M == 0 else C.ones)((M,), dtype=dtype, device=device, requires_grad=requires_grad)


def _points(start, end, M, dtype, device, requires_grad):
    return C.linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout="torch.strided", device=None,
                requires_grad=False):
    """exp(-|n - center| / tau) for n = 0 .. M-1; the center defaults to the middle (of M+1 points unless sym)."""
    dtype = _checked("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    k = _points(-center * constant, (-center + (M - 1)) * constant, M, dtype, device, requires_grad)
    return E.exp(-E.abs(k))


def cosine(M, *, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """sin(pi (n + 1/2) / M) (M + 1 in place of M unless sym): a half period of a sine."""
    dtype = _checked("cosine", M, dtype, layout)
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    start = 0.5
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    return E.sin(_points(start * constant, (start + (M - 1)) * constant, M, dtype, device, requires_grad))


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """exp(-(n - center)^2 / (2 std^2)) about the window's middle."""
    dtype = _checked("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = _points(start * constant, (start + (M - 1)) * constant, M, dtype, device, requires_grad)
    return E.exp(-(k ** 2))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """I0(sqrt(beta^2 - k^2)) / I0(beta) for k evenly spaced from -beta to beta, beta in the window's dtype."""
    dtype = _checked("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _trivial(M, dtype, device, requires_grad)
    beta = C.tensor(beta, dtype=dtype, device=device)   # in the window's dtype, so beta^2 - k^2 is never below 0
    start = -beta
    constant = 2.0 * beta / (M if not sym else M - 1)
    end = E.minimum(beta, start + (M - 1) * constant)
    k = _points(start, end, M, dtype, device, requires_grad)
    return E.i0(E.sqrt(beta * beta - E.pow(k, 2))) / E.i0(beta)


def hamming(M, *, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """The Hamming window: general_hamming with alpha = 0.54."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """The Hann window: general_hamming with alpha = 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """The Blackman window: general_cosine with a = (0.42, 0.5, 0.08)."""
    dtype = _checked("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """The triangular window 1 - |k| for k evenly spaced from -1."""
    dtype = _checked("bartlett", M, dtype, layout)
    if M <= 1:
        return _trivial(M, dtype, device, requires_grad)
    start = -1
    constant = 2 / (M if not sym else M - 1)
    k = _points(start, start + (M - 1) * constant, M, dtype, device, requires_grad)
    return 1 - E.abs(k)


def general_cosine(M, *, a, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """sum_i (-1)^i a_i cos(i k) for k evenly spaced over one period (of M points, M-1 when sym)."""
    dtype = _checked("general_cosine", M, dtype, layout)
    if M <= 1:
        return _trivial(M, dtype, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = _points(0, (M - 1) * constant, M, dtype, device, requires_grad)
    a_i = C.tensor([(-1) ** i * w for i, w in enumerate(a)], device=device, dtype=dtype, requires_grad=requires_grad)
    i = C.arange(a_i.shape[0], dtype=a_i.dtype, device=device, requires_grad=a_i.requires_grad)
    return (a_i.unsqueeze(-1) * E.cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout="torch.strided", device=None,
                    requires_grad=False):
    """alpha - (1 - alpha) cos(k): general_cosine with a = (alpha, 1 - alpha)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout="torch.strided", device=None, requires_grad=False):
    """Nuttall's minimum 4-term Blackman-Harris window: general_cosine with its four coefficients."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)
