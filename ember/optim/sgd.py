"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _hyper, _check_fused
from ._functional import blockwise, effective_grad, add_

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    _group_setstate_defaults = dict(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False)

    def step(self, closure=None):
        """One SGD update; the momentum buffer starts as a copy of the first (decayed) gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum = _hyper(group["lr"]), group["momentum"]
            for p, g in self._params_with_grad(group):
                d, buf, first = p._data, None, False
                if momentum != 0:
                    state = self.state[p]
                    if state.get("momentum_buffer") is None:
                        state["momentum_buffer"] = Tensor._make(np.empty_like(d))
                        first = True
                    buf = state["momentum_buffer"]._data
                blockwise(_sgd_kernel, [d, g, buf], 2, maximize=group["maximize"],
                          weight_decay=float(group["weight_decay"]), momentum=momentum,
                          dampening=group["dampening"], nesterov=group["nesterov"], lr=lr, first=first)
                p._bump()
        return loss


def _sgd_kernel(d, g, buf, grad_buf, tmp, *, maximize, weight_decay, momentum, dampening, nesterov, lr, first):
    """torch's _single_tensor_sgd on one block, in its operation order."""
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    if buf is not None:
        if first:
            np.copyto(buf, grad)
        else:
            buf *= d.dtype.type(momentum)
            add_(buf, grad, 1 - dampening, tmp)
        if nesterov:
            np.multiply(buf, d.dtype.type(momentum), out=tmp)
            tmp += grad
            grad = tmp
        else:
            grad = buf
    add_(d, grad, -lr, tmp)
