"""dtype objects, PyTorch's type-promotion rules, the default dtype, and Size."""
import builtins

import numpy as np


class dtype:
    """A tensor element type; wraps the NumPy dtype that stores it (None for types NumPy lacks)."""

    __slots__ = ("name", "_np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_category")

    def __init__(self, name, np_dtype, category, itemsize=None):
        self.name = name
        self._np = np.dtype(np_dtype) if np_dtype is not None else None
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.itemsize = self._np.itemsize if self._np is not None else itemsize
        self.is_signed = not name.startswith("uint") and name != "bool"
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex

    @property
    def np(self):
        """The NumPy dtype storing this type; NotImplementedError for types NumPy cannot hold."""
        if self._np is None:
            raise NotImplementedError(f"ember does not implement {self!r} tensors (NumPy has no such type); "
                                      "use float16/float32 or complex64 instead")
        return self._np

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return {"complex32": float16, "complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float16": complex32, "bfloat16": complex64, "float32": complex64, "float64": complex128}.get(
            self.name, self)


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
uint16 = dtype("uint16", np.uint16, 1)
uint32 = dtype("uint32", np.uint32, 1)
uint64 = dtype("uint64", np.uint64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
complex64 = dtype("complex64", np.complex64, 3)
complex128 = dtype("complex128", np.complex128, 3)
bfloat16 = dtype("bfloat16", None, 2, itemsize=2)
complex32 = dtype("complex32", None, 3, itemsize=4)

ALL = [bool_, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16, float32, float64, complex64,
       complex128]
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL + [bfloat16, complex32]}
ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32,
           "long": int64, "cfloat": complex64, "cdouble": complex128, "chalf": complex32, "bool": bool_}
_SHELL_UINTS = (uint16, uint32, uint64)


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The ember dtype that stores arrays of `np_dtype` (TypeError for unsupported ones)."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
                        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, "
                        "uint32, uint16, uint8, and bool.") from None


def to_dtype(d):
    """Accept an ember dtype, a NumPy dtype, a Python type or a type name; return an ember dtype."""
    if isinstance(d, dtype):
        d.np  # types without NumPy storage raise NotImplementedError here
        return d
    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    if d is builtins.complex:
        return complex128
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        if name in ALIASES:
            return to_dtype(ALIASES[name])
        if name in _BY_NAME:
            return to_dtype(_BY_NAME[name])
    return from_numpy_dtype(d)


_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(d):
    """Set the dtype of float factories and of Python floats in promotion (float16/32/64 only)."""
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the default type")
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = to_dtype(d)


def default_complex():
    """The complex dtype matching the default float dtype (Python complex scalars take it)."""
    return _default[0].to_complex()


_PROMOTE_NAMES = {bool_: "Bool", uint8: "Byte", int8: "Char", int16: "Short", int32: "Int", int64: "Long",
                  uint16: "UInt16", uint32: "UInt32", uint64: "UInt64", float16: "Half", bfloat16: "BFloat16",
                  float32: "Float", float64: "Double", complex32: "ComplexHalf", complex64: "ComplexFloat",
                  complex128: "ComplexDouble"}


def scalar_name(d):
    """PyTorch's C++ ScalarType name of a dtype ('Float', 'Long', ...), as used in its error messages."""
    return _PROMOTE_NAMES[d]


def promote_types(a, b):
    """PyTorch's promote_types: the smallest dtype both `a` and `b` convert to safely."""
    if a is b:
        return a
    if (a in _SHELL_UINTS and not b.is_floating_point) or (b in _SHELL_UINTS and not a.is_floating_point):
        raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
                           f"{_PROMOTE_NAMES[a]} and {_PROMOTE_NAMES[b]}")
    ca, cb = a._category, b._category
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi.is_complex and lo.is_floating_point:
            return promote_types(hi.to_real(), lo).to_complex()
        return hi
    if ca == 3:
        return promote_types(a.to_real(), b.to_real()).to_complex()
    if ca == 2:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize > b.itemsize else b
    return _BY_NP[np.promote_types(a.np, b.np)]


