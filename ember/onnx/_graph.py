"""The ONNX graph under construction: nodes named after the module path, initializers, and constant folding.

`op()` evaluates a node at export time instead of emitting it when every input is a known value (constants,
and parameters when they are exported and folding is on), using onnx's reference evaluator: weight
transforms such as the gate reordering of recurrent layers then become plain initializers.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

_NO_FOLD = {"Shape", "Size", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike"}


def _evaluate(op_type, values, attrs, n_out, opset):
    """The outputs of one node on known input arrays."""
    names = [f"i{k}" if v is not None else "" for k, v in enumerate(values)]
    outs = [f"o{k}" for k in range(n_out)]
    node = helper.make_node(op_type, names, outs, **attrs)
    inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
              for n, v in zip(names, values) if v is not None]
    graph = helper.make_graph([node], "fold", inputs, [helper.make_value_info(o, onnx.TypeProto()) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    feeds = {n: v for n, v in zip(names, values) if v is not None}
    return [np.asarray(r) for r in ReferenceEvaluator(model).run(None, feeds)]


class Graph:
    """Nodes, initializers and graph inputs of the model being exported."""

    def __init__(self, opset, fold):
        self.opset, self.fold = opset, fold
        self.nodes, self.inputs = [], []
        self.initializers = {}   # name -> ndarray
        self.values = {}         # name -> ndarray known at export time (may be folded)
        self.taken = set()
        self.scope = ""
        self._small = {}

    def unique(self, base):
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    # ---- values ----------------------------------------------------------------------------------------------------
    def const(self, value, dtype=None):
        """An initializer holding value (small ones are shared)."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 16 else None
        if key is not None and key in self._small:
            return self._small[key]
        name = self.unique(f"onnx::Constant_{len(self.initializers)}" if arr.size <= 16 else
                           f"onnx::Initializer_{len(self.initializers)}")
        self.initializers[name] = arr
        self.values[name] = arr
        if key is not None:
            self._small[key] = name
        return name

    def ints(self, values):
        return self.const(np.asarray(values, np.int64).reshape(-1))

    def initializer(self, name, arr, foldable):
        self.taken.add(name)
        self.initializers[name] = arr
        if foldable:
            self.values[name] = arr
        return name

    def input(self, name, arr_meta):
        self.taken.add(name)
        self.inputs.append((name, arr_meta))
        return name

    # ---- nodes -----------------------------------------------------------------------------------------------------
    def op(self, op_type, inputs, n_out=1, **attrs):
        """Emit (or fold) one node; returns its output name, or the list of names when n_out > 1."""
        inputs = list(inputs)
        if self.fold and inputs and op_type not in _NO_FOLD and all(i == "" or i in self.values for i in inputs):
            vals = _evaluate(op_type, [self.values.get(i) if i else None for i in inputs], attrs, n_out, self.opset)
            outs = [self.const(v) for v in vals]
        else:
            name = self.unique(f"{self.scope}/{op_type}")
            outs = [self.unique(f"{name}_output_{k}") for k in range(n_out)]
            self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    def reduce(self, op_type, x, axes, keepdims):
        """ReduceX over axes (an input from opset 18 on, and always for ReduceSum)."""
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, [x, self.ints(axes)], keepdims=int(keepdims))
        return self.op(op_type, [x], axes=[int(a) for a in axes], keepdims=int(keepdims))

    def scalar(self, value, dtype):
        return self.const(np.asarray(value, dtype=dtype))

    # ---- the model -------------------------------------------------------------------------------------------------
    def build(self, outputs, value_infos, name, doc=""):
        """The GraphProto: nodes that reach the outputs, the initializers they use, inputs and outputs."""
        needed = set(n for n, _ in outputs)
        kept = []
        for node in reversed(self.nodes):
            if any(o in needed for o in node.output):
                kept.append(node)
                needed.update(i for i in node.input if i)
        kept.reverse()
        inits = [numpy_helper.from_array(np.ascontiguousarray(v), k) for k, v in self.initializers.items()
                 if k in needed]
        inputs = [value_infos(n, meta) for n, meta in self.inputs]
        outs = [value_infos(n, meta) for n, meta in outputs]
        return helper.make_graph(kept, name, inputs, outs, initializer=inits, doc_string=doc)
