"""ONNX import: every supported operator against onnx's reference evaluator, the crossbar layers a model
holds, the ``on_product`` hook, and bad files."""

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import pytest
from _onnx import array, check, init, load, load_error, node, onnx_model, reference
from onnx import TensorProto, helper, numpy_helper

from crossbar.networks import load_onnx

# ---------------------------------------------------------------------------------------------------------
# Operators, one (or a few) at a time, against the reference evaluator.

_GEMM = [
    ("plain", {}, (5,), (5, 4), (4,)),
    ("transB", {"transB": 1}, (5,), (4, 5), (4,)),
    ("transA", {"transA": 1}, (3,), (2, 4), (4,)),  # A = x.T is (3, 2)
    ("alpha beta, C scalar", {"alpha": 0.5, "beta": 2.0}, (5,), (5, 4), ()),
    ("C row", {"beta": -1.5}, (5,), (5, 4), (1, 4)),
    ("C column", {}, (5,), (5, 4), (2, 1)),
    ("C full", {"transB": 1, "alpha": 3.0}, (5,), (4, 5), (2, 4)),
    ("no C", {"transA": 0, "transB": 1}, (5,), (4, 5), None),
]


@pytest.mark.parametrize(
    ("attrs", "x_shape", "b_shape", "c_shape"), [c[1:] for c in _GEMM], ids=[c[0] for c in _GEMM]
)
def test_gemm(attrs, x_shape, b_shape, c_shape, tmp_path):
    inits = [init("B", array(*b_shape))] + ([] if c_shape is None else [init("C", array(*c_shape))])
    names = ["x", "B"] + ([] if c_shape is None else ["C"])
    check([node("Gemm", names, **attrs)], inits, x_shape, tmp_path)


def test_gemm_with_an_activation_as_b(tmp_path):
    nodes = [node("Relu", ["x"], ["r"]), node("Gemm", ["A", "r"], transB=1)]
    check(nodes, [init("A", array(3, 5))], (5,), tmp_path)


_MATMUL = [
    ("2-D x, constant W", (5,), lambda: [node("MatMul", ["x", "W"])], (5, 3)),
    ("3-D x, constant W", (4, 5), lambda: [node("MatMul", ["x", "W"])], (5, 3)),
    ("4-D x, constant W", (2, 4, 5), lambda: [node("MatMul", ["x", "W"])], (5, 3)),
    ("constant W, 3-D x", (5, 4), lambda: [node("MatMul", ["W", "x"])], (3, 5)),
    ("3-D x, constant batched W", (4, 5), lambda: [node("MatMul", ["x", "W"])], (1, 5, 3)),
    ("3-D x, constant vector", (4, 5), lambda: [node("MatMul", ["x", "W"])], (5,)),
    (
        "two activations, 3-D",
        (4, 5),
        lambda: [node("Transpose", ["x"], ["t"], perm=[0, 2, 1]), node("MatMul", ["x", "t"])],
        None,
    ),
    (
        "two activations, 2-D",
        (5,),
        lambda: [node("Transpose", ["x"], ["t"]), node("MatMul", ["x", "t"])],
        None,
    ),
    (
        "two activations, 3-D and 2-D",
        (4, 5),
        lambda: [
            node("Transpose", ["x"], ["t"], perm=[1, 2, 0]),
            node("Reshape", ["t", "s"], ["r"]),
            node("MatMul", ["x", "r"]),
        ],
        None,
    ),
]


@pytest.mark.parametrize(
    ("x_shape", "nodes", "w_shape"), [c[1:] for c in _MATMUL], ids=[c[0] for c in _MATMUL]
)
@pytest.mark.slow
def test_matmul(x_shape, nodes, w_shape, tmp_path):
    inits = [init("s", np.array([5, 8], np.int64))] + (
        [] if w_shape is None else [init("W", array(*w_shape))]
    )
    check(nodes(), inits, x_shape, tmp_path)


_BROADCAST = [(), (5,), (4, 1), (3, 1, 1), (1, 3, 1, 5), (2, 3, 4, 5)]


@pytest.mark.parametrize("op", ["Add", "Mul"])
@pytest.mark.parametrize("c_shape", _BROADCAST, ids=str)
@pytest.mark.parametrize("constant_first", [False, True])
@pytest.mark.slow
def test_add_mul_broadcast_constants(op, c_shape, constant_first, tmp_path):
    names = ["C", "x"] if constant_first else ["x", "C"]
    check([node(op, names)], [init("C", array(*c_shape))], (3, 4, 5), tmp_path)


@pytest.mark.parametrize("op", ["Add", "Mul"])
def test_add_mul_of_activations_and_of_constants(op, tmp_path):
    nodes = [
        node(op, ["A", "B"], ["c"]),  # constants only: evaluated with numpy
        node("Tanh", ["x"], ["t"]),
        node(op, ["x", "t"], ["u"]),
        node("Identity", ["u"], ["v"]),
        node(op, ["v", "c"]),
    ]
    check(nodes, [init("A", array(4, 1)), init("B", array(5))], (3, 4, 5), tmp_path)


