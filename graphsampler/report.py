r"""The benchmark report: our accuracies beside the paper's, batch hardness, plots.

:func:`write_report` reads ``DIR/results.jsonl`` (one JSON record per run, as
:func:`graphsampler.experiment.run` returns it) and writes ``DIR/report.md``,
``DIR/accuracy.png`` and ``DIR/hardness.png``.

Statistics, per method/loss, dataset and sampler (a *cell*):

* accuracy: each run's ``accuracy_mean`` (its mean over the 10 SVM folds), then mean
  and sample standard deviation (:math:`n - 1`) over the seeds;
* the paper's mean and std (``paper_results.csv``, the BatchSampler paper's graph table);
  the verdict is *yes* when our mean :math:`\geq` paper mean :math:`-` paper std, i.e.
  within one of the paper's standard deviations or above;
* against uniform: the per-seed paired difference ``sampler - uniform`` over the seeds
  both ran, its mean, std and number of seeds;
* hardness: the last epoch's ``neg_cos_mean``, ``neg_cos_max``,
  ``false_negative_rate`` (fraction of same-label negative pairs) and the sampler's
  ``coverage`` (fraction of the dataset the epoch's batches held), averaged over seeds.

Runs that differ from the paper's settings (e.g. fewer epochs) form their own cells,
labelled with the differing settings, and get no verdict.

Example:
    >>> write_report("benchmarks/results/quick")
    PosixPath('benchmarks/results/quick/report.md')
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import statistics
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from graphsampler.experiment import SAMPLERS, RunConfig

RESULTS_FILE = "results.jsonl"
REPORT_FILE = "report.md"
ACCURACY_PNG = "accuracy.png"
HARDNESS_PNG = "hardness.png"
HARDNESS_KEYS = ("neg_cos_mean", "neg_cos_max", "false_negative_rate", "coverage")
_RECORD_KEYS = ("method", "loss", "dataset", "sampler", "seed", "accuracy_mean", "config")
#: Config fields that name a cell or a run rather than a setting.
_NOT_SETTINGS = ("method", "loss", "dataset", "sampler", "seed", "device", "data_root")
_DEFAULTS = dataclasses.asdict(RunConfig())
_COLORS = {"uniform": "#4c72b0", "knn": "#dd8452", "proximity": "#55a868"}


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    r"""The records of a ``results.jsonl``, skipping (with a warning) every line that is
    not a complete record, such as a last line cut short by a kill.

    Args:
        path (str or os.PathLike): The JSONL file.

    Returns:
        list[dict]: The records, in file order.

    Example:
        >>> records = read_results("benchmarks/results/quick/results.jsonl")
    """
    records = []
    with Path(path).open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                record_key(record)
            except (ValueError, TypeError, KeyError) as err:
                warnings.warn(f"{path}:{number}: skipped a line that is not a complete run "
                              f"record ({type(err).__name__}: {err}); a run killed while "
                              f"writing leaves one, and the next bench redoes that run",
                              RuntimeWarning, stacklevel=2)
                continue
            records.append(record)
    return records


def record_key(record: dict[str, Any]) -> tuple:
    r"""The :meth:`RunConfig.key` of a record (config fields this version lacks are
    dropped, new ones take their defaults).

    Raises:
        KeyError: A key of a record is missing. ValueError, TypeError: not a record.
    """
    if not isinstance(record, dict):
        raise TypeError(f"a record is a JSON object, got {type(record).__name__}")
    missing = [k for k in _RECORD_KEYS if k not in record]
    if missing:
        raise KeyError(f"missing {', '.join(missing)}")
    if not isinstance(record["config"], dict):
        raise TypeError(f"config is a JSON object, got {type(record['config']).__name__}")
    config = {k: v for k, v in record["config"].items() if k in _DEFAULTS}
    return RunConfig(**config).key()


def paper_results() -> dict[tuple[str, str, str, str], tuple[float, float]]:
    r"""The paper's graph table: ``{(method, loss, sampler, dataset): (mean, std)}``
    (a fresh copy of ``graphsampler/paper_results.csv``).

    Example:
        >>> paper_results()[("graphcl", "infonce", "proximity", "MUTAG")]
        (87.78, 0.93)
    """
    return dict(_paper_table())


@lru_cache(maxsize=1)
def _paper_table() -> dict[tuple[str, str, str, str], tuple[float, float]]:
    text = resources.files("graphsampler").joinpath("paper_results.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO("".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("#"))))
    return {(r["method"], r["loss"], r["sampler"], r["dataset"]): (float(r["mean"]),
                                                                   float(r["std"]))
            for r in rows}


@dataclass(frozen=True)
class Stat:
    r"""Mean and sample std (NaN for one value) of ``n`` values."""
    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> "Stat":
        std = statistics.stdev(values) if len(values) > 1 else math.nan
        return cls(statistics.fmean(values), std, len(values))


@dataclass(frozen=True)
class Cell:
    r"""One row of the accuracy table.

    Attributes:
        group: ``method/loss``, plus the settings that differ from the paper's.
        method, loss, dataset, sampler: What the row is about.
        paper_settings: Whether the runs used the paper's settings.
        accuracy: By seed, each run's mean accuracy over folds.
        hardness: By seed, the last epoch's :data:`HARDNESS_KEYS`.
        curves: By seed, per epoch, the :data:`HARDNESS_KEYS`.
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

    @property
    def stat(self) -> Stat:
        return Stat.of(list(self.accuracy.values()))

    @property
    def paper(self) -> tuple[float, float] | None:
        return _paper_table().get((self.method, self.loss, self.sampler, self.dataset))

    @property
    def verdict(self) -> bool | None:
        r"""Our mean :math:`\geq` paper mean :math:`-` paper std; None if not comparable."""
        if self.paper is None or not self.paper_settings:
            return None
        return self.stat.mean >= self.paper[0] - self.paper[1]


