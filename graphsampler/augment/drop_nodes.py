r"""Node dropping (GraphCL's ``dnodes``), batched."""
from __future__ import annotations

import torch
from torch_geometric.data import Batch

from graphsampler.augment._batch import BatchLayout, check_ratio, keep_nodes, sample_per_group
from graphsampler.augment.base import Augmentation


class DropNodes(Augmentation):
    r"""Removes ``floor(ratio * n)`` uniformly chosen nodes of every graph (:math:`n` its
    node count), with their edges, and relabels the rest.

    GraphCL's ``drop_nodes`` (``unsupervised_TU/aug.py``) draws ``int(n / 10)`` nodes
    without replacement and cuts their edges. The dropped nodes vanish from the
    augmented view here, so they are not pooled into the graph embedding and the result
    equals :meth:`torch_geometric.data.Data.subgraph` on the kept nodes, graph by graph.
    Since ``ratio < 1``, every graph keeps at least one node.

    Args:
        ratio (float, optional): Fraction of each graph's nodes to drop, in
            :math:`[0, 1)`. (default: :obj:`0.1`, GraphCL's value)

    Example:
        >>> from torch_geometric.data import Batch, Data
        >>> star = torch.tensor([[0] * 9 + list(range(1, 10)), list(range(1, 10)) + [0] * 9])
        >>> batch = Batch.from_data_list([Data(x=torch.ones(10, 1), edge_index=star)] * 4)
        >>> view = DropNodes(ratio=0.1)(batch, generator=torch.Generator().manual_seed(0))
        >>> view.ptr.diff()  # one node of each star removed
        tensor([9, 9, 9, 9])
    """

    def __init__(self, ratio: float = 0.1) -> None:
        self.ratio = check_ratio(ratio, 'ratio', 'the fraction of nodes dropped per graph')

    def augment(self, batch: Batch, layout: BatchLayout,
                generator: torch.Generator | None) -> Batch:
        dropped = sample_per_group(layout.node_ptr, layout.count(layout.num_nodes, self.ratio),
                                   generator)
        return keep_nodes(batch, layout, ~dropped)
