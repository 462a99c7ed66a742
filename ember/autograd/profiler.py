"""autograd.profiler: record_function marks a code range (a no-op in ember); profiling itself is not implemented."""
import contextlib


class record_function(contextlib.ContextDecorator):
    """Label a block or function for a profiler; ember has no profiler, so this only keeps the name."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class profile:
    """torch.autograd.profiler.profile is not available: ember has no operator profiler."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("ember does not implement the autograd profiler (torch.autograd.profiler.profile); "
                                  "time code with time.perf_counter or cProfile instead")


emit_nvtx = emit_itt = profile
