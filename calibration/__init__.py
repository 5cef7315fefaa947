"""Per-chip calibration profiles: one physical chip's measured character (conductance ranges, stuck cells,
column gains and offsets, drift, peripherals). Depends on ``device_models``; ``crossbar`` depends on it."""
