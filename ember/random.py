"""Random number generation: ember's own Generator (NumPy PCG64), manual_seed, fork_rng.

Streams are reproducible under manual_seed but are not PyTorch's streams.
"""
import contextlib
import time

import numpy as np


class Generator:
    """torch.Generator on NumPy's PCG64."""

    def __init__(self, device="cpu"):
        from ._dtype import device as _device
        self.device = _device(device)
        if self.device.type != "cpu":
            raise RuntimeError(f"ember has no {self.device.type} generator: it runs on the CPU only")
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        """Reseed; seeds are taken modulo 2**64 like PyTorch's (from -2**63 up to 2**64 - 1)."""
        seed = int(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        seed %= 1 << 64
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        s = int(time.time_ns()) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ._tensor import Tensor
        st = self._rng.bit_generator.state["state"]
        words = [st["state"], st["inc"], self._seed]
        raw = b"".join(int(w).to_bytes(16, "little") for w in words)
        return Tensor._make(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from get_state() (a uint8 tensor)."""
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = new_state._data.tobytes()
        if len(raw) != 48:
            raise RuntimeError(f"Expected an ember generator state of size 48 but found the input RNG state size "
                               f"to be {len(raw)}")
        state, inc, seed = (int.from_bytes(raw[i:i + 16], "little") for i in (0, 16, 32))
        bg = np.random.PCG64()
        bg.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc}, "has_uint32": 0, "uinteger": 0}
        self._rng = np.random.Generator(bg)
        self._seed = seed
        return self

    def __reduce__(self):
        return (_rebuild_generator, (bytes(self.get_state()._data),))


def _rebuild_generator(raw):
    from ._tensor import Tensor
    g = Generator()
    g.set_state(Tensor._make(np.frombuffer(raw, np.uint8).copy()))
    return g


default_generator = Generator()


def rng(generator=None):
    """The NumPy Generator to draw from (the global one unless a Generator is given)."""
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a torch.Generator for 'generator', but got {type(generator).__name__}")
    return generator._rng


def manual_seed(seed):
    default_generator.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Restore the global generator's state when the block exits."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
