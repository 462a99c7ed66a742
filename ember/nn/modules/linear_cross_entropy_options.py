"""nn.LinearCrossEntropyOptions: PyTorch's settings for computing linear_cross_entropy in batch chunks. ember keeps
and checks the settings (they are part of a module's configuration) and computes the logits whole, which gives the
same values."""
import dataclasses

__all__ = ["LinearCrossEntropyOptions"]


def _valid_chunking(method):
    """None, "auto", or "aspect_ratio[:k]" with a positive integer k."""
    if method is None or method == "auto":
        return True
    name, sep, factor = method.partition(":")
    factor = factor if sep else "1"
    return name == "aspect_ratio" and factor.isdigit() and int(factor) > 0


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        from ... import _dtype
        if self.acc_policy not in ("auto", "accurate", "balanced", "compact"):
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if not _valid_chunking(self.chunking_method):
            raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or isinstance(size, int) and size > 0):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype not in (None, _dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64):
            raise ValueError(f"acc_dtype must be one of {{None, torch.float16, torch.bfloat16, torch.float32, "
                             f"torch.float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the op pick "
                             "automatically.")
