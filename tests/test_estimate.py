"""``crossbar estimate``: the times parser, the Monte Carlo estimator (ideal chips, seeds, independent trials
and batches, drift), its summary statistics, the JSON and the plot, and bad input as one line on stderr,
exit code 2 and no output files.

Models: a 64-32-10 MLP and a 64-10 linear classifier trained on 1,200 of scikit-learn's digits; the other
597 are the test data. Each run of the estimator compiles anew (seconds): the aihwkit-pcm tests share one
run of the linear model (``pcm``), whose compilation is the quickest.
"""

import dataclasses
import json
import statistics
from types import SimpleNamespace

import equinox as eqx
import numpy as np
import pytest
import scipy.stats
from _stats import Z, assert_fraction
from conftest import digits, digits_mlp, one_error_line, run_cli
from sklearn.linear_model import LogisticRegression

import crossbar.cli._estimate as estimate_command
from crossbar import InputError
from crossbar.cli import main
from crossbar.estimation import AccuracyEstimate, estimate_accuracy, parse_times
from crossbar.hardware import PRESET_DOCUMENTS, PRESETS, document_of, hardware_of
from crossbar.networks import load_onnx
from crossbar.training import mlp_onnx_bytes
from device_models import PCM, Ideal, to_dict

YEAR = 365.25 * 86400.0
TRIALS = 128  # aihwkit-pcm chips per run
N = 597  # test images


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The two models (ONNX files and loaded), the test images and labels, and an .npz of them."""
    x, y = digits()
    linear = LogisticRegression(max_iter=1000).fit(x[:1200], y[:1200])
    layers = {"mlp": digits_mlp((32,)), "linear": [{"w": linear.coef_.T, "b": linear.intercept_}]}
    folder = tmp_path_factory.mktemp("inputs")
    for name, params in layers.items():
        (folder / f"{name}.onnx").write_bytes(mlp_onnx_bytes(params))
    np.savez(folder / "test.npz", x=x[1200:], y=y[1200:])
    return SimpleNamespace(
        mlp=folder / "mlp.onnx",
        linear=folder / "linear.onnx",
        models={name: load_onnx(folder / f"{name}.onnx") for name in layers},
        x=x[1200:],
        y=y[1200:],
        data=folder / "test.npz",
    )


def estimate(inputs, model, preset, times, trials, seed, x=None, y=None, **options) -> AccuracyEstimate:
    """The estimator on a preset with small tiles: the MLP's first layer (64 x 32) spans 2 x 2 tiles."""
    model = inputs.models[model]
    x, y = (inputs.x, inputs.y) if x is None else (x, y)
    crossbar = dataclasses.replace(PRESETS[preset], tile_rows=32, tile_cols=16)
    return estimate_accuracy(
        model.apply, model.params, x, y, crossbar, times, trials, seed, progress=False, **options
    )


def correct_digitally(model, x, y) -> int:
    """Right answers of the model computed digitally in one batch, apart from the estimator."""
    return int(np.sum(np.argmax(np.asarray(model.apply(model.params, x)), axis=-1) == y))


def pcm_run(inputs, seed: int) -> AccuracyEstimate:
    """``TRIALS`` aihwkit-pcm chips with the linear model read at 1 s and 1 y; the test images twice, in two
    batches of 597."""
    twice = np.concatenate([inputs.x, inputs.x]), np.concatenate([inputs.y, inputs.y])
    return estimate(inputs, "linear", "aihwkit-pcm", (1.0, YEAR), TRIALS, seed, *twice, examples_per_step=N)


@pytest.fixture(scope="module")
def pcm(inputs):
    return pcm_run(inputs, seed=0)


@pytest.fixture(scope="module")
def ideal(inputs):
    """3 ideal chips with the MLP read at 1 s, 1 h and 1 y; the test images in batches of 100 (the last of
    97)."""
    return estimate(inputs, "mlp", "ideal", (1.0, 3600.0, YEAR), 3, seed=0, examples_per_step=100)


