"""Cold cost against depth: ``crossbar estimate`` of a 3-layer and a 24-layer MLP (every hidden layer of width
256; untrained, the cost does not depend on the weights' values) on 200 MNIST images, 4 trials x 2 times on
``aihwkit-pcm``, each in a fresh interpreter with the compilation cache off, as a first run is (goal: the
deep one at most 1.5x the shallow one). Both MLPs have three distinct layer shapes, and the estimate compiles
once per distinct layer.

Run: python benchmarks/estimate_depth.py
"""

import tempfile
from pathlib import Path

import jax
from _timing import cli_estimate

from crossbar.training import init_mlp, mlp_onnx_bytes


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    seconds = {}
    for depth in (3, 24):
        sizes = (784, *([256] * (depth - 1)), 10)
        path = folder / f"mlp{depth}.onnx"
        path.write_bytes(mlp_onnx_bytes(init_mlp(jax.random.key(0), sizes)))
        run = cli_estimate(str(path), "mnist[8000:8200]", "aihwkit-pcm", "1s,1y", 4, "off")
        seconds[depth] = run["monte_carlo_s"]
        print(f"{depth} layers: Monte Carlo {run['monte_carlo_s']:.2f} s (process {run['wall_s']:.1f} s)")
    print(f"24 layers / 3 layers: {seconds[24] / seconds[3]:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
