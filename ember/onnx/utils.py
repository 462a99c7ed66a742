"""ember.onnx.export: trace the model (several times), convert the trace to ONNX, check it, write it atomically."""
import inspect
import os
import tempfile
import warnings

import numpy as np
import onnx
from onnx import helper

from .._tensor import Tensor
from ..ops.creation import from_numpy
from . import symbolic_opset17  # noqa: F401  (registers the converters)
from . import _registry, _state
from ._dynamic import Dims, Symbol, SymInt
from ._emitter import Emitter
from ._graph import Graph
from ._tracer import Tracer, _flatten
from .errors import OnnxExporterError, OnnxExporterWarning

MIN_OPSET, MAX_OPSET = 17, 20


def export(model, args=(), f=None, export_params=True, verbose=False, input_names=None, output_names=None,
           dynamic_axes=None, opset_version=None, do_constant_folding=True, kwargs=None,
           keep_initializers_as_inputs=False, **ignored):
    """Export `model` run on `args` to ONNX file (or binary file object) `f`; see ember.onnx for the details."""
    _check_legacy_options(ignored)
    opset = 17 if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"ember.onnx.export supports opset versions {MIN_OPSET} to {MAX_OPSET}, got {opset}")
    if f is None:
        raise ValueError("ember.onnx.export needs `f`: a file path or a binary file object")
    args, kwargs = _split_args(args, kwargs)
    modes = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
    try:
        if hasattr(model, "eval"):
            model.eval()
        proto = _export_proto(model, args, kwargs, export_params, input_names, output_names, dynamic_axes or {},
                              opset, do_constant_folding, keep_initializers_as_inputs)
    finally:
        for m, mode in modes:
            m.training = mode
    data = proto.SerializeToString()
    if verbose:
        print(helper.printable_graph(proto.graph))
    _write(f, data)
    return None


# torch.onnx.export options with no effect here (deprecated, or about the torch.export-based exporter)
_ACCEPTED = {"training", "operator_export_type", "custom_opsets", "export_modules_as_functions", "autograd_inlining",
             "dynamo", "external_data", "report", "optimize", "verify", "profile", "dump_exported_program",
             "artifacts_dir", "custom_translation_table", "dynamic_shapes"}


def _check_legacy_options(options):
    unknown = sorted(set(options) - _ACCEPTED)
    if unknown:
        raise TypeError(f"export() got an unexpected keyword argument '{unknown[0]}'")
    if options.get("dynamic_shapes"):
        raise NotImplementedError("ember.onnx.export: dynamic_shapes is not supported; use dynamic_axes")
    if options.get("custom_translation_table") or options.get("custom_opsets"):
        raise NotImplementedError("ember.onnx.export: custom translations/opsets are not supported")


def _split_args(args, kwargs):
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if kwargs is None and args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], args[-1]
    return args, dict(kwargs or {})


def _write(f, data):
    """Write bytes to a path atomically (temp file + os.replace), or to a binary file object."""
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".onnx")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_input_names(model, args, kwargs):
    """The forward's parameter names for its tensor arguments (nested ones numbered), then kwargs' keys."""
    try:
        params = list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError, AttributeError):
        params = []
    names = []
    for i, a in enumerate(args):
        base = params[i] if i < len(params) and params[i] not in ("args", "kwargs") else f"input_{i}"
        ts = _flatten(a)
        names += [base] if isinstance(a, Tensor) else [f"{base}_{j}" for j in range(len(ts))]
    for k, v in kwargs.items():
        ts = _flatten(v)
        names += [k] if isinstance(v, Tensor) else [f"{k}_{j}" for j in range(len(ts))]
    return names


def _parse_axes(dynamic_axes, names):
    """{index: {axis: symbol}} for the named inputs or outputs."""
    out = {}
    for key, spec in dynamic_axes.items():
        if key not in names:
            continue
        if isinstance(spec, dict):
            axes = {int(a): str(s) for a, s in spec.items()}
        else:
            axes = {int(a): f"{key}_dynamic_axes_{j + 1}" for j, a in enumerate(spec)}
        out[names.index(key)] = axes
    return out


