"""Transformer, its encoder/decoder stacks and layers against torch (torch's weights copied into ember)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import assert_same
from .nnparity import arr, same, same_error, sync
from .test_rnn import torch_one_thread  # noqa: F401  (autouse fixture)

D, NHEAD, FF = 8, 2, 16
L, S, B = 5, 6, 3
F32_TOL = dict(rtol=2e-4, atol=2e-5)


def _tol(dtype):
    return None if dtype == "float64" else F32_TOL


def _causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def _as_lib(lib, v, dtype):
    """A mask/array argument in lib (float arrays in the test dtype), or v itself."""
    if isinstance(v, np.ndarray):
        return lib.tensor(v if v.dtype == np.bool_ else v.astype(dtype))
    return v


def model_parity(build, arrays, call, dtype, train=False, grad=True):
    """build(lib) in torch, copy its state into ember's; call(lib, model, *tensors) -> output; compare everything."""
    torch.manual_seed(0)
    t_model = build(torch)
    e_model = sync(t_model, build(ember))
    if dtype == "float64":
        t_model, e_model = t_model.double(), e_model.double()
    t_model.train(train)
    e_model.train(train)
    res = []
    for lib, model in ((ember, e_model), (torch, t_model)):
        xs = [lib.tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call(lib, model, *xs)
        res.append((xs, out, model))
    (e_xs, e_out, e_model), (t_xs, t_out, t_model) = res
    tol = _tol(dtype)
    assert_same(e_out, t_out, tol)
    if not grad:
        return
    g = np.random.default_rng(5).standard_normal(tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.from_numpy(g))
    e_out.backward(ember.from_numpy(g.copy()))
    for k, (a, b) in enumerate(zip(e_xs, t_xs)):
        assert_same(a.grad, b.grad, tol, what=f"grad of input {k}")
    e_params, t_params = list(e_model.named_parameters()), list(t_model.named_parameters())
    assert [n for n, _ in e_params] == [n for n, _ in t_params]
    for (n, p), (_, q) in zip(e_params, t_params):
        if q.grad is None:
            assert p.grad is None, n
        else:
            assert_same(p.grad, q.grad, tol, what=f"grad of {n}")


def _act(kind):
    """The activation argument in lib: a string, the library's function, or a module instance."""
    return {"relu": lambda t: "relu", "gelu": lambda t: "gelu", "fn_gelu": lambda t: t.nn.functional.gelu,
            "fn_silu": lambda t: t.nn.functional.silu, "module_tanh": lambda t: t.nn.Tanh(),
            "module_relu": lambda t: t.nn.ReLU()}[kind]


def _seq(n, bf, unbatched=False, seed=0):
    if unbatched:
        return arr(n, D, seed=seed)
    return arr(B, n, D, seed=seed) if bf else arr(n, B, D, seed=seed)


KPM = np.array([[False] * 6, [False] * 4 + [True] * 2, [False] + [True] * 5])
TGT_KPM = np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 5])

