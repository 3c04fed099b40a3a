r"""The statistics of a results file, per *cell* (method/loss, dataset, sampler, and the
settings where they differ from the paper's).

* accuracy: each run's ``accuracy_mean`` (its mean over the 10 SVM folds), then mean
  and sample standard deviation (:math:`n - 1`) over the seeds;
* the paper's mean and std (``graphsampler/bench/paper_results.csv``, the BatchSampler
  paper's graph table); the verdict is *yes* when our mean :math:`\geq` paper mean
  :math:`-` paper std, i.e. within one of the paper's standard deviations or above;
* against uniform: the per-seed paired difference ``sampler - uniform`` over the seeds
  both ran, its mean, std and number of seeds;
* hardness: the last epoch's ``neg_cos_mean``, ``neg_cos_max``,
  ``false_negative_rate`` and the sampler's ``coverage``, averaged over seeds.

Example:
    .. code-block:: python

        cells = summarize(read_results("runs/quick/results.jsonl"))
        cells[0].stat.mean  # 86.2
"""
from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from graphsampler.bench.config import IDENTITY, PLACE, RunConfig
from graphsampler.bench.registry import SAMPLERS

HARDNESS_KEYS = ("neg_cos_mean", "neg_cos_max", "false_negative_rate", "coverage")


def paper_results() -> dict[tuple[str, str, str, str], tuple[float, float]]:
    r"""The paper's graph table: ``{(method, loss, sampler, dataset): (mean, std)}``
    (a fresh copy of ``graphsampler/bench/paper_results.csv``).

    Example:
        >>> paper_results()[("graphcl", "infonce", "proximity", "MUTAG")]
        (87.78, 0.93)
    """
    return dict(_paper_table())


