"""Finite conductance states: a device holds one of ``n`` evenly spaced levels in [g_min, g_max]."""

import jax
import jax.numpy as jnp


def quantize_to_levels(g: jax.Array, g_min: jax.Array, g_max: jax.Array, levels: int) -> jax.Array:
    """Round ``g`` (uS) to the nearest of ``levels`` states; the gradient passes straight through."""
    step = (g_max - g_min) / (levels - 1)
    rounded = g_min + jnp.round((g - g_min) / step) * step
    return g + jax.lax.stop_gradient(rounded - g)
