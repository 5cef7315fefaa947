"""Hardware-aware training (``crossbar.training.train_hardware_aware``): gradients through the emulated chip,
one compiled step, bit-for-bit reproducibility, clipping, noise injection and chip in the loop."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import digits, digits_mlp

import calibration
from crossbar import PRESETS, Chip, intercept, load_onnx
from crossbar.estimation import hardware_arrays
from crossbar.networks import MatrixProduct, products_of
from crossbar.training import mlp_onnx_bytes, train_hardware_aware
from crossbar.training._chip_forward import ChipForward, _shifted, _stacked
from crossbar.training._weight_clipping import clip_weights, weight_axes


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("hwa") / "mlp.onnx"
    path.write_bytes(mlp_onnx_bytes(digits_mlp((16,))))
    return load_onnx(path)


@pytest.fixture(scope="module")
def data():
    x, y = digits()
    return x[:256], y[:256]


def _loss(model, forward, params, x, y, key, t):
    logits = model.apply(params, x, forward.hook(key, t, forward.crossbars, forward.compiled))
    return jnp.mean(-jax.nn.log_softmax(logits)[jnp.arange(len(y)), y])


@pytest.mark.parametrize("path", ["mlp", "tests/data/pytorch/resnet_torchscript.onnx"])
def test_traced_parameters_send_every_product_to_the_chip(model, path):
    """Training traces the parameters: every product with a weight from initializers still runs on tiles
    (Gemm and Conv, grouped included), none digitally."""
    model = model if path == "mlp" else load_onnx(path)
    example = jax.ShapeDtypeStruct((2, *model.input_shape), jnp.float32)
    expected = [p.name for p in products_of(model.apply, model.params, example)]
    names = []

    def on_product(product):
        names.append(product.name)
        assert all(isinstance(m, jax.core.Tracer) for m in product.matrices())
        return product.digital()

    floats = {k: jnp.asarray(v) for k, v in model.params.items()}
    jax.eval_shape(lambda p, x: model.apply(p, x, on_product), floats, example)
    assert names == expected and len(names) >= 2


@pytest.mark.slow
def test_a_grouped_convolution_runs_its_groups_in_one_program_as_it_would_one_by_one():
    """The groups of a grouped convolution on alike tiles are programmed, read and multiplied together
    (one vmapped program); with the same keys they give the outputs and gradients that group-by-group
    evaluation gives (forced here by one group's configuration differing only in a field with no effect)."""
    resnet = load_onnx("tests/data/pytorch/resnet_torchscript.onnx")
    x, _ = digits()
    images = jax.image.resize(jnp.asarray(x[:2]).reshape(2, 1, 8, 8), (2, 1, 28, 28), "linear")
    grouped = []

    def record(product):
        if product.groups > 1:
            grouped.append(product)
        return product.digital()

    resnet.apply(resnet.params, images, record)
    depthwise = grouped[0]  # one input and one output channel per group: keep 4 groups
    assert depthwise.kernel.shape[:2] == (depthwise.groups, 1)
    product = dataclasses.replace(depthwise, x=depthwise.x[:, :4], kernel=depthwise.kernel[:4], groups=4)
    hardware = PRESETS["aihwkit-pcm"]
    alike = (hardware,) * product.groups
    one_differs = (dataclasses.replace(hardware, ir_drop="none"), *alike[1:])  # no wires: no effect
    key, t = jax.random.key(0), jnp.float32(3600.0)

    assert _stacked([(c, None) for c in alike]) is not None
    assert _stacked([(c, None) for c in one_differs]) is None

    @jax.jit
    def outputs(kernel, x, crossbars):
        def run(kernel):
            moved = dataclasses.replace(product, kernel=kernel, x=x)
            return ChipForward(crossbars).hook(key, t, crossbars, None)(moved)

        return run(kernel), jax.grad(lambda k: jnp.sum(run(k) ** 2))(kernel)

    kernel = jnp.asarray(product.kernel)
    together, grad_together = outputs(kernel, product.x, alike)
    alone, grad_alone = outputs(kernel, product.x, one_differs)
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad_together, grad_alone, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_gradients_reach_every_weight_and_follow_the_digital_ones(model, data):
    x, y = data
    hardware = PRESETS["aihwkit-pcm"]
    products = products_of(model.apply, model.params, x[:1])
    forward = ChipForward((hardware,) * len(products))
    floats = {k: jnp.asarray(v) for k, v in model.params.items()}
    key = jax.random.key(0)
    chip = jax.grad(lambda p: _loss(model, forward, p, x, y, key, jnp.float32(3600.0)))(floats)
    digital = jax.grad(lambda p: jnp.mean(-jax.nn.log_softmax(model.apply(p, x))[jnp.arange(len(y)), y]))(
        floats
    )
    for name, g in chip.items():
        assert np.all(np.isfinite(g)) and np.count_nonzero(g) >= 0.9 * np.count_nonzero(digital[name]), name
        cosine = np.sum(g * digital[name]) / (np.linalg.norm(g) * np.linalg.norm(digital[name]))
        # the chip's noise perturbs, but does not scramble, the gradient (0.45 to 0.61 measured, seed 0)
        assert cosine > 0.3, (name, cosine)


@pytest.mark.slow
def test_training_lowers_the_loss_and_compiles_one_step(model, data):
    x, y = data
    calls = []

    def apply(params, xb, on_product=None):
        calls.append(on_product)
        return model.apply(params, xb, on_product)

    tuned, history = train_hardware_aware(
        apply, model.params, x, y, PRESETS["aihwkit-pcm"], epochs=3, batch_size=32, learning_rate=3e-3, seed=0
    )
    # one trace to list the products, one of the step: 8 steps x 3 epochs reuse it
    assert len([c for c in calls if c is not None]) == 2
    assert len(history.loss) == len(history.accuracy) == len(history.seconds) == 3
    assert history.loss[-1] < history.loss[0]
    assert set(tuned) == set(model.params)
    assert all(tuned[k].dtype == model.params[k].dtype for k in tuned)
    assert not np.array_equal(tuned["fc1.weight"], model.params["fc1.weight"])


@pytest.mark.slow
def test_the_same_seed_gives_the_same_weights_bit_for_bit(model, data):
    x, y = data
    hardware = PRESETS["aihwkit-pcm"]

    def run(seed):
        options = {
            "epochs": 1,
            "batch_size": 64,
            "seed": seed,
            "clip_sigmas": 2.5,
            "weight_noise": "additive",
        }
        return train_hardware_aware(model.apply, model.params, x, y, hardware, noise_scale=0.02, **options)

    (first, h1), (again, h2), (other, _) = run(3), run(3), run(4)
    assert h1.loss == h2.loss
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["fc1.weight"], other["fc1.weight"])


