"""torch.<op> functions with ATen's native signatures (ember/_variable_functions.py) against torch: int reductions,
weight-first norms, `train` dropout flags, (values, indices) pooling, grid sampler mode numbers."""
import numpy as np
import pytest

import ember
from parity import check, check_raises, r, ri

X4 = r(2, 3, 6, 6)
X3 = r(2, 3, 8)
W = r(3)

# (id, fn(lib, *inputs), inputs, kwargs for check)
CASES = [
    ("conv1d", lambda L, x, w: L.conv1d(x, w, None, 2, 1), [X3, r(4, 3, 3, seed=1)], {}),
    ("conv2d", lambda L, x, w, b: L.conv2d(x, w, b, 1, 1, 1, 1), [X4, r(4, 3, 3, 3, seed=1), r(4, seed=2)], {}),
    ("conv3d", lambda L, x, w: L.conv3d(x, w), [r(1, 2, 4, 4, 4), r(3, 2, 2, 2, 2, seed=1)], {}),
    ("conv_transpose2d", lambda L, x, w: L.conv_transpose2d(x, w, None, 2, 1, 1), [X4, r(3, 2, 3, 3, seed=1)], {}),
    ("convolution", lambda L, x, w: L.convolution(x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1),
     [X4, r(4, 3, 3, 3, seed=1)], {}),
    ("convolution_transposed", lambda L, x, w: L.convolution(x, w, None, [2], [0], [1], True, [1], 3),
     [X3, r(3, 2, 3, seed=1)], {}),
    ("max_pool1d", lambda L, x: L.max_pool1d(x, 2), [X3], {}),
    ("max_pool2d", lambda L, x: L.max_pool2d(x, 3, 2, 1, 1, True), [X4], {}),
    ("max_pool3d", lambda L, x: L.max_pool3d(x, 2), [r(1, 2, 4, 4, 4)], {}),
    ("max_pool1d_with_indices", lambda L, x: L.max_pool1d_with_indices(x, 3, 2, 1), [X3], {}),
    ("avg_pool1d", lambda L, x: L.avg_pool1d(x, 3, 2, 1, True, False), [X3], {}),
    ("adaptive_avg_pool1d", lambda L, x: L.adaptive_avg_pool1d(x, 3), [X3], {}),
    ("adaptive_max_pool1d", lambda L, x: L.adaptive_max_pool1d(x, 3), [X3], {}),
    ("constant_pad_nd", lambda L, x: L.constant_pad_nd(x, [1, 2, 0, 1], 0.5), [X4], {}),
    ("batch_norm_train", lambda L, x, w, b: L.batch_norm(x, w, b, L.zeros(3, dtype=x.dtype),
                                                          L.ones(3, dtype=x.dtype), True, 0.1, 1e-5, False),
     [X4, W, r(3, seed=3)], {}),
    ("batch_norm_eval", lambda L, x: L.batch_norm(x, None, None, L.full((3,), 0.5, dtype=x.dtype),
                                                  L.full((3,), 2.0, dtype=x.dtype), False, 0.1, 1e-5, True), [X4], {}),
    ("instance_norm", lambda L, x, w: L.instance_norm(x, w, None, None, None, True, 0.1, 1e-5, False), [X4, W], {}),
    ("layer_norm", lambda L, x, w, b: L.layer_norm(x, [6, 6], w, b, 1e-5, True), [X4, r(6, 6), r(6, 6, seed=4)], {}),
    ("group_norm", lambda L, x, w: L.group_norm(x, 3, w, None, 1e-5, True), [X4, W], {}),
    ("rms_norm", lambda L, x, w: L.rms_norm(x, [6], w, 1e-6), [X4, r(6)], {}),
    ("bilinear", lambda L, a, b, w: L.bilinear(a, b, w), [r(4, 3), r(4, 2, seed=1), r(5, 3, 2, seed=2)], {}),
    ("pixel_shuffle", lambda L, x: L.pixel_shuffle(x, 2), [r(1, 8, 3, 3)], {}),
    ("pixel_unshuffle", lambda L, x: L.pixel_unshuffle(x, 3), [X4], {}),
    ("channel_shuffle", lambda L, x: L.channel_shuffle(x, 3), [r(1, 6, 2, 2)], {"grad": False}),
    ("threshold", lambda L, x: L.threshold(x, 0.1, -2.0), [X4], {}),
    ("threshold_", lambda L, x: L.threshold_(x * 1, 0.1, -2.0), [X4], {}),
    ("selu_", lambda L, x: L.selu_(x * 1), [X4], {}),
    ("celu_", lambda L, x: L.celu_(x * 1, 0.5), [X4], {}),
    ("rrelu_eval", lambda L, x: L.rrelu_(x * 1, 0.1, 0.3, False), [X4], {}),
    ("dropout_eval", lambda L, x: L.dropout_(x * 1, 0.5, False), [X4], {}),
    ("alpha_dropout_eval", lambda L, x: L.alpha_dropout_(x * 1, 0.5, False), [X4], {}),
    ("feature_dropout_eval", lambda L, x: L.feature_dropout(x, 0.5, False), [X4], {}),
    ("bce_with_logits", lambda L, x, t, w, pw: L.binary_cross_entropy_with_logits(x, t, w, pw, 2),
     [r(4, 3), np.random.default_rng(1).random((4, 3)), r(3, seed=2), np.abs(r(3, seed=3))], {"grad_inputs": (0,)}),
    ("bce_with_logits_default", lambda L, x, t: L.binary_cross_entropy_with_logits(x, t),
     [r(4, 3), np.random.default_rng(1).random((4, 3))], {}),
    ("kl_div", lambda L, x, t: L.kl_div(x, t, 0, log_target=True), [r(3, 4), r(3, 4, seed=1)], {}),
    ("kl_div_default", lambda L, x, t: L.kl_div(x, t), [r(3, 4), np.abs(r(3, 4, seed=1))], {}),
    ("kl_div_sum", lambda L, x, t: L.kl_div(x, t, 2), [r(3, 4), np.abs(r(3, 4, seed=1))], {}),
    ("kl_div_other_int", lambda L, x, t: L.kl_div(x, t, 3), [r(3, 4), np.abs(r(3, 4, seed=1))], {}),
    ("ctc_loss_default", lambda L, lp: L.ctc_loss(lp.log_softmax(2), L.tensor([[1, 2], [2, 2]]), [5, 4], [2, 2]),
     [r(5, 2, 4)], {}),
    ("cosine_embedding_loss", lambda L, a, b: L.cosine_embedding_loss(a, b, L.tensor([1, -1, 1]), 0.2, 0),
     [r(3, 5), r(3, 5, seed=1)], {}),
    ("hinge_embedding_loss", lambda L, x: L.hinge_embedding_loss(x, L.tensor([1.0, -1.0, 1.0, -1.0]), 0.5, 2),
     [r(4)], {}),
    ("margin_ranking_loss", lambda L, a, b: L.margin_ranking_loss(a, b, L.tensor([1.0, -1.0, 1.0]), 0.1),
     [r(3), r(3, seed=1)], {}),
    ("poisson_nll_loss", lambda L, x, t: L.poisson_nll_loss(x, t, True, True, 1e-8, 1),
     [r(3, 4), np.abs(r(3, 4, seed=1)) * 3], {}),
    ("triplet_margin_loss", lambda L, a, p, n: L.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6, True, 0),
     [r(3, 5), r(3, 5, seed=1), r(3, 5, seed=2)], {}),
    ("ctc_loss", lambda L, lp: L.ctc_loss(lp.log_softmax(2), L.tensor([[1, 2], [2, 2]]), [5, 4], [2, 2], 0, 1, False),
     [r(5, 2, 4)], {}),
    ("grid_sampler", lambda L, x, g: L.grid_sampler(x, g, 1, 2, False), [X4, r(2, 3, 4, 2) * 0.8], {}),
    ("grid_sampler_2d", lambda L, x, g: L.grid_sampler_2d(x, g, 0, 1, True), [X4, r(2, 3, 4, 2) * 0.8], {}),
    ("affine_grid_generator", lambda L, th: L.affine_grid_generator(th, [2, 3, 4, 5], False), [r(2, 2, 3)], {}),
    ("pdist", lambda L, x: L.pdist(x, 1.5), [r(4, 3)], {}),
    ("native_layer_norm", lambda L, x, w, b: L.native_layer_norm(x, [6, 6], w, b, 1e-5), [X4, r(6, 6), r(6, 6)], {}),
    ("native_layer_norm_plain", lambda L, x: L.native_layer_norm(x, (3, 8), None, None, 0.5), [X3], {}),
    ("native_layer_norm_empty", lambda L, x: L.native_layer_norm(x, [3], None, None, 1e-5), [r(0, 3)], {}),
    ("native_batch_norm_train", lambda L, x, w, b: _native_bn(L, x, w, b, True, 0.5, 0.6), [X4, W, r(3, seed=3)], {}),
    ("native_batch_norm_eval", lambda L, x, w, b: _native_bn(L, x, w, b, False, -1.2, 1e-5), [X3, W, r(3, seed=3)],
     {}),
    ("native_batch_norm_no_stats", lambda L, x: L.native_batch_norm(x, None, None, None, None, True, 0.5, 1e-5),
     [r(1, 2, 3)], {}),
    ("native_group_norm", lambda L, x, w, b: L.native_group_norm(x, w, b, 2, 3, 36, 3, 1e-5), [X4, W, r(3, seed=3)],
     {}),
    ("native_group_norm_flat", lambda L, x: L.native_group_norm(x, None, None, 2, 6, 3, 2, 0.5), [r(2, 6, 3)], {}),
    ("native_group_norm_empty", lambda L, x, w: L.native_group_norm(x, w, None, 0, 2, 1, 1, 1e-5), [r(0, 2), r(2)],
     {}),
]


