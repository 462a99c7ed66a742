"""save/load in PyTorch's own zip checkpoint format, written and read without torch.

A checkpoint is an uncompressed zip archive `<name>/...` holding `data.pkl` (a protocol-2 pickle naming torch's
globals: `torch._utils._rebuild_tensor_v2`, `torch.FloatStorage`, `collections.OrderedDict`, ...), one
`data/<key>` record per storage (raw little-endian bytes, 64-byte aligned), and `byteorder`, `version`,
`.format_version`, `.storage_alignment`, `.data/serialization_id`, laid out exactly as torch.save does. ember
writes the pickle with its own minimal pickler and reads it with its own restricted unpickler: only the globals a
checkpoint needs resolve, to ember's rebuild functions; anything else is refused before it can run.
"""
import argparse
import hashlib
import io
import math
import mmap as _mmap
import os
import pickle
import struct
import sys
import tempfile
import zlib
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter, OrderedDict

import numpy as np

from . import _dtype
from ._dtype import Size, device
from ._tensor import Tensor
from ._storage import array_root as _root, address as _ptr, byte_span as _byte_span
from .nn.parameter import Parameter

__all__ = ["save", "load", "DEFAULT_PROTOCOL", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

DEFAULT_PROTOCOL = 2
_ALIGNMENT = 64
_ZIP64_LIMIT = 0xFFFFFFFF
_BATCH = 1000

_STORAGE_NAMES = {"bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage", "int16": "ShortStorage",
                  "int32": "IntStorage", "int64": "LongStorage", "float16": "HalfStorage", "float32": "FloatStorage",
                  "float64": "DoubleStorage", "complex64": "ComplexFloatStorage",
                  "complex128": "ComplexDoubleStorage", "bfloat16": "BFloat16Storage"}
_UNTYPED_DTYPES = ("uint16", "uint32", "uint64")  # torch saves these through UntypedStorage + _rebuild_tensor_v3
_TORCH_ONLY_DTYPES = frozenset(["float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
                                "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8", "quint8", "qint32", "quint4x2",
                                "quint2x4", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16"]
                               + [f"uint{i}" for i in range(1, 8)] + [f"int{i}" for i in range(1, 8)])
_TORCH_ONLY_GLOBALS = frozenset(["torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
                                 "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_nested_tensor",
                                 "torch._utils._rebuild_wrapper_subclass",
                                 "torch._utils._rebuild_device_tensor_from_numpy",
                                 "torch._utils._rebuild_device_tensor_from_cpu_tensor",
                                 "torch.serialization._get_layout", "torch.per_tensor_affine",
                                 "torch.per_tensor_symmetric", "torch.per_channel_affine",
                                 "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams"])
# Globals torch.save writes that torch's weights-only loader refuses: ember rebuilds them (as data, calling nothing
# of the file's choosing) when weights_only=False, or when the user allows them with add_safe_globals.
_EXTRA_GLOBALS = frozenset(["builtins.frozenset", "builtins.bytes", "builtins.range", "builtins.slice",
                            "argparse.Namespace", "numpy.dtype", "numpy.ndarray", "numpy._core.multiarray.scalar",
                            "numpy.core.multiarray.scalar", "numpy._core.multiarray._reconstruct",
                            "numpy.core.multiarray._reconstruct"])


class _UnsupportedObject(pickle.PicklingError, NotImplementedError):
    """An object ember.save cannot write (a PicklingError, as in torch, and a missing feature)."""


# ---------------------------------------------------------------------------------------------------------------------
# Storages: which memory each tensor lives in, written once per storage
# ---------------------------------------------------------------------------------------------------------------------
_DTYPE_NAMES = {}


def _dtype_name(dt):
    """dt.name, cached (NumPy computes it afresh on every access, a cost per tensor when saving many)."""
    name = _DTYPE_NAMES.get(dt)
    if name is None:
        name = _DTYPE_NAMES[dt] = dt.name
    return name


def _contiguous_strides(shape):
    """torch's strides of a contiguous tensor (empty dimensions count as 1), in elements."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _raw_bytes(root):
    """The bytes of a contiguous root array as a flat uint8 view, in memory order."""
    return np.ravel(root, order="K").view(np.uint8)


class _StorageTable:
    """Assigns storage keys in pickling order; tensors viewing the same root ndarray share one key."""

    def __init__(self):
        self.records = []   # (key, flat uint8 array) in key order
        self._roots = {}    # id(root) -> (key, dtype name, root)

    def locate(self, arr):
        """(key, storage numel, storage offset, stride) of the storage holding `arr`, registering it if new."""
        isz = arr.itemsize
        if arr.base is None and arr.flags.c_contiguous and arr.dtype.isnative:
            return self._register(arr, arr), arr.size, 0, _contiguous_strides(arr.shape)
        root = _root(arr)
        if not self._shares_root(arr, root):
            arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
            root = arr
        key = self._register(arr, root)
        stride = tuple(s // isz for s in arr.strides) if arr.size else _contiguous_strides(arr.shape)
        return key, root.nbytes // isz, (_ptr(arr) - _ptr(root)) // isz, stride

    def _register(self, arr, root):
        """The storage key of `root` (new keys record its bytes); arr must view it with the same dtype."""
        name = _dtype_name(arr.dtype)
        entry = self._roots.get(id(root))
        if entry is None:
            entry = (str(len(self.records)), name, root)
            self._roots[id(root)] = entry
            self.records.append((entry[0], _raw_bytes(root)))
        elif entry[1] != name:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different types")
        return entry[0]

    @staticmethod
    def _shares_root(arr, root):
        """Whether `arr` can be expressed as (offset, non-negative strides) into its root's flat memory."""
        isz = arr.itemsize
        if not (root.flags.c_contiguous or root.flags.f_contiguous) or not arr.dtype.isnative:
            return False
        if root.nbytes % isz or any(s < 0 or s % isz for s in arr.strides):
            return False
        lo, hi = _byte_span(arr)
        start = _ptr(root)
        return start <= lo and hi <= start + root.nbytes and (_ptr(arr) - start) % isz == 0


# ---------------------------------------------------------------------------------------------------------------------
# Writing data.pkl: a minimal protocol-2 pickler for the types a checkpoint holds
# ---------------------------------------------------------------------------------------------------------------------
def _user_state(t):
    """Python attributes a user attached to a tensor (what torch pickles as the tensor's state)."""
    return {k: v for k, v in vars(t).items() if k != "_data" and not hasattr(Tensor, k)}


class _Pickler:
    """Emits only opcodes torch's weights-only unpickler reads; objects never run their own __reduce__."""

    def __init__(self, storages, protocol):
        self.storages = storages
        self.protocol = protocol
        self.out = io.BytesIO()
        self.write = self.out.write
        self.memo = {}
        self.keep = []          # keeps memoized temporaries alive so their ids are not reused
        self.in_progress = set()
        self.dispatch = {type(None): self._none, bool: self._bool, int: self._int, float: self._float,
                         complex: self._complex, str: self._str, bytes: self._bytes, bytearray: self._bytearray,
                         tuple: self._tuple, list: self._list, dict: self._dict, OrderedDict: self._ordered_dict,
                         Counter: self._counter, set: self._set, frozenset: self._set, Size: self._size,
                         device: self._device, _dtype.dtype: self._dtype, Tensor: self._tensor,
                         Parameter: self._tensor, range: self._range, slice: self._slice,
                         argparse.Namespace: self._namespace, np.ndarray: self._ndarray}

    def dump(self, obj):
        self.write(pickle.PROTO + bytes([self.protocol]))
        self.save(obj)
        self.write(pickle.STOP)
        return self.out.getvalue()

    def save(self, obj):
        idx = self.memo.get(id(obj))
        if idx is not None:
            self._get(idx)
            return
        fn = self.dispatch.get(type(obj))
        if fn is None and isinstance(obj, np.generic) and _plain_dtype(obj.dtype):
            fn = self._np_scalar
        if fn is None:
            cls = type(obj)
            raise _UnsupportedObject(
                f"ember.save cannot serialize an object of type {cls.__module__}.{cls.__qualname__}: checkpoints hold "
                "tensors, numbers (also NumPy's), NumPy arrays of numbers, strings, bytes, dtypes, sizes, devices, "
                "ranges, slices, argparse Namespaces and dicts/OrderedDicts/lists/tuples/sets of them (save "
                "model.state_dict() rather than the model)")
        fn(obj)

    # ---- memo and globals ----
    def _put(self, obj, key=None):
        """Memoize `obj` (under `key`, default its id) so later references become BINGETs."""
        idx = len(self.memo)
        self.memo[id(obj) if key is None else key] = idx
        self.keep.append(obj)
        self.write(pickle.BINPUT + bytes([idx]) if idx < 256 else pickle.LONG_BINPUT + struct.pack("<I", idx))

    def _get(self, idx):
        self.write(pickle.BINGET + bytes([idx]) if idx < 256 else pickle.LONG_BINGET + struct.pack("<I", idx))

    def _global(self, module, name):
        if module == "builtins" and self.protocol < 3:
            module = "__builtin__"
        key = ("global", module, name)
        idx = self.memo.get(key)
        if idx is not None:
            self._get(idx)
            return
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
        self._put(None, key)

    def _call(self, module, name, args, obj=None):
        """GLOBAL module.name, the argument tuple, REDUCE (memoizing `obj` as the result)."""
        self._global(module, name)
        self.save(args)
        self.write(pickle.REDUCE)
        self._put(obj if obj is not None else object())

    # ---- scalars ----
    def _none(self, obj):
        self.write(pickle.NONE)

    def _bool(self, obj):
        self.write(pickle.NEWTRUE if obj else pickle.NEWFALSE)

    def _int(self, obj):
        if 0 <= obj < 256:
            self.write(pickle.BININT1 + bytes([obj]))
        elif 0 <= obj < 65536:
            self.write(pickle.BININT2 + struct.pack("<H", obj))
        elif -2 ** 31 <= obj < 2 ** 31:
            self.write(pickle.BININT + struct.pack("<i", obj))
        else:
            data = pickle.encode_long(obj)
            self.write(pickle.LONG1 + bytes([len(data)]) + data if len(data) < 256
                       else pickle.LONG4 + struct.pack("<i", len(data)) + data)

    def _float(self, obj):
        self.write(pickle.BINFLOAT + struct.pack(">d", obj))

    def _complex(self, obj):
        self._call("builtins", "complex", (obj.real, obj.imag), obj)

    def _str(self, obj):
        data = obj.encode("utf-8", "surrogatepass")
        self.write(pickle.BINUNICODE + struct.pack("<I", len(data)) + data)
        self._put(obj)

    def _bytes(self, obj):
        self._call("_codecs", "encode", (obj.decode("latin1"), "latin1"), obj)

    def _bytearray(self, obj):
        self._call("builtins", "bytearray", (bytes(obj),), obj)

    # ---- containers ----
    def _tuple(self, obj):
        if not obj:
            self.write(pickle.EMPTY_TUPLE)
            return
        if id(obj) in self.in_progress:
            raise _UnsupportedObject("ember.save cannot serialize a tuple that contains itself")
        self.in_progress.add(id(obj))
        if len(obj) > 3:
            self.write(pickle.MARK)
        for item in obj:
            self.save(item)
        self.in_progress.discard(id(obj))
        self.write({1: pickle.TUPLE1, 2: pickle.TUPLE2, 3: pickle.TUPLE3}.get(len(obj), pickle.TUPLE))
        self._put(obj)

    def _list(self, obj):
        self.write(pickle.EMPTY_LIST)
        self._put(obj)
        items = list(obj)
        for i in range(0, len(items), _BATCH):
            chunk = items[i:i + _BATCH]
            if len(chunk) == 1:
                self.save(chunk[0])
                self.write(pickle.APPEND)
                continue
            self.write(pickle.MARK)
            for item in chunk:
                self.save(item)
            self.write(pickle.APPENDS)

    def _setitems(self, obj):
        items = list(obj.items())
        for i in range(0, len(items), _BATCH):
            chunk = items[i:i + _BATCH]
            if len(chunk) > 1:
                self.write(pickle.MARK)
            for k, v in chunk:
                self.save(k)
                self.save(v)
            self.write(pickle.SETITEM if len(chunk) == 1 else pickle.SETITEMS)

    def _dict(self, obj):
        self.write(pickle.EMPTY_DICT)
        self._put(obj)
        self._setitems(obj)

    def _ordered_dict(self, obj):
        self._global("collections", "OrderedDict")
        self.write(pickle.EMPTY_TUPLE + pickle.REDUCE)
        self._put(obj)
        self._setitems(obj)
        state = vars(obj)
        if state:
            self.save(dict(state))
            self.write(pickle.BUILD)

    def _counter(self, obj):
        self._call("collections", "Counter", (dict(obj),), obj)

    def _set(self, obj):
        self._call("builtins", type(obj).__name__, (list(obj),), obj)

    def _range(self, obj):
        self._call("builtins", "range", (obj.start, obj.stop, obj.step), obj)

    def _slice(self, obj):
        self._call("builtins", "slice", (obj.start, obj.stop, obj.step), obj)

    def _namespace(self, obj):
        self._global("argparse", "Namespace")
        self.write(pickle.EMPTY_TUPLE + pickle.NEWOBJ)
        self._put(obj)
        self.save(dict(vars(obj)))
        self.write(pickle.BUILD)

    # ---- NumPy values, as NumPy's own reductions pickle them ----
    def _np_dtype(self, dt):
        idx = self.memo.get(id(dt))
        if idx is not None:
            self._get(idx)
            return
        cls, args, state = dt.__reduce__()
        self._call("numpy", "dtype", args, dt)
        self.save(state)
        self.write(pickle.BUILD)

    def _np_scalar(self, obj):
        fn, (dt, data) = obj.__reduce__()
        self._global(fn.__module__, fn.__name__)
        self.write(pickle.MARK)
        self._np_dtype(dt)
        self.save(data)
        self.write(pickle.TUPLE + pickle.REDUCE)
        self._put(obj)

    def _ndarray(self, arr):
        if type(arr) is not np.ndarray or not _plain_dtype(arr.dtype):
            raise _UnsupportedObject(f"ember.save cannot serialize a NumPy array of dtype {arr.dtype} (arrays of "
                                     "numbers and booleans only)")
        fn, args, (version, shape, dt, fortran, data) = arr.__reduce__()
        self._global(fn.__module__, fn.__name__)
        self.write(pickle.MARK)
        self._global("numpy", "ndarray")
        for a in args[1:]:
            self.save(a)
        self.write(pickle.TUPLE + pickle.REDUCE)  # _reconstruct(ndarray, (0,), b'b'): an empty array to fill
        self._put(arr)
        self.write(pickle.MARK)
        self.save(version)
        self.save(tuple(shape))
        self._np_dtype(dt)
        self.save(bool(fortran))
        self.save(bytes(data))
        self.write(pickle.TUPLE + pickle.BUILD)

    # ---- torch types ----
    def _dtype(self, obj):
        self._global("torch", obj.name)

    def _size(self, obj):
        self._call("torch", "Size", (tuple(obj),), obj)

    def _device(self, obj):
        self._call("torch", "device", (obj.type,) if obj.index is None else (obj.type, obj.index), obj)

    def _tensor(self, t):
        state = _user_state(t)
        if type(t) is Parameter:
            name = "_rebuild_parameter_with_state" if state else "_rebuild_parameter"
            self._global("torch._utils", name)
            self.write(pickle.MARK)
            self._rebuild_args(t, requires_grad=False)
            self.save(t.requires_grad)
            self._empty_ordered_dict()
            if state:
                self.save(state)
            self.write(pickle.TUPLE + pickle.REDUCE)
        elif state:
            self._global("torch._tensor", "_rebuild_from_type_v2")
            self.write(pickle.MARK)
            self._global("torch._utils", self._rebuild_name(t))
            self._global("torch", "Tensor")
            self._rebuild_args(t, t.requires_grad, call=False)
            self.save(state)
            self.write(pickle.TUPLE + pickle.REDUCE)
        else:
            self._rebuild_args(t, t.requires_grad)
        self._put(t)

    @staticmethod
    def _rebuild_name(t):
        return "_rebuild_tensor_v3" if _dtype_name(t._data.dtype) in _UNTYPED_DTYPES else "_rebuild_tensor_v2"

    def _empty_ordered_dict(self):
        self._global("collections", "OrderedDict")
        self.write(pickle.EMPTY_TUPLE + pickle.REDUCE)
        self._put(object())

    def _rebuild_args(self, t, requires_grad, call=True):
        """(_rebuild_tensor_v2|v3)(storage, offset, size, stride, requires_grad, OrderedDict()[, dtype])."""
        arr = t._data
        key, numel, offset, stride = self.storages.locate(arr)
        dname = _dtype_name(arr.dtype)
        untyped = dname in _UNTYPED_DTYPES
        if call:
            self._global("torch._utils", self._rebuild_name(t))
        self.write(pickle.MARK + pickle.MARK)
        self.save("storage")
        if untyped:
            self._global("torch.storage", "UntypedStorage")
        else:
            self._global("torch", _STORAGE_NAMES[dname])
        self.save(key)
        self.save("cpu")
        self.save(numel * arr.itemsize if untyped else numel)
        self.write(pickle.TUPLE)
        self._put(object())
        self.write(pickle.BINPERSID)
        self.save(offset)
        self.save(tuple(arr.shape))
        self.save(stride)
        self.save(bool(requires_grad))
        self._empty_ordered_dict()
        if untyped:
            self._dtype(_dtype.from_numpy_dtype(arr.dtype))
        self.write(pickle.TUPLE)
        self._put(object())
        if call:
            self.write(pickle.REDUCE)


# ---------------------------------------------------------------------------------------------------------------------
# The zip container, laid out as torch's miniz writer does (local header + 64-byte-aligned data + data descriptor)
# ---------------------------------------------------------------------------------------------------------------------
class _ZipWriter:
    """Streams records into an uncompressed zip; offsets count from the archive's first byte."""

    def __init__(self, f, archive):
        self.f = f
        self.archive = archive
        self.pos = 0
        self.entries = []   # (name bytes, crc, size, header offset)

    def _write(self, data):
        self.f.write(data)
        self.pos += memoryview(data).nbytes

    def write_record(self, name, data):
        """One stored entry `<archive>/<name>` holding the bytes of `data` (bytes or a flat uint8 array)."""
        fname = f"{self.archive}/{name}".encode("utf-8")
        view = memoryview(data)
        size, offset = view.nbytes, self.pos
        big_size, big_off = size >= _ZIP64_LIMIT, offset >= _ZIP64_LIMIT
        zip64 = (struct.pack("<Q", size) * 2 if big_size else b"") + (struct.pack("<Q", offset) if big_off else b"")
        zip64 = struct.pack("<HH", 1, len(zip64)) + zip64 if zip64 else b""
        start = offset + 30 + len(fname) + 4 + len(zip64)
        pad = -start % _ALIGNMENT
        extra = zip64 + b"FB" + struct.pack("<H", pad) + b"Z" * pad
        flags = 0x0808 if size else 0x0800
        self._write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 0, flags, 0, 0, 0, 0, 0, 0,
                                len(fname), len(extra)) + fname + extra)
        crc = zlib.crc32(view)
        self._write(view)
        if size:
            self._write(struct.pack("<IIQQ", 0x08074B50, crc, size, size) if zip64 else
                        struct.pack("<IIII", 0x08074B50, crc, size, size))
        self.entries.append((fname, crc, size, offset))

    def finish(self):
        """Central directory, zip64 end record and locator, end record."""
        cd_start = self.pos
        for fname, crc, size, offset in self.entries:
            big_size, big_off = size >= _ZIP64_LIMIT, offset >= _ZIP64_LIMIT
            extra = (struct.pack("<Q", size) * 2 if big_size else b"") + (struct.pack("<Q", offset) if big_off else b"")
            extra = struct.pack("<HH", 1, len(extra)) + extra if extra else b""
            small = 0xFFFFFFFF if big_size else size
            self._write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0, 45 if extra else 0,
                                    0x0808 if size else 0x0800, 0, 0, 0, crc, small, small, len(fname), len(extra), 0,
                                    0, 0, 0, 0xFFFFFFFF if big_off else offset) + fname + extra)
        cd_size, n = self.pos - cd_start, len(self.entries)
        eocd64 = self.pos
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_start))
        self._write(struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1))
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                                0xFFFFFFFF if cd_size >= _ZIP64_LIMIT else cd_size,
                                0xFFFFFFFF if cd_start >= _ZIP64_LIMIT else cd_start, 0))


