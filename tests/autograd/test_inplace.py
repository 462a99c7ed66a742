"""In-place operations and autograd against torch: errors, gradients through in-place chains and views, _version."""
import numpy as np
import pytest

from agtools import arr, leaf, run_both, raises_like_torch

X = arr(3, 4)
G = arr(3, 4, seed=2)


# ---- errors ----------------------------------------------------------------------------------------------------------
def _leaf_ops(lib):
    x = leaf(lib, X)
    return x


LEAF_INPLACE = {
    "add_": lambda x, lib: x.add_(1),
    "mul_": lambda x, lib: x.mul_(2),
    "clamp_": lambda x, lib: x.clamp_(0, 1),
    "relu_": lambda x, lib: x.relu_(),
    "iadd": lambda x, lib: x.__iadd__(1),
    "imul_tensor": lambda x, lib: x.__imul__(lib.tensor(G)),
    "zero_": lambda x, lib: x.zero_(),
    "fill_": lambda x, lib: x.fill_(3.0),
    "copy_": lambda x, lib: x.copy_(lib.tensor(G)),
    "setitem": lambda x, lib: x.__setitem__(0, 1.0),
    "sigmoid_": lambda x, lib: x.sigmoid_(),
}


@pytest.mark.parametrize("op", list(LEAF_INPLACE))
def test_inplace_on_leaf_requiring_grad_raises_like_torch(op):
    raises_like_torch(lambda lib: LEAF_INPLACE[op](leaf(lib, X), lib),
                      "a leaf Variable that requires grad is being used in an in-place operation")


@pytest.mark.parametrize("op", ["add_", "mul_", "clamp_", "iadd", "setitem"])
def test_inplace_on_view_of_leaf_raises_like_torch(op):
    raises_like_torch(lambda lib: LEAF_INPLACE[op](leaf(lib, X)[1:], lib),
                      "a view of a leaf Variable that requires grad is being used in an in-place operation")


def _saved_output_sigmoid(lib):
    x = leaf(lib, X)
    y = x.sigmoid()
    y.add_(1)
    y.sum().backward()


def _saved_output_exp(lib):
    x = leaf(lib, X)
    y = x.exp()
    y.mul_(2)
    (y * 3).sum().backward()


def _saved_output_tanh_float32(lib):
    x = leaf(lib, X.astype("float32"))
    y = x.tanh()
    y += 1
    y.sum().backward()


def _saved_input_modified(lib):
    x = leaf(lib, X)
    h = x * 1
    z = h.sin()
    h.add_(1)
    z.sum().backward()


def _saved_constant_modified(lib):
    x = leaf(lib, X)
    w = lib.tensor(G)
    z = x * w
    w.add_(1)
    z.sum().backward()


def _saved_modified_through_view(lib):
    x = leaf(lib, X)
    h = x * 1
    z = h.cos()
    h[0].mul_(2)
    z.sum().backward()


def _saved_modified_via_detach(lib):
    x = leaf(lib, X)
    y = x.exp()
    y.detach().zero_()
    y.sum().backward()


def _self_referential(lib):
    x = leaf(lib, X)
    h = x.sin()
    h.mul_(h)
    h.add_(h)
    h.backward(lib.tensor(G))


def _saved_output_then_inplace_chain(lib):
    x = leaf(lib, X)
    h = x * 1
    h.relu_()
    h.sub_(0.25)
    h.sum().backward()


def _saved_modified_twice(lib):
    x = leaf(lib, X)
    y = x.sigmoid()
    y.mul_(1)
    y.mul_(1)
    y.sum().backward()


