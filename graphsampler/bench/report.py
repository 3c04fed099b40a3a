r"""The benchmark report: ``DIR/report.md`` (our accuracies beside the paper's, batch
hardness, provenance) and its plots, from ``DIR/results.jsonl``. The statistics are
those of :mod:`graphsampler.bench.stats`; runs that differ from the paper's settings
form their own cells, labelled with the differing settings, and get no verdict.

Example:
    .. code-block:: python

        write_report("runs/quick")  # PosixPath('runs/quick/report.md')
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphsampler.bench.ablation import Pair, pair_with_uniform
from graphsampler.bench.markdown import commits, num, pm
from graphsampler.bench.paired_report import (
    ablation_section,
    batch_ratio_points,
    batch_ratio_section,
    norm_section,
    pooled_section,
    uniform_norm_section,
)
from graphsampler.bench.plots import (
    ACCURACY_PNG,
    BATCH_RATIO_PNG,
    HARDNESS_PNG,
    SWEEP_PNG,
    is_sweep_point,
    plot_accuracy,
    plot_batch_ratio,
    plot_hardness,
    plot_sweep,
    save_png,
)
from graphsampler.bench.pooled import Slope
from graphsampler.bench.record import Record
from graphsampler.bench.results import RESULTS_FILE, read_results
from graphsampler.bench.stats import (
    HARDNESS_KEYS,
    Cell,
    as_records,
    hardness_means,
    paired_difference,
    paper_baseline,
    paper_results,
    summarize,
)

REPORT_FILE = "report.md"
_INTRO = (
    "Accuracy: SVM on frozen embeddings, 10-fold CV; each run gives its mean over folds, "
    "and a cell shows the mean ± sample std of those over its seeds. *Paper*: the "
    "BatchSampler paper's graph table (mean ± std). *Δ vs uniform*: the per-seed paired "
    "difference sampler − uniform over the seeds both ran, mean ± std (seeds). "
    "*Paper's uniform*: rerun where the paper trained its own uniform baseline (a paired "
    "comparison), copied where it took the number from the GraphCL or MVGRL paper (its Δ "
    "vs uniform is then not paired; compare our proximity accuracy with the paper's in "
    "absolute terms, *ours − paper*). "
    "*Verdict*: yes when our mean ≥ paper mean − paper std (within 1 std of the paper or "
    "above); – when the paper has no such cell or the runs did not use the paper's "
    "settings. *Commit*: the code each cell's runs recorded.")


@dataclass(frozen=True)
class Summary:
    r"""Everything the report and its plots show, computed once from the records.

    Attributes:
        records: The records, read through :class:`Record`.
        cells: :func:`~graphsampler.bench.summarize`'s cells.
        pairs: :func:`~graphsampler.bench.ablation.pair_with_uniform`'s pairs.
        batch_points, batch_fits: The :math:`B/N` axis' pairs and fits.
    """
    records: list[Record]
    cells: list[Cell]
    pairs: list[Pair]
    batch_points: list[Pair]
    batch_fits: dict[str, Slope]

    @classmethod
    def of(cls, records: Sequence[Record | dict[str, Any]]) -> Summary:
        records = as_records(records)
        pairs = pair_with_uniform(records)
        return cls(records, summarize(records), pairs, *batch_ratio_points(pairs))

    @property
    def sweep(self) -> bool:
        r"""Whether there is an :math:`M/N` sweep to plot."""
        return any(is_sweep_point(p) and p.difference is not None for p in self.pairs)

    @property
    def batch_axis(self) -> bool:
        r"""Whether the :math:`B/N` axis has more than one batch size to plot."""
        return len({p.batch_size for p in self.batch_points}) > 1


def _accuracy_section(cells: Sequence[Cell]) -> list[str]:
    uniform = {(c.group, c.dataset): c for c in cells if c.sampler == "uniform"}
    paper = paper_results()
    lines = ["## Accuracy (%)", "",
             "| method/loss | dataset | sampler | ours | seeds | paper | ours − paper "
             "| Δ vs uniform (paired) | paper Δ vs uniform | paper's uniform "
             "| within 1 std of paper or above | commit |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    shortfalls, pairs = [], 0
    for cell in cells:
        stat, ref = cell.stat, cell.paper
        base = uniform.get((cell.group, cell.dataset))
        diff = paired_difference(cell, base) if base and cell.sampler != "uniform" else None
        paper_base = paper.get((cell.method, cell.loss, "uniform", cell.dataset))
        paper_diff = (ref[0] - paper_base[0] if ref and paper_base and cell.sampler != "uniform"
                      else None)
        verdict = {True: "yes", False: "**no**", None: "–"}[cell.verdict]
        lines.append(
            f"| {cell.group} | {cell.dataset} | {cell.sampler} | {pm(stat)} | {stat.n} "
            f"| {pm(ref)} | {f'{stat.mean - ref[0]:+.2f}' if ref else '–'} "
            f"| {pm(diff, signed=True)}{f' ({diff.n})' if diff else ''} "
            f"| {f'{paper_diff:+.2f}' if paper_diff is not None else '–'} "
            f"| {paper_baseline(cell.method, cell.loss, cell.dataset) or '–'} | {verdict} "
            f"| {commits(cell.commits)} |")
        name = f"{cell.group} {cell.dataset} {cell.sampler}"
        if cell.verdict is False:
            shortfalls.append(
                f"- {name}: {pm(stat)} over {stat.n} seed(s) against the paper's "
                f"{pm(ref)}: {ref[0] - stat.mean:.2f} points below, more than the "
                f"paper's std.")
        if diff is not None and paper_diff is not None and paper_diff > 0:
            pairs += 1
            if diff.mean <= 0:
                shortfalls.append(
                    f"- {name} does not beat uniform: paired Δ {pm(diff, signed=True)} "
                    f"over {diff.n} seed(s), where the paper gains {paper_diff:+.2f}.")
    return lines + ["", "## Where we fall short of the paper", "",
                    *(shortfalls or [_no_shortfall(cells, pairs)])]


def _no_shortfall(cells: Sequence[Cell], pairs: int) -> str:
    compared = sum(c.verdict is not None for c in cells)
    other = sum(c.paper is not None and not c.paper_settings for c in cells)
    text = (f"Nowhere among the {compared} cell(s) compared with the paper: each is within "
            f"1 std of the paper or above, and each of the {pairs} sampler(s) the paper "
            f"finds better than uniform beats it here too." if compared else
            "No cell is compared with the paper: none ran the paper's settings on a "
            "dataset of its table.")
    if other:
        text += (f" {other} cell(s) ran other settings than the paper's and are not "
                 f"compared.")
    return text


def render_report(records: Sequence[Record | dict[str, Any]], source: str = RESULTS_FILE,
                  summary: Summary | None = None) -> str:
    r"""The markdown report of ``records``.

    Args:
        records (Sequence[Record or dict]): Run records.
        source (str): Where they came from, for the report's first line.
        summary (Summary, optional): ``Summary.of(records)``, when the caller has it.
    """
    summary = Summary.of(records) if summary is None else summary
    cells, pairs, records = summary.cells, summary.pairs, summary.records
    lines = ["# graphsampler benchmark report", "",
             f"{len(records)} run record(s) from `{source}`, {len(cells)} cell(s) "
             "(method/loss, dataset, sampler).", "", _INTRO, "", *_accuracy_section(cells)]
    few = sorted({c.stat.n for c in cells if c.paper is not None and c.stat.n < 5})
    if few:
        lines += ["", f"Some cells have fewer seeds ({', '.join(map(str, few))}) than the "
                      "paper's 5; their means and stds are rougher estimates."]
    lines += ["", *_hardness_section(cells), *norm_section(pairs),
              *uniform_norm_section(records)]
    variants = any(p.variant_settings or p.sampler not in ("knn", "proximity")
                   for p in pairs)
    if variants:
        lines += ablation_section(pairs, summary.sweep)
    if any(p.difference is not None for p in pairs):
        lines += pooled_section(pairs)
    if summary.batch_axis:
        lines += batch_ratio_section(summary.batch_points, summary.batch_fits)
    lines += ["## Where the runs came from", "", "| device | commit | runs |", "|---|---|---|"]
    for (device, commit), count in Counter((r.device, r.commit) for r in records).items():
        lines.append(f"| {device} | {commit} | {count} |")
    versions = sorted({json.dumps(r.versions, sort_keys=True) for r in records})
    train_s = sum(r.train_seconds for r in records)
    eval_s = sum(r.eval_seconds for r in records)
    lines += ["", f"Versions: {'; '.join(versions)}.",
              f"Total time: training {train_s:.1f} s, evaluation {eval_s:.1f} s.", "",
              "## Plots", "", f"![accuracy by sampler (axis from 0%)]({ACCURACY_PNG})", "",
              f"![batch hardness per epoch]({HARDNESS_PNG})", ""]
    if summary.sweep and not variants:
        lines += [f"![paired difference against M/N]({SWEEP_PNG})", ""]
    return "\n".join(lines)


def _hardness_section(cells: Sequence[Cell]) -> list[str]:
    lines = [
        "## Batch hardness (last epoch, mean over seeds)", "",
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
                     + " | ".join(num(h[k]) for k in HARDNESS_KEYS)
                     + f" | {len(cell.hardness)} |")
    return lines + [""]


def write_report(out_dir: str | os.PathLike[str]) -> Path:
    r"""Writes ``report.md`` and its plots (``accuracy.png``, ``hardness.png``, and
    ``m_over_n.png`` and ``b_over_n.png`` where the records hold such sweeps) from
    ``out_dir/results.jsonl`` (or ``results.jsonl.gz`` when there is no plain one);
    every plot written is linked from the report.

    Args:
        out_dir (str or os.PathLike): A bench results folder.

    Returns:
        Path: The report file.

    Example:
        .. code-block:: python

            write_report("runs/quick")  # PosixPath('runs/quick/report.md')
    """
    out_dir = Path(out_dir)
    results = out_dir / RESULTS_FILE
    if not results.is_file() and (out_dir / f"{RESULTS_FILE}.gz").is_file():
        results = out_dir / f"{RESULTS_FILE}.gz"
    if not results.is_file():
        raise ValueError(f"{results} not found; run `graphsampler bench --out {out_dir}` "
                         f"first, or pass the folder that holds {RESULTS_FILE}")
    records = read_results(results)
    if not records:
        raise ValueError(f"{results} holds no complete run record; run the bench first")
    summary = Summary.of(records)
    report = out_dir / REPORT_FILE
    report.write_text(render_report(records, results.name, summary),  # beside it
                      encoding="utf-8")
    save_png(plot_accuracy(summary.cells), out_dir / ACCURACY_PNG)
    save_png(plot_hardness(summary.cells), out_dir / HARDNESS_PNG)
    if summary.sweep:
        save_png(plot_sweep(summary.pairs), out_dir / SWEEP_PNG)
    if summary.batch_axis:
        save_png(plot_batch_ratio(summary.batch_points, summary.batch_fits),
                 out_dir / BATCH_RATIO_PNG)
    return report


__all__ = ["REPORT_FILE", "Summary", "render_report", "write_report"]
