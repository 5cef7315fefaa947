"""Finite conductance states of a device: g rounded to evenly spaced levels (docs/models.md section 3)."""

import jax

from emulator_common.rounding import round_to_step

MAX_LEVELS = 2**24
"""More states than float32's 24-bit significand resolves across a window are a continuum (``levels=0``)."""


def quantize_to_levels(g: jax.Array, g_min: jax.Array, g_max: jax.Array, levels: int) -> jax.Array:
    """Round ``g`` (uS) to the nearest of ``levels`` evenly spaced states in [g_min, g_max]."""
    return round_to_step(g, (g_max - g_min) / (levels - 1), g_min)