# --- times ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("1s,1h,1d,1mo,1y", (1.0, 3600.0, 86400.0, YEAR / 12, YEAR)),
        ("3600,86400", (3600.0, 86400.0)),
        ("0.5,2.", (0.5, 2.0)),
        ("1e3,2.5E-1h,1e+1s,3mo", (1000.0, 900.0, 10.0, 3 * YEAR / 12)),
        (" 2 min ,1w,  1.5 d", (120.0, 7 * 86400.0, 1.5 * 86400.0)),
    ],
)
def test_parse_times_reads_units_plain_seconds_exponents_and_spaces(text, seconds):
    assert parse_times(text) == pytest.approx(seconds, rel=1e-15)


@pytest.mark.parametrize(
    "text", ["3 fortnights", "", "1x", "-1s", "h", "1h,,1d", "1h,", "1e400", "inf", "nan", "1 hour"]
)
def test_parse_times_refuses_what_is_not_a_time(text):
    with pytest.raises(InputError) as error:
        parse_times(text)
    message = str(error.value)
    assert message.startswith("--times: ") and "is not a time" in message and "\n" not in message


@pytest.mark.parametrize(
    "text, message",
    [
        ("1h,3600", "'3600' is 3600 s, given before; expected each time once"),
        ("1s,1y,1 y", "'1 y' is 3.15576e+07 s, given before"),
        ("1e39", "'1e39' is 1e+39 s; expected at most 3.4e+38 s"),
        ("1e37y", "'1e37y' is 3.15576e+44 s; expected at most"),
    ],
)
def test_parse_times_refuses_repeated_times_and_times_beyond_float32(text, message):
    with pytest.raises(InputError) as error:
        parse_times(text)
    assert str(error.value).startswith("--times: ") and message in str(error.value)


# --- the estimator ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ideal_chips_reproduce_the_digital_accuracy_at_every_time(inputs, ideal):
    digital = correct_digitally(inputs.models["mlp"], inputs.x, inputs.y) / N
    assert ideal.digital_accuracy == digital
    assert ideal.accuracies.shape == (3, 3) and np.all(ideal.accuracies == digital)
    rows = ideal.summary()
    assert [row["t_s"] for row in rows] == [1.0, 3600.0, YEAR]
    for row in rows:
        assert row["mean"] == pytest.approx(digital, abs=1e-15)
        assert row["std"] == pytest.approx(0.0, abs=1e-15)
        assert row["ci95"] == pytest.approx([digital, digital], abs=1e-14)
        assert row["trials"] == [digital] * 3
    assert ideal.seconds > 0


def test_batches_count_the_right_answers_of_one_batch(inputs, ideal):
    """In batches of 100, the count of right answers of the model run on all 597 images at once."""
    count = correct_digitally(inputs.models["mlp"], inputs.x, inputs.y)
    assert ideal.digital_accuracy * N == count
    np.testing.assert_array_equal(ideal.accuracies * N, np.full((3, 3), count))


def right_answers(result: AccuracyEstimate) -> np.ndarray:
    """(trials, times) counts of right answers of a ``pcm_run`` (of 2 x 597 images)."""
    counts = np.rint(result.accuracies * 2 * N).astype(int)
    np.testing.assert_array_equal(counts / (2 * N), result.accuracies)
    return counts


@pytest.mark.slow
def test_the_same_seed_gives_the_same_accuracies_bit_for_bit(inputs, pcm):
    again = pcm_run(inputs, seed=0)
    np.testing.assert_array_equal(again.accuracies, pcm.accuracies)
    assert again.digital_accuracy == pcm.digital_accuracy


@pytest.mark.slow
def test_another_seed_programs_other_chips_of_the_same_kind(inputs, pcm):
    other = pcm_run(inputs, seed=1)
    a, b = right_answers(pcm), right_answers(other)
    # independent counts of spread sigma > 3 answers are equal with probability 1 / (2 sqrt(pi) sigma) < 0.1
    assert a.std(0, ddof=1).min() > 3
    assert np.mean(a == b) < 0.5
    # two samples of one distribution of chips: their means agree to within Z standard errors
    se = np.sqrt((a.var(0, ddof=1) + b.var(0, ddof=1)) / TRIALS)
    assert np.all(np.abs(a.mean(0) - b.mean(0)) <= Z * se)


