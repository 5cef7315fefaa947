"""Analytical energy, latency and area of one inference on a compiled chip, from the profile's peripheral
figures (in the spirit of DNN+NeuroSim's summary, docs/models.md section 7).

Per matrix-vector product (MVM) of a block:
- DAC: one conversion per real input row; a DAC shared by k rows converts them one after another.
- Array: every device in the driven rows conducts for the integration time, E = sum(g) v_read^2 t_int, at
  full-scale inputs (an upper bound; devices of other blocks and unused devices in those rows count too).
- ADC: one conversion per real output; an ADC shared by k outputs converts them one after another.
- Digital: per layer output, the gain and offset correction of each of its n_r partial sums (2 operations
  each, done in parallel), n_r - 1 additions of partial sums (a tree of depth ceil(log2 n_r)) and the bias:
  3 n_r operations at the profile's cost of one digital addition.
Blocks of one layer on different tiles run in parallel, blocks on the same tile one after another; a layer's
MVMs (one per output position of a convolution) and the layers run one after another (no pipelining).
"""

import dataclasses
import math

import numpy as np

from ._mapper import ChipMapping, MappedBlock

_US = 1e-6  # siemens per uS
_NS = 1e-9  # seconds per ns
_PJ = 1e-12  # joules per pJ
COMPONENTS = ("dac", "array", "adc", "digital")


@dataclasses.dataclass(frozen=True)
class LayerCost:
    """One layer's share of an inference.

    Attributes:
        name: the layer.
        energy_pj: energy per inference (pJ) by component (``COMPONENTS``).
        latency_ns: time per inference (ns).
        ops: operations per inference (2 per multiply-accumulate).
        tiles: tiles holding the layer.
        utilization: devices holding the layer's weights / devices of those tiles.
    """

    name: str
    energy_pj: dict
    latency_ns: float
    ops: float
    tiles: int
    utilization: float


@dataclasses.dataclass(frozen=True)
class ChipCost:
    """A whole inference, and the chip's area.

    Attributes:
        layers: per layer.
        area_mm2: chip area by component (``"array"``, ``"dac"``, ``"adc"``), all tiles (mm^2).
        tiles_used: tiles that hold weights.
    """

    layers: tuple[LayerCost, ...]
    area_mm2: dict
    tiles_used: int

    @property
    def energy_pj(self) -> float:
        return sum(sum(layer.energy_pj.values()) for layer in self.layers)

    @property
    def latency_ns(self) -> float:
        return sum(layer.latency_ns for layer in self.layers)

    @property
    def ops(self) -> float:
        return sum(layer.ops for layer in self.layers)

    @property
    def tops_per_watt(self) -> float:
        """Operations per joule / 1e12, i.e. operations per pJ."""
        return self.ops / self.energy_pj

    @property
    def tops(self) -> float:
        return self.ops / (self.latency_ns * _NS) / 1e12

    @property
    def inferences_per_second(self) -> float:
        return 1.0 / (self.latency_ns * _NS)

    @property
    def tops_per_mm2(self) -> float:
        return self.tops / sum(self.area_mm2.values())


def estimate_cost(mapping: ChipMapping) -> ChipCost:
    """Energy, latency and area of one inference of the network that ``mapping`` places on its chip."""
    profile = mapping.profile
    g, p = profile.geometry, profile.peripherals
    targets = mapping.conductance_targets()
    layers = []
    for layer in mapping.layers:
        blocks = [b for b in mapping.blocks if b.layer == layer.name]
        energy = dict.fromkeys(COMPONENTS, 0.0)
        busy_ns: dict[int, float] = {}
        devices = 0
        for block in blocks:
            rows = int(np.sum(np.any(block.valid, axis=1)))
            outputs = np.any(block.valid, axis=0)
            driven = targets[block.spot.tile, block.spot.row + block.row_of[:rows]]
            devices += rows * (
                2 * int(np.sum(outputs)) if g.scheme == "differential" else int(np.sum(outputs)) + 1
            )
            energy["dac"] += rows * p.dac.energy_pj
            energy["adc"] += int(np.sum(outputs)) * p.adc.energy_pj
            energy["array"] += float(np.sum(driven)) * _US * p.v_read**2 * p.integration_ns * _NS / _PJ
            busy_ns[block.spot.tile] = busy_ns.get(block.spot.tile, 0.0) + _block_time(
                block, outputs, rows, p
            )
        n_r, _ = layer.grid
        out = layer.shape[1]
        energy["digital"] = out * 3 * n_r * p.add_energy_pj
        mvm_ns = max(busy_ns.values()) + (2 + math.ceil(math.log2(n_r)) + 1) * p.add_time_ns
        weights = layer.shape[0] * layer.shape[1]
        layers.append(
            LayerCost(
                name=layer.name,
                energy_pj={k: v * layer.mvms_per_inference for k, v in energy.items()},
                latency_ns=mvm_ns * layer.mvms_per_inference,
                ops=2.0 * weights * layer.mvms_per_inference,
                tiles=len(layer.tiles),
                utilization=devices / (len(layer.tiles) * g.rows * g.cols),
            )
        )
    per_tile = {
        "array": g.rows * g.cols * p.cell_area_um2,
        "dac": math.ceil(g.rows / p.dac.shared_by) * p.dac.area_um2,
        "adc": math.ceil(g.outputs / p.adc.shared_by) * p.adc.area_um2,
    }
    area = {k: v * g.tiles * 1e-6 for k, v in per_tile.items()}
    tiles_used = len({b.spot.tile for b in mapping.blocks})
    return ChipCost(tuple(layers), area, tiles_used)


def _block_time(block: MappedBlock, outputs: np.ndarray, rows: int, p) -> float:
    """Time of one MVM of a block (ns): DAC conversions, integration, ADC conversions."""
    dac_rounds = min(p.dac.shared_by, rows)
    real_outputs = block.tile_outputs[outputs]
    adc_rounds = int(np.bincount(real_outputs // p.adc.shared_by).max()) if real_outputs.size else 0
    return dac_rounds * p.dac.time_ns + p.integration_ns + adc_rounds * p.adc.time_ns
