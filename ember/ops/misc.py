"""Less common tensor functions: unique, bincount, searchsorted, histc, histogram, diff, cdist, block_diag,
trapezoid rules, cov, corrcoef, vander and combinations."""
import builtins
import itertools
import math
import warnings

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from ..autograd.function import Function, overload, as_node
from ._util import wrap_dim, sum_to
from .shape import cat, stack, _slice
from .indexing import _tname
from .elementwise import complex as _complex, _short_name
from .. import return_types


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique values (or unique slices along `dim`), optionally with inverse indices and counts."""
    x = input._data
    axis = None if dim is None else wrap_dim(dim, x.ndim)
    res = np.unique(x, return_inverse=True, return_counts=True, axis=axis)
    vals, inv, counts = res
    out = [Tensor._make(vals)]
    if return_inverse:
        out.append(Tensor._make(inv.reshape(x.shape if axis is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values (or slices along `dim`) to one."""
    x = input._data
    axis = 0 if dim is None else wrap_dim(dim, x.ndim)
    moved = x.reshape(-1) if dim is None else np.moveaxis(x, axis, 0)
    rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
    change = np.ones(rows.shape[0], bool)
    change[1:] = (rows[1:] != rows[:-1]).any(1) if rows.shape[1] else False
    starts = np.flatnonzero(change)
    out = [Tensor._make(np.take(moved if dim is None else x, starts, axis=axis))]
    if return_inverse:
        inv = (np.cumsum(change) - 1).astype(np.int64)
        out.append(Tensor._make(inv.reshape(x.shape) if dim is None else inv))
    if return_counts:
        out.append(Tensor._make(np.diff(np.r_[starts, rows.shape[0]]).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    """Counts (or summed weights) of each non-negative integer value."""
    x = input._data
    if x.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_dtype.scalar_name(input.dtype)}'")
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != x.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    w = None if weights is None else weights._data
    r = np.bincount(x.astype(np.int64), w, minlength)
    if w is None:
        return Tensor._make(r.astype(np.int64))
    return Tensor._make(r.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def _sorted_ranks(seq, vals, side):
    """Row-wise searchsorted of vals (R, K) into sorted seq (R, M) with one lexsort (no loop over rows)."""
    r, m = seq.shape
    k = vals.shape[1]
    keys = np.concatenate([seq.reshape(-1), vals.reshape(-1)])
    rows = np.concatenate([np.repeat(np.arange(r), m), np.repeat(np.arange(r), k)])
    is_val = np.r_[np.zeros(r * m, bool), np.ones(r * k, bool)]
    flag = is_val if side == "right" else ~is_val
    order = np.lexsort((flag, keys, rows))
    seen = np.cumsum(~is_val[order])
    pos = np.empty(order.size, np.int64)
    pos[order] = seen
    return (pos[r * m:] - rows[r * m:] * m).reshape(r, k)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Insertion indices of `input` into the innermost dimension of `sorted_sequence`."""
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left while "
                           "right was True")
    side = side or ("right" if right else "left")
    seq = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    v = np.asarray(input) if scalar else input._data
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, axis=-1)
    if seq.ndim == 1:
        r = np.searchsorted(seq, v, side=side)
    else:
        if scalar or seq.shape[:-1] != v.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(seq.shape)} and input value tensor {list(v.shape)}")
        rows = math.prod(seq.shape[:-1])
        r = _sorted_ranks(seq.reshape(rows, seq.shape[-1]), v.reshape(rows, v.shape[-1]), side).reshape(v.shape)
    if v.dtype.kind in "fc":  # PyTorch's binary search moves past every element for a NaN value
        r = np.where(np.isnan(v), seq.shape[-1], r)
    return Tensor._make(np.asarray(r).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """Index of the bucket (defined by 1-d `boundaries`) each element of `input` falls in."""
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input, bins=100, min=0, max=0):
    """Histogram with `bins` equal bins over [min, max] (data range if min == max), as PyTorch bins elements."""
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_dtype.scalar_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(np.min(x)), float(np.max(x))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    if not lo < hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    t = x.dtype.type
    left, right = t(lo), t(hi)
    flat = x.reshape(-1)
    flat = flat[(flat >= left) & (flat <= right)]
    pos = ((flat - left) * t(bins) / (right - left)).astype(np.int64)
    pos[pos == bins] = bins - 1
    return Tensor._make(np.bincount(pos, minlength=bins).astype(x.dtype))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along `dim` (logical xor for bool), with optional prepend/append."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.dim())
    for extra in (prepend, append):
        if extra is not None and extra.dim() != input.dim():
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    if n == 0:  # PyTorch copies the input (without prepend/append) into a new tensor
        from .creation import zeros_like
        return zeros_like(input).copy_(input)
    x = input
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, input, append) if t is not None], d)
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = x.narrow(d, 1, size - 1), x.narrow(d, 0, size - 1)
        x = hi.ne(lo) if x.dtype is _dtype.bool_ else hi - lo
    return x


# ---- cdist ------------------------------------------------------------------------------------------------------
def _pairwise_diff(a, b):
    """a[..., i, :] - b[..., j, :] for every row pair (i, j)."""
    return a[..., :, None, :] - b[..., None, :, :]


def _cdist_direct(a, b, p):
    """p-norm distances from explicit pairwise differences."""
    diff = np.abs(_pairwise_diff(a, b))
    if p == 0:
        return (diff != 0).sum(-1).astype(a.dtype)
    if p == 1:
        return diff.sum(-1)
    if p == 2:
        return np.sqrt((diff * diff).sum(-1))
    if math.isinf(p):
        return diff.max(-1) if diff.shape[-1] else np.zeros(diff.shape[:-1], a.dtype)
    return np.power(np.power(diff, a.dtype.type(p)).sum(-1), a.dtype.type(1 / p))


def _cdist_mm(a, b):
    """Euclidean distances through one matmul, as PyTorch's _euclidean_dist computes them for large inputs."""
    an = (a * a).sum(-1, keepdims=True)
    bn = (b * b).sum(-1, keepdims=True)
    a_ = np.concatenate([a * a.dtype.type(-2), an, np.ones_like(an)], -1)
    b_ = np.concatenate([b, np.ones_like(bn), bn], -1)
    return np.sqrt(np.maximum(a_ @ np.swapaxes(b_, -1, -2), 0))


class _Cdist(Function):
    """Pairwise p-norm distances between the rows of x1 and x2; backward written with ember ops."""

    _raw = True
    _node_name = "CdistBackward0"

    @staticmethod
    def forward(ctx, x1, x2, p, use_mm):
        batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
        a = np.broadcast_to(x1, batch + x1.shape[-2:])
        b = np.broadcast_to(x2, batch + x2.shape[-2:])
        out = _cdist_mm(a, b) if use_mm else _cdist_direct(a, b, p)
        ctx.p = p
        ctx.save_for_backward(x1, x2, out)
        return out.astype(x1.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x1, x2, dist = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return x1 * 0, x2 * 0, None, None
        if p == 2:
            ratio = (g / dist).masked_fill(dist == 0, 0)
            g1 = x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2)
            g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(x1)
        else:
            diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
            gd, dd = g.unsqueeze(-1), dist.unsqueeze(-1)
            if p == 1:
                term = diff.sign() * gd
            elif math.isinf(p):
                term = diff.sign() * (diff.abs() == dd) * gd
            else:
                term = diff.sign() * diff.abs().pow(p - 1) * gd / dd.pow(p - 1)
                term = term.masked_fill((dd == 0) | ((diff == 0) & (p < 1)), 0)
            g1, g2 = term.sum(-2), -term.sum(-3)
        return sum_to(g1, x1.shape), sum_to(g2, x2.shape), None, None


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Batched pairwise p-norm distances between the row vectors of x1 (.., P, M) and x2 (.., R, M)."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
        if not x.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_dtype.scalar_name(x.dtype)}")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_name(x1.dtype)} but found "
                           f"{_dtype.scalar_name(x2.dtype)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    big = x1.shape[-2] > 25 or x2.shape[-2] > 25
    if p == 2 and (compute_mode == modes[1] or (compute_mode == modes[0] and big)):
        out = _EuclideanDist.apply(x1, x2, 2.0, True)
        return out.view(out.shape)  # PyTorch views _euclidean_dist's result as the batch shape
    return _Cdist.apply(x1, x2, float(p), False)


_EuclideanDist = overload(_Cdist, "EuclideanDistBackward0")  # cdist through one matrix product


class _BlockDiag(Function):
    """The inputs (0-d and 1-d ones as 1 x n rows) along the diagonal of a zero matrix of dtype nd."""

    _raw = True
    _node_name = "BlockDiagBackward0"

    @staticmethod
    def forward(ctx, nd, *xs):
        mats = [x.reshape(1, -1) if x.ndim < 2 else x for x in xs]
        ctx.meta = [(x.shape, x.dtype) for x in xs]
        out = np.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)), nd)
        r = c = 0
        for m in mats:
            out[r:r + m.shape[0], c:c + m.shape[1]] = m
            r, c = r + m.shape[0], c + m.shape[1]
        return out

    @staticmethod
    def backward(ctx, g):
        grads, r, c = [None], 0, 0
        for (shape, dt), need in zip(ctx.meta, ctx.needs_input_grad[1:]):
            h, w = (shape[0], shape[1]) if len(shape) == 2 else (1, math.prod(shape))
            gi = g[r:r + h, c:c + w].reshape(shape) if need else None
            grads.append(gi.to(_dtype.from_numpy_dtype(dt)) if gi is not None and gi._data.dtype != dt else gi)
            r, c = r + h, c + w
        return tuple(grads)


