"""A chip's wires: every used tile solved as one resistive network with all the blocks placed on it
(``ChipWires``), in the estimator and in the compiler's predicted IR-drop error, and IR-aware placement.

The contract is the solver's on the assembled tile: a block's effective conductances are its rows x device
columns (logical order) of the distorted matrix of its whole tile, as ``crossbar.ir_drop.column_currents``
gives it for a unit voltage on each row.
"""

import dataclasses
import json
from types import SimpleNamespace

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
import yaml
from conftest import digits, digits_mlp, one_error_line

import calibration
from crossbar import ir_drop
from crossbar.cli import main
from crossbar.compiler import (
    ChipNotEmulated,
    chip_arrays,
    chip_periphery,
    chip_wires,
    compile_network,
    estimate_cost,
    ir_drop_errors,
)
from crossbar.compiler._mapper import device_columns
from crossbar.compiler._mapping_file import mapping_document
from crossbar.compiler._placement import place_blocks
from crossbar.compiler._report import report_files
from crossbar.estimation import Examples, estimate_accuracy, hardware_arrays
from crossbar.estimation._estimate import estimate_on
from crossbar.hardware import Chip
from crossbar.networks import MatrixLayer, load_onnx, products_of
from crossbar.training import mlp_onnx_bytes
from emulator_common.fault_codes import STUCK_OFF, STUCK_ON

SCHEMES = ("differential", "reference_column")
SOLVER_REL = 1e-5  # float32 solves of one network, assembled two ways


def with_wires(profile: calibration.ChipProfile, *r: float) -> calibration.ChipProfile:
    """The profile with tile t's wires at r[t] ohm (both directions), or every tile's at r[0]."""
    values = r if len(r) > 1 else r * len(profile.tiles)
    tiles = tuple(
        dataclasses.replace(t, r_row=v, r_col=v) for t, v in zip(profile.tiles, values, strict=True)
    )
    return dataclasses.replace(profile, tiles=tiles)


def healthy(tiles: int, seed: int = 0) -> calibration.ChipProfile:
    """A PCM chip of ``tiles`` tiles of 16 x 16 without stuck devices."""
    chip = calibration.synthesize("pcm", tiles, seed, rows=16, cols=16)
    tiles = tuple(dataclasses.replace(t, stuck=np.zeros_like(t.stuck)) for t in chip.tiles)
    return dataclasses.replace(chip, tiles=tiles)


def held_conductances(mapping) -> list[np.ndarray]:
    """Per layer, its devices' conductances (uS) in logical order at their targets, stuck ones at their tile's
    g_min or g_max (what ``chip_arrays`` lays out)."""
    held = []
    for crossbar, targets in chip_arrays(mapping, chip_periphery(mapping.profile)):
        stuck, device = np.asarray(targets.stuck_mask), crossbar.device
        g_min, g_max = np.asarray(device.g_min), np.asarray(device.g_max)
        held.append(np.where(stuck == STUCK_OFF, g_min, np.where(stuck == STUCK_ON, g_max, targets.g)))
    return held


def assembled_tile(mapping, tile: int) -> np.ndarray:
    """A tile's conductances (uS) (rows, cols) as programmed: every block's targets in physical order, unused
    devices at g_min, stuck devices at g_min or g_max."""
    profile = mapping.profile.tiles[tile]
    targets = mapping.conductance_targets()[tile]
    return np.where(
        profile.stuck == STUCK_OFF, profile.g_min, np.where(profile.stuck == STUCK_ON, profile.g_max, targets)
    )


def block_devices(mapping, block) -> tuple[np.ndarray, np.ndarray]:
    """The physical rows and device columns of a block's devices in its logical order."""
    g = mapping.profile.geometry
    rows = block.spot.row + block.row_of
    columns = device_columns(np.arange(block.valid.shape[1]), block.spot.col, g.scheme, g.cols)
    if g.scheme == "differential":
        return rows, columns.reshape(-1, 2)[block.col_of].ravel()
    return rows, np.concatenate([columns[:-1][block.col_of], columns[-1:]])


