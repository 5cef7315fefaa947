"""Output paths a user names on the command line, checked before any work: a file is not a folder and its
folder exists; two outputs never share a path, nor overwrite an input; a folder that holds an earlier run's
files is refused unless ``--force``, which replaces those files and leaves any other file alone."""

import os
from collections.abc import Iterable
from pathlib import Path

from .._input_error import InputError


def output_file(path: str, option: str) -> str:
    """An output file whose folder exists and is writable (the file itself is written atomically later)."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{option} {path}: is a folder; expected the path of a file to write")
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"{option} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: cannot write into the folder {folder} (permission denied)")
    return path


def distinct_outputs(outputs: dict[str, str | None], inputs: dict[str, str | None] | None = None) -> None:
    """Each output (option -> path, ``None`` when not asked for) on a path of its own, none of them an input
    (option -> path): ``--json F --plot F`` would write one file over the other."""
    taken = {os.path.realpath(path): f"the input {name}" for name, path in (inputs or {}).items() if path}
    for option, path in outputs.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in taken:
            raise InputError(f"{option} {path}: the same file as {taken[real]}; expected a path of its own")
        taken[real] = option


def output_folder(path: str, option: str, own: Iterable[str], force: bool) -> Path:
    """A folder to write the files named ``own`` into: it is a folder or can be created, and holds none of
    them unless ``force`` (an earlier run's files, which this run replaces). Nothing is created here."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{option} {path}: exists and is not a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{option} {path}: cannot create the folder ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: cannot create or write the folder (permission denied)")
    earlier = sorted(name for name in own if (folder / name).exists())
    if earlier and not force:
        shown = ", ".join(earlier[:3]) + (", ..." if len(earlier) > 3 else "")
        raise InputError(
            f"{option} {path}: holds the files of an earlier run ({shown}); give --force to replace them, "
            "or another folder"
        )
    return folder
