"""Embedding lookup with its row-accumulating backward (padding rows get no gradient)."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from .indexing import add_rows, IndexSelect


class Embedding(Function):
    _raw = True
    _node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        n = weight.shape[0]
        if idx.size and (idx.max() >= n or idx.min() < -n):
            raise IndexError("index out of range in self")
        flat = np.where(idx < 0, idx + n, idx).reshape(-1)
        ctx.args = (weight.shape, flat, idx.shape, padding_idx, scale_grad_by_freq)
        return weight[flat].reshape(idx.shape + weight.shape[1:])

    @staticmethod
    def backward(ctx, g):
        shape, flat, ishape, padding_idx, scale = ctx.args
        rows = g.reshape(len(flat), -1)
        coef = np.ones(len(flat), g._data.dtype)
        if padding_idx is not None:
            coef[flat == padding_idx] = 0
        if scale:
            counts = np.bincount(flat, minlength=shape[0])
            coef = coef / counts[flat]
        if padding_idx is not None or scale:
            rows = rows * Tensor._make(coef[:, None].astype(g._data.dtype))
        return EmbeddingGradient.apply(rows, flat, shape), None, None, None


class EmbeddingGradient(Function):
    """zeros(weight shape) with rows added at their indices; its backward selects rows again."""

    _raw = True
    _node_name = "EmbeddingDenseBackward0"

    @staticmethod
    def forward(ctx, rows, flat, shape):
        ctx.flat = flat
        out = np.zeros(shape, rows.dtype)
        add_rows(out.reshape(shape[0], -1), flat, rows)
        return out

    @staticmethod
    def backward(ctx, gg):
        return IndexSelect.apply(gg.reshape(gg.shape[0], -1), 0, ctx.flat), None, None
