"""Launch worker scripts on 2 MPI processes and read back what each rank saved."""
import os
import pickle
import subprocess
import sys

from ember.distributed.run import find_mpiexec

WORKERS = os.path.join(os.path.dirname(__file__), "workers")
NPROC = 2
TIMEOUT = 60


def mpiexec(args, n=NPROC, timeout=TIMEOUT):
    """Run `mpiexec -n n <this python> args...`; returns the CompletedProcess (stdout and stderr as text)."""
    cmd = [find_mpiexec(), "-n", str(n), sys.executable] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def run_worker(name, out_dir, *args, n=NPROC):
    """Run workers/<name>.py on n ranks with out_dir as first argument; fail with its output unless it exits 0."""
    proc = mpiexec([os.path.join(WORKERS, name + ".py"), out_dir] + list(args), n=n)
    assert proc.returncode == 0, f"{name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def load(out_dir, name, rank):
    with open(os.path.join(out_dir, f"{name}_rank{rank}.pkl"), "rb") as f:
        return pickle.load(f)
