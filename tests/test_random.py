"""Random sampling: reproducibility under manual_seed, statistics, result dtypes vs torch, Generators, RNG state.

ember's streams are its own (not PyTorch's), so values are checked for reproducibility and statistics, while
dtypes, shapes and errors are compared with torch.
"""
import math
import pickle

import numpy as np
import pytest
import torch

import ember
from parity import check_raises

N = 100_000

SAMPLERS = {
    "rand": lambda t, g=None: t.rand(3, 4, generator=g),
    "rand float64": lambda t, g=None: t.rand(5, dtype=t.float64, generator=g),
    "rand complex64": lambda t, g=None: t.rand(5, dtype=t.complex64, generator=g),
    "randn": lambda t, g=None: t.randn(3, 4, generator=g),
    "randn float16": lambda t, g=None: t.randn(7, dtype=t.float16, generator=g),
    "randn complex128": lambda t, g=None: t.randn(4, dtype=t.complex128, generator=g),
    "randint high": lambda t, g=None: t.randint(10, (6,), generator=g),
    "randint low high": lambda t, g=None: t.randint(3, 10, (3, 2), generator=g),
    "randint float dtype": lambda t, g=None: t.randint(3, 10, (3,), dtype=t.float32, generator=g),
    "randint uint8": lambda t, g=None: t.randint(0, 256, (4,), dtype=t.uint8, generator=g),
    "randint keywords": lambda t, g=None: t.randint(low=-5, high=5, size=(5,), generator=g),
    "randint size keyword": lambda t, g=None: t.randint(5, size=(3,), generator=g),
    "randperm": lambda t, g=None: t.randperm(9, generator=g),
    "randperm float": lambda t, g=None: t.randperm(5, dtype=t.float32, generator=g),
    "normal floats": lambda t, g=None: t.normal(2., 3., (4, 2), generator=g),
    "normal float64 dtype": lambda t, g=None: t.normal(0., 1., (3,), dtype=t.float64, generator=g),
    "normal tensors": lambda t, g=None: t.normal(t.zeros(3), t.ones(3), generator=g),
    "normal tensor mean": lambda t, g=None: t.normal(t.zeros(3, dtype=t.float64), 2., generator=g),
    "normal tensor std": lambda t, g=None: t.normal(1., t.ones(2, 3), generator=g),
    "normal broadcast": lambda t, g=None: t.normal(t.zeros(2, 1), t.ones(3), generator=g),
    "normal mixed dtypes": lambda t, g=None: t.normal(t.zeros(2), t.ones(2, dtype=t.float64), generator=g),
    "bernoulli": lambda t, g=None: t.bernoulli(t.full((20,), 0.5), generator=g),
    "bernoulli float64": lambda t, g=None: t.bernoulli(t.full((20,), 0.3, dtype=t.float64), generator=g),
    "bernoulli p": lambda t, g=None: t.bernoulli(t.ones(20), 0.3, generator=g),
    "bernoulli int input with p": lambda t, g=None: t.bernoulli(t.ones(20, dtype=t.int64), 0.3, generator=g),
    "bernoulli method": lambda t, g=None: t.full((20,), 0.5).bernoulli(generator=g),
    "multinomial replacement": lambda t, g=None: t.multinomial(t.tensor([0.2, 0.8]), 6, True, generator=g),
    "multinomial 2d": lambda t, g=None: t.multinomial(t.ones(3, 4), 2, generator=g),
    "multinomial float64": lambda t, g=None: t.multinomial(t.ones(5, dtype=t.float64), 5, generator=g),
    "multinomial method": lambda t, g=None: t.ones(4).multinomial(3, generator=g),
    "multinomial empty rows": lambda t, g=None: t.multinomial(t.ones(0, 3), 2, generator=g),
    "uniform_": lambda t, g=None: t.zeros(3, 2).uniform_(generator=g),
    "uniform_ bounds": lambda t, g=None: t.zeros(5, dtype=t.float64).uniform_(2, 3, generator=g),
    "normal_": lambda t, g=None: t.zeros(6).normal_(generator=g),
    "normal_ float16": lambda t, g=None: t.zeros(6, dtype=t.float16).normal_(2, 3, generator=g),
    "random_ float": lambda t, g=None: t.zeros(6).random_(generator=g),
    "random_ to": lambda t, g=None: t.zeros(6, dtype=t.int64).random_(10, generator=g),
    "random_ from to": lambda t, g=None: t.zeros(6, dtype=t.int32).random_(3, 10, generator=g),
    "random_ bool": lambda t, g=None: t.zeros(6, dtype=t.bool).random_(generator=g),
    "random_ uint8": lambda t, g=None: t.zeros(6, dtype=t.uint8).random_(generator=g),
    "bernoulli_": lambda t, g=None: t.zeros(10).bernoulli_(0.5, generator=g),
    "bernoulli_ tensor p": lambda t, g=None: t.zeros(10, dtype=t.int64).bernoulli_(t.full((10,), 0.4), generator=g),
    "exponential_": lambda t, g=None: t.zeros(5).exponential_(generator=g),
    "geometric_": lambda t, g=None: t.zeros(5).geometric_(0.3, generator=g),
    "log_normal_": lambda t, g=None: t.zeros(5).log_normal_(generator=g),
    "cauchy_": lambda t, g=None: t.zeros(5).cauchy_(generator=g),
    "poisson": lambda t, g=None: t.poisson(t.full((6,), 3.), generator=g),
}
NO_GENERATOR = {
    "rand_like": lambda t: t.rand_like(t.ones(2, 3, dtype=t.float64)),
    "randn_like": lambda t: t.randn_like(t.ones(2, 3)),
    "randint_like": lambda t: t.randint_like(t.ones(2, 3), 10),
    "randint_like low high": lambda t: t.randint_like(t.ones(2, 3, dtype=t.int32), 3, 10),
}
ALL_SAMPLERS = {**SAMPLERS, **NO_GENERATOR}


