"""Shape ops against torch: views, joins/splits, flips, triangles, diagonals, repeats (values, dtypes, grads)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from parity import check, check_raises, assert_same, to_ember, to_torch, r, ri, raises, _table

F = ("float64", "float32")


# (id, fn(lib, *tensors), inputs) -- every case is checked for values, dtypes and gradients in float64 and float32.
CASES = [
    # view / reshape
    ("view", lambda t, x: x.view(3, 8), [r(2, 3, 4)]),
    ("view_tuple", lambda t, x: x.view((4, -1)), [r(2, 3, 4)]),
    ("view_infer", lambda t, x: x.view(-1), [r(2, 3, 4)]),
    ("view_0d", lambda t, x: x.view(1, 1), [r()]),
    ("view_to_0d", lambda t, x: x.view(()), [r(1)]),
    ("view_empty", lambda t, x: x.view(0, 5), [r(5, 0)]),
    ("view_as", lambda t, x, y: x.view_as(y), [r(6), r(2, 3)]),
    ("reshape", lambda t, x: x.reshape(4, -1, 2), [r(2, 3, 4)]),
    ("reshape_noncontig", lambda t, x: x.t().reshape(-1), [r(3, 4)]),
    ("reshape_strided", lambda t, x: x[:, ::2].reshape(2, 3), [r(2, 6)]),
    ("reshape_fn", lambda t, x: t.reshape(x, (3, 2)), [r(6)]),
    ("reshape_as", lambda t, x, y: x.reshape_as(y), [r(2, 3), r(3, 2)]),
    ("reshape_empty_infer", lambda t, x: x.reshape(-1, 2), [r(0, 4)]),
    ("flatten", lambda t, x: x.flatten(), [r(2, 3, 4)]),
    ("flatten_range", lambda t, x: t.flatten(x, 1, 2), [r(2, 3, 4, 5)]),
    ("flatten_neg", lambda t, x: x.flatten(-3, -2), [r(2, 3, 4, 5)]),
    ("flatten_0d", lambda t, x: x.flatten(), [r()]),
    ("flatten_noncontig", lambda t, x: x.transpose(0, 2).flatten(1), [r(2, 3, 4)]),
    ("unflatten", lambda t, x: x.unflatten(1, (2, 3)), [r(4, 6, 2)]),
    ("unflatten_infer", lambda t, x: t.unflatten(x, -1, (-1, 2)), [r(4, 6)]),
    ("unflatten_noncontig", lambda t, x: x.t().unflatten(1, (2, 2)), [r(4, 3)]),
    # squeeze / unsqueeze
    ("squeeze_all", lambda t, x: x.squeeze(), [r(1, 3, 1, 2)]),
    ("squeeze_dim", lambda t, x: x.squeeze(2), [r(1, 3, 1, 2)]),
    ("squeeze_dim_noop", lambda t, x: x.squeeze(1), [r(1, 3, 1, 2)]),
    ("squeeze_neg", lambda t, x: t.squeeze(x, -2), [r(1, 3, 1, 2)]),
    ("squeeze_tuple", lambda t, x: x.squeeze((0, 2)), [r(1, 3, 1, 2)]),
    ("squeeze_tuple_mixed", lambda t, x: x.squeeze((0, 1, -1)), [r(1, 3, 1, 1)]),
    ("squeeze_0d", lambda t, x: x.squeeze(0), [r()]),
    ("squeeze_0d_all", lambda t, x: x.squeeze(), [r()]),
    ("unsqueeze", lambda t, x: x.unsqueeze(1), [r(2, 3)]),
    ("unsqueeze_neg", lambda t, x: t.unsqueeze(x, -1), [r(2, 3)]),
    ("unsqueeze_0d", lambda t, x: x.unsqueeze(0), [r()]),
    ("unsqueeze_noncontig", lambda t, x: x.t().unsqueeze(1), [r(2, 3)]),
    # permutations
    ("permute", lambda t, x: x.permute(2, 0, 1), [r(2, 3, 4)]),
    ("permute_list", lambda t, x: t.permute(x, [1, -1, 0]), [r(2, 3, 4)]),
    ("permute_0d", lambda t, x: x.permute(()), [r()]),
    ("permute_dims_kw", lambda t, x: t.permute(x, dims=(2, 0, 1)), [r(2, 3, 4)]),
    ("permute_method_dims_kw", lambda t, x: x.permute(dims=[1, 0, 2]), [r(2, 3, 4)]),
    ("transpose", lambda t, x: x.transpose(0, 2), [r(2, 3, 4)]),
    ("transpose_neg", lambda t, x: t.transpose(x, -1, -2), [r(2, 3, 4)]),
    ("swapaxes", lambda t, x: x.swapaxes(0, 1), [r(2, 3, 4)]),
    ("swapdims", lambda t, x: t.swapdims(x, 2, 1), [r(2, 3, 4)]),
    ("t_2d", lambda t, x: x.t(), [r(2, 3)]),
    ("t_1d", lambda t, x: t.t(x), [r(3)]),
    ("t_0d", lambda t, x: x.t(), [r()]),
    ("T", lambda t, x: x.T, [r(2, 3)]),
    ("mT", lambda t, x: x.mT, [r(2, 3, 4)]),
    ("movedim", lambda t, x: x.movedim(0, 2), [r(2, 3, 4)]),
    ("movedim_multi", lambda t, x: t.movedim(x, (0, 1), (2, 0)), [r(2, 3, 4)]),
    ("movedim_neg", lambda t, x: t.moveaxis(x, -1, 0), [r(2, 3, 4)]),
    ("adjoint", lambda t, x: x.adjoint(), [r(2, 3, 4)]),
    # expand / broadcast
    ("expand", lambda t, x: x.expand(2, 3, 4), [r(3, 1)]),
    ("expand_minus1", lambda t, x: x.expand(-1, 4), [r(3, 1)]),
    ("expand_0d", lambda t, x: x.expand(2, 2), [r()]),
    ("expand_empty", lambda t, x: x.expand(0, 3), [r(1, 3)]),
    ("expand_as", lambda t, x, y: x.expand_as(y), [r(1, 4), r(3, 4)]),
    ("broadcast_to", lambda t, x: t.broadcast_to(x, (2, 3)), [r(3)]),
    ("broadcast_tensors", lambda t, x, y, z: t.broadcast_tensors(x, y, z), [r(3, 1), r(4), r()]),
    ("expand_noncontig", lambda t, x: x.t().expand(2, 3, 2), [r(2, 3)]),
    # repeat / tile / repeat_interleave
    ("repeat", lambda t, x: x.repeat(2, 3), [r(2, 3)]),
    ("repeat_lead", lambda t, x: x.repeat(2, 1, 2), [r(2, 3)]),
    ("repeat_0d", lambda t, x: x.repeat(3), [r()]),
    ("repeat_zero", lambda t, x: x.repeat(0, 2), [r(2, 3)]),
    ("repeat_noncontig", lambda t, x: x.t().repeat(2, 2), [r(2, 3)]),
    ("tile", lambda t, x: t.tile(x, (2,)), [r(2, 3)]),
    ("tile_more", lambda t, x: x.tile((2, 1, 2)), [r(2, 3)]),
    ("repeat_interleave_int", lambda t, x: x.repeat_interleave(2), [r(2, 3)]),
    ("repeat_interleave_dim", lambda t, x: t.repeat_interleave(x, 3, dim=1), [r(2, 3)]),
    ("repeat_interleave_tensor", lambda t, x: x.repeat_interleave(t.tensor([1, 0, 2]), dim=-1), [r(2, 3)]),
    ("repeat_interleave_tensor_flat", lambda t, x: t.repeat_interleave(x, t.tensor([1, 2, 0, 1])), [r(2, 2)]),
    ("repeat_interleave_1elem", lambda t, x: x.repeat_interleave(t.tensor([2]), dim=0), [r(3, 2)]),
    # contiguous / narrow / split family
    ("contiguous", lambda t, x: x.t().contiguous(), [r(2, 3)]),
    ("unfold_overlapping", lambda t, x: x.unfold(1, 3, 1), [r(2, 5)]),
    ("unfold_step", lambda t, x: x.unfold(0, 2, 3), [r(7, 2)]),
    ("unfold_negative_dim_then_op", lambda t, x: x.unfold(-1, 2, 2).sum(-1) * 2, [r(2, 3, 4)]),
    ("unfold_whole_dim", lambda t, x: x.unfold(1, 4, 1), [r(3, 4)]),
    ("unfold_0d", lambda t, x: x.unfold(0, 1, 1), [r()]),
    ("narrow", lambda t, x: x.narrow(1, 1, 2), [r(2, 4)]),
    ("narrow_neg_start", lambda t, x: t.narrow(x, 0, -2, 2), [r(4, 2)]),
    ("narrow_tensor_start", lambda t, x: x.narrow(0, t.tensor(1), 2), [r(4, 2)]),
    ("narrow_empty", lambda t, x: x.narrow(1, 4, 0), [r(2, 4)]),
    ("split_int", lambda t, x: x.split(2, dim=1), [r(3, 5)]),
    ("split_sections", lambda t, x: t.split(x, [1, 3, 1], 1), [r(3, 5)]),
    ("split_bigger", lambda t, x: x.split(10), [r(3, 2)]),
    ("split_zero_section", lambda t, x: x.split([0, 3]), [r(3, 2)]),
    ("split_with_sizes", lambda t, x: x.split_with_sizes([2, 1], -1), [r(2, 3)]),
    ("chunk", lambda t, x: x.chunk(3, 1), [r(2, 7)]),
    ("chunk_fewer", lambda t, x: t.chunk(x, 4), [r(6, 2)]),
    ("chunk_more_than_size", lambda t, x: x.chunk(5), [r(3)]),
    ("tensor_split_int", lambda t, x: x.tensor_split(3, dim=1), [r(2, 7)]),
    ("tensor_split_idx", lambda t, x: t.tensor_split(x, [1, 4], dim=0), [r(6, 2)]),
    ("tensor_split_idx_oob", lambda t, x: x.tensor_split([2, 10, 1]), [r(5)]),
    ("tensor_split_tensor", lambda t, x: x.tensor_split(t.tensor([1, 3])), [r(5)]),
    ("hsplit", lambda t, x: x.hsplit(2), [r(3, 4)]),
    ("hsplit_1d", lambda t, x: t.hsplit(x, [1, 3]), [r(5)]),
    ("vsplit", lambda t, x: t.vsplit(x, [1]), [r(4, 2)]),
    ("dsplit", lambda t, x: x.dsplit(2), [r(2, 1, 4)]),
    ("unsafe_split", lambda t, x: t.unsafe_split(x, 2), [r(5)]),
    ("unsafe_chunk", lambda t, x: x.unsafe_chunk(2, 1), [r(2, 3)]),
    ("narrow_copy", lambda t, x: x.narrow_copy(0, 1, 2), [r(4, 2)]),
    ("ravel", lambda t, x: x.ravel(), [r(2, 3)]),
    ("ravel_noncontig", lambda t, x: t.ravel(x.t()), [r(2, 3)]),
    ("unbind", lambda t, x: x.unbind(1), [r(2, 3)]),
    ("unbind_fn", lambda t, x: t.unbind(x), [r(3, 2)]),
    ("select", lambda t, x: x.select(1, -1), [r(2, 3, 4)]),
    ("select_fn", lambda t, x: t.select(x, 0, 1), [r(2, 3)]),
    # joins
    ("cat", lambda t, x, y: t.cat([x, y], 1), [r(2, 3), r(2, 4)]),
    ("cat_neg", lambda t, x, y: t.cat((x, y), dim=-1), [r(2, 3), r(2, 1)]),
    ("cat_empty_1d", lambda t, x, y: t.cat([x, y]), [r(0), r(2, 3)]),
    ("cat_empty_1d_mid", lambda t, x, y, z: t.cat([x, y, z], 1), [r(2, 3), r(0), r(2, 2)]),
    ("cat_empty_2d", lambda t, x, y: t.cat([x, y]), [r(0, 3), r(2, 3)]),
    ("cat_noncontig", lambda t, x, y: t.concat([x.t(), y]), [r(3, 2), r(1, 3)]),
    ("concatenate", lambda t, x, y: t.concatenate([x, y], 0), [r(2), r(3)]),
    ("stack", lambda t, x, y: t.stack([x, y]), [r(2, 3), r(2, 3)]),
    ("stack_dim", lambda t, x, y: t.stack((x, y), dim=-1), [r(2, 3), r(2, 3)]),
    ("stack_0d", lambda t, x, y: t.stack([x, y]), [r(), r()]),
    ("hstack", lambda t, x, y: t.hstack([x, y]), [r(2, 3), r(2, 1)]),
    ("hstack_1d", lambda t, x, y: t.hstack((x, y)), [r(2), r(3)]),
    ("hstack_0d", lambda t, x, y: t.hstack([x, y]), [r(), r(2)]),
    ("vstack", lambda t, x, y: t.vstack([x, y]), [r(3), r(2, 3)]),
    ("row_stack", lambda t, x, y: t.row_stack([x, y]), [r(3), r(3)]),
    ("dstack", lambda t, x, y: t.dstack([x, y]), [r(3), r(3)]),
    ("dstack_2d", lambda t, x, y: t.dstack([x, y]), [r(2, 3), r(2, 3, 2)]),
    ("column_stack", lambda t, x, y, z: t.column_stack([x, y, z]), [r(3), r(3, 2), r(3)]),
    ("column_stack_0d", lambda t, x, y: t.column_stack([x, y]), [r(), r(1)]),
    # flips / rolls
    ("flip", lambda t, x: x.flip(0), [r(3, 4)]),
    ("flip_multi", lambda t, x: t.flip(x, (0, -1)), [r(2, 3, 4)]),
    ("flip_varargs", lambda t, x: x.flip(1, 2), [r(2, 3, 4)]),
    ("flip_0d", lambda t, x: x.flip(()), [r()]),
    ("flip_dims_kw", lambda t, x: t.flip(x, dims=(0, -1)), [r(2, 3, 4)]),
    ("flip_method_dims_kw", lambda t, x: x.flip(dims=[1]), [r(2, 3, 4)]),
    ("flip_dims_kw_empty", lambda t, x: t.flip(x, dims=()), [r(2, 3)]),
    ("fliplr", lambda t, x: t.fliplr(x), [r(3, 4)]),
    ("flipud", lambda t, x: x.flipud(), [r(3)]),
    ("roll_flat", lambda t, x: x.roll(2), [r(3, 4)]),
    ("roll_flat_neg", lambda t, x: t.roll(x, -5), [r(3, 4)]),
    ("roll_dim", lambda t, x: x.roll(1, 1), [r(3, 4)]),
    ("roll_dims", lambda t, x: t.roll(x, (1, -2), (0, 1)), [r(3, 4)]),
    ("roll_same_dim", lambda t, x: x.roll((1, 1), (1, 1)), [r(3, 4)]),
    ("roll_noncontig", lambda t, x: x.t().roll(1, 0), [r(3, 4)]),
    ("roll_empty", lambda t, x: x.roll(1, 0), [r(0, 3)]),
    ("rot90", lambda t, x: x.rot90(), [r(2, 3)]),
    ("rot90_k2", lambda t, x: t.rot90(x, 2), [r(2, 3)]),
    ("rot90_k3", lambda t, x: t.rot90(x, 3, [0, 1]), [r(2, 3)]),
    ("rot90_kneg", lambda t, x: t.rot90(x, -1, (1, 2)), [r(2, 3, 4)]),
    ("rot90_k4", lambda t, x: t.rot90(x, 4), [r(2, 3)]),
    ("rot90_dims_rev", lambda t, x: t.rot90(x, 1, (1, 0)), [r(2, 3)]),
    # triangles / diagonals
    ("tril", lambda t, x: x.tril(), [r(4, 5)]),
    ("tril_pos", lambda t, x: t.tril(x, 1), [r(4, 5)]),
    ("tril_neg", lambda t, x: x.tril(-2), [r(2, 4, 3)]),
    ("triu", lambda t, x: x.triu(), [r(4, 5)]),
    ("triu_pos", lambda t, x: t.triu(x, 2), [r(3, 4, 5)]),
    ("triu_neg", lambda t, x: x.triu(diagonal=-1), [r(4, 3)]),
    ("tril_noncontig", lambda t, x: x.t().tril(), [r(4, 3)]),
    ("triu_big_offset", lambda t, x: x.triu(9), [r(3, 3)]),
    ("diag_1d", lambda t, x: t.diag(x), [r(3)]),
    ("diag_1d_pos", lambda t, x: x.diag(2), [r(3)]),
    ("diag_1d_neg", lambda t, x: t.diag(x, -1), [r(3)]),
    ("diag_2d", lambda t, x: x.diag(), [r(3, 4)]),
    ("diag_2d_pos", lambda t, x: t.diag(x, 1), [r(3, 4)]),
    ("diag_2d_neg", lambda t, x: x.diag(-2), [r(3, 4)]),
    ("diag_2d_far", lambda t, x: x.diag(7), [r(3, 4)]),
    ("diagonal", lambda t, x: x.diagonal(), [r(3, 4)]),
    ("diagonal_offset", lambda t, x: t.diagonal(x, 1), [r(3, 4)]),
    ("diagonal_neg_offset", lambda t, x: x.diagonal(-1), [r(3, 4)]),
    ("diagonal_dims", lambda t, x: x.diagonal(0, 0, 2), [r(2, 3, 4)]),
    ("diagonal_dims_rev", lambda t, x: t.diagonal(x, 1, 2, 0), [r(2, 3, 4)]),
    ("diagonal_neg_dims", lambda t, x: x.diagonal(offset=-1, dim1=-1, dim2=-2), [r(2, 3, 4)]),
    ("diagonal_far", lambda t, x: x.diagonal(5), [r(3, 4)]),
    ("diagonal_noncontig", lambda t, x: x.t().diagonal(), [r(3, 4)]),
    ("diag_embed", lambda t, x: t.diag_embed(x), [r(2, 3)]),
    ("diag_embed_offset", lambda t, x: x.diag_embed(1), [r(2, 3)]),
    ("diag_embed_neg_offset", lambda t, x: t.diag_embed(x, -2), [r(3)]),
    ("diag_embed_dims", lambda t, x: t.diag_embed(x, 0, 0, 2), [r(2, 3)]),
    ("diag_embed_dims_rev", lambda t, x: t.diag_embed(x, 1, -1, 0), [r(2, 3)]),
    ("diagflat", lambda t, x: t.diagflat(x), [r(2, 2)]),
    ("trace", lambda t, x: x.trace(), [r(3, 4)]),
    ("trace_fn", lambda t, x: t.trace(x), [r(4, 3)]),
    # atleast
    ("atleast_1d", lambda t, x: t.atleast_1d(x), [r()]),
    ("atleast_1d_keep", lambda t, x: t.atleast_1d(x), [r(2, 3)]),
    ("atleast_1d_multi", lambda t, x, y: t.atleast_1d(x, y), [r(), r(2)]),
    ("atleast_1d_list", lambda t, x, y: t.atleast_1d([x, y]), [r(), r(2)]),
    ("atleast_2d", lambda t, x, y, z: t.atleast_2d(x, y, z), [r(), r(3), r(2, 3, 4)]),
    ("atleast_2d_single", lambda t, x: t.atleast_2d(x), [r(3)]),
    ("atleast_3d", lambda t, x, y, z, w: t.atleast_3d(x, y, z, w), [r(), r(3), r(2, 3), r(1, 2, 3, 4)]),
    ("atleast_3d_single", lambda t, x: t.atleast_3d(x), [r(2, 3)]),
    # the *_copy variants: new contiguous tensors, nodes named <view node>_copy
    ("view_copy", lambda t, x: t.view_copy(x * 1, (3, 2)), [r(2, 3)]),
    ("permute_copy", lambda t, x: t.permute_copy(x, (2, 0, 1)), [r(2, 3, 4)]),
    ("t_copy", lambda t, x: t.t_copy(x), [r(2, 3)]),
    ("transpose_copy", lambda t, x: t.transpose_copy(x, 0, 2), [r(2, 3, 4)]),
    ("expand_copy", lambda t, x: t.expand_copy(x, (2, 3, 4)), [r(3, 1)]),
    ("squeeze_copy", lambda t, x: t.squeeze_copy(x), [r(2, 1, 3)]),
    ("squeeze_copy_dim", lambda t, x: t.squeeze_copy(x, 1), [r(2, 1, 3)]),
    ("unsqueeze_copy", lambda t, x: t.unsqueeze_copy(x, -1), [r(2, 3)]),
    ("select_copy", lambda t, x: t.select_copy(x, 1, -1), [r(2, 3)]),
    ("slice_copy", lambda t, x: t.slice_copy(x, 1, 1, 4, 2), [r(2, 5)]),
    ("slice_copy_default", lambda t, x: t.slice_copy(x), [r(3, 2)]),
    ("split_copy", lambda t, x: t.split_copy(x, 2, 1), [r(2, 5)]),
    ("split_with_sizes_copy", lambda t, x: t.split_with_sizes_copy(x, [1, 3], 1), [r(2, 4)]),
    ("unbind_copy", lambda t, x: t.unbind_copy(x, 1), [r(2, 3)]),
    ("diagonal_copy", lambda t, x: t.diagonal_copy(x, 1), [r(3, 4)]),
    ("alias_copy", lambda t, x: t.alias_copy(x), [r(2, 3)]),
    ("unfold_copy", lambda t, x: t.unfold_copy(x, 1, 2, 1), [r(2, 4)]),
    ("view_as_real_copy", lambda t, x: t.view_as_real_copy(t.complex(x, x * 2)), [r(3)]),
    # as_strided: views of the storage, overlapping on either side
    ("as_strided", lambda t, x: t.as_strided(x, (2, 3), (3, 1)), [r(6)]),
    ("as_strided_windows", lambda t, x: t.as_strided(x * 1, (4, 3), (1, 1)), [r(6)]),
    ("as_strided_offset", lambda t, x: x.as_strided((2, 2), (1, 2), 3), [r(8)]),
    ("as_strided_of_view", lambda t, x: x[1:].as_strided((3,), (2,)), [r(8)]),
    # a view at storage offset 5: an explicit offset addresses the base's storage, before or past the view
    ("as_strided_of_view_offset_0", lambda t, x: t.as_strided(x[5:15], (2, 2), (1, 2), 0), [r(20)]),
    ("as_strided_of_view_offset_past", lambda t, x: t.as_strided(x[5:15], (2, 2), (1, 2), storage_offset=10),
     [r(20)]),
    ("as_strided_of_transpose", lambda t, x: x.t().as_strided((3, 2), (1, 3)), [r(2, 3)]),
    ("as_strided_of_expanded", lambda t, x: x.expand(2, 5).as_strided((2, 2), (0, 1)), [r(5)]),
    ("as_strided_zero_stride", lambda t, x: x.as_strided((3, 2), (0, 1), 1), [r(4)]),
    ("as_strided_empty", lambda t, x: x.as_strided((0, 3), (1, 2)), [r(4)]),
    ("as_strided_copy", lambda t, x: t.as_strided_copy(x, (2, 2), (1, 1)), [r(5)]),
    ("as_strided_inplace", lambda t, x: (x * 1).as_strided_((2, 2), (2, 1), 1), [r(6)]),
]


@pytest.mark.parametrize("fn,inputs", _table(CASES))
def test_shape_op(fn, inputs):
    check(fn, inputs, dtypes=F)


def test_as_strided_is_a_view_of_the_storage():
    for lib in (ember, torch):
        x = lib.arange(8.0)
        v = lib.as_strided(x[2:], (2, 2), (2, 1), 3)
        v[0, 1] = -1.0
        got = (x.tolist(), v.storage_offset(), v.stride(), lib.empty_strided((2, 3), (1, 2)).stride(),
               x.new_empty_strided((3, 2), (1, 3)).stride())
        if lib is ember:
            e = got
    assert e == got


@pytest.mark.parametrize("call", [
    lambda t: t.as_strided(t.arange(6.0), (2, 2), (1, 2), 100),
    lambda t: t.as_strided(t.arange(6.0), (2, 2), (-1, 2)),
    lambda t: t.as_strided(t.arange(6.0), (2, 2), (1,)),
    lambda t: t.as_strided_scatter(t.zeros(6), t.ones(3), (2, 2), (1, 2)),
])
def test_as_strided_errors(call):
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as err:
            call(lib)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_as_strided_scatter(layout):
    """Values and the gradient of src as torch; the gradient of input is the derivative (g outside the written
    region), where torch's as_strided_scatter_backward returns g inside it."""
    def fn(t, x, y):
        base = x.t() if layout == "transposed" else x
        return t.as_strided_scatter(base, y, (2, 2), (1, 2), 1)
    check(fn, [r(6, 2), r(2, 2, seed=1)], dtypes=F, grad_inputs=(1,))
    x = ember.tensor(r(6, 2), requires_grad=True)
    g = r(6, 2, seed=2)
    ember.as_strided_scatter(x, ember.ones(2, 2), (2, 2), (1, 2), 1).backward(ember.tensor(g))
    expect = g.copy()
    expect.reshape(-1)[[1, 2, 3, 4]] = 0
    np.testing.assert_array_equal(x.grad.numpy(), expect)


