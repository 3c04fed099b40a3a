r"""Edge perturbation (GraphCL's ``pedges``), batched."""
from __future__ import annotations

import torch
from torch_geometric.data import Batch

from graphsampler.augment._batch import (
    BatchLayout,
    check_ratio,
    rebuild,
    sample_per_group,
    uniform_below,
)
from graphsampler.augment.base import Augmentation


class PerturbEdges(Augmentation):
    r"""Replaces ``k = floor(ratio * m)`` uniformly chosen edges of every graph (:math:`m`
    its edge count) by ``k`` edges between uniformly drawn nodes of the same graph.

    Every graph keeps its edge count: each added edge takes the column of a removed one
    in ``edge_index``. Edges are the columns of ``edge_index``, taken as directed, as in
    GraphCL (an undirected graph stores each edge twice and the two directions are
    perturbed independently). Added edges are ordered pairs drawn uniformly with
    replacement: they may repeat an edge or be a self-loop, as in GraphCL's
    ``semisupervised_TU``. Their edge-level attributes (``edge_attr``, ...) are zero rows.

    GraphCL's ``unsupervised_TU/aug.py`` computes the added edges but never inserts them
    (its ``permute_edges`` only drops ``int(m / 10)`` edges, Shen-Lab/GraphCL#7); this
    class adds them, as the paper describes.

    Args:
        ratio (float, optional): Fraction of each graph's edges replaced, in
            :math:`[0, 1)`. (default: :obj:`0.1`, GraphCL's value)

    Example:
        >>> from torch_geometric.data import Batch, Data
        >>> ring = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
        >>> batch = Batch.from_data_list([Data(x=torch.ones(5, 1), edge_index=ring)] * 4)
        >>> view = PerturbEdges(ratio=0.2)(batch)  # one edge of each ring moved
        >>> view.edge_index.shape
        torch.Size([2, 20])
    """

    def __init__(self, ratio: float = 0.1) -> None:
        self.ratio = check_ratio(ratio, 'ratio', 'the fraction of edges replaced per graph')

    def augment(self, batch: Batch, layout: BatchLayout,
                generator: torch.Generator | None) -> Batch:
        num_replaced = layout.count(layout.num_edges, self.ratio)
        replaced = sample_per_group(layout.edge_ptr, num_replaced, generator).nonzero().view(-1)
        # `replaced` is grouped by graph, so its k-th column belongs to the k-th new edge.
        graph = torch.arange(layout.num_graphs, device=layout.device).repeat_interleave(
            num_replaced, output_size=replaced.numel())
        ends = layout.node_ptr.index_select(0, graph) + uniform_below(
            layout.num_nodes.index_select(0, graph).expand(2, -1), generator)
        edge_rows = torch.arange(batch.edge_index.size(1), device=layout.device)
        return rebuild(batch, layout, node_rows=None, node_ptr=layout.node_ptr,
                       edge_index=batch.edge_index.index_copy(1, replaced, ends),
                       edge_rows=edge_rows.index_fill_(0, replaced, -1),
                       edge_ptr=layout.edge_ptr)
