"""A compiled chip's files: mapping.json, the conductance targets, the reports and figures, in one folder."""

import os
from pathlib import Path

import emulator_common.atomic_write as atomic
from calibration import ChipProfile
from emulator_common.memory import require_memory

from ._cost_model import ChipCost
from ._ir_drop_error import ir_drop_errors
from ._mapper import ChipMapping
from ._mapping_file import mapping_files
from ._report import report_files

OUTPUT_FILES = (
    *("mapping.json", "conductance_targets.npz", "report.md", "report.html"),
    *("occupancy.png", "conductance_histograms.png", "fault_error.png", "energy.png"),
)
"""The files a compile writes (``mapping_files`` and ``report_files`` make them)."""
BYTES_PER_DEVICE = 24
"""Memory a compile takes per device of the chip (measured: 20 bytes on 64 tiles of 2048 x 2048; the
conductance targets in float64, the occupancy maps and their RGB mosaic)."""


def require_room(profile: ChipProfile) -> None:
    """``ValueError`` naming the memory needed when this machine cannot hold the outputs of a compile onto
    ``profile``'s chip."""
    g = profile.geometry
    what = f"compiling onto {g.tiles} tiles of {g.rows} x {g.cols}"
    require_memory(what, g.devices * BYTES_PER_DEVICE, "the conductance targets and occupancy maps")


def write_compiled(
    mapping: ChipMapping,
    cost: ChipCost,
    sources: dict,
    folder: str | os.PathLike,
    hardware: dict | None = None,
    macs: dict | None = None,
    ir_drop: str = "exact",
) -> list[Path]:
    """Write mapping.json, the conductance targets, the reports and the figures into ``folder``.

    Every file's contents are built before the first is written, and each is written atomically, so a failure
    leaves no partial output. ``sources`` names the model and profile files; ``hardware`` is the chip's
    hardware as a hardware file holds it (recorded in mapping.json and the report), ``macs`` the network's
    analog/digital split (``MacSplit.document``, recorded in mapping.json), each if given; ``ir_drop`` is
    the IR-drop model of each layer's predicted error (``ir_drop_errors``).
    """
    errors = ir_drop_errors(mapping, ir_drop)
    files = {
        **mapping_files(mapping, cost, sources, hardware, macs, errors),
        **report_files(mapping, cost, sources, hardware, errors, ir_drop),
    }
    return write_files(files, folder)


def write_files(files: dict[str, bytes], folder: str | os.PathLike) -> list[Path]:
    """Write ``files`` (name -> contents) into ``folder`` (created if needed), all together."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {folder / name: content for name, content in files.items()}
    atomic.write_files(paths)
    return list(paths)
