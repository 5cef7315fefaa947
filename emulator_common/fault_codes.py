"""Device fault codes as masks hold them (int8): measured stuck cells of a chip, drawn faults of a model."""

HEALTHY, STUCK_OFF, STUCK_ON = 0, 1, 2
"""0: healthy; 1: stuck at g_min ("off"); 2: stuck at g_max ("on")."""
