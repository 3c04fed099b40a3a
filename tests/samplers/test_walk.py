import networkx as nx
import pytest
import torch

from graphsampler.samplers.walk import (
    first_distinct,
    random_walk_with_restart,
    rwr_trajectory,
    walk_round_len,
)

# A fixed directed graph, out-degree 3, no repeated column (so a uniform column is a
# uniform out-edge, as networkx's PageRank assumes).
TABLE = torch.tensor([
    [1, 2, 3], [2, 4, 5], [0, 3, 6], [4, 7, 1], [5, 0, 2],
    [6, 7, 3], [7, 0, 1], [0, 4, 6],
])


def ppr(start: int, alpha: float) -> torch.Tensor:
    g = nx.DiGraph([(i, j) for i, row in enumerate(TABLE.tolist()) for j in row])
    pr = nx.pagerank(g, alpha=1 - alpha, personalization={start: 1.0}, tol=1e-12)
    return torch.tensor([pr[i] for i in range(len(TABLE))], dtype=torch.float64)


def visit_frequencies(start: int, alpha: float, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    traj = rwr_trajectory(TABLE, torch.full((4000,), start), 200, alpha, generator=gen)
    return torch.bincount(traj[:, 50:].reshape(-1), minlength=8).double() / traj[:, 50:].numel()


@pytest.mark.parametrize("start,alpha", [(0, 0.2), (5, 0.5), (3, 0.05)])
def test_visit_frequencies_match_networkx_personalized_pagerank(start, alpha):
    freq = visit_frequencies(start, alpha)
    tv = 0.5 * (freq - ppr(start, alpha)).abs().sum()
    assert tv < 0.01
    # the tolerance is tight enough to reject a walk with the wrong restart rule
    assert 0.5 * (freq - ppr(start, 1 - alpha if alpha != 0.5 else 0.9)).abs().sum() > 0.05


def slow_first_distinct(row: list[int], count: int) -> list[int]:
    seen: list[int] = []
    for v in row:
        if v not in seen:
            seen.append(v)
    return seen[:count]


def test_first_distinct_matches_python_reference():
    gen = torch.Generator().manual_seed(0)
    traj = torch.randint(0, 12, (50, 30), generator=gen)
    vals, valid = first_distinct(traj, 8)
    for w in range(50):
        ref = slow_first_distinct(traj[w].tolist(), 8)
        assert vals[w][valid[w]].tolist() == ref
        assert valid[w].tolist() == [True] * len(ref) + [False] * (8 - len(ref))


def slow_walk_batch(row: list[int], count: int) -> list[int]:
    """The published algorithm's batch, replayed over a given trajectory."""
    batch = [row[0]]
    for v in row[1:]:
        if len(batch) == count:
            break
        if v not in batch:
            batch.append(v)
    return batch


def test_batches_are_the_walks_first_distinct_nodes():
    gen = torch.Generator().manual_seed(3)
    nbr = torch.randint(0, 200, (200, 5), generator=gen)
    starts = torch.randperm(200, generator=gen)[:30]
    out = random_walk_with_restart(nbr, starts, 20, 0.3, generator=torch.Generator().manual_seed(9))
    traj = rwr_trajectory(nbr, starts, out.steps, 0.3, generator=torch.Generator().manual_seed(9),
                          round_len=walk_round_len(20))
    assert out.batches.shape == (30, 20)
    assert torch.equal(out.batches[:, 0], starts)
    for w in range(30):
        row = out.batches[w].tolist()
        assert len(set(row)) == 20
        assert row == slow_walk_batch(traj[w].tolist(), 20)
    assert out.num_filled == 0 and out.steps > walk_round_len(20)  # several rounds


def test_unreachable_nodes_are_topped_up_uniformly_and_counted():
    # two 2-cycles and an isolated self-loop: no walk can reach 4 distinct nodes
    nbr = torch.tensor([[1], [0], [3], [2], [4]])
    out = random_walk_with_restart(nbr, torch.tensor([0, 2, 4]), 4, 0.2, max_steps=40)
    assert out.num_filled == 2 + 2 + 3
    for row, own in zip(out.batches.tolist(), ({0, 1}, {2, 3}, {4})):
        assert len(set(row)) == 4 and own <= set(row)
        assert set(row[:len(own)]) == own  # the walk's own nodes first


def test_restart_prob_zero_follows_the_cycle():
    nbr = torch.tensor([[1], [2], [3], [0]])
    out = random_walk_with_restart(nbr, torch.tensor([2]), 4, 0.0)
    assert out.batches.tolist() == [[2, 3, 0, 1]] and out.num_filled == 0


def test_seeded_walks_are_reproducible():
    nbr = torch.randint(0, 100, (100, 4), generator=torch.Generator().manual_seed(0))
    a = random_walk_with_restart(nbr, torch.arange(10), 15, 0.2,
                                 generator=torch.Generator().manual_seed(5))
    b = random_walk_with_restart(nbr, torch.arange(10), 15, 0.2,
                                 generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.batches, b.batches)


def test_errors():
    with pytest.raises(ValueError, match=r"2-D tensor \[N, k\]"):
        random_walk_with_restart(torch.tensor([1, 0]), torch.tensor([0]), 1, 0.2)
    with pytest.raises(ValueError, match=r"neighbors must lie in \[0, 2\)"):
        random_walk_with_restart(torch.tensor([[1], [2]]), torch.tensor([0]), 1, 0.2)
    with pytest.raises(ValueError, match=r"starts must lie in \[0, 2\)"):
        random_walk_with_restart(TABLE[:2] % 2, torch.tensor([5]), 1, 0.2)
    with pytest.raises(ValueError, match=r"num_distinct must be in \[1, 8\]"):
        random_walk_with_restart(TABLE, torch.tensor([0]), 9, 0.2)
    for alpha in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match=r"restart_prob must be a number in \[0, 1\)"):
            random_walk_with_restart(TABLE, torch.tensor([0]), 3, alpha)
    with pytest.raises(ValueError, match="integer tensor"):
        rwr_trajectory(TABLE, torch.tensor([0.5]), 3, 0.2)


@pytest.mark.parametrize("rule", ["fixed", "cover"])
def test_walk_filled_counts_only_the_slots_of_yielded_batches(rule):
    # k = 1: every walk falls short and is topped up; the walks a wave drops (their
    # start was covered by an earlier walker) must not count, so walk_filled is a share
    # of the epoch's batch slots (it was 211 of 208 here, counting dropped walks).
    from graphsampler.samplers import ProximityBatchSampler
    sampler = ProximityBatchSampler(200, 16, num_candidates=2, num_neighbors=1, seed=0,
                                    warmup_epochs=0, epoch_rule=rule)
    sampler.update(torch.arange(200), torch.randn(200, 8, generator=torch.Generator()
                                                  .manual_seed(0)))
    for _ in range(4):
        slots = sum(len(batch) for batch in sampler)
        assert slots == 208
        assert 0 < sampler.stats["walk_filled"] <= slots
        assert sampler.stats["waves"] >= 1 and sampler.stats["epoch"] >= 0
