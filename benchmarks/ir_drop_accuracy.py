"""Error of the approximate IR-drop model against the exact solve, for square arrays of 64 to 1024 devices
a side and r * g_max from 1e-6 to 1e-3 (the table of docs/models.md section 6.5).

Conductances uniform in 0..g_max (g_max = 25 uS), r_row = r_col = r. Printed per case: the IR drop itself
(RMS of W_eff - g over the RMS of g, exact) and the approximate model's error (RMS of its W_eff minus the
exact one, over the RMS of g). Float64 up to 256 a side; float32 at 1024 (its exact solve is within about
1e-5 of float64, below every error it is compared with there).

Run: python benchmarks/ir_drop_accuracy.py [--sizes 64,256,1024]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from crossbar import ir_drop

G_MAX = 25e-6
R_G = (1e-6, 1e-5, 1e-4, 1e-3)


def relative_rms(a, b, scale) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)) / scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,256,1024", help="array sides, comma-separated")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print("| devices | r g_max | IR drop (exact) | approximate model's error | exact solve (s) |")
    print("|---|---|---|---|---|")
    for n in sizes:
        dtype = jnp.float64 if n <= 256 else jnp.float32
        with jax.enable_x64(dtype == jnp.float64):
            g = jax.random.uniform(jax.random.key(n), (n, n), dtype, 0.0, G_MAX)
            scale = float(np.sqrt(np.mean(np.asarray(g, np.float64) ** 2)))
            for r_g in R_G:
                r = r_g / G_MAX
                start = time.perf_counter()
                exact = jax.block_until_ready(ir_drop.effective_matrix(g, r, r))
                seconds = time.perf_counter() - start
                approximate = ir_drop.effective_matrix(g, r, r, model="approximate")
                drop, error = relative_rms(exact, g, scale), relative_rms(approximate, exact, scale)
                name = f"{n} x {n} ({jnp.dtype(dtype).name})"
                print(f"| {name} | {r_g:.0e} | {drop:.2e} | {error:.2e} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
