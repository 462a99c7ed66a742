"""Padding layers: Constant/Zero/Reflection/Replication/Circular padding in 1, 2 and 3 dims (torch's hierarchy)."""
from .. import functional as F
from .module import Module
from .utils import _ntuple

__all__ = []


class _PadNd(Module):
    """Pads the last `_nd` dims by `padding` (left, right, top, bottom, front, back) in `_mode`."""

    __constants__ = ["padding"]
    _mode = "constant"
    _nd = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(2 * self._nd)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def _check_input_dim(self, input):
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        return F.pad(input, self.padding, "circular")


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class _ConstantPadNd(_PadNd):
    __constants__ = ["padding", "value"]

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


def _zero_init(self, padding):
    _ConstantPadNd.__init__(self, padding, 0.0)


def _define(name, bases, nd, **attrs):
    cls = type(name, bases, {"_nd": nd, "__module__": __name__, **attrs})
    globals()[name] = cls
    __all__.append(name)
    return cls


for _nd in (1, 2, 3):
    _define(f"CircularPad{_nd}d", (_CircularPadNd,), _nd)
    _define(f"ReflectionPad{_nd}d", (_ReflectionPadNd,), _nd)
    _define(f"ReplicationPad{_nd}d", (_ReplicationPadNd,), _nd)
    _const = _define(f"ConstantPad{_nd}d", (_ConstantPadNd,), _nd)
    _define(f"ZeroPad{_nd}d", (_const,), _nd, __init__=_zero_init, extra_repr=_PadNd.extra_repr)
