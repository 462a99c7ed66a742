"""Converters of the neural-network kernels: convolution, pooling, padding, normalization, resampling,
attention, and the module-level converters of PixelShuffle/PixelUnshuffle."""
import numpy as np

from ..nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle
from ..ops import attention as ATT
from ..ops import conv as C
from ..ops import interpolate as INTERP
from ..ops import normalization as N
from ..ops import padding as P
from ..ops import pooling as POOL
from . import _registry as reg
from ._emitter import INT64_MAX, Unsupported
from ._tracer import TRef
from .symbolic_helper import onnx_type, out_dtype, reshape


def _pads(pairs):
    return [int(lo) for lo, _ in pairs] + [int(hi) for _, hi in pairs]


def _opt(e, ref):
    return e.x(ref) if isinstance(ref, TRef) else ""


def _static_spatial(e, op):
    """The op's input and output spatial sizes, which must not follow a dynamic axis."""
    e.same_in_runs(op, lambda c: (c.args[0].shape[2:], c.out[0][0][2:]), "a spatial size")


# ---- convolution ---------------------------------------------------------------------------------------------------
@reg.op(C.ConvNd)
def conv(e, op):
    x, w, b, strides, pads, dils, groups = op.args
    inputs = [e.x(x), e.x(w)] + ([e.x(b)] if isinstance(b, TRef) else [])
    e.set(op, 0, e.g.op("Conv", inputs, kernel_shape=list(w.shape[2:]), strides=list(strides), pads=_pads(pads),
                        dilations=list(dils), group=int(groups)))


@reg.op(C.ConvTransposeNd, dynamic=(7,))
def conv_transpose(e, op):
    x, w, b, strides, pads, dils, groups, _ = op.args

    def output_padding(c):
        xs, out = c.args[0].shape[2:], c.args[7]
        return tuple(o - ((n - 1) * s - lo - hi + d * (k - 1) + 1) for o, n, s, (lo, hi), d, k in
                     zip(out, xs, c.args[3], c.args[4], c.args[5], c.args[1].shape[2:]))

    opad = e.same_in_runs(op, output_padding, "the output padding")
    inputs = [e.x(x), e.x(w)] + ([e.x(b)] if isinstance(b, TRef) else [])
    e.set(op, 0, e.g.op("ConvTranspose", inputs, kernel_shape=list(w.shape[2:]), strides=list(strides),
                        pads=_pads(pads), dilations=list(dils), group=int(groups), output_padding=list(opad)))


# ---- pooling -------------------------------------------------------------------------------------------------------
def _ceil_extra(spatial, ks, strides, pads, dils, outs):
    """Extra trailing padding that makes floor-mode windows produce exactly `outs` windows per dim."""
    return [max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)) for n, k, s, p, d, o in
            zip(spatial, ks, strides, pads, dils, outs)]


def _explicit_pad(e, x, nd, pads, extra, value, dtype):
    """x padded with `value` by pads before and pads + extra after each of its last nd dims."""
    lead = [0, 0]
    lo = lead + [int(p) for p in pads]
    hi = lead + [int(p) + int(q) for p, q in zip(pads, extra)]
    if not any(lo) and not any(hi):
        return x
    return e.g.op("Pad", [x, e.g.ints(lo + hi), e.g.scalar(value, dtype)], mode="constant")


@reg.op(POOL.MaxPool)
def max_pool(e, op):
    x, ks, strides, pads, dils, ceil_mode = op.args
    if e.is_used(op, 1):
        raise Unsupported("max pooling indices")
    nd = len(ks)
    name = e.x(x)
    attrs = dict(kernel_shape=list(ks), strides=list(strides), dilations=list(dils))
    if ceil_mode:
        _static_spatial(e, op)
        extra = _ceil_extra(x.shape[2:], ks, strides, pads, dils, op.out[0][0][2:])
        name = _explicit_pad(e, name, nd, pads, extra, -np.inf, x.dtype)
    else:
        attrs["pads"] = [int(p) for p in pads] * 2
    e.set(op, 0, e.g.op("MaxPool", [name], **attrs))


