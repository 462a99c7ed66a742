"""Resampling for F.interpolate on NumPy: separable taps applied one spatial dim at a time.

Every mode except 'area' is, along each spatial dim, a fixed set of taps: for each output position T
source indices and T weights (nearest: 1 tap, linear: 2, cubic: 4), computed with PyTorch's own index
arithmetic in its compute dtype (area_pixel_compute_scale, the source-index formulas, the float32 nearest
scale, even the rounding of its fused multiply-adds), so the numbers match. One gather kernel applies the
taps. The adjoint of a tap set is again a tap set over the input positions (its CSR transpose), so the
backward is the same gather; a reduceat scatter is the exact fallback. Forward and adjoint are Functions,
each the other's backward, so double backward works.
"""
import numpy as np

from ..autograd.function import Function

CUBIC_A = -0.75


def compute_dtype(dtype):
    """Dtype of the interpolation arithmetic (PyTorch's opmath type): float64 stays, the rest use float32."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _scale(n_in, n_out, align_corners, scale, dt):
    """PyTorch's area_pixel_compute_scale: source step per output step, given scale_factor or not."""
    if align_corners:
        return dt.type(n_in - 1) / dt.type(n_out - 1) if n_out > 1 else dt.type(0)
    if scale is not None and scale > 0:
        return dt.type(1.0 / scale)
    return dt.type(n_in) / dt.type(n_out)


def _source_index(scale, n_out, align_corners, cubic, dt):
    """Real source coordinate of each output position (clamped at 0 for linear, as PyTorch does).

    scale*(i+0.5)-0.5 is rounded once, as the fused multiply-add of PyTorch's compiled kernel does.
    """
    i = np.arange(n_out, dtype=dt)
    if align_corners:
        return scale * i
    src = (np.float64(scale) * (i.astype(np.float64) + 0.5) - 0.5).astype(dt)
    return src if cubic else np.maximum(src, dt.type(0))


def _floor_index(src, n_in):
    """PyTorch's guard_index_and_lambda: floorf of the source coordinate, capped at the last index."""
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n_in - 1)


def nearest_taps(n_in, n_out, scale, exact, generic, dt):
    """Source indices of 'nearest' (floor(i*s)) or 'nearest-exact' (floor((i+0.5)*s)).

    PyTorch has two index routines. Its generic N-d kernel (the 1-D and 3-D forwards) uses a float32 scale for
    'nearest' and the opmath scale with floor(src + 0.5) for 'nearest-exact'. nearest_idx/nearest_exact_idx
    (the 2-D forward and every backward) use a float32 scale, and nearest_idx copies when sizes match and
    halves when the output doubles, whatever the scale_factor.
    """
    i = np.arange(n_out)
    if not exact and not generic and n_out in (n_in, 2 * n_in):
        return (i if n_out == n_in else i >> 1)[None], None
    if exact and generic:
        s = _scale(n_in, n_out, False, scale, dt)
        real = np.maximum((np.float64(s) * (i + 0.5) - 0.5).astype(dt), 0)
        src = (real + dt.type(0.5)).astype(np.float32)
    else:
        s = _scale(n_in, n_out, False, scale, np.dtype(np.float32))
        src = ((i + 0.5) * np.float64(s)).astype(np.float32) if exact else i.astype(np.float32) * s
    return np.minimum(np.floor(src).astype(np.int64), n_in - 1)[None], None


def linear_taps(n_in, n_out, align_corners, scale, dt):
    """Two taps (floor, floor+1) with weights (1-l, l); PyTorch copies straight through when sizes match."""
    if n_in == n_out:
        return None
    src = _source_index(_scale(n_in, n_out, align_corners, scale, dt), n_out, align_corners, False, dt)
    i0 = _floor_index(src, n_in)
    lam = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    i1 = i0 + (i0 < n_in - 1)
    return np.stack([i0, i1]), np.stack([1 - lam, lam])


def cubic_coefficients(t):
    """Keys cubic convolution weights (A=-0.75) of the 4 taps at offsets -1..2 (arrays or Tensors)."""
    a = CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _fma32(a, b, c):
    """float32 a*b + c rounded once, as a fused multiply-add."""
    return (np.asarray(a, np.float64) * np.asarray(b, np.float64) + c).astype(np.float32)


def upsample_cubic_coefficients(t):
    """PyTorch's get_cubic_upsample_coefficients, rounded in float32 as its compiled kernel rounds them."""
    if t.dtype != np.float32:
        return cubic_coefficients(t)
    a = np.float32(CUBIC_A)

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return _fma32(_fma32(a, x, -5 * a), x, 8 * a) * x - 4 * a

    x2 = 1 - t
    return [far(t + 1), near(t), near(x2), far(x2 + 1)]


