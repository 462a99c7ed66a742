"""Every collective, point-to-point and object call on each rank; saves what each rank ends with.

Checked by tests/distributed/test_collectives.py. Error cases raise the same error on every rank, after which the
group must still work (no deadlock, no mismatched messages).
"""
import datetime
import sys
import time
import warnings

import numpy as np

import ember
import ember.distributed as dist
from ember.utils.data import DistributedSampler
from _common import error, rank_data, save

f64 = ember.float64


def x(r, dtype=np.float64):
    return ember.from_numpy(rank_data(r, dtype))


def init_errors():
    return {"init_world_size": error(lambda: dist.init_process_group("mpi", world_size=3)),
            "init_rank": error(lambda: dist.init_process_group("mpi", rank=0)),
            "init_nccl": error(lambda: dist.init_process_group("nccl")),
            "init_timeout_type": error(lambda: dist.init_process_group("mpi", timeout=5))}


def all_reduces(r):
    res = {}
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        t = x(r)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        res[op] = t.numpy()
    for op in ("SUM", "MAX", "BAND", "BOR", "BXOR"):
        t = x(r, np.int64)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        res["int_" + op] = t.numpy()
    for op in ("SUM", "MIN"):
        t = ember.tensor([r == 0, False, True])
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        res["bool_" + op] = t.numpy()
    t = x(r, np.float32)
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    res["float32_AVG"] = t.numpy()
    t = ember.from_numpy(rank_data(r) + 1j * rank_data(r))
    dist.all_reduce(t)
    res["complex_SUM"] = t.numpy()
    base = ember.zeros(4, 3, dtype=f64)
    view = base[1:3]
    view.copy_(x(r))
    dist.all_reduce(view)
    res["view_base"] = base.numpy()
    t = x(r).t()
    dist.all_reduce(t)
    res["transposed"] = t.numpy()
    t = ember.tensor(float(r + 1), dtype=f64)
    dist.all_reduce(t)
    res["scalar"] = t.item()
    t = x(r).requires_grad_()
    dist.all_reduce(t)
    res["requires_grad_leaf"] = t.detach().numpy()
    return res


def async_ops(r, w):
    res = {}
    t = x(r)
    work = dist.all_reduce(t, async_op=True)
    res["type"] = type(work).__name__
    res["wait"] = work.wait()
    res["completed"] = work.is_completed()
    res["result"] = [a.numpy() for a in work.result()]
    res["all_reduce"] = t.numpy()
    a, b = x(r), x(r)
    wa = dist.all_reduce(a, async_op=True)
    wb = dist.all_reduce(b, op=dist.ReduceOp.MAX, async_op=True)
    while not wb.is_completed():
        pass
    wa.wait()
    res["overlapped"] = (a.numpy(), b.numpy())
    t = x(r)
    dist.broadcast(t, src=w - 1, async_op=True).wait()
    res["broadcast"] = t.numpy()
    outs = [ember.zeros(2, 3, dtype=f64) for _ in range(w)]
    dist.all_gather(outs, x(r), async_op=True).wait()
    res["all_gather"] = np.stack([o.numpy() for o in outs])
    out = ember.zeros(2, 3, dtype=f64)
    dist.reduce_scatter(out, [x(r) + 100 * i for i in range(w)], async_op=True).wait()
    res["reduce_scatter"] = out.numpy()
    res["barrier"] = dist.barrier(async_op=True).wait()
    return res


