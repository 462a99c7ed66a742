"""torch's own OpInfo samples (torch.testing._internal.common_methods_invocations.op_db) run through ember.

Each sample's tensors are copied into ember with their strides; the OpInfo's callable is resolved to ember's
(a torch builtin by module and name, a Python wrapper or lambda from the OpInfo file re-bound with ember in place
of torch); outputs are compared in dtype, shape and value, and for float64/complex128 the gradients of
sum(out * r) for a random r are compared too.
"""
import functools
import math
import types

import numpy as np
import pytest
import torch

import ember

from torch.testing._internal.common_methods_invocations import op_db

__all__ = ["op_db", "full_name", "run_op", "torch_variant", "error_mismatches"]


class Unsupported(Exception):
    """A sample that cannot be expressed in ember (a sparse layout, a torch.Generator)."""


# Ops whose outputs are random or uninitialised: only dtype and shape can be compared.
RANDOM = {"bernoulli", "cauchy", "exponential", "geometric", "log_normal", "multinomial", "normal", "uniform",
          "rand_like", "randint", "randint_like", "randn", "randn_like", "nn.functional.dropout",
          "nn.functional.dropout2d", "nn.functional.dropout3d", "nn.functional.alpha_dropout",
          "nn.functional.feature_alpha_dropout", "nn.functional.rrelu", "nn.functional.fractional_max_pool2d",
          "nn.functional.fractional_max_pool3d", "svd_lowrank", "pca_lowrank", "empty", "empty_like",
          "empty_permuted", "empty_strided", "new_empty", "new_empty_strided"}
# Decompositions whose vectors are defined up to a unit phase per column.
GAUGE = {"svd", "linalg.svd", "linalg.eig", "linalg.eigh"}
# Ops returning (values, indices) whose indices may name any of several equal elements.
TIES = {"topk", "kthvalue", "mode", "sort", "argsort", "median", "nanmedian", "min", "max", "cummax", "cummin"}

TOL = {torch.float64: (1e-7, 1e-9), torch.complex128: (1e-7, 1e-9), torch.float32: (1e-4, 1e-5),
       torch.complex64: (1e-4, 1e-5), torch.float16: (1e-2, 1e-3)}
# (rtol, atol) for entries whose float32 results cancel large terms, so that summation order shows: attention over
# outputs of ~1e3, matrix_exp squaring entries of ~1e5 (ember's error against float64 is no larger than torch's).
OP_TOL = {("nn.functional.multi_head_attention_forward", torch.float32): (1e-4, 1e-4),
          ("matrix_exp", torch.float32): (1e-4, 1e-3)}


def _random_sample(op, sample):
    """Attention samples with active dropout: their values depend on the random stream (ember's is not torch's)."""
    if op.name == "nn.functional.scaled_dot_product_attention":
        return sample.kwargs.get("dropout_p", 0.0) > 0
    if op.name == "nn.functional.multi_head_attention_forward":
        return sample.kwargs.get("training", True) and sample.args[9] > 0
    return False


def full_name(op):
    return op.name + ("." + op.variant_test_name if op.variant_test_name else "")


# ---- torch inputs to ember ----------------------------------------------------------------------------------------

def _strided_copy(t, storages):
    """A NumPy view, with t's offset and strides, of a copy of t's whole storage: non-contiguous samples stay
    non-contiguous in ember, views of a larger storage keep it (as_strided reads outside the view), and tensors
    sharing a storage share its copy (`storages`, keyed by storage address and dtype), so out= aliasing shows."""
    a = t.detach().resolve_conj().resolve_neg()
    arr = a.numpy()
    n = a.untyped_storage().nbytes() // a.element_size()
    key = (a.untyped_storage().data_ptr(), arr.dtype)
    if a.untyped_storage().data_ptr() != t.untyped_storage().data_ptr():
        key = None      # resolving a lazy conj/neg made a temporary copy: its address may be reused, so not shared
    if key not in storages:
        storages[key] = torch.as_strided(a, (n,), (1,), 0).numpy().copy()
    storage = storages.pop(None, None) if key is None else storages[key]
    try:
        return np.ndarray(arr.shape, arr.dtype, buffer=storage, offset=a.storage_offset() * arr.itemsize,
                          strides=arr.strides)
    except ValueError:   # a view NumPy cannot place in the storage
        return arr.copy()


