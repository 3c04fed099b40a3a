r"""The interface every contrastive method offers to the training loop."""
from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor
from torch_geometric.data import Batch


class ContrastiveMethod(torch.nn.Module, ABC):
    r"""A self-supervised graph method: a model plus its training step.

    The training loop (:func:`graphsampler.train.train`) calls :meth:`training_step` on
    every mini-batch, back-propagates the loss, and hands the returned embeddings to the
    batch sampler's bank; evaluation freezes the model and calls :meth:`embed`. A
    method loads no data: its registry entry
    (:data:`graphsampler.bench.registry.METHODS`) names its dataset preparation, default
    learning rate and evaluation kernel.
    """

    @abstractmethod
    def training_step(self, batch: Batch,
                      generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        r"""One forward pass on a collated batch of :math:`B` graphs.

        Args:
            batch (Batch): The mini-batch, on the model's device.
            generator (torch.Generator, optional): Randomness of the augmentations, on
                the batch's device.

        Returns:
            (torch.Tensor, torch.Tensor): the scalar loss, and the embeddings the loss
            contrasts, :obj:`[B, d]`, for the sampler's bank (the loop detaches them).
        """

    @abstractmethod
    def embed(self, batch: Batch) -> Tensor:
        r"""The frozen graph embeddings used for evaluation, :obj:`[B, d]`."""
