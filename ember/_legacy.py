"""Legacy typed constructors: FloatTensor(2, 3), LongTensor([1, 2]), isinstance(t, FloatTensor), x.new(...)."""
import numpy as np

from ._tensor import Tensor, _legacy_construct
from . import _dtype


def legacy_new(d, args, device=None):
    """PyTorch's legacy constructor for dtype d (FloatTensor(...), x.new(...)): Tensor()'s rules in dtype d, and a
    Tensor argument must already have dtype d."""
    if len(args) == 1 and isinstance(args[0], Tensor) and args[0].dtype is not d:
        raise TypeError(f"expected TensorOptions(dtype={d.name}, device=cpu, layout=Strided, requires_grad=false) "
                        f"(got TensorOptions(dtype={args[0].dtype.name}, device=cpu, layout=Strided, "
                        "requires_grad=false))")
    return _legacy_construct(Tensor, d, args, device)


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
