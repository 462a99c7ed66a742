"""Identity, Linear, Bilinear, LazyLinear, Flatten/Unflatten, F.linear/F.bilinear and DataParallel against torch."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, assert_same
from .nnparity import arr, same, same_error, pair, run_pair, compare, norm

F64_32 = ("float64", "float32")


def r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- F.linear / F.bilinear: values and gradients ----------------------------------------------------------------
LINEAR_CASES = [
    ("2d", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 4), r(3, 4, seed=1), r(3, seed=2)]),
    ("2d_no_bias", lambda t, x, w: t.nn.functional.linear(x, w), [r(5, 4), r(3, 4, seed=1)]),
    ("1d", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(4), r(3, 4, seed=1), r(3, seed=2)]),
    ("1d_no_bias", lambda t, x, w: t.nn.functional.linear(x, w), [r(4), r(3, 4, seed=1)]),
    ("3d", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(2, 5, 4), r(3, 4, seed=1), r(3, seed=2)]),
    ("3d_no_bias", lambda t, x, w: t.nn.functional.linear(x, w), [r(2, 5, 4), r(3, 4, seed=1)]),
    ("4d", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(2, 3, 2, 4), r(3, 4, seed=1), r(3, seed=2)]),
    ("noncontig_input", lambda t, x, w, b: t.nn.functional.linear(x.transpose(0, 1), w, b),
     [r(4, 5, 2, 4)[:, :, 0], r(3, 4, seed=1), r(3, seed=2)]),
    ("noncontig_3d", lambda t, x, w, b: t.nn.functional.linear(x.transpose(0, 1), w, b),
     [r(5, 2, 4), r(3, 4, seed=1), r(3, seed=2)]),
    ("strided_input", lambda t, x, w, b: t.nn.functional.linear(x[::2, 1:], w, b),
     [r(6, 5), r(3, 4, seed=1), r(3, seed=2)]),
    ("transposed_weight", lambda t, x, w, b: t.nn.functional.linear(x, w.t(), b),
     [r(5, 4), r(4, 3, seed=1), r(3, seed=2)]),
    ("bias_2d", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 4), r(3, 4, seed=1), r(5, 3, seed=2)]),
    ("bias_broadcast_1", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 4), r(3, 4, seed=1), r(1, seed=2)]),
    ("bias_0d", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 4), r(3, 4, seed=1), r(seed=2)]),
    ("bias_2d_4d_input", lambda t, x, w, b: t.nn.functional.linear(x, w, b),
     [r(2, 2, 3, 4), r(5, 4, seed=1), r(3, 5, seed=2)]),
    ("bias_2d_3d_input", lambda t, x, w, b: t.nn.functional.linear(x, w, b),
     [r(2, 3, 4), r(5, 4, seed=1), r(3, 5, seed=2)]),
    ("bias_row_3d_input", lambda t, x, w, b: t.nn.functional.linear(x, w, b),
     [r(2, 3, 4), r(5, 4, seed=1), r(1, 5, seed=2)]),
    ("bias_batch_3d_input", lambda t, x, w, b: t.nn.functional.linear(x, w, b),
     [r(2, 3, 4), r(5, 4, seed=1), r(2, 1, 5, seed=2)]),
    ("weight_1d", lambda t, x, w: t.nn.functional.linear(x, w), [r(5, 4), r(4, seed=1)]),
    ("weight_1d_3d_input", lambda t, x, w: t.nn.functional.linear(x, w), [r(2, 5, 4), r(4, seed=1)]),
    ("weight_1d_1d_input", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(4), r(4, seed=1), r(seed=2)]),
    ("empty_batch", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(0, 4), r(3, 4, seed=1), r(3, seed=2)]),
    ("empty_features", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 0), r(3, 0, seed=1), r(3, seed=2)]),
    ("zero_out", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [r(5, 4), r(0, 4, seed=1), r(0, seed=2)]),
    ("shared_input_weight", lambda t, x: t.nn.functional.linear(x, x), [r(4, 4)]),
]


@pytest.mark.parametrize("name,fn,inputs", LINEAR_CASES, ids=[c[0] for c in LINEAR_CASES])
def test_functional_linear(name, fn, inputs):
    check(fn, inputs, dtypes=F64_32)


@pytest.mark.parametrize("name,fn,inputs", LINEAR_CASES, ids=[c[0] for c in LINEAR_CASES])
def test_functional_linear_half(name, fn, inputs):
    """float16 products and bias added in float32, rounded once (torch's addmm): on long rows of large values nearly
    all outputs equal torch's bit for bit, the rest one ulp off (its float32 sums are ordered differently; rounding
    the product and the bias sum separately leaves ~20% an ulp off); gradients within rounding."""
    if name in LONG_ROWS:
        big = [(np.tile(a, (1,) * (a.ndim - 1) + (16,)) * 4 if a.ndim and a.shape[-1] == 4 else a).astype(np.float16)
               for a in inputs]
        e, t = (fn(lib, *[lib.tensor(a) for a in big]).numpy() for lib in (ember, torch))
        ulps = np.abs(e.astype(np.float64) - t) / np.spacing(np.abs(t)).astype(np.float64)
        assert e.dtype == np.float16 and ulps.max(initial=0) <= 1 and (e != t).mean() <= 0.05
    check(fn, inputs, dtypes=["float16"])


LONG_ROWS = {"2d", "2d_no_bias", "1d", "3d", "3d_no_bias", "4d", "noncontig_3d", "bias_2d", "bias_0d",
             "bias_2d_3d_input", "bias_row_3d_input", "bias_2d_4d_input"}


def test_functional_linear_int():
    check(lambda t, x, w: t.nn.functional.linear(x, w), [np.arange(12).reshape(3, 4), np.ones((2, 4), np.int64)],
          grad=False)


def test_functional_linear_noncontig_bias_dtype_cast():
    """Non-fused path (non-contiguous 3-D input): a float64 bias is added in place into the float32 output."""
    check(lambda t, x, w, b: t.nn.functional.linear(x.float().transpose(0, 1), w.float(), b),
          [r(3, 2, 4), r(5, 4, seed=1), r(5, seed=2)], dtypes=["float64"], tol=dict(rtol=1e-5, atol=1e-6))


def test_functional_linear_double_backward():
    def fn(t):
        x = t.tensor(r(3, 4), requires_grad=True)
        w = t.tensor(r(2, 4, seed=1), requires_grad=True)
        b = t.tensor(r(2, seed=2), requires_grad=True)
        y = t.nn.functional.linear(x, w, b).tanh()
        gx, gw = t.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        (gx.pow(2).sum() + (gw * gw.detach()).sum()).backward()
        return gx, gw, x.grad, w.grad, b.grad
    same(fn)


BILINEAR_CASES = [
    ("2d", lambda t, a, b, w, c: t.nn.functional.bilinear(a, b, w, c), [r(5, 3), r(5, 4, seed=1), r(2, 3, 4, seed=2),
                                                                         r(2, seed=3)]),
    ("no_bias", lambda t, a, b, w: t.nn.functional.bilinear(a, b, w), [r(5, 3), r(5, 4, seed=1), r(2, 3, 4, seed=2)]),
    ("1d", lambda t, a, b, w, c: t.nn.functional.bilinear(a, b, w, c), [r(3), r(4, seed=1), r(2, 3, 4, seed=2),
                                                                         r(2, seed=3)]),
    ("3d", lambda t, a, b, w, c: t.nn.functional.bilinear(a, b, w, c), [r(2, 5, 3), r(2, 5, 4, seed=1),
                                                                         r(6, 3, 4, seed=2), r(6, seed=3)]),
    ("noncontig", lambda t, a, b, w: t.nn.functional.bilinear(a.t(), b[:, ::2], w),
     [r(3, 5), r(5, 8, seed=1), r(2, 3, 4, seed=2)]),
    ("empty", lambda t, a, b, w, c: t.nn.functional.bilinear(a, b, w, c), [r(0, 3), r(0, 4, seed=1),
                                                                            r(2, 3, 4, seed=2), r(2, seed=3)]),
    ("same_input", lambda t, a, w: t.nn.functional.bilinear(a, a, w), [r(4, 3), r(2, 3, 3, seed=2)]),
]


@pytest.mark.parametrize("name,fn,inputs", BILINEAR_CASES, ids=[c[0] for c in BILINEAR_CASES])
def test_functional_bilinear(name, fn, inputs):
    check(fn, inputs, dtypes=F64_32)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("name,fn,inputs", BILINEAR_CASES, ids=[c[0] for c in BILINEAR_CASES])
def test_functional_bilinear_integers(name, fn, inputs, dtype):
    """Integer inputs keep their dtype (uint8 wrapping as torch's), with or without bias."""
    ints = [(np.abs(a) * 40).astype(dtype) for a in inputs]
    check(fn, ints, grad=False)


@settings(max_examples=25, deadline=None)
@given(lead=st.lists(st.integers(0, 3), min_size=0, max_size=3), n_in=st.integers(1, 5), n_out=st.integers(1, 4),
       bias=st.booleans(), seed=st.integers(0, 1000))
def test_functional_linear_random_shapes(lead, n_in, n_out, bias, seed):
    inputs = [r(*lead, n_in, seed=seed), r(n_out, n_in, seed=seed + 1)] + ([r(n_out, seed=seed + 2)] if bias else [])
    check(lambda t, *a: t.nn.functional.linear(*a), inputs, dtypes=["float64"])


LINEAR_ERRORS = [
    ("shape_2d", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(5, 3), t.ones(5))),
    ("shape_2d_no_bias", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(5, 3))),
    ("shape_3d", lambda t: t.nn.functional.linear(t.ones(2, 3, 4), t.ones(5, 3), t.ones(5))),
    ("shape_3d_no_bias", lambda t: t.nn.functional.linear(t.ones(2, 3, 4), t.ones(5, 3))),
    ("shape_1d", lambda t: t.nn.functional.linear(t.ones(4), t.ones(5, 3))),
    ("input_0d", lambda t: t.nn.functional.linear(t.ones(()), t.ones(5, 1))),
    ("weight_0d", lambda t: t.nn.functional.linear(t.ones(4), t.ones(()))),
    ("weight_3d", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(2, 5, 4))),
    ("weight_1d_mv", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(3))),
    ("weight_1d_dot", lambda t: t.nn.functional.linear(t.ones(4), t.ones(3))),
    ("weight_1d_with_bias", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(4), t.ones(3))),
    ("dtype_fused", lambda t: t.nn.functional.linear(t.ones(3, 4, dtype=t.float64), t.ones(5, 4), t.ones(5))),
    ("dtype_unfused", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(5, 4, dtype=t.float64))),
    ("dtype_int_float", lambda t: t.nn.functional.linear(t.ones(3, 4, dtype=t.int64), t.ones(5, 4))),
    ("bias_dtype", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(5, 4), t.ones(5, dtype=t.float64))),
    ("bias_shape", lambda t: t.nn.functional.linear(t.ones(3, 4), t.ones(5, 4), t.ones(3))),
    ("bias_shape_3d", lambda t: t.nn.functional.linear(t.ones(2, 3, 4), t.ones(5, 4), t.ones(3))),
    ("bias_shape_3d_3d", lambda t: t.nn.functional.linear(t.ones(2, 3, 4), t.ones(5, 4), t.ones(1, 1, 5))),
    ("bias_shape_3d_col", lambda t: t.nn.functional.linear(t.ones(2, 3, 4), t.ones(5, 4), t.ones(3, 1))),
    ("bias_shape_1d_input_2d_bias", lambda t: t.nn.functional.linear(t.ones(4), t.ones(5, 4), t.ones(3, 5))),
    ("bias_shape_unfused", lambda t: t.nn.functional.linear(t.ones(3, 2, 4).transpose(0, 1), t.ones(5, 4),
                                                            t.ones(3))),
    ("input_list", lambda t: t.nn.functional.linear([1.0], t.ones(5, 4))),
    ("weight_list", lambda t: t.nn.functional.linear(t.ones(1, 4), [[1.0] * 4])),
    ("module_shape", lambda t: t.nn.Linear(4, 2)(t.ones(3, 5))),
    ("module_dtype", lambda t: t.nn.Linear(4, 2)(t.ones(3, 4, dtype=t.float64))),
    ("module_no_bias_dtype", lambda t: t.nn.Linear(4, 2, bias=False)(t.ones(3, 4, dtype=t.float64))),
]


