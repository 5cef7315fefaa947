"""Elementwise operators: arithmetic and comparisons (broadcast), activation functions, Clip, Cast, Where.

Constants give numpy results of the dtype ONNX specifies; activations give JAX arrays.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from ._operator import Operator, aligned, array_module, attributes, is_constant, optional


def _special(xp):
    return scipy.special if xp is np else jax.scipy.special


def _unary(function) -> Operator:
    """``function(xp, x)`` of one operand, with ``xp`` numpy for a constant and ``jax.numpy`` otherwise."""
    return Operator(lambda node, inputs, context: [function(array_module(inputs[0]), inputs[0])])


def _with_attributes(function) -> Operator:
    """``function(xp, x, attrs)`` of one operand and the node's attributes."""

    def evaluate(node, inputs, context):
        return [function(array_module(inputs[0]), inputs[0], attributes(node))]

    return Operator(evaluate)


def _binary(function) -> Operator:
    """``function(xp, a, b)`` of two operands of equal rank (broadcast as numpy does)."""

    def evaluate(node, inputs, context):
        a, b = inputs
        return [function(array_module(a, b), *aligned(a, b))]

    return Operator(evaluate)


def _divide(xp, a, b):
    """a / b; integers truncate toward zero, as ONNX's Div does."""
    if np.issubdtype(a.dtype, np.integer):
        return (xp.sign(a) * xp.sign(b) * (xp.abs(a) // xp.abs(b))).astype(a.dtype)
    return a / b


def _mod(node, inputs, context):
    """The remainder with the divisor's sign (``fmod`` 0), or with the dividend's (``fmod`` 1, C's fmod)."""
    a, b = inputs
    xp = array_module(a, b)
    return [(xp.fmod if attributes(node).get("fmod", 0) else xp.mod)(*aligned(a, b))]


def _where(node, inputs, context):
    return [array_module(*inputs).where(*aligned(*inputs))]


def _sigmoid(xp, x):
    return scipy.special.expit(x) if xp is np else jax.nn.sigmoid(x)


def _gelu(xp, x, attrs):
    """x Phi(x) (``approximate`` none), or its tanh approximation (``approximate`` tanh)."""
    if attrs.get("approximate", "none") == "tanh":
        return 0.5 * x * (1 + xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _special(xp).erf(x / math.sqrt(2)))


def _check_gelu(node, opset):
    approximate = attributes(node).get("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate {approximate!r} is not supported (none, tanh)")


def _hard_sigmoid(xp, x, attrs):
    return xp.clip(attrs.get("alpha", 0.2) * x + attrs.get("beta", 0.5), 0, 1).astype(x.dtype)


def _leaky_relu(xp, x, attrs):
    return xp.where(x >= 0, x, attrs.get("alpha", 0.01) * x)


def _clip(node, inputs, context):
    """x clipped to [min, max], either bound optional: inputs from opset 11, attributes before."""
    x = inputs[0]
    if context.opset >= 11:
        low, high = optional(inputs, 1), optional(inputs, 2)
    else:
        attrs = attributes(node)
        low, high = attrs.get("min"), attrs.get("max")
    xp = array_module(x, low, high)
    if low is not None:
        x = xp.maximum(x, xp.asarray(low, x.dtype))
    if high is not None:
        x = xp.minimum(x, xp.asarray(high, x.dtype))
    return [x]


def _cast_dtype(node) -> np.dtype:
    from onnx import helper

    return np.dtype(helper.tensor_dtype_to_np_dtype(attributes(node)["to"]))


def _cast(node, inputs, context):
    (x,) = inputs
    dtype = _cast_dtype(node)
    if is_constant(x):
        return [np.asarray(x).astype(dtype)]
    return [x.astype(jax.dtypes.canonicalize_dtype(dtype))]


def _check_cast(node, opset):
    from onnx import helper

    to = attributes(node)["to"]
    if np.dtype(helper.tensor_dtype_to_np_dtype(to)).kind not in "biuf":
        name = helper.tensor_dtype_to_string(to).removeprefix("TensorProto.")
        raise ValueError(f"Cast to {name} is not supported (bool, integers, float16, float, double)")


def _identity(node, inputs, context):
    return [inputs[0]]


def _dropout(node, inputs, context):
    """The identity at inference, and a mask of ones."""
    x = inputs[0]
    return [x, jnp.ones(np.shape(x), bool)]


OPERATORS = {
    "Add": _binary(lambda xp, a, b: a + b),
    "Sub": _binary(lambda xp, a, b: a - b),
    "Mul": _binary(lambda xp, a, b: a * b),
    "Div": _binary(_divide),
    "Pow": _binary(lambda xp, a, b: xp.power(a, b).astype(a.dtype)),
    "Mod": Operator(_mod),
    "Equal": _binary(lambda xp, a, b: xp.equal(a, b)),
    "Less": _binary(lambda xp, a, b: xp.less(a, b)),
    "Greater": _binary(lambda xp, a, b: xp.greater(a, b)),
    "Where": Operator(_where),
    "Neg": _unary(lambda xp, x: -x),
    "Abs": _unary(lambda xp, x: xp.abs(x)),
    "Sqrt": _unary(lambda xp, x: xp.sqrt(x)),
    "Reciprocal": _unary(lambda xp, x: 1 / x),
    "Exp": _unary(lambda xp, x: xp.exp(x)),
    "Log": _unary(lambda xp, x: xp.log(x)),
    "Erf": _unary(lambda xp, x: _special(xp).erf(x)),
    "Tanh": _unary(lambda xp, x: xp.tanh(x)),
    "Sigmoid": _unary(_sigmoid),
    "Relu": _unary(lambda xp, x: xp.maximum(x, 0)),
    "LeakyRelu": _with_attributes(_leaky_relu),
    "HardSigmoid": _with_attributes(_hard_sigmoid),
    "HardSwish": _unary(lambda xp, x: x * _hard_sigmoid(xp, x, {"alpha": 1 / 6})),
    "Gelu": Operator(_with_attributes(_gelu).evaluate, _check_gelu),
    "Clip": Operator(_clip),
    "Cast": Operator(_cast, _check_cast),
    "Identity": Operator(_identity),
    "Dropout": Operator(_dropout),
}
