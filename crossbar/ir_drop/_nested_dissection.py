"""Exact distorted matrix of a linear tile by nested dissection in conductance form (docs/models.md 6.3).

SI units: conductance in S, wire resistance in ohm.

A block of h x w cells is kept as the network of effective conductances among its boundary nodes, in groups
[left row nodes (h), right row nodes (h), top column nodes (w), bottom column nodes (w)]: a dense symmetric
matrix of nonnegative conductances with a zero diagonal. A block owns its cells' devices, the row segment
left of each cell and the column segment below it, so its left and bottom nodes are its neighbours' (or the
drivers and the virtual grounds) and two adjacent blocks share the nodes of their interface. Merging two
blocks adds their networks and eliminates the shared nodes I, keeping B:

    A'_BB = A_BB + A_BI K^-1 A_IB,    K = D_I - A_II,    D_I = row sums of A_I. over all nodes,

which ``_factor`` evaluates with sums of nonnegative terms only: every pivot is the total conductance its
node still has, never a difference of large wire conductances, so float32 keeps its precision. Open ends
(the right nodes once a block spans the tile's width, the top nodes once it spans its height) are
eliminated with the shared nodes.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_LEAF_MAX = 8  # largest leaf side in cells: a side is padded to m * 2^p cells with m <= _LEAF_MAX
_SMALL = 8  # eliminations of at most this many nodes update the rest elementwise, larger ones by matmul
_CHUNK = 32  # most nodes eliminated one by one (rank-1 updates) between matrix-product updates


def nested_dissection_matrix(g: jax.Array, r_row: jax.Array, r_col: jax.Array) -> jax.Array:
    """W_eff (R, C) in S for devices ``g`` (R, C) in S and wire segments ``r_row``, ``r_col`` > 0 in ohm:
    the transfer conductances from the drivers to the virtual grounds."""
    rows, cols = g.shape
    size = (_padded(rows), _padded(cols))
    g = jnp.pad(g, ((size[0] - rows, 0), (0, size[1] - cols)))  # beyond the open ends: no current
    a, shape = _cells(g, 1 / r_row, 1 / r_col), (1, 1, True, True)
    merges = _schedule(size)
    if not merges:  # one cell
        left, right, top, bottom = _groups(shape)
        order = np.concatenate([right, top, left, bottom])
        return _transfer([(a[0, 0], order)], len(right) + len(top), 1)
    for number, (axis, count) in enumerate(merges):
        runs = a.reshape(*a.shape[:axis], a.shape[axis] // count, count, *a.shape[axis + 1 :])
        part = [lax.index_in_dim(runs, t, axis + 1, keepdims=False) for t in range(count)]
        a, unit = part[0], shape
        for t in range(1, count):
            (first, shape1), (second, shape2) = _opened((a, shape), (part[t], unit), axis, size)
            parts, k, shape = _union(first, second, shape1, shape2, axis)
            if number == len(merges) - 1 and t == count - 1:
                return _transfer([(p[0, 0], i) for p, i in parts], k, size[0])[size[0] - rows :, :cols]
            a = _eliminated(parts, k)
    raise AssertionError("unreachable: the last merge returns")


def _schedule(size) -> list[tuple[int, int]]:
    """Merges (grid axis, blocks merged) for a tile of ``size`` cells: leaves of m_r x m_c cells (the odd
    parts of the sides) merged cell by cell, then pairs, alternating so that blocks stay near square."""
    leaf = [_odd_part(size[0]), _odd_part(size[1])]
    merges = [(1, leaf[1]), (0, leaf[0])]
    grid = [size[0] // leaf[0], size[1] // leaf[1]]
    while grid != [1, 1]:
        axis = 1 if grid[1] > 1 and (leaf[1] <= leaf[0] or grid[0] == 1) else 0
        merges.append((axis, 2))
        grid[axis], leaf[axis] = grid[axis] // 2, leaf[axis] * 2
    return [m for m in merges if m[1] > 1]


def _odd_part(n: int) -> int:
    while n % 2 == 0:
        n //= 2
    return n


def _padded(n: int) -> int:
    """The least m * 2^p >= n with m <= _LEAF_MAX."""
    p = 0
    while -(-n // 2**p) > _LEAF_MAX:
        p += 1
    return -(-n // 2**p) * 2**p


def _cells(g: jax.Array, g_row: jax.Array, g_col: jax.Array) -> jax.Array:
    """Networks (R, C, 4, 4) of single cells, nodes [left, right, top, bottom]: row segment left-right,
    device right-top, column segment top-bottom."""
    zero = jnp.zeros_like(g)
    row, col = jnp.broadcast_to(g_row, g.shape), jnp.broadcast_to(g_col, g.shape)
    rows = [[zero, row, zero, zero], [row, zero, g, zero], [zero, g, zero, col], [zero, zero, col, zero]]
    return jnp.stack([jnp.stack(r, -1) for r in rows], -2)


def _groups(shape) -> list[np.ndarray]:
    """Node indices of a block's [left, right, top, bottom] groups; ``shape`` = (h, w, has right, has top)."""
    h, w, right, top = shape
    sizes = [h, h * right, w * top, w]
    return np.split(np.arange(sum(sizes)), np.cumsum(sizes)[:-1])


