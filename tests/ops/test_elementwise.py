"""Elementwise math against PyTorch: binary and unary ops, operators, type promotion, clamp/where/lerp and
friends, in-place forms, gradients (random upstream grads) and gradcheck/gradgradcheck."""
import itertools
import operator
import warnings
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember
from parity import check, check_raises, check_same_error, assert_same, r

FLOATS = ("float64", "float32")


def _rng(*key):
    """A generator seeded from key (stable across runs, unlike hash())."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def uniform(shape, lo, hi, key=0):
    return np.asarray(_rng("u", shape, lo, hi, key).uniform(lo, hi, shape))


def nonzero(shape, lo=0.5, hi=3.0, key=0):
    r = _rng("nz", shape, key)
    return np.asarray(r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape))


DOMAINS = {
    "any": lambda s, k: uniform(s, -3, 3, k),
    "pos": lambda s, k: uniform(s, 0.5, 3, k),
    "nz": lambda s, k: nonzero(s, key=k),
    "unit": lambda s, k: uniform(s, -0.9, 0.9, k),
}


def same_or_raises(fn, inputs, **kw):
    """check() when torch computes fn; otherwise ember must raise the same exception class."""
    try:
        fn(torch, *[torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a for a in inputs])
    except Exception:
        check_raises(lambda t: fn(t, *[t.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a
                                        for a in inputs]))
        return
    check(fn, inputs, **kw)


# ---------------------------------------------------------------------------------------------------------------
# binary ops: values, dtypes and gradients over shapes (broadcasting, 0-d, empty) and non-contiguous layouts
# ---------------------------------------------------------------------------------------------------------------
BINARY = {
    "add": (lambda t, x, y: t.add(x, y), "any", "any"),
    "add_alpha": (lambda t, x, y: t.add(x, y, alpha=-2.5), "any", "any"),
    "sub": (lambda t, x, y: t.sub(x, y), "any", "any"),
    "sub_alpha": (lambda t, x, y: t.sub(x, y, alpha=3), "any", "any"),
    "subtract": (lambda t, x, y: t.subtract(x, y), "any", "any"),
    "rsub": (lambda t, x, y: t.rsub(x, y, alpha=2), "any", "any"),
    "mul": (lambda t, x, y: t.mul(x, y), "any", "any"),
    "div": (lambda t, x, y: t.div(x, y), "any", "nz"),
    "true_divide": (lambda t, x, y: t.true_divide(x, y), "any", "nz"),
    "div_trunc": (lambda t, x, y: t.div(x, y, rounding_mode="trunc"), "any", "nz"),
    "div_floor": (lambda t, x, y: t.div(x, y, rounding_mode="floor"), "any", "nz"),
    "remainder": (lambda t, x, y: t.remainder(x, y), "any", "nz"),
    "fmod": (lambda t, x, y: t.fmod(x, y), "any", "nz"),
    "pow": (lambda t, x, y: t.pow(x, y), "pos", "any"),
    "float_power": (lambda t, x, y: t.float_power(x, y), "pos", "any"),
    "atan2": (lambda t, x, y: t.atan2(x, y), "any", "nz"),
    "arctan2": (lambda t, x, y: t.arctan2(x, y), "any", "nz"),
    "maximum": (lambda t, x, y: t.maximum(x, y), "any", "any"),
    "minimum": (lambda t, x, y: t.minimum(x, y), "any", "any"),
    "fmax": (lambda t, x, y: t.fmax(x, y), "any", "any"),
    "fmin": (lambda t, x, y: t.fmin(x, y), "any", "any"),
    "hypot": (lambda t, x, y: t.hypot(x, y), "nz", "nz"),
    "logaddexp": (lambda t, x, y: t.logaddexp(x, y), "any", "any"),
    "logaddexp2": (lambda t, x, y: t.logaddexp2(x, y), "any", "any"),
    "copysign": (lambda t, x, y: t.copysign(x, y), "nz", "nz"),
    "xlogy": (lambda t, x, y: t.xlogy(x, y), "any", "pos"),
}
SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (3,)), ((2, 3), ()), ((), ()),
          ((0, 3), (3,)), ((2, 1, 3), (4, 1))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(name, shapes):
    fn, dx, dy = BINARY[name]
    x, y = DOMAINS[dx](shapes[0], name), DOMAINS[dy](shapes[1], name + "y")
    check(fn, [x, y], dtypes=FLOATS)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_noncontiguous(name):
    fn, dx, dy = BINARY[name]
    x, y = DOMAINS[dx]((4, 3), name), DOMAINS[dy]((3, 8), name + "y")
    check(lambda t, a, b: fn(t, a.transpose(0, 1), b[:, ::2]), [x, y], dtypes=FLOATS)
    check(fn, [x.T, y[:, ::2]], grad=False, dtypes=["float16"])


def test_floor_divide_values_and_missing_derivative():
    x, y = uniform((3, 4), -5, 5), nonzero((4,))
    check(lambda t, a, b: t.floor_divide(a, b), [x, y], grad=False, dtypes=FLOATS)
    check_raises(lambda t: t.floor_divide(t.tensor([1.5, -2.5], requires_grad=True), 2.0).sum().backward(),
                 RuntimeError, "floor_divide")


def test_div_bad_rounding_mode():
    check_raises(lambda t: t.div(t.ones(2), 2, rounding_mode="round"), RuntimeError, "rounding_mode.*'round'")


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_special_values(name):
    """Every pair of special values (inf, nan, signed zeros) gives torch's value."""
    fn = BINARY[name][0]
    x, y = np.meshgrid(SPECIAL, SPECIAL)
    check(fn, [x, y], grad=False, dtypes=FLOATS)


@pytest.mark.parametrize("name,fn", [
    ("maximum", lambda t, x, y: t.maximum(x, y)), ("minimum", lambda t, x, y: t.minimum(x, y)),
    ("fmax", lambda t, x, y: t.fmax(x, y)), ("fmin", lambda t, x, y: t.fmin(x, y)),
    ("clamp_t", lambda t, x, y: t.clamp(x, min=y)),
])
def test_extremum_ties_and_nan_gradients(name, fn):
    """Ties split the gradient (maximum/minimum) or give it to the input (fmax/fmin); NaN routes as torch."""
    x = np.array([1.0, 2.0, 3.0, np.nan, 5.0, np.nan, -1.0])
    y = np.array([1.0, 1.0, 4.0, 2.0, np.nan, np.nan, -1.0])
    check(fn, [x, y], dtypes=FLOATS)


# ---------------------------------------------------------------------------------------------------------------
# binary ops with Python-scalar operands
# ---------------------------------------------------------------------------------------------------------------
SCALAR_CASES = {
    "t+2.5": lambda t, x: t.add(x, 2.5),
    "2.5+t": lambda t, x: t.add(2.5, x),
    "add_alpha_scalar": lambda t, x: t.add(x, 2, alpha=3),
    "sub_scalar_first": lambda t, x: t.sub(2, x),
    "rsub_scalar": lambda t, x: t.rsub(x, 2),
    "t*3": lambda t, x: t.mul(x, 3),
    "t/3": lambda t, x: t.div(x, 3),
    "3/t": lambda t, x: t.div(3, x),
    "t//0.7": lambda t, x: t.div(x, 0.7, rounding_mode="floor"),
    "t_trunc_0.7": lambda t, x: t.div(x, -0.7, rounding_mode="trunc"),
    "t**2": lambda t, x: t.pow(x, 2),
    "t**3": lambda t, x: t.pow(x, 3),
    "t**0.5": lambda t, x: t.pow(x.abs(), 0.5),
    "t**-1.5": lambda t, x: t.pow(x.abs(), -1.5),
    "t**0": lambda t, x: t.pow(x, 0),
    "t**-2": lambda t, x: t.pow(x, -2),
    "2**t": lambda t, x: t.pow(2, x),
    "0.5**t": lambda t, x: t.pow(0.5, x),
    "0**t": lambda t, x: t.pow(0.0, x),
    "-2**t": lambda t, x: t.pow(-2.0, x),
    "t%1.5": lambda t, x: t.remainder(x, 1.5),
    "fmod_t_1.5": lambda t, x: t.fmod(x, -1.5),
    "copysign_t_-1": lambda t, x: t.copysign(x, -1.0),
    "xlogy_2_t": lambda t, x: t.xlogy(2.0, x.abs()),
    "xlogy_t_2": lambda t, x: t.xlogy(x, 2.0),
    "xlogy_0_t": lambda t, x: t.xlogy(0.0, x),
    "float_power_t_2": lambda t, x: t.float_power(x, 2),
    "float_power_2_t": lambda t, x: t.float_power(2, x),
    "eq_scalar": lambda t, x: t.eq(x, 1.0),
    "ge_scalar": lambda t, x: t.ge(x, 0),
}


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_binary_with_scalar(name):
    x = np.array([[-2.5, -1.0, -0.3, 0.0], [0.4, 1.0, 1.7, 2.9]])
    check(SCALAR_CASES[name], [x], dtypes=FLOATS)


def test_remainder_with_scalar_input_has_no_derivative():
    x = np.array([-2.5, -1.0, 0.4, 1.7])
    check(lambda t, a: t.remainder(1.5, a), [x], grad=False, dtypes=FLOATS)
    check(lambda t, a: 1.5 % a, [x], grad=False, dtypes=FLOATS)
    check_raises(lambda t: t.remainder(1.5, t.tensor([0.4, 1.7], requires_grad=True)).sum().backward(),
                 RuntimeError, "derivative for aten::remainder is not implemented")


@pytest.mark.parametrize("fn", [lambda t: t.add(2, 3), lambda t: t.add(2, 3.5), lambda t: t.sub(2.5, 1),
                                lambda t: t.mul(True, 3), lambda t: t.div(1, 2), lambda t: t.true_divide(3, 2),
                                lambda t: t.floor_divide(7, 2), lambda t: t.div(7, -2, rounding_mode="trunc"),
                                lambda t: t.add(2, 3, alpha=2)])
def test_two_scalar_operands_give_0d_tensor(fn):
    assert_same(fn(ember), fn(torch))


def test_pow_integer_semantics():
    base = np.array([-3, -2, -1, 0, 1, 2, 3], dtype=np.int64)
    exps = np.array([-3, -2, -1, 0, 1, 2, 3], dtype=np.int64)
    b, e = np.meshgrid(base, exps)
    check(lambda t, x, y: t.pow(x, y), [b, e], grad=False)
    check(lambda t, x, y: t.pow(x, y), [b.astype(np.int32), e.astype(np.int8)], grad=False)
    check(lambda t, y: t.pow(2, y), [exps], grad=False)
    check(lambda t, y: t.pow(2.5, y), [exps], grad=False)
    check(lambda t, x: t.pow(x, 2), [base.astype(np.uint8)], grad=False)
    check(lambda t, x: t.pow(x, -1.0), [base], grad=False)
    check(lambda t, x: t.pow(x, True), [np.array([True, False])], grad=False)
    check(lambda t, x: t.pow(x, 2), [np.array([True, False])], grad=False)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.pow(t.tensor([1, 2]), -1), RuntimeError, "Integers to negative integer powers are not allowed"),
    (lambda t: t.tensor([1, 2]) ** -2, RuntimeError, "negative integer powers"),
    (lambda t: t.pow(t.tensor([True]), t.tensor([True])), NotImplementedError, "Bool"),
    (lambda t: t.pow(True, t.tensor([True])), NotImplementedError, "Bool"),
    (lambda t: t.pow(2, 3), TypeError, "Tensor"),
])
def test_pow_errors(fn, exc, match):
    check_raises(fn, exc, match)


