"""``crossbar profile synth|validate|show|fit``: calibration profiles of chips."""

import calibration
from emulator_common.schemes import SCHEMES

from .._input_error import InputError
from ..hardware import load_profile
from ._paths import distinct_outputs, output_file
from ._seed import add_seed_option, require_seed


def register(commands) -> None:
    profile = commands.add_parser("profile", help="synthesize, check, fit and show chip calibration profiles")
    actions = profile.add_subparsers(dest="profile_command", required=True, metavar="ACTION")
    synth = actions.add_parser("synth", help="write a random but realistic chip's profile")
    synth.add_argument("--technology", choices=tuple(calibration.TECHNOLOGIES), default="pcm")
    synth.add_argument("--tiles", type=int, default=8, help="number of tiles (default: 8)")
    synth.add_argument("--rows", type=int, default=256, help="rows per tile (default: 256)")
    synth.add_argument("--cols", type=int, default=256, help="device columns per tile (default: 256)")
    synth.add_argument("--scheme", choices=SCHEMES, default="differential")
    synth.add_argument("--p-off", type=float, default=None, help="mean stuck-at-g_min rate")
    synth.add_argument("--p-on", type=float, default=None, help="mean stuck-at-g_max rate")
    add_seed_option(synth)
    synth.add_argument("-o", "--output", required=True, help="profile YAML to write")
    synth.set_defaults(run=_synth)
    check = actions.add_parser("validate", help="check a profile")
    check.add_argument("file", help="profile YAML")
    check.set_defaults(run=_validate)
    show = actions.add_parser("show", help="summarize a profile, tile by tile")
    show.add_argument("file", help="profile YAML")
    show.set_defaults(run=_show)
    fit = actions.add_parser("fit", help="estimate a profile from measurements (.npz)")
    fit.add_argument("measurements", help="measurement file (.npz, format in the README)")
    fit.add_argument("-o", "--output", required=True, help="profile YAML to write")
    fit.set_defaults(run=_fit)


def _synth(args) -> None:
    require_seed(args.seed)
    output_file(args.output, "-o")
    try:
        profile = calibration.synthesize(
            args.technology,
            args.tiles,
            args.seed,
            rows=args.rows,
            cols=args.cols,
            scheme=args.scheme,
            p_off=args.p_off,
            p_on=args.p_on,
        )
    except ValueError as error:
        message = str(error)
        for name in ("tiles", "rows", "cols"):
            message = message.replace(f"geometry.{name}", f"--{name}")
        message = message.replace("geometry: ", "--tiles, --rows, --cols: ")
        raise InputError(message) from None
    calibration.save(profile, args.output)
    tiles = f"{args.tiles} tile{'s' if args.tiles != 1 else ''}"
    print(f"{args.output}: synthetic {args.technology} chip, {tiles} of {args.rows} x {args.cols}")


def _validate(args) -> None:
    profile = load_profile(args.file)
    g = profile.geometry
    print(
        f"{args.file}: valid profile of chip {profile.chip_id} ({profile.technology}, {g.tiles} tiles of "
        f"{g.rows} x {g.cols})"
    )


def _show(args) -> None:
    print(calibration.summarize_profile(load_profile(args.file)))


def _fit(args) -> None:
    output_file(args.output, "-o")
    distinct_outputs({"-o": args.output}, {"MEASUREMENTS": args.measurements})
    try:
        measurements = calibration.load_measurements(args.measurements)
    except ValueError as error:
        raise InputError(str(error)) from None
    try:
        profile = calibration.fit(measurements)
    except ValueError as error:
        raise InputError(f"{args.measurements}: {error}") from None
    calibration.save(profile, args.output)
    print(f"{args.output}: profile of chip {profile.chip_id} fitted from {args.measurements}")
    print(
        "Peripheral figures and wire resistances are not in the measurements: the profile holds defaults for"
    )
    print("them (peripherals as in `profile synth`, ideal wires); edit them to match the chip.")
