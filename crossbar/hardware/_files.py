"""Hardware files: ``load_hardware`` / ``save_hardware`` (YAML), and the hardware a result recorded."""

import json
import os
from pathlib import Path

import yaml

from emulator_common.atomic_write import atomic_write
from emulator_common.yaml_files import load_yaml

from ..array import Crossbar
from ._chip import Chip
from ._document import document_of, hardware_of


def load_hardware(path: str | os.PathLike) -> Crossbar | Chip:
    """The crossbar (or calibrated chip) a hardware file describes; a result's JSON (``crossbar estimate
    --json``, a sweep's ``sweep.json``, a compile's ``mapping.json``) gives the hardware it ran on.

    Raises ``ValueError("FILE: YAML.PATH: expected ...")`` for a malformed file.
    """
    document = read_document(path)
    try:
        return hardware_of(document, Path(path).parent)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def save_hardware(hardware: Crossbar | Chip, path: str | os.PathLike, metadata: dict | None = None) -> None:
    """Write ``hardware`` as a hardware file (every field filled in), atomically; ``metadata`` may give its
    ``name``, ``description`` and ``sources``."""
    with atomic_write(path) as handle:
        handle.write(hardware_yaml(document_of(hardware, metadata)))


def hardware_yaml(document: dict) -> str:
    """A hardware document as the text of a hardware file."""
    return yaml.safe_dump(document, sort_keys=False, width=110)


def read_document(path: str | os.PathLike) -> dict:
    """The hardware document of a hardware file, or the one a result's JSON recorded (under ``hardware``
    or ``config.hardware``); ``ValueError`` naming the file otherwise."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        return load_yaml(path)
    try:
        result = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ValueError(f"{path}: not valid JSON") from None
    record = result.get("config", result) if isinstance(result, dict) else None
    if not isinstance(record, dict) or "hardware" not in record:
        raise ValueError(
            f"{path}: holds no hardware record (expected a result of estimate, sweep or compile)"
        )
    return record["hardware"]
