"""The memory an ndarray lives in: its root array (what a torch storage corresponds to), addresses and byte span.
Shared by checkpoint writing, safetensors' shared-tensor detection and shared-memory tensors."""
import numpy as np


def array_root(arr):
    """The outermost ndarray `arr` is a view of (it owns the memory, or wraps a foreign buffer)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def address(arr):
    """The address of arr's first element."""
    return arr.__array_interface__["data"][0]


def byte_span(arr):
    """(lowest, highest + 1) byte address `arr` touches; (ptr, ptr) when empty."""
    lo = hi = address(arr)
    if arr.size == 0:
        return lo, hi
    for n, s in zip(arr.shape, arr.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + arr.itemsize
