"""A sweep's points, built as they are asked for: every combination of the grid axes' values (the last axis
fastest), each with every joint draw of the random axes (innermost)."""

import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np


class Points(Sequence):
    """Point ``i`` as a mapping (parameter path -> value), without holding all of them.

    Args:
        grid: grid axis -> its values, in order.
        draws: the random axes' joint draws (one mapping each); ``[{}]`` without random axes.
    """

    def __init__(self, grid: dict[str, list], draws: list[dict]):
        self.grid = grid
        self.draws = draws
        sizes = [len(values) for values in grid.values()]
        # points between consecutive values of each grid axis
        self._strides = [math.prod(sizes[k + 1 :]) * len(draws) for k in range(len(sizes))]
        self._length = math.prod(sizes) * len(draws)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> dict:
        if not -self._length <= index < self._length:
            raise IndexError(f"point {index} of {self._length}")
        index %= self._length
        point = {
            name: values[index // stride % len(values)]
            for (name, values), stride in zip(self.grid.items(), self._strides, strict=True)
        }
        return point | self.draws[index % len(self.draws)]

    def __iter__(self) -> Iterator[dict]:
        for combination in itertools.product(*self.grid.values()):
            grid = dict(zip(self.grid, combination, strict=True))
            for draw in self.draws:
                yield grid | draw

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def first_with(self, axis: str, position: int) -> int:
        """The first point whose value of ``axis`` is its ``position``-th (a grid value or a draw)."""
        if axis in self.grid:
            return position * self._strides[list(self.grid).index(axis)]
        return position

    def positions(self, axis: str, indices: np.ndarray) -> np.ndarray:
        """For each point of ``indices``, the position of its value of ``axis`` (in the grid's values, or the
        draw's index)."""
        if axis in self.grid:
            stride = self._strides[list(self.grid).index(axis)]
            return indices // stride % len(self.grid[axis])
        return indices % len(self.draws)

    def groups(self, axes: list[str]) -> list[np.ndarray]:
        """Point indices grouped by their values of ``axes`` (values alike in type and text group together),
        each group ascending, the groups in the order of their first points."""
        indices = np.arange(len(self))
        if not axes:
            return [indices]
        codes = []
        for axis in axes:
            kinds: dict = {}
            code = np.array([kinds.setdefault((type(v), repr(v)), len(kinds)) for v in self.values(axis)])
            codes.append(code[self.positions(axis, indices)])
        _, first, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
        return [members[group] for group in np.argsort(first)]

    def values(self, axis: str) -> list:
        """The values of ``axis`` by position: the grid's, or one per draw."""
        return self.grid[axis] if axis in self.grid else [draw[axis] for draw in self.draws]
