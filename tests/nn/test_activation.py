"""Activations (functional, module, in-place, repr), the softmax family, PReLU, RReLU and AdaptiveLogSoftmaxWithLoss
against torch."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, assert_same
from .nnparity import arr, same, same_error, pair, run_pair

F64_32 = ("float64", "float32")
# Every kink/threshold used by the cases below, so torch's subgradient conventions are exercised.
KINKS = [-20.0, -6.0, -3.0, -2.0, -1.0, -0.7, -0.5, 0.0, 0.5, 0.7, 1.0, 1.5, 2.5, 3.0, 6.0, 20.0, 25.0]


def x_main():
    x = arr(3, 4, 6, seed=0) * 3
    x.reshape(-1)[:len(KINKS)] = KINKS
    return x


# (id, functional name, kwargs, module name, module args, module kwargs, has inplace)
ACTS = [
    ("relu", "relu", {}, "ReLU", (), {}, True),
    ("relu6", "relu6", {}, "ReLU6", (), {}, True),
    ("elu", "elu", {"alpha": 0.7}, "ELU", (0.7,), {}, True),
    ("elu_default", "elu", {}, "ELU", (), {}, True),
    ("selu", "selu", {}, "SELU", (), {}, True),
    ("celu", "celu", {"alpha": 1.3}, "CELU", (1.3,), {}, True),
    ("celu_small_alpha", "celu", {"alpha": 0.1}, "CELU", (0.1,), {}, True),
    ("leaky_relu", "leaky_relu", {"negative_slope": 0.2}, "LeakyReLU", (0.2,), {}, True),
    ("leaky_relu_default", "leaky_relu", {}, "LeakyReLU", (), {}, True),
    ("hardtanh", "hardtanh", {"min_val": -2.0, "max_val": 1.5}, "Hardtanh", (-2.0, 1.5), {}, True),
    ("hardtanh_default", "hardtanh", {}, "Hardtanh", (), {}, True),
    ("hardsigmoid", "hardsigmoid", {}, "Hardsigmoid", (), {}, True),
    ("hardswish", "hardswish", {}, "Hardswish", (), {}, True),
    ("hardshrink", "hardshrink", {"lambd": 1.0}, "Hardshrink", (1.0,), {}, False),
    ("hardshrink_default", "hardshrink", {}, "Hardshrink", (), {}, False),
    ("softshrink", "softshrink", {"lambd": 0.7}, "Softshrink", (0.7,), {}, False),
    ("softshrink_zero", "softshrink", {"lambd": 0.0}, "Softshrink", (0.0,), {}, False),
    ("threshold", "threshold", {"threshold": 0.5, "value": -2.0}, "Threshold", (0.5, -2.0), {}, True),
    ("softsign", "softsign", {}, "Softsign", (), {}, False),
    ("tanhshrink", "tanhshrink", {}, "Tanhshrink", (), {}, False),
    ("silu", "silu", {}, "SiLU", (), {}, True),
    ("mish", "mish", {}, "Mish", (), {}, True),
    ("gelu", "gelu", {}, "GELU", (), {}, False),
    ("gelu_tanh", "gelu", {"approximate": "tanh"}, "GELU", (), {"approximate": "tanh"}, False),
    ("softplus", "softplus", {}, "Softplus", (), {}, False),
    ("softplus_beta", "softplus", {"beta": 2.0, "threshold": 3.0}, "Softplus", (2.0, 3.0), {}, False),
    ("softplus_beta_half", "softplus", {"beta": 0.5, "threshold": 1.0}, "Softplus", (0.5, 1.0), {}, False),
    ("logsigmoid", "logsigmoid", {}, "LogSigmoid", (), {}, False),
    ("sigmoid", "sigmoid", {}, "Sigmoid", (), {}, False),
    ("tanh", "tanh", {}, "Tanh", (), {}, False),
    ("rrelu_eval", "rrelu", {"lower": 0.1, "upper": 0.3}, "RReLU", (0.1, 0.3), {}, True),
    ("glu", "glu", {"dim": 2}, "GLU", (2,), {}, False),
    ("glu_default", "glu", {}, "GLU", (), {}, False),
    ("softmax", "softmax", {"dim": 1}, "Softmax", (1,), {}, False),
    ("softmax_last", "softmax", {"dim": -1}, "Softmax", (-1,), {}, False),
    ("softmin", "softmin", {"dim": 0}, "Softmin", (0,), {}, False),
    ("log_softmax", "log_softmax", {"dim": -1}, "LogSoftmax", (-1,), {}, False),
    ("log_softmax_0", "log_softmax", {"dim": 0}, "LogSoftmax", (0,), {}, False),
]
ACT_IDS = [a[0] for a in ACTS]
INPLACE = [a for a in ACTS if a[6]]


def _f(t, a):
    return lambda x: getattr(t.nn.functional, a[1])(x, **a[2])


def _module(t, a):
    m = getattr(t.nn, a[3])(*a[4], **a[5])
    return m.eval() if a[1] == "rrelu" else m


def _inputs():
    """The inputs every activation runs on: kinks, transposed/strided views, 0-d, empty."""
    x = x_main()
    return {"main": (lambda v: v, x), "transposed": (lambda v: v.transpose(0, 2), x),
            "strided": (lambda v: v[:, ::2, 1::2], x), "empty": (lambda v: v, np.zeros((0, 3, 4))),
            "scalar": (lambda v: v, np.array(-0.7)), "vector": (lambda v: v, arr(6, seed=3) * 4)}


def _torch_accepts(fn):
    try:
        fn(torch)
    except (RuntimeError, IndexError, ValueError):
        return False
    return True


@pytest.mark.parametrize("kind", list(_inputs()))
@pytest.mark.parametrize("a", ACTS, ids=ACT_IDS)
def test_functional(a, kind):
    """Each input kind either works in both (values, dtypes, gradients) or fails in both with torch's error."""
    view, x = _inputs()[kind]
    if not _torch_accepts(lambda t: _f(t, a)(view(t.tensor(x)))):
        same_error(lambda t: _f(t, a)(view(t.tensor(x))))
        return
    check(lambda t, v: _f(t, a)(view(v)), [x], dtypes=F64_32)


