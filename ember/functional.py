"""torch.functional: stft and istft, composed of differentiable ember ops, and the other names PyTorch keeps here
(taken lazily from ember's top level, where they live)."""
from . import _dtype
from ._tensor import Tensor
from .autograd.function import as_node
from .fft import FftC2C, FftC2R, FftR2C
from .ops.creation import ones
from .ops.linalg import _warn_once
from .ops.padding import pad
from .ops.shape import view_as_real

_TOP_LEVEL = ("atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "cartesian_prod",
              "block_diag", "cdist", "chain_matmul", "einsum", "lu", "norm", "meshgrid", "split", "tensordot",
              "unique", "unique_consecutive", "unravel_index", "svd_lowrank", "pca_lowrank")
__all__ = list(_TOP_LEVEL) + ["stft", "istft"]


def __getattr__(name):
    """The names torch.functional shares with the top level, looked up there on use (ember imports this module)."""
    if name in _TOP_LEVEL:
        import ember
        return getattr(ember, name)
    raise AttributeError(f"module 'ember.functional' has no attribute '{name}'")


def __dir__():
    """The module's names, the lazily provided ones included."""
    return sorted(list(globals()) + list(_TOP_LEVEL))


def _type_str(t):
    """A tensor's type as PyTorch's C++ toString() prints it in stft/istft messages."""
    name = _dtype.scalar_name(t.dtype)
    return f"CPU{name}Type" if t.is_complex() else f"torch.{name}Tensor"


def _opt(v):
    """An optional bool or int as PyTorch's messages print it (None, 0/1, or the number)."""
    return "None" if v is None else str(int(v))


def _window_str(window):
    """The window as stft/istft messages print it: its type and sizes, or None."""
    return "None" if window is None else f"{_type_str(window)}{{{list(window.shape)}}}"


def _centered_window(window, win_length, n_fft, like):
    """The window (ones of like's dtype if None) zero-padded on both sides to n_fft, as PyTorch centres it."""
    if window is None:
        window = ones(win_length, dtype=like)
    left = (n_fft - win_length) // 2
    return pad(window, [left, n_fft - win_length - left]) if win_length < n_fft else window


