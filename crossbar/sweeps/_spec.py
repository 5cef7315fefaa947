"""A parameter sweep as a YAML file: the model, the data, the base hardware, the axes, trials, seed, metrics.

```
model: mnist_mlp.onnx          # ONNX, relative to this file
data: mnist[8000:]             # as crossbar estimate --data
hardware: aihwkit-pcm          # a preset or hardware file (old name: preset), or chip: chip.yaml (a profile)
set: {dac.bits: 8}             # optional: parameters set on it, as crossbar estimate --set
device: pcm                    # optional, not with chip: another device model (preset or file)
times: [1s, 1d, 1y]            # read times of every point (or an axis named times)
trials: 5                      # chips per point
seed: 0
metrics: [accuracy, output_error]
batch: 8                       # points vectorized together
samples: 16                    # random draws, when an axis is random
axes:
  device.prog_noise_scale: [0.5, 1.0, 2.0]              # a grid: the values
  device.drift_scale: {start: 0.0, stop: 2.0, num: 5}   # a grid: evenly spaced (scale: log for geometric)
  periphery.output_noise: {uniform: [0.0, 0.1]}         # random: uniform, log_uniform or choice
```

Points are every combination of the grid axes, each with the same ``samples`` joint random draws of the random
axes (drawn once from the seed: every grid combination sees the same random values), built as they are asked
for. Every malformed field is reported as ``FILE: YAML.PATH: expected ...`` before any work starts: each value
of an axis is checked once, and the points in batches, one per combination of the values of static fields; a
sweep whose results would not fit in the machine's memory is refused.
"""

import dataclasses
import hashlib
import math
from pathlib import Path

import numpy as np
import yaml

from emulator_common.memory import require_memory
from emulator_common.validation import is_number
from emulator_common.yaml_files import yaml_key

from .._input_error import InputError
from ..estimation import parse_times, split_data_range
from ..hardware import (
    Chip,
    ResolvedHardware,
    fixed_by_a_profile,
    is_static,
    parameter_chain,
    resolve_device,
    resolve_hardware,
    with_parameter,
)
from ._points import Points

METRICS = ("accuracy", "output_error")
_KEYS = (
    *("model", "data", "hardware", "preset", "chip", "device", "set", "times"),
    *("trials", "seed", "metrics", "batch", "samples", "axes"),
)
_RANDOM = ("uniform", "log_uniform", "choice")
_DEFAULT_TIMES = "1s,1h,1d,1mo,1y"
BYTES_PER_ROW = 1024
"""Memory one result row takes: the result store holds every row, and writes them as JSON lines and CSV."""


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A checked sweep.

    Attributes:
        path: the spec file; sha256: of its bytes (results remember which spec made them).
        model: the ONNX file; data: the data spec (``crossbar estimate --data``).
        hardware: the hardware, resolved from the fields hardware (or preset), chip, device and set.
        times: read times (s); trials: chips per point; seed; metrics; points_per_chunk: points vectorized
            together (the spec's ``batch``).
        axes: parameter path -> its chain in the crossbar (``times`` is not an axis here: every point is read
            at every time).
        grid_axes: the axes given as grids (the others are random).
        points: one mapping (path -> value) per point, in order, each built when asked for.
    """

    path: Path
    sha256: str
    model: Path
    data: str
    hardware: ResolvedHardware
    times: tuple[float, ...]
    trials: int
    seed: int
    metrics: tuple[str, ...]
    points_per_chunk: int
    axes: dict[str, tuple[str, ...]]
    grid_axes: tuple[str, ...]
    points: Points


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep spec, its hardware resolved. Raises ``InputError("FILE: YAML.PATH: expected
    ...")``."""
    path = Path(path)
    raw, data = _read(path)

    def fail(where: str, message: str):
        raise InputError(f"{path}: {where}: {message}")

    _check_fields(data, path, fail)
    model, data_spec = _model(data, path, fail), _data(data, path, fail)
    fields = _hardware(data, path, fail)
    times = _times(data.get("times"), "times", fail)
    trials = _integer(data, "trials", 5, 1, fail)
    seed = _integer(data, "seed", 0, 0, fail)
    if seed >= 2**32:
        fail("seed", f"expected an integer in [0, 2**32), got {seed}")
    points_per_chunk = _integer(data, "batch", 8, 1, fail)
    metrics = _metrics(data, fail)
    times, axes = _axes_and_times(data, times, fail)
    hardware = _resolved(fields, path)
    base = hardware.hardware.base() if isinstance(hardware.hardware, Chip) else hardware.hardware
    rows = trials * len(times)  # per point
    chains, grid, random = _axes(axes, base, fields, rows, fail)
    samples = _samples(data, random, rows, fail)
    _require_room("axes", math.prod(len(values) for values in grid.values()) * samples, rows, fail)
    points = Points(grid, _draw(random, samples, seed))
    _check_points(points, chains, base, fail)
    return SweepSpec(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        model=model,
        data=data_spec,
        hardware=hardware,
        times=times,
        trials=trials,
        seed=seed,
        metrics=metrics,
        points_per_chunk=points_per_chunk,
        axes=chains,
        grid_axes=tuple(grid),
        points=points,
    )


def _read(path: Path) -> tuple[bytes, object]:
    """The spec's bytes and its YAML."""
    try:
        raw = path.read_bytes()
        return raw, yaml.safe_load(raw)
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror})") from None
    except (yaml.YAMLError, ValueError, RecursionError):
        raise InputError(f"{path}: not valid YAML") from None


