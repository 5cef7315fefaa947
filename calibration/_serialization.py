"""Calibration profiles to and from YAML; every malformed field is reported by its YAML path.

The schema, with units, is documented in the README ("Calibration profiles"). Stuck cells are listed inline
(``stuck: {cells: [[row, col, off|on], ...]}``) or referenced as a ``.npy`` mask of fault codes beside the
profile (``stuck: {file: tile0-stuck.npy}``). Tiles left out of ``tiles`` are healthy and nominal.
"""

import datetime
import io
import os
from pathlib import Path

import numpy as np
import yaml

from emulator_common.atomic_write import write_files
from emulator_common.fault_codes import HEALTHY, STUCK_OFF, STUCK_ON
from emulator_common.validation import MAX_BITS, is_number
from emulator_common.yaml_files import load_yaml, yaml_key

from ._profile import (
    TECHNOLOGIES,
    ChipProfile,
    Converter,
    Geometry,
    Peripherals,
    TileProfile,
    technology_device,
)

FORMAT_VERSION = 1
_STUCK_NAMES = {"off": STUCK_OFF, "on": STUCK_ON}
_INLINE_STUCK_LIMIT = 256  # more stuck cells than this in a tile are saved as a .npy mask
_REQUIRED = object()


def load(path: str | os.PathLike) -> ChipProfile:
    """Read and check a profile; a malformed one raises ``ValueError("FILE: YAML.PATH: expected ...")``."""
    path = Path(path)
    data = load_yaml(path)
    try:
        return from_mapping(data, path.parent)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def validate(path: str | os.PathLike) -> ChipProfile:
    """``load``, named for what a user asks: raises ``ValueError`` on the first malformed field."""
    return load(path)


def save(profile: ChipProfile, path: str | os.PathLike) -> None:
    """Write ``profile`` as YAML; large stuck masks go to ``.npy`` files beside it. Every file is built first
    and all are written together (``write_files``): a failure leaves none of them."""
    path = Path(path)
    data = to_mapping(profile)
    files: dict[Path, bytes | str] = {}
    for index, tile in enumerate(profile.tiles):
        rows, cols = np.nonzero(tile.stuck)
        if len(rows) > _INLINE_STUCK_LIMIT:
            name = f"{path.stem}-tile{index}-stuck.npy"
            buffer = io.BytesIO()
            np.save(buffer, tile.stuck.astype(np.int8))
            files[path.parent / name] = buffer.getvalue()
            data["tiles"][index]["stuck"] = {"file": name}
        elif len(rows):
            names = {code: name for name, code in _STUCK_NAMES.items()}
            cells = [
                _Flow([int(r), int(c), names[int(tile.stuck[r, c])]]) for r, c in zip(rows, cols, strict=True)
            ]
            data["tiles"][index]["stuck"] = {"cells": cells}
    files[path] = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=110)
    write_files(files)


def to_mapping(profile: ChipProfile) -> dict:
    """The YAML mapping of a profile, stuck cells left out (``save`` writes them)."""
    g, p = profile.geometry, profile.peripherals

    def converter(c: Converter) -> dict:
        return {k: getattr(c, k) for k in ("bits", "energy_pj", "time_ns", "area_um2", "shared_by")}

    def vector(values: np.ndarray):
        return float(values[0]) if np.all(values == values[0]) else _Flow([float(v) for v in values])

    tiles = []
    for index, tile in enumerate(profile.tiles):
        tiles.append(
            {
                "index": index,
                "g_min": float(tile.g_min),
                "g_max": float(tile.g_max),
                "device": dict(tile.device),
                "adc": {"gain": vector(tile.adc_gain), "offset": vector(tile.adc_offset)},
                "dac": {"gain": vector(tile.dac_gain)},
                "wire": {"r_row": float(tile.r_row), "r_col": float(tile.r_col)},
            }
        )
    return {
        "version": FORMAT_VERSION,
        "chip": {"id": profile.chip_id, "technology": profile.technology, "date": profile.date},
        "geometry": {"tiles": g.tiles, "rows": g.rows, "cols": g.cols, "scheme": g.scheme},
        "device": dict(profile.device),
        "peripherals": {
            "v_read": p.v_read,
            "integration_ns": p.integration_ns,
            "cell_area_um2": p.cell_area_um2,
            "add_energy_pj": p.add_energy_pj,
            "add_time_ns": p.add_time_ns,
            "dac": converter(p.dac),
            "adc": converter(p.adc),
        },
        "tiles": tiles,
    }


