"""A calibration profile as a short text a person reads: the chip, its peripherals, one line per tile."""

import numpy as np

from emulator_common.fault_codes import STUCK_OFF, STUCK_ON

from ._profile import ChipProfile, TileProfile


def summarize_profile(profile: ChipProfile) -> str:
    """Chip identity and geometry, peripheral figures, and per tile: window, stuck cells, gain and offset."""
    g, p = profile.geometry, profile.peripherals
    lines = [
        f"chip {profile.chip_id}: {profile.technology}, measured {profile.date}",
        f"{g.tiles} tiles of {g.rows} rows x {g.cols} device columns ({g.scheme}, {g.outputs} outputs each)",
        f"device overrides (all tiles): {profile.device or 'none'}",
        f"DAC {p.dac.bits} bit, {p.dac.energy_pj:g} pJ, {p.dac.time_ns:g} ns; "
        f"ADC {p.adc.bits} bit, {p.adc.energy_pj:g} pJ, {p.adc.time_ns:g} ns, shared by {p.adc.shared_by}; "
        f"v_read {p.v_read:g} V, integration {p.integration_ns:g} ns",
        "",
        f"{'tile':>4} {'g_min':>7} {'g_max':>7} {'off':>6} {'on':>5} {'gain':>13} {'offset sd':>9} "
        f"{'DAC sd':>7} {'r_row':>6} {'r_col':>6}  overrides",
    ]
    described: dict[int, str] = {}  # tiles a profile leaves out are one shared object: describe it once
    for index, tile in enumerate(profile.tiles):
        if id(tile) not in described:
            described[id(tile)] = _tile_line(tile)
        lines.append(f"{index:>4} {described[id(tile)]}")
    return "\n".join(lines)


def _tile_line(tile: TileProfile) -> str:
    off, on = int(np.sum(tile.stuck == STUCK_OFF)), int(np.sum(tile.stuck == STUCK_ON))
    gain = f"{np.mean(tile.adc_gain):.3f}±{np.std(tile.adc_gain):.3f}"
    overrides = ", ".join(f"{k}={v}" for k, v in tile.device.items()) or "-"
    return (
        f"{tile.g_min:>7.3g} {tile.g_max:>7.3g} {off:>6} {on:>5} {gain:>13} "
        f"{np.std(tile.adc_offset):>9.2g} {np.std(tile.dac_gain):>7.2g} "
        f"{tile.r_row:>6.3g} {tile.r_col:>6.3g}  {overrides}"
    )
