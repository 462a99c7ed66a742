"""Dropout kernels: multiply by a saved (scaled) Bernoulli mask; alpha dropout keeps SELU statistics."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from .. import random as _random

ALPHA_PRIME = -1.7580993408473766  # -SELU scale * SELU alpha


class MaskMul(Function):
    """y = x * mask + shift (mask and shift are constants drawn in the functional form)."""

    _raw = True
    _node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, mask, shift):
        ctx.mask = mask
        out = x * mask
        if shift is not None:
            out = out + shift
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor._make(np.broadcast_to(ctx.mask, g.shape).astype(g._data.dtype)), None, None


def keep_mask(shape, p, dtype):
    """A Bernoulli(1 - p) mask of `shape`."""
    return (_random.rng(None).random(shape) >= p).astype(dtype)
