"""Turning the recorded op calls into ONNX nodes, run by run checked against the other traces.

The Emitter walks the traced run's calls in order and calls each op's converter. Before converting an op it
compares the op with the same call of every other run (one run per dynamic-axis symbol, or one run with
shuffled input values when there is none): the same op, fed from the same places; non-tensor arguments equal
unless the converter reads them as possibly dynamic integers; constants equal (a constant filled with one
value whose shape follows a dynamic axis becomes a ConstantOfShape). Anything else would be silently wrong
for other inputs, so it is an error.
"""
import numpy as np

from . import _registry
from ._dynamic import SymInt
from ._tracer import TRef
from .errors import SymbolicValueError, UnsupportedOperatorError

INT64_MAX = np.iinfo(np.int64).max


class Unsupported(Exception):
    """Raised by a converter for an argument combination it cannot express (becomes UnsupportedOperatorError)."""


def same(a, b):
    """Structural equality of recorded arguments (numbers, tuples, arrays, plain objects)."""
    if isinstance(a, TRef) or isinstance(b, TRef):
        return isinstance(a, TRef) and isinstance(b, TRef) and a.kind == b.kind and a.key == b.key
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (type(a) is type(b) and len(a) == len(b)) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if type(a) is not type(b):
        return False
    if isinstance(a, (int, str, bool, bytes, type(None), slice, np.dtype, np.generic, type)) or a is Ellipsis:
        return a == b
    if hasattr(a, "__dict__") or hasattr(a, "__slots__"):
        return same(_fields(a), _fields(b))
    return a == b


def _fields(obj):
    if hasattr(obj, "__dict__"):
        return [obj.__dict__[k] for k in sorted(obj.__dict__)]
    return [getattr(obj, k, None) for k in obj.__slots__]


