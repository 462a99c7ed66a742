"""torch.nn.functional: argument checking, then the fused kernels in ember.ops."""
from ..ops import linear as _linear_ops
from .._tensor import Tensor


def _check_tensor(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias."""
    _check_tensor(input, "linear")
    if input.dim() == 0 or weight.dim() not in (1, 2):
        raise RuntimeError(f"linear(): input must be at least 1-D and weight 1-D or 2-D, got {input.dim()}-D and "
                           f"{weight.dim()}-D")
    in_f = weight.shape[-1]
    if input.shape[-1] != in_f:
        rows = 1
        for s in input.shape[:-1]:
            rows *= s
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
                           f"{in_f}x{weight.shape[0] if weight.dim() == 2 else 1})")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_name(input)} and {_name(weight)}")
    if weight.dim() == 1:
        out = input.matmul(weight)
        return out + bias if bias is not None else out
    return _linear_ops.linear(input, weight, bias)


def _name(t):
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(t._data.dtype.name, t._data.dtype.name)


def bilinear(input1, input2, weight, bias=None):
    """y = input1^T weight input2 + bias."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
                           f"{list(input2.shape[:-1])}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    return _linear_ops.bilinear(input1, input2, weight, bias)


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
                                     softmin, log_softmax)
from ._functional.loss import (l1_loss, mse_loss, smooth_l1_loss, huber_loss, nll_loss, cross_entropy,  # noqa: E402
                               binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, poisson_nll_loss,
                               gaussian_nll_loss, margin_ranking_loss, hinge_embedding_loss, soft_margin_loss,
                               multilabel_soft_margin_loss, cosine_embedding_loss, multi_margin_loss,
                               multilabel_margin_loss, pairwise_distance, cosine_similarity, pdist,
                               triplet_margin_loss, triplet_margin_with_distance_loss, ctc_loss)
