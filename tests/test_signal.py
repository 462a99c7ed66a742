"""torch.signal.windows against torch: every window, symmetric and periodic, lengths 0/1/even/odd/long, dtypes,
options, the autograd graph under requires_grad, errors and the import through ember.torchcompat."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.signal.windows  # noqa: F401  (torch does not import the submodule by itself)

import ember
from parity import assert_same, check_raises, check_same_error

WINDOWS = [("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {}), ("exponential", {"tau": 2.5}),
           ("exponential", {"center": 1.5, "sym": False}), ("gaussian", {}), ("gaussian", {"std": 0.3}),
           ("general_cosine", {"a": [0.5, 0.3, 0.2]}), ("general_cosine", {"a": (1.0,)}),
           ("general_hamming", {}), ("general_hamming", {"alpha": 0.6}), ("hamming", {}), ("hann", {}),
           ("kaiser", {}), ("kaiser", {"beta": 0.0}), ("kaiser", {"beta": 3.5}), ("nuttall", {})]
# float32 exp and sqrt go through NumPy's (1 ulp from torch's SLEEF ones); kaiser's I0 amplifies its sqrt's ulp
TOL = {"float64": dict(rtol=0, atol=3e-15), "float32": dict(rtol=0, atol=3e-7)}
KAISER_TOL = {"float64": dict(rtol=0, atol=3e-15), "float32": dict(rtol=0, atol=3e-6)}


def _window(lib, name, M, kw, **extra):
    return getattr(lib.signal.windows, name)(M, **dict(kw, **extra))


# each window symmetric and periodic, except a case that fixes sym itself
SYM_CASES = [(n, dict(kw, sym=kw.get("sym", sym))) for n, kw in WINDOWS for sym in (True, False)
             if sym or "sym" not in kw]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", SYM_CASES, ids=[f"{n}{kw}" for n, kw in SYM_CASES])
def test_window_matches_torch(name, kw, dtype):
    for M in (0, 1, 2, 3, 8, 17, 64, 1001):
        e = _window(ember, name, M, kw, dtype=getattr(ember, dtype))
        t = _window(torch, name, M, kw, dtype=getattr(torch, dtype))
        assert_same(e, t, (KAISER_TOL if name == "kaiser" else TOL)[dtype], what=f"{name}({M}, {kw})")


@pytest.mark.parametrize("name,kw", WINDOWS, ids=[f"{n}{kw}" for n, kw in WINDOWS])
def test_window_default_dtype_and_graph(name, kw):
    """The default dtype is the global default; with requires_grad the window is the end of torch's graph of ops."""
    assert_same(_window(ember, name, 6, kw), _window(torch, name, 6, kw), TOL["float32"])
    for M in (0, 1, 6):
        e, t = _window(ember, name, M, kw, requires_grad=True), _window(torch, name, M, kw, requires_grad=True)
        assert e.requires_grad == t.requires_grad and e.is_leaf == t.is_leaf
        assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__


def test_window_default_dtype_follows_set_default_dtype():
    old = ember.get_default_dtype()
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.signal.windows.hann(5).dtype is ember.float64
    finally:
        ember.set_default_dtype(old)


@pytest.mark.parametrize("call", [
    lambda t: t.signal.windows.hann(-1),
    lambda t: t.signal.windows.kaiser(-3, beta=1.0),
    lambda t: t.signal.windows.hamming(4, dtype=t.float16),
    lambda t: t.signal.windows.bartlett(4, dtype=t.int64),
    lambda t: t.signal.windows.blackman(4, dtype=t.complex64),
    lambda t: t.signal.windows.exponential(4, tau=0.0),
    lambda t: t.signal.windows.exponential(4, center=1.0),
    lambda t: t.signal.windows.gaussian(4, std=-1.0),
    lambda t: t.signal.windows.kaiser(4, beta=-0.5),
    lambda t: t.signal.windows.general_cosine(4, a=5),
    lambda t: t.signal.windows.general_cosine(4, a=[]),
    lambda t: t.signal.windows.nuttall(4, True),
    lambda t: t.signal.windows.hann(4, dtype=t.bfloat16),
    lambda t: t.signal.windows.general_hamming(4, dtype=t.bfloat16),
])
def test_window_errors(call):
    """Same exception class and message as torch (the messages come from torch's Python)."""
    check_same_error(call)


def test_window_errors_before_trivial_lengths():
    """Checks run before the 0/1-point shortcuts, as in torch; general_cosine's coefficients only after them."""
    check_raises(lambda t: t.signal.windows.kaiser(0, dtype=t.float16), ValueError, "expects float32 or float64")
    for lib in (ember, torch):
        assert lib.signal.windows.general_cosine(1, a=[]).tolist() == [1.0]


def test_names_match_torch():
    assert set(ember.signal.windows.__all__) == set(torch.signal.windows.__all__)
    assert ember.signal.__all__ == ["windows"]


def test_import_torch_signal_through_torchcompat(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("import torch\nimport torch.signal.windows\nfrom torch.signal.windows import kaiser\n"
                      "from torch.signal import windows\n"
                      "print(torch.signal.windows.hann(4).tolist(), kaiser(3, beta=2.0).tolist(), windows.__name__)\n")
    out = subprocess.run([sys.executable, "-m", "ember.torchcompat", str(script)], capture_output=True, text=True,
                         check=True).stdout.split("]")
    np.testing.assert_allclose(eval(out[0] + "]"), torch.signal.windows.hann(4).tolist(), atol=1e-7)
    np.testing.assert_allclose(eval(out[1] + "]"), torch.signal.windows.kaiser(3, beta=2.0).tolist(), atol=1e-7)
    assert out[2].strip() == "ember.signal.windows"
