"""DistributedDataParallel: one model replica per process, gradients averaged over the processes by MPI.

At construction rank 0's parameters and buffers are copied to every rank. During backward each parameter's
post-accumulate-grad hook copies its gradient into a bucket (buckets fill in reverse parameter order, the order in
which gradients become ready); a full bucket starts a non-blocking all-reduce at once, which the later hooks let MPI
move along while backward goes on (MPI progresses a message only inside MPI calls). Buckets start in a fixed order (the same on every rank, as MPI requires), and the hook that
completes the last bucket waits for all of them and writes the averaged gradients back into `.grad` (ember's engine
has no end-of-backward callback, and when the last gradient has arrived nothing else is left to wait for).
"""
import warnings
import weakref
from contextlib import contextmanager

import numpy as np

from ..._tensor import Tensor
from ...autograd.engine import reachable_nodes
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25
_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024

_UNFINISHED_REDUCTION = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates that "
    "your module has parameters that were not used in producing loss. You can enable unused parameter detection by "
    "passing the keyword argument `find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by "
    "making sure all `forward` function outputs participate in calculating loss. If you already have done the above, "
    "then the distributed data parallel module wasn't able to locate the output tensors in the return value of your "
    "module's `forward` function.")


def _find_tensors(obj):
    """The tensors inside a forward's output (nested tuples, lists and dicts)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _find_tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _find_tensors(o)]
    return []


def _tree_map_tensors(fn, obj):
    """obj with each tensor inside (nested tuples, lists, dicts) replaced by fn(tensor)."""
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, (list, tuple)):
        items = [_tree_map_tensors(fn, o) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if isinstance(obj, dict):
        return type(obj)((k, _tree_map_tensors(fn, v)) for k, v in obj.items())
    return obj


class _DDPSink(Function):
    """Joins the outputs in one node, so that backward from any of them reaches all (the others with no gradient).

    With find_unused_parameters, the parameters behind an output left out of the loss then see an undefined
    gradient and count as unused, as in PyTorch, instead of leaving the reduction waiting for them.
    """

    @staticmethod
    def forward(ctx, *inputs):
        ctx.set_materialize_grads(False)
        return tuple(t.clone() for t in inputs)

    @staticmethod
    def backward(ctx, *grads):
        return grads


def _pass_through_sink(output):
    """Route the output's tensors that have a grad_fn through one _DDPSink node."""
    tensors = [t for t in _find_tensors(output) if t.grad_fn is not None]
    if not tensors:
        return output
    sunk = _DDPSink.apply(*tensors)
    sunk = sunk if isinstance(sunk, tuple) else (sunk,)
    replacement = {id(t): s for t, s in zip(tensors, sunk)}
    return _tree_map_tensors(lambda t: replacement.get(id(t), t), output)


def _reachable_leaves(outputs):
    """The ids of the leaf tensors that backward from these outputs can reach (the parameters in use)."""
    leaves = {id(t) for t in outputs if t.grad_fn is None and t.requires_grad}
    roots = [(t.grad_fn, 0) for t in outputs if t.grad_fn is not None]
    for node in reachable_nodes(roots):
        leaves.update(id(e) for e in node._edges if isinstance(e, Tensor))
    return leaves


def _assign_buckets(params, caps):
    """Group parameter indices into buckets, walking the parameters in reverse, one dtype per bucket.

    A bucket closes once it holds caps[k] bytes (k counts that dtype's buckets; the last cap serves the rest), as
    PyTorch's compute_bucket_assignment_by_size. Closed buckets come first, in closing order.
    """
    buckets = []
    open_buckets = {}
    for i in reversed(range(len(params))):
        dt = params[i]._data.dtype
        idx, nbytes, k = open_buckets.get(dt, ([], 0, 0))
        idx.append(i)
        nbytes += params[i]._data.nbytes
        if nbytes >= caps[min(k, len(caps) - 1)]:
            buckets.append(idx)
            open_buckets[dt] = ([], 0, k + 1)
        else:
            open_buckets[dt] = (idx, nbytes, k)
    buckets.extend(idx for idx, _, _ in open_buckets.values() if idx)
    return buckets