def _native_bn(L, x, w, b, training, momentum, eps):
    """native_batch_norm's (output, save_mean, save_invstd) and the running statistics it updated."""
    rm, rv = L.full((3,), 0.5, dtype=x.dtype), L.full((3,), 2.0, dtype=x.dtype)
    return L.native_batch_norm(x, w, b, rm, rv, training, momentum, eps) + (rm, rv)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_native_signature_matches_torch(case):
    _, fn, inputs, kw = case
    check(fn, inputs, dtypes=("float64", "float32"), **kw)


@pytest.mark.parametrize("shape", [(300, 40, 3), (200, 30, 2, 2, 2)])
def test_feature_dropout_drops_whole_channels(shape):
    """Training mode: every (batch, channel) plane is all zero or all x / (1 - p), about p of them zero."""
    p = 0.4
    x = ember.ones(*shape)
    for out in (ember.feature_dropout(x, p, True), ember.feature_dropout_(x.clone(), p, True)):
        planes = out.numpy().reshape(shape[0] * shape[1], -1)
        assert np.all(planes == planes[:, :1])
        assert set(np.unique(planes)) <= {0.0, np.float32(1 / (1 - p))}
        assert abs((planes[:, 0] == 0).mean() - p) < 0.03


@pytest.mark.parametrize("x_dt,p_dt", [("float16", "float32"), ("float16", None), ("float16", "float16")])
def test_native_norms_half_statistics(x_dt, p_dt):
    """Half input: outputs in half, statistics in float32 beside float32 parameters, else in half (torch's rules)."""
    def fn(L, x, *p):
        w = p[0] if p else None
        return (L.native_layer_norm(x, [8], w[:8] if p else None, None, 1e-5),
                L.native_group_norm(x, w[:3] if p else None, None, 2, 3, 8, 3, 1e-5),
                L.native_batch_norm(x, w[:3] if p else None, None, None, None, True, 0.1, 1e-5))
    inputs = [r(2, 3, 8).astype(x_dt)] + ([r(8, seed=1).astype(p_dt)] if p_dt else [])
    check(fn, inputs, grad=False)


