"""Calibration profiles: YAML round trip, and one clear line naming the YAML path of every malformed field."""

import dataclasses
import functools
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from _mutations import mutate
from hypothesis import given, settings
from hypothesis import strategies as st

import calibration

# --- helpers --------------------------------------------------------------------------------------------


@functools.cache
def _valid_yaml() -> str:
    """A small valid PCM profile: 2 tiles of 4 x 6 devices (3 differential outputs), stuck cells inline."""
    profile = calibration.synthesize("pcm", 2, seed=0, rows=4, cols=6, p_off=0.1, chip_id="die-7")
    profile = dataclasses.replace(profile, date="2024-05-17")
    with tempfile.TemporaryDirectory() as folder:
        calibration.save(profile, Path(folder) / "chip.yaml")
        return (Path(folder) / "chip.yaml").read_text()


def valid_mapping() -> dict:
    return yaml.safe_load(_valid_yaml())


def write(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def assert_one_line_error(path: Path, fragment: str) -> str:
    with pytest.raises(ValueError) as error:
        calibration.load(path)
    message = str(error.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message, message
    assert fragment in message, message
    return message


def assert_profiles_equal(loaded: calibration.ChipProfile, original: calibration.ChipProfile) -> None:
    for field in ("chip_id", "technology", "date", "geometry", "device", "peripherals"):
        assert getattr(loaded, field) == getattr(original, field), field
    assert len(loaded.tiles) == len(original.tiles)
    for index, (a, b) in enumerate(zip(loaded.tiles, original.tiles, strict=True)):
        for field in ("g_min", "g_max", "device", "r_row", "r_col"):
            assert getattr(a, field) == getattr(b, field), f"tiles[{index}].{field}"
        for field in ("stuck", "adc_gain", "adc_offset", "dac_gain"):
            np.testing.assert_array_equal(
                getattr(a, field), getattr(b, field), err_msg=f"tiles[{index}].{field}"
            )
        assert a.stuck.dtype == np.int8


# --- round trip -----------------------------------------------------------------------------------------

ROUND_TRIP_PROFILES = {
    "pcm": lambda: calibration.synthesize("pcm", 3, seed=1, rows=16, cols=16),
    "rram": lambda: calibration.synthesize("rram", 3, seed=2, rows=16, cols=16),
    "ideal": lambda: calibration.synthesize("ideal", 2, seed=3, rows=8, cols=8),
    "reference-column": lambda: calibration.synthesize(
        "pcm", 2, seed=4, rows=8, cols=9, scheme="reference_column", p_off=0.2
    ),
    "many-stuck": lambda: calibration.synthesize("rram", 3, seed=5, rows=32, cols=32, p_off=0.5, p_on=0.1),
}


@pytest.mark.parametrize("make", ROUND_TRIP_PROFILES.values(), ids=ROUND_TRIP_PROFILES.keys())
def test_save_then_load_gives_an_equal_profile(make, tmp_path):
    profile = make()
    calibration.save(profile, tmp_path / "chip.yaml")
    assert_profiles_equal(calibration.load(tmp_path / "chip.yaml"), profile)


@pytest.mark.parametrize("make", ROUND_TRIP_PROFILES.values(), ids=ROUND_TRIP_PROFILES.keys())
def test_saving_a_loaded_profile_again_gives_identical_files(make, tmp_path):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    calibration.save(make(), tmp_path / "first" / "chip.yaml")
    calibration.save(calibration.load(tmp_path / "first" / "chip.yaml"), tmp_path / "second" / "chip.yaml")
    first = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert first == sorted(p.name for p in (tmp_path / "second").iterdir())
    for name in first:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


def test_few_stuck_cells_are_listed_inline_and_many_go_to_npy_masks(tmp_path):
    few, many = ROUND_TRIP_PROFILES["rram"](), ROUND_TRIP_PROFILES["many-stuck"]()
    calibration.save(few, tmp_path / "few.yaml")
    calibration.save(many, tmp_path / "many.yaml")
    few_tiles = yaml.safe_load((tmp_path / "few.yaml").read_text())["tiles"]
    many_tiles = yaml.safe_load((tmp_path / "many.yaml").read_text())["tiles"]
    assert all("cells" in tile["stuck"] for tile in few_tiles)
    assert [tile["stuck"] for tile in many_tiles] == [{"file": f"many-tile{i}-stuck.npy"} for i in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["few.yaml", "many.yaml"] + [f"many-tile{i}-stuck.npy" for i in range(3)]
    )


def test_tiles_left_out_are_healthy_and_nominal(tmp_path):
    path = tmp_path / "chip.yaml"
    data = valid_mapping()
    data["geometry"]["tiles"] = 4
    write(path, data)
    profile = calibration.load(path)
    nominal = profile.tiles[3]
    assert len(profile.tiles) == 4 and profile.tiles[2] is nominal
    assert (nominal.g_min, nominal.g_max) == (0.0, 25.0)  # PCM's defaults
    assert nominal.device == {} and nominal.r_row == nominal.r_col == 0.0
    np.testing.assert_array_equal(nominal.stuck, np.zeros((4, 6), np.int8))
    np.testing.assert_array_equal(nominal.adc_gain, np.ones(3))
    np.testing.assert_array_equal(nominal.adc_offset, np.zeros(3))
    np.testing.assert_array_equal(nominal.dac_gain, np.ones(4))


def test_a_yaml_date_reads_as_an_iso_string(tmp_path):
    path = tmp_path / "chip.yaml"
    path.write_text(yaml.safe_dump(valid_mapping()).replace("date: '2024-05-17'", "date: 2024-05-17"))
    assert "date: 2024-05-17\n" in path.read_text()
    assert calibration.load(path).date == "2024-05-17"


# --- malformed profiles -----------------------------------------------------------------------------------


def test_the_valid_profile_of_the_malformed_cases_loads(tmp_path):
    profile = calibration.load(write(tmp_path / "chip.yaml", valid_mapping()))
    assert profile.geometry == calibration.Geometry(2, 4, 6, "differential")
    assert np.any(profile.tiles[0].stuck) and np.any(profile.tiles[1].stuck)


def setting(*path_and_value):
    *path, value = path_and_value

    def edit(data, folder):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return edit


def deleting(*path):
    def edit(data, folder):
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return edit


def stuck_mask(array, name="mask.npy"):
    """Tile 0's stuck cells as a mask file holding ``array`` (``None``: no such file)."""

    def edit(data, folder):
        if array is not None:
            np.save(folder / name, array)
        data["tiles"][0]["stuck"] = {"file": name}

    return edit


def stuck_file_bytes(content: bytes):
    def edit(data, folder):
        (folder / "mask.npy").write_bytes(content)
        data["tiles"][0]["stuck"] = {"file": "mask.npy"}

    return edit


def stuck_cells(*cells):
    return setting("tiles", 0, "stuck", {"cells": [list(cell) for cell in cells]})


GAIN_3 = [1.0, 1.01, 0.99]
MALFORMED = {
    "missing chip.id": (deleting("chip", "id"), "chip.id: missing (required)"),
    "missing geometry.rows": (deleting("geometry", "rows"), "geometry.rows: missing (required)"),
    "missing peripherals.adc.bits": (
        deleting("peripherals", "adc", "bits"),
        "peripherals.adc.bits: missing (required)",
    ),
    "missing peripherals": (deleting("peripherals"), "peripherals: missing (required)"),
    "null geometry.cols": (setting("geometry", "cols", None), "geometry.cols: missing (required)"),
    "string for an integer": (
        setting("geometry", "rows", "four"),
        "geometry.rows: expected an integer >= 1, got 'four'",
    ),
    "string for a number": (
        setting("tiles", 1, "g_max", "high"),
        "tiles[1].g_max: expected a finite number >= 0, got 'high'",
    ),
    "bool for an integer": (setting("geometry", "tiles", True), "geometry.tiles: expected an integer >= 1"),
    "float for an integer": (
        setting("peripherals", "dac", "bits", 7.0),
        "peripherals.dac.bits: expected an integer >= 2, got 7.0",
    ),
    "one-bit converter": (
        setting("peripherals", "adc", "bits", 1),
        "peripherals.adc.bits: expected an integer >= 2",
    ),
    "mapping for a number": (
        setting("peripherals", "v_read", {"V": 0.2}),
        "peripherals.v_read: expected a finite",
    ),
    "zero read voltage": (
        setting("peripherals", "v_read", 0),
        "peripherals.v_read: expected a finite number > 0",
    ),
    "zero ADC energy": (
        setting("peripherals", "adc", "energy_pj", 0),
        "peripherals.adc.energy_pj: expected a finite number > 0, got 0",
    ),
    "zero DAC time": (
        setting("peripherals", "dac", "time_ns", 0.0),
        "peripherals.dac.time_ns: expected a finite number > 0, got 0.0",
    ),
    "zero integration time": (
        setting("peripherals", "integration_ns", 0),
        "peripherals.integration_ns: expected a finite number > 0",
    ),
    "zero cell area": (
        setting("peripherals", "cell_area_um2", 0),
        "peripherals.cell_area_um2: expected a finite number > 0",
    ),
    "list for a mapping": (setting("tiles", 0, "adc", [1.0]), "tiles[0].adc: expected a mapping, got list"),
    "tiles not a list": (setting("tiles", {"index": 0}), "tiles: expected a list of tiles, got dict"),
    "nan": (
        setting("tiles", 0, "wire", "r_row", float("nan")),
        "tiles[0].wire.r_row: expected a finite number",
    ),
    "inf": (
        setting("peripherals", "adc", "energy_pj", float("inf")),
        "peripherals.adc.energy_pj: expected a",
    ),
    "integer beyond floats": (
        setting("tiles", 0, "g_max", 10**400),
        "tiles[0].g_max: expected a finite number",
    ),
    "short adc gain": (
        setting("tiles", 1, "adc", "gain", GAIN_3[:2]),
        "tiles[1].adc.gain: expected 3 values (one per output column: 6 device columns, differential), got 2",
    ),
    "long adc offset": (
        setting("tiles", 0, "adc", "offset", [0.0] * 4),
        "tiles[0].adc.offset: expected 3 values (one per output column",
    ),
    "short dac gain": (
        setting("tiles", 0, "dac", "gain", GAIN_3),
        "tiles[0].dac.gain: expected 4 values (one per row), got 3",
    ),
    "ragged gain": (
        setting("tiles", 0, "adc", "gain", [[1.0, 1.0], [1.0]]),
        "tiles[0].adc.gain: expected a number or a list of 3 numbers, got [[1.0, 1.0], [1.0]]",
    ),
    "gain list with a string": (
        setting("tiles", 0, "adc", "gain", [1.0, "x", 1.0]),
        "tiles[0].adc.gain: expected a number or a list of 3 numbers",
    ),
    "negative gain": (
        setting("tiles", 0, "dac", "gain", -1),
        "tiles[0].dac.gain: expected gains > 0, got -1.0",
    ),
    "negative g_min": (
        setting("tiles", 0, "g_min", -1),
        "tiles[0].g_min: expected a finite number >= 0, got -1",
    ),
    "negative wire": (
        setting("tiles", 1, "wire", "r_col", -0.5),
        "tiles[1].wire.r_col: expected a finite number >= 0",
    ),
    "g_max equal to g_min": (
        setting("tiles", 0, "g_min", 30.0),
        "tiles[0].g_max: expected a value above g_min = 30.0 uS",
    ),
    "unknown top-level field": (setting("chips", {}), "chips: unknown field; expected one of version, chip"),
    "unknown tile field": (
        setting("tiles", 0, "gian", 1.0),
        "tiles[0].gian: unknown field; expected one of index",
    ),
    "unknown field with a line break": (setting("chip", "a\nb", 1), "chip.'a\\nb': unknown field"),
    "unknown technology": (
        setting("chip", "technology", "FeFET"),
        "chip.technology: expected one of pcm, rram, ideal, got 'fefet'",
    ),
    "date of a wrong type": (setting("chip", "date", [2024, 5]), "chip.date: expected a non-empty string"),
    "unknown scheme": (
        setting("geometry", "scheme", "single"),
        "geometry.scheme: expected one of differential",
    ),
    "odd cols with differential": (
        setting("geometry", "cols", 5),
        "geometry.cols: expected an even number for differential pairs, got 5",
    ),
    "too many tiles": (setting("geometry", "tiles", 10**30), "geometry.tiles: expected at most 65536 tiles"),
    "too large tiles": (
        setting("geometry", "rows", 10**12),
        "geometry: expected rows x cols <= 16777216 devices per tile, got 1000000000000 x 6",
    ),
    "stuck row out of range": (
        stuck_cells([4, 0, "off"]),
        "tiles[0].stuck.cells[0]: expected a row in [0, 4), got 4",
    ),
    "stuck col out of range": (
        stuck_cells([0, 0, "on"], [0, -1, "off"]),
        "tiles[0].stuck.cells[1]: expected a col in [0, 6), got -1",
    ),
    "stuck col not an integer": (stuck_cells([0, 1.0, "off"]), "tiles[0].stuck.cells[0]: expected a col in"),
    "stuck kind unknown": (
        stuck_cells([0, 0, "half"]),
        "tiles[0].stuck.cells[0]: expected 'off' (stuck at g_min) or 'on' (stuck at g_max), got 'half'",
    ),
    "stuck kind a list": (
        stuck_cells([0, 0, []]),
        "tiles[0].stuck.cells[0]: expected 'off' (stuck at g_min)",
    ),
    "stuck cell of two": (
        stuck_cells([0, 0]),
        "tiles[0].stuck.cells[0]: expected [row, col, off|on], got [0, 0]",
    ),
    "stuck cells and file": (
        setting("tiles", 0, "stuck", {"cells": [], "file": "mask.npy"}),
        "tiles[0].stuck: expected exactly one of 'cells' (a list) or 'file' (a .npy mask)",
    ),
    "mask file missing": (stuck_mask(None), "tiles[0].stuck.file: cannot read the mask"),
    "mask of the wrong shape": (
        stuck_mask(np.zeros((6, 4), np.int8)),
        "tiles[0].stuck.file: expected a mask of shape (rows, cols) = (4, 6), got (6, 4)",
    ),
    "mask not integer": (stuck_mask(np.zeros((4, 6))), "tiles[0].stuck.file: expected integer fault codes"),
    "mask code 3": (stuck_mask(np.full((4, 6), 3)), "tiles[0].stuck.file: expected integer fault codes"),
    "mask code -1": (stuck_mask(np.full((4, 6), -1, np.int8)), "tiles[0].stuck.file: expected integer fault"),
    "mask text file": (stuck_file_bytes(b"0 1 2\n"), "mask.npy is not a .npy array"),
    "mask empty file": (stuck_file_bytes(b""), "mask.npy is not a .npy array"),
    "mask truncated": (
        stuck_file_bytes(
            b"\x93NUMPY\x01\x00v\x00{'descr': '|i1', 'fortran_order': False, 'shape': (4, 6), }"
        ),
        "mask.npy is not a .npy array",
    ),
    "mask of objects": (
        stuck_mask(np.array([None] * 24, object).reshape(4, 6)),
        "mask.npy is not a .npy array",
    ),
    "tile index beyond geometry.tiles": (
        setting("tiles", 1, "index", 2),
        "tiles[1].index: expected a tile index below geometry.tiles = 2, got 2",
    ),
    "negative tile index": (
        setting("tiles", 1, "index", -1),
        "tiles[1].index: expected an integer >= 0, got -1",
    ),
    "duplicate tile index": (
        setting("tiles", 1, "index", 0),
        "tiles[1].index: tile 0 is already described by tiles[0]",
    ),
    "missing tile index": (deleting("tiles", 1, "index"), "tiles[1].index: missing (required)"),
    "tile device bad value": (
        setting("tiles", 0, "device", "prog_noise_scale", -1),
        "tiles[0].device.prog_noise_scale: expected a finite number >= 0, got -1.0",
    ),
    "tile device unknown field": (
        setting("tiles", 1, "device", "prog_noise", 1.0),
        "tiles[1].device.prog_noise: unknown field; expected one of g_min",
    ),
    "tile device window": (
        setting("tiles", 0, "device", "g_max", 20.0),
        "tiles[0].device.g_max: give the window as tiles[0].g_max",
    ),
    "tile device list": (
        setting("tiles", 0, "device", "drift_scale", [1.0, 1.1]),
        "tiles[0].device.drift_scale: expected one value for the whole tile, got a list",
    ),
    "chip device window list": (
        setting("device", {"g_max": [20.0, 30.0]}),
        "device.g_max: expected one value for the whole tile, got a list",
    ),
    "chip device integer beyond floats": (
        setting("device", {"t0": 10**400}),
        "device.t0: expected a finite number, got an integer too large for a float",
    ),
    "chip device component field": (
        setting("device", {"faults": {"p_off": 1.5}}),
        "device.faults.p_off: expected a probability in [0, 1], got 1.5",
    ),
    "chip device model": (
        setting("device", {"model": "RRAM"}),
        "device.model: the model follows from chip.technology",
    ),
    "chip device not a mapping": (setting("device", 1.0), "device: expected a mapping, got float"),
    "version mismatch": (setting("version", 2), "version: expected 1, got 2"),
    "version not an integer": (setting("version", "1"), "version: expected an integer >= 1, got '1'"),
}


@pytest.mark.parametrize("edit, message", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_profile_names_the_file_and_yaml_path(edit, message, tmp_path):
    data = valid_mapping()
    edit(data, tmp_path)
    assert_one_line_error(write(tmp_path / "chip.yaml", data), message)


MALFORMED_TEXT = {
    "bad YAML syntax": ("chip: {id: [die-7\n", "not valid YAML at line 2"),
    "tab indentation": ("chip:\n\tid: die-7\n", "not valid YAML at line 2"),
    "not a mapping": ("- chip\n- geometry\n", "the file: expected a mapping, got list"),
    "empty file": ("", "the file: expected a mapping, got NoneType"),
    "python tag": ("!!python/object/apply:os.getcwd []\n", "not valid YAML at line 1"),
    "integer over 4300 digits": ("version: " + "9" * 5000 + "\n", "not valid YAML"),
    "nested too deeply": ("[" * 5000 + "]" * 5000 + "\n", "not valid YAML (nested too deeply)"),
}


@pytest.mark.parametrize("text, message", MALFORMED_TEXT.values(), ids=MALFORMED_TEXT.keys())
def test_malformed_yaml_names_the_file(text, message, tmp_path):
    path = tmp_path / "chip.yaml"
    path.write_text(text)
    assert_one_line_error(path, message)


def test_file_not_utf8_is_not_valid_yaml(tmp_path):
    path = tmp_path / "chip.yaml"
    path.write_bytes(b"chip: \xff\xfe\n")
    assert_one_line_error(path, "not valid YAML")


def test_missing_profile_is_a_value_error(tmp_path):
    assert_one_line_error(tmp_path / "absent.yaml", "cannot read the file (No such file or directory)")


def test_validate_reports_as_load_does(tmp_path):
    data = valid_mapping()
    data["tiles"][0]["adc"]["gain"] = [1.0]
    path = write(tmp_path / "chip.yaml", data)
    with pytest.raises(ValueError) as from_load:
        calibration.load(path)
    with pytest.raises(ValueError) as from_validate:
        calibration.validate(path)
    assert str(from_validate.value) == str(from_load.value)
    assert isinstance(
        calibration.validate(write(tmp_path / "good.yaml", valid_mapping())), calibration.ChipProfile
    )


# --- property: any mutation of a valid profile loads or gives one clear line ----------------------------


@functools.cache
def _property_base_yaml() -> str:
    """A valid RRAM profile with inline stuck cells, a chip-wide override and wire, and a tile whose stuck
    cells are in ``mask.npy`` (the test writes that file beside each mutated profile)."""
    data = valid_mapping()
    data["chip"]["technology"] = "rram"
    data["device"] = {"read_noise_scale": 1.2, "faults": {"p_off": 0.0}}
    data["wire"] = {"r_row": 1.0, "r_col": 1.5}
    for tile in data["tiles"]:
        tile["g_min"], tile["g_max"] = 1.0, 100.0
    data["geometry"]["tiles"] = 3
    data["tiles"].append({"index": 2, "stuck": {"file": "mask.npy"}, "dac": {"gain": [1.0, 1.1, 0.9, 1.0]}})
    return yaml.safe_dump(data, sort_keys=False)


PROPERTY_MASK = np.array([[0, 1, 2, 0, 0, 0]] * 4, np.int8)


def test_the_property_base_profile_loads(tmp_path):
    np.save(tmp_path / "mask.npy", PROPERTY_MASK)
    (tmp_path / "chip.yaml").write_text(_property_base_yaml())
    profile = calibration.load(tmp_path / "chip.yaml")
    _check_loaded(profile, tmp_path)
    np.testing.assert_array_equal(profile.tiles[2].stuck, PROPERTY_MASK)
    assert profile.device == {"read_noise_scale": 1.2, "faults": {"p_off": 0.0}}
    assert profile.tiles[2].r_col == 1.5 and profile.tiles[0].r_col != 1.5


def _check_loaded(profile: calibration.ChipProfile, folder: Path) -> None:
    g = profile.geometry
    assert len(profile.tiles) == g.tiles
    for tile in profile.tiles:
        assert tile.stuck.shape == (g.rows, g.cols) and tile.stuck.dtype == np.int8
        assert set(np.unique(tile.stuck)) <= {0, 1, 2}
        assert tile.adc_gain.shape == tile.adc_offset.shape == (g.outputs,)
        assert tile.dac_gain.shape == (g.rows,)
        assert (
            np.all(tile.adc_gain > 0) and np.all(tile.dac_gain > 0) and np.all(np.isfinite(tile.adc_offset))
        )
        assert 0 <= tile.g_min < tile.g_max
    for index in range(g.tiles):
        profile.tile_device(index)
    calibration.save(profile, folder / "again.yaml")
    assert_profiles_equal(calibration.load(folder / "again.yaml"), profile)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 1e300 as a float32
@settings(max_examples=400, derandomize=True, deadline=None)
@given(data=st.data())
def test_mutated_profile_loads_or_gives_one_clear_line(data):
    mapping = yaml.safe_load(_property_base_yaml())
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if mapping:
            mutate(mapping, data.draw)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        np.save(folder / "mask.npy", PROPERTY_MASK)
        path = folder / "chip.yaml"
        path.write_text(yaml.safe_dump(mapping, sort_keys=False))
        try:
            profile = calibration.load(path)
        except ValueError as error:
            message = str(error)
            assert message.startswith(f"{path}: ") and len(message) > len(f"{path}: "), message
            assert "\n" not in message, message
        else:
            _check_loaded(profile, folder)


def test_unquoted_on_and_off_read_as_stuck_kinds(tmp_path):
    """YAML 1.1 reads unquoted on / off as booleans; a profile written by hand still means stuck on / off."""
    text = (
        "chip: {id: c, technology: pcm, date: '2026-01-01'}\n"
        "geometry: {tiles: 1, rows: 2, cols: 4}\n"
        "peripherals:\n"
        "  dac: {bits: 7, energy_pj: 0.05, time_ns: 1, area_um2: 20}\n"
        "  adc: {bits: 9, energy_pj: 2, time_ns: 10, area_um2: 2000}\n"
        "tiles:\n"
        "- index: 0\n"
        "  stuck: {cells: [[0, 1, off], [1, 3, on]]}\n"
    )
    (tmp_path / "chip.yaml").write_text(text)
    stuck = calibration.load(tmp_path / "chip.yaml").tiles[0].stuck
    assert stuck.tolist() == [[0, 1, 0, 0], [0, 0, 0, 2]]
