"""MaxPool, AveragePool (padding, ceil_mode, count_include_pad, dilations), GlobalAveragePool and
GlobalMaxPool."""

import jax
import jax.numpy as jnp
import numpy as np

from ._operator import Operator, attributes
from ._windows import check_auto_pad, window


def _pool(reduce, init, average: bool) -> Operator:
    def evaluate(node, inputs, context):
        x = inputs[0]
        attrs = attributes(node)
        kernel = list(attrs["kernel_shape"])
        strides, dilations, explicit = window(attrs, x, kernel)
        sizes = np.shape(x)[2:]
        # ceil_mode extends explicit padding only: auto_pad's output sizes are the same with and without it
        ceil_mode = attrs.get("ceil_mode", 0) and attrs.get("auto_pad", "NOTSET") == "NOTSET"
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

    return Operator(evaluate, _check_pool)


def _check_pool(node, opset):
    check_auto_pad(attributes(node))
    if len(node.output) > 1 and node.output[1]:
        raise ValueError("the Indices output of MaxPool is not supported")


def _ceil_end(size: int, lo: int, hi: int, k: int, s: int, d: int) -> int:
    """End padding for ceil_mode: a last, partial window, unless it would start in the end padding."""
    extent = size + lo + hi - (k - 1) * d - 1
    out = -(-extent // s) + 1
    if (out - 1) * s >= size + lo:
        out -= 1
    return (out - 1) * s + (k - 1) * d + 1 - size - lo


def _global(reduce) -> Operator:
    def evaluate(node, inputs, context):
        (x,) = inputs
        return [reduce(x, axis=tuple(range(2, np.ndim(x))), keepdims=True)]

    return Operator(evaluate)


OPERATORS = {
    "MaxPool": _pool(jax.lax.max, -jnp.inf, average=False),
    "AveragePool": _pool(jax.lax.add, 0.0, average=True),
    "GlobalAveragePool": _global(jnp.mean),
    "GlobalMaxPool": _global(jnp.max),
}
