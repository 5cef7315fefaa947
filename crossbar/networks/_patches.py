"""A convolution's input patches, gathered by strided slices.

The values are ``jax.lax.conv_general_dilated_patches``'s, bit for bit (features channel-major, then the
kernel offsets in row-major order), laid out channels last. It is data movement only: its transpose, which
training needs, is a sum of padded slices, where the transpose of the library's patch extraction is a grouped
convolution that XLA:CPU ran several times slower than the whole digital training step of a small ResNet.
"""

import itertools

import jax
import jax.numpy as jnp
from jax import lax


def convolution_patches(
    x: jax.Array,
    kernel_size: tuple[int, ...],
    strides: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    dilations: tuple[int, ...],
) -> jax.Array:
    """Patches (B, *out, C * prod(kernel_size)) of inputs x (B, C, *spatial) for a convolution window.

    ``strides``, ``pads`` ((begin, end) per spatial axis, zeros added) and ``dilations`` (of the kernel) as
    ``jax.lax.conv_general_dilated`` takes them; feature ``c * prod(kernel_size) + k`` is channel c at the
    k-th kernel offset, offsets in row-major order. Built channels-last, so the rows of the matrix product
    are one copy of the inputs per kernel offset and no relayout of the patches.
    """
    last = jnp.moveaxis(x, 1, -1)  # (B, *spatial, C)
    no_pad = [(0, 0, 0)]
    padded = lax.pad(last, jnp.zeros((), x.dtype), no_pad + [(lo, hi, 0) for lo, hi in pads] + no_pad)
    out = [
        (size - dilation * (k - 1) - 1) // stride + 1
        for size, k, stride, dilation in zip(padded.shape[1:-1], kernel_size, strides, dilations, strict=True)
    ]
    taps = []
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        start = [0] + [o * d for o, d in zip(offset, dilations, strict=True)] + [0]
        steps = zip(start[1:-1], out, strides, strict=True)
        limit = [padded.shape[0]] + [s + (n - 1) * step + 1 for s, n, step in steps] + [padded.shape[-1]]
        taps.append(lax.slice(padded, start, limit, (1, *strides, 1)))
    patches = jnp.stack(taps, axis=-1)  # (B, *out, C, K)
    return patches.reshape(*patches.shape[:-2], -1)
