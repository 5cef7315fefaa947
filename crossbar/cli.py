"""The ``crossbar`` command. Exit codes: 0 success, 2 bad input (one line on stderr), 1 a bug."""

import argparse
import sys
from pathlib import Path

import yaml

from ._input_error import InputError


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _resolve_device(spec: str):
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


def _demo(args) -> None:
    from . import device_demo

    path, table = device_demo.run(args.out, seed=args.seed)
    print("Conductance (mean ± std, uS) after programming, per target level:")
    print(table)
    print(f"\nFigure: {path}")


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

    device = _resolve_device(args.device)
    print(yaml.safe_dump({"model": type(device).__name__, **to_dict(device)}, sort_keys=False), end="")


def _device_validate(args) -> None:
    device = _resolve_device(args.file)
    print(f"{args.file}: valid {type(device).__name__} model")


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except InputError as error:
        print(f"crossbar: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