class _Bucket:
    """A flat buffer holding the gradients of some parameters, all-reduced as one message."""

    def __init__(self, params, indices):
        self.indices = indices
        dtype = params[indices[0]]._data.dtype
        self.flat = np.zeros(sum(params[i]._data.size for i in indices), dtype)
        self.views = {}
        offset = 0
        for i in indices:
            n = params[i]._data.size
            self.views[i] = self.flat[offset:offset + n].reshape(params[i]._data.shape)
            offset += n
        self.pending = 0
        self.request = None


class _Reducer:
    """Averages the gradients of `params` over the process group during backward (see the module docstring)."""

    def __init__(self, params, names, bucket_caps, process_group, find_unused_parameters):
        from ...distributed import distributed_c10d as c10d
        self.c10d = c10d
        self.pg = process_group
        self.params = params
        self.names = names
        self.find_unused = find_unused_parameters
        self.buckets = [_Bucket(params, idx) for idx in _assign_buckets(params, bucket_caps)]
        self.bucket_of = {i: b for b in self.buckets for i in b.indices}
        self.expect_hooks = False
        self.ready = np.zeros(len(params), bool)
        self.used = np.zeros(len(params), np.int32)
        self.used_since_sync = np.zeros(len(params), bool)
        self.next_bucket = 0
        self.handles = []
        for i, p in enumerate(params):
            self.handles.append(p.register_post_accumulate_grad_hook(_weak_hook(self, "_on_accumulated", i)))
            if find_unused_parameters:
                self.handles.append(p.register_hook(_weak_hook(self, "_on_leaf_grad", i)))
        weakref.finalize(self, _remove_handles, self.handles)

    def _on_accumulated(self, i, param):
        """A parameter's .grad is complete for this backward: into its bucket (or, in no_sync, remember it)."""
        if self.expect_hooks:
            self.used[i] = 1
            self._mark_ready(i, param._grad)
        elif self.find_unused:
            self.used_since_sync[i] = True

    def _on_leaf_grad(self, i, grad):
        """A parameter whose gradient arrives undefined (an output left out of the loss) is locally unused."""
        if grad is None and self.expect_hooks and not self.ready[i]:
            accumulated = self.used_since_sync[i]
            self.used[i] = int(accumulated)
            self._mark_ready(i, self.params[i]._grad if accumulated else None)

    def prepare_for_forward(self):
        """Raise PyTorch's error when the previous backward left gradients unreduced."""
        if self.expect_hooks and self.ready.any():
            missing = [f"{i} ({self.names[i]})" for i in np.nonzero(~self.ready)[0]]
            self.expect_hooks = False
            raise RuntimeError(f"{_UNFINISHED_REDUCTION}\nParameter indices which did not receive grad for rank "
                               f"{self.pg.rank()}: {', '.join(missing)}")
        self.expect_hooks = False

    def prepare_for_backward(self, outputs):
        """Arm the hooks for the coming backward; with find_unused_parameters, mark the unreachable parameters."""
        self.ready[:] = False
        self.used[:] = 0
        self.next_bucket = 0
        for b in self.buckets:
            b.pending = len(b.indices)
            b.request = None
        self.expect_hooks = True
        if self.find_unused:
            reachable = _reachable_leaves(outputs)
            for i, p in enumerate(self.params):
                if id(p) not in reachable:
                    accumulated = self.used_since_sync[i]
                    self.used[i] = int(accumulated)
                    self._mark_ready(i, p._grad if accumulated else None)

    def _mark_ready(self, i, grad):
        """Copy parameter i's gradient (zeros when None) into its bucket; start the buckets this completes."""
        if self.ready[i]:
            raise RuntimeError(f"Expected to mark a variable ready only once. Parameter at index {i} with name "
                               f"{self.names[i]} has been marked as ready twice. This means that multiple autograd "
                               "engine hooks have fired for this particular parameter during this iteration.")
        self.ready[i] = True
        bucket = self.bucket_of[i]
        view = bucket.views[i]
        if grad is None:
            view.fill(0)
        else:
            np.copyto(view, grad._data)
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        elif self.next_bucket:
            self._progress()

    def _launch_ready_buckets(self):
        """Start the all-reduce of every complete bucket whose predecessors have started (same order everywhere)."""
        MPI = self.c10d._mpi()
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            b.request = self.pg._comm.Iallreduce(MPI.IN_PLACE, b.flat, MPI.SUM)
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self._finalize()
        else:
            self._progress()

    def _progress(self):
        """Let MPI move the started messages along while backward computes."""
        self.c10d._mpi().Request.Testall([b.request for b in self.buckets[:self.next_bucket]])

    def _finalize(self):
        """Wait for every bucket and write the averages (sum / world size, in the same pass) into `.grad`.

        Gradients of parameters that no rank used (find_unused_parameters) are left untouched, as in PyTorch.
        """
        MPI = self.c10d._mpi()
        self.c10d._wait_all([b.request for b in self.buckets], self.pg._timeout, "DistributedDataParallel backward")
        self.expect_hooks = False
        globally_used = None
        if self.find_unused:
            globally_used = self.used.copy()
            self.pg._comm.Allreduce(MPI.IN_PLACE, globally_used, MPI.MAX)
            self.used_since_sync[:] = False
        size = self.pg.size()
        for b in self.buckets:
            for i in b.indices:
                if globally_used is not None and not globally_used[i]:
                    continue
                p = self.params[i]
                if p._grad is None:
                    p._grad = Tensor._make(b.views[i] / size)
                else:
                    np.divide(b.views[i], size, out=p._grad._data)
                    p._grad._bump()