def cubic_taps(n_in, n_out, align_corners, scale, dt):
    """Four taps at floor-1..floor+2, clamped to the border, with cubic convolution weights."""
    src = _source_index(_scale(n_in, n_out, align_corners, scale, dt), n_out, align_corners, True, dt)
    i0 = _floor_index(src, n_in)
    t = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    idx = np.clip(i0 + np.arange(-1, 3)[:, None], 0, n_in - 1)
    return idx, np.stack(upsample_cubic_coefficients(t)).astype(dt)


class Taps:
    """The resampling of one axis: out[..., o, ...] = sum_t w[t, o] * x[..., idx[t, o], ...] (w None: weights 1).

    Its adjoint is again a tap set, on the input positions (transpose(): each input's incoming
    contributions, padded with zero weights), so the backward is a gather too; scatter_axis is the
    exact fallback (non-finite gradients, whose zero-weight padding would give NaN, or inputs fed by
    very many outputs).
    """

    MAX_FAN_IN = 16

    def __init__(self, axis, idx, w, n_in):
        self.axis, self.idx, self.w, self.n_in = axis, idx, w, n_in
        self.n_out = idx.shape[1]
        self._t = False

    def ratio(self):
        return self.n_out / self.n_in

    def apply(self, x):
        return gather_axis(x, self.axis, self.idx, self.w)

    def transpose(self):
        """(idx, w) of the adjoint as taps over the n_in positions, or None when the fan-in is too large."""
        if self._t is False:
            self._t = _transpose_taps(self.idx, self.w, self.n_in, self.MAX_FAN_IN)
        return self._t

    def adjoint(self, g):
        t = self.transpose()
        if t is None or (g.dtype.kind == "f" and not np.isfinite(g).all()):
            return scatter_axis(g, self.axis, self.idx, self.w, self.n_in)
        return gather_axis(g, self.axis, *t)


def _transpose_taps(idx, w, n_in, max_fan_in):
    """CSR transpose of a tap set: for every input position its (output, weight) pairs, duplicates merged."""
    n_out = idx.shape[1]
    outs = np.broadcast_to(np.arange(n_out), idx.shape).reshape(-1)
    key = idx.reshape(-1) * n_out + outs
    ones = np.ones(idx.size) if w is None else w.reshape(-1).astype(np.float64)
    uniq, inv = np.unique(key, return_inverse=True)
    weights = np.bincount(inv, weights=ones, minlength=uniq.size)
    src, dst = uniq // n_out, uniq % n_out
    counts = np.bincount(src, minlength=n_in)
    fan_in = int(counts.max())
    if fan_in > max_fan_in:
        return None
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(uniq.size) - starts[src]
    tidx = np.zeros((fan_in, n_in), np.int64)
    tw = np.zeros((fan_in, n_in), np.float64)
    tidx[rank, src] = dst
    tw[rank, src] = weights
    if w is None and (counts == fan_in).all() and (tw == 1).all():
        return tidx, None
    return tidx, tw.astype(np.float32 if w is None else w.dtype)


def make_plans(in_spatial, out_spatial, mode, align_corners, scales, dtype, backward=False):
    """One Taps per spatial dim that changes.

    backward=True gives the taps PyTorch's backward kernels use; they differ from the forward's only for
    the nearest modes in 1-D and 3-D (see nearest_taps).
    """
    dt = compute_dtype(dtype)
    nd = len(in_spatial)
    generic = not backward and nd != 2
    plans = []
    for d in reversed(range(nd)):
        n_in, n_out, s = in_spatial[d], out_spatial[d], scales[d]
        if mode in ("nearest", "nearest-exact"):
            taps = nearest_taps(n_in, n_out, s, mode == "nearest-exact", generic, dt)
            if n_in == n_out and np.array_equal(taps[0][0], np.arange(n_in)):
                taps = None
        elif mode == "bicubic":
            taps = cubic_taps(n_in, n_out, align_corners, s, dt)
        else:
            taps = linear_taps(n_in, n_out, align_corners, s, dt)
        if taps is not None:
            plans.append(Taps(d - nd, taps[0], taps[1], n_in))
    return tuple(plans)


def _bshape(ndim, axis, n):
    shape = [1] * ndim
    shape[axis] = n
    return shape


def gather_axis(x, axis, idx, w):
    """sum over taps t of x[..., idx[t], ...] * w[t] along `axis` (a plain gather when w is None)."""
    if w is None and len(idx) == 1:
        return np.take(x, idx[0], axis=axis)
    shape = _bshape(x.ndim, axis, idx.shape[1])
    out = np.take(x, idx[0], axis=axis)
    if w is not None:
        out *= w[0].reshape(shape)
    for k in range(1, len(idx)):
        v = np.take(x, idx[k], axis=axis)
        if w is not None:
            v *= w[k].reshape(shape)
        out += v
    return out


