"""What the machine can hold: its memory, and a check that a piece of work fits in it."""

import os


def machine_memory() -> int:
    """The machine's total memory in bytes (physical pages times the page size)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def gib(size: float) -> str:
    """Bytes as GiB for a message: ``1,024 GiB``, ``23 GiB``, ``0.31 GiB``."""
    value = size / 2**30
    return f"{value:,.0f} GiB" if value >= 10 else f"{value:.2g} GiB"


def require_memory(what: str, needed: float, purpose: str) -> None:
    """``ValueError("WHAT needs about N GiB for PURPOSE; this machine has M GiB")`` when ``needed`` bytes
    exceed the machine's memory."""
    total = machine_memory()
    if needed > total:
        raise ValueError(f"{what} needs about {gib(needed)} for {purpose}; this machine has {gib(total)}")
