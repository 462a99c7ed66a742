"""Functional vision layers: interpolate/upsample, grid_sample, affine_grid, pixel and channel shuffle.

Argument handling follows torch/nn/functional.py line by line (same checks, same order, same messages);
the C++-side checks (output sizes, empty inputs, dtypes) are reproduced before calling the kernels in
ember.ops.interpolate and ember.ops.vision.
"""
import math
import numbers
import warnings

import numpy as np

from ..._tensor import Tensor
from ...ops import interpolate as _interp
from ...ops import vision as _vision
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _tname(t):
    """PyTorch's scalar-type name of a tensor's dtype ('Float', 'Long', ...)."""
    name = str(t.dtype).replace("torch.", "").replace("ember.", "")
    return _TYPE_NAMES.get(name, name)


def _is_integer(x):
    """int, NumPy integer or integer tensor (torch's _is_integer)."""
    if isinstance(x, (numbers.Integral, np.integer)):
        return True
    return isinstance(x, Tensor) and not x.is_floating_point()


# ---- interpolate ---------------------------------------------------------------------------------------------
_DIM_LABELS = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _sizes_text(sizes):
    """'H: 4, W: 5' as PyTorch's upsample shape checks print sizes."""
    nd = len(sizes)
    return ", ".join(f"{k}: {v}" for k, v in zip(_DIM_LABELS[nd], sizes))


def _output_size(in_spatial, output_size, scale_factors):
    """The kernel's output size: the given size, or floor(input * scale) (PyTorch's compute_output_size)."""
    if output_size is not None:
        return [int(s) for s in output_size]
    out = []
    for n, s in zip(in_spatial, scale_factors):
        v = float(n) * float(s)
        if not math.isfinite(v) or abs(v) >= 2 ** 63:
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        out.append(int(v))
    return out


def _check_upsample(input, in_spatial, out_spatial):
    """PyTorch's upsample_Nd_shape_check: positive sizes, then non-empty non-batch dims."""
    nd = len(in_spatial)
    if any(s <= 0 for s in in_spatial) or any(s <= 0 for s in out_spatial):
        sep = " and output" if nd == 1 else " output"
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({_sizes_text(in_spatial)}){sep} ({_sizes_text(out_spatial)})")
    if any(s == 0 for s in input.shape[1:]):
        raise RuntimeError(f"Non-empty {nd + 2}D data tensor expected but got a tensor with sizes "
                           f"{list(input.shape)}")


def _kernel_name(mode, nd):
    """The PyTorch CPU kernel whose dtype dispatch rejects integer inputs (named in its error message)."""
    if nd == 2 and mode != "bicubic":
        return f"upsample_{'bilinear' if mode == 'bilinear' else 'nearest'}2d_channels_last"
    kind = {"bicubic": "cubic", "linear": "linear", "trilinear": "linear"}.get(mode, "nearest")
    return f"compute_indices_weights_{kind}"


def _check_dtype(input, mode, nd):
    """Floating inputs for every mode; uint8 for the nearest modes and 2-D bilinear/bicubic, as PyTorch."""
    dt = input._data.dtype
    if dt.kind == "f" or (dt == np.uint8 and (mode in ("nearest", "nearest-exact", "bicubic") or
                                              mode == "bilinear" and nd == 2)):
        return
    raise NotImplementedError(f"\"{_kernel_name(mode, nd)}\" not implemented for '{_tname(input)}'")


def _upsample(input, output_size, scale_factors, mode, align_corners):
    """The upsample_* kernels: output size, PyTorch's C++ checks, then the separable resampling."""
    nd = input.dim() - 2
    in_spatial = tuple(input.shape[2:])
    out_spatial = _output_size(in_spatial, output_size, scale_factors)
    _check_upsample(input, in_spatial, out_spatial)
    _check_dtype(input, mode, nd)
    scales = [None] * nd if scale_factors is None else [float(s) for s in scale_factors]
    if input._data.dtype == np.uint8 and mode in ("bilinear", "bicubic"):
        return Tensor._make(_interp.resample_uint8(input._data, tuple(out_spatial), mode, align_corners, scales))
    return _interp.resample(input, tuple(out_spatial), mode, align_corners, scales)


