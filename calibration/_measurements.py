"""What a tester measures on a chip, from which ``fit`` estimates its calibration profile; one ``.npz`` file.

The file holds these arrays (``numpy.savez``; conductances in uS, times in s):

- ``chip_id``, ``technology`` (``pcm``, ``rram`` or ``ideal``), ``scheme`` (``differential`` or
  ``reference_column``), ``date`` (ISO 8601): 0-d string arrays.
- ``g_target`` (tiles, rounds, rows, cols): the conductances targeted in each programming round; every
  round programs every device afresh. A march-test-like sequence: every device needs one round that
  targets the top quarter of the technology's nominal window or beyond (a full SET: the highest reads
  give the tile's g_max) and one that targets the bottom quarter or below (a full RESET, giving g_min), so
  that stuck cells can be told apart; rounds with targets inside the window give the programming noise.
- ``g_measured`` (tiles, rounds, rows, cols): what each device read right after each round, ``t_measure``
  seconds after programming.
- ``t_measure``: 0-d, seconds from programming to the reads of ``g_measured`` (optional, default 1 s).
- ``test_inputs`` (n, rows): normalized row inputs x in [-1, 1], applied to every tile while it holds the
  conductances of round 0.
- ``test_outputs`` (tiles, n, outputs): the output columns' readings for those inputs, in units of one
  device's full-span current v_read * span, with span = g_max - g_min of the technology's nominal device
  model (25 uS for pcm and ideal, 79.2 uS for rram). outputs = cols / 2 (differential) or cols - 1
  (reference_column). Output column o with gain a_o, offset b_o and row DAC gains d_r reads
  ``y[n, o] = a_o * sum_r d_r x[n, r] dg[r, o] / span + b_o``, where dg[r, o] = g[r, 2o] - g[r, 2o + 1]
  (differential) or 2 (g[r, o] - g[r, cols - 1]) (reference_column, the last column holding the reference),
  g being round 0's ``g_measured``.
- ``t_drift`` (m,) and ``g_drift`` (tiles, m, rows, cols), optional, both or neither: round 0's
  conductances read again at later times t_drift > t_measure, for the drift fit.

A file that breaks any of this raises ``ValueError("FILE: ARRAY: expected ..., got ...")`` on one line.
"""

import dataclasses
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from emulator_common.atomic_write import atomic_write
from emulator_common.schemes import SCHEMES
from emulator_common.validation import FLOAT32_MAX, is_number

from ._profile import TECHNOLOGIES, Geometry, nominal_span, technology_device

_STRINGS = ("chip_id", "technology", "scheme", "date")
_ARRAYS = ("g_target", "g_measured", "test_inputs", "test_outputs")
_OPTIONAL = ("t_measure", "t_drift", "g_drift")


@dataclasses.dataclass(frozen=True)
class Measurements:
    """One chip's measurements (see the module docstring for the meaning and units of every field).

    Attributes:
        chip_id, technology, scheme, date: identity, device family, output scheme, measurement date.
        g_target, g_measured: targeted and read conductances (tiles, rounds, rows, cols), uS.
        test_inputs: normalized inputs (n, rows) in [-1, 1].
        test_outputs: output readings (tiles, n, outputs), in units of v_read * span (``span``).
        t_measure: time from programming to the reads of ``g_measured`` (s).
        t_drift, g_drift: later read times (m,) in s and round 0's reads then (tiles, m, rows, cols) in uS,
            or ``None``.

    Construction checks every field and raises ``ValueError("ARRAY: expected ...")``.
    """

    chip_id: str
    technology: str
    scheme: str
    date: str
    g_target: np.ndarray
    g_measured: np.ndarray
    test_inputs: np.ndarray
    test_outputs: np.ndarray
    t_measure: float = 1.0
    t_drift: np.ndarray | None = None
    g_drift: np.ndarray | None = None

    def __post_init__(self):
        _check(self)

    @property
    def geometry(self) -> Geometry:
        """Tile count, tile size and scheme."""
        tiles, _, rows, cols = self.g_target.shape
        return Geometry(tiles, rows, cols, self.scheme)

    @property
    def span(self) -> float:
        """g_max - g_min of the technology's nominal device model (uS): the unit of the outputs."""
        return nominal_span(self.technology)


