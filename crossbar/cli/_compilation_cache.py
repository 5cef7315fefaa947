"""JAX's persistent compilation cache for the ``crossbar`` command: compiled programs are kept on disk, so a
later run of the same work (same model shapes and hardware structure) loads them instead of compiling again.

Where: ``$CROSSBAR_JAX_CACHE`` if set (a folder, or ``off`` to turn the cache off), else
``$XDG_CACHE_HOME/crossbar-emulator/jax`` (``~/.cache/crossbar-emulator/jax``). The library itself never
turns it on: a Python user chooses with ``jax.config.update("jax_compilation_cache_dir", ...)``.
"""

import os
from pathlib import Path

import jax

ENVIRONMENT_VARIABLE = "CROSSBAR_JAX_CACHE"


def cache_folder() -> Path | None:
    """The folder of the cache, or ``None`` when the user turned it off."""
    chosen = os.environ.get(ENVIRONMENT_VARIABLE)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "crossbar-emulator" / "jax"


def enable_compilation_cache() -> None:
    """Turn the cache on for this process (every compiled program is kept: the per-layer programs of an
    estimate take well under JAX's default threshold of 1 s each to compile, and there are many)."""
    folder = cache_folder()
    if folder is None:
        return
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
