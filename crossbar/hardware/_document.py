"""Hardware as a document: what a hardware file (YAML) holds and what a result records.

A document's sections are the heads of the parameter paths (``adc.bits`` is the ``bits`` field of the
``adc`` section), so ``--set PATH=VALUE`` and a sweep's axes name the fields a file holds::

    name: aihwkit-pcm                  # optional: a label, what it reproduces, and its sources
    description: ...
    sources: [...]
    device: {model: PCM, g_max: 25.0, ...}        # or a device preset name, or a device file
    periphery: {output_noise: 0.06, noise_management: abs_max, ...}
    dac: {bits: 7, v_read: 0.2, encoding: pulse_width}
    adc: {bits: 9, bound: 12.0}
    mapping: {scheme: differential, clip_percentile: null}
    tile: {rows: 512, cols: 512, array_rows: null, array_cols: null}
    wire: {r_row: null, r_col: null}   # ohm per segment; null: ideal wires
    ir_drop: exact                     # exact | approximate | none: how the wires distort reads
    drift_compensation: global
    column_correction: false

A calibrated chip names its profile instead of device models, tiles, mapping and wires, which the profile
fixes: ``chip: {profile: chip.yaml, sha256: ...}``; its ``device`` section then holds only settings applied
to every tile (``device: {read_noise_scale: 1.2}``).
"""

import dataclasses
import hashlib
from pathlib import Path

import calibration
import device_models
from emulator_common.modules import module_from_dict, module_to_dict
from emulator_common.yaml_files import yaml_key

from ..array import ADC, DAC, Crossbar, Periphery, WeightMapping
from ._chip import Chip, fixed_by_a_profile
from ._parameter_paths import parameter_chain

METADATA = ("name", "description", "sources")
SECTIONS = ("device", "periphery", "dac", "adc", "mapping", "tile", "wire")
TOP_LEVEL = ("ir_drop", "drift_compensation", "column_correction")
_CHIP_KEYS = (*METADATA, "chip", "device", "periphery", "dac", "adc", "ir_drop", "drift_compensation")
_TILE = {"rows": "tile_rows", "cols": "tile_cols", "array_rows": "array_rows", "array_cols": "array_cols"}
_WIRE = {"r_row": "r_row", "r_col": "r_col"}
# where a Crossbar field lies in a document, for the messages of Crossbar's own checks
_PLACES = {field: f"tile.{key}" for key, field in _TILE.items()} | {field: f"wire.{field}" for field in _WIRE}


def document_of(hardware: Crossbar | Chip, metadata: dict | None = None) -> dict:
    """The document of a crossbar or a chip, every field filled in (a chip's device: its settings only)."""
    document = dict(metadata or {})
    if isinstance(hardware, Chip):
        document["chip"] = {"profile": str(hardware.path), "sha256": hardware.sha256}
        document["device"] = _nested(hardware.device_settings)
        periphery, drift_compensation = hardware.periphery, hardware.drift_compensation
    else:
        device = hardware.device
        document["device"] = {"model": type(device).__name__, **module_to_dict(device)}
        periphery, drift_compensation = hardware.periphery, hardware.drift_compensation
    document["periphery"] = {k: v for k, v in module_to_dict(periphery).items() if k not in ("dac", "adc")}
    document["dac"] = module_to_dict(periphery.dac)
    document["adc"] = module_to_dict(periphery.adc)
    if isinstance(hardware, Crossbar):
        document["mapping"] = module_to_dict(hardware.mapping)
        document["tile"] = {key: getattr(hardware, field) for key, field in _TILE.items()}
        document["wire"] = {key: _number(getattr(hardware, field)) for key, field in _WIRE.items()}
    document["ir_drop"] = hardware.ir_drop
    document["drift_compensation"] = drift_compensation
    if isinstance(hardware, Crossbar):
        document["column_correction"] = hardware.column_correction
    return document


def hardware_of(document, folder: Path) -> Crossbar | Chip:
    """The crossbar or chip a document describes; files it names are relative to ``folder``.

    Raises ``ValueError("YAML.PATH: expected ...")`` naming the first malformed field.
    """
    if not isinstance(document, dict):
        raise ValueError(f"expected a mapping of {', '.join(SECTIONS)}, got {type(document).__name__}")
    _check_metadata(document)
    if "chip" in document:
        return _chip_of(document, folder)
    _check_keys(document, (*METADATA, *SECTIONS, *TOP_LEVEL), "")
    scalars = {}
    for section, names in (("tile", _TILE), ("wire", _WIRE)):
        values = _section(document, section)
        _check_keys(values, names, f"{section}.")
        scalars |= {names[key]: value for key, value in values.items()}
    scalars |= {key: document[key] for key in TOP_LEVEL if key in document}
    data = scalars | {"mapping": _section(document, "mapping")}
    try:
        checked = module_from_dict(Crossbar, data, "", {"mapping": WeightMapping})  # kinds and ranges
        return dataclasses.replace(
            checked,
            device=_device_of(document.get("device", {"model": "PCM"}), folder),
            periphery=_periphery_of(document, Periphery()),
        )
    except ValueError as error:
        message = str(error)
        field = message.split(":", 1)[0]
        raise ValueError(_PLACES.get(field, field) + message[len(field) :]) from None


