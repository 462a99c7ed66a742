"""nn.Module and nn.Parameter against torch: registration rules, lookup, iteration, modes, conversions, repr, copies."""
import copy
import pickle
import types
import numpy as np
import pytest
import torch

import ember
from .nnparity import arr, same, same_error, pair, run_pair, norm, compare


# ---- a few model builders (the same code runs on either library) -----------------------------------------------
def _net_class(t):
    """A small nested model class: Sequential in Sequential, a Linear, buffers and a bare parameter."""
    class Net(t.nn.Module):
        def __init__(self, dtype=None):
            super().__init__()
            self.body = t.nn.Sequential(t.nn.Linear(4, 5, dtype=dtype), t.nn.Sequential(t.nn.Identity(),
                                                                                        t.nn.Linear(5, 3, dtype=dtype)))
            self.head = t.nn.Linear(3, 2, bias=False, dtype=dtype)
            self.scale = t.nn.Parameter(t.ones(2, dtype=dtype))
            self.register_buffer("offset", t.full((2,), 0.5, dtype=dtype))
            self.register_buffer("count", t.zeros((), dtype=t.int64))

        def forward(self, x):
            return self.head(self.body(x)) * self.scale + self.offset

    holder = f"_{t.__name__}_classes"  # a module-level path to the class, so that pickle finds it
    globals()[holder] = types.SimpleNamespace(Net=Net)
    Net.__qualname__ = holder + ".Net"
    return Net


NET = {lib: _net_class(lib) for lib in (torch, ember)}


def net(t, dtype=None):
    return NET[t](dtype)


def shared_net(t):
    """A module whose submodule and parameter are registered twice."""
    m = t.nn.Module()
    lin = t.nn.Linear(2, 2)
    m.a = lin
    m.b = lin
    m.c = t.nn.Sequential(lin, t.nn.Linear(2, 1))
    m.p = lin.weight
    return m


def plain(t):
    return t.nn.Module()


# ---- Parameter --------------------------------------------------------------------------------------------------
PARAM_CASES = [
    ("is_tensor", lambda t: isinstance(t.nn.Parameter(t.zeros(2)), t.Tensor)),
    ("requires_grad_default", lambda t: t.nn.Parameter(t.zeros(2)).requires_grad),
    ("requires_grad_false", lambda t: t.nn.Parameter(t.zeros(2), requires_grad=False).requires_grad),
    ("is_leaf", lambda t: t.nn.Parameter(t.zeros(2)).is_leaf),
    ("empty", lambda t: (t.nn.Parameter().shape, t.nn.Parameter().dtype)),
    ("repr", lambda t: repr(t.nn.Parameter(t.tensor([1.5, -2.0])))),
    ("repr_no_grad", lambda t: repr(t.nn.Parameter(t.tensor([[1.0, 2.0]], dtype=t.float64), requires_grad=False))),
    ("str", lambda t: str(t.nn.Parameter(t.tensor([3.0])))),
    ("shares_memory", lambda t: _param_shares(t)),
    ("type_after_op", lambda t: type(t.nn.Parameter(t.ones(2)) * 2).__name__),
    ("from_nongrad_dtype", lambda t: t.nn.Parameter(t.ones(2, dtype=t.int64), requires_grad=False).dtype),
    ("deepcopy", lambda t: _param_deepcopy(t)),
    ("pickle", lambda t: _param_pickle(t)),
    ("detach_type", lambda t: type(t.nn.Parameter(t.ones(2)).detach()).__name__),
    ("grad_flows", lambda t: _param_grad(t)),
    ("uninit_repr", lambda t: repr(t.nn.UninitializedParameter())),
    ("uninit_is_param", lambda t: (isinstance(t.nn.UninitializedParameter(), t.nn.Parameter),
                                   t.nn.UninitializedParameter().requires_grad,
                                   t.nn.UninitializedParameter(requires_grad=False).requires_grad)),
    ("uninit_buffer", lambda t: (repr(t.nn.UninitializedBuffer()), t.nn.UninitializedBuffer().requires_grad,
                                 isinstance(t.nn.UninitializedBuffer(), t.nn.Parameter))),
    ("uninit_materialize", lambda t: _materialize(t, t.nn.UninitializedParameter)),
    ("uninit_size_dtype", lambda t: (t.nn.UninitializedParameter(dtype=t.float64).size(),
                                     t.nn.UninitializedParameter(dtype=t.float64).dtype)),
    ("uninit_deepcopy", lambda t: (lambda p: (type(p).__name__, p.dtype, p.requires_grad))(
        copy.deepcopy(t.nn.UninitializedParameter(requires_grad=False, dtype=t.float64)))),
    ("uninit_to_double", lambda t: (lambda p: (type(p).__name__, p.dtype))(
        t.nn.UninitializedParameter().double())),
    ("uninit_materialize_dtype", lambda t: _materialize(t, t.nn.UninitializedParameter, t.float64)),
    ("uninit_buffer_materialize", lambda t: _materialize(t, t.nn.UninitializedBuffer)),
    ("is_lazy", lambda t: (t.nn.parameter.is_lazy(t.nn.UninitializedParameter()),
                           t.nn.parameter.is_lazy(t.nn.Parameter(t.ones(1))))),
]


