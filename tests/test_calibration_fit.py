"""Fitting a calibration profile to measurements: a synthesized chip, its simulated measurements, the fit
compared with the truth within tolerances that follow from the sample sizes; the measurement file format.

Tolerances are ``Z`` standard errors (``_stats``), each from the data of the tile it checks:

- a window end is a median of N reads with a model-based correction that is itself a median of
  ``_REPLICATES`` N simulated reads: SE = SE(median) sqrt(1 + 1 / replicates), SE(median) = 1 / (2 f sqrt N)
  with the density f at the median estimated from the reads' 40 % and 60 % quantiles;
- prog_noise_scale s comes from s^2 = (sum r^2 - the simulated sum) / sum sigma_p^2 over N interior devices
  with residuals r of variance v: Var(sum r^2) = 2 sum v^2 = 2/3 sum r^4 (Gaussian), the simulated sum
  adding at most 1 / replicates of that; SE(s) = SE(s^2) / (2 s);
- drift_scale is a sum over times of median changes divided by the model's: relative SE = sqrt(1 + 1 /
  replicates) sum_t SE(median_t) / |sum_t median_t| (the triangle inequality bounds the correlated times);
- output column o's gain and offset are a least-squares line through n points with noise sigma_y:
  SE(a_o) = sigma_y / sqrt(sum_n (z - mean z)^2), SE(b_o) = sigma_y sqrt(1 / n + mean(z)^2 / sum (z - mean
  z)^2), plus the DAC gains' errors that reach a_o through z; row r's DAC gain is a least-squares
  coefficient over n outputs: SE(d_r) = sigma_y / sqrt(sum_{n,o} (a_o x[n, r] dg[r, o] / span)^2).
"""

import dataclasses
import re

import numpy as np
import pytest
from _stats import Z

import calibration as cal
from calibration._fit import _INTERIOR, _REPLICATES
from calibration._measurements import signed_conductance
from calibration._profile import technology_device
from emulator_common.fault_codes import STUCK_OFF

NOISE = 0.01  # output noise (units of v_read * span)
DEAD_ROW = (1, 5)  # (tile, row) forced to a dead word line: every device stuck at g_min
CHIPS = {"pcm": ("differential", 3), "rram": ("reference_column", 4)}  # technology: (scheme, seed)


def _with_dead_row(profile: cal.ChipProfile) -> cal.ChipProfile:
    tile, row = DEAD_ROW
    stuck = profile.tiles[tile].stuck.copy()
    stuck[row, :] = STUCK_OFF
    tiles = list(profile.tiles)
    tiles[tile] = dataclasses.replace(tiles[tile], stuck=stuck)
    return dataclasses.replace(profile, tiles=tuple(tiles))


@pytest.fixture(scope="module", params=sorted(CHIPS))
def chip(request):
    """(true profile, its measurements, the fitted profile) of a 3-tile chip of 64 x 256 devices."""
    scheme, seed = CHIPS[request.param]
    truth = _with_dead_row(cal.synthesize(request.param, 3, seed=seed, rows=64, cols=256, scheme=scheme))
    measurements = cal.simulate_measurements(truth, seed=seed + 10, output_noise=NOISE)
    return truth, measurements, cal.fit(measurements)


def _median_se(samples: np.ndarray) -> float:
    low, high = np.quantile(samples, [0.4, 0.6])
    return float((high - low) / (0.4 * np.sqrt(samples.size)))


def _interior(tile: cal.TileProfile, targets: np.ndarray) -> np.ndarray:
    margin = _INTERIOR * (tile.g_max - tile.g_min)
    return (tile.stuck == 0) & (targets >= tile.g_min + margin) & (targets <= tile.g_max - margin)


@pytest.mark.slow
def test_stuck_cells_are_classified_exactly(chip):
    truth, _, fitted = chip
    for index, (true, fit) in enumerate(zip(truth.tiles, fitted.tiles, strict=True)):
        wrong = np.argwhere(true.stuck != fit.stuck)
        assert not wrong.size, f"tile {index}: {len(wrong)} devices misclassified, first at {wrong[0]}"
    assert np.all(fitted.tiles[DEAD_ROW[0]].stuck[DEAD_ROW[1]] == STUCK_OFF)


@pytest.mark.slow
def test_window_within_the_medians_standard_error(chip):
    truth, m, fitted = chip
    for index, (true, fit) in enumerate(zip(truth.tiles, fitted.tiles, strict=True)):
        healthy = true.stuck == 0
        for name, round_ in (("g_max", 1), ("g_min", 2)):
            reads = m.g_measured[index, round_][healthy]
            tolerance = Z * _median_se(reads) * np.sqrt(1 + 1 / _REPLICATES)
            error = getattr(fit, name) - getattr(true, name)
            assert abs(error) <= tolerance, (
                f"tile {index} {name}: error {error:.4g} uS, tolerance {tolerance:.3g}"
            )


