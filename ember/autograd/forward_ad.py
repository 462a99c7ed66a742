"""Forward-mode AD is not implemented in ember."""


def dual_level():
    raise NotImplementedError("ember does not implement forward-mode AD (torch.autograd.forward_ad)")


def make_dual(tensor, tangent, *, level=None):
    raise NotImplementedError("ember does not implement forward-mode AD (torch.autograd.forward_ad)")


def unpack_dual(tensor, *, level=None):
    raise NotImplementedError("ember does not implement forward-mode AD (torch.autograd.forward_ad)")
