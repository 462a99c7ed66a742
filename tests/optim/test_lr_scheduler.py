"""Learning-rate schedulers against torch.optim.lr_scheduler: the lr (and momentum) sequence over 100 steps is
identical, state_dicts round-trip (also across libraries), warnings and errors match."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import ember

LIBS = (ember, torch)


def make_optimizer(lib, kind="sgd"):
    """Two param groups with different lrs; SGD with momentum or Adam (for momentum / beta1 cycling)."""
    groups = [{"params": [lib.zeros(2, requires_grad=True)]},
              {"params": [lib.zeros(3, requires_grad=True)], "lr": 0.05}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


class Decay:
    """A callable object: its __dict__ is what LambdaLR's state_dict keeps."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


# (id, optimizer kind, builder(lr_scheduler module, optimizer))
CASES = [
    ("LambdaLR", "sgd", lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e)),
    ("LambdaLR-per-group", "sgd", lambda L, o: L.LambdaLR(o, [Decay(0.9), lambda e: 1.0 / (1 + e)])),
    ("MultiplicativeLR", "sgd", lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97)),
    ("StepLR", "sgd", lambda L, o: L.StepLR(o, 7, 0.5)),
    ("MultiStepLR", "sgd", lambda L, o: L.MultiStepLR(o, [10, 30, 30, 60], 0.3)),
    ("ConstantLR", "sgd", lambda L, o: L.ConstantLR(o, 0.25, 12)),
    ("LinearLR", "sgd", lambda L, o: L.LinearLR(o, 0.1, 0.9, 40)),
    ("LinearLR-default", "sgd", lambda L, o: L.LinearLR(o)),
    ("ExponentialLR", "sgd", lambda L, o: L.ExponentialLR(o, 0.97)),
    ("PolynomialLR", "sgd", lambda L, o: L.PolynomialLR(o, 60, 2.0)),
    ("PolynomialLR-default", "sgd", lambda L, o: L.PolynomialLR(o)),
    ("CosineAnnealingLR", "sgd", lambda L, o: L.CosineAnnealingLR(o, 17, 0.001)),
    ("CosineAnnealingLR-long", "sgd", lambda L, o: L.CosineAnnealingLR(o, 100)),
    ("CyclicLR-triangular", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, 7)),
    ("CyclicLR-triangular2", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, 7, 5, mode="triangular2")),
    ("CyclicLR-exp_range", "sgd", lambda L, o: L.CyclicLR(o, [0.01, 0.02], 0.1, 9, mode="exp_range", gamma=0.97,
                                                          base_momentum=[0.7, 0.8], max_momentum=0.95)),
    ("CyclicLR-scale_fn", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, 6, scale_fn=lambda x: 1 / (1 + x),
                                                         scale_mode="iterations", cycle_momentum=False)),
    ("CyclicLR-adam-betas", "adam", lambda L, o: L.CyclicLR(o, 0.001, 0.01, 8, mode="triangular2")),
    ("OneCycleLR", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=101)),
    ("OneCycleLR-linear", "sgd", lambda L, o: L.OneCycleLR(o, [0.1, 0.2], epochs=11, steps_per_epoch=10,
                                                           anneal_strategy="linear", pct_start=0.25)),
    ("OneCycleLR-three_phase", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=120, three_phase=True,
                                                                div_factor=10.0, final_div_factor=100.0)),
    ("OneCycleLR-adam-betas", "adam", lambda L, o: L.OneCycleLR(o, 0.01, total_steps=101, base_momentum=0.8)),
    ("OneCycleLR-no-momentum", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=101, cycle_momentum=False)),
    ("CosineAnnealingWarmRestarts", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, 10)),
    ("CosineAnnealingWarmRestarts-T_mult", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, 5, 2, 0.001)),
    ("SequentialLR", "sgd", lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=10),
                                                            L.CosineAnnealingLR(o, 30),
                                                            L.ExponentialLR(o, 0.9)], [10, 40])),
    ("ChainedScheduler", "sgd", lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, 10),
                                                                 L.ExponentialLR(o, 0.98)])),
    ("ChainedScheduler-optimizer", "sgd", lambda L, o: L.ChainedScheduler([L.StepLR(o, 5, 0.8),
                                                                           L.MultiStepLR(o, [20, 50])], o)),
]
IDS = [c[0] for c in CASES]


def snapshot(opt, sched):
    """Everything a schedule controls: last lrs, group lrs, momentum / betas."""
    return (list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups],
            [g.get("momentum") for g in opt.param_groups], [g.get("betas") for g in opt.param_groups])


