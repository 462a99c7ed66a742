"""torch.nn.functional: argument checking, then the fused kernels in ember.ops."""
import math

from ..ops import linear as _linear_ops
from ..autograd.function import as_node
from .._tensor import Tensor


def _check_tensor(x, name, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


# PyTorch's C++ names of scalar types, as its dtype-mismatch messages print them.
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _scalar_name(t):
    """The capitalised scalar type name of torch's messages (Float, Double, Long, ...)."""
    return t.type().replace("torch.", "").replace("Tensor", "") or str(t.dtype).replace("torch.", "")


def _rows(shape):
    return math.prod(shape[:-1])


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, with PyTorch's checks (fused addmm path or matmul + add_ path)."""
    if _plain_2d(input, weight, bias):
        return _linear_ops.linear(input, weight, bias)
    if _plain_nd(input, weight, bias):  # the fused path below, without its checks (which hold)
        x = input._data
        out = _linear_ops.linear(input.reshape(-1, x.shape[-1]), weight, bias)
        return out.reshape(x.shape[:-1] + (weight._data.shape[0],))
    _check_tensor(input, "linear")
    _check_tensor(weight, "linear", "weight", 2)
    in_dim, w_dim = input.dim(), weight.dim()
    if in_dim == 0 or w_dim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {in_dim}D and {w_dim}D")
    if w_dim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w_dim}D")
    fused = bias is not None and (in_dim == 2 or input.is_contiguous() and _bias_fusable(bias))
    if fused:
        _check_addmm(input, weight, bias)
    else:
        _check_matmul(input, weight)
    if w_dim == 1:
        out = input.matmul(weight)
    else:
        x2d = input.reshape(-1, input.shape[-1]) if in_dim != 2 else input
        out = _linear_ops.linear(x2d, weight, bias if fused else None)
        if in_dim != 2:
            out = out.reshape(tuple(input.shape[:-1]) + (weight.shape[0],))
            if not fused:  # PyTorch's matmul path ends in a squeeze (1-D input) or an _unsafe_view
                as_node(out, "SqueezeBackward4" if in_dim == 1 else "UnsafeViewBackward0")
    if bias is not None and not fused:
        out = as_node(out.add_(bias), "AddBackward0")  # in place, as PyTorch: out keeps its shape and dtype
    return out


def _plain_2d(input, weight, bias):
    """Whether linear's arguments are the common valid case that needs no other check: a 2-D input and weight of
    one dtype with matching inner sizes, and no bias or a 1-D bias of the output size in that dtype."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        return False
    x, w = input._data, weight._data
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1] or x.dtype is not w.dtype:
        return False
    if bias is None:
        return True
    if not isinstance(bias, Tensor):
        return False
    b = bias._data
    return b.ndim == 1 and b.shape[0] == w.shape[0] and b.dtype is x.dtype


def _plain_nd(input, weight, bias):
    """Whether linear's arguments are a contiguous input of more than 2 dimensions with a valid 2-D weight and a
    contiguous 1-D bias, all of one dtype: the fused addmm case, whose checks then all hold."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor) and isinstance(bias, Tensor)):
        return False
    x, w, b = input._data, weight._data, bias._data
    return (x.ndim > 2 and w.ndim == 2 and b.ndim == 1 and x.shape[-1] == w.shape[1] and b.shape[0] == w.shape[0]
            and x.dtype is w.dtype and b.dtype is w.dtype and x.flags.c_contiguous and b.flags.c_contiguous)


def _bias_fusable(bias):
    """torch's test for routing a >2-D input through one addmm: a (squeezable to) 1-D contiguous bias."""
    return (bias.dim() == 1 or bias.squeeze().dim() == 1) and bias.is_contiguous()


def _check_addmm(input, weight, bias):
    """The checks of addmm(bias, input.flatten(0, -2), weight.t()), with its messages."""
    if weight.dim() != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {weight.dim()}-D tensor")
    rows, out_f = _rows(input.shape), weight.shape[0]
    if input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
                           f"{weight.shape[1]}x{out_f})")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_scalar_name(input)} and "
                           f"{_scalar_name(weight)}")
    if bias.dtype != weight.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_scalar_name(bias)} and "
                           f"{_scalar_name(weight)}")
    target, sizes = [rows, out_f], list(bias.shape)
    if len(sizes) > 2:
        raise RuntimeError(f"expand({bias.type()}{{{sizes}}}, size={target}): the number of sizes provided (2) must "
                           f"be greater or equal to the number of dimensions in the tensor ({len(sizes)})")
    for k in range(1, len(sizes) + 1):
        if sizes[-k] not in (1, target[-k]):
            raise RuntimeError(f"The expanded size of the tensor ({target[-k]}) must match the existing size "
                               f"({sizes[-k]}) at non-singleton dimension {2 - k}.  Target sizes: {target}.  "
                               f"Tensor sizes: {sizes}")


