"""The PCM devices of IBM's HERMES project chip (14 nm, 64 cores of 256 x 256 unit cells), with the noise
model fitted on that chip as aihwkit publishes it (``HermesNoiseModel``; Le Gallo et al., Nat. Electron. 6,
680, 2023; Khaddam-Aljameh et al., IEEE JSSC 57, 1027, 2022; docs/models.md section 1.1).

Like ``PCM``: programming noise, a drift exponent per device, power-law drift and accumulated 1/f read noise,
with HERMES's own fits: a cubic programming sigma, and piecewise (logarithmic, then polynomial) drift and
read-noise coefficients, for one or two devices per weight polarity.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from emulator_common.random import normal, time_tag
from emulator_common.validation import (
    as_array,
    as_optional_array,
    require,
    require_finite_nonnegative,
    require_positive,
    require_range,
)

from ._accumulated_noise import TRAJECTORY_HORIZON_S, accumulated_noise
from ._device import AbstractDevice
from ._faults import StuckAtFaults
from ._power_law_drift import drifted, noise_clock
from ._state import DeviceState
from ._write_verify import WriteVerify

# Per devices per weight (1 or 2): the largest characterized g_max (uS); the programming sigma (uS) as a
# cubic in g_T / g_max at that g_max; the drift exponent's mean (below the knee: a ln(g) + b clipped to
# [lo, hi]; above: a g^2 + b g + c), its spread (the same forms), and Q_s of the 1/f noise (below the knee:
# a ln(g) + b clipped; above: a cubic). g = g / g_max. All from aihwkit's HermesNoiseModel.
_G_MAX = {1: 10.35, 2: 20.7}
_PROG_SIGMA = {
    1: (0.15781817, 2.32443916, -2.16310839, 0.68841818),
    2: (0.16603222, 4.71806468, -8.48101252, 4.68961419),
}
_NU_MEAN = (0.0945, (-0.0387, -0.0182, 0.0720, 0.13), (-0.0436, -0.0126, 0.0736))
_NU_STD = {
    1: (0.3039, (-0.0120, -0.0023, 0.0124, 0.04), (-0.0165, 0.0116, 0.0104)),
    2: (0.3055, (-0.0117, -0.0057, 0.0091, 0.04), (-0.0118, 0.0093, 0.0073)),
}
_Q_S = {
    1: (0.1591, (-0.0078, 0.0038, 0.0179, 0.04), (0.0664, -0.1352, 0.0768, 0.0088)),
    2: (0.16, (-0.0117, -0.0069, 0.015, 0.04), (0.0069, -0.0280, 0.0211, 0.0123)),
}
_ZERO_CLIP = 1e-7  # g / g_max floor before a logarithm (aihwkit's)


class HermesPCM(AbstractDevice):
    """HERMES-chip PCM: cubic programming noise, piecewise drift exponents, piecewise 1/f read noise.

    Attributes:
        devices_per_weight: PCM devices per weight polarity, 1 or 2, programmed to the same conductance
            (aihwkit's default is 2; static). With 1, aihwkit uses g_max 10.35 uS and t0 200 s: set both.
        g_min, g_max: conductance window (uS); g_max at most the characterized 20.7 uS (10.35 uS with one
            device); the programming sigma scales with g_max / (characterized g_max).
        prog_noise_scale, read_noise_scale, drift_scale: factors on the programming noise, the read noise
            and every device's drift exponent.
        t0: drift reference time, the first read after programming (s): 300 s for two devices, 200 s for one.
        t_read: duration of one read (s), the low-frequency end of the 1/f noise.
        Other fields: see ``AbstractDevice``.
    """

    devices_per_weight: int = eqx.field(static=True, default=2)
    g_min: jax.Array = eqx.field(converter=as_array, default=0.0)
    g_max: jax.Array = eqx.field(converter=as_array, default=20.7)
    prog_noise_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    read_noise_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    drift_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    t0: jax.Array = eqx.field(converter=as_array, default=300.0)
    t_read: jax.Array = eqx.field(converter=as_array, default=512e-9)
    g_max_spread: jax.Array | None = eqx.field(converter=as_optional_array, default=None)
    levels: int = eqx.field(static=True, default=0)
    faults: StuckAtFaults | None = None
    write_verify: WriteVerify | None = None
    iv_b: jax.Array = eqx.field(converter=as_array, default=0.0)
    time_semantics: str = eqx.field(static=True, default="snapshot")

    def __check_init__(self):
        if self.devices_per_weight not in _G_MAX:
            raise ValueError(f"devices_per_weight: expected 1 or 2, got {self.devices_per_weight!r}")
        limit = _G_MAX[self.devices_per_weight]
        require(
            "g_max",
            self.g_max,
            lambda g: g <= limit,
            f"at most {limit} uS (characterized with {self.devices_per_weight} device(s) per weight)",
        )
        for name in ("prog_noise_scale", "read_noise_scale", "drift_scale"):
            require_finite_nonnegative(name, getattr(self, name))
        require_positive("t0", self.t0)
        require_positive("t_read", self.t_read)
        require_range("t_read", self.t_read, "t0", self.t0)

    def programming_sigma(self, g_target: jax.Array) -> jax.Array:
        """Standard deviation of programmed conductance (uS) at target ``g_target`` (uS)."""
        gn = g_target / self.g_max
        c0, c1, c2, c3 = _PROG_SIGMA[self.devices_per_weight]
        return (self.g_max / _G_MAX[self.devices_per_weight]) * (c0 + gn * (c1 + gn * (c2 + gn * c3)))

    def _program_noisy(self, key, g_target, g_ceiling):
        xi = normal(key, g_target.shape, g_target.dtype)
        return jnp.maximum(
            g_target + self.prog_noise_scale * self.programming_sigma(g_target) * xi, self.g_min
        )

    def _draw_nu(self, key, g_target):
        g = jnp.maximum(jnp.abs(g_target / self.g_max), _ZERO_CLIP)
        mu = _piecewise(g, *_NU_MEAN)
        sigma = _piecewise(g, *_NU_STD[self.devices_per_weight])
        return jnp.abs(mu + sigma * normal(key, g_target.shape, g_target.dtype))

    def _read_expected(self, state: DeviceState, t):
        return drifted(state.g_prog, self.drift_scale * state.nu, t, self.t0)

    def _read_noisy(self, key, state: DeviceState, t):
        g_drift = self._read_expected(state, t)
        g = jnp.maximum(jnp.abs(state.g_prog) / self.g_max, _ZERO_CLIP)
        q_s = _piecewise(g, *_Q_S[self.devices_per_weight])
        if self.time_semantics == "snapshot":
            key = time_tag(key, t)
        noise = accumulated_noise(
            key,
            noise_clock(t, self.t0, self.t_read),
            noise_clock(TRAJECTORY_HORIZON_S, self.t0, self.t_read),
            state.g_prog.shape,
            self.time_semantics,
            state.g_prog.dtype,
        )
        return jnp.maximum(g_drift + self.read_noise_scale * jnp.abs(g_drift) * q_s * noise, self.g_min)


def _piecewise(g: jax.Array, knee: float, low: tuple, high: tuple) -> jax.Array:
    """Below ``knee``: clip(a ln g + b, lo, hi) with ``low = (a, b, lo, hi)``; at and above: the polynomial
    with coefficients ``high``, highest power first."""
    a, b, lo, hi = low
    below = jnp.clip(a * jnp.log(g) + b, lo, hi)
    above = jnp.polyval(jnp.asarray(high, g.dtype), g)
    return jnp.where(g < knee, below, above)
