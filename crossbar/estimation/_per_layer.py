"""Where a network loses accuracy: each layer alone on the chip, the rest digital, at every time.

A layer is one constant-weight matrix product (``MatrixProduct``: a dense product, a convolution with all its
groups, an LSTM's input or recurrent product). Its matrices keep the tile grids and targets they have when the
whole network is on the hardware (on a chip, the compiled mapping of the whole network: the layer's blocks
where the compiler placed them); the other products run digitally, exactly as the digital model computes
them. Every layer runs the same trials (the keys of ``seed``), so a model of one layer gives the numbers of
``estimate_accuracy``, bit for bit.
"""

import dataclasses
import itertools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from calibration import ChipProfile

from ..array import Crossbar
from ..compiler import Layout
from ..hardware import Chip
from ..networks import MatrixProduct, products_of
from ._estimate import AccuracyEstimate, estimate_on, hardware_arrays
from ._monte_carlo import EXAMPLES_PER_STEP, Examples
from ._statistics import trial_statistics


@dataclasses.dataclass(frozen=True)
class OneOnTiles:
    """``apply`` with only its product number ``chosen`` (in the order it computes them) handed to
    ``on_product``, the others computed digitally. Compared by value: the stages compiled for a layer are
    reused when it is estimated again."""

    apply: Callable
    chosen: int

    def __call__(self, params, x: jax.Array, on_product: Callable | None = None) -> jax.Array:
        if on_product is None:
            return self.apply(params, x, None)
        position = itertools.count()

        def one_on_tiles(product: MatrixProduct) -> jax.Array:
            return on_product(product) if next(position) == self.chosen else product.digital()

        return self.apply(params, x, one_on_tiles)


@dataclasses.dataclass(frozen=True)
class LayerEstimate:
    """One layer alone on the chip.

    Attributes:
        name: the product's name.
        index: its position among the model's products, in the order the model computes them.
        estimate: the accuracies of the chips at each time.
    """

    name: str
    index: int
    estimate: AccuracyEstimate

    def loss(self) -> tuple[float, list[float] | None]:
        """The accuracy lost at the last time: the digital accuracy minus the chips' mean, and the 95 %
        confidence interval of that loss (``None`` with one trial)."""
        digital = self.estimate.digital_accuracy
        stats = trial_statistics(self.estimate.accuracies[:, -1])
        ci = None if stats.ci95 is None else [digital - stats.ci95_high, digital - stats.ci95_low]
        return digital - stats.mean, ci


@dataclasses.dataclass(frozen=True)
class PerLayerEstimate:
    """Each layer of a model alone on the chip.

    Attributes:
        digital_accuracy: the model's accuracy computed digitally.
        times: read times (s).
        layers: one estimate per layer, in the order the model computes them.
    """

    digital_accuracy: float
    times: tuple[float, ...]
    layers: tuple[LayerEstimate, ...]

    @property
    def seconds(self) -> float:
        """Wall time of the Monte Carlo parts (s)."""
        return sum(layer.estimate.seconds for layer in self.layers)

    def ranked(self) -> list[LayerEstimate]:
        """The layers by the accuracy they lose at the last time, the largest loss first (ties in model
        order)."""
        return sorted(self.layers, key=lambda layer: -layer.loss()[0])


def estimate_per_layer(
    apply: Callable,
    params,
    x: np.ndarray,
    y: np.ndarray,
    hardware: Crossbar | Chip | ChipProfile,
    times: tuple[float, ...],
    trials: int,
    seed: int,
    *,
    examples_per_step: int = EXAMPLES_PER_STEP,
    progress: bool = True,
    placement: str = "default",
    layout: Layout | None = None,
) -> PerLayerEstimate:
    """``estimate_accuracy`` of each layer alone on the hardware, the rest of the model digital; the arguments
    are those of ``estimate_accuracy``. ``progress`` shows a bar over the layers. On a chip each layer's tile
    grid runs with ideal wires (its tiles are not solved whole with the other layers' devices)."""
    products = products_of(apply, params, jax.ShapeDtypeStruct(x[:1].shape, jnp.float32))
    arrays = hardware_arrays(hardware, products, placement, layout)
    examples = Examples.of(apply, params, x, y, examples_per_step)
    ends = np.cumsum([0] + [len(product.matrices()) for product in products]).tolist()
    layers = []
    for index, product in enumerate(tqdm(products, desc="layers", disable=not progress, leave=False)):
        own = arrays[ends[index] : ends[index + 1]]
        alone = OneOnTiles(apply, index)
        estimate = estimate_on(alone, params, examples, own, times, trials, seed, _nothing)
        layers.append(LayerEstimate(product.name, index, estimate))
    return PerLayerEstimate(examples.digital_accuracy(), tuple(float(t) for t in times), tuple(layers))


def _nothing() -> None:
    """A step's callback that does nothing: the bar counts layers."""
