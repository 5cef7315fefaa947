"""``crossbar compile`` and ``crossbar profile``: outputs listed and written, the analog/digital split of the
MACs printed and recorded, and bad input as one line on stderr naming the file or option, exit code 2, and no
output files."""

import json

import numpy as np
import pytest
import yaml
from conftest import one_error_line, run_cli

import calibration
from crossbar.cli import main
from crossbar.cli._compile import compile_to_folder
from crossbar.hardware import resolve_hardware
from crossbar.networks import load_onnx

OUTPUTS = {
    "mapping.json",
    "conductance_targets.npz",
    "report.md",
    "report.html",
    "occupancy.png",
    "conductance_histograms.png",
    "fault_error.png",
    "energy.png",
}


def weights(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "fc1": rng.normal(0.0, 0.2, (40, 20)),
        "conv": rng.normal(0.0, 0.5, (6, 2, 3, 3)).astype(np.float32),  # (OUT, IN, kH, kW)
        "mvms/conv": np.asarray(36),
        "fc2": rng.normal(0.0, 0.2, (20, 3)),
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """(model .npz, profile YAML) of a network that fits a 4-tile chip of 32 x 32 with room to spare."""
    folder = tmp_path_factory.mktemp("inputs")
    np.savez(folder / "net.npz", **weights())
    calibration.save(
        calibration.synthesize("rram", 4, seed=1, rows=32, cols=32, p_off=0.05, p_on=0.02),
        folder / "chip.yaml",
    )
    return folder / "net.npz", folder / "chip.yaml"


# --- compile ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_compile_writes_and_lists_every_output(inputs, tmp_path):
    model, chip = inputs
    out = tmp_path / "out"
    result = run_cli("compile", str(model), "--chip", str(chip), "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    share, listed = lines[-len(OUTPUTS) - 1], lines[-len(OUTPUTS) :]
    assert share == "analog share of the MACs per example: 100.0 % (4,748 of 4,748)"
    assert {p.split("/")[-1] for p in listed} == OUTPUTS
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # and no temporary files
    doc = json.loads((out / "mapping.json").read_text())
    assert doc["sources"] == {"model": str(model), "profile": str(chip)}
    layers = {layer["name"]: layer for layer in doc["layers"]}
    assert list(layers) == ["fc1", "conv", "fc2"]
    assert layers["conv"]["shape"] == [2 * 3 * 3, 6] and layers["conv"]["mvms_per_inference"] == 36
    assert layers["fc1"]["mvms_per_inference"] == 1
    assert doc["options"] == {"clip_percentile": None, "fault_aware": True, "placement": "default"}
    assert all(layer["fault_error"] <= layer["fault_error_in_place"] for layer in doc["layers"])
    with np.load(out / "conductance_targets.npz") as archive:
        assert archive["g"].shape == (4, 32, 32)
    assert doc["macs"]["analog_macs"] == 40 * 20 + 18 * 6 * 36 + 20 * 3 == 4748
    assert doc["macs"]["digital_macs"] == 0 and doc["macs"]["analog_share"] == 1.0


def test_compile_prints_and_records_the_analog_and_digital_macs(tmp_path, capsys):
    chip = tmp_path / "chip.yaml"
    calibration.save(calibration.synthesize("ideal", 12, seed=0, rows=256, cols=256), chip)
    vit = "tests/data/pytorch/vit_dynamo.onnx"
    assert main(["compile", vit, "--chip", str(chip), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "node_MatMul_13" in out and "in digital: 4 other matrix products" in out
    assert "analog share of the MACs per example: 92.3 % (664,800 of 720,288)" in out
    macs = json.loads((tmp_path / "out" / "mapping.json").read_text())["macs"]
    assert (macs["analog_macs"], macs["digital_macs"], macs["digital_products"]) == (664_800, 55_488, 4)
    assert [p["name"] for p in macs["tiled"]] == [layer.name for layer in load_onnx(vit).matrix_layers()]


def test_compiling_twice_gives_the_same_mapping(inputs, tmp_path, capsys):
    model, chip = inputs
    for name in ("a", "b"):
        assert main(["compile", str(model), "--chip", str(chip), "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "a" / "mapping.json").read_bytes() == (tmp_path / "b" / "mapping.json").read_bytes()
    assert (tmp_path / "a" / "report.md").read_text() == (tmp_path / "b" / "report.md").read_text()


def test_options_reach_the_mapping(inputs, tmp_path, capsys):
    model, chip = inputs
    out = tmp_path / "out"
    args = ["compile", str(model), "--chip", str(chip), "--out", str(out), "--no-fault-aware"]
    assert main([*args, "--clip-percentile", "99.5", "--placement", "ir-aware"]) == 0
    doc = json.loads((out / "mapping.json").read_text())
    assert doc["options"] == {"clip_percentile": 99.5, "fault_aware": False, "placement": "ir-aware"}
    for block in doc["blocks"]:
        assert block["rows"] == list(range(len(block["rows"])))
        assert block["columns"] == list(range(len(block["columns"])))
    for layer in doc["layers"]:
        assert layer["fault_error"] == layer["fault_error_in_place"]


def test_compiling_into_a_folder_with_an_earlier_mapping_is_refused_without_force(inputs, tmp_path, capsys):
    model, chip = inputs
    out = tmp_path / "out"
    out.mkdir()
    (out / "mapping.json").write_text("old")
    (out / "notes.txt").write_text("mine")
    assert main(["compile", str(model), "--chip", str(chip), "--out", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"--out {out}: holds the files of an earlier run (mapping.json); give --force" in line, line
    assert (out / "mapping.json").read_text() == "old" and sorted(p.name for p in out.iterdir()) == [
        "mapping.json",
        "notes.txt",
    ]


def test_compiling_into_an_existing_folder_with_force_replaces_the_outputs(inputs, tmp_path, capsys):
    model, chip = inputs
    out = tmp_path / "out"
    out.mkdir()
    (out / "mapping.json").write_text("old")
    (out / "notes.txt").write_text("mine")
    assert main(["compile", str(model), "--chip", str(chip), "--out", str(out), "--force"]) == 0
    assert json.loads((out / "mapping.json").read_text())["format"] == "crossbar-mapping/1"
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS | {"notes.txt"})


def _save(arrays: dict):
    return lambda path: np.savez(path, **arrays)


def _corrupt(path):
    np.savez_compressed(path, **weights())
    data = bytearray(path.read_bytes())
    for i in range(600, 800):  # inside the first array's compressed data: a zlib error
        data[i] ^= 0x55
    path.write_bytes(bytes(data))


def _truncate(path):
    np.savez(path, **weights())
    path.write_bytes(path.read_bytes()[:300])


BAD_MODELS = {
    "missing": (lambda path: None, "cannot read the weights (No such file or directory)"),
    "truncated": (_truncate, "cannot read the weights (not a readable .npz archive)"),
    "corrupt": (_corrupt, "cannot read the weights (not a readable .npz archive)"),
    "text": (lambda path: path.write_text("fc1: [1, 2]\n"), "cannot read the weights"),
    "npy": (
        lambda path: (
            np.save(path.with_suffix(".npy"), np.ones((2, 2))) or path.with_suffix(".npy").rename(path)
        ),
        "a single .npy array, not a .npz archive",
    ),
    "empty": (_save({}), "expected at least one weight array, found none"),
    "strings": (_save({"fc": np.array([["a", "b"]])}), "fc: expected a real-valued dense weight"),
    "booleans": (_save({"fc": np.ones((2, 2), bool)}), "fc: expected a real-valued dense weight"),
    "complex": (_save({"fc": np.ones((2, 2), complex)}), "fc: expected a real-valued dense weight"),
    "3-D": (_save({"fc": np.ones((2, 3, 4))}), "got shape (2, 3, 4)"),
    "1-D": (_save({"fc": np.ones(4)}), "got shape (4,)"),
    "empty axis": (_save({"fc": np.ones((0, 3))}), "got shape (0, 3)"),
    "NaN": (_save({"ok": np.ones((2, 2)), "fc": np.array([[1.0, np.nan]])}), "fc: expected finite weights"),
    "inf": (_save({"fc": np.array([[np.inf, 1.0]])}), "fc: expected finite weights"),
    "mvms float": (
        _save({"fc": np.ones((2, 2)), "mvms/fc": np.asarray(2.5)}),
        "mvms/fc: expected one integer",
    ),
    "mvms zero": (
        _save({"fc": np.ones((2, 2)), "mvms/fc": np.asarray(0)}),
        "mvms/fc: expected one integer >= 1",
    ),
    "mvms vector": (_save({"fc": np.ones((2, 2)), "mvms/fc": np.arange(2)}), "mvms/fc: expected one integer"),
    "mvms orphan": (_save({"fc": np.ones((2, 2)), "mvms/fc2": np.asarray(3)}), "no weight array named 'fc2'"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_a_bad_model_is_one_line_naming_the_file_and_array(case, inputs, tmp_path, capsys):
    write, message = BAD_MODELS[case]
    model = tmp_path / "model.npz"
    write(model)
    out = tmp_path / "out"
    assert main(["compile", str(model), "--chip", str(inputs[1]), "--out", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{model}: " in line and message in line, line
    assert not out.exists()


@pytest.mark.slow
def test_a_network_that_does_not_fit_says_how_many_tiles_it_needs(inputs, tmp_path):
    # 4 tiles of 32 x 32 (16 outputs each); 200 x 64 makes 7 x 4 blocks of 29 x 16, one per tile; the
    # small block goes below the first.
    model = tmp_path / "big.npz"
    np.savez(model, big=np.ones((200, 64)), small=np.ones((3, 2)))
    out = tmp_path / "out"
    result = run_cli("compile", str(model), "--chip", str(inputs[1]), "--out", str(out))
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert str(model) in line and "29 weight blocks need 28 tiles" in line and "the chip has 4" in line, line
    assert not out.exists()


def _profile_edit(edit):
    def write(path, chip):
        data = yaml.safe_load(chip.read_text())
        edit(data)
        path.write_text(yaml.safe_dump(data))

    return write


BAD_PROFILES = {
    "missing": (lambda path, chip: None, "cannot read the file"),
    "not YAML": (lambda path, chip: path.write_text("chip: [\n"), "not valid YAML"),
    "no tiles": (
        _profile_edit(lambda d: d["geometry"].update(tiles=0)),
        "geometry.tiles: expected an integer",
    ),
    "bad scheme": (
        _profile_edit(lambda d: d["geometry"].update(scheme="triple")),
        "geometry.scheme: expected one of",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PROFILES))
def test_a_bad_profile_is_one_line_naming_the_file_and_field(case, inputs, tmp_path, capsys):
    write, message = BAD_PROFILES[case]
    chip = tmp_path / "chip.yaml"
    write(chip, inputs[1])
    out = tmp_path / "out"
    assert main(["compile", str(inputs[0]), "--chip", str(chip), "--out", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{chip}: " in line and message in line, line
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "150", "-5", "nan"])
def test_a_clip_percentile_outside_0_to_100_is_refused(value, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["compile", str(inputs[0]), "--chip", str(inputs[1]), "--out", str(out)]
    assert main([*args, "--clip-percentile", value]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--clip-percentile: expected a value in (0, 100]" in line, line
    assert not out.exists()


def test_out_being_a_file_is_refused_and_the_file_kept(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    out.write_text("keep me")
    assert main(["compile", str(inputs[0]), "--chip", str(inputs[1]), "--out", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"--out {out}: exists and is not a folder" in line
    assert out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_inside_a_file_is_refused(inputs, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "out"
    assert main(["compile", str(inputs[0]), "--chip", str(inputs[1]), "--out", str(out)]) == 2
    assert f"--out {out}: cannot create the folder" in one_error_line(capsys.readouterr().err)


def test_a_failure_while_building_the_report_writes_nothing(inputs, tmp_path, monkeypatch):
    import crossbar.compiler._output as command

    def fail(*args):
        raise RuntimeError("broken")

    monkeypatch.setattr(command, "report_files", fail)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        compile_to_folder(inputs[0], resolve_hardware(chip=str(inputs[1])), out)
    assert not out.exists() or not any(out.iterdir())


# --- profile ----------------------------------------------------------------------------------------------


def test_profile_synth_validate_show(tmp_path, capsys):
    path = tmp_path / "chip.yaml"
    args = [
        "--technology",
        "pcm",
        "--tiles",
        "3",
        "--rows",
        "8",
        "--cols",
        "9",
        "--scheme",
        "reference_column",
    ]
    assert main(["profile", "synth", *args, "--seed", "7", "-o", str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    profile = calibration.load(path)
    assert profile.geometry == calibration.Geometry(3, 8, 9, "reference_column")
    assert profile.technology == "pcm"
    assert main(["profile", "validate", str(path)]) == 0
    assert f"{path}: valid profile of chip {profile.chip_id}" in capsys.readouterr().out
    assert main(["profile", "show", str(path)]) == 0
    shown = capsys.readouterr().out
    assert profile.chip_id in shown and "3 tiles of 8 rows x 9 device columns" in shown
    tile_lines = [line.split()[0] for line in shown.splitlines()[-3:]]
    assert tile_lines == ["0", "1", "2"]


def test_profile_synth_follows_the_seed(tmp_path, capsys):
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        args = ["--tiles", "2", "--rows", "8", "--cols", "8", "--p-off", "0.2"]
        assert main(["profile", "synth", *args, "--seed", seed, "-o", str(tmp_path / f"{name}.yaml")]) == 0
    a, b, c = (calibration.load(tmp_path / f"{n}.yaml") for n in "abc")
    np.testing.assert_array_equal(a.tiles[1].stuck, b.tiles[1].stuck)
    assert not np.array_equal(a.tiles[1].stuck, c.tiles[1].stuck)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tiles", "0"], "tiles: expected an integer >= 1, got 0"),
        (["--rows", "-3"], "rows: expected an integer >= 1, got -3"),
        (["--p-off", "2"], "p_off, p_on: expected rates >= 0 with p_off + p_on <= 1"),
        (["--p-on", "-0.1"], "p_off, p_on: expected rates >= 0"),
    ],
)
def test_profile_synth_refuses_bad_options_and_writes_nothing(args, message, tmp_path, capsys):
    path = tmp_path / "chip.yaml"
    assert main(["profile", "synth", *args, "-o", str(path)]) == 2
    assert message in one_error_line(capsys.readouterr().err)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("action", ["validate", "show"])
def test_profile_validate_and_show_name_the_bad_file(action, tmp_path, capsys):
    path = tmp_path / "chip.yaml"
    assert main(["profile", action, str(path)]) == 2
    assert f"{path}: cannot read the file" in one_error_line(capsys.readouterr().err)
    path.write_text(yaml.safe_dump({"version": 1, "chip": {"id": "x", "technology": "memristor"}}))
    assert main(["profile", action, str(path)]) == 2
    assert f"{path}: chip.technology: expected one of" in one_error_line(capsys.readouterr().err)


@pytest.mark.slow
def test_profile_fit_writes_a_profile_of_the_measured_chip(tmp_path, capsys):
    truth = calibration.synthesize("rram", 1, seed=2, rows=8, cols=8, p_off=0.2)
    measurements = tmp_path / "meas.npz"
    calibration.save_measurements(calibration.simulate_measurements(truth, seed=3, t_drift=()), measurements)
    path = tmp_path / "fitted.yaml"
    assert main(["profile", "fit", str(measurements), "-o", str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    fitted = calibration.load(path)
    assert fitted.geometry == truth.geometry
    np.testing.assert_array_equal(fitted.tiles[0].stuck, truth.tiles[0].stuck)


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda path: None, "cannot read the file"),
        (lambda path: path.write_text("not an archive"), "not a .npz archive"),
    ],
    ids=["missing", "not npz"],
)
def test_profile_fit_names_a_bad_measurement_file(write, message, tmp_path, capsys):
    measurements = tmp_path / "meas.npz"
    write(measurements)
    assert main(["profile", "fit", str(measurements), "-o", str(tmp_path / "fitted.yaml")]) == 2
    assert f"{measurements}: {message}" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "fitted.yaml").exists()
