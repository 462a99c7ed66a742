"""ember.testing against torch.testing: assert_close outcomes and messages, make_tensor ranges, flags and errors."""
import collections
import math
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.testing

NAN, INF = float("nan"), float("inf")


class T:
    """A tensor spec: values, dtype name, and an optional transposed (non-contiguous) or Parameter form."""

    def __init__(self, values, dtype="float32", transposed=False, param=False):
        self.array = np.array(values, dtype=dtype)
        self.transposed = transposed
        self.param = param

    def build(self, lib):
        t = lib.tensor(self.array.T.copy() if self.transposed else self.array)
        t = t.t() if self.transposed else t
        return lib.nn.Parameter(t) if self.param else t


def build(lib, spec):
    """The spec with every T made a tensor of lib; containers keep their type."""
    if isinstance(spec, T):
        return spec.build(lib)
    if isinstance(spec, ember.Size):
        return lib.Size(spec)
    if isinstance(spec, (list, tuple)):
        return type(spec)(build(lib, s) for s in spec)
    if isinstance(spec, dict):
        return type(spec)((k, build(lib, v)) for k, v in spec.items())
    return spec


def outcome(fn, *args, **kwargs):
    """(exception type name, message) of a call, or None when it returns."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            fn(*args, **kwargs)
    except Exception as error:
        return type(error).__name__, str(error)
    return None


def run_both(name, actual, expected, **kwargs):
    """Run torch.testing.<name> and ember.testing.<name> on the same specs; their outcomes must be identical."""
    want = outcome(getattr(torch.testing, name), build(torch, actual), build(torch, expected), **kwargs)
    got = outcome(getattr(ember.testing, name), build(ember, actual), build(ember, expected), **kwargs)
    assert got == want
    return got


CASES = {
    # passing and failing value comparisons, float
    "f32-equal": (T([1.0, 2.0]), T([1.0, 2.0]), {}),
    "f32-within-default": (T([1.0, 100.0]), T([1.000005, 100.0001]), {}),
    "f32-mismatch": (T([1.0, 2.0, 3.0, 4.0]), T([1.0, 2.5, 3.0, 4.0]), {}),
    "f32-ties-first-index": (T([1.0, 3.0, 5.0, 2.0]), T([0.0, 2.0, 4.0, 2.0]), {}),
    "f32-2d-index": (T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), T([[1.0, 2.0, 3.0], [4.0, 9.0, 6.5]]), {}),
    "f32-3d-many": (T(np.arange(24.0).reshape(2, 3, 4)), T(np.arange(24.0).reshape(2, 3, 4) * 1.01), {}),
    "f64-just-outside": (T([1.0], "float64"), T([1.0 + 3e-7], "float64"), {}),
    "f64-just-inside": (T([1.0], "float64"), T([1.0 + 1.5e-7], "float64"), {}),
    "f16-close": (T([1.0, 2.0], "float16"), T([1.0, 2.001], "float16"), {}),
    "f16-mismatch": (T([1.0, 2.0], "float16"), T([1.0, 2.01], "float16"), {}),
    "f16-explicit-tol": (T([1000.0, 2.0], "float16"), T([1001.0, 2.0], "float16"), {"rtol": 1e-3, "atol": 0.0}),
    "nan-default": (T([1.0, NAN]), T([1.0, NAN]), {}),
    "nan-equal-nan": (T([1.0, NAN]), T([1.0, NAN]), {"equal_nan": True}),
    "nan-vs-number": (T([1.0, NAN, 5.0, NAN]), T([0.0, 2.0, 4.0, 2.0]), {}),
    "inf-equal": (T([INF, -INF]), T([INF, -INF]), {}),
    "inf-opposite": (T([INF, 1.0]), T([-INF, 1.0]), {}),
    "zero-expected": (T([0.5, 0.0]), T([0.0, 0.0]), {}),
    "empty": (T(np.zeros((0, 3))), T(np.zeros((0, 3))), {}),
    "explicit-zero-tol": (T([1.0, 2.0]), T([1.0, 2.0000002]), {"rtol": 0, "atol": 0}),
    "explicit-atol": (T([1.0, 2.0]), T([1.0, 2.05]), {"rtol": 0.0, "atol": 0.1}),
    "explicit-tol-fails": (T([1.0, 2.0]), T([1.0, 2.5]), {"rtol": 0.01, "atol": 0.1}),
    # integers and bools compare exactly by default
    "int-equal": (T([1, 2, 3], "int64"), T([1, 2, 3], "int64"), {}),
    "int-mismatch": (T([1, 2, 3], "int64"), T([1, 2, 5], "int64"), {}),
    "int-zero-expected": (T([0, 5], "int64"), T([1, 0], "int64"), {}),
    "int32-tol": (T([100, 200], "int32"), T([101, 200], "int32"), {"rtol": 0.0, "atol": 1.0}),
    "int8-wraps-in-isclose": (T([100], "int8"), T([-100], "int8"), {"rtol": 0.0, "atol": 60.0}),
    "uint8-mismatch": (T([0, 255], "uint8"), T([1, 250], "uint8"), {}),
    "bool-equal": (T([True, False], "bool"), T([True, False], "bool"), {}),
    "bool-mismatch": (T([True, False], "bool"), T([False, False], "bool"), {}),
    "bool-tol": (T([True, False], "bool"), T([False, False], "bool"), {"rtol": 0.0, "atol": 1.0}),
    # complex
    "c64-equal": (T([1 + 2j, 3j], "complex64"), T([1 + 2j, 3j], "complex64"), {}),
    "c64-mismatch": (T([1 + 2j, 3j], "complex64"), T([1 + 2j, 3.5j], "complex64"), {}),
    "c128-mismatch": (T([1 + 2j, 3j], "complex128"), T([1.5 + 2j, 3j], "complex128"), {}),
    "c128-nan": (T([complex(NAN, 0)], "complex128"), T([complex(NAN, 0)], "complex128"), {"equal_nan": True}),
    # zero-dimensional tensors use the scalar message
    "0d-f32": (T(1.5), T(1.0), {}),
    "0d-f32-ulp": (T(1.1), T(1.0), {}),
    "0d-int": (T(3, "int64"), T(5, "int64"), {}),
    "0d-bool": (T(True, "bool"), T(False, "bool"), {}),
    "0d-bool-rev": (T(False, "bool"), T(True, "bool"), {}),
    "0d-complex": (T(1 + 1j, "complex64"), T(1 + 2j, "complex64"), {}),
    "0d-nan": (T(NAN), T(NAN), {}),
    # attribute checks
    "shape": (T([1.0, 2.0]), T([1.0, 2.0, 3.0]), {}),
    "shape-2d": (T([[1.0, 2.0]]), T([1.0, 2.0]), {}),
    "dtype-float": (T([1.0, 2.0]), T([1.0, 2.0], "float64"), {}),
    "dtype-int": (T([1, 2], "int32"), T([1, 2], "int64"), {}),
    "dtype-unchecked": (T([1.0, 2.0]), T([1, 2], "int64"), {"check_dtype": False}),
    "dtype-unchecked-fails": (T([1.0, 2.5]), T([1, 2], "int64"), {"check_dtype": False}),
    "dtype-unchecked-f16-f64": (T([1.0, 2.0], "float16"), T([1.0, 2.0004], "float64"), {"check_dtype": False}),
    "dtype-unchecked-uint16": (T([1, 2], "uint16"), T([1, 3], "int64"), {"check_dtype": False}),
    "stride-ignored": (T([[1.0, 2.0], [3.0, 4.0]], transposed=True), T([[1.0, 2.0], [3.0, 4.0]]), {}),
    "stride-checked": (T([[1.0, 2.0], [3.0, 4.0]], transposed=True), T([[1.0, 2.0], [3.0, 4.0]]),
                       {"check_stride": True}),
    "device-layout-flags": (T([1.0]), T([2.0]), {"check_device": False, "check_layout": False}),
    # tolerance arguments
    "rtol-only": (T([1.0]), T([1.0]), {"rtol": 1e-3}),
    "atol-only": (T([1.0]), T([1.0]), {"atol": 1e-3}),
    "rtol-only-numbers": (1.0, 1.0, {"rtol": 1e-3}),
    "rtol-only-nested": ([T([1, 2], "int64")], [T([1, 2], "int64")], {"rtol": 1e-3, "msg": "ignored"}),
    "negative-rtol": (T([1.0, 2.0]), T([1.0, 2.0]), {"rtol": -1.0, "atol": 0.0}),
    # msg
    "msg-string": (T([1.0, 2.0, 3.0]), T([1.0, 4.0, 5.0]), {"msg": "Argh, the tensors are not close!"}),
    "msg-callable": (T([1.0, 2.0, 3.0]), T([1.0, 4.0, 5.0]), {"msg": lambda m: f"Header\n\n{m}\n\nFooter"}),
    "msg-string-nested": ([T([1.0]), T([2.0])], [T([1.0]), T([3.0])], {"msg": "plain"}),
    "msg-callable-nested": ({"a": T([2.0])}, {"a": T([3.0])}, {"msg": lambda m: m.upper()}),
    "msg-shape": (T([1.0]), T([1.0, 2.0]), {"msg": "custom"}),
    # sequences and mappings
    "list-vs-tuple": ([T([1.0]), 2.0, np.array(3.0)], (T([1.0]), 2.0, np.array(3.0)), {}),
    "seq-length": ([1, 2, 3], [1, 2], {}),
    "seq-nested-length": ([[1, 2], [3]], [[1, 2], [3, 4]], {}),
    "seq-nested-fail": ([T([1.0]), [T([2.0]), T([5.0])]], [T([1.0]), [T([2.0]), T([6.0])]], {}),
    "seq-first-failure-reported": ([T([9.0]), T([5.0])], [T([1.0]), T([6.0])], {}),
    "seq-empty": ([], (), {}),
    "map-equal": (collections.OrderedDict([("foo", T(1.0)), ("bar", 2.0)]), {"bar": 2.0, "foo": T(1.0)}, {}),
    "map-keys": ({"a": 1, "b": 2, "d": 4}, {"a": 1, "c": 3}, {}),
    "map-value": ({"a": [1, 2.0]}, {"a": [1, 2.5]}, {}),
    "map-sorted-first-failure": ({"z": 1.0, "a": 2.0}, {"z": 3.0, "a": 4.0}, {}),
    "map-unsortable-keys": ({1: 1.0, "a": 2.0}, {1: 1.0, "a": 2.0}, {}),
    "list-of-maps": ([{"w": T([1.0, 2.0])}], [{"w": T([1.0, 2.1])}], {}),
    "map-vs-seq": ({"a": 1}, [1], {}),
    # Python numbers, bools and None
    "int-int": (1, 1, {}),
    "int-int-mismatch": (1, 2, {}),
    "float-int": (1.0, 1, {}),
    "float-int-unchecked": (1.0, 1, {"check_dtype": False}),
    "float-mismatch": (1e-9, 1e-10, {}),
    "float-equality": (1e-9, 1e-10, {"rtol": 0, "atol": 0}),
    "float-close": (1.0, 1.0 + 1e-8, {}),
    "float-nan": (NAN, NAN, {}),
    "float-nan-equal": (NAN, NAN, {"equal_nan": True}),
    "float-inf": (INF, INF, {}),
    "float-inf-opposite": (INF, -INF, {}),
    "float-zero-expected": (0.5, 0.0, {}),
    "complex-mismatch": (1 + 2j, 1 + 3j, {}),
    "complex-close": (1 + 2j, 1 + 2j + 1e-9, {}),
    "bool-bool": (True, True, {}),
    "bool-bool-mismatch": (True, False, {}),
    "bool-in-list": ([True], [False], {}),
    "bool-int": (True, 1, {}),
    "none-none": (None, None, {}),
    "none-number": (None, 1, {}),
    "string": ("a", "a", {}),
    # NumPy inputs
    "np-equal": (np.array([1.0, 2.0]), np.array([1.0, 2.0]), {}),
    "np-mismatch": (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.5], np.float32), {}),
    "np-int": (np.array([1, 2]), np.array([1, 3]), {}),
    "np-dtype": (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0]), {}),
    "np-0d": (np.array(3.0), np.array(3.5), {}),
    "np-scalar-float": (np.float32(1.5), 1.5, {}),
    "np-scalar-mismatch": (np.float64(1.5), np.float64(2.5), {}),
    "np-scalar-int-float": (np.int32(1), 1.0, {}),
    "np-bool": (np.bool_(True), False, {}),
    "np-vs-tensor": (np.array([1.0]), T([1.0]), {}),
    # types that are not directly related
    "tensor-vs-number": (T(1.0), 1.0, {}),
    "number-vs-tensor": (1, T(1, "int64"), {}),
    "tensor-vs-list": (T([1.0]), [1.0], {}),
    "param-vs-tensor": (T([1.0], param=True), T([1.0]), {}),
    "param-vs-tensor-strict": (T([1.0], param=True), T([1.0]), {"allow_subclasses": False}),
    "size-vs-tuple": (ember.Size([2, 3]), (2, 3), {}),
    "size-vs-tuple-mismatch": (ember.Size([2, 3]), (2, 4), {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_assert_close_matches_torch(name):
    actual, expected, kwargs = CASES[name]
    run_both("assert_close", actual, expected, **kwargs)


def test_mismatch_message_text():
    """The brief's example message, verbatim (an anchor independent of torch's output)."""
    got = outcome(ember.testing.assert_close, ember.tensor([1.0, 2.0, 3.0, 4.0]), ember.tensor([1.0, 2.5, 3.0, 4.0]))
    assert got == ("AssertionError", "Tensor-likes are not close!\n\nMismatched elements: 1 / 4 (25.0%)\n"
                   "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
                   "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)")


@pytest.mark.parametrize("name, kwargs", [
    ("shape", {}), ("dtype", {}), ("stride", {"check_stride": True})])
def test_attribute_messages(name, kwargs):
    """Attribute mismatches print torch.Size / torch.float32 / stride tuples as torch does."""
    pairs = {"shape": (T([1.0, 2.0]), T([1.0, 2.0, 3.0])), "dtype": (T([1.0]), T([1.0], "float64")),
             "stride": (T([[1.0, 2.0], [3.0, 4.0]], transposed=True), T([[1.0, 2.0], [3.0, 4.0]]))}
    expect = {"shape": "The values for attribute 'shape' do not match: torch.Size([2]) != torch.Size([3]).",
              "dtype": "The values for attribute 'dtype' do not match: torch.float32 != torch.float64.",
              "stride": "The values for attribute 'stride()' do not match: (1, 2) != (2, 1)."}
    assert run_both("assert_close", *pairs[name], **kwargs) == ("AssertionError", expect[name])


def test_failure_trailer_names_nested_item():
    got = run_both("assert_close", {"a": [T([1.0]), T([2.0])]}, {"a": [T([1.0]), T([3.0])]})
    assert got[1].endswith("\n\nThe failure occurred for item ['a'][1]")


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_integer_relative_difference_uses_default_dtype(default):
    """Integer true division in the message happens in the default float dtype, as in torch."""
    with torch_default_dtype(default):
        got = run_both("assert_close", T([1, 2, 3], "int64"), T([1, 2, 7], "int64"))
    assert "0.5714285" in got[1]


class torch_default_dtype:
    """Set torch's and ember's default dtype for a block."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.saved = torch.get_default_dtype(), ember.get_default_dtype()
        torch.set_default_dtype(getattr(torch, self.name))
        ember.set_default_dtype(getattr(ember, self.name))

    def __exit__(self, *exc):
        torch.set_default_dtype(self.saved[0])
        ember.set_default_dtype(self.saved[1])


