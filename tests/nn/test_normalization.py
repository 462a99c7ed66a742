"""Batch/instance/layer/group/RMS norm, local response norm and F.normalize against torch: values, input and parameter
gradients, running statistics over several training steps, train/eval, double backward, reprs and errors."""
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check
from .nnparity import arr, same, same_error

F64_32 = ("float64", "float32")


def r(*shape, seed=0, scale=1.0, shift=0.0):
    return arr(*shape, seed=seed) * scale + shift


# ---- functional forms ---------------------------------------------------------------------------------------------
X4 = r(4, 6, 5, 3, scale=2.0, shift=0.5)
W6, B6 = r(6, seed=1), r(6, seed=2)
RM6, RV6 = r(6, seed=3), np.abs(r(6, seed=4)) + 0.5
LNW, LNB = r(5, 3, seed=5), r(5, 3, seed=6)


def _bn_eval(t, x, w, b, rm, rv):
    return t.nn.functional.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)


FUNCTIONAL = [
    ("bn_train", lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True), [X4, W6, B6]),
    ("bn_train_eps", lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, True, 0.1, 0.5), [X4, W6, B6]),
    ("bn_train_no_affine", lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), [X4]),
    ("bn_train_weight_only", lambda t, x, w: t.nn.functional.batch_norm(x, None, None, w, training=True), [X4, W6]),
    ("bn_train_bias_only", lambda t, x, b: t.nn.functional.batch_norm(x, None, None, None, b, training=True),
     [X4, B6]),
    ("bn_train_2d", lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), [X4[:, :, 0, 0]]),
    ("bn_train_3d", lambda t, x, w: t.nn.functional.batch_norm(x, None, None, w, training=True), [X4[:, :, 0], W6]),
    ("bn_train_5d", lambda t, x, w: t.nn.functional.batch_norm(x, None, None, w, training=True),
     [r(2, 6, 3, 2, 2), W6]),
    ("bn_train_noncontig", lambda t, x, w, b: t.nn.functional.batch_norm(x.transpose(2, 3), None, None, w, b, True),
     [X4, W6, B6]),
    ("bn_train_strided", lambda t, x, w, b: t.nn.functional.batch_norm(x[::2, :, 1:], None, None, w, b, True),
     [X4, W6, B6]),
    ("bn_eval", _bn_eval, [X4, W6, B6, RM6, RV6]),
    ("bn_eval_no_affine", lambda t, x, rm, rv: t.nn.functional.batch_norm(x, rm, rv), [X4, RM6, RV6]),
    ("bn_eval_empty", _bn_eval, [X4[:0], W6, B6, RM6, RV6]),
    ("ln_last", lambda t, x, w, b: t.nn.functional.layer_norm(x, (3,), w[0], b[0]), [X4, LNW, LNB]),
    ("ln_two", lambda t, x, w, b: t.nn.functional.layer_norm(x, (5, 3), w, b), [X4, LNW, LNB]),
    ("ln_all", lambda t, x: t.nn.functional.layer_norm(x, (6, 5, 3), eps=0.1), [X4]),
    ("ln_no_affine", lambda t, x: t.nn.functional.layer_norm(x, [5, 3]), [X4]),
    ("ln_bias_only", lambda t, x, b: t.nn.functional.layer_norm(x, (5, 3), None, b), [X4, LNB]),
    ("ln_noncontig", lambda t, x, w, b: t.nn.functional.layer_norm(x.transpose(1, 2), (6, 3), w, b),
     [X4, r(6, 3, seed=7), r(6, 3, seed=8)]),
    ("ln_empty", lambda t, x, w, b: t.nn.functional.layer_norm(x, (5, 3), w, b), [X4[:0], LNW, LNB]),
    ("ln_1d", lambda t, x: t.nn.functional.layer_norm(x, (7,)), [r(7, seed=9)]),
    ("gn", lambda t, x, w, b: t.nn.functional.group_norm(x, 3, w, b), [X4, W6, B6]),
    ("gn_one_group", lambda t, x, w, b: t.nn.functional.group_norm(x, 1, w, b), [X4, W6, B6]),
    ("gn_per_channel", lambda t, x: t.nn.functional.group_norm(x, 6, eps=0.01), [X4]),
    ("gn_2d", lambda t, x, w: t.nn.functional.group_norm(x, 2, w), [r(5, 6, seed=2), W6]),
    ("gn_3d_noncontig", lambda t, x, w, b: t.nn.functional.group_norm(x.transpose(1, 2), 2, w, b),
     [r(3, 5, 6, seed=3), W6, B6]),
    ("gn_empty", lambda t, x, w, b: t.nn.functional.group_norm(x, 3, w, b), [X4[:0], W6, B6]),
    ("in", lambda t, x, w, b: t.nn.functional.instance_norm(x, weight=w, bias=b), [X4, W6, B6]),
    ("in_no_affine", lambda t, x: t.nn.functional.instance_norm(x, eps=0.01), [X4]),
    ("in_3d", lambda t, x: t.nn.functional.instance_norm(x), [X4[:, :, :, 0]]),
    ("in_5d", lambda t, x, w: t.nn.functional.instance_norm(x, weight=w), [r(2, 6, 3, 2, 2), W6]),
    ("in_running_eval", lambda t, x, w, b, rm, rv: t.nn.functional.instance_norm(x, rm, rv, w, b,
                                                                                 use_input_stats=False),
     [X4, W6, B6, RM6, RV6]),
    ("in_noncontig", lambda t, x: t.nn.functional.instance_norm(x.transpose(2, 3)), [X4]),
    ("rms", lambda t, x, w: t.nn.functional.rms_norm(x, (5, 3), w), [X4, LNW]),
    ("rms_eps", lambda t, x, w: t.nn.functional.rms_norm(x, (3,), w[0], eps=0.1), [X4, LNW]),
    ("rms_no_weight", lambda t, x: t.nn.functional.rms_norm(x, [6, 5, 3]), [X4]),
    ("rms_noncontig", lambda t, x: t.nn.functional.rms_norm(x.transpose(0, 3), (4,)), [X4]),
    ("rms_empty", lambda t, x: t.nn.functional.rms_norm(x, (3,)), [X4[:0]]),
    ("lrn_3d", lambda t, x: t.nn.functional.local_response_norm(x, 3), [X4[:, :, :, 0]]),
    ("lrn_4d", lambda t, x: t.nn.functional.local_response_norm(x, 2, alpha=0.1, beta=0.5, k=2.0), [X4]),
    ("lrn_5d", lambda t, x: t.nn.functional.local_response_norm(x, 4, alpha=0.01), [r(2, 6, 3, 2, 2)]),
    ("lrn_big_size", lambda t, x: t.nn.functional.local_response_norm(x, 9, alpha=0.3), [X4]),
    ("lrn_noncontig", lambda t, x: t.nn.functional.local_response_norm(x.transpose(2, 3), 3), [X4]),
    ("lrn_empty", lambda t, x: t.nn.functional.local_response_norm(x, 3), [X4[:0]]),
    ("normalize", lambda t, x: t.nn.functional.normalize(x), [X4]),
    ("normalize_p1_dim", lambda t, x: t.nn.functional.normalize(x, 1.0, dim=-1), [X4]),
    ("normalize_p3", lambda t, x: t.nn.functional.normalize(x, 3, dim=2), [X4]),
    ("normalize_inf", lambda t, x: t.nn.functional.normalize(x, float("inf"), dim=0), [X4]),
    ("normalize_eps", lambda t, x: t.nn.functional.normalize(x * 1e-3, eps=0.1), [X4]),
    ("normalize_zero_rows", lambda t, x: t.nn.functional.normalize(x * 0), [X4]),
    ("normalize_1d", lambda t, x: t.nn.functional.normalize(x, dim=0), [r(5)]),
    ("normalize_noncontig", lambda t, x: t.nn.functional.normalize(x.transpose(0, 1), dim=1), [X4]),
]


