"""state_dict / load_state_dict against torch: keys, order, metadata, strictness, exact error text, hooks, interop."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from .nnparity import arr, same, same_error, pair, sync, compare, norm


def net(t, dtype=None):
    """Nested containers, a bias-free layer, persistent and non-persistent buffers, a None parameter."""
    m = t.nn.Module()
    m.features = t.nn.Sequential(t.nn.Linear(4, 6, dtype=dtype), t.nn.Identity(),
                                 t.nn.Sequential(t.nn.Linear(6, 5, bias=False, dtype=dtype)))
    m.blocks = t.nn.ModuleList([t.nn.Linear(5, 5, dtype=dtype) for _ in range(2)])
    m.heads = t.nn.ModuleDict({"b": t.nn.Linear(5, 2, dtype=dtype), "a": t.nn.Linear(5, 3, dtype=dtype)})
    m.plist = t.nn.ParameterList([t.nn.Parameter(t.ones(2, dtype=dtype)), t.nn.Parameter(t.zeros(3, dtype=dtype))])
    m.pdict = t.nn.ParameterDict({"y": t.nn.Parameter(t.ones(1, dtype=dtype))})
    m.register_buffer("stat", t.arange(3, dtype=dtype or t.float32))
    m.register_buffer("scratch", t.zeros(4), persistent=False)
    m.register_parameter("unused", None)
    m.temperature = t.nn.Parameter(t.tensor(2.0, dtype=dtype))
    return m


def forward(m, x):
    h = m.features(x)
    for b in m.blocks:
        h = b(h)
    return (m.heads["a"](h).sum(-1) + m.heads["b"](h).sum(-1) + m.plist[0].sum() + m.pdict["y"]) * m.temperature


def sd_keys(t):
    return list(net(t).state_dict())


# ---- state_dict ----------------------------------------------------------------------------------------------
def _metadata(t):
    sd = net(t).state_dict()
    return type(sd).__name__, list(sd._metadata.items())


def _values_detached(t):
    m = net(t)
    sd = m.state_dict()
    shares = sd["features.0.weight"].data_ptr() == m.features[0].weight.data_ptr()
    return [(v.requires_grad, type(v).__name__) for v in sd.values()], shares


def _keep_vars(t):
    m = net(t)
    sd = m.state_dict(keep_vars=True)
    return [v.requires_grad for v in sd.values()], sd["features.0.weight"] is m.features[0].weight


def _destination_prefix(t):
    m = net(t)
    dest = {"x": 1}
    out = m.state_dict(destination=dest, prefix="model.")
    return out is dest, list(dest), hasattr(dest, "_metadata")


def _destination_ordered(t):
    dest = OrderedDict()
    dest._metadata = OrderedDict()
    net(t).features.state_dict(destination=dest, prefix="f.")
    return list(dest), list(dest._metadata)


def _positional(t):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        dest = OrderedDict()
        net(t).blocks.state_dict(dest, "p.", True)
    return list(dest), [type(x.message).__name__ for x in w], type(dest["p.0.weight"]).__name__


def _non_persistent(t):
    m = t.nn.Module()
    m.register_buffer("a", t.ones(1), persistent=False)
    m.register_buffer("b", t.ones(1))
    out = [list(m.state_dict())]
    m.register_buffer("a", t.ones(1))  # re-registering as persistent puts it back
    out.append(list(m.state_dict()))
    m.register_buffer("b", t.ones(1), persistent=False)
    out.append(list(m.state_dict()))
    return out, [n for n, _ in m.named_buffers()]


STATE_DICT_CASES = [
    ("keys_order", sd_keys),
    ("metadata", _metadata),
    ("values_detached", _values_detached),
    ("keep_vars", _keep_vars),
    ("destination_prefix", _destination_prefix),
    ("destination_ordered", _destination_ordered),
    ("positional_args", _positional),
    ("non_persistent", _non_persistent),
    ("linear_keys", lambda t: list(t.nn.Linear(2, 3).state_dict().items())[0][0]),
    ("shared_module_keys", lambda t: list(t.nn.Sequential(*[t.nn.Linear(1, 1)] * 2).state_dict())),
    ("values", lambda t: (lambda m: (t.nn.init.constant_(m.weight, 0.5), list(m.state_dict().values()))[1])(
        t.nn.Linear(2, 2, bias=False))),
]


@pytest.mark.parametrize("name,fn", STATE_DICT_CASES, ids=[c[0] for c in STATE_DICT_CASES])
def test_state_dict(name, fn):
    same(fn)


# ---- load_state_dict: results -------------------------------------------------------------------------------
def _state(t, seed=0):
    """A full state dict for net() with deterministic values."""
    m = net(t)
    return OrderedDict((k, t.tensor(arr(*v.shape, seed=seed + i, dtype=str(v.dtype).replace("torch.", ""))))
                       for i, (k, v) in enumerate(m.state_dict().items()))


def _load(t, edit=None, strict=True, assign=False):
    m = net(t)
    with t.no_grad():
        for p in m.parameters():
            p.fill_(-1)
    sd = _state(t)
    if edit:
        edit(t, sd)
    res = m.load_state_dict(sd, strict=strict, assign=assign)
    return m, res


def _load_result(t, edit=None, strict=True):
    m, res = _load(t, edit, strict)
    return repr(res), str(res), res.missing_keys, res.unexpected_keys, type(res).__name__, list(res._fields), \
        list(m.state_dict().values())


def _drop(*keys):
    def edit(t, sd):
        for k in keys:
            del sd[k]
    return edit


def _add(**items):
    def edit(t, sd):
        for k, shape in items.items():
            sd[k.replace("__", ".")] = t.zeros(shape)
    return edit


def _assign(t):
    m = net(t)
    sd = _state(t)
    before = m.features[0].weight
    m.features[0].weight.requires_grad_(False)
    m.load_state_dict(sd, assign=True)
    return (m.features[0].weight is before, m.features[0].weight.data_ptr() == sd["features.0.weight"].data_ptr(),
            type(m.features[0].weight).__name__, m.features[0].weight.requires_grad, m.blocks[0].bias.requires_grad,
            m.stat.data_ptr() == sd["stat"].data_ptr(), type(m.stat).__name__)


def _copy_keeps_identity(t):
    m = net(t)
    before = m.features[0].weight
    m.load_state_dict(_state(t))
    return m.features[0].weight is before, m.features[0].weight.requires_grad, m.features[0].weight


def _dtype_cast(t):
    m = t.nn.Linear(2, 2)
    m.load_state_dict({"weight": t.ones(2, 2, dtype=t.float64), "bias": t.tensor([1, 2])})
    return m.weight, m.bias


def _scalar_from_1elem(t):
    m = t.nn.Module()
    m.s = t.nn.Parameter(t.tensor(1.0))
    m.load_state_dict({"s": t.tensor([5.0])})
    return m.s


def _none_param_key(t):
    m = t.nn.Linear(2, 2, bias=False)
    return repr(m.load_state_dict({"weight": t.ones(2, 2), "bias": t.ones(2)}, strict=False))


def _load_keeps_optimizer_view(t):
    """Loading copies in place, so references held elsewhere (e.g. by an optimizer) see the new values."""
    m = t.nn.Linear(2, 1)
    params = list(m.parameters())
    m.load_state_dict({"weight": t.full((1, 2), 3.0), "bias": t.full((1,), -1.0)})
    return params


def _metadata_passed(t):
    seen = []

    class Versioned(t.nn.Linear):
        _version = 3

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            seen.append((prefix, sorted(local_metadata.items())))
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    m = t.nn.Sequential(Versioned(1, 1))
    sd = m.state_dict()
    m.load_state_dict(sd)
    m.load_state_dict(OrderedDict(sd))  # metadata dropped
    m.load_state_dict(sd, assign=True)
    return seen, sd._metadata


def _override_renames(t):
    """A module that renames an old key in _load_from_state_dict, as torch's own version upgrades do."""
    class Renamed(t.nn.Linear):
        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            old = prefix + "W"
            if old in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(old)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

    m = t.nn.Sequential(Renamed(2, 1))
    res = m.load_state_dict({"0.W": t.ones(1, 2), "0.bias": t.zeros(1)})
    return repr(res), m[0].weight


