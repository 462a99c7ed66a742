"""The per-op fast paths (no graph to record, or a graph recorded through function.record) against torch.

Each case runs three ways: without requires_grad (the no-graph path), with it (the recording path: values,
grad_fn name and gradients), and with it under no_grad. Cases that must leave the fast paths (mixed dtypes,
broadcasting, integer tensors, Parameters, keepdim) sit in the same table.
"""
import numpy as np
import pytest
import torch

import ember
from tests.parity import check, r, ri

F32, F64 = np.float32, np.float64
TARGETS = np.array([0, 3, 1, 2, 3])
IGNORED = np.array([0, -100, 1, 2, -100])

CASES = {
    "add": (lambda t, a, b: a + b, [r(3, 4), r(3, 4, seed=1)]),
    "mul same tensor": (lambda t, a: a * a, [r(3, 4)]),
    "sub": (lambda t, a, b: a - b, [r(3, 4), r(3, 4, seed=1)]),
    "div": (lambda t, a, b: a / b, [r(3, 4), r(3, 4, seed=1) + 3]),
    "add scalar": (lambda t, a: a + 1, [r(3, 4)]),
    "mul float scalar": (lambda t, a: a * 2.5, [r(3, 4)]),
    "rsub scalar": (lambda t, a: 1 - a, [r(3, 4)]),
    "pow scalar": (lambda t, a: a ** 2, [r(3, 4)]),
    "div by int": (lambda t, a: a / 3, [r(3, 4)]),
    "add broadcast": (lambda t, a, b: a + b, [r(3, 4), r(4, seed=1)]),
    "add mixed dtypes": (lambda t, a, b: a + b.double(), [r(3, 4), r(3, 4, seed=1)]),
    "add int tensor": (lambda t, a, b: a + b, [r(3, 4), ri(3, 4)]),
    "add 0-d": (lambda t, a, b: a + b, [r(), r(seed=1)]),
    "exp": (lambda t, a: a.exp(), [r(3, 4)]),
    "tanh": (lambda t, a: t.tanh(a), [r(3, 4)]),
    "sigmoid of view": (lambda t, a: a.t().sigmoid(), [r(3, 4)]),
    "exp 0-d": (lambda t, a: a.exp(), [r()]),
    "matmul": (lambda t, a, b: a @ b, [r(3, 4), r(4, 2, seed=1)]),
    "matmul transposed": (lambda t, a, b: a.t() @ b, [r(4, 3), r(4, 2, seed=1)]),
    "matmul 1-D": (lambda t, a, b: a @ b, [r(3, 4), r(4, seed=1)]),
    "sum": (lambda t, a: a.sum(), [r(3, 4)]),
    "sum keepdim": (lambda t, a: a.sum(None, keepdim=True), [r(3, 4)]),
    "sum 0-d": (lambda t, a: a.sum(), [r()]),
    "sum large": (lambda t, a: (a * 2).sum(), [r(70, 70)]),
    "sum int": (lambda t, a, b: (a + b.sum()).sum(), [r(3), ri(3, 4)]),
    "view": (lambda t, a: a.view(12) * 2, [r(3, 4)]),
    "view inferred": (lambda t, a: a.view(2, -1) * 2, [r(3, 4)]),
    "view of transposed": (lambda t, a: a.t().view(3, 2, 2) * 2, [r(4, 3)]),
    "view of view": (lambda t, a: a.view(12).view(2, 6) * 2, [r(3, 4)]),
    "getitem": (lambda t, a: a[1:] * 2, [r(3, 4)]),
    "t": (lambda t, a: a.t(), [r(3, 4)]),
    "t 1-D": (lambda t, a: a.t(), [r(4)]),
    "t 0-d": (lambda t, a: a.t(), [r()]),
    "transpose": (lambda t, a: a.transpose(0, 2), [r(2, 3, 4)]),
    "transpose negative dims": (lambda t, a: a.transpose(-1, -2), [r(2, 3, 4)]),
    "transpose same dim": (lambda t, a: a.transpose(1, 1), [r(3, 4)]),
    "transpose 0-d": (lambda t, a: a.transpose(0, -1), [r()]),
    "swapaxes": (lambda t, a: a.swapaxes(0, 1), [r(3, 4)]),
    "mT": (lambda t, a: a.mT, [r(2, 3, 4)]),
    "T": (lambda t, a: a.T, [r(3, 4)]),
    "permute": (lambda t, a: a.permute(2, 0, 1), [r(2, 3, 4)]),
    "movedim": (lambda t, a: a.movedim(0, -1), [r(2, 3, 4)]),
    "unsqueeze": (lambda t, a: a.unsqueeze(1), [r(3, 4)]),
    "unsqueeze negative": (lambda t, a: a.unsqueeze(-1), [r(3, 4)]),
    "unsqueeze 0-d": (lambda t, a: a.unsqueeze(0), [r()]),
    "squeeze": (lambda t, a: a.squeeze(), [r(3, 1, 4, 1)]),
    "squeeze nothing": (lambda t, a: a.squeeze(), [r(3, 4)]),
    "squeeze dim": (lambda t, a: a.squeeze(1), [r(3, 1, 4)]),
    "squeeze dims": (lambda t, a: a.squeeze((1, 3)), [r(3, 1, 4, 1)]),
    "reshape": (lambda t, a: a.reshape(2, 6), [r(3, 4)]),
    "reshape same shape": (lambda t, a: a.reshape(3, 4), [r(3, 4)]),
    "reshape list": (lambda t, a: a.reshape([4, -1]), [r(3, 4)]),
    "reshape of transposed (copy)": (lambda t, a: a.t().reshape(12), [r(3, 4)]),
    "flatten": (lambda t, a: a.flatten(), [r(2, 3, 4)]),
    "view_as": (lambda t, a: a.view_as(a), [r(3, 4)]),
    "getitem int": (lambda t, a: a[1], [r(3, 4)]),
    "getitem negative int": (lambda t, a: a[-1], [r(3, 4)]),
    "getitem whole slice": (lambda t, a: a[0:10], [r(3, 4)]),
    "getitem whole slice in tuple": (lambda t, a: a[0:10, :], [r(3, 4)]),
    "getitem ellipsis": (lambda t, a: a[...], [r(3, 4)]),
    "getitem slice then int": (lambda t, a: a[1:3, 0], [r(3, 4)]),
    "getitem int then slice": (lambda t, a: a[0, 1:3], [r(3, 4)]),
    "getitem step": (lambda t, a: a[:, ::2], [r(3, 4)]),
    "getitem None": (lambda t, a: a[None], [r(3, 4)]),
    "getitem slice then None": (lambda t, a: a[1:, None], [r(3, 4)]),
    "getitem ellipsis then int": (lambda t, a: a[..., 1], [r(2, 3, 4)]),
    "getitem two ints": (lambda t, a: a[1, -2], [r(3, 4)]),
    "cumsum": (lambda t, a: a.cumsum(1), [r(3, 4)]),
    "cumsum negative dim": (lambda t, a: t.cumsum(a, -2), [r(3, 4)]),
    "cumsum dtype": (lambda t, a: a.cumsum(0, dtype=t.float64), [r(3, 4)]),
    "tril": (lambda t, a: a.tril(-1), [r(3, 4)]),
    "triu batched": (lambda t, a: a.triu(1), [r(2, 3, 4)]),
    "squeeze dim": (lambda t, a: a.squeeze(1), [r(3, 1, 4)]),
    "squeeze dim not 1": (lambda t, a: a.squeeze(-1), [r(3, 4)]),
    "expand": (lambda t, a: a.expand(2, 3, 4), [r(3, 1)]),
    "expand of transposed": (lambda t, a: a.t().expand(2, 4, 3), [r(3, 4)]),
    "where": (lambda t, a, b: t.where(a > 0, a, b), [r(3, 4), r(3, 4, seed=1)]),
    "where float other": (lambda t, a: t.where(a > 0, a, 0.5), [r(3, 4)]),
    "where broadcast": (lambda t, a, b: t.where(b > 0, a, b), [r(3, 4), r(4, seed=1)]),
    "where mixed dtypes": (lambda t, a, b: t.where(a > 0, a, b.double()), [r(3, 4), r(3, 4, seed=1)]),
    "where int other": (lambda t, a: t.where(a > 0, a, 2), [r(3, 4)]),
    "getitem ellipsis then None": (lambda t, a: a[..., None], [r(3, 4)]),
    "getitem int then None": (lambda t, a: a[0, None], [r(3, 4)]),
    "getitem list": (lambda t, a: a[[0, 2]], [r(3, 4)]),
    "narrow": (lambda t, a: a.narrow(1, 1, 2), [r(3, 4)]),
    "narrow whole dim": (lambda t, a: a.narrow(1, 0, 4), [r(3, 4)]),
    "select": (lambda t, a: a.select(1, 2), [r(3, 4)]),
    "linear": (lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 4), r(3, 4, seed=1), r(3, seed=2)]),
    "linear no bias": (lambda t, x, w: t.nn.functional.linear(x, w), [r(5, 4), r(3, 4, seed=1)]),
    "linear 3-D": (lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(2, 5, 4), r(3, 4, seed=1), r(3, seed=2)]),
    "linear 2-D bias": (lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 4), r(3, 4, seed=1), r(5, 3)]),
    "linear parameter": (lambda t, x, w: t.nn.functional.linear(x, t.nn.Parameter(w)), [r(5, 4), r(3, 4, seed=1)]),
    "pow int scalar": (lambda t, a: a ** 3, [r(3, 4)]),
    "pow negative": (lambda t, a: a ** -1, [r(3, 4) + 4]),
    "pow float scalar": (lambda t, a: a.pow(2.5), [r(3, 4) ** 2]),
    "pow tensor": (lambda t, a, b: a ** b, [r(3, 4) ** 2, r(3, 4, seed=1)]),
    "pow tensor broadcast": (lambda t, a, b: t.pow(a, b), [r(3, 4) ** 2, r(4, seed=1)]),
    "pow mixed dtypes": (lambda t, a, b: a ** b.double(), [r(3, 4) ** 2, r(3, 4, seed=1)]),
    "pow int tensor": (lambda t, a: a ** 2, [ri(3, 4)]),
    "pow number base": (lambda t, a: 2 ** a, [r(3, 4)]),
    "pow number base function": (lambda t, a: t.pow(1.5, a), [r(3, 4)]),
    "pow 0-d tensor exponent": (lambda t, a, b: a ** b, [r(3, 4) ** 2, r(seed=1)]),
    "pow 0-d": (lambda t, a: a ** 3, [r()]),
    "pow parameter": (lambda t, a: t.nn.Parameter(a) ** 2, [r(3, 4)]),
    "softmax": (lambda t, a: t.nn.functional.softmax(a, -1), [r(3, 4)]),
    "softmax dim 0": (lambda t, a: a.softmax(0), [r(3, 4)]),
    "softmax of transposed": (lambda t, a: t.softmax(a.t(), 1), [r(3, 4)]),
    "softmax 0-d": (lambda t, a: t.nn.functional.softmax(a, 0), [r()]),
    "softmax dtype": (lambda t, a: t.nn.functional.softmax(a, 1, dtype=t.float64), [r(3, 4)]),
    "softmax large values": (lambda t, a: t.nn.functional.softmax(a * 100, 1), [r(3, 4)]),
    "log_softmax": (lambda t, a: t.nn.functional.log_softmax(a, 1), [r(3, 4)]),
    "log_softmax 3-D": (lambda t, a: a.log_softmax(-2), [r(2, 3, 4)]),
    "nll_loss": (lambda t, a, y: t.nn.functional.nll_loss(a, y), [r(5, 4), TARGETS]),
    "nll_loss sum": (lambda t, a, y: t.nn.functional.nll_loss(a, y, reduction="sum"), [r(5, 4), TARGETS]),
    "nll_loss none": (lambda t, a, y: t.nn.functional.nll_loss(a, y, reduction="none"), [r(5, 4), TARGETS]),
    "nll_loss ignored": (lambda t, a, y: t.nn.functional.nll_loss(a, y), [r(5, 4), IGNORED]),
    "nll_loss ignore_index a class": (lambda t, a, y: t.nn.functional.nll_loss(a, y, ignore_index=3),
                                      [r(5, 4), TARGETS]),
    "nll_loss weight": (lambda t, a, y: t.nn.functional.nll_loss(a, y, a.detach()[0].abs()), [r(5, 4), TARGETS]),
    "nll_loss 1-D": (lambda t, a, y: t.nn.functional.nll_loss(a, y), [r(4), np.array(2)]),
    "cross_entropy": (lambda t, a, y: t.nn.functional.cross_entropy(a, y), [r(5, 4), TARGETS]),
    "cross_entropy ignored": (lambda t, a, y: t.nn.functional.cross_entropy(a, y), [r(5, 4), IGNORED]),
    "cross_entropy none": (lambda t, a, y: t.nn.functional.cross_entropy(a, y, reduction="none"),
                           [r(5, 4), TARGETS]),
    "max": (lambda t, a: a.max(), [r(3, 4)]),
    "min": (lambda t, a: t.min(a), [r(3, 4)]),
    "max ties": (lambda t, a: a.max(), [np.ones((3, 4))]),
    "max int": (lambda t, a: a.max(), [ri(3, 4)]),
    "max dim": (lambda t, a: a.max(1)[0], [r(3, 4)]),
    "max dim indices": (lambda t, a: a.max(1).indices, [r(3, 4)]),
    "max dim 0 keepdim": (lambda t, a: a.max(0, keepdim=True).values, [r(3, 4)]),
    "min dim negative": (lambda t, a: a.min(-1)[0], [r(3, 4)]),
    "max dim 3-D": (lambda t, a: t.max(a, 1)[0], [r(2, 3, 4)]),
    "max dim 0-d": (lambda t, a: a.max(0)[0], [r()]),
    "max dim nan": (lambda t, a: a.max(1).values, [np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 1.0, 0.0, -1.0]])]),
    "argmax": (lambda t, a: a.argmax(), [r(3, 4)]),
    "argmin dim keepdim": (lambda t, a: a.argmin(1, keepdim=True), [r(3, 4)]),
    "argmax nan": (lambda t, a: a.argmax(1), [np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 1.0, 0.0, -1.0]])]),
    "var": (lambda t, a: a.var(), [r(3, 4)]),
    "var dim": (lambda t, a: a.var(1), [r(3, 4)]),
    "std dim keepdim": (lambda t, a: a.std(0, keepdim=True), [r(3, 4)]),
    "std unbiased false": (lambda t, a: a.std(unbiased=False), [r(3, 4)]),
    "var one element": (lambda t, a: a.var(), [r(1)]),
    "var dim correction 0": (lambda t, a: a.var(1, correction=0), [r(3, 4)]),
    "std dim unbiased false": (lambda t, a: a.std(-1, unbiased=False), [r(3, 4)]),
    "var dim one element": (lambda t, a: a.var(1), [r(3, 1)]),
    "relu": (lambda t, a: t.nn.functional.relu(a), [r(3, 4)]),
    "relu of transposed": (lambda t, a: t.nn.functional.relu(a.t()), [r(3, 4)]),
    "var of transposed": (lambda t, a: a.t().var(0), [r(3, 4)]),
    "max dim of transposed": (lambda t, a: a.t().max(1).values, [r(3, 4)]),
    "max dim keepdim indices": (lambda t, a: a.max(-1, keepdim=True).indices, [r(3, 4)]),
    "cat of transposed": (lambda t, a, b: t.cat([a.t(), b], 1), [r(3, 4), r(4, 2, seed=1)]),
    "cat 1-D with empty": (lambda t, a, b: t.cat([a, b]), [r(4), r(0)]),
    "cross_entropy of transposed": (lambda t, a, y: t.nn.functional.cross_entropy(a.t(), y), [r(4, 5), TARGETS]),
    "nll_loss mean of log_softmax": (lambda t, a, y: t.nn.functional.nll_loss(a.log_softmax(1), y), [r(5, 4), TARGETS]),
    "relu 0-d": (lambda t, a: t.relu(a), [r()]),
    "addmm": (lambda t, v, a, b: t.addmm(v, a, b), [r(4), r(3, 5, seed=1), r(5, 4, seed=2)]),
    "log_softmax large values": (lambda t, a: t.nn.functional.log_softmax(a * 100, 1), [r(3, 4)]),
    "cross_entropy large values": (lambda t, a, y: t.nn.functional.cross_entropy(a * 100, y), [r(5, 4), TARGETS]),
    "cross_entropy sum": (lambda t, a, y: t.nn.functional.cross_entropy(a, y, reduction="sum"), [r(5, 4), TARGETS]),
    "sum dim": (lambda t, a: a.sum(1), [r(3, 4)]),
    "sum negative dim keepdim": (lambda t, a: a.sum(-1, keepdim=True), [r(3, 4)]),
    "sum dim int": (lambda t, a: a.sum(0), [ri(3, 4)]),
    "sum dim tuple": (lambda t, a: a.sum((0, 1)), [r(3, 4)]),
    "mean": (lambda t, a: a.mean(), [r(3, 4)]),
    "mean dim": (lambda t, a: a.mean(0), [r(3, 4)]),
    "mean dim keepdim": (lambda t, a: t.mean(a, -1, keepdim=True), [r(3, 4)]),
    "mean None keepdim": (lambda t, a: a.mean(None, keepdim=True), [r(3, 4)]),
    "mean 0-d": (lambda t, a: a.mean(0), [r()]),
    "cat": (lambda t, a, b: t.cat([a, b]), [r(3, 4), r(2, 4, seed=1)]),
    "cat dim 1 tuple": (lambda t, a, b: t.cat((a, b), 1), [r(3, 4), r(3, 2, seed=1)]),
    "cat negative dim": (lambda t, a, b: t.cat([a, b, a], -1), [r(3, 4), r(3, 2, seed=1)]),
    "cat mixed dtypes": (lambda t, a, b: t.cat([a, b.double()]), [r(3, 4), r(2, 4, seed=1)]),
    "cat int": (lambda t, a, b: t.cat([a, b]), [ri(3, 4), ri(2, 4, seed=1)]),
    "cat legacy empty": (lambda t, a, b: t.cat([a, b]), [r(3, 4), r(0)]),
    "cat parameter": (lambda t, a, b: t.cat([t.nn.Parameter(a), b]), [r(3, 4), r(2, 4, seed=1)]),
    "stack": (lambda t, a, b: t.stack([a, b]), [r(3, 4), r(3, 4, seed=1)]),
    "stack last dim": (lambda t, a, b: t.stack((a, b), 2), [r(3, 4), r(3, 4, seed=1)]),
    "stack negative dim": (lambda t, a, b: t.stack([a, b], -2), [r(3, 4), r(3, 4, seed=1)]),
    "stack mixed dtypes": (lambda t, a, b: t.stack([a, b.double()], 1), [r(3, 4), r(3, 4, seed=1)]),
    "stack 0-d": (lambda t, a, b: t.stack([a, b]), [r(), r(seed=1)]),
    "mm": (lambda t, a, b: t.mm(a, b), [r(3, 4), r(4, 2, seed=1)]),
    "bmm": (lambda t, a, b: t.bmm(a, b), [r(2, 3, 4), r(2, 4, 5, seed=1)]),
    "bmm of transposed": (lambda t, a, b: a.bmm(b.transpose(1, 2)), [r(2, 3, 4), r(2, 5, 4, seed=1)]),
    "addmm row": (lambda t, v, a, b: t.addmm(v, a, b), [r(2), r(3, 4, seed=1), r(4, 2, seed=2)]),
    "addmm matrix": (lambda t, v, a, b: t.addmm(v, a, b), [r(3, 2), r(3, 4, seed=1), r(4, 2, seed=2)]),
    "addmm column": (lambda t, v, a, b: v.addmm(a, b), [r(3, 1), r(3, 4, seed=1), r(4, 2, seed=2)]),
    "addmm 0-d": (lambda t, v, a, b: t.addmm(v, a, b), [r(), r(3, 4, seed=1), r(4, 2, seed=2)]),
    "addmm beta alpha": (lambda t, v, a, b: t.addmm(v, a, b, beta=0.5, alpha=2), [r(2), r(3, 4, seed=1),
                                                                                   r(4, 2, seed=2)]),
    "addmm parameter": (lambda t, v, a, b: t.addmm(t.nn.Parameter(v), a, b), [r(2), r(3, 4, seed=1),
                                                                              r(4, 2, seed=2)]),
}


