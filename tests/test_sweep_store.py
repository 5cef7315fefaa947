"""A sweep's results folder under concurrent and interrupted runs: one run at a time (a second is refused in
one line), rows appended chunk by chunk, a torn last line and unfinished points repaired on resume, each
row stored once, a folder of something else refused. The Monte Carlo answers at once (``_instant_chunk``);
one test runs two real processes against each other."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from conftest import digits_mlp, one_error_line

import crossbar.sweeps._sweep as sweep_command
from crossbar.cli import main
from crossbar.sweeps._folder_lock import folder_lock
from crossbar.training import mlp_onnx_bytes

POINTS, TRIALS, TIMES = 6, 2, (1.0, 86400.0)


def _instant_chunk(inputs, points):
    return [
        {"point": i, **p, "trial": k, "t_s": t, "accuracy": 0.5 + i / 100, "output_error": 0.1}
        for i, p in points.items()
        for k in range(inputs.trials)
        for t in inputs.times
    ]


@pytest.fixture
def chunks(monkeypatch):
    """The chunks run, each a list of point indices; ``run_chunk`` answers at once."""
    calls = []

    def chunk(inputs, points):
        calls.append(list(points))
        return _instant_chunk(inputs, points)

    monkeypatch.setattr(sweep_command, "run_chunk", chunk)
    return calls


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    """6 points of drift scale in chunks of 2, 2 trials at 1 s and 1 d."""
    folder = tmp_path_factory.mktemp("store")
    (folder / "mlp.onnx").write_bytes(mlp_onnx_bytes(digits_mlp((16,))))
    document = {
        "model": "mlp.onnx",
        "data": "digits[0:20]",
        "hardware": "aihwkit-pcm",
        "times": ["1s", "1d"],
        "trials": TRIALS,
        "batch": 2,
        "axes": {"device.drift_scale": {"start": 0.0, "stop": 1.0, "num": POINTS}},
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(document))
    return folder / "spec.yaml"


def sweep(spec: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["sweep", str(spec), "--out", str(out)])
    return code, capsys.readouterr().err


def rows_of(out: Path) -> list[dict]:
    text = (out / "results.jsonl").read_text()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def keys(rows: list[dict]) -> list[tuple]:
    return sorted((r["point"], r["trial"], r["t_s"]) for r in rows)


ALL = [(p, k, t) for p in range(POINTS) for k in range(TRIALS) for t in TIMES]


def test_a_sweep_into_a_folder_another_run_holds_is_refused_in_one_line(spec, tmp_path, chunks, capsys):
    out = tmp_path / "out"
    with folder_lock(out):
        code, err = sweep(spec, out, capsys)
    assert code == 2
    line = one_error_line(err)
    assert f"{out}: another sweep (process {os.getpid()}) is running into this folder" in line
    assert chunks == [] and sorted(p.name for p in out.iterdir()) == ["sweep.lock"]
    assert sweep(spec, out, capsys)[0] == 0  # released: the next run goes ahead
    assert keys(rows_of(out)) == ALL


def test_rows_are_appended_chunk_by_chunk_not_rewritten(spec, tmp_path, monkeypatch, capsys):
    out, seen = tmp_path / "out", []

    def chunk(inputs, points):
        if (out / "results.jsonl").exists():
            seen.append((os.stat(out / "results.jsonl").st_ino, (out / "results.jsonl").stat().st_size))
        return _instant_chunk(inputs, points)

    monkeypatch.setattr(sweep_command, "run_chunk", chunk)
    assert sweep(spec, out, capsys)[0] == 0
    inodes, sizes = zip(*seen, strict=True)
    assert len(set(inodes)) == 1 and list(sizes) == sorted(sizes) and len(sizes) == 2  # one file, growing


def test_a_torn_last_line_and_unfinished_points_are_repaired_and_run_again(spec, tmp_path, chunks, capsys):
    out = tmp_path / "out"
    assert sweep(spec, out, capsys)[0] == 0
    rows = rows_of(out)
    kept = [r for r in rows if r["point"] < 3] + [r for r in rows if r["point"] == 3][
        :2
    ]  # point 3 unfinished
    torn = json.dumps(next(r for r in rows if r["point"] == 4))[:25]  # a writer killed mid-line
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept) + torn)
    chunks.clear()
    code, err = sweep(spec, out, capsys)
    assert code == 0, err
    assert chunks == [[3], [4, 5]]
    repaired = rows_of(out)
    assert keys(repaired) == ALL  # every row once: the unfinished point's first rows are not kept twice
    assert repaired[:12] == [r for r in rows if r["point"] < 3]


def test_duplicated_rows_are_kept_once(spec, tmp_path, chunks, capsys):
    out = tmp_path / "out"
    assert sweep(spec, out, capsys)[0] == 0
    text = (out / "results.jsonl").read_text()
    (out / "results.jsonl").write_text(text + text.splitlines(keepends=True)[0])
    chunks.clear()
    assert sweep(spec, out, capsys)[0] == 0
    assert chunks == [] and keys(rows_of(out)) == ALL


def test_a_line_that_is_not_a_row_of_this_sweep_is_refused(spec, tmp_path, chunks, capsys):
    out = tmp_path / "out"
    assert sweep(spec, out, capsys)[0] == 0
    lines = (out / "results.jsonl").read_text().splitlines(keepends=True)
    lines[3] = json.dumps({"point": 99, "trial": 0, "t_s": 1.0}) + "\n"
    (out / "results.jsonl").write_text("".join(lines))
    code, err = sweep(spec, out, capsys)
    assert code == 2
    assert f"{out / 'results.jsonl'}: line 4 is not a row of this sweep" in one_error_line(err)


def test_a_folder_with_results_but_no_sweep_record_is_refused(spec, tmp_path, chunks, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("someone else's\n")
    code, err = sweep(spec, out, capsys)
    assert code == 2
    assert f"{out}: holds results.csv but no sweep.json" in one_error_line(err)
    assert (out / "results.csv").read_text() == "someone else's\n" and chunks == []


_HELD_SWEEP = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import crossbar.sweeps._sweep as sweep_command
    from crossbar.cli import main

    def chunk(inputs, points):  # each chunk waits until the test lets it go
        release = Path(sys.argv[-1]) / "release"
        while not release.exists():
            time.sleep(0.05)
        return [
            {"point": i, **p, "trial": k, "t_s": t, "accuracy": 0.5, "output_error": 0.1}
            for i, p in points.items() for k in range(inputs.trials) for t in inputs.times
        ]

    sweep_command.run_chunk = chunk
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.slow
def test_two_processes_sweeping_into_one_folder_lose_and_duplicate_nothing(spec, tmp_path):
    """The first holds the folder, its chunks waiting; the second, started meanwhile, is refused; the first
    then finishes, and a third finds every point done."""
    out = tmp_path / "out"
    argv = [sys.executable, "-c", _HELD_SWEEP, "sweep", str(spec), "--out", str(out)]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (out / "sweep.json").exists() and first.poll() is None:
        time.sleep(0.05)
    second = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    (out / "release").touch()
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert second.returncode == 2
    assert f"{out}: another sweep (process {first.pid}) is running" in one_error_line(second.stderr)
    third = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and "0 to run" in third.stderr
    assert keys(rows_of(out)) == ALL