@pytest.mark.parametrize("op", ["Relu", "Sigmoid", "Tanh", "Identity"])
def test_elementwise(op, tmp_path):
    check([node(op, ["x"])], [], (3, 4), tmp_path)


def _softmax_flattened(x: np.ndarray, axis: int) -> np.ndarray:
    """Softmax before opset 13: over the input flattened to 2-D at ``axis``, computed by hand (onnx's
    reference evaluator applies the opset-13 semantics to every opset)."""
    flat = x.reshape(int(np.prod(x.shape[:axis])), -1).astype(np.float64)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape).astype(np.float32)


@pytest.mark.parametrize(
    ("opset", "attrs"), [(11, {}), (11, {"axis": 0}), (11, {"axis": 2}), (11, {"axis": -2})], ids=str
)
def test_softmax_before_opset_13_flattens(opset, attrs, tmp_path):
    axis = attrs.get("axis", 1)
    check(
        [node("Softmax", ["x"], **attrs)], [], (3, 4), tmp_path, opset, lambda x: _softmax_flattened(x, axis)
    )


@pytest.mark.parametrize(
    ("opset", "attrs"), [(13, {}), (13, {"axis": 1}), (17, {"axis": 0}), (17, {"axis": -2})], ids=str
)
def test_softmax(opset, attrs, tmp_path):
    check([node("Softmax", ["x"], **attrs)], [], (3, 4), tmp_path, opset=opset)


def test_softmax_opsets_differ(tmp_path):
    """The two semantics differ on a 3-D input, so the opset is honoured (not just both equal by chance)."""
    x = array(2, 3, 4)
    outputs = []
    for opset in (11, 13):
        model = load(
            onnx_model([node("Softmax", ["x"])], [], (3, 4), opset), tmp_path, f"softmax{opset}.onnx"
        )
        outputs.append(np.asarray(model.apply(model.params, x)))
    np.testing.assert_allclose(outputs[0].sum(axis=(1, 2)), 1.0, rtol=1e-5)
    np.testing.assert_allclose(outputs[1].sum(axis=2), 1.0, rtol=1e-5)


_CONV = [
    # name, input (C, *spatial), kernel (OUT, IN/groups, *k), attributes, bias
    ("2-D", (3, 7, 6), (4, 3, 3, 3), {}, True),
    ("2-D no bias", (3, 7, 6), (4, 3, 3, 2), {}, False),
    ("kernel_shape attribute", (3, 7, 6), (4, 3, 3, 3), {"kernel_shape": [3, 3]}, True),
    ("strides", (3, 9, 8), (4, 3, 3, 3), {"strides": [2, 3]}, True),
    ("explicit pads", (3, 7, 6), (4, 3, 3, 3), {"pads": [1, 0, 2, 1]}, True),
    ("strides and pads", (3, 9, 8), (4, 3, 3, 2), {"strides": [2, 2], "pads": [0, 1, 1, 0]}, True),
    ("dilations", (3, 9, 8), (4, 3, 3, 2), {"dilations": [2, 3], "pads": [1, 1, 1, 1]}, True),
    ("groups", (4, 7, 6), (6, 2, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}, True),
    ("depthwise", (3, 7, 6), (3, 1, 3, 3), {"group": 3, "strides": [2, 1]}, True),
    ("depthwise multiplier 2", (3, 7, 6), (6, 1, 3, 3), {"group": 3}, False),
    ("SAME_UPPER", (3, 7, 6), (4, 3, 4, 3), {"auto_pad": "SAME_UPPER"}, True),
    ("SAME_LOWER", (3, 7, 6), (4, 3, 4, 3), {"auto_pad": "SAME_LOWER"}, True),
    ("SAME_UPPER strided", (3, 9, 8), (4, 3, 2, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 3]}, True),
    ("SAME_LOWER strided", (3, 9, 8), (4, 3, 2, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 3]}, True),
    ("VALID", (3, 9, 8), (4, 3, 3, 3), {"auto_pad": "VALID", "strides": [2, 2]}, True),
    ("1-D", (3, 10), (5, 3, 3), {}, True),
    (
        "1-D strides pads dilations",
        (3, 12),
        (5, 3, 3),
        {"strides": [2], "pads": [2, 1], "dilations": [2]},
        True,
    ),
    ("1-D groups", (4, 10), (6, 2, 2), {"group": 2, "auto_pad": "SAME_UPPER"}, False),
    ("3-D", (2, 5, 4, 4), (3, 2, 2, 3, 2), {"pads": [0, 1, 0, 1, 0, 1]}, True),
]


@pytest.mark.parametrize(
    ("x_shape", "kernel", "attrs", "bias"), [c[1:] for c in _CONV], ids=[c[0] for c in _CONV]
)
@pytest.mark.slow
def test_conv(x_shape, kernel, attrs, bias, tmp_path):
    inits = [init("W", array(*kernel))] + ([init("b", array(kernel[0]))] if bias else [])
    check([node("Conv", ["x", "W", "b"] if bias else ["x", "W"], **attrs)], inits, x_shape, tmp_path)


