"""Argument normalisation shared by the functional forms (the one padding-arithmetic helper)."""
import collections.abc
from itertools import repeat


def ntuple(n, name="parse"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))
    parse.__name__ = name
    return parse


_single = ntuple(1, "_single")
_pair = ntuple(2, "_pair")
_triple = ntuple(3, "_triple")
_ntuple = ntuple


def reverse_repeat_tuple(t, n):
    """(a, b) -> (b, b, a, a) for n=2: F.pad's order from per-dim amounts."""
    return tuple(x for x in reversed(t) for _ in range(n))


def same_padding(kernel_size, dilation):
    """Per-dim (lo, hi) zero padding for padding='same' (the extra element goes on the high side)."""
    pads = []
    for k, d in zip(kernel_size, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def dim_name(x):
    return "x".join(str(s) for s in x)
