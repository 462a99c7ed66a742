"""Run a PyTorch script on ember: `python -m ember.torchcompat script.py [args...]`.

An import hook, scoped to this process, serves `import torch` and `torch.X` from `ember` and `ember.X`.
"""
import importlib
import importlib.abc
import importlib.util
import runpy
import sys


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
    """Serve `torch` imports from ember in this process."""
    if not any(isinstance(f, TorchAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, TorchAliasFinder())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m ember.torchcompat script.py [args...]", file=sys.stderr)
        return 2
    install()
    sys.argv = list(argv)
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
