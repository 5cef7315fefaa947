"""ONNX operators in JAX, following the ONNX operator specification (onnx.ai/onnx/operators).

Each operator takes (node, inputs, opset, on_product) and returns its outputs. Inputs that are numpy arrays
(initializers, shapes) give numpy results where the operator is shape arithmetic, so shapes stay static.
Broadcasting is numpy's (ONNX's multidirectional broadcasting), with ranks aligned explicitly.
"""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ._matrix_product import MatrixProduct


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _name(node) -> str:
    return node.name or node.output[0]


def _is_constant(*values) -> bool:
    return all(isinstance(v, np.ndarray | np.generic) for v in values if v is not None)


def _aligned(a, b):
    """Operands with equal ranks (leading axes of size 1 added), for numpy broadcasting."""
    rank = max(np.ndim(a), np.ndim(b))
    return (jnp.reshape(a, (1,) * (rank - np.ndim(a)) + np.shape(a)) if np.ndim(a) < rank else a), (
        jnp.reshape(b, (1,) * (rank - np.ndim(b)) + np.shape(b)) if np.ndim(b) < rank else b
    )


def _binary(function):
    def operator(node, inputs, opset, on_product):
        a, b = inputs
        if _is_constant(a, b):
            return [function(np.asarray(a), np.asarray(b))]
        return [function(*_aligned(a, b))]

    return operator


def _unary(function):
    return lambda node, inputs, opset, on_product: [function(inputs[0])]


def _gemm(node, inputs, opset, on_product):
    a, b, c = (inputs + [None])[:3]
    attrs = _attrs(node)
    if attrs.get("transA", 0):
        a = a.T
    if attrs.get("transB", 0):
        b = b.T
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    y = _product(node, a, b, on_product, positions=())
    y = y if alpha == 1.0 else alpha * y
    if c is not None:
        y = jnp.add(*_aligned(y, beta * c if beta != 1.0 else c))
    return [y]


def _matmul(node, inputs, opset, on_product):
    a, b = inputs
    if _is_constant(b) and np.ndim(b) == 2 and not _is_constant(a):
        positions = tuple(np.shape(a)[1:-1]) if np.ndim(a) > 2 else ()
        return [_product(node, a, b, on_product, positions)]
    if _is_constant(a, b):
        return [np.matmul(a, b)]
    return [jnp.matmul(*_aligned(a, b)) if min(np.ndim(a), np.ndim(b)) > 1 else jnp.matmul(a, b)]


def _product(node, x, w, on_product, positions):
    """x @ w, through ``on_product`` when w is a constant matrix."""
    if not (_is_constant(w) and np.ndim(w) == 2) or on_product is None:
        return jnp.matmul(x, w)
    return on_product(MatrixProduct(_name(node), x, np.asarray(w), None, 1, positions))


def _pads(attrs, spatial: int, in_shape, kernel, strides, dilations) -> list[tuple[int, int]]:
    """(begin, end) padding per spatial axis, from ``pads`` or ``auto_pad``."""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s, d in zip(in_shape, kernel, strides, dilations, strict=True):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            pads.append((small, large) if auto == "SAME_UPPER" else (large, small))
        return pads
    if auto == "VALID":
        return [(0, 0)] * spatial
    flat = list(attrs.get("pads", [0] * (2 * spatial)))
    return list(zip(flat[:spatial], flat[spatial:], strict=True))


def _window(attrs, x, kernel_shape):
    spatial = len(kernel_shape)
    strides = list(attrs.get("strides", [1] * spatial))
    dilations = list(attrs.get("dilations", [1] * spatial))
    pads = _pads(attrs, spatial, np.shape(x)[2:], kernel_shape, strides, dilations)
    return strides, dilations, pads


def _conv(node, inputs, opset, on_product):
    x, w, b = (inputs + [None])[:3]
    attrs = _attrs(node)
    kernel = np.shape(w)[2:]
    strides, dilations, pads = _window(attrs, x, kernel)
    groups = attrs.get("group", 1)
    out = [
        (size + lo + hi - (k - 1) * d - 1) // s + 1
        for size, (lo, hi), k, s, d in zip(np.shape(x)[2:], pads, kernel, strides, dilations, strict=True)
    ]
    window = (tuple(strides), tuple(tuple(p) for p in pads), tuple(dilations))
    product = MatrixProduct(_name(node), x, None, w, groups, tuple(out), window)
    y = on_product(product) if _is_constant(w) and on_product is not None else product.digital()
    if b is not None:
        y = y + jnp.reshape(b, (1, -1) + (1,) * len(kernel))
    return [y]


def _pool(reduce, init, average: bool):
    def operator(node, inputs, opset, on_product):
        x = inputs[0]
        if len(node.output) > 1 and node.output[1]:
            raise ValueError(f"node {_name(node)!r}: the Indices output of MaxPool is not supported")
        attrs = _attrs(node)
        kernel = list(attrs["kernel_shape"])
        strides, dilations, explicit = _window(attrs, x, kernel)
        sizes = np.shape(x)[2:]
        # ceil_mode extends explicit padding only: auto_pad's output sizes are the same with and without it
        ceil_mode = attrs.get("ceil_mode", 0) and attrs.get("auto_pad", b"NOTSET") == b"NOTSET"
        pads = [
            (lo, max(hi, _ceil_end(size, lo, hi, k, s, d) if ceil_mode else hi))
            for size, (lo, hi), k, s, d in zip(sizes, explicit, kernel, strides, dilations, strict=True)
        ]
        total = jax.lax.reduce_window(
            x,
            init,
            reduce,
            (1, 1, *kernel),
            (1, 1, *strides),
            ((0, 0), (0, 0), *pads),
            window_dilation=(1, 1, *dilations),
        )
        if not average:
            return [total]
        ones = jnp.ones(sizes, x.dtype)
        count_pads = pads
        if attrs.get("count_include_pad", 0):  # explicit padding counts, the ceil_mode extension does not
            ones = jnp.pad(ones, explicit, constant_values=1.0)
            count_pads = [(0, hi - e_hi) for (_, hi), (_, e_hi) in zip(pads, explicit, strict=True)]
        count = jax.lax.reduce_window(
            ones,
            0.0,
            jax.lax.add,
            tuple(kernel),
            tuple(strides),
            count_pads,
            window_dilation=tuple(dilations),
        )
        return [total / count[None, None]]

    return operator


