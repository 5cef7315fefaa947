"""The statistics of a set of trials (chips): mean, standard deviation and the 95 % confidence interval of
the mean. One convention everywhere: with a single trial the standard deviation and the interval are
undefined, NaN in numbers (``null`` in JSON, ``nan`` in CSV)."""

import dataclasses
import math

import numpy as np
import scipy.stats


@dataclasses.dataclass(frozen=True)
class TrialStatistics:
    """Attributes: n trials; their mean; std (ddof 1); ci95_low, ci95_high: Student's t interval of the mean
    with n - 1 degrees of freedom. std and the interval are NaN for n = 1."""

    n: int
    mean: float
    std: float
    ci95_low: float
    ci95_high: float

    @property
    def ci95(self) -> list[float] | None:
        """[low, high], or ``None`` where undefined (one trial)."""
        return None if math.isnan(self.ci95_low) else [self.ci95_low, self.ci95_high]


def trial_statistics(values) -> TrialStatistics:
    """Statistics of one value per trial (n,), n >= 1."""
    values = np.asarray(values, np.float64)
    n, mean = len(values), float(np.mean(values))
    if n == 1:
        return TrialStatistics(1, mean, math.nan, math.nan, math.nan)
    std = float(np.std(values, ddof=1))
    half = float(scipy.stats.t.ppf(0.975, n - 1) * std / np.sqrt(n))
    return TrialStatistics(n, mean, std, mean - half, mean + half)


def json_number(value: float) -> float | None:
    """A number as JSON holds it: NaN (undefined) as ``null``."""
    return None if math.isnan(value) else value
