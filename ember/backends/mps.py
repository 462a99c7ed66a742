"""torch.backends.mps: no Metal device in ember."""


def is_available():
    return False


def is_built():
    return False
