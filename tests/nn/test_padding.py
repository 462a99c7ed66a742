"""Padding against torch: F.pad in every mode (constant with negative amounts, reflect, replicate, circular), the
Reflection/Replication/Zero/Constant/CircularPad{1,2,3}d modules, their reprs, double backward and torch's errors."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings, strategies as st

import ember
from parity import check, check_raises
from .nnparity import same, same_error

F64_32 = ("float64", "float32")


def r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def pad_fn(pad, mode="constant", value=None):
    def fn(t, x):
        if value is None:
            return t.nn.functional.pad(x, pad, mode=mode)
        return t.nn.functional.pad(x, pad, mode=mode, value=value)
    return fn


# (id, input shape, pad, mode, value)
PAD_CASES = [
    ("constant_1d", (2, 3, 5), (1, 2), "constant", None),
    ("constant_value", (2, 3, 5), (2, 0), "constant", 1.5),
    ("constant_2d", (2, 3, 4, 5), (1, 2, 2, 1), "constant", -0.5),
    ("constant_3d", (1, 2, 3, 4, 2), (1, 0, 0, 2, 1, 1), "constant", None),
    ("constant_negative_crop", (2, 3, 6, 5), (-1, 2, 0, -2), "constant", 1.5),
    ("constant_all_negative", (2, 3, 6, 5), (-1, -2, -2, -1), "constant", None),
    ("constant_crop_to_empty", (2, 3, 4), (-2, -2), "constant", None),
    ("constant_last_dim_of_4d", (2, 3, 4, 5), (3, 1), "constant", None),
    ("constant_every_dim", (2, 3, 4), (1, 1, 0, 2, 1, 0), "constant", 2.0),
    ("constant_1d_tensor", (5,), (2, 3), "constant", None),
    ("constant_zero_amounts", (2, 3), (0, 0, 0, 0), "constant", None),
    ("constant_empty_pad", (2, 3), (), "constant", None),
    ("constant_0d_empty_pad", (), (), "constant", None),
    ("constant_empty_input", (0, 3, 4), (1, 1, 2, 0), "constant", 3.0),
    ("constant_nan_value", (2, 3), (1, 1), "constant", float("nan")),
    ("constant_6d", (1, 2, 1, 2, 1, 2), (1, 1, 0, 0, 1, 0, 0, 0, 1, 1), "constant", None),
    ("reflect_1d", (2, 3, 5), (2, 3), "reflect", None),
    ("reflect_1d_unbatched", (3, 5), (4, 1), "reflect", None),
    ("reflect_1d_max_pad", (2, 3, 4), (3, 3), "reflect", None),
    ("reflect_2d", (2, 3, 4, 5), (1, 2, 2, 1), "reflect", None),
    ("reflect_2d_unbatched", (3, 4, 5), (0, 4, 3, 0), "reflect", None),
    ("reflect_3d", (1, 2, 3, 4, 3), (1, 2, 2, 1, 2, 1), "reflect", None),
    ("reflect_3d_unbatched", (2, 3, 4, 3), (2, 0, 0, 3, 1, 2), "reflect", None),
    ("reflect_negative", (2, 3, 5), (-1, 2), "reflect", None),
    ("reflect_negative_2d", (2, 3, 5, 6), (2, -1, -1, 1), "reflect", None),
    ("reflect_value_zero_accepted", (2, 3, 5), (1, 1), "reflect", 0.0),
    ("reflect_empty_batch", (0, 3, 5), (1, 2), "reflect", None),
    ("replicate_1d", (2, 3, 4), (3, 5), "replicate", None),
    ("replicate_1d_length_1", (2, 3, 1), (2, 1), "replicate", None),
    ("replicate_2d", (2, 3, 4, 5), (1, 6, 2, 1), "replicate", None),
    ("replicate_2d_unbatched", (3, 2, 2), (2, 2, 3, 3), "replicate", None),
    ("replicate_3d", (1, 2, 3, 2, 3), (1, 2, 3, 1, 0, 2), "replicate", None),
    ("replicate_negative", (2, 3, 6, 5), (2, -1, -1, -1), "replicate", None),
    ("replicate_negative_3d", (1, 2, 3, 4, 5), (-1, -1, 1, 2, 1, 1), "replicate", None),
    ("replicate_to_empty_2d", (1, 2, 3, 4), (-2, -2, 0, 0), "replicate", None),
    ("circular_1d", (2, 3, 5), (2, 3), "circular", None),
    ("circular_1d_full_wrap", (2, 3, 4), (4, 4), "circular", None),
    ("circular_2d", (2, 3, 4, 5), (1, 2, 3, 1), "circular", None),
    ("circular_2d_unbatched", (3, 4, 5), (2, 0, 0, 1), "circular", None),
    ("circular_3d", (1, 2, 3, 4, 3), (1, 1, 2, 2, 3, 0), "circular", None),
    ("circular_negative_left", (2, 3, 5), (-1, 2), "circular", None),
    ("circular_negative_right", (2, 3, 5, 6), (2, -1, -1, 1), "circular", None),
    ("circular_negative_both", (1, 2, 5, 6, 4), (-1, -1, 1, 2, 1, 1), "circular", None),
    ("circular_crop_to_empty", (2, 3, 3), (-2, -1), "circular", None),
    ("circular_empty_channels", (2, 0, 3), (1, 1), "circular", None),
]


@pytest.mark.parametrize("shape,pad,mode,value", [c[1:] for c in PAD_CASES], ids=[c[0] for c in PAD_CASES])
def test_pad(shape, pad, mode, value):
    check(pad_fn(pad, mode, value), [np.asarray(r(*shape))], dtypes=F64_32)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float16"])
def test_pad_other_dtypes(mode, dtype):
    """Integer (and half) tensors pad in their own dtype; a float fill value is cast as torch casts it."""
    x = (r(2, 3, 4, 5) * 5).astype(dtype)
    check(pad_fn((1, 2, 2, 1), mode), [x], grad=False)
    if mode == "constant":
        check(pad_fn((1, 2), mode, 2.7), [x], grad=False)


def test_pad_bool_constant_and_circular():
    x = r(2, 3, 4) > 0
    check(pad_fn((1, 2), "constant", True), [x], grad=False)
    check(pad_fn((1, 2), "circular"), [x], grad=False)


NONCONTIG_CASES = [
    ("constant_transposed", lambda t, x: t.nn.functional.pad(x.transpose(1, 2), (1, 2, -1, 1), value=0.5),
     (2, 4, 3)),
    ("reflect_strided", lambda t, x: t.nn.functional.pad(x[:, ::2, 1:], (2, 1), mode="reflect"), (2, 6, 5)),
    ("replicate_permuted", lambda t, x: t.nn.functional.pad(x.permute(0, 3, 1, 2), (1, 1, 2, 0), mode="replicate"),
     (2, 4, 5, 3)),
    ("circular_expanded", lambda t, x: t.nn.functional.pad(x.expand(3, 2, 4), (2, 1), mode="circular"), (1, 2, 4)),
]


@pytest.mark.parametrize("fn,shape", [c[1:] for c in NONCONTIG_CASES], ids=[c[0] for c in NONCONTIG_CASES])
def test_pad_noncontiguous(fn, shape):
    check(fn, [r(*shape)], dtypes=F64_32)


@settings(max_examples=25, deadline=None)
@given(nd=st.integers(1, 3), batched=st.booleans(), mode=st.sampled_from(["constant", "reflect", "replicate",
                                                                         "circular"]),
       data=st.data())
def test_pad_random(nd, batched, mode, data):
    """Random sizes and amounts (negative included): same values and gradients, or the same exception class."""
    shape = tuple(data.draw(st.integers(1, 4)) for _ in range(nd + 1 + batched))
    pad = tuple(data.draw(st.integers(-3, 4)) for _ in range(2 * nd))
    fn = pad_fn(pad, mode)
    x = r(*shape)
    if mode == "circular":  # wrapping beyond what cropping left: torch copies overlapping memory (undefined)
        pairs = list(zip(pad[::2], pad[1::2]))[::-1]
        assume(all(max(lo, hi, 0) <= n - max(-lo, 0) - max(-hi, 0) for n, (lo, hi) in zip(shape[-nd:], pairs)))
    try:
        expected = fn(torch, torch.from_numpy(x))
    except (RuntimeError, NotImplementedError) as ex:
        check_raises(lambda t: fn(t, t.from_numpy(x.copy())), type(ex))
        return
    if expected.numel() == 0:  # torch's 3-d reflection backward leaves such an input's gradient uninitialised
        check(fn, [x], grad=False, dtypes=["float64"])
        _assert_zero_grad(fn, x)
        return
    check(fn, [x], dtypes=["float64"])


def _assert_zero_grad(fn, x):
    """An empty output passes no gradient back: ember's input gradient is all zeros."""
    xe = ember.from_numpy(x.copy()).requires_grad_(True)
    fn(ember, xe).sum().backward()
    assert xe.grad is not None and xe.grad.shape == xe.shape and not xe.grad.numpy().any()


