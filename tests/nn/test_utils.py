"""nn.utils against torch: weight_norm, spectral_norm, parametrize, parametrizations, fusion, clipping, stateless."""
import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, check_raises, assert_same
from .nnparity import arr, same, same_error, pair, run_pair, sync, norm, compare

F64_32 = ("float64", "float32")


def lib_dtype(lib, dt):
    return getattr(lib, dt)


def quiet(fn):
    """Call fn with the deprecation warnings silenced (they are tested separately)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def buffers_same(e, t):
    """Every buffer of the two modules is equal (names and values)."""
    eb, tb = dict(e.named_buffers()), dict(t.named_buffers())
    assert list(eb) == list(tb)
    for k in tb:
        assert_same(eb[k], tb[k], what=f"buffer {k}")


def keys_same(e, t):
    sd_e, sd_t = e.state_dict(), t.state_dict()
    assert list(sd_e) == list(sd_t)
    assert dict(sd_e._metadata) == dict(sd_t._metadata)


# ---- module builders shared by the tables --------------------------------------------------------------------------
BUILDERS = {
    "linear": (lambda t, dt: t.nn.Linear(5, 4, dtype=lib_dtype(t, dt)), (3, 5)),
    "linear_nobias": (lambda t, dt: t.nn.Linear(5, 4, bias=False, dtype=lib_dtype(t, dt)), (3, 5)),
    "conv1d": (lambda t, dt: t.nn.Conv1d(3, 4, 2, dtype=lib_dtype(t, dt)), (2, 3, 6)),
    "conv2d": (lambda t, dt: t.nn.Conv2d(2, 3, (2, 3), dtype=lib_dtype(t, dt)), (2, 2, 5, 5)),
    "convT2d": (lambda t, dt: t.nn.ConvTranspose2d(3, 2, 2, dtype=lib_dtype(t, dt)), (2, 3, 3, 3)),
}


def build(kind, dt="float64", wrap=None):
    """(ember_model, torch_model) of one builder, torch's weights copied in, then `wrap(lib, model)` applied."""
    fn, in_shape = BUILDERS[kind]

    def make(lib):
        m = fn(lib, dt)
        if wrap is not None:
            quiet(lambda: wrap(lib, m))
        return m

    t = make(torch)
    e = make(ember)
    return sync(t, e), t, arr(*in_shape, seed=3, dtype=dt)


# ---- legacy weight_norm ------------------------------------------------------------------------------------------
WN_CASES = [("linear", 0), ("linear", 1), ("linear", None), ("linear", -1), ("linear", -2), ("linear_nobias", 0),
            ("conv1d", 0), ("conv1d", 2), ("conv2d", 1), ("conv2d", None), ("convT2d", 0), ("convT2d", -3)]


@pytest.mark.parametrize("dt", F64_32)
@pytest.mark.parametrize("kind,dim", WN_CASES)
def test_weight_norm_forward_backward(kind, dim, dt):
    e, t, x = build(kind, dt, lambda lib, m: lib.nn.utils.weight_norm(m, dim=dim))
    keys_same(e, t)
    assert_same(e.weight_g, t.weight_g, what="weight_g")
    for _ in range(2):
        run_pair(e, t, x)


def test_weight_norm_recomputed_each_forward_under_sgd():
    e, t, x = build("linear", wrap=lambda lib, m: lib.nn.utils.weight_norm(m))
    opts = [lib.optim.SGD(m.parameters(), lr=0.1) for lib, m in ((ember, e), (torch, t))]
    for _ in range(3):
        for o in opts:
            o.zero_grad()
        run_pair(e, t, x)
        for o in opts:
            o.step()
    assert_same(e.weight, t.weight)


def test_weight_norm_noncontiguous_input():
    e, t, x = build("linear", wrap=lambda lib, m: lib.nn.utils.weight_norm(m))
    xs = arr(5, 6, seed=4)
    assert_same(e(ember.tensor(xs).t()[::2]), t(torch.tensor(xs).t()[::2]))


def test_weight_norm_deprecation_warning():
    def warn(lib):
        with pytest.warns(FutureWarning) as rec:
            lib.nn.utils.weight_norm(lib.nn.Linear(2, 3))
        return [str(w.message) for w in rec if w.category is FutureWarning]
    same(warn)


def test_remove_weight_norm_restores_parameter():
    def go(lib):
        m = lib.nn.Linear(5, 4, dtype=lib.float64)
        with torch.no_grad(), ember.no_grad():
            m.weight.copy_(lib.from_numpy(arr(4, 5)))
        quiet(lambda: lib.nn.utils.weight_norm(m, dim=1))
        with torch.no_grad(), ember.no_grad():
            m.weight_g.mul_(2.0)
        m(lib.zeros(1, 5, dtype=lib.float64))
        lib.nn.utils.remove_weight_norm(m)
        return list(m.state_dict()), m.weight, [n for n, _ in m.named_parameters()], \
            isinstance(m.weight, lib.nn.Parameter), len(m._forward_pre_hooks)
    same(go)


@pytest.mark.parametrize("case", ["twice", "remove_missing", "dim_out_of_range", "neg_dim_out_of_range"])
def test_weight_norm_errors(case):
    def go(lib):
        m = lib.nn.Linear(2, 3)
        if case == "twice":
            quiet(lambda: lib.nn.utils.weight_norm(m))
            quiet(lambda: lib.nn.utils.weight_norm(m))
        elif case == "remove_missing":
            lib.nn.utils.remove_weight_norm(m)
        else:
            quiet(lambda: lib.nn.utils.weight_norm(m, dim=2 if case == "dim_out_of_range" else -3))
    same_error(go)


