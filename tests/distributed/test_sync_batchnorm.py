"""SyncBatchNorm on 2 MPI processes (uneven batch slices) against BatchNorm on the combined batch, torch's and
ember's; DDP + SyncBatchNorm training against one process; one-process behaviour and conversion against torch."""
import numpy as np
import pytest
import torch

import ember
from .mpirun import NPROC, load, run_worker
from .workers._common import arrays_of

W = NPROC
# name: (shape of each step's global batch, rank batch sizes, momentum (nan: None), affine, dtype)
CASES = {
    "bn1d_2d": ((8, 4), (3, 5), 0.1, True, "float64"),
    "bn1d_3d": ((8, 4, 5), (3, 5), 0.1, True, "float64"),
    "bn2d_momentum_none": ((8, 3, 4, 5), (5, 3), np.nan, True, "float64"),
    "bn2d_float32": ((8, 3, 4, 5), (3, 5), 0.1, True, "float32"),
    "no_affine": ((6, 4), (2, 4), 0.3, False, "float64"),
    "empty_rank": ((6, 4), (0, 6), 0.1, True, "float64"),
}
STEPS = 2
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-4, atol=2e-5)}


def _case_inputs(rng, name):
    shape, splits, momentum, affine, dtype = CASES[name]
    c = shape[1]
    return {f"{name}.x": (rng.standard_normal((STEPS,) + shape) * 2 + 1).astype(dtype),
            f"{name}.g": rng.standard_normal((STEPS,) + shape).astype(dtype),
            f"{name}.weight": rng.uniform(0.5, 1.5, c).astype(dtype),
            f"{name}.bias": rng.standard_normal(c).astype(dtype),
            f"{name}.splits": np.array(splits), f"{name}.options": np.array([momentum, affine])}


def _net_inputs(rng):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                              torch.nn.Linear(8, 3)).double()
    arrays = arrays_of(net.state_dict(), "net.")
    arrays["net_X"] = rng.standard_normal((5, 4 * W, 6))
    arrays["net_Y"] = rng.standard_normal((5, 4 * W, 3))
    return arrays


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("syncbn")
    rng = np.random.default_rng(0)
    inp = _net_inputs(rng)
    for name in CASES:
        inp.update(_case_inputs(rng, name))
    np.savez(out / "inputs.npz", **inp)
    run_worker("sync_batchnorm", out)
    return inp, [load(out, "sync_batchnorm", r) for r in range(W)]


def _batchnorm_on_combined_batch(lib, inp, name):
    """BatchNorm{1d,2d} of `lib` over the whole batch: outputs, gradients, running statistics, eval output."""
    shape, _, momentum, affine, dtype = CASES[name]
    cls = lib.nn.BatchNorm1d if len(shape) < 4 else lib.nn.BatchNorm2d
    bn = cls(shape[1], momentum=None if np.isnan(momentum) else momentum, affine=affine).to(getattr(lib, dtype))
    if affine:
        with lib.no_grad():
            bn.weight.copy_(lib.from_numpy(inp[f"{name}.weight"]))
            bn.bias.copy_(lib.from_numpy(inp[f"{name}.bias"]))
    res = {}
    for step in range(STEPS):
        x = lib.from_numpy(inp[f"{name}.x"][step].copy()).requires_grad_()
        out = bn(x)
        out.backward(lib.from_numpy(inp[f"{name}.g"][step].copy()))
        if step == 0:
            res["out"], res["grad_input"] = out.detach().numpy(), x.grad.numpy()
            res["grad_weight"] = None if bn.weight is None else bn.weight.grad.numpy().copy()
            res["grad_bias"] = None if bn.bias is None else bn.bias.grad.numpy().copy()
    res["running_mean"], res["running_var"] = bn.running_mean.numpy(), bn.running_var.numpy()
    res["num_batches_tracked"] = int(bn.num_batches_tracked)
    bn.eval()
    res["eval_out"] = bn(lib.from_numpy(inp[f"{name}.x"][0].copy())).detach().numpy()
    return res


