"""The Monte Carlo loop shared by estimates and sweeps: program chips once, read them at every time, pass
every step of examples through them.

Keys: trial i uses ``fold_in(key(seed), i)``; from it, programming uses stream 0, reads stream 1 (the same
key at every time: device models fold the time in, or follow one trajectory), and the MVMs stream 2, then
the time (its bits: a time's numbers do not depend on the other times asked for), then the step's index
(each step of examples draws its own MVM noise).

Words: a *step* is a slice of the examples evaluated at once (``EXAMPLES_PER_STEP``); trials of a step run
``TRIALS_PER_STEP`` at a time under ``jax.vmap`` (on CPU, ten trials under one vmap ran 1.5x slower than in
batches of two, measured on the MNIST MLP). A sweep's *chunk* (a group of points) is a different thing.
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from emulator_common.random import time_tag

from ..array import ProgrammedMatrix, ReadMatrix
from ..networks import MatrixProduct

EXAMPLES_PER_STEP = 2000
TRIALS_PER_STEP = 2


@dataclasses.dataclass(frozen=True)
class Stages:
    """The compiled stages of one Monte Carlo run, each over all its chips at once.

    Attributes:
        program: ``program()`` -> every chip programmed.
        read: ``read(programmed, t)`` -> every chip read at time t (s).
        evaluate: ``evaluate(reads, t, step, xb, yb, digital)`` -> (correct answers, squared output error)
            per chip on one step of examples, against their digital outputs.
        shape: the chips' axes: (trials,), or (points, trials).
    """

    program: Callable
    read: Callable
    evaluate: Callable
    shape: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Examples:
    """Labelled examples in steps, with the model's digital outputs per step.

    Attributes:
        x, y: examples (N, ...) and integer labels (N,).
        steps: the slices of examples evaluated at once.
        digital: the model's digital outputs, one array per step.
    """

    x: np.ndarray
    y: np.ndarray
    steps: list[slice]
    digital: list[jax.Array]

    @classmethod
    def of(cls, apply: Callable, params, x: np.ndarray, y: np.ndarray, per_step: int) -> "Examples":
        """``x, y`` in steps of at most ``per_step`` examples, with ``apply(params, x)``'s digital outputs."""
        steps = [slice(i, min(i + per_step, len(x))) for i in range(0, len(x), per_step)]
        outputs_of = jax.jit(lambda xb: apply(params, xb, None))
        return cls(x, y, steps, [outputs_of(x[step]) for step in steps])

    def digital_accuracy(self) -> float:
        right = sum(
            int(jnp.sum(jnp.argmax(d, -1) == self.y[s]))
            for d, s in zip(self.digital, self.steps, strict=True)
        )
        return right / len(self.x)

    def digital_square_sum(self) -> float:
        """Sum of the squared digital outputs: the reference of the relative output error."""
        return sum(float(jnp.sum(jnp.square(d))) for d in self.digital)


def monte_carlo(stages: Stages, examples: Examples, times, on_step: Callable[[], None]) -> tuple:
    """Program once, read at every time, pass every step of examples: the correct answers and the squared
    output errors, each ``stages.shape + (times,)``; ``on_step()`` follows each step."""
    counts = np.zeros((*stages.shape, len(times)), np.int64)
    squared = np.zeros((*stages.shape, len(times)))
    programmed = stages.program()
    for index, t in enumerate(times):
        reads = stages.read(programmed, jnp.float32(t))
        for number, step in enumerate(examples.steps):
            xb, yb = examples.x[step], examples.y[step]
            right, error = stages.evaluate(reads, jnp.float32(t), number, xb, yb, examples.digital[number])
            counts[..., index] += np.asarray(right)
            squared[..., index] += np.asarray(error, np.float64)
            on_step()
    return counts, squared


def trial_keys(key: jax.Array, trials: int) -> jax.Array:
    """The key of each trial (trials,): trial i uses ``fold_in(key, i)``."""
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(trials))


@dataclasses.dataclass(frozen=True)
class Model:
    """A model to evaluate on chips: ``apply(params, x, on_product)`` with its ``params``."""

    apply: Callable
    params: Any


