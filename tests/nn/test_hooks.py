"""Module hooks against torch: forward (pre-)hooks, full backward (pre-)hooks, legacy backward hooks, global hooks."""
import warnings

import pytest
import torch

import ember
from .nnparity import arr, same, same_error

X = arr(3, 4)


def snap(gs):
    """A copy of a hook's grad tuple (None entries kept)."""
    return tuple(None if g is None else g.detach().clone() for g in gs)


def mlp(t):
    """Linear -> tanh -> Linear, float64, with deterministic weights."""
    class Tanh(t.nn.Module):
        def forward(self, x):
            return x.tanh()

    m = t.nn.Sequential(t.nn.Linear(4, 5, dtype=t.float64), Tanh(), t.nn.Linear(5, 2, dtype=t.float64))
    with t.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(t.tensor(arr(*p.shape, seed=10 + i)))
    return m


def x_in(t, requires_grad=True):
    return t.tensor(X.copy(), requires_grad=requires_grad)


def upstream(t, shape, seed=3):
    return t.tensor(arr(*shape, seed=seed))


class Scale(object):
    """Factory for a module with two tensor inputs, a non-tensor input and two outputs."""

    @staticmethod
    def make(t):
        class TwoInTwoOut(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = t.nn.Parameter(t.tensor(arr(4, seed=7)))

            def forward(self, a, b, k):
                return a * self.w * k, (a + b).sin()
        return TwoInTwoOut()


# ---- forward pre-hooks and forward hooks ---------------------------------------------------------------------------
def _pre_hook_replaces(t):
    m = t.nn.Linear(4, 2, dtype=t.float64)
    seen = []
    m.register_forward_pre_hook(lambda mod, args: seen.append((type(mod).__name__, len(args))))
    m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # a single value is wrapped in a tuple
    m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    out = m(x_in(t))
    ref = t.nn.functional.linear(x_in(t) * 2 + 1, m.weight, m.bias)
    return seen, out - ref, out.shape


def _pre_hook_kwargs(t):
    class K(t.nn.Module):
        def forward(self, x, *, scale=1.0, shift=0.0):
            return x * scale + shift

    m = K()
    seen = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(sorted(kwargs)) or ((args[0] * 0 + 1,),
                                                                                      {**kwargs, "shift": 5.0}),
                                with_kwargs=True)
    return m(x_in(t), scale=2.0), seen


def _forward_hook_replaces(t):
    m = t.nn.Linear(4, 2, dtype=t.float64)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append((len(args), tuple(out.shape))))
    m.register_forward_hook(lambda mod, args, out: out * 0 + 3)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(sorted(kwargs)) or out + 1, with_kwargs=True)
    return m(x_in(t)), seen


def _order_prepend(t):
    m = t.nn.Identity()
    order = []
    m.register_forward_pre_hook(lambda *a: order.append("pre1"))
    m.register_forward_pre_hook(lambda *a: order.append("pre0"), prepend=True)
    m.register_forward_pre_hook(lambda *a: order.append("pre2"), with_kwargs=True)
    m.register_forward_hook(lambda *a: order.append("hook1"))
    m.register_forward_hook(lambda *a: order.append("hook0"), prepend=True)
    m.register_forward_hook(lambda *a: order.append("hook2"), always_call=True)
    m(t.ones(1))
    return order


def _remove(t):
    m = t.nn.Identity()
    calls = []
    h1 = m.register_forward_pre_hook(lambda *a: calls.append("pre"))
    h2 = m.register_forward_hook(lambda *a: calls.append("hook"), with_kwargs=True, always_call=True)
    m(t.ones(1))
    h1.remove()
    h2.remove()
    h2.remove()  # removing twice is harmless
    m(t.ones(1))
    with m.register_forward_hook(lambda *a: calls.append("ctx")):
        m(t.ones(1))
    m(t.ones(1))
    return calls, len(m._forward_hooks), len(m._forward_hooks_with_kwargs), len(m._forward_hooks_always_called)


