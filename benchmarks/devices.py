"""Speed of the device models on this machine, as ratios to plain JAX measured in the same run.

    python benchmarks/devices.py        # or: make bench (all benchmarks)

Programs and reads 1,000,000 PCM devices and compares with ``jax.random.normal`` of the same size. The
physics needs three independent Gaussian draws per device (programming noise and drift exponent when
programming, read noise when reading), so the ratio to three ``jax.random.normal`` draws is printed too:
the least that an implementation drawing its numbers with ``jax.random`` pays.
"""

import argparse

import equinox as eqx
import jax
from _timing import best_time

from device_models import PCM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    n, repeats = args.devices, args.repeats
    key = jax.random.key(0)
    g_target = jax.random.uniform(jax.random.key(1), (n,), maxval=25.0)
    t = 3600.0

    normal = jax.jit(lambda k: jax.random.normal(k, (n,)))
    three_normals = jax.jit(lambda k: [jax.random.normal(ki, (n,)) for ki in jax.random.split(k, 3)])
    baseline = best_time(normal, key, repeats=repeats)
    floor = best_time(three_normals, key, repeats=repeats)
    print(f"{jax.devices()[0].platform.upper()}, {n:,} devices, best of {repeats}")
    print(f"  jax.random.normal({n:,}): {baseline * 1e3:7.2f} ms   (baseline, 1.00x)")
    print(f"  3 x jax.random.normal:     {floor * 1e3:7.2f} ms   ({floor / baseline:.2f}x)")
    for semantics in ("snapshot", "trajectory"):
        device = PCM(time_semantics=semantics)
        program = eqx.filter_jit(lambda d, k, g: d.program(k, g))
        read = eqx.filter_jit(lambda d, k, s: d.read(k, s, t))
        both = eqx.filter_jit(lambda d, k, g: d.read(k, d.program(k, g), t))
        state = program(device, key, g_target)
        timings = {
            "program": best_time(program, device, key, g_target, repeats=repeats),
            "read": best_time(read, device, key, state, repeats=repeats),
            "program + read": best_time(both, device, key, g_target, repeats=repeats),
        }
        for name, seconds in timings.items():
            if semantics == "trajectory" and name == "program":
                continue  # programming does not depend on the time semantics
            extra = f", {seconds / floor:.2f}x three normals" if name == "program + read" else ""
            label = f"PCM {name} ({semantics})"
            print(f"  {label:32s} {seconds * 1e3:7.2f} ms   ({seconds / baseline:.2f}x{extra})")


if __name__ == "__main__":
    main()