def test_prog_noise_scale_within_its_standard_error(chip):
    truth, m, fitted = chip
    for index, (true, fit) in enumerate(zip(truth.tiles, fitted.tiles, strict=True)):
        targets, reads = m.g_target[index], m.g_measured[index]
        devices = _interior(true, targets)
        residual = (reads - targets)[devices]
        model = technology_device(truth.technology, {"g_min": true.g_min, "g_max": true.g_max})
        sigma = np.asarray(model.programming_sigma(targets), float)[devices]
        s = true.device["prog_noise_scale"]
        se = np.sqrt((1 + 1 / _REPLICATES) * 2 / 3 * np.sum(residual**4)) / np.sum(sigma**2) / (2 * s)
        error = fit.device["prog_noise_scale"] - s
        assert abs(error) <= Z * se, f"tile {index}: error {error:.4f}, tolerance {Z * se:.4f}"


def test_drift_scale_within_its_standard_error(chip):
    truth, m, fitted = chip
    change = {"pcm": lambda g, g0: np.log(g / g0), "rram": lambda g, g0: g - g0}[truth.technology]
    for index, (true, fit) in enumerate(zip(truth.tiles, fitted.tiles, strict=True)):
        devices = _interior(true, m.g_target[index, 0])
        changes = [change(g[devices], m.g_measured[index, 0][devices]) for g in m.g_drift[index]]
        relative = sum(map(_median_se, changes)) / abs(sum(np.median(c) for c in changes))
        ds = true.device["drift_scale"]
        se = ds * relative * np.sqrt(1 + 1 / _REPLICATES)
        error = fit.device["drift_scale"] - ds
        assert abs(error) <= Z * se, f"tile {index}: error {error:.4f}, tolerance {Z * se:.4f}"


def test_column_gains_offsets_and_dac_gains_within_least_squares_errors(chip):
    truth, m, fitted = chip
    x, span = m.test_inputs, m.span
    for index, (true, fit) in enumerate(zip(truth.tiles, fitted.tiles, strict=True)):
        dg = signed_conductance(m.g_measured[index, 0], m.scheme) / span
        live = np.any(dg != 0, axis=1)
        scale = np.mean(true.dac_gain[live])  # the outputs fix a_o d_r; the fit sets mean(d) = 1
        dac_true = np.where(live, true.dac_gain / scale, 1.0)
        se_dac = np.full(len(live), np.inf)  # dead rows carry no signal
        se_dac[live] = NOISE / np.sqrt((x**2).sum(0) * (dg**2 @ (true.adc_gain * scale) ** 2))[live]
        assert np.all(np.abs(fit.dac_gain - dac_true)[live] <= Z * se_dac[live]), f"tile {index}: dac_gain"
        assert np.all(fit.dac_gain[~live] == 1.0)
        assert np.mean(fit.dac_gain) == pytest.approx(1.0, abs=1e-12)
        z = x @ (dac_true[:, None] * dg)
        zc = z - z.mean(0)
        power = np.sum(zc**2, 0)
        weights = dg[live] ** 2  # the DAC gain errors reach a_o weighted by the rows' signal power
        through_dac = np.sqrt(np.sum((weights * se_dac[live, None]) ** 2, 0)) / np.sum(weights, 0)
        se_gain = np.hypot(NOISE / np.sqrt(power), true.adc_gain * scale * through_dac)
        se_offset = NOISE * np.sqrt(1 / len(x) + z.mean(0) ** 2 / power)
        gain_error = fit.adc_gain - true.adc_gain * scale
        offset_error = fit.adc_offset - true.adc_offset
        assert np.all(np.abs(gain_error) <= Z * se_gain), f"tile {index}: adc_gain {gain_error}"
        assert np.all(np.abs(offset_error) <= Z * se_offset), f"tile {index}: adc_offset {offset_error}"


def test_fitted_profile_is_a_valid_profile_file(chip, tmp_path):
    _, _, fitted = chip
    cal.save(fitted, tmp_path / "chip.yaml")
    loaded = cal.load(tmp_path / "chip.yaml")
    assert loaded.tiles[1].device == fitted.tiles[1].device
    assert np.array_equal(loaded.tiles[1].stuck, fitted.tiles[1].stuck)


@pytest.fixture(scope="module")
def small():
    """Measurements of a 2-tile ideal chip of 8 x 6 devices, without drift data."""
    truth = cal.synthesize("ideal", 2, seed=0, rows=8, cols=6)
    return truth, cal.simulate_measurements(truth, seed=1, n_inputs=16, t_drift=())


def test_ideal_chip_fits_its_window_exactly_and_has_no_device_overrides(small):
    truth, m = small
    assert m.t_drift is None and m.g_drift is None
    fitted = cal.fit(m)
    for true, fit in zip(truth.tiles, fitted.tiles, strict=True):
        assert fit.device == {}
        assert fit.g_min == pytest.approx(true.g_min, abs=1e-5)
        assert fit.g_max == pytest.approx(true.g_max, rel=1e-6)


def test_measurements_that_leave_the_gains_undetermined_are_refused(small):
    """Identical test inputs cannot tell a column's gain from its offset: a clear error, not a bad profile."""
    _, m = small
    degenerate = dataclasses.replace(m, test_inputs=np.ones_like(m.test_inputs))
    with pytest.raises(ValueError, match=r"^the measurements do not determine a valid profile: "):
        cal.fit(degenerate)


