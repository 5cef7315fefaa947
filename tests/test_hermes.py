"""The HERMES-chip PCM model against the closed forms of aihwkit's HermesNoiseModel (docs/models.md
section 1.1), for two and for one device per weight."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from _jitted import expected, program, read
from _stats import assert_mean, assert_std

from device_models import HermesPCM

N = 100_000
# targets as fractions of g_max, on both sides of every knee (0.0945, 0.16, 0.3039, 0.3055); those of the
# programming test lie at least 3.5 sigma above the clip at 0
FRACTIONS = np.array([0.05, 0.12, 0.25, 0.5, 0.9])
PROGRAMMED = FRACTIONS[1:]
COEFFICIENTS = {
    # devices per weight: (g_max, t0, programming cubic, nu std below/above, Q_s below/above)
    2: (
        20.7,
        300.0,
        (0.16603222, 4.71806468, -8.48101252, 4.68961419),
        (0.3055, lambda g: np.clip(-0.0117 * np.log(g) - 0.0057, 0.0091, 0.04),
         (-0.0118, 0.0093, 0.0073)),
        (0.16, lambda g: np.clip(-0.0117 * np.log(g) - 0.0069, 0.015, 0.04),
         (0.0069, -0.0280, 0.0211, 0.0123)),
    ),
    1: (
        10.35,
        200.0,
        (0.15781817, 2.32443916, -2.16310839, 0.68841818),
        (0.3039, lambda g: np.clip(-0.0120 * np.log(g) - 0.0023, 0.0124, 0.04),
         (-0.0165, 0.0116, 0.0104)),
        (0.1591, lambda g: np.clip(-0.0078 * np.log(g) + 0.0038, 0.0179, 0.04),
         (0.0664, -0.1352, 0.0768, 0.0088)),
    ),
}  # fmt: skip


def piecewise(g, knee, below, above):
    return np.where(g < knee, below(g), np.polyval(above, g))


def nu_mean(g):
    return piecewise(
        g, 0.0945, lambda g: np.clip(-0.0387 * np.log(g) - 0.0182, 0.0720, 0.13), (-0.0436, -0.0126, 0.0736)
    )


def device(devices: int, **fields) -> HermesPCM:
    g_max, t0 = COEFFICIENTS[devices][:2]
    return HermesPCM(devices_per_weight=devices, g_max=g_max, t0=t0, **fields)


def targets(g_max: float, fractions=FRACTIONS) -> jax.Array:
    return jnp.broadcast_to(jnp.asarray(fractions * g_max, jnp.float32)[:, None], (len(fractions), N))


@pytest.mark.parametrize("devices", [2, 1])
def test_programming_noise_follows_the_cubic(devices):
    g_max, _, cubic, _, _ = COEFFICIENTS[devices]
    state = program(device(devices), jax.random.key(0), targets(g_max, PROGRAMMED))
    sigma = np.polyval(cubic[::-1], PROGRAMMED)  # at the characterized g_max
    assert_mean(state.g_prog, PROGRAMMED * g_max, sigma)
    assert_std(state.g_prog, sigma)


@pytest.mark.parametrize("devices", [2, 1])
def test_drift_exponents_are_folded_normals_of_the_piecewise_fits(devices):
    g_max, _, _, nu_std, _ = COEFFICIENTS[devices]
    state = program(device(devices), jax.random.key(1), targets(g_max))
    mu, sigma = nu_mean(FRACTIONS), piecewise(FRACTIONS, *nu_std)
    folded = scipy.stats.foldnorm(mu / sigma, scale=sigma)
    assert_mean(state.nu, folded.mean(), folded.std())
    assert_std(state.nu, folded.std(), folded.stats(moments="k"))


@pytest.mark.parametrize("devices", [2, 1])
@pytest.mark.parametrize("t", [0.0, 3600.0, 3.15e7])
def test_reads_drift_as_a_power_law_with_piecewise_1_over_f_noise(devices, t):
    g_max, t0, _, _, q_s_fit = COEFFICIENTS[devices]
    dev = device(devices, read_noise_scale=0.5, prog_noise_scale=0.2)  # no device programmed to 0
    state = program(dev, jax.random.key(2), targets(g_max))
    g_prog, nu = np.asarray(state.g_prog, np.float64), np.asarray(state.nu, np.float64)
    g_drift = g_prog * ((t + t0) / t0) ** (-nu)
    np.testing.assert_allclose(expected(dev, state, t), g_drift, rtol=2e-5)
    q_s = piecewise(np.maximum(g_prog / g_max, 1e-7), *q_s_fit)
    clock = np.log((t + t0 + 512e-9) / (2 * 512e-9))
    relative = (np.asarray(read(dev, jax.random.key(3), state, t), np.float64) - g_drift) / (g_drift * q_s)
    assert np.all(np.isfinite(relative))
    assert_mean(relative, 0.0, 0.5 * np.sqrt(clock))
    assert_std(relative, 0.5 * np.sqrt(clock))


def test_g_max_beyond_the_characterized_range_is_refused():
    with pytest.raises(ValueError, match="g_max: expected at most 10.35 uS"):
        HermesPCM(devices_per_weight=1, g_max=20.7)
    with pytest.raises(ValueError, match="devices_per_weight: expected 1 or 2"):
        HermesPCM(devices_per_weight=3)


@pytest.mark.slow
def test_sweepable_under_vmap_and_differentiable():
    state = program(HermesPCM(), jax.random.key(4), jnp.full((8,), 10.0))
    scales = jnp.linspace(0.0, 2.0, 4)
    g = jax.vmap(lambda s: HermesPCM(drift_scale=s).read(jax.random.key(5), state, 86400.0))(scales)
    assert g.shape == (4, 8)
    np.testing.assert_allclose(g[0], HermesPCM(drift_scale=0.0).read(jax.random.key(5), state, 86400.0))
    grad = jax.grad(lambda target: HermesPCM().program(jax.random.key(6), target).g_prog.sum())(
        jnp.full((4,), 10.0)
    )
    assert np.all(np.isfinite(grad))