def data_movement(r, w):
    res = {}
    t = x(r)
    res["broadcast_returns"] = dist.broadcast(t, src=w - 1)
    res["broadcast"] = t.numpy()
    outs = [ember.zeros(2, 3, dtype=f64) for _ in range(w)]
    dist.all_gather(outs, x(r))
    res["all_gather"] = np.stack([o.numpy() for o in outs])
    out = ember.zeros(2 * w, 3, dtype=f64)
    dist.all_gather_into_tensor(out, x(r))
    res["all_gather_into_tensor"] = out.numpy()
    t = x(r)
    dist.reduce(t, dst=w - 1)
    res["reduce"] = t.numpy()
    gl = [ember.zeros(2, 3, dtype=f64) for _ in range(w)] if r == 0 else None
    dist.gather(x(r), gl, dst=0)
    res["gather"] = np.stack([g.numpy() for g in gl]) if gl else None
    sl = [ember.full((2, 3), 10.0 * i, dtype=f64) for i in range(w)] if r == w - 1 else None
    out = ember.zeros(2, 3, dtype=f64)
    dist.scatter(out, sl, src=w - 1)
    res["scatter"] = out.numpy()
    for op in ("SUM", "AVG"):
        out = ember.zeros(2, 3, dtype=f64)
        dist.reduce_scatter(out, [x(r) + 100 * i for i in range(w)], op=getattr(dist.ReduceOp, op))
        res["reduce_scatter_" + op] = out.numpy()
    out = ember.zeros(2, 3, dtype=f64)
    dist.reduce_scatter_tensor(out, ember.cat([x(r) + 100 * i for i in range(w)]))
    res["reduce_scatter_tensor"] = out.numpy()
    res["barrier"] = dist.barrier()
    return res


def point_to_point(r):
    res = {}
    if r == 0:
        dist.send(ember.tensor([1.5, 2.5], dtype=f64), dst=1)
        dist.isend(ember.tensor([7.0], dtype=f64), dst=1, tag=7).wait()
    elif r == 1:
        buf = ember.zeros(2, dtype=f64)
        res["recv_source"] = dist.recv(buf)
        res["recv"] = buf.numpy()
        buf = ember.zeros(1, dtype=f64)
        work = dist.irecv(buf, src=0, tag=7)
        work.wait()
        res["irecv_source"] = work.source_rank()
        res["irecv"] = buf.numpy()
    res["send_to_self"] = error(lambda: dist.send(ember.zeros(1), dst=r))
    return res


def objects(r, w):
    res = {}
    ol = [None] * w
    dist.all_gather_object(ol, {"rank": r, "square": r * r})
    res["all_gather_object"] = ol
    bl = [f"from {r}", r, None]
    dist.broadcast_object_list(bl, src=w - 1)
    res["broadcast_object_list"] = bl
    gl = [None] * w if r == 0 else None
    dist.gather_object(("g", r), gl, dst=0)
    res["gather_object"] = gl
    out = [None]
    dist.scatter_object_list(out, [f"item {i}" for i in range(w)] if r == 0 else None, src=0)
    res["scatter_object_list"] = out
    return res


def groups(r, w):
    res = {}
    everyone = dist.new_group(list(range(w)))
    t = x(r)
    dist.all_reduce(t, group=everyone)
    res["all_reduce_everyone"] = t.numpy()
    t = x(r)
    dist.broadcast(t, group=everyone, group_src=w - 1)
    res["broadcast_group_src"] = t.numpy()
    res["ranks_everyone"] = dist.get_process_group_ranks(everyone)
    last = dist.new_group([w - 1])
    res["rank_in_last"] = dist.get_rank(last)
    res["size_of_last"] = dist.get_world_size(last)
    t = x(r)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res["all_reduce_last_returns"] = dist.all_reduce(t, group=last)
    res["all_reduce_last"] = t.numpy()
    res["not_member_warnings"] = [str(c.message) for c in caught]
    if r == w - 1:
        res["global_rank_of_last_0"] = dist.get_global_rank(last, 0)
        res["group_rank_of_last"] = dist.get_group_rank(last, w - 1)
    if r == 0:  # made by its members only
        alone = dist.new_group([0], use_local_synchronization=True)
        t = x(r)
        dist.all_reduce(t, group=alone)
        res["local_sync_group"] = (dist.get_world_size(alone), t.numpy())
    dist.destroy_process_group(everyone)
    res["destroyed_group_error"] = error(lambda: dist.destroy_process_group(everyone))
    return res


