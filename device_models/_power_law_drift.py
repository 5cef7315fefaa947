"""What PCM-like models share (docs/models.md section 1): power-law drift from a reference time t0, and the
clock of accumulated 1/f read noise."""

import jax
import jax.numpy as jnp


def drifted(g_prog: jax.Array, nu: jax.Array, t: jax.Array, t0: jax.Array) -> jax.Array:
    """g_prog ((t + t0) / t0)^-nu (uS), computed as an exponential of a logarithm: the same value, several
    times faster on CPU than a power with a per-device exponent."""
    return g_prog * jnp.exp(-nu * jnp.log((t + t0) / t0))


def noise_clock(t: jax.Array, t0: jax.Array, t_read: jax.Array) -> jax.Array:
    """Variance of the accumulated relative 1/f read noise per Q_s^2: ln((t + t0 + t_read) / (2 t_read))."""
    return jnp.log((t + t0 + t_read) / (2.0 * t_read))
