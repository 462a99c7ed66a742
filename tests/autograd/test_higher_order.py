"""Higher-order gradients against torch: gradient penalty, Hessian-vector products, third derivatives,
and autograd.functional (vjp, jvp, jacobian, hessian, vhp, hvp)."""
import numpy as np
import pytest

from agtools import arr, leaf, run_both, raises_like_torch

X = arr(5, 3)
W1 = arr(3, 4, seed=1) * 0.5
B1 = arr(4, seed=2) * 0.1
W2 = arr(4, 1, seed=3) * 0.5


# ---- create_graph programs --------------------------------------------------------------------------------------
def _gradient_penalty(lib):
    """WGAN-GP: differentiate the norm of the input gradient with respect to the weights."""
    x = leaf(lib, X)
    w1, b1, w2 = leaf(lib, W1), leaf(lib, B1), leaf(lib, W2)
    out = ((x @ w1 + b1).tanh() @ w2).sigmoid()
    (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
    penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    return penalty, w1.grad, b1.grad, w2.grad, x.grad


def _gradient_penalty_float32(lib):
    x = leaf(lib, X.astype("float32"))
    w1 = leaf(lib, W1.astype("float32"))
    out = (x @ w1).tanh().sum()
    (g,) = lib.autograd.grad(out, x, create_graph=True)
    (g.pow(2).sum()).backward()
    return w1.grad, x.grad


def _hvp_double_grad(lib):
    x = leaf(lib, arr(4))
    v = lib.tensor(arr(4, seed=9))
    y = (x.sin() * x.exp()).sum() + (x.unsqueeze(0) * x.unsqueeze(1)).prod(1).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    (hv,) = lib.autograd.grad(g, x, grad_outputs=v)
    return g.detach(), hv


def _hvp_dot_trick(lib):
    x = leaf(lib, arr(3, 3))
    v = lib.tensor(arr(3, 3, seed=4))
    y = (x @ x).tanh().sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    (hv,) = lib.autograd.grad((g * v).sum(), x)
    return hv


def _third_derivatives(lib):
    x = leaf(lib, np.array([0.3, -1.2, 2.0]))
    results = []
    for f in (lambda t: t ** 4, lambda t: t.sin(), lambda t: t.exp() * t, lambda t: t.tanh(),
              lambda t: (t * t + 1).log(), lambda t: t.sigmoid(), lambda t: 1 / (t * t + 2), lambda t: (t + 3).sqrt()):
        g1 = lib.autograd.grad(f(x).sum(), x, create_graph=True)[0]
        g2 = lib.autograd.grad(g1.sum(), x, create_graph=True)[0]
        g3 = lib.autograd.grad(g2.sum(), x)[0]
        results.append((g1.detach(), g2.detach(), g3))
    return results


def _fourth_derivative_backward(lib):
    x = leaf(lib, np.array([0.5, 1.5]))
    g = (x.exp() * x.cos()).sum()
    for _ in range(3):
        (g,) = lib.autograd.grad(g.sum(), x, create_graph=True)
    g.sum().backward()
    return x.grad


def _mixed_partials(lib):
    x = leaf(lib, arr(3))
    y = leaf(lib, arr(3, seed=5))
    f = (x * y.exp() + (x * y).sin()).sum()
    (gx,) = lib.autograd.grad(f, x, create_graph=True)
    (gxy,) = lib.autograd.grad(gx.sum(), y)
    return gxy


def _create_graph_backward_then_grad(lib):
    x = leaf(lib, arr(4))
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    (gg,) = lib.autograd.grad(g.sum(), x)
    return g.detach(), gg, g.requires_grad


def _double_backward_through_reductions_and_shapes(lib):
    x = leaf(lib, arr(2, 3, 4))
    y = x.permute(2, 0, 1).reshape(4, 6).softmax(dim=1)
    z = (y * y.log()).sum(1).mean() + x.max(dim=2).values.pow(2).sum() + x[:, 1:, ::2].abs().sum()
    (g,) = lib.autograd.grad(z, x, create_graph=True)
    (gg,) = lib.autograd.grad((g * g).sum(), x)
    return g.detach(), gg


def _double_backward_broadcast(lib):
    a = leaf(lib, arr(3, 1))
    b = leaf(lib, arr(1, 4, seed=1))
    y = (a * b + a / (b * b + 1)).pow(2).sum()
    ga, gb = lib.autograd.grad(y, (a, b), create_graph=True)
    ha, hb = lib.autograd.grad((ga.sum() + (gb * gb).sum()), (a, b))
    return ga.detach(), gb.detach(), ha, hb


def _grad_of_grad_w_r_t_grad_outputs(lib):
    x = leaf(lib, arr(3))
    v = leaf(lib, arr(3, seed=6))
    (g,) = lib.autograd.grad(x.exp(), x, grad_outputs=v, create_graph=True)
    (gv,) = lib.autograd.grad(g.sum(), v)
    return gv


PROGRAMS = [_gradient_penalty, _gradient_penalty_float32, _hvp_double_grad, _hvp_dot_trick, _third_derivatives,
            _fourth_derivative_backward, _mixed_partials, _create_graph_backward_then_grad,
            _double_backward_through_reductions_and_shapes, _double_backward_broadcast,
            _grad_of_grad_w_r_t_grad_outputs]


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda f: f.__name__.strip("_"))
def test_higher_order_matches_torch(prog):
    run_both(prog)