def test_float16_isclose_boundary():
    """Half tolerances: many values around the rtol boundary give the same verdicts as torch."""
    rng = np.random.default_rng(0)
    expected = rng.uniform(-100, 100, 4000).astype(np.float16)
    actual = (expected.astype(np.float32) * (1 + rng.uniform(-2e-3, 2e-3, 4000))).astype(np.float16)
    run_both("assert_close", T(actual, "float16"), T(expected, "float16"))


def test_random_float32_messages():
    rng = np.random.default_rng(1)
    for _ in range(20):
        expected = rng.standard_normal((3, 5)).astype(np.float32)
        actual = expected + (rng.random((3, 5)) < 0.3) * rng.standard_normal((3, 5)).astype(np.float32) * 1e-4
        run_both("assert_close", T(actual), T(expected))


ALLCLOSE_CASES = [
    (T([1.0, 2.0]), T([1.0, 2.0001]), {}),
    (T([1.0, 2.0]), T([1.0, 2.01]), {}),
    (T([1.0, NAN]), T([1.0, NAN]), {}),
    (T([1.0, NAN]), T([1.0, NAN]), {"equal_nan": False}),
    (T([1.0, 2.0], "float64"), T([1.0, 2.00001], "float64"), {}),
    (T([1.0, 2.0], "float64"), [1.0, 2.0001], {}),
    ([1, 2], [1, 3], {}),
    (T([1, 2], "int64"), T([1.0, 2.0]), {}),
    (T([1.0, 2.0]), T([1.0, 3.0]), {"msg": "custom"}),
    (T([1.0, 2.0]), T([1.0, 3.0]), {"msg": ""}),
    (T([1.0, 2.0]), T([1.0, 2.5]), {"rtol": 0.5, "atol": 0.0}),
    (T([1.0, 2.0]), T([1.0, 2.5]), {"rtol": 0.5}),
]