def test_pad_empty_output_passes_zero_gradient():
    """The case of test_pad_random that torch's 3-d reflection backward gets wrong (uninitialised memory)."""
    fn = pad_fn((1, -3, -1, 3, 0, -3), "reflect")
    x = r(4, 4, 4, 2)
    check(fn, [x], grad=False, dtypes=["float64"])
    _assert_zero_grad(fn, x)


# ---- modules ---------------------------------------------------------------------------------------------------------
# (id, builder(nn), input shape)
MODULE_CASES = [
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d(2), (2, 3, 5)),
    ("ReflectionPad1d_tuple_unbatched", lambda nn: nn.ReflectionPad1d((1, 3)), (3, 5)),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d(2), (2, 3, 4, 5)),
    ("ReflectionPad2d_tuple", lambda nn: nn.ReflectionPad2d((1, 0, 2, 3)), (3, 4, 5)),
    ("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), (1, 2, 3, 4, 3)),
    ("ReflectionPad3d_tuple", lambda nn: nn.ReflectionPad3d((1, 2, 0, 1, 2, 0)), (2, 3, 4, 3)),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d((3, 1)), (2, 3, 4)),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d(3), (2, 2, 3, 4)),
    ("ReplicationPad3d", lambda nn: nn.ReplicationPad3d((2, 1, 0, 2, 1, 1)), (1, 2, 3, 2, 3)),
    ("ReplicationPad3d_unbatched", lambda nn: nn.ReplicationPad3d(1), (2, 2, 2, 3)),
    ("ZeroPad1d", lambda nn: nn.ZeroPad1d(2), (2, 3, 4)),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 2, 3, 0)), (2, 3, 4, 5)),
    ("ZeroPad2d_negative", lambda nn: nn.ZeroPad2d((-1, 2, 1, -2)), (2, 3, 4, 5)),
    ("ZeroPad3d", lambda nn: nn.ZeroPad3d(1), (1, 2, 3, 2, 3)),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), (2, 3, 4)),
    ("ConstantPad1d_tuple", lambda nn: nn.ConstantPad1d((0, 3), -1.0), (3, 4)),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d((1, 2, 0, 1), 0.25), (2, 3, 4, 5)),
    ("ConstantPad3d", lambda nn: nn.ConstantPad3d(1, 2.0), (2, 3, 2, 4)),
    ("CircularPad1d", lambda nn: nn.CircularPad1d(2), (2, 3, 4)),
    ("CircularPad2d", lambda nn: nn.CircularPad2d((1, 2, 3, 0)), (2, 3, 4, 5)),
    ("CircularPad3d", lambda nn: nn.CircularPad3d(1), (1, 2, 3, 2, 3)),
    ("CircularPad3d_tuple_unbatched", lambda nn: nn.CircularPad3d((0, 1, 2, 0, 1, 1)), (2, 3, 2, 3)),
]


