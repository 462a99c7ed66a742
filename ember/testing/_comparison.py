"""torch.testing.assert_close: structural recursion, comparison pairs and PyTorch's mismatch messages, on NumPy."""
import cmath
import collections.abc
import contextlib
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor

_INTERNAL_ISSUE = ("If you are a user and see this message during normal operation please file an issue at "
                   "https://github.com/pytorch/pytorch/issues. If you are a developer and working on the comparison "
                   "functions, please ")


class ErrorMeta(Exception):
    """A comparison failure carried as (exception type, message, item path) until it is raised to the user."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(_INTERNAL_ISSUE + "`raise ErrorMeta.to_error()` for user facing errors.")
        self.type = type
        self.msg = msg
        self.id = id

    def to_error(self, msg=None):
        """The user-facing exception: msg replaces the text (a string) or rewrites it (a callable)."""
        if not isinstance(msg, str):
            generated_msg = self.msg
            if self.id:
                generated_msg += f"\n\nThe failure occurred for item {_format_id(self.id)}"
            msg = msg(generated_msg) if callable(msg) else generated_msg
        return self.type(msg)


def _format_id(id):
    """An item path as torch prints it: [0]['key'][1]."""
    return "".join(str([item]) for item in id)


def _type_repr(cls):
    """A class as torch's messages print it; ember's own classes under their torch names (torch.Tensor)."""
    module = "ember" if cls.__module__ == "ember._tensor" else cls.__module__
    if module == "ember" or module.startswith("ember."):
        return f"<class 'torch{module[5:]}.{cls.__qualname__}'>"
    return repr(cls)


# {dtype: (rtol, atol)}, PyTorch's defaults; other dtypes compare exactly.
_DTYPE_PRECISIONS = {
    _dtype.float16: (0.001, 1e-5),
    _dtype.bfloat16: (0.016, 1e-5),
    _dtype.float32: (1.3e-6, 1e-5),
    _dtype.float64: (1e-7, 1e-7),
    _dtype.complex32: (0.001, 1e-5),
    _dtype.complex64: (1.3e-6, 1e-5),
    _dtype.complex128: (1e-7, 1e-7),
}


def default_tolerances(*inputs, dtype_precisions=None):
    """The loosest (rtol, atol) over the dtypes of the inputs (tensors or dtypes)."""
    dtypes = []
    for input in inputs:
        if isinstance(input, Tensor):
            dtypes.append(input.dtype)
        elif isinstance(input, _dtype.dtype):
            dtypes.append(input)
        else:
            raise TypeError(f"Expected a torch.Tensor or a torch.dtype, but got {type(input)} instead.")
    dtype_precisions = dtype_precisions or _DTYPE_PRECISIONS
    rtols, atols = zip(*[dtype_precisions.get(dtype, (0.0, 0.0)) for dtype in dtypes])
    return max(rtols), max(atols)


def get_tolerances(*inputs, rtol, atol, id=()):
    """The tolerances to use: both given, or both defaulted by dtype; only one of them is a ValueError."""
    if (rtol is None) ^ (atol is None):
        raise ErrorMeta(ValueError, f"Both 'rtol' and 'atol' must be either specified or omitted, "
                                    f"but got no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*inputs)


def _make_mismatch_msg(*, default_identifier, identifier=None, extra=None, abs_diff, abs_diff_idx=None, atol,
                       rel_diff, rel_diff_idx=None, rtol):
    """PyTorch's numeric mismatch message: header, extra lines, then the absolute and relative differences."""
    equality = rtol == 0 and atol == 0

    def make_diff_msg(*, type, diff, idx, tol):
        if idx is None:
            msg = f"{type.title()} difference: {diff}"
        else:
            msg = f"Greatest {type} difference: {diff} at index {idx}"
        return msg + ("" if equality else f" (up to {tol} allowed)") + "\n"

    if identifier is None:
        identifier = default_identifier
    elif callable(identifier):
        identifier = identifier(default_identifier)
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += make_diff_msg(type="absolute", diff=abs_diff, idx=abs_diff_idx, tol=atol)
    msg += make_diff_msg(type="relative", diff=rel_diff, idx=rel_diff_idx, tol=rtol)
    return msg.strip()


