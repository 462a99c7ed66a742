"""nn.utils.rnn against torch: PackedSequence, pack/pad/unpack/unpad, with gradients flowing through them."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from parity import check
from .nnparity import arr, same, same_error
from .test_rnn import torch_one_thread  # noqa: F401  (autouse fixture)

F64_32 = ("float64", "float32")


def U(lib):
    return lib.nn.utils.rnn


def _lengths(lib, lengths, kind):
    if kind == "list":
        return list(lengths)
    if kind == "tensor":
        return lib.tensor(lengths)
    return np.asarray(lengths)


# ---- pack_padded_sequence ----------------------------------------------------------------------------------------
PACK_CASES = [
    ("sorted", (4, 3, 2), [4, 2, 1], False, True, "list"),
    ("sorted_equal", (3, 3, 2), [3, 3, 3], False, True, "tensor"),
    ("sorted_batch_first", (3, 4, 2), [4, 3, 3], True, True, "list"),
    ("unsorted", (4, 3, 2), [2, 4, 1], False, False, "list"),
    ("unsorted_ties", (4, 4, 1), [2, 3, 2, 3], False, False, "tensor"),
    ("unsorted_batch_first", (3, 5, 2), [1, 5, 3], True, False, "numpy"),
    ("shorter_than_padding", (6, 2, 3), [3, 2], False, True, "list"),
    ("no_feature_dim", (4, 3), [4, 2, 1], False, True, "list"),
    ("extra_trailing_dims", (3, 2, 2, 3), [2, 3], False, False, "list"),
    ("single_sequence", (5, 1, 2), [5], False, True, "list"),
    ("noncontig_input", "T", [3, 1, 2], False, False, "list"),
]


@pytest.mark.parametrize("name,shape,lengths,batch_first,enforce,kind", PACK_CASES, ids=[c[0] for c in PACK_CASES])
def test_pack_padded_sequence(name, shape, lengths, batch_first, enforce, kind):
    data = arr(3, 3, 2) if shape == "T" else arr(*shape)

    def fn(t, x):
        x = x.transpose(0, 1) if shape == "T" else x
        p = U(t).pack_padded_sequence(x, _lengths(t, lengths, kind), batch_first=batch_first, enforce_sorted=enforce)
        return p.data, p.batch_sizes, p.sorted_indices if p.sorted_indices is not None else t.tensor(-1), \
            p.unsorted_indices if p.unsorted_indices is not None else t.tensor(-1)
    check(fn, [data], dtypes=F64_32)


def test_pack_padded_float_lengths_tensor():
    check(lambda t, x: U(t).pack_padded_sequence(x, t.tensor([3.0, 2.0]), enforce_sorted=False).batch_sizes,
          [arr(3, 2)], grad=False)


PAD_PACKED_CASES = [
    ("default", {}, False),
    ("batch_first", dict(batch_first=True), True),
    ("padding_value", dict(padding_value=-2.5), False),
    ("total_length", dict(total_length=7), False),
    ("total_length_batch_first_pad", dict(total_length=5, batch_first=True, padding_value=9.0), True),
    ("total_length_equal", dict(total_length=4), False),
]


@pytest.mark.parametrize("enforce", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("name,kw,pack_bf", PAD_PACKED_CASES, ids=[c[0] for c in PAD_PACKED_CASES])
def test_pad_packed_sequence(name, kw, pack_bf, enforce):
    """pack then pad: values, lengths (original batch order) and the gradient back to the padded input."""
    lengths = [4, 3, 1] if enforce else [3, 4, 1]
    shape = (3, 4, 2) if pack_bf else (4, 3, 2)

    def fn(t, x):
        p = U(t).pack_padded_sequence(x, lengths, batch_first=pack_bf, enforce_sorted=enforce)
        return U(t).pad_packed_sequence(p, **kw)
    check(fn, [arr(*shape)], dtypes=F64_32)


def test_pad_packed_int_data():
    check(lambda t, x: U(t).pad_packed_sequence(U(t).pack_sequence([x[:3], x[:1], x[:2]], enforce_sorted=False),
                                                padding_value=-1), [np.arange(12).reshape(4, 3)], grad=False)


# ---- pad_sequence ------------------------------------------------------------------------------------------------
PAD_SEQ_CASES = [
    ("default", {}, [(3, 2), (1, 2), (4, 2)]),
    ("batch_first", dict(batch_first=True), [(3, 2), (1, 2), (4, 2)]),
    ("padding_value", dict(padding_value=7.5), [(2,), (5,), (1,)]),
    ("left", dict(padding_side="left"), [(3, 2), (1, 2), (4, 2)]),
    ("left_batch_first", dict(padding_side="left", batch_first=True, padding_value=-1.0), [(2, 1, 2), (3, 1, 2)]),
    ("right_explicit", dict(padding_side="right", batch_first=True), [(2, 3), (4, 3)]),
    ("equal_lengths", {}, [(2, 2), (2, 2)]),
    ("single", dict(batch_first=True), [(3, 2)]),
    ("empty_sequence", {}, [(0, 2), (3, 2)]),
]


@pytest.mark.parametrize("name,kw,shapes", PAD_SEQ_CASES, ids=[c[0] for c in PAD_SEQ_CASES])
def test_pad_sequence(name, kw, shapes):
    check(lambda t, *xs: U(t).pad_sequence(list(xs), **kw), [arr(*s, seed=k) for k, s in enumerate(shapes)],
          dtypes=F64_32)


def test_pad_sequence_tensor_and_tuple_input():
    check(lambda t, x: U(t).pad_sequence(x, batch_first=True), [arr(2, 3, 4)])
    check(lambda t, x, y: U(t).pad_sequence((x, y)), [arr(2, 3), arr(4, 3, seed=1)])


def test_pad_sequence_dtype_of_first_and_int():
    check(lambda t, x, y: U(t).pad_sequence([x.float(), y]), [arr(2, 3), arr(4, 3, seed=1)])
    check(lambda t, x, y: U(t).pad_sequence([x, y], padding_value=2.7), [np.arange(3), np.arange(5)], grad=False)
    check(lambda t, x, y: U(t).pad_sequence([x, y], padding_value=True), [np.ones(3, bool), np.ones(2, bool)],
          grad=False)


def test_pad_sequence_noncontig():
    check(lambda t, x, y: U(t).pad_sequence([x.t(), y[::2]], batch_first=True), [arr(3, 2), arr(7, 3, seed=1)])


# ---- pack_sequence / unpack_sequence / unpad_sequence ------------------------------------------------------------
@pytest.mark.parametrize("enforce", [True, False])
def test_pack_sequence(enforce):
    shapes = [(4, 2), (3, 2), (1, 2)] if enforce else [(1, 2), (4, 2), (3, 2)]

    def fn(t, *xs):
        p = U(t).pack_sequence(list(xs), enforce_sorted=enforce)
        return p.data, p.batch_sizes
    check(fn, [arr(*s, seed=k) for k, s in enumerate(shapes)], dtypes=F64_32)


@pytest.mark.parametrize("enforce", [True, False])
def test_unpack_sequence_roundtrip(enforce):
    shapes = [(4, 2), (3, 2), (1, 2)] if enforce else [(2, 2), (4, 2), (1, 2)]
    check(lambda t, *xs: U(t).unpack_sequence(U(t).pack_sequence(list(xs), enforce_sorted=enforce)),
          [arr(*s, seed=k) for k, s in enumerate(shapes)], dtypes=F64_32)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence(batch_first):
    shape = (3, 4, 2) if batch_first else (4, 3, 2)
    check(lambda t, x: U(t).unpad_sequence(x * 1, t.tensor([2, 4, 1]), batch_first=batch_first),
          [arr(*shape)], dtypes=F64_32)


def test_unpad_sequence_transposes_time_major_input_in_place():
    """torch's unpad_sequence calls transpose_(0, 1) on a time-major input: the caller sees it transposed."""
    def fn(t):
        x = t.tensor(arr(4, 3, 2))
        U(t).unpad_sequence(x, t.tensor([2, 4, 1]))
        return x
    same(fn)


