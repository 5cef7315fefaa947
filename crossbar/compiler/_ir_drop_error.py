"""The IR-drop error a compiled chip's wires predict for each layer, at its programmed targets."""

import jax
import numpy as np

from emulator_common.fault_codes import STUCK_OFF, STUCK_ON

from ..array import WeightMapping
from ._chip_arrays import logical_order
from ._chip_wires import ChipWires, chip_wires
from ._mapper import ChipMapping, MappedBlock


def ir_drop_errors(mapping: ChipMapping, model: str = "exact") -> tuple[float, ...]:
    """Per layer of ``mapping``, the relative weight error ||W_wires - W|| / ||W|| of the weights its devices
    hold at their targets (stuck devices at their stuck value, no noise or drift): W_wires with every used
    tile solved whole with its wires under IR-drop model ``model`` (``ChipWires``), W with ideal wires; both
    after the DAC gains. 0 where every used tile's wires are ideal, or the model is ``"none"``."""
    wires = chip_wires(mapping, model)
    if wires is None:
        return (0.0,) * len(mapping.layers)
    scheme = mapping.profile.geometry.scheme
    layers = [mapping.layer_blocks(layer.name) for layer in mapping.layers]
    held = [
        np.stack([_held(mapping, b, scheme) for b in blocks]).reshape(*layer.grid, *blocks[0].g_target.shape)
        for layer, blocks in zip(mapping.layers, layers, strict=True)
    ]
    effective = jax.jit(ChipWires.effective)(wires, [np.float32(g) for g in held])
    errors = []
    for blocks, g, g_wires in zip(layers, held, effective, strict=True):
        g, g_wires = (
            g.reshape(len(blocks), *g.shape[2:]),
            np.asarray(g_wires).reshape(len(blocks), *g.shape[2:]),
        )
        ideal = np.concatenate([_weights(mapping, b, gb, scheme) for b, gb in zip(blocks, g, strict=True)])
        drop = np.concatenate(
            [_weights(mapping, b, gb, scheme) for b, gb in zip(blocks, g_wires, strict=True)]
        )
        norm = float(np.linalg.norm(ideal))
        errors.append(float(np.linalg.norm(drop - ideal)) / norm if norm > 0 else 0.0)
    return tuple(errors)


def _held(mapping: ChipMapping, block: MappedBlock, scheme: str) -> np.ndarray:
    """A block's conductances (uS) (R, physical columns) at their targets in logical order, stuck devices at
    their tile's g_min or g_max."""
    tile = mapping.profile.tiles[block.spot.tile]
    g, stuck = logical_order(block, block.g_target, scheme), logical_order(block, block.stuck, scheme)
    return np.where(stuck == STUCK_OFF, tile.g_min, np.where(stuck == STUCK_ON, tile.g_max, g))


def _weights(mapping: ChipMapping, block: MappedBlock, g: np.ndarray, scheme: str) -> np.ndarray:
    """The real weights (flattened) that conductances g (uS) (R, physical columns) of a block hold, after
    its DAC gains."""
    tile = mapping.profile.tiles[block.spot.tile]
    w = WeightMapping(scheme=scheme).weights(np.asarray(g, np.float64), block.w_max, tile.g_min, tile.g_max)
    return (np.asarray(w) / block.row_compensation[:, None])[block.valid]
