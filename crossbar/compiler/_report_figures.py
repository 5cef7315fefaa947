"""The figures of the compile report, as PNG bytes: chip occupancy, conductance targets, weight error due to
stuck devices, and energy and latency per layer."""

import dataclasses
import math

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import NullLocator

from emulator_common.fault_codes import STUCK_OFF, STUCK_ON

from .._png import png_bytes
from ._cost_model import COMPONENTS, ChipCost
from ._mapper import ChipMapping

_DPI = 110
_WIDTH_IN = 11.0  # every figure's width (inches)
_UNUSED = (0.93, 0.93, 0.93)
_STUCK_COLORS = {STUCK_OFF: (0.0, 0.0, 0.0), STUCK_ON: (0.9, 0.0, 0.0)}
_MOSAIC_PIXELS = 256  # at most this many pixels along a tile's side in the occupancy map
# tab20 without its reds (stuck on) and greys (unused): layer colors stay apart from the overlays.
_LAYER_COLORS = tuple(
    matplotlib.colormaps["tab20"].colors[i] for i in (0, 2, 4, 8, 10, 12, 16, 18, 1, 3, 5, 9, 11, 13, 17, 19)
)
_COMPONENTS = {
    "dac": ("DAC", "#4c72b0"),
    "array": ("array", "#55a868"),
    "adc": ("ADC", "#dd8452"),
    "digital": ("digital", "#8172b3"),
}


def layer_color(index: int) -> tuple[float, float, float]:
    """The color of the ``index``-th layer in every figure of the report (cycles after 16 layers)."""
    return _LAYER_COLORS[index % len(_LAYER_COLORS)]


def render_figures(mapping: ChipMapping, cost: ChipCost) -> dict[str, bytes]:
    """Every figure of the report: file name -> PNG bytes."""
    owner = layer_owner(mapping)
    return {
        "occupancy.png": _occupancy(mapping, owner),
        "conductance_histograms.png": _conductance_histograms(mapping, owner),
        "fault_error.png": _fault_error(mapping),
        "energy.png": _energy(cost),
    }


def layer_owner(mapping: ChipMapping) -> np.ndarray:
    """Index of the layer whose real weights each device holds (tiles, rows, cols) int16, -1 for none (a
    reference column shared by blocks of several layers goes to the last of them)."""
    g = mapping.profile.geometry
    owner = np.full((g.tiles, g.rows, g.cols), -1, np.int16)
    for index, layer in enumerate(mapping.layers):
        blocks = tuple(b for b in mapping.blocks if b.layer == layer.name)
        owner[dataclasses.replace(mapping, blocks=blocks).used_devices()] = index
    return owner