def shared_tile_network(seed: int = 0) -> list[MatrixLayer]:
    """Two layers of 12 rows side by side on one shelf of a 16 x 16 tile, and a third below them."""
    rng = np.random.default_rng(seed)
    return [
        MatrixLayer("a", rng.normal(0.0, 0.3, (12, 3))),
        MatrixLayer("b", rng.normal(0.0, 1.0, (12, 4))),
        MatrixLayer("c", rng.normal(0.0, 1.0, (3, 1))),
    ]


SHARED_COLS = {"differential": 16, "reference_column": 9}


def shared_tile_chip(scheme: str) -> calibration.ChipProfile:
    chip = calibration.synthesize("rram", 2, 3, rows=16, cols=SHARED_COLS[scheme], scheme=scheme, p_off=0.05)
    return with_wires(chip, 2.0)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_blocks_effective_conductances_are_its_part_of_the_whole_tiles_solve(scheme):
    """Three layers' blocks on one faulty tile (permuted rows and columns): each block's effective
    conductances equal the currents ``column_currents`` gives on the assembled tile for a unit voltage on
    each of its rows, read at its device columns."""
    mapping = compile_network(shared_tile_network(), shared_tile_chip(scheme))
    assert {b.spot.tile for b in mapping.blocks} == {mapping.blocks[0].spot.tile}  # one tile holds all
    assert any(np.any(b.row_of != np.arange(len(b.row_of))) for b in mapping.blocks)
    tile = mapping.blocks[0].spot.tile
    profile = mapping.profile.tiles[tile]
    rows = mapping.profile.geometry.rows
    currents = ir_drop.column_currents(
        assembled_tile(mapping, tile) * 1e-6, np.eye(rows), profile.r_row, profile.r_col
    )
    whole = np.asarray(currents) * 1e6  # every row's unit voltage -> every column's current, as uS
    effective = chip_wires(mapping).effective([jnp.float32(g) for g in held_conductances(mapping)])
    for layer, g in zip(mapping.layers, effective, strict=True):
        (block,) = [b for b in mapping.blocks if b.layer == layer.name]
        r, c = block_devices(mapping, block)
        expected = whole[np.ix_(r, c)]
        scale = np.max(np.abs(expected))
        assert np.max(np.abs(np.asarray(g)[0, 0] - expected)) <= SOLVER_REL * scale, layer.name


@pytest.mark.slow
def test_neighbours_on_a_tile_change_a_blocks_effective_conductances():
    """Block a among its neighbours loses more than twice the conductance to IR drop that it loses alone, as
    its own array (as estimates solved it before); measured: 3.3 times."""
    mapping = compile_network(shared_tile_network(), shared_tile_chip("differential"))
    wires = chip_wires(mapping)
    held = held_conductances(mapping)
    together = np.asarray(wires.effective([jnp.float32(g) for g in held])[0][0, 0])
    alone = np.asarray(ir_drop.effective_matrix(held[0][0, 0] * 1e-6, 2.0, 2.0)) * 1e6
    g = held[0][0, 0]
    assert np.linalg.norm(g - together) > 2.0 * np.linalg.norm(g - alone)


def test_ideal_wires_leave_no_wires_to_solve_and_predict_no_error():
    mapping = compile_network(shared_tile_network(), with_wires(shared_tile_chip("differential"), 0.0))
    assert chip_wires(mapping) is None
    assert ir_drop_errors(mapping) == (0.0, 0.0, 0.0)


def test_the_ir_drop_model_none_means_ideal_wires_and_approximate_is_near_exact():
    """On the shared tile (r g_max about 2e-4, 16 rows) the approximate model's predicted errors are within
    1 % of the exact ones (measured: 0.07 %)."""
    mapping = compile_network(shared_tile_network(), shared_tile_chip("differential"))
    assert chip_wires(mapping, "none") is None
    assert ir_drop_errors(mapping, "none") == (0.0, 0.0, 0.0)
    assert chip_wires(mapping, "approximate").model == "approximate"
    np.testing.assert_allclose(ir_drop_errors(mapping, "approximate"), ir_drop_errors(mapping), rtol=0.01)


