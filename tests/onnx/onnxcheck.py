"""The ONNX round trip used by every export test: export with ember, check the file with onnx's full checker,
run it in onnxruntime and compare with ember's own outputs (float32, atol 1e-4), at the traced batch size and
at another one when the inputs have a dynamic batch axis."""
import io

import numpy as np
import onnx
import onnxruntime as ort

import ember
import ember.nn as nn
import ember.onnx

ATOL = 1e-4
RTOL = 1e-4


class Lambda(nn.Module):
    """A module whose forward is fn(self, *args) (for ops used directly inside forward); children in .layers."""

    def __init__(self, fn, *children):
        super().__init__()
        self.fn = fn
        self.layers = nn.ModuleList(children)

    def forward(self, *args):
        return self.fn(self, *args)


def randn(*shape, seed=0):
    return ember.from_numpy(np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype(np.float32))


def export_bytes(model, args, **kwargs):
    buf = io.BytesIO()
    ember.onnx.export(model, args, buf, **kwargs)
    return buf.getvalue()


def session(data):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def ember_outputs(model, args):
    with ember.no_grad():
        out = model(*args)
    flat = []

    def walk(o):
        if isinstance(o, ember.Tensor):
            flat.append(o.numpy())
        elif isinstance(o, (tuple, list)):
            for v in o:
                walk(v)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)

    walk(out)
    return flat


def compare(sess, names, model, args):
    got = sess.run(None, {n: t.numpy() for n, t in zip(names, args)})
    want = ember_outputs(model, args)
    assert len(got) == len(want), f"{len(got)} outputs, ember has {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"output {k}: shape {g.shape} != ember {w.shape}"
        np.testing.assert_allclose(g, w, atol=ATOL, rtol=RTOL, err_msg=f"output {k}")


def roundtrip(model, make_inputs, batch_axes=(0,), batches=(2, 3), **export_kwargs):
    """Export model on make_inputs(batches[0]) with each input's batch axis dynamic, then check every batch size.

    batch_axes gives, per input, the axis that is the batch (None: no dynamic axis for that input)."""
    model.eval()
    args = make_inputs(batches[0])
    names = [f"in{i}" for i in range(len(args))]
    dyn = {n: {ax: "batch"} for n, ax in zip(names, batch_axes) if ax is not None}
    data = export_bytes(model, args, input_names=names, dynamic_axes=dyn, **export_kwargs)
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    sess = session(data)
    compare(sess, names, model, args)
    for b in batches[1:] if dyn else ():
        compare(sess, names, model, make_inputs(b))
    return proto
