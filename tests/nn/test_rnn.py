"""RNN, LSTM, GRU and their cells against torch: outputs, final states and every gradient; layout, init, errors."""
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import assert_same
from .nnparity import arr, same, same_error, sync

F32_TOL = dict(rtol=1e-4, atol=1e-5)
I, H = 3, 5


@pytest.fixture(autouse=True, scope="module")
def torch_one_thread():
    """torch's thread pool only costs time on these tiny problems (and spins on a busy machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tol(dtype):
    return None if dtype == "float64" else F32_TOL


def _hidden_shapes(cls, kw, batch):
    """Shapes of h0 (and c0) for a module built with kwargs kw (batch None: unbatched)."""
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    h_out = kw.get("proj_size") or kw["hidden_size"]
    lead = (layers * dirs,) + ((batch,) if batch is not None else ())
    shapes = [lead + (h_out,)]
    if cls == "LSTM":
        shapes.append(lead + (kw["hidden_size"],))
    return shapes


def _input_array(kw, spec, dtype):
    t, b = spec.get("T", 4), spec.get("B", 3)
    if b is None:
        shape = (t, kw["input_size"])
    elif kw.get("batch_first"):
        shape = (b, t, kw["input_size"])
    else:
        shape = (t, b, kw["input_size"])
    if spec.get("noncontig"):
        shape = (shape[1], shape[0]) + shape[2:]
    return arr(*shape, seed=1, dtype=dtype)


def _forward(lib, model, cls, kw, spec, x_arr, h_arrs):
    """Run model on the case's input in lib; returns (leaves needing grad, flat outputs, packed-or-None)."""
    xi = lib.tensor(x_arr.copy(), requires_grad=True)
    inp = xi.transpose(0, 1) if spec.get("noncontig") else xi
    leaves = [xi]
    if "lengths" in spec:
        inp = lib.nn.utils.rnn.pack_padded_sequence(inp, spec["lengths"], batch_first=kw.get("batch_first", False),
                                                    enforce_sorted=spec.get("sorted", False))
    hx = None
    if h_arrs:
        hs = [lib.tensor(h.copy(), requires_grad=True) for h in h_arrs]
        leaves += hs
        hx = tuple(hs) if cls == "LSTM" else hs[0]
    model.flatten_parameters()
    out, hn = model(inp, hx) if hx is not None or spec.get("pass_none") else model(inp)
    packed = out if isinstance(out, lib.nn.utils.rnn.PackedSequence) else None
    outs = [packed.data if packed is not None else out] + (list(hn) if cls == "LSTM" else [hn])
    return leaves, outs, packed


def rnn_parity(cls, kw, spec, dtype, seed=0):
    """Same weights (ember's init copied into torch), same inputs: outputs, states and every gradient agree."""
    ember.manual_seed(seed)
    e_model = getattr(ember.nn, cls)(**kw)
    t_model = sync(e_model, getattr(torch.nn, cls)(**kw))
    if dtype == "float64":
        e_model, t_model = e_model.double(), t_model.double()
    if spec.get("eval"):
        e_model.eval()
        t_model.eval()
    x_arr = _input_array(kw, spec, dtype)
    b = None if spec.get("B", 3) is None else spec.get("B", 3)
    h_arrs = [arr(*s, seed=10 + k, dtype=dtype) for k, s in enumerate(_hidden_shapes(cls, kw, b))] \
        if spec.get("hx") else []
    e_leaves, e_outs, e_packed = _forward(ember, e_model, cls, kw, spec, x_arr, h_arrs)
    t_leaves, t_outs, t_packed = _forward(torch, t_model, cls, kw, spec, x_arr, h_arrs)
    tol = _tol(dtype)
    for k, (e, t) in enumerate(zip(e_outs, t_outs)):
        assert_same(e, t, tol, what=f"output {k}")
    if t_packed is not None:
        assert isinstance(e_packed, ember.nn.utils.rnn.PackedSequence)
        for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            te, ee = getattr(t_packed, field), getattr(e_packed, field)
            if te is None:
                assert ee is None, field
            else:
                assert_same(ee, te, what=field)
    rng = np.random.default_rng(seed + 7)
    grads = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_outs]
    torch.autograd.backward(t_outs, [torch.from_numpy(g) for g in grads])
    ember.autograd.backward(e_outs, [ember.from_numpy(g.copy()) for g in grads])
    for k, (e, t) in enumerate(zip(e_leaves, t_leaves)):
        assert_same(e.grad, t.grad, tol, what=f"grad of {'input' if k == 0 else f'hx[{k - 1}]'}")
    e_params, t_params = list(e_model.named_parameters()), list(t_model.named_parameters())
    assert [n for n, _ in e_params] == [n for n, _ in t_params]
    for (n, p), (_, q) in zip(e_params, t_params):
        assert_same(p.grad, q.grad, tol, what=f"grad of {n}")
    return e_model, t_model


