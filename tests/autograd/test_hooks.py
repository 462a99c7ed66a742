"""Tensor hooks, post-accumulate-grad hooks and grad_fn hooks against torch: values, call order, removal."""
import pytest

from agtools import arr, leaf, run_both, raises_like_torch

X = arr(3, 4)
W = arr(4, 2, seed=1)
G = arr(3, 4, seed=2)


def _logger(log, name, factor=None):
    """A hook that records (name, grad) and optionally scales the grad."""
    def hook(g):
        log.append((name, None if g is None else g.clone()))
        return None if factor is None else g * factor
    return hook


# ---- tensor hooks ----------------------------------------------------------------------------------------------
def _leaf_hook_modifies(lib):
    log = []
    x = leaf(lib, X)
    x.register_hook(_logger(log, "x", 3.0))
    (x.sin() * 2).sum().backward()
    return x.grad, log


def _non_leaf_hook_modifies(lib):
    log = []
    x = leaf(lib, X)
    h = x.exp()
    h.register_hook(_logger(log, "h", -1.0))
    (h * h).sum().backward()
    return x.grad, log


def _hooks_chain_in_registration_order(lib):
    log = []
    x = leaf(lib, X)
    h = x * 3
    h.register_hook(_logger(log, "first", 2.0))
    h.register_hook(_logger(log, "second"))
    h.register_hook(_logger(log, "third", 10.0))
    h.backward(lib.tensor(G))
    return x.grad, log


def _leaf_hooks_chain(lib):
    log = []
    x = leaf(lib, X)
    x.register_hook(_logger(log, "a", 2.0))
    x.register_hook(_logger(log, "b", 0.5))
    x.register_hook(_logger(log, "c"))
    (x * x).sum().backward()
    return x.grad, log


def _handle_remove(lib):
    log = []
    x = leaf(lib, X)
    h = x.tanh()
    keep = h.register_hook(_logger(log, "keep", 2.0))
    gone = h.register_hook(_logger(log, "gone", 100.0))
    gone.remove()
    gone.remove()
    leaf_gone = x.register_hook(_logger(log, "leaf_gone", 7.0))
    leaf_gone.remove()
    h.sum().backward()
    del keep
    return x.grad, log


def _handle_context_manager(lib):
    log = []
    x = leaf(lib, X)
    with x.register_hook(_logger(log, "ctx", 5.0)):
        pass
    (x * 2).sum().backward()
    return x.grad, log


def _leaf_hook_once_on_summed_grad(lib):
    log = []
    x = leaf(lib, X)
    x.register_hook(_logger(log, "x", 1.0))
    (x * x + x.exp() + x.sin() * 3).sum().backward()
    return x.grad, log


def _non_leaf_hook_once_on_summed_grad(lib):
    log = []
    x = leaf(lib, X)
    h = x * 2
    h.register_hook(_logger(log, "h"))
    (h.sin() + h.cos() + h).sum().backward()
    return x.grad, log


def _hook_nonlinear_on_sum(lib):
    x = leaf(lib, X)
    x.register_hook(lambda g: g.clamp(-0.5, 0.5))
    (x * 2 + x.sin()).sum().backward()
    return x.grad