ENC_LAYER_CASES = [
    ("post_norm", {}, {}),
    ("pre_norm", dict(norm_first=True), {}),
    ("gelu_string", dict(activation="gelu"), {}),
    ("gelu_function", dict(activation="fn_gelu", norm_first=True), {}),
    ("silu_function", dict(activation="fn_silu"), {}),
    ("tanh_module", dict(activation="module_tanh"), {}),
    ("layer_norm_eps", dict(layer_norm_eps=1e-2), {}),
    ("batch_first", dict(batch_first=True), {}),
    ("no_bias", dict(bias=False, norm_first=True), {}),
    ("causal_float_mask", {}, dict(src_mask=_causal(S))),
    ("causal_hint", dict(batch_first=True), dict(src_mask=_causal(S), is_causal=True)),
    ("bool_mask", {}, dict(src_mask=np.triu(np.ones((S, S), bool), 2))),
    ("key_padding_bool", dict(batch_first=True), dict(src_key_padding_mask=KPM)),
    ("key_padding_float", {}, dict(src_key_padding_mask=np.where(KPM, -1e4, 0.0))),
    ("both_masks", dict(norm_first=True), dict(src_mask=_causal(S), src_key_padding_mask=KPM)),
    ("unbatched", {}, dict(unbatched=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ctor,call", ENC_LAYER_CASES, ids=[c[0] for c in ENC_LAYER_CASES])
def test_encoder_layer(name, ctor, call, dtype):
    ctor, call = dict(ctor), dict(call)
    act = _act(ctor.pop("activation", "relu"))
    unbatched = call.pop("unbatched", False)
    bf = ctor.get("batch_first", False)

    def build(t):
        return t.nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0, activation=act(t), **ctor)
    model_parity(build, [_seq(S, bf, unbatched)],
                 lambda t, m, x: m(x, **{k: _as_lib(t, v, dtype) for k, v in call.items()}), dtype)


DEC_LAYER_CASES = [
    ("post_norm", {}, {}),
    ("pre_norm", dict(norm_first=True), {}),
    ("gelu_string_batch_first", dict(activation="gelu", batch_first=True), {}),
    ("relu_module", dict(activation="module_relu"), {}),
    ("no_bias_eps", dict(bias=False, layer_norm_eps=1e-3), {}),
    ("tgt_causal", {}, dict(tgt_mask=_causal(L))),
    ("tgt_causal_hint", dict(norm_first=True), dict(tgt_mask=_causal(L), tgt_is_causal=True)),
    ("memory_mask", {}, dict(memory_mask=np.random.default_rng(1).random((L, S)) > 0.7)),
    ("padding_masks", dict(batch_first=True), dict(tgt_key_padding_mask=TGT_KPM, memory_key_padding_mask=KPM)),
    ("all_masks", {}, dict(tgt_mask=_causal(L), memory_mask=arr(L, S, seed=3), tgt_key_padding_mask=TGT_KPM,
                           memory_key_padding_mask=KPM)),
    ("unbatched", {}, dict(unbatched=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ctor,call", DEC_LAYER_CASES, ids=[c[0] for c in DEC_LAYER_CASES])
def test_decoder_layer(name, ctor, call, dtype):
    ctor, call = dict(ctor), dict(call)
    act = _act(ctor.pop("activation", "relu"))
    unbatched = call.pop("unbatched", False)
    bf = ctor.get("batch_first", False)

    def build(t):
        return t.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, activation=act(t), **ctor)
    model_parity(build, [_seq(L, bf, unbatched), _seq(S, bf, unbatched, seed=1)],
                 lambda t, m, x, mem: m(x, mem, **{k: _as_lib(t, v, dtype) for k, v in call.items()}), dtype)


STACK_CASES = [
    ("encoder_plain", "enc", dict(num_layers=2), {}),
    ("encoder_norm_masks", "enc", dict(num_layers=2, norm=True),
     dict(mask=_causal(S), src_key_padding_mask=KPM)),
    ("encoder_causal_detected", "enc", dict(num_layers=2, norm=True), dict(mask=_causal(S))),
    ("encoder_causal_hint", "enc", dict(num_layers=3), dict(mask=_causal(S), is_causal=True)),
    ("encoder_no_nested", "enc", dict(num_layers=2, enable_nested_tensor=False, batch_first=True),
     dict(src_key_padding_mask=KPM)),
    ("encoder_nested_batch_first_training_path", "enc", dict(num_layers=2, batch_first=True, norm=True),
     dict(src_key_padding_mask=KPM)),
    ("decoder_plain", "dec", dict(num_layers=2), {}),
    ("decoder_norm_masks", "dec", dict(num_layers=2, norm=True, batch_first=True),
     dict(tgt_mask=_causal(L), memory_key_padding_mask=KPM, tgt_key_padding_mask=TGT_KPM)),
    ("decoder_causal_hint", "dec", dict(num_layers=2), dict(tgt_mask=_causal(L), tgt_is_causal=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kind,ctor,call", STACK_CASES, ids=[c[0] for c in STACK_CASES])
def test_stacks(name, kind, ctor, call, dtype):
    ctor = dict(ctor)
    bf = ctor.pop("batch_first", False)
    norm = ctor.pop("norm", False)

    def build(t):
        if kind == "enc":
            layer = t.nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0, batch_first=bf)
            return t.nn.TransformerEncoder(layer, norm=t.nn.LayerNorm(D) if norm else None, **ctor)
        layer = t.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, batch_first=bf)
        return t.nn.TransformerDecoder(layer, norm=t.nn.LayerNorm(D) if norm else None, **ctor)
    kw = lambda t: {k: _as_lib(t, v, dtype) for k, v in call.items()}  # noqa: E731
    if kind == "enc":
        model_parity(build, [_seq(S, bf)], lambda t, m, x: m(x, **kw(t)), dtype)
    else:
        model_parity(build, [_seq(L, bf), _seq(S, bf, seed=1)], lambda t, m, x, mem: m(x, mem, **kw(t)), dtype)


TRANSFORMER_CASES = [
    ("default", {}, {}),
    ("batch_first_pre_norm", dict(batch_first=True, norm_first=True), {}),
    ("gelu_no_bias", dict(activation="gelu", bias=False), {}),
    ("masks", {}, dict(src_mask=_causal(S), tgt_mask=_causal(L), memory_mask=arr(L, S, seed=4),
                       src_key_padding_mask=KPM, tgt_key_padding_mask=TGT_KPM, memory_key_padding_mask=KPM)),
    ("causal_hints", dict(batch_first=True), dict(src_mask=_causal(S), tgt_mask=_causal(L), src_is_causal=True,
                                                  tgt_is_causal=True)),
    ("unbatched", {}, dict(unbatched=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ctor,call", TRANSFORMER_CASES, ids=[c[0] for c in TRANSFORMER_CASES])
def test_transformer(name, ctor, call, dtype):
    call = dict(call)
    unbatched = call.pop("unbatched", False)
    bf = ctor.get("batch_first", False)

    def build(t):
        return t.nn.Transformer(D, NHEAD, 2, 1, FF, dropout=0.0, **ctor)
    model_parity(build, [_seq(S, bf, unbatched), _seq(L, bf, unbatched, seed=1)],
                 lambda t, m, src, tgt: m(src, tgt, **{k: _as_lib(t, v, dtype) for k, v in call.items()}), dtype)


def test_transformer_custom_encoder_decoder():
    def build(t):
        enc = t.nn.TransformerEncoder(t.nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0, norm_first=True), 1,
                                      enable_nested_tensor=False)
        dec = t.nn.TransformerDecoder(t.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0), 2,
                                      norm=t.nn.LayerNorm(D))
        return t.nn.Transformer(D, NHEAD, custom_encoder=enc, custom_decoder=dec, dropout=0.0)
    model_parity(build, [_seq(S, False), _seq(L, False, seed=1)],
                 lambda t, m, src, tgt: m(src, tgt, tgt_mask=t.nn.Transformer.generate_square_subsequent_mask(L)
                                          .to(src.dtype)), "float64")


def test_encoder_inference_fast_path_zeroes_padding():
    """torch's eval/no_grad encoder runs on a nested tensor: padded positions come out as exactly 0 (then norm)."""
    def build(t):
        layer = t.nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0, batch_first=True)
        return t.nn.TransformerEncoder(layer, 2, norm=t.nn.LayerNorm(D))
    torch.manual_seed(0)
    t_model = build(torch).eval()
    e_model = sync(t_model, build(ember)).eval()
    x = arr(B, S, D, dtype="float32")
    with torch.no_grad(), ember.no_grad():
        t_out = t_model(torch.tensor(x), src_key_padding_mask=torch.tensor(KPM))
        e_out = e_model(ember.tensor(x), src_key_padding_mask=ember.tensor(KPM))
        assert_same(e_out, t_out, F32_TOL)
        not_left_aligned = np.array([[True] + [False] * 5] * B)
        t_out = t_model(torch.tensor(x), src_key_padding_mask=torch.tensor(not_left_aligned))
        e_out = e_model(ember.tensor(x), src_key_padding_mask=ember.tensor(not_left_aligned))
        assert_same(e_out, t_out, F32_TOL)


@pytest.mark.parametrize("sz", [0, 1, 4])
def test_generate_square_subsequent_mask(sz):
    same(lambda t: [t.nn.Transformer.generate_square_subsequent_mask(sz),
                    t.nn.Transformer.generate_square_subsequent_mask(sz, dtype=t.float64),
                    t.nn.Transformer(D, NHEAD, 1, 1, FF).generate_square_subsequent_mask(sz)])


# ---- structure ---------------------------------------------------------------------------------------------------
LAYOUT_BUILDERS = [
    ("encoder_layer", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF, norm_first=True, bias=False)),
    ("decoder_layer", lambda t: t.nn.TransformerDecoderLayer(D, NHEAD, FF, activation="gelu")),
    ("encoder", lambda t: t.nn.TransformerEncoder(t.nn.TransformerEncoderLayer(D, NHEAD, FF), 2,
                                                  norm=t.nn.LayerNorm(D), enable_nested_tensor=False)),
    ("decoder", lambda t: t.nn.TransformerDecoder(t.nn.TransformerDecoderLayer(D, NHEAD, FF), 2)),
    ("transformer", lambda t: t.nn.Transformer(D, NHEAD, 1, 2, FF, batch_first=True)),
]


@pytest.mark.parametrize("name,build", LAYOUT_BUILDERS, ids=[c[0] for c in LAYOUT_BUILDERS])
def test_layout(name, build):
    def layout(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = build(t)
        return [(n, tuple(p.shape)) for n, p in m.named_parameters()], list(m.state_dict()), repr(m)
    same(layout)


def test_transformer_init_xavier():
    """Transformer._reset_parameters: every matrix ~ xavier_uniform_, vectors keep their own init."""
    ember.manual_seed(0)
    m = ember.nn.Transformer(32, 4, 1, 1, 64)
    for n, p in m.named_parameters():
        a = p.detach().numpy()
        if a.ndim > 1:
            bound = np.sqrt(6 / (a.shape[0] + a.shape[1]))
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound, n
    assert np.all(m.encoder.layers[0].norm1.weight.detach().numpy() == 1)


def test_clones_are_independent():
    m = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(D, NHEAD, FF), 2, enable_nested_tensor=False)
    a, b = m.layers[0].linear1.weight, m.layers[1].linear1.weight
    assert a is not b
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with ember.no_grad():
        a.add_(1)
    assert not np.array_equal(a.detach().numpy(), b.detach().numpy())


ENC_WARN_CASES = [
    ("default", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF), {}),
    ("batch_first", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF, batch_first=True), {}),
    ("norm_first", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF, batch_first=True, norm_first=True), {}),
    ("odd_heads", lambda t: t.nn.TransformerEncoderLayer(9, 3, FF, batch_first=True), {}),
    ("no_bias", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF, batch_first=True, bias=False), {}),
    ("silu", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF, batch_first=True,
                                                    activation=t.nn.functional.silu), {}),
    ("gelu_module", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF, batch_first=True,
                                                           activation=t.nn.GELU()), {}),
    ("disabled", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF), dict(enable_nested_tensor=False)),
]


