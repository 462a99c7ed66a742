"""The fast paths of the fused layer kernels against torch: softmax / log_softmax / cross-entropy without the max
shift and their per-slice fallback, the blocked batch-norm and tiled layer-norm kernels at sizes that take every
branch (several blocks, short rows, tiles with leftover rows), and the embedding gradient's repeated-index sums."""
import numpy as np
import pytest

from parity import check

F64_32 = ("float64", "float32")


def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _mixed(*shape, seed=0):
    """Slices along the last axis that take every softmax branch: plain, overflowing, far below 0, -inf, nan."""
    x = rnd(*shape, seed=seed)
    x[..., 1, :] += 1e4
    x[..., 2, :] -= 1e4
    x[..., 3, 0] = -np.inf
    x[..., 4, :] = -np.inf
    x[..., 5, 1] = np.inf
    x[..., 6, 2] = np.nan
    return x


SOFTMAX_CASES = [
    ("last_dim", lambda t, f, x: f(x, -1), _mixed(2, 8, 5)),
    ("middle_dim", lambda t, f, x: f(x.transpose(1, 2), 2).transpose(1, 2), _mixed(2, 8, 5)),
    ("dim0_mixed", lambda t, f, x: f(x.transpose(0, 1), 0), _mixed(8, 5)),
    ("wide_rows", lambda t, f, x: f(x, 1), rnd(120, 300, scale=5.0)),  # big enough for row_buffers
    ("transposed_grad", lambda t, f, x: f(x, 1).t() * 1.0, rnd(120, 300, seed=1)),
    ("large_logits", lambda t, f, x: f(x, -1), rnd(6, 50, seed=2, scale=300.0)),
]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=[c[0] for c in SOFTMAX_CASES])
def test_softmax_paths(name, case):
    label, fn, x = case
    finite = bool(np.isfinite(x).all())
    op = lambda t, v: fn(t, getattr(t.nn.functional, name), v)  # noqa: E731
    if name == "log_softmax" and label == "wide_rows":
        # its gradient g - softmax * sum(g) cancels to the float32 rounding of sum(g), whose order follows torch's
        # SIMD width: torch's own AVX2 and AVX512 gradients differ by 6e-6 at one element
        check(op, [x], grad=finite, dtypes=["float64"])
        check(op, [x], grad=finite, dtypes=["float32"], tol=dict(rtol=2e-5, atol=1e-5))
        return
    check(op, [x], grad=finite, dtypes=F64_32)


@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"ignore_index": 1},
                                    {"weight": True}], ids=["mean", "sum", "none", "ignore", "weight"])
def test_cross_entropy_unshifted_and_fallback_rows(kwargs):
    x = rnd(12, 40, seed=3, scale=3.0)
    x[1] += 200.0   # exp overflows: this row is redone with the max shift
    x[4] -= 300.0   # every exp underflows: redone too
    target = np.random.default_rng(4).integers(0, 40, 12)
    target[5] = 1

    def fn(t, v, w):
        kw = dict(kwargs, weight=w) if "weight" in kwargs else kwargs
        return t.nn.functional.cross_entropy(v, t.from_numpy(target.copy()), **kw)
    check(fn, [x, np.abs(rnd(40, seed=5)) + 0.5], grad_inputs=[0], dtypes=F64_32)


def test_cross_entropy_double_backward():
    target = np.random.default_rng(6).integers(0, 7, 5)

    def fn(t, v):
        loss = t.nn.functional.cross_entropy(v, t.from_numpy(target.copy()))
        (g,) = t.autograd.grad(loss, v, create_graph=True)
        return (g * g).sum()
    check(fn, [rnd(5, 7, seed=7)], dtypes=("float64",))


def _bn(shape, affine=True):
    """Training-mode BatchNorm of input `shape` (per-channel weight and bias when affine)."""
    c = shape[1]
    if affine:
        return (lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True),
                [rnd(*shape, scale=2.0) + 0.5, rnd(c, seed=1), rnd(c, seed=2)])
    return lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), [rnd(*shape) - 1.0]


BN_CASES = [
    ("several_blocks_long_rows", (5, 4, 16384)),    # blocks of one sample, rows >= 128 (BLAS dots)
    ("several_blocks_short_rows", (300, 9, 100)),   # blocks of several samples, einsum dots
    ("batchnorm1d", (4000, 40)),                    # (N, C): rows of length 1
]


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("case", BN_CASES, ids=[c[0] for c in BN_CASES])
def test_batch_norm_blocks(case, affine):
    fn, inputs = _bn(case[1], affine)
    check(fn, inputs, dtypes=("float64",))
    # torch's float32 kernel sums thousands of terms per channel in float32 (its batchnorm1d weight gradient is
    # about 3e-5 off the exact one here); ember's short-row sums accumulate in float64.
    check(fn, inputs, dtypes=("float32",), tol=dict(rtol=1e-4, atol=1e-5))


LN_CASES = [
    ("tiles_with_leftover_rows", (3, 17, 512)),   # 51 rows: three tiles of 16 rows and 3 left over
    ("rows_longer_than_buffer", (3, 9000)),        # no tiling
    ("short_rows", (70, 20)),
    ("small_input_in_one_piece", (2, 6, 10)),   # at most activation.SMALL elements: no blocks or tiling
]


@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("case", LN_CASES, ids=[c[0] for c in LN_CASES])
def test_layer_norm_rows(case, affine):
    shape = case[1]
    k = shape[-1]
    w, b = rnd(k, seed=1), rnd(k, seed=2)
    args = {"both": (w, b), "weight": (w, None), "bias": (None, b), "none": (None, None)}[affine]
    inputs = [rnd(*shape, scale=3.0) + 1.0] + [a for a in args if a is not None]

    def fn(t, x, *params):
        it = iter(params)
        pw = next(it) if args[0] is not None else None
        pb = next(it) if args[1] is not None else None
        return t.nn.functional.layer_norm(x, (k,), pw, pb)
    check(fn, inputs, dtypes=F64_32)


def test_layer_norm_in_row_blocks(monkeypatch):
    """Inputs too big for the cache go in blocks of rows (thresholds shrunk so that 40 x 512 takes that path:
    blocks of 18, 18 and 4 rows, the first two tiled with 2 rows left over)."""
    import ember.ops.normalization as N
    monkeypatch.setattr(N, "_ROW_WHOLE", 10000)
    monkeypatch.setattr(N, "_ROW_BLOCK", 18 * 512)
    check(lambda t, x, w, b: t.nn.functional.layer_norm(x, (512,), w, b),
          [rnd(40, 512, scale=2.0) - 1.0, rnd(512, seed=1), rnd(512, seed=2)], dtypes=F64_32)


EMB_CASES = [
    ("unique", np.arange(0, 400, 3)),
    ("few_repeats", np.random.default_rng(8).integers(0, 60, 200)),
    ("many_repeats", np.r_[np.full(40, 7), np.arange(50), np.full(20, 3)]),
    ("sparse_in_big_table", np.r_[np.arange(5), 2, 4, 4, 9999]),
]


@pytest.mark.parametrize("case", EMB_CASES, ids=[c[0] for c in EMB_CASES])
def test_embedding_repeated_indices(case):
    idx = case[1]
    rows = 10000 if idx.max() >= 400 else 400

    def fn(t, w):
        return t.nn.functional.embedding(t.from_numpy(idx.copy()), w)
    check(fn, [rnd(rows, 6, seed=9)], dtypes=F64_32)
