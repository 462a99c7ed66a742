"""autograd.graph: the Node type and saved-tensor hooks context (accepted, not used by ember)."""
import contextlib

from .function import Function as Node  # noqa: F401


@contextlib.contextmanager
def saved_tensors_hooks(pack_hook, unpack_hook):
    raise NotImplementedError("ember does not implement saved_tensors_hooks")
    yield


@contextlib.contextmanager
def save_on_cpu(pin_memory=False, device_type="cuda"):
    yield
