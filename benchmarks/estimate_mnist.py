"""Monte Carlo accuracy of the MNIST MLP 784-256-128-10 on 2,000 test images: 5 times x 10 trials with the
``aihwkit-pcm`` preset, against the same 50 evaluations done digitally in JAX (issue goal: at most 2x).

Run: python benchmarks/estimate_mnist.py
"""

import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from crossbar import PRESETS
from crossbar._estimation import estimate_accuracy
from crossbar.datasets import MNIST_TEST, MNIST_TRAIN, load_mnist
from crossbar.onnx_model import load_onnx
from crossbar.training import mlp_onnx_bytes, train_mlp

TIMES = (1.0, 3600.0, 86400.0, 2629800.0, 31557600.0)
TRIALS = 10


def main() -> None:
    x, y = load_mnist()
    params = train_mlp(x[MNIST_TRAIN], y[MNIST_TRAIN], (784, 256, 128, 10), epochs=10)
    path = Path(tempfile.mkdtemp()) / "mlp.onnx"
    path.write_bytes(mlp_onnx_bytes(params))
    model = load_onnx(path)
    xt, yt = x[MNIST_TEST], y[MNIST_TEST]

    digital = jax.jit(lambda xb: model.apply(model.params, xb))
    start = time.perf_counter()
    for _ in range(len(TIMES) * TRIALS):
        accuracy = float(np.mean(np.argmax(np.asarray(digital(xt)), axis=-1) == yt))
    digital_s = time.perf_counter() - start  # includes its one compilation, as the estimate's time does

    runs = []
    for _ in range(2):
        estimate = estimate_accuracy(
            model.apply, model.params, xt, yt, PRESETS["aihwkit-pcm"], TIMES, TRIALS, 0, progress=False
        )
        runs.append(estimate.seconds)
    print(f"digital accuracy {accuracy:.4f}; 50 digital evaluations of 2,000 images: {digital_s:.3f} s")
    for index, seconds in enumerate(runs):
        print(
            f"aihwkit-pcm, {TRIALS} trials x {len(TIMES)} times, run {index + 1}: {seconds:.2f} s "
            f"= {seconds / digital_s:.1f}x digital (goal <= 2x; aihwkit about 22x)"
        )
    print("mean accuracy per time:", ", ".join(f"{r['mean']:.4f}" for r in estimate.summary()))


if __name__ == "__main__":
    main()
