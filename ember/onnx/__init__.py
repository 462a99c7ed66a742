"""ember.onnx: export a model to ONNX (torch.onnx.export's API); the tests check every file with onnxruntime.

`export(model, args, f, ...)` runs the model's forward pass in eval mode and records every call of ember's
ops (`Function.apply`), then translates the calls into ONNX nodes (opset 17 by default, 17-20 accepted).
Parameters and buffers become initializers named by their state-dict keys (graph inputs with
export_params=False); ops that do not depend on the inputs are folded into initializers. The model's training
flags are restored, and `f` (a path or a binary file object) is written only once the whole model has been
converted and checked; paths atomically (temp file + os.replace). Needs the optional `onnx` package, which is
imported only when exporting.

Dynamic axes: the model is traced once more per dynamic-axis name with that axis resized (and once with
shuffled input values when there is none). Integers of the trace that follow an axis (reshape targets, slice
bounds, repeat counts, shapes of filled constants such as `zeros(x.size(0), n)`) become Shape-based
computations; folded values that change (e.g. `arange(n).expand(x.size(0), -1)`) are computed in the graph;
anything else that differs between the traces is an error rather than a frozen constant.

Limitations (each raises an OnnxExporterError naming the op and module instead of writing a wrong graph):
- ops without a converter: linalg decompositions, scatter/index_put (tensor item assignment), sort/topk,
  fold/unfold, grid_sample, random ops and training-mode dropout; a user autograd.Function whose forward
  computes outside ember's ops;
- control flow or constants that depend on input values (when the extra traces expose them), in-place writes
  through views, packed sequences, LSTM projections, max-pool indices, dynamic spatial sizes for pooling with
  ceil_mode, adaptive max pooling and interpolation;
- a dynamic-axis integer that is not `a * size + b` of one axis or `a * product of sizes` of several;
- values computed from the inputs with NumPy outside ember's ops (argmax/argmin, nan_to_num, view(dtype)):
  refused where the extra traces expose them.
Interpolation becomes Resize when its taps match ONNX's formulas, else an exact Gather-based resampling.
"""
from .errors import OnnxExporterError, OnnxExporterWarning, SymbolicValueError, UnsupportedOperatorError


def export(model, args=(), f=None, export_params=True, verbose=False, input_names=None, output_names=None,
           dynamic_axes=None, opset_version=None, do_constant_folding=True, kwargs=None,
           keep_initializers_as_inputs=False, **unused):
    """Export `model` called on `args` (and `kwargs`) to the ONNX file or binary file object `f`."""
    from . import utils
    return utils.export(model, args, f, export_params=export_params, verbose=verbose, input_names=input_names,
                        output_names=output_names, dynamic_axes=dynamic_axes, opset_version=opset_version,
                        do_constant_folding=do_constant_folding, kwargs=kwargs,
                        keep_initializers_as_inputs=keep_initializers_as_inputs, **unused)


def is_in_onnx_export():
    """Whether ember.onnx.export is tracing a model right now."""
    from . import _state
    return _state.EXPORTING[0]


__all__ = ["export", "is_in_onnx_export", "OnnxExporterError", "OnnxExporterWarning", "SymbolicValueError",
           "UnsupportedOperatorError"]