def errors(r, w):
    other = ember.float32 if r else f64
    res = {
        "shape": error(lambda: dist.all_reduce(ember.zeros(2 + r, dtype=f64))),
        "dtype": error(lambda: dist.all_reduce(ember.zeros(2, dtype=other))),
        "broadcast_shape": error(lambda: dist.broadcast(ember.zeros(2 + r, 2), src=0)),
        "all_gather_ranks_shape": error(lambda: dist.all_gather([ember.zeros(2 + r)] * w, ember.zeros(2 + r))),
        "all_gather_list_length": error(lambda: dist.all_gather([ember.zeros(2)] * (w + 1), ember.zeros(2))),
        "all_gather_output_size": error(lambda: dist.all_gather([ember.zeros(3)] * w, ember.zeros(2))),
        "all_gather_dtypes": error(lambda: dist.all_gather([ember.zeros(2, dtype=f64)] * w, ember.zeros(2))),
        "avg_int": error(lambda: dist.all_reduce(ember.ones(2, dtype=ember.int64), op=dist.ReduceOp.AVG)),
        "max_complex": error(lambda: dist.all_reduce(ember.ones(2, dtype=ember.complex64), op=dist.ReduceOp.MAX)),
        "premul_sum": error(lambda: dist.all_reduce(ember.ones(2), op=dist.ReduceOp.PREMUL_SUM)),
        "bad_src": error(lambda: dist.broadcast(ember.zeros(2), src=w + 3)),
        "no_src": error(lambda: dist.broadcast(ember.zeros(2))),
        "gather_lists": error(lambda: dist.gather(ember.zeros(2), None if r == 0 else [ember.zeros(2)] * w,
                                                  dst=0)),
        "scatter_lists": error(lambda: dist.scatter(ember.zeros(2), None if r == 0 else [ember.zeros(2)] * w,
                                                    src=0)),
        "reduce_scatter_length": error(lambda: dist.reduce_scatter(ember.zeros(2), [ember.zeros(2)] * (w + 1))),
        "not_a_tensor": error(lambda: dist.all_reduce([1.0, 2.0])),
        "init_twice": error(lambda: dist.init_process_group("mpi")),
    }
    t = x(r)
    dist.all_reduce(t)
    res["all_reduce_after_errors"] = t.numpy()
    if r == 0:
        res["timeout"] = error(lambda: dist.monitored_barrier(timeout=datetime.timedelta(seconds=0.3)))
    else:
        time.sleep(0.8)
        dist.barrier()
    return res


def main(out):
    res = {"init_errors": init_errors()}
    dist.init_process_group("mpi", init_method="env://", timeout=datetime.timedelta(seconds=30))
    r, w = dist.get_rank(), dist.get_world_size()
    res["info"] = {"rank": r, "world_size": w, "backend": dist.get_backend(), "initialized": dist.is_initialized(),
                   "world_is_default": dist.group.WORLD is dist.distributed_c10d._get_default_group()}
    res["all_reduce"] = all_reduces(r)
    res["async"] = async_ops(r, w)
    res["data"] = data_movement(r, w)
    res["p2p"] = point_to_point(r)
    res["objects"] = objects(r, w)
    res["groups"] = groups(r, w)
    res["sampler"] = {"default": list(DistributedSampler(list(range(11)), shuffle=False)),
                      "len": len(DistributedSampler(list(range(11))))}
    res["errors"] = errors(r, w)
    dist.barrier()
    dist.destroy_process_group()
    res["after_destroy"] = {"initialized": dist.is_initialized(), "world": dist.group.WORLD,
                            "rank_error": error(dist.get_rank)}
    dist.init_process_group("gloo")
    t = x(r)
    dist.all_reduce(t)
    res["reinit_all_reduce"] = t.numpy()
    dist.destroy_process_group()
    save(out, "collectives", r, res)


if __name__ == "__main__":
    main(sys.argv[1])
