"""Elementwise and special-function benchmark cases on large float32 tensors, in the format of layer_cases.py.

Each maker takes the library module (ember or torch) and returns a no-arg callable; "fwd+bwd" cases run backward of
a random upstream gradient into a leaf that requires grad.
usage: BENCH_THREADS=1 python benchmarks/run.py "ew "
"""

import numpy as np

RNG = np.random.default_rng(0)
SHAPE = (512, 512)
X = RNG.standard_normal(SHAPE).astype(np.float32)
Y = RNG.standard_normal(SHAPE).astype(np.float32)
POS = np.abs(X) + 0.1
UNIT = np.clip(X / 4, -0.99, 0.99)
G = RNG.standard_normal(SHAPE).astype(np.float32)


def forward(fn, *arrays):
    """fn(lib, *tensors) on copies of arrays."""
    def make(lib):
        ts = [lib.from_numpy(a.copy()) for a in arrays]
        return lambda: fn(lib, *ts)
    return make


def fwd_bwd(fn, *arrays):
    """fn(lib, *leaves) then backward of the random upstream gradient G."""
    def make(lib):
        ts = [lib.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
        g = lib.from_numpy(G.copy())

        def step():
            fn(lib, *ts).backward(g)
            for t in ts:
                t.grad = None
        return step
    return make


OPS = [
    ("sigmoid", lambda L, x: L.sigmoid(x), (X,)),
    ("erf", lambda L, x: L.erf(x), (X,)),
    ("erfc", lambda L, x: L.erfc(x), (X,)),
    ("erfinv", lambda L, x: L.erfinv(x), (UNIT,)),
    ("expm1", lambda L, x: L.expm1(x), (X,)),
    ("log1p", lambda L, x: L.log1p(x), (POS,)),
    ("atan", lambda L, x: L.atan(x), (X,)),
    ("x ** 3", lambda L, x: x ** 3, (X,)),
    ("x ** 0.5", lambda L, x: x ** 0.5, (POS,)),
    ("clamp(-0.5, 0.5)", lambda L, x: x.clamp(-0.5, 0.5), (X,)),
    ("remainder", lambda L, x, y: L.remainder(x, y), (X, POS)),
    ("atan2", lambda L, x, y: L.atan2(x, y), (X, Y)),
    ("logaddexp", lambda L, x, y: L.logaddexp(x, y), (X, Y)),
    ("lerp(w=0.3)", lambda L, x, y: L.lerp(x, y, 0.3), (X, Y)),
    ("nan_to_num", lambda L, x: L.nan_to_num(x), (X,)),
]

ALL = [(f"ew {name} fwd 512x512", forward(fn, *arrays)) for name, fn, arrays in OPS] + \
      [(f"ew {name} fwd+bwd 512x512", fwd_bwd(fn, *arrays)) for name, fn, arrays in OPS] + \
      [("ew x // y fwd 512x512", forward(lambda L, x, y: x // y, X, POS))]
