r"""The sampler study's view of a results file: every sampler variant paired with uniform
batches on the same seeds, with the diagnostics that explain the difference.

A *variant* is a sampler with its sampler settings (and :data:`~graphsampler.bench.config.SAMPLING`
settings such as GraphCL's ``bank``) where they differ from the defaults; its *baseline*
is the uniform cell of the same method, loss, dataset and remaining settings. For each
variant and dataset: the per-seed paired difference (variant - uniform), the variant's
:math:`M/N` where it has a proximity graph, and, averaged over the epochs after the
first (uniform warm-up) and over seeds, ``neg_cos_mean`` (hardness), ``twin_rate``,
``false_negative_rate``, ``coverage`` and ``walk_filled`` (uniform top-ups per epoch),
plus the last epoch's spread of per-graph training counts.

Example:
    .. code-block:: python

        rows = pair_with_uniform(read_results("runs/ablation/results.jsonl"))
        rows[0].variant, rows[0].difference.mean  # ('proximity', 0.27)
"""
from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphsampler.bench.config import IDENTITY, PLACE, SAMPLING, RunConfig
from graphsampler.bench.stats import Stat
from graphsampler.data.manifest import tu_manifest

#: Diagnostics averaged over the epochs after the first.
RUN_KEYS = ("neg_cos_mean", "twin_rate", "false_negative_rate", "coverage", "walk_filled")
#: Diagnostics of the last epoch (cumulative training counts).
LAST_KEYS = ("count_p10", "count_median", "count_p90")


@dataclass(frozen=True)
class Pair:
    r"""One variant on one dataset against uniform.

    Attributes:
        group: ``method/loss`` plus the run settings that differ from the defaults.
        dataset: The dataset.
        variant: The sampler and its settings that differ from the defaults.
        m_over_n: :math:`M/N` of the proximity graph (``nan`` without one).
        accuracy: Mean accuracy of the variant over its seeds.
        difference: Per-seed paired ``variant - uniform`` (None without a baseline).
        diagnostics: :data:`RUN_KEYS` and :data:`LAST_KEYS`, means over seeds.
        commits: The commits the variant's runs recorded.
    """
    group: str
    dataset: str
    variant: str
    m_over_n: float
    accuracy: Stat
    difference: Stat | None
    diagnostics: dict[str, float]
    commits: tuple[str, ...]


def _sampler_owned(config: RunConfig) -> set[str]:
    return {f.name for f in dataclasses.fields(config)
            if f.metadata["owner"] == "sampler" or f.name in SAMPLING}


def _split(record: dict[str, Any]) -> tuple[str, str]:
    r"""``(group, variant)`` labels of a record: what it shares with its baseline, and
    what makes it a variant."""
    config = RunConfig.from_record(record["config"])
    ours = config.settings()
    default = RunConfig(**{k: ours[k] for k in IDENTITY}).settings()
    changed = {k: v for k, v in ours.items()
               if k not in IDENTITY and k not in PLACE and v != default.get(k)}
    owned = _sampler_owned(config)
    group = f"{record['method']}/{record['loss']}" + "".join(
        f" {k}={v}" for k, v in sorted(changed.items()) if k not in owned)
    variant = record["sampler"] + "".join(
        f" {k}={v}" for k, v in sorted(changed.items()) if k in owned)
    return group, variant


def _m_over_n(record: dict[str, Any], sizes: dict[str, int]) -> float:
    num_items = record.get("num_graphs") or sizes.get(record["dataset"])
    config = RunConfig.from_record(record["config"])
    if "num_candidates" not in config.settings() or not num_items:
        return math.nan
    sampler = config.build_sampler(num_items)
    return min(1.0, sampler.num_candidates / num_items)


def _run_diagnostics(record: dict[str, Any]) -> dict[str, float]:
    history = record.get("history") or []
    epochs = [{**h.get("sampler_stats", {}), **h} for h in history[1:]]
    out = {}
    for key in RUN_KEYS:
        values = [e[key] for e in epochs if isinstance(e.get(key), (int, float))]
        out[key] = statistics.fmean(values) if values else math.nan
    for key in LAST_KEYS:
        value = history[-1].get(key) if history else None
        out[key] = float(value) if isinstance(value, (int, float)) else math.nan
    return out


def pair_with_uniform(records: Sequence[dict[str, Any]],
                      sizes: dict[str, int] | None = None) -> list[Pair]:
    r"""Pairs every non-uniform variant with its uniform baseline, seed by seed.

    Args:
        records (Sequence[dict]): Run records; a later record of the same run and seed
            replaces an earlier one.
        sizes (dict[str, int], optional): Dataset sizes :math:`N`, for :math:`M/N` of
            records that do not hold their ``num_graphs`` (default: the manifest's).

    Returns:
        list[Pair]: One per (group, dataset, variant), in order of first appearance.
    """
    if sizes is None:
        sizes = {name: info["graphs"] for name, info in tu_manifest().items()}
    cells: dict[tuple[str, str, str], dict[int, dict[str, Any]]] = {}
    for record in records:
        group, variant = _split(record)
        cells.setdefault((group, record["dataset"], variant), {})[record["seed"]] = record
    pairs = []
    for (group, dataset, variant), runs in cells.items():
        if variant == "uniform":
            continue
        base = cells.get((group, dataset, "uniform"), {})
        seeds = sorted(set(runs) & set(base))
        diff = Stat.of([runs[s]["accuracy_mean"] - base[s]["accuracy_mean"]
                        for s in seeds]) if seeds else None
        diagnostics = [_run_diagnostics(r) for r in runs.values()]
        means = {k: _nanmean([d[k] for d in diagnostics]) for k in RUN_KEYS + LAST_KEYS}
        first = next(iter(runs.values()))
        pairs.append(Pair(group, dataset, variant, _m_over_n(first, sizes),
                          Stat.of([r["accuracy_mean"] for r in runs.values()]), diff, means,
                          tuple(sorted({str(r.get("commit", "unknown")) for r in runs.values()}))))
    return pairs


def _nanmean(values: Sequence[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return statistics.fmean(kept) if kept else math.nan


__all__ = ["LAST_KEYS", "Pair", "RUN_KEYS", "pair_with_uniform"]