def block_diag(*tensors):
    """Block-diagonal matrix of the inputs (0-d and 1-d inputs count as 1 x n rows)."""
    from .creation import zeros
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
    if not tensors:
        return zeros(1, 0)
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    return _BlockDiag.apply(dt.np, *tensors)


# ---- integration, covariance (PyTorch's formulas, so its rounding and its last nodes) --------------------------------
def _spacing(y, x, dim):
    """The spacing of trapezoid rules given sample points x: x's differences, laid along y's dim when x is 1-D."""
    dx = x.diff(dim=-1 if x.dim() == 1 else dim)
    if x.dim() == 1 and y.dim() > 1:
        shape = [1] * y.dim()
        shape[dim] = dx.shape[0]
        dx = dx.view(shape)
    return dx


def _halves(y, dim):
    n = y.shape[dim]
    return y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along dim, with sample points x or constant spacing dx (default 1)."""
    d = wrap_dim(dim, y.dim())
    if y.shape[d] == 0:  # no intervals: zeros, with no graph, as in PyTorch
        return Tensor._make(np.zeros(y.shape[:d] + y.shape[d + 1:], y._data.dtype))
    if x is not None:
        left, right = _halves(y, d)
        return as_node(((left + right) * _spacing(y, x, d)).sum(d) / 2.0, "DivBackward1")
    total = (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * (1.0 if dx is None else dx)
    return as_node(total, "MulBackward1")


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along dim (one element fewer than y there)."""
    d = wrap_dim(dim, y.dim())
    left, right = _halves(y, d)
    if x is not None:
        return as_node(((left + right) * _spacing(y, x, d)).cumsum(d) / 2.0, "DivBackward1")
    return ((1.0 if dx is None else dx) / 2.0 * (left + right)).cumsum(d)


