"""Shapes and the operators that move elements without computing them: Shape, Reshape, Flatten, Transpose,
Concat, Split, Slice, Gather, Expand, Squeeze, Unsqueeze, ConstantOfShape, Range, Constant.

What these compute from constants (shapes above all) stays numpy, so shapes are static under ``jax.jit``;
inputs that set a shape must be constants (``Operator.static``).
"""

import math

import numpy as np

from ._operator import Operator, array_module, attributes, is_constant, optional, static_ints


def _shape(node, inputs, context):
    """The input's shape from ``start`` to ``end`` (opset 15; negative axes count from the end)."""
    attrs = attributes(node)
    shape = np.shape(inputs[0])
    end = attrs.get("end", len(shape))
    return [np.asarray(shape[attrs.get("start", 0) : end], np.int64)]


def _reshape(node, inputs, context):
    """A 0 copies the input's size on that axis (unless ``allowzero``), a -1 takes what is left."""
    x, shape = inputs
    shape = static_ints(shape, "the shape")
    if not attributes(node).get("allowzero", 0):
        shape = [np.shape(x)[i] if s == 0 else s for i, s in enumerate(shape)]
    return [array_module(x).reshape(x, shape)]


def _flatten(node, inputs, context):
    (x,) = inputs
    shape = np.shape(x)
    axis = attributes(node).get("axis", 1)
    axis = axis + len(shape) if axis < 0 else axis
    return [array_module(x).reshape(x, (math.prod(shape[:axis]), math.prod(shape[axis:])))]


def _transpose(node, inputs, context):
    (x,) = inputs
    perm = attributes(node).get("perm", list(range(np.ndim(x)))[::-1])
    return [array_module(x).transpose(x, perm)]


def _concat(node, inputs, context):
    return [array_module(*inputs).concatenate(inputs, axis=attributes(node)["axis"])]