def test_pad_pack_through_rnn_gradient():
    """pad_sequence -> pack -> GRU -> pad_packed: the gradient reaches every original sequence."""
    def fn(t, a, b, c):
        t.manual_seed(0)
        padded = U(t).pad_sequence([a, b, c])
        packed = U(t).pack_padded_sequence(padded, [a.shape[0], b.shape[0], c.shape[0]], enforce_sorted=False)
        return U(t).pad_packed_sequence(packed, batch_first=True)[0] * 2
    check(fn, [arr(3, 2), arr(5, 2, seed=1), arr(1, 2, seed=2)], dtypes=F64_32)


# ---- PackedSequence ----------------------------------------------------------------------------------------------
def _packed(t, enforce=False, dtype="float32"):
    xs = [t.tensor(arr(n, 2, seed=n, dtype=dtype)) for n in (2, 4, 1)]
    return U(t).pack_sequence(xs if not enforce else sorted(xs, key=lambda x: -x.shape[0]), enforce_sorted=enforce)


@pytest.mark.parametrize("conv", ["double", "float", "half", "long", "int", "short", "char", "byte", "to_f64",
                                  "to_kw_f64", "to_same", "cpu", "to_cpu"])
def test_packed_sequence_conversions(conv):
    def fn(t):
        p = _packed(t)
        q = {"to_f64": lambda: p.to(t.float64), "to_kw_f64": lambda: p.to(dtype=t.float64),
             "to_same": lambda: p.to(t.float32), "cpu": p.cpu, "to_cpu": lambda: p.to("cpu")}.get(
            conv, lambda: getattr(p, conv)())()
        return (type(q).__name__, q.data, q.batch_sizes, q.sorted_indices, q.unsorted_indices, q is p,
                q.is_cuda, q.is_pinned())
    same(fn)


