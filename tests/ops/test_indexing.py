"""Indexing against torch: __getitem__/__setitem__, gather/scatter, index_*, masks, nonzero, take, put."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, check_raises, to_ember, to_torch, r, ri, raises, _table

F = ("float64", "float32")
pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")


def L(t, v):
    """An int64 index tensor in library t."""
    return t.tensor(v, dtype=t.int64)


# ---- __getitem__: value, dtype and gradient (random upstream) -------------------------------------------------------
GETITEM = [
    # basic
    ("int", lambda t, x: x[1], [r(3, 4)]),
    ("neg_int", lambda t, x: x[-1, -2], [r(3, 4)]),
    ("int_to_0d", lambda t, x: x[2, 3], [r(3, 4)]),
    ("slice", lambda t, x: x[1:3], [r(4, 3)]),
    ("slice_neg", lambda t, x: x[-3:-1, :-1], [r(4, 3)]),
    ("slice_step", lambda t, x: x[::2, 1::2], [r(5, 6)]),
    ("slice_step_neg_start", lambda t, x: x[-4::3], [r(9)]),
    ("slice_empty", lambda t, x: x[3:1], [r(4, 3)]),
    ("slice_oob_clamped", lambda t, x: x[2:10, -10:2], [r(4, 3)]),
    ("none", lambda t, x: x[None], [r(2, 3)]),
    ("none_mid", lambda t, x: x[:, None, 1:], [r(2, 3)]),
    ("ellipsis", lambda t, x: x[..., 1], [r(2, 3, 4)]),
    ("ellipsis_mid", lambda t, x: x[0, ..., None, ::2], [r(2, 3, 4)]),
    ("ellipsis_only", lambda t, x: x[...], [r(2, 3)]),
    ("0d_ellipsis", lambda t, x: x[...], [r()]),
    ("0d_none", lambda t, x: x[None], [r()]),
    ("tensor_int_scalar", lambda t, x: x[t.tensor(1)], [r(3, 2)]),
    ("noncontig", lambda t, x: x.t()[1:, ::2], [r(4, 5)]),
    ("empty_dim", lambda t, x: x[:, 1:], [r(0, 3)]),
    # advanced
    ("tensor_idx", lambda t, x: x[L(t, [0, 2, 1])], [r(3, 4)]),
    ("tensor_idx_repeat", lambda t, x: x[L(t, [0, 2, 0, 0])], [r(3, 4)]),
    ("tensor_idx_neg", lambda t, x: x[L(t, [-1, 0, -3])], [r(3, 4)]),
    ("tensor_idx_2d", lambda t, x: x[L(t, [[0, 1], [2, 2]])], [r(3, 4)]),
    ("tensor_idx_int32", lambda t, x: x[t.tensor([2, 0], dtype=t.int32)], [r(3, 4)]),
    ("list_idx", lambda t, x: x[[0, 2]], [r(3, 4)]),
    ("list_idx_repeat", lambda t, x: x[[1, 1, 1]], [r(3, 4)]),
    ("list_pair", lambda t, x: x[[0, 2], [1, 3]], [r(3, 4)]),
    ("two_tensors_broadcast", lambda t, x: x[L(t, [[0], [2]]), L(t, [1, 3, 1])], [r(3, 4)]),
    ("two_tensors_repeat", lambda t, x: x[L(t, [0, 0, 1]), L(t, [1, 1, 1])], [r(3, 4)]),
    ("tensor_then_slice", lambda t, x: x[L(t, [1, 0]), 1:], [r(3, 4, 2)]),
    ("slice_then_tensor", lambda t, x: x[:, L(t, [3, 0, 3])], [r(3, 4)]),
    ("adv_separated", lambda t, x: x[L(t, [0, 1]), :, L(t, [1, 0])], [r(2, 3, 2)]),
    ("adv_adjacent_mid", lambda t, x: x[:, L(t, [0, 2]), L(t, [1, 1])], [r(2, 3, 2)]),
    ("adv_with_int", lambda t, x: x[1, L(t, [2, 0, 2])], [r(2, 3)]),
    ("adv_with_int_separated", lambda t, x: x[L(t, [0, 1]), 1:, 0], [r(2, 3, 2)]),
    ("adv_with_none", lambda t, x: x[None, L(t, [1, 0])], [r(2, 3)]),
    ("adv_with_ellipsis", lambda t, x: x[..., L(t, [1, 1, 0])], [r(2, 3, 2)]),
    ("adv_noncontig", lambda t, x: x.t()[L(t, [2, 0])], [r(4, 3)]),
    ("adv_empty_idx", lambda t, x: x[L(t, [])], [r(3, 4)]),
    ("adv_on_empty", lambda t, x: x[:, L(t, [0, 0])], [r(0, 2)]),
    ("adv_0d_idx", lambda t, x: x[L(t, 2), L(t, [0, 1])], [r(3, 4)]),
    # boolean
    ("bool_mask_full", lambda t, x: x[x > 0], [r(3, 4)]),
    ("bool_mask_rows", lambda t, x: x[t.tensor([True, False, True])], [r(3, 4)]),
    ("bool_mask_cols", lambda t, x: x[:, t.tensor([False, True, True, False])], [r(3, 4)]),
    ("bool_mask_leading", lambda t, x: x[x[:, :, 0] > 0], [r(3, 4, 2)]),
    ("bool_mask_none_true", lambda t, x: x[x > 100], [r(3, 4)]),
    ("bool_list", lambda t, x: x[[True, False, True]], [r(3, 2)]),
    pytest.param("bool_uint8", lambda t, x: x[t.tensor([1, 0, 1], dtype=t.uint8)], [r(3, 2)],
                 marks=pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")),
    ("bool_0d_true", lambda t, x: x[t.tensor(True)], [r(2, 3)]),
    ("bool_0d_false", lambda t, x: x[t.tensor(False)], [r(2, 3)]),
    ("py_bool_true", lambda t, x: x[True], [r(2, 3)]),
    ("py_bool_false", lambda t, x: x[False], [r(2, 3)]),
    ("bool_0d_on_0d", lambda t, x: x[t.tensor(True)], [r()]),
    ("bool_and_int_tensor", lambda t, x: x[t.tensor([True, False, True]), L(t, [1, 0])], [r(3, 2)]),
    ("bool_noncontig", lambda t, x: x.t()[x.t() > 0], [r(3, 4)]),
]


@pytest.mark.parametrize("fn,inputs", _table(GETITEM))
def test_getitem(fn, inputs):
    check(fn, inputs, dtypes=F)


INT_GETITEM = {"int", "neg_int", "int_to_0d", "slice_step", "none_mid", "ellipsis_mid", "0d_none", "tensor_idx",
               "tensor_idx_repeat", "list_pair", "two_tensors_broadcast", "adv_separated", "adv_with_int_separated",
               "bool_mask_full", "bool_mask_rows", "bool_0d_false", "py_bool_true"}


@pytest.mark.parametrize("fn,inputs", _table([c for c in GETITEM if not hasattr(c, "marks") and c[0] in INT_GETITEM]))
def test_getitem_int_dtype(fn, inputs):
    check(fn, [ri(*a.shape, lo=-5, hi=5) for a in inputs], grad=False)


def test_getitem_bool_dtype():
    check(lambda t, x: ((x > 0)[1:, L(t, [0, 2])], (x > 0)[x < 0]), [r(3, 4)], grad=False)


def test_getitem_double_backward():
    def prog(t, x, g):
        y = x[L(t, [0, 0, 2])] * x.flip(0)
        (gx,) = t.autograd.grad(y, x, g, create_graph=True)
        return gx
    check(prog, [r(3, 2), r(3, 2, seed=1)], dtypes=["float64"], grad_inputs=[0])


GETITEM_ERRORS = [
    ("int_oob", lambda t: t.zeros(3, 4)[3], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ("int_oob_neg", lambda t: t.zeros(3, 4)[:, -5],
     IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    ("too_many", lambda t: t.zeros(3)[0, 0], IndexError, r"too many indices for tensor of dimension 1"),
    ("0d_int", lambda t: t.zeros(())[0], IndexError, "invalid index of a 0-dim tensor"),
    ("tensor_oob", lambda t: t.zeros(3, 4)[L(t, [0, 3])],
     IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ("tensor_oob_dim1", lambda t: t.zeros(3, 4)[:, L(t, [4])],
     IndexError, r"index 4 is out of bounds for dimension \d with size 4"),
    ("float_idx", lambda t: t.zeros(3)[t.tensor([0.0])],
     IndexError, "tensors used as indices must be long, int, byte or bool tensors"),
    ("float_scalar", lambda t: t.zeros(3)[1.0], IndexError, "only integers, slices"),
    ("bool_shape", lambda t: t.zeros(3, 4)[t.tensor([True, False])],
     IndexError, r"The shape of the mask \[2\] at index 0 does not match the shape of the indexed tensor \[3, 4\] at "
                 r"index 0"),
    ("neg_step", lambda t: t.zeros(3)[::-1], ValueError, "step must be greater than zero"),
    ("zero_step", lambda t: t.zeros(3)[::0], ValueError, "slice step cannot be zero"),
    ("neg_step_in_tuple", lambda t: t.zeros(3, 4)[:, ::-1], ValueError, "step must be greater than zero"),
    ("too_many_with_none", lambda t: t.zeros(3)[None, 0, 0], IndexError, "too many indices for tensor of dimension 1"),
    ("broadcast_fail", lambda t: t.zeros(3, 4)[L(t, [0, 1]), L(t, [0, 1, 2])],
     IndexError, "shape mismatch: indexing tensors could not be broadcast together with shapes \\[2\\], \\[3\\]"),
]


@pytest.mark.parametrize("fn,exc,match", _table(GETITEM_ERRORS))
def test_getitem_errors(fn, exc, match):
    raises(fn, exc, match)


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("reduce", ["amin", "amax", "prod", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_inplace(reduce, include_self):
    def fn(t, x, s):
        y = x * 1
        res = y.index_reduce_(0, L(t, [1, 1, 0]), s, reduce, include_self=include_self)
        assert res is y
        return y, t.index_reduce(x, 0, L(t, [1, 1, 0]), s, reduce, include_self=include_self)
    check(fn, [r(2, 3), r(3, 3, seed=1)], dtypes=F)


def test_index_reduce_beta_warning():
    with pytest.warns(UserWarning, match=r"index_reduce\(\) is in beta and the API may change at any time."):
        ember.zeros(2).index_reduce(0, ember.tensor([0]), ember.ones(1), "amax")


def test_uint8_index_warns():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                                             "torch.bool instead"):
            lib.zeros(2)[lib.tensor([1, 0], dtype=lib.uint8)]


def test_basic_index_is_view_advanced_is_copy():
    for lib, mk in ((torch, to_torch), (ember, to_ember)):
        x = mk(np.zeros((3, 4)))
        v, c, m = x[1, ::2], x[[1, 2]], x[x == 0]
        x.add_(1)
        assert v.sum().item() == 2.0 and v._base is x, lib.__name__
        assert c.sum().item() == 0.0 and c._base is None, lib.__name__
        assert m.sum().item() == 0.0, lib.__name__


# ---- __setitem__ -----------------------------------------------------------------------------------------------------
def _set(key, value=None):
    """y = x * 2; y[key(t)] = value (or the second input); return y (grads flow to x and the value)."""
    def prog(t, x, *v):
        y = x * 2
        y[key(t)] = value if not v else v[0]
        return y
    return prog


SETITEM = [
    ("int_scalar", _set(lambda t: 1, 5.0), [r(3, 4)]),
    ("int_value", _set(lambda t: 0), [r(3, 4), r(4, seed=1)]),
    ("int_value_broadcast", _set(lambda t: 0), [r(3, 4), r(1, seed=1)]),
    ("0d_value", _set(lambda t: (1, 2)), [r(3, 4), r(seed=1)]),
    ("slice_value", _set(lambda t: (slice(None), slice(1, 3))), [r(3, 4), r(3, 2, seed=1)]),
    ("slice_step_broadcast", _set(lambda t: (slice(None, None, 2),)), [r(4, 3), r(3, seed=1)]),
    ("ellipsis_value", _set(lambda t: (Ellipsis, 0)), [r(2, 3), r(2, seed=1)]),
    ("none_value", _set(lambda t: (None, 1)), [r(2, 3), r(1, 3, seed=1)]),
    ("all_value", _set(lambda t: slice(None)), [r(2, 3), r(3, seed=1)]),
    ("tensor_key", _set(lambda t: L(t, [0, 2])), [r(3, 4), r(2, 4, seed=1)]),
    ("tensor_key_scalar", _set(lambda t: L(t, [2, 0]), -1.0), [r(3, 4)]),
    ("tensor_key_broadcast", _set(lambda t: L(t, [2, 0])), [r(3, 4), r(4, seed=1)]),
    ("list_pair_key", _set(lambda t: ([0, 2], [1, 3])), [r(3, 4), r(2, seed=1)]),
    ("pair_key_bcast_value", _set(lambda t: (L(t, [[0], [1]]), L(t, [1, 2]))), [r(3, 4), r(1, seed=1)]),
    ("adv_slice_key", _set(lambda t: (slice(1, None), L(t, [0, 3]))), [r(3, 4), r(2, 2, seed=1)]),
    ("adv_separated_key", _set(lambda t: (L(t, [0, 1]), slice(None), L(t, [1, 0]))), [r(2, 3, 2), r(2, 3, seed=1)]),
    ("bool_key", _set(lambda t: t.tensor([True, False, True])), [r(3, 4), r(2, 4, seed=1)]),
    ("bool_key_scalar", _set(lambda t: t.tensor([[True, False], [False, True]]), 0.5), [r(2, 2)]),
    ("bool_key_broadcast", _set(lambda t: t.tensor([False, True, True])), [r(3, 4), r(4, seed=1)]),
    ("bool_0d_key", _set(lambda t: t.tensor(True)), [r(2, 3), r(3, seed=1)]),
    ("bool_0d_false_key", _set(lambda t: t.tensor(False)), [r(2, 3), r(3, seed=1)]),
    ("noncontig_value", lambda t, x, v: _set_noncontig(x, v), [r(2, 3), r(3, 2, seed=1)]),
]


def _set_noncontig(x, v):
    y = x * 2
    y[0:2] = v.t()
    return y


@pytest.mark.parametrize("fn,inputs", _table(SETITEM))
def test_setitem(fn, inputs):
    check(fn, inputs, dtypes=F)


def test_setitem_leaf_no_grad_and_dtype_cast():
    def prog(t, x):
        y = t.zeros(3, 4, dtype=t.int64)
        y[1] = 2.7
        y[x > 0] = 7
        z = x.clone()
        z[0] = t.tensor([1, 2, 3, 4])
        z[1, 1] = True
        y[2] = t.tensor(-1.5)
        return y, z, x.gather(1, t.tensor([[0, 3]], dtype=t.int32))
    check(prog, [r(3, 4)], grad=False)


def test_setitem_version_and_grad_fn():
    for lib, mk in ((torch, to_torch), (ember, to_ember)):
        x = mk(r(3)).requires_grad_()
        y = x * 2
        v0 = y._version
        y[0] = 1.0
        assert y._version == v0 + 1, lib.__name__
        assert y.grad_fn is not None and y.requires_grad, lib.__name__


def test_setitem_on_view_of_nonleaf():
    def prog(t, x, v):
        y = x.sin()
        z = y[1:]
        z[:, 0] = v
        return y, z
    check(prog, [r(3, 2), r(2, seed=1)], dtypes=F)


def test_setitem_value_requires_grad_into_plain_tensor():
    def prog(t, v):
        y = t.zeros(2, 3, dtype=v.dtype)
        y[1] = v
        return y * y
    check(prog, [r(3)], dtypes=F)


SETITEM_ERRORS = [
    ("leaf", lambda t: t.zeros(3, requires_grad=True).__setitem__(0, 1.0),
     RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation"),
    ("shape", lambda t: t.zeros(3, 4).__setitem__(0, t.ones(3)),
     RuntimeError, r"The expanded size of the tensor \(4\) must match the existing size \(3\) at non-singleton "
                   r"dimension 0.  Target sizes: \[4\].  Tensor sizes: \[3\]"),
    ("oob", lambda t: t.zeros(3).__setitem__(3, 1.0),
     IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ("tensor_oob", lambda t: t.zeros(3).__setitem__(L(t, [0, 5]), 1.0),
     IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
]


@pytest.mark.parametrize("fn,exc,match", _table(SETITEM_ERRORS))
def test_setitem_errors(fn, exc, match):
    raises(fn, exc, match)


# ---- gather / scatter ----------------------------------------------------------------------------------------------
def _gidx(t, shape, hi, seed=0):
    return t.from_numpy(np.random.default_rng(seed).integers(0, hi, shape))


OPS = [
    ("gather", lambda t, x: t.gather(x, 1, _gidx(t, (3, 5), 4)), [r(3, 4)]),
    ("gather_dim0", lambda t, x: x.gather(0, _gidx(t, (2, 4), 3)), [r(3, 4)]),
    ("gather_smaller", lambda t, x: x.gather(-1, _gidx(t, (2, 2), 4)), [r(3, 4)]),
    ("gather_neg_idx_dim", lambda t, x: x.gather(-2, _gidx(t, (5, 2, 1), 3)), [r(5, 3, 1)]),
    ("gather_noncontig", lambda t, x: x.t().gather(1, _gidx(t, (4, 2), 3)), [r(3, 4)]),
    ("gather_empty", lambda t, x: x.gather(1, t.zeros(3, 0, dtype=t.int64)), [r(3, 4)]),
    ("gather_0d", lambda t, x: x.gather(0, t.tensor(0)), [r()]),
    # an empty index is not checked (dtype, rank, sizes): the result is empty in the index's shape
    ("gather_empty_uint8_idx", lambda t, x: t.gather(x, 0, t.zeros(2, 0, dtype=t.uint8)), [r(5)]),
    ("gather_empty_idx_other_rank", lambda t, x: x.gather(1, t.zeros(2, 0, 5, dtype=t.uint8)), [r(3, 4)]),
    ("gather_empty_idx_0d", lambda t, x: x.gather(0, t.zeros(0, dtype=t.uint8)), [r()]),
    ("scatter_empty_idx", lambda t, x, s: x.scatter(0, t.zeros(2, 0, dtype=t.uint8), s), [r(3, 4), r(2, 0)]),
    ("scatter_add_empty_idx", lambda t, x, s: x.scatter_add(1, t.zeros(0, 2, dtype=t.uint8), s),
     [r(3, 4), r(0, 2)]),
    ("scatter_reduce_empty_idx", lambda t, x, s: x.scatter_reduce(0, t.zeros(3, 0, dtype=t.int64), s, "prod"),
     [r(3, 4), r(3, 0)]),
    ("scatter_src", lambda t, x, s: x.scatter(1, L(t, [[2, 0], [1, 3], [0, 0]])[:, :1], s), [r(3, 4), r(3, 1, seed=1)]),
    ("scatter_src_dup", lambda t, x, s: x.scatter(0, L(t, [[2, 2, 0], [1, 1, 1]]), s), [r(3, 3), r(2, 3, seed=1)]),
    ("scatter_value", lambda t, x: t.scatter(x, 0, L(t, [[1, 2, 0, 1]]), 2.5), [r(3, 4)]),
    ("scatter_add", lambda t, x, s: x.scatter_add(1, L(t, [[2, 0, 2], [1, 1, 1], [0, 3, 0]]), s),
     [r(3, 4), r(3, 3, seed=1)]),
    ("scatter_add_dim0", lambda t, x, s: t.scatter_add(x, 0, L(t, [[2, 0], [2, 2]]), s), [r(3, 2), r(2, 2, seed=1)]),
    ("scatter_add_inplace", lambda t, x, s: (x * 1).scatter_add_(1, L(t, [[0, 0], [1, 0]]), s),
     [r(2, 3), r(2, 2, seed=1)]),
    ("scatter_inplace", lambda t, x, s: (x + 0).scatter_(0, L(t, [[1, 0, 1]]), s), [r(2, 3), r(1, 3, seed=1)]),
    ("index_select", lambda t, x: x.index_select(1, L(t, [3, 0, 3])), [r(2, 4)]),
    ("index_select_dim0", lambda t, x: t.index_select(x, 0, L(t, [1, 1])), [r(2, 4)]),
    ("index_select_int32", lambda t, x: x.index_select(-1, t.tensor([1], dtype=t.int32)), [r(2, 4)]),
    ("index_select_0d_idx", lambda t, x: x.index_select(0, L(t, 1)), [r(2, 4)]),
    ("index_select_0d", lambda t, x: x.index_select(0, L(t, [0])), [r()]),
    ("index_select_empty", lambda t, x: x.index_select(0, L(t, [])), [r(2, 4)]),
    ("index_select_noncontig", lambda t, x: x.t().index_select(1, L(t, [1, 0])), [r(2, 4)]),
    ("index_add", lambda t, x, s: x.index_add(0, L(t, [2, 0, 2]), s), [r(3, 2), r(3, 2, seed=1)]),
    ("index_add_alpha", lambda t, x, s: t.index_add(x, 1, L(t, [1, 1]), s, alpha=-2.5), [r(3, 2), r(3, 2, seed=1)]),
    ("index_add_inplace", lambda t, x, s: (x * 1).index_add_(-1, L(t, [0]), s), [r(3, 2), r(3, 1, seed=1)]),
    ("index_fill", lambda t, x: x.index_fill(1, L(t, [0, 2]), -1.0), [r(2, 3)]),
    ("index_fill_tensor_value", lambda t, x, v: x.index_fill(0, L(t, [1]), v), [r(2, 3), r(seed=1)]),
    ("index_fill_inplace", lambda t, x: (x * 1).index_fill_(0, L(t, [0, 0]), 3), [r(2, 3)]),
    # a position filled twice takes the value once, so it counts once in the value's gradient
    ("index_fill_dup_tensor_value", lambda t, x, v: x.index_fill(-1, L(t, [4, 3, 3, 4, 0]), v),
     [r(5, 5), r(seed=1)]),
    ("index_copy", lambda t, x, s: x.index_copy(0, L(t, [2, 0]), s), [r(3, 2), r(2, 2, seed=1)]),
    ("index_copy_dim1", lambda t, x, s: t.index_copy(x, 1, L(t, [1]), s), [r(3, 2), r(3, 1, seed=1)]),
    ("index_copy_inplace", lambda t, x, s: (x * 1).index_copy_(1, L(t, [0, 2]), s), [r(2, 3), r(2, 2, seed=1)]),
    ("index_put", lambda t, x, v: x.index_put((L(t, [0, 2]),), v), [r(3, 2), r(2, 2, seed=1)]),
    ("index_put_pair", lambda t, x, v: t.index_put(x, (L(t, [0, 2]), L(t, [1, 1])), v), [r(3, 2), r(2, seed=1)]),
    ("index_put_accumulate", lambda t, x, v: x.index_put((L(t, [0, 2, 0]),), v, accumulate=True),
     [r(3, 2), r(3, 2, seed=1)]),
    ("index_put_accumulate_pair", lambda t, x, v: x.index_put((L(t, [0, 0]), L(t, [1, 1])), v, accumulate=True),
     [r(3, 2), r(2, seed=1)]),
    ("index_put_accumulate_bcast", lambda t, x, v: x.index_put((L(t, [1, 1]),), v, accumulate=True),
     [r(3, 2), r(2, seed=1)]),
    ("index_put_bool", lambda t, x, v: x.index_put((x > 0,), v), [r(3, 2), r(1, seed=1)]),
    ("index_put_inplace", lambda t, x, v: (x * 1).index_put_((L(t, [1]), L(t, [0])), v, accumulate=True),
     [r(3, 2), r(1, seed=1)]),
    ("masked_fill", lambda t, x: x.masked_fill(x > 0, -1.0), [r(3, 4)]),
    ("masked_fill_bcast", lambda t, x: t.masked_fill(x, t.tensor([True, False, True, False]), 2.0), [r(3, 4)]),
    ("masked_fill_0d_value", lambda t, x, v: x.masked_fill(x < 0, v), [r(3, 4), r(seed=1)]),
    ("masked_fill_inplace", lambda t, x, v: (x * 1).masked_fill_(t.tensor([[True], [False], [True]]), v),
     [r(3, 4), r(seed=1)]),
    ("masked_fill_noncontig", lambda t, x: x.t().masked_fill(x.t() > 0, 0.0), [r(3, 4)]),
    ("masked_fill_empty", lambda t, x: x.masked_fill(x > 0, 1.0), [r(0, 3)]),
    ("masked_fill_0d", lambda t, x: x.masked_fill(t.tensor(True), 1.0), [r()]),
    ("masked_fill_mask_bigger", lambda t, x: x.masked_fill(t.tensor([[True], [False]]), 1.0), [r(3)]),
    ("masked_select", lambda t, x: x.masked_select(x > 0), [r(3, 4)]),
    ("masked_select_bcast_mask", lambda t, x: t.masked_select(x, t.tensor([True, False, True, True])), [r(3, 4)]),
    ("masked_select_bcast_input", lambda t, x: x.masked_select(t.tensor([[True], [False]]).expand(2, 3)), [r(3)]),
    ("masked_scatter", lambda t, x, s: x.masked_scatter(x > 0, s), [r(3, 4), r(15, seed=1)]),
    ("masked_scatter_bcast", lambda t, x, s: x.masked_scatter(t.tensor([True, False, True, True]), s),
     [r(3, 4), r(4, 3, seed=1)]),
    ("masked_scatter_inplace", lambda t, x, s: (x * 1).masked_scatter_(x < 0, s), [r(3, 4), r(12, seed=1)]),
    ("take", lambda t, x: x.take(L(t, [[0, 11], [-1, 5]])), [r(3, 4)]),
    ("take_noncontig", lambda t, x: t.take(x.t(), L(t, [1, 1, 4])), [r(3, 4)]),
    ("take_repeat", lambda t, x: x.take(L(t, [2, 2, 2])), [r(4)]),
    ("take_along_dim", lambda t, x: t.take_along_dim(x, x.argsort(1), 1), [r(3, 4)]),
    ("take_along_dim_bcast", lambda t, x: x.take_along_dim(L(t, [[0], [2], [1]]), dim=-1), [r(3, 4)]),
    ("take_along_dim_bcast_x", lambda t, x: t.take_along_dim(x, L(t, [[0, 1], [1, 0], [0, 0]]), dim=1), [r(1, 4)]),
    ("take_along_dim_none", lambda t, x: t.take_along_dim(x, L(t, [5, 0, 5])), [r(2, 3)]),
    # with a dim, indices wrap modulo the dim's size (-1 is the last, 5 is the first of 5)
    ("take_along_dim_neg", lambda t, x: t.take_along_dim(x, L(t, [[-1, -5], [0, 4]]), 1), [r(2, 5)]),
    ("take_along_dim_wrap", lambda t, x: x.take_along_dim(L(t, [[5], [-11], [7]]), dim=-1), [r(3, 5)]),
    ("take_along_dim_none_int32", lambda t, x: t.take_along_dim(x, t.tensor([4, 0], dtype=t.int32)), [r(2, 3)]),
    ("put", lambda t, x, s: (x * 1).put_(L(t, [0, 5, -1]), s), [r(2, 3), r(3, seed=1)]),
    ("select_scatter", lambda t, x, s: x.select_scatter(s, 1, -1), [r(2, 3), r(2, seed=1)]),
    ("slice_scatter", lambda t, x, s: t.slice_scatter(x, s, 1, 0, 3, 2), [r(2, 3), r(2, 2, seed=1)]),
    ("slice_scatter_default", lambda t, x, s: x.slice_scatter(s, start=2), [r(4, 2), r(2, 2, seed=1)]),
    ("diagonal_scatter", lambda t, x, s: x.diagonal_scatter(s, 1), [r(3, 4), r(3, seed=1)]),
    ("diagonal_scatter_dims", lambda t, x, s: t.diagonal_scatter(x, s, -1, 0, 2), [r(3, 2, 4), r(2, 2, seed=1)]),
    ("index_reduce_amax", lambda t, x, s: x.index_reduce(0, L(t, [0, 2, 0]), s, "amax"), [r(3, 2), r(3, 2, seed=1)]),
    ("index_reduce_mean", lambda t, x, s: t.index_reduce(x, 1, L(t, [1, 1]), s, "mean", include_self=False),
     [r(3, 2), r(3, 2, seed=1)]),
    ("index_reduce_prod", lambda t, x, s: x.index_reduce(-1, L(t, [0]), s, "prod"), [r(3, 2), r(3, 1, seed=1)]),
    ("index_reduce_0d_amax", lambda t, x, s: x.index_reduce(0, L(t, [0]), s, "amax"), [r(), r(seed=1)]),
    ("index_reduce_0d_mean", lambda t, x, s: x.index_reduce(0, L(t, [0]), s, "mean", include_self=False),
     [r(), r(seed=1)]),
    ("index_reduce_0d_prod", lambda t, x, s: t.index_reduce(x, 0, L(t, [0]), s, "prod"), [r(), r(seed=1)]),
    ("put_accumulate", lambda t, x, s: (x * 1).put_(L(t, [[1, 1], [4, 1]]), s, accumulate=True),
     [r(2, 3), r(2, 2, seed=1)]),
    ("put_fn", lambda t, x, s: x.put(L(t, [2, 0]), s), [r(2, 3), r(2, seed=1)]),
]


@pytest.mark.parametrize("fn,inputs", _table(OPS))
def test_index_ops(fn, inputs):
    check(fn, inputs, dtypes=F)


INT_OPS = [
    ("gather", lambda t, x: x.gather(1, L(t, [[0, 0], [2, 1]])), [ri(2, 3)]),
    ("scatter", lambda t, x: x.scatter(1, L(t, [[0], [2]]), 9), [ri(2, 3)]),
    ("scatter_add", lambda t, x, s: x.scatter_add(0, L(t, [[1, 1, 1]]), s), [ri(2, 3), ri(1, 3, seed=1)]),
    ("index_select_bool", lambda t, x: (x > 2).index_select(0, L(t, [1, 0, 1])), [ri(2, 3)]),
    ("index_add", lambda t, x, s: x.index_add(0, L(t, [1, 1]), s, alpha=3), [ri(2, 3), ri(2, 3, seed=1)]),
    ("scatter_empty_idx_other_rank", lambda t, x, s: x.scatter(0, t.zeros(2, 0, 5, dtype=t.uint8), s),
     [ri(3, 4), ri(2, 0)]),
    ("scatter_reduce_empty_idx_other_rank", lambda t, x, s: x.scatter_reduce(1, t.zeros(0, dtype=t.int16), s, "sum"),
     [ri(3, 4), ri(2, 0, 5)]),
    # alpha converts to self's dtype as C does: -1 is 255 in uint8 (wrapping), 1.5 is 1
    ("index_add_uint8_neg_alpha", lambda t, x, s: x.to(t.uint8).index_add(-1, L(t, [1, 0, 1]), s.to(t.uint8),
                                                                          alpha=-1), [ri(2, 3), ri(2, 3, seed=1)]),
    ("index_add_uint8_float_alpha", lambda t, x, s: x.to(t.uint8).index_add(0, L(t, [0]), s.to(t.uint8), alpha=1.5),
     [ri(2, 3), ri(1, 3, seed=1)]),
    ("index_add_int8_alpha", lambda t, x, s: x.to(t.int8).index_add(0, L(t, [1]), s.to(t.int8) * 40, alpha=-128),
     [ri(2, 3), ri(1, 3, seed=1)]),
    ("index_add_bool_alpha", lambda t, x, s: (x > 2).index_add(0, L(t, [1, 0]), s > 1, alpha=2),
     [ri(2, 3), ri(2, 3, seed=1)]),
    ("index_fill_bool", lambda t, x: (x > 2).index_fill(1, L(t, [0]), True), [ri(2, 3)]),
    ("index_fill_float_into_int", lambda t, x: x.index_fill(1, L(t, [0]), 2.7), [ri(2, 3)]),
    ("index_copy", lambda t, x, s: x.index_copy(0, L(t, [1]), s), [ri(2, 3), ri(1, 3, seed=1)]),
    ("index_put_acc", lambda t, x, v: x.index_put((L(t, [0, 0]),), v, accumulate=True), [ri(2, 3), ri(3, seed=1)]),
    ("masked_fill_int", lambda t, x: x.masked_fill(x > 2, -7), [ri(2, 3)]),
    ("masked_fill_int_float_value", lambda t, x: x.masked_fill(x > 2, 1.9), [ri(2, 3)]),
    ("masked_fill_bool", lambda t, x: (x > 2).masked_fill(x < 1, True), [ri(2, 3)]),
    ("masked_select_int", lambda t, x: x.masked_select(x > 1), [ri(2, 3)]),
    ("masked_scatter_int", lambda t, x, s: x.masked_scatter(x > 1, s), [ri(2, 3), ri(6, seed=1)]),
    ("take_int", lambda t, x: x.take(L(t, [5, 0])), [ri(2, 3)]),
    ("put_int", lambda t, x, s: x.put(L(t, [5, 0]), s), [ri(2, 3), ri(2, seed=1)]),
    ("nonzero", lambda t, x: x.nonzero(), [ri(3, 4, hi=2)]),
    ("nonzero_fn", lambda t, x: t.nonzero(x), [ri(2, 3, 2, hi=2)]),
    ("nonzero_float", lambda t, x: (x * 0.5).nonzero(), [ri(4, hi=2)]),
    ("nonzero_bool", lambda t, x: (x > 0).nonzero(), [ri(2, 3, hi=2)]),
    ("nonzero_empty", lambda t, x: x.nonzero(), [ri(0, 3)]),
    ("nonzero_all_zero", lambda t, x: (x * 0).nonzero(), [ri(2, 3)]),
    ("nonzero_0d", lambda t, x: x[0].nonzero(), [ri(1, lo=1)]),
    ("nonzero_0d_zero", lambda t, x: (x[0] * 0).nonzero(), [ri(1, lo=1)]),
    ("nonzero_as_tuple", lambda t, x: x.nonzero(as_tuple=True), [ri(3, 4, hi=2)]),
    ("nonzero_as_tuple_fn", lambda t, x: t.nonzero(x, as_tuple=True), [ri(5, hi=2)]),
    ("nonzero_as_tuple_0d", lambda t, x: x[0].nonzero(as_tuple=True), [ri(1, lo=1)]),
    ("nonzero_as_tuple_empty", lambda t, x: x.nonzero(as_tuple=True), [ri(0, 2)]),
    ("nonzero_noncontig", lambda t, x: x.t().nonzero(), [ri(3, 4, hi=2)]),
    ("argwhere", lambda t, x: t.argwhere(x), [ri(3, 4, hi=2)]),
    ("argwhere_method", lambda t, x: x.argwhere(), [ri(2, 2, 2, hi=2)]),
    ("argwhere_0d", lambda t, x: t.argwhere(x[0]), [ri(1, lo=1)]),
    ("unravel_index", lambda t, x: t.unravel_index(x, (3, 4)), [ri(2, 3, lo=-20, hi=20)]),
    ("unravel_index_0d", lambda t, x: t.unravel_index(x[0], (2, 2, 3)), [ri(1, hi=12)]),
    ("index_reduce_int", lambda t, x, s: x.index_reduce(0, L(t, [1, 1]), s, "amin", include_self=False),
     [ri(2, 3), ri(2, 3, seed=1)]),
]


@pytest.mark.parametrize("fn,inputs", _table(INT_OPS))
def test_index_ops_int(fn, inputs):
    check(fn, inputs, grad=False)


def test_nonzero_float_input():
    check(lambda t, x: (t.nonzero(x > 0), t.argwhere(x.masked_fill(x < 0, 0)), (x > 0).nonzero(as_tuple=True)),
          [r(3, 4)], grad=False)


def test_scatter_reduce_forward():
    idx = [[0, 1, 0, 1], [2, 2, 0, 0]]
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            check(lambda t, x, s: x.scatter_reduce(1, L(t, idx), s, reduce, include_self=include_self),
                  [r(2, 3), r(2, 4, seed=1)], grad=False, dtypes=F)
            check(lambda t, x, s: t.scatter_reduce(x, 1, L(t, idx), s, reduce=reduce, include_self=include_self),
                  [ri(2, 3, lo=-5), ri(2, 4, lo=-5, seed=1)], grad=False)


def test_scatter_inplace_reduce_forward():
    """scatter_(reduce=...) has no derivative in torch: compare values only (and the deprecation warning)."""
    for reduce in ("add", "multiply"):
        with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src is deprecated"):
            check(lambda t, x, s: x.clone().scatter_(1, L(t, [[0, 0], [1, 0]]), s, reduce=reduce),
                  [r(2, 3), r(2, 2, seed=1)], grad=False, dtypes=F)
        check(lambda t, x: x.clone().scatter_(0, L(t, [[1, 1, 0]]), 2, reduce=reduce), [ri(2, 3)], grad=False)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_multiply_forward():
    check(lambda t, x, s: x.scatter(1, L(t, [[0, 0], [1, 2]]), s, reduce="multiply"), [r(2, 3), r(2, 2, seed=1)],
          grad=False)


def test_scatter_src_larger_than_index_forward():
    """torch's own backward fails when src is larger than index, so only values are compared here."""
    check(lambda t, x, s: (x.scatter(1, L(t, [[2], [1], [0]]), s), x.scatter_add(0, L(t, [[2, 0], [2, 2]]), s)),
          [r(3, 4), r(3, 4, seed=1)], grad=False, dtypes=F)


