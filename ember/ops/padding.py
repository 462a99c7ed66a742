"""F.pad: constant padding (negative pads crop) and reflect/replicate/circular by index maps."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function


class ConstantPad(Function):
    """Pad (or crop, for negative amounts) trailing dims with a constant; backward pads by the negation."""

    _raw = True
    _node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        nd = len(pads)
        lead = x.ndim - nd
        crop = tuple(slice(max(-lo, 0), x.shape[lead + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads))
        x = x[(slice(None),) * lead + crop]
        pos = [(0, 0)] * lead + [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
        if not any(lo or hi for lo, hi in pos):
            return x.copy()
        return np.pad(x, pos, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


def _index_map(n, lo, hi, mode):
    """Source index for each padded position along a dim of length n."""
    j = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1) if n > 1 else 1
        j = np.abs(j) % period
        return np.where(j >= n, period - j, j)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    return j % n


def _pairs(pad, ndim):
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]
    return tuple(reversed(pairs))


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: `pad` lists (left, right) amounts starting from the last dim."""
    pairs = _pairs(pad, input.dim())
    if mode == "constant":
        return ConstantPad.apply(input, pairs, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    nd = len(pairs)
    if input.dim() not in (nd + 1, nd + 2) or nd > 3:
        raise NotImplementedError(f"Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now")
    out = input
    lead = input.dim() - nd
    for i, (lo, hi) in enumerate(pairs):
        dim = lead + i
        n = input.shape[dim]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {dim} of input {list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and n == 0 and (lo or hi):
            raise RuntimeError(f"padding size is expected to be less than or equal to the input size")
        if lo == 0 and hi == 0:
            continue
        out = out.index_select(dim, Tensor._make(_index_map(n, lo, hi, mode)))
    return out if out is not input else input.clone()