@pytest.mark.slow
def test_without_drift_data_drift_scale_is_left_out(chip):
    _, m, fitted = chip
    undrifted = cal.fit(dataclasses.replace(m, t_drift=None, g_drift=None))
    for with_drift, without in zip(fitted.tiles, undrifted.tiles, strict=True):
        assert set(without.device) == {"prog_noise_scale"}
        assert set(with_drift.device) == {"prog_noise_scale", "drift_scale"}


def test_simulated_measurements_follow_the_seed(small):
    truth, m = small
    again = cal.simulate_measurements(truth, seed=1, n_inputs=16, t_drift=())
    other = cal.simulate_measurements(truth, seed=2, n_inputs=16, t_drift=())
    for name in ("g_target", "g_measured", "test_inputs", "test_outputs"):
        assert np.array_equal(getattr(again, name), getattr(m, name)), name
        assert not np.array_equal(getattr(other, name), getattr(m, name)), name


def test_save_then_load_gives_equal_measurements(chip, tmp_path):
    _, m, _ = chip
    path = tmp_path / "meas.npz"
    cal.save_measurements(m, path)
    assert [p.name for p in tmp_path.iterdir()] == ["meas.npz"]
    loaded = cal.load_measurements(path)
    for field in dataclasses.fields(cal.Measurements):
        value, expected = getattr(loaded, field.name), getattr(m, field.name)
        if isinstance(expected, np.ndarray):
            assert value.dtype == expected.dtype and np.array_equal(value, expected), field.name
        else:
            assert value == expected, field.name


def _arrays(m: cal.Measurements) -> dict:
    arrays = {f.name: getattr(m, f.name) for f in dataclasses.fields(m) if getattr(m, f.name) is not None}
    return {name: np.asarray(value) for name, value in arrays.items()}


def _set(name, value):
    return lambda arrays: {**arrays, name: value(arrays[name]) if callable(value) else value}


def _drop(name):
    return lambda arrays: {k: v for k, v in arrays.items() if k != name}


def _nan_at(arrays):
    g = arrays["g_measured"].copy()
    g[0, 0, 1, 2] = np.nan
    return {**arrays, "g_measured": g}


BAD_FILES = {
    "missing": (_drop("g_measured"), "g_measured: missing (required)"),
    "shape": (
        _set("g_measured", lambda g: g[..., :5]),
        "g_measured: expected shape (tiles, rounds, rows, cols) = (2, 3, 8, 6), got (2, 3, 8, 5)",
    ),
    "nan": (_nan_at, "g_measured: expected finite values, got nan at index (0, 0, 1, 2)"),
    "technology": (
        _set("technology", np.asarray("fefet")),
        "technology: expected one of pcm, rram, ideal, got 'fefet'",
    ),
    "string dtype": (
        _set("technology", np.asarray(1.0)),
        "technology: expected a 0-d string array, got a 0-d array of float64",
    ),
    "numeric dtype": (
        _set("g_target", lambda g: g.astype(str)),
        "g_target: expected a real-valued numpy array, got a 4-d array of <U",
    ),
    "outputs": (
        _set("test_outputs", lambda y: y[..., :2]),
        "test_outputs: expected shape (tiles, n, outputs) = (2, 16, 3) (3 outputs: differential pairs of 6 "
        "device columns), got (2, 16, 2)",
    ),
    "scheme": (
        _set("scheme", np.asarray("reference_column")),
        "test_outputs: expected shape (tiles, n, outputs) = (2, 16, 5)",
    ),
    "inputs": (_set("test_inputs", lambda x: 2 * x), "test_inputs: expected normalized inputs in [-1, 1]"),
    "march": (
        _set("g_target", lambda g: np.full_like(g, 12.5)),
        "g_target: expected every device to have a round targeting >= 18.75 uS and one <= 6.25 uS",
    ),
    "half drift": (_set("t_drift", np.asarray([3600.0])), "g_drift: missing; t_drift is given and needs it"),
    "unknown": (_set("g_extra", np.zeros(3)), "g_extra: unknown array"),
    "pickled": (_set("date", np.asarray(None, dtype=object)), "date: not a readable numeric or string array"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_measurement_files_give_one_line_naming_file_and_array(small, tmp_path, case):
    change, message = BAD_FILES[case]
    path = tmp_path / "meas.npz"
    np.savez(path, **change(_arrays(small[1])))
    with pytest.raises(ValueError) as error:
        cal.load_measurements(path)
    text = str(error.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {message}"), text


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: p.write_text("chip_id: x\n"), "not a .npz archive"),
        (
            lambda p: np.save(p.with_suffix(".npy"), np.zeros(3)) or p.with_suffix(".npy").rename(p),
            "not a .npz",
        ),
        (lambda p: None, "cannot read the file"),
    ],
    ids=["text", "npy", "absent"],
)
def test_unreadable_measurement_files_give_one_line(tmp_path, write, message):
    path = tmp_path / "meas.npz"
    write(path)
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: {message}"):
        cal.load_measurements(path)
