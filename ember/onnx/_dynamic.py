"""Dynamic axes by differential tracing: integers of the trace that change with the sizes of dynamic axes.

The forward pass is traced once as given and once more per dynamic-axis symbol with that symbol's size
changed. An integer of the trace (a reshape target, a slice bound, a constant's shape) that differs between
the runs is fitted as `coef * size + offset` of the symbol that moved it (or `coef * product of sizes` when
several moved it) and then computed in the graph from the inputs' shapes.
"""
from fractions import Fraction

import numpy as np


class SymInt:
    """coef * prod(size of each symbol in syms) + offset; `base` is its value in the traced run."""

    __slots__ = ("coef", "syms", "offset", "base")

    def __init__(self, coef, syms, offset, base):
        self.coef, self.syms, self.offset, self.base = coef, tuple(syms), offset, base

    def __repr__(self):
        return f"SymInt({self.coef} * {'*'.join(self.syms)} + {self.offset} = {self.base})"

    def is_plain(self):
        """Exactly one symbol's size (coef 1, offset 0)."""
        return self.coef == 1 and self.offset == 0 and len(self.syms) == 1


class Symbol:
    """A dynamic-axis name: its traced size, its size in its own perturbed run, and where the graph reads it."""

    __slots__ = ("name", "size", "new_size", "sources")

    def __init__(self, name, size, sources):
        self.name, self.size, self.sources, self.new_size = name, size, sources, None


class Dims:
    """The symbols of an export and the fitting of run-varying integers."""

    def __init__(self, symbols):
        self.symbols = symbols

    def fit(self, values):
        """An int (same in every run), a SymInt, or None when the values fit no supported form.

        values[0] is the traced run's value, values[1 + j] the value in symbol j's run.
        """
        base = values[0]
        if not self.symbols:
            return base if all(v == base for v in values) else None
        moved = [j for j, v in enumerate(values[1:]) if v != base]
        if not moved:
            return base
        if len(moved) == 1:
            sym = self.symbols[moved[0]]
            coef = Fraction(values[1 + moved[0]] - base, sym.new_size - sym.size)
            offset = base - coef * sym.size
            if offset.denominator != 1:
                return None
            return self._checked(SymInt(coef, (sym.name,), int(offset), base))
        syms = [self.symbols[j] for j in moved]
        denom = int(np.prod([s.size for s in syms]))
        if denom == 0:
            return None
        coef = Fraction(base, denom)
        for j, sym in zip(moved, syms):
            if coef * denom // sym.size * sym.new_size != values[1 + j]:
                return None
        return self._checked(SymInt(coef, [s.name for s in syms], 0, base))

    @staticmethod
    def _checked(s):
        if s.coef.denominator == 1 or (s.offset == 0 and s.coef.numerator == 1):
            return s
        return None

    def symbol(self, name):
        return next(s for s in self.symbols if s.name == name)