def _vals(x):
    return x.numpy().copy()


@pytest.mark.parametrize("name", list(ALL_SAMPLERS))
def test_dtype_and_shape_match_torch(name):
    e, t = ALL_SAMPLERS[name](ember), ALL_SAMPLERS[name](torch)
    assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
    assert e.requires_grad == t.requires_grad


@pytest.mark.parametrize("name", list(ALL_SAMPLERS))
def test_manual_seed_reproducibility(name):
    fn = ALL_SAMPLERS[name]
    ember.manual_seed(1234)
    a, b = _vals(fn(ember)), _vals(fn(ember))
    ember.manual_seed(1234)
    c, d = _vals(fn(ember)), _vals(fn(ember))
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(b, d)
    if a.size >= 5 and "empty" not in name:
        draws = []
        for seed in (1, 2, 3):
            ember.manual_seed(seed)
            draws.append(_vals(fn(ember)))
        assert any(not np.array_equal(draws[0], x) for x in draws[1:]), "different seeds gave the same values"


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_generator_argument(name):
    fn = SAMPLERS[name]
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    ember.manual_seed(0)
    a = _vals(fn(ember, g1))
    ember.manual_seed(99)  # the global generator must not matter
    b = _vals(fn(ember, g2))
    np.testing.assert_array_equal(a, b)
    state = ember.get_rng_state()
    fn(ember, g1)
    assert ember.get_rng_state().equal(state), "a private generator advanced the global one"


def test_generator_api():
    g = ember.Generator()
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert repr(g.device) == repr(torch.Generator().device) and g.device == ember.device("cpu")
    assert isinstance(ember.default_generator, ember.Generator)
    assert ember.manual_seed(5) is ember.default_generator and ember.initial_seed() == 5
    for seed in (-1, -2 ** 63, 2 ** 64 - 1, 0):
        assert ember.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
    s = g.seed()
    assert g.initial_seed() == s
    state = g.get_state()
    x = ember.rand(4, generator=g)
    g.set_state(state)
    assert ember.rand(4, generator=g).equal(x)
    g2 = pickle.loads(pickle.dumps(g))
    assert ember.rand(3, generator=g2).equal(ember.rand(3, generator=g))
    torch.manual_seed(0)


@pytest.mark.parametrize("fn,exc", [
    (lambda t: t.manual_seed(2 ** 64), ValueError),
    (lambda t: t.manual_seed(-2 ** 63 - 1), ValueError),
    (lambda t: t.Generator().manual_seed(2 ** 64), ValueError),
    (lambda t: t.Generator("cuda"), RuntimeError),
    (lambda t: t.set_rng_state(t.ones(3)), TypeError),
    (lambda t: t.set_rng_state([1, 2]), TypeError),
    (lambda t: t.set_rng_state(t.ones(3, dtype=t.uint8)), RuntimeError),
    (lambda t: t.rand(2, generator=3), TypeError),
])
def test_generator_errors(fn, exc):
    check_raises(fn, exc)


