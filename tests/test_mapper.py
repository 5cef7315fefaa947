"""The compiler: a network's matrices onto the tiles of a chip. The contract is physical: programming the
conductance targets into the chip (stuck devices holding their stuck value), driving its rows through their
DACs, sensing its columns through their gains and offsets and correcting in digital as ``mapping.json``
says, computes the held weights, and, on a chip without faults, the network's own weights."""

import dataclasses
import json

import numpy as np
import pytest

import calibration
from crossbar.compiler import (
    compile_network,
    estimate_cost,
    held_weights,
    layout_of,
    mapping_document,
    read_layout,
)
from crossbar.compiler._mapping_file import FORMAT, mapping_files
from crossbar.compiler._output import write_files
from crossbar.networks import MatrixLayer, unroll_convolution
from emulator_common.fault_codes import STUCK_OFF, STUCK_ON

SCHEMES = ("differential", "reference_column")
TILE_COLS = {"differential": 16, "reference_column": 13}  # 8 and 12 outputs


def network(seed: int = 0) -> list[MatrixLayer]:
    """Layers of several blocks each, and blocks small enough to share tiles of 16 rows."""
    rng = np.random.default_rng(seed)
    return [
        MatrixLayer("dense", rng.normal(0.0, 0.3, (19, 5))),  # two blocks of 10 rows, one padding
        MatrixLayer("wide", rng.normal(0.0, 0.1, (6, 17))),  # two or three blocks of outputs
        MatrixLayer("conv", unroll_convolution(rng.normal(0.0, 1.0, (3, 2, 2, 2))), 9),
        MatrixLayer("tiny", rng.normal(0.0, 2.0, (1, 1))),
    ]


def faulty_chip(scheme: str, seed: int = 1, tiles: int = 6) -> calibration.ChipProfile:
    return calibration.synthesize(
        "rram", tiles, seed, rows=16, cols=TILE_COLS[scheme], scheme=scheme, p_off=0.1, p_on=0.05
    )


def without_faults(profile: calibration.ChipProfile) -> calibration.ChipProfile:
    tiles = tuple(dataclasses.replace(t, stuck=np.zeros_like(t.stuck)) for t in profile.tiles)
    return dataclasses.replace(profile, tiles=tiles)


def blocks_of(mapping, name):
    return [b for b in mapping.blocks if b.layer == name]


def chip_matrix(mapping, name: str) -> np.ndarray:
    """The (IN, OUT) matrix the chip computes for a layer, found by driving one input at a time: the targets
    as programmed (stuck devices at g_min or g_max of their tile), each physical row through its DAC gain,
    each physical output through its column gain and offset, then the block's digital correction."""
    profile = mapping.profile
    g = profile.geometry
    targets = mapping.conductance_targets()
    layer = next(layer for layer in mapping.layers if layer.name == name)
    result = np.zeros(layer.shape)
    covered = np.zeros(layer.shape, int)
    for block in blocks_of(mapping, name):
        tile = profile.tiles[block.spot.tile]
        programmed = np.where(
            tile.stuck == STUCK_OFF,
            tile.g_min,
            np.where(tile.stuck == STUCK_ON, tile.g_max, targets[block.spot.tile]),
        )
        rows, outputs = block.valid.shape
        physical_rows = block.spot.row + np.arange(rows)
        slots = np.arange(outputs)
        if g.scheme == "differential":
            plus = programmed[np.ix_(physical_rows, block.spot.col + 2 * slots)]
            minus = programmed[np.ix_(physical_rows, block.spot.col + 2 * slots + 1)]
            signed = plus - minus
            channels = block.spot.col // 2 + slots
        else:
            signal = programmed[np.ix_(physical_rows, block.spot.col + slots)]
            signed = 2.0 * (signal - programmed[physical_rows, g.cols - 1][:, None])
            channels = block.spot.col + slots
        n_in, n_out = block.inputs[1] - block.inputs[0], block.outputs[1] - block.outputs[0]
        x = np.zeros((n_in, rows))  # unit input on each of the block's real inputs, on its physical row
        x[np.arange(n_in), block.row_of[:n_in]] = 1.0
        current = (x * tile.dac_gain[physical_rows]) @ signed / (tile.g_max - tile.g_min) * block.w_max
        # The profile's offsets are in units of the technology's nominal full-span current.
        offset = tile.adc_offset[channels] * profile.nominal_span / (tile.g_max - tile.g_min) * block.w_max
        adc = tile.adc_gain[channels] * current + offset
        y = (adc[:, block.col_of] - block.column_offset) / block.column_gain
        result[slice(*block.inputs), slice(*block.outputs)] = y[:, :n_out]
        covered[slice(*block.inputs), slice(*block.outputs)] += 1
    np.testing.assert_array_equal(covered, 1)  # every weight in exactly one block
    return result


