"""Tensor factories (tensor, zeros, arange, ...) and random sampling (rand, randn, normal, ...)."""
import builtins
import math

import numpy as np

from .._tensor import Tensor, _nested_data
from .. import _dtype
from .._dtype import get_default_dtype, to_dtype, check_device
from .. import random as _random


def _finish(arr, requires_grad=False, device=None):
    check_device(device)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size_arg(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, _dtype.Size)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"argument 'size' must be tuple of ints, but found element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _infer_dtype(data):
    """The dtype torch.tensor() infers for nested Python data."""
    if isinstance(data, np.ndarray):
        return _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.generic):
        return _dtype.from_numpy_dtype(data.dtype) if not isinstance(data, (np.float64,)) else _dtype.float64
    flat = _flatten_scalars(data)
    kinds = set()
    for v in flat:
        if isinstance(v, (bool, np.bool_)):
            kinds.add(0)
        elif isinstance(v, (int, np.integer)):
            kinds.add(1)
        elif isinstance(v, (float, np.floating)):
            kinds.add(2)
        elif isinstance(v, (complex, np.complexfloating)):
            kinds.add(3)
        elif isinstance(v, np.ndarray):
            kinds.add({"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}[v.dtype.kind])
        else:
            raise TypeError(f"Could not infer dtype of {type(v).__name__}")
    if not kinds:
        return get_default_dtype()
    k = builtins.max(kinds)
    return [_dtype.bool_, _dtype.int64, get_default_dtype(), _dtype.default_complex()][k]


def _flatten_scalars(data):
    if isinstance(data, (list, tuple)):
        out = []
        for d in data:
            out.extend(_flatten_scalars(d))
        return out
    if isinstance(data, Tensor):
        return [data._data] if data._data.ndim else [data._data.reshape(()).item() if data._data.dtype.kind != "f"
                                                       else data._data]
    return [data]


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (nested lists, scalars, NumPy arrays or Tensors)."""
    d = to_dtype(dtype) if dtype is not None else _infer_dtype(data)
    raw = data._data if isinstance(data, Tensor) else _nested_data(data)
    try:
        arr = np.array(raw, dtype=d.np)
    except (ValueError, TypeError) as e:
        raise ValueError(f"expected sequence of length matching the other entries in the nested data ({e})") from None
    if arr.dtype == object:
        raise TypeError("Could not infer dtype of object")
    return _finish(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing memory with `data` when possible (NumPy arrays, Tensors)."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or to_dtype(dtype) == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        _dtype.from_numpy_dtype(data.dtype)
        if dtype is None or to_dtype(dtype).np == data.dtype:
            return Tensor._make(data)
        return Tensor._make(data.astype(to_dtype(dtype).np))
    return tensor(data, dtype=dtype)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def from_dlpack(ext_tensor):
    return Tensor._make(np.from_dlpack(ext_tensor))


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    return _finish(np.frombuffer(buffer, to_dtype(dtype).np, count, offset), requires_grad)


def _dt(dtype):
    return to_dtype(dtype).np if dtype is not None else get_default_dtype().np


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _fill_out(out, np.zeros(_size_arg(size), _dt(dtype)), requires_grad, device)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _fill_out(out, np.ones(_size_arg(size), _dt(dtype)), requires_grad, device)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    return _fill_out(out, np.zeros(_size_arg(size), _dt(dtype)), requires_grad, device)


def _fill_out(out, arr, requires_grad, device):
    if out is not None:
        out._data = arr.astype(out._data.dtype)
        return out
    return _finish(arr, requires_grad, device)


def _scalar_fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        return fill_value.dtype
    return _dtype.scalar_dtype(fill_value)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    d = to_dtype(dtype) if dtype is not None else _scalar_fill_dtype(fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _fill_out(out, np.full(_size_arg((size,)), fill_value, d.np), requires_grad, device)


def _like_dtype(input, dtype):
    return to_dtype(dtype).np if dtype is not None else input._data.dtype


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.ones(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.full(input._data.shape, fill_value, _like_dtype(input, dtype)), requires_grad, device)


def _num(v):
    return v.item() if isinstance(v, Tensor) else v


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        d = get_default_dtype() if is_float else _dtype.int64
    else:
        d = to_dtype(dtype)
    n = builtins.max(int(math.ceil((end - start) / step)), 0)
    if d.is_floating_point:
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(d.np)
    else:
        arr = np.arange(start, end, step).astype(d.np)[:n]
    return _fill_out(out, arr, requires_grad, device)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    return _finish((start + np.arange(n, dtype=np.float64) * step).astype(d.np), requires_grad, device)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    start, end = _num(start), _num(end)
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    # torch computes the first half forward from start and the second half backward from end
    i = np.arange(steps, dtype=np.float64)
    if steps > 1:
        step = (end - start) / (steps - 1)
        half = steps // 2
        arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    else:
        arr = np.full(steps, start, np.float64)
    if d.is_floating_point:
        work = np.float64 if d.np == np.float64 else np.float32
        if work == np.float32 and steps > 1:
            st = np.float32((end - start) / (steps - 1))
            half = steps // 2
            fi = i.astype(np.float32)
            arr = np.where(i < half, np.float32(start) + st * fi, np.float32(end) - st * (np.float32(steps - 1) - fi))
        arr = arr.astype(d.np)
    else:
        arr = arr.astype(d.np)
    return _fill_out(out, arr, requires_grad, device)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    exps = linspace(start, end, steps, dtype=_dtype.float64)._data
    return _fill_out(out, np.power(base, exps).astype(d.np), requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    return _fill_out(out, np.eye(n, n if m is None else m, dtype=_dt(dtype)), requires_grad, device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.tril_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(to_dtype(dtype).np if dtype else np.int64))


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.triu_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(to_dtype(dtype).np if dtype else np.int64))


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and len(shape) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        pos = i
        if indexing == "xy" and len(shape) >= 2 and i < 2:
            pos = 1 - i
        view = [1] * len(shape)
        view[pos] = -1
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing="ij")
    from .shape import stack
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in grids], 1)


def complex(real, imag):
    return Tensor._make(real._data + 1j * imag._data)


def polar(abs, angle):
    return Tensor._make(abs._data * np.exp(1j * angle._data))


# ---- random sampling --------------------------------------------------------------------------------------------
def _float_dt(dtype):
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    if not d.is_floating_point and not d.is_complex:
        raise RuntimeError(f"\"check_uniform_bounds\" not implemented for '{d.name.capitalize()}'")
    return d.np


def _sample_float(gen, size, np_dtype, kind):
    r = _random.rng(gen)
    work = np.float32 if np_dtype in (np.float32, np.float16) else np.float64
    x = r.random(size, dtype=work) if kind == "uniform" else r.standard_normal(size, dtype=work)
    return x.astype(np_dtype, copy=False)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return _fill_out(out, _sample_float(generator, _size_arg(size), _float_dt(dtype), "uniform"), requires_grad, device)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return _fill_out(out, _sample_float(generator, _size_arg(size), _float_dt(dtype), "normal"), requires_grad, device)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(_sample_float(None, input._data.shape, _like_dtype(input, dtype), "uniform"), requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(_sample_float(None, input._data.shape, _like_dtype(input, dtype), "normal"), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    arr = _random.rng(generator).integers(low, high, _size_arg((size,)), dtype=np.int64).astype(d.np)
    return _fill_out(out, arr, requires_grad, device)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    arr = _random.rng(None).integers(low, high, input._data.shape).astype(_like_dtype(input, dtype))
    return _finish(arr, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    return _fill_out(out, _random.rng(generator).permutation(n).astype(d.np), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: size is required for float "
                            "mean and std")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        z = _sample_float(generator, _size_arg((size,)), _float_dt(dtype), "normal")
        return _fill_out(out, (z * std + mean).astype(z.dtype), requires_grad, device)
    m = mean._data if mt else np.asarray(mean)
    s = std._data if st else np.asarray(std)
    if (s < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = np.broadcast_shapes(m.shape, s.shape)
    ref = mean if mt else std
    z = _sample_float(generator, shape, ref._data.dtype, "normal")
    return Tensor._make((z * s + m).astype(ref._data.dtype))


def bernoulli(input, p=None, *, generator=None, out=None):
    prob = input._data if p is None else np.broadcast_to(np.asarray(p), input._data.shape)
    if ((prob < 0) | (prob > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = _random.rng(generator).random(input._data.shape)
    return _fill_out(out, (u < prob).astype(input._data.dtype), False, None)


def poisson(input, generator=None):
    return Tensor._make(_random.rng(generator).poisson(input._data).astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    probs = input._data.astype(np.float64)
    one = probs.ndim == 1
    p2 = probs.reshape(1, -1) if one else probs
    if (p2 < 0).any() or not np.isfinite(p2).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = p2.sum(1, keepdims=True)
    if (sums == 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    n_cat = p2.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    r = _random.rng(generator)
    if replacement:
        cdf = np.cumsum(p2 / sums, axis=1)
        u = r.random((p2.shape[0], num_samples))
        res = np.minimum((u[:, :, None] > cdf[:, None, :]).sum(-1), n_cat - 1)
    else:
        # Gumbel/exponential trick: the k smallest of E_i / p_i are a draw without replacement.
        e = r.exponential(size=p2.shape) / np.where(p2 > 0, p2, 1e-300)
        e = np.where(p2 > 0, e, np.inf)
        res = np.argsort(e, axis=1, kind="stable")[:, :num_samples]
    res = res.astype(np.int64)
    return _fill_out(out, res[0] if one else res, False, None)


__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "frombuffer", "zeros", "ones", "empty",
           "full", "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace", "logspace", "eye",
           "tril_indices", "triu_indices", "meshgrid", "cartesian_prod", "complex", "polar", "rand", "randn",
           "rand_like", "randn_like", "randint", "randint_like", "randperm", "normal", "bernoulli", "poisson",
           "multinomial"]
