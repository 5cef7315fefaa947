"""ONNX operators for ResNets, MobileNets, transformers and recurrent networks, against onnx's reference
evaluator: on activations (eagerly and under ``jax.jit``), on constants (numpy results, also inside a
``jax.jit`` trace), LSTM and GRU in every mode with their products on tiles, refusals in one line, and the
networks PyTorch exports (tests/data/pytorch)."""

import json
from pathlib import Path

import jax
import numpy as np
import onnx
import pytest
from _onnx import array, check, init, load, load_error, node, onnx_model, reference
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator
from onnx.reference.ops import op_gru, op_lstm

from crossbar.datasets import MNIST_TEST, load_mnist
from crossbar.networks import load_onnx
from crossbar.networks._onnx_operators import OPERATORS, Context

# ---------------------------------------------------------------------------------------------------------
# Constants: numpy in, numpy out, even while jax.jit traces (shape arithmetic stays static).


def _constant_case(op, values: dict, opset=17, outputs=1, **attrs):
    """``op`` on the constants ``values`` (a ``None`` leaves an input out) gives numpy arrays inside a
    ``jax.jit`` trace, equal to the reference evaluator's outputs, dtypes included."""
    names = [name if value is not None else "" for name, value in values.items()]
    while names and not names[-1]:
        names.pop()
    given = {name: value for name, value in values.items() if value is not None}
    out = [f"out{i}" for i in range(outputs)]
    the_node = helper.make_node(op, names, out, name="op", **attrs)
    graph = helper.make_graph(
        [the_node],
        "constants",
        [
            helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
            for name, v in given.items()
        ],
        [helper.make_tensor_value_info(name, TensorProto.UNDEFINED, None) for name in out],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    expected = ReferenceEvaluator(model).run(None, given)
    found = []

    def traced(dummy):
        inputs = [values[name] if name else None for name in names]
        found.extend(OPERATORS[op](the_node, inputs, Context(opset, 1)))
        return dummy

    jax.jit(traced)(0.0)
    assert len(found) == outputs
    for y, e in zip(found, expected, strict=True):
        assert isinstance(y, np.ndarray | np.generic), type(y)
        assert (np.shape(y), np.asarray(y).dtype) == (e.shape, e.dtype)
        np.testing.assert_allclose(y, e, rtol=1e-6, atol=1e-6)


_I64 = np.int64


def _ints(*values):
    return np.asarray(values, _I64)


_CONSTANT_CASES = [
    # op, inputs, opset, outputs, attributes
    ("Add", {"a": _ints(3, -4), "b": _ints(2)}, 17, 1, {}),
    ("Sub", {"a": array(2, 3), "b": array(3)}, 17, 1, {}),
    ("Mul", {"a": _ints(2, 3), "b": np.int64(4)}, 17, 1, {}),
    ("Div", {"a": _ints(7, -7, 6, -6), "b": _ints(2, 2, -4, -4)}, 17, 1, {}),
    ("Div", {"a": array(2, 3), "b": np.float32(0.5)}, 17, 1, {}),
    ("Pow", {"a": array(3), "b": np.float32(2.0)}, 17, 1, {}),
    ("Pow", {"a": np.abs(array(3)), "b": _ints(3)}, 17, 1, {}),
    ("Mod", {"a": _ints(7, -7, 5, -5), "b": _ints(3, 3, -3, -3)}, 17, 1, {}),
    ("Mod", {"a": _ints(7, -7, 5, -5), "b": _ints(3, 3, -3, -3)}, 17, 1, {"fmod": 1}),
    ("Mod", {"a": array(4), "b": np.float32(0.3)}, 17, 1, {"fmod": 1}),
    ("Equal", {"a": _ints(1, -1, 3), "b": _ints(-1)}, 17, 1, {}),
    ("Less", {"a": array(4), "b": array(4)}, 17, 1, {}),
    ("Greater", {"a": _ints(1, 5), "b": _ints(2, 2)}, 17, 1, {}),
    ("Where", {"c": np.array([True, False]), "a": _ints(1, 2), "b": _ints(9)}, 17, 1, {}),
    ("Neg", {"x": _ints(3, -2)}, 17, 1, {}),
    ("Sqrt", {"x": np.abs(array(5))}, 17, 1, {}),
    ("Exp", {"x": array(5)}, 17, 1, {}),
    ("Log", {"x": np.abs(array(5))}, 17, 1, {}),
    ("Erf", {"x": array(5)}, 17, 1, {}),
    ("Tanh", {"x": array(5)}, 17, 1, {}),
    ("Sigmoid", {"x": array(5)}, 17, 1, {}),
    ("Relu", {"x": array(5)}, 17, 1, {}),
    ("Gelu", {"x": array(5)}, 20, 1, {}),
    ("Gelu", {"x": array(5)}, 20, 1, {"approximate": "tanh"}),
    ("Cast", {"x": _ints(3, 0, -2)}, 17, 1, {"to": TensorProto.FLOAT}),
    ("Cast", {"x": np.float32([2.7, -1.5])}, 17, 1, {"to": TensorProto.INT64}),
    ("Cast", {"x": _ints(3, 0)}, 17, 1, {"to": TensorProto.BOOL}),
    ("Shape", {"x": array(2, 3, 4)}, 17, 1, {}),
    ("Shape", {"x": array(2, 3, 4)}, 17, 1, {"start": 1}),
    ("Shape", {"x": array(2, 3, 4)}, 17, 1, {"start": -2, "end": -1}),
    ("Shape", {"x": array(2, 3, 4)}, 17, 1, {"end": 10}),
    ("Reshape", {"x": _ints(1, 2, 3, 4, 5, 6), "shape": _ints(-1, 2)}, 17, 1, {}),
    ("Concat", {"a": _ints(1), "b": _ints(2, 3)}, 17, 1, {"axis": 0}),
    ("Gather", {"x": _ints(2, 3, 4), "i": np.int64(-1)}, 17, 1, {}),
    ("Gather", {"x": array(3, 4), "i": _ints(0, -1, 2)}, 17, 1, {"axis": 1}),
    ("Slice", {"x": _ints(5, 6, 7, 8), "s": _ints(-1), "e": _ints(np.iinfo(_I64).max)}, 17, 1, {}),
    ("Slice", {"x": _ints(5, 6, 7, 8), "s": _ints(1), "e": _ints(3), "a": _ints(0)}, 17, 1, {}),
    ("Unsqueeze", {"x": np.int64(7), "axes": _ints(0)}, 17, 1, {}),
    ("Unsqueeze", {"x": _ints(7, 8)}, 11, 1, {"axes": [0, -1]}),
    ("Squeeze", {"x": _ints(7).reshape(1, 1), "axes": _ints(1)}, 17, 1, {}),
    ("Expand", {"x": array(1, 3), "shape": _ints(2, 1)}, 17, 1, {}),
    ("Split", {"x": _ints(1, 2, 3, 4, 5), "split": _ints(2, 3)}, 17, 2, {}),
    ("Split", {"x": _ints(1, 2, 3, 4, 5)}, 18, 3, {"num_outputs": 3}),
    ("ConstantOfShape", {"shape": _ints(2, 3)}, 17, 1, {}),
    (
        "ConstantOfShape",
        {"shape": _ints()},
        17,
        1,
        {"value": helper.make_tensor("v", TensorProto.INT64, [1], [5])},
    ),
    ("Range", {"start": np.int64(1), "limit": np.int64(10), "delta": np.int64(3)}, 17, 1, {}),
    ("Range", {"start": np.float32(1), "limit": np.float32(-1), "delta": np.float32(-0.5)}, 17, 1, {}),
    ("Range", {"start": np.int64(5), "limit": np.int64(1), "delta": np.int64(1)}, 17, 1, {}),
    ("ReduceMean", {"x": array(2, 3)}, 17, 1, {"axes": [1]}),
    ("ReduceSum", {"x": _ints(1, 2, 3), "axes": _ints(0)}, 17, 1, {"keepdims": 0}),
    ("ReduceMax", {"x": array(2, 3), "axes": _ints(-1)}, 18, 1, {}),
    ("Gemm", {"a": array(2, 3), "b": array(4, 3), "c": array(4)}, 17, 1, {"transB": 1}),
    ("MatMul", {"a": array(2, 3), "b": array(3, 4)}, 17, 1, {}),
    ("Identity", {"x": _ints(1, 2)}, 17, 1, {}),
]


@pytest.mark.parametrize(
    ("op", "values", "opset", "outputs", "attrs"),
    _CONSTANT_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(_CONSTANT_CASES)],
)
def test_operators_on_constants_stay_numpy(op, values, opset, outputs, attrs):
    _constant_case(op, values, opset, outputs, **attrs)