@pytest.mark.parametrize("name,fn", LINEAR_ERRORS)
def test_functional_linear_errors(name, fn):
    same_error(fn)


BILINEAR_ERRORS = [
    ("batch", lambda t: t.nn.functional.bilinear(t.ones(3, 4), t.ones(2, 5), t.ones(6, 4, 5))),
    ("batch_dim1", lambda t: t.nn.functional.bilinear(t.ones(2, 3, 4), t.ones(2, 2, 5), t.ones(6, 4, 5))),
    ("ndim", lambda t: t.nn.functional.bilinear(t.ones(2, 3, 4), t.ones(3, 5), t.ones(6, 4, 5))),
    ("in1", lambda t: t.nn.functional.bilinear(t.ones(3, 3), t.ones(3, 5), t.ones(6, 4, 5))),
    ("in2", lambda t: t.nn.functional.bilinear(t.ones(3, 4), t.ones(3, 4), t.ones(6, 4, 5))),
    ("bias", lambda t: t.nn.functional.bilinear(t.ones(3, 4), t.ones(3, 5), t.ones(6, 4, 5), t.ones(2))),
    ("bias_0d", lambda t: t.nn.functional.bilinear(t.ones(3, 4), t.ones(3, 5), t.ones(6, 4, 5), t.ones(()))),
    ("inputs_0d", lambda t: t.nn.functional.bilinear(t.ones(()), t.ones(()), t.ones(6, 1, 1))),
    ("dtype", lambda t: t.nn.functional.bilinear(t.ones(3, 4), t.ones(3, 5, dtype=t.float64), t.ones(6, 4, 5))),
    ("dtype_bias", lambda t: t.nn.functional.bilinear(t.ones(3, 4), t.ones(3, 5), t.ones(6, 4, 5),
                                                      t.ones(6, dtype=t.float64))),
    ("weight_4d", lambda t: t.nn.functional.bilinear(t.ones(3, 4), t.ones(3, 5), t.ones(6, 4, 5, 1))),
    ("weight_2d", lambda t: t.nn.functional.bilinear(t.ones(3, 5), t.ones(3, 5), t.ones(4, 5))),
]


