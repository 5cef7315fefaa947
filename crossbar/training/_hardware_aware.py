"""Hardware-aware (HWA) training: fine-tune a network through the emulated chip, so it keeps its accuracy
under programming noise, drift and the periphery (Joshi et al., Nat. Commun. 11, 2473 (2020); Rasch et al.,
Nat. Commun. 14, 5282 (2023)).

Each step programs fresh devices from the current weights, reads them at a time drawn log-uniformly from
``t_range``, runs the batch through them (``ChipForward``) and updates the weights with an optax optimizer
from the straight-through gradient; weights may then be clipped (``clip_weights``). One step is one compiled
program: shapes are static, and steps and epochs reuse it.
"""

import dataclasses
import math
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from calibration import ChipProfile
from emulator_common.validation import require_choice

from ..array import Crossbar
from ..compiler import Layout
from ..estimation import hardware_arrays
from ..hardware import Chip
from ..networks import products_of
from ._chip_forward import WEIGHT_NOISE, ChipForward
from ._weight_clipping import CLIP_PER, clip_weights, weight_axes

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant")
ONE_YEAR = 3.15e7
"""About one year (s)."""


@dataclasses.dataclass(frozen=True)
class TrainingHistory:
    """Per epoch: the mean training loss (softmax cross-entropy, nats), the training accuracy on the emulated
    chips the steps drew, and the wall time (s)."""

    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    seconds: tuple[float, ...]


