"""SyncBatchNorm on each rank's slice of a global batch (ranks get different batch sizes), and DDP + SyncBatchNorm
training. Reads <out>/inputs.npz from tests/distributed/test_sync_batchnorm.py; saves what every rank gets."""
import os
import sys

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP
from _common import arrays_of, error, save

CASES = ("bn1d_2d", "bn1d_3d", "bn2d_momentum_none", "bn2d_float32", "no_affine", "empty_rank")


def rank_slice(a, splits, r):
    start = int(sum(splits[:r]))
    return np.ascontiguousarray(a[start:start + int(splits[r])])


def run_case(inp, name, r):
    p = lambda k: inp[f"{name}.{k}"]  # noqa: E731
    splits, (momentum, affine) = p("splits"), p("options")
    x_all, g = p("x"), p("g")
    bn = nn.SyncBatchNorm(x_all.shape[2], momentum=None if np.isnan(momentum) else float(momentum),
                          affine=bool(affine)).to(ember.from_numpy(x_all).dtype)
    if affine:
        with ember.no_grad():
            bn.weight.copy_(ember.from_numpy(p("weight")))
            bn.bias.copy_(ember.from_numpy(p("bias")))
    res = {}
    for step in range(x_all.shape[0]):
        x = ember.from_numpy(rank_slice(x_all[step], splits, r)).requires_grad_()
        out = bn(x)
        out.backward(ember.from_numpy(rank_slice(g[step], splits, r)))
        if step == 0:
            res["out"], res["grad_input"] = out.detach().numpy(), x.grad.numpy()
            res["grad_weight"] = None if bn.weight is None else bn.weight.grad.numpy().copy()
            res["grad_bias"] = None if bn.bias is None else bn.bias.grad.numpy().copy()
    res["running_mean"], res["running_var"] = bn.running_mean.numpy(), bn.running_var.numpy()
    res["num_batches_tracked"] = int(bn.num_batches_tracked)
    bn.eval()
    res["eval_out"] = bn(ember.from_numpy(rank_slice(x_all[0], splits, r))).detach().numpy()
    return res


def ddp_training(inp, r, w):
    ember.set_default_dtype(ember.float64)
    try:
        model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        model.load_state_dict({k[len("net."):]: ember.from_numpy(v) for k, v in inp.items() if k.startswith("net.")})
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ddp = DDP(model)
        opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
        n = inp["net_X"].shape[1] // w
        for x, y in zip(inp["net_X"], inp["net_Y"]):
            opt.zero_grad()
            out = ddp(ember.from_numpy(x[r * n:(r + 1) * n].copy()))
            ((out - ember.from_numpy(y[r * n:(r + 1) * n].copy())) ** 2).mean().backward()
            opt.step()
        return {"types": [type(m).__name__ for m in model], "state": arrays_of(model.state_dict())}
    finally:
        ember.set_default_dtype(ember.float32)


def main(out):
    dist.init_process_group("mpi")
    r, w = dist.get_rank(), dist.get_world_size()
    inp = dict(np.load(os.path.join(out, "inputs.npz")))
    res = {name: run_case(inp, name, r) for name in CASES}
    res["ddp"] = ddp_training(inp, r, w)
    res["channel_mismatch"] = error(lambda: nn.SyncBatchNorm(4 + r)(ember.ones(3, 4 + r)))
    dist.destroy_process_group()
    save(out, "sync_batchnorm", r, res)


if __name__ == "__main__":
    main(sys.argv[1])
