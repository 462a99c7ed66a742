"""Compare ember's tensor printing with real PyTorch, character for character."""

import importlib.util
import math
import pathlib

import numpy as np
import pytest
import torch

_PATH = pathlib.Path(__file__).resolve().parent.parent / "ember" / "_tensor_str.py"
_spec = importlib.util.spec_from_file_location("ember_tensor_str_under_test", _PATH)
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)


class DType:
    """Stand-in dtype: compares and prints like the torch dtype it mirrors."""

    def __init__(self, tdtype):
        self.name = repr(tdtype)
        self.is_floating_point = tdtype.is_floating_point
        self.is_complex = tdtype.is_complex

    def __repr__(self):
        return self.name

    def __eq__(self, other):
        return isinstance(other, DType) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


class GradFn:
    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


class FakeTensor:
    def __init__(self, t):
        self._data = t.detach().resolve_conj().resolve_neg().numpy()
        self.dtype = DType(t.dtype)
        self.requires_grad = t.requires_grad
        self.is_leaf = t.is_leaf
        self.grad_fn = None if t.grad_fn is None else GradFn(t.grad_fn.name())


ts._get_default_dtype = lambda: DType(torch.get_default_dtype())


@pytest.fixture(autouse=True)
def _reset():
    yield
    torch.set_printoptions(profile="default")
    ts.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, scale=1.0, seed=0, dtype=torch.float32):
    return (torch.randn(*shape, generator=g(seed), dtype=torch.float64) * scale).to(dtype)


def randint(lo, hi, *shape, dtype=torch.int64, seed=0):
    return torch.randint(lo, hi, shape, generator=g(seed), dtype=dtype)


def _grad_leaf():
    return randn(3, 2).requires_grad_()


def _grad_nonleaf():
    x = randn(2, 3).requires_grad_()
    return x * 2 + 1


def _grad_sum():
    return (randn(5).requires_grad_() ** 2).sum()


def _grad_mm():
    a = randn(4, 6, dtype=torch.float64).requires_grad_()
    return a @ randn(6, 3, dtype=torch.float64, seed=1)


F = torch.float32
D = torch.float64

