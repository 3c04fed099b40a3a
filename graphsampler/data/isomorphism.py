r"""Isomorphism classes of the graphs of a collated dataset, vectorised where it can be.

Two steps (:func:`isomorphism_classes`):

1. **1-WL buckets, vectorised.** Colour refinement runs over the whole collated dataset
   at once (one tensor step per round, no loop per node or graph): a node's new colour
   is its colour and the multiset of its neighbours' colours, hashed as a random 64-bit
   word of its colour plus the (wrapping) sum of a second word of each neighbour's
   colour, then made dense with :func:`torch.unique`; a collision (probability about
   :math:`n^2 / 2^{64}` per round) could only merge colours, never split copies.
   Rounds stop when the joint colouring is stable; a graph's bucket is its node count
   and the multiset of its stable colours (hashed alike). Isomorphic graphs always
   share a bucket.
2. **Exact split where cheap.** A bucket of two or more graphs, each of at most
   ``exact_max_nodes`` nodes, is split into isomorphism classes: each graph is checked
   against one representative of every class found so far, first by the adjacency
   spectrum (unequal: not isomorphic), then by :func:`networkx.vf2pp_is_isomorphic`
   with the stable 1-WL colours as node labels (an isomorphism preserves them, and
   they refine the node labels, so labels match too; they also prune the search). A
   bucket holding a larger graph stays one class (1-WL equivalence).

Example:
    >>> ei = torch.tensor([[0, 1, 3, 4], [1, 0, 4, 3]])  # two graphs: an edge and a node
    >>> isomorphism_classes(ei, torch.zeros(6, dtype=torch.long), torch.tensor([0, 3, 6]))
    tensor([0, 0])
"""
from __future__ import annotations

from collections import defaultdict

import networkx as nx
import torch
from torch import Tensor

#: Graphs of at most this many nodes are split exactly within their 1-WL bucket.
DEFAULT_EXACT_MAX_NODES = 200
_HASH_SEED = 0x5EED


def node_labels(x: Tensor | None, num_nodes: int) -> Tensor:
    r"""Node labels from node features: the index of each node's row among the distinct
    rows of ``x`` (all zeros when ``x`` is :obj:`None`).

    Args:
        x (torch.Tensor, optional): Node features, shape :math:`[n, F]` or :math:`[n]`.
        num_nodes (int): :math:`n`.

    Returns:
        torch.Tensor: Shape :math:`[n]`, int64, dense labels from 0.

    Example:
        >>> node_labels(torch.tensor([[0., 1.], [1., 0.], [0., 1.]]), 3)
        tensor([0, 1, 0])
    """
    if x is None:
        return torch.zeros(num_nodes, dtype=torch.long)
    if x.size(0) != num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but there are {num_nodes} nodes")
    rows = x.reshape(num_nodes, -1)
    if rows.size(1) == 0:
        return torch.zeros(num_nodes, dtype=torch.long, device=x.device)
    return torch.unique(rows, dim=0, return_inverse=True)[1]


def _hash_rows(parts: list[Tensor], words: Tensor, index: Tensor, size: int) -> Tensor:
    r"""Dense ids of the rows ``(parts..., sum of words[.., 0], sum of words[.., 1])``
    where the sums run over ``index`` (scatter target) into ``size`` rows."""
    sums = torch.zeros(size, 2, dtype=torch.long, device=words.device)
    sums.index_add_(0, index, words)  # int64 sums wrap around: a hash, order-free
    return torch.unique(torch.stack([*parts, sums[:, 0], sums[:, 1]], dim=1), dim=0,
                        return_inverse=True)[1]


def _random_words(count: int, generator: torch.Generator, device: torch.device) -> Tensor:
    return torch.randint(-2**62, 2**62, (count, 2), generator=generator,
                         dtype=torch.long).to(device)


def wl_colors(edge_index: Tensor, labels: Tensor) -> Tensor:
    r"""The stable 1-WL (colour refinement) colouring of a graph or a disjoint union.

    Round by round, a node's colour becomes the pair of its colour and the multiset of
    the colours at the sources of its incoming edges, until the number of colours stops
    growing. Vectorised: one :meth:`~torch.Tensor.index_add_` and one
    :func:`torch.unique` per round.

    Args:
        edge_index (torch.Tensor): Edges, shape :math:`[2, E]` (both directions for an
            undirected graph), global node ids.
        labels (torch.Tensor): Initial colours, shape :math:`[n]`, int64.

    Returns:
        torch.Tensor: Stable colours, shape :math:`[n]`, int64, dense from 0;
        comparable across the graphs of the union.

    Example:
        >>> path = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> wl_colors(path, torch.zeros(3, dtype=torch.long))
        tensor([0, 1, 0])
    """
    n = labels.numel()
    colors = torch.unique(labels, return_inverse=True)[1]
    gen = torch.Generator().manual_seed(_HASH_SEED)
    count = int(colors.max()) + 1 if n else 0
    while n:
        words = _random_words(count, gen, colors.device)  # [C, 2]: self, neighbour
        key = words[colors, 0].index_add(0, edge_index[1], words[colors[edge_index[0]], 1])
        new = torch.unique(key, return_inverse=True)[1]  # int64 sums wrap: a hash
        new_count = int(new.max()) + 1
        colors = new
        if new_count == count:  # a refinement with as many classes is the same partition
            return colors
        count = new_count
    return colors


