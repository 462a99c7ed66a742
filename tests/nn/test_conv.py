"""Convolution against torch: F.conv1d/2d/3d and F.conv_transpose1d/2d/3d for every option, the Conv and
ConvTranspose modules (padding modes, output_size=), Lazy convs, default initialisation, reprs, double backward and
torch's errors."""
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from ember.ops import conv as conv_ops
from parity import _table, assert_same, check, check_raises
from .nnparity import same, same_error, sync

F32 = dict(rtol=1e-4, atol=1e-5)  # float32 convs are long sums: summation order differs from torch's kernels
F32_LONG = dict(rtol=1e-3, atol=1e-3)  # weight gradients summed over ~30k positions (torch's own error: ~5e-4)


def r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def check_both(fn, inputs, tol32=F32, **kw):
    """float64 with parity's tight tolerance, float32 with the summation tolerance."""
    check(fn, inputs, dtypes=["float64"], **kw)
    check(fn, inputs, dtypes=["float32"], tol=tol32, **kw)


def conv_fn(name, **kw):
    """fn(lib, x, w[, b]) calling F.<name> with kw."""
    def fn(t, x, w, *b):
        return getattr(t.nn.functional, name)(x, w, b[0] if b else None, **kw)
    return fn


# ---- F.conv1d/2d/3d ---------------------------------------------------------------------------------------------
# (id, fn name, input shape, weight shape, bias, kwargs)
CONV_CASES = [
    ("1d_basic", "conv1d", (2, 4, 11), (5, 4, 3), True, {}),
    ("1d_stride_pad_int", "conv1d", (2, 4, 11), (5, 4, 3), True, dict(stride=2, padding=1)),
    ("1d_tuple_args", "conv1d", (2, 4, 13), (5, 4, 3), True, dict(stride=(3,), padding=(2,), dilation=(2,))),
    ("1d_same_odd", "conv1d", (3, 4, 11), (5, 4, 3), True, dict(padding="same")),
    ("1d_same_even_kernel", "conv1d", (2, 4, 9), (3, 4, 4), True, dict(padding="same")),
    ("1d_same_dilated", "conv1d", (2, 4, 9), (3, 4, 3), False, dict(padding="same", dilation=3)),
    ("1d_same_even_dilated", "conv1d", (2, 4, 12), (3, 4, 4), True, dict(padding="same", dilation=(3,))),
    ("1d_valid", "conv1d", (2, 4, 9), (3, 4, 4), True, dict(padding="valid", stride=2)),
    ("1d_groups", "conv1d", (2, 6, 10), (9, 2, 3), True, dict(groups=3)),
    ("1d_depthwise", "conv1d", (2, 4, 10), (4, 1, 3), True, dict(groups=4, padding=1)),
    ("1d_depthwise_multiplier", "conv1d", (2, 4, 10), (8, 1, 3), False, dict(groups=4, stride=2)),
    ("1d_unbatched", "conv1d", (4, 11), (5, 4, 3), True, dict(padding=2)),
    ("1d_no_bias", "conv1d", (2, 4, 11), (5, 4, 3), False, dict(dilation=2)),
    ("1d_kernel_1", "conv1d", (2, 4, 7), (6, 4, 1), True, {}),
    ("1d_stride_gt_kernel", "conv1d", (2, 3, 12), (2, 3, 2), True, dict(stride=3)),
    ("1d_kernel_fills_input", "conv1d", (2, 3, 5), (2, 3, 5), True, {}),
    ("1d_empty_batch", "conv1d", (0, 4, 11), (5, 4, 3), True, dict(padding=1)),
    ("2d_basic", "conv2d", (2, 3, 7, 8), (4, 3, 3, 3), True, {}),
    ("2d_everything", "conv2d", (2, 4, 9, 8), (6, 2, 3, 2), True,
     dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)),
    ("2d_int_args", "conv2d", (2, 3, 9, 8), (4, 3, 3, 3), True, dict(stride=2, padding=2, dilation=2)),
    ("2d_same", "conv2d", (2, 3, 6, 7), (4, 3, 3, 5), True, dict(padding="same")),
    ("2d_same_even_dilated", "conv2d", (2, 3, 8, 7), (4, 3, 4, 2), True, dict(padding="same", dilation=(1, 2))),
    ("2d_valid", "conv2d", (2, 3, 6, 7), (4, 3, 3, 2), False, dict(padding="valid")),
    ("2d_groups_stride", "conv2d", (2, 6, 8, 8), (4, 3, 3, 3), True, dict(groups=2, stride=(1, 3))),
    ("2d_depthwise", "conv2d", (2, 5, 7, 6), (5, 1, 3, 3), True, dict(groups=5, padding=1)),
    ("2d_depthwise_multiplier", "conv2d", (2, 3, 7, 6), (6, 1, 2, 3), True, dict(groups=3, dilation=2)),
    ("2d_unbatched", "conv2d", (3, 7, 8), (4, 3, 3, 3), True, dict(padding=(0, 1))),
    ("2d_unbatched_same", "conv2d", (3, 5, 6), (4, 3, 2, 2), False, dict(padding="same")),
    ("2d_no_bias", "conv2d", (2, 3, 7, 8), (4, 3, 2, 3), False, dict(stride=(2, 2))),
    ("2d_1x1", "conv2d", (2, 5, 4, 3), (7, 5, 1, 1), True, {}),
    ("2d_1x1_strided", "conv2d", (2, 5, 5, 6), (3, 5, 1, 1), True, dict(stride=2)),
    ("2d_pad_larger_than_kernel", "conv2d", (1, 2, 3, 3), (2, 2, 2, 2), True, dict(padding=3)),
    ("2d_empty_batch", "conv2d", (0, 3, 7, 8), (4, 3, 3, 3), True, {}),
    ("2d_single_channel", "conv2d", (3, 1, 6, 6), (1, 1, 3, 3), True, dict(stride=2, padding=1)),
    ("3d_basic", "conv3d", (2, 2, 4, 5, 6), (3, 2, 2, 3, 2), True, dict(stride=(1, 2, 1), padding=1)),
    ("3d_same_dilated", "conv3d", (1, 2, 5, 4, 6), (3, 2, 3, 2, 3), True, dict(padding="same", dilation=2)),
    ("3d_groups_dilation", "conv3d", (2, 4, 5, 6, 5), (4, 2, 2, 2, 2), True,
     dict(groups=2, dilation=(1, 2, 1), stride=2)),
    ("3d_depthwise", "conv3d", (1, 3, 4, 4, 4), (3, 1, 3, 3, 3), False, dict(groups=3, padding=(1, 0, 1))),
    ("3d_unbatched", "conv3d", (2, 4, 5, 3), (3, 2, 2, 2, 3), True, dict(padding="valid")),
    ("3d_empty_batch", "conv3d", (0, 2, 4, 5, 3), (3, 2, 2, 2, 3), True, {}),
]


def _inputs(xs, ws, bias, seed=0):
    out = [r(*xs, seed=seed), r(*ws, seed=seed + 1)]
    if bias:
        out.append(r(ws[0], seed=seed + 2))
    return out


@pytest.mark.parametrize("name,xs,ws,bias,kw", [c[1:] for c in CONV_CASES], ids=[c[0] for c in CONV_CASES])
def test_conv(name, xs, ws, bias, kw):
    check_both(conv_fn(name, **kw), _inputs(xs, ws, bias))


# ---- F.conv_transpose1d/2d/3d -----------------------------------------------------------------------------------
# weight is (C_in, C_out / groups, *kernel); bias has C_out elements
TRANSPOSE_CASES = [
    ("t1d_basic", "conv_transpose1d", (2, 4, 7), (4, 3, 3), True, {}),
    ("t1d_stride_pad_outpad", "conv_transpose1d", (2, 4, 7), (4, 3, 3), True,
     dict(stride=2, padding=1, output_padding=1)),
    ("t1d_dilation_outpad", "conv_transpose1d", (2, 4, 6), (4, 2, 3), True, dict(dilation=2, output_padding=1)),
    ("t1d_tuple_args", "conv_transpose1d", (2, 4, 6), (4, 2, 2), True,
     dict(stride=(3,), padding=(1,), output_padding=(2,), dilation=(1,))),
    ("t1d_groups", "conv_transpose1d", (2, 6, 5), (6, 2, 3), True, dict(groups=3, stride=2)),
    ("t1d_depthwise", "conv_transpose1d", (2, 4, 5), (4, 1, 3), True, dict(groups=4, padding=1)),
    ("t1d_unbatched", "conv_transpose1d", (4, 7), (4, 3, 3), True, dict(stride=2)),
    ("t1d_no_bias", "conv_transpose1d", (2, 4, 7), (4, 3, 4), False, dict(stride=3, padding=2)),
    ("t1d_empty_batch", "conv_transpose1d", (0, 4, 7), (4, 3, 3), True, {}),
    ("t2d_basic", "conv_transpose2d", (2, 3, 5, 4), (3, 4, 3, 3), True, {}),
    ("t2d_stride_pad_outpad", "conv_transpose2d", (2, 4, 9, 8), (4, 3, 3, 2), True,
     dict(stride=2, padding=1, output_padding=1)),
    ("t2d_groups_dilation", "conv_transpose2d", (2, 4, 5, 4), (4, 2, 3, 3), False,
     dict(stride=(2, 3), groups=2, dilation=2)),
    ("t2d_tuple_outpad", "conv_transpose2d", (2, 3, 4, 5), (3, 2, 2, 3), True,
     dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0))),
    ("t2d_outpad_from_dilation", "conv_transpose2d", (1, 2, 4, 4), (2, 2, 3, 3), True,
     dict(dilation=(2, 3), output_padding=(1, 2))),
    ("t2d_depthwise_multiplier", "conv_transpose2d", (2, 3, 4, 4), (3, 2, 3, 3), True, dict(groups=3, stride=2)),
    ("t2d_unbatched", "conv_transpose2d", (3, 5, 4), (3, 4, 2, 2), True, dict(stride=2, padding=1)),
    ("t2d_1x1", "conv_transpose2d", (2, 5, 3, 4), (5, 2, 1, 1), True, {}),
    ("t2d_kernel_4_stride_2", "conv_transpose2d", (2, 4, 5, 5), (4, 3, 4, 4), True, dict(stride=2, padding=1)),
    ("t2d_empty_batch", "conv_transpose2d", (0, 3, 5, 4), (3, 4, 3, 3), True, {}),
    ("t3d_basic", "conv_transpose3d", (2, 2, 3, 4, 3), (2, 3, 2, 2, 3), True, {}),
    ("t3d_stride_pad_outpad", "conv_transpose3d", (1, 2, 3, 3, 4), (2, 2, 3, 3, 2), True,
     dict(stride=2, padding=1, output_padding=(1, 0, 1))),
    ("t3d_groups", "conv_transpose3d", (2, 4, 3, 2, 3), (4, 1, 2, 3, 2), False, dict(groups=2, dilation=(2, 1, 1))),
    ("t3d_unbatched", "conv_transpose3d", (2, 3, 3, 2), (2, 3, 2, 2, 2), True, dict(stride=(1, 2, 1))),
]