def run(lib, kind, build, steps=100):
    opt = make_optimizer(lib, kind)
    sched = build(lib.optim.lr_scheduler, opt)
    seq = [snapshot(opt, sched)]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append(snapshot(opt, sched))
    return seq, opt, sched


def plain(state):
    """A scheduler state_dict with callables and schedulers replaced by their class names (comparable)."""
    if isinstance(state, dict):
        return {k: plain(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(plain(v) for v in state)
    if callable(state):
        return "callable"
    return state


@pytest.mark.parametrize("name,kind,build", CASES, ids=IDS)
def test_schedule_parity(name, kind, build):
    e_seq, _, e_sched = run(ember, kind, build)
    t_seq, _, t_sched = run(torch, kind, build)
    for i, (e, t) in enumerate(zip(e_seq, t_seq)):
        assert e == t, f"step {i}: {e} != torch {t}"
    assert plain(e_sched.state_dict()) == plain(t_sched.state_dict())
    assert len({s[0][0] for s in t_seq}) > 1  # the schedule does change the lr


@pytest.mark.parametrize("name,kind,build", CASES, ids=IDS)
def test_state_dict_round_trip(name, kind, build):
    """Save after 30 steps, load into a fresh optimizer+scheduler (also one of the other library): 70 more steps
    continue exactly like the uninterrupted run."""
    t_full, _, _ = run(torch, kind, build)
    for src in LIBS:
        seq, opt, sched = run(src, kind, build, steps=30)
        opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
        for dst in LIBS:
            opt2 = make_optimizer(dst, kind)
            sched2 = build(dst.optim.lr_scheduler, opt2)
            opt2.load_state_dict(opt_sd if dst is src else _convert(opt_sd, dst))
            sched2.load_state_dict(copy.deepcopy(sched_sd))  # CyclicLR's load pops a key, as torch's does
            rest = []
            for _ in range(70):
                opt2.step()
                sched2.step()
                rest.append(snapshot(opt2, sched2))
            assert seq + rest == t_full, f"{src.__name__} -> {dst.__name__}"


def _convert(obj, lib):
    if isinstance(obj, (torch.Tensor, ember.Tensor)):
        return lib.from_numpy(np.array(obj.detach().numpy(), copy=True))
    if isinstance(obj, dict):
        return {k: _convert(v, lib) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_convert(v, lib) for v in obj)
    return obj


def test_lambda_state_dict_keeps_callable_objects():
    sds = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.LambdaLR(opt, [Decay(0.9), lambda e: 1.0])
        sds[lib] = sched.state_dict()["lr_lambdas"]
        other = lib.optim.lr_scheduler.LambdaLR(make_optimizer(lib), [Decay(0.5), lambda e: 1.0])
        other.load_state_dict(sched.state_dict())
        assert other.lr_lambdas[0].rate == 0.9
    assert sds[ember] == sds[torch] == [{"rate": 0.9}, None]


# ---- step(epoch): closed forms, fractional epochs --------------------------------------------------------------------
CLOSED_FORM = [
    ("StepLR", lambda L, o: L.StepLR(o, 4, 0.5)),
    ("MultiStepLR", lambda L, o: L.MultiStepLR(o, [3, 7, 7], 0.5)),
    ("ConstantLR", lambda L, o: L.ConstantLR(o, 0.5, 6)),
    ("LinearLR", lambda L, o: L.LinearLR(o, 0.2, 0.8, 8)),
    ("ExponentialLR", lambda L, o: L.ExponentialLR(o, 0.9)),
    ("PolynomialLR", lambda L, o: L.PolynomialLR(o, 9, 1.5)),
    ("CosineAnnealingLR", lambda L, o: L.CosineAnnealingLR(o, 7, 0.01)),
    ("LambdaLR", lambda L, o: L.LambdaLR(o, lambda e: 1 / (1 + e))),
    ("CyclicLR", lambda L, o: L.CyclicLR(o, 0.01, 0.1, 3)),
]


@pytest.mark.parametrize("name,build", CLOSED_FORM, ids=[c[0] for c in CLOSED_FORM])
def test_step_with_epoch_uses_closed_form_and_warns(name, build):
    out = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = build(lib.optim.lr_scheduler, opt)
        seq, msgs = [], set()
        for epoch in [3, 1, 8, 8, 2, 12, 5]:
            opt.step()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                sched.step(epoch)
            msgs |= {str(x.message) for x in w}
            seq.append(snapshot(opt, sched))
        out[lib] = (seq, msgs)
    assert out[ember] == out[torch]
    assert any("epoch parameter in `scheduler.step()` was not necessary" in m for m in out[torch][1])


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_cosine_warm_restarts_fractional_epochs(T_mult):
    out = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 4, T_mult, eta_min=0.002)
        seq = []
        for epoch in range(40):
            for j in range(5):
                sched.step(epoch + j / 5)
                seq.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        out[lib] = seq
    assert out[ember] == out[torch]


# ---- ReduceLROnPlateau -----------------------------------------------------------------------------------------------
PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=3),
    dict(threshold=0.05, threshold_mode="abs", patience=2),
    dict(mode="max", threshold=0.1, threshold_mode="rel", patience=1, cooldown=3),
    dict(factor=0.5, patience=0, cooldown=2, min_lr=[0.01, 0.02]),
    dict(factor=0.3, patience=1, min_lr=0.004, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_reduce_lr_on_plateau(kwargs):
    rng = np.random.default_rng(0)
    metrics = np.repeat(np.cumsum(rng.standard_normal(50) * 0.1), 2)
    out = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(lib.tensor(float(m)) if m > 0 else float(m))
            seq.append((sched.get_last_lr(), sched.best, sched.num_bad_epochs, sched.cooldown_counter,
                        sched.last_epoch))
        out[lib] = (seq, plain(sched.state_dict()))
    assert out[ember] == out[torch]
    assert len({s[0][0] for s in out[torch][0]}) > 1


def test_reduce_lr_on_plateau_state_dict_and_epoch():
    out = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1)
        for m in [1.0, 0.5, 0.4, 0.3]:
            sched.step(m)
        sched2 = lib.optim.lr_scheduler.ReduceLROnPlateau(opt)
        sched2.load_state_dict(sched.state_dict())
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sched2.step(0.2, epoch=10)
        out[lib] = (sched2.mode, sched2.mode_worse, sched2.last_epoch, sched2.get_last_lr(), len(w))
    assert out[ember] == out[torch]


