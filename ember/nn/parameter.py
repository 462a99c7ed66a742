"""nn.Parameter and the uninitialized placeholders used by lazy modules."""
import numpy as np

from .._tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute."""

    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(np.zeros(0, np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = cls._make(data._data)
        p._vc = data._vc_get()
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        from .._tensor import _rebuild_tensor
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
    return isinstance(param, UninitializedTensorMixin)


class UninitializedTensorMixin:
    """A placeholder whose shape is unknown until the first forward call materializes it."""

    def materialize(self, shape, device=None, dtype=None):
        from .._dtype import to_dtype, get_default_dtype
        d = to_dtype(dtype) if dtype is not None else self._lazy_dtype
        self._data = np.empty(tuple(shape), d.np)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def numel(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self._rg,))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter not yet initialized (lazy modules)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from .._dtype import to_dtype, get_default_dtype
        p = Tensor._make.__func__(cls, np.zeros(0, np.float32))
        p._rg = requires_grad
        p._lazy_dtype = to_dtype(dtype) if dtype is not None else get_default_dtype()
        return p


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer not yet initialized (lazy modules)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        from .._dtype import to_dtype, get_default_dtype
        b = Tensor._make.__func__(cls, np.zeros(0, np.float32))
        b._rg = requires_grad
        b._lazy_dtype = to_dtype(dtype) if dtype is not None else get_default_dtype()
        return b


class Buffer(Tensor):
    """nn.Buffer: a Tensor that a Module registers as a buffer when assigned as an attribute."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.zeros(0, np.float32))
        t = Tensor._make(data._data)
        t._vc = data._vc_get()
        t._buffer_persistent = persistent
        return t
