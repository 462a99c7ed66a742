"""Converter of one recurrent layer direction (ember's RNNLayer) to ONNX's RNN / LSTM / GRU op.

ONNX orders the gates differently: LSTM i,o,f,c (PyTorch i,f,g,o) and GRU z,r,h (PyTorch r,z,n); PyTorch's GRU
applies the reset gate after the hidden projection, which is ONNX's linear_before_reset=1. The weights are
reordered by Split/Concat nodes, which constant folding turns into initializers.
"""
import numpy as np

from ..ops import rnn as RNN
from . import _registry as reg
from ._emitter import Unsupported
from ._tracer import TRef

_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _gates(e, ref, order):
    """The (gates * H, ...) tensor with its gate blocks in ONNX's order, with a leading direction axis."""
    g = e.g
    name = e.x(ref)
    if len(order) > 1:
        parts = g.op("Split", [name, g.ints([ref.shape[0] // len(order)] * len(order))], n_out=len(order), axis=0)
        name = g.op("Concat", [parts[k] for k in order], axis=0)
    return g.op("Unsqueeze", [name, g.ints([0])])


@reg.op(RNN.RNNLayer)
def rnn_layer(e, op):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse = op.args
    if batch_sizes is not None:
        raise Unsupported("packed sequences")
    if isinstance(w_hr, TRef):
        raise Unsupported("LSTM with proj_size")
    g = e.g
    order = _ORDER[mode]
    hidden = w_hh.shape[1]
    inputs = [e.x(x), _gates(e, w_ih, order), _gates(e, w_hh, order)]
    if isinstance(b_ih, TRef):
        inputs.append(g.op("Concat", [_gates(e, b_ih, order), _gates(e, b_hh, order)], axis=1))
    else:
        inputs.append("")
    inputs += ["", g.op("Unsqueeze", [e.x(h0), g.ints([0])])]
    attrs = dict(hidden_size=int(hidden), direction="reverse" if reverse else "forward")
    if mode == "LSTM":
        inputs.append(g.op("Unsqueeze", [e.x(c0), g.ints([0])]))
    elif mode == "GRU":
        attrs["linear_before_reset"] = 1
    else:
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"]
    outs = g.op(_OP[mode], inputs, n_out=3 if mode == "LSTM" else 2, **attrs)
    e.set(op, 0, g.op("Squeeze", [outs[0], g.ints([1])]))
    e.set(op, 1, g.op("Squeeze", [outs[1], g.ints([0])]))
    if mode == "LSTM":
        e.set(op, 2, g.op("Squeeze", [outs[2], g.ints([0])]))
    elif e.is_used(op, 2):
        e.set(op, 2, g.const(np.zeros((0,), x.dtype)))
