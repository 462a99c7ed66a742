"""How far small multi-call ops can go on NumPy: the NumPy calls each op's forward makes in ember on a 4x4 float32
input (row sums as BLAS products with a matrix of ones or 1/n, the few range checks in Python), with no other Python
around them, against PyTorch's and ember's whole op with requires_grad (single-threaded). ember minus the floor is
ember's Python: argument handling, dispatch and recording the graph node.

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
ONES = np.ones((4, 4), np.float32)
MEANS = np.full((4, 4), 0.25, np.float32)
COLUMN = np.ones((4, 1), np.float32)
THIRDS = np.full((4, 1), 1 / 3, np.float32)


def _classes_checked():
    v = T.tolist()
    return min(v) >= 0 and max(v) < 4


def _sums_checked(s):
    v = s[:, 0].tolist()
    return 2.0 ** -30 <= min(v) and max(v) <= 2.0 ** 60


def _floor_softmax():
    e = np.exp(X)
    s = e.dot(ONES)
    _sums_checked(s)
    return np.multiply(e, np.reciprocal(s, out=s), out=e)


def _floor_var():
    d = X.dot(MEANS)
    np.subtract(X, d, out=d)
    np.multiply(d, d, out=d)
    return d.dot(THIRDS)[:, 0]


def _floor_layer_norm():
    mean = X.dot(MEANS)
    xhat = np.subtract(X, mean)
    var = np.multiply(xhat, xhat).dot(MEANS)
    rstd = np.add(var, 1e-5)
    np.sqrt(rstd, out=rstd)
    np.reciprocal(rstd, out=rstd)
    xhat *= rstd
    return xhat.copy(), mean[:, :1], var[:, :1]


def _floor_nll():
    _classes_checked()
    losses = np.negative(X[ROWS, T])
    return np.asarray(losses.dot(COLUMN)[0] / np.float32(4))


def _floor_cross_entropy():
    _classes_checked()
    e = np.exp(X)
    s = e.dot(ONES)
    _sums_checked(s)
    losses = np.subtract(np.log(s[:, 0]), X[ROWS, T])
    return np.asarray(losses.dot(COLUMN)[0] / np.float32(4))


def _floor_cat():
    return np.concatenate([X, X], axis=0)


def _floor_max1():
    i = X.argmax(1, keepdims=True)
    return X[ROWS, i[:, 0]], i[:, 0].copy()


CASES = [
    ("softmax(x, 1)", _floor_softmax, lambda L, x, t: L.softmax(x, 1)),
    ("var(1)", _floor_var, lambda L, x, t: x.var(1)),
    ("layer_norm", _floor_layer_norm, lambda L, x, t: L.nn.functional.layer_norm(x, (4,))),
    ("nll_loss", _floor_nll, lambda L, x, t: L.nn.functional.nll_loss(x, t)),
    ("cross_entropy", _floor_cross_entropy, lambda L, x, t: L.nn.functional.cross_entropy(x, t)),
    ("cat", _floor_cat, lambda L, x, t: L.cat([x, x])),
    ("max(1)", _floor_max1, lambda L, x, t: x.max(1)),
]


def _best(fn, number=20000):
    return min(timeit.repeat(fn, number=number, repeat=15)) / number


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
