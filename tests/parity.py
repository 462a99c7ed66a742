"""The one parity helper: run the same computation in ember and in torch, compare values and gradients.

Usage:
    check(lambda t, x, y: t.add(x, y), [arr_x, arr_y])            # t is the library module
    check(lambda t, x: x.sum(1), [arr], grad=True, dtypes=("float64", "float32"))
Each numpy input becomes a tensor in both libraries (requires_grad for float inputs when grad=True);
outputs (a tensor or a tuple/list of tensors) are compared in value, shape and dtype; then backward is run
with the same random upstream gradient and every input's .grad is compared.
"""
import numpy as np
import pytest
import torch

import ember

TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6),
       "float16": dict(rtol=2e-3, atol=2e-3), "complex128": dict(rtol=1e-10, atol=1e-12),
       "complex64": dict(rtol=2e-5, atol=2e-6)}


def to_torch(a, requires_grad=False):
    t = torch.from_numpy(np.array(a, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_ember(a, requires_grad=False):
    t = ember.from_numpy(np.array(a, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().resolve_conj().numpy()  # torch's conj() is lazy
    return t.detach().numpy()


def _flat_outputs(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flat_outputs(o))
        return res
    return [out]


def assert_same(e, t, tol=None, what="output", check_dtype=True):
    """Compare one ember result with one torch result (tensors or Python values)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e).__name__}"
        en, tn = as_numpy(e), as_numpy(t)
        assert en.shape == tn.shape, f"{what}: shape {en.shape} != torch {tn.shape}"
        if check_dtype:
            assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} != torch {t.dtype}"
        if tol is None:
            tol = TOL.get(tn.dtype.name, dict(rtol=0, atol=0))
        if tn.dtype.kind in "fc":
            np.testing.assert_allclose(en, tn, equal_nan=True, err_msg=what, **tol)
        else:
            np.testing.assert_array_equal(en, tn, err_msg=what)
    elif isinstance(t, float):
        assert abs(e - t) <= 1e-6 * max(1, abs(t)) or (e != e and t != t), f"{what}: {e} != {t}"
    else:
        assert e == t, f"{what}: {e!r} != torch {t!r}"


def _node_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def check(fn, inputs, grad=True, dtypes=None, tol=None, seed=0, check_dtype=True, grad_inputs=None, node_names=True):
    """Run fn(lib, *tensors) in both libraries and compare outputs (values, dtypes, grad_fn names as printed) and
    (if grad) input gradients.

    inputs: numpy arrays (cast to each dtype in `dtypes` when floating) or other objects passed as-is.
    grad_inputs: indices of inputs that require grad (default: every floating array).
    """
    dtypes = dtypes or [None]
    rng = np.random.default_rng(seed)
    for dt in dtypes:
        arrs = [a.astype(dt) if dt and isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in inputs]
        want = [i for i, a in enumerate(arrs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"] \
            if grad_inputs is None else list(grad_inputs)
        want = want if grad else []
        e_in = [to_ember(a, i in want) if isinstance(a, np.ndarray) else a for i, a in enumerate(arrs)]
        t_in = [to_torch(a, i in want) if isinstance(a, np.ndarray) else a for i, a in enumerate(arrs)]
        e_out = _flat_outputs(fn(ember, *e_in))
        t_out = _flat_outputs(fn(torch, *t_in))
        assert len(e_out) == len(t_out), f"{len(e_out)} outputs != torch {len(t_out)}"
        for k, (e, t) in enumerate(zip(e_out, t_out)):
            assert_same(e, t, tol, what=f"output {k} ({dt})", check_dtype=check_dtype)
            if isinstance(t, torch.Tensor) and isinstance(e, ember.Tensor) and node_names:
                assert _node_name(e) == _node_name(t), f"output {k}: grad_fn {_node_name(e)} != torch {_node_name(t)}"
        if not want:
            continue
        diff = [(e, t) for e, t in zip(e_out, t_out)
                if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point]
        if not diff:
            continue
        gs = [rng.standard_normal(t.shape).astype(as_numpy(t).dtype) for _, t in diff]
        torch.autograd.backward([t for _, t in diff], [torch.from_numpy(g) for g in gs])
        ember.autograd.backward([e for e, _ in diff], [ember.from_numpy(g.copy()) for g in gs])
        for i in want:
            tg, eg = t_in[i].grad, e_in[i].grad
            if tg is None:
                assert eg is None or not as_numpy(eg).any(), f"grad of input {i}: torch has none, ember has one"
                continue
            assert eg is not None, f"grad of input {i} ({dt}): ember has none"
            assert_same(eg, tg, tol, what=f"grad of input {i} ({dt})")


def to_lib(obj, lib):
    """Deep-convert a state_dict: every tensor becomes a fresh `lib` tensor (a copy, through NumPy)."""
    if isinstance(obj, (torch.Tensor, ember.Tensor)):
        return lib.from_numpy(np.array(obj.detach().numpy(), copy=True))
    if isinstance(obj, dict):
        return {k: to_lib(v, lib) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_lib(v, lib) for v in obj)
    return obj


def check_raises(fn, exc=None, match=None):
    """fn(lib) raises the same exception class in both libraries (and ember's message matches `match`)."""
    import pytest
    with pytest.raises(Exception) as t_err:
        fn(torch)
    cls = exc or type(t_err.value)
    with pytest.raises(cls, match=match):
        fn(ember)


def check_same_error(fn):
    """fn(lib) raises the same exception class with exactly the same message in both libraries."""
    import pytest
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)) as e_err:
        fn(ember)
    assert str(e_err.value) == str(t_err.value)


def r(*shape, seed=0):
    """Standard-normal float64 test data of the given shape."""
    return np.random.default_rng(seed).standard_normal(shape)


def ri(*shape, lo=0, hi=5, seed=0):
    """Integer test data in [lo, hi)."""
    return np.random.default_rng(seed).integers(lo, hi, shape)


def raises(fn, exc, match):
    """torch raises exc with a message matching `match` (so the text comes from torch), and so does ember."""
    with pytest.raises(exc, match=match):
        fn(torch)
    check_raises(fn, exc, match)


def _table(cases):
    """pytest params from (id, *values) rows; rows may already be pytest.param(id, *values, marks=...)."""
    out = []
    for c in cases:
        if hasattr(c, "marks"):
            out.append(pytest.param(*c.values[1:], id=c.values[0], marks=c.marks))
        else:
            out.append(pytest.param(*c[1:], id=c[0]))
    return out
