"""Where a network loses accuracy: each layer alone on the chip, the rest digital (``estimate_per_layer``),
ranked by its loss, its records and bar chart, and ``crossbar estimate --per-layer``.

Models: a 64-32-10 MLP and a 64-10 linear classifier trained on 1,200 of scikit-learn's digits; the other
597 are the test data. Chips: aihwkit-pcm with tiles of 32 x 16 (the MLP's first layer spans 2 x 2 tiles).
"""

import dataclasses
import json
from types import SimpleNamespace

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from conftest import digits, digits_mlp, one_error_line
from sklearn.linear_model import LogisticRegression

import calibration
import crossbar.cli._estimate as estimate_command
import crossbar.estimation._per_layer as per_layer_module
from crossbar.cli import main
from crossbar.estimation import (
    AccuracyEstimate,
    LayerEstimate,
    PerLayerEstimate,
    estimate_accuracy,
    estimate_per_layer,
    hardware_arrays,
    per_layer_document,
    per_layer_plot,
    per_layer_table,
)
from crossbar.estimation._per_layer import OneOnTiles
from crossbar.hardware import PRESETS
from crossbar.networks import load_onnx, mac_split, products_of
from crossbar.training import mlp_onnx_bytes

YEAR = 365.25 * 86400.0
TIMES = (1.0, YEAR)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    x, y = digits()
    linear = LogisticRegression(max_iter=1000).fit(x[:1200], y[:1200])
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "mlp.onnx").write_bytes(mlp_onnx_bytes(digits_mlp((32,))))
    (folder / "linear.onnx").write_bytes(mlp_onnx_bytes([{"w": linear.coef_.T, "b": linear.intercept_}]))
    return SimpleNamespace(
        mlp=load_onnx(folder / "mlp.onnx"),
        linear=load_onnx(folder / "linear.onnx"),
        path=folder / "mlp.onnx",
        x=x[1200:],
        y=y[1200:],
    )


def chips(preset: str):
    return dataclasses.replace(PRESETS[preset], tile_rows=32, tile_cols=16)


def per_layer(inputs, model, preset, trials, seed) -> PerLayerEstimate:
    return estimate_per_layer(
        model.apply, model.params, inputs.x, inputs.y, chips(preset), TIMES, trials, seed, progress=False
    )


@pytest.fixture(scope="module")
def pcm(inputs):
    """8 aihwkit-pcm chips per layer of the MLP, read at 1 s and 1 y."""
    return per_layer(inputs, inputs.mlp, "aihwkit-pcm", 8, seed=0)


def test_only_the_chosen_product_goes_to_the_hook_the_rest_is_digital(inputs):
    model, handed = inputs.mlp, []

    def hook(product):
        handed.append(product.name)
        return 2.0 * product.digital()

    names = [p.name for p in products_of(model.apply, model.params, inputs.x[:1])]
    for chosen, name in enumerate(names):
        handed.clear()
        out = OneOnTiles(model.apply, chosen)(model.params, inputs.x[:5], hook)
        assert handed == [name]
        assert not np.allclose(out, model.apply(model.params, inputs.x[:5]))
    np.testing.assert_array_equal(OneOnTiles(model.apply, 0)(model.params, inputs.x[:5]), model.apply(
        model.params, inputs.x[:5]))  # fmt: skip
    assert OneOnTiles(model.apply, 1) == OneOnTiles(model.apply, 1) != OneOnTiles(model.apply, 0)


@pytest.mark.slow
def test_each_layer_alone_ranked_by_its_loss_at_the_last_time(inputs, pcm):
    names = [p.name for p in products_of(inputs.mlp.apply, inputs.mlp.params, inputs.x[:1])]
    assert [layer.name for layer in pcm.layers] == names and len(names) == 2
    assert [layer.index for layer in pcm.layers] == [0, 1] and pcm.times == TIMES
    right = int(np.sum(np.argmax(inputs.mlp.apply(inputs.mlp.params, inputs.x), -1) == inputs.y))
    digital = pcm.digital_accuracy
    assert digital == right / len(inputs.y)
    losses = [layer.loss()[0] for layer in pcm.ranked()]
    assert losses == sorted(losses, reverse=True)
    for layer in pcm.layers:
        assert layer.estimate.accuracies.shape == (8, 2)
        loss, (low, high) = layer.loss()
        assert loss == digital - np.mean(layer.estimate.accuracies[:, -1])
        assert low < loss < high
    assert pcm.seconds == sum(layer.estimate.seconds for layer in pcm.layers) > 0
    assert not np.array_equal(pcm.layers[0].estimate.accuracies, pcm.layers[1].estimate.accuracies)
    assert max(losses) > 0  # a year of drift costs accuracy


@pytest.mark.slow
def test_the_same_seed_gives_the_same_numbers_bit_for_bit(inputs, pcm):
    again = per_layer(inputs, inputs.mlp, "aihwkit-pcm", 8, seed=0)
    for first, second in zip(pcm.layers, again.layers, strict=True):
        np.testing.assert_array_equal(first.estimate.accuracies, second.estimate.accuracies)
        np.testing.assert_array_equal(first.estimate.output_errors, second.estimate.output_errors)


