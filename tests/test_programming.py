"""Programming non-idealities: finite levels, g_max spread, the pulse response and write-verify
(docs/models.md sections 3 and 4)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from _stats import assert_fraction, assert_mean, assert_std

from device_models import Ideal, PulseResponse, WriteVerify, a_from_nl

NL_TABLE = {0.5: 2.52, 1.0: 1.25, 1.46: 0.849, 1.75: 0.702, 2.0: 0.609, 2.4: 0.499, 3.0: 0.387, 4.0: 0.269}
NL_TABLE |= {4.88: 0.200, 6.0: 0.136}


def uniform_targets(n, low, high, seed=0):
    return jnp.asarray(np.random.default_rng(seed).uniform(low, high, n), jnp.float32)


def test_levels_round_to_the_nearest_state():
    g_min, g_max, levels = 1.0, 21.0, 11
    dev = Ideal(g_min=g_min, g_max=g_max, levels=levels)
    g_target = uniform_targets(5000, -2.0, 24.0)
    g = np.asarray(dev.read(jax.random.key(0), dev.program(jax.random.key(1), g_target), 3600.0))
    step = (g_max - g_min) / (levels - 1)
    nearest = g_min + step * np.round((np.clip(g_target, g_min, g_max) - g_min) / step)
    np.testing.assert_allclose(g, nearest, rtol=0, atol=1e-5)
    assert len(np.unique(np.round(g, 4))) == levels


def test_levels_pass_the_gradient_straight_through():
    dev = Ideal(levels=8)
    grad = jax.grad(lambda g: dev.read(jax.random.key(0), dev.program(jax.random.key(1), g), 1.0).sum())
    np.testing.assert_array_equal(grad(uniform_targets(100, 1.0, 24.0)), np.ones(100))


def test_g_max_spread_caps_targets_at_each_device_ceiling():
    """The ceiling is g_max (1 + s xi), so a target g_max reads g_max (1 - s H) with H half-normal below
    the ceiling (probability 1/2) and g_max exactly otherwise; targets well below g_max are untouched."""
    spread, g_max, n = 0.05, 25.0, 200_000
    dev = Ideal(g_max=g_max, g_max_spread=spread)
    g = np.asarray(dev.program(jax.random.key(2), jnp.full((n,), g_max)).g_prog)
    below = g < g_max
    assert np.all(g <= g_max)
    assert_fraction(below, 0.5)
    deficit = (1.0 - g[below] / g_max) / spread
    mean, var, _, kurtosis = scipy.stats.halfnorm.stats(moments="mvsk")
    assert_mean(deficit, mean, np.sqrt(var))
    assert_std(deficit, np.sqrt(var), kurtosis)
    low = jnp.full((1000,), 10.0)
    np.testing.assert_array_equal(dev.program(jax.random.key(3), low).g_prog, low)


@pytest.mark.parametrize("response", [PulseResponse(), PulseResponse.from_nl(1.0, -1.0, p_max=50.0)])
def test_curve_is_the_neurosim_formula(response):
    g_min, g_max = 9.0, 88.2
    p_max = float(response.p_max)
    p = np.arange(p_max + 1)
    for a, potentiation in ((float(response.a_ltp), True), (float(response.a_ltd), False)):
        a_pulses = a * p_max
        b = (g_max - g_min) / (1 - np.exp(-p_max / a_pulses))
        if potentiation:
            closed = b * (1 - np.exp(-p / a_pulses)) + g_min
        else:
            closed = -b * (1 - np.exp((p - p_max) / a_pulses)) + g_max
        curve = response.curve(jnp.asarray(p, jnp.float32), g_min, g_max, potentiation=potentiation)
        np.testing.assert_allclose(curve, closed, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(curve)[[0, -1]], [g_min, g_max], rtol=1e-6)


@pytest.mark.parametrize(
    "response",
    [PulseResponse(), PulseResponse.from_nl(1.0, -1.0, p_max=50.0), PulseResponse(a_ltp=1e6, a_ltd=1e6)],
    ids=["ag-si", "nl1", "linear"],
)
def test_pulses_walk_along_the_curve(response):
    """k potentiation pulses from g_min reach G_LTP(k); k depression pulses from g_max, G_LTD(P_max - k)."""
    g_min, g_max = 9.0, 88.2
    p_max = int(response.p_max)
    up, down = [jnp.float32(g_min)], [jnp.float32(g_max)]
    for _ in range(p_max):
        up.append(response.potentiate(up[-1], g_min, g_max))
        down.append(response.depress(down[-1], g_min, g_max))
    k = jnp.arange(p_max + 1, dtype=jnp.float32)
    np.testing.assert_allclose(jnp.stack(up), response.curve(k, g_min, g_max), rtol=1e-5)
    np.testing.assert_allclose(jnp.stack(down), response.curve(p_max - k, g_min, g_max, False), rtol=1e-5)


def test_a_from_nl_matches_the_table():
    for nl, a in NL_TABLE.items():
        assert a_from_nl(nl) == pytest.approx(a, rel=1e-12)
        assert a_from_nl(-nl) == pytest.approx(a, rel=1e-12)
    assert NL_TABLE[2.0] > a_from_nl(2.2) > NL_TABLE[2.4]
    assert PulseResponse.from_nl(2.4, -4.88) == PulseResponse()


@pytest.mark.parametrize("nl", [0.0, 0.49, 6.01, -7.0])
def test_a_from_nl_rejects_labels_outside_the_table(nl):
    with pytest.raises(ValueError, match="^nl:"):
        a_from_nl(nl)


def write_verify_state(tolerance=0.01, response=None, g_target=None):
    """Targets (2000 uniform in [0, 25] uS by default) and the state an Ideal device's write-verify leaves."""
    response = PulseResponse() if response is None else response
    dev = Ideal(write_verify=WriteVerify(response=response, tolerance=tolerance))
    g_target = uniform_targets(2000, 0.0, 25.0) if g_target is None else g_target
    return g_target, dev.program(jax.random.key(0), g_target)


