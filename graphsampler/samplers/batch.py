r"""Mini-batch samplers with one interface: uniform, kNN and proximity (BatchSampler).

All three are :class:`torch.utils.data.Sampler` objects that yield lists of dataset
indices, so they plug into ``torch_geometric.loader.DataLoader(ds, batch_sampler=...)``
(and DGL's ``GraphDataLoader``). Each keeps an :class:`EmbeddingBank` that the training
loop fills with :meth:`update`, has ``len() == ceil(N / B)`` (``floor`` with
``drop_last``) so every sampler gives the same number of gradient steps, advances its
epoch after each full pass (or by :meth:`set_epoch`), and saves and restores its
position with :meth:`state_dict` / :meth:`load_state_dict`, mid-epoch included.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Sampler

from graphsampler.samplers._checks import check_int, check_restart_prob
from graphsampler.samplers.bank import EmbeddingBank
from graphsampler.samplers.proximity import DEFAULT_MEMORY_BUDGET, build_proximity_graph
from graphsampler.samplers.walk import random_walk_with_restart


def epoch_generator(seed: int, epoch: int, device: torch.device | str = "cpu") -> torch.Generator:
    r"""A generator on ``device`` seeded from ``(seed, epoch)`` without collisions."""
    state = np.random.SeedSequence([seed, epoch]).generate_state(2, dtype=np.uint32)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(state[0]) << 32 | int(state[1]))
    return gen


class _EpochProgress:
    r"""What a sampler must remember to continue an epoch it is in the middle of."""

    def __init__(self, epoch: int, generator: torch.Generator, num_items: int) -> None:
        self.epoch = epoch
        self.generator = generator
        self.position = 0  # batches yielded so far
        self.pending: list[Tensor] = []  # planned, not yet yielded
        self.covered = torch.zeros(num_items, dtype=torch.bool, device=generator.device)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position,
                "device": str(self.generator.device),
                "generator": self.generator.get_state(),
                "pending": [b.cpu() for b in self.pending], "covered": self.covered.cpu()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "_EpochProgress":
        gen = torch.Generator(device=state["device"])
        gen.set_state(state["generator"])
        progress = cls(state["epoch"], gen, state["covered"].numel())
        progress.position = state["position"]
        progress.pending = [b.to(gen.device) for b in state["pending"]]
        progress.covered = state["covered"].to(gen.device)
        return progress


class UniformBatchSampler(Sampler[list[int]]):
    r"""Uniformly shuffled mini-batches (the baseline), with an embedding bank.

    The bank is filled as for the other samplers, so batch-hardness diagnostics can be
    computed under the uniform sampler too; it does not influence the batches.

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B`, :math:`1 \leq B \leq N`.
        drop_last (bool): Drop the last, smaller batch. (default: :obj:`False`)
        seed (int): Seed of the batch stream. (default: :obj:`0`)
        device (torch.device or str, optional): Device of the embedding bank and of the
            sampling work. Default: that of the first embeddings passed to :meth:`update`.

    Example:
        >>> sampler = UniformBatchSampler(10, batch_size=4, seed=0)
        >>> [len(b) for b in sampler]
        [4, 4, 2]
    """

    def __init__(self, num_items: int, batch_size: int, *, drop_last: bool = False,
                 seed: int = 0, device: torch.device | str | None = None) -> None:
        check_int(num_items, "num_items", 1)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or \
                not 1 <= batch_size <= num_items:
            raise ValueError(
                f"batch_size must be an int in [1, num_items={num_items}], got {batch_size!r}"
            )
        check_int(seed, "seed", 0)
        self.num_items = num_items
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.epoch = 0
        self.bank = EmbeddingBank(num_items, device=device)
        self._progress: _EpochProgress | None = None
        #: Statistics of the last planned epoch (graph builds, walk top-ups, ...), and
        #: once the epoch is over its ``coverage``: the fraction of the dataset that its
        #: batches hold (1.0 for uniform batches; below 1 where walks repeat instances).
        self.stats: dict[str, Any] = {}

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_items // self.batch_size
        return math.ceil(self.num_items / self.batch_size)

    @property
    def device(self) -> torch.device:
        r"""Where sampling work runs: the bank's device (CPU before the first update)."""
        return self.bank.device or torch.device("cpu")

    def set_epoch(self, epoch: int) -> None:
        r"""Sets the epoch whose batches the next iteration yields (as ``DistributedSampler``)."""
        self.epoch = check_int(epoch, "epoch", 0)

    def update(self, indices: Tensor, embeddings: Tensor) -> None:
        r"""Records the embeddings of a batch.

        Args:
            indices (torch.Tensor): Dataset indices, shape :obj:`[b]` (``batch.sample_idx``).
            embeddings (torch.Tensor): Their embeddings, shape :obj:`[b, d]`; detached.
        """
        self.bank.update(indices, embeddings)

    def __iter__(self) -> Iterator[list[int]]:
        progress = self._progress
        if progress is None or progress.epoch != self.epoch:
            progress = _EpochProgress(self.epoch, epoch_generator(self.seed, self.epoch,
                                                                  self.device), self.num_items)
            self.stats = {"epoch": self.epoch}
        self._progress = progress
        total = len(self)
        while progress.position < total:
            if not progress.pending:
                planned = self._plan(progress, total - progress.position)
                progress.pending = list(planned)
            batch = progress.pending.pop(0)
            progress.position += 1
            yield batch.tolist()
        self.stats["coverage"] = progress.covered.float().mean().item()
        self._progress = None
        self.epoch = progress.epoch + 1

    def _plan(self, progress: _EpochProgress, remaining: int) -> list[Tensor]:
        r"""Plans the next batches of the epoch (at most ``remaining``)."""
        return self._uniform_plan(progress, remaining)

    def _uniform_plan(self, progress: _EpochProgress, remaining: int) -> list[Tensor]:
        perm = torch.randperm(self.num_items, generator=progress.generator,
                              device=progress.generator.device)
        batches = list(perm.split(self.batch_size))[:len(self)][len(self) - remaining:]
        progress.covered[torch.cat(batches)] = True
        return batches

    def state_dict(self) -> dict[str, Any]:
        r"""Everything needed to continue this exact batch stream, mid-epoch included."""
        return {"seed": self.seed, "epoch": self.epoch, "bank": self.bank.state_dict(),
                "progress": None if self._progress is None else self._progress.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        r"""Restores :meth:`state_dict` output: the next iteration resumes that stream."""
        if state["seed"] != self.seed:
            raise ValueError(f"state was saved with seed={state['seed']}, this sampler has "
                             f"seed={self.seed}")
        self.bank.load_state_dict(state["bank"])
        self.epoch = state["epoch"]
        progress = state["progress"]
        self._progress = None if progress is None else _EpochProgress.from_state_dict(progress)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_items={self.num_items}, "
                f"batch_size={self.batch_size}, drop_last={self.drop_last}, seed={self.seed})")


class _HardBatchSampler(UniformBatchSampler):
    r"""Shared machinery of the samplers that read the bank: uniform batches until the
    bank is full and ``warmup_epochs`` have passed, then batches grown from start nodes
    drawn among the instances not yet covered this epoch."""

    def __init__(self, num_items: int, batch_size: int, *, drop_last: bool = False,
                 seed: int = 0, device: torch.device | str | None = None,
                 warmup_epochs: int = 1, refresh_every: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        super().__init__(num_items, batch_size, drop_last=drop_last, seed=seed, device=device)
        self.warmup_epochs = check_int(warmup_epochs, "warmup_epochs", 0)
        self.refresh_every = None if refresh_every is None else \
            check_int(refresh_every, "refresh_every", 1)
        self.memory_budget = check_int(memory_budget, "memory_budget", 1)

    @property
    def ready(self) -> bool:
        r"""Whether the bank is full and warm-up is over (else batches are uniform)."""
        return self.bank.is_full and self.epoch >= self.warmup_epochs

    def _plan(self, progress: _EpochProgress, remaining: int) -> list[Tensor]:
        # An epoch that began before the bank had a device stays uniform to its end.
        if not self.ready or progress.generator.device != self.bank.device:
            self.stats["uniform"] = True
            return self._uniform_plan(progress, remaining)
        count = min(remaining, self.refresh_every or len(self))
        self._refresh(progress)
        self.stats["graph_builds"] = self.stats.get("graph_builds", 0) + 1
        planned: list[Tensor] = []
        while count > 0:
            # One wave of walkers from distinct start nodes, uncovered ones first. As in
            # the published sequential algorithm, a batch's start must not be covered by
            # an earlier batch of the epoch: a walker whose (uncovered) start an earlier
            # walker of its wave reached is dropped, and the next wave replaces it.
            starts, fresh = self._draw_starts(progress, count)
            batches = self._grow(progress, starts)  # [w, B]
            order = torch.arange(starts.numel(), device=starts.device)
            first = torch.full((self.num_items,), starts.numel(), device=starts.device)
            first.scatter_reduce_(0, batches.reshape(-1),
                                  order.repeat_interleave(batches.size(1)), "amin")
            keep = ~fresh | (first[starts] == order)
            batches = batches[keep][:count]
            progress.covered[batches.reshape(-1)] = True
            planned.extend(batches.unbind(0))
            count -= batches.size(0)
            self.stats["waves"] = self.stats.get("waves", 0) + 1
        return planned

    def _draw_starts(self, progress: _EpochProgress, count: int) -> tuple[Tensor, Tensor]:
        r"""``count`` distinct start nodes in random order, uncovered ones first, and a
        mask of those that were uncovered."""
        keys = torch.rand(self.num_items, generator=progress.generator,
                          device=progress.generator.device)
        keys = keys + (~progress.covered).to(keys.dtype)  # uncovered rank above covered
        starts = keys.topk(count).indices
        return starts, ~progress.covered[starts]

    def _refresh(self, progress: _EpochProgress) -> None:
        r"""Rebuilds the neighbour table from the bank."""
        raise NotImplementedError

    def _grow(self, progress: _EpochProgress, starts: Tensor) -> Tensor:
        r"""Grows one batch :obj:`[B]` from every start node; returns :obj:`[W, B]`."""
        raise NotImplementedError


class KNNBatchSampler(_HardBatchSampler):
    r"""Batches of an anchor and its :math:`B - 1` nearest neighbours in the bank.

    The paper's "w/ kNN" ablation (Yang et al., KDD 2023): the hardest batches, and the
    ones with the most false negatives. Anchors are drawn among the instances no batch
    of the epoch has covered yet. Cosine similarity over the bank; the exact neighbour
    table is rebuilt every ``refresh_every`` batches (default: once per epoch).

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B`, :math:`1 \leq B \leq N`.
        drop_last (bool): Same epoch length as :class:`UniformBatchSampler`'s with it.
        seed (int): Seed of the batch stream.
        device (torch.device or str, optional): Device of the bank and of the sampling.
        warmup_epochs (int): Uniform epochs before the bank is used. (default: :obj:`1`)
        refresh_every (int, optional): Batches between neighbour-table rebuilds.
        memory_budget (int): Scratch bytes for the neighbour search.

    Example:
        >>> sampler = KNNBatchSampler(100, batch_size=8, warmup_epochs=0)
        >>> sampler.update(torch.arange(100), torch.randn(100, 4))
        >>> len(next(iter(sampler)))
        8
    """

    def __init__(self, num_items: int, batch_size: int, *, drop_last: bool = False,
                 seed: int = 0, device: torch.device | str | None = None,
                 warmup_epochs: int = 1, refresh_every: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        super().__init__(num_items, batch_size, drop_last=drop_last, seed=seed, device=device,
                         warmup_epochs=warmup_epochs, refresh_every=refresh_every,
                         memory_budget=memory_budget)
        self._table: Tensor | None = None

    def _refresh(self, progress: _EpochProgress) -> None:
        if self.batch_size > 1:
            self._table = build_proximity_graph(self.bank.embeddings, self.batch_size - 1,
                                                self.num_items,
                                                memory_budget=self.memory_budget)

    def _grow(self, progress: _EpochProgress, starts: Tensor) -> Tensor:
        if self._table is None:
            return starts[:, None]
        return torch.cat([starts[:, None], self._table[starts]], dim=1)


class ProximityBatchSampler(_HardBatchSampler):
    r"""BatchSampler / ProSampler (Yang et al., KDD 2023): mini-batches drawn by random
    walks with restart on a proximity graph of the instances' embeddings.

    Each instance links to its ``num_neighbors`` most similar among ``num_candidates``
    drawn at random (:func:`build_proximity_graph`); each batch is the first :math:`B`
    distinct instances a random walk with restart (:func:`random_walk_with_restart`)
    visits from a start node not yet covered this epoch. ``num_candidates`` sets the
    hardness (small: near uniform; :math:`\geq N`: exact kNN, more false negatives) and
    ``restart_prob`` the locality of a batch.

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B`, :math:`1 \leq B \leq N`.
        drop_last (bool): Same epoch length as :class:`UniformBatchSampler`'s with it.
        seed (int): Seed of the batch stream.
        device (torch.device or str, optional): Device of the bank and of the sampling.
        num_candidates (int): Candidates :math:`M` per instance. (default: :obj:`1000`)
        num_neighbors (int): Out-degree :math:`k < \min(M, N)`. (default: :obj:`100`)
        restart_prob (float or callable): Restart probability :math:`\alpha \in [0, 1)`,
            or a function ``epoch -> alpha``. (default: :obj:`0.2`)
        warmup_epochs (int): Uniform epochs before the bank is used. (default: :obj:`1`)
        refresh_every (int, optional): Batches between graph rebuilds (default: one
            rebuild per epoch).
        memory_budget (int): Scratch bytes for one chunk of the graph build.
        max_steps (int, optional): Step cap of a walk (default: :obj:`64 * B`).

    Example:
        >>> from torch_geometric.loader import DataLoader
        >>> sampler = ProximityBatchSampler(len(ds), batch_size=128, num_candidates=1000,
        ...                                 num_neighbors=100, restart_prob=0.2, seed=0)
        >>> loader = DataLoader(ds, batch_sampler=sampler)  # ds = IndexedDataset(...)
        >>> for epoch in range(20):
        ...     for batch in loader:
        ...         z = model(batch)
        ...         sampler.update(batch.sample_idx, z.detach())
    """

    def __init__(self, num_items: int, batch_size: int, *, drop_last: bool = False,
                 seed: int = 0, device: torch.device | str | None = None,
                 num_candidates: int = 1000, num_neighbors: int = 100,
                 restart_prob: float | Callable[[int], float] = 0.2,
                 warmup_epochs: int = 1, refresh_every: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 max_steps: int | None = None) -> None:
        super().__init__(num_items, batch_size, drop_last=drop_last, seed=seed, device=device,
                         warmup_epochs=warmup_epochs, refresh_every=refresh_every,
                         memory_budget=memory_budget)
        check_int(num_candidates, "num_candidates", 1)
        check_int(num_neighbors, "num_neighbors", 1)
        if num_neighbors >= num_candidates:
            raise ValueError(
                f"num_neighbors ({num_neighbors}) must be smaller than num_candidates "
                f"({num_candidates}): each instance keeps its k best of M candidates"
            )
        if num_neighbors >= num_items:
            raise ValueError(
                f"num_neighbors ({num_neighbors}) must be smaller than the number of "
                f"instances ({num_items})"
            )
        if not callable(restart_prob):
            check_restart_prob(restart_prob)
        self.num_candidates = num_candidates
        self.num_neighbors = num_neighbors
        self.restart_prob = restart_prob
        self.max_steps = None if max_steps is None else check_int(max_steps, "max_steps", 0)
        self._graph: Tensor | None = None

    def restart_prob_at(self, epoch: int) -> float:
        r"""The restart probability used in ``epoch``."""
        alpha = self.restart_prob(epoch) if callable(self.restart_prob) else self.restart_prob
        return check_restart_prob(alpha)

    def _refresh(self, progress: _EpochProgress) -> None:
        self._graph = build_proximity_graph(
            self.bank.embeddings, self.num_neighbors, self.num_candidates,
            generator=progress.generator, memory_budget=self.memory_budget)

    def _grow(self, progress: _EpochProgress, starts: Tensor) -> Tensor:
        assert self._graph is not None
        walk = random_walk_with_restart(self._graph, starts, self.batch_size,
                                        self.restart_prob_at(progress.epoch),
                                        generator=progress.generator, max_steps=self.max_steps)
        self.stats["walk_filled"] = self.stats.get("walk_filled", 0) + walk.num_filled
        self.stats["walk_steps"] = max(self.stats.get("walk_steps", 0), walk.steps)
        return walk.batches

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_items={self.num_items}, "
                f"batch_size={self.batch_size}, num_candidates={self.num_candidates}, "
                f"num_neighbors={self.num_neighbors}, restart_prob={self.restart_prob}, "
                f"seed={self.seed})")
