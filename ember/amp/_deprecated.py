"""The deprecated torch.cuda.amp / torch.cpu.amp spellings of autocast and GradScaler: torch.amp's classes with a
FutureWarning naming the replacement."""
import warnings

from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


def _warn(device_type, name):
    warnings.warn(f"`torch.{device_type}.amp.{name}(args...)` is deprecated. Please use `torch.amp.{name}"
                  f"('{device_type}', args...)` instead.", FutureWarning, stacklevel=3)


def deprecated_autocast(device_type, default_dtype):
    class autocast(_autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            _warn(device_type, "autocast")
            super().__init__(device_type, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
    autocast.__module__ = f"ember.{device_type}.amp"
    return autocast


def deprecated_grad_scaler(device_type):
    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            _warn(device_type, "GradScaler")
            super().__init__(device_type, init_scale, growth_factor, backoff_factor, growth_interval, enabled)
    GradScaler.__module__ = f"ember.{device_type}.amp"
    return GradScaler
