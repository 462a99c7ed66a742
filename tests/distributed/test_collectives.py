"""ember.distributed's collectives on 2 MPI processes, against NumPy's reductions of the ranks' known inputs;
argument errors against torch.distributed's own checks; the import and availability rules in plain processes."""
import datetime
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as tdist
from torch.distributed import distributed_c10d as tc10d

import ember
import ember.distributed as dist
from .mpirun import NPROC, load, run_worker
from .workers._common import rank_data

W = NPROC
RANKS = range(W)
DATA = np.stack([rank_data(r) for r in RANKS])
INT = np.stack([rank_data(r, np.int64) for r in RANKS])


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    run_worker("collectives", out)
    return [load(out, "collectives", r) for r in RANKS]


def _same(got, want):
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"dtype {got.dtype} != {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-6 if got.dtype == np.float32 else 1e-12)


ALL_REDUCE = {
    "SUM": DATA.sum(0), "AVG": DATA.mean(0), "MAX": DATA.max(0), "MIN": DATA.min(0), "PRODUCT": DATA.prod(0),
    "int_SUM": INT.sum(0), "int_MAX": INT.max(0), "int_BAND": np.bitwise_and.reduce(INT),
    "int_BOR": np.bitwise_or.reduce(INT), "int_BXOR": np.bitwise_xor.reduce(INT),
    "bool_SUM": np.array([True, False, True]), "bool_MIN": np.array([False, False, True]),
    "float32_AVG": np.stack([rank_data(r, np.float32) for r in RANKS]).mean(0),
    "complex_SUM": DATA.sum(0) * (1 + 1j),
    "view_base": np.concatenate([np.zeros((1, 3)), DATA.sum(0), np.zeros((1, 3))]),
    "transposed": DATA.sum(0).T,
    "requires_grad_leaf": DATA.sum(0),
}


@pytest.mark.parametrize("case", sorted(ALL_REDUCE))
def test_all_reduce(results, case):
    for res in results:
        _same(res["all_reduce"][case], ALL_REDUCE[case])


def test_all_reduce_scalar(results):
    for res in results:
        assert res["all_reduce"]["scalar"] == sum(r + 1 for r in RANKS)


def test_data_movement(results):
    stacked = DATA
    for r, res in enumerate(results):
        d = res["data"]
        assert d["broadcast_returns"] is None and d["barrier"] is None
        _same(d["broadcast"], DATA[W - 1])
        _same(d["all_gather"], stacked)
        _same(d["all_gather_into_tensor"], stacked.reshape(2 * W, 3))
        _same(d["reduce"], DATA.sum(0) if r == W - 1 else DATA[r])
        if r == 0:
            _same(d["gather"], stacked)
        else:
            assert d["gather"] is None
        _same(d["scatter"], np.full((2, 3), 10.0 * r))
        _same(d["reduce_scatter_SUM"], DATA.sum(0) + 100 * r * W)
        _same(d["reduce_scatter_AVG"], DATA.mean(0) + 100 * r)
        _same(d["reduce_scatter_tensor"], DATA.sum(0) + 100 * r * W)


def test_async_op(results):
    for r, res in enumerate(results):
        a = res["async"]
        assert a["type"] == "Work" and a["wait"] is True and a["completed"] is True
        _same(a["all_reduce"], DATA.sum(0))
        _same(a["result"][0], DATA.sum(0))
        _same(a["overlapped"][0], DATA.sum(0))
        _same(a["overlapped"][1], DATA.max(0))
        _same(a["broadcast"], DATA[W - 1])
        _same(a["all_gather"], DATA)
        _same(a["reduce_scatter"], DATA.sum(0) + 100 * r * W)
        assert a["barrier"] is True


def test_point_to_point(results):
    p = results[1]["p2p"]
    assert p["recv_source"] == 0 and p["irecv_source"] == 0
    _same(p["recv"], np.array([1.5, 2.5]))
    _same(p["irecv"], np.array([7.0]))
    for res in results:
        assert res["p2p"]["send_to_self"] == (
            "ValueError", "Invalid destination rank: destination rank should not be the same as the rank of the "
                          "current process.")


def test_objects(results):
    for r, res in enumerate(results):
        o = res["objects"]
        assert o["all_gather_object"] == [{"rank": i, "square": i * i} for i in RANKS]
        assert o["broadcast_object_list"] == [f"from {W - 1}", W - 1, None]
        assert o["gather_object"] == ([("g", i) for i in RANKS] if r == 0 else None)
        assert o["scatter_object_list"] == [f"item {r}"]