def _export_proto(model, args, kwargs, export_params, input_names, output_names, dynamic_axes, opset, fold,
                  keep_inits):
    inputs = _flatten(args) + _flatten(kwargs)
    names = list(input_names or [])
    defaults = _default_input_names(model, args, kwargs)
    names += defaults[len(names):len(inputs)]
    if len(names) > len(inputs):
        raise ValueError(f"input_names has {len(names)} names but the model has {len(inputs)} tensor inputs")
    if len(set(names)) != len(names):
        raise ValueError(f"input_names must be unique, got {names}")
    params = list(model.named_parameters()) + list(model.named_buffers()) if hasattr(model, "named_parameters") \
        else []
    fold_params = fold and export_params
    in_axes = _parse_axes(dynamic_axes, names)
    symbols = _symbols(in_axes, inputs)

    def trace(run_args, run_kwargs):
        tracer = Tracer(model, params, fold_params, tuple(_registry.MODULES))
        run_inputs = _flatten(run_args) + _flatten(run_kwargs)
        _state.EXPORTING[0] = True
        try:
            result = tracer.run(lambda: model(*run_args, **run_kwargs), run_inputs)
        finally:
            _state.EXPORTING[0] = False
        return tracer, result

    base, result = trace(args, kwargs)
    _precheck(base)
    runs = [base] + _other_runs(trace, args, kwargs, inputs, symbols)
    outs = base.outputs
    n_out = len(outs)
    out_names = list(output_names or [])
    out_names += (["output"] if n_out == 1 else [f"output_{i}" for i in range(n_out)])[len(out_names):]
    out_names = out_names[:n_out]
    for key in dynamic_axes:
        if key not in names and key not in out_names:
            warnings.warn(f"Provided key {key} for dynamic axes is not a valid input/output name",
                          OnnxExporterWarning, stacklevel=3)
    dims = Dims(symbols)
    g = Graph(opset, fold)
    for name, t in zip(names, inputs):
        g.input(name, t._data)
    e = Emitter(g, runs, dims, names, dict(params), export_params)
    e.check_structure()
    e.emit()
    out_axes = _parse_axes(dynamic_axes, out_names)
    outputs = _bind_outputs(e, runs, out_names, type(model).__name__)
    shapes = _io_shapes(e, runs, inputs, in_axes, out_axes, out_names)
    value_info = _value_info_maker(shapes)
    graph = g.build(outputs, value_info, type(model).__name__)
    if keep_inits:
        taken = {i.name for i in graph.input}
        graph.input.extend(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                           for t in graph.initializer if t.name not in taken)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ember",
                              producer_version="0.1.0")
    proto.ir_version = min(proto.ir_version, 8 if opset <= 17 else 9)
    onnx.checker.check_model(proto)
    return proto


def _symbols(in_axes, inputs):
    syms = {}
    for i, axes in in_axes.items():
        for axis, name in axes.items():
            shape = inputs[i]._data.shape
            if not 0 <= axis < len(shape):
                raise ValueError(f"dynamic axis {axis} is out of range for input {i} of shape {list(shape)}")
            if name in syms:
                if syms[name].size != shape[axis]:
                    raise ValueError(f"dynamic axis '{name}' has sizes {syms[name].size} and {shape[axis]} in the "
                                     "example inputs")
                syms[name].sources.append((i, axis))
            else:
                syms[name] = Symbol(name, shape[axis], [(i, axis)])
    return list(syms.values())


def _precheck(tracer):
    """Fail fast (before the other traces) on an op that has no converter."""
    inner_until = -1
    for op in tracer.ops:
        if op.index < inner_until:
            continue
        if op.end is not None:
            inner_until = op.end if op.fn in _registry.MODULES and not op.folded else -1
            continue
        if not op.folded and _registry.lookup(op.fn) is None:
            from .errors import UnsupportedOperatorError
            raise UnsupportedOperatorError(op.name, op.path, op.mtype)


def _other_runs(trace, args, kwargs, inputs, symbols):
    """One trace per dynamic-axis symbol (its size changed), or one with shuffled values when there is none."""
    rng = np.random.default_rng(0)
    if not symbols:
        try:
            return [trace(*_perturbed(args, kwargs, inputs, {}, rng))[0]]
        except OnnxExporterError:
            raise
        except Exception as exc:  # the model rejects other values: keep the single trace
            warnings.warn(f"ONNX export: could not re-run the model on shuffled inputs ({exc}); input-dependent "
                          "constants cannot be detected", OnnxExporterWarning, stacklevel=4)
            return []
    runs = []
    for sym in symbols:
        error = None
        for new in (sym.size + 1, 2 * sym.size, sym.size - 1):
            if new < 1 or new == sym.size:
                continue
            sym.new_size = new
            sizes = {(i, axis): new for i, axis in sym.sources}
            try:
                runs.append(trace(*_perturbed(args, kwargs, inputs, sizes, rng))[0])
                break
            except OnnxExporterError:
                raise
            except Exception as exc:
                error = exc
        else:
            raise OnnxExporterError(f"ONNX export: the model fails when dynamic axis '{sym.name}' has another size "
                                    f"than {sym.size}: {error}")
    return runs