@pytest.mark.parametrize("name,layer,kw", ENC_WARN_CASES, ids=[c[0] for c in ENC_WARN_CASES])
def test_encoder_nested_tensor_flag(name, layer, kw):
    """enable_nested_tensor is accepted; use_nested_tensor and the warning explaining why not follow torch."""
    def fn(t):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            enc = t.nn.TransformerEncoder(layer(t), 2, **kw)
        return ([str(x.message) for x in w if "nested" in str(x.message)], enc.use_nested_tensor,
                enc.enable_nested_tensor, enc.layers[0].activation_relu_or_gelu)
    same(fn)


# ---- dropout in training mode ------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_feedforward_dropout_statistics(p):
    """Pre-norm layer whose attention block outputs 0: the training output averages to the eval output."""
    ember.manual_seed(0)
    m = ember.nn.TransformerEncoderLayer(D, NHEAD, 64, dropout=p, norm_first=True)
    with ember.no_grad():
        m.self_attn.out_proj.weight.zero_()
        m.self_attn.out_proj.bias.zero_()
    x = ember.tensor(np.repeat(arr(4, 1, D, dtype="float32"), 3000, axis=1))
    train_out = m(x).detach().numpy()
    eval_out = m.eval()(x).detach().numpy()
    assert not np.allclose(train_out, eval_out)
    np.testing.assert_allclose(train_out.mean(1), eval_out[:, 0], atol=0.05)