def _split(a, splits, r):
    start = sum(splits[:r])
    return a[start:start + splits[r]]


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_sync_batchnorm_equals_batchnorm_on_combined_batch(run, name, lib):
    inp, results = run
    splits, dtype = CASES[name][1], CASES[name][4]
    want = _batchnorm_on_combined_batch(lib, inp, name)
    tol = TOL[dtype]
    results = [res[name] for res in results]
    for r, res in enumerate(results):
        for key in ("out", "grad_input", "eval_out"):
            assert res[key].dtype == np.dtype(dtype)
            np.testing.assert_allclose(res[key], _split(want[key], splits, r), err_msg=f"rank {r} {key}", **tol)
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(res[key], want[key], err_msg=f"rank {r} {key}", **tol)
        assert res["num_batches_tracked"] == want["num_batches_tracked"] == STEPS
    for key in ("grad_weight", "grad_bias"):
        if want[key] is None:
            assert all(res[key] is None for res in results)
        else:  # the local sums: DDP's averaging makes them the combined batch's
            np.testing.assert_allclose(sum(res[key] for res in results), want[key], err_msg=key, **tol)


def test_ddp_with_sync_batchnorm_equals_one_process(run):
    inp, results = run
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                              torch.nn.Linear(8, 3)).double()
    net.load_state_dict({k[4:]: torch.from_numpy(v) for k, v in inp.items() if k.startswith("net.")})
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for x, y in zip(inp["net_X"], inp["net_Y"]):
        opt.zero_grad()
        ((net(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean().backward()
        opt.step()
    want = arrays_of(net.state_dict())
    for res in results:
        assert res["ddp"]["types"] == ["Linear", "SyncBatchNorm", "ReLU", "Linear"]
        for k, v in want.items():
            np.testing.assert_allclose(res["ddp"]["state"][k], v, rtol=1e-10, atol=1e-12, err_msg=k)


def test_channel_mismatch_raises_on_every_rank(run):
    for res in run[1]:
        cls, msg = res["channel_mismatch"]
        assert cls == "RuntimeError" and "SyncBatchNorm" in msg and "shape [9]" in msg and "shape [11]" in msg


# ---- one process: no process group ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
def test_without_process_group_it_is_torch_sync_batchnorm(shape):
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    got = []
    for lib in (torch, ember):
        bn = lib.nn.SyncBatchNorm(3, momentum=0.2).double()
        xt = lib.from_numpy(x.copy()).requires_grad_()
        out = bn(xt)
        out.backward(lib.from_numpy(g.copy()))
        bn.eval()
        got.append([out.detach().numpy(), xt.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy(),
                    bn.running_mean.numpy(), bn.running_var.numpy(), bn(lib.from_numpy(x.copy())).detach().numpy()])
    for t, e in zip(*got):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(3,), (2, 0)])
def test_sync_batchnorm_input_errors_match_torch(shape):
    errs = []
    for lib in (torch, ember):
        with pytest.raises(ValueError) as info:
            lib.nn.SyncBatchNorm(3)(lib.zeros(*shape))
        errs.append(str(info.value))
    assert errs[0] == errs[1]


def _nested(nn):
    inner = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, momentum=0.3), nn.ReLU())
    return nn.Sequential(inner, nn.Flatten(), nn.BatchNorm1d(8, affine=False), nn.SyncBatchNorm(8, eps=1e-3))


def test_convert_sync_batchnorm_like_torch():
    tm, em = _nested(torch.nn), _nested(ember.nn)
    em.train(False)
    tm.train(False)
    t_bn, e_bn = tm[0][1], em[0][1]
    tc = torch.nn.SyncBatchNorm.convert_sync_batchnorm(tm)
    ec = ember.nn.SyncBatchNorm.convert_sync_batchnorm(em)
    assert repr(ec) == repr(tc)
    assert [type(m).__name__ for m in ec.modules()] == [type(m).__name__ for m in tc.modules()]
    assert ec[0][1].weight is e_bn.weight and ec[0][1].running_mean is e_bn.running_mean
    assert tc[0][1].weight is t_bn.weight
    assert ec[0][1].training is False and list(ec.state_dict()) == list(tc.state_dict())
    single = ember.nn.SyncBatchNorm.convert_sync_batchnorm(ember.nn.BatchNorm1d(4, affine=True, bias=False))
    assert type(single).__name__ == "SyncBatchNorm" and single.bias is None
