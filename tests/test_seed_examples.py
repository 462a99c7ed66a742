"""The user's seed programs run through `python -m ember.torchcompat` and print what PyTorch printed.

tests/seed_examples/ is a copy of ../shared/seed_examples (the scripts, PyTorch's output in expected/, and the
user's check.py comparator), so CI runs the check from a fresh clone.
"""
import filecmp
import importlib.util
import os

import pytest

HERE = os.path.join(os.path.dirname(__file__), "seed_examples")
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "seed_examples")
EXAMPLES = sorted(f[:-3] for f in os.listdir(HERE) if f[:2].isdigit() and f.endswith(".py"))


def _checker():
    spec = importlib.util.spec_from_file_location("seed_check", os.path.join(HERE, "check.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_all_nine_examples_are_here():
    assert len(EXAMPLES) == 9


@pytest.mark.parametrize("name", EXAMPLES)
def test_seed_example_prints_what_pytorch_printed(name, capsys):
    code = _checker().main([name])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 passed, 0 failed" in out


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared/seed_examples is not beside this clone")
def test_copy_matches_the_shared_examples():
    names = [f for f in os.listdir(SHARED) if f.endswith(".py")]
    names += [os.path.join("expected", f) for f in os.listdir(os.path.join(SHARED, "expected"))]
    _, mismatch, missing = filecmp.cmpfiles(SHARED, HERE, names, shallow=False)
    assert not mismatch and not missing, (mismatch, missing)
