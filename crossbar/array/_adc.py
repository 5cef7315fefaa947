"""Analog-to-digital conversion of the column outputs of a tile."""

import equinox as eqx
import jax
import jax.numpy as jnp

from emulator_common.rounding import round_to_step
from emulator_common.validation import MAX_BITS, as_array, require_integer, require_positive


class ADC(eqx.Module):
    """Output converter: clips to [-bound, bound] and rounds to ``2 * bound / (2**bits - 2)`` steps.

    Attributes:
        bits: resolution, or ``None`` for an ideal converter that does not round (static).
        bound: full-scale output in the tile's output units (aihwkit's out_bound).
    """

    bits: int | None = eqx.field(static=True, default=9)
    bound: jax.Array = eqx.field(converter=as_array, default=12.0)

    def __check_init__(self):
        if self.bits is not None:
            require_integer("adc.bits", self.bits, 2, " (or None for no rounding)", MAX_BITS)
        require_positive("adc.bound", self.bound)

    def __call__(self, y: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Analog outputs (..., C) -> digital outputs (..., C), and whether each vector clipped (...)."""
        clipped = jnp.any(jnp.abs(y) > self.bound, axis=-1)
        y = jnp.clip(y, -self.bound, self.bound)
        if self.bits is not None:
            y = round_to_step(y, 2.0 * self.bound / (2**self.bits - 2))
        return y, clipped
