"""safetensors files without the safetensors package, with the API of `safetensors.torch`.

Format: an 8-byte little-endian header length N, N bytes of JSON (padded with spaces to a multiple of 8)
mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional "__metadata__"
str->str map, then the little-endian tensor bytes, contiguous and in header order. Files written here are
byte-identical to what `safetensors.torch.save_file` writes for the same tensors, and either side reads the other's.
"""
import json
import os
import struct
import sys
from collections import defaultdict

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .._storage import array_root as _root, address as _ptr, byte_span

__all__ = ["save", "save_file", "load", "load_file", "save_model", "load_model", "safe_open", "SafetensorError"]

# Codes in the order of safetensors' Dtype enum: tensors are stored by descending code, then by name.
_CODES = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
_BY_CODE = {"BOOL": _dtype.bool_, "U8": _dtype.uint8, "I8": _dtype.int8, "I16": _dtype.int16, "U16": _dtype.uint16,
            "F16": _dtype.float16, "BF16": _dtype.bfloat16, "I32": _dtype.int32, "U32": _dtype.uint32,
            "F32": _dtype.float32, "C64": _dtype.complex64, "F64": _dtype.float64, "I64": _dtype.int64,
            "U64": _dtype.uint64}
_CODE_OF = {d.name: code for code, d in _BY_CODE.items()}
_RANK = {code: i for i, code in enumerate(_CODES)}
_TORCH_ONLY = ("F8_E4M3", "F8_E4M3FNUZ", "F8_E5M2", "F8_E5M2FNUZ", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2")
_MAX_HEADER = 100_000_000


class SafetensorError(Exception):
    """A malformed safetensors file (safetensors raises its own SafetensorError here)."""


# ---------------------------------------------------------------------------------------------------------------------
# Shared-memory detection, as safetensors.torch does it
# ---------------------------------------------------------------------------------------------------------------------
def _storage_key(t):
    root = _root(t._data)
    return _ptr(root), root.nbytes


def _area(t):
    """(first byte, last byte + 1) of a tensor's elements."""
    return byte_span(t._data)


def _find_shared_tensors(state_dict):
    """Groups of names whose tensors overlap in memory (singletons for tensors that share nothing)."""
    groups = defaultdict(set)
    for k, v in state_dict.items():
        ptr, size = _storage_key(v)
        if ptr != 0 and size != 0:
            groups[(ptr, size)].add(k)
    result = []
    for shared in sorted(groups.values(), key=sorted):
        areas = sorted((*_area(state_dict[name]), name) for name in shared)
        _, last_stop, last_name = areas[0]
        result.append({last_name})
        for start, stop, name in areas[1:]:
            if start >= last_stop:
                result.append({name})
            else:
                result[-1].add(name)
            last_stop = stop
    return result


def _is_complete(t):
    ptr, size = _storage_key(t)
    return t.data_ptr() == ptr and t._data.nbytes == size


def _remove_duplicate_names(state_dict, *, preferred_names=None, discard_names=None):
    """For each group of shared tensors, the name to keep -> the names to drop (safetensors' rule)."""
    preferred_names = set(preferred_names or [])
    discard_names = set(discard_names or [])
    to_remove = defaultdict(list)
    for shared in _find_shared_tensors(state_dict):
        complete = {name for name in shared if _is_complete(state_dict[name])}
        if not complete:
            raise RuntimeError("Error while trying to find names to remove to save state dict, but found no suitable "
                               f"name to keep for saving amongst: {shared}. None is covering the entire storage."
                               "Refusing to save/load the model since you could be storing much more memory than "
                               "needed. Please refer to https://huggingface.co/docs/safetensors/torch_shared_tensors "
                               "for more information. Or open an issue.")
        keep = sorted(complete)[0]
        if complete - discard_names:
            keep = sorted(complete - discard_names)[0]
        if preferred_names & complete:
            keep = sorted(preferred_names & complete)[0]
        for name in sorted(shared):
            if name != keep:
                to_remove[keep].append(name)
    return to_remove


# ---------------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------------
def _check_tensors(tensors):
    """safetensors.torch's checks, in its order and with its exception classes and messages."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    for k, v in tensors.items():
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received {type(v)}")
    failing = [names for names in _find_shared_tensors(tensors) if len(names) > 1]
    if failing:
        raise RuntimeError(
            "\n            Some tensors share memory, this will lead to duplicate memory on disk and potential "
            f"differences when loading them again: {failing}.\n            A potential way to correctly save your "
            "model is to use `save_model`.\n            More information at "
            "https://huggingface.co/docs/safetensors/torch_shared_tensors\n            ")
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. It either "
                             "means you are trying to save tensors which are reference of each other in which case "
                             "it's recommended to save only the full tensors, and reslice at load time, or simply "
                             "call `.contiguous()` on your tensor to pack it before saving.")
        if v.dtype.name not in _CODE_OF:
            raise KeyError(v.dtype)
    for k in tensors:
        if not isinstance(k, str):
            raise TypeError(f"argument 'tensor_dict': '{type(k).__name__}' object is not an instance of 'str'")


def _check_metadata(metadata):
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise TypeError(f"argument 'metadata': '{type(metadata).__name__}' object cannot be converted to 'PyDict'")
    for k, v in metadata.items():
        for item in (k, v):
            if not isinstance(item, str):
                raise TypeError(f"argument 'metadata': '{type(item).__name__}' object is not an instance of 'str'")


def _layout(tensors, metadata):
    """(header bytes including the length prefix, [(name, little-endian flat uint8 view)] in file order)."""
    _check_tensors(tensors)
    _check_metadata(metadata)
    order = sorted(tensors, key=lambda k: (-_RANK[_CODE_OF[tensors[k].dtype.name]], k))
    header = {"__metadata__": metadata} if metadata is not None else {}
    chunks, pos = [], 0
    for name in order:
        arr = tensors[name]._data
        data = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).reshape(-1).view(np.uint8)
        header[name] = {"dtype": _CODE_OF[arr.dtype.name], "shape": list(arr.shape),
                        "data_offsets": [pos, pos + data.nbytes]}
        chunks.append(data)
        pos += data.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, chunks


def save(tensors, metadata=None):
    """safetensors.torch.save: the bytes of a safetensors file holding `tensors` (contiguous, not sharing memory)."""
    header, chunks = _layout(tensors, metadata)
    return b"".join([header] + [c.tobytes() for c in chunks])


def save_file(tensors, filename, metadata=None):
    """safetensors.torch.save_file: write `tensors` to `filename` (atomically: a failed save keeps the old file)."""
    from ..serialization import atomic_write
    header, chunks = _layout(tensors, metadata)

    def write(fh):
        fh.write(header)
        for c in chunks:
            fh.write(memoryview(c))
    atomic_write(os.fspath(filename), write)


def save_model(model, filename, metadata=None, force_contiguous=True):
    """safetensors.torch.save_model: drop tensors that alias others (recorded in metadata), then save_file."""
    state_dict = model.state_dict()
    for kept, removed in _remove_duplicate_names(state_dict).items():
        for name in removed:
            if metadata is None:
                metadata = {}
            if name not in metadata:
                metadata[name] = kept
            del state_dict[name]
    if force_contiguous:
        state_dict = {k: v.contiguous() for k, v in state_dict.items()}
    try:
        save_file(state_dict, filename, metadata=metadata)
    except ValueError as e:
        raise ValueError(str(e) + " Or use save_model(..., force_contiguous=True), read the docs for potential "
                         "caveats.") from None


# ---------------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------------
def _parse_header(head, total):
    """Validated (metadata, [(name, dtype, shape, begin, end)]) from the JSON header; `total` = data bytes."""
    try:
        header = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorError(f"Error while deserializing header: invalid JSON in header: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing header: header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    entries = []
    for name, info in header.items():
        try:
            code, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise SafetensorError(f"Error while deserializing header: invalid entry for tensor {name!r}") from None
        if code in _TORCH_ONLY or code == "BF16":
            raise NotImplementedError(f"tensor {name!r} has dtype {code}, which ember does not implement")
        if code not in _BY_CODE:
            raise SafetensorError(f"Error while deserializing header: unknown dtype {code!r} of tensor {name!r}")
        if not all(type(s) is int and s >= 0 for s in shape) or not all(type(o) is int for o in (begin, end)):
            raise SafetensorError(f"Error while deserializing header: invalid shape or offsets of tensor {name!r}")
        dtype = _BY_CODE[code]
        if end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise SafetensorError(f"Error while deserializing header: TensorInvalidInfo: tensor {name!r} of shape "
                                  f"{shape} and dtype {code} does not fit offsets [{begin}, {end}]")
        entries.append((name, dtype, tuple(shape), begin, end))
    pos = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != pos:
            raise SafetensorError(f"Error while deserializing header: InvalidOffset({name!r})")
        pos = end
    if pos != total:
        raise SafetensorError("Error while deserializing header: MetadataIncompleteBuffer")
    return metadata, entries


def _read_header(read, size):
    """Parse the length prefix and header given read(n) and the file size; returns (data start, metadata, entries)."""
    if size < 8:
        raise SafetensorError("Error while deserializing header: header too small")
    n = struct.unpack("<Q", read(8))[0]
    if n > _MAX_HEADER:
        raise SafetensorError("Error while deserializing header: HeaderTooLarge")
    if 8 + n > size:
        raise SafetensorError("Error while deserializing header: invalid header length")
    metadata, entries = _parse_header(read(n), size - 8 - n)
    return 8 + n, metadata, entries


def _tensor(flat, dtype, shape):
    arr = flat.view(dtype.np.newbyteorder("<")).reshape(shape)
    if sys.byteorder == "big":
        arr = arr.astype(dtype.np)
    return Tensor._make(arr)


def load(data):
    """safetensors.torch.load: the tensors of a safetensors file given as bytes (each a fresh copy)."""
    data = bytes(data)
    pos = [0]

    def read(n):
        pos[0] += n
        return data[pos[0] - n:pos[0]]
    start, _, entries = _read_header(read, len(data))
    return {name: _tensor(np.frombuffer(data, np.uint8, end - begin, start + begin).copy(), dtype, shape)
            for name, dtype, shape, begin, end in entries}


class safe_open:
    """safetensors.safe_open: lazy access to a file's tensors (keys(), metadata(), get_tensor(name))."""

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "torch", "np", "numpy"):
            raise ValueError(f"framework {framework!r} is not supported by ember (use 'pt')")
        _dtype.check_device(device)
        self.framework = framework
        self._f = open(os.fspath(filename), "rb")
        try:
            self._start, self._metadata, entries = _read_header(self._f.read, os.fstat(self._f.fileno()).st_size)
        except BaseException:
            self._f.close()
            raise
        self._entries = {e[0]: e[1:] for e in entries}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def keys(self):
        return sorted(self._entries)

    def metadata(self):
        return self._metadata

    def get_tensor(self, name):
        dtype, shape, begin, end = self._entries[name]
        flat = np.empty(end - begin, np.uint8)
        self._f.seek(self._start + begin)
        if self._f.readinto(memoryview(flat)) != flat.nbytes:
            raise SafetensorError(f"Error while deserializing: tensor {name!r} is truncated")
        t = _tensor(flat, dtype, shape)
        return t._data if self.framework in ("np", "numpy") else t

    def get_tensors(self):
        return {name: self.get_tensor(name) for name in sorted(self._entries, key=lambda k: self._entries[k][2])}


def load_file(filename, device="cpu"):
    """safetensors.torch.load_file: a dict of the file's tensors (on the CPU, each in its own memory)."""
    with safe_open(filename, framework="pt", device=device) as f:
        return f.get_tensors()


def load_model(model, filename, strict=True, device="cpu"):
    """safetensors.torch.load_model: load a file written by save_model into `model`; returns (missing, unexpected)."""
    state_dict = load_file(filename, device=device)
    to_removes = _remove_duplicate_names(model.state_dict(), preferred_names=state_dict.keys())
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing = set(missing)
    for group in to_removes.values():
        for name in group:
            if name not in missing:
                unexpected.append(name)
            else:
                missing.remove(name)
    if strict and (missing or unexpected):
        error = f"Error(s) in loading state_dict for {model.__class__.__name__}:"
        if missing:
            error += "\n    Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(missing))
        if unexpected:
            error += "\n    Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(unexpected))
        raise RuntimeError(error)
    return missing, unexpected