# ---- legacy spectral_norm ---------------------------------------------------------------------------------------
SN_CASES = [("linear", {}), ("linear", {"n_power_iterations": 3}), ("linear", {"dim": 1}), ("conv2d", {}),
            ("conv2d", {"dim": 1, "eps": 1e-4}), ("convT2d", {}), ("conv1d", {"dim": 2})]


@pytest.mark.parametrize("dt", F64_32)
@pytest.mark.parametrize("kind,kw", SN_CASES)
def test_spectral_norm_step_by_step(kind, kw, dt):
    """Same u/v (copied from torch): each training forward updates them identically; eval does not touch them."""
    e, t, x = build(kind, dt, lambda lib, m: lib.nn.utils.spectral_norm(m, **kw))
    keys_same(e, t)
    # float32 conv outputs of size ~40 that cancel to ~0.05 differ by float32 rounding of the large terms
    tol = None if dt == "float64" else dict(rtol=1e-4, atol=1e-4)
    for _ in range(3):
        run_pair(e, t, x, tol=tol)
        buffers_same(e, t)
    e.eval()
    t.eval()
    u_before = e.weight_u.detach().numpy().copy()
    run_pair(e, t, x, tol=tol)
    np.testing.assert_array_equal(e.weight_u.detach().numpy(), u_before)
    buffers_same(e, t)


def test_spectral_norm_default_dim_conv_transpose():
    def go(lib):
        m = lib.nn.utils.spectral_norm(lib.nn.ConvTranspose2d(3, 5, 2))
        return m.weight_u.shape, m.weight_v.shape, m._forward_pre_hooks[next(iter(m._forward_pre_hooks))].dim
    same(go)


def test_spectral_norm_two_forwards_one_backward():
    """GAN pattern D(real) - D(fake): the second power iteration must not invalidate the first graph."""
    e, t, x = build("linear", wrap=lambda lib, m: lib.nn.utils.spectral_norm(m))
    x2 = arr(3, 5, seed=9)
    for lib, m in ((ember, e), (torch, t)):
        (m(lib.tensor(x)) - m(lib.tensor(x2))).sum().backward()
    assert_same(e.weight_orig.grad, t.weight_orig.grad)
    buffers_same(e, t)


def test_remove_spectral_norm_restores_parameter():
    e, t, x = build("conv2d", wrap=lambda lib, m: lib.nn.utils.spectral_norm(m))
    run_pair(e, t, x)
    for lib, m in ((ember, e), (torch, t)):
        lib.nn.utils.remove_spectral_norm(m)
    assert isinstance(e.weight, ember.nn.Parameter)
    assert_same(e.weight, t.weight)
    assert list(e.state_dict()) == list(t.state_dict())
    assert len(e._forward_pre_hooks) == len(t._forward_pre_hooks) == 0
    run_pair(e, t, x)


def test_remove_spectral_norm_then_load_state_dict():
    """torch leaves the upgrade pre-hook behind (a torch bug: reloading then asks for weight_orig); ember removes it."""
    e, _, _ = build("linear", wrap=lambda lib, m: lib.nn.utils.spectral_norm(m))
    ember.nn.utils.remove_spectral_norm(e)
    assert len(e._load_state_dict_pre_hooks) == 0
    sd = e.state_dict()
    sd["weight"] = sd["weight"] * 2
    e.load_state_dict(sd)
    np.testing.assert_array_equal(e.weight.detach().numpy(), sd["weight"].numpy())


def test_spectral_norm_loads_version0_state_dict():
    """A state dict saved before version 1 (W stored, no v, no metadata) is upgraded by solving for v."""
    e, t, x = build("linear", wrap=lambda lib, m: lib.nn.utils.spectral_norm(m))
    t(torch.tensor(x))
    old = OrderedDict((k, v.detach().clone()) for k, v in t.state_dict().items() if k != "weight_v")
    old["weight"] = t.weight.detach().clone()
    for lib, m in ((ember, e), (torch, t)):
        m.load_state_dict(OrderedDict((k, lib.from_numpy(v.numpy().copy())) for k, v in old.items()))
    assert_same(e.weight_v, t.weight_v, tol=dict(rtol=1e-8, atol=1e-10))
    e.eval()
    t.eval()
    run_pair(e, t, x, tol=dict(rtol=1e-8, atol=1e-10))


@pytest.mark.parametrize("case", ["zero_iterations", "twice", "remove_missing", "none_param"])
def test_spectral_norm_errors(case):
    def go(lib):
        m = lib.nn.Linear(2, 3)
        if case == "zero_iterations":
            lib.nn.utils.spectral_norm(m, n_power_iterations=0)
        elif case == "twice":
            lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(m))
        elif case == "remove_missing":
            lib.nn.utils.remove_spectral_norm(m)
        else:
            lib.nn.utils.spectral_norm(lib.nn.Linear(2, 3, bias=False), name="bias")
    same_error(go)


