"""torch.multiprocessing: spawn() runs fn(i, *args) in nprocs processes and a failing process's error reaches the
parent as PyTorch raises it; tensors in shared memory (share_memory_, Module.share_memory, tensors sent to other
processes) are updated in place by every process, as in Hogwild training.

torch is imported inside the tests that use it, so that spawned children, which import this module, start quickly."""
import gc
import io
import os
import pickle
import subprocess
import sys
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
import ember.nn.functional as F


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
    import torch
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()
    with pytest.raises(AssertionError):
        mp.set_sharing_strategy("shared_memory")
    assert mp.Queue and mp.get_context("spawn") and ember.multiprocessing is mp


# ---- shared memory -----------------------------------------------------------------------------------------------
def _both(fn):
    """fn(lib) gives the same plain Python values with ember and with torch."""
    import torch
    assert fn(ember) == fn(torch)


def _mirror(t):
    """A second tensor over t's shared memory, made as another process receives t (multiprocessing's pickler)."""
    return ForkingPickler.loads(ForkingPickler.dumps(t))


def _share_view(lib):
    x = lib.zeros(4)
    v = x[1:3]
    return v.share_memory_() is v, v.is_shared(), x.is_shared()


def _share_leaf_with_grad(lib):
    y = lib.ones(3, requires_grad=True)
    (y * 2).sum().backward()
    return y.share_memory_() is y, y.is_shared(), y.requires_grad, y.is_leaf, y.grad.is_shared()


def _share_non_leaf(lib):
    z = lib.ones(3, requires_grad=True) * 2
    return z.share_memory_() is z, z.is_shared(), type(z.grad_fn).__name__


def _share_parameter(lib):
    p = lib.nn.Parameter(lib.ones(2, 3))
    return type(p.share_memory_()).__name__, p.is_shared(), p.requires_grad


def _share_module_with_grads(lib):
    m = lib.nn.Linear(2, 2)
    m(lib.ones(1, 2)).sum().backward()
    w, g = m.weight, m.weight.grad
    out = m.share_memory()
    return out is m, m.weight is w, m.weight.grad is g, w.is_shared(), g.is_shared(), m.bias.grad.is_shared()


def _share_transposed(lib):
    t = lib.arange(6.0).reshape(2, 3).t()
    t.share_memory_()
    return t.is_shared(), t.stride(), t.is_contiguous(), t.tolist()


SHARE_CASES = {
    "fresh": lambda t: t.ones(3).is_shared(),
    "after": lambda t: (lambda x: (x.share_memory_() is x, x.is_shared(), x.tolist()))(t.arange(3.0)),
    "twice": lambda t: (lambda x: x.share_memory_().data_ptr() == x.share_memory_().data_ptr())(t.ones(2)),
    "empty": lambda t: t.empty(0, 3).share_memory_().is_shared(),
    "int": lambda t: (lambda x: (x.is_shared(), x.tolist(), str(x.dtype)))(t.arange(4).share_memory_()),
    "zero-dim": lambda t: (lambda x: (x.is_shared(), x.item()))(t.tensor(2.5).share_memory_()),
    "view shares its base": _share_view,
    "leaf requiring grad, .grad stays": _share_leaf_with_grad,
    "non-leaf keeps its graph": _share_non_leaf,
    "parameter": _share_parameter,
    "module moves grads too": _share_module_with_grads,
    "layout kept": _share_transposed,
    "clone is not shared": lambda t: t.ones(2).share_memory_().clone().is_shared(),
}


@pytest.mark.parametrize("fn", SHARE_CASES.values(), ids=SHARE_CASES.keys())
def test_share_memory_as_torch(fn):
    _both(fn)


def test_uninitialized_parameter_refuses_to_share():
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
        ember.nn.LazyLinear(2).share_memory()


def test_multiprocessing_pickler_shares_and_plain_pickle_copies():
    t = ember.arange(6.0).reshape(2, 3)
    m = _mirror(t)
    assert t.is_shared() and m.is_shared() and m.tolist() == t.tolist() and m.stride() == t.stride()
    m[1].add_(10)
    assert t[1].tolist() == [13.0, 14.0, 15.0]
    for copy in (pickle.loads(pickle.dumps(t)), _saved_and_loaded(t)):
        assert copy.tolist() == t.tolist() and not copy.is_shared()
        copy.zero_()
        assert t[0, 1].item() == 1.0
    p = _mirror(ember.nn.Parameter(ember.ones(2)))
    assert type(p) is ember.nn.Parameter and p.requires_grad and p.is_shared()


