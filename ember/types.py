"""Type aliases used in annotations (torch.types)."""
from typing import Sequence, Tuple, Union

from ._tensor import Tensor

_int = int
_float = float
_bool = bool
Number = Union[int, float, bool]
_size = Union[Tuple[int, ...], Sequence[int]]
