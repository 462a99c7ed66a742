"""ops._bits: the bitwise selects give np.where's results exactly (NaN, inf and -0.0 included), above and below
the size where they switch to NumPy's plain forms."""
import numpy as np
import pytest

from ember.ops import _bits

SHAPES = [(0,), (), (7,), (3, 5), (40, 30)]
DTYPES = [np.float16, np.float32, np.float64]


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(dtype)
    if a.size:
        a.flat[0], a.flat[-1] = np.nan, -np.inf
    a = np.where(rng.random(shape) < 0.2, dtype(-0.0), a)
    return a, rng.random(shape) < 0.5


def _same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_keep(dtype, shape):
    a, cond = _data(shape, dtype)
    _same(_bits.keep(a, cond), np.where(cond, a, dtype(0)))
    _same(_bits.keep(a, cond, invert=True), np.where(cond, dtype(0), a))


def test_keep_broadcasts_the_mask_over_leading_dims():
    a, cond = _data((6, 40, 30), np.float32)
    _same(_bits.keep(a, cond[0], invert=True), np.where(cond[0], np.float32(0), a))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("density", [0.5, 0.01])
def test_put(dtype, shape, density):
    a, _ = _data(shape, dtype)
    b, _ = _data(shape, dtype, seed=1)
    cond = np.random.default_rng(2).random(shape) < density
    want = np.where(cond, b, a)
    _same(_bits.put(a.copy() if a.ndim else a.reshape(1).copy().reshape(()), b, cond), want)
    _same(_bits.put(a.copy(), dtype(np.inf), cond), np.where(cond, dtype(np.inf), a))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_two_values_and_select(dtype, shape):
    a, cond = _data(shape, dtype)
    b, _ = _data(shape, dtype, seed=1)
    _same(_bits.two_values(cond, -0.0, np.nan, np.dtype(dtype)), np.where(cond, dtype(-0.0), dtype(np.nan)))
    if a.ndim:
        _same(_bits.select(cond, a, b.copy()), np.where(cond, a, b))
