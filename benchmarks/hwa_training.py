"""One epoch of hardware-aware training of the PyTorch ResNet fixture (MNIST images 0..3999, batches of 64) on
the ``aihwkit-pcm`` preset, against one epoch of digital training of the same network in JAX: the same apply,
batch size, optimizer and loop of jitted steps (issue goal: at most 3x).

Each runs two epochs in this run; the second is timed (the first includes its compilation).

Run: python benchmarks/hwa_training.py
"""

import time

import jax
import numpy as np
import optax

from crossbar import PRESETS, load_onnx
from crossbar.datasets import load_mnist
from crossbar.training import train_hardware_aware

MODEL = "tests/data/pytorch/resnet_torchscript.onnx"
EXAMPLES = 4000
BATCH = 64


def digital_epochs(model, x, y, epochs: int) -> list[float]:
    """Seconds per epoch of plain JAX training of ``model`` (Adam, cosine decay, as HWA training runs it)."""
    params = {k: v for k, v in model.params.items() if v.dtype.kind == "f"}
    steps = len(x) // BATCH
    tx = optax.adam(optax.cosine_decay_schedule(1e-3, epochs * steps))

    @jax.jit
    def step(p, state, xb, yb):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(model.apply(p, xb), yb).mean()

        value, grads = jax.value_and_grad(loss)(p)
        updates, state = tx.update(grads, state, p)
        return optax.apply_updates(p, updates), state, value

    state, seconds = tx.init(params), []
    for epoch in range(epochs):
        start = time.perf_counter()
        order = np.asarray(jax.random.permutation(jax.random.key(epoch), len(x)))
        for number in range(steps):
            batch = order[number * BATCH : (number + 1) * BATCH]
            params, state, value = step(params, state, x[batch], y[batch])
            float(value)  # as HWA training reads its loss each step
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    images, labels = load_mnist()
    model = load_onnx(MODEL)
    x, y = images[:EXAMPLES].reshape(-1, *model.input_shape), labels[:EXAMPLES]
    digital = digital_epochs(model, x, y, 2)
    hardware = PRESETS["aihwkit-pcm"]
    _, history = train_hardware_aware(model.apply, model.params, x, y, hardware, epochs=2, batch_size=BATCH)
    hwa = history.seconds
    print(f"{EXAMPLES} images, batches of {BATCH}, {jax.devices()[0].platform}")
    print(f"digital epoch: {digital[1]:.2f} s (first, with compilation: {digital[0]:.2f} s)")
    print(f"HWA epoch:     {hwa[1]:.2f} s (first, with compilation: {hwa[0]:.2f} s)")
    print(f"ratio:         {hwa[1] / digital[1]:.2f}x (goal: at most 3x)")


if __name__ == "__main__":
    main()
