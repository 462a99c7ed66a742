"""torch.compile, torch.compiler and torch._dynamo: ember runs eagerly, with the wrapper and answers PyTorch gives."""
import pytest
import torch

import ember
from parity import check_raises


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def test_compiled_module_has_torch_shape():
    got, want = ember.compile(_model(ember)), torch.compile(_model(torch))
    assert type(got).__name__ == type(want).__name__ == "OptimizedModule"
    assert list(got.state_dict()) == list(want.state_dict())
    assert [n for n, _ in got.named_parameters()] == [n for n, _ in want.named_parameters()]
    assert repr(got) == repr(want)
    assert len(got) == len(want) == 3


def test_compiled_module_runs_the_module_and_shares_its_state():
    model = _model(ember)
    compiled = ember.compile(model, mode="reduce-overhead")
    x = ember.ones(5, 3)
    assert ember.equal(compiled(x), model(x))
    assert compiled._orig_mod is model and compiled.get_submodule("_orig_mod.0") is model[0]
    compiled.eval()
    assert model.training is False and compiled.training is False
    compiled.tag = "run1"
    assert model.tag == "run1"
    model.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in compiled.state_dict().items()})


def test_compile_functions_and_decorator():
    def f(x):
        return x * 2
    assert ember.compile(f) is f
    assert ember.compile(fullgraph=True)(f) is f
    assert type(ember.compile(disable=True)(_model(ember))).__name__ == "Sequential"
    check_raises(lambda lib: lib.compile(f, mode="default", options={"a": 1}), RuntimeError)


@pytest.mark.parametrize("expr", ["compiler.is_compiling()", "compiler.is_dynamo_compiling()",
                                  "compiler.is_exporting()", "_dynamo.config.suppress_errors",
                                  "_dynamo.config.cache_size_limit", "_dynamo.reset()"])
def test_compiler_queries(expr):
    assert eval("lib." + expr, {"lib": ember}) == eval("lib." + expr, {"lib": torch})
