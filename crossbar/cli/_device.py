"""``crossbar device list|show|validate``: device models and their YAML files (and the retired
``crossbar presets``, which points here and to ``crossbar hardware``)."""

import yaml

import device_models

from .._input_error import InputError
from ..hardware import resolve_device


def register(commands) -> None:
    presets = commands.add_parser("presets", help="retired: see crossbar device list, crossbar hardware list")
    presets.set_defaults(run=_retired)

    device = commands.add_parser("device", help="list, show and check device models (YAML files)")
    actions = device.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="the built-in device presets").set_defaults(run=_list)
    show = actions.add_parser("show", help="print a preset or file as YAML with all defaults")
    show.add_argument("device", help="preset name or device YAML file")
    show.set_defaults(run=_show)
    validate = actions.add_parser("validate", help="check a device YAML file")
    validate.add_argument("file", help="device YAML file")
    validate.set_defaults(run=_validate)


def _retired(args) -> None:
    raise InputError(
        "crossbar presets is retired: crossbar device list gives the device models, "
        "crossbar hardware list the crossbar configurations"
    )


def _list(args) -> None:
    for name, device in device_models.PRESETS.items():
        fields = device_models.to_dict(device)
        window = f"g_min={fields['g_min']:g} uS, g_max={fields['g_max']:g} uS"
        summary = (type(device).__doc__ or "").splitlines()[0]
        print(f"{name:6s} {type(device).__name__:6s} {window:30s} {summary}")


def _show(args) -> None:
    device = resolve_device(args.device)
    document = {"model": type(device).__name__, **device_models.to_dict(device)}
    print(yaml.safe_dump(document, sort_keys=False), end="")


def _validate(args) -> None:
    device = resolve_device(args.file)
    print(f"{args.file}: valid {type(device).__name__} model")