def test_scatter_src_larger_than_index_grad():
    """ember pads the src gradient with zeros where src was not read."""
    x = ember.zeros(3, 4, dtype=ember.float64, requires_grad=True)
    s = ember.arange(12.0, dtype=ember.float64).reshape(3, 4).requires_grad_()
    y = x.scatter_add(1, ember.tensor([[2], [1], [0]]), s)
    y.backward(ember.ones(3, 4, dtype=ember.float64) * 2)
    np.testing.assert_array_equal(s.grad.numpy(), np.array([[2, 0, 0, 0]] * 3, dtype=float))


def _ties(seed=0):
    """Values on a coarse grid (so amax/amin have ties) with some exact zeros (prod's special cases)."""
    return lambda *shape: np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_grad(reduce, include_self):
    idx = [[0, 1, 0, 1], [2, 2, 0, 2]]
    check(lambda t, x, s: x.scatter_reduce(1, L(t, idx), s, reduce, include_self=include_self),
          [r(2, 3), r(2, 4, seed=1)], dtypes=F)
    check(lambda t, x, s: t.scatter_reduce(x, 0, L(t, [[1, 0, 1], [1, 1, 1]]), s, reduce, include_self=include_self),
          [_ties()(2, 3), _ties(1)(2, 3)], dtypes=["float64"])


