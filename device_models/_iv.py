"""Current-voltage nonlinearity of a device: I = g sinh(b V) / b (docs/models.md section 3)."""

import jax
import jax.numpy as jnp


def sinh_current(g: jax.Array, v: jax.Array, b: jax.Array) -> jax.Array:
    """Device current (uA) for conductance ``g`` (uS) at voltage ``v`` (V) with nonlinearity ``b`` (1/V).

    The slope at V = 0 is ``g``; ``b = 0`` is the linear device I = g V. Safe to differentiate at b V = 0.
    """
    x = b * v
    small = jnp.abs(x) < 1e-3
    x_safe = jnp.where(small, 1.0, x)
    sinhc = jnp.where(small, 1.0 + x * x / 6.0, jnp.sinh(x_safe) / x_safe)
    return g * v * sinhc
