"""``crossbar sweep``: a grid sweep's rows, CSVs and plots; results that do not depend on the executor (in
process or on a Dask LocalCluster) nor, beyond float32 rounding, on which points share a vectorized chunk;
resuming a sweep that was cut short; structural axes in chunks of their own; random axes; and bad specs,
schedulers and worker counts as one line on stderr with exit code 2 before any work.

Model: a 64-16-10 MLP trained on 1,200 of scikit-learn's digits; the sweeps read 200 of the others
(``digits[1200:1400]``) on 2 chips per point at 1 s and 1 y. Compiling a chunk takes seconds, so the sweeps
share their compiled programs: every aihwkit-pcm chunk below holds 2 points (of ADC bits 6 or 9), and the
grid sweep (``grid``) is run once and copied for the tests that resume it.
"""

import contextlib
import csv
import io
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np
import pytest
import yaml
from conftest import digits_mlp, one_error_line

import crossbar.estimation._estimate as estimation
import crossbar.sweeps._sweep as sweep_command
from crossbar.cli import main
from crossbar.estimation import load_data
from crossbar.hardware import with_parameter
from crossbar.networks import load_onnx
from crossbar.sweeps import chunks_of, load_spec, run_chunk
from crossbar.training import mlp_onnx_bytes

YEAR = 365.25 * 86400.0
TIMES = (1.0, YEAR)
TRIALS = 2
N = 200  # examples read by every sweep
NOISE = "device.prog_noise_scale"
BITS = "adc.bits"
PNG = b"\x89PNG\r\n\x1a\n"
FLOAT32_REL = 1e-5  # float32 rounding of an output error computed under another vmap (seen: 3e-7)


def by_key(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["point"], r["trial"], r["t_s"]))


def read_rows(folder: Path) -> list[dict]:
    """results.jsonl, every line parsed (a torn line fails the test)."""
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]


def sweep(spec: Path, out: Path, *options: str) -> tuple[int, str, str]:
    """``crossbar sweep SPEC --out OUT ...``: exit code, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["sweep", str(spec), "--out", str(out), *options])
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The MLP's ONNX file, the model loaded, and a synthesized chip profile (for specs that name a chip)."""
    folder = tmp_path_factory.mktemp("model")
    path = folder / "mlp.onnx"
    path.write_bytes(mlp_onnx_bytes(digits_mlp((16,))))
    chip = folder / "chip.yaml"
    with contextlib.redirect_stdout(io.StringIO()):
        assert (
            main(["profile", "synth", "--tiles", "2", "--rows", "64", "--cols", "128", "-o", str(chip)]) == 0
        )
    return SimpleNamespace(path=path, loaded=load_onnx(path), chip=chip)


def spec_fields(model, /, **fields) -> dict:
    """A spec's fields: aihwkit-pcm, 200 digits, 2 trials at 1 s and 1 y, seed 0, both metrics, ``fields``
    replacing or adding (``None`` removes a field)."""
    base = {
        "model": str(model.path),
        "data": f"digits[1200:{1200 + N}]",
        "preset": "aihwkit-pcm",
        "times": ["1s", "1y"],
        "trials": TRIALS,
        "seed": 0,
        "metrics": ["accuracy", "output_error"],
        "batch": 2,
    }
    merged = base | fields
    return {key: value for key, value in merged.items() if value is not None}


def write_spec(folder: Path, model, /, name: str = "spec.yaml", **fields) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(spec_fields(model, **fields), sort_keys=False))
    return path


class CountingRunChunk:
    """``run_chunk`` that records the points of each call, and raises after ``fail_after`` calls."""

    def __init__(self, fail_after: int | None = None):
        self.calls: list[list[int]] = []
        self.fail_after = fail_after

    def __call__(self, inputs, points):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("killed")
        self.calls.append(list(points))
        return run_chunk(inputs, points)


