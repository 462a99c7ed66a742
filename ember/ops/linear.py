"""The fused linear and bilinear layers: y = x W^T + b and y = x1 A x2 + b."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function


class Linear(Function):
    _raw = True
    _node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        out = np.matmul(x, w.T)
        if b is not None:
            out += b
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = g.matmul(w)
        if ctx.needs_input_grad[1]:
            g2 = g.reshape(-1, g.shape[-1])
            gw = g2.t().matmul(x.reshape(-1, x.shape[-1]))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g.reshape(-1, g.shape[-1]).sum(0)
        return gx, gw, gb


def linear(input, weight, bias=None):
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    from .linalg import einsum
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    out = einsum("bi,oij,bj->bo", x1, weight, x2)
    if bias is not None:
        out = out + bias
    return out.reshape(tuple(lead) + (weight.shape[0],))
