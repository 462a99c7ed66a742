"""dtypes, type promotion, the default dtype, finfo/iinfo, Size and device: compared with torch."""
import itertools
import pickle

import numpy as np
import pytest
import torch

import ember
from parity import assert_same, check, check_raises

DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16",
               "bfloat16", "float32", "float64", "complex32", "complex64", "complex128"]
ALIASES = ["half", "float", "double", "short", "int", "long", "cfloat", "cdouble", "chalf"]


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("name", DTYPE_NAMES + ALIASES)
def test_dtype_names_and_properties(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert repr(e) == repr(t) and str(e) == str(t)
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(e, attr) == getattr(t, attr), attr


@pytest.mark.parametrize("alias,name", [("half", "float16"), ("float", "float32"), ("double", "float64"),
                                        ("short", "int16"), ("int", "int32"), ("long", "int64"),
                                        ("cfloat", "complex64"), ("cdouble", "complex128"), ("chalf", "complex32")])
def test_aliases_are_the_same_object(alias, name):
    assert getattr(ember, alias) is getattr(ember, name)
    assert getattr(ember, alias) == getattr(ember, name) and hash(getattr(ember, alias)) == hash(getattr(ember, name))


def test_dtype_pickles_to_the_same_object():
    for name in DTYPE_NAMES:
        assert pickle.loads(pickle.dumps(getattr(ember, name))) is getattr(ember, name)


def test_to_real_and_to_complex():
    for name in DTYPE_NAMES:
        e, t = getattr(ember, name), getattr(torch, name)
        assert repr(e.to_real()) == repr(t.to_real()), name
        if not name.startswith(("uint", "int", "bool")):
            assert repr(e.to_complex()) == repr(t.to_complex()), name


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPE_NAMES, DTYPE_NAMES)))
def test_promote_types_table(a, b):
    fn = lambda lib: lib.promote_types(getattr(lib, a), getattr(lib, b))  # noqa: E731
    try:
        want = fn(torch)
    except RuntimeError:
        check_raises(fn, RuntimeError, match="Promotion for uint16, uint32, uint64")
        return
    assert repr(fn(ember)) == repr(want)


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPE_NAMES, DTYPE_NAMES)))
def test_can_cast_table(a, b):
    assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))


RESULT_TYPE_CASES = [
    lambda t: t.result_type(t.tensor([1], dtype=t.int32), 2.5),
    lambda t: t.result_type(t.tensor([1], dtype=t.int32), 2),
    lambda t: t.result_type(t.tensor([1], dtype=t.int8), t.tensor(300)),
    lambda t: t.result_type(t.tensor([1], dtype=t.int32), t.tensor(2.5, dtype=t.float64)),
    lambda t: t.result_type(t.tensor([1.], dtype=t.float16), t.tensor(2.5, dtype=t.float64)),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint8), -1),
    lambda t: t.result_type(t.tensor(1, dtype=t.uint8), t.tensor(1, dtype=t.int8)),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint8), t.tensor([1], dtype=t.int8)),
    lambda t: t.result_type(2, 2.5),
    lambda t: t.result_type(True, 2),
    lambda t: t.result_type(t.tensor([True]), 2),
    lambda t: t.result_type(t.tensor([True]), True),
    lambda t: t.result_type(t.tensor([1.], dtype=t.float16), 1j),
    lambda t: t.result_type(t.tensor([1]), 1j),
    lambda t: t.result_type(t.tensor([1], dtype=t.float64), 1j),
    lambda t: t.result_type(t.tensor(1, dtype=t.complex64), t.tensor([1.], dtype=t.float64)),
    lambda t: t.result_type(t.tensor(1.), t.tensor([1], dtype=t.int32)),
    lambda t: t.result_type(2.5, t.tensor(1, dtype=t.int8)),
    lambda t: t.result_type(t.tensor(1, dtype=t.int64), t.tensor(1., dtype=t.float16)),
]


@pytest.mark.parametrize("fn", RESULT_TYPE_CASES)
def test_result_type(fn):
    assert repr(fn(ember)) == repr(fn(torch))


