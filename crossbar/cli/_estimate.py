"""``crossbar estimate``: Monte Carlo accuracy of a model on emulated chips over time: table, JSON, plot."""

import hashlib
import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from calibration import ChipProfile
from device_models._atomic_write import atomic_write
from device_models._serialization import to_dict

from ._accuracy_plot import accuracy_plot
from ._chip_arrays import ChipNotEmulated, chip_periphery
from ._crossbar import Crossbar
from ._estimation import AccuracyEstimate, estimate_accuracy
from ._input_error import InputError
from ._mapper import NetworkDoesNotFit
from .onnx_model import load_onnx

_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "mo": 2629800.0, "y": 31557600.0}
_FLOAT32_MAX = float(np.finfo(np.float32).max)
DATA_RANGE = re.compile(r"^(.+)\[(\d*:\d*)\]$")
_TIME = re.compile(r"^\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*([a-z]*)\s*$")


def parse_times(text: str) -> tuple[float, ...]:
    """Seconds for a list like ``1s,1h,1d,1mo,1y`` or ``3600,86400`` (units s, min, h, d, w, mo = 1/12 y,
    y = 365.25 d); each time once, within float32's range (the emulator computes in float32)."""
    times = []
    for part in text.split(","):
        match = _TIME.match(part)
        if not match or match.group(2) not in ("", *_UNITS) or not math.isfinite(float(match.group(1))):
            raise InputError(
                f"--times: {part.strip()!r} is not a time; expected a number of seconds or a number with a "
                f"unit ({', '.join(_UNITS)}), e.g. 1s,1h,1d,1mo,1y"
            )
        seconds = float(match.group(1)) * _UNITS.get(match.group(2) or "s")
        if seconds > _FLOAT32_MAX:
            raise InputError(
                f"--times: {part.strip()!r} is {seconds:g} s; expected at most {_FLOAT32_MAX:.3g} s"
            )
        if seconds in times:
            raise InputError(
                f"--times: {part.strip()!r} is {seconds:g} s, given before; expected each time once"
            )
        times.append(seconds)
    return tuple(times)


