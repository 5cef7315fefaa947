"""Write files so that readers see the old file or the complete new one, never a partial write."""

import contextlib
import errno
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w"):
    """Open a temporary file beside ``path``; on success rename it over ``path``, on error delete it.

    Yields the open file object (text for ``mode="w"``, binary for ``"wb"``). An ``OSError`` names ``path``,
    never the temporary file.
    """
    path = Path(path)
    tmp = _temporary(path)
    try:
        with open(tmp, mode) as handle:
            yield handle
        _rename(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(files: dict[Path, bytes | str]) -> None:
    """Write several files as one: every file's temporary copy first, then the renames, so that a failure
    while writing leaves none of them."""
    written: dict[Path, str] = {}
    try:
        for path, content in files.items():
            written[Path(path)] = tmp = _temporary(Path(path))
            with open(tmp, "wb" if isinstance(content, bytes) else "w") as handle:
                handle.write(content)
        for path in written:
            if path.is_dir():  # the one failure a rename meets in practice: check before the first
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        for path, tmp in written.items():
            _rename(tmp, path)
    except BaseException:
        for tmp in written.values():
            Path(tmp).unlink(missing_ok=True)
        raise


def _temporary(path: Path) -> str:
    """A new temporary file beside ``path`` with a new file's usual mode (mkstemp makes it private)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _naming(error, path) from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)
    return tmp


def _rename(tmp: str, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as error:  # e.g. path is a folder: name it, not the temporary file
        raise _naming(error, path) from None


def _naming(error: OSError, path: Path) -> OSError:
    """The same error (its class, errno and reason) naming ``path`` instead of a temporary file."""
    return type(error)(error.errno, error.strerror or str(error), str(path))


def _read_umask() -> int:
    """The process's umask (read once, at import: setting and restoring it is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
