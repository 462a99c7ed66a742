"""Functional losses. Each takes `reduction` (and the legacy size_average/reduce) through nn._reduction."""
import math
import warnings

import numpy as np

from ..._tensor import Tensor
from ...ops import loss as _loss
from ...ops import elementwise as E
from ...ops.reduction import vector_norm
from ...ops.activation import LogSoftmax
from ...autograd.grad_mode import no_grad, STATE
from ...autograd.function import run, run_on, overload, as_node
from .. import _reduction as R
from ... import _dtype


def _check_target_size(input, target, name):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", stacklevel=3)


def _pointwise_loss(name, elementwise):
    def loss(input, target, size_average=None, reduce=None, reduction="mean", **kwargs):
        reduction = R.resolve(size_average, reduce, reduction)
        _check_target_size(input, target, name)
        return R.apply(elementwise(input, target, **kwargs), reduction)
    loss.__name__ = name
    return loss


l1_loss = _pointwise_loss("l1_loss", lambda x, y: (x - y).abs())


def _fused(input, target):
    """The fused regression kernels take same-shape, same-dtype float tensors (others broadcast/promote first)."""
    a, b = input._data, target._data
    return a.shape == b.shape and a.dtype == b.dtype and a.dtype.kind == "f"


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = R.resolve(size_average, reduce, reduction)
    _check_target_size(input, target, "mse_loss")
    if weight is None:
        if _fused(input, target):
            return _loss.MSELoss.apply(input, target, reduction, None)
        return as_node(R.apply((input - target) ** 2, reduction), "MseLossBackward0")
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = (input - target) ** 2 * weight
    return loss.sum() / weight.sum() if reduction == "mean" else R.apply(loss, reduction)


def _smooth_l1(x, y, beta=1.0):
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (x - y).abs()
    if beta == 0:
        return d
    return E.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = R.resolve(size_average, reduce, reduction)
    _check_target_size(input, target, "smooth_l1_loss")
    if beta > 0 and _fused(input, target):
        return _loss.SmoothL1Loss.apply(input, target, reduction, beta)
    loss = R.apply(_smooth_l1(input, target, beta), reduction)
    return as_node(loss, "SmoothL1LossBackward0") if beta > 0 else loss


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_target_size(input, target, "huber_loss")
    if weight is None and _fused(input, target):
        return _loss.HuberLoss.apply(input, target, R.resolve(None, None, reduction), delta)
    d = (input - target).abs()
    loss = E.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        return R.apply(loss * weight, reduction)
    return as_node(R.apply(loss, reduction), "HuberLossBackward0")


def _class_dim_flat(input, target):
    """(N, C, d1, ...) input and (N, d1, ...) target as (M, C) and (M,), plus the unflatten shape."""
    if input.dim() == 1:
        return input, target, None
    if input.dim() == 2:
        return input, target, None
    c = input.shape[1]
    flat = input.movedim(1, -1).reshape(-1, c)
    return flat, target.reshape(-1), tuple(target.shape)


# torch's nll_loss_nd runs nll_loss2d on K-dimensional (N, C, d1, ...) input.
_NLL2D = overload(_loss.NLLLoss, "NllLoss2DBackward0")
_CE2D = overload(_loss.CrossEntropy, "NllLoss2DBackward0")


def _unflatten(out, shape, input, reduction):
    """A K-d class loss's 'none' output in the target's shape: nll_loss2d's own output for 4-d input, else a view."""
    if reduction != "none" or shape is None:
        return out
    out = out.reshape(shape)
    return as_node(out, "NllLoss2DBackward0") if input.dim() == 4 else out


def _type_name(t):
    """torch's scalar type name (Long, Float, Int, ...)."""
    return t.type().replace("torch.", "").replace("Tensor", "")


def _check_nll(input, target, weight):
    """nll_loss_nd's checks, in torch's order and with its messages."""
    xs, ts = input._data.shape, target._data.shape
    if len(xs) == 2 and len(ts) == 1 and xs[0] == ts[0] and weight is None and target._data.dtype == np.int64:
        return  # (N, C) scores, N int64 targets, no weight: the common case passes every check below
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    if input.dim() != 1 and input.shape[0] != (target.shape[0] if target.dim() else 0):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 0}).")
    c = input.shape[1] if input.dim() > 1 else input.shape[0]
    if input.dim() <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if weight is not None and (weight.dim() != 1 or weight.shape[0] != c):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                               f"weight tensor of shape: {list(weight.shape)}")
    else:
        if input.dim() == 4 and target.dim() != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of "
                               f"dimension: {target.dim()}")
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            if input.dim() == 4:
                raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
            raise RuntimeError(f"Expected target size {list(input.shape[:1]) + list(input.shape[2:])}, got "
                               f"{list(target.shape)}")
        if weight is not None and weight.numel() != c:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_type_name(target)}")
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found {_type_name(weight)}")


