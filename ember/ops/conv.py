"""Convolution on NumPy: N-d im2col/col2im by kernel offsets, then one GEMM for the whole batch.

The fused conv and conv_transpose use channel-major columns (C*prod(k), positions) laid out by _Columns, so the
forward, the weight gradient and the column gradient are each a single (grouped) GEMM with contiguous operands.
_Columns puts the batch innermost for short output rows, splits a strided last dim into phases so every copy is a
contiguous run, and for few output channels lets neighbouring outputs share a column (OpenBLAS is slow on GEMMs with
few rows). Transposing copies avoid cache-aliasing strides, a stride-1 input gradient is computed as a convolution
(no col2im), and large temporaries come from a scratch pool. Stride-1 2-d convolutions with long rows skip im2col:
_ShiftedRows runs them image by image as one GEMM per kernel row. F.unfold/F.fold keep PyTorch's (N, C*prod(k), L)
layout (im2col/col2im); with create_graph, backward is composed of those differentiable Unfold/Fold/matmul ops, so
double backward works.
"""
import functools
import itertools
import math
import sys
import threading

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._util import holomorphic_grads


class _ScratchPool:
    """Reusable large scratch arrays. A fresh multi-megabyte NumPy array costs one page fault per 4 KiB on first
    touch (as slow as the copy that fills it), so buffers that nothing references any more (checked by reference
    count; a view keeps its base alive) are handed out again. Small requests are plain allocations."""

    min_bytes = 1 << 20
    slots = 8

    def __init__(self):
        self.bufs = []
        self.lock = threading.Lock()

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype)
        with self.lock:
            idle = [i for i in range(len(self.bufs)) if sys.getrefcount(self.bufs[i]) == 2]  # the list, the argument
            fits = [i for i in idle if self.bufs[i].nbytes >= nbytes]
            if fits:
                buf = self.bufs[min(fits, key=lambda i: self.bufs[i].nbytes)]
                return buf[:nbytes].view(dtype).reshape(shape)
            buf = np.empty(nbytes, np.uint8)
            if len(self.bufs) < self.slots:
                self.bufs.append(buf)
            elif idle:  # replace the smallest idle buffer
                self.bufs[min(idle, key=lambda i: self.bufs[i].nbytes)] = buf
            return buf.view(dtype).reshape(shape)

    def zeros(self, shape, dtype):
        out = self.empty(shape, dtype)
        out.fill(0)
        return out


scratch = _ScratchPool()


def out_size(size, k, s, p_lo, p_hi, d):
    """Output length of a convolution along one dim."""
    return (size + p_lo + p_hi - d * (k - 1) - 1) // s + 1


def _offset_slices(ks, strides, dilations, outs):
    """For each kernel offset: its index tuple and the strided input slices it reads."""
    return _offset_slice_table(tuple(ks), tuple(strides), tuple(dilations), tuple(outs))


@functools.lru_cache(maxsize=512)
def _offset_slice_table(ks, strides, dilations, outs):
    """_offset_slices, cached by geometry (building the slices costs more than a small layer's arithmetic)."""
    return tuple((offs, tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, s, d, n in
                              zip(offs, strides, dilations, outs)))
                 for offs in itertools.product(*[range(k) for k in ks]))


def _pad_array(x, pads):
    """Zero-pad the spatial dims of x by pads [(lo, hi), ...]; negative values crop."""
    if not any(lo or hi for lo, hi in pads):
        return x
    crop = tuple(slice(max(-lo, 0), x.shape[2 + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads))
    x = x[(slice(None), slice(None)) + crop]
    pos = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    out = scratch.zeros(x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pos)), x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pos))] = x
    return out


def im2col(x, ks, strides, pads, dilations, outs=None):
    """(N, C, *spatial) -> columns (N, C*prod(ks), prod(out)) and the output spatial shape.

    outs, when given, keeps only the first outs positions (the adjoint of a transposed conv with output_padding)."""
    xp = _pad_array(x, pads)
    n, c = x.shape[:2]
    if outs is None:
        outs = tuple(out_size(xp.shape[2 + i], k, s, 0, 0, d) for i, (k, s, d) in
                     enumerate(zip(ks, strides, dilations)))
    if any(o <= 0 for o in outs):
        raise RuntimeError("Calculated output size is too small")
    cols = np.empty((n, c) + tuple(ks) + outs, x.dtype)
    lead = (slice(None), slice(None))
    for offs, sl in _offset_slices(ks, strides, dilations, outs):
        cols[lead + offs] = xp[lead + sl]
    return cols.reshape(n, c * math.prod(ks), math.prod(outs)), outs


def col2im(cols, channels, in_spatial, ks, strides, pads, dilations, outs):
    """The adjoint of im2col: scatter-add columns back into an (N, C, *in_spatial) array."""
    n = cols.shape[0]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(in_spatial, pads))
    xp = np.zeros((n, channels) + padded, cols.dtype)
    cv = cols.reshape((n, channels) + tuple(ks) + tuple(outs))
    lead = (slice(None), slice(None))
    for offs, sl in _offset_slices(ks, strides, dilations, outs):
        xp[lead + sl] += cv[lead + offs]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(in_spatial, pads))
    return xp[lead + crop]