@pytest.mark.parametrize("a", ACTS, ids=ACT_IDS)
def test_module(a):
    check(lambda t, v: _module(t, a)(v), [x_main()], dtypes=F64_32)


@pytest.mark.parametrize("a", ACTS, ids=ACT_IDS)
def test_module_repr(a):
    same(lambda t: repr(_module(t, a)))


@pytest.mark.parametrize("a", INPLACE, ids=[a[0] for a in INPLACE])
def test_inplace_functional(a):
    """F.xxx(inplace=True) overwrites its input, returns it, and differentiates through the in-place history."""
    def fn(t, v):
        y = v * 1.0
        out = getattr(t.nn.functional, a[1])(y, **a[2], inplace=True)
        assert out is y
        return y
    check(fn, [x_main()], dtypes=F64_32)


@pytest.mark.parametrize("a", INPLACE, ids=[a[0] for a in INPLACE])
def test_inplace_module(a):
    def fn(t, v):
        m = getattr(t.nn, a[3])(*a[4], **a[5], inplace=True)
        m = m.eval() if a[1] == "rrelu" else m
        y = v * 1.0
        assert m(y) is y
        return y, repr(m)
    check(lambda t, v: fn(t, v)[0], [x_main()], dtypes=F64_32)
    same(lambda t: fn(t, t.tensor(x_main()))[1])


UNDERSCORE = [("relu_", {}), ("elu_", {"alpha": 0.5}), ("selu_", {}), ("celu_", {"alpha": 2.0}),
              ("leaky_relu_", {"negative_slope": 0.3}), ("hardtanh_", {"min_val": -0.5, "max_val": 0.5}),
              ("threshold_", {"threshold": 0.1, "value": 7.0}), ("rrelu_", {"lower": 0.2, "upper": 0.4})]


@pytest.mark.parametrize("name,kw", UNDERSCORE, ids=[u[0] for u in UNDERSCORE])
def test_underscore_functions(name, kw):
    def fn(t, v):
        y = v * 1.0
        assert getattr(t.nn.functional, name)(y, **kw) is y
        return y
    check(fn, [x_main()], dtypes=F64_32)


def test_inplace_on_leaf_raises():
    same_error(lambda t: t.nn.functional.relu(t.ones(3, requires_grad=True), inplace=True))


@pytest.mark.parametrize("call", [lambda t, b: t.relu(b), lambda t, b: b.relu(), lambda t, b: b.relu_(),
                                  lambda t, b: t.nn.functional.relu(b, inplace=True), lambda t, b: t.nn.ReLU()(b)])
def test_relu_refuses_bool(call):
    same_error(lambda t: call(t, t.tensor([True, False])))


# ---- numerical stability: extreme inputs ---------------------------------------------------------------------------
EXTREME = np.array([-1e4, -1e3, -100.0, -50.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 50.0, 100.0, 1e3, 1e4])


