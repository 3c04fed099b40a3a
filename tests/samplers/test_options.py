r"""The sampler study's options: fixed batches, twins, cover epochs, restart schedules,
stalled walks, and the adaptive sampler (the sizes M and k: test_sizes.py)."""
import itertools

import networkx as nx
import pytest
import torch
import torch.nn.functional as F

from graphsampler.samplers import (
    AdaptiveProximityBatchSampler,
    BaseBatchSampler,
    FixedBatchSampler,
    KNNBatchSampler,
    ProximityBatchSampler,
    RestartDecay,
    UniformBatchSampler,
    build_proximity_graph,
    hardness_ratio,
    random_walk_with_restart,
)
from graphsampler.samplers.proximity_graph import ANCHORS_PER_DRAW
from graphsampler.samplers.schedule import restart_schedule

N, B = 128, 16


def filled(sampler, emb):
    sampler.update(torch.arange(len(emb)), emb)
    return sampler


def test_base_is_abstract():
    with pytest.raises(TypeError):
        BaseBatchSampler(N, B)
    assert issubclass(UniformBatchSampler, BaseBatchSampler)
    assert issubclass(ProximityBatchSampler, BaseBatchSampler)


def test_fixed_sampler_repeats_one_seeded_permutation():
    sampler = FixedBatchSampler(50, 16, seed=3)
    first, second = list(sampler), list(sampler)
    assert first == second and sampler.epoch == 2
    assert sorted(itertools.chain(*first)) == list(range(50))
    assert first != list(FixedBatchSampler(50, 16, seed=4))
    uniform = UniformBatchSampler(50, 16, seed=3)
    assert list(uniform) != list(uniform)  # the uniform baseline reshuffles


def test_fixed_sampler_resumes_mid_epoch():
    full = list(FixedBatchSampler(50, 16, seed=1))
    first = FixedBatchSampler(50, 16, seed=1)
    it = iter(first)
    head = [next(it), next(it)]
    resumed = FixedBatchSampler(50, 16, seed=1)
    resumed.load_state_dict(first.state_dict())
    assert head + list(resumed) == full


def with_twins(n=60, groups=6, dim=8, seed=0):
    r"""``groups`` sets of exact duplicates plus distinct rows."""
    gen = torch.Generator().manual_seed(seed)
    emb = torch.randn(n, dim, generator=gen)
    for g in range(groups):
        emb[g * 5:(g + 1) * 5] = emb[g * 5]  # rows 5g..5g+4 are twins
    return emb


@pytest.mark.parametrize("num_candidates", [60, 30])
def test_twin_aware_graph_never_links_twins_when_others_remain(num_candidates):
    emb = with_twins()
    k = 5
    nbr, cand = build_proximity_graph(emb, k, num_candidates, twin_threshold=0.999,
                                      generator=torch.Generator().manual_seed(1),
                                      return_candidates=True)
    cos = F.normalize(emb) @ F.normalize(emb).T
    for i in range(len(emb)):
        pool = cand[i // ANCHORS_PER_DRAW] if num_candidates < len(emb) else cand[0]
        others = [c for c in pool.tolist() if c != i and cos[i, c] < 0.999]
        # oracle: the k most similar non-twin candidates (scores compared: twins of
        # one another tie)
        expected = sorted((cos[i, c].item() for c in others), reverse=True)[:k]
        got = sorted((cos[i, j].item() for j in nbr[i].tolist()), reverse=True)
        assert got == pytest.approx(expected) and set(nbr[i].tolist()) <= set(others)
        assert all(cos[i, j] < 0.999 for j in nbr[i].tolist())
    plain = build_proximity_graph(emb, k, len(emb))
    assert any(cos[i, j] >= 0.999 for i in range(len(emb)) for j in plain[i].tolist())


def test_twins_fill_in_only_when_too_few_others():
    emb = torch.zeros(10, 4)
    emb[:8, 0] = 1.0  # rows 0..7 identical
    emb[8, 1] = emb[9, 2] = 1.0
    nbr = build_proximity_graph(emb, 4, 10, twin_threshold=0.999)
    for i in range(8):
        row = set(nbr[i].tolist())
        assert {8, 9} <= row and i not in row  # both non-twins, then twins, never itself


def test_twin_threshold_errors():
    for bad in (1.5, -1.0, float("nan"), True):
        with pytest.raises(ValueError, match=r"twin_threshold must be None or a cosine "
                                             r"similarity in \(-1, 1\]"):
            ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=4, twin_threshold=bad)