TENSOR_ONLY_OPS = ["logical_and", "logical_or", "logical_xor", "gcd", "lcm", "ldexp"]


@pytest.mark.parametrize("name", TENSOR_ONLY_OPS)
@pytest.mark.parametrize("call", [lambda f, t: f(t.tensor([1, 2]), 2), lambda f, t: f(2, t.tensor([1, 2]))],
                         ids=["number_other", "number_input"])
def test_tensor_only_binary_ops_reject_numbers(name, call):
    """PyTorch takes no Python number for either operand of these ops (function or method form)."""
    check_same_error(lambda t: call(getattr(t, name), t))
    check_raises(lambda t: getattr(t.tensor([1, 2]), name)(2), TypeError, "must be Tensor, not int")


@pytest.mark.parametrize("fn", [
    lambda t: t.rsub(2, t.tensor([1, 2])), lambda t: t.rsub(2, 3),
    lambda t: t.complex(t.ones(2), t.ones(2), out=t.empty(2, dtype=t.complex128)),
    lambda t: t.polar(t.ones(2), t.ones(2), out=t.empty(2)),
])
def test_binary_signature_errors(fn):
    check_same_error(fn)


# ---------------------------------------------------------------------------------------------------------------
# integer / bool inputs: values, dtypes and the errors torch raises
# ---------------------------------------------------------------------------------------------------------------
INT_BINARY = {
    "add": lambda t, x, y: t.add(x, y), "sub": lambda t, x, y: t.sub(x, y), "mul": lambda t, x, y: t.mul(x, y),
    "div": lambda t, x, y: t.div(x, y), "div_trunc": lambda t, x, y: t.div(x, y, rounding_mode="trunc"),
    "div_floor": lambda t, x, y: t.div(x, y, rounding_mode="floor"),
    "floor_divide": lambda t, x, y: t.floor_divide(x, y), "remainder": lambda t, x, y: t.remainder(x, y),
    "fmod": lambda t, x, y: t.fmod(x, y), "pow": lambda t, x, y: t.pow(x, y),
    "atan2": lambda t, x, y: t.atan2(x, y), "maximum": lambda t, x, y: t.maximum(x, y),
    "minimum": lambda t, x, y: t.minimum(x, y), "fmax": lambda t, x, y: t.fmax(x, y),
    "fmin": lambda t, x, y: t.fmin(x, y), "hypot": lambda t, x, y: t.hypot(x, y),
    "logaddexp": lambda t, x, y: t.logaddexp(x, y), "logaddexp2": lambda t, x, y: t.logaddexp2(x, y),
    "copysign": lambda t, x, y: t.copysign(x, y), "xlogy": lambda t, x, y: t.xlogy(x, y),
    "float_power": lambda t, x, y: t.float_power(x, y),
    "eq": lambda t, x, y: t.eq(x, y), "ne": lambda t, x, y: t.ne(x, y), "lt": lambda t, x, y: t.lt(x, y),
    "le": lambda t, x, y: t.le(x, y), "gt": lambda t, x, y: t.gt(x, y), "ge": lambda t, x, y: t.ge(x, y),
    "greater": lambda t, x, y: t.greater(x, y), "less_equal": lambda t, x, y: t.less_equal(x, y),
    "logical_and": lambda t, x, y: t.logical_and(x, y), "logical_or": lambda t, x, y: t.logical_or(x, y),
    "logical_xor": lambda t, x, y: t.logical_xor(x, y),
    "bitwise_and": lambda t, x, y: t.bitwise_and(x, y), "bitwise_or": lambda t, x, y: t.bitwise_or(x, y),
    "bitwise_xor": lambda t, x, y: t.bitwise_xor(x, y),
    "bitwise_left_shift": lambda t, x, y: t.bitwise_left_shift(x, y),
    "bitwise_right_shift": lambda t, x, y: t.bitwise_right_shift(x, y),
}
INT_VALUES = {
    "int64": (np.array([-7, -3, 0, 5, 9, 100], np.int64), np.array([2, -3, 4, -1, 3, 7], np.int64)),
    "int32": (np.array([-7, -3, 0, 5, 9, 100], np.int32), np.array([2, -3, 4, -1, 3, 7], np.int32)),
    "int16": (np.array([-7, -3, 0, 5, 9, 100], np.int16), np.array([2, 3, 4, 1, 3, 7], np.int16)),
    "int8": (np.array([-7, -3, 0, 5, 9, 100], np.int8), np.array([2, -3, 4, -1, 3, 7], np.int8)),
    "uint8": (np.array([7, 3, 0, 5, 9, 200], np.uint8), np.array([2, 3, 4, 1, 3, 7], np.uint8)),
    "bool": (np.array([True, False, True, False, True, True]), np.array([True, True, False, False, True, True])),
    "mixed": (np.array([-7, -3, 0, 5, 9, 100], np.int32), np.array([2, 3, 4, 1, 3, 7], np.uint8)),
    "float_int": (np.array([-7.5, -3, 0, 5.25, 9, 100], np.float32), np.array([2, -3, 4, -1, 3, 7], np.int64)),
}


@pytest.mark.parametrize("kind", list(INT_VALUES))
@pytest.mark.parametrize("name", list(INT_BINARY))
def test_binary_integer_and_bool_inputs(name, kind):
    x, y = INT_VALUES[kind]
    same_or_raises(INT_BINARY[name], [x, y], grad=False)


@pytest.mark.parametrize("name", ["div_trunc", "div_floor", "floor_divide", "remainder", "fmod"])
def test_integer_division_by_zero(name):
    check_raises(lambda t: INT_BINARY[name](t, t.tensor([4, 5]), t.tensor([2, 0])), RuntimeError, "ZeroDivisionError")
    check_raises(lambda t: INT_BINARY[name](t, t.tensor([4, 5]), 0), RuntimeError, "ZeroDivisionError")


def test_integer_wraparound_with_scalars():
    u = np.array([0, 5, 250], np.uint8)
    i8 = np.array([100, -100, 3], np.int8)
    check(lambda t, x: x + -1, [u], grad=False)
    check(lambda t, x: x * 300, [u], grad=False)
    check(lambda t, x: x + 300, [i8], grad=False)
    check(lambda t, x: x * 2, [i8], grad=False)
    check(lambda t, x: t.neg(x), [u], grad=False)
    # Python ints in the dtype's range (computed directly in the tensor's dtype), wrapping as torch does
    check(lambda t, x: x - 1, [u], grad=False)
    check(lambda t, x: x + 100, [i8], grad=False)
    check(lambda t, x: x.clone().sub_(6), [u], grad=False)
    check(lambda t, x: x[1].clone().mul_(3), [i8], grad=False)
    check(lambda t, x: x.clone().add_(1), [np.array(7, np.int64)], grad=False)


def test_shift_out_of_range_counts():
    a = np.array([1, -8, 12345, -1, 7], np.int32)
    s = np.array([-1, 40, 31, 32, 3], np.int32)
    check(lambda t, x, y: t.bitwise_left_shift(x, y), [a, s], grad=False)
    check(lambda t, x, y: t.bitwise_right_shift(x, y), [a, s], grad=False)
    check(lambda t, x, y: t.bitwise_right_shift(x, y), [np.array([200, 7, 9], np.uint8), np.array([9, 1, 255], np.uint8)],
          grad=False)
    check(lambda t, x: t.bitwise_left_shift(x, 3), [np.array([200, 7], np.uint8)], grad=False)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.sub(t.tensor([True]), t.tensor([False])), RuntimeError, "two bool tensors"),
    (lambda t: t.sub(t.tensor([True]), 1), RuntimeError, "with a bool tensor"),
    (lambda t: t.sub(t.ones(2), t.tensor([True, False])), RuntimeError, "with a bool tensor"),
    (lambda t: t.sub(t.tensor([1, 2]), True), RuntimeError, "bool"),
    (lambda t: 1 - t.tensor([True]), RuntimeError, "logical_not"),
    (lambda t: t.add(t.tensor([1, 2]), t.tensor([1, 2]), alpha=2.5), RuntimeError, "alpha must not be a floating"),
    (lambda t: t.add(t.tensor([1, 2]), 1, alpha=True), RuntimeError, "Boolean alpha"),
    (lambda t: t.maximum(t.ones(2), 1.0), TypeError, "must be Tensor, not float"),
    (lambda t: t.minimum(2, t.ones(2)), TypeError, "must be Tensor, not int"),
    (lambda t: t.atan2(t.ones(2), 2), TypeError, "must be Tensor"),
    (lambda t: t.hypot(t.ones(2), 2.0), TypeError, "must be Tensor"),
    (lambda t: t.logaddexp(t.ones(2), 2.0), TypeError, "must be Tensor"),
    (lambda t: t.fmax(t.ones(2), 2.0), TypeError, "must be Tensor"),
    (lambda t: t.fmod(2, t.ones(2)), TypeError, "invalid combination"),
    (lambda t: t.copysign(2.0, t.ones(2)), TypeError, "invalid combination"),
    (lambda t: t.eq(2, t.ones(2)), TypeError, "invalid combination"),
    (lambda t: t.maximum(2, 3), TypeError, "must be Tensor"),
    (lambda t: t.pow(2, 3), TypeError, None),
    (lambda t: t.remainder(5, 3), TypeError, None),
    (lambda t: t.maximum(t.ones(2, dtype=t.complex64), t.ones(2)), RuntimeError, "not implemented for complex"),
    (lambda t: t.fmin(t.ones(2), t.ones(2, dtype=t.complex64)), RuntimeError, "not implemented for complex"),
    (lambda t: t.lt(t.ones(2, dtype=t.complex64), t.ones(2)), NotImplementedError, "\"lt_cpu\" not implemented for "
                                                                                    "'ComplexFloat'"),
    (lambda t: t.remainder(t.ones(2, dtype=t.complex128), 1), NotImplementedError, "'ComplexDouble'"),
    (lambda t: t.atan2(t.ones(2, dtype=t.complex64), t.ones(2)), NotImplementedError, "atan2"),
    (lambda t: t.hypot(t.tensor([1, 2]), t.tensor([1, 2])), NotImplementedError, "\"hypot_cpu\" not implemented for "
                                                                                  "'Long'"),
    (lambda t: t.logaddexp(t.tensor([True]), t.tensor([True])), NotImplementedError, "'Bool'"),
    (lambda t: t.bitwise_and(t.ones(2), t.ones(2)), NotImplementedError,
     "\"bitwise_and_cpu\" not implemented for 'Float'"),
    (lambda t: t.bitwise_left_shift(t.tensor([True]), t.tensor([True])), NotImplementedError, "'Bool'"),
    (lambda t: t.xlogy(t.ones(2, dtype=t.complex64), t.ones(2)), NotImplementedError, "xlogy"),
    (lambda t: t.floor_divide(t.tensor([True]), t.tensor([True])), NotImplementedError, "\"div_floor_cpu\""),
    (lambda t: t.div(t.tensor([True]), t.tensor([True]), rounding_mode="trunc"), NotImplementedError,
     "\"div_trunc_cpu\" not implemented for 'Bool'"),
    (lambda t: t.add(t.ones(2, 3), t.ones(4)), RuntimeError, None),
])
def test_binary_errors(fn, exc, match):
    check_raises(fn, exc, match)


# ---------------------------------------------------------------------------------------------------------------
# type promotion: result dtypes over dtype pairs and tensor / 0-d tensor / Python-scalar tiers
# ---------------------------------------------------------------------------------------------------------------
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
          "complex128"]
