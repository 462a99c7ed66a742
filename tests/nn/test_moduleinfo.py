"""Every nn module in torch's ModuleInfo database (torch.testing._internal.common_modules.module_db) against ember:
each sample builds the module in both libraries with the same constructor arguments and torch's parameters and
buffers, runs forward on the same inputs in training and in eval mode, and compares the outputs and then the
gradients of sum(out * r) with respect to the inputs and the parameters (float64)."""
import numpy as np
import pytest
import torch

import ember
from opinfo import Unsupported, module_cases, as_numpy, flat, mismatch, to_ember

# Modules whose samples draw random numbers in training mode (ember's generator is not torch's).
_RANDOM_IN_TRAINING = {"FractionalMaxPool2d", "FractionalMaxPool3d", "MultiheadAttention", "Transformer",
                       "TransformerEncoder", "TransformerEncoderLayer", "TransformerDecoderLayer"}


def _ember_module(module_info, sample, memo):
    """ember's module built from the sample's constructor arguments (lazy modules materialised by torch's run)."""
    cls = getattr(ember.nn, module_info.module_cls.__name__)
    args, kwargs = to_ember((sample.constructor_input.args, sample.constructor_input.kwargs), memo)
    return cls(*args, **kwargs)


def _copy_state(t_module, e_module):
    """torch's parameters and buffers into ember's module (by name, strictly)."""
    state = {k: ember.from_numpy(as_numpy(v).copy()) if isinstance(v, torch.Tensor) else v
             for k, v in t_module.state_dict().items()}
    e_module.load_state_dict(state)


def _differentiable(out):
    return [o for o in flat(out) if isinstance(o, torch.Tensor) and o.requires_grad]


def check_module_sample(module_info, sample, training):
    """None if ember's module agrees with torch's on this sample, else a message."""
    memo = {}
    f_args, f_kwargs = sample.forward_input.args, sample.forward_input.kwargs
    e_args, e_kwargs = to_ember((f_args, f_kwargs), memo)
    torch.manual_seed(0)
    t_module = module_info.module_cls(*sample.constructor_input.args, **sample.constructor_input.kwargs)
    t_module.to(torch.float64).train(training)
    t_out = t_module(*f_args, **f_kwargs)
    e_module = _ember_module(module_info, sample, memo).to(ember.float64).train(training)
    if module_info.is_lazy:
        e_module(*to_ember((f_args, f_kwargs), {})[0])   # materialise, then take torch's values
    _copy_state(t_module, e_module)
    e_out = e_module(*e_args, **e_kwargs)
    if training and module_info.module_cls.__name__ in _RANDOM_IN_TRAINING:
        return mismatch([o.shape for o in flat(t_out) if isinstance(o, torch.Tensor)],
                        [o.shape for o in flat(e_out) if isinstance(o, ember.Tensor)])
    r = mismatch(t_out, e_out)
    if r:
        return r
    t_outs = _differentiable(t_out)
    e_outs = [e for t, e in zip(flat(t_out), flat(e_out)) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not t_outs:
        return None
    t_leaves = [x for x in flat((f_args, list(f_kwargs.values()))) if isinstance(x, torch.Tensor) and x.requires_grad]
    t_params = [p for _, p in t_module.named_parameters()]
    e_leaves = [memo[id(x)] for x in t_leaves]
    e_params = [p for _, p in e_module.named_parameters()]
    rng = np.random.default_rng(0)
    cot = [rng.standard_normal(tuple(o.shape)) for o in t_outs]
    want = torch.autograd.grad(t_outs, t_leaves + t_params, [torch.from_numpy(c) for c in cot], allow_unused=True)
    got = ember.autograd.grad(e_outs, e_leaves + e_params, [ember.from_numpy(c.copy()) for c in cot],
                              allow_unused=True)
    names = [f"input {i}" for i in range(len(t_leaves))] + [n for n, _ in t_module.named_parameters()]
    for name, w, g, x in zip(names, want, got, t_leaves + t_params):
        if w is None and g is None:
            continue
        r = mismatch(torch.zeros_like(x) if w is None else w,
                     ember.zeros(tuple(x.shape), dtype=ember.float64) if g is None else g, f"grad of {name}")
        if r:
            return r
    return None


@pytest.mark.parametrize("module_info,training", module_cases(lambda info: torch.float64 in info.dtypes))
def test_module_matches_torch(module_info, training):
    failures = []
    samples = module_info.module_inputs_func(module_info, device="cpu", dtype=torch.float64, requires_grad=True,
                                             training=training)
    for i, sample in enumerate(samples):
        try:
            r = check_module_sample(module_info, sample, training)
        except Unsupported:
            continue
        except (NotImplementedError, AttributeError):
            raise
        except Exception as e:   # noqa: BLE001 - every ember error is a finding, reported with its type
            r = f"{type(e).__name__}: {e}"
        if r:
            failures.append((i, sample.desc, r))
    assert not failures, f"{len(failures)} samples differ; first, sample {failures[0][:2]}: {failures[0][2]}"
