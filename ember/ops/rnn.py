"""Fused recurrent layers: one Function per layer and direction over the whole sequence.

Forward: one GEMM projects every time step's input; a loop over time does the recurrent GEMM and the
fused gate math. Backward: a reverse loop over time for the recurrent gradient only, then one GEMM each
for the input, input-weight and hidden-weight gradients. Sequences may have per-step batch sizes
(packed, sorted by decreasing length): rows past a step's batch size keep their state unchanged.
Gate orders are PyTorch's: LSTM (i, f, g, o), GRU (r, z, n).
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, once_differentiable
from . import special_math as sm


def _sig(x):
    return sm.expit(x)


class RNNLayer(Function):
    """One layer, one direction. mode: 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU'."""

    _raw = True
    _node_name = "RnnBackward"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse):
        t_max, b, _ = x.shape
        hsz = w_hh.shape[1] if mode != "LSTM" or w_hr is None else w_hr.shape[1]
        xw = np.matmul(x.reshape(t_max * b, -1), w_ih.T).reshape(t_max, b, -1)
        if b_ih is not None:
            xw += b_ih
            if mode == "GRU":
                xw[..., :2 * hsz] += b_hh[:2 * hsz]
            else:
                xw += b_hh
        h = h0.copy()
        c = c0.copy() if c0 is not None else None
        out = np.zeros((t_max, b, h0.shape[1]), x.dtype)
        hprev = np.zeros((t_max, b, h0.shape[1]), x.dtype)
        cache = {}
        steps = range(t_max - 1, -1, -1) if reverse else range(t_max)
        for t in steps:
            bs = b if batch_sizes is None else int(batch_sizes[t])
            if bs == 0:
                continue
            hp = h[:bs]
            hprev[t, :bs] = hp
            hh = hp @ w_hh.T
            if mode == "LSTM":
                g = xw[t, :bs] + hh
                i, f = _sig(g[:, :hsz]), _sig(g[:, hsz:2 * hsz])
                gg, o = np.tanh(g[:, 2 * hsz:3 * hsz]), _sig(g[:, 3 * hsz:])
                cp = c[:bs].copy()
                cn = f * cp + i * gg
                tc = np.tanh(cn)
                hraw = o * tc
                hn = hraw @ w_hr.T if w_hr is not None else hraw
                c[:bs] = cn
                cache[t] = (i, f, gg, o, tc, cp, hraw)
            elif mode == "GRU":
                hn_raw = hh[:, 2 * hsz:]
                if b_hh is not None:
                    hn_raw = hn_raw + b_hh[2 * hsz:]
                r = _sig(xw[t, :bs, :hsz] + hh[:, :hsz])
                z = _sig(xw[t, :bs, hsz:2 * hsz] + hh[:, hsz:2 * hsz])
                n = np.tanh(xw[t, :bs, 2 * hsz:] + r * hn_raw)
                hn = (1 - z) * n + z * hp
                cache[t] = (r, z, n, hn_raw)
            else:
                pre = xw[t, :bs] + hh
                hn = np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)
                cache[t] = (hn,)
            h[:bs] = hn
            out[t, :bs] = hn
        ctx.state = (x, w_ih, w_hh, w_hr, b_ih is not None, mode, batch_sizes, reverse, cache, hprev, hsz)
        return out, h, (c if c is not None else np.zeros((0,), x.dtype))

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_hn, g_cn):
        x, w_ih, w_hh, w_hr, has_bias, mode, batch_sizes, reverse, cache, hprev, hsz = ctx.state
        t_max, b, _ = x.shape
        go = g_out._data
        dh = g_hn._data.copy()
        dc = g_cn._data.copy() if mode == "LSTM" else None
        n_gates = w_hh.shape[0]
        dx_gates = np.zeros((t_max, b, n_gates), go.dtype)
        dh_gates = dx_gates if mode != "GRU" else np.zeros((t_max, b, n_gates), go.dtype)
        d_whr = np.zeros_like(w_hr) if w_hr is not None else None
        steps = range(t_max) if reverse else range(t_max - 1, -1, -1)
        for t in steps:
            bs = b if batch_sizes is None else int(batch_sizes[t])
            if bs == 0:
                continue
            dht = dh[:bs] + go[t, :bs]
            if mode == "LSTM":
                i, f, gg, o, tc, cp, hraw = cache[t]
                if w_hr is not None:
                    d_whr += dht.T @ hraw
                    dht = dht @ w_hr
                dct = dc[:bs] + dht * o * (1 - tc * tc)
                gates = np.concatenate([dct * gg * i * (1 - i), dct * cp * f * (1 - f),
                                        dct * i * (1 - gg * gg), dht * tc * o * (1 - o)], axis=1)
                dx_gates[t, :bs] = gates
                dh[:bs] = gates @ w_hh
                dc[:bs] = dct * f
            elif mode == "GRU":
                r, z, n, hn_raw = cache[t]
                dn = dht * (1 - z) * (1 - n * n)
                dz = dht * (hprev[t, :bs] - n) * z * (1 - z)
                dr = dn * hn_raw * r * (1 - r)
                dx_gates[t, :bs] = np.concatenate([dr, dz, dn], axis=1)
                hg = np.concatenate([dr, dz, dn * r], axis=1)
                dh_gates[t, :bs] = hg
                dh[:bs] = dht * z + hg @ w_hh
            else:
                (hn,) = cache[t]
                pre = dht * (1 - hn * hn) if mode == "RNN_TANH" else dht * (hn > 0)
                dx_gates[t, :bs] = pre
                dh[:bs] = pre @ w_hh
        flat_dx = dx_gates.reshape(t_max * b, n_gates)
        flat_dh = dh_gates.reshape(t_max * b, n_gates)
        need = ctx.needs_input_grad
        dx = (flat_dx @ w_ih).reshape(x.shape) if need[0] else None
        d_wih = flat_dx.T @ x.reshape(t_max * b, -1) if need[3] else None
        d_whh = flat_dh.T @ hprev.reshape(t_max * b, -1) if need[4] else None
        d_bih = flat_dx.sum(0) if has_bias and need[5] else None
        d_bhh = flat_dh.sum(0) if has_bias and need[6] else None
        wrap = lambda a: Tensor._make(a) if a is not None else None  # noqa: E731
        return (wrap(dx), wrap(dh), wrap(dc) if mode == "LSTM" else None, wrap(d_wih), wrap(d_whh), wrap(d_bih),
                wrap(d_bhh), wrap(d_whr), None, None, None)


def cell_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """Run a single time step through RNNLayer; returns (h, c)."""
    out, hn, cn = RNNLayer.apply(x.unsqueeze(0), h, c, w_ih, w_hh, b_ih, b_hh, None, mode, None, False)
    return hn, (cn if mode == "LSTM" else None)
