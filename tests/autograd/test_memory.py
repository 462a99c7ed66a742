"""Memory behaviour of the autograd core: training loops keep the number of live objects flat, and graphs are
freed by reference counting alone (no reference cycles), with the garbage collector disabled."""
import gc
import weakref

import numpy as np
import pytest

import ember
from ember.autograd.function import Function


def _live(cls):
    return sum(1 for o in gc.get_objects() if issubclass(type(o), cls))


@pytest.fixture
def no_gc():
    """Run the test with the cyclic garbage collector off: anything freed is freed by reference counting."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _mlp_params(dtype="float32"):
    rng = np.random.default_rng(0)
    shapes = [(8, 16), (16,), (16, 4), (4,)]
    return [ember.tensor(rng.standard_normal(s).astype(dtype) * 0.3, requires_grad=True) for s in shapes]


def _train_step(params, x, target, lr=0.01):
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).tanh()
    out = h @ w2 + b2
    loss = ((out - target) ** 2).mean()
    loss.backward()
    with ember.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
            p.grad = None
    return loss.item()


def test_training_loop_keeps_live_tensor_count_flat(no_gc):
    rng = np.random.default_rng(1)
    params = _mlp_params()
    x = ember.tensor(rng.standard_normal((32, 8)).astype("float32"))
    target = ember.tensor(rng.standard_normal((32, 4)).astype("float32"))
    counts = {}
    losses = []
    nodes_before = _live(Function)
    for step in range(1, 1001):
        losses.append(_train_step(params, x, target))
        if step in (100, 1000):
            counts[step] = (_live(ember.Tensor), _live(Function))
    assert counts[1000] == counts[100], f"live (tensors, nodes) grew: step 100 {counts[100]}, step 1000 {counts[1000]}"
    assert counts[1000][1] == nodes_before, f"{counts[1000][1] - nodes_before} graph nodes still alive between steps"
    assert losses[-1] < losses[0]


def test_zero_grad_in_place_loop_keeps_count_flat(no_gc):
    params = _mlp_params("float64")
    x = ember.tensor(np.random.default_rng(2).standard_normal((16, 8)))
    counts = []
    for step in range(150):
        w1, b1, w2, b2 = params
        loss = (((x @ w1 + b1).tanh() @ w2 + b2).sum())
        loss.backward()
        with ember.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-0.001)
                p.grad.zero_()
        if step in (30, 149):
            counts.append(_live(ember.Tensor))
    assert counts[0] == counts[1]


def test_graph_freed_without_garbage_collector(no_gc):
    w = ember.tensor(np.ones((4, 4)), requires_grad=True)
    x = ember.tensor(np.ones((2, 4)))
    h = (x @ w).tanh()
    v = h[0]
    v.retain_grad()
    loss = (v * h.sum()).sum()
    node = weakref.ref(loss.grad_fn)
    mm = weakref.ref(h.grad_fn.next_functions[0][0])
    view = weakref.ref(v)
    loss.backward()
    del h, v, loss
    assert node() is None and mm() is None and view() is None
    assert w.grad is not None


def test_graph_without_backward_freed_without_garbage_collector(no_gc):
    w = ember.tensor(np.ones((3, 3)), requires_grad=True)
    y = (w.exp() * w).sigmoid()
    node = weakref.ref(y.grad_fn)
    data = weakref.ref(y)
    del y
    assert node() is None and data() is None


def test_custom_function_graph_freed_without_garbage_collector(no_gc):
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x * x
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, g):
            x, out = ctx.saved_tensors
            return 2 * x * g

    w = ember.tensor(np.ones(3), requires_grad=True)
    y = Square.apply(w * 2)
    node = weakref.ref(y.grad_fn)
    out = weakref.ref(y)
    y.sum().backward()
    del y
    assert node() is None and out() is None


def test_backward_releases_saved_tensors():
    x = ember.tensor(np.ones((3, 3)), requires_grad=True)
    y = x.sigmoid()
    z = (y * x).sum()
    node = y.grad_fn
    assert node._saved is not None
    z.backward()
    assert node._saved is None
    z2 = (x.sigmoid() * x).sum()
    kept = z2.grad_fn
    z2.backward(retain_graph=True)
    assert kept.next_functions[0][0]._saved is not None


def test_higher_order_loop_keeps_count_flat(no_gc):
    params = _mlp_params("float64")
    x = ember.tensor(np.random.default_rng(3).standard_normal((8, 8)), requires_grad=True)
    counts = []
    nodes_before = _live(Function)
    for step in range(80):
        w1, b1, w2, b2 = params
        out = ((x @ w1 + b1).tanh() @ w2 + b2).sum()
        (g,) = ember.autograd.grad(out, x, create_graph=True)
        penalty = (g * g).sum()
        penalty.backward()
        for p in params:
            p.grad = None
        x.grad = None
        del out, g, penalty
        if step in (20, 79):
            counts.append((_live(ember.Tensor), _live(Function)))
    assert counts[0] == counts[1]
    assert counts[1][1] == nodes_before


def test_hooks_and_inplace_loop_keeps_count_flat(no_gc):
    w = ember.tensor(np.ones((5, 5)), requires_grad=True)
    w.register_hook(lambda g: g * 0.5)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(1))
    counts = []
    for step in range(100):
        h = w * 1
        h.mul_(2).add_(1)
        h[0].clamp_(max=2.0)
        h.retain_grad()
        h.register_hook(lambda g: g + 1)
        (h * h).sum().backward()
        w.grad = None
        if step in (20, 99):
            counts.append((_live(ember.Tensor), _live(Function)))
    assert counts[0] == counts[1]
    assert len(seen) == 100


def _graph_nodes(t):
    """Every node reachable from t.grad_fn (AccumulateGrad views excluded)."""
    seen, todo = {}, [t.grad_fn]
    while todo:
        n = todo.pop()
        if n is None or id(n) in seen or not hasattr(n, "_edges"):
            continue
        seen[id(n)] = n
        todo.extend(f for f, _ in n.next_functions)
    return list(seen.values())


def test_backward_frees_arrays_and_tensors_held_by_nodes():
    """After backward, no node keeps an ndarray or Tensor (Parameters included) of its forward alive."""
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Conv2d(1, 2, 3), ember.nn.ReLU(), ember.nn.MaxPool2d(2), ember.nn.Flatten(),
                              ember.nn.Dropout(0.5), ember.nn.Linear(8, 3))
    loss = ember.nn.functional.cross_entropy(net(ember.randn(2, 1, 6, 6)), ember.tensor([0, 2]))
    nodes = _graph_nodes(loss)
    held = [(type(n).__name__, k) for n in nodes for k, v in vars(n).items()
            if isinstance(v, (np.ndarray, ember.Tensor))]
    assert held, "the forward should keep arrays or tensors on some node (else this test checks nothing)"
    loss.backward()
    held = [(type(n).__name__, k) for n in nodes for k, v in vars(n).items()
            if isinstance(v, (np.ndarray, ember.Tensor))]
    assert held == []