def _param_shares(t):
    x = t.zeros(3)
    p = t.nn.Parameter(x)
    with t.no_grad():
        p[0] = 5
    return x


def _param_deepcopy(t):
    p = t.nn.Parameter(t.tensor([1.0, 2.0]), requires_grad=False)
    q = copy.deepcopy(p)
    with t.no_grad():
        p[0] = 9
    return type(q).__name__, q, q.requires_grad


def _param_pickle(t):
    q = pickle.loads(pickle.dumps(t.nn.Parameter(t.tensor([1.0, 2.0]))))
    return type(q).__name__, q


def _param_grad(t):
    p = t.nn.Parameter(t.tensor([1.0, 2.0], dtype=t.float64))
    (p * p).sum().backward()
    return p.grad


def _materialize(t, cls, dtype=None):
    p = cls(dtype=dtype)
    p.materialize((2, 3))
    return type(p).__name__, p.shape, p.dtype, p.requires_grad


@pytest.mark.parametrize("name,fn", PARAM_CASES, ids=[c[0] for c in PARAM_CASES])
def test_parameter(name, fn):
    same(fn)


@pytest.mark.parametrize("fn", [lambda t: t.nn.UninitializedParameter().shape,
                                lambda t: t.nn.UninitializedParameter().numel(),
                                lambda t: t.nn.UninitializedParameter().requires_grad_(False),
                                lambda t: t.nn.UninitializedParameter().share_memory_(),
                                lambda t: t.nn.UninitializedParameter() + 1],
                         ids=["shape", "numel", "requires_grad_", "share_memory", "add"])
def test_uninitialized_parameter_use_raises(fn):
    same_error(fn, exact=False)


# ---- registration ----------------------------------------------------------------------------------------------
def _registered(m):
    return list(m._parameters), list(m._buffers), list(m._modules), sorted(k for k in m.__dict__ if not
                                                                            k.startswith("_") and k != "training")


def _assign_buffer_then_param(t):
    m = t.nn.Module()
    m.register_buffer("x", t.ones(1), persistent=False)
    m.x = t.nn.Parameter(t.ones(1))
    return _registered(m), list(m._non_persistent_buffers_set), list(m.state_dict())


def _assign_plain_then_param(t):
    m = t.nn.Module()
    m.x = 3
    m.x = t.nn.Parameter(t.ones(1))
    return _registered(m), m.x


def _assign_module_then_plain(t):
    m = t.nn.Module()
    m.x = t.nn.Linear(1, 1)
    m.x = None
    return _registered(m), m.x, list(m.named_children())


def _assign_param_none(t):
    m = t.nn.Module()
    m.x = t.nn.Parameter(t.ones(1))
    m.x = None
    return _registered(m), m.x, list(m.named_parameters()), list(m.state_dict())


def _buffer_reassign_tensor(t):
    m = t.nn.Module()
    m.register_buffer("x", t.ones(1))
    m.x = t.zeros(2)
    return _registered(m), m.x


def _buffer_none(t):
    m = t.nn.Module()
    m.register_buffer("x", None)
    m.register_buffer("y", t.ones(1))
    m.y = None
    return _registered(m), m.x, list(m.named_buffers()), list(m.state_dict())


