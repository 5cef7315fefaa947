"""The array: weight matrices on crossbar tiles. A ``Crossbar`` configuration programs a matrix onto a grid
of tiles (weight mapping, tiling), reads it at a time t (drift, read noise, IR drop, drift compensation) and
multiplies through each tile's periphery (noise and bound management, DAC, output noise, ADC)."""

from ._adc import ADC as ADC
from ._crossbar import IR_DROP_MODELS as IR_DROP_MODELS
from ._crossbar import Crossbar as Crossbar
from ._crossbar import ProgrammedMatrix as ProgrammedMatrix
from ._crossbar import ReadMatrix as ReadMatrix
from ._crossbar import Targets as Targets
from ._dac import DAC as DAC
from ._periphery import Periphery as Periphery
from ._periphery import managed_mvm as managed_mvm
from ._tile_ir_drop import effective_tiles as effective_tiles
from ._tiling import near_equal_split as near_equal_split
from ._tiling import to_blocks as to_blocks
from ._weight_mapping import WeightMapping as WeightMapping
