"""DistributedDataParallel on 2 MPI processes against one process (torch's and ember's) on the combined batch."""
import numpy as np
import pytest
import torch
import torch.distributed as tdist

import ember
from ember.nn.parallel.distributed import _assign_buckets
from .mpirun import NPROC, load, run_worker
from .workers._common import arrays_of, branchy, load_arrays, mlp

W = NPROC
STEPS, BATCH = 20, 4 * NPROC
TIGHT = dict(rtol=1e-10, atol=1e-12)


def _inputs():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    arrays = {"X": rng.standard_normal((STEPS, BATCH, 6)), "Y": rng.standard_normal((STEPS, BATCH, 3))}
    arrays.update(arrays_of(mlp(torch.nn).double().state_dict(), "mlp."))
    arrays.update(arrays_of(branchy(torch.nn).double().state_dict(), "branchy."))
    return arrays


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    inp = _inputs()
    np.savez(out / "inputs.npz", **inp)
    run_worker("ddp", out)
    return inp, [load(out, "ddp", r) for r in range(W)]


def _model(lib, make, inp, prefix):
    m = make(lib.nn).double()
    load_arrays(m, inp, prefix, lib.from_numpy)
    return m


def _train_single_process(lib, inp):
    """Plain training on the whole batch in one process: what DDP on W processes must reproduce."""
    m = _model(lib, mlp, inp, "mlp.")
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    for x, y in zip(inp["X"], inp["Y"]):
        opt.zero_grad()
        ((m(lib.from_numpy(x.copy())) - lib.from_numpy(y.copy())) ** 2).mean().backward()
        opt.step()
    return arrays_of(m.state_dict())


def _grads(lib, make, inp, prefix, x, loss_fn):
    m = _model(lib, make, inp, prefix)
    loss_fn(m, lib.from_numpy(np.ascontiguousarray(x))).backward()
    return {n: None if p.grad is None else p.grad.numpy() for n, p in m.named_parameters()}


def _close(got, want, what):
    assert got.keys() == want.keys(), what
    for k in want:
        if want[k] is None:
            assert got[k] is None, f"{what}: {k} has a gradient"
        else:
            np.testing.assert_allclose(got[k], want[k], err_msg=f"{what}: {k}", **TIGHT)


@pytest.mark.parametrize("variant", ["train_default", "train_small_buckets", "train_find_unused"])
def test_training_matches_one_process_on_combined_batch(run, variant):
    inp, results = run
    want_torch = _train_single_process(torch, inp)
    want_ember = _train_single_process(ember, inp)
    for r, res in enumerate(results):
        _close(res[variant]["params"], want_torch, f"rank {r} vs torch")
        _close(res[variant]["params"], want_ember, f"rank {r} vs ember")
    assert results[0][variant]["losses"] != results[1][variant]["losses"]  # each rank saw its own data


def _torch_buckets(params, caps):
    order = list(reversed(range(len(params))))
    buckets, _ = tdist._compute_bucket_assignment_by_size([params[i] for i in order], caps, [False] * len(params),
                                                          order)
    return buckets


def test_buckets_in_reverse_parameter_order(run):
    _, results = run
    params = list(mlp(torch.nn).double().parameters())
    assert results[0]["train_default"]["buckets"] == _torch_buckets(params, [1 << 20, 25 << 20])
    small = results[0]["train_small_buckets"]["buckets"]
    assert len(small) > 2 and small == _torch_buckets(params, [int(0.0005 * (1 << 20))])


@pytest.mark.parametrize("caps", [[1 << 20, 25 << 20], [100, 1000], [4000]])
def test_bucket_assignment_matches_torch(caps):
    sizes = [300000, 10, 200000, 5, 100000, 7, 2000000, 3, 4, 400000, 50, 60]
    dtypes = ["float32"] * 8 + ["float64", "float32", "float64", "float64"]
    tparams = [torch.zeros(n, dtype=getattr(torch, d)) for n, d in zip(sizes, dtypes)]
    eparams = [ember.zeros(n, dtype=getattr(ember, d)) for n, d in zip(sizes, dtypes)]
    # Torch orders the buckets still open at the end by dtype; the buckets themselves must be the same.
    assert sorted(_assign_buckets(eparams, caps)) == sorted(_torch_buckets(tparams, caps))


