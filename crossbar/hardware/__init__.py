"""The hardware a command runs on, as a user names it: crossbar presets, device presets and files, chip
profiles, and the parameters of a crossbar configuration by dotted path (``device.drift_scale``,
``adc.bits``)."""

from ._parameter_paths import parameter_chain as parameter_chain
from ._parameter_paths import with_parameter as with_parameter
from ._presets import PRESETS as PRESETS
from ._resolve import load_profile as load_profile
from ._resolve import preset_crossbar as preset_crossbar
from ._resolve import resolve_device as resolve_device
