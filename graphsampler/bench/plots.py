r"""The report's plots: accuracy by sampler (bars from 0%) and batch hardness per epoch.

Example:
    >>> plot_accuracy(summarize(records)).savefig("accuracy.png")
"""
from __future__ import annotations

import math
import statistics
from typing import Any, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from graphsampler.bench.stats import Cell

ACCURACY_PNG = "accuracy.png"
HARDNESS_PNG = "hardness.png"
_COLORS = {"uniform": "#4c72b0", "knn": "#dd8452", "proximity": "#55a868"}


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


__all__ = ["ACCURACY_PNG", "HARDNESS_PNG", "plot_accuracy", "plot_hardness"]