@lru_cache(maxsize=1)
def _paper_table() -> dict[tuple[str, str, str, str], tuple[float, float]]:
    text = resources.files("graphsampler.bench").joinpath("paper_results.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO("".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("#"))))
    return {(r["method"], r["loss"], r["sampler"], r["dataset"]): (float(r["mean"]),
                                                                   float(r["std"]))
            for r in rows}


#: The paper's uniform baselines it copied from the GraphCL and MVGRL papers instead of
#: rerunning, as ``(method, loss, dataset)``: its proximity numbers there are not paired
#: with a baseline of its own, so only absolute comparisons with ours mean anything.
COPIED_BASELINES = frozenset(
    [("graphcl", "infonce", d) for d in ("MUTAG", "PROTEINS", "NCI1")]
    + [("mvgrl", "jsd", d) for d in ("MUTAG", "PROTEINS", "NCI1", "IMDB-BINARY",
                                      "IMDB-MULTI", "COLLAB", "REDDIT-BINARY")])


def paper_baseline(method: str, loss: str, dataset: str) -> str | None:
    r"""How the paper got its uniform number for a cell: ``"rerun"`` (a paired
    comparison), ``"copied"`` (from the method's own paper), or None (no such cell).

    Example:
        >>> (paper_baseline("graphcl", "infonce", "MUTAG"),
        ...  paper_baseline("graphcl", "infonce", "COLLAB"))
        ('copied', 'rerun')
    """
    if (method, loss, "uniform", dataset) not in _paper_table():
        return None
    return "copied" if (method, loss, dataset) in COPIED_BASELINES else "rerun"


@dataclass(frozen=True)
class Stat:
    r"""Mean and sample std (NaN for one value) of ``n`` values."""
    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        std = statistics.stdev(values) if len(values) > 1 else math.nan
        return cls(statistics.fmean(values), std, len(values))


@dataclass(frozen=True)
class Cell:
    r"""One row of the accuracy table.

    Attributes:
        group: ``method/loss``, plus the settings that differ from the paper's.
        method, loss, dataset, sampler: What the row is about.
        paper_settings: Whether the runs used the default settings (the paper's
            protocol, see :class:`~graphsampler.bench.RunConfig`), which the paper's
            numbers are compared with.
        accuracy: By seed, each run's mean accuracy over folds.
        hardness: By seed, the last epoch's :data:`HARDNESS_KEYS`.
        curves: By seed, per epoch, the :data:`HARDNESS_KEYS`.
        commits: The commits its runs recorded, sorted.
    """
    group: str
    method: str
    loss: str
    dataset: str
    sampler: str
    paper_settings: bool
    accuracy: dict[int, float]
    hardness: dict[int, dict[str, float]]
    curves: dict[int, list[dict[str, float]]]
    commits: tuple[str, ...] = ()

    @property
    def stat(self) -> Stat:
        return Stat.of(list(self.accuracy.values()))

    @property
    def paper(self) -> tuple[float, float] | None:
        return _paper_table().get((self.method, self.loss, self.sampler, self.dataset))

    @property
    def verdict(self) -> bool | None:
        r"""Our mean :math:`\geq` paper mean :math:`-` paper std; None if not comparable
        (no paper value, or other settings than the paper's)."""
        if self.paper is None or not self.paper_settings:
            return None
        return self.stat.mean >= self.paper[0] - self.paper[1]


def changed_settings(config: dict[str, Any]) -> dict[str, Any]:
    r"""The settings of a record's ``config`` that differ from the paper's (the
    :class:`RunConfig` defaults of its method and sampler)."""
    ours = RunConfig.from_record(config).settings()
    paper = RunConfig(**{k: ours[k] for k in IDENTITY}).settings()
    return {k: v for k, v in ours.items()
            if k not in IDENTITY and k not in PLACE and v != paper.get(k)}


def summarize(records: Sequence[dict[str, Any]]) -> list[Cell]:
    r"""Groups records into cells, in the order the cells first occur (samplers in
    registry order). A later record of the same run and seed replaces an earlier one.

    Args:
        records (Sequence[dict]): Run records (see
            :func:`~graphsampler.bench.read_results`).

    Returns:
        list[Cell]: The cells.
    """
    cells: dict[tuple, dict[str, Any]] = {}
    for record in records:
        settings = changed_settings(record["config"])
        group = f"{record['method']}/{record['loss']}" + "".join(
            f" {k}={v}" for k, v in sorted(settings.items()))
        key = (group, record["dataset"], record["sampler"])
        cell = cells.setdefault(key, dict(
            group=group, method=record["method"], loss=record["loss"],
            dataset=record["dataset"], sampler=record["sampler"],
            paper_settings=not settings, accuracy={}, hardness={}, curves={}, commits={}))
        seed = record["seed"]
        cell["accuracy"][seed] = float(record["accuracy_mean"])
        cell["commits"][seed] = str(record.get("commit", "unknown"))
        curves = [{k: v for k, v in {**h.get("sampler_stats", {}), **h}.items()
                   if k in HARDNESS_KEYS} for h in record.get("history") or []]
        cell["curves"][seed] = curves
        if curves:
            cell["hardness"][seed] = curves[-1]
        else:
            cell["hardness"].pop(seed, None)
    first: dict[tuple[str, str], int] = {}
    for group, dataset, _ in cells:
        first.setdefault((group, dataset), len(first))
    order = sorted(cells, key=lambda k: (first[k[:2]], list(SAMPLERS).index(k[2])))
    return [Cell(**{**cells[k], "commits": tuple(sorted(set(cells[k]["commits"].values())))})
            for k in order]


def paired_difference(cell: Cell, base: Cell) -> Stat | None:
    r"""``cell - base`` accuracy, seed by seed over the seeds both have (None if none)."""
    seeds = sorted(set(cell.accuracy) & set(base.accuracy))
    if not seeds:
        return None
    return Stat.of([cell.accuracy[s] - base.accuracy[s] for s in seeds])


def hardness_means(cell: Cell) -> dict[str, float]:
    r"""The last epoch's :data:`HARDNESS_KEYS`, each averaged over the seeds that have it."""
    means = {}
    for key in HARDNESS_KEYS:
        values = [h[key] for h in cell.hardness.values() if key in h]
        means[key] = statistics.fmean(values) if values else math.nan
    return means


__all__ = ["COPIED_BASELINES", "Cell", "HARDNESS_KEYS", "paper_baseline", "Stat",
           "changed_settings", "hardness_means", "paired_difference", "paper_results",
           "summarize"]
