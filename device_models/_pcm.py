"""Phase-change memory: the statistical model of Nandakumar et al. (2019) and Joshi et al.,
Nat. Commun. 11, 2473 (2020), fitted on about 10,000 devices (docs/models.md section 1)."""

import equinox as eqx
import jax
import jax.numpy as jnp

from emulator_common.random import normal, time_tag
from emulator_common.validation import (
    as_array,
    as_optional_array,
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

# Programming noise sigma(g_T) in uS at g_max = 25 uS, polynomial in g_T / g_max (Joshi et al. 2020).
_PROG_SIGMA = (0.26348, 1.9650, -1.1731)
# Drift exponent mean and spread vs ln(g_T / g_max), with their clip ranges (Joshi et al. 2020).
_NU_MEAN = (-0.0155, 0.0244, 0.049, 0.1)
_NU_STD = (-0.0125, -0.0059, 0.008, 0.045)
# 1/f read noise: Q_s = min(0.0088 / max((g/g_max)^0.65, 1e-3), 0.2) (Joshi et al. 2020).
_Q_S = (0.0088, 0.65, 1e-3, 0.2)
_TINY = 1e-12


class PCM(AbstractDevice):
    """Phase-change memory device with programming noise, drift, and accumulated 1/f read noise.

    Attributes:
        g_min, g_max: conductance window (uS); the model is fitted at g_max = 25 uS and scales with it.
        prog_noise_scale: factor on the programming noise sigma.
        read_noise_scale: factor on the accumulated read noise.
        drift_scale: factor on every device's drift exponent nu.
        t0: drift reference time (s).
        t_read: duration of one read (s), sets the low-frequency end of the 1/f noise.
        Other fields: see ``AbstractDevice``.
    """

    g_min: jax.Array = eqx.field(converter=as_array, default=0.0)
    g_max: jax.Array = eqx.field(converter=as_array, default=25.0)
    prog_noise_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    read_noise_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    drift_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    t0: jax.Array = eqx.field(converter=as_array, default=20.0)
    t_read: jax.Array = eqx.field(converter=as_array, default=250e-9)
    g_max_spread: jax.Array | None = eqx.field(converter=as_optional_array, default=None)
    levels: int = eqx.field(static=True, default=0)
    faults: StuckAtFaults | None = None
    write_verify: WriteVerify | None = None
    iv_b: jax.Array = eqx.field(converter=as_array, default=0.0)
    time_semantics: str = eqx.field(static=True, default="snapshot")

    def __check_init__(self):
        for name in ("prog_noise_scale", "read_noise_scale", "drift_scale"):
            require_finite_nonnegative(name, getattr(self, name))
        require_positive("t0", self.t0)
        require_positive("t_read", self.t_read)
        require_range("t_read", self.t_read, "t0", self.t0)

    def programming_sigma(self, g_target: jax.Array) -> jax.Array:
        """Standard deviation of programmed conductance (uS) at target ``g_target`` (uS)."""
        gn = g_target / self.g_max
        c0, c1, c2 = _PROG_SIGMA
        return (self.g_max / 25.0) * (c0 + c1 * gn + c2 * gn * gn)

    def _program_noisy(self, key, g_target, g_ceiling):
        xi = normal(key, g_target.shape, g_target.dtype)
        # No upper clip: the measured distribution extends above g_max (docs/models.md section 1).
        return jnp.maximum(
            g_target + self.prog_noise_scale * self.programming_sigma(g_target) * xi, self.g_min
        )

    def _draw_nu(self, key, g_target):
        log_gr = jnp.log(jnp.maximum(g_target / self.g_max, _TINY))
        mu = jnp.clip(_NU_MEAN[0] * log_gr + _NU_MEAN[1], _NU_MEAN[2], _NU_MEAN[3])
        sigma = jnp.clip(_NU_STD[0] * log_gr + _NU_STD[1], _NU_STD[2], _NU_STD[3])
        return jnp.abs(mu + sigma * normal(key, g_target.shape, g_target.dtype))

    def _read_expected(self, state: DeviceState, t):
        return drifted(state.g_prog, self.drift_scale * state.nu, t, self.t0)

    def _read_noisy(self, key, state: DeviceState, t):
        g_drift = self._read_expected(state, t)
        a, power, floor, cap = _Q_S
        g_ratio = jnp.maximum(state.g_prog / self.g_max, floor ** (1.0 / power))
        q_s = jnp.minimum(a * jnp.exp(-power * jnp.log(g_ratio)), cap)
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
        return jnp.maximum(g_drift + self.read_noise_scale * g_drift * q_s * noise, self.g_min)
