"""Every loss of torch.nn, module and functional form, against torch: reductions (and the legacy size_average/reduce
with torch's warning), class weights, ignore_index, label smoothing, K-dimensional inputs, CTC, torch's errors,
extreme inputs and gradcheck."""
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import check, assert_same
from .nnparity import arr, pair, run_pair, same, same_error

F64_32 = ("float64", "float32")


def r(*shape, seed=0, scale=1.0):
    return arr(*shape, seed=seed) * scale


def softmax(a, axis=1):
    e = np.exp(a - a.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def log_softmax(a, axis=1):
    return np.log(softmax(a, axis))


rng = np.random.default_rng(0)
X, Y, Z = r(6, 5), r(6, 5, seed=1), r(6, 5, seed=2)
T = np.array([0, 3, 4, 1, 3, 2])
T_IGN = np.array([0, 3, -100, 1, 3, 2])
W5 = np.array([0.5, 1.5, 2.0, 0.7, 1.1])
XK, TK = r(3, 5, 4, 2, seed=3), rng.integers(0, 5, (3, 4, 2))
TK_IGN = np.where(rng.random((3, 4, 2)) < 0.3, 1, TK)
P = 1 / (1 + np.exp(-X))
YB = (r(6, 5, seed=4) > 0).astype(np.float64)
SIGN6 = np.sign(r(6, seed=5))
SIGN65 = np.sign(r(6, 5, seed=6))
MLM_T = np.array([[3, 0, -1, 1, 2], [1, 2, 4, 0, 3], [-1, 0, 0, 0, 0], [4, -1, 2, 2, 2], [2, 2, -1, 0, 0],
                  [0, 1, 2, 3, -1]])


def _w(t):
    return {"weight": t.tensor(W5)}


def _w32(t):
    return {"weight": t.tensor(W5.astype(np.float32))}


def _cos_dist(t):
    return {"distance_function": lambda a, b: 1.0 - t.nn.functional.cosine_similarity(a, b)}


# (id, functional name, module name, inputs, kwargs (dict or lib -> dict), grad_inputs or None (all floats))
LOSSES = [
    ("l1", "l1_loss", "L1Loss", [X, Y], {}, None),
    ("mse", "mse_loss", "MSELoss", [X, Y], {}, None),
    ("smooth_l1", "smooth_l1_loss", "SmoothL1Loss", [X, Y], {}, None),
    ("smooth_l1_beta", "smooth_l1_loss", "SmoothL1Loss", [X, Y], {"beta": 0.5}, None),
    ("smooth_l1_beta0", "smooth_l1_loss", "SmoothL1Loss", [X, Y], {"beta": 0.0}, None),
    ("huber", "huber_loss", "HuberLoss", [X, Y], {}, None),
    ("huber_delta", "huber_loss", "HuberLoss", [X, Y], {"delta": 0.7}, None),
    ("ce", "cross_entropy", "CrossEntropyLoss", [X, T], {}, None),
    ("ce_weight", "cross_entropy", "CrossEntropyLoss", [X, T], _w, None),
    ("ce_ignore", "cross_entropy", "CrossEntropyLoss", [X, T_IGN], {}, None),
    ("ce_ignore_custom", "cross_entropy", "CrossEntropyLoss", [X, T], {"ignore_index": 3}, None),
    ("ce_smooth", "cross_entropy", "CrossEntropyLoss", [X, T], {"label_smoothing": 0.2}, None),
    ("ce_smooth_weight_ignore", "cross_entropy", "CrossEntropyLoss", [X, T_IGN],
     lambda t: {"weight": t.tensor(W5), "label_smoothing": 0.3}, None),
    ("ce_k", "cross_entropy", "CrossEntropyLoss", [XK, TK], {}, None),
    ("ce_k_weight_smooth", "cross_entropy", "CrossEntropyLoss", [XK, TK_IGN],
     lambda t: {"weight": t.tensor(W5), "label_smoothing": 0.1, "ignore_index": 1}, None),
    ("ce_unbatched", "cross_entropy", "CrossEntropyLoss", [X[0], np.array(3)], {}, None),
    ("ce_unbatched_smooth_w", "cross_entropy", "CrossEntropyLoss", [X[0], np.array(3)],
     lambda t: {"weight": t.tensor(W5), "label_smoothing": 0.25}, None),
    ("ce_prob", "cross_entropy", "CrossEntropyLoss", [X, softmax(Y)], {}, None),
    ("ce_prob_smooth_weight", "cross_entropy", "CrossEntropyLoss", [X, softmax(Y)],
     lambda t: {"weight": t.tensor(W5), "label_smoothing": 0.2}, None),
    ("ce_prob_k", "cross_entropy", "CrossEntropyLoss", [XK, softmax(r(3, 5, 4, 2, seed=9))], {}, None),
    ("ce_prob_unbatched", "cross_entropy", "CrossEntropyLoss", [X[0], softmax(Y[0], 0)], {}, None),
    ("ce_noncontig", "cross_entropy", "CrossEntropyLoss", [r(5, 6).T, T], {}, None),
    ("nll", "nll_loss", "NLLLoss", [log_softmax(X), T], {}, None),
    ("nll_weight_ignore", "nll_loss", "NLLLoss", [X, T_IGN], _w, None),
    ("nll_ignore_custom", "nll_loss", "NLLLoss", [X, T], lambda t: {"weight": t.tensor(W5), "ignore_index": 0},
     None),
    ("nll_k", "nll_loss", "NLLLoss", [XK, TK], {}, None),
    ("nll_k_weight", "nll_loss", "NLLLoss", [XK, TK_IGN], lambda t: {"weight": t.tensor(W5), "ignore_index": 1},
     None),
    ("nll_unbatched", "nll_loss", "NLLLoss", [X[1], np.array(2)], _w, None),
    ("poisson", "poisson_nll_loss", "PoissonNLLLoss", [X, np.abs(Y) * 3], {}, None),
    ("poisson_full", "poisson_nll_loss", "PoissonNLLLoss", [X, np.abs(Y) * 3], {"full": True}, None),
    ("poisson_no_log", "poisson_nll_loss", "PoissonNLLLoss", [np.abs(X) + 0.1, np.abs(Y) * 3],
     {"log_input": False, "eps": 1e-3}, None),
    ("poisson_no_log_full", "poisson_nll_loss", "PoissonNLLLoss", [np.abs(X) + 0.1, np.round(np.abs(Y) * 3)],
     {"log_input": False, "full": True}, None),
    ("gauss", "gaussian_nll_loss", "GaussianNLLLoss", [X, Y, np.abs(Z) + 0.1], {}, None),
    ("gauss_full_eps", "gaussian_nll_loss", "GaussianNLLLoss", [X, Y, np.abs(Z)], {"full": True, "eps": 0.05}, None),
    ("gauss_var_fewer_dims", "gaussian_nll_loss", "GaussianNLLLoss", [X, Y, np.abs(Z[:, 0]) + 0.1], {}, None),
    ("gauss_var_last_1", "gaussian_nll_loss", "GaussianNLLLoss", [X, Y, np.abs(Z[:, :1]) + 0.1], {}, None),
    ("kl", "kl_div", "KLDivLoss", [log_softmax(X), softmax(Y)], {}, None),
    ("kl_log_target", "kl_div", "KLDivLoss", [log_softmax(X), log_softmax(Y)], {"log_target": True}, None),
    ("kl_zero_target", "kl_div", "KLDivLoss", [log_softmax(X), np.where(YB > 0, softmax(Y), 0.0)], {}, None),
    ("bce", "binary_cross_entropy", "BCELoss", [P, YB], {}, None),
    ("bce_soft", "binary_cross_entropy", "BCELoss", [P, 1 / (1 + np.exp(-Y))], {}, None),
    ("bce_weight", "binary_cross_entropy", "BCELoss", [P, YB], _w, None),
    ("bcel", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss", [X * 10, YB], {}, None),
    ("bcel_pos_weight", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss", [X * 3, YB],
     lambda t: {"pos_weight": t.tensor(W5)}, None),
    ("bcel_weight_pos_weight", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss", [X, Y],
     lambda t: {"pos_weight": t.tensor(W5), "weight": t.tensor(W5[::-1].copy())}, None),
    ("margin_ranking", "margin_ranking_loss", "MarginRankingLoss", [X[:, 0], Y[:, 0], SIGN6], {"margin": 0.3},
     [0, 1]),
    ("margin_ranking_default", "margin_ranking_loss", "MarginRankingLoss", [X[:, 0], Y[:, 0], SIGN6], {}, [0, 1]),
    ("hinge", "hinge_embedding_loss", "HingeEmbeddingLoss", [X, SIGN65], {"margin": 0.5}, [0]),
    ("hinge_default", "hinge_embedding_loss", "HingeEmbeddingLoss", [X, SIGN65], {}, [0]),
    ("multilabel_margin", "multilabel_margin_loss", "MultiLabelMarginLoss", [X, MLM_T], {}, None),
    ("multilabel_margin_1d", "multilabel_margin_loss", "MultiLabelMarginLoss", [X[0], MLM_T[0]], {}, None),
    ("multilabel_margin_0d", "multilabel_margin_loss", "MultiLabelMarginLoss", [np.array(X[0, 0]), np.array(0)], {},
     None),
    ("multilabel_margin_0d_1d_target", "multilabel_margin_loss", "MultiLabelMarginLoss",
     [np.array(X[0, 0]), np.array([-1])], {}, None),
    ("soft_margin", "soft_margin_loss", "SoftMarginLoss", [X, SIGN65], {}, [0]),
    ("multilabel_soft_margin", "multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", [X, YB], {}, [0]),
    ("multilabel_soft_margin_w", "multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", [X, YB], _w, [0]),
    ("cosine_embedding", "cosine_embedding_loss", "CosineEmbeddingLoss", [X, Y, SIGN6], {"margin": 0.2}, [0, 1]),
    ("cosine_embedding_default", "cosine_embedding_loss", "CosineEmbeddingLoss", [X, Y, SIGN6], {}, [0, 1]),
    ("multi_margin", "multi_margin_loss", "MultiMarginLoss", [X, T], {}, None),
    ("multi_margin_p2", "multi_margin_loss", "MultiMarginLoss", [X, T], {"p": 2, "margin": 0.7}, None),
    ("multi_margin_weight", "multi_margin_loss", "MultiMarginLoss", [X, T],
     lambda t: {"p": 1, "margin": 1.5, "weight": t.tensor(W5)}, None),
    ("multi_margin_1d", "multi_margin_loss", "MultiMarginLoss", [X[0], np.array(2)], {}, None),
    ("multi_margin_1d_1d_target", "multi_margin_loss", "MultiMarginLoss", [X[0], np.array([2])], {}, None),
    ("multi_margin_0d", "multi_margin_loss", "MultiMarginLoss", [np.array(X[0, 0]), np.array(0)], {}, None),
    ("multi_margin_0d_1d_target", "multi_margin_loss", "MultiMarginLoss", [np.array(X[0, 0]), np.array([0])],
     lambda t: {"weight": t.tensor(W5[:1])}, None),
    ("multi_margin_2d_0d_target", "multi_margin_loss", "MultiMarginLoss", [X[:1], np.array(3)], {}, None),
    ("triplet", "triplet_margin_loss", "TripletMarginLoss", [X, Y, Z], {}, None),
    ("triplet_opts", "triplet_margin_loss", "TripletMarginLoss", [X, Y, Z],
     {"margin": 0.5, "p": 1.0, "eps": 1e-3, "swap": True}, None),
    ("triplet_p3", "triplet_margin_loss", "TripletMarginLoss", [X, Y, Z * 3], {"p": 3.0, "swap": True}, None),
    ("triplet_dist", None, "TripletMarginWithDistanceLoss", [X, Y, Z], {}, None),
    ("triplet_dist_custom", None, "TripletMarginWithDistanceLoss", [X, Y, Z],
     lambda t: dict(_cos_dist(t), margin=0.4, swap=True), None),
]
FUNCTIONAL_ONLY = [
    ("triplet_dist_fn", "triplet_margin_with_distance_loss", [X, Y, Z], {}, None),
    ("triplet_dist_fn_custom", "triplet_margin_with_distance_loss", [X, Y, Z],
     lambda t: dict(_cos_dist(t), margin=2.0, swap=True), None),
]
REDUCTIONS = ["mean", "sum", "none"]


def _kw(spec_kw, t, dtype=None):
    kw = spec_kw(t) if callable(spec_kw) else dict(spec_kw)
    if dtype is not None:
        kw = {k: v.to(getattr(t, dtype)) if isinstance(v, (torch.Tensor, ember.Tensor)) else v for k, v in kw.items()}
    return kw


def _check_both_dtypes(fn, inputs, gi):
    for dt in F64_32:
        check(lambda t, *a: fn(t, dt, *a), inputs, dtypes=[dt], grad_inputs=gi)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spec", [s for s in LOSSES if s[1]], ids=[s[0] for s in LOSSES if s[1]])
def test_functional(spec, reduction):
    _, fname, _, inputs, kw, gi = spec
    _check_both_dtypes(lambda t, dt, *a: getattr(t.nn.functional, fname)(*a, **_kw(kw, t, dt), reduction=reduction),
                       inputs, gi)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spec", LOSSES, ids=[s[0] for s in LOSSES])
def test_module(spec, reduction):
    """The module form (float64; the functional test covers float32 through the same code)."""
    _, _, mname, inputs, kw, gi = spec
    check(lambda t, *a: getattr(t.nn, mname)(**_kw(kw, t), reduction=reduction)(*a), inputs, grad_inputs=gi)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spec", FUNCTIONAL_ONLY, ids=[s[0] for s in FUNCTIONAL_ONLY])
def test_functional_only(spec, reduction):
    _, fname, inputs, kw, gi = spec
    _check_both_dtypes(lambda t, dt, *a: getattr(t.nn.functional, fname)(*a, **_kw(kw, t, dt), reduction=reduction),
                       inputs, gi)


# Targets at a discontinuity of the loss (Stirling term switched on at y > 1; xlogy at y = 0): input only.
GRADCHECK_INPUTS = {"poisson_no_log_full": [0], "kl_zero_target": [0]}


@pytest.mark.parametrize("spec", [s for s in LOSSES if s[1]], ids=[s[0] for s in LOSSES if s[1]])
def test_gradcheck(spec):
    _, fname, _, inputs, kw, gi = spec
    if fname in ("l1_loss", "hinge_embedding_loss", "soft_margin_loss") or fname.startswith("multi"):
        inputs = [a + 0.013 if a.dtype.kind == "f" else a for a in inputs]  # off the kinks
    gi = GRADCHECK_INPUTS.get(spec[0], gi)
    tensors = [ember.tensor(a, requires_grad=a.dtype.kind == "f" and (gi is None or k in gi))
               for k, a in enumerate(inputs)]
    fn = getattr(ember.nn.functional, fname)
    assert ember.autograd.gradcheck(lambda *a: fn(*a, **_kw(kw, ember), reduction="sum"), tuple(tensors))


@pytest.mark.parametrize("spec", [s for s in LOSSES if s[1] and s[0] in ("ce_smooth_weight_ignore", "ce_prob", "ce_k",
                                                                          "bcel_pos_weight", "bce", "kl", "gauss",
                                                                          "poisson_full", "smooth_l1", "huber",
                                                                          "cosine_embedding", "triplet",
                                                                          "multilabel_soft_margin")],
                         ids=lambda s: s[0])
def test_double_backward(spec):
    _, fname, _, inputs, kw, gi = spec

    def fn(t):
        ts = [t.tensor(a, requires_grad=a.dtype.kind == "f" and (gi is None or k in gi)) for k, a in enumerate(inputs)]
        loss = getattr(t.nn.functional, fname)(*ts, **_kw(kw, t))
        g = t.autograd.grad(loss, ts[0], create_graph=True)[0]
        (g * g).sum().backward()
        return g, ts[0].grad
    same(fn)


# ---- KLDivLoss batchmean and its 'mean' warning -------------------------------------------------------------------
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_batchmean(log_target):
    tgt = log_softmax(Y) if log_target else softmax(Y)
    check(lambda t, a, b: t.nn.functional.kl_div(a, b, reduction="batchmean", log_target=log_target),
          [log_softmax(X), tgt], dtypes=F64_32)
    check(lambda t, a, b: t.nn.KLDivLoss(reduction="batchmean", log_target=log_target)(a, b),
          [log_softmax(XK), softmax(XK) if not log_target else log_softmax(XK)], dtypes=F64_32)


def test_kl_div_mean_warning():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            lib.nn.functional.kl_div(lib.tensor(X), lib.tensor(Y))


# ---- legacy size_average / reduce ---------------------------------------------------------------------------------
LEGACY_MODULES = [s for s in LOSSES if s[2] not in ("HuberLoss", "GaussianNLLLoss", "TripletMarginWithDistanceLoss")]
LEGACY_COMBOS = [(False, None), (None, False), (True, True)]  # -> sum, none, mean


def _warning_texts(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(m.message) for m in w if "size_average" in str(m.message)]


@pytest.mark.parametrize("size_average,reduce", LEGACY_COMBOS)
@pytest.mark.parametrize("spec", LEGACY_MODULES, ids=[s[0] for s in LEGACY_MODULES])
def test_legacy_size_average_reduce(spec, size_average, reduce):
    """The deprecated pair picks the reduction and warns exactly as torch does (module and functional forms)."""
    _, fname, mname, inputs, kw, gi = spec
    legacy = dict(size_average=size_average, reduce=reduce)
    res = {}
    for lib in (torch, ember):
        ts = [lib.tensor(a) for a in inputs]
        m, mw = _warning_texts(lambda: getattr(lib.nn, mname)(**_kw(kw, lib), **legacy))
        res[lib] = (m.reduction, mw, m(*ts))
        if fname:
            res[lib] += _warning_texts(lambda: getattr(lib.nn.functional, fname)(*ts, **_kw(kw, lib), **legacy))
    e, t = res[ember], res[torch]
    assert e[:2] == t[:2]
    assert t[1], "torch warns"
    assert_same(e[2], t[2])
    if fname:
        assert_same(e[3], t[3])
        assert e[4] == t[4]


@pytest.mark.parametrize("size_average,reduce,expected", [(True, None, "mean"), (False, None, "sum"),
                                                          (None, False, "none"), (True, False, "none"),
                                                          (False, True, "sum"), (None, True, "mean")])
def test_legacy_warning_text(size_average, reduce, expected):
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match=r"size_average and reduce args will be deprecated, please use "
                                             rf"reduction='{expected}' instead\."):
            m = lib.nn.MSELoss(size_average=size_average, reduce=reduce)
        assert m.reduction == expected


@pytest.mark.parametrize("fname", ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "soft_margin_loss"])
def test_elementwise_mean_is_deprecated_mean(fname):
    def fn(t):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = getattr(t.nn.functional, fname)(t.tensor(X), t.tensor(SIGN65), reduction="elementwise_mean")
        return out, [str(m.message) for m in w]
    same(fn)


