"""scaled_dot_product_attention, multi_head_attention_forward and MultiheadAttention against torch."""
import warnings
from importlib import import_module

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, assert_same
from .nnparity import arr, same, same_error, sync
from .test_rnn import torch_one_thread  # noqa: F401  (autouse fixture)

F64_32 = ("float64", "float32")
F32_TOL = dict(rtol=1e-4, atol=1e-5)


def sdpa(t):
    return t.nn.functional.scaled_dot_product_attention


def _bool(*shape, seed=0, p=0.3):
    m = np.random.default_rng(seed).random(shape) > p
    return m


def _tol(dtype):
    return F32_TOL if dtype == "float32" else None  # float64 and float16: parity's own tolerances


def _grad_tol(dtype, ref):
    """Gradient tolerance: float16 ones within ~1% of the gradient's own scale, as torch's half backward kernels
    round their own intermediates (entries that cancel to ~0 are rounding noise); else _tol."""
    if dtype != "float16":
        return _tol(dtype)
    a = np.abs(ref.detach().numpy().astype(np.float64))
    scale = float(a[np.isfinite(a)].max(initial=0.0))
    return dict(rtol=1e-2, atol=1e-2 * scale + 1e-3)


# ---- scaled_dot_product_attention --------------------------------------------------------------------------------
SDPA_CASES = [
    ("3d", {}, [arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 4, seed=2)]),
    ("4d", {}, [arr(2, 3, 4, 8), arr(2, 3, 6, 8, seed=1), arr(2, 3, 6, 8, seed=2)]),
    ("2d", {}, [arr(3, 4), arr(5, 4, seed=1), arr(5, 4, seed=2)]),
    ("value_dim", {}, [arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 7, seed=2)]),
    ("broadcast_batch", {}, [arr(2, 3, 4, 4), arr(3, 5, 4, seed=1), arr(3, 5, 4, seed=2)]),
    ("key_2d_query_3d", {}, [arr(2, 3, 4), arr(5, 4, seed=1), arr(5, 4, seed=2)]),
    ("scale", dict(scale=0.3), [arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 4, seed=2)]),
    ("dropout_zero", dict(dropout_p=0.0), [arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 4, seed=2)]),
    ("causal_square", dict(is_causal=True), [arr(2, 2, 5, 4), arr(2, 2, 5, 4, seed=1), arr(2, 2, 5, 4, seed=2)]),
    ("causal_wide", dict(is_causal=True), [arr(2, 3, 4), arr(2, 6, 4, seed=1), arr(2, 6, 4, seed=2)]),
    ("causal_tall", dict(is_causal=True, scale=0.5), [arr(2, 6, 4), arr(2, 3, 4, seed=1), arr(2, 3, 4, seed=2)]),
    ("gqa", dict(enable_gqa=True), [arr(1, 4, 3, 4), arr(1, 2, 5, 4, seed=1), arr(1, 1, 5, 4, seed=2)]),
    ("gqa_same_heads", dict(enable_gqa=True), [arr(2, 2, 3, 4), arr(2, 2, 5, 4, seed=1), arr(2, 2, 5, 4, seed=2)]),
    ("empty_query", {}, [arr(2, 0, 4), arr(2, 5, 4, seed=1), arr(2, 5, 4, seed=2)]),
    ("empty_key", {}, [arr(2, 3, 4), arr(2, 0, 4, seed=1), arr(2, 0, 4, seed=2)]),
    ("empty_batch", {}, [arr(0, 3, 4), arr(0, 5, 4, seed=1), arr(0, 5, 4, seed=2)]),
    ("large_logits", dict(scale=30.0), [arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 4, seed=2)]),
]


