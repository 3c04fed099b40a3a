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
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from graphsampler.bench.record import Record, Settings, changed_settings, label
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

    @property
    def se(self) -> float:
        r"""Standard error of the mean, :math:`s / \sqrt{n}` (NaN for one value)."""
        return self.std / math.sqrt(self.n)

    @property
    def t(self) -> float:
        r"""The one-sample t statistic of the mean against 0 (NaN for one value; signed
        infinity when every value is the same nonzero number)."""
        if math.isnan(self.std):
            return math.nan
        if self.std == 0:
            return math.copysign(math.inf, self.mean) if self.mean else math.nan
        return self.mean / self.se


@dataclass(frozen=True)
class Cell:
    r"""One row of the accuracy table.

    Attributes:
        group: ``method/loss``, plus the settings that differ from the paper's (a
            label for display; :attr:`settings` holds them).
        method, loss, dataset, sampler: What the row is about.
        paper_settings: Whether the runs used the default settings (the paper's
            protocol, see :class:`~graphsampler.bench.RunConfig`), which the paper's
            numbers are compared with.
        accuracy: By seed, each run's mean accuracy over folds.
        hardness: By seed, the last epoch's :data:`HARDNESS_KEYS`.
        curves: By seed, per epoch, the :data:`HARDNESS_KEYS`.
        commits: The commits its runs recorded, sorted.
        settings: The settings that differ from the paper's, as sorted pairs.
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
    settings: Settings = ()

    @cached_property
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


def summarize(records: Sequence[Record | dict[str, Any]]) -> list[Cell]:
    r"""Groups records into cells, in the order the cells first occur (samplers in
    registry order). A later record of the same run and seed replaces an earlier one.

    Args:
        records (Sequence[Record or dict]): Run records (see
            :func:`~graphsampler.bench.read_results`).

    Returns:
        list[Cell]: The cells.
    """
    cells: dict[tuple, dict[str, Any]] = {}
    for record in as_records(records):
        group = label(f"{record.method}/{record.loss}", record.changed)
        key = (group, record.dataset, record.sampler)
        cell = cells.setdefault(key, dict(
            group=group, method=record.method, loss=record.loss, dataset=record.dataset,
            sampler=record.sampler, paper_settings=not record.changed,
            accuracy={}, hardness={}, curves={}, commits={}, settings=record.changed))
        seed = record.seed
        cell["accuracy"][seed] = float(record.accuracy_mean)
        cell["commits"][seed] = str(record.commit)
        curves = [{k: v for k, v in {**h.get("sampler_stats", {}), **h}.items()
                   if k in HARDNESS_KEYS} for h in record.history]
        cell["curves"][seed] = curves
        if curves:
            cell["hardness"][seed] = curves[-1]
        else:
            cell["hardness"].pop(seed, None)
    first: dict[tuple[str, str], int] = {}
    for group, dataset, _ in cells:
        first.setdefault((group, dataset), len(first))
    order = sorted(cells, key=lambda k: (first[k[:2]], _sampler_rank(k[2])))
    return [Cell(**{**cells[k], "commits": tuple(sorted(set(cells[k]["commits"].values())))})
            for k in order]


def as_records(records: Sequence[Record | dict[str, Any]]) -> list[Record]:
    r"""``records`` as :class:`Record` (dicts read through :meth:`Record.from_dict`)."""
    return [r if isinstance(r, Record) else Record.from_dict(r) for r in records]


def _sampler_rank(sampler: str) -> int:
    names = list(SAMPLERS)
    return names.index(sampler) if sampler in names else len(names)


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


__all__ = ["COPIED_BASELINES", "HARDNESS_KEYS", "Cell", "Stat", "as_records",
           "changed_settings", "hardness_means", "paired_difference", "paper_baseline",
           "paper_results", "summarize"]