@pytest.mark.parametrize("a", [a for a in ACTS if a[1] != "glu"], ids=[a[0] for a in ACTS if a[1] != "glu"])
def test_extreme_inputs(a):
    check(lambda t, v: _f(t, a)(v.reshape(1, -1) if "dim" in a[2] and a[2]["dim"] == 1 else v),
          [EXTREME], dtypes=F64_32)


SPECIAL = np.array([0.0, -0.0, 0.3, -0.7, 1e-45, -1e-45, 3e38, -3e38, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0, 2.0, 0.0, -0.5, 1e30, 1e-300, -1e-40, np.inf, np.nan])
def test_leaky_relu_special_values_bit_exact(dtype, slope):
    """Signed zeros, infinities and NaN through every slope form (the mask-free max/min path and the factor path)."""
    g = np.linspace(-2, 2, SPECIAL.size)

    def fn(t):
        v = t.tensor(SPECIAL, dtype=getattr(t, dtype), requires_grad=True)
        y = t.nn.functional.leaky_relu(v, slope)
        y.backward(t.tensor(g, dtype=getattr(t, dtype)))
        return y.detach(), v.grad
    for e, r in zip(fn(ember), fn(torch)):
        assert e.numpy().tobytes() == r.numpy().tobytes(), (e, r)


def test_softmax_extreme_and_inf():
    x = np.array([[1e4, -1e4, 0.0], [-np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [1e4, 1e4, -1e4]])
    for name in ("softmax", "log_softmax", "softmin"):
        check(lambda t, v: getattr(t.nn.functional, name)(v, dim=1), [x], dtypes=F64_32, grad=False)
        check(lambda t, v: getattr(t.nn.functional, name)(v, dim=1), [x[[0, 1, 3]]], dtypes=F64_32)


# ---- double backward and gradcheck --------------------------------------------------------------------------------
SMOOTH = [a for a in ACTS if a[1] in ("elu", "selu", "celu", "softsign", "tanhshrink", "silu", "mish", "gelu",
                                       "softplus", "logsigmoid", "sigmoid", "tanh", "glu", "softmax", "softmin",
                                       "log_softmax", "leaky_relu", "hardswish")]


@pytest.mark.parametrize("a", SMOOTH, ids=[a[0] for a in SMOOTH])
def test_double_backward(a):
    x = arr(3, 4, 6, seed=5) * 2

    def fn(t):
        v = t.tensor(x, requires_grad=True)
        y = _f(t, a)(v)
        g, = t.autograd.grad((y * y * y).sum(), v, create_graph=True)
        (g * g).sum().backward()
        return g, v.grad
    same(fn)


@pytest.mark.parametrize("a", [a for a in ACTS if a[1] != "rrelu"], ids=[a[0] for a in ACTS if a[1] != "rrelu"])
def test_gradcheck(a):
    x = arr(2, 3, 4, seed=7) * 2
    x = np.where(np.abs(np.abs(x) - 3) < 0.05, x + 0.2, x)  # keep finite differences off the kinks
    v = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(_f(ember, a), (v,), eps=1e-6, atol=1e-5)


def test_prelu_double_backward():
    def fn(t):
        v = t.tensor(arr(3, 4, 5, seed=1), requires_grad=True)
        w = t.tensor(arr(4, seed=2), requires_grad=True)
        y = t.nn.functional.prelu(v, w)
        gv, gw = t.autograd.grad((y * y * y).sum(), (v, w), create_graph=True)
        ((gv * gv).sum() + (gw * gw).sum()).backward()
        return gv, gw, v.grad, w.grad
    same(fn)


# ---- GELU, Softplus, RReLU, GLU details ---------------------------------------------------------------------------
def test_gelu_bad_approximate():
    same_error(lambda t: t.nn.functional.gelu(t.ones(3), approximate="exact"), exact=False)


@settings(max_examples=25, deadline=None)
@given(beta=st.floats(0.1, 5.0), threshold=st.floats(0.5, 30.0), seed=st.integers(0, 100))
def test_softplus_beta_threshold(beta, threshold, seed):
    x = arr(20, seed=seed) * 10
    check(lambda t, v: t.nn.functional.softplus(v, beta, threshold), [x], dtypes=F64_32)


def test_rrelu_eval_is_mean_slope():
    x = -np.abs(arr(50, seed=2)) - 0.1
    for lib in (ember, torch):
        y = lib.nn.RReLU(0.1, 0.5).eval()(lib.tensor(x))
        np.testing.assert_allclose(y.numpy() / x, 0.3, rtol=1e-12)


@pytest.mark.parametrize("dtype", F64_32)
def test_rrelu_training_slopes(dtype):
    """Training mode: negative inputs get i.i.d. U(lower, upper) slopes, gradient = slope; positives untouched."""
    lower, upper = 0.1, 0.4
    x = ember.tensor(np.concatenate([-np.linspace(0.5, 3, 20000), np.linspace(0.1, 2, 100)]).astype(dtype),
                     requires_grad=True)
    y = ember.nn.RReLU(lower, upper).train()(x)
    assert y.dtype == x.dtype
    slopes = (y.detach() / x.detach()).numpy()
    neg = slopes[:20000]
    assert neg.min() >= lower - 1e-6 and neg.max() <= upper + 1e-6
    assert abs(neg.mean() - (lower + upper) / 2) < 0.005
    assert abs(neg.var() - (upper - lower) ** 2 / 12) < 0.001
    assert len(np.unique(neg)) > 19000
    np.testing.assert_allclose(slopes[20000:], 1.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)


def test_rrelu_training_reproducible():
    x = ember.tensor(-np.ones(100))
    ember.manual_seed(3)
    a = ember.nn.functional.rrelu(x, training=True)
    ember.manual_seed(3)
    b = ember.nn.functional.rrelu(x, training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), ember.nn.functional.rrelu(x, training=True).numpy())