def wl_buckets(edge_index: Tensor, labels: Tensor, ptr: Tensor) -> Tensor:
    r"""1-WL buckets of the graphs of a collated dataset: graphs that colour refinement
    cannot tell apart share a bucket id (the smallest graph index in the bucket).

    Args:
        edge_index (torch.Tensor): Global edges of all graphs, shape :math:`[2, E]`.
        labels (torch.Tensor): Node labels, shape :math:`[n]`, int64.
        ptr (torch.Tensor): Node boundaries, shape :math:`[G + 1]`.

    Returns:
        torch.Tensor: Shape :math:`[G]`, int64.
    """
    return _buckets(wl_colors(edge_index, labels), ptr)


def _buckets(colors: Tensor, ptr: Tensor) -> Tensor:
    sizes = ptr.diff()
    graph = torch.repeat_interleave(torch.arange(sizes.numel(), device=ptr.device), sizes)
    gen = torch.Generator().manual_seed(_HASH_SEED + 1)
    count = int(colors.max()) + 1 if colors.numel() else 1
    words = _random_words(count, gen, colors.device)[colors]
    ids = _hash_rows([sizes], words, graph, sizes.numel())
    return _smallest_member(ids)


def _smallest_member(ids: Tensor) -> Tensor:
    first = torch.full((int(ids.max()) + 1 if ids.numel() else 0,), ids.numel(),
                       dtype=torch.long, device=ids.device)
    first.scatter_reduce_(0, ids, torch.arange(ids.numel(), device=ids.device), "amin")
    return first[ids]


def isomorphism_classes(edge_index: Tensor, labels: Tensor, ptr: Tensor, *,
                        exact_max_nodes: int = DEFAULT_EXACT_MAX_NODES) -> Tensor:
    r"""Isomorphism-class ids of the graphs of a collated dataset: 1-WL buckets
    (:func:`wl_buckets`), split exactly where every graph of a bucket has at most
    ``exact_max_nodes`` nodes.

    Args:
        edge_index (torch.Tensor): Global edges of all graphs, shape :math:`[2, E]`.
        labels (torch.Tensor): Node labels, shape :math:`[n]`, int64.
        ptr (torch.Tensor): Node boundaries, shape :math:`[G + 1]`.
        exact_max_nodes (int): Node count up to which buckets are split exactly
            (:obj:`0`: 1-WL buckets only). (default: :obj:`200`)

    Returns:
        torch.Tensor: Shape :math:`[G]`, int64: each graph's class id, the smallest
        index of a graph isomorphic to it (labels matching).

    Example:
        >>> ei = torch.tensor([[0, 1, 3, 4], [1, 0, 4, 3]])  # two single edges, a node
        >>> isomorphism_classes(ei, torch.zeros(6, dtype=torch.long),
        ...                     torch.tensor([0, 3, 6]))
        tensor([0, 0])
    """
    if isinstance(exact_max_nodes, bool) or not isinstance(exact_max_nodes, int) \
            or exact_max_nodes < 0:
        raise ValueError(f"exact_max_nodes must be an int >= 0, got {exact_max_nodes!r}")
    ptr = ptr.to(labels.device)
    if ptr.dim() != 1 or ptr.numel() < 1 or int(ptr[0]) != 0 \
            or int(ptr[-1]) != labels.numel():
        raise ValueError(f"ptr must run from 0 to the number of nodes ({labels.numel()}), "
                         f"shape [G + 1]; got {ptr.tolist()[:8]}")
    colors = wl_colors(edge_index, labels)
    buckets = _buckets(colors, ptr)
    if exact_max_nodes == 0:
        return buckets
    sizes = ptr.diff()
    members: dict[int, list[int]] = defaultdict(list)
    small = sizes <= exact_max_nodes
    for g, b in enumerate(buckets.tolist()):
        members[b].append(g)
    shared = [m for m in members.values()
              if len(m) > 1 and bool(small[torch.tensor(m)].all())]
    if not shared:
        return buckets
    graph_of_edge = torch.bucketize(edge_index[0], ptr, right=True) - 1
    order = graph_of_edge.argsort(stable=True)
    edges = edge_index[:, order].cpu()
    edge_ptr = torch.zeros(sizes.numel() + 1, dtype=torch.long)
    edge_ptr[1:] = torch.bincount(graph_of_edge.cpu(), minlength=sizes.numel()).cumsum(0)
    ptr_list, colors_cpu = ptr.tolist(), colors.cpu()
    out = buckets.clone()
    for group in shared:
        reps: list[tuple[int, nx.Graph, Tensor]] = []
        for g in group:
            graph = _to_networkx(g, edges, edge_ptr, ptr_list, colors_cpu)
            spectrum = _spectrum(graph)
            for rep, rep_graph, rep_spectrum in reps:
                if torch.allclose(spectrum, rep_spectrum, atol=1e-6) and \
                        nx.vf2pp_is_isomorphic(rep_graph, graph, node_label="label"):
                    out[g] = rep
                    break
            else:
                reps.append((g, graph, spectrum))
                out[g] = g
    return out


def _spectrum(graph: nx.Graph) -> Tensor:
    r"""Sorted adjacency eigenvalues: unequal spectra prove two graphs non-isomorphic
    before VF2++ searches (which on some WL-equivalent dense pairs takes minutes)."""
    adjacency = torch.from_numpy(nx.to_numpy_array(graph, nodelist=range(len(graph))))
    return torch.linalg.eigvalsh(adjacency)


def _to_networkx(g: int, edges: Tensor, edge_ptr: Tensor, ptr: list[int],
                 labels: Tensor) -> nx.Graph:
    graph = nx.Graph()
    start, stop = ptr[g], ptr[g + 1]
    graph.add_nodes_from((v, {"label": int(c)}) for v, c in
                         zip(range(stop - start), labels[start:stop].tolist()))
    local = edges[:, int(edge_ptr[g]):int(edge_ptr[g + 1])] - start
    graph.add_edges_from(local.T.tolist())
    return graph