@pytest.mark.parametrize("call", [
    lambda L: L.feature_dropout(L.ones(3), 0.5, True),
    lambda L: L.convolution(L.ones(2, 2), L.ones(2, 2), None, [1], [0], [1], False, [0], 1),
    lambda L: L.native_group_norm(L.ones(2, 6, 5), None, None, 2, 6, 4, 3, 1e-5),
    lambda L: L.native_group_norm(L.ones(2, 6, 5), None, None, 2, 6, 5, 4, 1e-5),
    lambda L: L.native_group_norm(L.ones(2, 6, 5), L.ones(5), None, 2, 6, 5, 3, 1e-5),
    lambda L: L.native_layer_norm(L.ones(2, 3), [4], None, None, 1e-5),
    lambda L: L.native_batch_norm(L.ones(2, 3), None, None, L.zeros(3), None, True, 0.1, 1e-5),
    lambda L: L.native_batch_norm(L.ones(0, 3), None, None, L.zeros(3), L.ones(3), True, 0.1, 1e-5),
])
def test_bad_arguments_raise_as_torch(call):
    check_raises(call)


def test_int_targets_and_lengths_as_tensors():
    check(lambda L, lp: L.ctc_loss(lp.log_softmax(2), L.tensor([1, 2, 2, 2]), L.tensor([5, 4]), L.tensor([2, 2]),
                                   0, 2, True), [r(5, 2, 4)], dtypes=("float64",))
    check(lambda L, x: L.adaptive_max_pool1d(x, 4)[1], [ri(2, 3, 8).astype(np.float64)], grad=False)
