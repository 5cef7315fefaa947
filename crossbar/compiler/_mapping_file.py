"""``mapping.json``: a compiled network in machine-readable form, enough to program a real chip.

Format ``crossbar-mapping/1``. Every block lists its layer, the weight rows and columns it holds (``inputs``,
``outputs``: [start, stop)), its tile and the offsets of its area (``row_offset``, ``col_offset``: first row
and first device column), ``rows`` (physical row, relative to ``row_offset``, of each input row) and
``columns`` (output slot, relative to the block, of each output column), ``tile_outputs`` (the tile's ADC
channel of each output), ``w_max`` and ``g_min``/``g_max`` (u = w * row_compensation / w_max maps to the
window), ``row_compensation`` (1 / DAC gain per input row) and the digital correction of each output,
y = (y_adc - column_offset) / column_gain, with the ADC reading y_adc and column_offset in the layer's output
units (weights times inputs). Each layer's ``ir_drop_error`` is the relative weight error its tiles' wires
predict at the programmed targets (``ir_drop_errors``). ``macs``, where given, is the network's
analog/digital split of its multiply-accumulates per example (``crossbar.networks.MacSplit.document``).
The targets themselves are in ``conductance_targets.npz`` (``g``: (tiles, rows, cols) uS, fault-aware
compensation included).
"""

import io
import json

import numpy as np

from ._cost_model import ChipCost
from ._ir_drop_error import ir_drop_errors
from ._mapper import ChipMapping

FORMAT = "crossbar-mapping/1"


def mapping_document(
    mapping: ChipMapping,
    cost: ChipCost,
    sources: dict,
    hardware: dict | None = None,
    macs: dict | None = None,
    ir_drop_error: tuple[float, ...] | None = None,
) -> dict:
    """The JSON document of a mapping; ``sources`` names the model and profile files it came from,
    ``hardware`` is the chip's hardware as a hardware file holds it (``crossbar.hardware``), ``macs`` the
    network's analog/digital split (``MacSplit.document``), each if given; ``ir_drop_error`` is each layer's
    (``ir_drop_errors``, computed if not given)."""
    profile, g = mapping.profile, mapping.profile.geometry
    errors = ir_drop_errors(mapping) if ir_drop_error is None else ir_drop_error
    return {
        "format": FORMAT,
        "sources": sources,
        **({} if hardware is None else {"hardware": hardware}),
        "chip": {
            "id": profile.chip_id,
            "technology": profile.technology,
            "geometry": {"tiles": g.tiles, "rows": g.rows, "cols": g.cols, "scheme": g.scheme},
        },
        "options": {
            "clip_percentile": mapping.clip_percentile,
            "fault_aware": mapping.fault_aware,
            "placement": mapping.placement,
        },
        "layers": [
            {
                "name": layer.name,
                "shape": list(layer.shape),
                "mvms_per_inference": layer.mvms_per_inference,
                "grid": list(layer.grid),
                "block": list(layer.block),
                "tiles": list(layer.tiles),
                "stuck_devices": layer.stuck_devices,
                "fault_error_in_place": layer.fault_error_in_place,
                "fault_error": layer.fault_error,
                "ir_drop_error": error,
                "energy_pj": cost_layer.energy_pj,
                "latency_ns": cost_layer.latency_ns,
                "utilization": cost_layer.utilization,
            }
            for layer, cost_layer, error in zip(mapping.layers, cost.layers, errors, strict=True)
        ],
        "blocks": [
            {
                "layer": b.layer,
                "grid": list(b.grid),
                "inputs": list(b.inputs),
                "outputs": list(b.outputs),
                "tile": b.spot.tile,
                "row_offset": b.spot.row,
                "col_offset": b.spot.col,
                "rows": b.row_of.tolist(),
                "columns": b.col_of.tolist(),
                "tile_outputs": b.tile_outputs.tolist(),
                "w_max": b.w_max,
                "g_min": profile.tiles[b.spot.tile].g_min,
                "g_max": profile.tiles[b.spot.tile].g_max,
                "row_compensation": b.row_compensation.tolist(),
                "column_gain": b.column_gain.tolist(),
                "column_offset": b.column_offset.tolist(),
            }
            for b in mapping.blocks
        ],
        "summary": {
            "tiles_used": cost.tiles_used,
            "energy_pj": cost.energy_pj,
            "latency_ns": cost.latency_ns,
            "ops": cost.ops,
            "tops_per_watt": cost.tops_per_watt,
            "tops": cost.tops,
            "inferences_per_second": cost.inferences_per_second,
            "area_mm2": cost.area_mm2,
        },
        **({} if macs is None else {"macs": macs}),
    }


def mapping_files(
    mapping: ChipMapping,
    cost: ChipCost,
    sources: dict,
    hardware: dict | None = None,
    macs: dict | None = None,
    ir_drop_error: tuple[float, ...] | None = None,
) -> dict[str, bytes]:
    """The contents of ``mapping.json`` (``mapping_document``) and ``conductance_targets.npz``, by name."""
    targets = io.BytesIO()
    np.savez_compressed(targets, g=mapping.conductance_targets())
    document = json.dumps(mapping_document(mapping, cost, sources, hardware, macs, ir_drop_error), indent=1)
    return {"mapping.json": document.encode("utf-8"), "conductance_targets.npz": targets.getvalue()}
