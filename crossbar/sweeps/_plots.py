"""Figures of a sweep: each metric against each axis (one line per read time), and heatmaps for pairs of axes
(at the last read time). Values are means over trials and over the points' other axes."""

import numpy as np
from matplotlib.figure import Figure

from .._png import png_bytes
from ..estimation import human_time

_LABELS = {"accuracy": "accuracy (%)", "output_error": "output error (relative)"}


def axis_plot(summary: list[dict], axis: str, metrics: tuple[str, ...]) -> bytes:
    """PNG: for each metric, its mean against ``axis``, one line per read time."""
    fig = Figure(figsize=(5.2 * len(metrics), 3.8))
    panels = fig.subplots(1, len(metrics), squeeze=False)
    values = _ordered({row[axis] for row in summary})
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    positions = values if numeric else list(range(len(values)))
    for ax, metric in zip(panels[0], metrics, strict=True):
        scale = 100.0 if metric == "accuracy" else 1.0
        for t in sorted({row["t_s"] for row in summary}):
            means = [scale * _cell(summary, {axis: v, "t_s": t}, metric) for v in values]
            ax.plot(positions, means, "o-", label=human_time(t))
        if not numeric:
            ax.set_xticks(positions, [str(v) for v in values])
        elif all(isinstance(v, int) for v in values):
            ax.set_xticks(positions)  # integer settings (bits, rows): no ticks between them
        ax.set_xlabel(axis)
        ax.set_ylabel(_LABELS[metric])
        ax.grid(alpha=0.3)
    panels[0][0].legend(title="after programming", fontsize=8)
    fig.suptitle(f"mean over trials and the other axes, against {axis}", fontsize=10)
    return png_bytes(fig)


def heatmap(summary: list[dict], first: str, second: str, metric: str) -> bytes:
    """PNG: the metric's mean at the last read time over the grid of two axes."""
    t = max(row["t_s"] for row in summary)
    rows, cols = _ordered({r[first] for r in summary}), _ordered({r[second] for r in summary})
    grid = np.array([[_cell(summary, {first: a, second: b, "t_s": t}, metric) for b in cols] for a in rows])
    grid = grid * (100.0 if metric == "accuracy" else 1.0)
    fig = Figure(figsize=(1.2 * len(cols) + 2.5, 0.6 * len(rows) + 2.0))
    ax = fig.subplots()
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(len(cols)), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in cols])
    ax.set_yticks(range(len(rows)), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in rows])
    ax.set_xlabel(second)
    ax.set_ylabel(first)
    for (i, j), value in np.ndenumerate(grid):
        ax.text(j, i, f"{value:.3g}", ha="center", va="center", color="white", fontsize=8)
    fig.colorbar(image, ax=ax, label=_LABELS[metric])
    ax.set_title(f"{metric} at {human_time(t)} after programming (mean)", fontsize=10)
    return png_bytes(fig)


def _cell(summary: list[dict], where: dict, metric: str) -> float:
    """Mean of the metric's per-point means over the summary rows matching ``where`` (NaN if none)."""
    values = [r[f"{metric}_mean"] for r in summary if all(r[k] == v for k, v in where.items())]
    return float(np.mean(values)) if values else float("nan")


def _ordered(values: set) -> list:
    try:
        return sorted(values)
    except TypeError:  # mixed kinds (e.g. None and numbers): keep a stable order by text
        return sorted(values, key=str)
