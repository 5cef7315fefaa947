"""Built-in datasets: ``mnist``, the 10,000 genuine MNIST test images shipped with the package (LeCun, Cortes
and Burges; CC BY-SA 3.0). The project's convention: train on images 0..7999, evaluate on 8000..9999."""

import gzip
from pathlib import Path

import numpy as np

_HERE = Path(__file__).parent
MNIST_TRAIN = slice(0, 8000)
MNIST_TEST = slice(8000, 10000)


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """Images (10000, 784) float32 in [0, 1] and labels (10000,) int32."""
    with gzip.open(_HERE / "t10k-images-idx3-ubyte.gz") as handle:
        images = np.frombuffer(handle.read(), np.uint8, offset=16).reshape(-1, 28 * 28)
    with gzip.open(_HERE / "t10k-labels-idx1-ubyte.gz") as handle:
        labels = np.frombuffer(handle.read(), np.uint8, offset=8)
    return images.astype(np.float32) / 255.0, labels.astype(np.int32)
