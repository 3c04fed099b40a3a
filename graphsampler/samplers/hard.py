r"""The base of the samplers that read the bank: batches grown from start nodes, the
neighbour structure refreshed, the ``fixed`` and ``cover`` epoch rules."""
from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from graphsampler.samplers._checks import check_choice, check_int, check_twin_threshold
from graphsampler.samplers.base import BaseBatchSampler, EpochProgress
from graphsampler.samplers.proximity_graph import DEFAULT_MEMORY_BUDGET

#: The epoch rules of :class:`HardBatchSampler`.
EPOCH_RULES = ("fixed", "cover")


class HardBatchSampler(BaseBatchSampler):
    r"""The base of the samplers that grow batches from the bank.

    Batches are uniform until the bank holds every instance and ``warmup_epochs`` have
    passed; then each batch is grown (:meth:`_grow`) from a start node that no earlier
    batch has covered, and the neighbour structure is rebuilt (:meth:`_refresh`) every
    ``refresh_every`` batches.

    Two epoch rules, both giving ``len(self)`` batches per epoch, so that every sampler
    takes the same number of gradient steps:

    * ``"fixed"``: coverage starts afresh every epoch; grown batches repeat instances,
      so an epoch holds only part of the dataset (see ``stats["coverage"]``).
    * ``"cover"``: the published rule. Start nodes are drawn among the instances not yet
      covered in the current *cycle*, which runs across epochs until every instance has
      been in a batch; when fewer than :math:`B` are left, one batch takes all of those
      leftovers and is filled by a walk from one of them. Then a new cycle begins.
      ``stats["cycles"]`` counts the cycles completed.

    Args:
        num_items, batch_size, drop_last, seed, device: As :class:`BaseBatchSampler`.
        warmup_epochs (int): Uniform epochs before the bank is used. (default: :obj:`1`)
        refresh_every (int, optional): Batches between rebuilds (default: one rebuild
            per epoch).
        memory_budget (int): Scratch bytes for the neighbour search.
        epoch_rule (str): ``"fixed"`` or ``"cover"``. (default: :obj:`"fixed"`)
        twin_threshold (float, optional): Cosine similarity at and above which two
            instances are twins (the same instance to the encoder, e.g. 1-WL-equivalent
            graphs under a GIN): an instance never links to its twins while it has other
            candidates. (default: :obj:`None`, no exclusion)
    """

    def __init__(self, num_items: int, batch_size: int, *, drop_last: bool = False,
                 seed: int = 0, device: torch.device | str | None = None,
                 warmup_epochs: int = 1, refresh_every: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 epoch_rule: Literal["fixed", "cover"] = "fixed",
                 twin_threshold: float | None = None) -> None:
        super().__init__(num_items, batch_size, drop_last=drop_last, seed=seed, device=device)
        self.warmup_epochs = check_int(warmup_epochs, "warmup_epochs", 0)
        self.refresh_every = None if refresh_every is None else \
            check_int(refresh_every, "refresh_every", 1)
        self.memory_budget = check_int(memory_budget, "memory_budget", 1)
        self.epoch_rule = check_choice(epoch_rule, "epoch_rule", EPOCH_RULES)
        self.twin_threshold = check_twin_threshold(twin_threshold)
        self._cycle: Tensor | None = None  # "cover": instances covered in this cycle
        self._filled: Tensor | None = None  # [W, B] top-ups of the last _grow, if any

    @property
    def ready(self) -> bool:
        r"""Whether the bank is full and warm-up is over (else batches are uniform)."""
        return self.bank.is_full and self.epoch >= self.warmup_epochs

    def _plan(self, progress: EpochProgress, remaining: int) -> list[Tensor]:
        # An epoch that began before the bank had a device stays uniform to its end.
        if not self.ready or progress.generator.device != self.bank.device:
            self.stats["uniform"] = True
            return self._uniform_plan(progress, remaining)
        count = min(remaining, self.refresh_every or len(self))
        self._refresh(progress)
        self.stats["graph_builds"] = self.stats.get("graph_builds", 0) + 1
        cover = self.epoch_rule == "cover"
        if cover and (self._cycle is None or self._cycle.device != progress.covered.device):
            self._cycle = torch.zeros_like(progress.covered)
        planned: list[Tensor] = []
        while count > 0:
            seen = self._cycle if cover else progress.covered
            assert seen is not None
            if cover and bool(seen.all()):
                seen.zero_()
                self.stats["cycles"] = self.stats.get("cycles", 0) + 1
            left = int((~seen).sum())
            if cover and left < self.batch_size:
                batches = self._leftovers(progress, seen)
                self.stats["leftovers"] = self.stats.get("leftovers", 0) + 1
            else:
                batches = self._wave(progress, seen, count)
            seen[batches.reshape(-1)] = True
            progress.covered[batches.reshape(-1)] = True
            planned.extend(batches.unbind(0))
            count -= batches.size(0)
            self.stats["waves"] = self.stats.get("waves", 0) + 1
        return planned

    def _wave(self, progress: EpochProgress, seen: Tensor, count: int) -> Tensor:
        r"""One wave of at most ``count`` batches :obj:`[w, B]`, from distinct start
        nodes, unseen ones first. As in the published sequential algorithm, a batch's
        start must not be covered by an earlier batch: a walker whose (unseen) start an
        earlier walker of its wave reached is dropped, and the next wave replaces it."""
        keys = torch.rand(self.num_items, generator=progress.generator,
                          device=progress.generator.device)
        keys = keys + (~seen).to(keys.dtype)  # unseen rank above seen
        starts = keys.topk(count).indices
        fresh = ~seen[starts]
        batches = self._grow(progress, starts)  # [w, B]
        order = torch.arange(starts.numel(), device=starts.device)
        first = torch.full((self.num_items,), starts.numel(), device=starts.device)
        first.scatter_reduce_(0, batches.reshape(-1),
                              order.repeat_interleave(batches.size(1)), "amin")
        kept = (~fresh | (first[starts] == order)).nonzero().view(-1)[:count]
        self._count_filled(kept, None)
        return batches[kept]

    def _leftovers(self, progress: EpochProgress, seen: Tensor) -> Tensor:
        r"""One batch :obj:`[1, B]`: every unseen instance, filled by the batch grown
        from one of them (its nodes in visit order, the leftovers excluded)."""
        left = (~seen).nonzero().view(-1)
        pick = torch.randint(left.numel(), (1,), generator=progress.generator,
                             device=left.device)
        grown = self._grow(progress, left[pick])[0]
        outside = ~torch.isin(grown, left)
        fill = grown[outside][: self.batch_size - left.numel()]
        self._count_filled(torch.zeros(1, dtype=torch.long, device=left.device),
                           outside[None] & (outside.cumsum(0) <= fill.numel())[None])
        return torch.cat([left, fill])[None]

    def _count_filled(self, rows: Tensor, used: Tensor | None) -> None:
        r"""Adds to ``stats["walk_filled"]`` the top-ups of the last :meth:`_grow` in the
        batch slots the epoch yields, and to ``stats["walk_slots"]`` those slots: its
        ``rows``, and of those only the ``used`` entries (all when :obj:`None`); walks
        that are dropped do not count, so ``walk_filled / walk_slots`` is the share of
        the grown batches' slots that are uniform top-ups."""
        if self._filled is None:
            return
        filled = self._filled[rows]
        slots = filled.numel() if used is None else int(used.sum())
        if used is not None:
            filled = filled & used
        self.stats["walk_filled"] = self.stats.get("walk_filled", 0) + int(filled.sum())
        self.stats["walk_slots"] = self.stats.get("walk_slots", 0) + slots
        self._filled = None

    def _refresh(self, progress: EpochProgress) -> None:
        r"""Rebuilds the neighbour table from the bank."""
        raise NotImplementedError

    def _grow(self, progress: EpochProgress, starts: Tensor) -> Tensor:
        r"""Grows one batch :obj:`[B]` from every start node; returns :obj:`[W, B]`."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["cycle"] = None if self._cycle is None else self._cycle.cpu()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        cycle = state.get("cycle")
        self._cycle = None if cycle is None else cycle.to(self.device)
