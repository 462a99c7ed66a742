"""ember.onnx.export: every layer family checked by onnx's full checker and onnxruntime against ember's outputs,
with a dynamic batch axis run at another batch size; plus the exporter's own behaviour (errors, names,
export_params=False, file objects, training mode)."""
import io
import os
import sys

import numpy as np
import onnx
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.onnx
from ember.onnx import OnnxExporterError, UnsupportedOperatorError

sys.path.insert(0, os.path.dirname(__file__))
from onnxcheck import Lambda, compare, export_bytes, randn, roundtrip, session  # noqa: E402


def seq(*layers):
    return nn.Sequential(*layers)


def x(*shape):
    """make_inputs for one float input of shape (batch, *shape)."""
    return lambda b: (randn(b, *shape),)


class LeNet(nn.Module):
    """The seed's LeNet (shared/seed_examples/04_lenet_and_naming.py)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

    def num_flat_features(self, x):
        num = 1
        for s in x.size()[1:]:
            num *= s
        return num


def _trained_bn(bn, shape):
    """A batch norm with non-trivial running statistics."""
    bn.train()
    with ember.no_grad():
        bn(randn(*shape, seed=5) * 2 + 1)
    return bn


def _shapes(m, a):
    """flatten/view/reshape/permute/cat/split/chunk/slicing/arithmetic inside forward."""
    n = a.size(0)
    h = a.permute(0, 2, 1).reshape(n, -1)
    p, q = h.split([6, 6], dim=1)
    r = ember.cat([q, p * 2 + 1, (p - q) / 3], 1)
    c1, c2 = r.chunk(2, dim=-1)
    s = ember.stack([c1, c2], 1).flatten(1)
    t = s[:, 1:7] + s[:, ::3][:, :6] - s[..., -6:].abs()
    u = t.unsqueeze(1).expand(n, 2, 6).transpose(1, 2).contiguous().view(n, -1)
    return ember.cat([u.mean(1, keepdim=True), u.sum(-1, keepdim=True), u.amax(1, keepdim=True),
                      u.pow(2), u.clamp(-0.5, 0.5), ember.where(u > 0, u, u * 0.1), u.std(1, keepdim=True),
                      u.softmax(-1), u.exp().log1p(), u[:, None, :].squeeze(1).sigmoid(), u.max(1, keepdim=True)[0], u.matmul(u.t()[:, :1])], 1)


def _mha(embed, heads, batch_first, **kw):
    m = nn.MultiheadAttention(embed, heads, batch_first=batch_first, **kw)
    return Lambda(lambda self, q: self.layers[0](q, q, q), m)


def _mha_kv(embed, heads, kdim):
    m = nn.MultiheadAttention(embed, heads, batch_first=True, kdim=kdim, vdim=kdim)
    return Lambda(lambda self, q, k: self.layers[0](q, k, k, need_weights=False)[0], m)


def _mha_mask():
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    mask = ember.from_numpy(np.triu(np.ones((5, 5), bool), 1))
    return Lambda(lambda self, q: self.layers[0](q, q, q, attn_mask=mask, need_weights=False)[0], m)


def _rnn(cls, batch_first=False, with_h0=False, **kw):
    m = cls(6, 5, **kw, batch_first=batch_first)
    if not with_h0:
        return Lambda(lambda self, s: self.layers[0](s), m)
    return Lambda(lambda self, s, h: self.layers[0](s, h), m)


def _lstm_h0c0():
    m = nn.LSTM(6, 5, num_layers=2)
    return Lambda(lambda self, s, h, c: self.layers[0](s, (h, c)), m)


def _cell(cls):
    m = cls(6, 5)
    return Lambda(lambda self, s: m(s) if cls is not nn.LSTMCell else m(s)[1], m)


def _transformer():
    return nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
                          dropout=0.1, batch_first=True)


def _emb():
    e = nn.Embedding(10, 4, padding_idx=0)
    return Lambda(lambda self, i: self.layers[0](i) * 2, e)


def _ints(*shape):
    return lambda b: (ember.from_numpy(np.random.default_rng(b).integers(0, 10, (b,) + shape)),)


def _interp(**kw):
    return Lambda(lambda self, a: F.interpolate(a, **kw))


# id -> (model factory, make_inputs(batch), batch axis of each input)
CASES = {
    "lenet": (LeNet, x(3, 32, 32), (0,)),
    "linear": (lambda: seq(nn.Linear(8, 4), nn.Linear(4, 3, bias=False)), x(8), (0,)),
    "linear-3d": (lambda: nn.Linear(8, 4), x(5, 8), (0,)),
    "bilinear": (lambda: Lambda(lambda self, a, b: self.layers[0](a, b), nn.Bilinear(5, 6, 3)),
                 lambda b: (randn(b, 5), randn(b, 6)), (0, 0)),
    "conv1d": (lambda: seq(nn.Conv1d(4, 6, 3, stride=2, padding=1), nn.Conv1d(6, 6, 3, groups=3, dilation=2)),
               x(4, 17), (0,)),
    "conv2d": (lambda: seq(nn.Conv2d(4, 8, 3, padding="same", dilation=2), nn.Conv2d(8, 4, (3, 2), stride=(2, 1),
                                                                                  groups=4, bias=False)),
               x(4, 9, 10), (0,)),
    "conv2d-padding-modes": (lambda: seq(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"),
                                         nn.Conv2d(4, 4, 3, padding=(1, 2), padding_mode="replicate"),
                                         nn.Conv2d(4, 2, 3, padding=1, padding_mode="circular")),
                             x(3, 7, 8), (0,)),
    "conv3d": (lambda: nn.Conv3d(2, 4, (2, 3, 3), stride=(1, 2, 1), padding=1), x(2, 5, 6, 6), (0,)),
    "conv-transpose1d": (lambda: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1),
                         x(4, 7), (0,)),
    "conv-transpose2d": (lambda: seq(nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2, dilation=2),
                                     nn.ConvTranspose2d(6, 2, (2, 3), stride=(1, 2), padding=(0, 1), bias=False)),
                         x(4, 5, 6), (0,)),
    "conv-transpose3d": (lambda: nn.ConvTranspose3d(2, 3, 2, stride=2, output_padding=1, padding=1),
                         x(2, 3, 4, 4), (0,)),
    "maxpool": (lambda: Lambda(lambda self, a: ember.cat([
        F.max_pool2d(a, 3, 2, padding=1, ceil_mode=True).flatten(1), F.max_pool2d(a, 2, dilation=2).flatten(1),
        F.max_pool1d(a.flatten(2), 4, 3, ceil_mode=True).flatten(1)], 1)), x(3, 9, 10), (0,)),
    "maxpool3d": (lambda: nn.MaxPool3d((2, 3, 2), stride=2, padding=1, ceil_mode=True), x(2, 5, 7, 6), (0,)),
    "avgpool": (lambda: Lambda(lambda self, a: ember.cat([
        F.avg_pool2d(a, 3, 2, padding=1).flatten(1), F.avg_pool2d(a, 3, 2, padding=1, count_include_pad=False,
                                                               ceil_mode=True).flatten(1),
        F.avg_pool2d(a, 2, divisor_override=3).flatten(1), F.avg_pool1d(a.flatten(2), 4, 3, ceil_mode=True,
                                                                         padding=2).flatten(1)], 1)),
                x(3, 9, 10), (0,)),
    "avgpool3d": (lambda: nn.AvgPool3d(3, stride=2, padding=1, count_include_pad=False), x(2, 5, 7, 6), (0,)),
    "lppool": (lambda: Lambda(lambda self, a: ember.cat([
        nn.LPPool2d(2, 3, stride=2)(a).flatten(1), nn.LPPool1d(3, 2)(a.flatten(2)).flatten(1)], 1)),
        x(3, 8, 9), (0,)),
    "adaptive-avg": (lambda: Lambda(lambda self, a: ember.cat([
        F.adaptive_avg_pool2d(a, 1).flatten(1), F.adaptive_avg_pool2d(a, (3, 4)).flatten(1),
        F.adaptive_avg_pool1d(a.flatten(2), 5).flatten(1), F.adaptive_avg_pool3d(a.unsqueeze(1), (1, 2, 3)).flatten(1)],
        1)), x(3, 7, 8), (0,)),
    "adaptive-max": (lambda: Lambda(lambda self, a: ember.cat([
        F.adaptive_max_pool2d(a, 1).flatten(1), F.adaptive_max_pool2d(a, (3, 4)).flatten(1),
        F.adaptive_max_pool2d(a, (7, 2)).flatten(1), F.adaptive_max_pool1d(a.flatten(2), 5).flatten(1),
        F.adaptive_max_pool3d(a.unsqueeze(1), (1, 2, 3)).flatten(1)], 1)), x(3, 7, 8), (0,)),
    "padding-layers": (lambda: Lambda(lambda self, a: ember.cat([m(a).flatten(1) for m in self.layers], 1),
                                      nn.ZeroPad2d((1, 2, 0, 1)), nn.ConstantPad2d((2, -1, 1, 0), 3.5),
                                      nn.ReflectionPad2d((2, 1, 1, 2)), nn.ReplicationPad2d(2),
                                      nn.CircularPad2d((1, 2, 2, 1))), x(2, 5, 6), (0,)),
    "padding-layers-1d-3d": (lambda: Lambda(lambda self, a: ember.cat(
        [m(a.flatten(2)).flatten(1) for m in self.layers[:4]] + [m(a.unsqueeze(1)).flatten(1) for m in
                                                                self.layers[4:]], 1),
        nn.ConstantPad1d(2, -1.0), nn.ReflectionPad1d((3, 1)), nn.ReplicationPad1d((0, 2)), nn.CircularPad1d(2),
        nn.ZeroPad3d(1), nn.ReflectionPad3d(1), nn.ReplicationPad3d((1, 0, 0, 1, 2, 0)), nn.CircularPad3d(1)),
        x(2, 4, 5), (0,)),
    "activations": (lambda: Lambda(lambda self, a: ember.cat([m(a) for m in self.layers], 1),
                                   nn.ReLU(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.SELU(), nn.CELU(1.3),
                                   nn.GELU(), nn.GELU(approximate="tanh"), nn.Sigmoid(), nn.Tanh(),
                                   nn.Softplus(), nn.Softplus(beta=2.0, threshold=1.0), nn.Softsign(),
                                   nn.Hardtanh(-0.5, 0.7), nn.ReLU6(), nn.Hardsigmoid(), nn.Hardswish(), nn.SiLU(),
                                   nn.Mish(), nn.LogSigmoid(), nn.PReLU(), nn.PReLU(6, 0.3), nn.Threshold(0.1, -2.0),
                                   nn.Hardshrink(0.3), nn.Softshrink(0.4), nn.Tanhshrink(), nn.RReLU(),
                                   nn.Identity()), lambda b: (randn(b, 6) * 4,), (0,)),
    "activations-inplace": (lambda: seq(nn.Linear(6, 6), nn.ReLU(inplace=True), nn.Linear(6, 6),
                                        nn.LeakyReLU(0.1, inplace=True), nn.Linear(6, 6), nn.Hardswish(inplace=True),
                                        nn.ELU(inplace=True), nn.ReLU6(inplace=True)), x(6), (0,)),
    "glu-softmax": (lambda: Lambda(lambda self, a: ember.cat([m(a).flatten(1) for m in self.layers], 1),
                                   nn.GLU(1), nn.Softmax(1), nn.LogSoftmax(-1), nn.Softmin(2), nn.Softmax2d()),
                    x(4, 3, 5), (0,)),
    "batchnorm": (lambda: seq(nn.Conv2d(3, 4, 1), _trained_bn(nn.BatchNorm2d(4), (6, 4, 3, 3)), nn.Flatten(),
                              _trained_bn(nn.BatchNorm1d(36, affine=False), (6, 36))), x(3, 3, 3), (0,)),
    "batchnorm1d-3d": (lambda: seq(_trained_bn(nn.BatchNorm1d(4), (6, 4, 5)), nn.Unflatten(2, (1, 5, 1)),
                                   _trained_bn(nn.BatchNorm3d(4, momentum=0.5), (3, 4, 1, 5, 1))),
                       x(4, 5), (0,)),
    "batchnorm-no-stats": (lambda: nn.BatchNorm2d(3, track_running_stats=False), x(3, 4, 4), (0,)),
    "instancenorm": (lambda: seq(nn.InstanceNorm2d(3, affine=True), nn.Flatten(2), nn.InstanceNorm1d(3),
                                 nn.Unflatten(2, (2, 2, 4)), nn.InstanceNorm3d(3)), x(3, 4, 4), (0,)),
    "layernorm": (lambda: seq(nn.LayerNorm(6), nn.LayerNorm((5, 6), elementwise_affine=False),
                              nn.LayerNorm([5, 6], bias=False)), x(5, 6), (0,)),
    "groupnorm": (lambda: seq(nn.GroupNorm(2, 6), nn.GroupNorm(3, 6, affine=False)), x(6, 3, 4), (0,)),
    "other-norms": (lambda: seq(nn.LocalResponseNorm(3), nn.Flatten(2), nn.RMSNorm(12)), x(5, 3, 4), (0,)),
    "dropout-eval": (lambda: seq(nn.Linear(6, 6), nn.Dropout(0.5), nn.AlphaDropout(0.2), nn.Unflatten(1, (6, 1)),
                                 nn.Dropout1d(0.3)), x(6), (0,)),
    "embedding": (_emb, _ints(7), (0,)),
    "rnn": (lambda: _rnn(nn.RNN, num_layers=2, nonlinearity="relu"), lambda b: (randn(4, b, 6),), (1,)),
    "lstm-bidirectional": (lambda: _rnn(nn.LSTM, batch_first=True, num_layers=2, bidirectional=True),
                           lambda b: (randn(b, 4, 6),), (0,)),
    "gru": (lambda: _rnn(nn.GRU, num_layers=2, bidirectional=True, with_h0=True),
            lambda b: (randn(3, b, 6), randn(4, b, 5)), (1, 1)),
    "gru-no-bias": (lambda: _rnn(nn.GRU, bias=False), lambda b: (randn(3, b, 6),), (1,)),
    "lstm-h0-c0": (_lstm_h0c0, lambda b: (randn(3, b, 6), randn(2, b, 5), randn(2, b, 5)), (1, 1, 1)),
    "rnn-cells": (lambda: Lambda(lambda self, a: ember.cat([m(a) if not isinstance(m, nn.LSTMCell) else m(a)[1]
                                                            for m in self.layers], 1),
                                 nn.RNNCell(6, 5), nn.LSTMCell(6, 5), nn.GRUCell(6, 5)), x(6), (0,)),
    "mha-self": (lambda: _mha(8, 2, False), lambda b: (randn(5, b, 8),), (1,)),
    "mha-batch-first": (lambda: _mha(8, 4, True, bias=False), lambda b: (randn(b, 5, 8),), (0,)),
    "mha-kdim": (lambda: _mha_kv(8, 2, 6), lambda b: (randn(b, 5, 8), randn(b, 3, 6)), (0, 0)),
    "mha-mask": (_mha_mask, lambda b: (randn(b, 5, 8),), (0,)),
    "encoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, activation="gelu",
                                                                         batch_first=True, norm_first=True),
                                              2, norm=nn.LayerNorm(8), enable_nested_tensor=False), lambda b: (randn(b, 5, 8),), (0,)),
    "decoder-layer": (lambda: nn.TransformerDecoderLayer(8, 2, 16), lambda b: (randn(4, b, 8), randn(6, b, 8)),
                      (1, 1)),
    "transformer": (_transformer, lambda b: (randn(b, 5, 8), randn(b, 4, 8)), (0, 0)),
    "upsample": (lambda: Lambda(lambda self, a: ember.cat([m(a).flatten(1) for m in self.layers], 1),
                                nn.Upsample(scale_factor=2), nn.Upsample(size=(8, 9), mode="bilinear"),
                                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                                nn.UpsamplingNearest2d(scale_factor=3), nn.UpsamplingBilinear2d(size=(5, 7)),
                                nn.Upsample(scale_factor=2, mode="bicubic")), x(3, 4, 5), (0,)),
    "interpolate": (lambda: Lambda(lambda self, a: ember.cat([
        _interp(size=(7, 3), mode="nearest")(a).flatten(1), _interp(scale_factor=1.7, mode="bilinear")(a).flatten(1),
        _interp(size=(6, 6), mode="nearest-exact")(a).flatten(1), _interp(size=(3, 9), mode="bicubic",
                                                                         align_corners=True)(a).flatten(1),
        _interp(size=(2, 2), mode="area")(a).flatten(1), _interp(scale_factor=2, mode="linear")(a.flatten(2))
        .flatten(1), _interp(size=(5, 6, 3), mode="trilinear")(a.unsqueeze(1)).flatten(1)], 1)),
        x(3, 4, 5), (0,)),
    "pixel-shuffle": (lambda: seq(nn.PixelShuffle(2), nn.Conv2d(2, 4, 1), nn.PixelUnshuffle(2)),
                      x(8, 3, 4), (0,)),
    "pixel-shuffle-functional": (lambda: Lambda(lambda self, a: F.pixel_unshuffle(F.pixel_shuffle(a, 2) + 1, 2)),
                                 x(8, 3, 4), (0,)),
    "shapes-and-arithmetic": (lambda: Lambda(_shapes), x(6, 2), (0,)),
    "batch-sized-constants": (lambda: Lambda(lambda self, a: ember.cat([a, ember.zeros(a.size(0), 2)], 1)
                                             + ember.ones(a.shape[0], 8) + ember.arange(8).float()), x(6), (0,)),
    "positions-expanded-over-batch": (lambda: Lambda(lambda self, i: self.layers[0](
        ember.arange(i.size(1)).unsqueeze(0).expand(i.size(0), -1)) + self.layers[0](i), nn.Embedding(10, 3)),
        _ints(4), (0,)),
    "index-max-einsum-sdpa": (lambda: Lambda(lambda self, a: ember.cat([
        a[:, [0, 2, -1]], a[:, ember.tensor([1, 1, 1])], a.max(1)[0].unsqueeze(1), a.min(1)[1].unsqueeze(1).float(),
        ember.einsum("bi,bj->bij", a, a).flatten(1), F.scaled_dot_product_attention(
            a.view(-1, 2, 3, 2), a.view(-1, 2, 3, 2), a.view(-1, 2, 3, 2), is_causal=True).flatten(1)], 1)),
        x(12), (0,)),
}


# ONNX ops that some families must map to (rather than to a decomposition)
EXPECTED_OPS = {
    "linear": {"Gemm"}, "conv2d": {"Conv"}, "conv-transpose3d": {"ConvTranspose"}, "maxpool3d": {"MaxPool"},
    "avgpool": {"AveragePool"}, "adaptive-max": {"GlobalMaxPool", "MaxPool"}, "padding-layers": {"Pad"},
    "batchnorm": {"BatchNormalization"}, "instancenorm": {"InstanceNormalization"},
    "layernorm": {"LayerNormalization"}, "embedding": {"Gather"}, "rnn": {"RNN"}, "gru": {"GRU"},
    "lstm-bidirectional": {"LSTM"}, "rnn-cells": {"RNN", "LSTM", "GRU"}, "upsample": {"Resize"},
    "pixel-shuffle": {"DepthToSpace", "SpaceToDepth"}, "glu-softmax": {"Softmax", "LogSoftmax"},
    "activations": {"Elu", "Selu", "Celu", "PRelu", "HardSigmoid", "HardSwish", "Shrink", "Softsign", "LeakyRelu"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_family(case):
    factory, make_inputs, axes = CASES[case]
    ember.manual_seed(0)
    proto = roundtrip(factory(), make_inputs, axes)
    ops = {n.op_type for n in proto.graph.node}
    assert EXPECTED_OPS.get(case, set()) <= ops, f"missing {EXPECTED_OPS[case] - ops}"


def test_static_shapes_and_opset_18():
    proto = roundtrip(seq(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2)), x(3, 6, 6), (None,), opset_version=18)
    assert proto.opset_import[0].version == 18
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [2, 3, 6, 6]


def test_lenet_graph_names_and_dynamic_batch(tmp_path):
    path = tmp_path / "lenet.onnx"
    ember.onnx.export(LeNet(), (randn(1, 3, 32, 32),), str(path), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    g = proto.graph
    assert [i.name for i in g.input] == ["input"] and [o.name for o in g.output] == ["logits"]
    assert g.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert g.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    params = {f"{m}.{p}" for m in ("conv1", "conv2", "fc1", "fc2", "fc3") for p in ("weight", "bias")}
    assert params <= {i.name for i in g.initializer}
    assert all(i.data_type == onnx.TensorProto.INT64 for i in g.initializer if i.name not in params)
    assert [n.op_type for n in g.node] == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape",
                                           "Gemm", "Relu", "Gemm", "Relu", "Gemm"]
    assert not [f for f in os.listdir(tmp_path) if f != "lenet.onnx"]


def test_default_names_follow_forward_signature():
    m = Lambda(lambda self, a, b: (a + b, a * b))
    proto = onnx.load_from_string(export_bytes(m, (randn(2, 3), randn(2, 3))))
    assert [i.name for i in proto.graph.input] == ["args_0", "args_1"] or \
        [i.name for i in proto.graph.input] == ["input_0", "input_1"]
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]

    class Two(nn.Module):
        def forward(self, query, key):
            return query - key

    proto = onnx.load_from_string(export_bytes(Two(), (randn(2, 3), randn(2, 3)), output_names=["diff"]))
    assert [i.name for i in proto.graph.input] == ["query", "key"]
    assert [o.name for o in proto.graph.output] == ["diff"]


def test_export_params_false_makes_parameters_inputs():
    model = seq(nn.Linear(3, 4), _trained_bn(nn.BatchNorm1d(4), (5, 4)), nn.ReLU())
    model.eval()
    a = randn(2, 3)
    proto = onnx.load_from_string(export_bytes(model, (a,), export_params=False, input_names=["x"]))
    onnx.checker.check_model(proto, full_check=True)
    names = [i.name for i in proto.graph.input]
    state = list(model.state_dict())
    assert names[0] == "x"
    assert set(names[1:]) <= set(state) and {"0.weight", "0.bias", "1.weight", "1.bias"} <= set(names[1:])
    assert names[1:] == [k for k in state if k in names[1:]]
    assert not {i.name for i in proto.graph.initializer} & set(state)
    feeds = {"x": a.numpy()}
    feeds.update({k: v.numpy() for k, v in model.state_dict().items() if k in names})
    got = session(proto.SerializeToString()).run(None, feeds)[0]
    np.testing.assert_allclose(got, model(a).detach().numpy(), atol=1e-4, rtol=1e-4)
    with_params = onnx.load_from_string(export_bytes(model, (a,)))
    assert {"0.weight", "1.running_mean"} <= {i.name for i in with_params.graph.initializer}


def test_file_object_and_path_like(tmp_path):
    model = seq(nn.Linear(3, 2), nn.Tanh())
    buf = io.BytesIO()
    ember.onnx.export(model, randn(4, 3), buf)
    path = tmp_path / "m.onnx"
    ember.onnx.export(model, (randn(4, 3),), path)
    assert path.read_bytes() == buf.getvalue()
    with open(tmp_path / "f.onnx", "wb") as fh:
        ember.onnx.export(model, (randn(4, 3),), fh)
    assert (tmp_path / "f.onnx").read_bytes() == buf.getvalue()


def test_training_mode_is_restored():
    model = seq(nn.Linear(3, 3), nn.Dropout(0.5), seq(nn.BatchNorm1d(3)))
    model.train()
    model[2].eval()
    export_bytes(model, (randn(4, 3),))
    assert model.training and model[0].training and model[1].training and not model[2].training
    assert not model[2][0].training


class Foo(ember.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return ember.from_numpy(np.sinc(a.numpy()))

    @staticmethod
    def backward(ctx, g):
        return g


class MyLayer(nn.Module):
    def forward(self, a):
        return Foo.apply(a)


def test_unsupported_op_names_op_and_module(tmp_path):
    model = nn.Sequential()
    model.add_module("features", seq(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), MyLayer()))
    path = tmp_path / "bad.onnx"
    with pytest.raises(RuntimeError, match=r"ONNX export: op 'Foo' in module 'features\.3' \(MyLayer\) is not "
                                           r"supported") as info:
        ember.onnx.export(model, (randn(2, 3),), str(path))
    assert isinstance(info.value, UnsupportedOperatorError)
    assert not path.exists() and not os.listdir(tmp_path)


def test_unsupported_internal_op(tmp_path):
    model = Lambda(lambda self, a: ember.atan2(self.layers[0](a), a), nn.Linear(3, 3))
    path = tmp_path / "bad.onnx"
    with pytest.raises(UnsupportedOperatorError, match=r"op 'Atan2' in module '' \(Lambda\)"):
        ember.onnx.export(model, (randn(2, 3),), str(path))
    assert not path.exists()


def test_value_computed_outside_traced_ops_is_refused(tmp_path):
    """A tensor made from the input's data with NumPy would be frozen into the graph: refused, not exported."""
    model = Lambda(lambda self, a: a + ember.from_numpy(np.sort(a.numpy(), axis=1)))
    with pytest.raises(OnnxExporterError, match="outside ember's traced ops"):
        ember.onnx.export(model, (randn(2, 5),), str(tmp_path / "bad.onnx"))
    assert not os.listdir(tmp_path)


