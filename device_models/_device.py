"""The interface every device model implements, and the programming and reading steps they share."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from emulator_common.random import normal
from emulator_common.validation import (
    require_choice,
    require_finite_nonnegative,
    require_integer,
    require_range,
    require_shape,
)

from ._accumulated_noise import TIME_SEMANTICS
from ._faults import STUCK_OFF, STUCK_ON, StuckAtFaults, merge_fault_codes, require_fault_codes
from ._iv import sinh_current
from ._levels import MAX_LEVELS, quantize_to_levels
from ._state import DeviceState
from ._write_verify import WriteVerify


class AbstractDevice(eqx.Module):
    """A memristive device model: programs target conductances and reads them back at a time t.

    Conductances are in uS, times in seconds since programming finished, voltages in V, currents in uA.
    Concrete models declare these fields and implement the four abstract methods.

    Attributes:
        g_min, g_max: conductance window (uS).
        g_max_spread: device-to-device relative spread (sigma) of g_max, or ``None``.
        levels: number of programmable conductance states, 0 for a continuum (static).
        faults: random stuck-at faults, or ``None``.
        write_verify: program with a pulse-level write-verify loop instead of the statistical
            programming-noise model, or ``None``.
        iv_b: I-V nonlinearity b (1/V) of I = g sinh(bV)/b; 0 for a linear device.
        time_semantics: ``"snapshot"`` or ``"trajectory"`` (see ``_accumulated_noise``) (static).
    """

    g_min: eqx.AbstractVar[jax.Array]
    g_max: eqx.AbstractVar[jax.Array]
    g_max_spread: eqx.AbstractVar[jax.Array | None]
    levels: eqx.AbstractVar[int]
    faults: eqx.AbstractVar[StuckAtFaults | None]
    write_verify: eqx.AbstractVar[WriteVerify | None]
    iv_b: eqx.AbstractVar[jax.Array]
    time_semantics: eqx.AbstractVar[str]

    def __check_init__(self):
        require_range("g_min", self.g_min, "g_max", self.g_max)
        require_finite_nonnegative("iv_b", self.iv_b)
        if self.g_max_spread is not None:
            require_finite_nonnegative("g_max_spread", self.g_max_spread)
        if self.levels != 0:
            require_integer("levels", self.levels, 2, " (or 0 for a continuum)", MAX_LEVELS)
        require_choice("time_semantics", self.time_semantics, TIME_SEMANTICS)

    @abc.abstractmethod
    def _program_noisy(self, key: jax.Array, g_target: jax.Array, g_ceiling: jax.Array) -> jax.Array:
        """Conductance after the model's statistical programming step (uS), ``g_target`` in range."""

    @abc.abstractmethod
    def _draw_nu(self, key: jax.Array, g_target: jax.Array) -> jax.Array | None:
        """Per-device drift exponents drawn at programming, or ``None`` for a model without drift."""

    @abc.abstractmethod
    def _read_expected(self, state: DeviceState, t: jax.Array) -> jax.Array:
        """Conductance at scalar time ``t`` without read noise (uS)."""

    @abc.abstractmethod
    def _read_noisy(self, key: jax.Array, state: DeviceState, t: jax.Array) -> jax.Array:
        """Conductance at scalar time ``t`` with read noise (uS)."""

    def program(
        self, key: jax.Array, g_target: jax.Array, *, stuck_mask: jax.Array | None = None
    ) -> DeviceState:
        """Program target conductances ``g_target`` (uS, any shape) into a fresh array of devices.

        Targets are clipped to the device window (and rounded to ``levels`` states if set).
        ``stuck_mask`` (int, target's shape: 0 healthy, 1 stuck at g_min, 2 stuck at g_max) adds a chip's
        measured faults to the random ones. Differentiable in ``g_target``.
        """
        g_target = jnp.asarray(g_target, dtype=jnp.result_type(float))
        shape = g_target.shape
        if stuck_mask is not None:
            require_shape("stuck_mask", stuck_mask, shape, "of g_target")
            require_fault_codes("stuck_mask", stuck_mask)
        k_spread, k_faults, k_prog, k_nu = jax.random.split(key, 4)
        g_target = jnp.clip(g_target, self.g_min, self.g_max)
        if self.levels:
            g_target = quantize_to_levels(g_target, self.g_min, self.g_max, self.levels)
        g_ceiling = jnp.broadcast_to(self.g_max, shape)
        if self.g_max_spread is not None:
            spread = 1.0 + self.g_max_spread * normal(k_spread, shape, g_target.dtype)
            g_ceiling = jnp.maximum(self.g_max * spread, self.g_min)
            g_target = jnp.minimum(g_target, g_ceiling)
        pulses = None
        if self.write_verify is None:
            g_prog = self._program_noisy(k_prog, g_target, g_ceiling)
        else:
            g_prog, pulses = self.write_verify.program(k_prog, g_target, self.g_min, g_ceiling)
        drawn = None if self.faults is None else self.faults.draw(k_faults, shape)
        stuck = merge_fault_codes(drawn, stuck_mask)
        if stuck is not None:
            g_prog = jnp.where(
                stuck == STUCK_OFF, self.g_min, jnp.where(stuck == STUCK_ON, g_ceiling, g_prog)
            )
        own_ceiling = None if self.g_max_spread is None else g_ceiling
        return DeviceState(g_prog, self._draw_nu(k_nu, g_target), stuck, pulses, own_ceiling)

    def read(self, key: jax.Array, state: DeviceState, t) -> jax.Array:
        """Conductance (uS) at ``t`` seconds after programming, with drift and read noise.

        ``t`` is a scalar or an array of times; the result has shape ``t.shape + state.g_prog.shape``.
        In trajectory semantics, reads with one ``key`` follow one noise path through time. Concrete times
        must be finite and >= 0 (``equinox.EquinoxRuntimeError`` otherwise); traced times are not checked,
        as traced parameters are not, so that compiled reads carry no host callback and JAX's persistent
        compilation cache can keep them.
        """
        return self._at_times(lambda ti: self._read_noisy(key, state, ti), state, t)

    def expected(self, state: DeviceState, t) -> jax.Array:
        """Conductance (uS) at ``t`` seconds after programming without read noise (the drifted mean)."""
        return self._at_times(lambda ti: self._read_expected(state, ti), state, t)

    def current(self, g: jax.Array, v: jax.Array) -> jax.Array:
        """Device current (uA) at conductance ``g`` (uS) and voltage ``v`` (V), with the I-V nonlinearity."""
        return sinh_current(g, v, self.iv_b)

    def _at_times(self, read_one, state: DeviceState, t) -> jax.Array:
        t = jnp.asarray(t, dtype=state.g_prog.dtype)
        if not isinstance(t, jax.core.Tracer):
            t = eqx.error_if(t, jnp.any(t < 0) | ~jnp.all(jnp.isfinite(t)), "t: expected finite times >= 0 s")
        if t.ndim == 0:
            return self._hold_stuck(state, read_one(t))
        flat = jax.vmap(lambda ti: self._hold_stuck(state, read_one(ti)))(t.reshape(-1))
        return flat.reshape(t.shape + state.g_prog.shape)

    @staticmethod
    def _hold_stuck(state: DeviceState, g: jax.Array) -> jax.Array:
        return g if state.stuck is None else jnp.where(state.stuck != 0, state.g_prog, g)