@pytest.mark.slow
def test_vectorized_trials_are_independent_chips(pcm):
    counts = right_answers(pcm)
    for column in counts.T:
        assert len(np.unique(column)) > 10
        # independent chips: consecutive ones are uncorrelated (standard error 1 / sqrt(n))
        r = np.corrcoef(column[:-1], column[1:])[0, 1]
        assert abs(r) <= Z / np.sqrt(len(column) - 1)


@pytest.mark.slow
def test_every_batch_draws_its_own_noise(pcm):
    """The two batches hold the same images and run on the same chips: with the same noise they would give
    the same count, and every total would be even. With their own noise (a chip-to-chip spread of several
    answers) a total is odd with probability 1/2."""
    counts = right_answers(pcm)
    assert counts.std(0, ddof=1).min() > 3
    assert_fraction(counts % 2 == 1, 0.5)


@pytest.mark.slow
def test_accuracy_falls_from_1s_to_1y_on_pcm(pcm):
    """Paired over chips: the drop from 1 s to 1 y is more than Z standard errors above zero."""
    drop = pcm.accuracies[:, 0] - pcm.accuracies[:, 1]
    assert drop.mean() > Z * drop.std(ddof=1) / np.sqrt(len(drop))
    assert pcm.accuracies[:, 1].mean() < pcm.digital_accuracy


# --- summary ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trials", [2, 7, 40])
def test_summary_is_the_mean_std_and_student_t_interval(trials):
    accuracies = np.random.default_rng(trials).integers(400, 501, (trials, 3)) / 500
    times = (1.0, 3600.0, YEAR)
    rows = AccuracyEstimate(0.9, times, accuracies, 1.0).summary()
    assert [row["t_s"] for row in rows] == list(times)
    for row, a in zip(rows, accuracies.T, strict=True):
        mean = statistics.fmean(a)
        low, high = scipy.stats.t.interval(0.95, trials - 1, loc=mean, scale=scipy.stats.sem(a))
        assert row["mean"] == pytest.approx(mean, rel=1e-12)
        assert row["std"] == pytest.approx(statistics.stdev(a), rel=1e-12)
        assert row["ci95"] == pytest.approx([low, high], rel=1e-12)
        assert row["trials"] == a.tolist()
    json.dumps(rows)


def test_summary_of_one_trial_has_no_interval():
    rows = AccuracyEstimate(0.9, (1.0, 60.0), np.array([[0.8, 0.7]]), 1.0).summary()
    assert [(row["mean"], row["ci95"], row["trials"]) for row in rows] == [
        (0.8, None, [0.8]),
        (0.7, None, [0.7]),
    ]
    json.dumps(rows)


@pytest.mark.slow
def test_summary_of_the_chips_lists_every_trial(pcm):
    rows = pcm.summary()
    assert [row["t_s"] for row in rows] == [1.0, YEAR]
    for index, row in enumerate(rows):
        assert row["trials"] == pcm.accuracies[:, index].tolist()
        assert row["ci95"][0] < row["mean"] < row["ci95"][1]


# --- the command ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_estimate_writes_the_json_and_the_plot_and_prints_the_table(inputs, tmp_path, capsys):
    out_json, out_plot = tmp_path / "estimate.json", tmp_path / "estimate.png"
    argv = ["estimate", str(inputs.mlp), "--data", "digits", "--preset", "ideal", "--times", "1s,3600,1.5d"]
    argv += ["--trials", "3", "--seed", "7", "--json", str(out_json), "--plot", str(out_plot)]
    assert main(argv) == 0
    out, err = capsys.readouterr()

    document = json.loads(out_json.read_text())
    assert set(document) == {"digital_accuracy", "rows", "seconds", "macs", "config"}
    assert document["macs"]["analog_macs"] == 64 * 32 + 32 * 10 and document["macs"]["digital_macs"] == 0
    digital = correct_digitally(inputs.models["mlp"], *digits()) / 1797
    assert document["digital_accuracy"] == digital
    assert document["seconds"] > 0
    assert [row["t_s"] for row in document["rows"]] == [1.0, 3600.0, 129600.0]
    for row in document["rows"]:
        assert set(row) == {"t_s", "mean", "std", "ci95", "trials"}
        assert row["trials"] == [digital] * 3  # ideal chips
        assert row["ci95"] == pytest.approx([digital, digital], abs=1e-14)
    metadata = {key: PRESET_DOCUMENTS["ideal"][key] for key in ("name", "description", "sources")}
    assert document["config"] == {
        "hardware": document_of(PRESETS["ideal"], metadata),
        "model": str(inputs.mlp),
        "data": "digits",
        "times_s": [1.0, 3600.0, 129600.0],
        "trials": 3,
        "seed": 7,
        "examples": 1797,
    }
    assert document["config"]["hardware"]["tile"]["rows"] == 512  # resolved: defaults included
    assert document["config"]["hardware"]["device"] == {"model": "Ideal", **to_dict(Ideal())}

    import matplotlib.image

    assert out_plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(out_plot).shape[:2]
    assert height > 100 and width > 100

    assert f"digital accuracy {digital:.4f}" in out
    for time in ("1 s", "1 h", "1.5 d"):
        assert time in out
    assert str(out_json) in out and str(out_plot) in out
    assert "times x batches" in err  # the progress bar
    assert sorted(p.name for p in tmp_path.iterdir()) == ["estimate.json", "estimate.png"]


