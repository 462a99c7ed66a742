"""Optimizer-step benchmark cases, in the format of benchmarks/cases.py.

Each maker takes the library module (ember or torch) and returns a no-arg callable doing one optimizer step over a
10M-parameter model (10 float32 tensors of 1M elements, gradients already set). Values are drawn once from a seeded
NumPy stream, so both libraries update the same numbers.
usage: python -m benchmarks.optim_cases [NAME-SUBSTRING ...]   (prints ember/PyTorch time ratios)
"""

import numpy as np

N_TENSORS, SIZE = 10, 1_000_000
RNG = np.random.default_rng(0)
PARAMS = [RNG.standard_normal(SIZE).astype(np.float32) for _ in range(N_TENSORS)]
GRADS = [RNG.standard_normal(SIZE).astype(np.float32) for _ in range(N_TENSORS)]


SMALL = ([RNG.standard_normal((64, 64)).astype(np.float32) for _ in range(200)],
         [RNG.standard_normal((64, 64)).astype(np.float32) for _ in range(200)])


def optimizer_step(name, model=(PARAMS, GRADS), **kwargs):
    """A maker: `name` optimizer over `model` (values, grads; default the 10M-parameter one); a call is one step()."""
    def make(lib):
        params = [lib.from_numpy(p.copy()).requires_grad_(True) for p in model[0]]
        for p, g in zip(params, model[1]):
            p.grad = lib.from_numpy(g.copy())
        opt = getattr(lib.optim, name)(params, **kwargs)
        opt.step()  # lazily created state is not part of the measured step
        return opt.step
    return make


CASES = [
    ("optim: Adam step, 10x1M float32", optimizer_step("Adam", lr=1e-3)),
    ("optim: SGD momentum step, 10x1M float32", optimizer_step("SGD", lr=1e-3, momentum=0.9)),
    ("optim: AdamW step, 10x1M float32", optimizer_step("AdamW", lr=1e-3)),
    ("optim: SGD nesterov+wd step, 10x1M float32", optimizer_step("SGD", lr=1e-3, momentum=0.9, nesterov=True,
                                                                  weight_decay=1e-4)),
    ("optim: RMSprop step, 10x1M float32", optimizer_step("RMSprop", lr=1e-3)),
    ("optim: Adagrad step, 10x1M float32", optimizer_step("Adagrad", lr=1e-3)),
    ("optim: Adam amsgrad step, 10x1M float32", optimizer_step("Adam", lr=1e-3, amsgrad=True)),
    ("optim: NAdam step, 10x1M float32", optimizer_step("NAdam", lr=1e-3)),
    ("optim: Adam step, 200 params of 64x64", optimizer_step("Adam", lr=1e-3, model=SMALL)),
    ("optim: SGD momentum step, 200 params of 64x64", optimizer_step("SGD", lr=1e-3, momentum=0.9, model=SMALL)),
    ("optim: OneCycleLR + SGD step, 1 param", lambda lib: _scheduled_step(lib)),
]


def _scheduled_step(lib):
    """Per-step overhead of an LR scheduler and the optimizer it drives (one 4x4 parameter)."""
    p = lib.zeros(4, 4, requires_grad=True)
    p.grad = lib.ones(4, 4)
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10 ** 9)

    def step():
        opt.step()
        sched.step()
    return step
