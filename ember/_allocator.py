"""glibc malloc settings for NumPy workloads, applied once at import.

Ops make full-size temporaries of a few MB each. By default glibc gives such blocks back to the kernel when they
are freed (unmapped, or trimmed off the top of the heap), so the next step's arrays fault their pages in again,
zero-filled: 2,000 page faults and about 4 ms per GroupNorm step on 8x64x32x32 inputs, 4x its compute. Serving
blocks up to 32 MB from the heap and keeping up to 64 MB of freed heap for reuse removes those faults. The cost is
that a process keeps up to 64 MB more than it uses. EMBER_MALLOC_TUNING=0 leaves malloc's defaults alone.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # the largest value glibc accepts (and its own dynamic threshold's ceiling)
TRIM_THRESHOLD = 64 << 20


def tune_malloc():
    """Apply the settings above when the C library is glibc; True if they were applied."""
    if os.environ.get("EMBER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl and others keep their own policies)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = tune_malloc()