def signed_conductance(g: np.ndarray, scheme: str) -> np.ndarray:
    """dg (..., rows, outputs) in uS that each output column sees, from conductances (..., rows, cols)."""
    if scheme == "differential":
        return g[..., 0::2] - g[..., 1::2]
    return 2.0 * (g[..., :-1] - g[..., -1:])


def load_measurements(path: str | os.PathLike) -> Measurements:
    """Read and check a measurement file; a malformed one raises ``ValueError("FILE: ARRAY: ...")``."""
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except (ValueError, EOFError, zipfile.BadZipFile):
        raise ValueError(f"{path}: not a .npz archive") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not a .npz archive (a single .npy array)")
    try:
        with archive:
            return _from_archive(archive)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def save_measurements(m: Measurements, path: str | os.PathLike) -> None:
    """Write ``m`` as one ``.npz`` file atomically."""
    arrays = {name: np.asarray(getattr(m, name)) for name in _STRINGS + _ARRAYS}
    arrays["t_measure"] = np.asarray(float(m.t_measure))
    if m.t_drift is not None:
        arrays["t_drift"], arrays["g_drift"] = np.asarray(m.t_drift), np.asarray(m.g_drift)
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **arrays)


def _from_archive(archive) -> Measurements:
    known = _STRINGS + _ARRAYS + _OPTIONAL
    for name in archive.files:
        if name not in known:
            raise ValueError(f"{name}: unknown array; expected some of {', '.join(known)}")
    for name in _STRINGS + _ARRAYS:
        if name not in archive.files:
            raise ValueError(f"{name}: missing (required)")
    values = {}
    for name in known:
        if name not in archive.files:
            continue
        try:
            value = archive[name]
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error):
            raise ValueError(f"{name}: not a readable numeric or string array") from None
        if name in _STRINGS:
            if value.ndim != 0 or value.dtype.kind != "U":
                raise ValueError(f"{name}: expected a 0-d string array, got {_describe(value)}")
            value = str(value)
        elif name == "t_measure":
            if value.ndim != 0 or value.dtype.kind not in "fiu":
                raise ValueError(f"{name}: expected a 0-d number (s), got {_describe(value)}")
            value = float(value)
        values[name] = value
    return Measurements(**values)


