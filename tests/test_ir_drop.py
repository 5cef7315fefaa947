"""The exact IR-drop solver against an independent scipy.sparse assembly of docs/models.md section 6."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.linalg import spsolve

from crossbar import ir_drop
from crossbar.ir_drop import _solver

G_MAX = 25e-6  # S


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def random_g(rng, *shape):
    """Conductances uniform in 1..25 uS."""
    return rng.uniform(1e-6, G_MAX, shape)


def kcl(shape, r_row, r_col):
    """Wire conductance matrix (2RC, 2RC) over nodes [a (R, C), b (R, C)] with the driver and ground terms,
    and the incidence D (RC, 2RC) with (D x)[device] = a - b across each device."""
    rows, cols = shape
    n = rows * cols
    a = np.arange(n).reshape(rows, cols)
    b = a + n
    p = np.concatenate([a[:, :-1].ravel(), b[:-1, :].ravel()])
    q = np.concatenate([a[:, 1:].ravel(), b[1:, :].ravel()])
    c = np.concatenate([np.full(rows * (cols - 1), 1 / r_row), np.full((rows - 1) * cols, 1 / r_col)])
    wires = sparse.coo_matrix(
        (np.r_[c, c, -c, -c], (np.r_[p, q, p, q], np.r_[p, q, q, p])), shape=(2 * n, 2 * n)
    )
    ends = np.zeros(2 * n)
    ends[a[:, 0]] = 1 / r_row  # driver segment
    ends[b[-1, :]] = 1 / r_col  # segment to virtual ground
    devices = sparse.coo_matrix(
        (np.r_[np.ones(n), -np.ones(n)], (np.r_[a.ravel(), a.ravel()], np.r_[a.ravel(), b.ravel()])),
        shape=(n, 2 * n),
    )
    return (wires + sparse.diags(ends)).tocsc(), devices.tocsc()


def source(v, shape, r_row):
    """Right-hand side (2RC, B) of KCL: the drivers' currents into the first row nodes."""
    rows, cols = shape
    rhs = np.zeros((2 * rows * cols, v.shape[0]))
    rhs[np.arange(rows) * cols] = v.T / r_row
    return rhs


def outputs(x, shape, r_col):
    """Sense-amplifier currents (B, C) from node voltages x (2RC, B): b[R-1, j] / r_col."""
    rows, cols = shape
    return x[rows * cols + (rows - 1) * cols + np.arange(cols)].T / r_col


def reference_linear(g, v, r_row, r_col):
    wires, d = kcl(g.shape, r_row, r_col)
    x = spsolve((wires + d.T @ sparse.diags(g.ravel()) @ d).tocsc(), source(v, g.shape, r_row))
    return outputs(x.reshape(wires.shape[0], -1), g.shape, r_col)


def reference_nonlinear(g, v, r_row, r_col, iv_b):
    """Newton's method with spsolve in float64 on the node voltages, to machine precision."""
    wires, d = kcl(g.shape, r_row, r_col)
    x = spsolve((wires + d.T @ sparse.diags(g.ravel()) @ d).tocsc(), source(v, g.shape, r_row))
    x = x.reshape(wires.shape[0], -1)
    for k, rhs in enumerate(source(v, g.shape, r_row).T):
        for _ in range(100):
            dv = d @ x[:, k]
            residual = wires @ x[:, k] - rhs + d.T @ (g.ravel() * np.sinh(iv_b * dv) / iv_b)
            jacobian = wires + d.T @ sparse.diags(g.ravel() * np.cosh(iv_b * dv)) @ d
            step = spsolve(jacobian.tocsc(), residual)
            x[:, k] -= step
            if np.max(np.abs(step)) < 1e-15 * np.max(np.abs(x[:, k])):
                break
    return outputs(x, g.shape, r_col)


def relative_error(actual, expected):
    return np.max(np.abs(np.asarray(actual) - expected)) / np.max(np.abs(expected))


@pytest.mark.parametrize("shape", [(1, 7), (9, 1), (8, 16), (64, 32)])
@pytest.mark.parametrize("r_g", [1e-5, 1e-4, 1e-3, 1e-2])
@pytest.mark.slow
def test_column_currents_match_scipy(shape, r_g, x64):
    rng = np.random.default_rng(sum(shape))
    g, v = random_g(rng, *shape), rng.uniform(-1, 1, (3, shape[0]))
    r_row, r_col = r_g / G_MAX, 0.5 * r_g / G_MAX  # different, so that swapping them would show
    expected = reference_linear(g, v, r_row, r_col)
    assert relative_error(ir_drop.column_currents(g, v, r_row, r_col), expected) < 1e-6


