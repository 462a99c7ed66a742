"""ember._allocator: with glibc, a training step's full-size temporaries are reused instead of faulted in again."""
import subprocess
import sys

import pytest

STEP_FAULTS = """
import resource, ember
m = ember.nn.GroupNorm(8, 64)
x, g = ember.randn(8, 64, 32, 32, requires_grad=True), ember.randn(8, 64, 32, 32)
def step():
    m(x).backward(g)
    x.grad = m.weight.grad = m.bias.grad = None
step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(ember._allocator.TUNED, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def _run(env_value):
    env = {"EMBER_MALLOC_TUNING": env_value, "OPENBLAS_NUM_THREADS": "1", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", STEP_FAULTS], env=env, capture_output=True, text=True, check=True)
    tuned, faults = out.stdout.split()
    return tuned == "True", float(faults)


glibc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc tuning is for glibc only")


@glibc
def test_steps_reuse_freed_memory():
    """Each GroupNorm step frees ~8 MB of arrays; untuned glibc hands them back and faults ~2,000 pages per step."""
    tuned, faults = _run("1")
    assert tuned
    assert faults < 100, f"{faults} page faults per step"


@glibc
def test_tuning_can_be_turned_off():
    tuned, _ = _run("0")
    assert not tuned
