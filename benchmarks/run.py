"""Speed of ember against PyTorch, measured in one process: prints ember/PyTorch time ratios.

usage: python benchmarks/run.py [NAME-SUBSTRING ...]
A ratio below 1 means ember is faster. Each case is timed as the best of several repeats.
BENCH_THREADS=N sets the thread count of both libraries (torch's intra-op threads and NumPy's BLAS).
"""
import os
import sys
import timeit

if os.environ.get("BENCH_THREADS"):
    # NumPy's BLAS reads its thread count at import: set it before numpy loads so both libraries use the same.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = os.environ["BENCH_THREADS"]

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ember  # noqa: E402

from benchmarks import cases  # noqa: E402

SUITES = ["cases", "elementwise_cases", "activation_cases", "reduction_cases", "conv_cases", "layer_cases", "seq_cases",
          "optim_cases", "data_cases"]


def all_cases():
    """Every (name, maker) pair from the benchmark suites present in benchmarks/."""
    import importlib
    out = []
    for name in SUITES:
        try:
            mod = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError:
            continue
        out.extend(getattr(mod, "ALL", None) or getattr(mod, "CASES", []))
    return out

if os.environ.get("BENCH_THREADS"):
    torch.set_num_threads(int(os.environ["BENCH_THREADS"]))


def best_time(fn, min_time=0.2, repeats=5):
    """Seconds per call: best of `repeats` batches, each lasting at least min_time."""
    fn()
    n = 1
    while True:
        t = timeit.timeit(fn, number=n)
        if t >= min_time / repeats:
            break
        n *= 2
    return min(timeit.repeat(fn, number=n, repeat=repeats)) / n


def _fmt(seconds):
    """A time in the unit that keeps three significant digits readable (µs below 1 ms)."""
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main(argv):
    wanted = [a for a in argv if not a.startswith("-")]
    rows = []
    print(f"torch {torch.__version__} threads={torch.get_num_threads()}, numpy {np.__version__}")
    print(f"{'case':58s} {'ember':>11s} {'torch':>11s} {'ratio':>7s}")
    for name, make in all_cases():
        if wanted and not any(w in name for w in wanted):
            continue
        e_fn, t_fn = make(ember), make(torch)
        te, tt = best_time(e_fn), best_time(t_fn)
        rows.append((name, te, tt))
        print(f"{name:58s} {te * 1e6:9.1f}us {tt * 1e6:9.1f}us {te / tt:7.2f}", flush=True)
    if "--markdown" in argv:
        print("\n| case | ember | PyTorch | ratio |\n|---|---:|---:|---:|")
        for name, te, tt in rows:
            print(f"| {name} | {_fmt(te)} | {_fmt(tt)} | {te / tt:.2f} |")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