def _serialization_id(entries):
    """A 40-digit id derived from the records' names, sizes and checksums (torch writes one of this shape)."""
    h = hashlib.sha256()
    for fname, crc, size, _ in entries:
        h.update(fname + struct.pack("<IQ", crc, size))
    return f"{int.from_bytes(h.digest(), 'little') % 10 ** 40:040d}"


def _write_archive(f, archive, pickled, storages):
    zw = _ZipWriter(f, archive)
    zw.write_record("data.pkl", pickled)
    zw.write_record(".format_version", b"1")
    zw.write_record(".storage_alignment", str(_ALIGNMENT).encode())
    zw.write_record("byteorder", sys.byteorder.encode())
    for key, data in storages.records:
        zw.write_record(f"data/{key}", data)
    zw.write_record("version", b"3\n")
    zw.write_record(".data/serialization_id", _serialization_id(zw.entries).encode())
    zw.finish()


# ---------------------------------------------------------------------------------------------------------------------
# Atomic file replacement
# ---------------------------------------------------------------------------------------------------------------------
def _new_file_mode(path):
    """Permission bits the replaced file keeps (or a new file gets from the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write(path, write):
    """Call write(fileobj) on a temporary file beside `path`, fsync it, then os.replace it over `path`.

    An exception leaves any previous file untouched and removes the temporary file.
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {os.path.dirname(os.path.abspath(path))} does not exist.")
    if os.path.isdir(target):
        raise RuntimeError(f"cannot save to {path!r}: it is a directory")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def _fsync_dir(folder):
    """Make the rename durable (best effort: not every platform or file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------------------------------
def _archive_name(path):
    """torch's record prefix: the file name without its extension ('archive' for non-ASCII names)."""
    base = os.path.basename(path)
    if not base.isascii():
        return "archive"
    stem = base[:base.rfind(".")] if "." in base else base
    if not stem:
        raise RuntimeError(f"invalid file name: {path}")
    return stem


