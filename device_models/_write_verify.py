"""Write-verify programming: pulse, read, repeat until within tolerance or out of pulses."""

import equinox as eqx
import jax
import jax.numpy as jnp

from emulator_common.random import normal
from emulator_common.validation import as_array, require_integer, require_positive

from ._pulse_response import PulseResponse

MAX_PULSES = 10_000
"""A pulse budget per device beyond any write-verify scheme in use; the loop's time grows with it."""


class WriteVerify(eqx.Module):
    """A program-and-verify loop driving devices from g_min towards their targets with single pulses.

    Each step reads every unfinished device; one within ``tolerance`` stops; one below its target gets a
    potentiation pulse, one above a depression pulse, each followed by cycle-to-cycle noise.

    Attributes:
        response: the device's pulse response.
        tolerance: acceptance band, a fraction of (g_max - g_min) on either side of the target.
        max_pulses: pulse budget per device (static).
    """

    response: PulseResponse = PulseResponse()
    tolerance: jax.Array = eqx.field(converter=as_array, default=0.01)
    max_pulses: int = eqx.field(static=True, default=200)

    def __check_init__(self):
        require_positive("write_verify.tolerance", self.tolerance)
        require_integer("write_verify.max_pulses", self.max_pulses, 1, maximum=MAX_PULSES)

    def program(self, key: jax.Array, g_target: jax.Array, g_min: jax.Array, g_max: jax.Array):
        """Programmed conductances (uS) and pulses used (int32), both of ``g_target``'s shape.

        ``g_max`` may be per device. Differentiable in ``g_target`` by a straight-through estimator.
        """
        target, g_min, g_max = jax.lax.stop_gradient((g_target, g_min, g_max))
        span = g_max - g_min
        band = self.tolerance * span
        sigma = self.response.c2c_sigma * span

        def unfinished(carry):
            g, _, step = carry
            return (step < self.max_pulses) & jnp.any(jnp.abs(g - target) > band)

        def pulse(carry):
            g, pulses, step = carry
            active = jnp.abs(g - target) > band
            moved = jnp.where(
                g < target,
                self.response.potentiate(g, g_min, g_max),
                self.response.depress(g, g_min, g_max),
            )
            noise = sigma * normal(jax.random.fold_in(key, step), g.shape, g.dtype)
            g_next = jnp.clip(moved + noise, g_min, g_max)
            return jnp.where(active, g_next, g), pulses + active, step + 1

        start = jnp.broadcast_to(g_min, target.shape).astype(target.dtype)
        carry = (start, jnp.zeros(target.shape, jnp.int32), jnp.int32(0))
        g, pulses, _ = jax.lax.while_loop(unfinished, pulse, carry)
        return g_target + jax.lax.stop_gradient(g - g_target), pulses
