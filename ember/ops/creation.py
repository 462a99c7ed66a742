"""Tensor factories (tensor, zeros, arange, ...) and random sampling (rand, randn, normal, ...)."""
import builtins
import math
import os
import warnings
from collections.abc import Sequence

import numpy as np

from .._tensor import Tensor
from .. import _dtype
from .._dtype import get_default_dtype, to_dtype, check_device
from .. import random as _random
from ._util import check_out_overlap


def _finish(arr, requires_grad=False, device=None):
    """Wrap a fresh array as a leaf tensor (checking the device and that only float tensors require grad)."""
    check_device(device)
    t = Tensor._make(arr)
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def _size_arg(size, name):
    """Factory sizes: ints as varargs or one tuple/list/Size, with PyTorch's TypeErrors and negative-size error."""
    for s in size:
        if type(s) is not int or s < 0:
            break
    else:
        if size:
            return size  # plain non-negative ints as varargs: nothing to convert
    if len(size) == 0:
        raise TypeError(f"{name}() missing 1 required positional arguments: \"size\"")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    elif len(size) == 1 and not _is_int(size[0]):
        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {type(size[0]).__name__}")
    out = []
    for i, s in enumerate(size):
        if not _is_int(s):
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                            f"\"type must be tuple of ints,but got {type(s).__name__}\"")
        out.append(s.__index__())
    if any(s < 0 for s in out):
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(out)}: {out}")
    return tuple(out)


def _is_int(s):
    """An integer size: int, NumPy integer or integer 0-d tensor, but not bool."""
    if isinstance(s, Tensor):
        return s._data.ndim == 0 and s._data.dtype.kind in "iu"
    return isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_))


# ---- torch.tensor and friends -----------------------------------------------------------------------------------
_PY_SCALAR_DTYPE = {bool: lambda: _dtype.bool_, int: lambda: _dtype.int64, float: get_default_dtype,
                    builtins.complex: _dtype.default_complex}


def _leaf_dtype(v):
    """The dtype PyTorch infers for one leaf of nested data."""
    t = type(v)
    if t in _PY_SCALAR_DTYPE:
        return _PY_SCALAR_DTYPE[t]()
    if isinstance(v, (Tensor, np.ndarray, np.generic)):
        return _dtype.from_numpy_dtype(v._data.dtype if isinstance(v, Tensor) else v.dtype)
    for base, f in _PY_SCALAR_DTYPE.items():
        if isinstance(v, base):
            return f()
    raise RuntimeError(f"Could not infer dtype of {t.__name__}")


def _is_seq(data):
    """Sequences PyTorch descends into (strings are leaves, and an error)."""
    return isinstance(data, Sequence) and not isinstance(data, (str, bytes))


class _Scan:
    """One walk over nested data: its shape (from the first elements, as PyTorch reads it) and its leaves' dtypes."""

    def __init__(self, data):
        self.shape, self.depth, self.dtypes = [], None, set()
        self.visit(data, 0)

    def visit(self, data, dim):
        if _is_seq(data):
            self.visit_seq(data, dim)
            return
        if isinstance(data, str):
            raise ValueError(f"too many dimensions '{type(data).__name__}'")
        if isinstance(data, Tensor):
            if dim and data._data.size != 1:
                raise TypeError("only integer tensors of a single element can be converted to an index")
            data = data._data if not dim else data._data.reshape(())
        if isinstance(data, np.ndarray):
            for k, n in enumerate(data.shape):
                self.size_at(dim + k, n)
            dim += data.ndim
        self.leaf_at(dim)
        self.dtypes.add(_leaf_dtype(data))

    def visit_seq(self, data, dim):
        if self.depth is not None and dim >= self.depth:
            raise TypeError(f"'{type(data).__name__}' object cannot be interpreted as an integer")
        self.size_at(dim, len(data))
        kinds = set(map(type, data))
        if data and kinds <= _PY_SCALAR_DTYPE.keys():  # fast path: a row of plain Python numbers
            self.leaf_at(dim + 1)
            self.dtypes.update(_PY_SCALAR_DTYPE[k]() for k in kinds)
            return
        if not data:  # an empty sequence counts as the default dtype, as in PyTorch
            self.dtypes.add(get_default_dtype())
            if self.depth is None and len(self.shape) == dim + 1:
                self.depth = dim + 1
        for d in data:
            self.visit(d, dim + 1)

    def size_at(self, dim, n):
        if len(self.shape) == dim:
            self.shape.append(n)
        elif self.shape[dim] != n and 0 not in self.shape[:dim + 1]:  # PyTorch stores nothing once a size is 0
            raise ValueError(f"expected sequence of length {self.shape[dim]} at dim {dim} (got {n})")

    def leaf_at(self, dim):
        if self.depth is None:
            self.depth = dim
        elif (self.depth != dim or len(self.shape) > dim) and 0 not in self.shape:
            raise TypeError("not a sequence")

    def dtype(self):
        """promote_types over every leaf (the default dtype when there are none)."""
        out = None
        for d in self.dtypes:
            out = d if out is None else _dtype.promote_types(out, d)
        return get_default_dtype() if out is None else out