@reg.op(POOL.AvgPool)
def avg_pool(e, op):
    x, ks, strides, pads, ceil_mode, count_include_pad, divisor = op.args
    nd = len(ks)
    g = e.g
    if not ceil_mode and divisor is None and (count_include_pad or not any(pads)):
        e.set(op, 0, g.op("AveragePool", [e.x(x)], kernel_shape=list(ks), strides=list(strides),
                          pads=[int(p) for p in pads] * 2, count_include_pad=int(bool(count_include_pad))))
        return
    _static_spatial(e, op)
    spatial, outs = x.shape[2:], op.out[0][0][2:]
    extra = _ceil_extra(spatial, ks, strides, pads, (1,) * nd, outs)
    padded = _explicit_pad(e, e.x(x), nd, pads, extra, 0, x.dtype)
    mean = g.op("AveragePool", [padded], kernel_shape=list(ks), strides=list(strides))
    div = POOL._avg_divisor(spatial, ks, strides, pads, outs, count_include_pad, divisor, x.dtype)
    scale = (np.prod(ks) / np.asarray(div, np.float64)).astype(x.dtype)
    e.set(op, 0, g.op("Mul", [mean, g.const(scale)]))


@reg.op(POOL.AdaptiveMaxPool)
def adaptive_max_pool(e, op):
    x, outs = op.args
    if e.is_used(op, 1):
        raise Unsupported("adaptive max pooling indices")
    nd = len(outs)
    spatial = x.shape[len(x.shape) - nd:]
    e.same_in_runs(op, lambda c: c.args[0].shape[len(c.args[0].shape) - nd:], "a spatial size")
    g = e.g
    name = e.x(x)
    if len(x.shape) == nd + 2 and all(o == 1 for o in outs):
        e.set(op, 0, g.op("GlobalMaxPool", [name]))
        return
    if len(x.shape) == nd + 2 and all(n % o == 0 for n, o in zip(spatial, outs)):
        k = [n // o for n, o in zip(spatial, outs)]
        e.set(op, 0, g.op("MaxPool", [name], kernel_shape=k, strides=k))
        return
    for d, (n, o) in enumerate(zip(spatial, outs)):
        axis = len(x.shape) - nd + d
        starts, ends = POOL.adaptive_windows(n, o)
        parts = [g.reduce("ReduceMax", g.op("Slice", [name, g.ints([s]), g.ints([t]), g.ints([axis])]), [axis], True)
                 for s, t in zip(starts, ends)]
        name = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=axis)
    e.set(op, 0, name)


