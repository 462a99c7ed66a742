"""Reductions, scans and sorting against torch: values, dtypes, index outputs, gradients, errors, repr."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, check_raises, assert_same, to_ember, to_torch

F = ("float64", "float32")
INF, NAN = np.inf, np.nan


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def ties(*shape, seed=0, hi=3):
    """Small integer-valued floats: many ties."""
    return np.random.default_rng(seed).integers(0, hi, shape).astype(np.float64)


def ints(*shape, seed=0, dtype=np.int64, lo=-5, hi=6):
    return np.random.default_rng(seed).integers(lo, hi, shape).astype(dtype)


def distinct(*shape, seed=0):
    """A random permutation of 0..n-1 (no ties), as float."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape).astype(np.float64) - n / 2


def bools(*shape, seed=0):
    return np.random.default_rng(seed).integers(0, 2, shape).astype(bool)


X = rnd(2, 3, 4)
CX = rnd(3, 4) + 1j * rnd(3, 4, seed=1)
CINF = np.array([[1 + 3j, -INF + 0j, -INF + 2j, INF + 1j], [2 - 3j, INF - 1j, NAN + 0j, 0.5 + 0.5j],
                 [-INF + 0j, -INF + 1j, 1e300 + 1j, -1e300 + 0j]])
X2 = rnd(4, 5, seed=1)
E03 = np.zeros((0, 3))
S0 = np.array(1.5)


def case(name, fn, *inputs, **kw):
    kw.setdefault("dtypes", F)
    return pytest.param(fn, inputs, kw, id=name)


# ---- sum / mean / prod / nansum / nanmean --------------------------------------------------------------------
SUM_CASES = [
    case("sum-all", lambda t, x: x.sum(), X),
    case("sum-fn", lambda t, x: t.sum(x), X),
    case("sum-int-dim", lambda t, x: x.sum(1), X),
    case("sum-neg-dim", lambda t, x: t.sum(x, -1), X),
    case("sum-tuple", lambda t, x: x.sum((0, 2)), X),
    case("sum-tuple-neg-keepdim", lambda t, x: x.sum((0, -1), keepdim=True), X),
    case("sum-list", lambda t, x: x.sum([2, 1]), X),
    case("sum-none-kw", lambda t, x: x.sum(dim=None), X),
    case("sum-empty-list-reduces-all", lambda t, x: x.sum(dim=[]), X),
    case("sum-keepdim", lambda t, x: x.sum(1, keepdim=True), X),
    case("sum-dtype-f64", lambda t, x: x.sum(0, dtype=t.float64), X),
    case("sum-int32", lambda t, x: x.sum(), ints(3, 4, dtype=np.int32)),
    case("sum-int8-dim", lambda t, x: x.sum(1), ints(3, 4, dtype=np.int8)),
    case("sum-uint8", lambda t, x: x.sum(0), ints(3, 4, dtype=np.uint8, lo=0, hi=200)),
    case("sum-bool", lambda t, x: x.sum(), bools(3, 4)),
    case("sum-bool-dim", lambda t, x: t.sum(x, 0), bools(3, 4)),
    case("sum-int-dtype-f32", lambda t, x: x.sum(1, dtype=t.float32), ints(3, 4)),
    case("sum-0d", lambda t, x: x.sum(), S0),
    case("sum-0d-dim0", lambda t, x: x.sum(0), S0),
    case("sum-0d-dim-1-keepdim", lambda t, x: x.sum(-1, keepdim=True), S0),
    case("sum-empty-all", lambda t, x: x.sum(), E03),
    case("sum-empty-dim0", lambda t, x: x.sum(0), E03),
    case("sum-empty-dim1", lambda t, x: x.sum(1, keepdim=True), E03),
    case("sum-transposed", lambda t, x: x.transpose(0, 2).sum(1), X),
    case("sum-strided", lambda t, x: x[:, ::2, 1::2].sum(-1), X),
    case("mean-all", lambda t, x: x.mean(), X),
    case("mean-dim", lambda t, x: t.mean(x, 1), X),
    case("mean-tuple-keepdim", lambda t, x: x.mean((-1, 0), keepdim=True), X),
    case("mean-neg", lambda t, x: x.mean(-2), X),
    case("mean-int-dtype", lambda t, x: x.mean(dtype=t.float64), ints(3, 4)),
    case("mean-f32-dtype-f64", lambda t, x: x.mean(1, dtype=t.float64), X),
    case("mean-0d", lambda t, x: x.mean(), S0),
    case("mean-0d-dim", lambda t, x: x.mean(0), S0),
    case("mean-empty-all", lambda t, x: x.mean(), E03),
    case("mean-empty-dim0", lambda t, x: x.mean(0), E03),
    case("mean-empty-dim1", lambda t, x: x.mean(1), E03),
    case("mean-transposed", lambda t, x: x.t().mean(0), X2),
    case("prod-all", lambda t, x: x.prod(), rnd(3, 4)),
    case("prod-dim", lambda t, x: t.prod(x, 1), X),
    case("prod-neg-keepdim", lambda t, x: x.prod(-1, keepdim=True), X),
    case("prod-dtype", lambda t, x: x.prod(0, dtype=t.float64), X),
    case("prod-one-zero", lambda t, x: x.prod(1), np.array([[1., 0., 3.], [2., 4., -1.]])),
    case("prod-two-zeros", lambda t, x: x.prod(1), np.array([[0., 0., 3.], [2., 0., -1.]])),
    case("prod-all-zero", lambda t, x: x.prod(), np.array([[1., 0.5, 3.], [2., 0., -1.]])),
    case("prod-all-two-zeros", lambda t, x: x.prod(), np.array([[1., 0., 3.], [2., 0., -1.]])),
    case("prod-int", lambda t, x: x.prod(1), ints(3, 4, lo=-3, hi=4)),
    case("prod-int32-all", lambda t, x: x.prod(), ints(3, 4, dtype=np.int32, lo=1, hi=4)),
    case("prod-bool", lambda t, x: x.prod(0), bools(3, 4)),
    case("prod-0d", lambda t, x: x.prod(), S0),
    case("prod-0d-dim", lambda t, x: x.prod(0), S0),
    case("prod-empty", lambda t, x: x.prod(), E03),
    case("prod-empty-dim0", lambda t, x: x.prod(0), E03),
    case("prod-transposed", lambda t, x: x.t().prod(1), X2),
    case("nansum", lambda t, x: t.nansum(x), np.array([[1., NAN, 3.], [NAN, NAN, -1.]])),
    case("nansum-dim-keepdim", lambda t, x: x.nansum(1, keepdim=True), np.array([[1., NAN, 3.], [NAN, NAN, -1.]])),
    case("nansum-tuple", lambda t, x: x.nansum((0, 1)), np.array([[1., NAN, 3.], [NAN, NAN, -1.]])),
    case("nansum-int", lambda t, x: t.nansum(x, 0), ints(3, 4, dtype=np.int32)),
    case("nansum-dtype", lambda t, x: t.nansum(x, 0, dtype=t.float64), np.array([[1., NAN], [NAN, 2.]])),
    case("nanmean", lambda t, x: t.nanmean(x), np.array([[1., NAN, 3.], [NAN, NAN, -1.]])),
    case("nanmean-dim", lambda t, x: x.nanmean(1), np.array([[1., NAN, 3.], [NAN, NAN, NAN]])),
    case("nanmean-dim0-keepdim", lambda t, x: x.nanmean(0, keepdim=True), np.array([[1., NAN, 3.], [NAN, NAN, 2]])),
    case("nanmean-0d", lambda t, x: x.nanmean(), S0),
]


@pytest.mark.parametrize("fn,inputs,kw", SUM_CASES)
def test_sum_family(fn, inputs, kw):
    check(fn, list(inputs), **kw)


@pytest.mark.parametrize("fn", [lambda t: t.tensor([1, 2, 3]).mean(),
                                lambda t: t.tensor([[1, 2], [3, 4]]).mean(1),
                                lambda t: t.tensor([True, False]).mean()])
def test_mean_of_integers_raises(fn):
    check_raises(fn, RuntimeError, match="mean\\(\\): could not infer output dtype.*Got: (Long|Bool)")


def test_nanmean_of_integers_raises():
    check_raises(lambda t: t.tensor([1, 2], dtype=t.int32).nanmean(), RuntimeError,
                 match="nanmean\\(\\): expected input to have floating point or complex dtype but got Int")


@pytest.mark.parametrize("fn,match", [
    (lambda t: t.ones(2, 3).sum(2), r"range of \[-2, 1\], but got 2"),
    (lambda t: t.ones(2, 3).sum((0, -2)), "dim 0 appears multiple times"),
    (lambda t: t.ones(2, 3).mean(-3), r"but got -3"),
    (lambda t: t.ones(2, 3).prod(5), "but got 5"),
])
def test_sum_family_errors(fn, match):
    check_raises(fn, match=match)


# ---- max / min / amax / amin / aminmax / argmax / argmin -------------------------------------------------------
T = ties(3, 4)
NANROWS = np.array([[1., NAN, 3., NAN], [2., 5., 5., 0.], [NAN, 1., 2., 3.]])

