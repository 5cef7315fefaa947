"""Statistical assertions whose tolerances follow from the sample size.

An estimate passes when it lies within ``Z`` standard errors of its closed form, so a correct model fails
with probability below 1e-6 per check. For n independent samples along the last axis:

- mean: SE = sigma / sqrt(n);
- standard deviation: Var(s^2) ~ (mu_4 - sigma^4) / n, so SE(s) = sigma sqrt((kurt + 2) / (4 n)) with
  excess kurtosis ``kurt`` (sigma / sqrt(2 n) for a Gaussian);
- correlation of a bivariate Gaussian: SE = (1 - rho^2) / sqrt(n);
- a fraction p: SE = sqrt(p (1 - p) / n).
"""

import numpy as np

Z = 5.0


def _assert_within(name, estimate, expected, se):
    estimate, expected, se = np.broadcast_arrays(
        *(np.asarray(x, np.float64) for x in (estimate, expected, se))
    )
    bad = np.abs(estimate - expected) > Z * se
    assert not bad.any(), (
        f"{name}: estimate {estimate[bad]} vs closed form {expected[bad]} (tolerance {Z * se[bad]})"
    )


def assert_mean(samples, mean, sigma):
    samples = np.asarray(samples, np.float64)
    n = samples.shape[-1]
    _assert_within("mean", samples.mean(-1), mean, np.asarray(sigma) / np.sqrt(n))


def assert_std(samples, sigma, kurtosis=0.0):
    samples = np.asarray(samples, np.float64)
    n = samples.shape[-1]
    se = np.asarray(sigma) * np.sqrt((np.asarray(kurtosis) + 2.0) / (4.0 * n))
    _assert_within("std", samples.std(-1, ddof=1), sigma, se)


def assert_corr(x, y, rho):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    _assert_within("correlation", np.corrcoef(x, y)[0, 1], rho, (1.0 - rho**2) / np.sqrt(x.size))


def assert_fraction(hits, p):
    hits = np.asarray(hits, bool)
    _assert_within("fraction", hits.mean(), p, np.sqrt(p * (1.0 - p) / hits.size))
