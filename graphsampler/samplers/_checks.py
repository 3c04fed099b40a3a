r"""Argument checks shared by the samplers: each raises a ValueError that says what to change."""
from __future__ import annotations

import math

import torch
from torch import Tensor


def check_indices(indices: Tensor, num_items: int, name: str) -> Tensor:
    r"""Returns ``indices`` as a 1-D int64 tensor after checking they lie in ``[0, num_items)``."""
    if not isinstance(indices, Tensor):
        indices = torch.as_tensor(indices)
    if indices.dtype in (torch.bool,) or indices.is_floating_point() or indices.is_complex():
        raise ValueError(f"{name} must be an integer tensor, got dtype {indices.dtype}")
    indices = indices.reshape(-1).long()
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= num_items):
        raise ValueError(
            f"{name} must lie in [0, {num_items}), got values in "
            f"[{int(indices.min())}, {int(indices.max())}]; pass dataset indices "
            "(e.g. batch.sample_idx from IndexedDataset)"
        )
    return indices


def check_int(value: object, name: str, low: int, high: int | None = None) -> int:
    r"""Checks ``low <= value (<= high)`` for an int ``value``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_restart_prob(value: float) -> float:
    r"""Checks a restart probability lies in ``[0, 1)``."""
    if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value < 1:
        raise ValueError(
            f"restart_prob must be a number in [0, 1) (the walk's chance to jump back to its "
            f"start at each step), got {value!r}"
        )
    return float(value)


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    r"""Checks ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def check_twin_threshold(value: float | None, name: str = "twin_threshold") -> float | None:
    r"""Checks a twin threshold: ``None``, or a cosine similarity in ``(-1, 1]``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not -1 < value <= 1:
        raise ValueError(f"{name} must be None or a cosine similarity in (-1, 1] "
                         f"(e.g. 0.999), got {value!r}")
    return float(value)


def check_fraction(value: float, name: str) -> float:
    r"""Checks a fraction: a number in :math:`(0, 1]`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not 0 < value <= 1:
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")
    return float(value)


def resolve_count(value: int | float, num_items: int, name: str) -> int:
    r"""A count given as an int :math:`\geq 1`, or as a float fraction of ``num_items``
    in :math:`(0, 1]` (rounded up, at least 1).

    Example:
        >>> resolve_count(0.1, 1500, "num_candidates"), resolve_count(50, 1500, "k")
        (150, 50)
    """
    if isinstance(value, float):
        if not math.isfinite(value) or not 0 < value <= 1:
            raise ValueError(f"{name} given as a fraction of N must be a float in (0, 1], "
                             f"got {value!r}; give an int for an absolute count")
        return max(1, math.ceil(value * num_items - 1e-9))
    return check_int(value, name, 1)


def resolve_sizes(num_candidates: int | float, num_neighbors: int | float,
                  num_items: int, batch_size: int) -> tuple[int, int]:
    r"""The proximity graph's :math:`(M, k)` for :math:`N` = ``num_items`` instances and
    batches of :math:`B` = ``batch_size``.

    A count (an int) is taken as given. A fraction of :math:`N` (a float) is floored so
    that it cannot fall to a handful on a small dataset:
    :math:`k \geq \lceil\sqrt{B}\rceil`, the out-degree at which a walk reaches
    :math:`B` instances within two hops, and :math:`M \geq 10 \lceil\sqrt{B}\rceil` (the
    study's :math:`k = M/10`), then capped at :math:`M \leq N` and
    :math:`k < \min(M, N - 1)`. Without the floor, :math:`M = 0.03 N` on MUTAG is 6
    candidates and 1 neighbour, and almost every batch slot is a uniform top-up.

    Example:
        >>> resolve_sizes(0.03, 0.003, 188, 128), resolve_sizes(0.03, 0.003, 100_000, 128)
        ((120, 12), (3000, 300))
        >>> resolve_sizes(100, 10, 188, 128)
        (100, 10)
    """
    m = resolve_count(num_candidates, num_items, "num_candidates")
    k = resolve_count(num_neighbors, num_items, "num_neighbors")
    floor = math.ceil(math.sqrt(batch_size))
    if isinstance(num_neighbors, float):
        k = max(k, min(floor, num_items - 2))
    if isinstance(num_candidates, float):
        m = min(max(m, 10 * floor), num_items)
        if m <= k < num_items - 1:
            m = k + 1  # keep k best of at least k + 1
    return m, k

