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
import math
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphsampler.bench.ablation import LAST_KEYS, Pair, pair_with_uniform
from graphsampler.bench.plots import (
    ACCURACY_PNG,
    HARDNESS_PNG,
    SWEEP_PNG,
    is_sweep_point,
    plot_accuracy,
    plot_hardness,
    plot_sweep,
    save_png,
)
from graphsampler.bench.results import RESULTS_FILE, read_results
from graphsampler.bench.stats import (
    HARDNESS_KEYS,
    Cell,
    Stat,
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


def _pm(stat: Stat | tuple[float, float] | None, signed: bool = False) -> str:
    if stat is None:
        return "–"
    mean, std = (stat.mean, stat.std) if isinstance(stat, Stat) else stat
    text = f"{mean:+.2f}" if signed else f"{mean:.2f}"
    return text if math.isnan(std) else f"{text} ± {std:.2f}"


def _short(commit: str) -> str:
    return commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")


def _num(value: float, fmt: str = ".3f") -> str:
    return "–" if math.isnan(value) else format(value, fmt)


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
            f"| {cell.group} | {cell.dataset} | {cell.sampler} | {_pm(stat)} | {stat.n} "
            f"| {_pm(ref)} | {f'{stat.mean - ref[0]:+.2f}' if ref else '–'} "
            f"| {_pm(diff, signed=True)}{f' ({diff.n})' if diff else ''} "
            f"| {f'{paper_diff:+.2f}' if paper_diff is not None else '–'} "
            f"| {paper_baseline(cell.method, cell.loss, cell.dataset) or '–'} | {verdict} "
            f"| {', '.join(_short(c) for c in cell.commits)} |")
        name = f"{cell.group} {cell.dataset} {cell.sampler}"
        if cell.verdict is False:
            shortfalls.append(
                f"- {name}: {_pm(stat)} over {stat.n} seed(s) against the paper's "
                f"{_pm(ref)}: {ref[0] - stat.mean:.2f} points below, more than the "
                f"paper's std.")
        if diff is not None and paper_diff is not None and paper_diff > 0:
            pairs += 1
            if diff.mean <= 0:
                shortfalls.append(
                    f"- {name} does not beat uniform: paired Δ {_pm(diff, signed=True)} "
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


def _ablation_section(pairs: Sequence[Pair]) -> list[str]:
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
        counts = "/".join(_num(d[k], ".0f") for k in LAST_KEYS)
        lines.append(
            f"| {p.group} | {p.dataset} | {p.variant} | {_num(p.m_over_n, '.3g')} "
            f"| {_pm(p.accuracy)} | {_pm(p.difference, signed=True)}"
            f"{f' ({p.difference.n})' if p.difference else ''} "
            f"| {_num(d['neg_cos_mean'])} | {_num(d['twin_rate'])} "
            f"| {_num(d['false_negative_rate'])} | {_num(d['coverage'], '.2f')} "
            f"| {_num(d['walk_filled'], '.0f')} | {counts} "
            f"| {', '.join(_short(c) for c in p.commits)} |")
    lines += ["", "### Variants across datasets", "",
              "| method/loss | variant | datasets | mean Δ | datasets with Δ > 0 | worst Δ |",
              "|---|---|---|---|---|---|"]
    across: dict[tuple[str, str], list[Pair]] = {}
    for p in pairs:
        if p.difference is not None:
            across.setdefault((p.group, p.variant), []).append(p)
    for (group, variant), members in across.items():
        diffs = [m.difference.mean for m in members]
        lines.append(f"| {group} | {variant} | {', '.join(m.dataset for m in members)} "
                     f"| {sum(diffs) / len(diffs):+.2f} | {sum(x > 0 for x in diffs)} of "
                     f"{len(diffs)} | {min(diffs):+.2f} |")
    return lines + ["", f"![paired difference against M/N]({SWEEP_PNG})", ""]


def render_report(records: Sequence[dict[str, Any]], source: str = RESULTS_FILE) -> str:
    r"""The markdown report of ``records``.

    Args:
        records (Sequence[dict]): Run records.
        source (str): Where they came from, for the report's first line.
    """
    cells = summarize(records)
    lines = ["# graphsampler benchmark report", "",
             f"{len(records)} run record(s) from `{source}`, {len(cells)} cell(s) "
             "(method/loss, dataset, sampler).", "", _INTRO, "", *_accuracy_section(cells)]
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
    pairs = pair_with_uniform(records)
    if any("=" in p.variant or p.variant.split()[0] not in ("knn", "proximity")
           for p in pairs):
        lines += ["", *_ablation_section(pairs)]
    lines += ["", "## Where the runs came from", "", "| device | commit | runs |", "|---|---|---|"]
    for (device, commit), count in Counter(
            (r.get("device", "unknown"), r.get("commit", "unknown")) for r in records).items():
        lines.append(f"| {device} | {commit} | {count} |")
    versions = sorted({json.dumps(r.get("versions", {}), sort_keys=True) for r in records})
    train_s = sum(r.get("train_seconds", 0.0) for r in records)
    eval_s = sum(r.get("eval_seconds", 0.0) for r in records)
    lines += ["", f"Versions: {'; '.join(versions)}.",
              f"Total time: training {train_s:.1f} s, evaluation {eval_s:.1f} s.", "",
              "## Plots", "", f"![accuracy by sampler (axis from 0%)]({ACCURACY_PNG})", "",
              f"![batch hardness per epoch]({HARDNESS_PNG})", ""]
    return "\n".join(lines)


def write_report(out_dir: str | os.PathLike[str]) -> Path:
    r"""Writes ``report.md``, ``accuracy.png`` and ``hardness.png`` from
    ``out_dir/results.jsonl`` (or ``results.jsonl.gz`` when there is no plain one).

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
    report = out_dir / REPORT_FILE
    report.write_text(render_report(records, results.name), encoding="utf-8")  # beside it
    cells = summarize(records)
    save_png(plot_accuracy(cells), out_dir / ACCURACY_PNG)
    save_png(plot_hardness(cells), out_dir / HARDNESS_PNG)
    pairs = pair_with_uniform(records)
    if any(is_sweep_point(p) for p in pairs):
        save_png(plot_sweep(pairs), out_dir / SWEEP_PNG)
    return report


__all__ = ["REPORT_FILE", "render_report", "write_report"]
