"""Convolution on NumPy: N-d im2col/col2im by kernel offsets, then one GEMM for the whole batch.

The fused conv and conv_transpose use channel-major columns (C*prod(k), N*prod(out)) (im2col_cm), so the forward,
the weight gradient and the column gradient are each a single (grouped) GEMM; the columns put the batch innermost
for short output rows, and a stride-1 input gradient is computed as a convolution (no col2im). Large temporaries
come from a scratch pool. F.unfold/F.fold keep PyTorch's (N, C*prod(k), L) layout (im2col/col2im); with
create_graph, backward is composed of those differentiable Unfold/Fold/matmul ops, so double backward works.
"""
import itertools
import sys
import threading

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE


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
        count = int(np.prod(shape))
        nbytes = count * dtype.itemsize
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
    for offs in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, s, d, n in zip(offs, strides, dilations, outs))
        yield offs, sl


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
    return cols.reshape(n, c * int(np.prod(ks)), int(np.prod(outs))), outs


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


def _batch_last(outs, n):
    """Put the batch innermost in the columns when output rows are short: the copies in im2col/col2im then run over
    whole (row x batch) blocks instead of short rows (a big win for small images, a loss for large ones)."""
    return n > 1 and outs[-1] < 16


def _channel_major(x, pads, batch_last):
    """x (N, C, *S) as (C, N, *S_padded), or as a contiguous (C, *S_padded, N); zero padding, negative crops."""
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(x.shape[2:], pads))
    x = x[(slice(None), slice(None)) + crop]
    xt = np.moveaxis(x, 0, -1) if batch_last else _swap01(x)
    pos = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    if not batch_last and not any(lo or hi for lo, hi in pos):
        return xt
    sp = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pos))
    shape = (xt.shape[0],) + sp + (xt.shape[-1],) if batch_last else xt.shape[:2] + sp
    out = scratch.zeros(shape, x.dtype) if any(lo or hi for lo, hi in pos) else scratch.empty(shape, x.dtype)
    out[_spatial_index(tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pos)), batch_last)] = xt
    return out


def _spatial_index(sl, batch_last):
    """Index of spatial slices `sl` in a (C, N, *S) or (C, *S, N) array."""
    return (slice(None),) + sl + (slice(None),) if batch_last else (slice(None), slice(None)) + sl


def im2col_cm(x, ks, strides, pads, dilations, outs, batch_last=False):
    """Channel-major columns for the conv GEMMs: (N, C, *spatial) -> (C*prod(ks), N*prod(outs)).

    Rows are ordered (c, k...) like a flattened weight, columns (n, out...) or, batch_last, (out..., n); one GEMM
    with a (O, C*K) weight covers the whole batch and the weight gradient is one GEMM against the transposed view."""
    src = _channel_major(x, pads, batch_last)
    n, c = x.shape[:2]
    cols = scratch.empty((c,) + tuple(ks) + ((tuple(outs) + (n,)) if batch_last else ((n,) + tuple(outs))), x.dtype)
    for offs, sl in _offset_slices(ks, strides, dilations, outs):
        cols[(slice(None),) + offs] = src[_spatial_index(sl, batch_last)]
    return cols.reshape(c * int(np.prod(ks)), n * int(np.prod(outs)))


