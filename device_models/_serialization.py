"""Device models to and from YAML, with every malformed field reported by its path.

A file holds one model: ``model: PCM`` (or ``RRAM``, ``Ideal``) followed by any of that model's fields;
components are nested mappings (``faults: {p_off: 0.01}``, ``write_verify: {response: {a_ltp: 0.5}}``).
Fields left out take their defaults.
"""

import dataclasses
import math
import os
from pathlib import Path

import equinox as eqx
import numpy as np
import yaml

from emulator_common.atomic_write import atomic_write

from ._device import AbstractDevice
from ._faults import StuckAtFaults
from ._ideal import Ideal
from ._pcm import PCM
from ._pulse_response import PulseResponse
from ._rram import RRAM
from ._write_verify import WriteVerify

MODELS: dict[str, type[AbstractDevice]] = {"PCM": PCM, "RRAM": RRAM, "Ideal": Ideal}
PRESETS: dict[str, AbstractDevice] = {"pcm": PCM(), "rram": RRAM(), "ideal": Ideal()}
_COMPONENTS: dict[str, type[eqx.Module]] = {
    "faults": StuckAtFaults,
    "write_verify": WriteVerify,
    "response": PulseResponse,
}


def to_dict(module: eqx.Module) -> dict:
    """Plain-Python mapping of a model's fields (``None`` fields left out)."""
    out = {}
    for field in dataclasses.fields(module):
        value = getattr(module, field.name)
        if value is None:
            continue
        if isinstance(value, eqx.Module):
            out[field.name] = to_dict(value)
        elif isinstance(value, (str, int)):
            out[field.name] = value
        else:
            array = np.asarray(value)
            out[field.name] = array.item() if array.ndim == 0 else array.tolist()
    return out


def save(device: AbstractDevice, path: str | os.PathLike) -> None:
    """Write ``device`` to a YAML file atomically (a temporary file renamed into place)."""
    text = yaml.safe_dump({"model": type(device).__name__, **to_dict(device)}, sort_keys=False)
    with atomic_write(path) as handle:
        handle.write(text)


def load(path: str | os.PathLike) -> AbstractDevice:
    """Read a device model from YAML; a malformed file raises ``ValueError("FILE: FIELD: expected ...")``."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror})") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ValueError(f"{path}: not valid YAML{line}") from None
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
    return _build(models[name.lower()], data, prefix="")


def _build(cls: type[eqx.Module], data, prefix: str) -> eqx.Module:
    if not isinstance(data, dict):
        raise ValueError(f"{prefix.rstrip('.')}: expected a mapping, got {type(data).__name__}")
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        raise ValueError(f"{prefix}{unknown[0]}: unknown field; expected one of {', '.join(fields)}")
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key in _COMPONENTS:
            kwargs[key] = None if value is None else _build(_COMPONENTS[key], value, f"{path}.")
        elif fields[key].metadata.get("static", False):
            kwargs[key] = _static_value(path, value, fields[key].default)
        else:
            kwargs[key] = _number_or_array(path, value)
    try:
        return cls(**kwargs)
    except ValueError as error:
        raise ValueError(_full_path(str(error), prefix)) from None


def _full_path(message: str, prefix: str) -> str:
    """A component names its fields from its usual place (``response.p_max``); give the full YAML path."""
    own = prefix.rstrip(".").rsplit(".", 1)[-1] + "."
    return prefix + message[len(own) :] if prefix and message.startswith(own) else message


def _static_value(path: str, value, default):
    if isinstance(default, bool) or not isinstance(default, (int, str)):
        raise TypeError(f"{path}: unsupported static field")
    if isinstance(default, int) and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{path}: expected an integer, got {value!r}")
    if isinstance(default, str) and not isinstance(value, str):
        raise ValueError(f"{path}: expected a string, got {value!r}")
    return value


def _number_or_array(path: str, value) -> np.ndarray:
    def is_number(x):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            return False
        try:
            return math.isfinite(x)
        except OverflowError:  # an integer too large for a float
            return False

    try:
        array = np.asarray(value, dtype=object)
    except ValueError:
        array = None
    if value is None or array is None or array.size == 0 or not all(map(is_number, array.ravel())):
        raise ValueError(f"{path}: expected a finite number (or a list of them), got {value!r}")
    return array.astype(float)
