"""RRAM against its closed forms: linear programming sigma, log-time relaxation, 1/f read noise
(docs/models.md section 2, aihwkit's ReRamCMONoiseModel)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _jitted import expected, program, read
from _stats import assert_corr, assert_mean, assert_std

from device_models import RRAM

N = 200_000
LEVELS = np.array([12.0, 30.0, 50.0, 80.0])  # at least 8 sigma inside the window [9, 88.2]
TIMES = np.array([0.0, 1.0, 60.0, 3600.0, 86400.0, 3.15e7])
DEFAULT = RRAM()


def targets(levels, n=N):
    """Shape (len(levels), n): n devices per target level."""
    return jnp.broadcast_to(jnp.asarray(levels, jnp.float32)[:, None], (len(levels), n))


def log_time(t):
    return np.log(np.maximum(t, 1.0))


def relaxation_sigma(t):
    return float(DEFAULT.relax_std_offset) + float(DEFAULT.relax_std_slope) * log_time(t)


def read_noise_clock(t):
    t_read = float(DEFAULT.t_read)
    return np.log((np.maximum(t, 1.0) + t_read) / (2 * t_read))


def deviation(dev, key, state, t):
    """Read minus expected conductance (uS), shape t.shape + state shape."""
    return np.asarray(read(dev, key, state, t), np.float64) - np.asarray(expected(dev, state, t), np.float64)


def test_window_has_finite_on_off_ratio():
    assert 0 < float(DEFAULT.g_min) < float(DEFAULT.g_max)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_programming_sigma_is_linear_in_target(scale):
    state = program(RRAM(prog_noise_scale=scale), jax.random.key(0), targets(LEVELS))
    sigma = scale * (float(DEFAULT.prog_sigma_offset) + float(DEFAULT.prog_sigma_slope) * LEVELS)
    assert_mean(state.g_prog, LEVELS, sigma)
    assert_std(state.g_prog, sigma)


@pytest.mark.parametrize("drift_scale", [1.0, 0.5])
def test_expected_conductance_shifts_linearly_in_log_time(drift_scale):
    dev = RRAM(drift_scale=drift_scale)
    state = program(dev, jax.random.key(1), targets(LEVELS, n=1000))
    shift = drift_scale * float(DEFAULT.relax_mean_slope) * log_time(TIMES)
    closed = np.asarray(state.g_prog, np.float64) + shift[:, None, None]
    np.testing.assert_allclose(expected(dev, state, TIMES), closed, rtol=1e-6)


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
@pytest.mark.parametrize("drift_scale", [1.0, 2.0])
@pytest.mark.slow
def test_relaxation_spread_grows_with_log_time(semantics, drift_scale):
    dev = RRAM(read_noise_scale=0.0, drift_scale=drift_scale, time_semantics=semantics)
    state = program(dev, jax.random.key(2), jnp.full((N,), 40.0))
    noise = deviation(dev, jax.random.key(3), state, TIMES)
    sigma = drift_scale * relaxation_sigma(TIMES)
    assert_mean(noise, 0.0, sigma)
    assert_std(noise, sigma)


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
@pytest.mark.parametrize("read_scale", [1.0, 3.0])
def test_read_noise_grows_with_log_time(semantics, read_scale):
    dev = RRAM(drift_scale=0.0, read_noise_scale=read_scale, time_semantics=semantics)
    state = program(dev, jax.random.key(4), jnp.full((N,), 40.0))
    g_prog = np.asarray(state.g_prog, np.float64)
    z = (np.asarray(read(dev, jax.random.key(5), state, TIMES)) - g_prog) / (
        float(DEFAULT.read_noise_k) * np.abs(np.log10(g_prog))
    )
    sigma = read_scale * np.sqrt(read_noise_clock(TIMES))
    assert_mean(z, 0.0, sigma)
    assert_std(z, sigma)


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
def test_relaxation_correlation_across_times(semantics):
    """Snapshot reads at different times are independent. A trajectory's relaxation is W(sigma(t)^2) for a
    Brownian motion W, so Corr(t1, t2) = sigma(t1) / sigma(t2) for t1 < t2."""
    dev = RRAM(read_noise_scale=0.0, time_semantics=semantics)
    state = program(dev, jax.random.key(6), jnp.full((N,), 40.0))
    noise = deviation(dev, jax.random.key(7), state, TIMES)
    sigma = relaxation_sigma(TIMES)
    for i, j in itertools.combinations(range(1, len(TIMES)), 2):  # t = 0 reads the state at t = 1 s
        assert_corr(noise[i], noise[j], 0.0 if semantics == "snapshot" else sigma[i] / sigma[j])


def test_reads_stay_inside_the_window():
    dev = RRAM(prog_noise_scale=50.0, read_noise_scale=30.0, drift_scale=10.0)
    g_target = jnp.linspace(0.0, 100.0, N)
    state = program(dev, jax.random.key(10), g_target)
    g = np.concatenate(
        [np.asarray(state.g_prog)[None], np.asarray(read(dev, jax.random.key(11), state, TIMES))]
    )
    g_min, g_max = float(dev.g_min), float(dev.g_max)
    assert g.min() >= g_min and g.max() <= g_max
    # The noise is large enough that both clips are exercised.
    assert np.any(g == g_min) and np.any(g == g_max)
