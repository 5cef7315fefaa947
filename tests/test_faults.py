"""Stuck-at faults: random rates, devices held at g_min or their own g_max, measured masks."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _jitted import program, read
from _stats import assert_fraction, assert_mean, assert_std

from device_models import PCM, RRAM, Ideal, StuckAtFaults

N = 200_000
TIMES = np.array([0.0, 1.0, 3600.0, 3.15e7])
P_OFF, P_ON = 0.1, 0.05


@pytest.mark.parametrize("model", [PCM, RRAM, Ideal])
def test_fault_rates(model):
    dev = model(faults=StuckAtFaults(p_off=P_OFF, p_on=P_ON))
    state = program(dev, jax.random.key(0), jnp.full((N,), 12.0))
    stuck = np.asarray(state.stuck)
    assert_fraction(stuck == 1, P_OFF)
    assert_fraction(stuck == 2, P_ON)
    assert np.all((stuck >= 0) & (stuck <= 2))


@pytest.mark.parametrize("model", [PCM, RRAM])
def test_stuck_devices_hold_g_min_or_g_max(model):
    dev = model(faults=StuckAtFaults(p_off=0.2, p_on=0.2))
    state = program(dev, jax.random.key(1), jnp.full((N,), 12.0))
    stuck = np.asarray(state.stuck)
    g = np.asarray(read(dev, jax.random.key(2), state, TIMES))
    assert np.all(g[:, stuck == 1] == float(dev.g_min))
    assert np.all(g[:, stuck == 2] == float(dev.g_max))
    # Healthy devices still drift and fluctuate.
    assert np.all(g[0, stuck == 0] != g[-1, stuck == 0])


def test_stuck_on_devices_hold_their_own_ceiling():
    """With a g_max spread, stuck-on devices sit at g_max (1 + spread xi), held at every time."""
    spread = 0.05
    dev = PCM(g_max_spread=spread, faults=StuckAtFaults(p_on=1.0))
    state = program(dev, jax.random.key(3), jnp.full((N,), 12.0))
    g = np.asarray(read(dev, jax.random.key(4), state, TIMES))
    np.testing.assert_array_equal(g, np.broadcast_to(state.g_prog, g.shape))
    assert_mean(state.g_prog, 25.0, 25.0 * spread)
    assert_std(state.g_prog, 25.0 * spread)


def measured_mask(n):
    """Every tenth device stuck off, the next one stuck on, the rest healthy."""
    i = np.arange(n)
    return np.where(i % 10 == 0, 1, np.where(i % 10 == 1, 2, 0)).astype(np.int8)


def test_measured_mask_is_honored_without_random_faults():
    dev = RRAM()
    mask = measured_mask(N)
    state = program(dev, jax.random.key(5), jnp.full((N,), 40.0), stuck_mask=mask)
    np.testing.assert_array_equal(state.stuck, mask)
    g = np.asarray(read(dev, jax.random.key(6), state, TIMES))
    assert np.all(g[:, mask == 1] == float(dev.g_min))
    assert np.all(g[:, mask == 2] == float(dev.g_max))


def test_measured_mask_merges_with_random_faults():
    dev = PCM(faults=StuckAtFaults(p_off=0.2, p_on=0.2))
    mask = measured_mask(N)
    g_target = jnp.full((N,), 12.0)
    drawn = np.asarray(program(dev, jax.random.key(7), g_target).stuck)
    merged = np.asarray(program(dev, jax.random.key(7), g_target, stuck_mask=mask).stuck)
    np.testing.assert_array_equal(merged, np.where(mask != 0, mask, drawn))
    assert np.any((mask == 0) & (drawn != 0)) and np.any((mask != 0) & (drawn != mask))


@pytest.mark.parametrize(
    ("p_off", "p_on", "field"),
    [
        (-0.1, 0.0, "faults.p_off"),
        (1.5, 0.0, "faults.p_off"),
        (0.0, -0.1, "faults.p_on"),
        (0.0, 1.1, "faults.p_on"),
        (0.6, 0.6, "faults.p_on"),
    ],
)
def test_invalid_rates_raise(p_off, p_on, field):
    with pytest.raises(ValueError, match=f"^{re.escape(field)}:"):
        StuckAtFaults(p_off=p_off, p_on=p_on)


@pytest.mark.parametrize(
    "mask, message",
    [
        (jnp.zeros((3,), jnp.int8), "stuck_mask: expected shape of g_target"),
        (jnp.full((4, 4), 3), "codes 0, 1 or 2"),
    ],
)
def test_a_measured_mask_must_match_the_targets(mask, message):
    with pytest.raises(ValueError, match=message):
        PCM().program(jax.random.key(0), jnp.ones((4, 4)), stuck_mask=mask)
