"""Tiles solved one after another (``crossbar.array._tile_ir_drop``) give what vectorized solves give: values,
reverse-mode gradients, and under an outer vmap (trials, sweep points)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crossbar import ir_drop
from crossbar.array._tile_ir_drop import effective_tiles

G = jax.random.uniform(jax.random.key(0), (3, 2, 12, 20), jnp.float32, 0.0, 25.0)  # uS


def vectorized(g, r_row, r_col, model):
    tile = lambda t: ir_drop.effective_matrix(t * 1e-6, r_row, r_col, model=model) * 1e6  # noqa: E731
    return jax.vmap(jax.vmap(tile))(g)


@pytest.mark.parametrize("model", ["approximate", pytest.param("exact", marks=pytest.mark.slow)])
def test_values_and_gradients_match_the_vectorized_solve(model):
    np.testing.assert_allclose(effective_tiles(G, 3.0, 1.5, model), vectorized(G, 3.0, 1.5, model), rtol=2e-6)

    def loss(solve):
        return lambda g, r: jnp.sum(jnp.sin(solve(g, r, 0.5 * r, model)))

    ours = jax.grad(loss(effective_tiles), argnums=(0, 1))(G, 3.0)
    theirs = jax.grad(loss(vectorized), argnums=(0, 1))(G, 3.0)
    # the exact model's gradients are implicit, through solves to a float32 tolerance of 1e-6
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5 * float(jnp.abs(theirs[0]).max()))
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4)


@pytest.mark.slow
def test_an_outer_vmap_over_wire_resistance_matches_one_call_per_value():
    resistances = jnp.array([0.0, 1.0, 4.0])
    swept = jax.vmap(lambda r: effective_tiles(G, r, r, "approximate"))(resistances)
    for r, values in zip(resistances, swept, strict=True):
        np.testing.assert_allclose(values, effective_tiles(G, r, r, "approximate"), rtol=2e-6)
    gradients = jax.vmap(jax.grad(lambda r: jnp.sum(effective_tiles(G, r, r, "approximate"))))(resistances)
    assert np.all(np.diff(np.asarray(gradients)) > 0) and np.all(np.asarray(gradients) < 0)
