"""torch.version: ember's own version, the PyTorch release whose API it follows, and PyTorch's build fields (no CUDA,
ROCm or XPU build)."""
__version__ = "0.1.0"
torch_version = "2.13.0"
git_version = "unknown"
debug = False
cuda = None
hip = None
rocm = None
xpu = None
