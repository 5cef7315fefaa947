"""Crossbar arrays of memristive devices: peripherals, mapping of trained networks onto chips, execution,
accuracy estimation, sweeps, reports and the ``crossbar`` command."""
