"""no_grad / enable_grad / set_grad_enabled / inference_mode against torch: context managers and decorators."""
import warnings

import pytest

from agtools import arr, leaf, run_both, raises_like_torch

X = arr(3, 4)


def _flags(lib, t):
    return t.requires_grad, t.grad_fn is None, t.is_leaf


def _no_grad_context(lib):
    x = leaf(lib, X)
    with lib.no_grad():
        y = x * 2
        inner = lib.is_grad_enabled()
        new_leaf = lib.ones(2, requires_grad=True)
    return _flags(lib, y), inner, lib.is_grad_enabled(), new_leaf.requires_grad, y


def _nested_modes(lib):
    x = leaf(lib, X)
    seen = []
    with lib.no_grad():
        seen.append(lib.is_grad_enabled())
        with lib.enable_grad():
            seen.append(lib.is_grad_enabled())
            a = x * 2
            with lib.set_grad_enabled(False):
                seen.append(lib.is_grad_enabled())
                b = x * 2
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
        c = x * 2
    seen.append(lib.is_grad_enabled())
    return seen, _flags(lib, a), _flags(lib, b), _flags(lib, c)


def _set_grad_enabled_as_function(lib):
    x = leaf(lib, X)
    lib.set_grad_enabled(False)
    try:
        y = x * 2
        off = lib.is_grad_enabled()
    finally:
        lib.set_grad_enabled(True)
    return _flags(lib, y), off, lib.is_grad_enabled()


def _set_grad_enabled_decorator(lib):
    x = leaf(lib, X)

    @lib.set_grad_enabled(False)
    def f(t):
        return t * 2, lib.is_grad_enabled()

    after_decoration = lib.is_grad_enabled()
    y, inside = f(x)
    return after_decoration, inside, lib.is_grad_enabled(), _flags(lib, y)


def _decorators(lib):
    x = leaf(lib, X)

    @lib.no_grad()
    def f(t):
        return t * 2

    @lib.no_grad
    def f_bare(t):
        return t * 2

    @lib.enable_grad()
    def g(t):
        return t * 2

    @lib.enable_grad
    def g_bare(t):
        return t * 2

    with lib.no_grad():
        a, b = g(x), g_bare(x)
    return _flags(lib, f(x)), _flags(lib, f_bare(x)), _flags(lib, a), _flags(lib, b), f.__name__, g_bare.__name__


def _generator_decorated(lib):
    x = leaf(lib, X)

    @lib.no_grad()
    def gen(n):
        for i in range(n):
            received = yield (x * i, lib.is_grad_enabled())
            if received is not None:
                yield received
        return "done"

    outside = []
    results = []
    for y, mode in gen(3):
        outside.append(lib.is_grad_enabled())
        results.append((_flags(lib, y), mode))
    g = gen(2)
    first = next(g)[1]
    echoed = g.send("hello")
    try:
        while True:
            next(g)
    except StopIteration as stop:
        ret = stop.value
    return results, outside, first, echoed, ret


def _generator_enable_grad_inside_no_grad(lib):
    x = leaf(lib, X)

    @lib.enable_grad()
    def gen():
        yield x * 2
        yield x * 3

    with lib.no_grad():
        outs = list(gen())
        mode = lib.is_grad_enabled()
    return [_flags(lib, o) for o in outs], mode


def _generator_close_and_throw(lib):
    log = []

    @lib.no_grad()
    def gen():
        try:
            yield 1
            yield 2
        except ValueError:
            log.append(("caught", lib.is_grad_enabled()))
            yield 3
        finally:
            log.append(("finally", lib.is_grad_enabled()))

    g = gen()
    next(g)
    thrown = g.throw(ValueError("x"))
    g.close()
    return thrown, log, lib.is_grad_enabled()


def _mode_restored_after_exception(lib):
    try:
        with lib.no_grad():
            raise KeyError("boom")
    except KeyError:
        pass
    after_no_grad = lib.is_grad_enabled()

    @lib.no_grad()
    def f():
        raise KeyError("boom")

    try:
        f()
    except KeyError:
        pass
    return after_no_grad, lib.is_grad_enabled()


def _context_reused(lib):
    x = leaf(lib, X)
    ctx = lib.no_grad()
    out = []
    for _ in range(2):
        with ctx:
            out.append(_flags(lib, x * 2))
        out.append(_flags(lib, x * 2))
    return out


def _inplace_on_leaf_in_no_grad(lib):
    x = leaf(lib, X)
    v = x._version
    with lib.no_grad():
        x.mul_(2)
        x += 1
    return x.detach(), v, x._version, x.is_leaf, x.requires_grad


def _inference_mode(lib):
    x = leaf(lib, X)
    with lib.inference_mode():
        y = x * 2
        modes = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
        with lib.inference_mode(False):
            inner = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
        z = lib.ones(3)
    return (_flags(lib, y), modes, inner, y.is_inference(), z.is_inference(), x.is_inference(),
            (x * 2).is_inference(), lib.is_inference_mode_enabled())


def _inference_mode_false_enables_grad(lib):
    x = leaf(lib, X)
    with lib.no_grad():
        with lib.inference_mode(False):
            y = x * 2
            mode = lib.is_grad_enabled()
        with lib.inference_mode(mode=True):
            mode2 = lib.is_grad_enabled()
    return _flags(lib, y), mode, mode2


