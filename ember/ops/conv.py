"""Convolution on NumPy: N-d im2col/col2im by kernel offsets, then one GEMM.

Columns have F.unfold's layout (N, C*prod(k), prod(out)), so the same kernels serve conv, conv_transpose,
unfold and fold. With create_graph, backward is composed of differentiable Unfold/Fold/matmul ops, so
double backward works; otherwise it runs raw GEMMs on the saved columns.
"""
import itertools

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE


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
    nd = len(pads)
    crop = tuple(slice(max(-lo, 0), x.shape[2 + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads))
    x = x[(slice(None), slice(None)) + crop]
    pos = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    out = np.zeros(x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pos)), x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pos))] = x
    return out


def im2col(x, ks, strides, pads, dilations):
    """(N, C, *spatial) -> columns (N, C*prod(ks), prod(out)) and the output spatial shape."""
    xp = _pad_array(x, pads)
    n, c = x.shape[:2]
    outs = tuple(out_size(xp.shape[2 + i], k, s, 0, 0, d) for i, (k, s, d) in enumerate(zip(ks, strides, dilations)))
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
    def forward(ctx, x, ks, strides, pads, dilations):
        cols, outs = im2col(x, ks, strides, pads, dilations)
        ctx.geom = (x.shape[1], x.shape[2:], ks, strides, pads, dilations, outs)
        return cols

    @staticmethod
    def backward(ctx, g):
        c, spatial, ks, strides, pads, dilations, outs = ctx.geom
        return Fold.apply(g, c, spatial, ks, strides, pads, dilations, outs), None, None, None, None


class Fold(Function):
    """Differentiable col2im (F.fold); backward is Unfold."""

    _raw = True
    _node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, channels, spatial, ks, strides, pads, dilations, outs):
        ctx.geom = (ks, strides, pads, dilations)
        return col2im(cols, channels, spatial, ks, strides, pads, dilations, outs)

    @staticmethod
    def backward(ctx, g):
        ks, strides, pads, dilations = ctx.geom
        return (Unfold.apply(g, ks, strides, pads, dilations),) + (None,) * 7


def _group_matmul(w, cols, groups):
    """out (N, O, L) = W (O, CK) @ cols (N, CK, L), per group."""
    if groups == 1:
        return np.matmul(w, cols)
    n, ck, l = cols.shape
    o = w.shape[0]
    wg = w.reshape(groups, o // groups, ck // groups)
    cg = cols.reshape(n, groups, ck // groups, l)
    return np.matmul(wg, cg).reshape(n, o, l)


class ConvNd(Function):
    """Fused convolution: im2col + GEMM (+ bias), with a hand-written backward."""

    _raw = True
    _node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, strides, pads, dilations, groups):
        ks = w.shape[2:]
        cols, outs = im2col(x, ks, strides, pads, dilations)
        o = w.shape[0]
        out = _group_matmul(w.reshape(o, -1), cols, groups)
        if b is not None:
            out += b.reshape(1, o, 1)
        ctx.geom = (x.shape, ks, strides, pads, dilations, groups, outs)
        ctx.cols = cols
        ctx.has_bias = b is not None
        ctx.save_for_backward(x, w)
        return out.reshape((x.shape[0], o) + outs)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xshape, ks, strides, pads, dilations, groups, outs = ctx.geom
        n, o = g.shape[0], g.shape[1]
        g2 = g.reshape(n, o, -1)
        need = ctx.needs_input_grad
        gb = g2.sum((0, 2)) if ctx.has_bias and need[2] else None
        if STATE.enabled:
            return _conv_backward_graph(x, w, g2, geom=ctx.geom, need=need) + (gb, None, None, None, None)
        gd, wd = g2._data, w._data.reshape(o, -1)
        gx = gw = None
        if need[0]:
            gcols = _group_matmul_t(wd, gd, groups)
            gx = Tensor._make(col2im(gcols, xshape[1], xshape[2:], ks, strides, pads, dilations, outs))
        if need[1]:
            gw = Tensor._make(_weight_grad(gd, ctx.cols, groups).reshape(w.shape))
        return gx, gw, gb, None, None, None, None


def _group_matmul_t(w, g, groups):
    """gcols (N, CK, L) = W^T @ g, per group."""
    if groups == 1:
        return np.matmul(w.T, g)
    n, o, l = g.shape
    ck = w.shape[1]
    wg = w.reshape(groups, o // groups, ck)
    gg = g.reshape(n, groups, o // groups, l)
    return np.matmul(wg.transpose(0, 2, 1), gg).reshape(n, groups * ck, l)


def _weight_grad(g, cols, groups):
    """dW (O, CK) = sum over batch and positions of g (N, O, L) x cols (N, CK, L)."""
    if groups == 1:
        return np.tensordot(g, cols, axes=([0, 2], [0, 2]))
    n, o, l = g.shape
    ck = cols.shape[1] // groups
    gg = g.reshape(n, groups, o // groups, l)
    cg = cols.reshape(n, groups, ck, l)
    return np.einsum("ngol,ngkl->gok", gg, cg, optimize=True).reshape(o, ck)


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
        xr = x.reshape(n, cin, -1)
        cols = _group_matmul_t(w.reshape(cin, -1), xr, groups)
        out = col2im(cols, cout, out_spatial, ks, strides, pads, dilations, ins)
        if b is not None:
            out += b.reshape((1, cout) + (1,) * len(ks))
        ctx.geom = (x.shape, ks, strides, pads, dilations, groups, ins)
        ctx.has_bias = b is not None
        ctx.save_for_backward(x, w)
        return np.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xshape, ks, strides, pads, dilations, groups, ins = ctx.geom
        need = ctx.needs_input_grad
        n, cout = g.shape[:2]
        cin = xshape[1]
        gb = g.sum((0,) + tuple(range(2, g.dim()))) if ctx.has_bias and need[2] else None
        gx = gw = None
        if STATE.enabled:
            gcols = Unfold.apply(g, ks, strides, pads, dilations)
            w2 = w.reshape(cin, -1)
            if groups == 1:
                gx = w2.matmul(gcols).reshape(xshape) if need[0] else None
                gw = x.reshape(n, cin, -1).matmul(gcols.transpose(1, 2)).sum(0).reshape(w.shape) if need[1] else None
            else:
                ck = w2.shape[1]
                l = gcols.shape[2]
                gc = gcols.reshape(n, groups, ck, l)
                wg = w2.reshape(groups, cin // groups, ck)
                xg = x.reshape(n, groups, cin // groups, l)
                gx = wg.matmul(gc).reshape(xshape) if need[0] else None
                gw = xg.matmul(gc.transpose(2, 3)).sum(0).reshape(w.shape) if need[1] else None
            return gx, gw, gb, None, None, None, None, None
        gcols, _ = im2col(g._data, ks, strides, pads, dilations)
        xr = x._data.reshape(n, cin, -1)
        if need[0]:
            gx = Tensor._make(_group_matmul(w._data.reshape(cin, -1), gcols, groups).reshape(xshape))
        if need[1]:
            gw = Tensor._make(_weight_grad(xr, gcols, groups).reshape(w.shape))
        return gx, gw, gb, None, None, None, None, None