@pytest.mark.parametrize("build,shape", [c[1:] for c in MODULE_CASES], ids=[c[0] for c in MODULE_CASES])
def test_pad_module(build, shape):
    check(lambda t, x: build(t.nn)(x), [r(*shape)], dtypes=F64_32)
    same(lambda t: (repr(build(t.nn)), build(t.nn).padding, getattr(build(t.nn), "value", None)))


@pytest.mark.parametrize("build", [c[1] for c in MODULE_CASES], ids=[c[0] for c in MODULE_CASES])
def test_pad_module_state(build):
    """No parameters or buffers; __constants__-style attributes as torch's."""
    same(lambda t: (list(build(t.nn).state_dict()), type(build(t.nn).padding).__name__))


def test_pad_module_in_sequential_repr():
    same(lambda t: repr(t.nn.Sequential(t.nn.ReflectionPad2d(1), t.nn.ZeroPad2d((1, 0, 0, 1)),
                                         t.nn.ConstantPad3d(2, 0.5), t.nn.CircularPad1d(3))))


# ---- double backward -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,pad", [("constant", (1, -1, 2, 0)), ("reflect", (2, 1, 1, 2)),
                                      ("replicate", (2, 0, 1, 3)), ("circular", (1, 2, -1, 1))])
def test_pad_gradgradcheck(mode, pad):
    x = ember.tensor(r(1, 2, 3, 4), requires_grad=True)
    fn = lambda x: ember.nn.functional.pad(x, pad, mode=mode)  # noqa: E731
    assert ember.autograd.gradcheck(fn, [x])
    assert ember.autograd.gradgradcheck(fn, [x])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradient_penalty(mode):
    """Second derivative through padding feeding a nonlinearity, against torch."""
    x0 = r(2, 2, 4, 5)

    def run(t):
        x = t.tensor(x0.copy(), requires_grad=True)
        y = t.nn.functional.pad(x, (2, 1, 1, 2), mode=mode).sin().sum()
        g, = t.autograd.grad(y, x, create_graph=True)
        g.pow(2).sum().backward()
        return x.grad
    same(run)