def _always_call(t):
    class Boom(t.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    calls = []
    m.register_forward_hook(lambda mod, args, out: calls.append(("normal", out)))
    m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, kw, out: calls.append(("always_kw", sorted(kw))), always_call=True,
                            with_kwargs=True)
    try:
        m(t.ones(1))
    except ValueError as e:
        calls.append(str(e))
    return calls


def _always_call_hook_error_warns(t):
    class Boom(t.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    m.register_forward_hook(lambda *a: 1 / 0, always_call=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            m(t.ones(1))
        except ValueError:
            pass
    return [str(x.message) for x in w]


def _nested_call_order(t):
    m = mlp(t)
    order = []
    for name, sub in m.named_modules():
        sub.register_forward_pre_hook(lambda mod, args, n=name: order.append(("pre", n)))
        sub.register_forward_hook(lambda mod, args, out, n=name: order.append(("post", n)))
    m(x_in(t))
    return order


FORWARD_CASES = [
    ("pre_hook_replaces", _pre_hook_replaces),
    ("pre_hook_kwargs", _pre_hook_kwargs),
    ("forward_hook_replaces", _forward_hook_replaces),
    ("order_prepend", _order_prepend),
    ("remove", _remove),
    ("always_call", _always_call),
    ("always_call_hook_error_warns", _always_call_hook_error_warns),
    ("nested_order", _nested_call_order),
]


@pytest.mark.parametrize("name,fn", FORWARD_CASES, ids=[c[0] for c in FORWARD_CASES])
def test_forward_hooks(name, fn):
    same(fn)


def test_pre_hook_bad_return():
    def fn(t):
        m = t.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
        m(t.ones(1))
    same_error(fn)


# ---- full backward hooks ----------------------------------------------------------------------------------------
def _full_hook_values(t):
    m = mlp(t)
    rec = []
    for name, sub in m.named_modules():
        sub.register_full_backward_pre_hook(lambda mod, go, n=name: rec.append(("pre", n, snap(go))))
        sub.register_full_backward_hook(lambda mod, gi, go, n=name: rec.append(("hook", n, snap(gi), snap(go))))
    x = x_in(t)
    out = m(x)
    out.backward(upstream(t, (3, 2)))
    return rec, x.grad, [p.grad for p in m.parameters()]


def _full_hook_replaces_grad_input(t):
    m = mlp(t)
    m[0].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10,))
    m[2].register_full_backward_hook(lambda mod, gi, go: (gi[0].flip(-1),))
    x = x_in(t)
    m(x).backward(upstream(t, (3, 2)))
    return x.grad, [p.grad for p in m.parameters()]


def _full_pre_hook_replaces_grad_output(t):
    m = mlp(t)
    m[2].register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    m[0].register_full_backward_pre_hook(lambda mod, go: (go[0] + 1,))
    rec = []
    m[0].register_full_backward_hook(lambda mod, gi, go: rec.append(snap(go)))
    x = x_in(t)
    m(x).backward(upstream(t, (3, 2)))
    return x.grad, [p.grad for p in m.parameters()], rec


def _full_hook_multi_io(t):
    m = Scale.make(t)
    rec = []
    m.register_full_backward_pre_hook(lambda mod, go: rec.append(("pre", snap(go))))
    m.register_full_backward_hook(lambda mod, gi, go: rec.append(("hook", snap(gi), snap(go))))
    a = t.tensor(arr(4, seed=1), requires_grad=True)
    b = t.tensor(arr(4, seed=2))
    y1, y2 = m(a, b, 3.0)
    (y1 * upstream(t, (4,))).sum().backward()
    return rec, a.grad, m.w.grad, y1.grad_fn.name(), y2.requires_grad


