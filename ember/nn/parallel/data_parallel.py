"""nn.DataParallel on a CPU-only library: runs the wrapped module in-process, as PyTorch does without GPUs."""
from ..modules.module import Module


class DataParallel(Module):
    """Wraps `module` (exposed as `.module`, so state_dict keys get the `module.` prefix)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []
        self.dim = dim
        self.output_device = None
        self.src_device_obj = None

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))
