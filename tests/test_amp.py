"""torch.amp against torch: GradScaler's scaling, unscaling, skipped steps and scale updates; autocast switches."""
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import assert_same

W = np.random.default_rng(0).standard_normal((3, 4))
X = np.random.default_rng(1).standard_normal((5, 4))


def _train(lib, poison_steps, steps=8, **scaler_kw):
    """SGD on a linear model under GradScaler; at poison_steps the loss is multiplied by inf."""
    w = lib.nn.Parameter(lib.from_numpy(W.copy()))
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **scaler_kw)
    x = lib.from_numpy(X.copy())
    scales, states = [], []
    for step in range(steps):
        opt.zero_grad()
        loss = (x @ w.t()).pow(2).mean()
        if step in poison_steps:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        states.append(scaler.state_dict())
    return w.detach(), scales, states


@pytest.mark.parametrize("poison", [(), (2,), (0, 1, 5)])
@pytest.mark.parametrize("kw", [{}, dict(init_scale=8.0, growth_interval=2, growth_factor=3.0, backoff_factor=0.25)])
def test_grad_scaler_matches_torch(poison, kw):
    (ew, es, est), (tw, ts, tst) = _train(ember, poison, **kw), _train(torch, poison, **kw)
    assert_same(ew, tw)
    assert es == ts
    assert est == tst


def test_unscale_then_clip_matches_torch():
    def run(lib):
        w = lib.nn.Parameter(lib.from_numpy(W.copy()))
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=1024.0)
        (lib.from_numpy(X.copy()) @ w.t()).pow(2).sum().backward() if False else \
            scaler.scale((lib.from_numpy(X.copy()) @ w.t()).pow(2).sum()).backward()
        scaler.unscale_(opt)
        lib.nn.utils.clip_grad_norm_([w], 1.0)
        scaler.step(opt)
        scaler.update()
        return w.detach(), w.grad
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)


@pytest.mark.parametrize("misuse", ["unscale twice", "unscale after step", "step twice", "update first"])
def test_grad_scaler_misuse_errors_match_torch(misuse):
    def run(lib):
        w = lib.nn.Parameter(lib.from_numpy(W.copy()))
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu")
        if misuse == "update first":
            scaler.update()
        scaler.scale(w.sum()).backward()
        if misuse == "unscale twice":
            scaler.unscale_(opt)
            scaler.unscale_(opt)
        scaler.step(opt)
        if misuse == "unscale after step":
            scaler.unscale_(opt)
        if misuse == "step twice":
            scaler.step(opt)
    errors = []
    for lib in (ember, torch):
        with pytest.raises((RuntimeError, AssertionError)) as info:
            run(lib)
        errors.append((info.type, str(info.value)))
    assert errors[0] == errors[1]


def test_disabled_scaler_and_cuda_device_pass_through_like_torch():
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cuda = lib.amp.GradScaler("cuda")
        assert not cuda.is_enabled() and any("CUDA is not available" in str(w.message) for w in caught)
        off = lib.amp.GradScaler("cpu", enabled=False)
        loss = lib.ones(2).sum()
        assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}


def test_autocast_disabled_and_cuda_are_no_ops_like_torch():
    for lib in (ember, torch):
        with lib.autocast("cpu", enabled=False):
            assert lib.ones(2, 2).matmul(lib.ones(2, 2)).dtype == lib.float32
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autocast("cuda"):
                out = lib.ones(2) * 2
        assert out.dtype == lib.float32 and any("Disabling autocast" in str(w.message) for w in caught)
        assert lib.autocast("cpu").fast_dtype == lib.bfloat16


def test_enabled_cpu_autocast_is_not_implemented():
    with pytest.raises(NotImplementedError, match="autocast"):
        with ember.autocast("cpu"):
            pass