_POOL = [
    # op, input (C, *spatial), attributes, opset
    ("MaxPool", (2, 7, 6), {"kernel_shape": [2, 2]}, 17),
    ("MaxPool", (2, 7, 6), {"kernel_shape": [3, 2], "strides": [2, 2]}, 17),
    ("MaxPool", (2, 7, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 1, 1]}, 17),
    ("MaxPool", (2, 9, 8), {"kernel_shape": [2, 3], "dilations": [2, 2], "pads": [1, 1, 0, 1]}, 17),
    ("MaxPool", (2, 7, 6), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, 17),
    (
        "MaxPool",
        (2, 7, 7),
        {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "pads": [1, 1, 1, 1]},
        17,
    ),
    (
        "MaxPool",
        (2, 5, 6),
        {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1, "pads": [1, 1, 1, 1]},
        17,
    ),
    (
        "MaxPool",
        (2, 9, 8),
        {"kernel_shape": [2, 2], "strides": [3, 3], "dilations": [2, 1], "ceil_mode": 1},
        17,
    ),
    ("MaxPool", (2, 11), {"kernel_shape": [3], "strides": [2], "pads": [1, 1], "ceil_mode": 1}, 17),
    ("AveragePool", (2, 7, 6), {"kernel_shape": [2, 2]}, 17),
    ("AveragePool", (2, 7, 6), {"kernel_shape": [3, 2], "strides": [2, 2]}, 17),
    ("AveragePool", (2, 7, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 1, 1]}, 17),
    ("AveragePool", (2, 7, 6), {"kernel_shape": [3, 3], "pads": [1, 0, 1, 1], "count_include_pad": 1}, 17),
    ("AveragePool", (2, 7, 6), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, 17),
    (
        "AveragePool",
        (2, 7, 7),
        {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "pads": [1, 1, 1, 1]},
        17,
    ),
    (
        "AveragePool",
        (2, 7, 7),
        {
            "kernel_shape": [3, 3],
            "strides": [2, 2],
            "ceil_mode": 1,
            "pads": [1, 1, 1, 1],
            "count_include_pad": 1,
        },
        17,
    ),
    (
        "AveragePool",
        (2, 8, 6),
        {"kernel_shape": [3, 2], "strides": [2, 2], "ceil_mode": 1, "count_include_pad": 1},
        17,
    ),
    (
        "AveragePool",
        (2, 11),
        {"kernel_shape": [3], "strides": [2], "pads": [1, 1], "count_include_pad": 1},
        17,
    ),
    ("AveragePool", (2, 9, 8), {"kernel_shape": [2, 3], "dilations": [2, 2], "pads": [1, 1, 0, 1]}, 19),
]


@pytest.mark.parametrize(("op", "x_shape", "attrs", "opset"), _POOL, ids=[f"{c[0]}-{c[2]}" for c in _POOL])
@pytest.mark.slow
def test_pool(op, x_shape, attrs, opset, tmp_path):
    check([node(op, ["x"], **attrs)], [], x_shape, tmp_path, opset=opset)


_AUTO_PAD = [
    # input (C, *spatial), attributes, auto_pad, its explicit pads (begins, then ends)
    ((2, 7, 6), {"kernel_shape": [2, 3], "strides": [2, 1]}, "SAME_UPPER", [0, 1, 1, 1]),
    ((2, 7, 6), {"kernel_shape": [2, 3], "strides": [2, 1]}, "SAME_LOWER", [1, 1, 0, 1]),
    ((2, 7, 6), {"kernel_shape": [2, 3], "strides": [2, 2]}, "VALID", [0, 0, 0, 0]),
    ((2, 10), {"kernel_shape": [4], "strides": [3]}, "SAME_UPPER", [1, 2]),
    ((2, 10), {"kernel_shape": [4], "strides": [3]}, "SAME_LOWER", [2, 1]),
    ((2, 10), {"kernel_shape": [4], "strides": [3], "ceil_mode": 1}, "SAME_LOWER", [2, 1]),
    ((2, 7, 6), {"kernel_shape": [2, 3], "strides": [2, 2], "ceil_mode": 1}, "VALID", [0, 0, 0, 0]),
]
_AUTO_PAD_CASES = [
    (op, *case, extra)
    for case in _AUTO_PAD
    for op, extra in [("MaxPool", {}), ("AveragePool", {}), ("AveragePool", {"count_include_pad": 1})]
] + [
    ("MaxPool", (2, 9), {"kernel_shape": [2], "strides": [2], "dilations": [3]}, "SAME_UPPER", [1, 2], {}),
    ("MaxPool", (2, 9), {"kernel_shape": [2], "strides": [2], "dilations": [3]}, "SAME_LOWER", [2, 1], {}),
]