PROMO_OPS = {
    "add": lambda t, x, y: t.add(x, y), "mul": lambda t, x, y: t.mul(x, y), "div": lambda t, x, y: t.div(x, y),
    "sub": lambda t, x, y: t.sub(x, y), "eq": lambda t, x, y: t.eq(x, y), "pow": lambda t, x, y: t.pow(x, y),
    "maximum": lambda t, x, y: t.maximum(x, y), "atan2": lambda t, x, y: t.atan2(x, y),
    "remainder": lambda t, x, y: t.remainder(x, y), "bitwise_or": lambda t, x, y: t.bitwise_or(x, y),
    "where": lambda t, x, y: t.where(t.tensor([True, False]), x, y), "xlogy": lambda t, x, y: t.xlogy(x, y),
    "copysign": lambda t, x, y: t.copysign(x, y),
}
TIERS = {"tensor": lambda lib, d: lib.tensor([1, 2], dtype=getattr(lib, d)),
         "0d": lambda lib, d: lib.tensor(3, dtype=getattr(lib, d))}
SCALARS = [True, 3, -2, 2.5, 1 + 2j]


def _promotion_cases(tier_a, tier_b):
    if tier_b == "scalar":
        return [(a, s) for a in DTYPES for s in SCALARS]
    return list(itertools.product(DTYPES, DTYPES))


def _operand(lib, tier, spec):
    return TIERS[tier](lib, spec) if tier in TIERS else spec


def _run(fn, lib):
    try:
        return fn(lib)
    except Exception as exc:
        return exc


@pytest.mark.parametrize("tiers", [("tensor", "tensor"), ("tensor", "0d"), ("0d", "tensor"), ("0d", "0d"),
                                   ("tensor", "scalar"), ("0d", "scalar")], ids="-".join)
@pytest.mark.parametrize("op", list(PROMO_OPS))
def test_type_promotion_table(op, tiers):
    """Result dtype and value (or exception class) of op over every dtype pair (and, with scalars, both orders)."""
    fn = PROMO_OPS[op]
    problems = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for da, db in _promotion_cases(*tiers):
            for swap in (False, True) if tiers[1] == "scalar" else (False,):
                def run(lib):
                    a, b = _operand(lib, tiers[0], da), _operand(lib, tiers[1], db)
                    return fn(lib, b, a) if swap else fn(lib, a, b)
                want, got = _run(run, torch), _run(run, ember)
                if not isinstance(want, Exception) and want.dtype in (torch.complex32, torch.bfloat16):
                    want = NotImplementedError()
                if isinstance(got, NotImplementedError) and "complex32" in str(got):
                    continue  # ember has no complex32 (float16 with a lower-tier complex operand)
                case = f"{op}({'swapped ' if swap else ''}{da}, {db})"
                if isinstance(want, Exception) or isinstance(got, Exception):
                    if type(want) is not type(got):
                        problems.append(f"{case}: torch {type(want).__name__}, ember {type(got).__name__}: {got}")
                elif str(got.dtype) != str(want.dtype):
                    problems.append(f"{case}: torch {want.dtype}, ember {got.dtype}")
                elif not np.allclose(got.numpy().astype(complex), want.numpy().astype(complex), equal_nan=True,
                                     rtol=1e-3):
                    problems.append(f"{case}: values {want.numpy()} != {got.numpy()}")
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("fn,dtype", [
    (lambda t: t.tensor([1, 2]) + 2.5, "float32"),
    (lambda t: t.tensor([1, 2], dtype=t.int32) + t.tensor(5), "int32"),
    (lambda t: t.tensor([1, 2], dtype=t.float16) + t.tensor(5.0, dtype=t.float64), "float16"),
    (lambda t: t.tensor([1, 2], dtype=t.uint8) + t.tensor([1, 2], dtype=t.int8), "int16"),
    (lambda t: t.tensor([True]) + t.tensor([True]), "bool"),
    (lambda t: t.tensor([1, 2]) / t.tensor([2, 2]), "float32"),
    (lambda t: t.tensor([1, 2], dtype=t.int8) + t.tensor(1000), "int8"),
    (lambda t: t.tensor([1, 2], dtype=t.int8) + t.tensor(1.5, dtype=t.float64), "float64"),
    (lambda t: t.tensor([1, 2], dtype=t.int8) + t.tensor(1.5, dtype=t.float16), "float16"),
    (lambda t: t.tensor(1, dtype=t.int8) + t.tensor(1000), "int64"),
    (lambda t: t.tensor([1.0], dtype=t.float16) * 1e-8, "float16"),
    (lambda t: t.tensor([1, 2]) * True, "int64"),
    (lambda t: t.tensor([True]) * 2.5, "float32"),
    (lambda t: t.tensor([1.0]) + 1j, "complex64"),
    (lambda t: t.tensor([1.0], dtype=t.float64) + 1j, "complex128"),
    (lambda t: t.tensor([1, 2]) // 2.0, "float32"),
])
def test_type_promotion_examples(fn, dtype):
    got, want = fn(ember), fn(torch)
    assert str(want.dtype) == "torch." + dtype
    assert_same(got, want)


def test_default_dtype_governs_int_to_float():
    prev = ember.get_default_dtype()
    try:
        ember.set_default_dtype(ember.float64)
        torch.set_default_dtype(torch.float64)
        check(lambda t, x: x / 2, [np.array([1, 3])], grad=False)
        check(lambda t, x: x + 0.5, [np.array([1, 3])], grad=False)
        check(lambda t, x: t.sqrt(x), [np.array([1, 3])], grad=False)
        check(lambda t, x: t.atan2(x, x), [np.array([1, 3])], grad=False)
    finally:
        ember.set_default_dtype(prev)
        torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------------------------------------------------------
# unary ops
# ---------------------------------------------------------------------------------------------------------------
UNARY = {
    "exp": "any", "exp2": "any", "expm1": "any", "log": "pos", "log2": "pos", "log10": "pos", "log1p": "unit",
    "sqrt": "pos", "rsqrt": "pos", "abs": "nz", "absolute": "nz", "sign": "any", "sgn": "any", "neg": "any",
    "negative": "any", "sin": "any", "cos": "any", "tan": "unit", "asin": "unit", "acos": "unit", "atan": "any",
    "sinh": "any", "cosh": "any", "tanh": "any", "asinh": "any", "acosh": "gt1", "atanh": "unit",
    "arcsin": "unit", "arccos": "unit", "arctan": "any", "arcsinh": "any", "arccosh": "gt1", "arctanh": "unit",
    "sigmoid": "any", "erf": "any", "erfc": "any", "erfinv": "unit", "lgamma": "lg", "digamma": "lg",
    "reciprocal": "nz", "square": "any", "floor": "any", "ceil": "any", "round": "any", "trunc": "any",
    "fix": "any", "frac": "any", "sinc": "any", "i0": "any", "logit": "prob", "positive": "any",
}
UNARY_DOMAINS = dict(DOMAINS, gt1=lambda s, k: uniform(s, 1.2, 4, k), prob=lambda s, k: uniform(s, 0.05, 0.95, k),
                     lg=lambda s, k: np.where(uniform(s, 0, 1, k) < 0.7, uniform(s, 0.2, 5, k),
                                              uniform(s, -3.9, -3.1, k)))


# torch's trigamma (digamma's derivative) is accurate to ~1e-9 only; ember's is correctly rounded
UNARY_TOL = {"digamma": {"float64": dict(rtol=1e-8, atol=1e-12)}}


def _unary_fn(name, method=False):
    """f(lib, x) applying unary `name`; sgn's real gradient is a ZeroTensor in torch, so densify it with `+ 0*x`."""
    f = (lambda t, a: getattr(a, name)()) if method else (lambda t, a: getattr(t, name)(a))
    return (lambda t, a: f(t, a) + a * 0) if name == "sgn" else f


def check_unary(name, x, view=lambda a: a, method=False, **kw):
    f = _unary_fn(name, method)
    for dt in kw.pop("dtypes", FLOATS):
        check(lambda t, a: f(t, view(a)), [x], dtypes=[dt], tol=UNARY_TOL.get(name, {}).get(dt), **kw)


@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2)], ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape):
    x = UNARY_DOMAINS[UNARY[name]](shape, name)
    check_unary(name, x)
    if name != "positive":
        check_unary(name, x, method=True)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_noncontiguous_float16(name):
    x = UNARY_DOMAINS[UNARY[name]]((6, 4), name)
    check_unary(name, x, view=lambda a: a.t()[:, ::2])
    check_unary(name, x, grad=False, dtypes=["float16"])


@pytest.mark.parametrize("name", [n for n in UNARY if n not in ("positive",)])
def test_unary_special_values(name):
    x = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.0, 1e-30, 50.0, -50.0, 1e30, np.inf, -np.inf, np.nan])
    if name == "i0":  # torch gives nan at +-inf; ember's special_math returns the true limit (documented there)
        x = x[np.isfinite(x) | np.isnan(x)]
        assert ember.i0(ember.tensor([np.inf, -np.inf])).tolist() == [np.inf, np.inf]
    check(lambda t, a: getattr(t, name)(a), [x], grad=False, dtypes=FLOATS)


INT_INPUTS = {
    "int64": np.array([-3, -1, 0, 1, 2, 7], np.int64), "int32": np.array([-3, -1, 0, 1, 2, 7], np.int32),
    "int8": np.array([-128, -1, 0, 1, 2, 127], np.int8), "uint8": np.array([0, 1, 2, 7, 128, 255], np.uint8),
    "bool": np.array([True, False, True, True, False, False]),
}


@pytest.mark.parametrize("dtype", list(INT_INPUTS))
@pytest.mark.parametrize("name", list(UNARY) + ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit",
                                                "logical_not", "bitwise_not", "nan_to_num"])
def test_unary_integer_and_bool_inputs(name, dtype):
    """Result dtype (int -> default float for float-valued functions) and value, or torch's error."""
    same_or_raises(lambda t, a: getattr(t, name)(a), [INT_INPUTS[dtype]], grad=False)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "abs", "sgn", "sign",
                                  "reciprocal", "square", "neg", "expm1", "log1p", "rsqrt", "sinc", "erf", "floor",
                                  "round", "frac", "lgamma", "logit", "isnan", "isfinite", "isposinf", "signbit",
                                  "asinh", "log2", "exp2", "i0", "acos", "positive"])
def test_unary_complex_inputs(name):
    """Complex inputs give torch's values, or its error for functions it does not define on complex numbers."""
    x = np.array([1 + 1j, -0.5 + 2j, 0.3 - 0.2j, 0j], np.complex128)
    same_or_raises(lambda t, a: getattr(t, name)(a), [x], grad=False, tol=dict(rtol=1e-12, atol=1e-14))
    same_or_raises(lambda t, a: getattr(t, name)(a), [x.astype(np.complex64)], grad=False,
                   tol=dict(rtol=2e-6, atol=1e-6))


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.abs(t.tensor([True])), NotImplementedError, "\"abs_cpu\" not implemented for 'Bool'"),
    (lambda t: -t.tensor([True]), RuntimeError, "Negation, the `-` operator, on a bool tensor"),
    (lambda t: t.neg(t.tensor([True])), RuntimeError, "logical_not"),
    (lambda t: t.positive(t.tensor([True])), RuntimeError, "on a bool tensor is not supported"),
    (lambda t: t.frac(t.tensor([1, 2])), NotImplementedError, "\"frac_cpu\" not implemented for 'Long'"),
    (lambda t: t.floor(t.tensor([True])), NotImplementedError, "\"floor_vml_cpu\" not implemented for 'Bool'"),
    (lambda t: t.ceil(t.ones(1, dtype=t.complex64)), NotImplementedError, "ceil is not supported for complex"),
    (lambda t: t.sign(t.ones(1, dtype=t.complex64)), NotImplementedError, "torch.sgn"),
    (lambda t: t.erf(t.ones(1, dtype=t.complex64)), NotImplementedError, "\"erf_vml_cpu\" not implemented for "
                                                                         "'ComplexFloat'"),
    (lambda t: t.bitwise_not(t.ones(1)), NotImplementedError, "\"bitwise_not_cpu\" not implemented for 'Float'"),
    (lambda t: ~t.ones(1, dtype=t.float64), NotImplementedError, "'Double'"),
    (lambda t: t.isposinf(t.ones(1, dtype=t.complex64)), RuntimeError, "isposinf does not support complex"),
    (lambda t: t.signbit(t.ones(1, dtype=t.complex64)), NotImplementedError, "signbit"),
    (lambda t: t.exp(2.0), TypeError, "must be Tensor, not float"),
    (lambda t: t.isnan(1.0), TypeError, "must be Tensor"),
    (lambda t: t.round(t.tensor([1, 2]), decimals=1), NotImplementedError, "\"round_cpu\" not implemented for 'Long'"),
    (lambda t: t.logit(t.ones(1, dtype=t.complex64)), NotImplementedError, "logit"),
])
def test_unary_errors(fn, exc, match):
    check_raises(fn, exc, match)