def _grad_fn_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dt", [F64, F32])
def test_fast_path_parity(name, dt):
    fn, inputs = CASES[name]
    check(fn, inputs, grad=False, dtypes=[dt])
    check(fn, inputs, grad=True, dtypes=[dt])


@pytest.mark.parametrize("name", CASES)
def test_fast_path_grad_fn_names(name):
    fn, inputs = CASES[name]
    floats = [i for i, a in enumerate(inputs) if a.dtype.kind == "f"]
    outs, quiet = {}, {}
    for lib in (ember, torch):
        args = [lib.tensor(a, requires_grad=i in floats) for i, a in enumerate(inputs)]
        outs[lib] = fn(lib, *args)
        with lib.no_grad():
            quiet[lib] = fn(lib, *args)
        assert quiet[lib].grad_fn is None
    assert _grad_fn_name(outs[ember]) == _grad_fn_name(outs[torch])
    assert outs[ember].requires_grad == outs[torch].requires_grad
    assert quiet[ember].requires_grad == quiet[torch].requires_grad  # a view keeps it, other results drop it


def test_recorded_add_keeps_in_place_checks():
    """A saved input changed in place after a recorded fast-path op raises torch's error in backward."""
    for lib in (ember, torch):
        a = lib.ones(3, requires_grad=True)
        b = a * 2
        c = b * b
        b.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            c.sum().backward()