def _weak_hook(reducer, method, i):
    """A hook calling reducer.method(i, arg) while the reducer lives: a dropped DDP leaves no work in its hooks."""
    ref = weakref.ref(reducer)

    def hook(arg):
        r = ref()
        if r is not None:
            getattr(r, method)(i, arg)
    return hook


def _remove_handles(handles):
    for h in handles:
        h.remove()


class DistributedDataParallel(Module):
    """Data parallelism over processes: wraps `module` (state_dict keys gain the `module.` prefix, as in PyTorch)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        from ...distributed import distributed_c10d as c10d
        from ...distributed.utils import _sync_module_states, _verify_param_shape_across_processes
        _reject_unsupported(delay_all_reduce_named_params, param_to_hook_all_reduce, mixed_precision, device_mesh,
                            gradient_as_bucket_view, skip_all_reduce_unused_params)
        self.process_group = c10d._get_default_group() if process_group is None else process_group
        self.parameters_to_ignore = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        named = [(n, p) for n, p in module.named_parameters()
                 if p.requires_grad and n not in self.parameters_to_ignore]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        _check_devices(device_ids, output_device, module)
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module is deprecated. Please "
                          "avoid using it.", FutureWarning, stacklevel=2)
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.module = module
        self.forward_sync_buffers, init_sync_buffers = _buffer_sync_modes(broadcast_buffers, forward_sync_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap, caps = _bucket_caps(bucket_cap_mb, bucket_cap_mb_list)
        self._assign_modules_buffers()
        params = [p for _, p in named]
        if init_sync:
            _verify_param_shape_across_processes(self.process_group, params)
            _sync_module_states(module, self.process_group, 0, self.parameters_to_ignore, init_sync_buffers)
        # static_graph: the unused parameters are found on every iteration, which gives the same gradients.
        self.reducer = _Reducer(params, [n for n, _ in named], caps, self.process_group,
                                find_unused_parameters or static_graph)

    @property
    def broadcast_buffers(self):
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value):
        self.forward_sync_buffers = value

    @contextmanager
    def no_sync(self):
        """Accumulate gradients locally (no all-reduce) in the backward passes inside this block."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def will_sync_module_buffers(self):
        return self.require_forward_param_sync and self.forward_sync_buffers and len(self.modules_buffers) > 0

    def _assign_modules_buffers(self):
        self.modules_buffers = [b for n, b in self.module.named_buffers() if n not in self.parameters_to_ignore]

    def _sync_buffers(self):
        """Broadcast rank 0's buffers (e.g. BatchNorm running statistics) to every rank, versions unchanged."""
        from ...distributed.utils import _broadcast_coalesced
        self._assign_modules_buffers()
        _broadcast_coalesced(self.process_group, self.modules_buffers, 0, bump_versions=False)

    def forward(self, *inputs, **kwargs):
        grad_sync = is_grad_enabled() and self.require_backward_grad_sync
        if grad_sync:
            self.reducer.prepare_for_forward()
        if self.will_sync_module_buffers():
            self._sync_buffers()
        output = self.module(*inputs, **kwargs)
        if grad_sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(_find_tensors(output))
        else:
            self.require_forward_param_sync = False
        if self.reducer.find_unused:
            output = _pass_through_sink(output)
        return output

    def __getstate__(self):
        raise RuntimeError("ember's DistributedDataParallel cannot be pickled (its reducer holds MPI requests); save "
                           "ddp.module or ddp.state_dict() instead")


