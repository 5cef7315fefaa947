"""One physical chip's calibration profile: identity, geometry, per-tile measurements, peripheral figures.

Units: conductance uS, resistance ohm, energy pJ, time ns, area um^2, voltage V. A profile is host-side data
(numpy arrays, frozen dataclasses); ``crossbar``'s compiler places networks on the chip it describes.
"""

import dataclasses

import numpy as np

from device_models import AbstractDevice, from_dict
from emulator_common.memory import require_memory
from emulator_common.schemes import SCHEMES

MAX_TILES = 2**16
MAX_TILE_DEVICES = 2**24  # 4096 x 4096: a tile's masks and vectors stay small enough to hold in memory
TECHNOLOGIES = {"pcm": "PCM", "rram": "RRAM", "ideal": "Ideal"}  # technology -> device model


@dataclasses.dataclass(frozen=True)
class Geometry:
    """The tile array of a chip.

    Attributes:
        tiles: number of tiles.
        rows: rows (inputs, one DAC each) per tile.
        cols: device columns per tile.
        scheme: how device columns form signed outputs: ``"differential"`` (pairs of adjacent columns,
            cols / 2 outputs) or ``"reference_column"`` (the last column is a reference, cols - 1 outputs).
    """

    tiles: int
    rows: int
    cols: int
    scheme: str = "differential"

    def __post_init__(self):
        for name in ("tiles", "rows", "cols"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"geometry.{name}: expected an integer >= 1, got {value!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"geometry.scheme: expected one of {', '.join(SCHEMES)}, got {self.scheme!r}")
        if self.scheme == "differential" and self.cols % 2:
            raise ValueError(
                f"geometry.cols: expected an even number for differential pairs, got {self.cols}"
            )
        if self.cols < 2:
            raise ValueError(f"geometry.cols: expected at least 2 device columns, got {self.cols}")
        if self.tiles > MAX_TILES:
            raise ValueError(f"geometry.tiles: expected at most {MAX_TILES} tiles, got {self.tiles}")
        if self.rows * self.cols > MAX_TILE_DEVICES:
            raise ValueError(
                f"geometry: expected rows x cols <= {MAX_TILE_DEVICES} devices per tile, "
                f"got {self.rows} x {self.cols}"
            )
        require_memory(
            f"geometry: a chip of {self.tiles} tiles of {self.rows} x {self.cols}",
            self.devices,
            "its stuck-cell masks (a byte per device)",
        )

    @property
    def devices(self) -> int:
        """Devices on the chip."""
        return self.tiles * self.rows * self.cols

    @property
    def outputs(self) -> int:
        """Signed output columns (ADC channels) per tile."""
        return self.cols // 2 if self.scheme == "differential" else self.cols - 1


@dataclasses.dataclass(frozen=True)
class Converter:
    """Figures of one DAC or ADC, for energy, latency and area estimates.

    Attributes:
        bits: resolution.
        energy_pj: energy per conversion (pJ).
        time_ns: time per conversion (ns).
        area_um2: area of one converter (um^2).
        shared_by: rows (DAC) or output columns (ADC) multiplexed onto one converter.
    """

    bits: int
    energy_pj: float
    time_ns: float
    area_um2: float
    shared_by: int = 1


@dataclasses.dataclass(frozen=True)
class Peripherals:
    """Peripheral figures of the chip (the same on every tile).

    Attributes:
        dac, adc: the converters.
        v_read: full-scale read voltage on a row (V).
        integration_ns: time one analog MVM integrates the column currents (ns).
        cell_area_um2: area of one device with its access transistor (um^2).
        add_energy_pj, add_time_ns: one digital accumulation of a partial sum (pJ, ns).
    """

    dac: Converter
    adc: Converter
    v_read: float = 0.2
    integration_ns: float = 10.0
    cell_area_um2: float = 0.05
    add_energy_pj: float = 0.05
    add_time_ns: float = 0.1


@dataclasses.dataclass(frozen=True)
class TileProfile:
    """What was measured on one tile.

    Attributes:
        g_min, g_max: conductance window that programming reaches on this tile (uS).
        device: overrides of device-model fields for this tile, e.g. ``{"prog_noise_scale": 1.1}``.
        stuck: fault code per device (rows, cols), int8: 0 healthy, 1 stuck at g_min, 2 stuck at g_max.
        adc_gain: analog gain of each output column before its ADC (outputs,).
        adc_offset: offset of each output column (outputs,), in units of one device's full-span current in
            the technology's nominal window, v_read (g_max - g_min) with the device model's default window.
        dac_gain: gain of each row's DAC (rows,).
        r_row, r_col: wire resistance of one row / column segment (ohm).
    """

    g_min: float
    g_max: float
    device: dict
    stuck: np.ndarray
    adc_gain: np.ndarray
    adc_offset: np.ndarray
    dac_gain: np.ndarray
    r_row: float
    r_col: float

    @property
    def fault_fraction(self) -> float:
        """Fraction of the tile's devices that are stuck."""
        return float(np.mean(self.stuck != 0))


@dataclasses.dataclass(frozen=True)
class ChipProfile:
    """A chip: who it is, its geometry, chip-wide device overrides, peripherals, and one entry per tile.

    Attributes:
        chip_id: identifier, e.g. a wafer and die number.
        technology: ``"pcm"``, ``"rram"`` or ``"ideal"``: the device model family.
        date: date of the measurement (ISO 8601).
        geometry: tile count and size.
        device: overrides of device-model fields for every tile (a tile's own overrides win).
        peripherals: converter and array figures.
        tiles: one ``TileProfile`` per tile, in tile order.
    """

    chip_id: str
    technology: str
    date: str
    geometry: Geometry
    device: dict
    peripherals: Peripherals
    tiles: tuple[TileProfile, ...]

    @property
    def nominal_span(self) -> float:
        """g_max - g_min (uS) of the technology's default window: the unit of the column offsets."""
        return nominal_span(self.technology)

    def tile_device(self, index: int) -> AbstractDevice:
        """The device model of tile ``index``: the technology's defaults, the chip-wide overrides, the tile's
        own overrides, and its measured window."""
        tile = self.tiles[index]
        return technology_device(
            self.technology, {**self.device, **tile.device, "g_min": tile.g_min, "g_max": tile.g_max}
        )


def nominal_span(technology: str) -> float:
    """g_max - g_min (uS) of a technology's nominal device model."""
    device = technology_device(technology, {})
    return float(device.g_max - device.g_min)


def technology_device(technology: str, overrides: dict) -> AbstractDevice:
    """The device model of a technology with field overrides (as in a device YAML file); ``ValueError``
    names a bad field."""
    return from_dict({"model": TECHNOLOGIES[technology], **overrides})
