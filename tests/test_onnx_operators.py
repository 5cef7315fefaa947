"""ONNX operators for ResNets, MobileNets and transformers, against onnx's reference evaluator: on
activations (eagerly and under ``jax.jit``), on constants (numpy results, also inside a ``jax.jit`` trace),
products on tiles, and refusals in one line."""

import jax
import numpy as np
import onnx
import pytest
from _onnx import array, check, init, load, load_error, node, onnx_model, reference
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

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
