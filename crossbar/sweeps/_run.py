"""Running a sweep's points: in chunks of points that share their compiled structure, each chunk programmed
and read vectorized (``jax.vmap`` over points, then over trials) and evaluated point after point, in this
process or on Dask workers.

A chunk is the unit of work on every executor: the same chunks, in the same composition, run the same
compiled programs whichever executor runs them, so the numbers are identical. Point p's trial i uses the key
``fold_in(fold_in(key(seed), p), i)``, as ``estimate_accuracy`` with seed ``fold_in(key(seed), p)`` would.
"""

import dataclasses
import functools
import hashlib
import pickle
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._input_error import InputError
from ..array import Crossbar
from ..estimation import (
    EXAMPLES_PER_STEP,
    Examples,
    Model,
    Stages,
    evaluate,
    hardware_arrays,
    monte_carlo,
    program,
    read,
    require_evaluation_memory,
    trial_keys,
)
from ..hardware import Chip, is_static, with_parameter
from ..networks import load_onnx, products_of
from ._points import Points


@dataclasses.dataclass(frozen=True)
class SweepInputs:
    """What a worker needs, with no file of the client's: the model's bytes, the data, the base hardware
    (a ``Crossbar`` or a ``Chip``), read times (s), trials per point, the seed, the axes' chains."""

    model_bytes: bytes
    x: np.ndarray
    y: np.ndarray
    hardware: Crossbar | Chip
    times: tuple[float, ...]
    trials: int
    seed: int
    axes: dict[str, tuple[str, ...]]

    @functools.cached_property
    def identity(self) -> tuple[str, ...]:
        """SHA-256 of the model's bytes, the pickled hardware and the data: what a process's loaded state is
        for."""
        parts = (self.model_bytes, pickle.dumps(self.hardware), self.x.tobytes(), self.y.tobytes())
        return tuple(hashlib.sha256(part).hexdigest() for part in parts)


def chunks_of(points: Points, inputs: SweepInputs, size: int) -> list[list[int]]:
    """Point indices in chunks of at most ``size`` points with one compiled structure, in point order. Only
    static fields (modes, sizes) change the structure: it is found once per combination of their values, and
    ``InputError`` names a point whose chunks the machine cannot hold in memory."""
    _, products, base, _ = _loaded(inputs)
    hardware = inputs.hardware.base() if isinstance(inputs.hardware, Chip) else inputs.hardware
    static = [name for name, chain in inputs.axes.items() if is_static(chain, hardware)]
    mvms = [layer.mvms_per_inference for product in products for layer in product.layers()]
    groups: dict = {}
    for members in points.groups(static):
        first = int(members[0])
        arrays = _point_arrays(inputs, base, points[first])
        grids = [(*targets.valid.shape, m) for (_, targets), m in zip(arrays, mvms, strict=True)]
        chunk = min(size, len(members))
        try:
            require_evaluation_memory(grids, len(inputs.x), inputs.trials * chunk, chunk)
        except ValueError as error:
            raise InputError(f"point {first} in chunks of {chunk}: {error}") from None
        groups.setdefault(jax.tree.structure([c for c, _ in arrays]), []).append(members)
    ordered = [np.sort(np.concatenate(members)).tolist() for members in groups.values()]
    return [group[i : i + size] for group in ordered for i in range(0, len(group), size)]


def run_chunk(inputs: SweepInputs, points: dict[int, dict]) -> list[dict]:
    """Rows (one per point, trial and time: the point's index and parameters, trial, t_s, accuracy,
    output_error) of the points ``{index: {path: value}}``, programmed and read vectorized over points."""
    model, products, base, examples = _loaded(inputs)
    arrays = [_point_arrays(inputs, base, point) for point in points.values()]
    crossbars = _stack([[c for c, _ in a] for a in arrays])
    targets = _stack([[t for _, t in a] for a in arrays])
    root = jax.random.key(inputs.seed)
    keys = jnp.stack([trial_keys(jax.random.fold_in(root, index), inputs.trials) for index in points])
    chunk = Stages(
        functools.partial(_program_points, crossbars, targets, keys),
        functools.partial(_read_points, crossbars, keys),
        functools.partial(_evaluate_points, model, crossbars, keys),
        keys.shape,
    )
    counts, squared = monte_carlo(chunk, examples, inputs.times, lambda: None)
    accuracy, output_error = counts / len(inputs.x), np.sqrt(squared / examples.digital_square_sum())
    return [
        {
            "point": index,
            **point,
            "trial": trial,
            "t_s": t,
            "accuracy": float(accuracy[p, trial, j]),
            "output_error": float(output_error[p, trial, j]),
        }
        for p, (index, point) in enumerate(points.items())
        for trial in range(inputs.trials)
        for j, t in enumerate(inputs.times)
    ]


def _program_points(crossbars, targets, keys):
    return jax.vmap(program)(crossbars, targets, keys)


def _read_points(crossbars, keys, programmed, t):
    return jax.vmap(read, in_axes=(0, 0, 0, None))(crossbars, keys, programmed, t)


def _evaluate_points(model, crossbars, keys, reads, t, step, xb, yb, digital):
    """``evaluate`` point after point: the model's digital operations run one by one, and under ``jax.vmap``
    each would be batched in Python (measured: 0.8x the speed of single points)."""
    points = [jax.tree.map(lambda a, p=p: a[p], (crossbars, keys, reads)) for p in range(keys.shape[0])]
    scores = [evaluate(model, *point, t, step, xb, yb, digital) for point in points]
    return tuple(jnp.stack(parts) for parts in zip(*scores, strict=True))


def _stack(trees: list):
    return jax.tree.map(lambda *leaves: jnp.stack([jnp.asarray(leaf) for leaf in leaves]), *trees)


def _point_arrays(inputs: SweepInputs, base: list, point: dict) -> list:
    """The (Crossbar, Targets) of every matrix with the point's parameters: a preset's targets follow the
    point's crossbar; a chip's are its compiled mapping's."""

    def configured(crossbar: Crossbar) -> Crossbar:
        for path, value in point.items():
            crossbar = with_parameter(crossbar, inputs.axes[path], value)
        return crossbar

    if isinstance(inputs.hardware, Crossbar):
        products = _loaded(inputs)[1]
        return hardware_arrays(configured(inputs.hardware), products)
    return [(configured(crossbar), targets) for crossbar, targets in base]


_CACHE: dict = {}


def _loaded(inputs: SweepInputs):
    """The model, its products, the base arrays and the examples with their digital outputs, loaded once per
    process and reused by later chunks (so their compiled programs are reused too)."""
    key = inputs.identity
    if key not in _CACHE:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.onnx"
            path.write_bytes(inputs.model_bytes)
            model = load_onnx(path)
        example = jax.ShapeDtypeStruct(inputs.x[:1].shape, jnp.float32)
        products = products_of(model.apply, model.params, example)
        examples = Examples.of(model.apply, model.params, inputs.x, inputs.y, EXAMPLES_PER_STEP)
        arrays = hardware_arrays(inputs.hardware, products)
        _CACHE[key] = (Model(model.apply, model.params), products, arrays, examples)
    return _CACHE[key]
