"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule (the `mu_product` state)."""
import numpy as np

from .optimizer import (Optimizer, _check_adam_args, _hyper, _scalar_step, _increment, _zeros_state,
                        _check_capturable, _check_lr)
from ._functional import blockwise, effective_grad, lerp_, addcmul_, addcdiv_

__all__ = ["NAdam"]


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_lr(lr)
        _check_adam_args(eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_setstate_defaults = dict(maximize=False, foreach=None, capturable=False, differentiable=False,
                                    decoupled_weight_decay=False)

    def step(self, closure=None):
        """Adam moments; the update mixes g and m with the scheduled momenta mu_t, mu_{t+1} (product kept in state)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd, momentum_decay = _hyper(group["lr"]), group["weight_decay"], group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, g in self._params_with_grad(group):
                _check_capturable(group, "params, mu_products and state_steps")
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["mu_product"] = _scalar_step(1.0)
                    state["exp_avg"] = _zeros_state(d)
                    state["exp_avg_sq"] = _zeros_state(d)
                step = _increment(state)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product = state["mu_product"]._data
                mu_product *= mu
                mu_product = float(mu_product)
                blockwise(_nadam_kernel, [d, g, state["exp_avg"]._data, state["exp_avg_sq"]._data], 3,
                          maximize=group["maximize"], weight_decay=0 if decoupled else wd,
                          decay=1 - lr * wd if decoupled and wd != 0 else 1, beta1=beta1, beta2=beta2,
                          bias_correction2=1 - beta2 ** step, eps=group["eps"],
                          grad_coef=-lr * (1.0 - mu) / (1.0 - mu_product),
                          avg_coef=(-lr * mu_next) / (1.0 - mu_product * mu_next))
                p._bump()
        return loss


def _nadam_kernel(d, g, exp_avg, exp_avg_sq, grad_buf, buf, denom, *, maximize, weight_decay, decay, beta1, beta2,
                  bias_correction2, eps, grad_coef, avg_coef):
    """torch's _single_tensor_nadam on one block, in its operation order."""
    if decay != 1:
        d *= d.dtype.type(decay)
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    lerp_(exp_avg, grad, 1 - beta1, buf)
    exp_avg_sq *= d.dtype.type(beta2)
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2, buf)
    np.divide(exp_avg_sq, d.dtype.type(bias_correction2), out=denom)
    np.sqrt(denom, out=denom)
    denom += d.dtype.type(eps)
    addcdiv_(d, grad, denom, grad_coef, buf)
    addcdiv_(d, exp_avg, denom, avg_coef, buf)