def test_reduce_lr_on_plateau_new_param_group():
    def fn(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
        opt.add_param_group({"params": [lib.zeros(1, requires_grad=True)]})
        sched.step(1.0)
        sched.step(2.0)
    same_error(fn)
    lrs = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=0.001)
        opt.add_param_group({"params": [lib.zeros(1, requires_grad=True)], "lr": 0.3})
        sched.step(1.0)
        sched.step(2.0)
        lrs[lib] = sched.get_last_lr()
    assert lrs[ember] == lrs[torch]


# ---- tensor lrs -----------------------------------------------------------------------------------------------------
def test_tensor_lr_is_filled_in_place():
    out = {}
    for lib in LIBS:
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=lr)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2, 0.5)
        for _ in range(5):
            opt.step()
            sched.step()
        assert opt.param_groups[0]["lr"] is lr
        out[lib] = (float(lr), [float(x) for x in sched.get_last_lr()], float(opt.param_groups[0]["initial_lr"]))
    assert out[ember] == out[torch]


# ---- warnings -------------------------------------------------------------------------------------------------------
def _messages(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [str(x.message) for x in w]


def test_warns_when_scheduler_steps_before_optimizer():
    out = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 3)
        first = _messages(sched.step)
        opt.step()
        second = _messages(sched.step)
        out[lib] = (first, second)
    assert out[ember] == out[torch]
    assert "before `optimizer.step()`" in out[torch][0][0] and out[torch][1] == []


def test_no_warning_in_the_right_order_and_overridden_step_warns():
    out = {}
    for lib in LIBS:
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        opt.step()
        right = _messages(sched.step)
        opt2 = make_optimizer(lib)
        sched2 = lib.optim.lr_scheduler.ExponentialLR(opt2, 0.9)
        opt2.step = lambda closure=None: None
        opt2.step()
        overridden = _messages(sched2.step)
        out[lib] = (right, overridden)
    assert out[ember] == out[torch]
    assert out[torch][0] == [] and "overridden" in out[torch][1][0]


def test_get_lr_outside_step_warns():
    out = {}
    for lib in LIBS:
        sched = lib.optim.lr_scheduler.StepLR(make_optimizer(lib), 3)
        out[lib] = (_messages(sched.get_lr), _messages(sched.get_last_lr))
    assert out[ember] == out[torch]
    assert "get_last_lr()" in out[torch][0][0] and out[torch][1] == []


