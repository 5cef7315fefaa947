"""One sweep at a time in a results folder: an exclusive ``fcntl.flock`` on ``sweep.lock`` in it, held from
before the folder is read until the last output is written, released when the process ends however it ends."""

import contextlib
import fcntl
import os
from pathlib import Path

from .._input_error import InputError

LOCK_FILE = "sweep.lock"


@contextlib.contextmanager
def folder_lock(folder: Path):
    """Hold ``folder``'s lock (the folder is created if needed); ``InputError`` at once if another process
    holds it: a second sweep into a busy folder is refused, not queued."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise InputError(
                f"{folder}: another sweep (process {holder}) is running into this folder; wait for it to "
                "finish, or use another --out folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