def _kw(**extra):
    return dict(input_size=I, hidden_size=H, **extra)


RNN_CASES = [
    ("rnn_tanh", "RNN", _kw(), {}),
    ("rnn_relu_2layers", "RNN", _kw(nonlinearity="relu", num_layers=2), {"hx": True}),
    ("rnn_no_bias_batch_first", "RNN", _kw(bias=False, batch_first=True), {}),
    ("rnn_bidir_3layers_h0", "RNN", _kw(num_layers=3, bidirectional=True), {"hx": True}),
    ("rnn_relu_bidir", "RNN", _kw(nonlinearity="relu", bidirectional=True), {}),
    ("rnn_unbatched", "RNN", _kw(), {"B": None}),
    ("rnn_unbatched_h0_bidir", "RNN", _kw(bidirectional=True, num_layers=2), {"B": None, "hx": True}),
    ("rnn_dropout_eval", "RNN", _kw(num_layers=2, dropout=0.5), {"eval": True}),
    ("rnn_noncontig_input", "RNN", _kw(num_layers=2), {"noncontig": True}),
    ("rnn_hx_none", "RNN", _kw(), {"pass_none": True}),
    ("rnn_T1_B1", "RNN", _kw(), {"T": 1, "B": 1}),
    ("rnn_packed_unsorted_h0", "RNN", _kw(num_layers=2, bidirectional=True), {"lengths": [2, 4, 1], "hx": True}),
    ("rnn_packed_sorted_batch_first", "RNN", _kw(batch_first=True), {"lengths": [4, 3, 1], "sorted": True}),
    ("rnn_packed_relu_equal_lengths", "RNN", _kw(nonlinearity="relu"), {"lengths": [4, 4, 4]}),
    ("lstm", "LSTM", _kw(), {}),
    ("lstm_h0_c0", "LSTM", _kw(), {"hx": True}),
    ("lstm_2layers_bidir_h0", "LSTM", _kw(num_layers=2, bidirectional=True), {"hx": True}),
    ("lstm_no_bias", "LSTM", _kw(bias=False), {"hx": True}),
    ("lstm_batch_first", "LSTM", _kw(batch_first=True, num_layers=2), {}),
    ("lstm_proj", "LSTM", _kw(proj_size=2), {}),
    ("lstm_proj_bidir_2layers_h0_bf", "LSTM", _kw(proj_size=3, num_layers=2, bidirectional=True, batch_first=True),
     {"hx": True}),
    ("lstm_proj_no_bias", "LSTM", _kw(proj_size=2, bias=False), {"hx": True}),
    ("lstm_unbatched", "LSTM", _kw(), {"B": None}),
    ("lstm_unbatched_proj_h0", "LSTM", _kw(proj_size=2, num_layers=2), {"B": None, "hx": True}),
    ("lstm_dropout_eval", "LSTM", _kw(num_layers=3, dropout=0.3), {"eval": True}),
    ("lstm_noncontig_input", "LSTM", _kw(bidirectional=True), {"noncontig": True}),
    ("lstm_packed_unsorted_h0", "LSTM", _kw(num_layers=2, bidirectional=True), {"lengths": [3, 4, 1], "hx": True}),
    ("lstm_packed_proj_bf", "LSTM", _kw(proj_size=2, bidirectional=True, batch_first=True),
     {"lengths": [1, 4, 2], "hx": True}),
    ("lstm_packed_sorted", "LSTM", _kw(), {"lengths": [4, 2, 2], "sorted": True}),
    ("gru", "GRU", _kw(), {}),
    ("gru_h0", "GRU", _kw(), {"hx": True}),
    ("gru_2layers_bidir_h0", "GRU", _kw(num_layers=2, bidirectional=True), {"hx": True}),
    ("gru_no_bias", "GRU", _kw(bias=False, num_layers=2), {"hx": True}),
    ("gru_batch_first_bidir", "GRU", _kw(batch_first=True, bidirectional=True), {}),
    ("gru_unbatched", "GRU", _kw(), {"B": None, "hx": True}),
    ("gru_dropout_eval", "GRU", _kw(num_layers=2, dropout=0.9), {"eval": True}),
    ("gru_noncontig_input", "GRU", _kw(), {"noncontig": True, "hx": True}),
    ("gru_packed_unsorted_h0", "GRU", _kw(num_layers=2, bidirectional=True), {"lengths": [2, 1, 4], "hx": True}),
    ("gru_packed_sorted_bf", "GRU", _kw(batch_first=True, bias=False), {"lengths": [4, 4, 1], "sorted": True}),
    ("gru_long_sequence", "GRU", _kw(), {"T": 30, "B": 2}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,cls,kw,spec", RNN_CASES, ids=[c[0] for c in RNN_CASES])
def test_rnn_parity(name, cls, kw, spec, dtype):
    rnn_parity(cls, kw, spec, dtype)


@settings(max_examples=25, deadline=None)
@given(cls=st.sampled_from(["RNN", "LSTM", "GRU"]), layers=st.integers(1, 2), bidir=st.booleans(),
       batch_first=st.booleans(), bias=st.booleans(), t_len=st.integers(1, 4), batch=st.integers(1, 3),
       hx=st.booleans(), packed=st.booleans(), seed=st.integers(0, 100))
def test_rnn_random_configurations(cls, layers, bidir, batch_first, bias, t_len, batch, hx, packed, seed):
    kw = _kw(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias)
    spec = {"T": t_len, "B": batch, "hx": hx}
    if packed:
        lengths = list(np.random.default_rng(seed).integers(1, t_len + 1, batch))
        lengths[0] = t_len
        spec["lengths"] = [int(n) for n in lengths]
    rnn_parity(cls, kw, spec, "float64", seed=seed)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_empty_batch(cls):
    rnn_parity(cls, _kw(num_layers=2), {"B": 0, "hx": True}, "float64")


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_training_mode_without_dropout_matches(cls):
    """Training mode with dropout=0 is deterministic and equals torch's."""
    rnn_parity(cls, _kw(num_layers=2), {"hx": True}, "float64")


@pytest.mark.parametrize("cls,kw", [("LSTM", _kw(num_layers=2, bidirectional=True)),
                                    ("GRU", _kw()), ("RNN", _kw(nonlinearity="relu"))])
def test_state_dict_from_torch(cls, kw):
    """torch's initialisation loaded into ember gives torch's numbers (the other direction of rnn_parity)."""
    torch.manual_seed(0)
    t_model = getattr(torch.nn, cls)(**kw)
    e_model = sync(t_model, getattr(ember.nn, cls)(**kw))
    x = arr(4, 2, I, dtype="float32")
    e_out, t_out = e_model(ember.tensor(x))[0], t_model(torch.tensor(x))[0]
    assert_same(e_out, t_out, F32_TOL)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_positional_arguments(cls):
    """RNN(input, hidden, num_layers, nonlinearity, bias, ...) and LSTM/GRU(input, hidden, num_layers, bias, ...)."""
    args = (I, H, 2, "relu", False, True) if cls == "RNN" else (I, H, 2, False, True)
    same(lambda t: [(n, tuple(p.shape)) for n, p in getattr(t.nn, cls)(*args).named_parameters()] +
         [repr(getattr(t.nn, cls)(*args))])


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_outputs_modified_in_place_before_backward(cls):
    """The outputs own their memory: changing them in place does not corrupt the gradients (as in torch)."""
    e_model = getattr(ember.nn, cls)(I, H, bidirectional=True).double()
    t_model = sync(e_model, getattr(torch.nn, cls)(I, H, bidirectional=True).double())
    grads = []
    for lib, m in ((ember, e_model), (torch, t_model)):
        x = lib.tensor(arr(4, 3, I), requires_grad=True)
        out, hn = m(x)
        hn = hn[0] if cls == "LSTM" else hn
        out.mul_(2)
        hn.add_(1)
        ((out * out).sum() + (hn * hn).sum()).backward()
        grads.append([x.grad] + [p.grad for p in m.parameters()])
    for k, (a, b) in enumerate(zip(*grads)):
        assert_same(a, b, what=f"grad {k}")


# ---- double backward -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kw,spec", [("RNN", _kw(), {}), ("LSTM", _kw(proj_size=2, num_layers=2), {"hx": True}),
                                         ("GRU", _kw(bidirectional=True), {"lengths": [3, 1, 2]})],
                         ids=["rnn", "lstm_proj", "gru_packed_bidir"])
