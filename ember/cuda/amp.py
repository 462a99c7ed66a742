"""torch.cuda.amp: PyTorch's deprecated spellings of torch.amp's autocast and GradScaler for CUDA (disabled here,
as on any machine without CUDA)."""
from .. import _dtype
from ..amp._deprecated import deprecated_autocast, deprecated_grad_scaler

autocast = deprecated_autocast("cuda", _dtype.float16)
GradScaler = deprecated_grad_scaler("cuda")
