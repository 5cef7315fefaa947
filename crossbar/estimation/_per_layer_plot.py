"""Where a network loses accuracy, drawn: each layer's accuracy loss alone on the chip, with its 95 % CI."""

import numpy as np

from .._png import png_bytes
from ._per_layer import PerLayerEstimate
from ._times import human_time


def per_layer_plot(per_layer: PerLayerEstimate, title: str) -> bytes:
    """PNG of horizontal bars, one per layer ranked by loss (the largest on top): the digital accuracy minus
    the chips' mean accuracy at the last time, in percentage points, with the 95 % CI of the mean as error
    bars (none with one trial)."""
    from matplotlib.figure import Figure  # not pyplot: a caller's backend stays as it is

    ranked = per_layer.ranked()
    losses = np.array([100 * layer.loss()[0] for layer in ranked])
    intervals = [layer.loss()[1] for layer in ranked]
    fig = Figure(figsize=(6.4, 1.4 + 0.3 * len(ranked)))
    ax = fig.subplots()
    rows = np.arange(len(ranked))
    ax.barh(rows, losses, color="tab:red", alpha=0.7)
    if intervals[0] is not None:
        low, high = (np.array([100 * ci[i] for ci in intervals]) for i in (0, 1))
        ax.errorbar(losses, rows, xerr=[losses - low, high - losses], fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(rows, [layer.name for layer in ranked], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="gray", lw=0.8)
    ax.set_xlabel(f"accuracy loss at {human_time(per_layer.times[-1])} (percentage points)")
    ax.set_title(f"{title}\n(each layer alone on the chip, the rest digital; bars: 95 % CI)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return png_bytes(fig, 120)
