"""Functional convolution, transposed convolution, unfold and fold."""
from ..._tensor import Tensor
from ...autograd.function import as_node
from ...ops import conv as _conv
from ..modules.utils import _ntuple
from .utils import same_padding


_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_LEGACY = {"float32": "float", "float64": "double", "float16": "c10::Half"}


def _legacy(t):
    name = t._data.dtype.name
    return _LEGACY.get(name, name)


def _expand(name, value, dims):
    """torch's expand_param_if_needed: one value or exactly one per spatial dim."""
    value = tuple(value)
    if len(value) == 1:
        value = value * dims
    if len(value) != dims:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dims} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _per_dim(name, values, fill, sep=" "):
    """torch's "name_height: a name_width: b" listing; a 1-d conv is a 2-d one of height 1 inside torch."""
    values = (fill,) + tuple(values) if len(values) == 1 else tuple(values)
    dims = ("depth", "height", "width")[-len(values):]
    return sep.join(f"{name}_{d}: {v}" for d, v in zip(dims, values))


def _check_conv(input, weight, bias, nd, name, transposed, stride, padding, dilation, output_padding, groups):
    """PyTorch's argument and shape checks for convolution, in its order; returns the batched input and params."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        got = ", ".join(type(a).__name__ for a in (input, weight))
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}, ...)")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of "
                           f"size: {list(input.shape)}")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    dims = weight.dim() - 2
    if dims <= 0:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if padding == "same" and weight.dim() != x.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight"
                           f"{list(weight.shape)}, but got {x.dim()}-dimensional input of size {list(x.shape)} instead")
    stride = _expand("stride", stride, dims)
    if not isinstance(padding, str):
        padding = _expand("padding", padding, dims)
    dilation = _expand("dilation", dilation, dims)
    output_padding = _expand("output_padding", output_padding, dims)
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({_legacy(input)}) and bias type ({_legacy(bias)}) should be the same")
    if not isinstance(padding, str) and any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if any(d == 0 for d in dilation):
        if transposed:
            raise RuntimeError("dilation should be greater than zero, but got "
                               + _per_dim("dilation", dilation, 1, ", "))
        raise RuntimeError(f"dilation should be greater than zero, but got {list((1,) * (nd == 1) + dilation)}")
    ws = list(weight.shape)
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {ws} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{ws}] instead")
    c = x.shape[1]
    if not transposed:
        if c != ws[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {ws}, expected input{list(x.shape)} to have "
                               f"{ws[1] * groups} channels, but got {c} channels instead")
        out_c = ws[0]
    else:
        if c != ws[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {ws}, expected input{list(x.shape)} to have "
                               f"{ws[0]} channels, but got {c} channels instead")
        out_c = ws[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_c):
        raise RuntimeError(f"Given {'transposed=1, ' * transposed}weight of size {ws}, expected bias to be "
                           f"1-dimensional with {out_c} elements, but got bias of size {list(bias.shape)} instead")
    return x, batched, stride, padding, dilation, output_padding


def _check_weight_dtype(input, weight):
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {_SCALAR.get(input._data.dtype.name)} but found "
                           f"{_SCALAR.get(weight._data.dtype.name)}")


def _sizes(values, nd):
    """' x '-joined sizes, with torch's leading 1 for 1-d convolutions."""
    return " x ".join(map(str, (1,) * (nd == 1) + tuple(values)))


def _conv_pads(padding, ks, stride, dilation):
    """Per-dim (lo, hi) zero padding for an int tuple or 'same'/'valid'."""
    if not isinstance(padding, str):
        return tuple((p, p) for p in padding)
    if padding == "valid":
        return ((0, 0),) * len(ks)
    if padding == "same":
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        return same_padding(ks, dilation)
    raise RuntimeError(f"Invalid padding string: '{padding}'")


def _convnd(nd, name):
    tup = _ntuple(nd)

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        padding = padding if isinstance(padding, str) else tup(padding)
        x, batched, stride, padding, dilation, _ = _check_conv(input, weight, bias, nd, name, False, tup(stride),
                                                               padding, tup(dilation), (0,), groups)
        ks = tuple(weight.shape[2:])
        pads = _conv_pads(padding, ks, stride, dilation)
        padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)]
        eff = [d * (k - 1) + 1 for k, d in zip(ks, dilation)]
        if any(p < e for p, e in zip(padded, eff)):
            raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                               f"size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input "
                               "size")
        _check_weight_dtype(x, weight)
        out = _conv.ConvNd.apply(x, weight, bias, stride, pads, dilation, groups)
        return out if batched else out.squeeze(0)

    conv.__name__ = name
    return conv


conv1d = _convnd(1, "conv1d")
conv2d = _convnd(2, "conv2d")
conv3d = _convnd(3, "conv3d")


