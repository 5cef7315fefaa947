"""Placing rectangular weight blocks on the tiles of a chip: shelf packing, preferred tiles first.

Blocks are placed tallest first; each goes on the first tile (in order of preference) with room for it, on
an open shelf (a band of rows) or on a new shelf below the last. Blocks never overlap, so reading one block
drives only its rows and senses only its columns.

IR-aware placement (given each block's current) puts, among blocks of one size, those drawing the largest
currents first, and stacks the shelves up from the tile's last row instead of down from its first: the first
blocks lie nearest the column lines' grounds (after the last row) and the row drivers (before column 0),
where the wires carry the least current past them (docs/models.md sections 6.1 and 10.1).
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
    sizes: list[tuple[int, int]],
    tile_rows: int,
    tile_cols: int,
    tile_order: list[int],
    currents: list[float] | None = None,
) -> list[Spot]:
    """Spots for blocks of ``sizes`` (rows, device columns) on tiles of ``tile_rows`` x ``tile_cols``.

    ``tile_order`` lists the usable tile indices, preferred first. ``currents`` (one per block, any unit),
    when given, asks for IR-aware placement. Raises ``ChipDoesNotFit`` with the number of tiles the blocks
    need (on tiles of this size) when they do not fit; IR-aware placement needs as many as the default.
    """
    for rows, cols in sizes:
        if rows > tile_rows or cols > tile_cols:
            raise ValueError(f"a block of {rows} x {cols} exceeds the {tile_rows} x {tile_cols} tile")
    current = [0.0] * len(sizes) if currents is None else currents
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i][0], -sizes[i][1], -current[i], i))
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
    if currents is not None:  # shelves from the last row up
        spots = {i: dataclasses.replace(s, row=tile_rows - s.row - sizes[i][0]) for i, s in spots.items()}
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
