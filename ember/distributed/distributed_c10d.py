"""Process groups and collectives with torch.distributed's API, carried by MPI (mpi4py).

MPI does the rendezvous: rank and world size come from the MPI launcher (`mpiexec`, or `python -m
ember.distributed.run`), so `init_method`, `store` and the like are accepted as PyTorch accepts them. Tensors travel
as their ndarrays through MPI's buffer interface (never pickled) and collectives write into the tensors they are
given, as in PyTorch. mpi4py is imported on first use only: importing it initialises MPI, which `import ember` must
not do.
"""
import datetime
import enum
import os
import sys
import time
import warnings

import numpy as np

from .._tensor import Tensor
from .._dtype import from_numpy_dtype, scalar_name

__all__ = ["Backend", "ReduceOp", "ProcessGroup", "GroupMember", "group", "Work", "DistError", "DistBackendError",
           "default_pg_timeout", "is_mpi_available", "is_gloo_available", "is_nccl_available", "is_ucc_available",
           "is_xccl_available", "is_backend_available", "is_initialized", "is_torchelastic_launched",
           "init_process_group", "destroy_process_group", "new_group", "get_rank", "get_world_size", "get_backend",
           "get_process_group_ranks", "get_global_rank", "get_group_rank", "barrier", "monitored_barrier",
           "broadcast", "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "gather", "scatter",
           "reduce_scatter", "reduce_scatter_tensor", "send", "recv", "isend", "irecv", "all_gather_object",
           "broadcast_object_list", "gather_object", "scatter_object_list", "supports_complex"]

_INSTALL_HINT = "pip install ember[mpi]"
default_pg_timeout = datetime.timedelta(minutes=30)
_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


def _mpi():
    """mpi4py's MPI module, imported (and MPI initialised) only when a process group is wanted."""
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as e:
        raise RuntimeError(f"ember.distributed needs mpi4py and an MPI library, which could not be loaded ({e}); "
                           f"install them with `{_INSTALL_HINT}`") from None
    return MPI


class DistError(RuntimeError):
    """Base of the errors raised by collectives."""


class DistBackendError(DistError):
    """A collective failed or timed out in the communication layer."""


class _NotInitializedError(RuntimeError, ValueError):
    """No default process group: PyTorch raises ValueError here; ember's error is also a RuntimeError."""


# ---- names: backends, reduction ops, groups ------------------------------------------------------------------


class Backend(str):
    """A backend name, lower case (`Backend("MPI") == "mpi"`), as torch.distributed.Backend."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


class ReduceOp:
    """The reduction of all_reduce, reduce and reduce_scatter: ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, BAND, ..."""

    class RedOpType(enum.Enum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


def supports_complex(reduceOp):
    """Whether the reduction is defined on complex tensors (not MIN, MAX and the bitwise ones)."""
    return reduceOp not in (ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT, ReduceOp.BAND, ReduceOp.BOR,
                            ReduceOp.BXOR)


class ProcessGroup:
    """A group of processes: the global ranks of its members and the MPI communicator that joins them."""

    def __init__(self, comm, ranks, timeout):
        self._comm = comm
        self._ranks = list(ranks)
        self._timeout = timeout

    def rank(self):
        return self._comm.Get_rank()

    def size(self):
        return len(self._ranks)

    def name(self):
        return Backend.MPI

    def __repr__(self):
        return f"<ember.distributed.ProcessGroup ranks={self._ranks}>"


class _WorldMeta(type):
    """Gives GroupMember.WORLD and group.WORLD as the current default group (None before init), as PyTorch."""

    @property
    def WORLD(cls):
        return _world.default_pg


class GroupMember(metaclass=_WorldMeta):
    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):
    pass


class _World:
    """The state of this process: its default group, the groups made from it, the hook that aborts on errors."""

    def __init__(self):
        self.default_pg = None
        self.groups = []
        self.previous_excepthook = None


_world = _World()


# ---- availability and init -------------------------------------------------------------------------------


def is_mpi_available():
    """True when mpi4py can be imported (without initialising MPI)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_gloo_available():
    return False


def is_nccl_available():
    return False


def is_ucc_available():
    return False


def is_xccl_available():
    return False


def is_backend_available(backend):
    return Backend(backend) == Backend.MPI and is_mpi_available()


def is_initialized():
    return _world.default_pg is not None


def is_torchelastic_launched():
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def _check_valid_timeout(timeout):
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {timeout}")


