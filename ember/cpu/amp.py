"""torch.cpu.amp: PyTorch's deprecated spellings of torch.amp's autocast and GradScaler for the CPU."""
from .. import _dtype
from ..amp._deprecated import deprecated_autocast, deprecated_grad_scaler

autocast = deprecated_autocast("cpu", _dtype.bfloat16)
GradScaler = deprecated_grad_scaler("cpu")
