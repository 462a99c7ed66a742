"""Rprop: per-coordinate step sizes grown/shrunk by the sign agreement of successive gradients."""
import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _hyper, _scalar_step, _increment, _zeros_state, _check_capturable, _check_lr
from ._functional import blockwise

__all__ = ["Rprop"]


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    _group_setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Step sizes *= etaplus/etaminus/1 as sign(g * prev) is +/-/0; p -= sign(g) * step_size (g zeroed on flips)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, g in self._params_with_grad(group):
                _check_capturable(group)
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["prev"] = _zeros_state(d)
                    lr = _hyper(group["lr"])
                    state["step_size"] = Tensor._make(np.full_like(g, complex(lr, lr) if p.is_complex() else lr))
                _increment(state)
                blockwise(_rprop_kernel, [d, g, state["prev"]._data, state["step_size"]._data], 2,
                          maximize=group["maximize"], etaminus=etaminus, etaplus=etaplus,
                          step_size_min=step_size_min, step_size_max=step_size_max)
                p._bump()
        return loss


def _rprop_kernel(d, g, prev, step_size, sign, grad, *, maximize, etaminus, etaplus, step_size_min, step_size_max):
    """torch's _single_tensor_rprop on one block, in its operation order."""
    if maximize:
        np.negative(g, out=grad)
    else:
        np.copyto(grad, g)
    np.sign(np.multiply(grad, prev, out=sign), out=sign)
    flipped = sign < 0
    np.copyto(sign, d.dtype.type(etaplus), where=sign > 0)
    np.copyto(sign, d.dtype.type(etaminus), where=flipped)
    np.copyto(sign, d.dtype.type(1), where=sign == 0)
    step_size *= sign
    np.clip(step_size, step_size_min, step_size_max, out=step_size)
    grad[flipped] = 0
    np.sign(grad, out=sign)
    np.negative(sign, out=sign)
    sign *= step_size
    d += sign
    np.copyto(prev, grad)
