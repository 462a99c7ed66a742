"""Functional convolution, transposed convolution, unfold and fold."""
from ..._tensor import Tensor
from ...ops import conv as _conv
from .utils import ntuple, same_padding


def _legacy(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(t._data.dtype.name,
                                                                              t._data.dtype.name)


def _check_conv_input(input, weight, bias, nd, name, transposed, groups):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, ...)")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of "
                           f"size: {list(input.shape)}")
    if weight.dim() != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({_legacy(input)}) and weight type ({_legacy(weight)}) should be the same")
    if bias is not None and bias.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({_legacy(input)}) and bias type ({_legacy(bias)}) should be the same")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    c = x.shape[1]
    if not transposed:
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                               f"but got weight of size {list(weight.shape)} instead")
        if c != weight.shape[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                               f"{list(x.shape)} to have {weight.shape[1] * groups} channels, but got {c} channels "
                               "instead")
    else:
        if c != weight.shape[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                               f"{list(x.shape)} to have {weight.shape[0]} channels, but got {c} channels instead")
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                               f"but got weight of size {list(weight.shape)} instead")
    if bias is not None:
        out_c = weight.shape[0] if not transposed else weight.shape[1] * groups
        if bias.dim() != 1 or bias.shape[0] != out_c:
            raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                               f"{out_c} elements, but got bias of size {list(bias.shape)} instead")
    return x, batched


def _convnd(nd, name):
    tup = ntuple(nd)

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        x, batched = _check_conv_input(input, weight, bias, nd, name, False, groups)
        stride, dilation = tup(stride), tup(dilation)
        ks = tuple(weight.shape[2:])
        if isinstance(padding, str):
            if padding == "valid":
                pads = ((0, 0),) * nd
            elif padding == "same":
                if any(s != 1 for s in stride):
                    raise RuntimeError("padding='same' is not supported for strided convolutions")
                pads = same_padding(ks, dilation)
            else:
                raise RuntimeError(f"Invalid padding string '{padding}'")
        else:
            pads = tuple((p, p) for p in tup(padding))
        if any(s <= 0 for s in stride):
            raise RuntimeError("non-positive stride is not supported")
        if any(d <= 0 for d in dilation):
            raise RuntimeError("dilation should be greater than zero")
        padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)]
        eff = [d * (k - 1) + 1 for k, d in zip(ks, dilation)]
        if any(p < e for p, e in zip(padded, eff)):
            raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                               f"size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input "
                               "size")
        out = _conv.ConvNd.apply(x, weight, bias, stride, pads, dilation, groups)
        return out if batched else out.squeeze(0)

    conv.__name__ = name
    return conv


conv1d = _convnd(1, "conv1d")
conv2d = _convnd(2, "conv2d")
conv3d = _convnd(3, "conv3d")


def _conv_transposend(nd, name):
    tup = ntuple(nd)

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        x, batched = _check_conv_input(input, weight, bias, nd, name, True, groups)
        stride, padding, output_padding, dilation = tup(stride), tup(padding), tup(output_padding), tup(dilation)
        for op, s, d in zip(output_padding, stride, dilation):
            if op >= s and op >= d:
                raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                                   f"output_padding: {output_padding}, stride: {stride}, dilation: {dilation}")
        ks = tuple(weight.shape[2:])
        out_spatial = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                            zip(x.shape[2:], stride, padding, dilation, ks, output_padding))
        if any(o <= 0 for o in out_spatial):
            raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). Calculated "
                               f"output size per channel: ({' x '.join(map(str, out_spatial))}). Output size is too "
                               "small")
        pads = tuple((p, p) for p in padding)
        out = _conv.ConvTransposeNd.apply(x, weight, bias, stride, pads, dilation, groups, out_spatial)
        return out if batched else out.squeeze(0)

    conv_transpose.__name__ = name
    return conv_transpose


conv_transpose1d = _conv_transposend(1, "conv_transpose1d")
conv_transpose2d = _conv_transposend(2, "conv_transpose2d")
conv_transpose3d = _conv_transposend(3, "conv_transpose3d")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a (N, C, H, W) or (C, H, W) input -> (N, C*kh*kw, L)."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    ks, dil, pad, st = ntuple(2)(kernel_size), ntuple(2)(dilation), ntuple(2)(padding), ntuple(2)(stride)
    outs = [_conv.out_size(s, k, t, p, p, d) for s, k, t, p, d in zip(x.shape[2:], ks, st, pad, dil)]
    if any(o <= 0 for o in outs):
        raise RuntimeError(f"Given input with spatial size ({', '.join(map(str, x.shape[2:]))}), kernel_size="
                           f"({', '.join(map(str, ks))}), dilation=({', '.join(map(str, dil))}), padding="
                           f"({', '.join(map(str, pad))}), calculated shape of the array of sliding blocks as "
                           f"({', '.join(map(str, outs))}), but its components must be at least one.")
    out = _conv.Unfold.apply(x, ks, st, tuple((p, p) for p in pad), dil)
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks (N, C*kh*kw, L) into (N, C, H, W) by summing overlaps."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {input.dim()}D)")
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    osz, ks = ntuple(2)(output_size), ntuple(2)(kernel_size)
    dil, pad, st = ntuple(2)(dilation), ntuple(2)(padding), ntuple(2)(stride)
    kk = ks[0] * ks[1]
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size=({ks[0]}, {ks[1]})")
    outs = tuple(_conv.out_size(s, k, t, p, p, d) for s, k, t, p, d in zip(osz, ks, st, pad, dil))
    if outs[0] * outs[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({ks[0]}, {ks[1]}), dilation="
                           f"({dil[0]}, {dil[1]}), padding=({pad[0]}, {pad[1]}), stride=({st[0]}, {st[1]}), expected "
                           f"size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{outs[0]} * {outs[1]} = {outs[0] * outs[1]}, but got input.size(2)={x.shape[2]}.")
    out = _conv.Fold.apply(x, x.shape[1] // kk, osz, ks, st, tuple((p, p) for p in pad), dil, outs)
    return out if batched else out.squeeze(0)
