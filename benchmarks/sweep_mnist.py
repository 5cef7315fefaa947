"""A 64-point sweep of the MNIST MLP 784-256-128-10 (prog_noise_scale x drift_scale x read_noise_scale, 4
values each, aihwkit-pcm, 2 trials, 2 read times, 2,000 test images): points per second with the in-process
vectorized executor (16 points per vmapped chunk), with ``--scheduler local --workers 2``, and one point at a
time (chunks of one), in process. Every figure includes compilation, as a user's run does.

Run: python benchmarks/sweep_mnist.py
"""

import tempfile
import time
from pathlib import Path

import yaml

from crossbar.datasets import MNIST_TRAIN, load_mnist
from crossbar.sweeps import run_sweep
from crossbar.training import mlp_onnx_bytes, train_mlp

AXES = {
    "device.prog_noise_scale": [0.5, 1.0, 1.5, 2.0],
    "device.drift_scale": [0.5, 1.0, 1.5, 2.0],
    "device.read_noise_scale": [0.5, 1.0, 1.5, 2.0],
}


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    x, y = load_mnist()
    params = train_mlp(x[MNIST_TRAIN], y[MNIST_TRAIN], (784, 256, 128, 10), epochs=10)
    (folder / "mlp.onnx").write_bytes(mlp_onnx_bytes(params))

    def sweep(name: str, batch: int, scheduler: str) -> float:
        spec = {
            "model": "mlp.onnx",
            "data": "mnist[8000:10000]",
            "preset": "aihwkit-pcm",
            "times": ["1h", "1y"],
            "trials": 2,
            "seed": 0,
            "batch": batch,
            "axes": AXES,
        }
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec))
        start = time.perf_counter()
        run_sweep(path, folder / name, scheduler, workers=2, progress=False)
        return 64 / (time.perf_counter() - start)

    vectorized = sweep("vectorized", 16, "inprocess")
    dask = sweep("dask", 16, "local")
    one_by_one = sweep("one_by_one", 1, "inprocess")
    print(f"in process, 16 points per vmapped chunk: {vectorized:.2f} points/s")
    print(f"--scheduler local --workers 2 (same chunks): {dask:.2f} points/s")
    print(f"in process, one point at a time: {one_by_one:.2f} points/s")
    print(f"vectorizing points: {vectorized / one_by_one:.1f}x the speed of one at a time")


if __name__ == "__main__":
    main()
