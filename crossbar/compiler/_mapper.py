"""The compiler: trained weight matrices onto the tiles of one real chip, as its calibration profile has it.

Each layer's (IN, OUT) matrix is split into near-equal blocks that fit a tile (as ``Crossbar.tile_grid``
splits it); blocks are packed onto tiles, healthiest tiles first (with ``placement="ir-aware"``, of equally
healthy ones those with the least wire resistance, and the blocks drawing the most current nearest the wires'
ends: ``_placement``); within a block, rows and
output columns are permuted so that stuck cells hold the weights nearest zero (``_fault_aware``). Each block
is scaled to its tile's own conductance window; each row's weights are divided by that row's DAC gain (so the
array sees the intended product), and each output's column gain and offset are undone in digital.
"""

import dataclasses

import jax.numpy as jnp
import numpy as np

from calibration import ChipProfile

from ..array import WeightMapping, near_equal_split
from ..networks import MatrixLayer
from ._fault_aware import fault_aware_permutation, held_weight, programmed_pair, slot_codes
from ._layout import Layout
from ._placement import ChipDoesNotFit, Spot, place_blocks

PLACEMENTS = ("default", "ir-aware")
"""Placements of blocks on tiles: healthiest tiles first, or where wires cost least (``compile_network``)."""


class NetworkDoesNotFit(ValueError):
    """The network's blocks need more tiles than the chip has."""


@dataclasses.dataclass(frozen=True)
class MappedBlock:
    """One block of one layer, as it lies on a tile.

    Attributes:
        layer: the layer's name.
        grid: (i, j) position of the block in the layer's grid of blocks.
        inputs, outputs: [start, stop) of the layer's rows and columns the block holds.
        spot: tile and offsets (first row, first device column) of the block's area.
        row_of: (rows,) physical row, relative to ``spot.row``, of each of the block's input rows.
        col_of: (outputs,) physical output slot, relative to the block, of each of its output columns.
        tile_outputs: (outputs,) the tile's output column (ADC channel) of each of the block's outputs.
        w_max: weight (after DAC-gain compensation) that maps to the tile's full conductance window.
        row_compensation: (rows,) factor 1 / (DAC gain) applied to each input row's weights.
        column_gain, column_offset: (outputs,) measured gain and offset of each output's column, the offset
            in output units (the layer's weight units times input units); digital correction:
            y = (y_adc - column_offset) / column_gain.
        g_target: (rows, device columns) conductances to program (uS), in physical order; padding at g_min.
        stuck: (rows, device columns) fault codes of the block's devices, in physical order.
        valid: (rows, outputs) which of the block's weights are real (logical order).
        u_target: (rows, outputs) normalized weights w / w_max in [-1, 1] (logical order).
        compensated: whether healthy devices are programmed around their stuck partners.
    """

    layer: str
    grid: tuple[int, int]
    inputs: tuple[int, int]
    outputs: tuple[int, int]
    spot: Spot
    row_of: np.ndarray
    col_of: np.ndarray
    tile_outputs: np.ndarray
    w_max: float
    row_compensation: np.ndarray
    column_gain: np.ndarray
    column_offset: np.ndarray
    g_target: np.ndarray
    stuck: np.ndarray
    valid: np.ndarray
    u_target: np.ndarray
    compensated: bool


@dataclasses.dataclass(frozen=True)
class LayerMapping:
    """A layer's share of the chip.

    Attributes:
        name, shape (IN, OUT), mvms_per_inference: as in ``MatrixLayer``.
        grid: (n_r, n_c) blocks; block: (rows, outputs) of every block, padding included.
        tiles: the tiles holding its blocks.
        fault_error_in_place, fault_error: relative weight error ||W_held - W|| / ||W|| due to stuck cells,
            with blocks placed as they come and after fault-aware permutation.
        stuck_devices: stuck devices under the layer's real weights.
    """

    name: str
    shape: tuple[int, int]
    mvms_per_inference: int
    grid: tuple[int, int]
    block: tuple[int, int]
    tiles: tuple[int, ...]
    fault_error_in_place: float
    fault_error: float
    stuck_devices: int


