"""The managed MVM of one tile against docs/models.md section 5."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _stats import assert_std

from crossbar import ADC, DAC, Periphery, managed_mvm

KEY = jax.random.key(0)
NOISELESS = Periphery(dac=DAC(bits=None), adc=ADC(bits=None, bound=1e30), output_noise=0.0)


def test_dac_clips_and_rounds_to_7_bit_steps():
    x = jnp.array([-2.0, -1.0, 0.004, 0.5, 1.7])
    step = 2.0 / 126
    out = DAC(bits=7)(x)
    np.testing.assert_allclose(out, np.clip(np.round(np.asarray(x) / step) * step, -1, 1), atol=1e-7)
    assert float(out.max()) <= 1.0 and float(out.min()) >= -1.0


def test_adc_rounds_to_9_bit_steps_and_reports_clipping():
    y = jnp.array([[0.1, 11.99, 13.0], [-0.3, 2.0, -1.0]])
    out, clipped = ADC(bits=9, bound=12.0)(y)
    step = 24.0 / 510
    np.testing.assert_allclose(out[1], np.round(np.asarray(y[1]) / step) * step, atol=1e-6)
    assert float(out[0, 2]) == pytest.approx(12.0)
    assert clipped.tolist() == [True, False]


@pytest.mark.parametrize("bits", [0, 1, -3])
def test_converters_reject_too_few_bits(bits):
    with pytest.raises(ValueError, match="adc.bits"):
        ADC(bits=bits)
    with pytest.raises(ValueError, match="dac.bits"):
        DAC(bits=bits)


@pytest.mark.slow
def test_noiseless_periphery_is_the_matmul():
    x = jax.random.normal(jax.random.key(1), (8, 32))
    w = jax.random.normal(jax.random.key(2), (32, 16))
    np.testing.assert_allclose(managed_mvm(KEY, x, w, NOISELESS), x @ w, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_abs_max_noise_management_makes_outputs_scale_with_inputs():
    x = jax.random.normal(jax.random.key(1), (8, 32))
    w = 0.1 * jax.random.normal(jax.random.key(2), (32, 16))
    periphery = Periphery()
    y1 = managed_mvm(KEY, x, w, periphery)
    y1000 = managed_mvm(KEY, 1000.0 * x, w, periphery)
    np.testing.assert_allclose(y1000, 1000.0 * y1, rtol=1e-4, atol=1e-3)


@pytest.mark.slow
def test_output_noise_has_the_configured_std():
    n = 200_000
    x = jnp.zeros((n // 100, 64)).at[:, 0].set(1.0)  # abs-max scale 1
    w = jnp.zeros((64, 100))
    periphery = Periphery(dac=DAC(bits=None), adc=ADC(bits=None, bound=1e30), output_noise=0.06)
    y = np.asarray(managed_mvm(KEY, x, w, periphery)).ravel()
    # sample std of n normals: relative standard error 1/sqrt(2n); allow 5 of them
    assert abs(y.std() / 0.06 - 1) < 5 / np.sqrt(2 * n)
    assert abs(y.mean()) < 5 * 0.06 / np.sqrt(n)


@pytest.mark.slow
def test_iterative_bound_management_recovers_clipped_outputs():
    x = jnp.ones((4, 256))
    w = jnp.full((256, 3), 0.2)  # ideal output 51.2, far beyond the ADC bound of 12
    exact = x @ w
    quiet = Periphery(output_noise=0.0)
    clipped = managed_mvm(KEY, x, w, Periphery(output_noise=0.0, bound_management="none"))
    np.testing.assert_allclose(clipped, 12.0, rtol=1e-6)
    managed = managed_mvm(KEY, x, w, quiet)
    # r = 1, 2, 4 clip (51.2 / 4 = 12.8 > 12); r = 8 passes: inputs 1/8 on the DAC grid, ADC, times 8
    dac_step, adc_step = 2.0 / 126, 24.0 / 510
    v = np.round(0.125 / dac_step) * dac_step
    expected = 8 * np.round(256 * 0.2 * v / adc_step) * adc_step
    np.testing.assert_allclose(managed, expected, rtol=1e-5)
    assert np.all(np.abs(np.asarray(managed) - np.asarray(exact)) < 0.02 * 51.2)


@pytest.mark.slow
def test_bound_management_gives_up_after_r_16():
    x = jnp.ones((2, 256))
    w = jnp.full((256, 2), 10.0)  # 2560: still clips at r = 16 (2560 / 16 = 160 > 12)
    y = managed_mvm(KEY, x, w, Periphery(output_noise=0.0))
    np.testing.assert_allclose(y, 16 * 12.0, rtol=1e-6)
    assert Periphery().max_passes == 5


def test_gradient_is_that_of_the_ideal_product():
    x = jax.random.normal(jax.random.key(1), (8, 32))
    w = 0.1 * jax.random.normal(jax.random.key(2), (32, 16))
    gx, gw = jax.grad(lambda x, w: jnp.sum(managed_mvm(KEY, x, w, Periphery()) ** 1), argnums=(0, 1))(x, w)
    ix, iw = jax.grad(lambda x, w: jnp.sum(x @ w), argnums=(0, 1))(x, w)
    np.testing.assert_allclose(gx, ix, rtol=1e-6)
    np.testing.assert_allclose(gw, iw, rtol=1e-6)


def test_column_gain_and_offset_act_before_the_adc():
    x = jnp.eye(4)
    w = jnp.full((4, 3), 0.5)
    gain, offset = jnp.array([1.0, 2.0, 0.5]), jnp.array([0.0, 0.1, -0.1])
    y = managed_mvm(KEY, x, w, NOISELESS, gain, offset)
    np.testing.assert_allclose(y, np.broadcast_to(0.5 * gain + offset, (4, 3)), rtol=1e-6)


def test_same_key_same_numbers_and_jit_matches():
    x = jax.random.normal(jax.random.key(1), (8, 32))
    w = 0.1 * jax.random.normal(jax.random.key(2), (32, 16))
    eager = managed_mvm(KEY, x, w, Periphery())
    jitted = jax.jit(lambda k, x, w: managed_mvm(k, x, w, Periphery()))(KEY, x, w)
    np.testing.assert_array_equal(eager, managed_mvm(KEY, x, w, Periphery()))
    np.testing.assert_allclose(eager, jitted, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["additive", "pcm_read"])
@pytest.mark.slow
def test_weight_noise_has_the_closed_form_std_per_output(kind):
    """Output-referred weight noise (aihwkit's w_noise): sigma^2 = out^2 + sigma_w^2 ||v||^2 (additive) or
    out^2 + sigma_w^2 sum_j |w_ij| v_j^2 (pcm_read), tested per output column over n vectors."""
    n, rows, cols = 20_000, 16, 4
    v = jnp.tile(jnp.linspace(-1.0, 1.0, rows)[None, :], (n, 1))  # abs-max 1: the DAC passes it unchanged
    w = jnp.linspace(-2.0, 2.0, rows * cols).reshape(rows, cols)
    periphery = Periphery(
        dac=DAC(bits=None),
        adc=ADC(bits=None, bound=1e30),
        output_noise=0.05,
        weight_noise=0.0175,
        weight_noise_type=kind,
        bound_management="none",
    )
    y = np.asarray(managed_mvm(KEY, v, w, periphery)) - np.asarray(v[:1] @ w)
    v0 = np.asarray(v[0])
    spread = np.sum(v0**2) if kind == "additive" else (v0**2) @ np.abs(np.asarray(w))
    expected = np.sqrt(0.05**2 + 0.0175**2 * spread) * np.ones(cols)
    assert_std(y.T, expected)  # each column's n draws


def test_zero_weight_noise_draws_exactly_the_output_noise():
    x = jax.random.normal(jax.random.key(1), (8, 32))
    w = jax.random.normal(jax.random.key(2), (32, 16))
    plain = managed_mvm(KEY, x, w, Periphery())
    silent = managed_mvm(KEY, x, w, Periphery(weight_noise=0.0, weight_noise_type="pcm_read"))
    np.testing.assert_array_equal(plain, silent)
