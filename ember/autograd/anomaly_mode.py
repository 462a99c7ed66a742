"""detect_anomaly / set_detect_anomaly: NaN checks on every backward result, naming the failing node.

While anomaly mode is on, every recorded node keeps the stack of the forward call that created it
(`node.metadata["traceback_"]`), and an error raised in its backward is preceded by a warning that shows it.
"""
import traceback
import warnings

import numpy as np

_enabled = [False]
_check_nan = [True]


def enabled():
    return _enabled[0]


def is_anomaly_enabled():
    return _enabled[0]


def is_anomaly_check_nan_enabled():
    return _check_nan[0]


def forward_stack():
    """The formatted stack of the current forward call (recorded on nodes in anomaly mode)."""
    return "".join(traceback.format_stack()[:-3])


def check_nan(node, grads):
    """Raise if a gradient computed by `node` contains NaN (only when check_nan is on)."""
    if not _check_nan[0]:
        return
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind in "fc" and np.isnan(g._data).any():
            report_forward_trace(node)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def report_forward_trace(node):
    """Warn with the forward stack of `node`, as PyTorch does before re-raising a backward error."""
    meta = node.metadata
    tb = meta.get("traceback_") if meta else None
    if tb:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{tb}",
                      UserWarning, stacklevel=2)


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off (torch.set_anomaly_enabled)."""
    if not isinstance(enabled, bool):
        raise TypeError(f"set_anomaly_enabled(): argument 'enabled' (position 1) must be bool, not "
                        f"{type(enabled).__name__}")
    _enabled[0], _check_nan[0] = enabled, bool(check_nan)


class detect_anomaly:
    """Context manager that turns anomaly detection on for its block."""

    def __init__(self, check_nan=True):
        self.prev, self.prev_check_nan = _enabled[0], _check_nan[0]
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Turn anomaly detection on or off, at once and as a context manager."""

    def __init__(self, mode, check_nan=True):
        self.prev, self.prev_check_nan = _enabled[0], _check_nan[0]
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
