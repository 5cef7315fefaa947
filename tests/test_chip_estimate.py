"""Estimation on calibrated chips: a compiled network as the tile grids the emulator runs (``chip_arrays``),
the crossbar pieces it needs (targets programmed as given, row DAC gains, digital column correction), the
estimator on a chip profile, and ``crossbar estimate --chip``.

The contract of ``chip_arrays`` is the compiler's: with noise-free devices and ideal converters, each layer's
tile grid computes ``x @ held_matrix`` (the weights the chip's devices hold with its stuck cells, after the
DAC-gain and digital corrections) to float32 rounding.

Model: a 64-32-10 MLP trained on 1,200 of scikit-learn's digits; the other 597 are the test data. It needs
two tiles of 64 x 64 (its first layer fills one), so a chip of one tile is too small.
"""

import dataclasses
import hashlib
import json
from types import SimpleNamespace

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import digits, digits_mlp, one_error_line

import calibration
from crossbar.array import ADC, DAC, Crossbar, Periphery
from crossbar.cli import main
from crossbar.compiler import NetworkDoesNotFit, chip_arrays, chip_periphery, compile_network
from crossbar.estimation import AccuracyEstimate, estimate_accuracy
from crossbar.hardware import PRESETS, Chip
from crossbar.networks import MatrixLayer, load_onnx
from crossbar.training import mlp_onnx_bytes
from device_models import Ideal, to_dict

SCHEMES = ("differential", "reference_column")
IDEAL_PERIPHERY = PRESETS["ideal"].periphery  # ideal converters, no output noise
DAY = 86400.0
N = 597  # test images
FLOAT32_REL = 2e-6  # float32 rounding of sums of ~100 products, relative to the largest output


def close_to(expected: np.ndarray, actual: np.ndarray) -> float:
    """Largest deviation relative to the largest expected output."""
    return float(np.max(np.abs(np.asarray(actual, np.float64) - expected)) / np.max(np.abs(expected)))


# --- chip_arrays: the compiled chip as tile grids -----------------------------------------------------------


def two_layers() -> list[MatrixLayer]:
    """Layers of several blocks on tiles of 64 x 64: 100 inputs split in two blocks of 50 rows; 70 outputs in
    three blocks (differential, 32 outputs a tile) or two (reference column, 63)."""
    rng = np.random.default_rng(0)
    return [
        MatrixLayer("a", rng.normal(0.0, 0.3, (100, 70))),
        MatrixLayer("b", rng.normal(0.0, 1.0, (70, 10))),
    ]


