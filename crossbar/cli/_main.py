"""The ``crossbar`` command. Exit codes: 0 success, 2 bad input (one line on stderr), 1 a bug."""

import argparse
import sys
from pathlib import Path

import yaml

from calibration._profile import SCHEMES, TECHNOLOGIES

from ._hardware import load_profile, preset_crossbar, resolve_device
from ._input_error import InputError


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _demo(args) -> None:
    from . import accuracy_demo, device_demo

    path, table = device_demo.run(args.out, seed=args.seed)
    print("Conductance (mean ± std, uS) after programming, per target level:")
    print(table)
    print(f"\nFigure: {path}\n")
    paths, table = accuracy_demo.run(args.out, seed=args.seed)
    print(f"\nMNIST MLP on emulated chips, over a year after programming:\n\n{table}\n")
    print("\n".join(f"  {p}" for p in paths))


def _presets(args) -> None:
    import device_models
    from device_models._serialization import to_dict

    for name, device in device_models.PRESETS.items():
        fields = to_dict(device)
        window = f"g_min={fields['g_min']:g} uS, g_max={fields['g_max']:g} uS"
        summary = (type(device).__doc__ or "").splitlines()[0]
        print(f"{name:6s} {type(device).__name__:6s} {window:30s} {summary}")


def _device_show(args) -> None:
    from device_models._serialization import to_dict

    device = resolve_device(args.device)
    print(yaml.safe_dump({"model": type(device).__name__, **to_dict(device)}, sort_keys=False), end="")


def _device_validate(args) -> None:
    device = resolve_device(args.file)
    print(f"{args.file}: valid {type(device).__name__} model")


