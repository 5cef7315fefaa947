"""What an estimate records and prints: its JSON document and its terminal table, for the whole network on
the chip (``AccuracyEstimate``) or each layer alone (``PerLayerEstimate``)."""

from ..networks import MacSplit
from ._estimate import AccuracyEstimate
from ._per_layer import PerLayerEstimate
from ._times import human_time


def estimate_document(estimate: AccuracyEstimate, config: dict, split: MacSplit | None = None) -> dict:
    """The JSON document of an estimate: digital accuracy, one row per time, the Monte Carlo seconds, the
    analog/digital split of the MACs if given (``MacSplit.document``) and the full configuration
    (``config["hardware"]``: the hardware as a hardware file holds it)."""
    return {
        "digital_accuracy": estimate.digital_accuracy,
        "rows": estimate.summary(),
        "seconds": estimate.seconds,
        **({} if split is None else {"macs": split.document()}),
        "config": config,
    }


def estimate_table(estimate: AccuracyEstimate) -> str:
    """The digital accuracy, then per time the mean, std and 95 % CI of the chips' accuracy."""
    lines = [
        f"digital accuracy {estimate.digital_accuracy:.4f}",
        "",
        f"{'time':>12} {'mean':>8} {'std':>8}  95 % CI",
    ]
    for row in estimate.summary():
        std = "-" if row["std"] is None else f"{row['std']:.4f}"
        ci = "-" if row["ci95"] is None else f"[{row['ci95'][0]:.4f}, {row['ci95'][1]:.4f}]"
        lines.append(f"{human_time(row['t_s']):>12} {row['mean']:>8.4f} {std:>8}  {ci}")
    lines.append(
        f"\n{estimate.accuracies.shape[0]} chips x {len(estimate.times)} times in {estimate.seconds:.1f} s"
    )
    return "\n".join(lines)


def per_layer_document(per_layer: PerLayerEstimate, config: dict, split: MacSplit) -> dict:
    """The JSON document of a per-layer estimate: the digital accuracy, the layers ranked by their loss at
    the last time (each with its matrix, MACs, loss and 95 % CI, and its rows per time as an estimate's),
    the Monte Carlo seconds, the MACs (``MacSplit.document``) and the configuration."""
    layers = []
    for rank, layer in enumerate(per_layer.ranked(), 1):
        loss, ci = layer.loss()
        tiled = split.tiled[layer.index]
        layers.append(
            {"rank": rank, "name": layer.name, "index": layer.index, "matrix": list(tiled.matrix)}
            | {"groups": tiled.groups, "macs": tiled.macs, "loss": loss, "loss_ci95": ci}
            | {"rows": layer.estimate.summary()}
        )
    return {
        "digital_accuracy": per_layer.digital_accuracy,
        "layers": layers,
        "seconds": per_layer.seconds,
        "macs": split.document(),
        "config": config,
    }


def per_layer_table(per_layer: PerLayerEstimate, split: MacSplit) -> str:
    """The layers ranked by the accuracy they lose alone on the chip at the last time, with their matrix,
    their share of the analog MACs, the loss and its 95 % CI, and the chips' mean accuracy."""
    last = human_time(per_layer.times[-1])
    width = max(len(layer.name) for layer in per_layer.layers)
    lines = [
        f"digital accuracy {per_layer.digital_accuracy:.4f}; each layer alone on the chip, the rest digital, "
        f"at {last}:",
        "",
        f"{'rank':>4}  {'layer':<{width}}  {'matrix':>16} {'MACs':>7} {'loss':>8}  {'95 % CI':<18} "
        f"{'mean':>7}",
    ]
    for rank, layer in enumerate(per_layer.ranked(), 1):
        loss, ci = layer.loss()
        tiled = split.tiled[layer.index]
        share = f"{100 * tiled.macs / split.analog:.1f}%"
        interval = "-" if ci is None else f"[{ci[0]:.4f}, {ci[1]:.4f}]"
        mean = per_layer.digital_accuracy - loss
        lines.append(
            f"{rank:>4}  {layer.name:<{width}}  {tiled.shape_text():>16} {share:>7} {loss:>8.4f}  "
            f"{interval:<18} {mean:>7.4f}"
        )
    trials = per_layer.layers[0].estimate.accuracies.shape[0]
    lines.append(
        f"\nloss: the digital accuracy minus the chips' mean at {last}; MACs: share of the analog MACs"
        f"\n{len(per_layer.layers)} layers x {trials} chips x {len(per_layer.times)} times in "
        f"{per_layer.seconds:.1f} s"
    )
    return "\n".join(lines)
