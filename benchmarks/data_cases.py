"""Data-pipeline benchmark cases (random init, checkpoints, DataLoader epochs), in the format of benchmarks/cases.py.

Each maker takes the library module (ember or torch) and returns a no-arg callable.
usage: BENCH_THREADS=1 python benchmarks/run.py data: init: ckpt: random:
"""
import io
import os
import tempfile

import numpy as np

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((10000, 32)).astype(np.float32), RNG.integers(0, 10, 10000)
STATE = {f"layer{i}.weight": RNG.standard_normal(1_000_000).astype(np.float32) for i in range(25)}  # 100 MB
SMALL_STATE = {f"layer{i}.weight": RNG.standard_normal(16).astype(np.float32) for i in range(2000)}
CKPT_DIR = tempfile.mkdtemp(prefix="ember-bench-")


def sampler(fn):
    """A maker calling fn(lib) each time (a random factory or an in-place fill of a preallocated tensor)."""
    return lambda lib: lambda: fn(lib)


def filler(fill, shape=(512, 512)):
    """A maker filling one preallocated float32 tensor in place."""
    def make(lib):
        w = lib.empty(*shape)
        return lambda: fill(lib, w)
    return make


def _state(lib, arrays):
    return {k: lib.from_numpy(v) for k, v in arrays.items()}


def save_file(arrays):
    def make(lib):
        sd, path = _state(lib, arrays), os.path.join(CKPT_DIR, f"save-{lib.__name__}.pt")
        return lambda: lib.save(sd, path)
    return make


def load_file(arrays, **kwargs):
    def make(lib):
        path = os.path.join(CKPT_DIR, f"load-{lib.__name__}-{len(arrays)}.pt")
        lib.save(_state(lib, arrays), path)
        return lambda: lib.load(path, **kwargs)
    return make


def save_load_bytes(arrays):
    def make(lib):
        sd = _state(lib, arrays)

        def step():
            buf = io.BytesIO()
            lib.save(sd, buf)
            buf.seek(0)
            lib.load(buf)
        return step
    return make


class _Rows:
    """A map-style dataset returning (x[i], y[i]) tensors, as user datasets typically do."""

    def __init__(self, lib):
        self.x, self.y = lib.from_numpy(X), lib.from_numpy(Y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def epoch(make_ds, **kwargs):
    """One pass over a DataLoader (batch 64 unless given)."""
    def make(lib):
        loader = lib.utils.data.DataLoader(make_ds(lib), **{"batch_size": 64, **kwargs})

        def run():
            for _ in loader:
                pass
        return run
    return make


def _tensor_ds(lib):
    return lib.utils.data.TensorDataset(lib.from_numpy(X), lib.from_numpy(Y))


ALL = [
    ("random: randn 512x512 float32", sampler(lambda lib: lib.randn(512, 512))),
    ("random: rand 512x512 float32", sampler(lambda lib: lib.rand(512, 512))),
    ("random: normal_ in place 512x512", filler(lambda lib, w: w.normal_(0.0, 0.02))),
    ("random: randint 512x512", sampler(lambda lib: lib.randint(0, 1000, (512, 512)))),
    ("random: randperm 10000", sampler(lambda lib: lib.randperm(10000))),
    ("random: tensor(nested list 256x256)", lambda lib: (lambda rows: lambda: lib.tensor(rows))(
        X[:256 * 8].reshape(256, 256).tolist())),
    ("random: linspace 4096", sampler(lambda lib: lib.linspace(-1.0, 1.0, 4096))),
    ("init: kaiming_uniform_ 512x512", filler(lambda lib, w: lib.nn.init.kaiming_uniform_(w, a=5 ** 0.5))),
    ("init: kaiming_normal_ 512x512", filler(lambda lib, w: lib.nn.init.kaiming_normal_(w))),
    ("init: trunc_normal_ std=0.02 512x512", filler(lambda lib, w: lib.nn.init.trunc_normal_(w, std=0.02))),
    ("init: orthogonal_ 256x256", filler(lambda lib, w: lib.nn.init.orthogonal_(w), (256, 256))),
    ("ckpt: save 100 MB state_dict to a file", save_file(STATE)),
    ("ckpt: load 100 MB state_dict from a file", load_file(STATE)),
    ("ckpt: save+load 2000 small tensors, BytesIO", save_load_bytes(SMALL_STATE)),
    ("data: TensorDataset epoch, batch 64, shuffle", epoch(_tensor_ds, shuffle=True)),
    ("data: map-style (x[i], y[i]) epoch, batch 64, shuffle", epoch(_Rows, shuffle=True)),
    ("data: TensorDataset epoch, 2 workers", epoch(_tensor_ds, num_workers=2)),
]