def _add_sorted(out, axis, idx, vals):
    """out[..., idx, ...] += vals along axis for a non-decreasing idx: runs summed by reduceat, no np.add.at."""
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    if starts.size < idx.size:
        vals = np.add.reduceat(vals, starts, axis=axis)
    dest = idx[starts]
    key = [slice(None)] * out.ndim
    lo, hi = int(dest[0]), int(dest[-1]) + 1
    key[axis] = slice(lo, hi) if hi - lo == dest.size else dest
    out[tuple(key)] += vals


def scatter_axis(g, axis, idx, w, n_in):
    """The adjoint of gather_axis: an array with `n_in` positions along axis, taps' contributions summed."""
    shape = list(g.shape)
    shape[axis] = n_in
    out = np.zeros(shape, g.dtype)
    if g.size == 0:
        return out
    bshape = _bshape(g.ndim, axis, idx.shape[1])
    for k in range(len(idx)):
        _add_sorted(out, axis, idx[k], g if w is None else g * w[k].reshape(bshape))
    return out


def _in_compute_dtype(x):
    if x.dtype.kind == "f" and x.dtype != compute_dtype(x.dtype):
        return x.astype(compute_dtype(x.dtype))
    return x


def resample_array(x, plans):
    """Apply the per-dim taps to x, shrinking dims first (a fresh array even when no dim changes)."""
    out = _in_compute_dtype(x)
    for taps in sorted(plans, key=Taps.ratio):
        out = taps.apply(out)
    if out is x:
        return x.copy()
    return out.astype(x.dtype, copy=False)


def resample_adjoint_array(g, plans):
    """Apply the adjoint of every dim's taps to g (the dims that shrink most first)."""
    out = _in_compute_dtype(g)
    for taps in sorted(plans, key=Taps.ratio, reverse=True):
        out = taps.adjoint(out)
    if out is g:
        return g.copy()
    return out.astype(g.dtype, copy=False)


class Resample(Function):
    """x resampled by fixed separable taps; backward applies the backward taps' adjoint (ResampleAdjoint)."""

    _raw = True
    _node_name = "UpsampleBackward0"

    @staticmethod
    def forward(ctx, x, plans, back_plans):
        ctx.plans = (plans, back_plans)
        return resample_array(x, plans)

    @staticmethod
    def backward(ctx, g):
        plans, back_plans = ctx.plans
        return ResampleAdjoint.apply(g, back_plans, plans), None, None


class ResampleAdjoint(Function):
    """The transpose of Resample (linear in g); its backward is the forward resampling again."""

    _raw = True
    _node_name = "UpsampleBackwardBackward0"

    @staticmethod
    def forward(ctx, g, back_plans, plans):
        ctx.plans = (plans, back_plans)
        return resample_adjoint_array(g, back_plans)

    @staticmethod
    def backward(ctx, gg):
        plans, back_plans = ctx.plans
        return Resample.apply(gg, plans, back_plans), None, None


_MODE_NAMES = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear", "bilinear": "Bilinear",
               "trilinear": "Trilinear", "bicubic": "Bicubic"}
_NAMED = {}


def resample_function(mode, nd):
    """Resample subclass whose graph node reads as PyTorch's (e.g. UpsampleBilinear2DBackward0)."""
    name = f"Upsample{_MODE_NAMES[mode]}{nd}DBackward0"
    if name not in _NAMED:
        _NAMED[name] = type(name[:-len("Backward0")], (Resample,), {"_node_name": name, "__module__": __name__})
    return _NAMED[name]


def resample(x, out_spatial, mode, align_corners, scales):
    """Differentiable resampling of x (N, C, *spatial) to out_spatial with the given mode.

    The backward taps are PyTorch's backward kernels': the nearest modes' differ in 1-D and 3-D, and its
    bicubic backward copies the gradient straight through when no size changes (its forward does not).
    """
    nd = len(out_spatial)
    args = (x.shape[2:], tuple(out_spatial), mode, align_corners, scales, x._data.dtype)
    plans = make_plans(*args)
    if mode == "bicubic" and tuple(x.shape[2:]) == tuple(out_spatial):
        back = ()
    elif mode.startswith("nearest") and nd != 2:
        back = make_plans(*args, backward=True)
    else:
        back = plans
    if _half_weights(x._data, mode, out_spatial):
        plans = tuple(Taps(t.axis, t.idx, _to_half(t.w).astype(t.w.dtype), t.n_in) for t in plans)
    return resample_function(mode, nd).apply(x, plans, back)


