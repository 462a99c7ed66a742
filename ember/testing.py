"""torch.testing.assert_close for ember tensors."""
import numpy as np

from ._tensor import Tensor

_TOLS = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True, msg=None, **kwargs):
    a = actual._data if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected._data if isinstance(expected, Tensor) else np.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and a.dtype != e.dtype:
        raise AssertionError(f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    r, t = _TOLS.get(a.dtype.name, (0, 0))
    rtol = r if rtol is None else rtol
    atol = t if atol is None else atol
    if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan):
        raise AssertionError(msg or f"Tensor-likes are not close!\n\nMismatched elements: "
                             f"{int((~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)).sum())} / {a.size}")


assert_allclose = assert_close
