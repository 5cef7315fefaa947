"""Splitting a weight matrix into tile blocks of near-equal size, and putting the results back together."""

import math

import jax
import jax.numpy as jnp


def near_equal_split(size: int, max_block: int) -> tuple[int, int]:
    """Number of blocks and the (padded) block size for ``size`` items in blocks of at most ``max_block``."""
    blocks = math.ceil(size / max_block)
    return blocks, math.ceil(size / blocks)


def to_blocks(w: jax.Array, rows: int, cols: int) -> jax.Array:
    """(IN, OUT) -> (n_r, n_c, rows, cols), padded with zeros (False for a mask)."""
    n_in, n_out = w.shape
    n_r, n_c = -(-n_in // rows), -(-n_out // cols)
    padded = jnp.pad(w, ((0, n_r * rows - n_in), (0, n_c * cols - n_out)))
    return padded.reshape(n_r, rows, n_c, cols).transpose(0, 2, 1, 3)


def inputs_to_blocks(x: jax.Array, n_r: int, rows: int) -> jax.Array:
    """(B, IN) -> (n_r, B, rows), zero-padded."""
    if n_r * rows != x.shape[-1]:
        x = jnp.pad(x, ((0, 0), (0, n_r * rows - x.shape[-1])))
    return x.reshape(x.shape[0], n_r, rows).transpose(1, 0, 2)


def outputs_from_blocks(y: jax.Array, n_out: int) -> jax.Array:
    """(n_c, B, cols) -> (B, OUT), padding dropped."""
    n_c, batch, cols = y.shape
    y = y[0] if n_c == 1 else y.transpose(1, 0, 2).reshape(batch, n_c * cols)
    return y if y.shape[1] == n_out else y[:, :n_out]