def can_cast(from_, to):
    """torch.can_cast: False only for complex->real, float->integral and non-bool->bool casts."""
    if from_.is_complex and not to.is_complex:
        return False
    if from_.is_floating_point and to._category < 2:
        return False
    return not (from_ is not bool_ and to is bool_)


def _combine_categories(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    """The dtype a Python scalar takes part in promotion with ("wrapped number")."""
    if isinstance(value, builtins.bool) or isinstance(value, np.bool_):
        return bool_
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (builtins.float, np.floating)):
        return _default[0]
    if isinstance(value, (builtins.complex, np.complexfloating)):
        return default_complex()
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def result_type(*operands):
    """torch.result_type over Tensors and Python scalars, with PyTorch's three priority tiers."""
    dim = zero = wrapped = None
    for o in operands:
        d = getattr(o, "dtype", None)
        if d is None or not isinstance(d, dtype):
            wrapped = scalar_dtype(o) if wrapped is None else promote_types(wrapped, scalar_dtype(o))
        elif o.ndim == 0:
            zero = d if zero is None else promote_types(zero, d)
        else:
            dim = d if dim is None else promote_types(dim, d)
    return _combine_categories(dim, _combine_categories(zero, wrapped))


class Size(tuple):
    """torch.Size: a tuple of ints with PyTorch's repr."""

    def __new__(cls, sizes=()):
        out = []
        for i, s in enumerate(sizes):
            if isinstance(s, (builtins.float, np.floating)) or not hasattr(s, "__index__"):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is '{type(s).__name__}')")
            out.append(s.__index__())
        return tuple.__new__(cls, out)

    def __repr__(self):
        return "torch.Size([" + ", ".join(str(int(s)) for s in self) + "])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return tuple.__new__(Size, r) if isinstance(item, slice) else r  # a slice's entries are checked ints

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return Size(tuple(self) + other)

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(other + tuple(self))

    def __mul__(self, n):
        return Size(tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                 "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """torch.device; ember computes on the CPU only."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, builtins.int):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif ":" in type:
            type, idx = type.split(":", 1)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = builtins.int(idx)
        if type not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                               f"{type}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = type
        self.index = index

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


class DeviceUnavailableError(RuntimeError, AssertionError):
    """Raised for accelerator devices; PyTorch raises AssertionError or RuntimeError here, so this is both."""


def check_device(d):
    """Accept CPU device specs; raise a clear error for accelerators."""
    if d is None:
        return
    if isinstance(d, builtins.int):
        d = device("cuda", d)
    elif not isinstance(d, device):
        d = device(d)
    if d.type == "meta":
        raise NotImplementedError("ember does not implement the meta device; tensors always hold data on the CPU")
    if d.type != "cpu":
        raise DeviceUnavailableError(f"ember runs on the CPU only; device '{d}' is not available "
                                     "(Torch not compiled with CUDA enabled)")


class finfo:
    """torch.finfo: machine limits of a floating-point dtype."""

    _BF16 = dict(bits=16, eps=0.0078125, max=3.3895313892515355e+38, tiny=1.1754943508222875e-38, resolution=0.01)

    def __init__(self, type=None):
        type = _default[0] if type is None else type
        if not isinstance(type, dtype) or not (type.is_floating_point or type.is_complex):
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'torch.finfo'")
        real = type.to_real()
        if real is bfloat16:
            v = self._BF16
        else:
            f = np.finfo(real.np)
            v = dict(bits=f.bits, eps=builtins.float(f.eps), max=builtins.float(f.max),
                     tiny=builtins.float(f.smallest_normal), resolution=10.0 ** -f.precision)
        self.bits, self.eps, self.max, self.tiny, self.resolution = (v["bits"], v["eps"], v["max"], v["tiny"],
                                                                     v["resolution"])
        self.min = -self.max
        self.smallest_normal = self.tiny
        self.dtype = real.name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: machine limits of an integer dtype."""

    def __init__(self, type):
        if not isinstance(type, dtype) or type._category != 1:
            if type is bool_:
                raise TypeError("torch.bool is not supported by torch.iinfo")
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{type}'")
        i = np.iinfo(type.np)
        self.bits, self.min, self.max, self.dtype = i.bits, builtins.int(i.min), builtins.int(i.max), type.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
