"""torch.amp: autocast and GradScaler. ember computes in the dtypes it is given, so autocast to a lower precision
is not available; CUDA autocast/scaling is disabled with PyTorch's warning, and GradScaler runs its full
algorithm on the CPU (scaling, unscaling, skipping steps with inf/NaN gradients, scale updates)."""
from .autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "is_autocast_available", "GradScaler"]
