r"""One augmentation per graph, drawn uniformly (GraphCL's ``random2/3/4``), and the
augmentations by the names GraphCL's ``unsupervised_TU`` uses."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch_geometric.data import Batch

from graphsampler.augment._batch import BatchLayout, shallow_copy
from graphsampler.augment.base import Augmentation
from graphsampler.augment.drop_nodes import DropNodes
from graphsampler.augment.mask_attributes import MaskAttributes
from graphsampler.augment.perturb_edges import PerturbEdges
from graphsampler.augment.subgraph import Subgraph


class Identity(Augmentation):
    r"""Leaves every graph as it is (GraphCL's ``none``); returns a new batch that shares
    the input's tensors (the generator and mask are checked, then unused).

    Example:
        .. code-block:: python

            view = Identity()(batch)  # view is not batch; view.x is batch.x
    """

    def augment(self, batch: Batch, layout: BatchLayout,
                generator: torch.Generator | None) -> Batch:
        return shallow_copy(batch)


class RandomChoice(Augmentation):
    r"""Applies to every graph one of ``augmentations``, drawn uniformly and independently
    per graph, as GraphCL's ``random2/3/4`` do per dataset item.

    Vectorised without splitting the batch: augmentation :math:`j` runs once over the
    whole batch with ``graph_mask`` selecting the graphs that drew :math:`j`, and passes
    the other graphs through unchanged, so each graph is augmented exactly once.

    Args:
        augmentations (Sequence[Augmentation]): At least one augmentation (an
            :class:`~graphsampler.augment.Augmentation`, or any callable taking
            ``(batch, generator, graph_mask)``).

    Example:
        .. code-block:: python

            aug = RandomChoice([DropNodes(0.1), Subgraph(0.2)])  # GraphCL's random2
            view = aug(batch, generator=torch.Generator().manual_seed(0))
            # each graph lost 10% of its nodes or kept a 20% subgraph
    """

    def __init__(self, augmentations: Sequence[Augmentation]) -> None:
        augmentations = tuple(augmentations)
        if not augmentations or not all(callable(aug) for aug in augmentations):
            raise ValueError("augmentations must be a non-empty sequence of augmentations, "
                             f"e.g. [DropNodes(), Subgraph()], got {augmentations!r}")
        self.augmentations = augmentations

    def augment(self, batch: Batch, layout: BatchLayout,
                generator: torch.Generator | None) -> Batch:
        choice = torch.randint(0, len(self.augmentations), (layout.num_graphs,),
                               generator=generator, device=layout.device)
        for j, aug in enumerate(self.augmentations):
            batch = aug(batch, generator, graph_mask=layout.active & (choice == j))
        return batch

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.augmentations)!r})"


#: The augmentation names of GraphCL's ``unsupervised_TU`` (its ``--aug`` argument).
GRAPHCL_AUGMENTATIONS = ('dnodes', 'pedges', 'subgraph', 'mask_nodes', 'none',
                         'random2', 'random3', 'random4')


def graphcl_augmentation(name: str) -> Augmentation:
    r"""The augmentation GraphCL's ``unsupervised_TU`` runs for ``--aug name``.

    Ratios are GraphCL's: node dropping, edge perturbation and attribute masking 10%,
    subgraph keeps 20%. ``random2`` draws per graph from (node dropping, subgraph),
    ``random3`` from (node dropping, edge perturbation, subgraph), ``random4`` from
    (node dropping, edge perturbation, subgraph, attribute masking), in the reference
    code's order.

    Args:
        name (str): One of :obj:`GRAPHCL_AUGMENTATIONS`.

    Example:
        >>> graphcl_augmentation('random2')
        RandomChoice([DropNodes(ratio=0.1), Subgraph(keep_ratio=0.2, max_steps=128)])
    """
    singles: dict[str, Augmentation] = {
        'dnodes': DropNodes(0.1),
        'pedges': PerturbEdges(0.1),
        'subgraph': Subgraph(0.2),
        'mask_nodes': MaskAttributes(0.1),
        'none': Identity(),
    }
    if name in singles:
        return singles[name]
    pools = {
        'random2': ('dnodes', 'subgraph'),
        'random3': ('dnodes', 'pedges', 'subgraph'),
        'random4': ('dnodes', 'pedges', 'subgraph', 'mask_nodes'),
    }
    if name in pools:
        return RandomChoice([singles[key] for key in pools[name]])
    raise ValueError(f"unknown GraphCL augmentation {name!r}; choose one of "
                     f"{', '.join(GRAPHCL_AUGMENTATIONS)}")