SAVED_ERRORS = [
    (_saved_output_sigmoid, r"one of the variables needed for gradient computation has been modified by an inplace "
                            r"operation: \[torch.DoubleTensor \[3, 4\]\], which is output 0 of Sigmoid, is at "
                            r"version 1; expected version 0 instead. Hint: enable anomaly detection"),
    (_saved_output_exp, r"\[torch.DoubleTensor \[3, 4\]\], which is output 0 of Exp, is at version 1; expected "
                        r"version 0 instead"),
    (_saved_output_tanh_float32, r"\[torch.FloatTensor \[3, 4\]\], which is output 0 of Tanh, is at version 1; "
                                 r"expected version 0 instead"),
    (_saved_input_modified, r"\[torch.DoubleTensor \[3, 4\]\], which is output 0 of Add, is at version 1; expected "
                            r"version 0 instead"),
    (_saved_constant_modified, r"modified by an inplace operation: \[torch.DoubleTensor \[3, 4\]\] is at version 1; "
                               r"expected version 0 instead"),
    (_saved_modified_through_view, r"modified by an inplace operation: \[torch.DoubleTensor \[3, 4\]\], which is "
                                   r"output 0 of .*, is at version 1; expected version 0 instead"),
    (_saved_modified_via_detach, r"which is output 0 of Exp, is at version 1; expected version 0 instead"),
    (_saved_modified_twice, r"which is output 0 of Sigmoid, is at version 2; expected version 0 instead"),
    (_self_referential, r"which is output 0 of Add, is at version 2; expected version 0 instead"),
    (_saved_output_then_inplace_chain, r"which is output 0 of Relu, is at version 2; expected version 1 instead"),
]


@pytest.mark.parametrize("prog,match", SAVED_ERRORS, ids=[f.__name__.strip("_") for f, _ in SAVED_ERRORS])
def test_saved_tensor_modified_raises_like_torch(prog, match):
    raises_like_torch(prog, match)


