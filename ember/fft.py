"""torch.fft is not implemented in ember."""


def __getattr__(name):
    raise NotImplementedError(f"ember does not implement torch.fft.{name}")