def _check_fields(data, path: Path, fail) -> None:
    """A mapping of known fields, with the required ones."""
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with model, data and axes, got {type(data).__name__}")
    for key in data:
        if key not in _KEYS:
            fail(yaml_key(key), f"unknown field; expected one of {', '.join(_KEYS)}")
    for key in ("model", "data", "axes"):
        if key not in data:
            fail(key, "missing (required)")


def _model(data: dict, path: Path, fail) -> Path:
    """The ONNX file, relative to the spec."""
    model = _string(data, "model", fail)
    model_path = (path.parent / model) if not Path(model).is_absolute() else Path(model)
    if not model_path.is_file():
        fail("model", f"no such file {model_path}")
    return model_path


def _data(data: dict, path: Path, fail) -> str:
    """The data spec; a file beside the spec keeps its ``[a:b]`` range."""
    data_spec = _string(data, "data", fail)
    name, rows = split_data_range(data_spec)
    if name not in ("mnist", "digits") and (path.parent / name).exists():
        return str(path.parent / name) + rows
    return data_spec


def _metrics(data: dict, fail) -> tuple[str, ...]:
    metrics = data.get("metrics", ["accuracy"])
    if not isinstance(metrics, list) or not metrics or any(m not in METRICS for m in metrics):
        fail("metrics", f"expected a non-empty list of {', '.join(METRICS)}, got {metrics!r}")
    return tuple(metrics)


def _axes_and_times(data: dict, times: tuple[float, ...], fail) -> tuple[tuple[float, ...], dict]:
    """The read times (``times`` from the top level, or an axis named times) and the other axes."""
    axes = data["axes"]
    if not isinstance(axes, dict) or not axes:
        fail("axes", "expected a non-empty mapping of parameter path -> values")
    if "times" in axes:
        if "times" in data:
            fail("axes.times", "times are given twice (also at the top level)")
        times = _times(axes["times"], "axes.times", fail)
    axes = {key: value for key, value in axes.items() if key != "times"}
    if not axes:
        fail("axes", "expected at least one parameter besides times")
    return times, axes


def _axes(axes: dict, base, hardware: dict, rows: int, fail) -> tuple[dict, dict, dict]:
    """Each axis's chain in the base crossbar, and its values: grid axes (values) and random ones; ``rows``:
    the rows each point stores."""
    chains, grid, random = {}, {}, {}
    for name, values in axes.items():
        where = f"axes.{yaml_key(name)}"
        try:
            chains[name] = parameter_chain(name, base)
        except ValueError as error:
            fail(where, str(error))
        if hardware["chip"] is not None and fixed_by_a_profile(chains[name]):
            fail(
                where, "a chip's tiles, windows, wires and mapping are its profile's; sweep them on a preset"
            )
        if isinstance(values, dict) and any(k in values for k in _RANDOM):
            random[name] = _random_axis(values, where, fail)
        else:
            grid[name] = _grid_axis(values, where, rows, fail)
    return chains, grid, random


def _samples(data: dict, random: dict, rows: int, fail) -> int:
    """Joint draws of the random axes (1 without random axes)."""
    samples = data.get("samples")
    if random and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        needed = f"random axes {', '.join(random)} need it"
        fail("samples", f"expected an integer >= 1 ({needed}), got {samples!r}")
    if not random and samples is not None:
        fail("samples", "given, but no axis is random (uniform, log_uniform or choice)")
    _require_room("samples", samples or 1, rows, fail)
    return samples or 1