def summarize(records: Sequence[dict[str, Any]]) -> list[Cell]:
    r"""Groups records into cells, in the order the cells first occur (samplers in
    ``uniform, knn, proximity`` order). A later record of the same run and seed
    replaces an earlier one.

    Args:
        records (Sequence[dict]): Run records (see :func:`read_results`).

    Returns:
        list[Cell]: The cells.
    """
    cells: dict[tuple, dict[str, Any]] = {}
    for record in records:
        settings = {k: v for k, v in record["config"].items()
                    if k in _DEFAULTS and k not in _NOT_SETTINGS and v != _DEFAULTS[k]}
        group = f"{record['method']}/{record['loss']}" + "".join(
            f" {k}={v}" for k, v in sorted(settings.items()))
        key = (group, record["dataset"], record["sampler"])
        cell = cells.setdefault(key, dict(
            group=group, method=record["method"], loss=record["loss"],
            dataset=record["dataset"], sampler=record["sampler"],
            paper_settings=not settings, accuracy={}, hardness={}, curves={}))
        seed = record["seed"]
        cell["accuracy"][seed] = float(record["accuracy_mean"])
        history = record.get("history") or []
        curves = [{k: v for k, v in {**h.get("sampler_stats", {}), **h}.items()
                   if k in HARDNESS_KEYS} for h in history]
        cell["curves"][seed] = curves
        if curves:
            cell["hardness"][seed] = curves[-1]
        else:
            cell["hardness"].pop(seed, None)
    first = {}
    for group, dataset, _ in cells:
        first.setdefault((group, dataset), len(first))
    order = sorted(cells, key=lambda k: (first[k[:2]], SAMPLERS.index(k[2])))
    return [Cell(**cells[k]) for k in order]


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


def _pm(stat: Stat | tuple[float, float] | None, signed: bool = False) -> str:
    if stat is None:
        return "–"
    mean, std = (stat.mean, stat.std) if isinstance(stat, Stat) else stat
    text = f"{mean:+.2f}" if signed else f"{mean:.2f}"
    return text if math.isnan(std) else f"{text} ± {std:.2f}"


def _num(value: float, fmt: str = ".3f") -> str:
    return "–" if math.isnan(value) else format(value, fmt)


def _uniform_of(cells: Sequence[Cell]) -> dict[tuple[str, str], Cell]:
    return {(c.group, c.dataset): c for c in cells if c.sampler == "uniform"}


