"""Every error input of torch's ModuleInfo database (module_error_inputs_func) against ember: the module built from
the same constructor arguments (and, for forward errors, called on the same inputs) must raise torch's exception class
at the same stage, with a message matching torch's error_regex (or torch's own message where torch's does not)."""
import re

import pytest
import torch
from torch.testing._internal.common_modules import ModuleErrorEnum

import ember
from opinfo import Unsupported, module_cases, to_ember


def _torch_error(info, err, training):
    """The exception torch raises on this error input (None if it accepts it)."""
    mi = err.module_error_input
    try:
        module = info.module_cls(*mi.constructor_input.args, **mi.constructor_input.kwargs)
        if err.error_on == ModuleErrorEnum.FORWARD_ERROR:
            module.train(training)(*mi.forward_input.args, **mi.forward_input.kwargs)
    except Exception as e:  # noqa: BLE001 - the exception is the expectation
        return e
    return None


def _ember_error(info, err, training):
    """(stage, exception) ember raises on this error input; the exception is None if it accepts it."""
    mi = err.module_error_input
    memo = {}
    c_args, c_kwargs = to_ember((mi.constructor_input.args, mi.constructor_input.kwargs), memo)
    fi = mi.forward_input
    f_args, f_kwargs = to_ember((fi.args, fi.kwargs), memo) if fi is not None else ((), {})
    stage = ModuleErrorEnum.CONSTRUCTION_ERROR
    try:
        module = getattr(ember.nn, info.module_cls.__name__)(*c_args, **c_kwargs)
        if err.error_on == ModuleErrorEnum.FORWARD_ERROR:
            stage = ModuleErrorEnum.FORWARD_ERROR
            module.train(training)(*f_args, **f_kwargs)
    except Exception as e:  # noqa: BLE001 - compared with torch's below
        return stage, e
    return stage, None


def check_error_input(info, err, training):
    """None if ember fails on this error input as torch does, else a message."""
    t_err = _torch_error(info, err, training)
    if not isinstance(t_err, err.error_type):
        return None   # torch itself does not raise the documented error on the CPU: nothing to compare
    stage, e_err = _ember_error(info, err, training)
    if e_err is None:
        return f"no error; torch raises {err.error_type.__name__} matching {err.error_regex!r}"
    if not isinstance(e_err, err.error_type):
        return f"{type(e_err).__name__}: {e_err}; torch raises {err.error_type.__name__}"
    if stage != err.error_on:
        return f"raised on {stage.name}, torch on {err.error_on.name}"
    want = err.error_regex if re.search(err.error_regex, str(t_err)) else re.escape(str(t_err))
    if not re.search(want, str(e_err)):
        return f"message {str(e_err)!r} does not match {want!r}"
    return None


@pytest.mark.parametrize("module_info,training", module_cases(lambda info: info.module_error_inputs_func is not None))
def test_module_error_inputs(module_info, training):
    failures = []
    errs = module_info.module_error_inputs_func(module_info, device="cpu", dtype=torch.float32, requires_grad=False,
                                                training=training)
    for i, err in enumerate(errs):
        try:
            r = check_error_input(module_info, err, training)
        except Unsupported:
            continue
        if r:
            failures.append((i, r))
    assert not failures, f"{len(failures)} error inputs differ; first, input {failures[0][0]}: {failures[0][1]}"