@dataclasses.dataclass(frozen=True)
class ChipMapping:
    """A network compiled onto a chip: every block's place, permutation and scale factors."""

    profile: ChipProfile
    layers: tuple[LayerMapping, ...]
    blocks: tuple[MappedBlock, ...]
    clip_percentile: float | None
    fault_aware: bool
    placement: str = "default"

    def layer_blocks(self, layer: str) -> list[MappedBlock]:
        """The blocks of ``layer`` in the order of its tile grid (row-major over (input, output) splits)."""
        return sorted((b for b in self.blocks if b.layer == layer), key=lambda b: b.grid)

    def conductance_targets(self) -> np.ndarray:
        """Conductance to program into every device of the chip (tiles, rows, cols) (uS); unused at g_min."""
        g = self.profile.geometry
        targets = np.stack([np.full((g.rows, g.cols), tile.g_min) for tile in self.profile.tiles])
        for block in self.blocks:
            columns = device_columns(np.arange(block.valid.shape[1]), block.spot.col, g.scheme, g.cols)
            rows = block.spot.row + np.arange(block.valid.shape[0])
            targets[block.spot.tile][np.ix_(rows, columns)] = block.g_target
        return targets

    def used_devices(self) -> np.ndarray:
        """Which devices hold a real weight (tiles, rows, cols), for occupancy maps."""
        g = self.profile.geometry
        used = np.zeros((g.tiles, g.rows, g.cols), bool)
        for block in self.blocks:
            rows = block.spot.row + block.row_of[np.any(block.valid, axis=1)]
            columns = device_columns(
                block.col_of[np.any(block.valid, axis=0)], block.spot.col, g.scheme, g.cols
            )
            used[block.spot.tile][np.ix_(rows, columns)] = True
        return used

    def held_matrix(self, layer: str) -> np.ndarray:
        """The (IN, OUT) weights a layer's devices hold with the chip's stuck cells, after the DAC-gain and
        digital corrections: what the chip computes before programming noise, drift and the periphery."""
        shape = next(entry.shape for entry in self.layers if entry.name == layer)
        matrix = np.zeros(shape)
        for block in self.blocks:
            if block.layer == layer:
                held = held_weights(block, self.profile.geometry.scheme)
                rows, cols = block.inputs[1] - block.inputs[0], block.outputs[1] - block.outputs[0]
                matrix[slice(*block.inputs), slice(*block.outputs)] = held[:rows, :cols]
        return matrix


