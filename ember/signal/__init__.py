"""torch.signal: signal-processing functions (the windows module)."""
from . import windows

__all__ = ["windows"]
