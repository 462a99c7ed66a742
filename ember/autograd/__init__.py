"""torch.autograd: backward, grad, Function, grad modes, Variable, gradcheck, anomaly detection."""
import numpy as np

from .grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, \
    is_inference_mode_enabled
from .function import Function, InplaceFunction, NestedIOFunction, once_differentiable
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from . import engine, function, grad_mode, graph
from .variable import Variable
from .gradcheck import gradcheck, gradgradcheck
from . import functional, forward_ad


def _tensor_cls():
    from .._tensor import Tensor
    return Tensor


def _make_grads(outputs, grad_outputs):
    """Check user-given output gradients; create ones for scalar outputs given None (as torch._make_grads)."""
    Tensor = _tensor_cls()
    out = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(g, Tensor):
            if g._data.shape != o._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has "
                                   f"a shape of {o.shape}.")
            if (g._data.dtype.kind == "c") != (o._data.dtype.kind == "c"):
                raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the same "
                                   f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                                   f"output[{i}] has a dtype of {o.dtype}.")
            if g._data.dtype != o._data.dtype:
                g = g.to(o.dtype)
        elif g is None:
            if o._rg:
                if o._data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if o._data.dtype.kind != "f":
                    raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                       f"{o.dtype}")
                g = Tensor._make(np.ones(o._data.shape, o._data.dtype))
        else:
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        out.append(g)
    return out


def _as_list(x):
    Tensor = _tensor_cls()
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    if type(x) is dict:
        return list(x.values())
    return list(x)


def _check_roots(tensors, grads):
    """The engine's checks on the roots: one gradient per root, and every root requires grad."""
    if len(tensors) != len(grads):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    for i, t in enumerate(tensors):
        if not t._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate gradients of `tensors` into the .grad of the leaves (or of `inputs`)."""
    if grad_variables is not None:
        import warnings
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("`grad_tensors` and `grad_variables` (deprecated) arguments both passed to "
                               "`backward()`. Please only use `grad_tensors`.")
        grad_tensors = grad_variables
    tensors = _as_list(tensors)
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    grads = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(tensors)
    grads = _make_grads(tensors, grads)
    if retain_graph is None:
        retain_graph = create_graph
    _check_roots(tensors, grads)
    if inputs is None:
        engine.run_backward(tensors, grads, retain_graph, create_graph)
        return
    for t in inputs:
        if not t._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    captured = engine.run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=False)
    for t, g in zip(inputs, captured):
        if g is not None:
            engine.accumulate_grad(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of outputs with respect to inputs, returned rather than accumulated."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if not only_inputs:
        import warnings
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.", FutureWarning,
                      stacklevel=2)
    if is_grads_batched:
        raise NotImplementedError("ember does not implement autograd.grad(is_grads_batched=True)")
    Tensor = _tensor_cls()
    outputs = _as_list(outputs)
    input_list = _as_list(inputs)
    if not input_list:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grads = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    grads = _make_grads(outputs, grads)
    if retain_graph is None:
        retain_graph = create_graph
    _check_roots(outputs, grads)
    for t in input_list:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    result = engine.run_backward(outputs, grads, retain_graph, create_graph, inputs=input_list, accumulate=False)
    out = []
    for i, (t, g) in enumerate(zip(input_list, result)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                g = Tensor._make(np.zeros(t._data.shape, t._data.dtype), bool(create_graph))
        out.append(g)
    if type(inputs) is dict:
        return dict(zip(inputs.keys(), out))
    return tuple(out)
