"""Hostile inputs at random: mutated device files, hardware files, profiles and sweep specs, and random
command-line flags, each through ``crossbar.cli.main``. Every run ends with exit 0, or exit 2 and exactly one
line on stderr, within ``TIME_LIMIT`` seconds, and leaves only complete files (or none) in its output folder.

What ``validate`` accepts must run: an accepted device file programs and reads a few devices, an accepted
hardware file programs, reads and multiplies a small matrix, an accepted profile takes a small network's
compile. The Monte Carlo of ``estimate`` and ``sweep`` is replaced by a stub that answers at once (hostile
input is refused before it, and the estimator has tests of its own), so that a run takes seconds.

The fast tier tries a few inputs of each kind, the slow tier many; the session's summary prints how many
inputs were tried (``conftest.INPUTS_TRIED``).
"""

import copy
import io
import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import pytest
import yaml
from _mutations import mutate
from conftest import INPUTS_TRIED, digits_mlp, one_error_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calibration
import crossbar.cli._estimate as estimate_command
import crossbar.cli._train as train_command
import crossbar.sweeps._sweep as sweep_command
import device_models as dm
from crossbar.cli import main
from crossbar.estimation import AccuracyEstimate, LayerEstimate, PerLayerEstimate
from crossbar.hardware import PRESET_DOCUMENTS, hardware_yaml, load_hardware
from crossbar.networks import products_of
from crossbar.training import TrainingHistory, mlp_onnx_bytes