def _check_backend(backend):
    """The backends that run here: MPI, and gloo's CPU collectives (carried by MPI, with the same results)."""
    if backend is None:
        return
    for part in str(backend).split(","):
        name = Backend(part.split(":")[-1])
        if name in (Backend.MPI, Backend.GLOO):
            continue
        if name in (Backend.NCCL, Backend.UCC, Backend.XCCL):
            raise RuntimeError(f"Distributed package doesn't have {name.upper()} built in: ember runs on the CPU and "
                               "its collectives on MPI (use backend='mpi')")
        raise ValueError(f"Invalid backend: '{name}'")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the processes that the MPI launcher started; rank and world size are MPI's.

    A `rank` or `world_size` other than MPI's raises on every rank (checked collectively, so nobody hangs).
    backend 'mpi' or None; 'gloo' (PyTorch's CPU backend) is accepted and carried by MPI with the same results.
    A `timeout` bounds every wait on the group (DistBackendError when it passes); without one, waits are MPI's.
    """
    if _world.default_pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None and init_method is not None:
        raise AssertionError("Cannot specify both init_method and store.")
    if store is not None and not world_size > 0:
        raise AssertionError("world_size must be positive if using store")
    if store is not None and not rank >= 0:
        raise AssertionError("rank must be non-negative if using store")
    if timeout is not None:
        _check_valid_timeout(timeout)
    _check_backend(backend)
    MPI = _mpi()
    world = MPI.COMM_WORLD
    _check_launch_matches(world, int(rank), int(world_size))
    comm = world.Dup()
    pg = ProcessGroup(comm, range(comm.Get_size()), timeout)
    _world.default_pg = pg
    _world.groups = [pg]
    if comm.Get_size() > 1:
        _install_abort_hook()


def _check_launch_matches(world, rank, world_size):
    """Compare the rank/world_size given on every rank with MPI's, and raise the same error everywhere."""
    mine = np.array([rank, world_size], np.int64)
    every = np.empty((world.Get_size(), 2), np.int64)
    world.Allgather(mine, every)
    size = world.Get_size()
    for r, (asked_rank, asked_size) in enumerate(every):
        if asked_size not in (-1, size):
            raise RuntimeError(f"init_process_group: world_size={asked_size} was given (on rank {r}) but MPI started "
                               f"{size} process(es); launch with `python -m ember.distributed.run --nproc-per-node "
                               f"{asked_size} ...` or `mpiexec -n {asked_size} ...`")
        if asked_rank not in (-1, r):
            raise RuntimeError(f"init_process_group: rank={asked_rank} was given to the process that MPI ranks {r}; "
                               "ember takes the rank from MPI (leave rank=-1 or pass the launcher's RANK)")


def _install_abort_hook():
    """An uncaught exception on one rank aborts the whole job instead of leaving the others in a collective."""
    if _world.previous_excepthook is not None:
        return
    _world.previous_excepthook = sys.excepthook

    def abort_on_uncaught(exc_type, exc, tb):
        _world.previous_excepthook(exc_type, exc, tb)
        if _world.default_pg is not None and not issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            sys.stderr.flush()
            sys.stdout.flush()
            _mpi().COMM_WORLD.Abort(1)

    sys.excepthook = abort_on_uncaught


def destroy_process_group(group=None):
    """Free a group's communicator; with no argument, every group and the default one (init may then run again)."""
    if group is None or group is _world.default_pg:
        if _world.default_pg is None:
            raise AssertionError("Process group cannot be None")
        for pg in reversed(_world.groups):
            pg._comm.Free()
        _world.default_pg = None
        _world.groups = []
        if _world.previous_excepthook is not None:
            sys.excepthook = _world.previous_excepthook
            _world.previous_excepthook = None
        return
    if group == GroupMember.NON_GROUP_MEMBER:
        return
    if group not in _world.groups:
        raise ValueError("Invalid process group specified")
    _world.groups.remove(group)
    group._comm.Free()


def _get_default_group():
    if _world.default_pg is None:
        raise _NotInitializedError(_NOT_INITIALIZED)
    return _world.default_pg


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """A group of some of the ranks. Every rank calls it (non-members get GroupMember.NON_GROUP_MEMBER), or only
    the members when use_local_synchronization=True."""
    default = _get_default_group()
    _check_backend(backend)
    if timeout is not None:
        _check_valid_timeout(timeout)
    size = default.size()
    ranks = list(range(size)) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks)
    if len(ranks) > size:
        raise ValueError("the new group's world size should be less or equal to the world size set by "
                         "init_process_group")
    for r in ranks:
        if r < 0 or r >= size:
            raise ValueError("The new group's rank should be within the world_size set by init_process_group")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct, got {ranks}")
    MPI = _mpi()
    world_group = default._comm.Get_group()
    members = world_group.Incl(ranks)
    if use_local_synchronization:
        comm = default._comm.Create_group(members) if default.rank() in ranks else MPI.COMM_NULL
    else:
        comm = default._comm.Create(members)
    members.Free()
    world_group.Free()
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, timeout if timeout is not None else default._timeout)
    _world.groups.append(pg)
    return pg


