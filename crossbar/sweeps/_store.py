"""A sweep's rows in its results folder: appended as points finish, resumable, repaired after a kill.

``sweep.json`` names the spec (its SHA-256) the rows belong to; ``results.jsonl`` holds one row per point,
trial and time. Each finished chunk's rows are appended in one write and flushed to disk, so the file grows
by the new rows only. A run killed while writing leaves a torn last line, or rows of points it had not
finished: the next run drops those (rewriting the file once) and computes the points again, so that every
point ends with its rows exactly once. Callers hold the folder's lock (``folder_lock``) while a store is open.
"""

import json
import os
from pathlib import Path

from emulator_common.atomic_write import atomic_write

from .._input_error import InputError
from ._spec import SweepSpec

OUTPUT_FILES = ("results.jsonl", "results.csv", "summary.csv")
"""The files by which a folder holds a sweep's results (with its plots, named by the spec's axes)."""


class ResultStore:
    """The rows of one spec in ``folder``; rows of earlier runs of the same spec are kept."""

    def __init__(self, folder: str | Path, spec: SweepSpec):
        self.folder = Path(folder)
        self.results = self.folder / "results.jsonl"
        self.rows_per_point = spec.trials * len(spec.times)
        self._spec = spec
        meta = self.folder / "sweep.json"
        if meta.exists():
            try:
                earlier = json.loads(meta.read_text())["spec_sha256"]
            except (OSError, ValueError, KeyError, TypeError):
                raise InputError(f"{meta}: not a sweep's record; use another --out folder") from None
            if earlier != spec.sha256:
                raise InputError(
                    f"{self.folder}: holds the results of another spec (SHA-256 {str(earlier)[:12]}...); "
                    "use another --out folder, or remove it to start over"
                )
        else:
            found = [name for name in OUTPUT_FILES if (self.folder / name).exists()]
            if found:
                raise InputError(
                    f"{self.folder}: holds {found[0]} but no sweep.json (not a sweep this command can "
                    "resume); use another --out folder"
                )
        identity = {"spec": str(spec.path), "spec_sha256": spec.sha256, "points": len(spec.points)}
        identity["hardware"] = spec.hardware.document  # the base hardware, as a hardware file holds it
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(meta) as handle:
            handle.write(json.dumps(identity, indent=1))
        self.rows = self._read()

    def _read(self) -> list[dict]:
        """The stored rows of finished points, each once; the file rewritten if it held anything else."""
        if not self.results.exists():
            return []
        lines = self.results.read_bytes().split(b"\n")
        rows, torn = [], lines[-1] != b""  # a complete file ends with a newline
        for number, line in enumerate(lines[:-1], 1):
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if not self._is_row(row):
                raise InputError(f"{self.results}: line {number} is not a row of this sweep; remove the file")
            rows.append(row)
        kept = self._finished_once(rows)
        if torn or len(kept) != len(rows):
            with atomic_write(self.results) as handle:
                handle.write("".join(json.dumps(row) + "\n" for row in kept))
        return kept

    def _is_row(self, row) -> bool:
        spec = self._spec
        return (
            isinstance(row, dict)
            and all(key in row for key in ("point", "trial", "t_s", *spec.metrics))
            and type(row["point"]) is int
            and 0 <= row["point"] < len(spec.points)
            and type(row["trial"]) is int
            and 0 <= row["trial"] < spec.trials
            and row["t_s"] in spec.times
        )

    def _finished_once(self, rows: list[dict]) -> list[dict]:
        """The first row of each (point, trial, time), of the points that have all of theirs."""
        seen, unique, counts = set(), [], {}
        for row in rows:
            key = (row["point"], row["trial"], row["t_s"])
            if key not in seen:
                seen.add(key)
                unique.append(row)
                counts[row["point"]] = counts.get(row["point"], 0) + 1
        return [row for row in unique if counts[row["point"]] == self.rows_per_point]

    def finished(self) -> set[int]:
        """Indices of the points all of whose rows are stored."""
        return {row["point"] for row in self.rows}

    def add(self, rows: list[dict]) -> None:
        """Store the rows of finished points: appended in one write, on disk before this returns."""
        with open(self.results, "a") as handle:
            handle.write("".join(json.dumps(row) + "\n" for row in rows))
            handle.flush()
            os.fsync(handle.fileno())
        self.rows.extend(rows)
