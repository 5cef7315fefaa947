"""A calibrated chip as hardware: its profile (what was measured) and what the profile leaves open (the
periphery's noise and bound management, output and weight noise, drift compensation, device settings for
every tile)."""

import dataclasses
import hashlib
from pathlib import Path

from calibration import ChipProfile

from ..array import Crossbar, Periphery
from ..compiler import chip_periphery
from ._parameter_paths import with_parameter

FIXED_BY_A_PROFILE = ("tile_rows", "tile_cols", "array_rows", "array_cols", "mapping", "r_row", "r_col")
"""Crossbar fields a chip's profile fixes (geometry, mapping scheme, wires); its tiles' windows too."""


def fixed_by_a_profile(chain: tuple[str, ...]) -> bool:
    """Whether the parameter at ``chain`` is the chip's profile's to say, not a user's to set or sweep."""
    return chain[0] in FIXED_BY_A_PROFILE or chain in (("device", "g_min"), ("device", "g_max"))


@dataclasses.dataclass(frozen=True)
class Chip:
    """A calibrated chip and the settings its profile leaves open.

    Attributes:
        profile: the chip's calibration profile.
        periphery: DAC, ADC (resolutions and read voltage from the profile unless set), noise and bound
            management, output and weight noise.
        drift_compensation: ``"none"``, ``"global"`` or ``"per_column"``.
        ir_drop: how the profile's wires distort reads: ``"approximate"`` (the default: every used tile is
            solved at every read), ``"exact"`` or ``"none"``.
        device_settings: device fields set for every tile in place of the profile's, by path within the
            device (``"read_noise_scale"``, ``"faults.p_off"``) -> value.
        path: the profile's file, or ``None`` for a profile in memory.
    """

    profile: ChipProfile
    periphery: Periphery
    drift_compensation: str = "global"
    ir_drop: str = "approximate"
    device_settings: tuple[tuple[str, object], ...] = ()
    path: Path | None = None

    @classmethod
    def of(cls, profile: ChipProfile, path: str | Path | None = None) -> "Chip":
        """The chip as its profile has it, with aihwkit's periphery defaults and global drift compensation."""
        return cls(profile, chip_periphery(profile), path=None if path is None else Path(path))

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the profile's file (what a result records to tell that chip from another)."""
        return None if self.path is None else hashlib.sha256(self.path.read_bytes()).hexdigest()

    def base(self) -> Crossbar:
        """A crossbar with the chip's periphery and tile 0's device (settings applied): what parameter paths
        resolve against."""
        return self.configured(
            Crossbar(
                device=self.profile.tile_device(0),
                periphery=self.periphery,
                drift_compensation=self.drift_compensation,
                ir_drop=self.ir_drop,
            )
        )

    def configured(self, crossbar: Crossbar) -> Crossbar:
        """``crossbar`` (a layer's tile grid on this chip) with the chip's device settings."""
        for path, value in self.device_settings:
            crossbar = with_parameter(crossbar, ("device", *path.split(".")), value)
        return crossbar

    def with_setting(self, chain: tuple[str, ...], value) -> "Chip":
        """The chip with the parameter at ``chain`` (not one a profile fixes) set to ``value``;
        ``ValueError`` for a value the model refuses."""
        if chain[0] == "device":
            settings = {**dict(self.device_settings), ".".join(chain[1:]): value}
            chip = dataclasses.replace(self, device_settings=tuple(settings.items()))
            chip.base()  # a value the device model refuses raises here
            return chip
        crossbar = with_parameter(self.base(), chain, value)
        return dataclasses.replace(
            self,
            periphery=crossbar.periphery,
            drift_compensation=crossbar.drift_compensation,
            ir_drop=crossbar.ir_drop,
        )