def _require_room(where: str, points: int, rows: int, fail) -> None:
    """``points`` points of ``rows`` rows each fit in the machine's memory."""
    try:
        require_memory(
            f"{points:,} points x {rows} rows (trials x times)", points * rows * BYTES_PER_ROW, "their rows"
        )
    except ValueError as error:
        fail(where, str(error))


def _check_points(points: Points, chains: dict, base, fail) -> None:
    """Every point's parameters, checked on the base crossbar without building each point: every value of an
    axis alone (a refused value is named with its first point), then, per combination of the values of the
    static fields (modes and sizes: few), all its points at once, the numeric values as arrays (which checks
    values that bound each other, like g_min and g_max, at every point)."""
    static = [name for name, chain in chains.items() if is_static(chain, base)]
    for name, chain in chains.items():
        values = points.values(name)
        if name in static:
            checked: set = set()
            for position, value in enumerate(values):
                if (type(value), repr(value)) not in checked:
                    checked.add((type(value), repr(value)))
                    _check_value(base, chain, value, name, points.first_with(name, position), fail)
            continue
        for position, value in enumerate(values):
            if not is_number(value):
                error = f"expected a finite number within float32's range, got {value!r}"
                fail(f"axes.{name}", f"value {value!r} (point {points.first_with(name, position)}): {error}")
        try:
            with_parameter(base, chain, np.asarray(values, float))
        except ValueError:
            for position, value in enumerate(values):
                _check_value(base, chain, value, name, points.first_with(name, position), fail)
    numeric = [name for name in chains if name not in static]
    for members in points.groups(static):
        crossbar, first = base, points[int(members[0])]
        try:
            for name in static:
                crossbar = with_parameter(crossbar, chains[name], first[name])
            for name in numeric:
                column = np.asarray(points.values(name), float)[points.positions(name, members)]
                crossbar = with_parameter(crossbar, chains[name], column)
        except ValueError:
            for index in members:
                _check_point(base, chains, points[int(index)], int(index), fail)


def _check_value(base, chain: tuple[str, ...], value, name: str, point: int, fail) -> None:
    try:
        with_parameter(base, chain, value)
    except ValueError as error:
        fail(f"axes.{name}", f"value {value!r} (point {point}): {error}")


def _check_point(base, chains: dict, point: dict, index: int, fail) -> None:
    crossbar = base
    try:
        for name, value in point.items():
            crossbar = with_parameter(crossbar, chains[name], value)
    except ValueError as error:
        shown = ", ".join(f"{name}={value!r}" for name, value in point.items())
        fail("axes", f"point {index} ({shown}): {error}")


def _string(data: dict, key: str, fail) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        fail(key, f"expected a non-empty string, got {value!r}")
    return value


def _integer(data: dict, key: str, default: int, least: int, fail) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        fail(key, f"expected an integer >= {least}, got {value!r}")
    return value


def _hardware(data: dict, path: Path, fail) -> dict:
    """The hardware fields: ``hardware`` (or its old name ``preset``: a preset or a hardware file), or
    ``chip`` (a profile); ``device`` (with a preset or file); ``set`` (parameter path -> value). Files are
    relative to the spec."""
    if "preset" in data and "hardware" in data:
        fail("preset", "give either hardware or its old name preset, not both")
    named = "hardware" if "hardware" in data else "preset"
    if named in data and "chip" in data:
        fail("chip", f"give either {named} or chip, not both")
    if "chip" in data and "device" in data:
        fail("device", "not with chip (the profile gives the chip's devices)")
    settings = data.get("set", {})
    if not isinstance(settings, dict) or not all(isinstance(key, str) for key in settings):
        fail("set", f"expected a mapping of parameter path -> value, e.g. {{adc.bits: 6}}, got {settings!r}")
    return {
        "field": "chip" if "chip" in data else named,
        "hardware": _beside(path, _string(data, named, fail)) if named in data else None,
        "chip": _beside(path, _string(data, "chip", fail)) if "chip" in data else None,
        "device": _beside(path, _string(data, "device", fail)) if "device" in data else None,
        "set": [(f"set.{key}", key, value) for key, value in settings.items()],
    }