def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """torch.save: write `obj` to a path or binary file object in PyTorch's zip checkpoint format.

    torch.load opens the file (also with weights_only=True). Tensors that share memory share one storage record.
    A path is written atomically: the data goes to a temporary file in the same folder, is fsynced, and then
    replaces `f`; if anything fails, a previous file is left intact. `pickle_module` is accepted for signature
    compatibility and ignored: ember pickles with its own writer, which stores tensors, Parameters, numbers,
    strings, bytes, dtypes, Size, device and dict/OrderedDict/Counter/list/tuple/set containers of them, and raises
    pickle.PicklingError for anything else (save a model's state_dict() rather than the model).
    """
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' attribute")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip checkpoint format; the legacy format "
                                  "(_use_new_zipfile_serialization=False) is not implemented")
    protocol = pickle.HIGHEST_PROTOCOL if pickle_protocol < 0 else pickle_protocol
    if not 2 <= protocol <= pickle.HIGHEST_PROTOCOL:
        raise NotImplementedError(f"ember.save writes pickle protocols 2 to {pickle.HIGHEST_PROTOCOL}, "
                                  f"got {pickle_protocol}")
    storages = _StorageTable()
    pickled = _Pickler(storages, protocol).dump(obj)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        archive = _archive_name(path)
        atomic_write(path, lambda fh: _write_archive(fh, archive, pickled, storages))
    else:
        _write_archive(f, "archive", pickled, storages)
        if hasattr(f, "flush"):
            f.flush()