EXTREMUM_CASES = [
    case("max-all", lambda t, x: x.max(), X),
    case("min-all", lambda t, x: t.min(x), X),
    case("max-all-ties-grad-split", lambda t, x: x.max(), np.array([[1., 3.], [3., 2.], [3., 0.]])),
    case("min-all-ties-grad-split", lambda t, x: x.min(), np.array([[1., 3.], [1., 2.], [3., 1.]])),
    case("max-all-nan", lambda t, x: x.max(), NANROWS),
    case("min-all-nan", lambda t, x: x.min(), NANROWS),
    case("max-all-int", lambda t, x: x.max(), ints(3, 4)),
    case("max-all-bool", lambda t, x: x.max(), bools(3, 4)),
    case("max-all-0d", lambda t, x: x.max(), S0),
    case("max-dim", lambda t, x: t.max(x, 1), X),
    case("min-dim", lambda t, x: t.min(x, 1), X),
    case("max-dim-neg-keepdim", lambda t, x: x.max(-1, keepdim=True), X),
    case("min-dim-kw", lambda t, x: x.min(dim=0, keepdim=True), X),
    case("max-dim-ties-first", lambda t, x: x.max(1), T),
    case("min-dim-ties-first", lambda t, x: x.min(0), T),
    case("max-dim-nan", lambda t, x: x.max(1), NANROWS),
    case("min-dim-nan", lambda t, x: x.min(1), NANROWS),
    case("max-dim-nan-col", lambda t, x: x.max(0), NANROWS),
    case("max-dim-int", lambda t, x: x.max(0), ints(3, 4)),
    case("min-dim-bool", lambda t, x: x.min(1), bools(3, 4)),
    case("max-dim-0d", lambda t, x: x.max(0), S0),
    case("min-dim-0d-keepdim", lambda t, x: x.min(-1, keepdim=True), S0),
    case("max-dim-empty-other", lambda t, x: x.max(1), E03),
    case("max-dim-transposed", lambda t, x: x.transpose(0, 2).max(1), X),
    case("min-dim-strided", lambda t, x: x[::2, 1:].min(0), X2),
    case("max-binary", lambda t, x, y: t.max(x, y), rnd(3, 4), rnd(3, 4, seed=2)),
    case("min-binary", lambda t, x, y: t.min(x, y), rnd(3, 4), rnd(3, 4, seed=2)),
    case("max-binary-broadcast", lambda t, x, y: t.max(x, y), rnd(3, 4), rnd(4, seed=2)),
    case("max-binary-method", lambda t, x, y: x.max(y), rnd(3, 1), rnd(4, seed=2)),
    case("max-binary-ties", lambda t, x, y: t.max(x, y), ties(3, 4), ties(3, 4, seed=1)),
    case("min-binary-nan", lambda t, x, y: t.min(x, y), NANROWS, rnd(3, 4)),
    case("max-binary-nan", lambda t, x, y: t.max(x, y), rnd(3, 4), NANROWS),
    case("amax-all", lambda t, x: t.amax(x), X),
    case("amax-dim", lambda t, x: x.amax(1), X),
    case("amin-tuple", lambda t, x: t.amin(x, (0, 2)), X),
    case("amax-tuple-keepdim-neg", lambda t, x: x.amax((-1, 0), keepdim=True), X),
    case("amax-ties-grad-split", lambda t, x: x.amax(1), T),
    case("amin-ties-grad-split", lambda t, x: x.amin(0), T),
    case("amax-ties-tuple", lambda t, x: x.amax((0, 1)), ties(3, 4, 2)),
    case("amax-nan", lambda t, x: x.amax(1), NANROWS),
    case("amin-int", lambda t, x: x.amin(0), ints(3, 4)),
    case("amax-0d", lambda t, x: x.amax(), S0),
    case("amax-empty-other", lambda t, x: x.amax(1), E03),
    case("amin-transposed", lambda t, x: x.t().amin(1), X2),
    case("aminmax-all", lambda t, x: t.aminmax(x), X),
    case("aminmax-dim", lambda t, x: t.aminmax(x, dim=1), X),
    case("aminmax-dim-keepdim", lambda t, x: x.aminmax(dim=-1, keepdim=True), T),
    case("aminmax-int", lambda t, x: x.aminmax(dim=0), ints(3, 4)),
    case("aminmax-0d", lambda t, x: t.aminmax(x), S0),
    case("argmax-all", lambda t, x: x.argmax(), X),
    case("argmin-all", lambda t, x: t.argmin(x), X),
    case("argmax-all-keepdim", lambda t, x: t.argmax(x, keepdim=True), X),
    case("argmax-dim", lambda t, x: x.argmax(1), X),
    case("argmin-dim-keepdim", lambda t, x: x.argmin(-1, keepdim=True), X),
    case("argmax-ties", lambda t, x: x.argmax(1), T),
    case("argmin-ties-all", lambda t, x: x.argmin(), T),
    case("argmax-nan", lambda t, x: x.argmax(1), NANROWS),
    case("argmin-nan", lambda t, x: x.argmin(1), NANROWS),
    case("argmin-nan-all", lambda t, x: x.argmin(), NANROWS),
    case("argmax-int", lambda t, x: x.argmax(0), ints(3, 4)),
    case("argmax-0d", lambda t, x: x.argmax(), S0),
    case("argmax-0d-dim", lambda t, x: x.argmax(0, keepdim=True), S0),
    case("argmax-empty-other", lambda t, x: x.argmax(1), E03),
    case("argmax-transposed", lambda t, x: x.t().argmax(0), X2),
]


@pytest.mark.parametrize("fn,inputs,kw", EXTREMUM_CASES)
def test_extrema(fn, inputs, kw):
    check(fn, list(inputs), **kw)


@pytest.mark.parametrize("fn", [
    lambda t: t.ones(0, 3).max(),
    lambda t: t.ones(0, 3).min(0),
    lambda t: t.ones(0, 3).amax(0),
    lambda t: t.ones(0, 3).amin(),
    lambda t: t.ones(0, 3).argmax(),
    lambda t: t.ones(0, 3).argmin(0),
    lambda t: t.ones(2, 3).max(2),
    lambda t: t.ones(2, 3).argmax(-3),
])
def test_extrema_errors(fn):
    check_raises(fn, match="(non-zero size|numel\\(\\) == 0|Dimension out of range)")


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_namedtuple(op):
    a = np.array([[1., 5., 5.], [7., 2., 7.]])
    e, t = getattr(ember, op)(to_ember(a), 1), getattr(torch, op)(to_torch(a), 1)
    assert repr(e) == repr(t)
    assert type(e).__name__ == type(t).__name__ == op
    assert type(e).__module__ == type(t).__module__
    assert_same(e.values, t.values)
    assert_same(e.indices, t.indices)
    assert_same(e[0], t[0])
    assert_same(e[1], t[1])
    ev, ei = e
    assert_same(ev, t.values)
    assert_same(ei, t.indices)
    assert len(e) == len(t) == 2
    assert isinstance(e, tuple)


@pytest.mark.parametrize("fn", [
    lambda t, x: t.sort(x, 1, descending=True),
    lambda t, x: t.topk(x, 2),
    lambda t, x: t.kthvalue(x, 2),
    lambda t, x: t.median(x, 0),
    lambda t, x: t.nanmedian(x, 1),
    lambda t, x: t.mode(x),
    lambda t, x: t.cummax(x, 1),
    lambda t, x: t.cummin(x, 0),
    lambda t, x: t.aminmax(x, dim=0),
    lambda t, x: t.aminmax(x),
    lambda t, x: t.max(x.requires_grad_(), 0),
    lambda t, x: t.max(x.to(t.int64), 0, keepdim=True),
])
def test_return_type_repr(fn):
    a = np.array([[1., 5., 5.], [7., 2., -7.5]])
    e, t = fn(ember, to_ember(a)), fn(torch, to_torch(a))
    assert repr(e) == repr(t)
    assert type(e).__name__ == type(t).__name__
    assert len(e) == len(t) == type(e).n_fields == type(t).n_fields
    for name in ("values", "indices") if type(t).__name__ != "aminmax" else ("min", "max"):
        assert_same(getattr(e, name), getattr(t, name))


def test_return_type_construct_and_pickle():
    import pickle
    v, i = ember.tensor([1.0, 2.0]), ember.tensor([0, 1])
    r = ember.return_types.max((v, i))
    assert r.values is v and r.indices is i
    r2 = pickle.loads(pickle.dumps(r))
    assert type(r2) is type(r)
    assert r2.values.tolist() == [1.0, 2.0] and r2.indices.tolist() == [0, 1]
    tr = torch.return_types.max((torch.tensor([1.0, 2.0]), torch.tensor([0, 1])))
    assert repr(r) == repr(tr)


# ---- var / std ------------------------------------------------------------------------------------------------
VAR_CASES = [
    case("var-all", lambda t, x: x.var(), X),
    case("std-all", lambda t, x: t.std(x), X),
    case("var-dim", lambda t, x: x.var(1), X),
    case("std-dim-keepdim", lambda t, x: x.std(-1, keepdim=True), X),
    case("var-tuple", lambda t, x: x.var((0, 2)), X),
    case("var-unbiased-false", lambda t, x: x.var(1, unbiased=False), X),
    case("var-unbiased-positional", lambda t, x: t.var(x, 1, False, True), X),
    case("var-bool-as-unbiased", lambda t, x: x.var(False), X),
    case("std-unbiased-false", lambda t, x: x.std(unbiased=False), X),
    case("var-correction0", lambda t, x: x.var(0, correction=0), X),
    case("var-correction1", lambda t, x: x.var(dim=(1, 2), correction=1), X),
    case("var-correction2", lambda t, x: t.var(x, -1, correction=2, keepdim=True), X),
    case("std-correction2", lambda t, x: x.std((0, 1), correction=2), X),
    case("var-none-correction0", lambda t, x: x.var(None, correction=0), X),
    case("var-single-element", lambda t, x: x.var(1), rnd(3, 1)),
    case("std-single-element-corr0", lambda t, x: x.std(1, correction=0), rnd(3, 1)),
    case("var-0d", lambda t, x: x.var(correction=0), S0),
    case("var-empty-dim1", lambda t, x: x.var(1), E03),
    case("var-transposed", lambda t, x: x.t().var(0), X2),
    case("std-strided", lambda t, x: x[:, ::2].std(1), X2),
    case("var-constant", lambda t, x: x.var(1), np.ones((2, 3))),
    case("std-constant", lambda t, x: x.std(1), np.ones((2, 3))),
    case("std-constant-all", lambda t, x: x.std(), np.full((2, 3), 0.5)),
    case("std-single-element", lambda t, x: x.std(1), rnd(3, 1)),
    case("std-all-single", lambda t, x: x.std(), rnd(1)),
    case("var-all-dof0", lambda t, x: x.var(correction=2), np.array([1., 3.])),
    case("var-all-dof0-constant", lambda t, x: x.var(correction=2), np.array([1., 1.])),
    case("var-all-dof-negative", lambda t, x: x.var(correction=3), np.array([1., 3.])),
    case("var-dims-dof0", lambda t, x: x.var(1, correction=2), rnd(3, 2)),
    case("var-dims-dof-negative", lambda t, x: x.var(1, correction=3, keepdim=True), rnd(3, 2)),
    case("std-dims-dof0", lambda t, x: x.std(1, correction=2), rnd(3, 2)),
    case("var_mean-dof0", lambda t, x: t.var_mean(x, 1, correction=2), rnd(3, 2)),
    case("var_mean", lambda t, x: t.var_mean(x, 1), X),
    case("var_mean-all", lambda t, x: t.var_mean(x), X),
    case("var_mean-corr0-keepdim", lambda t, x: t.var_mean(x, (0, 2), correction=0, keepdim=True), X),
    case("var_mean-unbiased-false", lambda t, x: t.var_mean(x, -1, unbiased=False), X),
    case("std_mean", lambda t, x: t.std_mean(x, 0), X),
    case("std_mean-corr2", lambda t, x: t.std_mean(x, (1, 2), correction=2, keepdim=True), X),
    case("std_mean-all", lambda t, x: t.std_mean(x), X),
]


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("fn,inputs,kw", VAR_CASES)
def test_var_std(fn, inputs, kw):
    check(fn, list(inputs), **kw)