@pytest.mark.parametrize("case", range(len(ALLCLOSE_CASES)))
def test_assert_allclose_matches_torch(case):
    actual, expected, kwargs = ALLCLOSE_CASES[case]
    run_both("assert_allclose", actual, expected, **kwargs)


def test_assert_allclose_warns_like_torch():
    with pytest.warns(FutureWarning) as want:
        torch.testing.assert_allclose(torch.tensor([1.0]), torch.tensor([1.0]))
    with pytest.warns(FutureWarning) as got:
        ember.testing.assert_allclose(ember.tensor([1.0]), ember.tensor([1.0]))
    assert [str(w.message) for w in got] == [str(w.message) for w in want]
    assert got[0].filename == __file__


def test_public_names_and_imports():
    public = {n for n in dir(torch.testing) if not n.startswith("_")}
    assert public <= set(dir(ember.testing))
    assert ember.testing.assert_close is __import__("ember.testing", fromlist=["x"]).assert_close
    from ember.testing import assert_close, make_tensor  # noqa: F401
    with pytest.raises(NotImplementedError, match="FileCheck"):
        ember.testing.FileCheck()


# ---- make_tensor -----------------------------------------------------------------------------------------------

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16", "float32",
          "float64", "complex64", "complex128"]
DEFAULT_RANGE = {"bool": (0, 1), "uint8": (0, 9), "uint16": (0, 9), "uint32": (0, 9), "uint64": (0, 9)}


