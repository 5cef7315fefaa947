"""``crossbar sweep SPEC.yaml --out DIR``: a parameter sweep, in this process (points vectorized) or on a Dask
cluster; resumable, one run at a time per folder; results as JSON Lines, CSV and plots."""

import contextlib
import itertools
import os
import re
import sys
from pathlib import Path

from tqdm import tqdm

from emulator_common.atomic_write import atomic_write

from .._input_error import InputError
from ..compiler import ChipNotEmulated, NetworkDoesNotFit
from ..estimation import load_data
from ..networks import load_onnx
from ._folder_lock import folder_lock
from ._plots import axis_plot, heatmap
from ._results import csv_text, summary_rows
from ._run import SweepInputs, chunks_of, run_chunk
from ._spec import SweepSpec, load_spec
from ._store import ResultStore


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    scheduler: str = "inprocess",
    workers: int = 2,
    progress: bool = True,
) -> list[Path]:
    """Run every point of the spec not already in ``out``; write the CSVs and plots; return their paths.

    ``scheduler``: ``"inprocess"`` (chunks of points vectorized here), ``"local"`` (a Dask LocalCluster of
    ``workers`` processes) or a Dask scheduler address ``tcp://HOST:PORT``. ``progress``: say how many points,
    trials and times will run, then show a progress bar. Another sweep running into ``out`` is refused.
    """
    if scheduler not in ("inprocess", "local") and not _ADDRESS.fullmatch(scheduler):
        raise InputError(f"--scheduler: expected inprocess, local or tcp://HOST:PORT, got {scheduler!r}")
    if workers < 1:
        raise InputError(f"--workers: expected an integer >= 1, got {workers}")
    most = _WORKERS_PER_CORE * os.cpu_count()
    if scheduler == "local" and workers > most:
        raise InputError(f"--workers: expected at most {most} ({_WORKERS_PER_CORE} per core), got {workers}")
    spec, inputs = sweep_inputs(spec_path)
    try:  # compiles the network onto a chip: it must fit before any file is written
        chunks = chunks_of(spec.points, inputs, spec.points_per_chunk)
    except (NetworkDoesNotFit, ChipNotEmulated) as error:
        raise InputError(f"{spec.path}: chip: {error}") from None
    except InputError as error:  # a point the machine cannot evaluate
        raise InputError(f"{spec.path}: axes: {error}") from None
    with _executor(scheduler, workers) as execute, folder_lock(Path(out)):
        store = ResultStore(out, spec)
        done = store.finished()
        todo = [[i for i in chunk if i not in done] for chunk in chunks]
        todo = [chunk for chunk in todo if chunk]
        with tqdm(
            total=len(spec.points), initial=len(done), unit="point", desc="sweep", disable=not progress
        ) as bar:
            if progress:
                bar.write(_plan(spec, len(done), todo), file=sys.stderr)
            for rows in execute(inputs, ({i: spec.points[i] for i in chunk} for chunk in todo)):
                store.add(rows)
                bar.update(len({row["point"] for row in rows}))  # the bar shows time per point and time left
        return _write_outputs(store, spec, Path(out))


def _plan(spec: SweepSpec, done: int, todo: list[list[int]]) -> str:
    """What the sweep will run, said before it starts."""
    times, rows = len(spec.times), len(spec.points) * spec.trials * len(spec.times)
    running = sum(map(len, todo))
    return (
        f"sweep: {len(spec.points):,} points x {spec.trials} trials x {times} times = {rows:,} rows; "
        f"{done:,} points stored, {running:,} to run in {len(todo):,} chunks"
    )


def sweep_inputs(spec_path: str | Path) -> tuple[SweepSpec, SweepInputs]:
    """The checked spec, and what its chunks need: the model's bytes, the data and the hardware."""
    spec = load_spec(spec_path)
    with _named(spec.path, "model"):
        model = load_onnx(spec.model)
        model.require_matrix_products()
    with _named(spec.path, "data"):
        x, y = load_data(spec.data, model.input_shape, model.output_size())
    inputs = SweepInputs(
        spec.model.read_bytes(), x, y, spec.hardware.hardware, spec.times, spec.trials, spec.seed, spec.axes
    )
    return spec, inputs


_WORKERS_PER_CORE = 4  # a LocalCluster's processes beyond this only compete for the cores and memory
_ADDRESS = re.compile(r"tcp://[^\s:/]+:\d{1,5}")


@contextlib.contextmanager
def _field(field: str):
    """Bad input found in what a spec's field names is reported at that field."""
    try:
        yield
    except InputError as error:
        raise InputError(f"{field}: {str(error).removeprefix('--data: ')}") from None


@contextlib.contextmanager
def _named(spec: Path, field: str):
    """As ``_field``, after the spec's file name."""
    try:
        with _field(field):
            yield
    except InputError as error:
        raise InputError(f"{spec}: {error}") from None


@contextlib.contextmanager
def _executor(scheduler: str, workers: int):
    """``execute(inputs, chunks)``, yielding each chunk's rows as it finishes: here, one chunk after another,
    or on Dask workers (connected before any result is touched)."""
    if scheduler == "inprocess":
        yield lambda inputs, chunks: (run_chunk(inputs, chunk) for chunk in chunks)
        return
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
        client = Client(cluster if cluster is not None else scheduler, timeout="30s")
    except (OSError, ValueError) as error:
        if cluster is not None:
            cluster.close()
        raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({error})") from None

    def execute(inputs: SweepInputs, chunks: list[dict]):
        shared = client.scatter(inputs, broadcast=True)
        futures = [client.submit(run_chunk, shared, chunk, pure=False) for chunk in chunks]
        for future in as_completed(futures):
            yield future.result()

    try:
        yield execute
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _write_outputs(store: ResultStore, spec: SweepSpec, folder: Path) -> list[Path]:
    """results.csv (every row), summary.csv (per point and time), a plot per axis and a heatmap per pair of
    grid axes; each written atomically."""
    axes = list(spec.axes)
    rows = sorted(store.rows, key=lambda r: (r["point"], r["trial"], r["t_s"]))
    columns = ["point", *axes, "trial", "t_s", *spec.metrics]
    summary = summary_rows(rows, axes, spec.metrics)
    files = {
        "results.csv": csv_text([{c: row[c] for c in columns} for row in rows]),
        "summary.csv": csv_text(summary),
    }
    for axis in axes:
        files[f"plot_{_safe(axis)}.png"] = axis_plot(summary, axis, spec.metrics)
    varied = [a for a in spec.grid_axes if len({r[a] for r in summary}) > 1]
    for first, second in itertools.combinations(varied, 2):
        for metric in spec.metrics:
            files[f"heatmap_{metric}_{_safe(first)}_x_{_safe(second)}.png"] = heatmap(
                summary, first, second, metric
            )
    written = [store.results]
    for name, content in files.items():
        with atomic_write(folder / name, "wb" if isinstance(content, bytes) else "w") as handle:
            handle.write(content)
        written.append(folder / name)
    return written


def _safe(path: str) -> str:
    return path.replace(".", "-")