def test_saved_tensor_error_hint_under_anomaly_mode():
    import warnings

    def prog(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                _saved_output_sigmoid(lib)

    raises_like_torch(prog, "Hint: the backtrace further above shows the operation that failed to compute its "
                            "gradient. The variable in question was changed in there or anywhere later. Good luck!")


# ---- gradients through in-place ops on non-leaves ------------------------------------------------------------------
def _chain(lib):
    x = leaf(lib, X)
    h = x * 1
    h.add_(2)
    h.mul_(x)
    h.clamp_(-1.5, 4.0)
    h.sub_(0.25)
    h.div_(lib.tensor(G).abs() + 1)
    h.relu_()
    h.backward(lib.tensor(G))
    return h, x.grad, h.grad_fn.name()


def _augmented_assignment(lib):
    x = leaf(lib, X)
    w = leaf(lib, G)
    h = x * 2
    h += w
    h *= x
    h -= 1
    h /= 2
    h **= 2
    h.sum().backward()
    return h, x.grad, w.grad


def _unary_inplace(lib):
    x = leaf(lib, X)
    h = x * 0.5
    h.neg_()
    h.abs_()
    h.add_(0.1)
    h.sin_()
    h.cos_()
    h.sqrt_()
    h.backward(lib.tensor(G))
    return h, x.grad


def _inplace_keeps_other_branches(lib):
    x = leaf(lib, X)
    h = x * 2
    a = h.exp()
    h.add_(1)
    b = h * 3
    (a + b).sum().backward()
    return x.grad


def _inplace_with_broadcast_operand(lib):
    x = leaf(lib, X)
    r = leaf(lib, arr(4, seed=5))
    h = x * 1
    h.add_(r)
    h.mul_(r)
    h.backward(lib.tensor(G))
    return x.grad, r.grad


def _inplace_on_tensor_not_requiring_grad(lib):
    x = leaf(lib, X)
    buf = lib.zeros(3, 4, dtype=lib.float64)
    buf.add_(x)
    buf.mul_(x)
    buf.sum().backward()
    return buf.requires_grad, buf.is_leaf, x.grad


def _copy_into_buffer(lib):
    x = leaf(lib, X)
    buf = lib.zeros(3, 4, dtype=lib.float64)
    buf.copy_(x.exp())
    (buf * 2).sum().backward()
    return buf, x.grad


def _inplace_in_no_grad_then_backward(lib):
    x = leaf(lib, X)
    h = x * 2
    y = h + 3
    with lib.no_grad():
        h.add_(1)
    y.sum().backward()
    return h, x.grad


def _inplace_float32(lib):
    x = leaf(lib, X.astype("float32"))
    h = x * 1
    h.mul_(3).add_(1).clamp_(min=0)
    h.backward(lib.tensor(G.astype("float32")))
    return h, x.grad


CHAIN_CASES = [_chain, _augmented_assignment, _unary_inplace, _inplace_keeps_other_branches,
               _inplace_with_broadcast_operand, _inplace_on_tensor_not_requiring_grad, _copy_into_buffer,
               _inplace_in_no_grad_then_backward, _inplace_float32]


@pytest.mark.parametrize("prog", CHAIN_CASES, ids=lambda f: f.__name__.strip("_"))
def test_inplace_gradients_match_torch(prog):
    run_both(prog)


# ---- in-place on views of non-leaves --------------------------------------------------------------------------------
def _view_row_mul(lib):
    x = leaf(lib, X)
    h = x * 1
    h[0].mul_(2)
    (h * h).backward(lib.tensor(G))
    return h, x.grad


def _view_column_iadd(lib):
    x = leaf(lib, X)
    w = leaf(lib, arr(3, seed=4))
    h = x * 2
    col = h[:, 1]
    col += w
    h.backward(lib.tensor(G))
    return h, x.grad, w.grad


def _view_of_view(lib):
    x = leaf(lib, X)
    h = x * 2
    v = h.view(12)[3:9].view(2, 3)
    v.clamp_(-1, 1)
    (h.sin()).backward(lib.tensor(G))
    return h, x.grad


def _transposed_view(lib):
    x = leaf(lib, X)
    h = x * 1
    h.t().mul_(lib.tensor(arr(4, 3, seed=6)))
    h.backward(lib.tensor(G))
    return h, x.grad


def _view_then_use_view(lib):
    x = leaf(lib, X)
    h = x * 1
    v = h[1:]
    v.mul_(3)
    (v * v).sum().backward()
    return v, x.grad


def _sibling_view_sees_change(lib):
    x = leaf(lib, X)
    h = x * 1
    v1 = h[0]
    v2 = h[0]
    other = h[:, 1]
    v1.mul_(2)
    (v2.sum() + (other * other).sum()).backward()
    return x.grad


def _base_inplace_then_old_view(lib):
    x = leaf(lib, X)
    h = x * 1
    v = h[1:]
    h.mul_(3)
    (v * v).sum().backward()
    return v, x.grad


def _setitem_on_non_leaf(lib):
    x = leaf(lib, X)
    w = leaf(lib, arr(4, seed=8))
    h = x * 2
    h[1] = w * 3
    h[:, 0] = 0.0
    h.backward(lib.tensor(G))
    return h, x.grad, w.grad


def _view_inplace_requires_grad_on_buffer(lib):
    x = leaf(lib, arr(4))
    buf = lib.zeros(3, 4, dtype=lib.float64)
    row = buf[1]
    row.copy_(x)
    (buf * buf).sum().backward()
    return buf.requires_grad, row.requires_grad, x.grad


VIEW_CASES = [_view_row_mul, _view_column_iadd, _view_of_view, _transposed_view, _view_then_use_view,
              _sibling_view_sees_change, _base_inplace_then_old_view, _setitem_on_non_leaf,
              _view_inplace_requires_grad_on_buffer]


@pytest.mark.parametrize("prog", VIEW_CASES, ids=lambda f: f.__name__.strip("_"))
def test_inplace_on_views_matches_torch(prog):
    run_both(prog)


def test_view_created_in_no_grad_then_modified_raises_like_torch():
    def prog(lib):
        h = leaf(lib, X) * 1
        with lib.no_grad():
            v = h[0]
        v.mul_(2)

    raises_like_torch(prog, "A view was created in no_grad mode and is being modified inplace with grad mode enabled")


@pytest.mark.parametrize("split, name", [
    (lambda h: h.split(2), "Split"), (lambda h: h.chunk(2, 1), "Split"), (lambda h: h.split([1, 2]), "SplitWithSizes"),
    (lambda h: h.unbind(0), "Unbind"), (lambda h: (h.split(2)[1].view(-1),), "View")])
def test_inplace_on_multi_output_view_raises_like_torch(split, name):
    def prog(lib):
        split(leaf(lib, X) * 1)[0].mul_(2)

    raises_like_torch(prog, f"Output [01] of {name} is a view and is being modified inplace. This view is the output of "
                            "a function that returns multiple views")


def test_inplace_on_multi_output_view_allowed_without_a_graph():
    def prog(lib):
        h = leaf(lib, X) * 1
        with lib.no_grad():
            a, _ = h.split(2)
            a.mul_(2)
        b, _ = lib.tensor(X).split(2)
        b.add_(1)
        return h, b

    run_both(prog)


# ---- version counter ------------------------------------------------------------------------------------------------
def _versions(lib):
    x = lib.zeros(3, 4, dtype=lib.float64)
    out = [x._version]
    x.add_(1)
    out.append(x._version)
    x.mul_(2).sub_(1)
    out.append(x._version)
    x += 1
    out.append(x._version)
    x[0] = 5.0
    out.append(x._version)
    x.zero_()
    out.append(x._version)
    x.fill_(2.0)
    out.append(x._version)
    x.copy_(lib.ones(3, 4))
    out.append(x._version)
    v = x[1:]
    v.mul_(2)
    out.append((x._version, v._version))
    d = x.detach()
    d.add_(1)
    out.append((x._version, d._version))
    y = x + 1
    out.append(y._version)
    x.clamp_(0, 1)
    out.append(x._version)
    return out


def _versions_autograd(lib):
    x = leaf(lib, X)
    out = [x._version]
    h = x * 1
    out.append(h._version)
    h.add_(1)
    h.relu_()
    out.append(h._version)
    with lib.no_grad():
        x.add_(1)
    out.append(x._version)
    view = h.view(12)
    view.mul_(2)
    out.append((h._version, view._version))
    return out


@pytest.mark.parametrize("prog", [_versions, _versions_autograd], ids=["plain", "autograd"])
def test_version_counter_matches_torch(prog):
    run_both(prog)


def test_inplace_returns_self_and_shares_storage():
    def prog(lib):
        x = leaf(lib, X)
        h = x * 1
        ptr = h.data_ptr()
        r = h.mul_(2)
        r2 = h.add_(1)
        return r is h, r2 is h, h.data_ptr() == ptr

    run_both(prog)


def test_numpy_view_sees_inplace_update():
    def prog(lib):
        x = lib.zeros(2, 3, dtype=lib.float64)
        n = x.numpy()
        x.add_(2)
        return float(n.sum())

    run_both(prog)
    assert np.isclose(run_both(prog)[0], 12.0)


# ---- retain_grad and hooks across in-place changes ------------------------------------------------------------------
def _retain_grad_follows_inplace(lib):
    log = []
    x = leaf(lib, np.ones(3))
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: log.append(("before", g.clone())))
    h.mul_(3)
    h.register_hook(lambda g: log.append(("after", g.clone())))
    (h * 5).sum().backward()
    return h.grad, h.retains_grad, log, x.grad


