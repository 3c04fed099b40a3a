r"""Subgraph sampling (GraphCL's ``subgraph``), batched."""
from __future__ import annotations

import itertools

import torch
from torch import Tensor
from torch_geometric.data import Batch

from graphsampler.augment._batch import (
    BatchLayout,
    check_ratio,
    keep_nodes,
    sample_per_group,
    uniform_below,
)
from graphsampler.augment.base import Augmentation


class Subgraph(Augmentation):
    r"""Keeps the subgraph induced by ``floor(keep_ratio * n) + 1`` nodes of every graph
    (:math:`n` its node count), grown from a uniformly drawn start node.

    GraphCL's ``subgraph`` (``unsupervised_TU/aug.py``, ratio 0.2) keeps a set of nodes:
    it starts from a random node and, while the set holds at most ``int(0.2 * n)``
    nodes, adds a node drawn uniformly from the neighbours of the set, so the view
    *keeps* ``int(0.2 * n) + 1`` nodes (about 20%) and drops the rest. The reference
    code never grows its neighbour set (``set.union`` is not in place,
    Shen-Lab/GraphCL#24), which limits the view to the start node's 1-hop
    neighbourhood; this class grows it, as the authors' fix does: at each step every
    graph adds a node drawn uniformly from its frontier (the out-neighbours, along
    ``edge_index``, of the kept nodes that are not yet kept).

    All graphs advance together, one tensor step per expansion step. Graphs whose
    target exceeds ``max_steps + 1`` nodes (say the few large graphs of a REDDIT batch)
    add ``ceil(missing / steps left)`` frontier nodes per step instead of one, drawn
    uniformly without replacement, so a batch takes about ``max_steps`` steps whatever
    its largest graph; smaller targets grow exactly one node per step. A graph stops
    early when its frontier is empty (the start node's component is smaller than the
    target) and keeps that whole component. The view of a connected graph is connected
    and has exactly the target size.

    Args:
        keep_ratio (float, optional): Fraction of each graph's nodes kept, in
            :math:`[0, 1)`; the view keeps ``floor(keep_ratio * n) + 1`` nodes, so at
            least one. (default: :obj:`0.2`, GraphCL's value)
        max_steps (int, optional): Step budget, at least 1. (default: :obj:`128`, so
            graphs of up to 644 nodes grow one node per step at ``keep_ratio=0.2``)

    Example:
        >>> from torch_geometric.data import Batch, Data
        >>> path = torch.tensor([[i for i in range(9)], [i + 1 for i in range(9)]])
        >>> path = torch.cat([path, path.flip(0)], dim=1)  # undirected path of 10 nodes
        >>> batch = Batch.from_data_list([Data(x=torch.ones(10, 1), edge_index=path)] * 3)
        >>> view = Subgraph(keep_ratio=0.2)(batch)
        >>> view.ptr.diff()  # floor(0.2 * 10) + 1 consecutive nodes of each path
        tensor([3, 3, 3])
    """

    def __init__(self, keep_ratio: float = 0.2, max_steps: int = 128) -> None:
        self.keep_ratio = check_ratio(keep_ratio, 'keep_ratio',
                                      'the fraction of nodes the subgraph keeps')
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1 (the step budget of the "
                             f"expansion), got {max_steps!r}")
        self.max_steps = max_steps

    def augment(self, batch: Batch, layout: BatchLayout,
                generator: torch.Generator | None) -> Batch:
        node_graph, num_nodes = layout.node_graph, layout.num_nodes
        grown = layout.active & (num_nodes > 0)
        missing = torch.where(grown, layout.count(num_nodes, self.keep_ratio),
                              torch.zeros_like(num_nodes))
        bounds = torch.arange(layout.num_graphs + 1, device=layout.device)

        src, col = batch.edge_index  # as CSR: sorted by source (collated TU data already is)
        if not bool((src[1:] >= src[:-1]).all()):
            order = src.argsort()
            src, col = src[order], col[order]
        rowptr = torch.searchsorted(src, torch.arange(node_graph.numel() + 1, device=src.device))

        kept = ~grown.index_select(0, node_graph)  # graphs left alone keep every node
        frontier = torch.zeros_like(kept)
        added = (layout.node_ptr[:-1] + uniform_below(num_nodes.clamp(min=1), generator))[grown]
        for step in itertools.count():
            kept[added] = True
            frontier[_neighbours(rowptr, col, added)] = True
            frontier &= ~kept
            candidates = (frontier & (missing > 0).index_select(0, node_graph)).nonzero().view(-1)
            if candidates.numel() == 0:
                break
            candidate_ptr = torch.searchsorted(node_graph.index_select(0, candidates), bounds)
            steps_left = max(self.max_steps - step, 1)
            take = torch.minimum((missing + steps_left - 1) // steps_left, candidate_ptr.diff())
            added = candidates[sample_per_group(candidate_ptr, take, generator)]
            missing -= take
        return keep_nodes(batch, layout, kept)



def _neighbours(rowptr: Tensor, col: Tensor, nodes: Tensor) -> Tensor:
    r"""Out-neighbours of ``nodes`` in the CSR graph ``(rowptr, col)``, concatenated."""
    begin = rowptr[nodes]
    degree = rowptr[nodes + 1] - begin
    shift = (begin - (degree.cumsum(0) - degree)).repeat_interleave(degree)
    return col[torch.arange(shift.numel(), device=col.device) + shift]