# ---------------------------------------------------------------------------------------------------------
# Elementwise operators on activations.


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize(("c_shape", "constant_first"), [((4,), False), ((3, 1), True), ((), False)], ids=str)
def test_arithmetic(op, c_shape, constant_first, tmp_path):
    names = ["C", "x"] if constant_first else ["x", "C"]
    check([node(op, names)], [init("C", array(*c_shape) + 3.0)], (3, 4), tmp_path)


def test_arithmetic_of_two_activations(tmp_path):
    nodes = [
        node("Tanh", ["x"], ["t"]),
        node("Sub", ["x", "t"], ["s"]),
        node("Exp", ["t"], ["e"]),
        node("Div", ["s", "e"], ["d"]),
        node("Neg", ["d"], ["n"]),
        node("Abs", ["n"], ["a"]),
        node("Pow", ["a", "t"], ["y"]),
    ]
    check(nodes, [], (3, 4), tmp_path)


@pytest.mark.parametrize(
    "exponent", [np.float32(2.0), np.float32(0.5), np.int64(3), np.float32([1, 2, 3, 0.5])]
)
def test_pow(exponent, tmp_path):
    nodes = [node("Abs", ["x"], ["a"]), node("Pow", ["a", "e"])]
    check(nodes, [init("e", exponent)], (2, 4), tmp_path)


def test_mod_fmod_on_activations(tmp_path):
    check([node("Mod", ["x", "m"], fmod=1)], [init("m", np.float32([0.3, -0.7, 1.1]))], (2, 3), tmp_path)


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater"])
def test_comparisons_select_with_where(op, tmp_path):
    """A comparison of activations (and with a constant) picks elements through Where."""
    nodes = [
        node("Relu", ["x"], ["r"]),
        node(op, ["r", "z"], ["c"]),
        node("Where", ["c", "x", "w"]),
    ]
    check(nodes, [init("z", np.float32(0.0)), init("w", array(4))], (3, 4), tmp_path)


def test_where_with_an_activation_condition_and_constants(tmp_path):
    nodes = [node("Greater", ["x", "t"], ["c"]), node("Where", ["c", "a", "b"])]
    inits = [init("t", np.float32(0.1)), init("a", array(3, 1)), init("b", array(4))]
    check(nodes, inits, (3, 4), tmp_path)


_UNARY = [
    ("Neg", {}, 17),
    ("Abs", {}, 17),
    ("Reciprocal", {}, 17),
    ("Exp", {}, 17),
    ("Erf", {}, 17),
    ("Tanh", {}, 17),
    ("Sigmoid", {}, 17),
    ("Relu", {}, 17),
    ("LeakyRelu", {}, 17),
    ("LeakyRelu", {"alpha": 0.2}, 17),
    ("HardSigmoid", {}, 17),
    ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, 17),
    ("HardSwish", {}, 17),
    ("Gelu", {}, 20),
    ("Gelu", {"approximate": "none"}, 20),
    ("Gelu", {"approximate": "tanh"}, 20),
]


@pytest.mark.parametrize(("op", "attrs", "opset"), _UNARY, ids=[f"{c[0]}-{c[1]}" for c in _UNARY])
@pytest.mark.slow
def test_unary(op, attrs, opset, tmp_path):
    nodes = [node("Mul", ["x", "s"], ["z"]), node(op, ["z"], **attrs)]
    check(nodes, [init("s", np.float32(4.0))], (3, 4), tmp_path, opset)


@pytest.mark.parametrize("op", ["Sqrt", "Log"])
def test_unary_of_positive_values(op, tmp_path):
    check([node("Abs", ["x"], ["a"]), node(op, ["a"])], [], (3, 4), tmp_path)


@pytest.mark.parametrize("to", [TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL, TensorProto.DOUBLE])
def test_cast_of_activations(to, tmp_path):
    """Cast to ``to`` and back to float (JAX holds int64 and float64 as int32 and float32 without x64)."""
    nodes = [
        node("Mul", ["x", "s"], ["z"]),
        node("Cast", ["z"], ["c"], to=to),
        node("Cast", ["c"], ["y"], to=TensorProto.FLOAT),
    ]
    check(nodes, [init("s", np.float32(3.0))], (3, 4), tmp_path)


# ---------------------------------------------------------------------------------------------------------
# Shapes and element moves on activations.