def test_rrelu_training_inplace():
    x = ember.tensor(-np.ones(1000)) * 1.0
    out = ember.nn.functional.rrelu(x, 0.2, 0.3, training=True, inplace=True)
    assert out is x
    assert -0.3 - 1e-12 <= x.numpy().min() and x.numpy().max() <= -0.2 + 1e-12


@pytest.mark.parametrize("shape,dim", [((4, 6), 1), ((4, 6), -1), ((6, 3), 0), ((2, 4, 3), 1), ((8,), 0)])
def test_glu_dims(shape, dim):
    check(lambda t, v: t.nn.functional.glu(v, dim), [arr(*shape, seed=1)], dtypes=F64_32)


@pytest.mark.parametrize("case", [lambda t: t.nn.functional.glu(t.ones(3, 5)),
                                  lambda t: t.nn.functional.glu(t.ones(3, 4), 0),
                                  lambda t: t.nn.functional.glu(t.tensor(1.0))], ids=["odd", "odd_dim0", "scalar"])
def test_glu_errors(case):
    same_error(case)


# ---- softmax family ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "softmin", "log_softmax"])
@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
def test_softmax_implicit_dim(name, ndim):
    """dim=None picks 0 for 0-, 1- and 3-D input, else 1, and warns exactly like torch."""
    x = arr(*([3, 2, 4, 2][:ndim]), seed=ndim)
    msg = f"Implicit dimension choice for {name} has been deprecated"
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match=msg):
            getattr(lib.nn.functional, name)(lib.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda t, v: getattr(t.nn.functional, name)(v), [x], dtypes=F64_32)
        cls = {"softmax": "Softmax", "softmin": "Softmin", "log_softmax": "LogSoftmax"}[name]
        check(lambda t, v: getattr(t.nn, cls)()(v), [x], dtypes=F64_32)


def test_softmax_warning_text():
    msgs = []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.LogSoftmax()(lib.ones(2, 3))
        msgs.append([str(m.message) for m in w])
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("name", ["softmax", "softmin", "log_softmax"])
def test_softmax_dtype_argument(name):
    x = arr(3, 5, seed=2).astype(np.float32)
    check(lambda t, v: getattr(t.nn.functional, name)(v, 1, dtype=t.float64), [x], check_dtype=True)
    check(lambda t, v: getattr(t.nn.functional, name)(v.double(), -1, dtype=t.float32), [x])
    check(lambda t, v: getattr(t.nn.functional, name)(v, 1, dtype=t.float32), [np.arange(6).reshape(2, 3)],
          grad=False)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_int_input_error(name, dim, dtype):
    same_error(lambda t: getattr(t.nn.functional, name)(t.ones(2, 3, dtype=getattr(t, dtype)), dim))


def test_softmax_tensor_methods():
    check(lambda t, v: (v.softmax(1), v.log_softmax(-1), v.softmax(dim=0)), [arr(3, 4)], dtypes=F64_32)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_softmax2d(shape):
    check(lambda t, v: t.nn.Softmax2d()(v), [arr(*shape)], dtypes=F64_32)
    same(lambda t: repr(t.nn.Softmax2d()))