def to_ember(v, memo):
    """v with every torch object replaced by ember's; memo maps id(torch tensor) -> ember tensor (aliases stay)."""
    if isinstance(v, torch.Tensor):
        if id(v) not in memo:
            if v.layout != torch.strided or v._is_zerotensor() or v.device.type != "cpu" or v.dim() > 64:
                raise Unsupported("sparse or zero-tensor layout, not on the CPU, or over NumPy's 64 dims")
            e = ember.from_numpy(_strided_copy(v, memo.setdefault("storages", {})))
            memo[id(v)] = e.requires_grad_(True) if v.requires_grad else e
        return memo[id(v)]
    if isinstance(v, (torch.dtype, torch.memory_format)):
        return getattr(ember, str(v).split(".")[1])
    if isinstance(v, torch.device):
        return str(v)
    if isinstance(v, torch.Size):
        return ember.Size(v)
    if isinstance(v, torch.Generator):
        raise Unsupported("torch.Generator argument")
    if isinstance(v, torch.nn.Module):
        return _module_to_ember(v)
    if isinstance(v, (list, tuple)):
        return type(v)(to_ember(x, memo) for x in v)
    if isinstance(v, dict):
        return {k: to_ember(x, memo) for k, x in v.items()}
    if callable(v) and str(getattr(v, "__module__", "") or "").startswith("torch"):
        return ember_callable(v)
    return v


def _module_to_ember(m):
    """ember's instance of a torch module given as an argument: a parameter-free one (a distance_function) with the
    same settings, or a Transformer layer (TransformerEncoder's argument) built with the same hyperparameters."""
    if isinstance(m, (torch.nn.TransformerEncoderLayer, torch.nn.TransformerDecoderLayer)):
        return _transformer_layer_to_ember(m)
    cls = getattr(ember.nn, type(m).__name__)
    obj = cls.__new__(cls)
    ember.nn.Module.__init__(obj)
    for k, a in vars(m).items():
        if isinstance(a, (int, float, bool, str, type(None))):
            setattr(obj, k, a)
    return obj


def _transformer_layer_to_ember(m):
    """ember's Transformer layer with torch's layer's hyperparameters (the weights come with the enclosing module's
    state_dict)."""
    attn = m.self_attn
    activation = {torch.nn.functional.relu: "relu", torch.nn.functional.gelu: "gelu"}.get(m.activation)
    if activation is None:
        activation = ember_callable(m.activation) if not isinstance(m.activation, torch.nn.Module) else \
            _module_to_ember(m.activation)
    return getattr(ember.nn, type(m).__name__)(
        attn.embed_dim, attn.num_heads, dim_feedforward=m.linear1.out_features, dropout=m.dropout.p,
        activation=activation, layer_norm_eps=m.norm1.eps, batch_first=attn.batch_first, norm_first=m.norm_first,
        bias=m.linear1.bias is not None, dtype=getattr(ember, str(m.linear1.weight.dtype)[len("torch."):]))


def _ember_module(path):
    """ember's module at the dotted path below the package ("nn.functional"), or None."""
    m = ember
    for part in path.split(".") if path else ():
        m = getattr(m, part, None)
        if m is None:
            return None
    return m


# torch's C-level namespaces: (ember module, prefix of the builtin's name there).
_C_NAMESPACES = {"torch._C._special": ("special", "special_"), "torch._C._linalg": ("linalg", "linalg_"),
                 "torch._C._fft": ("fft", "fft_"), "torch._C._nn": ("nn.functional", ""), "torch": ("", "")}


