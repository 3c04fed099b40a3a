r"""The report's paired sections, all from :class:`~graphsampler.bench.ablation.Pair`
rows: sampler variants against uniform, the paired difference under each BatchNorm
normalisation, the pooled estimate over datasets, and the :math:`B/N` axis.

Example:
    .. code-block:: python

        lines = pooled_section(pair_with_uniform(records))
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from graphsampler.bench.ablation import LAST_KEYS, Pair, norm_rank
from graphsampler.bench.markdown import commits, num, pm
from graphsampler.bench.plots import BATCH_RATIO_PNG, SWEEP_PNG
from graphsampler.bench.pooled import (
    Estimate,
    Slope,
    cluster_bootstrap,
    dersimonian_laird,
    weighted_slope,
)
from graphsampler.bench.record import Record
from graphsampler.bench.stats import Stat

#: A dataset is called significantly negative when its paired t is below this and its
#: mean difference below :data:`NEGATIVE_MEAN`.
NEGATIVE_T = -2.0
NEGATIVE_MEAN = -0.5


def ablation_section(pairs: Sequence[Pair], sweep: bool) -> list[str]:
    r"""Every variant against uniform, with its diagnostics, and the variants across
    datasets; links the :math:`M/N` plot when ``sweep`` (it was written)."""
    lines = [
        "## Sampler variants against uniform (paired)", "",
        "Each variant (a sampler and its settings that differ from the defaults) against "
        "the uniform runs of the same method, loss, dataset and seeds: Δ is the per-seed "
        "difference variant − uniform, mean ± std (seeds). M/N: candidates per instance "
        "over the dataset size. Diagnostics are means over the epochs after the uniform "
        "warm-up and over seeds: in-batch negative cosine (hardness), twin rate (negative "
        "pairs with cosine ≥ 0.999), false-negative rate, coverage (fraction of the "
        "dataset an epoch's batches hold), walk top-ups per epoch, and the last epoch's "
        "per-graph training counts (p10/median/p90).", "",
        "| method/loss | dataset | variant | M/N | accuracy | Δ vs uniform | neg cos | twins "
        "| false neg | coverage | top-ups | counts p10/med/p90 | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in pairs:
        d = p.diagnostics
        counts = "/".join(num(d[k], ".0f") for k in LAST_KEYS[:3])
        lines.append(
            f"| {p.group} | {p.dataset} | {p.variant} | {num(p.m_over_n, '.3g')} "
            f"| {pm(p.accuracy)} | {_delta(p)} | {num(d['neg_cos_mean'])} "
            f"| {num(d['twin_rate'])} | {num(d['false_negative_rate'])} "
            f"| {num(d['coverage'], '.2f')} | {num(d['walk_filled'], '.0f')} | {counts} "
            f"| {commits(p.commits)} |")
    lines += ["", "### Variants across datasets", "",
              "| method/loss | variant | datasets | mean Δ | datasets with Δ > 0 | worst Δ |",
              "|---|---|---|---|---|---|"]
    for members in _pools(pairs).values():
        diffs = [m.difference.mean for m in members]
        lines.append(f"| {members[0].group} | {members[0].variant} "
                     f"| {', '.join(m.dataset for m in members)} "
                     f"| {sum(diffs) / len(diffs):+.2f} | {sum(x > 0 for x in diffs)} of "
                     f"{len(diffs)} | {min(diffs):+.2f} |")
    if sweep:
        lines += ["", f"![paired difference against M/N]({SWEEP_PNG})"]
    return lines + [""]


def norm_section(pairs: Sequence[Pair]) -> list[str]:
    r"""The paired difference under each normalisation of ``accuracy_by_norm``, side by
    side, for every cell whose records hold them (empty list when none does)."""
    rows = [p for p in pairs if p.norm_differences]
    if not rows:
        return []
    names = sorted({n for p in rows for n in p.norm_differences}, key=norm_rank)
    lines = [
        "## Δ vs uniform under each BatchNorm normalisation (paired)", "",
        "The same trained weights evaluated with BatchNorm's statistics from training "
        "(*train*) and re-estimated on the clean graphs (*clean*): Δ = sampler − uniform "
        "per seed, mean ± std (seeds). *Default*: the normalisation of the accuracy "
        "table. *Collapses*: runs (both sides) whose running statistics were found "
        "degenerate and re-estimated.", "",
        "| method/loss | dataset | variant | " + " | ".join(f"Δ {n}" for n in names)
        + " | default | collapses | commit |",
        "|---|---|---|" + "---|" * len(names) + "---|---|---|"]
    for p in rows:
        cols = [_stat_n(p.norm_differences.get(n)) for n in names]
        lines.append(f"| {p.group} | {p.dataset} | {p.variant} | " + " | ".join(cols)
                     + f" | {', '.join(p.norm_default) or '–'} | {p.collapses} "
                     f"| {commits(p.commits)} |")
    return lines + [""]


def uniform_norm_section(records: Sequence[Record]) -> list[str]:
    r"""The uniform runs' mean accuracy under each normalisation, per method/loss and
    dataset (at the package defaults otherwise), and their equal-weight mean over the
    datasets: what the rule for the protocol's default reads (``docs/sampler-study.md``;
    uniform runs cannot favour a sampler). Empty when no uniform run holds two."""
    cells: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in records:
        if r.sampler == "uniform" and not r.changed and len(r.norms()) > 1:
            by_norm = cells.setdefault((f"{r.method}/{r.loss}", r.dataset), {})
            for name, acc in r.norms().items():
                by_norm.setdefault(name, []).append(acc.mean)
    if not cells:
        return []
    names = sorted({n for c in cells.values() for n in c}, key=norm_rank)
    lines = ["### Uniform runs under each normalisation (the rule for the default)", "",
             "Mean accuracy of the uniform runs at the defaults (seeds); the last rows "
             "average the datasets with equal weight.", "",
             "| method/loss | dataset | " + " | ".join(names) + " | seeds |",
             "|---|---|" + "---|" * len(names) + "---|"]
    for (group, dataset), by_norm in cells.items():
        lines.append(f"| {group} | {dataset} | "
                     + " | ".join(f"{statistics.fmean(by_norm[n]):.2f}" if n in by_norm
                                  else "–" for n in names)
                     + f" | {max(len(v) for v in by_norm.values())} |")
    for group in dict.fromkeys(g for g, _ in cells):
        rows = [c for (g, _), c in cells.items() if g == group]
        means = [f"{statistics.fmean(statistics.fmean(c[n]) for c in rows):.2f}"
                 if all(n in c for c in rows) else "–" for n in names]
        lines.append(f"| **{group}** | **{len(rows)} datasets** | "
                     + " | ".join(means) + " | |")
    return lines + [""]


def pooled_section(pairs: Sequence[Pair]) -> list[str]:
    r"""Per method/loss and variant over its datasets: the mean over all (dataset, seed)
    pairs with a cluster-bootstrap interval, the random-effects mean, the datasets above
    and below zero and those significantly negative; then every cell's Δ with its
    standard error, paired t, top-up share and coverage."""
    pools = {k: v for k, v in _pools(pairs).items() if len(v) > 1}
    lines = [
        "## Pooled Δ over datasets", "",
        "Two estimators of the paired Δ (sampler − uniform, same seeds) over a variant's "
        "datasets. *All pairs*: the mean over every (dataset, seed) pair, with a 95% "
        "percentile interval from a paired bootstrap clustered by dataset (4000 "
        "replicates: datasets drawn with replacement, then seeds within each). *Random "
        "effects*: the DerSimonian-Laird mean of the per-dataset mean Δ, weights "
        "1/(s²/n + τ²), normal 95% interval; datasets with one seed or no spread are left "
        "out of it. "
        f"*Significantly negative*: mean Δ below {NEGATIVE_MEAN} with paired t below "
        f"{NEGATIVE_T}.", "",
        "| method/loss | variant | datasets | pairs | all pairs: mean Δ [95% bootstrap] "
        "| random effects: Δ [95%] (datasets, τ²) | datasets Δ > 0 / < 0 "
        "| significantly negative |",
        "|---|---|---|---|---|---|---|---|"]
    for members in pools.values():
        table = {m.dataset: m.differences for m in members}
        boot, dl = cluster_bootstrap(table), dersimonian_laird(table)
        means = [m.difference.mean for m in members]
        negative = [f"{m.dataset} ({m.difference.mean:+.2f}, t = {m.difference.t:.1f})"
                    for m in members if _significantly_negative(m)]
        lines.append(
            f"| {members[0].group} | {members[0].variant} | {len(members)} | {boot.pairs} "
            f"| {boot.mean:+.2f} [{boot.low:+.2f}, {boot.high:+.2f}] "
            f"| {_random_effects(dl)} | {sum(x > 0 for x in means)} / "
            f"{sum(x < 0 for x in means)} | {'; '.join(negative) or 'none'} |")
    if not pools:
        lines.append("| – | no variant ran on more than one dataset | | | | | | |")
    lines += [
        "", "### Every cell's Δ beside its batches", "",
        "B/N: batch size over dataset size. se: standard error of the mean Δ. Top-up "
        "share: the last epoch's uniform top-ups (`walk_filled`) over its batch slots, "
        "mean over seeds; near 100% the \"proximity\" batches were uniform ones. The "
        "slots are the sampler's `walk_slots` where recorded, else ⌈N/B⌉·B; walks that "
        "a wave grew and then dropped count their top-ups too, so without `walk_slots` "
        "the share can pass 100% (it then means: nearly every slot was a top-up). "
        "Coverage: the last epoch's fraction of the dataset in a batch.", "",
        "| method/loss | dataset | variant | B/N | seeds | Δ | se | paired t "
        "| top-up share | coverage | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in pairs:
        if p.difference is None or p.variant_settings:
            continue
        d, diff = p.diagnostics, p.difference
        lines.append(
            f"| {p.group} | {p.dataset} | {p.variant} | {_percent(p.b_over_n)} | {diff.n} "
            f"| {pm(diff, signed=True)} | {num(diff.se, '.2f')} | {num(diff.t, '.1f')} "
            f"| {_percent(d['top_up_share'], '.1f')} | {num(d['last_coverage'], '.2f')} "
            f"| {commits(p.commits)} |")
    return lines + [""]


def batch_ratio_points(pairs: Sequence[Pair]) -> tuple[list[Pair], dict[str, Slope]]:
    r"""The :math:`B/N` axis: the default variant of each sampler at every batch size
    (no setting changed but ``batch_size``), and per method/loss and sampler the
    weighted fit of Δ on :math:`\log_{10}(B/N)` (weights :math:`1/\mathrm{se}^2`)."""
    points = [p for p in pairs if p.difference is not None and not p.variant_settings
              and {n for n, _ in p.group_settings} <= {"batch_size"}
              and not math.isnan(p.b_over_n)]
    fits = {}
    for title in dict.fromkeys(f"{p.method}/{p.loss} {p.sampler}" for p in points):
        members = [p for p in points if f"{p.method}/{p.loss} {p.sampler}" == title]
        fits[title] = weighted_slope([math.log10(p.b_over_n) for p in members],
                                     [p.difference.mean for p in members],
                                     [p.difference.se for p in members])
    return points, fits


def batch_ratio_section(points: Sequence[Pair], fits: dict[str, Slope]) -> list[str]:
    r"""The fitted slopes of Δ against :math:`\log_{10}(B/N)` and the plot's link."""
    lines = [
        "## Δ against the batch-to-dataset ratio B/N", "",
        "Each point: a dataset at one batch size, the paired Δ (mean ± standard error "
        "over seeds). Slope: weighted least squares of Δ on log10(B/N) with weights "
        "1/se², in points per tenfold B/N, 95% interval from t with n − 2 degrees of "
        "freedom and the weighted residual variance; points with one seed (no se) are "
        "left out of the fit. A negative slope: the gain grows as B/N shrinks.", "",
        "| method/loss sampler | points (fitted) | datasets | batch sizes "
        "| slope per decade [95%] | Δ at B/N = 1% |",
        "|---|---|---|---|---|---|"]
    for title, fit in fits.items():
        members = [p for p in points if f"{p.method}/{p.loss} {p.sampler}" == title]
        at_one = fit.intercept + fit.slope * math.log10(0.01)
        lines.append(
            f"| {title} | {len(members)} ({fit.points}) "
            f"| {len({p.dataset for p in members})} "
            f"| {', '.join(map(str, sorted({p.batch_size for p in members})))} "
            f"| {_slope(fit)} | {num(at_one, '+.2f')} |")
    return lines + ["", f"![paired difference against B/N]({BATCH_RATIO_PNG})", ""]


