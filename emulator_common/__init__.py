"""What the emulator's three packages share, at the bottom of their dependency order
(``emulator_common <- device_models <- calibration <- crossbar``): atomic file writes, parameter validation,
random draws, rounding with straight-through gradients, fault codes and mapping schemes.

Internal: imported by ``device_models``, ``calibration`` and ``crossbar``, not a public API.
"""