def test_weight_axes_find_gemm_and_conv_weights_and_their_output_axes():
    rng = np.random.default_rng(0)
    w, kernel, hwio = rng.normal(size=(5, 3)), rng.normal(size=(4, 2, 3, 3)), rng.normal(size=(3, 3, 2, 6))
    products = [
        MatrixProduct("fc", jnp.zeros((1, 5)), w, None, 1, ()),
        MatrixProduct("conv", jnp.zeros((1, 2, 5, 5)), None, kernel, 1, (3, 3)),
        MatrixProduct("flax", jnp.zeros((1, 2, 5, 5)), None, hwio.transpose(3, 2, 0, 1), 1, (3, 3)),
    ]
    leaves = [hwio, w.T, rng.normal(size=(3,)), kernel]
    assert weight_axes(leaves, products) == {1: 0, 3: 0, 0: 3}
    clipped = clip_weights([jnp.asarray(w.T)], {0: 0}, 1.0, "column")[0]
    bound = np.std(w.T, axis=1, keepdims=True)
    assert np.all(np.abs(np.asarray(clipped)) <= bound + 1e-6)
    assert np.any(np.abs(w.T) > bound)
    layer = clip_weights([jnp.asarray(kernel)], {0: 0}, 2.0, "layer")[0]
    assert float(jnp.max(jnp.abs(layer))) == pytest.approx(2.0 * np.std(kernel), rel=1e-5)