# ---------------------------------------------------------------------------------------------------------------------
# Reading: storages, rebuild functions and the restricted unpickler
# ---------------------------------------------------------------------------------------------------------------------
class _StorageType:
    """What a `torch.<Type>Storage` global resolves to: the element dtype (None for UntypedStorage)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


class _Storage:
    """A loaded storage: flat uint8 bytes plus the dtype its typed storage class names."""

    def __init__(self, data, dtype, location):
        self.data = data
        self.dtype = dtype
        self.location = location
        self.used = False
        self.device = _dtype.CPU

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        _dtype.check_device(device if device is not None else "cuda")

    def to(self, device=None, *args, **kwargs):
        _dtype.check_device(device)
        return self

    def nbytes(self):
        return self.data.nbytes

    def size(self):
        return self.data.nbytes // (self.dtype.itemsize if self.dtype is not None else 1)

    __len__ = size

    def __repr__(self):
        return f"<ember storage of {self.size()} {self.dtype or 'bytes'} on cpu>"


def _int(value, what):
    if type(value) is not int:
        raise pickle.UnpicklingError(f"invalid checkpoint: {what} must be an int, got {type(value).__name__}")
    return value


def _view(storage, dtype, offset, size, stride):
    """The ndarray `size`/`stride` at element `offset` of `storage`, checked to lie inside it (shares memory)."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError(f"invalid checkpoint: expected a storage, got {type(storage).__name__}")
    if not isinstance(dtype, _dtype.dtype):
        raise pickle.UnpicklingError(f"invalid checkpoint: expected a dtype, got {type(dtype).__name__}")
    np_dtype = dtype.np
    offset = _int(offset, "storage_offset")
    size = tuple(_int(s, "size") for s in size)
    stride = tuple(_int(s, "stride") for s in stride)
    if len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
        raise RuntimeError(f"invalid tensor layout in checkpoint: size {list(size)}, stride {list(stride)}, "
                           f"storage offset {offset}")
    isz = np_dtype.itemsize
    buf = storage.data
    empty = 0 in size
    need = 0 if empty else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if need * isz > buf.nbytes:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {isz} requiring a storage size of {need * isz} are out of bounds for storage "
                           f"of size {buf.nbytes}")
    storage.used = True
    if empty and offset * isz > buf.nbytes:
        return np.empty(size, np_dtype)
    return np.ndarray(size, np_dtype, buffer=buf, offset=offset * isz, strides=tuple(s * isz for s in stride))


