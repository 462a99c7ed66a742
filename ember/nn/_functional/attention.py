"""scaled_dot_product_attention and multi_head_attention_forward (PyTorch's mask conventions and checks)."""
import math
import warnings

import numpy as np

from ..._tensor import Tensor
from ...ops.attention import Attention, FlashAttention, OpsAttention
from ...autograd.function import as_node
from ...ops.creation import zeros
from ...ops.shape import cat
from ...ops.padding import pad
from ...backends.cuda import _sdp
from ..functional import linear, _CPP_NAMES, _scalar_name


def _cpp_name(t):
    return _CPP_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _none_or_dtype(t):
    if t is None:
        return None
    if isinstance(t, Tensor):
        return t.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as a float mask of target_type (True -> -inf); float masks pass through (torch's rules)."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask._data.dtype != np.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if not is_float:
        dt = target_type.np if hasattr(target_type, "np") else np.dtype(target_type)
        return Tensor._make(np.zeros(mask.shape, dt)).masked_fill(mask, -np.inf)
    return mask


def _bmm_check(batch, want, got):
    """torch's bmm check of the inner size of an attention product's second operand."""
    if got != want:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {want}] but "
                           f"got: [{batch}, {got}].")


def _broadcast_batch(a, b):
    """Broadcast two batch shapes with torch's message for a mismatch."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for d, (x, y) in enumerate(zip(a, b)):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {d}")
        out.append(max(x, y))
    return tuple(out)


def _sdpa_checks(query, key, value, attn_mask):
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_cpp_name(query)} key.dtype: {_cpp_name(key)} and value.dtype: {_cpp_name(value)} "
                           "instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if attn_mask is not None:
        mdt = attn_mask._data.dtype
        if mdt not in (np.bool_, np.float32, query._data.dtype):
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {_cpp_name(attn_mask)} and  query.dtype: {_cpp_name(query)} "
                               "instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found {_scalar_name(query)}")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over the last two dims (bool attn_mask: True takes part).

    Fully masked rows give zeros, as PyTorch's CPU kernels do.
    """
    if not (_sdp["math"] or _sdp["flash"]):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due to "
                           "turning off both the math kernel and the fused kernels.")
    _sdpa_checks(query, key, value, attn_mask)
    node = _sdpa_node(query, key, value, attn_mask, dropout_p, enable_gqa)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    dt = query._data.dtype
    if enable_gqa and key.dim() >= 3 and value.dim() >= 3 and query.dim() >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
        if hk != hq:
            key = key.repeat_interleave(hq // hk, dim=-3)
        if hv != hq:
            value = value.repeat_interleave(hq // hv, dim=-3)
    batch = _broadcast_batch(query.shape[:-2], key.shape[:-2])
    nb = math.prod(batch)
    _bmm_check(nb, query.shape[-1], key.shape[-1])
    _bmm_check(nb, S, value.shape[-2])
    _broadcast_batch(batch, value.shape[:-2])
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        mask = Tensor._make(np.where(np.tril(np.ones((L, S), bool)), 0, -np.inf).astype(dt))
    elif attn_mask is not None:
        mask = attn_mask
        if attn_mask._data.dtype == np.bool_:
            mask = Tensor._make(np.zeros(attn_mask.shape, dt)).masked_fill(attn_mask.logical_not(), -np.inf)
        s_shape = batch + (L, S)
        full = np.broadcast_shapes(s_shape, tuple(mask.shape)) if _broadcastable(s_shape, mask.shape) else None
        if full is None:
            _broadcast_batch(s_shape, tuple(mask.shape))
        if full != s_shape:
            raise RuntimeError(f"output with shape {list(s_shape)} doesn't match the broadcast shape {list(full)}")
    fn = FlashAttention if node == _FLASH_NODE else Attention
    out, _ = fn.apply(query, key, value, mask, scale, dropout_p, True)
    return as_node(out, node)


_FLASH_NODE = "ScaledDotProductFlashAttentionForCpuBackward0"


def _sdpa_node(query, key, value, attn_mask, dropout_p, enable_gqa):
    """The node PyTorch's CPU attention ends with: the flash kernel's for 4-D inputs it supports (equal batch,
    heads (key/value heads dividing the query's with enable_gqa) and head sizes, unit last stride, a mask without
    grad, no empty sequence, no dropout), else its math path's last op (the cast back, for half)."""
    q, k, v = query._data, key._data, value._data
    if not (q.size and k.size and v.size):
        return "AddBackward0"
    math_node = "ToCopyBackward0" if q.dtype == np.float16 else \
        "MmBackward0" if q.ndim == k.ndim == v.ndim == 2 else "UnsafeViewBackward0"
    if dropout_p > 0:
        return math_node
    heads_ok = k.shape[:2] == v.shape[:2] and (q.shape[1] == k.shape[1] or enable_gqa) if q.ndim == 4 else False
    if q.ndim == k.ndim == v.ndim == 4 and heads_ok and q.shape[0] == k.shape[0] and \
            q.shape[-1] == k.shape[-1] == v.shape[-1] and (attn_mask is None or not attn_mask.requires_grad) and \
            q.strides[-1] == k.strides[-1] == v.strides[-1] == q.itemsize:
        return _FLASH_NODE
    return math_node


def _broadcastable(a, b):
    try:
        np.broadcast_shapes(tuple(a), tuple(b))
        return True
    except ValueError:
        return False


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the call is batched, with torch's checks of the ranks of query/key/value and the masks."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _batch_first_backed(x):
    """Whether a (L, B, E) tensor is a transposed view of a contiguous (B, L, E) one (batch_first callers)."""
    a = x._data
    return a.ndim == 3 and not a.flags.c_contiguous and a.transpose(1, 0, 2).flags.c_contiguous


def _linear_rows(x, w, b):
    """linear() of a (L, B, E) tensor computed in its memory order (one fused GEMM for batch_first views too)."""
    if _batch_first_backed(x):
        return linear(x.transpose(0, 1), w, b).transpose(0, 1)
    return linear(x, w, b)


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected by one packed (3E, E) weight (one GEMM for self-attention)."""
    e = q.shape[-1]
    if k is v:
        if q is k:
            return _linear_rows(q, w, b).chunk(3, -1)
        w_q, w_kv = w.split([e, 2 * e])
        b_q, b_kv = (None, None) if b is None else b.split([e, 2 * e])
        return (_linear_rows(q, w_q, b_q),) + tuple(_linear_rows(k, w_kv, b_kv).chunk(2, -1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return _linear_rows(q, w_q, b_q), _linear_rows(k, w_k, b_k), _linear_rows(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """q, k, v projected by separate weights, with torch's shape checks."""
    eq, ek, ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, w, want in (("query", w_q, (eq, eq)), ("key", w_k, (eq, ek)), ("value", w_v, (eq, ev))):
        if tuple(w.shape) != want:
            raise AssertionError(f"expecting {name} weights shape of {want}, but got {w.shape}")
    for name, bias in (("query", b_q), ("key", b_k), ("value", b_v)):
        if bias is not None and tuple(bias.shape) != (eq,):
            raise AssertionError(f"expecting {name} bias shape of {(eq,)}, but got {bias.shape}")
    return _linear_rows(q, w_q, b_q), _linear_rows(k, w_k, b_k), _linear_rows(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: projections, masks, one fused attention, output proj."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    packed_self = (query is key and key is value and not use_separate_proj_weight and bias_k is None
                   and bias_v is None and static_k is None and static_v is None and not add_zero_attn)
    if packed_self:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        qkv = _linear_rows(query, in_proj_weight, in_proj_bias)
        q = k = v = None
    elif not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    # heads as (B, heads, S, head_dim) views of the projections: no copies, whatever the memory order
    if packed_self:
        q = qkv.reshape(tgt_len, bsz, 3, num_heads, head_dim).permute(2, 1, 3, 0, 4)
    else:
        q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
        k = _heads(k, static_k, bsz, num_heads, head_dim, "k")
        v = _heads(v, static_v, bsz, num_heads, head_dim, "v")
    if add_zero_attn:
        k = cat([k, zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype)], 2)
        v = cat([v, zeros((bsz, num_heads, 1, head_dim), dtype=v.dtype)], 2)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = tgt_len if packed_self else k.shape[2]
    if attn_mask is not None and attn_mask.shape[0] != 1:
        attn_mask = attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if is_causal and attn_mask is None:
        if need_weights:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        attn_mask = Tensor._make(np.where(np.tril(np.ones((tgt_len, src_len), bool)), 0, -np.inf).astype(
            query._data.dtype))
    fn = _mha_kernel(need_weights, dropout_p, attn_mask, tgt_len, src_len)
    scale = math.sqrt(1.0 / head_dim) if need_weights else 1.0 / math.sqrt(head_dim)  # each path's, as torch's
    out, weights = fn.apply(q, k, v, attn_mask, scale, dropout_p, not need_weights)
    if _batch_first_backed(query):
        out = out.permute(0, 2, 1, 3).reshape(bsz * tgt_len, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(bsz, tgt_len, out_proj_weight.shape[0])
        out = out.transpose(0, 1)
    else:
        out = out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, out_proj_weight.shape[0])
    if not is_batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = weights.mean(1)
    if not is_batched:
        weights = weights.squeeze(0)
    return out, weights


def _mha_kernel(need_weights, dropout_p, attn_mask, tgt_len, src_len):
    """The attention multi_head_attention_forward ends in, as torch's: a composite of ops when it returns the
    weights, else scaled_dot_product_attention on (B, heads, L, head_dim) views, which takes the flash kernel
    unless there is dropout, a mask needing grad or an empty sequence."""
    if need_weights:
        return OpsAttention
    if dropout_p > 0 or attn_mask is not None and attn_mask.requires_grad or not (tgt_len and src_len):
        return Attention
    return FlashAttention


def _heads(t, static, bsz, num_heads, head_dim, name):
    """(S, B, E) projections as (B, heads, S, head_dim) views, or static_k/static_v after torch's checks."""
    if static is None:
        return t.reshape(t.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting static_{name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting static_{name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static.reshape(bsz, num_heads, static.shape[1], head_dim)