def _check(m: Measurements) -> None:
    for name in _STRINGS:
        value = getattr(m, name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
    if m.technology not in TECHNOLOGIES:
        raise ValueError(f"technology: expected one of {', '.join(TECHNOLOGIES)}, got {m.technology!r}")
    if m.scheme not in SCHEMES:
        raise ValueError(f"scheme: expected one of {', '.join(SCHEMES)}, got {m.scheme!r}")
    t = m.t_measure
    if not is_number(t) or t < 0:
        raise ValueError(f"t_measure: expected a finite time >= 0 s within float32's range, got {t!r}")
    g_target = _real("g_target", m.g_target)
    if g_target.ndim != 4 or 0 in g_target.shape:
        raise ValueError(
            "g_target: expected 4 non-empty dimensions (tiles, rounds, rows, cols), "
            f"got shape {g_target.shape}"
        )
    tiles, _, rows, cols = g_target.shape
    if m.scheme == "differential" and cols % 2:
        raise ValueError(
            f"g_target: expected an even number of device columns for differential pairs, got {cols}"
        )
    if cols < 2:
        raise ValueError(f"g_target: expected at least 2 device columns, got {cols}")
    _finite("g_target", g_target, minimum=0.0)
    _check_march(g_target, m.technology)
    _shape("g_measured", m.g_measured, "(tiles, rounds, rows, cols)", g_target.shape)
    test_inputs = _real("test_inputs", m.test_inputs)
    if test_inputs.ndim != 2 or test_inputs.shape[0] < 2 or test_inputs.shape[1] != rows:
        raise ValueError(
            f"test_inputs: expected shape (n, rows) = (n, {rows}) with n >= 2, got {test_inputs.shape}"
        )
    _finite("test_inputs", test_inputs)
    if np.any(np.abs(test_inputs) > 1):
        raise ValueError(f"test_inputs: expected normalized inputs in [-1, 1], got {_extreme(test_inputs)}")
    outputs = Geometry(tiles, rows, cols, m.scheme).outputs
    meaning = (
        f"{outputs} outputs: differential pairs of {cols} device columns"
        if m.scheme == "differential"
        else f"{outputs} outputs: {cols} device columns, the last one the reference"
    )
    _shape(
        "test_outputs", m.test_outputs, "(tiles, n, outputs)", (tiles, test_inputs.shape[0], outputs), meaning
    )
    if (m.t_drift is None) != (m.g_drift is None):
        given, missing = ("t_drift", "g_drift") if m.g_drift is None else ("g_drift", "t_drift")
        raise ValueError(f"{missing}: missing; {given} is given and needs it")
    if m.t_drift is not None:
        t_drift = _real("t_drift", m.t_drift)
        if t_drift.ndim != 1 or not t_drift.size:
            raise ValueError(f"t_drift: expected shape (m,) with m >= 1, got {t_drift.shape}")
        _finite("t_drift", t_drift)
        if np.any(t_drift <= t):
            raise ValueError(f"t_drift: expected times after t_measure = {t} s, got {float(t_drift.min())}")
        _shape("g_drift", m.g_drift, "(tiles, m, rows, cols)", (tiles, t_drift.size, rows, cols))


def _check_march(g_target: np.ndarray, technology: str) -> None:
    """Every device has a round in the top quarter of the nominal window or above, and one in the bottom."""
    device = technology_device(technology, {})
    low, high = float(device.g_min), float(device.g_max)
    top, bottom = low + 0.75 * (high - low), low + 0.25 * (high - low)
    bad = (g_target.max(axis=1) < top) | (g_target.min(axis=1) > bottom)
    if bad.any():
        tile, row, col = (int(i) for i in np.argwhere(bad)[0])
        targets = g_target[tile, :, row, col]
        raise ValueError(
            f"g_target: expected every device to have a round targeting >= {top:g} uS and one <= {bottom:g} "
            f"uS (top and bottom quarter of the nominal window), got targets {float(targets.min()):g} to "
            f"{float(targets.max()):g} uS at (tile {tile}, row {row}, col {col})"
        )


def _real(name: str, value) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected a real-valued numpy array, got {_describe(value)}")
    return value


def _shape(name: str, value, axes: str, shape: tuple, meaning: str = "") -> None:
    value = _real(name, value)
    if value.shape != shape:
        note = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name}: expected shape {axes} = {shape}{note}, got {value.shape}")
    _finite(name, value)


def _finite(name: str, value: np.ndarray, minimum: float | None = None) -> None:
    """Finite values within float32's range (the emulator computes in float32), at least ``minimum``."""
    ok = np.abs(value) <= FLOAT32_MAX  # False for NaN
    if minimum is not None:
        ok &= value >= minimum
    bad = ~ok
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        wanted = "finite values" if minimum is None else f"finite values >= {minimum:g}"
        if np.isfinite(value[index]):
            wanted += " within float32's range"
        raise ValueError(f"{name}: expected {wanted}, got {float(value[index])!r} at index {index}")


def _extreme(value: np.ndarray) -> str:
    index = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(value)), value.shape))
    return f"{float(value[index])!r} at index {index}"


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-d array of {value.dtype}"
    return type(value).__name__