# ---- parametrize ------------------------------------------------------------------------------------------------
def symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def scaled(lib, factor=2.0):
    class Scale(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("factor", lib.tensor(factor, dtype=lib.float64))

        def forward(self, X):
            return X * self.factor

        def right_inverse(self, A):
            return A / self.factor
    return Scale()


def no_inverse(lib):
    class Square(lib.nn.Module):
        def forward(self, X):
            return X * X
    return Square()


def rank_one(lib):
    class RankOne(lib.nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0].clone(), Z[0, :].clone() / Z[0, 0]
    return RankOne()


PARAM_CASES = {
    "symmetric": [symmetric],
    "no_inverse": [no_inverse],
    "chain": [symmetric, scaled],
    "chain3": [scaled, no_inverse, symmetric],
    "two_originals": [rank_one],
    "two_originals_chain": [rank_one, scaled],
}


def square_model(lib, names, dt="float64", unsafe=False):
    m = lib.nn.Linear(4, 4, dtype=lib_dtype(lib, dt))
    with torch.no_grad(), ember.no_grad():
        m.weight.copy_(lib.from_numpy(arr(4, 4, seed=5, dtype=dt)))
        m.bias.copy_(lib.from_numpy(arr(4, seed=6, dtype=dt)))
    for f in PARAM_CASES[names]:
        lib.nn.utils.parametrize.register_parametrization(m, "weight", f(lib), unsafe=unsafe)
    return m


@pytest.mark.parametrize("names", list(PARAM_CASES))
def test_parametrize_forward_backward_and_keys(names):
    t = square_model(torch, names)
    e = square_model(ember, names)
    assert list(e.state_dict()) == list(t.state_dict())
    assert type(e).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert_same(e.weight, t.weight)
    assert repr(e) == repr(t).replace("torch", "ember") or repr(e).replace("ember", "torch") == repr(t)
    run_pair(e, t, arr(3, 4, seed=6))


@pytest.mark.parametrize("names", ["symmetric", "chain", "two_originals"])
def test_parametrize_assignment_calls_right_inverse(names):
    def go(lib):
        m = square_model(lib, names)
        orig = m.parametrizations.weight.original if names != "two_originals" else \
            m.parametrizations.weight.original0
        value = lib.from_numpy(arr(4, 4, seed=7) + arr(4, 4, seed=7).T) if names != "two_originals" else \
            lib.from_numpy(np.outer(arr(4, seed=8), arr(4, seed=9)))
        m.weight = value
        orig_now = m.parametrizations.weight.original if names != "two_originals" else \
            m.parametrizations.weight.original0
        return m.weight, orig_now is orig, dict(m.state_dict())
    same(go)


def test_parametrize_introspection():
    def go(lib):
        P = lib.nn.utils.parametrize
        m = lib.nn.Linear(3, 3)
        before = (P.is_parametrized(m), P.type_before_parametrizations(m))
        P.register_parametrization(m, "weight", symmetric(lib))
        P.register_parametrization(m, "bias", scaled(lib, 3.0).float())
        return before, P.is_parametrized(m), P.is_parametrized(m, "weight"), P.is_parametrized(m, "other"), \
            P.type_before_parametrizations(m), type(m.parametrizations).__name__, \
            type(m.parametrizations.weight).__name__, len(m.parametrizations.weight), \
            [n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()]
    same(go)


@pytest.mark.parametrize("leave", [True, False])
@pytest.mark.parametrize("names", ["symmetric", "chain3"])
def test_remove_parametrizations(names, leave):
    def go(lib):
        m = square_model(lib, names)
        orig = m.parametrizations.weight.original
        value = m.weight.detach().clone()
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave)
        return type(m), m.weight, m.weight is orig, isinstance(m.weight, lib.nn.Parameter), \
            value, hasattr(m, "parametrizations"), list(m.state_dict())
    same(go)


def test_remove_one_of_two_parametrized_tensors_keeps_class():
    def go(lib):
        m = square_model(lib, "symmetric")
        lib.nn.utils.parametrize.register_parametrization(m, "bias", scaled(lib))
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
        return type(m).__name__, list(m.state_dict()), m.bias
    same(go)


def test_remove_two_originals_leaves_new_parameter():
    def go(lib):
        m = square_model(lib, "two_originals")
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
        return m.weight, isinstance(m.weight, lib.nn.Parameter), list(m.state_dict())
    same(go)


PARAM_ERRORS = {
    "shape_change": lambda lib: lib.nn.utils.parametrize.register_parametrization(
        lib.nn.Linear(4, 3), "weight", rank_one_shape(lib)),
    "dtype_change": lambda lib: lib.nn.utils.parametrize.register_parametrization(
        lib.nn.Linear(4, 3), "weight", to_double(lib)),
    "chained_shape_change": lambda lib: lib.nn.utils.parametrize.register_parametrization(
        square_model(lib, "symmetric"), "weight", rank_one_shape(lib)),
    "chained_dtype_change": lambda lib: lib.nn.utils.parametrize.register_parametrization(
        lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(4, 3), "weight", no_inverse(lib)),
        "weight", to_double(lib)),
    "no_such_tensor": lambda lib: lib.nn.utils.parametrize.register_parametrization(
        lib.nn.Linear(4, 3), "foo", symmetric(lib)),
    "remove_unparametrized": lambda lib: lib.nn.utils.parametrize.remove_parametrizations(
        lib.nn.Linear(4, 3), "weight"),
    "leave_unparametrized_two_originals": lambda lib: lib.nn.utils.parametrize.remove_parametrizations(
        square_model(lib, "two_originals"), "weight", leave_parametrized=False),
    "assign_without_right_inverse": lambda lib: setattr(square_model(lib, "no_inverse"), "weight",
                                                        lib.zeros(4, 4, dtype=lib.float64)),
    "pickle": lambda lib: pickle.dumps(square_model(lib, "symmetric")),
}


def rank_one_shape(lib):
    class Flat(lib.nn.Module):
        def forward(self, X):
            return X.reshape(-1)
    return Flat()


def to_double(lib):
    class Double(lib.nn.Module):
        def forward(self, X):
            return X.double()
    return Double()


@pytest.mark.parametrize("case", list(PARAM_ERRORS))
def test_parametrize_errors(case):
    same_error(PARAM_ERRORS[case])


def test_parametrize_unsafe_allows_shape_change():
    def go(lib):
        m = lib.nn.Linear(4, 3)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", rank_one_shape(lib), unsafe=True)
        return m.weight.shape, m.parametrizations.weight.unsafe
    same(go)


def test_parametrize_cached():
    def go(lib):
        calls = []

        class Counted(lib.nn.Module):
            def forward(self, X):
                calls.append(1)
                return X * 2

        m = lib.nn.Linear(3, 3)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", Counted())
        calls.clear()
        with lib.nn.utils.parametrize.cached():
            a, b = m.weight, m.weight
            with lib.nn.utils.parametrize.cached():
                c = m.weight
            inside = (a is b, b is c, len(calls))
        d = m.weight
        return inside, d is a, len(calls)
    same(go)


