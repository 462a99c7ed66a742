"""Adamax: Adam with the infinity norm of past gradients in the denominator."""
import numpy as np

from .optimizer import (Optimizer, _check_adam_args, _hyper, _scalar_step, _increment, _zeros_state,
                        _check_capturable, _check_lr)
from ._functional import blockwise, effective_grad, lerp_, addcdiv_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_adam_args(eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    _group_setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """m <- lerp(m, g, 1-beta1); u <- max(beta2 u, |g| + eps); p <- p - lr/(1-beta1^t) m/u."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = _hyper(group["lr"])
            for p, g in self._params_with_grad(group):
                _check_capturable(group)
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["exp_avg"] = _zeros_state(d)
                    state["exp_inf"] = _zeros_state(d)
                step = _increment(state)
                blockwise(_adamax_kernel, [d, g, state["exp_avg"]._data, state["exp_inf"]._data], 2,
                          maximize=group["maximize"], weight_decay=group["weight_decay"], beta1=beta1, beta2=beta2,
                          eps=group["eps"], clr=lr / (1 - beta1 ** step))
                p._bump()
        return loss


def _adamax_kernel(d, g, exp_avg, exp_inf, grad_buf, buf, *, maximize, weight_decay, beta1, beta2, eps, clr):
    """torch's _single_tensor_adamax on one block, in its operation order."""
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    lerp_(exp_avg, grad, 1 - beta1, buf)
    exp_inf *= d.dtype.type(beta2)
    np.abs(grad, out=buf)
    buf += d.dtype.type(eps)
    np.maximum(exp_inf, buf, out=exp_inf)
    addcdiv_(d, exp_avg, exp_inf, -clr, buf)
