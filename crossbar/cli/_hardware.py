"""``crossbar hardware list|show|validate``: whole crossbar configurations (hardware files, YAML)."""

from pathlib import Path

from .._input_error import InputError
from ..hardware import PRESET_DOCUMENTS, Chip, document_of, hardware_yaml, load_hardware, read_document

_METADATA = ("name", "description", "sources")


def register(commands) -> None:
    hardware = commands.add_parser(
        "hardware", help="list, show and check hardware files (crossbar configurations)"
    )
    actions = hardware.add_subparsers(dest="hardware_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="the built-in hardware presets").set_defaults(run=_list)
    show = actions.add_parser(
        "show", help="a preset, hardware file or result's hardware, every default filled in"
    )
    show.add_argument("hardware", help="preset name, hardware file (YAML), or a result's JSON")
    show.set_defaults(run=_show)
    validate = actions.add_parser("validate", help="check a hardware file")
    validate.add_argument("file", help="hardware file (YAML)")
    validate.set_defaults(run=_validate)


def _list(args) -> None:
    width = max(map(len, PRESET_DOCUMENTS))
    for name, document in PRESET_DOCUMENTS.items():
        sources = "; ".join(document.get("sources", [])) or "-"
        print(f"{name:{width}s}  {document['description']} (sources: {sources})")


def _show(args) -> None:
    if args.hardware in PRESET_DOCUMENTS:
        print(hardware_yaml(PRESET_DOCUMENTS[args.hardware]), end="")
        return
    hardware = _loaded(args.hardware)
    recorded = read_document(args.hardware)
    metadata = {key: recorded[key] for key in _METADATA if key in recorded}
    print(hardware_yaml(document_of(hardware, metadata)), end="")


def _validate(args) -> None:
    hardware = _loaded(args.file)
    if isinstance(hardware, Chip):
        what = f"chip {hardware.profile.chip_id} ({hardware.profile.technology})"
    else:
        tiles = f"{hardware.tile_rows} x {hardware.tile_cols}"
        what = f"{type(hardware.device).__name__} devices on tiles of {tiles}"
    print(f"{args.file}: valid hardware: {what}")


def _loaded(path: str):
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file, and not a hardware preset ({', '.join(PRESET_DOCUMENTS)})")
    try:
        return load_hardware(path)
    except ValueError as error:
        raise InputError(str(error)) from None
