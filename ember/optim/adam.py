"""Adam (with amsgrad, maximize, and decoupled weight decay, which makes it AdamW)."""
import math

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _scalar_step
from ._functional import lerp_, with_weight_decay, scaled

__all__ = ["Adam"]


def _check(lr, eps, betas, weight_decay):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            group.setdefault("decoupled_weight_decay", False)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = float(group["lr"]), group["eps"], group["weight_decay"]
            for p, g, state in self._params_with_grad(group):
                d = p._data
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["exp_avg"] = Tensor._make(np.zeros_like(d))
                    state["exp_avg_sq"] = Tensor._make(np.zeros_like(d))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = Tensor._make(np.zeros_like(d))
                grad = -g if group["maximize"] else g
                state["step"]._data += 1
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        d *= d.dtype.type(1 - lr * wd)
                    else:
                        grad = with_weight_decay(grad, d, wd)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= exp_avg_sq.dtype.type(beta2)
                exp_avg_sq += scaled(1 - beta2, grad * grad)
                step = float(state["step"]._data)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
                step_size = lr / bias_correction1
                if group["amsgrad"]:
                    mx = state["max_exp_avg_sq"]._data
                    np.maximum(mx, exp_avg_sq, out=mx)
                    denom = np.sqrt(mx) / d.dtype.type(bias_correction2_sqrt)
                else:
                    denom = np.sqrt(exp_avg_sq) / d.dtype.type(bias_correction2_sqrt)
                denom += d.dtype.type(eps)
                d += scaled(-step_size, exp_avg / denom)
                p._bump()
        return loss
