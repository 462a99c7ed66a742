"""Shared by the worker scripts (run under mpiexec) and the tests that check what they saved."""
import os
import pickle

import numpy as np


def save(out_dir, name, rank, obj):
    """Pickle obj to <out_dir>/<name>_rank<rank>.pkl (written to a temp file, then renamed)."""
    path = os.path.join(out_dir, f"{name}_rank{rank}.pkl")
    with open(path + ".tmp", "wb") as f:
        pickle.dump(obj, f)
    os.replace(path + ".tmp", path)


def error(fn):
    """(exception class name, message) raised by fn(), or None."""
    try:
        fn()
    except Exception as e:
        return type(e).__name__, str(e)
    return None


def rank_data(r, dtype=np.float64):
    """Rank r's (2, 3) contribution to the collectives."""
    return (np.arange(6, dtype=np.float64).reshape(2, 3) * (r + 1) + r).astype(dtype)


def mlp(nn):
    """The model the DDP training checks use, built from either library's nn."""
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def branchy(nn):
    """A model whose forward uses `b` only when asked, never uses `c`, and returns `d`'s output beside the main one."""
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(6, 3)
            self.b = nn.Linear(6, 3)
            self.c = nn.Linear(6, 3)
            self.d = nn.Linear(6, 2)

        def forward(self, x, use_b):
            y = self.a(x)
            if use_b:
                y = y + self.b(x)
            return y, self.d(x)
    return Branchy()


def arrays_of(state_dict, prefix=""):
    """{prefix + name: ndarray} of a state_dict (ember's or torch's)."""
    return {prefix + k: v.detach().numpy().copy() for k, v in state_dict.items()}


def load_arrays(module, arrays, prefix, tensor_from_numpy):
    """Load the arrays saved under prefix into module."""
    module.load_state_dict({k[len(prefix):]: tensor_from_numpy(v.copy()) for k, v in arrays.items()
                            if k.startswith(prefix)})