@pytest.mark.parametrize("decimals", [1, 2, 3, -1, -2, 0])
def test_round_decimals(decimals):
    x = np.array([1234.5678, 0.125, 2.5, -0.125, -0.375, 99.95, 5e-4, -1e-7, 0.0, np.nan, np.inf, 0.5, 1.5, 150.0])
    check(lambda t, a: t.round(a, decimals=decimals), [x], dtypes=FLOATS + ("float16",))
    check(lambda t, a: a.round(decimals=decimals), [x], dtypes=FLOATS)


def test_round_half_to_even():
    check(lambda t, a: t.round(a), [np.arange(-4.5, 5.0, 0.5)], dtypes=FLOATS)


@pytest.mark.parametrize("eps", [None, 0.1, 0.0])
def test_logit_eps_and_outside_domain(eps):
    x = np.array([-0.5, 0.0, 0.05, 0.1, 0.3, 0.7, 0.9, 0.95, 1.0, 1.5])
    check(lambda t, a: t.logit(a, eps), [x], dtypes=FLOATS)
    check(lambda t, a: t.special.logit(a, eps), [x], dtypes=FLOATS)


def test_lgamma_digamma_poles_and_negative_arguments():
    x = np.array([-3.5, -2.25, -1.5, -0.5, 0.5, 1.0, 2.0, 10.5, 30.0, 1e-3])
    for name in ("lgamma", "digamma"):
        check_unary(name, x)
    check(lambda t, a: t.lgamma(a), [np.array([0.0, -0.0, -1.0, -2.0])], grad=False, dtypes=FLOATS)


# ---------------------------------------------------------------------------------------------------------------
# comparison / logical / predicate functions
# ---------------------------------------------------------------------------------------------------------------
PRED = ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "isreal", "logical_not"]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name", PRED)
def test_predicates(name, dtype):
    x = np.array([0.0, -0.0, 1.0, -2.0, np.inf, -np.inf, np.nan, -np.nan], dtype)
    check(lambda t, a: getattr(t, name)(a), [x], grad=False)


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_with_nan_inf_and_broadcast(name):
    x = np.array([[0.0, -0.0, 1.0, np.nan, np.inf, -np.inf]])
    y = np.array([[0.0], [np.nan], [np.inf], [1.0]])
    check(lambda t, a, b: getattr(t, name)(a, b), [x, y], grad=False, dtypes=FLOATS)
    check(lambda t, a: getattr(a, name)(1.0), [x], grad=False, dtypes=FLOATS)


def test_comparison_output_does_not_require_grad():
    x = ember.ones(3, requires_grad=True)
    for r in (x > 0, x == 1, ember.isnan(x), ember.logical_and(x, x), ember.signbit(x)):
        assert r.dtype == ember.bool and not r.requires_grad and r.grad_fn is None


# ---------------------------------------------------------------------------------------------------------------
# clamp / clip
# ---------------------------------------------------------------------------------------------------------------
CLAMP_X = np.array([[-3.0, -1.0, -0.5, 0.0], [0.5, 1.0, 2.0, np.nan]])
CLAMP_CASES = {
    "both": lambda t, x: t.clamp(x, -1.0, 1.0),
    "min_only": lambda t, x: t.clamp(x, min=-0.5),
    "max_only": lambda t, x: t.clamp(x, max=0.5),
    "min_gt_max": lambda t, x: t.clamp(x, 1.0, -1.0),
    "nan_min": lambda t, x: t.clamp(x, min=float("nan")),
    "int_bounds": lambda t, x: t.clamp(x, -1, 1),
    "clip": lambda t, x: t.clip(x, -1.0, 0.5),
    "clamp_min": lambda t, x: t.clamp_min(x, 0.0),
    "clamp_max": lambda t, x: t.clamp_max(x, 0.0),
    "method": lambda t, x: x.clamp(min=0.0),
    "method_clip": lambda t, x: x.clip(max=0.0),
    "0d_tensor_with_scalar": lambda t, x: t.clamp(x, t.tensor(-0.5, dtype=x.dtype), 1.0),
}


@pytest.mark.parametrize("name", list(CLAMP_CASES))
def test_clamp_scalar_bounds(name):
    check(CLAMP_CASES[name], [CLAMP_X], dtypes=FLOATS)


@pytest.mark.parametrize("which", ["both", "min", "max", "min_gt_max", "bcast", "nan_bound"])
def test_clamp_tensor_bounds(which):
    x = uniform((3, 4), -2, 2)
    lo, hi = uniform((3, 4), -1.5, 0, 1), uniform((4,), 0, 1.5, 2)
    if which == "both":
        check(lambda t, a, b, c: t.clamp(a, b, c), [x, lo, hi], dtypes=FLOATS)
    elif which == "min":
        check(lambda t, a, b: t.clamp(a, min=b), [x, lo], dtypes=FLOATS)
    elif which == "max":
        check(lambda t, a, c: t.clamp(a, max=c), [x, hi], dtypes=FLOATS)
    elif which == "min_gt_max":
        check(lambda t, a, b, c: t.clamp(a, c, b), [x, lo, hi], dtypes=FLOATS)
    elif which == "bcast":
        check(lambda t, a, b: t.clamp(a[0], min=b), [x, lo], dtypes=FLOATS)
    else:
        lo = lo.copy()
        lo[0, 0] = np.nan
        check(lambda t, a, b, c: t.clamp(a, b, c), [x, lo, hi], dtypes=FLOATS)


@pytest.mark.parametrize("fn", [
    lambda t, x: t.clamp(x, 0, 3), lambda t, x: t.clamp(x, 0.5), lambda t, x: t.clamp(x, max=2.5),
    lambda t, x: t.clamp(x, t.tensor(1)), lambda t, x: t.clamp(x, t.tensor([0.5, 1, 1, 1])),
    lambda t, x: t.clamp(x.to(t.uint8), max=255), lambda t, x: t.clamp(x.to(t.uint8), min=-1),
    lambda t, x: t.clamp(x.to(t.int8), -128, 127), lambda t, x: t.clamp(x, float("inf")),
    lambda t, x: t.clamp(x > 1, 0, 1), lambda t, x: t.clamp(x > 1, t.tensor([False])),
    lambda t, x: t.clamp(x > 1, max=t.tensor([False])), lambda t, x: t.clamp(x, t.tensor([True])),
    lambda t, x: t.clamp(x.half(), -1e4, 65504.0),
])
def test_clamp_integer_inputs(fn):
    check(fn, [np.array([-2, 0, 1, 5])], grad=False)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.clamp(t.ones(2)), RuntimeError, "At least one of 'min' or 'max' must not be None"),
    (lambda t: t.clamp(t.ones(2, dtype=t.complex64), 0, 1), NotImplementedError, "complex"),
    (lambda t: t.clamp(t.tensor([1], dtype=t.uint8), min=-300), RuntimeError, "uint8_t without overflow"),
    (lambda t: t.clamp(t.tensor([1], dtype=t.uint8), max=256), RuntimeError, "uint8_t without overflow"),
    (lambda t: t.clamp(t.tensor([1], dtype=t.int8), 0, 128), RuntimeError, "int8_t without overflow"),
    (lambda t: t.clamp(t.tensor([1]), max=2 ** 63), RuntimeError, "int64_t without overflow"),
    (lambda t: t.clamp(t.tensor([1.0]), min=1e39), RuntimeError, "type float without overflow"),
    (lambda t: t.clamp(t.ones(2, 3), t.zeros(4)), RuntimeError, "must match the size"),
    (lambda t: t.clamp(t.tensor([True]), t.tensor(False), t.tensor(True)), NotImplementedError, "'Bool'"),
    (lambda t: t.clamp(t.tensor([1], dtype=t.int32), max=2 ** 40), RuntimeError, "type int without overflow"),
    (lambda t: t.clamp(t.tensor([1.0], dtype=t.float16), max=1e6), RuntimeError, "c10::Half without overflow"),
    (lambda t: t.clamp(t.ones(3), t.zeros(3), 1.0), TypeError, "invalid combination"),
    (lambda t: t.clamp(t.tensor([True]), False, True), NotImplementedError, "clamp_scalar_cpu"),
])
def test_clamp_errors(fn, exc, match):
    check_raises(fn, exc, match)


# ---------------------------------------------------------------------------------------------------------------
# where / lerp / nan_to_num / xlogy
# ---------------------------------------------------------------------------------------------------------------
COND = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])


@pytest.mark.parametrize("name,fn", [
    ("tensors", lambda t, c, x, y: t.where(c, x, y)),
    ("bcast", lambda t, c, x, y: t.where(c[:, :1], x[0], y)),
    ("cond_bcast", lambda t, c, x, y: t.where(c[0], x, y[:, :1])),
    ("scalar_other", lambda t, c, x, y: t.where(c, x, 0.0)),
    ("scalar_input", lambda t, c, x, y: t.where(c, 2, y)),
    ("method", lambda t, c, x, y: x.where(c, y)),
    ("both_scalars_float", lambda t, c, x, y: t.where(c, 1.0, 0.0)),
    ("both_scalars_int", lambda t, c, x, y: t.where(c, 1, 0)),
    ("bool_float", lambda t, c, x, y: t.where(c, True, 2.5)),
    ("promote_int", lambda t, c, x, y: t.where(c, x, t.tensor(3))),
    ("promote_f64_0d", lambda t, c, x, y: t.where(c, x, t.tensor(3.0, dtype=t.float64))),
    ("promote_int_tensor", lambda t, c, x, y: t.where(c, t.ones(3, 4, dtype=t.int64), y)),
    ("noncontig", lambda t, c, x, y: t.where(c.t().t(), x, y.t().t())),
    ("scalar_mask_0d", lambda t, c, x, y: t.where(c[0, 0], x, y)),
])
def test_where(name, fn):
    x, y = uniform((3, 4), -2, 2), uniform((3, 4), -2, 2, 1)
    check(fn, [COND, x, y], dtypes=FLOATS)


def test_where_condition_dtype():
    check_raises(lambda t: t.where(t.ones(2), t.ones(2), t.zeros(2)), RuntimeError,
                 "where expected condition to be a boolean tensor, but got a tensor with dtype Float")
    with pytest.warns(UserWarning, match="uint8 condition"):
        got = ember.where(ember.tensor([1, 0], dtype=ember.uint8), ember.ones(2), ember.zeros(2))
    with pytest.warns(UserWarning):
        want = torch.where(torch.tensor([1, 0], dtype=torch.uint8), torch.ones(2), torch.zeros(2))
    assert_same(got, want)


