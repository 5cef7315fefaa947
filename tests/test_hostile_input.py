"""Hostile but fair input to every command, by the class of failure it used to cause: a traceback (what
``validate`` accepted, the command could not run), silence (minutes of work before a word), a wrong success
(a file written over another, a range clipped without a word), a broken one-line contract (a temporary file
named, warnings before the error, files left behind). Each now ends in one line on stderr and exit code 2
before any work, or runs. Concurrent sweeps and their store: ``test_sweep_store.py``; random inputs:
``test_fuzz.py``."""

import time
import warnings
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
import yaml
from conftest import digits_mlp, one_error_line
from onnx import helper, numpy_helper

import calibration
import crossbar.cli._estimate as estimate_command
import crossbar.sweeps._sweep as sweep_command
import emulator_common.memory
from crossbar.cli import main
from crossbar.estimation import AccuracyEstimate
from crossbar.sweeps import chunks_of, load_spec, sweep_inputs
from crossbar.training import mlp_onnx_bytes
from emulator_common.atomic_write import atomic_write

GIANT = "geometry: a chip of 65536 tiles of 4096 x 4096 needs about 1,024 GiB for its stuck-cell masks"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 64-16-10 MLP, the same with a NaN, an infinite or a float32-overflowing weight, a model without
    matrix products, a small chip, and profiles of a giant chip and of a large one."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "mlp.onnx").write_bytes(mlp_onnx_bytes(digits_mlp((16,))))
    for name, value, dtype in (
        ("nan", np.nan, np.float32),
        ("inf", np.inf, np.float32),
        ("huge", 1e300, float),
    ):
        model = onnx.load(folder / "mlp.onnx")
        weight = numpy_helper.to_array(model.graph.initializer[0]).astype(dtype)
        weight.flat[3] = value
        model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weight, model.graph.initializer[0].name))
        onnx.save(model, folder / f"{name}.onnx")
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 64])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 64])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), folder / "relu.onnx")
    calibration.save(calibration.synthesize("rram", 2, seed=0, rows=64, cols=128), folder / "chip.yaml")
    document = {
        "version": 1,
        "chip": {"id": "giant", "technology": "pcm", "date": "2026-01-01"},
        "geometry": {"tiles": 65536, "rows": 4096, "cols": 4096},
        "peripherals": {
            "dac": {"bits": 7, "energy_pj": 0.05, "time_ns": 1, "area_um2": 20},
            "adc": {"bits": 9, "energy_pj": 2, "time_ns": 10, "area_um2": 2000},
        },
    }
    (folder / "giant.yaml").write_text(yaml.safe_dump(document))
    document["geometry"] = {"tiles": 256, "rows": 1024, "cols": 1024}  # 0.25 GiB of masks
    (folder / "large.yaml").write_text(yaml.safe_dump(document))
    return SimpleNamespace(**{p.stem: p for p in folder.iterdir()}, folder=folder)


@pytest.fixture
def no_monte_carlo(monkeypatch):
    """The estimator and the sweep's chunks record their calls and answer at once."""
    calls = []

    def estimate(apply, params, x, y, hardware, times, trials, seed, **options):
        calls.append(len(x))
        return AccuracyEstimate(0.5, tuple(times), np.full((trials, len(times)), 0.5), 0.01)

    def chunk(inputs, points):
        calls.append(list(points))
        return [
            {"point": i, **p, "trial": k, "t_s": t, "accuracy": 0.5, "output_error": 0.1}
            for i, p in points.items()
            for k in range(inputs.trials)
            for t in inputs.times
        ]

    monkeypatch.setattr(estimate_command, "estimate_accuracy", estimate)
    monkeypatch.setattr(sweep_command, "run_chunk", chunk)
    return calls


def refused(argv, capsys) -> str:
    """The command exits with code 2 and one line on stderr; returns the line."""
    assert main([str(a) for a in argv]) == 2
    return one_error_line(capsys.readouterr().err)


def spec(folder, model, **fields):
    document = {
        "model": str(model),
        "data": "digits[0:20]",
        "hardware": "aihwkit-pcm",
        "times": ["1s"],
        "trials": 1,
    }
    document |= {"axes": {"device.drift_scale": [0.5, 1.0]}} | fields
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


# --- tracebacks: what validate accepts, the command runs ---------------------------------------------------