@eqx.filter_jit
def chip_outputs(crossbar: Crossbar, targets, key: jax.Array, x: jax.Array, read_at_1s: bool):
    """A layer's outputs for inputs x on its tile grid, programmed and read noise-free (the targets, stuck
    devices at their stuck value; or, for ideal devices, read at 1 s as the estimator does) with the
    corrections; then without column correction; and without row gains."""
    programmed = crossbar.program_targets(key, targets)
    state = programmed.state
    g = jnp.where(state.stuck != 0, state.g_prog, targets.g)
    read = crossbar.read(key, programmed, 1.0) if read_at_1s else crossbar._read_matrix(g, programmed)
    no_row_gains = crossbar._read_matrix(g, dataclasses.replace(programmed, row_gain=None))
    uncorrected = dataclasses.replace(crossbar, column_correction=False)
    return (
        crossbar.matmul(key, read, x),
        uncorrected.matmul(key, read, x),
        crossbar.matmul(key, no_row_gains, x),
    )


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("technology", ["ideal", "rram"])
@pytest.mark.slow
def test_chip_arrays_compute_the_held_matrices_exactly(technology, scheme):
    """Permutations, stuck cells, compensated targets, column gains and offsets and row DAC gains are
    simulated as the compiler intends."""
    layers = two_layers()
    chip = calibration.synthesize(technology, 10, 0, rows=64, cols=64, scheme=scheme)
    mapping = compile_network(layers, chip)
    arrays = chip_arrays(mapping, IDEAL_PERIPHERY, drift_compensation="none")
    assert len(arrays) == len(layers)
    rng = np.random.default_rng(1)
    for index, (layer, (crossbar, targets)) in enumerate(zip(layers, arrays, strict=True)):
        assert targets.shape == layer.weight.shape and crossbar.column_correction
        x = rng.normal(size=(16, layer.weight.shape[0])).astype(np.float32)
        y, y_uncorrected, y_no_row_gains = chip_outputs(
            crossbar, targets, jax.random.key(index), x, technology == "ideal"
        )
        held = mapping.held_matrix(layer.name)
        expected = x.astype(np.float64) @ held
        assert close_to(expected, y) <= FLOAT32_REL

        # not trivially the layer's weights: the rram chip's stuck cells change them by percents
        stuck = int(np.count_nonzero(np.asarray(targets.stuck_mask)))
        fault_error = np.linalg.norm(held - layer.weight) / np.linalg.norm(layer.weight)
        if technology == "ideal":
            assert stuck == 0 and fault_error < 1e-6
        else:
            assert stuck > 0 and fault_error > 0.01

        # and every correction is needed: the chip's columns and rows have gains of percents
        assert close_to(expected, y_uncorrected) > 1e-3
        assert close_to(expected, y_no_row_gains) > 1e-3


def test_chip_arrays_hold_one_device_per_tile_and_the_chip_drift_compensation():
    chip = calibration.synthesize("pcm", 10, 0, rows=64, cols=64)
    mapping = compile_network(two_layers(), chip)
    (first, targets), _ = chip_arrays(mapping, chip_periphery(chip))
    assert first.drift_compensation == "global"
    assert first.periphery.dac.bits == chip.peripherals.dac.bits
    assert first.periphery.adc.bits == chip.peripherals.adc.bits
    blocks = sorted((b for b in mapping.blocks if b.layer == "a"), key=lambda b: b.grid)
    assert targets.g.shape[:2] == (2, 3) and len(blocks) == 6
    g_max = np.asarray(first.device.g_max)
    assert g_max.shape == (2, 3, 1, 1)
    for block in blocks:
        i, j = block.grid
        assert g_max[i, j, 0, 0] == pytest.approx(chip.tiles[block.spot.tile].g_max, rel=1e-6)


# --- the crossbar's pieces ----------------------------------------------------------------------------------


def grid_crossbar(**options) -> Crossbar:
    """Ideal devices and converters on tiles of 8 x 5 weights."""
    return Crossbar(device=Ideal(), periphery=IDEAL_PERIPHERY, tile_rows=8, tile_cols=5, **options)


