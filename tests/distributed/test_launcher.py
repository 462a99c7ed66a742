"""`python -m ember.distributed.run` (torchrun's interface on mpiexec), and failures that must abort, not hang."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ember.distributed import run as launcher
from .mpirun import NPROC, TIMEOUT, WORKERS, load, mpiexec

SCRIPT = os.path.join(WORKERS, "launched.py")


def _launch(args, env=None):
    return subprocess.run([sys.executable, "-m", "ember.distributed.run"] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=TIMEOUT, env=dict(os.environ, **(env or {})))


def _check_ranks(out, master_port, argv_tail, name="__main__"):
    total = sum(r + 1 for r in range(NPROC))
    for r in range(NPROC):
        res = load(out, "launched", r)
        assert res["rank"] == r and res["world"] == NPROC and res["all_reduce"] == total
        assert res["env"] == {"RANK": str(r), "WORLD_SIZE": str(NPROC), "LOCAL_RANK": str(r),
                              "LOCAL_WORLD_SIZE": str(NPROC), "GROUP_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                              "MASTER_PORT": str(master_port)}
        assert res["argv"][1:] == argv_tail and res["name"] == name


def test_launch_script(tmp_path):
    proc = _launch(["--nproc-per-node", NPROC, SCRIPT, tmp_path, "--lr", "0.1"])
    assert proc.returncode == 0, proc.stderr
    _check_ranks(tmp_path, 29500, [str(tmp_path), "--lr", "0.1"])


def test_launch_module_with_torchrun_spellings(tmp_path):
    proc = _launch([f"--nproc_per_node={NPROC}", "--standalone", "--master_port", 29600, "-m", "launched", tmp_path],
                   env={"PYTHONPATH": WORKERS})
    assert proc.returncode == 0, proc.stderr
    _check_ranks(tmp_path, 29600, [str(tmp_path)])


def test_failing_rank_aborts_the_launch(tmp_path):
    proc = _launch(["--nproc-per-node", NPROC, SCRIPT, tmp_path, "--fail-on", 1])
    assert proc.returncode != 0
    assert "ValueError: rank 1 fails on purpose" in proc.stderr
    assert not any(p.name.startswith("launched") for p in tmp_path.iterdir())


def test_failing_rank_aborts_plain_mpiexec(tmp_path):
    proc = mpiexec([SCRIPT, tmp_path, "--fail-on", 0])
    assert proc.returncode != 0
    assert "ValueError: rank 0 fails on purpose" in proc.stderr


def test_example_ddp_lenet():
    example = os.path.join(os.path.dirname(WORKERS), "..", "..", "examples", "ddp_lenet.py")
    proc = _launch(["--nproc-per-node", NPROC, example, "--epochs", 1, "--train-size", 128])
    assert proc.returncode == 0, proc.stderr
    assert "state_dict names: module.conv1.weight, module.conv1.bias, module.conv2.weight" in proc.stdout
    for r in range(NPROC):
        assert f"[rank {r}] epoch 0: mean loss over its 2 batches" in proc.stdout
    assert "epoch 0: test accuracy" in proc.stdout and "replicas identical: True" in proc.stdout


def test_torch_script_through_torchcompat(tmp_path):
    """An unmodified PyTorch DDP script (gloo, env://) runs on ember and trains as real torch on the whole batch."""
    proc = _launch(["--nproc-per-node", NPROC, "-m", "ember.torchcompat", os.path.join(WORKERS, "torch_style.py"),
                    tmp_path])
    assert proc.returncode == 0, proc.stderr
    model = torch.nn.Linear(4, 2).double()
    with torch.no_grad():
        model.weight.copy_(torch.arange(8, dtype=torch.float64).view(2, 4) / 10)
        model.bias.fill_(0.0)
    x = torch.linspace(-1, 1, 32, dtype=torch.float64).view(8, 4)
    y = torch.cos(torch.arange(16, dtype=torch.float64)).view(8, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(8 // (2 * NPROC)):
        idx = [i for r in range(NPROC) for i in list(range(r, 8, NPROC))[2 * step:2 * step + 2]]
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x[idx]), y[idx]).backward()
        opt.step()
    for r in range(NPROC):
        res = load(tmp_path, "torch_style", r)
        assert res["torch_is"] == "ember" and res["dist_module"] == "ember.distributed"
        assert res["ddp_class"] == "ember.nn.parallel.distributed.DistributedDataParallel"
        assert res["indices"] == list(range(r, 8, NPROC))
        assert res["keys"] == ["module.weight", "module.bias"]
        np.testing.assert_allclose(res["weight"], model.weight.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(res["bias"], model.bias.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_command_line():
    args = launcher.get_args_parser().parse_args(["--nproc_per_node", "3", "train.py", "--epochs", "2"])
    cmd, env = launcher.build_command(args)
    assert cmd == [os.path.join(os.path.dirname(sys.executable), "mpiexec"), "-n", "3", sys.executable, "-m",
                   "ember.distributed._worker", "train.py", "--epochs", "2"]
    assert env["MASTER_ADDR"] == "127.0.0.1" and env["MASTER_PORT"] == "29500"
    assert env["MALLOC_MMAP_THRESHOLD_"] == str(128 << 20) and env["MALLOC_TRIM_THRESHOLD_"] == str(512 << 20)


def test_one_thread_per_rank_unless_set(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    _, env = launcher.build_command(launcher.get_args_parser().parse_args(["--nproc-per-node", "2", "train.py"]))
    assert env["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    _, env = launcher.build_command(launcher.get_args_parser().parse_args(["--nproc-per-node", "2", "train.py"]))
    assert env["OMP_NUM_THREADS"] == "3"


def test_user_malloc_settings_win(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    _, env = launcher.build_command(launcher.get_args_parser().parse_args(["train.py"]))
    assert env["MALLOC_MMAP_THRESHOLD_"] == "65536"


@pytest.mark.parametrize("argv,error", [(["--nnodes", "2", "x.py"], NotImplementedError),
                                        (["--nproc-per-node", "0", "x.py"], ValueError),
                                        (["--nproc-per-node", "many", "x.py"], ValueError)])
def test_bad_arguments(argv, error):
    with pytest.raises(error):
        launcher.build_command(launcher.get_args_parser().parse_args(argv))