def test_softmax2d_bad_dim():
    same_error(lambda t: t.nn.Softmax2d()(t.ones(3, 4)))


def test_softmax_dim_out_of_range():
    same_error(lambda t: t.nn.functional.softmax(t.ones(3, 4), 2), exact=False)


# ---- PReLU --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("num,shape", [(1, (4, 3, 5)), (3, (4, 3, 5)), (3, (2, 3, 4, 2)), (1, (6,)), (1, ()),
                                       (4, (5, 4))])
@pytest.mark.parametrize("dtype", F64_32)
def test_prelu_module(num, shape, dtype):
    def build(t):
        m = t.nn.PReLU(num, init=0.1).to(getattr(t, dtype))
        with t.no_grad():
            m.weight.copy_(t.tensor(np.linspace(-0.5, 0.5, num)))
        return m
    e, tm = pair(build)
    x = arr(*shape, seed=4).astype(dtype)
    x.reshape(-1)[:1] = 0.0
    run_pair(e, tm, x)
    same(lambda t: repr(t.nn.PReLU(num)))


def test_prelu_defaults():
    same(lambda t: (t.nn.PReLU().weight, t.nn.PReLU(3, init=0.5).weight, repr(t.nn.PReLU(3))))


@pytest.mark.parametrize("case", [lambda t: t.nn.functional.prelu(t.ones(2, 4), t.ones(3)),
                                  lambda t: t.nn.functional.prelu(t.ones(()), t.ones(3)),
                                  lambda t: t.nn.functional.prelu(t.ones(3), t.ones(3))], ids=["channels", "0d", "1d"])
def test_prelu_errors(case):
    same_error(case)


def test_prelu_functional_noncontig():
    check(lambda t, x, w: t.nn.functional.prelu(x.transpose(1, 2), w), [arr(2, 5, 3, 4), arr(3, seed=1)],
          dtypes=F64_32)


# ---- constructor errors and misc ----------------------------------------------------------------------------------
CTOR_ERRORS = [
    ("hardtanh_bounds", lambda t: t.nn.Hardtanh(1.0, -1.0)),
    ("hardtanh_fn_bounds", lambda t: t.nn.functional.hardtanh(t.ones(2), 1.0, -1.0)),
    ("softshrink_neg", lambda t: t.nn.functional.softshrink(t.ones(2), -0.5)),
]


@pytest.mark.parametrize("name,fn", CTOR_ERRORS, ids=[c[0] for c in CTOR_ERRORS])
def test_errors(name, fn):
    same_error(fn, exact=False)


def test_hardtanh_deprecated_kwargs():
    for lib in (torch, ember):
        with pytest.warns(FutureWarning, match="min_value"):
            m = lib.nn.Hardtanh(min_value=-0.5, max_val=2.0)
        assert (m.min_val, m.max_val) == (-0.5, 2.0)


@pytest.mark.parametrize("cls", ["Softmax", "Softmin", "LogSoftmax", "GLU"])
def test_dim_reprs(cls):
    same(lambda t: (repr(getattr(t.nn, cls)()), repr(getattr(t.nn, cls)(1))))


# ---- AdaptiveLogSoftmaxWithLoss -----------------------------------------------------------------------------------
def _asm(t, head_bias=False, dtype="float64"):
    m = t.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], div_value=2.0, head_bias=head_bias)
    return m.to(getattr(t, dtype))


@pytest.mark.parametrize("head_bias", [False, True])
@pytest.mark.parametrize("dtype", F64_32)
def test_adaptive_log_softmax(head_bias, dtype):
    e, tm = pair(lambda t: _asm(t, head_bias, dtype))
    x = arr(12, 8, seed=3).astype(dtype)
    y = np.array([0, 3, 4, 9, 10, 14, 15, 19, 1, 12, 5, 17])
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = e(ex, ember.tensor(y)), tm(tx, torch.tensor(y))
    assert_same(eo.output, to.output, what="output")
    assert_same(eo.loss, to.loss, what="loss")
    g = arr(12, seed=9).astype(dtype)
    (to.loss + (to.output * torch.tensor(g)).sum()).backward()
    (eo.loss + (eo.output * ember.tensor(g)).sum()).backward()
    assert_same(ex.grad, tx.grad, what="grad input")
    for (n, p), (_, q) in zip(e.named_parameters(), tm.named_parameters()):
        assert_same(p.grad, q.grad, what=f"grad {n}")
    assert_same(e.log_prob(ember.tensor(x)), tm.log_prob(torch.tensor(x)), what="log_prob")
    assert_same(e.predict(ember.tensor(x)), tm.predict(torch.tensor(x)), what="predict")
    assert tuple(type(eo)._fields) == ("output", "loss")