@pytest.mark.parametrize("name", ["nan", "inf", "huge"])
def test_a_model_with_a_weight_that_is_not_finite_names_the_initializer(name, files, tmp_path, capsys):
    expected = f"{files.folder / name}.onnx: initializer 'fc1.weight': expected finite values within float32"
    data = ["--data", "digits[0:20]"]
    assert expected in refused(["estimate", getattr(files, name), *data], capsys)
    assert expected in refused(
        ["compile", getattr(files, name), "--chip", files.chip, "--out", tmp_path], capsys
    )
    path = spec(tmp_path, getattr(files, name))
    assert expected in refused(["sweep", path, "--out", tmp_path / "out"], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_a_model_without_matrix_products_is_refused_by_every_command(files, tmp_path, capsys):
    line = refused(["estimate", files.relu, "--data", "digits[0:20]"], capsys)
    assert "relu.onnx: no matrix product with a constant weight (Gemm, MatMul, Conv)" in line
    line = refused(["compile", files.relu, "--chip", files.chip, "--out", tmp_path / "out"], capsys)
    assert "relu.onnx: the network has no matrix product with a constant weight" in line
    line = refused(["sweep", spec(tmp_path, files.relu), "--out", tmp_path / "out"], capsys)
    assert "spec.yaml: model: " in line and "no matrix product" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "model: PCM\nlevels: 100000000000\n",
            "levels: expected an integer <= 16777216 (or 0 for a continuum)",
        ),
        ("model: PCM\ng_max: [1, 2]\n", "g_max: expected one finite number, not a list, got [1, 2]"),
        (
            "model: RRAM\nwrite_verify: {max_pulses: 99999999}\n",
            "write_verify.max_pulses: expected an integer <= 10000",
        ),
    ],
)
def test_a_device_file_the_estimator_cannot_use_is_refused_by_validate_too(
    text, message, files, tmp_path, capsys
):
    path = tmp_path / "device.yaml"
    path.write_text(text)
    assert f"{path}: {message}" in refused(["device", "validate", path], capsys)
    line = refused(["estimate", files.mlp, "--data", "digits[0:20]", "--device", path], capsys)
    assert f"{path}: {message}" in line


@pytest.mark.parametrize(
    "setting, message",
    [
        ("device.levels=100000000000", "expected an integer <= 16777216"),
        ("adc.bits=100", "adc.bits: expected an integer <= 24"),
        ("tile.rows=99999999999", "tile_rows: expected an integer <= 16777216"),
        ("device.g_max=1e300", "expected a finite number within float32's range"),
    ],
)
def test_settings_out_of_their_real_range_are_one_line(setting, message, files, no_monte_carlo, capsys):
    line = refused(["estimate", files.mlp, "--data", "digits[0:20]", "--set", setting], capsys)
    assert line.startswith(f"crossbar: error: --set {setting}: ") and message in line, line
    assert no_monte_carlo == []


def test_a_profile_too_large_for_the_machine_says_how_much_memory_it_needs(files, tmp_path, capsys):
    for action in ("validate", "show"):
        line = refused(["profile", action, files.giant], capsys)
        assert f"{files.giant}: {GIANT}" in line and "; this machine has " in line
    line = refused(["compile", files.mlp, "--chip", files.giant, "--out", tmp_path / "out"], capsys)
    assert GIANT in line
    args = ["--tiles", "65536", "--rows", "4096", "--cols", "4096", "-o", tmp_path / "c.yaml"]
    line = refused(["profile", "synth", *args], capsys)
    assert "--tiles, --rows, --cols: a chip of 65536 tiles of 4096 x 4096 needs about 1,024 GiB" in line
    assert not any(tmp_path.iterdir())


def test_a_compile_or_an_estimate_the_machine_cannot_hold_says_how_much_it_needs(
    files, tmp_path, no_monte_carlo, capsys, monkeypatch
):
    monkeypatch.setattr(emulator_common.memory, "machine_memory", lambda: 2**14)  # holds the chip's masks
    line = refused(["compile", files.mlp, "--chip", files.chip, "--out", tmp_path / "out"], capsys)
    assert (
        "compiling onto 2 tiles of 64 x 128 needs about " in line and "this machine has 1.5e-05 GiB" in line
    )
    argv = ["estimate", files.mlp, "--data", "digits[0:20]", "--set", "tile.rows=1", "--set", "tile.cols=1"]
    line = refused(argv, capsys)
    assert "the model on 1,184 tiles (1,184 tile outputs) needs about " in line
    assert "for each step of examples; this machine has 1.5e-05 GiB" in line
    assert no_monte_carlo == [] and not any(tmp_path.iterdir())


def test_a_billion_chips_are_refused_on_a_chip_and_on_a_preset(files, no_monte_carlo, capsys):
    for hardware in (["--chip", files.chip], ["--hardware", "aihwkit-pcm"]):
        argv = ["estimate", files.mlp, "--data", "digits[0:20]", "--trials", "1000000000", *hardware]
        assert "tile outputs) needs about " in refused(argv, capsys)
    assert no_monte_carlo == []


