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
        filled (torch.Tensor, optional): Shape :obj:`[W, B]`, bool: the entries of
            :obj:`batches` that came from the uniform top-up (:obj:`num_filled` in all).
    """
    batches: Tensor
    num_filled: int
    steps: int
    filled: Tensor | None = None


def first_distinct(traj: Tensor, count: int, keys: Tensor | None = None) -> tuple[Tensor, Tensor]:
    r"""The first ``count`` distinct values of every row of ``traj``, in order of appearance.

    Args:
        traj (torch.Tensor): Shape :obj:`[W, T]`, int64.
        count (int): How many distinct values to take per row.
        keys (torch.Tensor, optional): What distinct means, shape :obj:`[W, T]`: a
            value is taken only where its key first appears in its row (default: the
            values themselves).

    Returns:
        (torch.Tensor, torch.Tensor): the values :obj:`[W, count]` and a boolean mask
        :obj:`[W, count]` that is ``False`` where a row had fewer distinct values.

    Example:
        >>> first_distinct(torch.tensor([[3, 3, 1, 2]]), 2)
        (tensor([[3, 1]]), tensor([[True, True]]))
    """
    w, t = traj.shape
    sorted_keys, order = (traj if keys is None else keys).sort(dim=1, stable=True)
    first = torch.ones_like(sorted_keys, dtype=torch.bool)  # equal keys stay in time order
    first[:, 1:] = sorted_keys[:, 1:] != sorted_keys[:, :-1]
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
    groups: Tensor | None = None,
    num_walked: int | None = None,
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

    With ``groups``, distinct means distinct groups: a walk records the first node it
    visits of each group (e.g. of each set of twins, :func:`twin_groups`), and its
    top-ups are drawn from groups it lacks, one node per group, for as long as there
    are such groups.

    With ``num_walked`` :math:`m < B`, a walk stops at its first :math:`m` distinct
    nodes (exactly the batch a walk for :math:`B = m` records) and the other
    :math:`B - m` are uniform draws of nodes it lacks: a batch that mixes hard and
    uniform negatives. Those draws are not counted as top-ups.

    Every walk step is one tensor operation over all walkers: the cost is
    :math:`O(\text{steps} \cdot W)` device work and no Python work per node.

    Args:
        neighbors (torch.Tensor): Out-neighbour table, shape :obj:`[N, k]`, int64.
        starts (torch.Tensor): Start nodes, shape :obj:`[W]`.
        num_distinct (int): Distinct nodes :math:`B` per walk, :math:`1 \leq B \leq N`.
        restart_prob (float): Restart probability :math:`\alpha \in [0, 1)`.
        generator (torch.Generator, optional): Source of randomness, on the device of
            ``neighbors``.
        max_steps (int, optional): Step cap. (default: :obj:`64 * m`, ``m`` the
            nodes walked)
        groups (torch.Tensor, optional): A group label in :math:`[0, N)` per node,
            shape :obj:`[N]`, int64. (default: :obj:`None`, every node its own group)
        num_walked (int, optional): Nodes :math:`m \leq B` per batch taken from the
            walk, :math:`m` below. (default: :obj:`B`)

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
    walked = num_distinct if num_walked is None else check_int(num_walked, "num_walked", 1,
                                                                num_distinct)
    max_steps = 64 * walked if max_steps is None else check_int(max_steps, "max_steps", 0)
    if groups is not None:
        groups = check_indices(groups, n, "groups").to(device)
        if groups.shape != (n,):
            raise ValueError(f"groups must hold one label per node, shape [{n}], got "
                             f"{list(groups.shape)}")

    round_len = walk_round_len(walked)
    traj, steps = starts[:, None], 0
    found = torch.ones_like(starts)  # distinct nodes (groups) per walker
    stalled = torch.zeros_like(starts)  # rounds since a walker last found a new one
    while steps < max_steps:
        cols = _advance(neighbors, starts, traj[:, -1], min(round_len, max_steps - steps),
                        alpha, generator)
        steps += cols.size(1)
        traj = torch.cat([traj, cols], dim=1)
        sorted_traj = (traj if groups is None else groups[traj]).sort(dim=1).values
        distinct = 1 + (sorted_traj[:, 1:] != sorted_traj[:, :-1]).sum(dim=1)
        stalled = torch.where(distinct > found, 0, stalled + 1)
        found = distinct
        if bool(((distinct >= walked) | (stalled >= STALL_ROUNDS)).all()):
            break
    batches, valid = first_distinct(traj, walked, None if groups is None else groups[traj])
    filled = ~valid
    num_filled = int(filled.sum())
    if walked < num_distinct:  # the uniform part, drawn like top-ups (but not counted)
        filled = torch.cat([filled, filled.new_zeros(len(filled), num_distinct - walked)], 1)
        batches = torch.cat([batches, batches[:, :1].expand(-1, num_distinct - walked)], 1)
        valid = torch.cat([valid, valid.new_zeros(len(valid), num_distinct - walked)], 1)
    short = (~valid).any(dim=1)
    if bool(short.any()):
        # Key 2 for the walk's own nodes (a row's valid entries are a prefix, its start
        # first), uniform keys below 1 for the rest: the top-B keys are the walk's nodes
        # followed by uniform draws of nodes it lacks.
        rows = short.nonzero().view(-1)
        keys = torch.rand(rows.numel(), n, generator=generator, device=device)
        own = torch.where(valid[rows], batches[rows], batches[rows, :1])
        if groups is not None:
            keys = _one_per_group(keys, groups, groups[own])
        keys.scatter_(1, own, 2.0)
        drawn = keys.topk(num_distinct, dim=1).indices
        batches[rows] = torch.where(valid[rows], batches[rows], drawn)
    return WalkResult(batches, num_filled, steps, filled)


def _one_per_group(keys: Tensor, groups: Tensor, taken: Tensor) -> Tensor:
    r"""Lowers by 2 the uniform keys :obj:`[R, N]` of nodes whose group is ``taken``
    :obj:`[R, *]` by their row, or that are not the top key of their group: the top
    keys then draw one node per group the row lacks, before any repeated group."""
    rows = keys.size(0)
    best = keys.new_full((rows, keys.size(1)), -1.0)
    best.scatter_reduce_(1, groups.expand(rows, -1), keys, "amax")
    best.scatter_(1, taken, 2.0)  # no key reaches 2: every node of a taken group drops
    return torch.where(keys == best.gather(1, groups.expand(rows, -1)), keys, keys - 2.0)
