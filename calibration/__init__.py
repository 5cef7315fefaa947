"""Per-chip calibration profiles: one physical chip's measured character (conductance ranges, stuck cells,
column gains and offsets, drift, peripherals). Depends on ``device_models``; ``crossbar`` depends on it."""

from ._fit import fit as fit
from ._measure import simulate_measurements as simulate_measurements
from ._measurements import Measurements as Measurements
from ._measurements import load_measurements as load_measurements
from ._measurements import save_measurements as save_measurements
from ._profile import TECHNOLOGIES as TECHNOLOGIES
from ._profile import ChipProfile as ChipProfile
from ._profile import Converter as Converter
from ._profile import Geometry as Geometry
from ._profile import Peripherals as Peripherals
from ._profile import TileProfile as TileProfile
from ._serialization import load as load
from ._serialization import save as save
from ._serialization import validate as validate
from ._summary import summarize_profile as summarize_profile
from ._synthesize import synthesize as synthesize