def _t_inputs(xs, ws, groups, bias, seed=0):
    out = [r(*xs, seed=seed), r(*ws, seed=seed + 1)]
    if bias:
        out.append(r(ws[1] * groups, seed=seed + 2))
    return out


@pytest.mark.parametrize("name,xs,ws,bias,kw", [c[1:] for c in TRANSPOSE_CASES], ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose(name, xs, ws, bias, kw):
    check_both(conv_fn(name, **kw), _t_inputs(xs, ws, kw.get("groups", 1), bias))


# ---- complex inputs: values and torch's conjugate gradient convention (g * conj(derivative)) -------------------
def _complex_parity(fn, arrays):
    """fn(lib, *tensors) on complex128 versions of arrays: outputs, then input gradients from a complex upstream."""
    zs = [a + 1j * r(*a.shape, seed=50 + k) for k, a in enumerate(arrays)]
    res = []
    for lib in (ember, torch):
        ts = [lib.tensor(z, requires_grad=True) for z in zs]
        out = fn(lib, *ts)
        g = r(*out.shape, seed=60) - 1j * r(*out.shape, seed=61)
        out.backward(lib.tensor(g))
        res.append([out.detach()] + [t.grad for t in ts])
    for k, (e, t) in enumerate(zip(*res)):
        assert_same(e, t, what="output" if k == 0 else f"grad of input {k - 1}")


COMPLEX_CASES = [c for c in CONV_CASES + TRANSPOSE_CASES if "empty" not in c[0]]


@pytest.mark.parametrize("name,xs,ws,bias,kw", [c[1:] for c in COMPLEX_CASES], ids=[c[0] for c in COMPLEX_CASES])
def test_conv_complex(name, xs, ws, bias, kw):
    inputs = _t_inputs(xs, ws, kw.get("groups", 1), bias) if "transpose" in name else _inputs(xs, ws, bias)
    _complex_parity(conv_fn(name, **kw), inputs)


# ---- non-contiguous inputs and weights (the views are taken inside, so gradients flow through them) -------------
F = lambda t: t.nn.functional  # noqa: E731
NONCONTIG_CASES = [
    ("conv2d_transposed_input", lambda t, x, w, b: F(t).conv2d(x.transpose(2, 3), w, b, padding=1),
     [r(2, 3, 8, 7), r(4, 3, 3, 3, seed=1), r(4, seed=2)]),
    ("conv2d_channels_last", lambda t, x, w, b: F(t).conv2d(x.permute(0, 3, 1, 2), w, b, stride=2),
     [r(2, 7, 8, 3), r(4, 3, 3, 3, seed=1), r(4, seed=2)]),
    ("conv2d_strided_slice", lambda t, x, w: F(t).conv2d(x[:, ::2, 1:, ::2], w, groups=2),
     [r(2, 8, 9, 12), r(4, 2, 3, 3, seed=1)]),
    ("conv2d_transposed_weight", lambda t, x, w, b: F(t).conv2d(x, w.transpose(2, 3), b),
     [r(2, 3, 7, 8), r(4, 3, 2, 3, seed=1), r(4, seed=2)]),
    ("conv2d_weight_permuted", lambda t, x, w: F(t).conv2d(x, w.permute(1, 0, 2, 3)),
     [r(2, 3, 7, 8), r(3, 4, 3, 3, seed=1)]),
    ("conv2d_strided_bias", lambda t, x, w, b: F(t).conv2d(x, w, b[::2]),
     [r(2, 3, 7, 8), r(4, 3, 3, 3, seed=1), r(8, seed=2)]),
    ("conv1d_transposed", lambda t, x, w: F(t).conv1d(x.transpose(1, 2), w, padding="same"),
     [r(2, 9, 4), r(5, 4, 3, seed=1)]),
    ("conv3d_strided", lambda t, x, w: F(t).conv3d(x[..., ::2], w, padding=1),
     [r(1, 2, 4, 4, 8), r(3, 2, 3, 3, 3, seed=1)]),
    ("conv_transpose2d_transposed", lambda t, x, w, b: F(t).conv_transpose2d(x.transpose(2, 3), w, b, stride=2),
     [r(2, 3, 5, 4), r(3, 4, 3, 3, seed=1), r(4, seed=2)]),
    ("conv_transpose1d_strided_weight", lambda t, x, w: F(t).conv_transpose1d(x, w[:, ::2], stride=2, groups=2),
     [r(2, 4, 6), r(4, 6, 3, seed=1)]),
    ("conv2d_expanded_input", lambda t, x, w: F(t).conv2d(x.expand(3, 2, 6, 6), w, padding=1),
     [r(1, 2, 6, 6), r(4, 2, 3, 3, seed=1)]),
]


@pytest.mark.parametrize("fn,inputs", [c[1:] for c in NONCONTIG_CASES], ids=[c[0] for c in NONCONTIG_CASES])
def test_conv_noncontiguous(fn, inputs):
    check_both(fn, inputs)


def test_conv_integer_dtype():
    """torch convolves int64 tensors on CPU; ember gives the same integers (no float round trip)."""
    x = np.random.default_rng(0).integers(-5, 5, (2, 3, 6, 5))
    w = np.random.default_rng(1).integers(-3, 3, (4, 3, 3, 2))
    b = np.random.default_rng(2).integers(-3, 3, (4,))
    check(lambda t, x, w, b: F(t).conv2d(x, w, b, padding=1, stride=(2, 1)), [x, w, b], grad=False)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), g=st.integers(1, 2), o=st.integers(1, 3),
       h=st.integers(1, 7), w=st.integers(1, 7), k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), transposed=st.booleans())
def test_conv2d_random_geometry(n, c, g, o, h, w, k, s, p, d, transposed):
    """Random shapes and arguments: same values and gradients as torch, or the same exception class."""
    xs = (n, c * g, h, w)
    if transposed:
        op = (min(s[0], d[0]) - 1, min(s[1], d[1]) - 1)
        fn = conv_fn("conv_transpose2d", stride=s, padding=p, dilation=d, groups=g, output_padding=op)
        inputs = [r(*xs), r(c * g, o, *k, seed=1), r(o * g, seed=2)]
    else:
        fn = conv_fn("conv2d", stride=s, padding=p, dilation=d, groups=g)
        inputs = [r(*xs), r(o * g, c, *k, seed=1), r(o * g, seed=2)]
    try:
        fn(torch, *[torch.from_numpy(a) for a in inputs])
    except RuntimeError:
        check_raises(lambda t: fn(t, *[t.from_numpy(a.copy()) for a in inputs]), RuntimeError)
        return
    check(fn, inputs, dtypes=["float64"])


# ---- the fast paths of ember/ops/conv.py, each asserted taken by a spy -----------------------------------------------
@pytest.fixture
def conv_paths(monkeypatch):
    """The set of ember.ops.conv code paths that ran, as tags (recorded by wrapping its functions):
    shifted       ConvNd ran _ShiftedRows (one GEMM per kernel row): 2-d, groups 1, stride 1, kernel > 1x1, output
                  width > 16, finite x and weight, unblocked columns (r == 1; always so with >= 13 output channels)
    blocked       ConvNd's columns are shared by r > 1 neighbouring outputs (few output channels, _block_factor)
    batch_last    the columns run over (positions, batch): batch > 1 and output rows (per block) of at most 16
    phased        the last dim is read (conv) or accumulated (conv_transpose) split into stride phases
    staged        a transposing copy went through a padded staging buffer (a power-of-two byte stride)
    shifted_xgrad the input gradient ran as a _ShiftedRows convolution (_shifted_input_grad)
    conv_xgrad    the input gradient ran as a columns convolution (_unit_stride_input_grad); with neither, col2im
    gw_swapped    a weight gradient GEMM ran as (cols @ g^T)^T (_swapped_weight_grad)
    """
    seen = set()

    def record(cls):
        forward = cls.forward

        def spy(ctx, *args):
            out = forward(ctx, *args)
            plan = ctx.plan
            seen.update(tag for tag, on in (("shifted", getattr(ctx, "rows", None) is not None),
                                            ("blocked", plan.r > 1), ("batch_last", plan.batch_last),
                                            ("phased", plan.phase > 1)) if on)
            return out
        monkeypatch.setattr(cls, "forward", staticmethod(spy))

    def flag(name, tag, when=lambda out: True):
        fn = getattr(conv_ops, name)

        def spy(*args, **kw):
            out = fn(*args, **kw)
            if when(out):
                seen.add(tag)
            return out
        monkeypatch.setattr(conv_ops, name, spy)

    record(conv_ops.ConvNd)
    record(conv_ops.ConvTransposeNd)
    flag("_shifted_input_grad", "shifted_xgrad")
    flag("_unit_stride_input_grad", "conv_xgrad")
    flag("_aliasing", "staged", bool)
    flag("_swapped_weight_grad", "gw_swapped", bool)
    return seen


