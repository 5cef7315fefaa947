"""The demo network: MNIST data, MLP training (reproducible), and its ONNX export."""

import jax
import numpy as np
import pytest

from crossbar.datasets import MNIST_TEST, MNIST_TRAIN, load_mnist
from crossbar.networks import load_onnx
from crossbar.training import accuracy, init_mlp, mlp_apply, mlp_onnx_bytes, train_mlp


def test_mnist_is_the_genuine_test_set():
    x, y = load_mnist()
    assert x.shape == (10000, 784) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() == 1.0
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.slow
def test_training_is_reproducible_and_learns():
    x, y = load_mnist()
    first = train_mlp(x[MNIST_TRAIN], y[MNIST_TRAIN], (784, 64, 10), seed=3, epochs=2)
    second = train_mlp(x[MNIST_TRAIN], y[MNIST_TRAIN], (784, 64, 10), seed=3, epochs=2)
    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second), strict=True):
        np.testing.assert_array_equal(a, b)
    # 2,000 held-out images: a 1-hidden-layer MLP after two epochs is far above chance (0.1).
    assert accuracy(mlp_apply(first, x[MNIST_TEST]), y[MNIST_TEST]) > 0.85


def test_onnx_export_computes_the_same_logits(tmp_path):
    params = init_mlp(jax.random.key(0), (20, 16, 8, 3))
    path = tmp_path / "mlp.onnx"
    path.write_bytes(mlp_onnx_bytes(params))
    model = load_onnx(path)
    x = np.random.default_rng(0).standard_normal((5, 20)).astype(np.float32)
    np.testing.assert_allclose(model.apply(model.params, x), mlp_apply(params, x), rtol=1e-5, atol=1e-5)
    assert [layer.name for layer in model.matrix_layers()] == ["fc1", "fc2", "fc3"]
    for layer, p in zip(model.matrix_layers(), params, strict=True):
        np.testing.assert_array_equal(layer.weight, np.asarray(p["w"], np.float32))
