"""Helpers of the ONNX tests: small models built with ``onnx.helper``, loaded, and compared with ONNX's
reference evaluator (``onnx.reference``)."""

import jax
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from crossbar import InputError
from crossbar.networks import load_onnx

_RNG = np.random.default_rng(20240601)


def array(*shape) -> np.ndarray:
    """Standard normal float32 numbers of ``shape``."""
    return _RNG.standard_normal(shape).astype(np.float32)


def init(name: str, value) -> onnx.TensorProto:
    """An initializer."""
    return numpy_helper.from_array(np.asarray(value), name)


def node(op, inputs, outputs=("y",), **attrs) -> onnx.NodeProto:
    """A node named after its operator (``op_node``)."""
    return helper.make_node(op, list(inputs), list(outputs), name=f"{op.lower()}_node", **attrs)


def onnx_model(nodes, inits, input_shape, opset=17, output="y", inputs=None, outputs=None) -> onnx.ModelProto:
    """A model of ``nodes`` from input ``x`` (a batch axis N, then ``input_shape``) to ``output``, declared
    with the shape onnx's shape inference gives it."""
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *input_shape])]

    def build(declared):
        graph = helper.make_graph(nodes, "test", inputs, declared, inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])

    if outputs is None:
        draft = build([helper.make_tensor_value_info(output, TensorProto.UNDEFINED, None)])
        outputs = list(onnx.shape_inference.infer_shapes(draft).graph.output)
        assert outputs[0].type.tensor_type.HasField("shape")
    return build(outputs)


def load(model: onnx.ModelProto, folder, name="model.onnx"):
    """``load_onnx`` of the model saved in ``folder``."""
    path = folder / name
    onnx.save(model, path)
    return load_onnx(path)


def reference(model: onnx.ModelProto, x: np.ndarray, new_ops=None) -> np.ndarray:
    """The reference evaluator's output for input x."""
    return ReferenceEvaluator(model, new_ops=new_ops).run(None, {"x": x})[0]


def check(nodes, inits, input_shape, tmp_path, opset=17, expected=None, batch=2, outputs=None):
    """The loaded model's outputs (eagerly, jitted with constant params, jitted with params as arguments)
    equal the reference evaluator's, or ``expected(x)`` where the reference strays from the specification;
    ``outputs`` declares the graph's output where shape inference cannot."""
    model = onnx_model(nodes, inits, input_shape, opset, outputs=outputs)
    loaded = load(model, tmp_path)
    assert loaded.input_shape == tuple(input_shape)
    x = array(batch, *input_shape)
    expected = reference(model, x) if expected is None else expected(x)
    for y in (
        loaded.apply(loaded.params, x),
        jax.jit(lambda x: loaded.apply(loaded.params, x))(x),
        jax.jit(loaded.apply)(loaded.params, x),
    ):
        assert y.shape == expected.shape
        assert y.dtype == expected.dtype
        np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-5, atol=1e-5)


def load_error(path) -> str:
    """The one line of the ``InputError`` that ``load_onnx(path)`` raises."""
    with pytest.raises(InputError) as caught:
        load_onnx(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message
