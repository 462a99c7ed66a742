"""Pooling against torch: max (indices exactly torch's), average (ceil_mode, count_include_pad, divisor_override),
LP, adaptive (None entries), fractional (explicit _random_samples) pooling and max_unpool, in 1, 2 and 3 dims; the
modules, their reprs, double backward and torch's errors."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings, strategies as st

import ember
from ember.ops import pooling as pooling_ops
from parity import assert_same, check, check_raises
from .nnparity import same, same_error

F64_32 = ("float64", "float32")


def r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def ties(*shape, seed=0):
    """Small integers as floats: many equal values, so the tie-breaking (first maximum wins) is tested."""
    return np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)


def F(t):
    return t.nn.functional


def call(name, *args, **kw):
    return lambda t, x: getattr(F(t), name)(x, *args, **kw)


# ---- max pooling: values, indices (exact) and gradients ------------------------------------------------------------
# (id, fn name, input shape, args, kwargs)
MAX_CASES = [
    ("1d_basic", "max_pool1d", (2, 3, 9), (3,), {}),
    ("1d_stride_pad", "max_pool1d", (2, 3, 10), (3, 2, 1), {}),
    ("1d_dilation_ceil", "max_pool1d", (2, 3, 11), (3,), dict(stride=2, dilation=2, ceil_mode=True)),
    ("1d_ceil_drops_window_in_padding", "max_pool1d", (2, 3, 6), (2, 2, 1), dict(ceil_mode=True)),
    ("1d_tuples", "max_pool1d", (2, 3, 12), ((4,), (3,), (2,)), dict(dilation=(1,))),
    ("1d_unbatched", "max_pool1d", (3, 9), (2,), dict(ceil_mode=True)),
    ("2d_basic", "max_pool2d", (2, 3, 8, 8), (2,), {}),
    ("2d_k3_s2_p1", "max_pool2d", (2, 3, 9, 8), (3, 2, 1), {}),
    ("2d_ceil", "max_pool2d", (2, 3, 9, 8), (3, 2, 1), dict(ceil_mode=True)),
    ("2d_tuples_dilation", "max_pool2d", (2, 3, 9, 8), ((2, 3), (1, 2), (1, 1)), dict(dilation=(2, 1))),
    ("2d_dilated_pad_half_effective", "max_pool2d", (1, 2, 9, 9), (3,), dict(stride=2, padding=1, dilation=2)),
    ("2d_stride_list_empty", "max_pool2d", (2, 3, 6, 6), (2,), dict(stride=[])),
    ("2d_stride_gt_kernel", "max_pool2d", (2, 3, 10, 9), (2, 3), dict(ceil_mode=True)),
    ("2d_unbatched", "max_pool2d", (3, 7, 6), ((3, 2),), dict(stride=(2, 1), padding=(1, 0))),
    ("2d_kernel_is_input", "max_pool2d", (2, 3, 4, 5), ((4, 5),), {}),
    ("2d_empty_batch", "max_pool2d", (0, 3, 6, 6), (2,), {}),
    ("2d_k3_s1_overlap", "max_pool2d", (2, 3, 7, 8), (3, 1), {}),
    ("2d_k2_s1_ceil", "max_pool2d", (2, 3, 6, 7), (2, 1), dict(ceil_mode=True)),
    ("2d_k3_s1_p1_dilation2", "max_pool2d", (2, 3, 9, 8), (3, 1, 1), dict(dilation=2)),
    ("2d_k3_s2_p1_dilation2_ceil", "max_pool2d", (1, 3, 11, 10), (3, 2, 1), dict(dilation=2, ceil_mode=True)),
    ("2d_k3_s2_p1_ceil_odd", "max_pool2d", (2, 3, 10, 11), (3, 2, 1), dict(ceil_mode=True)),
    ("2d_k4_s2_p2_wide", "max_pool2d", (2, 2, 6, 40), (4, 2, 2), {}),
    ("3d_basic", "max_pool3d", (2, 2, 4, 5, 6), (2,), {}),
    ("3d_options", "max_pool3d", (1, 2, 5, 6, 7), ((2, 3, 2), (1, 2, 2), (1, 1, 0)), dict(ceil_mode=True)),
    ("3d_dilation", "max_pool3d", (1, 2, 5, 6, 5), (2,), dict(stride=1, dilation=(2, 1, 2))),
    ("3d_unbatched", "max_pool3d", (2, 4, 4, 5), (3, 2, 1), {}),
    ("3d_k3_s1_p1", "max_pool3d", (1, 2, 4, 5, 4), (3, 1, 1), {}),
]


@pytest.mark.parametrize("name,shape,args,kw", [c[1:] for c in MAX_CASES], ids=[c[0] for c in MAX_CASES])
def test_max_pool(name, shape, args, kw):
    check(call(name, *args, return_indices=True, **kw), [r(*shape)], dtypes=F64_32)
    check(call(name, *args, **kw), [r(*shape, seed=1)], dtypes=["float32"])


@pytest.mark.parametrize("name,shape,args,kw", [c[1:] for c in MAX_CASES if "empty" not in c[0]],
                         ids=[c[0] for c in MAX_CASES if "empty" not in c[0]])
def test_max_pool_ties(name, shape, args, kw):
    """Equal values in a window: the index (and the gradient) goes to the first one, as in torch."""
    check(call(name, *args, return_indices=True, **kw), [ties(*shape)], dtypes=F64_32)


@pytest.mark.parametrize("name,shape", [("max_pool1d", (2, 3, 8)), ("max_pool2d", (2, 2, 6, 6)),
                                        ("max_pool3d", (1, 2, 4, 4, 4))])
def test_max_pool_nan_and_inf(name, shape):
    """NaN wins a window (and its index is returned); -inf windows give -inf."""
    x = r(*shape)
    x.reshape(-1)[[1, 7, 20]] = np.nan
    x.reshape(-1)[[2, 3, 14]] = -np.inf
    x.reshape(-1)[[30]] = np.inf
    check(call(name, 2, return_indices=True), [x], dtypes=F64_32)


@pytest.fixture
def index_scatters(monkeypatch):
    """A set that gets the kind of each of ember's max-pool gradient scatters (ember.ops.pooling._scatter_in_plane):
    "assign" (unique indices) or "sum"."""
    kinds = set()
    scatter = pooling_ops._scatter_in_plane

    def spy(*args):
        kinds.add("assign" if args[-1] else "sum")
        return scatter(*args)
    monkeypatch.setattr(pooling_ops, "_scatter_in_plane", spy)
    return kinds


# (id, max_pool2d args, kwargs, whether windows overlap): the backward scatters the gradient to the argmax indices,
# summing where windows overlap (several windows may pick the same input) and assigning where they are disjoint
POOL2D_GEOMETRIES = [
    ("k2_s2_disjoint", (2,), {}, False),
    ("k3_s2_p1", (3, 2, 1), {}, True),
    ("k3_s1", (3, 1), {}, True),
    ("k3_s1_p1_dilation2", (3, 1, 1), dict(dilation=2), True),
    ("k3_s2_p1_ceil", (3, 2, 1), dict(ceil_mode=True), True),
    ("k2_s1_ceil", (2, 1), dict(ceil_mode=True), True),
]


def nonfinite_planes(n, c, h, w):
    """Ties, a 5x5 corner block of -inf (whole windows of -inf, also with padding), NaN and +inf entries."""
    x = ties(n, c, h, w)
    x[0, 0, :5, :5] = -np.inf
    x[0, 1, 4, 4] = x[1, 0, 0, 0] = x[1, 1, 6, 2] = np.nan
    x[1, 1, 2:4, 3] = np.inf
    x[1, 0, 3:, 4:] = -np.inf
    return x


@pytest.mark.parametrize("args,kw,overlap", [c[1:] for c in POOL2D_GEOMETRIES], ids=[c[0] for c in POOL2D_GEOMETRIES])
def test_max_pool2d_nonfinite_data(args, kw, overlap, index_scatters):
    """Ties, all -inf windows, NaN and inf in the input: torch's values, indices and gradients."""
    check(call("max_pool2d", *args, return_indices=True, **kw), [nonfinite_planes(2, 2, 8, 9)], dtypes=F64_32)
    assert index_scatters == {"sum" if overlap else "assign"}


