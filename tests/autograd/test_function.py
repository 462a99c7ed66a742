"""Custom autograd.Function against torch: the same Function classes are defined for both libraries."""
import pytest

from agtools import arr, leaf, run_both, raises_like_torch

X = arr(3, 4)
Y = arr(3, 4, seed=1)
G = arr(3, 4, seed=2)


def functions(lib):
    """The custom Functions of the tests, defined against `lib` exactly as a user would write them."""
    F = lib.autograd.Function

    class Exp(F):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out

    class MulAdd(F):
        """x * y + k with a non-tensor argument k; records needs_input_grad."""
        seen = []

        @staticmethod
        def forward(ctx, x, k, y):
            ctx.save_for_backward(x, y)
            ctx.k = k
            MulAdd.seen.append(("forward", ctx.needs_input_grad, lib.is_grad_enabled()))
            return x * y + k

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            MulAdd.seen.append(("backward", ctx.needs_input_grad, ctx.k))
            gx = g * y if ctx.needs_input_grad[0] else None
            gy = g * x if ctx.needs_input_grad[2] else None
            return gx, None, gy

    class Cube(F):
        """Differentiable backward (written with lib ops), so double backward works."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    class SinCos(F):
        """Two outputs."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, ga, gb):
            (x,) = ctx.saved_tensors
            return ga * x.cos() - gb * x.sin()

    class NoMaterialize(F):
        """set_materialize_grads(False): backward sees None for unused outputs."""
        seen = []

        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            NoMaterialize.seen.append((ga is None, gb is None))
            g = None
            if ga is not None:
                g = ga * 2
            if gb is not None:
                g = gb * 3 if g is None else g + gb * 3
            return g

    class Materialize(F):
        """Default: unused outputs get zero gradients."""
        seen = []

        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            Materialize.seen.append((ga, gb))
            return ga * 2 + gb * 3

    class Sort(F):
        """mark_non_differentiable on an integer-valued index output."""

        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort(dim=1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return values, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            (idx,) = ctx.saved_tensors
            return lib.zeros_like(g).scatter(1, idx, g)

    class NonDiffFloat(F):
        """mark_non_differentiable on a float output."""

        @staticmethod
        def forward(ctx, x):
            mask = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        @staticmethod
        def backward(ctx, g, g_mask):
            return g * 2

    class MulInplace(F):
        """In-place custom function: mark_dirty."""

        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Identity(F):
        """Returns its input as-is (torch makes the output a view of it)."""

        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    class OnceExp(F):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out

    class Scale(F):
        """setup_context style: forward without ctx, with a default argument."""

        @staticmethod
        def forward(x, w, alpha=2.0):
            return x * w * alpha

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w, alpha = inputs
            ctx.save_for_backward(x, w)
            ctx.alpha = alpha

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w * ctx.alpha, g * x * ctx.alpha, None

    class NoSave(F):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class AccessEmptySaved(F):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            assert ctx.saved_tensors == ()
            return g * 2

    class Kwarg(F):
        @staticmethod
        def forward(ctx, x, k=2.0):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * 7, None

    return {c.__name__: c for c in (Exp, MulAdd, Cube, SinCos, NoMaterialize, Materialize, Sort, NonDiffFloat,
                                     MulInplace, Identity, OnceExp, Scale, NoSave, AccessEmptySaved, Kwarg)}


# ---- programs returning values to compare -----------------------------------------------------------------------
def _save_output(lib):
    f = functions(lib)
    x = leaf(lib, X)
    y = f["Exp"].apply(x)
    y.backward(lib.tensor(G))
    return y, x.grad, y.grad_fn.name(), type(y.grad_fn).__name__


def _needs_input_grad_and_non_tensor_arg(lib):
    f = functions(lib)
    x, y = leaf(lib, X), leaf(lib, Y, requires_grad=False)
    out = f["MulAdd"].apply(x, 1.5, y)
    out.backward(lib.tensor(G))
    return out, x.grad, y.grad, f["MulAdd"].seen


def _needs_input_grad_second_only(lib):
    f = functions(lib)
    x, y = leaf(lib, X, requires_grad=False), leaf(lib, Y)
    out = f["MulAdd"].apply(x, -1, y)
    (out * out).sum().backward()
    return y.grad, f["MulAdd"].seen


def _no_input_requires_grad(lib):
    f = functions(lib)
    x = lib.tensor(X)
    y = f["Exp"].apply(x)
    return y, y.requires_grad, y.grad_fn is None, f["MulAdd"].apply(x, 2, x).requires_grad


def _under_no_grad(lib):
    f = functions(lib)
    x = leaf(lib, X)
    with lib.no_grad():
        y = f["Exp"].apply(x)
    return y, y.requires_grad, y.grad_fn is None


def _double_backward(lib):
    f = functions(lib)
    x = leaf(lib, X)
    y = f["Cube"].apply(x).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    (gg,) = lib.autograd.grad((g * lib.tensor(G)).sum(), x)
    return g.detach(), gg


def _multiple_outputs(lib):
    f = functions(lib)
    x = leaf(lib, X)
    a, b = f["SinCos"].apply(x)
    (a * 2 + b * b).sum().backward()
    return a, b, x.grad, a.output_nr, b.output_nr, a.grad_fn is b.grad_fn


def _materialize_zero_grads(lib):
    f = functions(lib)
    x = leaf(lib, X)
    a, b = f["Materialize"].apply(x)
    a.sum().backward()
    ((ga, gb),) = f["Materialize"].seen
    return x.grad, ga, gb


def _no_materialize(lib):
    f = functions(lib)
    x = leaf(lib, X)
    a, b = f["NoMaterialize"].apply(x)
    b.backward(lib.tensor(G))
    return x.grad, f["NoMaterialize"].seen


def _mark_non_differentiable(lib):
    f = functions(lib)
    x = leaf(lib, X)
    values, idx = f["Sort"].apply(x)
    values.backward(lib.tensor(G))
    return values, idx, values.requires_grad, idx.requires_grad, idx.grad_fn is None, x.grad


def _mark_non_differentiable_float(lib):
    f = functions(lib)
    x = leaf(lib, X)
    out, mask = f["NonDiffFloat"].apply(x)
    (out * mask).sum().backward()
    return mask, mask.requires_grad, x.grad


def _mark_dirty(lib):
    f = functions(lib)
    x = leaf(lib, X)
    a = x * 1
    v0 = a._version
    out = f["MulInplace"].apply(a)
    (out * out).sum().backward()
    return out is a, v0, a._version, out.grad_fn.name(), a, x.grad


def _mark_dirty_no_grad_input(lib):
    f = functions(lib)
    a = lib.tensor(X)
    out = f["MulInplace"].apply(a)
    return out is a, a._version, out.requires_grad, a


def _identity_returns_view(lib):
    f = functions(lib)
    x = leaf(lib, X)
    out = f["Identity"].apply(x)
    out.backward(lib.tensor(G))
    return out is x, out._base is x, out.grad_fn.name(), x.grad


def _once_differentiable_first_order(lib):
    f = functions(lib)
    x = leaf(lib, X)
    f["OnceExp"].apply(x).backward(lib.tensor(G))
    return x.grad


def _once_differentiable_create_graph_result(lib):
    f = functions(lib)
    x = leaf(lib, X)
    (g,) = lib.autograd.grad(f["OnceExp"].apply(x).sum(), x, create_graph=True)
    return g.requires_grad, g.grad_fn.name() if g.grad_fn is not None else None, g.detach()


def _setup_context_style(lib):
    f = functions(lib)
    x, w = leaf(lib, X), leaf(lib, Y)
    out = f["Scale"].apply(x, w)
    out2 = f["Scale"].apply(x, w, alpha=0.5)
    (out * out2).sum().backward()
    return out, out2, x.grad, w.grad


def _kwargs_old_style(lib):
    f = functions(lib)
    x = leaf(lib, X)
    f["Kwarg"].apply(x, k=3.0).sum().backward()
    return x.grad


def _no_saved_tensors_backward_twice_access_empty(lib):
    f = functions(lib)
    x = leaf(lib, X)
    y = f["NoSave"].apply(x).sum()
    y.backward()
    y.backward()
    return x.grad


def _retain_graph_custom(lib):
    f = functions(lib)
    x = leaf(lib, X)
    y = f["Exp"].apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


def _custom_in_larger_graph(lib):
    f = functions(lib)
    x, w = leaf(lib, X), leaf(lib, arr(4, 2, seed=7))
    h = f["Exp"].apply(x @ w * 0.1)
    a, b = f["SinCos"].apply(h)
    (f["Cube"].apply(a) + b).sum().backward()
    return x.grad, w.grad


def _float32(lib):
    f = functions(lib)
    x = leaf(lib, X.astype("float32"))
    y = f["Cube"].apply(x)
    y.backward(lib.tensor(G.astype("float32")))
    return y, x.grad


def _custom_node_next_functions(lib):
    f = functions(lib)
    x = leaf(lib, X)
    y = leaf(lib, Y, requires_grad=False)
    node = f["MulAdd"].apply(x * 1, 2.0, y).grad_fn
    return [(n.name() if n is not None else None, nr) for n, nr in node.next_functions]


CASES = [_save_output, _needs_input_grad_and_non_tensor_arg, _needs_input_grad_second_only, _no_input_requires_grad,
         _under_no_grad, _double_backward, _multiple_outputs, _materialize_zero_grads, _no_materialize,
         _mark_non_differentiable, _mark_non_differentiable_float, _mark_dirty, _mark_dirty_no_grad_input,
         _identity_returns_view, _once_differentiable_first_order, _once_differentiable_create_graph_result,
         _setup_context_style, _kwargs_old_style, _no_saved_tensors_backward_twice_access_empty,
         _retain_graph_custom, _custom_in_larger_graph, _float32, _custom_node_next_functions]


@pytest.mark.parametrize("prog", CASES, ids=lambda f: f.__name__.strip("_"))
def test_custom_function_matches_torch(prog):
    run_both(prog)


# ---- errors ----------------------------------------------------------------------------------------------------
def _once_differentiable_double_backward(lib):
    f = functions(lib)
    x = leaf(lib, X)
    v = leaf(lib, G)
    (g,) = lib.autograd.grad(f["OnceExp"].apply(x), x, grad_outputs=v, create_graph=True)
    g.sum().backward()


def _once_differentiable_grad_outputs_no_grad(lib):
    f = functions(lib)
    x = leaf(lib, X)
    (g,) = lib.autograd.grad(f["OnceExp"].apply(x).sum(), x, create_graph=True)
    g.sum().backward()


def _second_backward_saved(lib):
    f = functions(lib)
    y = f["Exp"].apply(leaf(lib, X)).sum()
    y.backward()
    y.backward()


def _second_backward_saved_tensors_empty(lib):
    f = functions(lib)
    y = f["AccessEmptySaved"].apply(leaf(lib, X)).sum()
    y.backward()
    y.backward()


def _mark_dirty_leaf(lib):
    f = functions(lib)
    f["MulInplace"].apply(leaf(lib, X))


def _inplace_on_identity_output(lib):
    f = functions(lib)
    out = f["Identity"].apply(leaf(lib, X) * 1)
    out.add_(1)


def _saved_output_modified(lib):
    f = functions(lib)
    x = leaf(lib, X)
    y = f["Exp"].apply(x)
    y.add_(1)
    y.sum().backward()


def _wrong_number_of_grads(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    Bad.apply(leaf(lib, X)).sum().backward()


def _too_few_grads(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    Bad.apply(leaf(lib, X), leaf(lib, Y)).sum().backward()


def _grad_for_non_tensor(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    Bad.apply(leaf(lib, X), 3.0).sum().backward()


def _wrong_shape_grad(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return lib.ones(4, 3, dtype=g.dtype)

    Bad.apply(leaf(lib, X)).sum().backward()


def _non_tensor_grad(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 3

    Bad.apply(leaf(lib, X)).sum().backward()


def _save_non_tensor(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g

    Bad.apply(leaf(lib, X))


def _no_backward(lib):
    class NoBackward(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    NoBackward.apply(leaf(lib, X)).sum().backward()


def _error_in_backward(lib):
    class Boom(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom in backward")

    Boom.apply(leaf(lib, X)).sum().backward()


ERRORS = [
    (_once_differentiable_double_backward, "trying to differentiate twice a function that was marked with "
                                           "@once_differentiable"),
    (_once_differentiable_grad_outputs_no_grad, "element 0 of tensors does not require grad"),
    (_second_backward_saved, "Trying to backward through the graph a second time"),
    (_second_backward_saved_tensors_empty, "Trying to backward through the graph a second time"),
    (_mark_dirty_leaf, "a leaf Variable that requires grad has been used in an in-place operation"),
    (_inplace_on_identity_output, "Output 0 of Identity is a view and is being modified inplace. This view was "
                                  "created inside a custom Function"),
    (_saved_output_modified, "one of the variables needed for gradient computation has been modified by an "
                             "inplace operation: \\[torch.DoubleTensor \\[3, 4\\]\\], which is output 0 of "
                             "Exp, is at version 1; expected version 0 instead. Hint: enable anomaly detection"),
    (_wrong_number_of_grads, "function BadBackward returned an incorrect number of gradients \\(expected 1, got 2\\)"),
    (_too_few_grads, "function BadBackward returned an incorrect number of gradients \\(expected 2, got 1\\)"),
    (_grad_for_non_tensor, "function BadBackward returned a gradient different than None at position 2, but the "
                           "corresponding forward input was not a Variable"),
    (_wrong_shape_grad, "Function BadBackward returned an invalid gradient at index 0 - got \\[4, 3\\] but expected "
                        "shape compatible with \\[3, 4\\]"),
    (_non_tensor_grad, "expected Variable or None \\(got int\\)"),
    (_save_non_tensor, "save_for_backward can only save variables, but argument 1 is of type int"),
    (_no_backward, "You must implement either the backward or vjp method for your custom autograd.Function"),
    (_error_in_backward, "boom in backward"),
]


@pytest.mark.parametrize("prog,match", ERRORS, ids=[f.__name__.strip("_") for f, _ in ERRORS])
def test_custom_function_errors_match_torch(prog, match):
    raises_like_torch(prog, match)


def test_no_forward_raises_not_implemented():
    def prog(lib):
        class NoForward(lib.autograd.Function):
            @staticmethod
            def backward(ctx, g):
                return g

        NoForward.apply(leaf(lib, X))

    raises_like_torch(prog, "You must implement the forward function for custom autograd.Function")


def test_function_node_is_reachable_from_output():
    for lib_name in ("torch", "ember"):
        import importlib
        lib = importlib.import_module(lib_name)
        f = functions(lib)
        x = leaf(lib, X)
        y = f["Exp"].apply(x)
        assert isinstance(y.grad_fn, lib.autograd.function.BackwardCFunction)
        assert isinstance(y.grad_fn, lib.autograd.function.FunctionCtx)
        assert y.grad_fn.next_functions[0][0].variable is x
        assert isinstance(y.grad_fn, f["Exp"]._backward_cls)


def test_legacy_instantiation_warns_and_call_raises_like_torch():
    def prog(lib):
        f = functions(lib)
        with pytest.warns(DeprecationWarning, match="should not be instantiated"):
            inst = f["Exp"]()
        inst(leaf(lib, X))

    raises_like_torch(prog, "Legacy autograd function with non-static forward method is deprecated")


def test_calling_nodes_like_torch():
    def builtin(lib):
        x = leaf(lib, X)
        return (x * lib.tensor(Y)).grad_fn(lib.tensor(G))

    def custom(lib):
        f = functions(lib)
        f["Exp"].apply(leaf(lib, X)).grad_fn(lib.tensor(G))

    run_both(builtin)
    raises_like_torch(custom, "'ExpBackward' object is not callable")
