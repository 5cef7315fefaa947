"""``--mapping FILE``: keep the layout (each block's tile, offsets and permutation) of an earlier compile
onto the chip, e.g. the one ``crossbar train --chip`` fine-tuned a network on, instead of placing and
permuting afresh."""

import json

from .._input_error import InputError
from ..compiler import Layout, compile_network, read_layout
from ..hardware import Chip, ResolvedHardware


def add_mapping_option(parser, what: str) -> None:
    """Add ``--mapping FILE`` to ``parser``; ``what`` says what the command does with the layout."""
    parser.add_argument(
        "--mapping",
        default=None,
        metavar="FILE",
        help=f"with --chip: a mapping.json (of compile or train) whose layout {what}",
    )


def mapping_layout(path: str | None, resolved: ResolvedHardware, layers: list) -> Layout | None:
    """The layout of the mapping file at ``path`` (``None`` without one), checked against the chip and the
    model's ``layers``; ``InputError`` naming the file and what does not match."""
    if path is None:
        return None
    if not isinstance(resolved.hardware, Chip):
        raise InputError("--mapping: a layout on a chip; give --chip PROFILE too")
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except OSError as error:
        raise InputError(f"--mapping {path}: cannot read it ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"--mapping {path}: expected a mapping.json (JSON), got: {error}") from None
    try:
        layout = read_layout(document)
        compile_network(layers, resolved.hardware.profile, layout=layout)
    except ValueError as error:
        raise InputError(f"--mapping {path}: {error}") from None
    return layout