@pytest.mark.parametrize(
    ("opset", "attrs", "rank"),
    [(13, {}, 5), (15, {"start": 1}, 4), (17, {"start": 0, "end": 1}, 2), (17, {"start": -2}, 3)],
    ids=str,
)
def test_shape_feeds_a_reshape(opset, attrs, rank, tmp_path):
    """Shape(x)[start:end] followed by -1 sets a shape (of ``rank`` axes): static under jit."""
    nodes = [
        node("Shape", ["x"], ["s"], **attrs),
        node("Concat", ["s", "minus_one"], ["shape"], axis=0),
        node("Reshape", ["x", "shape"]),
    ]
    output = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [f"d{i}" for i in range(rank)])]
    check(nodes, [init("minus_one", _ints(-1))], (2, 3, 4), tmp_path, opset, outputs=output)


_SPLIT = [
    # opset, input split (None: none), attributes, outputs; the input is (B, 4, 5)
    (11, None, {"axis": 1, "split": [1, 3]}, 2),
    (11, None, {"axis": 1}, 2),
    (13, _ints(3, 1), {"axis": 1}, 2),
    (13, None, {"axis": -2}, 4),
    (18, None, {"axis": 2, "num_outputs": 2}, 2),  # ceil(5 / 2) = 3, then 2
    (18, None, {"axis": 1, "num_outputs": 4}, 4),
    (18, _ints(1, 1, 3), {"axis": 2}, 3),
]


@pytest.mark.parametrize(("opset", "split", "attrs", "outputs"), _SPLIT, ids=str)
def test_split(opset, split, attrs, outputs, tmp_path):
    """The parts, concatenated back in reverse order (one output)."""
    names = [f"p{i}" for i in range(outputs)]
    inputs = ["x", "split"] if split is not None else ["x"]
    nodes = [node("Split", inputs, names, **attrs), node("Concat", names[::-1], axis=attrs["axis"])]
    inits = [init("split", split)] if split is not None else []
    check(nodes, inits, (4, 5), tmp_path, opset)


_BIG = np.iinfo(_I64).max
_SLICE = [
    # starts, ends, axes, steps (None: left out)
    ([0], [2], None, None),
    ([1, -3], [_BIG, -1], [1, 2], None),
    ([-1], [-_BIG - 1], [2], [-1]),
    ([4, 0], [0, 5], [-1, 1], [-2, 2]),
    ([10], [_BIG], [1], None),  # empty
    ([1], [3], [0], [1]),  # along the batch axis
]


@pytest.mark.parametrize(("starts", "ends", "axes", "steps"), _SLICE, ids=str)
def test_slice(starts, ends, axes, steps, tmp_path):
    inits = [init("s", _ints(*starts)), init("e", _ints(*ends))]
    names = ["x", "s", "e"]
    for name, value in (("a", axes), ("t", steps)):
        names.append(name if value is not None else "")
        if value is not None:
            inits.append(init(name, _ints(*value)))
    while not names[-1]:
        names.pop()
    check([node("Slice", names)], inits, (3, 5), tmp_path, batch=4)


def test_slice_before_opset_10_takes_attributes(tmp_path):
    check([node("Slice", ["x"], starts=[1, -2], ends=[_BIG, 5], axes=[1, 2])], [], (3, 5), tmp_path, opset=9)


@pytest.mark.parametrize(
    ("axis", "indices"),
    [(1, np.int64(-1)), (2, _ints(0, -1, 1)), (-1, _ints([0, 3], [2, -2])), (0, _ints(1, 0))],
    ids=str,
)
def test_gather_from_an_activation(axis, indices, tmp_path):
    check([node("Gather", ["x", "i"], axis=axis)], [init("i", indices)], (3, 4), tmp_path)


def test_gather_at_computed_indices_from_a_constant_table(tmp_path):
    """An embedding lookup: indices computed from the input pick rows of a constant table."""
    nodes = [
        node("Abs", ["x"], ["a"]),
        node("Clip", ["a", "lo", "hi"], ["c"]),
        node("Cast", ["c"], ["i"], to=TensorProto.INT64),
        node("Sub", ["i", "two"], ["j"]),  # negative indices too
        node("Gather", ["table", "j"]),
    ]
    inits = [
        init("lo", np.float32(0)),
        init("hi", np.float32(3.9)),
        init("two", np.int64(2)),
        init("table", array(5, 4)),
    ]
    check(nodes, inits, (3,), tmp_path)


@pytest.mark.parametrize("shape", [(2, 1, 4), (3, 1), (1, 1, 1, 4), (2, 1, 3, 4)], ids=str)
def test_expand(shape, tmp_path):
    check([node("Expand", ["x", "s"])], [init("s", _ints(*shape))], (3, 1), tmp_path)


def test_expand_a_constant_to_the_batch(tmp_path):
    """A class token (1, 1, C) expanded to the batch (a shape from Shape(x)), then concatenated."""
    nodes = [
        node("Shape", ["x"], ["s"], end=1),
        node("Concat", ["s", "ones"], ["shape"], axis=0),
        node("Expand", ["token", "shape"], ["t"]),
        node("Concat", ["t", "x"], axis=1),
    ]
    inits = [init("ones", _ints(1, 1)), init("token", array(1, 1, 4))]
    output = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 4])]
    check(nodes, inits, (3, 4), tmp_path, opset=15, outputs=output)


@pytest.mark.parametrize(
    ("opset", "axes"), [(11, [1]), (11, [-1, 1]), (13, [2]), (13, [0, -1]), (17, [1, 3])], ids=str
)
def test_unsqueeze_then_squeeze(opset, axes, tmp_path):
    if opset >= 13:
        nodes = [
            node("Unsqueeze", ["x", "a"], ["u"]),
            node("Tanh", ["u"], ["t"]),
            node("Squeeze", ["t", "a"]),
        ]
        inits = [init("a", _ints(*axes))]
    else:
        nodes = [
            node("Unsqueeze", ["x"], ["u"], axes=axes),
            node("Tanh", ["u"], ["t"]),
            node("Squeeze", ["t"], axes=axes),
        ]
        inits = []
    check(nodes, inits, (3, 4), tmp_path, opset)


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_without_axes_removes_every_axis_of_size_1(opset, tmp_path):
    output = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])]
    check([node("Squeeze", ["x"])], [], (1, 4, 1), tmp_path, opset, batch=3, outputs=output)


