"""Pulse-programming nonlinearity: NeuroSim's model of conductance vs pulse number (docs/models.md section 3).

With P of P_max pulses, G_LTP(P) = B (1 - exp(-P/A)) + G_min and
G_LTD(P) = G_max - B (1 - exp((P - P_max)/A)), B = (G_max - G_min) / (1 - exp(-P_max/A))
(Chen et al., "NeuroSim", IEEE TCAD 2018). One pulse from conductance g moves along the curve through g,
which gives the closed forms in ``potentiate`` and ``depress``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from emulator_common.validation import as_array, require, require_finite_nonnegative, require_positive

# NeuroSim's table from the nonlinearity label NL to A / P_max (docs/models.md section 3).
_NL_LABELS = np.array([0.5, 1.0, 1.46, 1.75, 2.0, 2.4, 3.0, 4.0, 4.88, 6.0])
_A_OVER_PMAX = np.array([2.52, 1.25, 0.849, 0.702, 0.609, 0.499, 0.387, 0.269, 0.200, 0.136])


def a_from_nl(nl: float) -> float:
    """A / P_max for a nonlinearity label (sign ignored: LTD labels are often negative).

    Interpolates NeuroSim's table in log space; labels outside [0.5, 6] raise ``ValueError``.
    """
    label = abs(float(nl))
    if not _NL_LABELS[0] <= label <= _NL_LABELS[-1]:
        raise ValueError(f"nl: expected |NL| in [{_NL_LABELS[0]}, {_NL_LABELS[-1]}], got {nl!r}")
    return float(np.exp(np.interp(label, _NL_LABELS, np.log(_A_OVER_PMAX))))


class PulseResponse(eqx.Module):
    """Conductance response of a device to identical programming pulses.

    Attributes:
        a_ltp: A / P_max of potentiation (dimensionless; large = linear). Default NL 2.4 (Ag:a-Si).
        a_ltd: A / P_max of depression. Default NL 4.88 (Ag:a-Si).
        p_max: pulses that sweep the full range [g_min, g_max].
        c2c_sigma: cycle-to-cycle noise per pulse, a fraction of (g_max - g_min); 0.035 as in MLP_NeuroSim.
    """

    a_ltp: jax.Array = eqx.field(converter=as_array, default=a_from_nl(2.4))
    a_ltd: jax.Array = eqx.field(converter=as_array, default=a_from_nl(4.88))
    p_max: jax.Array = eqx.field(converter=as_array, default=97.0)
    c2c_sigma: jax.Array = eqx.field(converter=as_array, default=0.035)

    def __check_init__(self):
        require_positive("response.a_ltp", self.a_ltp)
        require_positive("response.a_ltd", self.a_ltd)
        require("response.p_max", self.p_max, lambda p: np.isfinite(p) & (p >= 1), "a pulse count >= 1")
        require_finite_nonnegative("response.c2c_sigma", self.c2c_sigma)

    @classmethod
    def from_nl(cls, nl_ltp: float, nl_ltd: float, p_max: float = 97.0, c2c_sigma: float = 0.035):
        """Build from NeuroSim's nonlinearity labels, e.g. ``from_nl(2.4, -4.88)`` for Ag:a-Si."""
        return cls(a_from_nl(nl_ltp), a_from_nl(nl_ltd), p_max, c2c_sigma)

    def _saturation(self, a: jax.Array, g_min: jax.Array, g_max: jax.Array) -> jax.Array:
        """B of the model (uS), and 1 - exp(-1/A): the part of the way to saturation one pulse moves."""
        a_pulses = a * self.p_max
        return (g_max - g_min) / -jnp.expm1(-self.p_max / a_pulses), -jnp.expm1(-1.0 / a_pulses)

    def potentiate(self, g: jax.Array, g_min: jax.Array, g_max: jax.Array) -> jax.Array:
        """Conductance after one noiseless potentiation pulse from ``g`` (uS)."""
        b, gain = self._saturation(self.a_ltp, g_min, g_max)
        return g + (g_min + b - g) * gain

    def depress(self, g: jax.Array, g_min: jax.Array, g_max: jax.Array) -> jax.Array:
        """Conductance after one noiseless depression pulse from ``g`` (uS)."""
        b, gain = self._saturation(self.a_ltd, g_min, g_max)
        return g - (g - g_max + b) * gain

    def curve(self, pulses: jax.Array, g_min: jax.Array, g_max: jax.Array, potentiation: bool = True):
        """G_LTP(P) (or G_LTD(P)) for pulse numbers ``pulses`` in [0, P_max] (uS)."""
        if potentiation:
            b, _ = self._saturation(self.a_ltp, g_min, g_max)
            return b * -jnp.expm1(-pulses / (self.a_ltp * self.p_max)) + g_min
        b, _ = self._saturation(self.a_ltd, g_min, g_max)
        return g_max - b * -jnp.expm1((pulses - self.p_max) / (self.a_ltd * self.p_max))
