r"""Sharding a batch sampler's epoch across the ranks of :mod:`torch.distributed`."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import Sampler

from graphsampler.samplers._checks import check_int
from graphsampler.samplers.base import BaseBatchSampler


class DistributedBatchSampler(Sampler[list[int]]):
    r"""Gives rank :math:`r` of :math:`W` the batches :math:`r, r + W, r + 2W, \ldots` of
    a batch sampler's epoch, with one embedding bank shared by all ranks.

    Every rank wraps an identical sampler (same arguments, same ``seed``), so every
    rank plans the same epoch, and :meth:`update` all-gathers the batches' embeddings
    so that every rank's bank, and the proximity graph built from it, stays identical.
    The wrapped sampler is read :math:`W` batches at a time (one training step of all
    ranks), and the rows of a step are written in rank order, that is in batch order:
    given the same embeddings, the ranks' batches together are exactly the
    single-process epoch of the same seed, warm-up and proximity epochs alike. (A
    rebuild within an epoch, ``refresh_every``, sees the bank as of the last whole
    step: the single-process bank when ``refresh_every`` is a multiple of :math:`W`,
    otherwise a bank up to :math:`W - 1` batches older, the same on every rank.)

    ``len()`` is :math:`\lceil L / W \rceil` for an epoch of :math:`L` batches on every
    rank, as DDP needs the same number of steps everywhere. When :math:`W` does not
    divide :math:`L`, the :math:`g < W` batches of the last step are repeated to fill
    it (rank :math:`r` takes its :math:`(r \bmod g)`-th): every batch of the epoch is
    trained on, and the ranks' batches are disjoint apart from these repeats.

    Args:
        batch_sampler (BaseBatchSampler): Any sampler of :mod:`graphsampler.samplers`
            (uniform, kNN, proximity), built identically on every rank.
        num_replicas (int, optional): Number of ranks :math:`W`. Default: the world
            size of the initialised process group.
        rank (int, optional): This rank, in :math:`[0, W)`. Default: the process
            group's rank.

    Example:
        .. code-block:: python

            torch.distributed.init_process_group("gloo")  # under torchrun
            sampler = DistributedBatchSampler(
                ProximityBatchSampler(len(ds), batch_size=128, seed=0))
            loader = DataLoader(ds, batch_sampler=sampler)  # ds = IndexedDataset(...)
            for epoch in range(20):
                sampler.set_epoch(epoch)
                for batch in loader:
                    z = model(batch)                             # DDP model
                    sampler.update(batch.sample_idx, z.detach())  # every rank's rows
    """

    def __init__(self, batch_sampler: BaseBatchSampler, num_replicas: int | None = None,
                 rank: int | None = None) -> None:
        if isinstance(batch_sampler, DistributedBatchSampler):
            raise ValueError("batch_sampler is already a DistributedBatchSampler; wrap the "
                             "plain sampler once")
        if dist.is_initialized():
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
            if num_replicas != dist.get_world_size():
                raise ValueError(
                    f"num_replicas={num_replicas} but the process group's world size is "
                    f"{dist.get_world_size()}; the bank is shared by all its ranks, so leave "
                    "num_replicas out")
        elif num_replicas is None or rank is None:
            raise ValueError(
                "num_replicas and rank default to the process group's, but "
                "torch.distributed is not initialised: call "
                "torch.distributed.init_process_group first, or pass both")
        check_int(num_replicas, "num_replicas", 1)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"rank must be an int in [0, num_replicas={num_replicas}), "
                             f"got {rank!r}")
        self.batch_sampler = batch_sampler
        self.num_replicas = num_replicas
        self.rank = rank

    def __len__(self) -> int:
        return -(-len(self.batch_sampler) // self.num_replicas)

    def __iter__(self) -> Iterator[list[int]]:
        # Draining the wrapped stream to its end also lets it advance its epoch; a
        # wrapped sampler restored mid-epoch resumes at a step boundary.
        stream = iter(self.batch_sampler)
        while step := list(itertools.islice(stream, self.num_replicas)):
            yield step[self.rank % len(step)]

    def set_epoch(self, epoch: int) -> None:
        r"""Sets the epoch of the wrapped sampler (as ``DistributedSampler.set_epoch``)."""
        self.batch_sampler.set_epoch(epoch)

    def update(self, indices: Tensor, embeddings: Tensor) -> None:
        r"""Records the embeddings of every rank's batch of this step, in rank order.

        A collective call: every rank calls it once per step, with its own batch.

        Args:
            indices (torch.Tensor): This rank's dataset indices, shape :obj:`[b]`.
            embeddings (torch.Tensor): Their embeddings, shape :obj:`[b, d]`, on the
                device the process group's backend works on (CPU for gloo, this rank's
                GPU for nccl).
        """
        if self.num_replicas == 1:
            self.batch_sampler.update(indices, embeddings)
            return
        if not dist.is_initialized():
            raise ValueError(
                f"update shares the bank across num_replicas={self.num_replicas} ranks and "
                "needs an initialised process group (torch.distributed.init_process_group)")
        indices = torch.as_tensor(indices, device=embeddings.device)
        for idx, emb in _all_gather_rows(indices, embeddings):
            self.batch_sampler.update(idx, emb)

    def state_dict(self) -> dict[str, Any]:
        r"""The wrapped sampler's state (identical on every rank)."""
        return self.batch_sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        r"""Restores :meth:`state_dict` output into the wrapped sampler."""
        self.batch_sampler.load_state_dict(state)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.batch_sampler!r}, "
                f"num_replicas={self.num_replicas}, rank={self.rank})")


def _all_gather_rows(*tensors: Tensor) -> list[tuple[Tensor, ...]]:
    r"""Every rank's ``tensors`` (rows: any number per rank, the same for each tensor),
    in rank order; a collective call."""
    size = torch.tensor([tensors[0].size(0)], device=tensors[0].device)
    sizes = [torch.empty_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    longest = int(max(sizes))
    gathered = []
    for rows in tensors:
        padded = torch.cat([rows, rows.new_zeros(longest - rows.size(0), *rows.shape[1:])])
        gathered.append([torch.empty_like(padded) for _ in sizes])
        dist.all_gather(gathered[-1], padded)
    return [tuple(g[:int(s)] for g in per_rank) for per_rank, s in zip(zip(*gathered), sizes)]