def _default_dtype_effects(t):
    return [t.tensor(1.5).dtype, t.zeros(2).dtype, t.ones(2).dtype, t.empty(2).dtype, t.arange(2.).dtype,
            t.tensor([1, 2.]).dtype, t.full((1,), 2.).dtype, (t.tensor([1, 2]) * 1.5).dtype,
            (t.tensor([1.], dtype=t.float32) * 1.5).dtype, (t.tensor([1, 2]) / 2).dtype, t.rand(2).dtype,
            t.randn(2).dtype, t.linspace(0, 1, 3).dtype, t.logspace(0, 1, 3).dtype, t.eye(2).dtype,
            t.result_type(t.tensor([1]), 1.5), t.get_default_dtype(), t.tensor([1, 2]).float().dtype,
            t.Tensor([1]).dtype, t.FloatTensor([1]).dtype, t.tensor([1, 2]).mean(dtype=t.get_default_dtype()).dtype,
            t.full((1,), True).dtype, t.arange(3).dtype]


@pytest.mark.parametrize("name", ["float64", "float16", "float32"])
def test_set_default_dtype_changes_factories_and_promotion(name):
    want = []
    torch.set_default_dtype(getattr(torch, name))
    try:
        want = [repr(d) for d in _default_dtype_effects(torch)]
    finally:
        torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(getattr(ember, name))
    try:
        got = [repr(d) for d in _default_dtype_effects(ember)]
    finally:
        ember.set_default_dtype(ember.float32)
    assert got == want
    assert ember.get_default_dtype() is ember.float32


def test_default_complex_follows_default_float():
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    assert repr(ember.tensor(1j).dtype) == repr(torch.tensor(1j).dtype) == "torch.complex128"
    assert repr(ember.tensor([1, 2.5j]).dtype) == repr(torch.tensor([1, 2.5j]).dtype)


def test_complex32_and_bfloat16_tensors_are_not_implemented():
    with pytest.raises(NotImplementedError, match="bfloat16"):
        ember.zeros(2, dtype=ember.bfloat16)
    with pytest.raises(NotImplementedError, match="complex32"):
        ember.ones(2).to(ember.complex32)
    with pytest.raises(NotImplementedError, match="bfloat16"):
        ember.ones(2).bfloat16()


@pytest.mark.parametrize("arg", ["int64", "bool", "complex64", "py_float", "str"])
def test_set_default_dtype_rejects_non_float(arg):
    val = {"py_float": lambda lib: float, "str": lambda lib: "float64"}.get(arg, lambda lib: getattr(lib, arg))
    check_raises(lambda lib: lib.set_default_dtype(val(lib)), TypeError, match="floating-point")
    assert ember.get_default_dtype() is ember.float32


