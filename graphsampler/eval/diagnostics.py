r"""Training diagnostics: :class:`~graphsampler.callback.Callback` s that
:func:`graphsampler.train.train` runs only when a caller passes them in (the benchmark
runner does), so that a plain training run pays for none of them.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Sampler

from graphsampler.callback import Callback
from graphsampler.eval.hardness import batch_hardness


class BatchHardness(Callback):
    r"""Per epoch, the means over batches of :func:`graphsampler.eval.batch_hardness`:
    ``neg_cos_mean``, ``neg_cos_max``, ``twin_rate`` and, when batches carry labels ``y``,
    ``false_negative_rate`` (see :func:`~graphsampler.eval.batch_hardness`).

    Example:
        .. code-block:: python

            result = train(method, ds, sampler, callbacks=[BatchHardness()])
            sorted(result.history[-1])[:2]  # ['epoch', 'false_negative_rate']
    """

    def __init__(self) -> None:
        self._stats: list[dict[str, float]] = []

    def on_epoch_start(self, epoch: int, sampler: Sampler[list[int]]) -> None:
        self._stats = []

    def on_step(self, batch: Any, loss: Tensor, z: Tensor, sampler: Sampler[list[int]]) -> None:
        if z.size(0) > 1:
            labels = batch.y.view(-1) if getattr(batch, "y", None) is not None else None
            self._stats.append(batch_hardness(z, labels))

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        for key in self._stats[0] if self._stats else ():
            record[key] = float(np.mean([s[key] for s in self._stats]))


class TrainingCounts(Callback):
    r"""How evenly the run trains on its instances: per epoch, the spread of how many
    batches each instance has been in since the run began (``count_min``,
    ``count_p10``, ``count_median``, ``count_p90``).

    Uniform batches train every instance once per epoch; hard batches repeat some
    instances and leave others out (an epoch's ``coverage`` says how many), and the
    spread says whether the same ones keep being left out. Counts start when the
    callback is made: a run resumed from a checkpoint counts from its resumption.

    Args:
        num_items (int): Dataset size :math:`N` (indices are ``batch.sample_idx``).

    Example:
        .. code-block:: python

            result = train(method, ds, sampler, callbacks=[TrainingCounts(len(ds))])
            result.history[-1]["count_min"] <= result.history[-1]["count_median"]  # True
    """

    QUANTILES = {"count_min": 0.0, "count_p10": 0.1, "count_median": 0.5, "count_p90": 0.9}

    def __init__(self, num_items: int) -> None:
        self.counts = torch.zeros(num_items, dtype=torch.long)

    def on_step(self, batch: Any, loss: Tensor, z: Tensor, sampler: Sampler[list[int]]) -> None:
        self.counts.index_add_(0, batch.sample_idx.view(-1).cpu(),
                               torch.ones(batch.sample_idx.numel(), dtype=torch.long))

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        counts = self.counts.double()
        for key, q in self.QUANTILES.items():
            record[key] = float(counts.quantile(q))


__all__ = ["BatchHardness", "TrainingCounts"]