class Emitter:
    """Converts the traced run (`runs[0]`) into nodes of `g`, using the other runs for dynamic sizes."""

    def __init__(self, g, runs, dims, input_names, params, export_params):
        self.g, self.runs, self.dims = g, runs, dims
        self.ops = runs[0].ops
        self.input_names = input_names
        self.params, self.export_params = params, export_params
        self.vals = {}
        self.param_names = {}
        self.const_override = {}
        self.sizes = {}
        self.used = self._used_keys()

    # ---- bookkeeping -----------------------------------------------------------------------------------------------
    def _used_keys(self):
        used = set()
        for run_op in self.ops:
            for a in _walk(run_op.args):
                if isinstance(a, TRef) and a.kind == "value":
                    used.add(a.key)
            if run_op.end is not None and isinstance(run_op.out, (tuple, list, TRef)):
                used.update(r.key for r in _walk(run_op.out) if isinstance(r, TRef) and r.kind == "value")
        used.update(r.key for r in self.runs[0].outputs if r.kind == "value")
        return used

    def is_used(self, op, i):
        return (op.index, i) in self.used

    def alts(self, op):
        return [run.ops[op.index] for run in self.runs[1:]]

    def unsupported(self, op, detail=""):
        return UnsupportedOperatorError(op.name, op.path, op.mtype, detail)

    # ---- values ----------------------------------------------------------------------------------------------------
    def x(self, ref):
        """The ONNX name of a TRef."""
        if ref.kind == "value":
            return self.vals[ref.key]
        if ref.kind == "input":
            return self.input_names[ref.key]
        if ref.kind == "param":
            return self.param(ref.key)
        name = self.const_override.get(id(ref))
        return name if name is not None else self.g.const(ref.data)

    def param(self, name):
        if name not in self.param_names:
            arr = self.params[name]._data
            if self.export_params:
                self.param_names[name] = self.g.initializer(name, arr, self.g.fold)
            else:
                self.param_names[name] = self.g.input(name, arr)
        return self.param_names[name]

    def set(self, op, i, name):
        self.vals[(op.index, i)] = name

    def set_ref(self, ref, name):
        """Bind a module record's output TRef (the output of one of its own ops)."""
        if ref.kind == "value":
            self.vals[ref.key] = name

    # ---- dynamic integers ------------------------------------------------------------------------------------------
    def ints(self, op, getter):
        """getter(call) evaluated on op in every run: an int/SymInt, or a list of them for a sequence."""
        vals = [getter(op)] + [getter(a) for a in self.alts(op)]
        if isinstance(vals[0], (tuple, list)):
            if any(len(v) != len(vals[0]) for v in vals):
                raise self._dyn_error(op, "a sequence length")
            return [self._fit(op, [v[k] for v in vals]) for k in range(len(vals[0]))]
        return self._fit(op, vals)

    def same_in_runs(self, op, getter, what="an argument"):
        """getter(call) must be the same in every run (else the export would freeze a run-dependent value)."""
        v = getter(op)
        for alt in self.alts(op):
            if not same(v, getter(alt)):
                raise self._dyn_error(op, what)
        return v

    def _fit(self, op, values):
        r = self.dims.fit([int(v) for v in values])
        if r is None:
            raise self._dyn_error(op, f"an integer ({values[0]})")
        return r

    def _dyn_error(self, op, what):
        return SymbolicValueError(f"ONNX export: {what} used by op '{op.name}' in module '{op.path}' ({op.mtype}) "
                                  "changes between traces with other input values or dynamic-axis sizes in a way "
                                  "the exporter cannot express")

    def size(self, sym):
        """int64 [1]: the size of a dynamic-axis symbol, read from the first input that has it."""
        if sym not in self.sizes:
            s = self.dims.symbol(sym)
            i, axis = s.sources[0]
            self.sizes[sym] = self.g.op("Shape", [self.input_names[i]], start=axis, end=axis + 1)
        return self.sizes[sym]

    def dyn(self, v):
        """int64 [1] tensor holding an int or SymInt."""
        if not isinstance(v, SymInt):
            return self.g.ints([v])
        out = self.size(v.syms[0])
        for s in v.syms[1:]:
            out = self.g.op("Mul", [out, self.size(s)])
        if v.coef.denominator != 1:
            out = self.g.op("Div", [out, self.g.ints([v.coef.denominator])])
        elif v.coef != 1:
            out = self.g.op("Mul", [out, self.g.ints([int(v.coef)])])
        if v.offset:
            out = self.g.op("Add", [out, self.g.ints([v.offset])])
        return out

    def shape_tensor(self, entries, reshape=False):
        """int64 1-D tensor of the entries; for a Reshape target a single dynamic entry becomes -1."""
        dyn = [k for k, v in enumerate(entries) if isinstance(v, SymInt)]
        if not dyn:
            return self.g.ints(entries)
        if reshape and len(dyn) == 1:
            return self.g.ints([-1 if isinstance(v, SymInt) else v for v in entries])
        parts, run = [], []
        for v in entries:
            if isinstance(v, SymInt):
                if run:
                    parts.append(self.g.ints(run))
                    run = []
                parts.append(self.dyn(v))
            else:
                run.append(v)
        if run:
            parts.append(self.g.ints(run))
        return self.g.op("Concat", parts, axis=0)

    # ---- checks against the other runs ------------------------------------------------------------------------------
    def check_call(self, op, dynamic=()):
        """op is the same call in every run (see the module docstring); registers dynamic fill constants."""
        for alt in self.alts(op):
            if alt.fn is not op.fn or len(alt.args) != len(op.args) or alt.folded != op.folded:
                raise self._trace_differs(op)
            for i, (a, b) in enumerate(zip(op.args, alt.args)):
                if isinstance(a, TRef) != isinstance(b, TRef):
                    raise self._trace_differs(op, i)
                if isinstance(a, TRef) and a.kind == "const" and b.kind == "const":
                    continue
                if i in dynamic and not isinstance(a, TRef):
                    continue
                if not same(a, b):
                    raise self._trace_differs(op, i)
        for i, a in enumerate(op.args):
            if isinstance(a, TRef) and a.kind in ("const", "folded"):
                self.check_const(op, [a] + [alt.args[i] for alt in self.alts(op)], f"argument {i} of op '{op.name}'")

    def check_const(self, op, refs, what):
        """A constant must be the same in every run; a folded op's output that is not gets computed in the graph.

        `what` names the constant in messages (op gives the module context)."""
        ref = refs[0]
        datas = [r.data for r in refs]
        if all(d.shape == ref.data.shape and np.array_equal(d, ref.data, equal_nan=True) for d in datas):
            return
        if ref.kind == "folded":
            self.const_override[id(ref)] = self.materialize(ref.key)
            return
        flat = [d.reshape(-1) for d in datas]
        fill = flat[0][0] if flat[0].size else None
        if fill is None or any(f.size == 0 or not (f == fill).all() for f in flat) or \
                any(len(d.shape) != len(ref.data.shape) for d in datas):
            raise SymbolicValueError(f"ONNX export: {what} in module '{op.path}' ({op.mtype}) is a constant computed "
                                     "outside ember's traced ops from the input (or at random); the exported graph "
                                     "would freeze its value")
        entries = [self._fit(op, [d.shape[k] for d in datas]) for k in range(len(ref.data.shape))]
        from onnx import numpy_helper
        self.const_override[id(ref)] = self.g.op("ConstantOfShape", [self.shape_tensor(entries)],
                                                 value=numpy_helper.from_array(np.asarray([fill], ref.dtype)))

    def materialize(self, key):
        """The graph value of a folded op's output (its op converted after all, once)."""
        if key not in self.vals:
            scope = self.g.scope
            self.convert(self.ops[key[0]])
            self.g.scope = scope
        return self.vals[key]

    def _trace_differs(self, op, i=None):
        what = "the traced ops" if i is None else f"argument {i}"
        return SymbolicValueError(f"ONNX export: {what} of op '{op.name}' in module '{op.path}' ({op.mtype}) "
                                  "differ between traces with other input values or dynamic-axis sizes (control "
                                  "flow or values that depend on the input outside ember's traced ops)")

    # ---- the walk --------------------------------------------------------------------------------------------------
    def check_structure(self):
        for run in self.runs[1:]:
            if len(run.ops) != len(self.ops) or any(a.fn is not b.fn for a, b in zip(run.ops, self.ops)):
                k = next((k for k, (a, b) in enumerate(zip(run.ops, self.ops)) if a.fn is not b.fn),
                         min(len(run.ops), len(self.ops)))
                op = self.ops[min(k, len(self.ops) - 1)]
                raise self._trace_differs(op)

    def emit(self):
        k = 0
        while k < len(self.ops):
            op = self.ops[k]
            self.g.scope = _scope(op)
            if op.end is not None:
                conv = _registry.MODULES.get(op.fn)
                if op.folded:
                    k = op.end
                elif conv is not None and conv(self, op) is not NotImplemented:
                    k = op.end
                else:
                    k += 1
                continue
            if not op.folded:
                self.convert(op)
            k += 1

    def convert(self, op):
        conv = _registry.lookup(op.fn)
        if conv is None:
            raise self.unsupported(op)
        self.check_call(op, conv.dynamic)
        self.g.scope = _scope(op)
        try:
            conv.fn(self, op)
        except Unsupported as e:
            raise self.unsupported(op, str(e)) from None
        for i, meta in enumerate(op.out):
            if meta is not None and self.is_used(op, i) and (op.index, i) not in self.vals:
                raise self.unsupported(op, f"output {i} is not produced by the converter")


def _scope(op):
    return "/" + op.path.replace(".", "/") if op.path else ""


def _walk(obj):
    if isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _walk(o)
    else:
        yield obj