class Unfold(Function):
    """Differentiable im2col (F.unfold); backward is Fold."""

    _raw = True
    _node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, ks, strides, pads, dilations, outs=None):
        cols, outs = im2col(x, ks, strides, pads, dilations, outs)
        ctx.geom = (x.shape[1], x.shape[2:], ks, strides, pads, dilations, outs)
        return cols

    @staticmethod
    def backward(ctx, g):
        c, spatial, ks, strides, pads, dilations, outs = ctx.geom
        return Fold.apply(g, c, spatial, ks, strides, pads, dilations, outs), None, None, None, None, None


class Fold(Function):
    """Differentiable col2im (F.fold); backward is Unfold."""

    _raw = True
    _node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, channels, spatial, ks, strides, pads, dilations, outs):
        ctx.geom = (ks, strides, pads, dilations, outs)
        return col2im(cols, channels, spatial, ks, strides, pads, dilations, outs)

    @staticmethod
    def backward(ctx, g):
        ks, strides, pads, dilations, outs = ctx.geom
        return (Unfold.apply(g, ks, strides, pads, dilations, outs),) + (None,) * 7


def _swap01(a):
    return a.swapaxes(0, 1)


def _prod(shape):
    return math.prod(shape)


def _aliasing(stride):
    """Whether reading along a byte stride keeps hitting the same few cache sets (a power of two from 128 bytes, or a
    multiple of 1 KiB): transposing copies that read along such a stride run 1.5-5x slower."""
    return stride >= 128 and (stride % 1024 == 0 or 1024 % stride == 0)


def _unaliased(a):
    """a, or a copy of it (in a scratch buffer) whose rows are padded so the leading-axis stride does not alias."""
    if a.ndim < 2 or a.shape[0] < 8 or not _aliasing(a.strides[0]):
        return a
    rest = a.size // a.shape[0]
    buf = scratch.empty((a.shape[0], rest + 16), a.dtype)[:, :rest]
    buf[...] = a.reshape(buf.shape)
    return buf.reshape(a.shape)


def _padded_rows(lead, n, dtype):
    """An empty (*lead, n) scratch array whose rows of n are padded in memory when their stride would alias (see
    _aliasing), so that a transposing copy out of it reads fast."""
    pad = 16 if n > 1 and _aliasing(n * np.dtype(dtype).itemsize) else 0
    return scratch.empty(tuple(lead) + (n + pad,), dtype)[..., :n]


def _phase_runs(lo, size, phase):
    """Where the interior [lo, lo + size) of a padded axis lies once the axis is split into `phase` interleaved
    phases (position w at (w % phase, w // phase)): per phase, its first interior index, its offset in the phase, and
    how many interior positions it holds."""
    for p in range(phase):
        first = (p - lo) % phase
        count = len(range(first, size, phase))
        if count:
            yield p, first, (lo + first) // phase, count


def _taps(r, k, s, d):
    """Input offsets along the last dim read by a block of r neighbouring outputs (stride s, dilation d)."""
    return sorted({i * s + j * d for i in range(r) for j in range(k)})


MAX_BLOCK_ROWS = 24


