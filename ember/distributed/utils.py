"""Helpers of DistributedDataParallel: check that every rank holds the same model, and copy rank 0's state."""
import numpy as np

from .distributed_c10d import _check_same_across_ranks


def _verify_param_shape_across_processes(process_group, tensors):
    """Raise the same RuntimeError on every rank unless all ranks have tensors of the same count, shapes, dtypes."""
    pg = process_group
    counts = np.empty(pg.size(), np.int64)
    pg._comm.Allgather(np.array([len(tensors)], np.int64), counts)
    if (counts != counts[0]).any():
        r = int(np.nonzero(counts != counts[0])[0][0])
        raise RuntimeError(f"DDP expects same model across all ranks, but Rank {pg._ranks[0]} has {counts[0]} params, "
                           f"while rank {pg._ranks[r]} has inconsistent {counts[r]} params.")
    for i, t in enumerate(tensors):
        _check_same_across_ranks(pg, f"DDP expects same model across all ranks, but params[{i}] differs", t._data)


def _broadcast_coalesced(process_group, tensors, src=0, bump_versions=True):
    """Overwrite the tensors with rank src's values: one broadcast per dtype, through a packed buffer.

    bump_versions=False keeps the version counters (PyTorch's _unsafe_preserve_version_counter for buffer sync).
    """
    pg = process_group
    if pg.size() == 1 or not tensors:
        return
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype.str, []).append(t)
    for group in by_dtype.values():
        flat = np.concatenate([t._data.reshape(-1) for t in group])
        pg._comm.Bcast(flat, root=src)
        offset = 0
        for t in group:
            n = t._data.size
            np.copyto(t._data, flat[offset:offset + n].reshape(t._data.shape))
            if bump_versions:
                t._bump()
            offset += n


def _sync_module_states(module, process_group, src=0, params_and_buffers_to_ignore=(), broadcast_buffers=True):
    """Copy the parameters (and, if asked, the buffers) of rank src's module into every rank's."""
    tensors = [p for n, p in module.named_parameters() if n not in params_and_buffers_to_ignore]
    if broadcast_buffers:
        tensors += [b for n, b in module.named_buffers() if n not in params_and_buffers_to_ignore]
    _broadcast_coalesced(process_group, tensors, src)

