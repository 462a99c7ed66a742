"""Run a PyTorch script on ember: `python -m ember.torchcompat script.py [args...]`.

An import hook, scoped to this process, serves `import torch` and `torch.X` from `ember` and `ember.X`. The script
runs as `python script.py` would run it (its directory first on sys.path), and Python child processes started
from it (multiprocessing's spawn and forkserver workers, subprocesses) are served by ember too: a `torch` package
that installs the hook is put first on their PYTHONPATH.
"""
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_compat_shim")


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.original_spec

    def __init_subclass__(cls, **kwargs):
        pass


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Finds `torch` and `torch.<sub>` by importing `ember` and `ember.<sub>`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        target_name = "ember" + fullname[len("torch"):]
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as e:
            if e.name == target_name:
                raise ModuleNotFoundError(f"No module named '{fullname}' (ember has no '{target_name}')",
                                          name=fullname) from None
            raise
        loader = _AliasLoader(module)
        loader.original_spec = module.__spec__
        return importlib.util.spec_from_loader(fullname, loader)


def install():
    """Serve `torch` imports from ember in this process. torch.__version__ then names the PyTorch release whose API
    ember follows, with ember's version as its local part (e.g. 2.13.0+ember0.1.0), for scripts that check it."""
    if not any(isinstance(f, TorchAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, TorchAliasFinder())
    import ember
    from ember import version
    from ember.torch_version import TorchVersion
    if ember.__version__ == version.__version__:
        ember.__version__ = TorchVersion(f"{version.torch_version}+ember{version.__version__}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m ember.torchcompat script.py [args...]", file=sys.stderr)
        return 2
    install()
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    _serve_child_processes()
    runpy.run_path(argv[0], run_name="__main__")
    return 0


def _serve_child_processes():
    """Put the shim `torch` package ahead of any installed torch on the PYTHONPATH that child processes inherit and
    on the sys.path that multiprocessing's spawned children copy (this process's hook comes before both)."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != SHIM_DIR]
    os.environ["PYTHONPATH"] = os.pathsep.join([SHIM_DIR] + paths)
    if SHIM_DIR not in sys.path:
        sys.path.insert(1, SHIM_DIR)


if __name__ == "__main__":
    sys.exit(main())