def _conv_transposend(nd, name):
    tup = _ntuple(nd)

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        if isinstance(padding, str):
            raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
        x, batched, stride, padding, dilation, output_padding = _check_conv(
            input, weight, bias, nd, name, True, tup(stride), tup(padding), tup(dilation), tup(output_padding),
            groups)
        if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got " + " ".join(
                (_per_dim("output_padding", output_padding, 0), _per_dim("stride", stride, 1),
                 _per_dim("dilation", dilation, 1))))
        ks = tuple(weight.shape[2:])
        out_spatial = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                            zip(x.shape[2:], stride, padding, dilation, ks, output_padding))
        if any(o <= 0 for o in out_spatial):
            raise RuntimeError(f"Given input size per channel: ({_sizes(x.shape[2:], nd)}). Calculated output size "
                               f"per channel: ({_sizes(out_spatial, nd)}). Output size is too small")
        _check_weight_dtype(x, weight)
        pads = tuple((p, p) for p in padding)
        out = _conv.ConvTransposeNd.apply(x, weight, bias, stride, pads, dilation, groups, out_spatial)
        return out if batched else out.squeeze(0)

    conv_transpose.__name__ = name
    return conv_transpose


conv_transpose1d = _conv_transposend(1, "conv_transpose1d")
conv_transpose2d = _conv_transposend(2, "conv_transpose2d")
conv_transpose3d = _conv_transposend(3, "conv_transpose3d")


def _fold_args(names_values):
    """(kernel_size, dilation, padding, stride[, output_size]) as pairs, with torch's length and sign checks."""
    out = {}
    for name, v in names_values:
        v = _ntuple(2)(v)
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
        out[name] = v
    (kh, kw), (dh, dw) = out["kernel_size"], out["dilation"]
    (ph, pw), (sh, sw) = out["padding"], out["stride"]
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kh} kernel_width: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {sh} stride_width: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dh} dilation_width: {dw}")
    if ph < 0 or pw < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {ph} pad_width: {pw}")
    return out


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a (N, C, H, W) or (C, H, W) input -> (N, C*kh*kw, L)."""
    a = _fold_args((("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)))
    ks, dil, pad, st = a["kernel_size"], a["dilation"], a["padding"], a["stride"]
    if input.dim() < 3:
        d = max(input.dim(), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-d}, {d - 1}], but got {d})")
    if input.dim() > 4 or any(s == 0 for s in input.shape[-3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    outs = [_conv.out_size(s, k, t, p, p, d) for s, k, t, p, d in zip(x.shape[2:], ks, st, pad, dil)]
    if any(o <= 0 for o in outs):
        h, w = x.shape[2:]
        raise RuntimeError(f"Given input with spatial size ({h}, {w}), kernel_size=({ks[0]}, {ks[1]}), dilation="
                           f"({dil[0]}, {dil[1]}), padding=({pad[0]}, {pad[1]}), calculated shape of the array of "
                           f"sliding blocks as ({outs[0]}, {outs[1]}), but its components must be at least one.")
    out = _conv.Unfold.apply(x, ks, st, tuple((p, p) for p in pad), dil)
    return out if batched else as_node(out.squeeze(0), "Im2ColBackward0")


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks (N, C*kh*kw, L) into (N, C, H, W) by summing overlaps."""
    a = _fold_args((("output_size", output_size), ("kernel_size", kernel_size), ("dilation", dilation),
                    ("padding", padding), ("stride", stride)))
    osz, ks, dil, pad, st = a["output_size"], a["kernel_size"], a["dilation"], a["padding"], a["stride"]
    if input.dim() not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    kk = ks[0] * ks[1]
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size=({ks[0]}, {ks[1]}).")
    outs = tuple(_conv.out_size(s, k, t, p, p, d) for s, k, t, p, d in zip(osz, ks, st, pad, dil))
    args = (f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({ks[0]}, {ks[1]}), dilation=({dil[0]}, {dil[1]}), "
            f"padding=({pad[0]}, {pad[1]}), stride=({st[0]}, {st[1]}), ")
    if outs[0] * outs[1] != x.shape[2]:
        raise RuntimeError(f"{args}expected size of input's dimension 2 to match the calculated number of sliding "
                           f"blocks {outs[0]} * {outs[1]} = {outs[0] * outs[1]}, but got input.size(2)={x.shape[2]}.")
    if outs[0] < 1 or outs[1] < 1:
        raise RuntimeError(f"{args}calculated shape of the array of sliding blocks as ({outs[0]}, {outs[1]}), which "
                           "is too small (non-positive)")
    out = _conv.Fold.apply(x, x.shape[1] // kk, osz, ks, st, tuple((p, p) for p in pad), dil, outs)
    return out if batched else as_node(out.squeeze(0), "Col2ImBackward0")