# ---- padding -------------------------------------------------------------------------------------------------------
@reg.op(P.ConstantPad)
def constant_pad(e, op):
    x, pairs, value = op.args
    lead = len(x.shape) - len(pairs)
    g = e.g
    name = e.x(x)
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        axes = [lead + i for i in range(len(pairs))]
        starts = [max(-lo, 0) for lo, _ in pairs]
        ends = [-max(-hi, 0) if hi < 0 else INT64_MAX for _, hi in pairs]
        name = g.op("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes)])
    lo = [0] * lead + [max(lo, 0) for lo, _ in pairs]
    hi = [0] * lead + [max(hi, 0) for _, hi in pairs]
    if any(lo) or any(hi):
        name = g.op("Pad", [name, g.ints(lo + hi), g.scalar(value, x.dtype)], mode="constant")
    e.set(op, 0, name)


# ---- normalization -------------------------------------------------------------------------------------------------
def _affine_or(e, ref, size, fill, dtype):
    return e.x(ref) if isinstance(ref, TRef) else e.g.const(np.full(size, fill, dtype))


@reg.op(N.BatchNormEval)
def batch_norm(e, op):
    x, mean, var, w, b, eps = op.args
    c = x.shape[1]
    dt = x.dtype
    inputs = [e.x(x), _affine_or(e, w, c, 1, dt), _affine_or(e, b, c, 0, dt), e.x(mean), e.x(var)]
    e.set(op, 0, e.g.op("BatchNormalization", inputs, epsilon=float(eps)))


@reg.op(N._NormFn, dynamic=(3,))
def norm(e, op):
    x, w, b, group, dims, eps, affine = op.args
    if e.is_used(op, 1) or e.is_used(op, 2):
        raise Unsupported("the statistics outputs of a normalization")
    if op.fn is N.LayerNormFn and tuple(dims) == (1,) and len(group) == 2:
        e.set(op, 0, _layer_norm(e, op))
    elif tuple(dims) == (2,) and len(group) == 3 and affine[0] == 1 and affine[2] == 1:
        e.set(op, 0, _instance_norm(e, op))
    else:
        e.set(op, 0, _generic_norm(e, op))


def _layer_norm(e, op):
    x, w, b, group, _, eps, _ = op.args
    inner = group[1]
    k = next(k for k in range(1, len(x.shape) + 1) if int(np.prod(x.shape[len(x.shape) - k:])) == inner)
    tail = list(x.shape[len(x.shape) - k:])
    g = e.g

    def affine(ref, fill):
        if not isinstance(ref, TRef):
            return g.const(np.full(tail, fill, x.dtype))
        return g.op("Reshape", [e.x(ref), g.ints(tail)]) if list(ref.shape) != tail else e.x(ref)

    return g.op("LayerNormalization", [e.x(x), affine(w, 1), affine(b, 0)], axis=-k, epsilon=float(eps))


def _instance_norm(e, op):
    x, w, b, _, _, eps, affine = op.args
    c = affine[1]
    g = e.g
    name = e.x(x)
    flat = g.op("Reshape", [name, g.ints([0, c, -1])]) if len(x.shape) != 3 else name

    def param(ref, fill):
        if not isinstance(ref, TRef):
            return g.const(np.full(c, fill, x.dtype))
        return g.op("Reshape", [e.x(ref), g.ints([c])])

    out = g.op("InstanceNormalization", [flat, param(w, 1), param(b, 0)], epsilon=float(eps))
    return g.op("Reshape", [out, g.op("Shape", [name])]) if len(x.shape) != 3 else out


def _generic_norm(e, op):
    x, w, b, _, dims, eps, affine = op.args
    g = e.g
    name = e.x(x)
    xv = reshape(e, name, e.ints(op, lambda c: c.args[3]))
    dims = [int(d) for d in dims]
    d = g.op("Sub", [xv, g.reduce("ReduceMean", xv, dims, True)])
    var = g.reduce("ReduceMean", g.op("Mul", [d, d]), dims, True)
    y = g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, g.scalar(eps, x.dtype)])])])
    if isinstance(w, TRef):
        y = g.op("Mul", [y, g.op("Reshape", [e.x(w), g.ints(list(affine))])])
    if isinstance(b, TRef):
        y = g.op("Add", [y, g.op("Reshape", [e.x(b), g.ints(list(affine))])])
    return g.op("Reshape", [y, g.op("Shape", [name])])


# ---- resampling ----------------------------------------------------------------------------------------------------
def _same_taps(a, b):
    if len(a) != len(b):
        return False
    for p, q in zip(a, b):
        if p.axis != q.axis or p.n_in != q.n_in or not np.array_equal(p.idx, q.idx):
            return False
        if (p.w is None) != (q.w is None) or (p.w is not None and not np.array_equal(p.w, q.w)):
            return False
    return True