# ---- finfo / iinfo ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"])
def test_finfo(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert repr(e) == repr(t)


def test_finfo_default_and_errors():
    assert ember.finfo().dtype == torch.finfo().dtype == "float32"
    assert ember.finfo(ember.float32) == ember.finfo(ember.float32)
    check_raises(lambda lib: lib.finfo(lib.int32), TypeError, match="floating point")


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", ["float32", "bool"])
def test_iinfo_errors(name):
    check_raises(lambda lib: lib.iinfo(getattr(lib, name)), TypeError, match="iinfo")


# ---- Size --------------------------------------------------------------------------------------------------------
SIZE_CASES = [
    lambda t: repr(t.Size([2, 3])),
    lambda t: str(t.Size([])),
    lambda t: repr(t.Size((1,))),
    lambda t: repr(t.Size([2, 3, 4])[1:]),
    lambda t: type(t.Size([2, 3, 4])[1:]).__name__,
    lambda t: repr(t.Size([2, 3, 4])[::-1]),
    lambda t: t.Size([2, 3, 4])[-1],
    lambda t: type(t.Size([2, 3, 4])[0]).__name__,
    lambda t: (t.Size([2, 3, 4]).numel(), t.Size([]).numel(), t.Size([0, 3]).numel()),
    lambda t: (t.Size([2, 3]) == (2, 3), t.Size([2, 3]) == [2, 3], (2, 3) == t.Size([2, 3]),
               t.Size([2, 3]) != (2, 4), t.ones(2, 3).shape == (2, 3)),
    lambda t: (repr(t.Size([2]) + (3,)), repr(t.Size([2]) + t.Size([3])), repr((1,) + t.Size([2]))),
    lambda t: (repr(t.Size([2]) * 2), repr(2 * t.Size([2])), type(t.Size([1]) * 3).__name__),
    lambda t: repr(t.Size([t.tensor(2), np.int64(3), True])),
    lambda t: hash(t.Size([2, 3])) == hash((2, 3)),
    lambda t: (isinstance(t.Size([2]), tuple), len(t.Size([2, 3])), list(t.Size([2, 3]))),
    lambda t: (t.Size([2, 3, 2]).count(2), t.Size([2, 3]).index(3)),
    lambda t: repr(pickle.loads(pickle.dumps(t.Size([4, 5])))),
    lambda t: (repr(t.ones(2, 3).size()), repr(t.ones(2, 3).shape), repr(t.tensor(1.).shape)),
]


@pytest.mark.parametrize("fn", SIZE_CASES)
def test_size(fn):
    assert fn(ember) == fn(torch)


@pytest.mark.parametrize("fn", [lambda t: t.Size([2.5]), lambda t: t.Size(3), lambda t: t.Size([2]) + [3],
                                lambda t: t.Size(["a"])])
def test_size_errors(fn):
    check_raises(fn, TypeError)


# ---- device -----------------------------------------------------------------------------------------------------
DEVICE_CASES = [
    lambda t: (repr(t.device("cpu")), str(t.device("cpu")), t.device("cpu").type, t.device("cpu").index),
    lambda t: (repr(t.device("cpu", 0)), str(t.device("cpu:0")), repr(t.device("cuda:1")), t.device("cuda", 1).index),
    lambda t: (t.device("cpu") == t.device("cpu"), t.device("cpu") == t.device("cpu", 0), t.device("cpu") == "cpu"),
    lambda t: repr(t.device(t.device("cuda", 2))),
    lambda t: len({t.device("cpu"), t.device("cpu")}),
    lambda t: (repr(t.ones(2).device), t.ones(2).device == t.device("cpu"), t.ones(2).is_cuda,
               t.ones(2).get_device()),
    lambda t: t.cuda.is_available(),
    lambda t: t.ones(2).cpu().tolist(),
    lambda t: t.zeros(2, device="cpu").tolist() + t.zeros(2, device=t.device("cpu")).tolist(),
]


@pytest.mark.parametrize("fn", DEVICE_CASES)
def test_device(fn):
    assert fn(ember) == fn(torch)


@pytest.mark.parametrize("spec", ["foo", "cuda:x", "cpu:-1"])
def test_device_errors(spec):
    check_raises(lambda lib: lib.device(spec), RuntimeError)


ACCELERATOR_CASES = [
    lambda t: t.ones(2).cuda(),
    lambda t: t.ones(2).cuda(0),
    lambda t: t.ones(2).to("cuda"),
    lambda t: t.ones(2).to("cuda:0"),
    lambda t: t.ones(2).to(t.device("cuda")),
    lambda t: t.ones(2).to(0),
    lambda t: t.zeros(2, device="cuda"),
    lambda t: t.tensor([1.], device="cuda"),
    lambda t: t.ones(2).to("mps"),
]


@pytest.mark.parametrize("fn", ACCELERATOR_CASES)
def test_accelerators_raise(fn):
    # ember raises one class that is both RuntimeError and AssertionError: torch uses either, depending on the call.
    check_raises(fn)
    with pytest.raises(RuntimeError, match="CPU only"):
        fn(ember)


def test_dtype_of_tensor_roundtrips_through_numpy():
    for name in ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
                 "complex128", "uint16", "uint32", "uint64"]:
        a = np.zeros(2, dtype=name)
        assert repr(ember.from_numpy(a).dtype) == repr(torch.from_numpy(a).dtype), name
        assert ember.from_numpy(a).numpy().dtype == a.dtype


def test_tensor_dtype_checks():
    check(lambda t: [t.ones(2, dtype=getattr(t, n)).is_floating_point() for n in DTYPE_NAMES
                     if n not in ("bfloat16", "complex32")] + [t.is_floating_point(t.ones(1)),
                                                               t.is_complex(t.ones(1, dtype=t.complex64))], [],
          grad=False)
    assert_same(ember.ones(2, dtype=ember.uint8).is_signed(), torch.ones(2, dtype=torch.uint8).is_signed())
