"""detect_anomaly / set_detect_anomaly: NaN checks on every backward result, naming the forward op."""
import numpy as np

_enabled = [False]


def enabled():
    return _enabled[0]


def checked_backward(node, grads):
    result = node.backward(node, *grads)
    outs = result if isinstance(result, tuple) else (result,)
    for i, g in enumerate(outs):
        if g is not None and hasattr(g, "_data") and g._data.dtype.kind in "fc" and np.isnan(g._data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    return result


class detect_anomaly:
    """Context manager enabling NaN detection in backward."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = _enabled[0]
        _enabled[0] = self.check_nan

    def __exit__(self, *exc):
        _enabled[0] = self.prev


class set_detect_anomaly:
    def __init__(self, mode, check_nan=True):
        self.prev = _enabled[0]
        _enabled[0] = bool(mode) and check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _enabled[0] = self.prev


def is_anomaly_enabled():
    return _enabled[0]
