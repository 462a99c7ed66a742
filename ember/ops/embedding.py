"""Embedding lookup with its row-accumulating backward (padding rows get no gradient)."""
import math

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
        return np.take(weight, flat, axis=0).reshape(idx.shape + weight.shape[1:])

    @staticmethod
    def backward(ctx, g):
        shape, flat, ishape, padding_idx, scale = ctx.args
        rows = g.reshape(len(flat), math.prod(shape[1:]))
        coef = np.ones(len(flat), g._data.dtype)
        if padding_idx is not None:
            coef[flat == padding_idx] = 0
        if scale:
            counts = np.bincount(flat, minlength=shape[0])
            coef = coef / counts[flat]
        if padding_idx is not None or scale:
            rows = rows * Tensor._make(coef[:, None].astype(g._data.dtype))
        return EmbeddingGradient.apply(rows, flat, shape), None, None, None


def _repeated_positions(flat, n_rows):
    """The positions i whose index flat[i] occurs more than once (by counting, unless the table dwarfs flat)."""
    if n_rows <= 64 * len(flat):
        return np.flatnonzero(np.bincount(flat)[flat] > 1)
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return np.flatnonzero(counts[inverse] > 1)


_ADD_AT_MAX = 4096  # gradients up to this many elements go through np.add.at (cheaper below it, dearer above)


def _scatter_rows(out, flat, rows):
    """out[flat[i]] += rows[i] into a zero table. Small gradients: np.add.at, which adds in position order exactly
    as PyTorch does. Larger ones: every row is assigned at once, then the indices that repeat get the sum of their
    rows, added in index order."""
    if not len(flat):
        return
    if rows.size <= _ADD_AT_MAX:
        np.add.at(out, flat, rows)
        return
    out[flat] = rows
    repeated = _repeated_positions(flat, out.shape[0])
    if not len(repeated):
        return
    order = repeated[np.argsort(flat[repeated], kind="stable")]
    sflat = flat[order]
    starts = np.flatnonzero(np.r_[True, sflat[1:] != sflat[:-1]])
    counts = np.diff(np.r_[starts, len(sflat)])
    srows = rows[order]
    if counts.max() > 16:
        out[sflat[starts]] = np.add.reduceat(srows, starts, axis=0)
        return
    # Few repeats each: add the k-th occurrences of all repeated indices at once (reduceat costs ~1us per index).
    acc = srows[starts]
    for k in range(1, counts.max()):
        more = counts > k
        acc[more] += srows[starts[more] + k]
    out[sflat[starts]] = acc


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