@pytest.mark.parametrize("args,kw,overlap", [c[1:] for c in POOL2D_GEOMETRIES], ids=[c[0] for c in POOL2D_GEOMETRIES])
def test_max_pool_grad_zero_signs(args, kw, overlap):
    """Gradients are added into zeros, as torch does: -0.0 upstream gives +0.0 at the argmax, negative values give
    +0.0 everywhere else."""
    def fn(t):
        x = t.tensor(r(2, 2, 6, 6), requires_grad=True)
        y = t.nn.functional.max_pool2d(x, *args, **kw)
        g = -np.abs(r(*y.shape, seed=1))
        g.reshape(-1)[::2] = -0.0
        y.backward(t.from_numpy(g))
        return np.signbit(x.grad.numpy())
    e, t = fn(ember), fn(torch)
    assert np.array_equal(e, t), f"sign bits differ at {np.argwhere(e != t).tolist()[:5]}"


@pytest.mark.parametrize("data", [r, ties])
@pytest.mark.parametrize("args,kw,overlap", [c[1:] for c in POOL2D_GEOMETRIES], ids=[c[0] for c in POOL2D_GEOMETRIES])
def test_max_pool_nonfinite_upstream_grad(args, kw, overlap, data, index_scatters):
    """inf/NaN upstream gradients reach exactly the argmax positions (no NaN from inf * 0 elsewhere; where windows
    share an argmax, their gradients add up: inf + -inf = NaN as in torch)."""
    def fn(t):
        x = t.tensor(data(2, 2, 6, 6), requires_grad=True)
        y = t.nn.functional.max_pool2d(x, *args, **kw)
        g = r(*y.shape, seed=1)
        g.reshape(-1)[[0, 5, 20]] = np.inf
        g.reshape(-1)[[1, 3, 21]] = -np.inf
        g.reshape(-1)[[7]] = np.nan
        y.backward(t.from_numpy(g))
        return x.grad
    same(fn)
    assert index_scatters == {"sum" if overlap else "assign"}


def test_max_pool_integer_input():
    x = np.random.default_rng(0).integers(-50, 50, (2, 3, 6, 7))
    check(call("max_pool2d", 3, 2, 1, return_indices=True), [x], grad=False)