# Few elements per normalised group: torch's float32 backward (x-based, not x_hat-based) loses ~1e-4 to cancellation.
FEW_ELEMENTS = {"ln_last", "gn_2d"}
CONST_STATS = {"bn_eval": [0, 1, 2], "bn_eval_empty": [0, 1, 2], "in_running_eval": [0, 1, 2],
               "bn_eval_no_affine": [0]}


@pytest.mark.parametrize("name,fn,inputs", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional(name, fn, inputs):
    check(fn, inputs, dtypes=["float64"], grad_inputs=CONST_STATS.get(name))
    tol = dict(rtol=2e-4, atol=2e-5) if name in FEW_ELEMENTS else None
    check(fn, inputs, dtypes=["float32"], grad_inputs=CONST_STATS.get(name), tol=tol)


def _torch_accepts(fn, inputs):
    try:
        fn(torch, *[torch.tensor(a.astype(np.float16)) for a in inputs])
    except NotImplementedError:
        return False
    return True


@pytest.mark.parametrize("name,fn,inputs", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_half(name, fn, inputs):
    """float16 normalised in float32 and rounded once (torch's opmath), rms_norm's eps that of float32; forms torch
    has no half kernel for raise its error. torch's half backward kernels round some of their own intermediates, so
    the tolerance is about the OpInfo sweep's (1e-2)."""
    if not _torch_accepts(fn, inputs):
        same_error(lambda t: fn(t, *[t.tensor(a.astype(np.float16)) for a in inputs]))
        return
    check(fn, inputs, dtypes=["float16"], grad_inputs=CONST_STATS.get(name), tol=dict(rtol=1e-2, atol=2e-2))


def test_rms_norm_half_large_values():
    """Squares above half's range: torch squares in float32 (and rounds the product by the weight once)."""
    check(lambda t, x, w: t.nn.functional.rms_norm(x, (5,), w), [r(3, 5, scale=400.0), r(5, seed=1)],
          dtypes=["float16"])


BN_EMPTY = [
    ("1d_train", lambda t: t.nn.functional.batch_norm(t.zeros(0), t.zeros(0), t.ones(0), training=True)),
    ("1d_eval_no_stats", lambda t: t.nn.functional.batch_norm(t.zeros(0), None, None, training=False)),
    ("1d_weight_bias", lambda t: t.nn.functional.batch_norm(t.zeros(0), t.zeros(0), t.ones(0),
                                                           t.full((1,), 3.0, requires_grad=True),
                                                           t.ones(1, requires_grad=True))),
    ("batch_mismatched_stats", lambda t: t.nn.functional.batch_norm(t.zeros(0, 2, 3), t.zeros(5), t.ones(2),
                                                                   t.ones(3), training=True)),
    ("channels_empty", lambda t: t.nn.functional.batch_norm(t.zeros(2, 0, 3), None, None, training=True)),
    ("half_mixed", lambda t: t.nn.functional.batch_norm(t.zeros(0, 2, 3, dtype=t.float16), t.zeros(2), t.ones(2),
                                                       t.ones(2, dtype=t.float64))),
    ("int_input", lambda t: t.nn.functional.batch_norm(t.zeros(0, 2, dtype=t.int64), t.zeros(2), t.ones(2),
                                                      t.ones(2))),
]


@pytest.mark.parametrize("name,fn", BN_EMPTY, ids=[c[0] for c in BN_EMPTY])
def test_batch_norm_empty_input(name, fn):
    """An empty input skips every check (torch clones it, times weight[0], plus bias[0]): its result and node."""
    check(lambda t: fn(t), [])


def test_batch_norm_empty_keeps_running_stats():
    def fn(t):
        rm, rv = t.full((2,), 0.5), t.full((2,), 2.0)
        t.nn.functional.batch_norm(t.zeros(0, 2, 3), rm, rv, training=True)
        return rm, rv
    same(fn)


def test_batch_norm_empty_weight_index_error():
    same_error(lambda t: t.nn.functional.batch_norm(t.zeros(2, 0, 3), None, None, t.ones(0), training=True),
               exact=False)


def test_functional_bn_eval_param_grads():
    """Evaluation-mode batch norm: weight and bias gradients (running statistics are constants)."""
    check(_bn_eval, [X4, W6, B6, RM6, RV6], dtypes=F64_32, grad_inputs=[0, 1, 2])
    check(_bn_eval, [X4, W6, B6, RM6, RV6], dtypes=F64_32, grad_inputs=[1])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 4), c=st.integers(1, 4), lead=st.lists(st.integers(1, 3), max_size=2),
       groups=st.sampled_from([1, 2]), seed=st.integers(0, 1000))