@pytest.mark.slow
def test_each_tile_uses_its_own_wires():
    """Two copies of one layer, each on its own tile (14 of 16 rows: they cannot share): the copy on the
    tile with 4 ohm wires has about 4 times the IR-drop error of the one on 1 ohm wires (first order in r)."""
    w = np.random.default_rng(1).normal(0.0, 1.0, (14, 6))
    chip = with_wires(healthy(2), 1.0, 4.0)
    mapping = compile_network([MatrixLayer("x", w), MatrixLayer("y", w)], chip)
    assert sorted(layer.tiles for layer in mapping.layers) == [(0,), (1,)]
    errors = dict(zip((layer.tiles[0] for layer in mapping.layers), ir_drop_errors(mapping), strict=True))
    low, high = errors[0], errors[1]
    assert 0.0 < low and 3.0 < high / low < 4.5


@pytest.mark.slow
def test_the_report_and_mapping_json_give_each_layers_ir_drop_error(tmp_path):
    mapping = compile_network(shared_tile_network(), shared_tile_chip("differential"))
    errors = ir_drop_errors(mapping)
    assert all(0.0 < e < 0.5 for e in errors)
    cost = estimate_cost(mapping)
    document = mapping_document(mapping, cost, {"model": "m", "profile": "p"})
    assert [layer["ir_drop_error"] for layer in document["layers"]] == list(errors)
    assert document["options"]["placement"] == "default"
    markdown = report_files(mapping, cost, {"model": "m", "profile": "p"})["report.md"].decode()
    assert "| IR-drop error |" in markdown
    assert "IR-drop error: ||W_wires − W|| / ||W||" in markdown
    for layer, error in zip(mapping.layers, errors, strict=True):
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {layer.name} |"))
        assert row.rstrip(" |").endswith(f"{100 * error:.3g} %"), row


# --- IR-aware placement ---------------------------------------------------------------------------------


def test_ir_aware_placement_puts_the_largest_currents_at_the_bottom_left():
    """Equal blocks, largest current first: on the last rows, from column 0; the shelves stack upwards and
    the tiles needed are the default placement's."""
    sizes = [(4, 3)] * 5
    currents = [1.0, 5.0, 3.0, 4.0, 2.0]
    spots = place_blocks(sizes, 8, 9, [7, 2], currents)
    assert (spots[1].tile, spots[1].row, spots[1].col) == (7, 4, 0)
    assert (spots[3].tile, spots[3].row, spots[3].col) == (7, 4, 3)
    assert (spots[2].tile, spots[2].row, spots[2].col) == (7, 4, 6)
    assert (spots[4].tile, spots[4].row, spots[4].col) == (7, 0, 0)
    assert {s.tile for s in spots} == {s.tile for s in place_blocks(sizes, 8, 9, [7, 2])} == {7}


def test_ir_aware_placement_prefers_healthy_tiles_with_less_wire_resistance():
    """Of tiles equally healthy the one with the least resistance; a healthier tile before both (stuck cells
    cost more than a few percent of wire resistance: measured on a 12-tile RRAM chip, ordering by resistance
    first raised a layer's fault error from 2.4 % to 28 %)."""
    chip = with_wires(healthy(3), 3.0, 2.0, 1.0)
    layers = [MatrixLayer("x", np.ones((10, 5)))]
    assert compile_network(layers, chip).layers[0].tiles == (0,)
    assert compile_network(layers, chip, placement="ir-aware").layers[0].tiles == (2,)
    stuck = chip.tiles[2].stuck.copy()
    stuck[15, 15] = 1
    tiles = (*chip.tiles[:2], dataclasses.replace(chip.tiles[2], stuck=stuck))
    faulty = dataclasses.replace(chip, tiles=tiles)
    assert compile_network(layers, faulty, placement="ir-aware").layers[0].tiles == (1,)
    with pytest.raises(ValueError, match="placement: expected one of default, ir-aware"):
        compile_network(layers, chip, placement="random")


