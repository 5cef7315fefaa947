"""The approximate IR-drop model (docs/models.md section 6.5) against the exact solve, and its selection."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crossbar import Crossbar, ir_drop
from crossbar.array import DAC, Periphery
from device_models import PCM

G_MAX = 25e-6  # S


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def random_g(seed, rows, cols):
    """Conductances uniform in 1..25 uS (S)."""
    return np.random.default_rng(seed).uniform(1e-6, G_MAX, (rows, cols))


def rms_error(actual, expected):
    """RMS error relative to the RMS of ``expected``."""
    return float(np.sqrt(np.mean((np.asarray(actual) - expected) ** 2) / np.mean(np.asarray(expected) ** 2)))


@pytest.mark.parametrize(("r_row", "r_col"), [(2.0, 0.0), (0.0, 3.0)])
def test_exact_when_one_wire_family_is_ideal(r_row, r_col, x64):
    g = random_g(0, 24, 40)
    exact = ir_drop.effective_matrix(g, r_row, r_col)
    approximate = ir_drop.effective_matrix(g, r_row, r_col, model="approximate")
    assert rms_error(approximate, exact) < 1e-12
    assert rms_error(exact, g) > 1e-3  # the wires matter here


def test_error_is_second_order_in_wire_resistance(x64):
    """Halving both resistances divides the model's error by about 4, and the IR drop itself by about 2."""
    g = random_g(1, 32, 48)
    errors, drops = [], []
    for r in (0.4, 0.2, 0.1):
        exact = np.asarray(ir_drop.effective_matrix(g, r, r))
        errors.append(rms_error(ir_drop.effective_matrix(g, r, r, model="approximate"), exact))
        drops.append(rms_error(exact, g))
    assert all(3.6 < a / b < 4.4 for a, b in zip(errors, errors[1:], strict=False))
    assert all(1.8 < a / b < 2.2 for a, b in zip(drops, drops[1:], strict=False))
    assert errors[-1] < 0.01 * drops[-1]


def test_ideal_wires_give_g_exactly():
    g = random_g(2, 6, 5).astype(np.float32)
    assert np.array_equal(ir_drop.effective_matrix(g, 0.0, 0.0, model="approximate"), g)


def test_jit_vmap_and_grad():
    g = jnp.asarray(random_g(3, 8, 12), jnp.float32)
    resistances = jnp.array([0.0, 1.0, 4.0])
    swept = jax.vmap(lambda r: ir_drop.approximate_effective_matrix(g, r, r))(resistances)
    one = [ir_drop.approximate_effective_matrix(g, r, r) for r in resistances]
    assert np.allclose(swept, np.stack(one), rtol=1e-6)
    total = jax.grad(lambda gg: jnp.sum(ir_drop.approximate_effective_matrix(gg, 2.0, 2.0)))(g)
    assert total.shape == g.shape and np.all(np.isfinite(total))
    assert np.all(total < 1.0)  # more conductance loads the lines: every device's share falls below 1


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="model: expected one of exact, approximate"):
        ir_drop.effective_matrix(random_g(4, 3, 3), 1.0, 1.0, model="fast")


@pytest.mark.slow
def test_crossbar_selects_the_model_and_none_ignores_the_wires():
    key, w = jax.random.key(0), jax.random.normal(jax.random.key(1), (40, 24)) * 0.1
    x = jax.random.uniform(jax.random.key(2), (5, 40))

    def outputs(**wires):
        crossbar = Crossbar(device=PCM(), tile_rows=32, tile_cols=16, **wires)
        return np.asarray(crossbar.matmul(key, crossbar.read(key, crossbar.program(key, w), 1.0), x))

    ideal = outputs()
    assert np.array_equal(outputs(r_row=5.0, r_col=5.0, ir_drop="none"), ideal)
    exact = outputs(r_row=5.0, r_col=5.0)
    approximate = outputs(r_row=5.0, r_col=5.0, ir_drop="approximate")
    assert rms_error(approximate, exact) < 0.1 * rms_error(exact, ideal)


def test_approximate_is_refused_where_inputs_bend():
    amplitude = Periphery(dac=DAC(encoding="amplitude"))
    with pytest.raises(ValueError, match="ir_drop: the approximate model is defined for linear devices"):
        Crossbar(device=PCM(iv_b=2.0), periphery=amplitude, r_row=1.0, ir_drop="approximate")
    Crossbar(device=PCM(iv_b=2.0), periphery=amplitude, r_row=1.0, ir_drop="exact")
    Crossbar(device=PCM(iv_b=2.0), r_row=1.0, ir_drop="approximate")  # pulse width: linear in the inputs
    with pytest.raises(ValueError, match="ir_drop: expected one of exact, approximate, none"):
        Crossbar(ir_drop="fast")