def test_functional_random_shapes(n, c, lead, groups, seed):
    x = r(n, c * groups, *lead, seed=seed, scale=3.0)
    check(lambda t, v: t.nn.functional.batch_norm(v, None, None, training=True), [x], dtypes=["float64"])
    check(lambda t, v: t.nn.functional.group_norm(v, groups), [x], dtypes=["float64"])
    check(lambda t, v: t.nn.functional.layer_norm(v, v.shape[1:]), [x], dtypes=["float64"])


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
@pytest.mark.parametrize("dtype", F64_32)
def test_functional_batch_norm_updates_running_stats(momentum, dtype):
    def fn(t):
        rm, rv = t.tensor(RM6.astype(dtype)), t.tensor(RV6.astype(dtype))
        outs = []
        for k in range(3):
            outs.append(t.nn.functional.batch_norm(t.tensor(r(4, 6, 5, seed=k, scale=k + 1.0).astype(dtype)), rm, rv,
                                                   training=True, momentum=momentum))
        return outs, rm, rv
    same(fn)


def test_functional_instance_norm_updates_running_stats():
    def fn(t):
        rm, rv = t.tensor(RM6), t.tensor(RV6)
        y = t.nn.functional.instance_norm(t.tensor(X4), rm, rv, momentum=0.3)
        return y, rm, rv
    same(fn)


# ---- double backward ---------------------------------------------------------------------------------------------
DOUBLE = [
    ("bn", lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True)),
    ("bn_eval", lambda t, x, w, b: t.nn.functional.batch_norm(x, t.tensor(RM6), t.tensor(RV6), w, b)),
    ("ln", lambda t, x, w, b: t.nn.functional.layer_norm(x, (3,), w[:3], b[:3])),
    ("gn", lambda t, x, w, b: t.nn.functional.group_norm(x, 2, w, b)),
    ("in", lambda t, x, w, b: t.nn.functional.instance_norm(x, weight=w, bias=b)),
    ("rms", lambda t, x, w, b: t.nn.functional.rms_norm(x, (3,), w[:3])),
]


