"""Embedding lookup with its row-accumulating backward (padding rows get no gradient), and the bag sums of
embedding_bag."""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from .indexing import IndexSelect, add_rows
from ._util import c_einsum


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


class EmbeddingGradient(Function):
    """zeros(weight shape) with rows added at their indices; its backward selects rows again."""

    _raw = True
    _node_name = "EmbeddingDenseBackward0"

    @staticmethod
    def forward(ctx, rows, flat, shape):
        ctx.flat = flat
        out = np.zeros(shape, rows.dtype)
        add_rows(out.reshape(shape[0], -1), flat, rows, zero=True)
        return out

    @staticmethod
    def backward(ctx, gg):
        flat = ctx.flat
        rows = gg.reshape(gg.shape[0], -1)
        return IndexSelect.apply(rows, 0, flat, (len(flat), rows.shape[1])), None, None


class SegmentSum(Function):
    """Sums of consecutive row segments: rows (E, D) in bag order, counts[b] rows per bag -> (n_bags, D); backward
    repeats each bag's gradient over its rows (SegmentRepeat)."""

    _raw = True
    _node_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, rows, counts):
        ctx.counts = counts
        return _segment_sum(rows, counts)

    @staticmethod
    def backward(ctx, g):
        return SegmentRepeat.apply(g, ctx.counts), None


class SegmentRepeat(Function):
    """g (n_bags, D) -> (E, D) with bag b's row repeated counts[b] times; the adjoint of SegmentSum."""

    _raw = True
    _node_name = "EmbeddingBagBackwardBackward0"

    @staticmethod
    def forward(ctx, g, counts):
        ctx.counts = counts
        return np.repeat(g, counts, axis=0)

    @staticmethod
    def backward(ctx, gg):
        return SegmentSum.apply(gg, ctx.counts), None


def _segment_sum(rows, counts):
    """Per-bag sums of consecutive rows, added in order (as torch's bag loops): one einsum reduction when every bag
    has the same size, else add_rows by bag number (empty bags are zero)."""
    n_bags, d = len(counts), rows.shape[1]
    if n_bags and (counts == counts[0]).all() and counts[0] > 0:
        return c_einsum("bld->bd", rows.reshape(n_bags, counts[0], d))
    out = np.zeros((n_bags, d), rows.dtype)
    add_rows(out, np.repeat(np.arange(n_bags), counts), rows, zero=True)
    return out
