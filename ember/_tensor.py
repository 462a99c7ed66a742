"""Tensor: one NumPy array plus autograd state. Math methods are attached by ember.ops modules."""
import operator
import weakref
from collections import OrderedDict

import numpy as np

from . import _dtype
from ._dtype import Size, get_default_dtype, to_dtype, from_numpy_dtype
from .autograd import function as _function
from .autograd import engine as _engine
from .autograd.grad_mode import STATE
from .utils.hooks import RemovableHandle
from . import _tensor_str

_new = object.__new__
_tuple_new = tuple.__new__  # a Size from an ndarray's shape, whose entries are already ints

_NON_LEAF_GRAD_MSG = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                      "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
                      "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
                      "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
                      "github.com/pytorch/pytorch/pull/30531 for more information.")


class Tensor:
    """A multi-dimensional array with PyTorch's API, stored in one numpy.ndarray (`_data`)."""

    # Class-level defaults keep tensor creation cheap: only what differs is set per instance.
    _rg = False
    _grad_fn = None
    _output_nr = 0
    _grad = None
    _vc = None
    _base = None
    _view_fn = None
    _hooks = None
    _post_acc_hooks = None
    _retains_grad = False
    _view_ver = None        # a tracked view: the version at which its grad_fn was last derived from its base
    _no_grad_view = False   # a view of a tensor requiring grad, taken in no_grad mode
    _custom_view = None     # (Function name, output_nr) of a view returned by a custom Function
    _multi_view = False     # an output (or a view of one) of an op returning several views (split, unbind)
    _inference = False      # created in inference_mode
    _is_param = False
    __array_priority__ = 1000

    def __init_subclass__(cls, **kwargs):
        """Graph nodes free instances of subclasses (Parameter, user tensors) after backward, as they do Tensors."""
        super().__init_subclass__(**kwargs)
        _function.HELD_TYPES.add(cls)

    # ---- construction ---------------------------------------------------------------------------
    @classmethod
    def _make(cls, arr, requires_grad=False):
        t = _new(cls)
        t._data = arr
        if requires_grad:
            t._rg = True
        if STATE.inference:
            t._inference = True
        return t

    def __new__(cls, *args, device=None, **kwargs):
        """Legacy constructor torch.Tensor(...): () empty, (*sizes) or (Size) zeros, (sequence or ndarray) data, all
        in the default dtype; (tensor) an alias of it. Other arguments raise PyTorch's errors."""
        if kwargs:
            args = _new_keyword_args(args, kwargs, device)
        return _legacy_construct(cls, get_default_dtype(), args, device)

    def __init__(self, *args, **kwargs):
        pass

    # ---- basic properties ---------------------------------------------------------------------
    @property
    def data(self):
        t = Tensor._make(self._data)
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self):
        return _tuple_new(Size, self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return _tuple_new(Size, self._data.shape)
        if self._data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return _dtype.CPU

    @property
    def is_cuda(self):
        return False

    is_cpu = True

    def is_conj(self):
        return False

    def is_neg(self):
        return False

    is_sparse = False
    is_quantized = False
    is_meta = False
    is_mkldnn = False
    is_nested = False
    layout = "torch.strided"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def is_signed(self):
        return self._data.dtype.kind in "fic"

    def stride(self, dim=None):
        if self._data.size == 0 and not any(self._data.strides):
            st, acc = [], 1
            for n in reversed(self._data.shape):
                st.append(acc)
                acc *= max(n, 1)
            st = tuple(reversed(st))
        else:
            st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self):
        base = self._data
        while base.base is not None and isinstance(base.base, np.ndarray):
            base = base.base
        return (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // self._data.itemsize

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def get_device(self):
        return -1

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self._scalar_for_conversion())

    def __int__(self):
        return int(self._scalar_for_conversion())

    def _scalar_for_conversion(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.reshape(()).item()

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force=False):
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data

    def __dlpack__(self, *args, **kwargs):
        if self._rg:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self, *, tensor_contents=None):
        cls = type(self)
        plain = cls is Tensor or cls.__module__.startswith("ember.")  # ember's own classes print as torch's plain ones
        return _tensor_str.tensor_repr(self, "tensor(" if plain else cls.__name__ + "(")

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, proto):
        state = _user_state(self)
        if state:
            return (_rebuild_tensor, (np.array(self._data), self._rg, type(self), state))
        return (_rebuild_tensor, (np.array(self._data), self._rg, type(self)))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                               "be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        import copy
        new = type(self)._make(self._data.copy(), self._rg)
        if self._grad is not None:
            new._grad = copy.deepcopy(self._grad, memo)
        for k, v in self.__dict__.items():
            if k not in ("_data", "_rg", "_grad", "_vc", "_base", "_view_fn", "_grad_fn", "_hooks",
                         "_post_acc_hooks"):
                setattr(new, k, copy.deepcopy(v, memo))
        memo[id(self)] = new
        return new

    # ---- autograd state --------------------------------------------------------------------------
    @property
    def requires_grad(self):
        if self._base is not None:
            self._sync_view()
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        requires_grad = bool(requires_grad)
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use "
                                   "a computed variable in a subgraph that doesn't require differentiation use "
                                   "var_no_grad = var.detach().")
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._rg = requires_grad
        return self

    @property
    def grad_fn(self):
        if self._base is not None:
            self._sync_view()
        return self._grad_fn

    @property
    def is_leaf(self):
        if self._base is not None:
            self._sync_view()
        return self._grad_fn is None

    @property
    def grad(self):
        g = self._grad
        if g is None and self._grad_fn is not None and not self._retains_grad:
            import warnings
            warnings.warn(_NON_LEAF_GRAD_MSG, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _version(self):
        if self._inference:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0] if self._vc is not None else 0

    def is_inference(self):
        return self._inference

    def _vc_get(self):
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    def _bump(self):
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    def retain_grad(self):
        if self._base is not None:
            self._sync_view()
        if self._grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        node = self._grad_fn
        if node._retain is None:
            node._retain = {}
        node._retain[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        if self._base is not None:
            self._sync_view()
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = OrderedDict()
            h = RemovableHandle(self._hooks)
            self._hooks[h.id] = hook
            return h
        node = self._grad_fn
        if node._tensor_hooks is None:
            node._tensor_hooks = {}
        d = node._tensor_hooks.setdefault(self._output_nr, OrderedDict())
        h = RemovableHandle(d)
        d[h.id] = hook
        return h

    def register_post_accumulate_grad_hook(self, hook):
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = OrderedDict()
        h = RemovableHandle(self._post_acc_hooks)
        self._post_acc_hooks[h.id] = hook
        return h

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        t = Tensor._make(self._data)
        t._vc = self._vc_get()
        return t

    def detach_(self):
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._rg = False
        return self

    # ---- views and in-place support -------------------------------------------------------------
    def _alias(self):
        t = Tensor._make(self._data)
        t._vc = self._vc_get()
        t._grad_fn, t._output_nr, t._rg = self._grad_fn, self._output_nr, self._rg
        return t

    def _make_multi_view(self, out, view_fn):
        """_make_view for one of several views an op returns (split, unbind): PyTorch forbids modifying such a view
        in place when it was made with a graph."""
        out = self._make_view(out, view_fn)
        if out._grad_fn is not None:
            out._multi_view = True
        return out

    def _make_view(self, out, view_fn):
        """Mark `out` (computed from self by a view op) as a view: shared version counter and base."""
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        out._vc = vc
        base = self._base
        inner = self._view_fn
        if base is None:
            base = self
            out._view_fn = view_fn
        elif inner is None:
            out._view_fn = view_fn
        else:
            out._view_fn = lambda b: view_fn(inner(b))
        out._base = base
        if self._multi_view:
            out._multi_view = True
        if STATE.enabled:
            out._view_ver = vc[0]
        elif base._rg:
            out._no_grad_view = True
            out._rg = True  # as in PyTorch: a leaf that requires grad, whose gradient goes nowhere
        return out

    def _sync_view(self):
        """Re-derive a view's history from its base when the base (or another view of it) changed in place."""
        ver = self._view_ver
        if ver is None or self._vc[0] == ver:
            return
        self._view_ver = self._vc[0]
        if not self._base._rg:
            return
        prev, STATE.enabled = STATE.enabled, True
        try:
            fresh = _function.as_node(self._view_fn(self._base), "AsStridedBackward0")  # as PyTorch regenerates it
        finally:
            STATE.enabled = prev
        self._grad_fn, self._output_nr, self._rg = fresh._grad_fn, fresh._output_nr, True

    def _custom_view_of(self, fn_cls, output_nr):
        """The output of a custom Function that returned this input as-is: a view of it, as in PyTorch."""
        t = self._alias()
        t._rg, t._grad_fn = False, None
        if not STATE.enabled:
            return t
        if self._base is None:
            t._base, t._view_fn = self, _identity
        else:
            t._base, t._view_fn = self._base, self._view_fn
        t._custom_view = (fn_cls.__name__, output_nr)
        return t

    def _check_inplace_allowed(self):
        """PyTorch's checks before an in-place op is recorded (leaves, views of leaves, forbidden views)."""
        if not STATE.enabled:
            return
        if self._custom_view is not None and self._rg:
            name, nr = self._custom_view
            raise RuntimeError(f"Output {nr} of {name} is a view and is being modified inplace. This view was created "
                               "inside a custom Function (or because an input was returned as-is) and the autograd "
                               "logic to handle view+inplace would override the custom backward associated with the "
                               "custom Function, leading to incorrect gradients. This behavior is forbidden. You can "
                               "fix this by cloning the output of the custom Function.")
        if self._multi_view and self._rg:
            raise RuntimeError(f"Output {self._output_nr} of {self._grad_fn._error_name()} is a view and is being "
                               "modified inplace. This view is the output of a function that returns multiple views. "
                               "Such functions do not allow the output views to be modified inplace. You should "
                               "replace the inplace operation by an out-of-place one.")
        if self._no_grad_view:
            raise RuntimeError("A view was created in no_grad mode and is being modified inplace with grad mode "
                               "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
                               "can clarify your code by moving both the view and the inplace either both inside the "
                               "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
                               "want the inplace to be tracked).")
        if self._rg and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is not None and base._rg and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")

    def _check_dirty_allowed(self):
        """The check of Function.mark_dirty on a tensor that forward modified in place."""
        if self._rg and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        self._check_inplace_allowed()

    def _rebase_view_history(self, node, output_nr):
        """After an in-place op recorded on a view, make the base's history include it (CopySlices)."""
        from .ops.shape import copy_slices
        base = self._base
        old_fn, old_nr = base._grad_fn, base._output_nr
        copy_slices(self, node, output_nr)
        self._view_ver = self._vc[0]
        if base._retains_grad:
            base._move_retain(old_fn, old_nr)

    def _move_retain(self, old_fn, old_nr):
        """retain_grad follows the tensor to its new history after an in-place op, as in PyTorch."""
        if old_fn is not None and old_fn._retain:
            old_fn._retain.pop(old_nr, None)
        self._retains_grad = False
        self.retain_grad()

    def _check_inplace_result(self, result):
        """PyTorch's errors for writing `result` into self: dtype, broadcast shape, overlapping memory."""
        rd, sd = result._data, self._data
        if rd.dtype != sd.dtype and not _can_cast(rd.dtype, sd.dtype):
            raise RuntimeError(f"result type {_dtype.scalar_name(from_numpy_dtype(rd.dtype))} can't be cast to the "
                               f"desired output type {_dtype.scalar_name(from_numpy_dtype(sd.dtype))}")
        if rd.shape != sd.shape:
            try:
                full = np.broadcast_shapes(rd.shape, sd.shape)
            except ValueError:
                full = rd.shape
            if full != sd.shape:
                raise RuntimeError(f"output with shape {list(sd.shape)} doesn't match the broadcast shape "
                                   f"{list(full)}")
        if not sd.flags.writeable:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")

    def _inplace(self, fn, *args, **kwargs):
        """Run out-of-place `fn(self, *args)` and write the result into self, recording history."""
        if self._inference and not STATE.inference:
            raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
                               "a clone to get a normal tensor before doing inplace update.See "
                               "https://github.com/pytorch/rfcs/pull/17 for more details.")
        recording = STATE.enabled and (self._rg or (self._base is not None and self._base._rg) or any(
            isinstance(a, Tensor) and a._rg for a in args))
        if not recording:
            result = fn(self, *args, **kwargs)
            self._check_inplace_result(result)
            np.copyto(self._data, result._data, casting="unsafe")
            self._bump()
            return self
        if self._base is not None:
            self._sync_view()
        self._check_inplace_allowed()
        old = Tensor._make(self._data.copy())
        old._grad_fn, old._output_nr, old._rg = self._grad_fn, self._output_nr, self._rg
        result = fn(old, *args, **kwargs)
        self._check_inplace_result(result)
        if result._data.dtype != self._data.dtype:
            result = result.to(self.dtype)
        np.copyto(self._data, result._data, casting="unsafe")
        self._bump()
        if result._grad_fn is not None:
            _function.adopt_saved_output(result, self)
            old_fn, old_nr = self._grad_fn, self._output_nr
            self._grad_fn, self._output_nr, self._rg = result._grad_fn, result._output_nr, True
            if self._retains_grad:
                self._move_retain(old_fn, old_nr)
            if self._base is not None:
                self._rebase_view_history(result._grad_fn, result._output_nr)
        return self

    # ---- device / dtype conversion -------------------------------------------------------------
    def cuda(self, device=None, non_blocking=False, memory_format=None):
        _dtype.check_device("cuda" if device is None else device)

    def cpu(self, memory_format=None):
        return self

    def pin_memory(self, device=None):
        return self

    def is_pinned(self, device=None):
        return False

    def as_subclass(self, cls):
        """A cls instance viewing self's data: changes mirror both ways and gradients flow back to self."""
        if not isinstance(cls, type):
            raise TypeError(f"cls must be a type (got {type(cls).__name__})")
        if not issubclass(cls, Tensor):
            raise TypeError("Creating a Tensor subclass from a class that does not inherit from Tensor is not "
                            "possible. Make sure your class inherits from Tensor.")
        return _alias_as(self, cls)

    def share_memory_(self):
        """Move the data into shared memory, in place, so other processes can use it (see multiprocessing)."""
        from .multiprocessing import reductions
        return reductions.share_memory_(self)

    def is_shared(self):
        from .multiprocessing import reductions
        return reductions.is_shared(self)