# ---- CrossEntropy / NLL specifics ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smooth", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_all_ignored(reduction, smooth, weighted):
    """Every target ignored: mean is 0/0 = nan in torch; the gradient is zero (or nan) exactly as torch's."""
    def fn(t, x):
        kw = {"weight": t.tensor(W5).to(x.dtype)} if weighted else {}
        return t.nn.functional.cross_entropy(x, t.tensor(np.full(6, -100)), reduction=reduction,
                                             label_smoothing=smooth, **kw)
    check(fn, [X], dtypes=F64_32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_empty_batch(reduction):
    check(lambda t, x: t.nn.functional.nll_loss(x, t.tensor(np.zeros(0, np.int64)), reduction=reduction),
          [np.zeros((0, 5))], dtypes=F64_32)
    check(lambda t, x: t.nn.functional.cross_entropy(x, t.tensor(np.zeros(0, np.int64)), reduction=reduction),
          [np.zeros((0, 5))], dtypes=F64_32)


def test_nll_byte_target():
    check(lambda t, x: t.nn.functional.nll_loss(x, t.tensor(T.astype(np.uint8))), [X], dtypes=F64_32)


def test_nll_loss2d():
    def fn(t, x):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m = t.nn.NLLLoss2d(weight=t.tensor(W5), ignore_index=2)
        return m(x, t.tensor(TK)), [(m.category.__name__, str(m.message)) for m in w]
    check(lambda t, x: fn(t, x)[0], [XK])
    same(lambda t: fn(t, t.tensor(XK))[1])
    same(lambda t: repr(t.nn.NLLLoss2d()))


@pytest.mark.parametrize("smooth", [0.0, 0.1, 1.0])
def test_cross_entropy_matches_log_softmax_nll(smooth):
    check(lambda t, x: t.nn.functional.cross_entropy(x, t.tensor(T), label_smoothing=smooth), [X], dtypes=F64_32)


# ---- modules: reprs, buffers, defaults ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec", LOSSES, ids=[s[0] for s in LOSSES])
def test_module_repr_and_state(spec):
    _, _, mname, _, kw, _ = spec

    def fn(t):
        m = getattr(t.nn, mname)(**_kw(kw, t))
        state = [] if mname == "TripletMarginWithDistanceLoss" else list(m.state_dict().items())
        return repr(m).split("(")[0], getattr(t.nn, mname)().reduction, state
    same(fn)


def test_weighted_module_buffers_follow_dtype():
    def fn(t):
        m = t.nn.CrossEntropyLoss(weight=t.tensor(W5.astype(np.float32))).double()
        b = t.nn.BCEWithLogitsLoss(pos_weight=t.tensor(W5.astype(np.float32))).double()
        return m.weight, b.pos_weight, [n for n, _ in m.named_buffers()], [n for n, _ in b.named_buffers()]
    same(fn)


# ---- errors -------------------------------------------------------------------------------------------------------
def _o(t, *s):
    return t.ones(*s)


ERRORS = [
    ("ce_batch", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5), t.tensor([0, 1]))),
    ("ce_target_int32", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5), t.tensor([0, 1, 2], dtype=t.int32))),
    ("nll_target_float", lambda t: t.nn.functional.nll_loss(_o(t, 3, 5), t.tensor([0.0, 1.0, 2.0]))),
    ("ce_target_high", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5), t.tensor([0, 1, 5]))),
    ("ce_target_negative", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5), t.tensor([0, -1, 2]))),
    ("ce_prob_shape", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5), _o(t, 3, 4))),
    ("ce_k_batch", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5, 2), t.tensor([[0, 1], [1, 1]]))),
    ("ce_k_shape", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5, 2), t.zeros(3, 3, dtype=t.int64))),
    ("ce_smoothing", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5), t.tensor([0, 1, 2]), label_smoothing=1.5)),
    ("ce_reduction", lambda t: t.nn.functional.cross_entropy(_o(t, 3, 5), t.tensor([0, 1, 2]), reduction="foo")),
    ("nll_weight_size", lambda t: t.nn.functional.nll_loss(_o(t, 3, 5), t.tensor([0, 1, 2]), weight=_o(t, 4))),
    ("nll_2d_target", lambda t: t.nn.functional.nll_loss(_o(t, 3, 5), t.zeros(3, 2, dtype=t.int64))),
    ("nll_0d_input", lambda t: t.nn.functional.nll_loss(t.tensor(1.0), t.tensor(0))),
    ("nll_k_target_high", lambda t: t.nn.functional.nll_loss(_o(t, 2, 3, 2), t.tensor([[0, 3], [1, 1]]))),
    ("l1_reduction", lambda t: t.nn.functional.l1_loss(_o(t, 3), _o(t, 3), reduction="foo")),
    ("mse_broadcast_fail", lambda t: t.nn.functional.mse_loss(_o(t, 3), _o(t, 4))),
    ("bce_shape", lambda t: t.nn.functional.binary_cross_entropy(_o(t, 3) * 0.5, _o(t, 3, 1))),
    ("bce_range", lambda t: t.nn.functional.binary_cross_entropy(_o(t, 3) * 1.5, _o(t, 3))),
    ("bce_negative", lambda t: t.nn.functional.binary_cross_entropy(_o(t, 3) * -0.5, _o(t, 3))),
    ("bcel_shape", lambda t: t.nn.functional.binary_cross_entropy_with_logits(_o(t, 3), _o(t, 2))),
    ("multi_margin_p", lambda t: t.nn.functional.multi_margin_loss(_o(t, 3, 5), t.tensor([0, 1, 2]), p=3)),
    ("multi_margin_module_p", lambda t: t.nn.MultiMarginLoss(p=3)),
    ("multi_margin_module_weight", lambda t: t.nn.MultiMarginLoss(weight=_o(t, 2, 2))),
    ("multi_margin_target", lambda t: t.nn.functional.multi_margin_loss(_o(t, 3, 5), t.tensor([0, 1, 7]))),
    ("multi_margin_batch", lambda t: t.nn.functional.multi_margin_loss(_o(t, 3, 5), t.tensor([0, 1]))),
    ("gauss_var_shape", lambda t: t.nn.functional.gaussian_nll_loss(_o(t, 3, 4), _o(t, 3, 4), _o(t, 3, 2))),
    ("gauss_var_negative", lambda t: t.nn.functional.gaussian_nll_loss(_o(t, 3), _o(t, 3), -_o(t, 3))),
    ("gauss_reduction", lambda t: t.nn.functional.gaussian_nll_loss(_o(t, 3), _o(t, 3), _o(t, 3), reduction="x")),
    ("margin_ranking_dims", lambda t: t.nn.functional.margin_ranking_loss(_o(t, 3), _o(t, 3, 1), _o(t, 3))),
    ("triplet_dims", lambda t: t.nn.functional.triplet_margin_loss(_o(t, 3, 2), _o(t, 3, 2), _o(t, 2))),
    ("triplet_margin", lambda t: t.nn.TripletMarginLoss(margin=0.0)),
    ("triplet_dist_margin", lambda t: t.nn.TripletMarginWithDistanceLoss(margin=-1.0)),
    ("triplet_dist_fn_margin", lambda t: t.nn.functional.triplet_margin_with_distance_loss(
        _o(t, 2, 3), _o(t, 2, 3), _o(t, 2, 3), margin=0.0)),
    ("smooth_l1_beta", lambda t: t.nn.functional.smooth_l1_loss(_o(t, 3), _o(t, 3), beta=-1.0)),
    ("huber_delta", lambda t: t.nn.functional.huber_loss(_o(t, 3), _o(t, 3), delta=0.0)),
    ("multilabel_margin_shape", lambda t: t.nn.functional.multilabel_margin_loss(_o(t, 3, 4),
                                                                                 t.zeros(3, 3, dtype=t.int64))),
    ("multilabel_margin_0d_target_size", lambda t: t.nn.functional.multilabel_margin_loss(_o(t), t.tensor([0, 0]))),
    ("multilabel_margin_0d_range", lambda t: t.nn.functional.multilabel_margin_loss(_o(t), t.tensor(1))),
    ("multilabel_margin_3d", lambda t: t.nn.functional.multilabel_margin_loss(_o(t, 2, 3, 4),
                                                                              t.zeros(2, 3, 4, dtype=t.int64))),
    ("multilabel_margin_no_classes", lambda t: t.nn.functional.multilabel_margin_loss(_o(t, 2, 0),
                                                                                      t.zeros(2, 0, dtype=t.int64))),
    ("multi_margin_0d_range", lambda t: t.nn.functional.multi_margin_loss(_o(t), t.tensor(1))),
    ("multi_margin_0d_target_size", lambda t: t.nn.functional.multi_margin_loss(_o(t), t.tensor([0, 0]))),
    ("multi_margin_3d", lambda t: t.nn.functional.multi_margin_loss(_o(t, 2, 3, 4), t.tensor([0, 1]))),
    ("multi_margin_empty_vector", lambda t: t.nn.functional.multi_margin_loss(_o(t, 0), t.zeros(0, dtype=t.int64))),
    ("cosine_embedding_dims", lambda t: t.nn.functional.cosine_embedding_loss(_o(t, 3, 4), _o(t, 3, 4),
                                                                              _o(t, 3, 1))),
    ("soft_margin_size", lambda t: t.nn.functional.soft_margin_loss(_o(t, 5, 4), _o(t, 5))),
    ("triplet_margin_negative", lambda t: t.nn.functional.triplet_margin_loss(_o(t, 3, 4), _o(t, 3, 4), _o(t, 3, 4),
                                                                              margin=-1.0)),
    ("triplet_distance_dims_anchor", lambda t: t.nn.functional.triplet_margin_with_distance_loss(
        _o(t, 3), _o(t, 3, 4), _o(t, 3, 4))),
    ("triplet_distance_dims_negative", lambda t: t.nn.functional.triplet_margin_with_distance_loss(
        _o(t, 3, 4), _o(t, 3, 4), _o(t, 3))),
    ("triplet_distance_reduction", lambda t: t.nn.functional.triplet_margin_with_distance_loss(
        _o(t, 3, 4), _o(t, 3, 4), _o(t, 3, 4), reduction="avg")),
    ("huber_complex_delta", lambda t: t.nn.HuberLoss(delta=1j)),
    ("ce_prob_target_ignore_index", lambda t: t.nn.functional.cross_entropy(_o(t, 2, 3), _o(t, 2, 3), ignore_index=1)),
    ("ce_module_prob_target_ignore_index", lambda t: t.nn.CrossEntropyLoss(ignore_index=0)(_o(t, 2, 3), _o(t, 2, 3))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(fn)


def test_target_size_warning():
    """Pointwise losses broadcast a differently-sized target, with torch's warning."""
    for name in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"):
        msgs = []
        for lib in (torch, ember):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                getattr(lib.nn.functional, name)(lib.ones(3, 4), lib.ones(4))
            msgs.append([str(m.message) for m in w])
        assert [lib_free(m) for m in msgs[1]] == [lib_free(m) for m in msgs[0]]
    check(lambda t, x, y: t.nn.functional.mse_loss(x, y), [X, Y[0]], dtypes=F64_32)


def lib_free(s):
    return s.replace("ember", "torch")


# ---- extreme inputs -----------------------------------------------------------------------------------------------
BIG = np.array([[1e4, -1e4, 0.0, 5.0, -5.0], [-1e4, 1e4, 1e4, -1e4, 0.0], [30.0, -30.0, 100.0, -100.0, 0.0]])
EXTREME = [
    ("ce_big_logits", lambda t, x: t.nn.functional.cross_entropy(x, t.tensor([1, 0, 3])), [BIG]),
    ("ce_big_logits_smooth", lambda t, x: t.nn.functional.cross_entropy(x, t.tensor([1, 0, 3]), label_smoothing=0.1),
     [BIG]),
    ("ce_big_prob_target", lambda t, x, p: t.nn.functional.cross_entropy(x, p), [BIG, softmax(BIG * 0.001)]),
    ("log_softmax_nll", lambda t, x: t.nn.functional.nll_loss(x.log_softmax(1), t.tensor([1, 0, 3]), reduction="none"),
     [BIG]),
    ("bce_at_0_and_1", lambda t, p, y: t.nn.functional.binary_cross_entropy(p, y, reduction="none"),
     [np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 1 - 1e-16]), np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])]),
    ("bce_at_0_and_1_mean", lambda t, p, y: t.nn.functional.binary_cross_entropy(p, y),
     [np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])]),
    ("bcel_big", lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none"),
     [BIG, (BIG > 0).astype(float)]),
    ("bcel_big_wrong", lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none"),
     [BIG, (BIG < 0).astype(float)]),
    ("bcel_big_pos_weight", lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(
        x, y, pos_weight=t.tensor(W5)), [BIG, (BIG < 0).astype(float)]),
    ("soft_margin_big", lambda t, x: t.nn.functional.soft_margin_loss(x, t.tensor(np.sign(BIG + 0.5)),
                                                                      reduction="none"), [BIG]),
    ("multilabel_soft_margin_big", lambda t, x: t.nn.functional.multilabel_soft_margin_loss(
        x, t.tensor((BIG > 0).astype(float)).to(x.dtype)), [BIG]),
    ("poisson_big", lambda t, x, y: t.nn.functional.poisson_nll_loss(x, y, reduction="none"),
     [np.array([-100.0, -30.0, 0.0, 30.0, 80.0]), np.array([0.0, 1.0, 2.0, 3.0, 1e4])]),
    ("kl_zero_target", lambda t, x, y: t.nn.functional.kl_div(x, y, reduction="sum"),
     [np.array([-1e4, -1.0, 0.0]), np.array([0.0, 0.5, 0.5])]),
    ("gauss_tiny_var", lambda t, x, y, v: t.nn.functional.gaussian_nll_loss(x, y, v, reduction="none"),
     [np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 1e4]), np.array([0.0, 1e-12, 1e4])]),
    ("cosine_zero_vectors", lambda t, a, b: t.nn.functional.cosine_embedding_loss(a, b, t.tensor([1.0, -1.0])),
     [np.zeros((2, 3)), np.ones((2, 3))]),
    ("huber_big", lambda t, x, y: t.nn.functional.huber_loss(x, y, reduction="none"), [BIG, -BIG]),
    ("smooth_l1_big", lambda t, x, y: t.nn.functional.smooth_l1_loss(x, y, beta=1e-3), [BIG, BIG * 0.5]),
    ("triplet_identical", lambda t, a, b: t.nn.functional.triplet_margin_loss(a, a * 1.0, b), [BIG, BIG]),
]


