r"""The base of every batched augmentation: one call contract, checked in one place."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch

from graphsampler.augment._batch import BatchLayout


class Augmentation:
    r"""A batched graph augmentation: ``aug(batch, generator, graph_mask)`` augments the
    graphs of a collated :class:`~torch_geometric.data.Batch` that ``graph_mask``
    selects (all of them by default) as tensor operations over the whole batch on its
    device, passes the other graphs through unchanged, and returns a new batch with the
    same graphs in the same order; the input batch is not modified.

    :meth:`__call__` checks the batch, the generator and the mask once (a
    :class:`ValueError` that says what to change) and reads the batch's layout; a
    subclass implements :meth:`augment` on that layout, validates its own constructor
    arguments, and gets a ``Name(arg=value, ...)`` :func:`repr` from its attributes.

    Example:
        .. code-block:: python

            from graphsampler.augment import DropNodes
            first_two = torch.tensor([True, True, False, False])  # batch of 4 graphs
            view = DropNodes(0.1)(batch, torch.Generator().manual_seed(0), first_two)
            # graphs 0 and 1 lost 10% of their nodes, graphs 2 and 3 are unchanged
    """

    def __call__(
        self,
        batch: Batch,
        generator: torch.Generator | None = None,
        graph_mask: Tensor | None = None,
    ) -> Batch:
        r"""Args:
            batch (Batch): A collated batch; not modified.
            generator (torch.Generator, optional): Randomness, on the batch's device.
                (default: :obj:`None`, the global generator)
            graph_mask (torch.Tensor, optional): Bool :math:`[G]`: graphs to augment;
                the others pass through unchanged. (default: all graphs)

        Returns:
            Batch: The augmented batch, same graphs in the same order.
        """
        return self.augment(batch, BatchLayout.of(batch, generator, graph_mask), generator)

    def augment(self, batch: Batch, layout: BatchLayout,
                generator: torch.Generator | None) -> Batch:
        r"""Augments the graphs ``layout.active`` selects.

        Args:
            batch (Batch): The checked batch; not modified.
            layout (BatchLayout): Where each graph of ``batch`` lives, and which are
                active.
            generator (torch.Generator, optional): Randomness, on the batch's device.

        Returns:
            Batch: The augmented batch.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement augment")

    def __repr__(self) -> str:
        args = ', '.join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({args})"
