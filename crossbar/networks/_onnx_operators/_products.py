"""Gemm, MatMul and Conv: the products whose constant weight a crossbar holds.

A product of an activation with a constant matrix goes to ``context.on_product`` as a ``MatrixProduct``
(one matrix per convolution group); a product of two activations (attention's Q K^T and A V), or with a
weight the caller traces, is computed digitally; a product of two constants stays numpy.
"""

import math

import jax.numpy as jnp
import numpy as np

from .._matrix_product import MatrixProduct
from ._operator import Context, Operator, aligned, attributes, is_constant, node_name, optional
from ._windows import check_auto_pad, window


def dense_product(
    name: str, x, weight, context: Context, fixed: tuple[bool, bool], repeats: int = 1, step=None
):
    """x (..., IN) @ weight (IN, OUT) -> (..., OUT), on tiles when the weight is a matrix computed from
    initializers alone (``fixed[1]``; numpy, or traced parameters) and x an activation (not ``fixed[0]``).
    The product's positions are its rows per example; ``repeats`` and ``step`` are those of a product inside
    a recurrence (``MatrixProduct``)."""
    if is_constant(x, weight):
        return np.matmul(x, weight)
    x_fixed, weight_fixed = fixed
    if context.on_product is None or x_fixed or not weight_fixed or np.ndim(weight) != 2:
        return jnp.matmul(x, weight)
    per_example = math.prod(np.shape(x)[:-1]) // context.batch
    positions = (per_example,) if per_example > 1 else ()
    weight = np.asarray(weight) if is_constant(weight) else weight
    product = MatrixProduct(name, x, weight, None, 1, positions, None, repeats, step)
    return context.on_product(product)


def _gemm(node, inputs, context):
    a, b, c = inputs[0], inputs[1], optional(inputs, 2)
    attrs = attributes(node)
    a = a.T if attrs.get("transA", 0) else a
    b = b.T if attrs.get("transB", 0) else b
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    fixed = (context.is_fixed(0, inputs[0]), context.is_fixed(1, inputs[1]))
    y = dense_product(node_name(node), a, b, context, fixed)
    y = y if alpha == 1.0 else alpha * y
    if c is not None:
        y, c = aligned(y, c if beta == 1.0 else beta * c)
        y = y + c
    return [y]


def _matmul(node, inputs, context):
    a, b = inputs
    if np.ndim(b) == 2 and np.ndim(a) >= 2:
        return [
            dense_product(node_name(node), a, b, context, (context.is_fixed(0, a), context.is_fixed(1, b)))
        ]
    if is_constant(a, b):
        return [np.matmul(a, b)]
    return [jnp.matmul(*aligned(a, b)) if min(np.ndim(a), np.ndim(b)) > 1 else jnp.matmul(a, b)]


def _conv(node, inputs, context):
    x, w, b = inputs[0], inputs[1], optional(inputs, 2)
    kernel = np.shape(w)[2:]
    strides, dilations, pads = window(attributes(node), x, kernel)
    out = [
        (size + lo + hi - (k - 1) * d - 1) // s + 1
        for size, (lo, hi), k, s, d in zip(np.shape(x)[2:], pads, kernel, strides, dilations, strict=True)
    ]
    groups = attributes(node).get("group", 1)
    windows = (tuple(strides), tuple(tuple(p) for p in pads), tuple(dilations))
    product = MatrixProduct(node_name(node), jnp.asarray(x), None, w, groups, tuple(out), windows)
    on_tiles = context.is_fixed(1, w) and not context.is_fixed(0, x) and context.on_product is not None
    y = context.on_product(product) if on_tiles else product.digital()
    if b is not None:
        y = y + jnp.reshape(b, (1, -1) + (1,) * len(kernel))
    return [y]


def _check_conv(node, opset):
    check_auto_pad(attributes(node))


OPERATORS = {
    "Gemm": Operator(_gemm),
    "MatMul": Operator(_matmul),
    "Conv": Operator(_conv, _check_conv, weights=(1,)),
}
