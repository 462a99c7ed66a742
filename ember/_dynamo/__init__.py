"""torch._dynamo, the parts scripts touch: ember runs eagerly, so there is nothing to reset and nothing is ever being
compiled; config holds the settings scripts assign."""
from . import config, eval_frame  # noqa: F401
from .eval_frame import OptimizedModule  # noqa: F401


def reset():
    pass


def is_compiling():
    return False