@pytest.mark.parametrize("name,fn", DOUBLE, ids=[d[0] for d in DOUBLE])
def test_double_backward(name, fn):
    def run(t):
        x = t.tensor(X4, requires_grad=True)
        w, b = t.tensor(W6, requires_grad=True), t.tensor(B6, requires_grad=True)
        y = fn(t, x, w, b)
        gx, gw = t.autograd.grad((y ** 3).sum(), (x, w), create_graph=True)
        ((gx ** 2).sum() + (gw * gw).sum()).backward()
        return gx, gw, x.grad, w.grad, b.grad
    same(run)


@pytest.mark.parametrize("name,fn", DOUBLE, ids=[d[0] for d in DOUBLE])
def test_gradcheck(name, fn):
    x = ember.tensor(r(3, 6, 2, 3, seed=4), requires_grad=True)
    w, b = ember.tensor(W6, requires_grad=True), ember.tensor(B6, requires_grad=True)
    assert ember.autograd.gradcheck(lambda *a: fn(ember, *a), (x, w, b))
    assert ember.autograd.gradgradcheck(lambda *a: fn(ember, *a), (x, w, b))


# ---- modules: forward, gradients, running statistics over several steps, eval ---------------------------------------
def _fill_params(m, t):
    """Deterministic non-trivial affine parameters (the same in both libraries)."""
    with t.no_grad():
        for k, p in enumerate(m.parameters()):
            p.copy_(t.tensor(r(*p.shape, seed=50 + k) * 0.5 + 1.0))


def _run_steps(build, shapes, dtype, eval_shape=None, steps=3):
    """Several training steps (forward, backward with a random upstream gradient), then an evaluation pass."""
    def fn(t):
        m = build(t, getattr(t, dtype))
        lazy = "Lazy" in type(m).__name__
        if not lazy:
            _fill_params(m, t)
        res = [repr(m)]
        for k in range(steps):
            shape = shapes[k % len(shapes)]
            x = t.tensor(r(*shape, seed=k, scale=k + 1.0, shift=0.3 * k).astype(dtype), requires_grad=True)
            y = m(x)
            y.backward(t.tensor(r(*y.shape, seed=100 + k).astype(dtype)))
            res += [y, x.grad, [(n, p.grad) for n, p in m.named_parameters()]]
            m.zero_grad()
        res += [type(m).__name__, repr(m), list(m.state_dict().items())]
        m.eval()
        x = t.tensor(r(*(eval_shape or shapes[0]), seed=9).astype(dtype), requires_grad=True)
        y = m(x)
        y.backward(t.tensor(r(*y.shape, seed=10).astype(dtype)))
        return res + [y, x.grad, [(n, p.grad) for n, p in m.named_parameters()]]
    same(fn)


