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

import jax
import jax.numpy as jnp
import numpy as np

from emulator_common.random import time_tag

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


class Model:
    """``apply`` with its ``params``, hashed by identity: a static argument, so that the compiled stages are
    reused while the same model is estimated again (other times, the same number of trials, another seed)."""

    def __init__(self, apply: Callable, params):
        self.apply, self.params = apply, params

    def __hash__(self):
        return hash((self.apply, id(self.params)))

    def __eq__(self, other):
        return isinstance(other, Model) and self.apply == other.apply and self.params is other.params


def stages(model: Model, crossbars: tuple, targets: tuple, keys: jax.Array, trials_per_step: int) -> Stages:
    """The stages of ``keys``' trials of the model, its matrices on ``crossbars`` with ``targets``."""
    return Stages(
        functools.partial(program, crossbars, targets, keys),
        functools.partial(read, crossbars, keys),
        functools.partial(evaluate, model, trials_per_step, crossbars, keys),
        keys.shape,
    )


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


@functools.partial(jax.jit, static_argnames=("model", "trials_per_step"))
def evaluate(model: Model, trials_per_step: int, crossbars, keys, reads, t, step, xb, yb, digital):
    """Per trial, on one step of examples (xb, yb) read at time t (s): correct predictions, and the squared
    error of the outputs against the digital outputs ``digital``."""

    def one(key_and_chip):
        key, chip = key_and_chip
        k = jax.random.fold_in(time_tag(jax.random.fold_in(key, 2), t), step)
        logits = model.apply(model.params, xb, _on_crossbar(crossbars, chip, k))
        return jnp.sum(jnp.argmax(logits, axis=-1) == yb), jnp.sum(jnp.square(logits - digital))

    return jax.lax.map(one, (keys, reads), batch_size=trials_per_step)


def _on_crossbar(crossbars: tuple, chip: list, key: jax.Array) -> Callable[[MatrixProduct], jax.Array]:
    """A product hook that runs the model's products, in order, on the chip's read matrices."""
    position = iter(range(len(chip)))

    def on_product(product: MatrixProduct) -> jax.Array:
        outputs = []
        for rows in product.rows():
            i = next(position)
            k = jax.random.fold_in(key, i)
            k = k if product.step is None else jax.random.fold_in(k, product.step)
            outputs.append(crossbars[i].matmul(k, chip[i], rows))
        return product.assemble(outputs)

    return on_product