def make_scalar_mismatch_msg(actual, expected, *, rtol, atol, identifier=None):
    """The mismatch message for two Python scalars, differences computed in Python arithmetic."""
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _make_mismatch_msg(default_identifier="Scalars", identifier=identifier,
                              extra=f"Expected {expected} but got {actual}.", abs_diff=abs_diff, atol=atol,
                              rel_diff=rel_diff, rtol=rtol)


def _greatest(diff, matches):
    """torch.max(diff, 0) over the mismatched entries only: (value as a Python scalar, flat index); NaN wins."""
    diff[matches] = 0
    idx = int(np.argmax(diff))
    return diff[idx].item(), idx


def make_tensor_mismatch_msg(actual, expected, matches, *, rtol, atol, identifier=None):
    """The mismatch message for two arrays of one dtype and shape, with the greatest differences and their indices."""
    number_of_elements = matches.size
    total_mismatches = number_of_elements - int(matches.sum())
    extra = (f"Mismatched elements: {total_mismatches} / {number_of_elements} "
             f"({total_mismatches / number_of_elements:.1%})")
    actual_flat, expected_flat, matches_flat = actual.ravel(), expected.ravel(), matches.ravel()
    exact = actual.dtype.kind not in "fc"
    if exact:
        actual_flat, expected_flat = actual_flat.astype(np.int64), expected_flat.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(actual_flat - expected_flat)
        max_abs_diff, abs_idx = _greatest(abs_diff, matches_flat)
        denominator = np.abs(expected_flat)
        if exact:  # integer true division happens in the default float dtype
            float_np = _dtype.get_default_dtype().np
            abs_diff, denominator = abs_diff.astype(float_np), denominator.astype(float_np)
        max_rel_diff, rel_idx = _greatest(abs_diff / denominator, matches_flat)
    return _make_mismatch_msg(default_identifier="Tensor-likes", identifier=identifier, extra=extra,
                              abs_diff=max_abs_diff, abs_diff_idx=_unravel(abs_idx, matches.shape), atol=atol,
                              rel_diff=max_rel_diff, rel_diff_idx=_unravel(rel_idx, matches.shape), rtol=rtol)


def _unravel(flat_index, shape):
    """A flat index as a tuple of Python ints for `shape`."""
    return tuple(int(i) for i in np.unravel_index(flat_index, shape))


def _isclose(actual, expected, *, rtol, atol, equal_nan):
    """torch.isclose for two arrays of one dtype, each step in the dtype PyTorch computes it in."""
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value:g}")
    close = np.asarray(actual == expected)
    if equal_nan and actual.dtype.kind in "fc":
        close |= np.isnan(actual) & np.isnan(expected)
    if rtol == 0 and atol == 0:
        return close
    with np.errstate(all="ignore"):
        actual_error, allowed_error = _errors(actual, expected, rtol, atol)
        return close | (np.isfinite(actual_error) & (actual_error <= allowed_error))


def _errors(actual, expected, rtol, atol):
    """|actual - expected| and atol + |rtol * expected| as torch.isclose computes them (exact types in the default
    float dtype, half with float32 intermediate math)."""
    if actual.dtype.kind in "biu":
        float_np = _dtype.get_default_dtype().np
        actual, expected = actual.astype(float_np), expected.astype(float_np)
    rtol, atol = float(rtol), float(atol)
    actual_error = np.abs(actual - expected)
    if actual.dtype == np.float16:
        product = np.abs((np.float32(rtol) * expected.astype(np.float32)).astype(np.float16))
        return actual_error, (np.float32(atol) + product.astype(np.float32)).astype(np.float16)
    return actual_error, atol + np.abs(rtol * expected)


