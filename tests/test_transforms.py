"""Every device model under jax.jit, jax.vmap (parameter sweeps and trials) and jax.grad."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from device_models import PCM, RRAM, Ideal, StuckAtFaults, WriteVerify

TIMES = jnp.array([0.0, 3600.0, 3.15e7])
G = jnp.linspace(10.0, 20.0, 64)  # inside every window, away from the clips
DEVICES = {
    "pcm": PCM(),
    "rram": RRAM(),
    "ideal": Ideal(),
    "pcm-full": PCM(
        write_verify=WriteVerify(),
        faults=StuckAtFaults(p_off=0.1, p_on=0.1),
        levels=16,
        g_max_spread=0.02,
        time_semantics="trajectory",
    ),
}
each_device = pytest.mark.parametrize("dev", DEVICES.values(), ids=DEVICES.keys())
# XLA fuses and contracts floating-point operations differently under jit and vmap: results agree to the
# last bits (uS), where a different draw would differ by the noise, 0.1 to 1 uS.
LAST_BITS = 1e-4


def program_and_read(dev, key, g_target):
    k_prog, k_read = jax.random.split(key)
    return dev.read(k_read, dev.program(k_prog, g_target), TIMES)


jitted = eqx.filter_jit(program_and_read)


@eqx.filter_jit
def gradient(dev, key, g_target):
    """Gradient of the sum of all reads with respect to the targets."""
    return jax.grad(lambda g: program_and_read(dev, key, g).sum())(g_target)


@pytest.mark.slow
@each_device
def test_jit_matches_eager(dev):
    eager = program_and_read(dev, jax.random.key(0), G)
    np.testing.assert_allclose(jitted(dev, jax.random.key(0), G), eager, rtol=0, atol=LAST_BITS)


@each_device
@pytest.mark.slow
def test_same_seed_same_numbers(dev):
    first = jitted(dev, jax.random.key(1), G)
    np.testing.assert_array_equal(first, jitted(dev, jax.random.key(1), G))
    if dev is not DEVICES["ideal"]:
        assert np.any(first != jitted(dev, jax.random.key(2), G))


@pytest.mark.parametrize("model", [PCM, RRAM])
@pytest.mark.slow
def test_vmap_over_drift_scale_matches_loop(model):
    state = model().program(jax.random.key(3), G)
    scales = jnp.linspace(0.0, 2.0, 16)
    swept = jax.vmap(lambda s: model(drift_scale=s).read(jax.random.key(4), state, 3600.0))(scales)
    looped = jnp.stack([model(drift_scale=s).read(jax.random.key(4), state, 3600.0) for s in scales])
    np.testing.assert_array_equal(swept, looped)
    assert len(np.unique(np.asarray(swept[:, -1]))) == len(scales)


@pytest.mark.slow
def test_vmap_over_a_batch_of_models():
    """A sweep as a pytree: one PCM whose parameters are batched, vmapped with equinox."""
    models = jax.vmap(lambda s, r: PCM(drift_scale=s, read_noise_scale=r))(
        jnp.linspace(0.0, 2.0, 4), jnp.linspace(0.5, 1.5, 4)
    )
    state = PCM().program(jax.random.key(5), G)
    swept = eqx.filter_vmap(lambda m: m.read(jax.random.key(6), state, 3600.0))(models)
    looped = [
        PCM(drift_scale=s, read_noise_scale=r).read(jax.random.key(6), state, 3600.0)
        for s, r in zip(models.drift_scale, models.read_noise_scale, strict=True)
    ]
    np.testing.assert_array_equal(swept, jnp.stack(looped))


@pytest.mark.parametrize("name", ["rram", "ideal", "pcm-full"])
@pytest.mark.slow
def test_vmap_over_trials_matches_loop(name):
    dev = DEVICES[name]
    keys = jax.random.split(jax.random.key(7), 4)
    trials = eqx.filter_jit(jax.vmap(program_and_read, in_axes=(None, 0, None)))(dev, keys, G)
    np.testing.assert_allclose(trials, jnp.stack([jitted(dev, k, G) for k in keys]), rtol=0, atol=LAST_BITS)


@each_device
@pytest.mark.slow
def test_gradient_is_finite(dev):
    grad = gradient(dev, jax.random.key(8), G)
    assert grad.shape == G.shape and np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    "dev",
    [Ideal(), Ideal(write_verify=WriteVerify(), levels=16)],
    ids=["plain", "write-verify-levels"],
)
def test_gradient_passes_straight_through(dev):
    np.testing.assert_array_equal(gradient(dev, jax.random.key(9), G), np.full(G.shape, len(TIMES)))


def test_write_verify_gradient_is_straight_through_for_pcm():
    dev = PCM(write_verify=WriteVerify())
    grad = jax.grad(lambda g: dev.program(jax.random.key(10), g).g_prog.sum())(G)
    np.testing.assert_array_equal(grad, np.ones(G.shape))