def _opened(first, second, axis: int, size):
    """The two (block, shape) pairs of a merge with the groups that will be open ends of the merged block
    eliminated: its right nodes once it spans the tile's width, its top nodes once it spans its height."""
    (h1, w1, *_), (h2, w2, *_) = first[1], second[1]
    full_width, full_height = (w1 + w2 if axis else w1) == size[1], (h1 if axis else h1 + h2) == size[0]
    right = (False, full_width) if axis else (full_width, full_width)
    top = (full_height, full_height) if axis else (full_height, False)
    return tuple(_without_groups(*b, r, t) for b, r, t in zip((first, second), right, top, strict=True))


def _without_groups(a: jax.Array, shape, right: bool, top: bool):
    """Block ``a`` with its right and/or top nodes eliminated."""
    h, w, has_right, has_top = shape
    right, top = right and has_right, top and has_top
    if not (right or top):
        return a, shape
    left_nodes, right_nodes, top_nodes, bottom_nodes = _groups(shape)
    gone = [right_nodes] * right + [top_nodes] * top
    kept = [left_nodes] + [right_nodes] * (not right) + [top_nodes] * (not top) + [bottom_nodes]
    order = np.concatenate(gone + kept)
    k = sum(map(len, gone))
    return _eliminated([(a, order)], k), (h, w, has_right and not right, has_top and not top)


def _union(first, second, shape1, shape2, axis: int):
    """The network of two blocks side by side (axis 1) or ``first`` above ``second`` (axis 0) as parts
    (block, indices) for ``_gathered``, its nodes ordered [shared (k), the merged block's groups]; also k
    and the merged block's shape."""
    left1, right1, top1, bottom1 = _groups(shape1)
    left2, right2, top2, bottom2 = _groups(shape2)
    if axis == 1:
        shared = (right1, left2)
        kept = [(left1, None), (None, right2), (top1, None), (None, top2), (bottom1, None), (None, bottom2)]
        shape = (shape1[0], shape1[1] + shape2[1], shape2[2], shape1[3])
    else:
        shared = (bottom1, top2)
        kept = [(left1, None), (None, left2), (right1, None), (None, right2), (top1, None), (None, bottom2)]
        shape = (shape1[0] + shape2[0], shape1[1], shape1[2], shape1[3])
    nodes = [shared, *kept]
    n1, n2 = sum(map(len, _groups(shape1))), sum(map(len, _groups(shape2)))
    one = np.concatenate([p if p is not None else np.full(len(q), n1) for p, q in nodes])
    two = np.concatenate([q if q is not None else np.full(len(p), n2) for p, q in nodes])
    return [(first, one), (second, two)], len(shared[0]), shape


def _gathered(parts, rows: slice, cols: slice) -> jax.Array:
    """Rows and columns of the network ``sum(a[index][:, index])`` of parts (a, index), where an index
    equal to a's node count stands for no node of a."""
    return sum(_taken(_taken(a, index[rows], -2), index[cols], -1) for a, index in parts)