def held_matrix(mapping, name: str, faults: bool = True) -> np.ndarray:
    layer = next(layer for layer in mapping.layers if layer.name == name)
    result = np.zeros(layer.shape)
    for block in blocks_of(mapping, name):
        n_in, n_out = block.inputs[1] - block.inputs[0], block.outputs[1] - block.outputs[0]
        held = held_weights(block, mapping.profile.geometry.scheme, faults)
        result[slice(*block.inputs), slice(*block.outputs)] = held[:n_in, :n_out]
    return result


# --- the chip computes the weights ------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("fault_aware", [True, False])
def test_a_chip_without_faults_computes_the_network_weights(scheme, fault_aware):
    layers = network()
    mapping = compile_network(layers, without_faults(faulty_chip(scheme)), fault_aware=fault_aware)
    tiles = [b.spot.tile for b in mapping.blocks]
    assert max(tiles.count(t) for t in tiles) >= 3  # blocks share tiles
    assert any(len(layer.tiles) > 1 for layer in mapping.layers)  # and a layer spans tiles
    for layer in layers:
        scale = np.max(np.abs(layer.weight))
        np.testing.assert_allclose(chip_matrix(mapping, layer.name), layer.weight, atol=1e-6 * scale, rtol=0)
        np.testing.assert_allclose(held_matrix(mapping, layer.name), layer.weight, atol=1e-6 * scale, rtol=0)
    for summary in mapping.layers:
        assert summary.fault_error == summary.fault_error_in_place == 0.0
        assert summary.stuck_devices == 0
    for block in mapping.blocks:
        np.testing.assert_array_equal(block.row_of, np.arange(len(block.row_of)))
        np.testing.assert_array_equal(block.col_of, np.arange(len(block.col_of)))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("fault_aware", [True, False])
