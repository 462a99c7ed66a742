"""Containers against torch: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (APIs, reprs, errors)."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

from .nnparity import arr, same, same_error, pair, run_pair


def lins(t, *sizes):
    """Linear layers chaining the given sizes, with distinct shapes so that reprs tell them apart."""
    return [t.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]


def names(m):
    return [n for n, _ in m.named_children()]


def reprs(m):
    return [repr(x) for x in m]


# ---- Sequential ------------------------------------------------------------------------------------------------
def seq(t):
    return t.nn.Sequential(*lins(t, 1, 2, 3, 4, 5))


def _seq_ordered(t):
    s = t.nn.Sequential(OrderedDict([("first", t.nn.Linear(1, 2)), ("act", t.nn.Identity()),
                                     ("last", t.nn.Linear(2, 3))]))
    return names(s), repr(s), repr(s[1:]), repr(s[-1]), list(s.state_dict())


def _seq_setitem(t):
    s = seq(t)
    s[1] = t.nn.Identity()
    s[-1] = t.nn.Linear(9, 9)
    return repr(s)


def _seq_delitem(t):
    s = seq(t)
    del s[1]
    out = [names(s), reprs(s)]
    del s[-1]
    out.append(reprs(s))
    del s[0:2]
    out.append((names(s), reprs(s)))
    return out


def _seq_delitem_ordered(t):
    s = t.nn.Sequential(OrderedDict([("a", t.nn.Linear(1, 2)), ("b", t.nn.Linear(2, 3)), ("c", t.nn.Linear(3, 4))]))
    del s[0]
    return names(s), reprs(s)


def _seq_pop(t):
    s = seq(t)
    popped = s.pop(2)
    return repr(popped), names(s), reprs(s)


def _seq_insert(t):
    s = seq(t)
    s.insert(0, t.nn.Identity())
    s.insert(-1, t.nn.Linear(7, 7))
    s.insert(len(s), t.nn.Linear(8, 8))
    return names(s), reprs(s)


def _seq_append_extend(t):
    s = t.nn.Sequential()
    r1 = s.append(t.nn.Linear(1, 2))
    r2 = s.extend([t.nn.Linear(2, 3), t.nn.Identity()])
    s.extend(t.nn.Sequential(t.nn.Linear(3, 1)))
    return r1 is s, r2 is s, names(s), reprs(s)


def _seq_add(t):
    a, b = seq(t), t.nn.Sequential(t.nn.Identity())
    c = a + b
    return type(c).__name__, names(c), reprs(c), c[0] is a[0], len(a)


def _seq_iadd(t):
    a = seq(t)
    before = a
    a += t.nn.Sequential(t.nn.Identity(), t.nn.Linear(5, 1))
    return a is before, names(a), reprs(a)


def _seq_mul(t):
    a = t.nn.Sequential(t.nn.Linear(1, 1), t.nn.Identity())
    b = a * 3
    c = 2 * a
    return names(b), reprs(b), b[0] is b[2], names(c), len(a)


def _seq_imul(t):
    a = t.nn.Sequential(t.nn.Linear(1, 1), t.nn.Identity())
    a *= 3
    return names(a), a[0] is a[4], repr(a)


def _seq_forward(t):
    s = t.nn.Sequential(t.nn.Linear(3, 4, dtype=t.float64), t.nn.Identity(), t.nn.Linear(4, 2, dtype=t.float64))
    with t.no_grad():
        for i, p in enumerate(s.parameters()):
            p.copy_(t.tensor(arr(*p.shape, seed=i)))
    return s(t.tensor(arr(5, 3)))


SEQ_CASES = [
    ("len_iter", lambda t: (len(seq(t)), reprs(seq(t)))),
    ("index", lambda t: [repr(seq(t)[i]) for i in (0, 1, 3, -1, -4)]),
    ("index_numpy_int", lambda t: repr(seq(t)[np.int64(2)])),
    ("slice", lambda t: (type(seq(t)[1:3]).__name__, names(seq(t)[1:3]), reprs(seq(t)[::-2]))),
    ("slice_empty", lambda t: repr(seq(t)[5:])),
    ("ordered_dict", _seq_ordered),
    ("setitem", _seq_setitem),
    ("delitem", _seq_delitem),
    ("delitem_ordered", _seq_delitem_ordered),
    ("pop", _seq_pop),
    ("insert", _seq_insert),
    ("append_extend", _seq_append_extend),
    ("add", _seq_add),
    ("iadd", _seq_iadd),
    ("mul", _seq_mul),
    ("imul", _seq_imul),
    ("forward", _seq_forward),
    ("empty_forward", lambda t: t.nn.Sequential()(t.ones(2))),
    ("dir", lambda t: [k for k in dir(seq(t)) if k.isdigit()]),
    ("nested_repr", lambda t: repr(t.nn.Sequential(seq(t), t.nn.Sequential(t.nn.Identity(), seq(t)[:2])))),
    ("empty_repr", lambda t: repr(t.nn.Sequential())),
    ("plain_dict_is_not_ordered", lambda t: names(t.nn.Sequential(t.nn.Linear(1, 1), t.nn.Linear(1, 2)))),
]


@pytest.mark.parametrize("name,fn", SEQ_CASES, ids=[c[0] for c in SEQ_CASES])
def test_sequential(name, fn):
    same(fn)


SEQ_ERRORS = [
    ("index_out_of_range", lambda t: seq(t)[4]),
    ("neg_index_out_of_range", lambda t: seq(t)[-5]),
    ("index_str", lambda t: seq(t)["0"]),
    ("setitem_out_of_range", lambda t: seq(t).__setitem__(7, t.nn.Identity())),
    ("setitem_not_module", lambda t: seq(t).__setitem__(0, 3)),
    ("delitem_out_of_range", lambda t: seq(t).__delitem__(9)),
    ("insert_not_module", lambda t: seq(t).insert(0, 3)),
    ("insert_out_of_range", lambda t: seq(t).insert(9, t.nn.Identity())),
    ("add_not_sequential", lambda t: seq(t) + [t.nn.Identity()]),
    ("iadd_not_sequential", lambda t: seq(t).__iadd__(t.nn.ModuleList())),
    ("mul_float", lambda t: seq(t) * 2.0),
    ("mul_zero", lambda t: seq(t) * 0),
    ("imul_negative", lambda t: seq(t).__imul__(-1)),
    ("append_not_module", lambda t: seq(t).append(1)),
    ("dict_not_ordered", lambda t: t.nn.Sequential({"a": t.nn.Identity()})),
]


@pytest.mark.parametrize("name,fn", SEQ_ERRORS, ids=[c[0] for c in SEQ_ERRORS])
def test_sequential_errors(name, fn):
    same_error(fn)


# ---- ModuleList ------------------------------------------------------------------------------------------------
def mlist(t):
    return t.nn.ModuleList(lins(t, 1, 2, 3, 4))


def _ml_ops(t):
    m = mlist(t)
    out = [len(m), reprs(m), repr(m[-1]), type(m[1:]).__name__, reprs(m[::2])]
    m[0] = t.nn.Identity()
    m[-1] = t.nn.Linear(5, 5)
    out.append(reprs(m))
    m.append(t.nn.Linear(6, 6))
    m.extend([t.nn.Linear(7, 7)])
    m.insert(1, t.nn.Linear(8, 8))
    out.append((names(m), reprs(m)))
    popped = m.pop(0)
    out.append((repr(popped), names(m)))
    del m[-2]
    del m[1:3]
    out.append((names(m), reprs(m)))
    return out


def _ml_add(t):
    a, b = mlist(t), [t.nn.Identity()]
    c = a + b
    before = a
    a += t.nn.ModuleList([t.nn.Linear(9, 9)])
    return type(c).__name__, names(c), reprs(c), a is before, names(a)


def _ml_repeated_repr(t):
    blocks = [t.nn.Sequential(t.nn.Linear(4, 4), t.nn.Identity()) for _ in range(3)]
    return repr(t.nn.ModuleList(blocks + [t.nn.Linear(4, 2), t.nn.Linear(4, 2), t.nn.Identity()]
                                + [t.nn.Linear(2, 2)]))


def _ml_nested_repr(t):
    class Block(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = t.nn.ModuleList([t.nn.Linear(3, 3) for _ in range(2)])
            self.out = t.nn.Linear(3, 1)

    m = t.nn.Module()
    m.blocks = t.nn.ModuleList([Block() for _ in range(4)])
    m.single = t.nn.ModuleList([t.nn.Identity()])
    m.empty = t.nn.ModuleList()
    return repr(m)


def _ml_params(t):
    m = t.nn.ModuleList([t.nn.Linear(2, 2), None, t.nn.Linear(2, 1)]) if False else mlist(t)
    return [n for n, _ in m.named_parameters()], list(m.state_dict())


def _ml_insert_negative(t):
    m = mlist(t)
    m.insert(-1, t.nn.Identity())
    return names(m), reprs(m)


ML_CASES = [
    ("ops", _ml_ops),
    ("add", _ml_add),
    ("repeated_repr", _ml_repeated_repr),
    ("nested_repr", _ml_nested_repr),
    ("params", _ml_params),
    ("empty", lambda t: (repr(t.nn.ModuleList()), len(t.nn.ModuleList()), list(t.nn.ModuleList()))),
    ("from_generator", lambda t: names(t.nn.ModuleList(t.nn.Identity() for _ in range(3)))),
    ("dir", lambda t: [k for k in dir(mlist(t)) if k.isdigit()]),
]


@pytest.mark.parametrize("name,fn", ML_CASES, ids=[c[0] for c in ML_CASES])
def test_module_list(name, fn):
    same(fn)


ML_ERRORS = [
    ("index_out_of_range", lambda t: mlist(t)[3]),
    ("neg_index_out_of_range", lambda t: mlist(t)[-4]),
    ("index_float", lambda t: mlist(t)[1.0]),
    ("extend_not_iterable", lambda t: mlist(t).extend(3)),
    ("append_not_module", lambda t: mlist(t).append("x")),
    ("not_callable", lambda t: mlist(t)(t.ones(1))),
    ("insert_negative", _ml_insert_negative),  # torch's ModuleList.insert does not wrap negative indices
]


@pytest.mark.parametrize("name,fn", ML_ERRORS, ids=[c[0] for c in ML_ERRORS])
def test_module_list_errors(name, fn):
    same_error(fn)


# ---- ModuleDict ------------------------------------------------------------------------------------------------
def mdict(t):
    return t.nn.ModuleDict({"z": t.nn.Linear(1, 2), "a": t.nn.Identity(), "m": t.nn.Linear(2, 3)})


def _md_ops(t):
    d = mdict(t)
    out = [list(d), list(d.keys()), [repr(v) for v in d.values()], [k for k, _ in d.items()], len(d), "a" in d,
           "q" in d, repr(d["m"])]
    d["new"] = t.nn.Linear(4, 4)
    d.update([("b", t.nn.Identity()), ["a", t.nn.Linear(5, 5)]])
    d.update(OrderedDict([("y", t.nn.Identity()), ("x", t.nn.Identity())]))
    d.update(t.nn.ModuleDict({"w": t.nn.Identity()}))
    out.append((list(d), repr(d)))
    popped = d.pop("z")
    del d["b"]
    out.append((repr(popped), list(d), names(d)))
    d.clear()
    out.append((len(d), repr(d)))
    return out


MD_CASES = [
    ("ops", _md_ops),
    ("repr", lambda t: repr(mdict(t))),
    ("from_pairs", lambda t: list(t.nn.ModuleDict([("b", t.nn.Identity()), ("a", t.nn.Identity())]))),
    ("state_dict", lambda t: list(mdict(t).state_dict())),
    ("iter_is_keys", lambda t: [k for k in mdict(t)]),
]


@pytest.mark.parametrize("name,fn", MD_CASES, ids=[c[0] for c in MD_CASES])
def test_module_dict(name, fn):
    same(fn)


MD_ERRORS = [
    ("missing_key", lambda t: mdict(t)["nope"]),
    ("pop_missing", lambda t: mdict(t).pop("nope")),
    ("update_not_iterable", lambda t: mdict(t).update(3)),
    ("update_element_not_iterable", lambda t: mdict(t).update([3])),
    ("update_element_length", lambda t: mdict(t).update([("a", t.nn.Identity(), 1)])),
    ("set_not_module", lambda t: mdict(t).__setitem__("k", 1.0)),
    ("key_with_dot", lambda t: mdict(t).__setitem__("a.b", t.nn.Identity())),
    ("key_existing_attr", lambda t: mdict(t).__setitem__("training", t.nn.Identity())),
]


@pytest.mark.parametrize("name,fn", MD_ERRORS, ids=[c[0] for c in MD_ERRORS])
def test_module_dict_errors(name, fn):
    same_error(fn)


# ---- ParameterList --------------------------------------------------------------------------------------------
def plist(t):
    return t.nn.ParameterList([t.nn.Parameter(t.ones(2, 3)), t.zeros(4, dtype=t.float64),
                               t.nn.Parameter(t.ones(1), requires_grad=False)])


def _pl_ops(t):
    p = plist(t)
    out = [len(p), [type(x).__name__ for x in p], [x.requires_grad for x in p], [n for n, _ in p.named_parameters()]]
    p.append(t.ones(5))
    p.extend([t.nn.Parameter(t.ones(6)), "text", 3])
    p[0] = t.full((2,), 7.0)
    out.append([type(x).__name__ for x in p])
    out.append([n for n, _ in p.named_parameters()])
    out.append(repr(p))
    sl = p[1:4]
    out.append((type(sl).__name__, len(sl), repr(sl), sl[0] is p[1]))
    out.append((p[-1], p[-2]))
    p += [t.ones(2, 2)]
    out.append((len(p), list(p.state_dict())))
    return out


def _pl_model(t):
    class Mixture(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = t.nn.ParameterList([t.nn.Parameter(t.tensor(arr(3, 3, seed=i))) for i in range(3)])

        def forward(self, x):
            for w in self.ws:
                x = (x @ w).tanh()
            return x

    m = Mixture()
    x = t.tensor(arr(2, 3, seed=9), requires_grad=True)
    m(x).sum().backward()
    return x.grad, [w.grad for w in m.ws], list(m.state_dict())


PL_CASES = [
    ("ops", _pl_ops),
    ("repr", lambda t: repr(plist(t))),
    ("empty_repr", lambda t: repr(t.nn.ParameterList())),
    ("nested_repr", lambda t: repr(t.nn.Sequential(plist(t), t.nn.Linear(1, 1)))),
    ("model", _pl_model),
    ("dir", lambda t: [k for k in dir(plist(t)) if k.isdigit()]),
    ("half_repr", lambda t: repr(t.nn.ParameterList([t.nn.Parameter(t.ones(2, dtype=t.float16))]))),
]


@pytest.mark.parametrize("name,fn", PL_CASES, ids=[c[0] for c in PL_CASES])
def test_parameter_list(name, fn):
    same(fn)


PL_ERRORS = [
    ("index_out_of_range", lambda t: plist(t)[3]),
    ("setitem_out_of_range", lambda t: plist(t).__setitem__(5, t.ones(1))),
    ("extend_tensor", lambda t: plist(t).extend(t.ones(3))),
    ("extend_not_iterable", lambda t: plist(t).extend(5)),
    ("call", lambda t: plist(t)(1)),
    ("int_tensor_param", lambda t: plist(t).append(t.ones(2, dtype=t.int64))),
]


@pytest.mark.parametrize("name,fn", PL_ERRORS)
def test_parameter_list_errors(name, fn):
    same_error(fn)


# ---- ParameterDict --------------------------------------------------------------------------------------------
def pdict(t):
    return t.nn.ParameterDict(OrderedDict([("w", t.nn.Parameter(t.ones(2, 2))), ("b", t.zeros(3)),
                                           ("meta", "not a tensor")]))


def _pd_ops(t):
    d = pdict(t)
    out = [list(d), list(d.keys()), len(d), "w" in d, "q" in d, [type(v).__name__ for v in d.values()],
           [k for k, _ in d.items()], list(reversed(d)), d.get("q", 5), d.get("meta")]
    d["c"] = t.ones(1)
    out.append(type(d["c"]).__name__)
    out.append(type(d.setdefault("e", t.ones(4))).__name__)
    out.append(d.setdefault("w", None) is d["w"])
    d.update({"z": t.ones(1), "y": t.ones(2)})  # a plain dict is merged in sorted key order
    d.update([("x", t.ones(3))])
    out.append((list(d), [n for n, _ in d.named_parameters()]))
    out.append(d.pop("b"))
    out.append(d.popitem()[0])
    del d["c"]
    out.append((list(d), list(d.state_dict())))
    cp = d.copy()
    out.append((type(cp).__name__, list(cp), cp["w"] is d["w"]))
    fk = d.fromkeys(["p", "q"], t.ones(1))
    out.append((list(fk), [type(v).__name__ for v in fk.values()]))
    d.clear()
    out.append((len(d), list(d.named_parameters())))
    return out


def _pd_or(t):
    a = t.nn.ParameterDict({"a": t.ones(1)})
    b = t.nn.ParameterDict({"b": t.ones(2)})
    c = a | b
    a |= b
    return list(c), list(a), type(c).__name__


PD_CASES = [
    ("ops", _pd_ops),
    ("or", _pd_or),
    ("repr", lambda t: repr(pdict(t))),
    ("nested_repr", lambda t: repr(t.nn.ModuleDict({"p": pdict(t), "l": t.nn.Linear(1, 1)}))),
    ("state_dict", lambda t: list(pdict(t).state_dict())),
]


@pytest.mark.parametrize("name,fn", PD_CASES, ids=[c[0] for c in PD_CASES])
def test_parameter_dict(name, fn):
    same(fn)


PD_ERRORS = [
    ("missing", lambda t: pdict(t)["nope"]),
    ("int_key", lambda t: pdict(t).__setitem__(1, t.ones(1))),
    ("int_key_get", lambda t: pdict(t)[1]),
    ("update_not_iterable", lambda t: pdict(t).update(1)),
    ("update_element_length", lambda t: pdict(t).update([("a",)])),
    ("call", lambda t: pdict(t)(1)),
    ("del_missing", lambda t: pdict(t).__delitem__("nope")),
]


@pytest.mark.parametrize("name,fn", PD_ERRORS, ids=[c[0] for c in PD_ERRORS])
def test_parameter_dict_errors(name, fn):
    same_error(fn)


# ---- Container (deprecated) and containers inside models ------------------------------------------------------
def test_container_deprecated():
    def fn(t):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            c = t.nn.Container(a=t.nn.Identity(), b=t.nn.Linear(1, 1))
        return [(type(x.message).__name__, str(x.message)) for x in w], names(c)
    same(fn)


def _stack(t):
    m = t.nn.Module()
    m.seq = t.nn.Sequential(t.nn.Linear(3, 4, dtype=t.float64), t.nn.Identity())
    m.lst = t.nn.ModuleList([t.nn.Linear(4, 4, dtype=t.float64) for _ in range(2)])
    m.dct = t.nn.ModuleDict({"out": t.nn.Linear(4, 2, dtype=t.float64)})
    m.pl = t.nn.ParameterList([t.nn.Parameter(t.ones(2, dtype=t.float64))])
    m.pd = t.nn.ParameterDict({"s": t.nn.Parameter(t.ones(2, dtype=t.float64))})

    def forward(x):
        h = m.seq(x)
        for layer in m.lst:
            h = layer(h).tanh()
        return m.dct["out"](h) * m.pl[0] + m.pd["s"]
    m.forward = forward
    return m


def test_containers_in_a_model_match_torch():
    e, t = pair(_stack)
    run_pair(e, t, arr(5, 3))
