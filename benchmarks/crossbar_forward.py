"""Speed of a crossbar layer on this machine, as ratios to a plain ``x @ W`` measured in the same run.

    python benchmarks/crossbar_forward.py      # or: make bench (all benchmarks)

A 512 x 512 layer and a batch of 256: the ``aihwkit-pcm`` forward (programmed and drifted PCM weights, 7-bit
DAC, 9-bit ADC, output noise, noise and bound management, global drift compensation), the same with exact and
with approximate IR drop at r * g_max = 1e-4 (after the precompute per read, whose time is printed too), and
a nonlinear-I-V IR-drop solve of a 256 x 256 tile for a batch of 64.
"""

import argparse
import dataclasses
import time

import equinox as eqx
import jax
from _timing import best_time

from crossbar import PRESETS, ir_drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    repeats = args.repeats
    key = jax.random.key(0)
    k_w, k_x, k_prog, k_read, k_mvm = jax.random.split(key, 5)
    w = 0.3 * jax.random.normal(k_w, (512, 512))
    x = jax.random.normal(k_x, (256, 512))

    matmul = jax.jit(lambda x, w: x @ w)
    baseline = best_time(matmul, x, w, repeats=repeats)
    print(f"{jax.devices()[0].platform.upper()}, 512 x 512 layer, batch 256, best of {repeats}")
    print(f"  x @ W (plain JAX):                      {baseline * 1e3:8.3f} ms   (baseline, 1.00x)")

    forward = eqx.filter_jit(lambda c, k, r, x: c.matmul(k, r, x))
    read = eqx.filter_jit(lambda c, k, p, t: c.read(k, p, t))
    aihwkit = PRESETS["aihwkit-pcm"]
    r_segment = 1e-4 / (float(aihwkit.device.g_max) * 1e-6)  # r * g_max = 1e-4
    with_ir_drop = dataclasses.replace(aihwkit, r_row=r_segment, r_col=r_segment)
    for name, crossbar in (
        ("aihwkit-pcm", aihwkit),
        (f"aihwkit-pcm + IR drop (r = {r_segment:g} ohm)", with_ir_drop),
        ("the same, approximate IR drop", dataclasses.replace(with_ir_drop, ir_drop="approximate")),
    ):
        programmed = eqx.filter_jit(lambda c, k, w: c.program(k, w))(crossbar, k_prog, w)
        read(crossbar, k_read, programmed, 3600.0)  # compile
        start = time.perf_counter()
        weights = jax.block_until_ready(read(crossbar, k_read, programmed, 3600.0))
        precompute = time.perf_counter() - start
        seconds = best_time(forward, crossbar, k_mvm, weights, x, repeats=repeats)
        print(f"  {name:38s} {seconds * 1e3:8.3f} ms   ({seconds / baseline:.2f}x)")
        print(f"    read at t = 1 h (drift, noise, IR drop, compensation), once per time: {precompute:.3f} s")

    g = jax.random.uniform(k_w, (256, 256), minval=1e-6, maxval=25e-6)
    v = 0.2 * jax.random.uniform(k_x, (64, 256), minval=-1.0, maxval=1.0)
    nonlinear = jax.jit(lambda g, v: ir_drop.column_currents_nonlinear(g, v, 4.0, 4.0, 3.0))
    seconds = best_time(nonlinear, g, v, repeats=max(3, repeats // 10))
    linear_mvm = best_time(matmul, v, g, repeats=repeats)
    print(
        f"  nonlinear I-V IR drop, 256 x 256 tile, batch 64 (iv_b = 3/V, |v| <= 0.2 V, r = 4 ohm): "
        f"{seconds * 1e3:.1f} ms ({seconds / linear_mvm:.0f}x its plain matmul)"
    )


if __name__ == "__main__":
    main()