def _pools(pairs: Sequence[Pair]) -> dict[tuple, list[Pair]]:
    pools: dict[tuple, list[Pair]] = {}
    for p in pairs:
        if p.difference is not None:
            key = (p.method, p.loss, p.group_settings, p.sampler, p.variant_settings)
            pools.setdefault(key, []).append(p)
    return pools


def _significantly_negative(pair: Pair) -> bool:
    diff = pair.difference
    return diff is not None and diff.mean < NEGATIVE_MEAN and diff.t < NEGATIVE_T


def _random_effects(est: Estimate) -> str:
    if math.isnan(est.mean):
        return "–"
    return (f"{est.mean:+.2f} [{est.low:+.2f}, {est.high:+.2f}] ({est.datasets}, "
            f"{est.tau2:.2f})")


def _slope(fit: Slope) -> str:
    if math.isnan(fit.slope):
        return "– (fewer than 3 points with a se)"
    return f"{fit.slope:+.2f} [{fit.low:+.2f}, {fit.high:+.2f}]"


def _delta(p: Pair) -> str:
    return _stat_n(p.differences)


def _stat_n(values: dict[int, float] | None) -> str:
    if not values:
        return "–"
    return f"{pm(Stat.of(list(values.values())), signed=True)} ({len(values)})"


def _percent(value: float, fmt: str = ".3g") -> str:
    return "–" if math.isnan(value) else f"{100 * value:{fmt}}%"


__all__ = ["NEGATIVE_MEAN", "NEGATIVE_T", "ablation_section", "batch_ratio_points",
           "batch_ratio_section", "norm_section", "pooled_section"]