def _nn_buffer(t):
    m = t.nn.Module()
    m.a = t.nn.Buffer(t.ones(2))
    m.b = t.nn.Buffer(t.ones(2), persistent=False)
    return _registered(m), list(m.state_dict()), type(m.a).__name__


def _tensor_attr_not_registered(t):
    m = t.nn.Module()
    m.x = t.ones(2)
    return _registered(m), list(m.state_dict())


def _delattr(t):
    m = t.nn.Module()
    m.p = t.nn.Parameter(t.ones(1))
    m.register_buffer("b", t.ones(1), persistent=False)
    m.c = t.nn.Linear(1, 1)
    m.d = 4
    del m.p, m.b, m.c, m.d
    return _registered(m), list(m._non_persistent_buffers_set), hasattr(m, "p"), hasattr(m, "d")


def _add_module_none(t):
    m = t.nn.Module()
    m.add_module("a", None)
    m.register_module("b", t.nn.Identity())
    return _registered(m), m.a, list(m.named_children()), list(m.named_modules())


def _register_parameter(t):
    m = t.nn.Module()
    m.register_parameter("w", t.nn.Parameter(t.ones(2)))
    m.register_parameter("v", None)
    m.register_parameter("w", t.nn.Parameter(t.zeros(2)))
    return _registered(m), m.w, m.v


def _getattr_missing(t):
    class M(t.nn.Module):
        pass
    return M().missing


REGISTRATION_CASES = [
    ("buffer_then_param", _assign_buffer_then_param),
    ("plain_then_param", _assign_plain_then_param),
    ("module_then_none", _assign_module_then_plain),
    ("param_none", _assign_param_none),
    ("buffer_reassign", _buffer_reassign_tensor),
    ("buffer_none", _buffer_none),
    ("nn_buffer", _nn_buffer),
    ("tensor_attr", _tensor_attr_not_registered),
    ("delattr", _delattr),
    ("add_module_none", _add_module_none),
    ("register_parameter", _register_parameter),
    ("training_flag", lambda t: (t.nn.Module().training, "training" in t.nn.Module().__dict__)),
]


@pytest.mark.parametrize("name,fn", REGISTRATION_CASES, ids=[c[0] for c in REGISTRATION_CASES])
def test_registration(name, fn):
    same(fn)


class _Early:
    """Factories of modules that assign attributes before calling Module.__init__."""

    @staticmethod
    def make(t, what):
        class Early(t.nn.Module):
            def __init__(self):
                if what == "param":
                    self.p = t.nn.Parameter(t.ones(1))
                elif what == "module":
                    self.m = t.nn.Linear(1, 1)
                elif what == "buffer":
                    self.register_buffer("b", t.ones(1))
                elif what == "register_parameter":
                    self.register_parameter("p", None)
                elif what == "tensor":
                    self.x = t.ones(1)
                    super().__init__()
        return Early()


def _setattr(t, first, name, second):
    m = t.nn.Module()
    setattr(m, name, first(t))
    setattr(m, name, second(t))