@pytest.mark.slow
def test_a_model_of_one_layer_gives_the_whole_estimate_bit_for_bit(inputs):
    model = inputs.linear
    alone = per_layer(inputs, model, "aihwkit-pcm", 4, seed=5).layers[0].estimate
    whole = estimate_accuracy(
        model.apply, model.params, inputs.x, inputs.y, chips("aihwkit-pcm"), TIMES, 4, 5, progress=False
    )
    np.testing.assert_array_equal(alone.accuracies, whole.accuracies)
    np.testing.assert_array_equal(alone.output_errors, whole.output_errors)


@pytest.mark.slow
def test_ideal_chips_lose_nothing_in_any_layer(inputs):
    result = per_layer(inputs, inputs.mlp, "ideal", 2, seed=0)
    for layer in result.layers:
        assert np.all(layer.estimate.accuracies == result.digital_accuracy)
        assert layer.loss() == (0.0, [0.0, 0.0])


def test_on_a_chip_each_layer_keeps_its_blocks_of_the_whole_networks_mapping(inputs, monkeypatch):
    chip = calibration.synthesize("rram", 3, 0, rows=64, cols=64)
    given = []

    def record(apply, params, examples, arrays, times, trials, seed, on_step):
        given.append((apply.chosen, arrays))
        return AccuracyEstimate(0.5, tuple(times), np.full((trials, len(times)), 0.5), 0.01)

    monkeypatch.setattr(per_layer_module, "estimate_on", record)
    model = inputs.mlp
    estimate_per_layer(model.apply, model.params, inputs.x, inputs.y, chip, TIMES, 2, 0, progress=False)
    whole = hardware_arrays(chip, products_of(model.apply, model.params, inputs.x[:1]))
    assert [chosen for chosen, _ in given] == [0, 1]
    assert all(len(arrays) == 1 for _, arrays in given)
    for index, (_, arrays) in enumerate(given):
        assert bool(eqx.tree_equal(arrays[0], whole[index]))


def made(inputs) -> PerLayerEstimate:
    """The MLP's two layers with given accuracies of 3 chips at 1 s and 1 y (digital 0.9): at 1 y the first
    keeps 0.85 on average, the second 0.7."""
    year = {0: [0.8, 0.85, 0.9], 1: [0.6, 0.7, 0.8]}
    names = [p.name for p in products_of(inputs.mlp.apply, inputs.mlp.params, inputs.x[:1])]
    return PerLayerEstimate(
        0.9,
        TIMES,
        tuple(
            LayerEstimate(name, i, AccuracyEstimate(0.9, TIMES, np.array([[0.9, a] for a in year[i]]), 0.5))
            for i, name in enumerate(names)
        ),
    )


def test_the_records_and_the_chart_rank_the_layers(inputs):
    result = made(inputs)
    split = mac_split(inputs.mlp.apply, inputs.mlp.params, inputs.mlp.input_shape)
    document = per_layer_document(result, {"seed": 0}, split)
    names = [layer.name for layer in result.layers]
    assert [row["name"] for row in document["layers"]] == names[::-1]
    assert [row["rank"] for row in document["layers"]] == [1, 2]
    assert [row["index"] for row in document["layers"]] == [1, 0]
    first = document["layers"][0]
    half = scipy.stats.t.ppf(0.975, 2) * 0.1 / np.sqrt(3)  # std of 0.6, 0.7, 0.8 is 0.1
    assert first["loss"] == pytest.approx(0.2) and first["loss_ci95"] == pytest.approx(
        [0.2 - half, 0.2 + half]
    )
    assert first["matrix"] == [32, 10] and first["macs"] == 320
    assert first["rows"] == result.layers[1].estimate.summary()
    assert document["macs"]["analog_macs"] == 64 * 32 + 32 * 10 and document["config"] == {"seed": 0}
    assert document["seconds"] == 1.0
    json.dumps(document, allow_nan=False)

    lines = per_layer_table(result, split).splitlines()
    assert lines[0] == "digital accuracy 0.9000; each layer alone on the chip, the rest digital, at 1 y:"
    ranks = [line for line in lines if line[:4].strip() in ("1", "2")]
    assert ranks[0].split()[:6] == ["1", names[1], "32", "x", "10", "13.5%"]
    assert ranks[0].split()[6:8] == ["0.2000", f"[{0.2 - half:.4f},"]
    assert ranks[1].split()[:7] == ["2", names[0], "64", "x", "32", "86.5%", "0.0500"]
    assert lines[-1] == "2 layers x 3 chips x 2 times in 1.0 s"

    png = per_layer_plot(result, "mlp")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


# --- crossbar estimate --per-layer -------------------------------------------------------------------------