def _inference_mode_decorators(lib):
    x = leaf(lib, X)

    @lib.inference_mode()
    def f(t):
        return t * 2, lib.is_inference_mode_enabled()

    @lib.inference_mode
    def g(t):
        return t * 2

    @lib.inference_mode()
    def gen():
        yield lib.is_inference_mode_enabled()

    y, inside = f(x)
    return _flags(lib, y), inside, _flags(lib, g(x)), list(gen()), lib.is_inference_mode_enabled()


def _inference_tensor_without_saving(lib):
    x = leaf(lib, X)
    with lib.inference_mode():
        c = lib.ones(3, 4, dtype=lib.float64)
    (x + c).sum().backward()
    return x.grad


def _backward_inside_no_grad(lib):
    x = leaf(lib, X)
    y = (x * x).sum()
    with lib.no_grad():
        y.backward()
    return x.grad, lib.is_grad_enabled()


def _grad_inside_no_grad_create_graph(lib):
    x = leaf(lib, X)
    y = (x ** 3).sum()
    with lib.no_grad():
        (g,) = lib.autograd.grad(y, x, create_graph=True)
    return g.requires_grad, lib.is_grad_enabled(), g.detach()


def _autograd_namespace(lib):
    ns = lib.autograd
    out = []
    with ns.no_grad():
        out.append(lib.is_grad_enabled())
        with ns.enable_grad():
            out.append(lib.is_grad_enabled())
        with ns.set_grad_enabled(True):
            out.append(lib.is_grad_enabled())
    with ns.inference_mode():
        out.append(ns.grad_mode.is_grad_enabled() if hasattr(ns.grad_mode, "is_grad_enabled") else False)
    return out


CASES = [_no_grad_context, _nested_modes, _set_grad_enabled_as_function, _set_grad_enabled_decorator, _decorators,
         _generator_decorated, _generator_enable_grad_inside_no_grad, _generator_close_and_throw,
         _mode_restored_after_exception, _context_reused, _inplace_on_leaf_in_no_grad, _inference_mode,
         _inference_mode_false_enables_grad, _inference_mode_decorators, _inference_tensor_without_saving,
         _backward_inside_no_grad, _grad_inside_no_grad_create_graph, _autograd_namespace]


@pytest.mark.parametrize("prog", CASES, ids=lambda f: f.__name__.strip("_"))
def test_grad_modes_match_torch(prog):
    run_both(prog)


def test_decorating_a_class_warns_like_torch():
    for lib in ("torch", "ember"):
        mod = __import__(lib)
        with pytest.warns(FutureWarning, match="Decorating classes is deprecated"):
            @mod.no_grad()
            class A:
                def __init__(self):
                    self.mode = mod.is_grad_enabled()
        assert A().mode is False
        assert mod.is_grad_enabled()


# ---- errors --------------------------------------------------------------------------------------------------------
def _inference_tensor_saved(lib):
    x = leaf(lib, X)
    with lib.inference_mode():
        c = lib.ones(3, 4, dtype=lib.float64)
    (x * c).sum().backward()


def _inference_tensor_inplace_outside(lib):
    with lib.inference_mode():
        c = lib.ones(3, 4)
    c.add_(1)


def _inference_tensor_version(lib):
    with lib.inference_mode():
        c = lib.ones(3, 4)
    return c._version


def _leaf_inplace_with_grad(lib):
    x = leaf(lib, X)
    x.add_(1)


def _leaf_iadd_with_grad(lib):
    x = leaf(lib, X)
    x += 1


ERRORS = [
    (_inference_tensor_saved, "Inference tensors cannot be saved for backward"),
    (_inference_tensor_inplace_outside, "Inplace update to inference tensor outside InferenceMode is not allowed"),
    (_inference_tensor_version, "Inference tensors do not track version counter"),
    (_leaf_inplace_with_grad, "a leaf Variable that requires grad is being used in an in-place operation"),
    (_leaf_iadd_with_grad, "a leaf Variable that requires grad is being used in an in-place operation"),
]


@pytest.mark.parametrize("prog,match", ERRORS, ids=[f.__name__.strip("_") for f, _ in ERRORS])
def test_grad_mode_errors_match_torch(prog, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(prog, match)


def _thread_local(lib):
    import threading
    seen = {}

    def worker():
        seen["worker_start"] = lib.is_grad_enabled()
        with lib.no_grad():
            seen["worker_inside"] = lib.is_grad_enabled()
            done.wait(5)

    done = threading.Event()
    t = threading.Thread(target=worker)
    with lib.no_grad():
        t.start()
        while "worker_inside" not in seen:
            pass
        main_in_no_grad = lib.is_grad_enabled()
    main_after = lib.is_grad_enabled()
    done.set()
    t.join()
    return seen, main_in_no_grad, main_after


def test_grad_mode_is_thread_local_like_torch():
    run_both(_thread_local)


def _record_function(lib):
    x = leaf(lib, X)
    with lib.autograd.profiler.record_function("block"):
        y = x * 2

    @lib.autograd.profiler.record_function("decorated")
    def f(t):
        return t.exp()

    (y + f(x)).sum().backward()
    with lib.autograd.set_multithreading_enabled(False):
        z = (x * 3).sum()
    return x.grad, z


def test_record_function_and_multithreading_switch_match_torch():
    run_both(_record_function)