def test_a_faulty_chip_computes_the_held_weights(scheme, fault_aware):
    layers = network()
    mapping = compile_network(layers, faulty_chip(scheme), fault_aware=fault_aware)
    assert sum(layer.stuck_devices for layer in mapping.layers) > 10
    for layer, summary in zip(layers, mapping.layers, strict=True):
        scale = np.max(np.abs(layer.weight))
        chip = chip_matrix(mapping, layer.name)
        np.testing.assert_allclose(chip, held_matrix(mapping, layer.name), atol=1e-9 * scale, rtol=0)
        # The reported fault error is the relative error of what the chip computes.
        error = np.linalg.norm(chip - layer.weight) / np.linalg.norm(layer.weight)
        assert summary.fault_error == pytest.approx(error, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_clipped_weights_are_held_at_the_block_scale(scheme):
    layers = network()
    mapping = compile_network(layers, without_faults(faulty_chip(scheme)), clip_percentile=80.0)
    for layer in layers:
        chip = chip_matrix(mapping, layer.name)
        np.testing.assert_allclose(chip, held_matrix(mapping, layer.name, faults=False), atol=1e-9, rtol=0)
        for block in blocks_of(mapping, layer.name):
            n_in = block.inputs[1] - block.inputs[0]
            w = (
                layer.weight[slice(*block.inputs), slice(*block.outputs)]
                * block.row_compensation[:n_in, None]
            )
            assert block.w_max == pytest.approx(np.percentile(np.abs(w), 80.0), rel=1e-6)
            limit = block.w_max / block.row_compensation[:n_in, None]
            expected = np.clip(layer.weight[slice(*block.inputs), slice(*block.outputs)], -limit, limit)
            np.testing.assert_allclose(
                chip[slice(*block.inputs), slice(*block.outputs)], expected, atol=1e-6 * block.w_max, rtol=0
            )
    assert any(
        np.max(np.abs(chip_matrix(mapping, layer.name) - layer.weight)) > 0.01 for layer in layers
    )  # some weights did clip


def test_each_block_uses_its_own_tile_scale_and_corrections():
    weights = {layer.name: layer.weight for layer in network()}
    mapping = compile_network(network(), faulty_chip("differential"))
    for block in mapping.blocks:
        tile = mapping.profile.tiles[block.spot.tile]
        n_in = block.inputs[1] - block.inputs[0]
        physical = block.spot.row + block.row_of
        np.testing.assert_array_equal(block.row_compensation, 1.0 / tile.dac_gain[physical])
        np.testing.assert_array_equal(block.tile_outputs, block.spot.col // 2 + block.col_of)
        np.testing.assert_array_equal(block.column_gain, tile.adc_gain[block.tile_outputs])
        span_ratio = mapping.profile.nominal_span / (tile.g_max - tile.g_min)  # offsets: in output units
        expected_offset = tile.adc_offset[block.tile_outputs] * span_ratio * block.w_max
        np.testing.assert_allclose(block.column_offset, expected_offset)
        w = weights[block.layer][slice(*block.inputs), slice(*block.outputs)]
        assert block.w_max == pytest.approx(np.max(np.abs(w * block.row_compensation[:n_in, None])), rel=1e-6)


# --- conductance targets and occupancy --------------------------------------------------------------------


def block_devices(block, scheme: str, tile_cols: int):
    """(rows, device columns) of the block's area, its own devices only (not the shared reference column)."""
    rows, outputs = block.valid.shape
    width = 2 * outputs if scheme == "differential" else outputs
    return block.spot.row + np.arange(rows), block.spot.col + np.arange(width)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_conductance_targets_put_each_block_on_its_own_devices(scheme):
    mapping = compile_network(network(), faulty_chip(scheme))
    profile, g = mapping.profile, mapping.profile.geometry
    targets = mapping.conductance_targets()
    assert targets.shape == (g.tiles, g.rows, g.cols)
    owner = np.full(targets.shape, -1)
    reference_rows = np.zeros((g.tiles, g.rows), bool)
    for index, block in enumerate(mapping.blocks):
        tile = profile.tiles[block.spot.tile]
        rows, columns = block_devices(block, scheme, g.cols)
        area = owner[block.spot.tile][np.ix_(rows, columns)]
        assert np.all(area == -1), f"block {index} overlaps another"
        owner[block.spot.tile][np.ix_(rows, columns)] = index
        assert np.all((block.g_target >= tile.g_min) & (block.g_target <= tile.g_max))
        if scheme == "differential":
            np.testing.assert_array_equal(targets[block.spot.tile][np.ix_(rows, columns)], block.g_target)
        else:
            assert columns[-1] < g.cols - 1  # the reference column holds no block
            np.testing.assert_array_equal(
                targets[block.spot.tile][np.ix_(rows, columns)], block.g_target[:, :-1]
            )
            reference = targets[block.spot.tile][rows, g.cols - 1]
            np.testing.assert_allclose(reference, block.g_target[:, -1])
            np.testing.assert_allclose(reference, (tile.g_min + tile.g_max) / 2)
            reference_rows[block.spot.tile, rows] = True
        # Padding (devices of the block that hold no real weight) stays at g_min, as unused devices do.
        real = np.zeros((len(rows), len(columns)), bool)
        real_rows = block.row_of[np.any(block.valid, axis=1)]
        real_slots = block.col_of[np.any(block.valid, axis=0)]
        if scheme == "differential":
            real_slots = np.concatenate([2 * real_slots, 2 * real_slots + 1])
        real[np.ix_(real_rows, real_slots)] = True
        np.testing.assert_array_equal(targets[block.spot.tile][np.ix_(rows, columns)][~real], tile.g_min)
    for t, tile in enumerate(profile.tiles):
        unused = owner[t] == -1
        if scheme == "reference_column":
            unused[reference_rows[t], g.cols - 1] = False
        np.testing.assert_array_equal(targets[t][unused], tile.g_min)


def test_padding_on_a_stuck_device_is_left_at_g_min():
    chip = without_faults(faulty_chip("differential", tiles=2))
    stuck = np.zeros_like(chip.tiles[0].stuck)
    stuck[:, 4] = STUCK_ON  # g+ of output 2 on every row: a weight there can only be >= 0
    chip = dataclasses.replace(chip, tiles=tuple(dataclasses.replace(t, stuck=stuck) for t in chip.tiles))
    layer = MatrixLayer("a", -np.abs(np.random.default_rng(0).normal(size=(16, 15))) - 0.1)
    mapping = compile_network([layer], chip)  # two blocks of 8 outputs, the second with one of padding
    block = next(b for b in mapping.blocks if b.grid == (0, 1))
    assert block.col_of[7] == 2  # the padding output takes the stuck line
    g_min = chip.tiles[block.spot.tile].g_min
    targets = mapping.conductance_targets()[block.spot.tile]
    np.testing.assert_array_equal(targets[:, block.spot.col + 4 : block.spot.col + 6], g_min)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_used_devices_are_those_holding_real_weights(scheme):
    layers = network()
    mapping = compile_network(layers, faulty_chip(scheme))
    g = mapping.profile.geometry
    used = mapping.used_devices()
    assert used.shape == (g.tiles, g.rows, g.cols) and used.dtype == bool
    weights = sum(layer.weight.size for layer in layers)
    if scheme == "differential":
        assert np.sum(used) == 2 * weights
    else:
        references = {
            (b.spot.tile, b.spot.row + int(r)) for b in mapping.blocks for r in b.row_of[np.any(b.valid, 1)]
        }
        assert np.sum(used) == weights + len(references)
        assert all(used[tile, row, g.cols - 1] for tile, row in references)
    for block in mapping.blocks:  # a used device lies in a block's area
        rows, columns = block_devices(block, scheme, g.cols)
        used[block.spot.tile][np.ix_(rows, columns)] = False
    if scheme == "reference_column":
        used[:, :, g.cols - 1] = False
    assert not np.any(used)


# --- faults -----------------------------------------------------------------------------------------------


def layer_devices(mapping, name: str) -> np.ndarray:
    """The devices (tiles, rows, cols) holding a layer's real weights, reference devices included."""
    g = mapping.profile.geometry
    devices = np.zeros((g.tiles, g.rows, g.cols), bool)
    for block in blocks_of(mapping, name):
        n_in, n_out = block.inputs[1] - block.inputs[0], block.outputs[1] - block.outputs[0]
        rows = block.spot.row + block.row_of[:n_in]
        slots = block.col_of[:n_out]
        if g.scheme == "differential":
            columns = block.spot.col + np.concatenate([2 * slots, 2 * slots + 1])
        else:
            columns = np.concatenate([block.spot.col + slots, [g.cols - 1]])
        devices[block.spot.tile][np.ix_(rows, columns)] = True
    return devices


@pytest.mark.parametrize("scheme", SCHEMES)
def test_fault_aware_mapping_reduces_the_error_of_every_layer(scheme):
    chip = faulty_chip(scheme, seed=2)
    aware = compile_network(network(), chip)
    plain = compile_network(network(), chip, fault_aware=False)
    stuck = np.stack([tile.stuck != 0 for tile in chip.tiles])
    for summary, plain_summary in zip(aware.layers, plain.layers, strict=True):
        assert summary.fault_error <= summary.fault_error_in_place + 1e-12
        assert plain_summary.fault_error == plain_summary.fault_error_in_place
        # Placement does not depend on the option, so the error in place is the same.
        assert summary.tiles == plain_summary.tiles
        # The baseline of the aware mapping is the plain mapping itself.
        assert summary.fault_error_in_place == plain_summary.fault_error
        assert summary.stuck_devices == int(np.sum(stuck & layer_devices(aware, summary.name)))
        assert plain_summary.stuck_devices == int(np.sum(stuck & layer_devices(plain, summary.name)))
    big = [s for s in aware.layers if s.fault_error_in_place > 0]
    assert big and all(s.fault_error < s.fault_error_in_place for s in big)
    if scheme == "differential":  # stuck devices mostly cost nothing: they hold zero or a compensated sign
        assert all(s.fault_error < 0.3 * s.fault_error_in_place for s in big)
    for block in plain.blocks:
        assert not block.compensated
        np.testing.assert_array_equal(block.row_of, np.arange(len(block.row_of)))


@pytest.mark.parametrize("fault_aware", [True, False])
def test_a_stuck_reference_device_counts_once(fault_aware):
    chip = without_faults(faulty_chip("reference_column", tiles=1))
    stuck = np.zeros_like(chip.tiles[0].stuck)
    stuck[3, -1] = STUCK_ON  # the reference device of row 3, which all 12 outputs subtract
    stuck[5, 2] = STUCK_OFF
    chip = dataclasses.replace(chip, tiles=(dataclasses.replace(chip.tiles[0], stuck=stuck),))
    layer = MatrixLayer("full", np.random.default_rng(0).normal(size=(16, 12)))  # every device of the tile
    mapping = compile_network([layer], chip, fault_aware=fault_aware)
    assert mapping.layers[0].stuck_devices == 2
    error = np.linalg.norm(chip_matrix(mapping, "full") - layer.weight) / np.linalg.norm(layer.weight)
    assert mapping.layers[0].fault_error == pytest.approx(error, rel=1e-5)


def test_healthy_tiles_are_used_first_and_a_layer_on_them_has_no_fault_error():
    chip = faulty_chip("differential", seed=3, tiles=5)
    tiles = list(chip.tiles)
    for index in (3, 1):
        tiles[index] = dataclasses.replace(tiles[index], stuck=np.zeros_like(tiles[index].stuck))
    tiles[0] = dataclasses.replace(tiles[0], stuck=np.full_like(tiles[0].stuck, STUCK_OFF))  # a dead tile
    chip = dataclasses.replace(chip, tiles=tuple(tiles))
    rng = np.random.default_rng(0)
    mapping = compile_network(
        [MatrixLayer("a", rng.normal(size=(16, 8))), MatrixLayer("b", rng.normal(size=(5, 3)))], chip
    )
    assert [layer.tiles for layer in mapping.layers] == [(1,), (3,)]
    for summary in mapping.layers:
        assert summary.fault_error == summary.fault_error_in_place == 0.0
        assert summary.stuck_devices == 0
    # With more blocks than healthy tiles, the least faulty of the others comes next; the dead tile last.
    order = sorted(range(5), key=lambda t: (np.count_nonzero(chip.tiles[t].stuck), t))
    assert order[:2] == [1, 3] and order[-1] == 0
    mapping = compile_network([MatrixLayer("a", rng.normal(size=(64, 8)))], chip)
    assert mapping.layers[0].tiles == tuple(sorted(order[:4]))


def test_a_network_that_does_not_fit_names_the_tiles_needed_and_available():
    chip = calibration.synthesize("pcm", 2, 0, rows=8, cols=8)
    layers = [MatrixLayer("big", np.ones((8, 20))), MatrixLayer("small", np.ones((3, 1)))]
    # 20 outputs in blocks of at most 4: five full-width blocks of 8 x 4, one per tile, and the small one.
    with pytest.raises(ValueError) as error:
        compile_network(layers, chip)
    message = str(error.value)
    assert "need 6 tiles" in message and "the chip has 2" in message
    assert chip.chip_id in message
    compile_network(layers, calibration.synthesize("pcm", 6, 0, rows=8, cols=8))  # and 6 are enough


def test_a_dense_block_larger_than_the_chip_split_into_near_equal_blocks():
    chip = calibration.synthesize("ideal", 6, 0, rows=8, cols=8)
    mapping = compile_network([MatrixLayer("a", np.ones((17, 5)))], chip)
    summary = mapping.layers[0]
    assert summary.grid == (3, 2) and summary.block == (6, 3)
    assert sorted(b.inputs for b in mapping.blocks) == sorted([(0, 6), (6, 12), (12, 17)] * 2)
    assert sorted(b.outputs for b in mapping.blocks) == sorted([(0, 3), (3, 5)] * 3)


# --- convolution ------------------------------------------------------------------------------------------


def test_a_convolution_kernel_unrolls_to_the_matrix_of_its_patches():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(4, 3, 2, 5))  # (OUT, IN, kH, kW)
    matrix = unroll_convolution(kernel)
    assert matrix.shape == (3 * 2 * 5, 4)
    patch = rng.normal(size=(3, 2, 5))  # (IN, kH, kW), flattened channel-major
    np.testing.assert_allclose(patch.reshape(-1) @ matrix, np.einsum("oihw,ihw->o", kernel, patch))


# --- determinism and mapping.json -------------------------------------------------------------------------


def write(mapping, folder):
    folder.mkdir()
    sources = {"model": "net.npz", "profile": "chip.yaml"}
    return write_files(mapping_files(mapping, estimate_cost(mapping), sources), folder)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_compiling_twice_gives_identical_files(scheme, tmp_path):
    first = write(compile_network(network(), faulty_chip(scheme)), tmp_path / "first")
    second = write(compile_network(network(), faulty_chip(scheme)), tmp_path / "second")
    assert [p.name for p in first] == ["mapping.json", "conductance_targets.npz"]
    assert first[0].read_bytes() == second[0].read_bytes()
    with np.load(first[1]) as a, np.load(second[1]) as b:
        np.testing.assert_array_equal(a["g"], b["g"])


BLOCK_FIELDS = {
    "layer": str,
    "grid": list,
    "inputs": list,
    "outputs": list,
    "tile": int,
    "row_offset": int,
    "col_offset": int,
    "rows": list,
    "columns": list,
    "tile_outputs": list,
    "w_max": float,
    "g_min": float,
    "g_max": float,
    "row_compensation": list,
    "column_gain": list,
    "column_offset": list,
}


def rebuild_targets(doc: dict, weights: dict, profile: calibration.ChipProfile) -> dict:
    """Conductance targets from mapping.json, the weights and the chip's stuck masks alone: a programmer's
    view. Returns {(tile, row, col): uS} for every device a block programs."""
    geometry, compensate = doc["chip"]["geometry"], doc["options"]["fault_aware"]
    scheme, tile_cols = geometry["scheme"], geometry["cols"]
    targets = {}
    for b in doc["blocks"]:
        w = weights[b["layer"]][slice(*b["inputs"]), slice(*b["outputs"])]
        n_in, n_out = w.shape
        u = np.clip(w * np.asarray(b["row_compensation"][:n_in])[:, None] / b["w_max"], -1.0, 1.0)
        stuck = profile.tiles[b["tile"]].stuck
        span = b["g_max"] - b["g_min"]
        for i in range(n_in):
            row = b["row_offset"] + b["rows"][i]
            for j in range(n_out):
                slot = b["columns"][j]
                if scheme == "differential":
                    plus, minus = b["col_offset"] + 2 * slot, b["col_offset"] + 2 * slot + 1
                    g_plus, g_minus = max(u[i, j], 0.0), max(-u[i, j], 0.0)
                    if compensate and stuck[row, minus]:  # g- stuck at 0 or 1: g+ = u + g-
                        g_plus = min(max(u[i, j] + (stuck[row, minus] == STUCK_ON), 0.0), 1.0)
                    if compensate and stuck[row, plus]:  # g+ stuck at 0 or 1: g- = g+ - u
                        g_minus = min(max((stuck[row, plus] == STUCK_ON) - u[i, j], 0.0), 1.0)
                    targets[b["tile"], row, plus] = b["g_min"] + g_plus * span
                    targets[b["tile"], row, minus] = b["g_min"] + g_minus * span
                else:
                    reference = 0.5
                    if compensate and stuck[row, tile_cols - 1]:
                        reference = float(stuck[row, tile_cols - 1] == STUCK_ON)
                    g_signal = min(max(0.5 * u[i, j] + reference, 0.0), 1.0)
                    targets[b["tile"], row, b["col_offset"] + slot] = b["g_min"] + g_signal * span
                    targets[b["tile"], row, tile_cols - 1] = b["g_min"] + 0.5 * span
    return targets


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("fault_aware", [True, False])
def test_mapping_json_is_enough_to_program_the_chip(scheme, fault_aware, tmp_path):
    layers = network()
    profile = faulty_chip(scheme)
    mapping = compile_network(layers, profile, fault_aware=fault_aware)
    json_path, targets_path = write(mapping, tmp_path / "out")
    doc = json.loads(json_path.read_text())
    assert doc["format"] == FORMAT
    assert doc["chip"]["geometry"] == {"tiles": 6, "rows": 16, "cols": TILE_COLS[scheme], "scheme": scheme}
    assert doc["options"] == {"clip_percentile": None, "fault_aware": fault_aware, "placement": "default"}
    assert [layer["name"] for layer in doc["layers"]] == [layer.name for layer in layers]
    assert doc["layers"][2]["mvms_per_inference"] == 9
    assert len(doc["blocks"]) == len(mapping.blocks)
    for b in doc["blocks"]:
        for field, kind in BLOCK_FIELDS.items():
            assert isinstance(b[field], kind), field
        rows = b["inputs"][1] - b["inputs"][0]
        assert len(b["rows"]) == len(b["row_compensation"]) >= rows
        assert len(b["columns"]) == len(b["column_gain"]) == len(b["column_offset"]) == len(b["tile_outputs"])
        assert sorted(b["rows"]) == list(range(len(b["rows"])))
        assert sorted(b["columns"]) == list(range(len(b["columns"])))
        assert b["g_min"] == profile.tiles[b["tile"]].g_min and b["g_max"] == profile.tiles[b["tile"]].g_max
    with np.load(targets_path) as archive:
        written = archive["g"]
    np.testing.assert_array_equal(written, mapping.conductance_targets())
    weights = {layer.name: layer.weight for layer in layers}
    rebuilt = rebuild_targets(doc, weights, profile)
    assert len(rebuilt) == int(np.sum(mapping.used_devices()))
    for (tile, row, col), value in rebuilt.items():
        assert written[tile, row, col] == pytest.approx(value, rel=1e-12, abs=1e-12), (tile, row, col)


def test_layers_with_the_same_name_are_refused():
    layers = network()
    twin = MatrixLayer(layers[0].name, layers[1].weight)
    with pytest.raises(ValueError, match="layers: expected distinct names"):
        compile_network([layers[0], twin], faulty_chip("differential"))


# --- a kept layout ----------------------------------------------------------------------------------------


def tuned(layers: list[MatrixLayer], seed: int = 5) -> list[MatrixLayer]:
    """The same layers with other weights, as fine-tuning leaves them."""
    rng = np.random.default_rng(seed)
    return [
        dataclasses.replace(x, weight=x.weight * (1 + 0.3 * rng.normal(size=x.weight.shape))) for x in layers
    ]


def places(layout) -> list:
    return [(b.layer, b.grid, b.spot, b.row_of.tolist(), b.col_of.tolist()) for b in layout.blocks]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_kept_layout_keeps_places_and_permutations_and_recomputes_the_rest(scheme):
    layers, profile = network(), faulty_chip(scheme)
    first = compile_network(layers, profile)
    layout = layout_of(first)
    written = read_layout(json.loads(json.dumps(mapping_document(first, estimate_cost(first), {}))))
    assert places(written) == places(layout)  # mapping.json records the layout
    again = compile_network(layers, profile, layout=layout)
    np.testing.assert_array_equal(again.conductance_targets(), first.conductance_targets())
    other = tuned(layers)
    kept, fresh = compile_network(other, profile, layout=layout), compile_network(other, profile)
    assert places(layout_of(fresh)) != places(layout)  # a fresh compile permutes some block otherwise
    assert places(layout_of(kept)) == places(layout)
    for layer in other:  # scales and targets from the tuned weights: the chip computes them (held weights)
        np.testing.assert_allclose(chip_matrix(kept, layer.name), held_matrix(kept, layer.name), atol=1e-9)
        np.testing.assert_allclose(held_matrix(kept, layer.name, faults=False), layer.weight, atol=1e-9)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["chip"].update(id="other"), "the layout is of chip 'other'"),
        (lambda d: d["blocks"].pop(), "the layout has no block"),
        (lambda d: d["blocks"][0].update(rows=[0] * len(d["blocks"][0]["rows"])), "expected permutations"),
        (lambda d: d["blocks"][0].update(tile=6), "do not lie on a tile of the chip"),
        (lambda d: d["blocks"].append(dict(d["blocks"][0])), "the layout has 8 blocks, the layers 7"),
        (lambda d: d["blocks"][0].update(grid=[0]), r"blocks\[0\].grid: expected two integers"),
        (lambda d: d["blocks"][1].pop("rows"), r"blocks\[1\].rows: expected a list of integers"),
        (lambda d: d.pop("chip"), "chip: expected the mapping's chip"),
    ],
)
def test_a_layout_that_does_not_match_names_what(change, message):
    layers, profile = network(), faulty_chip("differential")
    first = compile_network(layers, profile)
    document = json.loads(json.dumps(mapping_document(first, estimate_cost(first), {})))
    assert len(document["blocks"]) == 7
    change(document)
    with pytest.raises(ValueError, match=message):
        compile_network(layers, profile, layout=read_layout(document))