def test_double_backward(cls, kw, spec):
    """Gradient of a gradient: torch's CPU RNNs support it, and so does ember (by recomputing the layer)."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = getattr(lib.nn, cls)(**kw).double() if lib is ember else None
        if lib is torch:
            model = sync(results[0][0], getattr(torch.nn, cls)(**kw).double())
        x_arr = _input_array(kw, spec, "float64")
        h_arrs = [arr(*s, seed=10 + k) for k, s in enumerate(_hidden_shapes(cls, kw, 3))] if spec.get("hx") else []
        leaves, outs, _ = _forward(lib, model, cls, kw, spec, x_arr, h_arrs)
        weights = [arr(*o.shape, seed=20 + k) for k, o in enumerate(outs)]
        loss = sum((o * lib.tensor(w)).sum() for o, w in zip(outs, weights))
        params = list(model.parameters())
        grads = lib.autograd.grad(loss, leaves + params, create_graph=True)
        (sum((g * g).sum() for g in grads)).backward()
        results.append((model, [g.detach() for g in grads], [v.grad for v in leaves + params]))
    (_, e_g, e_gg), (_, t_g, t_gg) = results
    for k, (a, b) in enumerate(zip(e_g, t_g)):
        assert_same(a, b, dict(rtol=1e-9, atol=1e-11), what=f"first grad {k}")
    for k, (a, b) in enumerate(zip(e_gg, t_gg)):
        assert_same(a, b, dict(rtol=1e-9, atol=1e-11), what=f"second grad {k}")


# ---- dropout in training mode ----------------------------------------------------------------------------------
def _identity_relu_rnn(lib, n, p):
    """A 2-layer relu RNN whose layers copy their input: the output is dropout(relu(x)) exactly."""
    m = lib.nn.RNN(n, n, num_layers=2, nonlinearity="relu", dropout=p)
    with lib.no_grad():
        for name, q in m.named_parameters():
            q.copy_(lib.eye(n) if name.startswith("weight_ih") else lib.zeros(q.shape))
    return m


@pytest.mark.parametrize("p", [0.25, 0.6])
@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_dropout_between_layers_statistics(lib, p):
    """Dropout after layer 0 only: ~p of the units are zeroed, the rest scaled by 1/(1-p); backward uses that mask."""
    lib.manual_seed(3)
    m = _identity_relu_rnn(lib, 64, p)
    x = lib.ones(5, 8, 64, requires_grad=True)
    out, _ = m(x)
    vals = out.detach().numpy()
    scale = np.float32(1 / (1 - p))
    assert np.all((vals == 0) | np.isclose(vals, scale, rtol=1e-6))
    assert abs((vals == 0).mean() - p) < 0.05
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), vals, rtol=1e-6)
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), np.ones((5, 8, 64), np.float32))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_dropout_training_reproducible(cls):
    """Training-mode dropout differs from eval mode, and repeats exactly under the same manual_seed."""
    m = getattr(ember.nn, cls)(I, H, num_layers=3, dropout=0.5)
    x = ember.tensor(arr(4, 3, I, dtype="float32"))
    ember.manual_seed(5)
    a = m(x)[0].detach().numpy()
    b = m(x)[0].detach().numpy()
    ember.manual_seed(5)
    c = m(x)[0].detach().numpy()
    m.eval()
    d = m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    assert not np.allclose(a, d)


def test_dropout_single_layer_warns_and_has_no_effect():
    def build(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m = lib.nn.GRU(I, H, dropout=0.5)
        return [str(x.message) for x in w], repr(m)
    same(build)
    m = ember.nn.GRU(I, H, dropout=0.5)
    x = ember.tensor(arr(4, 3, I, dtype="float32"))
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m.eval()(x)[0].detach().numpy())


# ---- parameters: names, shapes, gate order, initialisation -----------------------------------------------------
LAYOUT_CASES = [
    ("RNN", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)),
    ("RNN", dict(input_size=3, hidden_size=4, bias=False, nonlinearity="relu")),
    ("LSTM", dict(input_size=3, hidden_size=4, num_layers=2, proj_size=2, bidirectional=True)),
    ("LSTM", dict(input_size=3, hidden_size=4, bias=False, batch_first=True)),
    ("GRU", dict(input_size=3, hidden_size=4, num_layers=3, dropout=0.1)),
]


@pytest.mark.parametrize("cls,kw", LAYOUT_CASES)
def test_parameter_layout(cls, kw):
    def layout(t):
        m = getattr(t.nn, cls)(**kw)
        return ([(n, tuple(p.shape), str(p.dtype)) for n, p in m.named_parameters()], list(m.state_dict().keys()),
                m._flat_weights_names, [[tuple(w.shape) for w in ws] for ws in m.all_weights], repr(m),
                [tuple(w.shape) for w in m._flat_weights])
    same(layout)


@pytest.mark.parametrize("cls,kw", LAYOUT_CASES)
def test_default_init_bounds(cls, kw):
    """Every parameter ~ U(-1/sqrt(hidden), 1/sqrt(hidden)), as in torch."""
    ember.manual_seed(0)
    m = getattr(ember.nn, cls)(**dict(kw, hidden_size=64))
    bound = 1 / math.sqrt(64)
    vals = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert vals.dtype == np.float32
    assert np.abs(vals).max() <= bound
    assert np.abs(vals).max() > 0.95 * bound
    assert abs(vals.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(vals.mean()) < 0.05 * bound


@pytest.mark.parametrize("cls,gate", [("LSTM", 2), ("GRU", 2)], ids=["lstm_g", "gru_n"])
def test_gate_order(cls, gate):
    """Only the cell-candidate gate (LSTM's g = chunk 2, GRU's n = chunk 2) open: the same state in torch and ember."""
    res = []
    for lib in (torch, ember):
        m = getattr(lib.nn, cls)(2, 2).double()
        with lib.no_grad():
            for p in m.parameters():
                p.zero_()
            m.bias_ih_l0[gate * 2:(gate + 1) * 2] = 1.0
        res.append(m(lib.ones(1, 1, 2, dtype=lib.float64))[0].detach().numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)


def test_state_dict_roundtrip_both_ways():
    """ember's state loads into torch (and back) and the two compute the same outputs."""
    ember.manual_seed(1)
    e = ember.nn.LSTM(I, H, num_layers=2, proj_size=2, bidirectional=True)
    t = sync(e, torch.nn.LSTM(I, H, num_layers=2, proj_size=2, bidirectional=True))
    e2 = sync(t, ember.nn.LSTM(I, H, num_layers=2, proj_size=2, bidirectional=True))
    x = arr(4, 2, I, dtype="float32")
    for k, (a, b) in enumerate(zip(e2(ember.tensor(x))[1], t(torch.tensor(x))[1])):
        assert_same(a, b, F32_TOL, what=f"state {k}")
    for (n, p), (_, q) in zip(e.named_parameters(), e2.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=n)


