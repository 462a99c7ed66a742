"""gradcheck / gradgradcheck: analytical Jacobians against central finite differences."""
import numpy as np


class GradcheckError(RuntimeError):
    pass


def _tensors(x):
    from .._tensor import Tensor
    return [x] if isinstance(x, Tensor) else list(x)


def _differentiable_inputs(inputs):
    from .._tensor import Tensor
    return [i for i in inputs if isinstance(i, Tensor) and i.requires_grad]


def _outputs(func, inputs):
    from .._tensor import Tensor
    out = func(*inputs)
    return [o for o in _tensors(out) if isinstance(o, Tensor) and o._data.dtype.kind in "fc"]


def _numerical_jacobian(func, inputs, diff_inputs, eps):
    from .grad_mode import no_grad
    with no_grad():
        outs0 = _outputs(func, inputs)
    jac = [[np.zeros((x.numel(), o.numel())) for o in outs0] for x in diff_inputs]
    for xi, x in enumerate(diff_inputs):
        flat = x._data.reshape(-1) if x._data.flags.c_contiguous else None
        if flat is None:
            raise GradcheckError("gradcheck expects contiguous differentiable inputs")
        for k in range(flat.size):
            orig = flat[k].item()
            flat[k] = orig + eps
            with no_grad():
                plus = [o._data.astype(np.float64).copy() for o in _outputs(func, inputs)]
            flat[k] = orig - eps
            with no_grad():
                minus = [o._data.astype(np.float64).copy() for o in _outputs(func, inputs)]
            flat[k] = orig
            for oi, (p, m) in enumerate(zip(plus, minus)):
                jac[xi][oi][k] = ((p - m) / (2 * eps)).reshape(-1)
    return jac


def _analytical_jacobian(func, inputs, diff_inputs):
    from . import grad
    from .._tensor import Tensor
    outs = _outputs(func, inputs)
    jac = [[np.zeros((x.numel(), o.numel())) for o in outs] for x in diff_inputs]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for k in range(o.numel()):
            e = np.zeros(o._data.size, o._data.dtype)
            e[k] = 1
            gs = grad(o, diff_inputs, Tensor._make(e.reshape(o._data.shape)), retain_graph=True, allow_unused=True)
            for xi, g in enumerate(gs):
                if g is not None:
                    jac[xi][oi][:, k] = g._data.astype(np.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """True when the analytical and numerical Jacobians of func at inputs agree."""
    inputs = tuple(_tensors(inputs))
    diff = _differentiable_inputs(inputs)
    for x in diff:
        if x._data.dtype != np.float64:
            import warnings
            warnings.warn("Input #0 requires gradient and is not a double precision floating point. This check will "
                          "likely fail if all the inputs are not of double precision floating point. ")
    num = _numerical_jacobian(func, inputs, diff, eps)
    ana = _analytical_jacobian(func, inputs, diff)
    for xi in range(len(diff)):
        for oi in range(len(num[xi])):
            n, a = num[xi][oi], ana[xi][oi]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                msg = (f"Jacobian mismatch for output {oi} with respect to input {xi},\n"
                       f"numerical:{n}\nanalytical:{a}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the function that maps (inputs, grad_outputs) to input gradients."""
    from . import grad
    from .._tensor import Tensor
    inputs = tuple(_tensors(inputs))
    diff = _differentiable_inputs(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._make(rng.standard_normal(o._data.shape).astype(o._data.dtype)).requires_grad_(True)
                        for o in outs]
    grad_outputs = list(_tensors(grad_outputs))
    n_in = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        o = _outputs(func, ins)
        d = _differentiable_inputs(ins)
        gs = grad(o, d, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