def _resize_attrs(mode, in_spatial, out_spatial, align_corners):
    if mode == "nearest":
        if not all(o % n == 0 for n, o in zip(in_spatial, out_spatial)):
            return None
        return dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    if mode == "nearest-exact":
        return dict(mode="nearest", coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    ctm = "align_corners" if align_corners else "pytorch_half_pixel"
    if mode == "bicubic":
        return dict(mode="cubic", cubic_coeff_a=INTERP.CUBIC_A, exclude_outside=0,
                    coordinate_transformation_mode="align_corners" if align_corners else "half_pixel")
    return dict(mode="linear", coordinate_transformation_mode=ctm)


def _mode_of(cls):
    name = cls.__name__[len("Upsample"):-2]
    return {"Nearest": "nearest", "NearestExact": "nearest-exact", "Linear": "linear", "Bilinear": "bilinear",
            "Trilinear": "trilinear", "Bicubic": "bicubic"}.get(name)


@reg.op(INTERP.Resample, dynamic=(1, 2))
def resample(e, op):
    x, plans, _ = op.args
    _static_spatial(e, op)
    e.same_in_runs(op, lambda c: [(t.axis, t.idx.tobytes(), None if t.w is None else t.w.tobytes())
                                  for t in c.args[1]], "the resampling taps")
    mode = _mode_of(op.fn)
    in_sp, out_sp = tuple(x.shape[2:]), tuple(op.out[0][0][2:])
    if mode is not None:
        for ac in ((None,) if mode.startswith("nearest") else (False, True)):
            cand = INTERP.make_plans(in_sp, out_sp, mode, ac, [None] * len(in_sp), x.dtype)
            attrs = _resize_attrs(mode, in_sp, out_sp, ac)
            if attrs is not None and _same_taps(cand, plans):
                e.set(op, 0, _resize(e, e.x(x), out_sp, attrs))
                return
    e.set(op, 0, _taps(e, e.x(x), plans, x))


def _resize(e, x, out_sp, attrs):
    g = e.g
    lead = g.op("Shape", [x], start=0, end=2)
    sizes = g.op("Concat", [lead, g.ints(list(out_sp))], axis=0)
    return g.op("Resize", [x, "", "", sizes], **attrs)


def _taps(e, name, plans, x):
    """The exact separable resampling: per dim, a weighted sum of Gathers along that dim."""
    g = e.g
    dt = INTERP.compute_dtype(x.dtype)
    out = name if np.dtype(x.dtype) == dt else g.op("Cast", [name], to=onnx_type(dt))
    rank = len(x.shape)
    for t in sorted(plans, key=INTERP.Taps.ratio):
        axis = t.axis % rank
        shape = [1] * rank
        shape[axis] = t.n_out
        acc = None
        for k in range(len(t.idx)):
            v = g.op("Gather", [out, g.const(t.idx[k].astype(np.int64))], axis=axis)
            if t.w is not None:
                v = g.op("Mul", [v, g.const(t.w[k].astype(dt).reshape(shape))])
            acc = v if acc is None else g.op("Add", [acc, v])
        out = acc
    return out if np.dtype(x.dtype) == dt else g.op("Cast", [out], to=onnx_type(x.dtype))


# ---- attention -----------------------------------------------------------------------------------------------------
@reg.op(ATT.Attention)
def attention(e, op):
    q, k, v, mask, scale, dropout_p, safe = op.args
    if dropout_p > 0:
        raise Unsupported("attention dropout (training mode)")
    g = e.g
    dt = out_dtype(op)
    if k is None:
        qkv = e.x(q)
        qn, kn, vn = (g.op("Squeeze", [g.op("Slice", [qkv, g.ints([i]), g.ints([i + 1]), g.ints([0])]),
                                       g.ints([0])]) for i in range(3))
        rank = len(q.shape) - 1
    else:
        qn, kn, vn = e.x(q), e.x(k), e.x(v)
        rank = len(k.shape)
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    s = g.op("Mul", [g.op("MatMul", [qn, g.op("Transpose", [kn], perm=perm)]), g.scalar(scale, dt)])
    if isinstance(mask, TRef):
        s = g.op("Add", [s, e.x(mask)])
    p = g.op("Softmax", [s], axis=-1)
    if safe and isinstance(mask, TRef):
        p = g.op("Where", [g.op("IsNaN", [p]), g.scalar(0, dt), p])
    e.set(op, 0, g.op("MatMul", [p, vn]))
    e.set(op, 1, p)


# ---- pixel shuffle (module level) ------------------------------------------------------------------------------------
def _module_io(op):
    args = op.args if isinstance(op.args, tuple) else (op.args,)
    if len(args) != 1 or not isinstance(args[0], TRef) or not isinstance(op.out, TRef) or op.out.kind != "value":
        return None
    return args[0]


@reg.module(PixelShuffle)
def pixel_shuffle(e, op):
    x = _module_io(op)
    if x is None or len(x.shape) != 4:
        return NotImplemented
    e.set_ref(op.out, e.g.op("DepthToSpace", [e.x(x)], blocksize=int(op.module.upscale_factor), mode="CRD"))
    return None


@reg.module(PixelUnshuffle)
def pixel_unshuffle(e, op):
    x = _module_io(op)
    if x is None or len(x.shape) != 4:
        return NotImplemented
    r = int(op.module.downscale_factor)
    c = x.shape[1]
    g = e.g
    s2d = g.op("SpaceToDepth", [e.x(x)], blocksize=r)
    perm = (np.arange(r * r)[None, :] * c + np.arange(c)[:, None]).reshape(-1)
    e.set_ref(op.out, g.op("Gather", [s2d, g.const(perm.astype(np.int64))], axis=1))
    return None

