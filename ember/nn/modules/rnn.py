"""RNN, LSTM, GRU and their cells: PyTorch's parameter names, shapes, gate order and initialisation."""
import math
import numbers
import warnings

import numpy as np

from ..._tensor import Tensor
from ...ops.creation import empty, zeros
from ...ops.rnn import RNNLayer, cell_step
from ...ops.shape import cat, stack
from .. import functional as F
from ..functional import _scalar_name
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_rnn_args(bias, batch_first, input_size, hidden_size):
    """torch's constructor type and range checks (in its order), so bad arguments fail with its errors."""
    for name, v in (("bias", bias), ("batch_first", batch_first)):
        if not isinstance(v, bool):
            raise TypeError(f"{name} should be of type bool, got: {type(v).__name__}")
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(v, int):
            raise TypeError(f"{name} should be of type int, got: {type(v).__name__}")
        if v <= 0:
            raise ValueError(f"{name} must be greater than zero")


def _zero_states(shape, dtype):
    """The zero initial states of every layer-direction, one (B, *) tensor each (hx not given)."""
    return [Tensor._make(np.zeros(shape[1:], dtype)) for _ in range(shape[0])]


class RNNBase(Module):
    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        _check_rnn_args(bias, batch_first, input_size, hidden_size)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden = proj_size if proj_size > 0 else hidden_size
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                w_ih = Parameter(empty((gate_size, layer_input), dtype=dtype))
                w_hh = Parameter(empty((gate_size, real_hidden), dtype=dtype))
                params = [w_ih, w_hh]
                if bias:
                    params += [Parameter(empty(gate_size, dtype=dtype)), Parameter(empty(gate_size, dtype=dtype))]
                if proj_size > 0:
                    params.append(Parameter(empty((proj_size, hidden_size), dtype=dtype)))
                suffix = "_reverse" if direction == 1 else ""
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    names += ["weight_hr_l{}{}"]
                names = [n.format(layer, suffix) for n in names]
                for name, param in zip(names, params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, w) for w in weights] for weights in self._all_weights]

    def flatten_parameters(self):
        pass

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "proj_size" not in self.__dict__:
            self.proj_size = 0

    # ---- forward ------------------------------------------------------------------------------------------------
    def _layer_params(self, weights, k):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of layer-direction k from the flat weight list (names in __init__'s
        order: two weights, two biases if any, the projection if any)."""
        n = 2 + 2 * bool(self.bias) + (self.proj_size > 0)
        w = weights[k * n:(k + 1) * n]
        biases = (w[2], w[3]) if self.bias else (None, None)
        return (w[0], w[1]) + biases + ((w[-1] if self.proj_size > 0 else None),)

    def _run(self, x, h0, c0, batch_sizes, weights):
        """Time-major x (T, B, I); h0/c0 per layer-direction lists of (B, *) states. Returns output and final
        states."""
        num_dirs = 2 if self.bidirectional else 1
        hs, cs = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(num_dirs):
                k = layer * num_dirs + d
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(weights, k)
                out, hn, cn = RNNLayer.apply(layer_input, h0[k], c0[k] if c0 is not None else None, w_ih, w_hh,
                                             b_ih, b_hh, w_hr, self.mode, batch_sizes, d == 1)
                outs.append(out)
                hs.append(hn)
                cs.append(cn)
            layer_input = outs[0] if num_dirs == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, stack(hs, 0), (stack(cs, 0) if c0 is not None else None)

    def _check_hidden(self, hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.shape)))

    def _check_input(self, x, packed, weights):
        """torch's check_input: dtype against the weights, rank, feature size."""
        w_dt = weights[0].dtype
        if x.dtype != w_dt:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype ({w_dt}). Convert input: "
                             f"input.to({w_dt}), or convert model: model.to({x.dtype})")
        expected = 2 if packed else 3
        if x.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {x.dim()}")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{x.shape[-1]}")

    def _check_hx_rank(self, h0, c0, batched):
        """The batched/unbatched rank check of a given hx (and cx), with torch's per-mode message."""
        want, kind = (3, "batched 3-D") if batched else (2, "unbatched 2-D")
        if c0 is not None:
            if h0.dim() != want or c0.dim() != want:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got ({h0.dim()}-D, "
                                   f"{c0.dim()}-D) tensors")
        elif h0.dim() != want:
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {h0.dim()}-D tensor")

    def _packed_to_padded(self, packed):
        """Time-major (T, B, I) zero-padded data of a PackedSequence, and the flat indices of its rows."""
        batch_sizes = packed.batch_sizes._data
        b, t_max = int(batch_sizes[0]), len(batch_sizes)
        flat = (np.arange(t_max)[:, None] * b + np.arange(b)[None, :])[np.arange(b)[None, :] < batch_sizes[:, None]]
        flat_t = Tensor._make(flat)
        x = zeros((t_max * b, packed.data.shape[1]), dtype=packed.data.dtype).index_copy(0, flat_t, packed.data)
        return x.reshape(t_max, b, packed.data.shape[1]), flat_t

    def forward(self, input, hx=None):
        num_dirs = 2 if self.bidirectional else 1
        is_lstm = self.mode == "LSTM"
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        h0 = c0 = None
        if hx is not None:
            h0, c0 = (hx[0], hx[1]) if is_lstm else (hx, None)
        if packed:
            batch_sizes = input.batch_sizes._data
            b, unbatched, data = int(batch_sizes[0]), False, input.data
            if h0 is not None:
                h0 = h0.index_select(1, input.sorted_indices) if input.sorted_indices is not None else h0
                c0 = c0.index_select(1, input.sorted_indices) if c0 is not None and input.sorted_indices is not None \
                    else c0
        else:
            batch_sizes = None
            if input.dim() not in (2, 3):
                kind = "D tensor instead" if self.mode.startswith("RNN") else "D instead"
                raise ValueError(f"{self.mode.split('_')[0]}: Expected input to be 2D or 3D, got {input.dim()}{kind}")
            unbatched = input.dim() == 2
            data = input.unsqueeze(0 if self.batch_first else 1) if unbatched else input
            b = data.shape[0] if self.batch_first else data.shape[1]
            if h0 is not None:
                self._check_hx_rank(h0, c0, not unbatched)
                if unbatched:
                    h0 = h0.unsqueeze(1)
                    c0 = c0.unsqueeze(1) if c0 is not None else None
        weights = self._flat_weights
        if not (is_lstm and packed and hx is None):
            self._check_input(data, packed, weights)
        h_shape = (self.num_layers * num_dirs, b, real_hidden)
        c_shape = (self.num_layers * num_dirs, b, self.hidden_size)
        w_ih = weights[0]
        if h0 is None:
            if data.dtype != w_ih.dtype:
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_scalar_name(data)} and "
                                   f"{_scalar_name(w_ih)}")
            h0 = _zero_states(h_shape, data._data.dtype)
            c0 = _zero_states(c_shape, data._data.dtype) if is_lstm else None
        else:
            if is_lstm:
                self._check_hidden(h0, h_shape, "Expected hidden[0] size {}, got {}")
                self._check_hidden(c0, c_shape, "Expected hidden[1] size {}, got {}")
            else:
                self._check_hidden(h0, h_shape)
            for t in (data, h0):
                if t.dtype != w_ih.dtype:
                    raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_scalar_name(t)} and "
                                       f"{_scalar_name(w_ih)}")
            h0, c0 = h0.unbind(0), (c0.unbind(0) if c0 is not None else None)
        if packed:
            x, flat_t = self._packed_to_padded(input)
        else:
            x = data.transpose(0, 1) if self.batch_first else data
            if x.shape[0] == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        out, hn, cn = self._run(x, h0, c0, batch_sizes, weights)
        if packed:
            data_out = out.reshape(-1, out.shape[-1]).index_select(0, flat_t)
            output = PackedSequence(data_out, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
            if input.unsorted_indices is not None:
                hn = hn.index_select(1, input.unsorted_indices)
                cn = cn.index_select(1, input.unsorted_indices) if cn is not None else None
        else:
            output = out.transpose(0, 1) if self.batch_first else out
            if unbatched:
                output = output.squeeze(0 if self.batch_first else 1)
                hn = hn.squeeze(1)
                cn = cn.squeeze(1) if cn is not None else None
        return (output, (hn, cn)) if is_lstm else (output, hn)


class RNN(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode, input, hx, cx):
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        states = [hx, cx] if mode == "LSTM" else [hx]
        for idx, value in enumerate(states):
            if value is not None and value.dim() not in (1, 2):
                what = f"hx[{idx}]" if mode == "LSTM" else "hidden"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {value.dim()}D instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        b = x.shape[0]
        if hx is None:
            states = [zeros(b, self.hidden_size, dtype=x.dtype) for _ in states]
        elif not batched:
            states = [v.unsqueeze(0) for v in states]
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected {self.input_size}")
        for label, v in enumerate(states):
            if v.shape[0] != b:
                raise RuntimeError(f"Input batch size {b} doesn't match hidden{label} batch size {v.shape[0]}")
            if v.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {v.shape[1]}, expected "
                                   f"{self.hidden_size}")
        for t in (x, states[0]):
            if t.dtype != self.weight_ih.dtype:
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_scalar_name(t)} and "
                                   f"{_scalar_name(self.weight_ih)}")
        c = states[1] if mode == "LSTM" else None
        hn, cn = cell_step(mode, x, states[0], c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if not batched:
            hn = hn.squeeze(0)
            cn = cn.squeeze(0) if cn is not None else None
        return hn, cn


class RNNCell(RNNCellBase):
    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, hx, None)[0]


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return self._step("LSTM", input, h, c)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", input, hx, None)[0]
