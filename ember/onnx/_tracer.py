"""Recording one forward pass as a flat list of op calls, the input of ember.onnx's graph builder.

While a Tracer runs (on its own thread), `Function.apply`, `Tensor._inplace`, `Tensor._make_view` and two
module hooks are wrapped; nothing is wrapped otherwise, so ember pays nothing when not exporting. Every call of an internal
op is recorded with its arguments, each tensor replaced by a TRef saying where it comes from: a graph input,
an earlier op's output, a parameter/buffer (by state-dict name) or a constant (a snapshot of its data). An op
none of whose tensors depends on the graph inputs is folded: its outputs are constants. Modules with a
module-level converter are recorded too, around the ops they run, so the converter can replace those ops.
"""
import threading

import numpy as np

from .._tensor import Tensor
from ..autograd import function as _function
from ..autograd.grad_mode import STATE, no_grad
from ..nn.modules import module as _module
from .errors import SymbolicValueError, UnsupportedOperatorError

LIVE = ("input", "value")
_LOCK = threading.Lock()


class TRef:
    """Where a tensor seen by an op comes from: kind 'input' | 'value' | 'param' | 'folded' | 'const', and its key.

    'folded' is the output (op index, output index) of a folded op and 'const' a tensor made outside the ops;
    both carry a snapshot of their data.
    """

    __slots__ = ("kind", "key", "shape", "dtype", "data")

    def __init__(self, kind, key, arr, data=None):
        self.kind, self.key, self.data = kind, key, data
        self.shape, self.dtype = tuple(arr.shape), arr.dtype

    def __repr__(self):
        return f"TRef({self.kind}, {self.key!r}, {self.shape}, {self.dtype})"


class OpCall:
    """One recorded call: an op (Function subclass) or a module with a module-level converter.

    `args` holds the call's arguments with TRefs for tensors; `out` the (shape, dtype) of each tensor output
    (None for other outputs) or, for a module record, its outputs as TRefs; a module record's own ops are
    the calls `index + 1 .. end - 1`.
    """

    __slots__ = ("fn", "args", "out", "path", "mtype", "folded", "index", "end", "module")

    def __init__(self, fn, args, path, mtype, index, module=None):
        self.fn, self.args, self.path, self.mtype, self.index, self.module = fn, args, path, mtype, index, module
        self.out, self.folded, self.end = (), False, None

    @property
    def name(self):
        return self.fn.__name__