def test_float32_is_accurate():
    rng = np.random.default_rng(1)
    g, v = random_g(rng, 32, 48), rng.uniform(-1, 1, (4, 32))
    currents = ir_drop.column_currents(g.astype(np.float32), v.astype(np.float32), 40.0, 40.0)
    assert currents.dtype == jnp.float32
    assert relative_error(currents, reference_linear(g, v, 40.0, 40.0)) < 1e-5


def test_ideal_wires_give_g_exactly():
    g = random_g(np.random.default_rng(2), 6, 5).astype(np.float32)
    assert np.array_equal(ir_drop.effective_matrix(g, 0.0, 0.0), g)
    v = np.linspace(-1, 1, 6, dtype=np.float32)
    assert relative_error(ir_drop.column_currents(g, v, 0.0, 0.0), v @ g) < 1e-6


@pytest.mark.slow
def test_gradient_at_an_ideal_wire_family_is_finite():
    g = random_g(np.random.default_rng(2), 6, 5).astype(np.float32)
    gradient = jax.grad(lambda r: jnp.sum(ir_drop.effective_matrix(g, r, 0.0)))(jnp.float32(0.0))
    assert np.isfinite(gradient) and gradient < 0


@pytest.mark.parametrize(("r_row", "r_col"), [(0.0, 400.0), (400.0, 0.0), (1e-4, 1e-4)])
def test_wire_resistance_tends_to_zero(r_row, r_col, x64):
    rng = np.random.default_rng(3)
    g, v = random_g(rng, 12, 10), rng.uniform(-1, 1, (2, 12))
    expected = reference_linear(g, v, max(r_row, 1e-9), max(r_col, 1e-9))
    assert relative_error(ir_drop.column_currents(g, v, r_row, r_col), expected) < 1e-6
    if r_row > 0 and r_col > 0:
        assert relative_error(ir_drop.column_currents(g, v, r_row, r_col), v @ g) < 1e-5


def test_ir_drop_lowers_every_current_more_with_more_resistance(x64):
    rng = np.random.default_rng(4)
    g, v = random_g(rng, 16, 24), rng.uniform(0.05, 0.3, (4, 16))
    currents = [np.asarray(ir_drop.column_currents(g, v, r, r)) for r in (0.0, 1.0, 10.0, 100.0, 1000.0)]
    assert np.all(np.diff(np.stack(currents), axis=0) < 0)


def test_far_corner_loses_most(x64):
    """Uniform devices: W_eff falls away from the drivers (along j) and from the ground (towards i = 0)."""
    w = np.asarray(ir_drop.effective_matrix(np.full((16, 24), 20e-6), 20.0, 20.0))
    assert np.all(np.diff(w, axis=1) < 0)
    assert np.all(np.diff(w, axis=0) > 0)
    assert np.unravel_index(np.argmin(w), w.shape) == (0, 23)


@pytest.mark.slow
def test_nonlinear_matches_linear_for_small_iv_b(x64):
    rng = np.random.default_rng(5)
    g, v = random_g(rng, 10, 12), rng.uniform(-1, 1, (3, 10))
    linear = np.asarray(ir_drop.column_currents(g, v, 40.0, 20.0))
    assert relative_error(ir_drop.column_currents_nonlinear(g, v, 40.0, 20.0, 0.0), linear) < 1e-9
    assert relative_error(ir_drop.column_currents_nonlinear(g, v, 40.0, 20.0, 1e-6), linear) < 1e-9


@pytest.mark.slow
def test_nonlinear_matches_scipy_newton(x64):
    rng = np.random.default_rng(6)
    g, v = random_g(rng, 16, 16), rng.uniform(-0.3, 0.3, (3, 16))
    r = 1e-3 / G_MAX
    expected = reference_nonlinear(g, v, r, 2 * r, 3.0)
    assert relative_error(ir_drop.column_currents_nonlinear(g, v, r, 2 * r, 3.0), expected) < 1e-6
    assert relative_error(expected, reference_linear(g, v, r, 2 * r)) > 1e-2  # the nonlinearity matters


