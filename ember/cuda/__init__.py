"""torch.cuda on a CPU-only library: nothing is available."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    pass


def manual_seed_all(seed):
    pass


def synchronize(device=None):
    pass


def empty_cache():
    pass


def current_device():
    raise RuntimeError("ember runs on the CPU only (Torch not compiled with CUDA enabled)")


def is_bf16_supported(including_emulation=True):
    return False
