"""torch.testing for ember: assert_close, make_tensor and the deprecated assert_allclose."""
from ._comparison import assert_allclose, assert_close
from ._creation import make_tensor

__all__ = ["FileCheck", "assert_allclose", "assert_close", "make_tensor"]


class FileCheck:
    """torch.testing.FileCheck matches TorchScript IR text; ember has no TorchScript, so it is refused clearly."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("torch.testing.FileCheck is not implemented in ember: it checks TorchScript "
                                  "graph IR, which ember does not produce; use plain string or regex assertions")
