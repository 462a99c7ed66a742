"""Helpers for the nn tests: run one program in ember and in torch, compare what it returns or raises.

    same(fn)         fn(lib) returns plain values/tensors/modules (nested); results must be equal
    same_error(fn)   fn(lib) raises; same exception class and the same message text
    sync(src, dst)   copy src's state_dict into dst through numpy (either direction)
"""
import copy
from collections import OrderedDict

import numpy as np
import torch

import ember
from parity import assert_same

LIBS = (torch, ember)


def arr(*shape, seed=0, dtype="float64"):
    """A reproducible random array (the same data goes to both libraries)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def lib_name_free(s):
    """Text with ember's own name read as torch's (type names in reprs and messages)."""
    return s.replace("ember.", "torch.").replace("ember", "torch")


def norm(v):
    """A library-independent form of v: tensors as ('tensor', dtype, array), modules by class name."""
    if isinstance(v, (torch.Tensor, ember.Tensor)):
        kind = "param" if isinstance(v, (torch.nn.Parameter, ember.nn.Parameter)) else "tensor"
        return (kind, str(v.dtype), v.requires_grad, v.detach().numpy().copy())
    if isinstance(v, (torch.nn.Module, ember.nn.Module)):
        return ("module", type(v).__name__)
    if isinstance(v, (torch.Size, ember.Size)):
        return ("size", tuple(v))
    if isinstance(v, (torch.dtype, ember.dtype)):
        return ("dtype", str(v))
    if isinstance(v, dict):
        return (type(v).__name__, [(k, norm(x)) for k, x in v.items()])
    if isinstance(v, (list, tuple)):
        return type(v)(norm(x) for x in v) if not hasattr(v, "_fields") else tuple(norm(x) for x in v)
    if isinstance(v, str):
        return lib_name_free(v)
    if isinstance(v, type):
        return ("type", v.__name__)
    if hasattr(v, "__next__"):
        return ("iter", [norm(x) for x in v])
    return v


def compare(e, t, what="result"):
    """Recursively compare normalised results (arrays compared with the float tolerance of their dtype)."""
    if isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and e.shape == t.shape, f"{what}: shape {getattr(e, 'shape', e)} != {t.shape}"
        assert_same(ember.from_numpy(e), torch.from_numpy(t), what=what)
    elif isinstance(t, (list, tuple)):
        assert isinstance(e, (list, tuple)) and len(e) == len(t), f"{what}: {e!r} != torch {t!r}"
        for k, (a, b) in enumerate(zip(e, t)):
            compare(a, b, f"{what}[{k}]")
    elif isinstance(t, float):
        assert isinstance(e, (int, float)) and (abs(e - t) <= 1e-6 * max(1, abs(t)) or e != e and t != t), \
            f"{what}: {e!r} != torch {t!r}"
    else:
        assert e == t, f"{what}: {e!r} != torch {t!r}"


def same(fn):
    """fn(lib) gives equal results in ember and torch; returns (ember_result, torch_result)."""
    t = fn(torch)
    e = fn(ember)
    compare(norm(e), norm(t))
    return e, t


def same_error(fn, exact=True):
    """fn(lib) raises the same exception class in both, with the same message (library name read as torch)."""
    try:
        fn(torch)
    except Exception as ex:  # noqa: BLE001 - any exception is the expectation
        t_err = ex
    else:
        raise AssertionError("torch did not raise")
    try:
        fn(ember)
    except Exception as ex:  # noqa: BLE001
        e_err = ex
    else:
        raise AssertionError(f"ember did not raise (torch raised {type(t_err).__name__}: {t_err})")
    assert type(e_err).__name__ == type(t_err).__name__, \
        f"ember raised {type(e_err).__name__}: {e_err}; torch raised {type(t_err).__name__}: {t_err}"
    if exact:
        assert lib_name_free(str(e_err)) == lib_name_free(str(t_err)), \
            f"message differs:\n ember: {e_err}\n torch: {t_err}"
    return e_err, t_err


def lib_of(obj):
    """The library (torch or ember) a module or tensor belongs to."""
    return torch if isinstance(obj, (torch.nn.Module, torch.Tensor)) else ember


def sync(src, dst):
    """Load src's state_dict into dst (strictly), copying every tensor through numpy."""
    lib = lib_of(dst)
    sd = OrderedDict((k, lib.from_numpy(v.detach().numpy().copy())) for k, v in src.state_dict().items())
    dst.load_state_dict(sd)
    return dst


def pair(build, *args, **kwargs):
    """build(lib, ...) in both libraries with torch's state copied into ember's model: (ember_model, torch_model)."""
    t = build(torch, *args, **kwargs)
    e = build(ember, *args, **kwargs)
    return sync(t, e), t


def run_pair(e_model, t_model, *arrays, grad=True, tol=None, seed=1):
    """Call both models on the same inputs; compare outputs, then input and parameter grads (random upstream)."""
    e_in = [ember.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    t_in = [torch.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    e_out, t_out = e_model(*e_in), t_model(*t_in)
    assert_same(e_out, t_out, tol, what="output")
    if not grad:
        return e_out, t_out
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(t_out.detach().numpy().dtype)
    t_out.backward(torch.from_numpy(g))
    e_out.backward(ember.from_numpy(g.copy()))
    for k, (a, b) in enumerate(zip(e_in, t_in)):
        if b.grad is not None:
            assert_same(a.grad, b.grad, tol, what=f"grad of input {k}")
    for (n, p), (tn, tp) in zip(e_model.named_parameters(), t_model.named_parameters()):
        assert n == tn
        if tp.grad is None:
            assert p.grad is None, f"grad of {n}: torch has none"
        else:
            assert_same(p.grad, tp.grad, tol, what=f"grad of {n}")
    return e_out, t_out


def clone(model):
    return copy.deepcopy(model)
