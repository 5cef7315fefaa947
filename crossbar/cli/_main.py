"""The ``crossbar`` command: one subcommand per module. Exit codes: 0 success, 2 bad input (one line on
stderr), 1 a bug."""

import argparse
import sys

from .._input_error import InputError
from . import _compile, _demo, _device, _estimate, _hardware, _profile, _sweep, _train
from ._compilation_cache import enable_compilation_cache


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crossbar", description="Emulate memristive crossbar hardware.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (_demo, _device, _hardware, _estimate, _train, _sweep, _compile, _profile):
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    enable_compilation_cache()
    try:
        args.run(args)
    except InputError as error:
        message = str(error)
    except OSError as error:  # a file the user named cannot be written (no such folder, no permission, ...)
        message = f"{error.filename}: {error.strerror}"
    else:
        return 0
    print(f"crossbar: error: {_one_line(message)}", file=sys.stderr)
    return 2


def _one_line(message: str) -> str:
    """A message on one line, whatever a user's file or folder names hold."""
    return message.replace("\r", "\\r").replace("\n", "\\n")
