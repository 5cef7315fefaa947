"""What an ONNX operator is here, and the helpers every family of operators shares.

An operator evaluates a node's inputs to its outputs with ``evaluate(node, inputs, context)``. Inputs that are
numpy arrays are constants (initializers, shapes and what is computed from them alone); the other inputs are
JAX arrays, the activations. Where an operator is shape arithmetic or elementwise, constants give numpy
results, so shapes stay exact and static under ``jax.jit``. Broadcasting is numpy's (ONNX's
multidirectional broadcasting), with ranks aligned explicitly (``aligned``) since implicit rank promotion
may be an error in JAX.
"""

import dataclasses
from collections.abc import Callable, Sequence

import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Context:
    """What an evaluation tells every operator.

    Attributes:
        opset: the model's opset of the default domain.
        batch: the batch size of the model input: a product's rows per example are its rows / batch.
        on_product: ``on_product(MatrixProduct) -> jax.Array`` computes the products with a constant weight
            (a crossbar), or ``None`` to compute them digitally.
        fixed: per input of the node being evaluated, whether it is computed from initializers and shapes
            alone (not from the model input): a weight, even where the parameters are traced, as when
            training.
    """

    opset: int
    batch: int
    on_product: Callable | None = None
    fixed: tuple[bool, ...] = ()

    def is_fixed(self, index: int, value) -> bool:
        """Whether the node's input ``index`` (its value ``value``) is computed from initializers and shapes
        alone: a numpy constant, or a traced parameter."""
        return is_constant(value) or (index < len(self.fixed) and self.fixed[index])


@dataclasses.dataclass(frozen=True)
class Operator:
    """An ONNX operator and what it asks of a node before the model runs.

    Attributes:
        evaluate: ``evaluate(node, inputs, context) -> outputs``; an input left out is ``None``.
        check: ``check(node, opset)`` raises ``ValueError`` naming an attribute value or input form that
            ``evaluate`` does not support, or ``None``.
        static: positions of the inputs that set shapes (a Reshape's shape, a Slice's starts...): they must
            not depend on the values of the model input.
        weights: positions of the inputs that are the weight of a product on tiles: they must not depend
            on the values of the model input either (constants, they are programmed before it runs).
        reads_values: whether the outputs depend on the inputs' values (``False`` for Shape: only on shapes).
    """

    evaluate: Callable
    check: Callable | None = None
    static: tuple[int, ...] = ()
    weights: tuple[int, ...] = ()
    reads_values: bool = True

    def __call__(self, node, inputs: list, context: Context) -> list:
        return self.evaluate(node, inputs, context)

    def check_node(self, node, opset: int, dynamic: Sequence[bool]) -> None:
        """Raise ``ValueError`` for what ``node`` asks that is not supported; ``dynamic[i]``: whether its
        input i depends on the values of the model input."""
        if self.check is not None:
            self.check(node, opset)
        for i in self.weights:
            if i < len(dynamic) and dynamic[i]:
                raise ValueError(
                    f"its weight {_input_name(node, opset, i)} is computed from the model input; it must be "
                    "constant (computed from initializers and shapes alone) to be held on tiles"
                )
        for i in self.static:
            if i < len(dynamic) and dynamic[i]:
                raise ValueError(
                    f"its input {_input_name(node, opset, i)} depends on the values of the model input; it "
                    "must be known before the model runs (computed from initializers and shapes alone)"
                )


def _input_name(node, opset: int, index: int) -> str:
    """The specification's name of the node's input ``index``."""
    from onnx import defs

    return defs.get_schema(node.op_type, opset, "").inputs[index].name


def attributes(node) -> dict:
    """The node's attributes by name, strings decoded."""
    from onnx import helper

    def decoded(value):
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, list) and value and isinstance(value[0], bytes):
            return [v.decode() for v in value]
        return value

    return {a.name: decoded(helper.get_attribute_value(a)) for a in node.attribute}


def node_name(node) -> str:
    """The node's name, or its first output's where it has none."""
    return node.name or node.output[0]


def is_constant(*values) -> bool:
    """Whether every value given (``None`` aside) is a constant: a numpy array or scalar."""
    return all(isinstance(v, np.ndarray | np.generic) for v in values if v is not None)


def array_module(*values):
    """``numpy`` when every value is a constant, else ``jax.numpy``."""
    return np if is_constant(*values) else jnp


def aligned(*values) -> list:
    """The values with equal ranks (leading axes of size 1 added), for numpy broadcasting."""
    rank = max(np.ndim(v) for v in values)
    xp = array_module(*values)
    return [
        v if np.ndim(v) == rank else xp.reshape(v, (1,) * (rank - np.ndim(v)) + np.shape(v)) for v in values
    ]


def static_ints(value, what: str) -> list[int]:
    """A constant as Python integers (flattened); ``ValueError`` naming ``what`` if it is an activation."""
    if not is_constant(value):
        raise ValueError(f"{what} must be known before the model runs, not computed from the input's values")
    return [int(v) for v in np.ravel(value)]


def optional(inputs: list, index: int):
    """Input ``index``, or ``None`` where the node leaves it out."""
    return inputs[index] if index < len(inputs) else None