@pytest.mark.slow
def test_ir_aware_placement_lowers_the_predicted_ir_drop_error():
    """Blocks of 10 of 16 rows on equal wires: at the bottom of their tiles they carry less drop from the
    column lines, so every layer's predicted error falls."""
    chip = with_wires(healthy(3), 2.0)
    rng = np.random.default_rng(2)
    layers = [MatrixLayer("x", rng.normal(0, 1, (10, 8))), MatrixLayer("y", rng.normal(0, 1, (10, 6)))]
    default = ir_drop_errors(compile_network(layers, chip))
    aware = ir_drop_errors(compile_network(layers, chip, placement="ir-aware"))
    assert all(a < 0.9 * d for a, d in zip(aware, default, strict=True)), (default, aware)


# --- the estimator -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    x, y = digits()
    path = tmp_path_factory.mktemp("model") / "mlp.onnx"
    path.write_bytes(mlp_onnx_bytes(digits_mlp((32,))))
    return SimpleNamespace(path=path, onnx=load_onnx(path), x=x[1200:1500], y=y[1200:1500])


def estimate(model, chip, seed=0, **options):
    return estimate_accuracy(
        model.onnx.apply, model.onnx.params, model.x, model.y, chip, (1.0, 86400.0), 2, seed,
        progress=False, **options,
    )  # fmt: skip


@pytest.mark.slow
def test_zero_resistance_wires_solved_whole_give_the_ideal_estimate_bit_for_bit(model):
    """The chip-wide read with every wire at 0 ohm (the solver's W_eff == g exactly) reproduces the estimate
    of the chip with ideal wires, which skips it: the same numbers bit for bit."""
    chip = calibration.synthesize("rram", 3, 0, rows=64, cols=64)
    ideal = with_wires(chip, 0.0)
    products = products_of(model.onnx.apply, model.onnx.params, jnp.zeros((1, 64), jnp.float32))
    arrays = hardware_arrays(Chip.of(ideal), products)
    wires = chip_wires(compile_network([layer for p in products for layer in p.layers()], chip))
    zero = eqx.tree_at(lambda w: (w.r_row, w.r_col), wires, (0.0 * wires.r_row, 0.0 * wires.r_col))
    examples = Examples.of(model.onnx.apply, model.onnx.params, model.x, model.y, 2000)
    args = (model.onnx.apply, model.onnx.params, examples, arrays, (1.0, 86400.0), 2, 0, lambda: None)
    plain, solved = estimate_on(*args), estimate_on(*args, zero)
    reference = estimate(model, ideal)
    for result in (plain, solved):
        np.testing.assert_array_equal(result.accuracies, reference.accuracies)
        np.testing.assert_array_equal(result.output_errors, reference.output_errors)


@pytest.mark.slow
def test_a_chip_with_ir_drop_none_gives_the_ideal_wire_estimate_bit_for_bit(model):
    chip = calibration.synthesize("rram", 3, 0, rows=64, cols=64)
    unmodelled = dataclasses.replace(Chip.of(chip), ir_drop="none")
    ideal = estimate(model, with_wires(chip, 0.0))
    result = estimate(model, unmodelled)
    np.testing.assert_array_equal(result.accuracies, ideal.accuracies)
    np.testing.assert_array_equal(result.output_errors, ideal.output_errors)


@pytest.mark.slow
def test_wires_raise_a_chips_output_error_and_the_same_seed_repeats_it(model):
    chip = with_wires(calibration.synthesize("rram", 3, 0, rows=64, cols=64), 2.0)
    wired = estimate(model, chip)
    ideal = estimate(model, with_wires(chip, 0.0))
    assert np.all(wired.output_errors > 1.5 * ideal.output_errors), (wired.output_errors, ideal.output_errors)
    again = estimate(model, chip)
    np.testing.assert_array_equal(again.accuracies, wired.accuracies)
    np.testing.assert_array_equal(again.output_errors, wired.output_errors)


