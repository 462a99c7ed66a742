"""torch.multiprocessing.spawn: fn(i, *args) in nprocs processes; a failing process's error reaches the parent as
PyTorch raises it."""
import os

import pytest
import torch

import ember
import ember.multiprocessing as mp


def _write_rank(i, folder):
    with open(os.path.join(folder, f"rank{i}"), "w") as f:
        f.write(str(i * 10))


def _fail_on_one(i):
    if i == 1:
        raise ValueError("rank one failed")


def _exit_three(i):
    os._exit(3)


def test_spawn_runs_each_rank(tmp_path):
    assert mp.spawn(_write_rank, args=(str(tmp_path),), nprocs=2) is None
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["0", "10"]


def test_spawn_raises_the_child_exception_with_its_traceback():
    with pytest.raises(mp.ProcessRaisedException, match="rank one failed") as err:
        mp.spawn(_fail_on_one, nprocs=2)
    assert err.value.error_index == 1 and "ValueError" in str(err.value)


def test_spawn_reports_exit_codes():
    with pytest.raises(mp.ProcessExitedException, match="terminated with exit code 3") as err:
        mp.spawn(_exit_three, nprocs=1)
    assert err.value.exit_code == 3


def test_start_processes_without_join(tmp_path):
    context = mp.start_processes(_write_rank, args=(str(tmp_path),), nprocs=2, join=False, start_method="fork")
    while not context.join():
        pass
    assert len(context.pids()) == 2 and len(list(tmp_path.iterdir())) == 2


def test_sharing_strategies_and_stdlib_names():
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()
    with pytest.raises(AssertionError):
        mp.set_sharing_strategy("shared_memory")
    assert mp.Queue and mp.get_context("spawn") and ember.multiprocessing is mp
