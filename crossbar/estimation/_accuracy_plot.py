"""Accuracy vs time after programming: each chip's curve, the mean and its 95 % confidence band."""

import numpy as np

from .._png import png_bytes
from ._estimate import AccuracyEstimate


def accuracy_plot(estimates: dict[str, AccuracyEstimate], title: str) -> bytes:
    """PNG of one or more estimates (label -> estimate) on a log time axis, with the digital accuracy of
    the first as a dashed line."""
    import matplotlib
    from matplotlib.figure import Figure  # not pyplot: a caller's backend stays as it is

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for (label, estimate), color in zip(estimates.items(), colors, strict=False):
        rows = estimate.summary()
        t = np.array([r["t_s"] for r in rows])
        for trial in estimate.accuracies:
            ax.plot(t, 100 * trial, color=color, alpha=0.15, lw=0.8)
        ax.plot(t, 100 * np.array([r["mean"] for r in rows]), "o-", color=color, label=f"{label}: mean")
        if rows[0]["ci95"] is not None:
            low, high = (np.array([r["ci95"][i] for r in rows]) for i in (0, 1))
            ax.fill_between(t, 100 * low, 100 * high, color=color, alpha=0.25)
    first = next(iter(estimates.values()))
    ax.axhline(100 * first.digital_accuracy, color="gray", ls="--", label="digital")
    ax.set_xscale("log")
    ax.set_xlabel("time after programming (s)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{title}\n(thin lines: single chips; bands: 95 % CI of the mean)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return png_bytes(fig, 120)
