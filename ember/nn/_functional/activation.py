"""Functional activations and softmax family (argument checks, in-place forms, legacy softmax dim)."""
import warnings

import numpy as np

from ..._tensor import Tensor
from ...ops import activation as A
from ...ops import elementwise as E
from ...ops import creation
from ...ops._util import wrap_dim
from ...ops._bits import put
from ...autograd.grad_mode import STATE
from ...autograd.function import run_on, overload, as_node
from ... import random as _random
from ..._dtype import scalar_name


def _apply(fn, input, inplace, *params):
    """fn.apply(input, *params), in place when asked; a plain float Tensor skips Function.apply."""
    if inplace:
        return input._inplace(lambda old: fn.apply(old, *params))
    if type(input) is Tensor and STATE.fast and input._data.dtype.kind == "f":
        if input._data.dtype.char in "fd" and input._data.ndim and issubclass(fn, A._Pointwise):
            return fn.run(input, params)
        return run_on(fn, input, params, input._rg and STATE.enabled)
    return fn.apply(input, *params)


def _elu(input, inplace, alpha, scale, input_scale, bw_input_scale, node="Elu"):
    """elu/selu/celu; the in-place form differentiates from its result, as torch's elu_ does (node 1)."""
    if inplace:
        fn = A.EluResult if node == "Elu" else overload(A.EluResult, node + "Backward1")
        return _apply(fn, input, True, alpha, scale, input_scale, bw_input_scale)
    fn = A.Elu if node == "Elu" else overload(A.Elu, node + "Backward0")
    return _apply(fn, input, False, alpha, scale, input_scale, bw_input_scale)


def relu(input, inplace=False):
    if not inplace and type(input) is Tensor and STATE.fast:
        out = A.relu_fast(input)
        if out is not None:
            return out
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return _apply(A.Relu, input, inplace)


def relu_(input):
    return relu(input, True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input, alpha=1.0, inplace=False):
    return _elu(input, inplace, alpha, 1.0, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    return _elu(input, inplace, A.SELU_ALPHA, A.SELU_SCALE, 1.0, 1.0)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    # PyTorch's CELU backward takes 1/alpha with alpha rounded to float32.
    return _elu(input, inplace, alpha, 1.0, 1.0 / alpha, 1.0 / float(np.float32(alpha)), "Celu")


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    fn = overload(A.LeakyRelu, "LeakyReluBackward1") if inplace else A.LeakyRelu
    return _apply(fn, input, inplace, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _apply(A.Hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def hardsigmoid(input, inplace=False):
    return _apply(A.Hardsigmoid, input, inplace)


def hardswish(input, inplace=False):
    return _apply(A.Hardswish, input, inplace)


def hardshrink(input, lambd=0.5):
    return A.Hardshrink.apply(input, lambd)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        _bad_lambda(input, lambd)
    return A.Softshrink.apply(input, lambd)


def _bad_lambda(input, lambd):
    """softshrink's error for a lambda outside [0, the dtype's max], worded as torch's (C++ %g numbers)."""
    top = float(np.finfo(input._data.dtype).max)
    raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype {scalar_name(input.dtype)}, but found "
                       f"{lambd:g}")


def threshold(input, threshold, value, inplace=False):
    fn = overload(A.Threshold, "ThresholdBackward1") if inplace else A.Threshold
    return _apply(fn, input, inplace, threshold, value)


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, True)


def softsign(input):
    """x / (1 + |x|), fused for float input (shown as the division PyTorch's composite form ends with); other dtypes
    take the composite itself, for torch's promotion (integers give floats) and complex arithmetic."""
    if input._data.dtype.kind != "f":
        return input / (input.abs() + 1)
    return as_node(A.Softsign.apply(input), "DivBackward0")


def tanhshrink(input):
    """x - tanh(x), fused for float input (shown as the subtraction PyTorch's composite form ends with); other dtypes
    take the composite itself, as softsign."""
    if input._data.dtype.kind != "f":
        return input - input.tanh()
    return as_node(A.Tanhshrink.apply(input), "SubBackward0")


def silu(input, inplace=False):
    if input._data.dtype.kind != "f":
        return _complex_silu(input, inplace)
    return _apply(A.Silu, input, inplace)


def _complex_silu(input, inplace):
    """x / (1 + exp(-x)) of complex input, which torch computes but does not differentiate; other dtypes raise."""
    if input._data.dtype.kind != "c":
        _not_implemented("silu_cpu", input)
    if STATE.enabled and input.requires_grad:
        raise RuntimeError("silu does not support automatic differentiation for outputs with complex dtype.")
    out = input / (E.exp(-input) + 1)
    return input.copy_(out) if inplace else out


def mish(input, inplace=False):
    if input._data.dtype.kind != "f":
        _not_implemented("mish_cpu", input)
    return _apply(A.Mish, input, inplace)


def _not_implemented(kernel, input):
    """torch's error for a dtype its CPU kernel is not compiled for."""
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_name(input.dtype)}'")


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return A.Gelu.apply(input, approximate)