# ---- errors ----------------------------------------------------------------------------------------------------------
def z(t, *shape, dtype=None):
    return t.zeros(*shape, dtype=dtype or t.float32)


def P(t):
    return t.nn.functional.pad


ERROR_CASES = [
    ("odd_length", lambda t: P(t)(z(t, 1, 2, 3), (1,))),
    ("odd_length_reflect", lambda t: P(t)(z(t, 1, 2, 3), (1, 2, 3), mode="reflect")),
    ("too_long", lambda t: P(t)(z(t, 3), (1, 1, 1, 1))),
    ("too_long_0d", lambda t: P(t)(t.tensor(1.0), (1, 1))),
    ("too_long_reflect", lambda t: P(t)(z(t, 1, 2, 3), (1,) * 8, mode="reflect")),
    ("float_amount", lambda t: P(t)(z(t, 2, 3), (1.0, 1))),
    ("unknown_mode", lambda t: P(t)(z(t, 1, 2, 3), (1, 0), mode="wrap")),
    ("zeros_is_not_a_mode", lambda t: P(t)(z(t, 1, 2, 3), (1, 0), mode="zeros")),
    ("reflect_with_value", lambda t: P(t)(z(t, 1, 2, 3), (1, 1), mode="reflect", value=2.0)),
    ("circular_with_value", lambda t: P(t)(z(t, 1, 2, 3), (1, 1), mode="circular", value=1.0)),
    ("reflect_1d_tensor", lambda t: P(t)(z(t, 3), (1, 1), mode="reflect")),
    ("reflect_4d_with_2_amounts", lambda t: P(t)(z(t, 1, 2, 3, 4), (1, 1), mode="reflect")),
    ("replicate_6d", lambda t: P(t)(z(t, 1, 2, 3, 3, 3, 3), (1,) * 6, mode="replicate")),
    ("circular_4d_with_2_amounts", lambda t: P(t)(z(t, 1, 2, 3, 4), (1, 1), mode="circular")),
    ("reflect_empty_amounts", lambda t: P(t)(z(t, 1, 2, 3), (), mode="reflect")),
    ("reflect_too_large", lambda t: P(t)(z(t, 1, 2, 3), (3, 0), mode="reflect")),
    ("reflect_too_large_right", lambda t: P(t)(z(t, 1, 2, 3), (0, 3), mode="reflect")),
    ("reflect_too_large_h", lambda t: P(t)(z(t, 1, 2, 3, 4), (1, 1, 0, 3), mode="reflect")),
    ("reflect_too_large_w_and_h", lambda t: P(t)(z(t, 1, 2, 4, 4), (4, 4, 4, 4), mode="reflect")),
    ("reflect_too_large_d", lambda t: P(t)(z(t, 1, 2, 3, 4, 5), (0, 0, 0, 0, 3, 1), mode="reflect")),
    ("reflect_too_large_unbatched", lambda t: P(t)(z(t, 3, 3), (3, 3), mode="reflect")),
    ("reflect_negative_and_large", lambda t: P(t)(z(t, 1, 2, 3), (-1, 3), mode="reflect")),
    ("reflect_crop_too_much", lambda t: P(t)(z(t, 1, 2, 3), (-2, -1), mode="reflect")),
    ("replicate_crop_too_much", lambda t: P(t)(z(t, 1, 2, 3), (-3, -1), mode="replicate")),
    ("reflect_2d_too_small", lambda t: P(t)(z(t, 1, 1, 1), (0, -1, 0, -1), mode="reflect")),
    ("replicate_2d_too_small", lambda t: P(t)(z(t, 1, 2, 3, 4), (-2, -2, -3, 0), mode="replicate")),
    ("reflect_3d_too_small", lambda t: P(t)(z(t, 1, 2, 3, 3, 3), (-3, 0, -3, 0, -3, 0), mode="reflect")),
    ("replicate_3d_too_small", lambda t: P(t)(z(t, 1, 2, 3, 3, 3), (-3, 0, -3, 0, -3, 0), mode="replicate")),
    ("replicate_2d_negative_size", lambda t: P(t)(z(t, 1, 2, 3, 4), (-2, -3, 0, 0), mode="replicate")),
    ("replicate_3d_negative_size", lambda t: P(t)(z(t, 1, 2, 3, 4, 5), (0, 0, 0, 0, -2, -3), mode="replicate")),
    ("circular_wraps_twice", lambda t: P(t)(z(t, 1, 2, 3), (4, 0), mode="circular")),
    ("circular_wraps_twice_h", lambda t: P(t)(z(t, 1, 2, 3, 4), (0, 0, 4, 0), mode="circular")),
    ("circular_negative_size", lambda t: P(t)(z(t, 1, 2, 3), (-3, -1), mode="circular")),
    ("constant_negative_size", lambda t: P(t)(z(t, 1, 2, 3), (-3, -1))),
    ("reflect_empty_dim", lambda t: P(t)(z(t, 1, 2, 0), (1, 1), mode="reflect")),
    ("reflect_empty_channels_unbatched", lambda t: P(t)(z(t, 0, 3), (1, 1), mode="reflect")),
    ("replicate_empty_channels_2d", lambda t: P(t)(z(t, 2, 0, 3, 4), (1, 1, 1, 1), mode="replicate")),
    ("replicate_empty_depth_3d", lambda t: P(t)(z(t, 2, 2, 0, 4, 3), (1,) * 6, mode="replicate")),
    ("reflect_bool", lambda t: P(t)(z(t, 1, 2, 3, dtype=t.bool), (1, 1), mode="reflect")),
    ("replicate_bool_2d", lambda t: P(t)(z(t, 1, 2, 3, 3, dtype=t.bool), (1, 1, 1, 1), mode="replicate")),
    ("module_reflect_too_large", lambda t: t.nn.ReflectionPad2d(3)(z(t, 1, 3, 3))),
    ("module_reflect_rank", lambda t: t.nn.ReflectionPad2d(1)(z(t, 3))),
    ("module_zero_rank", lambda t: t.nn.ZeroPad2d(1)(z(t, 3))),
    ("module_constant_rank", lambda t: t.nn.ConstantPad3d(1, 2.0)(z(t, 3))),
    ("module_circular_rank", lambda t: t.nn.CircularPad2d(1)(z(t, 1, 2, 3, 4, 5))),
    ("module_wrong_tuple_length", lambda t: t.nn.ReflectionPad2d((1, 2, 3))(z(t, 1, 2, 3, 4))),
    ("constant_crop_more_than_size", lambda t: P(t)(z(t, 1, 2, 2), (1, -3))),
]


