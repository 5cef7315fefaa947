"""The ideal device holds its target, clipped to the window, at every time."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from device_models import Ideal

TIMES = np.array([0.0, 1.0, 3600.0, 86400.0, 3.15e7])


@pytest.mark.parametrize("semantics", ["snapshot", "trajectory"])
def test_reads_back_clipped_target_at_every_time(semantics):
    dev = Ideal(g_min=1.0, g_max=20.0, time_semantics=semantics)
    g_target = jnp.array([-5.0, 0.0, 1.0, 7.3, 19.99, 20.0, 30.0])
    clipped = jnp.array([1.0, 1.0, 1.0, 7.3, 19.99, 20.0, 20.0])
    state = dev.program(jax.random.key(0), g_target)
    np.testing.assert_array_equal(state.g_prog, clipped)
    for seed in range(3):
        g = dev.read(jax.random.key(seed), state, TIMES)
        np.testing.assert_array_equal(g, jnp.broadcast_to(clipped, g.shape))
    np.testing.assert_array_equal(dev.expected(state, TIMES), g)
