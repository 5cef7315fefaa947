"""The PyTorch ResNet fixture (tests/data/pytorch/resnet_torchscript.onnx: 8 convolutions, one of them
depthwise, and a linear head) on 2,000 MNIST test images, 5 times x 10 trials on ``aihwkit-pcm``, against the
same 50 evaluations done digitally in JAX, first and second call of each in this process.

Run: python benchmarks/estimate_resnet.py
"""

from pathlib import Path

import jax
from _timing import digital_evaluations

from crossbar import PRESETS, estimate_accuracy
from crossbar.datasets import MNIST_TEST, load_mnist
from crossbar.networks import load_onnx

MODEL = Path(__file__).parent.parent / "tests" / "data" / "pytorch" / "resnet_torchscript.onnx"
TIMES = (1.0, 3600.0, 86400.0, 2629800.0, 31557600.0)
TRIALS = 10


def main() -> None:
    x, y = load_mnist()
    model = load_onnx(MODEL)
    xt, yt = x[MNIST_TEST].reshape(-1, 1, 28, 28), y[MNIST_TEST]

    *digital, accuracy = digital_evaluations(model, xt, yt, len(TIMES) * TRIALS)
    analog = [
        estimate_accuracy(
            model.apply, model.params, xt, yt, PRESETS["aihwkit-pcm"], TIMES, TRIALS, 0, progress=False
        )
        for _ in range(2)
    ]
    print(f"device: {jax.devices()[0].device_kind}; digital accuracy {accuracy:.4f}")
    for index, name in enumerate(("first call (compiling)", "second call (compiled)")):
        seconds = analog[index].seconds
        print(
            f"{name}: 50 digital evaluations {digital[index]:.2f} s; aihwkit-pcm {TRIALS} trials x "
            f"{len(TIMES)} times {seconds:.1f} s = {seconds / digital[index]:.1f}x digital"
        )
    print("mean accuracy per time:", ", ".join(f"{r['mean']:.4f}" for r in analog[1].summary()))


if __name__ == "__main__":
    main()
