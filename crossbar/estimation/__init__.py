"""Accuracy over time: a network run on N emulated chips, each programmed once and read at every time after
programming (Monte Carlo), or each layer alone on them (``estimate_per_layer``), with the statistics of the
trials, the data, the times and the records."""

from ._accuracy_plot import accuracy_plot as accuracy_plot
from ._data import load_data as load_data
from ._data import split_data_range as split_data_range
from ._estimate import AccuracyEstimate as AccuracyEstimate
from ._estimate import estimate_accuracy as estimate_accuracy
from ._estimate import hardware_arrays as hardware_arrays
from ._memory import require_evaluation_memory as require_evaluation_memory
from ._monte_carlo import EXAMPLES_PER_STEP as EXAMPLES_PER_STEP
from ._monte_carlo import Examples as Examples
from ._monte_carlo import Model as Model
from ._monte_carlo import Stages as Stages
from ._monte_carlo import evaluate as evaluate
from ._monte_carlo import monte_carlo as monte_carlo
from ._monte_carlo import program as program
from ._monte_carlo import read as read
from ._monte_carlo import trial_keys as trial_keys
from ._per_layer import LayerEstimate as LayerEstimate
from ._per_layer import PerLayerEstimate as PerLayerEstimate
from ._per_layer import estimate_per_layer as estimate_per_layer
from ._per_layer_plot import per_layer_plot as per_layer_plot
from ._records import estimate_document as estimate_document
from ._records import estimate_table as estimate_table
from ._records import per_layer_document as per_layer_document
from ._records import per_layer_table as per_layer_table
from ._statistics import TrialStatistics as TrialStatistics
from ._statistics import trial_statistics as trial_statistics
from ._times import TIME_UNITS as TIME_UNITS
from ._times import human_time as human_time
from ._times import parse_times as parse_times