def _resolved(fields: dict, spec: Path) -> ResolvedHardware:
    """The hardware the fields name; bad input names the spec and the field at fault."""
    try:
        if fields["device"] is not None:
            resolve_device(fields["device"])
    except InputError as error:
        raise InputError(f"{spec}: device: {error}") from None
    try:
        return resolve_hardware(
            fields["hardware"],
            chip=fields["chip"],
            device=fields["device"],
            settings=fields["set"],
            option=fields["field"],
        )
    except InputError as error:
        message = str(error)
        named = message.startswith(("set.", f"{fields['field']}: "))
        raise InputError(f"{spec}: {message if named else fields['field'] + ': ' + message}") from None


def _beside(spec: Path, name: str) -> str:
    """``name`` as a path relative to the spec where such a file exists there (else as given: a preset)."""
    return str(spec.parent / name) if (spec.parent / name).exists() else name


def _times(value, where: str, fail) -> tuple[float, ...]:
    if value is None:
        return parse_times(_DEFAULT_TIMES)
    if not isinstance(value, list) or not value:
        fail(where, f"expected a non-empty list of times like [1s, 1d, 1y], got {value!r}")
    try:
        return parse_times(",".join(str(v) for v in value))
    except InputError as error:
        fail(where, str(error).removeprefix("--times: "))


def _grid_axis(values, where: str, rows: int, fail) -> list:
    if isinstance(values, list):
        if not values:
            fail(where, "empty axis; expected at least one value")
        return values
    if not isinstance(values, dict):
        fail(where, f"expected a list of values, {{start, stop, num}} or a random axis, got {values!r}")
    unknown = set(values) - {"start", "stop", "num", "scale"}
    if unknown or not {"start", "stop", "num"} <= set(values):
        fail(where, f"expected start, stop, num (and optional scale: linear or log), got {sorted(values)}")
    start, stop, num, scale = values["start"], values["stop"], values["num"], values.get("scale", "linear")
    for key, number in (("start", start), ("stop", stop)):
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            fail(f"{where}.{key}", f"expected a number, got {number!r}")
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        fail(f"{where}.num", f"expected an integer >= 1, got {num!r}")
    if scale not in ("linear", "log"):
        fail(f"{where}.scale", f"expected linear or log, got {scale!r}")
    _require_room(f"{where}.num", num, rows, fail)
    if scale == "log":
        if start <= 0 or stop <= 0:
            fail(where, f"a log scale needs start and stop > 0, got {start} and {stop}")
        return [float(v) for v in np.geomspace(start, stop, num)]
    values = np.linspace(start, stop, num)
    if isinstance(start, int) and isinstance(stop, int) and np.all(values == np.round(values)):
        return [int(v) for v in values]  # an integer field (bits, rows) takes integers
    return [float(v) for v in values]


def _random_axis(values: dict, where: str, fail) -> tuple[str, list]:
    if len(values) != 1:
        fail(where, f"expected one of {', '.join(_RANDOM)}, got {sorted(values)}")
    kind, bounds = next(iter(values.items()))
    if kind == "choice":
        if not isinstance(bounds, list) or not bounds:
            fail(f"{where}.choice", f"expected a non-empty list, got {bounds!r}")
        return kind, bounds
    numbers = isinstance(bounds, list) and len(bounds) == 2
    numbers = numbers and all(not isinstance(b, bool) and isinstance(b, (int, float)) for b in bounds)
    if not numbers or not bounds[0] < bounds[1] or not all(math.isfinite(b) for b in bounds):
        fail(f"{where}.{kind}", f"expected [low, high] with low < high, got {bounds!r}")
    if kind == "log_uniform" and bounds[0] <= 0:
        fail(f"{where}.{kind}", f"expected low > 0 for a log scale, got {bounds[0]}")
    return kind, bounds


def _draw(random: dict, samples: int, seed: int) -> list[dict]:
    """``samples`` joint draws of the random axes (numpy's PCG64 seeded by the sweep's seed)."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name, (kind, bounds) in random.items():
        if kind == "uniform":
            columns[name] = [float(v) for v in rng.uniform(bounds[0], bounds[1], samples)]
        elif kind == "log_uniform":
            columns[name] = [float(v) for v in np.exp(rng.uniform(*np.log(bounds), samples))]
        else:
            columns[name] = [bounds[i] for i in rng.integers(0, len(bounds), samples)]
    return [{name: column[i] for name, column in columns.items()} for i in range(samples)]