ERROR_CASES = [
    ("tensor_to_param_name", lambda t: _setattr(t, lambda t: t.nn.Parameter(t.ones(1)), "w", lambda t: t.ones(1))),
    ("double_to_param_name", lambda t: _setattr(t, lambda t: t.nn.Parameter(t.ones(1)), "w",
                                                lambda t: t.ones(1, dtype=t.float64))),
    ("module_to_param_name", lambda t: _setattr(t, lambda t: t.nn.Parameter(t.ones(1)), "w",
                                                lambda t: t.nn.Identity())),
    ("plain_then_buffer", lambda t: _setattr(t, lambda t: 3, "b", lambda t: t.nn.Buffer(t.ones(1)))),
    ("int_to_param_name", lambda t: _setattr(t, lambda t: t.nn.Parameter(t.ones(1)), "w", lambda t: 3)),
    ("str_to_module_name", lambda t: _setattr(t, lambda t: t.nn.Identity(), "m", lambda t: "x")),
    ("tensor_to_module_name", lambda t: _setattr(t, lambda t: t.nn.Identity(), "m", lambda t: t.ones(1))),
    ("int_to_buffer_name", lambda t: _setattr(t, lambda t: t.nn.Buffer(t.ones(1)), "b", lambda t: 1)),
    ("buffer_name_dot", lambda t: plain(t).register_buffer("a.b", t.ones(1))),
    ("buffer_name_empty", lambda t: plain(t).register_buffer("", t.ones(1))),
    ("buffer_name_int", lambda t: plain(t).register_buffer(3, t.ones(1))),
    ("buffer_name_exists", lambda t: plain(t).register_buffer("training", t.ones(1))),
    ("buffer_name_method", lambda t: plain(t).register_buffer("forward", t.ones(1))),
    ("buffer_not_tensor", lambda t: plain(t).register_buffer("b", [1.0])),
    ("buffer_ndarray", lambda t: plain(t).register_buffer("b", np.ones(2))),
    ("param_name_dot", lambda t: plain(t).register_parameter("a.b", t.nn.Parameter(t.ones(1)))),
    ("param_name_empty", lambda t: plain(t).register_parameter("", None)),
    ("param_name_int", lambda t: plain(t).register_parameter(1, None)),
    ("param_name_exists", lambda t: plain(t).register_parameter("training", None)),
    ("param_not_param", lambda t: plain(t).register_parameter("p", t.ones(1))),
    ("param_non_leaf", lambda t: plain(t).register_parameter("p", t.nn.Parameter(t.ones(1)) * 2)),
    ("module_not_module", lambda t: plain(t).add_module("m", 3)),
    ("module_name_dot", lambda t: plain(t).add_module("a.b", t.nn.Identity())),
    ("module_name_empty", lambda t: plain(t).add_module("", t.nn.Identity())),
    ("module_name_int", lambda t: plain(t).add_module(1, t.nn.Identity())),
    ("module_name_exists", lambda t: plain(t).add_module("training", t.nn.Identity())),
    ("register_module_bad", lambda t: plain(t).register_module("m", t.ones(1))),
    ("early_param", lambda t: _Early.make(t, "param")),
    ("early_module", lambda t: _Early.make(t, "module")),
    ("early_buffer", lambda t: _Early.make(t, "buffer")),
    ("early_register_parameter", lambda t: _Early.make(t, "register_parameter")),
    ("missing_attr", _getattr_missing),
    ("init_kwargs", lambda t: t.nn.Module(foo=1)),
    ("init_args", lambda t: t.nn.Module(1, 2)),
    ("no_forward", lambda t: t.nn.Module()(t.ones(1))),
    ("train_not_bool", lambda t: t.nn.Linear(1, 1).train("yes")),
    ("to_int_dtype", lambda t: t.nn.Linear(1, 1).to(t.int64)),
    ("get_submodule_missing", lambda t: net(t).get_submodule("body.7")),
    ("get_submodule_not_module", lambda t: net(t).get_submodule("body.0.weight")),
    ("get_submodule_attr_not_module", lambda t: net(t).get_submodule("head.in_features")),
    ("get_parameter_missing", lambda t: net(t).get_parameter("body.0.nope")),
    ("get_parameter_not_param", lambda t: net(t).get_parameter("offset")),
    ("get_parameter_bad_path", lambda t: net(t).get_parameter("nope.weight")),
    ("get_buffer_missing", lambda t: net(t).get_buffer("nope")),
    ("get_buffer_not_buffer", lambda t: net(t).get_buffer("scale")),
    ("set_submodule_empty", lambda t: net(t).set_submodule("", t.nn.Identity())),
    ("set_submodule_strict_missing", lambda t: net(t).set_submodule("body.new", t.nn.Identity(), strict=True)),
    ("set_submodule_missing_parent", lambda t: net(t).set_submodule("nope.x", t.nn.Identity())),
    ("set_submodule_not_module", lambda t: net(t).set_submodule("head", 3)),
]


