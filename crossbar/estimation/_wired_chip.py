"""The Monte Carlo stages of a chip whose tiles have wires: each read solves every used tile whole.

Programming and reading a chip take three steps: every layer's devices, programmed or read as on a chip
without wires (the same keys, compiled once per distinct layer); the chip's effective conductances from all
layers' conductances at once (``ChipWires.effective``, compiled once per chip); every layer's weights and
drift compensation from its effective conductances (compiled once per distinct layer). Drift compensation's
baseline is read through the wires too, as a chip measures it. The products then run as on any chip.
"""

import functools

import jax

from ..array import ProgrammedMatrix, ReadMatrix
from ..compiler import ChipNotEmulated, ChipWires
from ._monte_carlo import Model, Stages, evaluate


def wired_stages(model: Model, crossbars: tuple, targets: tuple, wires: ChipWires, keys: jax.Array) -> Stages:
    """The stages of ``keys``' trials of the model on a chip: its matrices on ``crossbars`` (ideal wires
    each) with ``targets``, the chip's tiles solved whole with ``wires``."""
    for crossbar in crossbars:
        if crossbar.bends_inputs():
            raise ChipNotEmulated(
                "amplitude-encoded inputs on devices with a nonlinear I-V (device.iv_b != 0) are not "
                "emulated on a chip whose tiles have wires; use periphery.dac.encoding=pulse_width"
            )
    return Stages(
        functools.partial(_program, crossbars, targets, wires, keys),
        functools.partial(_read, crossbars, wires, keys),
        functools.partial(evaluate, model, crossbars, keys),
        keys.shape,
    )


def _program(crossbars: tuple, targets: tuple, wires: ChipWires, keys: jax.Array) -> list:
    """Every trial's chip programmed: per matrix, its tiles for all trials (stacked on a leading axis), with
    drift compensation's baseline read through the wires."""
    pairs = list(enumerate(zip(crossbars, targets, strict=True)))
    devices = [_program_devices(c, t, keys, i) for i, (c, t) in pairs]
    if all(c.drift_compensation == "none" for c in crossbars):
        return devices
    expected = _effective(wires, [_expected(c, p) for c, p in zip(crossbars, devices, strict=True)])
    together = enumerate(zip(crossbars, devices, expected, strict=True))
    return [_with_baseline(c, keys, p, g, i) for i, (c, p, g) in together]


def _read(crossbars: tuple, wires: ChipWires, keys: jax.Array, programmed: list, t: jax.Array) -> list:
    """Every trial's chip read at time t (s): per matrix, its tiles' weights for all trials."""
    pairs = list(enumerate(zip(crossbars, programmed, strict=True)))
    conductances = _effective(wires, [_read_devices(c, keys, p, t, i) for i, (c, p) in pairs])
    together = enumerate(zip(crossbars, programmed, conductances, strict=True))
    return [_read_conductances(c, keys, p, g, t, i) for i, (c, p, g) in together]


def _matrix_keys(keys: jax.Array, stream: int, index) -> tuple[jax.Array, jax.Array]:
    """Every trial's two keys (trials,) of one matrix in one stream, as ``Crossbar.program_targets`` and
    ``Crossbar.read`` split them."""
    split = jax.vmap(lambda key: jax.random.split(jax.random.fold_in(jax.random.fold_in(key, stream), index)))
    both = split(keys)
    return both[:, 0], both[:, 1]


@jax.jit
def _program_devices(crossbar, targets, keys: jax.Array, index) -> ProgrammedMatrix:
    """One matrix's devices programmed on every trial's chip (trials vmapped), without a baseline."""
    k_program, _ = _matrix_keys(keys, 0, index)
    return jax.vmap(lambda key: crossbar.program_devices(key, targets))(k_program)


@jax.jit
def _expected(crossbar, programmed) -> jax.Array:
    """One matrix's conductances (uS) expected right after programming, every trial."""
    return jax.vmap(lambda state: crossbar.device.expected(state, 0.0))(programmed.state)


@jax.jit
def _with_baseline(crossbar, keys: jax.Array, programmed, g: jax.Array, index) -> ProgrammedMatrix:
    """One matrix with its drift-compensation baseline read from effective conductances g, every trial."""
    _, k_baseline = _matrix_keys(keys, 0, index)
    return jax.vmap(crossbar.with_baseline)(k_baseline, programmed, g)


@jax.jit
def _read_devices(crossbar, keys: jax.Array, programmed, t: jax.Array, index) -> jax.Array:
    """One matrix's device conductances (uS) at time t (s), every trial."""
    k_read, _ = _matrix_keys(keys, 1, index)
    return jax.vmap(lambda key, state: crossbar.device.read(key, state, t))(k_read, programmed.state)


@jax.jit
def _read_conductances(crossbar, keys: jax.Array, programmed, g: jax.Array, t, index) -> ReadMatrix:
    """One matrix's weights from effective conductances g at time t (s), every trial."""
    _, k_readout = _matrix_keys(keys, 1, index)
    return jax.vmap(lambda key, p, gt: crossbar.read_conductances(key, p, gt, t))(k_readout, programmed, g)


@jax.jit
def _effective(wires: ChipWires, conductances: list) -> list:
    """Every trial's effective conductances, per matrix (``ChipWires.effective``, trials one after another:
    the memory of one tile's solve at a time)."""
    return jax.lax.map(wires.effective, conductances)
