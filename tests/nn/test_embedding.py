"""Embedding, EmbeddingBag and F.one_hot against torch: lookups, gradients (padding_idx, scale_grad_by_freq),
max_norm renormalising rows in place, from_pretrained/freeze, bag modes, offsets, per-sample weights, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, assert_same
from .nnparity import arr, same, same_error, pair, run_pair

F64_32 = ("float64", "float32")
W = arr(10, 4, seed=0)
IDX = np.array([[2, 5, 2, 9, 0], [1, 2, 2, 7, 3], [9, 9, 4, 0, 2]])

EMB = [
    ("plain", {}, IDX),
    ("padding", {"padding_idx": 2}, IDX),
    ("padding_negative", {"padding_idx": -1}, IDX),
    ("scale_grad", {"scale_grad_by_freq": True}, IDX),
    ("padding_scale_grad", {"padding_idx": 9, "scale_grad_by_freq": True}, IDX),
    ("0d_index", {}, np.array(4)),
    ("1d", {"padding_idx": 0}, np.array([0, 3, 0, 8])),
    ("3d", {}, IDX.reshape(3, 1, 5)),
    ("empty", {}, np.zeros((0, 3), np.int64)),
    ("int32_index", {}, IDX.astype(np.int32)),
    ("noncontig_index", {}, IDX.T),
]


@pytest.mark.parametrize("name,kw,idx", EMB, ids=[e[0] for e in EMB])
def test_functional_embedding(name, kw, idx):
    check(lambda t, w: t.nn.functional.embedding(t.tensor(idx), w, **kw), [W], dtypes=F64_32)


@pytest.mark.parametrize("n,m,d", [(3, 100, 8), (10, 400, 8), (100, 128, 16),
                                   (1000, 4096, 16), (100, 4096, 8), (10, 4096, 4), (3, 2000, 8), (5000, 2000, 8)],
                         ids=str)
def test_embedding_gradient_of_repeated_rows_is_torch_exact(n, m, d):
    """Gradients whose rows repeat (from a few to ~700 times; small ones go through np.add.at, larger ones are
    summed rank by rank, past 64 occurrences by a running sum): summed in torch's order, bit for bit."""
    rng = np.random.default_rng(n)
    flat, g = rng.integers(0, n, m), rng.standard_normal((m, d)).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        w = lib.zeros(n, d, requires_grad=True)
        lib.nn.functional.embedding(lib.from_numpy(flat), w).backward(lib.from_numpy(g))
        grads.append(w.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_functional_embedding_noncontig_weight():
    check(lambda t, w: t.nn.functional.embedding(t.tensor(IDX), w.t()), [arr(4, 10, seed=1)], dtypes=F64_32)


@pytest.mark.parametrize("name,kw,idx", EMB, ids=[e[0] for e in EMB])
def test_module_embedding(name, kw, idx):
    def build(t):
        m = t.nn.Embedding(10, 4, **kw).double()
        with t.no_grad():
            m.weight.copy_(t.tensor(W))
        return m
    e, tm = pair(build)
    run_pair(e, tm, idx)


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (0.5, 1.0), (1.2, 3.0), (0.8, float("inf")),
                                                (100.0, 2.0)])
@pytest.mark.parametrize("dtype", F64_32)
def test_max_norm_renormalises_rows_in_place(max_norm, norm_type, dtype):
    """Referenced rows whose norm exceeds max_norm are scaled in place (others untouched), then looked up."""
    def fn(t):
        w = t.tensor(W.astype(dtype) * 2, requires_grad=True)
        out = t.nn.functional.embedding(t.tensor(IDX[:2]), w, max_norm=max_norm, norm_type=norm_type)
        out.backward(t.tensor(arr(*out.shape, seed=3).astype(dtype)))
        return out, w.detach().clone(), w.grad
    same(fn)


def test_max_norm_module_and_repeat_calls():
    def fn(t):
        m = t.nn.Embedding(10, 4, max_norm=1.5, norm_type=1.0, padding_idx=3).double()
        with t.no_grad():
            m.weight.copy_(t.tensor(W * 3))
        outs = [m(t.tensor(IDX[k])) for k in range(3)]
        return outs, m.weight, repr(m)
    same(fn)


def test_sparse_is_accepted():
    """sparse=True: same values; torch returns a sparse gradient, ember a dense one with the same entries."""
    e, tm = pair(lambda t: t.nn.Embedding(10, 4, sparse=True, padding_idx=1).double())
    ye, yt = e(ember.tensor(IDX)), tm(torch.tensor(IDX))
    assert_same(ye, yt)
    g = arr(*IDX.shape, 4, seed=2)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(e.weight.grad.numpy(), tm.weight.grad.to_dense().numpy(), rtol=1e-12)
    assert repr(e) == repr(tm)


