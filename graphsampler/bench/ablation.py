r"""The sampler study's view of a results file: every sampler variant paired with uniform
batches on the same seeds, with the diagnostics that explain the difference.

A *variant* is a sampler with its sampler settings (and :data:`~graphsampler.bench.config.SAMPLING`
settings such as GraphCL's ``bank``) where they differ from the defaults; its *baseline*
is the uniform cell of the same method, loss, dataset and remaining settings (the split
is :func:`~graphsampler.bench.record.split_settings`). For each variant and dataset: the
per-seed paired difference (variant - uniform), under the default normalisation and
under each of the record's ``accuracy_by_norm``; the variant's :math:`M/N` where it has
a proximity graph and :math:`B/N`; averaged over the epochs after the first (uniform
warm-up) and over seeds, ``neg_cos_mean`` (hardness), ``twin_rate``,
``false_negative_rate``, ``coverage`` and ``walk_filled`` (uniform top-ups per epoch);
and of the last epoch, the spread of per-graph training counts, the coverage and the
top-up share: ``walk_filled`` over the batch slots, the sampler's ``walk_slots`` where
it records them, else :math:`\lceil N/B \rceil B` (the epoch's batches; walks that a
wave grew and dropped also count their top-ups, so the share can then exceed 1).

Example:
    .. code-block:: python

        rows = pair_with_uniform(read_results("runs/ablation/results.jsonl"))
        rows[0].variant, rows[0].difference.mean  # ('proximity', 0.27)
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphsampler.bench.record import NORMS, Record, Settings, label
from graphsampler.bench.stats import Stat, as_records
from graphsampler.data.manifest import tu_manifest
from graphsampler.samplers._checks import resolve_count

#: Diagnostics averaged over the epochs after the first.
RUN_KEYS = ("neg_cos_mean", "twin_rate", "false_negative_rate", "coverage", "walk_filled")
#: Diagnostics of the last epoch: cumulative training counts, the coverage, and the
#: share of batch slots the walk left to uniform top-ups.
LAST_KEYS = ("count_p10", "count_median", "count_p90", "last_coverage", "top_up_share")


@dataclass(frozen=True)
class Pair:
    r"""One variant on one dataset against uniform.

    Attributes:
        method, loss, dataset, sampler: What the variant is.
        group_settings: The changed run settings it shares with its baseline.
        variant_settings: Its changed sampler settings.
        num_graphs: The dataset size :math:`N` (None where unknown).
        batch_size: :math:`B`.
        num_candidates: The resolved :math:`M` (None without a proximity graph).
        accuracy: Mean accuracy of the variant over its seeds.
        differences: By seed, ``variant - uniform`` accuracy.
        norm_differences: By normalisation name, by seed, ``variant - uniform`` (only
            the seeds where both records hold that normalisation).
        diagnostics: :data:`RUN_KEYS` and :data:`LAST_KEYS`, means over seeds.
        commits: The commits the variant's runs recorded.
        norm_default: The default normalisation names its records gave, sorted.
        collapses: Runs (variant and baseline) that detected degenerate statistics.
    """
    method: str
    loss: str
    dataset: str
    sampler: str
    group_settings: Settings
    variant_settings: Settings
    num_graphs: int | None
    batch_size: int
    num_candidates: int | None
    accuracy: Stat
    differences: dict[int, float]
    norm_differences: dict[str, dict[int, float]]
    diagnostics: dict[str, float]
    commits: tuple[str, ...]
    norm_default: tuple[str, ...] = ()
    collapses: int = 0

    @property
    def group(self) -> str:
        r"""``method/loss`` plus :attr:`group_settings`, for display."""
        return label(f"{self.method}/{self.loss}", self.group_settings)

    @property
    def variant(self) -> str:
        r"""The sampler plus :attr:`variant_settings`, for display."""
        return label(self.sampler, self.variant_settings)

    @property
    def difference(self) -> Stat | None:
        r"""The paired differences over seeds (None without a baseline)."""
        return Stat.of(list(self.differences.values())) if self.differences else None

    @property
    def m_over_n(self) -> float:
        r""":math:`M/N` (at most 1; NaN without a proximity graph or :math:`N`)."""
        if self.num_candidates is None or not self.num_graphs:
            return math.nan
        return min(1.0, self.num_candidates / self.num_graphs)

    @property
    def b_over_n(self) -> float:
        r""":math:`B/N`, the share of the dataset one batch holds (NaN without
        :math:`N`)."""
        return self.batch_size / self.num_graphs if self.num_graphs else math.nan


def _resolved_m(record: Record, num_items: int | None) -> int | None:
    if record.num_candidates_resolved is not None:
        return int(record.num_candidates_resolved)
    value = record.config.get("num_candidates")
    if value is None or not num_items:
        return None
    return resolve_count(value, num_items, "num_candidates")


def _run_diagnostics(record: Record, num_items: int | None) -> dict[str, float]:
    epochs = [{**h.get("sampler_stats", {}), **h} for h in record.history[1:]]
    out = {}
    for key in RUN_KEYS:
        values = [e[key] for e in epochs if _is_number(e.get(key))]
        out[key] = statistics.fmean(values) if values else math.nan
    last = record.last_stats()
    for key in LAST_KEYS[:3]:
        out[key] = float(last[key]) if _is_number(last.get(key)) else math.nan
    coverage = last.get("coverage")
    out["last_coverage"] = float(coverage) if _is_number(coverage) else math.nan
    filled = last.get("walk_filled")
    slots = last.get("walk_slots")  # the slots of every walk grown, where recorded
    if not _is_number(slots):
        slots = math.ceil(num_items / record.batch_size) * record.batch_size if num_items else 0
    out["top_up_share"] = float(filled) / slots if _is_number(filled) and slots else math.nan
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def pair_with_uniform(records: Sequence[Record | dict[str, Any]],
                      sizes: dict[str, int] | None = None) -> list[Pair]:
    r"""Pairs every non-uniform variant with its uniform baseline, seed by seed.

    Args:
        records (Sequence[Record or dict]): Run records; a later record of the same
            run and seed replaces an earlier one.
        sizes (dict[str, int], optional): Dataset sizes :math:`N`, for records that do
            not hold their ``num_graphs`` (default: the manifest's).

    Returns:
        list[Pair]: One per (group, dataset, variant), in order of first appearance.
    """
    if sizes is None:
        sizes = {name: info["graphs"] for name, info in tu_manifest().items()}
    cells: dict[tuple, dict[int, Record]] = {}
    for record in as_records(records):
        key = (record.method, record.loss, record.group_settings, record.dataset,
               record.sampler, record.variant_settings)
        cells.setdefault(key, {})[record.seed] = record
    pairs = []
    for (method, loss, group, dataset, sampler, variant), runs in cells.items():
        if sampler == "uniform" and not variant:
            continue
        base = cells.get((method, loss, group, dataset, "uniform", ()), {})
        seeds = sorted(set(runs) & set(base))
        first = next(iter(runs.values()))
        num_items = first.num_graphs or sizes.get(dataset)
        diagnostics = [_run_diagnostics(r, num_items) for r in runs.values()]
        norms: dict[str, dict[int, float]] = {}
        for seed in seeds:
            ours, theirs = runs[seed].norms(), base[seed].norms()
            for name in ours.keys() & theirs.keys():
                norms.setdefault(name, {})[seed] = ours[name].mean - theirs[name].mean
        pairs.append(Pair(
            method, loss, dataset, sampler, group, variant, num_items, first.batch_size,
            _resolved_m(first, num_items),
            Stat.of([r.accuracy_mean for r in runs.values()]),
            {s: runs[s].accuracy_mean - base[s].accuracy_mean for s in seeds},
            {name: norms[name] for name in sorted(norms, key=norm_rank)},
            {k: _nanmean([d[k] for d in diagnostics]) for k in RUN_KEYS + LAST_KEYS},
            tuple(sorted({r.commit for r in runs.values()})),
            tuple(sorted({r.norm_default for r in runs.values() if r.norm_default})),
            sum(bool(r.bn_collapse) for s in seeds for r in (runs[s], base[s]))))
    return pairs


def norm_rank(name: str) -> tuple[int, str]:
    r"""Sort key of a normalisation name: :data:`~graphsampler.bench.record.NORMS` order,
    then any other name alphabetically."""
    return (NORMS.index(name) if name in NORMS else len(NORMS), name)


def _nanmean(values: Sequence[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return statistics.fmean(kept) if kept else math.nan


__all__ = ["LAST_KEYS", "Pair", "RUN_KEYS", "pair_with_uniform"]
