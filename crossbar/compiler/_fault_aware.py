"""Fault-aware mapping within a block: program around stuck cells, and permute the block's rows and output
columns so that stuck cells fall where they cost least.

A weight u = w / w_max in [-1, 1] is held by a signal device and a partner device (differential: the positive
and the negative device of its pair; reference column: its device and the row's reference device), at
normalized conductances in [0, 1] (0 = g_min, 1 = g_max). A stuck device holds 0 (stuck off) or 1 (stuck on)
whatever is programmed. Compensation programs the healthy device of a pair around its stuck partner
(differential: g- = s - u when g+ is stuck at s; reference: g = u / 2 + t when the reference is stuck at t),
which makes a stuck-on device harmless for weights of its sign.

The squared error of a weight then depends only on u and the two devices' fault codes, one of 9 combinations,
so the total error of a placement is a sum over combinations of (error table) x (placement of that
combination): linear in the row assignment for fixed columns, and the reverse. Alternating exact linear
assignments (scipy's ``linear_sum_assignment``) never increase it; they find a local optimum, so the search
starts once from each axis and keeps the better result.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment

from emulator_common.fault_codes import HEALTHY, STUCK_OFF, STUCK_ON

_CODES = (HEALTHY, STUCK_OFF, STUCK_ON)
_MAX_ROUNDS = 10


def slot_codes(stuck: np.ndarray, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """Fault codes (rows, outputs) of the signal and partner device of every weight slot of a block.

    ``stuck`` (rows, device columns): pairs (2o, 2o+1) (differential), or C columns and a reference column.
    """
    if scheme == "differential":
        return stuck[:, 0::2], stuck[:, 1::2]
    return stuck[:, :-1], np.broadcast_to(stuck[:, -1:], stuck[:, :-1].shape)


def _stuck_value(code: np.ndarray, programmed: np.ndarray) -> np.ndarray:
    """Normalized conductance a device holds: 0 stuck off, 1 stuck on, else what was programmed."""
    return np.where(code == STUCK_OFF, 0.0, np.where(code == STUCK_ON, 1.0, programmed))


def programmed_pair(
    u: np.ndarray, signal: np.ndarray, partner: np.ndarray, scheme: str, compensate: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Normalized targets (signal device, partner device) for weights u with the devices' fault codes;
    ``compensate`` programs a healthy device around its stuck partner."""
    if scheme == "differential":
        g_signal, g_partner = np.maximum(u, 0.0), np.maximum(-u, 0.0)
        if compensate:
            g_partner = np.where(
                signal != HEALTHY, np.clip(_stuck_value(signal, 0.0) - u, 0.0, 1.0), g_partner
            )
            g_signal = np.where(
                partner != HEALTHY, np.clip(u + _stuck_value(partner, 0.0), 0.0, 1.0), g_signal
            )
        return g_signal, g_partner
    reference = _stuck_value(partner, 0.5) if compensate else 0.5
    return np.clip(0.5 * u + reference, 0.0, 1.0), np.full_like(u, 0.5)


def held_weight(
    u: np.ndarray, signal: np.ndarray, partner: np.ndarray, scheme: str, compensate: bool = True
) -> np.ndarray:
    """The normalized weight that two devices with fault codes (signal, partner) hold for target u."""
    g_signal, g_partner = programmed_pair(u, signal, partner, scheme, compensate)
    held = _stuck_value(signal, g_signal) - _stuck_value(partner, g_partner)
    return held if scheme == "differential" else 2.0 * held


def fault_aware_permutation(
    u: np.ndarray, stuck: np.ndarray, scheme: str, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row and output-column permutations that put stuck cells where they cost least (with compensation).

    Args:
        u: normalized weights (rows, outputs), clipped to [-1, 1].
        stuck: fault codes of the block's devices (rows, device columns).
        scheme: ``"differential"`` or ``"reference_column"``.
        valid: which weights are real (rows, outputs); padding costs nothing wherever it lands.

    Returns:
        (row_of, col_of): logical row a sits on physical row ``row_of[a]``, logical output b on physical slot
        ``col_of[b]``. Identity when the block has no stuck cell.
    """
    rows, outputs = u.shape
    row_of, col_of = np.arange(rows), np.arange(outputs)
    signal, partner = slot_codes(stuck, scheme)
    combination = 3 * signal.astype(np.int64) + partner
    present = [k for k in np.unique(combination) if k != 3 * HEALTHY + HEALTHY]
    if not present:
        return row_of, col_of
    # error[k]: squared error of each weight if it sat on a slot with fault combination k.
    error = {
        k: np.where(
            valid,
            (held_weight(u, np.full_like(signal, k // 3), np.full_like(signal, k % 3), scheme) - u) ** 2,
            0.0,
        )
        for k in present
    }
    placed = {k: (combination == k).astype(float) for k in present}

    def total(rows_, cols_):
        return sum(float(np.sum(error[k] * placed[k][np.ix_(rows_, cols_)])) for k in present)

    def best_rows(cols_):
        return linear_sum_assignment(sum(error[k] @ placed[k][:, cols_].T for k in present))[1]

    def best_cols(rows_):
        return linear_sum_assignment(sum(error[k].T @ placed[k][rows_, :] for k in present))[1]

    def alternate(rows_, cols_, rows_first):
        """Exact assignments of one axis for the other, alternating until the error stops falling."""
        cost = total(rows_, cols_)
        for _ in range(_MAX_ROUNDS):
            if rows_first:
                rows_ = best_rows(cols_)
                cols_ = best_cols(rows_)
            else:
                cols_ = best_cols(rows_)
                rows_ = best_rows(cols_)
            now = total(rows_, cols_)
            if now >= cost - 1e-12 * max(cost, 1.0):
                return rows_, cols_, now
            cost = now
        return rows_, cols_, cost

    # A local search: starting with either axis reaches different optima; keep the better.
    starts = [alternate(row_of, col_of, rows_first) for rows_first in (True, False)]
    row_of, col_of, _ = min(starts, key=lambda start: start[2])
    return row_of, col_of
