r"""Shared machinery of the batched augmentations.

Argument checks, exact per-graph sampling, and rebuilding a collated
:class:`~torch_geometric.data.Batch` after its nodes or edges change, all as tensor
operations over the whole batch on its device (no Python loop over graphs or nodes).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Batch

# Rebuilt by `rebuild`, never gathered like ordinary attributes.
_DERIVED_KEYS = ('batch', 'ptr', 'num_nodes')


def check_ratio(value: float, name: str, meaning: str) -> float:
    r"""Checks that ``value`` is a number in :math:`[0, 1)`; ``meaning`` says what it counts."""
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0 <= value < 1):
        raise ValueError(f"{name} must be a number in [0, 1) ({meaning}), got {value!r}")
    return float(value)


def shallow_copy(batch: Batch) -> Batch:
    r"""A new :class:`Batch` sharing the tensors of ``batch``: assign to it, never mutate."""
    out = copy.copy(batch)
    out._store.__dict__.pop('_cached_attr', None)  # PyG's node/edge-attribute cache
    return out


@dataclass(frozen=True)
class BatchLayout:
    r"""Where each graph of a collated batch lives, read once per augmentation call.

    Attribute levels come from the batch's collation record (``_slice_dict``): a key is
    node-level if its per-graph slices equal the node counts, edge-level if they equal
    the edge counts (a key containing ``'edge'`` wins a tie with the nodes; a key that
    also matches one row per graph stays graph-level unless it contains ``'edge'``).
    Everything else (``y``, ``sample_idx``, ...) is graph-level and never touched.

    Attributes:
        num_graphs (int): :math:`G`.
        node_graph (torch.Tensor): Graph of each node, :math:`[N]` (``batch.batch``).
        num_nodes (torch.Tensor): Nodes per graph, :math:`[G]`.
        node_ptr (torch.Tensor): First node of each graph, then :math:`N`, :math:`[G + 1]`.
        num_edges (torch.Tensor): Edges per graph, :math:`[G]`.
        edge_ptr (torch.Tensor): First edge of each graph, then :math:`E`, :math:`[G + 1]`.
        active (torch.Tensor): Graphs to augment, bool :math:`[G]`.
        node_keys (tuple[str, ...]): Node-level attributes, e.g. ``('x',)``.
        edge_keys (tuple[str, ...]): Edge-level attributes other than ``edge_index``.
    """

    num_graphs: int
    node_graph: Tensor
    num_nodes: Tensor
    node_ptr: Tensor
    num_edges: Tensor
    edge_ptr: Tensor
    active: Tensor
    node_keys: tuple[str, ...]
    edge_keys: tuple[str, ...]

    @property
    def device(self) -> torch.device:
        return self.node_graph.device

    @classmethod
    def of(
        cls,
        batch: Batch,
        generator: torch.Generator | None = None,
        graph_mask: Tensor | None = None,
    ) -> BatchLayout:
        r"""Reads the layout of ``batch`` after checking it, ``generator`` and ``graph_mask``."""
        if not isinstance(batch, Batch) or getattr(batch, '_slice_dict', None) is None:
            raise ValueError(
                "augmentations take a collated torch_geometric.data.Batch (from a PyG "
                f"DataLoader or Batch.from_data_list), got {type(batch).__name__}")
        if 'batch' not in batch or 'edge_index' not in batch:
            raise ValueError("the batch needs 'batch' and 'edge_index' attributes; collate "
                             "graphs that have an edge_index (it may have no columns)")
        node_graph = batch.batch
        device = node_graph.device
        if generator is not None and not _same_device(generator.device, device):
            raise ValueError(
                f"the generator is on {generator.device} but the batch is on {device}; "
                f"create it with torch.Generator(device={str(device)!r})")
        num_graphs = batch.num_graphs
        if graph_mask is None:
            active = torch.ones(num_graphs, dtype=torch.bool, device=device)
        elif (not isinstance(graph_mask, Tensor) or graph_mask.dtype != torch.bool
              or graph_mask.shape != (num_graphs,)):
            got = (f"dtype {graph_mask.dtype}, shape {list(graph_mask.shape)}"
                   if isinstance(graph_mask, Tensor) else type(graph_mask).__name__)
            raise ValueError(f"graph_mask must be a bool tensor of shape [{num_graphs}] (one "
                             f"entry per graph), got {got}")
        else:
            active = graph_mask.to(device)

        edge_graph = node_graph.index_select(0, batch.edge_index[0])
        if not (bool((node_graph[1:] >= node_graph[:-1]).all())
                and bool((edge_graph[1:] >= edge_graph[:-1]).all())):
            raise ValueError("the batch's nodes and edges must be grouped by graph, in graph "
                             "order, as Batch.from_data_list leaves them")
        bounds = torch.arange(num_graphs + 1, device=device)
        node_ptr = torch.searchsorted(node_graph, bounds)
        edge_ptr = torch.searchsorted(edge_graph, bounds)
        num_nodes, num_edges = node_ptr.diff(), edge_ptr.diff()
        node_keys, edge_keys = _attribute_levels(batch, node_ptr.cpu(), edge_ptr.cpu())
        return cls(num_graphs, node_graph, num_nodes, node_ptr, num_edges, edge_ptr, active,
                   node_keys, edge_keys)

    def count(self, sizes: Tensor, ratio: float) -> Tensor:
        r"""``floor(ratio * sizes)`` (GraphCL's ``int(n * ratio)``) per active graph, else 0."""
        counts = torch.floor(sizes.double() * ratio).long()
        return torch.where(self.active, counts, torch.zeros_like(counts))


def _same_device(a: torch.device, b: torch.device) -> bool:
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


def to_ptr(counts: Tensor) -> Tensor:
    r"""``[0, c_0, c_0 + c_1, ...]``: where each group starts, then the total, :math:`[G + 1]`."""
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def _attribute_levels(batch: Batch, node_ptr: Tensor,
                      edge_ptr: Tensor) -> tuple[tuple[str, ...], tuple[str, ...]]:
    graph_ptr = torch.arange(node_ptr.numel())
    node_keys, edge_keys = [], []
    for key in batch.keys():
        if key in _DERIVED_KEYS or key == 'edge_index':
            continue
        slices = batch._slice_dict.get(key)
        if not isinstance(slices, Tensor):
            raise ValueError(
                f"attribute {key!r} has no per-graph slices in the batch's collation record "
                "(set after collation, or nested); add it to each Data before collating")
        inc = batch._inc_dict.get(key)
        if isinstance(inc, Tensor) and bool(inc.any()):
            raise ValueError(
                f"attribute {key!r} holds node indices (PyG increments it when collating); "
                "only edge_index is relabelled, so drop it before augmenting")
        slices = slices.cpu()
        is_node = torch.equal(slices, node_ptr)
        is_edge = torch.equal(slices, edge_ptr)
        if is_edge and 'edge' in key:
            level = edge_keys
        elif is_node:
            level = node_keys
        elif is_edge and not torch.equal(slices, graph_ptr):
            level = edge_keys
        else:
            continue
        level.append(key)
    return tuple(node_keys), tuple(edge_keys)


def uniform_below(sizes: Tensor, generator: torch.Generator | None) -> Tensor:
    r"""One uniform integer in ``[0, sizes[i])`` per entry (``sizes >= 1``), int64."""
    draws = torch.randint(0, 2**62, sizes.shape, generator=generator, device=sizes.device)
    return draws % sizes  # modulo bias below sizes / 2**62


def sample_per_group(ptr: Tensor, counts: Tensor, generator: torch.Generator | None) -> Tensor:
    r"""Marks exactly ``counts[g]`` items of each group ``g``, uniformly without replacement.

    Group :math:`g` holds items ``ptr[g]`` to ``ptr[g + 1] - 1`` (nodes or edges of a
    collated batch). Each round draws the missing items with replacement and keeps the
    distinct ones; nothing in it depends on which item is which, so the final set is a
    uniform ``counts[g]``-subset. Groups asked for more than half their items draw the
    complement instead, which keeps the rounds few. Costs :math:`O(K \log K)` for
    :math:`K` picked items, not a sort of every item.

    Args:
        ptr (torch.Tensor): Group boundaries, int64 :math:`[G + 1]`.
        counts (torch.Tensor): Items to mark per group, int64 :math:`[G]`, at most the
            group's size.
        generator (torch.Generator, optional): Source of randomness.

    Returns:
        torch.Tensor: Bool mask :math:`[M]`, :math:`M` = ``ptr[-1]``.
    """
    sizes = ptr[1:] - ptr[:-1]
    complement = 2 * counts > sizes
    wanted = torch.where(complement, sizes - counts, counts)
    groups = torch.arange(sizes.numel(), device=ptr.device)
    chosen = ptr.new_empty(0)
    missing = groups.repeat_interleave(wanted)
    while missing.numel() > 0:
        draws = ptr.index_select(0, missing) + uniform_below(sizes.index_select(0, missing),
                                                             generator)
        chosen = torch.cat([chosen, draws]).unique()  # sorted, so grouped
        found = torch.searchsorted(chosen, ptr)
        missing = groups.repeat_interleave(wanted - (found[1:] - found[:-1]))
    mask = torch.zeros(int(ptr[-1]), dtype=torch.bool, device=ptr.device)
    mask.index_fill_(0, chosen, True)
    if bool(complement.any()):
        mask ^= complement.repeat_interleave(sizes, output_size=mask.numel())
    return mask


def rebuild(
    batch: Batch,
    layout: BatchLayout,
    *,
    node_rows: Tensor | None,
    node_ptr: Tensor,
    edge_index: Tensor,
    edge_rows: Tensor,
    edge_ptr: Tensor,
) -> Batch:
    r"""A new batch whose graphs are those of ``batch`` with nodes and edges replaced.

    Graph-level attributes are shared with ``batch``; ``batch``, ``ptr``, ``num_nodes``
    and the collation record are rebuilt, so ``to_data_list()`` and further
    augmentations work on the result.

    Args:
        batch (Batch): The input batch.
        layout (BatchLayout): Its layout.
        node_rows (torch.Tensor, optional): Kept nodes, int64 :math:`[N']`, grouped by
            graph in order; :obj:`None` keeps every node.
        node_ptr (torch.Tensor): First new node of each graph, then :math:`N'`, :math:`[G + 1]`.
        edge_index (torch.Tensor): The new edges, :math:`[2, E']`, grouped by graph.
        edge_rows (torch.Tensor): Row of each new edge in the edge-level attributes,
            int64 :math:`[E']`; ``-1`` gives an all-zero row (an added edge).
        edge_ptr (torch.Tensor): First new edge of each graph, then :math:`E'`, :math:`[G + 1]`.
    """
    out = shallow_copy(batch)
    if node_rows is not None:
        for key in layout.node_keys:
            value = batch[key]
            out[key] = value.index_select(batch.__cat_dim__(key, value), node_rows)
        out.batch = layout.node_graph.index_select(0, node_rows)
    added = (edge_rows < 0).nonzero().view(-1)
    for key in layout.edge_keys:
        value = batch[key]
        dim = batch.__cat_dim__(key, value)
        out[key] = value.index_select(dim, edge_rows.clamp(min=0)).index_fill_(dim, added, 0)
    out.edge_index = edge_index
    if 'ptr' in batch:
        out.ptr = node_ptr

    node_ptr, edge_ptr = node_ptr.cpu(), edge_ptr.cpu()
    if 'num_nodes' in batch._store:
        out.num_nodes = int(node_ptr[-1])
        out._store._num_nodes = (node_ptr[1:] - node_ptr[:-1]).tolist()
    slices = dict(batch._slice_dict, edge_index=edge_ptr)
    slices.update({key: node_ptr for key in layout.node_keys})
    slices.update({key: edge_ptr for key in layout.edge_keys})
    out._slice_dict = slices
    out._inc_dict = dict(batch._inc_dict, edge_index=node_ptr[:-1])
    return out


def keep_nodes(batch: Batch, layout: BatchLayout, node_mask: Tensor) -> Batch:
    r"""The subgraphs induced by ``node_mask`` (bool :math:`[N]`), nodes relabelled.

    Edges survive when both ends are kept; node- and edge-level attributes are sliced
    the same way. Equals :meth:`torch_geometric.data.Data.subgraph` graph by graph.
    """
    src, dst = batch.edge_index
    edge_mask = node_mask.index_select(0, src) & node_mask.index_select(0, dst)
    edge_rows = edge_mask.nonzero().view(-1)
    kept_before = to_ptr(node_mask.long())  # [N + 1]; a kept node's new index
    kept_edges = batch.edge_index.index_select(1, edge_rows)
    return rebuild(
        batch, layout,
        node_rows=node_mask.nonzero().view(-1),
        node_ptr=kept_before.index_select(0, layout.node_ptr),
        edge_index=kept_before.index_select(0, kept_edges.view(-1)).view(2, -1),
        edge_rows=edge_rows,
        edge_ptr=to_ptr(edge_mask.long()).index_select(0, layout.edge_ptr),
    )
