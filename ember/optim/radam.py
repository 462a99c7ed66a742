"""RAdam: Adam with the variance of the adaptive learning rate rectified (plain momentum SGD early on)."""
import numpy as np

from .optimizer import (Optimizer, _check_adam_args, _hyper, _scalar_step, _increment, _zeros_state,
                        _check_capturable, _check_lr)
from ._functional import blockwise, effective_grad, lerp_, addcmul_

__all__ = ["RAdam"]


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_adam_args(eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _group_setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, decoupled_weight_decay=False,
                                    capturable=False)

    def step(self, closure=None):
        """Adam moments; the adaptive step is used (times the rectification term) only once rho_t > 5."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd = _hyper(group["lr"]), group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p, g in self._params_with_grad(group):
                _check_capturable(group)
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["exp_avg"] = _zeros_state(d)
                    state["exp_avg_sq"] = _zeros_state(d)
                step = _increment(state)
                bias_correction2 = 1 - beta2 ** step
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                rect = None
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                blockwise(_radam_kernel, [d, g, state["exp_avg"]._data, state["exp_avg_sq"]._data], 3,
                          maximize=group["maximize"], weight_decay=0 if decoupled else wd,
                          decay=1 - lr * wd if decoupled and wd != 0 else 1, beta1=beta1, beta2=beta2, lr=lr,
                          bias_correction1=1 - beta1 ** step, bias_correction2=bias_correction2, eps=group["eps"],
                          rect=rect)
                p._bump()
        return loss


def _radam_kernel(d, g, exp_avg, exp_avg_sq, grad_buf, buf, update, *, maximize, weight_decay, decay, beta1, beta2,
                  lr, bias_correction1, bias_correction2, eps, rect):
    """torch's _single_tensor_radam on one block, in its operation order (scalar / tensor is reciprocal * scalar)."""
    if decay != 1:
        d *= d.dtype.type(decay)
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    lerp_(exp_avg, grad, 1 - beta1, buf)
    exp_avg_sq *= d.dtype.type(beta2)
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2, buf)
    np.divide(exp_avg, d.dtype.type(bias_correction1), out=update)
    update *= d.dtype.type(lr)
    if rect is not None:
        np.sqrt(exp_avg_sq, out=buf)
        buf += d.dtype.type(eps)
        np.reciprocal(buf, out=buf)
        buf *= d.dtype.type(bias_correction2 ** 0.5)
        update *= buf
        update *= d.dtype.type(rect)
    d -= update
