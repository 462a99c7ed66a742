"""In-place NumPy update kernels shared by the optimizers (PyTorch's exact operation order)."""
import numpy as np


def lerp_(a, b, w):
    """a.lerp_(b, w) with PyTorch's two-branch formula."""
    w = a.dtype.type(w)
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (a.dtype.type(1) - w)
    return a


def with_weight_decay(grad, param, weight_decay):
    """grad + weight_decay * param (a new array; PyTorch's grad.add(param, alpha=wd))."""
    return grad + param.dtype.type(weight_decay) * param if weight_decay != 0 else grad


def scaled(value, array):
    """value * array with value rounded to the array's dtype first (as PyTorch's alpha= arguments are)."""
    return array.dtype.type(value) * array
