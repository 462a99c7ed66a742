"""Tensors in shared memory (Tensor.share_memory_) and the multiprocessing pickler's reductions that send a tensor to
another process as a handle on that memory, as torch.multiprocessing.reductions does with its file_descriptor strategy.

A block is an anonymous shared-memory file (memfd), mapped into each process that uses it. It has no name: it is
passed between processes as a file descriptor (multiprocessing's DupFd), so nothing is left in /dev/shm and the
resource tracker is never involved; the kernel frees the memory when the last process unmaps it.
Plain pickle.dumps / torch.save keep using Tensor.__reduce_ex__ and store the values themselves.
"""
import ctypes
import mmap
import os
import tempfile
import weakref
from multiprocessing import reduction

import numpy as np

from .._tensor import Tensor
from .._storage import array_root as _root, address as _ptr, byte_span as _byte_span

__all__ = ["reduce_tensor", "rebuild_tensor", "init_reductions"]

_blocks = weakref.WeakValueDictionary()  # (st_dev, st_ino) of a block's file -> the block mapped in this process

_NON_LEAF_MSG = ("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does not support "
                 "crossing process boundaries.  If you just want to transfer the data, call detach() on the tensor "
                 "before serializing (e.g., putting it on the queue).")


class _SharedBlock:
    """One shared-memory file mapped into this process. Arrays built on it have it as their base, so the mapping and
    the descriptor live exactly as long as some array uses the block."""

    def __init__(self, fd, size):
        self.fd, self.size = fd, size
        self._raw = np.frombuffer(mmap.mmap(fd, size), np.uint8)
        self.__array_interface__ = self._raw.__array_interface__
        self.address = self.__array_interface__["data"][0]
        weakref.finalize(self, os.close, fd)
        st = os.fstat(fd)
        _blocks[(st.st_dev, st.st_ino)] = self

    def array(self, offset, shape, strides, dtype, writeable=True):
        """An ndarray over this block's bytes from `offset` (its base chain ends at the block)."""
        a = np.ndarray(shape, dtype, buffer=np.asarray(self), offset=offset, strides=strides)
        if not writeable:
            a.flags.writeable = False
        return a


def _new_block(size):
    """A fresh zero-filled block of `size` bytes (at least one: an empty file cannot be mapped)."""
    size = max(size, 1)
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ember_shared_tensor", os.MFD_CLOEXEC)
    else:
        with tempfile.TemporaryFile() as f:  # already unlinked where memfd is missing: nothing is left behind
            fd = os.dup(f.fileno())
    os.ftruncate(fd, size)
    return _SharedBlock(fd, size)


def _attach(fd, size):
    """The block behind descriptor fd, which this process now owns: the one already mapped here, or a new mapping."""
    st = os.fstat(fd)
    block = _blocks.get((st.st_dev, st.st_ino))
    if block is not None:
        os.close(fd)
        return block
    return _SharedBlock(fd, size)


def _block_of(a):
    """The shared block holding array a's memory, or None."""
    base = _root(a).base
    return base if isinstance(base, _SharedBlock) else None


def is_shared(t):
    return _block_of(t._data) is not None


def share_memory_(t):
    """Move the whole memory t lives in into a new block and point t (and the tensor t is a view of) at it. Other
    tensors over the old memory (earlier views of t, t.data, t.detach()) keep it: share a tensor before viewing it."""
    if is_shared(t):
        return t
    root = _root(t._data)
    lo, hi = _byte_span(root)
    block = _new_block(hi - lo)
    ctypes.memmove(block.address, lo, hi - lo)
    for u in (t, t._base):
        if u is not None and _root(u._data) is root:
            d = u._data
            u._data = block.array(_ptr(d) - lo, d.shape, d.strides, d.dtype, d.flags.writeable)
    return t


def rebuild_tensor(cls, df, size, layout, requires_grad):
    """The receiving side of reduce_tensor: a tensor of class cls over the sender's block."""
    block = _attach(df.detach(), size)
    data = block.array(*layout)
    if issubclass(cls, Tensor) and cls._is_param:
        return cls(Tensor._make(data), requires_grad)
    return Tensor._make(data).requires_grad_(requires_grad)


def reduce_tensor(tensor):
    """Move tensor into shared memory (as torch does when it pickles one for another process) and send a handle."""
    if tensor.requires_grad and not tensor.is_leaf:
        raise RuntimeError(_NON_LEAF_MSG)
    tensor.share_memory_()
    d = tensor._data
    block = _block_of(d)
    layout = (_ptr(d) - block.address, d.shape, d.strides, d.dtype, d.flags.writeable)
    return rebuild_tensor, (type(tensor), reduction.DupFd(block.fd), block.size, layout, tensor.requires_grad)


def init_reductions():
    """Register reduce_tensor with multiprocessing's pickler for Tensor and Parameter (torch's classes)."""
    from ..nn.parameter import Parameter
    reduction.register(Tensor, reduce_tensor)
    reduction.register(Parameter, reduce_tensor)
