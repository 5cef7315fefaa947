"""Parameters of a crossbar configuration by dotted path, as a sweep names them.

``device.FIELD`` (the device model, e.g. ``device.prog_noise_scale``; its components' fields, as in
``device.faults.p_off``), ``periphery.FIELD`` (``output_noise``, ``noise_management``, ...), ``adc.FIELD``
and ``dac.FIELD`` (the converters: ``bits``, ``bound``, ``v_read``, ``encoding``), ``tile.rows`` and
``tile.cols`` (the largest block of weights per tile), ``wire.r_row`` and ``wire.r_col`` (ohm),
``mapping.FIELD``, ``ir_drop`` (``exact``, ``approximate`` or ``none``) and ``drift_compensation``.
"""

import dataclasses

import equinox as eqx
import numpy as np

from emulator_common.validation import FLOAT32_MAX, is_number

from ..array import Crossbar

_ALIASES = {
    "adc": ("periphery", "adc"),
    "dac": ("periphery", "dac"),
    "tile.rows": ("tile_rows",),
    "tile.cols": ("tile_cols",),
    "wire.r_row": ("r_row",),
    "wire.r_col": ("r_col",),
}
_HEADS = ("device", "periphery", "adc", "dac", "mapping", "ir_drop", "drift_compensation")
_PREFIXES = (
    "device, periphery, adc, dac, mapping, tile.rows, tile.cols, wire.r_row, wire.r_col, ir_drop, "
    "drift_compensation"
)


def parameter_chain(path: str, crossbar: Crossbar) -> tuple[str, ...]:
    """The attribute chain of ``path`` in ``crossbar``; ``ValueError`` for a path that names no parameter."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"expected a parameter path like device.drift_scale, got {path!r}")
    chain = _ALIASES.get(path)
    if chain is None:
        head, _, rest = path.partition(".")
        if head not in _HEADS:
            raise ValueError(f"unknown parameter {path!r}; expected a path under {_PREFIXES}")
        chain = (*_ALIASES.get(head, (head,)), *(rest.split(".") if rest else ()))
    module = crossbar
    for depth, name in enumerate(chain):
        where = ".".join(chain[:depth])
        if not isinstance(module, eqx.Module):
            raise ValueError(
                f"unknown parameter {path!r}: {where} is {module!r}, not a component with fields"
            )
        fields = [f.name for f in dataclasses.fields(module)]
        if name not in fields:
            raise ValueError(
                f"unknown parameter {path!r}: {where} has no field {name!r}; "
                f"expected one of {', '.join(fields)}"
            )
        module = getattr(module, name)
    if isinstance(module, eqx.Module):
        raise ValueError(f"{path!r} is a component, not a parameter; name one of its fields")
    return chain


def is_static(chain: tuple[str, ...], crossbar: Crossbar) -> bool:
    """Whether the parameter at ``chain`` is a static field (a mode or a size: values compile apart)."""
    module = crossbar
    for name in chain[:-1]:
        module = getattr(module, name)
    field = next(f for f in dataclasses.fields(module) if f.name == chain[-1])
    return bool(field.metadata.get("static", False))


def with_parameter(crossbar: Crossbar, chain: tuple[str, ...], value) -> Crossbar:
    """``crossbar`` with the parameter at ``chain`` set to ``value``; ``ValueError`` says what was expected.

    Numeric fields take a number (one value for every tile, also where a chip's tiles had their own), or a
    float array of them (a batch, which a sweep checks at once); static fields take a value of their kind
    (bits an integer or null, names a string).
    """

    def replace(module, depth):
        name = chain[depth]
        if depth + 1 < len(chain):
            return dataclasses.replace(module, **{name: replace(getattr(module, name), depth + 1)})
        field = next(f for f in dataclasses.fields(module) if f.name == name)
        return dataclasses.replace(module, **{name: _checked(value, field, getattr(module, name))})

    try:
        return replace(crossbar, 0)
    except (TypeError, ValueError) as error:
        raise ValueError(str(error).split("\n")[0]) from None


def _checked(value, field: dataclasses.Field, current):
    """``value`` as the field's kind: a number for an array field, an int/str/bool/None for a static one."""
    if field.metadata.get("static", False):
        allowed = (type(current), type(None)) if current is not None else (int, str, type(None))
        if isinstance(value, bool) and not isinstance(current, bool) or not isinstance(value, allowed):
            kind = type(current).__name__ if current is not None else "a value"
            raise ValueError(f"expected {kind}, got {value!r}")
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if not np.all(np.abs(value) <= FLOAT32_MAX):
            raise ValueError("expected finite numbers within float32's range")
        return value
    if not is_number(value):
        raise ValueError(f"expected a finite number within float32's range, got {value!r}")
    return float(value)
