"""torch.backends.cpu."""
import numpy as np


def get_cpu_capability():
    """The widest SIMD level NumPy's kernels use on this CPU, named as PyTorch names its CPU capability."""
    features = getattr(getattr(np, "_core", None), "_multiarray_umath", None)
    features = getattr(features, "__cpu_features__", {})
    if features.get("AVX512F"):
        return "AVX512"
    if features.get("AVX2"):
        return "AVX2"
    return "DEFAULT"