@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained(freeze):
    def fn(t):
        m = t.nn.Embedding.from_pretrained(t.tensor(W), freeze=freeze, padding_idx=2, max_norm=None)
        out = m(t.tensor(IDX))
        if not freeze:
            out.sum().backward()
        return out, m.weight.requires_grad, m.weight.grad, repr(m), m.num_embeddings, m.embedding_dim
    same(fn)


def test_from_pretrained_keeps_padding_row_values():
    same(lambda t: t.nn.Embedding.from_pretrained(t.tensor(W), padding_idx=0).weight)


def test_module_defaults_and_repr():
    def fn(t):
        t.manual_seed(0)
        reprs = [repr(t.nn.Embedding(5, 3)), repr(t.nn.Embedding(5, 3, padding_idx=1, max_norm=2.0, norm_type=1.0,
                                                                      scale_grad_by_freq=True, sparse=True)),
                 repr(t.nn.Embedding(5, 3, padding_idx=-2))]
        m = t.nn.Embedding(5, 3, padding_idx=1)
        return reprs, m.weight[1], m.padding_idx, tuple(m.weight.shape), m.weight.dtype
    same(fn)


def test_init_is_standard_normal():
    w = ember.nn.Embedding(20000, 8).weight.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_freeze_flag_and_weight_arg():
    def fn(t):
        m = t.nn.Embedding(10, 4, _weight=t.tensor(W), _freeze=True)
        return m.weight.requires_grad, m(t.tensor(IDX[0]))
    same(fn)


EMB_ERRORS = [
    ("index_high", lambda t: t.nn.functional.embedding(t.tensor([0, 10]), t.tensor(W))),
    ("index_low", lambda t: t.nn.functional.embedding(t.tensor([0, -11]), t.tensor(W))),
    ("index_negative", lambda t: t.nn.functional.embedding(t.tensor([0, -1]), t.tensor(W))),
    ("float_index", lambda t: t.nn.functional.embedding(t.tensor([0.0, 1.0]), t.tensor(W))),
    ("padding_too_big", lambda t: t.nn.Embedding(5, 3, padding_idx=5)),
    ("padding_too_small", lambda t: t.nn.Embedding(5, 3, padding_idx=-6)),
    ("fn_padding_too_big", lambda t: t.nn.functional.embedding(t.tensor([0]), t.tensor(W), padding_idx=10)),
    ("pretrained_1d", lambda t: t.nn.Embedding.from_pretrained(t.ones(3))),
    ("weight_shape", lambda t: t.nn.Embedding(5, 3, _weight=t.ones(4, 3))),
    ("weight_0d", lambda t: t.nn.functional.embedding(t.tensor([[0, 1]]), t.tensor(1.0))),
    ("weight_3d", lambda t: t.nn.functional.embedding(t.tensor([[0, 1]]), t.ones(1, 1, 1))),
    ("weight_1d_float_index", lambda t: t.nn.functional.embedding(t.tensor([0.0]), t.ones(3))),
]


@pytest.mark.parametrize("name,fn", EMB_ERRORS, ids=[e[0] for e in EMB_ERRORS])
def test_embedding_errors(name, fn):
    same_error(fn)


def test_embedding_double_backward():
    """(torch's double backward ignores scale_grad_by_freq, so that option is left out here.)"""
    def fn(t):
        w = t.tensor(W, requires_grad=True)
        y = t.nn.functional.embedding(t.tensor(IDX), w, padding_idx=2)
        g, = t.autograd.grad((y ** 3).sum(), w, create_graph=True)
        (g * g).sum().backward()
        return g, w.grad
    same(fn)


# ---- EmbeddingBag -------------------------------------------------------------------------------------------------
FLAT = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5])
OFFS = np.array([0, 2, 2, 5])
PSW = arr(9, seed=4)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 5, -1])
@pytest.mark.parametrize("last", [False, True])
def test_embedding_bag_offsets(mode, padding_idx, last):
    offs = np.append(OFFS, len(FLAT)) if last else OFFS
    check(lambda t, w: t.nn.functional.embedding_bag(t.tensor(FLAT), w, t.tensor(offs), mode=mode,
                                                     padding_idx=padding_idx, include_last_offset=last),
          [W], dtypes=F64_32)


