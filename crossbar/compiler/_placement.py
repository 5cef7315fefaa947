"""Placing rectangular weight blocks on the tiles of a chip: shelf packing, healthiest tiles first.

Blocks are placed tallest first; each goes on the first tile (in order of preference) with room for it, on
an open shelf (a band of rows) or on a new shelf below the last. Blocks never overlap, so reading one block
drives only its rows and senses only its columns.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Spot:
    """Where a block lies: tile index and the offsets of its first row and first device column."""

    tile: int
    row: int
    col: int


@dataclasses.dataclass
class _Shelf:
    row: int
    height: int
    used_cols: int


class ChipDoesNotFit(Exception):
    """The blocks need more tiles than the chip has."""

    def __init__(self, needed: int, available: int):
        super().__init__(f"needs {needed} tiles, the chip has {available}")
        self.needed, self.available = needed, available


def place_blocks(
    sizes: list[tuple[int, int]], tile_rows: int, tile_cols: int, tile_order: list[int]
) -> list[Spot]:
    """Spots for blocks of ``sizes`` (rows, device columns) on tiles of ``tile_rows`` x ``tile_cols``.

    ``tile_order`` lists the usable tile indices, preferred first. Raises ``ChipDoesNotFit`` with the number
    of tiles the blocks need (on tiles of this size) when they do not fit.
    """
    for rows, cols in sizes:
        if rows > tile_rows or cols > tile_cols:
            raise ValueError(f"a block of {rows} x {cols} exceeds the {tile_rows} x {tile_cols} tile")
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i][0], -sizes[i][1], i))
    shelves: list[list[_Shelf]] = []
    spots: dict[int, Spot] = {}
    for block in order:
        rows, cols = sizes[block]
        for position in range(len(shelves) + 1):
            if position == len(shelves):
                shelves.append([])
            spot = _fit(shelves[position], rows, cols, tile_rows, tile_cols)
            if spot is not None:
                spots[block] = Spot(position, *spot)
                break
    needed = len([s for s in shelves if s])
    if needed > len(tile_order):
        raise ChipDoesNotFit(needed, len(tile_order))
    return [dataclasses.replace(spots[i], tile=tile_order[spots[i].tile]) for i in range(len(sizes))]


def _fit(
    shelves: list[_Shelf], rows: int, cols: int, tile_rows: int, tile_cols: int
) -> tuple[int, int] | None:
    """(row, col) for a block on one tile's shelves, opening a shelf if needed; ``None`` if it has no room."""
    for shelf in shelves:
        if rows <= shelf.height and shelf.used_cols + cols <= tile_cols:
            shelf.used_cols += cols
            return shelf.row, shelf.used_cols - cols
    top = shelves[-1].row + shelves[-1].height if shelves else 0
    if top + rows > tile_rows:
        return None
    shelves.append(_Shelf(top, rows, cols))
    return top, 0
