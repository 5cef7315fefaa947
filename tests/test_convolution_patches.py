"""convolution_patches: the library's patch extraction, channels last, bit for bit, and its gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crossbar.networks._patches import convolution_patches

# (input shape (B, C, *spatial), kernel size, strides, (begin, end) pads, dilations)
_WINDOWS = [
    ((2, 3, 8, 8), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((2, 3, 7, 6), (2, 3), (1, 2), ((1, 1), (0, 2)), (1, 1)),
    ((2, 4, 12), (3,), (2,), ((2, 1),), (2,)),
    ((1, 2, 5, 6, 7), (2, 3, 2), (2, 1, 3), ((1, 0), (1, 1), (0, 2)), (1, 2, 1)),
    ((3, 1, 9, 9), (1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),
]


def _library_patches(x, kernel_size, strides, pads, dilations):
    spatial = "DHW"[-len(kernel_size) :]
    numbers = (f"NC{spatial}", f"OI{spatial}", f"NC{spatial}")
    return jax.lax.conv_general_dilated_patches(
        x, kernel_size, strides, pads, rhs_dilation=dilations, dimension_numbers=numbers
    )


@pytest.mark.parametrize("window", _WINDOWS, ids=str)
def test_patches_equal_the_library_bit_for_bit_and_differentiate_alike(window):
    shape, *rest = window
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    expected = np.moveaxis(np.asarray(_library_patches(x, *rest)), 1, -1)
    got = np.asarray(convolution_patches(x, *rest))
    np.testing.assert_array_equal(got, expected)

    cotangent = rng.normal(size=expected.shape).astype(np.float32)
    _, pull_library = jax.vjp(lambda x: jnp.moveaxis(_library_patches(x, *rest), 1, -1), x)
    _, pull = jax.vjp(lambda x: convolution_patches(x, *rest), x)
    # Both sum the same cotangents into each input (at most prod(kernel) terms), in different orders: the
    # rounding of a sum of n terms is at most n eps times the sum of their magnitudes.
    n = int(np.prod(rest[0]))
    bound = n * np.finfo(np.float32).eps * np.asarray(pull(np.abs(cotangent))[0])
    assert np.all(np.abs(pull(cotangent)[0] - pull_library(cotangent)[0]) <= bound)
