"""Weight matrices on crossbar tiles: tiling, weight mapping, drift compensation, presets, bad input."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import device_models as dm
from crossbar import PRESETS, Crossbar, WeightMapping
from crossbar.array import near_equal_split

KEY = jax.random.key(0)
W = 0.1 * jax.random.normal(jax.random.key(1), (700, 300))
X = jax.random.uniform(jax.random.key(2), (32, 700))


def relative_error(y, reference):
    return float(jnp.linalg.norm(y - reference) / jnp.linalg.norm(reference))


def run(crossbar: Crossbar, t: float, w=W, x=X, key=KEY):
    k_prog, k_read, k_mvm = jax.random.split(key, 3)
    return crossbar.matmul(k_mvm, crossbar.read(k_read, crossbar.program(k_prog, w), t), x)


@pytest.mark.parametrize(
    "size, block, expected", [(784, 512, (2, 392)), (512, 512, (1, 512)), (1025, 512, (3, 342))]
)
def test_near_equal_split(size, block, expected):
    assert near_equal_split(size, block) == expected


@pytest.mark.parametrize("scheme", ["differential", "reference_column"])
@pytest.mark.parametrize("tile", [(512, 512), (128, 64), (700, 300)])
@pytest.mark.parametrize("input_scale", [1.0, 7.0])  # inputs within the DAC's [-1, 1], and far beyond it
@pytest.mark.slow
def test_ideal_preset_reproduces_the_digital_product(scheme, tile, input_scale):
    ideal = dataclasses.replace(
        PRESETS["ideal"], mapping=WeightMapping(scheme), tile_rows=tile[0], tile_cols=tile[1]
    )
    x = input_scale * (2.0 * X - 1.0)
    reference = x @ W
    scale = float(jnp.max(jnp.abs(reference)))
    np.testing.assert_allclose(run(ideal, 3600.0, x=x), reference, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("scheme", ["differential", "reference_column"])
def test_mapping_round_trip(scheme):
    mapping = WeightMapping(scheme)
    g = mapping.conductances(W, 0.5, 2.0, 30.0)
    assert float(g.min()) >= 2.0 - 1e-6 and float(g.max()) <= 30.0 + 1e-6
    np.testing.assert_allclose(mapping.weights(g, 0.5, 2.0, 30.0), jnp.clip(W, -0.5, 0.5), atol=1e-6)


def test_clip_percentile_sets_w_max():
    w = jnp.arange(1.0, 101.0).reshape(10, 10)
    assert float(WeightMapping(clip_percentile=50.0).w_max(w)) == pytest.approx(50.5)
    assert float(WeightMapping().w_max(w)) == 100.0


@pytest.mark.parametrize("mode", ["global", "per_column"])
@pytest.mark.slow
def test_drift_compensation_restores_the_output_scale(mode):
    # Weights of order 1 (as aihwkit's output noise 0.06 and bound 12 assume): with much smaller weights the
    # one-hot readout is dominated by output noise and the compensation, faithfully, falls short.
    w = 10.0 * W
    compensated = dataclasses.replace(PRESETS["aihwkit-pcm"], drift_compensation=mode)
    uncompensated = dataclasses.replace(compensated, drift_compensation="none")
    year = 3.156e7
    ideal = X @ w

    def scale(y):
        return float(jnp.sum(y * ideal) / jnp.sum(ideal * ideal))

    y_plain, y_comp = run(uncompensated, year, w=w), run(compensated, year, w=w)
    assert scale(y_plain) < 0.6  # drift shrinks the outputs
    assert abs(scale(y_comp) - 1.0) < 0.05
    assert relative_error(y_comp, ideal) < relative_error(y_plain, ideal)


def test_aihwkit_pcm_preset_has_the_peer_defaults():
    preset = PRESETS["aihwkit-pcm"]
    assert (preset.tile_rows, preset.tile_cols) == (512, 512)
    assert preset.periphery.dac.bits == 7 and preset.periphery.adc.bits == 9
    assert float(preset.periphery.adc.bound) == 12.0 and float(
        preset.periphery.output_noise
    ) == pytest.approx(0.06)
    assert preset.periphery.noise_management == "abs_max" and preset.periphery.bound_management == "iterative"
    assert preset.drift_compensation == "global" and isinstance(preset.device, dm.PCM)


@pytest.mark.slow
def test_error_grows_with_time_for_pcm_and_trials_vmap():
    crossbar = dataclasses.replace(PRESETS["aihwkit-pcm"], drift_compensation="none")
    keys = jax.random.split(KEY, 4)
    trial = jax.jit(jax.vmap(lambda k, t: run(crossbar, t, key=k), in_axes=(0, None)))
    e_second = [relative_error(y, X @ W) for y in trial(keys, 1.0)]
    e_year = [relative_error(y, X @ W) for y in trial(keys, 3.156e7)]
    assert max(e_second) < min(e_year)
    assert len(set(e_second)) == 4  # trials differ


@pytest.mark.slow
def test_vmap_over_a_periphery_parameter():
    base = PRESETS["aihwkit-pcm"]
    noises = jnp.array([0.0, 0.06, 0.3])

    def error(noise):
        periphery = dataclasses.replace(base.periphery, output_noise=noise)
        return jnp.linalg.norm(run(dataclasses.replace(base, periphery=periphery), 1.0) - X @ W)

    batched = jax.vmap(error)(noises)
    looped = jnp.array([error(n) for n in noises])
    np.testing.assert_allclose(batched, looped, rtol=1e-4)
    assert batched[0] < batched[1] < batched[2]


@pytest.mark.slow
def test_same_seed_same_numbers():
    crossbar = PRESETS["aihwkit-pcm"]
    np.testing.assert_array_equal(run(crossbar, 3600.0), run(crossbar, 3600.0))


def test_bias_is_added_in_digital():
    ideal = PRESETS["ideal"]
    bias = jnp.linspace(-1.0, 1.0, W.shape[1])
    y = ideal.matmul(KEY, ideal.read(KEY, ideal.program(KEY, W), 0.0), X, bias)
    np.testing.assert_allclose(y, X @ W + bias[None, :], rtol=1e-4, atol=1e-4)


def test_per_tile_column_gain_and_offset():
    ideal = PRESETS["ideal"]
    n_r, n_c, _, cols = ideal.tile_grid(W.shape)
    gain = jnp.full((n_r, n_c, 1, cols), 2.0)
    programmed = ideal.program(KEY, W, column_gain=gain)
    y = ideal.matmul(KEY, ideal.read(KEY, programmed, 0.0), X)
    np.testing.assert_allclose(y, 2.0 * (X @ W), rtol=1e-4, atol=1e-4)


BAD = [
    (lambda c: c.program(KEY, jnp.ones(5)), "w: expected a non-empty 2-D weight matrix"),
    (lambda c: c.program(KEY, jnp.ones((0, 5))), "w: expected a non-empty 2-D weight matrix"),
    (lambda c: c.read(KEY, c.program(KEY, W), jnp.array([1.0, 2.0])), "t: expected one time in seconds"),
    (lambda c: Crossbar(tile_rows=100.5), "tile_rows: expected an integer >= 1"),
    (lambda c: c.program(KEY, W.at[3, 4].set(jnp.nan)), "w: expected finite values, found 1 NaN or inf"),
    (lambda c: c.program(KEY, W, stuck_mask=jnp.zeros((1, 1, 3, 3))), "stuck_mask: expected shape"),
    (lambda c: c.program(KEY, W, column_gain=jnp.ones((3, 1, 1, 300))), "column_gain: expected shape"),
    (
        lambda c: c.matmul(KEY, c.read(KEY, c.program(KEY, W), 1.0), jnp.ones((4, 699))),
        r"x: expected shape \(batch, 700\)",
    ),
    (
        lambda c: c.matmul(KEY, c.read(KEY, c.program(KEY, W), 1.0), X.at[0, 0].set(jnp.inf)),
        "x: expected finite",
    ),
    (lambda c: c.matmul(KEY, c.read(KEY, c.program(KEY, W), 1.0), X, jnp.ones(7)), r"bias: expected shape"),
    (lambda c: Crossbar(tile_rows=0), "tile_rows: expected an integer >= 1"),
    (lambda c: Crossbar(r_row=-1.0), "r_row: expected a finite number >= 0"),
    (lambda c: Crossbar(drift_compensation="sometimes"), "drift_compensation: expected one of"),
]


@pytest.mark.parametrize("call, message", BAD)
@pytest.mark.slow
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call(PRESETS["aihwkit-pcm"])


def amplitude(crossbar: Crossbar, iv_b: float, v_read: float = 0.3, **wires) -> Crossbar:
    dac = dataclasses.replace(crossbar.periphery.dac, v_read=v_read, encoding="amplitude")
    device = dataclasses.replace(crossbar.device, iv_b=iv_b)
    return dataclasses.replace(
        crossbar, device=device, periphery=dataclasses.replace(crossbar.periphery, dac=dac), **wires
    )


W_SMALL = W[:48, :20]
X_SMALL = 2.0 * X[:6, :48] - 1.0


@pytest.mark.slow
def test_amplitude_encoding_bends_inputs_through_the_sinh_iv():
    # Inputs within [-1, 1] reach the rows unscaled (no noise management), at v_read * x.
    unscaled = dataclasses.replace(
        PRESETS["ideal"], periphery=dataclasses.replace(PRESETS["ideal"].periphery, noise_management="none")
    )
    crossbar = amplitude(unscaled, iv_b=3.0, v_read=0.3)
    y = run(crossbar, 0.0, w=W_SMALL, x=X_SMALL)
    u = 3.0 * 0.3 * X_SMALL
    np.testing.assert_allclose(y, (X_SMALL * jnp.sinh(u) / u) @ W_SMALL, rtol=1e-5, atol=1e-6)


def test_pulse_width_encoding_is_linear_whatever_the_iv():
    crossbar = dataclasses.replace(PRESETS["ideal"], device=dm.Ideal(iv_b=3.0))
    np.testing.assert_allclose(
        run(crossbar, 0.0, w=W_SMALL, x=X_SMALL), X_SMALL @ W_SMALL, rtol=1e-5, atol=1e-6
    )


@pytest.mark.slow
def test_nonlinear_ir_drop_solves_each_input_and_tends_to_the_linear_solution():
    wires = {"r_row": 2.0, "r_col": 2.0}
    linear = run(dataclasses.replace(PRESETS["ideal"], **wires), 0.0, w=W_SMALL, x=X_SMALL)
    nearly_linear = run(amplitude(PRESETS["ideal"], 1e-4, **wires), 0.0, w=W_SMALL, x=X_SMALL)
    bent = run(amplitude(PRESETS["ideal"], 3.0, **wires), 0.0, w=W_SMALL, x=X_SMALL)
    bent_ideal_wires = run(amplitude(PRESETS["ideal"], 3.0), 0.0, w=W_SMALL, x=X_SMALL)
    np.testing.assert_allclose(nearly_linear, linear, rtol=1e-4, atol=1e-5)
    assert float(jnp.abs(linear - X_SMALL @ W_SMALL).max()) > 1e-3  # the wires matter
    assert float(jnp.abs(bent - linear).max()) > 1e-3  # and so does the I-V
    assert float(jnp.abs(bent - bent_ideal_wires).max()) > 1e-3


@pytest.mark.slow
def test_gradients_flow_through_ir_drop_and_nonlinear_solves():
    crossbar = amplitude(PRESETS["aihwkit-pcm"], 3.0, r_row=2.0, r_col=2.0)
    grad = jax.grad(lambda w: run(crossbar, 3600.0, w=w, x=X_SMALL).sum())(W_SMALL)
    assert bool(jnp.all(jnp.isfinite(grad))) and float(jnp.abs(grad).sum()) > 0


def test_a_tile_must_fit_the_physical_array():
    with pytest.raises(ValueError, match="tile_rows: expected at most array_rows = 256"):
        Crossbar(tile_rows=512, array_rows=256)
    with pytest.raises(ValueError, match="tile_cols: 512 weight columns need 1024 device columns"):
        Crossbar(tile_cols=512, array_cols=512)
    Crossbar(
        tile_rows=256,
        tile_cols=255,
        array_rows=256,
        array_cols=256,
        mapping=WeightMapping("reference_column"),
    )


@pytest.mark.slow
def test_integer_weights_and_padding():
    crossbar = dataclasses.replace(PRESETS["ideal"], tile_rows=4, tile_cols=4)
    w = jnp.arange(25).reshape(5, 5) - 12
    programmed = crossbar.program(KEY, w)
    assert int(programmed.valid.sum()) == 25
    x = jnp.ones((2, 5))
    np.testing.assert_allclose(crossbar.matmul(KEY, crossbar.read(KEY, programmed, 0.0), x), x @ w, atol=1e-4)


@pytest.mark.slow
def test_amplitude_encoding_runs_under_jit_with_the_crossbar_as_a_constant():
    crossbar = amplitude(PRESETS["aihwkit-pcm"], 3.0)
    eager = run(crossbar, 60.0, w=W_SMALL, x=X_SMALL)
    jitted = jax.jit(lambda w, x: run(crossbar, 60.0, w=w, x=x))(W_SMALL, X_SMALL)
    np.testing.assert_allclose(jitted, eager, rtol=1e-4, atol=1e-4)
