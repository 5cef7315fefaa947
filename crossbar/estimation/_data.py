"""The data a model is estimated on: an ``.npz`` with ``x`` and ``y``, or a built-in set (``mnist``,
``digits``), optionally a range of its examples (``mnist[8000:]``)."""

import math
import re
import zipfile
from pathlib import Path

import numpy as np

from .._input_error import InputError

DATA_RANGE = re.compile(r"^(.+)\[(\d*:\d*)\]$")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def split_data_range(spec: str) -> tuple[str, str]:
    """``name[START:STOP]`` -> (name, "[START:STOP]"); no range -> (name, "")."""
    match = DATA_RANGE.match(spec)
    return (match.group(1), f"[{match.group(2)}]") if match else (spec, "")


def load_data(spec: str, input_shape: tuple[int, ...], classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Examples (N, *input_shape) float32 and labels (N,) from an ``.npz`` with ``x`` and ``y``, or a built-in
    name: ``mnist`` (the 10,000 MNIST test images) or ``digits`` (scikit-learn's 1,797 8 x 8 digits).
    A suffix ``[START:STOP]`` keeps those examples, e.g. ``mnist[8000:]``; a STOP beyond them is refused."""
    range_match = DATA_RANGE.match(spec)
    spec, rows = (range_match.group(1), range_match.group(2)) if range_match else (spec, None)
    if spec == "mnist":
        from ..datasets import load_mnist

        x, y, source = *load_mnist(), "mnist"
    elif spec == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y, source = digits.data.astype(np.float32) / 16.0, digits.target, "digits"
    else:
        x, y, source = *_npz_data(spec), spec
    start, stop = (int(v) if v else None for v in rows.split(":")) if rows is not None else (None, None)
    if stop is not None and stop > len(x):
        raise InputError(f"--data: [{rows}] goes beyond the {len(x)} examples of {source}")
    if math.prod(x.shape[1:]) != math.prod(input_shape):
        raise InputError(
            f"{source}: x: expected examples of shape {input_shape} ({math.prod(input_shape)} values, the "
            f"model's input), got {x.shape[1:]}"
        )
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"{source}: y: expected {len(x)} integer labels, got shape {y.shape} of {y.dtype}")
    if y.min() < 0 or y.max() >= classes:
        raise InputError(
            f"{source}: y: expected labels in [0, {classes}) (the model's outputs), got {y.min()}..{y.max()}"
        )
    if rows is not None:
        x, y = x[start:stop], y[start:stop]
        if len(x) == 0:
            raise InputError(f"--data: [{rows}] selects no examples of {source}")
    return x.reshape(len(x), *input_shape).astype(np.float32), y.astype(np.int32)


def _npz_data(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not Path(path).exists():
        raise InputError(f"{path}: no such file, and not a built-in dataset (mnist, digits)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in ("x", "y") if name not in archive.files]
            if missing:
                raise InputError(f"{path}: expected arrays 'x' and 'y', missing {', '.join(missing)}")
            x, y = archive["x"], archive["y"]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, AttributeError, TypeError):  # TypeError: .npy
        raise InputError(f"{path}: not a readable .npz archive with arrays x and y") from None
    # the model runs in float32: values beyond its range would become inf
    if x.ndim < 2 or len(x) == 0 or x.dtype.kind not in "iuf" or not np.all(np.abs(x) <= _FLOAT32_MAX):
        raise InputError(
            f"{path}: x: expected finite real examples (N, ...) with N >= 1, within float32's range, "
            f"got {x.shape} {x.dtype}"
        )
    return x, y
