"""A sweep's results summarized: per point and time, each metric's statistics over trials; rows as CSV."""

import csv
import io

from ..estimation import trial_statistics


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