def _hook_called_each_backward(lib):
    log = []
    x = leaf(lib, X)
    h = x.sigmoid()
    h.register_hook(_logger(log, "h"))
    y = (h * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad, log


def _hook_with_create_graph(lib):
    x = leaf(lib, X)
    seen = []
    h = x ** 2
    h.register_hook(lambda g: seen.append(g.requires_grad))
    (g,) = lib.autograd.grad((h * x).sum(), x, create_graph=True)
    return g.detach(), seen


def _hooks_with_autograd_grad(lib):
    log = []
    x, w = leaf(lib, X), leaf(lib, W)
    x.register_hook(_logger(log, "x", 2.0))
    w.register_hook(_logger(log, "w", 2.0))
    h = x @ w
    h.register_hook(_logger(log, "h"))
    (gx,) = lib.autograd.grad(h.tanh().sum(), x)
    return gx, x.grad, w.grad, log


def _hook_receives_none(lib):
    class Drop(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.clone()

        @staticmethod
        def backward(ctx, g):
            return None

    log = []
    x = leaf(lib, X)
    a = x * 2
    a.register_hook(_logger(log, "a"))
    x.register_hook(_logger(log, "x"))
    Drop.apply(a).sum().backward()
    return x.grad, log


def _hook_on_multi_output(lib):
    log = []
    x = leaf(lib, X)
    values, idx = x.max(dim=1)
    values.register_hook(_logger(log, "values", 4.0))
    values.sum().backward()
    return x.grad, log


def _hook_on_view(lib):
    log = []
    x = leaf(lib, X)
    h = x * 1
    v = h[1:, :2]
    v.register_hook(_logger(log, "v", 2.0))
    (v * v).sum().backward()
    return x.grad, log


def _hooks_multiple_roots(lib):
    log = []
    x = leaf(lib, X)
    a = x.exp()
    b = x.cos()
    a.register_hook(_logger(log, "a"))
    b.register_hook(_logger(log, "b"))
    x.register_hook(_logger(log, "x"))
    lib.autograd.backward([a.sum(), b.sum()])
    return x.grad, log


HOOK_CASES = [_leaf_hook_modifies, _non_leaf_hook_modifies, _hooks_chain_in_registration_order, _leaf_hooks_chain,
              _handle_remove, _handle_context_manager, _leaf_hook_once_on_summed_grad,
              _non_leaf_hook_once_on_summed_grad, _hook_nonlinear_on_sum, _hook_called_each_backward,
              _hook_with_create_graph, _hooks_with_autograd_grad, _hook_receives_none, _hook_on_multi_output,
              _hook_on_view, _hooks_multiple_roots]


@pytest.mark.parametrize("prog", HOOK_CASES, ids=lambda f: f.__name__.strip("_"))
def test_tensor_hooks_match_torch(prog):
    run_both(prog)


# ---- order of hooks across a graph --------------------------------------------------------------------------------
def _order_names(lib, build):
    """Run build(lib, tag) which tags tensors with named hooks; return the order the hooks fired in."""
    log = []

    def tag(t, name):
        t.register_hook(lambda g: log.append(name))
        return t

    build(lib, tag)
    return log


def _graph_mlp(lib, tag):
    x = tag(leaf(lib, arr(5, 3)), "x")
    w1 = tag(leaf(lib, arr(3, 4, seed=1)), "w1")
    b1 = tag(leaf(lib, arr(4, seed=2)), "b1")
    w2 = tag(leaf(lib, arr(4, 2, seed=3)), "w2")
    h = tag(x @ w1 + b1, "h")
    a = tag(h.tanh(), "a")
    out = tag(a @ w2, "out")
    tag(out.sum(), "loss").backward()


def _graph_diamond(lib, tag):
    x = tag(leaf(lib, X), "x")
    a = tag(x.sin(), "a")
    b = tag(a * 2, "b")
    c = tag(a.exp(), "c")
    d = tag(x.cos(), "d")
    tag((b * c + d).sum(), "loss").backward()


def _graph_two_leaves_one_op(lib, tag):
    x = tag(leaf(lib, X), "x")
    y = tag(leaf(lib, G), "y")
    z = tag(leaf(lib, X[0]), "z")
    tag((x * y + z).sum(), "loss").backward()


def _graph_reuse(lib, tag):
    x = tag(leaf(lib, X), "x")
    h = tag(x * 2, "h")
    k = tag(h + x, "k")
    m = tag(k * h, "m")
    tag((m + k + x).sum(), "loss").backward()


def _graph_multi_root(lib, tag):
    x = tag(leaf(lib, X), "x")
    w = tag(leaf(lib, X), "w")
    a = tag(x * w, "a")
    b = tag(a.exp(), "b")
    c = tag(x.sin(), "c")
    lib.autograd.backward([tag(c.sum(), "c_sum"), tag(b.sum(), "b_sum")])


ORDER_CASES = [_graph_mlp, _graph_diamond, _graph_two_leaves_one_op, _graph_reuse, _graph_multi_root]


@pytest.mark.parametrize("build", ORDER_CASES, ids=lambda f: f.__name__.strip("_"))
def test_hook_order_across_graph_matches_torch(build):
    run_both(_order_names, build)


def _post_hook_order(lib):
    """Tensor hooks, post-accumulate hooks and node hooks interleaved, in the order torch runs them."""
    log = []
    x = leaf(lib, X)
    w = leaf(lib, arr(4, 4, seed=3))
    x.register_hook(lambda g: log.append("x.hook"))
    x.register_post_accumulate_grad_hook(lambda t: log.append("x.post"))
    w.register_hook(lambda g: log.append("w.hook"))
    w.register_post_accumulate_grad_hook(lambda t: log.append("w.post"))
    h = x @ w
    h.register_hook(lambda g: log.append("h.hook"))
    h.grad_fn.register_prehook(lambda go: log.append("h.prehook"))
    h.grad_fn.register_hook(lambda gi, go: log.append("h.posthook"))
    y = h.relu().sum()
    y.grad_fn.register_prehook(lambda go: log.append("sum.prehook"))
    y.backward()
    return log


def test_post_and_node_hook_order_matches_torch():
    run_both(_post_hook_order)


# ---- post-accumulate-grad hooks -----------------------------------------------------------------------------------
def _post_accumulate_sees_grad(lib):
    seen = []
    x = leaf(lib, X)
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
    (x * x).sum().backward()
    (x * 3).sum().backward()
    return seen, x.grad


def _post_accumulate_optimizer_step(lib):
    """The documented use: update the parameter in the hook and free its grad."""
    x = leaf(lib, X)

    def step(p):
        with lib.no_grad():
            p.sub_(0.1 * p.grad)
        p.grad = None

    x.register_post_accumulate_grad_hook(step)
    for _ in range(3):
        (x.sin() * x).sum().backward()
    return x.detach(), x.grad


def _post_accumulate_once_per_backward(lib):
    count = []
    x = leaf(lib, X)
    x.register_post_accumulate_grad_hook(lambda t: count.append(1))
    (x * x + x.exp() + x).sum().backward()
    return len(count), x.grad


def _post_accumulate_remove(lib):
    count = []
    x = leaf(lib, X)
    h = x.register_post_accumulate_grad_hook(lambda t: count.append(1))
    h.remove()
    (x * 2).sum().backward()
    return len(count)


def _post_accumulate_not_with_autograd_grad(lib):
    count = []
    x = leaf(lib, X)
    x.register_post_accumulate_grad_hook(lambda t: count.append(1))
    lib.autograd.grad((x * 2).sum(), x)
    return len(count), x.grad


def _post_accumulate_with_backward_inputs(lib):
    log = []
    x, w = leaf(lib, X), leaf(lib, arr(4, 4, seed=3))
    x.register_post_accumulate_grad_hook(lambda t: log.append("x"))
    w.register_post_accumulate_grad_hook(lambda t: log.append("w"))
    (x @ w).sum().backward(inputs=[w])
    return log, x.grad, w.grad


POST_CASES = [_post_accumulate_sees_grad, _post_accumulate_optimizer_step, _post_accumulate_once_per_backward,
              _post_accumulate_remove, _post_accumulate_not_with_autograd_grad, _post_accumulate_with_backward_inputs]


@pytest.mark.parametrize("prog", POST_CASES, ids=lambda f: f.__name__.strip("_"))
def test_post_accumulate_grad_hooks_match_torch(prog):
    run_both(prog)


# ---- grad_fn hooks ------------------------------------------------------------------------------------------------
def _node_post_hook_sees_and_modifies(lib):
    log = []
    x, w = leaf(lib, X), leaf(lib, arr(4, 4, seed=3))
    h = x @ w

    def hook(grad_inputs, grad_outputs):
        log.append(("post", [None if g is None else g.clone() for g in grad_inputs], [g.clone() for g in grad_outputs]))
        return grad_inputs[0] * 2, grad_inputs[1]

    h.grad_fn.register_hook(hook)
    h.backward(lib.tensor(G))
    return x.grad, w.grad, log


def _node_pre_hook_modifies(lib):
    log = []
    x = leaf(lib, X)
    h = x.exp()

    def pre(grad_outputs):
        log.append(("pre", [g.clone() for g in grad_outputs]))
        return (grad_outputs[0] * -1,)

    h.grad_fn.register_prehook(pre)
    h.backward(lib.tensor(G))
    return x.grad, log


def _node_hook_with_constant_input(lib):
    log = []
    x = leaf(lib, X)
    h = x * lib.tensor(G)
    h.grad_fn.register_hook(lambda gi, go: log.append([g is None for g in gi]))
    h.sum().backward()
    return x.grad, log


def _node_hooks_removed(lib):
    log = []
    x = leaf(lib, X)
    h = x.exp()
    a = h.grad_fn.register_hook(lambda gi, go: log.append("post"))
    b = h.grad_fn.register_prehook(lambda go: log.append("pre"))
    a.remove()
    b.remove()
    h.sum().backward()
    return log, x.grad


def _tensor_hook_before_node_prehook(lib):
    log = []
    x = leaf(lib, X)
    h = x.exp()
    h.grad_fn.register_prehook(lambda go: log.append(("pre", go[0].clone())))
    h.register_hook(_logger(log, "tensor", 3.0))
    h.sum().backward()
    return log, x.grad


def _custom_function_node_hooks(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    log = []
    x = leaf(lib, X)
    y = Double.apply(x, 2.0)
    y.grad_fn.register_hook(lambda gi, go: log.append(len(gi)))
    y.grad_fn.register_prehook(lambda go: log.append(len(go)))
    y.sum().backward()
    return log, x.grad


NODE_CASES = [_node_post_hook_sees_and_modifies, _node_pre_hook_modifies, _node_hook_with_constant_input,
              _node_hooks_removed, _tensor_hook_before_node_prehook, _custom_function_node_hooks]


@pytest.mark.parametrize("prog", NODE_CASES, ids=lambda f: f.__name__.strip("_"))
def test_node_hooks_match_torch(prog):
    run_both(prog)


# ---- errors --------------------------------------------------------------------------------------------------------
def _hook_on_no_grad(lib):
    lib.tensor(X).register_hook(lambda g: g)


def _post_hook_on_non_leaf(lib):
    (leaf(lib, X) * 2).register_post_accumulate_grad_hook(lambda t: None)


def _post_hook_on_no_grad(lib):
    lib.tensor(X).register_post_accumulate_grad_hook(lambda t: None)


def _hook_changes_size(lib):
    def resize(g):
        return g.sum(0)
    h = leaf(lib, X) * 2
    h.register_hook(resize)
    h.sum().backward()


def _leaf_hook_changes_size(lib):
    def resize(g):
        return g[0]
    x = leaf(lib, X)
    x.register_hook(resize)
    (x * 2).sum().backward()


def _hook_changes_dtype(lib):
    def to_float(g):
        return g.float()
    x = leaf(lib, X)
    x.register_hook(to_float)
    (x * 2).sum().backward()


def _hook_returns_non_tensor(lib):
    x = leaf(lib, X)
    x.register_hook(lambda g: 3)
    (x * 2).sum().backward()


def _node_hook_fills_none(lib):
    x = leaf(lib, X)
    h = x * lib.tensor(G)
    h.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    h.sum().backward()


HOOK_ERRORS = [
    (_hook_on_no_grad, "cannot register a hook on a tensor that doesn't require gradient"),
    (_post_hook_on_non_leaf, "post accumulate grad hooks cannot be registered on non-leaf tensors"),
    (_post_hook_on_no_grad, "cannot register a hook on a tensor that doesn't require gradient"),
    (_hook_changes_size, "hook 'resize' has changed the size of value"),
    (_leaf_hook_changes_size, "hook 'resize' has changed the size of value"),
    (_hook_changes_dtype, "hook 'to_float' has changed the type of value \\(was torch.DoubleTensor got "
                          "torch.FloatTensor\\)"),
    (_hook_returns_non_tensor, "expected Variable, but hook returned 'int'"),
    (_node_hook_fills_none, "can't replace a None gradient with a non-None value"),
]


@pytest.mark.parametrize("prog,match", HOOK_ERRORS, ids=[f.__name__.strip("_") for f, _ in HOOK_ERRORS])
def test_hook_errors_match_torch(prog, match):
    raises_like_torch(prog, match)


# ---- random graphs: the order hooks fire in (hypothesis) -----------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["mul", "add", "sin", "exp"]), st.integers(0, 30), st.integers(0, 30)),
                    min_size=1, max_size=8),
       n_leaves=st.integers(1, 3), roots=st.integers(1, 3))
def test_random_graph_hook_order_matches_torch(ops, n_leaves, roots):
    def prog(lib):
        log = []

        def tag(t, name):
            t.register_hook(lambda g: log.append(name))
            return t

        nodes = [tag(leaf(lib, arr(2, 2, seed=i)), f"leaf{i}") for i in range(n_leaves)]
        for j, (op, a, b) in enumerate(ops):
            x, y = nodes[a % len(nodes)], nodes[b % len(nodes)]
            out = x * y if op == "mul" else x + y if op == "add" else x.sin() if op == "sin" else x.exp()
            nodes.append(tag(out, f"n{j}"))
        outs = [nodes[-1 - k].sum() for k in range(min(roots, len(nodes) - n_leaves))] or [nodes[0].sum()]
        lib.autograd.backward(outs)
        return log, [t.grad for t in nodes[:n_leaves]]

    run_both(prog)
