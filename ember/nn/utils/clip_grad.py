"""Gradient clipping: clip_grad_norm_ (and the deprecated clip_grad_norm), clip_grad_value_, get_total_norm."""
import warnings

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (as one vector)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.asarray(0.0, np.float32))
    arrs = [t._data for t in tensors]
    if norm_type == float("inf"):
        total = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrs)
    else:
        norms = [np.linalg.norm(a.reshape(-1).astype(np.float64), ord=norm_type) if a.size else 0.0 for a in arrs]
        total = float(np.linalg.norm(np.asarray(norms), ord=norm_type))
    total_t = Tensor._make(np.asarray(total, arrs[0].dtype))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return total_t


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale gradients in place by max_norm / (total_norm + 1e-6) when that is below 1."""
    grads = _grads(parameters)
    clip_coef = float(max_norm) / (float(total_norm) + 1e-6)
    if clip_coef < 1:
        with no_grad():
            for g in grads:
                g._data *= g._data.dtype.type(clip_coef)
                g._bump()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradient norm of an iterable of parameters in place; return the total norm."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            np.clip(g._data, -clip_value, clip_value, out=g._data)
            g._bump()