def tile_image(mapping: ChipMapping, owner: np.ndarray, tile: int) -> np.ndarray:
    """(rows', cols', 3) RGB picture of a tile: layer colors (``owner`` from ``layer_owner``), stuck devices
    on top, averaged down to at most ``_MOSAIC_PIXELS`` pixels a side."""
    g = mapping.profile.geometry
    colors = np.array([_UNUSED] + [layer_color(i) for i in range(len(mapping.layers))])
    image = colors[owner[tile] + 1]
    stuck = mapping.profile.tiles[tile].stuck
    for code, color in _STUCK_COLORS.items():
        image[stuck == code] = color
    factor = math.ceil(max(g.rows, g.cols) / _MOSAIC_PIXELS)
    if factor == 1:
        return image
    rows, cols = -(-g.rows // factor) * factor, -(-g.cols // factor) * factor
    padded = np.pad(image, ((0, rows - g.rows), (0, cols - g.cols), (0, 0)), mode="edge")
    return padded.reshape(rows // factor, factor, cols // factor, factor, 3).mean(axis=(1, 3))


def _occupancy(mapping: ChipMapping, owner: np.ndarray) -> bytes:
    """All tiles in one mosaic image (one ``imshow``), each titled with its index and stuck fraction."""
    g = mapping.profile.geometry
    images = [tile_image(mapping, owner, t) for t in range(g.tiles)]
    height, width = images[0].shape[:2]
    n_cols = max(math.ceil(math.sqrt(g.tiles)), min(g.tiles, 4))
    n_rows = math.ceil(g.tiles / n_cols)
    per_inch = n_cols * width / (0.9 * _WIDTH_IN)  # mosaic pixels per inch of figure, about
    gap_x, gap_y = max(2, round(0.15 * per_inch)), max(4, round(0.3 * per_inch))  # between tiles; for titles
    margin = 2
    canvas = np.ones((n_rows * (height + gap_y) + margin, n_cols * (width + gap_x) - gap_x + 2 * margin, 3))
    used_tiles = {t for layer in mapping.layers for t in layer.tiles}
    handles = [Patch(color=layer_color(i), label=layer.name) for i, layer in enumerate(mapping.layers)]
    handles += [
        Patch(color=_UNUSED, label="unused"),
        Patch(color=_STUCK_COLORS[STUCK_OFF], label="stuck at g_min"),
        Patch(color=_STUCK_COLORS[STUCK_ON], label="stuck at g_max"),
    ]
    legend_columns = min(len(handles), 8)
    legend_in = 0.15 + 0.28 * math.ceil(len(handles) / legend_columns)
    map_in = 0.99 * _WIDTH_IN * canvas.shape[0] / canvas.shape[1]
    fig = Figure(figsize=(_WIDTH_IN, map_in + legend_in + 0.05))
    ax = fig.add_axes((0.005, 0.05 / fig.get_figheight(), 0.99, map_in / fig.get_figheight()))
    font = 9 if n_cols <= 4 else 8 if n_cols <= 6 else 6.5
    for t, image in enumerate(images):
        top, left = (t // n_cols) * (height + gap_y) + gap_y, (t % n_cols) * (width + gap_x) + margin
        canvas[top : top + height, left : left + width] = image
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, lw=0.6, ec="0.45"))
        state = (
            "" if t in used_tiles or n_cols > 6 else " · unused"
        )  # grey titles say it where space is short
        ax.text(
            left + width / 2,
            top - gap_y * 0.15,
            f"tile {t}{state} · {100 * mapping.profile.tiles[t].fault_fraction:.1f} % stuck",
            ha="center",
            va="bottom",
            fontsize=font,
            color="0.1" if t in used_tiles else "0.5",
        )
    ax.imshow(canvas, interpolation="antialiased", aspect="equal")
    ax.set_axis_off()
    fig.legend(handles=handles, loc="upper center", ncol=legend_columns, fontsize=9, frameon=False)
    return png_bytes(fig, _DPI, tight=False)


def _conductance_histograms(mapping: ChipMapping, owner: np.ndarray) -> bytes:
    """Per layer, the programmed targets of the devices holding its real weights (uS), log counts."""
    targets = mapping.conductance_targets()
    tiles = mapping.profile.tiles
    edges = np.linspace(min(t.g_min for t in tiles), max(t.g_max for t in tiles), 61)
    n = len(mapping.layers)
    n_cols = min(n, 4)
    n_rows = math.ceil(n / n_cols)
    height = 0.6 + 2.4 * n_rows
    fig = Figure(figsize=(_WIDTH_IN, height))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    fig.subplots_adjust(
        left=0.07, right=0.99, bottom=0.45 / height, top=1 - 0.3 / height, wspace=0.25, hspace=0.45
    )
    for index, layer in enumerate(mapping.layers):
        ax = axes.flat[index]
        g = targets[owner == index]
        counts = np.histogram(g, edges)[0].astype(float)
        counts[counts == 0] = np.nan  # empty bins: no bar on the log axis
        ax.stairs(counts, edges, fill=True, color=layer_color(index), baseline=0.5)
        ax.set(yscale="log", xlim=(edges[0], edges[-1]), ylim=(0.5, None))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_title(f"{layer.name}: {g.size:,} devices", fontsize=10)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", color="0.9", lw=0.6)
        ax.set_axisbelow(True)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    fig.supxlabel("target conductance (uS)", fontsize=9)
    fig.supylabel("devices", fontsize=9)
    return png_bytes(fig, _DPI, tight=False)


def _label(x: float) -> str:
    """A bar's value to 3 significant digits, without exponent below 1e6: 5474.3 -> "5,470"."""
    return f"{float(f'{x:.3g}'):,g}" if abs(x) < 1e6 else f"{x:.3g}"


def _style_bars(ax, names: list[str]) -> None:
    """Layer names under the bars (slanted when many or long), light horizontal grid, no top/right spines."""
    rotate = len(names) > 6 or max(len(n) for n in names) > 10
    ax.set_xticks(range(len(names)), names, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def _fault_error(mapping: ChipMapping) -> bytes:
    """Per layer, the relative weight error due to stuck devices (%): placed as-is vs fault-aware."""
    names = [layer.name for layer in mapping.layers]
    fig = Figure(figsize=(_WIDTH_IN / 2, 3.6), layout="constrained")
    ax = fig.subplots()
    _style_bars(ax, names)
    x = np.arange(len(names))
    series = [("placed as-is", [layer.fault_error_in_place for layer in mapping.layers], "0.65")]
    if mapping.fault_aware:
        series.append(("fault-aware", [layer.fault_error for layer in mapping.layers], "#4c72b0"))
    width = 0.8 / len(series)
    for k, (label, errors, color) in enumerate(series):
        bars = ax.bar(
            x + (k - (len(series) - 1) / 2) * width, 100 * np.asarray(errors), width, label=label, color=color
        )
        if len(names) <= 12:
            ax.bar_label(bars, fmt=_label, fontsize=7, padding=1)
    ax.set_ylabel("weight error ||ΔW|| / ||W|| (%)", fontsize=9)
    ax.set_title("Weight error due to stuck devices", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.margins(y=0.12)
    return png_bytes(fig, _DPI, tight=False)


def _energy(cost: ChipCost) -> bytes:
    """Per layer, energy per inference stacked by component (pJ), and latency per inference (ns)."""
    names = [layer.name for layer in cost.layers]
    fig = Figure(figsize=(_WIDTH_IN, 3.6), layout="constrained")
    ax_e, ax_t = fig.subplots(1, 2)
    x = np.arange(len(names))
    bottom = np.zeros(len(names))
    for component in COMPONENTS:
        label, color = _COMPONENTS[component]
        values = np.array([layer.energy_pj[component] for layer in cost.layers])
        bars = ax_e.bar(x, values, 0.6, bottom=bottom, label=label, color=color)
        bottom += values
    latency = ax_t.bar(x, [layer.latency_ns for layer in cost.layers], 0.6, color="0.45")
    if len(names) <= 12:
        ax_e.bar_label(bars, labels=[_label(total) for total in bottom], fontsize=7, padding=1)
        ax_t.bar_label(latency, fmt=_label, fontsize=7, padding=1)
    handles, labels = ax_e.get_legend_handles_labels()
    ax_e.legend(handles[::-1], labels[::-1], fontsize=8, frameon=False)  # in stacking order, top first
    ax_e.set_ylabel("energy per inference (pJ)", fontsize=9)
    ax_e.set_title("Energy by component", fontsize=10)
    ax_t.set_ylabel("latency per inference (ns)", fontsize=9)
    ax_t.set_title("Latency", fontsize=10)
    for ax in (ax_e, ax_t):
        _style_bars(ax, names)
        ax.margins(y=0.08)
    return png_bytes(fig, _DPI, tight=False)
