"""TorchVersion: a version string that compares as a version (with strings, tuples and packaging's Version), as
torch.__version__ does, so `torch.__version__ >= "2.2"` means what scripts mean by it."""
import re

_RELEASE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


def _release(v):
    """The numeric release tuple of a version string, tuple or Version-like object, or None if it has none."""
    if isinstance(v, str):
        m = _RELEASE.match(v)
        return tuple(int(p) for p in m.group(1).split(".")) if m else None
    if hasattr(v, "release"):
        return tuple(v.release)
    if isinstance(v, (tuple, list)):
        try:
            return tuple(int(p) for p in v)
        except (TypeError, ValueError):
            return None
    return None


def _padded(a, b):
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


class TorchVersion(str):
    __slots__ = ()

    def _cmp(self, other, op, str_op):
        a, b = _release(str(self)), _release(other)
        if a is None or b is None:
            return getattr(str, str_op)(self, other)
        return op(*_padded(a, b))

    def __lt__(self, other):
        return self._cmp(other, lambda a, b: a < b, "__lt__")

    def __le__(self, other):
        return self._cmp(other, lambda a, b: a <= b, "__le__")

    def __gt__(self, other):
        return self._cmp(other, lambda a, b: a > b, "__gt__")

    def __ge__(self, other):
        return self._cmp(other, lambda a, b: a >= b, "__ge__")

    def __eq__(self, other):
        return self._cmp(other, lambda a, b: a == b, "__eq__")

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__
