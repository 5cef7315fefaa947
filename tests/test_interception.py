"""Interception of the matrix products of JAX functions (plain, Equinox, Flax) with weights from params."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crossbar.networks import intercept, matrix_layers, unroll_convolution


def _recorder(calls: list):
    """A hook computing each product as rows times matrices, the way a crossbar does, recording its name."""

    def hook(product):
        calls.append(product.name)
        return product.assemble([r @ m for r, m in zip(product.rows(), product.matrices(), strict=True)])

    return hook


def _doubling(product):
    return 2 * product.digital()


def _check(apply, params, x, products: int):
    """apply intercepted: digital equals apply; the crossbar form of the products matches; hook calls."""
    reference = np.asarray(apply(params, x))
    model = intercept(apply)
    np.testing.assert_allclose(model.apply(params, x), reference, rtol=1e-6, atol=1e-6)
    calls = []
    np.testing.assert_allclose(model.apply(params, x, _recorder(calls)), reference, rtol=1e-5, atol=1e-5)
    assert len(calls) == products
    return model


def _normal(seed: int, *shape) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _mlp(params, x, scale=1.0):
    """Three products, written three ways; ``scale`` multiplies each product."""
    h = jax.nn.relu(scale * (x @ params["w1"]) + params["b1"][None, :])
    h = jnp.tanh(scale * jnp.dot(h, params["w2"]))
    return scale * jnp.einsum("bi,io->bo", h, params["w3"])


_MLP_PARAMS = {"w1": _normal(0, 6, 5), "b1": _normal(1, 5), "w2": _normal(2, 5, 4), "w3": _normal(3, 4, 3)}


def test_plain_mlp_products_go_to_the_hook():
    x = _normal(4, 7, 6)
    model = _check(_mlp, _MLP_PARAMS, x, products=3)
    doubled = model.apply(_MLP_PARAMS, x, _doubling)
    np.testing.assert_allclose(doubled, _mlp(_MLP_PARAMS, x, scale=2.0), rtol=1e-6, atol=1e-6)
    layers = model.matrix_layers(_MLP_PARAMS, x)
    assert [layer.name for layer in layers] == ["dot_general_0", "dot_general_1", "dot_general_2"]
    for layer, name in zip(layers, ["w1", "w2", "w3"], strict=True):
        np.testing.assert_array_equal(layer.weight, _MLP_PARAMS[name])
        assert layer.mvms_per_inference == 1


def test_products_without_a_weight_from_params_stay_digital():
    def apply(params, x):
        gram = x @ x.T  # two activations
        from_x = x @ (params["w"] * jnp.mean(x))  # a weight computed from x
        not_params = x @ jnp.eye(4, dtype=x.dtype)  # a constant that is no parameter
        return x @ params["w"] + from_x + not_params + gram[:, :4]

    params = {"w": _normal(0, 4, 4)}
    x = _normal(1, 5, 4)
    model = _check(apply, params, x, products=1)
    w = params["w"]
    expected = 2 * (x @ w) + x @ (w * x.mean()) + x + (x @ x.T)[:, :4]
    np.testing.assert_allclose(model.apply(params, x, _doubling), expected, rtol=1e-5, atol=1e-5)
    assert [layer.name for layer in model.matrix_layers(params, x)] == ["dot_general_0"]


def test_weight_on_the_left_and_extra_axes():
    def apply(params, x):
        y = jax.vmap(lambda row: params["w"] @ row)(x)  # W @ x: (OUT, IN) on the left
        return jnp.einsum("btj,jo->bto", y[:, None, :] * params["t"][None, :, None], params["v"])

    params = {"w": _normal(0, 3, 6), "t": _normal(1, 4), "v": _normal(2, 3, 2)}
    x = _normal(3, 5, 6)
    model = _check(apply, params, x, products=2)
    layers = model.matrix_layers(params, jax.ShapeDtypeStruct(x.shape, x.dtype))
    np.testing.assert_array_equal(layers[0].weight, params["w"].T)
    np.testing.assert_array_equal(layers[1].weight, params["v"])
    assert [layer.mvms_per_inference for layer in layers] == [1, 4]  # (B, T, IN) rows: T per example


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.slow
def test_convolutions_in_either_layout(layout):
    kernels = {"k1": _normal(0, 4, 2, 3, 3), "k2": _normal(1, 6, 2, 2, 2)}  # OIHW; k2 has 2 groups
    kernel_spec = "OIHW" if layout == "NCHW" else "HWIO"
    params = {k: v if layout == "NCHW" else v.transpose(2, 3, 1, 0) for k, v in kernels.items()}
    params["w"] = _normal(2, 6 * 3 * 4, 5)
    numbers = (layout, kernel_spec, layout)

    def apply(params, x, scale=1.0):
        h = scale * jax.lax.conv_general_dilated(x, params["k1"], (1, 1), "SAME", dimension_numbers=numbers)
        h = scale * jax.lax.conv_general_dilated(
            jax.nn.relu(h),
            params["k2"],
            (2, 2),
            ((1, 0), (0, 1)),
            rhs_dilation=(2, 1),
            dimension_numbers=numbers,
            feature_group_count=2,
        )
        return scale * (jnp.reshape(h, (h.shape[0], -1)) @ params["w"])

    x = _normal(3, 2, 2, 6, 7) if layout == "NCHW" else _normal(3, 2, 6, 7, 2)
    model = _check(apply, params, x, products=3)
    doubled = model.apply(params, x, _doubling)
    np.testing.assert_allclose(doubled, apply(params, x, scale=2.0), rtol=1e-5, atol=1e-5)
    layers = model.matrix_layers(params, x)
    assert [layer.name for layer in layers] == ["conv_0", "conv_1/group0", "conv_1/group1", "dot_general_2"]
    np.testing.assert_array_equal(layers[0].weight, unroll_convolution(kernels["k1"]))
    for g, layer in enumerate(layers[1:3]):
        np.testing.assert_array_equal(layer.weight, unroll_convolution(kernels["k2"][3 * g : 3 * g + 3]))
    assert [layer.mvms_per_inference for layer in layers] == [6 * 7, 3 * 4, 3 * 4, 1]


@pytest.mark.slow
def test_equinox_models_under_vmap():
    key1, key2 = jax.random.split(jax.random.key(0))
    model = (eqx.nn.Conv2d(2, 4, 3, padding=1, key=key1), eqx.nn.MLP(4 * 5 * 5, 3, 8, 2, key=key2))

    def apply(model, x):
        return jax.vmap(lambda example: model[1](jnp.ravel(model[0](example))))(x)

    x = _normal(0, 3, 2, 5, 5)
    intercepted = _check(apply, model, x, products=4)
    layers = intercepted.matrix_layers(model, x)
    np.testing.assert_array_equal(layers[0].weight, unroll_convolution(np.asarray(model[0].weight)))
    for layer, linear in zip(layers[1:], model[1].layers, strict=True):
        np.testing.assert_array_equal(layer.weight, np.asarray(linear.weight).T)  # W @ x holds W.T
    assert [layer.mvms_per_inference for layer in layers] == [25, 1, 1, 1]


@pytest.mark.slow
def test_flax_dense_and_conv():
    nn = pytest.importorskip("flax.linen")

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Conv(4, (3, 3), strides=2)(x))
            return nn.Dense(3)(x.reshape(x.shape[0], -1))

    x = _normal(0, 2, 6, 6, 2)
    variables = Net().init(jax.random.key(0), x)
    model = _check(Net().apply, variables, x, products=2)
    conv, dense = model.matrix_layers(variables, x)
    kernel = np.asarray(variables["params"]["Conv_0"]["kernel"]).transpose(3, 2, 0, 1)
    np.testing.assert_array_equal(conv.weight, unroll_convolution(kernel))
    np.testing.assert_array_equal(dense.weight, variables["params"]["Dense_0"]["kernel"])
    assert (conv.mvms_per_inference, dense.mvms_per_inference) == (9, 1)


def test_products_inside_jit_checkpoint_and_custom_derivatives():
    @jax.jit
    def layer(w, x):
        return jax.nn.gelu(x @ w)

    @jax.custom_jvp
    def custom(w, x):
        return x @ w

    custom.defjvp(lambda primals, tangents: (custom(*primals), custom(primals[0], tangents[1])))

    def apply(params, x):
        h = jax.jit(lambda x: layer(params["a"], x))(x)
        h = jax.checkpoint(layer)(params["b"], h)
        return custom(params["c"], h)

    params = {"a": _normal(0, 4, 4), "b": _normal(1, 4, 4), "c": _normal(2, 4, 2)}
    _check(apply, params, _normal(3, 3, 4), products=3)


def test_calls_under_jit_vmap_and_grad_trace_apply_once_per_shape():
    traces = []

    def apply(params, x):
        traces.append(x.shape)
        return _mlp(params, x)

    model = intercept(apply)
    x = _normal(0, 7, 6)
    reference = _mlp(_MLP_PARAMS, x)
    calls = []
    hook = _recorder(calls)
    jitted = jax.jit(lambda x: model.apply(_MLP_PARAMS, x, hook))
    np.testing.assert_allclose(jitted(x), reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jitted(2 * x), _mlp(_MLP_PARAMS, 2 * x), rtol=1e-5, atol=1e-5)
    assert len(calls) == 3  # the hook runs when the call is traced, not per call
    rows = jax.vmap(lambda row: model.apply(_MLP_PARAMS, row[None, :], hook)[0])(x)
    np.testing.assert_allclose(rows, reference, rtol=1e-5, atol=1e-5)
    model.apply(_MLP_PARAMS, x, hook)
    gradient = jax.grad(lambda x: model.apply(_MLP_PARAMS, x, hook).sum())(x)
    np.testing.assert_allclose(
        gradient, jax.grad(lambda x: _mlp(_MLP_PARAMS, x).sum())(x), rtol=1e-5, atol=1e-5
    )
    assert traces == [(7, 6), (1, 6)]


def test_traced_params_give_traced_weights_and_their_gradient():
    model = intercept(_mlp)
    x = _normal(0, 2, 6)
    weights = []

    def hook(product):
        weights.append(isinstance(product.weight, jax.core.Tracer))
        return product.digital()

    np.testing.assert_allclose(
        jax.jit(model.apply)(_MLP_PARAMS, x), _mlp(_MLP_PARAMS, x), rtol=1e-5, atol=1e-6
    )
    grads = jax.grad(lambda p: model.apply(p, x, hook).sum())(_MLP_PARAMS)
    expected = jax.grad(lambda p: _mlp(p, x).sum())(_MLP_PARAMS)
    for g, e in zip(jax.tree.leaves(grads), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    assert weights == [True] * 3


def test_results_of_the_wrong_shape_are_errors():
    model = intercept(_mlp)
    x = _normal(0, 2, 6)
    with pytest.raises(ValueError, match=r"on_product\(dot_general_0\): expected a result of shape \(2, 5\)"):
        model.apply(_MLP_PARAMS, x, lambda product: product.digital()[:1])


def test_matrix_layers_of_a_function():
    layers = matrix_layers(_mlp, _MLP_PARAMS, jax.ShapeDtypeStruct((1, 6), jnp.float32))
    assert [layer.weight.shape for layer in layers] == [(6, 5), (5, 4), (4, 3)]
    assert all(layer.weight.dtype == np.float64 for layer in layers)
