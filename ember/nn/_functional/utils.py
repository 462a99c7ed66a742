"""Padding arithmetic shared by the functional forms (int-or-tuple helpers live in nn.modules.utils)."""


def same_padding(kernel_size, dilation):
    """Per-dim (lo, hi) zero padding for padding='same' (the extra element goes on the high side)."""
    pads = []
    for k, d in zip(kernel_size, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def dim_name(x):
    return "x".join(str(s) for s in x)
