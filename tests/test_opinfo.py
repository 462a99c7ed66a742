"""Every op in torch's OpInfo database against ember, sample by sample (opinfo.py): the function variant in every
dtype both libraries support, the method variant in float64 (with gradients) and the in-place variant in
float32."""
import pytest
import torch

from opinfo import error_mismatches, full_name, op_db, run_op, torch_variant

DTYPES = {"function": (torch.float64, torch.float32, torch.float16, torch.complex128, torch.int64, torch.int32,
                       torch.uint8, torch.bool),
          "method": (torch.float64,),
          "inplace": (torch.float32,)}

_PRIVATE = "a private ATen operator, not part of torch's Python API"
_MASKED = "torch.masked (a prototype API) is not provided"
# OpInfo entries ember does not provide, with the reason.
ABSENT = {
    **{name: _PRIVATE for name in (
        "_batch_norm_with_update", "_chunk_cat", "_native_batch_norm_legit", "_segment_reduce.lengths",
        "_segment_reduce.offsets", "_softmax_backward_data", "_unsafe_masked_index",
        "_unsafe_masked_index_put_accumulate", "_upsample_bilinear2d_aa", "max_pool2d_with_indices_backward",
        "native_dropout_backward", "slice", "torch.ops.aten._safe_softmax.default")},
    **{f"jiterator_{n}": "torch.cuda.jiterator compiles CUDA kernels" for n in (
        "unary", "binary", "binary_return_by_ref", "2inputs_2outputs", "4inputs_with_extra_args")},
    **{f"masked.{n}": _MASKED for n in (
        "amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp", "logsumexp", "mean",
        "median", "norm", "normalize", "prod", "softmax", "softmin", "std", "sum", "var")},
    "sparse.mm.reduce": "ember has no sparse tensors",
    "sparse.sampled_addmm": "ember has no sparse tensors",
}

_NO_HALF_TYPES = "NumPy has no bfloat16 or complex32 type"
# (entry, variant, dtype) that ember refuses with NotImplementedError ("*" matches any).
NOT_IMPLEMENTED = {
    ("bfloat16", "*", "*"): _NO_HALF_TYPES,
    ("chalf", "*", "*"): _NO_HALF_TYPES,
    ("complex", "function", "float16"): _NO_HALF_TYPES,
    ("view_as_complex", "function", "float16"): _NO_HALF_TYPES,
    ("to_sparse", "*", "*"): "ember has no sparse tensors",
}

# (entry, variant, dtype) that differ from torch on purpose ("*" matches any): strict xfails, so that a change shows
# up as a failure until this list is updated.
KNOWN = {
    ("as_strided_scatter", "*", "float64"): "PyTorch's input gradient is not the derivative; ember's is (README)",
    ("as_strided_scatter", "*", "complex128"): "PyTorch's input gradient is not the derivative; ember's is (README)",
    ("matrix_exp", "function", "float16"): "torch 2.13's half matrix_exp reads its float64 coefficients as half "
                                           "(exp([[.1, .2], [.3, -.1]]) = -2.1e4); ember computes in float32",
}


def _lookup(table, name, variant, dname):
    for key in ((name, variant, dname), (name, variant, "*"), (name, "*", dname), (name, "*", "*")):
        if key in table:
            return table[key]
    return None


def _cases():
    for op in op_db:
        name = full_name(op)
        if name in ABSENT:
            continue
        supported = op.supported_dtypes("cpu")
        for variant, dtypes in DTYPES.items():
            if torch_variant(op, variant) is None:
                continue
            for dt in dtypes:
                if dt not in supported:
                    continue
                dname = str(dt)[len("torch."):]
                reason = _lookup(KNOWN, name, variant, dname)
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(op, variant, dt, id=f"{name}-{variant}-{dname}", marks=marks)


@pytest.mark.parametrize("op,variant,dtype", list(_cases()))
def test_matches_torch(op, variant, dtype):
    if _lookup(NOT_IMPLEMENTED, full_name(op), variant, str(dtype)[len("torch."):]):
        with pytest.raises(NotImplementedError):
            run_op(op, dtype, variant)
        return
    failures = run_op(op, dtype, variant)
    assert not failures, f"{len(failures)} samples differ; first, sample {failures[0][0]}: {failures[0][1]}"


@pytest.mark.parametrize("name", sorted(ABSENT))
def test_absent_entries_are_absent(name):
    """ABSENT stays true: each listed entry really has no ember counterpart."""
    op = next(o for o in op_db if full_name(o) == name)
    with pytest.raises(AttributeError):
        supported = op.supported_dtypes("cpu")
        run_op(op, torch.float64 if torch.float64 in supported else min(supported, key=str))


# Error inputs (entry -> reason) where ember still raises differently from torch: strict xfails.
KNOWN_ERRORS = {
    "gather": "torch resizes a too-small out= within its own storage, where it then overlaps the index; ember gives "
              "the resized out new memory, so there is no overlap to report",
}


def _error_cases():
    for op in op_db:
        name = full_name(op)
        if op.error_inputs_func is None or name in ABSENT:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_ERRORS[name])] if name in KNOWN_ERRORS else []
        yield pytest.param(op, id=name, marks=marks)


@pytest.mark.parametrize("op", list(_error_cases()))
def test_error_inputs_match_torch(op):
    """torch's error inputs for the entry (the ones torch rejects on the CPU): ember raises the same exception
    class, with a message matching torch's pattern."""
    found = error_mismatches(op)
    assert not found, f"{len(found)} error inputs differ; first, input {found[0][0]}: {found[0][1]}"