def test_get_set_rng_state():
    ember.manual_seed(11)
    state = ember.get_rng_state()
    assert repr(state.dtype) == repr(torch.get_rng_state().dtype) and state.dim() == 1
    a = ember.randn(5)
    ember.set_rng_state(state)
    assert ember.randn(5).equal(a)
    ember.random.set_rng_state(state)
    assert ember.random.get_rng_state().equal(state)
    ember.random.manual_seed(11)
    assert ember.randn(5).equal(a)


def test_fork_rng():
    ember.manual_seed(3)
    with ember.random.fork_rng():
        inside = ember.rand(4)
    after = ember.rand(4)
    assert inside.equal(after), "fork_rng must restore the global state on exit"
    with ember.random.fork_rng(enabled=False):
        ember.rand(1)
    assert not ember.rand(4).equal(after)
    ember.manual_seed(3)
    with pytest.raises(KeyError):
        with ember.random.fork_rng(devices=[]):
            ember.rand(10)
            raise KeyError("boom")
    assert ember.rand(4).equal(inside), "state must be restored even when the block raises"


# ---- statistics --------------------------------------------------------------------------------------------------
def test_uniform_and_normal_statistics():
    ember.manual_seed(0)
    u = ember.rand(N).numpy()
    assert 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.std() - math.sqrt(1 / 12)) < 0.005
    z = ember.randn(N, dtype=ember.float64).numpy()
    assert abs(z.mean()) < 0.015 and abs(z.std() - 1) < 0.015
    x = ember.normal(2., 3., (N,)).numpy()
    assert abs(x.mean() - 2) < 0.05 and abs(x.std() - 3) < 0.05
    y = ember.empty(N).uniform_(-2, 5).numpy()
    assert -2 <= y.min() and y.max() < 5 and abs(y.mean() - 1.5) < 0.05
    w = ember.empty(N, dtype=ember.float64).normal_(-1, 0.5).numpy()
    assert abs(w.mean() + 1) < 0.01 and abs(w.std() - 0.5) < 0.01
    c = ember.randn(N, dtype=ember.complex64).numpy()
    assert abs(np.mean(np.abs(c) ** 2) - 1) < 0.02 and abs(c.real.std() - math.sqrt(0.5)) < 0.01
    h = ember.rand(N, dtype=ember.float16).numpy()
    assert h.max() < 1 and abs(h.astype(np.float64).mean() - 0.5) < 0.01
    m = ember.normal(ember.full((N,), 5.), ember.full((N,), 0.1)).numpy()
    assert abs(m.mean() - 5) < 0.005 and abs(m.std() - 0.1) < 0.005


def test_integer_sampler_ranges():
    ember.manual_seed(1)
    r = ember.randint(-3, 7, (N,)).numpy()
    assert r.min() == -3 and r.max() == 6
    counts = np.bincount(r + 3)
    assert np.all(np.abs(counts / N - 0.1) < 0.01)
    p = ember.randperm(1000).numpy()
    assert sorted(p.tolist()) == list(range(1000)) and not np.array_equal(p, np.arange(1000))
    q = ember.zeros(N, dtype=ember.int64).random_(5).numpy()
    assert q.min() == 0 and q.max() == 4
    b = ember.zeros(N, dtype=ember.bool).random_().numpy()
    assert 0.48 < b.mean() < 0.52
    f = ember.zeros(N).random_().numpy()
    assert f.min() >= 0 and f.max() <= 2 ** 24 and np.all(f == np.round(f))
    ri = ember.randint_like(ember.zeros(N, dtype=ember.int32), 2, 4).numpy()
    assert set(np.unique(ri).tolist()) == {2, 3}