def test_adaptive_log_softmax_predict_paths():
    """predict: all rows in the shortlist, none in it, and a mix (forced through the head bias)."""
    e, tm = pair(lambda t: _asm(t, True))
    x = arr(6, 8, seed=1)
    for bias in ([50.0] + [0.0] * 6, [0.0] * 4 + [50.0, 0, 0], None):
        if bias is not None:
            for m, lib in ((e, ember), (tm, torch)):
                with lib.no_grad():
                    m.head.bias.copy_(lib.tensor(bias))
        assert_same(e.predict(ember.tensor(x)), tm.predict(torch.tensor(x)), what=f"predict {bias}")


def test_adaptive_log_softmax_unbatched_and_repr():
    e, tm = pair(lambda t: _asm(t))
    x = arr(8, seed=2)
    eo, to = e(ember.tensor(x), ember.tensor(12)), tm(torch.tensor(x), torch.tensor(12))
    assert_same(eo.output, to.output)
    assert_same(eo.loss, to.loss)
    assert repr(e) == repr(tm)


ASM_ERRORS = [
    ("target_range", lambda t: _asm(t)(t.ones(3, 8, dtype=t.float64), t.tensor([0, 20, 1]))),
    ("batch_mismatch", lambda t: _asm(t)(t.ones(3, 8, dtype=t.float64), t.tensor([0, 1]))),
    ("2d_target", lambda t: _asm(t)(t.ones(3, 8, dtype=t.float64), t.tensor([[0, 1]]))),
    ("1d_target_1d_input", lambda t: _asm(t)(t.ones(8, dtype=t.float64), t.tensor([0]))),
    ("bad_cutoffs", lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [10, 4])),
    ("cutoff_too_big", lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 20])),
    ("no_cutoffs", lambda t: t.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [])),
]


ARG_ERRORS = [
    ("softshrink_neg_float", lambda t: t.nn.functional.softshrink(t.ones(2), -0.5)),
    ("softshrink_neg_double", lambda t: t.nn.functional.softshrink(t.ones(2, dtype=t.float64), -1)),
    ("softshrink_neg_half", lambda t: t.nn.functional.softshrink(t.ones(2, dtype=t.float16), -1e-9)),
    ("prelu_weight_2d", lambda t: t.nn.functional.prelu(t.ones(2, 8, 3), t.ones(2, 4))),
    ("prelu_weight_2d_single", lambda t: t.nn.functional.prelu(t.ones(2, 8, 3), t.ones(1, 1))),
    ("rrelu_bounds", lambda t: t.nn.functional.rrelu(t.ones(5, 5), 0.3, 0.1)),
    ("rrelu_bounds_training", lambda t: t.nn.functional.rrelu(t.ones(5, 5), 0.3, 0.1, training=True)),
]


@pytest.mark.parametrize("name,fn", ARG_ERRORS, ids=[c[0] for c in ARG_ERRORS])
def test_argument_errors(name, fn):
    same_error(fn)


@pytest.mark.parametrize("name,fn", ASM_ERRORS, ids=[c[0] for c in ASM_ERRORS])
def test_adaptive_log_softmax_errors(name, fn):
    same_error(fn)


# torch's own gradients at NaN inputs differ between its float32 and float64 kernels for these: outputs only.
NAN_OUTPUT_ONLY = ("hardswish", "hardshrink", "softshrink")
NAN_CASES = [a for a in ACTS if a[1] not in ("rrelu", "glu")]


@pytest.mark.parametrize("a", NAN_CASES, ids=[a[0] for a in NAN_CASES])
def test_nan_inputs_and_gradients(a):
    """NaN inputs give torch's outputs and input gradients."""
    x = np.array([[np.nan, -2.0, -0.5, 0.0, 0.5, 2.0, np.nan, -3.0]])
    g = np.array([[1.0, 4.0, 2.0, 3.0, -2.0, -1.0, 0.5, 1.5]])

    def fn(t):
        v = t.tensor(x, requires_grad=True)
        y = _f(t, a)(v)
        if a[1] in NAN_OUTPUT_ONLY:
            return y
        y.backward(t.tensor(g[:, :y.shape[-1]]).expand_as(y) if y.dim() else t.tensor(1.0))
        return y, v.grad
    same(fn)


