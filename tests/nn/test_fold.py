"""F.unfold / F.fold and the Unfold / Fold modules against torch: every argument, batched and unbatched, overlapping
blocks, non-contiguous inputs, double backward, reprs and torch's errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, check_raises
from .nnparity import same, same_error

F64_32 = ("float64", "float32")


def r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def F(t):
    return t.nn.functional


# (id, input shape, args, kwargs)
UNFOLD_CASES = [
    ("basic", (2, 3, 5, 6), (2,), {}),
    ("rect_kernel", (2, 3, 5, 6), ((2, 3),), {}),
    ("all_args", (2, 4, 9, 8), ((2, 3),), dict(dilation=(1, 2), padding=1, stride=2)),
    ("tuple_args", (1, 2, 7, 9), (3,), dict(dilation=(2, 1), padding=(0, 2), stride=(1, 3))),
    ("kernel_is_input", (2, 3, 4, 5), ((4, 5),), {}),
    ("kernel_1", (2, 3, 4, 5), (1,), dict(stride=2)),
    ("padding_larger_than_kernel", (1, 2, 3, 3), (2,), dict(padding=3)),
    ("unbatched", (3, 5, 6), (2,), dict(stride=(2, 1))),
    ("empty_batch", (0, 3, 5, 6), (2,), {}),
    ("positional_args", (2, 3, 8, 7), ((3, 2), 2, 1, 2), {}),
]


@pytest.mark.parametrize("shape,args,kw", [c[1:] for c in UNFOLD_CASES], ids=[c[0] for c in UNFOLD_CASES])
def test_unfold(shape, args, kw):
    check(lambda t, x: F(t).unfold(x, *args, **kw), [r(*shape)], dtypes=F64_32)


# (id, output_size, kernel_size, kwargs, channels, batch (None: unbatched))
FOLD_CASES = [
    ("basic", (4, 5), 2, {}, 3, 2),
    ("overlapping_padded", (4, 5), (2, 3), dict(padding=(1, 1)), 2, 2),
    ("strided_no_overlap", (6, 6), 2, dict(stride=2), 3, 2),
    ("strided_gaps", (7, 8), 2, dict(stride=3), 2, 2),
    ("dilated", (7, 6), (2, 2), dict(dilation=(3, 2), padding=(1, 0)), 2, 1),
    ("all_args", (9, 8), (3, 2), dict(dilation=(1, 2), padding=1, stride=(2, 1)), 2, 2),
    ("int_output_size", 5, 3, dict(padding=1), 2, 2),
    ("unbatched", (4, 5), 2, {}, 3, None),
    ("empty_batch", (4, 5), 2, {}, 3, 0),
]


def pair(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


def _blocks(osz, ks, kw):
    """Number of sliding blocks for fold's input (the same formula as conv's output size)."""
    osz, ks = pair(osz), pair(ks)
    d, p, s = (pair(kw.get(k, v)) for k, v in (("dilation", 1), ("padding", 0), ("stride", 1)))
    return int(np.prod([(o + 2 * p_ - d_ * (k - 1) - 1) // s_ + 1 for o, k, d_, p_, s_ in zip(osz, ks, d, p, s)]))


@pytest.mark.parametrize("osz,ks,kw,c,n", [c[1:] for c in FOLD_CASES], ids=[c[0] for c in FOLD_CASES])
def test_fold(osz, ks, kw, c, n):
    kk = int(np.prod(pair(ks)))
    shape = (c * kk, _blocks(osz, ks, kw))
    shape = shape if n is None else (n,) + shape
    check(lambda t, x: F(t).fold(x, osz, ks, **kw), [r(*shape)], dtypes=F64_32)


def test_fold_of_unfold_counts_overlaps():
    """fold(unfold(x)) multiplies each pixel by the number of blocks containing it (torch's documented identity)."""
    check(lambda t, x: F(t).fold(F(t).unfold(x, 3, padding=1, stride=2), (7, 6), 3, padding=1, stride=2),
          [r(2, 3, 7, 6)], dtypes=F64_32)


NONCONTIG_CASES = [
    ("unfold_transposed", lambda t, x: F(t).unfold(x.transpose(2, 3), (2, 3), padding=1), (2, 3, 6, 5)),
    ("unfold_channels_last", lambda t, x: F(t).unfold(x.permute(0, 3, 1, 2), 2, stride=2), (2, 6, 6, 3)),
    ("fold_transposed", lambda t, x: F(t).fold(x.transpose(1, 2), (4, 5), 2), (2, 12, 12)),
    ("fold_strided", lambda t, x: F(t).fold(x[:, ::2], (4, 5), 2), (2, 24, 12)),
]


@pytest.mark.parametrize("fn,shape", [c[1:] for c in NONCONTIG_CASES], ids=[c[0] for c in NONCONTIG_CASES])
def test_noncontiguous(fn, shape):
    check(fn, [r(*shape)], dtypes=F64_32)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 7), w=st.integers(1, 7), k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_unfold_fold_random(h, w, k, d, p, s):
    """Random geometry: unfold, and fold of same-shaped blocks, equal torch's (or raise the same class)."""
    x = r(2, 2, h, w)

    def fn(t, x):
        cols = F(t).unfold(x, k, d, p, s)
        return cols, F(t).fold(cols * 2, (h, w), k, d, p, s)
    try:
        fn(torch, torch.from_numpy(x))
    except RuntimeError:
        check_raises(lambda t: fn(t, t.from_numpy(x.copy())), RuntimeError)
        return
    check(fn, [x], dtypes=["float64"])