def _taken(a: jax.Array, index: np.ndarray, axis: int) -> jax.Array:
    """``a`` indexed along ``axis`` (0 where ``index`` is out of range): concatenated static slices, which
    XLA fuses into their consumer (a gather would not keep the blocks' memory order)."""
    n, pieces, start = a.shape[axis], [], 0
    while start < len(index):
        stop, first = start + 1, index[start]
        while stop < len(index) and index[stop] == first + stop - start and (first < n) == (index[stop] < n):
            stop += 1
        if first < n:
            pieces.append(lax.slice_in_dim(a, first, first + stop - start, axis=axis))
        else:
            zero_shape = list(a.shape)
            zero_shape[axis] = stop - start
            pieces.append(jnp.zeros(zero_shape, a.dtype))
        start = stop
    return jnp.concatenate(pieces, axis=axis)


def _eliminated(parts, k: int) -> jax.Array:
    """The network (..., n-k, n-k) of the parts' union (``_gathered``) with its first k nodes eliminated."""
    y = _factor(_gathered(parts, slice(k), slice(None)))
    out = _gathered(parts, slice(k, None), slice(k, None))
    if k <= _SMALL:  # one elementwise pass
        out = sum((y[..., q, :, None] * y[..., q, None, :] for q in range(k)), start=out)
    else:
        out = out + jnp.swapaxes(y, -1, -2) @ y
    return _without_diagonal(out)


def _transfer(parts, k: int, rows: int) -> jax.Array:
    """Conductances (rows, n-k-rows) between the ``rows`` nodes after the first k of the parts' union
    (``_gathered``) and the rest, once the first k are eliminated."""
    direct = _gathered(parts, slice(k, k + rows), slice(k + rows, None))
    if k == 0:
        return direct
    y = _factor(_gathered(parts, slice(k), slice(None)))
    return direct + y[:, :rows].T @ y[:, rows:]


def _factor(a: jax.Array) -> jax.Array:
    """``Y = L^-1 A_IB`` (..., k, n-k) for the first k nodes I of a network, given their rows ``a``
    (..., k, n), with ``L L^T = D_I - A_II`` as in the module docstring: then ``A'_BB = A_BB + Y^T Y``.

    Nodes are eliminated in order, each from its row updated by the earlier ones (star-mesh): its pivot is
    the sum of that row. Chunks of up to ``_CHUNK`` nodes are eliminated one by one; each chunk then
    updates all rows by one matrix product.
    """
    k, n = a.shape[-2:]
    if k <= _CHUNK:
        return _factor_rows(a, 0)[..., k:]
    chunk = max(c for c in range(1, _CHUNK + 1) if k % c == 0)

    def eliminate(rows, start):
        y = _factor_rows(lax.dynamic_slice_in_dim(rows, start, chunk, axis=-2), start)
        return rows + jnp.swapaxes(y[..., :k], -1, -2) @ y, y[..., k:]

    _, y = lax.scan(eliminate, a, jnp.arange(0, k, chunk))
    return jnp.moveaxis(y, 0, -3).reshape(*a.shape[:-2], k, n - k)


def _factor_rows(a: jax.Array, start) -> jax.Array:
    """Rows (..., c, n) of ``L^-1 A_I.`` for nodes ``start .. start + c - 1`` from their rows ``a``, by c
    rank-1 (star-mesh) updates; columns up to each row's node are 0. Nodes before ``start`` are gone."""
    c, n = a.shape[-2:]
    row, col = lax.iota(int, c)[:, None], lax.iota(int, n)[None, :]

    def eliminate(t, a):
        pivot = jnp.where(col > start + t, lax.dynamic_index_in_dim(a, t, -2), 0)  # (..., 1, n)
        d = jnp.sum(pivot, axis=-1, keepdims=True)
        weight = jnp.where(row > t, lax.dynamic_index_in_dim(a, start + t, -1), 0) / d  # (..., c, 1)
        a = jnp.where((col > start + t) & (col != start + row), a + weight * pivot, a)
        return jnp.where(row == t, pivot / jnp.sqrt(d), a)

    return lax.fori_loop(0, c, eliminate, a)


def _without_diagonal(a: jax.Array) -> jax.Array:
    """``a`` (..., k, n) with ``a[..., i, i] = 0``."""
    k, n = a.shape[-2:]
    return jnp.where(lax.iota(int, k)[:, None] == lax.iota(int, n)[None, :], 0, a)