@pytest.mark.parametrize("name,fn,inputs", EXTREME, ids=[e[0] for e in EXTREME])
def test_extreme_inputs(name, fn, inputs):
    check(fn, inputs, dtypes=F64_32)


def test_extreme_results_finite():
    x = ember.tensor(BIG, requires_grad=True)
    loss = ember.nn.functional.cross_entropy(x, ember.tensor([1, 0, 3]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()


# ---- CTC ----------------------------------------------------------------------------------------------------------
TT, NN, CC, SS = 12, 3, 5, 4
CTC_LP = r(TT, NN, CC, seed=11)
CTC_TG = np.random.default_rng(12).integers(1, CC, (NN, SS))
CTC_IL = np.array([12, 10, 8])
CTC_TL = np.array([4, 2, 3])


def _concat():
    return np.concatenate([CTC_TG[i, :CTC_TL[i]] for i in range(NN)])


CTC_CASES = [
    ("padded", lambda t: (t.tensor(CTC_TG), t.tensor(CTC_IL), t.tensor(CTC_TL)), {}),
    ("concatenated", lambda t: (t.tensor(_concat()), t.tensor(CTC_IL), t.tensor(CTC_TL)), {}),
    ("tuple_lengths", lambda t: (t.tensor(_concat()), tuple(CTC_IL), tuple(CTC_TL)), {}),
    ("list_lengths_padded", lambda t: (t.tensor(CTC_TG), list(CTC_IL), list(CTC_TL)), {}),
    ("blank_last", lambda t: (t.tensor(CTC_TG - 1), t.tensor(CTC_IL), t.tensor(CTC_TL)), {"blank": CC - 1}),
    ("repeats", lambda t: (t.tensor(np.array([[1, 1, 2, 2], [3, 3, 3, 3], [2, 1, 2, 1]])), t.tensor(CTC_IL),
                           t.tensor(np.array([4, 4, 4]))), {}),
    ("empty_target", lambda t: (t.tensor(CTC_TG), t.tensor(CTC_IL), t.tensor(np.array([4, 0, 3]))), {}),
    ("int32_lengths", lambda t: (t.tensor(CTC_TG.astype(np.int32)), t.tensor(CTC_IL.astype(np.int32)),
                                 t.tensor(CTC_TL.astype(np.int32))), {}),
    ("infeasible", lambda t: (t.tensor(np.array([[1, 1, 1, 1], [1, 2, 3, 4], [1, 1, 2, 2]])),
                              t.tensor(np.array([5, 3, 12])), t.tensor(np.array([4, 4, 4]))), {}),
    ("infeasible_zero_inf", lambda t: (t.tensor(np.array([[1, 1, 1, 1], [1, 2, 3, 4], [1, 1, 2, 2]])),
                                       t.tensor(np.array([5, 3, 12])), t.tensor(np.array([4, 4, 4]))),
     {"zero_infinity": True}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,args,kw", CTC_CASES, ids=[c[0] for c in CTC_CASES])
def test_ctc(name, args, kw, reduction):
    check(lambda t, lp: t.nn.functional.ctc_loss(lp.log_softmax(2), *args(t), reduction=reduction, **kw), [CTC_LP],
          dtypes=F64_32, tol=None)
    check(lambda t, lp: t.nn.CTCLoss(reduction=reduction, **kw)(lp.log_softmax(2), *args(t)), [CTC_LP],
          dtypes=["float64"])


def test_ctc_unbatched():
    check(lambda t, lp: t.nn.functional.ctc_loss(lp.log_softmax(1), t.tensor(CTC_TG[0]), t.tensor(12), t.tensor(4)),
          [CTC_LP[:, 0]], dtypes=F64_32)
    check(lambda t, lp: t.nn.functional.ctc_loss(lp.log_softmax(1), t.tensor(CTC_TG[0]), t.tensor(12), t.tensor(4),
                                                 reduction="none"), [CTC_LP[:, 0]], dtypes=F64_32)


def test_ctc_unnormalised_log_probs():
    """CTC takes log_probs as given (no normalisation): gradients as torch's for raw scores."""
    check(lambda t, lp: t.nn.functional.ctc_loss(lp, t.tensor(CTC_TG), t.tensor(CTC_IL), t.tensor(CTC_TL)),
          [CTC_LP], dtypes=F64_32)


def test_ctc_repr():
    same(lambda t: (repr(t.nn.CTCLoss()), repr(t.nn.CTCLoss(blank=2, zero_infinity=True)),
                    t.nn.CTCLoss(reduction="sum").reduction))


CTC_ERRORS = [
    ("input_length_too_long", lambda t: t.nn.functional.ctc_loss(
        t.zeros(5, 2, 4).log_softmax(2), t.ones(2, 3, dtype=t.int64), t.tensor([6, 5]), t.tensor([3, 3]))),
    ("target_length_too_long", lambda t: t.nn.functional.ctc_loss(
        t.zeros(5, 2, 4).log_softmax(2), t.ones(2, 3, dtype=t.int64), t.tensor([5, 5]), t.tensor([4, 3]))),
    ("lengths_batch", lambda t: t.nn.functional.ctc_loss(
        t.zeros(5, 2, 4).log_softmax(2), t.ones(2, 3, dtype=t.int64), t.tensor([5]), t.tensor([3, 3]))),
    ("blank_out_of_range", lambda t: t.nn.functional.ctc_loss(
        t.zeros(5, 2, 4).log_softmax(2), t.ones(2, 3, dtype=t.int64), t.tensor([5, 5]), t.tensor([3, 3]), blank=4)),
]


@pytest.mark.parametrize("name,fn", CTC_ERRORS, ids=[e[0] for e in CTC_ERRORS])
def test_ctc_errors(name, fn):
    same_error(fn)


# ---- fused kernels (huber, smooth L1, MSE, soft margin, BCE with logits) on large inputs and special values -------
_SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, 1e4, -1e4, 100.0, -100.0, 0.5, -0.5, 1.0, -1.0, 0.7])
_BIG_X = np.random.default_rng(3).permutation(np.concatenate([np.tile(_SPECIAL, 40), r(400, seed=4) * 3])).reshape(
    20, -1)
_BIG_Y = r(20, _BIG_X.shape[1], seed=5)
_BIG_SIGN = np.sign(r(20, _BIG_X.shape[1], seed=6) + 0.01)
FUSED = [
    ("huber", lambda t, x, y, red: t.nn.functional.huber_loss(x, y, reduction=red), _BIG_Y, None),
    ("huber_delta", lambda t, x, y, red: t.nn.functional.huber_loss(x, y, reduction=red, delta=0.3), _BIG_Y, None),
    ("smooth_l1", lambda t, x, y, red: t.nn.functional.smooth_l1_loss(x, y, reduction=red), _BIG_Y, None),
    ("smooth_l1_beta", lambda t, x, y, red: t.nn.functional.smooth_l1_loss(x, y, reduction=red, beta=2.5), _BIG_Y,
     None),
    ("mse", lambda t, x, y, red: t.nn.functional.mse_loss(x, y, reduction=red), _BIG_Y, None),
    ("soft_margin", lambda t, x, y, red: t.nn.functional.soft_margin_loss(x, y, reduction=red), _BIG_SIGN, [0]),
    ("bcel", lambda t, x, y, red: t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=red),
     (_BIG_Y > 0).astype(float), [0]),
    ("bcel_soft_target", lambda t, x, y, red: t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=red),
     1 / (1 + np.exp(-_BIG_Y)), [0]),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,fn,target,gi", FUSED, ids=[c[0] for c in FUSED])
def test_fused_large(name, fn, target, gi, reduction):
    """Finite inputs: values and gradients (input and, for the regression losses, target) as torch's."""
    x = np.nan_to_num(_BIG_X, nan=0.3, posinf=50.0, neginf=-50.0)
    check(lambda t, a, b: fn(t, a, b, reduction), [x, target], dtypes=F64_32, grad_inputs=gi)
    check(lambda t, a, b: fn(t, a.t(), b.t(), reduction), [x, target], dtypes=F64_32, grad_inputs=gi)


@pytest.mark.parametrize("name,fn,target,gi", FUSED, ids=[c[0] for c in FUSED])
def test_fused_special_values(name, fn, target, gi):
    """NaN, +-inf, +-0 and huge inputs, elementwise ('none') and reduced, as torch."""
    check(lambda t, a, b: fn(t, a, b, "none"), [_BIG_X, target], dtypes=F64_32, grad_inputs=gi)
    check(lambda t, a, b: fn(t, a, b, "sum"), [_BIG_X, target], dtypes=F64_32, grad=False)


@pytest.mark.parametrize("name,fn,target,gi", FUSED, ids=[c[0] for c in FUSED])
def test_fused_scalar_and_empty(name, fn, target, gi):
    for red in REDUCTIONS:
        check(lambda t, a, b: fn(t, a, b, red), [np.array(0.7), np.array(float(target.flat[0]))], dtypes=F64_32,
              grad_inputs=gi)
        check(lambda t, a, b: fn(t, a, b, red), [np.zeros((0, 3)), np.zeros((0, 3))], dtypes=F64_32, grad_inputs=gi)


@pytest.mark.parametrize("name,fn,target,gi", FUSED, ids=[c[0] for c in FUSED])
def test_fused_double_backward(name, fn, target, gi):
    x = r(6, 5, seed=8) * 2
    y = target[:6, :5]

    def run(t):
        a, b = t.tensor(x, requires_grad=True), t.tensor(y)
        g, = t.autograd.grad(fn(t, a, b, "mean"), a, create_graph=True)
        (g * g * g).sum().backward()
        return g, a.grad
    same(run)


def test_mse_weight():
    w = np.abs(r(6, 5, seed=9))
    for red in REDUCTIONS:
        check(lambda t, a, b, c: t.nn.functional.mse_loss(a, b, reduction=red, weight=c), [X, Y, w], dtypes=F64_32,
              grad_inputs=[0, 1])
    same_error(lambda t: t.nn.functional.mse_loss(t.ones(3), t.ones(3), weight=t.ones(2)))


def test_fused_dtype_preserved():
    x, y = ember.tensor(r(30, 40).astype(np.float32), requires_grad=True), ember.tensor(r(30, 40, seed=1).astype(
        np.float32))
    for f in ("huber_loss", "smooth_l1_loss", "mse_loss", "soft_margin_loss", "binary_cross_entropy_with_logits"):
        loss = getattr(ember.nn.functional, f)(x, (y > 0).float() if f.startswith("binary") else y)
        loss.backward()
        assert loss.dtype == ember.float32 and x.grad.dtype == ember.float32, f
        x.grad = None


@pytest.mark.parametrize("kw,target", [
    ({}, np.array([0, 2, 1, 2])),
    ({"bias": True, "reduction": "sum", "label_smoothing": 0.1}, np.array([0, 2, 1, 2])),
    ({"out_features": (2,), "bias": True, "ignore_index": 1}, np.array([[0, 1], [2, 2], [1, 0], [2, 1]])),
    ({"reduction": "none", "options": "chunked"}, np.array([1, 1, 0, 2])),
])
def test_linear_cross_entropy_loss_module(kw, target):
    """nn.LinearCrossEntropyLoss: the Linear's parameters, the loss and every gradient as torch's."""
    def build(lib):
        options = lib.nn.LinearCrossEntropyOptions(batch_chunk_size=2) if kw.get("options") else None
        return lib.nn.LinearCrossEntropyLoss(5, 3, weight=lib.tensor([1.0, 0.5, 2.0], dtype=lib.float64),
                                             dtype=lib.float64, **dict(kw, options=options))
    e, t = pair(build)
    assert repr(e) == repr(t)
    run_pair(e, t, arr(4, 5), target)


@pytest.mark.parametrize("fn", [
    lambda t: t.nn.LinearCrossEntropyLoss(4, 3, weight=t.ones(2)),
    lambda t: t.nn.LinearCrossEntropyLoss(4, 3, label_smoothing=1.5),
    lambda t: t.nn.LinearCrossEntropyOptions(acc_policy="fast"),
    lambda t: t.nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio:0"),
    lambda t: t.nn.LinearCrossEntropyOptions(batch_chunk_size=0),
    lambda t: t.nn.functional.linear_cross_entropy(t.ones(2, 3), t.ones(4, 2), t.tensor([0, 1])),
    lambda t: t.nn.functional.linear_cross_entropy(t.ones(3), t.ones(4, 2, 3), t.tensor(0)),
    lambda t: t.nn.functional.linear_cross_entropy(t.ones(2, 3), t.ones(4, 3), t.ones(2, 4), ignore_index=0),
])
def test_linear_cross_entropy_errors(fn):
    same_error(fn)


@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3), (1, 1), (2, 3), (4, 3, 1)])
def test_gaussian_nll_loss_var_shapes(var_shape):
    """var may match input, lack its last dim, or differ from it in dims whose var sizes sum to 1 (else
    ValueError), as torch decides."""
    var = np.abs(arr(*var_shape)) + 0.1
    fn = (lambda t, x, y, v: t.nn.functional.gaussian_nll_loss(x, y, v))
    try:
        torch.nn.functional.gaussian_nll_loss(torch.ones(4, 3), torch.ones(4, 3), torch.ones(var_shape))
    except ValueError:
        same_error(lambda t: t.nn.functional.gaussian_nll_loss(t.ones(4, 3), t.ones(4, 3), t.ones(var_shape)))
        return
    check(fn, [arr(4, 3), arr(4, 3, seed=1), var])