def test_groups(results):
    for r, res in enumerate(results):
        g = res["groups"]
        assert res["info"] == {"rank": r, "world_size": W, "backend": "mpi", "initialized": True,
                               "world_is_default": True}
        _same(g["all_reduce_everyone"], DATA.sum(0))
        _same(g["broadcast_group_src"], DATA[W - 1])
        assert g["ranks_everyone"] == list(RANKS)
        member = r == W - 1
        assert g["rank_in_last"] == (0 if member else -1)
        assert g["size_of_last"] == (1 if member else -1)
        assert g["all_reduce_last_returns"] is None
        _same(g["all_reduce_last"], DATA[r])
        assert g["destroyed_group_error"] == ("ValueError", "Invalid process group specified")
        if r == 0:
            assert g["local_sync_group"][0] == 1
            _same(g["local_sync_group"][1], DATA[0])
        if member:
            assert g["not_member_warnings"] == [] and g["global_rank_of_last_0"] == W - 1
            assert g["group_rank_of_last"] == 0
        else:
            assert g["not_member_warnings"] == [f"Running all_reduce on global rank {r} which does not belong to "
                                                "the given group."]


def test_sampler_defaults_from_process_group(results):
    want = [list(torch.utils.data.distributed.DistributedSampler(range(11), W, r, shuffle=False)) for r in RANKS]
    for r, res in enumerate(results):
        assert res["sampler"] == {"default": want[r], "len": len(want[r])}


def test_destroy_and_reinit(results):
    for res in results:
        after = res["after_destroy"]
        assert after["initialized"] is False and after["world"] is None
        assert after["rank_error"][1] == ("Default process group has not been initialized, please make sure to call "
                                          "init_process_group.")
        _same(res["reinit_all_reduce"], DATA.sum(0))


def _torch_error(fn):
    try:
        fn()
    except Exception as e:
        return type(e).__name__, str(e)
    raise AssertionError("torch raised nothing")


# Errors raised on every rank; (class, exact message or substrings). Torch's argument checks are the oracle where
# they exist without a process group.
ERRORS = {
    "shape": ("RuntimeError", ["all_reduce", "rank 0 has shape [2] (float64)", "rank 1 has shape [3] (float64)"]),
    "dtype": ("RuntimeError", ["rank 0 has shape [2] (float64)", "rank 1 has shape [2] (float32)"]),
    "broadcast_shape": ("RuntimeError", ["broadcast", "shape [2, 2]", "shape [3, 2]"]),
    "all_gather_ranks_shape": ("RuntimeError", ["all_gather", "shape [2]", "shape [3]"]),
    "all_gather_list_length": ("RuntimeError", ["expected length 2, got 3"]),
    "all_gather_output_size": ("RuntimeError", ["invalid tensor size at index 0 (expected [2], got [3])"]),
    "all_gather_dtypes": _torch_error(lambda: tc10d._ensure_all_tensors_same_dtype(
        [torch.zeros(2, dtype=torch.float64)] * 2, torch.zeros(2))),
    "avg_int": _torch_error(lambda: torch.ones(2, dtype=torch.int64).div_(2)),
    "max_complex": ("ValueError", ["all_reduce does not support", "MAX on complex tensors"]),
    "premul_sum": ("NotImplementedError", ["PREMUL_SUM"]),
    "bad_src": ("RuntimeError", ["invalid root rank: 5"]),
    "no_src": _torch_error(lambda: tc10d._canonicalize_group_rank(None)),
    "reduce_scatter_length": ("RuntimeError", ["invalid input tensor list size, must be world size"]),
    "not_a_tensor": _torch_error(lambda: tc10d._check_single_tensor([1.0, 2.0], "tensor")),
    "init_twice": ("ValueError", "trying to initialize the default process group twice!"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_on_every_rank(results, case):
    cls, msg = ERRORS[case]
    for res in results:
        got = res["errors"][case]
        assert got is not None and got[0] == cls, f"{case}: {got}"
        if isinstance(msg, str):
            assert got[1] == msg
        else:
            for part in msg:
                assert part in got[1], f"{case}: {part!r} not in {got[1]!r}"


def test_local_list_errors(results):
    assert results[0]["errors"]["gather_lists"] == (
        "ValueError", "Argument ``gather_list`` must be specified on destination rank.")
    assert results[1]["errors"]["gather_lists"] == (
        "ValueError", "Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    assert results[0]["errors"]["scatter_lists"] == (
        "ValueError", "Argument ``scatter_list`` must be specified on source rank.")
    assert results[1]["errors"]["scatter_lists"] == (
        "ValueError", "Argument ``scatter_list`` must NOT be specified on non-source ranks.")


def test_group_still_works_after_errors_and_timeout(results):
    for res in results:
        _same(res["errors"]["all_reduce_after_errors"], DATA.sum(0))
    assert results[0]["errors"]["timeout"][0] == "DistBackendError"
    assert "timed out" in results[0]["errors"]["timeout"][1]


def test_init_errors(results):
    for res in results:
        e = res["init_errors"]
        assert e["init_world_size"][0] == "RuntimeError" and "world_size=3" in e["init_world_size"][1]
        assert "2 process(es)" in e["init_world_size"][1]
        assert e["init_rank"][0] == "RuntimeError" and "rank=0" in e["init_rank"][1] and "ranks 1" in e["init_rank"][1]
        assert e["init_nccl"][0] == "RuntimeError" and "NCCL" in e["init_nccl"][1]
        assert e["init_timeout_type"] == _torch_error(lambda: tc10d._check_valid_timeout(5))


# ---- without mpiexec ------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda d, t: d.all_reduce(t.ones(2)), lambda d, t: d.broadcast(t.ones(2), 0), lambda d, t: d.get_rank(),
    lambda d, t: d.get_world_size(), lambda d, t: d.barrier(), lambda d, t: d.get_backend(),
    lambda d, t: d.all_gather([t.ones(2)], t.ones(2))])
