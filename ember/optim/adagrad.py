"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _hyper, _scalar_step, _increment, _check_lr, _check_fused
from ._functional import blockwise, effective_grad, addcmul_, addcdiv_

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group["fused"], initial_accumulator_value)

    @staticmethod
    def _init_state(state, p, fused, initial_accumulator_value):
        """step = 0 and sum = initial_accumulator_value everywhere (eagerly, for every parameter, as in torch)."""
        state["step"] = _scalar_step(fused=fused)
        value = initial_accumulator_value
        state["sum"] = Tensor._make(np.full_like(p._data, complex(value, value) if p.is_complex() else value))

    _group_setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, fused=None)

    def share_memory(self):
        """Move the state sums to shared memory, so processes sharing the optimizer update one accumulator."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def step(self, closure=None):
        """sum += g^2; p <- p - lr/(1 + (t-1) lr_decay) * g / (sqrt(sum) + eps)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay = _hyper(group["lr"]), group["lr_decay"]
            for p, g in self._params_with_grad(group):
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    self._init_state(state, p, group["fused"], self.defaults["initial_accumulator_value"])
                step = _increment(state)
                blockwise(_adagrad_kernel, [d, g, state["sum"]._data], 3, maximize=group["maximize"],
                          weight_decay=group["weight_decay"], eps=group["eps"],
                          clr=lr / (1 + (step - 1) * lr_decay))
                p._bump()
        return loss


def _adagrad_kernel(d, g, state_sum, grad_buf, buf, std, *, maximize, weight_decay, eps, clr):
    """torch's _single_tensor_adagrad (dense) on one block, in its operation order."""
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    addcmul_(state_sum, grad, grad, 1, buf)
    np.sqrt(state_sum, out=std)
    std += d.dtype.type(eps)
    addcdiv_(d, grad, std, -clr, buf)