@pytest.mark.parametrize("n", [7, 9, 17, 33, 40])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elu_nan_gradient_vector_and_tail(n, dtype):
    """All-NaN ELU inputs: NaN gradients where torch's vectorised loop runs, x > 0's where its scalar tail does
    (the split follows the SIMD width)."""
    def fn(t):
        v = t.full((n,), float("nan"), dtype=getattr(t, dtype), requires_grad=True)
        t.nn.functional.elu(v, 0.7).backward(t.ones(n, dtype=v.dtype))
        return v.grad
    same(fn)


# ---- the large-tensor fast paths (bitwise blends, float32 kernels) on special values --------------------------------
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 3e4, -3e4, 88.5, -88.5, 100.0,
                    -100.0, 19.9, 20.1, -17.0, 0.3, -0.3] + KINKS)
BIG_CASES = [a for a in ACTS if a[1] not in ("rrelu", "glu", "softmax", "softmin", "log_softmax")]


def _big_special():
    """Every special value 64 times, shuffled: well above the size where the kernels switch to bitwise blends."""
    x = np.tile(SPECIAL, 64)
    return np.random.default_rng(1).permutation(x).reshape(32, -1)


@pytest.mark.parametrize("a", BIG_CASES, ids=[a[0] for a in BIG_CASES])
def test_large_special_values(a):
    """NaN, +-inf, +-0, huge and tiny inputs on large tensors: outputs and input gradients as torch's (whose
    vectorised kernels run on such sizes), float32 and float64, contiguous and transposed."""
    if a[0] == "gelu":
        # torch hands float32 GELU to oneDNN, whose AVX512 kernel gives NaN at +inf (its AVX2 one and torch's own
        # kernel give inf, as ember does): float32 is checked without +inf
        check(lambda t, v: _f(t, a)(v), [_big_special()], dtypes=["float64"])
        check(lambda t, v: _f(t, a)(v), [np.where(_big_special() == np.inf, 3e4, _big_special())],
              dtypes=["float32"])
    else:
        check(lambda t, v: _f(t, a)(v), [_big_special()], dtypes=F64_32)
    # a transposed input with a contiguous upstream gradient runs torch's scalar loop, whose NaN conventions differ
    # from its vectorised kernels' for some backward passes: NaN-free there
    no_nan = np.nan_to_num(_big_special(), nan=0.25)
    check(lambda t, v: _f(t, a)(v.t()), [no_nan], dtypes=F64_32)


@pytest.mark.parametrize("a", BIG_CASES, ids=[a[0] for a in BIG_CASES])
def test_large_random(a):
    """Random large inputs (both signs, all magnitudes the kinks care about) with random upstream gradients."""
    x = arr(40, 50, seed=11) * 4
    check(lambda t, v: _f(t, a)(v), [x], dtypes=["float64"])
    # float32 tanh implementations differ by an ulp near +-1, where gelu_tanh's gradient is 1 - tanh^2 ~ 1e-7
    check(lambda t, v: _f(t, a)(v), [x], dtypes=["float32"],
          tol=dict(rtol=2e-5, atol=1e-5) if a[0] == "gelu_tanh" else None)


@pytest.mark.parametrize("a", [a for a in INPLACE if a[1] != "rrelu"], ids=[a[0] for a in INPLACE if a[1] != "rrelu"])
def test_large_inplace(a):
    def fn(t, v):
        y = v * 1.0
        getattr(t.nn.functional, a[1])(y, **a[2], inplace=True)
        return y
    check(fn, [arr(40, 50, seed=12) * 4], dtypes=F64_32)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_large(dim):
    x = arr(64, 48, seed=3) * 4
    x.reshape(-1)[:len(SPECIAL)] = SPECIAL
    check(lambda t, v: t.nn.functional.glu(v, dim), [x], dtypes=F64_32)


@pytest.mark.parametrize("shape", [(600,), (4, 300, 2), ()])
def test_prelu_large(shape):
    check(lambda t, x, w: t.nn.functional.prelu(x, w),
          [arr(*shape, seed=2) * 3 if shape else np.array(-1.5), np.array([0.25])], dtypes=F64_32)
    if len(shape) == 3:
        check(lambda t, x, w: t.nn.functional.prelu(x, w), [arr(*shape, seed=2), arr(300, seed=3)], dtypes=F64_32)


def test_dtype_preserved_large():
    """float32 stays float32 in every kernel (no float64 scratch leaking into results or gradients)."""
    for a in BIG_CASES:
        x = ember.tensor(arr(30, 40, seed=4).astype(np.float32), requires_grad=True)
        y = _f(ember, a)(x)
        y.backward(ember.ones_like(y))
        assert y.dtype == ember.float32 and x.grad.dtype == ember.float32, a[0]


