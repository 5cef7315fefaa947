"""Crossbar arrays of memristive devices: the array simulator, networks on tiles, the compiler that maps
them onto a chip, accuracy estimation over time, sweeps, and the ``crossbar`` command.

Subpackages, each one concept, in dependency order: ``ir_drop``, ``array``, ``networks``, ``compiler``,
``hardware``, ``estimation``, ``sweeps``, ``training``, and ``cli`` on top (the library never imports it).
Everything a user needs is exported here.
"""

from . import ir_drop as ir_drop
from ._input_error import InputError as InputError
from .array import ADC as ADC
from .array import DAC as DAC
from .array import Crossbar as Crossbar
from .array import Periphery as Periphery
from .array import ProgrammedMatrix as ProgrammedMatrix
from .array import ReadMatrix as ReadMatrix
from .array import Targets as Targets
from .array import WeightMapping as WeightMapping
from .array import managed_mvm as managed_mvm
from .compiler import ChipCost as ChipCost
from .compiler import ChipMapping as ChipMapping
from .compiler import compile_network as compile_network
from .compiler import estimate_cost as estimate_cost
from .compiler import write_compiled as write_compiled
from .estimation import AccuracyEstimate as AccuracyEstimate
from .estimation import PerLayerEstimate as PerLayerEstimate
from .estimation import accuracy_plot as accuracy_plot
from .estimation import estimate_accuracy as estimate_accuracy
from .estimation import estimate_per_layer as estimate_per_layer
from .estimation import estimate_table as estimate_table
from .estimation import human_time as human_time
from .estimation import load_data as load_data
from .estimation import parse_times as parse_times
from .estimation import per_layer_plot as per_layer_plot
from .estimation import per_layer_table as per_layer_table
from .hardware import PRESETS as PRESETS
from .hardware import Chip as Chip
from .hardware import load_hardware as load_hardware
from .hardware import resolve_hardware as resolve_hardware
from .hardware import save_hardware as save_hardware
from .networks import InterceptedModel as InterceptedModel
from .networks import MatrixLayer as MatrixLayer
from .networks import OnnxModel as OnnxModel
from .networks import intercept as intercept
from .networks import load_onnx as load_onnx
from .networks import load_weights as load_weights
from .networks import mac_split as mac_split
from .networks import matrix_layers as matrix_layers
from .sweeps import run_sweep as run_sweep
from .training import TrainingHistory as TrainingHistory
from .training import train_hardware_aware as train_hardware_aware