def load_data(spec: str, input_shape: tuple[int, ...], classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Examples (N, *input_shape) float32 and labels (N,) from an ``.npz`` with ``x`` and ``y``, or a built-in
    name: ``mnist`` (the 10,000 MNIST test images) or ``digits`` (scikit-learn's 1,797 8 x 8 digits).
    A suffix ``[START:STOP]`` keeps those examples, e.g. ``mnist[8000:]``."""
    range_match = DATA_RANGE.match(spec)
    spec, rows = (range_match.group(1), range_match.group(2)) if range_match else (spec, None)
    if spec == "mnist":
        from .datasets import load_mnist

        x, y, source = *load_mnist(), "mnist"
    elif spec == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y, source = digits.data.astype(np.float32) / 16.0, digits.target, "digits"
    else:
        x, y, source = *_npz_data(spec), spec
    if math.prod(x.shape[1:]) != math.prod(input_shape):
        raise InputError(
            f"{source}: x: expected examples of shape {input_shape} ({math.prod(input_shape)} values, the "
            f"model's input), got {x.shape[1:]}"
        )
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"{source}: y: expected {len(x)} integer labels, got shape {y.shape} of {y.dtype}")
    if y.min() < 0 or y.max() >= classes:
        raise InputError(
            f"{source}: y: expected labels in [0, {classes}) (the model's outputs), got {y.min()}..{y.max()}"
        )
    if rows is not None:
        start, stop = (int(v) if v else None for v in rows.split(":"))
        x, y = x[start:stop], y[start:stop]
        if len(x) == 0:
            raise InputError(f"--data: [{rows}] selects no examples of {source}")
    return x.reshape(len(x), *input_shape).astype(np.float32), y.astype(np.int32)


def _npz_data(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not Path(path).exists():
        raise InputError(f"{path}: no such file, and not a built-in dataset (mnist, digits)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in ("x", "y") if name not in archive.files]
            if missing:
                raise InputError(f"{path}: expected arrays 'x' and 'y', missing {', '.join(missing)}")
            x, y = archive["x"], archive["y"]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, AttributeError, TypeError):  # TypeError: .npy
        raise InputError(f"{path}: not a readable .npz archive with arrays x and y") from None
    # the model runs in float32: values beyond its range would become inf
    if x.ndim < 2 or len(x) == 0 or x.dtype.kind not in "iuf" or not np.all(np.abs(x) <= _FLOAT32_MAX):
        raise InputError(
            f"{path}: x: expected finite real examples (N, ...) with N >= 1, within float32's range, "
            f"got {x.shape} {x.dtype}"
        )
    return x, y


def run_estimate(
    model_path: str,
    data: str,
    hardware: Crossbar | ChipProfile,
    config: dict,
    times: tuple[float, ...],
    trials: int,
    seed: int,
    json_path: str | None,
    plot_path: str | None,
) -> tuple[AccuracyEstimate, str]:
    """Estimate, write the JSON and the plot if asked; returns the estimate and the terminal table."""
    if trials < 1:
        raise InputError(f"--trials: expected an integer >= 1, got {trials}")
    for option, path in (("--json", json_path), ("--plot", plot_path)):
        if path is not None and not Path(path).parent.is_dir():
            raise InputError(f"{option} {path}: no such folder {Path(path).parent}")
    model = load_onnx(model_path)
    classes = output_size(model)
    x, y = load_data(data, model.input_shape, classes)
    estimate = _estimate(model, x, y, hardware, times, trials, seed)
    run = {"model": str(model_path), "data": data, "times_s": list(times), "trials": trials, "seed": seed}
    document = estimate_document(estimate, {**config, **run, "examples": len(x)})
    # render both before writing either: a failure leaves no file behind
    text = json.dumps(document, indent=1)
    title = f"{Path(model_path).name} on {hardware_label(config)}"
    figure = None if plot_path is None else accuracy_plot({"emulated chips": estimate}, title)
    if json_path is not None:
        with atomic_write(json_path) as handle:
            handle.write(text)
    if plot_path is not None:
        with atomic_write(plot_path, "wb") as handle:
            handle.write(figure)
    return estimate, estimate_table(estimate)


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


def _estimate(model, x, y, hardware, times, trials, seed) -> AccuracyEstimate:
    """The estimate; a chip that does not hold the network, or that cannot be emulated, is bad input."""
    try:
        return estimate_accuracy(model.apply, model.params, x, y, hardware, times, trials, seed)
    except (NetworkDoesNotFit, ChipNotEmulated) as error:
        raise InputError(f"--chip: {error}") from None


def output_size(model) -> int:
    import jax
    import jax.numpy as jnp

    shape = jax.eval_shape(
        lambda x: model.apply(model.params, x), jax.ShapeDtypeStruct((1, *model.input_shape), jnp.float32)
    ).shape
    return shape[-1]


def estimate_table(estimate: AccuracyEstimate) -> str:
    lines = [
        f"digital accuracy {estimate.digital_accuracy:.4f}",
        "",
        f"{'time':>12} {'mean':>8} {'std':>8}  95 % CI",
    ]
    for row in estimate.summary():
        ci = "-" if row["ci95"] is None else f"[{row['ci95'][0]:.4f}, {row['ci95'][1]:.4f}]"
        lines.append(f"{human_time(row['t_s']):>12} {row['mean']:>8.4f} {row['std']:>8.4f}  {ci}")
    lines.append(
        f"\n{estimate.accuracies.shape[0]} chips x {len(estimate.times)} times in {estimate.seconds:.1f} s"
    )
    return "\n".join(lines)


def human_time(seconds: float) -> str:
    for unit in ("y", "mo", "w", "d", "h", "min", "s"):
        if seconds >= _UNITS[unit]:
            return f"{seconds / _UNITS[unit]:.3g} {unit}"
    return f"{seconds:.3g} s"