def assert_paths(seen, tags):
    """Every tag in the space-separated `tags` was seen; every "!tag" was not."""
    for tag in tags.split():
        if tag.startswith("!"):
            assert tag[1:] not in seen, f"path {tag[1:]!r} taken (paths: {sorted(seen)})"
        else:
            assert tag in seen, f"path {tag!r} not taken (paths: {sorted(seen)})"


def _conv_call(name, xs, ws, bias=True, view=None, **kw):
    """fn(lib, x, w[, b]) = F.<name>(view(x), w, b, **kw), and random inputs of shapes xs, ws (bias sized for name)."""
    def fn(t, x, w, *b):
        return getattr(t.nn.functional, name)(view(x) if view else x, w, b[0] if b else None, **kw)
    nb = ws[1] * kw.get("groups", 1) if "transpose" in name else ws[0]
    return fn, [r(*xs), r(*ws, seed=1)] + ([r(nb, seed=2)] if bias else [])


def path_case(case_id, name, xs, ws, tags="", grad_inputs=None, tol32=F32, **kw):
    """A PATH_CASES row (kw: bias, view and F.<name>'s keywords)."""
    return (case_id, *_conv_call(name, xs, ws, **kw), tags, grad_inputs, tol32)


PATH_CASES = [
    # _ShiftedRows (see conv_paths for the condition). Its "no column blocks" part (r == 1) holds for >= 13 output
    # channels (_block_factor then has no room: 13 * 2 > MAX_BLOCK_ROWS), a kernel width of 1, or an output width
    # with no block factor; grouped convolutions never take the path (rows "groups_*" check they stay correct)
    path_case("rows_basic", "conv2d", (2, 3, 5, 20), (13, 3, 3, 3), padding=1, tags="shifted !conv_xgrad"),
    path_case("rows_input_grad_shifted", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), padding=1,
              tags="shifted shifted_xgrad"),
    path_case("rows_width_17", "conv2d", (2, 16, 4, 19), (16, 16, 3, 3), padding=(1, 0), tags="shifted shifted_xgrad"),
    path_case("rows_width_16_not_taken", "conv2d", (2, 8, 4, 18), (16, 8, 3, 3), tags="!shifted batch_last"),
    path_case("rows_dilation_asym_pad", "conv2d", (2, 8, 7, 22), (16, 8, 2, 4), padding=(3, 5), dilation=(2, 3),
              tags="shifted shifted_xgrad"),
    path_case("rows_padding_beyond_kernel", "conv2d", (1, 8, 3, 18), (14, 8, 3, 2), padding=(4, 6), bias=False,
              tags="shifted shifted_xgrad"),
    path_case("rows_same_even_kernel", "conv2d", (2, 4, 6, 21), (13, 4, 2, 4), padding="same", dilation=(1, 2),
              tags="shifted"),
    path_case("rows_kernel_row", "conv2d", (2, 5, 4, 19), (13, 5, 1, 5), padding=(0, 2), bias=False, tags="shifted"),
    path_case("rows_kernel_column_few_outputs", "conv2d", (2, 3, 6, 20), (2, 3, 3, 1), padding=(1, 0),
              tags="shifted !blocked"),
    path_case("rows_odd_width_few_outputs", "conv2d", (2, 3, 5, 19), (6, 3, 3, 3), padding=(0, 0),
              tags="shifted !blocked"),
    path_case("rows_unbatched", "conv2d", (3, 5, 20), (13, 3, 3, 3), padding=1, tags="shifted"),
    path_case("rows_weight_only", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), padding=1, grad_inputs=[1, 2],
              tags="shifted !shifted_xgrad"),
    path_case("rows_transposed_input", "conv2d", (2, 4, 20, 6), (13, 4, 3, 3), padding=1,
              view=lambda x: x.transpose(2, 3), tags="shifted"),
    path_case("rows_channels_last", "conv2d", (2, 5, 18, 8), (16, 8, 3, 2), padding=(2, 1),
              view=lambda x: x.permute(0, 3, 1, 2), tags="shifted shifted_xgrad"),
    path_case("rows_strided_slice", "conv2d", (2, 6, 9, 44), (13, 3, 3, 3), padding=(1, 0),
              view=lambda x: x[:, ::2, ::2, 3:], tags="shifted"),
    path_case("groups_wide_padded_not_rows", "conv2d", (2, 8, 5, 20), (14, 4, 3, 3), padding=1, groups=2,
              tags="!shifted !blocked conv_xgrad"),
    path_case("groups_wide_unpadded_not_rows", "conv2d", (2, 8, 4, 20), (16, 2, 2, 3), groups=4,
              tags="!shifted !blocked"),
    path_case("rows_weight_grad_swapped", "conv2d", (2, 16, 16, 34), (13, 16, 3, 3), padding=1,
              tags="shifted gw_swapped"),
    path_case("rows_batch32_32x32", "conv2d", (32, 3, 32, 32), (16, 3, 3, 3), padding=1, tol32=F32_LONG,
              tags="shifted"),
    path_case("columns_weight_grad_swapped", "conv2d", (8, 6, 14, 14), (16, 6, 5, 5), tags="!shifted gw_swapped"),
    path_case("groups_weight_grad_swapped", "conv2d", (2, 8, 20, 20), (4, 4, 3, 3), groups=2, tags="gw_swapped"),
    path_case("short_rows_weight_grad_not_swapped", "conv2d", (2, 6, 8, 8), (16, 6, 3, 3), tags="!gw_swapped"),
    # blocked columns: few output channels share one column across r neighbouring outputs
    path_case("blocked_3to6", "conv2d", (2, 3, 6, 24), (6, 3, 3, 3), padding=1, tags="blocked conv_xgrad"),
    path_case("blocked_3to6_long_rows", "conv2d", (1, 3, 3, 72), (6, 3, 3, 3), padding=(1, 1),
              tags="blocked !batch_last"),
    path_case("blocked_1to4", "conv2d", (2, 1, 5, 40), (4, 1, 3, 3), tags="blocked"),
    path_case("blocked_1to4_weight_only", "conv2d", (2, 1, 5, 40), (4, 1, 3, 3), padding=2, grad_inputs=[1, 2],
              tags="blocked !conv_xgrad"),
    path_case("blocked_stride2_k5", "conv2d", (2, 3, 6, 40), (4, 3, 3, 5), stride=2, padding=2,
              tags="blocked phased !conv_xgrad"),
    path_case("blocked_stride_1x3_pad", "conv2d", (2, 2, 5, 50), (3, 2, 2, 7), stride=(1, 3), padding=(0, 2),
              bias=False, tags="blocked phased"),
    path_case("blocked_dilation", "conv2d", (2, 3, 5, 28), (3, 3, 2, 3), padding=(1, 2), dilation=2,
              tags="blocked"),
    path_case("blocked_weight_only_stride2", "conv2d", (2, 3, 7, 41), (6, 3, 3, 5), stride=2, padding=(1, 2),
              grad_inputs=[1, 2], tags="blocked"),
    path_case("blocked_noncontiguous", "conv2d", (2, 30, 5, 3), (4, 3, 3, 3), padding=1,
              view=lambda x: x.permute(0, 3, 2, 1), tags="blocked"),
    path_case("blocked_1d", "conv1d", (2, 2, 40), (3, 2, 5), padding=2, tags="blocked"),
    path_case("blocked_3d", "conv3d", (1, 2, 3, 3, 30), (2, 2, 2, 2, 3), padding=(0, 1, 1), tags="blocked"),
    # batch 32 / 64 with 32x32 images: power-of-two strides, transposing copies through a padded staging buffer
    path_case("batch32_32x32_stride2", "conv2d", (32, 3, 32, 32), (8, 3, 3, 3), stride=2, padding=1,
              tol32=F32_LONG, tags="batch_last staged"),
    path_case("batch64_32x32_stride2_no_bias", "conv2d", (64, 4, 32, 32), (8, 4, 3, 3), stride=2, padding=1,
              bias=False, tol32=F32_LONG, tags="batch_last staged"),
    path_case("batch32_transpose_16_to_32", "conv_transpose2d", (32, 8, 16, 16), (8, 3, 4, 4), stride=2,
              padding=1, tol32=F32_LONG, tags="batch_last staged phased"),
    # strided conv_transpose: accumulated in stride phases (batch_last for short input rows)
    path_case("t1d_phases_long", "conv_transpose1d", (2, 4, 20), (4, 3, 3), stride=3, padding=1,
              output_padding=2, dilation=2, tags="phased !batch_last"),
    path_case("t1d_phases_groups", "conv_transpose1d", (2, 4, 7), (4, 2, 4), stride=2, groups=2, padding=2,
              tags="phased batch_last"),
    path_case("t1d_stride_gt_kernel", "conv_transpose1d", (1, 3, 6), (3, 2, 2), stride=3, output_padding=1,
              tags="phased"),
    path_case("t2d_phases_everything", "conv_transpose2d", (2, 4, 3, 18), (4, 2, 3, 2), stride=(2, 3),
              padding=(1, 2), output_padding=(1, 2), dilation=(1, 2), groups=2, tags="phased !batch_last"),
    path_case("t2d_dcgan", "conv_transpose2d", (2, 6, 5, 5), (6, 3, 4, 4), stride=2, padding=1,
              tags="phased batch_last"),
    path_case("t2d_stride_h_only", "conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), stride=(2, 1), padding=1,
              output_padding=(1, 0), tags="!phased"),
    path_case("t2d_no_bias_dilated", "conv_transpose2d", (2, 3, 4, 6), (3, 4, 3, 2), stride=(1, 4),
              dilation=(2, 3), output_padding=(1, 2), bias=False, tags="phased"),
    path_case("t3d_phases", "conv_transpose3d", (2, 4, 2, 3, 4), (4, 1, 2, 3, 2), stride=2, padding=(0, 1, 1),
              output_padding=(1, 0, 1), dilation=(1, 1, 2), groups=2, tags="phased"),
    path_case("t2d_input_no_grad", "conv_transpose2d", (2, 3, 4, 17), (3, 2, 3, 3), stride=2, padding=1,
              grad_inputs=[1, 2], tags="phased"),
]