def test_amplitude_inputs_on_a_nonlinear_iv_are_refused_on_a_wired_chip(model):
    """Amplitude-encoded inputs bend through a nonlinear I-V, so each input needs its own network solve,
    which chips' whole-tile reads do not do: refused with the reason and the remedy."""
    chip = Chip.of(with_wires(calibration.synthesize("rram", 3, 0, rows=64, cols=64), 1.0))
    bent = chip.with_setting(("periphery", "dac", "encoding"), "amplitude").with_setting(
        ("device", "iv_b"), 2.0
    )
    with pytest.raises(ChipNotEmulated, match="use periphery.dac.encoding=pulse_width"):
        estimate(model, bent)


# --- bad wires in a profile ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chip")
    calibration.save(calibration.synthesize("ideal", 2, 0, rows=64, cols=64), folder / "chip.yaml")
    return folder / "chip.yaml"


def bad_wires(profile_file, where: str, field: str, value: float):
    """The profile with one wire resistance set to ``value``: tile 0's, or the chip-wide default."""
    data = yaml.safe_load(profile_file.read_text())
    if where == "tile":
        data["tiles"][0].setdefault("wire", {})[field] = value
        return data, f"tiles[0].wire.{field}"
    data["wire"] = {field: value}
    return data, f"wire.{field}"


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
@pytest.mark.parametrize("where", ["tile", "chip"])
@pytest.mark.parametrize("command", ["validate", "compile", "estimate"])
def test_a_bad_wire_resistance_is_one_line_naming_the_file_and_field(
    command, where, value, profile_file, model, tmp_path, capsys
):
    data, field = bad_wires(profile_file, where, "r_row" if command != "compile" else "r_col", value)
    chip = profile_file.parent / f"bad-{command}-{where}-{value}.yaml"
    chip.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    argv = {
        "validate": ["profile", "validate", str(chip)],
        "compile": ["compile", str(model.path), "--chip", str(chip), "--out", str(out)],
        "estimate": [
            "estimate",
            str(model.path),
            "--data",
            "digits[0:10]",
            "--chip",
            str(chip),
            "--trials",
            "1",
        ],
    }[command]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{chip}: {field}: expected a finite number >= 0" in line, line
    assert not out.exists()


def test_estimate_placement_needs_a_chip(model, capsys):
    argv = [
        "estimate",
        str(model.path),
        "--data",
        "digits[0:10]",
        "--hardware",
        "ideal",
        "--placement",
        "ir-aware",
    ]
    assert main(argv) == 2
    assert "--placement: places a network's blocks on a chip's tiles" in one_error_line(
        capsys.readouterr().err
    )


@pytest.mark.parametrize("command", ["compile", "estimate"])
def test_placement_and_a_kept_mapping_together_are_refused(command, model, profile_file, tmp_path, capsys):
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{}")
    out = tmp_path / "out"
    common = [
        str(model.path),
        "--chip",
        str(profile_file),
        "--placement",
        "ir-aware",
        "--mapping",
        str(mapping),
    ]
    where = ["--out", str(out)] if command == "compile" else ["--data", "digits[0:10]", "--json", str(out)]
    assert main([command, *common, *where]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--placement: --mapping keeps a layout's placement; give one of the two" in line, line
    assert not out.exists()


@pytest.mark.slow
def test_compile_records_the_placement(model, profile_file, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        "compile",
        str(model.path),
        "--chip",
        str(profile_file),
        "--out",
        str(out),
        "--placement",
        "ir-aware",
    ]
    assert main(argv) == 0
    document = json.loads((out / "mapping.json").read_text())
    assert document["options"]["placement"] == "ir-aware"
    assert "then those with the least wire resistance" in (out / "report.md").read_text()
