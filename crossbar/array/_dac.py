"""Digital-to-analog conversion of the inputs of a tile."""

import equinox as eqx
import jax
import jax.numpy as jnp

from emulator_common.rounding import round_to_step
from emulator_common.validation import MAX_BITS, as_array, require_choice, require_integer, require_positive

ENCODINGS = ("pulse_width", "amplitude")


class DAC(eqx.Module):
    """Input converter: clips normalized inputs to [-1, 1] and rounds them to ``2 / (2**bits - 2)`` steps.

    Attributes:
        bits: resolution, or ``None`` for an ideal converter that does not round (static).
        v_read: voltage of a full-scale input (V); the device I-V and IR drop see x * v_read.
        encoding: ``"pulse_width"`` (fixed amplitude v_read, input in the duration: the I-V nonlinearity
            scales all inputs alike) or ``"amplitude"`` (input in the voltage: the I-V nonlinearity bends
            the input) (static).
    """

    bits: int | None = eqx.field(static=True, default=7)
    v_read: jax.Array = eqx.field(converter=as_array, default=0.2)
    encoding: str = eqx.field(static=True, default="pulse_width")

    def __check_init__(self):
        if self.bits is not None:
            require_integer("dac.bits", self.bits, 2, " (or None for no rounding)", MAX_BITS)
        require_positive("dac.v_read", self.v_read)
        require_choice("dac.encoding", self.encoding, ENCODINGS)

    @property
    def step(self) -> float:
        """Quantization step in normalized input units (aihwkit's inp_res = 1 / (2**bits - 2), range 2)."""
        return 2.0 / (2**self.bits - 2)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Normalized inputs (any shape) -> the values the DAC can produce, in [-1, 1]."""
        x = jnp.clip(x, -1.0, 1.0)
        return x if self.bits is None else round_to_step(x, self.step)