@pytest.mark.slow
def test_column_correction_undoes_the_column_gains_and_offsets():
    """A 16 x 10 matrix on 2 x 2 tiles. Uncorrected, tile (i, j) adds to its outputs, for inputs x_i of row
    block i, (x_i @ W_ij) * gain_ij + offset_ij * s_i: the offset is applied to the normalized inputs'
    output and scaled back by the abs-max s_i of x_i (1 for inputs all zero)."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 10)).astype(np.float32)
    gain = (1.0 + 0.2 * rng.normal(size=(2, 2, 1, 5))).astype(np.float32)
    offset = rng.normal(size=(2, 2, 1, 5)).astype(np.float32)
    x = rng.normal(size=(6, 16)).astype(np.float32)
    x[0, :8] = 0.0  # an input block of zeros: abs-max 1
    key = jax.random.key(0)

    def run(correct: bool) -> np.ndarray:
        crossbar = grid_crossbar(column_correction=correct)
        programmed = crossbar.program(key, w, column_gain=gain, column_offset=offset)
        return np.asarray(crossbar.matmul(key, crossbar.read(key, programmed, 1.0), x))

    digital = x.astype(np.float64) @ w
    xb = x.astype(np.float64).reshape(6, 2, 8)
    wb = w.astype(np.float64).reshape(2, 8, 2, 5)
    s = np.max(np.abs(xb), axis=-1)
    s = np.where(s > 0, s, 1.0)
    uncorrected = np.zeros((6, 2, 5))
    for i in range(2):
        for j in range(2):
            uncorrected[:, j] += (xb[:, i] @ wb[i, :, j]) * gain[i, j, 0] + s[:, i, None] * offset[i, j, 0]
    uncorrected = uncorrected.reshape(6, 10)

    assert close_to(digital, run(True)) <= FLOAT32_REL
    assert close_to(uncorrected, run(False)) <= FLOAT32_REL
    assert close_to(digital, uncorrected) > 0.1  # the gains and offsets are large


@pytest.mark.parametrize("preset", ["aihwkit-pcm", "rram"])
@pytest.mark.slow
def test_program_is_program_targets_of_targets(preset):
    """Same key: the same devices, baseline, scales and corrections, bit for bit; another key: other
    devices."""
    crossbar = dataclasses.replace(PRESETS[preset], tile_rows=8, tile_cols=5)
    rng = np.random.default_rng(1)
    w = rng.normal(size=(15, 9)).astype(np.float32)  # 2 x 2 tiles of 8 x 5, with padding
    options = dict(
        stuck_mask=jnp.asarray(rng.choice(3, size=(2, 2, 8, 10), p=[0.8, 0.1, 0.1]), jnp.int8),
        column_gain=jnp.asarray(1.0 + 0.1 * rng.normal(size=(2, 2, 1, 5)), jnp.float32),
        column_offset=jnp.asarray(0.1 * rng.normal(size=(2, 2, 1, 5)), jnp.float32),
    )
    key = jax.random.key(3)
    direct = crossbar.program(key, w, **options)
    via_targets = crossbar.program_targets(key, crossbar.targets(w, **options))
    assert direct.baseline is not None  # drift compensation: the readout is compared too
    assert bool(eqx.tree_equal(direct, via_targets))
    other = crossbar.program_targets(jax.random.key(4), crossbar.targets(w, **options))
    assert not bool(eqx.tree_equal(direct, other))


@pytest.mark.slow
def test_row_gains_scale_the_rows_of_the_read_weights():
    """A 15 x 9 matrix on 2 x 2 tiles of 8 x 5 (one padding row and column): each row's DAC gain multiplies
    its weights, tile by tile, so the tiles compute x @ (G * W) for the gains G of each weight's row."""
    rng = np.random.default_rng(2)
    w = rng.normal(size=(15, 9)).astype(np.float32)
    row_gain = jnp.asarray(1.0 + 0.2 * rng.normal(size=(2, 2, 8, 1)), jnp.float32)
    crossbar = grid_crossbar()
    key = jax.random.key(0)
    targets = crossbar.targets(w)
    assert targets.row_gain is None
    plain = crossbar.read(key, crossbar.program_targets(key, targets), 1.0)
    gained = crossbar.read(
        key, crossbar.program_targets(key, dataclasses.replace(targets, row_gain=row_gain)), 1.0
    )
    valid = np.asarray(targets.valid)
    np.testing.assert_allclose(np.asarray(gained.w), np.asarray(plain.w) * np.asarray(row_gain), rtol=1e-6)
    assert np.all(np.asarray(gained.w)[~valid] == 0.0) and not valid.all()

    per_weight = np.broadcast_to(np.asarray(row_gain, np.float64), (2, 2, 8, 5))
    g = per_weight.transpose(0, 2, 1, 3).reshape(16, 10)[:15, :9]  # the gain of each weight's row
    x = rng.normal(size=(4, 15)).astype(np.float32)
    expected = x.astype(np.float64) @ (g * w)
    assert close_to(expected, crossbar.matmul(key, gained, x)) <= FLOAT32_REL
    assert close_to(expected, crossbar.matmul(key, plain, x)) > 0.01


