"""detect_anomaly / set_detect_anomaly against torch: NaN detection naming the backward node, forward traces."""
import warnings

import numpy as np
import pytest
import torch

import ember
from agtools import leaf, run_both, raises_like_torch


def _quiet_anomaly(lib, check_nan=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.autograd.detect_anomaly(check_nan=check_nan)


def _sqrt_at_zero(lib):
    x = leaf(lib, np.array([0.0, 1.0, 4.0]))
    with _quiet_anomaly(lib):
        y = x.sqrt()
        (y * 0).sum().backward()


def _nan_in_custom_backward(lib):
    class NanGrad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = leaf(lib, np.array([1.0, 2.0]))
    with _quiet_anomaly(lib):
        (NanGrad.apply(x) * 3).sum().backward()


def _nan_second_output(lib):
    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, g * float("nan")

    a, b = leaf(lib, np.ones(2)), leaf(lib, np.ones(2))
    with _quiet_anomaly(lib):
        Two.apply(a, b).sum().backward()


def _nan_in_autograd_grad(lib):
    x = leaf(lib, np.array([0.0, 1.0]))
    lib.autograd.set_detect_anomaly(True)
    try:
        lib.autograd.grad((x.sqrt() * 0).sum(), x)
    finally:
        lib.autograd.set_detect_anomaly(False)


ERRORS = [
    (_sqrt_at_zero, "Function 'SqrtBackward0' returned nan values in its 0th output."),
    (_nan_in_custom_backward, "Function 'NanGradBackward' returned nan values in its 0th output."),
    (_nan_second_output, "Function 'TwoBackward' returned nan values in its 1th output."),
    (_nan_in_autograd_grad, "Function 'SqrtBackward0' returned nan values in its 0th output."),
]


@pytest.mark.parametrize("prog,match", ERRORS, ids=[f.__name__.strip("_") for f, _ in ERRORS])
def test_anomaly_names_backward_node_like_torch(prog, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(prog, match)


def _nan_without_anomaly(lib):
    x = leaf(lib, np.array([0.0, 1.0, 4.0]))
    (x.sqrt() * 0).sum().backward()
    return x.grad


def _flags(lib):
    """(anomaly on, check_nan on): torch exports these at top level; ember in ember.autograd."""
    ns = torch if lib is torch else lib.autograd
    return ns.is_anomaly_enabled(), ns.is_anomaly_check_nan_enabled()


def _check_nan_off(lib):
    x = leaf(lib, np.array([0.0, 1.0, 4.0]))
    with _quiet_anomaly(lib, check_nan=False):
        (x.sqrt() * 0).sum().backward()
        inside = _flags(lib)
    return x.grad, inside, _flags(lib)


def _anomaly_flags(lib):
    out = [_flags(lib)]
    with _quiet_anomaly(lib):
        out.append(_flags(lib))
        with lib.autograd.set_detect_anomaly(False):
            out.append(_flags(lib))
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            out.append(_flags(lib))
        out.append(_flags(lib))
    out.append(_flags(lib))
    return out


def _clean_backward_under_anomaly(lib):
    x = leaf(lib, np.array([0.5, 1.0, 4.0]))
    with _quiet_anomaly(lib):
        (x.sqrt() * x.exp()).sum().backward()
    return x.grad


@pytest.mark.parametrize("prog", [_nan_without_anomaly, _check_nan_off, _anomaly_flags, _clean_backward_under_anomaly],
                         ids=["nan_without_anomaly", "check_nan_off", "flags", "clean_backward"])
def test_anomaly_mode_matches_torch(prog):
    run_both(prog)


def _top_level_anomaly_switches(lib):
    states = []
    try:
        for args in [(True, False), (False,), (True,), (False, False)]:
            lib.set_anomaly_enabled(*args)
            states.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
    finally:
        lib.set_anomaly_enabled(False)
    return states


def test_top_level_anomaly_functions():
    run_both(_top_level_anomaly_switches)


def test_detect_anomaly_warns_on_construction_like_torch():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled. This mode will increase the runtime "
                                             "and should only be enabled for debugging."):
            lib.autograd.detect_anomaly()


def _forward_site_of_sqrt(lib):
    x = leaf(lib, np.array([0.0, 1.0]))
    with _quiet_anomaly(lib):
        y = x.sqrt()  # FORWARD-SITE-MARKER
        (y * 0).sum().backward()


def _forward_site_of_custom(lib):
    class Boom(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom in backward")

    x = leaf(lib, np.array([1.0]))
    with _quiet_anomaly(lib):
        y = Boom.apply(x)  # FORWARD-SITE-MARKER
        y.sum().backward()


@pytest.mark.parametrize("prog,node,exc", [(_forward_site_of_sqrt, "SqrtBackward0", RuntimeError),
                                           (_forward_site_of_custom, "BoomBackward", ValueError)],
                         ids=["nan", "exception"])
def test_error_warns_with_forward_traceback_like_torch(prog, node, exc):
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(exc):
                prog(lib)
        texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        hits = [t for t in texts if t.startswith(f"Error detected in {node}. Traceback of forward call that caused "
                                                 "the error:")]
        assert hits, f"{lib.__name__}: {texts}"
        assert "FORWARD-SITE-MARKER" in hits[0] or prog.__name__ in hits[0], hits[0]


def test_node_metadata_is_a_dict():
    for lib in (torch, ember):
        node = (leaf(lib, np.ones(2)) * 2).grad_fn
        assert node.metadata == {}
        node.metadata["key"] = 1
        assert node.metadata["key"] == 1