def test_where_single_argument_is_nonzero():
    check(lambda t, c: t.where(c), [COND], grad=False)


@pytest.mark.parametrize("name,fn", [
    ("scalar_w", lambda t, x, y, w: t.lerp(x, y, 0.3)),
    ("scalar_w_big", lambda t, x, y, w: t.lerp(x, y, 0.8)),
    ("scalar_w_neg", lambda t, x, y, w: t.lerp(x, y, -1.5)),
    ("tensor_w", lambda t, x, y, w: t.lerp(x, y, w)),
    ("bcast", lambda t, x, y, w: t.lerp(x, y[0], w[:, :1])),
    ("method", lambda t, x, y, w: x.lerp(y, w)),
])
def test_lerp(name, fn):
    x, y, w = uniform((3, 4), -2, 2), uniform((3, 4), -2, 2, 1), uniform((3, 4), -0.5, 1.5, 2)
    check(fn, [x, y, w], dtypes=FLOATS)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.lerp(t.ones(2), t.ones(2, dtype=t.float64), 0.5), RuntimeError, "expected dtype float for `end`"),
    (lambda t: t.lerp(t.ones(2), t.ones(2), t.ones(2, dtype=t.float64)), RuntimeError, "`weight`"),
    (lambda t: t.lerp(t.tensor([1, 2]), t.tensor([1, 2]), 0.5), NotImplementedError, "'Long'"),
    (lambda t: t.lerp(t.ones(2), 2.0, 0.5), TypeError, "invalid combination"),
])
def test_lerp_errors(fn, exc, match):
    check_raises(fn, exc, match)


@pytest.mark.parametrize("name,fn", [
    ("addcmul", lambda t, x, a, b: t.addcmul(x, a, b)),
    ("addcmul_value", lambda t, x, a, b: t.addcmul(x, a, b, value=-0.7)),
    ("addcmul_bcast", lambda t, x, a, b: t.addcmul(x[:1], a, b[0])),
    ("addcmul_method_inplace", lambda t, x, a, b: (x * 1).addcmul_(a, b, value=2)),
    ("addcdiv", lambda t, x, a, b: t.addcdiv(x, a, b)),
    ("addcdiv_value", lambda t, x, a, b: x.addcdiv(a, b, value=0.3)),
    ("addcdiv_bcast_inplace", lambda t, x, a, b: (x * 1).addcdiv_(a[:, :1], b, value=-1.5)),
])
def test_addcmul_addcdiv(name, fn):
    x, a, b = uniform((3, 4), -2, 2), uniform((3, 4), -2, 2, 1), uniform((3, 4), 0.5, 2, 2)
    check(fn, [x, a, b], dtypes=FLOATS)


@pytest.mark.parametrize("name,fn", [
    ("addcmul", lambda t, x, a, b: t.addcmul(x, a, b)),
    ("addcmul_value", lambda t, x, a, b: t.addcmul(x, a, b, value=3.14)),
    ("addcmul_bcast_0d", lambda t, x, a, b: t.addcmul(x[0, 0], a, b[:1])),
    ("addcdiv", lambda t, x, a, b: x.addcdiv(a, b)),
    ("addcdiv_value", lambda t, x, a, b: t.addcdiv(x, a, b, value=-2.7)),
    ("lerp_tensor_w", lambda t, x, a, b: t.lerp(x, a, b - 1.0)),
    ("lerp_scalar_w", lambda t, x, a, b: t.lerp(x, a, 0.4)),
    ("lerp_scalar_w_big", lambda t, x, a, b: x.lerp(a, 0.7)),
])
def test_half_fused_ops_round_once(name, fn):
    """PyTorch computes these half ops in float (fma where its kernels use one) and rounds once: exact equality."""
    x, a, b = uniform((64, 64), -2, 2), uniform((64, 64), -2, 2, 1), uniform((64, 64), 0.5, 2, 2)
    check(fn, [x, a, b], dtypes=("float16",), grad=False, tol=dict(rtol=0, atol=0))


def test_logaddexp_complex_special_values():
    """ATen's complex log-add-exp: the larger real part factored out, NaN infectious, equal infinities special."""
    v = np.array([1 + 3j, -np.inf + 0j, -np.inf + 2j, np.inf + 1j, 2 - 3j, np.inf - 1j, np.nan + 0j, 0.5 + 0.5j,
                  1e300 + 1j, -1e300 + 0j])
    a, b = np.repeat(v, v.size), np.tile(v, v.size)
    with np.errstate(all="ignore"):
        check(lambda t, x, y: t.logaddexp(x, y), [a, b], grad=False)


def test_addcdiv_value_order():
    """(value * tensor1) / tensor2, in PyTorch's order: float32 results are bit-equal."""
    x, a, b = uniform((64, 64), -2, 2), uniform((64, 64), -2, 2, 1), uniform((64, 64), 0.5, 2, 2)
    check(lambda t, x, a, b: t.addcdiv(x, a, b, value=3.14), [x, a, b], dtypes=("float32", "float64"), grad=False,
          tol=dict(rtol=0, atol=0))


@pytest.mark.parametrize("fn", [
    lambda t: t.addcdiv(t.ones(3), t.ones(3, dtype=t.int64), t.ones(3, dtype=t.int64)),
    lambda t: t.addcmul(t.ones(3), t.ones(2), t.ones(3)),
    lambda t: t.ones(1).addcmul_(t.ones(3), t.ones(3)),
])
def test_addcmul_addcdiv_errors(fn):
    check_raises(fn, RuntimeError)


@pytest.mark.parametrize("kw", [{}, {"nan": 1.5}, {"nan": -1.0, "posinf": 9.0, "neginf": -9.0}, {"posinf": 0.5}])
def test_nan_to_num(kw):
    x = np.array([[1.0, np.nan, np.inf], [-np.inf, -2.0, 0.0]])
    check(lambda t, a: t.nan_to_num(a, **kw), [x], dtypes=FLOATS + ("float16",))
    check(lambda t, a: a.nan_to_num(**kw), [x], dtypes=FLOATS)
    check(lambda t, a: t.nan_to_num(a, **kw), [np.array([1, 2, 3])], grad=False)
    check(lambda t, a: t.nan_to_num(a, **kw), [np.array([True, False])], grad=False)


def test_xlogy_zeros_and_nan():
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, -1.0, np.nan])
    y = np.array([0.0, np.nan, 3.0, 0.0, np.inf, 2.0, 1.0])
    check(lambda t, a, b: t.xlogy(a, b), [x, y], grad=False, dtypes=FLOATS)
    check(lambda t, a, b: t.xlogy(a, b), [np.array([0.0, 1.5, 2.0, 0.0]), np.array([1.0, 2.0, 0.5, 3.0])],
          dtypes=FLOATS)
    check(lambda t, a: t.special.xlogy(a, 2.0), [np.array([0.0, 1.5])], dtypes=FLOATS)


# ---------------------------------------------------------------------------------------------------------------
# operators (incl. reflected with Python scalars on the left) and in-place operators
# ---------------------------------------------------------------------------------------------------------------
FLOAT_OPERATORS = {
    "x+y": lambda x, y: x + y, "x-y": lambda x, y: x - y, "x*y": lambda x, y: x * y, "x/y": lambda x, y: x / y,
    "x//y": lambda x, y: x // y, "x%y": lambda x, y: x % y, "x**y": lambda x, y: x.abs() ** y,
    "2+x": lambda x, y: 2 + x, "2-x": lambda x, y: 2 - x, "2.5*x": lambda x, y: 2.5 * x,
    "2/x": lambda x, y: 2 / x, "7//x": lambda x, y: 7 // x, "7%x": lambda x, y: 7 % x,
    "2**x": lambda x, y: 2 ** x, "x**2": lambda x, y: x ** 2, "x**0.5": lambda x, y: x.abs() ** 0.5,
    "-x": lambda x, y: -x, "+x": lambda x, y: +x, "abs(x)": lambda x, y: abs(x),
    "x@y.T": lambda x, y: x @ y.T, "x<y": lambda x, y: x < y, "2<x": lambda x, y: 2 < x,
    "2==x": lambda x, y: 2 == x, "x!=y": lambda x, y: x != y, "x>=1": lambda x, y: x >= 1,
    "0.5>=x": lambda x, y: 0.5 >= x,
}


NO_DERIVATIVE = {"x//y": "floor_divide", "7//x": "floor_divide", "7%x": "remainder"}


@pytest.mark.parametrize("name", list(FLOAT_OPERATORS))
def test_float_operators(name):
    x, y = nonzero((3, 4)), nonzero((3, 4), key=1)
    fn = FLOAT_OPERATORS[name]
    check(lambda t, a, b: fn(a, b), [x, y], dtypes=FLOATS, grad=name not in NO_DERIVATIVE)
    if name in NO_DERIVATIVE:  # torch defines no derivative here: backward raises
        check_raises(lambda t: fn(t.tensor([1.5, -2.0], requires_grad=True), t.tensor([0.7, 0.4])).sum().backward(),
                     RuntimeError, NO_DERIVATIVE[name])


INT_OPERATORS = {
    "x&y": lambda x, y: x & y, "x|y": lambda x, y: x | y, "x^y": lambda x, y: x ^ y, "~x": lambda x, y: ~x,
    "x<<2": lambda x, y: x << 2, "x>>1": lambda x, y: x >> 1, "x&3": lambda x, y: x & 3,
    "6|x": lambda x, y: 6 | x, "5^x": lambda x, y: 5 ^ x, "x<<y": lambda x, y: x << (y % 4),
    "x>>y": lambda x, y: x >> (y % 4),
    "x//y": lambda x, y: x // y, "x%y": lambda x, y: x % y, "-7//x": lambda x, y: -7 // x,
    "x/y": lambda x, y: x / y, "x**2": lambda x, y: x ** 2, "2**x": lambda x, y: 2 ** (x % 5),
    "x+2.5": lambda x, y: x + 2.5, "x*True": lambda x, y: x * True, "-x": lambda x, y: -x,
}


@pytest.mark.parametrize("name", list(INT_OPERATORS))
def test_integer_operators(name):
    x, y = np.array([[3, -5, 7], [12, -1, 9]]), np.array([[2, 3, -4], [5, 1, -2]])
    check(lambda t, a, b: INT_OPERATORS[name](a, b), [x, y], grad=False)
    check(lambda t, a, b: INT_OPERATORS[name](a, b), [x.astype(np.int32), y.astype(np.int32)], grad=False)


@pytest.mark.parametrize("fn", [lambda x: 1 << (x % 4), lambda x: 64 >> (x % 4), lambda x: True << (x % 4),
                                lambda x: np.int64(3) << (x % 4), lambda x: x.bitwise_left_shift_(1),
                                lambda x: x.bitwise_right_shift_(x % 3)])
def test_reflected_shift_operators(fn):
    check(lambda t, a: fn(a), [np.array([3, -5, 7])], grad=False)
    check(lambda t, a: fn(a), [np.array([3, -5, 7], dtype=np.int32)], grad=False)


@pytest.mark.parametrize("fn", [lambda t: 1 << t.ones(2), lambda t: 64 >> t.ones(2), lambda t: "a" << t.ones(2),
                                lambda t: t.ones(2).__ilshift__(1), lambda t: t.ones(2).bitwise_right_shift_(1)])
def test_shift_operator_errors(fn):
    check_raises(fn)


