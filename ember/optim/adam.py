"""Adam (with amsgrad, maximize, and decoupled weight decay, which makes it AdamW)."""
import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _check_adam_args, _hyper, _scalar_step, _increment, _zeros_state,
                        _check_capturable, _check_fused)
from ._functional import blockwise, effective_grad, lerp_, addcmul_, addcdiv_

__all__ = ["Adam"]


def _check_tensor_hyper(name, value, foreach, capturable):
    if foreach and not capturable:
        raise ValueError(f"{name} as a Tensor is not supported for capturable=False and foreach=True")
    if value.numel() != 1:
        raise ValueError(f"Tensor {name} must be 1-element")


def _check(lr, eps, betas, weight_decay, foreach, capturable):
    if isinstance(lr, Tensor):
        _check_tensor_hyper("lr", lr, foreach, capturable)
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    _check_adam_args(eps, betas, weight_decay)
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for i in (0, 1):
        if isinstance(betas[i], Tensor):
            _check_tensor_hyper(f"betas[{i}]", betas[i], foreach, capturable)


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check(lr, eps, betas, weight_decay, foreach, capturable)
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    _group_setstate_defaults = dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                                    differentiable=False, decoupled_weight_decay=False, fused=None)

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (_hyper(b) for b in group["betas"])
            lr, wd = _hyper(group["lr"]), group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, g in self._params_with_grad(group):
                _check_capturable(group)
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step(fused=group["fused"])
                    state["exp_avg"] = _zeros_state(d)
                    state["exp_avg_sq"] = _zeros_state(d)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = _zeros_state(d)
                step = _increment(state)
                max_sq = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
                blockwise(_adam_kernel, [d, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, max_sq], 3,
                          maximize=group["maximize"], weight_decay=0 if decoupled else wd,
                          decay=1 - lr * wd if decoupled and wd != 0 else 1, beta1=beta1, beta2=beta2,
                          step_size=lr / (1 - beta1 ** step), bias_correction2_sqrt=(1 - beta2 ** step) ** 0.5,
                          eps=group["eps"])
                p._bump()
        return loss


def _adam_kernel(d, g, exp_avg, exp_avg_sq, max_exp_avg_sq, grad_buf, buf, denom, *, maximize, weight_decay, decay,
                 beta1, beta2, step_size, bias_correction2_sqrt, eps):
    """torch's _single_tensor_adam on one block, in its operation order."""
    if decay != 1:
        d *= d.dtype.type(decay)
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    lerp_(exp_avg, grad, 1 - beta1, buf)
    exp_avg_sq *= d.dtype.type(beta2)
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2, buf)
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        np.sqrt(max_exp_avg_sq, out=denom)
    else:
        np.sqrt(exp_avg_sq, out=denom)
    denom /= d.dtype.type(bias_correction2_sqrt)
    denom += d.dtype.type(eps)
    addcdiv_(d, exp_avg, denom, -step_size, buf)