@pytest.mark.parametrize("fn,inputs,tags,grad_inputs,tol32", _table(PATH_CASES))
def test_conv_fast_paths(fn, inputs, tags, grad_inputs, tol32, conv_paths):
    """Each fast path of ember/ops/conv.py (taken as the spy shows) gives torch's outputs and gradients."""
    check_both(fn, inputs, tol32=tol32, grad_inputs=grad_inputs)
    assert_paths(conv_paths, tags)


# ---- inf and NaN in the input, the weight or the upstream gradient ---------------------------------------------------
ONEDNN_PAD = ("torch's float32 CPU kernel for batch > 1 (oneDNN) skips taps in the zero padding, so an inf/NaN "
              "there never meets 0; torch's float64 (and batch-1) im2col kernel forms inf * 0 = NaN as ember does")


def nonfinite_case(case_id, name, xs, ws, target, at, values, tags="", xfail=None, **kw):
    """Rows for both dtypes: F.<name>(x, w, b, **kw) with `values` put at the multi-indices `at` of the input
    `target` ("x", "w" or "g", the upstream gradient). xfail: {dtype: reason} of known mismatches."""
    fn, inputs = _conv_call(name, xs, ws, **kw)
    if target in "xw":
        inputs["xw".index(target)] = _poisoned(inputs["xw".index(target)], at, values)
    rows = []
    for dt in ("float64", "float32"):
        reason = (xfail or {}).get(dt)
        marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)] if reason else []
        rows.append(pytest.param(f"{case_id}-{dt}", fn, inputs, (at, values) if target == "g" else None, dt, tags,
                                 marks=marks))
    return rows


def _poisoned(a, at, values):
    a = a.copy()
    for i, v in zip(at, values):
        a[i] = v
    return a


NONFINITE_CASES = sum([
    # the _ShiftedRows geometry: non-finite x or weight falls back to the columns path
    nonfinite_case("rows_x_inf", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), "x",
                   [(0, 1, 2, 7), (0, 2, 2, 8), (1, 0, 4, 19)], [np.inf, -np.inf, np.inf], padding=1,
                   tags="!shifted"),
    nonfinite_case("rows_x_nan", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), "x", [(1, 3, 0, 0)], [np.nan], padding=1,
                   tags="!shifted"),
    nonfinite_case("rows_w_inf_centre", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), "w", [(2, 1, 1, 1), (5, 0, 1, 1)],
                   [np.inf, -np.inf], padding=1, tags="!shifted"),
    nonfinite_case("rows_w_nan_corner_in_padding", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), "w", [(4, 7, 2, 0)],
                   [np.nan], padding=1, tags="!shifted", xfail=dict(float32=ONEDNN_PAD)),
    nonfinite_case("rows_w_inf_corner_in_padding", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), "w", [(0, 0, 0, 0)],
                   [np.inf], padding=1, tags="!shifted", xfail=dict(float32=ONEDNN_PAD)),
    nonfinite_case("rows_g_inf", "conv2d", (2, 3, 5, 20), (13, 3, 3, 3), "g", [(0, 0, 2, 7), (1, 4, 3, 10)],
                   [np.inf, -np.inf], padding=1, tags="shifted"),
    nonfinite_case("rows_g_nan", "conv2d", (2, 3, 5, 20), (13, 3, 3, 3), "g", [(1, 12, 2, 15)], [np.nan],
                   padding=1, tags="shifted"),
    nonfinite_case("rows_g_inf_border", "conv2d", (2, 3, 5, 20), (13, 3, 3, 3), "g", [(0, 2, 0, 0)], [np.inf],
                   padding=1, tags="shifted", xfail=dict(float32=ONEDNN_PAD)),
    nonfinite_case("rows_g_inf_input_grad_as_conv", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), "g",
                   [(0, 0, 2, 7), (1, 4, 3, 10)], [np.inf, -np.inf], padding=1, tags="shifted conv_xgrad"),
    nonfinite_case("rows_g_nan_input_grad_as_conv", "conv2d", (2, 8, 5, 20), (13, 8, 3, 3), "g",
                   [(1, 3, 2, 9)], [np.nan], padding=1, tags="shifted conv_xgrad"),
    # blocked columns (few output channels)
    nonfinite_case("blocked_x_inf", "conv2d", (2, 3, 5, 24), (4, 3, 3, 3), "x", [(0, 1, 2, 9)], [np.inf],
                   padding=1, tags="!blocked"),
    nonfinite_case("blocked_x_nan", "conv2d", (2, 3, 5, 24), (4, 3, 3, 3), "x", [(1, 0, 3, 14)], [np.nan],
                   tags="!blocked"),
    nonfinite_case("lenet_conv1_x_inf", "conv2d", (2, 1, 28, 28), (6, 1, 5, 5), "x", [(0, 0, 10, 13)], [np.inf],
                   tags="!blocked"),
    nonfinite_case("blocked_w_inf", "conv2d", (2, 3, 5, 24), (4, 3, 3, 3), "w", [(1, 2, 1, 1)], [-np.inf],
                   padding=1, tags="blocked"),
    nonfinite_case("blocked_w_nan_strided", "conv2d", (2, 3, 6, 40), (4, 3, 3, 5), "w", [(3, 0, 1, 2)], [np.nan],
                   stride=2, padding=(0, 2), tags="blocked"),
    nonfinite_case("blocked_g_inf", "conv2d", (2, 3, 5, 24), (4, 3, 3, 3), "g", [(0, 2, 2, 9)], [np.inf],
                   padding=1, tags="blocked conv_xgrad"),
    nonfinite_case("blocked_g_nan_strided", "conv2d", (2, 3, 6, 40), (4, 3, 3, 5), "g", [(1, 1, 1, 9)], [np.nan],
                   stride=2, padding=(0, 2), tags="blocked !conv_xgrad"),
    # neither: strided columns (batch_last), and the phase-split transposed convolution
    nonfinite_case("strided_x_inf_nan", "conv2d", (2, 3, 7, 9), (13, 3, 3, 3), "x", [(0, 0, 3, 4), (1, 2, 5, 5)],
                   [np.inf, np.nan], stride=2, tags="!blocked batch_last"),
    nonfinite_case("strided_g_inf", "conv2d", (2, 3, 7, 9), (13, 3, 3, 3), "g", [(0, 5, 1, 2)], [-np.inf],
                   stride=2, tags="!blocked batch_last"),
    nonfinite_case("t2d_x_inf", "conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), "x", [(1, 2, 1, 3)], [np.inf],
                   stride=2, padding=1, tags="phased"),
    nonfinite_case("t2d_w_nan", "conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), "w", [(0, 1, 2, 2)], [np.nan],
                   stride=2, padding=1, tags="phased", xfail=dict(float32=ONEDNN_PAD)),
    nonfinite_case("t2d_g_inf", "conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), "g", [(0, 1, 3, 4), (0, 0, 3, 5)],
                   [np.inf, -np.inf], stride=2, padding=1, tags="phased"),
], [])


@pytest.mark.parametrize("fn,inputs,upstream,dtype,tags", _table(NONFINITE_CASES))
def test_conv_nonfinite(fn, inputs, upstream, dtype, tags, conv_paths):
    """inf/NaN in x, the weight or the upstream gradient: outputs and gradients equal torch's, inf and NaN at the same
    places (the _ShiftedRows path must fall back where it would form 0 * inf)."""
    res = []
    for lib in (ember, torch):
        xs = [lib.tensor(a.astype(dtype), requires_grad=True) for a in inputs]
        y = fn(lib, *xs)
        g = r(*y.shape, seed=3)
        if upstream:
            g = _poisoned(g, *upstream)
        y.backward(lib.from_numpy(g.astype(dtype)))
        res.append([y] + [x.grad for x in xs])
    for k, (e, t) in enumerate(zip(*res)):
        assert_same(e, t, None if dtype == "float64" else F32, what="output" if k == 0 else f"grad of input {k - 1}")
    assert_paths(conv_paths, tags)