def test_pickle_and_deepcopy():
    import copy
    m = ember.nn.GRU(I, H, num_layers=2)
    for clone in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        x = ember.tensor(arr(3, 2, I, dtype="float32"))
        np.testing.assert_array_equal(clone(x)[0].detach().numpy(), m(x)[0].detach().numpy())
        assert repr(clone) == repr(m)


@pytest.mark.parametrize("cls,kw", [("RNN", dict(dtype="float64")), ("LSTM", dict(proj_size=2, dtype="float64")),
                                    ("GRUCell", dict(dtype="float64"))])
def test_dtype_argument(cls, kw):
    same(lambda t: [str(p.dtype) for p in getattr(t.nn, cls)(I, H, **dict(kw, dtype=getattr(t, kw["dtype"])))
                    .parameters()])


# ---- cells -----------------------------------------------------------------------------------------------------
CELL_CASES = [
    ("rnn_cell", "RNNCell", {}, dict(B=3, hx=True)),
    ("rnn_cell_relu_no_hx", "RNNCell", dict(nonlinearity="relu"), dict(B=3)),
    ("rnn_cell_unbatched", "RNNCell", {}, dict(B=None, hx=True)),
    ("rnn_cell_no_bias", "RNNCell", dict(bias=False), dict(B=2, hx=True)),
    ("lstm_cell", "LSTMCell", {}, dict(B=3, hx=True)),
    ("lstm_cell_no_hx", "LSTMCell", {}, dict(B=3)),
    ("lstm_cell_unbatched", "LSTMCell", {}, dict(B=None, hx=True)),
    ("lstm_cell_unbatched_no_bias", "LSTMCell", dict(bias=False), dict(B=None)),
    ("gru_cell", "GRUCell", {}, dict(B=3, hx=True)),
    ("gru_cell_no_hx", "GRUCell", {}, dict(B=4)),
    ("gru_cell_unbatched", "GRUCell", {}, dict(B=None, hx=True)),
    ("gru_cell_no_bias_noncontig", "GRUCell", dict(bias=False), dict(B=3, hx=True, noncontig=True)),
    ("gru_cell_empty_batch", "GRUCell", {}, dict(B=0, hx=True)),
    ("lstm_cell_empty_batch", "LSTMCell", {}, dict(B=0)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,cls,kw,spec", CELL_CASES, ids=[c[0] for c in CELL_CASES])
def test_cell_parity(name, cls, kw, spec, dtype):
    ember.manual_seed(0)
    e_model = getattr(ember.nn, cls)(I, H, **kw)
    t_model = sync(e_model, getattr(torch.nn, cls)(I, H, **kw))
    if dtype == "float64":
        e_model, t_model = e_model.double(), t_model.double()
    b = spec["B"]
    lead = (b,) if b is not None else ()
    x_arr = arr(*((I,) + lead if spec.get("noncontig") else lead + (I,)), seed=1, dtype=dtype)
    n_states = 2 if cls == "LSTMCell" else 1
    h_arrs = [arr(*(lead + (H,)), seed=2 + k, dtype=dtype) for k in range(n_states)] if spec.get("hx") else []
    results = []
    for lib, model in ((ember, e_model), (torch, t_model)):
        xi = lib.tensor(x_arr.copy(), requires_grad=True)
        hs = [lib.tensor(h.copy(), requires_grad=True) for h in h_arrs]
        inp = xi.t() if spec.get("noncontig") else xi
        hx = (tuple(hs) if n_states == 2 else hs[0]) if hs else None
        out = model(inp, hx) if hx is not None else model(inp)
        outs = list(out) if n_states == 2 else [out]
        results.append(([xi] + hs, outs, model))
    (e_leaves, e_outs, _), (t_leaves, t_outs, _) = results
    tol = _tol(dtype)
    for k, (e, t) in enumerate(zip(e_outs, t_outs)):
        assert_same(e, t, tol, what=f"output {k}")
    grads = [np.random.default_rng(k).standard_normal(tuple(t.shape)).astype(dtype) for k, t in enumerate(t_outs)]
    torch.autograd.backward(t_outs, [torch.from_numpy(g) for g in grads])
    ember.autograd.backward(e_outs, [ember.from_numpy(g.copy()) for g in grads])
    for k, (e, t) in enumerate(zip(e_leaves, t_leaves)):
        assert_same(e.grad, t.grad, tol, what=f"grad of leaf {k}")
    for (n, p), (_, q) in zip(e_model.named_parameters(), t_model.named_parameters()):
        assert_same(p.grad, q.grad, tol, what=f"grad of {n}")


def test_cell_layout_and_repr():
    same(lambda t: [(n, tuple(p.shape)) for c in (t.nn.RNNCell(3, 4, nonlinearity="relu"), t.nn.LSTMCell(3, 4),
                                                  t.nn.GRUCell(3, 4, bias=False)) for n, p in c.named_parameters()] +
         [repr(t.nn.RNNCell(3, 4, nonlinearity="relu")), repr(t.nn.LSTMCell(3, 4)),
          repr(t.nn.GRUCell(3, 4, bias=False)), repr(t.nn.RNNCell(3, 4))])


def test_cell_init_bounds():
    ember.manual_seed(0)
    vals = np.concatenate([p.detach().numpy().ravel() for p in ember.nn.LSTMCell(10, 100).parameters()])
    assert np.abs(vals).max() <= 0.1 and np.abs(vals).max() > 0.099


# ---- errors ----------------------------------------------------------------------------------------------------
def _z(t, *shape):
    return t.zeros(*shape)


ERROR_CASES = [
    ("input_4d", lambda t: t.nn.LSTM(3, 4)(_z(t, 2, 2, 2, 3))),
    ("input_1d", lambda t: t.nn.GRU(3, 4)(_z(t, 3))),
    ("input_size", lambda t: t.nn.GRU(3, 4)(_z(t, 2, 2, 5))),
    ("input_size_unbatched", lambda t: t.nn.RNN(3, 4)(_z(t, 2, 5))),
    ("hidden_shape", lambda t: t.nn.GRU(3, 4)(_z(t, 2, 2, 3), _z(t, 1, 3, 4))),
    ("hidden_layers", lambda t: t.nn.RNN(3, 4, num_layers=2)(_z(t, 2, 2, 3), _z(t, 1, 2, 4))),
    ("hidden_bidir", lambda t: t.nn.GRU(3, 4, bidirectional=True)(_z(t, 2, 2, 3), _z(t, 1, 2, 4))),
    ("lstm_h_shape", lambda t: t.nn.LSTM(3, 4)(_z(t, 2, 2, 3), (_z(t, 1, 2, 5), _z(t, 1, 2, 4)))),
    ("lstm_c_shape", lambda t: t.nn.LSTM(3, 4)(_z(t, 2, 2, 3), (_z(t, 1, 2, 4), _z(t, 1, 2, 5)))),
    ("lstm_proj_h_shape", lambda t: t.nn.LSTM(3, 4, proj_size=2)(_z(t, 2, 2, 3), (_z(t, 1, 2, 4), _z(t, 1, 2, 4)))),
    ("hidden_rank_batched", lambda t: t.nn.RNN(3, 4)(_z(t, 2, 2, 3), _z(t, 2, 4))),
    ("hidden_rank_unbatched", lambda t: t.nn.RNN(3, 4)(_z(t, 2, 3), _z(t, 1, 2, 4))),
    ("lstm_hidden_rank_unbatched", lambda t: t.nn.LSTM(3, 4)(_z(t, 2, 3), (_z(t, 1, 2, 4), _z(t, 1, 2, 4)))),
    ("lstm_hidden_rank_batched", lambda t: t.nn.LSTM(3, 4)(_z(t, 2, 2, 3), (_z(t, 2, 4), _z(t, 2, 4)))),
    ("empty_sequence", lambda t: t.nn.GRU(3, 4)(_z(t, 0, 2, 3))),
    ("input_int_dtype", lambda t: t.nn.LSTM(3, 4)(t.zeros(2, 2, 3, dtype=t.int64))),
    ("input_double_float_model", lambda t: t.nn.GRU(3, 4)(t.zeros(2, 2, 3, dtype=t.float64))),
    ("hx_dtype", lambda t: t.nn.RNN(3, 4)(t.zeros(2, 2, 3), t.zeros(1, 2, 4, dtype=t.float64))),
    ("packed_hidden_batch", lambda t: t.nn.GRU(3, 4)(t.nn.utils.rnn.pack_sequence([_z(t, 3, 3), _z(t, 2, 3)]),
                                                     _z(t, 1, 3, 4))),
    ("cell_input_3d", lambda t: t.nn.GRUCell(3, 4)(_z(t, 2, 2, 3))),
    ("cell_input_0d", lambda t: t.nn.RNNCell(3, 4)(t.zeros(()))),
    ("cell_hidden_3d", lambda t: t.nn.GRUCell(3, 4)(_z(t, 2, 3), _z(t, 1, 2, 4))),
    ("cell_input_size", lambda t: t.nn.LSTMCell(3, 4)(_z(t, 2, 5))),
    ("cell_batch", lambda t: t.nn.RNNCell(3, 4)(_z(t, 2, 3), _z(t, 3, 4))),
    ("cell_hidden_size", lambda t: t.nn.RNNCell(3, 4)(_z(t, 2, 3), _z(t, 2, 5))),
    ("lstm_cell_c_size", lambda t: t.nn.LSTMCell(3, 4)(_z(t, 2, 3), (_z(t, 2, 4), _z(t, 2, 5)))),
    ("lstm_cell_c_batch", lambda t: t.nn.LSTMCell(3, 4)(_z(t, 2, 3), (_z(t, 2, 4), _z(t, 1, 4)))),
    ("cell_unbatched_batched_hx", lambda t: t.nn.GRUCell(3, 4)(_z(t, 3), _z(t, 2, 4))),
    ("cell_bad_nonlinearity", lambda t: t.nn.RNNCell(3, 4, nonlinearity="sigmoid")(_z(t, 2, 3))),
    ("ctor_dropout_range", lambda t: t.nn.LSTM(3, 4, dropout=1.5)),
    ("ctor_dropout_bool", lambda t: t.nn.LSTM(3, 4, dropout=True)),
    ("ctor_proj_ge_hidden", lambda t: t.nn.LSTM(3, 4, proj_size=4)),
    ("ctor_proj_negative", lambda t: t.nn.LSTM(3, 4, proj_size=-1)),
    ("ctor_proj_gru", lambda t: t.nn.GRU(3, 4, proj_size=2)),
    ("ctor_proj_rnn", lambda t: t.nn.RNN(3, 4, proj_size=2)),
    ("ctor_nonlinearity", lambda t: t.nn.RNN(3, 4, nonlinearity="sigmoid")),
    ("ctor_hidden_zero", lambda t: t.nn.RNN(3, 0)),
    ("ctor_hidden_float", lambda t: t.nn.GRU(3, 4.0)),
    ("ctor_layers_zero", lambda t: t.nn.LSTM(3, 4, num_layers=0)),
    ("ctor_bias_int", lambda t: t.nn.LSTM(3, 4, bias=1)),
    ("ctor_batch_first_str", lambda t: t.nn.GRU(3, 4, batch_first="yes")),
    ("ctor_input_float", lambda t: t.nn.RNN(3.0, 4)),
    ("ctor_input_zero", lambda t: t.nn.RNN(0, 4)),
    ("ctor_input_negative", lambda t: t.nn.LSTM(-1, 4)),
]


@pytest.mark.parametrize("name,fn", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors(name, fn):
    same_error(fn)