def _unwrap(data, top=True):
    """Nested data with Tensors replaced by their arrays (one-element tensors inside sequences by scalars)."""
    if isinstance(data, Tensor):
        return data._data if top else data._data.reshape(())
    if isinstance(data, range):
        return list(data)
    if _is_seq(data) and not set(map(type, data)) <= _PY_SCALAR_DTYPE.keys() and builtins.any(
            isinstance(d, Tensor) or _is_seq(d) for d in data):
        return [_unwrap(d, False) for d in data]
    return data


def _int_overflow(arr, d):
    """True if some Python number in arr does not fit the integer dtype d (PyTorch's checked conversion)."""
    if d._category != 1 or arr.dtype.kind not in "iuf" or not arr.size:
        return False
    info = np.iinfo(d.np)
    lo, hi = int(info.min), int(info.max)
    if arr.dtype.kind == "f":
        return bool(not np.isfinite(arr).all() or arr.min() < lo or arr.max() > hi)
    return bool(arr.max() > hi or arr.min() < (lo if lo < 0 else -hi))


def _to_array(data, d, scan):
    """Nested data as a new C-contiguous ndarray of dtype d, converted with C casts (truncation, wrap-around)."""
    if 0 in scan.shape:
        return np.zeros(scan.shape, d.np)
    fresh = not isinstance(data, (Tensor, np.ndarray))
    arr = np.array(_unwrap(data))
    if arr.dtype == object or (arr.dtype.kind == "u" and d is _dtype.int64 and arr.dtype.itemsize == 8 and fresh):
        raise ValueError("Overflow when unpacking long long")
    if arr.dtype.kind == "c" and d._category < 3:
        raise TypeError(f"can't convert complex to {d.name}")
    if fresh and _int_overflow(arr, d):
        raise RuntimeError(f"value cannot be converted to type {d.name} without overflow")
    return arr.astype(d.np, order="C", copy=not fresh)


def _plain_list_array(data):
    """A flat or 2-level rectangular list of Python bools, ints or floats as an array of PyTorch's inferred dtype
    (the common case of torch.tensor, without the general scan); None for anything else."""
    if type(data[0]) is list:
        width = len(data[0])
        if not width or builtins.any(type(row) is not list or len(row) != width for row in data):
            return None
        kinds = set()
        for row in data:
            kinds.update(map(type, row))
    else:
        kinds = set(map(type, data))
    if not kinds <= _PLAIN_KINDS:
        return None
    if float in kinds:  # Python ints of any size convert to float, as in PyTorch
        return np.array(data, np.float64).astype(get_default_dtype().np, copy=False)
    arr = np.array(data)
    return arr if arr.dtype == np.int64 or arr.dtype == np.bool_ else None


_PLAIN_KINDS = {bool, int, float}


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (nested sequences, scalars, NumPy arrays or Tensors)."""
    if dtype is None and type(data) is list and data:
        arr = _plain_list_array(data)
        if arr is not None:
            return _finish(arr, requires_grad, device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() or "
                      "sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    if isinstance(data, str):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    scan = _Scan(data)
    d = to_dtype(dtype) if dtype is not None else scan.dtype()
    return _finish(_to_array(data, d, scan), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing memory with `data` when possible (NumPy arrays, Tensors)."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or to_dtype(dtype) == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        t = from_numpy(data)
        return t if dtype is None or to_dtype(dtype) == t.dtype else Tensor._make(data.astype(to_dtype(dtype).np))
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """torch.asarray: share memory with tensors and arrays unless a dtype change or copy=True needs a copy."""
    check_device(device)
    src = obj._data if isinstance(obj, Tensor) else obj if isinstance(obj, np.ndarray) else None
    if src is None:
        t = tensor(obj, dtype=dtype)
    else:
        have = _dtype.from_numpy_dtype(src.dtype)
        d = to_dtype(dtype) if dtype is not None else have
        if copy is False and d is not have:
            raise ValueError(f"can't alias tensor with dtype '{_dtype.scalar_name(have)}' into dtype "
                             f"'{_dtype.scalar_name(d)}'.")
        if copy or d.np != src.dtype:
            t = Tensor._make(src.astype(d.np, order="C", copy=True))
        else:
            t = obj if isinstance(obj, Tensor) else from_numpy(obj)
    return t.requires_grad_(True) if requires_grad else t


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion between "
                         "byte orders is currently not supported.")
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative strides "
                         "are not currently supported. (You can probably work around this by making a copy of your "
                         "array  with array.copy().) ")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def from_dlpack(ext_tensor):
    """A tensor sharing memory with any DLPack producer (NumPy arrays, ember tensors, ...)."""
    return from_numpy(np.from_dlpack(ext_tensor))


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor viewing a Python buffer."""
    return _finish(np.frombuffer(buffer, to_dtype(dtype).np, count, offset), requires_grad)


