"""Tensor factories against torch: tensor/as_tensor/from_numpy, constant fills, ranges, eye, indices, meshgrid."""
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import assert_same, check, check_raises


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(ember.float32)


def same(fn):
    """fn(lib) gives equal values, shapes and dtypes in both libraries (warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fn, [], grad=False, tol=dict(rtol=0, atol=0))


# ---- torch.tensor ------------------------------------------------------------------------------------------------
TENSOR_CASES = {
    "nested ints": lambda t: t.tensor([[1, 2], [3, 4]]),
    "int+float+bool": lambda t: t.tensor([1, 2.5, True]),
    "bools": lambda t: t.tensor([True, False]),
    "int+bool": lambda t: t.tensor([1, True]),
    "float scalar": lambda t: t.tensor(3.5),
    "int scalar": lambda t: t.tensor(3),
    "bool scalar": lambda t: t.tensor(False),
    "complex": lambda t: t.tensor([1 + 2j, 3]),
    "complex scalar": lambda t: t.tensor(-1j),
    "tuple": lambda t: t.tensor((1, 2)),
    "range": lambda t: t.tensor(range(4)),
    "empty list": lambda t: t.tensor([]),
    "empty nested": lambda t: t.tensor([[], []]),
    "empty first row fixes the shape": lambda t: t.tensor([[], [1]]),
    "3d": lambda t: t.tensor([[[1.5], [2]], [[3], [4]]]),
    "list of 0-d float tensors": lambda t: t.tensor([t.tensor(1.5), t.tensor(2.)]),
    "list of 0-d int tensors": lambda t: t.tensor([t.tensor(1), t.tensor(2)]),
    "0-d int tensor and float": lambda t: t.tensor([t.tensor(1), 2.5]),
    "0-d float64 tensor and int": lambda t: t.tensor([t.tensor(1., dtype=t.float64), 2]),
    "0-d int32 tensors": lambda t: t.tensor([t.tensor(1, dtype=t.int32), t.tensor(2, dtype=t.int32)]),
    "one-element 1-d tensors": lambda t: t.tensor([t.tensor([1.]), t.tensor([2.])]),
    "tensor": lambda t: t.tensor(t.tensor([1, 2], dtype=t.int16)),
    "tensor with dtype": lambda t: t.tensor(t.tensor([1.5, -2.5]), dtype=t.int64),
    "numpy float32": lambda t: t.tensor(np.ones(3, np.float32)),
    "numpy uint8": lambda t: t.tensor(np.arange(3, dtype=np.uint8)),
    "numpy float16": lambda t: t.tensor(np.ones(2, np.float16)),
    "numpy non-contiguous": lambda t: t.tensor(np.arange(12.).reshape(3, 4)[:, ::2]),
    "numpy transposed": lambda t: t.tensor(np.arange(6).reshape(2, 3).T),
    "numpy 0-d": lambda t: t.tensor(np.array(2.5)),
    "numpy scalar float32": lambda t: t.tensor(np.float32(1.5)),
    "numpy scalar float64": lambda t: t.tensor(np.float64(1.5)),
    "numpy scalar int32": lambda t: t.tensor(np.int32(3)),
    "numpy scalar bool": lambda t: t.tensor(np.bool_(True)),
    "list of numpy float32 scalars": lambda t: t.tensor([np.float32(1.5), np.float32(2)]),
    "list of numpy float64 scalars": lambda t: t.tensor([np.float64(1.5), 2]),
    "numpy float32 scalar and float": lambda t: t.tensor([np.float32(1.5), 2.0]),
    "numpy uint8 and int8": lambda t: t.tensor([np.uint8(1), np.int8(1)]),
    "numpy scalars mixed precision": lambda t: t.tensor([np.float32(1), np.float64(2)]),
    "list of numpy arrays": lambda t: t.tensor([np.ones(2, np.int32), np.zeros(2, np.int32)]),
    "numpy array and list": lambda t: t.tensor([np.ones(2), [1, 2]]),
    "dtype=float64": lambda t: t.tensor([1, 2], dtype=t.float64),
    "floats to int32 truncate": lambda t: t.tensor([1.7, -2.7], dtype=t.int32),
    "negative to uint8 wraps": lambda t: t.tensor([-1, -255, 255], dtype=t.uint8),
    "floats to uint8": lambda t: t.tensor([1.5, 255.], dtype=t.uint8),
    "numpy array to uint8 wraps": lambda t: t.tensor(np.array([300, -3]), dtype=t.uint8),
    "big float to float16 is inf": lambda t: t.tensor([70000.], dtype=t.float16),
    "ints to bool": lambda t: t.tensor([0, 2], dtype=t.bool),
    "float64 precision kept": lambda t: t.tensor([0.1, 1 / 3], dtype=t.float64),
    "python float in float32": lambda t: t.tensor([0.1, 1 / 3]),
    "int64 limits": lambda t: t.tensor([2 ** 63 - 1, -2 ** 63]),
    "dtype from python type": lambda t: t.tensor([1, 2], dtype=float),
    "overflow to inf in float32": lambda t: t.tensor([1e40]),
    "int beyond int64 beside a float": lambda t: t.tensor([1.5, 2 ** 70]),
    "rows mixing bool, int and float": lambda t: t.tensor([[True, 2], [3, 4.5]]),
    "column of ints": lambda t: t.tensor([[0], [1], [2]]),
}


@pytest.mark.parametrize("name", list(TENSOR_CASES))
def test_tensor_values_and_dtype_inference(name):
    same(TENSOR_CASES[name])


TENSOR_ERRORS = [
    (lambda t: t.tensor([[1, 2], [3]]), ValueError, "expected sequence of length 2 at dim 1 \\(got 1\\)"),
    (lambda t: t.tensor([[1, 2], [3, 4, 5]]), ValueError, "expected sequence of length 2 at dim 1 \\(got 3\\)"),
    (lambda t: t.tensor([[[1, 2]], [[3]]]), ValueError, "at dim 2"),
    (lambda t: t.tensor([[1], []]), ValueError, "expected sequence of length 1 at dim 1 \\(got 0\\)"),
    (lambda t: t.tensor([[1, 2], 3]), TypeError, None),
    (lambda t: t.tensor([1, [2, 3]]), TypeError, None),
    (lambda t: t.tensor(["a"]), ValueError, "too many dimensions 'str'"),
    (lambda t: t.tensor("a"), TypeError, "invalid data type 'str'"),
    (lambda t: t.tensor(None), RuntimeError, "Could not infer dtype of NoneType"),
    (lambda t: t.tensor([1, None]), RuntimeError, "Could not infer dtype of NoneType"),
    (lambda t: t.tensor({1: 2}), RuntimeError, "Could not infer dtype of dict"),
    (lambda t: t.tensor([t.tensor([1, 2]), t.tensor([2, 3])]), TypeError, None),
    (lambda t: t.tensor([2 ** 64]), ValueError, "Overflow"),
    (lambda t: t.tensor([1.5, 2 ** 1100]), OverflowError, "int too large to convert to float"),
    (lambda t: t.tensor([300], dtype=t.uint8), RuntimeError, "cannot be converted to type uint8 without overflow"),
    (lambda t: t.tensor([-256], dtype=t.uint8), RuntimeError, "without overflow"),
    (lambda t: t.tensor([128], dtype=t.int8), RuntimeError, "without overflow"),
    (lambda t: t.tensor([1e10], dtype=t.int32), RuntimeError, "without overflow"),
    (lambda t: t.tensor([float("nan")], dtype=t.int32), RuntimeError, "without overflow"),
    (lambda t: t.tensor([-1.5], dtype=t.uint8), RuntimeError, "without overflow"),
    (lambda t: t.tensor([np.int64(300)], dtype=t.uint8), RuntimeError, "without overflow"),
    (lambda t: t.tensor([1, 2], requires_grad=True), RuntimeError, "floating point"),
    (lambda t: t.tensor(np.array([1, "a"], dtype=object)), TypeError, "can't convert np.ndarray"),
]


@pytest.mark.parametrize("fn,exc,match", TENSOR_ERRORS)
def test_tensor_errors(fn, exc, match):
    check_raises(fn, exc, match)


def test_tensor_requires_grad_and_copy_semantics():
    x = ember.tensor([1., 2.], requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    src = ember.tensor([1., 2.], requires_grad=True)
    with pytest.warns(UserWarning, match="clone\\(\\).detach\\(\\)"):
        y = ember.tensor(src)
    assert not y.requires_grad and y.is_leaf
    y[0] = 5
    assert src.tolist() == [1., 2.]
    a = np.zeros(3)
    z = ember.tensor(a)
    a[0] = 7
    assert z.tolist() == [0., 0., 0.] and z.is_contiguous()
    # a list of 0-d tensors that require grad gives a fresh leaf, as in torch
    assert ember.tensor([ember.tensor(1., requires_grad=True)]).requires_grad \
        == torch.tensor([torch.tensor(1., requires_grad=True)]).requires_grad


# ---- as_tensor / from_numpy / from_dlpack memory sharing ---------------------------------------------------------
@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
@pytest.mark.parametrize("make", ["from_numpy", "as_tensor", "asarray", "from_dlpack"])
def test_numpy_memory_is_shared_both_ways(lib, make):
    a = np.zeros((2, 3), np.float32)
    x = getattr(lib, make)(a)
    a[0, 0] = 5
    x[1, 2] = 7
    assert x.tolist() == [[5, 0, 0], [0, 0, 7]] and a.tolist() == x.tolist()
    assert x.numpy() is not None and np.shares_memory(x.numpy(), a)


def test_numpy_method_shares_memory():
    x = ember.zeros(3)
    a = x.numpy()
    a[0] = 5
    x[1] = 7
    assert x.tolist() == a.tolist() == [5, 7, 0]


def test_as_tensor_copies_only_when_needed():
    a = np.zeros(3)
    x = ember.as_tensor(a, dtype=ember.float32)
    a[0] = 5
    assert x.tolist() == [0, 0, 0] and x.dtype is ember.float32
    t = ember.zeros(3)
    assert ember.as_tensor(t) is t and ember.as_tensor(t, dtype=ember.float32) is t
    same(lambda t: t.as_tensor([1, 2.5]))
    same(lambda t: t.as_tensor(t.ones(2), dtype=t.int32))
    same(lambda t: t.as_tensor(np.arange(3), dtype=t.float64))


def test_asarray_copy_and_alias_rules():
    for t in (ember, torch):
        a = np.zeros(3)
        x, y = t.asarray(a), t.asarray(a, copy=True)
        a[0] = 1
        assert x.tolist() == [1, 0, 0] and y.tolist() == [0, 0, 0]
        z = t.ones(2)
        assert t.asarray(z) is z and t.asarray(z, copy=True) is not z
        assert t.asarray(z, requires_grad=True).requires_grad
    same(lambda t: t.asarray([1, 2.]))
    same(lambda t: t.asarray(3))
    same(lambda t: t.asarray(np.float32(1.5)))
    same(lambda t: t.asarray(t.ones(2), dtype=t.float64))
    check_raises(lambda t: t.asarray(np.zeros(3), dtype=t.float32, copy=False), ValueError,
                 "can't alias tensor with dtype 'Double' into dtype 'Float'")


@pytest.mark.parametrize("fn,exc", [
    (lambda t: t.from_numpy([1]), TypeError),
    (lambda t: t.from_numpy(np.arange(3)[::-1]), ValueError),
    (lambda t: t.from_numpy(np.ones(2, ">f4")), ValueError),
    (lambda t: t.from_numpy(np.array(["a"])), TypeError),
])
def test_from_numpy_errors(fn, exc):
    check_raises(fn, exc)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64",
                                   "bool", "complex64", "complex128", "uint16", "uint32", "uint64"])
def test_from_numpy_dtypes_and_0d(dtype):
    same(lambda t: t.from_numpy(np.ones((2, 1), dtype)))
    same(lambda t: t.from_numpy(np.array(3, dtype)))


def test_dlpack_roundtrip_with_numpy():
    a = np.arange(6.).reshape(2, 3)
    x = ember.from_dlpack(a)
    assert_same(x, torch.from_dlpack(a))
    x[0, 0] = 9
    assert a[0, 0] == 9
    y = ember.arange(6).reshape(2, 3).t()
    b = np.from_dlpack(y)
    assert b.tolist() == np.from_dlpack(torch.arange(6).reshape(2, 3).t()).tolist()
    assert b.strides == np.from_dlpack(torch.arange(6).reshape(2, 3).t()).strides
    z = ember.ones(3)
    c = np.from_dlpack(z)
    z[1] = 4
    assert c.tolist() == [1, 4, 1]
    w = ember.from_dlpack(z)
    w[0] = 2
    assert z.tolist() == [2, 4, 1]


# ---- zeros / ones / full / empty and *_like ----------------------------------------------------------------------
FILL_CASES = {
    "zeros varargs": lambda t: t.zeros(2, 3),
    "zeros tuple": lambda t: t.zeros((2, 3)),
    "zeros list": lambda t: t.zeros([2, 3]),
    "zeros Size": lambda t: t.zeros(t.Size([2, 3])),
    "zeros of x.shape": lambda t: t.zeros(t.ones(4, 1).shape),
    "zeros 0-d": lambda t: t.zeros(()),
    "zeros empty": lambda t: t.zeros(0, 3),
    "zeros numpy int": lambda t: t.zeros(np.int64(2), np.int32(1)),
    "zeros 0-d tensor sizes": lambda t: t.zeros(t.tensor(2), 3),
    "ones int32": lambda t: t.ones(2, dtype=t.int32),
    "ones bool": lambda t: t.ones(2, 2, dtype=t.bool),
    "ones complex": lambda t: t.ones(2, dtype=t.complex64),
    "empty shape+dtype": lambda t: (t.empty(2, 3).shape, repr(t.empty(2, 3).dtype),
                                    repr(t.empty((4,), dtype=t.int8).dtype)),
    "full int fill": lambda t: t.full((2,), 3),
    "full float fill": lambda t: t.full((2,), 3.),
    "full bool fill": lambda t: t.full((2,), True),
    "full complex fill": lambda t: t.full((2,), 1j),
    "full list size": lambda t: t.full([2, 3], 1.5),
    "full Size": lambda t: t.full(t.Size([1, 2]), -1),
    "full 0-d int tensor": lambda t: t.full((2,), t.tensor(3, dtype=t.int32)),
    "full 0-d float tensor": lambda t: t.full((2,), t.tensor(3.5, dtype=t.float64)),
    "full numpy float32": lambda t: t.full((2,), np.float32(1.5)),
    "full numpy int32": lambda t: t.full((2,), np.int32(1)),
    "full dtype truncates": lambda t: t.full((2,), 3.7, dtype=t.int64),
    "full dtype wraps": lambda t: t.full((2,), -1, dtype=t.uint8),
    "full int to bool": lambda t: t.full((2,), 5, dtype=t.bool),
    "full float64": lambda t: t.full((2,), 0.1, dtype=t.float64),
    "full empty": lambda t: t.full((0, 2), 1.),
    "zeros_like": lambda t: t.zeros_like(t.ones(2, 3, dtype=t.int32)),
    "ones_like dtype": lambda t: t.ones_like(t.ones(2, 3, dtype=t.int32), dtype=t.float64),
    "full_like int truncates": lambda t: t.full_like(t.ones(2, dtype=t.int64), 2.9),
    "full_like float": lambda t: t.full_like(t.ones(2), 2.7),
    "full_like bool fill": lambda t: t.full_like(t.ones(2), True),
    "full_like non-contiguous": lambda t: t.full_like(t.ones(3, 2).t(), 4),
    "empty_like": lambda t: (t.empty_like(t.ones(2, 3)).shape, repr(t.empty_like(t.ones(2), dtype=t.int32).dtype)),
    "zeros_like 0-d": lambda t: t.zeros_like(t.tensor(2.5)),
    # empty_permuted's values are uninitialised in torch: compare the layout (physical_layout lists dims outermost
    # first) and dtype
    "empty_permuted": lambda t: [(x.shape, x.stride(), repr(x.dtype), x.is_contiguous(), x.requires_grad) for x in (
        t.empty_permuted((2, 3, 4), (2, 0, 1)), t.empty_permuted([2, 3], [1, 0], dtype=t.int32),
        t.empty_permuted((), ()), t.empty_permuted((5, 3, 1), (1, 2, 0), requires_grad=True),
        t.empty_permuted(t.Size([4, 2]), (0, 1), dtype=t.float64))],
}


@pytest.mark.parametrize("name", list(FILL_CASES))
def test_constant_factories(name):
    same(FILL_CASES[name])


def test_factories_requires_grad():
    for fn in (lambda t: t.zeros(2, requires_grad=True), lambda t: t.ones((2,), requires_grad=True),
               lambda t: t.full((2,), 1., requires_grad=True), lambda t: t.zeros_like(t.ones(2), requires_grad=True),
               lambda t: t.eye(2, requires_grad=True), lambda t: t.arange(3., requires_grad=True),
               lambda t: t.linspace(0, 1, 3, requires_grad=True), lambda t: t.empty(2, requires_grad=True)):
        e, t = fn(ember), fn(torch)
        assert e.requires_grad == t.requires_grad and e.is_leaf and e.grad_fn is None
    check_raises(lambda t: t.zeros(2, dtype=t.int64, requires_grad=True), RuntimeError, "floating point")


FILL_ERRORS = [
    (lambda t: t.zeros(), TypeError, "size"),
    (lambda t: t.zeros(-1, 2), RuntimeError, "negative dimension -1"),
    (lambda t: t.ones(-2), RuntimeError, "negative dimension -2"),
    (lambda t: t.empty(2, -3), RuntimeError, "negative dimension -3"),
    (lambda t: t.full((-1,), 2.), RuntimeError, "negative dimension -1"),
    (lambda t: t.zeros(2.5), TypeError, "float"),
    (lambda t: t.zeros(2, 3.0), TypeError, "float"),
    (lambda t: t.zeros("a"), TypeError, "str"),
    (lambda t: t.zeros(True), TypeError, "bool"),
    (lambda t: t.zeros(None), TypeError, "NoneType"),
    (lambda t: t.zeros(t.tensor([2, 3])), TypeError, "Tensor"),
    (lambda t: t.ones((2,), (3,)), TypeError, None),
    (lambda t: t.full(2, 1.), TypeError, "must be tuple of ints, not int"),
    (lambda t: t.full((2,), "a"), TypeError, "must be Number, not str"),
    (lambda t: t.full((2,), None), TypeError, "must be Number, not NoneType"),
    (lambda t: t.full((2,), t.tensor([1.5])), TypeError, "must be Number, not Tensor"),
    (lambda t: t.full((2,), 300, dtype=t.uint8), RuntimeError, "without overflow"),
    (lambda t: t.full((2,), 1e10, dtype=t.int32), RuntimeError, "without overflow"),
    (lambda t: t.full_like(t.ones(2, dtype=t.uint8), 300), RuntimeError, "without overflow"),
    (lambda t: t.zeros_like(np.ones(2)), TypeError, "must be Tensor"),
    (lambda t: t.ones_like([1, 2]), TypeError, "must be Tensor"),
    (lambda t: t.empty_permuted((2, 3), (0,)), RuntimeError,
     r"len\(size\) = 2 is not equal to len\(physical_layout\) = 1"),
    (lambda t: t.empty_permuted((2, 3), (0, 0)), RuntimeError, "Duplicate dim not allowed"),
    (lambda t: t.empty_permuted((2, 3), (0, 2)), RuntimeError,
     r"Dimension out of range \(expected to be between 0 and 1, but got 2 at index 1\)"),
    (lambda t: t.empty_permuted((2, 3), (-1, 0)), RuntimeError, "got -1 at index 0"),
    (lambda t: t.empty_permuted((2, -3), (0, 1)), RuntimeError, "negative dimension -3"),
    (lambda t: t.empty_permuted((2,), (0,), dtype=t.int64, requires_grad=True), RuntimeError, "floating point"),
]


@pytest.mark.parametrize("fn,exc,match", FILL_ERRORS)
def test_constant_factory_errors(fn, exc, match):
    check_raises(fn, exc, match)


def test_out_argument():
    out_e, out_t = ember.empty(0), torch.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.zeros(2, 3, out=out_e)
        torch.zeros(2, 3, out=out_t)
    assert_same(out_e, out_t)


# ---- arange ------------------------------------------------------------------------------------------------------
ARANGE_CASES = [
    (5,), (5.,), (0,), (1, 2.5, 0.5), (5, 0, -1), (1, 0, -0.1), (0, 1, 0.1), (-3, 3, 0.3), (0, 10, 3.),
    (1, 4, 1.1), (0.5, 3), (10, -10, -0.37), (-1.3, 7.7, 0.13), (0, 10000, 0.37), (0, 32768, 1.5),
    (np.int64(3),), (np.float32(3),), (True,), (2.5, 2.5), (0, 1, 1e-3),
]
ARANGE_DTYPES = [None, "float32", "float64", "float16", "int64", "int32", "int16", "uint8"]


@pytest.mark.parametrize("args", ARANGE_CASES, ids=str)
@pytest.mark.parametrize("dtype", ARANGE_DTYPES)
def test_arange_matches_torch_exactly(args, dtype):
    if dtype == "uint8" and any(float(a) < 0 for a in args):
        return  # torch's own uint8 arange wraps differently below 0 (out of the dtype's range)
    kw = lambda t: {} if dtype is None else {"dtype": getattr(t, dtype)}  # noqa: E731
    fn = lambda t: t.arange(*args, **kw(t))  # noqa: E731
    try:
        fn(torch)
    except Exception:
        check_raises(fn)
        return
    same(fn)


def test_arange_tensor_arguments():
    same(lambda t: t.arange(t.tensor(3)))
    same(lambda t: t.arange(t.tensor(3.)))
    same(lambda t: t.arange(t.tensor(3, dtype=t.int32)))
    same(lambda t: t.arange(t.tensor(1.), t.tensor(2.), t.tensor(0.25)))


@settings(max_examples=25, deadline=None)
@given(start=st.floats(-50, 50), n=st.integers(1, 300), step=st.floats(0.001, 5), neg=st.booleans(),
       frac=st.floats(-0.45, 0.45), dtype=st.sampled_from(["float32", "float64"]))
def test_arange_float_steps_property(start, n, step, neg, frac, dtype):
    step = -step if neg else step
    end = start + step * (n + frac)
    same(lambda t: t.arange(start, end, step, dtype=getattr(t, dtype)))


ARANGE_ERRORS = [
    (lambda t: t.arange(0, 64, 0.5, out=t.zeros(0, dtype=t.int64)), ValueError, "step must be nonzero"),
    (lambda t: t.linspace(0, 3, 1.0), TypeError, r"linspace\(\) received an invalid combination of arguments - got "
                                                 r"\(int, int, float\)"),
    (lambda t: t.logspace(0, 3, t.tensor(2.)), TypeError, r"logspace\(\) received an invalid combination of "
                                                          r"arguments - got \(int, int, Tensor\)"),
    (lambda t: t.linspace(0, 3, True), TypeError, "got \\(int, int, bool\\)"),
    (lambda t: t.arange(0, 5, -1), RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    (lambda t: t.arange(5, 0, 1), RuntimeError, "inconsistent with step sign"),
    (lambda t: t.arange(0, 5, 0), RuntimeError, "step must be nonzero"),
    (lambda t: t.arange(0, 2, 0.5, dtype=t.int64), ValueError, "step must be nonzero"),
    (lambda t: t.arange(float("inf")), RuntimeError, "unsupported range: 0 -> inf"),
    (lambda t: t.arange(float("nan")), RuntimeError, "unsupported range"),
    (lambda t: t.arange(3, dtype=t.bool), NotImplementedError, "'Bool'"),
    (lambda t: t.arange(1 + 2j), RuntimeError, None),
]


@pytest.mark.parametrize("fn,exc,match", ARANGE_ERRORS)
def test_arange_errors(fn, exc, match):
    check_raises(fn, exc, match)


def test_range_is_deprecated_but_inclusive():
    with pytest.warns(UserWarning, match="deprecated"):
        e = ember.range(0, 1, 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(e, torch.range(0, 1, 0.25))


# ---- linspace / logspace -----------------------------------------------------------------------------------------
LINSPACE_CASES = [
    (0, 1, 7), (0, 1, 1), (0, 1, 0), (3, -2.1, 11), (-1.3, 7.7, 1001), (0.1, 0.7, 2), (5, 5, 4), (-1e3, 1e-3, 257),
    (0, 10, 4), (-5, 10, 7), (0.7, 9.9, 5), (1e-7, 1, 33), (0, 1, 20000),
]


@pytest.mark.parametrize("args", LINSPACE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "float16", "int64", "int32", "complex64"])
def test_linspace_matches_torch_exactly(args, dtype):
    if dtype == "float16" and max(abs(a) for a in args[:2]) > 100:
        return
    kw = lambda t: {} if dtype is None else {"dtype": getattr(t, dtype)}  # noqa: E731
    fn = lambda t: t.linspace(*args, **kw(t))  # noqa: E731
    if dtype == "complex64":
        check(fn, [], grad=False, tol=dict(rtol=1e-6, atol=1e-6))  # complex steps: float32-level agreement
    else:
        same(fn)


LOGSPACE_CASES = [
    (0, 2, 5, 10.), (-3, 3.3, 13, 2.), (1, 2, 1, 10.), (2.5, 3, 1, 10.), (1, 2, 0, 10.), (-2, 2.5, 17, math.e),
    (0, 3, 4, 10.), (0.5, 2.5, 5, 2.5), (-10, 10, 1001, 10.), (0, 2, 3, -2.), (3, -3, 9, 0.5),
]


@pytest.mark.parametrize("args", LOGSPACE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "float16", "int64", "int32", "uint8"])
def test_logspace_matches_torch_exactly(args, dtype):
    start, end, steps, base = args
    if dtype in ("float16", "uint8", "int32") and max(abs(start), abs(end)) > 3 or dtype == "uint8" and start < 0:
        return  # values outside the dtype's range: PyTorch's C conversion of them is undefined behaviour
    kw = lambda t: {} if dtype is None else {"dtype": getattr(t, dtype)}  # noqa: E731
    fn = lambda t: t.logspace(start, end, steps, base=base, **kw(t))  # noqa: E731
    try:
        fn(torch)
    except RuntimeError:
        check_raises(fn, RuntimeError, "without overflow")
        return
    same(fn)


@settings(max_examples=25, deadline=None)
@given(start=st.floats(-20, 20), end=st.floats(-20, 20), steps=st.integers(0, 300),
       dtype=st.sampled_from(["float32", "float64", "float16"]))
def test_linspace_logspace_property(start, end, steps, dtype):
    same(lambda t: t.linspace(start, end, steps, dtype=getattr(t, dtype)))
    if dtype != "float16":
        same(lambda t: t.logspace(start / 4, end / 4, steps, base=3.0, dtype=getattr(t, dtype)))


def test_linspace_tensor_arguments_and_complex_default():
    same(lambda t: t.linspace(t.tensor(0.), t.tensor(1.), 5))
    same(lambda t: t.linspace(0, 1, t.tensor(3)))
    check(lambda t: t.linspace(0, 1 + 1j, 3), [], grad=False, tol=dict(rtol=1e-6, atol=1e-6))
    check(lambda t: t.logspace(0, 1, 3, dtype=t.complex64), [], grad=False, tol=dict(rtol=1e-6, atol=1e-6))


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.linspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    (lambda t: t.logspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    (lambda t: t.linspace(t.tensor([0.]), 1, 3), RuntimeError, "0-dimensional start and end"),
])
def test_linspace_errors(fn, exc, match):
    check_raises(fn, exc, match)


# ---- eye / tril_indices / triu_indices ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda t: t.eye(3), lambda t: t.eye(2, 4, dtype=t.int64), lambda t: t.eye(4, 2), lambda t: t.eye(0),
    lambda t: t.eye(3, 0), lambda t: t.eye(2, dtype=t.bool), lambda t: t.eye(3, dtype=t.float64),
])
def test_eye(fn):
    same(fn)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.eye(-1), RuntimeError, "n must be greater or equal to 0, got -1"),
    (lambda t: t.eye(2, -1), RuntimeError, "m must be greater or equal to 0, got -1"),
    (lambda t: t.eye(2.0), TypeError, "must be int, not float"),
])
def test_eye_errors(fn, exc, match):
    check_raises(fn, exc, match)


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", [(4, 3), (4, 3, 1), (3, 5, -1), (3, 5, 2), (0, 0), (3, 3, 10), (3, 3, -10),
                                  (1, 6, -2), (5, 1, 3)], ids=str)
def test_tri_indices(name, args):
    same(lambda t: getattr(t, name)(*args))
    same(lambda t: getattr(t, name)(*args, dtype=t.int32))


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.tril_indices(-1, 3), RuntimeError, "row must be non-negative"),
    (lambda t: t.triu_indices(3, -2), RuntimeError, "col must be non-negative"),
    (lambda t: t.tril_indices(3, 3, dtype=t.float32), NotImplementedError, "'Float'"),
])
def test_tri_indices_errors(fn, exc, match):
    check_raises(fn, exc, match)


# ---- meshgrid / cartesian_prod -----------------------------------------------------------------------------------
@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(3,), (2,), (4,)], [(3,)], [(), (2,)], [(0,), (2,)]], ids=str)
def test_meshgrid_values_and_grads(indexing, shapes):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s) for s in shapes]
    check(lambda t, *xs: t.meshgrid(*xs, indexing=indexing), arrs, dtypes=["float64", "float32"])
    check(lambda t, *xs: t.meshgrid(list(xs), indexing=indexing), arrs, dtypes=["float64"])


def test_meshgrid_default_indexing_warns():
    with pytest.warns(UserWarning, match="indexing"):
        e = ember.meshgrid(ember.arange(3), ember.arange(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.meshgrid(torch.arange(3), torch.arange(2))
    for a, b in zip(e, t):
        assert_same(a, b)


@pytest.mark.parametrize("fn,match", [
    (lambda t: t.meshgrid(t.arange(3), t.arange(2), indexing="foo"), "indexing must be one of"),
    (lambda t: t.meshgrid(indexing="ij"), "non-empty TensorList"),
    (lambda t: t.meshgrid(t.ones(2, 2), t.arange(2.), indexing="ij"), "Expected 0D or 1D tensor"),
    (lambda t: t.meshgrid(t.arange(3), t.arange(2.), indexing="ij"), "same dtype"),
])
def test_meshgrid_errors(fn, match):
    check_raises(fn, RuntimeError, match)


def test_cartesian_prod():
    same(lambda t: t.cartesian_prod(t.arange(3), t.arange(2)))
    same(lambda t: t.cartesian_prod(t.arange(3)))
    same(lambda t: t.cartesian_prod(t.arange(2), t.arange(2), t.arange(3)))
