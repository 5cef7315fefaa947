"""PCM against the closed forms of docs/models.md section 1 (Joshi et al. 2020)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from _jitted import expected, program, read
from _stats import assert_corr, assert_mean, assert_std

from device_models import PCM

N = 200_000
LEVELS = np.array([2.0, 5.0, 10.0, 15.0, 20.0])  # at least 4.8 sigma above the clip at 0
TIMES = np.array([0.0, 60.0, 3600.0, 86400.0, 3.15e7])
T0, T_READ = 20.0, 250e-9


def targets(levels, n=N):
    """Shape (len(levels), n): n devices per target level."""
    return jnp.broadcast_to(jnp.asarray(levels, jnp.float32)[:, None], (len(levels), n))


def sigma_prog(g_target, g_max=25.0):
    gn = g_target / g_max
    return g_max / 25.0 * (0.26348 + 1.9650 * gn - 1.1731 * gn**2)


def nu_distribution(g_target, g_max=25.0):
    """|mu_nu + sigma_nu xi| is folded normal with shape mu_nu / sigma_nu and scale sigma_nu."""
    log_gr = np.log(np.maximum(g_target / g_max, 1e-12))
    mu = np.clip(-0.0155 * log_gr + 0.0244, 0.049, 0.1)
    sigma = np.clip(-0.0125 * log_gr - 0.0059, 0.008, 0.045)
    return scipy.stats.foldnorm(mu / sigma, scale=sigma)


def q_s(g_prog, g_max=25.0):
    return np.minimum(0.0088 / np.maximum((g_prog / g_max) ** 0.65, 1e-3), 0.2)


def noise_clock(t):
    return np.log((t + T0 + T_READ) / (2 * T_READ))


def relative_read_noise(dev, state, g_read, t):
    """(read - expected) / (expected Q_s): standard normal times read_noise_scale sqrt(clock(t))."""
    g_drift = np.asarray(expected(dev, state, t), np.float64)
    return (np.asarray(g_read, np.float64) - g_drift) / (g_drift * q_s(np.asarray(state.g_prog, np.float64)))


@pytest.mark.parametrize("scale", [0.5, 1.0])
def test_programming_noise_follows_sigma_polynomial(scale):
    state = program(PCM(prog_noise_scale=scale), jax.random.key(0), targets(LEVELS))
    sigma = scale * sigma_prog(LEVELS)
    assert_mean(state.g_prog, LEVELS, sigma)
    assert_std(state.g_prog, sigma)


def test_programming_sigma_scales_with_g_max():
    levels = 2.0 * LEVELS
    state = program(PCM(g_max=50.0), jax.random.key(1), targets(levels))
    sigma = sigma_prog(levels, g_max=50.0)
    np.testing.assert_allclose(sigma, 2.0 * sigma_prog(LEVELS), rtol=1e-12)
    assert_mean(state.g_prog, levels, sigma)
    assert_std(state.g_prog, sigma)


def test_zero_programming_noise_programs_exactly():
    g = targets(LEVELS, n=1000)
    state = program(PCM(prog_noise_scale=0.0), jax.random.key(2), g)
    np.testing.assert_array_equal(state.g_prog, g)


def test_drift_exponent_is_folded_normal():
    levels = np.array([0.1, 2.0, 5.0, 10.0, 20.0])  # 0.1 uS: both clips of mu_nu and sigma_nu bite
    state = program(PCM(), jax.random.key(3), targets(levels))
    dist = nu_distribution(levels)
    mean, var, _, kurtosis = dist.stats(moments="mvsk")
    assert np.all(state.nu >= 0)
    assert_mean(state.nu, mean, np.sqrt(var))
    assert_std(state.nu, np.sqrt(var), kurtosis)


@pytest.mark.parametrize("drift_scale", [1.0, 0.5])
def test_expected_conductance_is_power_law_drift(drift_scale):
    dev = PCM(drift_scale=drift_scale)
    state = program(dev, jax.random.key(4), targets(LEVELS, n=1000))
    g_prog, nu = (np.asarray(x, np.float64) for x in (state.g_prog, state.nu))
    closed = g_prog * ((TIMES[:, None, None] + T0) / T0) ** (-drift_scale * nu)
    np.testing.assert_allclose(expected(dev, state, TIMES), closed, rtol=1e-5)


def test_zero_drift_scale_means_no_drift():
    dev = PCM(drift_scale=0.0)
    state = program(dev, jax.random.key(5), targets(LEVELS, n=1000))
    g = expected(dev, state, TIMES)
    np.testing.assert_array_equal(g, jnp.broadcast_to(state.g_prog, g.shape))


def read_noise_sample(dev, seed):
    """Relative read noise z of shape (len(TIMES), 2, N), at 5 and 20 uS (Q_s about 0.025 and 0.010)."""
    state = program(dev, jax.random.key(seed), targets([5.0, 20.0]))
    return relative_read_noise(dev, state, read(dev, jax.random.key(seed + 1), state, TIMES), TIMES)


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
@pytest.mark.parametrize("read_scale", [1.0, 2.0])
@pytest.mark.slow
def test_read_noise_grows_with_log_time(semantics, read_scale):
    z = read_noise_sample(PCM(read_noise_scale=read_scale, time_semantics=semantics), seed=6)
    sigma = read_scale * np.sqrt(noise_clock(TIMES))[:, None]
    assert np.all(np.diff(sigma, axis=0) > 0)
    assert_mean(z, 0.0, sigma)
    assert_std(z, sigma)


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
def test_read_noise_correlation_across_times(semantics):
    """Snapshot reads at different times are independent. A trajectory is W(clock(t)) for a Brownian
    motion W, so Corr(t1, t2) = sqrt(clock(t1) / clock(t2)) for t1 < t2."""
    z = read_noise_sample(PCM(time_semantics=semantics), seed=8)
    clock = noise_clock(TIMES)
    for i, j in itertools.combinations(range(len(TIMES)), 2):
        rho = 0.0 if semantics == "snapshot" else np.sqrt(clock[i] / clock[j])
        for level in range(z.shape[1]):
            assert_corr(z[i, level], z[j, level], rho)


def test_zero_read_noise_reads_expected():
    dev = PCM(read_noise_scale=0.0)
    state = program(dev, jax.random.key(10), targets(LEVELS, n=1000))
    np.testing.assert_array_equal(read(dev, jax.random.key(11), state, TIMES), expected(dev, state, TIMES))


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
@pytest.mark.slow
def test_same_key_and_time_repeat_exactly(semantics):
    dev = PCM(time_semantics=semantics)
    state = program(dev, jax.random.key(14), targets(LEVELS, n=1000))
    first = read(dev, jax.random.key(15), state, TIMES)
    np.testing.assert_array_equal(first, read(dev, jax.random.key(15), state, TIMES))
    assert np.all(first != read(dev, jax.random.key(16), state, TIMES))


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
def test_reading_an_array_of_times_equals_separate_reads(semantics):
    dev = PCM(time_semantics=semantics)
    state = program(dev, jax.random.key(17), targets(LEVELS, n=1000))
    together = read(dev, jax.random.key(18), state, TIMES)
    separate = np.stack([read(dev, jax.random.key(18), state, t) for t in TIMES])
    assert together.shape == (len(TIMES), *state.g_prog.shape)
    if semantics == "snapshot":
        np.testing.assert_array_equal(together, separate)
    else:
        # The Brownian tree's bisection compiles differently batched over t: float32 rounding only,
        # against a read-noise spread of about 1 uS between different paths.
        np.testing.assert_allclose(together, separate, rtol=0, atol=1e-4)
