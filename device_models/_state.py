"""The state of a programmed array of devices."""

import equinox as eqx
import jax


class DeviceState(eqx.Module):
    """What programming leaves in an array of devices, all arrays of the target's shape.

    Attributes:
        g_prog: conductance right after programming (uS).
        nu: drift exponent of each device before the model's ``drift_scale`` (PCM), else ``None``.
        stuck: 0 healthy, 1 stuck at g_min, 2 stuck at g_max (int8), or ``None`` without faults.
        pulses: programming pulses spent by a write-verify loop (int32), else ``None``.
        g_ceiling: each device's own g_max (uS) when the model has a g_max spread, else ``None``.
    """

    g_prog: jax.Array
    nu: jax.Array | None = None
    stuck: jax.Array | None = None
    pulses: jax.Array | None = None
    g_ceiling: jax.Array | None = None
