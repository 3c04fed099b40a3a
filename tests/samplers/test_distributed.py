import datetime
import math
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from graphsampler.samplers import (
    DistributedBatchSampler,
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
)

B = 8


def make(kind: str, n: int, **kw):
    if kind == "uniform":
        return UniformBatchSampler(n, B, seed=3)
    if kind == "knn":
        return KNNBatchSampler(n, B, seed=3, **kw)
    return ProximityBatchSampler(n, B, num_candidates=30, num_neighbors=5, seed=3, **kw)


def filled(sampler):
    gen = torch.Generator().manual_seed(0)
    sampler.update(torch.arange(sampler.num_items), torch.randn(sampler.num_items, 4,
                                                                generator=gen))
    return sampler


def interleave(shards: list[list[list[int]]]) -> list[list[int]]:
    r"""The ranks' batches in step order: rank 0's first, rank 1's first, ..."""
    return [shard[step] for step in range(len(shards[0])) for shard in shards]


@pytest.mark.parametrize("kind", ["uniform", "knn", "proximity"])
@pytest.mark.parametrize("world_size", [1, 2, 3])
@pytest.mark.parametrize("n", [96, 100])  # 12 batches (W divides them) or 13 (prime)
def test_ranks_share_out_the_epoch(kind, world_size, n):
    reference = filled(make(kind, n, warmup_epochs=0))
    epochs = [list(reference), list(reference)]  # the stream advances by itself
    wrappers = [DistributedBatchSampler(filled(make(kind, n, warmup_epochs=0)), world_size,
                                        rank) for rank in range(world_size)]
    steps = math.ceil(len(epochs[0]) / world_size)
    for epoch in epochs:
        shards = [list(wrapper) for wrapper in wrappers]
        assert [len(shard) for shard in shards] == [len(w) for w in wrappers] == \
            [steps] * world_size  # the same number of steps on every rank
        every = interleave(shards)
        assert every[:len(epoch)] == epoch  # rank r: batches r, r + W, ...
        # the last step is filled up with its own batches: disjoint apart from these
        assert len(every) - len(epoch) == (-len(epoch)) % world_size
        last_step = epoch[(steps - 1) * world_size:]
        assert all(batch in last_step for batch in every[len(epoch):])
        if kind == "uniform" and n == 96:
            assert sorted(i for shard in shards for b in shard for i in b) == list(range(n))


def test_a_resumed_wrapper_continues_the_same_shard():
    def wrapper():
        return DistributedBatchSampler(filled(make("proximity", 100, warmup_epochs=0,
                                                   refresh_every=3)), 2, 1)
    full = list(wrapper())
    first = wrapper()
    it = iter(first)
    head = [next(it) for _ in range(3)]
    resumed = wrapper()
    resumed.load_state_dict(first.state_dict())
    assert head + list(resumed) == full


def test_set_epoch_and_update_reach_the_wrapped_sampler():
    sampler = DistributedBatchSampler(make("proximity", 100), num_replicas=1, rank=0)
    first = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == first and sampler.batch_sampler.epoch == 1
    sampler.update(torch.arange(100), torch.ones(100, 3))  # one rank: no process group
    assert sampler.batch_sampler.bank.is_full
    assert repr(sampler).startswith("DistributedBatchSampler(ProximityBatchSampler(")


def test_errors(tmp_path):
    sampler = make("uniform", 100)
    for rank in (2, -1, 1.0):
        with pytest.raises(ValueError, match=r"rank must be an int in \[0, num_replicas=2\)"):
            DistributedBatchSampler(sampler, num_replicas=2, rank=rank)
    with pytest.raises(ValueError, match="num_replicas must be >= 1, got 0"):
        DistributedBatchSampler(sampler, num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="torch.distributed is not initialised"):
        DistributedBatchSampler(sampler)
    wrapped = DistributedBatchSampler(sampler, num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="already a DistributedBatchSampler"):
        DistributedBatchSampler(wrapped, num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="needs an initialised process group"):
        wrapped.update(torch.arange(4), torch.ones(4, 2))

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0,
                            world_size=1)
    try:
        assert DistributedBatchSampler(sampler).num_replicas == 1  # the group's
        with pytest.raises(ValueError, match="num_replicas=2 but the process group's world "
                                             "size is 1"):
            DistributedBatchSampler(sampler, num_replicas=2, rank=0)
    finally:
        dist.destroy_process_group()


