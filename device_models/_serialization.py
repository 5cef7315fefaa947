"""Device models to and from YAML, with every malformed field reported by its path.

A file holds one model: ``model: PCM`` (or ``HermesPCM``, ``RRAM``, ``Ideal``) followed by any of its fields;
components are nested mappings (``faults: {p_off: 0.01}``, ``write_verify: {response: {a_ltp: 0.5}}``).
Fields left out take their defaults. A file describes one device: every numeric field holds one number.
"""

import os

import equinox as eqx
import yaml

from emulator_common.atomic_write import atomic_write
from emulator_common.modules import module_from_dict, module_to_dict
from emulator_common.yaml_files import load_yaml

from ._device import AbstractDevice
from ._faults import StuckAtFaults
from ._hermes import HermesPCM
from ._ideal import Ideal
from ._pcm import PCM
from ._pulse_response import PulseResponse
from ._rram import RRAM
from ._write_verify import WriteVerify

MODELS: dict[str, type[AbstractDevice]] = {"PCM": PCM, "RRAM": RRAM, "Ideal": Ideal, "HermesPCM": HermesPCM}
PRESETS: dict[str, AbstractDevice] = {"pcm": PCM(), "hermes": HermesPCM(), "rram": RRAM(), "ideal": Ideal()}
COMPONENTS: dict[str, type[eqx.Module]] = {
    # fields of a device model that hold a component, and the component's class
    "faults": StuckAtFaults,
    "write_verify": WriteVerify,
    "response": PulseResponse,
}


def to_dict(device: eqx.Module) -> dict:
    """Plain-Python mapping of a model's (or a component's) fields (``None`` fields left out)."""
    return module_to_dict(device)


def save(device: AbstractDevice, path: str | os.PathLike) -> None:
    """Write ``device`` to a YAML file atomically (a temporary file renamed into place)."""
    text = yaml.safe_dump({"model": type(device).__name__, **to_dict(device)}, sort_keys=False)
    with atomic_write(path) as handle:
        handle.write(text)


def load(path: str | os.PathLike) -> AbstractDevice:
    """Read a device model from YAML; a malformed file raises ``ValueError("FILE: FIELD: expected ...")``."""
    data = load_yaml(path)
    try:
        return from_dict(data)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def from_dict(data) -> AbstractDevice:
    """Build a device model from a mapping like the one ``save`` writes."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a mapping with a 'model' key, got {type(data).__name__}")
    data = dict(data)
    name = data.pop("model", None)
    models = {key.lower(): cls for key, cls in MODELS.items()}
    if not isinstance(name, str) or name.lower() not in models:
        raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {name!r}")
    return module_from_dict(models[name.lower()], data, "", COMPONENTS)