@pytest.mark.parametrize("name,fn", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors(name, fn):
    same_error(fn)


def test_early_tensor_attribute_is_plain():
    """Assigning a plain tensor before __init__ is allowed in both (it goes to __dict__, then __init__ runs)."""
    same(lambda t: list(_Early.make(t, "tensor").__dict__)[:1])


# ---- lookup by dotted path --------------------------------------------------------------------------------------
def _set_submodule(t):
    m = net(t)
    m.set_submodule("body.1.0", t.nn.Linear(5, 5))
    m.set_submodule("body.extra", t.nn.Identity())
    m.set_submodule("head", t.nn.Identity(), strict=True)
    return repr(m), list(m.state_dict())


LOOKUP_CASES = [
    ("get_submodule", lambda t: [net(t).get_submodule(p) for p in ("", "body", "body.1", "body.1.1", "head")]),
    ("get_submodule_repr", lambda t: repr(net(t).get_submodule("body.1"))),
    ("get_parameter", lambda t: [tuple(net(t).get_parameter(p).shape) for p in ("scale", "body.0.bias",
                                                                                  "body.1.1.weight")]),
    ("get_buffer", lambda t: [net(t).get_buffer(p) for p in ("offset", "count")]),
    ("get_parameter_identity", lambda t: (lambda m: m.get_parameter("head.weight") is m.head.weight)(net(t))),
    ("set_submodule", _set_submodule),
]


@pytest.mark.parametrize("name,fn", LOOKUP_CASES, ids=[c[0] for c in LOOKUP_CASES])
def test_lookup(name, fn):
    same(fn)


# ---- iteration --------------------------------------------------------------------------------------------------
def _names(it):
    return [n for n, _ in it]


ITER_CASES = [
    ("children", lambda t: [type(c).__name__ for c in net(t).children()]),
    ("named_children", lambda t: _names(net(t).named_children())),
    ("modules", lambda t: [type(c).__name__ for c in net(t).modules()]),
    ("named_modules", lambda t: _names(net(t).named_modules())),
    ("named_modules_prefix", lambda t: _names(net(t).named_modules(prefix="root"))),
    ("named_modules_memo", lambda t: (lambda m: _names(m.named_modules(memo={m.head, m.body[1]})))(net(t))),
    ("parameters", lambda t: [tuple(p.shape) for p in net(t).parameters()]),
    ("named_parameters", lambda t: _names(net(t).named_parameters())),
    ("named_parameters_prefix", lambda t: _names(net(t).named_parameters(prefix="m"))),
    ("named_parameters_no_recurse", lambda t: _names(net(t).named_parameters(recurse=False))),
    ("parameters_no_recurse", lambda t: len(list(net(t).parameters(recurse=False)))),
    ("buffers", lambda t: [b.dtype for b in net(t).buffers()]),
    ("named_buffers", lambda t: _names(net(t).named_buffers())),
    ("named_buffers_no_recurse", lambda t: _names(net(t).body.named_buffers(recurse=False))),
    ("named_buffers_prefix", lambda t: _names(net(t).named_buffers(prefix="x", recurse=True))),
    ("shared_children", lambda t: _names(shared_net(t).named_children())),
    ("shared_modules", lambda t: _names(shared_net(t).named_modules())),
    ("shared_modules_dup", lambda t: _names(shared_net(t).named_modules(remove_duplicate=False))),
    ("shared_modules_count", lambda t: len(list(shared_net(t).modules()))),
    ("shared_modules_count_dup", lambda t: len(list(shared_net(t).modules(remove_duplicate=False)))),
    ("shared_params", lambda t: _names(shared_net(t).named_parameters())),
    ("shared_params_dup", lambda t: _names(shared_net(t).named_parameters(remove_duplicate=False))),
    ("shared_params_count", lambda t: len(list(shared_net(t).parameters()))),
    ("none_entries", lambda t: (lambda m: (m.register_parameter("z", None), m.add_module("n", None),
                                           m.register_buffer("q", None), _names(m.named_parameters()),
                                           _names(m.named_modules()), _names(m.named_buffers())))(net(t))),
    ("generators", lambda t: type(net(t).parameters()).__name__),
]


@pytest.mark.parametrize("name,fn", ITER_CASES, ids=[c[0] for c in ITER_CASES])
def test_iteration(name, fn):
    same(fn)


# ---- modes, grads, apply -----------------------------------------------------------------------------------------
def _train_eval(t):
    m = net(t)
    out = [m.training, m.body[1][1].training]
    r = m.eval()
    out += [r is m, m.training, m.body.training, m.body[1][1].training, m.head.training]
    m.body.train()
    out += [m.training, m.body.training, m.body[1][0].training]
    m.train(False)
    out += [m.body[1][0].training]
    m.train()
    out += [all(x.training for x in m.modules())]
    return out


def _requires_grad_(t):
    m = net(t)
    r = m.requires_grad_(False)
    out = [r is m, [p.requires_grad for p in m.parameters()], [b.requires_grad for b in m.buffers()]]
    m.body.requires_grad_()
    out.append([p.requires_grad for p in m.parameters()])
    return out


def _grads(t, set_to_none):
    m = net(t, dtype=t.float64)
    m(t.ones(3, 4, dtype=t.float64)).sum().backward()
    m.zero_grad(set_to_none=set_to_none)
    return [p.grad for p in m.parameters()]


def _zero_grad_default(t):
    m = net(t)
    m(t.ones(3, 4)).sum().backward()
    m.zero_grad()
    return [p.grad for p in m.parameters()]


def _zero_grad_graph(t):
    m = t.nn.Linear(2, 1)
    m.weight.grad = t.ones(1, 2, requires_grad=True) * 2
    m.zero_grad(set_to_none=False)
    return m.weight.grad, m.weight.grad.requires_grad, m.weight.grad.grad_fn is None


def _apply(t):
    m = net(t)
    seen = []
    r = m.apply(lambda mod: seen.append(type(mod).__name__))
    return seen, r is m


def _apply_init(t):
    m = net(t)

    def init(mod):
        if isinstance(mod, t.nn.Linear):
            t.nn.init.constant_(mod.weight, 0.25)
    m.apply(init)
    return [p for n, p in m.named_parameters() if n.endswith("weight")]


MODE_CASES = [
    ("train_eval", _train_eval),
    ("requires_grad_", _requires_grad_),
    ("zero_grad_none", lambda t: _grads(t, True)),
    ("zero_grad_zeros", lambda t: _grads(t, False)),
    ("zero_grad_default", _zero_grad_default),
    ("zero_grad_graph", _zero_grad_graph),
    ("apply", _apply),
    ("apply_init", _apply_init),
]


@pytest.mark.parametrize("name,fn", MODE_CASES, ids=[c[0] for c in MODE_CASES])
def test_modes(name, fn):
    same(fn)


# ---- dtype conversions ------------------------------------------------------------------------------------------
def _convert(t, how):
    m = net(t)
    m.body[0].weight.grad = t.ones(5, 4)
    ids = [id(p) for p in m.parameters()]
    r = how(t, m)
    return (r is m, [id(p) for p in m.parameters()] == ids, [p.dtype for p in m.parameters()],
            [b.dtype for b in m.buffers()], m.body[0].weight.grad.dtype, [type(p).__name__ for p in m.parameters()],
            [p.requires_grad for p in m.parameters()])


CONVERSIONS = [
    ("double", lambda t, m: m.double()),
    ("float_after_double", lambda t, m: m.double().float()),
    ("half", lambda t, m: m.half()),
    ("to_dtype", lambda t, m: m.to(t.float64)),
    ("to_dtype_kw", lambda t, m: m.to(dtype=t.float64)),
    ("to_device_dtype", lambda t, m: m.to("cpu", t.float64)),
    ("to_device", lambda t, m: m.to("cpu")),
    ("to_device_obj", lambda t, m: m.to(t.device("cpu"))),
    ("to_tensor", lambda t, m: m.to(t.zeros(1, dtype=t.float64))),
    ("type_double", lambda t, m: m.type(t.float64)),
    ("type_str", lambda t, m: m.type("torch.DoubleTensor")),
    ("to_empty", lambda t, m: m.to_empty(device="cpu")),
    ("cpu", lambda t, m: m.cpu()),
]


@pytest.mark.parametrize("name,how", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_conversions(name, how):
    same(lambda t: _convert(t, how))


def test_conversion_keeps_values_and_trains():
    """After .double() the model computes in float64 with the converted values, and grads reach the same objects."""
    e, t = pair(net)
    e.double()
    t.double()
    run_pair(e, t, arr(3, 4))


def test_half_forward_values():
    e, t = pair(net)
    same(lambda lib: None)
    e.half()
    t.half()
    compare(norm(list(e.state_dict().values())), norm(list(t.state_dict().values())))


# ---- repr / dir -----------------------------------------------------------------------------------------------
def _custom_extra_repr(t):
    class WithExtra(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = t.nn.Linear(1, 2)

        def extra_repr(self):
            return "alpha=1,\nbeta=2"
    return repr(WithExtra())


def _single_line_extra(t):
    class One(t.nn.Module):
        def extra_repr(self):
            return "k=3"
    return repr(One()), repr(t.nn.Sequential(One(), One()))


REPR_CASES = [
    ("net", lambda t: repr(net(t))),
    ("empty_module", lambda t: repr(t.nn.Module())),
    ("linear", lambda t: repr(t.nn.Linear(3, 4, bias=False))),
    ("str", lambda t: str(net(t))),
    ("custom_extra", _custom_extra_repr),
    ("single_line_extra", _single_line_extra),
    ("shared", lambda t: repr(shared_net(t))),
    ("none_child", lambda t: (lambda m: (m.add_module("x", None), repr(m))[1])(t.nn.Sequential(t.nn.Identity()))),
    ("get_name", lambda t: net(t)._get_name()),
]


@pytest.mark.parametrize("name,fn", REPR_CASES, ids=[c[0] for c in REPR_CASES])
def test_repr(name, fn):
    same(fn)


def test_dir():
    def fn(t):
        m = net(t)
        m.plain = 1
        d = dir(m)
        return [k in d for k in ("body", "head", "scale", "offset", "count", "plain", "forward", "training",
                                 "state_dict")], d == sorted(d), len(d) == len(set(d)), \
            sorted(k for k in d if not k.startswith("_") and k not in dir(t.nn.Module))
    same(fn)


def test_dir_lists_no_numeric_names():
    same(lambda t: [k for k in dir(t.nn.Sequential(t.nn.Identity(), t.nn.Identity())) if k[0].isdigit()])


# ---- copying and pickling ---------------------------------------------------------------------------------------
def _roundtrip(model, how):
    if how == "deepcopy":
        return copy.deepcopy(model)
    return pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_roundtrip(how):
    e, t = pair(net)
    e.eval()
    t.eval()
    e2, t2 = _roundtrip(e, how), _roundtrip(t, how)
    x = arr(3, 4, dtype="float32")
    compare(norm(e2(ember.from_numpy(x))), norm(t2(torch.from_numpy(x))))
    compare(norm(e2(ember.from_numpy(x))), norm(e(ember.from_numpy(x))))
    assert repr(e2) == repr(t2)
    assert list(e2.state_dict()) == list(t2.state_dict())
    assert e2.training is False
    assert e2.head.weight is not e.head.weight and isinstance(e2.head.weight, ember.nn.Parameter)
    with ember.no_grad():
        e2.head.weight.fill_(0)
    assert e.head.weight.abs().sum().item() > 0


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_preserves_sharing_and_hooks(how):
    def fn(t):
        m = shared_net(t)
        m.register_buffer("nb", t.ones(1), persistent=False)
        m2 = _roundtrip(m, how)
        return (m2.a is m2.b, m2.p is m2.a.weight, m2.c[0] is m2.a, list(m2.state_dict()),
                [p.requires_grad for p in m2.parameters()], list(m2._non_persistent_buffers_set))
    same(fn)


def test_deepcopy_keeps_grad():
    def fn(t):
        m = t.nn.Linear(2, 1)
        m.weight.grad = t.ones(1, 2)
        return copy.deepcopy(m).weight.grad
    same(fn)


# ---- a module used end to end ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_backward_matches(dtype):
    e, t = pair(lambda lib: net(lib, dtype=getattr(lib, dtype)))
    run_pair(e, t, arr(6, 4, dtype=dtype))


def test_call_super_init():
    def fn(t):
        class Mixin:
            def __init__(self, *args, **kwargs):
                self.mixin_kwargs = kwargs

        class M(t.nn.Module, Mixin):
            call_super_init = True

        return M(a=1).mixin_kwargs
    same(fn)


def test_forward_kwargs_and_share_memory():
    def fn(t):
        class M(t.nn.Module):
            def forward(self, x, *, scale=1.0):
                return x * scale
        m = M()
        return m(t.ones(2), scale=3.0), m.share_memory() is m
    same(fn)


def test_cuda_raises():
    """ember is CPU-only: .cuda() raises (torch without CUDA raises AssertionError; ember a RuntimeError)."""
    with pytest.raises(RuntimeError, match="cuda"):
        ember.nn.Linear(1, 1).cuda()


def test_bfloat16_not_implemented():
    with pytest.raises(NotImplementedError, match="bfloat16"):
        ember.nn.Linear(1, 1).bfloat16()
