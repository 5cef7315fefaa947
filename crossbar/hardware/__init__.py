"""The hardware a command runs on: hardware files (YAML) describing a whole crossbar configuration or a
calibrated chip, the built-in presets, resolving what a user names (``--hardware``, ``--chip``, ``--device``,
``--set``), and the parameters of a configuration by dotted path (``device.drift_scale``, ``adc.bits``)."""

from ._chip import Chip as Chip
from ._chip import fixed_by_a_profile as fixed_by_a_profile
from ._document import document_of as document_of
from ._document import hardware_of as hardware_of
from ._files import hardware_yaml as hardware_yaml
from ._files import load_hardware as load_hardware
from ._files import read_document as read_document
from ._files import save_hardware as save_hardware
from ._parameter_paths import is_static as is_static
from ._parameter_paths import parameter_chain as parameter_chain
from ._parameter_paths import with_parameter as with_parameter
from ._presets import DEFAULT_PRESET as DEFAULT_PRESET
from ._presets import PRESET_DOCUMENTS as PRESET_DOCUMENTS
from ._presets import PRESETS as PRESETS
from ._resolve import ResolvedHardware as ResolvedHardware
from ._resolve import load_profile as load_profile
from ._resolve import parse_setting as parse_setting
from ._resolve import resolve_device as resolve_device
from ._resolve import resolve_hardware as resolve_hardware