# ---- ranks and groups ------------------------------------------------------------------------------------


def _rank_not_in_group(group):
    return group == GroupMember.NON_GROUP_MEMBER


def _warn_not_in_group(op_name):
    rank = _get_default_group().rank()
    warnings.warn(f"Running {op_name} on global rank {rank} which does not belong to the given group.")


def _group_or_default_group(group=None):
    if group is None or group is _world.default_pg:
        return _get_default_group()
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"expected a ProcessGroup made by new_group, got {type(group).__name__}")
    return group


def get_rank(group=None):
    if _rank_not_in_group(group):
        return -1
    return _group_or_default_group(group).rank()


def get_world_size(group=None):
    if _rank_not_in_group(group):
        return -1
    return _group_or_default_group(group).size()


def get_backend(group=None):
    if _rank_not_in_group(group):
        raise ValueError("Invalid process group specified")
    return Backend(_group_or_default_group(group).name())


def get_process_group_ranks(group):
    return list(_group_or_default_group(group)._ranks)


def get_global_rank(group, group_rank):
    ranks = _group_or_default_group(group)._ranks
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return ranks[group_rank]


def get_group_rank(group, global_rank):
    pg = _group_or_default_group(group)
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return pg._ranks.index(global_rank)


def _root(pg, global_rank, group_rank, what):
    """The group rank of a collective's root, given as a global rank or (group_src/group_dst) a group rank."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        r = int(group_rank)
    elif global_rank is None:
        raise ValueError("Must specify global_rank or group_rank")
    elif pg is _world.default_pg:
        r = int(global_rank)
    else:
        r = get_group_rank(pg, int(global_rank))
    if not 0 <= r < pg.size():
        raise RuntimeError(f"{what}: invalid root rank: {r} (the group has {pg.size()} ranks)")
    return r


# ---- argument checks ------------------------------------------------------------------------------------


def _check_single_tensor(param, param_name):
    if not isinstance(param, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{param_name}` of type torch.Tensor\n"
                        f"             but got {type(param)} instead.")


def _check_tensor_list(param, param_name):
    if not isinstance(param, list):
        raise TypeError(f"Invalid function argument. Expected parameter `{param_name}` of type List[torch.Tensor]\n"
                        f"             but got {type(param)} instead.")
    if not all(isinstance(p, Tensor) for p in param):
        raise TypeError(f"Invalid function argument. Expected parameter `{param_name}` of type List[torch.Tensor]\n"
                        f"             but got {type(param)} with elements of type {[type(p) for p in param]}.")


def _ensure_all_tensors_same_dtype(*tensors):
    last = None
    for t in (x for item in tensors for x in (item if isinstance(item, list) else [item])):
        dtype = t.dtype.to_real() if t.is_complex() else t.dtype
        if last is None:
            last = dtype
        elif last != dtype:
            raise ValueError(f"Invalid usage of tensors with different dtypesFound {last} and  {t.dtype}")


def _check_shapes(what, tensors, shape, kind="tensor"):
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(shape):
            raise RuntimeError(f"{what}: invalid {kind} size at index {i} (expected {list(shape)}, got "
                               f"{list(t.shape)})")


def _check_list_length(what, tensors, size, kind):
    if len(tensors) != size:
        raise RuntimeError(f"{what}: invalid {kind} tensor list (expected length {size}, got {len(tensors)})")


_MAX_DIMS = 64
_DTYPE_NAMES = {np.dtype(n).num: n for n in ("bool", "uint8", "int8", "int16", "uint16", "int32", "uint32", "int64",
                                             "uint64", "float16", "float32", "float64", "complex64", "complex128")}


def _describe(meta):
    ndim = int(meta[1])
    dtype = _DTYPE_NAMES.get(int(meta[0]), f"dtype #{meta[0]}")
    return f"shape {[int(s) for s in meta[2:2 + ndim]]} ({dtype})"


def _check_same_across_ranks(pg, what, arr):
    """Raise the same RuntimeError on every rank when the ranks' tensors differ in shape or dtype.

    One small all-gather of (dtype, ndim, shape) before the collective: a mismatched collective would otherwise
    hang or write past a buffer.
    """
    size = pg.size()
    if size == 1:
        return
    meta = np.full(2 + _MAX_DIMS, -1, np.int64)
    meta[0], meta[1] = arr.dtype.num, arr.ndim
    meta[2:2 + arr.ndim] = arr.shape
    every = np.empty((size, meta.size), np.int64)
    pg._comm.Allgather(meta, every)
    bad = np.nonzero((every != every[0]).any(axis=1))[0]
    if bad.size:
        r = int(bad[0])
        raise RuntimeError(f"{what}: the tensors differ across ranks: rank {pg._ranks[0]} has {_describe(every[0])} "
                           f"but rank {pg._ranks[r]} has {_describe(every[r])} (every rank must pass a tensor of the "
                           "same shape and dtype)")


# ---- buffers and reductions ------------------------------------------------------------------------------


def _contiguous(t):
    """The tensor's ndarray when C-contiguous, else a contiguous copy (copied back when the collective ends)."""
    a = t._data
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _store(t, arr):
    """Put a collective's result into tensor t, in place (as PyTorch's collectives write into their tensors)."""
    if arr is not t._data:
        np.copyto(t._data, arr.reshape(t._data.shape), casting="unsafe")
    t._bump()