def test_collective_before_init(call):
    want = _torch_error(lambda: call(tdist, torch))
    with pytest.raises(RuntimeError) as info:
        call(dist, ember)
    assert str(info.value) == want[1]
    assert isinstance(info.value, ValueError)  # torch's class, too


def test_destroy_before_init():
    assert _torch_error(tdist.destroy_process_group) == _torch_error(dist.destroy_process_group)


def test_names_match_torch():
    assert [m.name for m in dist.ReduceOp.RedOpType] == list(tdist.ReduceOp.RedOpType.__members__)
    assert repr(dist.ReduceOp.SUM) == repr(tdist.ReduceOp.SUM)
    assert dist.Backend("MPI") == tdist.Backend("MPI") == "mpi"
    assert dist.GroupMember.NON_GROUP_MEMBER == tdist.GroupMember.NON_GROUP_MEMBER
    assert dist.default_pg_timeout == datetime.timedelta(minutes=30)
    assert dist.is_initialized() is False and dist.group.WORLD is None


def _python(code, env=None):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_ember_does_not_import_mpi4py():
    out = _python("import sys, ember, ember.distributed as d, ember.nn.parallel, ember.utils.data\n"
                  "print('mpi4py' in sys.modules, d.is_available(), d.is_mpi_available(), 'mpi4py.MPI' in sys.modules)")
    assert out == "False True True False"  # is_available imports the mpi4py package, which does not start MPI


def test_without_mpi4py_errors_tell_how_to_install():
    out = _python("import sys\nsys.modules['mpi4py'] = None\nimport ember.distributed as d\n"
                  "print(d.is_available(), d.is_mpi_available())\n"
                  "try:\n    d.init_process_group('mpi')\nexcept RuntimeError as e:\n    print(e)")
    first, message = out.split("\n", 1)
    assert first == "False False"
    assert "pip install ember[mpi]" in message


def test_single_process_without_mpiexec():
    """Started without a launcher, MPI makes a world of one: collectives are identities, DDP and SyncBN run."""
    out = _python("import ember, ember.distributed as d\n"
                  "d.init_process_group('mpi')\n"
                  "t = ember.tensor([1.0, 2.0]); d.all_reduce(t, op=d.ReduceOp.AVG)\n"
                  "m = ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 1))\n"
                  "m(t.view(1, 2)).sum().backward()\n"
                  "print(d.get_rank(), d.get_world_size(), t.tolist(), m.module.weight.grad.tolist())")
    assert out == "0 1 [1.0, 2.0] [[1.0, 2.0]]"