def test_copy_variants_own_their_memory():
    x = ember.arange(6.0).reshape(2, 3)
    for y in (ember.t_copy(x), ember.view_copy(x, (3, 2)), ember.alias_copy(x), ember.detach_copy(x)):
        assert y._base is None and y.is_contiguous()
        y.fill_(-1)
    assert x.sum().item() == 15
    assert ember.t_copy(x).stride() == torch.t_copy(torch.arange(6.0).reshape(2, 3)).stride()


def test_cat_mixed_float_grad():
    """cat promotes float32 + float64 to float64; each input's gradient comes back in its own dtype."""
    check(lambda t, x, y, z: t.cat([x, y, z]) * 2, [r(2).astype(np.float32), r(3), r(0)])
    check(lambda t, x, y: t.stack([x, y], 1), [r(2, 2).astype(np.float32), r(2, 2)])


# Integer and bool inputs: values and dtypes (no grad).
INT_CASES = [
    ("reshape", lambda t, x: x.reshape(3, -1), [ri(2, 3)]),
    ("permute", lambda t, x: x.permute(1, 0), [ri(2, 3)]),
    ("expand", lambda t, x: x.expand(2, 3), [ri(3)]),
    ("repeat", lambda t, x: x.repeat(2, 1), [ri(2, 3)]),
    ("flip", lambda t, x: x.flip(0), [ri(3, 2)]),
    ("roll", lambda t, x: x.roll(1), [ri(3, 2)]),
    ("tril", lambda t, x: x.tril(), [ri(3, 3)]),
    ("triu_bool", lambda t, x: (x > 2).triu(1), [ri(3, 3)]),
    ("diag", lambda t, x: t.diag(x), [ri(3)]),
    ("diag_embed_bool", lambda t, x: t.diag_embed(x > 1), [ri(2, 3)]),
    ("trace_int", lambda t, x: x.trace(), [ri(3, 3)]),
    ("trace_int32", lambda t, x: x.int().trace(), [ri(3, 3)]),
    ("cat_promote_int_float", lambda t, x, y: t.cat([x, y]), [ri(2), r(3)]),
    ("cat_promote_int32_int64", lambda t, x, y: t.cat([x.int(), y]), [ri(2), ri(3)]),
    ("cat_promote_bool_int", lambda t, x, y: t.cat([x > 1, y.to(t.uint8)]), [ri(2), ri(3)]),
    ("cat_promote_f32_f64", lambda t, x, y: t.cat([x.float(), y]), [r(2), r(3)]),
    ("cat_empty_1d_int", lambda t, x, y: t.cat([x, y]), [ri(0), ri(2, 3)]),
    ("stack_promote", lambda t, x, y: t.stack([x.int(), y.float()]), [ri(2), ri(2)]),
    ("hstack_promote", lambda t, x, y: t.hstack([x, y > 0]), [ri(2), ri(2)]),
    ("repeat_interleave_counts", lambda t, x: t.repeat_interleave(x), [ri(4)]),
    ("repeat_interleave_bool", lambda t, x: (x > 1).repeat_interleave(2), [ri(3)]),
    ("rot90_int", lambda t, x: x.rot90(1), [ri(2, 3)]),
    ("split_int", lambda t, x: x.split(2), [ri(5)]),
    ("diagonal_int", lambda t, x: x.diagonal(1), [ri(3, 4)]),
]


