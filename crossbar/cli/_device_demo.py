"""The device-model demo: conductance vs time after programming, for PCM and RRAM."""

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from device_models import PCM, RRAM, AbstractDevice
from emulator_common.atomic_write import atomic_write

from ..estimation import TIME_UNITS

TABLE_TIMES = {f"1 {unit}": TIME_UNITS[unit] for unit in ("s", "h", "d", "y")}
OUTPUT_FILE = "conductance_vs_time.png"
_DEVICES_PER_LEVEL = 4000
_TRAJECTORIES_PER_LEVEL = 3


def _levels(device: AbstractDevice, n: int = 5) -> np.ndarray:
    g_min, g_max = float(device.g_min), float(device.g_max)
    return np.linspace(g_min + 0.1 * (g_max - g_min), g_max, n)


def _conductance_bands(device: AbstractDevice, key: jax.Array, times: np.ndarray):
    """Median and 5-95 % band (levels, times) of many devices per level, plus a few trajectories."""
    levels = _levels(device)
    k_prog, k_read, k_path = jax.random.split(key, 3)
    targets = jnp.repeat(jnp.asarray(levels)[:, None], _DEVICES_PER_LEVEL, axis=1)
    state = device.program(k_prog, targets)
    g = np.asarray(device.read(k_read, state, jnp.asarray(times)))  # (time, level, device)
    bands = np.percentile(g, [5, 50, 95], axis=2)  # (3, time, level)
    follower = dataclasses.replace(device, time_semantics="trajectory")
    few = jax.tree.map(lambda x: x[:, :_TRAJECTORIES_PER_LEVEL], state)
    paths = np.asarray(follower.read(k_path, few, jnp.asarray(times)))  # (time, level, path)
    return levels, bands, paths, g


def run(out_dir: str | Path, seed: int = 0) -> tuple[Path, str]:
    """Write ``conductance_vs_time.png`` into ``out_dir``; return its path and a text table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_times = np.logspace(0, np.log10(10 * TIME_UNITS["y"]), 60)
    times = np.concatenate([plot_times, list(TABLE_TIMES.values())])
    fig = Figure(figsize=(12, 4.8), layout="constrained")
    axes = fig.subplots(1, 2)
    rows = []
    for ax, (name, device), key in zip(
        axes, (("PCM", PCM()), ("RRAM", RRAM())), jax.random.split(jax.random.key(seed)), strict=True
    ):
        levels, bands, paths, g = _conductance_bands(device, key, times)
        n = len(plot_times)
        bands, paths, g, times_shown = bands[:, :n], paths[:n], g[n:], times[:n]
        colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, len(levels)))
        for i, (level, color) in enumerate(zip(levels, colors, strict=True)):
            ax.fill_between(times_shown, bands[0, :, i], bands[2, :, i], color=color, alpha=0.25, lw=0)
            ax.plot(times_shown, bands[1, :, i], color=color, lw=2, label=f"target {level:.1f} uS")
            ax.plot(times_shown, paths[:, i, :], color=color, lw=0.6, alpha=0.8)
        ax.set(
            xscale="log",
            xlabel="time since programming (s)",
            ylabel="conductance (uS)",
            title=f"{name}: median, 5-95 % band, and single-device trajectories",
        )
        for label, t in TABLE_TIMES.items():
            ax.axvline(t, color="0.7", lw=0.8, ls=":")
            ax.text(
                t, 0.99, f" {label}", transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="0.4"
            )
        ax.legend(fontsize=8, loc="lower left")
        for i, level in enumerate(levels):
            cells = "  ".join(
                f"{g[j, i].mean():7.2f} ± {g[j, i].std():5.2f}" for j in range(len(TABLE_TIMES))
            )
            rows.append(f"{name:5s} {level:7.2f}   {cells}")
    path = out_dir / OUTPUT_FILE
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    header = f"{'device':5s} {'target':>7s}   " + "  ".join(f"{label:>15s}" for label in TABLE_TIMES)
    return path, "\n".join([header, *rows])