def _full_hook_two_outputs_used(t):
    m = Scale.make(t)
    rec = []
    m.register_full_backward_hook(lambda mod, gi, go: rec.append((snap(gi), snap(go))))
    a = t.tensor(arr(4, seed=1), requires_grad=True)
    b = t.tensor(arr(4, seed=2), requires_grad=True)
    y1, y2 = m(a, b, 2)
    (y1 * upstream(t, (4,)) + y2 * upstream(t, (4,), seed=4)).sum().backward()
    return rec, a.grad, b.grad


def _full_hook_no_input_grad(t):
    m = mlp(t)
    rec = []
    m[0].register_full_backward_hook(lambda mod, gi, go: rec.append((snap(gi), snap(go))))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m(x_in(t, requires_grad=False)).backward(upstream(t, (3, 2)))
    return rec, [p.grad for p in m.parameters()], [str(x.message)[:60] for x in w]


def _full_hook_removed(t):
    m = mlp(t)
    rec = []
    h = m[0].register_full_backward_hook(lambda mod, gi, go: rec.append("hook"))
    hp = m[0].register_full_backward_pre_hook(lambda mod, go: rec.append("pre"))
    m(x_in(t)).sum().backward()
    h.remove()
    hp.remove()
    m(x_in(t)).sum().backward()
    return rec


def _full_hook_prepend(t):
    m = mlp(t)
    rec = []
    m[0].register_full_backward_hook(lambda *a: rec.append("h1"))
    m[0].register_full_backward_hook(lambda *a: rec.append("h0"), prepend=True)
    m[0].register_full_backward_pre_hook(lambda *a: rec.append("p1"))
    m[0].register_full_backward_pre_hook(lambda *a: rec.append("p0"), prepend=True)
    m(x_in(t)).sum().backward()
    return rec


def _full_hook_no_grad_mode(t):
    m = mlp(t)
    rec = []
    m[0].register_full_backward_hook(lambda *a: rec.append("h"))
    with t.no_grad():
        out = m(x_in(t))
    return rec, out.requires_grad, out


def _full_hook_with_tensor_hook(t):
    """Tensor hooks on the module's output run before the module's backward pre-hook sees grad_output."""
    m = mlp(t)
    rec = []
    m[2].register_full_backward_pre_hook(lambda mod, go: rec.append(("pre", snap(go))))
    out = m(x_in(t))
    out.register_hook(lambda g: g * 3)
    out.backward(upstream(t, (3, 2)))
    return rec, m[0].weight.grad


BACKWARD_CASES = [
    ("values_and_order", _full_hook_values),
    ("replace_grad_input", _full_hook_replaces_grad_input),
    ("pre_hook_replaces_grad_output", _full_pre_hook_replaces_grad_output),
    ("multi_io", _full_hook_multi_io),
    ("two_outputs_used", _full_hook_two_outputs_used),
    ("no_input_grad", _full_hook_no_input_grad),
    ("removed", _full_hook_removed),
    ("prepend", _full_hook_prepend),
    ("no_grad_mode", _full_hook_no_grad_mode),
    ("with_tensor_hook", _full_hook_with_tensor_hook),
]


@pytest.mark.parametrize("name,fn", BACKWARD_CASES, ids=[c[0] for c in BACKWARD_CASES])
def test_full_backward_hooks(name, fn):
    same(fn)


def _wrong_count(t):
    m = mlp(t)
    m[0].register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    m(x_in(t)).sum().backward()


def _pre_wrong_count(t):
    m = mlp(t)
    m[0].register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    m(x_in(t)).sum().backward()


def _mix_full_then_legacy(t):
    m = t.nn.Linear(1, 1)
    m.register_full_backward_hook(lambda *a: None)
    m.register_backward_hook(lambda *a: None)


def _mix_legacy_then_full(t):
    m = t.nn.Linear(1, 1)
    m.register_backward_hook(lambda *a: None)
    m.register_full_backward_hook(lambda *a: None)