@pytest.mark.parametrize("fn", [lambda t: t.tensor([1, 2, 3]).var(),
                                lambda t: t.tensor([1, 2, 3]).std(0),
                                lambda t: t.var_mean(t.tensor([1, 2, 3]))])
def test_var_of_integers_raises(fn):
    check_raises(fn, RuntimeError, match="std and var only support floating point and complex dtypes")


# ---- norms, logsumexp ---------------------------------------------------------------------------------------------
ZROW = np.array([[0., 0., 0.], [1., -2., 0.5], [0., 3., 0.]])
NORM_CASES = [
    case("norm-fro", lambda t, x: x.norm(), X),
    case("norm-fro-str", lambda t, x: t.norm(x, "fro"), X),
    case("norm-fro-dims", lambda t, x: t.norm(x, "fro", dim=(1, 2)), X),
    case("norm-p1", lambda t, x: x.norm(1), X),
    case("norm-p2-dim", lambda t, x: x.norm(2, 1), X),
    case("norm-p3-dim-keepdim", lambda t, x: x.norm(3, -1, keepdim=True), X),
    case("norm-pinf", lambda t, x: x.norm(float("inf"), 1), X),
    case("norm-pneginf", lambda t, x: x.norm(-float("inf"), 0), X),
    case("norm-p0", lambda t, x: x.norm(0, 1), ZROW),
    case("norm-p2-zero-row", lambda t, x: x.norm(2, 1), ZROW),
    case("norm-p3-zero-row", lambda t, x: x.norm(3, 1), ZROW),
    case("norm-p1-zero-row", lambda t, x: x.norm(1, 1), ZROW),
    case("norm-pinf-zero-row", lambda t, x: x.norm(float("inf"), 1), ZROW),
    case("norm-pinf-ties", lambda t, x: x.norm(float("inf")), np.array([[1., -3.], [3., 2.]])),
    case("norm-0d", lambda t, x: x.norm(), S0),
    case("norm-transposed", lambda t, x: x.t().norm(2, 1), X2),
    case("norm-dtype", lambda t, x: t.norm(x, 2, 1, dtype=t.float64), X),
    # 'nuc' (and 'fro' over more than two dims) is linalg.matrix_norm over dim, all dims when None
    case("norm-nuc", lambda t, x: t.norm(x, "nuc"), X2),
    case("norm-nuc-method-dims", lambda t, x: x.norm("nuc", dim=(0, 2)), X),
    case("norm-nuc-keepdim", lambda t, x: t.norm(x, "nuc", dim=(2, 1), keepdim=True), X),
    case("norm-nuc-dtype", lambda t, x: t.norm(x, "nuc", dtype=t.float64), X2.astype(np.float32), dtypes=None),
    case("dist", lambda t, x: t.dist(x, x.flip(0)), X),
    case("dist-p1-bcast", lambda t, x: x.dist(x[0], 1), X),
    case("dist-pinf", lambda t, x: t.dist(x, x * 0.5, float("inf")), X),
    case("vector_norm", lambda t, x: t.linalg.vector_norm(x), X),
    case("vector_norm-ord1-dim", lambda t, x: t.linalg.vector_norm(x, 1, dim=1), X),
    case("vector_norm-ord3", lambda t, x: t.linalg.vector_norm(x, ord=3, dim=(0, 2), keepdim=True), X),
    case("vector_norm-ord0.5", lambda t, x: t.linalg.vector_norm(x, ord=0.5, dim=-1), X),
    case("vector_norm-ord-1.5", lambda t, x: t.linalg.vector_norm(x, ord=-1.5, dim=-1), X),
    case("vector_norm-inf", lambda t, x: t.linalg.vector_norm(x, float("inf"), dim=(0, 1)), X),
    case("vector_norm-neginf", lambda t, x: t.linalg.vector_norm(x, -float("inf")), X),
    case("vector_norm-ord0", lambda t, x: t.linalg.vector_norm(x, 0, dim=0), ZROW),
    case("vector_norm-zero-vector", lambda t, x: t.linalg.vector_norm(x, dim=1), ZROW),
    case("vector_norm-ord3-zero-vector", lambda t, x: t.linalg.vector_norm(x, 3, dim=1), ZROW),
    case("vector_norm-ord0.5-zero-vector", lambda t, x: t.linalg.vector_norm(x, 0.5, dim=1), ZROW[:1]),
    case("vector_norm-dtype", lambda t, x: t.linalg.vector_norm(x, dtype=t.float64), X),
    case("vector_norm-empty", lambda t, x: t.linalg.vector_norm(x), E03),
    case("vector_norm-empty-dim1", lambda t, x: t.linalg.vector_norm(x, dim=1), E03),
    case("vector_norm-0d", lambda t, x: t.linalg.vector_norm(x, 3), S0),
    case("logsumexp", lambda t, x: t.logsumexp(x, 1), X),
    case("logsumexp-tuple-keepdim", lambda t, x: x.logsumexp((0, 2), keepdim=True), X),
    case("logsumexp-neg", lambda t, x: x.logsumexp(-1), X),
    case("logsumexp-all-dims", lambda t, x: x.logsumexp((0, 1, 2)), X),
    case("logsumexp-large", lambda t, x: x.logsumexp(1), np.array([[1000., 1000., 999.], [-1000., -1001., -1000.]])),
    case("logsumexp-neginf-entries", lambda t, x: x.logsumexp(1), np.array([[-INF, 0., 1.], [2., -INF, -INF]])),
    case("logsumexp-neginf-row", lambda t, x: x.logsumexp(1), np.array([[-INF, -INF], [0., 1.]])),
    case("logsumexp-inf", lambda t, x: x.logsumexp(1), np.array([[INF, 0.], [0., 1.]]), grad=False),
    case("logsumexp-int", lambda t, x: x.logsumexp(1), ints(3, 4)),
    # complex: the shift is the largest real part, so the imaginary part is the principal log's (in (-pi, pi])
    case("logsumexp-complex", lambda t, x: t.view_as_real(t.logsumexp(x, 1)), CX, grad_inputs=(0,)),
    case("logsumexp-complex-keepdim", lambda t, x: t.view_as_real(x.logsumexp((0, 1), keepdim=True)), CX,
         grad_inputs=(0,)),
    case("logsumexp-complex-0d", lambda t, x: t.view_as_real(x[0, 0].logsumexp(0)), CX, grad_inputs=(0,)),
    case("logsumexp-complex-inf", lambda t, x: x.logsumexp(1), CINF, grad=False),
    case("logsumexp-0d", lambda t, x: x.logsumexp(0), S0),
    case("logsumexp-empty", lambda t, x: x.logsumexp(0), E03),
    case("logsumexp-empty-dim1", lambda t, x: x.logsumexp(1), E03),
    case("logsumexp-transposed", lambda t, x: x.t().logsumexp(1), X2),
]


@pytest.mark.parametrize("fn,inputs,kw", NORM_CASES)
def test_norms_logsumexp(fn, inputs, kw):
    check(fn, list(inputs), **kw)