def _builtin_counterpart(fn):
    where, prefix = _C_NAMESPACES.get(fn.__module__ or "torch", (None, None))
    if where is None:
        raise AttributeError(f"ember has no counterpart of {fn.__module__}.{fn.__name__}")
    m = _ember_module(where)
    name = fn.__name__[len(prefix):] if fn.__name__.startswith(prefix) else fn.__name__
    if m is None or not hasattr(m, name):
        raise AttributeError(f"ember has no counterpart of {fn.__module__}.{fn.__name__}")
    return getattr(m, name)


def _python_counterpart(fn):
    """ember's function for a Python function of torch's: the same name in ember's module of the same path (private
    trailing parts dropped, then parents within the same subpackage)."""
    parts = fn.__module__.split(".")[1:]
    while parts and parts[-1].startswith("_"):
        parts.pop()
    while parts:
        m = _ember_module(".".join(parts))
        if m is not None and hasattr(m, fn.__name__):
            return getattr(m, fn.__name__)
        if len(parts) == 1:
            break
        parts.pop()
    if getattr(torch, fn.__name__, None) is fn and hasattr(ember, fn.__name__):
        return getattr(ember, fn.__name__)
    raise AttributeError(f"ember has no counterpart of {fn.__module__}.{fn.__name__}")


def _rebind(fn):
    """A Python function from torch's test code with torch (and its submodules) replaced by ember in its globals
    and closure."""
    g = dict(fn.__globals__)
    for k, v in g.items():
        if isinstance(v, types.ModuleType) and (v is torch or v.__name__.startswith("torch.")):
            m = ember if v is torch else _ember_module(v.__name__.split(".", 1)[1])
            if m is not None:
                g[k] = m
    cells = None
    if fn.__closure__:
        cells = []
        for c in fn.__closure__:
            try:
                val = c.cell_contents
            except ValueError:
                cells.append(c)
                continue
            if callable(val) and not isinstance(val, type):
                val = ember_callable(val)
            cells.append(types.CellType(val))
        cells = tuple(cells)
    return types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, cells)


def ember_callable(fn):
    """ember's counterpart of a torch callable (builtin function, Tensor method, partial, or test-code wrapper)."""
    if isinstance(fn, functools.partial):
        return functools.partial(ember_callable(fn.func), *fn.args, **fn.keywords)
    if isinstance(fn, types.FunctionType) and str(fn.__module__).startswith("torch.testing"):
        return _rebind(fn)
    if not str(getattr(fn, "__module__", None) or "").startswith("torch") and \
            getattr(fn, "__objclass__", None) not in (torch.Tensor, torch._C.TensorBase):
        return fn
    name = getattr(fn, "__name__", None)
    if str(getattr(fn, "__module__", None) or "").startswith("torch.ops") or name is None:
        raise Unsupported(f"no ember counterpart for {fn!r}")
    if getattr(fn, "__objclass__", None) in (torch.Tensor, torch._C.TensorBase):
        if hasattr(ember.Tensor, name):
            return getattr(ember.Tensor, name)
        raise AttributeError(f"ember.Tensor has no method {name}")
    if isinstance(fn, types.FunctionType):
        if fn.__qualname__.startswith("Tensor.") and hasattr(ember.Tensor, name):
            return getattr(ember.Tensor, name)
        return _python_counterpart(fn)
    return _builtin_counterpart(fn)


def ember_op(op):
    """ember's function for an OpInfo: its callable resolved, else its name looked up in ember."""
    try:
        return ember_callable(op.op)
    except (AttributeError, Unsupported):
        pass
    m = ember
    for part in op.name.split("."):
        m = getattr(m, part, None)
        if m is None:
            raise AttributeError(f"ember has no {op.name}")
    return m


# ---- comparison ---------------------------------------------------------------------------------------------------

def as_numpy(t):
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():
            return np.zeros(tuple(t.shape), str(t.dtype)[len("torch."):])
        return t.detach().resolve_conj().resolve_neg().numpy()
    return t.detach().numpy()


def flat(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in flat(o)]
    return [out]


