"""Helpers shared by the ops: unbroadcasting gradients, dim normalisation, operand coercion."""
import numpy as np

from .._tensor import Tensor
from .. import _dtype
from ..autograd.grad_mode import STATE

# np.einsum without its Python wrapper (which only adds the `optimize` option): about 1 us less per call.
c_einsum = getattr(getattr(np, "_core", None), "multiarray", None)
c_einsum = getattr(c_einsum, "c_einsum", np.einsum)


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONES_COLUMNS = {}


FULL_ROW_SUMS_MAX = 16  # rows up to this long take row_sums(full=True)'s square of ones


def row_sums(a, full=False, scale=1):
    """a.sum(-1, keepdims=True) * scale. Small float32/64 arrays take a BLAS product with a column of `scale`s,
    about a third of ufunc.reduce's fixed cost (the sum is accumulated as BLAS accumulates, within rounding of the
    pairwise sum; a scale such as 1/n saves the division's call and is applied per term). With full, rows up to
    FULL_ROW_SUMS_MAX long take a square matrix instead: each row's sum repeated along the row, so what combines it
    with a row of the array is a same-shape ufunc (~0.7 us less than a broadcasting one)."""
    shape = a.shape
    if shape and a.size <= 4096:
        n = shape[-1]
        key = (n, full, scale, a.dtype)
        ones = _ONES_COLUMNS.get(key)
        if ones is not None:
            return a.dot(ones)
        if n <= 256 and a.dtype in _BLAS_FLOATS:
            width = n if full and n <= FULL_ROW_SUMS_MAX else 1
            return a.dot(_ONES_COLUMNS.setdefault(key, np.full((n, width), scale, a.dtype)))
    s = np.add.reduce(a, axis=-1, keepdims=True)
    return s if scale == 1 else s * scale


def column_sums(a):
    """a.sum(0) of 2-D `a`: a BLAS product with a cached row of ones (np.ones alone costs more than a small sum; the
    product is a third of ufunc.reduce's fixed cost), summing as BLAS does."""
    r = a.shape[0]
    if a.dtype in _BLAS_FLOATS and r <= 4096:
        return _ones_vector(r, a.dtype).dot(a)
    return np.add.reduce(a, axis=0)


def _ones_vector(n, dtype):
    """A cached 1-D array of n ones of a BLAS float dtype (column_sums, vector_sum)."""
    key = ("vector", n, dtype)
    ones = _ONES_COLUMNS.get(key)
    if ones is None:
        ones = _ONES_COLUMNS[key] = np.ones(n, dtype)
    return ones


def vector_sum(a):
    """np.add.reduce of 1-D `a` (a NumPy scalar); float32/64 ones up to 256 long by a BLAS dot with a cached vector of
    ones (a third of the reduce's fixed cost), as row_sums."""
    n = a.shape[0]
    if n <= 256 and a.dtype in _BLAS_FLOATS:
        return a.dot(_ones_vector(n, a.dtype))
    return np.add.reduce(a)


def holomorphic_grads(grads, g, *args):
    """grads(g, *args) of a holomorphic op (its formulas are g times derivatives); for complex g, PyTorch's
    convention g * conj(f'(z)), which is conj(grads(conj(g), *args)) since grads is linear in g. grads returns a
    Tensor or a tuple of Tensors and Nones."""
    if g._data.dtype.kind != "c":
        return grads(g, *args)
    out = grads(g.conj(), *args)
    return out.conj() if isinstance(out, Tensor) else tuple(None if v is None else v.conj() for v in out)


def sum_to(g, shape):
    """Sum gradient `g` down to `shape`: undo broadcasting (the one shared unbroadcast helper). Without a graph to
    record, float32/64 gradients are summed on the arrays."""
    shape = tuple(shape)
    gshape = g._data.shape
    if gshape == shape:
        return g
    if not STATE.enabled and g._data.dtype in _BLAS_FLOATS:
        out = sum_to_array(g._data, shape)
        return Tensor._make(out if type(out) is np.ndarray else np.asarray(out))
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    if lead or g._data.shape != shape:
        g = g.reshape(shape)
    return g


def sum_to_array(g, shape):
    """NumPy version of sum_to for kernels that work on raw arrays."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if dims:
        g = g.sum(axis=dims, keepdims=True)
    return g.reshape(shape)


def wrap_dim(dim, ndim):
    """Normalise a possibly negative dim, with PyTorch's IndexError text."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def wrap_dims(dims, ndim):
    """Normalise an int or sequence of dims into a sorted tuple; None means all dims."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(sorted(wrap_dim(int(d), ndim) for d in dims))
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    if ndim == 0:
        return ()
    return out


def as_tensor_arg(x):
    """Coerce an operand: Tensors pass, NumPy scalars become Python scalars, arrays/lists become Tensors."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, complex)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    if isinstance(x, (list, tuple)):
        from .creation import tensor
        return tensor(x)
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def to_tensor(x, dtype=None):
    """A Tensor for x (Python scalars become 0-d tensors of their promotion dtype)."""
    if isinstance(x, Tensor):
        return x
    x = as_tensor_arg(x)
    if isinstance(x, Tensor):
        return x
    d = dtype if dtype is not None else _dtype.scalar_dtype(x)
    return Tensor._make(np.array(x, dtype=d.np))


def cast(a, np_dtype):
    """Cast an ndarray operand (Python scalars pass through unchanged)."""
    if isinstance(a, np.ndarray) and a.dtype != np_dtype:
        return a.astype(np_dtype)
    return a


def float_dtype_for(d):
    """The dtype a float-valued op returns for input dtype d (integers -> the default float)."""
    return d if d.is_floating_point or d.is_complex else _dtype.get_default_dtype()


_CLONE_HINT = " Please clone() the tensor before performing the operation."


def check_out_overlap(out, *inputs):
    """PyTorch's refusal of an out= tensor whose elements alias each other or an input (call only when out is given,
    before writing)."""
    o = out._data
    if not o.flags.writeable or not o.flags.c_contiguous and any(st == 0 < n - 1 for st, n in zip(o.strides, o.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a single "
                           "memory location." + _CLONE_HINT)
    for t in inputs:
        if isinstance(t, Tensor) and (t is out or np.may_share_memory(o, t._data) and np.shares_memory(o, t._data)):
            raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor "
                               "refer to a single memory location." + _CLONE_HINT)


_CPP_TYPES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def check_out_dtype(out, np_dtype):
    """PyTorch's error for an out= tensor of another dtype than the result's, for ops that don't cast into out."""
    if out._data.dtype != np_dtype:
        name = _CPP_TYPES.get(np.dtype(np_dtype).name, np.dtype(np_dtype).name)
        got = _CPP_TYPES.get(out._data.dtype.name, out._data.dtype.name)
        raise RuntimeError(f"Expected out tensor to have dtype {name}, but got {got} instead")