# ---- gumbel_softmax: random, so its structure and statistics are compared -----------------------------------------
def test_gumbel_softmax_hard_is_straight_through_one_hot():
    x = ember.tensor(arr(6, 5, seed=2), requires_grad=True)
    w = ember.tensor(arr(6, 5, seed=3))
    ember.manual_seed(7)
    soft = ember.nn.functional.gumbel_softmax(x, tau=0.7)
    g_soft, = ember.autograd.grad((soft * w).sum(), x)
    ember.manual_seed(7)
    hard = ember.nn.functional.gumbel_softmax(x, tau=0.7, hard=True)
    g_hard, = ember.autograd.grad((hard * w).sum(), x)
    np.testing.assert_array_equal(hard.detach().numpy().argmax(1), soft.detach().numpy().argmax(1))
    np.testing.assert_allclose(hard.detach().numpy().sum(1), 1.0)
    assert set(np.unique(hard.detach().numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), atol=1e-12)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1.0, rtol=1e-12)
    for lib in (ember, torch):  # node names of both forms, as printed
        v = lib.tensor(arr(2, 3), requires_grad=True)
        names = [type(lib.nn.functional.gumbel_softmax(v, hard=h, dim=0).grad_fn).__name__ for h in (False, True)]
        if lib is ember:
            ember_names = names
    assert ember_names == names


def test_gumbel_softmax_samples_the_softmax():
    """Gumbel-max: the argmax of logits + Gumbel noise is distributed as softmax(logits)."""
    ember.manual_seed(0)
    logits = ember.tensor([0.0, 1.0, 2.0]).expand(40000, 3)
    freq = ember.nn.functional.gumbel_softmax(logits, hard=True).mean(0).numpy()
    np.testing.assert_allclose(freq, torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0).numpy(), atol=0.01)
    with pytest.warns(UserWarning, match="eps"):
        ember.nn.functional.gumbel_softmax(logits[:2], eps=1e-5)


# ---- other dtypes: float16 (torch's opmath), integers and complex -------------------------------------------------
@pytest.mark.parametrize("a", [a for a in ACTS if a[1] != "rrelu"], ids=[a[0] for a in ACTS if a[1] != "rrelu"])
def test_functional_half(a):
    """float16 as torch's CPU kernels compute it (most in float32, rounded once; softsign and tanhshrink as their
    composites of half ops): values and gradients, kinks and overflowing intermediates (mish at 20, 25) included."""
    check(lambda t, v: _f(t, a)(v), [x_main()], dtypes=["float16"])


@pytest.mark.parametrize("name", ["softsign", "tanhshrink"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "complex128", "bool"])
def test_composite_activation_dtypes(name, dtype):
    """Integers give torch's default float, complex stays complex, bool raises torch's error."""
    x = np.array([[3, 0, 1], [2, 7, 1]]) if dtype != "complex128" else arr(2, 3) + 1j * arr(2, 3, seed=1)
    if dtype == "bool":
        same_error(lambda t: getattr(t.nn.functional, name)(t.tensor(x > 1)))
        return
    check(lambda t, v: getattr(t.nn.functional, name)(v), [x.astype(dtype)], grad=False)


@pytest.mark.parametrize("name", ["softsign", "tanhshrink"])
def test_composite_activation_complex_grad(name):
    """Complex gradients with torch's conjugate convention, from a complex upstream gradient."""
    x = arr(2, 3) + 1j * arr(2, 3, seed=1)
    g = arr(2, 3, seed=2) - 1j * arr(2, 3, seed=3)

    def fn(lib):
        v = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional, name)(v)
        y.backward(lib.tensor(g))
        return y.detach(), v.grad
    same(fn)


def test_silu_complex():
    """torch computes complex silu but refuses to differentiate it."""
    x = arr(2, 3) + 1j * arr(2, 3, seed=1)
    check(lambda t, v: t.nn.functional.silu(v), [x], grad=False)
    same_error(lambda t: t.nn.functional.silu(t.tensor(x, requires_grad=True)))
    same(lambda t: t.nn.functional.silu(t.tensor(x, requires_grad=True).detach() * 1, inplace=True))


@pytest.mark.parametrize("name", ["silu", "mish"])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_silu_mish_reject_integers(name, dtype):
    same_error(lambda t: getattr(t.nn.functional, name)(t.tensor([1, 0, 1]).to(getattr(t, dtype))))


def test_mish_complex_raises():
    same_error(lambda t: t.nn.functional.mish(t.tensor([1 + 1j, 2.0])))
