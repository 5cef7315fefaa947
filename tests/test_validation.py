"""Invalid parameters raise ValueError naming the field; traced parameters (jit, vmap) are not checked."""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from device_models import PCM, RRAM, Ideal, PulseResponse, WriteVerify

INVALID = [
    ("g_min", lambda: PCM(g_min=-1.0)),
    ("g_min", lambda: RRAM(g_min=float("nan"))),
    ("g_max", lambda: PCM(g_min=25.0, g_max=25.0)),
    ("g_max", lambda: RRAM(g_min=90.0)),
    ("g_max", lambda: Ideal(g_max=-1.0)),
    ("g_max", lambda: Ideal(g_max=float("inf"))),
    ("prog_noise_scale", lambda: PCM(prog_noise_scale=-1.0)),
    ("read_noise_scale", lambda: PCM(read_noise_scale=-0.1)),
    ("drift_scale", lambda: PCM(drift_scale=-1.0)),
    ("drift_scale", lambda: PCM(drift_scale=float("nan"))),
    ("drift_scale", lambda: RRAM(drift_scale=-1.0)),
    ("read_noise_scale", lambda: RRAM(read_noise_scale=-1.0)),
    ("prog_sigma_slope", lambda: RRAM(prog_sigma_slope=-0.01)),
    ("relax_std_offset", lambda: RRAM(relax_std_offset=-0.1)),
    ("t0", lambda: PCM(t0=0.0)),
    ("t0", lambda: PCM(t0=-20.0)),
    ("t_read", lambda: PCM(t_read=0.0)),
    ("t_read", lambda: RRAM(t_read=-1e-6)),
    ("levels", lambda: PCM(levels=1)),
    ("levels", lambda: Ideal(levels=-4)),
    ("time_semantics", lambda: PCM(time_semantics="continuous")),
    ("time_semantics", lambda: RRAM(time_semantics="Snapshot")),
    ("iv_b", lambda: Ideal(iv_b=-3.0)),
    ("g_max_spread", lambda: PCM(g_max_spread=-0.1)),
    ("write_verify.tolerance", lambda: WriteVerify(tolerance=0.0)),
    ("write_verify.max_pulses", lambda: WriteVerify(max_pulses=0)),
    ("response.a_ltp", lambda: PulseResponse(a_ltp=0.0)),
    ("response.a_ltd", lambda: PulseResponse(a_ltd=-1.0)),
    ("response.p_max", lambda: PulseResponse(p_max=0.5)),
    ("response.c2c_sigma", lambda: PulseResponse(c2c_sigma=-0.01)),
]


@pytest.mark.parametrize(("field", "build"), INVALID, ids=[f"{f}-{i}" for i, (f, _) in enumerate(INVALID)])
def test_invalid_parameter_raises_naming_the_field(field, build):
    with pytest.raises(ValueError, match=f"^{re.escape(field)}: expected"):
        build()


def test_a_concrete_batch_is_checked_element_wise():
    PCM(drift_scale=jnp.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="^drift_scale: expected .*, got -1.0$"):
        PCM(drift_scale=jnp.array([1.0, -1.0, 2.0]))


def test_traced_parameters_are_not_checked():
    scales = jax.vmap(lambda s: PCM(drift_scale=s).drift_scale)(jnp.array([-1.0, 1.0]))
    np.testing.assert_array_equal(scales, [-1.0, 1.0])
    assert float(jax.jit(lambda lo: RRAM(g_min=lo).g_min)(100.0)) == 100.0
    assert float(jax.jit(lambda t0: PCM(t0=t0).t0)(-1.0)) == -1.0


def test_read_rejects_negative_or_infinite_times():
    dev = Ideal()
    state = dev.program(jax.random.key(0), jnp.full((4,), 10.0))
    for t in (-1.0, float("inf"), jnp.array([1.0, -1.0])):
        with pytest.raises(eqx.EquinoxRuntimeError, match="t: expected finite times >= 0 s"):
            dev.read(jax.random.key(1), state, t)