def _fast_class_loss(cls, input, target, ignore_index, reduction):
    """nll_loss/cross_entropy (node cls) of (N, C) float scores and N int64 class targets, unweighted: the common
    call, without the checks it passes and without Function.apply; None for the other calls."""
    if type(input) is Tensor and type(target) is Tensor and STATE.fast and reduction in _REDUCTIONS:
        x, t = input._data, target._data
        if x.ndim == 2 and t.ndim == 1 and x.shape[0] == t.shape[0] and t.dtype == np.int64 and x.dtype.kind == "f":
            t = t.copy()  # the node keeps its own copy of the targets, as the checked path's astype gives it
            return run_on(cls, input, (t, None, reduction, ignore_index), input._rg and STATE.enabled)
    return None


_REDUCTIONS = ("mean", "sum", "none")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    if weight is None and size_average is None and reduce is None:
        out = _fast_class_loss(_loss.NLLLoss, input, target, ignore_index, reduction)
        if out is not None:
            return out
    reduction = R.resolve(size_average, reduce, reduction)
    _check_nll(input, target, weight)
    flat, t, shape = _class_dim_flat(input, target)
    w = weight._data.astype(input._data.dtype) if weight is not None else None
    cls = _loss.NLLLoss if shape is None else _NLL2D
    return _unflatten(cls.apply(flat, t._data.astype(np.int64), w, reduction, ignore_index), shape, input, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    if weight is None and size_average is None and reduce is None and label_smoothing == 0.0:
        out = _fast_class_loss(_loss.CrossEntropy, input, target, ignore_index, reduction)
        if out is not None:
            return out
    reduction = R.resolve(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if label_smoothing == 0 and target.shape != input.shape:
        _check_nll(input, target, weight)
        flat, t, shape = _class_dim_flat(input, target)
        w = weight._data if weight is not None else None
        cls = _loss.CrossEntropy if shape is None else _CE2D
        return _unflatten(cls.apply(flat, t._data.astype(np.int64), w, reduction, ignore_index), shape, input,
                          reduction)
    logp = LogSoftmax.apply(input, class_dim)
    wshape = [1] * input.dim()
    wshape[class_dim] = n_classes
    if target.shape == input.shape:
        if target._data.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{_type_name(target)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        tgt = target * (1 - label_smoothing) + label_smoothing / n_classes if label_smoothing > 0 else target
        prod = logp * tgt
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        if reduction == "mean":
            if input.numel() == 0:
                return -(prod.sum() * float("nan"))
            return as_node(-prod.sum() / (input.numel() / n_classes), "DivBackward1")
        if reduction == "sum":
            return -prod.sum()
        return -prod.sum(class_dim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    ignore = Tensor._make(target._data == ignore_index)
    smooth = -(logp * weight.reshape(wshape)).sum(class_dim) if weight is not None else -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = target._data[target._data != ignore_index]
            ret = smooth.sum() / Tensor._make(weight._data[kept].sum().astype(input._data.dtype))
        else:
            ret = smooth.sum() / float((target._data != ignore_index).sum())
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - label_smoothing) + ret * (label_smoothing / n_classes)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size.")
    if weight is not None:
        weight = weight.expand(input.shape) if weight.shape != input.shape else weight
    if reduction == "none":
        return _loss.BCELoss.apply(input, target, weight)
    return _loss.reduced(_loss.BCELoss).apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = R.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if reduction == "none":
        return _loss.BCEWithLogits.apply(input, target, weight, pos_weight)
    return _loss.reduced(_loss.BCEWithLogits).apply(input, target, weight, pos_weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = R.legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        loss = E.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    return R.apply(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        st = target * E.log(target) - target + 0.5 * E.log(2 * math.pi * target)
        loss = loss + st.masked_fill(Tensor._make(target._data <= 1), 0)
    return R.apply(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = Tensor._make(np.full(input.shape, var, input._data.dtype))
    elif (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:   # homoscedastic: one variance per sample
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")   # else one broadcast dim of size 1: also homoscedastic
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var._data[...] = np.maximum(var._data, eps)
    loss = 0.5 * (E.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return R.apply(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return R.apply((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    margin_clamp = (margin - input).clamp(min=0)
    out_margin = E.where(Tensor._make(target._data != 1), margin_clamp, 0.0)
    out_self = E.where(Tensor._make(target._data != -1), input, 0.0)
    return R.apply(out_margin + out_self, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    if _fused(input, target):
        return _loss.SoftMarginLoss.apply(input, target, reduction)
    return as_node(R.apply(E.log1p(E.exp(-input * target.to(input.dtype))), reduction), "SoftMarginLossBackward0")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    from .activation import logsigmoid
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=input.dim() - 1) / input.shape[-1]
    return R.apply(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    if target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.dim() != target.dim() + 1 or input2.dim() != target.dim() + 1:
        raise RuntimeError(f"{target.dim()}D target tensor expects {target.dim() + 1}D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    eps = _loss.BCE_EPS  # torch's EPSILON here is also the float constant 1e-12f
    dim = input1.dim() - 1
    prod_sum = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod_sum / E.sqrt(mag1 * mag2)
    pos = 1 - cos
    neg = (cos - margin).clamp(min=0)
    out = E.where(Tensor._make(target._data == 1), pos, 0.0) + E.where(Tensor._make(target._data == -1), neg, 0.0)
    return R.apply(out, reduction)


def _check_long(target):
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_type_name(target)}")


def _check_margin_input(input):
    """The multi-class margin losses' input: a 0-d scalar, or a vector or matrix with classes (torch's check)."""
    nd = input.dim()
    if nd > 2 or nd and input.shape[-1] == 0:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_margin_input(input)
    x = input if input.dim() > 1 else input.reshape(1, -1)  # a 0-d input is one sample of one class
    c = x.shape[1]
    if target.dim() > 1 or target.numel() != x.shape[0]:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{x.shape[0]}], but got "
                           f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got {list(weight.shape)}")
    _check_long(target)
    if target.numel() and (target._data.min() < 0 or target._data.max() >= c):
        raise RuntimeError("target out of range")
    t = target.reshape(-1)
    picked = x.gather(1, t.unsqueeze(1))
    z = (x - picked + margin).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t].unsqueeze(1)
    z = z.masked_fill(Tensor._make(np.arange(c)[None, :] == t._data[:, None]), 0.0)
    loss = z.sum(1) / c
    if target.dim() == 0:  # torch's unreduced loss has the target's rank
        loss = loss.reshape(())
    return as_node(R.apply(loss, reduction), "MultiMarginLossBackward0")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    _check_margin_input(input)
    x = input if input.dim() > 1 else input.reshape(1, -1)  # a 0-d input is one sample of one class
    if (target.shape != input.shape) if input.dim() > 1 else (target.dim() > 1 or target.numel() != x.shape[1]):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    _check_long(target)
    t = target._data.reshape(x.shape)
    c = x.shape[1]
    if t.size and (t.min() < -1 or t.max() >= c):
        raise RuntimeError("argument #2 'target' is out of range")
    # Targets are the class indices before the first -1 in each row.
    valid = np.cumprod(t >= 0, axis=1).astype(bool)
    is_target = np.zeros(x.shape, bool)
    rows = np.nonzero(valid)
    is_target[rows[0], t[rows]] = True
    tgt_mask = Tensor._make(valid.astype(x._data.dtype))
    xt = x.gather(1, Tensor._make(np.where(valid, t, 0)))
    margins = (1 - (xt.unsqueeze(2) - x.unsqueeze(1))).clamp(min=0)
    keep = tgt_mask.unsqueeze(2) * Tensor._make((~is_target).astype(x._data.dtype)).unsqueeze(1)
    loss = (margins * keep).sum((1, 2)) / c
    if input.dim() <= 1:
        loss = loss.reshape(())
    return as_node(R.apply(loss, reduction), "MultilabelMarginLossBackward0")


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    d = x1 - x2 + eps
    dim = max(x1.dim(), x2.dim()) - 1
    return as_node(vector_norm(d, p, None if dim < 0 else dim, keepdim), "NormBackward1")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Each side divided by its norm (clamped at eps on a copy, outside autograd) before the product, as torch."""
    E._broadcast_check(x1, x2)
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    if x1._data.dtype.kind not in "fc":
        x1, x2 = x1.to(_dtype.get_default_dtype()), x2.to(_dtype.get_default_dtype())
    n1 = vector_norm(x1, 2, dim, True).clone()
    n2 = vector_norm(x2, 2, dim, True).clone()
    with no_grad():
        n1._data[...] = np.maximum(n1._data, eps)
        n2._data[...] = np.maximum(n2._data, eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pdist(input, p=2):
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    d = input[Tensor._make(i)] - input[Tensor._make(j)]
    return as_node(vector_norm(d, p, 1, False), "PdistBackward0")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = R.resolve(size_average, reduce, reduction)
    _check_margin(margin)
    return triplet_margin_loss_unchecked(anchor, positive, negative, margin, p, eps, swap, reduction)


def _check_margin(margin):
    """The margin check of torch's Python triplet losses (torch.triplet_margin_loss itself takes any margin)."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")


def _check_triplet_dims(anchor, positive, negative):
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim == n_dim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")


def triplet_margin_loss_unchecked(anchor, positive, negative, margin, p, eps, swap, reduction):
    """torch.triplet_margin_loss (the ATen op): F.triplet_margin_loss without its margin check."""
    _check_triplet_dims(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = E.minimum(d_neg, d_swap)
    return R.apply((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _check_margin(margin)
    _check_triplet_dims(anchor, positive, negative)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, dist(positive, negative))
    return R.apply((margin + d_pos - d_neg).clamp_min(0), reduction)


def _ctc_lengths(lengths, name):
    a = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral")
    return a.astype(np.int64).reshape(-1)


def _ctc_value_check(values, name, at_most):
    """torch's ctc_loss_allocate_outputs range checks on a lengths array."""
    where = " (while checking arguments for ctc_loss_allocate_outputs)"
    if len(values) and values.min() < 0:
        raise RuntimeError(f"Expected {name} to have value at least 0, but got value {values.min()}{where}")
    if at_most is not None and len(values) and values.max() > at_most:
        raise RuntimeError(f"Expected {name} to have value at most {at_most}, but got value {values.max()}{where}")


def _check_ctc(tg, il, tl, t_max, n, c, blank):
    """ctc_loss's argument checks, in torch's order and with its messages."""
    where = " for argument #2 'targets' (while checking arguments for ctc_loss_allocate_outputs)"
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    if len(il) != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tl) != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    _ctc_value_check(tl, "target_lengths", None)
    if tg.ndim == 1:
        if tg.shape[0] != tl.sum():
            raise RuntimeError(f"Expected tensor to have size {tl.sum()} at dimension 0, but got size {tg.shape[0]}"
                               + where)
    else:
        if tg.shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size {tg.shape[0]}" + where)
        if n and tg.shape[1] < tl.max():
            raise RuntimeError(f"Expected tensor to have size at least {tl.max()} at dimension 1, but got size "
                               f"{tg.shape[1]}" + where)
    _ctc_value_check(il, "input_lengths", t_max)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss (targets padded (N, S) or concatenated 1-D)."""
    R.get_enum(reduction)
    lp = log_probs if log_probs.dim() == 3 else log_probs.unsqueeze(1)
    t_max, n, c = lp.shape
    il, tl = _ctc_lengths(input_lengths, "input_lengths"), _ctc_lengths(target_lengths, "target_lengths")
    tg = targets._data.astype(np.int64)
    _check_ctc(tg if log_probs.dim() == 3 else tg.reshape(1, -1), il, tl, t_max, n, c, blank)
    if log_probs.dim() == 2:
        tg = tg.reshape(1, -1)
    elif tg.ndim == 1:
        # Concatenated targets: lay them out as a padded (N, S) array.
        rows = np.repeat(np.arange(n), tl)
        cols = np.arange(tl.sum()) - np.repeat(np.concatenate([[0], np.cumsum(tl)[:-1]]), tl)
        padded = np.full((n, max(int(tl.max()) if n else 0, 1)), blank, np.int64)
        padded[rows, cols] = tg
        tg = padded
    s_max = int(tl.max()) if n else 0
    ext = np.full((n, 2 * s_max + 1), blank, np.int64)
    ext[:, 1::2] = tg[:, :s_max]
    loss = _loss.CTCLoss.apply(lp, ext, il, tl, zero_infinity)
    if zero_infinity:
        loss = as_node(loss, "WhereBackward0")  # torch zeroes infinite losses with where after the kernel
    if reduction == "mean":
        return (loss / Tensor._make(np.maximum(tl, 1).astype(lp._data.dtype))).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if log_probs.dim() == 3 else loss.squeeze(0)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target) with the logits shaped (N, C, d_1..d_K) by a
    (C, d_1..d_K, in_features) weight. `options` (PyTorch's batch chunking, a memory strategy) is accepted and the
    logits are computed whole: the same values."""
    from .. import functional as F
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), got "
                           f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes,) + out_features:
        raise RuntimeError(f"expected linear_bias shape {(classes,) + out_features}, got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires "
                           f"batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    logits_shape = batch + (classes,) + out_features
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    rows = math.prod(out_features) * classes
    w = linear_weight.reshape(rows, in_features) if out_features else linear_weight
    b = linear_bias.reshape(rows) if out_features and linear_bias is not None else linear_bias
    logits = F.linear(input, w, b).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index, label_smoothing=label_smoothing)
