"""Placing weight blocks on tiles: inside the tile, never overlapping, sharing tiles, healthiest tiles first,
and a clear count of the tiles needed when they do not fit."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbar.compiler._placement import ChipDoesNotFit, Spot, place_blocks

TILE_ROWS, TILE_COLS = 16, 12


def assert_valid_placement(sizes, spots, tile_rows, tile_cols, tile_order):
    """Every block inside its tile, on a tile of ``tile_order``, and no two blocks on a common device."""
    assert len(spots) == len(sizes)
    for (rows, cols), spot in zip(sizes, spots, strict=True):
        assert spot.tile in tile_order
        assert 0 <= spot.row and spot.row + rows <= tile_rows, (spot, rows)
        assert 0 <= spot.col and spot.col + cols <= tile_cols, (spot, cols)
    for (a, (ra, ca)), (b, (rb, cb)) in itertools.combinations(zip(spots, sizes, strict=True), 2):
        if a.tile != b.tile:
            continue
        apart_in_rows = a.row + ra <= b.row or b.row + rb <= a.row
        apart_in_cols = a.col + ca <= b.col or b.col + cb <= a.col
        assert apart_in_rows or apart_in_cols, f"{a} ({ra} x {ca}) overlaps {b} ({rb} x {cb})"


block_sizes = st.lists(
    st.tuples(st.integers(1, TILE_ROWS), st.integers(1, TILE_COLS)), min_size=1, max_size=24
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(block_sizes)
def test_blocks_stay_inside_their_tile_and_never_overlap(sizes):
    tile_order = list(range(len(sizes)))  # room for one block per tile at worst
    spots = place_blocks(sizes, TILE_ROWS, TILE_COLS, tile_order)
    assert_valid_placement(sizes, spots, TILE_ROWS, TILE_COLS, tile_order)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(block_sizes, st.randoms(use_true_random=False))
def test_the_tiles_needed_are_those_an_unlimited_chip_uses_and_the_preferred_ones(sizes, random):
    unlimited = place_blocks(sizes, TILE_ROWS, TILE_COLS, list(range(len(sizes))))
    needed = len({spot.tile for spot in unlimited})
    # The blocks fit on exactly `needed` tiles, and those are the first tiles of the order of preference.
    tile_order = random.sample(range(40), needed + 2)
    spots = place_blocks(sizes, TILE_ROWS, TILE_COLS, tile_order)
    assert_valid_placement(sizes, spots, TILE_ROWS, TILE_COLS, tile_order)
    assert {spot.tile for spot in spots} == set(tile_order[:needed])
    assert place_blocks(sizes, TILE_ROWS, TILE_COLS, tile_order[:needed]) == spots
    if needed > 1:
        with pytest.raises(ChipDoesNotFit) as error:
            place_blocks(sizes, TILE_ROWS, TILE_COLS, tile_order[: needed - 1])
        assert (error.value.needed, error.value.available) == (needed, needed - 1)


def test_small_blocks_share_a_tile():
    # Six 8 x 4 blocks fill a 16 x 12 tile exactly: two shelves of three.
    spots = place_blocks([(8, 4)] * 6, TILE_ROWS, TILE_COLS, [5, 2])
    assert {spot.tile for spot in spots} == {5}
    assert sorted((spot.row, spot.col) for spot in spots) == [
        (row, col) for row in (0, 8) for col in (0, 4, 8)
    ]
    # A seventh needs the next tile of the order.
    spots = place_blocks([(8, 4)] * 7, TILE_ROWS, TILE_COLS, [5, 2])
    assert sorted(spot.tile for spot in spots) == [2] + [5] * 6


def test_healthiest_tiles_are_used_first():
    # Three full-tile blocks on a chip of five tiles, preferred in the order 3, 0, 4, 1, 2.
    spots = place_blocks([(TILE_ROWS, TILE_COLS)] * 3, TILE_ROWS, TILE_COLS, [3, 0, 4, 1, 2])
    assert [spot.tile for spot in spots] == [3, 0, 4]
    assert all((spot.row, spot.col) == (0, 0) for spot in spots)


def test_a_narrow_block_goes_beside_a_wide_one():
    spots = place_blocks([(10, 4), (16, 8)], TILE_ROWS, TILE_COLS, [0, 1])
    assert spots == [Spot(0, 0, 8), Spot(0, 0, 0)]


def test_blocks_that_do_not_fit_raise_with_the_tiles_needed_and_available():
    with pytest.raises(ChipDoesNotFit, match="needs 4 tiles, the chip has 3") as error:
        place_blocks([(9, 7)] * 4, TILE_ROWS, TILE_COLS, [0, 1, 2])  # no two fit on one tile
    assert (error.value.needed, error.value.available) == (4, 3)


@pytest.mark.parametrize("size", [(TILE_ROWS + 1, 1), (1, TILE_COLS + 1)])
def test_a_block_larger_than_a_tile_is_an_error(size):
    with pytest.raises(ValueError, match="exceeds the 16 x 12 tile"):
        place_blocks([(2, 2), size], TILE_ROWS, TILE_COLS, [0, 1, 2])


def test_placement_is_deterministic():
    sizes = [(5, 3), (16, 2), (7, 7), (5, 3), (1, 12), (9, 5)]
    assert place_blocks(sizes, TILE_ROWS, TILE_COLS, [2, 0, 1]) == place_blocks(
        sizes, TILE_ROWS, TILE_COLS, [2, 0, 1]
    )