def test_a_measurement_time_beyond_float32_is_one_line(tmp_path, capsys):
    truth = calibration.synthesize("rram", 1, seed=2, rows=8, cols=8, p_off=0.2)
    calibration.save_measurements(
        calibration.simulate_measurements(truth, seed=3, t_drift=()), tmp_path / "m.npz"
    )
    with np.load(tmp_path / "m.npz") as archive:
        np.savez(tmp_path / "m.npz", **{**archive, "t_measure": np.asarray(1e300)})
    line = refused(["profile", "fit", tmp_path / "m.npz", "-o", tmp_path / "chip.yaml"], capsys)
    assert "m.npz: t_measure: expected a finite time >= 0 s within float32's range, got 1e+300" in line


def test_more_local_workers_than_the_machine_can_run_are_refused(files, tmp_path, capsys):
    argv = ["sweep", spec(tmp_path, files.mlp), "--out", tmp_path / "out", "--scheduler", "local"]
    assert "--workers: expected at most " in refused([*argv, "--workers", "100000"], capsys)


def test_converter_bits_of_a_profile_are_checked_where_the_chip_would_use_them(files, tmp_path, capsys):
    document = yaml.safe_load(files.chip.read_text())
    document["peripherals"]["adc"]["bits"] = 64
    path = tmp_path / "chip.yaml"
    path.write_text(yaml.safe_dump(document))
    assert "peripherals.adc.bits: expected an integer <= 24, got 64" in refused(
        ["profile", "validate", path], capsys
    )


# --- silence: large inputs answer in seconds ---------------------------------------------------------------


def test_showing_a_large_profile_takes_seconds(files, capsys):
    start = time.perf_counter()
    assert main(["profile", "show", str(files.large)]) == 0
    assert time.perf_counter() - start < 10.0
    assert len(capsys.readouterr().out.splitlines()) == 6 + 256


def test_a_sweep_axis_of_10000_values_is_planned_in_seconds(files, tmp_path):
    path = spec(tmp_path, files.mlp, axes={"device.drift_scale": {"start": 0.0, "stop": 2.0, "num": 10000}})
    start = time.perf_counter()
    loaded = load_spec(path)
    assert len(loaded.points) == 10000 and loaded.points[9999] == {"device.drift_scale": 2.0}
    assert time.perf_counter() - start < 2.0
    loaded, inputs = sweep_inputs(path)
    start = time.perf_counter()
    chunks = chunks_of(loaded.points, inputs, 8)
    assert len(chunks) == 1250 and chunks[-1] == list(range(9992, 10000))
    assert time.perf_counter() - start < 10.0


def test_a_sweep_says_what_it_will_run_before_the_first_chunk(files, tmp_path, no_monte_carlo, capsys):
    axes = {"device.drift_scale": {"start": 0.0, "stop": 2.0, "num": 300}}
    path = spec(tmp_path, files.mlp, times=["1s", "1y"], trials=3, batch=100, axes=axes)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 0
    plan = "sweep: 300 points x 3 trials x 2 times = 1,800 rows; 0 points stored, 300 to run in 3 chunks"
    assert plan in capsys.readouterr().err
    assert len(no_monte_carlo) == 3


def test_a_sweep_whose_rows_would_not_fit_in_memory_is_refused(files, tmp_path, capsys):
    path = spec(tmp_path, files.mlp, axes={"device.drift_scale": {"start": 0.0, "stop": 2.0, "num": 10**12}})
    line = refused(["sweep", path, "--out", tmp_path / "out"], capsys)
    assert (
        "axes.device.drift_scale.num: 1,000,000,000,000 points x 1 rows (trials x times) needs about" in line
    )


def test_points_whose_values_bound_each_other_are_checked_together(files, tmp_path, capsys):
    path = spec(tmp_path, files.mlp, axes={"device.g_max": [10.0, 30.0], "device.g_min": [0.0, 15.0]})
    line = refused(["sweep", path, "--out", tmp_path / "out"], capsys)
    assert "axes: point 1 (device.g_max=10.0, device.g_min=15.0): g_max: expected a value above g_min" in line


# --- wrong success: nothing is written over, nothing clipped -----------------------------------------------


