"""autograd.Function: the node type of the graph, for users and for ember's own ops alike.

An instance of a Function subclass is both the `ctx` seen by forward/backward and the `grad_fn`
node of its outputs. Ops with `_raw = True` (ember's internal ops) get ndarrays in forward and
return ndarrays; user Functions get and return Tensors, exactly as in PyTorch.
"""
import functools
import re
import inspect
import itertools
from collections import OrderedDict

import numpy as np

from .grad_mode import STATE, no_grad
from . import anomaly_mode
from .anomaly_mode import _enabled as _anomaly_enabled
from ..utils.hooks import RemovableHandle

_seq_counter = itertools.count()
_new = object.__new__
Tensor = None  # set by ember._tensor


FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
             "have already been freed). Saved intermediate values of the graph are freed when you call "
             ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
             "graph a second time or if you need to access saved tensors after calling backward.")


_INFERENCE_SAVE_MSG = ("Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                       "inference mode in computation tracked by autograd. To work around this, you can make a clone "
                       "to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
                       "`torch.inference_mode()`.")


def _unpack_input(saved):
    """The tensor of a saved input entry (tensor, version counter, version at saving), checked unmodified."""
    tensor, vc, version = saved
    if vc[0] != version:
        raise RuntimeError(_modified_message(tensor._data, vc, version, tensor._grad_fn, tensor._output_nr))
    return tensor


class _Saved:
    """A saved output: its data (not the tensor, to avoid a reference cycle) and version, rebuilt on unpacking.
    (A saved input is a plain tuple (tensor, version counter, version): cheaper, and most saves are inputs.)"""

    __slots__ = ("data", "vc", "version", "output_nr")

    def __init__(self, data, vc, output_nr):
        self.data, self.vc, self.version, self.output_nr = data, vc, vc[0], output_nr

    def unpack(self, node):
        if self.vc[0] != self.version:
            raise RuntimeError(_modified_message(self.data, self.vc, self.version, node, self.output_nr))
        t = Tensor._make(self.data, True)
        t._grad_fn, t._output_nr, t._vc = node, self.output_nr, self.vc
        return t


def _modified_message(data, vc, version, producer, nr):
    """PyTorch's text for a saved tensor (output nr of node producer) modified in place before backward."""
    which = f", which is output {nr} of {producer._error_name()}," if producer is not None else ""
    if anomaly_mode.enabled():
        hint = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. "
                "The variable in question was changed in there or anywhere later. Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
                "with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{_legacy_type_name(data.dtype)} {list(data.shape)}]{which} is at version {vc[0]}; expected "
            f"version {version} instead. {hint}")


SAVED_TENSORS_HOOKS = {"stack": [], "disabled": None}
_HOOK_STACK = SAVED_TENSORS_HOOKS["stack"]

# The types whose instances a node frees after backward (ndarray, Tensor and its subclasses, added by Tensor).
HELD_TYPES = {np.ndarray}
# Node attributes that never hold an array or Tensor themselves (ints, tuples, lists): _release skips a node that
# has only these.
_NO_ARRAY_KEYS = frozenset(("_edges", "_seq", "_out_meta", "_saved", "shapes", "scalars", "in_shape", "meta",
                            "needs_input_grad", "_tensor_args", "dim"))