@pytest.mark.slow
def test_nonlinear_overflow_raises_also_under_jit():
    g, v = np.full((4, 4), G_MAX, np.float32), np.full(4, 40.0, np.float32)  # cosh(120) overflows float32
    with pytest.raises(eqx.EquinoxRuntimeError, match="non-finite.*smaller input voltages"):
        ir_drop.column_currents_nonlinear(g, v, 1.0, 1.0, 3.0)
    with pytest.raises(jax.errors.JaxRuntimeError, match="non-finite.*smaller input voltages"):
        jax.jit(ir_drop.column_currents_nonlinear)(g, v, 1.0, 1.0, 3.0)


def test_nonlinear_without_convergence_raises(x64):
    g = np.full((4, 4), G_MAX)
    with pytest.raises(
        eqx.EquinoxRuntimeError, match="did not converge within max_iter.*smaller input voltages"
    ):
        ir_drop.column_currents_nonlinear(g, np.full(4, 40.0), 1.0, 1.0, 3.0, max_iter=20)


@pytest.mark.slow
def test_newton_takes_few_iterations(x64):
    """Guards the preconditioner: at r * g_max = 1e-4 a few Newton steps and CG iterations each suffice."""
    rng = np.random.default_rng(9)
    g, v = jnp.asarray(random_g(rng, 64, 64)), jnp.asarray(rng.uniform(-0.3, 0.3, (64, 4)))
    r = jnp.asarray(4.0)
    _, (newton_iterations, cg_iterations) = _solver._nonlinear(g, v, r, r, jnp.asarray(3.0), 1e-10, 50)
    assert newton_iterations <= 5
    assert cg_iterations <= 6 * newton_iterations


@pytest.mark.parametrize("shape", [(1, 1), (1, 13), (11, 1), (5, 3), (24, 40), (40, 24), (37, 29), (96, 20)])
@pytest.mark.parametrize("r_g", [1e-5, 1e-3, 1e-1])
@pytest.mark.slow
def test_float64_matrix_matches_scipy(shape, r_g, x64):
    """Every entry of W_eff within 1e-6 (relative to itself) of the nodal solve: non-powers of two, R > C."""
    rng = np.random.default_rng(sum(shape))
    g = random_g(rng, *shape)
    r_row, r_col = r_g / G_MAX, 0.7 * r_g / G_MAX
    expected = reference_linear(g, np.eye(shape[0]), r_row, r_col)
    w = np.asarray(ir_drop.effective_matrix(g, r_row, r_col))
    assert w.dtype == np.float64
    assert np.max(np.abs(w - expected) / expected) < 1e-6


@pytest.mark.parametrize("g_max", [25e-6, 1e-4])
@pytest.mark.slow
def test_float32_matrix_matches_float64(g_max):
    """float32 keeps every entry within 2e-5 of float64 (relative to itself) on a 128 x 256 tile at 1 ohm,
    where the IR drop is large (no pivot is a difference of wire conductances)."""
    g = np.random.default_rng(10).uniform(0, g_max, (128, 256))
    single = np.asarray(ir_drop.effective_matrix(g.astype(np.float32), 1.0, 1.0))
    with jax.enable_x64(True):
        double = np.asarray(ir_drop.effective_matrix(g, 1.0, 1.0))
    assert np.max(np.abs(single - double) / double) < 2e-5