@pytest.mark.parametrize(("op", "x_shape", "attrs", "auto_pad", "pads", "extra"), _AUTO_PAD_CASES, ids=str)
@pytest.mark.slow
def test_pool_auto_pad(op, x_shape, attrs, auto_pad, pads, extra, tmp_path):
    """auto_pad pools as the specification's explicit pads (output size ceil(input / stride), an odd padding's
    extra element at the end for SAME_UPPER, at the begin for SAME_LOWER; ceil_mode changes nothing, VALID's
    output size with it being the floor one). The reference evaluator's MaxPool gets SAME_LOWER wrong, so
    the reference is the same pool with the pads written out."""
    floor = {name: value for name, value in attrs.items() if name != "ceil_mode"}  # no change with auto_pad
    explicit = onnx_model([node(op, ["x"], pads=pads, **floor, **extra)], [], x_shape)
    check(
        [node(op, ["x"], auto_pad=auto_pad, **attrs, **extra)],
        [],
        x_shape,
        tmp_path,
        expected=lambda x: reference(explicit, x),
    )


@pytest.mark.parametrize("x_shape", [(3, 5, 4), (3, 6), (2, 3, 2, 4)], ids=str)
def test_global_average_pool(x_shape, tmp_path):
    check([node("GlobalAveragePool", ["x"])], [], x_shape, tmp_path)


@pytest.mark.parametrize(
    ("x_shape", "attrs"), [((3, 5, 4), {}), ((3,), {"epsilon": 0.1}), ((3, 6), {})], ids=str
)
def test_batch_normalization(x_shape, attrs, tmp_path):
    channels = x_shape[0]
    inits = [
        init("scale", array(channels)),
        init("bias", array(channels)),
        init("mean", array(channels)),
        init("var", np.abs(array(channels)) + 0.2),
    ]
    check(
        [node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], **attrs)],
        inits,
        x_shape,
        tmp_path,
    )


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -3])
def test_flatten(axis, tmp_path):
    check([node("Flatten", ["x"], axis=axis)], [], (3, 4, 5), tmp_path)


def test_flatten_default_axis(tmp_path):
    check([node("Flatten", ["x"])], [], (3, 4, 5), tmp_path)


@pytest.mark.parametrize(
    ("shape", "attrs"),
    [
        ([0, -1], {}),
        ([-1, 20], {}),
        ([0, 0, -1], {}),
        ([0, 0, 5, 4], {}),
        ([2, 60], {}),
        ([2, 3, 20], {"allowzero": 1}),
        ([-1], {}),
    ],
    ids=str,
)
def test_reshape(shape, attrs, tmp_path):
    check([node("Reshape", ["x", "s"], **attrs)], [init("s", np.array(shape, np.int64))], (3, 4, 5), tmp_path)


@pytest.mark.parametrize("perm", [None, [0, 2, 3, 1], [2, 0, 1, 3]], ids=str)
def test_transpose(perm, tmp_path):
    attrs = {} if perm is None else {"perm": perm}
    check([node("Transpose", ["x"], **attrs)], [], (3, 4, 5), tmp_path)


@pytest.mark.parametrize(
    ("axis", "c_shape"), [(1, (2, 2, 4)), (2, (2, 3, 1)), (-1, (2, 3, 3)), (0, (1, 3, 4))], ids=str
)
def test_concat(axis, c_shape, tmp_path):
    nodes = [node("Relu", ["x"], ["r"]), node("Concat", ["x", "C", "r"], axis=axis)]
    check(nodes, [init("C", array(*c_shape))], (3, 4), tmp_path)


def test_concat_of_constants_feeds_a_reshape(tmp_path):
    nodes = [node("Concat", ["a", "b"], ["s"], axis=0), node("Reshape", ["x", "s"])]
    inits = [init("a", np.array([0], np.int64)), init("b", np.array([4, -1], np.int64))]
    check(nodes, inits, (2, 3, 4), tmp_path)


@pytest.mark.parametrize(
    ("opset", "inputs", "outputs"),
    [
        (17, ["x"], ["y"]),
        (17, ["x"], ["y", "mask"]),
        (17, ["x", "ratio"], ["y", "mask"]),
        (17, ["x", "ratio", "training"], ["y", "mask"]),
        (10, ["x"], ["y", "mask"]),
        (7, ["x"], ["y"]),
    ],
    ids=str,
)
def test_dropout_is_identity_at_inference(opset, inputs, outputs, tmp_path):
    attrs = {"ratio": 0.3} if opset < 12 else {}
    nodes = [node("Dropout", inputs, outputs, **attrs), node("Relu", ["y"], ["z"])]
    inits = [init("ratio", np.float32(0.3)), init("training", np.bool_(False))]
    model = onnx_model(nodes, inits[: len(inputs) - 1], (3, 4), opset, output="z")
    loaded = load(model, tmp_path)
    x = array(2, 3, 4)
    np.testing.assert_allclose(np.asarray(loaded.apply(loaded.params, x)), reference(model, x), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(loaded.apply(loaded.params, x)), np.maximum(x, 0))