@pytest.mark.parametrize("cls", ["enc", "dec", "full"])
def test_dropout_training_reproducible(cls):
    def build():
        if cls == "enc":
            return ember.nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.3), (arr(S, B, D, dtype="float32"),)
        if cls == "dec":
            return ember.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.3), (
                arr(L, B, D, dtype="float32"), arr(S, B, D, seed=1, dtype="float32"))
        return ember.nn.Transformer(D, NHEAD, 1, 1, FF, dropout=0.3), (
            arr(S, B, D, dtype="float32"), arr(L, B, D, seed=1, dtype="float32"))
    m, arrays = build()
    xs = [ember.tensor(a) for a in arrays]
    ember.manual_seed(3)
    a = m(*xs).detach().numpy()
    b = m(*xs).detach().numpy()
    ember.manual_seed(3)
    c = m(*xs).detach().numpy()
    d = m.eval()(*xs).detach().numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    assert not np.allclose(a, d)


# ---- errors ------------------------------------------------------------------------------------------------------
ERROR_CASES = [
    ("activation_name", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, activation="tanh")),
    ("decoder_activation_name", lambda t: t.nn.TransformerDecoderLayer(D, NHEAD, activation="swish")),
    ("batch_mismatch", lambda t: t.nn.Transformer(D, NHEAD, 1, 1, FF)(t.ones(3, 2, D), t.ones(3, 1, D))),
    ("batch_mismatch_batch_first", lambda t: t.nn.Transformer(D, NHEAD, 1, 1, FF, batch_first=True)(
        t.ones(2, 3, D), t.ones(1, 3, D))),
    ("feature_mismatch", lambda t: t.nn.Transformer(D, NHEAD, 1, 1, FF)(t.ones(3, 2, 6), t.ones(3, 2, 6))),
    ("heads_not_dividing", lambda t: t.nn.TransformerEncoderLayer(D, 3)),
    ("mask_int", lambda t: t.nn.TransformerEncoderLayer(D, NHEAD, FF)(t.ones(S, B, D),
                                                                       src_mask=t.zeros(S, S, dtype=t.int64))),
    ("encoder_mask_int", lambda t: t.nn.TransformerEncoder(t.nn.TransformerEncoderLayer(D, NHEAD, FF), 1,
                                                           enable_nested_tensor=False)(
        t.ones(S, B, D), src_key_padding_mask=t.zeros(B, S, dtype=t.int64))),
]


@pytest.mark.parametrize("name,fn", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors(name, fn):
    same_error(fn)
