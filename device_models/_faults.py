"""Stuck-at faults: devices that hold g_min ("stuck off") or g_max ("stuck on") whatever is programmed."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from emulator_common.fault_codes import HEALTHY, STUCK_OFF, STUCK_ON
from emulator_common.random import uniform
from emulator_common.validation import as_array, require, require_probability


class StuckAtFaults(eqx.Module):
    """Random stuck-at faults, drawn once per programmed chip.

    Attributes:
        p_off: probability that a device is stuck at g_min.
        p_on: probability that a device is stuck at g_max.
    """

    p_off: jax.Array = eqx.field(converter=as_array, default=0.0)
    p_on: jax.Array = eqx.field(converter=as_array, default=0.0)

    def __check_init__(self):
        require_probability("faults.p_off", self.p_off)
        require_probability("faults.p_on", self.p_on)
        require("faults.p_on", self.p_off + self.p_on, lambda s: s <= 1, "p_off + p_on <= 1")

    def draw(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """Fault codes of ``shape`` devices (int8: HEALTHY, STUCK_OFF or STUCK_ON)."""
        u = uniform(key, shape)
        code = jnp.where(u < self.p_off, STUCK_OFF, jnp.where(u < self.p_off + self.p_on, STUCK_ON, HEALTHY))
        return code.astype(jnp.int8)


def require_fault_codes(name: str, codes) -> None:
    """Check a measured fault mask: every code is 0 (healthy), 1 (stuck at g_min) or 2 (stuck at g_max)."""
    require(name, codes, lambda c: np.isin(c, (HEALTHY, STUCK_OFF, STUCK_ON)), "codes 0, 1 or 2")


def merge_fault_codes(drawn: jax.Array | None, measured: jax.Array | None) -> jax.Array | None:
    """Combine random faults with a measured mask: a measured stuck cell wins, else the drawn code."""
    if measured is None:
        return drawn
    measured = jnp.asarray(measured, dtype=jnp.int8)
    return measured if drawn is None else jnp.where(measured != HEALTHY, measured, drawn)
