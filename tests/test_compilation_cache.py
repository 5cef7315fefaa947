"""The command's persistent compilation cache: where it lives, how to turn it off, and that a run that loads
its programs from it gives the same numbers bit for bit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import digits_mlp

from crossbar.cli._compilation_cache import ENVIRONMENT_VARIABLE, cache_folder
from crossbar.training import mlp_onnx_bytes


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no", ""])
def test_the_cache_is_turned_off_by_the_environment(value, monkeypatch):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, value)
    assert cache_folder() is None


def test_the_cache_lives_where_the_environment_says(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path / "jax"))
    assert cache_folder() == tmp_path / "jax"
    monkeypatch.delenv(ENVIRONMENT_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "crossbar-emulator" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_folder() == Path.home() / ".cache" / "crossbar-emulator" / "jax"


@pytest.mark.slow
def test_a_second_run_loads_its_programs_and_gives_the_same_numbers(tmp_path):
    model = tmp_path / "mlp.onnx"
    model.write_bytes(mlp_onnx_bytes(digits_mlp((32,))))
    cache = tmp_path / "cache"
    environment = os.environ | {ENVIRONMENT_VARIABLE: str(cache)}
    documents = []
    for run in range(2):
        out = tmp_path / f"run{run}.json"
        argv = ["estimate", str(model), "--data", "digits[1200:]", "--preset", "aihwkit-pcm"]
        argv += ["--times", "1s,1y", "--trials", "3", "--seed", "5", "--json", str(out)]
        result = subprocess.run(
            [sys.executable, "-m", "crossbar.cli", *argv], capture_output=True, text=True, env=environment
        )
        assert result.returncode == 0, result.stderr
        if run == 0:
            entries = sorted(cache.iterdir())
            assert entries, "the first run kept no compiled program"
        documents.append(json.loads(out.read_text()))
    assert sorted(cache.iterdir()) == entries  # the second run compiled nothing new
    for document in documents:
        del document["seconds"]
    assert documents[0] == documents[1]