def _block_factor(rows, groups, k, s, d, width):
    """How many neighbouring outputs along the last dim share one column (see _Columns): the largest divisor r <= 8
    of the output width with r*rows <= MAX_BLOCK_ROWS whose merged windows hold at most 70% of r separate ones."""
    best = 1
    if groups != 1 or k < 2:
        return best
    for r in range(2, min(8, MAX_BLOCK_ROWS // max(rows, 1)) + 1):
        if width % r == 0 and len(_taps(r, k, s, d)) <= 0.7 * r * k:
            best = r
    return best


class _Columns:
    """Layout of a convolution's channel-major im2col columns for an (N, C, *spatial) input read at output positions
    `outs`: rows (C, kernel offsets) like a flattened weight, one column per output position.

    Columns run over (n, out...) or, batch_last (short output rows, copied as long (row x batch) blocks), over
    (out..., n). With a block r > 1 the last output dim is cut into blocks of r neighbours and one column holds the
    union of their windows (r + k - 1 taps at stride 1 instead of r*k); the weight becomes r shifted copies, so the
    GEMM has r times the rows on r times fewer columns. OpenBLAS is slow on few rows, so for convolutions with few
    output channels this is much faster, and im2col copies less. rows=None (transposed convolution) never blocks.
    The last dim is read with step r*stride; the padded input (and col2im's accumulator) store it split into that
    many interleaved phases, so every im2col/col2im copy is a contiguous run.
    """

    def __init__(self, xshape, ks, strides, pads, dilations, outs, rows=None, groups=1):
        self.n, self.c = xshape[:2]
        self.spatial, self.ks, self.strides = tuple(xshape[2:]), tuple(ks), tuple(strides)
        self.pads, self.dilations, self.outs = tuple(pads), tuple(dilations), tuple(outs)
        k, s, d = self.ks[-1], self.strides[-1], self.dilations[-1]
        self.r = 1 if rows is None else _block_factor(rows, groups, k, s, d, self.outs[-1])
        self.taps = _taps(self.r, k, s, d)
        self.grid = self.outs[:-1] + (self.outs[-1] // self.r,)
        self.kernel = self.ks[:-1] + (len(self.taps),)
        self.batch_last = self.n > 1 and self.grid[-1] <= 16
        self.phase = self.r * s if self.grid[-1] > 1 else 1

    def positions(self):
        """Shape of the column (position) axes."""
        return self.grid + (self.n,) if self.batch_last else (self.n,) + self.grid

    def _index(self, sl):
        """Index of spatial slices `sl` in a channel-major (C, N, *S) or, batch_last, (C, *S, N) array."""
        return (slice(None),) + sl + (slice(None),) if self.batch_last else (slice(None), slice(None)) + sl

    def _phased_shape(self, padded):
        """The spatial axes of a padded input with its last axis split into phases (P, U)."""
        return padded[:-1] + (self.phase, -(-padded[-1] // self.phase))

    def _reads(self):
        """Per spatial dim, the (start, step) in the padded input of each of its kernel offsets."""
        lead = [[(o * d, s) for o in range(k)] for k, s, d in zip(self.ks[:-1], self.strides[:-1], self.dilations[:-1])]
        return lead + [[(e, self.r * self.strides[-1]) for e in self.taps]]

    @functools.cached_property
    def offsets(self):
        """Per row offset of the columns: its index in the (C, *kernel, ...) columns and its index in the phase-split
        input (the last-dim slice has step r*stride, so it is a contiguous run of one phase)."""
        p, t = self.phase, self.grid[-1]
        reads = self._reads()
        dims = [[(slice(a, a + s * (g - 1) + 1, s),) for a, s in r] for r, g in zip(reads[:-1], self.grid[:-1])]
        dims.append([(e % p, slice(e // p, e // p + t)) for e, _ in reads[-1]])
        return [((slice(None),) + offs, self._index(sum(parts, ()))) for offs, parts in
                zip(itertools.product(*[range(k) for k in self.kernel]), itertools.product(*dims))]

    @functools.cached_property
    def direct(self):
        """Row offsets as reads straight from the unpadded input, for channel-major (C, N, ...) layouts: per offset
        its index in the columns, the input and output indices of the positions that fall inside the input (None
        when none does), and the output indices of the border strips that fall in the padding."""
        lead = (slice(None), slice(None))
        dims = []
        for dim, (reads, g, size, (lo, _)) in enumerate(zip(self._reads(), self.grid, self.spatial, self.pads)):
            per = []
            for a, s in reads:
                j0 = min(g, max(0, -((a - lo) // s)))
                j1 = max(j0, min(g, (size - 1 - a + lo) // s + 1))
                borders = [lead + (slice(None),) * dim + (slice(i, j),) for i, j in ((0, j0), (j1, g)) if j > i]
                per.append((slice(a + j0 * s - lo, a + (j1 - 1) * s - lo + 1, s), slice(j0, j1), borders))
            dims.append(per)
        out = []
        for offs, parts in zip(itertools.product(*[range(k) for k in self.kernel]), itertools.product(*dims)):
            inside = all(o.stop > o.start for _, o, _ in parts)
            index = (lead + tuple(i for i, _, _ in parts), lead + tuple(o for _, o, _ in parts)) if inside else None
            out.append(((slice(None),) + offs, index, [b for _, _, bs in parts for b in bs]))
        return out

    def _direct_columns(self, x, cols):
        """im2col without a padded copy (channel-major columns, batch before the positions): each offset copies its
        in-bounds block and zeroes the border strips that read padding."""
        xt = _swap01(x)
        for ci, inside, borders in self.direct:
            dst = cols[ci]
            if inside is None:
                dst[...] = 0
                continue
            dst[inside[1]] = xt[inside[0]]
            for b in borders:
                dst[b] = 0

    def _source(self, x):
        """x (N, C, *S) zero-padded (negative pads crop), channel-major and phase-split, in a scratch buffer:
        (C, N, *S_padded[:-1], P, U) or, batch_last, (C, *S_padded[:-1], P, U, N)."""
        crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(x.shape[2:], self.pads))
        x = x[(slice(None), slice(None)) + crop]
        pos = [(max(lo, 0), max(hi, 0)) for lo, hi in self.pads]
        padded = any(lo or hi for lo, hi in pos)
        p, bl = self.phase, self.batch_last
        if not bl and p == 1 and not padded:
            return _swap01(x)[..., None, :]
        sp = self._phased_shape(tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pos)))
        if bl:
            xt = np.moveaxis(_unaliased(x), 0, -1)
            out = (scratch.zeros if padded else scratch.empty)((self.c,) + sp + (self.n,), x.dtype)
        else:
            xt = _swap01(x)
            out = (scratch.zeros if padded else scratch.empty)((self.c, self.n) + sp, x.dtype)
        lead = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:-1], pos[:-1]))
        for ph, first, u, count in _phase_runs(pos[-1][0], x.shape[-1], p):
            out[self._index(lead + (ph, slice(u, u + count)))] = xt[..., first::p, :] if bl else xt[..., first::p]
        return out

    def columns(self, x):
        """im2col: (N, C, *spatial) -> (C * prod(kernel), positions), in a scratch buffer."""
        cols = scratch.empty((self.c,) + self.kernel + self.positions(), x.dtype)
        if self.phase == 1 and not self.batch_last and (not any(self.pads[-1]) or self.grid[-1] >= 64):
            self._direct_columns(x, cols)  # (zeroing the last-dim border strips costs as much as padding short rows)
        else:
            src = self._source(x)
            for ci, si in self.offsets:
                cols[ci] = src[si]
        return cols.reshape(self.c * _prod(self.kernel), _prod(self.positions()))

    def accumulate(self, cols):
        """col2im, the adjoint of columns(): (C * prod(kernel), positions) -> a new contiguous (N, C, *spatial)."""
        n, c, bl, p = self.n, self.c, self.batch_last, self.phase
        cv = cols.reshape((c,) + self.kernel + self.positions())
        if p == 1 and not bl:  # straight into the unpadded result
            out = np.zeros((n, c) + self.spatial, cols.dtype)
            acc = _swap01(out)
            for ci, inside, _ in self.direct:
                if inside is not None:
                    acc[inside[0]] += cv[ci][inside[1]]
            return out
        sp = self._phased_shape(tuple(s + lo + hi for s, (lo, hi) in zip(self.spatial, self.pads)))
        acc = scratch.zeros((c,) + sp + (n,), cols.dtype) if bl else _swap01(np.zeros((n, c) + sp, cols.dtype))
        for ci, si in self.offsets:
            acc[si] += cv[ci]
        if bl:
            acc = _unaliased(acc.reshape(-1, n)).reshape(acc.shape)
        out = np.empty((n, c) + self.spatial, cols.dtype)
        lead = tuple(slice(lo, lo + s) for s, (lo, _) in zip(self.spatial[:-1], self.pads[:-1]))
        for ph, first, u, count in _phase_runs(self.pads[-1][0], self.spatial[-1], p):
            part = acc[self._index(lead + (ph, slice(u, u + count)))]
            np.copyto(out[..., first::p], np.moveaxis(part, -1, 0) if bl else _swap01(part))
        return out

    @functools.cached_property
    def _tap_index(self):
        """Per block member i: the column tap read by each last-dim kernel offset."""
        k, s, d = self.ks[-1], self.strides[-1], self.dilations[-1]
        return [np.searchsorted(self.taps, [i * s + j * d for j in range(k)]) for i in range(self.r)]

    def weight(self, w):
        """The (r*O, C/groups * prod(kernel)) GEMM weight: w flattened, or r copies each shifted by one output step."""
        o = w.shape[0]
        if self.r == 1:
            return w.reshape(o, -1)
        wb = np.zeros((self.r, o) + w.shape[1:-1] + (len(self.taps),), w.dtype)
        for i, idx in enumerate(self._tap_index):
            wb[i][..., idx] = w
        return wb.reshape(self.r * o, -1)

    def weight_grad(self, m, wshape):
        """The adjoint of weight(): an (r*O, C/groups * prod(kernel)) GEMM result folded back to wshape."""
        if self.r == 1:
            return m.reshape(wshape)
        mv = m.reshape((self.r, wshape[0]) + tuple(wshape[1:-1]) + (len(self.taps),))
        idx = self._tap_index
        out = mv[0][..., idx[0]]
        for i in range(1, self.r):
            out += mv[i][..., idx[i]]
        return out

    def to_nol(self, a, bias=None):
        """GEMM output (r*O, positions) -> a new contiguous (N, O, *outs), adding the bias (a is scratch: batch_last
        adds the bias to it in place, as plain copies are the fastest transposes)."""
        n, r, g = self.n, self.r, _prod(self.grid)
        o = a.shape[0] // r
        out = np.empty((n, o) + self.outs, a.dtype)
        if self.batch_last:  # (r, o, g, n) -> (o, g, r, n) in runs of n, then one unaliased 2-d transpose
            if bias is not None:
                a.reshape(r, o, g * n)[...] += bias.reshape(1, o, 1)
            mid = _padded_rows((o, g, r), n, a.dtype)
            np.copyto(mid, a.reshape(r, o, g, n).transpose(1, 2, 0, 3))
            np.copyto(out.reshape(n, o * g * r), mid.reshape(o * g * r, n).T)
            return out
        d4 = out.reshape(n, o, g, r)
        for i in range(r):  # (o, n, g) blocks of rows -> (n, o, g) in runs of g
            src = _swap01(a[i * o:(i + 1) * o].reshape(o, n, g))
            if bias is None:
                np.copyto(d4[..., i], src)
            else:
                np.add(src, bias.reshape(1, o, 1), out=d4[..., i])
        return out

    def to_onl(self, y):
        """(N, O, *outs) -> contiguous (r*O, positions) in the columns' order (a scratch buffer): the adjoint layout
        change of to_nol, for gradients (and for the input of a transposed convolution). One copy."""
        n, r, g = self.n, self.r, _prod(self.grid)
        o = y.shape[1]
        if self.batch_last:  # a transpose that reads along the batch stride
            out = scratch.empty((r, o, g, n), y.dtype)
            out[...] = _unaliased(y.reshape(n, o * g * r)).reshape(n, o, g, r).transpose(3, 1, 2, 0)
        else:
            out = scratch.empty((r, o, n, g), y.dtype)
            out[...] = y.reshape(n, o, g, r).transpose(3, 1, 0, 2)
        return out.reshape(r * o, n * g)

    def bias_grad(self, g2):
        """Bias gradient from the (r*O, positions) gradient: one sum over positions (and block members)."""
        s = g2.sum(1)
        return s if self.r == 1 else s.reshape(self.r, -1).sum(0)


def _gemm(w, cols, groups):
    """(O, N*L) = W (O, CK) @ cols (CK, N*L), block-diagonal over groups (into a scratch buffer)."""
    o, ckg = w.shape
    nl = cols.shape[1]
    out = scratch.empty((groups, o // groups, nl), np.result_type(w, cols))
    np.matmul(w.reshape(groups, o // groups, ckg), cols.reshape(groups, ckg, nl), out=out)
    return out.reshape(o, nl)


def _gemm_t(w, g, groups):
    """cols gradient (CK, N*L) = W^T @ g (O, N*L), per group (into a scratch buffer)."""
    o, ckg = w.shape
    nl = g.shape[1]
    out = scratch.empty((groups, ckg, nl), np.result_type(w, g))
    np.matmul(w.reshape(groups, o // groups, ckg).swapaxes(1, 2), g.reshape(groups, o // groups, nl), out=out)
    return out.reshape(groups * ckg, nl)


def _gemm_w(g, cols, groups):
    """weight gradient (O, CKg) = g (O, N*L) @ cols^T, per group (the transposed view goes straight to BLAS)."""
    o = g.shape[0]
    ckg, nl = cols.shape[0] // groups, cols.shape[1]
    gg, cg = g.reshape(groups, o // groups, nl), cols.reshape(groups, ckg, nl)
    if _swapped_weight_grad(o // groups, ckg, nl):
        return np.matmul(cg, gg.swapaxes(1, 2)).swapaxes(1, 2).reshape(o, ckg)
    return np.matmul(gg, cg.swapaxes(1, 2)).reshape(o, ckg)


def _swapped_weight_grad(o, ck, nl):
    """Whether the weight gradient runs as (cols @ g^T)^T: for column rows >= 2x the output channels and long rows,
    where OpenBLAS is 1.2-2x faster with the bigger outer dimension as the GEMM's rows."""
    return ck >= 2 * o and nl >= 512


def _conv_outs(spatial, ks, strides, pads, dilations):
    return tuple(out_size(s, k, st, lo, hi, d) for s, k, st, (lo, hi), d in zip(spatial, ks, strides, pads, dilations))


def _finite(*arrays):
    """Whether every element is finite (what _ShiftedRows needs)."""
    return all(a.dtype.kind not in "fc" or np.isfinite(a).all() for a in arrays)


class _ShiftedRows:
    """A stride-1 2-d convolution of one (C, H, W) image as one GEMM per kernel row, without im2col.

    The zero-padded image (C, Hp, Wp) is flattened and stored KW times, copy j shifted left by j*dw: the rows (c, j)
    of a (C*KW, Hp*Wp) matrix. With output positions taken on the padded width, (OH, Wp), the inputs seen by kernel
    row i are the contiguous column block [i*dh*Wp, i*dh*Wp + OH*Wp) of that matrix, so the convolution is the sum
    over i of weight row i, (O, C*KW), times block i. Positions past the output width wrap into the next image row:
    their outputs are dropped and their gradients are zero, which adds nothing as long as the image and weight are
    finite (0 * inf is NaN). The padding is copied once per image instead of KH*KW column copies per image, and the
    blocks of one image stay in cache for their GEMMs."""

    def __init__(self, xshape, ks, pads, dilations, outs):
        self.c, self.spatial, self.ks, self.pads, self.dilations = xshape[0], tuple(xshape[1:]), ks, pads, dilations
        self.outs = outs
        self.padded = tuple(s + lo + hi for s, (lo, hi) in zip(self.spatial, pads))
        self.pitch = self.padded[1]
        self.run = outs[0] * self.pitch

    @staticmethod
    def applies(plan, x, w):
        """For a stride-1 2-d convolution with long output rows (> 16) whose columns would have no output blocks
        (enough output channels for efficient GEMMs), a kernel bigger than 1x1, and finite data."""
        return (len(plan.ks) == 2 and plan.strides == (1, 1) and plan.r == 1 and plan.outs[-1] > 16
                and _prod(plan.ks) > 1 and _finite(x, w))

    def weight_rows(self, w):
        """(O, C, KH, KW) -> (KH, O, C*KW), rows ordered like the shifted copies."""
        return np.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(self.ks[0], w.shape[0], -1)

    def source(self, img):
        """The (C*KW, Hp*Wp) matrix of shifted copies of the zero-padded image (negative pads crop), in scratch."""
        kw, dw = self.ks[1], self.dilations[1]
        size = _prod(self.padded)
        plane = scratch.zeros((self.c, size + (kw - 1) * dw), img.dtype)
        crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(self.spatial, self.pads))
        inner = tuple(slice(max(lo, 0), max(lo, 0) + c.stop - c.start) for c, (lo, _) in zip(crop, self.pads))
        plane[:, :size].reshape((self.c,) + self.padded)[(slice(None),) + inner] = img[(slice(None),) + crop]
        out = scratch.empty((self.c, kw, size), img.dtype)
        for j in range(kw):
            out[:, j] = plane[:, j * dw:j * dw + size]
        return out.reshape(self.c * kw, size)

    def block(self, src, i):
        start = i * self.dilations[0] * self.pitch
        return src[:, start:start + self.run]

    def conv(self, wr, src):
        """sum over kernel rows i of wr[i] @ block i: (O, OH*Wp) on the padded width (a scratch buffer)."""
        out = scratch.empty((wr.shape[1], self.run), np.result_type(wr, src))
        tmp = scratch.empty(out.shape, out.dtype) if len(wr) > 1 else None
        np.matmul(wr[0], self.block(src, 0), out=out)
        for i in range(1, len(wr)):
            np.matmul(wr[i], self.block(src, i), out=tmp)
            out += tmp
        return out

    def crop(self, a):
        """(O, OH*Wp) on the padded width -> the (O, OH, OW) view of the real outputs."""
        return a.reshape(a.shape[0], self.outs[0], self.pitch)[..., :self.outs[1]]

    def spread(self, g):
        """An (O, OH, OW) gradient on the padded width, zero at the wrap-around positions (a scratch buffer)."""
        out = scratch.empty((g.shape[0], self.outs[0], self.pitch), g.dtype)
        out[..., :self.outs[1]] = g
        out[..., self.outs[1]:] = 0
        return out.reshape(g.shape[0], self.run)

    def add_weight_grad(self, acc, g2, src):
        """acc (KH, O, C*KW) += g2 @ block i^T for every kernel row i."""
        for i in range(len(acc)):
            acc[i] += _gemm_w(g2, self.block(src, i), 1)

    def weight_grad(self, acc):
        """(KH, O, C*KW) -> (O, C, KH, KW)."""
        return acc.reshape(self.ks[0], acc.shape[1], self.c, self.ks[1]).transpose(1, 2, 0, 3)


def _shifted_input_grad(g, w, xshape, pads, dilations):
    """Per-image input gradient of a stride-1 2-d convolution (finite g and w) as a _ShiftedRows convolution of g
    with the flipped, transposed weight, padded by d*(k-1) - pad (see _unit_stride_input_grad)."""
    ks = w.shape[2:]
    gpads = tuple((d * (k - 1) - lo, d * (k - 1) - hi) for k, d, (lo, hi) in zip(ks, dilations, pads))
    rows = _ShiftedRows(g.shape[1:], ks, gpads, dilations, tuple(xshape[2:]))
    wr = rows.weight_rows(w.swapaxes(0, 1)[:, :, ::-1, ::-1])
    gx = np.empty(xshape, np.result_type(g, w))
    for i in range(g.shape[0]):
        gx[i] = rows.crop(rows.conv(wr, rows.source(g[i])))
    return gx


class ConvNd(Function):
    """Fused convolution: im2col + one GEMM (+ bias), or for long stride-1 2-d rows _ShiftedRows image by image;
    a hand-written backward."""

    _raw = True
    _node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, strides, pads, dilations, groups):
        ks = w.shape[2:]
        outs = _conv_outs(x.shape[2:], ks, strides, pads, dilations)
        ctx.geom = (x.shape, ks, strides, pads, dilations, groups, outs)
        ctx.has_bias = b is not None
        ctx.save_for_backward(x, w)
        ctx.plan = _blocked_if_finite(x, x.shape, ks, strides, pads, dilations, outs, w.shape[0], groups)
        ctx.rows = _ShiftedRows(x.shape[1:], ks, pads, dilations, outs) \
            if groups == 1 and _ShiftedRows.applies(ctx.plan, x, w) else None
        if ctx.rows is not None:
            return _shifted_forward(ctx.rows, x, w, b)
        ctx.cols = ctx.plan.columns(x)
        return ctx.plan.to_nol(_gemm(ctx.plan.weight(w), ctx.cols, groups), b)

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_conv_grads, g, ctx)


def _conv_grads(g, ctx):
    """ConvNd's input, weight and bias gradients (as g times the derivatives: holomorphic_grads conjugates)."""
    x, w = ctx.saved_tensors
    xshape, ks, strides, pads, dilations, groups, outs = ctx.geom
    n, o = g.shape[0], g.shape[1]
    need = ctx.needs_input_grad
    if STATE.enabled:
        g2 = g.reshape(n, o, _prod(outs))
        gb = g2.sum((0, 2)) if ctx.has_bias and need[2] else None
        return _conv_backward_graph(x, w, g2, geom=ctx.geom, need=need) + (gb, None, None, None, None)
    g, x, w = g._data, x._data, w._data
    gb = gw = gx = None
    plan = ctx.plan
    if ctx.rows is not None:
        gb = g.sum((0, 2, 3)) if ctx.has_bias and need[2] else None
        gw = _shifted_weight_grad(ctx.rows, g, x, w) if need[1] else None
    else:
        g2 = plan.to_onl(g)
        gb = plan.bias_grad(g2) if ctx.has_bias and need[2] else None
        if need[1]:
            gw = plan.weight_grad(_gemm_w(g2, ctx.cols, groups), w.shape)
    if need[0] and _input_grad_as_conv(xshape, o, strides, outs) and _finite(w):
        gx = _shifted_input_grad(g, w, xshape, pads, dilations) if ctx.rows is not None and _finite(g) \
            else _unit_stride_input_grad(g, w, xshape, pads, dilations, groups)
    elif need[0]:
        gplan = _blocked_if_finite(g, xshape, ks, strides, pads, dilations, outs, o, groups) \
            if plan.r > 1 else plan
        g_onl = g2 if ctx.rows is None and gplan is plan else gplan.to_onl(g)
        gx = gplan.accumulate(_gemm_t(gplan.weight(w), g_onl, groups))
    return tuple(None if a is None else Tensor._make(a) for a in (gx, gw, gb)) + (None,) * 4


def _shifted_forward(rows, x, w, b):
    """ConvNd's forward with _ShiftedRows, image by image."""
    wr = rows.weight_rows(w)
    out = np.empty((x.shape[0], w.shape[0]) + rows.outs, np.result_type(x, w))
    for i in range(x.shape[0]):
        a = rows.crop(rows.conv(wr, rows.source(x[i])))
        if b is None:
            out[i] = a
        else:
            np.add(a, b.reshape(-1, 1, 1), out=out[i])
    return out


def _shifted_weight_grad(rows, g, x, w):
    """The weight gradient with _ShiftedRows, accumulated image by image."""
    acc = np.zeros((w.shape[2], w.shape[0], w.shape[1] * w.shape[3]), np.result_type(g, x))
    for i in range(x.shape[0]):
        rows.add_weight_grad(acc, rows.spread(g[i]), rows.source(x[i]))
    return np.ascontiguousarray(rows.weight_grad(acc))


def _plan(xshape, ks, strides, pads, dilations, outs, rows=None, groups=1):
    """The _Columns plan of a geometry, shared by every call with that geometry: its slice tables (cached on the
    plan) cost more to build than a small convolution's arithmetic."""
    return _cached_plan(tuple(xshape), tuple(ks), tuple(strides), tuple(tuple(p) for p in pads), tuple(dilations),
                        tuple(outs), rows, groups)


_cached_plan = functools.lru_cache(maxsize=256)(_Columns)


def _blocked_if_finite(data, xshape, ks, strides, pads, dilations, outs, rows, groups):
    """The _Columns plan of a convolution reading `data`; shared (blocked) columns only when data is finite, since
    a blocked weight holds zeros for the taps a neighbour does not read and 0 * inf is NaN."""
    plan = _plan(xshape, ks, strides, pads, dilations, outs, rows, groups)
    if plan.r > 1 and not _finite(data):
        plan = _plan(xshape, ks, strides, pads, dilations, outs, None, groups)
    return plan


def _input_grad_as_conv(xshape, o, strides, outs):
    """Stride 1 and no bigger columns than col2im's (O * input size vs C * output size, within 2x). (The caller also
    requires a finite weight: the convolution multiplies it by the zero padding of g, and inf * 0 is NaN.)"""
    return all(st == 1 for st in strides) and o * _prod(xshape[2:]) <= 2 * xshape[1] * _prod(outs)


def _unit_stride_input_grad(g, w, xshape, pads, dilations, groups):
    """Input gradient of a stride-1 convolution as another convolution: g correlated with the flipped, per-group
    transposed weight, padded by d*(k-1) - pad (negative amounts crop). One im2col + GEMM instead of GEMM + col2im."""
    o, cg = w.shape[:2]
    ks = w.shape[2:]
    nd = len(ks)
    wt = w.reshape((groups, o // groups, cg) + ks).swapaxes(1, 2)[(Ellipsis,) + (slice(None, None, -1),) * nd]
    wt = wt.reshape((groups * cg, o // groups) + ks)
    gpads = tuple((d * (k - 1) - lo, d * (k - 1) - hi) for k, d, (lo, hi) in zip(ks, dilations, pads))
    plan = _blocked_if_finite(g, g.shape, ks, (1,) * nd, gpads, dilations, tuple(xshape[2:]), groups * cg, groups)
    return plan.to_nol(_gemm(plan.weight(wt), plan.columns(g), groups)).reshape(xshape)


def _conv_backward_graph(x, w, g2, geom, need):
    """Backward composed of differentiable ops (used when create_graph=True)."""
    xshape, ks, strides, pads, dilations, groups, outs = geom
    o = w.shape[0]
    w2 = w.reshape(o, -1)
    gx = gw = None
    if groups == 1:
        if need[0]:
            gx = Fold.apply(w2.t().matmul(g2), xshape[1], xshape[2:], ks, strides, pads, dilations, outs)
        if need[1]:
            cols = Unfold.apply(x, ks, strides, pads, dilations)
            gw = g2.matmul(cols.transpose(1, 2)).sum(0).reshape(w.shape)
        return gx, gw
    n, l = g2.shape[0], g2.shape[2]
    ck = w2.shape[1]
    wg = w2.reshape(groups, o // groups, ck)
    gg = g2.reshape(n, groups, o // groups, l)
    if need[0]:
        gcols = wg.transpose(1, 2).matmul(gg).reshape(n, groups * ck, l)
        gx = Fold.apply(gcols, xshape[1], xshape[2:], ks, strides, pads, dilations, outs)
    if need[1]:
        cols = Unfold.apply(x, ks, strides, pads, dilations).reshape(n, groups, ck, l)
        gw = gg.matmul(cols.transpose(2, 3)).sum(0).reshape(w.shape)
    return gx, gw


class ConvTransposeNd(Function):
    """Fused transposed convolution: GEMM then col2im (+ bias) — the adjoint of ConvNd."""

    _raw = True
    _node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, strides, pads, dilations, groups, out_spatial):
        n, cin = x.shape[:2]
        ks = w.shape[2:]
        cout = w.shape[1] * groups
        ins = x.shape[2:]
        plan = _plan((n, cout) + tuple(out_spatial), ks, strides, pads, dilations, ins)
        x2 = plan.to_onl(x)
        out = plan.accumulate(_gemm_t(w.reshape(cin, -1), x2, groups))
        if b is not None:
            out += b.reshape((1, cout) + (1,) * len(ks))
        ctx.geom = (x.shape, ks, strides, pads, dilations, groups, ins)
        ctx.plan, ctx.x2 = plan, x2
        ctx.has_bias = b is not None
        ctx.save_for_backward(x, w)
        return out

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_conv_transpose_grads, g, ctx)


def _conv_transpose_grads(g, ctx):
    """ConvTransposeNd's input, weight and bias gradients (as _conv_grads)."""
    x, w = ctx.saved_tensors
    xshape, ks, strides, pads, dilations, groups, ins = ctx.geom
    need = ctx.needs_input_grad
    n, cin = g.shape[0], xshape[1]
    gb = g.sum((0,) + tuple(range(2, g.dim()))) if ctx.has_bias and need[2] else None
    gx = gw = None
    if STATE.enabled:
        gcols = Unfold.apply(g, ks, strides, pads, dilations, ins)
        w2 = w.reshape(cin, -1)
        if groups == 1:
            gx = w2.matmul(gcols).reshape(xshape) if need[0] else None
            gw = x.reshape(n, cin, gcols.shape[2]).matmul(gcols.transpose(1, 2)).sum(0).reshape(w.shape) \
                if need[1] else None
        else:
            ck = w2.shape[1]
            l = gcols.shape[2]
            gc = gcols.reshape(n, groups, ck, l)
            wg = w2.reshape(groups, cin // groups, ck)
            xg = x.reshape(n, groups, cin // groups, l)
            gx = wg.matmul(gc).reshape(xshape) if need[0] else None
            gw = xg.matmul(gc.transpose(2, 3)).sum(0).reshape(w.shape) if need[1] else None
        return gx, gw, gb, None, None, None, None, None
    plan = ctx.plan
    gcols = plan.columns(g._data)
    w2 = w._data.reshape(cin, -1)
    if need[0]:
        gx = Tensor._make(plan.to_nol(_gemm(w2, gcols, groups)).reshape(xshape))
    if need[1]:
        gw = Tensor._make(_gemm_w(ctx.x2, gcols, groups).reshape(w.shape))
    return gx, gw, gb, None, None, None, None, None
