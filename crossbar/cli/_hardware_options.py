"""The options every command that runs on hardware takes: ``--hardware NAME|FILE`` (``--preset`` is its old
name), ``--chip PROFILE``, ``--device D`` and repeated ``--set PATH=VALUE``."""

from ..hardware import DEFAULT_PRESET, PRESETS, ResolvedHardware, parse_setting, resolve_hardware


def add_hardware_options(parser, *, chip: bool = True) -> None:
    """Add the hardware options to ``parser`` (``--chip`` unless ``chip`` is false)."""
    names = ", ".join(PRESETS)
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--hardware",
        default=None,
        metavar="NAME|FILE",
        help=f"hardware preset ({names}; default {DEFAULT_PRESET}), hardware file, or a result's JSON",
    )
    group.add_argument("--preset", default=None, metavar="NAME|FILE", help="the same as --hardware")
    if chip:
        group.add_argument(
            "--chip", default=None, help="calibration profile (YAML) of a chip to compile the model onto"
        )
    parser.add_argument(
        "--device", default=None, help="device preset or YAML file in place of the hardware's"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="set one parameter, e.g. --set adc.bits=6 --set wire.r_row=1.0 (repeatable)",
    )


def resolved_hardware(args) -> ResolvedHardware:
    """The hardware the options of ``args`` name."""
    option = "--preset" if args.preset is not None else "--hardware"
    return resolve_hardware(
        args.hardware or args.preset,
        chip=getattr(args, "chip", None),
        device=args.device,
        settings=[parse_setting(text) for text in args.set],
        option=option,
    )