def _finish_tensor(arr, requires_grad, metadata):
    if metadata:
        unknown = set(k for k, v in metadata.items() if v) - {"conj", "neg"}
        if unknown:
            raise NotImplementedError(f"ember cannot load tensors with metadata {sorted(unknown)}")
        if metadata.get("conj"):
            arr = np.conj(arr)
        if metadata.get("neg"):
            arr = np.negative(arr)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    return _finish_tensor(_view(storage, storage.dtype, storage_offset, size, stride), requires_grad, metadata)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    return _finish_tensor(_view(storage, dtype, storage_offset, size, stride), requires_grad, metadata)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _finish_tensor(_view(storage, storage.dtype, storage_offset, size, stride), False, None)


def _set_state(t, state):
    """Restore the Python attributes torch pickled with a tensor, never overriding ember's own attributes."""
    if isinstance(state, tuple) and len(state) == 2:
        state = {**(state[0] or {}), **(state[1] or {})}
    if not state:
        return t
    if not isinstance(state, dict):
        raise pickle.UnpicklingError(f"invalid tensor state of type {type(state).__name__}")
    for k, v in state.items():
        if not isinstance(k, str) or k == "_data" or k.startswith("__") or hasattr(type(t), k):
            raise pickle.UnpicklingError(f"refusing to set attribute {k!r} of a tensor from a checkpoint")
        setattr(t, k, v)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"invalid checkpoint: Parameter data is a {type(data).__name__}")
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


_TENSOR_REBUILDS = (_rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_tensor, _rebuild_parameter,
                    _rebuild_parameter_with_state)


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _TENSOR_REBUILDS or new_type not in (Tensor, Parameter) or not isinstance(args, tuple):
        raise pickle.UnpicklingError(f"invalid checkpoint: cannot rebuild a {new_type!r} with {func!r}")
    ret = func(*args)
    if type(ret) is not new_type:
        ret = Parameter(ret, ret.requires_grad) if new_type is Parameter else Tensor._make(ret._data, ret._rg)
    return _set_state(ret, state)


def _encode(obj, encoding="utf-8", errors="strict"):
    """_codecs.encode as pickles use it for bytes: only the latin-1 round trip."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode is only allowed with latin1 strings, got {encoding!r}")
    return obj.encode("latin1", errors)


def _bytes_like(cls):
    def make(data=b""):
        if not isinstance(data, (bytes, bytearray)):
            raise pickle.UnpicklingError(f"{cls.__name__}() is only allowed from bytes in a checkpoint")
        return cls(data)
    make.__name__ = cls.__name__
    return make


def _plain_dtype(dt):
    """A NumPy dtype of numbers or booleans (no fields, subarrays, objects, strings or big-endian order)."""
    return (isinstance(dt, np.dtype) and dt.fields is None and dt.subdtype is None and dt.kind in "biufc"
            and dt.byteorder != ">")


def _np_dtype(code, align=False, copy=True):
    """numpy.dtype(code) as NumPy's pickle calls it, for plain numeric codes only."""
    dt = np.dtype(code) if type(code) is str else None
    if not _plain_dtype(dt):
        raise pickle.UnpicklingError(f"ember.load rebuilds only NumPy dtypes of numbers and booleans, not {code!r}")
    return dt


def _np_scalar(dt, data):
    """A NumPy scalar from its dtype and bytes (numpy's pickled scalars)."""
    if not _plain_dtype(dt) or type(data) is not bytes or len(data) != dt.itemsize:
        raise pickle.UnpicklingError("invalid NumPy scalar in checkpoint")
    return np.frombuffer(data, dt)[0]


def _np_reconstruct(cls, shape, typecode):
    """The empty array numpy's pickle fills by BUILD (see _build_ndarray)."""
    if cls is not np.ndarray or shape != (0,) or typecode != b"b":
        raise pickle.UnpicklingError("invalid NumPy array in checkpoint")
    return np.ndarray((0,), np.int8)


def _build_ndarray(arr, state):
    """Fill an array from numpy's pickled state (version, shape, dtype, fortran, raw bytes) after checking it."""
    ok = type(state) is tuple and len(state) == 5 and state[0] == 1 and type(state[1]) is tuple
    ok = ok and all(type(n) is int and n >= 0 for n in state[1]) and _plain_dtype(state[2])
    ok = ok and type(state[3]) is bool and type(state[4]) is bytes
    if not ok or len(state[4]) != math.prod(state[1]) * state[2].itemsize:
        raise pickle.UnpicklingError("invalid NumPy array state in checkpoint")
    arr.__setstate__(state)


def _int_args(cls, allow_none):
    def make(*args):
        if len(args) > 3 or not all(type(a) is int or (allow_none and a is None) for a in args):
            raise pickle.UnpicklingError(f"{cls.__name__}() is only allowed from ints in a checkpoint")
        return cls(*args)
    make.__name__ = cls.__name__
    return make


def _allowed_globals():
    """Every global a checkpoint may name, mapped to what ember builds instead (nothing else resolves)."""
    table = {"collections.OrderedDict": OrderedDict, "collections.Counter": Counter, "builtins.set": set,
             "builtins.frozenset": frozenset, "builtins.complex": complex,
             "builtins.bytearray": _bytes_like(bytearray), "builtins.bytes": _bytes_like(bytes),
             "_codecs.encode": _encode, "torch.Size": Size, "torch.device": device, "torch.Tensor": Tensor,
             "torch.nn.parameter.Parameter": Parameter, "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
             "torch.storage.UntypedStorage": _StorageType(None), "builtins.range": _int_args(range, False),
             "builtins.slice": _int_args(slice, True), "argparse.Namespace": argparse.Namespace,
             "numpy.dtype": _np_dtype, "numpy.ndarray": np.ndarray}
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        table[module + ".scalar"] = _np_scalar
        table[module + "._reconstruct"] = _np_reconstruct
    for fn in _TENSOR_REBUILDS:
        table["torch._utils." + fn.__name__] = fn
    for name, d in _dtype._BY_NAME.items():
        table["torch." + name] = d
    for name, storage in _STORAGE_NAMES.items():
        table["torch." + storage] = _StorageType(_dtype._BY_NAME[name])
    return table


_GLOBALS = _allowed_globals()
_CALLABLES = {id(v): v for v in _GLOBALS.values() if callable(v) and v not in (Tensor, np.ndarray, argparse.Namespace)
              and not isinstance(v, (_StorageType, _dtype.dtype))}
_NEWOBJ_TYPES = (Parameter, OrderedDict, Counter, argparse.Namespace)
_USER_GLOBALS = {}  # full name -> object, from add_safe_globals


def _global_name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals):
    """Allow these classes and functions (or (object, "module.name") pairs) in checkpoints, as torch does for
    weights_only loads: loading may then call them, create their instances and set their state. ember's NumPy,
    range, slice and argparse.Namespace rebuilds are allowed under weights_only=True by listing those types."""
    for g in safe_globals:
        obj, name = g if isinstance(g, tuple) else (g, _global_name(g))
        _USER_GLOBALS[name] = obj