def test_write_verify_converges_or_spends_the_budget():
    tolerance, max_pulses = 0.01, WriteVerify().max_pulses
    g_target, state = write_verify_state(tolerance)
    pulses = np.asarray(state.pulses)
    inside = np.abs(np.asarray(state.g_prog) - np.asarray(g_target)) <= tolerance * 25.0
    assert np.issubdtype(pulses.dtype, np.integer) and pulses.min() >= 0
    assert inside.mean() > 0.99
    assert np.all(pulses[~inside] == max_pulses)
    assert np.all(pulses[inside] < max_pulses)
    assert np.all((np.asarray(state.g_prog) >= 0.0) & (np.asarray(state.g_prog) <= 25.0))


def test_write_verify_needs_no_pulse_at_g_min():
    _, state = write_verify_state(g_target=jnp.zeros(10))
    np.testing.assert_array_equal(state.pulses, 0)
    np.testing.assert_array_equal(state.g_prog, 0.0)


def test_tighter_tolerance_costs_more_pulses():
    loose = np.asarray(write_verify_state(0.02)[1].pulses)
    tight = np.asarray(write_verify_state(0.005)[1].pulses)
    # Standard error of the difference of means as for independent samples; shared targets only shrink it.
    se = np.sqrt((loose.var() + tight.var()) / loose.size)
    assert tight.mean() - loose.mean() > 5 * se


@pytest.mark.parametrize("a", [1e3, 1e6])
def test_linear_response_takes_target_over_step_pulses(a):
    """A linear, noiseless response moves (g_max - g_min) / P_max per pulse; with a band of 0.6 steps the
    loop stops after ceil(g_T / step - 0.6) pulses, within 0.6 of g_T / step."""
    p_max = 100.0
    response = PulseResponse(a_ltp=a, a_ltd=a, p_max=p_max, c2c_sigma=0.0)
    g_target, state = write_verify_state(0.6 / p_max, response)
    step = 25.0 / p_max
    np.testing.assert_allclose(state.pulses, np.asarray(g_target) / step, rtol=0, atol=0.65)
    np.testing.assert_allclose(state.g_prog, g_target, rtol=0, atol=0.6 * step + 1e-3)
