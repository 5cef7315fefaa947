"""Timing helpers shared by the benchmarks."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp


def best_time(fn, *args, repeats: int) -> float:
    """Best wall time (s) of ``repeats`` calls after one warm-up (compile) call."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)


def cli_estimate(model: str, data: str, hardware: str, times: str, trials: int, cache: str) -> dict:
    """Run ``crossbar estimate`` in a fresh interpreter, as a user does, with the compilation cache folder
    ``cache`` (``off`` for none): its Monte Carlo seconds (compilation included), the process's wall time
    and the estimate's rows."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "estimate.json"
        argv = [sys.executable, "-m", "crossbar.cli", "estimate", model, "--data", data]
        argv += ["--hardware", hardware, "--times", times, "--trials", str(trials), "--seed", "0"]
        argv += ["--json", str(out)]
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=os.environ | {"CROSSBAR_JAX_CACHE": cache})
        wall = time.perf_counter() - start
        document = json.loads(out.read_text())
    return {"monte_carlo_s": document["seconds"], "wall_s": wall, "rows": document["rows"]}


def digital_evaluations(model, x, y, evaluations: int) -> tuple[float, float, float]:
    """The digital baseline, what a user writes to evaluate the accuracy ``evaluations`` times in JAX: wall
    times (s) of a first call (compiling) and a second call of that loop, and the accuracy."""
    correct = jax.jit(lambda xb, yb: jnp.sum(jnp.argmax(model.apply(model.params, xb), axis=-1) == yb))
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(evaluations):
            accuracy = int(correct(x, y)) / len(y)
        seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1], accuracy
