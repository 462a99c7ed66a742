"""autocast: a no-op when disabled; CUDA autocast is disabled with PyTorch's warning (no GPU)."""
import functools
import warnings

from .. import _dtype


def is_autocast_available(device_type):
    return device_type == "cpu"


class autocast:
    """Context manager and decorator of torch.autocast. ember runs ops in their inputs' dtypes, so an enabled CPU
    autocast (which would lower matmul/conv precision) raises NotImplementedError."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if dtype is not None and not isinstance(dtype, _dtype.dtype):
            raise ValueError(f"Expected `dtype` of type `torch.dtype`, got: `{type(dtype)}`")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (_dtype.bfloat16 if device_type == "cpu" else _dtype.float16)
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        self._enabled = bool(enabled)
        if self._enabled and device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.")
            self._enabled = False
        elif self._enabled and device_type != "cpu":
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")

    def __enter__(self):
        if self._enabled:
            raise NotImplementedError(f"autocast to {self.fast_dtype} on the CPU is not implemented in ember (ops run "
                                      "in their inputs' dtypes); use enabled=False")
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)
        return decorated
