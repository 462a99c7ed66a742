"""Converter registry: op (Function subclass) or module class -> function emitting its ONNX nodes.

An op converter is `fn(e, op)` (e: the Emitter, op: the recorded OpCall); it binds every output it produces
with `e.set(op, i, name)`. `dynamic` lists the argument positions the converter reads through `e.ints`, so
they may change with the sizes of dynamic axes; any other non-tensor argument must be the same in every run.
A module converter may return NotImplemented to fall back to the module's own recorded ops.
"""
from ._tracer import Tracer

OPS = {}
MODULES = {}


class Converter:
    __slots__ = ("fn", "dynamic")

    def __init__(self, fn, dynamic):
        self.fn, self.dynamic = fn, frozenset(dynamic)


def op(*classes, dynamic=(), arrays=()):
    """Register fn for the given op classes; `arrays`: ndarray argument positions that carry index tensors."""

    def deco(fn):
        for cls in classes:
            OPS[cls] = Converter(fn, dynamic)
            if arrays:
                Tracer.ARRAY_ARGS[cls] = frozenset(arrays)
        return fn

    return deco


def module(*classes):
    def deco(fn):
        for cls in classes:
            MODULES[cls] = fn
        return fn

    return deco


def lookup(cls):
    """The converter of cls or of its nearest registered base class."""
    for c in cls.__mro__:
        conv = OPS.get(c)
        if conv is not None:
            return conv
    return None