@pytest.mark.slow
@pytest.mark.parametrize("wires", [{}, {"r_row": 0.5, "r_col": 0.5}], ids=["ideal-wires", "ir-drop"])
def test_row_gains_scale_the_row_voltages_of_a_nonlinear_response(wires):
    """With amplitude encoding and a bending I-V, a row's DAC gain scales that row's voltage: the tile with
    gains G answers inputs x as the same tile without gains answers G x (inputs kept within [-1, 1])."""
    rng = np.random.default_rng(3)
    w = rng.normal(size=(8, 5)).astype(np.float32)
    gain = 1.0 + 0.2 * rng.normal(size=8)
    periphery = Periphery(
        dac=DAC(bits=None, encoding="amplitude", v_read=0.3),
        adc=ADC(bits=None, bound=1e30),
        output_noise=0.0,
        noise_management="none",
        bound_management="none",
    )
    crossbar = Crossbar(device=Ideal(iv_b=3.0), periphery=periphery, tile_rows=8, tile_cols=5, **wires)
    key = jax.random.key(0)
    targets = crossbar.targets(w)
    row_gain = jnp.asarray(gain.reshape(1, 1, 8, 1), jnp.float32)
    gained = crossbar.read(
        key, crossbar.program_targets(key, dataclasses.replace(targets, row_gain=row_gain)), 1.0
    )
    plain = crossbar.read(key, crossbar.program_targets(key, targets), 1.0)
    x = (rng.uniform(-0.7, 0.7, size=(4, 8)) / gain.max()).astype(np.float32)
    expected = crossbar.matmul(key, plain, (x * gain).astype(np.float32))
    assert close_to(np.asarray(expected, np.float64), crossbar.matmul(key, gained, x)) <= FLOAT32_REL
    assert close_to(np.asarray(expected, np.float64), crossbar.matmul(key, plain, x)) > 0.01


# --- the estimator on a chip profile ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The MLP (ONNX file and loaded), the test images and labels, and its digital right answers."""
    x, y = digits()
    path = tmp_path_factory.mktemp("model") / "mlp.onnx"
    path.write_bytes(mlp_onnx_bytes(digits_mlp((32,))))
    loaded = load_onnx(path)
    logits = np.asarray(loaded.apply(loaded.params, x[1200:]))
    right = int(np.sum(np.argmax(logits, axis=-1) == y[1200:]))
    return SimpleNamespace(path=path, onnx=loaded, x=x[1200:], y=y[1200:], right=right)


def chip_estimate(model, chip, seed: int, trials: int = 3, **options) -> AccuracyEstimate:
    return estimate_accuracy(
        model.onnx.apply, model.onnx.params, model.x, model.y, chip, (1.0, DAY), trials, seed,
        progress=False, **options,
    )  # fmt: skip


@pytest.fixture(scope="module")
def rram_chip():
    return calibration.synthesize("rram", 3, 0, rows=64, cols=64)


@pytest.fixture(scope="module")
def rram(model, rram_chip):
    """3 copies of the rram chip, read at 1 s and 1 d (trials in vmapped pairs, the default)."""
    return chip_estimate(model, rram_chip, seed=0)


def right_answers(estimate: AccuracyEstimate) -> np.ndarray:
    counts = np.rint(estimate.accuracies * N).astype(int)
    np.testing.assert_array_equal(counts / N, estimate.accuracies)
    return counts


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_ideal_chip_with_ideal_converters_reproduces_the_digital_answers(scheme, model):
    """Without faults, noise, converters or wire resistance, the compiled chip computes the network's own
    weights: every chip gets the digital count of right answers (to one answer, for a float32 near-tie)."""
    profile = calibration.synthesize("ideal", 3, 0, rows=64, cols=64, scheme=scheme)
    ideal_wires = tuple(dataclasses.replace(t, r_row=0.0, r_col=0.0) for t in profile.tiles)
    profile = dataclasses.replace(profile, tiles=ideal_wires)
    result = chip_estimate(model, Chip(profile, IDEAL_PERIPHERY), seed=0, trials=2)
    assert result.digital_accuracy == model.right / N
    assert result.accuracies.shape == (2, 2)
    assert np.all(np.abs(right_answers(result) - model.right) <= 1)