TIME_LIMIT = 20.0  # s per run, on a loaded 2-core machine; a hang would take minutes
FAST = settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=60)
PNG_END = b"IEND\xaeB`\x82"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 64-16-10 MLP (ONNX), a 2-layer weight archive and the small chip both fit on."""
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "mlp.onnx").write_bytes(mlp_onnx_bytes(digits_mlp((16,))))
    rng = np.random.default_rng(0)
    np.savez(folder / "net.npz", fc1=rng.normal(0, 0.2, (6, 3)), fc2=rng.normal(0, 0.2, (3, 2)))
    chip = calibration.synthesize("rram", 2, seed=0, rows=64, cols=128)
    calibration.save(chip, folder / "chip.yaml")
    return SimpleNamespace(mlp=folder / "mlp.onnx", net=folder / "net.npz", chip=folder / "chip.yaml")


@pytest.fixture
def cli(request, capsys, monkeypatch):
    """``cli(argv, out=None)``: run the command, check the contract, count the input; returns (code, stdout).
    The Monte Carlo of estimate and sweep answers at once."""
    monkeypatch.setattr(estimate_command, "estimate_accuracy", _instant_estimate)
    monkeypatch.setattr(estimate_command, "estimate_per_layer", _instant_per_layer)
    monkeypatch.setattr(sweep_command, "run_chunk", _instant_chunk)
    monkeypatch.setattr(train_command, "estimate_accuracy", _instant_estimate)
    monkeypatch.setattr(train_command, "train_hardware_aware", _instant_training)
    stash = request.config.stash

    def run(argv: list[str], out: Path | None = None) -> tuple[int, str]:
        stash[INPUTS_TRIED] = stash.get(INPUTS_TRIED, 0) + 1
        capsys.readouterr()
        start = time.perf_counter()
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code
        seconds = time.perf_counter() - start
        captured = capsys.readouterr()
        assert code in (0, 2), (argv, code, captured.err)
        if code == 2:  # argparse's usage errors name the subcommand: "crossbar estimate: error: ..."
            assert ": error: " in one_error_line(captured.err, prefix="crossbar"), captured.err
        assert seconds < TIME_LIMIT, (argv, seconds)
        if out is not None:
            assert_complete(out)
        return code, captured.out

    return run


def _instant_estimate(apply, params, x, y, hardware, times, trials, seed, **options):
    return AccuracyEstimate(0.5, tuple(times), np.full((trials, len(times)), 0.5), 0.01)


def _instant_per_layer(apply, params, x, y, hardware, times, trials, seed, **options):
    products = products_of(apply, params, jax.ShapeDtypeStruct(x[:1].shape, jnp.float32))
    layers = [
        LayerEstimate(p.name, i, _instant_estimate(*[None] * 5, times, trials, seed))
        for i, p in enumerate(products)
    ]
    return PerLayerEstimate(0.5, tuple(times), tuple(layers))


def _instant_training(apply, params, x, y, hardware, **options):
    return params, TrainingHistory((1.0,), (0.5,), (0.01,))


def _instant_chunk(inputs, points):
    return [
        {"point": index, **point, "trial": trial, "t_s": t, "accuracy": 0.5, "output_error": 0.1}
        for index, point in points.items()
        for trial in range(inputs.trials)
        for t in inputs.times
    ]


def assert_complete(folder: Path) -> None:
    """Every file under ``folder`` is whole: no temporary files, and each reads as its kind."""
    if not folder.exists():
        return
    for path in folder.rglob("*"):
        if path.is_dir():
            continue
        assert not path.name.endswith(".tmp"), path
        data = path.read_bytes()
        if path.suffix == ".json":
            json.loads(data)
        elif path.suffix == ".jsonl":
            assert data.endswith(b"\n") or not data, path
            for line in data.splitlines():
                json.loads(line)
        elif path.suffix == ".yaml":
            yaml.safe_load(data)
        elif path.suffix == ".onnx":
            onnx.checker.check_model(onnx.load_from_string(data))
        elif path.suffix == ".png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(PNG_END), path
        elif path.suffix in (".npz", ".npy"):
            np.load(io.BytesIO(data), allow_pickle=False)


def _mutated(document, data, folder: Path, name: str) -> Path:
    """``document`` with 1 to 3 random mutations (or its text cut short, or bytes that are not text), as a
    file in ``folder``."""
    path = folder / name
    kind = data.draw(st.sampled_from(["mutate"] * 8 + ["cut", "bytes"]), label="kind")
    if kind == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=64), label="bytes"))
        return path
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if isinstance(document, (dict, list)) and document:
            mutate(document, data.draw)
    text = yaml.safe_dump(document, sort_keys=False)
    if kind == "cut":
        text = text[: data.draw(st.integers(0, len(text)), label="cut at")]
    path.write_text(text)
    return path


# --- device files -----------------------------------------------------------------------------------------

_DEVICE_DOCUMENTS = [
    {"model": type(device).__name__, **dm.to_dict(device)} for device in dm.PRESETS.values()
] + [
    {"model": "PCM", "levels": 16, "faults": {"p_off": 0.01, "p_on": 0.01}, "g_max_spread": 0.05},
    {"model": "RRAM", "write_verify": {"tolerance": 0.02, "max_pulses": 50, "response": {"a_ltp": 0.5}}},
]


def _device_case(cli, data):
    with tempfile.TemporaryDirectory() as folder:
        document = data.draw(st.sampled_from(_DEVICE_DOCUMENTS), label="device")
        path = _mutated(document, data, Path(folder), "device.yaml")
        code, _ = cli(["device", "validate", path])
        if code == 0:
            assert cli(["device", "show", path])[0] == 0
            device = dm.load(path)  # what validate accepted programs and reads a few devices
            state = device.program(jax.random.key(0), jnp.linspace(device.g_min, device.g_max, 6))
            for t in (1.0, 3.15e7):
                assert np.all(np.isfinite(np.asarray(device.read(jax.random.key(1), state, t))))


@FAST
@given(data=st.data())
def test_mutated_device_files_are_accepted_and_run_or_refused_in_one_line(cli, data):
    _device_case(cli, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_many_mutated_device_files(cli, data):
    _device_case(cli, data)


# --- hardware files ---------------------------------------------------------------------------------------


def _hardware_case(cli, data):
    with tempfile.TemporaryDirectory() as folder:
        document = yaml.safe_load(hardware_yaml(data.draw(st.sampled_from(list(PRESET_DOCUMENTS.values())))))
        document["tile"]["rows"] = document["tile"]["cols"] = 4  # small tiles: the check below is quick
        path = _mutated(document, data, Path(folder), "hardware.yaml")
        code, _ = cli(["hardware", "validate", path])
        if code == 0:
            assert cli(["hardware", "show", path])[0] == 0
            hardware = load_hardware(path)  # what validate accepted runs a small matrix
            weights = jnp.asarray(np.random.default_rng(0).normal(0, 0.3, (6, 5)), jnp.float32)
            programmed = hardware.program(jax.random.key(0), weights)
            read = hardware.read(jax.random.key(1), programmed, 3600.0)
            y = hardware.matmul(jax.random.key(2), read, jnp.ones((2, 6)) * 0.5)
            assert y.shape == (2, 5) and np.all(np.isfinite(np.asarray(y)))


@FAST
@given(data=st.data())
@pytest.mark.slow
def test_mutated_hardware_files_are_accepted_and_run_or_refused_in_one_line(cli, data):
    _hardware_case(cli, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_many_mutated_hardware_files(cli, data):
    _hardware_case(cli, data)


# --- profiles ---------------------------------------------------------------------------------------------


def _profile_document() -> dict:
    profile = calibration.synthesize("pcm", 2, seed=0, rows=4, cols=6, p_off=0.1, chip_id="die-7")
    with tempfile.TemporaryDirectory() as folder:
        calibration.save(profile, Path(folder) / "chip.yaml")
        document = yaml.safe_load((Path(folder) / "chip.yaml").read_text())
    document["device"] = {"read_noise_scale": 1.2}
    return document


def _profile_case(cli, files, data, compile_accepted: bool):
    with tempfile.TemporaryDirectory() as folder:
        path = _mutated(_profile_document(), data, Path(folder), "chip.yaml")
        code, _ = cli(["profile", "validate", path])
        assert cli(["profile", "show", path])[0] == code
        if code == 0 and compile_accepted:
            out = Path(folder) / "out"
            cli(["compile", files.net, "--chip", path, "--out", out], out)


@FAST
@given(data=st.data())
def test_mutated_profiles_are_accepted_or_refused_in_one_line(cli, files, data):
    _profile_case(cli, files, data, compile_accepted=False)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_many_mutated_profiles_and_compiles_onto_them(cli, files, data):
    _profile_case(cli, files, data, compile_accepted=True)


# --- sweep specs ------------------------------------------------------------------------------------------


def _spec_document(files) -> dict:
    return {
        "model": str(files.mlp),
        "data": "digits[0:20]",
        "hardware": "ideal",
        "times": ["1s", "1d"],
        "trials": 2,
        "seed": 0,
        "metrics": ["accuracy", "output_error"],
        "batch": 2,
        "axes": {"device.drift_scale": [0.5, 1.0], "adc.bits": {"start": 6, "stop": 8, "num": 2}},
    }


def _spec_case(cli, files, data):
    with tempfile.TemporaryDirectory() as folder:
        path = _mutated(_spec_document(files), data, Path(folder), "spec.yaml")
        out = Path(folder) / "out"
        code, _ = cli(["sweep", path, "--out", out], out)
        if code == 0:  # the same command again resumes: nothing left to run
            assert cli(["sweep", path, "--out", out], out)[0] == 0


@FAST
@given(data=st.data())
def test_mutated_sweep_specs_run_or_are_refused_in_one_line(cli, files, data):
    _spec_case(cli, files, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_many_mutated_sweep_specs(cli, files, data):
    _spec_case(cli, files, data)


# --- command-line flags -----------------------------------------------------------------------------------

_NUMBERS = ["0", "1", "-1", "2", "7", "1e300", "nan", "inf", "-0", "4294967296", "9" * 20, "x", ""]
_PATHS = ["{out}", "{out}/no/r.{suffix}", "{mlp}", "{out}/same", "{out}/r.{suffix}", "{out}/r.{suffix}"]
_SETTINGS = [
    "adc.bits=6",
    "adc.bits=100",
    "adc.bits=1.5",
    "dac.bits=null",
    "device.levels=100000000000",
    "device.g_max=1e300",
    "device.g_max=[1, 2]",
    "periphery.output_noise=-1",
    "tile.rows=0",
    "tile.rows=1",
    "wire.r_row=1.0",
    "drift_compensation=sometimes",
    "frobnicate=1",
    "=",
    "device.faults.p_off=0.5",
]
_FLAG_VALUES = {
    "estimate": {
        "--seed": _NUMBERS,
        "--trials": _NUMBERS,
        "--times": ["1s", "1s,1s", "1e40", "3 fortnights", "0", "1y,1h", ",", "1e300s"],
        "--data": [
            *("digits", "digits[0:10]", "digits[1790:5000]", "digits[5:2]", "mnist[9990:20000]", "{mlp}")
        ],
        "--json": _PATHS,
        "--plot": _PATHS,
        "--per-layer": [None],
        "--per-layer-plot": _PATHS,
        "--set": _SETTINGS,
        "--hardware": ["ideal", "tpu", "{mlp}", "{chip}"],
        "--device": ["pcm", "flash", "{mlp}"],
        "--chip": ["{chip}", "{mlp}", "{out}"],
    },
    "train": {
        "--data": ["digits[0:40]", "digits[5:2]", "mnist[0:10]", "{mlp}"],
        "--epochs": _NUMBERS,
        "--batch-size": _NUMBERS,
        "--lr": ["1e-3", "0", "-1", "nan", "inf", "1e300", "x"],
        "--t-range": ["1s,1y", "1y", "0,1s", "1y,1s", "1s,1e40"],
        "--clip": ["2.5", "0", "-1", "nan", "1e300"],
        "--seed": _NUMBERS,
        "--out": _PATHS,
        "--eval": ["digits[40:60]", "digits[5:2]", "{mlp}"],
        "--times": ["1s", "1s,1s", "3 fortnights"],
        "--trials": _NUMBERS,
        "--plot": _PATHS,
        "--set": _SETTINGS,
        "--hardware": ["ideal", "tpu", "{chip}"],
        "--chip": ["{chip}", "{mlp}"],
    },
    "compile": {
        "--out": ["{out}", "{out}/a/b", "{mlp}", "{out}/same"],
        "--clip-percentile": ["50", "0", "100", "101", "nan", "-1", "1e300"],
        "--set": _SETTINGS,
        "--force": [None],
        "--no-fault-aware": [None],
    },
    "profile synth": {
        "--technology": ["pcm", "rram", "ideal", "flash"],
        "--tiles": _NUMBERS,
        "--rows": _NUMBERS + ["4096", "65536"],
        "--cols": _NUMBERS + ["4096", "65536"],
        "--seed": _NUMBERS,
        "--p-off": _NUMBERS + ["0.5"],
        "--p-on": _NUMBERS + ["0.5"],
        "--scheme": ["differential", "reference_column", "none"],
        "-o": _PATHS,
    },
}
_FIXED = {
    "estimate": lambda f: ["estimate", f.mlp, "--data", "digits[0:20]"],
    "compile": lambda f: ["compile", f.net, "--chip", f.chip],
    "train": lambda f: ["train", f.mlp, "--data", "digits[0:40]", "--batch-size", "8"],
    "profile synth": lambda f: ["profile", "synth", "--tiles", "2", "--rows", "8", "--cols", "8"],
}


def _flags_case(cli, files, data, command: str):
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        out.mkdir()
        (out / "same").write_text("an earlier file\n")
        values = _FLAG_VALUES[command]
        chosen = data.draw(st.lists(st.sampled_from(sorted(values)), max_size=4), label="flags")
        argv = _FIXED[command](files)
        for flag in chosen:
            value = data.draw(st.sampled_from(values[flag]), label=flag)
            # each output kind under its name
            suffix = {"--json": "json", "--plot": "png", "--out": "onnx"}.get(flag, "yaml")
            names = {"out": out, "mlp": files.mlp, "chip": files.chip, "suffix": suffix}
            argv += [flag] if value is None else [flag, value.format(**names)]
        required = {
            "compile": ("--out", out / "mapping"),
            "profile synth": ("-o", out / "chip.yaml"),
            "train": ("--out", out / "tuned.onnx"),
        }
        if command in required and required[command][0] not in chosen:
            argv += list(required[command])
        cli(argv, out)


@FAST
@given(data=st.data(), command=st.sampled_from(sorted(_FLAG_VALUES)))
def test_random_flags_end_in_success_or_one_line(cli, files, data, command):
    _flags_case(cli, files, data, command)


@pytest.mark.slow
@SLOW
@given(data=st.data(), command=st.sampled_from(sorted(_FLAG_VALUES)))
def test_many_random_flags(cli, files, data, command):
    _flags_case(cli, files, data, command)