# ---- modules: Conv / ConvTranspose with every option ---------------------------------------------------------------
def module_parity(build, x, dtype, call=None, tol=None, seed=1):
    """Build in both libraries (torch's weights copied into ember), call, compare output, input and parameter grads."""
    t_m = build(torch.nn, dtype=torch.float64 if dtype == "float64" else torch.float32)
    e_m = build(ember.nn, dtype=ember.float64 if dtype == "float64" else ember.float32)
    sync(t_m, e_m)
    call = call or (lambda m, x: m(x))
    x = x.astype(dtype)
    e_in, t_in = ember.tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)
    e_out, t_out = call(e_m, e_in), call(t_m, t_in)
    assert_same(e_out, t_out, tol, what="output")
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.from_numpy(g))
    e_out.backward(ember.from_numpy(g.copy()))
    assert_same(e_in.grad, t_in.grad, tol, what="grad of input")
    for (n, p), (tn, tp) in zip(e_m.named_parameters(), t_m.named_parameters()):
        assert n == tn
        assert_same(p.grad, tp.grad, tol, what=f"grad of {n}")
    return e_m, t_m


# (id, builder(nn, dtype=...), input shape)
MODULE_CASES = [
    ("Conv1d", lambda nn, **k: nn.Conv1d(4, 5, 3, **k), (2, 4, 9)),
    ("Conv1d_everything", lambda nn, **k: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, **k),
     (2, 4, 11)),
    ("Conv1d_reflect", lambda nn, **k: nn.Conv1d(3, 4, 3, padding=2, padding_mode="reflect", **k), (2, 3, 7)),
    ("Conv1d_replicate", lambda nn, **k: nn.Conv1d(3, 4, 4, padding=3, padding_mode="replicate", **k), (2, 3, 5)),
    ("Conv1d_circular", lambda nn, **k: nn.Conv1d(3, 4, 3, padding=1, stride=2, padding_mode="circular", **k),
     (2, 3, 8)),
    ("Conv1d_same_circular", lambda nn, **k: nn.Conv1d(3, 4, 4, padding="same", padding_mode="circular", **k),
     (2, 3, 8)),
    ("Conv1d_unbatched_reflect", lambda nn, **k: nn.Conv1d(3, 4, 3, padding=1, padding_mode="reflect", **k),
     (3, 7)),
    ("Conv1d_depthwise_no_bias", lambda nn, **k: nn.Conv1d(4, 8, 3, groups=4, bias=False, **k), (2, 4, 9)),
    ("Conv2d", lambda nn, **k: nn.Conv2d(3, 4, 3, **k), (2, 3, 6, 7)),
    ("Conv2d_tuples", lambda nn, **k: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                                 groups=2, **k), (2, 4, 7, 8)),
    ("Conv2d_same", lambda nn, **k: nn.Conv2d(3, 4, (4, 3), padding="same", dilation=(1, 2), **k), (2, 3, 7, 6)),
    ("Conv2d_valid", lambda nn, **k: nn.Conv2d(3, 4, 3, padding="valid", bias=False, **k), (2, 3, 6, 5)),
    ("Conv2d_reflect", lambda nn, **k: nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="reflect", **k),
     (2, 3, 5, 6)),
    ("Conv2d_replicate", lambda nn, **k: nn.Conv2d(3, 4, 3, padding=2, stride=2, padding_mode="replicate", **k),
     (2, 3, 5, 6)),
    ("Conv2d_circular", lambda nn, **k: nn.Conv2d(2, 4, 3, padding=(2, 1), groups=2, padding_mode="circular", **k),
     (2, 2, 5, 6)),
    ("Conv2d_same_reflect", lambda nn, **k: nn.Conv2d(3, 4, (2, 3), padding="same", padding_mode="reflect", **k),
     (2, 3, 5, 6)),
    ("Conv2d_unbatched_circular", lambda nn, **k: nn.Conv2d(3, 2, 3, padding=1, padding_mode="circular", **k),
     (3, 4, 5)),
    ("Conv2d_depthwise", lambda nn, **k: nn.Conv2d(4, 4, 3, groups=4, padding=1, **k), (2, 4, 5, 5)),
    ("Conv3d", lambda nn, **k: nn.Conv3d(2, 3, 2, **k), (2, 2, 3, 4, 3)),
    ("Conv3d_options", lambda nn, **k: nn.Conv3d(2, 4, (2, 3, 2), stride=(1, 2, 1), padding=1, groups=2, **k),
     (1, 2, 4, 5, 4)),
    ("Conv3d_reflect", lambda nn, **k: nn.Conv3d(2, 3, 3, padding=1, padding_mode="reflect", **k), (1, 2, 3, 4, 3)),
    ("Conv3d_replicate", lambda nn, **k: nn.Conv3d(2, 3, 2, padding=(1, 0, 1), padding_mode="replicate", **k),
     (1, 2, 3, 4, 3)),
    ("Conv3d_circular_same", lambda nn, **k: nn.Conv3d(2, 3, 3, padding="same", padding_mode="circular", **k),
     (1, 2, 3, 4, 3)),
    ("Conv3d_unbatched", lambda nn, **k: nn.Conv3d(2, 3, 2, padding="same", **k), (2, 3, 3, 4)),
    ("ConvTranspose1d", lambda nn, **k: nn.ConvTranspose1d(4, 3, 3, **k), (2, 4, 6)),
    ("ConvTranspose1d_options", lambda nn, **k: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                                                   groups=2, dilation=2, **k), (2, 4, 6)),
    ("ConvTranspose1d_unbatched", lambda nn, **k: nn.ConvTranspose1d(4, 3, 2, stride=2, bias=False, **k), (4, 5)),
    ("ConvTranspose2d", lambda nn, **k: nn.ConvTranspose2d(3, 4, 3, **k), (2, 3, 4, 5)),
    ("ConvTranspose2d_options", lambda nn, **k: nn.ConvTranspose2d(4, 2, (3, 2), stride=(2, 3), padding=(1, 0),
                                                                   output_padding=(1, 2), groups=2, **k),
     (2, 4, 4, 3)),
    ("ConvTranspose2d_unbatched", lambda nn, **k: nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1, **k), (3, 3, 4)),
    ("ConvTranspose3d", lambda nn, **k: nn.ConvTranspose3d(2, 3, 2, stride=2, **k), (1, 2, 2, 3, 2)),
    ("ConvTranspose3d_options", lambda nn, **k: nn.ConvTranspose3d(2, 2, 3, stride=(2, 1, 2), padding=1,
                                                                   output_padding=(1, 0, 0), dilation=(1, 2, 1),
                                                                   bias=False, **k), (1, 2, 3, 3, 2)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("build,shape", [c[1:] for c in MODULE_CASES], ids=[c[0] for c in MODULE_CASES])
def test_conv_module(build, shape, dtype):
    module_parity(build, r(*shape), dtype, tol=F32 if dtype == "float32" else None)


# (id, builder, input shape, output_size passed to forward)
OUTPUT_SIZE_CASES = [
    ("t1d_min", lambda nn, **k: nn.ConvTranspose1d(3, 2, 3, stride=2, **k), (2, 3, 5), [11]),
    ("t1d_max", lambda nn, **k: nn.ConvTranspose1d(3, 2, 3, stride=3, padding=1, **k), (2, 3, 5), [15]),
    ("t1d_with_batch_dims", lambda nn, **k: nn.ConvTranspose1d(3, 2, 3, stride=2, **k), (2, 3, 5), [2, 2, 12]),
    ("t1d_unbatched", lambda nn, **k: nn.ConvTranspose1d(3, 2, 3, stride=2, **k), (3, 5), (3, 12)),
    ("t2d", lambda nn, **k: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, **k), (2, 3, 4, 5), (8, 10)),
    ("t2d_mixed", lambda nn, **k: nn.ConvTranspose2d(3, 4, (3, 2), stride=(3, 2), groups=1, dilation=2, **k),
     (2, 3, 3, 4), (12, 10)),
    ("t2d_size_object", lambda nn, **k: nn.ConvTranspose2d(2, 2, 2, stride=2, **k), (1, 2, 3, 3),
     "input_size"),
    ("t2d_unbatched", lambda nn, **k: nn.ConvTranspose2d(2, 2, 3, stride=2, **k), (2, 3, 3), [8, 7]),
    ("t3d", lambda nn, **k: nn.ConvTranspose3d(2, 2, 2, stride=2, **k), (1, 2, 2, 3, 2), (5, 6, 5)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("build,shape,size", [c[1:] for c in OUTPUT_SIZE_CASES], ids=[c[0] for c in OUTPUT_SIZE_CASES])
def test_conv_transpose_output_size(build, shape, size, dtype):
    """ConvTranspose(output_size=...) picks the output padding (plain list, tuple, with batch dims, or a Size)."""
    def call(m, x):
        osz = x.shape[:2] + tuple(2 * s for s in x.shape[2:]) if size == "input_size" else size
        return m(x, output_size=osz)
    module_parity(build, r(*shape), dtype, call=call, tol=F32 if dtype == "float32" else None)


def test_conv_module_double_dtype_and_default_dtype():
    """Parameters follow dtype= and the default dtype; the output keeps the input's dtype."""
    def fn(lib):
        m = lib.nn.Conv2d(2, 3, 2)
        m64 = lib.nn.ConvTranspose1d(2, 3, 2, dtype=lib.float64)
        y = m(lib.zeros(1, 2, 3, 3))
        return m.weight.dtype, m.bias.dtype, m64.weight.dtype, y.dtype, tuple(y.shape)
    same(fn)


# ---- Lazy modules ---------------------------------------------------------------------------------------------------
# (id, lazy class, args, kwargs, input shape)
LAZY_CASES = [
    ("LazyConv1d", "LazyConv1d", (5, 3), {}, (2, 4, 9)),
    ("LazyConv1d_unbatched", "LazyConv1d", (5, 3), dict(padding=1), (4, 9)),
    ("LazyConv2d", "LazyConv2d", (5, 3), dict(stride=2, padding="valid"), (2, 3, 7, 6)),
    ("LazyConv2d_groups_no_bias", "LazyConv2d", (6, (2, 3)), dict(groups=2, bias=False), (2, 4, 5, 6)),
    ("LazyConv2d_reflect", "LazyConv2d", (2, 3), dict(padding=1, padding_mode="reflect"), (1, 3, 4, 4)),
    ("LazyConv3d", "LazyConv3d", (3, 2), dict(dilation=2), (1, 2, 4, 4, 3)),
    ("LazyConvTranspose1d", "LazyConvTranspose1d", (3, 3), dict(stride=2, output_padding=1), (2, 4, 5)),
    ("LazyConvTranspose2d", "LazyConvTranspose2d", (4, 2), dict(groups=2, stride=2), (2, 6, 3, 4)),
    ("LazyConvTranspose2d_unbatched", "LazyConvTranspose2d", (2, 3), dict(bias=False), (3, 3, 4)),
    ("LazyConvTranspose3d", "LazyConvTranspose3d", (2, 2), dict(padding=1), (1, 3, 3, 2, 3)),
]


@pytest.mark.parametrize("cls,args,kw,shape", [c[1:] for c in LAZY_CASES], ids=[c[0] for c in LAZY_CASES])
def test_lazy_conv(cls, args, kw, shape):
    """Uninitialised until the first call; then the concrete class with torch's parameter shapes, state and output."""
    x = r(*shape).astype("float32")

    def before(lib):
        m = getattr(lib.nn, cls)(*args, **kw)
        return (m.has_uninitialized_params(), type(m).__name__, m.in_channels, isinstance(m.weight,
                lib.nn.parameter.UninitializedParameter), repr(m))
    same(before)

    def after(lib):
        m = getattr(lib.nn, cls)(*args, **kw)
        m(lib.from_numpy(x.copy()))
        return (type(m).__name__, m.has_uninitialized_params() if hasattr(m, "has_uninitialized_params") else None,
                m.in_channels, tuple(m.weight.shape), None if m.bias is None else tuple(m.bias.shape),
                type(m.weight).__name__, m.weight.dtype, m.weight.requires_grad, list(m.state_dict()), repr(m))
    same(after)
    e_m, t_m = getattr(ember.nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    e_m(ember.from_numpy(x.copy()))
    t_m(torch.from_numpy(x.copy()))
    assert isinstance(e_m, getattr(ember.nn, cls.replace("Lazy", "")))
    sync(t_m, e_m)
    assert_same(e_m(ember.from_numpy(x.copy())), t_m(torch.from_numpy(x.copy())), F32)


def test_lazy_conv_dtype_and_init_bound():
    """A lazy conv materialises in its dtype, with weights inside torch's default bound 1/sqrt(fan_in)."""
    ember.manual_seed(0)
    m = ember.nn.LazyConv2d(64, 3, dtype=ember.float64)
    m(ember.zeros(1, 32, 5, 5, dtype=ember.float64))
    w = m.weight.detach().numpy()
    assert w.dtype == np.float64 and w.shape == (64, 32, 3, 3)
    bound = 1 / math.sqrt(32 * 9)
    assert 0.99 * bound < np.abs(w).max() <= bound
    assert 0.9 * bound < np.abs(m.bias.detach().numpy()).max() <= bound


def test_lazy_conv_state_dict_load_materialises():
    """Loading a state dict into an uninitialised lazy conv gives it the loaded shapes (torch's behaviour)."""
    def fn(lib):
        src = lib.nn.Conv2d(3, 4, 2)
        m = lib.nn.LazyConv2d(4, 2)
        m.load_state_dict(src.state_dict())
        return tuple(m.weight.shape), m.in_channels, type(m).__name__
    same(fn)


# ---- default initialisation ------------------------------------------------------------------------------------------
# (id, builder(nn)); weights kaiming_uniform(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same bound
INIT_CASES = [
    ("Conv1d", lambda nn: nn.Conv1d(64, 128, 5)),
    ("Conv2d", lambda nn: nn.Conv2d(32, 64, 3)),
    ("Conv2d_groups", lambda nn: nn.Conv2d(64, 128, 3, groups=4)),
    ("Conv3d", lambda nn: nn.Conv3d(16, 32, 3)),
    ("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(64, 64, 4)),
    ("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(32, 64, 3)),
    ("ConvTranspose2d_groups", lambda nn: nn.ConvTranspose2d(32, 64, 3, groups=2)),
    ("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(16, 64, 3)),
]


@pytest.mark.parametrize("build", [c[1] for c in INIT_CASES], ids=[c[0] for c in INIT_CASES])
def test_default_init_bounds(build):
    """Weight and bias shapes equal torch's; |w| stays within torch's bound and reaches close to it; the spread is
    that of a uniform distribution (std = bound / sqrt(3)); bias likewise."""
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = build(ember.nn), build(torch.nn)
    assert tuple(e.weight.shape) == tuple(t.weight.shape) and tuple(e.bias.shape) == tuple(t.bias.shape)
    assert e.weight.dtype == ember.float32 and e.bias.dtype == ember.float32
    tw = t.weight.detach().numpy()
    fan_in = tw.shape[1] * int(np.prod(tw.shape[2:]))
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(tw).max() <= bound * (1 + 1e-6)  # the formula is torch's
    for name, tol in (("weight", 0.99), ("bias", 0.9)):  # >= 64 biases: P(max < 0.9 bound) = 0.9 ** 64
        ea = getattr(e, name).detach().numpy()
        assert np.abs(ea).max() <= bound * (1 + 1e-6), f"{name}: max |w| {np.abs(ea).max()} > bound {bound}"
        assert np.abs(ea).max() >= tol * bound, f"{name}: max |w| {np.abs(ea).max()} far below {bound}"
    w = e.weight.detach().numpy()
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound and abs(w.mean()) < 0.02 * bound


def test_reset_parameters_redraws():
    ember.manual_seed(0)
    m = ember.nn.Conv2d(3, 4, 3)
    w0 = m.weight.detach().numpy().copy()
    m.reset_parameters()
    assert not np.array_equal(w0, m.weight.detach().numpy())


# ---- repr ----------------------------------------------------------------------------------------------------------
REPR_CASES = [
    lambda nn: nn.Conv1d(4, 6, 3),
    lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect"),
    lambda nn: nn.Conv1d(4, 6, 4, padding="same"),
    lambda nn: nn.Conv1d(4, 6, 4, padding="valid"),
    lambda nn: nn.Conv2d(4, 6, 3),
    lambda nn: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1), groups=2),
    lambda nn: nn.Conv2d(4, 6, 3, padding=1, padding_mode="circular"),
    lambda nn: nn.Conv2d(4, 6, 3, padding="same", padding_mode="replicate", bias=False),
    lambda nn: nn.Conv3d(2, 4, 3, padding=(0, 1, 0)),
    lambda nn: nn.Conv3d(2, 4, (1, 2, 3), stride=2, dilation=(1, 1, 2)),
    lambda nn: nn.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1),
    lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=(1, 0), groups=2, bias=False,
                                  dilation=2),
    lambda nn: nn.ConvTranspose2d(4, 6, 3),
    lambda nn: nn.ConvTranspose3d(2, 2, (2, 3, 1), stride=(1, 2, 1)),
    lambda nn: nn.LazyConv2d(5, 3),
    lambda nn: nn.LazyConv1d(5, 3, padding="same"),
    lambda nn: nn.LazyConvTranspose2d(5, 3, stride=2, bias=False),
    lambda nn: nn.LazyConvTranspose3d(5, 3),
    lambda nn: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 1, 3)),
]


