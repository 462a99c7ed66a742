"""autograd.Function: the node type of the graph, for users and for ember's own ops alike.

An instance of a Function subclass is both the `ctx` seen by forward/backward and the `grad_fn`
node of its outputs. Ops with `_raw = True` (ember's internal ops) get ndarrays in forward and
return ndarrays; user Functions get and return Tensors, exactly as in PyTorch.
"""
import functools
import itertools
from collections import OrderedDict

import numpy as np

from .grad_mode import STATE, no_grad
from ..utils.hooks import RemovableHandle

_seq_counter = itertools.count()
Tensor = None  # set by ember._tensor


FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
             "have already been freed). Saved intermediate values of the graph are freed when you call "
             ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
             "graph a second time or if you need to access saved tensors after calling backward.")


class _Saved:
    """A saved tensor: the tensor itself (inputs), or its data (outputs, to avoid a reference cycle)."""

    __slots__ = ("tensor", "data", "vc", "version", "output_nr")

    def __init__(self, tensor, output_nr=None):
        vc = tensor._vc_get()
        self.vc, self.version = vc, vc[0]
        self.output_nr = output_nr
        if output_nr is None:
            self.tensor, self.data = tensor, None
        else:
            self.tensor, self.data = None, tensor._data

    def unpack(self, node):
        if self.vc[0] != self.version:
            t = self.tensor
            shape = list(t.shape) if t is not None else list(self.data.shape)
            tname = _legacy_type_name(self.data.dtype if t is None else t._data.dtype)
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [{tname} {shape}], which is output {self.output_nr or 0} of {node.name()}, is at "
                f"version {self.vc[0]}; expected version {self.version} instead. Hint: the backtrace further "
                "above can show the operation that failed to compute its gradient. The variable in question "
                "was changed in there or anywhere later. Good luck!")
        if self.output_nr is None:
            return self.tensor
        t = Tensor._make(self.data, True)
        t._grad_fn, t._output_nr, t._vc = node, self.output_nr, self.vc
        return t


def _legacy_type_name(np_dtype):
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
             "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return "torch." + names.get(np.dtype(np_dtype).name, "") + "Tensor"


