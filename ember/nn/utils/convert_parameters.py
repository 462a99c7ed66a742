"""parameters_to_vector / vector_to_parameters."""
from ..._tensor import Tensor
from ...ops.shape import cat
from ..modules.module import _typename


def parameters_to_vector(parameters):
    """All parameters flattened into one vector (differentiable)."""
    return cat([p.view(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of `vec` into the parameters' data (no history)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
