"""The unrolled Threefry generator: known answers, distribution, keys."""

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from emulator_common.random import normal, threefry2x32, uniform

# Random123 known-answer vectors for Threefry-2x32 with 20 rounds: (key, counter) -> output.
KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("key, counter, expected", KNOWN_ANSWERS)
def test_threefry_matches_the_known_answers(key, counter, expected):
    words = [jnp.uint32(w) for w in (*key, *counter)]
    out = threefry2x32(*words)
    assert (int(out[0]), int(out[1])) == expected


def test_threefry_agrees_with_jax():
    key = jax.random.key(7)
    k0, k1 = jax.random.key_data(key)
    x = jnp.arange(10, dtype=jnp.uint32)
    ours = threefry2x32(k0, k1, x[:5], x[5:])
    theirs = jax.extend.random.threefry_2x32(jnp.stack([k0, k1]), x)
    np.testing.assert_array_equal(jnp.concatenate(ours), theirs)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.slow
def test_normal_moments_and_tails(dtype):
    n = 1_000_000
    with jax.enable_x64(dtype == jnp.float64):
        z = np.asarray(normal(jax.random.key(1), (n,), dtype), dtype=np.float64)
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.std() - 1) < 5 / np.sqrt(2 * n)
    # fraction beyond 2 sigma: p = 0.0455, binomial standard error sqrt(p (1 - p) / n)
    p = 0.0455003
    assert abs(np.mean(np.abs(z) > 2) - p) < 5 * np.sqrt(p * (1 - p) / n)
    assert np.all(np.isfinite(z))


def test_uniform_range_and_mean():
    n = 1_000_000
    u = np.asarray(uniform(jax.random.key(2), (n,)))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)


def test_distinct_keys_give_independent_streams_and_equal_keys_equal_ones():
    k1, k2 = jax.random.split(jax.random.key(3))
    a, b = normal(k1, (100_000,)), normal(k2, (100_000,))
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(100_000)
    np.testing.assert_array_equal(a, normal(k1, (100_000,)))


def test_works_under_vmap_over_keys_and_with_other_generators():
    keys = jax.random.split(jax.random.key(4), 3)
    batched = jax.vmap(lambda k: normal(k, (5,)))(keys)
    np.testing.assert_array_equal(batched[1], normal(keys[1], (5,)))
    rbg = normal(jax.random.key(0, impl="rbg"), (1000,))
    assert np.all(np.isfinite(rbg)) and abs(float(rbg.mean())) < 0.2


def test_time_keys_never_repeat_a_split_or_fold_in_of_the_same_key():
    from emulator_common.random import time_tag

    key = jax.random.key(5)
    tagged = jax.random.key_data(time_tag(key, 0.0))
    others = [jax.random.fold_in(key, i) for i in range(4)] + list(jax.random.split(key, 4))
    assert not any(bool(jnp.all(jax.random.key_data(k) == tagged)) for k in others)
