"""gradcheck / gradgradcheck against torch: the same functions pass or fail (with the same error) in both."""
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from agtools import arr, raises_like_torch

X = arr(3, 4)
W = arr(4, 2, seed=1)


def functions(lib):
    """Functions to check, right and deliberately wrong, written against `lib`."""
    F = lib.autograd.Function

    class Cube(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    class WrongSin(F):
        """Backward off by 10%."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.1

    class WrongSecondInput(F):
        """Right gradient for x, transposed-wrong gradient for w."""

        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x @ w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g @ w.t(), (x.t() @ g) * 2

    class DetachedBackward(F):
        """First derivative right, but backward is not differentiable (uses detach)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    class Noisy(F):
        """Right on average but not reentrant."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 + lib.rand_like(g) * 1e-7

    return {
        "sin": lambda x: x.sin(),
        "mlp": lambda x, w: (x @ w).tanh().sum(0),
        "two_outputs": lambda x: (x.exp(), (x * x).sum(1)),
        "broadcast": lambda x, b: x * b + b.exp(),
        "with_constant": lambda x, k: x * k,
        "cube": Cube.apply,
        "wrong_sin": WrongSin.apply,
        "wrong_second_input": WrongSecondInput.apply,
        "detached_backward": DetachedBackward.apply,
        "noisy": Noisy.apply,
    }


def _inputs(lib, name):
    x = lib.tensor(X, requires_grad=True)
    if name in ("mlp", "wrong_second_input"):
        return (x, lib.tensor(W, requires_grad=True))
    if name == "broadcast":
        return (x, lib.tensor(arr(4, seed=3), requires_grad=True))
    if name == "with_constant":
        return (x, lib.tensor(arr(3, 4, seed=5)))
    return (x,)


def _run(lib, check, name, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(lib.autograd, check)(functions(lib)[name], _inputs(lib, name), **kw)


PASSING = [("gradcheck", n) for n in ("sin", "mlp", "two_outputs", "broadcast", "with_constant", "cube",
                                      "detached_backward")] + \
          [("gradgradcheck", n) for n in ("sin", "mlp", "two_outputs", "broadcast", "cube")]


@pytest.mark.parametrize("check,name", PASSING, ids=[f"{c}-{n}" for c, n in PASSING])
def test_passes_like_torch(check, name):
    assert _run(torch, check, name) is True
    assert _run(ember, check, name) is True


FAILING = [("gradcheck", "wrong_sin", "Jacobian mismatch for output 0 with respect to input 0"),
           ("gradcheck", "wrong_second_input", "Jacobian mismatch for output 0 with respect to input 1"),
           ("gradgradcheck", "detached_backward", "Jacobian mismatch for output 0 with respect to input 0")]


def _raises_gradcheck_error(prog, match):
    """prog(lib) raises each library's own GradcheckError (a RuntimeError) with a message matching `match`."""
    for lib in (torch, ember):
        error_cls = sys.modules[f"{lib.__name__}.autograd.gradcheck"].GradcheckError
        with pytest.raises(error_cls, match=match) as err:
            prog(lib)
        assert isinstance(err.value, RuntimeError)
    return err.value


@pytest.mark.parametrize("check,name,match", FAILING, ids=[f"{c}-{n}" for c, n, _ in FAILING])
def test_wrong_function_raises_like_torch(check, name, match):
    err = _raises_gradcheck_error(lambda lib: _run(lib, check, name), match)
    assert "numerical:tensor(" in str(err) and "analytical:tensor(" in str(err)


def test_gradgradcheck_accepts_self_consistent_backward_like_torch():
    assert _run(torch, "gradgradcheck", "wrong_sin") is True
    assert _run(ember, "gradgradcheck", "wrong_sin") is True


@pytest.mark.parametrize("check,name", [(c, n) for c, n, _ in FAILING], ids=[f"{c}-{n}" for c, n, _ in FAILING])
def test_wrong_function_returns_false_without_raise(check, name):
    assert _run(torch, check, name, raise_exception=False) is False
    assert _run(ember, check, name, raise_exception=False) is False


def test_non_reentrant_backward_detected():
    _raises_gradcheck_error(lambda lib: _run(lib, "gradcheck", "noisy"), "Backward is not reentrant")
    assert _run(ember, "gradcheck", "noisy", nondet_tol=1e-5) is True


def test_non_contiguous_input():
    for lib in (torch, ember):
        x = lib.tensor(arr(4, 3)).t().detach().requires_grad_(True)
        assert not x.is_contiguous()
        assert lib.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
        wrong = functions(lib)["wrong_sin"]
        with pytest.raises(RuntimeError, match="Jacobian mismatch"):
            lib.autograd.gradcheck(wrong, (x,))


def test_no_input_requires_grad_raises_like_torch():
    raises_like_torch(lambda lib: lib.autograd.gradcheck(lambda t: t * 2, (lib.tensor(X),)),
                      "gradcheck expects at least one input tensor to require gradient, but none of them have "
                      "requires_grad=True.")


def test_float32_input_warns_like_torch():
    for lib in (torch, ember):
        x = lib.tensor(X.astype("float32"), requires_grad=True)
        with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision floating "
                                             "point or complex"):
            lib.autograd.gradcheck(lambda t: t * 2, (x,), raise_exception=False)


def test_gradcheck_of_builtin_ops_on_random_inputs():
    rng = np.random.default_rng(3)
    fns = [lambda t: t.tanh() * t.sigmoid(), lambda t: (t.exp() + 1).log(), lambda t: t.softmax(1),
           lambda t: t.pow(3).mean(0), lambda t: t.t() @ t]
    for fn in fns:
        x = ember.tensor(rng.standard_normal((3, 3)), requires_grad=True)
        assert ember.autograd.gradcheck(fn, (x,))
        assert ember.autograd.gradgradcheck(fn, (x,))