# ---- average pooling -----------------------------------------------------------------------------------------------
AVG_CASES = [
    ("1d_basic", "avg_pool1d", (2, 3, 9), (3,), {}),
    ("1d_pad_ceil_exclude", "avg_pool1d", (2, 3, 10), (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ("1d_pad_ceil_include", "avg_pool1d", (2, 3, 10), (3, 2, 1), dict(ceil_mode=True)),
    ("1d_unbatched", "avg_pool1d", (3, 8), (2,), dict(stride=1)),
    ("2d_basic", "avg_pool2d", (2, 3, 8, 8), (2,), {}),
    ("2d_tuples", "avg_pool2d", (2, 3, 9, 8), ((3, 2), (2, 1), (1, 0)), {}),
    ("2d_divisor_override", "avg_pool2d", (2, 3, 9, 8), (3, 2, 1), dict(divisor_override=5)),
    ("2d_divisor_override_ceil", "avg_pool2d", (2, 3, 9, 8), (3, 2, 1), dict(divisor_override=2, ceil_mode=True,
                                                                            count_include_pad=False)),
    ("2d_stride_gt_kernel", "avg_pool2d", (2, 3, 11, 10), (2, 3), dict(ceil_mode=True)),
    ("2d_unbatched", "avg_pool2d", (3, 7, 6), (3, 2, 1), dict(count_include_pad=False)),
    ("2d_empty_batch", "avg_pool2d", (0, 3, 6, 6), (2,), {}),
    ("3d_basic", "avg_pool3d", (2, 2, 4, 5, 6), (2,), {}),
    ("3d_options", "avg_pool3d", (1, 2, 5, 6, 7), ((2, 3, 2), (1, 2, 2), (1, 1, 0)),
     dict(ceil_mode=True, count_include_pad=False)),
    ("3d_divisor", "avg_pool3d", (1, 2, 5, 4, 5), (3, 2, 1), dict(divisor_override=7, ceil_mode=True)),
    ("3d_unbatched", "avg_pool3d", (2, 4, 4, 5), (2, 1), {}),
]
AVG_FLAGS = [dict(ceil_mode=c, count_include_pad=i) for c in (False, True) for i in (False, True)]


@pytest.mark.parametrize("name,shape,args,kw", [c[1:] for c in AVG_CASES], ids=[c[0] for c in AVG_CASES])
def test_avg_pool(name, shape, args, kw):
    check(call(name, *args, **kw), [r(*shape)], dtypes=F64_32)


@pytest.mark.parametrize("flags", AVG_FLAGS,
                         ids=lambda f: f"ceil{int(f['ceil_mode'])}_incl{int(f['count_include_pad'])}")
@pytest.mark.parametrize("name,shape", [("avg_pool1d", (2, 2, 9)), ("avg_pool2d", (2, 2, 7, 9)),
                                        ("avg_pool3d", (1, 2, 5, 7, 6))])
def test_avg_pool_flag_grid(name, shape, flags):
    """Every ceil_mode x count_include_pad combination with padding, where the divisors differ at the borders."""
    check(call(name, 3, 2, 1, **flags), [r(*shape)], dtypes=F64_32)


def test_avg_pool_integer_input():
    """Integer avg pooling truncates toward zero, as torch's C++ division, negative divisors included."""
    x = np.random.default_rng(0).integers(-50, 50, (2, 3, 6, 7))
    check(call("avg_pool2d", 3, 2, 1), [x], grad=False)
    check(call("avg_pool2d", 2, divisor_override=3), [x], grad=False)
    check(call("avg_pool2d", 2, divisor_override=-2), [x], grad=False)
    check(call("avg_pool3d", (2, 2, 3), stride=(2, 2, 1), divisor_override=-3), [x.reshape(1, 2, 3, 6, 7)],
          grad=False)


@pytest.mark.parametrize("name,shape,args,kw", [c[1:] for c in AVG_CASES], ids=[c[0] for c in AVG_CASES])
def test_avg_pool_half(name, shape, args, kw):
    """float16 windows summed in float32 and divided there, rounded once (torch's opmath); torch has no half 3-d
    kernel."""
    if name == "avg_pool3d":
        same_error(lambda t: call(name, *args, **kw)(t, t.tensor(r(*shape), dtype=t.float16)))
        return
    check(call(name, *args, **kw), [r(*shape) * 4], dtypes=["float16"])


@pytest.mark.parametrize("dtype", ["int32", "int16", "uint8", "bool", "complex64"])
@pytest.mark.parametrize("name", ["avg_pool1d", "avg_pool2d", "avg_pool3d"])
def test_avg_pool_unsupported_dtypes(name, dtype):
    shape = (1, 2) + (4,) * int(name[-2])
    same_error(lambda t: getattr(t.nn.functional, name)(t.zeros(shape, dtype=getattr(t, dtype)), 2))


# ---- LP pooling ------------------------------------------------------------------------------------------------------
LP_CASES = [
    ("1d_p2", "lp_pool1d", (2, 3, 9), (2, 3), {}),
    ("1d_p1_stride", "lp_pool1d", (2, 3, 10), (1, 3, 2), {}),
    ("1d_p3_ceil", "lp_pool1d", (2, 3, 10), (3.0, 3, 2), dict(ceil_mode=True)),
    ("1d_unbatched", "lp_pool1d", (3, 8), (2, 2), {}),
    ("2d_p2", "lp_pool2d", (2, 3, 8, 8), (2, 2), {}),
    ("2d_p1.5_tuple", "lp_pool2d", (2, 3, 9, 8), (1.5, (3, 2), (2, 1)), {}),
    ("2d_ceil", "lp_pool2d", (2, 3, 9, 8), (2, 3, 2), dict(ceil_mode=True)),
    ("2d_unbatched", "lp_pool2d", (3, 6, 6), (4, 3), {}),
    ("3d_p2", "lp_pool3d", (1, 2, 4, 4, 6), (2, 2), {}),
    ("3d_p1_tuple", "lp_pool3d", (1, 2, 5, 4, 6), (1, (2, 1, 3), 1), dict(ceil_mode=True)),
]


@pytest.mark.parametrize("name,shape,args,kw", [c[1:] for c in LP_CASES], ids=[c[0] for c in LP_CASES])
def test_lp_pool(name, shape, args, kw):
    """Positive inputs (fractional powers of negative sums are NaN in both); p=2 also with signed inputs."""
    check(call(name, *args, **kw), [np.abs(r(*shape)) + 0.1], dtypes=F64_32)
    if args[0] == 2:
        check(call(name, *args, **kw), [r(*shape)], dtypes=F64_32)


# ---- adaptive pooling ------------------------------------------------------------------------------------------------
ADAPTIVE_CASES = [
    ("1d_divides", "1d", (2, 3, 8), 4),
    ("1d_overlapping", "1d", (2, 3, 10), 3),
    ("1d_upsample", "1d", (2, 3, 3), 7),
    ("1d_one", "1d", (2, 3, 7), 1),
    ("1d_same", "1d", (2, 3, 7), 7),
    ("1d_unbatched", "1d", (3, 9), 4),
    ("1d_tuple", "1d", (2, 3, 9), (5,)),
    ("2d_divides", "2d", (2, 3, 8, 6), (4, 3)),
    ("2d_overlapping", "2d", (2, 3, 9, 8), (4, 5)),
    ("2d_int", "2d", (2, 3, 7, 9), 3),
    ("2d_none_first", "2d", (2, 3, 9, 8), (None, 3)),
    ("2d_none_second", "2d", (2, 3, 9, 8), (5, None)),
    ("2d_upsample", "2d", (2, 3, 3, 2), (5, 4)),
    ("2d_global", "2d", (2, 3, 5, 6), 1),
    ("2d_unbatched", "2d", (3, 7, 5), (3, 2)),
    ("2d_empty_batch", "2d", (0, 3, 7, 5), (3, 2)),
    ("3d_int", "3d", (1, 2, 5, 6, 7), 3),
    ("3d_tuple_none", "3d", (1, 2, 5, 6, 7), (2, None, 4)),
    ("3d_unbatched", "3d", (2, 4, 5, 3), (3, 2, 2)),
]


@pytest.mark.parametrize("nd,shape,size", [c[1:] for c in ADAPTIVE_CASES], ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_avg_pool(nd, shape, size):
    check(call(f"adaptive_avg_pool{nd}", size), [r(*shape)], dtypes=F64_32)


@pytest.mark.parametrize("nd,shape,size", [c[1:] for c in ADAPTIVE_CASES], ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_avg_pool_half(nd, shape, size):
    """float16: 1-d and 2-d (and 3-d global) pooling in float32; 3-d windows summed in half element by element and
    divided by depth, height and width in turn, as torch's 3-d kernel: outputs bit for bit (large values)."""
    check(call(f"adaptive_avg_pool{nd}", size), [r(*shape) * 30], dtypes=["float16"], tol=dict(rtol=0, atol=0),
          grad=False)
    check(call(f"adaptive_avg_pool{nd}", size), [r(*shape)], dtypes=["float16"])


@pytest.mark.parametrize("nd,shape,size", [c[1:] for c in ADAPTIVE_CASES], ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_max_pool(nd, shape, size):
    check(call(f"adaptive_max_pool{nd}", size, return_indices=True), [r(*shape)], dtypes=F64_32)
    if "empty" not in shape:
        check(call(f"adaptive_max_pool{nd}", size, return_indices=True), [ties(*shape)], dtypes=["float64"])


def test_adaptive_zero_output_size():
    """Forward only: torch's backward rejects an empty output."""
    check(call("adaptive_avg_pool2d", 0), [r(2, 3, 4, 4)], grad=False)
    check(call("adaptive_max_pool2d", (0, 2), return_indices=True), [r(2, 3, 4, 4)], grad=False)
    check(call("fractional_max_pool2d", 2, output_size=0, return_indices=True), [r(2, 3, 4, 4)], grad=False)


# ---- fractional max pooling ------------------------------------------------------------------------------------------
FRACTIONAL_CASES = [
    ("2d_output_size", "fractional_max_pool2d", (2, 3, 9, 8), 2, dict(output_size=(4, 5))),
    ("2d_output_size_int", "fractional_max_pool2d", (2, 3, 10, 10), 3, dict(output_size=5)),
    ("2d_output_ratio", "fractional_max_pool2d", (2, 3, 9, 8), (2, 3), dict(output_ratio=(0.5, 0.6))),
    ("2d_output_ratio_list", "fractional_max_pool2d", (2, 2, 12, 7), 2, dict(output_ratio=[0.5, 0.7])),
    ("2d_output_one", "fractional_max_pool2d", (2, 2, 6, 5), 2, dict(output_size=(1, 3))),
    ("2d_output_full", "fractional_max_pool2d", (2, 2, 6, 5), 1, dict(output_size=(6, 5))),
    ("2d_unbatched", "fractional_max_pool2d", (3, 9, 8), 2, dict(output_size=(4, 4))),
    ("3d_output_size", "fractional_max_pool3d", (2, 2, 6, 7, 5), 2, dict(output_size=(3, 4, 2))),
    ("3d_output_ratio", "fractional_max_pool3d", (1, 2, 8, 6, 7), (2, 2, 3), dict(output_ratio=(0.5, 0.5, 0.6))),
    ("3d_output_ratio_scalar", "fractional_max_pool3d", (1, 2, 8, 6, 7), 2, dict(output_ratio=0.5)),
    ("3d_unbatched", "fractional_max_pool3d", (2, 6, 5, 7), 2, dict(output_size=3)),
]


@pytest.mark.parametrize("name,shape,k,kw", [c[1:] for c in FRACTIONAL_CASES], ids=[c[0] for c in FRACTIONAL_CASES])
@pytest.mark.parametrize("samples_seed", [3, 4])
def test_fractional_max_pool(name, shape, k, kw, samples_seed):
    nd = int(name[-2])
    batched = len(shape) == nd + 2
    samples = np.random.default_rng(samples_seed).random((shape[0] if batched else 1, shape[-nd - 1], nd))

    def fn(t, x, s):
        return getattr(F(t), name)(x, k, return_indices=True, _random_samples=s, **kw)
    for dt in F64_32:
        check(fn, [r(*shape).astype(dt), samples.astype(dt)], grad_inputs=[0])


def test_fractional_max_pool_random_samples_drawn():
    """Without _random_samples, windows are drawn at random: the output has the right shape and consists of window
    maxima (each value is the max of the input over its index's window position)."""
    ember.manual_seed(0)
    x = ember.tensor(r(2, 3, 9, 8))
    out, idx = ember.nn.functional.fractional_max_pool2d(x, 2, output_size=(4, 5), return_indices=True)
    assert tuple(out.shape) == (2, 3, 4, 5) and idx.dtype == ember.int64
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2).reshape(out.shape),
                                  out.numpy())


# ---- max_unpool ------------------------------------------------------------------------------------------------------
UNPOOL_CASES = [
    ("1d", 1, (2, 3, 8), dict(kernel_size=2), None),
    ("1d_stride_pad", 1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1), None),
    ("1d_output_size", 1, (2, 3, 9), dict(kernel_size=2), [9]),
    ("1d_unbatched", 1, (3, 8), dict(kernel_size=2), None),
    ("2d", 2, (2, 3, 6, 8), dict(kernel_size=2), None),
    ("2d_stride_pad", 2, (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1), None),
    ("2d_output_size_full", 2, (2, 3, 7, 9), dict(kernel_size=2), "input"),
    ("2d_output_size_spatial", 2, (2, 3, 7, 9), dict(kernel_size=(2, 3), stride=(2, 2)), [7, 9]),
    ("2d_unbatched", 2, (3, 6, 6), dict(kernel_size=2), None),
    ("3d", 3, (1, 2, 4, 6, 4), dict(kernel_size=2), None),
    ("3d_output_size", 3, (1, 2, 5, 7, 5), dict(kernel_size=2, stride=2), "input"),
]


@pytest.mark.parametrize("nd,shape,kw,osize", [c[1:] for c in UNPOOL_CASES], ids=[c[0] for c in UNPOOL_CASES])
def test_max_unpool(nd, shape, kw, osize):
    def fn(t, x):
        v, i = getattr(F(t), f"max_pool{nd}d")(x, return_indices=True, **kw)
        size = list(x.shape) if osize == "input" else osize
        return getattr(F(t), f"max_unpool{nd}d")(v, i, output_size=size, **kw)
    check(fn, [r(*shape)], dtypes=F64_32)


def test_max_unpool_from_given_indices():
    """Unpool of values with hand-made indices (repeated indices: the last write wins in both, so use distinct)."""
    idx = np.array([[[0, 5, 6, 15], [3, 2, 1, 0]]])

    def fn(t, x):
        return F(t).max_unpool1d(x, t.from_numpy(idx.copy()), 4, output_size=[16])
    check(fn, [r(1, 2, 4)], dtypes=F64_32)


# ---- non-contiguous inputs -------------------------------------------------------------------------------------------
NONCONTIG_CASES = [
    ("max_pool2d_transposed", lambda t, x: F(t).max_pool2d(x.transpose(2, 3), 3, 2, 1, return_indices=True),
     (2, 3, 8, 9)),
    ("max_pool1d_strided", lambda t, x: F(t).max_pool1d(x[:, ::2, 1:], 2, return_indices=True), (2, 6, 9)),
    ("avg_pool2d_channels_last", lambda t, x: F(t).avg_pool2d(x.permute(0, 3, 1, 2), 2, ceil_mode=True),
     (2, 7, 6, 3)),
    ("avg_pool3d_strided", lambda t, x: F(t).avg_pool3d(x[..., ::2], 2, 1, 1, count_include_pad=False),
     (1, 2, 4, 5, 8)),
    ("adaptive_avg_transposed", lambda t, x: F(t).adaptive_avg_pool2d(x.transpose(2, 3), (3, 4)), (2, 3, 7, 5)),
    ("adaptive_max_strided", lambda t, x: F(t).adaptive_max_pool2d(x[:, :, ::2], 3, return_indices=True),
     (2, 3, 10, 7)),
    ("lp_pool2d_transposed", lambda t, x: F(t).lp_pool2d(x.transpose(2, 3), 2, 2), (2, 3, 6, 8)),
    ("max_pool2d_expanded", lambda t, x: F(t).max_pool2d(x.expand(3, 2, 6, 6), 2, return_indices=True),
     (1, 2, 6, 6)),
]


@pytest.mark.parametrize("fn,shape", [c[1:] for c in NONCONTIG_CASES], ids=[c[0] for c in NONCONTIG_CASES])
def test_pool_noncontiguous(fn, shape):
    check(fn, [r(*shape)], dtypes=F64_32)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), ceil=st.booleans(), incl=st.booleans(),
       kind=st.sampled_from(["max", "avg"]))
