"""torch.stft / torch.istft parity (through ember.functional and the Tensor methods): options, batching, round trip,
gradients for signal, window and spectrum, errors; and the names ember.functional re-exports."""
import re
import warnings

import numpy as np
import pytest
import torch
import torch.functional

import ember
import ember.functional
from tests.parity import check, r, raises, _table
from tests.test_fft import c, fcheck

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def hann(n):
    """The periodic Hann window, computed here (not by either library)."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


# ---- stft -----------------------------------------------------------------------------------------------------------
STFT = [  # id, signal, window (None or array), n_fft, keyword arguments
    ("rect-default", r(2, 40), None, 16, dict(return_complex=True)),
    ("hann-1d", r(50), hann(16), 16, dict(return_complex=True)),
    ("hop-win", r(2, 45), hann(10), 16, dict(hop_length=3, win_length=10, return_complex=True)),
    ("short-win-no-window", r(2, 40), None, 16, dict(win_length=9, return_complex=True)),
    ("odd-nfft", r(3, 33), hann(15), 15, dict(hop_length=4, return_complex=True)),
    ("no-center", r(2, 41), hann(16), 16, dict(center=False, hop_length=5, return_complex=True)),
    ("pad-constant", r(2, 40), hann(16), 16, dict(pad_mode="constant", return_complex=True)),
    ("pad-replicate", r(40), hann(16), 16, dict(pad_mode="replicate", return_complex=True)),
    ("pad-circular", r(2, 40), hann(16), 16, dict(pad_mode="circular", return_complex=True)),
    ("normalized", r(2, 40), hann(16), 16, dict(normalized=True, return_complex=True)),
    ("two-sided", r(2, 40), hann(16), 16, dict(onesided=False, return_complex=True)),
    ("real-output", r(2, 40), hann(16), 16, dict(return_complex=False)),
    ("real-output-1d", r(40), None, 12, dict(hop_length=5, return_complex=False)),
    ("align-even", r(2, 40), hann(8), 16, dict(win_length=8, center=False, align_to_window=True, return_complex=True)),
    ("align-false", r(2, 40), hann(8), 16, dict(win_length=8, center=False, align_to_window=False,
                                                 return_complex=True)),
    ("complex-signal", c(2, 40), hann(16), 16, dict()),
    ("complex-signal-1d-normalized", c(37), None, 8, dict(normalized=True, hop_length=3)),
    ("complex-window", r(2, 40), hann(10) * (1 + 0.5j), 16, dict(win_length=10)),
]


@pytest.mark.parametrize("x,w,n_fft,kw", _table(STFT))
def test_stft(x, w, n_fft, kw):
    if w is None:
        fcheck(lambda t, x: t.functional.stft(x, n_fft, **kw), [x])
    else:
        fcheck(lambda t, x, w: t.functional.stft(x, n_fft, window=w, **kw), [x, w])


def test_stft_mixed_dtypes():
    """A float32 signal with a float64 window gives complex128, as in PyTorch (type promotion of the product)."""
    check(lambda t, x, w: t.view_as_real(t.functional.stft(x.float(), 16, window=w, return_complex=True)),
          [r(2, 40), hann(16)], dtypes=("float64",), tol=dict(rtol=1e-5, atol=1e-5))


def test_stft_method():
    fcheck(lambda t, x, w: x.stft(16, hop_length=4, window=w, return_complex=True), [r(2, 40), hann(16)])


# ---- istft ----------------------------------------------------------------------------------------------------------
ISTFT = [  # id, spectrum, window, n_fft, keyword arguments
    ("hann", c(2, 9, 11), hann(16), 16, dict()),
    ("unbatched", c(9, 11), hann(16), 16, dict()),
    ("length-short", c(2, 9, 11), hann(16), 16, dict(length=30)),
    ("length-long", c(2, 9, 11), hann(16), 16, dict(length=50)),
    ("no-window", c(2, 9, 7), None, 16, dict(hop_length=5)),
    ("no-center", c(2, 9, 8), hann(16) + 0.1, 16, dict(center=False)),
    ("normalized", c(2, 9, 11), hann(16), 16, dict(normalized=True)),
    ("hop-win", c(2, 9, 12), hann(10), 16, dict(hop_length=3, win_length=10)),
    ("odd-nfft", c(8, 10), hann(15), 15, dict(hop_length=4)),
    ("two-sided", c(2, 16, 11), hann(16), 16, dict(onesided=False)),
    ("two-sided-complex", c(2, 16, 11), hann(16), 16, dict(onesided=False, return_complex=True)),
    ("complex-window", c(16, 11), hann(16) * (1 - 0.3j), 16, dict(onesided=False, return_complex=True)),
    # a complex window shorter than n_fft (padded on both sides): its gradient flows through the padding
    ("short-complex-window", c(4, 10, 10), hann(8) * (1 + 0.4j) + 0.2, 10, dict(win_length=8, return_complex=True)),
]


@pytest.mark.parametrize("spec,w,n_fft,kw", _table(ISTFT))
def test_istft(spec, w, n_fft, kw):
    if w is None:
        fcheck(lambda t, s: t.functional.istft(s, n_fft, **kw), [spec])
    else:
        fcheck(lambda t, s, w: t.functional.istft(s, n_fft, window=w, **kw), [spec, w])


def test_istft_window_view_gradient():
    """A strided view of a leaf as the window: the gradient reaches the leaf (the OpInfo sample of a window view
    gets none in torch only because torch accumulates it into the view's base)."""
    fcheck(lambda t, s, w: t.functional.istft(s, 8, window=w[::2]), [c(10, 5, 6), hann(16) + 0.1])
    fcheck(lambda t, s, w: t.functional.istft(s, 10, window=w[1:9], win_length=8, return_complex=True),
           [c(3, 10, 10), hann(10) * (1 - 0.2j) + 0.3])


def test_istft_method():
    fcheck(lambda t, s, w: s.istft(16, window=w, length=35), [c(2, 9, 11), hann(16)])


@pytest.mark.parametrize("n_fft,hop,win,center", [(16, 4, 16, True), (15, 5, 15, True), (16, 3, 10, True),
                                                   (12, 6, 12, False)])
def test_round_trip(n_fft, hop, win, center):
    """istft(stft(x)) == x (a window with no zeros where center=False needs it), gradients included."""
    w = hann(win) + (0 if center else 0.2)
    x = r(2, 61)

    def fn(t, x, w):
        spec = t.functional.stft(x, n_fft, hop, win, window=w, center=center, return_complex=True)
        return t.functional.istft(spec, n_fft, hop, win, window=w, center=center, length=x.shape[-1])

    fcheck(fn, [x, w])
    y = fn(ember, ember.from_numpy(x), ember.from_numpy(w)).numpy()
    m = x.shape[-1] if center else n_fft + (x.shape[-1] - n_fft) // hop * hop
    np.testing.assert_allclose(y[:, :m], x[:, :m], atol=1e-10)


def test_round_trip_complex_signal():
    x = c(3, 48)
    fcheck(lambda t, x, w: t.functional.istft(t.functional.stft(x, 12, 3, window=w), 12, 3, window=w,
                                              return_complex=True, length=48), [x, hann(12)])
    spec = ember.functional.stft(ember.from_numpy(x), 12, 3, window=ember.from_numpy(hann(12)))
    y = ember.functional.istft(spec, 12, 3, window=ember.from_numpy(hann(12)), return_complex=True, length=48)
    np.testing.assert_allclose(y.numpy(), x, atol=1e-10)


def test_double_backward_through_round_trip():
    def hv(lib):
        x = lib.from_numpy(r(40)).requires_grad_(True)
        w = lib.from_numpy(hann(16) + 0.5)
        spec = lib.functional.stft(x, 16, 4, window=w, return_complex=True)
        loss = (lib.functional.istft(spec * spec, 16, 4, window=w) ** 2).sum()
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.from_numpy(r(40, seed=3))).sum(), x)
        return g.detach().numpy(), h.numpy()
    for e, t in zip(hv(ember), hv(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-10)


def test_warnings():
    x = ember.from_numpy(r(40))
    with pytest.warns(UserWarning, match="stft with return_complex=False is deprecated|A window was not provided"):
        warnings.simplefilter("always")
        ember.set_warn_always(True)
        try:
            ember.functional.stft(x, 16, return_complex=False)
        finally:
            ember.set_warn_always(False)


# ---- errors -----------------------------------------------------------------------------------------------------------
def _sig(t, *shape, dtype=None):
    return t.from_numpy(r(*shape)).to(dtype or t.float64)


def _spec(t, *shape):
    return t.from_numpy(c(*shape))


ERRORS = [
    ("no-return-complex", lambda t: t.functional.stft(_sig(t, 40), 16), RuntimeError,
     "stft requires the return_complex parameter be given for real inputs"),
    ("align-center", lambda t: t.functional.stft(_sig(t, 40), 16, align_to_window=True, return_complex=True),
     RuntimeError, "stft align_to_window should only be set when center = false"),
    ("window-size", lambda t: t.functional.stft(_sig(t, 2, 40), 16, window=t.ones(8, dtype=t.float64),
                                                return_complex=True), RuntimeError,
     "stft(torch.DoubleTensor[2, 56], n_fft=16, hop_length=4, win_length=16, window=torch.DoubleTensor{[8]}, "
     "normalized=0, onesided=None, return_complex=1, align_to_window=None) : expected a 1D window tensor of size "
     "equal to win_length=16, but got window with size [8]"),
    ("hop-zero", lambda t: t.functional.stft(_spec(t, 40), 16, hop_length=0, window=t.ones(16)), RuntimeError,
     "stft(CPUComplexDoubleType[56], n_fft=16, hop_length=0, win_length=16, window=torch.FloatTensor{[16]}, "
     "normalized=0, onesided=None, return_complex=None, align_to_window=None) : expected hop_length > 0, but got "
     "hop_length=0"),
    ("win-too-long", lambda t: t.functional.stft(_sig(t, 40), 16, win_length=20, return_complex=True), RuntimeError,
     "expected 0 < win_length <= n_fft, but got win_length=20"),
    ("nfft-too-long", lambda t: t.functional.stft(_sig(t, 2, 40), 100, center=False, return_complex=True),
     RuntimeError, "expected 0 < n_fft < 40, but got n_fft=100"),
    ("reflect-too-short", lambda t: t.functional.stft(_sig(t, 2, 40), 100, return_complex=True), RuntimeError,
     "Padding size should be less than the corresponding input dimension, but got: padding (50, 50) at dimension 2 "
     "of input [1, 2, 40]"),
    ("integer-signal", lambda t: t.functional.stft(_sig(t, 40, dtype=t.int64), 16, return_complex=True),
     RuntimeError, "stft(torch.LongTensor[56], n_fft=16, hop_length=4, win_length=16, window=None, normalized=0, "
     "onesided=None, return_complex=1, align_to_window=None) : expected a tensor of floating point or complex values"),
    ("3d-signal", lambda t: t.functional.stft(_sig(t, 1, 2, 40), 16, return_complex=True), RuntimeError,
     "expected a 1D or 2D tensor"),
    ("onesided-complex", lambda t: t.functional.stft(_spec(t, 40), 16, onesided=True), RuntimeError,
     "Cannot have onesided output if window or input is complex"),
    ("bad-pad-mode", lambda t: t.functional.stft(_sig(t, 2, 40), 16, pad_mode="foo", return_complex=True),
     NotImplementedError, "Unrecognised padding mode foo"),
    ("istft-real", lambda t: t.functional.istft(_sig(t, 9, 11), 16), RuntimeError,
     "istft requires a complex-valued input tensor matching the output from stft with return_complex=True."),
    ("istft-empty", lambda t: t.functional.istft(_spec(t, 2, 9, 0), 16, window=t.ones(16)), RuntimeError,
     "istft(CPUComplexDoubleType[2, 9, 0], n_fft=16, hop_length=4, win_length=16, window=torch.FloatTensor{[16]}, "
     "center=1, normalized=0, onesided=None, length=None, return_complex=0) : input tensor cannot be empty."),
    ("istft-dims", lambda t: t.functional.istft(_spec(t, 1, 2, 9, 11), 16), RuntimeError,
     "expected a tensor with 3 or 4 dimensions, but got 5"),
    ("istft-onesided-size", lambda t: t.functional.istft(_spec(t, 2, 9, 11), 15), RuntimeError,
     "istft(CPUComplexDoubleType[2, 9, 11], n_fft=15, hop_length=3, win_length=15, window=None, center=1, "
     "normalized=0, onesided=None, length=None, return_complex=0) : expected the frequency dimension (3rd to the "
     "last) of the input tensor to match n_fft / 2 + 1 when onesided=True, but got 9"),
    ("istft-twosided-size", lambda t: t.functional.istft(_spec(t, 9, 11), 16, onesided=False), RuntimeError,
     "expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when onesided=False, "
     "but got 9"),
    ("istft-hop", lambda t: t.functional.istft(_spec(t, 9, 11), 16, hop_length=20), RuntimeError,
     "expected 0 < hop_length <= win_length"),
    ("istft-win", lambda t: t.functional.istft(_spec(t, 9, 11), 16, hop_length=2, win_length=17), RuntimeError,
     "expected 0 < win_length <= n_fft"),
    ("istft-window-shape", lambda t: t.functional.istft(_spec(t, 9, 11), 16, window=t.ones(8)), RuntimeError,
     "Invalid window shape. window has to be 1D and length of `win_length`"),
    ("istft-envelope", lambda t: t.functional.istft(_spec(t, 2, 9, 11), 16, window=t.hann_window(16, dtype=t.float64),
                                                    center=False), RuntimeError,
     "istft(CPUComplexDoubleType[2, 9, 11], n_fft=16, hop_length=4, win_length=16, window=torch.DoubleTensor{[16]}, "
     "center=0, normalized=0, onesided=None, length=None, return_complex=0) window overlap add min: 1"),
    ("istft-onesided-complex", lambda t: t.functional.istft(_spec(t, 9, 11), 16, return_complex=True), RuntimeError,
     "Cannot have onesided output if window or input is complex"),
    ("istft-complex-window", lambda t: t.functional.istft(_spec(t, 16, 11), 16, onesided=False,
                                                          window=t.ones(16, dtype=t.complex128)), RuntimeError,
     "Complex windows are incompatible with return_complex=False"),
]


@pytest.mark.parametrize("fn,exc,msg", _table(ERRORS))
def test_errors(fn, exc, msg):
    raises(fn, exc, re.escape(msg))


# ---- ember.functional's other names -----------------------------------------------------------------------------------
def test_functional_names():
    missing = {n for n in torch.functional.__all__ if not hasattr(ember, n)} - {"stft", "istft"}
    assert set(ember.functional.__all__) == set(torch.functional.__all__) - missing
    for name in ember.functional.__all__:
        if name not in ("stft", "istft"):
            assert getattr(ember.functional, name) is getattr(ember, name)
    with pytest.raises(AttributeError):
        ember.functional.no_such_name


def test_functional_reexports_work():
    check(lambda t, a, b: t.functional.einsum("ij,jk->ik", a, b), [r(2, 3), r(3, 4)])
    check(lambda t, x: t.functional.atleast_3d(x), [r(4)])
