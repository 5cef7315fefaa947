"""The built-in hardware: hardware files in ``presets/``, each saying what it reproduces and its sources
(docs/models.md section 5.3)."""

from pathlib import Path

import yaml

from ..array import Crossbar
from ._document import hardware_of

_FOLDER = Path(__file__).parent / "presets"
_ORDER = ("aihwkit-pcm", "aihwkit-hwa", "hermes-pcm", "rram", "ideal")  # the first is the default


def _load(name: str) -> tuple[dict, Crossbar]:
    document = yaml.safe_load((_FOLDER / f"{name}.yaml").read_text())
    return document, hardware_of(document, _FOLDER)


_LOADED = {name: _load(name) for name in _ORDER}
PRESETS: dict[str, Crossbar] = {name: crossbar for name, (_, crossbar) in _LOADED.items()}
PRESET_DOCUMENTS: dict[str, dict] = {name: document for name, (document, _) in _LOADED.items()}
DEFAULT_PRESET = _ORDER[0]
