"""The hardware a command runs on, from what a user names: a hardware preset or file (or a result that
recorded one), a chip's calibration profile, another device model, and ``--set PATH=VALUE`` settings."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import yaml

import device_models

from .._input_error import InputError
from ..array import Crossbar
from ._chip import Chip, fixed_by_a_profile
from ._document import document_of
from ._files import load_hardware, read_document
from ._parameter_paths import parameter_chain, with_parameter
from ._presets import DEFAULT_PRESET, PRESET_DOCUMENTS, PRESETS

_METADATA = ("name", "description", "sources")


@dataclasses.dataclass(frozen=True)
class ResolvedHardware:
    """Attributes: hardware (a ``Crossbar`` or a ``Chip``); document: it as a hardware file holds it, every
    field filled in, with its name, description and sources (what results record)."""

    hardware: Crossbar | Chip
    document: dict

    @property
    def label(self) -> str:
        return self.document.get("name", "hardware")


def resolve_hardware(
    spec: str | None = None,
    *,
    chip: str | None = None,
    device: str | None = None,
    settings: Sequence[tuple[str, str, object]] = (),
    option: str = "--hardware",
) -> ResolvedHardware:
    """``spec``: a hardware preset's name or a hardware file (default: the first preset); or ``chip``: a
    calibration profile. ``device``: a device preset or file in place of the hardware's device model.
    ``settings``: (where, path, value), ``where`` naming the setting in messages (``parse_setting`` reads
    ``--set PATH=VALUE``); paths as sweeps name them; a chip refuses those its profile fixes. Bad input
    raises ``InputError`` naming the option or the setting."""
    if chip is not None:
        profile = load_profile(chip)
        hardware, metadata = Chip.of(profile, chip), {"name": f"chip {profile.chip_id}"}
    else:
        hardware, metadata = _named(spec or DEFAULT_PRESET, option)
    if device is not None:
        if isinstance(hardware, Chip):
            what = "--chip" if chip is not None else "a chip's hardware file"
            raise InputError(f"--device: not with {what} (the profile gives the chip's devices)")
        hardware = dataclasses.replace(hardware, device=resolve_device(device))
        metadata["name"] = f"{metadata['name']} with device {Path(device).name}"
    for where, path, value in settings:
        hardware = _set(hardware, where, path, value)
    if settings:
        changes = ", ".join(f"{path}={value}" for _, path, value in settings)
        metadata["name"] = f"{metadata['name']} with {changes}"
    return ResolvedHardware(hardware, document_of(hardware, metadata))


def _named(spec: str, option: str) -> tuple[Crossbar | Chip, dict]:
    """A preset by name, or a hardware file (or a result's record), with its metadata."""
    if spec in PRESETS:
        return PRESETS[spec], {key: PRESET_DOCUMENTS[spec][key] for key in _METADATA}
    if not Path(spec).is_file():
        presets = ", ".join(PRESETS)
        raise InputError(f"{option}: {spec!r} is not a preset ({presets}) and no such hardware file")
    try:
        hardware = load_hardware(spec)
        document = read_document(spec)
    except ValueError as error:
        raise InputError(str(error)) from None
    metadata = {key: document[key] for key in _METADATA if key in document}
    return hardware, {"name": Path(spec).name, **metadata}


def parse_setting(text: str) -> tuple[str, str, object]:
    """``--set PATH=VALUE`` as (where, path, value); VALUE is read as YAML (6, 0.5, null, true, abs_max)."""
    path, equals, value = text.partition("=")
    if not equals or not path.strip():
        raise InputError(f"--set {text}: expected PATH=VALUE, e.g. --set adc.bits=6")
    try:
        return f"--set {text}", path.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        raise InputError(f"--set {text}: {value!r} is not a value") from None


def _set(hardware: Crossbar | Chip, where: str, path: str, value) -> Crossbar | Chip:
    """``hardware`` with the parameter at ``path`` set to ``value``."""
    base = hardware.base() if isinstance(hardware, Chip) else hardware
    try:
        chain = parameter_chain(path, base)
        if isinstance(hardware, Chip):
            if fixed_by_a_profile(chain):
                raise ValueError("the chip's profile fixes it (tiles, mapping, wires and windows)")
            return hardware.with_setting(chain, value)
        return with_parameter(hardware, chain, value)
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None


def resolve_device(spec: str):
    """A device preset by name (``pcm``, ``rram``, ...) or a device YAML file."""
    if spec.lower() in device_models.PRESETS:
        return device_models.PRESETS[spec.lower()]
    if not Path(spec).exists():
        names = ", ".join(device_models.PRESETS)
        raise InputError(f"{spec}: no such file, and not a device preset (expected one of {names})")
    try:
        return device_models.load(spec)
    except ValueError as error:
        raise InputError(str(error)) from None


def load_profile(path: str | Path):
    """A chip's calibration profile; a malformed one is bad input."""
    import calibration

    try:
        return calibration.load(path)
    except ValueError as error:
        raise InputError(str(error)) from None