@pytest.fixture(scope="module")
def grid(model, tmp_path_factory):
    """prog_noise_scale [0.5, 2.0] x ADC bits [6, 9] (4 points in 2 chunks, one per ADC resolution), in
    process; the chunks ``run_chunk`` was given."""
    folder = tmp_path_factory.mktemp("grid")
    spec = write_spec(folder, model, batch=4, axes={NOISE: [0.5, 2.0], BITS: [6, 9]})
    counting = CountingRunChunk()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep_command, "run_chunk", counting)
        code, stdout, stderr = sweep(spec, folder / "out")
    return SimpleNamespace(
        spec=spec, out=folder / "out", code=code, stdout=stdout, stderr=stderr, calls=counting.calls
    )


# --- a grid sweep -----------------------------------------------------------------------------------------

POINTS = [{NOISE: 0.5, BITS: 6}, {NOISE: 0.5, BITS: 9}, {NOISE: 2.0, BITS: 6}, {NOISE: 2.0, BITS: 9}]


@pytest.mark.slow
def test_a_grid_sweep_stores_a_row_per_point_trial_and_time(grid):
    assert grid.code == 0, grid.stderr
    rows = read_rows(grid.out)
    assert len(rows) == len(POINTS) * TRIALS * len(TIMES)
    columns = ["point", NOISE, BITS, "trial", "t_s", "accuracy", "output_error"]
    assert all(list(row) == columns for row in rows)
    assert sorted((r["point"], r["trial"], r["t_s"]) for r in rows) == [
        (p, i, t) for p in range(len(POINTS)) for i in range(TRIALS) for t in TIMES
    ]
    for row in rows:
        assert {NOISE: row[NOISE], BITS: row[BITS]} == POINTS[row["point"]]
        assert type(row[BITS]) is int
        assert 0.0 <= row["accuracy"] <= 1.0 and row["accuracy"] * N == pytest.approx(
            round(row["accuracy"] * N)
        )
        assert 0.0 < row["output_error"] < 10.0
    # noisy chips: not every chip of a point reads alike
    assert len({r["output_error"] for r in rows}) == len(rows)