# ---- modules --------------------------------------------------------------------------------------------------------
MODULE_CASES = [
    ("Unfold", lambda nn: nn.Unfold(kernel_size=(2, 3), dilation=1, padding=1, stride=2), (2, 3, 7, 6)),
    ("Unfold_unbatched", lambda nn: nn.Unfold(2), (3, 4, 5)),
    ("Fold", lambda nn: nn.Fold(output_size=(4, 5), kernel_size=(2, 2)), (2, 12, 12)),
    ("Fold_args", lambda nn: nn.Fold((7, 6), 3, dilation=(1, 2), padding=1, stride=(2, 1)), (2, 18, 16)),
]


@pytest.mark.parametrize("build,shape", [c[1:] for c in MODULE_CASES], ids=[c[0] for c in MODULE_CASES])
def test_module(build, shape):
    check(lambda t, x: build(t.nn)(x), [r(*shape)], dtypes=F64_32)
    same(lambda t: (repr(build(t.nn)), list(build(t.nn).state_dict())))


@pytest.mark.parametrize("build", [
    lambda nn: nn.Unfold(3),
    lambda nn: nn.Unfold((2, 3), dilation=(1, 2), padding=(0, 1), stride=2),
    lambda nn: nn.Fold(4, 2),
    lambda nn: nn.Fold((5, 6), (2, 3), 2, 1, (1, 2)),
])
def test_repr(build):
    assert repr(build(ember.nn)) == repr(build(torch.nn))


# ---- double backward -------------------------------------------------------------------------------------------------
def test_gradcheck_gradgradcheck():
    x = ember.tensor(r(1, 2, 4, 5), requires_grad=True)
    cols = ember.tensor(r(1, 8, 9), requires_grad=True)
    unfold = lambda x: ember.nn.functional.unfold(x, 2, dilation=(1, 2), padding=1, stride=(1, 2))  # noqa: E731
    fold = lambda c: ember.nn.functional.fold(c, (4, 5), 2, padding=(0, 1), stride=(1, 2))  # noqa: E731
    for fn, inp in ((unfold, x), (fold, cols)):
        assert ember.autograd.gradcheck(fn, [inp])
        assert ember.autograd.gradgradcheck(fn, [inp])


