"""How far small multi-call ops can go on NumPy: the bare NumPy calls each op's forward needs on a 4x4 float32
input (no Python around them), against PyTorch's and ember's whole op with requires_grad (single-threaded).

usage: python benchmarks/numpy_floors.py
A floor/PyTorch ratio above 1 means no NumPy implementation of the op can match PyTorch at this size.
"""
import os
import sys
import timeit

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ember  # noqa: E402

X = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
T = np.array([0, 3, 1, 2])
ROWS = np.arange(4)


def _floor_softmax():
    e = np.subtract(X, np.maximum.reduce(X, 1, keepdims=True))
    np.exp(e, out=e)
    return np.multiply(e, 1 / np.add.reduce(e, 1, keepdims=True), out=e)


def _floor_var():
    d = np.subtract(X, np.add.reduce(X, 1, keepdims=True) / 4)
    return np.add.reduce(np.multiply(d, d), 1) / 3


def _floor_nll():
    np.maximum.reduce(T.view(np.uint64))  # the target range check
    return np.add.reduce(np.negative(X[ROWS, T])) / np.float32(4)


def _floor_cross_entropy():
    np.maximum.reduce(T.view(np.uint64))
    d = np.subtract(X, np.maximum.reduce(X, 1, keepdims=True))
    s = np.add.reduce(np.exp(d), 1, keepdims=True)
    p = d[ROWS, T]
    p -= np.log(s[:, 0])
    return np.add.reduce(np.negative(p)) / np.float32(4)


def _floor_cat():
    return np.concatenate([X, X], axis=0)


def _floor_max1():
    i = X.argmax(1, keepdims=True)
    return X[ROWS, i[:, 0]], i[:, 0].copy()


CASES = [
    ("softmax(x, 1)", _floor_softmax, lambda L, x, t: L.softmax(x, 1)),
    ("var(1)", _floor_var, lambda L, x, t: x.var(1)),
    ("nll_loss", _floor_nll, lambda L, x, t: L.nn.functional.nll_loss(x, t)),
    ("cross_entropy", _floor_cross_entropy, lambda L, x, t: L.nn.functional.cross_entropy(x, t)),
    ("cat", _floor_cat, lambda L, x, t: L.cat([x, x])),
    ("max(1)", _floor_max1, lambda L, x, t: x.max(1)),
]


def _best(fn, number=20000):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main():
    torch.set_num_threads(1)
    print(f"{'op (4x4 float32)':20s} {'NumPy floor':>12s} {'PyTorch':>9s} {'ember':>9s} {'floor/PyTorch':>14s}")
    for name, floor, op in CASES:
        timings = [_best(floor)]
        for lib in (torch, ember):
            x, t = lib.from_numpy(X.copy()).requires_grad_(True), lib.from_numpy(T.copy())
            timings.append(_best(lambda: op(lib, x, t)))
        f, tt, e = (s * 1e6 for s in timings)
        print(f"{name:20s} {f:10.1f}us {tt:7.1f}us {e:7.1f}us {f / tt:14.2f}")


if __name__ == "__main__":
    main()
