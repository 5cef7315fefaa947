"""The hardware an estimate or a sweep runs on, from what a user names: a crossbar preset (optionally with
another device model), a device preset or YAML file, or a chip's calibration profile."""

import dataclasses
from pathlib import Path

from .._input_error import InputError
from ..array import Crossbar
from ._presets import PRESETS


def resolve_device(spec: str):
    """A device preset by name (``pcm``, ``rram``, ``ideal``) or a device YAML file."""
    import device_models

    if spec.lower() in device_models.PRESETS:
        return device_models.PRESETS[spec.lower()]
    if not Path(spec).exists():
        names = ", ".join(device_models.PRESETS)
        raise InputError(f"{spec}: no such file, and not a device preset (expected one of {names})")
    try:
        return device_models.load(spec)
    except ValueError as error:
        raise InputError(str(error)) from None


def load_profile(path: str | Path):
    """A chip's calibration profile; a malformed one is bad input."""
    import calibration

    try:
        return calibration.load(path)
    except ValueError as error:
        raise InputError(str(error)) from None


def preset_crossbar(name: str, device: str | None = None, option: str = "--preset") -> Crossbar:
    """The preset ``name``, with the device model ``device`` (a preset or file) in place of its own."""
    if name not in PRESETS:
        raise InputError(f"{option}: {name!r} is not a preset; expected one of {', '.join(PRESETS)}")
    crossbar = PRESETS[name]
    return crossbar if device is None else dataclasses.replace(crossbar, device=resolve_device(device))
