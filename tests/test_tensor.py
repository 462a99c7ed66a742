"""Tensor basics against torch: legacy constructors, conversions, introspection, Python protocols, repr."""
import re
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import assert_same, check, check_raises, check_same_error, r


@pytest.fixture(autouse=True)
def _restore_global_state():
    yield
    torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(ember.float32)
    torch.set_printoptions(profile="default")
    ember.set_printoptions(profile="default")


def same(fn):
    """fn(lib) gives equal values, shapes and dtypes in both libraries (warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fn, [], grad=False, tol=dict(rtol=0, atol=0))


# ---- legacy constructors -----------------------------------------------------------------------------------------
LEGACY_CASES = {
    "FloatTensor sizes": lambda t: t.FloatTensor(2, 3).shape,
    "FloatTensor sizes dtype": lambda t: repr(t.FloatTensor(2, 3).dtype),
    "FloatTensor list": lambda t: t.FloatTensor([1, 2]),
    "FloatTensor nested": lambda t: t.FloatTensor([[1, 2.5], [3, 4]]),
    "FloatTensor tuple is data": lambda t: t.FloatTensor((2, 3)),
    "FloatTensor Size is sizes": lambda t: t.FloatTensor(t.Size([2, 3])).shape,
    "FloatTensor numpy": lambda t: t.FloatTensor(np.array([1., 2.])),
    "FloatTensor tensor": lambda t: t.FloatTensor(t.tensor([1., 2.])),
    "FloatTensor empty": lambda t: t.FloatTensor(),
    "FloatTensor range is data": lambda t: t.FloatTensor(range(3)),
    "LongTensor range is data": lambda t: t.LongTensor(range(4)),
    "new range is data": lambda t: t.ones(2).new(range(2)),
    "FloatTensor zero size": lambda t: t.FloatTensor(0).shape,
    "LongTensor": lambda t: t.LongTensor([1, 2]),
    "LongTensor truncates": lambda t: t.LongTensor([1.7, -2.7]),
    "LongTensor size": lambda t: (t.LongTensor(3).shape, repr(t.LongTensor(3).dtype)),
    "IntTensor": lambda t: t.IntTensor([1, 2]),
    "DoubleTensor": lambda t: t.DoubleTensor([1, 2]),
    "DoubleTensor sizes": lambda t: (t.DoubleTensor(2, 2).shape, repr(t.DoubleTensor(2, 2).dtype)),
    "BoolTensor": lambda t: t.BoolTensor([1, 0, 2]),
    "BoolTensor size": lambda t: t.BoolTensor(2).shape,
    "ByteTensor": lambda t: t.ByteTensor([1, 255]),
    "HalfTensor": lambda t: t.HalfTensor([1.5]),
    "ShortTensor": lambda t: t.ShortTensor([1]),
    "CharTensor": lambda t: t.CharTensor([-1]),
    "Tensor list": lambda t: t.Tensor([1, 2]),
    "Tensor nested ints": lambda t: t.Tensor([[1, 2], [3, 4]]),
    "Tensor sizes": lambda t: t.Tensor(2, 3).shape,
    "Tensor Size": lambda t: t.Tensor(t.Size([2, 3])).shape,
    "Tensor numpy int": lambda t: t.Tensor(np.array([1, 2], dtype=np.int64)),
    "x.new sizes": lambda t: (t.ones(2, dtype=t.float64).new(3).shape, repr(t.ones(2, dtype=t.float64).new(3).dtype)),
    "x.new list": lambda t: t.ones(2, dtype=t.int32).new([1, 2]),
    "x.new empty": lambda t: t.ones(2, dtype=t.int32).new(),
}


@pytest.mark.parametrize("name", list(LEGACY_CASES))
def test_legacy_constructors(name):
    same(LEGACY_CASES[name])


def test_legacy_constructor_defaults_follow_default_dtype():
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    same(lambda t: t.Tensor([1, 2]))
    same(lambda t: t.FloatTensor([1, 2]))


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.FloatTensor(-1), RuntimeError, "negative dimension -1"),
    (lambda t: t.FloatTensor("a"), TypeError, "invalid data type 'str'"),
    (lambda t: t.FloatTensor(2.5), TypeError, "must be a sequence"),
    (lambda t: t.FloatTensor(t.tensor([1., 2.], dtype=t.float64)), TypeError, "expected TensorOptions"),
    (lambda t: t.LongTensor([[1, 2], [3]]), ValueError, "expected sequence of length 2"),
    (lambda t: t.FloatTensor(2, device="cuda"), RuntimeError, None),
])
def test_legacy_constructor_errors(fn, exc, match):
    check_raises(fn, exc, match)


TENSOR_CTOR_CASES = {  # values where torch's are initialised; (shape, dtype) for torch.Tensor(*sizes)
    "empty": lambda t: t.Tensor(), "device only": lambda t: t.Tensor(device="cpu"),
    "tuple data": lambda t: t.Tensor((2, 3)), "empty list": lambda t: t.Tensor([]),
    "empty tuple": lambda t: t.Tensor(()), "nested empty": lambda t: t.Tensor([[]]),
    "range": lambda t: t.Tensor(range(3)), "tensors in list": lambda t: t.Tensor([t.tensor(1.), t.tensor(2.)]),
    "0-d float array": lambda t: t.Tensor(np.array(3.)), "bool list": lambda t: t.Tensor([True, False]),
    "data kw": lambda t: t.Tensor(data=[1, 2]), "zero size": lambda t: t.Tensor(0),
    "sizes": lambda t: (t.Tensor(2, 3).shape, repr(t.Tensor(2, 3).dtype)),
    "numpy int size": lambda t: t.Tensor(np.int64(3), 2).shape,
    "0-d int array is a size": lambda t: t.Tensor(np.array(2)).shape,
    "int tensor sizes": lambda t: t.Tensor(t.tensor(2), t.tensor([3])).shape,
    "bool after a size": lambda t: t.Tensor(2, True).shape,
    "empty Size": lambda t: t.Tensor(t.Size([])).shape, "size kw": lambda t: t.Tensor(size=(2, 1)).shape,
    "int tensor alias": lambda t: t.Tensor(t.tensor([1, 2])), "0-d int tensor alias": lambda t: t.Tensor(t.tensor(2)),
}

TENSOR_CTOR_ERRORS = [
    lambda t: t.Tensor(-1), lambda t: t.Tensor(2, -3, -1), lambda t: t.Tensor(t.Size([2, -1])),
    lambda t: t.Tensor(2.5), lambda t: t.Tensor(True), lambda t: t.Tensor(None), lambda t: t.Tensor(np.float64(2.5)),
    lambda t: t.Tensor({1: 2}), lambda t: t.Tensor({1, 2}), lambda t: t.Tensor(x for x in [1]),
    lambda t: t.Tensor(1 + 2j),
    lambda t: t.Tensor("a"), lambda t: t.Tensor(b"ab"), lambda t: t.Tensor([[1, 2], [3]]),
    lambda t: t.Tensor(2, 2.5), lambda t: t.Tensor(2, 3, 2.5), lambda t: t.Tensor(2, "3"),
    lambda t: t.Tensor(2, t.Size([2])),
    lambda t: t.Tensor(t.zeros(2), device="cpu"),
    lambda t: t.Tensor(2.5, 3), lambda t: t.Tensor([1, 2.5, "a"], 2), lambda t: t.Tensor((1, 2), 2),
    lambda t: t.Tensor(t.Size([2, 3]), 2), lambda t: t.Tensor(None, 2), lambda t: t.Tensor(np.float64(1.), 2),
    lambda t: t.Tensor(np.zeros(2), 2), lambda t: t.Tensor(t.zeros(2), 3), lambda t: t.Tensor(t.tensor(2.), 3),
    lambda t: t.Tensor(t.float32, 2), lambda t: t.Tensor(t.device("cpu"), 2), lambda t: t.Tensor(2.5, 3, 4),
    lambda t: t.Tensor(2.5, 3, 4, 5), lambda t: t.Tensor(3, dtype=t.float64), lambda t: t.Tensor([1], dtype=t.float32),
    lambda t: t.Tensor(dtype=t.float32), lambda t: t.Tensor(foo=1), lambda t: t.Tensor(size=3),
    lambda t: t.Tensor(2, device="cpu", dtype=t.float32), lambda t: t.Tensor(1, 2, device="cpu", foo=3),
    lambda t: t.Tensor([1], 2, device="cpu"), lambda t: t.Tensor(1.5, foo=2), lambda t: t.Tensor(2, foo=1),
]


@pytest.mark.parametrize("name", list(TENSOR_CTOR_CASES))
def test_tensor_constructor_edge_cases(name):
    same(TENSOR_CTOR_CASES[name])


@pytest.mark.parametrize("fn", TENSOR_CTOR_ERRORS)
def test_tensor_constructor_errors(fn):
    """The same exception class and exactly the same message as torch.Tensor(...)."""
    check_same_error(fn)


def test_tensor_constructor_shares_memory_like_torch():
    def go(t):
        a32, a64, base = np.zeros(2, np.float32), np.zeros(2, np.float64), t.zeros(2, requires_grad=True)
        x32, x64, alias = t.Tensor(a32), t.Tensor(a64), t.Tensor(base)
        a32[0] = a64[0] = 1
        with t.no_grad():
            base.add_(3)
        (alias * 2).sum().backward()
        return x32, x64, alias, base.grad, alias.requires_grad, alias.is_leaf, alias._version == base._version
    same(go)


def test_legacy_isinstance_and_type_strings():
    for t in (ember, torch):
        assert isinstance(t.ones(2), t.FloatTensor) and not isinstance(t.ones(2), t.DoubleTensor)
        assert isinstance(t.ones(2, dtype=t.int64), t.LongTensor) and isinstance(t.ones(2), t.Tensor)
        assert isinstance(t.ones(2, dtype=t.bool), t.BoolTensor) and isinstance(t.ones(1, dtype=t.uint8), t.ByteTensor)
        assert isinstance(t.ones(2, dtype=t.int32), t.IntTensor) and isinstance(t.FloatTensor(2), t.Tensor)
        assert not isinstance(np.ones(2, np.float32), t.FloatTensor)
    assert type(ember.FloatTensor([1])) is ember.Tensor
    assert ember.FloatTensor.__name__ == torch.FloatTensor.__name__
    assert repr(ember.FloatTensor.dtype) == repr(torch.FloatTensor.dtype)


TYPE_NAMES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool", "complex64",
              "complex128"]


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_type_string(name):
    assert ember.ones(1, dtype=getattr(ember, name)).type() == torch.ones(1, dtype=getattr(torch, name)).type()


@pytest.mark.parametrize("fn", [
    lambda t: t.tensor([1.5, -2.7]).type(t.DoubleTensor),
    lambda t: t.tensor([1.5, -2.7]).type(t.IntTensor),
    lambda t: t.tensor([1.5, -2.7]).type("torch.LongTensor"),
    lambda t: t.tensor([1.5, 0]).type("torch.BoolTensor"),
    lambda t: t.tensor([1.5, -2.7]).type(t.int32),
    lambda t: t.tensor([1, 2]).type(t.float64),
])
def test_type_conversion(fn):
    same(fn)


@pytest.mark.parametrize("fn", [lambda t: t.ones(2).type("torch.int32"), lambda t: t.ones(2).type("foo")])
def test_type_conversion_errors(fn):
    check_raises(fn, ValueError, "invalid type")


# ---- conversions -------------------------------------------------------------------------------------------------
CONVERSION_CASES = {
    "to dtype": lambda t: t.tensor([1.7, -1.7, 2.5]).to(t.int64),
    "to uint8 truncates": lambda t: t.tensor([1.7, 255.9, 3.]).to(t.uint8),
    "to bool": lambda t: t.tensor([0., 0.1, -2]).to(t.bool),
    "to other": lambda t: t.ones(2).to(t.tensor([1], dtype=t.int32)),
    "to cpu": lambda t: t.ones(2).to("cpu"),
    "to cpu float64": lambda t: t.ones(2).to("cpu", t.float64),
    "to device object dtype": lambda t: t.ones(2).to(t.device("cpu"), t.float16),
    "to keywords": lambda t: t.ones(2).to(device="cpu", dtype=t.float64),
    "to python type": lambda t: t.ones(2).to(int),
    "to dtype non_blocking copy": lambda t: t.ones(2).to(t.float64, False, True),
    "to complex": lambda t: t.tensor([1., 2.]).to(t.complex64),
    "complex to float": lambda t: t.tensor([1 + 2j]).to(t.float32),
    "int to float": lambda t: t.tensor([1, 2]).to(t.float32),
    "float()": lambda t: t.tensor([1, 2]).float(),
    "double()": lambda t: t.tensor([1.5, -2.]).double(),
    "half()": lambda t: t.tensor([1.5, -2.]).half(),
    "long()": lambda t: t.tensor([1.5, -2.7]).long(),
    "int()": lambda t: t.tensor([1.5, -2.7]).int(),
    "short()": lambda t: t.tensor([1.5, -2.7]).short(),
    "char()": lambda t: t.tensor([1.5, -2.7]).char(),
    "byte()": lambda t: t.tensor([1.5, 200.7]).byte(),
    "bool()": lambda t: t.tensor([1.5, 0.]).bool(),
    "cfloat()": lambda t: t.tensor([1.5, 0.]).cfloat(),
    "cdouble()": lambda t: t.tensor([1.5, 0.]).cdouble(),
    "type_as": lambda t: t.tensor([1.5]).type_as(t.tensor([1], dtype=t.int16)),
    "non-contiguous cast": lambda t: t.arange(6.).reshape(2, 3).t().to(t.int32),
    "0-d cast": lambda t: t.tensor(2.5).long(),
    "empty cast": lambda t: t.zeros(0, 2).double(),
}


@pytest.mark.parametrize("name", list(CONVERSION_CASES))
def test_conversions(name):
    same(CONVERSION_CASES[name])


def test_to_identity_and_copy():
    for t in (ember, torch):
        x = t.ones(2)
        assert x.to(t.float32) is x and x.to("cpu") is x and x.float() is x and x.type_as(x) is x
        assert x.to(t.float32, copy=True) is not x and x.to(x) is x
        y = x.to(t.float32, copy=True)
        y[0] = 5
        assert x[0].item() == 1


@pytest.mark.parametrize("fn,exc", [
    (lambda t: t.ones(2).to("torch.float64"), RuntimeError),
    (lambda t: t.ones(2).to([1]), TypeError),
])
def test_to_errors(fn, exc):
    check_raises(fn, exc)


@pytest.mark.parametrize("conv", [
    lambda t, x: x.double() * 2,
    lambda t, x: x.float().sum(),
    lambda t, x: x.to(t.float64).exp(),
    lambda t, x: x.to("cpu", t.float32) * x,
    lambda t, x: x.half().float() * 3,
    lambda t, x: x.type(t.DoubleTensor) + 1,
    lambda t, x: x.type_as(t.ones(1, dtype=t.float64)).sin(),
    lambda t, x: x.t().double(),
    lambda t, x: x.to(t.complex128).abs(),
])
def test_gradients_flow_through_dtype_casts(conv):
    rng = np.random.default_rng(0)
    check(conv, [rng.standard_normal((3, 2))], dtypes=["float64", "float32"])


def test_cast_to_integer_stops_gradient():
    for t in (ember, torch):
        x = t.ones(2, requires_grad=True)
        y = x.long()
        assert not y.requires_grad and y.grad_fn is None
        z = x.double()
        assert z.requires_grad and not z.is_leaf


# ---- introspection -----------------------------------------------------------------------------------------------
INTROSPECTION = {
    "shape": lambda t: (t.ones(2, 3).shape, t.ones(2, 3).size(), t.ones(2, 3).size(-1), t.ones(2, 3).size(0),
                        t.tensor(1.).shape, t.ones(0, 4).shape),
    "dims": lambda t: (t.ones(2, 3).dim(), t.ones(2, 3).ndim, t.ones(2, 3).ndimension(), t.tensor(1.).dim()),
    "numel": lambda t: (t.ones(2, 3).numel(), t.ones(2, 3).nelement(), t.tensor(1.).numel(), t.ones(0, 3).numel(),
                        t.numel(t.ones(4))),
    "strides": lambda t: (t.ones(2, 3).stride(), t.ones(2, 3).t().stride(), t.ones(2, 3)[:, ::2].stride(),
                          t.ones(2, 3).stride(1), t.ones(2, 3).stride(-2), t.tensor(1.).stride(),
                          t.ones(3).expand(2, 3).stride(), t.ones(3, 1).stride(), t.ones(1, 3).t().stride(),
                          t.ones(2, 3, 4).permute(2, 0, 1).stride(), t.ones(2, 3).t().contiguous().stride()),
    "contiguity": lambda t: (t.ones(2, 3).is_contiguous(), t.ones(2, 3).t().is_contiguous(),
                             t.ones(2, 3)[:, ::2].is_contiguous(), t.ones(1, 3).t().is_contiguous(),
                             t.ones(3).expand(2, 3).is_contiguous(), t.ones(2, 3)[1:].is_contiguous(),
                             t.ones(2, 3).t().contiguous().is_contiguous()),
    "element_size": lambda t: [t.ones(1, dtype=getattr(t, d)).element_size() for d in TYPE_NAMES],
    "itemsize nbytes": lambda t: (t.ones(2, 3).itemsize, t.ones(2, 3).nbytes, t.ones(2, dtype=t.int16).nbytes),
    "leafness": lambda t: (lambda x: (x.is_leaf, (x * 2).is_leaf, x.detach().is_leaf, t.ones(2).is_leaf,
                                      (t.ones(2) * 2).is_leaf, x.requires_grad, (x * 2).requires_grad))(
        t.ones(2, requires_grad=True)),
    "dtype and device": lambda t: (repr(t.ones(2).dtype), repr(t.ones(2).device), str(t.ones(2).device),
                                   t.ones(2).is_floating_point(), t.ones(2, dtype=t.int32).is_floating_point(),
                                   t.ones(2, dtype=t.complex64).is_complex(), t.ones(2, dtype=t.uint8).is_signed(),
                                   t.ones(2, dtype=t.int8).is_signed(), t.ones(2).is_cuda),
    "storage offset": lambda t: (t.ones(3, 4)[1:, 2:].storage_offset(), t.ones(6)[::2].storage_offset(),
                                 t.ones(3).storage_offset()),
    "data_ptr": lambda t: (lambda x: (x.data_ptr() == x[0:].data_ptr(), x.data_ptr() != x.clone().data_ptr(),
                                      x[1:].data_ptr() - x.data_ptr()))(t.ones(3)),
}


@pytest.mark.parametrize("name", list(INTROSPECTION))
def test_introspection(name):
    fn = INTROSPECTION[name]
    assert fn(ember) == fn(torch)


def test_size_out_of_range():
    check_raises(lambda t: t.ones(2, 3).size(2), IndexError, "Dimension out of range")
    check_raises(lambda t: t.ones(2, 3).stride(-3), IndexError, "Dimension out of range")


def test_size_of_0d_tensor_message():
    check_raises(lambda t: t.tensor(1.).size(0), IndexError, "no dimensions")


def test_stride_of_empty_tensor():
    assert ember.ones(0, 3).stride() == torch.ones(0, 3).stride()


# ---- item / tolist / numpy / __array__ ---------------------------------------------------------------------------
def test_item_and_tolist():
    for fn in (lambda t: t.tensor(2.5).item(), lambda t: t.tensor([3]).item(), lambda t: t.tensor(True).item(),
               lambda t: type(t.tensor(3).item()).__name__, lambda t: type(t.tensor(2.5).item()).__name__,
               lambda t: type(t.tensor(True).item()).__name__,
               lambda t: type(t.tensor(2.5, dtype=t.float16).item()).__name__, lambda t: t.tensor(1 + 2j).item(),
               lambda t: t.tensor([[1.5]], dtype=t.float64).item(),
               lambda t: t.tensor([[1, 2], [3, 4]]).tolist(), lambda t: t.tensor(2.5).tolist(),
               lambda t: t.tensor([]).tolist(), lambda t: t.zeros(2, 0).tolist(),
               lambda t: [type(v).__name__ for v in t.tensor([1.5, 2], dtype=t.float32).tolist()],
               lambda t: t.tensor([True, False]).tolist(), lambda t: t.tensor([0.1]).tolist(),
               lambda t: t.arange(6).reshape(2, 3).t().tolist()):
        assert fn(ember) == fn(torch)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.ones(2).item(), RuntimeError, "a Tensor with 2 elements cannot be converted to Scalar"),
    (lambda t: t.ones(0).item(), RuntimeError, "a Tensor with 0 elements cannot be converted to Scalar"),
    (lambda t: t.ones(2, requires_grad=True).numpy(), RuntimeError, "Can't call numpy\\(\\) on Tensor that requires "
                                                                     "grad"),
    (lambda t: (t.ones(2, requires_grad=True) * 2).numpy(), RuntimeError, "requires grad"),
])
def test_item_numpy_errors(fn, exc, match):
    check_raises(fn, exc, match)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's own __array__ lacks NumPy 2's copy keyword
def test_numpy_and_array_protocol():
    for t in (ember, torch):
        x = t.arange(6, dtype=t.float32).reshape(2, 3)
        a = np.asarray(x)
        assert a.shape == (2, 3) and a.dtype == np.float32 and np.shares_memory(a, x.numpy())
        assert np.asarray(x, dtype=np.float64).dtype == np.float64
        assert np.array(t.tensor(2.5)).tolist() == 2.5
        assert x.numpy(force=True).tolist() == x.tolist()
        assert t.ones(2, requires_grad=True).numpy(force=True).tolist() == [1, 1]
        assert t.ones(2, requires_grad=True).detach().numpy().tolist() == [1, 1]
        assert x.t().numpy().strides == np.asarray(x).T.strides
    assert np.add(ember.ones(2), 1).tolist() == [2, 2]


def test_array_protocol_refuses_requires_grad():
    check_raises(lambda t: np.asarray(t.ones(2, requires_grad=True)), RuntimeError, "requires grad")


def test_dlpack_refuses_requires_grad():
    check_raises(lambda t: np.from_dlpack(t.ones(2, requires_grad=True)), BufferError, "require gradient")


def test_utils_dlpack():
    e = ember.utils.dlpack.from_dlpack(ember.utils.dlpack.to_dlpack(ember.arange(3.)))
    assert_same(e, torch.arange(3.))
    assert ember.from_dlpack is ember.utils.dlpack.from_dlpack and torch.from_dlpack is torch.utils.dlpack.from_dlpack
    assert ember.utils.dlpack.__all__ == torch.utils.dlpack.__all__
    assert {k: int(v) for k, v in ember.utils.dlpack.DLDeviceType.__members__.items()} == \
        {k: int(v) for k, v in torch.utils.dlpack.DLDeviceType.__members__.items()}


def _dlpack_shares_memory(t):
    x, a = t.arange(4), np.arange(3.)
    y = t.utils.dlpack.from_dlpack(t.utils.dlpack.to_dlpack(x))
    y[0] = -9
    shared, copied, on_cpu = t.from_dlpack(a), t.from_dlpack(a, copy=True), t.from_dlpack(a, device="cpu")
    a[1] = 7
    grad_leaf_export = t.utils.dlpack.to_dlpack(t.ones(2, requires_grad=True)) is not None
    return x, t.from_dlpack(x[::2]), shared, copied, on_cpu, grad_leaf_export


@pytest.mark.parametrize("fn", [
    lambda t: t.utils.dlpack.from_dlpack([1, 2]), lambda t: t.utils.dlpack.to_dlpack(np.ones(2)),
    lambda t: t.from_dlpack(np.ones(2), device=3), lambda t: t.from_dlpack(t.ones(2, requires_grad=True)),
    lambda t: t.from_dlpack(np.ones(2, dtype=">f8")),
])
def test_dlpack_errors(fn):
    check_same_error(fn)


def test_dlpack_capsule_is_consumed_once():
    for t in (torch, ember):
        capsule = t.utils.dlpack.to_dlpack(t.arange(2))
        t.from_dlpack(capsule)
        with pytest.raises(RuntimeError, match="DLTensor capsules can be consumed only once"):
            t.from_dlpack(capsule)


def test_dlpack_shares_memory_like_torch():
    same(_dlpack_shares_memory)


# ---- equal / allclose / isclose ----------------------------------------------------------------------------------
COMPARE_CASES = [
    lambda t: (t.equal(t.ones(2), t.ones(2)), t.equal(t.ones(2), t.ones(3)), t.ones(2).equal(t.zeros(2)),
               t.equal(t.ones(2), t.ones(2, dtype=t.int64)), t.equal(t.ones(1), t.ones(2)),
               t.equal(t.tensor([float("nan")]), t.tensor([float("nan")])),
               t.equal(t.ones(2, 3), t.ones(2, 3).t().t())),
    lambda t: (t.allclose(t.tensor([1., 2.]), t.tensor([1., 2.0001])),
               t.allclose(t.tensor([1., 2.]), t.tensor([1., 2.01])),
               t.allclose(t.tensor([1., float("nan")]), t.tensor([1., float("nan")])),
               t.allclose(t.tensor([1., float("nan")]), t.tensor([1., float("nan")]), equal_nan=True),
               t.allclose(t.ones(2, 3), t.ones(3)), t.ones(2).allclose(t.ones(2) + 1e-6),
               t.allclose(t.tensor([1.]), t.tensor([1.1]), rtol=0.2), t.allclose(t.tensor([0.]), t.tensor([1e-9])),
               t.allclose(t.ones(2, dtype=t.int64), t.ones(2, dtype=t.int64)),
               t.allclose(t.tensor([float("inf")]), t.tensor([float("inf")]))),
]


@pytest.mark.parametrize("fn", COMPARE_CASES)
def test_equal_allclose(fn):
    assert fn(ember) == fn(torch)


@pytest.mark.parametrize("fn", [
    lambda t: t.isclose(t.tensor([1., 2., float("nan"), float("inf")]), t.tensor([1.00001, 2.1, float("nan"),
                                                                                  float("inf")])),
    lambda t: t.isclose(t.tensor([1., float("nan")]), t.tensor([1., float("nan")]), equal_nan=True),
    lambda t: t.isclose(t.tensor([1, 2]), t.tensor([1, 3])),
    lambda t: t.isclose(t.tensor([1., 2.]), t.tensor([1.1, 2.]), rtol=0.2, atol=0),
    lambda t: t.isclose(t.tensor([True, False]), t.tensor([True, True])),
    lambda t: t.isclose(t.ones(2, 3), t.ones(3)),
    lambda t: t.ones(2, 3).t().isclose(t.ones(3, 1)),
    lambda t: t.isclose(t.tensor(1.), t.tensor([1., 2.])),
])
def test_isclose(fn):
    same(fn)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.allclose(t.ones(2), t.ones(2, dtype=t.float64)), RuntimeError, "Float did not match Double"),
    (lambda t: t.isclose(t.tensor([1., 2.]), t.tensor([1, 2])), RuntimeError, "Float did not match Long"),
    (lambda t: t.allclose(t.ones(2), t.ones(3)), RuntimeError, "size of tensor a \\(2\\) must match the size of "
                                                               "tensor b \\(3\\) at non-singleton dimension 0"),
    (lambda t: t.isclose(t.tensor([1., 2.]), 1.), TypeError, "must be Tensor, not float"),
    (lambda t: t.isclose(t.ones(2), t.ones(2), rtol=-0.4), RuntimeError,
     "rtol must be greater than or equal to zero, but got -0.4"),
    (lambda t: t.isclose(t.ones(2), t.ones(2), atol=-1), RuntimeError,
     "atol must be greater than or equal to zero, but got -1"),
])
def test_compare_errors(fn, exc, match):
    check_raises(fn, exc, match)


# ---- Python protocols --------------------------------------------------------------------------------------------
PROTOCOL_CASES = [
    lambda t: (len(t.ones(3, 2)), len(t.ones(0))),
    lambda t: [x.tolist() for x in t.tensor([[1, 2], [3, 4]])],
    lambda t: [x.shape for x in t.ones(2, 3, 4)],
    lambda t: list(t.ones(0, 2)),
    lambda t: (bool(t.tensor(0.)), bool(t.tensor([2])), bool(t.tensor([[True]])), bool(t.tensor(float("nan")))),
    lambda t: (float(t.tensor([2])), int(t.tensor(2.7)), int(t.tensor(-2.7)), complex(t.tensor(1.)),
               t.tensor(3).__index__(), [1, 2, 3][t.tensor(1)], range(5)[t.tensor([2])]),
    lambda t: (f"{t.tensor(2.5):.3f}", f"{t.tensor(3)}", "{}".format(t.tensor([1, 2])), f"{t.tensor(True)}"),
    lambda t: (t.is_tensor(t.ones(1)), t.is_tensor(np.ones(1)), t.is_tensor(1.0), t.is_nonzero(t.tensor([1])),
               t.is_nonzero(t.tensor(0.))),
    lambda t: (lambda x, y: (hash(x) != hash(y), {x: 1}[x], x in {x}))(t.ones(1), t.ones(1)),
]


@pytest.mark.parametrize("fn", PROTOCOL_CASES)
def test_python_protocols(fn):
    assert fn(ember) == fn(torch)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: len(t.tensor(1.)), TypeError, "len\\(\\) of a 0-d tensor"),
    (lambda t: iter(t.tensor(1.)), TypeError, "iteration over a 0-d tensor"),
    (lambda t: bool(t.ones(2)), RuntimeError, "more than one value is ambiguous"),
    (lambda t: t.is_nonzero(t.ones(2)), RuntimeError, "more than one value is ambiguous"),
    (lambda t: t.is_nonzero(t.ones(0)), RuntimeError, "no values is ambiguous"),
    (lambda t: [1, 2, 3][t.tensor(1.)], TypeError, "only integer tensors of a single element"),
    (lambda t: [1, 2, 3][t.tensor([1, 2])], TypeError, "only integer tensors of a single element"),
    (lambda t: f"{t.tensor([2.5]):.3f}", TypeError, None),
    (lambda t: t.ones(2, dtype=t.int64).requires_grad_(), RuntimeError, "floating point"),
])
def test_python_protocol_errors(fn, exc, match):
    check_raises(fn, exc, match)


def test_float_of_many_elements():
    check_raises(lambda t: float(t.ones(2)), ValueError, "only one element tensors")


def test_bool_of_empty_tensor():
    check_raises(lambda t: bool(t.ones(0)), RuntimeError, "no values")


# ---- repr / str --------------------------------------------------------------------------------------------------
def _norm(s):
    return re.sub(r"grad_fn=<\w*>", "grad_fn=<>", s)


REPR_CASES = {
    "float": lambda t: t.tensor([1.5, 2.25, -3.]),
    "int": lambda t: t.tensor([1, 2, 3]),
    "bool": lambda t: t.tensor([True, False]),
    "0-d float": lambda t: t.tensor(3.5),
    "0-d int": lambda t: t.tensor(3),
    "empty": lambda t: t.zeros(0),
    "empty 2d": lambda t: t.zeros(2, 0),
    "empty int": lambda t: t.zeros(0, 3, dtype=t.int64),
    "float64": lambda t: t.tensor([1.5, 2.], dtype=t.float64),
    "empty float64": lambda t: t.zeros(0, dtype=t.float64),
    "int32": lambda t: t.tensor([1, 2], dtype=t.int32),
    "float16": lambda t: t.tensor([1.5, 2.], dtype=t.float16),
    "uint8": lambda t: t.tensor([1, 2], dtype=t.uint8),
    "complex64": lambda t: t.tensor([1 + 2j, -1j]),
    "requires_grad leaf": lambda t: t.tensor([1., 2.], requires_grad=True),
    "requires_grad 0-d": lambda t: t.tensor(1., requires_grad=True),
    "grad_fn": lambda t: t.tensor([1., 2.], requires_grad=True) * 2,
    "grad_fn 0-d": lambda t: (t.tensor([1., 2.], requires_grad=True) * 2).sum(),
    "grad_fn float64": lambda t: t.tensor([1., 2.], dtype=t.float64, requires_grad=True) + 1,
    "detached": lambda t: t.tensor([1.], requires_grad=True).detach(),
    "summarised": lambda t: t.arange(2000.).reshape(40, 50),
    "summarised int": lambda t: t.arange(2000),
    "scientific": lambda t: t.tensor([1e-8, 1e8, 1.]),
    "nan inf": lambda t: t.tensor([float("nan"), float("inf"), -float("inf"), 1.]),
    "3d": lambda t: t.arange(24.).reshape(2, 3, 4),
    "integral floats": lambda t: t.tensor([1., 2., 3.]),
    "negative zero": lambda t: t.tensor([-0., 0.]),
    "transposed": lambda t: t.arange(6.).reshape(2, 3).t(),
    "legacy FloatTensor": lambda t: t.FloatTensor([[1, 2], [3, 4]]),
}


@pytest.mark.parametrize("name", list(REPR_CASES))
def test_repr_and_str_match_torch(name):
    fn = REPR_CASES[name]
    assert _norm(repr(fn(ember))) == _norm(repr(fn(torch)))
    assert _norm(str(fn(ember))) == _norm(str(fn(torch)))


@pytest.mark.parametrize("opts", [dict(precision=2), dict(precision=6), dict(sci_mode=True),
                                  dict(threshold=5, edgeitems=2), dict(linewidth=20)], ids=str)
def test_set_printoptions(opts):
    for t in (ember, torch):
        t.set_printoptions(**opts)
    try:
        for fn in (lambda t: t.tensor([1.23456789, 2.5, 1 / 3]), lambda t: t.arange(10.),
                   lambda t: t.tensor([[1.5, 100.25], [3., 4.]])):
            assert repr(fn(ember)) == repr(fn(torch))
    finally:
        for t in (ember, torch):
            t.set_printoptions(profile="default")
    assert repr(ember.tensor([1 / 3])) == repr(torch.tensor([1 / 3]))


def test_repr_under_float64_default():
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    for fn in (lambda t: t.tensor([1.5, 2]), lambda t: t.tensor([1.5], dtype=t.float32), lambda t: t.tensor(2.)):
        assert repr(fn(ember)) == repr(fn(torch))


@pytest.mark.parametrize("shape,wrap", [((7, 3), True), ((7, 3), False), ((3, 5), True), ((3, 3, 3), False),
                                        ((4, 4), False)])
def test_fill_diagonal_(shape, wrap):
    check(lambda t, x: (x * 1).fill_diagonal_(-2.5, wrap=wrap), [r(*shape)])


def test_sum_to_size_and_inplace_products():
    check(lambda t, x: x.sum_to_size(4), [r(3, 4)])
    check(lambda t, x: x.sum_to_size(3, 1), [r(3, 4)])
    check(lambda t, x: x.sum_to_size((1, 4)), [r(3, 4)])
    check(lambda t, c, a, b: (c * 1).addmm_(a, b, beta=0.5, alpha=2), [r(3, 5), r(3, 4, seed=1), r(4, 5, seed=2)])
    check(lambda t, c, a, b: (c * 1).addmv_(a, b), [r(3), r(3, 4, seed=1), r(4, seed=2)])
    check(lambda t, c, a, b: (c * 1).baddbmm_(a, b), [r(2, 3, 5), r(2, 3, 4, seed=1), r(2, 4, 5, seed=2)])
    check_raises(lambda t: t.ones(3, 4).sum_to_size(2, 4), RuntimeError, r"size \{\[2, 4\]\} is not expandable")


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "int64", "float16", "float64"])
@pytest.mark.parametrize("shape,size", [((), ()), ((1,), ()), ((2, 3), (2, 3)), ((2, 3), (1, 3)), ((2, 3), (3,))],
                         ids=str)
def test_sum_to_size_dtypes(dtype, shape, size):
    """Summing promotes integers to int64 (a 0-d input summed to () too); an unchanged size keeps the dtype."""
    values = np.arange(1, 1 + int(np.prod(shape))).reshape(shape)
    check(lambda t, x: x.to(getattr(t, dtype)).sum_to_size(size), [values], grad=False)


def test_resize_as_top_level():
    """torch.resize_as_(input, the_template): the in-place method as a function, returning input."""
    for lib in (ember, torch):
        x = lib.arange(6.0)
        y = lib.resize_as_(x, lib.zeros(2, 2))
        assert y is x and tuple(x.shape) == (2, 2)
    check(lambda t, x: t.resize_as_(x.clone(), t.zeros(3, 1)), [r(5)], grad=False)
    check(lambda t, x: t.resize_as_(x.clone(), t.zeros(())), [r(2)], grad=False)


@pytest.mark.parametrize("name", ["to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr",
                                  "to_sparse_bsc"])
def test_to_sparse_not_implemented(name):
    """ember has only strided tensors: a sparse conversion raises NotImplementedError naming it, not AttributeError."""
    assert callable(getattr(torch.Tensor, name))
    with pytest.raises(NotImplementedError, match=f"Tensor.{name}\\(\\): ember has no sparse tensors"):
        getattr(ember.ones(2, 2), name)()
    check_raises(lambda t: t.ones(2, 3, 4).fill_diagonal_(1), RuntimeError, "all dimensions of input must be")


def test_small_top_level_functions():
    for lib in (ember, torch):
        assert lib.is_same_size(lib.ones(2, 3), lib.ones(2, 3)) and not lib.is_same_size(lib.ones(2), lib.ones(3))
        assert lib.is_signed(lib.ones(2)) and not lib.is_signed(lib.ones(2, dtype=lib.uint8))
        x = lib.ones(2, requires_grad=True)
        assert not lib.detach(x).requires_grad and lib.resolve_conj(x) is x and lib.resolve_neg(x) is x
    check(lambda t: t.scalar_tensor(3), [], grad=False)
    check(lambda t: t.scalar_tensor(2.5, dtype=t.float64), [], grad=False)
    check(lambda t: t.scalar_tensor(3, dtype=t.int64), [], grad=False)
    check_raises(lambda t: t.scalar_tensor(t.ones(2)), TypeError, "must be Number, not Tensor")


# ---- small top-level functions and in-place aliases ------------------------------------------------------------------
def test_flags_and_names_as_torch():
    for lib in (ember, torch):
        x = lib.ones(2, 3)
        got = (x.is_cpu, lib.is_conj(x), x.is_neg(), lib.is_neg(x), lib.get_device(x), x.get_device(),
               lib.typename(x), lib.typename(x.long()), lib.typename(3), lib.typename(lib.nn.Linear(2, 2)),
               lib.typename(lib.nn.Linear))
        if lib is ember:
            e = got
    assert e == got


@pytest.mark.parametrize("value", [2.5, "tensor"])
def test_fill(value):
    check(lambda t, x: t.fill(x * 1, t.tensor(2.5) if value == "tensor" else value), [r(2, 3)])


@pytest.mark.parametrize("name", ["matrix_rank", "lstsq", "eig", "symeig", "solve"])
def test_removed_functions_raise(name):
    check_raises(lambda t: getattr(t, name)(t.eye(2), t.eye(2)) if name in ("lstsq", "solve")
                 else getattr(t, name)(t.eye(2)), RuntimeError, "deprecated since version 1.9 and is now removed")


INPLACE_ALIASES = [
    ("arcsinh_", lambda t, x: x.arcsinh_()), ("arccosh_", lambda t, x: (x.abs() + 1).arccosh_()),
    ("arctanh_", lambda t, x: (x * 0.3).arctanh_()), ("arctan2_", lambda t, x: x.arctan2_(x.flip(0))),
    ("greater_", lambda t, x: x.greater_(0.1)), ("greater_equal_", lambda t, x: x.greater_equal_(x.flip(0))),
    ("less_", lambda t, x: x.less_(0.0)), ("less_equal_", lambda t, x: x.less_equal_(0.2)),
    ("not_equal_", lambda t, x: x.not_equal_(x.flip(0))), ("nextafter_", lambda t, x: x.nextafter_(x.flip(0))),
    ("ldexp_", lambda t, x: x.ldexp_(t.tensor([1, 2, 0, 3]))), ("asinh_", lambda t, x: x.asinh_()),
    ("gt_other_requires_grad", lambda t, x: t.zeros(4).gt_(x)), ("eq_", lambda t, x: x.eq_(x.flip(0))),
    ("top_arcsinh_", lambda t, x: t.arcsinh_(x)), ("top_arccosh_", lambda t, x: t.arccosh_(x.abs() + 1)),
    ("top_arctanh_", lambda t, x: t.arctanh_(x * 0.3)), ("top_ldexp_", lambda t, x: t.ldexp_(x, t.tensor([2]))),
]


@pytest.mark.parametrize("name,fn", INPLACE_ALIASES, ids=[c[0] for c in INPLACE_ALIASES])
def test_inplace_aliases(name, fn):
    """Values and node names; torch does not implement the derivative of asinh_/acosh_/atanh_ (ember does), so
    their gradients are not compared."""
    check(lambda t, x: fn(t, x * 1), [r(4)], grad=not any(k in name for k in ("sinh", "cosh", "tanh")))


def test_tensor_method_forms():
    check(lambda t, x: (x.cov(), x.corrcoef(), x.to_dense(), x.histogram(4)[0]), [r(3, 5)], grad=False)
    check(lambda t, x, y: (t.complex(x, y).conj_physical(), t.conj_physical(t.complex(x, y)), t.conj_physical(x)),
          [r(4), r(4, seed=1)])
    check(lambda t, x, y: t.complex(x, y).conj_physical_(), [r(4), r(4, seed=1)])


def _in_inference_mode(t):
    with t.inference_mode():
        return t.ones(2) * 2


@pytest.mark.parametrize("fn", [
    lambda t: t.nonzero_static(t.tensor([[0, 1, 0], [2, 0, 3]]), size=5),
    lambda t: t.nonzero_static(t.tensor([[0, 1, 0], [2, 0, 3]]), size=2, fill_value=7),
    lambda t: t.tensor([0.0, 2.0, 0.0, 1.0]).nonzero_static(size=0),
    lambda t: t.nonzero_static(t.tensor(5), size=2),
    lambda t: [t.ones(2, 3, 4).dim_order(), t.ones(2, 3, 4).permute(2, 0, 1).dim_order(),
               t.ones(2, 1, 4).dim_order(), t.ones(2, 3, 4).transpose(0, 1).dim_order()],
    lambda t: [t.tensor([1.0]).is_nonzero(), t.tensor(0).is_nonzero(), t.is_nonzero(t.tensor([[2]]))],
    lambda t: [t.is_inference(t.ones(2)), t.is_inference(_in_inference_mode(t))],
])
def test_more_tensor_queries(fn):
    check(lambda t: fn(t), [])


@pytest.mark.parametrize("fn", [lambda t: t.nonzero_static(t.ones(2), size=-1), lambda t: t.ones(2).is_nonzero(),
                                lambda t: t.ones(0).is_nonzero()])
def test_more_tensor_query_errors(fn):
    check_raises(fn)


def test_map_and_device_flags():
    def fn(t):
        x, y = t.arange(4.0), t.arange(6.0).reshape(2, 3)
        x.map_(t.ones(4), lambda u, v: u * 10 + v)
        y.map2_(t.tensor([1.0, 2.0, 3.0]), t.tensor(2.0), lambda u, v, w: u + v * w)
        z = t.ones(2)
        return x, y, [z.is_mps, z.is_xpu, z.is_xla, z.const_data_ptr() == z.data_ptr()]
    check(lambda t: fn(t), [], grad=False)
    check_raises(lambda t: t.ones(2, requires_grad=True).map_(t.ones(2), lambda a, b: a), RuntimeError,
                 "Can't call map_")
    check_raises(lambda t: t.ones(2).map_(t.ones(3), lambda a, b: a), RuntimeError, "expanded size")
    check_raises(lambda t: t.ones(2, 2).lstsq(t.ones(2, 2)), RuntimeError, "deprecated since version 1.9")


# ---- Tensor.as_subclass ------------------------------------------------------------------------------------------
# The same user subclass in each library (one class name, so reprs compare equal). Ops on a subclass instance give
# plain Tensors in ember (torch's __torch_function__ subclass propagation is not implemented), so only values,
# gradients and graph nodes of op results are compared.
class _EmberSubclasses:
    class MyTensor(ember.Tensor):
        pass


class _TorchSubclasses:
    class MyTensor(torch.Tensor):
        pass


SUB = {ember: _EmberSubclasses.MyTensor, torch: _TorchSubclasses.MyTensor}


def _sub(t, x):
    return x.as_subclass(SUB[t])


AS_SUBCLASS = {
    "type and graph": lambda t: (lambda x, y: (type(y).__name__, isinstance(y, t.Tensor), isinstance(y, SUB[t]),
                                               y.requires_grad, type(y.grad_fn).__name__, y.is_leaf, y._base is x,
                                               y.data_ptr() == x.data_ptr(), y.shape, y.dtype == x.dtype))(
        *(lambda x: (x, _sub(t, x)))(t.ones(2, 3, requires_grad=True))),
    "of a non-leaf": lambda t: (lambda y: (y.requires_grad, type(y.grad_fn).__name__, y.is_leaf))(
        _sub(t, t.ones(2, requires_grad=True) * 2)),
    "without grad": lambda t: (lambda y: (y.requires_grad, y.grad_fn, y.is_leaf, y._base is None))(
        _sub(t, t.arange(4))),
    "detached": lambda t: _sub(t, t.ones(2, requires_grad=True).detach()).requires_grad,
    "in no_grad": lambda t: (lambda x: [(y.requires_grad, y.grad_fn, y.is_leaf) for y in [_in_no_grad(t, x)]])(
        t.ones(2, requires_grad=True)),
    "version counter shared": lambda t: (lambda x, y: [y._version, x.add_(1) is x, y._version, x._version])(
        *(lambda x: (x, _sub(t, x)))(t.zeros(3))),
    "layout": lambda t: (lambda y: (y.stride(), y.is_contiguous(), y.tolist()))(
        _sub(t, t.arange(6.0).reshape(2, 3).t())),
    "to Tensor": lambda t: (lambda x: (type(x.as_subclass(t.Tensor)).__name__, x.as_subclass(t.Tensor) is x))(
        t.ones(2)),
    "to Parameter": lambda t: (lambda p: (type(p).__name__, p.requires_grad, p.is_leaf))(
        t.ones(2).as_subclass(t.nn.Parameter)),
    "of a Parameter": lambda t: (lambda q: (type(q).__name__, q.requires_grad, type(q.grad_fn).__name__))(
        t.nn.Parameter(t.ones(2)).as_subclass(t.Tensor)),
    "repr": lambda t: (repr(_sub(t, t.tensor([1.5, 2.0]))), repr(_sub(t, t.ones(2, requires_grad=True))),
                       repr(t.nn.Parameter(t.ones(1)).as_subclass(SUB[t]))),
    "pickle keeps class and attributes": lambda t: _pickled_subclass(t),
}


def _in_no_grad(t, x):
    with t.no_grad():
        return _sub(t, x)


def _pickled_subclass(t):
    import pickle
    y = _sub(t, t.arange(3.0))
    y.tag = "kept"
    z = pickle.loads(pickle.dumps(y))
    w = pickle.loads(pickle.dumps(_sub(t, t.ones(2, requires_grad=True))))
    return type(z).__name__, z.tag, z.tolist(), type(w).__name__, w.requires_grad, type(w.grad_fn).__name__


@pytest.mark.parametrize("name", list(AS_SUBCLASS))
def test_as_subclass_as_torch(name):
    fn = AS_SUBCLASS[name]
    assert fn(ember) == fn(torch)


def test_as_subclass_shares_data_both_ways():
    for lib in (ember, torch):
        x = lib.zeros(3)
        y = _sub(lib, x)
        y.add_(1)
        x[0] = 5
        assert x.tolist() == y.tolist() == [5.0, 1.0, 1.0]


@pytest.mark.parametrize("cls", [int, object, "MyTensor", None, np.ndarray])
def test_as_subclass_of_a_non_tensor_class(cls):
    check_same_error(lambda t: t.ones(2).as_subclass(cls))


SUBCLASS_OPS = {
    "add": lambda t, x, w: _sub(t, x) + w[0] + 1.0,
    "radd": lambda t, x, w: 2.0 + _sub(t, x),
    "mul both": lambda t, x, w: _sub(t, x) * _sub(t, x),
    "matmul": lambda t, x, w: _sub(t, x) @ w.t(),
    "rmatmul": lambda t, x, w: w @ _sub(t, x).t(),
    "relu": lambda t, x, w: t.relu(_sub(t, x)),
    "F.relu": lambda t, x, w: t.nn.functional.relu(_sub(t, x)),
    "sum": lambda t, x, w: _sub(t, x).sum(),
    "sum dim": lambda t, x, w: _sub(t, x).sum(1),
    "index": lambda t, x, w: _sub(t, x)[1, ::2],
    "index tensor": lambda t, x, w: _sub(t, x)[t.tensor([2, 0])],
    "linear": lambda t, x, w: t.nn.functional.linear(_sub(t, x), w, w[:, 0]),
    "linear weight": lambda t, x, w: t.nn.functional.linear(w, _sub(t, x)),
    "view": lambda t, x, w: _sub(t, x).view(-1).exp(),
    "softmax": lambda t, x, w: t.softmax(_sub(t, x), 1),
}


@pytest.mark.parametrize("name", list(SUBCLASS_OPS))
def test_ops_on_as_subclass_result(name):
    """Values and gradients through the subclass instance back to the original tensor (torch adds an AliasBackward0
    node to each result as it converts it to the subclass)."""
    check(SUBCLASS_OPS[name], [r(3, 4), r(3, 4, seed=1)], dtypes=("float64", "float32"), node_names=False)


def test_module_on_as_subclass_input():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    em = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU(), ember.nn.Linear(3, 2))
    em.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    outs = []
    for lib, m in ((ember, em), (torch, tm)):
        x = lib.from_numpy(r(5, 4).astype(np.float32)).requires_grad_()
        m(_sub(lib, x)).pow(2).sum().backward()
        outs.append([x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for e, t in zip(*outs):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
