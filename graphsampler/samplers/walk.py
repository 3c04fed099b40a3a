r"""Random walk with restart over a neighbour table, vectorised over many walkers."""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from graphsampler.samplers._checks import check_indices, check_int, check_restart_prob


class WalkResult(NamedTuple):
    r"""Output of :func:`random_walk_with_restart`.

    Attributes:
        batches (torch.Tensor): Shape :obj:`[W, B]`, int64: row :obj:`w` holds the first
            :math:`B` distinct nodes walker :obj:`w` visited, in visit order (its start
            first), topped up with uniform draws if the walk fell short.
        num_filled (int): How many entries in all came from the uniform top-up.
        steps (int): Walk steps simulated (per walker).
    """
    batches: Tensor
    num_filled: int
    steps: int


def first_distinct(traj: Tensor, count: int) -> tuple[Tensor, Tensor]:
    r"""The first ``count`` distinct values of every row of ``traj``, in order of appearance.

    Args:
        traj (torch.Tensor): Shape :obj:`[W, T]`, int64.
        count (int): How many distinct values to take per row.

    Returns:
        (torch.Tensor, torch.Tensor): the values :obj:`[W, count]` and a boolean mask
        :obj:`[W, count]` that is ``False`` where a row had fewer distinct values.
    """
    w, t = traj.shape
    vals, order = traj.sort(dim=1, stable=True)  # equal values stay in time order
    first = torch.ones_like(vals, dtype=torch.bool)
    first[:, 1:] = vals[:, 1:] != vals[:, :-1]
    never = t  # a time no step has
    first_time = torch.where(first, order, torch.full_like(order, never))
    times = first_time.sort(dim=1).values[:, :count]
    if times.size(1) < count:
        times = torch.cat([times, times.new_full((w, count - times.size(1)), never)], dim=1)
    valid = times < never
    return traj.gather(1, times.clamp(max=t - 1)), valid


def _advance(neighbors: Tensor, starts: Tensor, cur: Tensor, num_steps: int, alpha: float,
             generator: torch.Generator | None) -> Tensor:
    r"""``num_steps`` steps of every walker from ``cur``; returns positions :obj:`[W, T]`."""
    num_walkers, device = starts.numel(), starts.device
    restart = torch.rand(num_steps, num_walkers, generator=generator, device=device) < alpha
    pick = torch.randint(neighbors.size(1), (num_steps, num_walkers), generator=generator,
                         device=device)
    cols = torch.empty(num_steps, num_walkers, dtype=torch.long, device=device)
    for s in range(num_steps):  # one tensor step over all walkers per walk step
        cur = torch.where(restart[s], starts, neighbors[cur, pick[s]])
        cols[s] = cur
    return cols.T


def rwr_trajectory(neighbors: Tensor, starts: Tensor, num_steps: int, restart_prob: float,
                   *, generator: torch.Generator | None = None,
                   round_len: int | None = None) -> Tensor:
    r"""The positions of random walks with restart, one walker per start node.

    At each step a walker returns to its start with probability ``restart_prob``, else
    moves to a uniformly chosen column of its row of ``neighbors``. The long-run visit
    frequencies of a walker are the personalized PageRank of its start node with
    teleport probability ``restart_prob``.

    Args:
        neighbors (torch.Tensor): Out-neighbour table, shape :obj:`[N, k]`, int64.
        starts (torch.Tensor): Start nodes, shape :obj:`[W]`.
        num_steps (int): Steps :math:`T` to simulate.
        restart_prob (float): Restart probability :math:`\alpha \in [0, 1)`.
        generator (torch.Generator, optional): Source of randomness.
        round_len (int, optional): Steps whose random numbers are drawn at once (the
            stream of a seeded generator depends on it). (default: :obj:`num_steps`)

    Returns:
        torch.Tensor: Shape :obj:`[W, T + 1]`: the start, then the position after each step.

    Example:
        >>> nbr = torch.tensor([[1], [2], [0]])  # a directed 3-cycle
        >>> rwr_trajectory(nbr, torch.tensor([0]), 4, 0.0)
        tensor([[0, 1, 2, 0, 1]])
    """
    n = _check_table(neighbors)
    starts = check_indices(starts, n, "starts").to(neighbors.device)
    check_int(num_steps, "num_steps", 0)
    alpha = check_restart_prob(restart_prob)
    round_len = max(1, num_steps) if round_len is None else check_int(round_len, "round_len", 1)
    traj = starts[:, None]
    for done in range(0, num_steps, round_len):
        cols = _advance(neighbors, starts, traj[:, -1], min(round_len, num_steps - done),
                        alpha, generator)
        traj = torch.cat([traj, cols], dim=1)
    return traj


