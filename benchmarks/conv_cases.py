"""Convolution, pooling and interpolate benchmark cases, in the format of benchmarks/cases.py.

Each maker takes the library module (ember or torch) and returns a no-arg callable doing one forward+backward with
a fixed random upstream gradient; inputs and weights are the same float32 arrays in both libraries.
run through the one driver: python benchmarks/run.py conv pool interp   (prints ember/PyTorch time ratios)
"""

import numpy as np

RNG = np.random.default_rng(0)


def _arr(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _t(lib, a, grad=False):
    t = lib.from_numpy(a.copy())
    return t.requires_grad_(True) if grad else t


def conv_step(fn, x_shape, w_shape, out_shape, input_grad=True, **kw):
    """F.<fn>(x, w, b, **kw) forward+backward; the input needs a gradient unless it is the data (input_grad)."""
    x_arr, w_arr = _arr(*x_shape), _arr(*w_shape, scale=0.1)
    b_arr = _arr(w_shape[1] * kw.get("groups", 1) if fn.startswith("conv_transpose") else w_shape[0])
    g_arr = _arr(*out_shape)

    def make(lib):
        x, w, b, g = _t(lib, x_arr, input_grad), _t(lib, w_arr, True), _t(lib, b_arr, True), _t(lib, g_arr)
        conv = getattr(lib.nn.functional, fn)

        def step():
            conv(x, w, b, **kw).backward(g)
            x.grad = w.grad = b.grad = None
        return step
    return make


def pool_step(fn, x_shape, out_shape, *args, **kw):
    """F.<fn>(x, *args, **kw) forward+backward (pooling, interpolate)."""
    x_arr, g_arr = _arr(*x_shape), _arr(*out_shape)

    def make(lib):
        x, g = _t(lib, x_arr, True), _t(lib, g_arr)
        pool = getattr(lib.nn.functional, fn)

        def step():
            pool(x, *args, **kw).backward(g)
            x.grad = None
        return step
    return make


CASES = [
    ("conv2d LeNet-1 B=64 3->6 5x5 on 32x32 (data input) fwd+bwd",
     conv_step("conv2d", (64, 3, 32, 32), (6, 3, 5, 5), (64, 6, 28, 28), input_grad=False)),
    ("conv2d LeNet-2 B=64 6->16 5x5 on 14x14 fwd+bwd",
     conv_step("conv2d", (64, 6, 14, 14), (16, 6, 5, 5), (64, 16, 10, 10))),
    ("conv2d ResNet B=32 32->32 3x3 p1 on 32x32 fwd+bwd",
     conv_step("conv2d", (32, 32, 32, 32), (32, 32, 3, 3), (32, 32, 32, 32), padding=1)),
    ("conv1d B=32 64->64 k5 p2 L=256 fwd+bwd",
     conv_step("conv1d", (32, 64, 256), (64, 64, 5), (32, 64, 256), padding=2)),
    ("conv_transpose2d B=16 32->16 k4 s2 p1 16x16 fwd+bwd",
     conv_step("conv_transpose2d", (16, 32, 16, 16), (32, 16, 4, 4), (16, 16, 32, 32), stride=2, padding=1)),
    ("max_pool2d B=32 C=32 32x32 k2 s2 fwd+bwd",
     pool_step("max_pool2d", (32, 32, 32, 32), (32, 32, 16, 16), 2, 2)),
    ("max_pool2d B=32 C=32 32x32 k3 s2 p1 fwd+bwd",
     pool_step("max_pool2d", (32, 32, 32, 32), (32, 32, 16, 16), 3, 2, 1)),
    ("avg_pool2d B=32 C=32 32x32 k2 s2 fwd+bwd",
     pool_step("avg_pool2d", (32, 32, 32, 32), (32, 32, 16, 16), 2, 2)),
    ("avg_pool2d B=32 C=32 32x32 k3 s2 p1 fwd+bwd",
     pool_step("avg_pool2d", (32, 32, 32, 32), (32, 32, 16, 16), 3, 2, 1)),
    ("interpolate bilinear x2 B=16 C=32 32x32 fwd+bwd",
     pool_step("interpolate", (16, 32, 32, 32), (16, 32, 64, 64), scale_factor=2, mode="bilinear")),
    ("interpolate nearest x2 B=16 C=32 32x32 fwd+bwd",
     pool_step("interpolate", (16, 32, 32, 32), (16, 32, 64, 64), scale_factor=2, mode="nearest")),
]
