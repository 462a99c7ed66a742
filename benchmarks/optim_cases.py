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


def optimizer_step(name, **kwargs):
    """A maker: `name` optimizer over the 10M-parameter model; each call is one step()."""
    def make(lib):
        params = [lib.from_numpy(p.copy()).requires_grad_(True) for p in PARAMS]
        for p, g in zip(params, GRADS):
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
]
