"""`python -m ember.distributed.run --nproc-per-node N script.py args...`: torchrun's interface, on MPI's launcher.

It runs `mpiexec -n N <this python> -m ember.distributed._worker script.py args...` (mpiexec is taken from beside
the Python executable, as the `mpich` wheel installs it, or from PATH). Each rank gets torchrun's environment
variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT). The same script
also runs under `mpiexec -n N python script.py`, since init_process_group takes rank and size from MPI.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys

_INSTALL_HINT = "pip install ember[mpi]"


def get_args_parser():
    parser = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                     description="Start N processes of a training script on this machine (via MPI).",
                                     allow_abbrev=False)
    parser.add_argument("--nnodes", default="1", help="number of nodes: only 1 (or 1:1) is supported")
    parser.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                        help="number of processes: an integer, or 'cpu'/'auto' for one per CPU core")
    parser.add_argument("--standalone", action="store_true", help="accepted for torchrun compatibility")
    parser.add_argument("--node-rank", "--node_rank", type=int, default=0)
    parser.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    parser.add_argument("--master-port", "--master_port", type=int, default=29500)
    parser.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    parser.add_argument("training_script", help="the script (or, with -m, the module) to run")
    parser.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return parser


def _nproc(value):
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"Unsupported nproc_per_node value: {value}") from None
    if n < 1:
        raise ValueError(f"nproc_per_node must be at least 1, got {n}")
    return n


def find_mpiexec():
    """mpiexec beside this Python (where the mpich wheel puts it), else on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(local) and os.access(local, os.X_OK):
        return local
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError(f"no MPI launcher (mpiexec) was found beside {sys.executable} or on PATH: {_INSTALL_HINT}")
    return found


def build_command(args):
    """The mpiexec command line and environment that start the ranks."""
    if args.nnodes not in ("1", "1:1"):
        raise NotImplementedError("ember.distributed.run starts processes on one node; for several nodes run "
                                  "mpiexec with a host file (init_process_group takes ranks from MPI)")
    n = _nproc(args.nproc_per_node)
    cmd = [find_mpiexec(), "-n", str(n), sys.executable, "-m", "ember.distributed._worker"]
    if args.module:
        cmd.append("-m")
    cmd += [args.training_script] + list(args.training_script_args)
    env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port),
               GROUP_RANK=str(args.node_rank))
    for var, value in MALLOC_TUNING.items():
        env.setdefault(var, value)
    if n > 1 and "OMP_NUM_THREADS" not in env:
        # as torchrun: one BLAS/OpenMP thread per rank unless asked otherwise (ranks that each start a thread per
        # core oversubscribe the machine, and OpenBLAS's spinning threads then run several times slower)
        print("Setting OMP_NUM_THREADS environment variable for each process to be 1 in default, to avoid your "
              "system being overloaded, please further tune the variable for optimal performance in your "
              "application as needed.", file=sys.stderr)
        env["OMP_NUM_THREADS"] = "1"
    return cmd, env


# glibc malloc keeps freed arrays of up to 128 MB (instead of unmapping anything over its mmap threshold), so
# each training step reuses memory instead of page-faulting fresh pages; with several ranks on one machine those
# faults cost more than the step's arithmetic. Set in the ranks' environment unless the user set them.
MALLOC_TUNING = {"MALLOC_MMAP_THRESHOLD_": str(128 << 20), "MALLOC_TRIM_THRESHOLD_": str(512 << 20)}


def run(args):
    cmd, env = build_command(args)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()


def main(argv=None):
    args = get_args_parser().parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