def mismatch(t, e, where="out", tol=None):
    """A message describing how ember's result e differs from torch's t (within tol, by default TOL's for the dtype),
    or None."""
    if isinstance(t, torch.Tensor):
        if not isinstance(e, ember.Tensor):
            return f"{where}: {type(e).__name__}, torch gives a Tensor"
        if str(t.dtype) != str(e.dtype):
            return f"{where}: dtype {e.dtype}, torch {t.dtype}"
        if tuple(t.shape) != tuple(e.shape):
            return f"{where}: shape {tuple(e.shape)}, torch {tuple(t.shape)}"
        a, b = as_numpy(e), as_numpy(t)
        if a.size == 0:
            return None
        if a.dtype.kind in "fc":
            rtol, atol = tol or TOL[t.dtype]
            bad = ~np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                i = int(np.argmax(bad.ravel()))
                return f"{where}: {bad.sum()} values differ, e.g. {a.ravel()[i]!r} vs torch {b.ravel()[i]!r}"
        elif not np.array_equal(a, b):
            return f"{where}: values {a.ravel()[:6]} vs torch {b.ravel()[:6]}"
        return None
    if isinstance(t, (tuple, list)):
        if not isinstance(e, (tuple, list)) or len(t) != len(e):
            return f"{where}: {type(e).__name__}, torch gives a sequence of {len(t)}"
        for i, (x, y) in enumerate(zip(t, e)):
            r = mismatch(x, y, f"{where}[{i}]", tol)
            if r:
                return r
        return None
    if isinstance(t, (bool, int, float, complex)):
        if isinstance(e, ember.Tensor):
            return f"{where}: Tensor, torch gives {type(t).__name__}"
        if isinstance(t, float) and isinstance(e, (int, float)) and (
                math.isclose(t, e, rel_tol=1e-6, abs_tol=1e-9) or math.isnan(t) and math.isnan(e)):
            return None
        return None if t == e else f"{where}: {e!r}, torch {t!r}"
    if isinstance(t, torch.dtype):
        return None if str(t) == str(e) else f"{where}: {e}, torch {t}"
    if isinstance(t, torch.Size):
        return None if tuple(t) == tuple(e) else f"{where}: {e}, torch {t}"
    return None


def _phases(ours, theirs):
    """Per-column unit phases p with ours * p closest to theirs (arrays of (..., m, k))."""
    inner = np.sum(np.conj(ours) * theirs, axis=-2, keepdims=True)
    mag = np.abs(inner)
    return np.where(mag > 0, inner / np.where(mag > 0, mag, 1), 1)


def align_gauge(name, t, e):
    """ember's decomposition with each vector multiplied by the phase that matches torch's, truncated to the
    vectors both define uniquely (full_matrices' extra columns are any basis of the complement)."""
    if name in ("linalg.eig", "linalg.eigh"):
        vals, vecs = e
        v = as_numpy(vecs)
        return t, (vals, ember.from_numpy((v * _phases(v, as_numpy(t[1]))).astype(v.dtype)))
    if not (isinstance(t, tuple) and len(t) == 3) or t[0].numel() == 0 or tuple(t[0].shape) != tuple(e[0].shape):
        return t, e
    u, s, v = (as_numpy(x) for x in e)
    tu, tv = as_numpy(t[0]), as_numpy(t[2])
    k = s.shape[-1]
    p = _phases(u[..., :k], tu[..., :k])
    u = u[..., :k] * p
    if name == "svd":   # A = U S V^H: V's columns turn with U's
        v, tv = v[..., :k] * p, tv[..., :k]
    else:               # linalg.svd returns Vh = V^H: its rows turn by conj(p)
        v, tv = v[..., :k, :] * np.conj(np.swapaxes(p, -1, -2)), tv[..., :k, :]
    dt = as_numpy(e[0]).dtype
    t = (torch.from_numpy(np.ascontiguousarray(tu[..., :k])), t[1], torch.from_numpy(np.ascontiguousarray(tv)))
    return t, (ember.from_numpy(np.ascontiguousarray(u).astype(dt)), e[1],
               ember.from_numpy(np.ascontiguousarray(v).astype(dt)))


