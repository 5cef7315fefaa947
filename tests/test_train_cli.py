"""``crossbar train``: the tuned ONNX file (same graph, tuned initializers) that estimate takes, the table and
plot of --eval, and bad input as one line, exit 2, nothing written."""

import json
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from conftest import digits_mlp, one_error_line, run_cli
from onnx import helper, numpy_helper

import calibration
import crossbar.cli._train as train_command
from crossbar import AccuracyEstimate, load_onnx
from crossbar.cli import main
from crossbar.compiler import compile_network, layout_of, read_layout
from crossbar.training import mlp_onnx_bytes


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    (folder / "mlp.onnx").write_bytes(mlp_onnx_bytes(digits_mlp((16,))))
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 64])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 64])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), folder / "relu.onnx")
    calibration.save(calibration.synthesize("rram", 1, seed=0, rows=32, cols=32), folder / "tiny.yaml")
    chip = calibration.synthesize("rram", 3, seed=0, rows=64, cols=32, p_off=0.05, p_on=0.05)
    calibration.save(chip, folder / "chip.yaml")
    (folder / "broken.json").write_text("{")
    np.savez(folder / "labels.npz", x=np.zeros((8, 64), np.float32), y=np.full(8, 10))
    return SimpleNamespace(**{p.stem: p for p in folder.iterdir()})


def _instant_estimate(apply, params, x, y, hardware, times, trials, seed, **options):
    accuracies = np.full((trials, len(times)), 0.5 + 0.1 * float(np.sum(params["fc1.weight"]) > -1e9))
    return AccuracyEstimate(0.9, tuple(times), accuracies, 0.0)


@pytest.mark.slow
def test_train_writes_the_same_graph_with_tuned_weights_that_estimate_takes(files, tmp_path, capsys):
    out = tmp_path / "tuned.onnx"
    argv = ["train", str(files.mlp), "--data", "digits[0:256]", "--epochs", "2", "--batch-size", "32"]
    assert main([*argv, "--lr", "3e-3", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 2: loss" in printed and str(out) in printed
    before, after = onnx.load(files.mlp), onnx.load(out)
    assert [n.op_type for n in after.graph.node] == [n.op_type for n in before.graph.node]
    assert [i.name for i in after.graph.initializer] == [i.name for i in before.graph.initializer]
    w0, w1 = (numpy_helper.to_array(m.graph.initializer[0]) for m in (before, after))
    assert w0.dtype == w1.dtype and w0.shape == w1.shape and not np.array_equal(w0, w1)
    assert load_onnx(out).matrix_layers()
    argv = ["estimate", str(out), "--data", "digits[1200:1300]", "--trials", "2", "--times", "1s"]
    assert main(argv) == 0
    assert "1 s" in capsys.readouterr().out
    again = tmp_path / "again.onnx"
    argv = ["train", str(files.mlp), "--data", "digits[0:256]", "--epochs", "2", "--batch-size", "32"]
    assert main([*argv, "--lr", "3e-3", "--seed", "1", "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()  # the same seed, the same weights bit for bit


@pytest.mark.slow
def test_eval_prints_before_and_after_and_plots_both(files, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(train_command, "estimate_accuracy", _instant_estimate)
    out, plot = tmp_path / "tuned.onnx", tmp_path / "curves.png"
    argv = ["train", str(files.mlp), "--data", "digits[0:64]", "--epochs", "1", "--batch-size", "32"]
    argv += ["--out", str(out), "--eval", "digits[1200:1300]", "--times", "1s,1y", "--trials", "3"]
    assert main([*argv, "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "before" in printed and "after" in printed and "1 y" in printed
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_on_a_chip_train_writes_the_mapping_it_tuned_on_and_evaluates_on_it(files, tmp_path, monkeypatch):
    layouts = []

    def recording_estimate(*args, layout=None, **options):
        layouts.append(layout)
        return _instant_estimate(*args, **options)

    monkeypatch.setattr(train_command, "estimate_accuracy", recording_estimate)
    out = tmp_path / "tuned.onnx"
    argv = ["train", str(files.mlp), "--data", "digits[0:64]", "--chip", str(files.chip), "--epochs", "1"]
    argv += ["--batch-size", "32", "--out", str(out), "--eval", "digits[1200:1300]", "--trials", "2"]
    assert main(argv) == 0
    written = read_layout(json.loads((tmp_path / "tuned.mapping.json").read_text()))
    assert len(layouts) == 2  # before and after, both on the mapping trained on, the one written
    for layout in layouts:
        assert places(layout) == places(written)
    layers = load_onnx(out).matrix_layers()
    profile = calibration.load(files.chip)
    assert places(layout_of(compile_network(layers, profile))) != places(written)  # afresh it would move
    argv = ["estimate", str(out), "--data", "digits[1200:1300]", "--chip", str(files.chip), "--trials", "2"]
    assert main([*argv, "--times", "1s", "--mapping", str(tmp_path / "tuned.mapping.json")]) == 0
    folder = tmp_path / "compiled"
    argv = ["compile", str(out), "--chip", str(files.chip), "--mapping", str(tmp_path / "tuned.mapping.json")]
    assert main([*argv, "--out", str(folder)]) == 0
    assert places(read_layout(json.loads((folder / "mapping.json").read_text()))) == places(written)


def places(layout) -> list:
    return [(b.layer, b.grid, b.spot, b.row_of.tolist(), b.col_of.tolist()) for b in layout.blocks]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--epochs", "0"], "--epochs: expected an integer >= 1"),
        (["--lr", "0"], "--lr: expected a finite number > 0"),
        (["--lr=-1e-3"], "--lr: expected a finite number > 0"),
        (["--lr", "nan"], "--lr: expected a finite number > 0"),
        (["--batch-size", "1000"], "--batch-size: expected at most the 100 examples"),
        (["--t-range", "1y"], "--t-range: expected two times"),
        (["--plot", "{out}.png"], "--plot: needs --eval"),
        (["--data", "mnist[0:10]"], "mnist"),
        (["--data", "{labels}"], "label"),
        (["--chip", "{tiny}"], "--chip: the network does not fit"),
        (["--mapping", "{broken}"], "--mapping: a layout on a chip; give --chip"),
        (["--chip", "{chip}", "--mapping", "{broken}"], "broken.json: expected a mapping.json (JSON)"),
        (["--model", "{relu}"], "no matrix product"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(files, tmp_path, capsys, flags, expected):
    out = tmp_path / "tuned.onnx"
    model, names = (
        str(files.mlp),
        {"out": out, "labels": files.labels, "tiny": files.tiny, "relu": files.relu}
        | {"chip": files.chip, "broken": files.broken},
    )
    flags = [f.format(**names) for f in flags]
    if flags[0] == "--model":
        model, flags = flags[1], []
    argv = ["train", model, "--data", "digits[0:100]", "--epochs", "1", "--out", str(out), *flags]
    if "--data" in flags[:1]:
        argv = ["train", model, *flags, "--epochs", "1", "--out", str(out)]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert expected in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_train_in_a_fresh_interpreter(files, tmp_path):
    out = tmp_path / "tuned.onnx"
    result = run_cli("train", str(files.mlp), "--data", "digits[0:128]", "--epochs", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.is_file()
