"""Converters of elementwise ops: arithmetic, comparisons, unary math, clamp/where/cast, and activations."""
import math

import numpy as np

from ..ops import activation as A
from ..ops import elementwise as E
from . import _registry as reg
from ._emitter import Unsupported
from .symbolic_helper import cast, operand, out_dtype, unary, where_gt, x0

# ---- binary arithmetic -------------------------------------------------------------------------------------------
_SIMPLE = {E.Add: "Add", E.Sub: "Sub", E.Mul: "Mul", E.Div: "Div", E.Pow: "Pow", E.Maximum: "Max",
           E.Minimum: "Min", E.Fmax: "Max", E.Fmin: "Min"}


def _operands(e, op):
    nd = np.dtype(op.args[2])
    return operand(e, op, 0, nd), operand(e, op, 1, nd), nd


@reg.op(*_SIMPLE, dynamic=(0, 1))
def binary(e, op):
    a, b, nd = _operands(e, op)
    base = next(c for c in op.fn.__mro__ if c in _SIMPLE)  # Pow's overload subclasses convert as Pow
    if base is E.Pow and nd.kind not in "f":
        raise Unsupported("integer power")
    e.set(op, 0, cast(e, e.g.op(_SIMPLE[base], [a, b]), nd, out_dtype(op)))


def _floor_div(e, a, b, nd):
    if nd.kind == "f":
        return e.g.op("Floor", [e.g.op("Div", [a, b])])
    return e.g.op("Div", [e.g.op("Sub", [a, e.g.op("Mod", [a, b], fmod=0)]), b])


def _trunc(e, q):
    return e.g.op("Mul", [e.g.op("Sign", [q]), e.g.op("Floor", [e.g.op("Abs", [q])])])


@reg.op(E._DivFloor, E._FloorDivide, dynamic=(0, 1))
def div_floor(e, op):
    a, b, nd = _operands(e, op)
    e.set(op, 0, _floor_div(e, a, b, nd))


@reg.op(E._DivTrunc, dynamic=(0, 1))
def div_trunc(e, op):
    a, b, nd = _operands(e, op)
    e.set(op, 0, _trunc(e, e.g.op("Div", [a, b])) if nd.kind == "f" else e.g.op("Div", [a, b]))


@reg.op(E.Remainder, dynamic=(0, 1))
def remainder(e, op):
    a, b, nd = _operands(e, op)
    if nd.kind == "f":
        e.set(op, 0, e.g.op("Sub", [a, e.g.op("Mul", [_floor_div(e, a, b, nd), b])]))
    else:
        e.set(op, 0, e.g.op("Mod", [a, b], fmod=0))


@reg.op(E.Fmod, dynamic=(0, 1))
def fmod(e, op):
    a, b, _ = _operands(e, op)
    e.set(op, 0, e.g.op("Mod", [a, b], fmod=1))


@reg.op(E.Hypot)
def hypot(e, op):
    a, b, _ = _operands(e, op)
    e.set(op, 0, e.g.op("Sqrt", [e.g.op("Add", [e.g.op("Mul", [a, a]), e.g.op("Mul", [b, b])])]))


@reg.op(E.Logaddexp)
def logaddexp(e, op):
    a, b, nd = _operands(e, op)
    g = e.g
    m = g.op("Max", [a, b])
    d = g.op("Neg", [g.op("Abs", [g.op("Sub", [a, b])])])
    e.set(op, 0, g.op("Add", [m, g.op("Log", [g.op("Add", [g.scalar(1, nd), g.op("Exp", [d])])])]))


# ---- comparisons and logical ops -----------------------------------------------------------------------------------
_COMPARE = {"Eq": "Equal", "Lt": "Less", "Le": "LessOrEqual", "Gt": "Greater", "Ge": "GreaterOrEqual"}
_LOGICAL = {"LogicalAnd": "And", "LogicalOr": "Or", "LogicalXor": "Xor", "BitwiseAnd": "And", "BitwiseOr": "Or",
            "BitwiseXor": "Xor"}


@reg.op(E._Compare, dynamic=(0, 1))
def compare(e, op):
    name = op.name
    a, b, nd = _operands(e, op)
    g = e.g
    if name in _COMPARE:
        r = g.op(_COMPARE[name], [a, b])
    elif name == "Ne":
        r = g.op("Not", [g.op("Equal", [a, b])])
    elif name in _LOGICAL and (name.startswith("Logical") or nd == np.bool_):
        r = g.op(_LOGICAL[name], [cast(e, a, nd, np.bool_), cast(e, b, nd, np.bool_)])
    elif name in _LOGICAL and e.g.opset >= 18:
        r = g.op("Bitwise" + _LOGICAL[name], [a, b])
    else:
        raise Unsupported(f"{name} on {nd}")
    e.set(op, 0, cast(e, r, np.bool_, out_dtype(op)))


