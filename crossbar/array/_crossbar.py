"""A crossbar configuration, and running a weight matrix on it: program, read at a time t, multiply."""

import functools
import operator

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from device_models import PCM, AbstractDevice, DeviceState, sinh_current
from emulator_common.random import time_tag
from emulator_common.validation import (
    as_optional_array,
    require_choice,
    require_finite,
    require_finite_nonnegative,
    require_integer,
    require_shape,
)

from .. import ir_drop
from ._drift_compensation import DRIFT_COMPENSATION, compensation_factor, mean_abs_output
from ._periphery import Periphery, managed_mvm
from ._tile_ir_drop import effective_tiles
from ._tiling import inputs_to_blocks, near_equal_split, outputs_from_blocks, to_blocks
from ._weight_mapping import WeightMapping

IR_DROP_MODELS = (*ir_drop.EFFECTIVE_MATRIX_MODELS, "none")
"""How a crossbar's wires distort its reads (``Crossbar.ir_drop``)."""

MAX_TILE_SIZE = 2**24
"""The most rows or columns a tile (or its physical array) may have; real arrays have thousands."""


class Targets(eqx.Module):
    """What to program for a weight matrix (IN, OUT) on a grid of n_r x n_c tiles of R x C weights, and how
    to read it back.

    Attributes:
        g: conductances to program (uS) (n_r, n_c, R, physical columns).
        w_max: weight mapped to the full conductance range, per tile (n_r, n_c, 1, 1).
        valid: which weights of the tile grid are real, not padding (n_r, n_c, R, C).
        stuck_mask: a chip's measured faults (n_r, n_c, R, physical columns) (0 healthy, 1 stuck at g_min,
            2 stuck at g_max), or ``None``.
        column_gain, column_offset: analog gain and offset (output units) of each tile column
            (n_r, n_c, 1, C), or ``None``.
        row_gain: analog gain of each row's DAC (n_r, n_c, R, 1), or ``None``: it scales the row's voltage.
        shape: (IN, OUT) (static).
    """

    g: jax.Array
    w_max: jax.Array
    valid: jax.Array
    stuck_mask: jax.Array | None
    column_gain: jax.Array | None
    column_offset: jax.Array | None
    row_gain: jax.Array | None
    shape: tuple[int, int] = eqx.field(static=True)


class ProgrammedMatrix(eqx.Module):
    """A weight matrix (IN, OUT) programmed onto a grid of n_r x n_c tiles of R x C weights.

    Attributes:
        state: device state of every cell (n_r, n_c, R, physical columns).
        w_max, valid, column_gain, column_offset, row_gain, shape: as in ``Targets``.
        baseline: drift-compensation readout right after programming, or ``None``.
    """

    state: DeviceState
    w_max: jax.Array
    valid: jax.Array
    baseline: jax.Array | None
    column_gain: jax.Array | None
    column_offset: jax.Array | None
    row_gain: jax.Array | None
    shape: tuple[int, int] = eqx.field(static=True)


class ReadMatrix(eqx.Module):
    """A programmed matrix as it reads at one time: the weights each tile now holds.

    Attributes:
        w: weights per tile (n_r, n_c, R, C), in the units of the programmed matrix; padding is zero. With a
            nonlinear response (below) this is its small-signal matrix, used for gradients.
        g: conductances (uS) (n_r, n_c, R, physical columns) when inputs must be solved one by one
            (amplitude encoding, nonlinear I-V and IR drop), else ``None``.
        w_max: as in ``ProgrammedMatrix``.
        compensation: drift-compensation output scale (n_r, n_c, 1 or C), or ``None``.
        column_gain, column_offset, row_gain, shape: as in ``ProgrammedMatrix`` (``w`` holds the row gain
            already; a nonlinear response applies it to the row voltages).
    """

    w: jax.Array
    g: jax.Array | None
    w_max: jax.Array
    compensation: jax.Array | None
    column_gain: jax.Array | None
    column_offset: jax.Array | None
    row_gain: jax.Array | None
    shape: tuple[int, int] = eqx.field(static=True)