class FunctionMeta(type):
    """Gives each Function subclass its backward-node name (e.g. 'AddBackward')."""

    def __init__(cls, name, bases, attrs):
        if "_node_name" not in attrs:
            cls._node_name = name if name.endswith("Backward0") or name.endswith("Backward") else name + "Backward"
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """Base of differentiable operations; subclass with static forward(ctx, ...) and backward(ctx, ...)."""

    _raw = False
    _materialize = True
    _edges = ()
    _tensor_args = ()
    _saved = None
    _freed = False
    _pre_hooks = None
    _hooks = None
    _tensor_hooks = None   # output_nr -> OrderedDict of hooks registered on non-leaf outputs
    _retain = None         # output_nr -> weakref to a tensor that retains its grad
    _non_diff = ()
    _dirty = ()
    _once_differentiable = False
    metadata = None

    def __init__(self, *args, **kwargs):
        pass

    # ---- the ctx API -------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(FREED_MSG)
        saved = self._saved
        if saved is None:
            return ()
        return tuple(None if s is None else s.unpack(self) for s in saved)

    saved_variables = saved_tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    # ---- the node API ------------------------------------------------------------------------
    @classmethod
    def _name(cls):
        return cls._node_name

    def name(self):
        return self._node_name

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
        return self.backward(self, *args)

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
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply() takes positional arguments only")
        ctx = cls.__new__(cls)
        needs_graph = False
        if STATE.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._rg:
                    needs_graph = True
                    break
        custom_setup = cls.setup_context is not Function.setup_context
        if cls._raw:
            raw = [a._data if isinstance(a, Tensor) else a for a in args]
            out = cls.forward(ctx, *raw)
        else:
            with no_grad():
                if custom_setup:
                    out = cls.forward(*args)
                    cls.setup_context(ctx, args, out)
                else:
                    out = cls.forward(ctx, *args)
        is_tuple = isinstance(out, tuple)
        outs = out if is_tuple else (out,)
        if cls._raw:
            outs = tuple(np.asarray(o) if isinstance(o, np.generic) else o for o in outs)
        if not needs_graph:
            if cls._raw:
                res = tuple(Tensor._make(o) if isinstance(o, np.ndarray) else o for o in outs)
                return res if is_tuple else res[0]
            for t in ctx._dirty:
                t._bump()
            return out
        return ctx._build(args, outs, is_tuple)

    def _build(self, args, outs, is_tuple):
        """Connect the outputs of a recording call into the graph."""
        cls = type(self)
        self._seq = next(_seq_counter)
        edges = []
        needs = []
        in_meta = []
        self._tensor_args = tuple(isinstance(a, Tensor) for a in args)
        for a in args:
            if isinstance(a, Tensor) and a._rg:
                fn = a._grad_fn
                edges.append((fn, a._output_nr) if fn is not None else a)
                needs.append(True)
                in_meta.append(a._data.shape)
            else:
                edges.append(None)
                needs.append(False)
                in_meta.append(None)
        self._edges = edges
        self.needs_input_grad = tuple(needs)
        self._in_meta = in_meta
        dirty_ids = {id(t) for t in self._dirty}
        non_diff_ids = {id(t) for t in self._non_diff}
        results = []
        out_meta = []
        for i, o in enumerate(outs):
            if cls._raw:
                if not isinstance(o, np.ndarray):
                    results.append(o)
                    out_meta.append(None)
                    continue
                t = Tensor._make(o)
            else:
                if not isinstance(o, Tensor):
                    results.append(o)
                    out_meta.append(None)
                    continue
                t = o
                if id(t) in dirty_ids:
                    t._check_inplace_allowed()
                    t._bump()
                    if t._base is not None:
                        t._rebase_view_history(self, i)
                elif any(t is a for a in args) or t._grad_fn is not None or t._rg:
                    t = t._alias()
            out_meta.append((t._data.shape, t._data.dtype))
            if id(o) in non_diff_ids or not (t._data.dtype.kind in "fc"):
                t._rg = False
            else:
                t._rg = True
                t._grad_fn = self
                t._output_nr = i
            results.append(t)
        self._out_meta = out_meta
        to_save = self.__dict__.pop("_to_save", None)
        if to_save is not None:
            self._saved = self._resolve_saved(to_save, args, outs, results)
        return tuple(results) if is_tuple else results[0]

    def _resolve_saved(self, to_save, args, outs, results):
        saved = []
        for s in to_save:
            if s is None:
                saved.append(None)
                continue
            for j, o in enumerate(outs):
                if s is o and isinstance(results[j], Tensor):
                    saved.append(_Saved(results[j], j) if results[j]._grad_fn is self else _Saved(results[j]))
                    break
            else:
                if self._raw:
                    for a in args:
                        if isinstance(a, Tensor) and a._data is s:
                            saved.append(_Saved(a))
                            break
                    else:
                        saved.append(_Saved(Tensor._make(s) if isinstance(s, np.ndarray) else s))
                else:
                    if not isinstance(s, Tensor):
                        raise TypeError("save_for_backward can only save variables, but argument is of type "
                                        f"{type(s).__name__}")
                    saved.append(_Saved(s))
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
            arrays = [k for k, v in d.items() if isinstance(v, (np.ndarray, Tensor))]
            for k in arrays:
                del d[k]
            freed = freed or bool(arrays)
        if freed:
            self._freed = True


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
    """Mark a backward as not differentiable: with create_graph it raises when differentiated again."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not STATE.enabled:
            return outputs
        requires = any(isinstance(a, Tensor) and a._rg for a in args)
        if not requires:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped = tuple(_DelayedError.apply(o) if isinstance(o, Tensor) else o for o in outs)
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(Function):
    _raw = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


class NestedIOFunction(Function):
    pass