MODULES = [
    ("bn1d_2d", lambda t, d: t.nn.BatchNorm1d(4, dtype=d), [(8, 4)]),
    ("bn1d_3d", lambda t, d: t.nn.BatchNorm1d(4, dtype=d), [(5, 4, 3), (2, 4, 7)]),
    ("bn1d_momentum_none", lambda t, d: t.nn.BatchNorm1d(4, momentum=None, dtype=d), [(6, 4)]),
    ("bn1d_no_affine", lambda t, d: t.nn.BatchNorm1d(4, affine=False, dtype=d), [(6, 4)]),
    ("bn1d_no_bias", lambda t, d: t.nn.BatchNorm1d(4, bias=False, dtype=d), [(6, 4)]),
    ("bn1d_no_stats", lambda t, d: t.nn.BatchNorm1d(4, track_running_stats=False, dtype=d), [(6, 4)]),
    ("bn2d", lambda t, d: t.nn.BatchNorm2d(3, dtype=d), [(4, 3, 5, 2)]),
    ("bn2d_options", lambda t, d: t.nn.BatchNorm2d(3, eps=1e-2, momentum=0.4, dtype=d), [(4, 3, 5, 2), (2, 3, 3, 3)]),
    ("bn2d_momentum_none", lambda t, d: t.nn.BatchNorm2d(3, momentum=None, dtype=d), [(4, 3, 2, 2)]),
    ("bn2d_no_stats_no_affine", lambda t, d: t.nn.BatchNorm2d(3, affine=False, track_running_stats=False, dtype=d),
     [(4, 3, 2, 2)]),
    ("bn3d", lambda t, d: t.nn.BatchNorm3d(2, dtype=d), [(3, 2, 3, 2, 2)]),
    ("lazy_bn1d", lambda t, d: t.nn.LazyBatchNorm1d(dtype=d), [(6, 4)]),
    ("lazy_bn2d", lambda t, d: t.nn.LazyBatchNorm2d(momentum=None, dtype=d), [(4, 3, 2, 2)]),
    ("lazy_bn3d", lambda t, d: t.nn.LazyBatchNorm3d(affine=False, dtype=d), [(3, 2, 3, 2, 2)]),
    ("sync_bn", lambda t, d: t.nn.SyncBatchNorm(3, dtype=d), [(4, 3, 5)]),
    ("sync_bn_4d", lambda t, d: t.nn.SyncBatchNorm(3, momentum=None, dtype=d), [(4, 3, 2, 2)]),
    ("in1d", lambda t, d: t.nn.InstanceNorm1d(4, dtype=d), [(3, 4, 6)]),
    ("in1d_unbatched", lambda t, d: t.nn.InstanceNorm1d(4, affine=True, dtype=d), [(4, 6)]),
    ("in1d_stats", lambda t, d: t.nn.InstanceNorm1d(4, affine=True, track_running_stats=True, dtype=d),
     [(3, 4, 6), (2, 4, 5)]),
    ("in1d_stats_unbatched", lambda t, d: t.nn.InstanceNorm1d(4, track_running_stats=True, momentum=None, dtype=d),
     [(4, 6)]),
    ("in2d", lambda t, d: t.nn.InstanceNorm2d(3, affine=True, dtype=d), [(2, 3, 4, 3)]),
    ("in2d_stats", lambda t, d: t.nn.InstanceNorm2d(3, track_running_stats=True, momentum=0.5, dtype=d),
     [(2, 3, 4, 3)]),
    ("in3d", lambda t, d: t.nn.InstanceNorm3d(2, affine=True, track_running_stats=True, dtype=d),
     [(2, 2, 3, 2, 2)]),
    ("in3d_unbatched", lambda t, d: t.nn.InstanceNorm3d(2, dtype=d), [(2, 3, 2, 2)]),
    ("lazy_in1d", lambda t, d: t.nn.LazyInstanceNorm1d(dtype=d), [(3, 4, 6)]),
    ("lazy_in2d", lambda t, d: t.nn.LazyInstanceNorm2d(affine=False, track_running_stats=False, dtype=d),
     [(2, 3, 4, 3)]),
    ("lazy_in3d", lambda t, d: t.nn.LazyInstanceNorm3d(dtype=d), [(2, 2, 3, 2, 2)]),
    ("gn", lambda t, d: t.nn.GroupNorm(2, 4, dtype=d), [(3, 4, 5)]),
    ("gn_4d", lambda t, d: t.nn.GroupNorm(3, 6, eps=1e-3, dtype=d), [(2, 6, 3, 2)]),
    ("gn_one_group", lambda t, d: t.nn.GroupNorm(1, 4, dtype=d), [(3, 4, 5)]),
    ("gn_no_affine", lambda t, d: t.nn.GroupNorm(4, 4, affine=False, dtype=d), [(3, 4, 5)]),
    ("gn_no_bias", lambda t, d: t.nn.GroupNorm(2, 4, bias=False, dtype=d), [(3, 4, 5)]),
    ("ln", lambda t, d: t.nn.LayerNorm(5, dtype=d), [(3, 4, 5)]),
    ("ln_2d_shape", lambda t, d: t.nn.LayerNorm((4, 5), eps=1e-3, dtype=d), [(3, 4, 5)]),
    ("ln_no_affine", lambda t, d: t.nn.LayerNorm([4, 5], elementwise_affine=False, dtype=d), [(3, 4, 5)]),
    ("ln_no_bias", lambda t, d: t.nn.LayerNorm(5, bias=False, dtype=d), [(3, 4, 5)]),
    ("rms", lambda t, d: t.nn.RMSNorm(5, dtype=d), [(3, 4, 5)]),
    ("rms_eps", lambda t, d: t.nn.RMSNorm((4, 5), eps=1e-3, dtype=d), [(3, 4, 5)]),
    ("rms_no_affine", lambda t, d: t.nn.RMSNorm([5], elementwise_affine=False, dtype=d), [(3, 4, 5)]),
    ("lrn", lambda t, d: t.nn.LocalResponseNorm(3), [(2, 5, 4)]),
    ("lrn_4d", lambda t, d: t.nn.LocalResponseNorm(2, alpha=0.1, beta=0.6, k=2.0), [(2, 5, 3, 2)]),
    ("cross_map_lrn", lambda t, d: t.nn.CrossMapLRN2d(3, 1e-2, 0.75, 1), [(2, 6, 3, 2)]),
    ("cross_map_lrn_5", lambda t, d: t.nn.CrossMapLRN2d(5, alpha=0.2, beta=0.5, k=2), [(2, 7, 3, 3)]),
    ("cross_map_lrn_even", lambda t, d: t.nn.CrossMapLRN2d(4, alpha=0.1), [(1, 6, 2, 2)]),
]


