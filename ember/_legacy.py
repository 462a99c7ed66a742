"""Legacy typed constructors: FloatTensor(2, 3), LongTensor([1, 2]), isinstance(t, FloatTensor), x.new(...)."""
import numpy as np

from ._tensor import Tensor
from . import _dtype


def legacy_new(d, args, device=None):
    """PyTorch's legacy constructor for dtype d: () empty, (*sizes) or (Size) zeros, (sequence) data, (Tensor) alias."""
    _dtype.check_device(device)
    if not args:
        return Tensor._make(np.zeros(0, d.np))
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if first.dtype is not d:
            raise TypeError(f"expected TensorOptions(dtype={d.name}, device=cpu, layout=Strided, requires_grad=false) "
                            f"(got TensorOptions(dtype={first.dtype.name}, device=cpu, layout=Strided, "
                            "requires_grad=false))")
        return Tensor._make(first._data)
    if len(args) == 1 and isinstance(first, (list, tuple, np.ndarray)) and not isinstance(first, _dtype.Size):
        from .ops.creation import tensor
        return tensor(first, dtype=d)
    if len(args) == 1 and isinstance(first, str):
        raise TypeError(f"new(): invalid data type '{type(first).__name__}'")
    sizes = first if len(args) == 1 and isinstance(first, _dtype.Size) else args
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"new(): data must be a sequence (got {type(s).__name__})")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: {list(sizes)}")
    return Tensor._make(np.zeros(tuple(int(s) for s in sizes), d.np))


class _LegacyMeta(type):
    """isinstance(t, FloatTensor) is true for every float32 Tensor."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls._legacy_dtype.np


def _legacy(name, d):
    def __new__(cls, *args, device=None):
        return legacy_new(d, args, device)
    return _LegacyMeta(name, (), {"__new__": __new__, "_legacy_dtype": d, "dtype": d, "__module__": "torch"})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
LongTensor = _legacy("LongTensor", _dtype.int64)
IntTensor = _legacy("IntTensor", _dtype.int32)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
CharTensor = _legacy("CharTensor", _dtype.int8)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
BoolTensor = _legacy("BoolTensor", _dtype.bool_)

_BY_NAME = {c.__name__: c for c in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor,
                                    CharTensor, ByteTensor, BoolTensor)}


def set_default_tensor_type(t):
    """Legacy: set the default float dtype from a tensor type (e.g. torch.DoubleTensor)."""
    if isinstance(t, str):
        t = _BY_NAME[t.split(".")[-1]]
    _dtype.set_default_dtype(t._legacy_dtype)