def _check_matmul(input, weight):
    """The checks of matmul(input, weight.t()), with its messages."""
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_CPP_NAMES[input._data.dtype.name]} "
                           f"!= {_CPP_NAMES[weight._data.dtype.name]}")
    n_in = input.shape[-1]
    if weight.dim() == 2 and n_in != weight.shape[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_rows(input.shape)}x{n_in} and "
                           f"{weight.shape[1]}x{weight.shape[0]})")
    if weight.dim() == 1 and n_in != weight.shape[0]:
        if input.dim() == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{n_in}] and src [{weight.shape[0]}] to "
                               f"have the same number of elements, but got {n_in} and {weight.shape[0]} elements "
                               "respectively")
        rows = _rows(input.shape)
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{n_in}), vec ({weight.shape[0]})")


def bilinear(input1, input2, weight, bias=None):
    """y = input1^T weight input2 + bias over the last dims; leading (batch) dims must agree."""
    _check_tensor(input1, "bilinear", "input1")
    _check_tensor(input2, "bilinear", "input2", 2)
    _check_tensor(weight, "bilinear", "weight", 3)
    _check_bilinear(input1, input2, weight, bias)
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    out = _linear_ops.bilinear(x1, x2, weight).reshape(lead + (weight.shape[0],))
    return out + bias if bias is not None else out


def _check_bilinear(input1, input2, weight, bias):
    """aten::bilinear's checks, in its order and with its messages."""
    names = [("input1", input1), ("input2", input2), ("weight", weight)] + ([("bias", bias)] if bias is not None
                                                                           else [])
    if len({t.dtype for _, t in names}) > 1:
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{n}: {_CPP_NAMES[t._data.dtype.name].replace('c10::Half', 'c10::Half')}" for n, t in names))
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got {input1.shape[i]} and "
                               f"{input2.shape[i]}")
    if input1.dim() == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if input1.shape[-1] != weight.size(1):
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but expected "
                           f"{weight.size(1)}")
    if input2.shape[-1] != weight.size(2):
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but expected "
                           f"{weight.size(2)}")
    if bias is not None:
        if bias.dim() == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        if bias.shape[0] != weight.shape[0]:
            raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but expected "
                               f"{weight.shape[0]}")
    if weight.dim() != 3:
        raise RuntimeError("number of dimensions must match")


from ._functional.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: E402
                               conv_transpose3d, unfold, fold)
from ..ops.padding import pad  # noqa: E402
from ._functional.pooling import (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices,  # noqa: E402
                                  max_pool2d_with_indices, max_pool3d_with_indices, avg_pool1d, avg_pool2d,
                                  avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, adaptive_avg_pool1d,
                                  adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,
                                  adaptive_max_pool2d, adaptive_max_pool3d, adaptive_max_pool1d_with_indices,
                                  adaptive_max_pool2d_with_indices, adaptive_max_pool3d_with_indices,
                                  fractional_max_pool2d, fractional_max_pool3d, max_unpool1d, max_unpool2d,
                                  max_unpool3d)
from ._functional.activation import (relu, relu_, relu6, elu, elu_, selu, selu_, celu, celu_,  # noqa: E402
                                     leaky_relu, leaky_relu_, hardtanh, hardtanh_, hardsigmoid, hardswish,
                                     hardshrink, softshrink, threshold, threshold_, softsign, tanhshrink, silu, mish,
                                     gelu, softplus, logsigmoid, sigmoid, tanh, prelu, rrelu, rrelu_, glu, softmax,
                                     softmin, log_softmax, gumbel_softmax)
from ._functional.loss import (l1_loss, mse_loss, smooth_l1_loss, huber_loss, nll_loss, cross_entropy,  # noqa: E402
                               binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, poisson_nll_loss,
                               gaussian_nll_loss, margin_ranking_loss, hinge_embedding_loss, soft_margin_loss,
                               multilabel_soft_margin_loss, cosine_embedding_loss, multi_margin_loss,
                               multilabel_margin_loss, pairwise_distance, cosine_similarity, pdist,
                               triplet_margin_loss, triplet_margin_with_distance_loss, ctc_loss,
                               linear_cross_entropy)
from ._functional.normalization import (batch_norm, instance_norm, layer_norm, group_norm, rms_norm,  # noqa: E402
                                        local_response_norm, normalize)
from ._functional.vision import (interpolate, upsample, upsample_nearest, upsample_bilinear,  # noqa: E402
                                 grid_sample, affine_grid, pixel_shuffle, pixel_unshuffle, channel_shuffle,
                                 native_channel_shuffle)
from ._functional.dropout import (dropout, dropout1d, dropout2d, dropout3d, alpha_dropout,  # noqa: E402
                                  feature_alpha_dropout)
from ._functional.sparse import embedding, embedding_bag, one_hot  # noqa: E402
from ._functional.attention import scaled_dot_product_attention, multi_head_attention_forward  # noqa: E402
