"""nn.Parameter, nn.Buffer and the uninitialized placeholders used by lazy modules."""
import numpy as np

from .._tensor import Tensor
from .._dtype import to_dtype, get_default_dtype, check_device

__all__ = ["Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedBuffer",
           "UninitializedTensorMixin"]


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute."""

    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(np.empty(0, get_default_dtype().np))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = cls._make(data._data)
        p._vc = data._vc_get()
        if requires_grad:
            if data._data.dtype.kind not in "fc":
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            p.requires_grad_(True)
        return p

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (np.array(self._data), self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy()), self._rg)
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    return Parameter(Tensor._make(data), requires_grad)


def is_lazy(param):
    """Whether `param` is an UninitializedParameter or UninitializedBuffer."""
    return isinstance(param, UninitializedTensorMixin)


# Tensor methods an uninitialized placeholder still answers (as in PyTorch): metadata and dtype/device moves.
_ALLOWED_METHODS = frozenset({"size", "copy_", "is_complex", "is_floating_point", "half", "float", "double", "char",
                              "short", "int", "long", "cuda", "cpu", "to", "get_device", "materialize",
                              "share_memory_"})


class UninitializedTensorMixin:
    """A placeholder whose shape is unknown until the first forward call materializes it."""

    def materialize(self, shape, device=None, dtype=None):
        """Give the placeholder real storage of `shape` and turn it into `cls_to_become`."""
        check_device(device)
        d = to_dtype(dtype).np if dtype is not None else self._data.dtype
        self._data = np.empty(tuple(shape), d)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize "
                           "the parameters before calling `module.share_memory()`.")

    def __getattribute__(self, name):
        if name[0] != "_" and name not in _ALLOWED_METHODS and callable(getattr(Tensor, name, None)):
            _refuse(type(self), name)
        return object.__getattribute__(self, name)

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (self.__class__, (self._rg,))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self._rg, None, self.dtype)
        memo[id(self)] = result
        return result


def _refuse(cls, name):
    raise ValueError(f"Attempted to use an uninitialized parameter in <method '{name}' of 'Tensor' objects>. This "
                     "error happens when you are using a `LazyModule` or explicitly manipulating "
                     f"`torch.nn.parameter.{cls.__name__}` objects. When using LazyModules Call `forward` with a "
                     "dummy batch to initialize the parameters before calling torch functions")


def _refusing(name):
    """An operator slot that rejects uninitialized placeholders (operators bypass __getattribute__)."""
    def op(self, *args, **kwargs):
        _refuse(type(self), name)
    op.__name__ = name
    return op


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
            "rshift"):
    for _slot in (f"__{_op}__", f"__r{_op}__", f"__i{_op}__"):
        setattr(UninitializedTensorMixin, _slot, _refusing(_slot))
for _slot in ("__neg__", "__pos__", "__abs__", "__invert__", "__getitem__", "__setitem__", "__lt__", "__le__",
              "__gt__", "__ge__", "__iter__", "__len__", "__bool__", "__float__", "__int__", "__array__"):
    setattr(UninitializedTensorMixin, _slot, _refusing(_slot))


def _placeholder(cls, requires_grad, device, dtype):
    check_device(device)
    t = Tensor._make.__func__(cls, np.empty(0, (to_dtype(dtype) if dtype is not None else get_default_dtype()).np))
    if requires_grad:
        t._rg = True
    return t


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter not yet initialized (lazy modules)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _placeholder(cls, requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer not yet initialized (lazy modules)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        b = _placeholder(cls, requires_grad, device, dtype)
        b.persistent = persistent
        b._is_buffer = True
        return b


class _BufferMeta(type):
    """isinstance(t, Buffer) is true for any Tensor flagged as a buffer (Buffer(...) returns a plain Tensor)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """nn.Buffer: a Tensor that a Module registers as a buffer when assigned as an attribute."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.empty(0, get_default_dtype().np))
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
