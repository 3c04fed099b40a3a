r"""The training loop's callback protocol: hooks that :func:`graphsampler.train.train`
calls at each epoch's start and end and after every step, so that diagnostics run only
when a caller passes them in (a plain training run pays for none of them).

A callback sees every epoch's start and end and every step (the batch, its loss, the
detached embeddings the loss contrasted and the batch sampler), and adds keys to the
epoch's history record in :meth:`Callback.on_epoch_end`. The diagnostics the benchmark
records are in :mod:`graphsampler.eval.diagnostics`.
"""
from __future__ import annotations

from typing import Any

from torch import Tensor
from torch.utils.data import Sampler


class Callback:
    r"""The hooks of the training loop; override the ones you need (each does nothing).

    Example:
        .. code-block:: python

            class CountSteps(Callback):
                def on_epoch_start(self, epoch, sampler):
                    self.steps = 0
                def on_step(self, batch, loss, z, sampler):
                    self.steps += 1
                def on_epoch_end(self, epoch, record):
                    record["steps"] = self.steps
            result = train(method, ds, sampler, callbacks=[CountSteps()])
            result.history[0]["steps"]  # 3
    """

    def on_epoch_start(self, epoch: int, sampler: Sampler[list[int]]) -> None:
        r"""Called before the first batch of epoch ``epoch`` (after ``set_epoch``)."""

    def on_step(self, batch: Any, loss: Tensor, z: Tensor, sampler: Sampler[list[int]]) -> None:
        r"""Called after each optimiser step.

        Args:
            batch (Any): The mini-batch of :math:`B` graphs, on the training device.
            loss (torch.Tensor): The batch's scalar loss, detached.
            z (torch.Tensor): The detached embeddings the loss contrasted, :obj:`[B, d]`
                (float32, also under bfloat16 training), as given to ``sampler.update``.
            sampler (Sampler): The batch sampler the loop draws from (wrapped under
                :mod:`torch.distributed`).
        """

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        r"""Called after the last batch; add this epoch's keys to ``record`` in place."""


__all__ = ["Callback"]
