"""Reduction and indexing benchmark cases (sums, norms, scans, top-k, gather/scatter, index_add), in the format of
benchmarks/cases.py: large float32 inputs, forward alone and forward + backward of a random upstream gradient.

Each maker takes the library module (ember or torch) and returns a no-arg callable.
usage: BENCH_THREADS=1 python benchmarks/run.py "reduce:"
"""

import numpy as np

RNG = np.random.default_rng(0)
N = 512
X = RNG.standard_normal((N, N)).astype(np.float32)
SRC = RNG.standard_normal((N, N)).astype(np.float32)
NEAR1 = (1 + 1e-3 * RNG.standard_normal((N, N))).astype(np.float32)
IDX = RNG.integers(0, N, (N, N))
ROWS = RNG.integers(0, N, N)


def _case(op, data=X, ints=()):
    """Makers for op(lib, x, *ints) forward, and forward + backward of a fixed random upstream gradient into x."""
    def forward(lib):
        x = lib.from_numpy(data.copy())
        extra = [lib.from_numpy(a.copy()) for a in ints]
        return lambda: op(lib, x, *extra)

    def step(lib):
        x = lib.from_numpy(data.copy()).requires_grad_(True)
        extra = [lib.from_numpy(a.copy()) for a in ints]
        shape = tuple(op(lib, x.detach(), *extra).shape)
        g = lib.from_numpy(RNG.standard_normal(shape).astype(np.float32))

        def run():
            op(lib, x, *extra).backward(g)
            x.grad = None
        return run
    return forward, step


_OPS = [
    ("sum()", lambda L, x: x.sum().reshape(1), X, ()),
    ("mean(1)", lambda L, x: x.mean(1), X, ()),
    ("prod(1)", lambda L, x: x.prod(1), NEAR1, ()),
    ("norm(dim=1)", lambda L, x: x.norm(dim=1), X, ()),
    ("logsumexp(1)", lambda L, x: L.logsumexp(x, 1), X, ()),
    ("cumsum(1)", lambda L, x: x.cumsum(1), X, ()),
    ("cumsum(0)", lambda L, x: x.cumsum(0), X, ()),
    ("cumprod(1)", lambda L, x: x.cumprod(1), NEAR1, ()),
    ("topk(5, 1)", lambda L, x: x.topk(5, 1).values, X, ()),
    ("median(1)", lambda L, x: x.median(1).values, X, ()),
    ("gather(1)", lambda L, x, i: x.gather(1, i), X, (IDX,)),
    ("scatter_add(1)", lambda L, x, i, s: x.scatter_add(1, i, s), X, (IDX, SRC)),
    ("scatter_reduce(1, amax)", lambda L, x, i, s: x.scatter_reduce(1, i, s, "amax"), X, (IDX, SRC)),
    ("index_select(0)", lambda L, x, j: x.index_select(0, j), X, (ROWS,)),
    ("index_add(0)", lambda L, x, j, s: x.index_add(0, j, s), X, (ROWS, SRC)),
    ("x[rows]", lambda L, x, j: x[j], X, (ROWS,)),
]

ALL = []
for _name, _op, _data, _ints in _OPS:
    _fwd, _step = _case(_op, _data, _ints)
    ALL.append((f"reduce: {_name} fwd {N}x{N}", _fwd))
    ALL.append((f"reduce: {_name} fwd+bwd {N}x{N}", _step))
CASES = ALL
