"""torch.backends.opt_einsum: ember's einsum contracts with NumPy's own path search, not the opt_einsum package."""
enabled = False
strategy = None


def is_available():
    return False


def get_opt_einsum():
    return None