@pytest.mark.parametrize(
    "value", [None, helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])], ids=["default", "value"]
)
def test_constant_of_shape_of_the_input(value, tmp_path):
    """ConstantOfShape(Shape(x)), as PyTorch's exporters make an initial state."""
    attrs = {} if value is None else {"value": value}
    nodes = [
        node("Shape", ["x"], ["s"]),
        node("ConstantOfShape", ["s"], ["c"], **attrs),
        node("Add", ["x", "c"]),
    ]
    check(nodes, [], (3, 4), tmp_path)


def test_range_added_to_an_activation(tmp_path):
    """Positions 0..4 (from the input's shape), as a float, added to the input."""
    nodes = [
        node("Shape", ["x"], ["s"], start=-1),
        node("Squeeze", ["s", "zero"], ["n"]),
        node("Range", ["start", "n", "one"], ["r"]),
        node("Cast", ["r"], ["f"], to=TensorProto.FLOAT),
        node("Add", ["x", "f"]),
    ]
    inits = [init("zero", _ints(0)), init("start", np.int64(0)), init("one", np.int64(1))]
    output = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 5])]
    check(nodes, inits, (3, 5), tmp_path, outputs=output)


# ---------------------------------------------------------------------------------------------------------
# Reductions and normalizations.

_REDUCE = [
    # opset, axes (None: none), as an input, attributes
    (13, [1], False, {}),
    (13, [-1, 1], False, {"keepdims": 0}),
    (13, None, False, {}),
    (18, [2], True, {}),
    (18, [1, 2], True, {"keepdims": 0}),
    (18, None, True, {"noop_with_empty_axes": 1}),
    (18, None, True, {"noop_with_empty_axes": 0, "keepdims": 0}),
    (18, [], True, {"noop_with_empty_axes": 1}),
]


@pytest.mark.parametrize("op", ["ReduceMean", "ReduceSum", "ReduceMax"])
@pytest.mark.parametrize(("opset", "axes", "as_input", "attrs"), _REDUCE, ids=str)
@pytest.mark.slow
def test_reductions(op, opset, axes, as_input, attrs, tmp_path):
    as_input = as_input or (op == "ReduceSum" and opset >= 13)  # ReduceSum's axes are an input from 13 on
    if as_input:
        names, inits = (["x", "a"], [init("a", _ints(*axes))]) if axes is not None else (["x"], [])
        check([node(op, names, **attrs)], inits, (3, 4), tmp_path, opset)
    else:
        extra = {} if axes is None else {"axes": axes}
        check([node(op, ["x"], **attrs, **extra)], [], (3, 4), tmp_path, opset)


@pytest.mark.parametrize(
    ("axis", "bias", "output"),
    [(-1, True, 0), (1, True, 0), (2, False, 0), (-2, True, 0), (1, True, 1), (-1, False, 2)],
    ids=str,
)
def test_layer_normalization(axis, bias, output, tmp_path):
    """Y, or the mean, or the inverse standard deviation (as the graph's output)."""
    shape = (3, 4, 5)
    inits = [init("scale", array(*shape[axis:] if axis >= 0 else shape[axis + 3 :]))]
    inits += [init("bias", array(*shape[axis:] if axis >= 0 else shape[axis + 3 :]))] if bias else []
    outputs = ["n", "m", "i"]
    outputs[output] = "y"
    names = ["x", "scale", "bias"] if bias else ["x", "scale"]
    check([node("LayerNormalization", names, outputs, axis=axis, epsilon=1e-3)], inits, shape, tmp_path)


@pytest.mark.parametrize("opset", [17, 18])
def test_decomposed_layer_normalization(opset, tmp_path):
    """LayerNorm as older exporters write it: ReduceMean, Sub, Pow, Add, Sqrt, Div, Mul, Add."""
    mean = (
        [node("ReduceMean", ["x"], ["m"], axes=[-1]), node("ReduceMean", ["q"], ["v"], axes=[-1])]
        if opset < 18
        else [node("ReduceMean", ["x", "a"], ["m"]), node("ReduceMean", ["q", "a"], ["v"])]
    )
    nodes = [
        mean[0],
        node("Sub", ["x", "m"], ["d"]),
        node("Pow", ["d", "two"], ["q"]),
        mean[1],
        node("Add", ["v", "eps"], ["w"]),
        node("Sqrt", ["w"], ["s"]),
        node("Div", ["d", "s"], ["n"]),
        node("Mul", ["n", "scale"], ["k"]),
        node("Add", ["k", "bias"]),
    ]
    inits = [
        init("a", _ints(-1)),
        init("two", np.float32(2.0)),
        init("eps", np.float32(1e-5)),
        init("scale", array(5)),
        init("bias", array(5)),
    ]
    check(nodes, inits if opset >= 18 else inits[1:], (4, 5), tmp_path, opset)


@pytest.mark.parametrize(("opset", "axis"), [(13, -1), (13, 1), (17, 0)], ids=str)
def test_log_softmax(opset, axis, tmp_path):
    check([node("LogSoftmax", ["x"], axis=axis)], [], (3, 4), tmp_path, opset)


def test_global_max_pool(tmp_path):
    check([node("GlobalMaxPool", ["x"])], [], (3, 5, 4), tmp_path)


# ---------------------------------------------------------------------------------------------------------
# Products: constants on tiles, activations in digital, rows per example.


class _Recording:
    """An on_product hook that records each product and returns ``factor`` times the digital result."""

    def __init__(self, factor=1.0):
        self.factor = factor
        self.products = []

    def __call__(self, product):
        self.products.append(product)
        return self.factor * product.digital()


