"""In-place NumPy update kernels shared by the optimizers (PyTorch's exact operation order).

Scalars are rounded to the array's dtype first, as PyTorch's `alpha=`/`value=` arguments are, so float32 stays
float32. `buf` arguments are caller-owned scratch arrays, so an update allocates no temporaries of its own.
An optimizer's whole per-parameter update is one kernel run by `blockwise` over cache-sized blocks: NumPy makes a
pass over memory per operation, and blocking keeps those passes in cache instead of main memory.
"""
import numpy as np

BLOCK = 131072


def blockwise(kernel, arrays, n_scratch, **consts):
    """kernel(*blocks, *scratch, **consts) over matching BLOCK-element blocks of `arrays` (None entries stay None;
    the first array is the parameter, present and of the dtype of the rest).

    Arrays that are not all C-contiguous (or are small) are processed whole, with full-size scratch arrays. Complex
    arrays are updated through real views, as PyTorch's view_as_real: each real and imaginary part on its own.
    """
    first = arrays[0]
    if first.dtype.kind == "c":
        arrays = [_real_view(a) for a in arrays]
        first = arrays[0]
    n = first.size
    if n <= BLOCK or not all(a is None or a.flags.c_contiguous for a in arrays):
        scratch = np.empty((n_scratch,) + first.shape, first.dtype)
        kernel(*arrays, *(scratch[i, ...] for i in range(n_scratch)), **consts)
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    scratch = np.empty((n_scratch, BLOCK), first.dtype)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        kernel(*(None if a is None else a[start:stop] for a in flat), *scratch[:, :stop - start], **consts)


def _real_view(a):
    """A complex array as a float array of shape (..., 2) holding (re, im) (a view, any strides); others unchanged."""
    if a is None or a.dtype.kind != "c":
        return a
    return np.lib.stride_tricks.as_strided(a.real, a.shape + (2,), a.strides + (a.itemsize // 2,))


def effective_grad(g, param, maximize, weight_decay, out):
    """-g if maximizing, plus weight_decay * param (PyTorch's grad.add(param, alpha=wd)); into `out` when new."""
    if weight_decay != 0:
        np.multiply(param, param.dtype.type(weight_decay), out=out)
        return np.subtract(out, g, out=out) if maximize else np.add(out, g, out=out)
    return np.negative(g, out=out) if maximize else g


def lerp_(a, b, w, buf=None):
    """a.lerp_(b, w) with PyTorch's two-branch formula."""
    w = a.dtype.type(w)
    diff = np.subtract(b, a, out=buf)
    if w < 0.5:
        diff *= w
        a += diff
    else:
        diff *= a.dtype.type(1) - w
        np.subtract(b, diff, out=a)
    return a


def addcmul_(a, t1, t2, value, buf=None):
    """a.addcmul_(t1, t2, value=value): a + (value * t1) * t2."""
    if value == 1:
        tmp = np.multiply(t1, t2, out=buf)
    else:
        tmp = np.multiply(t1, a.dtype.type(value), out=buf)
        tmp *= t2
    a += tmp
    return a


def addcdiv_(a, t1, t2, value, buf=None):
    """a.addcdiv_(t1, t2, value=value): a + (value * t1) / t2."""
    if value == 1:
        tmp = np.divide(t1, t2, out=buf)
    else:
        tmp = np.multiply(t1, a.dtype.type(value), out=buf)
        tmp /= t2
    a += tmp
    return a


def add_(a, b, alpha, buf=None):
    """a.add_(b, alpha=alpha)."""
    if alpha == 1:
        a += b
        return a
    tmp = np.multiply(b, a.dtype.type(alpha), out=buf)
    a += tmp
    return a
