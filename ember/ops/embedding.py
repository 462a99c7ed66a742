"""Embedding lookup with its row-accumulating backward (padding rows get no gradient)."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from .indexing import IndexSelect


class Embedding(Function):
    _raw = True
    _node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        n = weight.shape[0]
        if idx.size and (idx.max() >= n or idx.min() < 0):
            raise IndexError("index out of range in self")
        flat = idx.reshape(-1)
        ctx.args = (weight.shape, flat, idx.shape, padding_idx, scale_grad_by_freq)
        return weight[flat].reshape(idx.shape + weight.shape[1:])

    @staticmethod
    def backward(ctx, g):
        shape, flat, ishape, padding_idx, scale = ctx.args
        rows = g.reshape(len(flat), int(np.prod(shape[1:])))
        coef = np.ones(len(flat), g._data.dtype)
        if padding_idx is not None:
            coef[flat == padding_idx] = 0
        if scale:
            counts = np.bincount(flat, minlength=shape[0])
            coef = coef / counts[flat]
        if padding_idx is not None or scale:
            rows = rows * Tensor._make(coef[:, None].astype(g._data.dtype))
        return EmbeddingGradient.apply(rows, flat, shape), None, None, None


def _scatter_rows(out, flat, rows):
    """out[flat[i]] += rows[i] into a zero table: rows with a unique index are assigned, duplicates summed
    (in index order, by one reduceat over just the duplicated rows)."""
    if not len(flat):
        return
    order = np.argsort(flat, kind="stable")
    sflat = flat[order]
    starts = np.flatnonzero(np.r_[True, sflat[1:] != sflat[:-1]])
    counts = np.diff(np.r_[starts, len(sflat)])
    single = counts == 1
    out[sflat[starts[single]]] = rows[order[starts[single]]]
    if not single.all():
        multi = ~single
        dup_rows = rows[order[np.repeat(multi, counts)]]
        dup_starts = np.r_[0, np.cumsum(counts[multi])[:-1]]
        out[sflat[starts[multi]]] = np.add.reduceat(dup_rows, dup_starts, axis=0)


class EmbeddingGradient(Function):
    """zeros(weight shape) with rows added at their indices; its backward selects rows again."""

    _raw = True
    _node_name = "EmbeddingDenseBackward0"

    @staticmethod
    def forward(ctx, rows, flat, shape):
        ctx.flat = flat
        out = np.zeros(shape, rows.dtype)
        _scatter_rows(out.reshape(shape[0], -1), flat, rows)
        return out

    @staticmethod
    def backward(ctx, gg):
        flat = ctx.flat
        rows = gg.reshape(gg.shape[0], -1)
        return IndexSelect.apply(rows, 0, flat, (len(flat), rows.shape[1])), None, None
