"""Exact IR drop of a crossbar tile: the resistive network of docs/models.md section 6.

SI units in this module: conductance in S, voltage in V, current in A, wire resistance in Ohm.

Linear devices: ``effective_matrix`` solves the network directly (``_nested_dissection.py``). Nonlinear
devices: Newton's method, each step an iterative solve of the linearized network, as follows. The unknowns
are voltage drops, so that ideal wires give exactly zero drop and float32 keeps its precision:
``alpha[i, j] = V_i - a[i, j]`` along row line i and ``b[i, j]`` (the column node above ground) on column
line j. Kirchhoff's current law at every node, multiplied by the segment resistance, reads

    L_row alpha = r_row * i(dv),    L_col b = r_col * i(dv),    dv = V - alpha - b,

with ``L_row`` and ``L_col`` the unit Laplacians of the line chains (driver or ground at one end, open at the
other) and ``i`` the device current. Linear devices, or one Newton step, give the block system

    [T      y_row] [alpha]   [f_alpha]      T = L_row + diag(y_row)    (one tridiagonal per row line)
    [y_col  M    ] [b    ] = [f_b    ],     M = L_col + diag(y_col)    (one tridiagonal per column line)

with ``y = r * di/ddv`` per device. Eliminating alpha leaves ``S b = f_b - y_col T^-1 f_alpha`` with the
Schur complement ``S = M - y_col T^-1 y_row``, symmetric positive definite (``r_col`` times the Schur
complement of the network's conductance matrix). Conjugate gradients solve it, preconditioned with M. Both
line families are solved exactly (Thomas algorithm), so the preconditioned spectrum lies in (0, 1] and only
the coupling of rows to columns through the devices is left to iterate on: a handful of iterations at
realistic ``r * g``. Fields are shaped (R, C, B), B right-hand sides last; no 2RC x 2RC matrix is formed.
"""

from functools import partial
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from device_models import sinh_current
from emulator_common.validation import require, require_choice, require_finite_nonnegative

from ._approximate import approximate_effective_matrix
from ._lines import COL, ROW, inverse_pivots, line_solve
from ._nested_dissection import nested_dissection_matrix

EFFECTIVE_MATRIX_MODELS = ("exact", "approximate")
_NEWTON_CG_MAX_ITER = 200  # CG cap per Newton step (past it the step is inexact; Newton's checks still hold)
_GROWTH_LIMIT = 3  # consecutive Newton iterations with a doubling residual that count as divergence
_NEWTON_ERRORS = (
    "IR-drop Newton solve produced non-finite voltages (iv_b * |v| too large: sinh overflows); "
    "use smaller input voltages, a smaller iv_b or lower wire resistance",
    "IR-drop Newton solve diverged (its residual grew for several iterations); "
    "use smaller input voltages, a smaller iv_b or lower wire resistance",
    "IR-drop Newton solve did not converge within max_iter iterations; "
    "increase max_iter, or use smaller input voltages, a smaller iv_b or lower wire resistance",
)


def column_currents(g, v, r_row, r_col, *, model: str = "exact") -> jax.Array:
    """Column output currents (..., C) in A for row voltages ``v`` (..., R) in V, linear devices.

    ``g`` (R, C) in S; ``r_row``, ``r_col`` in Ohm per wire segment. The exact steady state (or the
    approximate one), computed as ``v @ effective_matrix(g, r_row, r_col, model=model)``.
    """
    g, r_row, r_col = _checked_network(g, r_row, r_col)
    v = _checked_inputs(v, g.shape[0])
    return v @ effective_matrix(g, r_row, r_col, model=model)


def effective_matrix(g, r_row, r_col, *, model: str = "exact") -> jax.Array:
    """The distorted matrix W_eff (R, C) in S with output currents ``I = V @ W_eff`` under IR drop.

    ``model="exact"`` solves the network directly (``nested_dissection_matrix``, docs/models.md section
    6.3), so every later MVM is one matmul. ``"approximate"`` solves each line on its own in O(RC)
    (``approximate_effective_matrix``, section 6.5), which is exact when either wire family is ideal: the
    exact model uses it there. Zero wire resistance gives ``W_eff == g`` exactly. Differentiable with respect
    to ``g``, ``r_row`` and ``r_col``.
    """
    require_choice("model", model, EFFECTIVE_MATRIX_MODELS)
    g, r_row, r_col = _checked_network(g, r_row, r_col)
    if model == "approximate":
        return approximate_effective_matrix(g, r_row, r_col)
    return _exact(g, r_row, r_col)


