r"""The report's plots: accuracy by sampler (bars from 0%), batch hardness per epoch,
and the paired difference against :math:`M/N` and against :math:`B/N`.

Example:
    .. code-block:: python

        plot_accuracy(summarize(records)).savefig("accuracy.png")
"""
from __future__ import annotations

import io
import math
import os
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter
from PIL import Image

from graphsampler.bench.ablation import Pair
from graphsampler.bench.pooled import Slope
from graphsampler.bench.stats import Cell

ACCURACY_PNG = "accuracy.png"
HARDNESS_PNG = "hardness.png"
SWEEP_PNG = "m_over_n.png"
BATCH_RATIO_PNG = "b_over_n.png"
_COLORS = {"uniform": "#4c72b0", "knn": "#dd8452", "proximity": "#55a868"}


def save_png(fig: Figure, path: str | os.PathLike[str], dpi: int = 100) -> None:
    r"""Saves ``fig`` as a PNG of at most 256 colours (a palette image): line and bar
    plots use a handful, and a report with many panels stays a fraction of the size of
    a full-colour PNG.

    Example:
        .. code-block:: python

            save_png(plot_hardness(summarize(records)), "hardness.png")
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(256).save(path, format="PNG", optimize=True)


def _panels(cells: Sequence[Cell]) -> dict[tuple[str, str], list[Cell]]:
    panels: dict[tuple[str, str], list[Cell]] = {}
    for cell in cells:
        panels.setdefault((cell.group, cell.dataset), []).append(cell)
    return panels


def plot_accuracy(cells: Sequence[Cell]) -> Figure:
    r"""Bar chart per method/loss and dataset: accuracy by sampler (std error bars) with
    the paper's value (mean ± std) as a black diamond; the axis starts at 0%, so that
    bar lengths compare.

    Args:
        cells (Sequence[Cell]): From :func:`~graphsampler.bench.summarize`.

    Returns:
        matplotlib.figure.Figure: One panel per method/loss and dataset.
    """
    panels = _panels(cells)
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(3.4 * cols, 3.0 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, ((group, dataset), members) in zip(axes, panels.items()):
        for x, cell in enumerate(members):
            stat = cell.stat
            err = 0.0 if math.isnan(stat.std) else stat.std
            ax.bar(x, stat.mean, yerr=err, capsize=4, color=_COLORS.get(cell.sampler),
                   label=cell.sampler)
            ax.annotate(f"{stat.mean:.1f}", (x, stat.mean + err), ha="center",
                        va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
            if cell.paper is not None:
                ax.errorbar(x + 0.3, cell.paper[0], yerr=cell.paper[1], fmt="kD",
                            markersize=5, capsize=3, label="paper")
        ax.set_ylim(0, 105)
        ax.set_xticks(range(len(members)), [c.sampler for c in members])
        ax.set_title(f"{dataset}\n{group}", fontsize=10)
        ax.set_ylabel("accuracy (%)")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    _legend(fig, axes)
    return fig


def plot_hardness(cells: Sequence[Cell]) -> Figure:
    r"""Per method/loss and dataset, ``neg_cos_mean`` and ``false_negative_rate`` per
    epoch (mean over seeds), one line per sampler.

    Args:
        cells (Sequence[Cell]): From :func:`~graphsampler.bench.summarize`.

    Returns:
        matplotlib.figure.Figure: Two panels per method/loss and dataset.
    """
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
                    ax.plot(range(len(curve)), curve, marker=".",
                            color=_COLORS.get(cell.sampler), label=cell.sampler)
            ax.set_title(f"{dataset} {group}\n{key}", fontsize=9)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes.ravel()[2 * len(panels):]:
        ax.set_visible(False)
    _legend(fig, axes.ravel())
    return fig


def is_sweep_point(pair: Pair) -> bool:
    r"""Whether ``pair`` is a point of the :math:`M/N` sweep: the proximity sampler with
    no setting changed but ``num_candidates`` and ``num_neighbors``."""
    names = {name for name, _ in pair.variant_settings}
    return pair.sampler == "proximity" and names <= {"num_candidates", "num_neighbors"} \
        and not math.isnan(pair.m_over_n)


def plot_sweep(pairs: Sequence[Pair]) -> Figure:
    r"""The paired difference proximity - uniform (mean ± std over seeds) against
    :math:`M/N` (log scale), one line per dataset; a dashed line at 0.

    Args:
        pairs (Sequence[Pair]): From :func:`~graphsampler.bench.ablation.pair_with_uniform`;
            the sweep's points are chosen by :func:`is_sweep_point`.

    Returns:
        matplotlib.figure.Figure: One panel per method/loss.
    """
    groups: dict[str, dict[str, list[Pair]]] = {}
    for pair in pairs:
        if is_sweep_point(pair) and pair.difference is not None:
            groups.setdefault(pair.group, {}).setdefault(pair.dataset, []).append(pair)
    fig = Figure(figsize=(5.5 * max(1, len(groups)), 4.0), layout="constrained")
    axes = fig.subplots(1, max(1, len(groups)), squeeze=False).ravel()
    for ax, (group, datasets) in zip(axes, groups.items()):
        _series(ax, datasets, lambda p: p.m_over_n, lambda p: p.difference.std)
        _log_axis(ax, "M / N (candidates per instance / dataset size)",
                  [p.m_over_n for points in datasets.values() for p in points])
        ax.set_ylabel("accuracy: proximity - uniform (points, paired)")
        ax.set_title(group, fontsize=10)
        ax.legend(fontsize=8, loc="best")
    return fig


def _series(ax: Any, datasets: dict[str, list[Pair]], x: Callable[[Pair], float],
            err: Callable[[Pair], float]) -> None:
    # one line per dataset: the paired difference's mean against x, with error bars
    for dataset, points in datasets.items():
        points = sorted(points, key=x)
        ax.errorbar([x(p) for p in points], [p.difference.mean for p in points],
                    yerr=[_finite(err(p)) for p in points], marker="o", capsize=3,
                    label=dataset)


def plot_batch_ratio(points: Sequence[Pair], fits: dict[str, Slope]) -> Figure:
    r"""The paired difference (mean ± standard error over seeds) against :math:`B/N`
    (log scale), one series per dataset, one panel per method/loss and sampler, with
    the weighted fit :math:`\Delta = a + b \log_{10}(B/N)` of ``fits`` drawn where given.

    Args:
        points (Sequence[Pair]): The pairs to draw (each with a difference and
            :math:`N`).
        fits (dict[str, Slope]): By panel title (``method/loss sampler``), the fit.

    Returns:
        matplotlib.figure.Figure: One panel per method/loss and sampler.
    """
    panels: dict[str, dict[str, list[Pair]]] = {}
    for pair in points:
        title = f"{pair.method}/{pair.loss} {pair.sampler}"
        panels.setdefault(title, {}).setdefault(pair.dataset, []).append(pair)
    fig = Figure(figsize=(5.5 * max(1, len(panels)), 4.2), layout="constrained")
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False).ravel()
    for ax, (title, datasets) in zip(axes, panels.items()):
        _series(ax, datasets, lambda p: p.b_over_n, lambda p: p.difference.se)
        fit = fits.get(title)
        if fit is not None and not math.isnan(fit.slope):
            xs = [p.b_over_n for members in datasets.values() for p in members]
            grid = [min(xs), max(xs)]
            ax.plot(grid, [fit.intercept + fit.slope * math.log10(x) for x in grid], "k-",
                    linewidth=1, label=f"WLS slope {fit.slope:+.2f} per decade")
        _log_axis(ax, "B / N (batch size / dataset size)",
                  [p.b_over_n for members in datasets.values() for p in members])
        ax.set_ylabel("accuracy: sampler - uniform (points, paired)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="best")
    return fig


def _log_axis(ax: Any, xlabel: str, xs: Sequence[float]) -> None:
    r"""A log x axis ticked at the data's own values (two significant digits), a tick
    kept only when it is at least an eighth of the axis from the last one, minor ticks
    unlabelled: matplotlib's default labels minor ticks when the data span less than a
    decade, and those labels overlapped."""
    ax.axhline(0.0, color="k", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    values = sorted({float(f"{x:.2g}") for x in xs if math.isfinite(x) and x > 0})
    if values:
        gap = max(math.log10(values[-1] / values[0]), 1e-9) / 8
        ticks = [values[0]]
        for x in values[1:]:
            if math.log10(x / ticks[-1]) >= gap:
                ticks.append(x)
        ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelrotation=40)
    ax.set_xlabel(xlabel)


def _finite(value: float) -> float:
    return 0.0 if math.isnan(value) else value


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


__all__ = ["ACCURACY_PNG", "BATCH_RATIO_PNG", "HARDNESS_PNG", "SWEEP_PNG", "is_sweep_point",
           "plot_accuracy", "plot_batch_ratio", "plot_hardness", "plot_sweep", "save_png"]
