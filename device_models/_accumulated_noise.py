"""Noise that accumulates with time since programming, under two time semantics.

A device's accumulated noise at time t is zero-mean Gaussian with a variance ``clock(t)`` that grows with
log t (1/f read noise, conductance relaxation). Two ways to draw it:

- ``"snapshot"``: a fresh draw at every t, independent across times (the semantics of aihwkit's
  ``PCMLikeNoiseModel``); the time is folded into the key, so the same key and t give the same numbers.
- ``"trajectory"``: one device followed through time, W(clock(t)) for a Brownian motion W, so that reads at
  t1 < t2 share the noise accumulated up to t1: Cov = clock(t1). The path is a virtual Brownian tree
  (diffrax), a deterministic function of the key, so separate reads with one key lie on one path.

Both give the same marginal distribution at every t.
"""

import diffrax
import jax
import jax.numpy as jnp

from emulator_common.random import normal

TIME_SEMANTICS = ("snapshot", "trajectory")
TRAJECTORY_HORIZON_S = 1e20
"""Trajectories are exact up to this time (s), about 3e12 years; later reads see the path frozen there."""
_TREE_TOLERANCE = 2.0**-14


def accumulated_noise(
    key: jax.Array,
    clock: jax.Array,
    clock_horizon: jax.Array,
    shape: tuple[int, ...],
    semantics: str,
    dtype=jnp.float32,
) -> jax.Array:
    """Zero-mean Gaussian noise of ``shape`` with variance ``clock`` (>= 0, the same for every element).

    ``clock_horizon`` is the clock at ``TRAJECTORY_HORIZON_S``; it scales the Brownian tree to [0, 1].
    For ``"snapshot"`` the caller passes a key already tagged with the time (``time_tag``).
    """
    if semantics == "snapshot":
        return jnp.sqrt(clock) * normal(key, shape, dtype)
    tree = diffrax.VirtualBrownianTree(
        0.0, 1.0, tol=_TREE_TOLERANCE, shape=jax.ShapeDtypeStruct(shape, dtype), key=key
    )
    u = jnp.clip(clock / clock_horizon, 0.0, 1.0)
    return jnp.sqrt(clock_horizon).astype(dtype) * tree.evaluate(u)
