"""Figures as PNG bytes, from matplotlib's Figure (not pyplot: a caller's backend stays as it is)."""

import io

from matplotlib.figure import Figure


def png_bytes(fig: Figure, dpi: int = 110, tight: bool = True) -> bytes:
    """The figure as PNG; ``tight`` crops it to its drawn content."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buffer.getvalue()