def _perturbed(args, kwargs, inputs, sizes, rng):
    """args/kwargs with every input tensor resized along the given axes and its values shuffled."""
    new = {}
    for i, t in enumerate(inputs):
        a = np.array(t._data, copy=True)
        for (j, axis), n in sizes.items():
            if j == i:
                a = np.take(a, rng.integers(0, a.shape[axis], n), axis=axis)
        flat = a.reshape(-1)
        a = flat[rng.permutation(flat.size)].reshape(a.shape)
        new[id(t)] = from_numpy(np.ascontiguousarray(a))

    def swap(obj):
        if isinstance(obj, Tensor):
            return new[id(obj)]
        if isinstance(obj, (tuple, list)):
            return type(obj)(swap(o) for o in obj)
        if isinstance(obj, dict):
            return {k: swap(v) for k, v in obj.items()}
        return obj

    return swap(args), swap(kwargs)


class _OutputSite:
    """Stands for an op in messages about the model's outputs."""

    name, path = "output", ""

    def __init__(self, mtype):
        self.mtype = mtype


def _bind_outputs(e, runs, out_names, model_type):
    """(name, ref) per model output: the producing value renamed to the output name, or an Identity."""
    g = e.g
    outputs = []
    renamed = set()
    for k, (ref, name) in enumerate(zip(runs[0].outputs, out_names)):
        for run in runs[1:]:
            other = run.outputs[k] if k < len(run.outputs) else None
            if other is None or other.kind != ref.kind or (ref.kind != "const" and other.key != ref.key):
                raise OnnxExporterError(f"ONNX export: output {k} of the model comes from different places in "
                                        "traces with other inputs")
        if ref.kind in ("const", "folded") and len(runs) > 1:
            e.check_const(_OutputSite(model_type), [ref] + [run.outputs[k] for run in runs[1:]], f"output {k}")
        src = e.x(ref)
        node = next((n for n in g.nodes if src in n.output), None) if ref.kind == "value" else None
        if node is not None and src not in renamed and name not in g.taken:
            _rename(g, src, name)
            renamed.add(name)
        else:
            g.taken.add(name)
            g.nodes.append(helper.make_node("Identity", [src], [name], name=g.unique(f"/Identity_{name}")))
        outputs.append((name, ref))
    return outputs


def _rename(g, old, new):
    g.taken.add(new)
    for node in g.nodes:
        for seq in (node.input, node.output):
            for j, v in enumerate(seq):
                if v == old:
                    seq[j] = new


def _io_shapes(e, runs, inputs, in_axes, out_axes, out_names):
    """name -> (dtype, dims) with dim_param names for dynamic dims."""
    shapes = {}
    for i, (name, t) in enumerate(zip(e.input_names, inputs)):
        dims = list(t._data.shape)
        for axis, sym in in_axes.get(i, {}).items():
            dims[axis] = sym
        shapes[name] = (t._data.dtype, dims)
    for name, p in e.params.items():
        shapes[name] = (p._data.dtype, list(p._data.shape))
    for k, name in enumerate(out_names):
        ref = runs[0].outputs[k]
        dims = []
        for d in range(len(ref.shape)):
            v = e.dims.fit([ref.shape[d]] + [run.outputs[k].shape[d] for run in runs[1:]])
            if isinstance(v, SymInt):
                dims.append(v.syms[0] if v.is_plain() else f"{name}_dim_{d}")
            elif v is None:
                dims.append(f"{name}_dim_{d}")
            else:
                dims.append(v)
        for axis, sym in out_axes.get(k, {}).items():
            if 0 <= axis < len(dims):
                dims[axis] = sym
        shapes[name] = (ref.dtype, dims)
    return shapes


def _value_info_maker(shapes):
    def make(name, meta):
        dtype, dims = shapes.get(name, (meta.dtype, list(meta.shape)))
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), dims)
    return make


__all__ = ["export"]
