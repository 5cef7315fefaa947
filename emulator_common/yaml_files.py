"""Reading a YAML file a user names, every failure one line that names the file; keys in messages."""

import os
from pathlib import Path

import yaml


def load_yaml(path: str | os.PathLike):
    """The YAML document of ``path``; ``ValueError("FILE: cannot read the file (...)")`` or
    ``ValueError("FILE: not valid YAML ...")`` (bad syntax, not UTF-8 text, nested too deeply)."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not valid YAML (not UTF-8 text)") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ValueError(f"{path}: not valid YAML{line}") from None
    except ValueError:  # an integer of over 4300 digits
        raise ValueError(f"{path}: not valid YAML") from None
    except RecursionError:
        raise ValueError(f"{path}: not valid YAML (nested too deeply)") from None


def yaml_key(key) -> str:
    """A mapping key as a step of a YAML path in a one-line message: as written if it is printable text,
    else quoted (``'a\\nb'``, ``1``, ``None``)."""
    return key if isinstance(key, str) and key.isprintable() and key else repr(key)
