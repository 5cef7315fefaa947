"""Output paths a user names on the command line, checked before any work."""

from pathlib import Path

from .._input_error import InputError


def output_file(path: str, option: str | None = None) -> str:
    """An output file whose folder exists (the file itself is written atomically later)."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise InputError(f"{f'{option} ' if option else ''}{path}: no such folder {folder}")
    return path