def clustered(n=N, clusters=8, dim=16, noise=1.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.eye(dim)[:clusters] * 5
    return centers[torch.arange(n) % clusters] + noise * torch.randn(n, dim, generator=gen)


@pytest.mark.parametrize("kind", ["knn", "proximity"])
def test_cover_epochs_cover_everything_before_repeating_a_start(kind):
    emb = clustered()
    cls = KNNBatchSampler if kind == "knn" else ProximityBatchSampler
    kw = {} if kind == "knn" else {"num_candidates": 64, "num_neighbors": 8}
    sampler = filled(cls(N, B, warmup_epochs=0, epoch_rule="cover", seed=2, **kw), emb)
    batches = [b for _ in range(6) for b in sampler]
    assert len(batches) == 6 * len(sampler)  # same step budget as every sampler
    assert all(len(b) == B == len(set(b)) for b in batches)
    # Replay the cycles: each batch starts at an instance its cycle has not covered,
    # or is the leftover batch that holds every instance still uncovered.
    seen: set[int] = set()
    cycles = leftover_batches = 0
    for b in batches:
        if len(seen) == N:
            seen, cycles = set(), cycles + 1
        left = set(range(N)) - seen
        assert b[0] not in seen or left <= set(b)
        leftover_batches += len(left) < B and left <= set(b)
        seen |= set(b)
    assert cycles >= 1 and leftover_batches >= 1
    fixed = filled(cls(N, B, warmup_epochs=0, epoch_rule="fixed", seed=2, **kw), emb)
    list(fixed)
    assert fixed.stats["coverage"] < 1.0


def test_cover_epoch_resumes_the_same_stream():
    emb = clustered()

    def make():
        return filled(ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8,
                                            warmup_epochs=0, epoch_rule="cover", seed=5), emb)
    reference = make()
    full = [b for _ in range(3) for b in reference]
    first = make()
    head = list(first) + list(itertools.islice(iter(first), 3))
    resumed = make()
    resumed.load_state_dict(first.state_dict())
    rest = list(resumed) + list(resumed)
    assert head + rest[:len(full) - len(head)] == full


def test_epoch_rule_error():
    with pytest.raises(ValueError, match="epoch_rule must be one of 'fixed', 'cover', got 'all'"):
        KNNBatchSampler(N, B, epoch_rule="all")


def test_restart_decay_is_the_published_schedule():
    decay = RestartDecay()
    assert [round(decay(e), 4) for e in range(10)] == \
        [round(max(0.05, 0.2 - 0.02 * e), 4) for e in range(10)]
    sampler = ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8,
                                    restart_prob=restart_schedule("decay", 0.2))
    assert sampler.restart_prob_at(0) == 0.2 and sampler.restart_prob_at(30) == 0.05
    assert restart_schedule("constant", 0.3) == 0.3
    with pytest.raises(ValueError, match="restart_schedule must be one of constant, decay"):
        restart_schedule("linear", 0.2)
    with pytest.raises(ValueError, match=r"step must be a number in \[0, 1\)"):
        RestartDecay(step=-0.1)
    with pytest.raises(ValueError, match=r"restart_prob must be a number in \[0, 1\)"):
        RestartDecay(start=1.0)