#: Rounds (of :func:`walk_round_len` steps) without a new node after which a walker
#: is taken to have exhausted what it can reach, and is topped up.
STALL_ROUNDS = 2


def walk_round_len(num_distinct: int) -> int:
    r"""Steps per round of :func:`random_walk_with_restart` (it checks for completion
    between rounds)."""
    return max(16, num_distinct)


def _check_table(neighbors: Tensor) -> int:
    if not isinstance(neighbors, Tensor) or neighbors.dim() != 2 or neighbors.size(1) < 1:
        raise ValueError("neighbors must be a 2-D tensor [N, k] with k >= 1")
    check_indices(neighbors, neighbors.size(0), "neighbors")
    return neighbors.size(0)


def random_walk_with_restart(
    neighbors: Tensor,
    starts: Tensor,
    num_distinct: int,
    restart_prob: float,
    *,
    generator: torch.Generator | None = None,
    max_steps: int | None = None,
) -> WalkResult:
    r"""Runs one random walk with restart per start node until it has visited
    ``num_distinct`` distinct nodes, all walkers advancing together.

    At each step a walker returns to its start with probability ``restart_prob``, else
    moves to a uniformly chosen out-neighbour (a column of ``neighbors``). Each walk
    records its first :math:`B` distinct nodes, its start first, as in BatchSampler
    (Yang et al., KDD 2023). A walk still short of :math:`B` after ``max_steps`` steps
    (its reachable set is too small), or that found no new node in
    :data:`STALL_ROUNDS` rounds of :math:`\max(16, B)` steps, is topped up with uniform
    draws of nodes it lacks, and the top-ups are counted. The stall rule ends walks
    trapped in a small reachable set after a few hundred steps rather than
    ``max_steps``.

    Every walk step is one tensor operation over all walkers: the cost is
    :math:`O(\text{steps} \cdot W)` device work and no Python work per node.

    Args:
        neighbors (torch.Tensor): Out-neighbour table, shape :obj:`[N, k]`, int64.
        starts (torch.Tensor): Start nodes, shape :obj:`[W]`.
        num_distinct (int): Distinct nodes :math:`B` per walk, :math:`1 \leq B \leq N`.
        restart_prob (float): Restart probability :math:`\alpha \in [0, 1)`.
        generator (torch.Generator, optional): Source of randomness, on the device of
            ``neighbors``.
        max_steps (int, optional): Step cap. (default: :obj:`64 * B`)

    Returns:
        WalkResult: the batches :obj:`[W, B]`, the top-up count and the step count.

    Example:
        >>> nbr = torch.tensor([[1, 2], [2, 0], [0, 1]])  # a directed triangle
        >>> out = random_walk_with_restart(nbr, torch.tensor([0, 2]), 3, 0.2)
        >>> out.batches[:, 0]
        tensor([0, 2])
    """
    n = _check_table(neighbors)
    device = neighbors.device
    starts = check_indices(starts, n, "starts").to(device)
    check_int(num_distinct, "num_distinct", 1, n)
    alpha = check_restart_prob(restart_prob)
    max_steps = 64 * num_distinct if max_steps is None else check_int(max_steps, "max_steps", 0)

    round_len = walk_round_len(num_distinct)
    traj, steps = starts[:, None], 0
    found = torch.ones_like(starts)  # distinct nodes per walker
    stalled = torch.zeros_like(starts)  # rounds since a walker last found a new node
    while steps < max_steps:
        cols = _advance(neighbors, starts, traj[:, -1], min(round_len, max_steps - steps),
                        alpha, generator)
        steps += cols.size(1)
        traj = torch.cat([traj, cols], dim=1)
        sorted_traj = traj.sort(dim=1).values
        distinct = 1 + (sorted_traj[:, 1:] != sorted_traj[:, :-1]).sum(dim=1)
        stalled = torch.where(distinct > found, 0, stalled + 1)
        found = distinct
        if bool(((distinct >= num_distinct) | (stalled >= STALL_ROUNDS)).all()):
            break
    batches, valid = first_distinct(traj, num_distinct)
    short = (~valid).any(dim=1)
    num_filled = int((~valid).sum())
    if num_filled:
        # Key 2 for the walk's own nodes (a row's valid entries are a prefix, its start
        # first), uniform keys below 1 for the rest: the top-B keys are the walk's nodes
        # followed by uniform draws of nodes it lacks.
        rows = short.nonzero().view(-1)
        keys = torch.rand(rows.numel(), n, generator=generator, device=device)
        own = torch.where(valid[rows], batches[rows], batches[rows, :1])
        keys.scatter_(1, own, 2.0)
        drawn = keys.topk(num_distinct, dim=1).indices
        batches[rows] = torch.where(valid[rows], batches[rows], drawn)
    return WalkResult(batches, num_filled, steps)