def _identity(t):
    return t


def _can_cast(src, dst):
    src, dst = np.dtype(src), np.dtype(dst)
    order = "biufc"
    return order.index(src.kind) <= order.index(dst.kind)


def _wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _legacy_construct(cls, d, args, device):
    """torch's legacy constructors in dtype d: () empty, (*sizes) or (Size) zeros, (sequence or ndarray) data,
    (tensor) an alias of it; other arguments raise PyTorch's errors."""
    _dtype.check_device(device)
    if not args:
        return cls._make(np.zeros(0, d.np))
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if device is not None:
            raise RuntimeError("Legacy tensor constructor of the form torch.Tensor(tensor, device=device) is not "
                               "supported.  Use torch.tensor(...) or torch.as_tensor(...) instead.")
        return _alias_as(first, cls)
    if len(args) == 1 and isinstance(first, Size):
        return cls._make(np.zeros(_new_sizes(first), d.np))
    if _is_index(first):
        return cls._make(np.zeros(_new_sizes(args), d.np))
    if len(args) > 1:
        raise TypeError(_new_invalid_args(args, {} if device is None else {"device": device}))
    if isinstance(first, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{_tp_name(first)}'")
    if isinstance(first, np.ndarray):
        return cls._make(np.asarray(first, dtype=d.np))
    if isinstance(first, (dict, np.generic)) or not hasattr(type(first), "__getitem__"):
        raise TypeError(f"new(): data must be a sequence (got {_tp_name(first)})")
    from .ops.creation import tensor
    return cls._make(tensor(first, dtype=d)._data)


def _alias_as(t, cls):
    """A view of all of t (AliasBackward0 in a graph) whose class is cls."""
    alias = _function.as_node(t.view_as(t), "AliasBackward0")
    if cls is not Tensor:
        alias.__class__ = cls
    return alias


def _tp_name(obj):
    """How PyTorch's argument errors name the type of obj (Python's tp_name, with torch's names for ember types)."""
    t = type(obj)
    if isinstance(obj, (Size, _dtype.dtype, _dtype.device)):
        return "torch." + t.__name__
    if isinstance(obj, Tensor) or t.__flags__ & (1 << 9) or t.__module__ == "builtins":  # 1 << 9: a heap type
        return "Tensor" if isinstance(obj, Tensor) else t.__name__
    return f"{t.__module__}.{t.__name__}"


def _tp_desc(obj):
    """An argument as PyTorch's parser describes a mismatch: sequences list their element types."""
    if isinstance(obj, Size) or type(obj) is tuple:
        return f"{_tp_name(obj)} of ({', '.join(_tp_name(o) for o in obj)})"
    if type(obj) is list:
        return f"list of [{', '.join(_tp_name(o) for o in obj)}]"
    return _tp_name(obj)


_NEW_SIGNATURES = ("(*, torch.device device = None)", "(torch.Storage storage)", "(Tensor other)",
                   "(tuple of ints size, *, torch.device device = None)",
                   "(object data, *, torch.device device = None)")
_NEW_MISMATCH_ROWS = {1: (1, 2), 2: (0,), 3: (3, 4)}  # rows torch explains a mismatch under, by argument count


def _new_invalid_args(args, kwargs):
    """torch.Tensor(...)'s "invalid combination of arguments" message (kwargs: unknown ones first, device last)."""
    got = ", ".join([_tp_name(a) for a in args] + [f"{k}={_tp_name(v)}" for k, v in kwargs.items()])
    if kwargs:
        why = "some of the keywords were incorrect: " + ", ".join(kwargs)
    else:
        why = "some of the arguments have invalid types: (" + ", ".join(f"!{_tp_desc(a)}!" for a in args) + ")"
    rows = _NEW_MISMATCH_ROWS.get(len(args) + len(kwargs), ())
    lines = [f"new() received an invalid combination of arguments - got ({got}{', ' if kwargs and not args else ''}), "
             "but expected one of:"]
    for i, sig in enumerate(_NEW_SIGNATURES):
        lines.append(f" * {sig}")
        if i in rows:
            lines.append(f"      didn't match because {why}")
    return "\n".join(lines) + "\n"


def _new_keyword_args(args, kwargs, device):
    """torch.Tensor(size=...) / torch.Tensor(data=...) as positional arguments; other keywords are errors."""
    if len(kwargs) == 1 and not args:
        if "data" in kwargs:
            return (kwargs["data"],)
        size = kwargs.get("size")
        if isinstance(size, (tuple, list)) and all(_is_index(s) for s in size):
            return (Size(_new_sizes(size)),)
    named = dict(kwargs, **({} if device is None else {"device": device}))
    raise TypeError(_new_invalid_args(args, named))


def _is_index(obj):
    """An int-like size argument (ints, NumPy integers, one-element integer tensors; not bools)."""
    if isinstance(obj, (bool, np.bool_)):
        return False
    try:
        operator.index(obj)
    except TypeError:
        return False
    return True


def _new_sizes(sizes):
    """The sizes of torch.Tensor(*sizes) as ints, with PyTorch's errors for non-ints and negative sizes."""
    out = []
    for pos, s in enumerate(sizes, 1):
        try:
            out.append(operator.index(s))
        except TypeError:
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {pos} with error \"type must "
                            f"be tuple of ints,but got {_tp_name(s)}\"") from None
    neg = next((s for s in out if s < 0), None)
    if neg is not None:
        raise RuntimeError(f"Trying to create tensor with negative dimension {neg}: {out}")
    return tuple(out)


def _user_state(t):
    """The attributes a user set on tensor t (ember's own are class-level defaults), pickled as torch pickles them."""
    return {k: v for k, v in t.__dict__.items() if k != "_data" and k not in _TENSOR_ATTRS}


def _rebuild_tensor(data, requires_grad, cls=Tensor, state=None):
    """Unpickle a tensor; a subclass instance is made by as_subclass, as torch's _rebuild_from_type_v2 does."""
    if cls._is_param:
        return cls(Tensor._make(data), requires_grad)
    t = Tensor._make(data, requires_grad)
    if cls is not Tensor:
        t = t.as_subclass(cls)
    if state:
        t.__dict__.update(state)
    return t


_TENSOR_ATTRS = frozenset(vars(Tensor))
_function.Tensor = Tensor
_function.HELD_TYPES.add(Tensor)
_engine.Tensor = Tensor
_tensor_str._get_default_dtype = get_default_dtype