def _reject_unsupported(delay_all_reduce_named_params, param_to_hook_all_reduce, mixed_precision, device_mesh,
                        gradient_as_bucket_view, skip_all_reduce_unused_params):
    if (delay_all_reduce_named_params is None) != (param_to_hook_all_reduce is None):
        raise ValueError("delay_all_reduce_named_params and param_to_hook_all_reduce need to be set at the same "
                         "time.")
    for name, value in (("delay_all_reduce_named_params", delay_all_reduce_named_params),
                        ("mixed_precision", mixed_precision), ("device_mesh", device_mesh),
                        ("gradient_as_bucket_view", gradient_as_bucket_view or None),
                        ("skip_all_reduce_unused_params", skip_all_reduce_unused_params or None)):
        if value is not None:
            raise NotImplementedError(f"DistributedDataParallel({name}=...) is not implemented in ember")


def _check_devices(device_ids, output_device, module):
    """PyTorch's rules for a CPU module: device_ids and output_device must be None (or empty)."""
    if device_ids is not None and len(device_ids) > 1:
        raise ValueError("device_ids can only be None or contain a single element.")
    if device_ids or output_device:
        devices = {p.device for p in module.parameters()}
        raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                         "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                         f"{device_ids}, output_device {output_device}, and module parameters {devices}.")


def _buffer_sync_modes(broadcast_buffers, forward_sync_buffers):
    """(sync buffers at every forward, sync them at construction), with PyTorch's deprecation of broadcast_buffers."""
    if broadcast_buffers is not None:
        if forward_sync_buffers is not None:
            warnings.warn("Both `broadcast_buffers` and `forward_sync_buffers` were specified. `broadcast_buffers` is "
                          "deprecated and its value is ignored when `forward_sync_buffers` is provided.",
                          FutureWarning, stacklevel=3)
        else:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. IMPORTANT: unlike "
                          "`broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at init. If "
                          "you rely on buffers NOT being synced at init (e.g. rank-local buffers), keep using "
                          "`broadcast_buffers=False` until `init_sync_buffers` is available.", FutureWarning,
                          stacklevel=3)
    if forward_sync_buffers is not None:
        return forward_sync_buffers, True
    effective = True if broadcast_buffers is None else broadcast_buffers
    return effective, effective


def _bucket_caps(bucket_cap_mb, bucket_cap_mb_list):
    """(bucket_bytes_cap, the byte caps of the successive buckets): a 1 MiB first bucket by default, as PyTorch."""
    if bucket_cap_mb_list:
        caps = [int(mb * _MB) for mb in bucket_cap_mb_list]
        return max(caps), caps
    if bucket_cap_mb is None:
        return _DEFAULT_BUCKET_CAP_MB * _MB, [_DEFAULT_FIRST_BUCKET_BYTES, _DEFAULT_BUCKET_CAP_MB * _MB]
    cap = int(bucket_cap_mb * _MB)
    return cap, [cap]