def from_mapping(data, folder: Path = Path(".")) -> ChipProfile:
    """Build a profile from its YAML mapping; ``folder`` resolves referenced ``.npy`` masks."""
    top = _mapping(data, "", ("version", "chip", "geometry", "device", "wire", "peripherals", "tiles"))
    version = _get(top, "version", "", _integer, FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValueError(f"version: expected {FORMAT_VERSION}, got {version}")
    chip = _mapping(_get(top, "chip", "", None), "chip", ("id", "technology", "date"))
    chip_id = _get(chip, "id", "chip.", _string)
    technology = _get(chip, "technology", "chip.", _string).lower()
    if technology not in TECHNOLOGIES:
        raise ValueError(f"chip.technology: expected one of {', '.join(TECHNOLOGIES)}, got {technology!r}")
    date = _get(chip, "date", "chip.", _date)
    geo = _mapping(_get(top, "geometry", "", None), "geometry", ("tiles", "rows", "cols", "scheme"))
    geometry = Geometry(
        tiles=_get(geo, "tiles", "geometry.", _integer),
        rows=_get(geo, "rows", "geometry.", _integer),
        cols=_get(geo, "cols", "geometry.", _integer),
        scheme=_get(geo, "scheme", "geometry.", _string, "differential"),
    )
    device = _device_overrides(_get(top, "device", "", None, {}), "device", technology, {})
    wire = _mapping(_get(top, "wire", "", None, {}), "wire", ("r_row", "r_col"))
    wire_default = {k: _get(wire, k, "wire.", _nonnegative, 0.0) for k in ("r_row", "r_col")}
    peripherals = _peripherals(_get(top, "peripherals", "", None))
    nominal = technology_device(technology, device)
    listed = _get(top, "tiles", "", None, [])
    if not isinstance(listed, list):
        raise ValueError(f"tiles: expected a list of tiles, got {type(listed).__name__}")
    tiles: list[TileProfile | None] = [None] * geometry.tiles
    described_by: dict[int, int] = {}
    for position, entry in enumerate(listed):
        where = f"tiles[{position}]."
        entry = _mapping(
            entry, where[:-1], ("index", "g_min", "g_max", "device", "stuck", "adc", "dac", "wire")
        )
        index = _get(entry, "index", where, _index)
        if index >= geometry.tiles:
            raise ValueError(
                f"{where}index: expected a tile index below geometry.tiles = {geometry.tiles}, got {index}"
            )
        if index in described_by:
            raise ValueError(
                f"{where}index: tile {index} is already described by tiles[{described_by[index]}]"
            )
        described_by[index] = position
        tiles[index] = _tile(entry, where, geometry, technology, device, wire_default, folder)
    default_tile = _nominal_tile(geometry, nominal, wire_default)
    return ChipProfile(
        chip_id, technology, date, geometry, device, peripherals, tuple(t or default_tile for t in tiles)
    )


def _nominal_tile(geometry: Geometry, nominal, wire: dict) -> TileProfile:
    return TileProfile(
        g_min=float(nominal.g_min),
        g_max=float(nominal.g_max),
        device={},
        stuck=np.zeros((geometry.rows, geometry.cols), np.int8),
        adc_gain=np.ones(geometry.outputs),
        adc_offset=np.zeros(geometry.outputs),
        dac_gain=np.ones(geometry.rows),
        r_row=wire["r_row"],
        r_col=wire["r_col"],
    )


def _tile(entry: dict, where: str, geometry: Geometry, technology: str, chip: dict, wire: dict, folder: Path):
    device = _device_overrides(_get(entry, "device", where, None, {}), f"{where}device", technology, chip)
    for name in ("g_min", "g_max"):
        if name in device:
            raise ValueError(f"{where}device.{name}: give the window as {where}{name}")
    nominal = technology_device(technology, {**chip, **device})
    g_min = _get(entry, "g_min", where, _nonnegative, float(nominal.g_min))
    g_max = _get(entry, "g_max", where, _nonnegative, float(nominal.g_max))
    if not g_max > g_min:
        raise ValueError(f"{where}g_max: expected a value above g_min = {g_min!r} uS, got {g_max!r}")
    try:
        technology_device(technology, {**chip, **device, "g_min": g_min, "g_max": g_max})
    except ValueError as error:
        raise ValueError(f"{where}{error}") from None
    adc = _mapping(_get(entry, "adc", where, None, {}), f"{where}adc", ("gain", "offset"))
    dac = _mapping(_get(entry, "dac", where, None, {}), f"{where}dac", ("gain",))
    tile_wire = _mapping(_get(entry, "wire", where, None, {}), f"{where}wire", ("r_row", "r_col"))
    outputs = f"one per output column: {geometry.cols} device columns, {geometry.scheme}"
    return TileProfile(
        g_min=g_min,
        g_max=g_max,
        device=device,
        stuck=_stuck(_get(entry, "stuck", where, None, None), f"{where}stuck", geometry, folder),
        adc_gain=_vector(
            _get(adc, "gain", f"{where}adc.", None, 1.0),
            f"{where}adc.gain",
            geometry.outputs,
            outputs,
            positive=True,
        ),
        adc_offset=_vector(
            _get(adc, "offset", f"{where}adc.", None, 0.0), f"{where}adc.offset", geometry.outputs, outputs
        ),
        dac_gain=_vector(
            _get(dac, "gain", f"{where}dac.", None, 1.0),
            f"{where}dac.gain",
            geometry.rows,
            "one per row",
            positive=True,
        ),
        r_row=_get(tile_wire, "r_row", f"{where}wire.", _nonnegative, wire["r_row"]),
        r_col=_get(tile_wire, "r_col", f"{where}wire.", _nonnegative, wire["r_col"]),
    )


def _stuck(value, where: str, geometry: Geometry, folder: Path) -> np.ndarray:
    shape = (geometry.rows, geometry.cols)
    if value is None:
        return np.zeros(shape, np.int8)
    value = _mapping(value, where, ("cells", "file"))
    if ("cells" in value) == ("file" in value):
        raise ValueError(f"{where}: expected exactly one of 'cells' (a list) or 'file' (a .npy mask)")
    if "file" in value:
        return _stuck_file(_get(value, "file", f"{where}.", _string), f"{where}.file", shape, folder)
    cells = value["cells"]
    if not isinstance(cells, list):
        raise ValueError(f"{where}.cells: expected a list of [row, col, off|on], got {type(cells).__name__}")
    mask = np.zeros(shape, np.int8)
    for i, cell in enumerate(cells):
        at = f"{where}.cells[{i}]"
        if not (isinstance(cell, list) and len(cell) == 3):
            raise ValueError(f"{at}: expected [row, col, off|on], got {_short(cell)}")
        row, col, kind = cell
        if isinstance(kind, bool):  # YAML 1.1 reads unquoted on / off as true / false
            kind = "on" if kind else "off"
        for name, coordinate, limit in (("row", row, geometry.rows), ("col", col, geometry.cols)):
            if isinstance(coordinate, bool) or not isinstance(coordinate, int) or not 0 <= coordinate < limit:
                raise ValueError(f"{at}: expected a {name} in [0, {limit}), got {_short(coordinate)}")
        if not isinstance(kind, str) or kind not in _STUCK_NAMES:
            raise ValueError(
                f"{at}: expected 'off' (stuck at g_min) or 'on' (stuck at g_max), got {_short(kind)}"
            )
        mask[row, col] = _STUCK_NAMES[kind]
    return mask


def _stuck_file(name: str, where: str, shape: tuple[int, int], folder: Path) -> np.ndarray:
    path = folder / name
    try:
        with open(path, "rb") as handle:
            mask = np.lib.format.read_array(handle, allow_pickle=False)
    except OSError as error:
        raise ValueError(f"{where}: cannot read the mask {path} ({error.strerror or error})") from None
    except (ValueError, EOFError):
        raise ValueError(f"{where}: {path} is not a .npy array") from None
    if mask.shape != shape:
        raise ValueError(f"{where}: expected a mask of shape (rows, cols) = {shape}, got {mask.shape}")
    if not (np.issubdtype(mask.dtype, np.integer) and np.all(np.isin(mask, (HEALTHY, STUCK_OFF, STUCK_ON)))):
        raise ValueError(f"{where}: expected integer fault codes 0 (healthy), 1 (stuck off) or 2 (stuck on)")
    return mask.astype(np.int8)


def _peripherals(value) -> Peripherals:
    fields = ("v_read", "integration_ns", "cell_area_um2", "add_energy_pj", "add_time_ns", "dac", "adc")
    p = _mapping(value, "peripherals", fields)
    converters = {}
    for name in ("dac", "adc"):
        at = f"peripherals.{name}."
        c = _mapping(
            _get(p, name, "peripherals.", None),
            at[:-1],
            ("bits", "energy_pj", "time_ns", "area_um2", "shared_by"),
        )
        converters[name] = Converter(
            bits=_get(c, "bits", at, _bits),
            energy_pj=_get(c, "energy_pj", at, _positive),
            time_ns=_get(c, "time_ns", at, _positive),
            area_um2=_get(c, "area_um2", at, _positive),
            shared_by=_get(c, "shared_by", at, _integer, 1),
        )
    defaults = Peripherals(**converters)
    # Converters, the array and its cells cost something (energy and time ratios divide by them); digital
    # additions may be taken as free.
    checks = {"v_read": _positive, "integration_ns": _positive, "cell_area_um2": _positive}
    scalars = {
        name: _get(p, name, "peripherals.", checks.get(name, _nonnegative), getattr(defaults, name))
        for name in fields[:5]
    }
    return Peripherals(**converters, **scalars)


def _device_overrides(value, where: str, technology: str, chip: dict) -> dict:
    """Fields of the technology's device model, checked by building the model on top of ``chip``'s."""
    value = _mapping(value, where, None)
    if "model" in value:
        raise ValueError(f"{where}.model: the model follows from chip.technology; leave it out")
    _single_values(value, where)
    try:
        technology_device(technology, {**chip, **value})
    except ValueError as error:
        raise ValueError(f"{where}.{error}") from None
    return dict(value)


def _single_values(overrides: dict, where: str, depth: int = 0) -> None:
    """A device override is one value for the whole tile (a number or a name), or a component's mapping of
    them; deeper mappings than components have (``write_verify.response``) are left to the device model."""
    for key, value in overrides.items():
        at = f"{where}.{yaml_key(key)}"
        if not (isinstance(key, str) and key.isidentifier()):
            raise ValueError(f"{at}: unknown field")
        if isinstance(value, dict) and depth < 2:
            _single_values(value, at, depth + 1)
        elif isinstance(value, list):
            raise ValueError(f"{at}: expected one value for the whole tile, got a list")
        elif isinstance(value, int) and not isinstance(value, bool) and not is_number(value):
            raise ValueError(f"{at}: expected a finite number, got an integer too large for a float32")


def _mapping(value, where: str, allowed: tuple | None) -> dict:
    if not isinstance(value, dict):
        shown = where or "the file"
        raise ValueError(f"{shown}: expected a mapping, got {type(value).__name__}")
    if allowed is not None:
        for key in value:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                raise ValueError(
                    f"{prefix}{yaml_key(key)}: unknown field; expected one of {', '.join(allowed)}"
                )
    return value


def _get(mapping: dict, key: str, prefix: str, check, default=_REQUIRED):
    if key not in mapping or mapping[key] is None:
        if default is _REQUIRED:
            raise ValueError(f"{prefix}{key}: missing (required)")
        return default
    return mapping[key] if check is None else check(mapping[key], f"{prefix}{key}")


def _integer(value, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: expected an integer >= {minimum}, got {_short(value)}")
    return value


def _index(value, where: str) -> int:
    return _integer(value, where, minimum=0)


def _bits(value, where: str) -> int:
    bits = _integer(value, where, minimum=2)
    if bits > MAX_BITS:
        raise ValueError(f"{where}: expected an integer <= {MAX_BITS}, got {bits}")
    return bits


def _string(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a non-empty string, got {_short(value)}")
    return value


def _date(value, where: str) -> str:
    """A date as YAML reads it (``2024-05-17``) or any non-empty string, as an ISO 8601 string."""
    return value.isoformat() if isinstance(value, datetime.date) else _string(value, where)


def _positive(value, where: str) -> float:
    if not is_number(value) or value <= 0:
        raise ValueError(f"{where}: expected a finite number > 0, got {_short(value)}")
    return float(value)


def _nonnegative(value, where: str) -> float:
    if not is_number(value) or value < 0:
        raise ValueError(f"{where}: expected a finite number >= 0, got {_short(value)}")
    return float(value)


def _vector(value, where: str, n: int, meaning: str, positive: bool = False) -> np.ndarray:
    """A number (the same for all n) or a list of n finite numbers."""
    if is_number(value):
        values = np.full(n, float(value))
    elif isinstance(value, list) and all(map(is_number, value)):
        if len(value) != n:
            raise ValueError(f"{where}: expected {n} values ({meaning}), got {len(value)}")
        values = np.asarray(value, float)
    else:
        raise ValueError(f"{where}: expected a number or a list of {n} numbers, got {_short(value)}")
    if positive and not np.all(values > 0):
        raise ValueError(f"{where}: expected gains > 0, got {float(values[values <= 0][0])!r}")
    return values


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Flow(list):
    """A list written on one line in YAML."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)