def _retain_grad_base_modified_through_view(lib):
    x = leaf(lib, np.ones(3))
    h = x * 2
    h.retain_grad()
    h[1:].mul_(3)
    (h * 5).sum().backward()
    return h.grad, x.grad


def _retain_grad_custom_mark_dirty(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            t.mul_(2)
            ctx.mark_dirty(t)
            return t

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = leaf(lib, np.ones(3))
    h = x * 1
    h.retain_grad()
    Double.apply(h)
    (h * 7).sum().backward()
    return h.grad, x.grad


@pytest.mark.parametrize("prog", [_retain_grad_follows_inplace, _retain_grad_base_modified_through_view,
                                  _retain_grad_custom_mark_dirty], ids=lambda f: f.__name__.strip("_"))
def test_retain_grad_and_hooks_across_inplace_match_torch(prog):
    run_both(prog)


OVERWRITES = {
    "copy_": lambda lib, h, x, v: h.copy_(x * 3),
    "zero_": lambda lib, h, x, v: h.zero_(),
    "fill_": lambda lib, h, x, v: h.fill_(2.0),
    "fill_tensor": lambda lib, h, x, v: h.fill_(v * 2),
    "fill_const_tensor": lambda lib, h, x, v: h.fill_(lib.tensor(1.5)),
    "copy_broadcast_f32": lambda lib, h, x, v: h.copy_((v * 2).float().expand(1)),
    "copy_row_into_view": lambda lib, h, x, v: h[1:].copy_(v.reshape(1)),
    "fill_view": lambda lib, h, x, v: h[:1].fill_(v),
    "zero_view": lambda lib, h, x, v: h[1:].zero_(),
    "uniform_": lambda lib, h, x, v: h.uniform_(2.0, 2.0),
    "normal_": lambda lib, h, x, v: h.normal_(1.0, 0.0),
    "random_": lambda lib, h, x, v: h.random_(1, 2),
}


def _overwrite_non_finite(lib, op):
    """Overwrite a non-leaf holding inf: the new values are exact, the old ones get a zero gradient (0 * inf = nan)."""
    x = leaf(lib, np.array([1.0, 2.0]))
    v = leaf(lib, np.array(0.5))
    h = x * float("inf")
    OVERWRITES[op](lib, h, x, v)
    h.backward(lib.tensor([0.5, -1.0], dtype=lib.float64))
    return h, x.grad, v.grad, type(h.grad_fn).__name__, h._version


@pytest.mark.parametrize("op", list(OVERWRITES))
def test_overwriting_non_finite_values_matches_torch(op):
    run_both(_overwrite_non_finite, op)


def _node_names_of_copies(lib):
    x = leaf(lib, np.array([1.0, 2.0]))
    h = x * 1
    h.copy_(x)
    return h.grad_fn.name()


def _node_names_of_copy_into_view(lib):
    x = leaf(lib, np.array([1.0, 2.0]))
    h = x * 1
    h[1:].copy_(x[:1])
    return h.grad_fn.name()


@pytest.mark.parametrize("prog", [
    _node_names_of_copies,
    _node_names_of_copy_into_view,
], ids=["copy_", "copy_into_view"])
def test_copy_node_name_matches_torch(prog):
    run_both(prog)


def test_view_of_leaf_created_in_no_grad_then_modified_raises_like_torch():
    def prog(lib):
        x = leaf(lib, X)
        with lib.no_grad():
            v = x[1:]
        v.mul_(2)

    raises_like_torch(prog, "A view was created in no_grad mode and is being modified inplace with grad mode enabled")


# ---- random in-place programs (hypothesis) ------------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

STEPS = ["add_", "mul_", "sub_", "neg_", "clamp_", "mul_w", "iadd_w", "row_mul_", "col_add_", "t_mul_"]


def _apply_step(lib, h, w, step, k):
    """One in-place step on non-leaf h (k picks a constant); w is a leaf of h's shape."""
    c = (k % 5) * 0.5 - 1.0
    if step == "add_":
        h.add_(c)
    elif step == "mul_":
        h.mul_(c + 1.75)
    elif step == "sub_":
        h.sub_(c, alpha=2.0)
    elif step == "neg_":
        h.neg_()
    elif step == "clamp_":
        h.clamp_(min=-1.0 + c, max=1.5)
    elif step == "mul_w":
        h.mul_(w)
    elif step == "iadd_w":
        h += w * c
    elif step == "row_mul_":
        h[k % 3].mul_(c + 2.0)
    elif step == "col_add_":
        h[:, k % 4].add_(w[0, k % 4])
    else:
        h.t().mul_(c + 0.5)


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 20)), min_size=1, max_size=7),
       seed=st.integers(0, 100))
def test_random_inplace_programs_match_torch(steps, seed):
    data, wdata, g = arr(3, 4, seed=seed), arr(3, 4, seed=seed + 1), arr(3, 4, seed=seed + 2)

    def prog(lib):
        x, w = leaf(lib, data), leaf(lib, wdata)
        h = x * 1
        for step, k in steps:
            _apply_step(lib, h, w, step, k)
        h.backward(lib.tensor(g))
        return h, x.grad, w.grad, h._version

    run_both(prog)
