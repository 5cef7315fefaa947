"""The forward pass of hardware-aware training: every matrix product of a model programmed onto fresh devices,
read at one time, and multiplied through the periphery, with a straight-through backward.

Forward: the weights of each product (as the model computes them from its parameters, plus any injected
noise) become conductance targets, are programmed (programming noise, faults), read at time t (drift, read
noise, IR drop, drift compensation) and multiplied (DAC, output noise, ADC, bound management), by the same
``Crossbar`` code the estimator runs. Backward: the weights a tile holds are replaced, for the gradient only,
by the ideal ones (``w_read = w + stop_gradient(w_read - w)``), and ``managed_mvm`` differentiates as the
ideal ``x @ w``: noisy forward, ideal backward, as aihwkit's inference tiles do (Rasch et al., Nat. Commun.
14, 5282 (2023)). The programming path itself is not differentiated: its clipping to the conductance window
(a device programmed below g_min) would zero the gradient of small weights at random.
"""

import dataclasses
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ..array import Crossbar, Targets, to_blocks
from ..networks import MatrixProduct

WEIGHT_NOISE = ("none", "additive", "multiplicative")


@dataclasses.dataclass(frozen=True)
class ChipForward:
    """The tiles each matrix of a model runs on, in the order the model computes them.

    Attributes:
        crossbars: one ``Crossbar`` per matrix.
        compiled: a chip's compiled targets per matrix, with the weights ``w0`` (IN, OUT) they were compiled
            from, or ``None`` for a configuration whose targets follow the weights (``Crossbar.targets``).
        weight_noise: ``"none"``, ``"additive"`` (Gaussian, std ``noise_scale`` x the matrix's max |w|) or
            ``"multiplicative"`` (each weight times 1 + ``noise_scale`` x a Gaussian), drawn each step.
        noise_scale: the relative standard deviation of the injected weight noise.
    """

    crossbars: tuple[Crossbar, ...]
    compiled: tuple[tuple[Targets, jax.Array], ...] | None = None
    weight_noise: str = "none"
    noise_scale: float = 0.0

    def hook(self, key: jax.Array, t: jax.Array, crossbars: tuple, compiled) -> Callable:
        """``on_product`` for one training step: fresh chips read at ``t`` (s), with randomness from ``key``.

        ``crossbars`` and ``compiled`` are this object's fields as the step's traced arguments."""
        k_noise, k_program, k_read, k_mvm = jax.random.split(key, 4)
        start = 0

        def run(i, w, rows, crossbar, compiled_i, k_step):
            """One matrix (the i-th of the model) programmed, read and multiplied: (B, IN) -> (B, OUT)."""
            w = jnp.asarray(w, jnp.float32)
            noisy = self._with_noise(jax.random.fold_in(k_noise, i), w)
            targets = (
                crossbar.targets(jax.lax.stop_gradient(noisy))
                if compiled_i is None
                else _shifted(crossbar, *compiled_i, jax.lax.stop_gradient(noisy))
            )
            programmed = crossbar.program_targets(jax.random.fold_in(k_program, i), targets)
            read = crossbar.read(jax.random.fold_in(k_read, i), programmed, t)
            *_, r, cols = read.w.shape
            ideal = jnp.where(programmed.valid, to_blocks(w, r, cols), 0.0)
            read = eqx.tree_at(lambda m: m.w, read, ideal + jax.lax.stop_gradient(read.w - ideal))
            k = jax.random.fold_in(k_mvm, i)
            k = k if k_step is None else jax.random.fold_in(k, k_step)
            return crossbar.matmul(k, read, rows)

        def on_product(product: MatrixProduct) -> jax.Array:
            nonlocal start
            matrices, rows = product.matrices(), product.rows()
            positions = range(start, start + len(matrices))
            start += len(matrices)
            arrays = [(crossbars[i], None if compiled is None else compiled[i]) for i in positions]
            stacked = _stacked(arrays) if len(arrays) > 1 else None
            if stacked is None:  # each matrix alone
                together = zip(positions, matrices, rows, arrays, strict=True)
                outputs = [run(i, w, x, *pair, product.step) for i, w, x, pair in together]
            else:  # a grouped convolution's groups on alike tiles: one program for all
                batched = jax.vmap(run, in_axes=(0, 0, 0, 0, 0, None))
                i = jnp.arange(positions.start, positions.stop)
                outputs = list(batched(i, jnp.stack(matrices), jnp.stack(rows), *stacked, product.step))
            return product.assemble(outputs)

        return on_product

    def _with_noise(self, key: jax.Array, w: jax.Array) -> jax.Array:
        """The weights (IN, OUT) with this step's injected noise (no gradient through the noise)."""
        if self.weight_noise == "none" or self.noise_scale == 0:
            return w
        xi = jax.random.normal(key, w.shape, w.dtype)
        if self.weight_noise == "additive":
            return w + jax.lax.stop_gradient(self.noise_scale * jnp.max(jnp.abs(w)) * xi)
        return w + jax.lax.stop_gradient(self.noise_scale * w * xi)


def _shifted(crossbar: Crossbar, targets: Targets, w0: jax.Array, w: jax.Array) -> Targets:
    """A chip's compiled ``targets`` for weights ``w0`` (IN, OUT), moved to weights ``w``: each device's
    target shifted by the change of its ideal conductance (per-tile window and w_max as compiled, the row
    compensation undone), so the permutation, the stuck cells and the compensation around them stay."""
    *_, rows, cols = targets.valid.shape
    device = crossbar.device
    scale = 1.0 if targets.row_gain is None else 1.0 / targets.row_gain

    def ideal(weights):
        blocks = jnp.where(targets.valid, to_blocks(weights, rows, cols), 0.0) * scale
        return crossbar.mapping.conductances(blocks, targets.w_max, device.g_min, device.g_max)

    g = targets.g + ideal(w) - ideal(w0)
    return eqx.tree_at(lambda t: t.g, targets, g)


def _stacked(arrays: list[tuple[Crossbar, tuple | None]]) -> tuple | None:
    """The (crossbar, compiled) pairs of several matrices stacked along a new leading axis, when they are
    alike (the same structure and leaf shapes); ``None`` otherwise."""
    structures = {jax.tree.structure(a) for a in arrays}
    shapes = {tuple(jnp.shape(leaf) for leaf in jax.tree.leaves(a)) for a in arrays}
    if len(structures) > 1 or len(shapes) > 1:
        return None
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *arrays)
