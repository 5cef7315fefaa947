"""Monte Carlo accuracy of a model on emulated chips over time: program N chips, read each at every time.

Every constant-weight matrix product of the model (``MatrixProduct``) runs on crossbar tiles; the rest runs in
digital. Each trial programs its own chip once; each time reads that chip (drift, read noise, drift
compensation) and runs the data through it. Trials run together under ``jax.vmap`` (programming, reading)
and in small vmapped batches (the data's pass: on CPU, ten trials under one vmap ran 1.5x slower than in
batches of two, measured on the MNIST MLP).

Keys: trial i uses ``fold_in(key(seed), i)``; from it, programming uses stream 0, reads stream 1 (the same
key at every time: device models fold the time in, or follow one trajectory), and the MVMs stream 2, then
the time (its bits: a time's numbers do not depend on the other times asked for), then the batch's index
(each batch of examples draws its own MVM noise).
"""

import dataclasses
import functools
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats
from tqdm import tqdm

from calibration import ChipProfile
from device_models._accumulated_noise import time_tag

from ._chip_arrays import chip_arrays, chip_periphery
from ._crossbar import Crossbar, Targets
from ._mapper import compile_network
from ._matrix_product import MatrixProduct, products_of

EXAMPLES_PER_STEP = 2000
TRIALS_PER_STEP = 2


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
        """Per time: mean, standard deviation (ddof 1) and the 95 % confidence interval of the mean accuracy
        (Student's t with trials - 1 degrees of freedom; ``None`` with one trial)."""
        rows = []
        n = self.accuracies.shape[0]
        for index, t in enumerate(self.times):
            a = self.accuracies[:, index]
            mean = float(np.mean(a))
            std = float(np.std(a, ddof=1)) if n > 1 else 0.0
            half = float(scipy.stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)) if n > 1 else None
            ci95 = None if half is None else [mean - half, mean + half]
            rows.append({"t_s": float(t), "mean": mean, "std": std, "ci95": ci95, "trials": a.tolist()})
        return rows


def estimate_accuracy(
    apply: Callable,
    params,
    x: np.ndarray,
    y: np.ndarray,
    hardware: Crossbar | ChipProfile,
    times: tuple[float, ...],
    trials: int,
    seed: int,
    *,
    batch: int = EXAMPLES_PER_STEP,
    trial_batch: int = TRIALS_PER_STEP,
    progress: bool = True,
) -> AccuracyEstimate:
    """Accuracy of ``apply(params, x, on_product)`` (an ``OnnxModel.apply`` or an intercepted function) on
    ``trials`` emulated chips at each of ``times`` seconds after programming.

    Args:
        apply, params: the model; ``apply(params, x, on_product)`` sends constant-weight products to
            ``on_product``.
        x, y: data (N, *input) and integer labels (N,).
        hardware: a ``Crossbar`` (every matrix on tiles of that configuration, e.g. a preset), or a chip's
            calibration profile (the network is compiled onto it, fault-aware, and every trial is that chip
            programmed again).
        times: read times (s).
        trials: chips to program.
        seed: the random seed; the same seed gives the same accuracies, bit for bit.
        batch: examples per evaluation step (each step draws its own output noise, so the numbers depend on
            it; the seed makes them reproducible for a given batch).
        trial_batch: trials evaluated together under ``jax.vmap`` (the rest in sequence under ``lax.map``);
            it changes the floating-point summation order only: output errors in their seventh digit.
        progress: show a progress bar.
    """
    products = products_of(apply, params, jax.ShapeDtypeStruct(x[:1].shape, jnp.float32))
    crossbars, targets = zip(*hardware_arrays(hardware, products), strict=True)
    chunks = example_chunks(len(x), batch)
    digital = digital_logits(apply, params, x, chunks)
    keys = trial_keys(jax.random.key(seed), trials)
    model = Model(apply, params)

    start = time.perf_counter()
    with tqdm(
        total=len(times) * len(chunks), desc="times x batches", disable=not progress, leave=False
    ) as bar:
        counts, squared_errors = monte_carlo(
            lambda: program(crossbars, targets, keys),
            lambda programmed, t: read(crossbars, keys, programmed, t),
            lambda reads, *step: evaluate(model, trial_batch, crossbars, keys, reads, *step),
            times,
            x,
            y,
            chunks,
            digital,
            (trials,),
            bar.update,
        )
    seconds = time.perf_counter() - start
    right_digitally = sum(
        int(jnp.sum(jnp.argmax(d, axis=-1) == y[c])) for d, c in zip(digital, chunks, strict=True)
    )
    errors = np.sqrt(squared_errors / sum(float(jnp.sum(jnp.square(d))) for d in digital))
    return AccuracyEstimate(
        right_digitally / len(x), tuple(float(t) for t in times), counts / len(x), seconds, errors
    )


