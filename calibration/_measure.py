"""What a tester would measure on a chip whose profile is known: the input of ``fit``, for testing it."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from device_models import AbstractDevice

from ._measurements import Measurements, signed_conductance
from ._profile import ChipProfile, nominal_span

_SET_FACTOR = 1.5  # the full-SET round targets this times the tile's g_max: beyond the window


def simulate_measurements(
    profile: ChipProfile,
    seed: int,
    *,
    n_inputs: int = 64,
    t_measure: float = 1.0,
    t_drift: tuple[float, ...] = (3600.0, 86400.0),
    output_noise: float = 0.01,
) -> Measurements:
    """The measurements of the chip ``profile`` describes; the same seed gives the same numbers.

    Three programming rounds per tile: 0, targets uniform in the tile's [g_min, g_max]; 1, every target
    1.5 g_max (a full SET, clipped to the window by programming); 2, every target 0 uS (a full RESET).
    Each round programs the tile's device model (``profile.tile_device``) with the tile's stuck mask and
    reads it ``t_measure`` s later; round 0 is read again at each of ``t_drift`` (s; empty: no drift data).
    ``n_inputs`` inputs uniform in [-1, 1] give outputs by the model of the file format from round 0's
    reads and the tile's adc_gain, adc_offset and dac_gain, plus Gaussian noise of standard deviation
    ``output_noise`` (units of v_read * span).
    """
    geometry = profile.geometry
    shape = (geometry.rows, geometry.cols)
    span = nominal_span(profile.technology)
    key_inputs, *key_tiles = jax.random.split(jax.random.key(seed), 1 + geometry.tiles)
    x = np.asarray(jax.random.uniform(key_inputs, (n_inputs, geometry.rows), minval=-1.0, maxval=1.0), float)
    times = np.asarray([t_measure, *t_drift], float)
    g_target, g_measured, g_drift, outputs = [], [], [], []
    for index, tile in enumerate(profile.tiles):
        key_targets, key_devices, key_noise = jax.random.split(key_tiles[index], 3)
        u = np.asarray(jax.random.uniform(key_targets, shape), float)
        targets = np.stack(
            [
                tile.g_min + (tile.g_max - tile.g_min) * u,
                np.full(shape, _SET_FACTOR * tile.g_max),
                np.zeros(shape),
            ]
        )
        stuck = np.broadcast_to(tile.stuck, targets.shape)
        reads = measure(profile.tile_device(index), key_devices, targets, times, stuck)[0]
        g_target.append(targets)
        g_measured.append(reads[0])
        g_drift.append(reads[1:, 0])
        dg = signed_conductance(reads[0, 0], geometry.scheme)
        noise = np.asarray(jax.random.normal(key_noise, (n_inputs, geometry.outputs)), float)
        outputs.append(
            tile.adc_gain * ((x * tile.dac_gain) @ dg) / span + tile.adc_offset + output_noise * noise
        )
    drift = {"t_drift": times[1:], "g_drift": np.stack(g_drift)} if len(t_drift) else {}
    return Measurements(
        chip_id=profile.chip_id,
        technology=profile.technology,
        scheme=geometry.scheme,
        date=profile.date,
        g_target=np.stack(g_target),
        g_measured=np.stack(g_measured),
        test_inputs=x,
        test_outputs=np.stack(outputs),
        t_measure=float(t_measure),
        **drift,
    )


def measure(
    device: AbstractDevice,
    key: jax.Array,
    g_target: np.ndarray,
    times: np.ndarray,
    stuck_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Program ``g_target`` (uS, any shape) into fresh devices and read them at ``times`` (s, (m,)).

    Returns the reads and their noise-free expectations (uS), each (m, *g_target.shape). Compiled once per
    model structure and shape; the model's parameter values do not recompile it.
    """
    stuck_mask = None if stuck_mask is None else jnp.asarray(stuck_mask, jnp.int8)
    reads, expected = _measure(device, key, jnp.asarray(g_target), jnp.asarray(times), stuck_mask)
    return np.asarray(reads, float), np.asarray(expected, float)


@eqx.filter_jit
def _measure(device, key, g_target, times, stuck_mask):
    key_program, key_read = jax.random.split(key)
    state = device.program(key_program, g_target, stuck_mask=stuck_mask)
    return device.read(key_read, state, times), device.expected(state, times)
