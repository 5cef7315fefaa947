"""IR drop of a crossbar tile: the steady state of its resistive network of row and column wires, exact or
approximate (docs/models.md section 6). SI units: conductance in S, voltage in V, current in A, wire
resistance in ohm."""

from ._approximate import approximate_effective_matrix as approximate_effective_matrix
from ._solver import EFFECTIVE_MATRIX_MODELS as EFFECTIVE_MATRIX_MODELS
from ._solver import column_currents as column_currents
from ._solver import column_currents_nonlinear as column_currents_nonlinear
from ._solver import effective_matrix as effective_matrix
