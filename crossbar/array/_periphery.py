"""The managed matrix-vector multiplication of one tile: noise management, bound management, DAC, analog
MVM, output noise, column gain and offset, ADC (docs/models.md section 5, aihwkit's InferenceRPUConfig).

Gradients: the forward value is the full noisy, quantized pipeline; its derivative is that of the ideal
product ``x @ w`` (a straight-through estimator over the whole periphery), so the same forward pass can
serve hardware-aware training.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from emulator_common.random import normal
from emulator_common.validation import as_array, require_choice, require_finite_nonnegative, require_positive

from ._adc import ADC
from ._dac import DAC

NOISE_MANAGEMENT = ("none", "abs_max", "fixed")
BOUND_MANAGEMENT = ("none", "iterative")
WEIGHT_NOISE = ("additive", "pcm_read")
_MAX_BOUND_SCALE = 1000.0  # aihwkit's max_bm_factor
_MAX_BOUND_RESOLUTION = 0.25  # aihwkit's max_bm_res: stop once r * (DAC step) exceeds it


class Periphery(eqx.Module):
    """Everything between the digital input of a tile and its digital output.

    Attributes:
        dac, adc: the converters.
        output_noise: standard deviation of additive noise on every analog output (output units).
        noise_management: input scaling per vector: ``"abs_max"`` divides by max|x| (aihwkit's ABS_MAX),
            ``"fixed"`` divides by ``input_range``, ``"none"`` leaves inputs as they are (static).
        input_range: the divisor of ``"fixed"`` noise management.
        bound_management: ``"iterative"`` halves the inputs of a vector whose outputs clip at the ADC and
            converts again (aihwkit's ITERATIVE), ``"none"`` keeps the clipped result (static).
        weight_noise: standard deviation sigma_w of output-referred weight noise, drawn afresh at every MVM
            (aihwkit's w_noise; docs/models.md section 5): with ``weight_noise_type`` ``"additive"``, each
            output gets sigma_w ||v|| xi; with ``"pcm_read"``, sigma_w sqrt(sum_j |w_ij| v_j^2) xi, v the
            DAC's outputs. 0 turns it off.
        weight_noise_type: ``"additive"`` or ``"pcm_read"`` (static).
    """

    dac: DAC = DAC()
    adc: ADC = ADC()
    output_noise: jax.Array = eqx.field(converter=as_array, default=0.06)
    noise_management: str = eqx.field(static=True, default="abs_max")
    input_range: jax.Array = eqx.field(converter=as_array, default=1.0)
    bound_management: str = eqx.field(static=True, default="iterative")
    weight_noise: jax.Array = eqx.field(converter=as_array, default=0.0)
    weight_noise_type: str = eqx.field(static=True, default="additive")

    def __check_init__(self):
        require_finite_nonnegative("output_noise", self.output_noise)
        require_finite_nonnegative("weight_noise", self.weight_noise)
        require_choice("weight_noise_type", self.weight_noise_type, WEIGHT_NOISE)
        require_choice("noise_management", self.noise_management, NOISE_MANAGEMENT)
        require_positive("input_range", self.input_range)
        require_choice("bound_management", self.bound_management, BOUND_MANAGEMENT)

    @property
    def max_passes(self) -> int:
        """Conversions per vector at most: r = 1, 2, 4, ... while r <= min(1000, 0.25 / DAC step)."""
        if self.bound_management == "none":
            return 1
        limit = (
            _MAX_BOUND_SCALE
            if self.dac.bits is None
            else min(_MAX_BOUND_SCALE, _MAX_BOUND_RESOLUTION / self.dac.step)
        )
        passes, r = 1, 1.0
        while r <= limit:
            r, passes = 2.0 * r, passes + 1
        return passes

    @property
    def has_weight_noise(self) -> bool:
        """Whether the weight noise may be nonzero (a traced value may be)."""
        return isinstance(self.weight_noise, jax.core.Tracer) or bool(np.any(np.asarray(self.weight_noise)))

    def output_sigma(self, v: jax.Array, w: jax.Array) -> jax.Array:
        """Standard deviation of the noise on each analog output for DAC outputs v (B, R) through the tile's
        weights w (R, C): the output noise and, where on, the weight noise (independent Gaussians, so their
        variances add) -> (B, C) or a scalar."""
        if not self.has_weight_noise:
            return self.output_noise
        if self.weight_noise_type == "additive":
            spread = jnp.sqrt(jnp.sum(v * v, axis=-1, keepdims=True))
        else:
            spread = jnp.sqrt((v * v) @ jnp.abs(w))
        return jnp.sqrt(self.output_noise**2 + (self.weight_noise * spread) ** 2)

    def input_scale(self, x: jax.Array) -> jax.Array:
        """Noise-management divisor per input vector: x (B, R) -> (B, 1)."""
        if self.noise_management == "abs_max":
            s = jnp.max(jnp.abs(x), axis=-1, keepdims=True)
            return jnp.where(s > 0, s, 1.0)
        if self.noise_management == "fixed":
            return jnp.broadcast_to(self.input_range, x.shape[:-1] + (1,))
        return jnp.ones(x.shape[:-1] + (1,), x.dtype)


def managed_mvm(
    key: jax.Array,
    x: jax.Array,
    w: jax.Array,
    periphery: Periphery,
    column_gain: jax.Array | None = None,
    column_offset: jax.Array | None = None,
    analog: Callable[..., jax.Array] | None = None,
    analog_args: tuple = (),
    correct_columns: bool = False,
) -> jax.Array:
    """Digital outputs of one tile for a batch of inputs.

    Args:
        key: randomness of the output noise.
        x: inputs (B, R), digital values in the weights' input units.
        w: the tile's weights as read (R, C), output units per input unit.
        periphery: DAC, ADC, noise and bound management.
        column_gain, column_offset: analog gain and offset (output units) of each column (C,), or ``None``.
        analog: the analog response ``analog(v, *analog_args)`` to normalized inputs v (B, R) -> (B, C) when
            it is not ``v @ w`` (nonlinear I-V, nonlinear IR drop); ``w`` is then its small-signal matrix,
            used for gradients. Arrays it needs go in ``analog_args``, not in a closure.
        correct_columns: undo ``column_gain`` and ``column_offset`` in digital after the ADC (calibration).

    Returns:
        (B, C) outputs in output units.
    """
    return _managed_mvm(
        x, w, key, periphery, column_gain, column_offset, analog, analog_args, correct_columns
    )


@eqx.filter_custom_jvp
def _managed_mvm(x, w, key, periphery, column_gain, column_offset, analog, analog_args, correct_columns):
    def respond(v):
        return v @ w if analog is None else analog(v, *analog_args)

    scale = periphery.input_scale(x)

    def convert(pass_index, r):
        v = periphery.dac(x / (scale * r))
        y = respond(v)
        noise_key = jax.random.fold_in(key, pass_index)
        y = y + periphery.output_sigma(v, w) * normal(noise_key, y.shape, y.dtype)
        if column_gain is not None:
            y = y * column_gain[None, :]
        if column_offset is not None:
            y = y + column_offset[None, :]
        y, clipped = periphery.adc(y)
        if correct_columns and column_offset is not None:
            y = y - column_offset[None, :]
        if correct_columns and column_gain is not None:
            y = y / column_gain[None, :]
        return y * scale * r, clipped

    r = jnp.ones_like(scale)
    y, clipped = convert(0, r)

    def again(carry):
        pass_index, _, _, clipped = carry
        return (pass_index < periphery.max_passes) & jnp.any(clipped)

    def halve_inputs(carry):
        pass_index, r, y, clipped = carry
        r = jnp.where(clipped[:, None], 2.0 * r, r)
        y_new, clipped_new = convert(pass_index, r)
        return pass_index + 1, r, jnp.where(clipped[:, None], y_new, y), clipped & clipped_new

    # The loop stays when bound management is off (its condition is then false at once): on XLA:CPU the
    # output-noise draw fused straight into the MVM's epilogue ran three times slower without this boundary.
    _, _, y, _ = jax.lax.while_loop(again, halve_inputs, (1, r, y, clipped))
    return y


@_managed_mvm.def_jvp
def _managed_mvm_jvp(primals, tangents):
    x, w, *_ = primals
    dx, dw, *_ = tangents
    y = _managed_mvm(*primals)
    dy = jnp.zeros_like(y)
    if dx is not None:
        dy = dy + dx @ w
    if dw is not None:
        dy = dy + x @ dw
    return y, dy
