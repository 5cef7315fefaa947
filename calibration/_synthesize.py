"""Random but realistic chips, for experiments before a real chip's profile exists.

What varies, and by how much (a synthetic chip's assumptions, not a measurement; sources where they exist):
- Stuck cells. RRAM: 9 % stuck at g_min (HRS) and 1 % stuck at g_max (LRS), MNSIM's defaults (docs/models.md
  section 2). PCM: 1 % and 0.1 %, an assumption. Each tile's rates are scaled by a log-normal factor
  (sigma 0.5) for tile-to-tile variation, and one tile in ten has a dead line (a row or device column stuck at
  g_min: a broken word or bit line).
- Conductance window: g_max (and RRAM's nonzero g_min) varies 5 % (1 sigma) from tile to tile.
- Device overrides per tile: ``prog_noise_scale`` and ``drift_scale`` log-normal with sigma 0.1.
- Periphery: column gain 1 + 3 % tile-wide + 3 % per column; column offset 1 % of a device's full-span current
  per column; row DAC gain 1 + 1 %; wire segments 1 ohm +- 10 %.
- Peripheral figures: an ADC costs FoM * 2^bits per conversion with a Walden figure of merit of 5 fJ per
  conversion step (the range of recent SAR ADCs in B. Murmann's ADC performance survey); a digital addition
  costs 0.05 pJ (8- to 32-bit integer adds at 45 nm: 0.03 to 0.1 pJ, M. Horowitz, ISSCC 2014).
"""

import datetime

import numpy as np

from emulator_common.fault_codes import STUCK_OFF, STUCK_ON

from ._profile import (
    TECHNOLOGIES,
    ChipProfile,
    Converter,
    Geometry,
    Peripherals,
    TileProfile,
    technology_device,
)

_FAULT_RATES = {"pcm": (0.01, 0.001), "rram": (0.09, 0.01), "ideal": (0.0, 0.0)}  # (stuck off, stuck on)
_DEAD_LINE_PROBABILITY = 0.1
_ADC_FOM_PJ = 0.005  # Walden figure of merit, pJ per conversion step


def synthesize(
    technology: str = "pcm",
    n_tiles: int = 8,
    seed: int = 0,
    *,
    rows: int = 256,
    cols: int = 256,
    scheme: str = "differential",
    p_off: float | None = None,
    p_on: float | None = None,
    chip_id: str | None = None,
) -> ChipProfile:
    """A random chip of ``n_tiles`` tiles of ``rows`` x ``cols`` devices; the same seed gives the same chip.

    ``p_off`` and ``p_on`` override the technology's mean stuck-at rates (see the module docstring).
    """
    if technology not in TECHNOLOGIES:
        raise ValueError(f"technology: expected one of {', '.join(TECHNOLOGIES)}, got {technology!r}")
    geometry = Geometry(n_tiles, rows, cols, scheme)
    default_off, default_on = _FAULT_RATES[technology]
    p_off = default_off if p_off is None else p_off
    p_on = default_on if p_on is None else p_on
    if not (0 <= p_off and 0 <= p_on and p_off + p_on <= 1):
        raise ValueError(f"p_off, p_on: expected rates >= 0 with p_off + p_on <= 1, got {p_off}, {p_on}")
    rng = np.random.default_rng(seed)
    nominal = technology_device(technology, {})
    tiles = tuple(_tile(rng, technology, geometry, nominal, p_off, p_on) for _ in range(n_tiles))
    return ChipProfile(
        chip_id=chip_id or f"synthetic-{technology}-seed{seed}",
        technology=technology,
        date=datetime.date.today().isoformat(),
        geometry=geometry,
        device={},
        peripherals=default_peripherals(),
        tiles=tiles,
    )


def _tile(rng, technology: str, geometry: Geometry, nominal, p_off: float, p_on: float) -> TileProfile:
    rows, cols, outputs = geometry.rows, geometry.cols, geometry.outputs
    spread = float(np.exp(0.5 * rng.standard_normal()))
    u = rng.random((rows, cols))
    stuck = np.where(u < p_off * spread, STUCK_OFF, np.where(u < (p_off + p_on) * spread, STUCK_ON, 0))
    stuck = stuck.astype(np.int8)
    if technology != "ideal" and rng.random() < _DEAD_LINE_PROBABILITY:
        if rng.random() < 0.5:
            stuck[rng.integers(rows), :] = STUCK_OFF
        else:
            stuck[:, rng.integers(cols)] = STUCK_OFF
    window = 1.0 + 0.05 * rng.standard_normal()
    g_min, g_max = float(nominal.g_min) * window, float(nominal.g_max) * window
    device = {}
    if technology != "ideal":
        device = {
            "prog_noise_scale": round(float(np.exp(0.1 * rng.standard_normal())), 4),
            "drift_scale": round(float(np.exp(0.1 * rng.standard_normal())), 4),
        }
    tile_gain = 1.0 + 0.03 * rng.standard_normal()
    return TileProfile(
        g_min=round(g_min, 4),
        g_max=round(g_max, 4),
        device=device,
        stuck=stuck,
        adc_gain=np.round(tile_gain + 0.03 * rng.standard_normal(outputs), 5),
        adc_offset=np.round(0.01 * rng.standard_normal(outputs), 5),
        dac_gain=np.round(1.0 + 0.01 * rng.standard_normal(rows), 5),
        r_row=round(1.0 + 0.1 * float(rng.standard_normal()), 4),
        r_col=round(1.0 + 0.1 * float(rng.standard_normal()), 4),
    )


def default_peripherals() -> Peripherals:
    """The peripheral figures of a synthesized chip (see the module docstring)."""
    adc_bits, dac_bits = 9, 7
    return Peripherals(
        dac=Converter(bits=dac_bits, energy_pj=0.05, time_ns=1.0, area_um2=20.0, shared_by=1),
        adc=Converter(
            bits=adc_bits,
            energy_pj=round(_ADC_FOM_PJ * 2**adc_bits, 4),
            time_ns=10.0,
            area_um2=2000.0,
            shared_by=8,
        ),
        v_read=0.2,
        integration_ns=10.0,
        cell_area_um2=0.05,
        add_energy_pj=0.05,
        add_time_ns=0.1,
    )