class UnsupportedInputs(Exception):
    """Raised while building a Pair that cannot handle its inputs; the next pair type is tried."""


class Pair:
    """A pair of leaf inputs and the options to compare them; compare() raises ErrorMeta on mismatch."""

    def __init__(self, actual, expected, *, id=(), **unknown_parameters):
        self.actual = actual
        self.expected = expected
        self.id = id
        self._unknown_parameters = unknown_parameters

    @staticmethod
    def _inputs_not_supported():
        raise UnsupportedInputs

    @staticmethod
    def _check_inputs_isinstance(*inputs, cls):
        if not all(isinstance(input, cls) for input in inputs):
            Pair._inputs_not_supported()

    def _fail(self, type, msg, *, id=()):
        raise ErrorMeta(type, msg, id=self.id if not id and hasattr(self, "id") else id)

    def compare(self):
        raise NotImplementedError

    def extra_repr(self):
        return []

    def __repr__(self):
        items = [("id", self.id), ("actual", self.actual), ("expected", self.expected),
                 *[(extra, getattr(self, extra)) if isinstance(extra, str) else extra for extra in self.extra_repr()]]
        body = [f"    {name}={value!s}," for name, value in items]
        return "\n".join((f"{type(self).__name__}(", *body, ")"))


class NonePair(Pair):
    """Pair for None inputs: both must be None."""

    def __init__(self, actual, expected, **other_parameters):
        if not (actual is None or expected is None):
            self._inputs_not_supported()
        super().__init__(actual, expected, **other_parameters)

    def compare(self):
        if not (self.actual is None and self.expected is None):
            self._fail(AssertionError, f"None mismatch: {self.actual} is not {self.expected}")


class BooleanPair(Pair):
    """Pair for bool and numpy.bool_ inputs, compared for identity."""

    def __init__(self, actual, expected, *, id, **other_parameters):
        self._check_inputs_isinstance(actual, expected, cls=(bool, np.bool_))
        super().__init__(bool(actual), bool(expected), **other_parameters)

    def compare(self):
        if self.actual is not self.expected:
            self._fail(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}")


class NumberPair(Pair):
    """Pair for Python numbers and numpy.number scalars, compared as Python numbers with dtype-based tolerances."""

    _TYPE_TO_DTYPE = {int: _dtype.int64, float: _dtype.float64, complex: _dtype.complex128}
    _NUMBER_TYPES = tuple(_TYPE_TO_DTYPE)

    def __init__(self, actual, expected, *, id=(), rtol=None, atol=None, equal_nan=False, check_dtype=False,
                 **other_parameters):
        self._check_inputs_isinstance(actual, expected, cls=(*self._NUMBER_TYPES, np.number))
        actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
        super().__init__(actual, expected, id=id, **other_parameters)
        self.rtol, self.atol = get_tolerances(*[self._TYPE_TO_DTYPE[type(input)] for input in (actual, expected)],
                                              rtol=rtol, atol=atol, id=id)
        self.equal_nan = equal_nan
        self.check_dtype = check_dtype

    def compare(self):
        if self.check_dtype and type(self.actual) is not type(self.expected):
            self._fail(AssertionError,
                       f"The (d)types do not match: {type(self.actual)} != {type(self.expected)}.")
        if self.actual == self.expected:
            return
        if self.equal_nan and cmath.isnan(self.actual) and cmath.isnan(self.expected):
            return
        abs_diff = abs(self.actual - self.expected)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(self.expected):
            return
        self._fail(AssertionError, make_scalar_mismatch_msg(self.actual, self.expected, rtol=self.rtol,
                                                            atol=self.atol))

    def extra_repr(self):
        return ("rtol", "atol", "equal_nan", "check_dtype")


