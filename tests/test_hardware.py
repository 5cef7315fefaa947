"""Hardware files: the presets, load/save/show round trips, --hardware and --set on every command, the
hardware a result records (it reproduces the run bit for bit), and bad input as one line."""

import dataclasses
import json

import equinox as eqx
import hypothesis.strategies as st
import pytest
import yaml
from conftest import digits_mlp, one_error_line
from hypothesis import HealthCheck, given, settings

import calibration
import device_models as dm
from crossbar import ADC, DAC, Crossbar, Periphery, WeightMapping, load_hardware, save_hardware
from crossbar.cli import main
from crossbar.hardware import PRESET_DOCUMENTS, PRESETS, Chip, document_of, hardware_yaml, resolve_hardware
from crossbar.training import mlp_onnx_bytes


def same(a, b) -> bool:
    return bool(eqx.tree_equal(a, b))


# --- presets ----------------------------------------------------------------------------------------------


def test_every_preset_says_what_it_is_and_its_file_is_complete():
    assert list(PRESETS)[0] == "aihwkit-pcm"
    for name, document in PRESET_DOCUMENTS.items():
        assert document["name"] == name and document["description"]
        complete = document_of(PRESETS[name], {k: document[k] for k in ("name", "description", "sources")})
        assert complete == document  # every default filled in: show prints the file as it is


def test_the_aihwkit_presets_hold_aihwkits_numbers():
    """aihwkit's InferenceRPUConfig defaults and its StandardHWATrainingPreset (docs/models.md 5.3)."""
    pcm, hwa, hermes = PRESETS["aihwkit-pcm"], PRESETS["aihwkit-hwa"], PRESETS["hermes-pcm"]
    assert (pcm.periphery.dac.bits, pcm.periphery.adc.bits, float(pcm.periphery.adc.bound)) == (7, 9, 12.0)
    assert float(pcm.periphery.output_noise) == pytest.approx(0.06)
    assert (hwa.periphery.dac.bits, hwa.periphery.adc.bits, float(hwa.periphery.adc.bound)) == (8, 8, 10.0)
    assert float(hwa.periphery.output_noise) == pytest.approx(0.04)
    assert float(hwa.periphery.weight_noise) == pytest.approx(0.0175)
    assert hwa.periphery.weight_noise_type == "pcm_read" and hwa.periphery.bound_management == "none"
    assert isinstance(hermes.device, dm.HermesPCM) and (hermes.tile_rows, hermes.tile_cols) == (256, 256)
    assert float(hermes.device.g_max) == pytest.approx(20.7) and float(hermes.device.t0) == 300.0


# --- round trips ------------------------------------------------------------------------------------------