# ---- unary math ----------------------------------------------------------------------------------------------------
_UNARY = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "sin": "Sin", "cos": "Cos", "tan": "Tan", "asin": "Asin",
          "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh", "tanh": "Tanh", "asinh": "Asinh",
          "acosh": "Acosh", "atanh": "Atanh", "sigmoid": "Sigmoid", "erf": "Erf", "reciprocal": "Reciprocal",
          "abs": "Abs", "neg": "Neg", "sign": "Sign", "sgn": "Sign", "floor": "Floor", "ceil": "Ceil",
          "round": "Round"}


def _unary_composite(e, name, x, dt):
    g = e.g
    one = g.scalar(1, dt)
    if name == "rsqrt":
        return g.op("Reciprocal", [g.op("Sqrt", [x])])
    if name == "square":
        return g.op("Mul", [x, x])
    if name == "expm1":
        return g.op("Sub", [g.op("Exp", [x]), one])
    if name == "log1p":
        return g.op("Log", [g.op("Add", [x, one])])
    if name in ("log2", "log10"):
        return g.op("Div", [g.op("Log", [x]), g.scalar(math.log(2.0 if name == "log2" else 10.0), dt)])
    if name == "exp2":
        return g.op("Pow", [g.scalar(2, dt), x])
    if name == "erfc":
        return g.op("Sub", [one, g.op("Erf", [x])])
    if name == "trunc":
        return _trunc(e, x) if np.dtype(dt).kind == "f" else x
    if name == "frac":
        return g.op("Sub", [x, _trunc(e, x)])
    return None


@reg.op(E._Unary)
def unary_math(e, op):
    name = op.name
    dt = out_dtype(op)
    x = cast(e, x0(e, op), op.args[0].dtype, dt)
    if name in _UNARY:
        e.set(op, 0, e.g.op(_UNARY[name], [x]))
        return
    r = _unary_composite(e, name, x, dt)
    if r is None:
        raise Unsupported(f"unary '{name}'")
    e.set(op, 0, r)


@reg.op(E._NonDiffUnary)
def predicate(e, op):
    """isnan/isinf/isfinite/isposinf/isneginf, logical_not and bitwise_not (bool) as IsNaN/IsInf/Not."""
    name, g = op.name, e.g
    x = x0(e, op)
    kind = np.dtype(op.args[0].dtype).kind
    if name == "logical_not" or (name == "bitwise_not" and kind == "b"):
        r = g.op("Not", [cast(e, x, op.args[0].dtype, np.bool_)])
    elif name in ("isnan", "isinf", "isposinf", "isneginf", "isfinite") and kind == "f":
        if name == "isnan":
            r = g.op("IsNaN", [x])
        elif name == "isfinite":
            r = g.op("Not", [g.op("Or", [g.op("IsNaN", [x]), g.op("IsInf", [x])])])
        else:
            r = g.op("IsInf", [x], detect_negative=int(name != "isposinf"), detect_positive=int(name != "isneginf"))
    else:
        raise Unsupported(f"{name} on {op.args[0].dtype}")
    e.set(op, 0, r)


@reg.op(E.RoundDecimals)
def round_decimals(e, op):
    x, d = x0(e, op), op.args[1]
    dt = out_dtype(op)
    scale = e.g.scalar(10.0 ** abs(d), dt)
    if d < 0:
        r = e.g.op("Mul", [e.g.op("Round", [e.g.op("Div", [x, scale])]), scale])
    else:
        r = e.g.op("Div", [e.g.op("Round", [e.g.op("Mul", [x, scale])]), scale])
    e.set(op, 0, r)


# ---- ops with extra arguments ---------------------------------------------------------------------------------------
@reg.op(E.Clamp, dynamic=(1, 2))
def clamp(e, op):
    dt = out_dtype(op)
    out = x0(e, op)
    if op.args[1] is not None:
        out = e.g.op("Max", [out, operand(e, op, 1, dt)])
    if op.args[2] is not None:
        out = e.g.op("Min", [out, operand(e, op, 2, dt)])
    e.set(op, 0, out)


@reg.op(E.Where, dynamic=(1, 2))
def where(e, op):
    nd = np.dtype(op.args[3])
    cond = cast(e, x0(e, op), op.args[0].dtype, np.bool_)
    e.set(op, 0, e.g.op("Where", [cond, operand(e, op, 1, nd), operand(e, op, 2, nd)]))


@reg.op(E.Lerp, dynamic=(2,))
def lerp(e, op):
    dt = out_dtype(op)
    x, end, w = x0(e, op), e.x(op.args[1]), operand(e, op, 2, dt)
    e.set(op, 0, e.g.op("Add", [x, e.g.op("Mul", [w, e.g.op("Sub", [end, x])])]))


@reg.op(E.Logit)
def logit(e, op):
    dt = out_dtype(op)
    z = cast(e, x0(e, op), op.args[0].dtype, dt)
    eps = op.args[1]
    if eps is not None:
        z = e.g.op("Clip", [z, e.g.scalar(eps, dt), e.g.scalar(1 - eps, dt)])
    e.set(op, 0, e.g.op("Log", [e.g.op("Div", [z, e.g.op("Sub", [e.g.scalar(1, dt), z])])]))


