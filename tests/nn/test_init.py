"""nn.init against torch: gains, fans, deterministic initializers exactly, random ones statistically.

Random streams differ between the libraries, so random initializers are checked against torch's formulas
(bounds exactly, mean/std over large tensors) and against torch's own samples of the same distribution.
"""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from .nnparity import same, same_error

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                  "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


# ---- gains and fans --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NONLINEARITIES)
@pytest.mark.parametrize("param", [None, 0.2, 1, 0])
def test_calculate_gain(name, param):
    e, t = same(lambda lib: lib.nn.init.calculate_gain(name, param))
    assert type(e) is type(t)


@pytest.mark.parametrize("args", [("softmax",), ("leaky_relu", True), ("leaky_relu", "0.1"), ("Relu",)],
                         ids=["unknown", "bool_slope", "str_slope", "case"])
def test_calculate_gain_errors(args):
    same_error(lambda lib: lib.nn.init.calculate_gain(*args))


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3), (6, 3, 2, 2), (2, 4, 1, 3, 5), (5, 0), (1, 1)])
def test_fans(shape):
    same(lambda lib: lib.nn.init._calculate_fan_in_and_fan_out(lib.empty(shape)))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_OUT"])
def test_correct_fan(mode):
    same(lambda lib: lib.nn.init._calculate_correct_fan(lib.empty(4, 3, 2), mode))


# ---- deterministic initializers: exact equality ----------------------------------------------------------------
def _filled(lib, shape, fn, dtype="float32"):
    w = lib.full(shape, 9.0, dtype=getattr(lib, dtype))
    out = fn(lib, w)
    return out is w, w