_BOOL_OPS = {"SUM": "LOR", "MAX": "LOR", "BOR": "LOR", "PRODUCT": "LAND", "MIN": "LAND", "BAND": "LAND",
             "BXOR": "LXOR"}
_MPI_OPS = {"SUM": "SUM", "AVG": "SUM", "PRODUCT": "PROD", "MIN": "MIN", "MAX": "MAX", "BAND": "BAND",
            "BOR": "BOR", "BXOR": "BXOR"}


def _mpi_op(op, arr, what):
    """The MPI reduction for a ReduceOp on this array (AVG sums, then the caller divides)."""
    if not isinstance(op, ReduceOp.RedOpType):
        raise TypeError(f"{what}: op must be a torch.distributed.ReduceOp, got {op!r}")
    if op is ReduceOp.PREMUL_SUM:
        raise NotImplementedError(f"{what}: ReduceOp.PREMUL_SUM is not implemented in ember")
    if arr.dtype.kind == "c" and not supports_complex(op):
        raise ValueError(f"{what} does not support {op} on complex tensors")
    if op is ReduceOp.AVG and arr.dtype.kind not in "fc":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{scalar_name(from_numpy_dtype(arr.dtype))}")
    if arr.dtype.kind in "fc" and op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        raise RuntimeError(f"{what}: bitwise {op.name} needs an integer or bool tensor, got "
                           f"{from_numpy_dtype(arr.dtype)}")
    table = _BOOL_OPS if arr.dtype.kind == "b" else _MPI_OPS
    return getattr(_mpi(), table[op.name])


def _averaged(op, arr, size):
    """Divide the summed array by the group size when op is AVG."""
    if op is ReduceOp.AVG:
        np.divide(arr, size, out=arr)
    return arr


# ---- work handles ----------------------------------------------------------------------------------------


def _wait_all(requests, timeout, what, statuses=None):
    """Wait for MPI requests; with a timeout, poll and raise DistBackendError once it has passed."""
    MPI = _mpi()
    if timeout is None:
        MPI.Request.Waitall(requests, statuses)
        return
    deadline = time.monotonic() + timeout.total_seconds()
    while not MPI.Request.Testall(requests, statuses):
        if time.monotonic() > deadline:
            raise DistBackendError(f"{what} timed out after {timeout} (a rank may not have called it)")