def softplus(input, beta=1.0, threshold=20.0):
    return _apply(A.Softplus, input, False, beta, threshold)


def logsigmoid(input):
    return A.LogSigmoid.apply(input)


def sigmoid(input):
    return E.sigmoid(input)


def tanh(input):
    return E.tanh(input)


def prelu(input, weight):
    if weight.numel() != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() >= 2 else 1
        if weight.numel() != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {channels}.")
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    return A.Prelu.apply(input, weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    node = "RreluWithNoiseBackward1" if inplace else "RreluWithNoiseBackward0"
    if not training:
        return _apply(overload(A.LeakyRelu, node), input, inplace, (lower + upper) / 2)
    noise = _random.rng(None).uniform(lower, upper, input.shape).astype(input._data.dtype)
    put(noise, 1, input._data >= 0)
    return _apply(overload(A.RreluWithNoise, node), input, inplace, noise)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, input.dim())
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    if STATE.tracing:  # the exporter knows the composite form
        a, b = input.chunk(2, dim)
        return a * E.sigmoid(b)
    return A.Glu.apply(input, dim)


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input, dim, dtype, name):
    if dim is None:
        dim = _get_softmax_dim(name, input.dim(), 4)
    if dtype is not None:
        input = input.to(dtype)
    dim = wrap_dim(dim, input.dim())
    if input._data.dtype.kind not in "fc":
        kernel = "lastdim_kernel_impl" if dim == input.dim() - 1 else "kernel_impl"
        kind = input.type().replace("torch.", "").replace("Tensor", "")
        raise NotImplementedError(f'"{name}_{kernel}" not implemented for \'{kind}\'')
    return input, dim


def _fast_softmax(cls, input, dim, dtype):
    """softmax/log_softmax of a float Tensor over an int dim in range, without argument handling; None for the
    other calls, which take the checked path."""
    if type(input) is Tensor and type(dim) is int and dtype is None and STATE.fast:
        d = input._data
        n = d.ndim
        if d.dtype.kind == "f" and -n <= dim < n:
            return A.recorded_softmax(cls, input, dim % n, input._rg and STATE.enabled)
    return None


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    out = _fast_softmax(A.Softmax, input, dim, dtype)
    if out is not None:
        return out
    x, d = _softmax_input(input, dim, dtype, "softmax")
    return A.Softmax.apply(x, d)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), 3)
    x, d = _softmax_input(-input, dim, dtype, "softmax")
    return A.Softmax.apply(x, d)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    out = _fast_softmax(A.LogSoftmax, input, dim, dtype)
    if out is not None:
        return out
    x, d = _softmax_input(input, dim, dtype, "log_softmax")
    return A.LogSoftmax.apply(x, d)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); hard=True gives the one-hot of its argmax with y_soft's gradient
    (straight-through), as PyTorch writes it."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.")
    gumbels = -E.log(creation.empty_like(logits).exponential_())
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def _bind_tensor_methods():
    """Tensor methods that PyTorch exposes for these functions (x.softmax(1), x.log_softmax(-1), ...)."""
    Tensor.softmax = lambda self, dim=None, dtype=None: softmax(self, dim, dtype=dtype)
    Tensor.log_softmax = lambda self, dim=None, dtype=None: log_softmax(self, dim, dtype=dtype)
    Tensor.relu = lambda self: relu(self)
    Tensor.relu_ = lambda self: relu(self, inplace=True)
    Tensor.hardshrink = lambda self, lambd=0.5: hardshrink(self, lambd)
    Tensor.prelu = lambda self, weight: prelu(self, weight)


_bind_tensor_methods()
