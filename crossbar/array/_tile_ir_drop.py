"""The distorted matrices of a grid of tiles, solved one tile after another.

Vectorizing the line solves over tiles, trials or sweep points (``jax.vmap``) ran about 8x slower on the CPU
than solving the tiles in turn (20 tiles of 392 x 512 devices, approximate model: 0.33 s against 0.044 s),
so every batch of tiles, however it is vmapped, is solved sequentially (``jax.custom_batching
.sequential_vmap``); a ``jax.custom_vjp`` keeps it differentiable in reverse mode, with the backward pass
solved tile by tile too.
"""

import jax
import jax.numpy as jnp

from .. import ir_drop


def _tile_solver(model: str):
    """``f(g, r_row, r_col)``: one tile's distorted matrix (uS) from its conductances ``g`` (R, C) (uS)."""

    def effective(g, r_row, r_col):
        return ir_drop.effective_matrix(g * 1e-6, r_row, r_col, model=model) * 1e6

    return effective


def _sequential_solver(model: str):
    """``_tile_solver(model)`` with its vmaps run as loops, forward and backward."""
    tile = _tile_solver(model)
    forward = jax.custom_batching.sequential_vmap(tile)
    backward = jax.custom_batching.sequential_vmap(
        lambda g, r_row, r_col, ct: jax.vjp(tile, g, r_row, r_col)[1](ct)
    )

    @jax.custom_vjp
    def effective(g, r_row, r_col):
        return forward(g, r_row, r_col)

    def effective_forward(g, r_row, r_col):
        return forward(g, r_row, r_col), (g, r_row, r_col)

    def effective_backward(residuals, ct):
        return backward(*residuals, ct)

    effective.defvjp(effective_forward, effective_backward)
    return effective


_SOLVERS = {model: _sequential_solver(model) for model in ir_drop.EFFECTIVE_MATRIX_MODELS}


def effective_tiles(g: jax.Array, r_row, r_col, model: str) -> jax.Array:
    """Distorted matrices (uS) of tiles of conductances ``g`` (uS) (..., R, C), wires ``r_row``, ``r_col``
    (ohm per segment: one value for every tile, or one per tile, shaped ``g.shape[:-2]``) and IR-drop
    ``model`` (``"exact"`` or ``"approximate"``), one tile at a time."""
    solve = _SOLVERS[model]
    r_row, r_col = (jnp.broadcast_to(jnp.asarray(r, g.dtype), g.shape[:-2]) for r in (r_row, r_col))
    for _ in range(g.ndim - 2):
        solve = jax.vmap(solve)
    return solve(g, r_row, r_col)