@pytest.mark.parametrize(
    ("opset", "inputs", "attrs"),
    [
        (6, ["x"], {"min": -0.5, "max": 0.7}),
        (6, ["x"], {"min": -0.5}),
        (6, ["x"], {"max": 0.7}),
        (6, ["x"], {}),
        (11, ["x", "lo", "hi"], {}),
        (11, ["x", "lo"], {}),
        (11, ["x", "", "hi"], {}),
        (17, ["x", "lo", "hi"], {}),
        (17, ["x", "lo"], {}),
        (17, ["x", "", "hi"], {}),
        (17, ["x"], {}),
    ],
    ids=str,
)
def test_clip(opset, inputs, attrs, tmp_path):
    inits = [init("lo", np.float32(-0.5)), init("hi", np.float32(0.7))]
    check([node("Clip", inputs, **attrs)], inits, (3, 4), tmp_path, opset=opset)


@pytest.mark.parametrize(
    "value",
    [
        {"value": numpy_helper.from_array(np.linspace(-1, 1, 4, dtype=np.float32).reshape(1, 4), "v")},
        {"value_float": 0.25},
        {"value_floats": [0.5, -1.0, 2.0, 0.0]},
    ],
    ids=["tensor", "float", "floats"],
)
def test_constant(value, tmp_path):
    nodes = [helper.make_node("Constant", [], ["c"], name="const", **value), node("Mul", ["x", "c"])]
    check(nodes, [], (3, 4), tmp_path)


def test_constant_shape_for_reshape(tmp_path):
    """PyTorch exports a Reshape's shape as a Constant node: it stays static."""
    nodes = [
        helper.make_node("Constant", [], ["s"], value_ints=[0, -1]),
        node("Reshape", ["x", "s"], ["r"]),
        node("Gemm", ["r", "W"]),
    ]
    check(nodes, [init("W", array(12, 3))], (3, 4), tmp_path)


# ---------------------------------------------------------------------------------------------------------
# Whole networks.


def _mlp_onnx() -> tuple[onnx.ModelProto, dict]:
    """Gemm-Relu-Gemm; the first Gemm holds its weight transposed (transB=1), as PyTorch exports it."""
    weights = {"W1": array(8, 6), "b1": array(8), "W2": array(8, 3), "b2": array(3)}
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], name="fc2"),
    ]
    inits = [init(name, value) for name, value in weights.items()]
    return onnx_model(nodes, inits, (6,)), weights


