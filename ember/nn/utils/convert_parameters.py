"""parameters_to_vector / vector_to_parameters."""
from ..._tensor import Tensor
from ...ops.shape import cat


def parameters_to_vector(parameters):
    """All parameters flattened into one vector."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy slices of `vec` into the parameters' data (no history)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
