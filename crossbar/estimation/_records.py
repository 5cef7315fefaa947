"""What an estimate records and prints: its JSON document and its terminal table."""

from ._estimate import AccuracyEstimate
from ._times import human_time


def estimate_document(estimate: AccuracyEstimate, config: dict) -> dict:
    """The JSON document of an estimate: digital accuracy, one row per time, the Monte Carlo seconds and the
    full configuration (``config["hardware"]``: the hardware as a hardware file holds it)."""
    return {
        "digital_accuracy": estimate.digital_accuracy,
        "rows": estimate.summary(),
        "seconds": estimate.seconds,
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