def _split(node, inputs, context):
    """Parts of sizes ``split`` (an input from opset 13, an attribute before), else ``num_outputs`` (opset
    18: equal parts of ceil(size / n), the last one smaller) or as many equal parts as outputs."""
    x = inputs[0]
    attrs = attributes(node)
    axis = attrs.get("axis", 0)
    size = np.shape(x)[axis]
    split = optional(inputs, 1) if context.opset >= 13 else attrs.get("split")
    if split is not None:
        sizes = static_ints(np.asarray(split), "split")
    elif "num_outputs" in attrs:
        n = attrs["num_outputs"]
        part = -(-size // n)
        sizes = [min(part, size - i * part) for i in range(n)]
    else:
        sizes = [size // len(node.output)] * len(node.output)
    if sum(sizes) != size:
        raise ValueError(f"split sizes {sizes} do not add up to the size {size} of axis {axis}")
    return array_module(x).split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis)


def _slice(node, inputs, context):
    """``data[starts:ends:steps]`` on ``axes``: inputs from opset 10, attributes before. Negative starts
    and ends count from the end; out-of-range ones are clamped, as Python slices are."""
    x = inputs[0]
    if context.opset >= 10:
        starts, ends = static_ints(inputs[1], "starts"), static_ints(inputs[2], "ends")
        axes, steps = optional(inputs, 3), optional(inputs, 4)
        axes = list(range(len(starts))) if axes is None else static_ints(axes, "axes")
        steps = [1] * len(starts) if steps is None else static_ints(steps, "steps")
    else:
        attrs = attributes(node)
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes, steps = list(attrs.get("axes", range(len(starts)))), [1] * len(starts)
    index = [slice(None)] * np.ndim(x)
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        if step == 0:
            raise ValueError("a step of 0")
        index[axis] = slice(start, end, step)
    return [x[tuple(index)]]


def _gather(node, inputs, context):
    """Elements of ``data`` along ``axis`` at ``indices`` (negative ones count from the end); a scalar index
    removes the axis."""
    data, indices = inputs
    axis = attributes(node).get("axis", 0)
    xp = array_module(data, indices)
    size = np.shape(data)[axis]
    indices = array_module(indices).where(indices < 0, indices + size, indices)
    return [xp.take(data, indices, axis=axis)]


def _expand(node, inputs, context):
    """The input broadcast with ``shape`` (both ways: a 1 in ``shape`` keeps the input's size)."""
    x, shape = inputs
    shape = np.broadcast_shapes(np.shape(x), tuple(static_ints(shape, "the shape")))
    return [array_module(x).broadcast_to(x, shape)]


def _axes(node, inputs, context) -> list[int] | None:
    """The ``axes`` of Squeeze and Unsqueeze: an input from opset 13, an attribute before."""
    if context.opset >= 13:
        axes = optional(inputs, 1)
        return None if axes is None else static_ints(axes, "axes")
    axes = attributes(node).get("axes")
    return None if axes is None else list(axes)


def _squeeze(node, inputs, context):
    """The axes of size 1 named by ``axes``, or all of them, removed."""
    x = inputs[0]
    axes = _axes(node, inputs, context)
    if axes is None:
        axes = [i for i, size in enumerate(np.shape(x)) if size == 1]
    return [array_module(x).squeeze(x, axis=tuple(axes))]


def _unsqueeze(node, inputs, context):
    """Axes of size 1 inserted at ``axes`` of the output (negative ones count from its end)."""
    x = inputs[0]
    return [array_module(x).expand_dims(x, tuple(_axes(node, inputs, context)))]


def _constant_of_shape(node, inputs, context):
    """A tensor of the given shape filled with ``value`` (one element; float32 zero by default)."""
    from onnx import numpy_helper

    value = attributes(node).get("value")
    fill = np.zeros(1, np.float32) if value is None else numpy_helper.to_array(value)
    return [np.full(static_ints(inputs[0], "the shape"), fill.reshape(-1)[0], fill.dtype)]


def _range(node, inputs, context):
    """start, start + delta, ... up to ``limit`` (excluded): max(ceil((limit - start) / delta), 0) numbers."""
    start, limit, delta = inputs
    if not is_constant(start, limit, delta):
        raise ValueError("start, limit and delta must be known before the model runs")
    count = max(math.ceil((limit.item() - start.item()) / delta.item()), 0)
    return [(start + delta * np.arange(count)).astype(np.asarray(start).dtype)]


def _constant(node, inputs, context):
    from onnx import numpy_helper

    attrs = attributes(node)
    if "value" in attrs:
        return [numpy_helper.to_array(attrs["value"])]
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
        if key in attrs:
            return [np.asarray(attrs[key], dtype)]
    for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in attrs:
            return [np.asarray(list(attrs[key]), dtype)]
    raise ValueError("a Constant without a value")


def _check_constant(node, opset):
    supported = ("value", "value_float", "value_int", "value_floats", "value_ints")
    given = [a.name for a in node.attribute]
    if not any(name in given for name in supported):
        raise ValueError(
            f"Constant with {', '.join(given) or 'no value'} is not supported ({', '.join(supported)})"
        )


OPERATORS = {
    "Shape": Operator(_shape, reads_values=False),
    "Reshape": Operator(_reshape, static=(1,)),
    "Flatten": Operator(_flatten),
    "Transpose": Operator(_transpose),
    "Concat": Operator(_concat),
    "Split": Operator(_split, static=(1,)),
    "Slice": Operator(_slice, static=(1, 2, 3, 4)),
    "Gather": Operator(_gather),
    "Expand": Operator(_expand, static=(1,)),
    "Squeeze": Operator(_squeeze, static=(1,)),
    "Unsqueeze": Operator(_unsqueeze, static=(1,)),
    "ConstantOfShape": Operator(_constant_of_shape, static=(0,)),
    "Range": Operator(_range, static=(0, 1, 2)),
    "Constant": Operator(_constant, _check_constant),
}
