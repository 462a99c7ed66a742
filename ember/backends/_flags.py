"""The flags() context manager shared by the backend modules."""
import contextlib


@contextlib.contextmanager
def set_flags(module, **values):
    """Set module-level flags for the duration of the block, then restore them."""
    old = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(module, name, value)
