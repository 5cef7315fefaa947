"""Fault-aware mapping within a block: compensation around stuck devices, and row and column permutations
that put the weights nearest zero on stuck cells."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbar.compiler._fault_aware import (
    fault_aware_permutation,
    held_weight,
    programmed_pair,
    slot_codes,
)
from emulator_common.fault_codes import HEALTHY, STUCK_OFF, STUCK_ON

SCHEMES = ("differential", "reference_column")
U = np.linspace(-1.0, 1.0, 41)


def device_columns(outputs: int, scheme: str) -> int:
    return 2 * outputs if scheme == "differential" else outputs + 1


def total_error(u, stuck, scheme, valid, row_of, col_of, compensate=True):
    """Squared error of the real weights: logical row a on physical row row_of[a], output b on slot
    col_of[b]."""
    signal, partner = (codes[np.ix_(row_of, col_of)] for codes in slot_codes(stuck, scheme))
    held = held_weight(u, signal, partner, scheme, compensate)
    return float(np.sum(np.where(valid, (held - u) ** 2, 0.0)))


def random_block(seed: int, rows: int, outputs: int, scheme: str, p_stuck: float):
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1.0, 1.0, (rows, outputs))
    u[rng.random(u.shape) < 0.2] = 0.0
    stuck = rng.choice(
        [HEALTHY, STUCK_OFF, STUCK_ON],
        size=(rows, device_columns(outputs, scheme)),
        p=[1 - p_stuck, p_stuck / 2, p_stuck / 2],
    ).astype(np.int8)
    valid = np.zeros((rows, outputs), bool)
    valid[: rng.integers(1, rows + 1), : rng.integers(1, outputs + 1)] = True
    return u, stuck, valid


# --- the devices of a weight ------------------------------------------------------------------------------


def test_slot_codes_pair_the_devices_of_each_weight():
    stuck = np.arange(12).reshape(2, 6)
    signal, partner = slot_codes(stuck, "differential")
    np.testing.assert_array_equal(signal, [[0, 2, 4], [6, 8, 10]])
    np.testing.assert_array_equal(partner, [[1, 3, 5], [7, 9, 11]])
    signal, partner = slot_codes(stuck, "reference_column")
    np.testing.assert_array_equal(signal, [[0, 1, 2, 3, 4], [6, 7, 8, 9, 10]])
    np.testing.assert_array_equal(partner, [[5] * 5, [11] * 5])


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("compensate", [True, False])
def test_healthy_devices_hold_the_weight_exactly(scheme, compensate):
    healthy = np.zeros_like(U, np.int8)
    g_signal, g_partner = programmed_pair(U, healthy, healthy, scheme, compensate)
    if scheme == "differential":
        np.testing.assert_allclose(g_signal, np.maximum(U, 0.0))
        np.testing.assert_allclose(g_partner, np.maximum(-U, 0.0))
    else:
        np.testing.assert_allclose(g_signal, 0.5 * (U + 1.0))
        np.testing.assert_allclose(g_partner, 0.5)
    np.testing.assert_allclose(held_weight(U, healthy, healthy, scheme, compensate), U, atol=1e-15)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("signal, partner", list(itertools.product((HEALTHY, STUCK_OFF, STUCK_ON), repeat=2)))
def test_targets_lie_in_the_window_and_compensation_never_hurts(scheme, signal, partner):
    signal, partner = np.full_like(U, signal, np.int8), np.full_like(U, partner, np.int8)
    for compensate in (True, False):
        for g in programmed_pair(U, signal, partner, scheme, compensate):
            assert np.all((g >= 0.0) & (g <= 1.0))
    compensated = (held_weight(U, signal, partner, scheme, True) - U) ** 2
    plain = (held_weight(U, signal, partner, scheme, False) - U) ** 2
    assert np.all(compensated <= plain + 1e-15)


def test_a_stuck_on_positive_device_holds_nonnegative_weights_exactly():
    stuck_on, healthy = np.full_like(U, STUCK_ON, np.int8), np.zeros_like(U, np.int8)
    held = held_weight(U, stuck_on, healthy, "differential")
    nonnegative = U >= 0
    np.testing.assert_allclose(held[nonnegative], U[nonnegative], atol=1e-15)
    # A negative weight cannot be held (g+ = g_max); the best is g- = g_max, holding 0.
    np.testing.assert_allclose(held[~nonnegative], 0.0, atol=1e-15)
    # Without compensation g- is programmed as usual: every weight below 1 is wrong.
    plain = held_weight(U, stuck_on, healthy, "differential", compensate=False)
    np.testing.assert_allclose(plain, 1.0 - np.maximum(-U, 0.0))


def test_a_stuck_on_negative_device_holds_nonpositive_weights_exactly():
    stuck_on, healthy = np.full_like(U, STUCK_ON, np.int8), np.zeros_like(U, np.int8)
    held = held_weight(U, healthy, stuck_on, "differential")
    nonpositive = U <= 0
    np.testing.assert_allclose(held[nonpositive], U[nonpositive], atol=1e-15)
    np.testing.assert_allclose(held[~nonpositive], 0.0, atol=1e-15)


@pytest.mark.parametrize("code, exact", [(STUCK_ON, U <= 0), (STUCK_OFF, U >= 0)])
def test_a_stuck_reference_device_is_compensated(code, exact):
    reference, healthy = np.full_like(U, code, np.int8), np.zeros_like(U, np.int8)
    g_signal, g_reference = programmed_pair(U, healthy, reference, "reference_column", compensate=True)
    np.testing.assert_allclose(g_reference, 0.5)  # the reference is programmed as usual
    held = held_weight(U, healthy, reference, "reference_column")
    np.testing.assert_allclose(held[exact], U[exact], atol=1e-15)
    np.testing.assert_allclose(held[~exact], 0.0, atol=1e-15)
    # Uncompensated, the whole row is off by the reference's error of 1/2 window: 1 in weight units.
    plain = held_weight(U, healthy, reference, "reference_column", compensate=False)
    np.testing.assert_allclose(np.abs(plain - U), 1.0, atol=1e-12)


def test_a_stuck_signal_device_holds_its_stuck_value():
    healthy = np.zeros_like(U, np.int8)
    for scheme, off, on in (("differential", 0.0, 1.0), ("reference_column", -1.0, 1.0)):
        for compensate in (True, False):
            stuck_off = np.full_like(U, STUCK_OFF, np.int8)
            stuck_on = np.full_like(U, STUCK_ON, np.int8)
            if scheme == "differential":  # the partner still carries the negative part
                np.testing.assert_allclose(
                    held_weight(U, stuck_off, healthy, scheme, compensate), np.minimum(U, 0.0)
                )
            else:
                np.testing.assert_allclose(held_weight(U, stuck_off, healthy, scheme, compensate), off)
                np.testing.assert_allclose(held_weight(U, stuck_on, healthy, scheme, compensate), on)


# --- permutations -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_without_stuck_cells_the_permutation_is_the_identity(scheme):
    u, _, valid = random_block(0, 7, 5, scheme, 0.0)
    row_of, col_of = fault_aware_permutation(
        u, np.zeros((7, device_columns(5, scheme)), np.int8), scheme, valid
    )
    np.testing.assert_array_equal(row_of, np.arange(7))
    np.testing.assert_array_equal(col_of, np.arange(5))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 7),
    outputs=st.integers(1, 6),
    scheme=st.sampled_from(SCHEMES),
    p_stuck=st.sampled_from([0.05, 0.2, 0.5, 1.0]),
)
def test_permutations_never_increase_the_error(seed, rows, outputs, scheme, p_stuck):
    u, stuck, valid = random_block(seed, rows, outputs, scheme, p_stuck)
    row_of, col_of = fault_aware_permutation(u, stuck, scheme, valid)
    assert sorted(row_of) == list(range(rows)) and sorted(col_of) == list(range(outputs))
    identity = np.arange(rows), np.arange(outputs)
    optimized = total_error(u, stuck, scheme, valid, row_of, col_of)
    assert optimized <= total_error(u, stuck, scheme, valid, *identity) + 1e-12
    assert optimized <= total_error(u, stuck, scheme, valid, *identity, compensate=False) + 1e-12


def brute_force(u, stuck, scheme, valid, axes=("rows", "columns")):
    """The least total error over all permutations of the given axes (the others stay in place)."""
    rows, outputs = u.shape
    row_orders = itertools.permutations(range(rows)) if "rows" in axes else [tuple(range(rows))]
    column_orders = itertools.permutations(range(outputs)) if "columns" in axes else [tuple(range(outputs))]
    return min(
        total_error(u, stuck, scheme, valid, np.array(r), np.array(c))
        for r, c in itertools.product(list(row_orders), list(column_orders))
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_on_small_blocks_the_permutation_is_near_the_brute_force_optimum(scheme):
    """Alternating row and column assignments reach a local optimum. Started from each axis, the better
    result is never worse than the best row or the best column permutation alone (the first step of each
    start is exactly that), and it is the global optimum in most small cases."""
    optimal = 0
    for seed in range(60):
        u, stuck, valid = random_block(seed, 3, 2, scheme, 0.3)
        row_of, col_of = fault_aware_permutation(u, stuck, scheme, valid)
        optimized = total_error(u, stuck, scheme, valid, row_of, col_of)
        assert optimized <= brute_force(u, stuck, scheme, valid, axes=("rows",)) + 1e-12, seed
        assert optimized <= brute_force(u, stuck, scheme, valid, axes=("columns",)) + 1e-12, seed
        optimal += optimized <= brute_force(u, stuck, scheme, valid) + 1e-12
    assert optimal >= 50


def test_the_weight_nearest_zero_goes_on_the_one_stuck_off_device():
    # Positive weights but one zero; a stuck-off positive device can hold only the zero exactly. (The zero
    # is in the stuck device's column: alternating assignments move a row, then a column, at a time, and
    # from the identity would not move both a row and a column to bring a zero at (1, 1) onto (0, 0).)
    u = np.array([[0.6, 0.7, 0.8], [0.0, 0.9, 0.75], [0.65, 0.85, 0.7]])
    stuck = np.zeros((3, 6), np.int8)
    stuck[0, 0] = STUCK_OFF  # g+ of physical row 0, output 0
    valid = np.ones(u.shape, bool)
    row_of, col_of = fault_aware_permutation(u, stuck, "differential", valid)
    assert (row_of[1], col_of[0]) == (0, 0)
    assert total_error(u, stuck, "differential", valid, row_of, col_of) == 0.0
    assert total_error(u, stuck, "differential", valid, np.arange(3), np.arange(3)) == pytest.approx(0.36)


def test_the_weight_nearest_the_stuck_value_goes_on_a_stuck_reference_column_device():
    # With a reference column a stuck-on device holds u = 1, so the largest weight belongs there.
    u = np.array([[0.1, -0.2, 0.0], [0.3, 1.0, -0.1], [0.2, 0.0, 0.15]])
    stuck = np.zeros((3, 4), np.int8)
    stuck[2, 0] = STUCK_ON
    valid = np.ones(u.shape, bool)
    row_of, col_of = fault_aware_permutation(u, stuck, "reference_column", valid)
    assert (row_of[1], col_of[1]) == (2, 0)
    assert total_error(u, stuck, "reference_column", valid, row_of, col_of) == pytest.approx(0.0, abs=1e-24)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_dead_row_gets_the_row_of_smallest_weights(scheme):
    rng = np.random.default_rng(3)
    u = rng.uniform(-1.0, 1.0, (6, 4))
    u[4] *= 0.05  # logical row 4: the weights nearest zero
    stuck = np.zeros((6, device_columns(4, scheme)), np.int8)
    stuck[1, :] = STUCK_OFF  # physical row 1: a broken word line
    row_of, _ = fault_aware_permutation(u, stuck, scheme, np.ones(u.shape, bool))
    assert row_of[4] == 1


def test_a_dead_output_gets_the_output_of_smallest_weights():
    rng = np.random.default_rng(4)
    u = rng.uniform(-1.0, 1.0, (6, 4))
    u[:, 2] *= 0.05
    stuck = np.zeros((6, 8), np.int8)
    stuck[:, 6:8] = STUCK_OFF  # output slot 3: both bit lines broken
    _, col_of = fault_aware_permutation(u, stuck, "differential", np.ones(u.shape, bool))
    assert col_of[2] == 3


def test_padding_goes_on_stuck_cells_first():
    # The block's last row and output are padding; the stuck row and output take them, at no cost.
    u = np.random.default_rng(5).uniform(0.5, 1.0, (4, 3))
    valid = np.zeros(u.shape, bool)
    valid[:3, :2] = True
    stuck = np.zeros((4, 6), np.int8)
    stuck[0, :] = STUCK_ON
    stuck[:, 2:4] = STUCK_OFF
    row_of, col_of = fault_aware_permutation(u, stuck, "differential", valid)
    assert (row_of[3], col_of[2]) == (0, 1)
    assert total_error(u, stuck, "differential", valid, row_of, col_of) == 0.0
