import itertools

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from graphsampler.samplers import (
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
)

N, B = 128, 16


def clustered(n: int = N, clusters: int = 8, dim: int = 16, noise: float = 0.05, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.eye(dim)[:clusters] * 5
    labels = torch.arange(n) % clusters
    return centers[labels] + noise * torch.randn(n, dim, generator=gen), labels


def filled(sampler, emb):
    sampler.update(torch.arange(len(emb)), emb)
    return sampler


def make(kind: str, **kw):
    if kind == "uniform":
        return UniformBatchSampler(N, B, **kw)
    if kind == "knn":
        return KNNBatchSampler(N, B, warmup_epochs=0, **kw)
    return ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8, warmup_epochs=0, **kw)


@pytest.mark.parametrize("kind", ["uniform", "knn", "proximity"])
@pytest.mark.parametrize("n,drop_last,expected", [(128, False, 8), (130, False, 9), (130, True, 8)])
def test_len_equals_uniform_epoch_length(kind, n, drop_last, expected):
    cls = {"uniform": UniformBatchSampler, "knn": KNNBatchSampler,
           "proximity": ProximityBatchSampler}[kind]
    kw = {} if kind != "proximity" else {"num_candidates": 64, "num_neighbors": 8}
    sampler = cls(n, B, drop_last=drop_last, warmup_epochs=0, **kw) if kind != "uniform" \
        else cls(n, B, drop_last=drop_last)
    filled(sampler, torch.randn(n, 4))
    assert len(sampler) == expected
    assert len(list(sampler)) == expected


def test_uniform_epoch_is_a_permutation_and_changes_each_epoch():
    sampler = UniformBatchSampler(50, 16, seed=3)
    first = list(sampler)
    assert [len(b) for b in first] == [16, 16, 16, 2]
    assert sorted(itertools.chain(*first)) == list(range(50))
    second = list(sampler)  # the epoch advanced by itself
    assert sorted(itertools.chain(*second)) == list(range(50)) and first != second
    sampler.set_epoch(0)
    assert list(sampler) == first


@pytest.mark.parametrize("kind", ["knn", "proximity"])
def test_every_batch_has_b_distinct_valid_indices(kind):
    sampler = filled(make(kind), torch.randn(N, 8))
    batches = list(sampler)
    assert all(len(b) == B == len(set(b)) for b in batches)
    assert all(0 <= i < N for i in itertools.chain(*batches))
    assert "graph_builds" in sampler.stats


@pytest.mark.parametrize("kind", ["knn", "proximity"])
def test_start_nodes_are_uncovered_when_drawn(kind):
    sampler = filled(make(kind, seed=1), torch.randn(N, 8))
    covered: set[int] = set()
    for batch in sampler:
        if len(covered) < N:
            assert batch[0] not in covered
        covered |= set(batch)


@pytest.mark.parametrize("kind", ["knn", "proximity"])
def test_epoch_covers_the_dataset_when_batches_are_clusters(kind):
    # 8 tight clusters of B instances whose k nearest are their own cluster: every walk
    # stays in its cluster, so covering needs each batch to start in a new cluster.
    emb, labels = clustered()
    sampler = KNNBatchSampler(N, B, warmup_epochs=0) if kind == "knn" else \
        ProximityBatchSampler(N, B, num_candidates=N, num_neighbors=B - 1, warmup_epochs=0)
    filled(sampler, emb)
    batches = list(sampler)
    assert sorted(itertools.chain(*batches)) == list(range(N))
    assert all(len(set(labels[b].tolist())) == 1 for b in batches)


@pytest.mark.parametrize("kind", ["uniform", "knn", "proximity"])
def test_coverage_is_the_fraction_of_items_the_epoch_holds(kind):
    emb, _ = clustered(noise=1.0)  # overlapping clusters: walks repeat instances
    sampler = filled(make(kind, seed=4), emb)
    batches = list(sampler)
    assert "coverage" in sampler.stats
    distinct = len(set(itertools.chain(*batches)))
    assert sampler.stats["coverage"] == pytest.approx(distinct / N)
    if kind == "uniform":
        assert sampler.stats["coverage"] == 1.0
    else:
        assert sampler.stats["coverage"] < 1.0


def test_proximity_batches_are_harder_than_uniform():
    emb, labels = clustered(512, clusters=16, noise=1.0, seed=2)

    def same_label_fraction(sampler):
        fr = [(labels[b][:, None] == labels[b][None]).float().mean() for b in sampler]
        return torch.stack(fr).mean().item()

    uniform = filled(UniformBatchSampler(512, 32), emb)
    prox = filled(ProximityBatchSampler(512, 32, num_candidates=200, num_neighbors=10,
                                        warmup_epochs=0), emb)
    assert same_label_fraction(prox) > 2 * same_label_fraction(uniform)


def test_warmup_and_empty_bank_give_uniform_batches():
    sampler = ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8, warmup_epochs=1)
    epoch0 = list(sampler)  # empty bank, warm-up epoch: a permutation
    assert sorted(itertools.chain(*epoch0)) == list(range(N))
    assert sampler.stats.get("uniform") and "graph_builds" not in sampler.stats
    filled(sampler, torch.randn(N, 4))
    list(sampler)
    assert sampler.stats.get("graph_builds") == 1