class _PackedSaved:
    """A tensor saved inside autograd.graph.saved_tensors_hooks: kept as whatever pack_hook returned.

    Unpacking gives the tensor its autograd history back (the saving node for outputs, the producer for
    inputs). A saved leaf comes back as the leaf itself when unpack_hook returns it; otherwise as a new
    tensor that is not connected to the leaf (so double backward through it does not reach the leaf).
    """

    __slots__ = ("packed", "unpack_hook", "output_nr", "fn", "nr", "rg")

    def __init__(self, tensor, hooks, output_nr=None):
        pack_hook, self.unpack_hook = hooks
        self.output_nr = output_nr
        self.fn = None if output_nr is not None else tensor._grad_fn
        self.nr, self.rg = tensor._output_nr, tensor._rg
        with no_grad():
            self.packed = pack_hook(tensor)

    def unpack(self, node):
        t = self.unpack_hook(self.packed)
        if not isinstance(t, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        fn, nr = (node, self.output_nr) if self.output_nr is not None else (self.fn, self.nr)
        if fn is None:
            return t if t._rg == self.rg else Tensor._make(t._data, self.rg)
        if t._grad_fn is fn and t._output_nr == nr:
            return t
        out = Tensor._make(t._data, True)
        out._grad_fn, out._output_nr = fn, nr
        return out


def _saved(tensor, output_nr=None):
    """How one tensor passed to save_for_backward is kept (through the innermost saved_tensors_hooks, if any)."""
    if _HOOK_STACK:
        return _PackedSaved(tensor, _HOOK_STACK[-1], output_nr)
    if tensor._inference:
        raise RuntimeError(_INFERENCE_SAVE_MSG)
    vc = tensor._vc
    if vc is None:
        vc = tensor._vc = [0]
    if output_nr is None:  # an input: (tensor, version counter, version)
        return tensor, vc, vc[0]
    return _Saved(tensor._data, vc, output_nr)


saved_input = _saved  # an input Tensor saved by a fast path that records its node by hand


def adopt_saved_output(result, target):
    """An in-place op wrote its output `result` into `target`: what the op saved of its output is now target.

    The saved entry then shares target's storage and version counter, so a later in-place change of target
    raises PyTorch's "modified by an inplace operation" error in backward.
    """
    rvc = result._vc
    saved = result._grad_fn._saved
    if rvc is None or not saved:
        return
    vc = target._vc_get()
    for s in saved:
        if type(s) is _Saved and s.vc is rvc:
            s.vc, s.version, s.data = vc, vc[0], target._data


def record(cls, args, raw):
    """Run internal op cls's forward on the arrays `raw` and record it as a node whose inputs are `args`: the fast
    paths' Function.apply, for calls known to need a graph and to return one ndarray."""
    ctx = _new(cls._backward_cls)
    return ctx._build_single(args, cls.forward(ctx, *raw))


def run(cls, args, raw, rg):
    """The fast paths' Function.apply for internal op cls with one ndarray result: recorded as a node whose inputs
    are `args` when rg (grad mode on and an input requires grad, as the caller checked), else forward alone."""
    if rg:
        return record(cls, args, raw)
    t = _new(Tensor)
    t._data = cls.forward(_new(cls._backward_cls), *raw)
    return t


def edge(t):
    """The graph edge to Tensor t: its node and output number, t itself (a leaf), or None (no gradient)."""
    if t._base is not None:
        t._sync_view()
    if t._rg:
        fn = t._grad_fn
        return t if fn is None else (fn, t._output_nr)
    return None


def record_result(cls, inputs, out, save=None, n_args=1):
    """Record internal op cls as the node of ndarray `out`, its forward's result computed by a fast path: inputs
    is its Tensor argument (or a tuple of them), the first of its n_args arguments (the others are not tensors);
    save is what backward needs: a tuple of input Tensors or "out". Returns the output Tensor; its grad_fn takes
    whatever else forward would have kept on ctx."""
    node = _new(cls._backward_cls)
    edges = [edge(t) for t in inputs] if type(inputs) is tuple else [edge(inputs)]
    if n_args > len(edges):
        edges += _NOT_TENSORS[n_args - len(edges)]
    node._edges = edges
    t = node._output_tensor(out)
    if save is not None:
        node._saved = ([_saved(t, 0) if t._grad_fn is node else _saved(t)] if save == "out" else
                       [_saved(s) for s in save])
    return t


def record_on(cls, input, args):
    """record() of an internal op whose one Tensor argument is its first, `input`: forward(ctx, input's array,
    *args), without testing the other arguments for tensors."""
    node = _new(cls._backward_cls)
    out = cls.forward(node, input._data, *args)
    node._edges = [edge(input)] + _NOT_TENSORS[len(args)]
    if type(out) is tuple:
        return node._finish((input,), out, True)
    if node._to_save is None:
        return node._output_tensor(out)
    return node._single_output(out, (input,))


def run_on(cls, input, args, rg):
    """run() of an internal op whose one Tensor argument is its first (record_on when rg); its forward returns an
    ndarray or a tuple of them."""
    if rg:
        return record_on(cls, input, args)
    out = cls.forward(_new(cls._backward_cls), input._data, *args)
    if type(out) is tuple:
        return tuple([_wrap(o) for o in out])
    t = _new(Tensor)
    t._data = out
    return t


def _input_holding(args, arr):
    """The Tensor among args whose data is arr (a saved input), or arr itself as a new Tensor."""
    for a in args:
        if isinstance(a, Tensor) and a._data is arr:
            return a
    return Tensor._make(arr) if isinstance(arr, np.ndarray) else arr


def _legacy_type_name(np_dtype):
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
             "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return "torch." + names.get(np.dtype(np_dtype).name, "") + "Tensor"


NOT_TENSOR = False  # the edge of a non-tensor argument of a node
_NOT_TENSORS = [[NOT_TENSOR] * k for k in range(16)]  # edge lists of trailing non-tensor arguments, to copy


class _ReadOffEdges:
    """A node attribute computed from its edges on first use, then kept on the node (recording stays cheap)."""

    def __init__(self, fn):
        self.fn = fn
        self.name = fn.__name__

    def __get__(self, node, cls):
        if node is None:
            return self
        value = node.__dict__[self.name] = self.fn(node._edges)
        return value


@_ReadOffEdges
def needs_input_grad(edges):
    return tuple([e is not None and e is not NOT_TENSOR for e in edges])


@_ReadOffEdges
def _tensor_args(edges):
    return [e is not NOT_TENSOR for e in edges]


class BackwardCFunction:
    """Marks the classes of graph nodes: `type(t.grad_fn)` is a subclass (e.g. `MyFnBackward`)."""


class FunctionMeta(type):
    """Gives each Function subclass its node name and node class (`_backward_cls`, e.g. `MyFnBackward`).

    The ctx/grad_fn of a call is an instance of `_backward_cls`, a subclass of the Function itself named as
    PyTorch names the node, so `type(y.grad_fn).__name__` reads as in PyTorch.
    """

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        if attrs.get("_is_backward_cls"):
            return
        if "_node_name" not in attrs:
            cls._node_name = name if name.endswith("Backward0") or name.endswith("Backward") else name + "Backward"
        if "vjp" in attrs and "backward" not in attrs:
            cls.backward = attrs["vjp"]
        cls._backward_cls = FunctionMeta(cls._node_name, (cls, BackwardCFunction),
                                         {"_is_backward_cls": True, "_forward_cls": cls,
                                          "__module__": cls.__module__, "__qualname__": cls._node_name})


class FunctionCtx:
    """The ctx API that forward/setup_context and backward of a Function use."""

    _materialize = True
    _to_save = None   # what forward passed to save_for_backward, until the node is recorded
    _saved = None
    _freed = False
    _non_diff = ()
    _dirty = ()

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(FREED_MSG)
        saved = self._saved
        if saved is None:
            return ()
        return tuple([None if s is None else _unpack_input(s) if type(s) is tuple else s.unpack(self) for s in saved])

    saved_variables = saved_tensors

    def saved_arrays(self):
        """The arrays of the saved tensors (None where None was saved), checked as saved_tensors checks them but
        without building Tensors: for the plain backward (no graph recorded) of ember's ops."""
        saved = self._saved
        if saved is None or self._freed:
            return [None if t is None else t._data for t in self.saved_tensors]
        out = []
        for s in saved:
            if s is None:
                out.append(None)
            elif type(s) is tuple:
                out.append(_unpack_input(s)._data)
            elif type(s) is _Saved and s.vc[0] == s.version:
                out.append(s.data)
            else:
                out.append(s.unpack(self)._data)
        return out

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        self._materialize = bool(value)


class Function(FunctionCtx, metaclass=FunctionMeta):
    """Base of differentiable operations; subclass with static forward(ctx, ...) and backward(ctx, ...)."""

    _raw = False
    _edges = ()
    _tensor_args = _tensor_args
    needs_input_grad = needs_input_grad
    _pre_hooks = None
    _hooks = None
    _tensor_hooks = None   # output_nr -> OrderedDict of hooks registered on non-leaf outputs
    _retain = None         # output_nr -> weakref to a tensor that retains its grad

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, so "
                      "you should invoke them on the class itself. Instantiating an autograd function will raise an "
                      "error in a future version of PyTorch.", DeprecationWarning, stacklevel=2)

    # ---- the node API ------------------------------------------------------------------------
    @classmethod
    def _name(cls):
        return cls._node_name

    def name(self):
        return self._node_name

    def _error_name(self):
        """How PyTorch's C++ messages name the op of this node: its name without the Backward suffix."""
        return re.sub(r"Backward\d*$", "", self._node_name)

    @property
    def metadata(self):
        """A dict for user data attached to this node (anomaly mode stores the forward stack here)."""
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    @property
    def next_functions(self):
        out = []
        for e, is_tensor in zip(self._edges, self._tensor_args):
            if not is_tensor:
                continue
            if e is None:
                out.append((None, 0))
            elif isinstance(e, tuple):
                out.append(e)
            else:
                out.append((AccumulateGrad(e), 0))
        return tuple(out)

    def register_hook(self, fn):
        if self._hooks is None:
            self._hooks = OrderedDict()
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = fn
        return h

    def register_prehook(self, fn):
        if self._pre_hooks is None:
            self._pre_hooks = OrderedDict()
        h = RemovableHandle(self._pre_hooks)
        self._pre_hooks[h.id] = fn
        return h

    def __call__(self, *args, **kwargs):
        """Calling an op's node runs its backward on the given grads (custom nodes are not callable)."""
        if not isinstance(self, BackwardCFunction):
            raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                               "new-style autograd function with static forward method. (Example: "
                               "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")
        if not self._raw:
            raise TypeError(f"'{type(self).__name__}' object is not callable")
        result = self.backward(self, *args)
        result = result if isinstance(result, tuple) else (result,)
        out = tuple(g for g, is_tensor in zip(result, self._tensor_args) if is_tensor)
        return out if len(out) != 1 else out[0]

    def __repr__(self):
        return f"<{self._node_name} object at {hex(id(self))}>"

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    # ---- apply ---------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the inputs and, when any input requires grad, record the call as a graph node."""
        if not cls._raw:
            return cls._apply_user(args, kwargs)
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply() takes positional arguments only")
        ctx = _new(cls._backward_cls)
        raw = [a._data if isinstance(a, Tensor) else a for a in args]
        out = cls.forward(ctx, *raw)
        if STATE.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._rg:
                    if type(out) is np.ndarray and not ctx._non_diff:
                        return ctx._build_single(args, out)
                    return ctx._build(args, out if type(out) is tuple else (out,), type(out) is tuple)
        if type(out) is np.ndarray:
            return _wrap(out)
        if type(out) is not tuple:
            return _wrap(np.asarray(out)) if isinstance(out, (np.ndarray, np.generic)) else out
        return tuple(_wrap(np.asarray(o)) if isinstance(o, (np.ndarray, np.generic)) else o for o in out)

    @classmethod
    def _apply_user(cls, args, kwargs):
        """apply() of a user Function: forward (or forward + setup_context) on Tensors, under no_grad."""
        custom_setup = cls.setup_context is not Function.setup_context
        if custom_setup:
            args, kwargs = _bind_default_args(cls.forward, args, kwargs)
        inputs = args + tuple(kwargs.values()) if kwargs else args
        ctx = _new(cls._backward_cls)
        needs_graph = STATE.enabled and any(isinstance(a, Tensor) and a._rg for a in inputs)
        ctx.needs_input_grad = tuple(needs_graph and isinstance(a, Tensor) and a._rg for a in inputs)
        with no_grad():
            if custom_setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(out, tuple)
        outs = out if is_tuple else (out,)
        if needs_graph:
            return ctx._build(inputs, outs, is_tuple)
        for t in ctx._dirty:
            t._bump()
        dirty = {id(t) for t in ctx._dirty}
        res = tuple(o._custom_view_of(cls, i) if isinstance(o, Tensor) and id(o) not in dirty
                    and any(o is a for a in inputs) else o for i, o in enumerate(outs))
        return res if is_tuple else res[0]

    def _build(self, args, outs, is_tuple):
        """Connect the outputs of a recording call into the graph."""
        self._connect_inputs(args)
        return self._finish(args, outs, is_tuple)

    def _finish(self, args, outs, is_tuple):
        """_build once the edges are set."""
        self._seq = next(_seq_counter)
        if _anomaly_enabled[0]:
            self.metadata["traceback_"] = anomaly_mode.forward_stack()
        results = self._raw_outputs(outs) if self._raw else self._user_outputs(args, outs)
        to_save = self.__dict__.pop("_to_save", None)
        if to_save is not None:
            self._saved = self._resolve_saved(to_save, args, outs, results)
        return tuple(results) if is_tuple else results[0]

    def _build_single(self, args, out):
        """_build for an internal op with one ndarray output, in one pass (the common case, kept lean)."""
        self._connect_inputs(args)
        return self._single_output(out, args)

    def _output_tensor(self, out):
        """Number this node (its edges are set) and make ndarray `out` its one output Tensor."""
        self._seq = next(_seq_counter)
        if _anomaly_enabled[0]:
            self.metadata["traceback_"] = anomaly_mode.forward_stack()
        dt = out.dtype
        self._out_meta = ((out.shape, dt),)
        t = _new(Tensor)
        t._data = out
        if dt.kind in "fc":
            t._rg = True
            t._grad_fn = self
        return t

    def _single_output(self, out, args=(), save_out=False):
        """Finish recording an internal op whose edges are set: make `out` (an ndarray) its one output and keep
        what forward saved (`args` holds the input Tensors a saved array may belong to) or, with save_out, the
        output."""
        t = self._output_tensor(out)
        if save_out:
            self._saved = [_saved(t, 0) if t._grad_fn is self else _saved(t)]
        elif self._to_save is not None:
            to_save = self._to_save
            del self._to_save
            self._saved = [None if s is None else
                           (_saved(t, 0) if t._grad_fn is self else _saved(t)) if s is out else
                           _saved(_input_holding(args, s)) for s in to_save]
        return t

    def _connect_inputs(self, args):
        """One edge per argument: (node, output_nr), a leaf Tensor, None for a tensor no gradient flows to, or
        NOT_TENSOR for a non-tensor argument (needs_input_grad and _tensor_args are read off the edges)."""
        edges = []
        for a in args:
            if isinstance(a, Tensor):
                if a._base is not None:
                    a._sync_view()
                if a._rg:
                    fn = a._grad_fn
                    edges.append(a if fn is None else (fn, a._output_nr))
                else:
                    edges.append(None)
            else:
                edges.append(NOT_TENSOR)
        self._edges = edges

    def _raw_outputs(self, outs):
        """Wrap the ndarrays returned by an internal op's forward as outputs of this node."""
        if len(outs) == 1 and type(outs[0]) is np.ndarray and not self._non_diff:
            o = outs[0]
            t = _new(Tensor)
            t._data = o
            self._out_meta = [(o.shape, o.dtype)]
            if o.dtype.kind in "fc":
                t._rg = True
                t._grad_fn = self
            return [t]
        if not self._non_diff and all([type(o) is np.ndarray for o in outs]):
            return self._array_outputs(outs)
        non_diff = {id(t) for t in self._non_diff} if self._non_diff else ()
        results = []
        out_meta = []
        for i, o in enumerate(outs):
            if isinstance(o, np.generic):
                o = np.asarray(o)
            elif not isinstance(o, np.ndarray):
                results.append(o)
                out_meta.append(None)
                continue
            t = Tensor._make(o)
            out_meta.append((o.shape, o.dtype))
            if o.dtype.kind in "fc" and id(outs[i]) not in non_diff:
                t._rg = True
                t._grad_fn = self
                t._output_nr = i
            results.append(t)
        self._out_meta = out_meta
        return results

    def _array_outputs(self, outs):
        """_raw_outputs when every output is an ndarray and all are differentiable (split, unbind, max(dim), ...)."""
        results = []
        self._out_meta = meta = []
        for i, o in enumerate(outs):
            t = _new(Tensor)
            t._data = o
            dt = o.dtype
            meta.append((o.shape, dt))
            if dt.kind in "fc":
                t._rg = True
                t._grad_fn = self
                t._output_nr = i
            results.append(t)
        return results

    def _user_outputs(self, args, outs):
        """Outputs of a user Function: dirty inputs get this node as history, returned inputs become views."""
        fcls = self._forward_cls
        dirty_ids = {id(t) for t in self._dirty}
        non_diff_ids = {id(t) for t in self._non_diff}
        results = []
        out_meta = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                results.append(o)
                out_meta.append(None)
                continue
            t = o
            dirty = id(t) in dirty_ids
            if dirty:
                t._check_dirty_allowed()
                t._bump()
                old_fn, old_nr = t._grad_fn, t._output_nr
            elif any(t is a for a in args):
                t = t._custom_view_of(fcls, i)
            elif t._grad_fn is not None or t._rg:
                t = t._alias()
            elif t._base is not None:
                t._custom_view = (fcls.__name__, i)
            out_meta.append((t._data.shape, t._data.dtype))
            if id(o) in non_diff_ids or t._data.dtype.kind not in "fc":
                t._rg = False
            else:
                t._rg = True
                t._grad_fn = self
                t._output_nr = i
                if dirty and t._retains_grad:
                    t._move_retain(old_fn, old_nr)
                if dirty and t._base is not None:
                    t._rebase_view_history(self, i)
            results.append(t)
        self._out_meta = out_meta
        return results

    def _resolve_saved(self, to_save, args, outs, results):
        """Turn what forward passed to save_for_backward into saved entries (outputs are kept without a cycle)."""
        saved = []
        for k, s in enumerate(to_save):
            if s is None:
                saved.append(None)
                continue
            for j, o in enumerate(outs):
                if s is o and isinstance(results[j], Tensor):
                    saved.append(_saved(results[j], j) if results[j]._grad_fn is self else _saved(results[j]))
                    break
            else:
                if self._raw:
                    saved.append(_saved(_input_holding(args, s)))
                else:
                    if not isinstance(s, Tensor):
                        raise TypeError(f"save_for_backward can only save variables, but argument {k} is of type "
                                        f"{type(s).__name__}")
                    saved.append(_saved(s))
        return saved

    def _release(self):
        """Free what forward saved (after a backward without retain_graph).

        As in PyTorch, a user Function's ctx is always marked freed while an internal op is marked freed only
        when it held saved data, so ops that saved nothing (add, sum, ...) can be differentiated again.
        """
        freed = self._saved is not None or not self._raw
        self._saved = None
        if self._raw:
            d = self.__dict__
            held = () if d.keys() <= _NO_ARRAY_KEYS else [k for k, v in d.items() if type(v) in HELD_TYPES]
            if held:
                for k in held:
                    del d[k]
                freed = True
        if freed:
            self._freed = True