def test_attention_products_per_example(tmp_path):
    """Sequence-first activations (S, B, C), as PyTorch's MultiheadAttention exports them: the projections
    are on tiles with S rows per example (MatMul, and Gemm on the (S B, C) rows); Q K^T and A V of two
    activations run in digital."""
    s, c = 6, 4
    nodes = [
        node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),  # (S, B, C)
        helper.make_node("MatMul", ["t", "Wq"], ["q"], name="q"),
        helper.make_node("Transpose", ["q"], ["k"], name="kt", perm=[1, 2, 0]),  # (B, C, S)
        helper.make_node("Transpose", ["q"], ["qb"], name="qb", perm=[1, 0, 2]),  # (B, S, C)
        helper.make_node("MatMul", ["qb", "k"], ["scores"], name="qk"),  # (B, S, S)
        helper.make_node("Softmax", ["scores"], ["p"], name="softmax"),
        helper.make_node("MatMul", ["p", "qb"], ["a"], name="av"),  # (B, S, C)
        helper.make_node("Reshape", ["a", "rows"], ["r"], name="rows"),  # (B S, C)
        helper.make_node("Gemm", ["r", "Wo", "bo"], ["y"], name="out", transB=1),
    ]
    wq, wo, rest = array(c, c), array(c, c), [init("bo", array(c)), init("rows", _ints(-1, c))]
    model = onnx_model(nodes, [init("Wq", wq), init("Wo", wo), *rest], (s, c))
    loaded = load(model, tmp_path)
    x = array(3, s, c)
    hook = _Recording(2.0)
    y = np.asarray(jax.jit(lambda x: loaded.apply(loaded.params, x, hook))(x))
    assert [(p.name, p.positions) for p in hook.products] == [("q", (s,)), ("out", (s,))]
    doubled = onnx_model(nodes, [init("Wq", 2 * wq), init("Wo", 2 * wo), *rest], (s, c))
    np.testing.assert_allclose(y, reference(doubled, x), rtol=1e-5, atol=1e-5)
    layers = loaded.matrix_layers()
    assert [(layer.name, layer.mvms_per_inference) for layer in layers] == [("q", s), ("out", s)]


def test_a_convolution_with_a_computed_kernel_is_refused(tmp_path):
    nodes = [
        node("ReduceMean", ["x"], ["m"], keepdims=0),
        helper.make_node("Mul", ["K", "m"], ["k"], name="scaled_kernel"),
        helper.make_node("Conv", ["x", "k"], ["y"], name="conv"),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 3, 3])]
    path = tmp_path / "model.onnx"
    onnx.save(onnx_model(nodes, [init("K", array(2, 1, 3, 3))], (1, 5, 5), outputs=outputs), path)
    message = load_error(path)
    assert message.endswith(
        "node 'conv' (Conv): its weight W is computed from the model input; it must be constant "
        "(computed from initializers and shapes alone) to be held on tiles"
    )


def test_a_kernel_computed_from_constants_is_on_tiles(tmp_path):
    """A kernel computed from initializers alone (a Mul by a constant) is a constant: on tiles."""
    nodes = [node("Mul", ["K", "two"], ["k"]), node("Conv", ["x", "k"])]
    model = onnx_model(nodes, [init("K", array(2, 1, 3, 3)), init("two", np.float32(2))], (1, 5, 5))
    loaded = load(model, tmp_path)
    hook = _Recording()
    x = array(2, 1, 5, 5)
    np.testing.assert_allclose(
        np.asarray(loaded.apply(loaded.params, x, hook)), reference(model, x), rtol=1e-5, atol=1e-5
    )
    assert [p.name for p in hook.products] == ["conv_node"]


# ---------------------------------------------------------------------------------------------------------
# LSTM and GRU: every mode against the reference evaluator, products on tiles, refusals.

_STEPS, _INPUTS, _HIDDEN = 5, 3, 4


def _rnn_weights(op, direction, batch=2) -> dict:
    directions = 2 if direction == "bidirectional" else 1
    gates = 4 if op == "LSTM" else 3
    return {
        "W": 0.5 * array(directions, gates * _HIDDEN, _INPUTS),
        "R": 0.5 * array(directions, gates * _HIDDEN, _HIDDEN),
        "B": 0.5 * array(directions, 2 * gates * _HIDDEN),
        "initial_h": array(directions, batch, _HIDDEN),
        "initial_c": array(directions, batch, _HIDDEN),
    }


def _rnn_model(op, weights, direction="forward", layout=0, given=("B",), flat=True, **attrs):
    """x (N, T, I) through ``op`` (inputs W, R and those ``given`` of B, lens, initial_h, initial_c): its
    outputs batch first, flattened and concatenated to (N, ...) when ``flat``, else as they are."""
    outputs = ["Y", "Y_h", "Y_c"] if op == "LSTM" else ["Y", "Y_h"]
    names = ["seq", "W", "R"] + [n if n in given else "" for n in ("B", "lens", "initial_h", "initial_c")]
    names = names[: len(names) - 1] if op == "GRU" else names
    while not names[-1]:
        names.pop()
    inits = [init("W", weights["W"]), init("R", weights["R"])]
    for name in ("B", "lens", "initial_h", "initial_c"):
        if name in given:
            value = weights[name]
            inits.append(
                init(name, np.swapaxes(value, 0, 1) if layout and name.startswith("initial") else value)
            )
    nodes = [
        node("Transpose", ["x"], ["seq"], perm=[1, 0, 2]) if not layout else node("Identity", ["x"], ["seq"])
    ]
    nodes.append(
        helper.make_node(
            op, names, outputs, name="rnn", hidden_size=_HIDDEN, layout=layout, direction=direction, **attrs
        )
    )
    if not flat:
        graph = helper.make_graph(
            nodes,
            "rnn",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", _INPUTS])],
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
            inits,
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    flattened = []
    for name in outputs:
        perm = ([2, 0, 1, 3] if name == "Y" else [1, 0, 2]) if not layout else None
        source = name
        if perm is not None:
            nodes.append(node("Transpose", [name], [f"{name}_b"], perm=perm))
            source = f"{name}_b"
        nodes.append(node("Reshape", [source, "rows"], [f"{name}_f"]))
        flattened.append(f"{name}_f")
    nodes.append(node("Concat", flattened, axis=1))
    return onnx_model(nodes, [*inits, init("rows", _ints(0, -1))], (_STEPS, _INPUTS))


_RNN_MODES = [
    # op, direction, layout, inputs given, attributes
    ("LSTM", "forward", 0, ("B",), {}),
    ("LSTM", "forward", 0, (), {}),
    ("LSTM", "reverse", 0, ("B", "initial_h", "initial_c"), {}),
    ("LSTM", "bidirectional", 0, ("B", "initial_h", "initial_c"), {}),
    ("LSTM", "bidirectional", 1, ("B", "initial_h", "initial_c"), {}),
    ("LSTM", "reverse", 1, ("B",), {}),
    ("LSTM", "forward", 0, ("B", "initial_c"), {"activations": ["Sigmoid", "Tanh", "Tanh"]}),
    ("GRU", "forward", 0, ("B",), {}),
    ("GRU", "forward", 0, (), {"linear_before_reset": 1}),
    ("GRU", "reverse", 1, ("B", "initial_h"), {}),
    ("GRU", "bidirectional", 0, ("B", "initial_h"), {"linear_before_reset": 1}),
    ("GRU", "bidirectional", 1, ("initial_h",), {"activations": ["sigmoid", "tanh"] * 2}),
]


def _check_model(model, tmp_path, expected=None, batch=2):
    """As ``check``, for a model already built, jitted only (a scan compiles even eagerly): with constant
    params (the weights on tiles' path) and with params as arguments (traced weights, digital)."""
    loaded = load(model, tmp_path)
    x = array(batch, *loaded.input_shape)
    expected = reference(model, x) if expected is None else expected(x)
    for y in (jax.jit(lambda x: loaded.apply(loaded.params, x))(x), jax.jit(loaded.apply)(loaded.params, x)):
        assert (y.shape, y.dtype) == (expected.shape, expected.dtype)
        np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("op", "direction", "layout", "given", "attrs"), _RNN_MODES, ids=str)