BOOL_OPERATORS = {"x&y": lambda x, y: x & y, "x|y": lambda x, y: x | y, "x^y": lambda x, y: x ^ y,
                  "~x": lambda x, y: ~x, "x&True": lambda x, y: x & True, "False|x": lambda x, y: False | x,
                  "x^True": lambda x, y: x ^ True, "x+y": lambda x, y: x + y, "x*y": lambda x, y: x * y,
                  "x==y": lambda x, y: x == y, "x+1": lambda x, y: x + 1, "x&1": lambda x, y: x & 1}


@pytest.mark.parametrize("name", list(BOOL_OPERATORS))
def test_bool_operators(name):
    x, y = np.array([True, True, False, False]), np.array([True, False, True, False])
    check(lambda t, a, b: BOOL_OPERATORS[name](a, b), [x, y], grad=False)


INPLACE_OPERATORS = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": lambda x, y: operator.ipow(x, 2),
}


@pytest.mark.parametrize("name", list(INPLACE_OPERATORS))
def test_inplace_float_operators(name):
    """In-place operators on a non-leaf: same values, self is returned, gradients flow through."""
    x, y = nonzero((3, 4)), nonzero((4,), key=1)

    def fn(t, a, b):
        z = a * 1
        r = INPLACE_OPERATORS[name](z, b)
        assert r is z
        return z
    check(fn, [x, y], dtypes=FLOATS, grad=name != "//=")
    check(lambda t, a: INPLACE_OPERATORS[name](a * 1, 3.0), [x], dtypes=FLOATS, grad=name != "//=")


@pytest.mark.parametrize("op", [operator.iand, operator.ior, operator.ixor, operator.iadd, operator.imul,
                                operator.ifloordiv, operator.imod, operator.isub, operator.ilshift,
                                operator.irshift])
def test_inplace_integer_operators(op):
    def fn(t, a, b):
        z = a.clone()
        r = op(z, b)
        assert r is z
        return z
    check(fn, [np.array([[3, 5, 7], [12, 1, 9]]), np.array([2, 3, 1])], grad=False)


def test_inplace_matmul_operator():
    def fn(t, a, b):
        z = a.clone()
        z @= b
        return z
    check(fn, [uniform((3, 3), -1, 1), uniform((3, 3), -1, 1, 1)], grad=False, dtypes=FLOATS)


# ---------------------------------------------------------------------------------------------------------------
# in-place methods
# ---------------------------------------------------------------------------------------------------------------
INPLACE_METHODS = {
    "add_": lambda z, y: z.add_(y, alpha=2), "sub_": lambda z, y: z.sub_(y), "mul_": lambda z, y: z.mul_(y),
    "div_": lambda z, y: z.div_(y), "div_trunc_": lambda z, y: z.div_(y, rounding_mode="trunc"),
    "true_divide_": lambda z, y: z.true_divide_(y), "pow_": lambda z, y: z.pow_(y),
    "remainder_": lambda z, y: z.remainder_(y), "fmod_": lambda z, y: z.fmod_(y), "atan2_": lambda z, y: z.atan2_(y),
    "hypot_": lambda z, y: z.hypot_(y), "copysign_": lambda z, y: z.copysign_(y),
    "xlogy_": lambda z, y: z.xlogy_(y.abs()), "clamp_tensor_": lambda z, y: z.clamp_(min=y),
    "clamp_": lambda z, y: z.clamp_(-1.0, 1.0),
    "clip_": lambda z, y: z.clip_(max=0.5), "clamp_min_": lambda z, y: z.clamp_min_(0.0),
    "clamp_max_": lambda z, y: z.clamp_max_(0.0), "lerp_": lambda z, y: z.lerp_(y, 0.3),
    "exp_": lambda z, y: z.exp_(), "log_": lambda z, y: z.log_(), "sqrt_": lambda z, y: z.sqrt_(),
    "sigmoid_": lambda z, y: z.sigmoid_(), "tanh_": lambda z, y: z.tanh_(), "neg_": lambda z, y: z.neg_(),
    "abs_": lambda z, y: z.abs_(), "reciprocal_": lambda z, y: z.reciprocal_(), "square_": lambda z, y: z.square_(),
    "sin_": lambda z, y: z.sin_(), "erf_": lambda z, y: z.erf_(), "floor_": lambda z, y: z.floor_(),
    "round_": lambda z, y: z.round_(), "round_decimals_": lambda z, y: z.round_(decimals=1),
    "trunc_": lambda z, y: z.trunc_(), "frac_": lambda z, y: z.frac_(), "sign_": lambda z, y: z.sign_(),
    "nan_to_num_": lambda z, y: z.nan_to_num_(), "logit_": lambda z, y: z.logit_(),
    "float_power_": lambda z, y: z.float_power_(2), "sinc_": lambda z, y: z.sinc_(), "i0_": lambda z, y: z.i0_(),
    "lgamma_": lambda z, y: z.lgamma_(),
}
INPLACE_PREP = {"pow_": lambda z: z.abs(), "log_": lambda z: z.abs(), "sqrt_": lambda z: z.abs(),
                "lgamma_": lambda z: z.abs(), "logit_": lambda z: z.sigmoid() * 1, "float_power_": lambda z: z.double()}


@pytest.mark.parametrize("name", list(INPLACE_METHODS))
def test_inplace_methods(name):
    """x.op_(...) on a non-leaf: same values as torch, returns x itself, gradients flow through the history."""
    x, y = nonzero((3, 4)), nonzero((3, 4), key=1)

    def fn(t, a, b):
        z = INPLACE_PREP.get(name, lambda v: v)(a * 1)
        r = INPLACE_METHODS[name](z, b)
        assert r is z
        return r
    check(fn, [x, y], dtypes=FLOATS)


@pytest.mark.parametrize("fn,match", [
    (lambda t: t.tensor([1, 2]).div_(2), "can't be cast to the desired output type"),
    (lambda t: t.tensor([1, 2]).exp_(), "can't be cast"),
    (lambda t: t.tensor([1, 2]).add_(1.5), "can't be cast"),
    (lambda t: t.tensor([1, 2]).mul_(t.tensor([1.5])), "can't be cast"),
    (lambda t: t.tensor([1, 2]).sqrt_(), "can't be cast"),
    (lambda t: t.tensor([1, 2]).true_divide_(2), "can't be cast"),
    (lambda t: t.tensor([True]).add_(2), "can't be cast"),
    (lambda t: t.tensor([1, 2]).pow_(-1), "negative integer powers"),
    (lambda t: t.ones(2, requires_grad=True).add_(1), "leaf Variable that requires grad"),
])
def test_inplace_errors(fn, match):
    check_raises(fn, RuntimeError, match)


def test_inplace_cast_error_names_dtypes_like_torch():
    check_raises(lambda t: t.tensor([1, 2]).div_(2), RuntimeError,
                 "result type Float can't be cast to the desired output type Long")


def test_inplace_broadcast_to_larger_shape_raises():
    check_raises(lambda t: t.ones(3, 1).add_(t.ones(3, 4)), RuntimeError,
                 r"output with shape \[3, 1\] doesn't match the broadcast shape \[3, 4\]")


def test_inplace_returns_self_and_bumps_version():
    for lib in (ember, torch):
        x = lib.ones(3)
        v = x._version
        assert x.add_(1) is x and x.mul_(2) is x and x.clamp_(0, 3) is x
        assert x._version >= v + 3
        assert x.tolist() == [3.0, 3.0, 3.0]


def test_inplace_int_stays_int():
    check(lambda t, a: a.clone().add_(2).mul_(3).clamp_(0, 20).floor_divide_(2), [np.array([-3, 1, 4, 9])],
          grad=False)


# ---------------------------------------------------------------------------------------------------------------
# out= arguments
# ---------------------------------------------------------------------------------------------------------------
def test_out_argument():
    for lib in (ember, torch):
        x, y = lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])
        out = lib.empty(2)
        assert lib.add(x, y, out=out) is out and out.tolist() == [4.0, 6.0]
        assert lib.exp(lib.zeros(2), out=out) is out and out.tolist() == [1.0, 1.0]
        out_d = lib.empty(2, dtype=lib.float64)
        lib.mul(x, y, out=out_d)
        assert out_d.dtype == lib.float64 and out_d.tolist() == [3.0, 8.0]
        o = lib.empty(2, dtype=lib.bool)
        assert lib.lt(x, y, out=o).tolist() == [True, True]
    check_raises(lambda t: t.add(t.ones(2), t.ones(2), out=t.empty(2, dtype=t.int64)), RuntimeError,
                 "result type Float can't be cast to the desired output type Long")
    check_raises(lambda t: t.add(t.ones(2, requires_grad=True), 1, out=t.empty(2)), RuntimeError,
                 "out=... arguments don't support automatic differentiation")


# ---------------------------------------------------------------------------------------------------------------
# gradcheck / gradgradcheck (float64) on a representative subset
# ---------------------------------------------------------------------------------------------------------------
def _t(lib, a):
    return lib.tensor(a, dtype=lib.float64, requires_grad=True)


GRADCHECK = {
    "div": (lambda t, x, y: t.div(x, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2]]),
    "pow": (lambda t, x, y: t.pow(x, y), [[0.5, 1.3, 2.0], [1.5, -0.7, 2.2]]),
    "pow_scalar": (lambda t, x: x ** 3, [[0.5, -1.3, 2.0]]),
    "rpow": (lambda t, x: 2.5 ** x, [[0.5, -1.3, 2.0]]),
    "atan2": (lambda t, x, y: t.atan2(x, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2]]),
    "hypot": (lambda t, x, y: t.hypot(x, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2]]),
    "logaddexp": (lambda t, x, y: t.logaddexp(x, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2]]),
    "logaddexp2": (lambda t, x, y: t.logaddexp2(x, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2]]),
    "xlogy": (lambda t, x, y: t.xlogy(x, y), [[0.5, -1.3, 2.0], [1.5, 0.7, 2.2]]),
    "maximum": (lambda t, x, y: t.maximum(x, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 1.2]]),
    "fmin": (lambda t, x, y: t.fmin(x, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 1.2]]),
    "remainder": (lambda t, x, y: t.remainder(x, y), [[0.5, -1.3, 2.1], [1.5, -0.7, 1.2]]),
    "fmod": (lambda t, x, y: t.fmod(x, y), [[0.5, -1.3, 2.1], [1.5, -0.7, 1.2]]),
    "lerp": (lambda t, x, y, w: t.lerp(x, y, w), [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2], [0.2, 0.7, 1.4]]),
    "clamp_t": (lambda t, x, lo, hi: t.clamp(x, lo, hi), [[0.5, -1.3, 2.0], [0.0, -0.9, 0.3], [1.0, 0.5, 1.5]]),
    "where": (lambda t, x, y: t.where(x > 0, x * y, y), [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2]]),
    "copysign": (lambda t, x, y: t.copysign(x, y), [[0.5, -1.3, 2.0], [-1.5, -0.7, 2.2]]),
    "float_power": (lambda t, x, y: t.float_power(x, y), [[0.5, 1.3, 2.0], [1.5, -0.7, 2.2]]),
    "mul": (lambda t, x, y: x * y * x, [[0.5, -1.3, 2.0], [1.5, -0.7, 2.2]]),
}
for _name, _dom in [("sigmoid", [0.5, -1.3, 2.0]), ("tanh", [0.5, -1.3, 2.0]), ("erf", [0.5, -1.3, 2.0]),
                    ("erfc", [0.5, -1.3, 2.0]), ("erfinv", [0.5, -0.3, 0.8]), ("lgamma", [0.5, 1.3, 4.0]),
                    ("digamma", [0.5, 1.3, 4.0]), ("sinc", [0.5, -1.3, 2.2]), ("i0", [0.5, -1.3, 2.2]),
                    ("logit", [0.2, 0.5, 0.9]), ("rsqrt", [0.5, 1.3, 2.0]), ("sqrt", [0.5, 1.3, 2.0]),
                    ("asin", [0.5, -0.3, 0.1]), ("acos", [0.5, -0.3, 0.1]), ("acosh", [1.5, 2.3, 4.0]),
                    ("atanh", [0.5, -0.3, 0.1]), ("asinh", [0.5, -1.3, 2.0]), ("reciprocal", [0.5, -1.3, 2.0]),
                    ("expm1", [0.5, -1.3, 2.0]), ("exp2", [0.5, -1.3, 2.0]), ("log1p", [0.5, -0.3, 2.0]),
                    ("log2", [0.5, 1.3, 2.0]), ("log10", [0.5, 1.3, 2.0]), ("tan", [0.5, -1.3, 0.2]),
                    ("sinh", [0.5, -1.3, 2.0]), ("cosh", [0.5, -1.3, 2.0]), ("atan", [0.5, -1.3, 2.0]),
                    ("abs", [0.5, -1.3, 2.0]), ("square", [0.5, -1.3, 2.0])]:
    GRADCHECK[_name] = ((lambda n: lambda t, x: getattr(t, n)(x))(_name), [_dom])
