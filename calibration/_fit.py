"""Estimate a chip's calibration profile from its measurements.

Per tile, in this order:

1. Stuck cells. Each device's highest-target round should read high and its lowest-target round low;
   the threshold is halfway between the tile's median high and median low reads (so fewer than half of
   the devices may be stuck either way). Reading low when targeted high: stuck at g_min; reading high when
   targeted low: stuck at g_max.
2. Window. g_max and g_min start as the medians of the healthy devices' high and low reads, which assumes
   those rounds program at or beyond the window's ends (a full SET and RESET).
3. ``drift_scale``, where the file has drift data and the technology's drift is identifiable: over the
   healthy devices of round 0 with interior targets (10 % of the window away from its ends), the median
   change from t_measure to each later time, summed over the times, divided by the same for the device
   model's expected drift at drift_scale 1. The change is ln g(t) - ln g(t_measure) for PCM (drift_scale
   multiplies every drift exponent nu) and g(t) - g(t_measure) for RRAM (it multiplies the mean
   relaxation). RRAM reads before 1 s see the state at 1 s, so drift times up to 1 s identify nothing and
   leave drift_scale out; ideal devices do not drift.
4. ``prog_noise_scale`` (PCM, RRAM), over every round's healthy devices with interior targets: s^2 = (sum of
   squared residuals about the model's expected read - the same sum for the model with no programming
   noise, simulated) / sum of the model's programming_sigma(target)^2. This removes the read noise and
   relaxation that the reads carry besides the programming noise.
5. Window bias. The model, with the window so far and the fitted factors, is programmed and read like the
   high and low rounds; each window end moves against the offset of its simulated median from it (the
   bias of a median of reads: drift by t_measure, RRAM's reads clipped to the window).
6. Periphery from the test outputs (model in ``_measurements``): alternating least squares, each output
   column's gain and offset given the row DAC gains, then the DAC gains given the columns; the product
   gain * DAC gain is what the outputs fix, so the DAC gains are scaled to mean 1. Rows and output columns
   whose conductance differences are all zero (dead lines) carry no signal and keep gain 1 (a dead
   output column's offset is its mean reading).

The model-based steps use a fixed key, so the fit is deterministic. Peripheral figures and wire resistances
are not measurable this way; they are arguments.
"""

import warnings

import jax
import numpy as np

from emulator_common.fault_codes import HEALTHY, STUCK_OFF, STUCK_ON

from ._measure import measure
from ._measurements import Measurements, signed_conductance
from ._profile import ChipProfile, Peripherals, TileProfile, technology_device
from ._serialization import from_mapping, to_mapping
from ._synthesize import default_peripherals

_INTERIOR = 0.1  # targets this fraction of the window away from its ends are not clipped by programming
_REPLICATES = 4  # simulated copies of a tile's devices in the model-based steps
_DRIFT_CHANGE = {"pcm": lambda g, g0: np.log(g / g0), "rram": lambda g, g0: g - g0}
_ALS_ITERATIONS = 200
_ALS_TOLERANCE = 1e-8  # on the DAC gains, far below their statistical errors


def fit(
    measurements: Measurements,
    *,
    peripherals: Peripherals | None = None,
    r_row: float = 0.0,
    r_col: float = 0.0,
) -> ChipProfile:
    """The calibration profile that ``measurements`` show (see the module docstring for the method).

    ``peripherals`` defaults to the figures of a synthesized chip; ``r_row`` and ``r_col`` (ohm) are every
    tile's wire segment resistances. Raises ``ValueError`` for a tile whose every device reads stuck.
    """
    m = measurements
    key = jax.random.key(0)
    with warnings.catch_warnings():  # empty or degenerate data give NaN here; the check below names the field
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            tiles = tuple(
                _fit_tile(m, index, jax.random.fold_in(key, index), r_row, r_col)
                for index in range(m.geometry.tiles)
            )
        except np.linalg.LinAlgError:
            raise ValueError(
                "the measurements do not determine a valid profile: test_inputs: the column test is "
                "degenerate (a singular least-squares problem); expected varied inputs"
            ) from None
    profile = ChipProfile(
        chip_id=m.chip_id,
        technology=m.technology,
        date=m.date,
        geometry=m.geometry,
        device={},
        peripherals=default_peripherals() if peripherals is None else peripherals,
        tiles=tiles,
    )
    try:
        from_mapping(to_mapping(profile))
    except ValueError as error:
        raise ValueError(f"the measurements do not determine a valid profile: {error}") from None
    return profile