def train_hardware_aware(
    apply: Callable,
    params,
    x: np.ndarray,
    y: np.ndarray,
    hardware: Crossbar | Chip | ChipProfile,
    *,
    epochs: int = 3,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    t_range: tuple[float, float] = (1.0, ONE_YEAR),
    clip_sigmas: float | None = None,
    clip_per: str = "layer",
    weight_noise: str = "none",
    noise_scale: float = 0.0,
    optimizer: str = "adam",
    schedule: str = "cosine",
    momentum: float = 0.9,
    layout: Layout | None = None,
    on_step: Callable[[int, float, float], None] | None = None,
) -> tuple[object, TrainingHistory]:
    """Fine-tune ``apply(params, x, on_product)`` (an ``OnnxModel.apply`` or an intercepted one) through
    emulated chips.

    Args:
        apply, params: the model; its floating-point parameters are trained, the others kept.
        x, y: training data (N, *input) and integer labels (N,).
        hardware: a ``Crossbar`` (every matrix on tiles of that configuration, e.g. a preset: the targets
            follow the weights each step), or a calibrated chip (``Chip`` or ``ChipProfile``): the network is
            compiled onto it once, fault-aware, from the initial weights; each step keeps that mapping (its
            permutation, stuck cells and compensation) and shifts the compiled targets by the weights' change.
        epochs: passes over the data; batch_size: examples per step (the last partial batch is dropped).
        learning_rate: the optimizer's (peak) learning rate; schedule ``"cosine"`` decays it to 0 over the
            steps, ``"constant"`` keeps it.
        seed: the randomness of the shuffles, the chips and the read times; the same seed gives the same
            weights, bit for bit.
        t_range: (first, last) read time (s); each step reads at a time drawn log-uniformly between them.
        clip_sigmas: after each update, clip each weight to this many standard deviations of its layer (or of
            its output column, ``clip_per="column"``); ``None``: no clipping.
        weight_noise, noise_scale: noise injected into the weights each step on top of the devices' own
            (``"additive"``: std ``noise_scale`` x the matrix's max |w|; ``"multiplicative"``; ``"none"``).
        optimizer: ``"adam"`` or ``"sgd"`` (with ``momentum``).
        layout: with a chip, the layout (placement and permutations) to compile onto, kept from an earlier
            compile (``crossbar.compiler.layout_of``), instead of placing and permuting afresh.
        on_step: ``on_step(epoch, loss, accuracy)`` after every step, with the epoch's running means.

    Returns:
        The tuned parameters (the structure of ``params``, numpy arrays) and the ``TrainingHistory``.
    """
    x, y = np.asarray(x, np.float32), np.asarray(y)
    _validate(
        x, y, epochs, batch_size, learning_rate, t_range, clip_sigmas, clip_per, weight_noise, noise_scale
    )
    require_choice("optimizer", optimizer, OPTIMIZERS)
    require_choice("schedule", schedule, SCHEDULES)
    products = products_of(apply, params, jax.ShapeDtypeStruct((1, *x.shape[1:]), jnp.float32))
    if not products:
        raise ValueError("apply: no matrix product with a constant weight; nothing runs on crossbar tiles")
    crossbars, targets = zip(*hardware_arrays(hardware, products, layout=layout), strict=True)
    compiled = None
    if not isinstance(hardware, Crossbar):
        weights = [jnp.asarray(m, jnp.float32) for p in products for m in p.matrices()]
        compiled = tuple(zip(targets, weights, strict=True))
    forward = ChipForward(crossbars, compiled, weight_noise, float(noise_scale))

    leaves, tree = jax.tree.flatten(params)
    trainable = [i for i, leaf in enumerate(leaves) if _is_float(leaf)]
    axes = weight_axes([leaves[i] for i in trainable], products) if clip_sigmas is not None else {}
    steps = len(x) // batch_size
    rate = (
        optax.cosine_decay_schedule(learning_rate, epochs * steps)
        if schedule == "cosine"
        else optax.constant_schedule(learning_rate)
    )
    tx = optax.adam(rate) if optimizer == "adam" else optax.sgd(rate, momentum=momentum)
    log_t = (math.log(t_range[0]), math.log(t_range[1]))

    # Each distinct configuration is passed to the step once (a preset's matrices share one): flattening the
    # step's arguments is host time spent at every step.
    distinct = list({id(c): c for c in crossbars}.values())
    which = tuple(next(k for k, d in enumerate(distinct) if d is c) for c in crossbars)

    def loss_of(w, key, xb, yb, distinct, compiled):
        crossbars = tuple(distinct[k] for k in which)
        full = list(leaves)
        for i, value in zip(trainable, w, strict=True):
            full[i] = value
        k_time, k_chip = jax.random.split(key)
        t = jnp.exp(jax.random.uniform(k_time, (), jnp.float32, *log_t))
        logits = apply(jax.tree.unflatten(tree, full), xb, forward.hook(k_chip, t, crossbars, compiled))
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
        return loss, jnp.sum(jnp.argmax(logits, axis=-1) == yb)

    @jax.jit
    def step(w, state, key, xb, yb, distinct, compiled):
        (loss, right), grads = jax.value_and_grad(loss_of, has_aux=True)(w, key, xb, yb, distinct, compiled)
        updates, state = tx.update(grads, state, w)
        w = optax.apply_updates(w, updates)
        if clip_sigmas is not None:
            w = clip_weights(w, axes, clip_sigmas, clip_per)
        return w, state, loss, right

    w = [jnp.asarray(leaves[i]) for i in trainable]
    if clip_sigmas is not None:  # the chip is programmed with clipped weights from the first step
        w = clip_weights(w, axes, clip_sigmas, clip_per)
    state = tx.init(w)
    key = jax.random.key(seed)
    losses, accuracies, seconds = [], [], []
    for epoch in range(epochs):
        start = time.perf_counter()
        k_epoch = jax.random.fold_in(key, epoch)
        order = np.asarray(jax.random.permutation(jax.random.fold_in(k_epoch, 0), len(x)))
        loss_sum, right_sum = 0.0, 0
        for number in range(steps):
            batch = order[number * batch_size : (number + 1) * batch_size]
            k_step = jax.random.fold_in(jax.random.fold_in(k_epoch, 1), number)
            w, state, loss, right = step(w, state, k_step, x[batch], y[batch], distinct, compiled)
            loss_sum, right_sum = loss_sum + float(loss), right_sum + int(right)
            if on_step is not None:
                on_step(epoch, loss_sum / (number + 1), right_sum / ((number + 1) * batch_size))
        losses.append(loss_sum / steps)
        accuracies.append(right_sum / (steps * batch_size))
        seconds.append(time.perf_counter() - start)
    tuned = list(leaves)
    for i, value in zip(trainable, w, strict=True):
        tuned[i] = np.asarray(value, np.asarray(leaves[i]).dtype)
    return jax.tree.unflatten(tree, tuned), TrainingHistory(tuple(losses), tuple(accuracies), tuple(seconds))


def _is_float(leaf) -> bool:
    return hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating)


def _validate(x, y, epochs, batch_size, learning_rate, t_range, clip_sigmas, clip_per, weight_noise, scale):
    """``ValueError`` naming the first argument out of its range."""
    if x.ndim < 2 or y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"x, y: expected (N, ...) inputs and N integer labels, got {x.shape} and {y.shape}")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs: expected an integer >= 1, got {epochs}")
    if not isinstance(batch_size, int) or not 1 <= batch_size <= len(x):
        raise ValueError(f"batch_size: expected an integer in [1, {len(x)}] (the examples), got {batch_size}")
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate: expected a finite number > 0, got {learning_rate}")
    first, last = t_range
    if not (math.isfinite(last) and 0 < first <= last):
        raise ValueError(f"t_range: expected 0 < first <= last (s), finite, got {t_range}")
    if clip_sigmas is not None and not (math.isfinite(clip_sigmas) and clip_sigmas > 0):
        raise ValueError(f"clip_sigmas: expected a finite number > 0 or None, got {clip_sigmas}")
    require_choice("clip_per", clip_per, CLIP_PER)
    require_choice("weight_noise", weight_noise, WEIGHT_NOISE)
    if not (math.isfinite(scale) and scale >= 0):
        raise ValueError(f"noise_scale: expected a finite number >= 0, got {scale}")
