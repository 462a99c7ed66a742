"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
import numpy as np

from .optimizer import Optimizer, _hyper, _scalar_step, _increment, _zeros_state, _check_capturable, _check_lr
from ._functional import blockwise, effective_grad, addcmul_, add_

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """v <- rho v + (1-rho) g^2; delta = sqrt(u + eps)/sqrt(v + eps) g; u <- rho u + (1-rho) delta^2."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            for p, g in self._params_with_grad(group):
                _check_capturable(group, xla=False)
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["square_avg"] = _zeros_state(d)
                    state["acc_delta"] = _zeros_state(d)
                _increment(state)
                blockwise(_adadelta_kernel, [d, g, state["square_avg"]._data, state["acc_delta"]._data], 3,
                          maximize=group["maximize"], weight_decay=group["weight_decay"], rho=group["rho"],
                          eps=group["eps"], lr=_hyper(group["lr"]))
                p._bump()
        return loss


def _adadelta_kernel(d, g, square_avg, acc_delta, grad_buf, std, delta, *, maximize, weight_decay, rho, eps, lr):
    """torch's _single_tensor_adadelta on one block, in its operation order."""
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    eps = d.dtype.type(eps)
    square_avg *= d.dtype.type(rho)
    addcmul_(square_avg, grad, grad, 1 - rho, std)
    np.sqrt(np.add(square_avg, eps, out=std), out=std)
    np.sqrt(np.add(acc_delta, eps, out=delta), out=delta)
    delta /= std
    delta *= grad
    acc_delta *= d.dtype.type(rho)
    addcmul_(acc_delta, delta, delta, 1 - rho, std)
    add_(d, delta, -lr, delta)