def stages(model: Model, crossbars: tuple, targets: tuple, keys: jax.Array, trials_per_step: int) -> Stages:
    """The stages of ``keys``' trials of the model, its matrices on ``crossbars`` with ``targets``."""
    return Stages(
        functools.partial(program, crossbars, targets, keys),
        functools.partial(read, crossbars, keys),
        functools.partial(evaluate, model, trials_per_step, crossbars, keys),
        keys.shape,
    )


def program(crossbars: tuple, targets: tuple, keys: jax.Array) -> list:
    """Every trial's chip: per matrix, its tiles programmed for all trials (stacked on a leading axis)."""
    return [_program_matrix(c, t, keys, i) for i, (c, t) in enumerate(zip(crossbars, targets, strict=True))]


def read(crossbars: tuple, keys: jax.Array, programmed: list, t: jax.Array) -> list:
    """Every trial's chip read at time t (s): per matrix, its tiles' weights for all trials."""
    pairs = enumerate(zip(crossbars, programmed, strict=True))
    return [_read_matrix(c, keys, p, t, i) for i, (c, p) in pairs]


def evaluate(model: Model, trials_per_step: int, crossbars, keys, reads, t, step, xb, yb, digital):
    """Per trial, on one step of examples (xb, yb) read at time t (s): correct predictions, and the squared
    error of the outputs against the digital outputs ``digital``. Trials run ``trials_per_step`` at a time
    under ``jax.vmap``; the model's digital operations run one by one, its products through
    ``_matmul_on_tiles``, so each distinct matrix configuration compiles once, whatever the depth."""

    def one(key, chip):
        k = jax.random.fold_in(time_tag(jax.random.fold_in(key, 2), t), step)
        logits = model.apply(model.params, xb, _on_crossbar(crossbars, chip, k))
        return jnp.sum(jnp.argmax(logits, axis=-1) == yb), jnp.sum(jnp.square(logits - digital))

    groups = [slice(i, i + trials_per_step) for i in range(0, keys.shape[0], trials_per_step)]
    results = [jax.vmap(one)(keys[g], jax.tree.map(lambda a, g=g: a[g], reads)) for g in groups]
    return tuple(jnp.concatenate(parts) for parts in zip(*results, strict=True))


@jax.jit
def _program_matrix(crossbar, targets, keys: jax.Array, index) -> ProgrammedMatrix:
    """One matrix programmed on every trial's chip (trials vmapped); one compiled program per distinct
    configuration and shape, reused by every matrix that shares them."""

    def one(key):
        return crossbar.program_targets(jax.random.fold_in(jax.random.fold_in(key, 0), index), targets)

    return jax.vmap(one)(keys)


@jax.jit
def _read_matrix(crossbar, keys: jax.Array, programmed, t: jax.Array, index) -> ReadMatrix:
    """One matrix of every trial's chip read at time t (s) (trials vmapped)."""

    def one(key, matrix):
        return crossbar.read(jax.random.fold_in(jax.random.fold_in(key, 1), index), matrix, t)

    return jax.vmap(one)(keys, programmed)


@jax.jit
def _matmul_on_tiles(crossbar, key: jax.Array, weights: ReadMatrix, rows: jax.Array) -> jax.Array:
    """``crossbar.matmul``, compiled once per distinct configuration and shape."""
    return crossbar.matmul(key, weights, rows)


def _on_crossbar(crossbars: tuple, chip: list, key: jax.Array) -> Callable[[MatrixProduct], jax.Array]:
    """A product hook that runs the model's products, in order, on the chip's read matrices."""
    position = iter(range(len(chip)))

    def on_product(product: MatrixProduct) -> jax.Array:
        outputs = []
        for rows in product.rows():
            i = next(position)
            k = jax.random.fold_in(key, i)
            k = k if product.step is None else jax.random.fold_in(k, product.step)
            outputs.append(_matmul_on_tiles(crossbars[i], k, chip[i], rows))
        return product.assemble(outputs)

    return on_product
