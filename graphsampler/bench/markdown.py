r"""Number formatting shared by the report's tables: a missing value is ``–``, and a
mean over one seed prints without a spread (never ``± 0.00`` or ``± nan``)."""
from __future__ import annotations

import math

from graphsampler.bench.stats import Stat


def pm(stat: Stat | tuple[float, float] | None, signed: bool = False) -> str:
    r"""``mean ± std`` to two decimals (``mean`` alone when the std is NaN, as it is for
    one value; ``–`` for None)."""
    if stat is None:
        return "–"
    mean, std = (stat.mean, stat.std) if isinstance(stat, Stat) else stat
    text = f"{mean:+.2f}" if signed else f"{mean:.2f}"
    return text if math.isnan(std) else f"{text} ± {std:.2f}"


def num(value: float | None, fmt: str = ".3f") -> str:
    r"""``value`` in ``fmt``, ``–`` for None or NaN."""
    return "–" if value is None or math.isnan(value) else format(value, fmt)


def short(commit: str) -> str:
    r"""A commit's first 7 characters, ``-dirty`` kept."""
    return commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")


def commits(names: tuple[str, ...]) -> str:
    r"""Short commit hashes, comma-separated."""
    return ", ".join(short(c) for c in names)


__all__ = ["commits", "num", "pm", "short"]