def test_parametrize_buffer_and_deepcopy():
    def go(lib):
        m = lib.nn.BatchNorm1d(3)
        lib.nn.utils.parametrize.register_parametrization(m, "running_var", scaled(lib).float())
        c = copy.deepcopy(m)
        return list(m.state_dict()), type(c).__name__, c.running_var, lib.nn.utils.parametrize.is_parametrized(c), \
            [n for n, _ in m.named_buffers()]
    same(go)


def test_parametrize_gradient_reaches_original_through_sgd():
    t = square_model(torch, "chain")
    e = square_model(ember, "chain")
    opts = [lib.optim.SGD(m.parameters(), lr=0.05) for lib, m in ((ember, e), (torch, t))]
    for _ in range(3):
        for o in opts:
            o.zero_grad()
        run_pair(e, t, arr(2, 4, seed=10))
        for o in opts:
            o.step()
    assert_same(e.weight, t.weight)


def test_transfer_parametrizations_and_params():
    def go(lib):
        P = lib.nn.utils.parametrize
        src = square_model(lib, "chain")
        dst = lib.nn.Linear(4, 4, dtype=lib.float64)
        P.transfer_parametrizations_and_params(src, dst)
        return dst.weight, list(dst.state_dict()), type(dst).__name__
    same(go)


# ---- parametrizations.orthogonal ----------------------------------------------------------------------------------
def orth_model(lib, shape, dt="float64"):
    m = lib.nn.Module()
    m.weight = lib.nn.Parameter(lib.from_numpy(arr(*shape, seed=11, dtype=dt)))
    return m


ORTH_CASES = [((4, 4), None), ((4, 4), "cayley"), ((4, 4), "householder"), ((6, 4), "matrix_exp"),
              ((6, 4), "cayley"), ((6, 4), None), ((4, 6), "matrix_exp"), ((4, 6), "cayley"), ((4, 6), "householder"),
              ((2, 5, 3), "matrix_exp"), ((2, 3, 5), "cayley"), ((2, 5, 3), "householder"), ((3, 3), "matrix_exp")]


def orth_pair(shape, omap, triv, dt="float64"):
    def make(lib):
        m = orth_model(lib, shape, dt)
        lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap, use_trivialization=triv)
        return m
    t = make(torch)
    e = make(ember)
    return sync(t, e), t


def orth_forward(lib, m, x):
    return x @ m.weight.transpose(-1, -2)


@pytest.mark.parametrize("dt", F64_32)
@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("shape,omap", ORTH_CASES)
def test_orthogonal_forward_backward(shape, omap, triv, dt):
    e, t = orth_pair(shape, omap, triv, dt)
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.parametrizations.weight[0].orthogonal_map.name == t.parametrizations.weight[0].orthogonal_map.name
    x = arr(2, shape[-1], seed=12, dtype=dt)
    tol = None if dt == "float64" else dict(rtol=1e-4, atol=1e-5)
    ey, ty = orth_forward(ember, e, ember.tensor(x)), orth_forward(torch, t, torch.tensor(x))
    assert_same(ey, ty, tol)
    g = arr(*ty.shape, seed=13, dtype=dt)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    assert_same(e.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad, tol,
                what="grad of original")


@pytest.mark.parametrize("shape,omap", [((5, 5), "matrix_exp"), ((5, 5), "cayley"), ((7, 3), "householder"),
                                        ((3, 7), "matrix_exp"), ((2, 4, 6), "cayley")])
def test_orthogonal_is_orthogonal_and_stays_so_under_sgd(shape, omap):
    m = orth_model(ember, shape)
    ember.nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap)
    opt = ember.optim.SGD(m.parameters(), lr=0.5)
    x = ember.tensor(arr(4, shape[-1], seed=14))
    for _ in range(3):
        W = m.weight.detach().numpy()
        G = W.swapaxes(-1, -2) @ W if shape[-2] >= shape[-1] else W @ W.swapaxes(-1, -2)
        np.testing.assert_allclose(G, np.broadcast_to(np.eye(min(shape[-2:])), G.shape), atol=1e-12)
        opt.zero_grad()
        (x @ m.weight.transpose(-1, -2)).pow(3).sum().backward()
        grad = m.parametrizations.weight.original.grad.numpy()
        assert np.abs(grad).max() > 1e-6
        opt.step()


def test_orthogonal_square_initial_value_needs_no_sync():
    """For square weights the initial Q is the (deterministic) QR of the weight: compare without copying state."""
    def go(lib):
        m = orth_model(lib, (4, 4))
        lib.nn.utils.parametrizations.orthogonal(m)
        return m.weight, m.parametrizations.weight[0].base
    same(go)


@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6)])
def test_orthogonal_householder_assignment_without_trivialization(shape):
    def go(lib):
        m = orth_model(lib, shape)
        lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map="householder", use_trivialization=False)
        q = np.linalg.qr(arr(max(shape), min(shape), seed=15))[0]
        m.weight = lib.from_numpy(q if shape[0] >= shape[1] else q.T.copy())
        return m.weight, m.parametrizations.weight.original
    same(go)


def test_orthogonal_assignment_with_trivialization_sets_base():
    def go(lib):
        m = orth_model(lib, (5, 5))
        lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map="cayley")
        m.weight = lib.from_numpy(arr(5, 5, seed=16))
        return m.weight, m.parametrizations.weight.original, m.parametrizations.weight[0].base
    same(go)


