"""The mapping demo: an MNIST network trained in seconds, compiled onto a synthesized RRAM chip, reported."""

from pathlib import Path

import calibration
from device_models._atomic_write import atomic_write

from .compile_command import compile_to_folder
from .datasets import MNIST_TEST, MNIST_TRAIN, load_mnist
from .training import accuracy, mlp_apply, mlp_onnx_bytes, train_mlp

SIZES = (784, 256, 128, 10)
CHIP_TILES = 12


def run(out: str | Path, seed: int = 0) -> tuple[list[Path], str]:
    """Train, synthesize a chip, compile; returns the files written into ``out``/mapping and a summary."""
    folder = Path(out) / "mapping"
    folder.mkdir(parents=True, exist_ok=True)
    x, y = load_mnist()
    params = train_mlp(x[MNIST_TRAIN], y[MNIST_TRAIN], SIZES, seed=seed, epochs=10)
    digital = accuracy(mlp_apply(params, x[MNIST_TEST]), y[MNIST_TEST])
    model = folder / "mnist_mlp.onnx"
    with atomic_write(model, "wb") as handle:
        handle.write(mlp_onnx_bytes(params))
    chip = folder / "chip.yaml"
    calibration.save(calibration.synthesize("rram", CHIP_TILES, seed), chip)
    paths = compile_to_folder(model, calibration.load(chip), chip, folder)
    summary = (
        f"MNIST MLP {'-'.join(map(str, SIZES))}, digital accuracy {digital:.4f} on images 8000..9999, "
        f"compiled onto a synthesized {CHIP_TILES}-tile RRAM chip"
    )
    return [model, chip, *paths], summary