def resample_uint8(x, out_spatial, mode, align_corners, scales):
    """torch's uint8 bilinear/bicubic resampling of array x (N, C, *spatial): one pass per dim that changes, the
    last dim first, each with int16 fixed-point weights and rounded and clamped to uint8 (Pillow's scheme)."""
    out = x
    for d in reversed(range(len(out_spatial))):
        n_in, n_out = x.shape[2 + d], out_spatial[d]
        if n_in != n_out:
            out = _fixed_point_pass(out, 2 + d, *_int16_taps(n_in, n_out, mode == "bicubic", align_corners,
                                                              scales[d]))
    return out if out is not x else x.copy()


def _int16_taps(n_in, n_out, cubic, align_corners, scale):
    """(indices, int16 weights, precision bits) of one axis, as torch's _compute_index_ranges_int16_weights: double
    weights (taps beyond the border folded onto the edge ones) scaled by 2**precision and rounded."""
    size = 4 if cubic else 2
    support = size // 2
    s = _scale(n_in, n_out, align_corners, scale, np.dtype(np.float64))
    i = np.arange(n_out, dtype=np.float64)
    real = s * i if align_corners else s * (i + 0.5) - 0.5
    if not cubic and not align_corners:
        real = np.maximum(real, 0)
    start = _floor_index(real, n_in)
    lam = np.clip(real - start, 0, 1)
    lo = start - support + 1
    first = np.maximum(lo, 0)
    count = np.clip(np.minimum(start + support + 1, n_in) - first, 0, size)
    w = np.zeros((n_out, size))
    rows = np.arange(n_out)
    slot = np.zeros(n_out, np.int64)
    peak = 0.0
    for j in range(size):
        pos = lo + j
        slot = np.where(pos <= 0, 0, np.where(pos >= n_in - 1, count - 1, slot))
        w[rows, slot] += _filter((j + 1 - support) - lam, cubic)
        peak = max(peak, float(w[rows, slot].max()))
        slot = slot + 1
    w[np.arange(size) >= count[:, None]] = 0
    prec = 0
    while prec < 22 and int(0.5 + peak * (1 << (prec + 1))) < (1 << 15):
        prec += 1
    v = w * (1 << prec)
    w16 = np.trunc(v + np.where(v < 0, -0.5, 0.5)).astype(np.int64)
    idx = np.minimum(first[:, None] + np.arange(size), n_in - 1)
    return idx.T, w16.T, prec


def _filter(x, cubic):
    """torch's (non-antialiased) interpolation filters: the triangle, or Keys' cubic with a = -0.75."""
    x = np.abs(x)
    if not cubic:
        return np.where(x < 1, 1 - x, 0.0)
    a = CUBIC_A
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _fixed_point_pass(x, axis, idx, w16, prec):
    """One axis of uint8 resampling: sum of taps times int16 weights, plus half, shifted down by prec bits (a
    floor), clamped to [0, 255]."""
    shape = [1] * x.ndim
    shape[axis] = idx.shape[1]
    acc = np.full((), 1 << (prec - 1), np.int64)
    for k in range(len(idx)):
        acc = acc + np.take(x, idx[k], axis=axis).astype(np.int64) * w16[k].reshape(shape)
    return np.clip(acc >> prec, 0, 255).astype(np.uint8)


def _to_half(w):
    """Tap weights as torch stores them for half input: cubic ones rounded, linear (1 - l, l) as l rounded and
    1 - l computed from it in half."""
    h = w.astype(np.float16)
    if len(w) == 2:
        h[0] = np.float16(1) - h[1]
    return h


def _half_weights(x, mode, out_spatial):
    """Whether torch's forward for half x stores its interpolation weights in half (its generic N-d kernel); its
    channels-last kernels, taken for channels-last input of more than 3 channels and for bilinear outputs of
    height + width <= 128, keep them in float32."""
    if x.dtype != np.float16 or mode not in ("linear", "bilinear", "trilinear", "bicubic"):
        return False
    if mode == "bilinear" and sum(out_spatial) <= 128:
        return False
    return not (mode in ("bilinear", "trilinear") and x.shape[1] > 3 and _channels_last(x))


def _channels_last(a):
    """Whether (N, C, *spatial) array a is laid out channels-last (strides of size-1 dims are free, as torch's)."""
    step = a.itemsize
    for d in [1] + list(range(a.ndim - 1, 1, -1)) + [0]:
        if a.shape[d] != 1 and a.strides[d] != step:
            return False
        step *= a.shape[d]
    return True
