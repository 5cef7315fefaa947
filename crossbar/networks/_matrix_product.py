"""A matrix product with a constant weight, met while evaluating a model: what a crossbar holds and computes.

Dense products (x @ W) and convolutions are both a (rows, IN) x (IN, OUT) product: a convolution's input
patches, channel-major like its unrolled kernel (``unroll_convolution``), one matrix per group.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from ._matrix_layer import MatrixLayer, unroll_convolution
from ._patches import convolution_patches


@dataclasses.dataclass(frozen=True)
class MatrixProduct:
    """One product of activations with a constant weight.

    Attributes:
        name: the product's name (a graph node's, or the position of the product in a function).
        x: the activations as the model holds them: (B, ..., IN) for a dense product, (B, C, *spatial) for a
            convolution.
        weight: (IN, OUT) matrix of a dense product (numpy, or traced when the parameters are), or ``None``
            for a convolution.
        kernel: (OUT, IN / groups, *kernel) of a convolution, or ``None``.
        groups: convolution groups (1 for a dense product).
        positions: output positions per example (a convolution's output size; a dense product's extra axes).
        window: a convolution's (strides, (begin, end) pads, dilations) per spatial axis, or ``None``.
        repeats: how many times per inference the model computes this product with the same weight: the
            steps of a recurrence evaluated under ``jax.lax.scan``, whose body hands the product over once.
        step: the index (a traced integer) of the current repeat inside such a loop, or ``None``; a chip
            draws each repeat's noise afresh from it.
    """

    name: str
    x: jax.Array
    weight: np.ndarray | None
    kernel: np.ndarray | None
    groups: int
    positions: tuple[int, ...]
    window: tuple | None = None
    repeats: int = 1
    step: jax.Array | None = None

    def matrices(self) -> list[np.ndarray]:
        """The (IN, OUT) matrix of each group."""
        if self.kernel is None:
            return [self.weight]
        xp = np if isinstance(self.kernel, np.ndarray) else jnp  # traced when training
        return [unroll_convolution(k) for k in xp.split(self.kernel, self.groups, axis=0)]

    def layers(self) -> list[MatrixLayer]:
        """The matrices as layers a chip holds: one per group (named NAME/group{g} when grouped), each with
        the product's output positions times its repeats as its matrix-vector products per inference."""
        mvms = math.prod(self.positions) * self.repeats
        return [
            MatrixLayer(
                self.name if self.groups == 1 else f"{self.name}/group{g}", np.asarray(m, np.float64), mvms
            )
            for g, m in enumerate(self.matrices())
        ]

    def rows(self) -> list[jax.Array]:
        """The activations of each group as rows (B * positions, IN) of a matrix product."""
        if self.kernel is None:
            return [jnp.reshape(self.x, (-1, self.weight.shape[0]))]
        patches = convolution_patches(self.x, self.kernel.shape[2:], *self.window)
        features = patches.reshape(-1, patches.shape[-1])
        return jnp.split(features, self.groups, axis=1)

    def assemble(self, outputs: list[jax.Array]) -> jax.Array:
        """The model's output tensor from each group's (B * positions, OUT / groups) results."""
        y = jnp.concatenate(outputs, axis=1) if len(outputs) > 1 else outputs[0]
        if self.kernel is None:
            return jnp.reshape(y, (*np.shape(self.x)[:-1], self.weight.shape[1]))
        y = jnp.reshape(y, (np.shape(self.x)[0], *self.positions, self.kernel.shape[0]))
        return jnp.moveaxis(y, -1, 1)

    def digital(self) -> jax.Array:
        """The exact digital product, as the model computes it."""
        if self.kernel is None:
            return jnp.matmul(self.x, self.weight)
        strides, pads, dilations = self.window
        spatial = "DHW"[-len(strides) :]
        return jax.lax.conv_general_dilated(
            self.x,
            self.kernel,
            strides,
            pads,
            rhs_dilation=dilations,
            dimension_numbers=(f"NC{spatial}", f"OI{spatial}", f"NC{spatial}"),
            feature_group_count=self.groups,
        )


def products_of(apply, params, example) -> list[MatrixProduct]:
    """The constant-weight products that ``apply(params, x, on_product)`` hands to ``on_product``, in the
    order it computes them, for inputs like ``example`` (an array or a ``jax.ShapeDtypeStruct``); traced
    with ``jax.eval_shape``, nothing is computed."""
    found: list[MatrixProduct] = []

    def record(product: MatrixProduct) -> jax.Array:
        found.append(product)
        return product.digital()

    jax.eval_shape(lambda x: apply(params, x, record), example)
    return found
