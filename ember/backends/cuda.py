"""torch.backends.cuda: no CUDA in ember. matmul.allow_tf32 is the legacy view of torch.set_float32_matmul_precision
('highest' is False). The scaled-dot-product-attention backend switches are kept: ember's one implementation stands
for PyTorch's math and flash kernels, so scaled_dot_product_attention raises PyTorch's error when both are off."""
import contextlib
import warnings

from .. import _settings


class _MatmulFlags:
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self):
        return _settings.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value):
        _settings.set_float32_matmul_precision("high" if value else "highest")


matmul = _MatmulFlags()
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built():
    return False


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_flash_sdp(enabled):
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_math_sdp(enabled):
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled):
    _sdp["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Deprecated in PyTorch (torch.nn.attention.sdpa_kernel): sets the switches for the block."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=3)
    with sdp_switches(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn):
        yield


@contextlib.contextmanager
def sdp_switches(**values):
    """Set the attention backend switches for a block (sdp_kernel, torch.nn.attention.sdpa_kernel)."""
    old = dict(_sdp)
    _sdp.update(values)
    try:
        yield
    finally:
        _sdp.update(old)
