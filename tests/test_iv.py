"""I-V nonlinearity: I = g sinh(b V) / b, linear for b = 0 (docs/models.md section 3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from device_models import PCM, RRAM, Ideal

G = jnp.array([0.0, 1.0, 9.0, 25.0, 88.2])
# Both sides of |b V| = 1e-3, where the implementation switches to a series, and large |b V|.
V = jnp.array([-1.0, -0.3, -1e-3, -3e-4, 0.0, 3e-4, 1e-3, 0.2, 1.0])


def test_linear_device_obeys_ohm():
    current = Ideal().current(G[:, None], V[None, :])
    np.testing.assert_array_equal(current, G[:, None] * V[None, :])


@pytest.mark.parametrize("b", [0.5, 3.0, 10.0])
def test_sinh_current(b):
    current = PCM(iv_b=b).current(G[:, None], V[None, :])
    g, v = np.asarray(G, np.float64)[:, None], np.asarray(V, np.float64)[None, :]
    np.testing.assert_allclose(current, g * np.sinh(b * v) / b, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("b", [0.0, 3.0, 10.0])
@pytest.mark.slow
def test_slope_is_g_cosh_bv_and_g_at_zero(b):
    dev = RRAM(iv_b=b)
    slope = jax.vmap(jax.grad(dev.current, argnums=1), in_axes=(None, 0))(25.0, V)
    np.testing.assert_allclose(slope, 25.0 * np.cosh(b * np.asarray(V, np.float64)), rtol=1e-6)
    assert float(jax.grad(dev.current, argnums=1)(25.0, 0.0)) == 25.0


@pytest.mark.parametrize("b", [0.0, 3.0])
def test_gradient_in_b_is_finite_at_zero_voltage(b):
    grad_b = jax.grad(lambda b, v: PCM(iv_b=b).current(25.0, v))
    assert float(grad_b(b, 0.0)) == 0.0
    grads = jax.vmap(grad_b, in_axes=(None, 0))(b, V)
    assert np.all(np.isfinite(grads))
    # dI/db = g (V cosh(bV) / b - sinh(bV) / b^2) = g b V^3 / 3 + O(b^3), so 0 at b = 0.
    v = np.asarray(V, np.float64)
    closed = 0.0 * v if b == 0 else 25.0 * (v * np.cosh(b * v) / b - np.sinh(b * v) / b**2)
    np.testing.assert_allclose(grads, closed, rtol=1e-4, atol=1e-6)