ORTH_ERRORS = {
    "vector": lambda lib: lib.nn.utils.parametrizations.orthogonal(orth_model(lib, (4,))),
    "bad_map": lambda lib: lib.nn.utils.parametrizations.orthogonal(orth_model(lib, (4, 4)), "svd"),
    "no_tensor": lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), "kernel"),
    "assign_expm_no_triv": lambda lib: setattr(
        lib.nn.utils.parametrizations.orthogonal(orth_model(lib, (3, 3)), use_trivialization=False), "weight",
        lib.eye(3, dtype=lib.float64)),
    "assign_wrong_shape": lambda lib: setattr(
        lib.nn.utils.parametrizations.orthogonal(orth_model(lib, (3, 3))), "weight", lib.eye(4, dtype=lib.float64)),
}


@pytest.mark.parametrize("case", list(ORTH_ERRORS))
def test_orthogonal_errors(case):
    same_error(ORTH_ERRORS[case])


# the differentiable kernels behind the orthogonal maps
def skew(*shape, scale=1.0, seed=0):
    a = arr(*shape, seed=seed) * scale
    return a - np.swapaxes(a, -1, -2)


EXPM_CASES = [("small", [arr(3, 3, seed=1) * 0.1]), ("unit", [arr(4, 4, seed=2)]),
              ("large_norm_squaring", [arr(4, 4, seed=3) * 6.0]), ("skew", [skew(5, 5, scale=2.0)]),
              ("batched_mixed_norms", [np.stack([arr(3, 3, seed=4) * 0.01, arr(3, 3, seed=5) * 10.0])]),
              ("zeros", [np.zeros((3, 3))]), ("1x1", [arr(1, 1, seed=6)]), ("empty", [np.zeros((0, 0))]),
              ("empty_batch", [np.zeros((0, 2, 2))]), ("noncontig", [arr(4, 4, seed=7).T])]


@pytest.mark.parametrize("dt", F64_32)
@pytest.mark.parametrize("name,inputs", EXPM_CASES)
def test_matrix_exp_kernel(name, inputs, dt):
    # float32: the squarings grow the BLAS's rounding with the result, so atol scales with its largest entry
    scale = np.abs(torch.linalg.matrix_exp(torch.from_numpy(inputs[0])).numpy()).max(initial=1.0)
    tol = dict(rtol=1e-11, atol=1e-12) if dt == "float64" else dict(rtol=2e-5, atol=max(2e-5, 1e-6 * scale))
    check(lambda t, a: t.linalg.matrix_exp(a), inputs, dtypes=[dt], tol=tol)


def test_matrix_exp_double_backward():
    a = ember.tensor(arr(3, 3, seed=8) * 0.7, requires_grad=True)
    assert ember.autograd.gradgradcheck(ember.linalg.matrix_exp, (a,))


@pytest.mark.parametrize("shape", [(2, 3), (3,), ()])
def test_matrix_exp_shape_errors(shape):
    same_error(lambda lib: lib.linalg.matrix_exp(lib.zeros(shape)))


def test_matrix_exp_nonfinite_input_does_not_crash():
    a = np.full((2, 2), np.nan)
    assert_same(ember.matrix_exp(ember.tensor(a)), torch.matrix_exp(torch.tensor(a)))


@pytest.mark.parametrize("dt", F64_32)
@pytest.mark.parametrize("shape,k", [((5, 3), 3), ((4, 4), 4), ((5, 3), 2), ((2, 6, 4), 4)])
def test_householder_product_kernel(shape, k, dt):
    tau = np.random.default_rng(1).uniform(0.5, 1.5, shape[:-2] + (k,))
    tol = None if dt == "float64" else dict(rtol=1e-4, atol=2e-5)
    check(lambda t, A, tau: t.linalg.householder_product(A, tau),
          [arr(*shape, seed=2), tau], dtypes=[dt], tol=tol)


# ---- parametrizations.weight_norm / spectral_norm ------------------------------------------------------------------
@pytest.mark.parametrize("dt", F64_32)
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None), ("conv2d", 0),
                                      ("conv2d", -2), ("convT2d", 1)])
def test_param_weight_norm(kind, dim, dt):
    e, t, x = build(kind, dt, lambda lib, m: lib.nn.utils.parametrizations.weight_norm(m, dim=dim))
    keys_same(e, t)
    assert_same(e.parametrizations.weight.original0, t.parametrizations.weight.original0)
    run_pair(e, t, x)


def test_param_weight_norm_loads_legacy_state_dict_and_removes():
    legacy = quiet(lambda: torch.nn.utils.weight_norm(torch.nn.Linear(5, 4, dtype=torch.float64), dim=1))
    sd = legacy.state_dict()

    def go(lib):
        m = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(5, 4, dtype=lib.float64), dim=1)
        m.load_state_dict(OrderedDict((k, lib.from_numpy(v.numpy().copy())) for k, v in sd.items()))
        w = m.weight.detach().clone()
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
        return w, m.weight, list(m.state_dict()), type(m).__name__
    same(go)


PSN_CASES = [("linear", {}), ("linear", {"n_power_iterations": 2, "eps": 1e-3}), ("conv2d", {"dim": 1}),
             ("convT2d", {}), ("conv1d", {"dim": -1})]


@pytest.mark.parametrize("dt", F64_32)
@pytest.mark.parametrize("kind,kw", PSN_CASES)
def test_param_spectral_norm_step_by_step(kind, kw, dt):
    e, t, x = build(kind, dt, lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m, **kw))
    keys_same(e, t)
    for _ in range(3):
        run_pair(e, t, x)
        buffers_same(e, t)
    e.eval()
    t.eval()
    u = e.parametrizations.weight[0]._u.detach().numpy().copy()
    run_pair(e, t, x)
    np.testing.assert_array_equal(e.parametrizations.weight[0]._u.detach().numpy(), u)