@pytest.mark.parametrize("bags", ["equal", "unequal"])
def test_embedding_bag_sums_are_torch_exact(bags):
    """Bag sums of many rows add in torch's order: float32 results bit for bit. (Its weight gradient sums the rows of
    one index in the order of an unstable sort, which ember does not reproduce.)"""
    rng = np.random.default_rng(5)
    flat, w = rng.integers(0, 300, 4096), rng.standard_normal((300, 32)).astype(np.float32)
    offs = np.arange(0, 4096, 16) if bags == "equal" else np.r_[0, np.sort(rng.choice(np.arange(1, 4096), 255, False))]
    e, t = (lib.nn.functional.embedding_bag(lib.from_numpy(flat), lib.from_numpy(w), lib.from_numpy(offs), mode="sum")
            for lib in (ember, torch))
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_2d_input(mode, padding_idx):
    check(lambda t, w: t.nn.functional.embedding_bag(t.tensor(IDX), w, mode=mode, padding_idx=padding_idx),
          [W], dtypes=F64_32)


@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("last", [False, True])
def test_embedding_bag_per_sample_weights(padding_idx, last):
    offs = np.append(OFFS, len(FLAT)) if last else OFFS
    check(lambda t, w, p: t.nn.functional.embedding_bag(t.tensor(FLAT), w, t.tensor(offs), mode="sum",
                                                        per_sample_weights=p, padding_idx=padding_idx,
                                                        include_last_offset=last), [W, PSW], dtypes=F64_32)
    check(lambda t, w, p: t.nn.functional.embedding_bag(t.tensor(IDX), w, mode="sum", per_sample_weights=p),
          [W, arr(3, 5, seed=5)], dtypes=F64_32)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("psw", [False, True], ids=["plain", "per_sample_weights"])
def test_embedding_bag_half(mode, psw):
    """float16 bags as torch's: sums (weighted) in float32 rounded once, means as that half sum / count in half;
    bit for bit on large rows (long bags, so a per-element rounding would show)."""
    if psw and mode != "sum":
        return
    w = arr(10, 64, seed=6) * 8
    idx = np.random.default_rng(7).integers(0, 10, (6, 12))
    weights = [arr(6, 12, seed=8)] if psw else []

    def fn(t, w, *p):
        return t.nn.functional.embedding_bag(t.tensor(idx), w, mode=mode, per_sample_weights=p[0] if p else None)
    check(fn, [w] + weights, dtypes=["float16"], grad=False, tol=dict(rtol=0, atol=0))
    # torch accumulates the weight gradient in half, row by row: within rounding
    check(fn, [w / 8] + weights, dtypes=["float16"], tol=dict(rtol=1e-2, atol=1e-2))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_max_norm_rows_scaled_as_torch(dtype, norm_type):
    """embedding_renorm_: the norm in the weight's dtype (half's computed in float32), a double scale rounded to the
    weight's dtype, the rows multiplied in float32 for half: the renormalised weight bit for bit."""
    def fn(t):
        w = t.tensor((W * 3).astype(dtype))
        t.nn.functional.embedding_bag(t.tensor(IDX), w, mode="sum", max_norm=1.0, norm_type=norm_type)
        return w
    e, t_ = fn(ember).numpy(), fn(torch).numpy()
    assert e.tobytes() == t_.tobytes()


def test_embedding_bag_max_ties_and_empty_bags():
    w = np.repeat(np.arange(5.0)[:, None], 3, 1)
    w[3] = w[4]
    check(lambda t, v: t.nn.functional.embedding_bag(t.tensor([3, 4, 4, 0]), v, t.tensor([0, 0, 3, 3]), mode="max"),
          [w], dtypes=F64_32)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_embedding_bag_module(mode, max_norm):
    def build(t):
        m = t.nn.EmbeddingBag(10, 4, mode=mode, max_norm=max_norm, padding_idx=0).double()
        with t.no_grad():
            m.weight.copy_(t.tensor(W * 2))
        return m
    e, tm = pair(build)
    for args_e, args_t in (((ember.tensor(FLAT), ember.tensor(OFFS)), (torch.tensor(FLAT), torch.tensor(OFFS))),
                           ((ember.tensor(IDX),), (torch.tensor(IDX),))):
        ye, yt = e(*args_e), tm(*args_t)
        assert_same(ye, yt)
        g = arr(*yt.shape, seed=6)
        ye.backward(ember.tensor(g))
        yt.backward(torch.tensor(g))
        assert_same(e.weight.grad, tm.weight.grad)
        assert_same(e.weight.detach(), tm.weight.detach())
    assert repr(e) == repr(tm)


def test_embedding_bag_from_pretrained_and_repr():
    def fn(t):
        m = t.nn.EmbeddingBag.from_pretrained(t.tensor(W), mode="sum", freeze=False, include_last_offset=True,
                                              padding_idx=3)
        out = m(t.tensor(FLAT), t.tensor(np.append(OFFS, 9)))
        out.sum().backward()
        return (out, m.weight.grad, m.weight.requires_grad, repr(m), repr(t.nn.EmbeddingBag(5, 2)),
                repr(t.nn.EmbeddingBag(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, mode="max")))
    same(fn)


