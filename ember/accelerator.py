"""torch.accelerator: the device-generic accelerator API. ember has no accelerator, so it answers as PyTorch does on
a CPU-only machine: none available, no current accelerator, and an error for calls that need one."""
import contextlib

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0


def _unavailable(*args, **kwargs):
    raise RuntimeError(_NONE)


current_device_index = current_device_idx = set_device_index = set_device_idx = synchronize = _unavailable
current_stream = set_stream = _unavailable


@contextlib.contextmanager
def device_index(device):
    """Switching accelerator device for a block: None is a no-op, any index raises."""
    if device is not None:
        raise RuntimeError(_NONE)
    yield
