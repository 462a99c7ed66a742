"""Benchmark cases: each maker takes the library module (ember or torch) and returns a no-arg callable."""
import numpy as np

RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _t(lib, a, grad=False):
    t = lib.from_numpy(a.copy())
    return t.requires_grad_(True) if grad else t


def small_binary(op):
    def make(lib):
        a, b = _t(lib, _arr(4, 4)), _t(lib, _arr(4, 4))
        return lambda: op(a, b)
    return make


def small_unary(op):
    def make(lib):
        a = _t(lib, _arr(4, 4))
        return lambda: op(a)
    return make


def small_graph(lib):
    """A tiny forward+backward: per-op overhead with autograd on."""
    x, w = _t(lib, _arr(4, 8), True), _t(lib, _arr(8, 4), True)

    def step():
        y = (x @ w).tanh()
        (y * y + 1).sum().backward()
        x.grad = None
        w.grad = None
    return step


def small_chain(lib):
    """Forty small ops (mul by a tensor, tanh, two views, ten times) forward and backward: the per-node cost of
    recording and of the backward engine."""
    x, v = _t(lib, _arr(4, 4), True), _t(lib, _arr(4, 4), True)

    def step():
        y = x
        for _ in range(10):
            y = (y * v).tanh().view(16).view(4, 4)
        y.sum().backward()
        x.grad = None
        v.grad = None
    return step


def small_add_grad(lib):
    a, b = _t(lib, _arr(4, 4), True), _t(lib, _arr(4, 4), True)
    return lambda: a + b


def small_grad(op, *shapes):
    """op on 4x4 (or the given shapes) tensors that require grad: the forward only, recording a graph node."""
    def make(lib):
        ts = [_t(lib, _arr(*shape), True) for shape in shapes or [(4, 4)]]
        return lambda: op(lib, *ts)
    return make


def small_loss_grad(name):
    """A loss over 4x4 scores and 4 class targets, requiring grad."""
    def make(lib):
        x, y = _t(lib, _arr(4, 4), True), lib.from_numpy(np.array([0, 3, 1, 2]))
        fn = getattr(lib.nn.functional, name)
        return lambda: fn(x, y)
    return make


def large_binary(op, n=1_000_000):
    def make(lib):
        a, b = _t(lib, _arr(n)), _t(lib, _arr(n))
        return lambda: op(a, b)
    return make


def large_unary(op, n=1_000_000):
    def make(lib):
        a = _t(lib, _arr(n))
        return lambda: op(a)
    return make


def matmul(n):
    def make(lib):
        a, b = _t(lib, _arr(n, n)), _t(lib, _arr(n, n))
        return lambda: a @ b
    return make


def matmul_backward(n):
    def make(lib):
        a, b = _t(lib, _arr(n, n), True), _t(lib, _arr(n, n), True)
        g = _t(lib, _arr(n, n))

        def step():
            (a @ b).backward(g)
            a.grad = None
            b.grad = None
        return step
    return make


def large_sum(lib):
    a = _t(lib, _arr(1000, 1000))
    return lambda: a.sum(1)


def mlp_step(lib):
    """A 2-layer MLP forward+backward on a batch of 64 (matmul, broadcasting add, relu-by-clamp, mean)."""
    x = _t(lib, _arr(64, 256))
    w1, b1 = _t(lib, _arr(256, 256) * 0.05, True), _t(lib, _arr(256), True)
    w2, b2 = _t(lib, _arr(256, 10) * 0.05, True), _t(lib, _arr(10), True)

    def step():
        h = (x @ w1 + b1).clamp(min=0)
        out = h @ w2 + b2
        (out * out).mean().backward()
        for p in (w1, b1, w2, b2):
            p.grad = None
    return step


def lenet_step(batch):
    """One LeNet-5 training step (forward, cross-entropy, backward, SGD with momentum) on 28x28 inputs: at a small
    batch, the per-layer fixed costs dominate."""
    x_arr, y_arr = _arr(batch, 1, 28, 28), RNG.integers(0, 10, batch)

    def make(lib):
        nn = lib.nn
        net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84),
                            nn.ReLU(), nn.Linear(84, 10))
        net.load_state_dict({k: lib.from_numpy(_arr(*v.shape) * 0.1) for k, v in net.state_dict().items()})
        opt = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        x, y = lib.from_numpy(x_arr.copy()), lib.from_numpy(y_arr.copy())

        def step():
            opt.zero_grad()
            lib.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        return step
    return make


def small_model_step(build):
    """One training step of a small model (what a teaching script or a small server runs): forward, loss, backward
    and the optimizer, weights copied so both libraries compute the same numbers."""
    def make(lib):
        model, opt, x, y, loss = build(lib)
        model.load_state_dict({k: lib.from_numpy(_arr(*v.shape) * 0.1) for k, v in model.state_dict().items()})

        def step():
            opt.zero_grad()
            loss(model(x), y).backward()
            opt.step()
        return step
    return make


def _lstm_classifier(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = nn.LSTM(16, 32, batch_first=True), nn.Linear(32, 4)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])
    net = Net()
    y = lib.from_numpy(RNG.integers(0, 4, 8))
    return net, lib.optim.SGD(net.parameters(), 0.1), _t(lib, _arr(8, 20, 16)), y, nn.functional.cross_entropy


def _tiny_transformer(lib):
    nn = lib.nn
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    x = _t(lib, _arr(8, 16, 32))
    return layer, lib.optim.AdamW(layer.parameters(), 1e-3), x, x, nn.functional.mse_loss


