"""Timing helper shared by the benchmarks."""

import time

import jax


def best_time(fn, *args, repeats: int) -> float:
    """Best wall time (s) of ``repeats`` calls after one warm-up (compile) call."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)