LOAD_CASES = [
    ("all_matched", lambda t: _load_result(t)),
    ("non_strict_missing", lambda t: _load_result(t, _drop("features.0.bias", "stat", "plist.1"), strict=False)),
    ("non_strict_unexpected", lambda t: _load_result(t, _add(extra=1, features__9__weight=2, heads__c=1),
                                                     strict=False)),
    ("non_strict_param_with_suffix", lambda t: _load_result(t, _add(temperature__x=1, blocks__0=1), strict=False)),
    ("non_strict_scratch", lambda t: _load_result(t, _add(scratch=4), strict=False)),
    ("assign", _assign),
    ("copy_keeps_identity", _copy_keeps_identity),
    ("dtype_cast", _dtype_cast),
    ("scalar_from_1elem", _scalar_from_1elem),
    ("none_param_key", _none_param_key),
    ("optimizer_view", _load_keeps_optimizer_view),
    ("metadata_passed", _metadata_passed),
    ("override_renames", _override_renames),
]


@pytest.mark.parametrize("name,fn", LOAD_CASES, ids=[c[0] for c in LOAD_CASES])
def test_load_state_dict(name, fn):
    same(fn)


# ---- load_state_dict: errors with torch's exact text -----------------------------------------------------------
def _resize(key, shape):
    def edit(t, sd):
        sd[key] = t.zeros(shape)
    return edit