@pytest.mark.slow
def test_an_ideal_chip_keeps_the_digital_accuracy_through_its_converters(model):
    """The chip's own 7-bit DAC, 9-bit ADC and output noise flip a few near-tie answers of 597 (measured: at
    most 3): every chip stays within 2 % of the digital accuracy."""
    chip = calibration.synthesize("ideal", 3, 0, rows=64, cols=64)
    result = chip_estimate(model, chip, seed=0)
    assert result.digital_accuracy == model.right / N
    assert np.all(np.abs(right_answers(result) - model.right) <= 12)  # 2 %


@pytest.mark.slow
def test_a_faulty_chip_compiled_fault_aware_stays_near_the_digital_accuracy(rram, rram_chip):
    """The rram chip has about 10 % stuck devices; its fault-aware mapping keeps the accuracy within 3 %
    (measured: within 1 %)."""
    stuck = np.mean([np.mean(tile.stuck != 0) for tile in rram_chip.tiles])
    assert stuck > 0.05
    assert np.all(np.abs(rram.accuracies - rram.digital_accuracy) <= 0.03)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_chip_accuracies_bit_for_bit(model, rram_chip, rram):
    again = chip_estimate(model, rram_chip, seed=0)
    np.testing.assert_array_equal(again.accuracies, rram.accuracies)
    assert again.digital_accuracy == rram.digital_accuracy


@pytest.mark.slow
def test_another_seed_programs_other_copies_of_the_chip(model, rram_chip, rram):
    """Each copy of the chip is programmed with its own noise: copies differ, and so do other seeds' copies
    (6 counts with a spread of several answers: all equal by chance with probability well below 1e-3)."""
    counts = right_answers(rram)
    assert len(np.unique(counts)) > 1
    other = right_answers(chip_estimate(model, rram_chip, seed=1))
    assert not np.array_equal(counts, other)


def test_a_chip_too_small_raises_network_does_not_fit(model):
    chip = calibration.synthesize("ideal", 1, 0, rows=64, cols=64, chip_id="die-1")
    with pytest.raises(NetworkDoesNotFit, match=r"does not fit on chip die-1: .* need 2 tiles .* has 1"):
        chip_estimate(model, chip, seed=0)
    assert issubclass(NetworkDoesNotFit, ValueError)


# --- crossbar estimate --chip -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    """Profile files: a 3-tile rram chip (its stuck masks in files beside it) and a 1-tile one."""
    folder = tmp_path_factory.mktemp("profiles")
    calibration.save(calibration.synthesize("rram", 3, 0, rows=64, cols=64), folder / "chip.yaml")
    calibration.save(calibration.synthesize("ideal", 1, 0, rows=64, cols=64), folder / "small.yaml")
    assert list(folder.glob("chip-tile*-stuck.npy"))
    return SimpleNamespace(chip=folder / "chip.yaml", small=folder / "small.yaml")


