"""torch.utils.dlpack: exchange tensors with other array libraries through DLPack (memory is shared, not copied)."""
import ctypes
import enum

from .. import _dtype
from .._tensor import Tensor, _tp_name
from ..ops import creation as _creation

__all__ = ["DLDeviceType", "from_dlpack"]


class DLDeviceType(enum.IntEnum):
    """Device types as numbered by the DLPack specification."""
    kDLCPU = 1,
    kDLCUDA = 2,
    kDLCUDAHost = 3,
    kDLOpenCL = 4,
    kDLVulkan = 7,
    kDLMetal = 8,
    kDLVPI = 9,
    kDLROCM = 10,
    kDLROCMHost = 11,
    kDLExtDev = 12,
    kDLCUDAManaged = 13,
    kDLOneAPI = 14,
    kDLWebGPU = 15,
    kDLHexagon = 16,
    kDLMAIA = 17,


_capsule_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_is_valid.restype = ctypes.c_int
_capsule_is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]


def to_dlpack(tensor):
    """An opaque DLPack capsule sharing tensor's memory, which from_dlpack may consume once.

    The capsule is DLPack 1.0's "dltensor_versioned" (torch's is the legacy "dltensor"): NumPy, which ember
    imports through, makes arrays from legacy capsules read-only, and torch accepts either kind."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_to_dlpack(): argument 'data' (position 1) must be Tensor, not {_tp_name(tensor)}")
    return tensor._data.__dlpack__(max_version=(1, 0))


class _CapsuleProducer:
    """A not-yet-consumed DLPack capsule presented through the __dlpack__ protocol, for NumPy to consume."""

    def __init__(self, capsule):
        if not (_capsule_is_valid(capsule, b"dltensor") or _capsule_is_valid(capsule, b"dltensor_versioned")):
            raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed "
                               "only once, so you might have already constructed a tensor from it once.")
        self._capsule = capsule

    def __dlpack__(self, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return (DLDeviceType.kDLCPU, 0)


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing memory with ext_tensor (an object with __dlpack__, or a capsule from to_dlpack).

    copy=True always copies; ember tensors live on the CPU, so device may only name the CPU."""
    if device is not None:
        if isinstance(device, str):
            device = _dtype.device(device)
        if not isinstance(device, _dtype.device):
            raise AssertionError(f"from_dlpack: unsupported device type: {type(device)}")
        _dtype.check_device(device)
    if not hasattr(ext_tensor, "__dlpack__"):
        ext_tensor = _CapsuleProducer(ext_tensor)
    t = _creation.from_dlpack(ext_tensor)
    return t.clone() if copy else t
