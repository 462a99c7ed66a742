"""__torch_function__ overrides are not supported; these helpers say so cheaply."""


def has_torch_function(args):
    return False


def has_torch_function_unary(arg):
    return False


def has_torch_function_variadic(*args):
    return False


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    raise NotImplementedError("ember does not implement __torch_function__ overrides")


def is_tensor_like(inp):
    from ._tensor import Tensor
    return isinstance(inp, Tensor)