def _saved_and_loaded(t):
    buf = io.BytesIO()
    ember.save(t, buf)
    buf.seek(0)
    return ember.load(buf)


def test_multiprocessing_pickler_refuses_non_leaf_as_torch():
    import torch
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as err:
            ForkingPickler.dumps(lib.ones(2, requires_grad=True) * 2)
        if lib is torch:
            want = str(err.value)
    assert str(err.value) == want


INPLACE_OPS = {
    "add_": lambda t, x: x.add_(t.full((2, 3), 0.5), alpha=2),
    "iadd": lambda t, x: x.__iadd__(1.5),
    "sub_": lambda t, x: x.sub_(t.arange(3.0)),
    "mul_": lambda t, x: x.mul_(3),
    "div_": lambda t, x: x.div_(4),
    "copy_": lambda t, x: x.copy_(t.arange(6.0).reshape(2, 3) * 7),
    "zero_": lambda t, x: x.zero_(),
    "fill_": lambda t, x: x.fill_(2.25),
    "fill_ tensor": lambda t, x: x.fill_(t.tensor(1.5)),
    "addcmul_": lambda t, x: x.addcmul_(t.full((2, 3), 2.0), t.arange(3.0), value=0.5),
    "addcdiv_": lambda t, x: x.addcdiv_(t.full((2, 3), 2.0), t.arange(1.0, 4.0), value=-0.5),
    "clamp_": lambda t, x: x.clamp_(min=1.0, max=4.0),
    "row view add_": lambda t, x: x[1].add_(100),
    "data mul_": lambda t, x: x.data.mul_(-1),
    "masked_fill_": lambda t, x: x.masked_fill_(x > 2, 0.0),
    "t_": lambda t, x: x.t_().add_(1),
}


@pytest.mark.parametrize("op", INPLACE_OPS.values(), ids=INPLACE_OPS.keys())
def test_inplace_ops_write_into_shared_memory(op):
    import torch
    want = torch.arange(6.0).reshape(2, 3)
    op(torch, want)
    x = ember.arange(6.0).reshape(2, 3).share_memory_()
    mirror = _mirror(x)
    op(ember, x)
    assert x.is_shared() and x.tolist() == want.tolist()
    assert (mirror.t() if mirror.shape != x.shape else mirror).tolist() == x.tolist()


def _mirrors(module):
    return [_mirror(p.detach()) for p in module.parameters()]


@pytest.mark.parametrize("make_opt", [lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
                                      lambda ps: ember.optim.Adam(ps, lr=0.1, amsgrad=True),
                                      lambda ps: ember.optim.AdamW(ps, lr=0.1),
                                      lambda ps: ember.optim.Adagrad(ps, lr=0.1)],
                         ids=["SGD", "Adam", "AdamW", "Adagrad"])
def test_optimizer_steps_and_grads_stay_shared(make_opt):
    model = ember.nn.Linear(3, 2)
    model(ember.ones(4, 3)).pow(2).sum().backward()
    model.share_memory()
    grad_mirror = _mirror(model.weight.grad)
    model(ember.ones(4, 3)).pow(2).sum().backward()  # accumulates into the shared .grad
    assert model.weight.grad.is_shared() and grad_mirror.tolist() == model.weight.grad.tolist()
    mirrors, before = _mirrors(model), [p.tolist() for p in model.parameters()]
    opt = make_opt(model.parameters())
    for _ in range(2):
        opt.step()
    for p, m, b in zip(model.parameters(), mirrors, before):
        assert p.is_shared() and p.tolist() != b and m.tolist() == p.tolist()
    opt.zero_grad(set_to_none=False)
    assert grad_mirror.abs().sum().item() == 0


def test_adagrad_share_memory_shares_its_sums():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.Adagrad([p], lr=0.1)
    opt.share_memory()
    assert opt.state[p]["sum"].is_shared()


# Hogwild: children train the parent's model through shared parameters. They run one after another on their own
# data, so the result is that of the same steps run in one process, which the test computes with torch.
_HOGWILD_STEPS = 3


def _hogwild_opt(lib, name, params):
    if name == "sgd":
        return lib.optim.SGD(params, lr=0.1, momentum=0.5)
    return lib.optim.Adam(params, lr=0.05)