@pytest.mark.parametrize("expr", ["x.sum()", "x.sum(None)", "x.sum(None, keepdim=True)", "x.sum(dtype=lib.float64)",
                                  "x.mean()", "x.mean(None)", "x.mean(None, keepdim=True)", "1 - x", "2.5 - x",
                                  "lib.rsub(x, y)", "lib.rsub(x, 3)", "x + p", "p * x"])
def test_node_names_follow_torch_overloads(expr):
    """The node a call records follows torch's overload: sum() vs sum(dim=None), rsub with a number or a tensor."""
    names, values = [], []
    for lib in (ember, torch):
        x = lib.tensor(r(3, 4), requires_grad=True)
        y = lib.tensor(r(3, 4, seed=1))
        p = lib.nn.Parameter(lib.tensor(r(4, seed=2)))
        out = eval(expr)
        names.append(type(out.grad_fn).__name__)
        out.backward(lib.ones_like(out))
        values.append((out.detach().numpy(), x.grad.numpy()))
    assert names[0] == names[1]
    for e, t in zip(*values):
        np.testing.assert_allclose(e, t, rtol=1e-12)


@pytest.mark.parametrize("shapes", [((3,), (4,)), ((2, 3), (3, 2)), ((2, 1, 3), (4, 2))])
def test_fast_path_shape_mismatch_raises_torch_error(shapes):
    from tests.parity import raises
    for rg in (False, True):
        raises(lambda t: t.ones(*shapes[0], requires_grad=rg) + t.ones(*shapes[1]), RuntimeError,
               "must match the size of tensor b")


