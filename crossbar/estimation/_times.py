"""Times after programming as people write them (``1s,1h,1d,1mo,1y``), and back."""

import math
import re

import numpy as np

from .._input_error import InputError

TIME_UNITS = {
    "s": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "mo": 2629800.0,
    "y": 31557600.0,
}
"""Seconds per unit: a month is 1/12 year, a year 365.25 days."""
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_TIME = re.compile(r"^\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*([a-z]*)\s*$")


def parse_times(text: str) -> tuple[float, ...]:
    """Seconds for a list like ``1s,1h,1d,1mo,1y`` or ``3600,86400`` (units s, min, h, d, w, mo = 1/12 y,
    y = 365.25 d); each time once, within float32's range (the emulator computes in float32)."""
    times = []
    for part in text.split(","):
        match = _TIME.match(part)
        if not match or match.group(2) not in ("", *TIME_UNITS) or not math.isfinite(float(match.group(1))):
            raise InputError(
                f"--times: {part.strip()!r} is not a time; expected a number of seconds or a number with a "
                f"unit ({', '.join(TIME_UNITS)}), e.g. 1s,1h,1d,1mo,1y"
            )
        seconds = float(match.group(1)) * TIME_UNITS.get(match.group(2) or "s")
        if seconds > _FLOAT32_MAX:
            raise InputError(
                f"--times: {part.strip()!r} is {seconds:g} s; expected at most {_FLOAT32_MAX:.3g} s"
            )
        if seconds in times:
            raise InputError(
                f"--times: {part.strip()!r} is {seconds:g} s, given before; expected each time once"
            )
        times.append(seconds)
    return tuple(times)


def human_time(seconds: float) -> str:
    """A time in the largest unit it reaches, e.g. ``1 y``, ``3 h``, ``0.5 s``."""
    for unit in ("y", "mo", "w", "d", "h", "min", "s"):
        if seconds >= TIME_UNITS[unit]:
            return f"{seconds / TIME_UNITS[unit]:.3g} {unit}"
    return f"{seconds:.3g} s"
