r"""The kNN ablation sampler: batches of an anchor and its nearest neighbours."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphsampler.samplers.base import EpochProgress
from graphsampler.samplers.hard import HardBatchSampler
from graphsampler.samplers.proximity_graph import build_proximity_graph


class KNNBatchSampler(HardBatchSampler):
    r"""Batches of an anchor and its :math:`B - 1` nearest neighbours in the bank.

    The paper's "w/ kNN" ablation (Yang et al., KDD 2023): the hardest batches, and the
    ones with the most false negatives. Anchors are drawn among the instances no batch
    of the epoch (or cycle) has covered yet. Cosine similarity over the bank; the exact
    neighbour table is rebuilt every ``refresh_every`` batches (default: once per epoch).

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B`, :math:`1 \leq B \leq N`.
        **kwargs: ``drop_last``, ``seed``, ``device``, ``warmup_epochs``,
            ``refresh_every``, ``memory_budget``, ``epoch_rule``, ``twin_threshold``, as
            :class:`HardBatchSampler` takes them.

    Example:
        >>> sampler = KNNBatchSampler(100, batch_size=8, warmup_epochs=0)
        >>> sampler.update(torch.arange(100), torch.randn(100, 4))
        >>> len(next(iter(sampler)))
        8
    """

    def __init__(self, num_items: int, batch_size: int, **kwargs: Any) -> None:
        super().__init__(num_items, batch_size, **kwargs)
        self._table: Tensor | None = None

    def _refresh(self, progress: EpochProgress) -> None:
        if self.batch_size > 1:
            self._table = build_proximity_graph(self.bank.embeddings, self.batch_size - 1,
                                                self.num_items,
                                                memory_budget=self.memory_budget,
                                                twin_threshold=self.twin_threshold)

    def _grow(self, progress: EpochProgress, starts: Tensor) -> Tensor:
        if self._table is None:
            return starts[:, None]
        return torch.cat([starts[:, None], self._table[starts]], dim=1)