def test_scatter_reduce_prod_zeros_grad():
    x = np.array([[0.0, 2.0, 3.0, 0.0]])
    s = np.array([[1.5, 0.0, 2.0, 0.0, 0.0, -1.0]])
    for include_self in (True, False):
        check(lambda t, x, s: x.scatter_reduce(1, L(t, [[0, 1, 1, 2, 2, 3]]), s, "prod", include_self=include_self),
              [x, s], dtypes=["float64"])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_inplace(reduce):
    def fn(t, x, s):
        y = x * 1
        assert y.scatter_reduce_(1, L(t, [[0, 0], [1, 0]]), s, reduce, include_self=False) is y
        return y
    check(fn, [r(2, 3), r(2, 2, seed=1)], dtypes=F)


def test_reduce_inplace_on_leaf_raises():
    for fn in (lambda t: t.ones(2, requires_grad=True).scatter_reduce_(0, L(t, [0]), t.ones(1), "sum"),
               lambda t: t.ones(2, requires_grad=True).index_reduce_(0, L(t, [0]), t.ones(1), "amax")):
        check_raises(fn, RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation")


OP_ERRORS = [
    ("gather_out_dtype", lambda t: t.gather(t.zeros(2, 2), 1, L(t, [[0, 1]] * 2), out=t.zeros(2, 2, dtype=t.float64)),
     RuntimeError, "Expected out tensor to have dtype float, but got double instead"),
    ("gather_out_expanded", lambda t: t.gather(t.zeros(6), 0, L(t, [0, 1, 2]), out=t.zeros(1).expand(3)),
     RuntimeError, "more than one element of the written-to tensor refers to a single memory location"),
    ("gather_out_index_view", lambda t: (lambda i: t.gather(i, 0, i[1:], out=i[:-1]))(L(t, [0, 1, 2])),
     RuntimeError, "some elements of the input tensor and the written-to tensor refer to a single memory location"),
    ("index_select_out_expanded",
     lambda t: t.index_select(t.zeros(3, 6), 1, L(t, [0, 1]), out=t.zeros(1, 2).expand(3, 2)),
     RuntimeError, "more than one element of the written-to tensor"),
    ("index_select_out_dtype", lambda t: t.index_select(t.zeros(3), 0, L(t, [0]), out=t.zeros(1, dtype=t.float64)),
     RuntimeError, r"index_select\(\): self and result must have the same scalar type"),
    ("masked_select_out_input", lambda t: (lambda x: t.masked_select(x, x > 0, out=x))(t.ones(3)),
     RuntimeError, "some elements of the input tensor and the written-to tensor"),
    ("masked_select_out_dtype", lambda t: t.masked_select(t.ones(3), t.ones(3) > 0, out=t.zeros(3, dtype=t.float64)),
     RuntimeError, r"masked_select\(\): self and result must have the same scalar type"),
    ("take_out_expanded", lambda t: t.take(t.zeros(6), L(t, [0, 1, 2]), out=t.zeros(1).expand(3)),
     RuntimeError, "more than one element of the written-to tensor"),
    ("take_out_index_view", lambda t: (lambda i: t.take(i, i[1:], out=i[:-1]))(L(t, [0, 1, 2])),
     RuntimeError, "some elements of the input tensor and the written-to tensor"),
    ("take_out_dtype", lambda t: t.take(t.zeros(3), L(t, [0]), out=t.zeros(1, dtype=t.float64)),
     RuntimeError, r"take\(\): self and out expected to have the same dtype, but got self.dtype = Float and "
                   "out.dtype = Double"),
    ("masked_fill_complex_into_float", lambda t: t.zeros(2).masked_fill(t.tensor(True), 1j),
     RuntimeError, "value cannot be converted to type float without overflow"),
    ("masked_fill_complex_tensor_into_long",
     lambda t: t.zeros(2, dtype=t.int64).masked_fill(t.tensor(True), t.tensor(1j)),
     RuntimeError, "value cannot be converted to type int64_t without overflow"),
    ("masked_fill_int8_overflow", lambda t: t.zeros(2, dtype=t.int8).masked_fill(t.tensor(True), 127.5),
     RuntimeError, "value cannot be converted to type int8_t without overflow"),
    ("masked_fill_half_overflow", lambda t: t.zeros(2, dtype=t.float16).masked_fill(t.tensor(True), 1e5),
     RuntimeError, "value cannot be converted to type c10::Half without overflow"),
    ("gather_oob", lambda t: t.zeros(2, 3).gather(1, L(t, [[0, 3]])),
     RuntimeError, "index 3 is out of bounds for dimension 1 with size 3"),
    ("gather_neg", lambda t: t.zeros(2, 3).gather(1, L(t, [[-1]])),
     RuntimeError, "index -1 is out of bounds for dimension 1 with size 3"),
    ("gather_dtype", lambda t: t.zeros(2, 3).gather(1, t.tensor([[0]], dtype=t.int16)),
     RuntimeError, r"gather\(\): Expected dtype int32/int64 for index"),
    ("gather_ndim", lambda t: t.zeros(2, 3).gather(1, L(t, [0])),
     RuntimeError, "Index tensor must have the same number of dimensions as input tensor"),
    ("gather_size", lambda t: t.zeros(2, 3).gather(1, L(t, [[0], [0], [0]])),
     RuntimeError, r"Size does not match at dimension 0 expected index \[3, 1\] to be no larger than self \[2, 3\] "
                   r"apart from dimension 1"),
    ("scatter_oob", lambda t: t.zeros(2, 3).scatter(0, L(t, [[2]]), 1.0),
     RuntimeError, "index 2 is out of bounds for dimension 0 with size 2"),
    ("scatter_add_oob", lambda t: t.zeros(2, 3).scatter_add(1, L(t, [[5]]), t.ones(1, 1)),
     RuntimeError, "index 5 is out of bounds for dimension 1 with size 3"),
    ("scatter_dtype", lambda t: t.zeros(2, 3).scatter(0, L(t, [[0]]), t.ones(1, 1, dtype=t.float64)),
     RuntimeError, r"scatter\(\): Expected self.dtype to be equal to src.dtype"),
    ("scatter_src_small", lambda t: t.zeros(2, 3).scatter(1, L(t, [[0, 1]]), t.ones(1, 1)),
     RuntimeError, r"Expected index \[1, 2\] to be no larger than self \[2, 3\] apart from dimension 1 and to be no "
                   r"larger size than src \[1, 1\]"),
    ("index_select_oob", lambda t: t.zeros(2, 3).index_select(1, L(t, [3])),
     RuntimeError, r"INDICES element is out of DATA bounds, id=3 axis_dim=3"),
    ("index_select_2d", lambda t: t.zeros(2, 3).index_select(1, L(t, [[0]])),
     IndexError, r"index_select\(\): Index is supposed to be a vector"),
    ("index_select_float", lambda t: t.zeros(2, 3).index_select(1, t.tensor([0.0])),
     RuntimeError, r"index_select\(\): Expected dtype int32 or int64 for index"),
    ("index_add_oob", lambda t: t.zeros(2, 3).index_add(0, L(t, [2]), t.ones(1, 3)),
     RuntimeError, "index 2 is out of bounds for dimension 0 with size 2"),
    ("index_add_src_shape", lambda t: t.zeros(2, 3).index_add(0, L(t, [1]), t.ones(2, 3)),
     RuntimeError, r"index_add_\(\): Number of indices \(1\) should be equal to source.size\(dim\): \(2\), for dim: 0"),
    ("index_fill_oob", lambda t: t.zeros(2, 3).index_fill(1, L(t, [3]), 1.0),
     IndexError, r"index 3 is out of bounds for dimension 1 with size 3"),
    ("index_fill_value_1d", lambda t: t.zeros(2, 3).index_fill(1, L(t, [0]), t.ones(1)),
     RuntimeError, "index_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension"),
    ("index_copy_oob", lambda t: t.zeros(2, 3).index_copy(0, L(t, [2]), t.ones(1, 3)),
     IndexError, r"index_copy_\(\): index 2 is out of bounds for dimension 0 with size 2"),
    ("index_put_oob", lambda t: t.zeros(2, 3).index_put((L(t, [2]),), t.ones(3)),
     IndexError, "index 2 is out of bounds for dimension 0 with size 2"),
    ("masked_fill_int_mask", lambda t: t.zeros(2).masked_fill(t.tensor([1, 0]), 1.0),
     RuntimeError, "masked_fill_ only supports boolean masks, but got mask with dtype long"),
    ("masked_fill_value_1d", lambda t: t.zeros(2).masked_fill(t.tensor([True, False]), t.ones(1)),
     RuntimeError, "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension"),
    ("masked_fill_shape", lambda t: t.zeros(2, 3).masked_fill(t.ones(2, dtype=t.bool), 1.0),
     RuntimeError, r"The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 1"),
    ("masked_fill_inplace_bigger_mask", lambda t: t.zeros(3).masked_fill_(t.ones(2, 3, dtype=t.bool), 1.0),
     RuntimeError, r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    ("masked_fill_uint8_mask", lambda t: t.zeros(2).masked_fill(t.tensor([1, 0], dtype=t.uint8), 1.0),
     RuntimeError, "masked_fill_ only supports boolean masks, but got mask with dtype unsigned char"),
    ("masked_scatter_dtype", lambda t: t.zeros(3).masked_scatter(t.ones(3, dtype=t.bool), t.ones(3, dtype=t.float64)),
     RuntimeError, "masked_scatter: expected self and source to have same dtypes but gotFloat and Double"),
    ("select_scatter_shape", lambda t: t.zeros(2, 3).select_scatter(t.ones(3), 1, 0),
     RuntimeError, r"expected src to have a size equal to the slice of self. src size = \[3\], slice size = \[2\]"),
    ("diagonal_scatter_shape", lambda t: t.zeros(2, 3).diagonal_scatter(t.ones(3)),
     RuntimeError, r"src size = \[3\], slice size = \[2\]"),
    ("index_reduce_sum", lambda t: t.zeros(2, 3).index_reduce(0, L(t, [0]), t.ones(1, 3), "sum"),
     RuntimeError, "index_reduce\\(\\): Expected reduce to be one of prod, mean, amax or amin but got sum."),
    ("unravel_index_float", lambda t: t.unravel_index(t.tensor([1.0]), (2, 4)),
     TypeError, "expected 'indices' to be integer dtype, but got torch.float32"),
    ("unravel_index_neg_shape", lambda t: t.unravel_index(t.tensor([1]), (2, -4)),
     ValueError, r"'shape' cannot have negative values, but got \(2, -4\)"),
    ("masked_select_int_mask", lambda t: t.zeros(2).masked_select(t.tensor([1, 0])),
     RuntimeError, "masked_select: expected BoolTensor for mask"),
    ("masked_scatter_small_src", lambda t: t.zeros(3).masked_scatter(t.ones(3, dtype=t.bool), t.ones(2)),
     RuntimeError, "Number of elements of source < number of ones in mask"),
    ("take_oob", lambda t: t.zeros(2, 3).take(L(t, [6])),
     IndexError, r"out of range: tried to access index 6 on a tensor of 6 elements"),
    ("take_neg_oob", lambda t: t.zeros(2, 3).take(L(t, [-7])),
     IndexError, r"out of range: tried to access index -7 on a tensor of 6 elements"),
    ("put_oob", lambda t: t.zeros(2, 3).put_(L(t, [6]), t.ones(1)),
     IndexError, r"out of range: tried to access index 6 on a tensor of 6 elements"),
    ("put_size", lambda t: t.zeros(2, 3).put_(L(t, [0, 1]), t.ones(3)),
     IndexError, r"put_\(\): Expected source and index to have the same number of elements, but got source.numel\(\) "
                 r"= 3, index.numel\(\) = 2"),
    ("index_add_alpha_overflow", lambda t: t.zeros(2, dtype=t.uint8).index_add(0, L(t, [0]), t.ones(1, dtype=t.uint8),
                                                                          alpha=256),
     RuntimeError, "value cannot be converted to type uint8_t without overflow"),
    ("take_along_dim_int32_with_dim", lambda t: t.zeros(2, 3).take_along_dim(t.tensor([[0]], dtype=t.int32), 1),
     RuntimeError, r"torch.take_along_dim\(\): dtype of indices should be Long but got Int"),
    ("gather_nonempty_uint8", lambda t: t.zeros(5).gather(0, t.zeros(1, dtype=t.uint8)),
     RuntimeError, r"gather\(\): Expected dtype int32/int64 for index"),
    ("scatter_empty_idx_dtype", lambda t: t.zeros(3).scatter(0, t.zeros(0, dtype=t.int64), t.ones(0, dtype=t.float64)),
     RuntimeError, r"scatter\(\): Expected self.dtype to be equal to src.dtype"),
    ("take_along_dim_ndim", lambda t: t.zeros(2, 3).take_along_dim(L(t, [0]), 1),
     RuntimeError, "torch.take_along_dim\\(\\): input and indices should have the same number of dimensions, but got "
                   "2 dimensions for input, and 1 dimensions for indices"),
]


@pytest.mark.parametrize("fn,exc,match", _table(OP_ERRORS))
def test_index_op_errors(fn, exc, match):
    raises(fn, exc, match)


# ---- hypothesis: random shapes and keys ----------------------------------------------------------------------------
@st.composite
def shape_and_key(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    key = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "none"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            a = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            b = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            key.append(slice(a, b, draw(st.one_of(st.none(), st.integers(1, 3)))))
        elif kind == "none":
            key.extend([None, slice(None)])
        else:
            key.append(slice(None))
    return shape, tuple(key)


@settings(max_examples=25, deadline=None)
@given(sk=shape_and_key())
def test_basic_index_random(sk):
    shape, key = sk
    check(lambda t, x: x[key], [r(*shape)], dtypes=["float64"])


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_advanced_index_random(shape, data):
    nd = len(shape)
    k = data.draw(st.integers(1, nd))
    n = data.draw(st.integers(0, 5))
    idx = [np.array(data.draw(st.lists(st.integers(-s, s - 1), min_size=n, max_size=n)), dtype=np.int64)
           for s in shape[:k]]
    sl = data.draw(st.booleans())

    def prog(t, x, *ii):
        key = tuple(ii)
        return x[(slice(None),) + key[1:]] if sl and len(key) > 1 else x[key]
    check(prog, [r(*shape)] + idx, dtypes=["float64"], grad_inputs=[0])

    def setp(t, x, *ii):
        y = x * 3
        y[tuple(ii)] = 0.0
        return y
    if all(len(set(i % s)) == len(i) for i, s in zip(idx, shape)) or k == 1:
        check(setp, [r(*shape)] + idx, dtypes=["float64"], grad_inputs=[0])


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_gather_scatter_random(shape, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(data.draw(st.integers(0, s)) for s in shape)
    idx = np.random.default_rng(0).integers(0, shape[d], ishape)
    check(lambda t, x, i: (x.gather(d, i), x.scatter_add(d, i, x.gather(d, i).exp()), x.index_select(d, i.reshape(-1))),
          [r(*shape), idx], dtypes=["float64"])


# ---- large inputs: flat-position kernels (np.take / ufunc.at), per-rank row adds --------------------------------------
def _big_idx(shape, hi, seed=0):
    return np.random.default_rng(seed).integers(0, hi, shape)


XB, SB = r(300, 200, seed=3), r(300, 200, seed=4)
IB1, IB0 = _big_idx((300, 200), 200, 5), _big_idx((300, 200), 300, 6)
X3, S3, I3 = r(6, 40, 50, seed=7), r(6, 40, 50, seed=8), _big_idx((6, 40, 50), 40, 9)
# ~1.3 repeats per index: a few per-rank rounds. (Few repeats also keep index_put/put comparable: on several threads
# PyTorch adds a large accumulating index_put atomically, so long sums of repeats round in no fixed order.)
ROWS = _big_idx(400, 300, 10)
HOT = np.r_[np.zeros(40, np.int64), ROWS[:60]]      # index 0 repeated 40 times: past the per-rank limit
SPIKE = np.where(np.random.default_rng(11).random((300, 200)) < 0.01, np.inf, SB)

LARGE_OPS = [
    ("gather_dim1", lambda t, x, i: x.gather(1, i), [XB, IB1]),
    ("gather_dim0", lambda t, x, i: x.gather(0, i), [XB, IB0]),
    ("gather_3d_middle", lambda t, x, i: x.gather(1, i), [X3, I3]),
    ("gather_noncontig", lambda t, x, i: x.t().gather(0, i[:, :100].t()), [XB, IB1]),
    ("gather_smaller_idx", lambda t, x, i: x.gather(1, i[:150, :7]), [XB, IB1]),
    ("gather_int32", lambda t, x, i: x.gather(1, i.int()), [XB, IB1]),
    ("scatter_add_dim1", lambda t, x, i, s: x.scatter_add(1, i, s), [XB, IB1, SB]),
    ("scatter_add_dim0", lambda t, x, i, s: t.scatter_add(x, 0, i, s), [XB, IB0, SB]),
    ("scatter_add_3d", lambda t, x, i, s: x.scatter_add(1, i, s), [X3, I3, S3]),
    ("scatter_add_inf", lambda t, x, i, s: x.scatter_add(1, i, s), [XB, IB1, SPIKE]),
    ("scatter_dim1", lambda t, x, i, s: x.scatter(1, i, s), [XB, IB1, SB]),
    ("scatter_value", lambda t, x, i: x.scatter(0, i, -2.0), [XB, IB0]),
    ("index_add_rows", lambda t, x, s: x.index_add(0, t.from_numpy(ROWS), s), [XB, r(400, 200, seed=12)]),
    ("index_add_hot_rows", lambda t, x, s: x.index_add(0, t.from_numpy(HOT), s, alpha=0.5), [XB, r(100, 200, seed=13)]),
    ("index_add_cols", lambda t, x, s: x.index_add(1, t.from_numpy(ROWS[:250] % 200), s), [XB, r(300, 250, seed=14)]),
    ("index_add_3d_middle", lambda t, x, s: x.index_add(1, t.from_numpy(ROWS[:60] % 40), s), [X3, r(6, 60, 50)]),
    ("index_select_rows", lambda t, x: x.index_select(0, t.from_numpy(ROWS)), [XB]),
    ("index_select_hot", lambda t, x: x.index_select(0, t.from_numpy(HOT)), [XB]),
    ("index_select_cols", lambda t, x: x.index_select(1, t.from_numpy(ROWS % 200)), [XB]),
    ("getitem_rows", lambda t, x: x[t.from_numpy(ROWS)], [XB]),
    ("getitem_neg_rows", lambda t, x: x[t.from_numpy(ROWS - 300)], [XB]),
    ("getitem_pairs", lambda t, x: x[t.from_numpy(ROWS), t.from_numpy(ROWS % 200)], [XB]),
    ("getitem_mask", lambda t, x: x[x > 0.5], [XB]),
    ("index_put_acc", lambda t, x, v: x.index_put((t.from_numpy(ROWS),), v, accumulate=True),
     [XB, r(400, 200, seed=15)]),
    ("index_put_acc_pairs", lambda t, x, v: x.index_put((t.from_numpy(ROWS - 300), t.from_numpy(ROWS % 200)), v,
                                                        accumulate=True), [XB, r(400, seed=16)]),
    ("take", lambda t, x, i: x.take(i), [XB, IB0 * 200 + IB1 - 30000]),
    ("put_acc", lambda t, x, i, s: x.put(i, s, accumulate=True), [XB, IB0 * 200 + IB1, SB]),
    ("masked_scatter", lambda t, x, s: x.masked_scatter(x > 0, s), [XB, SB]),
]


@pytest.mark.parametrize("fn,inputs", _table(LARGE_OPS))
def test_index_ops_large(fn, inputs):
    check(fn, inputs, dtypes=F)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_large(reduce, include_self):
    s = 1 + 0.01 * SB if reduce == "prod" else np.round(SB, 1)    # coarse values: amax/amin ties
    check(lambda t, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self), [XB, IB1, s], dtypes=F)


@pytest.mark.parametrize("fn", [
    lambda t, x, i, s: x.scatter_add(1, i, s),
    lambda t, x, i, s: x.scatter_add(0, i, s),
    lambda t, x, i, s: x.index_add(0, t.from_numpy(ROWS), s[:, :200].repeat(2, 1)[:400]),
    lambda t, x, i, s: x.index_add(0, t.from_numpy(ROWS % 7), s[:, :200].repeat(2, 1)[:400]),   # ~57 repeats each
    lambda t, x, i, s: x.index_add(0, t.from_numpy(np.r_[np.zeros(150, np.int64), ROWS[:150]]), s),  # 150 of row 0
    lambda t, x, i, s: x.gather(1, i),
])
def test_accumulation_float32_exact(fn):
    """Repeated indices are summed in float32 in index order, as PyTorch's CPU loops: results and gradients are
    bit-identical. (Not index_put: on several threads PyTorch adds large index_puts atomically, in no fixed order.)"""
    check(fn, [100 * XB, IB1 % 150, SB], dtypes=["float32"], tol=dict(rtol=0, atol=0))


def test_gather_scatter_large_double_backward():
    def prog(t, x, s, u):
        y = x.gather(1, t.from_numpy(IB1)) * s + x.scatter_add(0, t.from_numpy(IB0), s) + \
            x.scatter_reduce(1, t.from_numpy(IB1), s, "mean")
        g = t.autograd.grad(y, (x, s), u, create_graph=True)
        return g[0] * x + g[1] * s.exp()
    check(prog, [XB, SB, r(300, 200, seed=20)], dtypes=F)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda t: t.zeros(300, 200).gather(1, t.from_numpy(np.where(IB1 == 7, -2, IB1))), RuntimeError,
     "index -2 is out of bounds for dimension 1 with size 200"),
    (lambda t: t.zeros(300, 200).gather(1, t.from_numpy(IB1 + 1).int()), RuntimeError,
     "index 200 is out of bounds for dimension 1 with size 200"),
    (lambda t: t.zeros(300, 200).scatter_add(0, t.from_numpy(IB0 + 1), t.ones(300, 200)), RuntimeError,
     "index 300 is out of bounds for dimension 0 with size 300"),
    (lambda t: t.zeros(300, 200).index_select(1, t.from_numpy(np.r_[ROWS % 200, -1])), RuntimeError,
     "INDICES element is out of DATA bounds, id=-1 axis_dim=200"),
    (lambda t: t.zeros(300, 200).index_select(0, t.from_numpy(np.r_[ROWS, 300])), IndexError,
     "index out of range in self"),
    (lambda t: t.zeros(2, 3, 4).index_select(-1, t.from_numpy(np.r_[0, 4])), IndexError, "index out of range in self"),
    (lambda t: t.zeros(3).index_select(0, t.from_numpy(np.r_[-1])), IndexError, "index out of range in self"),
    (lambda t: t.zeros(300, 200).index_add(0, t.from_numpy(np.r_[ROWS, -1]), t.ones(401, 200)), RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 300"),
    (lambda t: t.zeros(300, 200)[t.from_numpy(np.r_[ROWS, -301])], IndexError,
     "index -301 is out of bounds for dimension 0 with size 300"),
    (lambda t: t.zeros(300, 200).take(t.from_numpy(np.r_[ROWS, 60000])), IndexError,
     "out of range: tried to access index 60000 on a tensor of 60000 elements"),
])
def test_index_errors_large(fn, exc, match):
    raises(fn, exc, match)
