"""Crossbar arrays of memristive devices: peripherals, mapping of trained networks onto chips, execution,
accuracy estimation, sweeps, reports and the ``crossbar`` command."""

from . import ir_drop as ir_drop
from ._adc import ADC as ADC
from ._cost_model import ChipCost as ChipCost
from ._cost_model import estimate_cost as estimate_cost
from ._crossbar import Crossbar as Crossbar
from ._crossbar import ProgrammedMatrix as ProgrammedMatrix
from ._crossbar import ReadMatrix as ReadMatrix
from ._crossbar import Targets as Targets
from ._dac import DAC as DAC
from ._estimation import AccuracyEstimate as AccuracyEstimate
from ._estimation import estimate_accuracy as estimate_accuracy
from ._mapper import ChipMapping as ChipMapping
from ._mapper import compile_network as compile_network
from ._network_weights import MatrixLayer as MatrixLayer
from ._network_weights import load_weights as load_weights
from ._periphery import Periphery as Periphery
from ._periphery import managed_mvm as managed_mvm
from ._weight_mapping import WeightMapping as WeightMapping
from .interception import InterceptedModel as InterceptedModel
from .interception import intercept as intercept
from .presets import PRESETS as PRESETS
