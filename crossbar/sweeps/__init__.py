"""Parameter sweeps: a YAML spec of axes over any parameter of the hardware, every point estimated like
``estimate_accuracy`` (points vectorized in chunks, in this process or on a Dask cluster), resumable results,
CSV summaries and plots."""

from ._results import summary_rows as summary_rows
from ._run import SweepInputs as SweepInputs
from ._run import chunks_of as chunks_of
from ._run import run_chunk as run_chunk
from ._spec import SweepSpec as SweepSpec
from ._spec import load_spec as load_spec
from ._store import ResultStore as ResultStore
from ._sweep import run_sweep as run_sweep
from ._sweep import sweep_inputs as sweep_inputs