@pytest.mark.parametrize("kind", ["uniform", "knn", "proximity"])
def test_same_seed_same_batches_other_seed_other_batches(kind):
    emb = torch.randn(N, 8)
    a = list(filled(make(kind, seed=7), emb))
    b = list(filled(make(kind, seed=7), emb))
    c = list(filled(make(kind, seed=8), emb))
    assert a == b and a != c


@pytest.mark.parametrize("kind", ["uniform", "knn", "proximity"])
@pytest.mark.parametrize("stop_after", [0, 3, 8, 11])
def test_resumed_sampler_continues_the_same_stream(kind, stop_after):
    emb = torch.randn(N, 8)
    reference = filled(make(kind, seed=5, refresh_every=3), emb) if kind != "uniform" \
        else filled(make(kind, seed=5), emb)
    full = list(itertools.islice(itertools.chain(iter(reference), iter(reference)), 16))

    first = filled(make(kind, seed=5, refresh_every=3), emb) if kind != "uniform" \
        else filled(make(kind, seed=5), emb)
    it = iter(first)
    head = [next(it) for _ in range(min(stop_after, 8))]
    if stop_after > 8:  # finish the epoch, start the next one
        head += list(it)
        it = iter(first)
        head += [next(it) for _ in range(stop_after - 8)]
    state = first.state_dict()

    resumed = make(kind, seed=5, refresh_every=3) if kind != "uniform" else make(kind, seed=5)
    resumed.load_state_dict(state)
    rest = list(itertools.islice(itertools.chain(iter(resumed), iter(resumed)), 16 - stop_after))
    assert head + rest == full


def test_restart_prob_schedule():
    sampler = ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8,
                                    restart_prob=lambda e: max(0.05, 0.3 - 0.1 * e))
    assert sampler.restart_prob_at(0) == 0.3 and sampler.restart_prob_at(5) == 0.05
    bad = ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8,
                                restart_prob=lambda e: 1.5, warmup_epochs=0)
    filled(bad, torch.randn(N, 4))
    with pytest.raises(ValueError, match=r"restart_prob must be a number in \[0, 1\)"):
        list(bad)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_works_as_pyg_dataloader_batch_sampler(num_workers):
    data = [Data(x=torch.ones(i % 3 + 1, 1), sample_idx=torch.tensor([i])) for i in range(N)]
    emb = torch.randn(N, 8)
    sampler = filled(make("proximity", seed=2), emb)
    expected = list(filled(make("proximity", seed=2), emb))
    loader = DataLoader(data, batch_sampler=sampler, num_workers=num_workers)
    got = []
    for batch in loader:
        got.append(batch.sample_idx.tolist())
        sampler.update(batch.sample_idx, emb[batch.sample_idx])  # keyed by sample_idx
    assert got == expected and len(loader) == len(expected)


def test_constructor_errors():
    for bad in (0, -1, N + 1, 2.0):
        with pytest.raises(ValueError, match=rf"batch_size must be an int in \[1, num_items={N}\]"):
            UniformBatchSampler(N, bad)
    with pytest.raises(ValueError, match="num_items must be >= 1"):
        UniformBatchSampler(0, 1)
    with pytest.raises(ValueError, match=r"num_neighbors \(100\) must be smaller than "
                                         r"num_candidates \(100\)"):
        ProximityBatchSampler(1000, B, num_candidates=100, num_neighbors=100)
    with pytest.raises(ValueError, match=r"num_neighbors \(100\) must be smaller than the "
                                         r"number of instances \(50\)"):
        ProximityBatchSampler(50, B, num_candidates=1000, num_neighbors=100)
    for alpha in (-0.2, 1.0, 2):
        with pytest.raises(ValueError, match=r"restart_prob must be a number in \[0, 1\)"):
            ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8, restart_prob=alpha)
    with pytest.raises(ValueError, match="warmup_epochs must be >= 0"):
        KNNBatchSampler(N, B, warmup_epochs=-1)
    with pytest.raises(ValueError, match="refresh_every must be >= 1"):
        KNNBatchSampler(N, B, refresh_every=0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        UniformBatchSampler(N, B, seed=-3)
    with pytest.raises(ValueError, match="state was saved with seed=1"):
        UniformBatchSampler(N, B, seed=2).load_state_dict(
            UniformBatchSampler(N, B, seed=1).state_dict())


@pytest.mark.parametrize("kind", ["uniform", "knn", "proximity"])
def test_update_errors(kind):
    sampler = make(kind)
    with pytest.raises(ValueError, match=rf"indices must lie in \[0, {N}\)"):
        sampler.update(torch.tensor([N]), torch.randn(1, 4))
    with pytest.raises(ValueError, match="2 indices but 3 embedding rows"):
        sampler.update(torch.tensor([0, 1]), torch.randn(3, 4))
    with pytest.raises(ValueError, match="NaN or Inf"):
        sampler.update(torch.tensor([0]), torch.full((1, 4), float("nan")))


@pytest.mark.cuda
def test_proximity_on_cuda_bank():
    sampler = ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=8, warmup_epochs=0)
    sampler.update(torch.arange(N, device="cuda"), torch.randn(N, 8, device="cuda"))
    batches = list(sampler)
    assert len(batches) == N // B and all(len(set(b)) == B for b in batches)