def _flatten(obj):
    """Tensors of a nested tuple/list/dict structure, in order."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _flatten(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _flatten(o)]
    return []


class Tracer:
    """Records the op calls of one forward pass (`run`) on the calling thread."""

    # ndarray arguments that carry a tensor's data (index arrays taken from an index tensor's `_data`)
    ARRAY_ARGS = {}

    def __init__(self, model, params, fold_params, module_types):
        self.names = {id(m): n for n, m in model.named_modules()}
        self.root = model
        self.params = {id(t): n for n, t in params}
        self.fold_params = fold_params
        self.module_types = tuple(module_types)
        self.ops, self.outputs = [], []
        self.known = {}     # id(tensor) -> (kind, key, tensor, version counter, version)
        self.arrays = {}    # id(ndarray) -> (kind, key, tensor)
        for name, t in params:
            self.arrays[id(t._data)] = ("param", name, t)
        self.stack, self.capture = [], []
        self.depth = 0
        self.thread = None

    # ---- bindings ------------------------------------------------------------------------------------------------
    def bind(self, t, kind, key):
        vc = t._vc_get()
        self.known[id(t)] = (kind, key, t, vc, vc[0])
        self.arrays[id(t._data)] = (kind, key, t)

    def _rebind_view(self, out):
        """A view op's output now shares its base's version counter: its version is counted from there."""
        entry = self.known.get(id(out))
        if entry is not None:
            self.known[id(out)] = entry[:3] + (out._vc, out._vc[0])

    def live(self, ref):
        return isinstance(ref, TRef) and (ref.kind in LIVE or (ref.kind == "param" and not self.fold_params))

    def ref(self, t):
        """The TRef of tensor t as an op argument now (constants are snapshotted)."""
        entry = self.known.get(id(t))
        if entry is not None:
            kind, key, _, vc, ver = entry
            if t._vc is not vc or vc[0] != ver:
                raise SymbolicValueError(f"ONNX export: a tensor used in module '{self.path()}' ({self.mtype()}) "
                                         "was modified in place through a view or outside ember's ops; the export "
                                         "would not see the change")
            latest = self.arrays.get(id(t._data))
            if latest is not None and latest[1] != key:  # its memory was rebound by a later op or in-place write
                kind, key = latest[0], latest[1]
            return self._tref(kind, key, t._data)
        name = self.params.get(id(t))
        if name is not None:
            return TRef("param", name, t._data)
        entry = self.arrays.get(id(t._data))
        if entry is not None:
            return self._tref(entry[0], entry[1], t._data)
        self._check_not_derived(t._data)
        return TRef("const", None, t._data, np.array(t._data, copy=True))

    @staticmethod
    def _tref(kind, key, arr):
        return TRef(kind, key, arr, np.array(arr, copy=True) if kind == "folded" else None)

    def _check_not_derived(self, arr):
        """A tensor whose memory is a view of a traced value was made outside the traced ops: refuse it."""
        base = arr.base
        while isinstance(base, np.ndarray):
            entry = self.arrays.get(id(base))
            if entry is not None and entry[0] in LIVE:
                raise SymbolicValueError(f"ONNX export: a tensor in module '{self.path()}' ({self.mtype()}) views "
                                         "the memory of a traced value but was made outside ember's traced ops")
            base = base.base

    def _nested(self, obj):
        if isinstance(obj, Tensor):
            return self.ref(obj)
        if isinstance(obj, (tuple, list)):
            return type(obj)(self._nested(o) for o in obj)
        return obj

    def _array_arg(self, cls, i, a):
        """An index ndarray taken from a tensor's data: the TRef of the one traced tensor holding these values."""
        if not isinstance(a, np.ndarray) or i not in self.ARRAY_ARGS.get(cls, ()):
            return a
        entry = self.arrays.get(id(a))
        if entry is not None and entry[0] != "param":
            return self._tref(entry[0], entry[1], a)
        for kinds in (LIVE, ("folded",)):
            matches = {(kind, key) for kind, key, t, _, _ in self.known.values() if kind in kinds and
                       t._data.shape == a.shape and t._data.dtype.kind in "iub" and np.array_equal(t._data, a)}
            if len(matches) == 1:
                kind, key = matches.pop()
                return self._tref(kind, key, a)
        return a

    # ---- module context --------------------------------------------------------------------------------------------
    def path(self):
        return self.names.get(id(self.stack[-1]), "?") if self.stack else ""

    def mtype(self):
        return type(self.stack[-1] if self.stack else self.root).__name__

    def _pre_hook(self, module, args):
        if not self.here():
            return None
        self.stack.append(module)
        if self.depth == 0 and not self.capture and isinstance(module, self.module_types):
            call = OpCall(type(module), self._nested(args), self.path(), self.mtype(), len(self.ops), module)
            self.ops.append(call)
            self.capture.append((module, call))
        return None

    def _post_hook(self, module, args, result):
        if not self.here() or not self.stack or self.stack[-1] is not module:
            return None
        if self.capture and self.capture[-1][0] is module:
            _, call = self.capture.pop()
            call.end = len(self.ops)
            call.out = self._nested(result) if result is not None else None
            call.folded = all(self.ops[k].folded for k in range(call.index + 1, call.end))
        self.stack.pop()
        return None

    # ---- recording -------------------------------------------------------------------------------------------------
    def here(self):
        return self.thread == threading.get_ident()

    def _apply(self, raw_apply, cls, args, kwargs):
        if not cls._raw:
            return self._apply_user(raw_apply, cls, args, kwargs)
        if self.depth:
            return raw_apply(cls, *args, **kwargs)
        self.depth += 1
        try:
            out = raw_apply(cls, *args, **kwargs)
        finally:
            self.depth -= 1
        self._record(cls, args, out)
        return out

    def _apply_user(self, raw_apply, cls, args, kwargs):
        """A user autograd.Function is inlined: its own ember ops are recorded; untraced outputs are an error."""
        out = raw_apply(cls, *args, **kwargs)
        inputs = _flatten(list(args) + list(kwargs.values()))
        if any(self.live(self._peek(t)) for t in inputs):
            for o in _flatten(out):
                if not self.live(self._peek(o)):
                    raise UnsupportedOperatorError(cls.__name__, self.path(), self.mtype(),
                                                   "its forward computes outside ember's ops")
        return out

    def _peek(self, t):
        """The kind of tensor t without snapshotting it ('const' when unknown)."""
        entry = self.known.get(id(t)) or self.arrays.get(id(t._data))
        if entry is not None:
            return TRef(entry[0], entry[1], t._data)
        if id(t) in self.params:
            return TRef("param", self.params[id(t)], t._data)
        return TRef("const", None, t._data)

    def _record(self, cls, args, out):
        idx = len(self.ops)
        refs = tuple(self.ref(a) if isinstance(a, Tensor) else self._array_arg(cls, i, a) for i, a in enumerate(args))
        call = OpCall(cls, refs, self.path(), self.mtype(), idx)
        outs = out if type(out) is tuple else (out,)
        call.out = tuple((tuple(o._data.shape), o._data.dtype) if isinstance(o, Tensor) else None for o in outs)
        call.folded = not any(self.live(r) for r in refs)
        self.ops.append(call)
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                self.bind(o, "folded" if call.folded else "value", (idx, i))

    def _inplace(self, raw_inplace, t, fn, args, kwargs):
        """An in-place op: t now holds the result of the op it ran (or a constant)."""
        results = []

        def capture(*a, **k):
            r = fn(*a, **k)
            results.append(r)
            return r

        res = raw_inplace(t, capture, *args, **kwargs)
        entry = self.known.get(id(results[-1])) if results and isinstance(results[-1], Tensor) else None
        if entry is not None:
            self.bind(t, entry[0], entry[1])
        else:
            self.known.pop(id(t), None)
            self.arrays.pop(id(t._data), None)
        return res

    # ---- activation --------------------------------------------------------------------------------------------------
    def run(self, fn, inputs):
        """Call fn() with the hooks installed; `inputs` (tensors) are the graph inputs in order."""
        with _LOCK:
            self.thread = threading.get_ident()
            for i, t in enumerate(inputs):
                self.bind(t, "input", i)
            patches = self._install()
            prev = (STATE.tracing, STATE.fast)
            STATE.tracing, STATE.fast = True, False
            try:
                with no_grad():
                    result = fn()
                self.outputs = [self.ref(t) for t in _flatten(result)]
                return result
            finally:
                STATE.tracing, STATE.fast = prev
                self._uninstall(patches)
                self.thread = None

    def _install(self):
        tracer = self
        orig_apply = _function.Function.__dict__["apply"]
        orig_inplace = Tensor.__dict__["_inplace"]
        orig_make_view = Tensor.__dict__["_make_view"]
        raw_apply = orig_apply.__func__

        def apply(cls, *args, **kwargs):
            if tracer.here():
                return tracer._apply(raw_apply, cls, args, kwargs)
            return raw_apply(cls, *args, **kwargs)

        def _inplace(t, fn, *args, **kwargs):
            if tracer.here():
                return tracer._inplace(orig_inplace, t, fn, args, kwargs)
            return orig_inplace(t, fn, *args, **kwargs)

        def _make_view(t, out, view_fn):
            res = orig_make_view(t, out, view_fn)
            if tracer.here():
                tracer._rebind_view(out)
            return res

        _function.Function.apply = classmethod(apply)
        Tensor._inplace = _inplace
        Tensor._make_view = _make_view
        handles = (_module.register_module_forward_pre_hook(self._pre_hook),
                   _module.register_module_forward_hook(self._post_hook, always_call=True))
        return orig_apply, orig_inplace, orig_make_view, handles

    @staticmethod
    def _uninstall(patches):
        orig_apply, orig_inplace, orig_make_view, handles = patches
        _function.Function.apply = orig_apply
        Tensor._inplace = orig_inplace
        Tensor._make_view = orig_make_view
        for h in handles:
            h.remove()
