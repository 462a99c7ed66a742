"""default_collate / default_convert: PyTorch's rules for turning samples into batches."""
import collections.abc
import copy
import re

import numpy as np

from ...._tensor import Tensor

np_str_obj_array_pattern = re.compile(r"[SaUO]")
default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                                  "lists; found {}")


def _rebuild_container(elem, values):
    """A container like `elem` holding `values` (PyTorch's clone-or-construct-or-plain fallback)."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        if isinstance(elem, collections.abc.Mapping):
            return type(elem)(values)
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(elem)(values)
    except TypeError:
        return dict(values) if isinstance(elem, collections.abc.Mapping) else list(values)


def default_convert(data):
    """Convert NumPy arrays/scalars inside `data` to tensors, leaving structure as is."""
    from ....ops.creation import as_tensor
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_container(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_container(data, [default_convert(d) for d in data])
    return data


def _stack_arrays(arrays):
    """np.stack of equal-shape, same-dtype arrays (None otherwise, so the caller takes PyTorch's checked path)."""
    shape, dtype = arrays[0].shape, arrays[0].dtype
    if all(a.shape == shape and a.dtype == dtype for a in arrays):
        return np.stack(arrays)
    return None


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """torch.stack(batch): one np.stack when no sample needs autograd and all agree in shape and dtype."""
    if not any(b.requires_grad for b in batch):
        out = _stack_arrays([b._data for b in batch])
        if out is not None:
            return Tensor._make(out)
    from ....ops.shape import stack
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    if elem.dtype.isnative and all(min(b.strides, default=0) >= 0 for b in batch):
        from ...._dtype import from_numpy_dtype
        from_numpy_dtype(elem.dtype)
        out = _stack_arrays(batch)
        if out is not None:
            return Tensor._make(out)
    from ....ops.creation import as_tensor
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    from ....ops.creation import as_tensor
    return as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return Tensor._make(np.asarray(batch, np.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    from ....ops.creation import tensor
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples by the type of the first, recursing into mappings and sequences."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_container(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                         for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        return _rebuild_container(elem, [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def default_collate(batch):
    """Stack a list of samples into a batch (tensors, NumPy arrays, numbers, dicts, (named)tuples, lists)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
