"""What an estimate records and prints: its configuration, its JSON document, its terminal table."""

import hashlib
from pathlib import Path

from calibration import ChipProfile
from device_models import to_dict

from ..array import Crossbar
from ..compiler import chip_periphery
from ._estimate import AccuracyEstimate
from ._times import human_time


def preset_config(name: str, crossbar: Crossbar) -> dict:
    """The resolved configuration of a preset (or a preset with another device), for the JSON."""
    device = {"model": type(crossbar.device).__name__, **to_dict(crossbar.device)}
    return {"preset": name, "crossbar": {**to_dict(crossbar), "device": device}}


def chip_config(path: str | Path, profile: ChipProfile) -> dict:
    """The configuration of an estimate on a chip: its profile (path and SHA-256) and the periphery."""
    return {
        "chip": str(path),
        "chip_id": profile.chip_id,
        "chip_sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        "technology": profile.technology,
        "fault_aware": True,
        "drift_compensation": "global",
        "periphery": to_dict(chip_periphery(profile)),
    }


def hardware_label(config: dict) -> str:
    """A short name of the hardware of ``config`` (``preset_config`` or ``chip_config``)."""
    return config["preset"] if "preset" in config else f"chip {config['chip_id']}"


def estimate_document(estimate: AccuracyEstimate, config: dict) -> dict:
    """The JSON document of an estimate: digital accuracy, one row per time, the Monte Carlo seconds and the
    full configuration."""
    return {
        "digital_accuracy": estimate.digital_accuracy,
        "rows": estimate.summary(),
        "seconds": estimate.seconds,
        "config": config,
    }


def estimate_table(estimate: AccuracyEstimate) -> str:
    """The digital accuracy, then per time the mean, std and 95 % CI of the chips' accuracy."""
    lines = [
        f"digital accuracy {estimate.digital_accuracy:.4f}",
        "",
        f"{'time':>12} {'mean':>8} {'std':>8}  95 % CI",
    ]
    for row in estimate.summary():
        std = "-" if row["std"] is None else f"{row['std']:.4f}"
        ci = "-" if row["ci95"] is None else f"[{row['ci95'][0]:.4f}, {row['ci95'][1]:.4f}]"
        lines.append(f"{human_time(row['t_s']):>12} {row['mean']:>8.4f} {std:>8}  {ci}")
    lines.append(
        f"\n{estimate.accuracies.shape[0]} chips x {len(estimate.times)} times in {estimate.seconds:.1f} s"
    )
    return "\n".join(lines)
