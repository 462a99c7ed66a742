"""torch.backends.mkldnn: ember does not use oneDNN; the flag is kept and has no effect."""
import sys

from ._flags import set_flags

enabled = False
deterministic = False


def is_available():
    return False


def flags(enabled=False, deterministic=False):
    return set_flags(sys.modules[__name__], enabled=enabled, deterministic=deterministic)
