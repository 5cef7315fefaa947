"""The ideal device: programs exactly and never changes (a reference for the other models)."""

import equinox as eqx
import jax

from emulator_common.validation import as_array, as_optional_array

from ._device import AbstractDevice
from ._faults import StuckAtFaults
from ._state import DeviceState
from ._write_verify import WriteVerify


class Ideal(AbstractDevice):
    """A device that holds its target exactly (clipped to the window) at every time.

    Faults, finite levels, g_max spread, write-verify and I-V nonlinearity still apply when set, so each
    non-ideality can be studied alone. Fields: see ``AbstractDevice``.
    """

    g_min: jax.Array = eqx.field(converter=as_array, default=0.0)
    g_max: jax.Array = eqx.field(converter=as_array, default=25.0)
    g_max_spread: jax.Array | None = eqx.field(converter=as_optional_array, default=None)
    levels: int = eqx.field(static=True, default=0)
    faults: StuckAtFaults | None = None
    write_verify: WriteVerify | None = None
    iv_b: jax.Array = eqx.field(converter=as_array, default=0.0)
    time_semantics: str = eqx.field(static=True, default="snapshot")

    def _program_noisy(self, key, g_target, g_ceiling):
        return g_target

    def _draw_nu(self, key, g_target):
        return None

    def _read_expected(self, state: DeviceState, t):
        return state.g_prog

    def _read_noisy(self, key, state: DeviceState, t):
        return state.g_prog