def test_bernoulli_statistics():
    ember.manual_seed(2)
    p = ember.tensor([0.0, 0.1, 0.5, 0.9, 1.0]).repeat(N // 5, 1)
    s = ember.bernoulli(p).numpy()
    np.testing.assert_allclose(s.mean(0), [0, 0.1, 0.5, 0.9, 1], atol=0.01)
    assert set(np.unique(s).tolist()) <= {0.0, 1.0}
    assert abs(ember.empty(N).bernoulli_(0.25).numpy().mean() - 0.25) < 0.01
    assert abs(ember.bernoulli(ember.zeros(N), 0.7).numpy().mean() - 0.7) < 0.01


def test_multinomial_statistics():
    ember.manual_seed(3)
    probs = ember.tensor([1., 2., 3., 4.])
    s = ember.multinomial(probs, N, replacement=True).numpy()
    np.testing.assert_allclose(np.bincount(s, minlength=4) / N, [0.1, 0.2, 0.3, 0.4], atol=0.01)
    rows = ember.tensor([[0., 1., 0.], [5., 0., 5.]])
    s2 = ember.multinomial(rows, 1000, replacement=True).numpy()
    assert (s2[0] == 1).all() and set(np.unique(s2[1]).tolist()) == {0, 2}
    # without replacement: each draw is a set of distinct categories; first picks follow the probabilities
    draws = ember.multinomial(probs.repeat(20000, 1), 4).numpy()
    assert all(sorted(r) == [0, 1, 2, 3] for r in draws[:100])
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=4) / 20000, [0.1, 0.2, 0.3, 0.4], atol=0.015)
    pair = ember.multinomial(ember.tensor([1., 0., 1.]), 2).numpy()
    assert sorted(pair.tolist()) == [0, 2]
    # once the positive categories are used up, zero-probability ones follow in index order (as in torch)
    for t in (ember, torch):
        assert t.multinomial(t.tensor([1., 0., 0.]), 2).tolist() == [0, 1]


def test_other_distributions_statistics():
    ember.manual_seed(4)
    e = ember.empty(N, dtype=ember.float64).exponential_(2.0).numpy()
    assert abs(e.mean() - 0.5) < 0.01 and e.min() >= 0
    g = ember.empty(N).geometric_(0.25).numpy()
    assert abs(g.mean() - 4) < 0.1 and g.min() >= 1
    p = ember.poisson(ember.full((N,), 3.)).numpy()
    assert abs(p.mean() - 3) < 0.05 and abs(p.var() - 3) < 0.1
    ln = ember.empty(N, dtype=ember.float64).log_normal_(0.0, 0.5).numpy()
    assert abs(np.log(ln).mean()) < 0.01 and abs(np.log(ln).std() - 0.5) < 0.01
    c = ember.empty(N, dtype=ember.float64).cauchy_(1.0, 2.0).numpy()
    assert abs(np.median(c) - 1) < 0.05


def test_normal_is_differentiable_in_mean_and_std():
    mean = ember.zeros(4, dtype=ember.float64, requires_grad=True)
    std = ember.full((4,), 2., dtype=ember.float64, requires_grad=True)
    ember.manual_seed(5)
    out = ember.normal(mean, std)
    tmean = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    assert out.requires_grad == torch.normal(tmean, 2.).requires_grad
    g = ember.tensor([1., 2., 3., 4.], dtype=ember.float64)
    out.backward(g)
    np.testing.assert_allclose(mean.grad.numpy(), g.numpy())
    np.testing.assert_allclose(std.grad.numpy(), (g * (out.detach() - mean.detach()) / std.detach()).numpy())


