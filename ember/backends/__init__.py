"""torch.backends: the flags PyTorch scripts set or read. ember always computes on the CPU with NumPy, so the
accelerator libraries report unavailable and their flags are accepted without effect."""
from . import cpu, cuda, cudnn, mkldnn, mps, openmp, opt_einsum  # noqa: F401
