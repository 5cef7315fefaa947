"""Memristive device physics in JAX: program target conductances, read them back at a time t.

Conductance in uS, time in seconds since programming, voltage in V. Every model is an ``equinox.Module``
whose physical parameters are arrays, so any of them can be swept with ``jax.vmap``.
"""

from ._device import AbstractDevice as AbstractDevice
from ._faults import StuckAtFaults as StuckAtFaults
from ._hermes import HermesPCM as HermesPCM
from ._ideal import Ideal as Ideal
from ._iv import sinh_current as sinh_current
from ._pcm import PCM as PCM
from ._pulse_response import PulseResponse as PulseResponse
from ._pulse_response import a_from_nl as a_from_nl
from ._rram import RRAM as RRAM
from ._serialization import MODELS as MODELS
from ._serialization import PRESETS as PRESETS
from ._serialization import from_dict as from_dict
from ._serialization import load as load
from ._serialization import save as save
from ._serialization import to_dict as to_dict
from ._state import DeviceState as DeviceState
from ._write_verify import WriteVerify as WriteVerify
