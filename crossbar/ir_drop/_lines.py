"""Exact solves along every line of one family of a tile's wires (docs/models.md section 6.2).

A line family is ``(axis, reverse)``: the axis its nodes run along in (R, C, ...) fields, and whether it is
eliminated from the high end. Row lines run along j with the open end at j = C-1 and the driver before j = 0;
column lines run along i with the open end at i = 0 and the ground after i = R-1.
"""

import jax
import jax.numpy as jnp
from jax import lax

ROW = (1, True)
COL = (0, False)


def inverse_pivots(y: jax.Array, axis: int, reverse: bool) -> jax.Array:
    """Inverse pivots (shape of ``y``) of the line operators ``L + diag(y)``, eliminated from the open end.

    Pivot k is ``1 + s_k`` with ``s_k = y_k + u_(k-1)`` and ``u_k = s_k / (1 + s_k)``, the fraction of a
    line's current that leaks away at node k. Carrying the small ``u`` rather than ``1 - u`` keeps float32
    precise for tiny ``y`` (long, weakly loaded lines); ``1 / (1 + s)`` stays precise for huge ``y``.
    """

    def pivot(u_prev, y_k):
        s = y_k + u_prev
        return s / (1 + s), 1 / (1 + s)

    start = jnp.zeros_like(lax.index_in_dim(y, 0, axis, keepdims=False))
    _, w = lax.scan(pivot, start, jnp.moveaxis(y, axis, 0), reverse=reverse)
    return jnp.moveaxis(w, 0, axis)


def line_solve(w: jax.Array, f: jax.Array, axis: int, reverse: bool) -> jax.Array:
    """Solve ``(L + diag(y)) x = f`` along ``axis`` for every line, given its inverse pivots ``w``."""
    w0, f0 = jnp.moveaxis(w, axis, 0), jnp.moveaxis(f, axis, 0)

    def eliminate(z, wf):
        z = (wf[1] + z) * wf[0]
        return z, z

    def substitute(x, wz):
        x = wz[1] + wz[0] * x
        return x, x

    zero = jnp.zeros_like(f0[0])
    _, z = lax.scan(eliminate, zero, (w0, f0), reverse=reverse)
    _, x = lax.scan(substitute, zero, (w0, z), reverse=not reverse)
    return jnp.moveaxis(x, 0, axis)
