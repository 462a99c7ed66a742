"""Small helpers shared by the converters (operands, dtypes, casts, common decompositions)."""
import numpy as np
from onnx import helper

from ._dynamic import SymInt
from ._tracer import TRef


def onnx_type(dtype):
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def out_dtype(op, i=0):
    return op.out[i][1]


def cast(e, name, src, dst):
    """name cast from numpy dtype src to dst (no node when they agree)."""
    if np.dtype(src) == np.dtype(dst):
        return name
    return e.g.op("Cast", [name], to=onnx_type(dst))


def operand(e, op, i, dtype):
    """Argument i (a TRef or a Python number, possibly run-dependent) as an ONNX value of `dtype`."""
    a = op.args[i]
    if isinstance(a, TRef):
        return cast(e, e.x(a), a.dtype, dtype)
    if isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)):
        v = e.ints(op, lambda c: c.args[i])
        if isinstance(v, SymInt):
            return cast(e, e.g.op("Squeeze", [e.dyn(v), e.g.ints([0])]), np.int64, dtype)
        return e.g.scalar(v, dtype)
    e.same_in_runs(op, lambda c: c.args[i])
    return e.g.scalar(a, dtype)


def x0(e, op):
    """The first argument (the op's input tensor)."""
    return e.x(op.args[0])


def unary(e, op, op_type, **attrs):
    e.set(op, 0, e.g.op(op_type, [x0(e, op)], **attrs))


def where_gt(e, x, threshold, dtype, then, other):
    """Where(x > threshold, then, other)."""
    return e.g.op("Where", [e.g.op("Greater", [x, e.g.scalar(threshold, dtype)]), then, other])


def reshape(e, x, entries):
    """Reshape x to the (possibly dynamic) entries."""
    return e.g.op("Reshape", [x, e.shape_tensor(list(entries), reshape=True)])
