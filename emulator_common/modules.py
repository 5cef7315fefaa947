"""Equinox modules to and from plain mappings (YAML and JSON documents), every malformed field reported by
its dotted path (``write_verify.response.p_max: expected ...``).

Array fields hold one finite number each (a document describes one device or one configuration, not a
batch), within float32's range; static fields hold their kind (an integer, a string, a boolean, or ``None``
where the field's type allows it); fields whose value is a module are nested mappings of that module's
fields. A field left out takes its default.
"""

import dataclasses
import types
import typing

import equinox as eqx
import numpy as np

from .validation import FLOAT32_MAX, is_number
from .yaml_files import yaml_key


def module_to_dict(module: eqx.Module) -> dict:
    """Plain-Python mapping of a module's fields; ``None`` left out where it is the field's default."""
    out = {}
    for field in dataclasses.fields(module):
        value = getattr(module, field.name)
        if value is None:
            if field.default is not None:
                out[field.name] = None
        elif isinstance(value, eqx.Module):
            out[field.name] = module_to_dict(value)
        elif isinstance(value, (str, int, bool)):
            out[field.name] = value
        else:
            out[field.name] = _plain(np.asarray(value))
    return out


def _plain(array: np.ndarray):
    """An array as Python numbers (nested lists); float32 values as their shortest decimal that reads back
    to the same float32 (0.04, not 0.03999999910593033)."""
    if array.dtype == np.float32:
        shortest = [float(str(v)) for v in array.ravel()]  # str of an np.float32 is its shortest decimal
        return np.reshape(np.asarray(shortest), array.shape).tolist()
    return array.tolist()


def module_from_dict(cls: type[eqx.Module], data, prefix: str = "", components: dict | None = None):
    """``cls`` built from ``data``; ``components`` maps a field name to the module class it holds.

    ``prefix`` is the mapping's dotted path in its document (``"device."``); ``ValueError`` messages start
    with the full path of the field at fault.
    """
    components = components or {}
    if not isinstance(data, dict):
        raise ValueError(f"{prefix.rstrip('.') or 'document'}: expected a mapping, got {type(data).__name__}")
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        raise ValueError(
            f"{prefix}{yaml_key(unknown[0])}: unknown field; expected one of {', '.join(fields)}"
        )
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key in components:
            kwargs[key] = (
                None if value is None else module_from_dict(components[key], value, f"{path}.", components)
            )
        elif fields[key].metadata.get("static", False):
            kwargs[key] = _static_value(path, value, fields[key])
        elif value is None and _allows_none(fields[key]):
            kwargs[key] = None
        else:
            kwargs[key] = _number(path, value)
    try:
        return cls(**kwargs)
    except ValueError as error:
        raise ValueError(_full_path(str(error).split("\n")[0], prefix)) from None


def _allows_none(field: dataclasses.Field) -> bool:
    union = typing.get_origin(field.type) in (typing.Union, types.UnionType)
    return field.default is None or (union and type(None) in typing.get_args(field.type))


def _full_path(message: str, prefix: str) -> str:
    """A module names its fields bare (``g_max``) or from its usual place (``response.p_max``); give the
    full path (``device.g_max``, ``write_verify.response.p_max``)."""
    own = prefix.rstrip(".").rsplit(".", 1)[-1] + "."
    if not prefix or message.startswith(prefix):
        return message
    return prefix + (message[len(own) :] if message.startswith(own) else message)


def _static_value(path: str, value, field: dataclasses.Field):
    if value is None and _allows_none(field):
        return None
    kind = (
        type(field.default)
        if field.default is not None
        else next(k for k in typing.get_args(field.type) if k is not type(None))
    )
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected true or false, got {value!r}")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            none = " or null" if _allows_none(field) else ""
            raise ValueError(f"{path}: expected an integer{none}, got {value!r}")
    elif kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected a string, got {value!r}")
    else:
        raise TypeError(f"{path}: unsupported static field of {kind}")
    return value


def _number(path: str, value) -> float:
    if isinstance(value, (list, tuple)):
        raise ValueError(f"{path}: expected one finite number, not a list, got {_short(value)}")
    if not is_number(value):
        within = f" within float32's range (|x| <= {FLOAT32_MAX:.3g})" if _is_real(value) else ""
        raise ValueError(f"{path}: expected a finite number{within}, got {_short(value)}")
    return float(value)


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