def compile_network(
    layers: list[MatrixLayer],
    profile: ChipProfile,
    *,
    clip_percentile: float | None = None,
    fault_aware: bool = True,
    placement: str = "default",
    layout: Layout | None = None,
) -> ChipMapping:
    """Map ``layers`` onto the chip ``profile`` describes.

    Args:
        layers: the network's weight matrices, in order.
        profile: the chip.
        clip_percentile: a block's w_max is this percentile of |w| (larger weights clip), or ``None`` for its
            abs-max.
        fault_aware: permute each block's rows and columns to put the weights nearest zero on stuck cells.
        placement: ``"default"``: tiles with the fewest stuck cells first, shelves from the first row down.
            ``"ir-aware"``: tiles with the fewest stuck cells, then the least wire resistance (r_row + r_col)
            first; among blocks of one size, those with the largest sum of |w| / max |w| (their share of the
            current, abs-max scaled) first; shelves from the last row up, each from column 0.
        layout: every block's tile, offsets and permutation, kept from an earlier compile of these layers
            (``layout_of``): no placement or permutation search (``placement`` unused); scales and targets
            come from ``layers``.

    Raises:
        NetworkDoesNotFit: the network does not fit (the message gives the tiles needed and the tiles
            available).
        ValueError: a ``layout`` of another chip, or whose blocks do not match the layers or the tiles.
    """
    g = profile.geometry
    if placement not in PLACEMENTS:
        raise ValueError(f"placement: expected one of {', '.join(PLACEMENTS)}, got {placement!r}")
    if not layers:
        raise ValueError(
            "the network has no matrix product with a constant weight (Gemm, MatMul, Conv): nothing to map"
        )
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layers: expected distinct names, got {names}")
    mapping = WeightMapping(scheme=g.scheme, clip_percentile=clip_percentile)
    grids, sizes, owners, currents = [], [], [], []
    for index, layer in enumerate(layers):
        n_r, rows = near_equal_split(layer.weight.shape[0], g.rows)
        n_c, cols = near_equal_split(layer.weight.shape[1], g.outputs)
        grids.append((n_r, n_c, rows, cols))
        block_width = 2 * cols if g.scheme == "differential" else cols
        for i in range(n_r):
            for j in range(n_c):
                sizes.append((rows, block_width))
                owners.append((index, i, j))
                block = np.abs(layer.weight[i * rows : (i + 1) * rows, j * cols : (j + 1) * cols])
                currents.append(float(np.sum(block) / np.max(block)) if np.max(block) > 0 else 0.0)
    if layout is None:
        spots, permutations = _placed(sizes, profile, placement, currents), [None] * len(owners)
    else:
        kept = [
            _kept(layout, layers[index].name, (i, j), grids[index], size, profile)
            for (index, i, j), size in zip(owners, sizes, strict=True)
        ]
        if len(layout.blocks) != len(owners):
            raise ValueError(f"the layout has {len(layout.blocks)} blocks, the layers {len(owners)}")
        spots, permutations = [b.spot for b in kept], [(b.row_of, b.col_of) for b in kept]

    def map_blocks(aware: bool) -> list[MappedBlock]:
        return [
            _map_block(layers[index], grids[index], (i, j), spot, profile, mapping, aware, permutation)
            for (index, i, j), spot, permutation in zip(owners, spots, permutations, strict=True)
        ]

    blocks = map_blocks(fault_aware)
    in_place = map_blocks(False) if fault_aware else blocks  # the baseline of the fault error

    def of(layer, mapped):
        return [b for b in mapped if b.layer == layer.name]

    summaries = tuple(
        _summarize(layer, grids[index], of(layer, blocks), of(layer, in_place), g.scheme)
        for index, layer in enumerate(layers)
    )
    return ChipMapping(profile, summaries, tuple(blocks), clip_percentile, fault_aware, placement)


def _placed(
    sizes: list[tuple[int, int]], profile: ChipProfile, placement: str, currents: list[float]
) -> list[Spot]:
    """Spots for blocks of ``sizes`` (rows, device columns) by ``placement`` (``compile_network``);
    ``currents`` ranks the blocks of one size for ``"ir-aware"``."""
    g = profile.geometry
    stuck: dict[int, int] = {}  # tiles a profile leaves out are one shared object: count its cells once
    for tile in profile.tiles:
        stuck.setdefault(id(tile), np.count_nonzero(tile.stuck))

    def preference(t: int) -> tuple:
        tile = profile.tiles[t]
        wires = (tile.r_row + tile.r_col,) if placement == "ir-aware" else ()
        return (stuck[id(tile)], *wires, t)

    tile_order = sorted(range(g.tiles), key=preference)
    try:
        return place_blocks(
            sizes, g.rows, _room(g), tile_order, currents if placement == "ir-aware" else None
        )
    except ChipDoesNotFit as error:
        raise NetworkDoesNotFit(
            f"the network does not fit on chip {profile.chip_id}: its {len(sizes)} weight blocks need "
            f"{error.needed} tiles of {g.rows} x {g.cols}, the chip has {error.available}"
        ) from None


def _room(geometry) -> int:
    """Device columns of a tile that blocks may use (a reference column is shared)."""
    return geometry.cols if geometry.scheme == "differential" else geometry.cols - 1


