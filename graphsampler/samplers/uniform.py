r"""Batch samplers that ignore the bank: uniformly reshuffled and fixed batches."""
from __future__ import annotations

import torch
from torch import Tensor

from graphsampler.samplers.base import BaseBatchSampler, EpochProgress, epoch_generator


class UniformBatchSampler(BaseBatchSampler):
    r"""Uniformly shuffled mini-batches, a new permutation every epoch (the baseline).

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

    def _plan(self, progress: EpochProgress, remaining: int) -> list[Tensor]:
        return self._uniform_plan(progress, remaining)


class FixedBatchSampler(BaseBatchSampler):
    r"""One seeded shuffle, then the same batches every epoch.

    GraphCL's ``unsupervised_TU`` code shuffles the dataset once and then feeds the same
    mini-batches every epoch; the BatchSampler paper's GraphCL baselines ran that way.
    The batch order is the same every epoch too. A weaker baseline than
    :class:`UniformBatchSampler`, kept to reproduce the paper's comparison.

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B`, :math:`1 \leq B \leq N`.
        drop_last (bool): Drop the last, smaller batch. (default: :obj:`False`)
        seed (int): Seed of the one shuffle. (default: :obj:`0`)
        device (torch.device or str, optional): Device of the embedding bank.

    Example:
        >>> sampler = FixedBatchSampler(10, batch_size=4, seed=0)
        >>> list(sampler) == list(sampler)
        True
    """

    def _plan(self, progress: EpochProgress, remaining: int) -> list[Tensor]:
        device = progress.generator.device
        order = torch.randperm(self.num_items, generator=epoch_generator(self.seed, 0, device),
                               device=device)
        return self._take(progress, order, remaining)
