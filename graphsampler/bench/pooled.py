r"""Pooled estimates of a paired difference over several datasets, and its trend in a
covariate: the estimators behind the report's pooled section and its :math:`B/N` axis.

The input is a table ``{dataset: {seed: delta}}`` of per-seed paired differences
(sampler - uniform on the same seed).

* :func:`cluster_bootstrap`: the mean over all (dataset, seed) pairs, with a percentile
  interval from a two-stage bootstrap clustered by dataset (resample datasets with
  replacement, then seeds within each drawn dataset), so that seeds of one dataset are
  not taken for independent evidence.
* :func:`dersimonian_laird`: the random-effects mean of the per-dataset mean
  differences (DerSimonian and Laird, 1986): each dataset weighted by
  :math:`1 / (s_i^2 / n_i + \tau^2)`, :math:`\tau^2` the between-dataset variance by
  the method of moments; a normal 95% interval.
* :func:`weighted_slope`: weighted least squares of :math:`y` on :math:`x` with weights
  :math:`1 / \mathrm{se}^2`, its slope with a :math:`t_{n-2}` interval whose scale is
  the weighted residual variance (as ``statsmodels``' ``WLS``).

Example:
    >>> est = dersimonian_laird({"A": {0: 1.0, 1: 2.0}, "B": {0: -1.0, 1: 0.5}})
    >>> round(est.mean, 3), round(est.tau2, 3)
    (0.714, 1.125)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

Table = dict[str, dict[int, float]]


@dataclass(frozen=True)
class Estimate:
    r"""A point estimate with a 95% interval.

    Attributes:
        mean: The estimate.
        low, high: The interval's bounds.
        se: Its standard error (NaN for a percentile bootstrap).
        datasets, pairs: How many datasets and (dataset, seed) pairs went in.
        tau2: The between-dataset variance (random effects only, else NaN).
    """
    mean: float
    low: float
    high: float
    se: float
    datasets: int
    pairs: int
    tau2: float = math.nan


def pooled_mean(table: Table) -> float:
    r"""The plain mean over all (dataset, seed) pairs."""
    values = [d for seeds in table.values() for d in seeds.values()]
    return float(np.mean(values)) if values else math.nan


def cluster_bootstrap(table: Table, replicates: int = 4000, seed: int = 0,
                      level: float = 0.95) -> Estimate:
    r"""The mean over all (dataset, seed) pairs with a two-stage cluster bootstrap
    interval: the percentiles of :func:`bootstrap_replicates`.

    Args:
        table (dict): ``{dataset: {seed: delta}}``; datasets without seeds are dropped.
        replicates (int): Bootstrap replicates. (default: :obj:`4000`)
        seed (int): Seed of the resampling. (default: :obj:`0`)
        level (float): Coverage of the interval. (default: :obj:`0.95`)
    """
    table = {name: seeds for name, seeds in table.items() if seeds}
    pairs = sum(len(s) for s in table.values())
    if not table:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0, 0)
    means = bootstrap_replicates(table, replicates, seed)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Estimate(pooled_mean(table), float(low), float(high), math.nan, len(table), pairs)


def bootstrap_replicates(table: Table, replicates: int = 4000, seed: int = 0) -> np.ndarray:
    r"""The two-stage bootstrap's replicates of the mean over pairs: each draws as many
    datasets as ``table`` has, with replacement, then within each drawn dataset as many
    seeds as it has, with replacement, and takes the mean over the drawn pairs.

    Returns:
        numpy.ndarray: ``replicates`` means.
    """
    groups = [np.asarray(list(s.values()), dtype=float) for s in table.values() if s]
    sizes = np.asarray([len(g) for g in groups])
    padded = np.zeros((len(groups), sizes.max()))
    for index, group in enumerate(groups):
        padded[index, :len(group)] = group
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(groups), size=(replicates, len(groups)))  # datasets
    drawn = sizes[picks]  # (replicates, datasets): the seeds each drawn dataset has
    uniform = rng.random((replicates, len(groups), sizes.max()))
    seeds = np.minimum((uniform * drawn[..., None]).astype(int), drawn[..., None] - 1)
    used = np.arange(sizes.max()) < drawn[..., None]  # a dataset draws n_i of its seeds
    values = padded[picks[..., None], seeds]
    return np.where(used, values, 0.0).sum(axis=(1, 2)) / drawn.sum(axis=1)


def dersimonian_laird(table: Table, level: float = 0.95) -> Estimate:
    r"""The random-effects (DerSimonian-Laird) mean of the per-dataset mean differences.

    Each dataset :math:`i` gives :math:`y_i`, the mean of its :math:`n_i \geq 2` seeds,
    and :math:`v_i = s_i^2 / n_i`; datasets with one seed or :math:`s_i = 0` are left
    out (no within-dataset variance). With :math:`w_i = 1 / v_i`,
    :math:`Q = \sum w_i (y_i - \bar y_w)^2` and
    :math:`\tau^2 = \max(0, (Q - (k - 1)) / (\sum w_i - \sum w_i^2 / \sum w_i))`; the
    estimate is :math:`\sum w_i^* y_i / \sum w_i^*` with :math:`w_i^* = 1/(v_i + \tau^2)`
    and standard error :math:`(\sum w_i^*)^{-1/2}`.
    """
    y, v, pairs = [], [], 0
    for seeds in table.values():
        values = np.asarray(list(seeds.values()), dtype=float)
        if len(values) < 2 or np.var(values) == 0:
            continue
        y.append(values.mean())
        v.append(values.var(ddof=1) / len(values))
        pairs += len(values)
    if not y:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0, 0)
    y_, w = np.asarray(y), 1.0 / np.asarray(v)
    fixed = (w * y_).sum() / w.sum()
    q = (w * (y_ - fixed) ** 2).sum()
    denominator = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = max(0.0, (q - (len(y) - 1)) / denominator) if len(y) > 1 else 0.0
    w_star = 1.0 / (np.asarray(v) + tau2)
    mean = float((w_star * y_).sum() / w_star.sum())
    se = float(math.sqrt(1.0 / w_star.sum()))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return Estimate(mean, mean - z * se, mean + z * se, se, len(y), pairs, float(tau2))


@dataclass(frozen=True)
class Slope:
    r"""A fitted line :math:`y = a + b x` and the slope's 95% interval."""
    intercept: float
    slope: float
    low: float
    high: float
    se: float
    points: int


