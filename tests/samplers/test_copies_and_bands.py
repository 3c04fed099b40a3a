r"""Rank-band neighbours (``neighbor_offset``), batches with one graph per copy group
(``dedupe_copies``) and the warning when walks leave most batch slots to top-ups."""
import warnings

import pytest
import torch
import torch.nn.functional as F

from graphsampler.samplers import AdaptiveProximityBatchSampler, ProximityBatchSampler
from graphsampler.samplers.proximity_graph import ANCHORS_PER_DRAW, build_proximity_graph


def brute_force_band(emb: torch.Tensor, cand: torch.Tensor, k: int, p: int) -> list[set]:
    r"""Ranks [p, p + k) of every anchor among its drawn candidates, by a full argsort of
    the cosine similarities in float64 (the anchor itself never ranks)."""
    unit = F.normalize(emb.double(), dim=1)
    out = []
    for i in range(len(emb)):
        row = cand[0] if cand.size(0) == 1 else cand[i // ANCHORS_PER_DRAW]
        row = row[row != i]
        order = (unit[row] @ unit[i]).argsort(descending=True)
        out.append(set(row[order[p:p + k]].tolist()))
    return out


@pytest.mark.parametrize("num_candidates", [30, 500])  # drawn, and exact (M >= N)
@pytest.mark.parametrize("offset", [0, 1, 5])
def test_neighbor_offset_links_the_rank_band(num_candidates, offset):
    emb = torch.randn(150, 8, generator=torch.Generator().manual_seed(offset))
    nbr, cand = build_proximity_graph(emb, 4, num_candidates, neighbor_offset=offset,
                                      generator=torch.Generator().manual_seed(1),
                                      return_candidates=True)
    assert [set(r) for r in nbr.tolist()] == brute_force_band(emb, cand, 4, offset)


def test_neighbor_offset_skips_exactly_the_nearest():
    emb = torch.randn(100, 6, generator=torch.Generator().manual_seed(3))
    top = build_proximity_graph(emb, 7, 1000)
    band = build_proximity_graph(emb, 4, 1000, neighbor_offset=3)
    for t, b in zip(top.tolist(), band.tolist()):
        assert set(b) <= set(t) and len(set(t) - set(b)) == 3


def test_neighbor_offset_errors():
    emb = torch.randn(50, 4)
    with pytest.raises(ValueError, match=r"^neighbor_offset \+ num_neighbors = 6 \+ 4 must be "
                                         r"smaller than num_candidates=10 and than the number "
                                         r"of instances N=50: lower them or raise "
                                         r"num_candidates$"):
        build_proximity_graph(emb, 4, 10, neighbor_offset=6)
    with pytest.raises(ValueError, match=r"^neighbor_offset must be >= 0, got -1$"):
        build_proximity_graph(emb, 4, 10, neighbor_offset=-1)
    with pytest.raises(ValueError, match=r"^neighbor_offset \+ num_neighbors \(6 \+ 4\) must "
                                         r"be smaller than num_candidates \(10\) and than the "
                                         r"number of instances \(50\): each instance links "
                                         r"its candidates of ranks \[p, p \+ k\)$"):
        ProximityBatchSampler(50, 8, num_candidates=10, num_neighbors=4, neighbor_offset=6)


def test_sampler_uses_the_band():
    sampler = ProximityBatchSampler(120, 8, num_candidates=200, num_neighbors=3,
                                    neighbor_offset=2, warmup_epochs=0)
    emb = torch.randn(120, 6, generator=torch.Generator().manual_seed(0))
    sampler.update(torch.arange(120), emb)
    list(sampler)
    assert torch.equal(sampler._graph.sort(dim=1).values,
                       build_proximity_graph(emb, 3, 200, neighbor_offset=2).sort(dim=1).values)
    assert "neighbor_offset=2" in repr(sampler)


def _copy_ids(n: int, size: int) -> torch.Tensor:
    return torch.arange(n) // size * size  # groups of `size` consecutive instances


@pytest.mark.parametrize("cls", [ProximityBatchSampler, AdaptiveProximityBatchSampler])
def test_dedupe_copies_keeps_one_graph_per_copy_group(cls):
    n, size = 240, 4
    ids = _copy_ids(n, size)
    # copies are close in the bank, as an encoder makes them: walks gather them
    emb = torch.randn(n // size, 8, generator=torch.Generator().manual_seed(0))
    emb = emb.repeat_interleave(size, 0) + 1e-3 * torch.randn(n, 8)
    kwargs = dict(num_candidates=60, num_neighbors=6, warmup_epochs=0, seed=0)
    plain = cls(n, 16, **kwargs)
    plain.update(torch.arange(n), emb)
    assert any(len(set(ids[b].tolist())) < len(b) for b in plain)  # copies share batches
    sampler = cls(n, 16, dedupe_copies=True, **kwargs)
    sampler.set_copy_ids(ids)
    sampler.update(torch.arange(n), emb)
    for _ in range(2):
        for batch in sampler:
            assert len(set(ids[batch].tolist())) == len(batch) == 16


def test_dedupe_copies_errors():
    with pytest.raises(ValueError, match=r"^dedupe_copies and dedupe_twins both choose a "
                                         r"batch's groups: set one of them$"):
        ProximityBatchSampler(50, 8, num_candidates=20, num_neighbors=2,
                              dedupe_copies=True, dedupe_twins=0.999)
    with pytest.raises(ValueError, match=r"^dedupe_copies must be True or False, got 1$"):
        ProximityBatchSampler(50, 8, num_candidates=20, num_neighbors=2, dedupe_copies=1)
    sampler = ProximityBatchSampler(50, 8, num_candidates=20, num_neighbors=2,
                                    dedupe_copies=True, warmup_epochs=0)
    with pytest.raises(ValueError, match=r"^copy_ids must hold one id per instance, shape "
                                         r"\[50\], got \[49\]$"):
        sampler.set_copy_ids(torch.zeros(49, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^copy_ids must lie in \[0, 50\)"):
        sampler.set_copy_ids(torch.full((50,), 50))
    sampler.update(torch.arange(50), torch.randn(50, 4))
    with pytest.raises(ValueError, match=r"^dedupe_copies needs the instances' copy ids: "
                                         r"call sampler.set_copy_ids\(ids\) before the "
                                         r"first hard epoch$"):
        list(sampler)


def _topped_up(num_neighbors: int) -> tuple[ProximityBatchSampler, list[warnings.WarningMessage]]:
    sampler = ProximityBatchSampler(200, 64, num_candidates=20, num_neighbors=num_neighbors,
                                    warmup_epochs=0, restart_prob=0.5)
    sampler.update(torch.arange(200), torch.randn(200, 8, generator=torch.Generator()
                                                  .manual_seed(0)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(sampler)
        first = sampler.stats["walk_filled"] / sampler.stats["walk_slots"]
        list(sampler)
    sampler.first_share = first
    return sampler, [w for w in caught if "top-ups" in str(w.message)]


def test_warns_once_when_most_slots_are_top_ups():
    sampler, caught = _topped_up(num_neighbors=1)  # k = 1: walks reach a handful
    assert sampler.first_share > 0.5
    assert len(caught) == 1  # once per sampler, not every epoch
    share = f"{sampler.first_share:.0%}"
    assert str(caught[0].message) == (
        f"ProximityBatchSampler: {share} of epoch 0's batch slots were uniform top-ups "
        "(walks found too few graphs: N=200, B=64, M=20, k=1), so its batches are mostly "
        "uniform; raise num_neighbors or num_candidates, or lower batch_size")
    assert caught[0].category is UserWarning


def test_no_warning_when_walks_fill_the_batches():
    sampler, caught = _topped_up(num_neighbors=10)
    assert sampler.first_share <= 0.5 and caught == []
