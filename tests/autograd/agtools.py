"""Helpers for the autograd tests: run one program in ember and in torch and compare all it returns."""
import re

import numpy as np
import pytest
import torch

import ember
from parity import assert_same

LIBS = {"ember": ember, "torch": torch}


def arr(*shape, seed=0, dtype="float64"):
    """A reproducible random array (the same data goes to both libraries)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def leaf(lib, a, requires_grad=True):
    """A leaf tensor of `lib` holding a copy of array `a`."""
    return lib.tensor(np.array(a, copy=True), requires_grad=requires_grad)


def compare(e, t, what="result"):
    """Recursively compare an ember result with the torch one (tensors, containers, plain values)."""
    if isinstance(t, torch.Tensor):
        assert_same(e, t, what=what)
        assert isinstance(e, ember.Tensor)
        assert e.requires_grad == t.requires_grad, f"{what}: requires_grad {e.requires_grad} != {t.requires_grad}"
    elif isinstance(t, dict):
        assert isinstance(e, dict) and e.keys() == t.keys(), f"{what}: keys {list(e)} != {list(t)}"
        for k in t:
            compare(e[k], t[k], f"{what}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert isinstance(e, (list, tuple)) and len(e) == len(t), f"{what}: {e!r} != torch {t!r}"
        for k, (a, b) in enumerate(zip(e, t)):
            compare(a, b, f"{what}[{k}]")
    elif t is None:
        assert e is None, f"{what}: expected None, got {e!r}"
    else:
        assert_same(e, t, what=what)


def run_both(prog, *args):
    """prog(lib, *args) in both libraries; everything it returns must agree."""
    t = prog(torch, *args)
    e = prog(ember, *args)
    compare(e, t)
    return e, t


def raises_like_torch(prog, match, *args):
    """prog(lib) raises in torch; ember raises the same class; both messages match the regex `match`."""
    with pytest.raises(Exception) as t_err:
        prog(torch, *args)
    assert re.search(match, str(t_err.value)), f"torch message changed: {t_err.value}"
    with pytest.raises(t_err.type) as e_err:
        prog(ember, *args)
    assert re.search(match, str(e_err.value)), f"ember message {str(e_err.value)!r} does not match {match!r}"
    return e_err.value
