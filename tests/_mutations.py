"""Random mutations of a YAML document (a device, hardware or sweep file, a profile), for property tests:
a value replaced by an odd one, a key deleted or renamed, a list cut or grown, a number negated or scaled."""

import copy
import datetime

from hypothesis import strategies as st

ODD_VALUES = [
    None,
    -1,
    0,
    1,
    2,
    -0.5,
    0.5,
    10**30,
    10**400,
    float("inf"),
    float("-inf"),
    float("nan"),
    True,
    False,
    "x",
    "",
    "off",
    "a\nb",
    [],
    {},
    [1.0] * 300,
    [[1, [2]], {"a": []}],
    {"a": {"b": [None]}},
    {"index": 0},
    [0, 0, "off"],
    datetime.date(2024, 5, 17),
    b"\x00bytes",
]
ODD_KEYS = ["gian", "index", "a\nb", "", 1, None, True]


def _places(data):
    """Every (container, key) in a nested structure, containers included."""
    for key in list(data) if isinstance(data, dict) else range(len(data)):
        yield data, key
        if isinstance(data[key], (dict, list)):
            yield from _places(data[key])


def _draw_place(data, draw) -> tuple:
    """A (container, key) in ``data``: half the time any of them alike (mostly within the long lists of
    cells and gains), half the time by a walk down from the top that stops at each level with probability
    1/4 (every part of the schema alike)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(list(_places(data))))
    parent = data
    while True:
        key = draw(st.sampled_from(list(parent) if isinstance(parent, dict) else range(len(parent))))
        child = parent[key]
        if not (isinstance(child, (dict, list)) and child) or draw(st.integers(0, 3)) == 0:
            return parent, key
        parent = child


def mutate(data, draw) -> None:
    """Apply one random mutation to ``data`` in place."""
    parent, key = _draw_place(data, draw)
    value = parent[key]
    kinds = ["delete", "replace", "rename"]
    if isinstance(value, list):
        kinds += ["truncate", "duplicate"]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e300:
        kinds += ["negate", "to float", "to bool", "scale"]
    kind = draw(st.sampled_from(kinds))
    if kind == "delete" or (kind == "rename" and isinstance(parent, list)):
        del parent[key]
    elif kind == "replace":
        parent[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    elif kind == "rename":
        parent[draw(st.sampled_from(ODD_KEYS))] = parent.pop(key)
    elif kind == "truncate":
        del value[draw(st.integers(0, len(value))) :]
    elif kind == "duplicate" and value:
        value.append(copy.deepcopy(value[draw(st.integers(0, len(value) - 1))]))
    elif kind == "negate":
        parent[key] = -value
    elif kind == "to float":
        parent[key] = float(value) + draw(st.sampled_from([0.0, 0.5]))
    elif kind == "to bool":
        parent[key] = bool(value)
    elif kind == "scale":
        parent[key] = value * draw(st.sampled_from([0, 2, 1e6, 1e300]))
