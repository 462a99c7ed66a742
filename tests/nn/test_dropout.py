"""The dropout family: eval identity, 1/(1-p) scaling, drop rates, channel-wise masks, alpha dropout statistics,
reproducibility under ember.manual_seed, gradients through the mask, in-place forms, reprs and torch's errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import check
from .nnparity import arr, same, same_error

F64_32 = ("float64", "float32")
# (module, functional, accepted input shape, the mask shape it draws: one value per ...)
FAMILY = [
    ("Dropout", "dropout", (40, 50, 6), (40, 50, 6)),
    ("Dropout1d", "dropout1d", (40, 30, 7), (40, 30, 1)),
    ("Dropout2d", "dropout2d", (20, 30, 3, 4), (20, 30, 1, 1)),
    ("Dropout3d", "dropout3d", (10, 40, 2, 3, 2), (10, 40, 1, 1, 1)),
    ("AlphaDropout", "alpha_dropout", (40, 50, 6), (40, 50, 6)),
    ("FeatureAlphaDropout", "feature_alpha_dropout", (40, 30, 3, 4), (40, 30, 1, 1)),
]
IDS = [f[0] for f in FAMILY]
ALPHA = ("AlphaDropout", "FeatureAlphaDropout")


def _fn(lib, name):
    return getattr(lib.nn.functional, name)


@pytest.mark.parametrize("dtype", F64_32)
@pytest.mark.parametrize("spec", FAMILY, ids=IDS)
def test_eval_is_identity(spec, dtype):
    mod, fn, shape, _ = spec
    x = arr(*shape[:3], seed=1).astype(dtype) if mod == "Dropout" else arr(*shape, seed=1).astype(dtype)
    check(lambda t, v: getattr(t.nn, mod)(0.4).eval()(v), [x], dtypes=[dtype])
    check(lambda t, v: _fn(t, fn)(v, 0.4, training=False), [x], dtypes=[dtype])
    e = ember.tensor(x)
    assert getattr(ember.nn, mod)(0.4).eval()(e) is e


@pytest.mark.parametrize("spec", FAMILY, ids=IDS)
def test_p_zero_is_identity_and_p_one(spec):
    """p=0 leaves the input unchanged; p=1 zeroes it (alpha dropout: maps it to its fixed point), as torch."""
    mod, fn, shape, _ = spec
    x = arr(*shape[:2], *shape[2:], seed=2)
    check(lambda t, v: getattr(t.nn, mod)(0.0)(v), [x], dtypes=F64_32)
    check(lambda t, v: getattr(t.nn, mod)(1.0)(v), [x], dtypes=F64_32)


@pytest.mark.parametrize("dtype", F64_32)
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("spec", [f for f in FAMILY if f[0] not in ALPHA],
                         ids=[f[0] for f in FAMILY if f[0] not in ALPHA])
def test_scaling_rate_and_mask_shape(spec, p, dtype):
    """Kept values are x / (1 - p); the dropped fraction is p (binomial 5-sigma band); masks are constant per
    channel for the Nd variants; the gradient is the same scaled mask."""
    mod, fn, shape, mask_shape = spec
    x = ember.tensor((np.abs(arr(*shape, seed=3)) + 0.5).astype(dtype), requires_grad=True)
    ember.manual_seed(0)
    y = getattr(ember.nn, mod)(p)(x)
    assert y.dtype == x.dtype and tuple(y.shape) == shape
    ratio = (y.detach() / x.detach()).numpy()
    kept = ratio != 0
    np.testing.assert_allclose(ratio[kept], 1 / (1 - p), rtol=1e-6)
    mask = kept.reshape(mask_shape + (-1,))
    assert (mask == mask[..., :1]).all(), "one draw per mask element (per channel for the Nd variants)"
    n = int(np.prod(mask_shape))
    dropped = 1 - mask[..., 0].mean()
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)
    g = arr(*shape, seed=4).astype(dtype)
    y.backward(ember.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * ratio, rtol=1e-6)


@pytest.mark.parametrize("dtype", F64_32)
@pytest.mark.parametrize("p", [0.1, 0.5])
@pytest.mark.parametrize("spec", [f for f in FAMILY if f[0] in ALPHA], ids=ALPHA)
def test_alpha_dropout_keeps_mean_and_variance(spec, p, dtype):
    """On unit-normal input the output keeps mean 0 and variance 1 (within sampling error); dropped units take the
    single value a * alpha' + b, constant per channel for FeatureAlphaDropout; the gradient is a on kept units."""
    mod, fn, shape, mask_shape = spec
    big = (200,) + shape[1:]
    x = ember.tensor(np.random.default_rng(5).standard_normal(big).astype(dtype), requires_grad=True)
    ember.manual_seed(1)
    y = getattr(ember.nn, mod)(p)(x)
    assert y.dtype == x.dtype
    yn = y.detach().numpy().astype(np.float64)
    n = yn.size if mod == "AlphaDropout" else np.prod((200,) + mask_shape[1:])
    assert abs(yn.mean()) < 6 / np.sqrt(n) + 0.02
    assert abs(yn.var() - 1) < 0.05
    alpha_p = -1.7580993408473766
    a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * p
    xn = x.detach().numpy().astype(np.float64)
    kept = np.isclose(yn, a * xn + b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(yn[~kept], a * alpha_p + b, rtol=1e-5)
    assert abs((~kept).mean() - p) < 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, a, 0.0), rtol=1e-5)