class Work:
    """A collective in flight (async_op=True): wait() completes it and fills the output tensors."""

    def __init__(self, requests, finish=None, outputs=(), timeout=None, what="collective"):
        self._requests = list(requests)
        self._finish = finish
        self._outputs = list(outputs)
        self._timeout = timeout
        self._what = what
        self._done = False
        self._source = None
        self._statuses = None

    def _complete(self):
        self._done = True
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()

    def is_completed(self):
        if not self._done and _mpi().Request.Testall(self._requests, self._statuses):
            self._complete()
        return self._done

    def wait(self, timeout=None):
        if not self._done:
            if isinstance(timeout, (int, float)):
                timeout = datetime.timedelta(seconds=timeout)
            _wait_all(self._requests, timeout or self._timeout, self._what, self._statuses)
            self._complete()
        return True

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None

    def result(self):
        self.wait()
        return list(self._outputs)

    def synchronize(self):
        self.wait()

    def source_rank(self):
        self.wait()
        if self._source is None:
            raise RuntimeError("source_rank() is only defined for a receive")
        return self._source


def _run(pg, what, requests, finish, outputs, async_op):
    """Return the Work for async_op, else wait for it (and return None, as PyTorch)."""
    work = Work(requests, finish, outputs, pg._timeout, what)
    if async_op:
        return work
    work.wait()
    return None


def _prologue(group, what):
    """The group a collective runs on, or None (with PyTorch's warning) when this rank is not a member."""
    if _rank_not_in_group(group):
        _warn_not_in_group(what)
        return None
    return _group_or_default_group(group)