# ---- errors ------------------------------------------------------------------------------------------------------
RANDOM_ERRORS = [
    (lambda t: t.zeros(3).cauchy_(0, 0), RuntimeError, "cauchy_ expects sigma > 0.0, but found sigma=0"),
    (lambda t: t.multinomial(t.ones(1, 2), 2, out=t.zeros(1, 2)), RuntimeError, "multinomial expects Long tensor out, "
                                                                               "got: Float"),
    (lambda t: t.multinomial(t.ones(1, 2, 3), 2), RuntimeError, "prob_dist must be 1 or 2 dim"),
    (lambda t: t.multinomial(t.zeros(2 ** 24 + 1), 3), RuntimeError, "number of categories cannot exceed 2\\^24"),
    (lambda t: t.multinomial(t.tensor([1., -1., 1.]), 2, True), RuntimeError,
     "invalid multinomial distribution \\(encountering probability entry < 0\\)"),
    (lambda t: t.multinomial(t.tensor([1., float("inf"), 1.]), 2, True), RuntimeError,
     "invalid multinomial distribution \\(encountering probability entry = infinity or NaN\\)"),
    (lambda t: t.multinomial(t.tensor([1., 1., float("nan")]), 2, True), RuntimeError,
     "invalid multinomial distribution \\(encountering probability entry < 0\\)"),
    (lambda t: t.multinomial(t.tensor([1., float("nan")]), 1), RuntimeError, "probability tensor contains either"),
    (lambda t: t.bernoulli(t.rand(6), out=t.zeros(1).expand(6)), RuntimeError,
     "more than one element of the written-to tensor"),
    (lambda t: t.rand(2, dtype=t.int64), NotImplementedError, "'Long'"),
    (lambda t: t.randn(2, dtype=t.int64), NotImplementedError, "'Long'"),
    (lambda t: t.rand_like(t.ones(2, dtype=t.int64)), NotImplementedError, "'Long'"),
    (lambda t: t.rand(-1), RuntimeError, "negative dimension"),
    (lambda t: t.randn(2, -1), RuntimeError, "negative dimension"),
    (lambda t: t.randint(10, 3, (3,)), RuntimeError, "from=10 >= to=3"),
    (lambda t: t.randint(10, 3), TypeError, None),
    (lambda t: t.randint(10), TypeError, None),
    (lambda t: t.randint(-3, 10, (3,), dtype=t.uint8), RuntimeError, "from is out of bounds"),
    (lambda t: t.randint(0, 300, (3,), dtype=t.uint8), RuntimeError, "to - 1 is out of bounds"),
    (lambda t: t.randint(3, 10, (3,), dtype=t.bool), RuntimeError, "out of bounds for bool"),
    (lambda t: t.randperm(-1), RuntimeError, "negative dimension"),
    (lambda t: t.normal(0., 1.), TypeError, None),
    (lambda t: t.normal(0., -1., (2,)), RuntimeError, "normal expects std >= 0.0, but found std -1"),
    (lambda t: t.normal(t.zeros(2), -t.ones(2)), RuntimeError, "std >= 0.0"),
    (lambda t: t.normal(t.zeros(2, dtype=t.int64), 1.), NotImplementedError, "'Long'"),
    (lambda t: t.normal(2., 3., size=(2,), dtype=t.int64), NotImplementedError, "'Long'"),
    (lambda t: t.normal(t.zeros(6), t.ones(2, 3)), RuntimeError, None),
    (lambda t: t.bernoulli(t.full((3,), 1.5)), RuntimeError, "Expected p_in >= 0 && p_in <= 1"),
    (lambda t: t.bernoulli(t.ones(3), 1.5), RuntimeError, "bernoulli_ expects p to be in \\[0, 1\\], but got p=1.5"),
    (lambda t: t.bernoulli(t.ones(3, dtype=t.int64)), NotImplementedError, "'Long'"),
    (lambda t: t.ones(3).bernoulli_(-0.5), RuntimeError, "bernoulli_ expects p"),
    (lambda t: t.multinomial(t.ones(3), 4), RuntimeError, "cannot sample n_sample > prob_dist.size\\(-1\\)"),
    (lambda t: t.multinomial(t.tensor([-1., 2.]), 1), RuntimeError, "probability tensor contains"),
    (lambda t: t.multinomial(t.tensor([float("nan"), 1.]), 1), RuntimeError, "probability tensor contains"),
    (lambda t: t.multinomial(t.tensor([float("inf"), 1.]), 1), RuntimeError, "probability tensor contains"),
    (lambda t: t.multinomial(t.zeros(3), 1), RuntimeError, "sum of probabilities"),
    (lambda t: t.multinomial(t.ones(3, dtype=t.int64), 1), RuntimeError, "only supports floating-point dtypes"),
    (lambda t: t.multinomial(t.ones(2, 2, 3), 1), RuntimeError, "prob_dist must be 1 or 2 dim"),
    (lambda t: t.multinomial(t.ones(3), 0), RuntimeError, "n_sample <= 0"),
    (lambda t: t.zeros(3, dtype=t.int64).uniform_(), NotImplementedError, "'Long'"),
    (lambda t: t.zeros(3).uniform_(3, 2), RuntimeError, "found from=3 > to=2"),
    (lambda t: t.zeros(3, dtype=t.int64).normal_(), NotImplementedError, "'Long'"),
    (lambda t: t.zeros(3).normal_(0, -1), RuntimeError, "normal expects std >= 0.0, but found std -1"),
    (lambda t: t.zeros(3, dtype=t.int32).random_(10, 3), RuntimeError, "from=10 >= to=3"),
    (lambda t: t.zeros(3).random_(0), RuntimeError, "from=0 >= to=0"),
    (lambda t: t.zeros(3, dtype=t.uint8).random_(300), RuntimeError, "to - 1 is out of bounds"),
    (lambda t: t.zeros(3).exponential_(-1), RuntimeError, "exponential_ expects lambda > 0.0"),
    (lambda t: t.zeros(3, dtype=t.int64).exponential_(), RuntimeError, "dtype must be a floating point"),
    (lambda t: t.zeros(3).geometric_(1.5), RuntimeError, "geometric_ expects p to be in \\(0, 1\\)"),
    (lambda t: t.poisson(t.tensor([-1.])), RuntimeError, "invalid Poisson rate"),
    (lambda t: t.poisson(t.tensor([1], dtype=t.int64)), NotImplementedError, "'Long'"),
    (lambda t: t.zeros(3, requires_grad=True).uniform_(), RuntimeError, "leaf Variable that requires grad"),
]