DETERMINISTIC = [
    ("constant", (3, 4), lambda t, w: t.nn.init.constant_(w, -1.5)),
    ("constant_0d", (), lambda t, w: t.nn.init.constant_(w, 2)),
    ("ones", (2, 3, 4), lambda t, w: t.nn.init.ones_(w)),
    ("zeros", (5,), lambda t, w: t.nn.init.zeros_(w)),
    ("eye_square", (4, 4), lambda t, w: t.nn.init.eye_(w)),
    ("eye_wide", (3, 5), lambda t, w: t.nn.init.eye_(w)),
    ("eye_tall", (5, 2), lambda t, w: t.nn.init.eye_(w)),
    ("dirac_1d", (4, 3, 5), lambda t, w: t.nn.init.dirac_(w)),
    ("dirac_2d", (6, 4, 3, 3), lambda t, w: t.nn.init.dirac_(w)),
    ("dirac_2d_even_kernel", (2, 4, 2, 4), lambda t, w: t.nn.init.dirac_(w)),
    ("dirac_3d", (3, 3, 3, 2, 3), lambda t, w: t.nn.init.dirac_(w)),
    ("dirac_groups", (6, 2, 3, 3), lambda t, w: t.nn.init.dirac_(w, groups=3)),
    ("dirac_groups_wide", (4, 3, 3), lambda t, w: t.nn.init.dirac_(w, groups=2)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,shape,fn", DETERMINISTIC, ids=[c[0] for c in DETERMINISTIC])
def test_deterministic(name, shape, fn, dtype):
    same(lambda lib: _filled(lib, shape, fn, dtype))


def test_init_on_parameter_keeps_leaf_and_bumps_version():
    def fn(lib):
        p = lib.nn.Parameter(lib.zeros(3, 3))
        v0 = p._version
        lib.nn.init.eye_(p)
        lib.nn.init.normal_(p)
        return p.requires_grad, p.grad_fn is None, p.is_leaf, p._version > v0, type(p).__name__
    same(fn)


def test_init_on_a_view_writes_through():
    def fn(lib):
        base = lib.zeros(4, 6)
        lib.nn.init.ones_(base[:, ::2])
        lib.nn.init.eye_(base.t()[1:3])
        return base
    same(fn)


ERRORS = [
    ("eye_3d", lambda t: t.nn.init.eye_(t.empty(2, 2, 2))),
    ("dirac_2d", lambda t: t.nn.init.dirac_(t.empty(2, 2))),
    ("dirac_groups", lambda t: t.nn.init.dirac_(t.empty(5, 2, 3), groups=2)),
    ("fan_1d", lambda t: t.nn.init.xavier_uniform_(t.empty(5))),
    ("fan_0d", lambda t: t.nn.init.kaiming_normal_(t.empty(()))),
    ("kaiming_mode", lambda t: t.nn.init.kaiming_uniform_(t.empty(3, 3), mode="fan_avg")),
    ("kaiming_nonlinearity", lambda t: t.nn.init.kaiming_normal_(t.empty(3, 3), nonlinearity="gelu")),
    ("orthogonal_1d", lambda t: t.nn.init.orthogonal_(t.empty(4))),
    ("sparse_3d", lambda t: t.nn.init.sparse_(t.empty(2, 2, 2), 0.5)),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors(name, fn):
    same_error(fn)


# ---- random initializers: statistics against torch's formulas ------------------------------------------------------
SHAPE = (300, 400)         # 120k samples: mean/std within ~1%
CONV_SHAPE = (64, 32, 5, 5)


def fan(shape, mode="fan_in"):
    fi, fo = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    return fi if mode == "fan_in" else fo


def _sample(lib, shape, fn, dtype):
    w = lib.empty(shape, dtype=getattr(lib, dtype))
    out = fn(lib, w)
    assert out is w
    assert str(w.dtype) == f"torch.{dtype}" or str(w.dtype).endswith(dtype)
    return w.numpy().astype(np.float64)


def uniform_case(name, shape, bound_fn, fn):
    return (name, shape, "uniform", bound_fn, fn)


def normal_case(name, shape, std_fn, fn, mean=0.0):
    return (name, shape, "normal", (mean, std_fn), fn)


RANDOM = [
    uniform_case("uniform", SHAPE, lambda: (-0.5, 2.0), lambda t, w: t.nn.init.uniform_(w, -0.5, 2.0)),
    uniform_case("uniform_default", SHAPE, lambda: (0.0, 1.0), lambda t, w: t.nn.init.uniform_(w)),
    normal_case("normal", SHAPE, lambda: 3.0, lambda t, w: t.nn.init.normal_(w, 1.5, 3.0), mean=1.5),
    uniform_case("xavier_uniform", SHAPE,
                 lambda: _sym(math.sqrt(3) * 1.0 * math.sqrt(2 / sum(torch.nn.init._calculate_fan_in_and_fan_out(
                     torch.empty(SHAPE))))),
                 lambda t, w: t.nn.init.xavier_uniform_(w)),
    uniform_case("xavier_uniform_gain_conv", CONV_SHAPE,
                 lambda: _sym(math.sqrt(3) * torch.nn.init.calculate_gain("relu") * math.sqrt(
                     2 / sum(torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(CONV_SHAPE))))),
                 lambda t, w: t.nn.init.xavier_uniform_(w, gain=t.nn.init.calculate_gain("relu"))),
    normal_case("xavier_normal", SHAPE,
                lambda: 0.5 * math.sqrt(2 / sum(torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(SHAPE)))),
                lambda t, w: t.nn.init.xavier_normal_(w, gain=0.5)),
    uniform_case("kaiming_uniform", SHAPE,
                 lambda: _sym(torch.nn.init.calculate_gain("leaky_relu", 0) * math.sqrt(3 / fan(SHAPE))),
                 lambda t, w: t.nn.init.kaiming_uniform_(w)),
    uniform_case("kaiming_uniform_sqrt5", CONV_SHAPE,
                 lambda: _sym(1 / math.sqrt(fan(CONV_SHAPE))),
                 lambda t, w: t.nn.init.kaiming_uniform_(w, a=math.sqrt(5))),
    uniform_case("kaiming_uniform_fan_out_relu", CONV_SHAPE,
                 lambda: _sym(math.sqrt(2) * math.sqrt(3 / fan(CONV_SHAPE, "fan_out"))),
                 lambda t, w: t.nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")),
    uniform_case("kaiming_uniform_tanh", SHAPE,
                 lambda: _sym(5 / 3 * math.sqrt(3 / fan(SHAPE))),
                 lambda t, w: t.nn.init.kaiming_uniform_(w, nonlinearity="tanh")),
    normal_case("kaiming_normal", SHAPE, lambda: math.sqrt(2 / (1 + 0.2 ** 2)) / math.sqrt(fan(SHAPE)),
                lambda t, w: t.nn.init.kaiming_normal_(w, a=0.2)),
    normal_case("kaiming_normal_fan_out", CONV_SHAPE, lambda: math.sqrt(2) / math.sqrt(fan(CONV_SHAPE, "fan_out")),
                lambda t, w: t.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")),
    normal_case("kaiming_normal_selu", SHAPE, lambda: 0.75 / math.sqrt(fan(SHAPE)),
                lambda t, w: t.nn.init.kaiming_normal_(w, nonlinearity="selu")),
]


def _sym(b):
    return (-b, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,shape,kind,spec,fn", RANDOM, ids=[c[0] for c in RANDOM])
def test_random_statistics(name, shape, kind, spec, fn, dtype):
    e = _sample(ember, shape, fn, dtype)
    t = _sample(torch, shape, fn, dtype)
    if kind == "uniform":
        lo, hi = spec()
        width = hi - lo
        for x, who in ((e, "ember"), (t, "torch")):
            assert x.min() >= lo and x.max() <= hi, f"{who}: values outside [{lo}, {hi}]"
            assert x.min() < lo + 0.01 * width and x.max() > hi - 0.01 * width, f"{who}: does not fill the range"
            assert abs(x.mean() - (lo + hi) / 2) < 0.01 * width, who
            assert abs(x.std() - width / math.sqrt(12)) < 0.01 * width / math.sqrt(12), who
    else:
        mean, std_fn = spec
        std = std_fn()
        for x, who in ((e, "ember"), (t, "torch")):
            assert abs(x.mean() - mean) < 0.02 * std, f"{who}: mean {x.mean()} != {mean}"
            assert abs(x.std() - std) < 0.015 * std, f"{who}: std {x.std()} != {std}"
            kurt = ((x - x.mean()) ** 4).mean() / x.var() ** 2
            assert abs(kurt - 3) < 0.1, f"{who}: not normal (kurtosis {kurt})"


def _trunc_moments(mean, std, a, b):
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    al, be = (a - mean) / std, (b - mean) / std
    z = cdf(be) - cdf(al)
    m = mean + std * (phi(al) - phi(be)) / z
    v = std ** 2 * (1 + (al * phi(al) - be * phi(be)) / z - ((phi(al) - phi(be)) / z) ** 2)
    return m, math.sqrt(v)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 1.0), (0.0, 0.02, -0.04, 0.04),
                                          (1.0, 1.0, 0.5, 4.0), (0.0, 1.0, 1.5, 3.0), (0.0, 1.0, -4.0, -1.2),
                                          (0.0, 1.0, -0.2, 0.2)])
def test_trunc_normal(mean, std, a, b, dtype):
    want_mean, want_std = _trunc_moments(mean, std, a, b)
    for lib in (ember, torch):
        w = lib.empty(100, 200, dtype=getattr(lib, dtype))  # torch's rejection sampler is slow on large tensors
        assert lib.nn.init.trunc_normal_(w, mean, std, a, b) is w
        x = w.numpy().astype(np.float64)
        assert x.min() >= a and x.max() <= b, lib.__name__
        assert abs(x.mean() - want_mean) < 0.03 * want_std, (lib.__name__, x.mean(), want_mean)
        assert abs(x.std() - want_std) < 0.03 * want_std, (lib.__name__, x.std(), want_std)


def test_trunc_normal_warns_far_mean():
    def fn(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.init.trunc_normal_(lib.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)
        return [str(x.message) for x in w]
    same(fn)


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (8, 3, 2, 2), (3, 4, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    for lib in (ember, torch):
        w = lib.empty(shape, dtype=lib.float64)
        assert lib.nn.init.orthogonal_(w, gain=gain) is w
        m = w.numpy().reshape(shape[0], -1)
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(gram, gain ** 2 * np.eye(gram.shape[0]), atol=1e-10, err_msg=lib.__name__)


def test_orthogonal_float32_and_empty():
    w = ember.empty(5, 7)
    ember.nn.init.orthogonal_(w)
    assert w.dtype == ember.float32
    m = w.numpy().astype(np.float64)
    np.testing.assert_allclose(m @ m.T, np.eye(5), atol=1e-5)
    same(lambda lib: lib.nn.init.orthogonal_(lib.empty(0, 3)).shape)


@pytest.mark.parametrize("rows,cols,sparsity", [(200, 300, 0.1), (50, 40, 0.5), (7, 3, 0.3), (10, 10, 0.0)])
def test_sparse(rows, cols, sparsity):
    for lib in (ember, torch):
        w = lib.empty(rows, cols)
        assert lib.nn.init.sparse_(w, sparsity, std=0.05) is w
        x = w.numpy()
        zeros_per_col = (x == 0).sum(0)
        assert (zeros_per_col == math.ceil(sparsity * rows)).all(), lib.__name__
        if rows * cols > 10000:
            nz = x[x != 0].astype(np.float64)
            assert abs(nz.std() - 0.05) < 0.002 and abs(nz.mean()) < 0.002, lib.__name__
    same(lambda lib: lib.nn.init.sparse_(lib.empty(rows, cols), sparsity).dtype)


def test_sparse_rows_differ_between_columns():
    x = ember.nn.init.sparse_(ember.empty(100, 50), 0.5).numpy()
    patterns = {tuple(np.flatnonzero(x[:, j] == 0)) for j in range(50)}
    assert len(patterns) > 40


def test_generator_makes_initialisation_reproducible():
    def draw(seed, fn):
        g = ember.Generator().manual_seed(seed)
        return fn(ember.empty(20, 30), g).numpy().copy()
    fns = [lambda w, g: ember.nn.init.uniform_(w, generator=g), lambda w, g: ember.nn.init.normal_(w, generator=g),
           lambda w, g: ember.nn.init.xavier_uniform_(w, generator=g),
           lambda w, g: ember.nn.init.kaiming_normal_(w, generator=g),
           lambda w, g: ember.nn.init.trunc_normal_(w, generator=g),
           lambda w, g: ember.nn.init.orthogonal_(w, generator=g),
           lambda w, g: ember.nn.init.sparse_(w, 0.3, generator=g)]
    for fn in fns:
        np.testing.assert_array_equal(draw(1, fn), draw(1, fn))
        assert not np.array_equal(draw(1, fn), draw(2, fn))


def test_manual_seed_makes_initialisation_reproducible():
    def draw():
        ember.manual_seed(3)
        return ember.nn.init.kaiming_uniform_(ember.empty(10, 10)).numpy().copy()
    np.testing.assert_array_equal(draw(), draw())


def test_zero_element_kaiming_warns():
    def fn(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            a = lib.nn.init.kaiming_uniform_(lib.empty(0, 3))
            b = lib.nn.init.kaiming_normal_(lib.empty(3, 0))
        return [str(x.message) for x in w], a.shape, b.shape
    same(fn)


@pytest.mark.parametrize("name,args", [("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("eye", ()),
                                       ("xavier_uniform", ()), ("xavier_normal", ()), ("kaiming_uniform", ()),
                                       ("kaiming_normal", ()), ("orthogonal", ()), ("sparse", (0.1,))])
def test_deprecated_aliases(name, args):
    def fn(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = getattr(lib.nn.init, name)(lib.empty(4, 4), *args)
        return [(type(x.message).__name__, str(x.message)) for x in w], out.shape, getattr(lib.nn.init, name).__name__
    same(fn)


def test_deprecated_dirac():
    def fn(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = lib.nn.init.dirac(lib.empty(2, 2, 3))
        return [str(x.message) for x in w], out
    same(fn)


# ---- each layer's reset_parameters bounds ------------------------------------------------------------------------
LAYERS = [
    ("linear", lambda t: t.nn.Linear(400, 300), {"weight": 1 / math.sqrt(400), "bias": 1 / math.sqrt(400)}),
    ("linear_small_fan", lambda t: t.nn.Linear(3, 20000), {"weight": 1 / math.sqrt(3), "bias": 1 / math.sqrt(3)}),
    ("bilinear", lambda t: t.nn.Bilinear(40, 30, 100), {"weight": 1 / math.sqrt(40), "bias": 1 / math.sqrt(40)}),
    ("lazy_linear", lambda t: _materialised_lazy(t), {"weight": 1 / math.sqrt(250), "bias": 1 / math.sqrt(250)}),
]


def _materialised_lazy(t):
    m = t.nn.LazyLinear(400)
    m(t.ones(2, 250))
    return m


@pytest.mark.parametrize("name,build,bounds", LAYERS, ids=[c[0] for c in LAYERS])
def test_reset_parameters_bounds(name, build, bounds):
    for lib in (ember, torch):
        m = build(lib)
        for pname, bound in bounds.items():
            x = getattr(m, pname).detach().numpy().astype(np.float64)
            assert np.abs(x).max() <= bound, (lib.__name__, pname)
            assert np.abs(x).max() > bound * (0.9 if x.size < 1000 else 0.99), (lib.__name__, pname)
            if x.size > 10000:
                assert abs(x.std() - bound / math.sqrt(3)) < 0.01 * bound, (lib.__name__, pname)
                assert abs(x.mean()) < 0.01 * bound, (lib.__name__, pname)


def test_reset_parameters_redraws_in_place():
    def fn(lib):
        m = lib.nn.Linear(3, 4)
        w, b = m.weight, m.bias
        before = w.detach().clone()
        m.reset_parameters()
        return m.weight is w, m.bias is b, bool((m.weight != before).any()), m.weight.requires_grad
    same(fn)


def test_bilinear_zero_in1_features():
    same_error(lambda lib: lib.nn.Bilinear(0, 3, 2))


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")
def test_linear_zero_in_features_bias_zero():
    """fan_in = 0: the bias bound is 0 (torch's guard), so the bias is all zeros."""
    same(lambda lib: (lib.nn.Linear(0, 3).bias, lib.nn.Linear(0, 3).weight.shape))


# ---- direct NumPy fills: views, large tensors, both trunc_normal_ samplers -----------------------------------------
VIEW_FILLS = [
    ("uniform_", lambda t, w: t.nn.init.uniform_(w, -1.0, 3.0), (-1.0, 3.0)),
    ("normal_", lambda t, w: t.nn.init.normal_(w, 0.0, 0.5), (-4.0, 4.0)),
    ("trunc_normal_ rejection", lambda t, w: t.nn.init.trunc_normal_(w, 0.0, 1.0, -0.5, 1.5), (-0.5, 1.5)),
    ("trunc_normal_ inverse cdf", lambda t, w: t.nn.init.trunc_normal_(w, 0.0, 1.0, 2.0, 2.5), (2.0, 2.5)),
    ("kaiming_uniform_", lambda t, w: t.nn.init.kaiming_uniform_(w, a=math.sqrt(5)), (-0.2, 0.2)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,bounds", VIEW_FILLS, ids=[c[0] for c in VIEW_FILLS])
def test_fill_of_a_strided_view_writes_only_the_view(name, fn, bounds, dtype):
    """A non-contiguous view is filled in place (the rest of its base untouched), in its dtype, version bumped."""
    for lib in (ember, torch):
        base = lib.full((60, 50), 7.0, dtype=getattr(lib, dtype))
        view = base.t()[:, ::2]
        v0 = view._version
        assert fn(lib, view) is view
        x = base.numpy()
        assert (x[1::2] == 7).all(), lib.__name__
        got = x[::2].astype(np.float64)
        assert bounds[0] <= got.min() and got.max() <= bounds[1] and np.unique(got).size > 1000, lib.__name__
        assert view._version > v0 and str(view.dtype).endswith(dtype)


@pytest.mark.parametrize("shape", [(3, 5), (6, 2), (4, 4)])
def test_eye_on_a_transposed_view_matches_torch(shape):
    def fn(lib):
        base = lib.full((shape[1], shape[0]), 3.0)
        lib.nn.init.eye_(base.t())
        return base
    same(fn)


def test_large_float32_inits_have_torch_statistics():
    ember.manual_seed(0)
    w = ember.nn.init.trunc_normal_(ember.empty(512, 512), std=0.02)
    x = w.numpy().astype(np.float64)
    assert w.dtype == ember.float32 and abs(x.std() - 0.02) < 2e-4 and abs(x.mean()) < 2e-4
    q = ember.nn.init.orthogonal_(ember.empty(300, 200), gain=2.0)
    m = q.numpy().astype(np.float64)
    assert q.dtype == ember.float32
    np.testing.assert_allclose(m.T @ m, 4 * np.eye(200), atol=1e-4)