def _check_cov_weights(w, name, kind, n):
    """PyTorch's checks of cov's fweights (kind 'integral') or aweights ('floating point')."""
    if w.dim() > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with {w.dim()} "
                           "dimensions")
    if w._data.dtype.kind not in ("iu" if kind == "integral" else "f"):
        raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got {name} with {_tname(w._data)} dtype")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input but "
                           f"got {w.numel()} != {n}")
    if n and w._data.min() < 0:
        raise RuntimeError(f"cov(): {name} cannot be negative")


def _long(v):
    return Tensor._make(np.array(v, np.int64))


def _cov_norm_factor(n, correction, w, w_sum, fweights, aweights):
    """The divisor of cov: the (weighted) count of observations less the correction, as PyTorch forms it."""
    if w is None:
        return _long(n - correction)
    if correction == 0:
        return w_sum
    if aweights is None:
        return w_sum - correction
    if fweights is None and n == 1 and correction == 1:
        return _long(0)
    return w_sum - correction * (w * aweights).sum() / w_sum


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in input's rows over its columns (a 1-D input is one variable), weighted by
    integer frequencies and float observation weights: PyTorch's formula, so its dtypes and corner cases."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    if input._data.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    obs = input if input.dim() == 2 else input.reshape(1, -1)
    n = obs.shape[1]
    w = None
    if fweights is not None:
        _check_cov_weights(fweights, "fweights", "integral", n)
        w = fweights
    if aweights is not None:
        _check_cov_weights(aweights, "aweights", "floating point", n)
        w = aweights if w is None else w * aweights
    w_sum = _long(n) if w is None else w.sum()
    if w is not None and not w_sum._data != 0:
        raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (obs if w is None else obs * w).sum(1) / w_sum
    factor = _cov_norm_factor(n, correction, w, w_sum, fweights, aweights)
    if factor._data <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        factor = factor * 0
    if n == 1 and (fweights is None) != (aweights is None):  # PyTorch zeroes the one centred observation outright
        centred = obs * 0 if obs._data.dtype.kind in "fc" else Tensor._make(np.zeros(obs.shape, np.float32))
    else:
        centred = obs - avg.unsqueeze(1)
    return (centred.mm((centred if w is None else centred * w).t().conj()) / factor).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the variables in input's rows; real and imaginary parts clipped to
    [-1, 1] as PyTorch (and NumPy) do."""
    if input.dim() > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    stddev = (d.real if d.is_complex() else d).sqrt()
    c = c / stddev.view(-1, 1)
    c = c / stddev.view(1, -1)
    if c.is_complex():
        return _complex(c.real.clip(-1, 1), c.imag.clip(-1, 1))
    return c.clip(-1, 1)


def vander(x, N=None, increasing=False):
    """Columns of powers of 1-D x (x^(N-1) ... x^0, or increasing), built by a running product as PyTorch."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = x._data.dtype if x._data.dtype.kind in "fc" else np.dtype(np.int64)
    ones = Tensor._make(np.ones((x.shape[0], builtins.min(n, 1)), dt))
    if n > 1:
        powers = x.to(_dtype.from_numpy_dtype(dt)).unsqueeze(1).expand(x.shape[0], n - 1).cumprod(1)
        ones = as_node(cat([ones, powers], 1), "CopySlices")
    return ones if increasing else ones.flip(1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of 1-D input's elements, one per row (in itertools' order)."""
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(np.empty(0, input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return stack([input[Tensor._make(idx[:, k])] for k in range(r)], 1)


def histogram(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of a float tensor: `bins` equal bins over `range` (default: the data's) or given edges."""
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_tname(x)}'")
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    w = None if weight is None else weight._data
    hist, out_edges = np.histogram(x.reshape(-1), edges, range=range, weights=None if w is None else w.reshape(-1),
                                   density=density)
    return return_types.histogram(Tensor._make(hist.astype(x.dtype)), Tensor._make(out_edges.astype(x.dtype)))