def column_currents_nonlinear(
    g, v, r_row, r_col, iv_b, *, tol: float | None = None, max_iter: int = 50
) -> jax.Array:
    """Column currents (..., C) in A for devices with ``i = g sinh(iv_b dv) / iv_b``, solved per input.

    ``g`` (R, C) in S, ``v`` (..., R) in V, ``r_row``/``r_col`` in Ohm, ``iv_b`` in 1/V (0: linear devices).
    Newton's method from the drop-free state; each step solves the linearized network by preconditioned
    conjugate gradients (docs/models.md section 6.2). An input is done when its voltage update falls below
    ``tol * max|v|`` (default 1e-6 in float32, 1e-10 in float64), or stops shrinking at the rounding floor.
    Raises ``equinox.EquinoxRuntimeError`` naming the cause and a remedy on non-finite voltages, a residual
    growing for several iterations, or no convergence within ``max_iter`` Newton iterations
    (``equinox.error_if``: inside an outer ``jax.jit`` the same message comes as a
    ``jax.errors.JaxRuntimeError``; ``equinox.filter_jit`` keeps the type).
    Differentiable in ``g``, ``v``, ``r_row``, ``r_col`` and ``iv_b`` (implicitly, at the solution).
    """
    g, r_row, r_col = _checked_network(g, r_row, r_col)
    v = _checked_inputs(v, g.shape[0])
    require_finite_nonnegative("iv_b", iv_b)
    dtype = jnp.result_type(g, v)
    tol = _checked_solver(tol, max_iter, dtype)
    flat = v.reshape(-1, g.shape[0]).T.astype(dtype)  # (R, B)
    network = (g.astype(dtype), flat, r_row.astype(dtype), r_col.astype(dtype), jnp.asarray(iv_b, dtype))
    currents, _ = _nonlinear(*network, tol, int(max_iter))
    return currents.T.reshape(*v.shape[:-1], g.shape[1])


def _checked_network(g, r_row, r_col) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Validate concrete inputs (tracers pass) and convert them to one float dtype."""
    if jnp.ndim(g) != 2 or 0 in jnp.shape(g):
        raise ValueError(
            f"g: expected a 2-D array (rows, columns) of conductances in S, got shape {jnp.shape(g)}"
        )
    require("g", g, lambda x: np.isfinite(x) & (x >= 0), "finite conductances >= 0 S")
    for name, r in (("r_row", r_row), ("r_col", r_col)):
        if jnp.ndim(r) != 0:
            raise ValueError(f"{name}: expected a scalar resistance in Ohm, got shape {jnp.shape(r)}")
        require_finite_nonnegative(name, r)
    g = jnp.asarray(g)
    g = g.astype(jnp.result_type(g, float))
    return g, jnp.asarray(r_row, g.dtype), jnp.asarray(r_col, g.dtype)


def _checked_inputs(v, rows: int) -> jax.Array:
    """Validate concrete input voltages (..., rows) and convert them to a float array."""
    if jnp.ndim(v) < 1 or jnp.shape(v)[-1] != rows:
        raise ValueError(
            f"v: expected shape (..., {rows}), one voltage per row of g, got shape {jnp.shape(v)}"
        )
    require("v", v, np.isfinite, "finite voltages")
    v = jnp.asarray(v)
    return v.astype(jnp.result_type(v, float))


def _checked_solver(tol: float | None, max_iter: int, dtype) -> float:
    """The tolerance to use: ``tol``, or a default for ``dtype``."""
    if tol is None:
        tol = 1e-10 if jnp.dtype(dtype) == jnp.float64 else 1e-6
    if not 0 < tol < 1:
        raise ValueError(f"tol: expected a relative tolerance in (0, 1), got {tol!r}")
    if not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"max_iter: expected an integer >= 1, got {max_iter!r}")
    return float(tol)


def _shifted(x: jax.Array, axis: int, step: int) -> jax.Array:
    """``x_(k + step)`` along ``axis`` (``step`` is 1 or -1), 0 past the ends."""
    n = x.shape[axis]
    zero = jnp.zeros_like(lax.slice_in_dim(x, 0, 1, axis=axis))
    if step > 0:
        return jnp.concatenate([lax.slice_in_dim(x, 1, n, axis=axis), zero], axis=axis)
    return jnp.concatenate([zero, lax.slice_in_dim(x, 0, n - 1, axis=axis)], axis=axis)


def _laplacian(x: jax.Array, axis: int, reverse: bool) -> jax.Array:
    """``L x`` along ``axis`` as a difference of segment currents, accurate for smooth ``x``.

    ``flux_k = x_k - x_(k+1)`` flows through the segment on node k's grounded side (x = 0 past the ground end,
    the one before index 0 when ``reverse``); ``L x_k = flux_k - flux_(k-1)``, no segment past the open end.
    """
    toward_ground = -1 if reverse else 1
    flux = x - _shifted(x, axis, toward_ground)
    return flux - _shifted(flux, axis, -toward_ground)


class _Network(eqx.Module):
    """Linearized network: device terms ``y = r * di/ddv`` (R, C, 1 or B) and the lines' inverse pivots."""

    y_row: jax.Array
    y_col: jax.Array
    w_row: jax.Array
    w_col: jax.Array

    def __init__(self, y_row: jax.Array, y_col: jax.Array):
        self.y_row, self.y_col = y_row, y_col
        self.w_row, self.w_col = inverse_pivots(y_row, *ROW), inverse_pivots(y_col, *COL)

    def coupling(self, p: jax.Array) -> jax.Array:
        """``K p = y_col T^-1 (y_row p)`` (R, C, B): the part of ``S = M - K`` through devices and rows."""
        return self.y_col * line_solve(self.w_row, self.y_row * p, *ROW)

    def schur(self, p: jax.Array) -> jax.Array:
        """``S p = M p - K p`` on column-node fields (R, C, B)."""
        return _laplacian(p, *COL) + self.y_col * p - self.coupling(p)

    def precondition(self, r: jax.Array) -> jax.Array:
        """``M^-1 r``: every column line solved exactly."""
        return line_solve(self.w_col, r, *COL)

    def solve(self, f_alpha: jax.Array, f_b: jax.Array, tol: float, max_iter: int):
        """Solve the block system for ``(alpha, b)`` (R, C, B); also CG iterations and convergence."""
        h = f_b - self.y_col * line_solve(self.w_row, f_alpha, *ROW)
        pcg = partial(_pcg, self, tol=tol, max_iter=max_iter)  # solves S b = h; implicit gradients through S
        b, stats = lax.custom_linear_solve(self.schur, h, pcg, symmetric=True, has_aux=True)
        alpha = line_solve(self.w_row, f_alpha - self.y_row * b, *ROW)
        return alpha, b, stats