@pytest.mark.slow
def test_the_grid_sweep_writes_the_csvs(grid):
    rows = by_key(read_rows(grid.out))
    with open(grid.out / "results.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["point", NOISE, BITS, "trial", "t_s", "accuracy", "output_error"]
    assert table == [{key: str(value) for key, value in row.items()} for row in rows]

    with open(grid.out / "summary.csv", newline="") as handle:
        summary = list(csv.DictReader(handle))
    stats = [
        f"{m}_{s}" for m in ("accuracy", "output_error") for s in ("mean", "std", "ci95_low", "ci95_high")
    ]
    assert list(summary[0]) == ["point", NOISE, BITS, "t_s", "trials", *stats]
    assert [(int(s["point"]), float(s["t_s"])) for s in summary] == [
        (p, t) for p in range(len(POINTS)) for t in TIMES
    ]
    for entry in summary:
        point, t = int(entry["point"]), float(entry["t_s"])
        assert {NOISE: float(entry[NOISE]), BITS: int(entry[BITS])} == POINTS[point]
        assert int(entry["trials"]) == TRIALS
        for metric in ("accuracy", "output_error"):
            values = [r[metric] for r in rows if r["point"] == point and r["t_s"] == t]
            mean = float(entry[f"{metric}_mean"])
            assert mean == pytest.approx(np.mean(values), rel=1e-12)
            assert float(entry[f"{metric}_std"]) == pytest.approx(np.std(values, ddof=1), rel=1e-9, abs=1e-15)
            assert float(entry[f"{metric}_ci95_low"]) <= mean <= float(entry[f"{metric}_ci95_high"])


@pytest.mark.slow
def test_the_grid_sweep_plots_each_axis_and_each_pair_of_grid_axes(grid):
    expected = {
        "plot_device-prog_noise_scale.png",
        "plot_adc-bits.png",
        "heatmap_accuracy_device-prog_noise_scale_x_adc-bits.png",
        "heatmap_output_error_device-prog_noise_scale_x_adc-bits.png",
    }
    assert {p.name for p in grid.out.glob("*.png")} == expected
    for name in expected:
        assert (grid.out / name).read_bytes().startswith(PNG)
    printed = grid.stdout.splitlines()
    files = {"results.jsonl", "results.csv", "summary.csv", *expected}
    assert sorted(Path(line).name for line in printed) == sorted(files)
    assert all(Path(line).parent == grid.out for line in printed)


@pytest.mark.slow
def test_random_axes_get_a_plot_but_no_heatmap(model, tmp_path):
    """A grid axis of 2 values, one of 1 value and a random axis: no pair of varied grid axes, no heatmap."""
    spec = write_spec(
        tmp_path,
        model,
        samples=2,
        axes={NOISE: [0.5, 2.0], BITS: [9], "periphery.output_noise": {"uniform": [0.0, 0.1]}},
    )
    code, _, stderr = sweep(spec, tmp_path / "out")
    assert code == 0, stderr
    names = {p.name for p in (tmp_path / "out").glob("*.png")}
    assert names == {
        "plot_device-prog_noise_scale.png",
        "plot_adc-bits.png",
        "plot_periphery-output_noise.png",
    }
    rows = read_rows(tmp_path / "out")
    assert len(rows) == 4 * TRIALS * len(TIMES)
    noise = {r["point"]: r["periphery.output_noise"] for r in rows}
    assert len(set(noise.values())) == 2 and all(0.0 <= v < 0.1 for v in noise.values())


# --- executors and chunks ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_results_do_not_depend_on_the_executor(model, tmp_path):
    """The same chunks in process and on a Dask LocalCluster of 2 worker processes: the same rows, bit for
    bit."""
    spec = write_spec(tmp_path, model, axes={NOISE: [0.5, 1.0, 2.0, 3.0]})
    code, _, stderr = sweep(spec, tmp_path / "inprocess")
    assert code == 0, stderr
    code, _, stderr = sweep(spec, tmp_path / "local", "--scheduler", "local", "--workers", "2")
    assert code == 0, stderr
    here, there = by_key(read_rows(tmp_path / "inprocess")), by_key(read_rows(tmp_path / "local"))
    assert len(here) == 4 * TRIALS * len(TIMES)
    assert here == there
    assert (tmp_path / "inprocess" / "results.csv").read_text() == (
        tmp_path / "local" / "results.csv"
    ).read_text()


@pytest.mark.slow
def test_ideal_chips_reproduce_the_digital_accuracy_at_every_point(model, tmp_path):
    spec = write_spec(tmp_path, model, preset="ideal", axes={"device.g_max": [10.0, 25.0]})
    code, _, stderr = sweep(spec, tmp_path / "out")
    assert code == 0, stderr
    _, inputs = sweep_command.sweep_inputs(spec)
    logits = np.asarray(model.loaded.apply(model.loaded.params, inputs.x))
    digital = np.mean(np.argmax(logits, axis=-1) == inputs.y)
    rows = read_rows(tmp_path / "out")
    assert len(rows) == 2 * TRIALS * len(TIMES)
    assert {r["device.g_max"] for r in rows} == {10.0, 25.0}
    assert all(r["accuracy"] == digital for r in rows)
    assert all(0.0 <= r["output_error"] < 1e-5 for r in rows)


@pytest.fixture(scope="module")
def alone(grid):
    """Point 3 of the grid (noise 2, 9 bits; it shared a chunk with point 1) in a chunk of its own."""
    spec, inputs = sweep_command.sweep_inputs(grid.spec)
    return run_chunk(inputs, {3: spec.points[3]})


def assert_same_chips(rows: list[dict], expected: list[dict]) -> None:
    """The same rows, but for output errors computed under another vmap (float32 rounding apart)."""
    assert len(rows) == len(expected)
    for row, other in zip(by_key(rows), by_key(expected), strict=True):
        assert {k: v for k, v in row.items() if k != "output_error"} == {
            k: v for k, v in other.items() if k != "output_error"
        }
        assert row["output_error"] == pytest.approx(other["output_error"], rel=FLOAT32_REL)


@pytest.mark.slow
def test_a_point_alone_reads_as_in_a_chunk_of_several(grid, alone):
    """vmap over 1 point or 2 changes float32 rounding (output errors differ in the 7th digit), not the
    chips: the same accuracies and, to rounding, the same output errors."""
    in_chunk = [r for r in read_rows(grid.out) if r["point"] == 3]
    assert len(in_chunk) == TRIALS * len(TIMES)
    assert_same_chips(alone, in_chunk)


@pytest.mark.slow
def test_a_point_reads_as_estimate_accuracy_with_the_points_trial_keys(model, grid, alone, monkeypatch):
    """``estimate_accuracy`` on the preset with the point's parameters, its trial keys those of the sweep's
    point 3 (``fold_in(key(seed), 3)``: the estimator takes an int seed, so its key function is replaced)."""
    spec, inputs = sweep_command.sweep_inputs(grid.spec)
    hardware = inputs.hardware
    for path, value in spec.points[3].items():
        hardware = with_parameter(hardware, spec.axes[path], value)
    original = estimation.trial_keys
    point_key = jax.random.fold_in(jax.random.key(spec.seed), 3)
    monkeypatch.setattr(estimation, "trial_keys", lambda key, trials: original(point_key, trials))
    result = estimation.estimate_accuracy(
        model.loaded.apply,
        model.loaded.params,
        inputs.x,
        inputs.y,
        hardware,
        TIMES,
        TRIALS,
        0,
        progress=False,
    )
    rows = [
        {
            "point": 3,
            **spec.points[3],
            "trial": trial,
            "t_s": t,
            "accuracy": float(result.accuracies[trial, j]),
            "output_error": float(result.output_errors[trial, j]),
        }
        for trial in range(TRIALS)
        for j, t in enumerate(TIMES)
    ]
    assert_same_chips(rows, alone)


def points_of(model, folder: Path, batch: int, axes: dict) -> list[dict]:
    spec, inputs = sweep_command.sweep_inputs(write_spec(folder, model, batch=batch, axes=axes))
    return chunks_of(spec.points, inputs, spec.points_per_chunk)


@pytest.mark.slow
def test_the_grid_sweep_ran_one_chunk_per_adc_resolution(grid):
    # points: (0.5, 6), (0.5, 9), (2, 6), (2, 9)
    assert grid.calls == [[0, 2], [1, 3]]


@pytest.mark.parametrize(
    "batch, axes, chunks",
    [
        # an array field: points share chunks of up to batch
        (2, {NOISE: [0.5, 1.0, 1.5, 2.0, 3.0]}, [[0, 1], [2, 3], [4]]),
        (8, {NOISE: [0.5, 1.0, 1.5, 2.0, 3.0]}, [[0, 1, 2, 3, 4]]),
        # a static field (ADC bits) splits them; points (0.5, 6), (0.5, 9), (1, 6), (1, 9), (2, 6), (2, 9)
        (2, {NOISE: [0.5, 1.0, 2.0], BITS: [6, 9]}, [[0, 2], [4], [1, 3], [5]]),
        (8, {NOISE: [0.5, 1.0, 2.0], BITS: [6, 9]}, [[0, 2, 4], [1, 3, 5]]),
        (8, {BITS: [9, None, 9]}, [[0, 2], [1]]),
        (8, {"drift_compensation": ["none", "global", "none"]}, [[0, 2], [1]]),
        (8, {"tile.rows": [32, 64], "wire.r_row": [1.0, 2.0]}, [[0, 1], [2, 3]]),
    ],
)
def test_static_fields_split_chunks_and_array_fields_share_them(model, tmp_path, batch, axes, chunks):
    assert points_of(model, tmp_path, batch, axes) == chunks


# --- resuming ---------------------------------------------------------------------------------------------


def copy_of(grid, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(grid.out, out)
    return out


@pytest.mark.slow
def test_a_rerun_computes_only_the_missing_points(grid, tmp_path, monkeypatch):
    """Rows of points 0, 1 and 2 kept: the rerun computes point 3 alone (in the first run it shared a chunk
    with point 1), so its output errors agree to float32 rounding, the rest exactly."""
    out = copy_of(grid, tmp_path)
    first = read_rows(grid.out)
    kept = [row for row in first if row["point"] < 3]
    (out / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in kept))
    counting = CountingRunChunk()
    monkeypatch.setattr(sweep_command, "run_chunk", counting)
    code, _, stderr = sweep(grid.spec, out)
    assert code == 0, stderr
    assert counting.calls == [[3]]
    rows = read_rows(out)
    assert rows[: len(kept)] == kept
    assert_same_chips(rows, first)
    assert len(by_key(rows)) == len({(r["point"], r["trial"], r["t_s"]) for r in rows})


@pytest.mark.slow
def test_a_finished_sweep_reruns_without_computing_and_writes_the_same_files(grid, tmp_path, monkeypatch):
    out = copy_of(grid, tmp_path)
    for name in ("results.csv", "summary.csv"):
        (out / name).unlink()
    counting = CountingRunChunk()
    monkeypatch.setattr(sweep_command, "run_chunk", counting)
    code, _, stderr = sweep(grid.spec, out)
    assert code == 0, stderr
    assert counting.calls == []
    for name in ("results.jsonl", "results.csv", "summary.csv"):
        assert (out / name).read_bytes() == (grid.out / name).read_bytes(), name


@pytest.mark.slow
def test_a_sweep_killed_after_a_chunk_keeps_whole_points_and_a_rerun_completes_it(
    grid, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    killed = CountingRunChunk(fail_after=1)
    monkeypatch.setattr(sweep_command, "run_chunk", killed)
    with pytest.raises(RuntimeError, match="killed"):
        sweep(grid.spec, out)
    assert killed.calls == [[0, 2]]
    rows = read_rows(out)
    assert sorted({r["point"] for r in rows}) == [0, 2]
    for point in (0, 2):
        assert sorted((r["trial"], r["t_s"]) for r in rows if r["point"] == point) == [
            (i, t) for i in range(TRIALS) for t in TIMES
        ]
    assert not (out / "results.csv").exists()

    counting = CountingRunChunk()
    monkeypatch.setattr(sweep_command, "run_chunk", counting)
    code, _, stderr = sweep(grid.spec, out)
    assert code == 0, stderr
    assert counting.calls == [[1, 3]]
    # the same chunks as the uninterrupted run: the same rows, bit for bit
    assert by_key(read_rows(out)) == by_key(read_rows(grid.out))


@pytest.mark.slow
def test_another_spec_in_the_same_folder_is_refused(model, grid, tmp_path, capsys):
    other = write_spec(tmp_path, model, seed=1, batch=4, axes={NOISE: [0.5, 2.0], BITS: [6, 9]})
    before = {name: (grid.out / name).read_bytes() for name in ("sweep.json", "results.jsonl")}
    assert main(["sweep", str(other), "--out", str(grid.out)]) == 2
    captured = capsys.readouterr()
    message = one_error_line(captured.err)
    assert str(grid.out) in message and "another spec" in message
    assert captured.out == ""
    assert {name: (grid.out / name).read_bytes() for name in before} == before


# --- random axes ------------------------------------------------------------------------------------------


def random_points(model, folder: Path, **fields) -> tuple:
    spec = load_spec(write_spec(folder, model, **fields))
    return spec.points


def test_random_draws_cross_the_grid_reproducibly_within_bounds(model, tmp_path):
    axes = {"periphery.output_noise": {"uniform": [0.02, 0.1]}, NOISE: [0.5, 2.0]}
    points = random_points(model, tmp_path, samples=4, axes=axes)
    assert len(points) == 8
    assert [p[NOISE] for p in points] == [0.5] * 4 + [2.0] * 4
    draws = [p["periphery.output_noise"] for p in points]
    assert all(0.02 <= v < 0.1 for v in draws)
    assert len(set(draws[:4])) == 4
    assert draws[4:] == draws[:4]  # each grid value with the same joint draws
    assert random_points(model, tmp_path, samples=4, axes=axes) == points
    other = random_points(model, tmp_path, samples=4, axes=axes, seed=1)
    assert [p["periphery.output_noise"] for p in other] != draws


def test_log_uniform_and_choice_axes_draw_from_their_ranges(model, tmp_path):
    axes = {"periphery.output_noise": {"log_uniform": [1e-3, 1e-1]}, BITS: {"choice": [6, 9, None]}}
    points = random_points(model, tmp_path, samples=16, axes=axes)
    assert len(points) == 16
    noise = np.array([p["periphery.output_noise"] for p in points])
    assert np.all((noise >= 1e-3) & (noise < 1e-1))
    assert np.any(noise < 1e-2) and np.any(noise > 1e-2)  # spread over both decades
    bits = [p[BITS] for p in points]
    assert set(bits) <= {6, 9, None} and len(set(bits)) > 1
    assert all(b is None or type(b) is int for b in bits)


# --- bad input --------------------------------------------------------------------------------------------


def mutated(model, /, **fields) -> str:
    return yaml.safe_dump(spec_fields(model, **fields), sort_keys=False)


GRID = {NOISE: [0.5]}
RANDOM = {"periphery.output_noise": {"uniform": [0.0, 0.1]}}
BAD_SPECS = [
    # (fields replaced, YAML path, a fragment of the message)
    ({"axes": {"device.foo": [1.0]}}, "axes.device.foo", "has no field 'foo'"),
    ({"axes": {"frobnicate": [1.0]}}, "axes.frobnicate", "unknown parameter"),
    ({"axes": {BITS: []}}, "axes.adc.bits", "empty axis"),
    ({"trials": "two", "axes": GRID}, "trials", "expected an integer >= 1, got 'two'"),
    ({"axes": {BITS: [6.5]}}, "axes.adc.bits", "expected int, got 6.5"),
    ({"axes": {"device.drift_scale": ["abc"]}}, "axes.device.drift_scale", "expected a finite number"),
    ({"axes": {BITS: [1]}}, "axes.adc.bits", "expected an integer >= 2"),
    ({"axes": {BITS: [9, True]}}, "axes.adc.bits", "value True (point 1)"),
    ({"colour": "red", "axes": GRID}, "colour", "unknown field"),
    ({"model": None, "axes": GRID}, "model", "missing (required)"),
    ({"model": "nothere.onnx", "axes": GRID}, "model", "no such file"),
    ({"samples": 4, "axes": GRID}, "samples", "no axis is random"),
    ({"axes": RANDOM}, "samples", "need it"),
    ({"samples": 0, "axes": RANDOM}, "samples", "expected an integer >= 1"),
    ({"chip": "CHIP", "axes": GRID}, "chip", "either preset or chip"),
    ({"axes": {"times": ["1s"], **GRID}}, "axes.times", "given twice"),
    ({"times": ["3 fortnights"], "axes": GRID}, "times", "'3 fortnights' is not a time"),
    (
        {"axes": {"device.drift_scale": {"start": 0.0, "stop": 1.0, "num": 0}}},
        "axes.device.drift_scale.num",
        ">= 1",
    ),
    (
        {"axes": {"device.drift_scale": {"start": 0.0, "stop": 1.0, "num": 3, "scale": "log"}}},
        "axes.device.drift_scale",
        "log scale needs start and stop > 0",
    ),
    ({"preset": None, "chip": "CHIP", "axes": {"tile.rows": [32]}}, "axes.tile.rows", "are its profile's"),
    (
        {"preset": None, "chip": "CHIP", "axes": {"device.g_max": [20.0]}},
        "axes.device.g_max",
        "are its profile's",
    ),
    ({"preset": None, "chip": "CHIP", "axes": {"wire.r_row": [1.0]}}, "axes.wire.r_row", "are its profile's"),
    ({"axes": {"wire.r_row": [1.0, -1.0]}}, "axes.wire.r_row", "r_row: expected a finite number >= 0"),
    ({"axes": {"wire.r_col": [float("nan")]}}, "axes.wire.r_col", "expected a finite number"),
    (
        {
            "set": {"dac.encoding": "amplitude", "device.iv_b": 2.0, "wire.r_col": 1.0},
            "axes": {"ir_drop": ["approximate"]},
        },
        "axes.ir_drop",
        "the approximate model is defined for linear devices",
    ),
    ({"times": ["1h", 3600], "axes": GRID}, "times", "given before; expected each time once"),
    (
        {"axes": {"periphery.output_noise": {"uniform": [0.1, 0.0]}}, "samples": 2},
        "axes.periphery.output_noise.uniform",
        "low < high",
    ),
    ({"axes": {"device": [1.0]}}, "axes.device", "a component, not a parameter"),
    ({"metrics": ["loss"], "axes": GRID}, "metrics", "expected a non-empty list"),
    ({"batch": 0, "axes": GRID}, "batch", "expected an integer >= 1"),
]


@pytest.mark.parametrize("fields, where, fragment", BAD_SPECS, ids=[f"{w}: {f}" for _, w, f in BAD_SPECS])
def test_a_bad_spec_is_one_line_naming_the_file_and_field_before_any_work(
    model, tmp_path, capsys, fields, where, fragment
):
    fields = {key: str(model.chip) if value == "CHIP" else value for key, value in fields.items()}
    spec = tmp_path / "spec.yaml"
    spec.write_text(mutated(model, **fields))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    message = one_error_line(capsys.readouterr().err)
    assert message.startswith(f"crossbar: error: {spec}: {where}: "), message
    assert fragment in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["model: [unclosed\n", "axes: {a: 1\n", "\t- x: 1\n"])
def test_a_spec_that_is_not_yaml_is_one_line(tmp_path, capsys, text):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert one_error_line(capsys.readouterr().err) == f"crossbar: error: {spec}: not valid YAML\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "fields, where",
    [({"preset": "nope"}, "preset"), ({"device": "nope"}, "device"), ({"data": "digits[5:5]"}, "data")],
)
def test_a_bad_preset_device_or_data_names_the_spec_and_field(model, tmp_path, capsys, fields, where):
    spec = tmp_path / "spec.yaml"
    spec.write_text(mutated(model, axes=GRID, **fields))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    message = one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()
    assert message.startswith(f"crossbar: error: {spec}: {where}: "), message


