"""torch.autograd: backward, grad, Function, grad modes, Variable, gradcheck, anomaly detection."""
import numpy as np

from .grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, \
    is_inference_mode_enabled, set_multithreading_enabled
from .function import Function, FunctionCtx, InplaceFunction, NestedIOFunction, once_differentiable, \
    _tensor_cls
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled, is_anomaly_check_nan_enabled, \
    set_anomaly_enabled
from . import engine, function, grad_mode, graph
from .variable import Variable
from .gradcheck import gradcheck, gradgradcheck
from . import functional, forward_ad, profiler


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


_CYCLE_WARNED = [False]


def _warn_create_graph_cycle():
    """PyTorch's one-time warning that backward(create_graph=True) ties parameters and grads in a cycle."""
    if not _CYCLE_WARNED[0]:
        _CYCLE_WARNED[0] = True
        import warnings
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when creating "
                      "the graph to avoid this. If you have to use this function, make sure to reset the .grad fields "
                      "of your parameters to None after use to break the cycle and avoid the leak.", UserWarning,
                      stacklevel=3)


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
    if create_graph:
        _warn_create_graph_cycle()
    if inputs is None:
        engine.run_backward(tensors, grads, retain_graph, create_graph)
        return
    for t in inputs:
        if t._grad_fn is not None:
            t.retain_grad()
        elif not t._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    engine.run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


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
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                             materialize_grads)
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


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """grad(is_grads_batched=True): one vector-Jacobian product per slice along dim 0 of grad_outputs, stacked."""
    from ..ops.shape import stack
    outputs = _as_list(outputs)
    gos = _as_list(grad_outputs)
    if not gos or any(g is None for g in gos):
        raise RuntimeError("is_grads_batched=True requires a batched Tensor in grad_outputs for every output")
    for i, (o, g) in enumerate(zip(outputs, gos)):
        if g._data.shape[1:] != o._data.shape:
            raise RuntimeError("If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                               "the batch dimension. The sizes of the remaining dimensions are expected to match the "
                               f"shape of corresponding output, but a mismatch was detected: grad_output[{i}] has a "
                               f"shape of {g.shape[1:]} and output[{i}] has a shape of {o.shape}. If you only want "
                               "some tensors in `grad_output` to be considered batched, consider using vmap.")
    n = gos[0]._data.shape[0]
    keep = create_graph if retain_graph is None else retain_graph
    rows = [grad(outputs, inputs, [g[b] for g in gos], retain_graph=True if b < n - 1 else keep,
                 create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
            for b in range(n)]
    per_input = zip(*rows) if isinstance(rows[0], tuple) else zip(*[tuple(r.values()) for r in rows])
    result = tuple(None if any(g is None for g in gs) else stack(list(gs)) for gs in per_input)
    if type(inputs) is dict:
        return dict(zip(inputs.keys(), result))
    return result