PIECEWISE = ("remainder", "fmod", "maximum", "fmin", "clamp_t", "where", "abs", "copysign")


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    fn, args = GRADCHECK[name]
    assert ember.autograd.gradcheck(lambda *xs: fn(ember, *xs), [_t(ember, a) for a in args])


@pytest.mark.parametrize("name", [n for n in GRADCHECK if n not in PIECEWISE])
def test_gradgradcheck(name):
    fn, args = GRADCHECK[name]
    assert ember.autograd.gradgradcheck(lambda *xs: fn(ember, *xs), [_t(ember, a) for a in args])


@pytest.mark.parametrize("name", [n for n in GRADCHECK if n not in PIECEWISE])
def test_second_derivatives_match_torch(name):
    """Double backward (create_graph=True) against torch: the gradient of sum(grad**2) w.r.t. every input."""
    fn, args = GRADCHECK[name]
    w = np.array([0.3, -1.1, 0.7])

    def second(lib):
        xs = [_t(lib, a) for a in args]
        y = (fn(lib, *xs) * lib.tensor(w)).sum()
        gs = lib.autograd.grad(y, xs, create_graph=True)
        return lib.autograd.grad(sum((g * g).sum() for g in gs), xs, allow_unused=True)

    tol = dict(rtol=1e-7, atol=1e-10) if name in ("digamma", "lgamma") else None  # torch's polygamma: ~1e-9
    for e, t in zip(second(ember), second(torch)):
        if t is None:
            assert e is None or not e.numpy().any()
        else:
            assert_same(e, t, tol=tol)


def test_pow_gradient_at_zero_base_and_zero_exponent():
    check(lambda t, x, y: t.pow(x, y), [np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 0.0, -1.0])],
          dtypes=FLOATS)
    check(lambda t, y: t.pow(0.0, y), [np.array([0.0, 2.0, -1.0])], dtypes=FLOATS)


# ---------------------------------------------------------------------------------------------------------------
# hypothesis: broadcastable shapes
# ---------------------------------------------------------------------------------------------------------------
HYP_OPS = {"add": lambda t, x, y: t.add(x, y, alpha=0.5), "mul": lambda t, x, y: x * y,
           "atan2": lambda t, x, y: t.atan2(x, y), "maximum": lambda t, x, y: t.maximum(x, y),
           "where": lambda t, x, y: t.where(x > y, x, y), "lerp": lambda t, x, y: t.lerp(x, y, 0.3) if
           x.shape == t.broadcast_shapes(x.shape, y.shape) else x * y}


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(HYP_OPS)), seed=st.integers(0, 2 ** 16))
def test_broadcasting_hypothesis(shapes, op, seed):
    rng = np.random.default_rng(seed)
    x, y = (rng.uniform(-2, 2, s) for s in shapes.input_shapes)
    check(HYP_OPS[op], [x, y], dtypes=FLOATS)


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=4),
       da=st.sampled_from(DTYPES[:9]), db=st.sampled_from(DTYPES[:9]),
       op=st.sampled_from(["add", "mul", "eq", "remainder", "maximum"]))
def test_broadcasting_mixed_dtypes_hypothesis(shapes, da, db, op):
    rng = np.random.default_rng(0)
    x = (rng.uniform(1, 5, shapes.input_shapes[0])).astype(da)
    y = (rng.uniform(1, 5, shapes.input_shapes[1])).astype(db)
    same_or_raises(lambda t, a, b: getattr(t, op)(a, b), [x, y], grad=False)


# ---------------------------------------------------------------------------------------------------------------
# large float32 tensors take dedicated float32 kernels (>= 4096 elements): values to a few ulp, special values
# (NaN, +-inf, -0.0, overflow edges, huge quotients) bit for bit in kind, gradients with random upstream grads
# ---------------------------------------------------------------------------------------------------------------
BIG = (64, 128)
# (torch's float32 sinh/cosh overflow above 88.72 in its vectorised loop but not in its scalar tail loop, and its
# log1p flushes 1e-45 to 0: values in those ranges are left out)
EDGES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-40, -1e-40, 0.5, -0.5, 0.49999997, 1.0,
                  -1.0, 3.9, -4.5, 9.5, -9.5, 10.1, 88.5, -88.5, 88.8, -88.8, 90.0, 1e30, -1e30, 3e38, 2.0 ** 24,
                  0.99999994, -0.99999994, 1.5707964, 100.0])


def big(domain, key, edges=True):
    """A BIG float64 array from `domain` with the special values spread through it (rows 0, 17, 40)."""
    x = UNARY_DOMAINS[domain](BIG, key) if domain in UNARY_DOMAINS else domain(BIG, key)
    if edges:
        for row in (0, 17, 40):
            x[row, :len(EDGES)] = EDGES
    return x


def assert_close_signed(e, t, rtol=1e-6, atol=1e-37):
    """Same dtype and NaN pattern, equal infinities, zeros of the same sign, finite values to rtol (~8 ulp)."""
    en, tn = e.detach().numpy(), t.detach().numpy()
    assert en.dtype == tn.dtype and en.shape == tn.shape
    np.testing.assert_array_equal(np.isnan(en), np.isnan(tn))
    zero = tn == 0
    np.testing.assert_array_equal(np.signbit(en[zero]), np.signbit(tn[zero]), err_msg="sign of zero")
    np.testing.assert_allclose(en, tn, rtol=rtol, atol=atol, equal_nan=True)


WIDE = lambda s, k: uniform(s, -12, 12, k) * np.exp(uniform(s, -3, 3, (k, 1)))     # noqa: E731
LOOSE32 = dict(rtol=1e-5, atol=1e-6)   # float32 gradients: products of values that are each a few ulp off


def check_big(fn, inputs, tol32=LOOSE32):
    """check() in float64 (default tolerances) and float32 (tol32)."""
    check(fn, inputs, dtypes=["float64"])
    check(fn, inputs, dtypes=["float32"], tol=tol32)
FAST_UNARY = {
    "sigmoid": WIDE, "erf": WIDE, "erfc": WIDE, "erfinv": "unit", "expm1": WIDE, "log1p": "pos", "sinh": WIDE,
    "cosh": WIDE, "tan": WIDE, "atan": WIDE, "atanh": "unit", "sign": WIDE, "frac": WIDE, "rsqrt": "pos",
    "reciprocal": "nz", "exp": WIDE, "log": "pos", "tanh": WIDE,
}
FAST_UNARY_RTOL = {"erfc": 2e-6}   # far tail: erfc(9.5) ~ 1e-41 is subnormal in float32, compared to atol


@pytest.mark.parametrize("name", list(FAST_UNARY))
def test_large_float32_unary_values(name):
    x = big(FAST_UNARY[name], name).astype(np.float32)
    e, t = getattr(ember, name)(ember.from_numpy(x)), getattr(torch, name)(torch.from_numpy(x))
    assert_close_signed(e, t, FAST_UNARY_RTOL.get(name, 1e-6))


@pytest.mark.parametrize("name", [n for n in FAST_UNARY if n not in ("sign", "frac")])
def test_large_unary_gradients(name):
    x = big(FAST_UNARY[name], name, edges=False)
    x = np.clip(x, -20, 20) if name in ("sinh", "cosh", "expm1", "exp") else x
    check_big(lambda t, a: getattr(t, name)(a), [x])