def _sample_dim(name, sample):
    """The dim a (values, indices) op reduced over, from the sample's arguments."""
    args, kwargs = sample.args, sample.kwargs
    if "dim" in kwargs:
        return kwargs["dim"]
    pos = 1 if name in ("topk", "kthvalue") else 0
    if len(args) > pos and isinstance(args[pos], int):
        return args[pos]
    return -1


def ties_mismatch(name, sample, x, t, e):
    """None when ember's indices pick elements equal to those torch's pick (ties may name others)."""
    x = as_numpy(x)
    dim = _sample_dim(name, sample)
    if name == "argsort":
        if x.ndim == 0:
            return mismatch(t, e)
        same = np.array_equal(np.take_along_axis(x, as_numpy(t), dim), np.take_along_axis(x, as_numpy(e), dim),
                              equal_nan=True)
        return None if same else "argsort: the indices name different values"
    if not (isinstance(t, tuple) and len(t) == 2):
        return mismatch(t, e)
    r = mismatch(t[0], e[0], "values")
    if r or x.ndim == 0:
        return r or mismatch(t[1], e[1], "indices")
    ti, ei = as_numpy(t[1]), as_numpy(e[1])
    if ti.shape != ei.shape or ti.dtype != ei.dtype:
        return mismatch(t[1], e[1], "indices")
    keep = ti.ndim == x.ndim
    picked = np.take_along_axis(x, ei if keep else np.expand_dims(ei, dim), dim)
    want = as_numpy(t[0]) if keep else np.expand_dims(as_numpy(t[0]), dim)
    return None if np.array_equal(picked, want, equal_nan=True) else "indices name values other than torch's"


def grad_mismatch(op, t_in, e_in, memo, t_out, e_out):
    """Compare input gradients of sum(out * r), r a fixed random cotangent per differentiable output."""
    leaves = [x for x in flat(t_in) if isinstance(x, torch.Tensor) and x.requires_grad and x.is_leaf]
    pairs = [(a, b) for a, b in zip(flat(t_out), flat(e_out)) if isinstance(a, torch.Tensor) and a.requires_grad]
    if not leaves or not pairs:
        return None
    rng = np.random.default_rng(0)
    cot = [rng.standard_normal(a.shape) + (1j * rng.standard_normal(a.shape) if a.is_complex() else 0)
           for a, _ in pairs]
    try:
        want = torch.autograd.grad([a for a, _ in pairs], leaves, [torch.from_numpy(np.asarray(c)).to(a.dtype)
                                                                    for c, (a, _) in zip(cot, pairs)],
                                   allow_unused=True)
    except RuntimeError:
        return None     # torch itself cannot differentiate this sample
    got = ember.autograd.grad([b for _, b in pairs], [memo[id(x)] for x in leaves],
                              [ember.from_numpy(np.asarray(c).astype(as_numpy(a).dtype)) for c, (a, _) in
                               zip(cot, pairs)], allow_unused=True)
    for i, (w, g) in enumerate(zip(want, got)):
        if w is None and g is None:
            continue
        w = torch.zeros_like(leaves[i]) if w is None else w
        g = ember.zeros(tuple(leaves[i].shape), dtype=getattr(ember, str(leaves[i].dtype)[6:])) if g is None else g
        r = mismatch(w, g, f"grad of input {i}")
        if r:
            return r
    return None


