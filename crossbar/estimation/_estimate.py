"""Monte Carlo accuracy of a model on emulated chips over time: program N chips, read each at every time.

Every constant-weight matrix product of the model (``MatrixProduct``) runs on crossbar tiles; the rest runs in
digital. Each trial programs its own chip once; each time reads that chip (drift, read noise, drift
compensation) and runs the data through it (``_monte_carlo``).
"""

import dataclasses
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from calibration import ChipProfile

from ..array import Crossbar, Targets
from ..compiler import ChipWires, Layout, chip_arrays, chip_wires, compile_network
from ..hardware import Chip
from ..networks import MatrixProduct, products_of
from ._monte_carlo import EXAMPLES_PER_STEP, Examples, Model, monte_carlo, stages, trial_keys
from ._statistics import json_number, trial_statistics
from ._wired_chip import wired_stages


@dataclasses.dataclass(frozen=True)
class AccuracyEstimate:
    """Accuracies of ``trials`` chips at each time.

    Attributes:
        digital_accuracy: the model's accuracy computed digitally.
        times: read times (s).
        accuracies: (trials, times) accuracy of each chip at each time.
        seconds: wall time of the Monte Carlo part (s).
        output_errors: (trials, times) relative error of the model's outputs on each chip against the digital
            outputs, ||y_chip - y_digital|| / ||y_digital|| over all examples and outputs, or ``None``.
    """

    digital_accuracy: float
    times: tuple[float, ...]
    accuracies: np.ndarray
    seconds: float
    output_errors: np.ndarray | None = None

    def summary(self) -> list[dict]:
        """Per time: the mean accuracy, its standard deviation and the 95 % confidence interval of the mean
        (``trial_statistics``; ``None`` where undefined, with one trial), and every trial's accuracy."""
        rows = []
        for index, t in enumerate(self.times):
            a = self.accuracies[:, index]
            stats = trial_statistics(a)
            rows.append(
                {"t_s": float(t), "mean": stats.mean, "std": json_number(stats.std), "ci95": stats.ci95}
                | {"trials": a.tolist()}
            )
        return rows


def estimate_accuracy(
    apply: Callable,
    params,
    x: np.ndarray,
    y: np.ndarray,
    hardware: Crossbar | Chip | ChipProfile,
    times: tuple[float, ...],
    trials: int,
    seed: int,
    *,
    examples_per_step: int = EXAMPLES_PER_STEP,
    progress: bool = True,
    placement: str = "default",
    layout: Layout | None = None,
) -> AccuracyEstimate:
    """Accuracy of ``apply(params, x, on_product)`` (an ``OnnxModel.apply`` or an intercepted function) on
    ``trials`` emulated chips at each of ``times`` seconds after programming.

    Args:
        apply, params: the model; ``apply(params, x, on_product)`` sends constant-weight products to
            ``on_product``.
        x, y: data (N, *input) and integer labels (N,).
        hardware: a ``Crossbar`` (every matrix on tiles of that configuration, e.g. a preset), or a
            calibrated chip (a ``Chip``, or its ``ChipProfile`` with the default periphery): the network is
            compiled onto it, fault-aware, and every trial is that chip programmed again; tiles with wires
            are solved whole at every read (docs/models.md section 10.4).
        times: read times (s).
        trials: chips to program.
        seed: the random seed; the same seed gives the same accuracies, bit for bit.
        examples_per_step: examples evaluated at once (each step draws its own output noise, so the numbers
            depend on it; the seed makes them reproducible for a given value).
        progress: show a progress bar.
        placement: where the compiler puts a chip's blocks (``crossbar.compiler.PLACEMENTS``).
        layout: with a chip, the layout of an earlier compile to keep (``crossbar.compiler.layout_of``;
            e.g. the one a network was fine-tuned on) instead of placing and permuting afresh.
    """
    products = products_of(apply, params, jax.ShapeDtypeStruct(x[:1].shape, jnp.float32))
    arrays, wires = _hardware_setup(hardware, products, placement, layout)
    examples = Examples.of(apply, params, x, y, examples_per_step)
    bar = tqdm(
        total=len(times) * len(examples.steps), desc="times x batches", disable=not progress, leave=False
    )
    with bar:
        return estimate_on(apply, params, examples, arrays, times, trials, seed, bar.update, wires)


def estimate_on(
    apply: Callable,
    params,
    examples: Examples,
    arrays: list[tuple[Crossbar, Targets]],
    times: tuple[float, ...],
    trials: int,
    seed: int,
    on_step: Callable[[], None],
    wires: ChipWires | None = None,
) -> AccuracyEstimate:
    """``estimate_accuracy`` on ``examples`` with the matrices ``apply`` hands over on ``arrays`` (the tile
    grid and conductance targets of each, in order), on a chip whose tiles have ``wires`` if given;
    ``on_step()`` follows each step of examples."""
    keys = trial_keys(jax.random.key(seed), trials)
    model = Model(apply, params)
    if wires is None:
        run = stages(model, *zip(*arrays, strict=True), keys)
    else:
        run = wired_stages(model, *zip(*arrays, strict=True), wires, keys)
    start = time.perf_counter()
    counts, squared_errors = monte_carlo(run, examples, times, on_step)
    seconds = time.perf_counter() - start
    errors = np.sqrt(squared_errors / examples.digital_square_sum())
    return AccuracyEstimate(
        examples.digital_accuracy(), tuple(float(t) for t in times), counts / len(examples.x), seconds, errors
    )


def hardware_arrays(
    hardware: Crossbar | Chip | ChipProfile,
    products: list[MatrixProduct],
    placement: str = "default",
    layout: Layout | None = None,
) -> list[tuple[Crossbar, Targets]]:
    """The tile grid and conductance targets of every matrix of the model, in order (a chip's wires
    left out: each tile grid alone, with ideal wires); ``placement`` and ``layout`` as in
    ``compile_network``."""
    return _hardware_setup(hardware, products, placement, layout)[0]


def _hardware_setup(
    hardware: Crossbar | Chip | ChipProfile,
    products: list[MatrixProduct],
    placement: str = "default",
    layout: Layout | None = None,
) -> tuple[list[tuple[Crossbar, Targets]], ChipWires | None]:
    """The tile grid and conductance targets of every matrix of the model, in order, and a chip's wires
    (``None`` for a ``Crossbar``, a chip whose used tiles all have ideal wires, or ``ir_drop`` none)."""
    if isinstance(hardware, Crossbar):
        matrices = [m for product in products for m in product.matrices()]
        return [(hardware, _targets(hardware, jnp.asarray(m, jnp.float32))) for m in matrices], None
    chip = Chip.of(hardware) if isinstance(hardware, ChipProfile) else hardware
    layers = [layer for product in products for layer in product.layers()]
    mapping = compile_network(layers, chip.profile, placement=placement, layout=layout)
    arrays = chip_arrays(mapping, chip.periphery, chip.drift_compensation)
    wires = chip_wires(mapping, chip.ir_drop)
    return [(chip.configured(crossbar), targets) for crossbar, targets in arrays], wires


@jax.jit
def _targets(crossbar: Crossbar, matrix: jax.Array) -> Targets:
    """``crossbar.targets(matrix)``, compiled once per distinct configuration and shape."""
    return crossbar.targets(matrix)