def _cnn_onnx() -> tuple[onnx.ModelProto, dict]:
    weights = {
        "K1": array(4, 1, 3, 3),
        "c1": array(4),
        "scale": array(4),
        "shift": array(4),
        "mean": array(4),
        "var": np.abs(array(4)) + 0.5,
        "K2": array(6, 4, 3, 3),
        "W": array(3, 6),
        "b": array(3),
    }
    nodes = [
        helper.make_node("Conv", ["x", "K1", "c1"], ["c"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"], name="bn"),
        helper.make_node("Relu", ["n"], ["r"], name="relu1"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "K2"], ["d"], name="conv2"),
        helper.make_node("Relu", ["d"], ["s"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["s"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "W", "b"], ["z"], name="fc", transB=1),
        helper.make_node("Softmax", ["z"], ["y"], name="softmax"),
    ]
    inits = [init(name, value) for name, value in weights.items()]
    return onnx_model(nodes, inits, (1, 10, 9)), weights


@pytest.mark.parametrize("network", [_mlp_onnx, _cnn_onnx], ids=["mlp", "cnn"])
def test_network_end_to_end(network, tmp_path):
    model, _ = network()
    loaded = load(model, tmp_path)
    x = array(5, *loaded.input_shape)
    expected = reference(model, x)
    np.testing.assert_allclose(np.asarray(loaded.apply(loaded.params, x)), expected, rtol=1e-5, atol=1e-6)
    jitted = jax.jit(lambda x: loaded.apply(loaded.params, x))
    np.testing.assert_allclose(np.asarray(jitted(x)), expected, rtol=1e-5, atol=1e-6)


def test_loaded_model_fields(tmp_path):
    model, weights = _mlp_onnx()
    loaded = load(model, tmp_path)
    assert (loaded.input_name, loaded.input_shape, loaded.output_name) == ("x", (6,), "y")
    assert loaded.path == str(tmp_path / "model.onnx")
    assert set(loaded.params) == set(weights)
    for name, value in weights.items():
        np.testing.assert_array_equal(loaded.params[name], value)


def test_initializers_listed_as_inputs_are_not_inputs(tmp_path):
    """Older exporters list every initializer among the graph inputs too."""
    weight = array(6, 3)
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6]),
        helper.make_tensor_value_info("W", TensorProto.FLOAT, [6, 3]),
    ]
    model = onnx_model([node("MatMul", ["x", "W"])], [init("W", weight)], (6,), inputs=inputs)
    loaded = load(model, tmp_path)
    assert loaded.input_name == "x"
    x = array(2, 6)
    np.testing.assert_allclose(np.asarray(loaded.apply(loaded.params, x)), x @ weight, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------
# The crossbar layers: matrix products with a constant weight.


def test_matrix_layers_of_an_mlp(tmp_path):
    """A transposed Gemm weight (OUT, IN) is held as (IN, OUT); each dense layer is one product per input."""
    model, weights = _mlp_onnx()
    layers = load(model, tmp_path).matrix_layers()
    assert [(layer.name, layer.mvms_per_inference) for layer in layers] == [("fc1", 1), ("fc2", 1)]
    np.testing.assert_array_equal(layers[0].weight, weights["W1"].T)
    np.testing.assert_array_equal(layers[1].weight, weights["W2"])
    assert layers[0].weight.shape == (6, 8)
    assert all(layer.weight.dtype == np.float64 for layer in layers)


def test_matrix_layers_of_matmuls(tmp_path):
    """A MatMul with a constant 2-D weight is a layer with one product per row of its activation; a MatMul of
    two activations, or of a constant on the left, is not a crossbar layer."""
    weight = array(5, 3)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"]),  # unnamed: named by its output
        node("Transpose", ["m"], ["t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["m", "t"], ["s"], name="attention"),
        helper.make_node("MatMul", ["L", "s"], ["y"], name="left"),
    ]
    model = onnx_model(nodes, [init("W", weight), init("L", array(2, 4))], (4, 5))
    loaded = load(model, tmp_path)
    layers = loaded.matrix_layers()
    assert [(layer.name, layer.mvms_per_inference) for layer in layers] == [("m", 4)]
    np.testing.assert_array_equal(layers[0].weight, weight)
    x = array(2, 4, 5)
    np.testing.assert_allclose(np.asarray(loaded.apply(loaded.params, x)), reference(model, x), rtol=1e-5)


def test_matrix_layers_of_a_cnn_in_graph_order(tmp_path):
    model, weights = _cnn_onnx()
    layers = load(model, tmp_path).matrix_layers()
    # conv1 keeps the 10 x 9 input (padding 1); conv2 sees the 5 x 4 pooled map, 3 x 2 after a 3 x 3 kernel
    assert [(layer.name, layer.weight.shape, layer.mvms_per_inference) for layer in layers] == [
        ("conv1", (1 * 9, 4), 90),
        ("conv2", (4 * 9, 6), 6),
        ("fc", (6, 3), 1),
    ]
    np.testing.assert_array_equal(layers[1].weight, weights["K2"].reshape(6, -1).T)
    np.testing.assert_array_equal(layers[2].weight, weights["W"].T)


_UNROLL = [
    # input (C, *spatial), kernel (OUT, IN/groups, *k), attributes
    ((3, 9, 8), (4, 3, 3, 2), {"strides": [2, 2], "pads": [1, 0, 1, 1], "dilations": [1, 2]}),
    ((4, 7, 6), (6, 2, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}),
    ((3, 7, 6), (6, 1, 2, 3), {"group": 3, "strides": [1, 2]}),
    ((4, 12), (6, 2, 3), {"group": 2, "strides": [2], "pads": [2, 1], "dilations": [2]}),
    ((3, 7, 6), (4, 3, 4, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 1]}),
]


@pytest.mark.parametrize(("x_shape", "kernel_shape", "attrs"), _UNROLL, ids=str)
@pytest.mark.slow
def test_convolution_is_patches_times_unrolled_matrices(x_shape, kernel_shape, attrs, tmp_path):
    """Each group's matrix is its kernel slice unrolled to (IN/groups * kernel, OUT/groups), named
    NODE/groupG when there are groups, with one product per output position; and the convolution equals each
    group's input patches, flattened channel-major as ``conv_general_dilated_patches`` gives them, times its
    matrix."""
    kernel = array(*kernel_shape)
    model = onnx_model([node("Conv", ["x", "K"], **attrs)], [init("K", kernel)], x_shape)
    loaded = load(model, tmp_path)
    x = array(2, *x_shape)
    y = np.asarray(loaded.apply(loaded.params, x))
    np.testing.assert_allclose(y, reference(model, x), rtol=1e-5, atol=1e-5)

    groups = attrs.get("group", 1)
    layers = loaded.matrix_layers()
    names = ["conv_node"] if groups == 1 else [f"conv_node/group{g}" for g in range(groups)]
    assert [layer.name for layer in layers] == names
    positions = int(np.prod(y.shape[2:]))
    assert {layer.mvms_per_inference for layer in layers} == {positions}

    out, per_group, *window = kernel_shape
    spatial = len(window)
    strides = attrs.get("strides", [1] * spatial)
    dilations = attrs.get("dilations", [1] * spatial)
    if "auto_pad" not in attrs:
        pads = list(
            zip(*np.reshape(attrs.get("pads", [0] * 2 * spatial), (2, spatial)).tolist(), strict=True)
        )
    else:  # SAME_LOWER: the explicit pads the output size asks for, the odd one at the begin
        totals = [
            max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            for n, k, s, d in zip(x_shape[1:], window, strides, dilations, strict=True)
        ]
        pads = [(t - t // 2, t // 2) for t in totals]
    for g, layer in enumerate(layers):
        slice_ = kernel[g * out // groups : (g + 1) * out // groups]
        assert layer.weight.shape == (per_group * int(np.prod(window)), out // groups)
        np.testing.assert_array_equal(layer.weight, slice_.reshape(out // groups, -1).T)
        patches = jax.lax.conv_general_dilated_patches(
            x[:, g * per_group : (g + 1) * per_group], window, strides, pads, rhs_dilation=dilations
        )
        assert patches.shape[2:] == y.shape[2:]
        rows = np.moveaxis(np.asarray(patches), 1, -1).reshape(-1, layer.weight.shape[0])
        product = (rows.astype(np.float64) @ layer.weight).reshape(2, *y.shape[2:], -1)
        np.testing.assert_allclose(
            np.moveaxis(product, -1, 1),
            y[:, g * out // groups : (g + 1) * out // groups],
            rtol=1e-5,
            atol=1e-5,
        )


# ---------------------------------------------------------------------------------------------------------
# on_product: the matrix products with a constant weight, evaluated by the caller (a crossbar).


class _Doubling:
    """An on_product hook that records each product and returns twice the digital result."""

    def __init__(self):
        self.products = []

    def __call__(self, product):
        self.products.append(product)
        return 2 * product.digital()


def test_on_product_replaces_exactly_the_products_of_an_mlp(tmp_path):
    model, w = _mlp_onnx()
    loaded = load(model, tmp_path)
    x = array(4, 6)

    def mlp(x, factor):
        return (
            factor * (np.maximum(factor * (x.astype(np.float64) @ w["W1"].T) + w["b1"], 0) @ w["W2"])
            + w["b2"]
        )

    expected = mlp(x, 2)
    assert np.abs(expected - mlp(x, 1)).max() > 1.0

    hook = _Doubling()
    np.testing.assert_allclose(
        np.asarray(loaded.apply(loaded.params, x, hook)), expected, rtol=1e-5, atol=1e-5
    )
    assert [p.name for p in hook.products] == ["fc1", "fc2"]
    np.testing.assert_array_equal(hook.products[0].weight, w["W1"].T)
    np.testing.assert_array_equal(hook.products[1].weight, w["W2"])
    assert all((p.kernel, p.groups, p.positions) == (None, 1, ()) for p in hook.products)

    hook = _Doubling()
    jitted = jax.jit(lambda x: loaded.apply(loaded.params, x, hook))
    np.testing.assert_allclose(np.asarray(jitted(x)), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(jitted(-x)), mlp(-x, 2), rtol=1e-5, atol=1e-5)
    assert len(hook.products) == 2  # traced once


def test_on_product_gets_the_product_before_alpha_and_c(tmp_path):
    weight, bias = array(5, 3), array(3)
    nodes = [node("Gemm", ["x", "W", "C"], alpha=0.5, beta=3.0)]
    loaded = load(onnx_model(nodes, [init("W", weight), init("C", bias)], (5,)), tmp_path)
    x = array(3, 5)
    y = loaded.apply(loaded.params, jnp.asarray(x), _Doubling())
    np.testing.assert_allclose(np.asarray(y), x @ weight + 3.0 * bias, rtol=1e-5, atol=1e-5)


def test_on_product_of_convolutions(tmp_path):
    """A convolution's product (before its bias) goes through the hook, one call for all its groups."""
    kernel, bias = array(6, 2, 3, 3), array(6)
    nodes = [node("Conv", ["x", "K", "b"], group=2, strides=[2, 1])]
    model = onnx_model(nodes, [init("K", kernel), init("b", bias)], (4, 7, 6))
    loaded = load(model, tmp_path)
    x = array(2, 4, 7, 6)
    hook = _Doubling()
    y = np.asarray(loaded.apply(loaded.params, x, hook))
    expected = 2 * reference(model, x) - bias[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    [product] = hook.products
    assert (product.name, product.weight, product.groups, product.positions) == ("conv_node", None, 2, (3, 4))
    np.testing.assert_array_equal(product.kernel, kernel)


def test_on_product_skips_products_of_activations(tmp_path):
    """MatMul of two activations runs digitally; a MatMul with a constant weight of a 3-D activation calls
    the hook once, with its rows as positions (also for a numpy input)."""
    weight = array(5, 3)
    nodes = [
        node("MatMul", ["x", "W"], ["m"]),
        node("Transpose", ["m"], ["t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["m", "t"], ["y"], name="gram"),
    ]
    model = onnx_model(nodes, [init("W", weight)], (4, 5))
    loaded = load(model, tmp_path)
    x = array(2, 4, 5)
    for x_in in (x, jnp.asarray(x)):
        hook = _Doubling()
        y = np.asarray(loaded.apply(loaded.params, x_in, hook))
        np.testing.assert_allclose(y, 4 * reference(model, x), rtol=1e-5, atol=1e-5)
        assert [(p.name, p.positions) for p in hook.products] == [("matmul_node", (4,))]


# ---------------------------------------------------------------------------------------------------------
# Bad files: one clear line each.


@pytest.mark.parametrize(
    "contents",
    [b"", b"\x08\x07garbage\xff\xfe not protobuf" * 7, b"ir_version: 8\nproducer_name: 'text'\n"],
    ids=["empty", "corrupt", "text"],
)
def test_bad_bytes(contents, tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(contents)
    assert "not a valid ONNX model" in load_error(path)


def test_truncated_file(tmp_path):
    data = _mlp_onnx()[0].SerializeToString()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert "not a valid ONNX model" in load_error(path)


def test_missing_file(tmp_path):
    assert "no such file" in load_error(tmp_path / "missing.onnx")


def _rnn():
    inits = [init("W", array(1, 2, 3)), init("R", array(1, 2, 2))]
    return helper.make_node("RNN", ["x", "W", "R"], ["h"], name="encoder/rnn", hidden_size=2), inits


@pytest.mark.parametrize(
    ("nodes", "inits", "output_rank", "operator", "node_name"),
    [
        ([helper.make_node("Hardmax", ["x"], ["y"], name="head/hardmax")], [], 2, "Hardmax", "head/hardmax"),
        ([helper.make_node("Hardmax", ["x"], ["y"])], [], 2, "Hardmax", "y"),
        ([_rnn()[0], helper.make_node("Identity", ["h"], ["y"])], _rnn()[1], 4, "RNN", "encoder/rnn"),
        (
            [node("Relu", ["x"], ["r"]), helper.make_node("Hardmax", ["r"], ["y"], name="e")],
            [],
            2,
            "Hardmax",
            "e",
        ),
    ],
    ids=["named", "unnamed", "rnn", "second node"],
)
def test_unsupported_operator(nodes, inits, output_rank, operator, node_name, tmp_path):
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c", "d"][:output_rank])]
    model = onnx_model(nodes, inits, (3,), outputs=outputs)
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    message = load_error(path)
    assert f"node {node_name!r}: operator {operator} is not supported" in message


def test_operator_of_another_domain(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="custom", domain="com.example")],
        "test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=opsets), path)
    assert "node 'custom'" in load_error(path)


def test_two_inputs_or_outputs(tmp_path):
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 3]) for name in ("x", "z")]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])]
    path = tmp_path / "model.onnx"
    onnx.save(onnx_model([node("Add", ["x", "z"])], [], (3,), inputs=inputs, outputs=outputs), path)
    assert "one input and one output, got 2 and 1" in load_error(path)
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 3]) for name in ("y", "r")]
    nodes = [node("Relu", ["x"], ["r"]), node("Tanh", ["x"])]
    onnx.save(onnx_model(nodes, [], (3,), outputs=outputs), path)
    assert "one input and one output, got 1 and 2" in load_error(path)


@pytest.mark.parametrize("dims", [["N", "C", 4], ["N"], [], ["N", 0]], ids=str)
def test_input_without_fixed_sizes(dims, tmp_path):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)]
    path = tmp_path / "model.onnx"
    onnx.save(onnx_model([node("Relu", ["x"])], [], (), inputs=inputs, outputs=outputs), path)
    assert "input 'x': expected a batch axis and fixed sizes after it" in load_error(path)