def test_view_taken_under_no_grad_requires_grad_but_gets_no_gradient():
    """As in PyTorch: a view of a tensor requiring grad, taken under no_grad, is a leaf with requires_grad=True
    whose gradient is not accumulated; backward through it leaves the base's .grad untouched."""
    results = []
    for lib in (ember, torch):
        x = lib.ones(3, 4, requires_grad=True)
        with lib.no_grad():
            v, s, u = x.t(), x[1:], x.unsqueeze(0)
        (v * 2).sum().backward()
        results.append([(t.requires_grad, t.is_leaf, t.grad is None) for t in (v, s, u)] + [x.grad is None, repr(s)])
    assert results[0] == results[1]


@pytest.mark.parametrize("fn, exc, match", [
    (lambda t: t.ones(3, 4) ** t.ones(3), RuntimeError, "must match the size of tensor b"),
    (lambda t: t.nn.functional.softmax(t.ones(3, 4), 2), IndexError, "Dimension out of range"),
    (lambda t: t.nn.functional.log_softmax(t.ones(3, 4, dtype=t.int64), 1), NotImplementedError, "not implemented"),
    (lambda t: t.nn.functional.nll_loss(t.ones(3, 4), t.tensor([0, 4, 1])), IndexError, "Target 4 is out of bounds"),
    (lambda t: t.nn.functional.nll_loss(t.ones(3, 4), t.tensor([0, -1, 1])), IndexError, "Target -1 is out of bounds"),
    (lambda t: t.nn.functional.cross_entropy(t.ones(3, 4), t.tensor([0, 1])), ValueError, "to match target batch"),
    (lambda t: t.ones(3, 4).max(2), IndexError, "Dimension out of range"),
    (lambda t: t.ones(3, 0).max(1), IndexError, "Expected reduction dim 1 to have non-zero size"),
    (lambda t: t.ones(0).max(), RuntimeError, "Expected reduction dim to be specified"),
    (lambda t: t.ones(3, 4).sum(2), IndexError, "Dimension out of range"),
    (lambda t: t.ones(3, 4, dtype=t.int64).mean(0), RuntimeError, "Input dtype must be either a floating point"),
    (lambda t: t.cat([t.ones(3, 4), t.ones(3, 5)]), RuntimeError, "Sizes of tensors must match except in dimension 0"),
    (lambda t: t.cat([t.ones(3, 4), t.ones(3)]), RuntimeError, "Tensors must have same number of dimensions"),
    (lambda t: t.cat([t.ones(3, 4)], 2), IndexError, "Dimension out of range"),
    (lambda t: t.stack([t.ones(3, 4), t.ones(4, 3)]), RuntimeError, "stack expects each tensor to be equal size"),
    (lambda t: t.stack([t.ones(3, 4)], 3), IndexError, "Dimension out of range"),
    (lambda t: t.mm(t.ones(3, 4), t.ones(3, 4)), RuntimeError, "cannot be multiplied"),
    (lambda t: t.mm(t.ones(3, 4), t.ones(4, 2, dtype=t.float64)), RuntimeError, "same dtype"),
    (lambda t: t.bmm(t.ones(2, 3, 4), t.ones(3, 4, 2)), RuntimeError, "Expected size for first two dimensions"),
    (lambda t: t.addmm(t.ones(5), t.ones(3, 4), t.ones(4, 2)), RuntimeError, "The expanded size of the tensor"),
])
def test_fast_path_fallbacks_raise_torch_errors(fn, exc, match):
    """Calls the fast paths turn down (bad dims, shapes, classes) reach the checked path and raise torch's errors."""
    from tests.parity import raises
    raises(fn, exc, match)


def test_stack_records_its_own_node_and_shape_is_a_size():
    for lib in (ember, torch):
        x = lib.ones(2, 3, requires_grad=True)
        assert type(lib.stack([x, x]).grad_fn).__name__ == "StackBackward0"
        assert type(x.shape) is lib.Size and x.shape == (2, 3) and type(x.size()) is lib.Size
    assert repr(ember.ones(2, 3).shape) == repr(torch.ones(2, 3).shape)


def test_view_refused_on_the_fast_path_raises_torch_error():
    from tests.parity import raises
    for rg in (False, True):
        raises(lambda t: t.ones(4, 3, requires_grad=rg).t().view(12), RuntimeError, "view size is not compatible")
        raises(lambda t: t.ones(4, 3, requires_grad=rg).view(5, -1), RuntimeError, "is invalid for input of size 12")