def _overlap_add(frames, hop, total):
    """Sum frames (B, F, N) placed every hop samples into (B, total): the adjoint of framing, one slice per hop."""
    b, f, n = frames.shape
    k = -(-n // hop)
    frames = pad(frames, [0, k * hop - n])
    out = None
    for j in range(k):
        part = pad(frames[:, :, j * hop:(j + 1) * hop].reshape(b, f * hop), [j * hop, (k - 1 - j) * hop])
        out = part if out is None else out + part
    return out[:, :total]


def _center_pad(input, n_fft, pad_mode):
    """torch.stft's centring (in torch/functional.py): pad n_fft // 2 on both sides of the signal dim."""
    nd = input.dim()
    x = input.view([1] * (3 - nd) + list(input.shape))
    x = pad(x, [n_fft // 2, n_fft // 2], pad_mode)
    return x.view(x.shape[x.dim() - nd:])


def _stft_checks(input, n_fft, hop, win, window, fail):
    """stft's argument checks, in PyTorch's order; fail(text) raises with the call's description."""
    if not (input.is_floating_point() or input.is_complex()):
        fail(": expected a tensor of floating point or complex values")
    if input.dim() not in (1, 2):
        fail(": expected a 1D or 2D tensor")
    length = input.shape[-1]
    if n_fft <= 0 or n_fft > length:
        fail(f": expected 0 < n_fft < {length}, but got n_fft={win}")
    if hop <= 0:
        fail(f": expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        fail(f": expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        fail(f": expected a 1D window tensor of size equal to win_length={win}, but got window with size "
             f"{list(window.shape)}")


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """Short-time Fourier transform: (B?, N, T) spectra of windowed frames every hop_length samples."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:
        input = _center_pad(input, n_fft, pad_mode)
    if window is None:
        _warn_once("stft_window", "A window was not provided. A rectangular window will be applied,which is known to "
                   "cause spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
                   "recommended to reduce spectral leakage.To suppress this warning and use a rectangular window, "
                   "explicitly set `window=torch.ones(n_fft, device=<device>)`.")
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length

    def fail(text):
        raise RuntimeError(f"stft({_type_str(input)}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
                           f"win_length={win}, window={_window_str(window)}, normalized={int(normalized)}, "
                           f"onesided={_opt(onesided)}, return_complex={_opt(return_complex)}, "
                           f"align_to_window={_opt(align_to_window)}) {text}")

    as_complex = return_complex if return_complex is not None else \
        input.is_complex() or (window is not None and window.is_complex())
    if not as_complex:
        if return_complex is None:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                               "require that return_complex=True in a future PyTorch release.")
        _warn_once("stft_real", "stft with return_complex=False is deprecated. In a future pytorch release, stft will "
                   "return complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you "
                   "can still call torch.view_as_real on the complex output to recover the old return format.")
    _stft_checks(input, n_fft, hop, win, window, fail)
    out = _stft_frames(input, n_fft, hop, win, window, normalized, onesided, bool(align_to_window))
    return out if as_complex else view_as_real(out)


def _stft_frames(input, n_fft, hop, win, window, normalized, onesided, align):
    """The checked stft: frame, window, transform each frame, and lay out as (B?, N, T) with PyTorch's node names."""
    x = input.unsqueeze(0) if input.dim() == 1 else input
    if win < n_fft or window is not None:
        window = _centered_window(window, win, n_fft, input.dtype)
    if align:
        d = n_fft - win
        x = pad(x, [d // 2, d - d // 2])
    frames = x.unfold(-1, n_fft, hop)
    if window is not None:
        frames = frames * window
    complex_fft = frames.is_complex()
    onesided = not complex_fft if onesided is None else onesided
    mode = 1 if normalized else 0
    if complex_fft:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        out = FftC2C.apply(frames, (2,), mode, True)
    else:
        out = FftR2C.apply(frames, (2,), mode, onesided)
    out = as_node(out.transpose(1, 2), "TransposeBackward1")
    return as_node(out.squeeze(0), "SqueezeBackward4") if input.dim() == 1 else out


def _istft_checks(input, n_fft, hop, win, window, onesided, fail):
    """istft's argument checks, in PyTorch's order (dims counted on the real view, as PyTorch does)."""
    nd, fft_size = input.dim() + 1, input.shape[-2]
    if input.numel() == 0:
        fail(": input tensor cannot be empty.")
    if nd not in (3, 4):
        fail(f": expected a tensor with 3 or 4 dimensions, but got {nd}")
    if onesided and n_fft // 2 + 1 != fft_size:
        fail(f": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 when "
             f"onesided=True, but got {fft_size}")
    if not onesided and n_fft != fft_size:
        fail(f": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
             f"onesided=False, but got {fft_size}")
    if not 0 < hop <= win:
        fail(": expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        fail(": expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        fail(": Invalid window shape. window has to be 1D and length of `win_length`")


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """Inverse short-time Fourier transform: inverse-transform each frame, window, overlap-add and divide by the
    overlap-added squared window."""
    if window is None:
        _warn_once("istft_window", "A window was not provided. A rectangular window will be applied.Please provide the "
                   "same window used by stft to make the inversion lossless.To suppress this warning and use a "
                   "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length

    def fail(text):
        raise RuntimeError(f"istft({_type_str(input)}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
                           f"win_length={win}, window={_window_str(window)}, center={int(center)}, "
                           f"normalized={int(normalized)}, onesided={_opt(onesided)}, length={_opt(length)}, "
                           f"return_complex={int(return_complex)}) {text}")

    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    n_frames, fft_size = input.shape[-1], input.shape[-2]
    half = fft_size != n_fft if onesided is None else onesided
    _istft_checks(input, n_fft, hop, win, window, half, fail)
    frames = _inverse_frames(input, n_fft, window, normalized, half, return_complex)
    window = _centered_window(window, win, n_fft, input.dtype.to_real())
    expected = n_fft + hop * (n_frames - 1)
    y = _overlap_add(frames * window.view(1, 1, n_fft), hop, expected)
    envelope = _overlap_add((window * window).expand(1, n_frames, n_fft), hop, expected)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else -(n_fft // 2) if center else expected
    y, envelope = y[:, start:end], envelope[:, start:end]
    if bool((envelope.abs().min() < 1e-11).item()):
        fail("window overlap add min: 1\n[ CPUBoolType{} ]")
    y = y / envelope
    if input.dim() == 2:
        y = y.squeeze(0)
    if end > expected:
        _warn_once("istft_length", "The length of signal is shorter than the length parameter. Result is being padded "
                   "with zeros in the tail. Please check your center and hop_length settings.")
        y = pad(y, [0, end - expected])
    return y


def _inverse_frames(input, n_fft, window, normalized, onesided, return_complex):
    """The frames (B, T, n_fft) of a checked istft: an inverse C2C (complex result) or C2R of each spectrum."""
    x = input.unsqueeze(0) if input.dim() == 2 else input
    x = x.transpose(1, 2)
    mode = 1 if normalized else 2
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        return FftC2C.apply(x, (2,), mode, False)
    if window is not None and window.is_complex():
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    if not onesided:
        x = x[:, :, :n_fft // 2 + 1]
    return FftC2R.apply(x, (2,), mode, n_fft)


Tensor.stft = stft
Tensor.istft = istft
