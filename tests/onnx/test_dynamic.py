"""Dynamic axes beyond the batch (several symbols at once) and the exports that must be refused rather than frozen;
plus the LeNet example and `python -m ember.torchcompat` serving torch.onnx."""
import io
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

import ember
import ember.nn as nn
import ember.onnx
from ember.onnx import OnnxExporterError, UnsupportedOperatorError

sys.path.insert(0, os.path.dirname(__file__))
from onnxcheck import Lambda, compare, export_bytes, randn, roundtrip, session  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _seq_model(kind):
    if kind == "encoder":
        return nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0)
    if kind == "lstm":
        lstm = nn.LSTM(8, 4, num_layers=2, bidirectional=True, batch_first=True)
        return Lambda(lambda self, a: self.layers[0](a)[0].reshape(a.size(0), a.size(1) * 2, 4), lstm)
    return Lambda(lambda self, a: a.reshape(a.size(0) * a.size(1), 8).view(a.size(0), a.size(1), 2, 4)
                  .permute(0, 2, 1, 3)[:, :, : a.size(1) - 1] * a.size(1))


@pytest.mark.parametrize("kind", ["encoder", "lstm", "reshapes"])
def test_batch_and_sequence_axes(kind):
    model = _seq_model(kind)
    model.eval()
    data = export_bytes(model, (randn(2, 5, 8),), input_names=["x"], output_names=["y"],
                        dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch"}})
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and any(d.dim_param for d in dims[1:])
    sess = session(data)
    for b, t in ((2, 5), (1, 3), (4, 9)):
        compare(sess, ["x"], model, (randn(b, t, 8),))


def test_input_dependent_control_flow_is_refused():
    """The export re-runs the model on shuffled inputs; a branch on input values that flips is refused."""
    model = Lambda(lambda self, a: a * 2 if float(a[0, 0]) > 1 else a - 1)
    a = np.zeros((3, 4), np.float32)
    a[0, 0] = 5
    a = ember.from_numpy(a)
    with pytest.raises(OnnxExporterError, match="differ between traces|computed outside"):
        export_bytes(model, (a,))


def test_in_place_write_through_a_view_is_refused():
    def fn(self, a):
        b = a * 1
        b[:, 0] = 0
        return b

    buf = io.BytesIO()
    with pytest.raises(UnsupportedOperatorError, match="IndexPut"):
        ember.onnx.export(Lambda(fn), (randn(2, 3),), buf)
    assert buf.getvalue() == b""


def test_in_place_ops_on_values_and_inputs():
    def fn(self, a):
        a.relu_()
        y = self.layers[0](a)
        y += a
        y = nn.functional.relu(y, inplace=True)
        return {"y": y, "rest": [y.sum(1), a.view(-1), a * 2, a * 2]}

    roundtrip(Lambda(fn, nn.Linear(4, 4)), lambda b: (randn(b, 4),))


def test_in_place_write_into_a_view_of_a_used_tensor_is_refused():
    def fn(self, a):
        y = a.clone()
        y[:, :2].add_(1)
        return y

    with pytest.raises(OnnxExporterError, match="modified in place through a view"):
        export_bytes(Lambda(fn), (randn(2, 4),))


def test_shape_dependent_integer_without_dynamic_axis_stays_static():
    model = Lambda(lambda self, a: a.view(a.size(0), -1) * a.size(1))
    data = export_bytes(model, (randn(3, 2, 4),), input_names=["x"])
    compare(session(data), ["x"], model, (randn(3, 2, 4),))


def test_options_of_torch_export():
    model = nn.Linear(2, 2)
    export_bytes(model, (randn(1, 2),), training=None, dynamo=False, operator_export_type=None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        export_bytes(model, (randn(1, 2),), bogus=1)
    with pytest.raises(ValueError, match="opset"):
        export_bytes(model, (randn(1, 2),), opset_version=11)
    with pytest.raises(NotImplementedError, match="dynamic_axes"):
        export_bytes(model, (randn(1, 2),), dynamic_shapes={"x": {0: "b"}})


def test_kwargs_become_inputs():
    class Scale(nn.Module):
        def forward(self, x, *, scale, shift=0.0):
            return x * scale + shift

    data = export_bytes(Scale(), (randn(2, 3),), kwargs={"scale": randn(2, 3), "shift": 1.5})
    proto = onnx.load_from_string(data)
    assert [i.name for i in proto.graph.input] == ["x", "scale"]
    a, s = randn(2, 3), randn(2, 3, seed=1)
    got = session(data).run(None, {"x": a.numpy(), "scale": s.numpy()})[0]
    np.testing.assert_allclose(got, (a * s + 1.5).numpy(), atol=1e-6)


def test_lenet_example(tmp_path):
    """examples/export_lenet.py run as a user runs it: exports, checks, and prints how to open the file in Netron."""
    path = tmp_path / "lenet.onnx"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "export_lenet.py"), str(path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert "netron" in run.stdout and "max |diff|" in run.stdout


def test_import_ember_does_not_import_onnx():
    code = "import sys, ember; assert ember.onnx.export and 'onnx' not in sys.modules, sorted(sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr


def test_torchcompat_serves_torch_onnx(tmp_path):
    script = tmp_path / "export.py"
    script.write_text("import torch\nimport torch.onnx\nimport torch.nn as nn\n"
                      "m = nn.Sequential(nn.Linear(3, 2), nn.ReLU())\n"
                      f"torch.onnx.export(m, (torch.randn(1, 3),), {str(tmp_path / 'm.onnx')!r})\n"
                      "print(torch.onnx.export.__module__)\n")
    run = subprocess.run([sys.executable, "-m", "ember.torchcompat", str(script)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ember.onnx"
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")), full_check=True)
