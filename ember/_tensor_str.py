"""Tensor printing, reproducing the output of PyTorch's ``repr(tensor)``.

Works on any tensor-like object ``t`` exposing ``t._data`` (a NumPy array),
``t.dtype`` (repr like ``'torch.float32'``, with ``is_floating_point`` and
``is_complex``), ``t.requires_grad``, ``t.grad_fn`` and ``t.is_leaf``.
"""

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np

# Set by the Tensor code to a callable returning the current default dtype.
_get_default_dtype = None


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None,
                     linewidth=None, profile=None, sci_mode=None):
    """Set options for printing (same semantics as ``torch.set_printoptions``).

    As in torch, ``sci_mode`` is always overwritten (``None`` = automatic).
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current options as a dict that can be passed to ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager temporarily changing the print options."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one common format (int / fixed / scientific) and width for all
    printed values of a (real) array, following torch's rules."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        values = np.asarray(values).reshape(-1)
        if values.size == 0:
            return
        if not floating:
            # str() length is monotonic in the value on each side of zero.
            self.max_width = max(len(str(v)) for v in (values.min().item(), values.max().item()))
            return
        vals = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if vals.size == 0:
            return
        absvals = np.abs(vals)
        vmin, vmax = float(absvals.min()), float(absvals.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        # The printed length only grows with |value| (fixed) or |exponent|
        # (scientific), so the extremes of each sign determine the width.
        candidates = []
        for part in (vals[vals > 0], vals[vals < 0]):
            if part.size:
                candidates += [part.min(), part.max()]
        p = PRINT_OPTS.precision
        for v in map(float, candidates):
            if self.sci_mode:
                width = len(f"{v:.{p}e}")
            elif self.int_mode:
                width = len(f"{v:.0f}") + 1
            else:
                width = len(f"{v:.{p}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value):
        if self.floating:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return ret.rjust(self.max_width)


def _summarized_data(a):
    """The values that will actually be shown when summarizing (flat)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a.reshape(-1)
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return a.reshape(-1)[:0]
    rows = list(a[:e]) + list(a[-e:]) if a.shape[0] > 2 * e else list(a)
    return np.concatenate([_summarized_data(r) for r in rows])


def _val_str(val, fmt1, fmt2):
    if fmt2 is None:
        return fmt1.format(val)
    real_str = fmt1.format(val.real)
    imag_str = (fmt2.format(val.imag) + "j").lstrip()
    # handles negative numbers, +0.0, -0.0
    sep = "" if imag_str[0] in "+-" else "+"
    return real_str + sep + imag_str


def _vector_str(a, indent, summarize, fmt1, fmt2):
    element_length = fmt1.max_width + 2
    if fmt2 is not None:
        element_length += fmt2.max_width + 1
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([_val_str(v, fmt1, fmt2) for v in a[:e].tolist()] + [" ..."]
                + [_val_str(v, fmt1, fmt2) for v in a[-e:].tolist()])
    else:
        data = [_val_str(v, fmt1, fmt2) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a, indent, summarize, fmt1, fmt2=None):
    if a.ndim == 0:
        return _val_str(a.item(), fmt1, fmt2)
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt1, fmt2)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        idx = list(range(e)) + [None] + list(range(a.shape[0] - e, a.shape[0]))
    else:
        idx = list(range(a.shape[0]))
    slices = ["..." if i is None else
              _tensor_str_with_formatter(a[i], indent + 1, summarize, fmt1, fmt2)
              for i in idx]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(a, indent, floating):
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold

    def make(part, is_float):
        return _Formatter(_summarized_data(part) if summarize else part, is_float)

    if a.dtype.kind == "c":
        return _tensor_str_with_formatter(a, indent, summarize,
                                          make(a.real, True), make(a.imag, True))
    return _tensor_str_with_formatter(a, indent, summarize, make(a, floating))


def _add_suffixes(tensor_str, suffixes, indent):
    parts = [tensor_str]
    # (torch's quirky estimate of the last line's length, kept for parity)
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t, prefix="tensor("):
    """The full ``repr`` of tensor-like ``t``, identical to PyTorch's."""
    a = np.asarray(t._data)
    indent = len(prefix)
    suffixes = []
    default = _get_default_dtype() if _get_default_dtype is not None else None
    dtype_str = "dtype=" + repr(t.dtype)

    if a.size == 0:
        # Explicitly print the shape if it is not (0,), to match NumPy.
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if not (t.dtype == default):
            suffixes.append(dtype_str)
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        default_complex = np.complex128 if repr(default) == "torch.float64" else np.complex64
        has_default_dtype = (t.dtype == default or a.dtype == np.int64
                             or a.dtype == np.bool_ or a.dtype == default_complex)
        if not has_default_dtype:
            suffixes.append(dtype_str)
        tensor_str = _tensor_str(a, indent, bool(t.dtype.is_floating_point))

    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        name = grad_fn.name() if hasattr(grad_fn, "name") else type(grad_fn).__name__
        suffixes.append(f"grad_fn=<{name.rsplit('::', 1)[-1]}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + tensor_str, suffixes, indent)
