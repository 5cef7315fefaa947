"""The analog/digital split of a network's multiply-accumulates (MACs), per example (one inference).

Analog: the products with a constant weight that run on tiles (``MatrixProduct``), IN x OUT x the matrix's
products per example, summed over its matrices (a convolution's groups). Digital: every other matrix product
in the model's traced computation (``dot_general``, ``conv_general_dilated``): products of two activations
(attention's Q K^T and A V, which the ONNX MatMul runs digitally) and products whose weight is not a constant
2-D matrix. A loop (``jax.lax.scan``) counts its body once per step.
"""

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.extend.core import Jaxpr, jaxprs_in_params

from ._matrix_layer import MatrixLayer
from ._matrix_product import MatrixProduct


@dataclasses.dataclass(frozen=True)
class TiledProduct:
    """One product on tiles.

    Attributes:
        name: the product's name (``MatrixProduct.name``).
        matrix: (IN, OUT) of each of its matrices (one per convolution group).
        mvms: matrix-vector products per example and matrix (a convolution's output positions times a
            recurrence's steps).
        macs: MACs per example, over its matrices.
    """

    name: str
    matrix: tuple[int, int]
    groups: int
    mvms: int
    macs: int

    def shape_text(self) -> str:
        """``IN x OUT``, with ``G x`` in front for G groups."""
        shape = f"{self.matrix[0]} x {self.matrix[1]}"
        return shape if self.groups == 1 else f"{self.groups} x ({shape})"


@dataclasses.dataclass(frozen=True)
class MacSplit:
    """Where a network's MACs run, per example.

    Attributes:
        tiled: the products on tiles, in the order the model computes them.
        digital_products: the matrix products computed in digital (a loop's body counted once).
        digital: their MACs per example.
    """

    tiled: tuple[TiledProduct, ...]
    digital_products: int
    digital: int

    @classmethod
    def of_layers(cls, layers: list[MatrixLayer]) -> "MacSplit":
        """The split of a network known only by its matrices (an ``.npz`` of weights): all on tiles."""
        tiled = [
            TiledProduct(layer.name, layer.weight.shape, 1, layer.mvms_per_inference,
                         layer.weight.size * layer.mvms_per_inference)
            for layer in layers
        ]  # fmt: skip
        return cls(tuple(tiled), 0, 0)

    @property
    def analog(self) -> int:
        """MACs per example on tiles."""
        return sum(p.macs for p in self.tiled)

    @property
    def analog_share(self) -> float:
        """Analog MACs / all MACs (0 for a model without products)."""
        total = self.analog + self.digital
        return self.analog / total if total else 0.0

    def document(self) -> dict:
        """The split as JSON: MACs per example, the share, and each product on tiles."""
        return {
            "analog_macs": self.analog,
            "digital_macs": self.digital,
            "analog_share": self.analog_share,
            "digital_products": self.digital_products,
            "tiled": [
                {"name": p.name, "matrix": list(p.matrix), "groups": p.groups, "mvms": p.mvms, "macs": p.macs}
                for p in self.tiled
            ],
        }

    def table(self) -> str:
        """Each product on tiles with its MACs, the digital products, and the analog share."""
        width = max(len(p.name) for p in self.tiled) if self.tiled else 4
        lines = [f"{'on tiles':<{width}}  {'matrix':>16} {'MVMs':>7} {'MACs':>12}"]
        lines += [f"{p.name:<{width}}  {p.shape_text():>16} {p.mvms:>7,} {p.macs:>12,}" for p in self.tiled]
        lines.append(
            f"in digital: {self.digital_products} other matrix products (of two activations, or without a "
            f"constant matrix), {self.digital:,} MACs"
        )
        lines.append(
            f"analog share of the MACs per example: {100 * self.analog_share:.1f} % "
            f"({self.analog:,} of {self.analog + self.digital:,})"
        )
        return "\n".join(lines)


def mac_split(apply: Callable, params, input_shape: tuple[int, ...]) -> MacSplit:
    """The MACs of ``apply(params, x, on_product)`` per example of shape ``input_shape`` (no batch axis),
    traced on one example: nothing is computed."""
    tiled: list[TiledProduct] = []

    def on_tiles(product: MatrixProduct) -> jax.Array:
        matrices = product.matrices()
        mvms = math.prod(product.positions) * product.repeats
        macs = sum(m.size for m in matrices) * mvms
        tiled.append(TiledProduct(product.name, matrices[0].shape, product.groups, mvms, macs))
        shape = jax.eval_shape(product.digital)  # traces aside: no product enters the computation
        return jnp.zeros(shape.shape, shape.dtype)

    example = jax.ShapeDtypeStruct((1, *input_shape), jnp.float32)
    closed = jax.make_jaxpr(lambda x: apply(params, x, on_tiles))(example)
    products, macs = _digital(closed.jaxpr)
    return MacSplit(tuple(tiled), products, macs)


def _digital(jaxpr: Jaxpr, steps: int = 1) -> tuple[int, int]:
    """The matrix products of ``jaxpr`` and their MACs, each run ``steps`` times."""
    products, macs = 0, 0
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            (_, contracting), (_, batch) = eqn.params["dimension_numbers"]
            lhs, rhs = (v.aval.shape for v in eqn.invars)
            kept = math.prod(rhs) // math.prod(rhs[i] for i in (*contracting, *batch))
            products, macs = products + 1, macs + steps * math.prod(lhs) * kept
        elif eqn.primitive.name == "conv_general_dilated":
            rhs, out = eqn.invars[1].aval.shape, eqn.outvars[0].aval.shape
            per_output = math.prod(rhs) // rhs[eqn.params["dimension_numbers"].rhs_spec[0]]
            products, macs = products + 1, macs + steps * math.prod(out) * per_output
        repeats = eqn.params["length"] if eqn.primitive.name == "scan" else 1
        for inner in jaxprs_in_params(eqn.params):
            p, m = _digital(inner, steps * repeats)
            products, macs = products + p, macs + m
    return products, macs
