"""Sequence-model benchmark cases (recurrent layers, Transformer), in the format of benchmarks/cases.py.

Each maker takes the library module (ember or torch) and returns a no-arg callable doing one forward+backward
(or training step). Weights are copied from one seeded draw so both libraries compute the same numbers.
Run with the shared driver: python benchmarks/run.py LSTM GRU Transformer
"""

import numpy as np

RNG = np.random.default_rng(0)
T, B = 50, 32


def _arr(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _t(lib, a, grad=False):
    t = lib.from_numpy(a.copy())
    return t.requires_grad_(True) if grad else t


def _seeded(lib, build):
    """build(lib) with parameters drawn from one NumPy stream (the same values in both libraries)."""
    model = build(lib)
    rng = np.random.default_rng(1)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.from_numpy((rng.uniform(-0.1, 0.1, tuple(p.shape))).astype(np.float32)))
    return model


def _zero_grads(model, *tensors):
    for p in model.parameters():
        p.grad = None
    for t in tensors:
        t.grad = None


def recurrent_step(cls):
    """2-layer cls(64, 128) on a (50, 32, 64) batch: forward, backward of a random projection of the output."""
    x_arr, g_arr = _arr(T, B, 64), _arr(T, B, 128)

    def make(lib):
        model = _seeded(lib, lambda m: getattr(m.nn, cls)(64, 128, num_layers=2))
        x, g = _t(lib, x_arr, True), _t(lib, g_arr)

        def step():
            out, _ = model(x)
            out.backward(g)
            _zero_grads(model, x)
        return step
    return make


def gru_classifier_step(lib):
    """Embedding(1000, 64) + GRU(64, 128) + Linear(128, 10) on the last step; cross_entropy; SGD-free step."""
    tokens = np.random.default_rng(2).integers(0, 1000, (B, T))
    labels = np.random.default_rng(3).integers(0, 10, B)

    class Classifier(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = lib.nn.Embedding(1000, 64)
            self.rnn = lib.nn.GRU(64, 128, batch_first=True)
            self.head = lib.nn.Linear(128, 10)

        def forward(self, ids):
            out, _ = self.rnn(self.emb(ids))
            return self.head(out[:, -1])

    model = _seeded(lib, lambda m: Classifier())
    ids, y = lib.from_numpy(tokens.copy()), lib.from_numpy(labels.copy())

    def step():
        loss = lib.nn.functional.cross_entropy(model(ids), y)
        loss.backward()
        _zero_grads(model)
    return step


def encoder_layer_step(lib):
    """TransformerEncoderLayer(128, 4, 512), batch 16 x length 64, batch_first, dropout off: forward+backward."""
    x_arr, g_arr = _arr(16, 64, 128), _arr(16, 64, 128)
    model = _seeded(lib, lambda m: m.nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True))
    x, g = _t(lib, x_arr, True), _t(lib, g_arr)

    def step():
        model(x).backward(g)
        _zero_grads(model, x)
    return step


CASES = [
    ("LSTM 2x(64->128) T=50 B=32 fwd+bwd", recurrent_step("LSTM")),
    ("GRU 2x(64->128) T=50 B=32 fwd+bwd", recurrent_step("GRU")),
    ("Embedding+GRU+Linear classifier step (CE, B=32, T=50)", gru_classifier_step),
    ("TransformerEncoderLayer(128, 4, 512) B=16 L=64 fwd+bwd", encoder_layer_step),
]
