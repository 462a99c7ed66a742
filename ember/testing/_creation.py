"""torch.testing.make_tensor: random test tensors of a given shape and dtype, values uniform in [low, high)."""
import collections.abc
import functools
import math
import warnings

from .. import _dtype

_INTEGRAL_TYPES = [_dtype.uint8, _dtype.int8, _dtype.int16, _dtype.int32, _dtype.int64, _dtype.uint16,
                   _dtype.uint32, _dtype.uint64]
_FLOATING_TYPES = [_dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64]
_COMPLEX_TYPES = [_dtype.complex32, _dtype.complex64, _dtype.complex128]
_BOOLEAN_OR_INTEGRAL_TYPES = [_dtype.bool_, *_INTEGRAL_TYPES]
_FLOATING_OR_COMPLEX_TYPES = [*_FLOATING_TYPES, *_COMPLEX_TYPES]


def _modify_low_high(low, high, dtype, *, lowest_inclusive, highest_exclusive, default_low, default_high):
    """Default, check and clamp the user's [low, high) to what dtype holds (integer bounds ceiled)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got {low=} and {high=}")
    elif low == high and dtype in _FLOATING_OR_COMPLEX_TYPES:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types "
                      "is deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=4)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest_inclusive}, {highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    if dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        return math.ceil(low), math.ceil(high)
    return low, high


def _uniform_random_(t, low, high):
    """t.uniform_(low, high), halving the range first when its width would overflow the dtype."""
    from .. import finfo
    if high - low >= finfo(t.dtype).max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def _make_integral(shape, dtype, device, low, high):
    """randint over [low, high), clamped to the dtype (bool: [0, 2); integers default [-9, 10))."""
    from .. import iinfo, randint
    if dtype is _dtype.bool_:
        bounds = dict(lowest_inclusive=0, highest_exclusive=2, default_low=0, default_high=2)
    else:
        info = iinfo(dtype)
        bounds = dict(lowest_inclusive=info.min, highest_exclusive=info.max + (dtype is not _dtype.int64),
                      default_low=-9, default_high=10)
    low, high = _modify_low_high(low, high, dtype, **bounds)
    return randint(low, high, shape, device=device, dtype=dtype)


def _make_floating(shape, dtype, device, low, high):
    """Uniform values in [low, high), default [-9, 9); complex dtypes fill real and imaginary parts alike."""
    from .. import empty, finfo, view_as_real
    info = finfo(dtype)
    low, high = _modify_low_high(low, high, dtype, lowest_inclusive=info.min, highest_exclusive=info.max,
                                 default_low=-9, default_high=9)
    result = empty(shape, device=device, dtype=dtype)
    _uniform_random_(view_as_real(result) if dtype in _COMPLEX_TYPES else result, low, high)
    return result


def _check_arguments(dtype, requires_grad, noncontiguous, memory_format):
    """PyTorch's ValueErrors for conflicting or unsupported options."""
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
                         f"but got {noncontiguous=} and {memory_format=}")
    if requires_grad and dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got {dtype=}")


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of `shape` and `dtype` with values drawn uniformly from [low, high) by ember's generator."""
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    _check_arguments(dtype, requires_grad, noncontiguous, memory_format)
    noncontiguous = noncontiguous and functools.reduce(lambda x, y: x * y, shape, 1) > 1
    if noncontiguous:  # twice the last dimension, then every second element from offset 1
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        result = _make_integral(shape, dtype, device, low, high)
    elif dtype in _FLOATING_OR_COMPLEX_TYPES:
        result = _make_floating(shape, dtype, device, low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor()."
                        " To request support, file an issue at: https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        _replace_zeros(result, dtype)
    if dtype in _FLOATING_OR_COMPLEX_TYPES:
        result.requires_grad = requires_grad
    return result


def _replace_zeros(result, dtype):
    """Zeros become 1 (bool, integers) or the dtype's smallest positive normal number (floating, complex)."""
    from .. import finfo
    result[result == 0] = 1 if dtype in _BOOLEAN_OR_INTEGRAL_TYPES else finfo(dtype).tiny
