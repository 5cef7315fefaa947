"""Rounding to a grid of values with a straight-through gradient: the steps of a converter, the finite
conductance states of a device."""

import jax
import jax.numpy as jnp


def round_to_step(x: jax.Array, step: jax.Array, origin: jax.Array = 0.0) -> jax.Array:
    """Round ``x`` to the nearest ``origin + k * step``; the gradient passes straight through."""
    rounded = origin + jnp.round((x - origin) / step) * step
    return x + jax.lax.stop_gradient(rounded - x)
