"""Distributed speed: all-reduce throughput and DistributedDataParallel step time, on 1 and 2 processes.

    python benchmarks/distributed.py                      # runs itself on 1 and then 2 processes, prints both
    python -m ember.distributed.run --nproc-per-node 2 benchmarks/distributed.py    # one world size

All-reduce: a 40 MB float32 tensor through ember.distributed.all_reduce (and, for reference, mpi4py's Allreduce on
the same buffer); algbw = bytes / time, busbw = algbw * 2 (n - 1) / n (the traffic per process of a ring
all-reduce, as nccl-tests reports it). DDP: one training step (forward, cross-entropy, backward with the bucketed
all-reduce, SGD) of a 14.7M-parameter MLP on 64 samples per process, against the same step without DDP (run
in turn with it). Times are the best of several runs. Each process gets cores // processes BLAS threads unless
OPENBLAS_NUM_THREADS/OMP_NUM_THREADS is set (before NumPy loads, which reads them once).
"""
import json
import os
import subprocess
import sys
import time

_LAUNCHED = "RANK" in os.environ or "PMI_RANK" in os.environ or "OMPI_COMM_WORLD_RANK" in os.environ
if _LAUNCHED:
    _procs = int(os.environ.get("LOCAL_WORLD_SIZE") or os.environ.get("PMI_SIZE") or 1)
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, str(max(1, (os.cpu_count() or 1) // _procs)))

MB = 1 << 20
TENSOR_MB = 40
SIZES = [1024, 4096, 2048, 1024, 10]
BATCH = 64


def _best_times(fns, repeats, before=lambda: None, warmup=2):
    """The best time of each function, the functions run in turn (so a busy machine slows them alike)."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            before()
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def all_reduce_throughput(dist, ember):
    """(ember seconds, mpi4py seconds) per all-reduce of a 40 MB float32 tensor (best of 10)."""
    from mpi4py import MPI
    t = ember.ones(TENSOR_MB * MB // 4)
    comm = dist.group.WORLD._comm
    return _best_times([lambda: dist.all_reduce(t), lambda: comm.Allreduce(MPI.IN_PLACE, t._data, MPI.SUM)], 10,
                       before=dist.barrier)


def mlp(nn):
    layers = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def training_step(ember, model, rank):
    """One SGD step of `model` on BATCH random samples, as a function."""
    import ember.nn.functional as F
    gen = ember.Generator().manual_seed(rank)
    x = ember.randn(BATCH, SIZES[0], generator=gen)
    y = ember.randint(0, SIZES[-1], (BATCH,), generator=gen)
    opt = ember.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def measure():
    """Run on every rank; returns rank 0's numbers (None elsewhere)."""
    import ember
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    ours, raw = all_reduce_throughput(dist, ember)
    ember.manual_seed(0)
    model = DDP(mlp(ember.nn))
    local, ddp = _best_times([training_step(ember, mlp(ember.nn), rank), training_step(ember, model, rank)], 8,
                             before=dist.barrier)
    result = {"world": world, "params": sum(p.numel() for p in model.parameters()),
              "buckets": len(model.reducer.buckets), "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
              "all_reduce_s": ours, "mpi4py_allreduce_s": raw, "local_step_s": local, "ddp_step_s": ddp}
    gathered = [None] * world
    dist.all_gather_object(gathered, result)
    dist.destroy_process_group()
    if rank != 0:
        return None
    result["ddp_step_s"] = max(r["ddp_step_s"] for r in gathered)
    result["local_step_s"] = max(r["local_step_s"] for r in gathered)
    return result


def report(r):
    n = r["world"]
    nbytes = TENSOR_MB * MB
    lines = [f"== {n} process(es), {r['threads']} BLAS thread(s) each =="]
    if n > 1:
        algbw = nbytes / r["all_reduce_s"] / MB
        lines.append(f"all_reduce {TENSOR_MB} MB float32: {r['all_reduce_s'] * 1e3:7.1f} ms  algbw {algbw:7.0f} MB/s  "
                     f"busbw {algbw * 2 * (n - 1) / n:7.0f} MB/s  (mpi4py Allreduce: "
                     f"{r['mpi4py_allreduce_s'] * 1e3:.1f} ms, {nbytes / r['mpi4py_allreduce_s'] / MB:.0f} MB/s)")
    else:
        lines.append("all_reduce: one process, nothing to exchange")
    samples = BATCH * n / r["ddp_step_s"]
    lines.append(f"MLP {r['params'] / 1e6:.1f}M params ({r['buckets']} buckets), batch {BATCH}/process: "
                 f"DDP step {r['ddp_step_s'] * 1e3:7.1f} ms, without DDP {r['local_step_s'] * 1e3:7.1f} ms, "
                 f"{samples:6.0f} samples/s")
    return "\n".join(lines)


def compare():
    """Run this script under the launcher on 1 and 2 processes and print both reports."""
    for n in (1, 2):
        proc = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(n),
                               os.path.abspath(__file__), "--json"], capture_output=True, text=True, check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        print(report(result), flush=True)


def main():
    if not _LAUNCHED:
        compare()
        return
    result = measure()
    if result is not None:
        print(json.dumps(result) if "--json" in sys.argv else report(result), flush=True)


if __name__ == "__main__":
    main()
