"""ONNX models as JAX functions: ``apply(params, x)`` with the initializers as ``params``.

The operators that MLPs, CNNs, transformers and recurrent networks exported from PyTorch, Keras and JAX use
(``OPERATORS``) are evaluated with ``jax.numpy`` and ``jax.lax``, following the ONNX operator specification;
values that depend only on constants (shapes, initializers) stay numpy arrays, so shape arithmetic is exact
and static under ``jax.jit``. Matrix products with a constant weight (Gemm, MatMul, Conv, the input and
recurrent products of LSTM and GRU) are the layers a crossbar holds (``OnnxModel.matrix_layers``).
"""

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from emulator_common.validation import FLOAT32_MAX

from .._input_error import InputError
from ._matrix_layer import MatrixLayer
from ._matrix_product import products_of
from ._onnx_operators import OPERATORS, Context


@dataclasses.dataclass(frozen=True, eq=False)  # compared and hashed by identity: a model is one file's graph
class OnnxModel:
    """A loaded ONNX model.

    Attributes:
        path: the file it came from.
        params: initializers by name (numpy arrays).
        input_name, input_shape: the one graph input and its shape for one example (no batch axis).
        output_name: the graph output.
    """

    path: str
    params: dict
    input_name: str
    input_shape: tuple[int, ...]
    output_name: str
    _graph: object = dataclasses.field(repr=False)
    _opset: int = 13

    def apply(self, params: dict, x: jax.Array, on_product: Callable | None = None) -> jax.Array:
        """Outputs for a batch x (B, *input_shape).

        ``on_product(product: MatrixProduct) -> jax.Array`` evaluates matrix products with a constant weight
        instead of the digital ones (a crossbar, for instance); ``None`` computes them digitally. A weight is
        constant when computed from initializers and shapes alone: ``params`` may be traced (training), and
        the products then carry traced weights.
        """
        values = dict(params)
        # integer initializers are shapes: the model's numpy arrays keep them static when params are traced
        values.update({name: value for name, value in self.params.items() if value.dtype.kind in "biu"})
        values[self.input_name] = x = jnp.asarray(x)  # an activation, never folded as a constant
        dynamic = {self.input_name}  # the values computed from the model input; the rest are weights
        for node in self._graph.node:
            operator = OPERATORS[node.op_type]
            inputs = [values[name] if name else None for name in node.input]
            fixed = tuple(name not in dynamic for name in node.input)
            if operator.reads_values and any(name in dynamic for name in node.input):
                dynamic.update(node.output)
            try:
                outputs = operator(node, inputs, Context(self._opset, x.shape[0], on_product, fixed))
            except (TypeError, ValueError) as error:  # shapes the graph's producer got wrong, mostly
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
                raise ValueError(f"node {node.name or node.output[0]!r} ({node.op_type}): {reason}") from None
            for name, value in zip(node.output, outputs, strict=False):
                if name:
                    values[name] = value
        return values[self.output_name]

    def matrix_layers(self) -> list[MatrixLayer]:
        """The constant-weight matrix products, in graph order, as (IN, OUT) matrices with their number of
        matrix-vector products per inference (a convolution's output positions; a grouped convolution gives
        one matrix per group)."""
        example = jax.ShapeDtypeStruct((1, *self.input_shape), jnp.float32)
        return [
            layer for product in products_of(self.apply, self.params, example) for layer in product.layers()
        ]

    def require_matrix_products(self) -> None:
        """``InputError`` unless the model has a matrix product with a constant weight: without one,
        nothing of it runs on crossbar tiles."""
        if not self.matrix_layers():
            raise InputError(
                f"{self.path}: no matrix product with a constant weight (Gemm, MatMul, Conv): nothing of the "
                "model runs on crossbar tiles"
            )

    def output_size(self) -> int:
        """The size of the output's last axis (the classes of a classifier)."""
        example = jax.ShapeDtypeStruct((1, *self.input_shape), jnp.float32)
        return jax.eval_shape(lambda x: self.apply(self.params, x), example).shape[-1]


def load_onnx(path: str | os.PathLike) -> OnnxModel:
    """Read an ONNX file; a corrupt file, an unsupported operator or attribute, a weight or shape computed
    from the input's values (each named with its node) or a graph that is not one input to one output raises
    ``InputError``."""
    import onnx
    from onnx import numpy_helper

    path = Path(path)
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as error:  # onnx raises DecodeError, ValidationError, ... for a corrupt file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: not a valid ONNX model ({reason[:200]})") from None
    graph = model.graph
    for node in graph.node:
        if node.op_type not in OPERATORS or (node.domain not in ("", "ai.onnx")):
            domain = f" of domain {node.domain!r}" if node.domain not in ("", "ai.onnx") else ""
            raise InputError(
                f"{path}: node {node.name or node.output[0]!r}: operator {node.op_type}{domain} is not "
                f"supported (supported: {', '.join(sorted(OPERATORS))} of the default domain)"
            )
    params = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for name, value in params.items():
        _require_finite(path, f"initializer {name!r}", value)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                where = f"node {node.name or node.output[0]!r} ({node.op_type}): attribute {attribute.name}"
                _require_finite(path, where, numpy_helper.to_array(attribute.t))
    inputs = [i for i in graph.input if i.name not in params]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise InputError(
            f"{path}: expected a graph with one input and one output, "
            f"got {len(inputs)} and {len(graph.output)}"
        )
    dims = inputs[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    if len(shape) < 2 or any(d is None or d < 1 for d in shape[1:]):
        raise InputError(
            f"{path}: input {inputs[0].name!r}: expected a batch axis and fixed sizes after it, got {shape}"
        )
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)
    _check_nodes(path, graph, inputs[0].name, opset)
    return OnnxModel(str(path), params, inputs[0].name, shape[1:], graph.output[0].name, graph, opset)


def _check_nodes(path: Path, graph, input_name: str, opset: int) -> None:
    """``InputError`` for the first node that asks what its operator does not support, following which values
    depend on those of the model input (all but shapes)."""
    dynamic = {input_name}
    for node in graph.node:
        operator = OPERATORS[node.op_type]
        try:
            operator.check_node(node, opset, [name in dynamic for name in node.input])
        except ValueError as error:
            raise InputError(
                f"{path}: node {node.name or node.output[0]!r} ({node.op_type}): {error}"
            ) from None
        if operator.reads_values and any(name in dynamic for name in node.input):
            dynamic.update(node.output)


def _require_finite(path: Path, where: str, value: np.ndarray) -> None:
    """Real-valued constants of a model are finite within float32, the precision the model runs in."""
    if value.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = int(np.sum(~(np.abs(value) <= FLOAT32_MAX)))
        if bad:
            raise InputError(
                f"{path}: {where}: expected finite values within float32's range, found {bad} NaN, inf or "
                "beyond"
            )
