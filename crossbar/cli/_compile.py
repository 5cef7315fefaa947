"""``crossbar compile``: a network's weights onto a chip; mapping.json, conductance targets and reports, and
the analog/digital split of the network's MACs (printed, and recorded in mapping.json)."""

import os
from pathlib import Path

from .._input_error import InputError
from ..compiler import OUTPUT_FILES, PLACEMENTS, compile_network, estimate_cost, require_room, write_compiled
from ..hardware import Chip, ResolvedHardware
from ..networks import MacSplit, load_onnx, load_weights, mac_split
from ._hardware_options import add_hardware_options, resolved_hardware
from ._mapping_option import add_mapping_option, mapping_layout
from ._paths import output_folder


def register(commands) -> None:
    compile_ = commands.add_parser(
        "compile", help="map a network onto a chip; write mapping.json and reports"
    )
    compile_.add_argument(
        "model", help="the network: an ONNX file, or an .npz with one weight array per layer"
    )
    add_hardware_options(compile_)
    add_mapping_option(compile_, "is kept (placement and permutations; scales and targets from MODEL)")
    compile_.add_argument("--out", required=True, help="output folder")
    compile_.add_argument(
        "--force", action="store_true", help="replace the files of an earlier compile in --out"
    )
    compile_.add_argument(
        "--clip-percentile",
        type=float,
        default=None,
        help="scale each block to this percentile of |w| (default: its abs-max)",
    )
    compile_.add_argument(
        "--no-fault-aware",
        action="store_true",
        help="place blocks as they come, without permutations or compensation",
    )
    add_placement_option(compile_)
    compile_.set_defaults(run=_run)


def _run(args) -> None:
    resolved = resolved_hardware(args)
    if not isinstance(resolved.hardware, Chip):
        option = "--preset" if args.preset is not None else "--hardware"
        raise InputError(
            f"{option}: compile maps a network onto a chip: give --chip PROFILE or a hardware file with chip:"
        )
    if args.mapping is not None and args.no_fault_aware:
        raise InputError("--no-fault-aware: --mapping keeps a fault-aware layout; give one of the two")
    if args.mapping is not None and args.placement != "default":
        raise InputError("--placement: --mapping keeps a layout's placement; give one of the two")
    aware = not args.no_fault_aware
    paths, split = compile_to_folder(
        args.model,
        resolved,
        args.out,
        args.clip_percentile,
        aware,
        args.force,
        args.placement,
        args.mapping,
    )
    print(split.table())
    for path in paths:
        print(path)


def compile_to_folder(
    model: str | os.PathLike,
    resolved: ResolvedHardware,
    out: str | os.PathLike,
    clip_percentile: float | None = None,
    fault_aware: bool = True,
    force: bool = False,
    placement: str = "default",
    mapping: str | None = None,
) -> tuple[list[Path], MacSplit]:
    """Compile ``model`` (an ONNX file, or an ``.npz`` of weight arrays) onto the chip ``resolved`` holds and
    write every output into ``out``, the hardware and the analog/digital split recorded; returns the paths
    written and the split. ``out`` must not hold an earlier compile's files unless ``force``; ``placement``
    is one of ``PLACEMENTS``. With ``mapping`` (a mapping.json), its layout is kept."""
    folder = output_folder(str(out), "--out", OUTPUT_FILES, force)
    profile = resolved.hardware.profile
    try:
        require_room(profile)
    except ValueError as error:
        raise InputError(f"{resolved.hardware.path}: {error}") from None
    if clip_percentile is not None and not 0 < clip_percentile <= 100:
        raise InputError(f"--clip-percentile: expected a value in (0, 100], got {clip_percentile:g}")
    if Path(model).suffix.lower() == ".onnx":
        try:
            network = load_onnx(model)
            layers = network.matrix_layers()
            split = mac_split(network.apply, network.params, network.input_shape)
        except ValueError as error:
            raise InputError(f"{model}: {error}") from None
    else:
        layers = load_weights(model)
        split = MacSplit.of_layers(layers)
    layout = mapping_layout(mapping, resolved, layers)
    try:
        compiled = compile_network(
            layers,
            profile,
            clip_percentile=clip_percentile,
            fault_aware=fault_aware,
            placement=placement,
            layout=layout,
        )
    except ValueError as error:
        raise InputError(f"{model}: {error}") from None
    sources = {"model": str(model), "profile": str(resolved.hardware.path)}
    cost = estimate_cost(compiled)
    document, ir_drop = resolved.document, resolved.hardware.ir_drop
    return write_compiled(compiled, cost, sources, folder, document, split.document(), ir_drop), split


def add_placement_option(parser) -> None:
    """``--placement``: where the compiler puts the blocks on a chip's tiles."""
    parser.add_argument(
        "--placement",
        choices=PLACEMENTS,
        default="default",
        help="default: healthiest tiles first; ir-aware: also the least wire resistance among equally "
        "healthy tiles, and the blocks drawing the most current nearest the row drivers and column grounds",
    )
