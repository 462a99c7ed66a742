"""gradcheck / gradgradcheck: analytical Jacobians (reverse mode) against central finite differences.

Finite differences need one function evaluation per input element, so the loop over elements here is
inherent; gradcheck is a testing tool for small inputs, as in PyTorch.
"""
import warnings

import numpy as np
from .function import _tensor_cls


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when the analytical and numerical gradients disagree."""


def _as_tuple(x):
    Tensor = _tensor_cls()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable_outputs(out):
    Tensor = _tensor_cls()
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o.requires_grad)


def _check_inputs(inputs):
    """At least one input requires grad; warn for non-double inputs; refuse overlapping (stride-0) inputs."""
    Tensor = _tensor_cls()
    any_requires_grad = False
    for idx, inp in enumerate(inputs):
        if isinstance(inp, Tensor) and inp.requires_grad:
            if inp._data.dtype not in (np.float64, np.complex128):
                warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point or "
                              "complex. This check will likely fail if all the inputs are not of double precision "
                              "floating point or complex. ", stacklevel=3)
            if not all(st > 0 or sz <= 1 for st, sz in zip(inp._data.strides, inp._data.shape)):
                raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs "
                                   "that are non-overlapping to be able to compute the numerical gradients correctly. "
                                   "You should call .contiguous on the input before passing it to gradcheck.")
            any_requires_grad = True
    if not any_requires_grad:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _eval_outputs(func, inputs):
    """The Tensor outputs of func as float64 (or complex128) arrays."""
    outs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, _tensor_cls())]
    return [np.array(o._data, dtype=np.complex128 if o._data.dtype.kind == "c" else np.float64) for o in outs]


def _numerical_jacobian(func, inputs, diff_inputs, outputs, output_positions, eps):
    """[input][output] arrays of shape (input numel, output numel) from central differences."""
    jac = [[np.zeros((x.numel(), o.numel())) for o in outputs] for x in diff_inputs]
    for xi, x in enumerate(diff_inputs):
        data = x._data
        for k in range(data.size):
            idx = np.unravel_index(k, data.shape)
            orig = data[idx].item()
            data[idx] = orig + eps
            plus = _eval_outputs(func, inputs)
            data[idx] = orig - eps
            minus = _eval_outputs(func, inputs)
            data[idx] = orig
            for oi, pos in enumerate(output_positions):
                jac[xi][oi][k] = ((plus[pos] - minus[pos]) / (2 * eps)).reshape(-1)
    return jac


def _analytical_jacobian(diff_inputs, outputs):
    """[input][output] arrays of shape (input numel, output numel), one backward pass per output element."""
    from . import grad
    Tensor = _tensor_cls()
    jac = [[np.zeros((x.numel(), o.numel())) for o in outputs] for x in diff_inputs]
    for oi, o in enumerate(outputs):
        for k in range(o.numel()):
            e = np.zeros(o._data.size, o._data.dtype)
            e[k] = 1
            gs = grad(o, diff_inputs, Tensor._make(e.reshape(o._data.shape)), retain_graph=True, allow_unused=True)
            for xi, g in enumerate(gs):
                if g is not None:
                    jac[xi][oi][:, k] = np.asarray(g._data, dtype=np.float64).reshape(-1)
    return jac


def _as_tensor(a):
    return _tensor_cls()._make(a)


def _slow_gradcheck(func, inputs, eps, atol, rtol, nondet_tol):
    """Raise GradcheckError on the first mismatch between analytical and numerical Jacobians."""
    Tensor = _tensor_cls()
    out = _as_tuple(func(*inputs))
    tensor_outs = [o for o in out if isinstance(o, Tensor)]
    outputs = tuple(o for o in tensor_outs if o.requires_grad)
    positions = [i for i, o in enumerate(tensor_outs) if o.requires_grad]
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not outputs:
        num = _numerical_jacobian(func, inputs, diff_inputs, tensor_outs, range(len(tensor_outs)), eps)
        for xi, per_out in enumerate(num):
            for oi, n in enumerate(per_out):
                if not np.allclose(n, 0, rtol=rtol, atol=atol):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    num = _numerical_jacobian(func, inputs, diff_inputs, outputs, positions, eps)
    ana = _analytical_jacobian(diff_inputs, outputs)
    again = _analytical_jacobian(diff_inputs, outputs)
    for xi in range(len(diff_inputs)):
        for oi in range(len(outputs)):
            n, a = num[xi][oi], ana[xi][oi]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(f"Jacobian mismatch for output {oi} with respect to input {xi},\n"
                                     f"numerical:{_as_tensor(n)}\nanalytical:{_as_tensor(a)}\n")
            if not np.all(np.abs(again[xi][oi] - a) <= nondet_tol):
                raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and "
                                     "grad_output multiple times gives different values, although analytical gradient "
                                     f"matches numerical gradient.The tolerance for nondeterminism was {nondet_tol}.")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """True when the analytical and numerical Jacobians of func at inputs agree (else GradcheckError or False)."""
    if check_forward_ad:
        raise NotImplementedError("ember does not implement forward-mode AD (gradcheck check_forward_ad=True)")
    tupled = _as_tuple(inputs)
    _check_inputs(tupled)
    if not check_backward_ad:
        return True
    try:
        _slow_gradcheck(func, tupled, eps, atol, rtol, nondet_tol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the map (inputs, grad_outputs) -> input gradients (computed with create_graph=True)."""
    from . import grad
    Tensor = _tensor_cls()
    if check_fwd_over_rev:
        raise NotImplementedError("ember does not implement forward-mode AD (gradgradcheck check_fwd_over_rev=True)")
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*tupled_inputs))
        rng = np.random.default_rng(0)
        tupled_grad_outputs = tuple(
            Tensor._make(rng.uniform(-1, 1, o._data.shape).astype(o._data.dtype if o._data.dtype.kind in "fc"
                                                                  else np.float64)).requires_grad_(True)
            for o in outputs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_inputs = {i for i, x in enumerate(tupled_inputs) if isinstance(x, Tensor) and x.requires_grad}

    def new_func(*args):
        input_args = args[:-num_outputs] if num_outputs else args
        outs = _differentiable_outputs(func(*input_args))
        gos = args[-num_outputs:] if num_outputs else ()
        d = tuple(x for i, x in enumerate(input_args) if i in diff_inputs)
        gs = grad(outs, d, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