# (id, builder, print options, default dtype)
CASES = [
    # --- magnitudes / sci mode decision
    ("randn", lambda: randn(5), {}, F),
    ("randn_2d", lambda: randn(4, 5), {}, F),
    ("randn_1e-5", lambda: randn(6, scale=1e-5), {}, F),
    ("randn_1e-3", lambda: randn(6, scale=1e-3), {}, F),
    ("randn_1e3", lambda: randn(6, scale=1e3), {}, F),
    ("randn_1e5", lambda: randn(3, 4, scale=1e5), {}, F),
    ("randn_1e8", lambda: randn(6, scale=1e8), {}, F),
    ("randn_1e20", lambda: randn(2, 3, scale=1e20), {}, F),
    ("randn_1e-30", lambda: randn(2, 3, scale=1e-30), {}, F),
    ("mixed_mag", lambda: torch.tensor([1e-5, 1.0, 1e5, -3.0]), {}, F),
    ("ratio_999", lambda: torch.tensor([1.0, 999.0]), {}, F),
    ("ratio_1001", lambda: torch.tensor([1.0, 1001.5]), {}, F),
    ("exactly_1e8", lambda: torch.tensor([1e8, 2e7 + 0.5]), {}, F),
    ("rounds_up", lambda: torch.tensor([9.99996, -0.99999, 0.5]), {}, F),
    ("tiny_min", lambda: torch.tensor([1e-4, 0.01]), {}, F),
    ("exp3digit", lambda: torch.tensor([1e-200, 1e200, 3.0], dtype=torch.float64), {}, F),
    # --- integer-valued floats
    ("int_floats", lambda: torch.tensor([1.0, 2.0, -3.0, 0.0]), {}, F),
    ("int_floats_big", lambda: torch.tensor([1.0, 1e9, -3.0]), {}, F),
    ("int_floats_2d", lambda: torch.arange(12.0).reshape(3, 4), {}, F),
    ("int_floats_1000", lambda: torch.tensor([1.0, 1000.0, 20000.0]), {}, F),
    ("zeros", lambda: torch.zeros(2, 3), {}, F),
    ("ones_3d", lambda: torch.ones(2, 2, 2), {}, F),
    ("neg_zero", lambda: torch.tensor([-0.0, 0.0, 1.0]), {}, F),
    ("neg_zero_frac", lambda: torch.tensor([-0.0, 0.5]), {}, F),
    ("neg_zero_only", lambda: torch.tensor(-0.0), {}, F),
    # --- nan / inf
    ("nan_inf", lambda: torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5]), {}, F),
    ("nan_inf_int", lambda: torch.tensor([float("nan"), float("inf"), 2.0, -7.0]), {}, F),
    ("only_nan", lambda: torch.tensor([float("nan"), float("nan")]), {}, F),
    ("nan_zero", lambda: torch.tensor([0.0, float("nan"), -float("inf")]), {}, F),
    ("nan_sci", lambda: torch.tensor([float("nan"), 1e-7, 3.0]), {}, F),
    ("nan_2d", lambda: torch.tensor([[1.0, float("nan")], [float("inf"), 1e10]]), {}, F),
    # --- 0-d
    ("scalar", lambda: torch.tensor(3.14159), {}, F),
    ("scalar_int_float", lambda: torch.tensor(2.0), {}, F),
    ("scalar_int", lambda: torch.tensor(42), {}, F),
    ("scalar_bool", lambda: torch.tensor(True), {}, F),
    ("scalar_tiny", lambda: torch.tensor(1e-9), {}, F),
    ("scalar_nan", lambda: torch.tensor(float("nan")), {}, F),
    ("scalar_false", lambda: torch.tensor(False), {}, F),
    ("scalar_neg_int", lambda: torch.tensor(-7, dtype=torch.int16), {}, F),
    ("scalar_f16", lambda: torch.tensor(0.1, dtype=torch.float16), {}, F),
    ("scalar_f64", lambda: torch.tensor(1.5, dtype=torch.float64), {}, F),
    ("scalar_i8", lambda: torch.tensor(-5, dtype=torch.int8), {}, F),
    ("scalar_complex", lambda: torch.tensor(1 - 2j), {}, F),
    # --- empty
    ("empty", lambda: torch.tensor([]), {}, F),
    ("empty_0x3", lambda: torch.empty(0, 3), {}, F),
    ("empty_2x0x4", lambda: torch.empty(2, 0, 4), {}, F),
    ("empty_int", lambda: torch.tensor([], dtype=torch.int64), {}, F),
    ("empty_int32_2d", lambda: torch.empty(3, 0, dtype=torch.int32), {}, F),
    ("empty_bool", lambda: torch.empty(0, dtype=torch.bool), {}, F),
    ("empty_f64", lambda: torch.empty(0, dtype=torch.float64), {}, F),
    ("empty_f64_default64", lambda: torch.empty(0, 2, dtype=torch.float64), {}, D),
    ("empty_f32_default64", lambda: torch.empty(0, dtype=torch.float32), {}, D),
    ("empty_grad", lambda: torch.empty(0, 3).requires_grad_(), {}, F),
    ("empty_complex", lambda: torch.empty(0, dtype=torch.complex64), {}, F),
    # --- long rows / wrapping / N-D
    ("long_row", lambda: randn(40), {}, F),
    ("long_row_int", lambda: torch.arange(100), {}, F),
    ("long_row_2d", lambda: randn(3, 30), {}, F),
    ("long_row_sci", lambda: randn(25, scale=1e-6), {}, F),
    ("3d", lambda: randn(2, 3, 4), {}, F),
    ("4d", lambda: randn(2, 2, 3, 2), {}, F),
    ("5d", lambda: randn(2, 1, 2, 1, 3), {}, F),
    ("3d_wrap", lambda: randn(2, 2, 20), {}, F),
    ("size1", lambda: randn(1, 1, 1), {}, F),
    # --- summarization
    ("summ_1d", lambda: randn(2000), {}, F),
    ("summ_2d", lambda: randn(100, 100), {}, F),
    ("summ_3d", lambda: randn(20, 10, 10), {}, F),
    ("summ_4d", lambda: randn(8, 8, 8, 8), {}, F),
    ("summ_narrow", lambda: randn(1001, 1), {}, F),
    ("summ_wide", lambda: randn(1, 1001), {}, F),
    ("summ_int", lambda: torch.arange(5000).reshape(50, 100), {}, F),
    ("summ_hidden_big", lambda: torch.cat([randn(10), torch.full((1000,), 1e10), randn(10)]), {}, F),
    ("summ_bool", lambda: randint(0, 2, 40, 40, dtype=torch.bool), {}, F),
    ("summ_complex", lambda: torch.complex(randn(1200), randn(1200, seed=1)), {}, F),
    # --- dtypes
    ("f16", lambda: randn(6, dtype=torch.float16), {}, F),
    ("f16_big", lambda: randn(2, 3, scale=1e4, dtype=torch.float16), {}, F),
    ("f16_int", lambda: torch.tensor([1.0, 2048.0, -3.0], dtype=torch.float16), {}, F),
    ("f16_inf", lambda: torch.tensor([65504.0, float("inf"), 1e-7], dtype=torch.float16), {}, F),
    ("f64", lambda: randn(3, 3, dtype=torch.float64), {}, F),
    ("f64_default64", lambda: randn(3, 3, dtype=torch.float64), {}, D),
    ("f32_default64", lambda: randn(3, 3, dtype=torch.float32), {}, D),
    ("i8", lambda: randint(-128, 127, 10, dtype=torch.int8), {}, F),
    ("i16", lambda: randint(-30000, 30000, 3, 4, dtype=torch.int16), {}, F),
    ("i32", lambda: randint(-10**9, 10**9, 7, dtype=torch.int32), {}, F),
    ("i64", lambda: randint(-10**12, 10**12, 2, 5), {}, F),
    ("i64_default64", lambda: randint(-100, 100, 2, 5), {}, D),
    ("u8", lambda: randint(0, 256, 4, 4, dtype=torch.uint8), {}, F),
    ("u8_small", lambda: torch.tensor([0, 1, 2], dtype=torch.uint8), {}, F),
    ("bool", lambda: torch.tensor([True, False, True]), {}, F),
    ("bool_all_true", lambda: torch.tensor([[True, True], [True, True]]), {}, F),
    ("bool_long", lambda: randint(0, 2, 30, dtype=torch.bool), {}, F),
    ("c64", lambda: torch.complex(randn(4), randn(4, seed=1)), {}, F),
    ("c64_2d", lambda: torch.complex(randn(3, 3), randn(3, 3, seed=1)), {}, F),
    ("c64_int", lambda: torch.tensor([1 + 2j, -3 - 0j, 0 + 1j]), {}, F),
    ("c64_negzero_imag", lambda: torch.tensor([1.5 - 0.0j, 2.5 + 0.0j]), {}, F),
    ("c64_sci", lambda: torch.tensor([1e-6 + 1e6j, 2 + 3j]), {}, F),
    ("c64_default64", lambda: torch.tensor([1.5 + 2j]), {}, D),
    ("c64_negzero_imag2", lambda: torch.complex(torch.tensor([1.5, -2.0]), torch.tensor([-0.0, 0.0])), {}, F),
    ("c64_nan", lambda: torch.complex(torch.tensor([float("nan"), 1.0]), torch.tensor([2.5, float("inf")])), {}, F),
    ("c64_zero", lambda: torch.zeros(2, 2, dtype=torch.complex64), {}, F),
    ("c128", lambda: torch.tensor([1.5 + 2j, -1e-3 + 0.25j], dtype=torch.complex128), {}, F),
    ("c128_default64", lambda: torch.tensor([1.5 + 2j], dtype=torch.complex128), {}, D),
    ("c128_long", lambda: torch.complex(randn(30, dtype=D), randn(30, seed=2, dtype=D)), {}, F),
    # --- autograd suffixes
    ("grad_leaf", _grad_leaf, {}, F),
    ("grad_nonleaf", _grad_nonleaf, {}, F),
    ("grad_sum", _grad_sum, {}, F),
    ("grad_mm_f64", _grad_mm, {}, F),
    ("grad_f64_leaf", lambda: randn(4, dtype=D).requires_grad_(), {}, F),
    ("grad_long_suffix", lambda: randn(3, 9, dtype=D).requires_grad_(), {}, F),
    ("grad_wrap_line", lambda: randn(8, dtype=D).requires_grad_(), {}, F),
    ("grad_scalar", lambda: torch.tensor(2.5, dtype=D, requires_grad=True), {}, F),
    # --- print options
    ("precision2", lambda: randn(3, 4), {"precision": 2}, F),
    ("precision8", lambda: randn(3, 4), {"precision": 8}, F),
    ("precision0", lambda: randn(5, scale=10), {"precision": 0}, F),
    ("precision0_sci", lambda: randn(5, scale=1e-6), {"precision": 0}, F),
    ("precision8_f64", lambda: randn(12, dtype=D), {"precision": 8}, F),
    ("sci_true", lambda: randn(2, 3), {"sci_mode": True}, F),
    ("sci_true_int", lambda: torch.tensor([1.0, 2.0, 300.0]), {"sci_mode": True}, F),
    ("sci_true_long", lambda: randn(30), {"sci_mode": True}, F),
    ("sci_false", lambda: randn(2, 3, scale=1e-6), {"sci_mode": False}, F),
    ("sci_false_big", lambda: randn(5, scale=1e9), {"sci_mode": False}, F),
    ("sci_false_int", lambda: torch.tensor([1.0, 1e12]), {"sci_mode": False}, F),
    ("linewidth_small", lambda: randn(10), {"linewidth": 20}, F),
    ("linewidth_tiny", lambda: randn(2, 6), {"linewidth": 5}, F),
    ("linewidth_wide", lambda: randn(50), {"linewidth": 200}, F),
    ("linewidth_suffix", lambda: randn(4, dtype=D).requires_grad_(), {"linewidth": 30}, F),
    ("threshold_small", lambda: torch.arange(10), {"threshold": 5}, F),
    ("threshold_small_2d", lambda: randn(8, 9), {"threshold": 5}, F),
    ("threshold_edge2", lambda: randn(10, 10, 10), {"threshold": 20, "edgeitems": 2}, F),
    ("edgeitems1", lambda: randn(20, 20), {"threshold": 10, "edgeitems": 1}, F),
    ("edgeitems0_1d", lambda: randn(20), {"threshold": 10, "edgeitems": 0}, F),
    ("edgeitems0_2d", lambda: randn(5, 5), {"threshold": 10, "edgeitems": 0}, F),
    ("edgeitems0_int", lambda: torch.arange(30, dtype=torch.int32).reshape(5, 6), {"threshold": 10, "edgeitems": 0}, F),
    ("edgeitems0_nosumm", lambda: randn(3), {"edgeitems": 0}, F),
    ("edgeitems10", lambda: torch.arange(100).reshape(25, 4), {"threshold": 50, "edgeitems": 10}, F),
    ("profile_full", lambda: randn(1200), {"profile": "full"}, F),
    ("profile_full_2d", lambda: torch.arange(1500).reshape(30, 50), {"profile": "full"}, F),
    ("profile_short", lambda: randn(4, 4), {"profile": "short"}, F),
    ("profile_short_summ", lambda: randn(2000), {"profile": "short"}, F),
    ("profile_default", lambda: randn(4), {"profile": "default", "precision": 6}, F),
    ("short_sci", lambda: randn(5, scale=1e-8), {"profile": "short", "sci_mode": True}, F),
    ("opts_f16", lambda: randn(7, dtype=torch.float16), {"precision": 6, "linewidth": 40}, F),
    ("opts_complex", lambda: torch.complex(randn(6), randn(6, seed=3)), {"precision": 2, "linewidth": 30}, F),
]