def test_gradient_penalty_through_unfold():
    """An unfold-based convolution (unfold -> matmul -> fold) differentiated twice, against torch."""
    x0, w0 = r(2, 3, 5, 6), r(4, 12, seed=1)

    def run(t):
        x = t.tensor(x0.copy(), requires_grad=True)
        w = t.tensor(w0.copy(), requires_grad=True)
        y = (w @ F(t).unfold(x, 2, padding=1)).tanh()
        z = F(t).fold(y.repeat(1, 3, 1), (5, 6), 2, padding=1).sum()
        gx, = t.autograd.grad(z, x, create_graph=True)
        gx.pow(2).sum().backward()
        return x.grad, w.grad
    same(run)


# ---- errors ----------------------------------------------------------------------------------------------------------
def z(t, *shape):
    return t.zeros(*shape)


ERROR_CASES = [
    ("unfold_2d_input", lambda t: F(t).unfold(z(t, 3, 5), 2)),
    ("unfold_1d_input", lambda t: F(t).unfold(z(t, 5), 2)),
    ("unfold_5d_input", lambda t: F(t).unfold(z(t, 1, 2, 3, 4, 5), 2)),
    ("unfold_empty_channels", lambda t: F(t).unfold(z(t, 1, 0, 4, 4), 2)),
    ("unfold_kernel_too_large", lambda t: F(t).unfold(z(t, 1, 3, 5, 5), 6)),
    ("unfold_kernel_too_large_rect", lambda t: F(t).unfold(z(t, 1, 3, 5, 7), (2, 8))),
    ("unfold_kernel_three_values", lambda t: F(t).unfold(z(t, 1, 2, 4, 4), (2, 2, 2))),
    ("unfold_stride_three_values", lambda t: F(t).unfold(z(t, 1, 2, 4, 4), 2, stride=(1, 1, 1))),
    ("unfold_zero_kernel", lambda t: F(t).unfold(z(t, 1, 2, 4, 4), 0)),
    ("unfold_zero_stride", lambda t: F(t).unfold(z(t, 1, 2, 4, 4), 2, stride=0)),
    ("unfold_zero_dilation", lambda t: F(t).unfold(z(t, 1, 2, 4, 4), 2, dilation=0)),
    ("unfold_negative_padding", lambda t: F(t).unfold(z(t, 1, 2, 4, 4), 2, padding=-1)),
    ("fold_1d_input", lambda t: F(t).fold(z(t, 4), (3, 3), 2)),
    ("fold_4d_input", lambda t: F(t).fold(z(t, 1, 1, 4, 4), (3, 3), 2)),
    ("fold_empty_channels", lambda t: F(t).fold(z(t, 1, 0, 4), (3, 3), 2)),
    ("fold_channels_not_divisible", lambda t: F(t).fold(z(t, 1, 5, 4), (3, 3), 2)),
    ("fold_wrong_block_count", lambda t: F(t).fold(z(t, 1, 8, 5), (3, 3), 2)),
    ("fold_output_too_small", lambda t: F(t).fold(z(t, 1, 8, 4), (1, 1), 2)),
    ("fold_output_size_three_values", lambda t: F(t).fold(z(t, 1, 8, 4), (3, 3, 3), 2)),
    ("fold_zero_kernel", lambda t: F(t).fold(z(t, 1, 8, 4), (3, 3), 0)),
    ("fold_zero_stride", lambda t: F(t).fold(z(t, 1, 8, 4), (3, 3), 2, stride=0)),
    ("module_unfold_rank", lambda t: t.nn.Unfold(2)(z(t, 1, 2, 3, 4, 5))),
    ("module_fold_blocks", lambda t: t.nn.Fold((4, 4), 2)(z(t, 1, 8, 5))),
]


@pytest.mark.parametrize("fn", [c[1] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors(fn):
    same_error(fn)
