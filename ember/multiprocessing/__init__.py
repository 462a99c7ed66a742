"""torch.multiprocessing: Python's multiprocessing plus spawn(). ember tensors are NumPy arrays, which multiprocessing
pickles by value, so the sharing strategies are accepted names only (tensors are copied, not shared)."""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

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
