"""DistributedDataParallel on each rank: training, no_sync, unused parameters, buffers, errors.

Reads <out>/inputs.npz (written by tests/distributed/test_ddp.py): rank 0's initial weights and the global
batches; rank r trains on its slice of each batch. Rank 1 starts from other weights, which DDP must replace by
rank 0's. Saves what every rank ends with.
"""
import gc
import os
import sys
import warnings

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP
from _common import arrays_of, branchy, error, load_arrays, mlp, save


def local(batch, r, w):
    n = batch.shape[0] // w
    return ember.from_numpy(batch[r * n:(r + 1) * n].copy())


def grads(module):
    return {n: (None if p.grad is None else p.grad.numpy().copy()) for n, p in module.named_parameters()}


def model(make, r, inp, prefix):
    ember.manual_seed(1000 + r)
    m = make(nn)
    if r == 0:
        load_arrays(m, inp, prefix, ember.from_numpy)
    return m


def train(r, w, inp, **ddp_kwargs):
    m = model(mlp, r, inp, "mlp.")
    ddp = DDP(m, **ddp_kwargs)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for x, y in zip(inp["X"], inp["Y"]):
        opt.zero_grad()
        loss = ((ddp(local(x, r, w)) - local(y, r, w)) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"params": arrays_of(m.state_dict()), "losses": losses, "buckets": [b.indices for b in ddp.reducer.buckets]}


def no_sync(r, w, inp):
    x, y = local(inp["X"][0], r, w), local(inp["Y"][0], r, w)
    half = x.shape[0] // 2
    m = model(mlp, r, inp, "mlp.")
    ddp = DDP(m)
    with ddp.no_sync():
        (((ddp(x[:half]) - y[:half]) ** 2).mean() / 2).backward()
    local_grads = grads(m)
    (((ddp(x[half:]) - y[half:]) ** 2).mean() / 2).backward()
    accumulated = grads(m)
    m2 = model(mlp, r, inp, "mlp.")
    ddp2 = DDP(m2)
    ((ddp2(x) - y) ** 2).mean().backward()
    return {"local": local_grads, "accumulated": accumulated, "full": grads(m2)}


def find_unused(r, w, inp):
    m = model(branchy, r, inp, "branchy.")
    ddp = DDP(m, find_unused_parameters=True)
    x = local(inp["X"][0], r, w)
    res = []
    for _ in range(2):
        ddp.zero_grad()
        y, _ = ddp(x, use_b=(r == w - 1))
        (y ** 2).mean().backward()
        res.append(grads(m))
    return res


def unfinished_reduction(r, w, inp):
    m = model(branchy, r, inp, "branchy.")
    ddp = DDP(m)
    x = local(inp["X"][0], r, w)
    y, _ = ddp(x, use_b=True)
    (y ** 2).mean().backward()
    return error(lambda: ddp(x, use_b=True))


class WithBuffer(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("count", ember.full((3,), float(value)))

    def forward(self, x):
        return self.lin(x)


def buffers(r):
    res = {}
    x = ember.ones(1, 2)
    m = WithBuffer(r + 1)
    ddp = DDP(m)
    res["after_init"] = m.count.numpy().copy()
    m.count.fill_(10.0 * (r + 1))
    ddp(x)
    res["after_forward"] = m.count.numpy().copy()
    m = WithBuffer(r + 1)
    ddp = DDP(m, forward_sync_buffers=False)
    m.count.fill_(10.0 * (r + 1))
    ddp(x)
    res["forward_sync_off"] = (ddp.broadcast_buffers, m.count.numpy().copy())
    m = WithBuffer(r + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ddp = DDP(m, broadcast_buffers=False)
    res["broadcast_buffers_off"] = ([(c.category.__name__, str(c.message)) for c in caught], m.count.numpy().copy())
    m = WithBuffer(r + 1)
    ddp = DDP(m)
    m.count.fill_(10.0 * (r + 1))
    with ember.no_grad():
        ddp(x)
    with ddp.no_sync():
        ddp(x)
    res["rank_after_no_sync"] = m.count.numpy().copy()
    m.count.fill_(7.0 * (r + 1))
    ddp(x)
    res["skipped_after_no_sync_forward"] = m.count.numpy().copy()
    return res


def construction(r, w, inp):
    m = model(mlp, r, inp, "mlp.")
    before = arrays_of(m.state_dict())
    ddp = DDP(m)
    frozen = nn.Linear(2, 2)
    frozen.requires_grad_(False)
    mismatched = nn.Sequential(*[nn.Linear(2, 2) for _ in range(r + 1)])
    return {
        "before": before, "after": arrays_of(m.state_dict()), "keys": list(ddp.state_dict().keys()),
        "module_is_module": ddp.module is m, "device_ids": (ddp.device_ids, ddp.output_device),
        "device_ids_error": error(lambda: DDP(nn.Linear(2, 2), device_ids=[0])),
        "two_device_ids_error": error(lambda: DDP(nn.Linear(2, 2), device_ids=[0, 1])),
        "no_params_error": error(lambda: DDP(frozen)),
        "mismatch_error": error(lambda: DDP(mismatched)),
        "bucket_view_error": error(lambda: DDP(nn.Linear(2, 2), gradient_as_bucket_view=True)),
        "hooks_of_dropped_ddp": hooks_left_by_dropped_ddp(),
    }


def hooks_left_by_dropped_ddp():
    m = nn.Linear(2, 2)
    ddp = DDP(m, find_unused_parameters=True)
    held = len(m.weight._post_acc_hooks), len(m.weight._hooks)
    del ddp
    gc.collect()
    return held, (len(m.weight._post_acc_hooks), len(m.weight._hooks))


def main(out):
    dist.init_process_group("mpi")
    r, w = dist.get_rank(), dist.get_world_size()
    ember.set_default_dtype(ember.float64)
    inp = dict(np.load(os.path.join(out, "inputs.npz")))
    res = {"construction": construction(r, w, inp),
           "train_default": train(r, w, inp),
           "train_small_buckets": train(r, w, inp, bucket_cap_mb=0.0005),
           "train_find_unused": train(r, w, inp, find_unused_parameters=True),
           "no_sync": no_sync(r, w, inp),
           "find_unused": find_unused(r, w, inp),
           "unfinished": unfinished_reduction(r, w, inp),
           "buffers": buffers(r)}
    dist.destroy_process_group()
    save(out, "ddp", r, res)


if __name__ == "__main__":
    main(sys.argv[1])
