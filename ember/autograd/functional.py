"""autograd.functional: vjp, jacobian, hessian, hvp built on reverse mode."""
import numpy as np


def _tuple(x):
    return (x,) if not isinstance(x, (tuple, list)) else tuple(x)


def _prep(inputs):
    return tuple(i.detach().requires_grad_(True) for i in _tuple(inputs))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    from . import grad
    single = not isinstance(inputs, (tuple, list))
    xs = _prep(inputs)
    out = func(*xs)
    gs = grad(out, xs, v, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    o = out if create_graph else out.detach()
    return o, (gs[0] if single else gs)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    from . import grad
    from .._tensor import Tensor
    single = not isinstance(inputs, (tuple, list))
    xs = _prep(inputs)
    out = func(*xs)
    single_out = not isinstance(out, (tuple, list))
    outs = _tuple(out)
    jac = []
    for o in outs:
        rows = []
        for k in range(o.numel()):
            e = np.zeros(o._data.size, o._data.dtype)
            e[k] = 1
            gs = grad(o, xs, Tensor._make(e.reshape(o._data.shape)), retain_graph=True, create_graph=create_graph,
                      allow_unused=True, materialize_grads=True)
            rows.append(gs)
        per_input = []
        for j, x in enumerate(xs):
            from ..ops.shape import stack
            per_input.append(stack([r[j] for r in rows]).reshape(tuple(o.shape) + tuple(x.shape)) if rows else
                             Tensor._make(np.zeros(tuple(o.shape) + tuple(x.shape), x._data.dtype)))
        jac.append(per_input[0] if single else tuple(per_input))
    return jac[0] if single_out else tuple(jac)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    from . import grad
    single = not isinstance(inputs, (tuple, list))

    def grad_fn(*xs):
        out = func(*xs)
        gs = grad(out, xs, create_graph=True, allow_unused=True, materialize_grads=True)
        return gs[0] if single else gs

    return jacobian(grad_fn, inputs, create_graph=create_graph)


def hvp(func, inputs, v, create_graph=False, strict=False):
    from . import grad
    single = not isinstance(inputs, (tuple, list))
    xs = _prep(inputs)
    out = func(*xs)
    gs = grad(out, xs, create_graph=True, allow_unused=True, materialize_grads=True)
    hv = grad(gs, xs, _tuple(v), create_graph=create_graph, allow_unused=True, materialize_grads=True)
    return out.detach(), (hv[0] if single else hv)


def vhp(func, inputs, v, create_graph=False, strict=False):
    return hvp(func, inputs, v, create_graph, strict)