def make_both(*shape, dtype, **kwargs):
    """make_tensor on torch and on ember with the same arguments (dtype given by name)."""
    torch.manual_seed(0)
    ember.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return (torch.testing.make_tensor(*shape, dtype=getattr(torch, dtype), device="cpu", **kwargs),
                ember.testing.make_tensor(*shape, dtype=getattr(ember, dtype), device="cpu", **kwargs))


def components(t):
    """The real (and imaginary) values of a tensor as a float64 NumPy array."""
    a = t.detach().numpy()
    return np.concatenate([a.real.ravel(), a.imag.ravel()]) if np.iscomplexobj(a) else a.ravel().astype(np.float64)


def assert_same_kind(t, e):
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    assert e.is_contiguous() == t.is_contiguous()
    assert e.stride() == t.stride()
    assert e.requires_grad == t.requires_grad
    assert e.is_leaf == t.is_leaf


@pytest.mark.parametrize("dtype", DTYPES)
def test_make_tensor_default_range(dtype):
    """Default ranges (torch's table); a large sample must reach both ends of the integer ranges."""
    t, e = make_both(2000, dtype=dtype)
    assert_same_kind(t, e)
    lo, hi = DEFAULT_RANGE.get(dtype, (-9, 9))
    for values in (components(t), components(e)):
        assert values.min() >= lo and values.max() <= hi
        if dtype in DEFAULT_RANGE or not dtype.startswith(("float", "complex")):
            assert values.min() == lo and values.max() == hi
        else:
            assert values.min() < lo + 1 and values.max() > hi - 1


