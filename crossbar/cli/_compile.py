"""``crossbar compile``: a network's weights onto a chip; mapping.json, conductance targets and reports."""

import os
from pathlib import Path

from calibration import ChipProfile
from device_models._atomic_write import atomic_write

from ._cost_model import ChipCost, estimate_cost
from ._input_error import InputError
from ._mapper import ChipMapping, compile_network
from ._mapping_file import mapping_files
from ._network_weights import load_weights
from ._report import report_files
from .onnx_model import load_onnx


def compile_to_folder(
    model: str | os.PathLike,
    profile: ChipProfile,
    profile_path: str | os.PathLike,
    out: str | os.PathLike,
    clip_percentile: float | None = None,
    fault_aware: bool = True,
) -> list[Path]:
    """Compile ``model`` (an ONNX file, or an ``.npz`` of weight arrays) onto ``profile``'s chip and write
    every output into ``out``; returns the paths written."""
    if Path(model).suffix.lower() == ".onnx":
        try:
            layers = load_onnx(model).matrix_layers()
        except ValueError as error:
            raise InputError(f"{model}: {error}") from None
    else:
        layers = load_weights(model)
    if clip_percentile is not None and not 0 < clip_percentile <= 100:
        raise InputError(f"--clip-percentile: expected a value in (0, 100], got {clip_percentile:g}")
    try:
        mapping = compile_network(layers, profile, clip_percentile=clip_percentile, fault_aware=fault_aware)
    except ValueError as error:
        raise InputError(f"{model}: {error}") from None
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    sources = {"model": str(model), "profile": str(profile_path)}
    return write_compiled(mapping, estimate_cost(mapping), sources, folder)


def write_compiled(
    mapping: ChipMapping, cost: ChipCost, sources: dict, folder: str | os.PathLike
) -> list[Path]:
    """Write mapping.json, the conductance targets, the reports and the figures into ``folder``.

    Every file's contents are built before the first is written, and each is written atomically, so a failure
    leaves no partial output. ``sources`` names the model and profile files.
    """
    files = {**mapping_files(mapping, cost, sources), **report_files(mapping, cost, sources)}
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