_devices = st.one_of(
    st.builds(
        dm.PCM,
        g_max=st.floats(5.0, 50.0),
        drift_scale=st.floats(0.0, 3.0),
        read_noise_scale=st.floats(0.0, 3.0),
        levels=st.sampled_from([0, 16]),
        time_semantics=st.sampled_from(["snapshot", "trajectory"]),
    ),
    st.builds(dm.RRAM, prog_noise_scale=st.floats(0.0, 2.0), faults=st.none()),
    st.builds(dm.HermesPCM, devices_per_weight=st.just(2), drift_scale=st.floats(0.0, 2.0)),
    st.builds(dm.Ideal, faults=st.builds(dm.StuckAtFaults, p_off=st.floats(0, 0.2), p_on=st.floats(0, 0.2))),
)
_peripheries = st.builds(
    Periphery,
    dac=st.builds(DAC, bits=st.one_of(st.none(), st.integers(2, 12)), v_read=st.floats(0.05, 1.0)),
    adc=st.builds(ADC, bits=st.one_of(st.none(), st.integers(2, 14)), bound=st.floats(1.0, 100.0)),
    output_noise=st.floats(0.0, 0.2),
    noise_management=st.sampled_from(["none", "abs_max", "fixed"]),
    bound_management=st.sampled_from(["none", "iterative"]),
    weight_noise=st.floats(0.0, 0.1),
    weight_noise_type=st.sampled_from(["additive", "pcm_read"]),
)
_crossbars = st.builds(
    Crossbar,
    device=_devices,
    periphery=_peripheries,
    mapping=st.builds(
        WeightMapping,
        scheme=st.sampled_from(["differential", "reference_column"]),
        clip_percentile=st.one_of(st.none(), st.floats(50.0, 100.0)),
    ),
    tile_rows=st.integers(1, 1024),
    tile_cols=st.integers(1, 512),
    r_row=st.one_of(st.none(), st.floats(0.0, 10.0)),
    r_col=st.one_of(st.none(), st.floats(0.0, 10.0)),
    ir_drop=st.sampled_from(["exact", "none"]),  # approximate: test_the_ir_drop_model_round_trips
    drift_compensation=st.sampled_from(["none", "global", "per_column"]),
    column_correction=st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(crossbar=_crossbars)
def test_save_load_and_show_round_trip_exactly(crossbar, tmp_path_factory, capsys):
    path = tmp_path_factory.mktemp("hw") / "hw.yaml"
    save_hardware(crossbar, path, {"name": "random"})
    assert same(load_hardware(path), crossbar)
    assert main(["hardware", "show", str(path)]) == 0
    assert capsys.readouterr().out == path.read_text()  # show of a complete file is the file


def test_the_ir_drop_model_round_trips(tmp_path):
    wired = dataclasses.replace(PRESETS["aihwkit-pcm"], r_row=1.0, r_col=0.5, ir_drop="approximate")
    save_hardware(wired, tmp_path / "hw.yaml")
    assert "ir_drop: approximate" in (tmp_path / "hw.yaml").read_text()
    assert same(load_hardware(tmp_path / "hw.yaml"), wired)


def test_a_chip_round_trips_with_its_settings(tmp_path):
    calibration.save(calibration.synthesize("rram", 2, 0, rows=32, cols=32), tmp_path / "chip.yaml")
    resolved = resolve_hardware(chip=str(tmp_path / "chip.yaml"))
    chip = resolved.hardware
    chip = chip.with_setting(("device", "read_noise_scale"), 1.5)
    chip = chip.with_setting(("periphery", "output_noise"), 0.1)
    save_hardware(chip, tmp_path / "hw.yaml")
    loaded = load_hardware(tmp_path / "hw.yaml")
    assert isinstance(loaded, Chip) and loaded.device_settings == (("read_noise_scale", 1.5),)
    assert same(loaded.periphery, chip.periphery) and loaded.profile.chip_id == chip.profile.chip_id
    assert float(loaded.base().device.read_noise_scale) == 1.5


# --- --set ------------------------------------------------------------------------------------------------


def test_set_changes_the_named_parameters_only():
    resolved = resolve_hardware(
        "aihwkit-pcm",
        settings=[
            ("--set a", "adc.bits", 6),
            ("--set b", "wire.r_row", 1.0),
            ("--set c", "device.drift_scale", 0.5),
        ],
    )
    preset = PRESETS["aihwkit-pcm"]
    expected = dataclasses.replace(
        preset,
        periphery=dataclasses.replace(preset.periphery, adc=ADC(bits=6)),
        device=dataclasses.replace(preset.device, drift_scale=0.5),
        r_row=1.0,
    )
    assert same(resolved.hardware, expected)
    assert resolved.document["adc"]["bits"] == 6 and resolved.document["wire"]["r_row"] == 1.0
    assert resolved.document["name"] == "aihwkit-pcm with adc.bits=6, wire.r_row=1.0, device.drift_scale=0.5"


# --- the CLI ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "mlp.onnx"
    path.write_bytes(mlp_onnx_bytes(digits_mlp((16,))))
    return path


def estimate(model, out, *options: str) -> dict:
    argv = ["estimate", str(model), "--data", "digits[1200:1400]", "--times", "1s,1d", "--trials", "2"]
    assert main([*argv, "--json", str(out), *options]) == 0
    return json.loads(out.read_text())


@pytest.mark.slow
def test_a_results_hardware_reproduces_the_run_bit_for_bit(model, tmp_path, capsys):
    """``hardware show RESULT.json`` gives a file; estimating with it gives the same numbers."""
    first = estimate(model, tmp_path / "first.json", "--hardware", "aihwkit-pcm", "--set", "adc.bits=7",
                     "--set", "device.drift_scale=1.5", "--set", "periphery.output_noise=0.1")  # fmt: skip
    capsys.readouterr()
    assert main(["hardware", "show", str(tmp_path / "first.json")]) == 0
    (tmp_path / "hw.yaml").write_text(capsys.readouterr().out)
    again = estimate(model, tmp_path / "again.json", "--hardware", str(tmp_path / "hw.yaml"))
    assert [r["trials"] for r in again["rows"]] == [r["trials"] for r in first["rows"]]
    assert again["config"]["hardware"]["device"] == first["config"]["hardware"]["device"]


@pytest.mark.slow
def test_an_edited_file_and_set_give_the_same_hardware(model, tmp_path, capsys):
    """The README's example: show a preset, edit one line, estimate; and the same with --set."""
    assert main(["hardware", "show", "aihwkit-pcm"]) == 0
    text = capsys.readouterr().out.replace("  bits: 9\n", "  bits: 6\n")  # the ADC's bits
    (tmp_path / "hw.yaml").write_text(text)
    edited = estimate(model, tmp_path / "edited.json", "--hardware", str(tmp_path / "hw.yaml"))
    set_ = estimate(model, tmp_path / "set.json", "--set", "adc.bits=6")
    assert edited["config"]["hardware"]["adc"]["bits"] == 6
    assert [r["trials"] for r in edited["rows"]] == [r["trials"] for r in set_["rows"]]


def test_hardware_list_show_and_validate(tmp_path, capsys):
    assert main(["hardware", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)
    assert "Rasch et al." in lines[1] and "Le Gallo et al." in lines[2]
    assert main(["hardware", "show", "hermes-pcm"]) == 0
    shown = capsys.readouterr().out
    assert shown == hardware_yaml(PRESET_DOCUMENTS["hermes-pcm"])
    (tmp_path / "hw.yaml").write_text(shown)
    assert main(["hardware", "validate", str(tmp_path / "hw.yaml")]) == 0
    assert "valid hardware: HermesPCM devices on tiles of 256 x 256" in capsys.readouterr().out
    assert yaml.safe_load(shown)["device"]["model"] == "HermesPCM"


def test_compile_records_the_chips_hardware(model, tmp_path, capsys):
    calibration.save(calibration.synthesize("pcm", 2, 0, rows=64, cols=64), tmp_path / "chip.yaml")
    argv = ["compile", str(model), "--chip", str(tmp_path / "chip.yaml"), "--out", str(tmp_path / "out")]
    assert main([*argv, "--set", "periphery.output_noise=0.02"]) == 0
    recorded = json.loads((tmp_path / "out" / "mapping.json").read_text())["hardware"]
    assert recorded["periphery"]["output_noise"] == 0.02 and recorded["chip"]["sha256"]
    assert "periphery.output_noise" in (tmp_path / "out" / "report.md").read_text()
    chip = load_hardware(tmp_path / "out" / "mapping.json")
    assert isinstance(chip, Chip) and float(chip.periphery.output_noise) == pytest.approx(0.02)


# --- bad input --------------------------------------------------------------------------------------------

BAD_SETS = {
    "unknown path": (["--set", "adc.bitz=6"], "--set adc.bitz=6: unknown parameter 'adc.bitz'"),
    "not PATH=VALUE": (["--set", "adc.bits"], "--set adc.bits: expected PATH=VALUE"),
    "wrong type": (["--set", "adc.bits=six"], "--set adc.bits=six: expected int, got 'six'"),
    "out of range": (["--set", "periphery.output_noise=-1"], "--set periphery.output_noise=-1: "),
    "component": (["--set", "device=3"], "--set device=3: 'device' is a component"),
    "negative wire": (
        ["--set", "wire.r_row=-1"],
        "--set wire.r_row=-1: r_row: expected a finite number >= 0",
    ),
    "infinite wire": (["--set", "wire.r_col=inf"], "--set wire.r_col=inf: expected a finite number"),
    "ir drop model": (["--set", "ir_drop=fast"], "--set ir_drop=fast: ir_drop: expected one of exact"),
    "approximate where inputs bend": (
        ["--set", "dac.encoding=amplitude", "--set", "device.iv_b=2", "--set", "wire.r_row=1"]
        + ["--set", "ir_drop=approximate"],
        "--set ir_drop=approximate: ir_drop: the approximate model is defined for linear devices",
    ),
    "unknown hardware": (["--hardware", "tpu"], "--hardware: 'tpu' is not a preset"),
}


@pytest.mark.parametrize("case", BAD_SETS.values(), ids=BAD_SETS)
def test_bad_hardware_options_are_one_line_and_exit_2(case, model, tmp_path, capsys):
    options, message = case
    out = tmp_path / "e.json"
    argv = ["estimate", str(model), "--data", "digits", "--json", str(out), *options]
    assert main(argv) == 2
    assert message in one_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_preset_and_hardware_together_are_a_usage_error(model, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["estimate", str(model), "--data", "digits", "--preset", "rram", "--hardware", "ideal"])
    assert caught.value.code == 2
    line = one_error_line(capsys.readouterr().err, prefix="crossbar estimate: error: ")
    assert "--hardware" in line and "--preset" in line and "not allowed" in line


def test_set_on_what_a_chips_profile_fixes_is_refused(model, tmp_path, capsys):
    calibration.save(calibration.synthesize("rram", 2, 0, rows=64, cols=64), tmp_path / "chip.yaml")
    for path in ("tile.rows=32", "wire.r_row=1", "device.g_max=50", "mapping.scheme=reference_column"):
        argv = [
            "estimate",
            str(model),
            "--data",
            "digits",
            "--chip",
            str(tmp_path / "chip.yaml"),
            "--set",
            path,
        ]
        assert main(argv) == 2
        assert f"--set {path}: the chip's profile fixes it" in one_error_line(capsys.readouterr().err)


MALFORMED = {
    "not a mapping": ("- 1\n", "expected a mapping"),
    "unknown section": ("dac: {bits: 7}\nfoo: 1\n", "foo: unknown field"),
    "dac bits": ("dac: {bits: x}\n", "dac.bits: expected an integer or null, got 'x'"),
    "adc bound": ("adc: {bound: -1}\n", "adc.bound: expected"),
    "periphery": ("periphery: {output_noise: .nan}\n", "periphery.output_noise: expected a finite number"),
    "tile rows": ("tile: {rows: 0}\n", "tile.rows: expected an integer >= 1"),
    "wire": ("wire: {r_row: -1.0}\n", "wire.r_row: expected"),
    "wire nan": ("wire: {r_col: .nan}\n", "wire.r_col: expected a finite number"),
    "wire inf": ("wire: {r_row: .inf}\n", "wire.r_row: expected a finite number"),
    "ir drop model": ("ir_drop: fast\n", "ir_drop: expected one of exact, approximate, none"),
    "approximate ir drop where inputs bend": (
        "device: {model: PCM, iv_b: 2.0}\ndac: {encoding: amplitude}\nwire: {r_row: 1.0}\n"
        "ir_drop: approximate\n",
        "ir_drop: the approximate model is defined for linear devices",
    ),
    "device field": ("device: {model: PCM, g_max: -5}\n", "device.g_max: expected"),
    "device model": ("device: {model: FeFET}\n", "device.model: expected one of"),
    "drift compensation": ("drift_compensation: sometimes\n", "drift_compensation: expected one of"),
    "dac in periphery": ("periphery: {dac: {bits: 7}}\n", "periphery.dac: give the dac as a section"),
    "chip with tiles": ("chip: c.yaml\ntile: {rows: 4}\n", "tile: unknown field (a chip's profile fixes"),
    "not YAML": ("a: [\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED)
def test_a_malformed_hardware_file_is_one_line_naming_the_file_and_field(case, tmp_path, capsys):
    text, message = case
    (tmp_path / "hw.yaml").write_text(text)
    assert main(["hardware", "validate", str(tmp_path / "hw.yaml")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{tmp_path / 'hw.yaml'}: " in line and message in line


def test_a_chip_whose_profile_changed_since_the_record_is_refused(tmp_path):
    calibration.save(calibration.synthesize("rram", 1, 0, rows=16, cols=16), tmp_path / "chip.yaml")
    save_hardware(resolve_hardware(chip=str(tmp_path / "chip.yaml")).hardware, tmp_path / "hw.yaml")
    calibration.save(calibration.synthesize("rram", 1, 1, rows=16, cols=16), tmp_path / "chip.yaml")
    with pytest.raises(ValueError, match="chip.sha256: the profile .* has changed"):
        load_hardware(tmp_path / "hw.yaml")


# --- sweeps -----------------------------------------------------------------------------------------------


def write_spec(folder, model, **fields):
    spec = {"model": str(model), "data": "digits[1200:1300]", "axes": {"device.drift_scale": [0.5, 1.0]}}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump({**spec, **fields}))
    return path


def test_a_sweep_takes_a_hardware_file_beside_it_and_settings(model, tmp_path):
    from crossbar.sweeps import load_spec

    save_hardware(PRESETS["rram"], tmp_path / "hw.yaml", {"name": "my rram"})
    spec = load_spec(write_spec(tmp_path, model, hardware="hw.yaml", set={"adc.bits": 6}))
    assert spec.hardware.hardware.periphery.adc.bits == 6
    assert isinstance(spec.hardware.hardware.device, dm.RRAM)
    assert spec.hardware.document["name"] == "my rram with adc.bits=6"


BAD_SPECS = {
    "unknown set path": ({"set": {"adc.bitz": 6}}, "set.adc.bitz: unknown parameter"),
    "set not a mapping": ({"set": ["adc.bits=6"]}, "set: expected a mapping"),
    "hardware and preset": ({"hardware": "rram", "preset": "ideal"}, "preset: give either hardware"),
    "unknown hardware": ({"hardware": "tpu"}, "hardware: 'tpu' is not a preset"),
}


@pytest.mark.parametrize("case", BAD_SPECS.values(), ids=BAD_SPECS)
def test_bad_hardware_fields_of_a_spec_are_one_line(case, model, tmp_path, capsys):
    fields, message = case
    spec = write_spec(tmp_path, model, **fields)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert f"{spec}: {message}" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()
