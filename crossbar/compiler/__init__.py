"""The compiler: a trained network's weight matrices onto the tiles of one real chip, as its calibration
profile has it (placement, fault-aware permutation and compensation, per-tile windows, gains and offsets),
the mapping file and report, the cost model, and the compiled chip as the tile grids the emulator runs."""

from ._chip_arrays import ChipNotEmulated as ChipNotEmulated
from ._chip_arrays import chip_arrays as chip_arrays
from ._chip_arrays import chip_periphery as chip_periphery
from ._chip_wires import ChipWires as ChipWires
from ._chip_wires import chip_wires as chip_wires
from ._cost_model import COMPONENTS as COMPONENTS
from ._cost_model import ChipCost as ChipCost
from ._cost_model import LayerCost as LayerCost
from ._cost_model import estimate_cost as estimate_cost
from ._ir_drop_error import ir_drop_errors as ir_drop_errors
from ._layout import BlockLayout as BlockLayout
from ._layout import Layout as Layout
from ._layout import layout_of as layout_of
from ._layout import read_layout as read_layout
from ._mapper import PLACEMENTS as PLACEMENTS
from ._mapper import ChipMapping as ChipMapping
from ._mapper import LayerMapping as LayerMapping
from ._mapper import MappedBlock as MappedBlock
from ._mapper import NetworkDoesNotFit as NetworkDoesNotFit
from ._mapper import compile_network as compile_network
from ._mapper import held_weights as held_weights
from ._mapping_file import mapping_document as mapping_document
from ._output import OUTPUT_FILES as OUTPUT_FILES
from ._output import require_room as require_room
from ._output import write_compiled as write_compiled