def _fake_estimator(calls: list):
    """Records the crossbar it is given; every chip answers half right."""

    def fake(apply, params, x, y, crossbar, times, trials, seed, **options):
        calls.append(crossbar)
        return AccuracyEstimate(0.5, tuple(times), np.full((trials, len(times)), 0.5), 0.01)

    return fake


@pytest.mark.parametrize("device", [None, "ideal", "pcm-file"])
def test_device_replaces_the_presets_device_only(device, inputs, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(estimate_command, "estimate_accuracy", _fake_estimator(calls))
    argv = ["estimate", str(inputs.mlp), "--data", str(inputs.data), "--preset", "aihwkit-pcm"]
    argv += ["--trials", "2", "--times", "1h", "--json", str(tmp_path / "e.json")]
    expected = {None: PCM(), "ideal": Ideal(), "pcm-file": PCM(g_max=20.0, drift_scale=0.5)}[device]
    if device == "pcm-file":
        (tmp_path / "pcm.yaml").write_text("model: PCM\ng_max: 20\ndrift_scale: 0.5\n")
        device = str(tmp_path / "pcm.yaml")
    assert main(argv + ([] if device is None else ["--device", device])) == 0
    resolved = dataclasses.replace(PRESETS["aihwkit-pcm"], device=expected)
    assert len(calls) == 1 and bool(eqx.tree_equal(calls[0], resolved))
    assert bool(eqx.tree_equal(calls[0], PRESETS["aihwkit-pcm"])) == (device is None)
    hardware = json.loads((tmp_path / "e.json").read_text())["config"]["hardware"]
    assert hardware["name"].startswith("aihwkit-pcm")
    assert hardware["device"] == {"model": type(expected).__name__, **to_dict(expected)}
    assert bool(eqx.tree_equal(hardware_of(hardware, tmp_path), resolved))  # the record rebuilds it


def test_a_plot_that_fails_leaves_no_json(inputs, tmp_path, monkeypatch):
    def fail(*args):
        raise RuntimeError("no plot")

    monkeypatch.setattr(estimate_command, "estimate_accuracy", _fake_estimator([]))
    monkeypatch.setattr(estimate_command, "accuracy_plot", fail)
    argv = ["estimate", str(inputs.mlp), "--data", str(inputs.data), "--json", str(tmp_path / "e.json")]
    with pytest.raises(RuntimeError, match="no plot"):
        main(argv + ["--plot", str(tmp_path / "e.png")])
    assert list(tmp_path.iterdir()) == []


def _data(**arrays):
    """An .npz of the test data with some arrays replaced (``None``: left out)."""

    def write(folder, inputs):
        contents = {"x": inputs.x, "y": inputs.y, **arrays}
        np.savez(folder / "data.npz", **{k: v for k, v in contents.items() if v is not None})
        return ["--data", str(folder / "data.npz")]

    return write


def _model(content):
    """A model file made from the good one's bytes."""

    def write(folder, inputs):
        (folder / "model.onnx").write_bytes(content(inputs.mlp.read_bytes()))
        return ["model", str(folder / "model.onnx")]

    return write


def _npy(folder, inputs):
    np.save(folder / "data.npy", inputs.x)
    return ["--data", str(folder / "data.npy")]


def _option(*args):
    return lambda folder, inputs: [arg.format(folder=folder) for arg in args]


_LABELS = np.arange(N) % 10
BAD_INPUTS = {
    "corrupt model": (_model(lambda good: b"\x08\x07garbage" * 50), "not a valid ONNX model"),
    "truncated model": (_model(lambda good: good[: len(good) // 2]), "not a valid ONNX model"),
    "empty model": (_model(lambda good: b""), "not a valid ONNX model"),
    "missing model": (_option("model", "{folder}/none.onnx"), "none.onnx: no such file"),
    "x of another shape": (_data(x=np.zeros((N, 63), np.float32)), "x: expected examples of shape (64,)"),
    "x of 1-D examples": (_data(x=np.zeros(N, np.float32)), "x: expected finite real examples"),
    "x with NaN": (_data(x=np.full((N, 64), np.nan)), "x: expected finite real examples"),
    "x beyond float32": (_data(x=np.full((N, 64), 1e39)), "x: expected finite real examples"),
    "label 10 of 10 classes": (_data(y=np.where(_LABELS == 3, 10, _LABELS)), "expected labels in [0, 10)"),
    "negative label": (_data(y=np.where(_LABELS == 3, -1, _LABELS)), "expected labels in [0, 10)"),
    "float labels": (_data(y=_LABELS + 0.5), "y: expected 597 integer labels"),
    "labels of another length": (_data(y=_LABELS[:-1]), "y: expected 597 integer labels"),
    "no labels": (_data(y=None), "expected arrays 'x' and 'y', missing y"),
    "an .npy, not an .npz": (_npy, "not a readable .npz archive"),
    "missing data": (_option("--data", "{folder}/none.npz"), "no such file, and not a built-in dataset"),
    "unknown preset": (_option("--preset", "tpu"), "--preset: 'tpu' is not a preset"),
    "unknown device": (_option("--device", "flash"), "flash: no such file, and not a device preset"),
    "bad time": (_option("--times", "1h,3 fortnights"), "--times: '3 fortnights' is not a time"),
    "no trials": (_option("--trials", "0"), "--trials: expected an integer >= 1, got 0"),
    "JSON into a missing folder": (_option("--json", "{folder}/no/e.json"), "--json "),
    "plot into a missing folder": (_option("--plot", "{folder}/no/e.png"), "--plot "),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_no_files(case, inputs, tmp_path, capsys):
    write, message = BAD_INPUTS[case]
    out = tmp_path / "out"
    out.mkdir()
    model, *extra = write(tmp_path, inputs)
    if model == "model":  # another model in place of the good one
        model, *extra = extra
    else:
        model, extra = str(inputs.mlp), [model, *extra]
    argv = ["estimate", model, "--data", str(inputs.data), "--json", str(out / "e.json")]
    assert main([*argv, "--plot", str(out / "e.png"), *extra]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert message in line, line
    if "missing folder" in case:
        assert f"no such folder {tmp_path / 'no'}" in line
    assert list(out.iterdir()) == [] and not (tmp_path / "no").exists()


def test_truncations_of_the_model_are_refused(inputs, tmp_path):
    good = inputs.mlp.read_bytes()
    for length in range(0, len(good), 61):
        (tmp_path / "cut.onnx").write_bytes(good[:length])
        with pytest.raises(InputError, match="cut.onnx: not a valid ONNX model"):
            load_onnx(tmp_path / "cut.onnx")


@pytest.mark.slow
def test_a_bad_time_from_the_shell_is_one_line_and_exit_2(inputs):
    result = run_cli("estimate", str(inputs.mlp), "--data", str(inputs.data), "--times", "3 fortnights")
    assert result.returncode == 2
    assert "--times: '3 fortnights' is not a time" in one_error_line(result.stderr)


# --- seeds and ranges of the data -------------------------------------------------------------------------


def _recording_estimator(calls: list):
    """Records the data and the seed it is given; every chip answers half right."""

    def fake(apply, params, x, y, hardware, times, trials, seed, **options):
        calls.append(SimpleNamespace(x=x, y=y, seed=seed))
        return AccuracyEstimate(0.5, tuple(times), np.full((trials, len(times)), 0.5), 0.01)

    return fake


@pytest.mark.parametrize("seed", [-1, 2**32, 2**40])
def test_a_seed_outside_32_bits_is_one_line_and_exit_2(seed, inputs, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(estimate_command, "estimate_accuracy", _recording_estimator(calls))
    argv = ["estimate", str(inputs.mlp), "--data", "digits", "--preset", "ideal", "--seed", str(seed)]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"--seed: expected an integer in [0, 2**32), got {seed}" in line
    assert calls == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seed", [0, 2**32 - 1])
def test_seeds_at_the_ends_of_32_bits_are_accepted(seed, inputs, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(estimate_command, "estimate_accuracy", _recording_estimator(calls))
    argv = ["estimate", str(inputs.mlp), "--data", "digits[0:10]", "--preset", "ideal", "--seed", str(seed)]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 0
    assert [call.seed for call in calls] == [seed]
    assert json.loads((tmp_path / "e.json").read_text())["config"]["seed"] == seed


@pytest.mark.parametrize(
    "data, rows",
    [
        ("digits[0:100]", slice(0, 100)),
        ("digits[:5]", slice(None, 5)),
        ("digits[1790:]", slice(1790, None)),
        ("digits[1700:1797]", slice(1700, 1797)),
    ],
)
def test_a_range_of_the_data_keeps_those_examples(data, rows, inputs, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(estimate_command, "estimate_accuracy", _recording_estimator(calls))
    argv = ["estimate", str(inputs.mlp), "--data", data, "--preset", "ideal"]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 0
    x, y = digits()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0].x, x[rows])
    np.testing.assert_array_equal(calls[0].y, y[rows])
    config = json.loads((tmp_path / "e.json").read_text())["config"]
    assert config["data"] == data and config["examples"] == len(x[rows])


def test_a_range_of_an_npz_keeps_those_examples(inputs, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(estimate_command, "estimate_accuracy", _recording_estimator(calls))
    argv = ["estimate", str(inputs.mlp), "--data", f"{inputs.data}[10:20]", "--preset", "ideal"]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 0
    np.testing.assert_array_equal(calls[0].x, inputs.x[10:20])
    np.testing.assert_array_equal(calls[0].y, inputs.y[10:20])
    assert json.loads((tmp_path / "e.json").read_text())["config"]["examples"] == 10


@pytest.mark.parametrize("data", ["digits[5000:]", "digits[3:3]", "digits[1797:]", "digits[10:2]"])
def test_a_range_that_selects_nothing_is_one_line_and_exit_2(data, inputs, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(estimate_command, "estimate_accuracy", _recording_estimator(calls))
    argv = ["estimate", str(inputs.mlp), "--data", data, "--preset", "ideal"]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("crossbar: error: --data: ") and "selects no examples of digits" in line
    assert calls == [] and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_times_numbers_do_not_depend_on_the_other_times(inputs, pcm):
    """Reads and output noise are keyed by the time itself, not by its place in the list."""
    alone = estimate(
        inputs,
        "linear",
        "aihwkit-pcm",
        (YEAR,),
        TRIALS,
        0,
        *[np.concatenate([a, a]) for a in (inputs.x, inputs.y)],
        examples_per_step=N,
    )
    np.testing.assert_array_equal(alone.accuracies[:, 0], pcm.accuracies[:, 1])
    np.testing.assert_array_equal(alone.output_errors[:, 0], pcm.output_errors[:, 1])


@pytest.mark.slow
def test_output_errors_measure_the_chips_against_digital(inputs, ideal, pcm):
    """Ideal chips reproduce the digital outputs up to float32 rounding; PCM chips do not, and drift more."""
    assert ideal.output_errors.shape == (3, 3) and np.all(ideal.output_errors < 1e-5)
    assert np.all(pcm.output_errors > 0.01)
    assert np.mean(pcm.output_errors[:, 1]) > np.mean(pcm.output_errors[:, 0])
