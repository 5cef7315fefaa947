"""Compiled program/read/expected for the statistical tests: one compilation per model structure and shape
(parameters are traced, so PCM() and PCM(drift_scale=0.5) share it), instead of op-by-op dispatch."""

import equinox as eqx
import jax.numpy as jnp


@eqx.filter_jit
def program(dev, key, g_target, stuck_mask=None):
    return dev.program(key, g_target, stuck_mask=stuck_mask)


@eqx.filter_jit
def _read(dev, key, state, t):
    return dev.read(key, state, t)


@eqx.filter_jit
def _expected(dev, state, t):
    return dev.expected(state, t)


def read(dev, key, state, t):
    return _read(dev, key, state, jnp.asarray(t, jnp.float32))


def expected(dev, state, t):
    return _expected(dev, state, jnp.asarray(t, jnp.float32))
