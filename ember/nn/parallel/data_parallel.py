"""nn.DataParallel on a CPU-only library: PyTorch's behaviour when no accelerator is available."""
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Wraps `module` (exposed as `.module`, so state_dict keys get the `module.` prefix) and runs it in-process.

    Without GPUs PyTorch keeps no devices (`device_ids == []`) and simply calls the module; so does ember, whatever
    `device_ids`, `output_device` and `dim` are given.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional form: like PyTorch without an accelerator, it cannot pick a device and raises."""
    raise RuntimeError("device type could not be determined")
