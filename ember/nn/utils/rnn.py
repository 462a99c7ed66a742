"""PackedSequence and the pack/pad utilities for variable-length batches."""
from collections import namedtuple

import numpy as np

from ..._tensor import Tensor
from ... import _dtype
from ...autograd.function import as_node
from ...ops.creation import full, tensor as _tensor
from ...ops.shape import stack, cat

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """Time-major packed data of sequences sorted by decreasing length, with per-step batch sizes."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU.")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not isinstance(data, (list, tuple)) or len(data) != 2:
            raise AssertionError("Expected data to be a list or tuple of length 2")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def pin_memory(self):
        return self

    def _map(self, fn):
        data = fn(self.data)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        return self._map(lambda d: d.to(*args, **kwargs))

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def cpu(self, *args, **kwargs):
        return self

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def short(self):
        return self.to(dtype=_dtype.int16)

    def char(self):
        return self.to(dtype=_dtype.int8)

    def byte(self):
        return self.to(dtype=_dtype.uint8)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    if permutation is None:
        return None
    out = np.empty_like(permutation._data)
    out[permutation._data] = np.arange(permutation.numel())
    return Tensor._make(out)


def _lengths_array(lengths):
    """lengths (a Tensor, list or array) as a 1-D int64 array, with torch's check of a tensor's rank."""
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D cpu "
                               f"{lengths.to(_dtype.int64).type().split('.')[-1].replace('Tensor', '')} tensor")
        return lengths._data.astype(np.int64)
    return np.asarray(lengths, np.int64).reshape(-1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) (or (B, T, *) with batch_first) batch of sequences of the given lengths."""
    lens = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = Tensor._make(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{input.dim()}, {input.dim() - 1}], "
                         "but got 1)")
    x = input.transpose(0, 1) if batch_first else input
    t_max, b = x.shape[0], x.shape[1]
    if x.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if len(lens) != b:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} (batch_size={b})")
    if lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if (np.diff(lens) > 0).any():
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                           "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    if lens[0] > t_max:
        raise RuntimeError(f"Expected sequence length to be larger than or equal to the max length "
                           f"{lens[0]} but got {t_max}")
    steps = int(lens[0])
    batch_sizes = (lens[None, :] > np.arange(steps)[:, None]).sum(1).astype(np.int64)
    flat = (np.arange(steps)[:, None] * b + np.arange(b)[None, :])[np.arange(b)[None, :] < batch_sizes[:, None]]
    data = x.reshape((t_max * b,) + tuple(x.shape[2:])).index_select(0, Tensor._make(flat))
    return PackedSequence(as_node(data, "PackPaddedSequenceBackward0"), Tensor._make(batch_sizes), sorted_indices,
                          None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a PackedSequence into a padded tensor and the lengths (in the original batch order)."""
    bsz = sequence.batch_sizes._data
    max_len = len(bsz)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_len}")
        max_len = total_length
    b = int(bsz[0]) if len(bsz) else 0
    data = sequence.data
    flat = (np.arange(len(bsz))[:, None] * b + np.arange(b)[None, :])[np.arange(b)[None, :] < bsz[:, None]]
    trailing = tuple(data.shape[1:])
    padded = full((max_len * b,) + trailing, padding_value, dtype=data.dtype)
    padded = as_node(padded.index_copy(0, Tensor._make(flat), data).reshape((max_len, b) + trailing), "CopySlices")
    lengths = (bsz[None, :] > np.arange(b)[:, None]).sum(1).astype(np.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths_t = Tensor._make(lengths)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths_t = Tensor._make(lengths[sequence.unsorted_indices._data])
    return padded, lengths_t


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length sequences into one padded tensor (of the first sequence's dtype)."""
    if not hasattr(sequences, "__iter__"):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    if first.dim() == 0:
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    trailing = tuple(first.shape[1:])
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        for k, (want, got) in enumerate(zip(trailing, tuple(s.shape[1:]))):
            if want != got:
                raise RuntimeError(f"The size of tensor a ({want}) must match the size of tensor b ({got}) at "
                                   f"non-singleton dimension {k + 1}")
        s = s.to(first.dtype)
        extra = max_len - s.shape[0]
        if extra:
            fill = full((extra,) + trailing, padding_value, dtype=first.dtype)
            s = cat([s, fill]) if padding_side == "right" else cat([fill, s])
        padded.append(s)
    return as_node(stack(padded, 0 if batch_first else 1), "CopySlices")


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences (like torch, transposes a time-major input in place)."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    lens = _lengths_array(lengths)
    return [as_node(seq[:int(n)], "IndexBackward0") for seq, n in zip(padded_sequences.unbind(0), lens, strict=True)]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = _tensor([s.shape[0] for s in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
