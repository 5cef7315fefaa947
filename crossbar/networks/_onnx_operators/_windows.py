"""Sliding windows of Conv and the pools: strides, dilations and padding, explicit or from ``auto_pad``."""

import numpy as np


def window(attrs: dict, x, kernel: tuple[int, ...]) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """Strides, dilations and (begin, end) padding per spatial axis of a window of size ``kernel`` sliding
    over x (B, C, *spatial)."""
    spatial = len(kernel)
    strides = list(attrs.get("strides", [1] * spatial))
    dilations = list(attrs.get("dilations", [1] * spatial))
    return strides, dilations, _pads(attrs, np.shape(x)[2:], kernel, strides, dilations)


def _pads(attrs: dict, sizes, kernel, strides, dilations) -> list[tuple[int, int]]:
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s, d in zip(sizes, kernel, strides, dilations, strict=True):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            pads.append((small, large) if auto == "SAME_UPPER" else (large, small))
        return pads
    if auto == "VALID":
        return [(0, 0)] * len(kernel)
    flat = list(attrs.get("pads", [0] * (2 * len(kernel))))
    return list(zip(flat[: len(kernel)], flat[len(kernel) :], strict=True))


def check_auto_pad(attrs: dict) -> None:
    """``ValueError`` for an ``auto_pad`` value the specification does not define."""
    auto = attrs.get("auto_pad", "NOTSET")
    if auto not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise ValueError(f"auto_pad {auto!r} is not supported (NOTSET, SAME_UPPER, SAME_LOWER, VALID)")
