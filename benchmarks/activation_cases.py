"""Activation and loss benchmark cases, in the format of benchmarks/cases.py: forward and forward+backward (a random
upstream gradient) of the activations and pointwise losses users hit most, on large float32 inputs.

Each maker takes the library module (ember or torch) and returns a no-arg callable.
usage: BENCH_THREADS=1 python benchmarks/run.py gelu silu relu huber
"""

import numpy as np

RNG = np.random.default_rng(0)
SHAPE = (512, 512)
X = (RNG.standard_normal(SHAPE) * 3).astype(np.float32)
Y = RNG.standard_normal(SHAPE).astype(np.float32)
G = RNG.standard_normal(SHAPE).astype(np.float32)


def _forward(call):
    """call(F, x) on a 512x512 float32 input."""
    def make(lib):
        x = lib.from_numpy(X.copy())
        return lambda: call(lib.nn.functional, x)
    return make


def _step(call):
    """call(F, x) and its backward with a random upstream gradient."""
    def make(lib):
        x = lib.from_numpy(X.copy()).requires_grad_(True)
        cols = call(lib.nn.functional, x).shape[1]
        g = lib.from_numpy(G[:, :cols].copy())

        def step():
            call(lib.nn.functional, x).backward(g)
            x.grad = None
        return step
    return make


def _loss_step(call, target):
    """A reduced loss of x against target, forward and backward."""
    def make(lib):
        x, y = lib.from_numpy(X.copy()).requires_grad_(True), lib.from_numpy(target.copy())

        def step():
            call(lib.nn.functional, x, y).backward()
            x.grad = None
        return step
    return make


ACTIVATIONS = [
    ("gelu", lambda F, x: F.gelu(x)),
    ("gelu tanh", lambda F, x: F.gelu(x, approximate="tanh")),
    ("silu", lambda F, x: F.silu(x)),
    ("relu", lambda F, x: F.relu(x)),
    ("leaky_relu", lambda F, x: F.leaky_relu(x, 0.1)),
    ("elu", lambda F, x: F.elu(x)),
    ("softplus", lambda F, x: F.softplus(x)),
    ("mish", lambda F, x: F.mish(x)),
    ("hardswish", lambda F, x: F.hardswish(x)),
    ("glu", lambda F, x: F.glu(x, -1)),
]
LOSSES = [
    ("mse_loss", lambda F, x, y: F.mse_loss(x, y), Y),
    ("huber_loss", lambda F, x, y: F.huber_loss(x, y), Y),
    ("smooth_l1_loss", lambda F, x, y: F.smooth_l1_loss(x, y), Y),
    ("binary_cross_entropy_with_logits", lambda F, x, y: F.binary_cross_entropy_with_logits(x, y),
     (Y > 0).astype(np.float32)),
]

ALL = ([(f"{name} fwd 512x512", _forward(call)) for name, call in ACTIVATIONS]
       + [(f"{name} fwd+bwd 512x512", _step(call)) for name, call in ACTIVATIONS]
       + [(f"{name} fwd+bwd 512x512", _loss_step(call, y)) for name, call, y in LOSSES])