def _periphery_of(document: dict, base: Periphery) -> Periphery:
    """``base`` with the document's periphery, dac and adc sections."""
    own = _section(document, "periphery")
    for name in ("dac", "adc"):
        if name in own:
            raise ValueError(f"periphery.{name}: give the {name} as a section of its own ({name}: ...)")
    converters = {
        name: module_from_dict(
            kind, {**module_to_dict(getattr(base, name)), **_section(document, name)}, f"{name}."
        )
        for name, kind in (("dac", DAC), ("adc", ADC))
    }
    fields = {k: v for k, v in module_to_dict(base).items() if k not in converters} | own
    return dataclasses.replace(module_from_dict(Periphery, fields, "periphery."), **converters)


def _device_of(value, folder: Path):
    """An inline device (a mapping with ``model``), a device preset's name or a device file."""
    if isinstance(value, str):
        if value.lower() in device_models.PRESETS:
            return device_models.PRESETS[value.lower()]
        path = folder / value
        if not path.is_file():
            names = ", ".join(device_models.PRESETS)
            raise ValueError(f"device: {value!r} is neither a device preset ({names}) nor a file")
        return device_models.load(path)
    try:
        return device_models.from_dict(value)
    except ValueError as error:
        raise ValueError(f"device.{error}") from None


def _chip_of(document: dict, folder: Path) -> Chip:
    fixed = "a chip's profile fixes its tiles, mapping and wires"
    _check_keys(document, _CHIP_KEYS, "", fixed)
    reference = document["chip"]
    reference = {"profile": reference} if isinstance(reference, str) else reference
    if not isinstance(reference, dict) or not isinstance(reference.get("profile"), str):
        raise ValueError(
            f"chip: expected a profile file, or {{profile: FILE, sha256: HEX}}, got {reference!r}"
        )
    _check_keys(reference, ("profile", "sha256"), "chip.")
    path = (folder / reference["profile"]).resolve()
    try:
        profile = calibration.load(path)
    except ValueError as error:
        raise ValueError(f"chip.profile: {error}") from None
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    if reference.get("sha256") not in (None, found):
        raise ValueError(
            f"chip.sha256: the profile {path} has changed since this was recorded "
            f"(expected SHA-256 {str(reference['sha256'])[:12]}..., found {found[:12]}...)"
        )
    chip = Chip.of(profile, path)
    chip = dataclasses.replace(
        chip,
        periphery=_periphery_of(document, chip.periphery),
        drift_compensation=document.get("drift_compensation", chip.drift_compensation),
        ir_drop=document.get("ir_drop", chip.ir_drop),
    )
    for leaf, value in _flat(_section(document, "device")):
        chain = parameter_chain(f"device.{leaf}", chip.base())
        if fixed_by_a_profile(chain):
            raise ValueError(f"device.{leaf}: {fixed}, and each tile's window")
        try:
            chip = chip.with_setting(chain, value)
        except ValueError as error:
            raise ValueError(f"device.{leaf}: {error}") from None
    try:
        chip.base()  # checks drift_compensation and ir_drop
    except ValueError as error:
        raise ValueError(str(error)) from None
    return chip


def _nested(settings: tuple[tuple[str, object], ...]) -> dict:
    """Dotted paths -> value as nested mappings."""
    nested: dict = {}
    for path, value in settings:
        *parents, name = path.split(".")
        section = nested
        for parent in parents:
            section = section.setdefault(parent, {})
        section[name] = value
    return nested


def _flat(section: dict, prefix: str = "") -> list[tuple[str, object]]:
    """A nested mapping's leaves as (dotted path, value)."""
    leaves = []
    for key, value in section.items():
        if isinstance(value, dict):
            leaves += _flat(value, f"{prefix}{key}.")
        else:
            leaves.append((f"{prefix}{key}", value))
    return leaves


def _number(value):
    return None if value is None else float(value)


def _section(document: dict, name: str) -> dict:
    value = document.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f"{name}: expected a mapping, got {value!r}")
    return value


def _check_metadata(document: dict) -> None:
    for key in ("name", "description"):
        if key in document and not isinstance(document[key], str):
            raise ValueError(f"{key}: expected a string, got {document[key]!r}")
    sources = document.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ValueError(f"sources: expected a list of strings, got {sources!r}")


def _check_keys(mapping: dict, known, prefix: str, why: str | None = None) -> None:
    for key in mapping:
        if key not in known:
            reason = f" ({why})" if why else ""
            raise ValueError(
                f"{prefix}{yaml_key(key)}: unknown field{reason}; expected one of {', '.join(known)}"
            )