@pytest.mark.parametrize("build", REPR_CASES)
def test_repr(build):
    assert repr(build(ember.nn)) == repr(build(torch.nn))


def test_module_attributes():
    """Attributes are normalised to tuples as in torch; _reversed_padding_repeated_twice feeds F.pad."""
    def fn(lib):
        out = []
        for m in (lib.nn.Conv2d(2, 3, 3, padding="same", dilation=(1, 2)), lib.nn.Conv1d(2, 3, 3, padding=2),
                  lib.nn.ConvTranspose3d(2, 3, 2, output_padding=1, stride=2), lib.nn.Conv3d(2, 2, (1, 2, 3))):
            out.append((m.kernel_size, m.stride, m.padding, m.dilation, m.output_padding, m.groups, m.transposed,
                        m.padding_mode, list(m._reversed_padding_repeated_twice), m.in_channels, m.out_channels))
        return out
    same(fn)


# ---- double backward: gradcheck / gradgradcheck, and gradient penalties against torch --------------------------------
GRADCHECK_CASES = [
    ("conv1d", lambda x, w, b: ember.nn.functional.conv1d(x, w, b, stride=2, padding=1, dilation=2),
     [(2, 2, 7), (3, 2, 2), (3,)]),
    ("conv2d_groups", lambda x, w, b: ember.nn.functional.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2),
     [(1, 4, 4, 5), (2, 2, 2, 3), (2,)]),
    ("conv2d_same", lambda x, w: ember.nn.functional.conv2d(x, w, padding="same", dilation=(2, 1)),
     [(1, 2, 4, 4), (2, 2, 2, 3)]),
    ("conv3d", lambda x, w, b: ember.nn.functional.conv3d(x, w, b, padding=(1, 0, 0)),
     [(1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (2,)]),
    ("conv_transpose1d", lambda x, w, b: ember.nn.functional.conv_transpose1d(x, w, b, stride=2, output_padding=1),
     [(2, 2, 3), (2, 3, 2), (3,)]),
    ("conv_transpose2d_groups", lambda x, w, b: ember.nn.functional.conv_transpose2d(
        x, w, b, stride=2, padding=1, groups=2, dilation=(1, 2)), [(1, 4, 3, 3), (4, 1, 3, 2), (2,)]),
    ("conv_transpose3d", lambda x, w: ember.nn.functional.conv_transpose3d(x, w, stride=(2, 1, 1)),
     [(1, 2, 2, 2, 2), (2, 2, 2, 1, 2)]),
    # one case per fast path of ember/ops/conv.py (the paths, asserted by the spy, are listed after the shapes)
    ("conv2d_shifted_rows", lambda x, w, b: ember.nn.functional.conv2d(x, w, b, padding=(0, 1)),
     [(1, 1, 2, 17), (13, 1, 2, 2), (13,)], "shifted"),
    ("conv1d_blocked", lambda x, w, b: ember.nn.functional.conv1d(x, w, b, padding=1),
     [(1, 2, 10), (2, 2, 3), (2,)], "blocked !batch_last"),
    ("conv2d_batch_last_staged", lambda x, w: ember.nn.functional.conv2d(x, w, stride=2),
     [(8, 1, 4, 4), (2, 1, 2, 2)], "batch_last staged"),
    ("conv_transpose2d_phased", lambda x, w, b: ember.nn.functional.conv_transpose2d(
        x, w, b, stride=(1, 2), padding=(0, 1)), [(1, 1, 2, 17), (1, 1, 1, 3), (1,)], "phased !batch_last"),
]


