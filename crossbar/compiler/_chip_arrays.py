"""A compiled chip as the tile grids the emulator runs: per layer, one ``Crossbar`` whose device parameters
are per tile, and the ``Targets`` the compiler chose (fault-aware, compensated conductances, the tiles'
stuck cells, windows, column gains and offsets, DAC gains).

Each block is simulated in its logical order: its rows and output columns un-permuted. The permutation only
relabels devices that are simulated independently (no wire coupling), so this is the same chip. A block's
tile is simulated as the block alone; neighbours sharing a tile do not interact.
"""

import jax
import jax.numpy as jnp
import numpy as np

from calibration import ChipProfile

from ..array import ADC, DAC, Crossbar, Periphery, Targets, WeightMapping
from ._mapper import ChipMapping, MappedBlock


class ChipNotEmulated(ValueError):
    """A valid profile that the estimator cannot emulate (the message says what to change)."""


def chip_periphery(profile: ChipProfile) -> Periphery:
    """The periphery of a chip: its converters' resolutions and read voltage, with aihwkit's defaults for
    output noise, ADC range, noise and bound management (docs/models.md section 5)."""
    p = profile.peripherals
    return Periphery(dac=DAC(bits=p.dac.bits, v_read=p.v_read), adc=ADC(bits=p.adc.bits))


def chip_arrays(
    mapping: ChipMapping, periphery: Periphery, drift_compensation: str = "global"
) -> list[tuple[Crossbar, Targets]]:
    """One (Crossbar, Targets) per layer of ``mapping``, in its layer order.

    The Crossbar undoes the measured column gains and offsets in digital (``column_correction``), as the
    mapping specifies; its device fields are (n_r, n_c, 1, 1) arrays, one value per block's tile.
    """
    profile = mapping.profile
    scheme = profile.geometry.scheme
    weight_mapping = WeightMapping(scheme=scheme, clip_percentile=mapping.clip_percentile)
    arrays = []
    for layer in mapping.layers:
        blocks = mapping.layer_blocks(layer.name)
        n_r, n_c = layer.grid

        def grid(values: list[np.ndarray], n_r=n_r, n_c=n_c) -> jax.Array:
            return jnp.asarray(np.stack(values).reshape(n_r, n_c, *values[0].shape))

        targets = Targets(
            g=grid([logical_order(b, b.g_target, scheme) for b in blocks]).astype(jnp.float32),
            w_max=grid([np.full((1, 1), b.w_max) for b in blocks]).astype(jnp.float32),
            valid=grid([b.valid for b in blocks]),
            stuck_mask=grid([logical_order(b, b.stuck, scheme).astype(np.int32) for b in blocks]),
            column_gain=grid([b.column_gain[None, :] for b in blocks]).astype(jnp.float32),
            column_offset=grid([b.column_offset[None, :] for b in blocks]).astype(jnp.float32),
            row_gain=grid([1.0 / b.row_compensation[:, None] for b in blocks]).astype(jnp.float32),
            shape=layer.shape,
        )
        crossbar = Crossbar(
            device=_per_tile_device(profile, [b.spot.tile for b in blocks], (n_r, n_c)),
            periphery=periphery,
            mapping=weight_mapping,
            tile_rows=layer.block[0],
            tile_cols=layer.block[1],
            drift_compensation=drift_compensation,
            column_correction=True,
        )
        arrays.append((crossbar, targets))
    return arrays


def logical_order(block: MappedBlock, physical: np.ndarray, scheme: str) -> np.ndarray:
    """A block's per-device values (rows, device columns) from physical to logical order: logical weight
    (i, j) lies in physical row ``row_of[i]`` and output slot ``col_of[j]``."""
    rows = physical[block.row_of]
    if scheme == "differential":
        pairs = rows.reshape(rows.shape[0], -1, 2)[:, block.col_of]
        return pairs.reshape(rows.shape)
    return np.concatenate([rows[:, :-1][:, block.col_of], rows[:, -1:]], axis=1)


def _per_tile_device(profile: ChipProfile, tiles: list[int], grid: tuple[int, int]):
    """The device models of ``tiles`` as one model whose numeric fields are (n_r, n_c, 1, 1) arrays."""
    devices = [profile.tile_device(t) for t in tiles]
    structures = {jax.tree.structure(d) for d in devices}
    if len(structures) > 1:
        raise ChipNotEmulated(
            f"chip {profile.chip_id}: the tiles of one layer must share the device model's structural "
            f"settings (e.g. levels, faults); tiles {sorted(set(tiles))} differ"
        )
    if devices[0].time_semantics != "snapshot":
        raise ChipNotEmulated(
            f"chip {profile.chip_id}: device time_semantics {devices[0].time_semantics!r} is not emulated on "
            "chips (per-tile parameters); use snapshot"
        )

    def stack(*leaves):
        return jnp.asarray(np.stack([np.asarray(v) for v in leaves]).reshape(*grid, 1, 1))

    return jax.tree.map(stack, *devices)
