"""torch.distributed for ember: process groups and collectives over MPI (the `mpi` extra: mpi4py + an MPI library).

Importing this package does not import mpi4py (that would initialise MPI); `init_process_group` does.
"""


def is_available():
    """True when mpi4py can be imported, so that process groups can be made."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


from .distributed_c10d import *  # noqa: E402,F401,F403
from .distributed_c10d import _get_default_group, _rank_not_in_group  # noqa: E402,F401
