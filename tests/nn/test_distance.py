"""PairwiseDistance, CosineSimilarity, F.pairwise_distance, F.cosine_similarity and F.pdist against torch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from parity import check
from .nnparity import arr, same, same_error

F64_32 = ("float64", "float32")
A, B = arr(6, 5, seed=0), arr(6, 5, seed=1)

PAIRWISE = [
    ("default", {}, [A, B]),
    ("p1", {"p": 1.0}, [A, B]),
    ("p3_keepdim", {"p": 3.0, "keepdim": True}, [A, B]),
    ("p_half", {"p": 0.5}, [A, B]),
    ("p_inf", {"p": float("inf")}, [A, B]),
    ("p0", {"p": 0.0}, [A, B]),
    ("eps", {"eps": 0.1}, [A, B]),
    ("broadcast_row", {}, [A, B[:1]]),
    ("1d", {}, [A[0], B[0]]),
    ("1d_vs_2d", {"keepdim": True}, [A[0], B]),
    ("3d", {"p": 1.5}, [arr(2, 3, 4, seed=2), arr(2, 3, 4, seed=3)]),
    ("noncontig", {}, [A.T, B.T]),
    ("identical", {}, [A, A]),
    ("empty", {}, [A[:0], B[:0]]),
]


@pytest.mark.parametrize("name,kw,inputs", PAIRWISE, ids=[p[0] for p in PAIRWISE])
def test_pairwise_distance(name, kw, inputs):
    check(lambda t, a, b: t.nn.functional.pairwise_distance(a, b, **kw), inputs, dtypes=F64_32)
    mkw = {"p" if k == "p" else k: v for k, v in kw.items()}
    check(lambda t, a, b: t.nn.PairwiseDistance(**mkw)(a, b), inputs, dtypes=["float64"])


COSINE = [
    ("default", {}, [A, B]),
    ("dim0", {"dim": 0}, [A, B]),
    ("dim_neg", {"dim": -1, "eps": 1e-3}, [A, B]),
    ("broadcast", {"dim": 1}, [A, B[:1]]),
    ("broadcast_3d", {"dim": 2}, [arr(2, 1, 4, seed=2), arr(1, 3, 4, seed=3)]),
    ("1d", {"dim": 0}, [A[0], B[0]]),
    ("noncontig", {"dim": 0}, [A.T, B.T]),
    ("zero_vector", {}, [np.zeros((2, 3)), np.ones((2, 3))]),
    ("tiny_vectors", {"eps": 1e-8}, [A * 1e-9, B]),
    ("huge", {}, [A * 1e150, B * 1e150]),
    ("empty", {}, [A[:0], B[:0]]),
]


@pytest.mark.parametrize("name,kw,inputs", COSINE, ids=[c[0] for c in COSINE])
def test_cosine_similarity(name, kw, inputs):
    dts = ["float64"] if name == "huge" else F64_32
    check(lambda t, a, b: t.nn.functional.cosine_similarity(a, b, **kw), inputs, dtypes=dts)
    check(lambda t, a, b: t.nn.CosineSimilarity(**kw)(a, b), inputs, dtypes=["float64"])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0])
@pytest.mark.parametrize("shape", [(5, 3), (1, 3), (2, 4), (6, 1)])
def test_pdist(p, shape):
    check(lambda t, x: t.nn.functional.pdist(x, p), [arr(*shape, seed=4)], dtypes=F64_32)


def test_pdist_noncontig_and_duplicates():
    x = arr(4, 5, seed=5)
    x[2] = x[0]
    check(lambda t, v: t.nn.functional.pdist(v.t(), 2), [x.T.copy()], dtypes=F64_32)
    check(lambda t, v: t.nn.functional.pdist(v, 1.5), [x], dtypes=F64_32, grad=False)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), d=st.integers(1, 5), p=st.sampled_from([1.0, 2.0, 3.0]), seed=st.integers(0, 1000))
def test_pdist_matches_pairwise(n, d, p, seed):
    check(lambda t, x: t.nn.functional.pdist(x, p), [arr(n, d, seed=seed)], dtypes=["float64"])


def test_double_backward():
    def fn(t):
        a, b = t.tensor(A, requires_grad=True), t.tensor(B, requires_grad=True)
        y = t.nn.functional.cosine_similarity(a, b) + t.nn.functional.pairwise_distance(a, b, 3.0)
        ga, = t.autograd.grad((y ** 2).sum(), a, create_graph=True)
        (ga ** 2).sum().backward()
        return ga, a.grad, b.grad
    same(fn)


def test_gradcheck():
    a, b = ember.tensor(A, requires_grad=True), ember.tensor(B, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, y: ember.nn.functional.pairwise_distance(x, y, 1.5), (a, b))
    assert ember.autograd.gradcheck(lambda x, y: ember.nn.functional.cosine_similarity(x, y, 0), (a, b))
    assert ember.autograd.gradcheck(lambda x: ember.nn.functional.pdist(x, 2.5), (a,))


def test_reprs():
    same(lambda t: (repr(t.nn.PairwiseDistance()), repr(t.nn.PairwiseDistance(1.0, 1e-3, True)),
                    repr(t.nn.CosineSimilarity()), repr(t.nn.CosineSimilarity(0, 1e-4)),
                    t.nn.PairwiseDistance(3.0).norm, t.nn.CosineSimilarity(2).dim))


ERRORS = [
    ("pdist_3d", lambda t: t.nn.functional.pdist(t.ones(2, 3, 4))),
    ("pdist_1d", lambda t: t.nn.functional.pdist(t.ones(3))),
    ("pdist_negative_p", lambda t: t.nn.functional.pdist(t.ones(3, 2), -1.0)),
    ("pairwise_shape", lambda t: t.nn.functional.pairwise_distance(t.ones(3, 4), t.ones(2, 4))),
    ("cosine_shape", lambda t: t.nn.functional.cosine_similarity(t.ones(3, 4), t.ones(2, 4))),
    ("cosine_dim", lambda t: t.nn.functional.cosine_similarity(t.ones(3, 4), t.ones(3, 4), dim=2)),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn):
    same_error(fn)
