"""ReduceMean, ReduceSum, ReduceMax over ``axes``: an attribute, or an input from opset 18 (from opset 13 for
ReduceSum); no axes reduce all of them, or none with ``noop_with_empty_axes``."""

import numpy as np

from ._operator import Operator, array_module, attributes, optional, static_ints


def _reduce(name: str, axes_input_since: int) -> Operator:
    def evaluate(node, inputs, context):
        x = inputs[0]
        attrs = attributes(node)
        if context.opset >= axes_input_since:
            axes = optional(inputs, 1)
            axes = None if axes is None else static_ints(axes, "axes")
        else:
            axes = attrs.get("axes")
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return [x]
            axes = range(np.ndim(x))
        xp = array_module(x)
        y = getattr(xp, name)(x, axis=tuple(axes), keepdims=bool(attrs.get("keepdims", 1)))
        return [y.astype(x.dtype) if xp is np else y]

    return Operator(evaluate, static=(1,))


OPERATORS = {
    "ReduceMean": _reduce("mean", 18),
    "ReduceSum": _reduce("sum", 13),
    "ReduceMax": _reduce("max", 18),
}