@pytest.mark.parametrize(
    "options, fragment",
    [
        (["--scheduler", "sge"], "--scheduler: expected inprocess, local or tcp://HOST:PORT"),
        (["--scheduler", "LOCAL"], "--scheduler"),
        (["--workers", "0"], "--workers: expected an integer >= 1, got 0"),
        (["--scheduler", "local", "--workers", "-2"], "--workers"),
    ],
)
def test_a_bad_scheduler_or_worker_count_is_one_line(model, tmp_path, capsys, options, fragment):
    spec = write_spec(tmp_path, model, axes=GRID)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), *options]) == 2
    assert fragment in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line(model, tmp_path, capsys):
    """Nothing listens on port 1: the client gives up after its 30 s timeout, before the results folder or the
    progress bar exist."""
    spec = write_spec(tmp_path, model, axes=GRID)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    message = one_error_line(capsys.readouterr().err)
    assert "--scheduler tcp://127.0.0.1:1: cannot reach the Dask scheduler" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["tcp://", "tcp://127.0.0.1:notaport"])
def test_a_malformed_scheduler_address_is_one_line(model, tmp_path, capsys, address):
    spec = write_spec(tmp_path, model, axes=GRID)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", address]) == 2
    assert "--scheduler" in one_error_line(capsys.readouterr().err)


def test_an_evenly_spaced_grid_of_integers_fills_an_integer_field(model, tmp_path):
    spec_path = write_spec(tmp_path, model, axes={BITS: {"start": 6, "stop": 9, "num": 4}})
    spec = load_spec(spec_path)
    assert [p[BITS] for p in spec.points] == [6, 7, 8, 9]
    assert all(type(p[BITS]) is int for p in spec.points)


def test_a_network_that_does_not_fit_the_chip_is_one_line_before_any_file(model, tmp_path, capsys):
    import calibration

    calibration.save(calibration.synthesize("rram", 1, 0, rows=8, cols=8), tmp_path / "tiny.yaml")
    spec = write_spec(tmp_path, model, preset=None, chip="tiny.yaml", axes=GRID)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    message = one_error_line(capsys.readouterr().err)
    assert message.startswith(f"crossbar: error: {spec}: chip: the network does not fit"), message
    assert not (tmp_path / "out").exists()


def test_a_data_file_beside_the_spec_keeps_its_range(model, tmp_path):
    x, y = load_data("digits", (64,), 10)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    spec = load_spec(write_spec(tmp_path, model, data="d.npz[0:50]", axes=GRID))
    assert spec.data == f"{tmp_path / 'd.npz'}[0:50]"