def test_a_graph_with_inconsistent_shapes_names_the_node(tmp_path):
    weight = numpy_helper.from_array(np.ones((5, 3), np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W"], ["y"], name="fc")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [weight],
    )
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(ValueError, match=r"^node 'fc' \(Gemm\): "):
        load_onnx(path).matrix_layers()


@pytest.mark.parametrize(
    "node, x_shape, weight_shape",
    [
        (helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"), (2, 3, 6), (6, 4)),
        (
            helper.make_node(
                "Conv", ["x", "w"], ["y"], name="conv", group=2, strides=[2, 1], pads=[1, 0, 0, 1]
            ),
            (2, 4, 7, 6),
            (6, 2, 3, 2),
        ),
        (helper.make_node("Conv", ["x", "w"], ["y"], name="conv1d", dilations=[2]), (3, 2, 9), (5, 2, 3)),
    ],
)
def test_a_product_as_rows_times_matrices_is_the_digital_product(node, x_shape, weight_shape, tmp_path):
    """What a crossbar computes, rows @ matrix per group, assembles to the model's own product."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal(weight_shape).astype(np.float32)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *x_shape[1:]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [f"d{i}" for i in range(len(x_shape))])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = onnx.helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    products = []

    def crossbar_like(product):
        products.append(product)
        rows = product.rows()
        assert [r.shape[0] for r in rows] == [x_shape[0] * int(np.prod(product.positions))] * product.groups
        return product.assemble([r @ m for r, m in zip(rows, product.matrices(), strict=True)])

    loaded = load(model, tmp_path)
    x = rng.standard_normal(x_shape).astype(np.float32)
    np.testing.assert_allclose(
        loaded.apply(loaded.params, x, crossbar_like), loaded.apply(loaded.params, x), rtol=1e-5, atol=1e-5
    )
    assert len(products) == 1