def _kept(layout: Layout, name: str, position: tuple[int, int], grid, size, profile: ChipProfile):
    """The ``BlockLayout`` of block ``position`` of layer ``name`` (``size``: rows, device columns), checked
    against the block and the chip; ``ValueError`` naming what does not match."""
    g = profile.geometry
    if layout.chip_id != profile.chip_id:
        raise ValueError(f"the layout is of chip {layout.chip_id!r}, the profile of {profile.chip_id!r}")
    block = layout.block(name, position)
    _, _, rows, cols = grid
    width = size[1]
    where = f"block {list(position)} of layer {name!r}"
    if not (_is_permutation(block.row_of, rows) and _is_permutation(block.col_of, cols)):
        raise ValueError(f"{where}: expected permutations of its {rows} rows and {cols} outputs")
    s = block.spot
    if s.tile >= g.tiles or s.row + rows > g.rows or s.col + width > _room(g):
        raise ValueError(f"{where}: {rows} x {width} devices at {s} do not lie on a tile of the chip")
    return block


def _is_permutation(order: np.ndarray, n: int) -> bool:
    return sorted(np.asarray(order).tolist()) == list(range(n))


def _map_block(layer, grid, position, spot, profile, mapping, fault_aware, permutation) -> MappedBlock:
    n_in, n_out = layer.weight.shape
    _, _, rows, cols = grid
    i, j = position
    inputs, outputs = (i * rows, min((i + 1) * rows, n_in)), (j * cols, min((j + 1) * cols, n_out))
    w = np.zeros((rows, cols))
    w[: inputs[1] - inputs[0], : outputs[1] - outputs[0]] = layer.weight[slice(*inputs), slice(*outputs)]
    valid = np.zeros((rows, cols), bool)
    valid[: inputs[1] - inputs[0], : outputs[1] - outputs[0]] = True
    tile = profile.tiles[spot.tile]
    scheme = profile.geometry.scheme
    columns = device_columns(np.arange(cols), spot.col, scheme, profile.geometry.cols)
    stuck = tile.stuck[spot.row : spot.row + rows][:, columns]

    def normalized(w_rows: np.ndarray) -> tuple[np.ndarray, float]:
        w_max = float(mapping.w_max(jnp.where(valid, w_rows, jnp.nan)))
        return np.clip(w_rows / w_max, -1.0, 1.0), w_max

    row_of, col_of = np.arange(rows), np.arange(cols)
    if permutation is not None and fault_aware:
        row_of, col_of = permutation
    elif fault_aware:
        row_of, col_of = fault_aware_permutation(normalized(w)[0], stuck, scheme, valid)
    dac_gain = tile.dac_gain[spot.row + row_of]
    u, w_max = normalized(w / dac_gain[:, None])
    signal, partner = (codes[np.ix_(row_of, col_of)] for codes in slot_codes(stuck, scheme))
    g_signal, g_partner = programmed_pair(u, signal, partner, scheme, compensate=fault_aware)
    g_signal = np.where(valid, g_signal, 0.0)  # padding at g_min (the shared reference stays as it is)
    if scheme == "differential":
        g_partner = np.where(valid, g_partner, 0.0)
        g_logical = np.stack([g_signal, g_partner], axis=-1).reshape(rows, 2 * cols)
    else:
        g_logical = np.concatenate([g_signal, g_partner[:, :1]], axis=1)
    g_physical = _to_physical(tile.g_min + g_logical * (tile.g_max - tile.g_min), row_of, col_of, scheme)
    tile_outputs = _tile_output(spot.col, scheme) + col_of
    return MappedBlock(
        layer=layer.name,
        grid=position,
        inputs=inputs,
        outputs=outputs,
        spot=spot,
        row_of=row_of,
        col_of=col_of,
        tile_outputs=tile_outputs,
        w_max=w_max,
        row_compensation=1.0 / dac_gain,
        column_gain=tile.adc_gain[tile_outputs],
        # The profile's offsets are in units of the nominal full-span current; w_max is this tile's span.
        column_offset=tile.adc_offset[tile_outputs]
        * profile.nominal_span
        / (tile.g_max - tile.g_min)
        * w_max,
        g_target=g_physical,
        stuck=stuck,
        valid=valid,
        u_target=u,
        compensated=fault_aware,
    )