# ---- constant factories -----------------------------------------------------------------------------------------
def _dt(dtype):
    """The NumPy dtype for a factory's dtype argument (None: the default dtype)."""
    return to_dtype(dtype).np if dtype is not None else get_default_dtype().np


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of zeros; sizes as varargs or one sequence."""
    return _fill_out(out, np.zeros(_size_arg(size, "zeros"), _dt(dtype)), requires_grad, device)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ones; sizes as varargs or one sequence."""
    return _fill_out(out, np.ones(_size_arg(size, "ones"), _dt(dtype)), requires_grad, device)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An 'uninitialised' tensor: zero-filled, so results never depend on stale memory."""
    return _fill_out(out, np.zeros(_size_arg(size, "empty"), _dt(dtype)), requires_grad, device)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A zero-filled tensor with the given strides, over a storage just large enough for them."""
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    dt = _dt(dtype)
    n = 1 + sum((a - 1) * b for a, b in zip(size, stride)) if math.prod(size) else 0
    storage = np.zeros(n, dt)
    arr = np.ndarray(size, dt, buffer=storage, strides=tuple(s * storage.itemsize for s in stride))
    return _finish(arr, requires_grad, device)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """A zero-filled tensor of shape `size` whose memory holds its dims in the order `physical_layout` (outermost
    first): a permuted view of a contiguous array, as PyTorch allocates it."""
    size = _size_arg((size,), "empty_permuted")
    perm = tuple(int(d) for d in physical_layout)
    if len(perm) != len(size):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(perm)}")
    for i, d in enumerate(perm):
        if not 0 <= d < len(size):
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and {len(size) - 1}, but got {d} at "
                               f"index {i}).  NB: negative dims not currently supported; file an issue if you want "
                               f"it.")
    if len(set(perm)) != len(perm):
        raise RuntimeError("Duplicate dim not allowed")
    arr = np.zeros(tuple(size[d] for d in perm), _dt(dtype)).transpose(np.argsort(perm))
    return _finish(arr, requires_grad, device)


def _fill_out(out, arr, requires_grad, device):
    """Return arr as a new tensor, or store it into `out` (resized, cast to out's dtype)."""
    if out is not None:
        out._data = arr.astype(out._data.dtype)
        return out
    return _finish(arr, requires_grad, device)


