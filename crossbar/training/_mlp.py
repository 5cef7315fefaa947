"""A small multilayer perceptron trained in JAX (Adam, softmax cross-entropy), exportable to ONNX."""

import jax
import jax.numpy as jnp
import numpy as np
import optax


def init_mlp(key: jax.Array, sizes: tuple[int, ...]) -> list[dict]:
    """MLP parameters for layer ``sizes``, e.g. (784, 256, 128, 10): [{"w": (IN, OUT), "b": (OUT,)}, ...]."""
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": jax.random.normal(k, (n_in, n_out)) * jnp.sqrt(2.0 / n_in), "b": jnp.zeros(n_out)}
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]


def mlp_apply(params: list[dict], x: jax.Array) -> jax.Array:
    """Logits (B, classes) of inputs x (B, IN): ReLU between layers."""
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"][None, :])
    return x @ params[-1]["w"] + params[-1]["b"][None, :]


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    sizes: tuple[int, ...],
    *,
    seed: int = 0,
    epochs: int = 10,
    batch: int = 128,
    learning_rate: float = 1e-3,
) -> list[dict]:
    """Train an MLP with Adam on softmax cross-entropy; x (N, IN), y (N,) integer labels."""
    key, shuffle_key = jax.random.split(jax.random.key(seed))
    params = init_mlp(key, sizes)
    optimizer = optax.adam(learning_rate)
    state = optimizer.init(params)

    def loss(p, xb, yb):
        return optax.softmax_cross_entropy_with_integer_labels(mlp_apply(p, xb), yb).mean()

    @jax.jit
    def epoch(carry, order):
        def step(carry, indices):
            p, s = carry
            grads = jax.grad(loss)(p, x[indices], y[indices])
            updates, s = optimizer.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), None

        return jax.lax.scan(step, carry, order)[0]

    steps = len(x) // batch
    x, y = jnp.asarray(x), jnp.asarray(y)
    carry = (params, state)
    for k in jax.random.split(shuffle_key, epochs):
        carry = epoch(carry, jax.random.permutation(k, len(x))[: steps * batch].reshape(steps, batch))
    return carry[0]


def accuracy(logits: jax.Array, y: np.ndarray) -> float:
    """Fraction of rows whose largest logit is the label."""
    return float(jnp.mean(jnp.argmax(logits, axis=-1) == jnp.asarray(y)))


def mlp_onnx_bytes(params: list[dict]) -> bytes:
    """The MLP as an ONNX model (opset 17): Gemm and Relu nodes, input "x" (N, IN), output "logits"."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers, current = [], [], "x"
    for index, layer in enumerate(params):
        name = f"fc{index + 1}"
        initializers += [
            numpy_helper.from_array(np.asarray(layer["w"], np.float32), f"{name}.weight"),
            numpy_helper.from_array(np.asarray(layer["b"], np.float32), f"{name}.bias"),
        ]
        last = index == len(params) - 1
        output = "logits" if last else f"{name}.out"
        nodes.append(
            helper.make_node("Gemm", [current, f"{name}.weight", f"{name}.bias"], [output], name=name)
        )
        if not last:
            nodes.append(helper.make_node("Relu", [output], [f"{name}.relu"], name=f"{name}.relu"))
            output = f"{name}.relu"
        current = output
    n_in, n_out = np.shape(params[0]["w"])[0], np.shape(params[-1]["w"])[1]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", n_out])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()