def get_safe_globals():
    return [obj if name == _global_name(obj) else (obj, name) for name, obj in _USER_GLOBALS.items()]


def clear_safe_globals():
    _USER_GLOBALS.clear()


class safe_globals:
    """add_safe_globals for the duration of a with block."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self.saved = dict(_USER_GLOBALS)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _USER_GLOBALS.clear()
        _USER_GLOBALS.update(self.saved)
        return False


def _user_allowed(obj):
    return any(v is obj for v in _USER_GLOBALS.values())


def _resolve_global(module, name, weights_only):
    """The ember object a pickle's global names; refuses (before anything runs) every global not allow-listed."""
    if (module, name) in NAME_MAPPING:
        module, name = NAME_MAPPING[(module, name)]
    module = {"torch.tensor": "torch._tensor"}.get(module, IMPORT_MAPPING.get(module, module))
    full = f"{module}.{name}"
    if full in _GLOBALS and not (weights_only and full in _EXTRA_GLOBALS and full not in _USER_GLOBALS):
        return _GLOBALS[full]
    if full in _USER_GLOBALS:
        return _USER_GLOBALS[full]
    if full in _TORCH_ONLY_GLOBALS or (module == "torch" and (name in _TORCH_ONLY_DTYPES or name.endswith("Storage"))):
        raise NotImplementedError(f"ember cannot load {full}: the checkpoint holds a tensor kind ember does not "
                                  "implement (quantized, sparse, nested, meta, subclass or an unsupported dtype)")
    hint = (" (ember loads it with weights_only=False, or after torch.serialization.add_safe_globals)"
            if full in _EXTRA_GLOBALS else " (allow it with torch.serialization.add_safe_globals if you trust it)")
    raise pickle.UnpicklingError(
        f"Weights only load failed: unsupported global: GLOBAL {full} is not allowed{hint}. ember.load rebuilds only "
        "tensors, Parameters, dtypes, Size, device and plain containers, and never runs code from a checkpoint.")


