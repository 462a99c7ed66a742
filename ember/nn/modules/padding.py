"""Padding layers: Constant/Zero/Reflection/Replication/Circular padding in 1, 2 and 3 dims."""
from .. import functional as F
from .._functional.utils import ntuple
from .module import Module

__all__ = []


class _PadNd(Module):
    __constants__ = ["padding", "value"]
    mode = "constant"
    value = 0.0

    def forward(self, input):
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        if self.mode == "constant" and type(self).__name__.startswith("Constant"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


def _make_pad(name, nd, mode, with_value=False):
    tup = ntuple(2 * nd)

    def __init__(self, padding, value=None):
        Module.__init__(self)
        self.padding = tup(padding)
        if with_value:
            self.value = value

    if with_value:
        def init(self, padding, value):
            __init__(self, padding, value)
    else:
        def init(self, padding):
            __init__(self, padding)
    cls = type(name, (_PadNd,), {"__init__": init, "mode": mode})
    cls.__module__ = __name__
    return cls


for _nd in (1, 2, 3):
    for _prefix, _mode, _val in (("Constant", "constant", True), ("Zero", "constant", False),
                                 ("Reflection", "reflect", False), ("Replication", "replicate", False),
                                 ("Circular", "circular", False)):
        _name = f"{_prefix}Pad{_nd}d"
        globals()[_name] = _make_pad(_name, _nd, _mode, _val)
        __all__.append(_name)