def _no_input_grad_returns(t):
    m = mlp(t)
    m[0].register_full_backward_hook(lambda mod, gi, go: (t.ones(3, 4),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m(x_in(t, requires_grad=False)).sum().backward()


BACKWARD_ERRORS = [
    ("wrong_count", _wrong_count),
    ("pre_wrong_count", _pre_wrong_count),
    ("mix_full_then_legacy", _mix_full_then_legacy),
    ("mix_legacy_then_full", _mix_legacy_then_full),
    ("no_input_grad_returns", _no_input_grad_returns),
]


@pytest.mark.parametrize("name,fn", BACKWARD_ERRORS, ids=[c[0] for c in BACKWARD_ERRORS])
def test_backward_hook_errors(name, fn):
    same_error(fn)


# ---- legacy (non-full) backward hooks -----------------------------------------------------------------------------
def _scaled(t):
    class Scaled(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = t.nn.Parameter(t.tensor(arr(3, 4, seed=4)))

        def forward(self, x):
            return x * self.w
    return Scaled()


def _legacy_values(t):
    m = _scaled(t)
    rec = []
    m.register_backward_hook(lambda mod, gi, go: rec.append((snap(gi), snap(go))))
    x = x_in(t)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m(x).backward(upstream(t, (3, 4)))
    return rec, x.grad, [str(i.message)[:50] for i in w]


def _legacy_replaces(t):
    m = _scaled(t)
    m.register_backward_hook(lambda mod, gi, go: (gi[0] * 0 + 1, gi[1]))
    x = x_in(t)
    m(x).backward(upstream(t, (3, 4)))
    return x.grad, m.w.grad


def _legacy_warns_multiple_nodes(t):
    m = mlp(t)
    m[1].register_backward_hook(lambda *a: None)
    m[0].register_backward_hook(lambda *a: None)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m(t.tensor(X.copy()).sin())
    return [(type(i.message).__name__, str(i.message)) for i in w]


def _scaled_exp(t):
    class ScaledExp(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = t.nn.Parameter(t.tensor(arr(3, 4, seed=4)))

        def forward(self, x):
            return (x * self.w).exp()
    return ScaledExp()


def _legacy_single_input_node(t):
    """The last node (exp) has one input: grad_input is its gradient, and a replacement flows on to x and w."""
    m = _scaled_exp(t)
    rec = []
    m.register_backward_hook(lambda mod, gi, go: rec.append((snap(gi), snap(go))))
    m.register_backward_hook(lambda mod, gi, go: (gi[0] * 0 + 1,))
    x = x_in(t)
    m(x).backward(upstream(t, (3, 4)))
    return rec, x.grad, m.w.grad


def _legacy_removed(t):
    m = _scaled_exp(t)
    rec = []
    h = m.register_backward_hook(lambda *a: rec.append(1))
    m(x_in(t)).sum().backward()
    h.remove()
    m(x_in(t)).sum().backward()
    return rec, m._is_full_backward_hook


LEGACY_CASES = [
    ("single_input_node", _legacy_single_input_node),
    ("replaces", _legacy_replaces),
    ("removed", _legacy_removed),
    ("warns", _legacy_warns_multiple_nodes),
    ("values_two_input_node", _legacy_values),
]


@pytest.mark.filterwarnings("ignore:Using a non-full backward hook:FutureWarning")
@pytest.mark.parametrize("name,fn", LEGACY_CASES, ids=[c[0] for c in LEGACY_CASES])
def test_legacy_backward_hook(name, fn):
    same(fn)


# ---- global hooks ---------------------------------------------------------------------------------------------
@pytest.fixture
def clean_globals():
    """Global hooks are process-wide: remove every handle and reset the full/legacy flag afterwards."""
    handles = []
    yield handles
    for h in handles:
        h.remove()
    for lib in (torch, ember):
        lib.nn.modules.module._global_is_full_backward_hook = None


def _global_forward(t, handles):
    mm = t.nn.modules.module
    order = []
    m = mlp(t)
    m[0].register_forward_hook(lambda mod, a, o: order.append("local"))
    handles.append(mm.register_module_forward_pre_hook(lambda mod, a: order.append(("gpre", type(mod).__name__))))
    handles.append(mm.register_module_forward_hook(lambda mod, a, o: order.append(("ghook", type(mod).__name__))))
    handles.append(mm.register_module_forward_hook(lambda mod, a, kw, o: order.append(("gkw", sorted(kw))),
                                                   with_kwargs=True))
    handles.append(mm.register_module_forward_hook(lambda mod, a, o: o * 2 if isinstance(mod, t.nn.Linear) else None))
    out = m(x_in(t))
    for h in handles:
        h.remove()
    out2 = m(x_in(t))
    return order, out, out2


def _global_backward(t, handles):
    mm = t.nn.modules.module
    rec = []
    handles.append(mm.register_module_full_backward_pre_hook(lambda mod, go: rec.append(("gpre", type(mod).__name__,
                                                                                          snap(go)))))
    handles.append(mm.register_module_full_backward_hook(lambda mod, gi, go: rec.append(("ghook", type(mod).__name__,
                                                                                          snap(gi)))))
    m = mlp(t)
    m[0].register_full_backward_hook(lambda mod, gi, go: rec.append("local"))
    m(x_in(t)).backward(upstream(t, (3, 2)))
    for h in handles:
        h.remove()
    return rec


def _global_legacy_backward(t, handles):
    mm = t.nn.modules.module
    rec = []
    handles.append(mm.register_module_backward_hook(lambda mod, gi, go: rec.append((type(mod).__name__, snap(go)))))
    m = _scaled(t)
    m(x_in(t)).backward(upstream(t, (3, 4)))
    return rec


def _global_always_call(t, handles):
    mm = t.nn.modules.module

    class Boom(t.nn.Module):
        def forward(self, x):
            raise KeyError("k")

    rec = []
    handles.append(mm.register_module_forward_hook(lambda mod, a, o: rec.append("always"), always_call=True))
    try:
        Boom()(t.ones(1))
    except KeyError:
        rec.append("raised")
    return rec


def _registration_hooks(t, handles):
    mm = t.nn.modules.module
    rec = []
    handles.append(mm.register_module_parameter_registration_hook(
        lambda mod, name, p: rec.append(("param", name)) or t.nn.Parameter(p.detach() * 0)))
    handles.append(mm.register_module_buffer_registration_hook(lambda mod, name, b: rec.append(("buffer", name))))
    handles.append(mm.register_module_module_registration_hook(lambda mod, name, sub: rec.append(("module", name))))
    m = t.nn.Module()
    m.lin = t.nn.Linear(2, 1)
    m.register_buffer("b", t.ones(1))
    m.b = t.zeros(1)
    m.p = t.nn.Parameter(t.ones(2))
    m.add_module("x", t.nn.Identity())
    return rec, m.p, m.lin.weight.shape


GLOBAL_CASES = [
    ("forward", _global_forward),
    ("backward", _global_backward),
    ("legacy_backward", _global_legacy_backward),
    ("always_call", _global_always_call),
    ("registration", _registration_hooks),
]


@pytest.mark.filterwarnings("ignore:Using a non-full backward hook:FutureWarning")
@pytest.mark.parametrize("name,fn", GLOBAL_CASES, ids=[c[0] for c in GLOBAL_CASES])
def test_global_hooks(name, fn, clean_globals):
    def run(t):
        try:
            return fn(t, clean_globals)
        finally:
            for h in clean_globals:
                h.remove()
    same(run)


def test_global_mixing_raises(clean_globals):
    def fn(t):
        mm = t.nn.modules.module
        clean_globals.append(mm.register_module_full_backward_hook(lambda *a: None))
        mm.register_module_backward_hook(lambda *a: None)
    same_error(fn)