@pytest.mark.slow
def test_clipping_bounds_the_tuned_weights(model, data):
    x, y = data
    tuned, _ = train_hardware_aware(
        model.apply,
        model.params,
        x,
        y,
        PRESETS["aihwkit-pcm"],
        epochs=1,
        batch_size=64,
        clip_sigmas=1.5,
        clip_per="column",
    )
    # Gemm: (IN, OUT); each update clips at 1.5 std of the column before it, a little more after
    before, after = (
        np.max(np.abs(w), axis=0) / np.std(w, axis=0)
        for w in (model.params["fc1.weight"], tuned["fc1.weight"])
    )
    assert np.min(before) > 1.8 and np.max(after) < 1.7, (before, after)


@pytest.mark.slow
def test_chip_in_the_loop_trains_on_the_compiled_mapping_and_moves_its_targets(model, data):
    x, y = data
    profile = calibration.synthesize("rram", 4, 0, rows=64, cols=64)
    tuned, history = train_hardware_aware(
        model.apply, model.params, x, y, Chip.of(profile), epochs=2, batch_size=64, learning_rate=3e-3
    )
    assert np.all(np.isfinite(history.loss)) and history.loss[-1] < history.loss[0]
    assert not np.array_equal(tuned["fc1.weight"], model.params["fc1.weight"])
    products = products_of(model.apply, model.params, x[:1])
    crossbar, targets = hardware_arrays(Chip.of(profile), products)[0]
    w0 = jnp.asarray(model.params["fc1.weight"])
    np.testing.assert_allclose(_shifted(crossbar, targets, w0, w0).g, targets.g, rtol=1e-6)
    moved = _shifted(crossbar, targets, w0, jnp.asarray(tuned["fc1.weight"]))
    assert moved.stuck_mask is targets.stuck_mask and moved.w_max is targets.w_max
    assert not np.allclose(moved.g, targets.g)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("epochs", 0, "epochs: expected an integer >= 1"),
        ("batch_size", 1000, "batch_size: expected an integer in [1, 256]"),
        ("learning_rate", 0.0, "learning_rate: expected a finite number > 0"),
        ("t_range", (0.0, 1.0), "t_range"),
        ("clip_sigmas", -1.0, "clip_sigmas"),
        ("weight_noise", "pink", "weight_noise: expected one of"),
        ("optimizer", "lbfgs", "optimizer: expected one of"),
    ],
)
def test_bad_arguments_name_the_argument(model, data, option, value, message):
    x, y = data
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        train_hardware_aware(model.apply, model.params, x, y, PRESETS["ideal"], **{option: value})


@pytest.mark.slow
def test_an_intercepted_jax_cnn_trains_through_the_chip(data):
    x, y = data
    x = x.reshape(-1, 8, 8, 1)

    def cnn(params, xb):
        h = jax.lax.conv_general_dilated(
            xb, params["k"], (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return jax.nn.relu(h).reshape(len(xb), -1) @ params["w"]

    rng = np.random.default_rng(0)
    params = {
        "k": rng.normal(0, 0.3, (3, 3, 1, 8)).astype(np.float32),
        "w": rng.normal(0, 0.1, (128, 10)).astype(np.float32),
    }
    model = intercept(cnn)
    tuned, history = train_hardware_aware(
        model.apply,
        params,
        x,
        y,
        PRESETS["aihwkit-pcm"],
        epochs=2,
        batch_size=32,
        learning_rate=1e-2,
        clip_sigmas=3.0,
    )
    assert history.loss[-1] < history.loss[0]
    assert tuned["k"].shape == (3, 3, 1, 8) and not np.array_equal(tuned["k"], params["k"])