def test_walk_trapped_in_a_small_component_stops_early_and_is_topped_up():
    # 32 disjoint directed 4-cycles: every walk reaches 4 nodes; B = 16.
    n = 128
    table = torch.tensor([[(i // 4) * 4 + (i + 1) % 4] for i in range(n)])
    graph = nx.DiGraph([(i, int(table[i, 0])) for i in range(n)])
    starts = torch.arange(0, n, 4)
    out = random_walk_with_restart(table, starts, 16, 0.2,
                                   generator=torch.Generator().manual_seed(0))
    assert out.steps < 64 * 16 // 8  # far below the 64 * B cap
    assert out.num_filled == len(starts) * 12
    for s, batch in zip(starts.tolist(), out.batches.tolist()):
        assert set(batch[:4]) == nx.descendants(graph, s) | {s}
        assert len(set(batch)) == 16


def test_walk_that_can_reach_b_nodes_is_not_topped_up():
    n = 200
    gen = torch.Generator().manual_seed(0)
    table = torch.randint(n, (n, 10), generator=gen)
    out = random_walk_with_restart(table, torch.arange(20), 16, 0.2, generator=gen)
    assert out.num_filled == 0


def test_hardness_ratio_is_zero_for_uniform_and_one_for_knn_batches():
    emb = clustered(512, clusters=16, noise=0.5)
    gen = torch.Generator().manual_seed(0)
    knn = build_proximity_graph(emb, 15, 512)
    knn_batches = torch.cat([torch.arange(512)[:, None], knn], dim=1)
    uniform = torch.randperm(512, generator=gen).view(-1, 16)
    assert hardness_ratio(emb, knn_batches, generator=gen, sample_size=512) == \
        pytest.approx(1.0, abs=0.05)
    assert hardness_ratio(emb, uniform, generator=gen, sample_size=512) == \
        pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize("target", [0.05, 0.9])
def test_adaptive_sampler_moves_m_toward_its_target(target):
    emb = clustered(512, clusters=16, noise=0.5)
    sampler = filled(AdaptiveProximityBatchSampler(
        512, 16, target_hardness=target, num_candidates=64, num_neighbors=8,
        warmup_epochs=0, seed=0), emb)
    list(sampler)
    ratio, m = sampler.stats["hardness_ratio"][0], sampler.stats["num_candidates"][0]
    assert (m > 64) == (ratio < target) and 9 <= m <= 512
    for _ in range(8):
        list(sampler)
    last = sampler.stats["hardness_ratio"][-1]
    assert abs(last - target) < abs(ratio - target) or abs(last - target) < 0.1
    state = sampler.state_dict()
    other = AdaptiveProximityBatchSampler(512, 16, target_hardness=target, num_candidates=64,
                                          num_neighbors=8, warmup_epochs=0, seed=0)
    other.load_state_dict(state)
    assert other.num_candidates == sampler.num_candidates


def test_adaptive_errors():
    for bad in (0, 1, 1.5, True):
        with pytest.raises(ValueError, match=r"target_hardness must be a number in \(0, 1\)"):
            AdaptiveProximityBatchSampler(N, B, target_hardness=bad, num_candidates=64,
                                          num_neighbors=8)
    with pytest.raises(ValueError, match="gain must be a positive number"):
        AdaptiveProximityBatchSampler(N, B, gain=0, num_candidates=64, num_neighbors=8)


def test_restart_schedule_option():
    sampler = ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8,
                                    restart_prob=0.3, restart_schedule="decay")
    assert sampler.restart_prob == RestartDecay(start=0.3)
    assert [sampler.restart_prob_at(e) for e in (0, 1)] == pytest.approx([0.3, 0.28])
    with pytest.raises(ValueError, match="restart_schedule applies to a number restart_prob"):
        ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8,
                              restart_prob=lambda e: 0.1, restart_schedule="decay")
    with pytest.raises(ValueError, match="restart_schedule must be one of constant, decay"):
        ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8,
                              restart_schedule="cosine")