def _both(t, sd):
    _drop("features.0.bias")(t, sd)
    _add(extra=1)(t, sd)
    _resize("blocks.1.weight", (5, 4))(t, sd)


LOAD_ERRORS = [
    ("missing", lambda t: _load(t, _drop("features.0.bias", "pdict.y"))),
    ("unexpected", lambda t: _load(t, _add(extra=1, heads__z__weight=2))),
    ("size_mismatch", lambda t: _load(t, _resize("features.2.0.weight", (5, 7)))),
    ("size_mismatch_non_strict", lambda t: _load(t, _resize("stat", (2,)), strict=False)),
    ("size_mismatch_scalar", lambda t: _load(t, _resize("temperature", (2,)))),
    ("all_three", lambda t: _load(t, _both)),
    ("not_tensor", lambda t: _load(t, lambda t, sd: sd.__setitem__("stat", [1.0, 2.0, 3.0]))),
    ("not_mapping", lambda t: net(t).load_state_dict([("stat", t.zeros(3))])),
    ("lazy_into_initialised", lambda t: t.nn.Linear(2, 2).load_state_dict(t.nn.LazyLinear(2).state_dict())),
    ("post_hook_returns", lambda t: (lambda m: (m.register_load_state_dict_post_hook(lambda mod, keys: 1),
                                                m.load_state_dict(m.state_dict())))(t.nn.Linear(1, 1))),
    ("state_dict_post_hook_returns", lambda t: (lambda m: (m.register_state_dict_post_hook(lambda *a: {}),
                                                           m.state_dict()))(t.nn.Linear(1, 1))),
]


@pytest.mark.parametrize("name,fn", LOAD_ERRORS, ids=[c[0] for c in LOAD_ERRORS])
def test_load_errors(name, fn):
    same_error(fn)


def test_error_text_literal():
    """The message itself, spelled out (not only equal to torch's): class name, tab-separated entries, quotes."""
    e, _ = same_error(lambda t: t.nn.Linear(2, 3).load_state_dict({"weight": t.zeros(3, 3), "b": t.zeros(1)}))
    assert str(e) == ('Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". \n\t'
                      'Unexpected key(s) in state_dict: "b". \n\tsize mismatch for weight: copying a param with '
                      'shape torch.Size([3, 3]) from checkpoint, the shape in current model is torch.Size([3, 2]).')


def test_load_is_all_or_nothing_per_key():
    """Keys that match are still copied when another key fails (torch copies before raising)."""
    def fn(t):
        m = t.nn.Linear(2, 1)
        try:
            m.load_state_dict({"weight": t.full((1, 2), 7.0), "bias": t.zeros(3)})
        except RuntimeError:
            pass
        return m.weight
    same(fn)


# ---- hooks on state_dict / load_state_dict ---------------------------------------------------------------------
def _sd_hooks(t):
    calls = []
    m = t.nn.Sequential(t.nn.Linear(1, 1))
    m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append(("pre", prefix, keep_vars)))

    def post(mod, sd, prefix, meta):
        calls.append(("post", prefix, sorted(meta.items()), list(sd)))
        sd[prefix + "added"] = t.zeros(1)
    m[0].register_state_dict_post_hook(post)
    sd = m.state_dict(prefix="root.", keep_vars=True)
    return calls, list(sd)


def _legacy_sd_hook_replaces(t):
    m = t.nn.Sequential(t.nn.Linear(1, 1))
    m._register_state_dict_hook(lambda mod, sd, prefix, meta: OrderedDict((k.upper(), v) for k, v in sd.items()))
    m[0]._register_state_dict_hook(lambda mod, sd, prefix, meta: {"ignored": 1})
    return list(m.state_dict())


def _remove_hook(t):
    m = t.nn.Linear(1, 1)
    calls = []
    h = m.register_state_dict_pre_hook(lambda *a: calls.append(1))
    m.state_dict()
    h.remove()
    m.state_dict()
    return calls


def _load_hooks(t):
    calls = []
    m = t.nn.Sequential(t.nn.Linear(1, 1), t.nn.Linear(1, 1))

    def pre(mod, sd, prefix, meta, strict, missing, unexpected, errors):
        calls.append(("pre", type(mod).__name__, prefix, sorted(sd)))
        if prefix + "old_weight" in sd:
            sd[prefix + "weight"] = sd.pop(prefix + "old_weight")
    m[1].register_load_state_dict_pre_hook(pre)

    def post(mod, keys):
        calls.append(("post", type(mod).__name__, list(keys.missing_keys), list(keys.unexpected_keys)))
        keys.missing_keys.clear()
    m[1].register_load_state_dict_post_hook(post)
    m.register_load_state_dict_post_hook(lambda mod, keys: calls.append(("root", list(keys.missing_keys))))
    res = m.load_state_dict({"0.weight": t.ones(1, 1), "0.bias": t.ones(1), "1.old_weight": t.full((1, 1), 4.0)})
    return calls, repr(res), m[1].weight