@pytest.mark.parametrize("fn", [c[1] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors(fn):
    same_error(fn)


@pytest.mark.parametrize("shape,pad", [((1, 1, 3), (-1, 3)), ((1, 1, 4), (4, -1)), ((1, 1, 4, 3), (0, 0, -3, 2))])
def test_circular_wrap_beyond_cropped_input(shape, pad):
    """Cropping then wrapping more than what is left: torch fails on overlapping memory; ember raises the same class
    with a message naming the padding and the input."""
    check_raises(lambda t: P(t)(z(t, *shape), pad, mode="circular"), RuntimeError, r"padding \(.*input \[")


# ---- reflect/replicate/circular fast path (border copies from the output buffer) -------------------------------------
def _nonfinite(*shape):
    a = r(*shape) * 1e30
    a.reshape(-1)[::7] = np.inf
    a.reshape(-1)[3::11] = -np.inf
    a.reshape(-1)[5::13] = np.nan
    return a


BORDER_CASES = [  # (id, input shape, pad): widest legal pads, zero pads on some dims, unbatched inputs
    ("1d_widest", (2, 3, 4), (3, 3)),
    ("2d_one_side", (2, 3, 4, 5), (0, 4, 3, 0)),
    ("2d_unbatched", (3, 4, 5), (4, 1, 0, 3)),
    ("3d_all_dims", (1, 2, 3, 4, 5), (2, 1, 3, 0, 1, 2)),
    ("3d_last_only", (2, 3, 4, 5), (1, 2, 0, 0, 0, 0)),
]


@pytest.mark.parametrize("data", [r, _nonfinite], ids=["normal", "nonfinite"])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [c[1:] for c in BORDER_CASES], ids=[c[0] for c in BORDER_CASES])
def test_border_pad_fast_path(shape, pad, mode, data):
    if mode == "reflect":
        pad = tuple(min(p, n - 1) for p, n in zip(pad, [s for s in reversed(shape[-len(pad) // 2:]) for _ in (0, 1)]))
    check(pad_fn(pad, mode), [data(*shape)], dtypes=("float64", "float32"))
    check(lambda t, x: pad_fn(pad, mode)(t, x.transpose(-1, -2)), [r(*shape[:-2], shape[-1], shape[-2])])
    x = ember.tensor(r(*shape), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x: ember.nn.functional.pad(x, pad, mode=mode), [x])
