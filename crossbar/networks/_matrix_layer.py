"""The matrices of a network that crossbars hold: one per dense or convolution layer, as (IN, OUT)."""

import dataclasses
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .._input_error import InputError

_MVMS_PREFIX = "mvms/"


@dataclasses.dataclass(frozen=True)
class MatrixLayer:
    """One weight matrix of a network.

    Attributes:
        name: the layer's name.
        weight: (IN, OUT) float matrix; a convolution's kernel (OUT, IN, kH, kW) unrolls to (IN kH kW, OUT).
        mvms_per_inference: matrix-vector products per inference: 1 for a dense layer, the number of output
            positions for a convolution.
    """

    name: str
    weight: np.ndarray
    mvms_per_inference: int = 1


def unroll_convolution(kernel: np.ndarray) -> np.ndarray:
    """(OUT, IN, kH, kW) kernel -> (IN kH kW, OUT) matrix: input patches flattened channel-major."""
    return kernel.reshape(kernel.shape[0], -1).T


def load_weights(path: str | os.PathLike) -> list[MatrixLayer]:
    """Layers from an ``.npz`` of weight arrays, in file order.

    Each array named NAME is a dense weight (IN, OUT) or a convolution kernel (OUT, IN, kH, kW); an optional
    integer array ``mvms/NAME`` gives a layer's matrix-vector products per inference (default 1). Bad files
    raise ``InputError`` naming the file and the array.
    """
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise InputError(f"{path}: cannot read the weights (a single .npy array, not a .npz archive)")
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        reason = getattr(error, "strerror", None) or "not a readable .npz archive"
        raise InputError(f"{path}: cannot read the weights ({reason})") from None
    layers = []
    for name, weight in arrays.items():
        if name.startswith(_MVMS_PREFIX):
            if name[len(_MVMS_PREFIX) :] not in arrays:
                raise InputError(f"{path}: {name}: no weight array named {name[len(_MVMS_PREFIX) :]!r}")
            continue
        if weight.ndim not in (2, 4) or 0 in weight.shape or weight.dtype.kind not in "iuf":
            raise InputError(
                f"{path}: {name}: expected a real-valued dense weight (IN, OUT) or convolution kernel "
                f"(OUT, IN, kH, kW), got shape {weight.shape} of {weight.dtype}"
            )
        if not np.all(np.isfinite(weight)):
            raise InputError(f"{path}: {name}: expected finite weights, found NaN or inf")
        matrix = unroll_convolution(weight) if weight.ndim == 4 else weight
        mvms = arrays.get(_MVMS_PREFIX + name, np.asarray(1))
        if mvms.shape != () or not np.issubdtype(mvms.dtype, np.integer) or int(mvms) < 1:
            raise InputError(f"{path}: {_MVMS_PREFIX}{name}: expected one integer >= 1, got {mvms!r}")
        layers.append(MatrixLayer(name, matrix.astype(np.float64), int(mvms)))
    if not layers:
        raise InputError(f"{path}: expected at least one weight array, found none")
    return layers