def test_alpha_dropout_defaults_to_eval_in_functional():
    """F.alpha_dropout / feature_alpha_dropout default to training=False (identity), as in torch."""
    check(lambda t, v: (t.nn.functional.alpha_dropout(v, 0.5), t.nn.functional.feature_alpha_dropout(v, 0.5)),
          [arr(3, 4, 2)], dtypes=F64_32)


@pytest.mark.parametrize("spec", FAMILY, ids=IDS)
def test_reproducible_under_manual_seed(spec):
    mod, fn, shape, _ = spec
    x = ember.tensor(arr(*shape, seed=6).astype(np.float32))
    ember.manual_seed(123)
    a = getattr(ember.nn, mod)(0.3)(x)
    b = getattr(ember.nn, mod)(0.3)(x)
    ember.manual_seed(123)
    c = getattr(ember.nn, mod)(0.3)(x)
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("spec", FAMILY, ids=IDS)
def test_inplace(spec):
    mod, fn, shape, _ = spec
    x = ember.tensor(arr(*shape, seed=7), requires_grad=True)
    y = x * 1.0
    ember.manual_seed(4)
    out = getattr(ember.nn, mod)(0.5, inplace=True)(y)
    assert out is y
    ember.manual_seed(4)
    ref = getattr(ember.nn, mod)(0.5)(x.detach())
    np.testing.assert_array_equal(y.detach().numpy(), ref.numpy())
    y.sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()
    ember.manual_seed(4)
    z = x.detach().clone()
    assert _fn(ember, fn)(z, 0.5, training=True, inplace=True) is z
    np.testing.assert_array_equal(z.numpy(), ref.numpy())


@pytest.mark.parametrize("spec", FAMILY, ids=IDS)
def test_repr(spec):
    same(lambda t: (repr(getattr(t.nn, spec[0])()), repr(getattr(t.nn, spec[0])(0.3, inplace=True)),
                    getattr(t.nn, spec[0])(0.2).p))


@pytest.mark.parametrize("spec", FAMILY, ids=IDS)
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_p(spec, p):
    same_error(lambda t: getattr(t.nn, spec[0])(p))
    same_error(lambda t: _fn(t, spec[1])(t.ones(2, 3, 4), p, True))


def test_empty_and_scalar_inputs():
    for shape in [(0, 3), ()]:
        x = ember.tensor(np.ones(shape, np.float32))
        y = ember.nn.functional.dropout(x, 0.5)
        assert tuple(y.shape) == shape and y.dtype == ember.float32
    check(lambda t, v: t.nn.Dropout1d(0.5)(v), [np.zeros((0, 3, 4))])


@pytest.mark.parametrize("mod,shape,mask_shape", [
    ("Dropout1d", (200, 6), (200, 1)), ("Dropout3d", (200, 2, 2, 2), (200, 1, 1, 1)),
    ("Dropout2d", (200, 3, 2), (200, 3, 1)),  # torch's legacy rule: 3-D input is (N, C, L)
    ("Dropout3d", (50, 3, 2), (50, 1, 1)), ("Dropout3d", (30, 2, 1, 1, 1, 2), (30, 1, 1, 1, 1, 1)),
    ("Dropout2d", (20, 30, 2, 2, 2), (20, 30, 1, 1, 1)), ("Dropout2d", (40, 50), (40, 50))])
def test_feature_dropout_mask_layout(mod, shape, mask_shape):
    """Which dims share one draw, for unbatched and off-spec ranks (as torch's feature_dropout lays them out)."""
    x = ember.tensor(np.ones(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(ember.nn, mod)(0.5)(x).numpy()
    m = y.reshape(mask_shape + (-1,))
    assert (m == m[..., :1]).all() and 0.3 < (m[..., 0] == 0).mean() < 0.7


DIM_ERRORS = [
    ("dropout1d_2d_ok_4d_bad", lambda t: t.nn.functional.dropout1d(t.ones(2, 3, 4, 5), 0.5)),
    ("dropout1d_1d", lambda t: t.nn.functional.dropout1d(t.ones(3), 0.5)),
]


@pytest.mark.parametrize("name,fn", DIM_ERRORS, ids=[d[0] for d in DIM_ERRORS])
def test_dim_errors(name, fn):
    same_error(fn)


@pytest.mark.parametrize("fn", ["dropout2d", "dropout3d"])
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3), (2, 3, 4, 5, 6), (2, 3, 4, 5)])
def test_feature_dropout_dimension_warnings(shape, fn):
    """dropout2d/3d on off-spec ranks warn like torch."""
    msgs = []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            getattr(lib.nn.functional, fn)(lib.ones(*shape), 0.5, training=False)
        msgs.append([(m.category.__name__, str(m.message)) for m in w])
    assert msgs[0] == msgs[1]


def test_dropout_in_model_train_eval():
    """A model with dropout: eval output equals torch's with copied weights (dropout off)."""
    def fn(t):
        t.manual_seed(0)
        m = t.nn.Sequential(t.nn.Linear(4, 3), t.nn.Dropout(0.5), t.nn.AlphaDropout(0.2))
        with t.no_grad():
            m[0].weight.copy_(t.tensor(arr(3, 4, seed=1, dtype="float32")))
            m[0].bias.copy_(t.tensor(arr(3, seed=2, dtype="float32")))
        m.eval()
        return m(t.tensor(arr(5, 4, seed=3, dtype="float32")))
    same(fn)
