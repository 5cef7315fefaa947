"""Rounding to a grid of values with a straight-through gradient: finite conductance states of a device,
and the steps of a converter."""

import jax
import jax.numpy as jnp


def round_to_step(x: jax.Array, step: jax.Array, origin: jax.Array = 0.0) -> jax.Array:
    """Round ``x`` to the nearest ``origin + k * step``; the gradient passes straight through."""
    rounded = origin + jnp.round((x - origin) / step) * step
    return x + jax.lax.stop_gradient(rounded - x)


def quantize_to_levels(g: jax.Array, g_min: jax.Array, g_max: jax.Array, levels: int) -> jax.Array:
    """Round ``g`` (uS) to the nearest of ``levels`` evenly spaced states in [g_min, g_max]."""
    return round_to_step(g, (g_max - g_min) / (levels - 1), g_min)