def test_third_derivatives_match_math():
    import ember
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, requires_grad=True)
    g = x.sin().sum()
    for _ in range(3):
        (g,) = ember.autograd.grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), -np.cos([0.3, -1.2, 2.0]), rtol=1e-12)


# ---- autograd.functional -------------------------------------------------------------------------------------------
def _f_single(t):
    return (t.exp() * t.sin()).reshape(-1)[:4] * 2


def _f_scalar(t):
    return (t.pow(3) * t.cos()).sum()


def _f_multi(a, b):
    return (a @ b).tanh(), (a * a).sum(1)


def _f_two_scalar(a, b):
    return (a.sin() * b.unsqueeze(1)).sum() + b.exp().sum()


A = arr(2, 3)
B = arr(3, 2, seed=1)
V3 = arr(3, seed=7)


def _functional(lib, name, create_graph=False):
    F = lib.autograd.functional
    a, b = lib.tensor(A), lib.tensor(B)
    if name == "jacobian_single":
        return F.jacobian(_f_single, a, create_graph=create_graph)
    if name == "jacobian_multi":
        return F.jacobian(_f_multi, (a, b), create_graph=create_graph)
    if name == "jacobian_vectorize":
        return F.jacobian(_f_multi, (a, b), vectorize=True)
    if name == "jacobian_unused_input":
        return F.jacobian(lambda p, q: p * 2, (a, b))
    if name == "jacobian_constant_output":
        return F.jacobian(lambda p: lib.ones(2, dtype=lib.float64), a)
    if name == "hessian_single":
        return F.hessian(_f_scalar, a, create_graph=create_graph)
    if name == "hessian_multi":
        return F.hessian(_f_two_scalar, (a, lib.tensor(V3[:2])))
    if name == "hessian_linear":
        return F.hessian(lambda p: (p * 3).sum(), a)
    if name == "vjp_single":
        return F.vjp(_f_single, a, lib.tensor(arr(4, seed=3)), create_graph=create_graph)
    if name == "vjp_multi":
        return F.vjp(_f_multi, (a, b), (lib.tensor(arr(2, 2, seed=4)), lib.tensor(arr(2, seed=5))))
    if name == "vjp_scalar_no_v":
        return F.vjp(_f_scalar, a)
    if name == "jvp_single":
        return F.jvp(_f_single, a, lib.tensor(arr(2, 3, seed=6)), create_graph=create_graph)
    if name == "jvp_multi":
        return F.jvp(_f_multi, (a, b), (lib.tensor(arr(2, 3, seed=6)), lib.tensor(arr(3, 2, seed=8))))
    if name == "hvp_single":
        return F.hvp(_f_scalar, a, lib.tensor(arr(2, 3, seed=9)), create_graph=create_graph)
    if name == "hvp_multi":
        return F.hvp(_f_two_scalar, (a, lib.tensor(V3[:2])), (lib.tensor(arr(2, 3, seed=9)), lib.tensor(V3[1:])))
    if name == "vhp_single":
        return F.vhp(_f_scalar, a, lib.tensor(arr(2, 3, seed=9)))
    if name == "vhp_linear":
        return F.vhp(lambda p: (p * 3).sum(), a, lib.tensor(arr(2, 3, seed=9)))
    raise KeyError(name)


