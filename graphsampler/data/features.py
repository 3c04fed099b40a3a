r"""Synthetic node features for graphs that come without any.

Pure functions over tensors, vectorised over a whole collated dataset (or batch):
no loop per graph or per node. :func:`graphsampler.data.load_tu` applies them once at
load time to the in-memory storage of featureless TU datasets (IMDB-BINARY,
IMDB-MULTI, REDDIT-BINARY, COLLAB) with :func:`set_synthetic_features`, so training
pays nothing per access.

Example:
    >>> import torch
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0-1-2
    >>> degree_one_hot(edge_index, num_nodes=3, max_degree=1)
    tensor([[0., 1.],
            [0., 1.],
            [0., 1.]])
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import InMemoryDataset
from torch_geometric.utils import cumsum


def constant_features(
    num_nodes: int,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    r"""One constant feature (1.0) per node, as GraphCL's reference code uses.

    Args:
        num_nodes (int): Number of nodes :math:`N`.
        dtype (torch.dtype, optional): Feature dtype. (default: :obj:`torch.float32`)
        device (torch.device or str, optional): Device of the result.
            (default: :obj:`None`, the current default device)

    Returns:
        Tensor: Shape :math:`[N, 1]`, all ones.

    Example:
        >>> constant_features(2)
        tensor([[1.],
                [1.]])
    """
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 0:
        raise ValueError(f"num_nodes must be a non-negative int, got {num_nodes!r}")
    return torch.ones(num_nodes, 1, dtype=dtype, device=device)


def collated_edge_index(edge_index: Tensor, edge_slice: Tensor, node_slice: Tensor) -> Tensor:
    r"""Turns the per-graph (local) node ids of a collated edge list into global ids.

    PyG's :class:`~torch_geometric.data.InMemoryDataset` stores every graph's edges
    with node ids starting at 0 and remembers where each graph starts in
    :obj:`slices`; this adds each edge's graph offset, vectorised over all edges.

    Args:
        edge_index (Tensor): Local edge indices of all graphs, shape :math:`[2, E]`.
        edge_slice (Tensor): Edge boundaries, shape :math:`[G + 1]`: graph :math:`g`
            owns edges :obj:`edge_slice[g]:edge_slice[g + 1]`.
        node_slice (Tensor): Node boundaries, shape :math:`[G + 1]`.

    Returns:
        Tensor: Global edge indices, shape :math:`[2, E]`, on :obj:`edge_index`'s device.

    Example:
        >>> ei = torch.tensor([[0, 1, 0], [1, 0, 0]])  # graph 0: edge 0-1; graph 1: loop
        >>> collated_edge_index(ei, torch.tensor([0, 2, 3]), torch.tensor([0, 2, 3]))
        tensor([[0, 1, 2],
                [1, 0, 2]])
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {list(edge_index.shape)}")
    if edge_slice.dim() != 1 or node_slice.shape != edge_slice.shape:
        raise ValueError(
            "edge_slice and node_slice must both have shape [G + 1], got "
            f"{list(edge_slice.shape)} and {list(node_slice.shape)}"
        )
    if int(edge_slice[-1]) != edge_index.size(1):
        raise ValueError(
            f"edge_slice ends at {int(edge_slice[-1])} but edge_index holds "
            f"{edge_index.size(1)} edges; pass the slices that belong to this edge_index"
        )
    device = edge_index.device
    per_graph_edges = edge_slice.to(device).diff()
    offsets = node_slice.to(device)[:-1].repeat_interleave(per_graph_edges)
    return edge_index + offsets


def check_max_degree(max_degree: int) -> None:
    r"""Raises :class:`ValueError` unless :obj:`max_degree` is an int :math:`\geq 1`."""
    if isinstance(max_degree, bool) or not isinstance(max_degree, int) or max_degree < 1:
        raise ValueError(
            f"max_degree must be an int >= 1, got {max_degree!r} "
            "(use constant features for a single feature per node)"
        )


def degree_one_hot(
    edge_index: Tensor,
    num_nodes: int,
    max_degree: int,
    *,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    r"""One-hot encoding of each node's degree, capped at :obj:`max_degree`.

    The degree of node :math:`v` is the number of edges with source :math:`v`, i.e. its
    number of neighbours for the symmetric edge lists PyG stores for undirected graphs.
    Degrees :math:`\geq` :obj:`max_degree` share the last bucket, so the encoding has
    :obj:`max_degree + 1` columns.

    Args:
        edge_index (Tensor): Global edge indices, shape :math:`[2, E]` (use
            :func:`collated_edge_index` for a dataset's collated storage).
        num_nodes (int): Number of nodes :math:`N` (isolated nodes get degree 0).
        max_degree (int): Cap :math:`D \geq 1`; the result has :math:`D + 1` columns.
        dtype (torch.dtype, optional): Feature dtype. (default: :obj:`torch.float32`)

    Returns:
        Tensor: Shape :math:`[N, D + 1]` on :obj:`edge_index`'s device, one 1.0 per row.

    Example:
        >>> star = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])
        >>> degree_one_hot(star, num_nodes=5, max_degree=2)
        tensor([[0., 0., 1.],
                [0., 1., 0.],
                [0., 1., 0.],
                [0., 1., 0.],
                [1., 0., 0.]])
    """
    check_max_degree(max_degree)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {list(edge_index.shape)}")
    if edge_index.numel() > 0 and int(edge_index.max()) >= num_nodes:
        raise ValueError(
            f"edge_index refers to node {int(edge_index.max())} but num_nodes is "
            f"{num_nodes}; pass the total number of nodes (global ids)"
        )
    degree = torch.bincount(edge_index[0], minlength=num_nodes).clamp_(max=max_degree)
    out = torch.zeros(num_nodes, max_degree + 1, dtype=dtype, device=edge_index.device)
    return out.scatter_(1, degree.unsqueeze(1), 1.0)


def node_slice(dataset: InMemoryDataset) -> Tensor:
    r"""The node slice of a collated in-memory dataset: graph :math:`i` holds nodes
    ``[slice[i], slice[i + 1])``, from its features' slice or, for a featureless TU
    dataset, from its per-graph node counts."""
    if "x" in dataset.slices:
        return dataset.slices["x"]
    # Featureless TU datasets keep their per-graph node counts in `_num_nodes`.
    counts = getattr(dataset._data, "_num_nodes", None)
    if counts is None:
        raise ValueError(
            f"{dataset!r} records neither node features nor per-graph node counts; "
            "delete its processed/ folder so that PyG re-processes it"
        )
    return cumsum(torch.as_tensor(counts, dtype=torch.long))


def set_synthetic_features(dataset: InMemoryDataset, node_features: str,
                           max_degree: int) -> None:
    r"""Sets the synthetic node features of a collated in-memory dataset in place, once
    over its whole storage: the one-hot degree (``"degree"``, or appended to the node
    labels for ``"labels+degree"``), else one constant feature per node."""
    data = dataset._data
    slices = node_slice(dataset)
    num_nodes = int(slices[-1])
    if node_features in ("degree", "labels+degree"):
        edge_index = collated_edge_index(data.edge_index, dataset.slices["edge_index"], slices)
        largest = int(torch.bincount(edge_index[0], minlength=num_nodes).max()) \
            if num_nodes else 0
        degree = degree_one_hot(edge_index, num_nodes, max(1, min(max_degree, largest)))
        data.x = degree if data.x is None else torch.cat([data.x, degree], dim=1)
    else:  # "constant", or "auto" on a dataset without node labels
        data.x = constant_features(num_nodes, device=data.edge_index.device)
    dataset.slices["x"] = slices