def _fake_per_layer(apply, params, x, y, hardware, times, trials, seed, **options):
    """Two layers; the first loses 0.1, the second 0.3 of a digital accuracy of 0.9."""
    names = [p.name for p in products_of(apply, params, jax.ShapeDtypeStruct(x[:1].shape, jnp.float32))]
    layers = tuple(
        LayerEstimate(name, i, AccuracyEstimate(0.9, tuple(times), np.full((trials, len(times)), a), 0.01))
        for i, (name, a) in enumerate(zip(names, (0.8, 0.6), strict=True))
    )
    return PerLayerEstimate(0.9, tuple(times), layers)


def test_per_layer_prints_the_split_and_the_ranking_and_writes_json_and_chart(
    inputs, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(estimate_command, "estimate_per_layer", _fake_per_layer)
    out_json, out_png = tmp_path / "layers.json", tmp_path / "layers.png"
    argv = [
        "estimate",
        str(inputs.path),
        "--data",
        "digits[1200:]",
        "--preset",
        "aihwkit-pcm",
        "--times",
        "1s,1y",
    ]
    argv += ["--trials", "3", "--per-layer", "--json", str(out_json), "--per-layer-plot", str(out_png)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    names = [p.name for p in products_of(inputs.mlp.apply, inputs.mlp.params, inputs.x[:1])]
    document = json.loads(out_json.read_text())
    assert set(document) == {"digital_accuracy", "layers", "seconds", "macs", "config"}
    assert [row["name"] for row in document["layers"]] == names[::-1]
    assert [row["loss"] for row in document["layers"]] == pytest.approx([0.3, 0.1])
    assert document["config"]["per_layer"] is True and document["config"]["trials"] == 3
    assert document["macs"]["analog_share"] == 1.0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "analog share of the MACs per example: 100.0 %" in out
    assert out.index(names[1]) < out.index("loss") < out.rindex(names[0])
    assert str(out_json) in out and str(out_png) in out


def test_the_whole_estimate_prints_and_records_the_split(inputs, tmp_path, monkeypatch, capsys):
    def fake(apply, params, x, y, hardware, times, trials, seed, **options):
        return AccuracyEstimate(0.5, tuple(times), np.full((trials, len(times)), 0.5), 0.01)

    monkeypatch.setattr(estimate_command, "estimate_accuracy", fake)
    out_json = tmp_path / "e.json"
    assert (
        main(["estimate", str(inputs.path), "--data", "digits", "--trials", "2", "--json", str(out_json)])
        == 0
    )
    macs = json.loads(out_json.read_text())["macs"]
    assert macs["analog_macs"] == 64 * 32 + 32 * 10 and macs["digital_macs"] == 0
    assert [p["matrix"] for p in macs["tiled"]] == [[64, 32], [32, 10]]
    out = capsys.readouterr().out
    assert "on tiles" in out and "analog share of the MACs per example: 100.0 % (2,368 of 2,368)" in out


BAD = {
    "chart without --per-layer": (["--per-layer-plot", "{o}/l.png"], "--per-layer-plot: draws the per-layer"),
    "--plot with --per-layer": (["--per-layer", "--plot", "{o}/p.png"], "--plot: draws the whole network's"),
    "chart over the JSON": (
        ["--per-layer", "--json", "{o}/same", "--per-layer-plot", "{o}/same"],
        "--per-layer-plot {o}/same: the same file as --json",
    ),
    "chart into a missing folder": (["--per-layer", "--per-layer-plot", "{o}/no/l.png"], "no such folder"),
    "chart over the model": (
        ["--per-layer", "--per-layer-plot", "{model}"],
        "the same file as the input MODEL",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_per_layer_combinations_are_one_line_exit_2_and_no_files(
    case, inputs, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(estimate_command, "estimate_per_layer", _fake_per_layer)
    extra, message = BAD[case]
    fill = {"o": tmp_path, "model": inputs.path}
    argv = ["estimate", str(inputs.path), "--data", "digits", "--trials", "2"]
    assert main(argv + [arg.format(**fill) for arg in extra]) == 2
    assert message.format(**fill) in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_per_layer_on_a_chip_profile_from_the_command(inputs, tmp_path, capsys):
    profile = tmp_path / "chip.yaml"
    calibration.save(calibration.synthesize("rram", 3, 0, rows=64, cols=64), profile)
    out_json = tmp_path / "layers.json"
    argv = [
        "estimate",
        str(inputs.path),
        "--data",
        "digits[1200:1400]",
        "--chip",
        str(profile),
        "--times",
        "1d",
    ]
    assert main([*argv, "--trials", "2", "--per-layer", "--json", str(out_json)]) == 0
    document = json.loads(out_json.read_text())
    assert sorted(row["index"] for row in document["layers"]) == [0, 1]
    assert document["config"]["hardware"]["name"] == "chip synthetic-rram-seed0"
    for row in document["layers"]:
        (only,) = row["rows"]
        assert only["t_s"] == 86400.0 and len(only["trials"]) == 2
        assert row["loss"] == pytest.approx(document["digital_accuracy"] - only["mean"])
    assert "each layer alone on the chip" in capsys.readouterr().out