def _tiny_mlp(lib):
    nn = lib.nn
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    return net, lib.optim.SGD(net.parameters(), 0.1), _t(lib, _arr(32, 2)), _t(lib, _arr(32, 1)), \
        nn.functional.mse_loss


ALL = [
    ("overhead: add 4x4", small_binary(lambda a, b: a + b)),
    ("overhead: mul 4x4", small_binary(lambda a, b: a * b)),
    ("overhead: add 4x4 scalar", small_unary(lambda a: a + 1.5)),
    ("overhead: exp 4x4", small_unary(lambda a: a.exp())),
    ("overhead: sum 4x4", small_unary(lambda a: a.sum())),
    ("overhead: view 4x4 -> 16", small_unary(lambda a: a.view(16))),
    ("overhead: transpose 4x4", small_unary(lambda a: a.t())),
    ("overhead: index a[1:3]", small_unary(lambda a: a[1:3])),
    ("overhead: matmul 4x4", small_binary(lambda a, b: a @ b)),
    ("overhead: tensor([[0], [1], [2], [3]])", lambda lib: lambda: lib.tensor([[0], [1], [2], [3]])),
    ("overhead+autograd: add 4x4 requires_grad", small_add_grad),
    ("overhead+autograd: mul 4x4 requires_grad", small_grad(lambda L, a, b: a * b, (4, 4), (4, 4))),
    ("overhead+autograd: tanh 4x4 requires_grad", small_grad(lambda L, a: a.tanh())),
    ("overhead+autograd: pow 2 4x4 requires_grad", small_grad(lambda L, a: a ** 2)),
    ("overhead+autograd: sum 4x4 requires_grad", small_grad(lambda L, a: a.sum())),
    ("overhead+autograd: sum(1) 4x4 requires_grad", small_grad(lambda L, a: a.sum(1))),
    ("overhead+autograd: mean 4x4 requires_grad", small_grad(lambda L, a: a.mean())),
    ("overhead+autograd: max(1) 4x4 requires_grad", small_grad(lambda L, a: a.max(1))),
    ("overhead+autograd: var(1) 4x4 requires_grad", small_grad(lambda L, a: a.var(1))),
    ("overhead+autograd: matmul 4x4 requires_grad", small_grad(lambda L, a, b: a @ b, (4, 4), (4, 4))),
    ("overhead+autograd: addmm 4x4 requires_grad", small_grad(lambda L, v, a, b: L.addmm(v, a, b), (4,), (4, 4),
                                                              (4, 4))),
    ("overhead+autograd: view 4x4 requires_grad", small_grad(lambda L, a: a.view(16))),
    ("overhead+autograd: getitem 4x4 requires_grad", small_grad(lambda L, a: a[1:3])),
    ("overhead+autograd: cat 4x4 requires_grad", small_grad(lambda L, a, b: L.cat([a, b]), (4, 4), (4, 4))),
    ("overhead+autograd: mv 4x4 requires_grad", small_grad(lambda L, a, v: a.mv(v), (4, 4), (4,))),
    ("overhead+autograd: getitem a[:, 0] 4x4 requires_grad", small_grad(lambda L, a: a[:, 0])),
    ("overhead+autograd: where 4x4 requires_grad", small_grad(lambda L, a, b: L.where(a > 0, a, b), (4, 4), (4, 4))),
    ("overhead+autograd: masked_fill 4x4 requires_grad", small_grad(lambda L, a: a.masked_fill(a > 0, 0.0))),
    ("overhead+autograd: gelu 4x4 requires_grad", small_grad(lambda L, a: L.nn.functional.gelu(a))),
    ("overhead+autograd: layer_norm 4x4 requires_grad", small_grad(lambda L, a: L.nn.functional.layer_norm(a, (4,)))),
    ("overhead+autograd: softmax 4x4 requires_grad", small_grad(lambda L, a: L.softmax(a, 1))),
    ("overhead+autograd: nll_loss 4x4 requires_grad", small_loss_grad("nll_loss")),
    ("overhead+autograd: cross_entropy 4x4 requires_grad", small_loss_grad("cross_entropy")),
    ("overhead+autograd: tiny graph fwd+bwd (6 ops)", small_graph),
    ("overhead+autograd: 40-op chain fwd+bwd (mul, tanh, view) 4x4", small_chain),
    ("large: add 1M float32", large_binary(lambda a, b: a + b)),
    ("large: mul 1M float32", large_binary(lambda a, b: a * b)),
    ("large: exp 1M float32", large_unary(lambda a: a.exp())),
    ("large: tanh 1M float32", large_unary(lambda a: a.tanh())),
    ("large: sum(1) 1000x1000", large_sum),
    ("matmul 256x256 float32", matmul(256)),
    ("matmul 1024x1024 float32", matmul(1024)),
    ("matmul 256x256 fwd+bwd", matmul_backward(256)),
    ("MLP 64x256x256x10 fwd+bwd", mlp_step),
    ("LeNet-5 training step B=8 (SGD momentum)", lenet_step(8)),
    ("LeNet-5 training step B=64 (SGD momentum)", lenet_step(64)),
    ("small model step: MLP 2-16-16-1 tanh B=32 (SGD)", small_model_step(_tiny_mlp)),
    ("small model step: LSTM(16->32) classifier B=8 T=20 (SGD)", small_model_step(_lstm_classifier)),
    ("small model step: TransformerEncoderLayer(32, 4) B=8 L=16 (AdamW)", small_model_step(_tiny_transformer)),
]
