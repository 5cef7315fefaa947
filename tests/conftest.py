"""Test-wide settings and the helpers the test modules share.

JAX: implicit rank promotion is an error, as the design asks. Tiers: tests marked ``slow`` (the demo,
notebooks, Dask, fresh-interpreter CLI runs, long statistical checks, any test over about 3 s on two cores)
are left out by ``make check``.
Helpers (imported as ``from conftest import ...``): ``run_cli`` runs the command in a fresh interpreter,
``one_error_line`` checks the one-line error contract, ``digits`` loads scikit-learn's digits as the CLI
reads them, ``digits_mlp`` is a small MLP trained on the first 1,200 of them (tests use the rest);
``INPUTS_TRIED`` counts the inputs ``test_fuzz`` tried, which the session's summary prints.
"""

import functools
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
# The command keeps compiled programs in the user's cache folder; tests leave the home folder alone (the
# test of the cache gives it a folder of its own).
os.environ.setdefault("CROSSBAR_JAX_CACHE", "off")

INPUTS_TRIED = pytest.StashKey[int]()
"""How many hostile inputs ``test_fuzz`` ran through the command (printed in the session's summary)."""


def pytest_terminal_summary(terminalreporter, config):
    tried = config.stash.get(INPUTS_TRIED, 0)
    if tried:
        terminalreporter.write_line(f"hostile inputs tried (tests/test_fuzz.py): {tried}")


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the command in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "crossbar.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def one_error_line(stderr: str, prefix: str = "crossbar: error: ") -> str:
    """``stderr`` is exactly one line starting with ``prefix``, with no traceback; returns it."""
    assert stderr.count("\n") == 1 and stderr.startswith(prefix), stderr
    assert "Traceback" not in stderr
    return stderr


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits as ``crossbar estimate --data digits`` reads them."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int32)


@functools.cache
def digits_mlp(hidden: tuple[int, ...]) -> list[dict]:
    """An MLP with ``hidden`` layer sizes trained by scikit-learn on digits 0..1199 (seed 0): its layers as
    ``[{"w": (IN, OUT), "b": (OUT,)}, ...]`` (``crossbar.training.mlp_onnx_bytes`` writes it as ONNX)."""
    from sklearn.neural_network import MLPClassifier

    x, y = digits()
    mlp = MLPClassifier(hidden, max_iter=1000, random_state=0).fit(x[:1200], y[:1200])
    return [{"w": w, "b": b} for w, b in zip(mlp.coefs_, mlp.intercepts_, strict=True)]


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module: the whole suite in one process otherwise keeps
    every module's XLA executables to its end, and XLA's compiler aborted late in such runs."""
    yield
    jax.clear_caches()