def render_report(records: Sequence[dict[str, Any]], source: str = RESULTS_FILE) -> str:
    r"""The markdown report of ``records`` (see the module docstring for the statistics).

    Args:
        records (Sequence[dict]): Run records.
        source (str): Where they came from, for the report's first line.
    """
    cells = summarize(records)
    uniform = _uniform_of(cells)
    paper = _paper_table()
    lines = [
        "# graphsampler benchmark report", "",
        f"{len(records)} run record(s) from `{source}`, {len(cells)} cell(s) "
        "(method/loss, dataset, sampler).", "",
        "Accuracy: SVM on frozen embeddings, 10-fold CV; each run gives its mean over "
        "folds, and a cell shows the mean ± sample std of those over its seeds. *Paper*: "
        "the BatchSampler paper's graph table (mean ± std). *Δ vs uniform*: the per-seed "
        "paired difference sampler − uniform over the seeds both ran, mean ± std "
        "(seeds). *Verdict*: yes when our mean ≥ paper mean − paper std (within 1 std "
        "of the paper or above); – when the paper has no such cell or the runs did not "
        "use the paper's settings.", "",
        "## Accuracy (%)", "",
        "| method/loss | dataset | sampler | ours | seeds | paper | ours − paper "
        "| Δ vs uniform (paired) | paper Δ vs uniform | within 1 std of paper or above |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    shortfalls = []
    for cell in cells:
        stat, ref = cell.stat, cell.paper
        base = uniform.get((cell.group, cell.dataset))
        diff = paired_difference(cell, base) if base and cell.sampler != "uniform" else None
        paper_base = paper.get((cell.method, cell.loss, "uniform", cell.dataset))
        paper_diff = (ref[0] - paper_base[0] if ref and paper_base and cell.sampler != "uniform"
                      else None)
        verdict = {True: "yes", False: "**no**", None: "–"}[cell.verdict]
        lines.append(
            f"| {cell.group} | {cell.dataset} | {cell.sampler} | {_pm(stat)} | {stat.n} "
            f"| {_pm(ref)} | {f'{stat.mean - ref[0]:+.2f}' if ref else '–'} "
            f"| {_pm(diff, signed=True)}{f' ({diff.n})' if diff else ''} "
            f"| {f'{paper_diff:+.2f}' if paper_diff is not None else '–'} | {verdict} |")
        name = f"{cell.group} {cell.dataset} {cell.sampler}"
        if cell.verdict is False:
            shortfalls.append(
                f"- {name}: {_pm(stat)} over {stat.n} seed(s) against the paper's "
                f"{_pm(ref)}: {ref[0] - stat.mean:.2f} points below, more than the "
                f"paper's std.")
        if diff is not None and paper_diff is not None and paper_diff > 0 >= diff.mean:
            shortfalls.append(
                f"- {name} does not beat uniform: paired Δ {_pm(diff, signed=True)} over "
                f"{diff.n} seed(s), where the paper gains {paper_diff:+.2f}.")
    lines += ["", "## Where we fall short of the paper", ""]
    lines += shortfalls or ["Nowhere: every cell with a paper value is within 1 std of the "
                            "paper or above, and no sampler the paper finds better than "
                            "uniform loses to it here."]
    few = sorted({c.stat.n for c in cells if c.paper is not None and c.stat.n < 5})
    if few:
        lines += ["", f"Some cells have fewer seeds ({', '.join(map(str, few))}) than the "
                      "paper's 5; their means and stds are rougher estimates."]
    lines += [
        "", "## Batch hardness (last epoch, mean over seeds)", "",
        "Cosine similarity of the in-batch negative pairs (projection-head embeddings), "
        "the false-negative rate (fraction of negative pairs that share a label) and the "
        "epoch's coverage (fraction of the dataset its batches held; runs recorded "
        "before coverage was logged show –).", "",
        "| method/loss | dataset | sampler | neg_cos_mean | neg_cos_max "
        "| false_negative_rate | coverage | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        h = hardness_means(cell)
        lines.append(f"| {cell.group} | {cell.dataset} | {cell.sampler} | "
                     + " | ".join(_num(h[k]) for k in HARDNESS_KEYS)
                     + f" | {len(cell.hardness)} |")
    lines += ["", "## Where the runs came from", "", "| device | commit | runs |", "|---|---|---|"]
    for (device, commit), count in Counter(
            (r.get("device", "unknown"), r.get("commit", "unknown")) for r in records).items():
        lines.append(f"| {device} | {commit} | {count} |")
    versions = sorted({json.dumps(r.get("versions", {}), sort_keys=True) for r in records})
    train_s = sum(r.get("train_seconds", 0.0) for r in records)
    eval_s = sum(r.get("eval_seconds", 0.0) for r in records)
    lines += ["", f"Versions: {'; '.join(versions)}.",
              f"Total time: training {train_s:.1f} s, evaluation {eval_s:.1f} s.", "",
              "## Plots", "", f"![accuracy by sampler]({ACCURACY_PNG})", "",
              f"![batch hardness per epoch]({HARDNESS_PNG})", ""]
    return "\n".join(lines)


def _panels(cells: Sequence[Cell]) -> dict[tuple[str, str], list[Cell]]:
    panels: dict[tuple[str, str], list[Cell]] = {}
    for cell in cells:
        panels.setdefault((cell.group, cell.dataset), []).append(cell)
    return panels


def plot_accuracy(cells: Sequence[Cell], path: str | os.PathLike[str]) -> None:
    r"""Bar chart per method/loss and dataset: accuracy by sampler (std error bars) with
    the paper's value (mean ± std) as a black diamond."""
    panels = _panels(cells)
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(3.4 * cols, 3.0 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, ((group, dataset), members) in zip(axes, panels.items()):
        lows, highs = [], []
        for x, cell in enumerate(members):
            stat = cell.stat
            err = 0.0 if math.isnan(stat.std) else stat.std
            ax.bar(x, stat.mean, yerr=err, capsize=4, color=_COLORS[cell.sampler],
                   label=cell.sampler)
            ax.annotate(f"{stat.mean:.1f}", (x, stat.mean + err), ha="center",
                        va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
            lows.append(stat.mean - err)
            highs.append(stat.mean + err)
            if cell.paper is not None:
                ax.errorbar(x + 0.3, cell.paper[0], yerr=cell.paper[1], fmt="kD",
                            markersize=5, capsize=3, label="paper")
                lows.append(cell.paper[0] - cell.paper[1])
                highs.append(cell.paper[0] + cell.paper[1])
        span = max(highs) - min(lows)
        ax.set_ylim(min(lows) - max(span, 2.0), max(highs) + 0.4 * max(span, 2.0))
        ax.set_xticks(range(len(members)), [c.sampler for c in members])
        ax.set_title(f"{dataset}\n{group}", fontsize=10)
        ax.set_ylabel("accuracy (%)")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    _legend(fig, axes)
    fig.savefig(path, dpi=100)


def plot_hardness(cells: Sequence[Cell], path: str | os.PathLike[str]) -> None:
    r"""Per method/loss and dataset, ``neg_cos_mean`` and ``false_negative_rate`` per
    epoch (mean over seeds), one line per sampler."""
    panels = _panels(cells)
    cols = min(2, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(6.4 * cols, 2.8 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, 2 * cols, squeeze=False)
    for i, ((group, dataset), members) in enumerate(panels.items()):
        pair = axes[i // cols, 2 * (i % cols):2 * (i % cols) + 2]
        for ax, key in zip(pair, ("neg_cos_mean", "false_negative_rate")):
            for cell in members:
                curve = _mean_curve(cell, key)
                if curve:
                    ax.plot(range(len(curve)), curve, marker=".", color=_COLORS[cell.sampler],
                            label=cell.sampler)
            ax.set_title(f"{dataset} {group}\n{key}", fontsize=9)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes.ravel()[2 * len(panels):]:
        ax.set_visible(False)
    _legend(fig, axes.ravel())
    fig.savefig(path, dpi=100)


def _mean_curve(cell: Cell, key: str) -> list[float]:
    length = max((len(c) for c in cell.curves.values()), default=0)
    curve = []
    for epoch in range(length):
        values = [c[epoch][key] for c in cell.curves.values()
                  if epoch < len(c) and key in c[epoch]]
        curve.append(statistics.fmean(values) if values else math.nan)
    return curve


def _legend(fig: Figure, axes: Sequence[Any]) -> None:
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center",
                   ncols=len(handles))


def write_report(out_dir: str | os.PathLike[str]) -> Path:
    r"""Writes ``report.md``, ``accuracy.png`` and ``hardness.png`` from
    ``out_dir/results.jsonl``.

    Args:
        out_dir (str or os.PathLike): A bench results folder.

    Returns:
        Path: The report file.

    Example:
        >>> write_report("benchmarks/results/quick")
        PosixPath('benchmarks/results/quick/report.md')
    """
    out_dir = Path(out_dir)
    results = out_dir / RESULTS_FILE
    if not results.is_file():
        raise ValueError(f"{results} not found; run `graphsampler bench --out {out_dir}` "
                         f"first, or pass the folder that holds {RESULTS_FILE}")
    records = read_results(results)
    if not records:
        raise ValueError(f"{results} holds no complete run record; run the bench first")
    report = out_dir / REPORT_FILE
    report.write_text(render_report(records, str(results)), encoding="utf-8")
    cells = summarize(records)
    plot_accuracy(cells, out_dir / ACCURACY_PNG)
    plot_hardness(cells, out_dir / HARDNESS_PNG)
    return report


__all__ = [
    "Cell",
    "HARDNESS_KEYS",
    "RESULTS_FILE",
    "Stat",
    "hardness_means",
    "paired_difference",
    "paper_results",
    "read_results",
    "record_key",
    "render_report",
    "summarize",
    "write_report",
]
