"""torch.multiprocessing: Python's multiprocessing plus spawn() and shared tensors. A tensor sent to another process
through multiprocessing (Process arguments, Queue, Pool) is moved to shared memory and received as a view of it, as
in PyTorch; both sharing strategies pass the memory as a file descriptor (see reductions)."""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from .reductions import init_reductions
from .spawn import (spawn, start_processes, ProcessContext, SpawnContext, ProcessException,  # noqa: F401
                    ProcessRaisedException, ProcessExitedException)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"] + multiprocessing.__all__

_STRATEGIES = {"file_descriptor", "file_system"}
_strategy = ["file_descriptor"]


def set_sharing_strategy(new_strategy):
    if new_strategy not in _STRATEGIES:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}")
    _strategy[0] = new_strategy


def get_sharing_strategy():
    return _strategy[0]


def get_all_sharing_strategies():
    return set(_STRATEGIES)


init_reductions()
