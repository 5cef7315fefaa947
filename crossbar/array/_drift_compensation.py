"""Drift compensation (aihwkit's GlobalDriftCompensation and a per-column variant, docs/models.md section 5):
read each tile with one-hot inputs through the whole noisy path right after programming and again at time
t; scale that tile's outputs by the ratio of the mean absolute outputs."""

import jax
import jax.numpy as jnp

DRIFT_COMPENSATION = ("none", "global", "per_column")


def mean_abs_output(out: jax.Array, valid: jax.Array, mode: str) -> jax.Array:
    """Mean |output| of the real (not padding) rows and columns of every tile.

    Args:
        out: outputs of every tile for one-hot inputs on each of its rows (n_r, n_c, R, C).
        valid: which weights of the tile grid are real (n_r, n_c, R, C).
        mode: ``"global"`` -> (n_r, n_c, 1); ``"per_column"`` -> (n_r, n_c, C).
    """
    magnitude = jnp.where(valid, jnp.abs(out), 0.0)
    axes = (2, 3) if mode == "global" else (2,)
    mean = jnp.sum(magnitude, axis=axes) / jnp.maximum(jnp.sum(valid, axis=axes), 1)
    return mean[..., None] if mode == "global" else mean


def compensation_factor(baseline: jax.Array, now: jax.Array) -> jax.Array:
    """Output scale b0 / b_t per tile (or per tile column); 1 where nothing was read."""
    return jnp.where(now > 0, baseline / jnp.where(now > 0, now, 1.0), 1.0)