@pytest.mark.parametrize("fn,inputs", _table(INT_CASES))
def test_shape_op_int(fn, inputs):
    check(fn, inputs, grad=False)


ERRORS = [
    ("unfold_too_big", lambda t: t.zeros(3, 4).unfold(1, 5, 1), RuntimeError,
     "maximum size for tensor at dimension 1 is 4 but size is 5"),
    ("unfold_zero_step", lambda t: t.zeros(3, 4).unfold(1, 2, 0), RuntimeError, "step is 0 but must be > 0"),
    ("unfold_bad_dim", lambda t: t.zeros(3, 4).unfold(2, 1, 1), IndexError, "Dimension out of range"),
    ("view_noncontig", lambda t: t.zeros(3, 4).t().view(-1), RuntimeError, "view size is not compatible"),
    ("view_bad_size", lambda t: t.zeros(2, 3).view(4, 2),
     RuntimeError, r"shape '\[4, 2\]' is invalid for input of size 6"),
    ("view_two_infer", lambda t: t.zeros(2, 3).view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    ("reshape_bad", lambda t: t.zeros(2, 3).reshape(5, -1),
     RuntimeError, r"shape '\[5, -1\]' is invalid for input of size 6"),
    ("reshape_neg", lambda t: t.zeros(2, 3).reshape(-2, 3), RuntimeError, "invalid shape dimension -2"),
    ("view_neg", lambda t: t.zeros(2, 3).view(-2, 3), RuntimeError, "invalid shape dimension -2"),
    ("view_neg_tuple", lambda t: t.zeros(2, 3, requires_grad=True).view((3, -3)), RuntimeError,
     "invalid shape dimension -3"),
    ("reshape_empty_infer", lambda t: t.zeros(0, 3).reshape(0, -1),
     RuntimeError, "cannot reshape tensor of 0 elements into shape \\[0, -1\\] because the unspecified dimension "
                   "size -1 can be any value"),
    ("flatten_order", lambda t: t.zeros(2, 3, 4).flatten(2, 1), RuntimeError, "start_dim cannot come after end_dim"),
    ("unflatten_bad", lambda t: t.zeros(2, 6).unflatten(1, (4, 2)), RuntimeError, "don't multiply up to the size"),
    ("squeeze_dim_oob", lambda t: t.zeros(2, 3).squeeze(2),
     IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    ("unsqueeze_oob", lambda t: t.zeros(2, 3).unsqueeze(4), IndexError, r"range of \[-3, 2\], but got 4"),
    ("permute_len", lambda t: t.zeros(2, 3).permute(0),
     RuntimeError, r"input.dim\(\) = 2 is not equal to len\(dims\) = 1"),
    ("permute_dup", lambda t: t.zeros(2, 3).permute(0, 0), RuntimeError, "duplicate dims"),
    ("transpose_oob", lambda t: t.zeros(2, 3).transpose(0, 2), IndexError, "Dimension out of range"),
    ("t_3d", lambda t: t.zeros(2, 3, 4).t(),
     RuntimeError, r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"),
    ("mT_1d", lambda t: t.zeros(3).mT,
     RuntimeError, r"tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.$"),
    ("mH_1d", lambda t: t.zeros(3).mH,
     RuntimeError, r"tensor.mH is only supported on matrices or batches of matrices. Got 1-D tensor.$"),
    ("H_1d", lambda t: t.zeros(3).H, RuntimeError, r"tensor.H is only supported on matrices \(2-D tensors\). Got 1-D "
                                                    r"tensor.$"),
    ("H_3d", lambda t: t.zeros(2, 3, 4).H,
     RuntimeError, r"tensor.H is only supported on matrices \(2-D tensors\). Got 3-D tensor. For batches of "
                   r"matrices, consider using tensor.mH$"),
    ("movedim_dup", lambda t: t.zeros(2, 3, 4).movedim((0, 0), (1, 2)), RuntimeError, "repeated dim in `source`"),
    ("movedim_len", lambda t: t.zeros(2, 3, 4).movedim((0, 1), (1,)),
     RuntimeError, "Invalid source or destination dims"),
    ("expand_bad", lambda t: t.zeros(2, 3).expand(2, 4),
     RuntimeError, r"The expanded size of the tensor \(4\) must match the existing size \(3\) at non-singleton "
                   r"dimension 1"),
    ("expand_fewer", lambda t: t.zeros(2, 3).expand(3),
     RuntimeError, r"the number of sizes provided \(1\) must be greater or equal to the number of dimensions in the "
                   r"tensor \(2\)"),
    ("expand_lead_neg", lambda t: t.zeros(3).expand(-1, 3),
     RuntimeError, r"The expanded size of the tensor \(-1\) isn't allowed in a leading, non-existing dimension 0"),
    ("broadcast_to_bad", lambda t: t.broadcast_to(t.zeros(3), (2, 4)),
     RuntimeError, r"The expanded size of the tensor \(4\) must match the existing size \(3\)"),
    ("broadcast_tensors_bad", lambda t: t.broadcast_tensors(t.zeros(3), t.zeros(4)),
     RuntimeError, r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 0"),
    ("repeat_fewer", lambda t: t.zeros(2, 3).repeat(2),
     RuntimeError, "Number of dimensions of repeat dims can not be smaller"),
    ("repeat_neg", lambda t: t.zeros(2).repeat(-1), RuntimeError, "Trying to create tensor with negative dimension -2"),
    ("repeat_interleave_len", lambda t: t.zeros(3).repeat_interleave(t.tensor([1, 2])),
     RuntimeError, "repeats must have the same size as input along dim"),
    ("repeat_interleave_neg", lambda t: t.zeros(2).repeat_interleave(t.tensor([1, -1])),
     RuntimeError, "repeats can not be negative"),
    ("repeat_interleave_neg_int", lambda t: t.zeros(2).repeat_interleave(-1),
     RuntimeError, "Repeats must be non-negative"),
    ("narrow_oob", lambda t: t.zeros(2, 4).narrow(1, 3, 2),
     RuntimeError, r"start \(3\) \+ length \(2\) exceeds dimension size \(4\)"),
    ("narrow_start_oob", lambda t: t.zeros(2, 4).narrow(1, 5, 0),
     IndexError, r"start out of range \(expected to be in range of \[-4, 4\], but got 5\)"),
    ("narrow_neg_len", lambda t: t.zeros(2, 4).narrow(1, 0, -1),
     RuntimeError, "narrow\\(\\): length must be non-negative"),
    ("narrow_0d", lambda t: t.zeros(()).narrow(0, 0, 1),
     RuntimeError, "narrow\\(\\) cannot be applied to a 0-dim tensor"),
    ("split_sum", lambda t: t.zeros(5).split([2, 2]),
     RuntimeError, r"split_with_sizes expects split_sizes to sum exactly to 5"),
    ("split_zero", lambda t: t.zeros(5).split(0), RuntimeError, "split_size can only be 0 if dimension size is 0"),
    ("split_0d", lambda t: t.zeros(()).split(1), RuntimeError, "split expects at least a 1-dimensional tensor"),
    ("chunk_zero", lambda t: t.zeros(5).chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    ("tensor_split_zero", lambda t: t.zeros(5).tensor_split(0),
     RuntimeError, "number of sections must be larger than 0, got 0"),
    ("unbind_0d", lambda t: t.zeros(()).unbind(), IndexError, "Dimension specified as 0 but tensor has no dimensions"),
    ("select_oob", lambda t: t.zeros(2, 3).select(1, 3),
     IndexError, r"select\(\): index 3 out of range for tensor of size \[2, 3\] at dimension 1"),
    ("select_0d", lambda t: t.zeros(()).select(0, 0), IndexError, "select\\(\\) cannot be applied to a 0-dim tensor"),
    ("cat_empty_list", lambda t: t.cat([]), ValueError, "expected a non-empty list of Tensors"),
    ("cat_ndim", lambda t: t.cat([t.zeros(2, 3), t.zeros(3)]),
     RuntimeError, "Tensors must have same number of dimensions: got 2 and 1"),
    ("cat_size", lambda t: t.cat([t.zeros(2, 3), t.zeros(2, 4)]),
     RuntimeError, r"Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor "
                   r"number 1 in the list"),
    ("cat_0d", lambda t: t.cat([t.zeros(()), t.zeros(())]),
     RuntimeError, r"zero-dimensional tensor \(at position 0\) cannot be concatenated"),
    ("cat_dim_oob", lambda t: t.cat([t.zeros(2, 3)], 2), IndexError, "Dimension out of range"),
    ("cat_not_tensor", lambda t: t.cat([t.zeros(2), 3]),
     TypeError, "expected Tensor as element 1 in argument 0, but got int"),
    ("stack_size", lambda t: t.stack([t.zeros(2, 3), t.zeros(3, 2)]),
     RuntimeError, r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[3, 2\] at entry 1"),
    ("stack_empty", lambda t: t.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    ("hstack_empty", lambda t: t.hstack([]), RuntimeError, "hstack expects a non-empty TensorList"),
    ("vstack_empty", lambda t: t.vstack([]), RuntimeError, "vstack expects a non-empty TensorList"),
    ("flip_dup", lambda t: t.zeros(2, 3).flip(0, 0), RuntimeError, "dim 0 appears multiple times in the list of dims"),
    ("flip_dims_twice", lambda t: t.zeros(2, 3).flip(0, dims=(1,)), TypeError,
     r"flip\(\) got multiple values for argument 'dims'"),
    ("permute_dims_twice", lambda t: t.zeros(2, 3).permute(0, 1, dims=(1, 0)), TypeError,
     r"permute\(\) got multiple values for argument 'dims'"),
    ("roll_align", lambda t: t.zeros(2, 3).roll((1, 2), 0), RuntimeError, "shifts and dimensions must align"),
    ("rot90_dims_len", lambda t: t.zeros(2, 3).rot90(1, (0,)), RuntimeError, "expected total rotation dims == 2"),
    ("rot90_same_dims", lambda t: t.zeros(2, 3).rot90(1, (0, 0)),
     RuntimeError, "expected rotation dims to be different"),
    ("rot90_1d", lambda t: t.zeros(3).rot90(), RuntimeError, "expected total dims >= 2"),
    ("tril_1d", lambda t: t.zeros(3).tril(), RuntimeError, "tril: input tensor must have at least 2 dimensions"),
    ("triu_1d", lambda t: t.zeros(3).triu(), RuntimeError, "triu: input tensor must have at least 2 dimensions"),
    ("diag_3d", lambda t: t.zeros(2, 2, 2).diag(), RuntimeError, r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
    ("diagonal_same", lambda t: t.zeros(2, 3).diagonal(0, 1, 1),
     RuntimeError, "diagonal dimensions cannot be identical 1, 1"),
    ("diag_embed_same", lambda t: t.zeros(2, 3).diag_embed(0, 1, 1),
     RuntimeError, "diagonal dimensions cannot be identical 1, 1"),
    ("hsplit_indivisible", lambda t: t.zeros(2, 3).hsplit(2),
     RuntimeError, r"torch.hsplit attempted to split along dimension 1, but the size of the dimension 3 is not "
                   r"divisible by the split_size 2!"),
    ("vsplit_1d", lambda t: t.zeros(2).vsplit(2),
     RuntimeError, "torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with 1 dimensions!"),
    ("trace_bool", lambda t: t.ones(2, 2, dtype=t.bool).trace(),
     NotImplementedError, "\"trace\" not implemented for 'Bool'"),
    ("trace_3d", lambda t: t.zeros(2, 2, 2).trace(),
     RuntimeError, "trace: expected a matrix, but got tensor with dim 3"),
    ("fliplr_1d", lambda t: t.zeros(2).fliplr(), RuntimeError, "Input must be >= 2-d."),
    ("flipud_0d", lambda t: t.tensor(1.).flipud(), RuntimeError, "Input must be >= 1-d."),
    ("narrow_start_1d", lambda t: t.zeros(4, 3).narrow(0, t.tensor([1]), 2), RuntimeError,
     r"start must be an 0-dim integral Tensor\."),
    ("narrow_start_bool", lambda t: t.zeros(4, 3).narrow(0, t.tensor(True), 2), RuntimeError,
     r"start must be an 0-dim integral Tensor\."),
    ("narrow_copy_dim", lambda t: t.zeros(4, 3).narrow_copy(2, 0, 0), RuntimeError,
     r"Expected dim < static_cast<int64_t>\(self_sizes.size\(\)\) to be true"),
    ("narrow_copy_neg_length", lambda t: t.zeros(4).narrow_copy(0, 0, -1), RuntimeError,
     r"start \(0\) \+ length \(-1\) exceeds dimension size \(4\)\."),
    ("view_zero_infer", lambda t: t.zeros(1).view(0, -1), RuntimeError,
     r"shape '\[0, -1\]' is invalid for input of size 1"),
    ("reshape_zero_infer", lambda t: t.zeros(2).reshape(0, -1), RuntimeError,
     r"shape '\[0, -1\]' is invalid for input of size 2"),
    ("roll_no_shifts", lambda t: t.zeros(3).roll(()), RuntimeError, "`shifts` required"),
    ("roll_0d_dim", lambda t: t.tensor(1.).roll(0, 0), IndexError,
     "Dimension specified as 0 but tensor has no dimensions"),
    ("hsplit_str", lambda t: t.zeros(2, 4).hsplit("ab"), TypeError, "received an invalid combination of arguments"),
    ("vsplit_float", lambda t: t.zeros(2, 4).vsplit(2.0), TypeError, "received an invalid combination of arguments"),
    ("movedim_repeated_src", lambda t: t.zeros(2, 3, 4).movedim((0, 2, -3), (0, 1, 2)), RuntimeError,
     r"movedim: repeated dim in `source` \(\[0, 2, -3\]\)"),
    ("movedim_repeated_dst", lambda t: t.zeros(2, 3, 4).movedim((0, 1, 2), (1, -2, 0)), RuntimeError,
     r"movedim: repeated dim in `destination` \(\[1, -2, 0\]\)"),
    ("cat_tensor", lambda t: t.cat(t.zeros(2, 3)), TypeError, r"must be tuple of Tensors, not Tensor"),
    ("cat_out_expanded", lambda t: t.cat([t.zeros(2), t.zeros(2)], out=t.zeros(1).expand(4)), RuntimeError,
     "more than one element of the written-to tensor refers to a single memory location"),
    ("cat_out_is_input", lambda t: (lambda x: t.cat([x, t.zeros(2)], out=x))(t.zeros(2)), RuntimeError,
     "some elements of the input tensor and the written-to tensor refer to a single memory location"),
    ("cat_out_view_of_input", lambda t: (lambda z: t.cat([t.ones(4, 6), z], out=z[:2]))(t.ones(4, 6)), RuntimeError,
     "some elements of the input tensor and the written-to tensor refer to a single memory location"),
]


@pytest.mark.parametrize("fn,exc,match", _table(ERRORS))
def test_shape_errors(fn, exc, match):
    raises(fn, exc, match)


# ---- views: shared memory, version counter, strides ------------------------------------------------------------------
VIEWS = [
    ("view", lambda t, x: x.view(4, 3)),
    ("reshape_contig", lambda t, x: x.reshape(2, 6)),
    ("view_as", lambda t, x: x.view_as(t.zeros(6, 2))),
    ("flatten", lambda t, x: x.flatten()),
    ("unflatten", lambda t, x: x.unflatten(1, (2, 2))),
    ("squeeze", lambda t, x: x.unsqueeze(0).squeeze(0)),
    ("unsqueeze", lambda t, x: x.unsqueeze(1)),
    ("permute", lambda t, x: x.permute(1, 0)),
    ("transpose", lambda t, x: x.transpose(0, 1)),
    ("t", lambda t, x: x.t()),
    ("T", lambda t, x: x.T),
    ("mT", lambda t, x: x.mT),
    ("movedim", lambda t, x: x.movedim(0, 1)),
    ("narrow", lambda t, x: x.narrow(1, 1, 2)),
    ("split", lambda t, x: x.split(2, 1)[1]),
    ("chunk", lambda t, x: x.chunk(2, 0)[0]),
    ("tensor_split", lambda t, x: x.tensor_split(2, 1)[1]),
    ("unbind", lambda t, x: x.unbind(1)[2]),
    ("select", lambda t, x: x.select(0, 1)),
    ("diagonal", lambda t, x: x.diagonal(1)),
    ("diagonal_neg", lambda t, x: t.diagonal(x, -1)),
    ("getitem_slice", lambda t, x: x[1:, ::2]),
    ("getitem_int", lambda t, x: x[1]),
    ("getitem_none", lambda t, x: x[None, ..., 1]),
    ("getitem_none_t", lambda t, x: x.t()[:, None]),
    ("alias_contiguous", lambda t, x: x.contiguous()),
    ("atleast_3d", lambda t, x: t.atleast_3d(x)),
    ("chain", lambda t, x: x.t()[1:].unsqueeze(0).flatten(0, 1).narrow(1, 1, 2)),
]


@pytest.mark.parametrize("fn", _table(VIEWS))
def test_view_semantics(fn):
    """A view shares memory and the version counter with its base; writing it writes the base."""
    base = np.arange(12.0).reshape(3, 4)
    res = {}
    for lib, mk in ((torch, to_torch), (ember, to_ember)):
        x = mk(base)
        v = fn(lib, x)
        v0 = x._version
        with lib.no_grad():
            v.mul_(-1)
        res[lib] = (x.clone(), v.clone(), x._version - v0, v._version == x._version,
                    v.is_contiguous(), v.stride(), v.storage_offset(), v._base is x)
    e, t = res[ember], res[torch]
    assert_same(e[0], t[0], what="base after writing through the view")
    assert_same(e[1], t[1], what="view after writing")
    assert e[2] == t[2] == 1 and e[3] and t[3], f"version counter shared: ember {e[2:4]}, torch {t[2:4]}"
    assert e[4:] == t[4:], f"contiguity/stride/offset/_base {e[4:]} != torch {t[4:]}"


def test_expand_is_view():
    for lib, mk in ((torch, to_torch), (ember, to_ember)):
        x = mk(np.zeros((3, 1)))
        v = x.expand(2, 3, 4)
        x[1, 0] = 5.0
        assert v[1, 1, 3].item() == 5.0 and v._base is x and v._version == 1, lib.__name__
        assert v.stride() == (0, 1, 0), lib.__name__


def test_expand_write_raises():
    raises(lambda t: t.zeros(3, 1).expand(3, 2).add_(1), RuntimeError,
           "unsupported operation: more than one element of the written-to tensor refers to a single memory location")


def test_view_base_and_is_view():
    for lib, mk in ((torch, to_torch), (ember, to_ember)):
        x = mk(r(2, 3))
        v = x.view(3, 2)
        w = v.t()
        assert w._base is x, lib.__name__
        assert x._base is None
        c = x.t().contiguous()
        assert c._base is None


def test_base_write_visible_in_view():
    for lib, mk in ((torch, to_torch), (ember, to_ember)):
        x = mk(np.zeros((2, 3)))
        v = x.t()
        x[0, 1] = 5.0
        assert v[1, 0].item() == 5.0, lib.__name__
        assert v._version == x._version == 1, lib.__name__


def test_reshape_copy_not_view():
    for lib, mk in ((torch, to_torch), (ember, to_ember)):
        x = mk(np.zeros((2, 3)))
        y = x.t().reshape(-1)
        y.add_(1)
        assert x.sum().item() == 0.0, lib.__name__
        assert y._base is None, lib.__name__


STRIDES = [
    ("contig", lambda x: x),
    ("t", lambda x: x.t()),
    ("slice", lambda x: x[:, 1::2]),
    ("expand", lambda x: x[:1].expand(3, 4)),
    ("unsqueeze_t", lambda x: x.t().unsqueeze(1)),
    ("diagonal", lambda x: x.diagonal()),
    ("flip", lambda x: x.flip(0)),
    ("t_contiguous", lambda x: x.t().contiguous()),
    ("empty", lambda x: x[:, :0]),
]


@pytest.mark.parametrize("fn", [c[1] for c in STRIDES], ids=[c[0] for c in STRIDES])
def test_stride_contiguity(fn):
    e, t = fn(to_ember(r(3, 4))), fn(to_torch(r(3, 4)))
    assert e.stride() == t.stride()
    assert e.is_contiguous() == t.is_contiguous()
    assert e.storage_offset() == t.storage_offset()
    assert [e.stride(d) for d in range(-e.dim(), e.dim())] == [t.stride(d) for d in range(-t.dim(), t.dim())]


def test_contiguous_returns_self():
    for mk in (to_torch, to_ember):
        x = mk(r(2, 3))
        assert x.contiguous() is x


def test_diagonal_is_writable_view():
    def prog(t, x):
        d = x.diagonal(1)
        d.fill_(7.0)
        d[0] = -1.0
        return x
    assert_same(prog(ember, to_ember(r(3, 4))), prog(torch, to_torch(r(3, 4))))


# ---- in-place ops on views (CopySlices) ------------------------------------------------------------------------------
def _diag_inplace(a, w):
    b = a * 2
    b.diagonal().mul_(3).add_(w[0])
    return b


def _inplace_on_select(a, w):
    b = a.clone()
    v = b[1]
    v.mul_(w[1])
    return b


def _inplace_on_slice_then_use_view(a, w):
    b = a.clone()
    v = b[:, 1:]
    v.mul_(w[:, 1:])
    return b, v


def _inplace_on_view_of_view(a, w):
    b = a.clone()
    v = b.t()[1:]
    v.add_(w.t()[1:])
    return b * b


def _inplace_twice(a, w):
    b = a * 1
    b[0].mul_(w[0])
    b[:, 1].mul_(w[:, 1])
    return b


def _inplace_view_of_reshape(a, w):
    b = a.sin()
    b.view(-1)[::2].mul_(w.view(-1)[::2])
    return b


def _inplace_view_uses_base(a, w):
    b = a.sin()
    b[1].copy_(w[0] + b[0])
    return b


def _setitem_via_view(a, w):
    b = a * 2
    v = b[:, 1:]
    v[0] = w[0, :2]
    return b


def _inplace_unsqueeze_view(a, w):
    b = a + 0
    b.unsqueeze(0).transpose(1, 2)[0, 1].div_(w[0] + 3)
    return b


def _inplace_flatten_view(a, w):
    b = a.exp().t().contiguous()
    b.flatten()[1:4].sub_(w[0])
    return b.sum(0)


def _inplace_expanded_source(a, w):
    b = a.clone()
    b[0].add_(w[0, :1].expand(3))
    return b


def _inplace_view_of_view_twice(a, w):
    b = a.clone()
    v = b[1:]
    v[0].mul_(w[0])
    v.mul_(w[1:])
    return b


def _inplace_base_then_view(a, w):
    b = a.clone()
    v = b[0]
    b.mul_(w)
    v.add_(1.0)
    return b, v


def _base_inplace_then_read_view(a, w):
    b = a.clone()
    v = b[0]
    b.mul_(w)
    return v * 2


INPLACE_VIEW = [
    ("diagonal_mul_add", _diag_inplace),
    ("select_mul", _inplace_on_select),
    ("slice_mul_and_view", _inplace_on_slice_then_use_view),
    ("view_of_view", _inplace_on_view_of_view),
    ("twice", _inplace_twice),
    ("view_of_reshape", _inplace_view_of_reshape),
    ("view_uses_base", _inplace_view_uses_base),
    ("setitem_via_view", _setitem_via_view),
    ("unsqueeze_transpose", _inplace_unsqueeze_view),
    ("flatten_view", _inplace_flatten_view),
    ("expanded_source", _inplace_expanded_source),
    ("view_of_view_twice", _inplace_view_of_view_twice),
    ("base_then_view", _inplace_base_then_view),
    ("base_then_read_view", _base_inplace_then_read_view),
]


@pytest.mark.parametrize("prog", _table(INPLACE_VIEW))
def test_inplace_on_view_grad(prog):
    """In-place ops on views of non-leaves give torch's gradients for the base's inputs and the operands."""
    check(lambda t, a, w: prog(a, w), [r(3, 3), r(3, 3, seed=1)], dtypes=F)


def test_inplace_on_view_shape_mismatch():
    raises(lambda t: t.zeros(3, 3)[1].mul_(t.ones(3, 3)), RuntimeError,
           r"output with shape \[3\] doesn't match the broadcast shape \[3, 3\]")


def test_inplace_on_view_of_leaf_raises():
    def prog(t):
        x = t.zeros(3, requires_grad=True)
        x[1:].mul_(2)
    check_raises(prog, RuntimeError, "a view of a leaf Variable that requires grad is being used in an in-place")


def test_modified_view_saved_raises():
    def prog(t):
        a = t.ones(3, requires_grad=True)
        b = a * 1
        c = b.view(3)
        d = c.sin()
        b.mul_(2)
        d.sum().backward()
    check_raises(prog, RuntimeError, "modified by an inplace operation")


def test_shape_inplace_methods():
    def prog(t, x):
        y = x * 1
        y.unsqueeze_(0)
        y.transpose_(1, 2)
        y.squeeze_(0)
        y.t_()
        return y
    check(prog, [r(2, 3)], dtypes=F)


def test_repeat_interleave_output_size():
    def prog(t, x):
        return x.repeat_interleave(t.tensor([2, 1]), dim=0, output_size=3)
    check(prog, [r(2, 2)])


def test_broadcast_shapes():
    assert ember.broadcast_shapes((3, 1), (4,), ()) == torch.broadcast_shapes((3, 1), (4,), ())
    assert ember.broadcast_shapes(2, (3, 1)) == torch.broadcast_shapes(2, (3, 1))
    raises(lambda t: t.broadcast_shapes((3,), (4,)), RuntimeError,
           r"Attempting to broadcast a dimension of length 4 at -1! Mismatching argument at index 1 had \(4,\); but "
           r"expected shape should be broadcastable to \[3\]")
    raises(lambda t: t.broadcast_shapes((2, 1), (1, 3), (5, 1)), RuntimeError, "index 2 had")


def test_split_returns_tuple():
    for mk in (to_torch, to_ember):
        x = mk(r(4))
        assert isinstance(x.split(2), tuple) and isinstance(x.chunk(2), tuple)
        assert isinstance(x.unbind(), tuple) and isinstance(x.tensor_split(2), tuple)


# ---- hypothesis ------------------------------------------------------------------------------------------------------
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, data=st.data())
def test_reshape_random(shape, data):
    cands = [(-1,), shape[::-1], shape + (1,), (1,) + shape]
    if np.prod(shape) > 0 and shape:
        k = data.draw(st.integers(0, len(shape) - 1))
        cands.append(shape[:k] + (-1,) + shape[k + 1:])
    new = data.draw(st.sampled_from(cands))
    check(lambda t, x: x.reshape(new), [r(*shape)], dtypes=["float64"])
    check(lambda t, x: x.mT.reshape(new) if x.dim() > 1 else x.reshape(new), [r(*shape)], dtypes=["float64"])


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple), data=st.data())
def test_permute_random(shape, data):
    perm = data.draw(st.permutations(range(len(shape))))
    check(lambda t, x: x.permute(*perm), [r(*shape)], dtypes=["float64"])
    check(lambda t, x: x.permute(*perm).flatten().view(-1, 1) if x.permute(*perm).is_contiguous()
          else x.permute(*perm).reshape(-1, 1), [r(*shape)], dtypes=["float64"])


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple), data=st.data())
def test_flip_roll_random(shape, data):
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda d: d % nd))
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    check(lambda t, x: (x.flip(dims), x.roll(shifts, dims), x.movedim(dims[0], -1)), [r(*shape)],
          dtypes=["float64"])


def test_view_as_real_and_complex():
    z = np.array([[1 + 2j, 3 - 1j], [0, 1j]])
    check(lambda t, x: t.view_as_real(x) * 2, [z])
    check(lambda t, x: t.view_as_complex(x).abs(), [r(3, 2)], dtypes=F)
    check(lambda t, x: t.view_as_real(t.view_as_complex(x)), [r(4, 2)])
    for fn, match in ((lambda t: t.view_as_complex(t.zeros(3, 3)), "last dimension of size 2"),
                      (lambda t: t.view_as_complex(t.zeros(2, 3).t()), "last dimension with stride 1"),
                      (lambda t: t.view_as_real(t.zeros(3)), "only supported for complex tensors")):
        check_raises(fn, RuntimeError, match)
    for lib in (ember, torch):  # a view: writes go through to the complex tensor
        c = lib.tensor(np.array([1 + 2j, 3 - 1j]))
        lib.view_as_real(c)[0, 0] = 9
        assert c.tolist() == [9 + 2j, 3 - 1j]
