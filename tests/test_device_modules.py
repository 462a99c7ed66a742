"""torch.cuda, torch.cpu, torch.accelerator, torch.backends and torch.version against PyTorch's CPU build: the same
answers to queries, the same exception classes where a device is needed, and flags that round-trip."""
import warnings

import pytest
import torch

import ember
from parity import check_raises

QUERIES = [
    "cuda.is_available()", "cuda.device_count()", "cuda.is_initialized()", "cuda.memory_allocated()",
    "cuda.max_memory_allocated()", "cuda.memory_reserved()", "cuda.max_memory_reserved()", "cuda.empty_cache()",
    "cuda.is_bf16_supported()", "cpu.is_available()", "cpu.device_count()", "cpu.current_device()",
    "cpu.synchronize()", "accelerator.is_available()", "accelerator.current_accelerator()",
    "accelerator.device_count()", "backends.cudnn.is_available()", "backends.cudnn.version()",
    "backends.mps.is_available()", "backends.mps.is_built()", "backends.cuda.is_built()",
    "backends.cudnn.enabled", "backends.cudnn.benchmark", "backends.cudnn.deterministic",
    "backends.cuda.matmul.allow_tf32", "backends.cuda.flash_sdp_enabled()", "backends.cuda.math_sdp_enabled()",
    "version.cuda", "version.hip", "version.debug",
]


@pytest.mark.parametrize("expr", QUERIES)
def test_queries_answer_as_torch_cpu_build(expr):
    assert eval("lib." + expr, {"lib": ember}) == eval("lib." + expr, {"lib": torch})


@pytest.mark.parametrize("expr", ["cuda.current_device()", "cuda.synchronize()", "cuda.get_device_name()",
                                  "cuda.get_device_capability()", "cuda.get_rng_state()",
                                  "accelerator.current_device_index()", "accelerator.synchronize()",
                                  "accelerator.set_device_index(0)", "cuda.device(0).__enter__()"])
def test_device_calls_raise_as_torch(expr):
    check_raises(lambda lib: eval("lib." + expr, {"lib": lib}))


def test_accelerator_device_selection_idiom():
    for lib in (ember, torch):
        device = lib.accelerator.current_accelerator().type if lib.accelerator.is_available() else "cpu"
        assert device == "cpu"
        with lib.accelerator.device_index(None):
            pass
    check_raises(lambda lib: lib.accelerator.device_index(0).__enter__())


def test_backend_submodules_import_and_flags_restore():
    import ember.backends.cudnn as cudnn
    import ember.backends.mkldnn as mkldnn
    assert cudnn is ember.backends.cudnn and mkldnn.is_available() is False
    cudnn.benchmark = True
    with cudnn.flags(enabled=False, benchmark=False, deterministic=True):
        assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (False, False, True)
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, True, False)
    cudnn.benchmark = False


@pytest.mark.parametrize("precision", ["high", "medium", "highest"])
def test_matmul_precision_is_the_tf32_flag(precision):
    for lib in (ember, torch):
        lib.set_float32_matmul_precision(precision)
    try:
        assert ember.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    finally:
        for lib in (ember, torch):
            lib.set_float32_matmul_precision("highest")
    ember.backends.cuda.matmul.allow_tf32 = True
    assert ember.get_float32_matmul_precision() == "high"
    ember.backends.cuda.matmul.allow_tf32 = False
    assert ember.get_float32_matmul_precision() == "highest"


@pytest.mark.parametrize("make", [lambda lib: lib.cuda.amp.autocast(enabled=False),
                                  lambda lib: lib.cuda.amp.GradScaler(enabled=False),
                                  lambda lib: lib.cpu.amp.autocast(enabled=False),
                                  lambda lib: lib.cpu.amp.GradScaler(enabled=False)],
                         ids=["cuda_autocast", "cuda_scaler", "cpu_autocast", "cpu_scaler"])
def test_deprecated_amp_spellings_warn_as_torch(make):
    messages = []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            obj = make(lib)
        messages.append([(w.category, str(w.message)) for w in caught])
        if hasattr(obj, "is_enabled"):
            assert obj.is_enabled() is False
        else:
            with obj:
                pass
    assert messages[0] == messages[1]


def test_cpu_capability_is_one_of_torch_names():
    assert ember.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2", "AVX512")


def test_version_compares_as_a_version():
    v = ember.torch_version.TorchVersion("2.13.0+ember0.1.0")
    assert v >= "2.2" and v > "2.9.1" and v < "2.14" and v >= (2, 0) and v < (3,) and v != "2.12"
    assert ember.__version__ == ember.version.__version__ and ember.__version__ >= (0, 1)
