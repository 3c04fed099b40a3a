r"""Twin-free batches: twin groups from the bank, walks that count distinct groups, and
the ``dedupe_twins`` option of the proximity samplers."""
import pytest
import torch
import torch.nn.functional as F

from graphsampler.samplers import (
    AdaptiveProximityBatchSampler,
    ProximityBatchSampler,
    random_walk_with_restart,
    twin_groups,
)
from graphsampler.samplers.walk import first_distinct, rwr_trajectory, walk_round_len


def planted(n: int = 120, groups: int = 10, size: int = 6, seed: int = 0) -> torch.Tensor:
    r"""Rows ``size*g .. size*g+size-1`` are twins (the same direction, other norms, a
    perturbation far below the threshold); the rest are random."""
    gen = torch.Generator().manual_seed(seed)
    emb = torch.randn(n, 8, generator=gen)
    for g in range(groups):
        base = emb[g * size]
        for j in range(1, size):
            emb[g * size + j] = (1 + j) * base + 1e-5 * torch.randn(8, generator=gen)
    return emb


def slow_twin_groups(emb: torch.Tensor, threshold: float) -> list[int]:
    cos = F.normalize(emb.double()) @ F.normalize(emb.double()).T
    return [next(j for j in range(len(emb)) if j == i or cos[i, j] >= threshold)
            for i in range(len(emb))]


@pytest.mark.parametrize("budget", [1, 4096, 2**28])  # one anchor per chunk .. all at once
@pytest.mark.parametrize("threshold", [0.999, 0.5])
def test_twin_groups_match_brute_force(budget, threshold):
    emb = planted()
    labels = twin_groups(emb, threshold, memory_budget=budget)
    assert labels.tolist() == slow_twin_groups(emb, threshold)
    if threshold == 0.999:  # the planted groups, every random row alone
        assert labels[:60].tolist() == [6 * (i // 6) for i in range(60)]
        assert labels[60:].tolist() == list(range(60, 120))


def test_twin_groups_errors():
    with pytest.raises(ValueError, match=r"threshold must be None or a cosine similarity "
                                         r"in \(-1, 1\]"):
        twin_groups(planted(), 1.5)
    with pytest.raises(ValueError, match=r"threshold must be a cosine similarity in "
                                         r"\(-1, 1\], got None"):
        twin_groups(planted(), None)
    with pytest.raises(ValueError, match=r"embeddings must be a 2-D tensor \[N, d\]"):
        twin_groups(torch.randn(5), 0.9)


def test_first_distinct_by_keys_takes_the_first_of_each_key():
    gen = torch.Generator().manual_seed(0)
    traj = torch.randint(0, 30, (40, 25), generator=gen)
    keys = traj // 3  # 10 groups of 3 values
    vals, valid = first_distinct(traj, 6, keys)
    for w in range(40):
        ref, seen = [], set()
        for v in traj[w].tolist():
            if v // 3 not in seen and len(ref) < 6:
                seen.add(v // 3)
                ref.append(v)
        assert vals[w][valid[w]].tolist() == ref


def test_walks_with_singleton_groups_are_plain_walks():
    gen = torch.Generator().manual_seed(3)
    nbr = torch.randint(0, 200, (200, 5), generator=gen)
    starts = torch.randperm(200, generator=gen)[:30]
    plain = random_walk_with_restart(nbr, starts, 20, 0.3,
                                     generator=torch.Generator().manual_seed(9))
    grouped = random_walk_with_restart(nbr, starts, 20, 0.3, groups=torch.arange(200),
                                       generator=torch.Generator().manual_seed(9))
    assert torch.equal(plain.batches, grouped.batches) and plain.steps == grouped.steps


def test_grouped_walks_record_the_first_node_of_each_group():
    gen = torch.Generator().manual_seed(4)
    n, b = 300, 24
    nbr = torch.randint(0, n, (n, 4), generator=gen)
    groups = torch.randint(0, 60, (n,), generator=gen)  # 60 groups of about 5
    starts = torch.randperm(n, generator=gen)[:12]
    out = random_walk_with_restart(nbr, starts, b, 0.2, groups=groups,
                                   generator=torch.Generator().manual_seed(5))
    traj = rwr_trajectory(nbr, starts, out.steps, 0.2, round_len=walk_round_len(b),
                          generator=torch.Generator().manual_seed(5))
    assert out.num_filled == 0
    for w in range(12):
        ref, seen = [], set()
        for v in traj[w].tolist():  # the published walk, distinct meaning distinct group
            if groups[v].item() not in seen and len(ref) < b:
                seen.add(groups[v].item())
                ref.append(v)
        assert out.batches[w].tolist() == ref


def test_grouped_top_ups_draw_missing_groups_before_repeating_one():
    # 40 nodes in 8 groups; each walk is trapped in a 2-cycle inside one group
    nbr = torch.tensor([[i ^ 1] for i in range(40)])
    groups = torch.arange(40) // 5
    for b in (8, 12):
        out = random_walk_with_restart(nbr, torch.tensor([0, 10, 21]), b, 0.2,
                                       groups=groups, max_steps=50,
                                       generator=torch.Generator().manual_seed(0))
        for row in out.batches.tolist():
            assert len(set(row)) == b  # distinct nodes always
            assert len({groups[v].item() for v in row}) == min(b, 8)  # every group first
    with pytest.raises(ValueError, match=r"groups must hold one label per node, shape "
                                         r"\[40\], got \[39\]"):
        random_walk_with_restart(nbr, torch.tensor([0]), 4, 0.2, groups=groups[:39])


@pytest.mark.parametrize("cls", [ProximityBatchSampler, AdaptiveProximityBatchSampler])
def test_sampler_batches_hold_one_graph_per_twin_group(cls):
    emb = planted(n=240, groups=30, size=6)  # 180 graphs in 30 twin groups, 60 alone
    true_groups = twin_groups(emb, 0.999)
    sampler = cls(240, 16, num_candidates=40, num_neighbors=4, warmup_epochs=0,
                  dedupe_twins=0.999, seed=0)
    plain = cls(240, 16, num_candidates=40, num_neighbors=4, warmup_epochs=0, seed=0)
    twins_in = {}
    for name, s in (("dedupe", sampler), ("plain", plain)):
        s.update(torch.arange(240), emb)
        twins_in[name] = 0
        for batch in s:
            labels = true_groups[torch.as_tensor(batch)]
            assert len(set(batch)) == 16
            twins_in[name] += 16 - labels.unique().numel()
    assert twins_in["dedupe"] == 0 and twins_in["plain"] > 0  # the test can fail
    assert sampler.stats["twin_groups"] == 90


def test_dedupe_twins_errors():
    for bad in (1.5, -1.0, float("nan"), "high", True):
        with pytest.raises(ValueError, match=r"dedupe_twins must be None or a cosine "
                                             r"similarity in \(-1, 1\]"):
            ProximityBatchSampler(50, 8, num_candidates=20, num_neighbors=2,
                                  dedupe_twins=bad)
