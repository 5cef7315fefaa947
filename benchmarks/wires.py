"""IR drop: the distorted matrix of one 512 x 1024-device tile (exact and approximate), the MNIST MLP's
Monte Carlo estimate with 1-ohm wires against the same estimate with ideal wires, and a sweep over
``wire.r_row``.

1. The tile: conductances uniform in 0..25 uS (aihwkit-pcm's window), r_row = r_col = 1 ohm per segment,
   float32; each model's best of 3 calls after a compiling one, against a plain JAX product of the same tile
   with a batch of 256 inputs in the same run; then the exact model in float64 (and its compiling call).
2. The MLP 784-256-128-10 on 2,000 test images, aihwkit-pcm, 10 trials x 5 times: ideal wires, the
   approximate model and the exact one at 1 ohm; ``estimate_accuracy`` called twice in this process (the
   first call compiles: cold; the second reuses it: warm). The exact model is called once (cold) unless
   ``--skip-exact``.
3. ``crossbar sweep`` over wire.r_row (0, 0.25, 0.5, 1, 2, 4 ohm; r_col 1 ohm; the approximate model;
   2 trials x 2 times): points per second, compilation included.

Run: python benchmarks/wires.py [--skip-exact]
"""

import argparse
import dataclasses
import tempfile
import time
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import yaml
from _timing import best_time

from crossbar import PRESETS, estimate_accuracy, ir_drop
from crossbar.datasets import MNIST_TEST, MNIST_TRAIN, load_mnist
from crossbar.networks import load_onnx
from crossbar.sweeps import run_sweep
from crossbar.training import mlp_onnx_bytes, train_mlp

TIMES = (1.0, 3600.0, 86400.0, 2629800.0, 31557600.0)
TRIALS = 10
WIRES = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]


def tile_precompute() -> None:
    g = jax.random.uniform(jax.random.key(0), (512, 1024), jnp.float32, 0.0, 25e-6)
    x = jax.random.uniform(jax.random.key(1), (256, 512), jnp.float32)
    matmul = best_time(jax.jit(lambda xx: xx @ g), x, repeats=3)
    print(f"device: {jax.devices()[0].device_kind}")
    print(f"512 x 1024-device tile, 1 ohm; plain JAX product with 256 inputs: {matmul * 1e3:.2f} ms")
    for model in ("approximate", "exact"):
        seconds = best_time(partial(ir_drop.effective_matrix, g, 1.0, 1.0, model=model), repeats=3)
        print(f"  {model} distorted matrix: {seconds:.4f} s = {seconds / matmul:.0f}x the product")
    with jax.enable_x64(True):
        g64 = g.astype(jnp.float64)
        start = time.perf_counter()
        jax.block_until_ready(ir_drop.effective_matrix(g64, 1.0, 1.0))
        first = time.perf_counter() - start
        seconds = best_time(partial(ir_drop.effective_matrix, g64, 1.0, 1.0), repeats=3)
    print(f"  exact distorted matrix in float64: {seconds:.4f} s (first call, compiling: {first:.1f} s)")


def mlp_estimates(skip_exact: bool, folder: Path) -> None:
    x, y = load_mnist()
    params = train_mlp(x[MNIST_TRAIN], y[MNIST_TRAIN], (784, 256, 128, 10), epochs=10)
    (folder / "mlp.onnx").write_bytes(mlp_onnx_bytes(params))
    model = load_onnx(folder / "mlp.onnx")
    xt, yt = x[MNIST_TEST], y[MNIST_TEST]
    pcm = PRESETS["aihwkit-pcm"]
    configurations = [("ideal wires", pcm, 2)]
    configurations.append(
        ("1 ohm, approximate", dataclasses.replace(pcm, r_row=1.0, r_col=1.0, ir_drop="approximate"), 2)
    )
    if not skip_exact:
        configurations.append(("1 ohm, exact", dataclasses.replace(pcm, r_row=1.0, r_col=1.0), 1))
    print(f"MNIST MLP, 2,000 images, aihwkit-pcm, {TRIALS} trials x {len(TIMES)} times (cold: compiling):")
    baseline = None
    for name, hardware, calls in configurations:
        seconds = []
        for _ in range(calls):
            estimate = estimate_accuracy(
                model.apply, model.params, xt, yt, hardware, TIMES, TRIALS, 0, progress=False
            )
            seconds.append(estimate.seconds)
        baseline = baseline or seconds
        labelled = zip(("cold", "warm"), seconds, baseline, strict=False)
        ratios = ", ".join(f"{label} {s:.1f} s = {s / b:.2f}x ideal" for label, s, b in labelled)
        accuracy = ", ".join(f"{r['mean']:.4f}" for r in estimate.summary())
        print(f"  {name}: {ratios}; mean accuracy per time {accuracy}")


def wire_sweep(folder: Path) -> None:
    spec = {
        "model": "mlp.onnx",
        "data": "mnist[8000:10000]",
        "preset": "aihwkit-pcm",
        "set": {"ir_drop": "approximate", "wire.r_col": 1.0},
        "times": ["1h", "1y"],
        "trials": 2,
        "seed": 0,
        "axes": {"wire.r_row": WIRES},
    }
    path = folder / "wires.yaml"
    path.write_text(yaml.safe_dump(spec))
    start = time.perf_counter()
    run_sweep(path, folder / "wires", "inprocess", progress=False)
    seconds = time.perf_counter() - start
    print(f"sweep over wire.r_row in {WIRES} ohm, r_col 1 ohm (approximate, 2 trials x 2 times): ", end="")
    print(f"{len(WIRES) / seconds:.2f} points/s ({seconds:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-exact", action="store_true", help="leave out the exact model's estimate")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    tile_precompute()
    mlp_estimates(args.skip_exact, folder)
    wire_sweep(folder)


if __name__ == "__main__":
    main()