@pytest.mark.parametrize("fn,match", [
    (lambda t: t.norm(t.ones(2, 3, 4), "nuc"), "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 2"),
    (lambda t: t.norm(t.ones(2, 3, 4), "fro", dim=(0, 1, 2)), "linalg.matrix_norm: dim must be a 2-tuple"),
    (lambda t: t.norm(t.ones(2, 3), "abc"), "linalg.matrix_norm: Order abc not supported."),
    (lambda t: t.norm(t.ones(3), "nuc"), "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
])
def test_norm_string_orders_raise(fn, match):
    check_raises(fn, RuntimeError, match=match)


def test_vector_norm_of_integers_raises():
    check_raises(lambda t: t.linalg.vector_norm(t.tensor([1, 2])), RuntimeError,
                 match="Expected a floating point or complex tensor as input. Got Long")


# ---- scans -----------------------------------------------------------------------------------------------------------
SCAN_CASES = [
    case("cumsum", lambda t, x: x.cumsum(1), X),
    case("cumsum-neg", lambda t, x: t.cumsum(x, -1), X),
    case("cumsum-dim0", lambda t, x: t.cumsum(x, dim=0), X),
    case("cumsum-dtype", lambda t, x: x.cumsum(1, dtype=t.float64), X),
    case("cumsum-int", lambda t, x: x.cumsum(0), ints(3, 4, dtype=np.int32)),
    case("cumsum-bool", lambda t, x: x.cumsum(1), bools(3, 4)),
    case("cumsum-0d", lambda t, x: x.cumsum(0), S0),
    case("cumsum-empty", lambda t, x: x.cumsum(0), E03),
    case("cumsum-transposed", lambda t, x: x.t().cumsum(1), X2),
    case("cumprod", lambda t, x: x.cumprod(1), X),
    case("cumprod-neg", lambda t, x: t.cumprod(x, -1), X),
    case("cumprod-one-zero", lambda t, x: x.cumprod(1), np.array([[1., 0., 3., 2.], [2., 4., -1., 0.5]])),
    case("cumprod-zeros", lambda t, x: x.cumprod(1), np.array([[0., 2., 0., 3.], [2., 0., -1., 0.]])),
    case("cumprod-zero-first-dim0", lambda t, x: x.cumprod(0), np.array([[0., 2.], [3., 0.], [4., 5.]])),
    case("cumprod-int", lambda t, x: x.cumprod(1), ints(3, 4, lo=-2, hi=3)),
    case("cumprod-dtype", lambda t, x: x.cumprod(0, dtype=t.float64), X),
    case("cumprod-0d", lambda t, x: x.cumprod(0), S0),
    case("cumprod-empty", lambda t, x: x.cumprod(0), E03),
    case("cumprod-transposed", lambda t, x: x.transpose(0, 2).cumprod(0), X),
    case("cummax", lambda t, x: t.cummax(x, 1), X),
    case("cummin", lambda t, x: t.cummin(x, 0), X),
    case("cummax-ties", lambda t, x: x.cummax(1), ties(4, 6)),
    case("cummin-ties", lambda t, x: x.cummin(-1), ties(4, 6)),
    case("cummax-nan", lambda t, x: x.cummax(1), NANROWS),
    case("cummin-nan", lambda t, x: x.cummin(1), NANROWS),
    case("cummax-int", lambda t, x: x.cummax(0), ints(4, 3)),
    case("cummin-bool", lambda t, x: x.cummin(1), bools(3, 4)),
    case("cummax-0d", lambda t, x: x.cummax(0), S0),
    case("cummax-empty", lambda t, x: x.cummax(0), E03),
    case("cummin-transposed", lambda t, x: x.t().cummin(1), X2),
    case("logcumsumexp", lambda t, x: t.logcumsumexp(x, 1), X),
    case("logcumsumexp-neg", lambda t, x: x.logcumsumexp(-1), X),
    case("logcumsumexp-large", lambda t, x: x.logcumsumexp(1),
         np.array([[1000., 999., 1001.], [-1000., -1001., -999.]])),
    case("logcumsumexp-neginf", lambda t, x: x.logcumsumexp(1), np.array([[-INF, 0., -INF], [1., -INF, 2.]])),
    case("logcumsumexp-0d", lambda t, x: x.logcumsumexp(0), S0),
    case("logcumsumexp-empty", lambda t, x: x.logcumsumexp(0), E03),
    case("logcumsumexp-transposed", lambda t, x: x.t().logcumsumexp(0), X2),
    case("logcumsumexp-complex", lambda t, x: t.view_as_real(x.logcumsumexp(1)), CX, grad_inputs=(0,)),
    case("logcumsumexp-complex-dim0", lambda t, x: t.view_as_real(t.logcumsumexp(x.t(), 0)), CX, grad_inputs=(0,)),
    case("logcumsumexp-complex-edges", lambda t, x: x.logcumsumexp(1), CINF, grad=False),
]


@pytest.mark.parametrize("fn,inputs,kw", SCAN_CASES)
def test_scans(fn, inputs, kw):
    check(fn, list(inputs), **kw)


# ---- all / any / count_nonzero ------------------------------------------------------------------------------------
B = bools(3, 4)
LOGIC_CASES = [
    case("all", lambda t, x: x.all(), B),
    case("any", lambda t, x: t.any(x), B),
    case("all-dim", lambda t, x: x.all(1), B),
    case("any-dim-keepdim", lambda t, x: x.any(0, keepdim=True), B),
    case("all-neg-dim", lambda t, x: t.all(x, -1), B),
    case("all-tuple", lambda t, x: x.all((0, 1)), np.ones((2, 3), bool)),
    case("any-tuple-keepdim", lambda t, x: x.any((0, 2), keepdim=True), bools(2, 3, 4)),
    case("all-float", lambda t, x: x.all(1), np.array([[1., 0.5], [0., 2.]])),
    case("any-float-nan", lambda t, x: x.any(1), np.array([[NAN, 0.], [0., 0.]])),
    case("all-int", lambda t, x: x.all(0), ints(3, 4)),
    case("all-uint8", lambda t, x: x.all(), ints(3, 4, dtype=np.uint8, lo=0, hi=3)),
    case("any-uint8-dim", lambda t, x: x.any(1), ints(3, 4, dtype=np.uint8, lo=0, hi=2)),
    case("all-0d", lambda t, x: x.all(0), np.array(True)),
    case("all-empty", lambda t, x: x.all(), np.zeros((0, 3), bool)),
    case("any-empty-dim0", lambda t, x: x.any(0), np.zeros((0, 3), bool)),
    case("all-transposed", lambda t, x: x.t().all(1), bools(4, 5)),
    case("count_nonzero", lambda t, x: t.count_nonzero(x), ties(3, 4)),
    case("count_nonzero-dim", lambda t, x: x.count_nonzero(1), ties(3, 4)),
    case("count_nonzero-tuple", lambda t, x: x.count_nonzero((0, -1)), ties(2, 3, 4)),
    case("count_nonzero-bool", lambda t, x: t.count_nonzero(x, 0), B),
    case("count_nonzero-int", lambda t, x: t.count_nonzero(x), ints(3, 4)),
    case("count_nonzero-0d", lambda t, x: t.count_nonzero(x), S0),
    case("count_nonzero-empty", lambda t, x: t.count_nonzero(x, 0), E03),
]


@pytest.mark.parametrize("fn,inputs,kw", LOGIC_CASES)
def test_logical_reductions(fn, inputs, kw):
    check(fn, list(inputs), **kw)


# ---- sort / argsort / msort / topk / kthvalue / median / nanmedian / mode --------------------------------------------
D = distinct(3, 5)
NANS = np.array([[3., NAN, 1., -INF, NAN, 2.], [INF, 0., NAN, -1., 5., 5.]])
SORT_CASES = [
    case("sort", lambda t, x: x.sort(), D),
    case("sort-dim0", lambda t, x: t.sort(x, 0), D),
    case("sort-desc", lambda t, x: t.sort(x, 1, descending=True), D),
    case("sort-desc-positional", lambda t, x: x.sort(0, True), D),
    case("sort-stable-ties", lambda t, x: t.sort(x, stable=True), ties(3, 8)),
    case("sort-stable-ties-desc", lambda t, x: t.sort(x, dim=1, descending=True, stable=True), ties(3, 8)),
    case("sort-nans", lambda t, x: x.sort(dim=1, stable=True), NANS),
    case("sort-nans-desc", lambda t, x: x.sort(dim=1, descending=True, stable=True), NANS),
    case("sort-nans-dim0-desc", lambda t, x: x.sort(dim=0, descending=True, stable=True), NANS.T.copy()),
    case("sort-int", lambda t, x: x.sort(dim=1, stable=True), ints(3, 6)),
    case("sort-int-desc", lambda t, x: x.sort(dim=0, descending=True, stable=True), ints(5, 3)),
    case("sort-int64-extremes-desc", lambda t, x: x.sort(descending=True, stable=True),
         np.array([np.iinfo(np.int64).min, 3, np.iinfo(np.int64).max, 0, np.iinfo(np.int64).min])),
    case("sort-signed-zeros", lambda t, x: x.sort(stable=True), np.array([0., -0., 1., -0., 0., -1.])),
    case("sort-uint8-desc", lambda t, x: x.sort(descending=True, stable=True),
         ints(2, 6, dtype=np.uint8, lo=0, hi=255)),
    case("sort-bool", lambda t, x: x.sort(stable=True), bools(3, 5)),
    case("sort-0d", lambda t, x: x.sort(), S0),
    case("sort-empty", lambda t, x: x.sort(0), E03),
    case("sort-transposed", lambda t, x: x.t().sort(1), D),
    case("argsort", lambda t, x: x.argsort(), D),
    case("argsort-desc", lambda t, x: t.argsort(x, 0, descending=True), D),
    case("argsort-stable", lambda t, x: t.argsort(x, dim=-1, stable=True), ties(3, 8)),
    case("argsort-nans", lambda t, x: x.argsort(dim=1, stable=True), NANS),
    case("argsort-nans-desc", lambda t, x: t.argsort(x, dim=1, descending=True, stable=True), NANS),
    case("argsort-0d", lambda t, x: x.argsort(), S0),
    case("msort", lambda t, x: t.msort(x), D),
    case("msort-transposed", lambda t, x: t.msort(x.t()), D),
    case("topk", lambda t, x: x.topk(2), D),
    case("topk-smallest", lambda t, x: t.topk(x, 3, dim=0, largest=False), distinct(5, 3)),
    case("topk-k0", lambda t, x: x.topk(0), D),
    case("topk-kn", lambda t, x: x.topk(5, 1), D),
    case("topk-nan", lambda t, x: x.topk(2, 1), np.array([[3., NAN, 1., 4.], [0., 1., 2., NAN]])),
    case("topk-0d", lambda t, x: x.topk(1), S0),
    case("topk-transposed", lambda t, x: x.t().topk(2, 0), D),
    case("topk-int", lambda t, x: x.topk(2), distinct(3, 5).astype(np.int64)),
    case("kthvalue", lambda t, x: x.kthvalue(2), D),
    case("kthvalue-dim0-keepdim", lambda t, x: t.kthvalue(x, 3, 0, keepdim=True), D),
    case("kthvalue-k1", lambda t, x: x.kthvalue(1, -1), D),
    case("kthvalue-int", lambda t, x: x.kthvalue(4), distinct(3, 5).astype(np.int64)),
    case("kthvalue-0d", lambda t, x: x.kthvalue(1), S0),
    case("median-all-odd", lambda t, x: x.median(), D),
    case("median-all-even", lambda t, x: t.median(x), distinct(2, 4)),
    case("median-all-nan", lambda t, x: x.median(), np.array([1., NAN, 3.])),
    case("median-all-int", lambda t, x: x.median(), distinct(2, 4).astype(np.int64)),
    case("median-all-0d", lambda t, x: x.median(), S0),
    case("median-all-empty", lambda t, x: x.median(), np.zeros(0)),
    case("median-all-ties-grad-split", lambda t, x: x.median(), np.array([[1., 2., 2.], [2., 3., 0.]])),
    case("nanmedian-all-ties-grad-split", lambda t, x: x.nanmedian(), np.array([[1., NAN, 2.], [2., 3., 2.]])),
    case("median-all-nans-grad-split", lambda t, x: x.median(), np.array([[1., NAN, 2.], [NAN, 3., 0.]])),
    case("median-dim", lambda t, x: x.median(1), D),
    case("median-dim-even", lambda t, x: t.median(x, 0), distinct(4, 3)),
    case("median-dim-keepdim", lambda t, x: x.median(-1, keepdim=True), distinct(3, 4)),
    case("median-dim-nan", lambda t, x: x.median(1), np.array([[1., NAN, 3.], [2., 0., 1.]])),
    case("median-dim-0d", lambda t, x: x.median(0), S0),
    case("median-dim-empty-other", lambda t, x: x.median(1), E03),
    case("median-transposed", lambda t, x: x.t().median(1), D),
    case("nanmedian-all", lambda t, x: x.nanmedian(), np.array([1., NAN, 3., 0., NAN])),
    case("nanmedian-all-nan", lambda t, x: t.nanmedian(x), np.array([NAN, NAN])),
    case("nanmedian-all-no-nan", lambda t, x: t.nanmedian(x), distinct(2, 4)),
    case("nanmedian-dim", lambda t, x: x.nanmedian(1), np.array([[1., NAN, 3., 2.], [NAN, NAN, 7., NAN],
                                                                   [5., 4., NAN, NAN]])),
    case("nanmedian-dim-keepdim", lambda t, x: x.nanmedian(0, keepdim=True), np.array([[1., NAN], [NAN, 2.],
                                                                                         [3., 4.]])),
    case("nanmedian-int", lambda t, x: x.nanmedian(1), distinct(3, 4).astype(np.int64)),
    case("nanmedian-0d", lambda t, x: x.nanmedian(0), S0),
    case("mode", lambda t, x: x.mode(), np.array([[1., 2., 2., 3., 1., 2.], [5., 5., 4., 4., 0., 9.]])),
    case("mode-dim0-keepdim", lambda t, x: t.mode(x, 0, keepdim=True), ties(5, 4, seed=3)),
    case("mode-int", lambda t, x: t.mode(x, 1), ints(4, 7, lo=0, hi=3)),
    case("mode-1d", lambda t, x: t.mode(x), np.array([3., 1., 3., 1., 2.])),
    case("mode-0d", lambda t, x: t.mode(x), S0),
    case("mode-bool", lambda t, x: t.mode(x, 1), bools(4, 5)),
]


@pytest.mark.parametrize("fn,inputs,kw", SORT_CASES)
def test_sorting(fn, inputs, kw):
    check(fn, list(inputs), **kw)


def _gather_consistent(e, t, x, dim):
    """Values equal torch's; ember's indices are a valid selection of those values along dim."""
    assert_same(e.values, t.values)
    assert e.indices.dtype == ember.int64
    got = np.take_along_axis(x, e.indices.numpy(), dim)
    np.testing.assert_array_equal(got, t.values.numpy())


@pytest.mark.parametrize("fn,dim", [
    (lambda t, x: t.topk(x, 3), -1),
    (lambda t, x: t.topk(x, 3, largest=False), -1),
    (lambda t, x: t.topk(x, 2, dim=0), 0),
    (lambda t, x: t.sort(x, 1), 1),
    (lambda t, x: t.sort(x, 0, descending=True), 0),
    (lambda t, x: t.kthvalue(x, 4, 1, keepdim=True), 1),
    (lambda t, x: t.mode(x, 1, keepdim=True), 1),
    (lambda t, x: t.mode(x, 0), 0),
])
def test_selection_with_ties(fn, dim):
    """With ties the chosen indices are implementation-defined: values must match torch, indices must select them."""
    x = ties(5, 7, seed=4)
    e, t = fn(ember, to_ember(x)), fn(torch, to_torch(x))
    assert_same(e.values, t.values)
    assert e.indices.dtype == ember.int64 and e.indices.shape == t.indices.shape
    idx = e.indices.numpy() if e.indices.dim() == x.ndim else np.expand_dims(e.indices.numpy(), dim)
    np.testing.assert_array_equal(np.take_along_axis(x, idx, dim).reshape(t.values.shape), t.values.numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_unsorted(largest):
    x = distinct(4, 9, seed=5)
    e, t = ember.topk(to_ember(x), 4, 1, largest, False), torch.topk(to_torch(x), 4, 1, largest, False)
    np.testing.assert_array_equal(np.sort(e.values.numpy(), 1), np.sort(t.values.numpy(), 1))
    np.testing.assert_array_equal(np.take_along_axis(x, e.indices.numpy(), 1), e.values.numpy())


def test_nanmedian_all_nan_row():
    """An all-NaN row gives NaN; torch's index there is arbitrary, so only require that it points at a NaN."""
    x = np.array([[NAN, NAN, NAN], [1., NAN, 0.]])
    e, t = ember.nanmedian(to_ember(x), 1), torch.nanmedian(to_torch(x), 1)
    assert_same(e.values, t.values)
    assert np.isnan(x[0, e.indices.numpy()[0]])
    assert e.indices.numpy()[1] == t.indices.numpy()[1]


@pytest.mark.parametrize("fn,dim", [
    (lambda t, x: t.median(x, 1), 1),
    (lambda t, x: t.median(x, 0, keepdim=True), 0),
    (lambda t, x: t.nanmedian(x, 1), 1),
])
def test_median_with_ties(fn, dim):
    """Ties: values match torch; the returned indices select those values."""
    x = ties(5, 6, seed=7)
    e, t = fn(ember, to_ember(x)), fn(torch, to_torch(x))
    assert_same(e.values, t.values)
    idx = e.indices.numpy() if e.indices.dim() == x.ndim else np.expand_dims(e.indices.numpy(), dim)
    np.testing.assert_array_equal(np.take_along_axis(x, idx, dim).reshape(t.values.shape), t.values.numpy())


@pytest.mark.parametrize("fn,match", [
    (lambda t: t.ones(2, 3).topk(4), "k.*out of range"),
    (lambda t: t.ones(2, 3).topk(-1), "k.*out of range"),
    (lambda t: t.ones(2, 3).kthvalue(0), "k.*out of range"),
    (lambda t: t.ones(2, 3).kthvalue(4, 1), "k.*out of range"),
    (lambda t: t.ones(0, 3).median(0), "non-zero size"),
    (lambda t: t.ones(2, 3).sort(2), "Dimension out of range"),
    (lambda t: t.ones(0, 3).mode(0), "."),
])
def test_sorting_errors(fn, match):
    check_raises(fn, match=match)


QX = rnd(3, 5, 4, seed=11)
QN = QX.copy()
QN[0, 1, 2] = NAN
QN[1, :, 0] = NAN
QUANTILE_CASES = [
    case(f"{name}-{mode}", fn, a)
    for mode in ("linear", "lower", "higher", "midpoint", "nearest")
    for name, fn, a in [
        ("quantile-all", lambda t, x, m=mode: t.quantile(x, 0.3, interpolation=m), QX),
        ("quantile-dim", lambda t, x, m=mode: x.quantile(0.75, dim=1, interpolation=m), QX),
        ("quantile-q-tensor-keepdim", lambda t, x, m=mode: t.quantile(
            x, t.tensor([0.0, 0.1, 0.5, 1.0], dtype=x.dtype), -1, True, interpolation=m), QX),
        ("quantile-nan", lambda t, x, m=mode: t.quantile(x, 0.4, dim=1, interpolation=m), QN),
        ("nanquantile-dim", lambda t, x, m=mode: t.nanquantile(
            x, t.tensor([0.2, 0.9], dtype=x.dtype), dim=1, interpolation=m), QN),
        ("nanquantile-all-keepdim", lambda t, x, m=mode: x.nanquantile(0.6, keepdim=True, interpolation=m), QN),
    ]
] + [
    case("quantile-0d", lambda t, x: t.quantile(x, 0.5), S0),
    case("quantile-0d-dim", lambda t, x: t.quantile(x, 0.5, dim=0, keepdim=True), S0),
    case("quantile-transposed", lambda t, x: t.quantile(x.t(), 0.25, dim=0), X2),
    case("nanquantile-all-nan", lambda t, x: t.nanquantile(x, 0.5, dim=1), np.array([[NAN, NAN], [1., NAN]])),
] + [
    # q as a tensor that requires grad: linear interpolation's weight is differentiable in q (others give 0)
    case(f"{name}-q-grad-{mode}", fn, a, q)
    for mode in ("linear", "lower", "midpoint")
    for name, fn, a, q in [
        ("quantile", lambda t, x, q, m=mode: t.quantile(x, q, dim=1, interpolation=m), QX, np.array([0.1, 0.45, 0.9])),
        ("quantile-all", lambda t, x, q, m=mode: x.quantile(q, interpolation=m), QX, np.array(0.3)),
        ("quantile-nan", lambda t, x, q, m=mode: t.quantile(x, q, dim=1, interpolation=m), QN, np.array([0.2, 0.7])),
        ("nanquantile", lambda t, x, q, m=mode: t.nanquantile(x, q, dim=-1, keepdim=True, interpolation=m), QN,
         np.array([0.0, 0.35, 1.0])),
        ("nanquantile-all-nan", lambda t, x, q, m=mode: t.nanquantile(x, q, dim=1, interpolation=m),
         np.array([[NAN, NAN], [1., NAN], [2., 3.]]), np.array([0.6])),
    ]
]


@pytest.mark.parametrize("fn,inputs,kw", QUANTILE_CASES)
def test_quantile(fn, inputs, kw):
    check(fn, list(inputs), **kw)


# ---- errors ----------------------------------------------------------------------------------------------------------
ERROR_CASES = [
    (lambda t: t.zeros(3).mean(dtype=t.int64), "mean\\(\\): could not infer output dtype. Optional dtype must be"),
    (lambda t: t.amax(t.zeros(2, 2), 0, out=t.zeros(2, dtype=t.int32)),
     "Expected the dtype for input and out to match, but got Float for input's dtype and Int for out's dtype."),
    (lambda t: t.amin(t.zeros(2, 2), 0, out=t.zeros(2, dtype=t.int32)), "Expected the dtype for input and out"),
    (lambda t: t.aminmax(t.zeros(2, 2), dim=0, out=(t.zeros(2), t.zeros(2, dtype=t.float64))),
     "Expected out tensor to have dtype float, but got double instead"),
    (lambda t: (lambda x: t.kthvalue(x, 2, out=(x, t.zeros((), dtype=t.int64))))(t.ones(4)),
     "some elements of the input tensor and the written-to tensor"),
    (lambda t: t.tensor([True, False]).argmax(), "argmax\\(\\): does not support bool input"),
    (lambda t: t.tensor([[True, False]]).argmin(1), "argmin\\(\\): does not support bool input"),
    (lambda t: t.linalg.vector_norm(t.tensor([1, 2]), dtype=t.float32), "floating point or complex tensor.*Got Long"),
    (lambda t: t.linalg.vector_norm(t.ones(0, 3), float("inf")), "cannot compute the inf norm on an empty tensor"),
    (lambda t: t.linalg.vector_norm(t.ones(0, 3), -1, dim=0), "cannot compute the -1 norm on the dimension 0"),
    (lambda t: t.tensor([1, 2]).logcumsumexp(0), "not implemented for 'Long'"),
    (lambda t: t.ones(0, 3).aminmax(), "cannot compute aminmax over an empty dimension"),
    (lambda t: t.ones(0, 3).aminmax(dim=0), "Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.ones(0, 3).kthvalue(1, 0), "Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.ones(0, 3).nanmedian(0), "Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.ones(0, 3).median(0), "non-zero size"),
    (lambda t: t.ones(0, 3).mode(0), "mode\\(\\): Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.ones(2, 3).sum(dim=(0, 0)), "appears multiple times"),
    (lambda t: t.ones(2, 3).cumsum(2), "Dimension out of range"),
    (lambda t: t.tensor(1.5).cummax(1), "out of range|Expected reduction dim"),
    (lambda t: t.sum(t.ones(2, 3), 1, out=t.zeros(2, requires_grad=True)), "don't support automatic differentiation"),
    (lambda t: t.sum(t.ones(2, 3, requires_grad=True), 1, out=t.zeros(2)), "don't support automatic differentiation"),
    (lambda t: t.max(t.ones(2, 3, requires_grad=True), 1, out=(t.zeros(2), t.zeros(2, dtype=t.int64))),
     "don't support automatic differentiation"),
    (lambda t: t.quantile(t.tensor([1, 2]), 0.5), "input tensor must be either float or double dtype"),
    (lambda t: t.quantile(t.ones(3), t.tensor([[0.5]])), "q must be a scalar or 1D tensor"),
    (lambda t: t.quantile(t.ones(3), t.tensor([0.5], dtype=t.float64)), "q tensor must be same dtype"),
    (lambda t: t.quantile(t.ones(3), 1.5), r"q must be in the range \[0, 1\] but got 1.5"),
    (lambda t: t.quantile(t.ones(3), t.tensor([0.5, -0.1])), r"q values must be in the range \[0, 1\]"),
    (lambda t: t.quantile(t.ones(3), 0.5, interpolation="foo"), "interpolation must be one of .* but got foo"),
    (lambda t: t.nanquantile(t.ones(0, 3), 0.5, dim=1), "input tensor must be non-empty"),
    (lambda t: t.return_types.max((t.ones(1),)), "takes a 2-sequence \\(1-sequence given\\)"),
]


@pytest.mark.parametrize("fn,match", ERROR_CASES)
def test_errors(fn, match):
    check_raises(fn, match=match)


@pytest.mark.parametrize("fn,name", [
    (lambda t: t.ones(3, 1).var(1), "var"),
    (lambda t: t.ones(2).std(correction=2), "std"),
    (lambda t: t.var_mean(t.ones(1)), "var_mean"),
    (lambda t: t.std_mean(t.ones(0, 3), 0), "std_mean"),
])
def test_var_degrees_of_freedom_warning(fn, name):
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match=name + r"\(\): degrees of freedom is <= 0"):
            fn(lib)


# ---- autograd node names, out=, NumPy-style argument names -----------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda t, x: x.sum(), lambda t, x: x.sum(1), lambda t, x: x.sum(dim=[]), lambda t, x: x.mean(),
    lambda t, x: x.mean(1), lambda t, x: x.prod(), lambda t, x: x.prod(1), lambda t, x: x.nansum(1),
    lambda t, x: x.nanmean(), lambda t, x: x.max(), lambda t, x: x.max(1)[0], lambda t, x: x.min(),
    lambda t, x: x.min(0).values, lambda t, x: x.amax(), lambda t, x: x.amin(1), lambda t, x: x.aminmax()[0],
    lambda t, x: t.max(x, x * 2), lambda t, x: x.var(), lambda t, x: x.std(1), lambda t, x: t.var_mean(x)[0],
    lambda t, x: t.std_mean(x, 1)[1], lambda t, x: x.norm(), lambda t, x: x.norm(3, 1),
    lambda t, x: t.linalg.vector_norm(x, 1), lambda t, x: x.logsumexp(1), lambda t, x: x.cumsum(1),
    lambda t, x: x.cumprod(1), lambda t, x: x.cummax(1)[0], lambda t, x: x.cummin(0)[0],
    lambda t, x: x.logcumsumexp(1), lambda t, x: x.sort(1)[0], lambda t, x: x.msort(), lambda t, x: x.topk(2)[0],
    lambda t, x: x.kthvalue(2)[0], lambda t, x: x.median(), lambda t, x: x.median(1)[0], lambda t, x: x.nanmedian(),
    lambda t, x: x.nanmedian(1)[0], lambda t, x: x.mode(1)[0], lambda t, x: x[0, 0].sum(0),
])
def test_grad_fn_names(fn):
    a = rnd(3, 4)
    e, t = fn(ember, to_ember(a, True)), fn(torch, to_torch(a, True))
    assert e.grad_fn.name() == t.grad_fn.name()


@pytest.mark.parametrize("fn", [
    lambda t, x, o: t.sum(x, 1, out=o), lambda t, x, o: t.mean(x, (0, 1), keepdim=True, out=o),
    lambda t, x, o: t.prod(x, 0, out=o), lambda t, x, o: t.amax(x, 1, out=o), lambda t, x, o: t.std(x, 0, out=o),
    lambda t, x, o: t.logsumexp(x, 1, out=o), lambda t, x, o: t.cumsum(x, 0, out=o),
    lambda t, x, o: t.linalg.vector_norm(x, 3, 1, out=o), lambda t, x, o: t.quantile(x, 0.3, 1, out=o),
])
def test_out_argument(fn):
    a = rnd(3, 4)
    eo, to = ember.empty(0, dtype=ember.float64), torch.empty(0, dtype=torch.float64)
    e, t = fn(ember, to_ember(a), eo), fn(torch, to_torch(a), to)
    assert e is eo and t is to
    assert_same(eo, to)


@pytest.mark.parametrize("fn", [lambda t, x, o: t.max(x, 1, out=o), lambda t, x, o: t.sort(x, 0, out=o),
                                lambda t, x, o: t.topk(x, 2, out=o), lambda t, x, o: t.median(x, 1, out=o)])
def test_out_argument_pairs(fn):
    a = rnd(3, 4)
    eo = (ember.empty(0, dtype=ember.float64), ember.empty(0, dtype=ember.int64))
    to = (torch.empty(0, dtype=torch.float64), torch.empty(0, dtype=torch.int64))
    e, t = fn(ember, to_ember(a), eo), fn(torch, to_torch(a), to)
    assert e.values is eo[0] and e.indices is eo[1]
    assert_same(eo[0], to[0])
    assert_same(eo[1], to[1])


@pytest.mark.parametrize("fn,inputs,kw", [
    case("sum-axis", lambda t, x: x.sum(axis=1), X),
    case("sum-axis-keepdims", lambda t, x: t.sum(x, axis=(0, 2), keepdims=True), X),
    case("mean-axis", lambda t, x: x.mean(axis=-1), X),
    case("max-axis", lambda t, x: x.max(axis=1), X),
    case("amin-axis-keepdims", lambda t, x: x.amin(axis=0, keepdims=True), X),
    case("std-axis", lambda t, x: x.std(axis=1), X),
    case("argmax-axis", lambda t, x: x.argmax(axis=2), X),
    case("cumsum-axis", lambda t, x: x.cumsum(axis=1), X),
    case("sort-axis", lambda t, x: x.sort(axis=0), D),
    case("median-axis", lambda t, x: x.median(axis=1), D),
    case("all-axis", lambda t, x: x.all(axis=1), B),
])
def test_numpy_argument_names(fn, inputs, kw):
    check(fn, list(inputs), **kw)


@pytest.mark.parametrize("fn,a", [
    (lambda t, x: t.mode(x, 1), ties(3, 40, seed=2)),
    (lambda t, x: t.mode(x, 0, keepdim=True), ties(30, 4, seed=3, hi=4)),
])
def test_mode_large(fn, a):
    """Long rows: torch's index among equal values is implementation-defined; values exact, indices consistent."""
    e, t = fn(ember, to_ember(a)), fn(torch, to_torch(a))
    assert_same(e.values, t.values)
    dim = 1 if e.values.shape[0] == a.shape[0] and a.shape[1] == 40 else 0
    idx = e.indices.numpy() if e.indices.dim() == a.ndim else np.expand_dims(e.indices.numpy(), dim)
    np.testing.assert_array_equal(np.take_along_axis(a, idx, dim).reshape(t.values.shape), t.values.numpy())


# ---- gradcheck on a representative subset -------------------------------------------------------------------------
GRADCHECK = [
    (lambda x: x.sum((0, 2)), rnd(2, 3, 2)),
    (lambda x: x.prod(1), np.array([[1., 0., 3.], [2., 4., -1.], [0., 0., 2.]])),
    (lambda x: x.var(1, correction=2), rnd(3, 4)),
    (lambda x: x.std(0), rnd(3, 4)),
    (lambda x: ember.linalg.vector_norm(x, 3, dim=1), rnd(3, 4)),
    (lambda x: x.norm(), rnd(3, 4)),
    (lambda x: x.logsumexp(1), rnd(3, 4)),
    (lambda x: x.cumprod(1), np.array([[1., 0., 3., 2.], [0.5, 2., 0., 0.]])),
    (lambda x: x.logcumsumexp(0), rnd(3, 4)),
    (lambda x: x.max(1).values, rnd(3, 4)),
    (lambda x: x.sort(1, descending=True).values, rnd(3, 4)),
    (lambda x: x.topk(2, 0).values, rnd(3, 4)),
    (lambda x: x.cummax(1).values, rnd(3, 4)),
    (lambda x: x.median(1).values, rnd(3, 4)),
    (lambda x: ember.quantile(x, 0.3, dim=1), rnd(3, 4)),
    (lambda x: ember.nanquantile(x, ember.tensor([0.2, 0.7], dtype=ember.float64)), rnd(3, 4)),
    (lambda x: ember.var_mean(x, 1, correction=0)[0] + ember.var_mean(x, 1, correction=0)[1], rnd(3, 4)),
    (lambda x: x.cumsum(0), rnd(3, 4)),
    (lambda x: ember.linalg.vector_norm(x, 0.5, dim=0), rnd(3, 4)),
    (lambda x: x.nansum(1), rnd(3, 4)),
]


@pytest.mark.parametrize("fn,a", GRADCHECK)
def test_gradcheck(fn, a):
    x = ember.tensor(a, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("fn,a", [
    (lambda t, x: x.prod(1), np.array([[1., 0., 3.], [2., 4., -1.]])),
    (lambda t, x: x.prod(), np.array([[1., 0., 3.], [2., 4., -1.]])),
    (lambda t, x: x.prod(0), rnd(3, 2)),
    (lambda t, x: x.cumprod(1), np.array([[1., 0., 3., 2.], [0.5, 2., 3., 4.], [0., 2., 0., 4.]])),
    (lambda t, x: x.cumprod(0), rnd(3, 4)),
    (lambda t, x: x.cumsum(1), rnd(3, 4)),
    (lambda t, x: x.cumsum(0), rnd(40, 33)),
    (lambda t, x: x.cumprod(0), 1 + 0.1 * rnd(40, 33)),
    (lambda t, x: x.norm(dim=1), np.where(np.arange(40)[:, None] % 7 == 0, 0.0, rnd(40, 300))),
    (lambda t, x: x.logsumexp(1), rnd(40, 300)),
    (lambda t, x: x.topk(3, 1).values, distinct(40, 64)),
    (lambda t, x: x.var(1), rnd(3, 4)),
    (lambda t, x: x.std(1, correction=0), rnd(3, 4)),
    (lambda t, x: t.var_mean(x, 0)[0] + 2 * t.var_mean(x, 0)[1], rnd(3, 4)),
    (lambda t, x: t.std_mean(x, 1)[0] * 3 + t.std_mean(x, 1)[1], rnd(3, 4)),
    (lambda t, x: x.norm(3, 1), rnd(3, 4)),
    (lambda t, x: x.norm(2, 1), rnd(3, 4)),
    (lambda t, x: x.logsumexp(1), rnd(3, 4)),
    (lambda t, x: x.logcumsumexp(1), rnd(3, 4)),
    (lambda t, x: x.amax(1), ties(3, 4)),
    (lambda t, x: x.sort(1).values, rnd(3, 4)),
    (lambda t, x: x.mean(0), rnd(3, 4)),
    (lambda t, x: x.nansum(1), np.array([[1., NAN, 2.], [3., 4., 5.]])),
])
def test_double_backward(fn, a):
    """create_graph=True with a random upstream u: d/dx and d/du of sum(grad * v) match torch."""
    u0 = None
    res = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(a, True)
        y = fn(lib, x)
        u0 = rnd(*y.shape, seed=8) if u0 is None else u0
        u = conv(u0, True)
        g = lib.autograd.grad(y, x, u, create_graph=True)[0]
        v = conv(rnd(*a.shape, seed=9))
        (g * v).nansum().backward()
        res.append((x.grad, u.grad))
    (tx, tu), (ex, eu) = res
    assert_same(eu, tu, what="grad of upstream")
    if tx is None:
        assert ex is None or not ex.numpy().any()
    else:
        assert ex is not None
        assert_same(ex, tx, what="second derivative")


# ---- hypothesis: random shapes and dims for sum / mean / max / var ---------------------------------------------------
@st.composite
def shape_and_dims(draw, min_side=0):
    shape = draw(st.lists(st.integers(min_side, 4), min_size=0, max_size=4))
    nd = len(shape)
    dims = draw(st.lists(st.integers(-max(nd, 1), max(nd, 1) - 1), max_size=max(nd, 1), unique=True)) \
        if nd else draw(st.sampled_from([[], [0], [-1]]))
    if len({d % max(nd, 1) for d in dims}) != len(dims):
        dims = dims[:1]
    return tuple(shape), tuple(dims), draw(st.booleans())


@settings(max_examples=25, deadline=None)
@given(shape_and_dims(), st.sampled_from(["sum", "mean", "nansum"]), st.sampled_from(F), st.booleans())
def test_hypothesis_sum_mean(sd, op, dt, transposed):
    shape, dims, keepdim = sd
    a = rnd(*shape, seed=len(shape))
    if transposed:
        a = a.T    # reversed dims, Fortran-ordered: a non-contiguous tensor in both libraries
    check(lambda t, x: getattr(x, op)(dims if dims else None, keepdim=keepdim), [a], dtypes=[dt])


@settings(max_examples=25, deadline=None)
@given(shape_and_dims(min_side=1), st.sampled_from(F))
def test_hypothesis_max(sd, dt):
    shape, dims, keepdim = sd
    a = ties(*shape, seed=sum(shape), hi=4)
    if dims:
        check(lambda t, x: x.max(dims[0], keepdim=keepdim), [a], dtypes=[dt])
        check(lambda t, x: x.amax(dims, keepdim=keepdim), [a], dtypes=[dt])
    else:
        check(lambda t, x: x.max(), [a], dtypes=[dt])


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@settings(max_examples=25, deadline=None)
@given(shape_and_dims(min_side=1), st.sampled_from([0, 1, 2]), st.sampled_from(F))
def test_hypothesis_var(sd, correction, dt):
    shape, dims, keepdim = sd
    a = rnd(*shape, seed=len(shape) + 1)
    check(lambda t, x: x.var(dims if dims else None, correction=correction, keepdim=keepdim), [a], dtypes=[dt])
    check(lambda t, x: t.std_mean(x, dims if dims else None, correction=correction, keepdim=keepdim), [a],
          dtypes=[dt])


# ---- float32 stays float32 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["sum", "mean", "prod", "var", "std", "norm", "logsumexp", "amax", "nansum", "nanmean"])
def test_float32_stays_float32(op):
    x = ember.randn(3, 4)
    kw = {"dim": 1} if op == "logsumexp" else {}
    assert getattr(x, op)(**kw).dtype == ember.float32
    assert getattr(x, op)(**kw).numpy().dtype == np.float32


# ---- large inputs: the vectorized paths (SIMD row sums, BLAS sums of squares, split products, wide scans, partition
# selection), which only run from a few thousand elements up ----------------------------------------------------------
def spiky(*shape, seed=0, lo=-INF):
    """Standard normals with a sprinkle of NaN, +inf, `lo` (default -inf), huge and tiny magnitudes and zeros."""
    a = rnd(*shape, seed=seed)
    flat = a.reshape(-1)
    idx = np.random.default_rng(seed + 100).permutation(flat.size)[:30]
    flat[idx[:3]], flat[idx[3:6]], flat[idx[6:9]] = NAN, INF, lo
    flat[idx[9:15]] *= 1e30
    flat[idx[15:21]] *= 1e-30
    flat[idx[21:]] = 0.0
    return a


BIG = rnd(256, 330, seed=11)                     # 84480 elements: whole-array rows of 4096 and a tail
BIG3 = rnd(3, 64, 400, seed=12)
NEAR1 = 1 + 1e-3 * rnd(256, 300, seed=13)        # products stay finite
SPIKY = spiky(256, 300, seed=14)
ZROWS = np.where(np.arange(256)[:, None] % 50 == 0, 0.0, rnd(256, 300, seed=15))   # rows of zeros: norm 0
LONG = rnd(40, 2048, seed=16)                    # rows summed in 512-element chunks
LONG_NEAR1 = 1 + 1e-3 * rnd(40, 2048, seed=17)


def _nan_rows(x, rows, step=7):
    """x with NaN every `step` elements along the rows `rows` (one NaN per row when step is the row length)."""
    x = x.copy()
    x[rows, 1::step] = NAN
    return x


LARGE_CASES = [
    case("sum-all", lambda t, x: x.sum(), BIG),
    case("sum-last", lambda t, x: x.sum(-1, keepdim=True), BIG3),
    case("sum-spiky", lambda t, x: x.sum(1), SPIKY),
    case("sum-all-spiky", lambda t, x: x.sum(), SPIKY),
    case("sum-transposed", lambda t, x: x.t().sum(), BIG),
    case("mean-all", lambda t, x: x.mean(), BIG),
    case("mean-last", lambda t, x: t.mean(x, 2), BIG3),
    case("prod-all", lambda t, x: x.prod(), NEAR1),
    case("prod-last", lambda t, x: x.prod(1, keepdim=True), NEAR1),
    case("prod-last-odd", lambda t, x: x[:, :299].contiguous().prod(1), NEAR1),
    case("prod-zeros", lambda t, x: x.prod(1), np.where(ZROWS == 0, 0.0, NEAR1)),
    case("prod-special", lambda t, x: x.prod(1), np.where(ZROWS == 0, 0.0, np.where(SPIKY > 1e20, INF, NEAR1)),
         grad=False),
    case("prod-overflow", lambda t, x: x.prod(1), np.full((64, 1024), 3.0), grad=False),
    case("sum-long-rows", lambda t, x: x.sum(1), LONG),
    case("sum-long-rows-keepdim", lambda t, x: x.sum(-1, keepdim=True), LONG),
    case("sum-long-odd-rows", lambda t, x: x[:, :1999].contiguous().sum(1), LONG),
    case("mean-long-rows", lambda t, x: x.mean(1), LONG),
    case("prod-long-rows", lambda t, x: x.prod(1), LONG_NEAR1),
    case("prod-long-rows-keepdim", lambda t, x: x.prod(1, keepdim=True), LONG_NEAR1),
    case("norm-long-rows", lambda t, x: x.norm(dim=1), LONG),
    case("norm-all", lambda t, x: x.norm(), BIG),
    case("norm-last", lambda t, x: t.linalg.vector_norm(x, dim=-1, keepdim=True), BIG3),
    case("norm-zero-rows", lambda t, x: x.norm(dim=1), ZROWS),
    case("norm-first", lambda t, x: x.norm(dim=0), ZROWS),
    case("norm-spiky", lambda t, x: x.norm(dim=1), SPIKY, grad=False),
    case("norm-huge", lambda t, x: x.norm(dim=1), 1e20 * BIG, grad=False),
    case("norm-p1", lambda t, x: x.norm(1, dim=1), BIG),
    case("logsumexp-last", lambda t, x: x.logsumexp(1), BIG),
    case("logsumexp-first", lambda t, x: t.logsumexp(x, 0, keepdim=True), BIG),
    case("logsumexp-all", lambda t, x: x.logsumexp((0, 1)), BIG),
    case("logsumexp-neginf-rows", lambda t, x: x.logsumexp(1),
         np.where(np.arange(256)[:, None] % 40 == 0, -INF, BIG)),
    case("logsumexp-spiky", lambda t, x: x.logsumexp(1), SPIKY, grad=False),
    case("cumsum-last", lambda t, x: x.cumsum(1), BIG),
    case("cumsum-wide-dim0", lambda t, x: x.cumsum(0), BIG),
    case("cumsum-wide-middle", lambda t, x: t.cumsum(x, 1), BIG3),
    case("cumsum-transposed", lambda t, x: x.t().cumsum(1), BIG),
    case("cumsum-spiky", lambda t, x: x.cumsum(0), SPIKY),
    case("cumsum-int", lambda t, x: x.cumsum(0), ints(200, 64, lo=-1000, hi=1000)),
    case("cumsum-dtype", lambda t, x: x.cumsum(0, dtype=t.float64), BIG),
    case("cumprod-last", lambda t, x: x.cumprod(1), NEAR1),
    case("cumprod-wide-dim0", lambda t, x: x.cumprod(0), NEAR1),
    case("cumprod-zeros", lambda t, x: x.cumprod(0), np.where(ZROWS == 0, 0.0, NEAR1)),
    case("cumprod-spiky", lambda t, x: x.cumprod(0), SPIKY, grad=False),
    case("cumprod-overflow", lambda t, x: x.cumprod(0), np.full((200, 64), 10.0), grad=False),
]


@pytest.mark.parametrize("shape, op, dim", [((10 ** 6,), "sum", None), ((10 ** 6,), "mean", None),
                                           ((64, 16384), "sum", 1), ((256, 1024), "sum", 1), ((80, 2560), "mean", -1)])
def test_float32_sums_of_similar_values_stay_accurate(shape, op, dim):
    """Sums of many equal float32 values: within a few times PyTorch's cascade-sum error of the exact value."""
    x = np.full(shape, 0.1, np.float32)
    value = np.float64(np.float32(0.1))
    exact = value if op == "mean" else value * (x.size if dim is None else shape[dim])
    errors = []
    for lib in (ember, torch):
        t = lib.from_numpy(x)
        out = getattr(t, op)() if dim is None else getattr(t, op)(dim)
        errors.append(np.abs(out.numpy() / exact - 1).max())
    assert errors[0] <= 4 * max(errors[1], 2.0 ** -24), errors


@pytest.mark.parametrize("fn,inputs,kw", LARGE_CASES)
def test_large_inputs(fn, inputs, kw):
    """Large inputs take the vectorized paths; NaN/inf/huge values and overflow give torch's values, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(fn, list(inputs), **kw)


@pytest.mark.parametrize("fn,a", [
    (lambda t, x: x.cumsum(1), 100 * BIG),
    (lambda t, x: x.cumsum(0), 100 * BIG),
    (lambda t, x: x.cumprod(0), NEAR1),
    (lambda t, x: x.cumprod(1), NEAR1),
])
def test_scan_float32_exact(fn, a):
    """cumsum/cumprod accumulate float32 in double in PyTorch's order: results and gradients are bit-identical."""
    check(fn, [a], dtypes=["float32"], tol=dict(rtol=0, atol=0))


D2 = distinct(40, 64, seed=21)                   # 2560 elements: the partition path of topk/kthvalue/median
T2 = ties(40, 64, seed=22, hi=5)
N2 = _nan_rows(distinct(40, 64, seed=23), [0, 5, 17], step=64)
NALL = np.where(np.arange(40)[:, None] == 3, NAN, distinct(40, 64, seed=24))


SELECT_LARGE = [
    case("topk", lambda t, x: x.topk(5, 1), D2),
    case("topk-smallest", lambda t, x: x.topk(7, 1, largest=False), D2),
    case("topk-dim0", lambda t, x: x.topk(3, 0), D2),
    case("topk-transposed", lambda t, x: x.t().topk(4, 1), D2),
    case("topk-k1", lambda t, x: x.topk(1, 1), D2),
    case("topk-kn-1", lambda t, x: x.topk(63, 1), D2),
    case("topk-kn", lambda t, x: x.topk(64, 1), D2),
    case("topk-nan", lambda t, x: x.topk(5, 1), N2),
    case("topk-nan-smallest", lambda t, x: x.topk(60, 1, largest=False), N2),
    case("topk-int", lambda t, x: x.topk(5, 1), distinct(40, 64, seed=25).astype(np.int64)),
    case("topk-3d", lambda t, x: x.topk(2, 1), distinct(4, 30, 20, seed=26)),
    case("kthvalue", lambda t, x: x.kthvalue(10, 1), D2),
    case("kthvalue-dim0-keepdim", lambda t, x: x.kthvalue(40, 0, keepdim=True), D2),
    case("kthvalue-nan", lambda t, x: x.kthvalue(62, 1), N2),
    case("kthvalue-int", lambda t, x: x.kthvalue(3, 1), distinct(40, 64, seed=27).astype(np.int32)),
    case("median", lambda t, x: x.median(1), D2),
    case("median-odd", lambda t, x: x.median(0), distinct(65, 40, seed=28)),
    case("median-nan", lambda t, x: x.median(1), N2),
    case("median-int", lambda t, x: x.median(1, keepdim=True), distinct(40, 64, seed=29).astype(np.int64)),
    case("nanmedian-no-nan", lambda t, x: x.nanmedian(1), D2),
    case("nanmedian-nan", lambda t, x: x.nanmedian(1), N2),
]


@pytest.mark.parametrize("fn,inputs,kw", SELECT_LARGE)
def test_selection_large(fn, inputs, kw):
    check(fn, list(inputs), **kw)


@pytest.mark.parametrize("fn,dim,x", [
    (lambda t, x: t.topk(x, 6), -1, _nan_rows(T2, [2, 9])),
    (lambda t, x: t.topk(x, 50, largest=False), -1, _nan_rows(T2, [2, 9])),
    (lambda t, x: t.topk(x, 2, dim=0), 0, _nan_rows(T2, [2, 9])),
    (lambda t, x: t.kthvalue(x, 30, 1, keepdim=True), 1, _nan_rows(T2, [2, 9])),
    (lambda t, x: t.median(x, 1), 1, _nan_rows(T2, [2, 9])),
    (lambda t, x: t.median(x, 0, keepdim=True), 0, _nan_rows(T2, [2, 9])),
    (lambda t, x: t.topk(x, 5, 1, largest=False), 1, NALL),
    (lambda t, x: t.topk(x, 5, 1), 1, NALL),
])
def test_selection_large_with_ties(fn, dim, x):
    """Partition path with ties (NaN ties NaN): values match torch; the indices select those values, each position
    at most once."""
    e, t = fn(ember, to_ember(x)), fn(torch, to_torch(x))
    assert_same(e.values, t.values)
    idx = e.indices.numpy() if e.indices.dim() == x.ndim else np.expand_dims(e.indices.numpy(), dim)
    got = np.take_along_axis(x, idx, dim).reshape(t.values.shape)
    np.testing.assert_array_equal(got, t.values.numpy())
    srt = np.sort(np.moveaxis(idx, dim, -1), -1)
    assert (np.diff(srt, axis=-1) > 0).all()


def test_selection_large_gradient_with_ties():
    """topk's gradient lands on the selected indices (one position per selected value)."""
    x = to_ember(T2, True)
    v, i = x.topk(9, 1)
    g = rnd(40, 9, seed=5)
    v.backward(ember.from_numpy(g))
    want = np.zeros_like(T2)
    np.put_along_axis(want, i.numpy(), g, 1)
    np.testing.assert_array_equal(x.grad.numpy(), want)


@pytest.mark.parametrize("fn, match", [
    (lambda t: t.hash_tensor(t.zeros(2, 0), 1), "reduction dim 1 to have non-zero size"),
    (lambda t: t.hash_tensor(t.zeros(2, 0)), "reduction dim to be specified for input.numel\\(\\) == 0"),
    (lambda t: t.hash_tensor(t.ones(3), mode=1), "Unknown hash_tensor mode: 1"),
    (lambda t: t.hash_tensor(t.ones(3, dtype=t.complex64)), "not implemented for 'ComplexFloat'"),
])
def test_hash_tensor_errors(fn, match):
    check_raises(fn, match=match)


@pytest.mark.parametrize("dtype", ["float16", "float64", "int8", "uint8", "bool"])
def test_hash_tensor_xors_the_64_bit_patterns(dtype):
    data = np.array([[1.5, -2.0, 0.0], [-0.0, 3.0, 255.0]]).astype(dtype)
    for args, kw in (((), {}), ((1,), {}), ((0,), {"keepdim": True})):
        assert_same(ember.hash_tensor(to_ember(data), *args, **kw), torch.hash_tensor(to_torch(data), *args, **kw))