def test_param_spectral_norm_converges_to_sigma_max():
    m = ember.nn.utils.parametrizations.spectral_norm(ember.nn.Linear(6, 4, dtype=ember.float64))
    for _ in range(30):
        w = m.weight
    np.testing.assert_allclose(np.linalg.norm(w.detach().numpy(), 2), 1.0, rtol=1e-6)


def test_param_spectral_norm_vector_path():
    e, t, x = build("linear", wrap=lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m, "bias"))
    keys_same(e, t)
    run_pair(e, t, x)


@pytest.mark.parametrize("case", ["dim_out_of_range", "zero_iterations", "no_tensor"])
def test_param_spectral_norm_errors(case):
    def go(lib):
        m = lib.nn.Linear(3, 2)
        if case == "dim_out_of_range":
            lib.nn.utils.parametrizations.spectral_norm(m, dim=2)
        elif case == "zero_iterations":
            lib.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=0)
        else:
            lib.nn.utils.parametrizations.spectral_norm(m, "kernel")
    same_error(go)


# ---- fusion ------------------------------------------------------------------------------------------------------
FUSE_CONV = [("conv1d", "Conv1d", "BatchNorm1d", (2, 3, 7), True, True, False),
             ("conv2d", "Conv2d", "BatchNorm2d", (2, 3, 5, 6), True, True, False),
             ("conv2d_nobias", "Conv2d", "BatchNorm2d", (2, 3, 5, 5), False, True, False),
             ("conv2d_noaffine", "Conv2d", "BatchNorm2d", (2, 3, 5, 5), True, False, False),
             ("conv3d", "Conv3d", "BatchNorm3d", (1, 2, 4, 4, 4), True, True, False),
             ("convT2d", "ConvTranspose2d", "BatchNorm2d", (2, 3, 4, 4), True, True, True)]


@pytest.mark.parametrize("name,conv_cls,bn_cls,x_shape,bias,affine,transpose", FUSE_CONV)
def test_fuse_conv_bn_eval(name, conv_cls, bn_cls, x_shape, bias, affine, transpose):
    x = arr(*x_shape, seed=17)

    def make(lib):
        conv = getattr(lib.nn, conv_cls)(x_shape[1], 4, 3, bias=bias, dtype=lib.float64)
        bn = getattr(lib.nn, bn_cls)(4, affine=affine, dtype=lib.float64)
        return lib.nn.Sequential(conv, bn)

    t = make(torch)
    t.train()
    t(torch.tensor(x))   # running statistics that are not the defaults
    if affine:
        with torch.no_grad():
            t[1].weight.copy_(torch.tensor(arr(4, seed=18)))
            t[1].bias.copy_(torch.tensor(arr(4, seed=19)))
    e = sync(t, make(ember))
    e.eval()
    t.eval()
    fe = ember.nn.utils.fuse_conv_bn_eval(e[0], e[1], transpose=transpose)
    ft = torch.nn.utils.fuse_conv_bn_eval(t[0], t[1], transpose=transpose)
    assert type(fe).__name__ == type(ft).__name__
    assert_same(fe.weight, ft.weight)
    assert_same(fe.bias, ft.bias)
    assert isinstance(fe.bias, ember.nn.Parameter) and fe.bias.requires_grad == ft.bias.requires_grad
    unfused = e(ember.tensor(x))
    assert_same(fe(ember.tensor(x)), ft(torch.tensor(x)), tol=dict(rtol=1e-10, atol=1e-11))
    np.testing.assert_allclose(fe(ember.tensor(x)).detach().numpy(), unfused.detach().numpy(), rtol=1e-10, atol=1e-11)
    assert e[0].bias is None or e[0].bias is not fe.bias


@pytest.mark.parametrize("bn_features", [5, 1])
def test_fuse_linear_bn_eval(bn_features):
    x = arr(6, 3, seed=20)

    def make(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 5, dtype=lib.float64), lib.nn.BatchNorm1d(bn_features,
                                                                                          dtype=lib.float64))
    t = make(torch)
    if bn_features == 5:
        t(torch.tensor(x))
    e = sync(t, make(ember))
    e.eval()
    t.eval()
    fe = ember.nn.utils.fuse_linear_bn_eval(e[0], e[1])
    ft = torch.nn.utils.fuse_linear_bn_eval(t[0], t[1])
    assert_same(fe.weight, ft.weight)
    assert_same(fe.bias, ft.bias)
    if bn_features == 5:
        np.testing.assert_allclose(fe(ember.tensor(x)).detach().numpy(), e(ember.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("dt", F64_32)
def test_fuse_weights_functions(dt):
    def go(lib):
        w, rm = lib.from_numpy(arr(4, 2, 3, seed=1, dtype=dt)), lib.from_numpy(arr(4, seed=2, dtype=dt))
        rv = lib.from_numpy(np.abs(arr(4, seed=3, dtype=dt)) + 0.5)
        conv = lib.nn.utils.fuse_conv_bn_weights(w, None, rm, rv, 1e-5, None, None)
        lin = lib.nn.utils.fuse_linear_bn_weights(w[:, :, 0], lib.from_numpy(arr(4, seed=4, dtype=dt)), rm, rv,
                                                  1e-3, rv * 2, rm * 3)
        return conv, lin, [p.requires_grad for p in conv + lin]
    same(go)


@pytest.mark.parametrize("case", ["conv_training", "linear_training", "linear_mismatch"])
def test_fuse_errors(case):
    def go(lib):
        if case == "conv_training":
            lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3))
        elif case == "linear_training":
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 3).eval(), lib.nn.BatchNorm1d(3))
        else:
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 3).eval(), lib.nn.BatchNorm1d(4).eval())
    same_error(go)


# ---- gradient clipping ---------------------------------------------------------------------------------------------
def grads_model(lib, grads):
    """Parameters (one without a grad) with the given gradients."""
    params = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(g.shape, dtype=getattr(lib, g.dtype.name)))
        p.grad = lib.from_numpy(g.copy())
        params.append(p)
    params.append(lib.nn.Parameter(lib.zeros(2)))
    return params