def example_chunks(n: int, batch: int) -> list[slice]:
    """The examples 0..n-1 in steps of at most ``batch``."""
    return [slice(i, min(i + batch, n)) for i in range(0, n, batch)]


def monte_carlo(program_all, read_all, evaluate_all, times, x, y, chunks, digital, shape, on_step) -> tuple:
    """Program once, read at every time, pass every step of examples: the correct answers and the squared
    output errors, each ``shape + (times,)`` (``shape``: trials, or points and trials).

    ``program_all()``, ``read_all(programmed, t)`` and ``evaluate_all(reads, t, step, xb, yb, digital)`` are
    the compiled stages; ``chunks`` the steps (``example_chunks``) and ``digital`` their digital outputs;
    ``on_step()`` follows each step.
    """
    counts = np.zeros((*shape, len(times)), np.int64)
    squared = np.zeros((*shape, len(times)))
    programmed = program_all()
    for index, t in enumerate(times):
        reads = read_all(programmed, jnp.float32(t))
        for step, chunk in enumerate(chunks):
            right, error = evaluate_all(reads, jnp.float32(t), step, x[chunk], y[chunk], digital[step])
            counts[..., index] += np.asarray(right)
            squared[..., index] += np.asarray(error, np.float64)
            on_step()
    return counts, squared


def trial_keys(key: jax.Array, trials: int) -> jax.Array:
    """The key of each trial (trials,): trial i uses ``fold_in(key, i)``."""
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(trials))


def hardware_arrays(
    hardware: Crossbar | ChipProfile, products: list[MatrixProduct]
) -> list[tuple[Crossbar, Targets]]:
    """The tile grid and conductance targets of every matrix of the model, in order."""
    if isinstance(hardware, Crossbar):
        matrices = [m for product in products for m in product.matrices()]
        return [(hardware, hardware.targets(jnp.asarray(m, jnp.float32))) for m in matrices]
    mapping = compile_network([layer for product in products for layer in product.layers()], hardware)
    return chip_arrays(mapping, chip_periphery(hardware))


class Model:
    """``apply`` with its ``params``, hashed by identity: a static argument, so that the compiled stages are
    reused while the same model is estimated again (other times, the same number of trials, another seed)."""

    def __init__(self, apply: Callable, params):
        self.apply, self.params = apply, params

    def __hash__(self):
        return hash((self.apply, id(self.params)))

    def __eq__(self, other):
        return isinstance(other, Model) and self.apply == other.apply and self.params is other.params


@jax.jit
def program(crossbars: tuple, targets: tuple, keys: jax.Array) -> list:
    """Every trial's chip: each matrix programmed (trials vmapped)."""

    def one(key):
        k = jax.random.fold_in(key, 0)
        return [
            c.program_targets(jax.random.fold_in(k, i), t)
            for i, (c, t) in enumerate(zip(crossbars, targets, strict=True))
        ]

    return jax.vmap(one)(keys)


@jax.jit
def read(crossbars: tuple, keys: jax.Array, programmed: list, t: jax.Array) -> list:
    """Every trial's chip read at time t (s)."""

    def one(key, chip):
        k = jax.random.fold_in(key, 1)
        return [
            c.read(jax.random.fold_in(k, i), p, t)
            for i, (c, p) in enumerate(zip(crossbars, chip, strict=True))
        ]

    return jax.vmap(one)(keys, programmed)


@functools.partial(jax.jit, static_argnames=("model", "trial_batch"))
def evaluate(model: Model, trial_batch: int, crossbars, keys, reads, t, chunk_index, xb, yb, digital):
    """Per trial, on one batch (xb, yb) read at time t (s): correct predictions, and the squared error of the
    outputs against the digital outputs ``digital``."""

    def one(key_and_chip):
        key, chip = key_and_chip
        k = jax.random.fold_in(time_tag(jax.random.fold_in(key, 2), t), chunk_index)
        logits = model.apply(model.params, xb, _on_crossbar(crossbars, chip, k))
        return jnp.sum(jnp.argmax(logits, axis=-1) == yb), jnp.sum(jnp.square(logits - digital))

    return jax.lax.map(one, (keys, reads), batch_size=trial_batch)


def _on_crossbar(crossbars: tuple, chip: list, key: jax.Array) -> Callable[[MatrixProduct], jax.Array]:
    """A product hook that runs the model's products, in order, on the chip's read matrices."""
    position = iter(range(len(chip)))

    def on_product(product: MatrixProduct) -> jax.Array:
        outputs = []
        for rows in product.rows():
            i = next(position)
            outputs.append(crossbars[i].matmul(jax.random.fold_in(key, i), chip[i], rows))
        return product.assemble(outputs)

    return on_product


def digital_logits(apply: Callable, params, x: np.ndarray, chunks: list[slice]) -> list[jax.Array]:
    """The model's digital outputs, one array per chunk of examples."""
    logits_of = jax.jit(lambda xb: apply(params, xb, None))
    return [logits_of(x[chunk]) for chunk in chunks]
