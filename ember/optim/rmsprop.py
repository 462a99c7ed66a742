"""RMSprop, optionally centered (variance instead of raw second moment) and with momentum."""
import numpy as np

from .optimizer import Optimizer, _hyper, _scalar_step, _increment, _zeros_state, _check_capturable, _check_lr
from ._functional import blockwise, effective_grad, lerp_, addcmul_, addcdiv_, add_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_setstate_defaults = dict(momentum=0, centered=False, foreach=None, maximize=False, differentiable=False,
                                    capturable=False)

    def step(self, closure=None):
        """v <- alpha v + (1-alpha) g^2; p <- p - lr g / (sqrt(v - mean(g)^2 if centered) + eps), or via momentum."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            momentum, centered = group["momentum"], group["centered"]
            for p, g in self._params_with_grad(group):
                _check_capturable(group)
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["square_avg"] = _zeros_state(d)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_state(d)
                    if centered:
                        state["grad_avg"] = _zeros_state(d)
                _increment(state)
                mbuf = state["momentum_buffer"]._data if momentum > 0 else None
                grad_avg = state["grad_avg"]._data if centered else None
                blockwise(_rmsprop_kernel, [d, g, state["square_avg"]._data, grad_avg, mbuf], 3,
                          maximize=group["maximize"], weight_decay=group["weight_decay"], alpha=group["alpha"],
                          eps=group["eps"], momentum=momentum, lr=_hyper(group["lr"]))
                p._bump()
        return loss


def _rmsprop_kernel(d, g, square_avg, grad_avg, mbuf, grad_buf, buf, avg, *, maximize, weight_decay, alpha, eps,
                    momentum, lr):
    """torch's _single_tensor_rmsprop on one block, in its operation order."""
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    square_avg *= d.dtype.type(alpha)
    addcmul_(square_avg, grad, grad, 1 - alpha, buf)
    if grad_avg is not None:
        lerp_(grad_avg, grad, 1 - alpha, buf)
        np.multiply(grad_avg, d.dtype.type(-1), out=avg)
        avg *= grad_avg
        avg += square_avg
        np.sqrt(avg, out=avg)
    else:
        np.sqrt(square_avg, out=avg)
    avg += d.dtype.type(eps)
    if mbuf is not None:
        mbuf *= d.dtype.type(momentum)
        addcdiv_(mbuf, grad, avg, 1, buf)
        add_(d, mbuf, -lr, buf)
    else:
        addcdiv_(d, grad, avg, -lr, buf)