@pytest.mark.parametrize("builder,opts,default", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_repr_matches_torch(builder, opts, default):
    torch.set_default_dtype(default)
    t = builder()
    torch.set_printoptions(**opts)
    ts.set_printoptions(**opts)
    expected = repr(t)
    assert ts.tensor_repr(FakeTensor(t)) == expected


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1.0, 37.0, 1e4, 1e9])
def test_random_shapes(seed, scale):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 6, size=rng.integers(1, 4)))
    t = randn(*shape, scale=scale, seed=seed)
    if seed % 3 == 0:
        t = t.round()
    assert ts.tensor_repr(FakeTensor(t)) == repr(t)


def test_custom_prefix():
    t = randn(3, 4, dtype=D)
    expected = repr(t).replace("tensor(", "foo(").replace("\n       ", "\n    ")
    assert ts.tensor_repr(FakeTensor(t), prefix="foo(") == expected


def test_get_set_printoptions_match_torch():
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    for kwargs in ({"precision": 2}, {"profile": "full"}, {"profile": "short", "linewidth": 50},
                   {"sci_mode": True, "edgeitems": 5}, {"threshold": 7}, {"profile": "default"}):
        ts.set_printoptions(**kwargs)
        torch.set_printoptions(**kwargs)
        assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    assert ts.get_printoptions()["threshold"] == 1000
    ts.set_printoptions(profile="full")
    assert ts.get_printoptions()["threshold"] == math.inf


def test_printoptions_context_manager():
    t = randn(5)
    before = ts.get_printoptions()
    with ts.printoptions(precision=2, sci_mode=True):
        with torch._tensor_str.printoptions(precision=2, sci_mode=True):
            assert ts.tensor_repr(FakeTensor(t)) == repr(t)
        assert ts.get_printoptions()["precision"] == 2
    assert ts.get_printoptions() == before
    assert ts.tensor_repr(FakeTensor(t)) == repr(t)