# Two processes with gloo: updates come only from each rank's own batches.
N, EPOCHS = 100, 3  # 13 batches an epoch
REFRESH = (4, 3)  # graph rebuilds every 2 steps of 2 ranks, or mid-step


def proximity_sampler(refresh_every: int) -> ProximityBatchSampler:
    # warm-up epoch 0 is uniform, epochs 1 and 2 are proximity epochs
    return ProximityBatchSampler(N, B, num_candidates=30, num_neighbors=5,
                                 refresh_every=refresh_every, seed=0)


def fake_embeddings(indices: torch.Tensor, epoch: int) -> torch.Tensor:
    r"""A deterministic function of the index, so every process computes the same rows,
    and of the epoch, so a rebuild sees which rows of the bank are this epoch's."""
    angle = indices[:, None].double() * torch.arange(1, 9, dtype=torch.double) + epoch
    return torch.cat([angle.sin(), angle.cos()], dim=1).float()


def train_rank(rank: int, world_size: int, init_file: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=60))
    try:
        results = []
        for refresh_every in REFRESH:
            sampler = DistributedBatchSampler(proximity_sampler(refresh_every))
            epochs = []
            for epoch in range(EPOCHS):
                sampler.set_epoch(epoch)
                epochs.append([])
                for batch in sampler:
                    epochs[-1].append(batch)
                    idx = torch.tensor(batch)
                    sampler.update(idx, fake_embeddings(idx, epoch))
            results.append({"epochs": epochs, "bank": sampler.batch_sampler.bank.embeddings,
                            "stats": sampler.batch_sampler.stats})
        torch.save(results, out.format(rank=rank))
    finally:
        dist.destroy_process_group()


def single_process(refresh_every: int, update_every: int):
    r"""One process's epochs, its bank updated every ``update_every`` batches."""
    sampler = proximity_sampler(refresh_every)
    epochs = []
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        epochs.append([])
        for batch in sampler:
            epochs[-1].append(batch)
            if len(epochs[-1]) % update_every == 0 or len(epochs[-1]) == len(sampler):
                idx = torch.tensor(sum(epochs[-1][-update_every:], []))
                sampler.update(idx, fake_embeddings(idx, epoch))
    return epochs, sampler


@pytest.mark.slow
def test_two_gloo_ranks_together_give_the_single_process_epochs(tmp_path, monkeypatch):
    # the spawned ranks import train_rank by this module's name, tests.samplers.test_...
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    out = str(tmp_path / "rank{rank}.pt")
    mp.spawn(train_rank, args=(2, str(tmp_path / "pg"), out), nprocs=2)
    ranks = [torch.load(out.format(rank=r)) for r in range(2)]
    for run, refresh_every in enumerate(REFRESH):
        # Rebuilds at step boundaries: the stream of a training loop that updates the
        # bank after every batch. Else the bank as of the last whole step, on both ranks.
        epochs, reference = single_process(refresh_every, 1 if refresh_every == 4 else 2)
        for epoch, expected in enumerate(epochs):
            every = interleave([r[run]["epochs"][epoch] for r in ranks])
            assert len(expected) == 13 and every[:13] == expected and every[13] == expected[12]
        assert reference.stats["graph_builds"] == math.ceil(13 / refresh_every)  # proximity
        for r in ranks:  # every rank built the same graphs from the same bank
            assert r[run]["stats"] == reference.stats
            assert torch.equal(r[run]["bank"], reference.bank.embeddings)
