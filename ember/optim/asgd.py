"""ASGD: averaged SGD, keeping the running average of the iterates in `ax`."""
import numpy as np

from .optimizer import (Optimizer, _hyper, _scalar_step, _scalar_dtype, _increment, _zeros_state, _check_capturable,
                        _check_lr)
from ._functional import blockwise, effective_grad, add_

__all__ = ["ASGD"]


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    _group_setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """p <- p (1 - lambd eta) - eta g; ax tracks the average of p once step > t0; eta and mu decay with t."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = _hyper(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            for p, g in self._params_with_grad(group):
                _check_capturable(group, "params, mus, etas, and state_steps")
                d, state = p._data, self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step()
                    state["eta"] = _scalar_step(lr)
                    state["mu"] = _scalar_step(1.0)
                    state["ax"] = _zeros_state(d)
                step = _increment(state)
                eta, mu = state["eta"]._data, state["mu"]._data
                blockwise(_asgd_kernel, [d, g, state["ax"]._data], 2, maximize=group["maximize"],
                          weight_decay=group["weight_decay"], lambd=lambd, eta=float(eta), mu=float(mu))
                # as torch.as_tensor(python float): rounded to the default dtype even when loaded state is float64
                eta[...] = _scalar_dtype()(lr / ((1 + lambd * lr * step) ** alpha))
                mu[...] = _scalar_dtype()(1 / max(1, step - t0))
                p._bump()
        return loss


def _asgd_kernel(d, g, ax, grad_buf, buf, *, maximize, weight_decay, lambd, eta, mu):
    """torch's _single_tensor_asgd on one block, in its operation order."""
    grad = effective_grad(g, d, maximize, weight_decay, grad_buf)
    d *= d.dtype.type(1 - lambd * eta)
    add_(d, grad, -eta, buf)
    if mu != 1:
        np.subtract(d, ax, out=buf)
        buf *= d.dtype.type(mu)
        ax += buf
    else:
        np.copyto(ax, d)