def _pcg(network: _Network, _, h: jax.Array, *, tol: float, max_iter: int):
    """Conjugate gradients on ``S b = h`` preconditioned with M, one per right-hand side (last axis) of h.

    Each stops when its preconditioned residual norm falls below ``tol`` times the initial one. ``M p`` is
    carried along (``M z = r``, so ``M p' = r + beta M p``) and M is never applied: no second differences and
    their float32 cancellation. Returns b and (iterations, whether every right-hand side converged).
    """

    def dot(p, q):
        return jnp.sum(p * q, axis=(0, 1), keepdims=True)

    scale = jnp.max(jnp.abs(h), axis=(0, 1), keepdims=True)
    scale = jnp.where(scale > 0, scale, 1)
    r = h / scale
    z = network.precondition(r)
    rz = dot(r, z)
    stop = tol**2 * rz

    def unfinished(state):
        *_, rz, k = state
        return (k < max_iter) & jnp.any(rz > stop)

    def step(state):
        x, r, p, mp, rz, k = state
        active = rz > stop
        sp = mp - network.coupling(p)
        alpha = jnp.where(active, rz / dot(p, sp), 0)
        x, r = x + alpha * p, r - alpha * sp
        z = network.precondition(r)
        rz_new = jnp.where(active, dot(r, z), rz)
        beta = jnp.where(active, rz_new / rz, 0)
        return x, r, z + beta * p, r + beta * mp, rz_new, k + 1

    x, *_, rz, k = lax.while_loop(unfinished, step, (jnp.zeros_like(r), r, z, r, rz, jnp.array(0)))
    return x * scale, (k, jnp.all(rz <= stop))


@jax.jit
def _exact(g: jax.Array, r_row: jax.Array, r_col: jax.Array) -> jax.Array:
    """W_eff (R, C): the direct solve, or the line solves where a wire family is ideal (exact there)."""
    ideal = (r_row == 0) | (r_col == 0)
    safe = (jnp.where(ideal, 1, r_row), jnp.where(ideal, 1, r_col))  # no infinite conductance, even unused
    return lax.cond(
        ideal,
        lambda: approximate_effective_matrix(g, r_row, r_col),
        lambda: nested_dissection_matrix(g, *safe),
    )