@pytest.mark.parametrize("dtype", F64_32)
@pytest.mark.parametrize("name,build,shapes", MODULES, ids=[m[0] for m in MODULES])
def test_module(name, build, shapes, dtype):
    _run_steps(build, shapes, dtype)


def test_batchnorm_many_steps_num_batches_tracked():
    """momentum=None: cumulative averages over 6 steps; num_batches_tracked counts train steps only."""
    def fn(t):
        m = t.nn.BatchNorm1d(3, momentum=None, dtype=t.float64)
        seen = []
        for k in range(6):
            m.train(k != 3)
            m(t.tensor(r(5, 3, seed=k, scale=k + 1.0, shift=k)))
            seen.append((m.num_batches_tracked.item(), m.running_mean.clone(), m.running_var.clone()))
        return seen
    same(fn)


def test_batchnorm_unbiased_running_var():
    """The running variance uses the unbiased batch variance; the output the biased one."""
    x = r(4, 2, seed=3)
    m = ember.nn.BatchNorm1d(2, momentum=1.0, affine=False)
    y = m(ember.tensor(x.astype(np.float32)))
    np.testing.assert_allclose(m.running_var.numpy(), x.var(0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(y.numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-4, atol=1e-5)


def test_batchnorm_reset_and_state_dict():
    def fn(t):
        m = t.nn.BatchNorm2d(3)
        m(t.tensor(r(2, 3, 2, 2, seed=1).astype(np.float32)))
        before = list(m.state_dict().items())
        m.reset_running_stats()
        after = list(m.state_dict().items())
        m2 = t.nn.BatchNorm2d(3)
        sd = m.state_dict()
        del sd["num_batches_tracked"]
        res = m2.load_state_dict(sd, strict=False)
        return before, after, list(res.missing_keys), list(m2.state_dict().items())
    same(fn)


def test_batchnorm_old_checkpoint_without_num_batches_tracked():
    def fn(t):
        m = t.nn.BatchNorm1d(2)
        sd = m.state_dict()
        del sd["num_batches_tracked"]
        sd._metadata = {"": {"version": 1}}
        m.load_state_dict(sd)
        return m.num_batches_tracked
    same(fn)


def test_eval_without_running_stats_uses_batch_stats():
    def fn(t):
        m = t.nn.BatchNorm2d(3, track_running_stats=False).eval()
        return m(t.tensor(r(4, 3, 2, 2, seed=2).astype(np.float32))), m.running_mean
    same(fn)


def test_train_eval_switch_uses_running_stats():
    def fn(t):
        m = t.nn.BatchNorm1d(3)
        x = t.tensor(r(8, 3, seed=1, scale=3.0, shift=2.0).astype(np.float32))
        y_train = m(x)
        m.eval()
        y_eval = m(x)
        m.train()
        return y_train, y_eval, m(x), m.num_batches_tracked
    same(fn)


def test_lazy_becomes_concrete():
    def fn(t):
        out = []
        for cls, shape in (("LazyBatchNorm1d", (3, 4)), ("LazyBatchNorm2d", (2, 3, 2, 2)),
                           ("LazyInstanceNorm1d", (2, 3, 4)), ("LazyInstanceNorm2d", (2, 3, 4, 2))):
            m = getattr(t.nn, cls)()
            before = repr(m)
            m(t.ones(*shape))
            out += [before, type(m).__name__, repr(m), [tuple(p.shape) for p in m.parameters()],
                    [tuple(b.shape) for b in m.buffers()]]
        return out
    same(fn)


def test_instance_norm_mismatched_features_warns_without_affine():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="does not match num_features"):
            lib.nn.InstanceNorm1d(5)(lib.ones(2, 3, 4))


# ---- reprs ---------------------------------------------------------------------------------------------------------
REPRS = [
    lambda t: t.nn.BatchNorm1d(4), lambda t: t.nn.BatchNorm2d(3, eps=1e-3, momentum=None, affine=False),
    lambda t: t.nn.BatchNorm3d(2, track_running_stats=False, bias=False), lambda t: t.nn.SyncBatchNorm(3),
    lambda t: t.nn.InstanceNorm1d(4), lambda t: t.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
    lambda t: t.nn.InstanceNorm3d(2, eps=0.1), lambda t: t.nn.LazyBatchNorm1d(),
    lambda t: t.nn.LazyInstanceNorm2d(), lambda t: t.nn.LazyInstanceNorm3d(affine=False),
    lambda t: t.nn.GroupNorm(2, 4), lambda t: t.nn.GroupNorm(1, 3, affine=False, eps=1e-3),
    lambda t: t.nn.GroupNorm(2, 4, bias=False), lambda t: t.nn.LayerNorm(5),
    lambda t: t.nn.LayerNorm([2, 3], elementwise_affine=False), lambda t: t.nn.LayerNorm(3, bias=False),
    lambda t: t.nn.RMSNorm(4), lambda t: t.nn.RMSNorm([2, 3], eps=1e-4, elementwise_affine=False),
    lambda t: t.nn.LocalResponseNorm(2), lambda t: t.nn.LocalResponseNorm(3, 0.1, 0.5, 2.0),
    lambda t: t.nn.CrossMapLRN2d(3), lambda t: t.nn.CrossMapLRN2d(5, 0.1, 0.5, 2),
]


@pytest.mark.parametrize("k", range(len(REPRS)))
def test_repr_and_state(k):
    lazy = k in (7, 8, 9)
    same(lambda t: (repr(REPRS[k](t)), [] if lazy else list(REPRS[k](t).state_dict().items())))


def test_convert_sync_batchnorm():
    def fn(t):
        net = t.nn.Sequential(t.nn.Conv1d(2, 3, 1), t.nn.BatchNorm1d(3), t.nn.Sequential(t.nn.BatchNorm2d(3)))
        out = t.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        return repr(out), [type(m).__name__ for m in out.modules()]
    same(fn)


# ---- errors -------------------------------------------------------------------------------------------------------
ERRORS = [
    ("bn_weight_size", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), None, None, t.ones(4), training=True)),
    ("bn_running_size", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), t.zeros(4), t.ones(4), training=True)),
    ("bn_one_value", lambda t: t.nn.functional.batch_norm(t.ones(1, 3), None, None, training=True)),
    ("bn_one_value_3d", lambda t: t.nn.functional.batch_norm(t.ones(1, 3, 1), None, None, training=True)),
    ("bn_eval_no_stats", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), None, None, training=False)),
    ("bn_eval_no_var", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), t.zeros(3), None, training=False)),
    ("bn_eval_weight_size", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), t.zeros(3), t.ones(3), t.ones(2))),
    ("bn_running_before_weight", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), t.zeros(5), t.ones(3),
                                                                      t.ones(4))),
    ("bn_no_mean_before_weight", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), None, None, t.ones(4))),
    ("bn_1d_features", lambda t: t.nn.functional.batch_norm(t.ones(3), t.zeros(3), t.ones(3))),
    ("bn_1d_weight", lambda t: t.nn.functional.batch_norm(t.ones(3), t.zeros(0), t.ones(0), t.ones(4))),
    ("bn_1d_input", lambda t: t.nn.functional.batch_norm(t.ones(3), None, None, training=True)),
    ("bn1d_4d", lambda t: t.nn.BatchNorm1d(3)(t.ones(2, 3, 2, 2))),
    ("bn2d_3d", lambda t: t.nn.BatchNorm2d(3)(t.ones(2, 3, 2))),
    ("bn3d_4d", lambda t: t.nn.BatchNorm3d(3)(t.ones(2, 3, 2, 2))),
    ("bn_module_one_value", lambda t: t.nn.BatchNorm1d(3)(t.ones(1, 3))),
    ("in_2d_input", lambda t: t.nn.functional.instance_norm(t.ones(2, 3))),
    ("in_one_spatial", lambda t: t.nn.functional.instance_norm(t.ones(2, 3, 1))),
    ("in_no_stats_eval", lambda t: t.nn.functional.instance_norm(t.ones(2, 3, 2), use_input_stats=False)),
    ("in1d_4d", lambda t: t.nn.InstanceNorm1d(3)(t.ones(2, 3, 2, 2))),
    ("in2d_affine_mismatch", lambda t: t.nn.InstanceNorm2d(4, affine=True)(t.ones(2, 3, 2, 2))),
    ("ln_shape", lambda t: t.nn.functional.layer_norm(t.ones(2, 3), (4,))),
    ("ln_shape_2", lambda t: t.nn.functional.layer_norm(t.ones(2, 3), (2, 4))),
    ("ln_module_shape", lambda t: t.nn.LayerNorm(4)(t.ones(2, 3))),
    ("ln_int_shape", lambda t: t.nn.functional.layer_norm(t.ones(2, 3), 3)),
    ("ln_empty_shape", lambda t: t.nn.functional.layer_norm(t.ones(2, 3), [])),
    ("ln_0d", lambda t: t.nn.functional.layer_norm(t.tensor(1.0), (1,))),
    ("gn_divisible", lambda t: t.nn.functional.group_norm(t.ones(2, 6, 2), 4)),
    ("gn_1d", lambda t: t.nn.functional.group_norm(t.ones(6), 2)),
    ("gn_ctor", lambda t: t.nn.GroupNorm(4, 6)),
    ("rms_shape", lambda t: t.nn.functional.rms_norm(t.ones(2, 3), (4,))),
    ("rms_shape_2", lambda t: t.nn.functional.rms_norm(t.ones(2, 3), (2, 4))),
    ("rms_too_few_dims", lambda t: t.nn.functional.rms_norm(t.ones(3), (2, 3))),
    ("rms_int_shape", lambda t: t.nn.functional.rms_norm(t.ones(2, 3), 3)),
    ("gn_weight_size", lambda t: t.nn.functional.group_norm(t.ones(2, 4), 2, t.ones(3))),
    ("lrn_2d", lambda t: t.nn.functional.local_response_norm(t.ones(2, 3), 2)),
    ("cross_map_3d", lambda t: t.nn.CrossMapLRN2d(3)(t.ones(2, 3, 4))),
    ("ln_weight_shape", lambda t: t.nn.functional.layer_norm(t.ones(1, 2, 3), (1, 2, 3), t.ones(1, 2))),
    ("ln_bias_shape", lambda t: t.nn.functional.layer_norm(t.ones(1, 2, 3), (1, 2, 3), None, t.ones(1, 2))),
    ("ln_weight_same_numel", lambda t: t.nn.functional.layer_norm(t.ones(2, 3), (3,), t.ones(1, 3))),
    ("native_ln_weight_shape", lambda t: t.native_layer_norm(t.ones(1, 2, 3), (1, 2, 3), t.ones(1, 2), None, 1e-5)),
    ("native_ln_bias_shape", lambda t: t.native_layer_norm(t.ones(1, 2, 3), (1, 2, 3), None, t.ones(1, 2), 1e-5)),
    ("rms_weight_shape", lambda t: t.nn.functional.rms_norm(t.ones(1, 2, 3), (1, 2, 3), t.ones(1, 2))),
    ("bn_eps_negative_train", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), None, None, training=True, eps=-1.0)),
    ("bn_eps_zero_train", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), None, None, training=True, eps=0.0)),
    ("bn_eps_negative_eval", lambda t: t.nn.functional.batch_norm(t.ones(2, 3), t.zeros(3), t.ones(3), eps=-1.0)),
    ("bn_module_eps", lambda t: t.nn.BatchNorm1d(3, eps=0.0)(t.ones(2, 3))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn):
    same_error(fn)