@pytest.mark.parametrize("dtype, low, high", [
    ("uint8", -5, 300), ("int8", -1000, 1000), ("int16", 2.5, 5.5), ("int64", -3, 0), ("bool", 1, None),
    ("bool", None, 1), ("int32", None, -5), ("uint8", 250, 1000), ("float32", 0.5, 0.75), ("float64", -1e-3, 0),
    ("float16", 60000, 1e6), ("complex64", 2, 3), ("float32", -INF, INF), ("float16", -INF, INF),
    ("float64", -INF, INF), ("complex128", -INF, INF)])
def test_make_tensor_low_high(dtype, low, high):
    """Clamping and ceiling of low/high: integer values seen in a large sample equal torch's; floats stay in range."""
    t, e = make_both(5000, dtype=dtype, low=low, high=high)
    assert_same_kind(t, e)
    tv, ev = components(t), components(e)
    assert np.isfinite(ev).all() and np.isfinite(tv).all()
    if dtype in ("float16", "float32", "float64", "complex64", "complex128"):
        info = torch.finfo(t.dtype)
        lo, hi = max(-9 if low is None else low, info.min), min(9 if high is None else high, info.max)
        for values in (tv, ev):
            assert lo <= values.min() and values.max() <= hi
    else:
        assert set(np.unique(ev)) == set(np.unique(tv))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (5,), (1,), (0, 3), (2, 1), (1, 4), (2, 3, 2), ()])