def test_no_sync_accumulates_locally_then_reduces(run):
    inp, results = run
    x, y = inp["X"][0], inp["Y"][0]
    n, half = BATCH // W, BATCH // W // 2
    mse = lambda yy: (lambda m, xx: ((m(xx) - torch.from_numpy(yy)) ** 2).mean())  # noqa: E731
    combined = _grads(torch, mlp, inp, "mlp.", x, mse(y))
    for r, res in enumerate(results):
        xr, yr = x[r * n:(r + 1) * n], y[r * n:(r + 1) * n]
        local = _grads(torch, mlp, inp, "mlp.", xr[:half], lambda m, xx: mse(yr[:half])(m, xx) / 2)
        _close(res["no_sync"]["local"], local, f"rank {r}: gradients inside no_sync must stay local")
        _close(res["no_sync"]["accumulated"], res["no_sync"]["full"], f"rank {r}: accumulated vs one step")
        _close(res["no_sync"]["accumulated"], combined, f"rank {r}: accumulated vs combined batch")


def test_find_unused_parameters(run):
    inp, results = run
    x = inp["X"][0]
    n = BATCH // W
    per_rank = [_grads(torch, branchy, inp, "branchy.", x[r * n:(r + 1) * n],
                       lambda m, xx, r=r: (m(xx, use_b=(r == W - 1))[0] ** 2).mean()) for r in range(W)]
    want = {k: None if per_rank[-1][k] is None else sum(g[k] if g[k] is not None else 0 for g in per_rank) / W
            for k in per_rank[-1]}
    assert want["c.weight"] is None and want["d.weight"] is None and want["b.weight"] is not None
    for r, res in enumerate(results):
        for it, got in enumerate(res["find_unused"]):
            _close(got, want, f"rank {r}, iteration {it}")


def test_unreduced_gradients_raise_at_next_forward(run):
    _, results = run
    for res in results:
        cls, msg = res["unfinished"]
        assert cls == "RuntimeError"
        assert msg.startswith("Expected to have finished reduction in the prior iteration before starting a new one.")
        assert "find_unused_parameters=True" in msg and "c.weight" in msg and "d.bias" in msg


def test_construction_broadcasts_rank0_state_and_prefixes_names(run):
    inp, results = run
    rank0 = results[0]["construction"]["before"]
    assert any(not np.array_equal(results[1]["construction"]["before"][k], rank0[k]) for k in rank0)
    keys = ["module." + k for k in mlp(torch.nn).state_dict()]
    for res in results:
        c = res["construction"]
        _close(c["after"], rank0, "parameters after construction")
        assert c["keys"] == keys
        assert c["module_is_module"] is True and c["device_ids"] == (None, None)
        assert c["hooks_of_dropped_ddp"] == ((1, 1), (0, 0))


CONSTRUCTION_ERRORS = {
    "device_ids_error": ("ValueError", "DistributedDataParallel device_ids and output_device arguments only work "
                                       "with single-device/multiple-device GPU modules or CPU modules"),
    "two_device_ids_error": ("ValueError", "device_ids can only be None or contain a single element."),
    "no_params_error": ("RuntimeError", "DistributedDataParallel is not needed when a module doesn't have any "
                                        "parameter that requires a gradient."),
    "mismatch_error": ("RuntimeError", "DDP expects same model across all ranks, but Rank 0 has 2 params, while "
                                       "rank 1 has inconsistent 4 params."),
    "bucket_view_error": ("NotImplementedError", "gradient_as_bucket_view"),
}


@pytest.mark.parametrize("case", sorted(CONSTRUCTION_ERRORS))
def test_construction_errors(run, case):
    cls, text = CONSTRUCTION_ERRORS[case]
    for res in run[1]:
        got = res["construction"][case]
        assert got[0] == cls and text in got[1], got


def test_buffers_follow_rank0(run):
    for r, res in enumerate(run[1]):
        b = res["buffers"]
        np.testing.assert_array_equal(b["after_init"], [1.0] * 3)
        np.testing.assert_array_equal(b["after_forward"], [10.0] * 3)
        assert b["forward_sync_off"][0] is False
        np.testing.assert_array_equal(b["forward_sync_off"][1], [10.0 * (r + 1)] * 3)
        warned, count = b["broadcast_buffers_off"]
        assert [w[0] for w in warned] == ["FutureWarning"] and "`broadcast_buffers` is deprecated" in warned[0][1]
        np.testing.assert_array_equal(count, [r + 1.0] * 3)
        np.testing.assert_array_equal(b["rank_after_no_sync"], [10.0] * 3)
        np.testing.assert_array_equal(b["skipped_after_no_sync_forward"], [7.0 * (r + 1)] * 3)