def _fill_number(fill_value, name):
    """full()'s fill value as a Python number (0-d tensors count as numbers)."""
    if isinstance(fill_value, Tensor) and fill_value._data.ndim == 0:
        return fill_value.item()
    if isinstance(fill_value, np.generic):
        return fill_value.item()
    if not isinstance(fill_value, (bool, int, float, builtins.complex)):
        raise TypeError(f"{name}(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    return fill_value


_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t"}


def _cast_scalar(value, np_dtype):
    """A Python number converted to np_dtype with C semantics (truncation), checked for overflow as PyTorch does."""
    d = _dtype.from_numpy_dtype(np_dtype)
    if (d._category < 2 and isinstance(value, builtins.complex)) or _int_overflow(np.array(value), d):
        raise RuntimeError(f"value cannot be converted to type {_C_NAMES.get(d.name, d.name)} without overflow")
    if np.dtype(np_dtype).kind != "c" and isinstance(value, builtins.complex):
        value = value.real
    arr = np.array(value)
    return (arr.astype(np.float32) if d is _dtype.float16 else arr).astype(np_dtype)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor filled with fill_value; the dtype follows the value's type (bool, int64, default float)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    fill_value = _fill_number(fill_value, "full")
    d = to_dtype(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    arr = np.full(_size_arg((size,), "full"), _cast_scalar(fill_value, d.np), d.np)
    return _fill_out(out, arr, requires_grad, device)


def _check_like(input, name):
    """*_like factories take a Tensor (PyTorch's TypeError otherwise)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _like_dtype(input, dtype):
    """The NumPy dtype of a *_like result: the argument, else input's."""
    return to_dtype(dtype).np if dtype is not None else input._data.dtype


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with input's shape (and dtype unless given)."""
    _check_like(input, "zeros_like")
    return _finish(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones with input's shape (and dtype unless given)."""
    _check_like(input, "ones_like")
    return _finish(np.ones(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """A zero-filled tensor with input's shape (and dtype unless given)."""
    _check_like(input, "empty_like")
    return _finish(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """fill_value with input's shape (and dtype unless given)."""
    _check_like(input, "full_like")
    nd = _like_dtype(input, dtype)
    fill = _cast_scalar(_fill_number(fill_value, "full_like"), nd)
    return _finish(np.full(input._data.shape, fill, nd), requires_grad, device)


# ---- ranges -----------------------------------------------------------------------------------------------------
# arange and linspace reproduce PyTorch's CPU kernels bit for bit: the kernels are compiled with FMA contraction and
# arange fills whole SIMD vectors (two per step) from a per-vector base value, then finishes element by element.
def _cpu_capability():
    """PyTorch's CPU kernel flavour on this machine: 'avx512', 'avx2' or 'default'."""
    env = os.environ.get("ATEN_CPU_CAPABILITY", "").lower()
    if env in ("default", "avx2", "avx512"):
        return env
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # pragma: no cover - older NumPy
        return "avx2"
    if all(feats.get(f) for f in ("AVX512F", "AVX512VL", "AVX512BW", "AVX512DQ", "FMA3")):
        return "avx512"
    return "avx2" if feats.get("AVX2") and feats.get("FMA3") else "default"


_CAPABILITY = _cpu_capability()
_VEC_BYTES = 32  # PyTorch 2.13's range kernels fill 32-byte vectors also where it runs AVX512 kernels (measured)
_USE_FMA = _CAPABILITY != "default"


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(x):
    c = 134217729.0 * x
    hi = c - (c - x)
    return hi, x - hi


def _round_to_odd(s, e):
    """s + e (s = fl(s + e), e its exact error) rounded to odd: an inexact even result steps one ulp toward e."""
    bits = s.view(np.int64)
    step = ((e != 0) & ((bits & 1) == 0)) * np.where((e > 0) == (s > 0), 1, -1)
    return (bits + step).view(np.float64)


def _fma64(a, b, c):
    """a*b + c in float64 rounded once, as the FMA instruction computes it (Boldo-Melquiond emulation).

    `a` is a scalar and `b` holds integers below 2**26, so only `a` needs Dekker's split for an exact product.
    """
    b, c = np.asarray(b, np.float64), np.asarray(c, np.float64)
    if not _USE_FMA:
        return a * b + c
    p = a * b
    ah, al = _split(np.float64(a))
    ep = (ah * b - p) + al * b
    s, es = _two_sum(c, p)
    return s + _round_to_odd(*_two_sum(es, ep))


def _fma32(a, b, c):
    """a*b + c for float32 operands, rounded once to float32 (float64 product is exact; round-to-odd sum)."""
    a, b, c = (np.asarray(v, np.float32).astype(np.float64) for v in (a, b, c))
    if not _USE_FMA:
        return (a * b).astype(np.float32) + c.astype(np.float32)
    return _round_to_odd(*_two_sum(a * b, c)).astype(np.float32)


def _exact_product(a, bmax):
    """Whether a * b is exact in float64 for every integer |b| <= bmax (a has few enough significant bits)."""
    m, _ = math.frexp(a)
    bits = 53 - builtins.max(int(bmax), 1).bit_length()
    return (m * 2.0 ** bits).is_integer()


def _fma64_to32(a, b, c):
    """float32(fma(a, b, c)) in float64 (a scalar, b integers below 2**26, c broadcastable), as _fma64 + cast.

    The unfused a*b + c is within E of the fused value; the two round to different float32 values only when a
    float32 midpoint lies within E of it, and only those few elements take the exact emulation.
    """
    b, c = np.asarray(b, np.float64), np.asarray(c, np.float64)
    s = a * b + c
    out = s.astype(np.float32)
    if not _USE_FMA or not s.size:
        return out
    bmax, cmax = float(np.abs(b).max(initial=0)), float(np.abs(c).max(initial=0))
    err = float(np.spacing(abs(a) * bmax) + np.spacing(abs(a) * bmax + cmax))
    d = np.abs(s - out.astype(np.float64))
    h = np.abs(np.spacing(out)).astype(np.float64)
    h *= 0.5
    near = (d >= h - err) | (np.abs(d - 0.5 * h) <= err)  # the midpoint beyond, or the one below a power of two
    if near.any():
        idx = np.nonzero(near)
        bb, cc = np.broadcast_arrays(b, c)
        out[idx] = _fma64(a, bb[idx], cc[idx]).astype(np.float32)
    return out


_TINY = 2.0 ** -100  # an FMA of operands that are 0 or at least this large gives a normal float32 or zero


def _fma32_fast(a, b, c):
    """_fma32(a, b, c) for a float32 scalar a, integers b below 2**29 and float32 c, a and c 0 or at least _TINY in
    magnitude: the float64 product is exact, so a float64 sum rounds twice wrongly only on an exact float32 tie, and
    only ties are mended."""
    if not _USE_FMA:
        return _fma32(a, b, c)
    p = float(a) * np.asarray(b, np.float64)
    s = p + c
    out = s.astype(np.float32)
    tie = (s.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    if tie.any():
        out[tie] = _off_tie(s[tie], p[tie], np.asarray(c, np.float64)[tie]).astype(np.float32)
    return out


def _off_tie(s, p, c):
    """s = fl(p + c), a float32 midpoint, moved one float64 ulp toward the exact p + c, so that rounding it to float32
    goes the way a single rounding of p + c goes (exact ties stay, and round to even)."""
    bb = s - p
    err = (p - (s - bb)) + (c - bb)
    return np.nextafter(s, np.where(err > 0, np.inf, np.where(err < 0, -np.inf, s)))


def _arange_float(start, step, n, np_dtype):
    """PyTorch's arange kernel for floating dtypes: vector blocks from a rounded base, then a scalar tail."""
    if np_dtype == np.float16:
        fma, acc = _fma32, np.float32
        start, step = np.float32(start), np.float32(step)
    elif _exact_product(step, n):
        fma, acc = (lambda a, b, c: a * b + c), np.float64  # an exact product: fused and unfused agree
    elif np_dtype == np.float32:
        fma, acc = _fma64_to32, np.float64
    else:
        fma, acc = _fma64, np.float64
    w = _VEC_BYTES // np.dtype(np_dtype).itemsize
    nvec = n // (2 * w) * 2 * w
    base = fma(step, np.arange(0, nvec, w, dtype=acc), start).astype(np_dtype).astype(acc)
    vec = fma(step, np.arange(w, dtype=acc), base[:, None]).reshape(-1)
    tail = fma(step, np.arange(nvec, n, dtype=acc), start)
    return np.concatenate([vec, tail]).astype(np_dtype)


def _arange_count(start, end, step, d):
    """Number of elements, with PyTorch's checks (bounds in double; int64 counts in integer arithmetic)."""
    fs, fe, fst = float(start), float(end), float(step)
    if fst == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(fs) and math.isfinite(fe)):
        raise RuntimeError(f"unsupported range: {fs:g} -> {fe:g}")
    if not ((fst > 0 and fe >= fs) or (fst < 0 and fe <= fs)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if d is _dtype.int64:
        s, e, st = int(start), int(end), int(step)
        if st == 0:
            raise ValueError("step must be nonzero")
        return builtins.max((e - s + st - (1 if st > 0 else -1)) // st, 0)
    return int(math.ceil((fe - fs) / fst))


def _is_floaty(v):
    return isinstance(v, (float, np.floating)) or isinstance(v, Tensor) and v.is_floating_point()


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step, matching PyTorch's element count and float values exactly."""
    if end is None:
        start, end = 0, start
    if dtype is None and out is not None:
        d = out.dtype  # as in PyTorch, out= decides the dtype
    elif dtype is None:
        d = get_default_dtype() if builtins.any(_is_floaty(v) for v in (start, end, step)) else _dtype.int64
    else:
        d = to_dtype(dtype)
    start, end, step = _num(start), _num(end), _num(step)
    if builtins.any(isinstance(v, builtins.complex) for v in (start, end, step)):
        raise RuntimeError("value cannot be converted to type double without overflow")
    if d is _dtype.bool_ or d.is_complex:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{_dtype.scalar_name(d)}'")
    n = _arange_count(start, end, step, d)
    if d.is_floating_point:
        arr = _arange_float(float(start), float(step), n, d.np)
    else:
        arr = (int(start) + int(step) * np.arange(n, dtype=np.int64)).astype(d.np)
    return _fill_out(out, arr, requires_grad, device)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated torch.range: like arange but including `end`."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    return _finish((start + np.arange(n, dtype=np.float64) * step).astype(d.np), requires_grad, device)


def _range_endpoint(v, name, which):
    if isinstance(v, Tensor):
        if v._data.ndim:
            raise RuntimeError(f"{name} only supports 0-dimensional start and end tensors, but got {which} with "
                               f"{v._data.ndim} dimension(s).")
        return v.item()
    return v.item() if isinstance(v, np.generic) else v


def _arg_type_name(v):
    """A value's type as PyTorch's argument parser prints it ('int', 'Tensor', 'numpy.float64')."""
    if isinstance(v, Tensor):
        return "Tensor"
    t = type(v)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _is_int_arg(v):
    """Whether PyTorch's parser takes v for an `int` argument: an int (not a bool) or an integer 0-d tensor."""
    if isinstance(v, Tensor):
        return v._data.ndim == 0 and v._data.dtype.kind in "iu"
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _range_signature_error(name, start, end, steps):
    """linspace/logspace's TypeError for a `steps` that is not an int, listing the overloads as PyTorch does."""
    base = "float base = 10.0, " if name == "logspace" else ""
    tail = ("int steps, " + base + "*, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
            "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n")
    pairs = ("Tensor start, Tensor end", "Number start, Tensor end", "Tensor start, Number end",
             "Number start, Number end")
    got = ", ".join(_arg_type_name(v) for v in (start, end, steps))
    raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                    + "".join(f" * ({p}, {tail}" for p in pairs))


def _steps_arg(steps, name, start, end):
    """linspace/logspace's steps as a non-negative int, with PyTorch's type and range errors."""
    if type(steps) is not int and not _is_int_arg(steps):
        _range_signature_error(name, start, end, steps)
    steps = int(_num(steps))
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return steps


def _linspace_values(start, end, steps, d):
    """PyTorch's linspace kernel: forward from start for the first half, backward from end for the rest."""
    if d is _dtype.float32:
        return _linspace_float32(np.float32(start), np.float32(end), steps)
    j = np.arange(steps)
    fwd = j < steps // 2
    if d.is_complex:
        s, e = np.asarray(start, d.np), np.asarray(end, d.np)
        step = (e - s) / d.np.type(steps - 1)
        return np.where(fwd, s + step * j, e - step * (steps - j - 1)).astype(d.np)
    if d._category < 2:
        s, e = float(_cast_scalar(start, d.np)), float(_cast_scalar(end, d.np))
        step = (e - s) / (steps - 1)
        vals = np.where(fwd, _fma64(step, j, s), _fma64(-step, steps - j - 1, e))
        return vals.astype(np.int64).astype(d.np)
    t = d.np.type
    s, e = t(start), t(end)
    step = t(t(e - s) / t(steps - 1))
    if d is _dtype.float16:
        jh, rh = j.astype(np.float16), (steps - j - 1).astype(np.float16)
        return np.where(fwd, s + step * jh, e - step * rh).astype(np.float16)
    return np.where(fwd, _fma64(step, j, s), _fma64(-step, steps - j - 1, e))


def _linspace_float32(s, e, steps):
    """The float32 kernel: fma(step, j, s) for the first half and fma(-step, steps - 1 - j, e) for the rest, computed
    as one pass (negating the product is exact)."""
    step = np.float32(np.float32(e - s) / np.float32(steps - 1))
    half = steps // 2
    k = np.arange(steps, dtype=np.float64)
    k[half:] -= steps - 1
    base = np.empty(steps, np.float32)
    base[:half], base[half:] = s, e
    if _sums_exact(step, steps, s, e):  # the float64 sum is the exact one: casting it is the single rounding
        k *= float(step)
        k += base
        return k.astype(np.float32)
    fma = _fma32_fast if all(v == 0 or abs(v) >= _TINY for v in (step, s, e)) else _fma32
    return fma(step, k, base)


def _sums_exact(a, bmax, *cs):
    """Whether a * b + c is exact in float64 for float32 a and c and integers |b| <= bmax: the sum's bits, from the
    highest (one carry above the largest term) to the lowest set bit any term can have, fit in 53."""
    terms = [float(v) for v in (a, *cs) if v]
    if not terms:
        return True
    low = builtins.min(math.frexp(v)[1] for v in terms) - 24
    high = builtins.max(math.frexp(float(a) * bmax)[1], *(math.frexp(float(v))[1] for v in cs)) + 1
    return high - low <= 53


def _range_dtype(dtype, start, end):
    if dtype is not None:
        return to_dtype(dtype)
    if isinstance(start, builtins.complex) or isinstance(end, builtins.complex):
        return _dtype.default_complex()
    return get_default_dtype()


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, equal to PyTorch's bit for bit."""
    steps = _steps_arg(steps, "linspace", start, end)
    start, end = _range_endpoint(start, "linspace", "start"), _range_endpoint(end, "linspace", "end")
    d = _range_dtype(dtype, start, end)
    if steps <= 1:
        arr = np.full(steps, _cast_scalar(start, d.np), d.np)
    else:
        arr = _linspace_values(start, end, steps, d)
    return _fill_out(out, arr, requires_grad, device)


def _libm_pow(base, exps):
    """base ** e for each float64 e by the C library's pow, which PyTorch's kernel calls (NumPy's SIMD pow, used on
    AVX512 machines, can differ in the last bit); where that raises, NumPy's value (inf or NaN)."""
    out = []
    for e in exps.tolist():
        try:
            out.append(math.pow(base, e))
        except (OverflowError, ValueError):
            out.append(float(np.power(base, e)))
    return np.array(out, np.float64)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps), computed as PyTorch does (double exponents, int bounds for int dtypes)."""
    steps = _steps_arg(steps, "logspace", start, end)
    start, end = _range_endpoint(start, "logspace", "start"), _range_endpoint(end, "logspace", "end")
    d = _range_dtype(dtype, start, end)
    if steps <= 1:
        value = np.power(np.complex128(base), start) if d.is_complex else _libm_pow(float(base), np.array([start]))[0]
        arr = np.full(steps, _cast_scalar(value, d.np), d.np)
    elif d.is_complex:
        arr = np.power(base, _linspace_values(start, end, steps, _dtype.complex128)).astype(d.np)
    else:
        if d._category < 2:
            b, s, e = float(np.float32(base)), int(_cast_scalar(start, d.np)), int(_cast_scalar(end, d.np))
        else:
            b, s, e = float(base), d.np.type(start), d.np.type(end)
        step = float(e - s) / (steps - 1)
        j = np.arange(steps)
        ex = np.where(j < steps // 2, float(s) + step * j, float(e) - step * (steps - j - 1))
        arr = _libm_pow(b, ex)
        arr = arr.astype(np.int64 if d._category < 2 else np.float32 if d is _dtype.float16 else d.np)
        arr = arr.astype(d.np, copy=False)  # double -> half goes through float, as in c10::Half
    return _fill_out(out, arr, requires_grad, device)


def _num(v):
    """A 0-d tensor or NumPy scalar as a Python number."""
    if isinstance(v, Tensor):
        return v.item()
    return v.item() if isinstance(v, np.generic) else v


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    for name, v in (("n", n), ("m", m)):
        if v is not None and not _is_int(v):
            raise TypeError(f"eye(): argument '{name}' (position 1) must be int, not {type(v).__name__}")
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    return _fill_out(out, np.eye(n, n if m is None else m, dtype=_dt(dtype)), requires_grad, device)


def _tri_indices(name, np_fn, row, col, offset, dtype):
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    if d not in (_dtype.int32, _dtype.int64):
        raise NotImplementedError(f"\"{name}\" not implemented for '{_dtype.scalar_name(d)}'")
    r, c = np_fn(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(d.np).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    check_device(device)
    return _tri_indices("tril_indices", np.tril_indices, row, col, offset, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    check_device(device)
    return _tri_indices("triu_indices", np.triu_indices, row, col, offset, dtype)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids as expanded views (differentiable); 'ij' or 'xy' indexing."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    shape = [t.numel() for t in tensors]
    if swap:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        view = [1] * len(shape)
        view[1 - i if swap and i < 2 else i] = -1
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


def cartesian_prod(*tensors):
    """Rows of every combination of the inputs' elements (the input itself for one tensor)."""
    from .shape import stack
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


# ---- random sampling --------------------------------------------------------------------------------------------
def _float_dt(dtype, kernel, like=None):
    """The floating (or complex) dtype to sample; NotImplementedError naming PyTorch's kernel for integer dtypes."""
    if dtype is not None:
        d = to_dtype(dtype)
    else:
        d = like.dtype if like is not None else get_default_dtype()
    if d._category < 2:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_name(d)}'")
    return d


# Box-Muller beats NumPy's float32 ziggurat from about this many samples on (its fixed cost is a dozen ufunc calls).
_BOX_MULLER_MIN = 2048
_U24 = np.float32(2.0 ** -24)
_TWO_PI_U24 = np.float32(2 * math.pi * 2.0 ** -24)


def _normal_f32(r, n):
    """n standard normal float32 samples by Box-Muller on 24-bit uniforms, the method of PyTorch's CPU normal_fill.

    One 64-bit draw gives two uniforms; u1 = (k + 1) / 2**24 lies in (0, 1], so log(u1) is finite and |z| < 5.8
    (torch's bound too).
    """
    m = (n + 1) // 2
    bits = r.bit_generator.random_raw(m).view(np.uint32)
    np.right_shift(bits, 8, out=bits)
    out = np.empty(2 * m, np.float32)
    np.copyto(out, bits, casting="unsafe")
    radius, theta = out[:m], out[m:]
    radius += np.float32(1)
    radius *= _U24
    np.log(radius, out=radius)
    radius *= np.float32(-2)
    np.sqrt(radius, out=radius)
    theta *= _TWO_PI_U24
    cos = np.cos(theta, out=bits.view(np.float32)[:m])
    np.sin(theta, out=theta)
    theta *= radius
    np.multiply(cos, radius, out=radius)
    return out[:n]


def _standard_normal(r, shape, work):
    """Standard normal samples of shape in dtype work (float32 or float64)."""
    n = math.prod(shape)
    if work is np.float32 and n >= _BOX_MULLER_MIN:
        return _normal_f32(r, n).reshape(shape)
    return r.standard_normal(shape, dtype=work)


def _sample(gen, shape, d, kind):
    """Uniform [0, 1) or standard normal samples of dtype d (complex: independent real and imaginary parts)."""
    r = _random.rng(gen)
    work = np.float64 if d.to_real() is _dtype.float64 else np.float32
    full = tuple(shape) + ((2,) if d.is_complex else ())
    x = r.random(full, dtype=work) if kind == "uniform" else _standard_normal(r, full, work)
    if d is _dtype.float16 and kind == "uniform":
        x = np.floor(x * 2048) / 2048  # 11-bit grid: stays below 1 after rounding to half
    if d.is_complex:
        x = x * work(math.sqrt(0.5)) if kind == "normal" else x
        x = x[..., 0] + 1j * x[..., 1]
    return x.astype(d.np, copy=False)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples in [0, 1)."""
    d = _float_dt(dtype, "check_uniform_bounds")
    return _fill_out(out, _sample(generator, _size_arg(size, "rand"), d, "uniform"), requires_grad, device)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples (complex: variance 1 split between the real and imaginary parts)."""
    d = _float_dt(dtype, "normal_kernel_cpu")
    return _fill_out(out, _sample(generator, _size_arg(size, "randn"), d, "normal"), requires_grad, device)


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    _check_like(input, "rand_like")
    d = _float_dt(dtype, "check_uniform_bounds", input)
    return _finish(_sample(generator, input._data.shape, d, "uniform"), requires_grad, device)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    _check_like(input, "randn_like")
    d = _float_dt(dtype, "normal_kernel_cpu", input)
    return _finish(_sample(generator, input._data.shape, d, "normal"), requires_grad, device)


_C_TYPE = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short", "int32": "int",
           "int64": "long"}


def _check_random_bounds(low, high, d):
    """PyTorch's random_(from, to) checks: from < to and both representable in the integer dtype d."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if d._category < 2 and d.name in _C_TYPE:
        info = (0, 1) if d is _dtype.bool_ else (np.iinfo(d.np).min, np.iinfo(d.np).max)
        if low < info[0]:
            raise RuntimeError(f"from is out of bounds for {_C_TYPE[d.name]}")
        if high - 1 > info[1]:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_TYPE[d.name]}")


def _int_arg(v, name, pos):
    """A randint bound as a Python int (TypeError for anything else)."""
    v = _num(v)
    if not _is_int(v):
        raise TypeError(f"randint(): argument '{name}' (position {pos}) must be int, not {type(v).__name__}")
    return int(v)


def randint(*args, low=None, high=None, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """randint(high, size) or randint(low, high, size): integers in [low, high) (int64 unless dtype is given)."""
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError(f"randint() received an invalid combination of arguments - got {len(args)} positional "
                        "arguments, but expected (int low, int high, tuple of ints size)")
    if size is None or high is None:
        raise TypeError("randint() received an invalid combination of arguments - expected (int high, tuple of ints "
                        "size) or (int low, int high, tuple of ints size)")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not {type(size).__name__}")
    low, high = _int_arg(0 if low is None else low, "low", 1), _int_arg(high, "high", 2)
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    _check_random_bounds(low, high, d)
    arr = _random.rng(generator).integers(low, high, _size_arg((size,), "randint"), dtype=np.int64)
    arr = arr.astype(d.np, copy=False)
    return _fill_out(out, arr, requires_grad, device)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    """Integers in [low, high) with the shape (and by default the dtype) of `input`."""
    _check_like(input, "randint_like")
    if high is None:
        low, high = 0, low
    d = to_dtype(dtype) if dtype is not None else input.dtype
    _check_random_bounds(int(low), int(high), d)
    arr = _random.rng(generator).integers(int(low), int(high), input._data.shape, dtype=np.int64)
    arr = arr.astype(d.np, copy=False)
    return _finish(arr, requires_grad, device)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1."""
    n = _size_arg((n,), "randperm")[0]
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    return _fill_out(out, _random.rng(generator).permutation(n).astype(d.np, copy=False), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples; differentiable in tensor `mean` and `std` (out = mean + std * z)."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                            "expected (float mean, float std, tuple of ints size)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        d = _float_dt(dtype, "normal_kernel_cpu")
        z = _sample(generator, _size_arg((size,), "normal"), d, "normal")
        return _fill_out(out, (z * std + mean).astype(d.np, copy=False), requires_grad, device)
    d = _float_dt(None, "normal_kernel_cpu", mean if mt else std)
    if st and (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not st and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    from .shape import broadcast_shapes
    shape = tuple(broadcast_shapes(mean._data.shape if mt else (), std._data.shape if st else ()))
    z = Tensor._make(_sample(generator, shape, d, "normal"))
    res = z * (std.to(d) if st else std) + mean
    if out is not None:
        return _fill_out(out, res._data, False, None)
    return res


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws with probabilities `input` (or the scalar p), in input's dtype."""
    if p is None:
        _float_dt(None, "bernoulli_tensor_cpu_p_", input)
        prob = input._data
        if ((prob < 0) | (prob > 1)).any():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                               "be improved?  If so, please report an enhancement request to PyTorch.)")
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        prob = p
    if out is not None:
        check_out_overlap(out)
    u = _random.rng(generator).random(input._data.shape)
    return _fill_out(out, (u < prob).astype(input._data.dtype), False, None)


def poisson(input, generator=None):
    """Poisson draws with rates `input`."""
    _float_dt(None, "poisson_cpu", input)
    if (input._data < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return Tensor._make(_random.rng(generator).poisson(input._data).astype(input._data.dtype))


def _check_multinomial(input, num_samples, replacement, out):
    """PyTorch's argument checks of multinomial, in its order; returns the probabilities as float64 rows."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtype.scalar_name(input.dtype)}")
    if out is not None and out._data.dtype != np.int64:
        raise RuntimeError(f"multinomial expects Long tensor out, got: {_dtype.scalar_name(out.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if input.shape[-1] > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    p = input._data.astype(np.float64).reshape(-1, input.shape[-1])
    if (p < 0).any() or not np.isfinite(p).all():
        _bad_probabilities(p, replacement)
    if (p.sum(1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return p


def _bad_probabilities(p, replacement):
    """PyTorch's error for negative or non-finite probabilities: sampling with replacement names the first bad
    entry's kind (NaN fails its `>= 0` test first)."""
    if not replacement:
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    first = p.reshape(-1)[np.flatnonzero(~(p >= 0) | ~np.isfinite(p))[0]]
    kind = "= infinity or NaN" if first >= 0 else "< 0"
    raise RuntimeError(f"invalid multinomial distribution (encountering probability entry {kind})")


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn from each row of (unnormalised) probabilities."""
    p = _check_multinomial(input, num_samples, replacement, out)
    rows, n_cat = p.shape
    r = _random.rng(generator)
    if replacement:
        # One searchsorted over all rows: row i's normalised CDF is shifted into [i, i + 1].
        cdf = np.cumsum(p, axis=1) / p.sum(1, keepdims=True) + np.arange(rows)[:, None]
        cdf[:, -1] = np.arange(1, rows + 1)
        u = r.random((rows, num_samples)) + np.arange(rows)[:, None]
        res = np.searchsorted(cdf.reshape(-1), u.reshape(-1), side="right").reshape(rows, num_samples)
        res = np.minimum(res - np.arange(rows)[:, None] * n_cat, n_cat - 1)
    else:
        # Exponential race: the k smallest E_i / p_i are a draw without replacement (then zero-probability
        # categories in index order, as PyTorch does once the positive ones are used up).
        with np.errstate(divide="ignore"):
            keys = r.exponential(size=p.shape) / p
        res = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    res = res.astype(np.int64)
    return _fill_out(out, res[0] if input.dim() == 1 else res, False, None)


__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "frombuffer", "zeros", "ones", "empty",
           "empty_strided", "empty_permuted",
           "full", "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace", "logspace", "eye",
           "tril_indices", "triu_indices", "meshgrid", "cartesian_prod", "rand", "randn",
           "rand_like", "randn_like", "randint", "randint_like", "randperm", "normal", "bernoulli", "poisson",
           "multinomial"]
