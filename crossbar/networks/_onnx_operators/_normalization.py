"""BatchNormalization (inference), LayerNormalization, Softmax and LogSoftmax."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from ._operator import Operator, aligned, attributes, optional


def _batch_normalization(node, inputs, context):
    """(x - mean) / sqrt(var + epsilon) * scale + bias per channel (axis 1), with the running statistics."""
    x, scale, bias, mean, var = inputs[:5]
    epsilon = attributes(node).get("epsilon", 1e-5)
    shape = (1, -1) + (1,) * (np.ndim(x) - 2)
    scale, bias, mean, var = (jnp.asarray(v, x.dtype) for v in (scale, bias, mean, var))
    factor = scale / jnp.sqrt(var + epsilon)
    return [x * jnp.reshape(factor, shape) + jnp.reshape(bias - mean * factor, shape)]


def _check_batch_normalization(node, opset):
    if attributes(node).get("training_mode", 0) or len([o for o in node.output if o]) > 1:
        raise ValueError("training mode (training_mode=1, running statistics as outputs) is not supported")


def _layer_normalization(node, inputs, context):
    """(x - mean) / sqrt(var + epsilon) * scale + bias over the axes from ``axis`` on; also the mean and
    the inverse standard deviation (the optional outputs), with those axes kept as size 1."""
    x, scale, bias = inputs[0], inputs[1], optional(inputs, 2)
    attrs = attributes(node)
    axis = attrs.get("axis", -1) % np.ndim(x)
    axes = tuple(range(axis, np.ndim(x)))
    mean = jnp.mean(x, axis=axes, keepdims=True)
    inverse_std = jax.lax.rsqrt(
        jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True) + attrs.get("epsilon", 1e-5)
    )
    y, scale = aligned((x - mean) * inverse_std, scale)
    y = y * scale
    if bias is not None:
        y, bias = aligned(y, bias)
        y = y + bias
    return [y, mean, inverse_std]


def _softmax(log: bool) -> Operator:
    """Softmax (or its log) along ``axis``; before opset 13, of the input flattened to 2-D at ``axis``."""
    function = jax.nn.log_softmax if log else jax.nn.softmax

    def evaluate(node, inputs, context):
        (x,) = inputs
        axis = attributes(node).get("axis", -1 if context.opset >= 13 else 1)
        if context.opset >= 13:
            return [function(x, axis=axis)]
        shape = np.shape(x)
        flat = jnp.reshape(x, (math.prod(shape[:axis]), -1))
        return [jnp.reshape(function(flat, axis=1), shape)]

    return Operator(evaluate)


OPERATORS = {
    "BatchNormalization": Operator(_batch_normalization, _check_batch_normalization),
    "LayerNormalization": Operator(_layer_normalization),
    "Softmax": _softmax(log=False),
    "LogSoftmax": _softmax(log=True),
}
