"""F.pad: constant padding (negative pads crop) and reflect/replicate/circular by index maps, with torch's checks."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, as_node, overload
from ..autograd.grad_mode import STATE

_NON_CONSTANT_SIZES = ("Supported combinations for non-constant padding:\n"
                       "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                       "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                       "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
_KERNEL_NAMES = {"reflect": "reflection", "replicate": "replication"}


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
        out = np.empty(tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, pos)), x.dtype)
        out[...] = value
        out[tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape, pos))] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


def _along(ndim, dim, sl):
    """Index tuple selecting `sl` along dim of an ndim array."""
    return (slice(None),) * dim + (sl,)


def _border_sources(n, lo, hi, mode):
    """For each border position of one dim (0 <= lo, hi): its index in the padded axis and the unpadded position it
    copies (reflect mirrors without the edge, replicate repeats the edge, circular wraps around)."""
    for p in list(range(lo)) + list(range(lo + n, lo + n + hi)):
        j = p - lo
        if mode == "reflect":
            j = -j if j < 0 else 2 * (n - 1) - j
        elif mode == "replicate":
            j = min(max(j, 0), n - 1)
        else:
            j %= n
        yield p, j


def border_pad_array(x, pairs, mode):
    """reflect/replicate/circular padding of the trailing len(pairs) dims (non-negative amounts): the input is
    copied once into the middle, then each dim's border positions are copied one by one from the buffer itself
    (one strided copy each, spanning the dims already padded, so corners come out right)."""
    nd = len(pairs)
    lead = x.ndim - nd
    out = np.empty(x.shape[:lead] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], pairs)), x.dtype)
    inner = [slice(lo, lo + n) for n, (lo, _) in zip(x.shape[lead:], pairs)]
    out[(Ellipsis,) + tuple(inner)] = x
    for i, (n, (lo, hi)) in enumerate(zip(x.shape[lead:], pairs)):
        before, after = (slice(None),) * i, tuple(inner[i + 1:])
        for p, j in _border_sources(n, lo, hi, mode):
            out[(Ellipsis,) + before + (p,) + after] = out[(Ellipsis,) + before + (j + lo,) + after]
    return out


def border_pad_adjoint(g, pairs, mode):
    """The transpose of border_pad_array: dims undone in reverse order, each border position added onto its source."""
    nd = len(pairs)
    lead = g.ndim - nd
    for i in reversed(range(nd)):
        lo, hi = pairs[i]
        dim = lead + i
        n = g.shape[dim] - lo - hi
        gi = g[_along(g.ndim, dim, slice(lo, lo + n))].copy()
        for p, j in _border_sources(n, lo, hi, mode):
            gi[_along(g.ndim, dim, j)] += g[_along(g.ndim, dim, p)]
        g = gi
    return g


_PAD_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0",
              "circular": "CopySlices"}


class BorderPad(Function):
    """reflect/replicate/circular padding by non-negative amounts; backward is BorderPadBackward."""

    _raw = True

    @staticmethod
    def forward(ctx, x, pairs, mode):
        ctx.pairs, ctx.mode = pairs, mode
        return border_pad_array(x, pairs, mode)

    @staticmethod
    def backward(ctx, g):
        return BorderPadBackward.apply(g, ctx.pairs, ctx.mode), None, None


class BorderPadBackward(Function):
    """The adjoint of BorderPad (linear in g); its backward pads again."""

    _raw = True
    _node_name = "PadBackwardBackward0"

    @staticmethod
    def forward(ctx, g, pairs, mode):
        ctx.pairs, ctx.mode = pairs, mode
        return border_pad_adjoint(g, pairs, mode)

    @staticmethod
    def backward(ctx, gg):
        return border_pad_function(ctx.mode, len(ctx.pairs)).apply(gg, ctx.pairs, ctx.mode), None, None


def border_pad_function(mode, nd):
    """BorderPad recording its node as PyTorch's (e.g. ReflectionPad2DBackward0)."""
    return overload(BorderPad, _PAD_NAMES[mode].format(nd))


def _index_map(n, lo, hi, mode):
    """Source index for each padded position along a dim of length n (negative amounts crop)."""
    if mode == "circular":
        start, m = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        j = np.arange(-max(lo, 0), m + max(hi, 0))
        return j % m + start if m > 0 else j[:0]
    j = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1) if n > 1 else 1
        j = np.abs(j) % period
        return np.where(j >= n, period - j, j)
    return np.clip(j, 0, n - 1)