def weighted_slope(x: list[float], y: list[float], se: list[float],
                   level: float = 0.95) -> Slope:
    r"""Weighted least squares of ``y`` on ``x`` with weights :math:`1/\mathrm{se}^2`.

    The slope's standard error is :math:`\sqrt{\hat\sigma^2 [(X^\top W X)^{-1}]_{11}}`
    with :math:`\hat\sigma^2 = \sum w_i r_i^2 / (n - 2)`, and the interval uses
    :math:`t_{n-2}`. Points with a non-finite or zero ``se`` are left out; fewer than
    three points give NaNs.
    """
    keep = [i for i, s in enumerate(se) if math.isfinite(s) and s > 0
            and math.isfinite(x[i]) and math.isfinite(y[i])]
    n = len(keep)
    if n < 3:
        return Slope(math.nan, math.nan, math.nan, math.nan, math.nan, n)
    xs = np.asarray([x[i] for i in keep])
    ys = np.asarray([y[i] for i in keep])
    w = 1.0 / np.asarray([se[i] for i in keep]) ** 2
    design = np.column_stack([np.ones(n), xs])
    normal = design.T @ (w[:, None] * design)
    coef = np.linalg.solve(normal, design.T @ (w * ys))
    residual = ys - design @ coef
    sigma2 = float((w * residual ** 2).sum() / (n - 2))
    slope_se = math.sqrt(sigma2 * np.linalg.inv(normal)[1, 1])
    t = float(stats.t.ppf(0.5 + level / 2, n - 2))
    return Slope(float(coef[0]), float(coef[1]), float(coef[1] - t * slope_se),
                 float(coef[1] + t * slope_se), slope_se, n)


__all__ = ["Estimate", "Slope", "Table", "bootstrap_replicates", "cluster_bootstrap",
           "dersimonian_laird", "pooled_mean", "weighted_slope"]