def test_pool2d_random_geometry(h, w, k, s, p, d, ceil, incl, kind):
    """Random sizes and arguments: same values, indices and gradients as torch, or the same exception class."""
    if kind == "max":
        # a window lying wholly in the padding gets an index outside its plane in torch, whose backward then writes
        # into the neighbouring plane; that is undefined behaviour, not a reference, so such geometries are left out
        for n, k_, s_, p_, d_ in zip((h, w), k, s, p, d):
            outs = ember.ops.pooling.pool_out_size(n, k_, s_, p_, d_, ceil)
            assume(all(any(0 <= o * s_ - p_ + j * d_ < n for j in range(k_)) for o in range(max(outs, 0))))
        fn = call("max_pool2d", k, s, p, dilation=d, ceil_mode=ceil, return_indices=True)
    else:
        fn = call("avg_pool2d", k, s, p, ceil_mode=ceil, count_include_pad=incl)
    x = ties(2, 2, h, w)
    try:
        fn(torch, torch.from_numpy(x))
    except RuntimeError:
        check_raises(lambda t: fn(t, t.from_numpy(x.copy())), RuntimeError)
        return
    check(fn, [x], dtypes=["float64"])


# ---- modules ---------------------------------------------------------------------------------------------------------
# (id, builder(nn), input shape)
MODULE_CASES = [
    ("MaxPool1d", lambda nn: nn.MaxPool1d(3, 2, 1, ceil_mode=True), (2, 3, 10)),
    ("MaxPool1d_indices", lambda nn: nn.MaxPool1d(2, return_indices=True, dilation=2), (2, 3, 9)),
    ("MaxPool2d", lambda nn: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 8)),
    ("MaxPool2d_tuples_indices", lambda nn: nn.MaxPool2d((2, 3), (1, 2), (1, 1), dilation=(2, 1),
                                                         return_indices=True, ceil_mode=True), (2, 3, 9, 8)),
    ("MaxPool2d_unbatched", lambda nn: nn.MaxPool2d(2), (3, 6, 6)),
    ("MaxPool3d", lambda nn: nn.MaxPool3d(2, return_indices=True), (1, 2, 4, 5, 4)),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 10)),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(3, 2, 1, divisor_override=4), (2, 3, 9, 8)),
    ("AvgPool2d_tuples", lambda nn: nn.AvgPool2d((2, 3), (1, 2), ceil_mode=True), (2, 3, 9, 8)),
    ("AvgPool3d", lambda nn: nn.AvgPool3d(2, 1, 1, count_include_pad=False), (1, 2, 4, 3, 4)),
    ("LPPool1d", lambda nn: nn.LPPool1d(2, 3, 2), (2, 3, 9)),
    ("LPPool2d", lambda nn: nn.LPPool2d(1.5, (2, 3), ceil_mode=True), (2, 3, 7, 8)),
    ("LPPool3d", lambda nn: nn.LPPool3d(2, 2), (1, 2, 4, 4, 4)),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(4, return_indices=True), (2, 3, 10)),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d((None, 3)), (2, 3, 7, 8)),
    ("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d((2, 3, 2), return_indices=True), (1, 2, 5, 5, 5)),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(3), (2, 3, 10)),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((4, None)), (2, 3, 7, 8)),
    ("AdaptiveAvgPool2d_global", lambda nn: nn.AdaptiveAvgPool2d(1), (2, 3, 7, 8)),
    ("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d(2), (1, 2, 5, 4, 5)),
]


@pytest.mark.parametrize("build,shape", [c[1:] for c in MODULE_CASES], ids=[c[0] for c in MODULE_CASES])
def test_pool_module(build, shape):
    x = np.abs(r(*shape)) + 0.1 if "LP" in repr(build(torch.nn)) else r(*shape)
    check(lambda t, x: build(t.nn)(x), [x], dtypes=F64_32)


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_module(nd):
    """FractionalMaxPool with a registered _random_samples buffer gives torch's output and indices."""
    shape = (2, 3) + (9, 8, 7)[:nd]
    samples = np.random.default_rng(1).random((2, 3, nd))

    def fn(t, x, s):
        cls = getattr(t.nn, f"FractionalMaxPool{nd}d")
        return cls(2, output_ratio=0.5, return_indices=True, _random_samples=s)(x)
    check(fn, [r(*shape), samples], grad_inputs=[0])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_unpool_module(nd):
    shape = (2, 3) + (8, 6, 4)[:nd]

    def fn(t, x):
        pool = getattr(t.nn, f"MaxPool{nd}d")(2, stride=2, return_indices=True)
        unpool = getattr(t.nn, f"MaxUnpool{nd}d")(2, stride=2)
        v, i = pool(x)
        return unpool(v, i), unpool(v, i, output_size=x.shape)
    check(fn, [r(*shape)], dtypes=F64_32)


REPR_CASES = [
    lambda nn: nn.MaxPool1d(3),
    lambda nn: nn.MaxPool1d(3, 2, 1, 2, return_indices=True, ceil_mode=True),
    lambda nn: nn.MaxPool2d(3),
    lambda nn: nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1)),
    lambda nn: nn.MaxPool3d(2, ceil_mode=True),
    lambda nn: nn.AvgPool1d(3),
    lambda nn: nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda nn: nn.AvgPool2d(3),
    lambda nn: nn.AvgPool2d((3, 2), stride=1, padding=(1, 0), divisor_override=2),
    lambda nn: nn.AvgPool3d(3, divisor_override=2, count_include_pad=False),
    lambda nn: nn.LPPool1d(2, 3),
    lambda nn: nn.LPPool2d(1.5, (3, 2), stride=2, ceil_mode=True),
    lambda nn: nn.LPPool3d(2, 2),
    lambda nn: nn.AdaptiveMaxPool1d(3),
    lambda nn: nn.AdaptiveMaxPool2d((None, 3), return_indices=True),
    lambda nn: nn.AdaptiveMaxPool3d(2),
    lambda nn: nn.AdaptiveAvgPool1d(3),
    lambda nn: nn.AdaptiveAvgPool2d((4, None)),
    lambda nn: nn.AdaptiveAvgPool3d((1, 2, 3)),
    lambda nn: nn.FractionalMaxPool2d(2, output_size=3),
    lambda nn: nn.FractionalMaxPool3d(2, output_ratio=0.5),
    lambda nn: nn.MaxUnpool1d(3, 2, 1),
    lambda nn: nn.MaxUnpool2d(2),
    lambda nn: nn.MaxUnpool3d((2, 2, 1)),
]