@pytest.mark.slow
def test_recurrent_layers(op, direction, layout, given, attrs, tmp_path):
    _check_model(_rnn_model(op, _rnn_weights(op, direction), direction, layout, given, **attrs), tmp_path)


def _clipped(base, bound):
    """The reference's LSTM or GRU with its gate pre-activations clipped to [-bound, bound] (the reference
    ignores ``clip``): f and g clip their input, h (of the LSTM's cell state) does not."""

    class Clipped(base):
        op_domain = ""

        def f(self, x):
            return super().f(np.clip(x, -bound, bound))

        def g(self, x):
            return super().g(np.clip(x, -bound, bound))

    Clipped.__name__ = base.__name__
    return Clipped


@pytest.mark.parametrize(
    ("op", "attrs"), [("LSTM", {}), ("GRU", {}), ("GRU", {"linear_before_reset": 1})], ids=str
)
@pytest.mark.slow
def test_clip_bounds_every_gate_pre_activation(op, attrs, tmp_path):
    weights = {name: 3 * value for name, value in _rnn_weights(op, "bidirectional").items()}
    model = _rnn_model(op, weights, "bidirectional", 0, ("B",), clip=0.7, **attrs)
    base = op_lstm.LSTM if op == "LSTM" else op_gru.GRU
    unclipped = _rnn_model(op, weights, "bidirectional", 0, ("B",), **attrs)
    x = array(2, _STEPS, _INPUTS)
    assert not np.allclose(reference(model, x, [_clipped(base, 0.7)]), reference(unclipped, x), atol=1e-3)
    _check_model(model, tmp_path, expected=lambda x: reference(model, x, [_clipped(base, 0.7)]))


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("op", ["LSTM", "GRU"])
@pytest.mark.slow
def test_sequence_lengths(op, direction, tmp_path):
    """Each sequence as if alone, cut to its length: the steps past it give zeros, Y_h (and Y_c) are its
    last step's (a reverse direction starts at its last step)."""
    lengths = np.array([_STEPS, 2, 1], np.int32)
    weights = {**_rnn_weights(op, direction, batch=3), "lens": lengths}
    given = ("B", "lens", "initial_h", "initial_c")
    model = _rnn_model(op, weights, direction, 0, given)
    alone = [
        _rnn_model(
            op,
            {**weights, **{k: weights[k][:, b : b + 1] for k in ("initial_h", "initial_c")}},
            direction,
            0,
            ("B", "initial_h", "initial_c"),
            flat=False,
        )
        for b in range(3)
    ]

    def expected(x):
        rows = []
        for b, length in enumerate(lengths):
            y, *finals = ReferenceEvaluator(alone[b]).run(None, {"x": x[b : b + 1, :length]})
            y = np.concatenate([y, np.zeros((_STEPS - length, *y.shape[1:]), y.dtype)])
            parts = [np.transpose(y, (2, 0, 1, 3))] + [np.swapaxes(f, 0, 1) for f in finals]
            rows.append(np.concatenate([p.reshape(1, -1) for p in parts], axis=1))
        return np.concatenate(rows)

    _check_model(model, tmp_path, expected, batch=3)


_PRODUCTS = [
    # op, direction, attributes, expected products: name suffix, matrix shape (IN, OUT), rows of R
    ("LSTM", "forward", {}, [("forward/W", (3, 16), None), ("forward/R", (4, 16), slice(None))]),
    (
        "LSTM",
        "bidirectional",
        {},
        [
            ("forward/W", (3, 16), None),
            ("forward/R", (4, 16), slice(None)),
            ("reverse/W", (3, 16), None),
            ("reverse/R", (4, 16), slice(None)),
        ],
    ),
    (
        "GRU",
        "bidirectional",
        {},
        [
            ("forward/W", (3, 12), None),
            ("forward/R_zr", (4, 8), slice(0, 8)),
            ("forward/R_h", (4, 4), slice(8, 12)),
            ("reverse/W", (3, 12), None),
            ("reverse/R_zr", (4, 8), slice(0, 8)),
            ("reverse/R_h", (4, 4), slice(8, 12)),
        ],
    ),
    (
        "GRU",
        "reverse",
        {"linear_before_reset": 1},
        [("reverse/W", (3, 12), None), ("reverse/R", (4, 12), slice(None))],
    ),
]


@pytest.mark.parametrize(
    ("op", "direction", "attrs", "products"), _PRODUCTS, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in _PRODUCTS]
)
@pytest.mark.slow
def test_recurrent_products_go_through_on_product(op, direction, attrs, products, tmp_path):
    """Per direction, W is one product with the steps as positions, R one product (two for a GRU with
    linear_before_reset 0) with the steps as repeats and the traced step index; the hook's results are the
    layer's products, and a digital hook gives the plain evaluation."""
    weights = _rnn_weights(op, direction)
    model = _rnn_model(op, weights, direction, 0, ("B",), **attrs)
    loaded = load(model, tmp_path)
    x = array(2, _STEPS, _INPUTS)

    products_seen = []

    def scaled(product, factor):
        products_seen.append(product)
        return factor * product.digital()

    hooked = jax.jit(lambda x, factor: loaded.apply(loaded.params, x, lambda p: scaled(p, factor)))
    plain = jax.jit(lambda x: loaded.apply(loaded.params, x))
    np.testing.assert_allclose(np.asarray(hooked(x, 1.0)), np.asarray(plain(x)), rtol=1e-6, atol=1e-6)
    doubled = _rnn_model(
        op, {**weights, "W": 2 * weights["W"], "R": 2 * weights["R"]}, direction, 0, ("B",), **attrs
    )
    np.testing.assert_allclose(np.asarray(hooked(x, 2.0)), reference(doubled, x), rtol=1e-5, atol=1e-5)
    found = [(p.name, p.weight.shape, p.positions, p.repeats, p.step is None) for p in products_seen]
    assert found == [
        (
            f"rnn/{suffix}",
            shape,
            (_STEPS,) if rows is None else (),
            1 if rows is None else _STEPS,
            rows is None,
        )
        for suffix, shape, rows in products
    ]  # traced once: one call per product
    for product, (suffix, _, rows) in zip(products_seen, products, strict=True):
        d = 1 if direction == "bidirectional" and suffix.startswith("reverse") else 0
        matrix = weights["W"][d] if rows is None else weights["R"][d][rows]
        np.testing.assert_array_equal(product.weight, matrix.T)
    layers = [(layer.name, layer.weight.shape, layer.mvms_per_inference) for layer in loaded.matrix_layers()]
    assert layers == [(f"rnn/{suffix}", shape, _STEPS) for suffix, shape, _ in products]