def _pairs(pad, ndim):
    """(lo, hi) per padded dim, first padded dim first, after torch's length and type checks."""
    for i, p in enumerate(pad):
        if isinstance(p, (bool, float)) or not (isinstance(p, (int, np.integer)) or
                                                (isinstance(p, Tensor) and p.dim() == 0)):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                            f"{type(p).__name__} at pos {i}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]
    return tuple(reversed(pairs))


def _check_constant(shape, pairs):
    lead = len(shape) - len(pairs)
    for n, (lo, hi) in zip(shape[lead:], pairs):
        if n + min(lo, 0) + min(hi, 0) < 0:  # torch crops (narrows) before it pads
            raise RuntimeError("narrow(): length must be non-negative.")


def _check_non_constant(input, pairs, mode):
    """torch's per-mode checks for reflect/replicate/circular padding (messages name the offending sizes)."""
    nd = len(pairs)
    shape = list(input.shape)
    lead = input.dim() - nd
    if mode != "circular":
        if input._data.dtype == np.bool_:
            raise NotImplementedError(f"\"{_KERNEL_NAMES[mode]}_pad{nd}d\" not implemented for 'Bool'")
        if any(s == 0 for s in shape[input.dim() - nd - 1:]):
            raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with possibly 0 batch size and "
                               f"other non-zero dimensions for input, but got: {shape}")
    outs = [n + lo + hi for n, (lo, hi) in zip(shape[lead:], pairs)]
    for i in range(nd):  # torch checks the last dim first
        dim = input.dim() - 1 - i
        n, (lo, hi), out = shape[dim], pairs[dim - lead], outs[dim - lead]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension {dim} of input {shape}")
        if mode == "circular":
            if lo > n or hi > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if out < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            kept = n - max(-lo, 0) - max(-hi, 0)
            if lo > kept or hi > kept:  # torch copies overlapping memory here (an error, or garbage if kept <= 0)
                raise RuntimeError(f"Padding value causes wrapping around more than once: padding ({lo}, {hi}) at "
                                   f"dimension {dim} of input {shape} wraps around the {max(kept, 0)} elements left "
                                   "after cropping")
    if mode != "circular":
        _check_output_size(shape[lead:], outs, mode)
        if min(outs) < 0:
            out_shape = shape[:lead] + outs
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(outs)}: {out_shape}")


def _check_output_size(sizes, outs, mode):
    """reflect/replicate: torch rejects an output with no positive dim, naming the input and output sizes."""
    if max(outs) >= 1:
        return
    names = "DHW"[-len(sizes):]
    if len(sizes) == 1:
        given = f"W: {sizes[0]}"
    elif len(sizes) == 2:
        given = f"H: {sizes[0]}, W: {sizes[1]}" + (" " if mode == "replicate" else "")
    else:
        given = f"D: {sizes[0]} H: {sizes[1]}, W: {sizes[2]}"
    calc = " ".join(f"{c}: {o}" for c, o in zip(names, outs))
    raise RuntimeError(f"input ({given}) is too small. Calculated output {calc}")


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: `pad` lists (left, right) amounts starting from the last dim."""
    pairs = _pairs(pad, input.dim())
    if mode == "constant":
        _check_constant(tuple(input.shape), pairs)
        return ConstantPad.apply(input, pairs, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    nd = len(pairs)
    if not 1 <= nd <= 3 or input.dim() not in (nd + 1, nd + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
                                  + _NON_CONSTANT_SIZES)
    _check_non_constant(input, pairs, mode)
    if all(lo >= 0 and hi >= 0 for lo, hi in pairs) and not STATE.tracing:  # the exporter knows the gather form
        return border_pad_function(mode, nd).apply(input, pairs, mode)
    out = input
    lead = input.dim() - nd
    for i, (lo, hi) in enumerate(pairs):
        if lo == 0 and hi == 0:
            continue
        dim = lead + i
        out = out.index_select(dim, Tensor._make(_index_map(input.shape[dim], lo, hi, mode)))
    return as_node(out if out is not input else input.clone(), _PAD_NAMES[mode].format(nd))