@functools.lru_cache(maxsize=None)
def overload(cls, node_name):
    """cls recording its node as `node_name`: PyTorch names each overload of an op apart (ClampMinBackward0,
    DivBackward1, ...) where ember runs one Function."""
    return FunctionMeta(cls.__name__, (cls,), {"_node_name": node_name, "__module__": cls.__module__,
                                               "__qualname__": cls.__qualname__})


@functools.lru_cache(maxsize=None)
def _renamed_node(node_cls, node_name):
    return FunctionMeta(node_name, (node_cls,), {"_is_backward_cls": True, "_node_name": node_name,
                                                 "__module__": node_cls.__module__, "__qualname__": node_name})


def as_node(t, node_name):
    """t with its grad_fn shown as `node_name`: the last node of an op ember composes from other ops stands for
    PyTorch's single node (BinaryCrossEntropyWithLogitsBackward0, ...), so printed tensors read as PyTorch's."""
    fn = t._grad_fn
    if fn is not None and fn._node_name != node_name:
        fn.__class__ = _renamed_node(type(fn), node_name)
    return t


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class AccumulateGrad:
    """The introspection view of a leaf's gradient accumulator (`next_functions` shows it)."""

    _node_name = "AccumulateGrad"

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)


def once_differentiable(fn):
    """Mark a backward as not differentiable: with create_graph its results raise when differentiated again."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not STATE.enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        fake = tuple(o.detach().requires_grad_(True) if isinstance(o, Tensor) and o._data.dtype.kind in "fc" else o
                     for o in outs)
        wrapped = _DelayedError.apply(*fake)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(Function):
    """The node of once_differentiable results: raises if reached by a backward pass."""

    _raw = True
    _node_name = "DelayedError"

    @staticmethod
    def forward(ctx, *xs):
        return tuple(x.copy() if isinstance(x, np.ndarray) else x for x in xs)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def _tensor_cls():
    """ember.Tensor, for modules of this package that ember._tensor imports before Tensor exists."""
    return Tensor


def _wrap(arr):
    """A new tensor (no history) holding ndarray arr."""
    t = _new(Tensor)
    t._data = arr
    if STATE.inference:
        t._inference = True
    return t


def _bind_default_args(func, args, kwargs):
    """Bind args/kwargs to forward's signature with defaults filled in (setup_context-style Functions)."""
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args, bound.kwargs


class NestedIOFunction(Function):
    pass