def test_make_tensor_noncontiguous(dtype, shape):
    t, e = make_both(*shape, dtype=dtype, noncontiguous=True)
    assert_same_kind(t, e)


@pytest.mark.parametrize("shape", [(), (2, 3), ((2, 3),), ([2, 3],), (ember.Size([2, 3]),), (0,), (4, 0, 2)])
def test_make_tensor_shape_forms(shape):
    torch_shape = tuple(torch.Size(s) if isinstance(s, ember.Size) else s for s in shape)
    torch.manual_seed(0)
    t = torch.testing.make_tensor(*torch_shape, dtype=torch.float32, device="cpu")
    e = ember.testing.make_tensor(*shape, dtype=ember.float32, device="cpu")
    assert_same_kind(t, e)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("noncontiguous", [False, True])
def test_make_tensor_requires_grad(dtype, noncontiguous):
    t, e = make_both(3, 4, dtype=dtype, requires_grad=True, noncontiguous=noncontiguous)
    assert_same_kind(t, e)
    assert e.requires_grad and e.is_leaf


@pytest.mark.parametrize("dtype, low, high", [
    ("bool", 0, 1), ("int8", -1, 1), ("uint8", 0, 1), ("int64", -1, 1), ("float16", 0, 1e-7), ("float32", 0, 1e-45),
    ("float64", -1, 1)])
