"""The memory a Monte Carlo estimate holds at once, from the tile grids of the model's matrices: enough to
refuse, before it runs, hardware whose tiles the machine cannot evaluate (tiles of one weight, say)."""

from emulator_common.memory import require_memory

from ._monte_carlo import EXAMPLES_PER_STEP

BYTES_PER_OUTPUT = 40
"""Bytes held per tile output column, example of a step and chip evaluated together (measured: 34, a 784 x
256 matrix on tiles of 1 x 1 weight)."""
BYTES_PER_DEVICE = 16
"""Bytes per device of a chip: its programmed state and one read."""


def require_evaluation_memory(
    grids: list[tuple[int, int, int, int, int]],
    examples: int,
    trials: int,
    chips_together: int = 1,
) -> None:
    """``ValueError`` naming the memory needed when the machine cannot hold ``trials`` chips of matrices on
    ``grids`` (n_r, n_c, R, C tiles, and the matrix's products per example) with ``chips_together`` of them
    evaluated at once on a step of ``examples`` (at most ``EXAMPLES_PER_STEP``)."""
    outputs = sum(n_r * n_c * cols * mvms for n_r, n_c, _, cols, mvms in grids)
    devices = sum(2 * n_r * n_c * rows * cols for n_r, n_c, rows, cols, _ in grids)  # differential pairs
    step = min(examples, EXAMPLES_PER_STEP) * chips_together * outputs * BYTES_PER_OUTPUT
    what = f"the model on {sum(n_r * n_c for n_r, n_c, *_ in grids):,} tiles ({outputs:,} tile outputs)"
    require_memory(what, step + trials * devices * BYTES_PER_DEVICE, "each step of examples")
