"""Less common tensor functions: unique, bincount, searchsorted, histc, diff, cdist, block_diag."""
import numpy as np

from .._tensor import Tensor
from ._util import wrap_dim


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    x = input._data
    res = np.unique(x if dim is None else x, return_inverse=return_inverse, return_counts=return_counts,
                    axis=None if dim is None else wrap_dim(dim, x.ndim))
    if not (return_inverse or return_counts):
        return Tensor._make(res)
    out = [Tensor._make(res[0])]
    if return_inverse:
        inv = res[1].reshape(x.shape if dim is None else -1).astype(np.int64)
        out.append(Tensor._make(inv))
    if return_counts:
        out.append(Tensor._make(res[-1].astype(np.int64)))
    return tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    x = input._data.reshape(-1) if dim is None else input._data
    if x.size == 0:
        vals, starts = x, np.zeros(0, np.int64)
    else:
        change = np.r_[True, x[1:] != x[:-1]]
        starts = np.flatnonzero(change)
        vals = x[starts]
    out = [Tensor._make(vals)]
    if return_inverse:
        out.append(Tensor._make((np.cumsum(np.r_[True, x[1:] != x[:-1]]) - 1).reshape(input._data.shape)
                                .astype(np.int64) if x.size else np.zeros(input._data.shape, np.int64)))
    if return_counts:
        out.append(Tensor._make(np.diff(np.r_[starts, x.size]).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    x = input._data
    if x.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if x.size and x.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._data
    r = np.bincount(x, w, minlength)
    if w is None:
        return Tensor._make(r.astype(np.int64))
    return Tensor._make(r.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    seq = sorted_sequence._data
    v = input._data if isinstance(input, Tensor) else np.asarray(input)
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        r = np.searchsorted(seq, v, side=side)
    else:
        r = np.stack([np.searchsorted(s, vv, side=side) for s, vv in zip(seq.reshape(-1, seq.shape[-1]),
                                                                         v.reshape(-1, v.shape[-1]))])
        r = r.reshape(v.shape)
    return Tensor._make(np.asarray(r).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    v = input._data if isinstance(input, Tensor) else np.asarray(input)
    r = np.searchsorted(boundaries._data, v, side="right" if right else "left")
    return Tensor._make(np.asarray(r).astype(np.int32 if out_int32 else np.int64))


def histc(input, bins=100, min=0, max=0):
    x = input._data
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    h, _ = np.histogram(x, bins=bins, range=(lo, hi))
    return Tensor._make(h.astype(x.dtype))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    from .shape import cat
    x = input
    d = wrap_dim(dim, x.dim())
    if prepend is not None:
        x = cat([prepend, x], d)
    if append is not None:
        x = cat([x, append], d)
    for _ in range(n):
        size = x.shape[d]
        x = x.narrow(d, 1, size - 1) - x.narrow(d, 0, size - 1)
    return x


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return d.norm(p=p, dim=-1)


def block_diag(*tensors):
    from .creation import zeros
    mats = [t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t for t in tensors]
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    dt = mats[0].dtype
    for m in mats[1:]:
        from .._dtype import promote_types
        dt = promote_types(dt, m.dtype)
    out = zeros(rows, cols, dtype=dt)
    r = c = 0
    pieces = []
    from .shape import cat
    from .elementwise import add
    for m in mats:
        pad = zeros(m.shape[0], cols, dtype=dt)
        pad = cat([zeros(m.shape[0], c, dtype=dt), m.to(dt), zeros(m.shape[0], cols - c - m.shape[1], dtype=dt)], 1)
        pieces.append(pad)
        c += m.shape[1]
    return cat(pieces, 0) if pieces else out


__all__ = ["unique", "unique_consecutive", "bincount", "searchsorted", "bucketize", "histc", "diff", "cdist",
           "block_diag"]
