"""The Monte Carlo loop shared by estimates and sweeps: program chips once, read them at every time, pass
every step of examples through them.

Keys: trial i uses ``fold_in(key(seed), i)``; from it, programming uses stream 0, reads stream 1 (the same
key at every time: device models fold the time in, or follow one trajectory), and the MVMs stream 2, then
the time (its bits: a time's numbers do not depend on the other times asked for), then the step's index
(each step of examples draws its own MVM noise).

Words: a *step* is a slice of the examples evaluated at once (``EXAMPLES_PER_STEP``). A sweep's *chunk* (a
group of points) is a different thing.

Compiled programs: programming, reading and each product on tiles are compiled once per distinct matrix
configuration and shape (a ``Crossbar`` and its arrays' shapes), and reused by every matrix, trial, time and
call that shares them; the model's digital operations run one by one, trial after trial (each compiled once
per shape by JAX). So a network's first run compiles per distinct layer, not per layer.
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


@dataclasses.dataclass(frozen=True)
class Stages:
    """The stages of one Monte Carlo run, each over all its chips (programmed and read at once, evaluated one
    after another).

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


def stages(model: Model, crossbars: tuple, targets: tuple, keys: jax.Array) -> Stages:
    """The stages of ``keys``' trials of the model, its matrices on ``crossbars`` with ``targets``."""
    return Stages(
        functools.partial(program, crossbars, targets, keys),
        functools.partial(read, crossbars, keys),
        functools.partial(evaluate, model, crossbars, keys),
        keys.shape,
    )


def program(crossbars: tuple, targets: tuple, keys: jax.Array) -> list:
    """Every trial's chip: per matrix, its tiles programmed for all trials (stacked on a leading axis)."""
    return [_program_matrix(c, t, keys, i) for i, (c, t) in enumerate(zip(crossbars, targets, strict=True))]


def read(crossbars: tuple, keys: jax.Array, programmed: list, t: jax.Array) -> list:
    """Every trial's chip read at time t (s): per matrix, its tiles' weights for all trials."""
    pairs = enumerate(zip(crossbars, programmed, strict=True))
    return [_read_matrix(c, keys, p, t, i) for i, (c, p) in pairs]


def evaluate(model: Model, crossbars, keys, reads, t, step, xb, yb, digital):
    """Per trial, on one step of examples (xb, yb) read at time t (s): correct predictions, and the squared
    error of the outputs against the digital outputs ``digital``, each (trials,). Trials run one after another
    (their devices' draws are what costs, not the dispatch of the model's operations)."""
    step_keys = _step_keys(keys, t, step)
    scores = [
        _score(model.apply(model.params, xb, _on_crossbar(crossbars, reads, step_keys, trial)), yb, digital)
        for trial in range(keys.shape[0])
    ]
    return tuple(jnp.stack(parts) for parts in zip(*scores, strict=True))


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
def _step_keys(keys: jax.Array, t: jax.Array, step) -> jax.Array:
    """The MVM key of every trial (trials,) for one step of examples read at time t (s)."""
    return jax.vmap(lambda key: jax.random.fold_in(time_tag(jax.random.fold_in(key, 2), t), step))(keys)


@jax.jit
def _score(logits: jax.Array, yb: jax.Array, digital: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Correct predictions and the squared error against the digital outputs, of one trial on one step."""
    return jnp.sum(jnp.argmax(logits, axis=-1) == yb), jnp.sum(jnp.square(logits - digital))


@jax.jit
def _matmul_on_tiles(crossbar, weights: ReadMatrix, keys: jax.Array, trial, index, repeat, rows) -> jax.Array:
    """``crossbar.matmul`` of one trial's read matrix (``weights`` stacked over trials) with its key
    ``fold_in(keys[trial], index)`` (then ``repeat``, inside a recurrence); compiled once per distinct
    configuration and shape."""
    key = jax.random.fold_in(keys[trial], index)
    key = key if repeat is None else jax.random.fold_in(key, repeat)
    return crossbar.matmul(key, jax.tree.map(lambda a: a[trial], weights), rows)


def _on_crossbar(crossbars: tuple, reads: list, keys: jax.Array, trial: int) -> Callable:
    """A product hook (``MatrixProduct`` -> outputs) that runs the model's products, in order, on trial
    ``trial``'s read matrices, with that trial's MVM key ``keys[trial]``."""
    position = iter(range(len(reads)))

    def on_product(product: MatrixProduct) -> jax.Array:
        outputs = []
        for rows in product.rows():
            i = next(position)
            outputs.append(_matmul_on_tiles(crossbars[i], reads[i], keys, trial, i, product.step, rows))
        return product.assemble(outputs)

    return on_product
