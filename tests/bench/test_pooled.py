"""The pooled estimators against independent computations on tiny tables."""
import itertools
import math
import statistics

import numpy as np
import pytest
from scipy import stats

from graphsampler.bench.pooled import (
    bootstrap_replicates,
    cluster_bootstrap,
    dersimonian_laird,
    pooled_mean,
    weighted_slope,
)

TABLE = {"A": {0: 1.0, 1: 2.0, 2: 0.5}, "B": {0: -1.0, 1: 0.5}, "C": {0: 0.2, 1: 0.3,
                                                                        2: 0.1, 3: 0.6}}


def dl_by_hand(table):
    """DerSimonian-Laird written out as in Borenstein et al. (2009), ch. 12, with loops."""
    ys, vs = [], []
    for seeds in table.values():
        values = list(seeds.values())
        ys.append(statistics.fmean(values))
        vs.append(statistics.variance(values) / len(values))
    w = [1 / v for v in vs]
    fixed = sum(wi * yi for wi, yi in zip(w, ys)) / sum(w)
    q = sum(wi * (yi - fixed) ** 2 for wi, yi in zip(w, ys))
    c = sum(w) - sum(wi * wi for wi in w) / sum(w)
    tau2 = max(0.0, (q - (len(ys) - 1)) / c)
    w_star = [1 / (v + tau2) for v in vs]
    mean = sum(wi * yi for wi, yi in zip(w_star, ys)) / sum(w_star)
    return mean, math.sqrt(1 / sum(w_star)), tau2


def test_dersimonian_laird_matches_the_textbook_formula():
    est = dersimonian_laird(TABLE)
    mean, se, tau2 = dl_by_hand(TABLE)
    assert tau2 > 0  # heterogeneous: the random-effects part is exercised
    assert (est.mean, est.se, est.tau2) == pytest.approx((mean, se, tau2))
    assert (est.low, est.high) == pytest.approx((mean - 1.959964 * se, mean + 1.959964 * se))
    assert est.datasets == 3 and est.pairs == 9


def test_dersimonian_laird_without_heterogeneity_is_the_inverse_variance_mean():
    table = {"A": {0: 1.0, 1: 1.2}, "B": {0: 0.9, 1: 1.3, 2: 1.1}}
    est = dersimonian_laird(table)
    v = [statistics.variance(s.values()) / len(s) for s in table.values()]
    y = [statistics.fmean(s.values()) for s in table.values()]
    assert est.tau2 == 0.0
    assert est.mean == pytest.approx(sum(yi / vi for yi, vi in zip(y, v)) / sum(1 / vi for vi in v))
    # one-seed and zero-variance datasets carry no within-dataset variance: left out
    more = {**table, "one": {0: 5.0}, "flat": {0: 2.0, 1: 2.0}}
    assert dersimonian_laird(more) == est


def _outcomes(table):
    """Every outcome of the two-stage bootstrap with its probability, enumerated."""
    groups = [list(s.values()) for s in table.values()]
    k = len(groups)
    for picks in itertools.product(range(k), repeat=k):
        inner = [list(itertools.product(groups[g], repeat=len(groups[g]))) for g in picks]
        p_inner = math.prod(1 / len(i) for i in inner)
        for draws in itertools.product(*inner):
            values = [v for draw in draws for v in draw]
            yield sum(values) / len(values), p_inner / k ** k


def exact_two_stage_distribution(table):
    return np.asarray([v for v, _ in _outcomes(table)])


def exact_weights(table):
    return np.asarray([p for _, p in _outcomes(table)])


def test_cluster_bootstrap_replicates_follow_the_enumerated_distribution():
    table = {"A": {0: 2.0, 1: 0.0}, "B": {0: -1.0, 1: -3.0, 2: 0.5}, "C": {0: 0.5, 1: 1.5}}
    exact = exact_two_stage_distribution(table)  # 27 dataset draws times their seed draws
    weights = exact_weights(table)
    got = bootstrap_replicates(table, replicates=40_000, seed=1)
    mean = np.average(exact, weights=weights)
    sd = math.sqrt(np.average((exact - mean) ** 2, weights=weights))
    assert got.mean() == pytest.approx(mean, abs=4 * sd / 200)
    assert got.std() == pytest.approx(sd, rel=0.03)
    for point in np.quantile(got, [0.025, 0.25, 0.5, 0.75, 0.975]):
        exact_cdf = weights[exact <= point + 1e-12].sum() / weights.sum()
        assert exact_cdf == pytest.approx(np.mean(got <= point + 1e-12), abs=0.01)
    est = cluster_bootstrap(table, replicates=40_000, seed=1)
    assert (est.low, est.high) == tuple(np.quantile(got, [0.025, 0.975]))
    assert est.mean == pytest.approx(np.mean([v for s in table.values() for v in s.values()]))
    assert (est.datasets, est.pairs) == (3, 7)


def test_cluster_bootstrap_treats_seeds_of_a_dataset_as_one_cluster():
    """Two datasets, each ten identical seeds: an iid bootstrap over the 20 pairs would
    give a narrow interval around 0; clustered, a replicate is +1, 0 or -1."""
    table = {"A": {s: 1.0 for s in range(10)}, "B": {s: -1.0 for s in range(10)}}
    est = cluster_bootstrap(table, replicates=2000)
    assert (est.mean, est.low, est.high) == (0.0, -1.0, 1.0)
    assert cluster_bootstrap(table, replicates=2000) == est  # seeded


def test_pooled_mean_is_the_mean_of_all_pairs():
    values = [v for s in TABLE.values() for v in s.values()]
    assert pooled_mean(TABLE) == pytest.approx(np.mean(values))
    assert math.isnan(pooled_mean({}))


def test_weighted_slope_with_equal_weights_is_ordinary_least_squares():
    x, y = [0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 2.2, 2.5, 4.1, 4.0]
    fit = weighted_slope(x, y, [0.7] * 5)
    ols = stats.linregress(x, y)
    t = stats.t.ppf(0.975, 3)
    assert (fit.slope, fit.intercept, fit.se) == pytest.approx(
        (ols.slope, ols.intercept, ols.stderr))
    assert (fit.low, fit.high) == pytest.approx((ols.slope - t * ols.stderr,
                                                 ols.slope + t * ols.stderr))


def test_weighted_slope_matches_rescaled_least_squares():
    """WLS is OLS on rows scaled by 1/se: solved with numpy's lstsq, se by hand."""
    x = np.log10([0.01, 0.03, 0.1, 0.3, 0.68])
    y = np.array([0.9, 0.4, 0.5, -0.1, 0.3])
    se = np.array([0.3, 0.5, 0.2, 0.4, 0.9])
    fit = weighted_slope(list(x), list(y), list(se))
    design = np.column_stack([np.ones(5), x]) / se[:, None]
    coef, rss, *_ = np.linalg.lstsq(design, y / se, rcond=None)
    cov = rss[0] / 3 * np.linalg.inv(design.T @ design)
    assert (fit.intercept, fit.slope) == pytest.approx(tuple(coef))
    assert fit.se == pytest.approx(math.sqrt(cov[1, 1]))
    # points without a standard error are left out; under three points, no fit
    assert weighted_slope(list(x) + [0.0], list(y) + [9.0], list(se) + [math.nan]) == fit
    assert math.isnan(weighted_slope([0.0, 1.0], [0.0, 1.0], [1.0, 1.0]).slope)