@pytest.mark.slow
def test_jit_vmap_and_batch_shapes():
    rng = np.random.default_rng(7)
    gs, v = random_g(rng, 3, 6, 5).astype(np.float32), rng.uniform(-1, 1, (2, 4, 6)).astype(np.float32)
    eager = np.stack([ir_drop.column_currents(g, v, 50.0, 50.0) for g in gs])
    assert eager.shape == (3, 2, 4, 5)
    jitted = jax.jit(ir_drop.column_currents)(gs[0], v, 50.0, 50.0)
    assert relative_error(jitted, eager[0]) < 1e-6
    mapped = jax.vmap(ir_drop.column_currents, in_axes=(0, None, None, None))(gs, v, 50.0, 50.0)
    assert relative_error(mapped, eager) < 1e-6
    swept = jax.vmap(ir_drop.effective_matrix, in_axes=(None, 0, None))(gs[0], jnp.array([0.0, 50.0]), 50.0)
    assert relative_error(swept[1], ir_drop.effective_matrix(gs[0], 50.0, 50.0)) < 1e-6
    assert relative_error(swept[0], ir_drop.effective_matrix(gs[0], 0.0, 50.0)) < 1e-6
    chips = jax.vmap(ir_drop.effective_matrix, in_axes=(0, None, None))(gs, 50.0, 20.0)
    assert relative_error(chips, np.stack([ir_drop.effective_matrix(g, 50.0, 20.0) for g in gs])) < 1e-6
    nonlinear = ir_drop.column_currents_nonlinear(gs[0], 0.2 * v, 50.0, 50.0, 3.0)
    assert nonlinear.shape == (2, 4, 5)
    jitted = jax.jit(ir_drop.column_currents_nonlinear)(gs[0], 0.2 * v, 50.0, 50.0, 3.0)
    assert relative_error(jitted, nonlinear) < 1e-6
    mapped = jax.vmap(ir_drop.column_currents_nonlinear, in_axes=(0, None, None, None, None))(
        gs, 0.2 * v, 50.0, 50.0, 3.0
    )
    assert relative_error(mapped[0], nonlinear) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("iv_b", [None, 3.0])
def test_gradients_match_finite_differences(iv_b, x64):
    rng = np.random.default_rng(8)
    g, v = random_g(rng, 5, 4), rng.uniform(-0.3, 0.3, (3, 5))

    def loss(g, v, r_row):
        if iv_b is None:
            return jnp.sum(ir_drop.column_currents(g, v, r_row, 300.0) ** 2)
        return jnp.sum(ir_drop.column_currents_nonlinear(g, v, r_row, 300.0, iv_b) ** 2)

    grad_g, grad_v, grad_r = jax.grad(loss, argnums=(0, 1, 2))(g, v, 400.0)
    dg, dv = np.zeros_like(g), np.zeros_like(v)
    dg[2, 1], dv[1, 3] = 1e-9, 1e-6
    assert relative_error(grad_g[2, 1], (loss(g + dg, v, 400.0) - loss(g - dg, v, 400.0)) / 2e-9) < 1e-6
    assert relative_error(grad_v[1, 3], (loss(g, v + dv, 400.0) - loss(g, v - dv, 400.0)) / 2e-6) < 1e-6
    assert relative_error(grad_r, (loss(g, v, 400.01) - loss(g, v, 399.99)) / 0.02) < 1e-6


GOOD = {"g": np.full((3, 4), 1e-5), "v": np.ones((2, 3)), "r_row": 1.0, "r_col": 1.0}
BAD_INPUTS = [
    pytest.param("g", np.full(4, 1e-5), r"g: expected a 2-D array", id="g-1d"),
    pytest.param("g", np.full((3, 4), -1e-5), "g: expected finite conductances >= 0", id="g-negative"),
    pytest.param("g", np.full((3, 4), np.nan), "g: expected finite conductances >= 0", id="g-nan"),
    pytest.param("v", np.ones((2, 4)), r"v: expected shape \(\.\.\., 3\)", id="v-shape"),
    pytest.param("v", np.full(3, np.inf), "v: expected finite voltages", id="v-inf"),
    pytest.param("r_row", -1.0, "r_row: expected a finite number >= 0", id="r_row-negative"),
    pytest.param("r_col", np.inf, "r_col: expected a finite number >= 0", id="r_col-inf"),
    pytest.param("r_row", np.ones(2), "r_row: expected a scalar", id="r_row-array"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_INPUTS)
@pytest.mark.parametrize("solver", ["linear", "nonlinear"])
def test_bad_input_raises_value_error_naming_it(name, value, message, solver):
    args = {**GOOD, name: value}
    with pytest.raises(ValueError, match=message):
        if solver == "linear":
            ir_drop.column_currents(**args)
        else:
            ir_drop.column_currents_nonlinear(**args, iv_b=3.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"iv_b": -1.0}, "iv_b: expected a finite number >= 0"),
        ({"tol": 0.0}, "tol: expected"),
        ({"max_iter": 0}, "max_iter: expected"),
    ],
)
def test_bad_solver_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        ir_drop.column_currents_nonlinear(**GOOD, **{"iv_b": 3.0, **options})