@pytest.mark.slow
def test_estimate_on_a_chip_writes_the_chips_config(model, profiles, tmp_path, capsys):
    out_json, out_plot = tmp_path / "e.json", tmp_path / "e.png"
    argv = ["estimate", str(model.path), "--data", "digits[0:100]", "--chip", str(profiles.chip)]
    argv += ["--times", "1s,1d", "--trials", "2", "--seed", "3", "--json", str(out_json)]
    argv += ["--plot", str(out_plot)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    document = json.loads(out_json.read_text())
    profile = calibration.load(profiles.chip)
    periphery = to_dict(chip_periphery(profile))
    assert document["config"] == {
        "hardware": {
            "name": "chip synthetic-rram-seed0",
            "chip": {
                "profile": str(profiles.chip.resolve()),
                "sha256": hashlib.sha256(profiles.chip.read_bytes()).hexdigest(),
            },
            "device": {},
            "periphery": {k: v for k, v in periphery.items() if k not in ("dac", "adc")},
            "dac": periphery["dac"],
            "adc": periphery["adc"],
            "ir_drop": "approximate",
            "drift_compensation": "global",
        },
        "model": str(model.path),
        "data": "digits[0:100]",
        "times_s": [1.0, DAY],
        "trials": 2,
        "seed": 3,
        "placement": "default",
        "examples": 100,
    }
    assert document["config"]["hardware"]["dac"]["bits"] == 7  # the synthesized chip's converters
    x, y = digits()
    onnx = model.onnx
    right = int(np.sum(np.argmax(np.asarray(onnx.apply(onnx.params, x[:100])), axis=-1) == y[:100]))
    assert document["digital_accuracy"] == right / 100
    assert [row["t_s"] for row in document["rows"]] == [1.0, DAY]
    for row in document["rows"]:
        assert len(row["trials"]) == 2
        assert all(abs(a * 100 - round(a * 100)) < 1e-9 for a in row["trials"])  # of 100 examples
    assert f"digital accuracy {right / 100:.4f}" in out
    assert str(out_json) in out and str(out_plot) in out
    assert out_plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chip_with_device_is_one_line_and_exit_2(model, profiles, tmp_path, capsys):
    argv = ["estimate", str(model.path), "--data", "digits", "--chip", str(profiles.chip)]
    argv += ["--device", "ideal"]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--device: not with --chip" in line
    assert list(tmp_path.iterdir()) == []


def test_chip_with_preset_is_a_usage_error(model, profiles, capsys):
    argv = ["estimate", str(model.path), "--data", "digits", "--chip", str(profiles.chip)]
    argv += ["--preset", "ideal"]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    line = one_error_line(capsys.readouterr().err, prefix="crossbar estimate: error: ")
    assert "--chip" in line and "--preset" in line


def test_a_network_that_does_not_fit_the_chip_is_one_line_and_exit_2(model, profiles, tmp_path, capsys):
    argv = ["estimate", str(model.path), "--data", "digits[0:50]", "--chip", str(profiles.small)]
    assert main([*argv, "--trials", "1", "--json", str(tmp_path / "e.json")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("crossbar: error: --chip: the network does not fit"), line
    assert "need 2 tiles" in line and list(tmp_path.iterdir()) == []


def test_a_missing_chip_profile_is_one_line_and_exit_2(model, tmp_path, capsys):
    argv = ["estimate", str(model.path), "--data", "digits", "--chip", str(tmp_path / "none.yaml")]
    assert main(argv) == 2
    assert "none.yaml" in one_error_line(capsys.readouterr().err)


def test_a_chip_with_trajectory_semantics_is_one_line_and_exit_2(model, profiles, tmp_path, capsys):
    """Per-tile device parameters are arrays; the trajectory semantics' Brownian tree takes scalars."""
    profile = calibration.load(profiles.chip)
    trajectory = dataclasses.replace(profile, device={**profile.device, "time_semantics": "trajectory"})
    calibration.save(trajectory, tmp_path / "trajectory.yaml")
    argv = [
        "estimate",
        str(model.path),
        "--data",
        "digits[0:50]",
        "--chip",
        str(tmp_path / "trajectory.yaml"),
    ]
    assert main([*argv, "--trials", "1", "--times", "1s", "--json", str(tmp_path / "e.json")]) == 2
    message = one_error_line(capsys.readouterr().err)
    assert "time_semantics 'trajectory' is not emulated on chips" in message
    assert not (tmp_path / "e.json").exists()