def _outer_bin_edges(points, rng):
    """Per dim, the (leftmost, rightmost) edges: from `range`, else the points' min and max (0 and 1 for no points);
    a zero-width range widens by 1/2 each side, as NumPy does (ATen's select_outer_bin_edges)."""
    n = points.shape[1]
    if rng is not None:
        rng = [float(v) for v in rng]
        if len(rng) != 2 * n:
            raise RuntimeError(f"torch.histogramdd: for a {n}-dimensional histogram range should have {2 * n} "
                               f"elements, but got {len(rng)}")
        lo, hi = rng[0::2], rng[1::2]
    elif points.shape[0]:
        lo, hi = np.min(points, axis=0).tolist(), np.max(points, axis=0).tolist()   # NaN propagates, as in aminmax
    else:
        lo, hi = [0.0] * n, [1.0] * n
    for d in range(n):
        if not (math.isfinite(lo[d]) and math.isfinite(hi[d])):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{lo[d]:g}, {hi[d]:g}] is not finite")
        if lo[d] > hi[d]:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo[d]:g} max {hi[d]:g} "
                               f"for dimension {d}")
        if lo[d] == hi[d]:
            lo[d], hi[d] = lo[d] - 0.5, hi[d] + 0.5
    return lo, hi


def _histogramdd_edges(input, points, bins, rng):
    """The bin edges per dim: the given 1-D tensors, or bins[d] + 1 points of linspace over the outer edges."""
    from .creation import linspace
    n = points.shape[1]
    if isinstance(bins, (list, tuple)) and bins and all(isinstance(b, Tensor) for b in bins):
        return [b.clone() for b in bins]
    counts = [int(bins)] * n if not isinstance(bins, (list, tuple)) else [int(b) for b in bins]
    lo, hi = _outer_bin_edges(points, rng)
    if len(counts) != n:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    return [linspace(lo[d], hi[d], builtins.max(counts[d] + 1, 0), dtype=input.dtype) for d in range(n)]