@pytest.mark.parametrize(
    "outputs, message",
    [
        (["--json", "{same}", "--plot", "{same}"], "--plot {same}: the same file as --json"),
        (["--json", "{mlp}"], "--json {mlp}: the same file as the input MODEL"),
    ],
)
def test_two_outputs_on_one_path_or_an_output_over_an_input_are_refused(
    outputs, message, files, tmp_path, no_monte_carlo, capsys
):
    names = {"same": tmp_path / "result", "mlp": files.mlp}
    argv = ["estimate", files.mlp, "--data", "digits[0:20]", *(o.format(**names) for o in outputs)]
    assert message.format(**names) in refused(argv, capsys)
    assert no_monte_carlo == [] and not any(tmp_path.iterdir())


def test_a_data_range_beyond_the_data_is_refused(files, no_monte_carlo, capsys):
    line = refused(["estimate", files.mlp, "--data", "mnist[9990:20000]"], capsys)
    assert line == "crossbar: error: --data: [9990:20000] goes beyond the 10000 examples of mnist\n"
    assert no_monte_carlo == []


def test_a_demo_into_an_earlier_demos_folder_is_refused_without_force(tmp_path, capsys):
    (tmp_path / "accuracy.json").write_text("{}")
    line = refused(["demo", "--out", tmp_path], capsys)
    assert f"--out {tmp_path}: holds the files of an earlier run (accuracy.json); give --force" in line


# --- the one-line contract --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["estimate", "{mlp}", "--data", "digits[0:20]", "--json", "{folder}"],
            "--json {folder}: is a folder",
        ),
        (
            ["estimate", "{mlp}", "--data", "digits[0:20]", "--plot", "{folder}"],
            "--plot {folder}: is a folder",
        ),
        (
            ["profile", "synth", "--tiles", "1", "--rows", "64", "--cols", "64", "-o", "{folder}"],
            "-o {folder}: ",
        ),
        (
            ["profile", "synth", "--seed", "-1", "-o", "{folder}/c.yaml"],
            "--seed: expected an integer in [0, 2**32)",
        ),
        (
            ["demo", "--seed", "-1", "--out", "{folder}/demo"],
            "--seed: expected an integer in [0, 2**32), got -1",
        ),
        (
            ["compile", "{mlp}", "--chip", "{chip}", "--out", "{mlp}"],
            "--out {mlp}: exists and is not a folder",
        ),
        (["sweep", "{spec}", "--out", "{mlp}"], "--out {mlp}: exists and is not a folder"),
    ],
)
def test_bad_outputs_and_seeds_name_the_flag_and_the_users_path(
    argv, message, files, tmp_path, no_monte_carlo, capsys
):
    names = {"mlp": files.mlp, "chip": files.chip, "folder": tmp_path, "spec": spec(tmp_path, files.mlp)}
    line = refused([a.format(**names) for a in argv], capsys)
    assert message.format(**names) in line and ".tmp" not in line, line
    assert no_monte_carlo == [] and sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_a_write_that_fails_names_the_file_not_a_temporary_one(tmp_path):
    with pytest.raises(IsADirectoryError) as error, atomic_write(tmp_path) as handle:
        handle.write("x")
    assert error.value.filename == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_profile_that_cannot_be_written_leaves_no_stuck_masks(tmp_path):
    profile = calibration.synthesize("rram", 2, seed=0, rows=64, cols=64)  # 10 % stuck: masks in .npy files
    (tmp_path / "chip.yaml").mkdir()
    with pytest.raises(IsADirectoryError):
        calibration.save(profile, tmp_path / "chip.yaml")
    assert [p.name for p in tmp_path.iterdir()] == ["chip.yaml"]


