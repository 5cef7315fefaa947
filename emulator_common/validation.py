"""Checks of physical parameters that run in ``__check_init__``.

They skip traced values, so a model built inside ``jax.jit`` or ``jax.vmap`` is not checked twice
and never fails on a tracer; concrete values (scalars or batches of a sweep) are checked element-wise.
"""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)
"""The largest finite float32: the emulator computes in float32, so a parameter beyond it would be inf."""
MAX_BITS = 24
"""The finest converter resolution a float32 signal resolves (its 24-bit significand)."""


def is_number(value) -> bool:
    """Whether ``value`` is a real number (not a bool) that is finite in float32."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:
        return math.isfinite(value) and abs(value) <= FLOAT32_MAX
    except OverflowError:  # an integer beyond the float range
        return False


def as_array(value) -> jax.Array:
    """Converter for physical parameter fields: a float array (keeps tracers as they are)."""
    if isinstance(value, jax.core.Tracer):
        return value
    return jnp.asarray(value, dtype=jnp.result_type(float))


def as_optional_array(value) -> jax.Array | None:
    """Converter for optional physical parameter fields: ``None`` means "off"."""
    return None if value is None else as_array(value)


def _concrete(value) -> np.ndarray | None:
    if isinstance(value, jax.core.Tracer):
        return None
    return np.asarray(value)


def _shown(value) -> str:
    """The first element of ``value`` as plain Python (``-1.0``, not ``np.float32(-1.0)``)."""
    return repr(np.asarray(value).ravel()[0].item())


def require(name: str, value, holds: Callable[[np.ndarray], np.ndarray], expected: str) -> None:
    """Raise ``ValueError("NAME: expected EXPECTED, got VALUE")`` unless ``holds(value)`` everywhere."""
    concrete = _concrete(value)
    if concrete is None:
        return
    ok = np.asarray(holds(concrete))
    if not bool(np.all(ok)):
        bad = np.broadcast_to(concrete, ok.shape)[~ok] if ok.ndim else concrete
        raise ValueError(f"{name}: expected {expected}, got {_shown(bad)}")


def require_finite(name: str, value) -> None:
    """Check that every element of an array is finite (skipped for traced values)."""
    concrete = _concrete(value)
    if concrete is not None and not bool(np.all(np.isfinite(concrete))):
        raise ValueError(
            f"{name}: expected finite values, found {int(np.sum(~np.isfinite(concrete)))} NaN or inf"
        )


def require_shape(name: str, value, shape: tuple[int, ...], meaning: str) -> None:
    """Check an array's shape; ``meaning`` names the axes, e.g. ``"(batch, inputs)"``."""
    if tuple(np.shape(value)) != tuple(shape):
        raise ValueError(f"{name}: expected shape {meaning} = {tuple(shape)}, got {tuple(np.shape(value))}")


def require_finite_nonnegative(name: str, value) -> None:
    require(name, value, lambda v: np.isfinite(v) & (v >= 0), "a finite number >= 0")


def require_positive(name: str, value) -> None:
    require(name, value, lambda v: np.isfinite(v) & (v > 0), "a finite number > 0")


def require_probability(name: str, value) -> None:
    require(name, value, lambda v: (v >= 0) & (v <= 1), "a probability in [0, 1]")


def require_range(low_name: str, low, high_name: str, high) -> None:
    """Check ``0 <= low < high`` (a conductance window, an interval)."""
    require_finite_nonnegative(low_name, low)
    require_positive(high_name, high)
    lo, hi = _concrete(low), _concrete(high)
    if lo is None or hi is None:
        return
    try:
        np.broadcast_shapes(lo.shape, hi.shape)
    except ValueError:
        raise ValueError(
            f"{high_name}: expected a shape that broadcasts with {low_name} {lo.shape}, got {hi.shape}"
        ) from None
    if not bool(np.all(lo < hi)):
        raise ValueError(f"{high_name}: expected a value above {low_name} = {_shown(lo)}, got {_shown(hi)}")


def require_integer(name: str, value, minimum: int, meaning: str = "", maximum: int | None = None) -> None:
    """Check a static integer setting (bits, levels, sizes): an ``int`` (not bool) of at least ``minimum``
    and, if given, at most ``maximum`` (beyond it the emulator cannot represent or afford the setting)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}{meaning}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: expected an integer <= {maximum}{meaning}, got {value!r}")


def require_choice(name: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(str, choices))}, got {value!r}")