def _ceil_end(size: int, lo: int, hi: int, k: int, s: int, d: int) -> int:
    """End padding for ceil_mode: a last, partial window, unless it would start in the end padding."""
    extent = size + lo + hi - (k - 1) * d - 1
    out = -(-extent // s) + 1
    if (out - 1) * s >= size + lo:
        out -= 1
    return (out - 1) * s + (k - 1) * d + 1 - size - lo


def _global_average_pool(node, inputs, opset, on_product):
    (x,) = inputs
    return [jnp.mean(x, axis=tuple(range(2, np.ndim(x))), keepdims=True)]


def _batch_normalization(node, inputs, opset, on_product):
    x, scale, bias, mean, var = inputs[:5]
    epsilon = _attrs(node).get("epsilon", 1e-5)
    shape = (1, -1) + (1,) * (np.ndim(x) - 2)
    scale, bias, mean, var = (jnp.asarray(v, x.dtype) for v in (scale, bias, mean, var))
    factor = scale / jnp.sqrt(var + epsilon)
    return [x * jnp.reshape(factor, shape) + jnp.reshape(bias - mean * factor, shape)]


def _softmax(node, inputs, opset, on_product):
    (x,) = inputs
    axis = _attrs(node).get("axis", -1 if opset >= 13 else 1)
    if opset >= 13:
        return [jax.nn.softmax(x, axis=axis)]
    shape = np.shape(x)  # before opset 13: softmax of the input flattened to 2-D at axis
    flat = jnp.reshape(x, (math.prod(shape[:axis]), -1))
    return [jnp.reshape(jax.nn.softmax(flat, axis=1), shape)]


def _flatten(node, inputs, opset, on_product):
    (x,) = inputs
    axis = _attrs(node).get("axis", 1)
    shape = np.shape(x)
    axis = axis + len(shape) if axis < 0 else axis
    return [_reshape_like(x, (math.prod(shape[:axis]), math.prod(shape[axis:])))]


def _reshape_like(x, shape):
    return np.reshape(x, shape) if _is_constant(x) else jnp.reshape(x, shape)


def _reshape(node, inputs, opset, on_product):
    x, shape = inputs
    shape = [int(s) for s in np.asarray(shape)]
    if not _attrs(node).get("allowzero", 0):
        shape = [np.shape(x)[i] if s == 0 else s for i, s in enumerate(shape)]
    return [_reshape_like(x, shape)]


def _transpose(node, inputs, opset, on_product):
    (x,) = inputs
    perm = _attrs(node).get("perm", list(range(np.ndim(x)))[::-1])
    return [np.transpose(x, perm) if _is_constant(x) else jnp.transpose(x, perm)]


def _concat(node, inputs, opset, on_product):
    axis = _attrs(node)["axis"]
    if _is_constant(*inputs):
        return [np.concatenate(inputs, axis=axis)]
    return [jnp.concatenate(inputs, axis=axis)]


def _identity(node, inputs, opset, on_product):
    return [inputs[0]]


def _dropout(node, inputs, opset, on_product):
    x = inputs[0]
    return [x, jnp.ones(np.shape(x), bool)]


def _clip(node, inputs, opset, on_product):
    x = inputs[0]
    if opset >= 11:
        low, high = (inputs + [None, None])[1:3]
    else:
        attrs = _attrs(node)
        low, high = attrs.get("min"), attrs.get("max")
    if low is not None:
        x = jnp.maximum(x, jnp.asarray(low, x.dtype))
    if high is not None:
        x = jnp.minimum(x, jnp.asarray(high, x.dtype))
    return [x]


def _constant(node, inputs, opset, on_product):
    from onnx import numpy_helper

    attrs = _attrs(node)
    if "value" in attrs:
        return [numpy_helper.to_array(attrs["value"])]
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
        if key in attrs:
            return [np.asarray(attrs[key], dtype)]
    for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in attrs:
            return [np.asarray(list(attrs[key]), dtype)]
    raise ValueError(f"node {_name(node)!r}: Constant without a supported value attribute")


OPERATORS: dict[str, Callable] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _binary(lambda a, b: a + b),
    "Mul": _binary(lambda a, b: a * b),
    "Relu": _unary(jax.nn.relu),
    "Sigmoid": _unary(jax.nn.sigmoid),
    "Tanh": _unary(jnp.tanh),
    "Softmax": _softmax,
    "Conv": _conv,
    "MaxPool": _pool(jax.lax.max, -jnp.inf, average=False),
    "AveragePool": _pool(jax.lax.add, 0.0, average=True),
    "GlobalAveragePool": _global_average_pool,
    "BatchNormalization": _batch_normalization,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Concat": _concat,
    "Identity": _identity,
    "Dropout": _dropout,
    "Clip": _clip,
    "Constant": _constant,
}
