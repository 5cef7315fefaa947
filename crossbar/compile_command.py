"""``crossbar compile``: a network's weights onto a chip; mapping.json, conductance targets and reports."""

import os
from pathlib import Path

from calibration import ChipProfile

from ._cost_model import estimate_cost
from ._input_error import InputError
from ._mapper import compile_network
from ._mapping_file import write_mapping
from ._network_weights import load_weights
from ._report import write_report


def compile_to_folder(
    model: str | os.PathLike,
    profile: ChipProfile,
    profile_path: str | os.PathLike,
    out: str | os.PathLike,
    clip_percentile: float | None = None,
    fault_aware: bool = True,
) -> list[Path]:
    """Compile the weights in ``model`` onto ``profile``'s chip and write every output into ``out``; returns
    the paths written. Every input is checked before the first file is written, and each file is written
    atomically."""
    layers = load_weights(model)
    if clip_percentile is not None and not 0 < clip_percentile <= 100:
        raise InputError(f"--clip-percentile: expected a value in (0, 100], got {clip_percentile:g}")
    try:
        mapping = compile_network(layers, profile, clip_percentile=clip_percentile, fault_aware=fault_aware)
    except ValueError as error:
        raise InputError(f"{model}: {error}") from None
    cost = estimate_cost(mapping)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"--out {out}: cannot create the folder ({error.strerror or error})") from None
    sources = {"model": str(model), "profile": str(profile_path)}
    return write_mapping(mapping, cost, sources, folder) + write_report(mapping, cost, sources, folder)