def _tile_output(first_device_col: int, scheme: str) -> int:
    return first_device_col // 2 if scheme == "differential" else first_device_col


def device_columns(slots: np.ndarray, first: int, scheme: str, tile_cols: int) -> np.ndarray:
    """Tile device columns of a block's output slots, in the block's device-column layout: the pairs
    (2q, 2q + 1) (differential), or the slots followed by the tile's reference column."""
    if scheme == "differential":
        return first + np.stack([2 * slots, 2 * slots + 1], axis=-1).ravel()
    return np.concatenate([first + slots, [tile_cols - 1]])


def _to_physical(g_logical: np.ndarray, row_of: np.ndarray, col_of: np.ndarray, scheme: str) -> np.ndarray:
    """Logical-order conductances (rows, device columns) -> physical order under the permutations."""
    physical = np.empty_like(g_logical)
    if scheme == "differential":
        pairs = g_logical.reshape(g_logical.shape[0], -1, 2)
        out = np.empty_like(pairs)
        out[np.ix_(row_of, col_of)] = pairs
        return out.reshape(g_logical.shape)
    physical[np.ix_(row_of, col_of)] = g_logical[:, :-1]
    physical[row_of, -1] = g_logical[:, -1]
    return physical


def held_weights(block: MappedBlock, scheme: str, faults: bool = True) -> np.ndarray:
    """Weights (rows, outputs) the block holds in logical order, in the layer's units, with its stuck cells
    (or without, ``faults=False``), after DAC-gain and digital gain/offset corrections."""
    signal, partner = (codes[np.ix_(block.row_of, block.col_of)] for codes in slot_codes(block.stuck, scheme))
    if not faults:
        signal, partner = np.zeros_like(signal), np.zeros_like(partner)
    u = held_weight(block.u_target, signal, partner, scheme, block.compensated)
    return np.where(block.valid, u * block.w_max / block.row_compensation[:, None], 0.0)


def _squared_fault_error(block: MappedBlock, scheme: str) -> float:
    """Sum of squared weight errors (layer units) that the block's stuck cells leave."""
    return float(np.sum((held_weights(block, scheme) - held_weights(block, scheme, faults=False)) ** 2))


def _summarize(layer: MatrixLayer, grid, blocks: list[MappedBlock], in_place: list[MappedBlock], scheme: str):
    """A layer's ``LayerMapping``; ``in_place`` are its blocks mapped without the fault-aware steps."""
    squared = sum(_squared_fault_error(b, scheme) for b in blocks)
    squared_in_place = sum(_squared_fault_error(b, scheme) for b in in_place)
    stuck_devices = 0
    for b in blocks:
        signal, partner = slot_codes(b.stuck, scheme)
        real = b.valid[np.argsort(b.row_of)][:, np.argsort(b.col_of)]
        stuck_devices += int(np.sum((signal != 0) & real))
        if scheme == "differential":
            stuck_devices += int(np.sum((partner != 0) & real))
        else:  # one reference device per row, whatever the number of outputs
            stuck_devices += int(np.sum((b.stuck[:, -1] != 0) & np.any(real, axis=1)))
    norm = float(np.sqrt(np.sum(layer.weight**2))) or 1.0
    return LayerMapping(
        name=layer.name,
        shape=tuple(layer.weight.shape),
        mvms_per_inference=layer.mvms_per_inference,
        grid=tuple(grid[:2]),
        block=tuple(grid[2:]),
        tiles=tuple(sorted({b.spot.tile for b in blocks})),
        fault_error_in_place=float(np.sqrt(squared_in_place)) / norm,
        fault_error=float(np.sqrt(squared)) / norm,
        stuck_devices=stuck_devices,
    )