def _hogwild_train(model, opt_name, x, y):
    opt = _hogwild_opt(ember, opt_name, model.parameters())
    for _ in range(_HOGWILD_STEPS):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()


def _hogwild_model(lib, weights):
    model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh(), lib.nn.Linear(3, 2))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.from_numpy(w))
    return model


@pytest.mark.parametrize("method,opt_name", [("fork", "sgd"), ("spawn", "sgd"), ("fork", "adam")])
def test_hogwild_training_updates_the_parents_model(method, opt_name):
    import torch
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (3,), (2, 3), (2,)]]
    x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    model = _hogwild_model(ember, weights)
    model.share_memory()
    ctx = mp.get_context(method)
    for k in range(2):
        child = ctx.Process(target=_hogwild_train, args=(model, opt_name, ember.from_numpy(x[4 * k:4 * k + 4]),
                                                         ember.from_numpy(y[4 * k:4 * k + 4])))
        child.start()
        child.join()
        assert child.exitcode == 0
    expected = _hogwild_model(torch, weights)
    for k in range(2):
        opt = _hogwild_opt(torch, opt_name, expected.parameters())
        for _ in range(_HOGWILD_STEPS):
            opt.zero_grad()
            torch.nn.functional.mse_loss(expected(torch.from_numpy(x[4 * k:4 * k + 4])),
                                         torch.from_numpy(y[4 * k:4 * k + 4])).backward()
            opt.step()
    for p, e, w in zip(model.parameters(), expected.parameters(), weights):
        assert p.is_shared() and not np.allclose(p.detach().numpy(), w)
        np.testing.assert_allclose(p.detach().numpy(), e.detach().numpy(), rtol=1e-5, atol=1e-6)


def _count_into_row(shared, row, barrier):
    barrier.wait()
    for _ in range(200):
        shared[row].add_(1)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_concurrent_children_write_disjoint_rows(method):
    ctx = mp.get_context(method)
    shared = ember.zeros(2, 5, dtype=ember.int64).share_memory_()  # fork copies a tensor that is not shared
    barrier = ctx.Barrier(2)
    children = [ctx.Process(target=_count_into_row, args=(shared, i, barrier)) for i in range(2)]
    for c in children:
        c.start()
    for c in children:
        c.join()
        assert c.exitcode == 0
    assert shared.tolist() == [[200] * 5, [200] * 5]


def _double_from_queue(queue, done):
    t = queue.get()
    t.mul_(2)
    done.put(t.is_shared())


def test_tensor_sent_through_a_queue_is_shared_as_torch():
    ctx = mp.get_context("fork")
    queue, done = ctx.SimpleQueue(), ctx.SimpleQueue()
    child = ctx.Process(target=_double_from_queue, args=(queue, done))
    child.start()
    t = ember.arange(3.0)
    queue.put(t)
    assert done.get() is True
    child.join()
    assert t.is_shared() and t.tolist() == [0.0, 2.0, 4.0]


def _read_from_queue(queue, results):
    results.put(queue.get().tolist())


def test_memory_outlives_the_sender_dropping_it():
    ctx = mp.get_context("fork")
    queue, results = ctx.SimpleQueue(), ctx.SimpleQueue()
    t = ember.arange(4.0)
    queue.put(t)
    del t
    gc.collect()
    child = ctx.Process(target=_read_from_queue, args=(queue, results))
    child.start()
    assert results.get() == [0.0, 1.0, 2.0, 3.0]
    child.join()


_LEAK_SCRIPT = """
import ember, ember.multiprocessing as mp
def add_one(t):
    t.add_(1)
if __name__ == "__main__":
    for method in ("spawn", "forkserver", "fork"):
        t = ember.zeros(1000).share_memory_()
        p = mp.get_context(method).Process(target=add_one, args=(t,))
        p.start()
        p.join()
        assert p.exitcode == 0 and t.sum().item() == 1000, method
    print("ok")
"""


def _shm_entries():
    """/dev/shm entries except MPI's (other test runs create those at any time)."""
    return {n for n in os.listdir("/dev/shm") if not n.startswith("mpich")} if os.path.isdir("/dev/shm") else set()


def test_shared_memory_leaves_nothing_behind(tmp_path):
    """No /dev/shm files and no resource_tracker warnings after the processes exit."""
    script = tmp_path / "hogwild_leak.py"
    script.write_text(_LEAK_SCRIPT)
    before = _shm_entries()
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__))))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout == "ok\n" and done.stderr == "", done.stderr
    assert _shm_entries() <= before