class _Unpickler:
    """A pickle reader over bytes that builds only allow-listed objects (like torch's weights-only unpickler)."""

    def __init__(self, data, persistent_load, encoding="utf-8", weights_only=True):
        self.weights_only = weights_only
        self.data = bytes(data)
        self.pos = 0
        self.persistent_load = persistent_load
        self.encoding = encoding
        self.memo = {}
        self.stack = []
        self.metastack = []

    # ---- input ----
    def read(self, n):
        if self.pos + n > len(self.data):
            raise pickle.UnpicklingError("pickle data was truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def readline(self):
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise pickle.UnpicklingError("pickle data was truncated")
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out

    def unpack(self, fmt):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def pop_mark(self):
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def load(self):
        dispatch = _DISPATCH
        while True:
            op = self.read(1)
            handler = dispatch.get(op)
            if handler is None:
                raise pickle.UnpicklingError(f"unsupported pickle opcode {op!r} at byte {self.pos - 1} of data.pkl")
            try:
                if handler(self):
                    return self.stack.pop()
            except IndexError as e:
                raise pickle.UnpicklingError(f"corrupt data.pkl (stack underflow at opcode {op!r})") from e

    # ---- literals ----
    def push(self, value):
        self.stack.append(value)

    def op_proto(self):
        self.read(1)

    def op_frame(self):
        self.read(8)

    def op_stop(self):
        return True

    def op_none(self):
        self.push(None)

    def op_true(self):
        self.push(True)

    def op_false(self):
        self.push(False)

    def op_binint(self):
        self.push(self.unpack("<i"))

    def op_binint1(self):
        self.push(self.read(1)[0])

    def op_binint2(self):
        self.push(self.unpack("<H"))

    def op_long1(self):
        self.push(pickle.decode_long(self.read(self.read(1)[0])))

    def op_long4(self):
        n = self.unpack("<i")
        if n < 0:
            raise pickle.UnpicklingError("LONG pickle has negative byte count")
        self.push(pickle.decode_long(self.read(n)))

    def op_binfloat(self):
        self.push(self.unpack(">d"))

    def _text(self, n):
        self.push(str(self.read(n), "utf-8", "surrogatepass"))

    def op_binunicode(self):
        self._text(self.unpack("<I"))

    def op_short_binunicode(self):
        self._text(self.read(1)[0])

    def op_binunicode8(self):
        self._text(self.unpack("<Q"))

    def _string(self, n):
        data = self.read(n)
        self.push(data if self.encoding == "bytes" else data.decode(self.encoding, "strict"))

    def op_binstring(self):
        self._string(self.unpack("<i"))

    def op_short_binstring(self):
        self._string(self.read(1)[0])

    def op_binbytes(self):
        self.push(self.read(self.unpack("<I")))

    def op_short_binbytes(self):
        self.push(self.read(self.read(1)[0]))

    def op_binbytes8(self):
        self.push(self.read(self.unpack("<Q")))

    def op_bytearray8(self):
        self.push(bytearray(self.read(self.unpack("<Q"))))

    # ---- containers and stack ----
    def op_mark(self):
        self.metastack.append(self.stack)
        self.stack = []

    def op_pop(self):
        if self.stack:
            self.stack.pop()
        else:
            self.pop_mark()

    def op_pop_mark(self):
        self.pop_mark()

    def op_dup(self):
        self.push(self.stack[-1])

    def op_empty_tuple(self):
        self.push(())

    def op_tuple(self):
        self.push(tuple(self.pop_mark()))

    def op_tuple1(self):
        self.stack[-1] = (self.stack[-1],)

    def op_tuple2(self):
        self.stack[-2:] = [(self.stack[-2], self.stack[-1])]

    def op_tuple3(self):
        self.stack[-3:] = [(self.stack[-3], self.stack[-2], self.stack[-1])]

    def op_empty_list(self):
        self.push([])

    def op_list(self):
        self.push(self.pop_mark())

    def _target(self, kinds, opname):
        target = self.stack[-1]
        if type(target) not in kinds:
            raise pickle.UnpicklingError(f"{opname} is not allowed on {type(target).__name__}")
        return target

    def op_append(self):
        item = self.stack.pop()
        self._target((list,), "APPEND").append(item)

    def op_appends(self):
        items = self.pop_mark()
        self._target((list,), "APPENDS").extend(items)

    def op_empty_dict(self):
        self.push({})

    def op_dict(self):
        items = self.pop_mark()
        self.push({items[i]: items[i + 1] for i in range(0, len(items), 2)})

    def op_setitem(self):
        v = self.stack.pop()
        k = self.stack.pop()
        self._target((dict, OrderedDict, Counter), "SETITEM")[k] = v

    def op_setitems(self):
        items = self.pop_mark()
        target = self._target((dict, OrderedDict, Counter), "SETITEMS")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def op_empty_set(self):
        self.push(set())

    def op_additems(self):
        items = self.pop_mark()
        self._target((set,), "ADDITEMS").update(items)

    def op_frozenset(self):
        self.push(frozenset(self.pop_mark()))

    # ---- memo ----
    def _memo_get(self, idx):
        if idx not in self.memo:
            raise pickle.UnpicklingError(f"Memo value not found at index {idx}")
        self.push(self.memo[idx])

    def op_binget(self):
        self._memo_get(self.read(1)[0])

    def op_long_binget(self):
        self._memo_get(self.unpack("<I"))

    def op_binput(self):
        self.memo[self.read(1)[0]] = self.stack[-1]

    def op_long_binput(self):
        self.memo[self.unpack("<I")] = self.stack[-1]

    def op_memoize(self):
        self.memo[len(self.memo)] = self.stack[-1]

    # ---- objects: only allow-listed globals, calls and state ----
    def op_global(self):
        module = self.readline().decode("utf-8")
        name = self.readline().decode("utf-8")
        self.push(_resolve_global(module, name, self.weights_only))

    def op_stack_global(self):
        name = self.stack.pop()
        module = self.stack.pop()
        if type(name) is not str or type(module) is not str:
            raise pickle.UnpicklingError("STACK_GLOBAL requires str")
        self.push(_resolve_global(module, name, self.weights_only))

    def op_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if (_CALLABLES.get(id(func)) is not func and not _user_allowed(func)) or type(args) is not tuple:
            raise pickle.UnpicklingError(f"Trying to call reduce for unrecognized function {func!r}")
        self.stack[-1] = func(*args)

    def op_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self.push(self._new(cls, args, {}))

    def op_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.push(self._new(cls, args, kwargs))

    @staticmethod
    def _new(cls, args, kwargs):
        if (cls not in _NEWOBJ_TYPES and not (isinstance(cls, type) and _user_allowed(cls))) \
                or type(args) is not tuple or type(kwargs) is not dict:
            raise pickle.UnpicklingError(f"Can only create new object for nn.Parameter, containers or allowed "
                                         f"globals, got {cls!r}")
        if cls is argparse.Namespace and (args or kwargs):
            raise pickle.UnpicklingError("invalid argparse.Namespace in checkpoint")
        return Parameter(*args, **kwargs) if cls is Parameter else cls.__new__(cls, *args, **kwargs)

    def op_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict:
            if isinstance(state, tuple) and len(state) == 2:
                state = state[0]
            if state:
                if not isinstance(state, dict) or not all(type(k) is str for k in state):
                    raise pickle.UnpicklingError("invalid OrderedDict state in checkpoint")
                inst.__dict__.update(state)
        elif type(inst) in (Tensor, Parameter):
            _set_state(inst, state)
        elif type(inst) is np.ndarray:
            _build_ndarray(inst, state)
        elif isinstance(inst, np.dtype):
            if type(state) is not tuple or len(state) < 2 or state[1] not in ("<", "|", "=") and inst.itemsize > 1:
                raise pickle.UnpicklingError(f"unsupported NumPy dtype state {state!r} in checkpoint")
        elif type(inst) is argparse.Namespace:
            if not isinstance(state, dict) or not all(type(k) is str for k in state):
                raise pickle.UnpicklingError("invalid argparse.Namespace state in checkpoint")
            inst.__dict__.update(state)
        elif _user_allowed(type(inst)):
            if hasattr(inst, "__setstate__"):
                inst.__setstate__(state)
            else:
                inst.__dict__.update(state)
        else:
            raise pickle.UnpicklingError(f"Can only build Tensor, Parameter, OrderedDict, NumPy values, Namespace or "
                                         f"allowed globals, but got {type(inst).__name__}")

    def op_binpersid(self):
        pid = self.stack.pop()
        self.push(self.persistent_load(pid))


_DISPATCH = {getattr(pickle, name): getattr(_Unpickler, "op_" + name.lower()) for name in (
    "PROTO", "FRAME", "STOP", "NONE", "BININT", "BININT1", "BININT2", "LONG1", "LONG4", "BINFLOAT", "BINUNICODE",
    "SHORT_BINUNICODE", "BINUNICODE8", "BINSTRING", "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
    "BYTEARRAY8", "MARK", "POP", "POP_MARK", "DUP", "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
    "EMPTY_LIST", "LIST", "APPEND", "APPENDS", "EMPTY_DICT", "DICT", "SETITEM", "SETITEMS", "EMPTY_SET", "ADDITEMS",
    "FROZENSET", "BINGET", "LONG_BINGET", "BINPUT", "LONG_BINPUT", "MEMOIZE", "GLOBAL", "STACK_GLOBAL", "REDUCE",
    "NEWOBJ", "NEWOBJ_EX", "BUILD", "BINPERSID")}
_DISPATCH[pickle.NEWTRUE] = _Unpickler.op_true
_DISPATCH[pickle.NEWFALSE] = _Unpickler.op_false


# ---------------------------------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------------------------------
def _check_location(location):
    """Storages can only be restored to the CPU (torch's error for accelerators that are not available)."""
    d = device(location)
    if d.type == "meta":
        raise NotImplementedError("ember does not implement the meta device; load with map_location='cpu'")
    if d.type != "cpu":
        name = d.type
        raise RuntimeError(f"Attempting to deserialize object on a {name.upper()} device but "
                           f"torch.{name}.is_available() is False. If you are running on a CPU-only machine, please "
                           "use torch.load with map_location=torch.device('cpu') to map your storages to the CPU.")


def _restore_location(storage, location, map_location):
    """Apply map_location (None, str, device, dict or callable) the way torch.load does."""
    if map_location is None:
        target = location
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif isinstance(map_location, (str, bytes, device)):
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
    else:
        result = map_location(storage, location)
        if result is None:
            target = location
        elif isinstance(result, _Storage):
            return result
        else:
            raise TypeError(f"map_location must return a storage or None, got {type(result).__name__}")
    _check_location(str(target))
    return storage


class _ZipReader:
    """Records of a torch zip checkpoint, read through zipfile (optionally memory-mapped)."""

    def __init__(self, fileobj, path=None, use_mmap=False):
        import zipfile
        self.zf = zipfile.ZipFile(fileobj)
        names = self.zf.namelist()
        if not names or "/" not in names[0]:
            raise RuntimeError("file in archive is not in a subdirectory: not a PyTorch checkpoint")
        self.prefix = names[0].split("/", 1)[0] + "/"
        self.fileobj = fileobj
        self.map = None
        if use_mmap:
            with open(path, "rb") as fh:
                self.map = _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_COPY) if os.path.getsize(path) else None

    def has(self, name):
        try:
            self.zf.getinfo(self.prefix + name)
        except KeyError:
            return False
        return True

    def info(self, name):
        try:
            return self.zf.getinfo(self.prefix + name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found") from None

    def read(self, name):
        return self.zf.read(self.info(name))

    def read_array(self, name, nbytes):
        """The record's bytes as a fresh writable uint8 array (or a copy-on-write view of the mapped file)."""
        info = self.info(name)
        if info.file_size != nbytes:
            raise RuntimeError(f"record {name} holds {info.file_size} bytes but the checkpoint expects {nbytes}: "
                               "the file is truncated or corrupt")
        if nbytes == 0:
            return np.empty(0, np.uint8)
        if self.map is not None:
            if info.compress_type != 0:
                raise RuntimeError(f"cannot memory-map compressed record {name}")
            return np.frombuffer(self.map, np.uint8, nbytes, self._data_offset(info))
        out = np.empty(nbytes, np.uint8)
        if info.compress_type == 0 and hasattr(self.fileobj, "readinto"):
            # A stored record is read straight into the array, unchecked by CRC-32 as torch's reader does.
            self.fileobj.seek(self._data_offset(info))
            _read_fully(self.fileobj, out, name)
        else:
            with self.zf.open(info) as fh:
                _read_fully(fh, out, name)
        return out

    def _data_offset(self, info):
        self.fileobj.seek(info.header_offset)
        header = self.fileobj.read(30)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        return info.header_offset + 30 + name_len + extra_len


def _read_fully(fh, out, name):
    """Fill the uint8 array `out` from fh.readinto (RuntimeError if the record ends early)."""
    view, got = memoryview(out), 0
    while got < out.size:
        n = fh.readinto(view[got:])
        if not n:
            raise RuntimeError(f"record {name} is truncated")
        got += n


def _load_zip(reader, map_location, encoding, weights_only):
    if reader.has("constants.pkl"):
        raise NotImplementedError("this file is a TorchScript archive (torch.jit.save); ember cannot load "
                                  "TorchScript programs, only checkpoints written by torch.save")
    byteorder = reader.read("byteorder").decode() if reader.has("byteorder") else "little"
    if byteorder not in ("little", "big"):
        raise ValueError("Unknown endianness type: " + byteorder)
    storages = {}

    def persistent_load(pid):
        if type(pid) is not tuple or len(pid) != 5 or pid[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r}")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"invalid storage type {stype!r} in checkpoint")
        key = key.decode("ascii") if isinstance(key, bytes) else key
        location = location.decode("ascii") if isinstance(location, bytes) else location
        if type(key) is not str or type(location) is not str:
            raise pickle.UnpicklingError("invalid storage key or location in checkpoint")
        if key not in storages:
            itemsize = stype.dtype.itemsize if stype.dtype is not None else 1
            data = reader.read_array(f"data/{key}", _int(numel, "storage size") * itemsize)
            if byteorder != sys.byteorder and stype.dtype is not None and itemsize > 1:
                data.view(stype.dtype.np).byteswap(inplace=True)
            storage = _Storage(data, stype.dtype, location)
            storages[key] = _restore_location(storage, location, map_location)
        return storages[key]

    result = _Unpickler(reader.read("data.pkl"), persistent_load, encoding, weights_only).load()
    if not all(s.used for s in storages.values()):
        raise NotImplementedError("the checkpoint holds a bare torch storage (torch.save of a Storage object); "
                                  "ember has no Storage type, save tensors instead")
    return result


def _open_source(f):
    """(file object, path or None, whether to close it)."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        return open(path, "rb"), path, True
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as e:
        raise type(e)(f"{e}. You can only torch.load from a file that is seekable. Please pre-load the data into a "
                      "buffer like io.BytesIO and try to load from it instead.") from None
    return f, None, False


def _load_safetensors(path, map_location):
    if isinstance(map_location, dict):
        raise RuntimeError("Loading safetensors file with dict map_location is not supported. Use a device string "
                           "or torch.device instead.")
    if map_location is not None and not isinstance(map_location, (str, bytes, device)):
        raise RuntimeError("Loading safetensors file with callable map_location is not supported. Use a device "
                           "string or torch.device instead.")
    from .safetensors import load_file
    return load_file(path, device=str(map_location) if map_location is not None else "cpu")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """torch.load: read a checkpoint written by torch.save or ember.save (from a path or a seekable file object).

    ember never executes code from a file: whatever `weights_only` says, data.pkl is read by a restricted
    unpickler that resolves only the globals a checkpoint needs (tensor/Parameter rebuild functions, storage
    classes, dtypes, Size, device, OrderedDict, Counter, set, complex, bytes) to ember objects, plus what the user
    allowed with add_safe_globals; any other global, e.g. os.system or builtins.eval, raises
    pickle.UnpicklingError naming it before anything is called. weights_only=True accepts exactly torch's
    weights-only set; weights_only=False adds what torch.save writes for frozenset, bytes, range, slice,
    argparse.Namespace and NumPy scalars and arrays of numbers, rebuilt from their data, so it stays just as safe.
    `pickle_module` is ignored (as in torch, passing it makes weights_only default to False, and weights_only=True
    refuses it).
    Tensors that shared a storage share memory again.
    `map_location` ('cpu', a device, a dict of location renames or a callable(storage, location)) must resolve to
    the CPU. `mmap=True` maps storages copy-on-write from the file instead of reading them. Paths ending in
    '.safetensors' are read as safetensors files. The legacy (pre-zip) torch format raises NotImplementedError.
    """
    weights_only = pickle_module is None if weights_only is None else weights_only
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(pickle_load_args)}")
    if isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors"):
        return _load_safetensors(os.fspath(f), map_location)
    fh, path, close = _open_source(f)
    try:
        start = fh.tell()
        magic = fh.read(4)
        fh.seek(start)
        if magic != b"PK\x03\x04":
            if mmap:
                raise RuntimeError("mmap can only be used with files saved with "
                                   "`torch.save(_use_new_zipfile_serialization=True), please torch.save your "
                                   "checkpoint with this option in order to use mmap.")
            if not magic:
                raise EOFError("Ran out of input")
            if magic[:1] == pickle.PROTO:
                raise NotImplementedError("this file uses torch's legacy (pre-1.6, non-zip) serialization format, "
                                          "which ember does not read; re-save it with a current torch.save")
            raise pickle.UnpicklingError(f"invalid load key, {magic[:1]!r}: not a PyTorch checkpoint")
        if mmap and path is None:
            raise ValueError("f must be a file path in order to use the mmap argument")
        return _load_zip(_ZipReader(fh, path, bool(mmap)), map_location, encoding, weights_only)
    finally:
        if close:
            fh.close()