@pytest.mark.parametrize("dtype", F64_32 + ("float16",))
@pytest.mark.parametrize("name,kw,inputs", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa(name, kw, inputs, dtype):
    """float16 takes torch's CPU paths: the flash kernel (4-D, weights rounded to half before the product with v)
    or the math path in float32 (rounded once)."""
    check(lambda t, q, k, v: sdpa(t)(q, k, v, **kw), inputs, dtypes=[dtype], tol=_tol(dtype))


MASK_CASES = [
    ("bool_2d", _bool(3, 5), (2, 3, 4)),
    ("bool_broadcast_heads", _bool(2, 1, 3, 5), (2, 2, 3, 4)),
    ("bool_full_row_masked", np.array([[True] * 5, [False] * 5, [True, False] * 2 + [True]]), (2, 3, 4)),
    ("float_2d", arr(3, 5, seed=5), (2, 3, 4)),
    ("float_4d", arr(2, 3, 3, 5, seed=5), (2, 3, 3, 4)),
    ("float_with_neg_inf", np.where(_bool(3, 5), 0.0, -np.inf), (2, 3, 4)),
    ("float_row_all_neg_inf", np.array([[0.0] * 5, [-np.inf] * 5, [1.0] * 5]), (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", F64_32 + ("float16",))
@pytest.mark.parametrize("name,mask,qshape", MASK_CASES, ids=[c[0] for c in MASK_CASES])
def test_sdpa_masks(name, mask, qshape, dtype):
    """Bool masks (True takes part) and additive float masks (whose gradient torch also returns)."""
    lead = qshape[:-2]
    inputs = [arr(*qshape), arr(*lead, 5, 4, seed=1), arr(*lead, 5, 4, seed=2), mask]
    check(lambda t, q, k, v, m: sdpa(t)(q, k, v, attn_mask=m), inputs, dtypes=[dtype], tol=_tol(dtype))


def test_sdpa_float32_mask_with_float64_query():
    check(lambda t, q, k, v, m: sdpa(t)(q, k, v, attn_mask=m.float()),
          [arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 4, seed=2), arr(3, 5, seed=3)], grad_inputs=[0, 1, 2])


def test_sdpa_noncontiguous():
    check(lambda t, q, k, v: sdpa(t)(q.transpose(-1, -2), k[:, ::2], v[:, ::2]),
          [arr(2, 4, 3), arr(2, 10, 4, seed=1), arr(2, 10, 4, seed=2)], dtypes=F64_32, tol=F32_TOL)


def _double_backward(fn, arrays, atol=1e-11):
    """grad of sum(grad(fn(inputs) . w)^2) in both libraries: first and second derivatives agree."""
    res = []
    for lib in (ember, torch):
        xs = [lib.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *xs)
        outs = out if isinstance(out, (tuple, list)) else [out]
        outs = [o for o in outs if o is not None]
        loss = sum((o * lib.tensor(arr(*o.shape, seed=30 + k))).sum() for k, o in enumerate(outs))
        leaves = [x for x in xs if x.requires_grad]
        grads = lib.autograd.grad(loss, leaves, create_graph=True)
        sum((g * g).sum() for g in grads).backward()
        res.append(([g.detach() for g in grads], [x.grad for x in leaves]))
    for k, (a, b) in enumerate(zip(res[0][0] + res[0][1], res[1][0] + res[1][1])):
        assert_same(a, b, dict(rtol=1e-9, atol=atol), what=f"derivative {k}")


@pytest.mark.parametrize("kw", [{}, dict(is_causal=True), dict(scale=0.4)], ids=["plain", "causal", "scale"])
def test_sdpa_double_backward(kw):
    _double_backward(lambda t, q, k, v: sdpa(t)(q, k, v, **kw), [arr(2, 3, 4), arr(2, 3, 4, seed=1),
                                                                 arr(2, 3, 4, seed=2)])


def test_sdpa_double_backward_float_mask():
    _double_backward(lambda t, q, k, v, m: sdpa(t)(q, k, v, attn_mask=m),
                     [arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 4, seed=2), arr(3, 5, seed=3)])


def test_multihead_self_attention_double_backward():
    """Self-attention takes the packed q-k-v path (one fused projection and attention node)."""
    def fn(t, x, w, b, ow, ob):
        return t.nn.functional.multi_head_attention_forward(x, x, x, E, HEADS, w, b, None, None, False, 0.0, ow, ob,
                                                            need_weights=t is torch)[0]
    _double_backward(fn, [arr(L, B, E), arr(3 * E, E, seed=2), arr(3 * E, seed=3), arr(E, E, seed=4),
                          arr(E, seed=5)], atol=1e-8)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_double_backward(need_weights):
    """torch's need_weights=False path (its fused CPU kernel) has no double backward; ember's is checked against
    torch's composite need_weights=True path, which computes the same output."""
    def fn(t, q, kv, w, b, ow, ob, kpm):
        out, weights = t.nn.functional.multi_head_attention_forward(
            q, kv, kv, E, HEADS, w, b, None, None, False, 0.0, ow, ob, key_padding_mask=kpm,
            need_weights=need_weights or t is torch)
        return (out, weights) if need_weights else out
    _double_backward(fn, [arr(L, B, E), arr(S, B, E, seed=1), arr(3 * E, E, seed=2), arr(3 * E, seed=3),
                          arr(E, E, seed=4), arr(E, seed=5), np.array([[False] * 4 + [True]] * B)], atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(b=st.integers(1, 3), heads=st.integers(1, 3), L=st.integers(1, 5), S=st.integers(1, 5), E=st.integers(1, 6),
       causal=st.booleans(), scale=st.one_of(st.none(), st.floats(0.1, 2.0)))
def test_sdpa_random_shapes(b, heads, L, S, E, causal, scale):
    check(lambda t, q, k, v: sdpa(t)(q, k, v, is_causal=causal, scale=scale),
          [arr(b, heads, L, E), arr(b, heads, S, E, seed=1), arr(b, heads, S, E, seed=2)])


SDPA_ERRORS = [
    ("dtype_mismatch", lambda t: sdpa(t)(t.ones(1, 2, 4), t.ones(1, 3, 4, dtype=t.float64), t.ones(1, 3, 5))),
    ("rank_1", lambda t: sdpa(t)(t.ones(4), t.ones(4), t.ones(4))),
    ("mask_dtype_double", lambda t: sdpa(t)(t.ones(1, 2, 4), t.ones(1, 3, 4), t.ones(1, 3, 4),
                                            attn_mask=t.zeros(2, 3, dtype=t.float64))),
    ("mask_dtype_int", lambda t: sdpa(t)(t.ones(1, 2, 4), t.ones(1, 3, 4), t.ones(1, 3, 4),
                                         attn_mask=t.zeros(2, 3, dtype=t.int64))),
    ("causal_and_mask", lambda t: sdpa(t)(t.ones(2, 4), t.ones(3, 4), t.ones(3, 4), attn_mask=t.ones(2, 3),
                                          is_causal=True)),
    ("embed_mismatch", lambda t: sdpa(t)(t.ones(2, 2, 4), t.ones(2, 3, 5), t.ones(2, 3, 4))),
    ("value_length", lambda t: sdpa(t)(t.ones(2, 2, 4), t.ones(2, 3, 4), t.ones(2, 4, 4))),
    ("batch_mismatch", lambda t: sdpa(t)(t.ones(2, 2, 4), t.ones(3, 3, 4), t.ones(3, 3, 4))),
    ("gqa_heads", lambda t: sdpa(t)(t.ones(1, 4, 2, 4), t.ones(1, 3, 3, 4), t.ones(1, 3, 3, 4), enable_gqa=True)),
    ("int_inputs", lambda t: sdpa(t)(t.ones(2, 2, 4, dtype=t.int64), t.ones(2, 3, 4, dtype=t.int64),
                                     t.ones(2, 3, 4, dtype=t.int64))),
    ("mask_broadcast_grows_output", lambda t: sdpa(t)(t.ones(2, 2, 4), t.ones(2, 3, 4), t.ones(2, 3, 4),
                                                      attn_mask=t.ones(2, 1, 2, 3))),
]


@pytest.mark.parametrize("name,fn", SDPA_ERRORS, ids=[c[0] for c in SDPA_ERRORS])
def test_sdpa_errors(name, fn):
    same_error(fn)


def test_sdpa_dropout_statistics_and_mask_reuse():
    """With v = I the output is the dropped weights: ~p of them zero, the rest scaled by 1/(1-p); dv uses that mask."""
    p, S = 0.4, 6
    ember.manual_seed(0)
    q = ember.tensor(arr(400, 5, 3, dtype="float32"))
    k = ember.tensor(arr(400, S, 3, seed=1, dtype="float32"))
    v = ember.eye(S).expand(400, S, S).contiguous().requires_grad_(True)
    out = sdpa(ember)(q, k, v, dropout_p=p)
    ref = sdpa(ember)(q, k, v.detach()).numpy()
    o = out.detach().numpy()
    assert abs((o == 0).mean() - p) < 0.03
    kept = o != 0
    np.testing.assert_allclose(o[kept], ref[kept] / (1 - p), rtol=1e-5)
    out.sum().backward()
    np.testing.assert_allclose(v.grad.numpy()[..., 0], o.sum(-2), rtol=1e-5)
    ember.manual_seed(0)
    np.testing.assert_array_equal(sdpa(ember)(q, k, v, dropout_p=p).detach().numpy(), o)
    assert not np.array_equal(sdpa(ember)(q, k, v, dropout_p=p).detach().numpy(), o)


HALF_FLASH = [
    ("plain", {}, [(2, 3, 5, 8), (2, 3, 7, 8)]),
    ("causal", dict(is_causal=True), [(2, 3, 5, 8), (2, 3, 7, 8)]),
    ("float_mask", dict(attn_mask=(5, 7)), [(2, 3, 5, 8), (2, 3, 7, 8)]),
    ("bool_mask", dict(attn_mask="bool"), [(2, 3, 5, 8), (2, 3, 7, 8)]),
    ("scale", dict(scale=0.9), [(2, 3, 5, 8), (2, 3, 7, 8)]),
]


@pytest.mark.parametrize("name,kw,shapes", HALF_FLASH, ids=[c[0] for c in HALF_FLASH])
def test_sdpa_half_flash_bitwise(name, kw, shapes):
    """float16 on torch's CPU flash kernel (4-D, no dropout): outputs equal torch's bit for bit (large logits, so the
    rounding of its unnormalised weights to half shows; short rows, whose float32 sums are ordered alike); the
    math path and longer rows are within rounding (test_sdpa)."""
    q = arr(*shapes[0], dtype="float16") * 2
    k, v = arr(*shapes[1], seed=1, dtype="float16") * 2, arr(*shapes[1], seed=2, dtype="float16")
    mask = kw.get("attn_mask")
    if isinstance(mask, tuple):
        mask = arr(*mask, seed=3, dtype="float16")
    elif mask == "bool":
        mask = _bool(5, 7, seed=3)
    outs = []
    for lib in (ember, torch):
        extra = dict(kw, attn_mask=None if mask is None else lib.tensor(mask))
        outs.append(sdpa(lib)(lib.tensor(q), lib.tensor(k), lib.tensor(v), **extra).numpy())
    assert outs[0].dtype == np.float16 and outs[0].tobytes() == outs[1].tobytes()


@pytest.mark.parametrize("shapes", [((2, 2, 3, 4), (2, 2, 5, 4)), ((3, 4), (5, 4)), ((2, 3, 4), (2, 5, 4))],
                         ids=["4d", "2d", "3d"])
@pytest.mark.parametrize("dtype", F64_32 + ("float16",))
def test_sdpa_dropout_node(shapes, dtype):
    """With dropout torch takes its math path (never the flash kernel): the node ending it, as printed."""
    def fn(t):
        q = t.tensor(arr(*shapes[0], dtype=dtype), requires_grad=True)
        k = t.tensor(arr(*shapes[1], seed=1, dtype=dtype))
        return type(sdpa(t)(q, k, k, dropout_p=0.3).grad_fn).__name__
    assert fn(ember) == fn(torch)


def test_sdpa_dropout_one_gives_zeros():
    same(lambda t: sdpa(t)(t.ones(2, 2, 4), t.ones(2, 3, 4), t.ones(2, 3, 4), dropout_p=1.0))


# ---- MultiheadAttention ------------------------------------------------------------------------------------------
E, HEADS, L, S, B = 8, 2, 4, 5, 3


def _mha_inputs(spec, dtype):
    """Arrays for query/key/value (and masks) of one case; key/value identity follows spec['self']."""
    bf = spec.get("batch_first", False)
    unb = spec.get("unbatched", False)

    def shape(n, e):
        if unb:
            return (n, e)
        return (B, n, e) if bf else (n, B, e)
    kd, vd = spec.get("kdim", E), spec.get("vdim", E)
    n_kv = L if spec.get("self") else S
    return [arr(*shape(L, E), dtype=dtype), arr(*shape(n_kv, kd), seed=1, dtype=dtype),
            arr(*shape(n_kv, vd), seed=2, dtype=dtype)]


def _mask(lib, m, dtype):
    if m is None:
        return None
    if m.dtype == np.bool_:
        return lib.tensor(m)
    return lib.tensor(m.astype(dtype))


def mha_parity(ctor, spec, call, dtype, train=False):
    """MultiheadAttention(**ctor) with torch's init copied into ember: outputs, weights and every gradient agree."""
    torch.manual_seed(0)
    t_model = torch.nn.MultiheadAttention(E, HEADS, **ctor)
    e_model = sync(t_model, ember.nn.MultiheadAttention(E, HEADS, **ctor))
    if ctor.get("add_bias_kv"):
        with torch.no_grad():
            t_model.bias_k.normal_()
            t_model.bias_v.normal_()
        sync(t_model, e_model)
    if dtype != "float32":
        t_model, e_model = t_model.to(getattr(torch, dtype)), e_model.to(getattr(ember, dtype))
    if not train:
        t_model.eval()
        e_model.eval()
    arrays = _mha_inputs(spec, dtype)
    res = []
    for lib, model in ((ember, e_model), (torch, t_model)):
        q = lib.tensor(arrays[0].copy(), requires_grad=True)
        if spec.get("self"):
            leaves, args = [q], (q, q, q)
        elif spec.get("kv_same"):
            k = lib.tensor(arrays[1].copy(), requires_grad=True)
            leaves, args = [q, k], (q, k, k)
        else:
            k = lib.tensor(arrays[1].copy(), requires_grad=True)
            v = lib.tensor(arrays[2].copy(), requires_grad=True)
            leaves, args = [q, k, v], (q, k, v)
        kw = {n: _mask(lib, m, dtype) if isinstance(m, np.ndarray) else m for n, m in call.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, weights = model(*args, **kw)
        res.append((leaves, [o for o in (out, weights) if o is not None], model))
    (e_leaves, e_outs, e_model), (t_leaves, t_outs, t_model) = res
    tol = _tol(dtype)
    assert len(e_outs) == len(t_outs)
    for k, (a, b) in enumerate(zip(e_outs, t_outs)):
        assert_same(a, b, tol, what=f"output {k}")
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_outs]
    grads = [np.where(np.isnan(t.detach().numpy()), 0, g) for g, t in zip(grads, t_outs)]
    torch.autograd.backward(t_outs, [torch.from_numpy(g) for g in grads])
    ember.autograd.backward(e_outs, [ember.from_numpy(g.copy()) for g in grads])
    for k, (a, b) in enumerate(zip(e_leaves, t_leaves)):
        assert_same(a.grad, b.grad, _grad_tol(dtype, b.grad), what=f"grad of input {k}")
    for (n, p), (_, q) in zip(e_model.named_parameters(), t_model.named_parameters()):
        if q.grad is None:
            assert p.grad is None or not p.grad.numpy().any(), n
        else:
            assert_same(p.grad, q.grad, _grad_tol(dtype, q.grad), what=f"grad of {n}")


def _causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


MHA_CASES = [
    ("self", {}, dict(self=True), {}),
    ("cross", {}, {}, {}),
    ("key_is_value", {}, dict(kv_same=True), {}),
    ("no_bias", dict(bias=False), {}, {}),
    ("kdim_vdim", dict(kdim=3, vdim=6), dict(kdim=3, vdim=6), {}),
    ("kdim_vdim_no_bias_batch_first", dict(kdim=3, vdim=6, bias=False, batch_first=True),
     dict(kdim=3, vdim=6, batch_first=True), {}),
    ("batch_first_self", dict(batch_first=True), dict(batch_first=True, self=True), {}),
    ("batch_first_kv_same", dict(batch_first=True), dict(batch_first=True, kv_same=True), {}),
    ("add_bias_kv", dict(add_bias_kv=True), {}, {}),
    ("add_zero_attn", dict(add_zero_attn=True), {}, {}),
    ("bias_kv_zero_attn_masks", dict(add_bias_kv=True, add_zero_attn=True), {},
     dict(attn_mask=_bool(L, S, seed=4, p=0.7), key_padding_mask=np.array([[False] * 4 + [True]] * 3))),
    ("kpm_bool", {}, {},
     dict(key_padding_mask=np.array([[False] * 5, [False] * 3 + [True] * 2, [True] + [False] * 4]))),
    ("kpm_float", {}, {}, dict(key_padding_mask=arr(B, S, seed=6))),
    ("attn_mask_bool_2d", {}, {}, dict(attn_mask=_bool(L, S, seed=4, p=0.7))),
    ("attn_mask_float_2d", {}, {}, dict(attn_mask=arr(L, S, seed=4))),
    ("attn_mask_bool_3d", {}, {}, dict(attn_mask=_bool(B * HEADS, L, S, seed=4, p=0.7))),
    ("attn_mask_float_3d", {}, {}, dict(attn_mask=arr(B * HEADS, L, S, seed=4))),
    ("both_masks_float", {}, {}, dict(attn_mask=arr(L, S, seed=4), key_padding_mask=arr(B, S, seed=6))),
    ("no_weights", {}, {}, dict(need_weights=False)),
    ("no_weights_masks", {}, {}, dict(need_weights=False, attn_mask=_bool(L, S, seed=4, p=0.7),
                                      key_padding_mask=np.array([[False] * 4 + [True]] * 3))),
    ("per_head_weights", {}, {}, dict(average_attn_weights=False)),
    ("causal_no_weights", {}, dict(self=True), dict(attn_mask=_causal(L), is_causal=True, need_weights=False)),
    ("causal_with_weights", {}, dict(self=True), dict(attn_mask=_causal(L), is_causal=True)),
    ("causal_bool_mask_with_kpm", {}, dict(self=True),
     dict(attn_mask=np.triu(np.ones((L, L), bool), 1), is_causal=True, need_weights=False,
          key_padding_mask=np.array([[False] * 3 + [True]] * 3))),
    ("fully_masked_row_weights", {}, {}, dict(attn_mask=np.array([[True] * 5] + [[False] * 5] * 3))),
    ("fully_masked_row_no_weights", {}, {}, dict(attn_mask=np.array([[True] * 5] + [[False] * 5] * 3),
                                                  need_weights=False)),
    ("unbatched", {}, dict(unbatched=True), {}),
    ("unbatched_masks", {}, dict(unbatched=True), dict(key_padding_mask=np.array([False] * 4 + [True]),
                                                       attn_mask=arr(HEADS, L, S, seed=4))),
    ("unbatched_batch_first", dict(batch_first=True), dict(unbatched=True, batch_first=True),
     dict(average_attn_weights=False)),
    ("dropout_eval", dict(dropout=0.5), {}, {}),
]


@pytest.mark.parametrize("dtype", F64_32 + ("float16",))
@pytest.mark.parametrize("name,ctor,spec,call", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention(name, ctor, spec, call, dtype):
    """float16 as torch's CPU kernels compute it: projections and the flash kernel in float32, its unnormalised
    weights rounded to half; the need_weights path op by op, each result rounded to half."""
    mha_parity(ctor, spec, call, dtype)


def test_multihead_attention_training_without_dropout():
    mha_parity(dict(add_bias_kv=True), {}, dict(average_attn_weights=False), "float64", train=True)


@pytest.mark.parametrize("ctor", [{}, dict(kdim=3, vdim=6), dict(bias=False, add_bias_kv=True, batch_first=True)],
                         ids=["packed", "separate", "no_bias_bias_kv"])
def test_multihead_attention_layout(ctor):
    def layout(t):
        m = t.nn.MultiheadAttention(E, HEADS, **ctor)
        return ([(n, tuple(p.shape), str(p.dtype)) for n, p in m.named_parameters()], list(m.state_dict()),
                repr(m), m._qkv_same_embed_dim, m.head_dim, m.batch_first, m.in_proj_weight is None,
                m.bias_k is None, type(m.out_proj).__name__)
    same(layout)


def test_multihead_attention_init():
    """xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v, as torch."""
    ember.manual_seed(0)
    m = ember.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 192))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert m.bias_k.detach().numpy().std() > 0


def test_merge_masks():
    def fn(t):
        m = t.nn.MultiheadAttention(E, HEADS, batch_first=True)
        q = t.zeros(B, L, E)
        am = t.tensor(arr(L, L, seed=1))
        kpm = t.tensor(arr(B, L, seed=2))
        return [m.merge_masks(am, kpm, q), m.merge_masks(None, kpm, q), m.merge_masks(am, None, q),
                m.merge_masks(None, None, q)]
    same(fn)


def test_mismatched_mask_types_warn():
    def fn(t):
        m = t.nn.MultiheadAttention(E, HEADS)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m(t.ones(L, 1, E), t.ones(S, 1, E), t.ones(S, 1, E), attn_mask=t.zeros(L, S, dtype=t.bool),
              key_padding_mask=t.zeros(1, S))
        return [str(x.message) for x in w]
    same(fn)


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_multihead_attention_dropout_statistics(p):
    """Training mode: returned weights are the dropped ones (~p zero, rest / (1-p)); the mean output is the eval one."""
    ember.manual_seed(1)
    m = ember.nn.MultiheadAttention(E, HEADS, dropout=p)
    q = ember.tensor(np.repeat(arr(L, 1, E, dtype="float32"), 500, axis=1))
    kv = ember.tensor(np.repeat(arr(S, 1, E, seed=1, dtype="float32"), 500, axis=1))
    out, w = m(q, kv, kv, average_attn_weights=False)
    m.eval()
    out_eval, w_eval = m(q, kv, kv, average_attn_weights=False)
    w, w_eval = w.detach().numpy(), w_eval.detach().numpy()
    assert abs((w == 0).mean() - p) < 0.02
    np.testing.assert_allclose(w[w != 0], w_eval[w != 0] / (1 - p), rtol=1e-5)
    mean_out = out.detach().numpy().mean(1)
    np.testing.assert_allclose(mean_out, out_eval.detach().numpy()[:, 0], atol=0.1)
    m.train()
    ember.manual_seed(7)
    a = m(q, kv, kv)[0].detach().numpy()
    ember.manual_seed(7)
    np.testing.assert_array_equal(m(q, kv, kv)[0].detach().numpy(), a)


# ---- F.multi_head_attention_forward ------------------------------------------------------------------------------
def _mhaf_args(t, dtype, separate=False, bias_kv=False):
    ws = dict(in_proj_weight=None if separate else t.tensor(arr(3 * E, E, seed=10, dtype=dtype), requires_grad=True),
              in_proj_bias=t.tensor(arr(3 * E, seed=11, dtype=dtype), requires_grad=True),
              out_proj_weight=t.tensor(arr(E, E, seed=12, dtype=dtype), requires_grad=True),
              out_proj_bias=t.tensor(arr(E, seed=13, dtype=dtype), requires_grad=True))
    if separate:
        ws.update(q_proj_weight=t.tensor(arr(E, E, seed=14, dtype=dtype), requires_grad=True),
                  k_proj_weight=t.tensor(arr(E, 3, seed=15, dtype=dtype), requires_grad=True),
                  v_proj_weight=t.tensor(arr(E, 6, seed=16, dtype=dtype), requires_grad=True))
    ws["bias_k"] = t.tensor(arr(1, 1, E, seed=17, dtype=dtype), requires_grad=True) if bias_kv else None
    ws["bias_v"] = t.tensor(arr(1, 1, E, seed=18, dtype=dtype), requires_grad=True) if bias_kv else None
    return ws


MHAF_CASES = [
    ("packed", {}, {}),
    ("separate", dict(separate=True), dict(use_separate_proj_weight=True)),
    ("bias_kv_zero_attn", dict(bias_kv=True), dict(add_zero_attn=True)),
    ("eval_dropout", {}, dict(training=False, dropout_p=0.9)),
    ("static_kv", {}, dict(static=True)),
    ("no_weights_per_head", {}, dict(need_weights=False)),
    ("weights_per_head", {}, dict(average_attn_weights=False)),
]


@pytest.mark.parametrize("dtype", F64_32 + ("float16",))
@pytest.mark.parametrize("name,build,call", MHAF_CASES, ids=[c[0] for c in MHAF_CASES])
def test_multi_head_attention_forward(name, build, call, dtype):
    call = dict(call)
    static = call.pop("static", False)
    separate = call.get("use_separate_proj_weight", False)
    results = []
    for lib in (ember, torch):
        ws = _mhaf_args(lib, dtype, **build)
        q = lib.tensor(arr(L, B, E, dtype=dtype), requires_grad=True)
        k = lib.tensor(arr(S, B, 3 if separate else E, seed=1, dtype=dtype), requires_grad=True)
        v = lib.tensor(arr(S, B, 6 if separate else E, seed=2, dtype=dtype), requires_grad=True)
        kw = dict(training=call.get("training", True), need_weights=call.get("need_weights", True),
                  average_attn_weights=call.get("average_attn_weights", True),
                  use_separate_proj_weight=separate)
        extra = {}
        if static:
            extra = dict(static_k=lib.tensor(arr(B * HEADS, S, E // HEADS, seed=20, dtype=dtype), requires_grad=True),
                         static_v=lib.tensor(arr(B * HEADS, S, E // HEADS, seed=21, dtype=dtype),
                                             requires_grad=True))
        for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
            if n in ws:
                extra[n] = ws[n]
        out = lib.nn.functional.multi_head_attention_forward(
            q, k, v, E, HEADS, ws["in_proj_weight"], ws["in_proj_bias"], ws["bias_k"], ws["bias_v"],
            call.get("add_zero_attn", False), call.get("dropout_p", 0.0), ws["out_proj_weight"], ws["out_proj_bias"],
            **kw, **extra)
        leaves = [q, k, v] + [x for x in list(ws.values()) + list(extra.values()) if x is not None]
        results.append(([o for o in out if o is not None], leaves))
    (e_out, e_leaves), (t_out, t_leaves) = results
    tol = dict(rtol=1e-4, atol=5e-5) if dtype == "float32" else None
    for k, (a, b) in enumerate(zip(e_out, t_out)):
        assert_same(a, b, tol, what=f"output {k}")
    grads = [np.random.default_rng(k).standard_normal(tuple(t.shape)).astype(dtype) for k, t in enumerate(t_out)]
    torch.autograd.backward(t_out, [torch.from_numpy(g) for g in grads])
    ember.autograd.backward(e_out, [ember.from_numpy(g.copy()) for g in grads])
    for k, (a, b) in enumerate(zip(e_leaves, t_leaves)):
        if b.grad is None:
            assert a.grad is None or not a.grad.numpy().any(), f"leaf {k}"
        else:
            assert_same(a.grad, b.grad, tol if dtype != "float16" else _grad_tol(dtype, b.grad),
                        what=f"grad of leaf {k}")


# ---- errors ------------------------------------------------------------------------------------------------------
def _m(t, **kw):
    return t.nn.MultiheadAttention(E, HEADS, **kw)


def _x(t, *shape):
    return t.ones(*shape)


MHA_ERRORS = [
    ("not_divisible", lambda t: t.nn.MultiheadAttention(6, 4)),
    ("zero_embed", lambda t: t.nn.MultiheadAttention(0, 4)),
    ("zero_heads", lambda t: t.nn.MultiheadAttention(4, 0)),
    ("causal_without_mask", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 3, 1, E), _x(t, 3, 1, E), is_causal=True)),
    ("mask_2d_shape", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), attn_mask=t.zeros(3, 3))),
    ("mask_3d_shape", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), attn_mask=t.zeros(1, 3, 4))),
    ("mask_4d", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), attn_mask=t.zeros(1, 1, 3, 4))),
    ("mask_int", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E),
                                 attn_mask=t.zeros(3, 4, dtype=t.int64))),
    ("kpm_int", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E),
                                key_padding_mask=t.zeros(1, 4, dtype=t.int64))),
    ("kpm_length", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), key_padding_mask=t.zeros(1, 3))),
    ("kpm_batch", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), key_padding_mask=t.zeros(2, 4))),
    ("kpm_rank_batched", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E),
                                         key_padding_mask=t.zeros(4))),
    ("kpm_rank_unbatched", lambda t: _m(t)(_x(t, 3, E), _x(t, 4, E), _x(t, 4, E), key_padding_mask=t.zeros(1, 4))),
    ("unbatched_mask_3d_shape", lambda t: _m(t)(_x(t, 3, E), _x(t, 4, E), _x(t, 4, E),
                                                attn_mask=t.zeros(1, 3, 4))),
    ("unbatched_mask_rank", lambda t: _m(t)(_x(t, 3, E), _x(t, 4, E), _x(t, 4, E), attn_mask=t.zeros(3))),
    ("query_4d", lambda t: _m(t)(_x(t, 3, 1, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E))),
    ("key_rank_batched", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, E), _x(t, 4, 1, E))),
    ("key_rank_unbatched", lambda t: _m(t)(_x(t, 3, E), _x(t, 4, 1, E), _x(t, 4, E))),
    ("embed_dim", lambda t: _m(t)(_x(t, 3, 1, 6), _x(t, 4, 1, 6), _x(t, 4, 1, 6))),
    ("key_value_shape", lambda t: _m(t)(_x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 5, 1, E))),
    ("separate_key_value_dims", lambda t: _m(t, kdim=3, vdim=5)(_x(t, 3, 1, E), _x(t, 4, 1, 3), _x(t, 5, 1, 5))),
    ("separate_key_weight", lambda t: _m(t, kdim=3)(_x(t, 3, 1, E), _x(t, 4, 1, 4), _x(t, 4, 1, E))),
    ("functional_bias_k_only", lambda t: t.nn.functional.multi_head_attention_forward(
        _x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), E, HEADS, t.ones(3 * E, E), None, t.ones(1, 1, E), None,
        False, 0.0, t.ones(E, E), None)),
    ("functional_no_in_proj", lambda t: t.nn.functional.multi_head_attention_forward(
        _x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), E, HEADS, None, None, None, None, False, 0.0,
        t.ones(E, E), None)),
    ("functional_static_k_size", lambda t: t.nn.functional.multi_head_attention_forward(
        _x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), E, HEADS, t.ones(3 * E, E), None, None, None, False, 0.0,
        t.ones(E, E), None, static_k=t.ones(3, 4, E // HEADS))),
    ("functional_static_k_with_bias_k", lambda t: t.nn.functional.multi_head_attention_forward(
        _x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), E, HEADS, t.ones(3 * E, E), None, t.ones(1, 1, E),
        t.ones(1, 1, E), False, 0.0, t.ones(E, E), None, static_k=t.ones(2, 4, E // HEADS))),
    ("functional_not_divisible", lambda t: t.nn.functional.multi_head_attention_forward(
        _x(t, 3, 1, E), _x(t, 4, 1, E), _x(t, 4, 1, E), E, 3, t.ones(3 * E, E), None, None, None, False, 0.0,
        t.ones(E, E), None)),
]


@pytest.mark.parametrize("name,fn", MHA_ERRORS, ids=[c[0] for c in MHA_ERRORS])
def test_multihead_attention_errors(name, fn):
    same_error(fn)


@pytest.mark.parametrize("backends", ["FLASH_ATTENTION", "MATH", ["MATH", "EFFICIENT_ATTENTION"],
                                      "EFFICIENT_ATTENTION", "CUDNN_ATTENTION"])
def test_sdpa_kernel_selection(backends):
    """Math or flash selected: the same values; neither: PyTorch's RuntimeError. The switches restore on exit."""
    q = arr(2, 3, 4, 5, dtype="float32")
    results = []
    for t in (torch, ember):
        attention = import_module(t.__name__ + ".nn.attention")
        chosen = [getattr(attention.SDPBackend, b) for b in ([backends] if isinstance(backends, str) else backends)]
        try:
            with attention.sdpa_kernel(chosen if len(chosen) > 1 else chosen[0]):
                results.append(sdpa(t)(t.tensor(q), t.tensor(q), t.tensor(q)).numpy())
        except RuntimeError as e:
            results.append(type(e))
        assert t.backends.cuda.math_sdp_enabled() and t.backends.cuda.mem_efficient_sdp_enabled()
    if isinstance(results[0], type):
        assert results[1] is results[0]
    else:
        np.testing.assert_allclose(results[1], results[0], **F32_TOL)
