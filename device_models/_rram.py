"""Filamentary oxide RRAM (1T1R): the statistical model of CMO/HfOx ReRAM devices by Falcone et al.
(IBM Research Zurich), as published in aihwkit's ``ReRamCMONoiseModel`` (docs/models.md section 2).

Programming noise linear in the target (write-verify with a 2 % acceptance band); conductance relaxation
whose mean and spread are linear in ln t and independent of the level; accumulated 1/f read noise.
The fit holds from t = 1 s on: earlier reads see the state at 1 s.
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
)

from ._accumulated_noise import TRAJECTORY_HORIZON_S, accumulated_noise
from ._device import AbstractDevice
from ._faults import StuckAtFaults
from ._state import DeviceState
from ._write_verify import WriteVerify

_T_FIT_START_S = 1.0


class RRAM(AbstractDevice):
    """Filamentary RRAM: finite on/off window, linear programming noise, log-time relaxation, 1/f noise.

    Attributes:
        g_min, g_max: conductance window (uS), 9 to 88.2 uS for the CMO/HfOx devices.
        prog_sigma_offset, prog_sigma_slope: programming sigma = offset + slope * g_T (uS).
        relax_mean_slope: mean conductance shift per unit ln(t / 1 s) (uS).
        relax_std_offset, relax_std_slope: relaxation spread = offset + slope * ln(t / 1 s) (uS).
        read_noise_k: 1/f read noise, sigma = k |log10 g| sqrt(ln((t + t_read) / (2 t_read))) (uS).
        t_read: duration of one read (s).
        prog_noise_scale, read_noise_scale, drift_scale: factors on programming noise, read noise, and the
            relaxation (mean shift and spread).
        Other fields: see ``AbstractDevice``.
    """

    g_min: jax.Array = eqx.field(converter=as_array, default=9.0)
    g_max: jax.Array = eqx.field(converter=as_array, default=88.2)
    prog_sigma_offset: jax.Array = eqx.field(converter=as_array, default=0.0112185391)
    prog_sigma_slope: jax.Array = eqx.field(converter=as_array, default=0.01129027418)
    relax_mean_slope: jax.Array = eqx.field(converter=as_array, default=-0.08900206)
    relax_std_offset: jax.Array = eqx.field(converter=as_array, default=0.41183342)
    relax_std_slope: jax.Array = eqx.field(converter=as_array, default=0.04201137)
    read_noise_k: jax.Array = eqx.field(converter=as_array, default=0.0277316483)
    t_read: jax.Array = eqx.field(converter=as_array, default=1e-6)
    prog_noise_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    read_noise_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    drift_scale: jax.Array = eqx.field(converter=as_array, default=1.0)
    g_max_spread: jax.Array | None = eqx.field(converter=as_optional_array, default=None)
    levels: int = eqx.field(static=True, default=0)
    faults: StuckAtFaults | None = None
    write_verify: WriteVerify | None = None
    iv_b: jax.Array = eqx.field(converter=as_array, default=0.0)
    time_semantics: str = eqx.field(static=True, default="snapshot")

    def __check_init__(self):
        for name in (
            "prog_sigma_offset",
            "prog_sigma_slope",
            "relax_std_offset",
            "relax_std_slope",
            "read_noise_k",
            "prog_noise_scale",
            "read_noise_scale",
            "drift_scale",
        ):
            require_finite_nonnegative(name, getattr(self, name))
        require_positive("g_min", self.g_min)
        require_positive("t_read", self.t_read)
        require(
            "t_read", self.t_read, lambda t: t < _T_FIT_START_S, f"a read shorter than {_T_FIT_START_S} s"
        )

    def programming_sigma(self, g_target: jax.Array) -> jax.Array:
        """Standard deviation of programmed conductance (uS) at target ``g_target`` (uS)."""
        return self.prog_sigma_offset + self.prog_sigma_slope * g_target

    def _program_noisy(self, key, g_target, g_ceiling):
        xi = normal(key, g_target.shape, g_target.dtype)
        g = g_target + self.prog_noise_scale * self.programming_sigma(g_target) * xi
        return jnp.clip(g, self.g_min, g_ceiling)

    def _draw_nu(self, key, g_target):
        return None

    def _log_time(self, t):
        return jnp.log(jnp.maximum(t, _T_FIT_START_S) / _T_FIT_START_S)

    def _read_expected(self, state: DeviceState, t):
        return state.g_prog + self.drift_scale * self.relax_mean_slope * self._log_time(t)

    def _relaxation_clock(self, t):
        """Variance of the relaxation before ``drift_scale`` (uS^2)."""
        return (self.relax_std_offset + self.relax_std_slope * self._log_time(t)) ** 2

    def _read_noise_clock(self, t):
        """Variance of the 1/f read noise per (k log10 g)^2."""
        t = jnp.maximum(t, _T_FIT_START_S)
        return jnp.log((t + self.t_read) / (2.0 * self.t_read))

    def _read_noisy(self, key, state: DeviceState, t):
        if self.time_semantics == "snapshot":
            key = time_tag(key, t)
        k_relax, k_read = jax.random.split(key)
        shape, dtype = state.g_prog.shape, state.g_prog.dtype

        def noise(k, clock):
            horizon = clock(jnp.asarray(TRAJECTORY_HORIZON_S, dtype))
            return accumulated_noise(k, clock(t), horizon, shape, self.time_semantics, dtype)

        g_drift = self._read_expected(state, t) + self.drift_scale * noise(k_relax, self._relaxation_clock)
        sigma_read = self.read_noise_k * jnp.abs(jnp.log10(jnp.maximum(g_drift, 1e-6)))
        g = g_drift + self.read_noise_scale * sigma_read * noise(k_read, self._read_noise_clock)
        return jnp.clip(g, self.g_min, self.g_max if state.g_ceiling is None else state.g_ceiling)