def _output_file(path: str) -> str:
    """An output file whose folder exists (the file itself is written atomically later)."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise InputError(f"{path}: no such folder {folder}")
    return path


def _profile_synth(args) -> None:
    import calibration

    _output_file(args.output)
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
        raise InputError(message) from None
    calibration.save(profile, args.output)
    tiles = f"{args.tiles} tile{'s' if args.tiles != 1 else ''}"
    print(f"{args.output}: synthetic {args.technology} chip, {tiles} of {args.rows} x {args.cols}")


def _profile_validate(args) -> None:
    profile = load_profile(args.file)
    g = profile.geometry
    print(
        f"{args.file}: valid profile of chip {profile.chip_id} ({profile.technology}, {g.tiles} tiles of "
        f"{g.rows} x {g.cols})"
    )


def _profile_show(args) -> None:
    from .profile_summary import summarize_profile

    print(summarize_profile(load_profile(args.file)))


def _profile_fit(args) -> None:
    import calibration

    _output_file(args.output)
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


def _estimate(args) -> None:
    from .estimate_command import chip_config, parse_times, preset_config, run_estimate

    if not 0 <= args.seed < 2**32:
        raise InputError(f"--seed: expected an integer in [0, 2**32), got {args.seed}")
    times = parse_times(args.times)
    if args.chip is not None:
        if args.device is not None:
            raise InputError("--device: not with --chip (the profile gives the chip's devices)")
        hardware = load_profile(args.chip)
        config = chip_config(args.chip, hardware)
    else:
        preset = args.preset or "aihwkit-pcm"
        hardware = preset_crossbar(preset, args.device)
        config = preset_config(preset, hardware)
    _, table = run_estimate(
        args.model, args.data, hardware, config, times, args.trials, args.seed, args.json, args.plot
    )
    print(table)
    for path in (args.json, args.plot):
        if path is not None:
            print(path)


def _sweep(args) -> None:
    from .sweep_command import run_sweep

    for path in run_sweep(args.spec, args.out, args.scheduler, args.workers):
        print(path)


def _compile(args) -> None:
    from .compile_command import compile_to_folder

    profile = load_profile(args.chip)
    for path in compile_to_folder(
        args.model, profile, args.chip, args.out, args.clip_percentile, not args.no_fault_aware
    ):
        print(path)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crossbar", description="Emulate memristive crossbar hardware.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the main job on embedded defaults")
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.set_defaults(run=_demo)

    presets = commands.add_parser("presets", help="list the built-in device presets")
    presets.set_defaults(run=_presets)

    device = commands.add_parser("device", help="inspect and check device-model YAML files")
    device_commands = device.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    show = device_commands.add_parser("show", help="print a preset or file as YAML with all defaults")
    show.add_argument("device", help="preset name or device YAML file")
    show.set_defaults(run=_device_show)
    validate = device_commands.add_parser("validate", help="check a device YAML file")
    validate.add_argument("file", help="device YAML file")
    validate.set_defaults(run=_device_validate)

    estimate = commands.add_parser("estimate", help="accuracy of a model on emulated chips over time")
    estimate.add_argument("model", help="the network (ONNX)")
    estimate.add_argument(
        "--data",
        required=True,
        help="an .npz with arrays x and y, or mnist, or digits; a suffix [START:STOP] keeps those "
        "examples, e.g. mnist[8000:]",
    )
    hardware = estimate.add_mutually_exclusive_group()
    hardware.add_argument("--preset", default=None, help="crossbar preset (default: aihwkit-pcm)")
    hardware.add_argument(
        "--chip", default=None, help="calibration profile (YAML) of a chip to compile the model onto"
    )
    estimate.add_argument(
        "--device", default=None, help="device preset or YAML file in place of the preset's"
    )
    estimate.add_argument("--times", default="1s,1h,1d,1mo,1y", help="read times (default: 1s,1h,1d,1mo,1y)")
    estimate.add_argument("--trials", type=int, default=10, help="chips to program (default: 10)")
    estimate.add_argument("--seed", type=int, default=0, help="random seed in [0, 2**32) (default: 0)")
    estimate.add_argument("--json", default=None, help="write the results as JSON")
    estimate.add_argument("--plot", default=None, help="write a plot of accuracy vs time (PNG)")
    estimate.set_defaults(run=_estimate)

    sweep = commands.add_parser("sweep", help="a parameter sweep from a YAML spec (resumable)")
    sweep.add_argument("spec", help="the sweep spec (YAML)")
    sweep.add_argument("--out", required=True, help="results folder (a second run resumes it)")
    sweep.add_argument(
        "--scheduler",
        default="inprocess",
        help="inprocess (points vectorized here; default), local (a Dask LocalCluster) or tcp://HOST:PORT",
    )
    sweep.add_argument("--workers", type=int, default=2, help="worker processes of --scheduler local")
    sweep.set_defaults(run=_sweep)

    compile_ = commands.add_parser(
        "compile", help="map a network onto a chip; write mapping.json and reports"
    )
    compile_.add_argument(
        "model", help="the network: an ONNX file, or an .npz with one weight array per layer"
    )
    compile_.add_argument("--chip", required=True, help="calibration profile of the chip (YAML)")
    compile_.add_argument("--out", required=True, help="output folder")
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
    compile_.set_defaults(run=_compile)

    profile = commands.add_parser("profile", help="synthesize, check, fit and show chip calibration profiles")
    profile_commands = profile.add_subparsers(dest="profile_command", required=True, metavar="ACTION")
    synth = profile_commands.add_parser("synth", help="write a random but realistic chip's profile")
    synth.add_argument("--technology", choices=tuple(TECHNOLOGIES), default="pcm")
    synth.add_argument("--tiles", type=int, default=8, help="number of tiles (default: 8)")
    synth.add_argument("--rows", type=int, default=256, help="rows per tile (default: 256)")
    synth.add_argument("--cols", type=int, default=256, help="device columns per tile (default: 256)")
    synth.add_argument("--scheme", choices=SCHEMES, default="differential")
    synth.add_argument("--p-off", type=float, default=None, help="mean stuck-at-g_min rate")
    synth.add_argument("--p-on", type=float, default=None, help="mean stuck-at-g_max rate")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synth.add_argument("-o", "--output", required=True, help="profile YAML to write")
    synth.set_defaults(run=_profile_synth)
    check = profile_commands.add_parser("validate", help="check a profile")
    check.add_argument("file", help="profile YAML")
    check.set_defaults(run=_profile_validate)
    show = profile_commands.add_parser("show", help="summarize a profile, tile by tile")
    show.add_argument("file", help="profile YAML")
    show.set_defaults(run=_profile_show)
    fit = profile_commands.add_parser("fit", help="estimate a profile from measurements (.npz)")
    fit.add_argument("measurements", help="measurement file (.npz, format in the README)")
    fit.add_argument("-o", "--output", required=True, help="profile YAML to write")
    fit.set_defaults(run=_profile_fit)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except InputError as error:
        print(f"crossbar: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file the user named cannot be written (no such folder, no permission, ...)
        print(f"crossbar: error: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