def _fit_tile(m: Measurements, index: int, key: jax.Array, r_row: float, r_col: float) -> TileProfile:
    target = np.asarray(m.g_target[index], float)  # (rounds, rows, cols)
    read = np.asarray(m.g_measured[index], float)
    ends = {"high": np.argmax(target, axis=0)[None], "low": np.argmin(target, axis=0)[None]}  # round indices
    g_high, g_low = (np.take_along_axis(read, rounds, 0)[0] for rounds in ends.values())
    middle = 0.5 * (np.median(g_high) + np.median(g_low))
    stuck = np.where(g_high < middle, STUCK_OFF, np.where(g_low > middle, STUCK_ON, HEALTHY)).astype(np.int8)
    healthy = stuck == HEALTHY
    if not healthy.any():
        raise ValueError(f"tile {index}: every device reads stuck; nothing to fit")
    window = {"g_min": float(np.median(g_low[healthy])), "g_max": float(np.median(g_high[healthy]))}
    margin = _INTERIOR * (window["g_max"] - window["g_min"])
    interior = healthy & (target >= window["g_min"] + margin) & (target <= window["g_max"] - margin)
    times = np.asarray([m.t_measure, *(() if m.t_drift is None else m.t_drift)], float)
    replicated = np.broadcast_to(target, (_REPLICATES, *target.shape))
    key_drift, key_noise, key_window = jax.random.split(key, 3)

    def simulate(overrides: dict, key: jax.Array):
        """The model with ``overrides`` and the window so far, programmed with the measured targets:
        (model, reads, expected), reads and expected (times, replicates, rounds, rows, cols)."""
        model = technology_device(m.technology, {**overrides, **window})
        return (model, *measure(model, key, replicated, times))

    device = {}
    if m.t_drift is not None and m.technology in _DRIFT_CHANGE:
        _, _, expected = simulate({}, key_drift)
        drift_scale = _drift_scale(
            m.technology, read[0], np.asarray(m.g_drift[index], float), expected[:, :, 0], interior[0]
        )
        if drift_scale is not None:
            device["drift_scale"] = drift_scale
    if hasattr(technology_device(m.technology, {}), "prog_noise_scale"):
        model, reads, expected = simulate({**device, "prog_noise_scale": 0.0}, key_noise)
        device["prog_noise_scale"] = _prog_noise_scale(model, target, read, reads[0], expected[0], interior)
    reads = simulate(device, key_window)[1][0]  # (replicates, rounds, rows, cols)
    ends_fitted = {}
    for end, rounds in ends.items():
        simulated = np.median(np.take_along_axis(reads, rounds[None], 1)[:, 0][:, healthy])
        start = window["g_max" if end == "high" else "g_min"]
        ends_fitted[end] = start - (float(simulated) - start)
    adc_gain, adc_offset, dac_gain = _periphery(
        np.asarray(m.test_inputs, float),
        np.asarray(m.test_outputs[index], float),
        signed_conductance(read[0], m.scheme) / m.span,
    )
    return TileProfile(
        g_min=max(ends_fitted["low"], 0.0),
        g_max=ends_fitted["high"],
        device=device,
        stuck=stuck,
        adc_gain=adc_gain,
        adc_offset=adc_offset,
        dac_gain=dac_gain,
        r_row=float(r_row),
        r_col=float(r_col),
    )


