"""Drift compensation (aihwkit's GlobalDriftCompensation and a per-column variant, models.md section 5):
read each tile with one-hot inputs through the whole noisy path right after programming and again at time
t; scale that tile's outputs by the ratio of the mean absolute outputs."""

import jax
import jax.numpy as jnp

from ._periphery import Periphery, managed_mvm


def readout(key: jax.Array, w: jax.Array, periphery: Periphery, valid: jax.Array, mode: str) -> jax.Array:
    """Mean |output| of every tile for one-hot inputs on its used rows.

    Args:
        w: weights as read (n_r, n_c, R, C).
        valid: which weights are real, not padding (n_r, n_c, R, C).
        mode: ``"global"`` -> (n_r, n_c, 1); ``"per_column"`` -> (n_r, n_c, C).
    """
    n_r, n_c, rows, _ = w.shape
    keys = jax.random.split(key, n_r * n_c).reshape(n_r, n_c)
    one_hot = jnp.eye(rows, dtype=w.dtype)
    out = jax.vmap(jax.vmap(lambda k, wt: managed_mvm(k, one_hot, wt, periphery)))(keys, w)
    magnitude = jnp.where(valid, jnp.abs(out), 0.0)
    axes = (2, 3) if mode == "global" else (2,)
    count = jnp.sum(valid, axis=axes)
    mean = jnp.sum(magnitude, axis=axes) / jnp.maximum(count, 1)
    return mean[..., None] if mode == "global" else mean


def compensation_factor(baseline: jax.Array, now: jax.Array) -> jax.Array:
    """Output scale b0 / b_t per tile (or per tile column); 1 where nothing was read."""
    return jnp.where(now > 0, baseline / jnp.where(now > 0, now, 1.0), 1.0)
