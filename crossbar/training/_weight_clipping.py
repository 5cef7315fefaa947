"""Weight clipping for hardware-aware training: the parameters that are a product's weight, clipped to a
multiple of their standard deviation after every update (Joshi et al., Nat. Commun. 11, 2473 (2020)).

Clipping bounds a layer's largest weights, so the conductance range (each tile's w_max, the largest |w| it
holds, chosen afresh every step: the remapping) is spent on the bulk of the weights rather than on outliers.
"""

import itertools

import jax.numpy as jnp
import numpy as np

from ..networks import MatrixProduct

CLIP_PER = ("layer", "column")


def weight_axes(leaves: list, products: list[MatrixProduct]) -> dict[int, int]:
    """Which ``leaves`` (arrays of the parameters) are a product's weight, and the axis of each that holds the
    product's outputs: {leaf index: output axis}.

    A leaf is a weight when some transpose of it equals a product's matrix (IN, OUT) or its convolution kernel
    (OUT, IN / groups, *kernel) exactly, as ONNX Gemm (``transB``), MatMul and Conv initializers and most JAX
    parameters are; a weight computed from parameters (a weight norm, say) is not clipped.
    """
    found = {}
    for product in products:
        target, out = (product.kernel, 0) if product.kernel is not None else (product.weight, 1)
        target = np.asarray(target)
        for index, leaf in enumerate(leaves):
            leaf = np.asarray(leaf)
            if index in found or leaf.size != target.size or leaf.ndim != target.ndim:
                continue
            for order in itertools.permutations(range(leaf.ndim)):
                if leaf.transpose(order).shape == target.shape and np.array_equal(
                    leaf.transpose(order), target
                ):
                    found[index] = order[out]
                    break
    return found


def clip_weights(leaves: list, axes: dict[int, int], sigmas: float, per: str) -> list:
    """``leaves`` with each weight (``weight_axes``) clipped to +-``sigmas`` standard deviations of its layer,
    or of each output column (``per="column"``)."""
    clipped = list(leaves)
    for index, out_axis in axes.items():
        w = leaves[index]
        over = tuple(a for a in range(w.ndim) if a != out_axis) if per == "column" else None
        bound = sigmas * jnp.std(w, axis=over, keepdims=per == "column")
        clipped[index] = jnp.clip(w, -bound, bound)
    return clipped