@pytest.mark.parametrize(
    "command", [["device", "validate"], ["hardware", "validate"], ["profile", "validate"]]
)
def test_a_file_that_is_not_text_is_named(command, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xb6\x00\xffgarbage")
    assert f"{path}: not valid YAML (not UTF-8 text)" in refused([*command, path], capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["device", "validate", "{device}"],
        ["hardware", "validate", "{hardware}"],
        ["estimate", "{mlp}", "--data", "digits[0:20]", "--set", "device.read_noise_scale=1e300"],
        ["estimate", "{mlp}", "--data", "digits[0:20]", "--times", "1e300s"],
    ],
)
def test_values_beyond_float32_give_one_line_and_no_warning(argv, files, tmp_path, no_monte_carlo, capsys):
    (tmp_path / "device.yaml").write_text("model: PCM\nread_noise_scale: 1.0e+300\n")
    (tmp_path / "hardware.yaml").write_text("device: pcm\nperiphery: {output_noise: 1.0e+300}\n")
    names = {"mlp": files.mlp, "device": tmp_path / "device.yaml", "hardware": tmp_path / "hardware.yaml"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        refused([a.format(**names) for a in argv], capsys)
    assert [str(w.message) for w in caught] == []


# --- models the importer cannot run, and data that is not the model's --------------------------------------


def _bad_model(kind: str) -> onnx.ModelProto:
    """A small model that asks what the importer does not support (``kind``)."""
    f = onnx.TensorProto.FLOAT
    w = numpy_helper.from_array(np.ones((64, 10), np.float32), "w")
    if kind == "operator":
        nodes, inits, shape = (
            [helper.make_node("Einsum", ["x", "w"], ["y"], name="mix", equation="nk,kc->nc")],
            [w],
            [64],
        )
    elif kind == "attribute":
        nodes = [
            helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
            helper.make_node("Gelu", ["h"], ["y"], name="act", approximate="fast"),
        ]
        inits, shape = [w], [64]
    elif kind == "data-dependent weight":
        nodes = [
            helper.make_node("ReduceMean", ["x"], ["m"], name="mean", keepdims=0),
            helper.make_node("Mul", ["k", "m"], ["kernel"], name="scale"),
            helper.make_node("Conv", ["x", "kernel"], ["c"], name="conv"),
            helper.make_node("Flatten", ["c"], ["y"], name="flat"),
        ]
        inits, shape = [numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32), "k")], [1, 8, 8]
    else:  # an LSTM over 8 rows of 8 pixels, with peepholes or another activation
        hidden = 4
        attrs = {"activations": ["Relu", "Tanh", "Tanh"]} if kind == "LSTM activation" else {}
        names = ["seq", "W", "R", *(["", "", "", "", "P"] if kind == "LSTM peepholes" else [])]
        nodes = [
            helper.make_node("Transpose", ["x"], ["seq"], name="rows", perm=[1, 0, 2]),
            helper.make_node("LSTM", names, ["", "h"], name="rnn", hidden_size=hidden, **attrs),
            helper.make_node("Squeeze", ["h", "zero"], ["y"], name="last"),
        ]
        inits = [
            numpy_helper.from_array(np.ones((1, 4 * hidden, 8), np.float32), "W"),
            numpy_helper.from_array(np.ones((1, 4 * hidden, hidden), np.float32), "R"),
            numpy_helper.from_array(np.ones((1, 3 * hidden), np.float32), "P"),
            numpy_helper.from_array(np.zeros(1, np.int64), "zero"),
        ]
        shape = [8, 8]
    x = helper.make_tensor_value_info("x", f, ["N", *shape])
    y = helper.make_tensor_value_info("y", f, ["N", "C"])
    graph = helper.make_graph(nodes, "bad", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


@pytest.mark.parametrize(
    "kind, message",
    [
        ("operator", "node 'mix': operator Einsum is not supported (supported: Abs, Add,"),
        ("attribute", "node 'act' (Gelu): approximate 'fast' is not supported"),
        ("LSTM peepholes", "node 'rnn' (LSTM): peepholes (input P) are not supported"),
        ("LSTM activation", "node 'rnn' (LSTM): activations Relu, Tanh, Tanh are not supported"),
        ("data-dependent weight", "node 'conv' (Conv): its weight W is computed from the model input"),
    ],
)
def test_a_model_the_importer_cannot_run_is_one_line_and_nothing_written(
    kind, message, files, tmp_path, capsys
):
    model = tmp_path / "bad.onnx"
    onnx.save(_bad_model(kind), model)
    out = tmp_path / "out"
    out.mkdir()
    estimate = ["estimate", model, "--data", "digits[0:20]", "--json", out / "e.json"]
    assert f"{model}: {message}" in refused([*estimate, "--plot", out / "e.png"], capsys)
    assert message in refused([*estimate, "--per-layer", "--per-layer-plot", out / "l.png"], capsys)
    assert message in refused(["compile", model, "--chip", files.chip, "--out", out / "chip"], capsys)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "data, message",
    [
        ("mnist[0:20]", "mnist: x: expected examples of shape (64,)"),
        ("{npz}", "x: expected examples of shape (64,)"),
    ],
)
def test_data_that_does_not_match_the_models_input_is_one_line_and_nothing_written(
    data, message, files, tmp_path, capsys
):
    np.savez(tmp_path / "images.npz", x=np.zeros((20, 7, 7), np.float32), y=np.zeros(20, np.int64))
    out = tmp_path / "out"
    out.mkdir()
    for extra in (["--plot", out / "e.png"], ["--per-layer", "--per-layer-plot", out / "l.png"]):
        argv = [
            "estimate",
            files.mlp,
            "--data",
            data.format(npz=tmp_path / "images.npz"),
            "--json",
            out / "e.json",
        ]
        assert message in refused([*argv, *extra], capsys)
    assert list(out.iterdir()) == []