def test_packed_sequence_fields_and_construction():
    def fn(t):
        p = _packed(t)
        data, bs, si, ui = p
        direct = U(t).PackedSequence(data, bs)
        with_sorted = U(t).PackedSequence(data, bs, t.tensor([2, 0, 1]))
        from_tuple = U(t).PackedSequence((data, bs))
        return (list(p._fields), si, ui, direct.sorted_indices is None, direct.unsorted_indices is None,
                with_sorted.unsorted_indices, from_tuple.data, from_tuple.batch_sizes, repr(_packed(t, True)),
                isinstance(p, tuple), p.index(data), str(p.batch_sizes.dtype))
    same(fn)


def test_invert_permutation():
    same(lambda t: [U(t).invert_permutation(t.tensor([2, 0, 3, 1])), U(t).invert_permutation(None)])


# ---- errors ------------------------------------------------------------------------------------------------------
ERROR_CASES = [
    ("not_sorted", lambda t: U(t).pack_padded_sequence(t.zeros(3, 2, 2), [2, 3])),
    ("pack_sequence_not_sorted", lambda t: U(t).pack_sequence([t.zeros(2), t.zeros(3)])),
    ("zero_length", lambda t: U(t).pack_padded_sequence(t.zeros(3, 2, 2), [3, 0])),
    ("zero_length_unsorted", lambda t: U(t).pack_padded_sequence(t.zeros(3, 2, 2), [0, 3], enforce_sorted=False)),
    ("lengths_count", lambda t: U(t).pack_padded_sequence(t.zeros(3, 2, 2), [3, 2, 1])),
    ("lengths_2d", lambda t: U(t).pack_padded_sequence(t.zeros(3, 2, 2), t.tensor([[3, 2]]))),
    ("input_1d", lambda t: U(t).pack_padded_sequence(t.zeros(3), [3])),
    ("empty_input", lambda t: U(t).pack_padded_sequence(t.zeros(3, 0, 2), [])),
    ("total_length_short", lambda t: U(t).pad_packed_sequence(U(t).pack_padded_sequence(t.zeros(3, 2, 2), [3, 1]),
                                                              total_length=2)),
    ("padding_side", lambda t: U(t).pad_sequence([t.zeros(2)], padding_side="middle")),
    ("pad_empty_list", lambda t: U(t).pad_sequence([])),
    ("pad_not_iterable", lambda t: U(t).pad_sequence(3)),
    ("pad_0d", lambda t: U(t).pad_sequence([t.tensor(1.0), t.tensor(2.0)])),
    ("pad_trailing_mismatch", lambda t: U(t).pad_sequence([t.zeros(2, 3), t.zeros(1, 4)])),
    ("packed_no_batch_sizes", lambda t: U(t).PackedSequence(t.ones(3))),
    ("unpad_lengths_count", lambda t: U(t).unpad_sequence(t.zeros(3, 2, 2), t.tensor([3, 2, 1]))),
]


@pytest.mark.parametrize("name,fn", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors(name, fn):
    same_error(fn)


def test_lengths_longer_than_input_is_an_error():
    """torch reads past the end of the input here; ember refuses with a message naming both lengths."""
    with pytest.raises(RuntimeError, match="max length 4 but got 3"):
        U(ember).pack_padded_sequence(ember.zeros(3, 2, 2), [4, 1])


# ---- random shapes -----------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5), batch_first=st.booleans(),
       enforce=st.booleans(), extra=st.integers(0, 2), value=st.floats(-3, 3))
def test_pack_pad_random(lengths, batch_first, enforce, extra, value):
    if enforce:
        lengths = sorted(lengths, reverse=True)
    t_max = max(lengths)
    shape = (len(lengths), t_max, 2) if batch_first else (t_max, len(lengths), 2)

    def fn(t, x):
        p = U(t).pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce)
        padded, lens = U(t).pad_packed_sequence(p, batch_first=batch_first, padding_value=value,
                                                total_length=t_max + extra)
        return p.data, p.batch_sizes, padded, lens
    check(fn, [arr(*shape)])
