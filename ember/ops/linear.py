"""The fused linear and bilinear layers: y = x W^T + b and y = x1 A x2 + b, one GEMM each way."""
import numpy as np

from ..autograd.function import Function, run
from ..autograd.grad_mode import STATE
from .._tensor import Tensor
from ._util import holomorphic_grads, sum_to, sum_to_array

_HALF = np.dtype(np.float16)


class Addmm(Function):
    """out = b + x @ w.T for 2-D x (rows, in) and w (out, in); b broadcasts to (rows, out) or is None."""

    _raw = True
    _node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        if b is not None:
            ctx.bias_shape = b.shape
        if x.dtype == _HALF:
            return _half_addmm(x, w, b)
        out = np.matmul(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, g):
        return holomorphic_grads(_linear_grads, g, ctx)


def _half_addmm(x, w, b):
    """b + x @ w.T of half arrays in float32, rounded once, as PyTorch's CPU addmm computes half."""
    f = np.float32
    out = np.matmul(x.astype(f), w.T.astype(f))
    if b is not None:
        out += b.astype(f)
    return out.astype(_HALF)


def _linear_grads(g, ctx):
    x, w = ctx.saved_tensors
    if not STATE.enabled:
        if g._data.dtype == _HALF:
            return _half_linear_grads(g._data, x._data, w._data, ctx)
        if g._data.dtype.char in "fd":
            return _array_linear_grads(g._data, x._data, w._data, ctx)
    gx = g.matmul(w) if ctx.needs_input_grad[0] else None
    gw = g.t().matmul(x) if ctx.needs_input_grad[1] else None
    gb = sum_to(g, ctx.bias_shape) if ctx.needs_input_grad[2] else None
    return gx, gw, gb


def _array_linear_grads(g, x, w, ctx):
    """_linear_grads on float32/64 arrays (no graph to record): the two GEMMs and the bias's column sums."""
    need = ctx.needs_input_grad
    gx = Tensor._make(np.matmul(g, w)) if need[0] else None
    gw = Tensor._make(np.matmul(g.T, x)) if need[1] else None
    gb = Tensor._make(sum_to_array(g, ctx.bias_shape)) if need[2] else None
    return gx, gw, gb


def _half_linear_grads(g, x, w, ctx):
    """_linear_grads of half arrays, each product and sum in float32 rounded once (as torch's half mm)."""
    f = np.float32
    g32 = g.astype(f)
    need = ctx.needs_input_grad
    gx = Tensor._make(np.matmul(g32, w.astype(f)).astype(_HALF)) if need[0] else None
    gw = Tensor._make(np.matmul(g32.T, x.astype(f)).astype(_HALF)) if need[1] else None
    gb = Tensor._make(sum_to_array(g32, ctx.bias_shape).astype(_HALF)) if need[2] else None
    return gx, gw, gb


class Mm(Addmm):
    """out = x @ w.T (no bias): the same kernel, named as PyTorch names the node."""

    _node_name = "MmBackward0"


def linear(x2d, weight, bias=None):
    """x2d @ weight.T + bias for a 2-D input, as one autograd node."""
    cls = Addmm if bias is not None else Mm
    if not STATE.fast:
        return cls.apply(x2d, weight, bias)
    rg = STATE.enabled and (x2d._rg or weight._rg or bias is not None and bias._rg)
    return run(cls, (x2d, weight, bias), (x2d._data, weight._data, None if bias is None else bias._data), rg)


def bilinear(x1, x2, weight):
    """y[b, o] = sum_ij x1[b, i] weight[o, i, j] x2[b, j] for 2-D x1, x2: one GEMM, then a reduction (integers stay
    in their dtype, wrapping as torch's)."""
    out_f, in1, in2 = weight.shape
    t = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    t = t * x2.unsqueeze(1)
    return t.sum(-1) if t._data.dtype.kind in "fc" else t.sum(-1, dtype=t.dtype)