def _histogramdd_checks(input, edges, weight):
    """ATen's histogramdd_check_inputs, in its order and words."""
    n, dt = input.shape[-1], input._data.dtype
    if len(edges) != n:
        raise RuntimeError(f"torch.histogramdd: expected {n} sequences of bin edges for a {n}-dimensional histogram "
                           f"but got {len(edges)}")
    for d, e in enumerate(edges):
        if e._data.dtype != dt:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but got "
                               f"input with dtype {_short_name(input.dtype)} and bins for dimension {d} with dtype "
                               f"{_short_name(e.dtype)}")
        if e.dim() != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but got {e.dim()} "
                               f"dimensions in the bins tensor for dimension {d}")
        if e.numel() == 0:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements in "
                               f"the bins tensor for dimension {d}")
    if weight is not None:
        if weight._data.dtype != dt:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
                               f"should have the same dtype, but got input({_short_name(input.dtype)}), and "
                               f"weight({_short_name(weight.dtype)})")
        if tuple(input.shape[:-1]) != (tuple(weight.shape) or (1,)):
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               f"input tensor excluding its innermost dimension, but got input with shape "
                               f"{list(input.shape)} and weight with shape {list(weight.shape)}")
    for d, e in enumerate(edges):
        if e.numel() < 2:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {e.numel() - 1} for dimension {d}")


