"""The Python examples in the README run as written."""

import re
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text()
EXAMPLES = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("code", EXAMPLES, ids=lambda c: c.splitlines()[0][:40])
def test_readme_example_runs(code):
    exec(compile(code, "README.md", "exec"), {})


def test_the_readme_profile_example_is_valid(tmp_path):
    """The complete example profile in the README loads (its tile-1 mask written beside it)."""
    import numpy as np

    import calibration

    (example,) = re.findall(r"```yaml\n(version: 1.*?)```", README, flags=re.DOTALL)
    (tmp_path / "chip.yaml").write_text(example)
    mask = np.zeros((4, 8), np.int8)
    mask[1, 1] = 1
    np.save(tmp_path / "tile1-stuck.npy", mask)
    profile = calibration.load(tmp_path / "chip.yaml")
    assert profile.chip_id == "wafer7-die12"
    assert profile.tiles[0].stuck[0, 3] == 1 and profile.tiles[0].stuck[2, 6] == 2
    assert profile.tiles[1].stuck.sum() == 1
    assert profile.tiles[0].adc_gain.tolist() == [1.02, 0.98, 1.0, 1.01]


def test_the_readme_sweep_spec_is_valid(tmp_path):
    """The README's sweep spec loads: 3 x 5 x 3 grid points, each with 16 random draws."""
    import jax

    from crossbar.sweeps import load_spec
    from crossbar.training import init_mlp, mlp_onnx_bytes

    (example,) = re.findall(r"```yaml\n(model: mnist_mlp.onnx.*?)```", README, flags=re.DOTALL)
    (tmp_path / "spec.yaml").write_text(example)
    (tmp_path / "mnist_mlp.onnx").write_bytes(mlp_onnx_bytes(init_mlp(jax.random.key(0), (784, 16, 10))))
    spec = load_spec(tmp_path / "spec.yaml")
    assert len(spec.points) == 3 * 5 * 3 * 16
    assert spec.times == (1.0, 86400.0, 31557600.0) and spec.trials == 5
    assert all(0.0 <= p["periphery.output_noise"] <= 0.1 for p in spec.points)
