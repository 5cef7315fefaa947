"""The wires of a compiled chip: every used tile solved as one resistive network (docs/models.md 10.4).

Reading a block drives its rows and holds every other row of its tile at 0 V, so the tile's distorted matrix
W_eff (all rows' voltages to all columns' currents, section 6) computed from the whole tile's conductances
gives the block's outputs exactly: its rows x its device columns of W_eff, which include the currents its
neighbours draw from the shared row and column lines. Devices no block uses sit at the tile's g_min (g_max
where stuck on); a reference column that blocks side by side share is one device per row, written once.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from emulator_common.fault_codes import STUCK_ON

from ..array import effective_tiles
from ._mapper import ChipMapping, device_columns


class ChipWires(eqx.Module):
    """Where every layer's devices lie on the chip's used tiles, and those tiles' wires.

    Attributes:
        r_row, r_col: (tiles,) wire segment resistances of each used tile (ohm).
        background: (tiles, rows, cols) conductances (uS) of the devices no block uses.
        index: per layer, (n_r, n_c, R, physical columns) position of each device of its tile grid (logical
            order, as ``chip_arrays`` lays it out) in the flattened ``background``.
        owned: per layer, like ``index``: whether the device writes its conductance into the tile (False for
            a shared reference device that an earlier block wrote).
        model: ``"exact"`` or ``"approximate"`` (``crossbar.ir_drop.effective_matrix``) (static).
    """

    r_row: jax.Array
    r_col: jax.Array
    background: jax.Array
    index: tuple[jax.Array, ...]
    owned: tuple[jax.Array, ...]
    model: str = eqx.field(static=True, default="exact")

    def effective(self, conductances: list[jax.Array]) -> list[jax.Array]:
        """Per layer, the effective conductances (uS) (n_r, n_c, R, physical columns) of its devices, from
        their conductances ``conductances`` (same shapes) and every other device of their tiles; the tiles
        are solved one after another."""
        size = self.background.size
        flat = self.background.reshape(-1)
        for g, index, owned in zip(conductances, self.index, self.owned, strict=True):
            flat = flat.at[jnp.where(owned, index, size)].set(g.astype(flat.dtype), mode="drop")
        tiles = flat.reshape(self.background.shape)
        effective = effective_tiles(tiles, self.r_row, self.r_col, self.model).reshape(-1)
        return [effective[index].astype(g.dtype) for g, index in zip(conductances, self.index, strict=True)]


def chip_wires(mapping: ChipMapping, model: str = "exact") -> ChipWires | None:
    """The wires of the tiles ``mapping`` uses under IR-drop model ``model`` (``"exact"``,
    ``"approximate"``, or ``"none"``: ideal wires), or ``None`` when the model is ``"none"`` or every used
    tile's wires are ideal (0 ohm)."""
    profile = mapping.profile
    geometry = profile.geometry
    used = sorted({b.spot.tile for b in mapping.blocks})
    for t in used:
        for name in ("r_row", "r_col"):
            r = getattr(profile.tiles[t], name)
            if not np.isfinite(r) or r < 0:
                raise ValueError(
                    f"chip {profile.chip_id}: tiles[{t}].{name}: expected a finite number >= 0 ohm, got {r}"
                )
    if model == "none" or all(profile.tiles[t].r_row == 0 and profile.tiles[t].r_col == 0 for t in used):
        return None
    position = {tile: i for i, tile in enumerate(used)}
    background = np.stack([_unused(profile.tiles[t]) for t in used])
    taken = np.zeros(background.shape, bool)
    indices, owned = [], []
    for layer in mapping.layers:
        blocks = mapping.layer_blocks(layer.name)
        layer_index, layer_owned = [], []
        for block in blocks:
            rows = block.spot.row + block.row_of
            slots = np.arange(block.valid.shape[1])
            columns = device_columns(slots, block.spot.col, geometry.scheme, geometry.cols)
            if geometry.scheme == "differential":
                columns = columns.reshape(-1, 2)[block.col_of].ravel()
            else:
                columns = np.concatenate([columns[:-1][block.col_of], columns[-1:]])
            tile = position[block.spot.tile]
            where = np.ravel_multi_index((tile, rows[:, None], columns[None, :]), background.shape)
            fresh = ~taken.reshape(-1)[where]
            taken.reshape(-1)[where] = True
            layer_index.append(where)
            layer_owned.append(fresh)
        n_r, n_c = layer.grid
        indices.append(jnp.asarray(np.stack(layer_index).reshape(n_r, n_c, *layer_index[0].shape), jnp.int32))
        owned.append(jnp.asarray(np.stack(layer_owned).reshape(n_r, n_c, *layer_owned[0].shape)))
    return ChipWires(
        r_row=jnp.asarray([profile.tiles[t].r_row for t in used], jnp.float32),
        r_col=jnp.asarray([profile.tiles[t].r_col for t in used], jnp.float32),
        background=jnp.asarray(background, jnp.float32),
        index=tuple(indices),
        owned=tuple(owned),
        model=model,
    )


def _unused(tile) -> np.ndarray:
    """Conductances (uS) (rows, cols) of a tile's devices that hold no weight: g_min, g_max if stuck on."""
    return np.where(tile.stuck == STUCK_ON, tile.g_max, tile.g_min).astype(np.float32)