def _rnn_error(tmp_path, op="LSTM", extra_inputs=(), extra_inits=(), **attrs) -> str:
    weights = _rnn_weights(op, "forward")
    names = ["seq", "W", "R", *extra_inputs]
    nodes = [
        node("Transpose", ["x"], ["seq"], perm=[1, 0, 2]),
        helper.make_node(op, names, ["Y"], name="encoder/rnn", hidden_size=_HIDDEN, **attrs),
        node("Identity", ["Y"]),
    ]
    inits = [init("W", weights["W"]), init("R", weights["R"]), *extra_inits]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [_STEPS, 1, "N", _HIDDEN])]
    path = tmp_path / "model.onnx"
    onnx.save(onnx_model(nodes, inits, (_STEPS, _INPUTS), outputs=outputs), path)
    return load_error(path)


@pytest.mark.parametrize(
    ("op", "extra", "attrs", "reason"),
    [
        ("LSTM", ("", "", "", "", "P"), {}, "peepholes (input P) are not supported"),
        (
            "LSTM",
            (),
            {"activations": ["Relu", "Tanh", "Tanh"]},
            "activations Relu, Tanh, Tanh are not supported (only the defaults: sigmoid, tanh, tanh)",
        ),
        (
            "GRU",
            (),
            {"activations": ["HardSigmoid", "Tanh"], "activation_alpha": [0.2]},
            "activations HardSigmoid, Tanh are not supported (only the defaults: sigmoid, tanh)",
        ),
        (
            "GRU",
            (),
            {"activation_beta": [0.5]},
            "activation_beta is not supported (only the default activations",
        ),
        ("LSTM", (), {"input_forget": 1}, "input_forget 1 (coupled input and forget gates) is not supported"),
        ("LSTM", (), {"direction": "sideways"}, "direction 'sideways' is not supported"),
    ],
    ids=["peepholes", "activations", "activations and alpha", "beta", "input_forget", "direction"],
)
def test_unsupported_recurrent_forms_are_refused_at_load(op, extra, attrs, reason, tmp_path):
    extra_inits = [init("P", array(1, 3 * _HIDDEN))] if "P" in extra else []
    message = _rnn_error(tmp_path, op, extra, extra_inits, **attrs)
    assert f"node 'encoder/rnn' ({op}): {reason}" in message


def test_a_recurrent_weight_computed_from_the_input_is_refused(tmp_path):
    weights = _rnn_weights("LSTM", "forward")
    nodes = [
        node("ReduceMean", ["x"], ["m"], keepdims=0),
        node("Mul", ["R0", "m"], ["R"]),
        node("Transpose", ["x"], ["seq"], perm=[1, 0, 2]),
        helper.make_node("LSTM", ["seq", "W", "R"], ["Y"], name="encoder/rnn", hidden_size=_HIDDEN),
        node("Identity", ["Y"]),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [_STEPS, 1, "N", _HIDDEN])]
    path = tmp_path / "model.onnx"
    model = onnx_model(
        nodes, [init("W", weights["W"]), init("R0", weights["R"])], (_STEPS, _INPUTS), outputs=outputs
    )
    onnx.save(model, path)
    assert load_error(path).endswith(
        "node 'encoder/rnn' (LSTM): its weight R is computed from the model input; it must be constant "
        "(computed from initializers and shapes alone) to be held on tiles"
    )


def test_the_dynamo_exporters_computed_recurrent_weight_is_a_constant(tmp_path):
    """R as Slice/Concat/Unsqueeze of an initializer (gates reordered), as PyTorch's dynamo exporter writes
    it, is folded to a constant: on tiles."""
    weights = _rnn_weights("LSTM", "forward")
    r = weights["R"][0]
    h = _HIDDEN
    gates = [(0, h), (3 * h, 4 * h), (h, 2 * h), (2 * h, 3 * h)]  # i, o, f, c from PyTorch's i, f, c, o
    nodes = [node("Transpose", ["x"], ["seq"], perm=[1, 0, 2])]
    nodes += [node("Slice", ["r", f"s{i}", f"e{i}", "zero"], [f"g{i}"]) for i in range(4)]
    nodes += [
        node("Concat", ["g0", "g1", "g2", "g3"], ["c"], axis=0),
        node("Unsqueeze", ["c", "zero"], ["R"]),
        helper.make_node("LSTM", ["seq", "W", "R"], ["Y"], name="rnn", hidden_size=h),
        node("Transpose", ["Y"], ["t"], perm=[2, 0, 1, 3]),
        node("Reshape", ["t", "rows"]),
    ]
    inits = [init("W", weights["W"]), init("r", r), init("zero", _ints(0)), init("rows", _ints(0, -1))]
    for i, (start, end) in enumerate(gates):
        inits += [init(f"s{i}", _ints(start)), init(f"e{i}", _ints(end))]
    model = onnx_model(nodes, inits, (_STEPS, _INPUTS))
    loaded = load(model, tmp_path)
    hook = _Recording()
    x = array(2, _STEPS, _INPUTS)
    np.testing.assert_allclose(
        np.asarray(loaded.apply(loaded.params, x, hook)), reference(model, x), rtol=1e-5, atol=1e-5
    )
    reordered = np.concatenate([r[:h], r[3 * h :], r[h : 2 * h], r[2 * h : 3 * h]])
    assert [p.name for p in hook.products] == ["rnn/forward/W", "rnn/forward/R"]
    np.testing.assert_array_equal(hook.products[1].weight, reordered.T)


# ---------------------------------------------------------------------------------------------------------
# What the importer refuses, in one line naming the node and the operator.