# ---- collectives ---------------------------------------------------------------------------------------


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    pg = _prologue(group, "barrier")
    if pg is None:
        return None
    work = Work([pg._comm.Ibarrier()], timeout=timeout or pg._timeout, what="barrier")
    if async_op:
        return work
    work.wait()
    return None


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier that raises DistBackendError after `timeout` instead of waiting forever."""
    pg = _prologue(group, "monitored_barrier")
    if pg is None:
        return None
    Work([pg._comm.Ibarrier()], timeout=timeout or default_pg_timeout, what="monitored_barrier").wait()
    return None


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    _check_single_tensor(tensor, "tensor")
    pg = _prologue(group, "broadcast")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "broadcast")
    arr = _contiguous(tensor)
    _check_same_across_ranks(pg, "broadcast", arr)
    req = pg._comm.Ibcast(arr, root=root)
    return _run(pg, "broadcast", [req], lambda: _store(tensor, arr), [tensor], async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    _check_single_tensor(tensor, "tensor")
    pg = _prologue(group, "all_reduce")
    if pg is None:
        return None
    arr = _contiguous(tensor)
    _check_same_across_ranks(pg, "all_reduce", arr)
    mpi_op = _mpi_op(op, arr, "all_reduce")
    req = pg._comm.Iallreduce(_mpi().IN_PLACE, arr, mpi_op)
    return _run(pg, "all_reduce", [req], lambda: _store(tensor, _averaged(op, arr, pg.size())), [tensor], async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce into `tensor` on the destination rank; the other ranks' tensors are left as they were."""
    _check_single_tensor(tensor, "tensor")
    pg = _prologue(group, "reduce")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "reduce")
    arr = _contiguous(tensor)
    _check_same_across_ranks(pg, "reduce", arr)
    mpi_op = _mpi_op(op, arr, "reduce")
    MPI = _mpi()
    if pg.rank() == root:
        req = pg._comm.Ireduce(MPI.IN_PLACE, arr, mpi_op, root=root)
        finish = lambda: _store(tensor, _averaged(op, arr, pg.size()))  # noqa: E731
    else:
        req = pg._comm.Ireduce(arr, None, mpi_op, root=root)
        finish = None
    return _run(pg, "reduce", [req], finish, [tensor], async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill tensor_list[i] with rank i's tensor."""
    _check_tensor_list(tensor_list, "tensor_list")
    _check_single_tensor(tensor, "tensor")
    _ensure_all_tensors_same_dtype(tensor_list, tensor)
    pg = _prologue(group, "all_gather")
    if pg is None:
        return None
    _check_list_length("all_gather", tensor_list, pg.size(), "output")
    _check_shapes("all_gather", tensor_list, tensor.shape)
    arr = _contiguous(tensor)
    _check_same_across_ranks(pg, "all_gather", arr)
    every = np.empty((pg.size(),) + arr.shape, arr.dtype)
    req = pg._comm.Iallgather(arr, every)

    def finish():
        for t, a in zip(tensor_list, every):
            _store(t, a)
    return _run(pg, "all_gather", [req], finish, tensor_list, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather every rank's input into one output: stacked (world, *shape) or concatenated along dim 0."""
    _check_single_tensor(output_tensor, "output_tensor")
    _check_single_tensor(input_tensor, "input_tensor")
    _ensure_all_tensors_same_dtype(output_tensor, input_tensor)
    pg = _prologue(group, "all_gather_into_tensor")
    if pg is None:
        return None
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise ValueError(f"output tensor size must be equal to world_size times input tensor size (output "
                         f"{list(output_tensor.shape)}, input {list(input_tensor.shape)}, world size {pg.size()})")
    arr = _contiguous(input_tensor)
    _check_same_across_ranks(pg, "all_gather_into_tensor", arr)
    out = _contiguous(output_tensor)
    req = pg._comm.Iallgather(arr, out)
    return _run(pg, "all_gather_into_tensor", [req], lambda: _store(output_tensor, out), [output_tensor], async_op)


def _check_root_list(pg, is_root, op, tensors, tensor, arg, role, direction):
    """gather_list/scatter_list: required on the root rank (one per rank, tensor's dtype and shape), absent elsewhere."""
    if is_root:
        if not tensors:
            raise ValueError(f"Argument ``{arg}`` must be specified on {role} rank.")
        _check_tensor_list(tensors, arg)
        _ensure_all_tensors_same_dtype(tensors, tensor)
        _check_list_length(op, tensors, pg.size(), direction)
        _check_shapes(op, tensors, tensor.shape)
    elif tensors:
        raise ValueError(f"Argument ``{arg}`` must NOT be specified on non-{role} ranks.")


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Fill gather_list[i] on the destination rank with rank i's tensor."""
    _check_single_tensor(tensor, "tensor")
    pg = _prologue(group, "gather")
    if pg is None:
        return None
    root = _root(pg, dst if dst is not None or group_dst is not None else 0, group_dst, "gather")
    is_root = pg.rank() == root
    _check_root_list(pg, is_root, "gather", gather_list, tensor, "gather_list", "destination", "output")
    arr = _contiguous(tensor)
    _check_same_across_ranks(pg, "gather", arr)
    every = np.empty((pg.size(),) + arr.shape, arr.dtype) if is_root else None
    req = pg._comm.Igather(arr, every, root=root)

    def finish():
        if is_root:
            for t, a in zip(gather_list, every):
                _store(t, a)
    return _run(pg, "gather", [req], finish, gather_list or [], async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Fill every rank's tensor with scatter_list[rank] from the source rank."""
    _check_single_tensor(tensor, "tensor")
    pg = _prologue(group, "scatter")
    if pg is None:
        return None
    root = _root(pg, src if src is not None or group_src is not None else 0, group_src, "scatter")
    is_root = pg.rank() == root
    _check_root_list(pg, is_root, "scatter", scatter_list, tensor, "scatter_list", "source", "input")
    arr = _contiguous(tensor)
    _check_same_across_ranks(pg, "scatter", arr)
    send = np.stack([t._data for t in scatter_list]) if is_root else None
    req = pg._comm.Iscatter(send, arr, root=root)
    return _run(pg, "scatter", [req], lambda: _store(tensor, arr), [tensor], async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce input_list[i] over the ranks into rank i's output."""
    _check_single_tensor(output, "output")
    _check_tensor_list(input_list, "input_list")
    _ensure_all_tensors_same_dtype(output, input_list)
    pg = _prologue(group, "reduce_scatter")
    if pg is None:
        return None
    if len(input_list) != pg.size():
        raise RuntimeError(f"invalid input tensor list size, must be world size (got {len(input_list)}, world size "
                           f"{pg.size()})")
    _check_shapes("reduce_scatter", input_list, output.shape)
    arr = _contiguous(output)
    _check_same_across_ranks(pg, "reduce_scatter", arr)
    mpi_op = _mpi_op(op, arr, "reduce_scatter")
    send = np.stack([t._data for t in input_list])
    req = pg._comm.Ireduce_scatter_block(send, arr, mpi_op)
    return _run(pg, "reduce_scatter", [req], lambda: _store(output, _averaged(op, arr, pg.size())), [output],
                async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """reduce_scatter with the inputs as one tensor: rank i gets the reduction of its i-th chunk along dim 0."""
    _check_single_tensor(output, "output")
    _check_single_tensor(input, "input")
    _ensure_all_tensors_same_dtype(output, input)
    pg = _prologue(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    if input.numel() != output.numel() * pg.size():
        raise ValueError(f"input tensor must be the same size as output size times world size (input "
                         f"{list(input.shape)}, output {list(output.shape)}, world size {pg.size()})")
    arr = _contiguous(output)
    _check_same_across_ranks(pg, "reduce_scatter_tensor", arr)
    mpi_op = _mpi_op(op, arr, "reduce_scatter_tensor")
    req = pg._comm.Ireduce_scatter_block(_contiguous(input), arr, mpi_op)
    return _run(pg, "reduce_scatter_tensor", [req], lambda: _store(output, _averaged(op, arr, pg.size())),
                [output], async_op)


# ---- point to point ----------------------------------------------------------------------------------------


def _peer(pg, global_rank, group_rank, kind):
    if global_rank is None and group_rank is None:
        return None
    r = _root(pg, global_rank, group_rank, kind)
    if r == pg.rank():
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the rank of the current "
                         "process.")
    return r


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    _check_single_tensor(tensor, "tensor")
    pg = _prologue(group, "isend")
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "destination")
    if peer is None:
        raise ValueError("Must specify global_rank or group_rank")
    arr = _contiguous(tensor)
    return Work([pg._comm.Isend(arr, dest=peer, tag=tag)], None, [tensor], pg._timeout, "send")


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into tensor from src (any rank when None); the Work's source_rank() tells who sent."""
    _check_single_tensor(tensor, "tensor")
    pg = _prologue(group, "irecv")
    if pg is None:
        return None
    peer = _peer(pg, src, group_src, "source")
    MPI = _mpi()
    arr = _contiguous(tensor)
    req = pg._comm.Irecv(arr, source=MPI.ANY_SOURCE if peer is None else peer, tag=tag)
    work = Work([req], None, [tensor], pg._timeout, "recv")
    work._statuses = [MPI.Status()]

    def finish():
        work._source = pg._ranks[work._statuses[0].Get_source()]
        _store(tensor, arr)
    work._finish = finish
    return work


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into tensor; returns the sender's global rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work._source


# ---- picklable objects -------------------------------------------------------------------------------------


def all_gather_object(object_list, obj, group=None):
    """object_list[i] = rank i's obj (objects are pickled, as in PyTorch)."""
    pg = _prologue(group, "all_gather_object")
    if pg is None:
        return None
    for i, o in enumerate(pg._comm.allgather(obj)):
        object_list[i] = o
    return None


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the objects of object_list on every rank by the source rank's (the lists must have one length)."""
    pg = _prologue(group, "broadcast_object_list")
    if pg is None:
        return None
    root = _root(pg, src if src is not None or group_src is not None else 0, group_src, "broadcast_object_list")
    objs = pg._comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    if len(objs) != len(object_list):
        raise RuntimeError(f"broadcast_object_list: the source rank sent {len(objs)} objects but this rank's "
                           f"object_list has {len(object_list)} entries")
    object_list[:] = objs
    return None


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    pg = _prologue(group, "gather_object")
    if pg is None:
        return None
    root = _root(pg, dst if dst is not None or group_dst is not None else 0, group_dst, "gather_object")
    is_root = pg.rank() == root
    if is_root and object_gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    if not is_root and object_gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    objs = pg._comm.gather(obj, root=root)
    if is_root:
        for i, o in enumerate(objs):
            object_gather_list[i] = o
    return None


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    pg = _prologue(group, "scatter_object_list")
    if pg is None:
        return None
    root = _root(pg, src if src is not None or group_src is not None else 0, group_src, "scatter_object_list")
    objs = list(scatter_object_input_list) if pg.rank() == root else None
    scatter_object_output_list[0] = pg._comm.scatter(objs, root=root)
    return None


# ---- ndarray helpers for ember's own distributed modules ---------------------------------------------------


def _all_gather_array(arr, group=None, what="all_gather"):
    """Every rank's copy of arr, stacked along a new first axis (shapes checked across ranks)."""
    pg = _group_or_default_group(group)
    arr = np.ascontiguousarray(arr)
    _check_same_across_ranks(pg, what, arr)
    every = np.empty((pg.size(),) + arr.shape, arr.dtype)
    pg._comm.Allgather(arr, every)
    return every


def _all_reduce_array(arr, group=None):
    """Sum a contiguous ndarray over the ranks, in place."""
    pg = _group_or_default_group(group)
    pg._comm.Allreduce(_mpi().IN_PLACE, arr, _mpi().SUM)
    return arr