def _area(input, output_size):
    """mode='area' is adaptive average pooling to the output size."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"adaptive_avg_pool{input.dim() - 2}d\" not implemented for '{_tname(input)}'")
    pool = {3: adaptive_avg_pool1d, 4: adaptive_avg_pool2d, 5: adaptive_avg_pool3d}[input.dim()]
    return pool(input, [int(s) for s in output_size])


_LINEAR_MODES = {3: "linear", 4: "bilinear", 5: "trilinear"}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Down/up-sample input (N, C, *spatial) to `size` or by `scale_factor` with the given mode."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    elif size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}")
            output_size = size
        else:
            if not _is_integer(size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size of type {type(size)}")
            output_size = [size for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of "
                                 f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 "format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = scale_factor
        else:
            scale_factors = [scale_factor for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")

    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor is not None and recompute_scale_factor:
        output_size = [int(input.shape[i + 2] * float(scale_factors[i])) for i in range(dim)]
        scale_factors = None

    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")

    nd = input.dim()
    if mode in ("nearest", "nearest-exact") and nd in (3, 4, 5):
        return _upsample(input, output_size, scale_factors, mode, None)
    if mode == "area" and nd in (3, 4, 5):
        return _area(input, output_size)
    if _LINEAR_MODES.get(nd) == mode or (mode == "bicubic" and nd == 4):
        if antialias:
            raise NotImplementedError(f"interpolate(): antialias=True (mode '{mode}') is not implemented in ember")
        return _upsample(input, output_size, scale_factors, mode, align_corners)
    if mode == "lanczos" and nd == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        raise NotImplementedError("interpolate(): mode 'lanczos' is not implemented in ember")
    if nd in _LINEAR_MODES and mode in _LINEAR_MODES.values():
        need = next(k for k, v in _LINEAR_MODES.items() if v == mode)
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {need}D input")
    raise NotImplementedError("Input Error: Only 3D, 4D and 5D input Tensors supported"
                              f" (got {nd}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | "
                              f"lanczos | area | nearest-exact (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (warns as PyTorch does)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='nearest')."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- grid_sample / affine_grid -------------------------------------------------------------------------------
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _check_grid_sampler(input, grid, mode):
    """PyTorch's check_grid_sampler_common / _2d / _3d, then the dtype dispatch."""
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got "
                           f"grid with sizes {list(grid.shape)}")
    for i in range(2, input.dim()):
        if input.shape[i] <= 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {list(input.shape)} with dimension {i} being empty")
    want = 4 if input.dim() == 4 else 5
    if input.dim() != want or grid.dim() != want:
        raise RuntimeError(f"grid_sampler(): expected {want}D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and want == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        kernel = "grid_sampler_2d_cpu_kernel_impl" if want == 4 else "grid_sampler3d_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_tname(input)}'")
    if grid.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_tname(input)} but found {_tname(grid)}")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, *in) at the normalised locations grid (N, *out, nd) -> (N, C, *out)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    _check_grid_sampler(input, grid, mode)
    return _vision.grid_sample(input, grid, mode, padding_mode, bool(align_corners))


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, *spatial, nd) for a batch of affine matrices theta (N, nd, nd+1)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    nd = len(spatial)
    if int(size[0]) != theta.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{int(size[0])}, "
                           f"{nd + 1}] but got: [{theta.shape[0]}, {nd + 1}].")
    return _vision.affine_grid(theta, tuple(int(s) for s in spatial), bool(align_corners))


# ---- pixel / channel shuffle ---------------------------------------------------------------------------------
def _int_arg(value, fn, name):
    """An int argument, with the TypeError of PyTorch's argument parser otherwise."""
    if not isinstance(value, (numbers.Integral, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{fn}(): argument '{name}' (position 2) must be int, not {type(value).__name__}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r)."""
    r = _int_arg(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c = input.shape[-3]
    if c % (r * r) != 0:
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    return _vision.pixel_shuffle(input, r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W)."""
    r = _int_arg(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    h, w = input.shape[-2], input.shape[-1]
    if h % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    if input.numel() == 0:
        return input.clone()  # PyTorch returns empty inputs unchanged (shape included)
    return _vision.pixel_unshuffle(input, r)


def channel_shuffle(input, groups):
    """Interleave the channels of input (N, C, *) across `groups` groups."""
    g = _int_arg(groups, "channel_shuffle", "groups")
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    c = input.shape[1]
    if c % g != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g} groups.")
    return _vision.channel_shuffle(input, g)


native_channel_shuffle = channel_shuffle