def _drift_scale(
    technology: str, g0: np.ndarray, later: np.ndarray, expected: np.ndarray, devices: np.ndarray
) -> float | None:
    """drift_scale from round 0's reads g0 (rows, cols) at t_measure and ``later`` (m, rows, cols) at
    t_drift, the model's ``expected`` (1 + m, replicates, rows, cols) at drift_scale 1, over ``devices``
    (rows, cols); ``None`` where the model expects no drift."""
    change = _DRIFT_CHANGE[technology]
    usable = devices & (g0 > 0) & np.all(later > 0, axis=0)  # logarithms of PCM reads clipped to g_min = 0
    measured = sum(float(np.median(change(g[usable], g0[usable]))) for g in later)
    predicted = sum(float(np.median(change(e[:, usable], expected[0][:, usable]))) for e in expected[1:])
    if abs(predicted) < 1e-12:
        return None
    return max(measured / predicted, 0.0)


def _prog_noise_scale(
    model, target: np.ndarray, read: np.ndarray, quiet: np.ndarray, expected: np.ndarray, devices: np.ndarray
) -> float:
    """prog_noise_scale from the reads (rounds, rows, cols) of targets (rounds, rows, cols) over ``devices``,
    given the reads ``quiet`` and ``expected`` (replicates, rounds, rows, cols) of ``model`` with no
    programming noise: the residual variance beyond the model's other noise, per programming_sigma^2."""
    measured = np.sum((read - expected.mean(axis=0))[devices] ** 2)
    other = np.sum((quiet - expected)[:, devices] ** 2) / _REPLICATES
    sigma = np.asarray(model.programming_sigma(target), float)[devices]
    return float(np.sqrt(max(measured - other, 0.0) / np.sum(sigma**2)))


def _periphery(x: np.ndarray, y: np.ndarray, dg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """adc_gain, adc_offset (outputs,) and dac_gain (rows,) of the outputs y (n, outputs) for inputs x
    (n, rows) and conductance differences dg (rows, outputs) in units of the span."""
    live_rows = np.any(dg != 0, axis=1) & np.any(x != 0, axis=0)
    live_columns = np.any(dg != 0, axis=0)
    inputs = (x.T @ x)[np.ix_(live_rows, live_rows)]  # (live rows, live rows)
    dg_live = dg[live_rows]
    dac_gain = np.ones(x.shape[1])
    for _ in range(_ALS_ITERATIONS):
        adc_gain, adc_offset = _columns(x @ (dac_gain[:, None] * dg), y, live_columns)
        # Normal equations of y - b = sum_r d_r (a_o x[n, r] dg[r, o]) in d over the live rows.
        gram = inputs * ((dg_live * adc_gain**2) @ dg_live.T)
        moment = np.sum(dg_live * adc_gain * (x.T @ (y - adc_offset))[live_rows], axis=1)
        solved = np.linalg.solve(gram, moment)
        updated = np.ones_like(dac_gain)
        updated[live_rows] = solved / solved.mean()
        converged = np.max(np.abs(updated - dac_gain)) < _ALS_TOLERANCE
        dac_gain = updated
        if converged:
            break
    adc_gain, adc_offset = _columns(x @ (dac_gain[:, None] * dg), y, live_columns)
    return adc_gain, adc_offset, dac_gain


def _columns(z: np.ndarray, y: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column o the least-squares y[:, o] = a_o z[:, o] + b_o; a_o = 1 where z carries no signal."""
    zc = z - z.mean(axis=0)
    power = np.sum(zc**2, axis=0)
    live = live & (power > 0)
    gain = np.where(live, np.sum(zc * (y - y.mean(axis=0)), axis=0) / np.where(live, power, 1.0), 1.0)
    return gain, y.mean(axis=0) - gain * z.mean(axis=0)
