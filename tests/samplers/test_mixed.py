r"""Mixed batches: part of each batch grown by the walk (``num_walked``,
``walk_fraction``), the rest drawn uniformly from the graphs it lacks."""
import pytest
import torch
from scipy.stats import chisquare

from graphsampler.bench.config import RunConfig
from graphsampler.samplers import (
    AdaptiveProximityBatchSampler,
    ProximityBatchSampler,
    random_walk_with_restart,
)


def ring(n: int, k: int = 3) -> torch.Tensor:
    r"""Node i links to i+1 .. i+k (mod n)."""
    return (torch.arange(n)[:, None] + torch.arange(1, k + 1)[None, :]) % n


def test_walked_part_is_the_walk_for_that_many_nodes():
    nbr, starts = ring(200), torch.arange(0, 200, 7)
    for m in (1, 5, 16, 40):
        mixed = random_walk_with_restart(nbr, starts, 40, 0.2, num_walked=m,
                                         generator=torch.Generator().manual_seed(3))
        short = random_walk_with_restart(nbr, starts, m, 0.2,
                                         generator=torch.Generator().manual_seed(3))
        assert torch.equal(mixed.batches[:, :m], short.batches)  # the same walk
        assert mixed.steps == short.steps and mixed.num_filled == short.num_filled
        for row in mixed.batches.tolist():
            assert len(set(row)) == 40  # distinct, the walk's own first


def test_the_rest_is_uniform_over_the_nodes_a_batch_lacks():
    # each walk is trapped in the 2-cycle {s, s+1}; the other 28 of 30 entries are draws
    nbr = torch.tensor([[i ^ 1] for i in range(60)])
    starts = torch.zeros(3000, dtype=torch.long)
    out = random_walk_with_restart(nbr, starts, 30, 0.2, num_walked=2,
                                   generator=torch.Generator().manual_seed(0))
    assert out.num_filled == 0  # the walk found its 2; the draws are not top-ups
    assert (out.batches[:, :2].sort(dim=1).values == torch.tensor([0, 1])).all()
    counts = torch.bincount(out.batches[:, 2:].reshape(-1), minlength=60)
    assert counts[:2].sum() == 0
    assert chisquare(counts[2:].numpy()).pvalue > 1e-3  # 3000 * 28 draws over 58 nodes
    # a walk that stops short of m is topped up as before, and counted
    trapped = random_walk_with_restart(nbr, torch.tensor([0]), 30, 0.2, num_walked=5)
    assert trapped.num_filled == 3 and len(set(trapped.batches[0].tolist())) == 30


def test_num_walked_errors():
    for bad in (0, 41, 2.5, True):
        with pytest.raises(ValueError, match=r"num_walked must be (an int|in \[1, 40\])"):
            random_walk_with_restart(ring(100), torch.tensor([0]), 40, 0.2, num_walked=bad)


@pytest.mark.parametrize("cls", [ProximityBatchSampler, AdaptiveProximityBatchSampler])
def test_sampler_batches_take_the_walked_fraction_from_the_walk(cls):
    n, b = 400, 20
    emb = torch.randn(n, 8, generator=torch.Generator().manual_seed(0))
    kwargs = dict(num_candidates=60, num_neighbors=6, warmup_epochs=0, seed=1)
    full, half = cls(n, b, **kwargs), cls(n, b, walk_fraction=0.5, **kwargs)
    for s in (full, half):
        s.update(torch.arange(n), emb)
    in_links = []
    for batch_full, batch_half in zip(full, half):
        assert len(set(batch_half)) == b and len(batch_full) == b
        # the walked part is a walk on the proximity graph: every node after the start
        # was reached through a link from an earlier one; so is all of a full batch
        for s, batch, m in ((full, batch_full, b), (half, batch_half, 10)):
            linked = set(s._graph[torch.as_tensor(batch[:m])].reshape(-1).tolist())
            assert set(batch[1:m]) <= linked
        # the drawn half is not: about 60 linked nodes of 400 (the test can fail)
        linked = set(half._graph[torch.as_tensor(batch_half[:10])].reshape(-1).tolist())
        in_links += [v in linked for v in batch_half[10:]]
    assert sum(in_links) < 0.4 * len(in_links)
    assert "walk_fraction=0.5" in repr(half)


def test_walk_fraction_errors():
    for bad in (0.0, 1.5, -0.2, float("nan"), "half", True):
        with pytest.raises(ValueError, match=r"walk_fraction must be a number in \(0, 1\]"):
            ProximityBatchSampler(50, 8, num_candidates=20, num_neighbors=2,
                                  walk_fraction=bad)
    with pytest.raises(ValueError, match=r"walk_fraction must be a number in \(0, 1\]"):
        RunConfig(sampler="proximity", walk_fraction=2.0)


def test_walk_fraction_is_a_run_setting_of_the_proximity_samplers_only():
    assert RunConfig(sampler="proximity", walk_fraction=0.5).settings()["walk_fraction"] == 0.5
    assert "walk_fraction" not in RunConfig(sampler="proximity").settings()  # old keys hold
    assert "walk_fraction" not in RunConfig(sampler="uniform", walk_fraction=0.5).settings()
