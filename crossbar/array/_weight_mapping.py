"""From signed weights to device conductances and back: differential pairs or a reference column."""

import equinox as eqx
import jax
import jax.numpy as jnp

from emulator_common.schemes import SCHEMES
from emulator_common.validation import as_optional_array, require, require_choice


class WeightMapping(eqx.Module):
    """How one tile holds a block of signed weights.

    ``"differential"``: each weight uses two devices in adjacent columns, g+ - g- proportional to w
    (g+ = g_min + max(w, 0) / w_max (g_max - g_min), docs/models.md section 1). ``"reference_column"``: one
    device per weight, g - g_ref proportional to w, with g_ref = (g_min + g_max) / 2 held by one extra
    column of devices that every output subtracts.

    Attributes:
        scheme: ``"differential"`` or ``"reference_column"`` (static).
        clip_percentile: w_max is this percentile of |w| in the tile (weights beyond it clip), or
            ``None`` for the tile's abs-max.
    """

    scheme: str = eqx.field(static=True, default="differential")
    clip_percentile: jax.Array | None = eqx.field(converter=as_optional_array, default=None)

    def __check_init__(self):
        require_choice("mapping.scheme", self.scheme, SCHEMES)
        if self.clip_percentile is not None:
            require(
                "mapping.clip_percentile", self.clip_percentile, lambda p: (p > 0) & (p <= 100), "(0, 100]"
            )

    def w_max(self, w_block: jax.Array) -> jax.Array:
        """Weight that maps to the full conductance range, for a block (R, C) padded with NaN."""
        magnitude = jnp.abs(w_block)
        if self.clip_percentile is None:
            w_max = jnp.nanmax(magnitude)
        else:
            w_max = jnp.nanpercentile(magnitude, self.clip_percentile)
        return jnp.where(w_max > 0, w_max, 1.0)

    def physical_columns(self, cols: int) -> int:
        return 2 * cols if self.scheme == "differential" else cols + 1

    def conductances(self, w: jax.Array, w_max: jax.Array, g_min: jax.Array, g_max: jax.Array) -> jax.Array:
        """Target conductances (uS) (..., R, physical_columns(C)) for weights (..., R, C).

        ``w_max`` broadcasts against ``w`` (e.g. one value per tile, shaped (..., 1, 1)).
        """
        u = jnp.clip(w / w_max, -1.0, 1.0)
        span = g_max - g_min
        if self.scheme == "differential":
            pair = jnp.stack(
                [g_min + jnp.maximum(u, 0.0) * span, g_min + jnp.maximum(-u, 0.0) * span], axis=-1
            )
            return pair.reshape(*w.shape[:-1], 2 * w.shape[-1])
        reference = jnp.broadcast_to(g_min + 0.5 * span, w.shape[:-1] + (1,)).astype(w.dtype)
        return jnp.concatenate([g_min + 0.5 * (u + 1.0) * span, reference], axis=-1)

    def weights(self, g: jax.Array, w_max: jax.Array, g_min: jax.Array, g_max: jax.Array) -> jax.Array:
        """Weights (..., R, C) that conductances or effective conductances (..., R, physical columns) hold."""
        span = g_max - g_min
        if self.scheme == "differential":
            return (g[..., 0::2] - g[..., 1::2]) * (w_max / span)
        return (g[..., :-1] - g[..., -1:]) * (2.0 * w_max / span)