def test_optimizer_step_is_wrapped_once():
    for lib in LIBS:
        opt = make_optimizer(lib)
        lib.optim.lr_scheduler.StepLR(opt, 3)
        step = opt.step
        lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        assert opt.step is step and step._wrapped_by_lr_sched
        p = opt.param_groups[0]["params"][0]
        p.grad = lib.ones(2)
        opt.step()
        assert opt._opt_called and float(p.detach().sum()) != 0


# ---- errors ---------------------------------------------------------------------------------------------------------
def same_error(fn):
    msgs = {}
    for lib in LIBS:
        with pytest.raises(Exception) as err:
            fn(lib)
        msgs[lib] = (type(err.value), str(err.value))
    assert msgs[ember] == msgs[torch]


def _adagrad(lib):
    return lib.optim.Adagrad([lib.zeros(2, requires_grad=True)])


ERRORS = [
    ("not an optimizer", lambda L, o: L.StepLR("sgd", 3)),
    ("resume without initial_lr", lambda L, o: L.StepLR(o, 3, last_epoch=5)),
    ("LambdaLR count", lambda L, o: L.LambdaLR(o, [lambda e: 1.0])),
    ("MultiplicativeLR callable", lambda L, o: L.MultiplicativeLR(o, 0.9)),
    ("ConstantLR factor", lambda L, o: L.ConstantLR(o, factor=1.5)),
    ("LinearLR start", lambda L, o: L.LinearLR(o, start_factor=0)),
    ("LinearLR end", lambda L, o: L.LinearLR(o, end_factor=1.5)),
    ("SequentialLR empty", lambda L, o: L.SequentialLR(o, [], [])),
    ("SequentialLR milestones", lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [1, 2])),
    ("SequentialLR plateau", lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)], [3])),
    ("SequentialLR not scheduler", lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), 3], [3])),
    ("ChainedScheduler empty", lambda L, o: L.ChainedScheduler([])),
    ("ReduceLROnPlateau factor", lambda L, o: L.ReduceLROnPlateau(o, factor=1.0)),
    ("ReduceLROnPlateau mode", lambda L, o: L.ReduceLROnPlateau(o, mode="avg")),
    ("ReduceLROnPlateau threshold", lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="pct")),
    ("ReduceLROnPlateau min_lr", lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1])),
    ("ReduceLROnPlateau optimizer", lambda L, o: L.ReduceLROnPlateau(None)),
    ("CyclicLR mode", lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode="sine")),
    ("CyclicLR max_lr count", lambda L, o: L.CyclicLR(o, 0.1, [1.0, 2.0, 3.0])),
    ("OneCycleLR steps", lambda L, o: L.OneCycleLR(o, 0.1)),
    ("OneCycleLR total_steps", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0)),
    ("OneCycleLR epochs", lambda L, o: L.OneCycleLR(o, 0.1, epochs=-1, steps_per_epoch=3)),
    ("OneCycleLR steps_per_epoch", lambda L, o: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=1.5)),
    ("OneCycleLR pct_start", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5)),
    ("OneCycleLR anneal", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp")),
    ("CAWR T_0", lambda L, o: L.CosineAnnealingWarmRestarts(o, 0)),
    ("CAWR T_mult", lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=1.5)),
    ("CAWR eta_min", lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, eta_min="0")),
]


@pytest.mark.parametrize("name,build", ERRORS, ids=[e[0] for e in ERRORS])
def test_constructor_errors(name, build):
    same_error(lambda lib: build(lib.optim.lr_scheduler, make_optimizer(lib)))


def test_cycle_momentum_needs_momentum():
    same_error(lambda lib: lib.optim.lr_scheduler.CyclicLR(_adagrad(lib), 0.1, 1.0))
    same_error(lambda lib: lib.optim.lr_scheduler.OneCycleLR(_adagrad(lib), 0.1, total_steps=10))


def test_one_cycle_past_total_steps_and_negative_epoch():
    def past(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
        for _ in range(4):
            opt.step()
            sched.step()
    same_error(past)
    same_error(lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(lib), 3).step(-1))


def test_schedulers_of_other_optimizers_are_rejected():
    same_error(lambda lib: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.StepLR(make_optimizer(lib), 2), lib.optim.lr_scheduler.StepLR(make_optimizer(lib), 2)]))


def test_exports():
    for name in torch.optim.lr_scheduler.__all__:
        assert hasattr(ember.optim.lr_scheduler, name), name
    assert issubclass(ember.optim.lr_scheduler._LRScheduler, ember.optim.lr_scheduler.LRScheduler)
    assert math.isclose(ember.optim.lr_scheduler.CosineAnnealingLR(make_optimizer(ember), 10).get_last_lr()[0], 0.1)