BAG_ERRORS = [
    ("mode", lambda t: t.nn.functional.embedding_bag(t.tensor([0, 1]), t.tensor(W), t.tensor([0]), mode="min")),
    ("psw_mean", lambda t: t.nn.functional.embedding_bag(t.tensor([0, 1]), t.tensor(W), t.tensor([0]),
                                                         per_sample_weights=t.ones(2, dtype=t.float64))),
    ("2d_with_offsets", lambda t: t.nn.functional.embedding_bag(t.tensor([[0, 1]]), t.tensor(W), t.tensor([0]))),
    ("1d_no_offsets", lambda t: t.nn.functional.embedding_bag(t.tensor([0, 1]), t.tensor(W))),
    ("3d_input", lambda t: t.nn.functional.embedding_bag(t.tensor([[[0, 1]]]), t.tensor(W))),
    ("offsets_2d", lambda t: t.nn.functional.embedding_bag(t.tensor([0, 1]), t.tensor(W), t.tensor([[0]]))),
    ("last_offset_past_input", lambda t: t.nn.functional.embedding_bag(t.tensor([0, 1, 2]), t.tensor(W),
                                                                       t.tensor([0, 2, 4]), include_last_offset=True)),
]


@pytest.mark.parametrize("name,fn", BAG_ERRORS, ids=[e[0] for e in BAG_ERRORS])
def test_embedding_bag_errors(name, fn):
    same_error(fn)


def test_embedding_bag_first_offset_not_zero():
    """torch's message ends in a line printing an empty tensor, which ember leaves out."""
    e, t = same_error(lambda t: t.nn.functional.embedding_bag(t.tensor([0, 1, 2]), t.tensor(W), t.tensor([1, 2])),
                      exact=False)
    assert str(e) == str(t).split("\n")[0]


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 4), min_size=1, max_size=5), mode=st.sampled_from(["sum", "mean", "max"]),
       seed=st.integers(0, 1000))
def test_embedding_bag_random_bags(sizes, mode, seed):
    g = np.random.default_rng(seed)
    flat = g.integers(0, 10, sum(sizes))
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    check(lambda t, w: t.nn.functional.embedding_bag(t.tensor(flat), w, t.tensor(offs), mode=mode), [W],
          dtypes=["float64"])


# ---- one_hot ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("idx,n", [(np.array([0, 2, 1]), -1), (np.array([0, 2, 1]), 5), (IDX, -1), (IDX, 12),
                                   (np.array(3), 4), (np.zeros((0,), np.int64), 3), (IDX.T, 10)])
def test_one_hot(idx, n):
    same(lambda t: t.nn.functional.one_hot(t.tensor(idx), n))


ONE_HOT_ERRORS = [
    ("negative", lambda t: t.nn.functional.one_hot(t.tensor([0, -1]), 3)),
    ("too_big", lambda t: t.nn.functional.one_hot(t.tensor([0, 3]), 3)),
    ("float", lambda t: t.nn.functional.one_hot(t.tensor([0.0, 1.0]), 3)),
    ("empty_infer", lambda t: t.nn.functional.one_hot(t.tensor(np.zeros(0, np.int64)))),
]


@pytest.mark.parametrize("name,fn", ONE_HOT_ERRORS, ids=[e[0] for e in ONE_HOT_ERRORS])
def test_one_hot_errors(name, fn):
    same_error(fn)


BAG_FAST_CASES = [  # (id, flat indices, offsets): bag sums by segment (uniform bags reshape, others reduceat)
    ("uniform", [1, 2, 3, 4, 5, 6], [0, 2, 4]),
    ("empty_first_middle_last", [3, 3, 1, 0, 9], [0, 0, 3, 3, 5]),
    ("one_bag", [4, 2, 7], [0]),
]


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("flat,offs", [c[1:] for c in BAG_FAST_CASES], ids=[c[0] for c in BAG_FAST_CASES])
def test_embedding_bag_segments(flat, offs, mode):
    fn = lambda t, w: t.nn.functional.embedding_bag(t.tensor(flat), w, t.tensor(offs), mode=mode, padding_idx=3)
    check(fn, [W], dtypes=["float64", "float32"])
    w = ember.tensor(W, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda w: fn(ember, w), [w])
    psw = ember.tensor(np.linspace(0.5, 2, len(flat)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda w, p: ember.nn.functional.embedding_bag(
        ember.tensor(flat), w, ember.tensor(offs), mode="sum", per_sample_weights=p), [w, psw])
