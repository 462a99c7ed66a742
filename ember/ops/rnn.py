"""Fused recurrent layers: one Function per layer and direction over the whole sequence.

Forward: one GEMM projects every time step's input into step-major, gate-major pre-activations (T, gates, B, H), so
each step's gates are one contiguous block and each gate of a step a contiguous part of it; a loop over time does
one recurrent product per step (LSTM's straight into the gate-major layout, one small GEMM per gate) and the gate
math in preallocated per-sequence buffers (in place, with out= arguments), on per-step views made before the loop.
Sigmoid gates are 1 / (1 + exp(-z)) with the negation folded into the weights (exact), one exp pass over all of
them. Backward: every factor that does not depend on the recurrence is computed for all steps at once before the
reverse loop; the loop only carries dh/dc (one GEMM per step); then GEMMs give the input, input-weight and
hidden-weight gradients.

Sequences are processed in step order (reversed time for the backward direction) and may have per-step
batch sizes (packed, sorted by decreasing length): a row joins when its sequence starts (from h0) and keeps
its last state once its sequence ends. Gate orders are PyTorch's: LSTM (i, f, g, o), GRU (r, z, n).
With create_graph, backward recomputes the layer as a graph of ember ops so that double backward works.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._bits import constant

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
# factor folded into each gate's weight rows: exp(factor * z) is what the gate's activation needs
_EXP_FACTORS = {"LSTM": (-1.0, -1.0, -1.0, 1.0), "GRU": (-1.0, -1.0, 1.0)}


def _gate_major(w, n_gates):
    """A (gates * H, K) weight as (gates, K, H): w_k.T per gate, for x @ w.T computed gate by gate."""
    hsz = w.shape[0] // n_gates
    return w.reshape(n_gates, hsz, w.shape[1]).transpose(0, 2, 1)


def _gate_projection(xs, w_ih, bias, n_gates):
    """x_t @ w_ih.T + bias for every step at once, step-major and gate-major, (T, gates, B, H): each step's gates
    are one contiguous block. One GEMM, then a copy that reorders its result."""
    t_max, b, n_in = xs.shape
    hsz = w_ih.shape[0] // n_gates
    flat = xs.reshape(t_max * b, n_in).dot(w_ih.T)
    if bias is not None:
        flat += bias
    return np.ascontiguousarray(flat.reshape(t_max, b, n_gates, hsz).transpose(0, 2, 1, 3))


def _scaled(mode, w_ih, w_hh, bias, dtype):
    """Weights and bias with each gate's exp factor folded in (exact: the factors are -1, -2 or 1)."""
    f = np.repeat(np.asarray(_EXP_FACTORS[mode], dtype), w_hh.shape[0] // _GATES[mode])
    return w_ih * f[:, None], w_hh * f[:, None], (bias * f if bias is not None else None)


def _sigmoid_from_exp(a, one):
    """In place: a holds exp(-z); make it sigmoid(z) = 1 / (1 + exp(-z)) (exp overflow gives exactly 0). one is
    constant(1, a.dtype): a ufunc takes a 0-d array sooner than a Python number."""
    np.add(a, one, out=a)
    np.reciprocal(a, out=a)


def _gates_view(buf, n, n_gates, hsz):
    """The first n rows of a (B, gates * H) buffer seen gate-major: (gates, n, H)."""
    return buf[:n].reshape(n, n_gates, hsz).transpose(1, 0, 2)


def _weight_grads(p, hidden, xs, hprev, w_ih, need):
    """dx, d_w_ih, d_w_hh, d_b_ih, d_b_hh from the gate-major (gates, T, B, H) pre-activation gradients p of
    the input side and the per-gate (T, B, H) gradients `hidden` of the hidden side (one GEMM per gate)."""
    n_gates, t_max, b, hsz = p.shape
    n_in, psz = xs.shape[2], hprev.shape[2]
    rows = t_max * b
    flat = p.reshape(n_gates, rows, hsz)
    dx = d_wih = d_whh = d_bih = d_bhh = None
    if need[0]:
        dx = np.matmul(flat, w_ih.reshape(n_gates, hsz, n_in)).sum(0).reshape(t_max, b, n_in)
    if need[3]:
        d_wih = np.matmul(flat.transpose(0, 2, 1), xs.reshape(rows, n_in)).reshape(n_gates * hsz, n_in)
    if need[4]:
        h2 = hprev.reshape(rows, psz)
        d_whh = np.concatenate([a.reshape(rows, hsz).T @ h2 for a in hidden])
    if need[5]:
        d_bih = flat.sum(1).reshape(n_gates * hsz)
    if need[6]:
        d_bhh = np.concatenate([a.reshape(rows, hsz).sum(0) for a in hidden])
    return dx, d_wih, d_whh, d_bih, d_bhh


def _flat_weight_grads(flat, xs, hprev, w_ih, need):
    """dx, d_w_ih, d_w_hh, d_b_ih, d_b_hh from the step-major (T * B, gates * H) pre-activation gradients `flat`,
    which the input and hidden sides share: one GEMM each."""
    t_max, b, n_in = xs.shape
    rows = t_max * b
    dx = flat.dot(w_ih).reshape(t_max, b, n_in) if need[0] else None
    d_wih = flat.T.dot(xs.reshape(rows, n_in)) if need[3] else None
    d_whh = flat.T.dot(hprev.reshape(rows, hprev.shape[2])) if need[4] else None
    d_b = np.add.reduce(flat, axis=0) if need[5] or need[6] else None
    return dx, d_wih, d_whh, (d_b if need[5] else None), (d_b.copy() if need[6] else None)


class _Seq:
    """Step-order view of a (possibly packed) sequence: batch sizes per step and row bookkeeping."""

    def __init__(self, t_max, b, batch_sizes, reverse):
        self.t_max, self.b, self.reverse = t_max, b, reverse
        if batch_sizes is None:
            self.sizes = None
        else:
            bs = np.asarray(batch_sizes, np.int64)
            self.sizes = [int(n) for n in (bs[::-1] if reverse else bs)]

    def n(self, s):
        return self.b if self.sizes is None else self.sizes[s]

    def to_steps(self, a):
        """A time-major array in step order (contiguous)."""
        return np.ascontiguousarray(a[::-1] if self.reverse else a)

    def steps(self, a, lead=0):
        """a's per-step blocks in step order, each cut to that step's active rows (axis `lead` of a block)."""
        if self.sizes is None:
            return a
        cut = (slice(None),) * lead
        return [a[(s,) + cut + (slice(0, n),)] for s, n in enumerate(self.sizes)]

    def reused(self, buf, lead=0):
        """One buffer for every step, cut to each step's active rows (axis `lead`), as a list in step order."""
        if self.sizes is None:
            return [buf] * self.t_max
        cut = (slice(None),) * lead
        return [buf[cut + (slice(0, n),)] for n in self.sizes]

    def start_states(self, states, init):
        """Write each row's initial state into the (T+1, B, .) step-state buffer at the step its sequence starts."""
        if self.sizes is None:
            states[0] = init
            return
        joined = 0
        for s, n in enumerate(self.sizes):
            if n > joined:
                states[s, joined:n] = init[joined:n]
                joined = n

    def mask(self, dtype):
        """(T, B, 1) with 1 where a row is active at a step (None when every row always is)."""
        if self.sizes is None:
            return None
        return (np.arange(self.b)[None, :] < np.asarray(self.sizes)[:, None]).astype(dtype)[..., None]

    def final(self, states):
        """Each row's state after its last active step, from the (T+1, B, .) step-state buffer."""
        if self.sizes is None or self.reverse:
            return states[self.t_max].copy()
        lens = (np.asarray(self.sizes)[:, None] > np.arange(self.b)[None, :]).sum(0)
        return states[lens, np.arange(self.b)]


# ---- LSTM -------------------------------------------------------------------------------------------------------
# The kernels keep LSTM's gates as (i, f, o, g): the three sigmoid gates form one block for the exp pass, and g is a
# tanh of its own. _LSTM_ORDER picks those gates out of PyTorch's (i, f, g, o) weight rows.
_LSTM_ORDER = [0, 1, 3, 2]


def _lstm_gates(w, hsz):
    """Weight rows (or a bias) in PyTorch's gate order (i, f, g, o), reordered to the kernels' (i, f, o, g)."""
    return w.reshape((4, hsz) + w.shape[1:])[_LSTM_ORDER].reshape(w.shape)


def _lstm_forward(seq, xs, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
    t_max, b = seq.t_max, seq.b
    hsz, psz, dt = w_hh.shape[0] // 4, h0.shape[1], xs.dtype
    bias = _lstm_gates(b_ih + b_hh, hsz) if b_ih is not None else None
    w_ih_s, w_hh_s, bias = _scaled("LSTM", _lstm_gates(w_ih, hsz), _lstm_gates(w_hh, hsz), bias, dt)
    acts = _gate_projection(xs, w_ih_s, bias, 4)
    w4 = np.ascontiguousarray(_gate_major(w_hh_s, 4))  # (4, P, H): h @ w4 is the recurrent term, gate-major
    alloc = np.empty if seq.sizes is None else np.zeros
    hs, cs = alloc((t_max + 1, b, psz), dt), alloc((t_max + 1, b, hsz), dt)
    tcs = alloc((t_max, b, hsz), dt)
    seq.start_states(hs, h0)
    seq.start_states(cs, c0)
    hraw = alloc((t_max, b, hsz), dt) if w_hr is not None else None
    w_hr_t = w_hr.T if w_hr is not None else None
    one = constant(1, dt)
    steps = zip(seq.steps(acts, 1), seq.steps(acts[:, :3], 1), *(seq.steps(a) for a in acts.transpose(1, 0, 2, 3)),
                seq.steps(hs), seq.steps(hs[1:]), seq.steps(cs), seq.steps(cs[1:]), seq.steps(tcs),
                seq.steps(hraw if w_hr is not None else hs[1:]),
                seq.reused(np.empty((4, b, hsz), dt), 1), seq.reused(np.empty((b, hsz), dt)))
    with np.errstate(over="ignore"):
        for g, sig, gi, gf, go, gg, h, h_next, c, c_next, tc, out, m, tmp in steps:
            np.matmul(h, w4, out=m)
            g += m
            np.exp(sig, out=sig)
            _sigmoid_from_exp(sig, one)
            np.tanh(gg, out=gg)
            np.multiply(gf, c, out=c_next)
            np.multiply(gi, gg, out=tmp)
            c_next += tmp
            np.tanh(c_next, out=tc)
            np.multiply(go, tc, out=out)
            if w_hr is not None:
                np.matmul(out, w_hr_t, out=h_next)
    return dict(acts=acts, hs=hs, cs=cs, tcs=tcs, hraw=hraw), seq.final(hs), seq.final(cs)


def _lstm_backward(seq, st, xs, w_ih, w_hh, w_hr, g_out, g_hn, g_cn, need):
    """Gate gradients step-major, (T, B, 4 * H) in PyTorch's gate order, so that each step's recurrent product and
    the weight gradients are plain GEMMs on them."""
    t_max, b = seq.t_max, seq.b
    acts, hs, cs, tcs, hraw = st["acts"], st["hs"], st["cs"], st["tcs"], st["hraw"]
    hsz, psz, dt = tcs.shape[2], hs.shape[2], tcs.dtype
    i, f, o, g = acts.transpose(1, 0, 2, 3)
    # factors of the gate gradients that do not depend on the recurrence, for every step at once: built gate-major
    # (T, 4, B, H), where each gate of a step is a contiguous block, then copied step-major
    k_c = tcs * tcs
    np.subtract(1, k_c, out=k_c)
    k_c *= o
    sig = acts[:, :3]
    slopes = np.subtract(1, sig)
    slopes *= sig  # i(1 - i), f(1 - f), o(1 - o)
    fac = np.empty((t_max, 4, b, hsz), dt)
    np.multiply(slopes[:, 0], g, out=fac[:, 0])
    np.multiply(slopes[:, 1], cs[:-1], out=fac[:, 1])
    d_g = fac[:, 2]
    np.multiply(g, g, out=d_g)
    np.subtract(1, d_g, out=d_g)
    d_g *= i
    np.multiply(slopes[:, 2], tcs, out=fac[:, 3])
    dg = np.ascontiguousarray(fac.transpose(0, 2, 1, 3))
    mask = seq.mask(dt)
    if mask is not None:
        dg *= mask[..., None]
    dh, dc = g_hn.copy(), g_cn.copy()
    dht_all = (np.empty if seq.sizes is None else np.zeros)((t_max, b, psz), dt)
    d_c_gates = np.empty((b, 1, hsz), dt)  # d_c with a gate axis, to scale the i, f, g gates at once
    steps = zip(*(reversed(v) for v in (
        seq.steps(dht_all), seq.steps(g_out), seq.steps(k_c), seq.steps(dg[:, :, :3]), seq.steps(dg[:, :, 3]),
        seq.steps(dg.reshape(t_max, b, 4 * hsz)), seq.steps(f), seq.reused(dh), seq.reused(dc),
        seq.reused(d_c_gates), seq.reused(d_c_gates[:, 0]),
        seq.reused(np.empty((b, hsz), dt)) if w_hr is not None else seq.steps(dht_all))))
    for dht, g_o, k, d_ifg, d_o, d_flat, f_s, d_hs, d_cs, d_c3, d_c, d_h in steps:
        np.add(d_hs, g_o, out=dht)
        if w_hr is not None:
            np.matmul(dht, w_hr, out=d_h)
        np.multiply(d_h, k, out=d_c)
        d_c += d_cs
        d_ifg *= d_c3
        d_o *= d_h
        np.matmul(d_flat, w_hh, out=d_hs)
        np.multiply(d_c, f_s, out=d_cs)
    d_whr = None
    if w_hr is not None and need[7]:
        d_whr = dht_all.reshape(t_max * b, psz).T @ hraw.reshape(t_max * b, hsz)
    dx, d_wih, d_whh, d_bih, d_bhh = _flat_weight_grads(dg.reshape(t_max * b, 4 * hsz), xs, hs[:-1], w_ih, need)
    return dx, dh, dc, d_wih, d_whh, d_bih, d_bhh, d_whr


# ---- GRU --------------------------------------------------------------------------------------------------------
def _gru_forward(seq, xs, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
    t_max, b = seq.t_max, seq.b
    hsz, dt = w_hh.shape[0] // 3, xs.dtype
    bias = None
    if b_ih is not None:
        bias = b_ih.copy()
        bias[:2 * hsz] += b_hh[:2 * hsz]
    w_ih_s, w_hh_s, bias = _scaled("GRU", w_ih, w_hh, bias, dt)
    acts = _gate_projection(xs, w_ih_s, bias, 3)
    whh_t = w_hh_s.T
    b_hn = b_hh[2 * hsz:] if b_hh is not None else None
    alloc = np.empty if seq.sizes is None else np.zeros
    hs = alloc((t_max + 1, b, hsz), dt)
    ghn = alloc((t_max, b, hsz), dt)
    mm, tmp = np.empty((b, 3 * hsz), dt), np.empty((b, hsz), dt)
    one = constant(1, dt)
    seq.start_states(hs, h0)
    with np.errstate(over="ignore"):
        for s in range(t_max):
            n = seq.n(s)
            np.matmul(hs[s, :n], whh_t, out=mm[:n])
            gh = _gates_view(mm, n, 3, hsz)
            rz = acts[s, :2, :n]
            rz += gh[:2]
            np.exp(rz, out=rz)
            _sigmoid_from_exp(rz, one)
            hn = ghn[s, :n]
            if b_hn is not None:
                np.add(gh[2], b_hn, out=hn)
            else:
                hn[...] = gh[2]
            nn = acts[s, 2, :n]
            np.multiply(rz[0], hn, out=tmp[:n])
            nn += tmp[:n]
            np.tanh(nn, out=nn)
            h = hs[s + 1, :n]
            np.subtract(hs[s, :n], nn, out=h)
            h *= rz[1]
            h += nn
    return dict(acts=acts.transpose(1, 0, 2, 3), hs=hs, ghn=ghn), seq.final(hs), None


def _gru_backward(seq, st, xs, w_ih, w_hh, w_hr, g_out, g_hn, g_cn, need):
    t_max, b = seq.t_max, seq.b
    acts, hs, ghn = st["acts"], st["hs"], st["ghn"]
    hsz, dt = ghn.shape[2], ghn.dtype
    r, z, nv = acts
    dg = np.empty((3, t_max, b, hsz), dt)
    np.subtract(1, r, out=dg[0])
    dg[0] *= r
    dg[0] *= ghn
    np.subtract(1, z, out=dg[1])
    dg[1] *= z
    tmp_all = hs[:-1] - nv
    dg[1] *= tmp_all
    np.multiply(nv, nv, out=dg[2])
    np.subtract(1, dg[2], out=dg[2])
    np.subtract(1, z, out=tmp_all)
    dg[2] *= tmp_all
    mask = seq.mask(dt)
    if mask is not None:
        dg *= mask
    dnr = (np.empty if mask is None else np.zeros)((t_max, b, hsz), dt)
    step = np.empty((b, 3 * hsz), dt)
    dh = g_hn.copy()
    dht, tmp = np.empty((b, hsz), dt), np.empty((b, hsz), dt)
    for s in range(t_max - 1, -1, -1):
        n = seq.n(s)
        d = dht[:n]
        np.add(dh[:n], g_out[s, :n], out=d)
        dx3 = dg[:, s, :n]
        dx3[1:] *= d
        dx3[0] *= dx3[2]
        np.multiply(dx3[2], r[s, :n], out=dnr[s, :n])
        hg = _gates_view(step, n, 3, hsz)
        np.copyto(hg[:2], dx3[:2])
        hg[2] = dnr[s, :n]
        np.multiply(d, z[s, :n], out=tmp[:n])
        np.matmul(step[:n], w_hh, out=dh[:n])
        dh[:n] += tmp[:n]
    dx, d_wih, d_whh, d_bih, d_bhh = _weight_grads(dg, (dg[0], dg[1], dnr), xs, hs[:-1], w_ih, need)
    return dx, dh, None, d_wih, d_whh, d_bih, d_bhh, None


# ---- Elman RNN --------------------------------------------------------------------------------------------------
def _rnn_forward(mode):
    def forward(seq, xs, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
        t_max, b = seq.t_max, seq.b
        bias = b_ih + b_hh if b_ih is not None else None
        pre = _gate_projection(xs, w_ih, bias, 1)[:, 0]
        alloc = np.empty if seq.sizes is None else np.zeros
        hs = alloc((t_max + 1, b, w_hh.shape[1]), xs.dtype)
        whh_t = w_hh.T
        seq.start_states(hs, h0)
        for s in range(t_max):
            n = seq.n(s)
            h = hs[s + 1, :n]
            np.matmul(hs[s, :n], whh_t, out=h)
            h += pre[s, :n]
            if mode == "RNN_TANH":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0, out=h)
        return dict(hs=hs), seq.final(hs), None
    return forward


def _rnn_backward(mode):
    def backward(seq, st, xs, w_ih, w_hh, w_hr, g_out, g_hn, g_cn, need):
        t_max = seq.t_max
        hs = st["hs"]
        dt = hs.dtype
        if mode == "RNN_TANH":
            dg = hs[1:] * hs[1:]
            np.subtract(1, dg, out=dg)
        else:
            dg = (hs[1:] > 0).astype(dt)
        mask = seq.mask(dt)
        if mask is not None:
            dg *= mask
        dh = g_hn.copy()
        dht = np.empty_like(dh)
        for s in range(t_max - 1, -1, -1):
            n = seq.n(s)
            np.add(dh[:n], g_out[s, :n], out=dht[:n])
            d = dg[s, :n]
            d *= dht[:n]
            np.matmul(d, w_hh, out=dh[:n])
        flat = dg.reshape(t_max * seq.b, dg.shape[2])
        dx, d_wih, d_whh, d_bih, d_bhh = _flat_weight_grads(flat, xs, hs[:-1], w_ih, need)
        return dx, dh, None, d_wih, d_whh, d_bih, d_bhh, None
    return backward


_FORWARD = {"LSTM": _lstm_forward, "GRU": _gru_forward, "RNN_TANH": _rnn_forward("RNN_TANH"),
            "RNN_RELU": _rnn_forward("RNN_RELU")}
_BACKWARD = {"LSTM": _lstm_backward, "GRU": _gru_backward, "RNN_TANH": _rnn_backward("RNN_TANH"),
             "RNN_RELU": _rnn_backward("RNN_RELU")}


class RNNLayer(Function):
    """One layer, one direction. mode: 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU'."""

    _raw = True
    _node_name = "RnnBackward"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse):
        seq = _Seq(x.shape[0], x.shape[1], batch_sizes, reverse)
        xs = seq.to_steps(x)
        st, hn, cn = _FORWARD[mode](seq, xs, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        out = st["hs"][:0:-1].copy() if reverse else st["hs"][1:].copy()
        ctx.state = (seq, st, xs, mode, batch_sizes)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        return out, hn, (cn if cn is not None else np.zeros((0,), x.dtype))

    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn):
        seq, st, xs, mode, batch_sizes = ctx.state
        saved = ctx.saved_tensors
        if STATE.enabled:
            return _graph_backward(saved, mode, batch_sizes, seq.reverse, ctx.needs_input_grad, g_out, g_hn, g_cn)
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = (t._data if t is not None else None for t in saved)
        gc = g_cn._data if mode == "LSTM" else None
        go = g_out._data[::-1] if seq.reverse else g_out._data
        grads = _BACKWARD[mode](seq, st, xs, w_ih, w_hh, w_hr, go, g_hn._data, gc, ctx.needs_input_grad)
        dx = grads[0]
        if dx is not None and seq.reverse:
            dx = np.ascontiguousarray(dx[::-1])
        wrap = lambda a: Tensor._make(a) if a is not None else None  # noqa: E731
        return (wrap(dx),) + tuple(wrap(a) for a in grads[1:]) + (None, None, None)


def _graph_backward(saved, mode, batch_sizes, reverse, need, g_out, g_hn, g_cn):
    """Gradients through a recomputed graph of ember ops, themselves differentiable (double backward)."""
    from ..autograd import grad as _grad
    from ..autograd.grad_mode import enable_grad
    with enable_grad():
        out, hn, cn = graph_layer(mode, *saved, batch_sizes, reverse)
        outs, grads = [out, hn], [g_out, g_hn]
        if mode == "LSTM":
            outs.append(cn)
            grads.append(g_cn)
        wanted = [k for k, t in enumerate(saved) if t is not None and need[k]]
        res = _grad(outs, [saved[k] for k in wanted], grads, create_graph=True, allow_unused=True)
    result = [None] * 11
    for k, g in zip(wanted, res):
        result[k] = g
    return tuple(result)


def graph_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=None, reverse=False):
    """The layer composed of ordinary differentiable ember ops (reference semantics of RNNLayer)."""
    from .shape import cat, stack
    from .creation import zeros
    t_max, b = x.shape[0], x.shape[1]
    sizes = [b] * t_max if batch_sizes is None else [int(n) for n in np.asarray(batch_sizes)]
    steps = range(t_max - 1, -1, -1) if reverse else range(t_max)
    h, c = h0, c0
    outs = [None] * t_max
    hsz = w_hh.shape[0] // _GATES[mode]
    for t in steps:
        n = sizes[t]
        gi = x[t, :n].matmul(w_ih.t())
        gh = h[:n].matmul(w_hh.t())
        if b_ih is not None:
            gi, gh = gi + b_ih, gh + b_hh
        if mode == "LSTM":
            gates = gi + gh
            i, f = gates[:, :hsz].sigmoid(), gates[:, hsz:2 * hsz].sigmoid()
            g, o = gates[:, 2 * hsz:3 * hsz].tanh(), gates[:, 3 * hsz:].sigmoid()
            cn = f * c[:n] + i * g
            hn = o * cn.tanh()
            if w_hr is not None:
                hn = hn.matmul(w_hr.t())
            c = cat([cn, c[n:]]) if n < c.shape[0] else cn
        elif mode == "GRU":
            r = (gi[:, :hsz] + gh[:, :hsz]).sigmoid()
            z = (gi[:, hsz:2 * hsz] + gh[:, hsz:2 * hsz]).sigmoid()
            nn = (gi[:, 2 * hsz:] + r * gh[:, 2 * hsz:]).tanh()
            hn = (1 - z) * nn + z * h[:n]
        else:
            pre = gi + gh
            hn = pre.tanh() if mode == "RNN_TANH" else pre.relu()
        h = cat([hn, h[n:]]) if n < h.shape[0] else hn
        outs[t] = cat([hn, zeros((b - n, hn.shape[1]), dtype=hn.dtype)]) if n < b else hn
    return stack(outs, 0), h, c


def cell_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """Run a single time step through RNNLayer; returns (h, c)."""
    out, hn, cn = RNNLayer.apply(x.unsqueeze(0), h, c, w_ih, w_hh, b_ih, b_hh, None, mode, None, False)
    return hn, (cn if mode == "LSTM" else None)