def check_sample(op, t_fn, fn, sample, with_grad):
    """None if ember's fn agrees with torch's t_fn on this sample (or torch rejects it), else a message."""
    memo = {}
    e_in = to_ember((sample.input, sample.args, sample.kwargs), memo)
    try:
        t_out = t_fn(sample.input, *sample.args, **sample.kwargs)
    except Exception:
        return None     # not a valid sample for torch itself: nothing to compare
    e_out = fn(e_in[0], *e_in[1], **e_in[2])
    if op.name in RANDOM or _random_sample(op, sample):
        shapes = [(str(x.dtype), tuple(x.shape)) for x in flat(t_out) if isinstance(x, torch.Tensor)]
        ours = [(str(x.dtype), tuple(x.shape)) for x in flat(e_out) if isinstance(x, ember.Tensor)]
        return None if shapes == ours else f"dtype/shape {ours}, torch {shapes}"
    if op.name in GAUGE:
        t_out, e_out = align_gauge(op.name, t_out, e_out)
        with_grad = False    # a random cotangent is not phase-invariant
    dtype = sample.input.dtype if isinstance(sample.input, torch.Tensor) else None
    r = mismatch(t_out, e_out, tol=OP_TOL.get((op.name, dtype)))
    if r and (op.name in TIES and isinstance(t_out, tuple) or op.name == "argsort"):
        r = ties_mismatch(op.name, sample, sample.input, t_out, e_out)
    if r or not with_grad:
        return r
    return grad_mismatch(op, (sample.input, sample.args, sample.kwargs), e_in, memo, t_out, e_out)


VARIANTS = ("function", "method", "inplace")


def torch_variant(op, variant):
    """The OpInfo's callable for variant ("function", "method" or "inplace"), or None."""
    return {"function": op.op, "method": op.method_variant, "inplace": op.inplace_variant}[variant]


def run_op(op, dtype, variant="function"):
    """Every sample of op in dtype through ember's variant of it; a list of (sample index, message) for the samples
    that differ."""
    t_fn = torch_variant(op, variant)
    fn = ember_op(op) if variant == "function" else ember_callable(t_fn)
    with_grad = variant != "inplace" and op.supports_autograd and dtype in (torch.float64, torch.complex128) and \
        dtype in op.supported_backward_dtypes("cpu")
    failures = []
    for i, sample in enumerate(op.sample_inputs("cpu", dtype, requires_grad=with_grad)):
        try:
            r = check_sample(op, t_fn, fn, sample, with_grad)
        except Unsupported:
            continue
        except (NotImplementedError, AttributeError):
            raise     # not implemented in ember: the test fails (or is listed) with that error
        except Exception as e:   # noqa: BLE001 - every ember error is a finding, reported with its type
            r = f"{type(e).__name__}: {e}"
        if r:
            failures.append((i, r))
    return failures


def error_mismatches(op):
    """Each of op's error inputs that torch rejects on CPU with its documented exception: a list of (index,
    message) where ember does not raise the same exception class with a message matching torch's pattern."""
    import re
    fn = ember_op(op)
    found = []
    for i, err in enumerate(op.error_inputs("cpu")):
        s = err.sample_input
        try:
            e_in = to_ember((s.input, s.args, s.kwargs), {})
        except Unsupported:
            continue
        try:
            op.op(s.input, *s.args, **s.kwargs)
            continue     # torch accepts it on CPU (a device-dependent check): nothing to compare
        except Exception as t_err:   # noqa: BLE001
            if not isinstance(t_err, err.error_type):
                continue
        try:
            fn(e_in[0], *e_in[1], **e_in[2])
        except Exception as e_err:   # noqa: BLE001
            if not isinstance(e_err, err.error_type):
                found.append((i, f"{type(e_err).__name__}: {e_err}, torch raises {err.error_type.__name__}"))
            elif not re.search(err.error_regex, str(e_err)):
                found.append((i, f"message {str(e_err)!r} does not match torch's {err.error_regex!r}"))
            continue
        found.append((i, f"no error; torch raises {err.error_type.__name__} matching {err.error_regex!r}"))
    return found


def module_cases(keep):
    """pytest params (ModuleInfo, training) for every module of torch's module_db that keep(info) accepts, in
    training and in eval mode."""
    from torch.testing._internal.common_modules import module_db
    return [pytest.param(info, training, id=f"{info.module_cls.__name__}-{'train' if training else 'eval'}")
            for info in module_db if keep(info) for training in (True, False)]