def _private_load_pre_hook(t):
    calls = []
    m = t.nn.Linear(1, 1)
    m._register_load_state_dict_pre_hook(lambda sd, prefix, *rest: calls.append((prefix, len(rest))))
    m._register_load_state_dict_pre_hook(lambda mod, sd, prefix, *rest: calls.append(type(mod).__name__),
                                         with_module=True)
    m.load_state_dict(m.state_dict())
    return calls


def _extra_state(t):
    class WithExtra(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = t.nn.Linear(1, 1)
            self.counter = 0

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    a, b = WithExtra(), WithExtra()
    a.counter = 7
    sd = t.nn.Sequential(a).state_dict()
    t.nn.Sequential(b).load_state_dict(sd)
    missing = t.nn.Sequential(WithExtra()).load_state_dict(
        {k: v for k, v in sd.items() if not k.endswith("_extra_state")}, strict=False)
    unexpected = t.nn.Sequential(t.nn.Linear(1, 1)).load_state_dict({"0.weight": t.ones(1, 1), "0.bias": t.ones(1),
                                                                     "0._extra_state": 3}, strict=False)
    return list(sd), sd["0._extra_state"], b.counter, repr(missing), repr(unexpected)


HOOK_CASES = [
    ("state_dict_hooks", _sd_hooks),
    ("legacy_post_hook", _legacy_sd_hook_replaces),
    ("remove", _remove_hook),
    ("load_hooks", _load_hooks),
    ("private_load_pre_hook", _private_load_pre_hook),
    ("extra_state", _extra_state),
]


@pytest.mark.parametrize("name,fn", HOOK_CASES, ids=[c[0] for c in HOOK_CASES])
def test_state_dict_hooks(name, fn):
    same(fn)


# ---- interop: ember <-> torch through numpy ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ember_state_loads_into_torch(dtype):
    e = net(ember, dtype=getattr(ember, dtype))
    t = net(torch, dtype=getattr(torch, dtype))
    sd = OrderedDict((k, torch.from_numpy(v.numpy())) for k, v in e.state_dict().items())
    assert repr(t.load_state_dict(sd, strict=True)) == "<All keys matched successfully>"
    x = arr(3, 4, dtype=dtype)
    compare(norm(forward(e, ember.from_numpy(x))), norm(forward(t, torch.from_numpy(x))))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_state_loads_into_ember(dtype):
    t = net(torch, dtype=getattr(torch, dtype))
    e = net(ember, dtype=getattr(ember, dtype))
    sd = OrderedDict((k, ember.from_numpy(v.detach().numpy().copy())) for k, v in t.state_dict().items())
    assert repr(e.load_state_dict(sd, strict=True)) == "<All keys matched successfully>"
    x = arr(3, 4, dtype=dtype)
    e_out, t_out = forward(e, ember.from_numpy(x)), forward(t, torch.from_numpy(x))
    compare(norm(e_out), norm(t_out))
    g = arr(*t_out.shape, seed=5, dtype=dtype)
    e_out.backward(ember.from_numpy(g))
    t_out.backward(torch.from_numpy(g.copy()))
    for (n, p), (_, q) in zip(e.named_parameters(), t.named_parameters()):
        compare(norm(p.grad), norm(q.grad), what=n)


def test_roundtrip_both_ways_is_exact():
    e, t = pair(net)
    back = net(torch)
    sync(e, back)
    for (k, a), (_, b) in zip(t.state_dict().items(), back.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), k


def test_torch_tensors_load_directly_into_ember():
    """ember extension: array-like values (torch tensors, ndarrays) in a state dict are accepted and copied."""
    t = net(torch)
    e = net(ember)
    assert repr(e.load_state_dict(t.state_dict())) == "<All keys matched successfully>"
    for (k, a), (_, b) in zip(e.state_dict().items(), t.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()) and str(a.dtype) == str(b.dtype), k
    e.load_state_dict({k: v.numpy() * 0 for k, v in t.state_dict().items()})
    assert all(not v.numpy().any() for v in e.state_dict().values())


def test_lazy_state_into_scalar_parameter():
    """Reading the shape of an uninitialized value raises torch's RuntimeError, also for 0-d parameters."""
    def fn(t):
        m = t.nn.Module()
        m.s = t.nn.Parameter(t.tensor(1.0))
        m.load_state_dict({"s": t.nn.UninitializedParameter()})
    same_error(fn)
