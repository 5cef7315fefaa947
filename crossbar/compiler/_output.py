"""A compiled chip's files: mapping.json, the conductance targets, the reports and figures, in one folder."""

import os
from pathlib import Path

from emulator_common.atomic_write import atomic_write

from .._input_error import InputError
from ._cost_model import ChipCost
from ._mapper import ChipMapping
from ._mapping_file import mapping_files
from ._report import report_files


def write_compiled(
    mapping: ChipMapping,
    cost: ChipCost,
    sources: dict,
    folder: str | os.PathLike,
    hardware: dict | None = None,
) -> list[Path]:
    """Write mapping.json, the conductance targets, the reports and the figures into ``folder``.

    Every file's contents are built before the first is written, and each is written atomically, so a failure
    leaves no partial output. ``sources`` names the model and profile files; ``hardware`` is the chip's
    hardware as a hardware file holds it (recorded in mapping.json and the report), if given.
    """
    files = {
        **mapping_files(mapping, cost, sources, hardware),
        **report_files(mapping, cost, sources, hardware),
    }
    return write_files(files, folder)


def write_files(files: dict[str, bytes], folder: str | os.PathLike) -> list[Path]:
    """Write each file of ``files`` (name -> contents) atomically into ``folder`` (created if needed)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"--out {folder}: cannot create the folder ({error.strerror})") from None
    paths = []
    for name, content in files.items():
        with atomic_write(folder / name, "wb") as handle:
            handle.write(content)
        paths.append(folder / name)
    return paths