class TensorLikePair(Pair):
    """Pair for tensors and anything torch.as_tensor accepts, of directly related types."""

    def __init__(self, actual, expected, *, id=(), allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, **other_parameters):
        actual, expected = self._process_inputs(actual, expected, allow_subclasses=allow_subclasses)
        super().__init__(actual, expected, id=id, **other_parameters)
        self.rtol, self.atol = get_tolerances(actual, expected, rtol=rtol, atol=atol, id=self.id)
        self.equal_nan = equal_nan
        self.check_device = check_device
        self.check_dtype = check_dtype
        self.check_layout = check_layout
        self.check_stride = check_stride

    def _process_inputs(self, actual, expected, *, allow_subclasses):
        if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            self._inputs_not_supported()
        if not allow_subclasses and type(actual) is not type(expected):
            self._inputs_not_supported()
        return self._to_tensor(actual), self._to_tensor(expected)

    def _to_tensor(self, tensor_like):
        if isinstance(tensor_like, Tensor):
            return tensor_like
        from ..ops.creation import as_tensor
        try:
            return as_tensor(tensor_like)
        except Exception:
            self._inputs_not_supported()

    def compare(self):
        self._compare_attributes(self.actual, self.expected)
        actual, expected = self._equalize_attributes(self.actual, self.expected)
        self._compare_regular_values_close(actual, expected, rtol=self.rtol, atol=self.atol,
                                           equal_nan=self.equal_nan)

    def _compare_attributes(self, actual, expected):
        """Shape always; layout, stride, device and dtype as their check_* options say."""
        def raise_mismatch_error(attribute_name, actual_value, expected_value):
            self._fail(AssertionError, f"The values for attribute '{attribute_name}' do not match: "
                                       f"{actual_value} != {expected_value}.")

        if actual.shape != expected.shape:
            raise_mismatch_error("shape", actual.shape, expected.shape)
        if actual.layout != expected.layout:
            if self.check_layout:
                raise_mismatch_error("layout", actual.layout, expected.layout)
        elif self.check_stride and actual.stride() != expected.stride():
            raise_mismatch_error("stride()", actual.stride(), expected.stride())
        if self.check_device and actual.device != expected.device:
            raise_mismatch_error("device", actual.device, expected.device)
        if self.check_dtype and actual.dtype != expected.dtype:
            raise_mismatch_error("dtype", actual.dtype, expected.dtype)

    @staticmethod
    def _equalize_attributes(actual, expected):
        """The two value arrays in their promoted dtype (uint16/32/64 count as int64, as in PyTorch)."""
        a, e = actual._data, expected._data
        if actual.dtype is not expected.dtype:
            dtypes = [_dtype.int64 if d in _dtype._SHELL_UINTS else d for d in (actual.dtype, expected.dtype)]
            common = _dtype.promote_types(*dtypes).np
            a, e = a.astype(common), e.astype(common)
        return a, e

    def _compare_regular_values_close(self, actual, expected, *, rtol, atol, equal_nan, identifier=None):
        """Elementwise closeness; on failure the scalar (0-d) or tensor mismatch message."""
        matches = _isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if matches.all():
            return
        if actual.shape == ():
            msg = make_scalar_mismatch_msg(actual.item(), expected.item(), rtol=rtol, atol=atol,
                                           identifier=identifier)
        else:
            msg = make_tensor_mismatch_msg(actual, expected, matches, rtol=rtol, atol=atol, identifier=identifier)
        self._fail(AssertionError, msg)

    def extra_repr(self):
        return ("rtol", "atol", "equal_nan", "check_device", "check_dtype", "check_layout", "check_stride")


def _is_sequence(x, sequence_types):
    return isinstance(x, sequence_types) and not isinstance(x, str)


