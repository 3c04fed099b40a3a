r"""The base of every batch sampler: epoch bookkeeping, the embedding bank, resuming.

A batch sampler is a :class:`torch.utils.data.Sampler` that yields lists of dataset
indices, so it plugs into ``torch_geometric.loader.DataLoader(ds, batch_sampler=...)``
(and DGL's ``GraphDataLoader``). :class:`BaseBatchSampler` keeps an
:class:`EmbeddingBank` that the training loop fills with :meth:`~BaseBatchSampler.update`,
has ``len() == ceil(N / B)`` (``floor`` with ``drop_last``) so every sampler gives the
same number of gradient steps, advances its epoch after each full pass (or by
:meth:`~BaseBatchSampler.set_epoch`), and saves and restores its position with
:meth:`~BaseBatchSampler.state_dict` / :meth:`~BaseBatchSampler.load_state_dict`,
mid-epoch included. A subclass only plans batches (:meth:`~BaseBatchSampler._plan`).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Sampler

from graphsampler.samplers._checks import check_int
from graphsampler.samplers.bank import EmbeddingBank


def epoch_generator(seed: int, epoch: int, device: torch.device | str = "cpu") -> torch.Generator:
    r"""A generator on ``device`` seeded from ``(seed, epoch)`` without collisions."""
    state = np.random.SeedSequence([seed, epoch]).generate_state(2, dtype=np.uint32)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(state[0]) << 32 | int(state[1]))
    return gen


class EpochProgress:
    r"""What a sampler must remember to continue an epoch it is in the middle of.

    Attributes:
        epoch (int): The epoch being yielded.
        generator (torch.Generator): The epoch's source of randomness.
        position (int): Batches yielded so far.
        pending (list[torch.Tensor]): Batches planned and not yet yielded.
        covered (torch.Tensor): :obj:`[N]` bool, the instances this epoch's planned
            batches hold.
    """

    def __init__(self, epoch: int, generator: torch.Generator, num_items: int) -> None:
        self.epoch = epoch
        self.generator = generator
        self.position = 0
        self.pending: list[Tensor] = []
        self.covered = torch.zeros(num_items, dtype=torch.bool, device=generator.device)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position,
                "device": str(self.generator.device),
                "generator": self.generator.get_state(),
                "pending": [b.cpu() for b in self.pending], "covered": self.covered.cpu()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> EpochProgress:
        gen = torch.Generator(device=state["device"])
        gen.set_state(state["generator"])
        progress = cls(state["epoch"], gen, state["covered"].numel())
        progress.position = state["position"]
        progress.pending = [b.to(gen.device) for b in state["pending"]]
        progress.covered = state["covered"].to(gen.device)
        return progress


class BaseBatchSampler(Sampler[list[int]], ABC):
    r"""The common base of the batch samplers: a subclass implements :meth:`_plan`.

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B`, :math:`1 \leq B \leq N`.
        drop_last (bool): Drop the last, smaller batch. (default: :obj:`False`)
        seed (int): Seed of the batch stream. (default: :obj:`0`)
        device (torch.device or str, optional): Device of the embedding bank and of the
            sampling work. Default: that of the first embeddings passed to :meth:`update`.

    Attributes:
        stats (dict): Statistics of the last planned epoch: ``epoch`` (its number),
            ``uniform`` (:obj:`True` while the bank is not ready: the epoch's batches
            are uniform), for the hard samplers ``graph_builds``, ``waves`` (rounds of
            walkers grown together; a walker whose start an earlier one covered is
            dropped and replaced in the next wave), ``cycles`` and ``leftovers``
            (``epoch_rule="cover"``), for the proximity samplers ``walk_filled`` (batch
            slots of the yielded batches topped up uniformly because a walk found too
            few new instances: a share of the epoch's :math:`B \cdot` ``len(self)``
            slots) and ``walk_steps``; and once the epoch is over its ``coverage``: the
            fraction of the dataset its batches hold (1.0 for a permutation; below 1
            where batches repeat instances).
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
        self._progress: EpochProgress | None = None
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
            progress = EpochProgress(self.epoch, epoch_generator(self.seed, self.epoch,
                                                                 self.device), self.num_items)
            self.stats = {"epoch": self.epoch}
        self._progress = progress
        total = len(self)
        while progress.position < total:
            if not progress.pending:
                progress.pending = list(self._plan(progress, total - progress.position))
            batch = progress.pending.pop(0)
            progress.position += 1
            yield batch.tolist()
        self.stats["coverage"] = progress.covered.float().mean().item()
        self._progress = None
        self.epoch = progress.epoch + 1

    @abstractmethod
    def _plan(self, progress: EpochProgress, remaining: int) -> list[Tensor]:
        r"""Plans the next batches of the epoch: at least one and at most ``remaining``,
        each a 1-D int64 tensor of dataset indices; marks them in ``progress.covered``."""

    def _uniform_plan(self, progress: EpochProgress, remaining: int) -> list[Tensor]:
        r"""The rest of the epoch as a seeded permutation of the dataset."""
        perm = torch.randperm(self.num_items, generator=progress.generator,
                              device=progress.generator.device)
        return self._take(progress, perm, remaining)

    def _take(self, progress: EpochProgress, order: Tensor, remaining: int) -> list[Tensor]:
        r"""The last ``remaining`` of the epoch's batches cut from the order :obj:`[N]`."""
        batches = list(order.split(self.batch_size))[:len(self)][len(self) - remaining:]
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
        self._progress = None if progress is None else EpochProgress.from_state_dict(progress)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_items={self.num_items}, "
                f"batch_size={self.batch_size}, drop_last={self.drop_last}, seed={self.seed})")