@pytest.mark.parametrize("fn,shapes,tags", [(c[1], c[2], c[3] if len(c) > 3 else "") for c in GRADCHECK_CASES],
                         ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck_gradgradcheck(fn, shapes, tags, conv_paths):
    inputs = [ember.tensor(r(*s, seed=i), requires_grad=True) for i, s in enumerate(shapes)]
    assert ember.autograd.gradcheck(fn, inputs)
    assert ember.autograd.gradgradcheck(fn, inputs)
    assert_paths(conv_paths, tags)


# (id, conv fn(lib, x, w, b))
PENALTY_CASES = [
    ("conv2d", lambda t, x, w, b: F(t).conv2d(x, w, b, stride=2, padding=1)),
    ("conv2d_groups", lambda t, x, w, b: F(t).conv2d(x, w[:, :2], b, padding=(1, 0), groups=2, dilation=2)),
    ("conv1d", lambda t, x, w, b: F(t).conv1d(x.flatten(2), w.flatten(2), b, stride=3, padding="valid")),
    ("conv_transpose2d", lambda t, x, w, b: F(t).conv_transpose2d(x, w.transpose(0, 1), b, stride=2, padding=1,
                                                                  output_padding=1)),
    ("conv_transpose2d_groups", lambda t, x, w, b: F(t).conv_transpose2d(x, w[:, :2], b,
                                                                         groups=2, dilation=(2, 1))),
]


@pytest.mark.parametrize("conv", [c[1] for c in PENALTY_CASES], ids=[c[0] for c in PENALTY_CASES])
def test_gradient_penalty(conv):
    """Double backward: d/d(x, w, b) of |d(loss)/d(x, w)|^2 with create_graph (WGAN-GP style), float64."""
    x, w, b = r(2, 4, 6, 7), r(4, 4, 3, 3, seed=1), r(4, seed=2)

    def run(lib):
        xs = [lib.tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
        y = conv(lib, *xs)
        loss = (y * lib.from_numpy(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).pow(2).sum()
        gx, gw = lib.autograd.grad(loss, xs[:2], create_graph=True)
        penalty = gx.pow(2).sum() + (gw * gw.detach().sign()).sum()
        penalty.backward()
        return [penalty] + [a.grad for a in xs]
    e, t = run(ember), run(torch)
    for k, (a, b_) in enumerate(zip(e, t)):
        assert_same(a, b_, dict(rtol=1e-9, atol=1e-9), what=f"penalty/grad {k}")


def test_second_derivative_through_module():
    """hessian-vector product through a Conv2d module (grad of grad w.r.t. the input)."""
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.Conv2d(2, 3, 3, padding=1, dtype=lib.float64)
        with lib.no_grad():
            m.weight.copy_(lib.from_numpy(r(3, 2, 3, 3, seed=3)))
            m.bias.copy_(lib.from_numpy(r(3, seed=4)))
        x = lib.tensor(r(1, 2, 4, 4), requires_grad=True)
        y = m(x).tanh().sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        hv, = lib.autograd.grad((g * lib.from_numpy(r(1, 2, 4, 4, seed=5))).sum(), x)
        return hv
    assert_same(run(ember), run(torch))


@pytest.mark.parametrize("name,ws", [("conv2d", (16, 16, 3, 3)), ("conv_transpose2d", (16, 16, 3, 3))])
def test_large_buffers_not_shared_between_graphs(name, ws):
    """Two live graphs of big convolutions (large scratch buffers): the first one's outputs and saved columns are
    untouched by the second forward, so its backward still gives torch's gradients."""
    x1, x2, w = r(8, 16, 32, 32), r(8, 16, 32, 32, seed=1), r(*ws, seed=2)

    def run(t):
        xa, xb = t.tensor(x1.copy(), requires_grad=True), t.tensor(x2.copy(), requires_grad=True)
        wt = t.tensor(w.copy(), requires_grad=True)
        conv = getattr(t.nn.functional, name)
        ya = conv(xa, wt, padding=1)
        ya_before = ya.detach().clone()
        yb = conv(xb, wt * 2, padding=1)
        ya.backward(t.from_numpy(np.cos(np.arange(ya.numel())).reshape(tuple(ya.shape))))
        return ya_before, ya, yb, xa.grad, wt.grad
    same(run)


def test_grad_fn_names_and_no_grad():
    def fn(lib):
        x = lib.ones(1, 2, 4, 4, requires_grad=True)
        w = lib.ones(3, 2, 2, 2, requires_grad=True)
        y = lib.nn.functional.conv2d(x, w)
        yt = lib.nn.functional.conv_transpose2d(y, w)
        with lib.no_grad():
            z = lib.nn.functional.conv2d(x, w)
        return type(y.grad_fn).__name__, type(yt.grad_fn).__name__, z.requires_grad, z.grad_fn is None
    same(fn)


def test_only_weight_requires_grad():
    """Input without requires_grad: only the weight/bias gradients are produced (and equal torch's)."""
    check(conv_fn("conv2d", padding=1), [r(2, 3, 5, 5), r(4, 3, 3, 3, seed=1), r(4, seed=2)], grad_inputs=[1, 2])
    check(conv_fn("conv_transpose2d", stride=2), [r(2, 3, 4, 4), r(3, 4, 3, 3, seed=1)], grad_inputs=[0])


# ---- bad input: torch's exception class and message ------------------------------------------------------------------
def z(lib, *shape, dtype=None):
    return lib.zeros(*shape, dtype=dtype or lib.float32)


ERROR_CASES = [
    ("wrong_rank_conv2d", lambda t: F(t).conv2d(z(t, 3, 4), z(t, 2, 3, 1, 1))),
    ("wrong_rank_conv1d", lambda t: F(t).conv1d(z(t, 1, 2, 3, 4), z(t, 2, 3, 1))),
    ("wrong_rank_conv3d", lambda t: F(t).conv3d(z(t, 1, 2, 3, 4), z(t, 2, 2, 1, 1, 1))),
    ("wrong_rank_transpose", lambda t: F(t).conv_transpose1d(z(t, 2), z(t, 2, 3, 1))),
    ("channels_vs_groups", lambda t: F(t).conv2d(z(t, 1, 4, 5, 5), z(t, 6, 3, 3, 3), groups=2)),
    ("channels_mismatch", lambda t: F(t).conv1d(z(t, 2, 5, 7), z(t, 3, 4, 3))),
    ("out_channels_not_divisible", lambda t: F(t).conv2d(z(t, 1, 4, 5, 5), z(t, 5, 2, 3, 3), groups=2)),
    ("transpose_channels_mismatch", lambda t: F(t).conv_transpose2d(z(t, 1, 3, 5, 5), z(t, 2, 3, 3, 3))),
    ("transpose_groups_not_divisible", lambda t: F(t).conv_transpose2d(z(t, 1, 3, 5, 5), z(t, 3, 3, 3, 3),
                                                                       groups=2)),
    ("kernel_larger_than_padded_input", lambda t: F(t).conv2d(z(t, 1, 2, 3, 3), z(t, 2, 2, 5, 5), padding=0)),
    ("dilated_kernel_too_large", lambda t: F(t).conv1d(z(t, 1, 2, 5), z(t, 2, 2, 3), dilation=3)),
    ("kernel_too_large_3d", lambda t: F(t).conv3d(z(t, 1, 2, 3, 3, 3), z(t, 2, 2, 2, 4, 2), padding=(0, 0, 1))),
    ("empty_spatial", lambda t: F(t).conv2d(z(t, 1, 2, 0, 5), z(t, 3, 2, 1, 1))),
    ("transpose_output_too_small", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 1, 1), z(t, 2, 3, 1, 1), padding=1)),
    ("transpose_output_too_small_1d", lambda t: F(t).conv_transpose1d(z(t, 1, 2, 2), z(t, 2, 3, 1), padding=2)),
    ("bias_wrong_size", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), z(t, 4))),
    ("bias_2d", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), z(t, 3, 1))),
    ("transpose_bias_wrong_size", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 5, 5), z(t, 2, 3, 3, 3), z(t, 2))),
    ("weight_dtype", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3, dtype=t.float64))),
    ("input_dtype", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5, dtype=t.float64), z(t, 3, 2, 3, 3))),
    ("bias_dtype", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), z(t, 3, dtype=t.float64))),
    ("transpose_weight_dtype", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 5, 5), z(t, 2, 3, 3, 3, dtype=t.float64))),
    ("same_with_stride", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), stride=2, padding="same")),
    ("bad_padding_string", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), padding="full")),
    ("zero_stride", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), stride=0)),
    ("negative_padding", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), padding=-1)),
    ("zero_dilation", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), dilation=0)),
    ("zero_groups", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), groups=0)),
    ("zero_out_channels", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 0, 2, 3, 3))),
    ("weight_rank_vs_fn", lambda t: F(t).conv2d(z(t, 1, 2, 3, 3), z(t, 2, 2, 3))),
    ("stride_length", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), stride=(1, 1, 1))),
    ("padding_length", lambda t: F(t).conv2d(z(t, 1, 2, 5, 5), z(t, 3, 2, 3, 3), padding=(1, 1, 1))),
    ("transpose_output_padding_2d", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 5, 5), z(t, 2, 3, 3, 3), stride=2,
                                                                    output_padding=2)),
    ("transpose_output_padding_1d", lambda t: F(t).conv_transpose1d(z(t, 1, 2, 5), z(t, 2, 3, 3), stride=2,
                                                                    output_padding=2)),
    ("transpose_output_padding_3d", lambda t: F(t).conv_transpose3d(z(t, 1, 2, 3, 3, 3), z(t, 2, 3, 2, 2, 2),
                                                                    stride=2, output_padding=(0, 2, 0))),
    ("transpose_negative_padding", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 5, 5), z(t, 2, 3, 3, 3), padding=-1)),
    ("transpose_negative_output_padding", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 5, 5), z(t, 2, 3, 3, 3),
                                                                          output_padding=-1)),
    ("transpose_zero_stride", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 5, 5), z(t, 2, 3, 3, 3), stride=0)),
    ("transpose_zero_dilation", lambda t: F(t).conv_transpose2d(z(t, 1, 2, 5, 5), z(t, 2, 3, 3, 3), dilation=0)),
    ("module_in_channels_groups", lambda t: t.nn.Conv2d(3, 4, 3, groups=2)),
    ("module_out_channels_groups", lambda t: t.nn.Conv2d(4, 3, 3, groups=2)),
    ("module_zero_groups", lambda t: t.nn.Conv2d(4, 4, 3, groups=0)),
    ("module_same_strided", lambda t: t.nn.Conv1d(4, 4, 3, padding="same", stride=2)),
    ("module_transpose_padding_mode", lambda t: t.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")),
    ("module_wrong_channels", lambda t: t.nn.Conv2d(3, 4, 3)(z(t, 1, 2, 5, 5))),
    ("module_wrong_rank", lambda t: t.nn.Conv2d(3, 4, 3)(z(t, 3, 5))),
    ("same_weight_rank", lambda t: t.nn.functional.conv2d(z(t, 1, 1, 4, 3), z(t, 1, 2, 2), z(t, 1), padding="same")),
    ("same_weight_rank_3d", lambda t: t.nn.functional.conv3d(z(t, 1, 1, 3, 4, 5), z(t, 1, 1, 4, 3), z(t, 1),
                                                             padding="same")),
    ("valid_weight_rank", lambda t: t.nn.functional.conv2d(z(t, 1, 1, 4, 3), z(t, 1, 2, 2), padding="valid")),
    ("groups_before_stride", lambda t: t.nn.functional.conv2d(z(t, 1, 1, 4, 3), z(t, 1, 1, 2, 2), groups=0,
                                                              stride=(1, 1, 1))),
    ("module_output_size_out_of_range", lambda t: t.nn.ConvTranspose2d(2, 3, 3, stride=2)(
        z(t, 1, 2, 4, 4), output_size=(20, 20))),
    ("module_output_size_too_small", lambda t: t.nn.ConvTranspose1d(2, 3, 3, stride=2)(
        z(t, 1, 2, 4), output_size=[8])),
    ("module_output_size_length", lambda t: t.nn.ConvTranspose2d(2, 3, 3, stride=2)(z(t, 1, 2, 4, 4),
                                                                                  output_size=(9,))),
    ("module_reflect_pad_too_large", lambda t: t.nn.Conv2d(2, 3, 3, padding=4, padding_mode="reflect")(
        z(t, 1, 2, 4, 4))),
    ("module_reflect_pad_too_large_h", lambda t: t.nn.Conv2d(2, 3, 3, padding=(4, 1), padding_mode="reflect")(
        z(t, 1, 2, 4, 4))),
    ("module_circular_pad_too_large", lambda t: t.nn.Conv1d(2, 3, 3, padding=5, padding_mode="circular")(
        z(t, 1, 2, 4))),
    ("lazy_groups", lambda t: t.nn.LazyConv2d(4, 3, groups=2)(z(t, 1, 3, 5, 5))),
    ("lazy_wrong_rank", lambda t: t.nn.LazyConv2d(4, 3)(z(t, 3, 5))),
]


