"""Gaussian and uniform draws from Threefry-2x32, unrolled so that XLA fuses them with their consumers.

The generator is the one ``jax.random`` uses by default, Threefry-2x32 with 20 rounds (Salmon et al.,
"Parallel random numbers: as easy as 1, 2, 3", SC 2011; checked against the Random123 known-answer
vectors in the tests). JAX lowers it on CPU as a rolled loop that materializes every round; written out
here, the whole draw fuses into one elementwise kernel, about twice as fast on CPU, and the hot paths of
the emulator (programming, reading, output noise) are bound by random numbers. Keys are ordinary JAX keys.
"""

import jax
import jax.numpy as jnp
import numpy as np

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA
_TIME_DOMAIN = 0x74696D65  # "time"


def _rotate_left(x: jax.Array, d: int) -> jax.Array:
    return (x << np.uint32(d)) | (x >> np.uint32(32 - d))


def threefry2x32(k0: jax.Array, k1: jax.Array, x0: jax.Array, x1: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Threefry-2x32-20 of the counter words (x0, x1) under the key words (k0, k1); all uint32."""
    schedule = (k0, k1, k0 ^ k1 ^ np.uint32(_PARITY))
    x0, x1 = x0 + k0, x1 + k1
    for i in range(5):
        for rotation in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = _rotate_left(x1, rotation) ^ x0
        x0 = x0 + schedule[(i + 1) % 3]
        x1 = x1 + schedule[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def _key_words(key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Two uint32 words from a JAX key (typed or raw; other generators are hashed to two words)."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = jax.random.key_data(key)
        words = data if data.shape[-1] == 2 else jax.random.bits(key, (2,), jnp.uint32)
    else:
        words = key
    return words[..., 0], words[..., 1]


def random_words(key: jax.Array, count: int) -> jax.Array:
    """``count`` uniformly random uint32 words: block i of the stream is Threefry of the counter (i, 0)."""
    k0, k1 = _key_words(key)
    blocks = -(-count // 2)
    counter = jax.lax.iota(jnp.uint32, blocks)
    y0, y1 = threefry2x32(k0, k1, counter, jnp.zeros_like(counter))
    return jnp.stack([y0, y1], axis=-1).reshape(-1)[:count]


def uniform(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    """Uniform in [0, 1): 23 random mantissa bits for float32, 52 for float64 (two words each)."""
    dtype = jnp.dtype(dtype)
    n = int(np.prod(shape))
    if dtype == jnp.float64:
        words = random_words(key, 2 * n).reshape(n, 2).astype(jnp.uint64)
        bits = ((words[:, 0] << np.uint64(32)) | words[:, 1]) >> np.uint64(12)
        one = jax.lax.bitcast_convert_type(bits | np.uint64(0x3FF0000000000000), jnp.float64)
    else:
        bits = random_words(key, n) >> np.uint32(9)
        one = jax.lax.bitcast_convert_type(bits | np.uint32(0x3F800000), jnp.float32)
    return (one - 1.0).reshape(shape).astype(dtype)


def normal(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    """Standard normal draws of ``shape``, by the inverse error function as ``jax.random.normal`` does."""
    dtype = jnp.dtype(dtype)
    low = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    u = jnp.maximum(low, uniform(key, shape, dtype) * (1.0 - low) + low)
    return np.sqrt(2.0).astype(dtype) * jax.lax.erf_inv(u)


def time_tag(key: jax.Array, t: jax.Array) -> jax.Array:
    """A key for snapshot draws at time ``t``: independent for distinct times, repeatable for equal ones.

    All bits of ``t`` count, so with 64-bit floats two times closer than float32 resolves still differ.
    A domain constant comes first, so that no time (t = 0 included) reproduces a ``split`` or ``fold_in``
    of the same key made for another purpose.
    """
    key = jax.random.fold_in(key, _TIME_DOMAIN)
    words = jax.lax.bitcast_convert_type(jnp.asarray(t), jnp.uint32).reshape(-1)
    for i in range(words.shape[0]):
        key = jax.random.fold_in(key, words[i])
    return key
