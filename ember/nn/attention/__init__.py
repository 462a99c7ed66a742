"""torch.nn.attention: choosing the scaled_dot_product_attention backends. ember has one implementation, the math
one, which also stands for PyTorch's CPU flash kernel; a selection with neither raises PyTorch's error."""
import contextlib
import enum

from ...backends import cuda as _cuda


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_SWITCHES = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
             SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.CUDNN_ATTENTION: "cudnn"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Enable only `backends` (an SDPBackend or a list of them) inside the block."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    chosen = {backends} if isinstance(backends, SDPBackend) else set(backends)
    with _cuda.sdp_switches(**{name: b in chosen for b, name in _SWITCHES.items()}):
        yield {}