def col2im_cm(cols, n, channels, in_spatial, ks, strides, pads, dilations, outs, batch_last=False):
    """The adjoint of im2col_cm: (C*K, N*L) columns scatter-added into a new contiguous (N, C, *in_spatial) array."""
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(in_spatial, pads))
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(in_spatial, pads))
    if batch_last:
        acc = scratch.zeros((channels,) + padded + (n,), cols.dtype)
        cv = cols.reshape((channels,) + tuple(ks) + tuple(outs) + (n,))
    else:
        xp = np.zeros((n, channels) + padded, cols.dtype)
        acc = _swap01(xp)
        cv = cols.reshape((channels,) + tuple(ks) + (n,) + tuple(outs))
    for offs, sl in _offset_slices(ks, strides, dilations, outs):
        acc[_spatial_index(sl, batch_last)] += cv[(slice(None),) + offs]
    if batch_last:
        return np.ascontiguousarray(np.moveaxis(acc[_spatial_index(crop, True)], -1, 0))
    if not any(lo or hi for lo, hi in pads):
        return xp
    return np.ascontiguousarray(xp[(slice(None), slice(None)) + crop])


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
    if groups == 1:
        return np.matmul(g, cols.T)
    o = g.shape[0]
    ckg, nl = cols.shape[0] // groups, cols.shape[1]
    return np.matmul(g.reshape(groups, o // groups, nl), cols.reshape(groups, ckg, nl).swapaxes(1, 2)).reshape(o, ckg)


def _to_nol(a, n, bias=None, batch_last=False):
    """(O, N*L) columns ((n, l) or, batch_last, (l, n) order) -> contiguous (N, O, L), adding the bias (one pass)."""
    o = a.shape[0]
    l = a.shape[1] // max(n, 1)
    v = np.moveaxis(a.reshape(o, l, n), -1, 0) if batch_last else _swap01(a.reshape(o, n, l))
    if bias is None:
        return np.ascontiguousarray(v)
    out = np.empty(v.shape, a.dtype)
    np.add(v, bias.reshape(1, o, 1), out=out)
    return out


def _to_onl(g, batch_last=False):
    """(N, O, *out) -> contiguous (O, N*L) in im2col_cm's column order (a scratch buffer)."""
    n, o = g.shape[:2]
    l = int(np.prod(g.shape[2:]))
    g3 = g.reshape(n, o, l)
    out = scratch.empty((o, l, n) if batch_last else (o, n, l), g.dtype)
    out[...] = np.moveaxis(g3, 0, -1) if batch_last else _swap01(g3)
    return out.reshape(o, n * l)


class ConvNd(Function):
    """Fused convolution: im2col + one GEMM (+ bias), with a hand-written backward."""

    _raw = True
    _node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, strides, pads, dilations, groups):
        ks = w.shape[2:]
        n = x.shape[0]
        outs = tuple(out_size(s, k, st, lo, hi, d) for s, k, st, (lo, hi), d in
                     zip(x.shape[2:], ks, strides, pads, dilations))
        bl = _batch_last(outs, n)
        cols = im2col_cm(x, ks, strides, pads, dilations, outs, bl)
        o = w.shape[0]
        out = _to_nol(_gemm(w.reshape(o, -1), cols, groups), n, b, bl).reshape((n, o) + outs)
        ctx.geom = (x.shape, ks, strides, pads, dilations, groups, outs)
        ctx.cols, ctx.batch_last = cols, bl
        ctx.has_bias = b is not None
        ctx.save_for_backward(x, w)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xshape, ks, strides, pads, dilations, groups, outs = ctx.geom
        n, o = g.shape[0], g.shape[1]
        need = ctx.needs_input_grad
        if STATE.enabled:
            g2 = g.reshape(n, o, int(np.prod(outs)))
            gb = g2.sum((0, 2)) if ctx.has_bias and need[2] else None
            return _conv_backward_graph(x, w, g2, geom=ctx.geom, need=need) + (gb, None, None, None, None)
        bl = ctx.batch_last
        g2 = _to_onl(g._data, bl)
        gb = Tensor._make(g2.sum(1)) if ctx.has_bias and need[2] else None
        w2 = w._data.reshape(o, -1)
        gx = gw = None
        if need[0] and _input_grad_as_conv(xshape, o, strides, outs):
            gx = Tensor._make(_unit_stride_input_grad(g._data, w._data, xshape, pads, dilations, groups))
        elif need[0]:
            gcols = _gemm_t(w2, g2, groups)
            gx = Tensor._make(col2im_cm(gcols, n, xshape[1], xshape[2:], ks, strides, pads, dilations, outs, bl))
        if need[1]:
            gw = Tensor._make(_gemm_w(g2, ctx.cols, groups).reshape(w.shape))
        return gx, gw, gb, None, None, None, None


def _input_grad_as_conv(xshape, o, strides, outs):
    """Stride 1 and no bigger columns than col2im's (O * input size vs C * output size, within 2x)."""
    return all(st == 1 for st in strides) and o * int(np.prod(xshape[2:])) <= 2 * xshape[1] * int(np.prod(outs))


def _unit_stride_input_grad(g, w, xshape, pads, dilations, groups):
    """Input gradient of a stride-1 convolution as another convolution: g correlated with the flipped, per-group
    transposed weight, padded by d*(k-1) - pad (negative amounts crop). One im2col + GEMM instead of GEMM + col2im."""
    o, cg = w.shape[:2]
    ks = w.shape[2:]
    nd = len(ks)
    wt = w.reshape((groups, o // groups, cg) + ks).swapaxes(1, 2)[(Ellipsis,) + (slice(None, None, -1),) * nd]
    wt = wt.reshape(groups * cg, -1)
    gpads = tuple((d * (k - 1) - lo, d * (k - 1) - hi) for k, d, (lo, hi) in zip(ks, dilations, pads))
    bl = _batch_last(xshape[2:], g.shape[0])
    cols = im2col_cm(g, ks, (1,) * nd, gpads, dilations, tuple(xshape[2:]), bl)
    return _to_nol(_gemm(wt, cols, groups), g.shape[0], None, bl).reshape(xshape)


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
        bl = _batch_last(ins, n)
        x2 = _to_onl(x, bl)
        cols = _gemm_t(w.reshape(cin, -1), x2, groups)
        out = col2im_cm(cols, n, cout, out_spatial, ks, strides, pads, dilations, ins, bl)
        if b is not None:
            out += b.reshape((1, cout) + (1,) * len(ks))
        ctx.geom = (x.shape, ks, strides, pads, dilations, groups, ins)
        ctx.x2, ctx.batch_last = x2, bl
        ctx.has_bias = b is not None
        ctx.save_for_backward(x, w)
        return out

    @staticmethod
    def backward(ctx, g):
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
        gcols = im2col_cm(g._data, ks, strides, pads, dilations, ins, ctx.batch_last)
        w2 = w._data.reshape(cin, -1)
        if need[0]:
            gx = Tensor._make(_to_nol(_gemm(w2, gcols, groups), n, None, ctx.batch_last).reshape(xshape))
        if need[1]:
            gw = Tensor._make(_gemm_w(ctx.x2, gcols, groups).reshape(w.shape))
        return gx, gw, gb, None, None, None, None, None
