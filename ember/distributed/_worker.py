"""One rank of `python -m ember.distributed.run`: torchrun's environment variables from MPI's, then the script.

A rank that fails (an uncaught exception, or a non-zero exit) aborts every rank (MPI_Abort), as torchrun stops the
other workers, so that they do not wait forever in a collective the failed rank will never join.
"""
import os
import runpy
import sys
import traceback

# The rank variables that MPI launchers set: MPICH/Hydra, then Open MPI.
_RANK_VARS = (("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
              ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
               "OMPI_COMM_WORLD_LOCAL_SIZE"))


def set_rank_environment(environ=os.environ):
    """Set RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE from the MPI launcher's variables."""
    for rank, size, local_rank, local_size in _RANK_VARS:
        if rank in environ:
            environ["RANK"] = environ[rank]
            environ["WORLD_SIZE"] = environ[size]
            environ["LOCAL_RANK"] = environ.get(local_rank, environ[rank])
            environ["LOCAL_WORLD_SIZE"] = environ.get(local_size, environ[size])
            return
    raise RuntimeError("ember.distributed._worker must be started by an MPI launcher (mpiexec); use "
                       "`python -m ember.distributed.run --nproc-per-node N script.py`")


def _abort_all_ranks(code):
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized() and mpi.COMM_WORLD.Get_size() > 1:
        mpi.COMM_WORLD.Abort(code)


def main(argv):
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        print("usage: python -m ember.distributed._worker [-m] script [args...]", file=sys.stderr)
        return 2
    set_rank_environment()
    sys.argv = list(argv)
    try:
        if as_module:
            runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    else:
        code = 0
    if code:
        sys.stdout.flush()
        sys.stderr.flush()
        _abort_all_ranks(code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
