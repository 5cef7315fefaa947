"""The main demo: an MNIST network trained in seconds, its accuracy over a year on PCM and RRAM chips and on a
synthesized RRAM chip it is compiled onto, that chip's mapping report, and the network after hardware-aware
training on PCM."""

import json
from pathlib import Path

import calibration
from emulator_common.atomic_write import atomic_write

from ..compiler import OUTPUT_FILES as MAPPING_FILES
from ..datasets import MNIST_TEST, MNIST_TRAIN, load_mnist
from ..estimation import (
    AccuracyEstimate,
    accuracy_plot,
    estimate_accuracy,
    estimate_document,
    human_time,
    parse_times,
)
from ..hardware import resolve_hardware
from ..networks import load_onnx
from ..training import mlp_onnx_bytes, train_hardware_aware, train_mlp
from ._compile import compile_to_folder

SIZES = (784, 256, 128, 10)
CHIP_TILES = 12
TIMES = "1s,1h,1d,1w,1mo,1y"
TRIALS = 10
HWA = {"epochs": 1, "batch_size": 64, "learning_rate": 1e-3}
"""Hardware-aware fine-tuning of the MLP on PCM: one epoch over images 0..7999 (``train_hardware_aware``)."""
OUTPUT_FILES = (
    *("mnist_mlp.onnx", "accuracy_vs_time.png", "accuracy.json", "accuracy.md", "mapping/chip.yaml"),
    *(f"mapping/{name}" for name in MAPPING_FILES),
)
"""The files ``run`` writes under its folder, besides the stuck-cell masks of ``mapping/chip.yaml``."""


def run(out: str | Path, seed: int = 0, trials: int = TRIALS) -> tuple[list[Path], str]:
    """Train, estimate, compile; returns the files written under ``out`` (``OUTPUT_FILES``, replaced if
    there) and a table of the results."""
    folder = Path(out)
    (folder / "mapping").mkdir(parents=True, exist_ok=True)
    x, y = load_mnist()
    params = train_mlp(x[MNIST_TRAIN], y[MNIST_TRAIN], SIZES, seed=seed, epochs=10)
    model_path = folder / "mnist_mlp.onnx"
    with atomic_write(model_path, "wb") as handle:
        handle.write(mlp_onnx_bytes(params))
    chip_path = folder / "mapping" / "chip.yaml"
    calibration.save(calibration.synthesize("rram", CHIP_TILES, seed), chip_path)
    chip = calibration.load(chip_path)
    on_chip = resolve_hardware(chip=str(chip_path))
    mapping_files, _ = compile_to_folder(model_path, on_chip, folder / "mapping", force=True)

    model = load_onnx(model_path)
    test_x, test_y = x[MNIST_TEST], y[MNIST_TEST]
    times = parse_times(TIMES)
    hardware = {
        "PCM (aihwkit-pcm)": resolve_hardware("aihwkit-pcm"),
        "RRAM (rram)": resolve_hardware("rram"),
        f"RRAM chip {chip.chip_id}": on_chip,
    }
    estimates, documents = {}, {}
    run_config = {
        "model": str(model_path),
        "data": f"mnist[{MNIST_TEST.start}:{MNIST_TEST.stop}]",
        "times_s": list(times),
        "trials": trials,
        "seed": seed,
    }
    for label, resolved in hardware.items():
        print(f"estimating on {label} ...", flush=True)
        estimate = estimate_accuracy(
            model.apply, model.params, test_x, test_y, resolved.hardware, times, trials, seed
        )
        estimates[label] = estimate
        config = {"hardware": resolved.document, **run_config, "examples": len(test_x)}
        documents[label] = estimate_document(estimate, config)

    pcm = hardware["PCM (aihwkit-pcm)"]
    print(f"hardware-aware training on PCM (aihwkit-pcm), {HWA['epochs']} epoch ...", flush=True)
    train_x, train_y = x[MNIST_TRAIN], y[MNIST_TRAIN]
    tuned, _ = train_hardware_aware(
        model.apply, model.params, train_x, train_y, pcm.hardware, seed=seed, **HWA
    )
    label = "PCM after HWA training"
    estimates[label] = estimate_accuracy(
        model.apply, tuned, test_x, test_y, pcm.hardware, times, trials, seed
    )
    config = {"hardware": pcm.document, **run_config, "examples": len(test_x), "hwa_training": HWA}
    documents[label] = estimate_document(estimates[label], config)

    title = f"MNIST MLP {'-'.join(map(str, SIZES))}, images 8000..9999, {trials} chips each"
    figure = accuracy_plot(estimates, title)
    table = accuracy_table(estimates)
    written = []
    for name, content, mode in (
        ("accuracy_vs_time.png", figure, "wb"),
        ("accuracy.json", json.dumps(documents, indent=1), "w"),
        ("accuracy.md", table + "\n", "w"),
    ):
        with atomic_write(folder / name, mode) as handle:
            handle.write(content)
        written.append(folder / name)
    return [model_path, *written, chip_path, *mapping_files], table


def accuracy_table(estimates: dict[str, AccuracyEstimate]) -> str:
    """A Markdown table: mean accuracy (%) and 95 % CI half-width per time (rows) and hardware (columns)."""
    labels = list(estimates)
    first = estimates[labels[0]]
    lines = [
        f"digital accuracy {100 * first.digital_accuracy:.2f} %; mean accuracy (%) +- 95 % CI half-width",
        "",
        "| time | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    summaries = {label: estimate.summary() for label, estimate in estimates.items()}
    for index, t in enumerate(first.times):
        cells = []
        for label in labels:
            row = summaries[label][index]
            half = "" if row["ci95"] is None else f" +- {100 * (row['ci95'][1] - row['mean']):.2f}"
            cells.append(f"{100 * row['mean']:.2f}{half}")
        lines.append(f"| {human_time(t)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
