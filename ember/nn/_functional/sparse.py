"""Functional embedding, embedding_bag and one_hot."""
import numpy as np

from ..._tensor import Tensor
from ...ops.embedding import Embedding, SegmentSum
from ...ops.creation import zeros
from ...ops.shape import cat
from ...autograd.function import as_node
from ...autograd.grad_mode import no_grad


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Scale, in place, the referenced rows whose norm exceeds max_norm (PyTorch's embedding_renorm_)."""
    with no_grad():
        w = weight._data
        op = np.dtype(np.float32) if w.dtype == np.float16 else w.dtype  # half computed in float32, as torch
        rows = np.unique(idx)
        norms = np.linalg.norm(w[rows].reshape(len(rows), -1).astype(op), ord=norm_type, axis=1).astype(w.dtype)
        big = norms > max_norm
        # a double (torch's item()) rounded to the weight's dtype, as its C++ `row *= scale` converts it
        scale = (max_norm / (norms[big].astype(np.float64) + 1e-7)).astype(w.dtype).astype(op)
        w[rows[big]] = (w[rows[big]].astype(op) * scale.reshape((-1,) + (1,) * (w.ndim - 1))).astype(w.dtype)
        weight._bump()


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{'Float' if input._data.dtype == np.float32 else 'Double'}"
                           "Tensor instead (while checking arguments for embedding)")
    idx = input._data.astype(np.int64)
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {_type_repr(offsets)}")
        b, l = input.shape
        offs = np.arange(0, b * l, l, dtype=np.int64)
        flat_idx = input._data.reshape(-1).astype(np.int64)
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
        include_last_offset = False
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        offs = offsets._data.astype(np.int64)
        flat_idx = input._data.astype(np.int64)
        psw = per_sample_weights
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    n_idx = flat_idx.shape[0]
    _check_offsets(offs, n_idx)
    n_bags = len(offs) - 1 if include_last_offset else len(offs)
    bounds = offs if include_last_offset else np.r_[offs, n_idx]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.size(0)
    if max_norm is not None:
        _renorm_rows(weight, flat_idx, max_norm, norm_type)
    bag_of = _bag_numbers(bounds[1:n_bags + 1], n_idx)
    keep = bag_of < n_bags
    if padding_idx is not None:
        keep &= flat_idx != padding_idx
    if mode == "max":
        rows = Embedding.apply(weight, flat_idx, padding_idx, scale_grad_by_freq)
        return as_node(_bag_max(rows, bag_of, keep, n_bags, weight.shape[1]), "EmbeddingBagBackward0")
    sel = None if keep.all() else np.flatnonzero(keep)  # padding, past-the-last-bag positions leave sums and counts
    rows = Embedding.apply(weight, flat_idx if sel is None else flat_idx[sel], padding_idx, scale_grad_by_freq)
    half = weight._data.dtype == np.float16
    if half:  # torch sums half bags in float32 and rounds the sums once
        rows = rows.float()
    if psw is not None:
        w = psw.reshape(-1) if sel is None else psw.reshape(-1)[Tensor._make(sel)]
        rows = rows * (w.float() if half else w).reshape(-1, 1)
    counts = np.bincount(bag_of if sel is None else bag_of[sel], minlength=n_bags)
    out = SegmentSum.apply(rows, counts)
    if half:
        out = out.half()
    if mode == "mean":
        out = out / Tensor._make(np.maximum(counts, 1).astype(weight._data.dtype)[:, None])
    return as_node(out, "EmbeddingBagBackward0")


def _check_offsets(offs, n_idx):
    """torch's checks on embedding_bag offsets: the first is 0, the last within the input."""
    if len(offs) and offs[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(offs[0])}")
    if len(offs) and offs[-1] > n_idx:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n_idx} but got offsets[-1] of "
                           f"{int(offs[-1])}")


def _bag_numbers(ends, n_idx):
    """The bag of each input position, given the bags' end offsets (len(ends) past the last bag): the bag sizes
    repeated when the ends are non-decreasing and within the input, else a binary search per position."""
    n_bags = len(ends)
    if n_bags and 0 <= ends[0] and ends[-1] <= n_idx and (ends[:-1] <= ends[1:]).all():
        return np.repeat(np.arange(n_bags + 1), np.diff(ends, prepend=0, append=n_idx))
    return np.searchsorted(ends, np.arange(n_idx), side="right")


def _type_repr(obj):
    """<class 'ember.Tensor'> for ember tensors (torch prints <class 'torch.Tensor'>)."""
    cls = type(obj)
    return f"<class '{cls.__module__.split('.')[0]}.{cls.__name__}'>" if isinstance(obj, Tensor) else str(cls)


def _bag_max(rows, bag_of, keep, n_bags, d):
    """Per bag and feature, the row holding the maximum (empty bags give zeros)."""
    r = rows._data
    arg = np.full((n_bags, d), -1, np.int64)
    order = np.nonzero(keep)[0]
    ub = bag_of[keep]
    if len(order):
        sorted_rows = r[order]
        starts = np.flatnonzero(np.r_[True, ub[1:] != ub[:-1]])
        mx = np.maximum.reduceat(sorted_rows, starts, axis=0)
        hit = sorted_rows == mx[np.searchsorted(starts, np.arange(len(order)), side="right") - 1]
        pos = np.where(hit, order[:, None], np.iinfo(np.int64).max)
        first = np.minimum.reduceat(pos, starts, axis=0)
        arg[ub[starts]] = first
    # Empty bags read a trailing zero appended to the flattened rows.
    flat_rows = cat([rows.reshape(-1), zeros(1, dtype=rows.dtype)])
    cols = np.arange(d)[None, :]
    sel = Tensor._make(np.where(arg >= 0, arg * d + cols, r.size).reshape(-1))
    return flat_rows.index_select(0, sel).reshape(n_bags, d)


def one_hot(tensor, num_classes=-1):
    if tensor._data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    idx = tensor._data
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
        if not idx.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if idx.size and (idx.min() < 0):
        raise RuntimeError("Class values must be non-negative.")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(idx.shape + (num_classes,), np.int64)
    np.put_along_axis(out, idx[..., None], 1, -1)
    return Tensor._make(out)