def test_dynamic_axes_list_form_and_unknown_key():
    model = seq(nn.Linear(3, 2))
    with pytest.warns(UserWarning, match="not a valid input/output name"):
        data = export_bytes(model, (randn(2, 3),), input_names=["x"], output_names=["y"],
                            dynamic_axes={"x": [0], "y": [0], "nope": [0]})
    proto = onnx.load_from_string(data)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "x_dynamic_axes_1"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "y_dynamic_axes_1"
    compare(session(data), ["x"], model, (randn(7, 3),))


def test_is_in_onnx_export():
    seen = []
    model = Lambda(lambda self, a: seen.append(ember.onnx.is_in_onnx_export()) or a * 2)
    export_bytes(model, (randn(2, 3),))
    assert seen and all(seen) and not ember.onnx.is_in_onnx_export()


def test_mha_with_key_padding_mask_input():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    model = Lambda(lambda self, q, k: self.layers[0](q, q, q, key_padding_mask=k)[0], mha)
    roundtrip(model, lambda b: (randn(b, 5, 8), ember.from_numpy(np.arange(5)[None].repeat(b, 0) >= 3)), (0, 0))


@pytest.mark.parametrize("predicate", ["isnan", "isinf", "isposinf", "isneginf", "isfinite"])
def test_predicates_are_traced_not_frozen(predicate):
    model = Lambda(lambda self, a: a.masked_fill(getattr(a, predicate)(), 0.0))
    data = export_bytes(model, (randn(2, 3),), input_names=["x"])
    a = np.ones((2, 3), np.float32)
    a[0, 1], a[1, 0], a[1, 2] = np.nan, np.inf, -np.inf
    got = session(data).run(None, {"x": a})[0]
    want = model(ember.from_numpy(a.copy())).numpy()
    np.testing.assert_array_equal(got, want)


def test_logical_not_is_traced():
    model = Lambda(lambda self, a: (a > 0).logical_not().float())
    data = export_bytes(model, (randn(2, 3),), input_names=["x"])
    a = np.array([[1, -1, 2], [-3, 0, 4]], np.float32)
    np.testing.assert_array_equal(session(data).run(None, {"x": a})[0], model(ember.from_numpy(a)).numpy())