GRADS = [arr(3, 4, seed=21), arr(5, seed=22) * 3, arr(2, 2, 2, seed=23)]
GRADS32 = [g.astype("float32") for g in GRADS]
MIXED = [GRADS[0], GRADS32[1], np.zeros((0, 3))]
MIXED_NONEMPTY = MIXED[:2]


@pytest.mark.parametrize("foreach", [None, True, False])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", [1, 2, 3, 2.5, float("inf"), "inf", 0])
@pytest.mark.parametrize("grads", [GRADS, GRADS32, MIXED, MIXED_NONEMPTY], ids=["f64", "f32", "mixed", "mixed2"])
def test_clip_grad_norm(grads, norm_type, max_norm, foreach):
    if grads is MIXED and float(norm_type) == float("inf"):
        same_error(lambda lib: lib.nn.utils.clip_grad_norm_(grads_model(lib, grads), max_norm, norm_type),
                          exact=False)
        return

    def go(lib):
        params = grads_model(lib, grads)
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type, foreach=foreach)
        return total, [p.grad for p in params if p.grad is not None]
    same(go)


@settings(max_examples=25, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(0, 4), max_size=3), min_size=1, max_size=4),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]), scale=st.floats(0.01, 100), seed=st.integers(0, 99))
def test_clip_grad_norm_hypothesis(shapes, norm_type, scale, seed):
    grads = [np.asarray(arr(*s, seed=seed + i) * scale) for i, s in enumerate(shapes)]
    if norm_type == float("inf") and any(0 in s for s in shapes):
        same_error(lambda lib: lib.nn.utils.clip_grad_norm_(grads_model(lib, grads), 1.0, norm_type), exact=False)
        return
    same(lambda lib: (lib.nn.utils.clip_grad_norm_(gs := grads_model(lib, grads), 1.0, norm_type),
                      [p.grad for p in gs if p.grad is not None]))


def test_clip_grad_norm_single_tensor_and_empty():
    def go(lib):
        p = lib.nn.Parameter(lib.zeros(3))
        p.grad = lib.tensor([3.0, 4.0, 0.0])
        single = lib.nn.utils.clip_grad_norm_(p, 1.0)
        empty = lib.nn.utils.clip_grad_norm_([], 1.0)
        no_grads = lib.nn.utils.clip_grad_norm_([lib.nn.Parameter(lib.zeros(2))], 1.0)
        return single, p.grad, empty, no_grads
    same(go)


def test_clip_grad_norm_empty_generator_warns():
    def go(lib):
        with pytest.warns(UserWarning) as rec:
            lib.nn.utils.clip_grad_norm_((p for p in []), 1.0)
        return [str(w.message) for w in rec]
    same(go)


def test_clip_grad_norm_deprecated_alias():
    def go(lib):
        params = grads_model(lib, GRADS)
        with pytest.warns(FutureWarning) as rec:
            total = lib.nn.utils.clip_grad_norm(params, 0.1)
        return total, [p.grad for p in params[:3]], [str(w.message) for w in rec]
    same(go)


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
@pytest.mark.parametrize("norm_type", [1, 2, float("inf")])
def test_clip_grad_norm_nonfinite(bad, norm_type):
    grads = [GRADS[0].copy(), GRADS[1]]
    grads[0][1, 2] = bad

    def raising(lib):
        lib.nn.utils.clip_grad_norm_(grads_model(lib, grads), 1.0, norm_type, error_if_nonfinite=True)
    same_error(raising)

    def scaling(lib):
        params = grads_model(lib, grads)
        return lib.nn.utils.clip_grad_norm_(params, 1.0, norm_type), [p.grad for p in params[:2]]
    same(scaling)


@pytest.mark.parametrize("clip_value", [0.3, 2, 100.0, -0.5])
@pytest.mark.parametrize("grads", [GRADS, MIXED], ids=["f64", "mixed"])
def test_clip_grad_value(grads, clip_value):
    def go(lib):
        params = grads_model(lib, grads)
        out = lib.nn.utils.clip_grad_value_(params, clip_value, foreach=True)
        return out, [p.grad for p in params if p.grad is not None]
    same(go)
    same(lambda lib: (lib.nn.utils.clip_grad_value_(p := grads_model(lib, grads)[0], clip_value), p.grad))


@pytest.mark.parametrize("norm_type", [1, 2, float("inf")])
def test_get_total_norm_and_clip_grads_with_norm(norm_type):
    def go(lib):
        params = grads_model(lib, MIXED if norm_type != float("inf") else MIXED_NONEMPTY)
        grads = [p.grad for p in params if p.grad is not None]
        total = lib.nn.utils.get_total_norm(grads, norm_type)
        single = lib.nn.utils.get_total_norm(grads[0], norm_type)
        lib.nn.utils.clip_grads_with_norm_(params, 0.7, total)
        lib.nn.utils.clip_grads_with_norm_(params[0], 100.0, single)
        return total, single, grads
    same(go)


def test_clipping_records_no_graph():
    p = ember.nn.Parameter(ember.zeros(3))
    p.grad = ember.tensor([3.0, 4.0, 0.0], requires_grad=True)
    total = ember.nn.utils.clip_grad_norm_(p, 1.0)
    assert not total.requires_grad


# ---- parameters <-> vector ------------------------------------------------------------------------------------------
def test_parameters_to_vector_values_and_grads():
    inputs = [arr(3, 4, seed=24), arr(5, seed=25), arr(2, 3, seed=26)[:, 1:], np.asarray(arr(seed=27))]
    check(lambda t, *ps: t.nn.utils.parameters_to_vector(ps), inputs, dtypes=list(F64_32))


