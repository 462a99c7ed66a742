"""torch.cuda on a CPU-only library: nothing is available. Queries answer as PyTorch's CPU build answers them
(no devices, zero memory); calls that need a device raise its "not compiled with CUDA" error."""
import contextlib

from .._dtype import DeviceUnavailableError
from . import amp  # noqa: F401

_NO_CUDA = "Torch not compiled with CUDA enabled"


def _unavailable(*args, **kwargs):
    raise DeviceUnavailableError(_NO_CUDA)


current_device = get_device_name = get_device_capability = get_device_properties = set_device = _unavailable
synchronize = get_rng_state = set_rng_state = ipc_collect = _unavailable


def is_available():
    return False


def is_initialized():
    return False


def device_count():
    return 0


def manual_seed(seed):
    pass


def manual_seed_all(seed):
    pass


def seed():
    pass


def seed_all():
    pass


def empty_cache():
    pass


def memory_allocated(device=None):
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def reset_peak_memory_stats(device=None):
    pass


def is_bf16_supported(including_emulation=True):
    return False


@contextlib.contextmanager
def device(device):
    """Selecting a device for a block: None is a no-op; a device index raises PyTorch's CPU-build error."""
    if device is not None:
        raise RuntimeError("PyTorch was compiled without CUDA support")
    yield
