"""A compiled network's layout on its chip: where each block lies and how its rows and output columns are
permuted. Kept, it compiles a network with other weights (the same network fine-tuned through that chip) onto
the same devices: the placement and permutation searches are skipped, everything else is computed afresh."""

import dataclasses

import numpy as np

from ._placement import Spot


@dataclasses.dataclass(frozen=True)
class BlockLayout:
    """One block's place: its layer's name, its (i, j) in the layer's grid, its ``Spot``, and the physical
    row (relative to the spot, (rows,)) of each input row and output slot ((outputs,)) of each output."""

    layer: str
    grid: tuple[int, int]
    spot: Spot
    row_of: np.ndarray
    col_of: np.ndarray


@dataclasses.dataclass(frozen=True)
class Layout:
    """Every block's place on the chip ``chip_id``."""

    chip_id: str
    blocks: tuple[BlockLayout, ...]

    def block(self, layer: str, grid: tuple[int, int]) -> BlockLayout:
        """The place of block ``grid`` of ``layer``; ``ValueError`` naming both if the layout has none."""
        for block in self.blocks:
            if block.layer == layer and block.grid == grid:
                return block
        raise ValueError(f"the layout has no block {list(grid)} of layer {layer!r}")


def layout_of(mapping) -> Layout:
    """The layout of a ``ChipMapping``."""
    return Layout(
        mapping.profile.chip_id,
        tuple(BlockLayout(b.layer, b.grid, b.spot, b.row_of, b.col_of) for b in mapping.blocks),
    )


def read_layout(document: dict) -> Layout:
    """The layout a mapping document (``mapping.json``, ``mapping_document``) records.

    Raises ``ValueError`` naming the first field that is missing or of the wrong kind."""
    if not isinstance(document, dict) or not isinstance(document.get("chip"), dict):
        raise ValueError("chip: expected the mapping's chip (a mapping.json written by compile or train)")
    chip_id = document["chip"].get("id")
    if not isinstance(chip_id, str):
        raise ValueError(f"chip.id: expected the chip's id (a string), got {chip_id!r}")
    blocks = document.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        raise ValueError("blocks: expected a list of the mapping's blocks")
    return Layout(chip_id, tuple(_block(entry, index) for index, entry in enumerate(blocks)))


def _block(entry, index: int) -> BlockLayout:
    where = f"blocks[{index}]"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object with layer, grid, tile, offsets, rows and columns")
    if not isinstance(entry.get("layer"), str):
        raise ValueError(f"{where}.layer: expected the layer's name, got {entry.get('layer')!r}")
    grid = _integers(entry, "grid", where)
    if len(grid) != 2:
        raise ValueError(f"{where}.grid: expected two integers, got {entry['grid']!r}")
    spot = [_integer(entry, name, where) for name in ("tile", "row_offset", "col_offset")]
    rows, columns = _integers(entry, "rows", where), _integers(entry, "columns", where)
    return BlockLayout(entry["layer"], (grid[0], grid[1]), Spot(*spot), np.asarray(rows), np.asarray(columns))


def _integer(entry: dict, name: str, where: str) -> int:
    value = entry.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}.{name}: expected an integer >= 0, got {value!r}")
    return value


def _integers(entry: dict, name: str, where: str) -> list[int]:
    values = entry.get(name)
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise ValueError(f"{where}.{name}: expected a list of integers >= 0, got {values!r}"[:200])
    return values