FUNCTIONAL = ["jacobian_single", "jacobian_multi", "jacobian_vectorize", "jacobian_unused_input",
              "jacobian_constant_output", "hessian_single", "hessian_multi", "hessian_linear", "vjp_single",
              "vjp_multi", "vjp_scalar_no_v", "jvp_single", "jvp_multi", "hvp_single", "hvp_multi", "vhp_single",
              "vhp_linear"]


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_matches_torch(name):
    run_both(_functional, name)


@pytest.mark.parametrize("name", ["jacobian_single", "hessian_single", "vjp_single", "jvp_single", "hvp_single"])
def test_functional_create_graph_matches_torch(name):
    run_both(_functional, name, True)


def _functional_differentiable_wrt_inputs(lib):
    """With create_graph=True the result stays connected to the caller's inputs."""
    x = leaf(lib, A)
    jac = lib.autograd.functional.jacobian(lambda t: t.sin() * t, x, create_graph=True)
    jac.sum().backward()
    _, hv = lib.autograd.functional.hvp(_f_scalar, x, lib.ones(2, 3, dtype=lib.float64), create_graph=True)
    (gx,) = lib.autograd.grad(hv.sum(), x)
    return x.grad, gx


def test_functional_results_differentiable_with_create_graph():
    run_both(_functional_differentiable_wrt_inputs)


def _strict_independent(lib):
    lib.autograd.functional.jacobian(lambda p, q: p * 2, (lib.tensor(A), lib.tensor(B)), strict=True)


def _strict_linear_hessian(lib):
    lib.autograd.functional.hessian(lambda p: (p * 3).sum(), lib.tensor(A), strict=True)


def _vjp_needs_v(lib):
    lib.autograd.functional.vjp(_f_single, lib.tensor(A))


def _vjp_bad_v_size(lib):
    lib.autograd.functional.vjp(_f_single, lib.tensor(A), lib.ones(3, dtype=lib.float64))


def _hessian_non_scalar(lib):
    lib.autograd.functional.hessian(_f_single, lib.tensor(A))


def _non_tensor_input(lib):
    lib.autograd.functional.jacobian(_f_single, [1.0, 2.0])


FUNCTIONAL_ERRORS = [
    (_strict_independent, "Output 0 of the user-provided function is independent of input 1. This is not allowed in "
                          "strict mode."),
    (_strict_linear_hessian, "jacobian of the user-provided function with respect to input 0 is independent of the "
                             "input"),
    (_vjp_needs_v, "The vector v can only be None if the user-provided function returns a single Tensor with a "
                   "single element."),
    (_vjp_bad_v_size, "v has invalid size: should be torch.Size\\(\\[4\\]\\) but got torch.Size\\(\\[3\\]\\)"),
    (_hessian_non_scalar, "The Tensor returned by the function given to hessian should contain a single element"),
    (_non_tensor_input, "The inputs given to jacobian must be either a Tensor or a tuple of Tensors"),
]


@pytest.mark.parametrize("prog,match", FUNCTIONAL_ERRORS, ids=[f.__name__.strip("_") for f, _ in FUNCTIONAL_ERRORS])
def test_functional_errors_match_torch(prog, match):
    raises_like_torch(prog, match)