def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges) of the points along input's last dim: each coordinate falls in the bin whose left edge is
    the last one <= it (the last bin also takes its right edge); points outside any bin are dropped."""
    x = input._data
    if x.dtype.kind != "f" or x.dtype == np.float16:
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_tname(x)}'")
    if x.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    points = x.reshape(-1, x.shape[-1])
    edges = _histogramdd_edges(input, points, bins, range)
    _histogramdd_checks(input, edges, weight)
    shape = tuple(e.numel() - 1 for e in edges)
    inside = np.ones(points.shape[0], bool)
    flat = np.zeros(points.shape[0], np.int64)
    for d, e in enumerate(edges):
        ed, col = e._data, points[:, d]
        inside &= (col >= ed[0]) & (col <= ed[-1])
        pos = np.minimum(np.searchsorted(ed, col, side="right") - 1, shape[d] - 1)
        flat = flat * shape[d] + pos
    w = None if weight is None else weight._data.reshape(-1)[inside]
    hist = np.bincount(flat[inside], w, minlength=math.prod(shape)).astype(x.dtype).reshape(shape)
    if density:
        with np.errstate(invalid="ignore", divide="ignore"):
            hist = hist / hist.sum(dtype=x.dtype)
            for d, e in enumerate(edges):
                hist = hist / np.diff(e._data).reshape([-1 if k == d else 1 for k in builtins.range(len(shape))])
    return return_types.histogramdd(Tensor._make(np.asarray(hist, x.dtype)), tuple(edges))


# ---- gradient: numerical derivatives of sampled values -------------------------------------------------------------
def _gradient_uniform(x, d, dx, edge_order):
    """Central differences / 2dx inside; first- or second-order one-sided differences at the two ends."""
    center = (_slice(x, d, 2) - _slice(x, d, 0, -2)) / dx
    if edge_order == 1:
        first = (_slice(x, d, 1, 2) - _slice(x, d, 0, 1)) / dx
        last = (_slice(x, d, -1) - _slice(x, d, -2, -1)) / dx
    else:
        first = (-1.5 * _slice(x, d, 0, 1) + 2 * _slice(x, d, 1, 2) - 0.5 * _slice(x, d, 2, 3)) / dx
        last = (0.5 * _slice(x, d, -3, -2) - 2 * _slice(x, d, -2, -1) + 1.5 * _slice(x, d, -1)) / dx
    return cat([first, center / 2, last], d)


def _gradient_coordinates(x, d, coords, edge_order):
    """The second-order formula for unevenly spaced samples at `coords` (ATen's gradient_helper)."""
    if coords.dim() != 1:
        raise RuntimeError(f"torch.gradient expected each element of spacing to have one dimension, but got an "
                           f"element with {coords.dim()} dimensions!")
    shape = [1] * x.dim()
    shape[d] = -1
    h = coords.diff(1, 0)
    h1, h2 = h[:-1], h[1:]
    a = (-h2 / (h1 * (h1 + h2))).reshape(shape)
    b = ((h2 - h1) / (h1 * h2)).reshape(shape)
    c = (h1 / (h2 * (h1 + h2))).reshape(shape)
    center = a * _slice(x, d, 0, -2) + b * _slice(x, d, 1, -1) + c * _slice(x, d, 2)
    if edge_order == 1:
        first = (_slice(x, d, 1, 2) - _slice(x, d, 0, 1)) / h[0]
        last = (_slice(x, d, -1) - _slice(x, d, -2, -1)) / h[-1]
    else:
        a = -(2.0 * h[0] + h[1]) / (h[0] * (h[0] + h[1]))
        b = (h[0] + h[1]) / (h[0] * h[1])
        c = (-h[0]) / (h[1] * (h[0] + h[1]))
        first = a * _slice(x, d, 0, 1) + b * _slice(x, d, 1, 2) + c * _slice(x, d, 2, 3)
        a = h[-1] / (h[-2] * (h[-1] + h[-2]))
        b = -(h[-1] + h[-2]) / (h[-1] * h[-2])
        c = (2 * h[-1] + h[-2]) / (h[-1] * (h[-1] + h[-2]))
        last = a * _slice(x, d, -3, -2) + b * _slice(x, d, -2, -1) + c * _slice(x, d, -1)
    return cat([first, center, last], d)


def _gradient_checks(input, n_spacing, dims, dim_given, edge_order):
    """ATen's pre_check_gradient."""
    if input._data.dtype == np.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if n_spacing is not None and not dim_given and n_spacing != input.dim():
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal "
                           f"to 'self.dim() = {input.dim()}', since dim argument was not given, but got a list of "
                           f"length {n_spacing}")
    if n_spacing is not None and dim_given and n_spacing != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length {n_spacing} and "
                           f"a dim argument of length {len(dims)}.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    seen = set()
    for d in dims:
        w = wrap_dim(d, input.dim())
        if w in seen:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        seen.add(w)
    if any(input.shape[wrap_dim(d, input.dim())] < edge_order + 1 for d in (dims if dim_given else
                                                                            range(input.dim()))):
        raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimated derivatives of sampled values along each dim (a tuple): spacing is one number (None is 1), a
    number per dim, or a coordinate tensor per dim; the ends use one-sided differences of edge_order 1 or 2."""
    spacing = 1 if spacing is None else spacing
    dim_given = dim is not None
    dims = list(range(input.dim())) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    if isinstance(spacing, (list, tuple)):
        n_spacing = len(spacing)
    else:
        n_spacing = len(dims) if isinstance(spacing, Tensor) or spacing != 1 or dim_given else None
        spacing = [spacing] * len(dims)
    _gradient_checks(input, n_spacing, dims, dim_given, edge_order)
    out = []
    for d, s in zip(dims, spacing):
        w = wrap_dim(d, input.dim())
        out.append(_gradient_coordinates(input, w, s, edge_order) if isinstance(s, Tensor)
                   else _gradient_uniform(input, w, s, edge_order))
    return tuple(out)


__all__ = ["unique", "unique_consecutive", "bincount", "searchsorted", "bucketize", "histc", "diff", "cdist",
           "block_diag", "trapezoid", "trapz", "cumulative_trapezoid", "cov", "corrcoef", "vander", "combinations",
           "histogram", "histogramdd", "gradient"]