def _save(nodes, inits, input_shape, tmp_path, opset=17, output_shape=("N", 3, 4)):
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(output_shape))]
    path = tmp_path / "model.onnx"
    onnx.save(onnx_model(nodes, inits, input_shape, opset, outputs=outputs), path)
    return path


@pytest.mark.parametrize(
    ("nodes", "opset", "reason"),
    [
        (
            [node("Gelu", ["x"], approximate="fast")],
            20,
            "node 'gelu_node' (Gelu): approximate 'fast' is not supported",
        ),
        (
            [node("Cast", ["x"], ["c"], to=TensorProto.STRING), node("Identity", ["c"])],
            17,
            "node 'cast_node' (Cast): Cast to STRING is not supported",
        ),
        (
            [node("MaxPool", ["x"], ["y", "indices"], kernel_shape=[1])],
            17,
            "node 'maxpool_node' (MaxPool): the Indices output of MaxPool is not supported",
        ),
        (
            [node("Constant", [], ["c"], value_string="text"), node("Identity", ["x"])],
            17,
            "node 'constant_node' (Constant): Constant with value_string is not supported",
        ),
        (
            [
                node("ReduceMax", ["x"], ["m"], keepdims=0),
                node("Cast", ["m"], ["s"], to=TensorProto.INT64),
                node("Concat", ["s", "minus_one"], ["shape"], axis=0),
                node("Reshape", ["x", "shape"]),
            ],
            17,
            "node 'reshape_node' (Reshape): its input shape depends on the values of the model input; it "
            "must be known before the model runs (computed from initializers and shapes alone)",
        ),
    ],
    ids=["gelu", "cast", "maxpool", "constant", "reshape"],
)
def test_refused_at_load(nodes, opset, reason, tmp_path):
    inits = [init("minus_one", _ints(-1))] if any(n.op_type == "Reshape" for n in nodes) else []
    message = load_error(_save(nodes, inits, (3, 4), tmp_path, opset))
    assert message.endswith(reason) or reason in message


def test_batch_normalization_in_training_mode_is_refused(tmp_path):
    inits = [init(name, np.ones(3, np.float32)) for name in ("scale", "bias", "mean", "var")]
    nodes = [node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], training_mode=1)]
    message = load_error(_save(nodes, inits, (3, 4), tmp_path))
    assert "node 'batchnormalization_node' (BatchNormalization): training mode" in message


def test_an_error_at_evaluation_names_the_node(tmp_path):
    nodes = [node("Split", ["x", "s"], ["a", "b"], axis=1), node("Concat", ["a", "b"], axis=1)]
    loaded = load(
        onnx_model(
            nodes,
            [init("s", _ints(1, 1))],
            (3, 4),
            outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 4])],
        ),
        tmp_path,
    )
    with pytest.raises(
        ValueError,
        match=r"^node 'split_node' \(Split\): split sizes \[1, 1\] do not add up to the size 3 of axis 1$",
    ):
        loaded.apply(loaded.params, array(2, 3, 4))


# ---------------------------------------------------------------------------------------------------------
# The networks PyTorch exports (tests/data/pytorch): layers, outputs, accuracies on MNIST 8000..9999.

_PYTORCH = Path(__file__).parent / "data" / "pytorch"
_FILES = json.loads((_PYTORCH / "accuracies.json").read_text())["files"]
_LAYERS = {  # (IN, OUT) matrices with their matrix-vector products per inference, in graph order
    "resnet": [((9, 16), 784), ((144, 16), 196), ((144, 16), 196), ((144, 32), 49), ((288, 32), 49)]
    + [((16, 32), 49)]  # the stride-2 block's 1 x 1 projection shortcut
    + [((9, 1), 49)] * 32  # the depthwise convolution: one matrix per group
    + [((32, 32), 49), ((32, 10), 1)],
    "vit": [((49, 48), 16)]
    + [((48, 144), 17), ((48, 48), 17), ((48, 96), 17), ((96, 48), 17)] * 2
    + [((48, 10), 1)],
    "lstm": [((28, 256), 28), ((64, 256), 28), ((64, 10), 1)],
    "gru": [((28, 192), 28), ((64, 192), 28), ((64, 10), 1)],
}


def _mnist_test() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_mnist()
    return x[MNIST_TEST].reshape(-1, 1, 28, 28), y[MNIST_TEST]


@pytest.mark.parametrize("file", sorted(_FILES))
@pytest.mark.slow
def test_pytorch_fixture(file):
    """The layers a chip holds (a depthwise convolution's groups, the recurrent W and R with the 28 rows as
    steps); the outputs of 16 test images as the reference evaluator computes them; and the digital accuracy
    on MNIST images 8000..9999, PyTorch's to the count of right answers."""
    model = load_onnx(_PYTORCH / file)
    layers = model.matrix_layers()
    assert [(layer.weight.shape, layer.mvms_per_inference) for layer in layers] == _LAYERS[file.split("_")[0]]
    names = [layer.name for layer in layers]
    assert len(set(names)) == len(names)
    if file.startswith("resnet"):
        assert sum(name.endswith(f"/group{g}") for name in names for g in range(32)) == 32
    if file.startswith(("lstm", "gru")):
        assert names[0].endswith("/forward/W") and names[1].endswith("/forward/R")

    x, y = _mnist_test()
    apply = jax.jit(lambda x: model.apply(model.params, x))
    logits = [np.asarray(apply(x[i : i + 500])) for i in range(0, len(x), 500)]
    expected = ReferenceEvaluator(str(_PYTORCH / file)).run(None, {"x": x[:16]})[0]
    np.testing.assert_allclose(logits[0][:16], expected, rtol=1e-4, atol=1e-4)
    right = int(np.sum(np.argmax(np.concatenate(logits), axis=1) == y))
    assert right == round(_FILES[file]["torch_accuracy"] * len(x))


@pytest.mark.slow
@pytest.mark.parametrize("file", ["lstm_dynamo.onnx", "gru_torchscript.onnx"])
def test_recurrent_fixture_on_an_ideal_chip_keeps_its_accuracy(file):
    """The estimator runs the recurrent products on tiles (W once, R inside the scan): on the ideal preset
    every chip's accuracy is the digital one."""
    import crossbar

    model = load_onnx(_PYTORCH / file)
    x, y = _mnist_test()
    estimate = crossbar.estimate_accuracy(
        model.apply, model.params, x[:100], y[:100], crossbar.PRESETS["ideal"], (1.0,), 2, 0, progress=False
    )
    assert estimate.accuracies.tolist() == [[estimate.digital_accuracy]] * 2
