"""The approximate distorted matrix: each line solved exactly on its own (docs/models.md section 6.5).

SI units: conductance in S, wire resistance in ohm.
"""

import jax

from ._lines import COL, ROW, inverse_pivots, line_solve


@jax.jit
def approximate_effective_matrix(g: jax.Array, r_row: jax.Array, r_col: jax.Array) -> jax.Array:
    """W_eff (R, C) in S of decoupled lines: ``g * (1 - row_drop) * (1 - column_rise)``.

    ``row_drop[i, j]`` is the drop at node (i, j) of row line i driven at 1 V with its column nodes held at
    0 V; ``column_rise[i, j]`` the voltage of column node (i, j) with every row node held at 1 V. Both are
    exact solves of one tridiagonal per line (O(RC)), so the model is exact when either wire family is ideal
    and first-order exact in ``r * g`` otherwise; what it leaves out is the rows' coupling to each other
    through the columns (second order in ``r_row * r_col * g**2``). Differentiable; vmaps over all inputs.
    """
    y_row, y_col = r_row * g, r_col * g
    row_drop = line_solve(inverse_pivots(y_row, *ROW), y_row, *ROW)
    column_rise = line_solve(inverse_pivots(y_col, *COL), y_col, *COL)
    return g * (1 - row_drop) * (1 - column_rise)