# messages printing a Python set (whose order depends on the hash seed): class and text checked by a pattern
SET_MESSAGE_CASES = [
    ("module_padding_string", lambda t: t.nn.Conv2d(4, 4, 3, padding="full"),
     r"Invalid padding string 'full', should be one of \{'(same|valid)', '(same|valid)'\}"),
    ("module_padding_mode", lambda t: t.nn.Conv2d(4, 4, 3, padding_mode="wrap"),
     r"padding_mode must be one of \{('(zeros|reflect|replicate|circular)'(, )?){4}\}, but got padding_mode='wrap'"),
]


@pytest.mark.parametrize("fn,match", [c[1:] for c in SET_MESSAGE_CASES], ids=[c[0] for c in SET_MESSAGE_CASES])
def test_errors_with_sets(fn, match):
    check_raises(fn, ValueError, match)


@pytest.mark.parametrize("fn", [c[1] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors(fn):
    """Same exception class and the same message (which names the offending shapes/values) as torch."""
    try:
        fn(torch)
    except Exception:  # noqa: BLE001 - the cases that do raise are compared below
        same_error(fn)
    else:  # a valid call (e.g. unbatched input): ember must accept it too and give the same shape
        same(lambda t: tuple(fn(t).shape))


def test_error_not_a_tensor():
    check_raises(lambda t: F(t).conv2d([1.0], z(t, 3, 2, 3, 3)), TypeError)


MODULES_UTILS_CASES = [
    lambda u: (u._single(2), u._pair(3), u._triple((1, 2, 3)), u._quadruple(0), u._pair([4, 5]), u._pair("ab"),
               u._ntuple(5)(1), u._ntuple(3, "p").__name__, u._pair.__name__, u._pair(range(2))),
    lambda u: (u._reverse_repeat_tuple((1, 2, 3), 2), u._reverse_repeat_tuple((), 2), u._reverse_repeat_tuple([4], 3)),
    lambda u: (u._list_with_default([None, 3], [1, 2, 7, 8]), u._list_with_default(5, [1, 2]),
               u._list_with_default((None, None, 4), (9, 1, 2, 3))),
    lambda u: u.__all__,
]


@pytest.mark.parametrize("case", MODULES_UTILS_CASES)
def test_modules_utils_match_torch(case):
    """ember.nn.modules.utils (the _pair/_triple/... helpers imported by conv code in the wild) behaves as torch's."""
    import importlib
    same(lambda t: case(importlib.import_module(f"{t.__name__}.nn.modules.utils")))


def test_modules_utils_list_with_default_error():
    same_error(lambda t: t.nn.modules.utils._list_with_default([None, 3], [1, 2]))


def test_consume_prefix_in_state_dict_matches_torch():
    def go(t):
        sd = t.nn.Sequential(t.nn.Linear(2, 2)).state_dict()
        wrapped = OrderedDict((f"module.{k}", v) for k, v in sd.items())
        wrapped._metadata = OrderedDict((f"module.{k}" if k else "module", v) for k, v in sd._metadata.items())
        wrapped._metadata[""] = {"version": 1}
        t.nn.modules.utils.consume_prefix_in_state_dict_if_present(wrapped, "module.")
        return list(wrapped), list(wrapped._metadata)
    same(go)
