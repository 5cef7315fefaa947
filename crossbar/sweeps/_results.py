"""A sweep's results folder: rows appended durably as points finish, resumable, summarized to CSV.

``sweep.json`` names the spec (its SHA-256) the rows belong to; ``results.jsonl`` holds one row per point,
trial and time. Each time a chunk of points finishes, the whole file is rewritten to a temporary file and
renamed into place, so at any moment it holds every finished point and nothing torn.
"""

import csv
import io
import json
from pathlib import Path

from emulator_common.atomic_write import atomic_write

from .._input_error import InputError
from ..estimation import trial_statistics
from ._spec import SweepSpec


class ResultStore:
    """The rows of one spec in ``folder``; rows of earlier runs of the same spec are kept."""

    def __init__(self, folder: str | Path, spec: SweepSpec):
        self.folder = Path(folder)
        self.results = self.folder / "results.jsonl"
        self.rows_per_point = spec.trials * len(spec.times)
        identity = {"spec": str(spec.path), "spec_sha256": spec.sha256, "points": len(spec.points)}
        identity["hardware"] = spec.hardware.document  # the base hardware, as a hardware file holds it
        meta = self.folder / "sweep.json"
        if meta.exists():
            try:
                earlier = json.loads(meta.read_text())["spec_sha256"]
            except (OSError, ValueError, KeyError, TypeError):
                raise InputError(f"{meta}: not a sweep's record; use another --out folder") from None
            if earlier != spec.sha256:
                raise InputError(
                    f"{self.folder}: holds the results of another spec (SHA-256 {earlier[:12]}...); "
                    "use another --out folder, or remove it to start over"
                )
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(meta) as handle:
            handle.write(json.dumps(identity, indent=1))
        self.rows: list[dict] = []
        if self.results.exists():
            for number, line in enumerate(self.results.read_text().splitlines(), 1):
                try:
                    self.rows.append(json.loads(line))
                except ValueError:
                    raise InputError(f"{self.results}: line {number} is not JSON; remove the file") from None
        self._text = "".join(json.dumps(row) + "\n" for row in self.rows)

    def finished(self) -> set[int]:
        """Indices of the points all of whose rows are stored."""
        counts: dict[int, int] = {}
        for row in self.rows:
            counts[row["point"]] = counts.get(row["point"], 0) + 1
        return {point for point, count in counts.items() if count == self.rows_per_point}

    def add(self, rows: list[dict]) -> None:
        """Store the rows of finished points (durably: the file is replaced by one holding them too)."""
        self.rows.extend(rows)
        self._text += "".join(json.dumps(row) + "\n" for row in rows)
        with atomic_write(self.results) as handle:
            handle.write(self._text)


def summary_rows(rows: list[dict], axes: list[str], metrics: tuple[str, ...]) -> list[dict]:
    """Per point and time: the point's parameters, trials, and each metric's mean, std and 95 % confidence
    interval of the mean (``trial_statistics``: NaN with one trial), sorted by point and time."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["point"], row["t_s"]), []).append(row)
    summary = []
    for (point, t), members in sorted(groups.items()):
        entry = {"point": point, **{a: members[0][a] for a in axes}, "t_s": t, "trials": len(members)}
        for metric in metrics:
            stats = trial_statistics([m[metric] for m in members])
            entry |= {f"{metric}_mean": stats.mean, f"{metric}_std": stats.std}
            entry |= {f"{metric}_ci95_low": stats.ci95_low, f"{metric}_ci95_high": stats.ci95_high}
        summary.append(entry)
    return summary


def csv_text(rows: list[dict]) -> str:
    """Rows as CSV, columns in the order of the first row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