FAST_BINARY = {
    "remainder": (lambda t, x, y: t.remainder(x, y), "nz"),
    "fmod": (lambda t, x, y: t.fmod(x, y), "nz"),
    "floor_divide": (lambda t, x, y: x // y, "nz"),
    "div_floor": (lambda t, x, y: t.div(x, y, rounding_mode="floor"), "nz"),
    "div_trunc": (lambda t, x, y: t.div(x, y, rounding_mode="trunc"), "nz"),
    "remainder_scalar": (lambda t, x, y: x % 1.7, "nz"),
    "remainder_neg_scalar": (lambda t, x, y: t.remainder(x, -0.3), "nz"),
    "fmod_scalar": (lambda t, x, y: t.fmod(x, 2.5), "nz"),
    "floor_divide_scalar": (lambda t, x, y: x // -0.7, "nz"),
    "atan2": (lambda t, x, y: t.atan2(x, y), WIDE),
    "logaddexp": (lambda t, x, y: t.logaddexp(x, y), WIDE),
    "logaddexp2": (lambda t, x, y: t.logaddexp2(x, y), WIDE),
    "lerp": (lambda t, x, y: t.lerp(x, y, 0.3), WIDE),
    "lerp_far": (lambda t, x, y: t.lerp(x, y, 0.8), WIDE),
    "lerp_tensor": (lambda t, x, y: t.lerp(x, y, t.sigmoid(y) * 2 - 0.5), WIDE),
    "pow2": (lambda t, x, y: x ** 2, WIDE), "pow3": (lambda t, x, y: x ** 3, WIDE),
    "pow_half": (lambda t, x, y: x ** 0.5, WIDE), "pow_neg_half": (lambda t, x, y: x ** -0.5, WIDE),
    "pow_neg1": (lambda t, x, y: x ** -1, WIDE), "pow_neg2": (lambda t, x, y: t.pow(x, -2.0), WIDE),
    "pow_one": (lambda t, x, y: x ** 1, WIDE), "pow_zero": (lambda t, x, y: x ** 0, WIDE),
    "pow_other": (lambda t, x, y: t.abs(x) ** 1.7, WIDE),
    "clamp": (lambda t, x, y: x.clamp(-0.5, 0.5), WIDE), "clamp_min": (lambda t, x, y: x.clamp(min=0.0), WIDE),
    "clamp_max": (lambda t, x, y: t.clamp(x, max=-0.0), WIDE),
    "clamp_tensor": (lambda t, x, y: t.clamp(x, min=y), WIDE),
    "nan_to_num": (lambda t, x, y: t.nan_to_num(x), WIDE),
    "nan_to_num_args": (lambda t, x, y: t.nan_to_num(x, nan=1.5, posinf=2.0, neginf=-3.0), WIDE),
}


# Where the result cancels (logaddexp near 0, lerp between close values) torch's fused multiply-adds and
# correctly rounded log1p differ from NumPy's unfused float32 arithmetic by ~1 ulp of the operands.
FAST_BINARY_TOL = {"logaddexp": dict(atol=1e-6), "logaddexp2": dict(atol=1e-6), "lerp": dict(atol=3e-5),
                   "lerp_far": dict(atol=3e-5), "lerp_tensor": dict(atol=3e-5)}


def _big_pair(domain, name):
    """Two BIG arrays; the special values meet each other in every order (x's edges against y's rolled edges)."""
    x, y = big(domain, name), big(domain, name + "y")
    y[17, :len(EDGES)] = np.roll(EDGES, 5)
    y[40, :len(EDGES)] = EDGES[::-1]
    x[5, :6], y[5, :6] = [1e30, 3e8, -7.0, 1e-30, 5.0, -6.0], [3.0, 1e-3, 1e30, 1e30, np.inf, -np.inf]
    return x, y


def _sane_for_sleef_fmod(x, y):
    """Leave out the pairs where torch's vectorised (Sleef) fmod gives NaN: |x / y| beyond float32's range or a
    subnormal y (NumPy's and ember's fmod are exact there)."""
    x[np.abs(x) > 1e36] = 1e30
    y[np.abs(x.astype(np.float64) / y) > 1e38] = 1.0


@pytest.mark.parametrize("name", list(FAST_BINARY))
def test_large_float32_binary_values(name):
    fn, domain = FAST_BINARY[name]
    x, y = (a.astype(np.float32) for a in _big_pair(domain, name))
    if "mod" in name or "remainder" in name:
        _sane_for_sleef_fmod(x, y)
    assert_close_signed(fn(ember, ember.from_numpy(x), ember.from_numpy(y)),
                        fn(torch, torch.from_numpy(x), torch.from_numpy(y)), **FAST_BINARY_TOL.get(name, {}))


@pytest.mark.parametrize("name", [n for n in FAST_BINARY if "floor" not in n and "trunc" not in n])
def test_large_binary_gradients(name):
    fn, domain = FAST_BINARY[name]
    x, y = big(domain, name, edges=False), big(domain, name + "y", edges=False)
    if name.startswith("pow"):
        x = np.abs(x) + 0.5
    check_big(fn, [x, y], dict(LOOSE32, **FAST_BINARY_TOL.get(name, {})))


def test_large_float32_results_noncontiguous_and_float64():
    """The float32 kernels read strided views; float64 keeps NumPy's correctly rounded kernels."""
    x, y = _big_pair("nz", "nc")
    _sane_for_sleef_fmod(x, y)
    for dt, tol in (("float32", (1e-6, 1e-37)), ("float64", (1e-13, 1e-300))):
        xa, ya = x.astype(dt), y.astype(dt)
        for fn in (lambda t, a, b: t.remainder(a.t(), b.t()), lambda t, a, b: t.atan2(a[:, ::2], b[:, 1::2]),
                   lambda t, a, b: t.erf(a[::2]), lambda t, a, b: t.expm1(a.t()), lambda t, a, b: t.tan(a[:, ::2])):
            assert_close_signed(fn(ember, ember.from_numpy(xa), ember.from_numpy(ya)),
                                fn(torch, torch.from_numpy(xa), torch.from_numpy(ya)), *tol)


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("op", ["remainder", "fmod", "floor_divide"])
def test_division_family_zero_signs_small(op, dt):
    """Small tensors (NumPy's kernels): a zero remainder keeps a's sign as torch's fmod-based kernel gives it."""
    x = np.array([-4.0, 4.0, -4.0, 4.0, -0.0, 0.0, -1.0, 1.0, 5.0, -3.0, 0.5, -0.5]).astype(dt)
    y = np.array([2.0, -2.0, -2.0, 2.0, 3.0, -3.0, np.inf, -np.inf, 0.0, 1.5, -np.inf, np.inf]).astype(dt)
    fn = getattr(torch, op)
    assert_close_signed(getattr(ember, op)(ember.from_numpy(x), ember.from_numpy(y)),
                        fn(torch.from_numpy(x), torch.from_numpy(y)))


@pytest.mark.parametrize("name,fn,inputs,grad", [
    ("deg2rad", lambda t, x: t.deg2rad(x), [uniform((3, 4), -400, 400)], True),
    ("rad2deg_method", lambda t, x: x.rad2deg(), [uniform((3, 4), -7, 7)], True),
    ("deg2rad_int", lambda t, x: t.deg2rad(x), [np.array([0, 90, -180, 360])], False),
    ("deg2rad_inplace", lambda t, x: (x * 1).deg2rad_(), [uniform((3, 4), -400, 400)], True),
    ("heaviside", lambda t, x, v: t.heaviside(x, v), [np.array([-1.5, 0.0, 2.0, np.nan, -0.0]), np.array([0.25])],
     False),
    ("heaviside_int", lambda t, x, v: x.heaviside(v), [np.array([-3, 0, 4]), np.array(7)], False),
    ("gcd", lambda t, a, b: t.gcd(a, b), [np.array([4, -6, 0, 17]), np.array([6, 9, 0, 5])], False),
    ("lcm_bcast", lambda t, a, b: a.lcm(b), [np.array([[4], [6]]), np.array([6, 9, -3])], False),
    ("isin", lambda t, a, b: t.isin(a, b), [np.array([1.0, 2.0, 3.5]), np.array([2, 3])], False),
    ("isin_invert", lambda t, a, b: t.isin(a, b, invert=True), [np.array([[1, 2], [3, 4]]), np.array([4, 1])], False),
    ("isin_number", lambda t, a: t.isin(a, 2), [np.array([1, 2, 2])], False),
    ("angle", lambda t, x: t.angle(x), [np.array([-1.5, 0.0, 2.0, -0.0, 3.0])], True),
    ("angle_nan", lambda t, x: x.angle(), [np.array([np.nan, -2.0])], False),
    ("conj_real", lambda t, x: t.conj(x) * 2, [uniform((3, 4), -2, 2)], True),
    # torch's ldexp gradient is 0 for negative integer exponents (it takes 2 ** e in integers); ember's is 2 ** e
    ("ldexp", lambda t, x, e: t.ldexp(x, e), [uniform((3, 4), -2, 2), np.array([1, 2, 3, 0])], True),
    ("ldexp_negative_exponent", lambda t, x, e: t.ldexp(x, e), [uniform((3, 4), -2, 2), np.array([1, -2, 3, 0])],
     False),
    ("ldexp_int", lambda t, x, e: t.ldexp(x, e), [np.array([1, 2, 3]), np.array([3, -1, 0])], False),
    ("frexp", lambda t, x: tuple(t.frexp(x)), [np.array([8.0, 0.3, -5.0, 0.0, 1e-30])], False),
    # the mantissa's gradient is g / 2 ** exponent, with 2 ** exponent taken in float32 (inf past 2 ** 127)
    ("frexp_grad", lambda t, x: t.frexp(x).mantissa, [np.array([8.0, 0.3, -5.0, 0.0, 1e-30, 3e38])], True),
    ("nextafter", lambda t, a, b: t.nextafter(a, b), [np.array([1.0, 2.0, 0.0]), np.array([2.0, 1.0, -1.0])], False),
])
def test_more_elementwise(name, fn, inputs, grad):
    check(fn, inputs, grad=grad, dtypes=FLOATS if grad else None)


@pytest.mark.parametrize("fn,exc", [
    (lambda t: t.gcd(t.ones(2), t.ones(2)), NotImplementedError),
    (lambda t: t.lcm(t.tensor([True]), t.tensor([True])), NotImplementedError),
    (lambda t: t.heaviside(t.ones(2), t.ones(2, dtype=t.int64)), RuntimeError),
    (lambda t: t.frexp(t.tensor([1, 2])), RuntimeError),
    (lambda t: t.nextafter(t.tensor([1]), t.tensor([2])), NotImplementedError),
])
def test_more_elementwise_errors(fn, exc):
    check_raises(fn, exc)


@pytest.mark.parametrize("name,args", [("exp_", ()), ("sqrt_", ()), ("sigmoid_", ()), ("tanh_", ()), ("log1p_", ()),
                                       ("clamp_", (0.3, 0.6)), ("round_", ()), ("zero_", ()), ("fill_", (2.5,)),
                                       ("nan_to_num_", ()), ("xlogy_", (2.0,)), ("deg2rad_", ())])
def test_module_level_inplace_functions(name, args):
    """torch.exp_(x, ...) and friends: the in-place method called as a function (same result and node)."""
    check(lambda t, x: getattr(t, name)(x * 1, *args), [uniform((3, 4), 0.2, 0.9)], dtypes=FLOATS)


@pytest.mark.parametrize("fn", [
    lambda t, a, b: t.complex(a, b),
    lambda t, a, b: t.polar(a, b),
    lambda t, a, b: t.complex(a[:, None], b) * (1 - 2j),
    lambda t, a, b: t.polar(a.abs(), b[:, None]).abs(),
    lambda t, a, b: t.view_as_real(t.polar(a, b)),
], ids=["complex", "polar", "complex_broadcast", "polar_broadcast_abs", "polar_as_real"])
def test_complex_from_parts(fn):
    a = r(4)
    a[0] = 0.0  # polar's gradient at zero magnitude is zero (taken from the result's sign), as in torch
    check(fn, [a, r(4, seed=1)], dtypes=("float64", "float32"))


@pytest.mark.parametrize("fn", [
    lambda t: t.complex(t.ones(2), t.ones(2, dtype=t.float64)),
    lambda t: t.complex(t.ones(2, dtype=t.int64), t.ones(2, dtype=t.int64)),
    lambda t: t.polar(t.ones(2), t.ones(2, dtype=t.float64)),
    lambda t: t.complex(t.ones(2, 3), t.ones(4, 3)),
])
def test_complex_from_parts_errors(fn):
    check_raises(fn)


def test_complex_sgn_gradient_and_abs_double_backward():
    """sgn of complex z has PyTorch's (g - Re(g conj(sgn)) sgn) / |z| gradient (0 at z = 0); abs's double backward
    goes through it."""
    z = r(6) + 1j * r(6, seed=1)
    z[0] = 0
    check(lambda t, a: t.view_as_real(t.sgn(a)), [z], grad_inputs=[0])

    def double(t, a):
        g, = t.autograd.grad((a.abs() ** 3).sum(), a, create_graph=True)
        return t.view_as_real(g)
    check(double, [z[1:]], grad_inputs=[0])


_ZA, _ZB = r(3, 3) + 1j * r(3, 3, seed=1), r(3, 3, seed=2) + 1j * r(3, 3, seed=3)
COMPLEX_GRADS = [
    ("acosh", lambda t, a, b: a.acosh()),
    ("prod_dim", lambda t, a, b: a.prod(1)),
    ("prod_all", lambda t, a, b: a.prod()),
    ("cumprod", lambda t, a, b: a.cumprod(1)),
    ("var", lambda t, a, b: a.var(1)),
    ("std", lambda t, a, b: a.std()),
    ("linear", lambda t, a, b: t.nn.functional.linear(a, b, a[0])),
    ("lerp_number", lambda t, a, b: t.lerp(a, b, 0.3 + 0.1j)),
    ("lerp_tensor", lambda t, a, b: t.lerp(a, b, b)),
    ("logsumexp", lambda t, a, b: a.logsumexp(1)),
]


@pytest.mark.parametrize("fn", [c[1] for c in COMPLEX_GRADS], ids=[c[0] for c in COMPLEX_GRADS])
def test_complex_gradients(fn):
    """PyTorch's conjugate convention (g * conj(f'(z)) for holomorphic f; real outputs of complex inputs)."""
    check(lambda t, a, b: (lambda y: t.view_as_real(y) if y.is_complex() else y)(fn(t, a, b)), [_ZA, _ZB],
          grad_inputs=[0, 1])