@pytest.mark.parametrize("fn,exc,match", RANDOM_ERRORS)
def test_random_errors(fn, exc, match):
    check_raises(fn, exc, match)


def test_in_place_fill_under_no_grad_keeps_leaf():
    for t in (ember, torch):
        w = t.zeros(3, requires_grad=True)
        with t.no_grad():
            w.uniform_(-1, 1)
            w.normal_()
        assert w.is_leaf and w.requires_grad and w.grad_fn is None


# ---- the float32 Box-Muller sampler (large float32 normal draws) ----------------------------------------------------
BM = 150_001  # odd, and far above the size where Box-Muller takes over from NumPy's ziggurat
BOX_MULLER = {
    "randn": (lambda t: t.randn(BM), 0.0, 1.0),
    "randn 2-d odd": (lambda t: t.randn(391, 389), 0.0, 1.0),
    "randn threshold": (lambda t: t.randn(2048), 0.0, 1.0),
    "randn_like": (lambda t: t.randn_like(t.zeros(BM)), 0.0, 1.0),
    "normal floats": (lambda t: t.normal(2.0, 3.0, (BM,)), 2.0, 3.0),
    "normal_ in place": (lambda t: t.empty(BM).normal_(-1.0, 0.5), -1.0, 0.5),
    "normal_ on a transposed view": (lambda t: t.empty(300, 500).t().normal_(0.0, 2.0), 0.0, 2.0),
    "randn float16": (lambda t: t.randn(BM, dtype=t.float16), 0.0, 1.0),
    "randn complex64 real part": (lambda t: t.randn(BM, dtype=t.complex64), 0.0, math.sqrt(0.5)),
    "init.normal_": (lambda t: t.nn.init.normal_(t.empty(400, 300), 0.5, 0.1), 0.5, 0.1),
    "init.kaiming_normal_": (lambda t: t.nn.init.kaiming_normal_(t.empty(400, 300)), 0.0, math.sqrt(2 / 300)),
}


@pytest.mark.parametrize("name", list(BOX_MULLER))
def test_box_muller_normal_samples(name):
    """Large float32 normal draws: torch's dtype/shape, the right moments, a Kolmogorov-Smirnov fit to the normal
    CDF, and independent halves (each 64-bit draw feeds a cos and a sin output)."""
    fn, mean, std = BOX_MULLER[name]
    ember.manual_seed(11)
    e, t = fn(ember), fn(torch)
    assert (e.dtype, tuple(e.shape)) == (_DT[t.dtype], tuple(t.shape))
    x = e.numpy()
    x = (x.real if np.iscomplexobj(x) else x).astype(np.float64).reshape(-1)
    assert np.isfinite(x).all()
    z = np.sort((x - mean) / std)
    n = z.size
    assert abs(z.mean()) < 5 / math.sqrt(n) and abs(z.std() - 1) < 5 / math.sqrt(n)
    assert 3.5 < np.abs(z).max() < 6.7
    cdf = torch.special.ndtr(torch.from_numpy(z)).numpy()
    ks = max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max())
    assert ks < 1.8 / math.sqrt(n) + (2e-3 if e.dtype == ember.float16 else 0), ks
    half = n // 2
    a, b = x[:half] - mean, x[half:2 * half] - mean
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(half)
    assert abs(np.corrcoef(a * a, b * b)[0, 1]) < 5 / math.sqrt(half)


_DT = {torch.float32: ember.float32, torch.float16: ember.float16, torch.complex64: ember.complex64,
       torch.float64: ember.float64}


@pytest.mark.parametrize("shape", [(0,), (3, 0, 5), ()])
def test_large_sampler_paths_on_empty_and_scalar_shapes(shape):
    for make in (lambda t: t.randn(shape), lambda t: t.empty(shape).normal_(), lambda t: t.rand(shape)):
        e, t = make(ember), make(torch)
        assert tuple(e.shape) == tuple(t.shape) and e.dtype == ember.float32


def test_box_muller_is_reproducible_under_seed():
    ember.manual_seed(5)
    a = ember.randn(5000).numpy().copy()
    ember.manual_seed(5)
    assert np.array_equal(a, ember.randn(5000).numpy())
    assert not np.array_equal(a, ember.randn(5000).numpy())