@reg.op(E.Clone)
def identity(e, op):
    e.set(op, 0, x0(e, op))


@reg.op(E.Cast)
def cast_op(e, op):
    e.set(op, 0, cast(e, x0(e, op), op.args[0].dtype, op.args[1]))


# ---- activations ---------------------------------------------------------------------------------------------------
def _elu(e, op):
    x, (alpha, scale, input_scale, _) = x0(e, op), op.args[1:]
    dt, g = out_dtype(op), e.g
    if input_scale == 1 and scale == 1:
        return g.op("Elu", [x], alpha=float(alpha))
    if alpha == A.SELU_ALPHA and scale == A.SELU_SCALE and input_scale == 1:
        return g.op("Selu", [x], alpha=float(alpha), gamma=float(scale))
    if scale == 1 and math.isclose(input_scale, 1.0 / alpha):
        return g.op("Celu", [x], alpha=float(alpha))
    neg = g.op("Mul", [g.op("Sub", [g.op("Exp", [g.op("Mul", [g.op("Min", [x, g.scalar(0, dt)]),
                                                                g.scalar(input_scale, dt)])]),
                                      g.scalar(1, dt)]), g.scalar(alpha, dt)])
    return g.op("Mul", [where_gt(e, x, 0, dt, x, neg), g.scalar(scale, dt)])


def _softplus(e, x, beta, threshold, dt):
    g = e.g
    bx = g.op("Mul", [x, g.scalar(beta, dt)]) if beta != 1 else x
    sp = g.op("Softplus", [bx])
    if beta != 1:
        sp = g.op("Div", [sp, g.scalar(beta, dt)])
    return where_gt(e, bx, threshold, dt, x, sp)


def _gelu(e, x, approximate, dt):
    g = e.g
    half = g.scalar(0.5, dt)
    if approximate == "tanh":
        cube = g.op("Mul", [g.op("Mul", [g.op("Mul", [x, x]), x]), g.scalar(0.044715, dt)])
        inner = g.op("Mul", [g.op("Add", [x, cube]), g.scalar(math.sqrt(2.0 / math.pi), dt)])
        t = g.op("Tanh", [inner])
    else:
        t = g.op("Erf", [g.op("Div", [x, g.scalar(math.sqrt(2.0), dt)])])
    return g.op("Mul", [g.op("Mul", [x, half]), g.op("Add", [t, g.scalar(1, dt)])])


def _activation(e, op):
    name, x, p = op.name, x0(e, op), op.args[1:]
    dt, g = out_dtype(op), e.g
    if name in ("Elu", "EluResult"):
        return _elu(e, op)
    if name == "LeakyRelu":
        return g.op("LeakyRelu", [x], alpha=float(p[0]))
    if name == "Hardtanh":
        return g.op("Clip", [x, g.scalar(p[0], dt), g.scalar(p[1], dt)])
    if name == "Hardsigmoid":
        return g.op("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)
    if name == "Hardswish":
        return g.op("HardSwish", [x])
    if name == "Hardshrink":
        return g.op("Shrink", [x], lambd=float(p[0]), bias=0.0)
    if name == "Softshrink":
        return g.op("Shrink", [x], lambd=float(p[0]), bias=float(p[0]))
    if name == "Threshold":
        return where_gt(e, x, p[0], dt, x, g.scalar(p[1], dt))
    if name == "Softsign":
        return g.op("Softsign", [x])
    if name == "Tanhshrink":
        return g.op("Sub", [x, g.op("Tanh", [x])])
    if name == "Silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x])])
    if name == "Softplus":
        return _softplus(e, x, p[0], p[1], dt)
    if name == "LogSigmoid":
        return g.op("Neg", [g.op("Softplus", [g.op("Neg", [x])])])
    if name == "Mish":
        return g.op("Mul", [x, g.op("Tanh", [_softplus(e, x, 1.0, 20.0, dt)])])
    if name == "Gelu":
        return _gelu(e, x, p[0], dt)
    raise Unsupported(f"activation '{name}'")


@reg.op(A._Pointwise)
def activation(e, op):
    e.set(op, 0, _activation(e, op))


@reg.op(A.Relu)
def relu(e, op):
    e.set(op, 0, e.g.op("Relu", [x0(e, op)]))


@reg.op(A.Prelu)
def prelu(e, op):
    x, w = op.args
    nd = len(x.shape)
    n = int(np.prod(w.shape))
    shape = [n] + [1] * (nd - 2) if n > 1 and nd >= 2 else [n]
    slope = e.g.op("Reshape", [e.x(w), e.g.ints(shape)])
    e.set(op, 0, e.g.op("PRelu", [e.x(x), slope]))


@reg.op(A.Softmax)
def softmax(e, op):
    unary(e, op, "Softmax", axis=int(op.args[1]))


@reg.op(A.LogSoftmax)
def log_softmax(e, op):
    unary(e, op, "LogSoftmax", axis=int(op.args[1]))