# ---- extreme inputs ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e-4, 1e4])
def test_extreme_scales(scale):
    x = r(4, 6, 5, seed=1, scale=scale, shift=scale)
    check(lambda t, v: t.nn.functional.batch_norm(v, None, None, training=True), [x], dtypes=["float64"])
    check(lambda t, v: t.nn.functional.layer_norm(v, (5,)), [x], dtypes=["float64"])
    check(lambda t, v: t.nn.functional.group_norm(v, 2), [x], dtypes=["float64"])
    check(lambda t, v: t.nn.functional.rms_norm(v, (5,)), [x], dtypes=["float64"])


def test_constant_input_is_finite():
    """A constant channel has zero variance: the result is 0 (eps keeps it finite), gradients finite."""
    x = np.full((4, 3, 5), 2.5)
    for fn in (lambda t, v: t.nn.functional.batch_norm(v, None, None, training=True),
               lambda t, v: t.nn.functional.layer_norm(v, (5,)), lambda t, v: t.nn.functional.instance_norm(v)):
        check(fn, [x], dtypes=["float64"])
        check(fn, [x], dtypes=["float32"], tol=dict(rtol=1e-4, atol=1e-4))


def test_float32_stays_float32():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for m in (ember.nn.BatchNorm1d(3), ember.nn.LayerNorm(3), ember.nn.GroupNorm(1, 3), ember.nn.RMSNorm(3)):
            y = m(ember.tensor(r(4, 3, seed=1).astype(np.float32)))
            assert y.dtype == ember.float32
        assert ember.nn.BatchNorm1d(3).running_var.dtype == ember.float32


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("x_dt,w_dt,r_dt", [
    ("float32", None, "float64"), ("float32", "float32", "float64"), ("float32", "float64", "float32"),
    ("float64", None, "float32"), ("float64", "float32", "float32"), ("float64", "float32", "float64"),
    ("float64", "float64", "float32"), ("float16", "float32", "float32"), ("float16", "float32", "float64")])
def test_batch_norm_parameter_dtypes(training, x_dt, w_dt, r_dt):
    """PyTorch's CPU rules for mixed dtypes: its error, or the same result for a float16 input with float32
    parameters."""
    def fn(t):
        w = None if w_dt is None else t.ones(3, dtype=getattr(t, w_dt))
        b = None if w_dt is None else t.zeros(3, dtype=getattr(t, w_dt))
        rm, rv = t.zeros(3, dtype=getattr(t, r_dt)), t.ones(3, dtype=getattr(t, r_dt))
        x = t.from_numpy(np.linspace(-1, 1, 12).reshape(4, 3).astype(x_dt))
        return t.nn.functional.batch_norm(x, rm, rv, w, b, training=training)
    try:
        expected = fn(torch)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=re.escape(str(e))):
            fn(ember)
    else:
        np.testing.assert_allclose(fn(ember).numpy(), expected.numpy(), rtol=2e-3, atol=2e-3)