@pytest.mark.parametrize("name,fn", BILINEAR_ERRORS, ids=[c[0] for c in BILINEAR_ERRORS])
def test_functional_bilinear_errors(name, fn):
    same_error(fn)


# ---- Linear / Bilinear / Identity modules ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", F64_32)
@pytest.mark.parametrize("shape", [(4,), (6, 4), (2, 3, 4), (2, 1, 3, 4), (0, 4)],
                         ids=["1d", "2d", "3d", "4d", "empty"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module(shape, bias, dtype):
    e, t = pair(lambda lib: lib.nn.Linear(4, 3, bias=bias, dtype=getattr(lib, dtype)))
    run_pair(e, t, arr(*shape, dtype=dtype))


def test_linear_module_noncontiguous_input():
    e, t = pair(lambda lib: lib.nn.Linear(4, 3, dtype=lib.float64))
    x = arr(4, 6, 2)
    e_out = e(ember.tensor(x).permute(2, 1, 0))
    t_out = t(torch.tensor(x).permute(2, 1, 0))
    assert_same(e_out, t_out)


LINEAR_MODULE_CASES = [
    ("repr", lambda t: [repr(t.nn.Linear(3, 4)), repr(t.nn.Linear(3, 4, bias=False)), repr(t.nn.Bilinear(2, 3, 4)),
                        repr(t.nn.Bilinear(2, 3, 4, bias=False)), repr(t.nn.Identity(5, x=1)),
                        repr(t.nn.LazyLinear(3))]),
    ("attributes", lambda t: (lambda m: (m.in_features, m.out_features, m.bias, m.weight.shape, m.weight.dtype,
                                          [n for n, _ in m.named_parameters()]))(t.nn.Linear(3, 4, bias=False,
                                                                                                dtype=t.float64))),
    ("bilinear_attributes", lambda t: (lambda m: (m.in1_features, m.in2_features, m.out_features, m.weight.shape,
                                                   m.bias.shape, list(m.state_dict())))(t.nn.Bilinear(2, 3, 4))),
    ("constants", lambda t: (t.nn.Linear.__constants__, t.nn.Bilinear.__constants__)),
    ("identity_passthrough", lambda t: (lambda x: t.nn.Identity(3, foo="bar")(x) is x)(t.ones(2))),
    ("identity_params", lambda t: list(t.nn.Identity().parameters())),
    ("non_dynamically_quantizable", lambda t: repr(t.nn.modules.linear.NonDynamicallyQuantizableLinear(2, 3))),
    ("linear_device", lambda t: str(t.nn.Linear(2, 2, device="cpu").weight.device)),
]


@pytest.mark.parametrize("name,fn", LINEAR_MODULE_CASES, ids=[c[0] for c in LINEAR_MODULE_CASES])
def test_linear_module_api(name, fn):
    same(fn)


@pytest.mark.parametrize("dtype", F64_32)
@pytest.mark.parametrize("shape", [(5,), (6, 5), (2, 3, 5)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(shape, bias, dtype):
    e, t = pair(lambda lib: lib.nn.Bilinear(5, 4, 3, bias=bias, dtype=getattr(lib, dtype)))
    run_pair(e, t, arr(*shape, dtype=dtype), arr(*shape[:-1], 4, seed=1, dtype=dtype))


# ---- LazyLinear -------------------------------------------------------------------------------------------------
def _lazy_before(t):
    m = t.nn.LazyLinear(3)
    return (type(m).__name__, type(m.weight).__name__, type(m.bias).__name__, m.in_features,
            m.has_uninitialized_params(), [type(v).__name__ for v in m.state_dict().values()], list(m.state_dict()))


def _lazy_after(t):
    m = t.nn.LazyLinear(3, dtype=t.float64)
    out = m(t.ones(2, 5, 7, dtype=t.float64))
    return (type(m).__name__, type(m.weight).__name__, m.in_features, m.weight.shape, m.weight.dtype, m.bias.shape,
            out.shape, repr(m), m.has_uninitialized_params() if hasattr(m, "has_uninitialized_params") else None,
            hasattr(m, "_initialize_hook"), len(m._forward_pre_hooks), len(m._load_state_dict_pre_hooks),
            m.weight.requires_grad)


def _lazy_no_bias(t):
    m = t.nn.LazyLinear(2, bias=False)
    m(t.ones(4))
    return repr(m), m.bias, [n for n, _ in m.named_parameters()]


def _lazy_in_sequential(t):
    m = t.nn.Sequential(t.nn.LazyLinear(6), t.nn.Identity(), t.nn.LazyLinear(2))
    before = repr(m)
    m(t.ones(3, 4))
    return before, repr(m), list(m.state_dict()), [p.shape for p in m.parameters()]


def _lazy_load(t):
    """A full state loaded into a lazy module materialises it (in place), without becoming Linear yet."""
    src = t.nn.Linear(5, 3)
    with t.no_grad():
        src.weight.copy_(t.tensor(arr(3, 5, dtype="float32")))
        src.bias.fill_(0.5)
    m = t.nn.LazyLinear(3)
    res = m.load_state_dict(src.state_dict())
    mid = (type(m).__name__, type(m.weight).__name__, m.weight, m.bias, m.in_features)
    out = m(t.ones(2, 5))
    return repr(res), mid, type(m).__name__, m.in_features, out, repr(m)


def _lazy_load_into_lazy(t):
    m = t.nn.LazyLinear(3)
    res = m.load_state_dict(t.nn.LazyLinear(3).state_dict())
    return repr(res), type(m.weight).__name__


def _lazy_dtype_conversion(t):
    m = t.nn.LazyLinear(2)
    m.double()
    m(t.ones(1, 3, dtype=t.float64))
    return m.weight.dtype, m.bias.dtype


def _lazy_parameters_list(t):
    m = t.nn.LazyLinear(2)
    return [type(p).__name__ for p in m.parameters()], len(list(m.named_parameters()))


LAZY_CASES = [
    ("before", _lazy_before),
    ("after", _lazy_after),
    ("no_bias", _lazy_no_bias),
    ("sequential", _lazy_in_sequential),
    ("load", _lazy_load),
    ("load_into_lazy", _lazy_load_into_lazy),
    ("dtype_conversion", _lazy_dtype_conversion),
    ("parameters", _lazy_parameters_list),
]


@pytest.mark.parametrize("name,fn", LAZY_CASES, ids=[c[0] for c in LAZY_CASES])
def test_lazy_linear(name, fn):
    same(fn)


def test_lazy_linear_matches_linear_after_sync():
    def build(lib):
        m = lib.nn.LazyLinear(3, dtype=lib.float64)
        m(lib.ones(1, 4, dtype=lib.float64))
        return m
    e, t = pair(build)
    run_pair(e, t, arr(5, 4))



def _lazy_copy(t, how):
    import copy
    import pickle
    m = t.nn.Sequential(t.nn.LazyLinear(3))
    c = copy.deepcopy(m) if how == "deepcopy" else pickle.loads(pickle.dumps(m))
    out_copy = c(t.ones(2, 5))
    out_orig = m(t.ones(2, 4))
    return (type(c[0]).__name__, out_copy.shape, len(c[0]._forward_pre_hooks), type(m[0]).__name__, out_orig.shape,
            m[0].in_features, c[0].in_features)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_lazy_linear_copy(how):
    same(lambda t: _lazy_copy(t, how))


LAZY_ERRORS = [
    ("use_before_forward", lambda t: t.nn.LazyLinear(3).weight.sum()),
    ("shape_before_forward", lambda t: t.nn.LazyLinear(3).weight.shape),
    ("data_parallel", lambda t: t.nn.LazyLinear(3)._replicate_for_data_parallel()),
    ("wrong_in_features_after_load", lambda t: (lambda m: (m.load_state_dict(t.nn.Linear(5, 3).state_dict()),
                                                           m(t.ones(2, 4))))(t.nn.LazyLinear(3))),
    ("lazy_into_full", lambda t: t.nn.Linear(2, 3).load_state_dict(t.nn.LazyLinear(3).state_dict())),
]


@pytest.mark.parametrize("name,fn", LAZY_ERRORS, ids=[c[0] for c in LAZY_ERRORS])
def test_lazy_linear_errors(name, fn):
    same_error(fn, exact=name not in ("use_before_forward",))


# ---- Flatten / Unflatten ----------------------------------------------------------------------------------------
FLATTEN_CASES = [
    ("default", lambda t, x: t.nn.Flatten()(x), [r(2, 3, 4, 5)]),
    ("range", lambda t, x: t.nn.Flatten(0, 2)(x), [r(2, 3, 4, 5)]),
    ("negative", lambda t, x: t.nn.Flatten(-3, -2)(x), [r(2, 3, 4, 5)]),
    ("noncontig", lambda t, x: t.nn.Flatten()(x.transpose(1, 3)), [r(2, 3, 4, 5)]),
    ("2d", lambda t, x: t.nn.Flatten()(x), [r(2, 3)]),
    ("1d_start0", lambda t, x: t.nn.Flatten(0)(x), [r(6)]),
    ("empty", lambda t, x: t.nn.Flatten()(x), [r(0, 3, 2)]),
    ("unflatten", lambda t, x: t.nn.Unflatten(1, (2, 3))(x), [r(4, 6, 2)]),
    ("unflatten_neg", lambda t, x: t.nn.Unflatten(-1, [2, -1])(x), [r(4, 6)]),
    ("unflatten_size", lambda t, x: t.nn.Unflatten(0, t.Size([2, 2]))(x), [r(4, 3)]),
    ("roundtrip", lambda t, x: t.nn.Unflatten(1, (3, 4))(t.nn.Flatten()(x)), [r(2, 3, 4)]),
]


@pytest.mark.parametrize("name,fn,inputs", FLATTEN_CASES, ids=[c[0] for c in FLATTEN_CASES])
def test_flatten(name, fn, inputs):
    check(fn, inputs, dtypes=F64_32)


FLATTEN_API = [
    ("repr", lambda t: [repr(t.nn.Flatten()), repr(t.nn.Flatten(0, 2)), repr(t.nn.Unflatten(1, (2, 5, 5))),
                        repr(t.nn.Unflatten(1, [2, 2])), repr(t.nn.Unflatten(-1, t.Size([3, 3])))]),
    ("attributes", lambda t: (t.nn.Flatten(2, 3).start_dim, t.nn.Flatten(2, 3).end_dim, t.nn.Unflatten(1, (2, 2)).dim,
                              t.nn.Unflatten(1, [2, 2]).unflattened_size)),
    ("in_sequential", lambda t: repr(t.nn.Sequential(t.nn.Flatten(), t.nn.Linear(12, 12), t.nn.Unflatten(1, (3, 4))))),
    ("constants", lambda t: (t.nn.Flatten.__constants__, t.nn.Unflatten.__constants__)),
]


@pytest.mark.parametrize("name,fn", FLATTEN_API, ids=[c[0] for c in FLATTEN_API])
def test_flatten_api(name, fn):
    same(fn)


FLATTEN_ERRORS = [
    ("start_after_end", lambda t: t.nn.Flatten(2, 0)(t.ones(2, 3, 4))),
    ("out_of_range", lambda t: t.nn.Flatten(1, 5)(t.ones(2, 3, 4))),
    ("unflatten_product", lambda t: t.nn.Unflatten(1, (2, 2))(t.ones(2, 3, 4))),
    ("unflatten_not_tuple", lambda t: t.nn.Unflatten(1, 3)),
    ("unflatten_float_size", lambda t: t.nn.Unflatten(1, (2.0, 2))),
    ("unflatten_named", lambda t: t.nn.Unflatten(1, (("a", 2),))),
    ("unflatten_dim_range", lambda t: t.nn.Unflatten(3, (1, 2))(t.ones(2, 2))),
]


@pytest.mark.parametrize("name,fn", FLATTEN_ERRORS, ids=[c[0] for c in FLATTEN_ERRORS])
def test_flatten_errors(name, fn):
    same_error(fn)


# ---- DataParallel on CPU -----------------------------------------------------------------------------------------
def mlp(t):
    return t.nn.Sequential(t.nn.Linear(4, 8, dtype=t.float64), t.nn.Identity(), t.nn.Linear(8, 2, dtype=t.float64))


def _dp_api(t):
    inner = mlp(t)
    dp = t.nn.DataParallel(inner, device_ids=None)
    return (dp.module is inner, list(dp.state_dict()), [n for n, _ in dp.named_parameters()], repr(dp),
            type(dp).__name__, dp.training, dp.device_ids, sorted(k for k in vars(dp) if not k.startswith("_")))


def _dp_nested(t):
    class Net(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.stage1 = t.nn.Sequential(t.nn.Linear(2, 2))
            self.stage2 = t.nn.DataParallel(self.stage1)
            self.fc = t.nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(self.stage2(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = t.nn.DataParallel(Net())
    return list(m.state_dict()), m(t.ones(3, 2)).shape, list(dict(m.named_modules()))


def _dp_kwargs(t):
    class K(t.nn.Module):
        def forward(self, x, *, scale):
            return x * scale
    dp = t.nn.DataParallel(K())
    return dp(t.ones(2), scale=3.0)


@pytest.mark.parametrize("name,fn", [("api", _dp_api), ("nested", _dp_nested), ("kwargs", _dp_kwargs)],
                         ids=["api", "nested", "kwargs"])
def test_data_parallel(name, fn):
    same(fn)


def test_data_parallel_function_raises_without_accelerator():
    same_error(lambda t: t.nn.parallel.data_parallel(t.nn.Identity(), t.ones(2)))


def test_data_parallel_runs_module_and_trains():
    e, t = pair(lambda lib: lib.nn.DataParallel(mlp(lib)))
    run_pair(e, t, arr(5, 4))


def test_data_parallel_state_dict_interop():
    """A DataParallel checkpoint ('module.' keys) loads into the bare module once the prefix is stripped."""
    e = ember.nn.DataParallel(mlp(ember))
    t = mlp(torch)
    sd = OrderedDict((k[len("module."):], torch.from_numpy(v.numpy())) for k, v in e.state_dict().items())
    t.load_state_dict(sd)
    x = arr(3, 4)
    compare(norm(e(ember.tensor(x))), norm(t(torch.tensor(x))))


@pytest.mark.parametrize("device_ids", [[0], [0, 1], [torch.device("cpu")]])
def test_data_parallel_device_ids_accepted(device_ids):
    ids = [ember.device("cpu") if isinstance(d, torch.device) else d for d in device_ids]
    dp = ember.nn.DataParallel(mlp(ember), device_ids=ids, output_device=ids[0])
    assert dp(ember.ones(2, 4, dtype=ember.float64)).shape == (2, 2)
    assert dp.device_ids == []