class Crossbar(eqx.Module):
    """How weight matrices run on crossbar tiles. Numeric fields are arrays, so a sweep can vmap over them.

    Attributes:
        device: the device model of every cell.
        periphery: DAC, ADC, output noise, noise and bound management.
        mapping: weights to conductances (differential pairs or a reference column; w_max choice).
        tile_rows, tile_cols: largest block of weights (inputs x outputs) one tile holds (static).
        array_rows, array_cols: the physical array of a tile (rows, device columns), e.g. from a chip's
            calibration profile, or ``None`` when not constrained; a tile must fit in it (static).
        r_row, r_col: wire resistance of one row / column segment (ohm); ``None`` for ideal wires.
        ir_drop: how wires distort each read: ``"exact"`` (the network solved), ``"approximate"`` (each line
            solved on its own, linear devices only) or ``"none"`` (wires ignored) (static).
        drift_compensation: ``"none"``, ``"global"`` (one factor per tile) or ``"per_column"`` (static).
        column_correction: undo each column's known gain and offset in digital after its ADC, as a
            calibrated chip does; off, they remain as analog errors (static).
    """

    device: AbstractDevice = PCM()
    periphery: Periphery = Periphery()
    mapping: WeightMapping = WeightMapping()
    tile_rows: int = eqx.field(static=True, default=512)
    tile_cols: int = eqx.field(static=True, default=512)
    array_rows: int | None = eqx.field(static=True, default=None)
    array_cols: int | None = eqx.field(static=True, default=None)
    r_row: jax.Array | None = eqx.field(converter=as_optional_array, default=None)
    r_col: jax.Array | None = eqx.field(converter=as_optional_array, default=None)
    ir_drop: str = eqx.field(static=True, default="exact")
    drift_compensation: str = eqx.field(static=True, default="none")
    column_correction: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        for name in ("tile_rows", "tile_cols", "array_rows", "array_cols"):
            if getattr(self, name) is not None:
                require_integer(name, getattr(self, name), 1, maximum=MAX_TILE_SIZE)
        if self.array_rows is not None and self.tile_rows > self.array_rows:
            raise ValueError(
                f"tile_rows: expected at most array_rows = {self.array_rows} (the physical array), "
                f"got {self.tile_rows}"
            )
        needed = self.mapping.physical_columns(self.tile_cols)
        if self.array_cols is not None and needed > self.array_cols:
            raise ValueError(
                f"tile_cols: {self.tile_cols} weight columns need {needed} device columns with the "
                f"{self.mapping.scheme} mapping, but the physical array has array_cols = {self.array_cols}"
            )
        for name in ("r_row", "r_col"):
            if getattr(self, name) is not None:
                require_finite_nonnegative(name, getattr(self, name))
        require_choice("drift_compensation", self.drift_compensation, DRIFT_COMPENSATION)
        require_choice("ir_drop", self.ir_drop, IR_DROP_MODELS)
        if self.ir_drop == "approximate" and self.has_ir_drop and self.bends_inputs():
            raise ValueError(
                "ir_drop: the approximate model is defined for linear devices; amplitude-encoded inputs on "
                "a nonlinear I-V (device.iv_b != 0) need exact (or none, or pulse_width encoding)"
            )

    def tile_grid(self, shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """(n_r, n_c, R, C) for a weight matrix of ``shape`` (IN, OUT): near-equal splits."""
        n_r, rows = near_equal_split(shape[0], self.tile_rows)
        n_c, cols = near_equal_split(shape[1], self.tile_cols)
        return n_r, n_c, rows, cols

    def targets(
        self,
        w: jax.Array,
        *,
        stuck_mask: jax.Array | None = None,
        column_gain: jax.Array | None = None,
        column_offset: jax.Array | None = None,
    ) -> Targets:
        """Conductance targets of weights ``w`` (IN, OUT) on tiles, each tile scaled to its own abs-max (or
        percentile). ``stuck_mask`` (n_r, n_c, R, physical columns), ``column_gain`` and ``column_offset``
        (n_r, n_c, 1, C) describe a real chip's tiles (see ``tile_grid``); all optional."""
        w = jnp.asarray(w)
        if w.ndim != 2 or 0 in w.shape:
            raise ValueError(
                f"w: expected a non-empty 2-D weight matrix (inputs, outputs), got shape {w.shape}"
            )
        require_finite("w", w)
        w = w.astype(jnp.result_type(w, float))
        n_r, n_c, rows, cols = self.tile_grid(w.shape)
        physical = (n_r, n_c, rows, self.mapping.physical_columns(cols))
        if stuck_mask is not None:
            require_shape("stuck_mask", stuck_mask, physical, "(n_r, n_c, rows, physical columns)")
        for name, per_column in (("column_gain", column_gain), ("column_offset", column_offset)):
            if per_column is not None:
                require_shape(name, per_column, (n_r, n_c, 1, cols), "(n_r, n_c, 1, columns)")
                require_finite(name, per_column)
        blocks = to_blocks(w, rows, cols)
        valid = to_blocks(jnp.ones(w.shape, bool), rows, cols)
        w_max = jax.vmap(jax.vmap(self.mapping.w_max))(jnp.where(valid, blocks, jnp.nan))[..., None, None]
        g = self.mapping.conductances(blocks, w_max, self.device.g_min, self.device.g_max)
        return Targets(g, w_max, valid, stuck_mask, column_gain, column_offset, None, tuple(w.shape))

    def program(
        self,
        key: jax.Array,
        w: jax.Array,
        *,
        stuck_mask: jax.Array | None = None,
        column_gain: jax.Array | None = None,
        column_offset: jax.Array | None = None,
    ) -> ProgrammedMatrix:
        """Program weights ``w`` (IN, OUT) onto tiles (arguments as in ``targets``)."""
        targets = self.targets(w, stuck_mask=stuck_mask, column_gain=column_gain, column_offset=column_offset)
        return self.program_targets(key, targets)

    def program_targets(self, key: jax.Array, targets: Targets) -> ProgrammedMatrix:
        """Program conductance ``targets`` (from ``targets``, or a compiler's, e.g. a chip mapping's)."""
        k_program, k_baseline = jax.random.split(key)
        programmed = self.program_devices(k_program, targets)
        return self.with_baseline(k_baseline, programmed, self.device.expected(programmed.state, 0.0))

    def program_devices(self, key: jax.Array, targets: Targets) -> ProgrammedMatrix:
        """The devices of ``targets`` programmed, without a drift-compensation baseline."""
        state = self.device.program(key, targets.g, stuck_mask=targets.stuck_mask)
        return ProgrammedMatrix(
            state,
            targets.w_max,
            targets.valid,
            None,
            targets.column_gain,
            targets.column_offset,
            targets.row_gain,
            targets.shape,
        )

    def with_baseline(self, key: jax.Array, programmed: ProgrammedMatrix, g: jax.Array) -> ProgrammedMatrix:
        """``programmed`` with the drift-compensation readout of conductances ``g`` (uS) (n_r, n_c, R,
        physical columns) as its baseline: the conductances expected right after programming (or what wires
        make of them, on a chip whose tiles the caller solves whole)."""
        if self.drift_compensation == "none":
            return programmed
        baseline = self._readout(key, self._read_matrix(g, programmed), programmed.valid)
        return eqx.tree_at(lambda p: p.baseline, programmed, baseline, is_leaf=lambda x: x is None)

    def read(self, key: jax.Array, programmed: ProgrammedMatrix, t) -> ReadMatrix:
        """The weights the tiles hold ``t`` seconds after programming (drift, read noise, IR drop).

        ``t`` is one time (s); for several, call once per time (or ``jax.vmap`` over times).
        """
        if jnp.ndim(t) != 0:
            raise ValueError(f"t: expected one time in seconds, got shape {jnp.shape(t)}; read once per time")
        k_read, k_readout = jax.random.split(key)
        return self.read_conductances(k_readout, programmed, self.device.read(k_read, programmed.state, t), t)

    def read_conductances(self, key: jax.Array, programmed: ProgrammedMatrix, g: jax.Array, t) -> ReadMatrix:
        """The weights conductances ``g`` (uS) (n_r, n_c, R, physical columns), read ``t`` seconds after
        programming, hold, drift-compensated with the readout key ``key``."""
        weights = self._read_matrix(g, programmed)
        if programmed.baseline is None:
            return weights
        now = self._readout(time_tag(key, t), weights, programmed.valid)
        compensation = compensation_factor(programmed.baseline, now)[..., None, :]
        return eqx.tree_at(lambda r: r.compensation, weights, compensation, is_leaf=lambda x: x is None)

    def matmul(
        self, key: jax.Array, weights: ReadMatrix, x: jax.Array, bias: jax.Array | None = None
    ) -> jax.Array:
        """Digital result of ``x @ W + bias`` on the tiles: x (B, IN) -> (B, OUT).

        Partial sums of input splits and the bias (OUT,) are added in digital.
        """
        x = jnp.asarray(x)
        if x.ndim != 2 or x.shape[1] != weights.shape[0]:
            raise ValueError(f"x: expected shape (batch, {weights.shape[0]}), got {x.shape}")
        require_finite("x", x)
        if bias is not None:
            require_shape("bias", bias, (weights.shape[1],), "(outputs,)")
            require_finite("bias", bias)
        n_r, _, rows, _ = weights.w.shape
        y = self._tile_outputs(key, inputs_to_blocks(x, n_r, rows), weights)
        if weights.compensation is not None:
            y = y * weights.compensation
        # Digital accumulation over input splits, as additions: XLA:CPU ran jnp.sum over this short axis,
        # fused with its neighbours, about 10x slower than the additions (measured on the MNIST MLP).
        partial_sums = functools.reduce(operator.add, list(y))
        y = outputs_from_blocks(partial_sums, weights.shape[1])
        return y if bias is None else y + jnp.asarray(bias)[None, :]

    def _read_matrix(self, g: jax.Array, programmed: ProgrammedMatrix) -> ReadMatrix:
        """The tiles as conductances ``g`` (uS) (n_r, n_c, R, physical columns) hold them, uncompensated."""
        per_input = self.bends_inputs() and self.has_ir_drop
        return ReadMatrix(
            self._weights(g, programmed),
            g if per_input else None,
            programmed.w_max,
            None,
            programmed.column_gain,
            programmed.column_offset,
            programmed.row_gain,
            programmed.shape,
        )

    def _tile_outputs(self, key: jax.Array, x_blocks: jax.Array, weights: ReadMatrix) -> jax.Array:
        """Digital outputs (n_r, n_c, B, C) of every tile for its inputs x_blocks (n_r, B, R)."""
        n_r, n_c, _, _ = weights.w.shape
        keys = jax.random.split(key, n_r * n_c).reshape(n_r, n_c)
        analog = self._analog_response()

        def tile(k, xb, wt, gain, offset, g, row_gain, w_max):
            analog_args = (self, wt, g, w_max, row_gain)
            return managed_mvm(
                k, xb, wt, self.periphery, gain, offset, analog, analog_args, self.column_correction
            )

        per_tile = (weights.column_gain, weights.column_offset, weights.g, weights.row_gain)
        axes = tuple(None if a is None else 0 for a in per_tile)
        over_cols = jax.vmap(tile, in_axes=(0, None, 0, *axes, 0))
        return jax.vmap(over_cols, in_axes=(0, 0, 0, *axes, 0))(
            keys,
            x_blocks,
            weights.w,
            _squeeze_rows(weights.column_gain),
            _squeeze_rows(weights.column_offset),
            weights.g,
            None if weights.row_gain is None else weights.row_gain[..., 0],
            weights.w_max,
        )

    def _readout(self, key: jax.Array, weights: ReadMatrix, valid: jax.Array) -> jax.Array:
        """Drift-compensation readout: mean |output| per tile (or tile column) for one-hot inputs sent through
        the whole noisy path of each tile (docs/models.md section 5)."""
        n_r, _, rows, _ = weights.w.shape
        one_hot = jnp.broadcast_to(jnp.eye(rows, dtype=weights.w.dtype), (n_r, rows, rows))
        return mean_abs_output(self._tile_outputs(key, one_hot, weights), valid, self.drift_compensation)

    def bends_inputs(self) -> bool:
        """Whether the device I-V bends the inputs: amplitude encoding and an iv_b that may be nonzero.

        With pulse-width encoding every input sees the full read voltage, so the nonlinearity is one constant
        gain, sinh(b v_read) / (b v_read), that the chip's output-scale calibration absorbs.
        """
        if self.periphery.dac.encoding != "amplitude":
            return False
        b = self.device.iv_b
        return isinstance(b, jax.core.Tracer) or bool(np.any(np.asarray(b) != 0))

    def _analog_response(self):
        """``f(v, crossbar, w, g, w_max)``: a tile's response to normalized inputs (B, R) -> (B, C) when it is
        not ``v @ w``, else ``None``. ``g`` is the tile's conductances (uS) when each input needs a network
        solve (IR drop), else ``None``."""
        if not self.bends_inputs():
            return None
        return _bent_response

    def wire_resistances(self) -> tuple[jax.Array, jax.Array]:
        """(r_row, r_col) in ohm, 0 for ideal wires."""
        return (0.0 if self.r_row is None else self.r_row), (0.0 if self.r_col is None else self.r_col)

    def _weights(self, g: jax.Array, programmed: ProgrammedMatrix) -> jax.Array:
        """Weights (n_r, n_c, R, C) held by conductances g (uS) (n_r, n_c, R, physical columns)."""
        if self.has_ir_drop:
            g = self.effective_conductances(g)
        w = self.mapping.weights(g, programmed.w_max, self.device.g_min, self.device.g_max)
        if programmed.row_gain is not None:
            w = w * programmed.row_gain
        return jnp.where(programmed.valid, w, 0.0)

    def effective_conductances(self, g: jax.Array) -> jax.Array:
        """The distorted matrices (uS) of tiles of conductances ``g`` (uS) (..., R, physical columns) under
        this crossbar's wires and IR-drop model (docs/models.md section 6)."""
        return effective_tiles(g, *self.wire_resistances(), self.ir_drop)

    @property
    def has_ir_drop(self) -> bool:
        """Whether reads see the wires: a wire resistance is set and ``ir_drop`` is not ``"none"``."""
        return (self.r_row is not None or self.r_col is not None) and self.ir_drop != "none"


def _bent_response(v, crossbar: Crossbar, w: jax.Array, g: jax.Array | None, w_max: jax.Array, row_gain):
    """Response of a tile whose device I-V bends amplitude-encoded inputs v (B, R) -> (B, C); ``row_gain``
    (R,) or ``None`` scales the row voltages (``w`` holds it already)."""
    v_read, b = crossbar.periphery.dac.v_read, crossbar.device.iv_b
    if row_gain is not None:
        v, w = v * row_gain[None, :], w / row_gain[:, None]
    if g is None:  # ideal wires: every device sees its row voltage, I = g v sinhc(b v)
        return (sinh_current(1.0, v * v_read, b) / v_read) @ w
    r_row, r_col = crossbar.wire_resistances()
    amperes = ir_drop.column_currents_nonlinear(g * 1e-6, v * v_read, r_row, r_col, b)
    device = crossbar.device
    return crossbar.mapping.weights(amperes * 1e6 / v_read, w_max, device.g_min, device.g_max)


def _squeeze_rows(per_column: jax.Array | None) -> jax.Array | None:
    """(n_r, n_c, 1, C) -> (n_r, n_c, C)."""
    return None if per_column is None else per_column[..., 0, :]