def test_make_tensor_exclude_zero(dtype, low, high):
    """Zeros become 1 (exact types) or finfo.tiny (floating); the set of integer values matches torch's."""
    t, e = make_both(4000, dtype=dtype, low=low, high=high, exclude_zero=True)
    assert_same_kind(t, e)
    tv, ev = components(t), components(e)
    assert (ev != 0).all() and (tv != 0).all()
    if not dtype.startswith("float"):
        assert set(np.unique(ev)) == set(np.unique(tv))
    elif dtype != "float64":
        tiny = ember.finfo(getattr(ember, dtype)).tiny
        assert (ev == tiny).any() and (tv == tiny).any()


def test_make_tensor_low_equals_high_warns():
    for lib in (torch, ember):
        with pytest.warns(FutureWarning, match=r"Passing `low==high` to `torch.testing.make_tensor`") as record:
            t = lib.testing.make_tensor(5, dtype=lib.float32, device="cpu", low=2.0, high=2.0)
        assert record[0].filename == __file__
        assert (t.numpy() == 2.0).all()


MAKE_ERRORS = [
    ("float32", {"low": NAN}), ("float32", {"high": NAN}), ("int64", {"low": NAN, "high": 3}),
    ("float32", {"low": 3, "high": 1}), ("int64", {"low": 3, "high": 3}), ("float64", {"low": 3.0, "high": -1.0}),
    ("uint8", {"low": 300, "high": 400}), ("uint8", {"high": -1}), ("int8", {"low": -300, "high": -200}),
    ("bool", {"low": 2, "high": 3}), ("float16", {"low": 70000, "high": 80000}),
    ("int64", {"requires_grad": True}), ("bool", {"requires_grad": True}), ("uint8", {"requires_grad": True}),
    ("float32", {"noncontiguous": True, "memory_format": "channels_last"}),
    ("int32", {"noncontiguous": True, "memory_format": "channels_last", "requires_grad": True}),
]


@pytest.mark.parametrize("dtype, kwargs", MAKE_ERRORS)
def test_make_tensor_errors(dtype, kwargs):
    want = outcome(torch.testing.make_tensor, 3, dtype=getattr(torch, dtype), device="cpu", **kwargs)
    got = outcome(ember.testing.make_tensor, 3, dtype=getattr(ember, dtype), device="cpu", **kwargs)
    assert want is not None and got == want


@pytest.mark.parametrize("dtype", [float, np.float32, "float32", None])
def test_make_tensor_unsupported_dtype(dtype):
    want = outcome(torch.testing.make_tensor, 3, dtype=dtype, device="cpu")
    got = outcome(ember.testing.make_tensor, 3, dtype=dtype, device="cpu")
    assert want[0] == "TypeError" and got == want


def test_make_tensor_requires_dtype_and_device():
    for kwargs in ({"device": "cpu"}, {"dtype": "float32"}):
        want = outcome(torch.testing.make_tensor, 3, **{k: getattr(torch, v, v) for k, v in kwargs.items()})
        got = outcome(ember.testing.make_tensor, 3, **{k: getattr(ember, v, v) for k, v in kwargs.items()})
        assert want[0] == "TypeError" and got == want


@pytest.mark.parametrize("dtype", ["bfloat16", "complex32"])
def test_make_tensor_dtypes_numpy_cannot_store(dtype):
    """torch makes these; ember has no storage for them and says so instead of returning another dtype."""
    assert torch.testing.make_tensor(3, dtype=getattr(torch, dtype), device="cpu").dtype == getattr(torch, dtype)
    with pytest.raises(NotImplementedError, match=dtype):
        ember.testing.make_tensor(3, dtype=getattr(ember, dtype), device="cpu")


def test_make_tensor_is_seeded_by_ember():
    ember.manual_seed(123)
    a = ember.testing.make_tensor(10, dtype=ember.float32, device="cpu")
    ember.manual_seed(123)
    b = ember.testing.make_tensor(10, dtype=ember.float32, device="cpu")
    assert np.array_equal(a.numpy(), b.numpy())
    assert not math.isclose(float(a.std()), 0.0)