@pytest.mark.parametrize("build", REPR_CASES)
def test_repr_and_attributes(build):
    def fn(t):
        m = build(t.nn)
        attrs = {k: v for k, v in vars(m).items() if not k.startswith("_") and k != "training"}
        return repr(m), attrs, list(m.state_dict())
    same(fn)


# ---- double backward -------------------------------------------------------------------------------------------------
GRADGRAD_CASES = [
    ("max_pool2d", lambda x: ember.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("max_pool1d", lambda x: ember.nn.functional.max_pool1d(x.flatten(2), 3, 2, dilation=2)),
    ("max_pool3d", lambda x: ember.nn.functional.max_pool3d(x.unsqueeze(2), (1, 2, 2))),
    ("avg_pool2d", lambda x: ember.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool3d_divisor", lambda x: ember.nn.functional.avg_pool3d(x.unsqueeze(2), (1, 2, 2), divisor_override=3)),
    ("lp_pool2d", lambda x: ember.nn.functional.lp_pool2d(x.abs() + 0.5, 2, 2)),
    ("adaptive_avg", lambda x: ember.nn.functional.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_max", lambda x: ember.nn.functional.adaptive_max_pool2d(x, (3, 2))),
    ("fractional_max", lambda x: ember.nn.functional.fractional_max_pool2d(
        x, 2, output_size=(3, 3), _random_samples=ember.tensor([[[0.3, 0.6], [0.1, 0.9]]], dtype=ember.float64))),
    ("max_unpool", lambda x: ember.nn.functional.max_unpool2d(*ember.nn.functional.max_pool2d(
        x, 2, return_indices=True), 2)),
]


@pytest.mark.parametrize("fn", [c[1] for c in GRADGRAD_CASES], ids=[c[0] for c in GRADGRAD_CASES])
def test_gradcheck_gradgradcheck(fn):
    x = ember.tensor(r(1, 2, 5, 6), requires_grad=True)
    assert ember.autograd.gradcheck(fn, [x])
    assert ember.autograd.gradgradcheck(fn, [x])


@pytest.mark.parametrize("pool", [
    lambda t, x: F(t).max_pool2d(x, 3, 2, 1),
    lambda t, x: F(t).avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda t, x: F(t).adaptive_avg_pool2d(x, (3, 4)),
    lambda t, x: F(t).adaptive_max_pool2d(x, 3),
    lambda t, x: F(t).lp_pool2d(x, 2, 2),
], ids=["max", "avg", "adaptive_avg", "adaptive_max", "lp"])
def test_gradient_penalty(pool):
    """Gradient of |d(loss)/dx|^2 through a conv + pooling + nonlinearity (create_graph), against torch."""
    x0, w0 = r(2, 2, 7, 8), r(3, 2, 2, 2, seed=1)

    def run(t):
        x = t.tensor(x0.copy(), requires_grad=True)
        w = t.tensor(w0.copy(), requires_grad=True)
        y = pool(t, F(t).conv2d(x, w, padding=1)).tanh().sum()
        g, = t.autograd.grad(y, x, create_graph=True)
        g.pow(2).sum().backward()
        return x.grad, w.grad
    e, t_ = run(ember), run(torch)
    for a, b in zip(e, t_):
        assert_same(a, b, dict(rtol=1e-9, atol=1e-10))


# ---- errors ----------------------------------------------------------------------------------------------------------
def z(t, *shape, dtype=None):
    return t.zeros(*shape, dtype=dtype or t.float32)


def idx(t, *shape, fill=0, dtype=None):
    return t.full(shape, fill, dtype=dtype or t.int64)


# exact message as torch's
ERROR_CASES = [
    ("max_rank_2d", lambda t: F(t).max_pool2d(z(t, 2, 2), 2)),
    ("max_rank_1d", lambda t: F(t).max_pool1d(z(t, 2), 2)),
    ("max_rank_3d", lambda t: F(t).max_pool3d(z(t, 2, 2, 2), 2)),
    ("max_pad_too_large", lambda t: F(t).max_pool2d(z(t, 1, 1, 9, 9), 3, padding=2)),
    ("max_pad_too_large_dilated", lambda t: F(t).max_pool2d(z(t, 1, 1, 9, 9), 3, dilation=2, padding=3)),
    ("max_pad_too_large_3d", lambda t: F(t).max_pool3d(z(t, 1, 1, 9, 9, 9), 3, padding=2)),
    ("max_output_too_small", lambda t: F(t).max_pool2d(z(t, 1, 1, 2, 2), 3)),
    ("max_output_too_small_3d", lambda t: F(t).max_pool3d(z(t, 1, 1, 2, 2, 2), 3)),
    ("max_output_too_small_1d_indices", lambda t: F(t).max_pool1d(z(t, 1, 1, 2), 3, return_indices=True)),
    ("max_empty_channels", lambda t: F(t).max_pool2d(z(t, 1, 0, 4, 4), 2)),
    ("max_empty_height", lambda t: F(t).max_pool2d(z(t, 1, 2, 0, 4), 2)),
    ("max_zero_stride", lambda t: F(t).max_pool2d(z(t, 1, 1, 4, 4), 2, stride=0)),
    ("max_zero_dilation", lambda t: F(t).max_pool2d(z(t, 1, 1, 4, 4), 2, dilation=0)),
    ("max_negative_padding", lambda t: F(t).max_pool2d(z(t, 1, 2, 4, 4), 2, padding=-1)),
    ("max_kernel_three_values", lambda t: F(t).max_pool2d(z(t, 1, 2, 4, 4), (2, 2, 2))),
    ("avg_pad_too_large", lambda t: F(t).avg_pool2d(z(t, 1, 1, 9, 9), 3, padding=2)),
    ("avg_pad_too_large_1d", lambda t: F(t).avg_pool1d(z(t, 1, 1, 9), 3, padding=2)),
    ("avg_pad_too_large_3d", lambda t: F(t).avg_pool3d(z(t, 1, 1, 9, 9, 9), 3, padding=2)),
    ("avg_output_too_small", lambda t: F(t).avg_pool2d(z(t, 1, 1, 2, 2), 3)),
    ("avg_output_too_small_1d", lambda t: F(t).avg_pool1d(z(t, 1, 1, 2), 3)),
    ("avg_rank_3d", lambda t: F(t).avg_pool3d(z(t, 2, 2, 2), 2)),
    ("avg_rank_1d", lambda t: F(t).avg_pool1d(z(t, 2), 2)),
    ("avg_empty_channels", lambda t: F(t).avg_pool2d(z(t, 1, 0, 4, 4), 2)),
    ("avg_zero_stride", lambda t: F(t).avg_pool2d(z(t, 1, 1, 4, 4), 2, stride=0)),
    ("avg_zero_divisor", lambda t: F(t).avg_pool2d(z(t, 1, 2, 4, 4), 2, divisor_override=0)),
    ("avg_kernel_three_values", lambda t: F(t).avg_pool2d(z(t, 1, 2, 4, 4), (2, 2, 2))),
    ("lp_output_too_small", lambda t: F(t).lp_pool2d(z(t, 1, 1, 4, 4), 2, 5)),
    ("adaptive_max_rank", lambda t: F(t).adaptive_max_pool2d(z(t, 4, 4), 2)),
    ("adaptive_avg_rank", lambda t: F(t).adaptive_avg_pool2d(z(t, 4, 4), 2)),
    ("adaptive_avg_rank_1d", lambda t: F(t).adaptive_avg_pool1d(z(t, 4), 2)),
    ("adaptive_avg_empty", lambda t: F(t).adaptive_avg_pool2d(z(t, 1, 2, 0, 4), 2)),
    ("adaptive_max_empty", lambda t: F(t).adaptive_max_pool2d(z(t, 1, 2, 0, 4), 2)),
    ("adaptive_avg_size_length", lambda t: F(t).adaptive_avg_pool2d(z(t, 1, 2, 4, 4), (2, 2, 2))),
    ("adaptive_avg_negative_size", lambda t: F(t).adaptive_avg_pool2d(z(t, 1, 2, 4, 4), -1)),
    ("fractional_pool_too_large", lambda t: F(t).fractional_max_pool2d(z(t, 1, 2, 5, 5), 3, output_size=4)),
    ("fractional_pool_too_large_3d", lambda t: F(t).fractional_max_pool3d(z(t, 1, 2, 5, 5, 5), 3, output_size=4)),
    ("fractional_no_size", lambda t: F(t).fractional_max_pool2d(z(t, 1, 2, 5, 5), 2)),
    ("fractional_ratio_scalar_2d", lambda t: F(t).fractional_max_pool2d(z(t, 1, 2, 5, 5), 2, output_ratio=0.5)),
    ("fractional_ratio_three", lambda t: F(t).fractional_max_pool2d(z(t, 1, 2, 5, 5), 2, output_ratio=(0.5,) * 3)),
    ("fractional_pool_too_wide", lambda t: F(t).fractional_max_pool2d(z(t, 1, 2, 6, 5), (2, 3), output_size=(3, 4))),
    ("fractional_pool_too_high_3d", lambda t: F(t).fractional_max_pool3d(z(t, 1, 2, 6, 5, 5), (2, 3, 2),
                                                                         output_size=(3, 4, 2))),
    ("fractional_rank", lambda t: F(t).fractional_max_pool2d(z(t, 1, 1, 2, 5, 5), 2, output_size=2)),
    ("fractional_empty_channels", lambda t: F(t).fractional_max_pool2d(z(t, 1, 0, 5, 5), 2, output_size=2)),
    ("fractional_samples_batch", lambda t: F(t).fractional_max_pool2d(z(t, 2, 2, 5, 5), 2, output_size=3,
                                                                      _random_samples=t.rand(1, 2, 2))),
    ("fractional_samples_last_dim", lambda t: F(t).fractional_max_pool2d(z(t, 1, 2, 5, 5), 2, output_size=3,
                                                                         _random_samples=t.rand(1, 2, 3))),
    ("fractional_samples_channels", lambda t: F(t).fractional_max_pool2d(
        z(t, 1, 2, 5, 5), 2, output_size=3, _random_samples=t.rand(1, 3, 2))),
    ("fractional_module_both", lambda t: t.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)),
    ("fractional_module_none", lambda t: t.nn.FractionalMaxPool2d(2)),
    ("fractional_module_ratio", lambda t: t.nn.FractionalMaxPool2d(2, output_ratio=1.5)),
    ("unpool_output_size_range", lambda t: F(t).max_unpool2d(z(t, 1, 1, 2, 2), idx(t, 1, 1, 2, 2), 2,
                                                            output_size=(9, 9))),
    ("unpool_output_size_length", lambda t: F(t).max_unpool2d(z(t, 1, 1, 2, 2), idx(t, 1, 1, 2, 2), 2,
                                                             output_size=(4, 4, 4))),
    ("unpool_index_too_large", lambda t: F(t).max_unpool2d(z(t, 1, 1, 2, 2), idx(t, 1, 1, 2, 2, fill=16), 2)),
    ("unpool_index_negative", lambda t: F(t).max_unpool2d(z(t, 1, 1, 2, 2), idx(t, 1, 1, 2, 2, fill=-1), 2)),
    ("unpool_index_too_large_3d", lambda t: F(t).max_unpool3d(z(t, 1, 1, 2, 2, 2), idx(t, 1, 1, 2, 2, 2, fill=64),
                                                             2)),
    ("unpool_index_dtype", lambda t: F(t).max_unpool2d(z(t, 1, 1, 2, 2), idx(t, 1, 1, 2, 2, dtype=t.int32), 2)),
    ("unpool_index_shape", lambda t: F(t).max_unpool2d(z(t, 1, 1, 2, 2), idx(t, 1, 1, 2, 3), 2)),
    ("unpool_rank", lambda t: F(t).max_unpool2d(z(t, 2, 2), idx(t, 2, 2), 2)),
    ("unpool_rank_1d", lambda t: F(t).max_unpool1d(z(t, 2), idx(t, 2), 2)),
]


@pytest.mark.parametrize("fn", [c[1] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors(fn):
    same_error(fn)


# ---- fast paths: global/long/overlapping adaptive windows, values-only max pooling, non-finite data ------------------
def nonfinite(*shape, seed=0):
    """Normal data with NaN, +-inf and huge values sprinkled in (each plane keeps some finite values)."""
    a = r(*shape, seed=seed) * 1e30
    flat = a.reshape(-1)
    rng = np.random.default_rng(seed + 1)
    for v in (np.nan, np.inf, -np.inf, np.nan):
        flat[rng.integers(0, flat.size, max(1, flat.size // 12))] = v
    return a


FAST_ADAPTIVE_CASES = [  # (id, fn name, input shape, output size)
    ("global_2d", "adaptive_avg_pool2d", (2, 3, 5, 7), 1),
    ("global_3d", "adaptive_avg_pool3d", (2, 2, 3, 4, 5), 1),
    ("global_1d", "adaptive_avg_pool1d", (2, 3, 37), 1),
    ("shrink_long_runs_1d", "adaptive_avg_pool1d", (2, 3, 70), 4),
    ("shrink_rows_2d", "adaptive_avg_pool2d", (2, 3, 11, 6), (4, 6)),
    ("shrink_both_3d", "adaptive_avg_pool3d", (1, 2, 9, 7, 40), (4, 3, 2)),
    ("grow_and_shrink", "adaptive_avg_pool2d", (2, 3, 3, 40), (5, 3)),
    ("max_global_2d", "adaptive_max_pool2d", (2, 3, 5, 7), 1),
    ("max_long_windows_1d", "adaptive_max_pool1d", (2, 3, 40), 2),
    ("max_long_overlapping_1d", "adaptive_max_pool1d", (2, 3, 41), 3),
    ("max_long_rows_2d", "adaptive_max_pool2d", (2, 2, 34, 5), (2, 3)),
    ("max_3d", "adaptive_max_pool3d", (1, 2, 5, 6, 7), (2, 3, 4)),
]


@pytest.mark.parametrize("data", [r, ties, nonfinite], ids=["normal", "ties", "nonfinite"])
@pytest.mark.parametrize("name,shape,size", [c[1:] for c in FAST_ADAPTIVE_CASES],
                         ids=[c[0] for c in FAST_ADAPTIVE_CASES])
def test_adaptive_fast_paths(name, shape, size, data):
    kw = dict(return_indices=True) if "max" in name else {}
    check(call(name, size, **kw), [data(*shape)], dtypes=F64_32)


def test_adaptive_fast_paths_noncontiguous_and_gradgrad():
    check(lambda t, x: F(t).adaptive_avg_pool2d(x.transpose(2, 3), 1), [r(2, 3, 6, 5)], dtypes=F64_32)
    check(lambda t, x: F(t).adaptive_max_pool1d(x[..., ::2], 2, return_indices=True), [r(2, 3, 80)])
    x = ember.tensor(r(1, 2, 3, 40), requires_grad=True)
    for fn in (lambda x: ember.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
               lambda x: ember.nn.functional.adaptive_avg_pool2d(x, 1),
               lambda x: ember.nn.functional.adaptive_max_pool2d(x, (1, 2))):
        assert ember.autograd.gradgradcheck(fn, [x])


@pytest.mark.parametrize("name", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_adaptive_integer_input_rejected(name):
    check_raises(lambda t: getattr(F(t), name)(t.ones(1, 2, 4, 4, dtype=t.int64), 2), RuntimeError,
                 "not implemented for 'Long'")


VALUES_ONLY_CASES = [  # max pooling of inputs that need no gradient: values straight from the unpadded input
    ("1d_pad", "max_pool1d", (2, 3, 11), (3, 2, 1), {}),
    ("1d_dilation_ceil", "max_pool1d", (2, 3, 11), (3, 2, 1), dict(dilation=2, ceil_mode=True)),
    ("2d_pad_ceil", "max_pool2d", (2, 3, 7, 8), (3, 2, 1), dict(ceil_mode=True)),
    ("2d_dilation", "max_pool2d", (2, 3, 9, 9), (2, 1, 1), dict(dilation=3)),
    ("3d", "max_pool3d", (1, 2, 5, 6, 7), (2, 2, 1), {}),
    ("2d_unbatched", "max_pool2d", (3, 6, 5), (2,), {}),
    # output rows of 64 or more: the input is split into stride phases along its last dim first
    ("1d_phases", "max_pool1d", (2, 3, 140), (3, 2, 1), {}),
    ("1d_phases_dilation_ceil", "max_pool1d", (2, 3, 200), (4, 3, 2), dict(dilation=2, ceil_mode=True)),
    ("2d_phases_ceil", "max_pool2d", (1, 2, 5, 151), (3, 2, 1), dict(ceil_mode=True)),
    ("3d_phases", "max_pool3d", (1, 1, 3, 4, 130), (2, 2), {}),
]


@pytest.mark.parametrize("data", [r, nonfinite], ids=["normal", "nonfinite"])
@pytest.mark.parametrize("name,shape,args,kw", [c[1:] for c in VALUES_ONLY_CASES],
                         ids=[c[0] for c in VALUES_ONLY_CASES])
def test_max_pool_values_only(name, shape, args, kw, data):
    check(call(name, *args, **kw), [data(*shape)], dtypes=F64_32, grad=False)
    check(lambda t, x: call(name, *args, **kw)(t, x.expand(2, *x.shape[1:])), [data(1, *shape[1:])], grad=False)


def test_max_pool_values_only_all_neg_inf_and_ints():
    check(call("max_pool2d", 3, 2, 1), [np.full((1, 2, 5, 5), -np.inf)], grad=False)
    check(call("max_pool2d", 3, 2, 1), [np.random.default_rng(0).integers(-9, 9, (2, 3, 9, 7))], grad=False)
    check(call("max_pool2d", 2), [np.zeros((0, 2, 4, 4))], grad=False)


def test_fractional_max_pool_nonfinite():
    samples = np.random.default_rng(3).random((2, 3, 2))
    check(lambda t, x, s: F(t).fractional_max_pool2d(x, 2, output_size=(4, 3), _random_samples=s,
                                                     return_indices=True),
          [nonfinite(2, 3, 9, 8), samples], dtypes=F64_32, grad_inputs=[0])