def test_parameters_to_vector_noncontiguous_error():
    check_raises(lambda lib: lib.nn.utils.parameters_to_vector([lib.zeros(3, 2).t()]), match="view size")


def test_vector_to_parameters():
    def go(lib):
        m = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Conv1d(2, 2, 2))
        vec = lib.arange(float(sum(p.numel() for p in m.parameters())))
        lib.nn.utils.vector_to_parameters(vec, m.parameters())
        return list(m.parameters()), lib.nn.utils.parameters_to_vector(m.parameters())
    same(go)


@pytest.mark.parametrize("vec", [[1.0, 2.0], np.zeros(2), 3.0])
def test_vector_to_parameters_type_error(vec):
    same_error(lambda lib: lib.nn.utils.vector_to_parameters(vec, [lib.nn.Parameter(lib.zeros(2))]))


# ---- stateless.functional_call, skip_init, memory format, namespace ------------------------------------------------
def tied_model(lib):
    m = lib.nn.Sequential(lib.nn.Linear(3, 3, dtype=lib.float64), lib.nn.Linear(3, 3, dtype=lib.float64))
    m[1].weight = m[0].weight
    m.register_buffer("offset", lib.ones(3, dtype=lib.float64))
    return m


@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("strict", [False, True])
def test_functional_call(tie, strict):
    e, t = pair(tied_model)
    x = arr(2, 3, seed=28)

    def go(lib, m):
        new = {"0.weight": lib.from_numpy(arr(3, 3, seed=29)), "0.bias": lib.zeros(3, dtype=lib.float64)}
        if strict:
            new.update({"1.bias": lib.ones(3, dtype=lib.float64), "offset": lib.zeros(3, dtype=lib.float64)})
            if not tie:
                new["1.weight"] = new["0.weight"]
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(m, new, (lib.tensor(x),), tie_weights=tie, strict=strict)
        return out, [str(w.message) for w in rec if w.category is FutureWarning], m(lib.tensor(x))
    compare(norm(go(ember, e)), norm(go(torch, t)))


@pytest.mark.parametrize("case", ["strict_missing", "tied_conflict"])
def test_functional_call_errors(case):
    def go(lib):
        m = tied_model(lib)
        new = {"0.weight": lib.zeros(3, 3, dtype=lib.float64)}
        if case == "tied_conflict":
            new["1.weight"] = lib.ones(3, 3, dtype=lib.float64)
        quiet(lambda: lib.nn.utils.stateless.functional_call(m, new, lib.zeros(1, 3, dtype=lib.float64),
                                                              strict=case == "strict_missing"))
    same_error(go)


def test_functional_call_gradients_reach_given_tensors():
    e, t = pair(tied_model)
    x = arr(2, 3, seed=30)
    w = arr(3, 3, seed=31)
    grads = []
    for lib, m in ((ember, e), (torch, t)):
        wt = lib.tensor(w, requires_grad=True)
        quiet(lambda: lib.nn.utils.stateless.functional_call(m, {"0.weight": wt}, lib.tensor(x))).sum().backward()
        grads.append(wt.grad)
    assert_same(*grads)
    assert e[0].weight.grad is None and t[0].weight.grad is None


def test_skip_init_and_memory_format():
    def go(lib):
        m = lib.nn.utils.skip_init(lib.nn.Linear, 4, out_features=2, bias=False)
        conv = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 2), lib.nn.Sequential(lib.nn.ConvTranspose2d(3, 2, 2)))
        before = [p.detach().clone() for p in conv.parameters()]
        lib.nn.utils.convert_conv2d_weight_memory_format(conv, lib.channels_last)
        lib.nn.utils.convert_conv3d_weight_memory_format(conv, lib.channels_last_3d)
        return type(m).__name__, m.weight.shape, m.bias, [n for n, _ in m.named_parameters()], \
            [(a == b).all() for a, b in zip(before, conv.parameters())]
    same(go)


@pytest.mark.parametrize("cls", ["list", "no_device"])
def test_skip_init_errors(cls):
    def go(lib):
        lib.nn.utils.skip_init(list if cls == "list" else lib.nn.ReLU)
    same_error(go, exact=cls != "list")


def test_namespace_matches_torch():
    assert sorted(ember.nn.utils.__all__) == sorted(torch.nn.utils.__all__)
    for mod in ("parametrize", "parametrizations", "stateless", "weight_norm", "spectral_norm", "fusion",
                "clip_grad", "convert_parameters"):
        t_all = getattr(getattr(torch.nn.utils, mod, None), "__all__", None)
        if mod in ("weight_norm", "spectral_norm"):
            t_all = getattr(__import__(f"torch.nn.utils.{mod}", fromlist=["x"]), "__all__")
            e_all = getattr(__import__(f"ember.nn.utils.{mod}", fromlist=["x"]), "__all__")
        else:
            e_all = getattr(getattr(ember.nn.utils, mod), "__all__", None)
        if t_all is not None:
            assert set(t_all) <= set(e_all), mod


def test_functional_normalize_out_is_written():
    def go(lib):
        out = lib.zeros(3, dtype=lib.float64)
        res = lib.nn.functional.normalize(lib.tensor([3.0, 4.0, 0.0], dtype=lib.float64), dim=0, out=out)
        out2 = lib.zeros(2, 2)
        res2 = lib.nn.functional.normalize(lib.tensor([[1.0, 2.0], [0.0, 0.0]]), p=1.0, dim=1, out=out2)
        return out, res is out, out2, res2 is out2
    same(go)


@pytest.mark.parametrize("fn", [
    lambda t: t.nn.functional.normalize(t.ones(2, requires_grad=True), dim=0, out=t.zeros(2)),
    lambda t: t.nn.functional.normalize(t.ones(2), dim=0, out=t.zeros(2, dtype=t.int64)),
])
def test_functional_normalize_out_errors(fn):
    same_error(fn)
