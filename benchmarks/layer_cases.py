"""Layer benchmark cases (cross-entropy, batch/layer norm, embedding, softmax), in the format of benchmarks/cases.py.

Each maker takes the library module (ember or torch) and returns a no-arg callable; norm layers run in training mode.
usage: BENCH_THREADS=1 python benchmarks/run.py cross_entropy BatchNorm2d LayerNorm GroupNorm Embedding softmax
"""

import numpy as np

RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _t(lib, a, grad=False):
    t = lib.from_numpy(a.copy())
    return t.requires_grad_(True) if grad else t


def cross_entropy_step(lib):
    """F.cross_entropy forward+backward on (128, 1000) logits."""
    x_arr, y_arr = _arr(128, 1000), RNG.integers(0, 1000, 128)
    x, y = _t(lib, x_arr, True), lib.from_numpy(y_arr.copy())

    def step():
        lib.nn.functional.cross_entropy(x, y).backward()
        x.grad = None
    return step


def _norm_step(build, shape):
    """build(lib) in training mode, forward + backward of a random upstream gradient."""
    x_arr, g_arr = _arr(*shape), _arr(*shape)

    def make(lib):
        m = build(lib).train()
        x, g = _t(lib, x_arr, True), _t(lib, g_arr)

        def step():
            m(x).backward(g)
            x.grad = None
            for p in m.parameters():
                p.grad = None
        return step
    return make


def embedding_backward(lib):
    """Embedding(50000, 128) lookup of 4096 indices, backward of a random upstream gradient."""
    idx_arr, g_arr = RNG.integers(0, 50000, 4096), _arr(4096, 128)
    m = lib.nn.Embedding(50000, 128)
    idx, g = lib.from_numpy(idx_arr.copy()), _t(lib, g_arr)

    def step():
        m(idx).backward(g)
        m.weight.grad = None
    return step


def softmax_forward(lib):
    x = _t(lib, _arr(256, 1000))
    return lambda: lib.softmax(x, 1)


ALL = [
    ("cross_entropy fwd+bwd 128x1000", cross_entropy_step),
    ("BatchNorm2d train fwd+bwd 32x64x32x32", _norm_step(lambda lib: lib.nn.BatchNorm2d(64), (32, 64, 32, 32))),
    ("BatchNorm2d train fwd+bwd 32x256x14x14", _norm_step(lambda lib: lib.nn.BatchNorm2d(256), (32, 256, 14, 14))),
    ("LayerNorm fwd+bwd 16x64x512", _norm_step(lambda lib: lib.nn.LayerNorm(512), (16, 64, 512))),
    ("LayerNorm fwd+bwd 32x128x768", _norm_step(lambda lib: lib.nn.LayerNorm(768), (32, 128, 768))),
    ("GroupNorm(8, 64) fwd+bwd 8x64x32x32", _norm_step(lambda lib: lib.nn.GroupNorm(8, 64), (8, 64, 32, 32))),
    ("GroupNorm(32, 128) fwd+bwd 16x128x16x16", _norm_step(lambda lib: lib.nn.GroupNorm(32, 128), (16, 128, 16, 16))),
    ("Embedding bwd 50000x128, 4096 indices", embedding_backward),
    ("softmax 256x1000", softmax_forward),
]
CASES = ALL