def originate_pairs(actual, expected, *, pair_types, sequence_types=(collections.abc.Sequence,),
                    mapping_types=(collections.abc.Mapping,), id=(), **options):
    """Recurse through matching sequences and mappings; each pair of leaves becomes the first Pair type that fits."""
    recurse = dict(pair_types=pair_types, sequence_types=sequence_types, mapping_types=mapping_types, **options)
    if _is_sequence(actual, sequence_types) and _is_sequence(expected, sequence_types):
        if len(actual) != len(expected):
            raise ErrorMeta(AssertionError,
                            f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", id=id)
        return [pair for idx in range(len(actual))
                for pair in originate_pairs(actual[idx], expected[idx], id=(*id, idx), **recurse)]
    if isinstance(actual, mapping_types) and isinstance(expected, mapping_types):
        return [pair for key in _matching_keys(actual, expected, id)
                for pair in originate_pairs(actual[key], expected[key], id=(*id, key), **recurse)]
    return [_make_pair(actual, expected, pair_types, id, options)]


def _matching_keys(actual, expected, id):
    """The common keys of two mappings, sorted when sortable; AssertionError naming missing and extra keys."""
    actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
    if actual_keys != expected_keys:
        raise ErrorMeta(AssertionError,
                        f"The keys of the mappings do not match:\n"
                        f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                        f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}", id=id)
    keys = actual_keys
    with contextlib.suppress(Exception):
        keys = sorted(keys)
    return keys


def _make_pair(actual, expected, pair_types, id, options):
    """The first pair type that accepts the inputs; TypeError when none does."""
    for pair_type in pair_types:
        try:
            return pair_type(actual, expected, id=id, **options)
        except UnsupportedInputs:
            continue
        except ErrorMeta:
            raise
        except Exception as error:
            raise RuntimeError(
                f"Originating a {pair_type.__name__}() at item {_format_id(id)} with\n\n"
                f"{type(actual).__name__}(): {actual}\n\nand\n\n{type(expected).__name__}(): {expected}\n\n"
                f"resulted in the unexpected exception above. " + _INTERNAL_ISSUE +
                "except the previous error and raise an expressive `ErrorMeta` instead.") from error
    raise ErrorMeta(TypeError, f"No comparison pair was able to handle inputs of type {_type_repr(type(actual))} "
                               f"and {_type_repr(type(expected))}.", id=id)


def not_close_error_metas(actual, expected, *, pair_types, sequence_types=(collections.abc.Sequence,),
                          mapping_types=(collections.abc.Mapping,), **options):
    """The ErrorMeta of every mismatching pair; structural and input errors are raised at once."""
    __tracebackhide__ = True
    try:
        pairs = originate_pairs(actual, expected, pair_types=pair_types, sequence_types=sequence_types,
                                mapping_types=mapping_types, **options)
    except ErrorMeta as error_meta:
        raise error_meta.to_error() from None
    error_metas = []
    for pair in pairs:
        try:
            pair.compare()
        except ErrorMeta as error_meta:
            error_metas.append(error_meta)
        except Exception as error:
            raise RuntimeError(f"Comparing\n\n{pair}\n\nresulted in the unexpected exception above. "
                               + _INTERNAL_ISSUE + "except the previous error and raise an expressive `ErrorMeta` "
                               "instead.") from error
    return error_metas


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Assert that actual and expected (tensors, numbers, arrays, or nested sequences/mappings of them) are close."""
    __tracebackhide__ = True
    error_metas = not_close_error_metas(
        actual, expected, pair_types=(NonePair, BooleanPair, NumberPair, TensorLikePair),
        allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
        check_dtype=check_dtype, check_layout=check_layout, check_stride=check_stride, msg=msg)
    if error_metas:
        raise error_metas[0].to_error(msg)


_ASSERT_ALLCLOSE_DEPRECATION = (
    "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future release. "
    "Please use `torch.testing.assert_close()` instead. "
    "You can find detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844.")


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated (FutureWarning): assert_close without the dtype check, with its own looser default tolerances."""
    warnings.warn(_ASSERT_ALLCLOSE_DEPRECATION, FutureWarning, stacklevel=2)
    from ..ops.creation import tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, dtype_precisions={
            _dtype.float16: (1e-3, 1e-3), _dtype.float32: (1e-4, 1e-5), _dtype.float64: (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


assert_allclose.__deprecated__ = _ASSERT_ALLCLOSE_DEPRECATION
