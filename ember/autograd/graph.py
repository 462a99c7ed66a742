"""autograd.graph: the Node type and saved-tensor hooks (pack/unpack what a backward pass will need)."""
from .function import Function as Node, SAVED_TENSORS_HOOKS  # noqa: F401


class saved_tensors_hooks:
    """Inside this block, every tensor saved for backward is stored as pack_hook(tensor) and restored with
    unpack_hook(packed) when backward needs it (no version check is then possible, as in PyTorch)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        disabled = SAVED_TENSORS_HOOKS["disabled"]
        if disabled is not None:
            raise RuntimeError(disabled)
        SAVED_TENSORS_HOOKS["stack"].append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        SAVED_TENSORS_HOOKS["stack"].pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors already live in host memory in ember: the hooks keep them as they are."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(lambda t: t, lambda t: t)


class disable_saved_tensors_hooks:
    """Inside this block, entering saved_tensors_hooks raises RuntimeError(error_message)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self.prev = SAVED_TENSORS_HOOKS["disabled"]
        SAVED_TENSORS_HOOKS["disabled"] = self.error_message

    def __exit__(self, *exc):
        SAVED_TENSORS_HOOKS["disabled"] = self.prev
