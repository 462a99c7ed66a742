"""Convolution, pooling, interpolate, padding and vision benchmark cases, in the format of benchmarks/cases.py.

Each maker takes the library module (ember or torch) and returns a no-arg callable doing one forward+backward with
a fixed random upstream gradient (or, for "fwd" cases, one forward of inputs that need no gradient); inputs and
weights are the same float32 arrays in both libraries.
run through the one driver: python benchmarks/run.py conv pool interp pad grid   (prints ember/PyTorch time ratios)
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


def forward_only(fn, *shapes, **kw):
    """F.<fn>(*inputs, **kw) forward on inputs that need no gradient (inference)."""
    arrs = [_arr(*sh) for sh in shapes]

    def make(lib):
        ins = [_t(lib, a) for a in arrs]
        f = getattr(lib.nn.functional, fn)
        return lambda: f(*ins, **kw)
    return make


def grid_step(x_shape, grid_shape, **kw):
    """F.grid_sample forward+backward, gradients for both the input and the grid."""
    x_arr, grid_arr = _arr(*x_shape), (_arr(*grid_shape) * 0.6).astype(np.float32)
    g_arr = _arr(*x_shape[:2], *grid_shape[1:-1])

    def make(lib):
        x, grid, g = _t(lib, x_arr, True), _t(lib, grid_arr, True), _t(lib, g_arr)

        def step():
            lib.nn.functional.grid_sample(x, grid, **kw).backward(g)
            x.grad = grid.grad = None
        return step
    return make


def bag_step(n_rows, dim, n_idx, bag, mode):
    """F.embedding_bag forward+backward over n_idx indices in bags of `bag`."""
    w_arr = _arr(n_rows, dim)
    idx = RNG.integers(0, n_rows, n_idx)
    g_arr = _arr(n_idx // bag, dim)

    def make(lib):
        w, g = _t(lib, w_arr, True), _t(lib, g_arr)
        ix, offs = lib.from_numpy(idx.copy()), lib.from_numpy(np.arange(0, n_idx, bag))

        def step():
            lib.nn.functional.embedding_bag(ix, w, offs, mode=mode).backward(g)
            w.grad = None
        return step
    return make


MORE_CASES = [
    ("conv2d ResNet B=32 32->32 3x3 p1 on 32x32 fwd",
     forward_only("conv2d", (32, 32, 32, 32), (32, 32, 3, 3), padding=1)),
    ("conv2d depthwise B=16 C=64 3x3 p1 on 32x32 fwd+bwd",
     conv_step("conv2d", (16, 64, 32, 32), (64, 1, 3, 3), (16, 64, 32, 32), padding=1, groups=64)),
    ("conv2d grouped B=16 32->32 g4 3x3 p1 on 32x32 fwd+bwd",
     conv_step("conv2d", (16, 32, 32, 32), (32, 8, 3, 3), (16, 32, 32, 32), padding=1, groups=4)),
    ("conv3d B=8 8->16 3x3x3 p1 on 16^3 fwd+bwd",
     conv_step("conv3d", (8, 8, 16, 16, 16), (16, 8, 3, 3, 3), (8, 16, 16, 16, 16), padding=1)),
    ("max_pool2d B=32 C=32 32x32 k3 s2 p1 fwd",
     forward_only("max_pool2d", (32, 32, 32, 32), kernel_size=3, stride=2, padding=1)),
    ("max_pool1d B=32 C=64 L=512 k3 s2 p1 fwd",
     forward_only("max_pool1d", (32, 64, 512), kernel_size=3, stride=2, padding=1)),
    ("adaptive_avg_pool2d global B=32 C=32 32x32 fwd+bwd",
     pool_step("adaptive_avg_pool2d", (32, 32, 32, 32), (32, 32, 1, 1), 1)),
    ("adaptive_avg_pool2d 32x32->7x7 fwd+bwd",
     pool_step("adaptive_avg_pool2d", (32, 32, 32, 32), (32, 32, 7, 7), 7)),
    ("adaptive_max_pool2d global B=32 C=32 32x32 fwd+bwd",
     pool_step("adaptive_max_pool2d", (32, 32, 32, 32), (32, 32, 1, 1), 1)),
    ("adaptive_max_pool2d 32x32->8x8 fwd+bwd",
     pool_step("adaptive_max_pool2d", (32, 32, 32, 32), (32, 32, 8, 8), 8)),
    ("fractional_max_pool2d k2 32x32->16x16 fwd+bwd",
     pool_step("fractional_max_pool2d", (32, 32, 32, 32), (32, 32, 16, 16), 2, output_size=16)),
    ("pad reflect 2 B=16 C=32 32x32 fwd+bwd",
     pool_step("pad", (16, 32, 32, 32), (16, 32, 36, 36), (2, 2, 2, 2), mode="reflect")),
    ("pad replicate 1 B=4 C=16 16^3 fwd+bwd",
     pool_step("pad", (4, 16, 16, 16, 16), (4, 16, 18, 18, 18), (1,) * 6, mode="replicate")),
    ("grid_sample bilinear B=16 C=32 32x32 fwd+bwd",
     grid_step((16, 32, 32, 32), (16, 32, 32, 2), align_corners=False)),
    ("grid_sample nearest B=16 C=32 32x32 fwd+bwd",
     grid_step((16, 32, 32, 32), (16, 32, 32, 2), mode="nearest", align_corners=False)),
    ("embedding_bag sum 4096 idx bags of 16 fwd+bwd", bag_step(1000, 64, 4096, 16, "sum")),
    ("embedding_bag mean 4096 idx bags of 16 fwd+bwd", bag_step(1000, 64, 4096, 16, "mean")),
]

ALL = CASES + MORE_CASES