class _Newton(NamedTuple):
    """Newton state: drops (R, C, B) in V; per input (1, 1, B): whether still iterating, last update (V)."""

    alpha: jax.Array
    b: jax.Array
    active: jax.Array
    update: jax.Array
    residual: jax.Array  # largest KCL residual (V) of the active inputs
    growth: jax.Array  # consecutive iterations in which that residual more than doubled
    status: jax.Array  # 0 running, else 1 + index into _NEWTON_ERRORS
    iterations: jax.Array
    cg_iterations: jax.Array


def _largest(x: jax.Array, y: jax.Array) -> jax.Array:
    """Largest magnitude per input (1, 1, B) of two fields (R, C, B)."""
    return jnp.max(jnp.maximum(jnp.abs(x), jnp.abs(y)), axis=(0, 1), keepdims=True)


def _newton_step(g3, v3, r_row, r_col, iv_b, alpha, b, tol):
    """Newton update (d_alpha, d_b) (R, C, B) in V at drops alpha, b; also the KCL residual per input and the
    CG iterations. ``g3`` (R, C, 1) in S, ``v3`` (R, 1, B) in V."""
    dv = v3 - alpha - b
    current = sinh_current(g3, dv, iv_b)
    f_alpha = _laplacian(alpha, *ROW) - r_row * current
    f_b = _laplacian(b, *COL) - r_col * current
    slope = g3 * jnp.cosh(iv_b * dv)
    network = _Network(r_row * slope, r_col * slope)
    d_alpha, d_b, (cg_iterations, _) = network.solve(-f_alpha, -f_b, tol, _NEWTON_CG_MAX_ITER)
    return d_alpha, d_b, _largest(f_alpha, f_b), cg_iterations


@eqx.filter_jit
def _nonlinear(g, v, r_row, r_col, iv_b, tol, max_iter):
    """Currents (C, B) in A for inputs ``v`` (R, B) by Newton's method; also (Newton, CG) iteration counts.

    An input has converged when its update is below ``tol * max|v|``, or below ``sqrt(tol) * max|v|`` and no
    longer halving: it has reached the rounding floor (float32 on large tiles).
    The loop runs on constants; one last step from its result carries the gradients (implicit function
    theorem: at the solution, the derivative of one Newton step is the derivative of the solution).
    """
    params = (g[:, :, None], v[:, None, :], r_row, r_col, iv_b)
    frozen = lax.stop_gradient(params)
    v_max = jnp.max(jnp.abs(frozen[1]), axis=(0, 1), keepdims=True)

    def step(s: _Newton) -> _Newton:
        d_alpha, d_b, residuals, cg_iterations = _newton_step(*frozen, s.alpha, s.b, tol)
        alpha, b = s.alpha + jnp.where(s.active, d_alpha, 0), s.b + jnp.where(s.active, d_b, 0)
        update = _largest(d_alpha, d_b)
        stalled = (update <= tol**0.5 * v_max) & (update > s.update / 2)
        residual = jnp.max(jnp.where(s.active, residuals, 0))
        growth = jnp.where(residual > 2 * s.residual, s.growth + 1, 0)
        finite = jnp.all(jnp.isfinite(alpha)) & jnp.all(jnp.isfinite(b))
        status = jnp.where(finite, jnp.where(growth >= _GROWTH_LIMIT, 2, 0), 1)
        active = s.active & (update > tol * v_max) & ~stalled
        counts = (s.iterations + 1, s.cg_iterations + cg_iterations)
        return _Newton(alpha, b, active, update, residual, growth, status, *counts)

    def unfinished(s: _Newton) -> jax.Array:
        return jnp.any(s.active) & (s.iterations < max_iter) & (s.status == 0)

    zero, count, inf = jnp.zeros(g.shape + v.shape[1:], g.dtype), jnp.array(0), jnp.array(jnp.inf, g.dtype)
    start = _Newton(zero, zero, v_max > 0, jnp.full_like(v_max, jnp.inf), inf, count, count, count, count)
    s = lax.while_loop(unfinished, step, start)
    status = jnp.where((s.status == 0) & jnp.any(s.active), 3, s.status)
    d_alpha, d_b, _, cg_iterations = _newton_step(*params, s.alpha, s.b, tol)
    g3, v3, _, _, iv_b = params
    currents = jnp.sum(sinh_current(g3, v3 - (s.alpha + d_alpha) - (s.b + d_b), iv_b), axis=0)
    currents = eqx.branched_error_if(currents, status > 0, jnp.maximum(status - 1, 0), _NEWTON_ERRORS)
    return currents, (s.iterations + 1, s.cg_iterations + cg_iterations)
