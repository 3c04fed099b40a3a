r"""Personalized PageRank (PPR) diffusion: the second view of MVGRL (Hassani &
Khasahmadi, 2020), computed once per graph and sparsified
(:func:`~graphsampler.augment.diffusion.add_diffusion` stores it on a dataset and
caches it).

For a graph with adjacency :math:`A` (unweighted, undirected), MVGRL's reference code
(``compute_ppr`` in its ``utils.py``) adds self-loops first and normalises
symmetrically:

.. math::
    \hat{A} = A + I, \quad \hat{D}_{ii} = \sum_j \hat{A}_{ij}, \quad
    \mathbf{S} = \alpha \left(I - (1 - \alpha)\,
    \hat{D}^{-1/2} \hat{A} \hat{D}^{-1/2}\right)^{-1}.

:math:`\mathbf{S}` is symmetric. Its relation to the random-walk PPR vectors
:math:`\pi_i` (restart probability :math:`\alpha` at node :math:`i`, walking on
:math:`\hat{A}`, i.e. ``networkx.pagerank(G_with_self_loops, alpha=1 - alpha,
personalization={i: 1})``) is
:math:`\pi_i(j) = \hat{D}_{ii}^{-1/2}\, \mathbf{S}_{ij}\, \hat{D}_{jj}^{1/2}`, that is
:math:`\Pi = \hat{D}^{-1/2} \mathbf{S} \hat{D}^{1/2}` with :math:`\Pi_{ij} = \pi_i(j)`.

The reference code keeps :math:`\mathbf{S}` dense (no sparsification, no
renormalisation; its diffusion-view GCN multiplies by :math:`\mathbf{S}` as is). Dense
storage does not fit large datasets (REDDIT-BINARY would take 7.3 GiB in float64), so
here each row is sparsified, and the kept entries are stored unchanged (no
renormalisation, as in the reference):

* ``"topk"``: keep the :obj:`k` largest entries of every row;
* ``"threshold"``: keep the entries :math:`\geq` :obj:`eps`.

Entries between different connected components are exactly zero and never kept, so a
node in a component of :math:`c < k` nodes keeps :math:`c` entries. With
``sparsify="topk"`` and :obj:`k` at least the number of nodes, the output is the
reference's dense :math:`\mathbf{S}`.

The output encodes :math:`\mathbf{S}_{\text{sparse}}` as weighted edges
``edge_index[0] = j`` (source) :math:`\to` ``edge_index[1] = i`` (target, the row) with
weight :math:`\mathbf{S}_{ij}`: :class:`~torch_geometric.nn.conv.GCNConv` with
``normalize=False`` then computes :math:`\mathbf{S}_{\text{sparse}} X W`, the
reference's ``bmm(diff, X W)``, and every node aggregates from its own kept row.

Cost: one in-place Cholesky factorisation and inversion (LAPACK ``potrf`` + ``potri``,
float64, one BLAS thread: faster here than batched or multi-threaded alternatives, even
for MUTAG's 18-node graphs) per graph, on the CPU; the results move to the input's
device. Graphs of equal size are grouped into chunks whose dense buffers fit
:obj:`memory_budget`; building the systems and sparsifying are vectorised over a chunk.
A graph too large for the budget is alone in its chunk and is sparsified in row blocks
within the budget, so at most one large dense :math:`n \times n` float64 matrix is held
at a time (109 MiB for REDDIT-BINARY's largest graph, 3,782 nodes).
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits
from torch import Tensor
from torch_geometric.utils import cumsum
from tqdm.auto import tqdm

SPARSIFY_METHODS = ("topk", "threshold")
DEFAULT_K = 32
DEFAULT_EPS = 1e-4
DEFAULT_MEMORY_BUDGET = 64 * 2**20
_FLOAT64_BYTES = 8
# Dense float64 buffers per matrix entry a chunk may hold: the system (inverted in
# place), and the row block and sparsification temporaries.
_DENSE_COPIES = 3

_Rows = tuple[Tensor, Tensor, Tensor, Tensor]  # graph position, row, column, weight


def ppr_diffusion_graphs(
    edge_index: Tensor,
    edge_ptr: Tensor,
    num_nodes: Tensor,
    alpha: float = 0.2,
    sparsify: str = "topk",
    k: int = DEFAULT_K,
    eps: float = DEFAULT_EPS,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""The sparsified PPR diffusion of many graphs stored one after the other, as a
    collated dataset stores them: :func:`~graphsampler.augment.diffusion.ppr_diffusion`
    of every graph, with graphs of equal size computed together (see the module
    docstring for the formula and the cost).

    Args:
        edge_index (torch.Tensor): Every graph's edges in turn, local node indices,
            shape :math:`[2, E]`, int64.
        edge_ptr (torch.Tensor): Graph :math:`g` has the edges
            ``edge_index[:, edge_ptr[g]:edge_ptr[g + 1]]``, shape :math:`[G + 1]`, int64.
        num_nodes (torch.Tensor): Node count of every graph, each :math:`\geq 1`, shape
            :math:`[G]`, int64.
        alpha, sparsify, k, eps, memory_budget: As
            :func:`~graphsampler.augment.diffusion.ppr_diffusion`.
        progress (bool, optional): Show a progress bar. (default: :obj:`False`)

    Returns:
        (torch.Tensor, torch.Tensor, torch.Tensor): The kept entries as edges
        (:math:`[2, E']`, local indices, graph after graph) and their weights
        (:math:`[E']`, float32) on the device of ``edge_index``, and the per-graph
        pointer into them (:math:`[G + 1]`, on the CPU).

    Example:
        >>> path, ring = torch.tensor([[0, 1], [1, 2]]), torch.tensor([[0, 1, 2], [1, 2, 0]])
        >>> index, weight, ptr = ppr_diffusion_graphs(
        ...     torch.cat([path, ring], dim=1), torch.tensor([0, 2, 5]),
        ...     torch.tensor([3, 3]), k=2)
        >>> ptr  # two entries per row, three rows per graph
        tensor([ 0,  6, 12])
    """
    _check_params(alpha, sparsify, k, eps, memory_budget)
    _check_graphs(edge_index, edge_ptr, num_nodes)
    device = edge_index.device
    edge_index = edge_index.cpu()
    bounds = edge_ptr.tolist()
    order = torch.sort(num_nodes, stable=True).indices  # equal sizes side by side
    sizes, counts = torch.unique_consecutive(num_nodes[order], return_counts=True)
    per_graph: list[tuple[Tensor, Tensor]] = [None] * num_nodes.numel()  # type: ignore
    first = 0
    with tqdm(total=num_nodes.numel(), desc="PPR diffusion", unit="graph",
              disable=not progress) as bar, threadpool_limits(limits=1, user_api="blas"):
        for n, count in zip(sizes.tolist(), counts.tolist()):
            chunk = max(1, memory_budget // (_DENSE_COPIES * _FLOAT64_BYTES * n * n))
            for start in range(first, first + count, chunk):
                graphs = order[start:min(first + count, start + chunk)].tolist()
                edges = [edge_index[:, bounds[g]:bounds[g + 1]] for g in graphs]
                position = torch.arange(len(graphs)).repeat_interleave(
                    torch.tensor([e.size(1) for e in edges], dtype=torch.long))
                inverse = _ppr_inverse(torch.cat(edges, dim=1), position, len(graphs),
                                       n, alpha)
                pos, row, col, weight = (torch.cat(parts) for parts in zip(*(
                    _sparsify(rows, row_start, sparsify, k, eps)
                    for rows, row_start in _row_blocks(inverse, alpha, memory_budget))))
                split = torch.bincount(pos, minlength=len(graphs)).tolist()
                pieces = zip(torch.stack([col, row]).split(split, dim=1),
                             weight.float().split(split))
                for graph, piece in zip(graphs, pieces):
                    per_graph[graph] = piece
                bar.update(len(graphs))
            first += count
    out_index = torch.cat([index for index, _ in per_graph], dim=1)
    out_weight = torch.cat([weight for _, weight in per_graph])
    ptr = cumsum(torch.tensor([weight.numel() for _, weight in per_graph]))
    return out_index.to(device), out_weight.to(device), ptr


def _ppr_system(edge_index: Tensor, graph: Tensor, num_graphs: int, n: int,
                alpha: float) -> Tensor:
    r""":math:`I - (1 - \alpha) \hat{D}^{-1/2} (A + I) \hat{D}^{-1/2}` of
    ``num_graphs`` graphs of ``n`` nodes, shape ``[num_graphs, n, n]``, float64, built
    in one buffer."""
    system = torch.zeros(num_graphs, n, n, dtype=torch.float64)
    src, dst = edge_index
    system[graph, src, dst] = 1.0
    system[graph, dst, src] = 1.0
    diagonal = system.diagonal(dim1=1, dim2=2)
    diagonal.add_(1.0)
    inv_sqrt_degree = system.sum(dim=2).rsqrt_()
    system.mul_(inv_sqrt_degree.unsqueeze(2)).mul_(inv_sqrt_degree.unsqueeze(1))
    system.mul_(alpha - 1.0)
    diagonal.add_(1.0)
    return system


def _ppr_inverse(edge_index: Tensor, graph: Tensor, num_graphs: int, n: int,
                 alpha: float) -> Tensor:
    r"""The inverse of every graph's PPR system, computed in place: LAPACK ``potrf``
    then ``potri`` on each :math:`n \times n` slice. Returns the ``[num_graphs, n, n]``
    buffer, whose upper triangles hold the (symmetric) inverses."""
    system = _ppr_system(edge_index, graph, num_graphs, n, alpha)
    for matrix in system.numpy():
        # Symmetric, so the C-ordered slice read transposed is the same matrix in the
        # Fortran order in which LAPACK works in place; its lower triangle there is
        # the upper triangle here.
        factor, info = lapack.dpotrf(matrix.T, lower=1, clean=0, overwrite_a=1)
        if info == 0:
            _, info = lapack.dpotri(factor, lower=1, overwrite_c=1)
        if info != 0:
            raise RuntimeError(f"LAPACK failed on the PPR system of a {n}-node graph "
                               f"(info={info})")
    return system


def _row_blocks(upper: Tensor, alpha: float,
                memory_budget: int) -> Iterator[tuple[Tensor, int]]:
    r"""Blocks of rows of :math:`\mathbf{S} = \alpha\,\text{inverse}`, shape
    ``[g, b, n]``, from the upper triangles ``upper`` (``[g, n, n]``), with the block
    size ``b`` bounded by the memory budget, and the index of their first row. Chunks
    are sized so that ``b < n`` only when ``g == 1``: the blocks stay graph-major."""
    num_graphs, n, _ = upper.shape
    block = max(1, min(n, memory_budget // (_DENSE_COPIES * _FLOAT64_BYTES * n
                                            * num_graphs)))
    nodes = torch.arange(n)
    for start in range(0, n, block):
        stop = min(n, start + block)
        above = nodes.unsqueeze(0) >= nodes[start:stop].unsqueeze(1)
        rows = torch.where(above, upper[:, start:stop], upper[:, :, start:stop].mT)
        yield rows.mul_(alpha), start


def _sparsify(rows: Tensor, row_start: int, sparsify: str, k: int, eps: float) -> _Rows:
    r"""Kept entries of the rows ``[g, b, n]`` (rows ``row_start`` onwards of ``g``
    graphs), in graph-major, row-major order."""
    if sparsify == "topk":
        weight, col = rows.topk(min(k, rows.size(2)), dim=2)
        keep = weight > 0.0
        col, weight = col[keep], weight[keep]
        graph, row, _ = keep.nonzero(as_tuple=True)
    else:
        keep = rows >= eps
        graph, row, col = keep.nonzero(as_tuple=True)
        weight = rows[keep]
    return graph, row + row_start, col, weight


def _check_params(alpha: float, sparsify: str, k: int, eps: float,
                  memory_budget: int) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) \
            or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha (teleport probability) must be in (0, 1), "
                         f"got {alpha!r}")
    if sparsify not in SPARSIFY_METHODS:
        raise ValueError(f"sparsify must be one of {SPARSIFY_METHODS}, "
                         f"got {sparsify!r}")
    if sparsify == "topk" and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k (entries kept per row) must be a positive int, got {k!r}")
    if sparsify == "threshold" and (isinstance(eps, bool)
                                    or not isinstance(eps, (int, float))
                                    or not eps > 0.0):
        raise ValueError(f"eps (smallest entry kept) must be a positive float, "
                         f"got {eps!r}")
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int) \
            or memory_budget < 1:
        raise ValueError(f"memory_budget must be a positive int (bytes), "
                         f"got {memory_budget!r}")


def _check_graphs(edge_index: Tensor, edge_ptr: Tensor, num_nodes: Tensor) -> None:
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.dtype != torch.long:
        raise ValueError(f"edge_index must be an int64 tensor of shape [2, num_edges], "
                         f"got shape {tuple(edge_index.shape)} and dtype {edge_index.dtype}")
    if num_nodes.dim() != 1 or num_nodes.dtype != torch.long or num_nodes.numel() < 1 \
            or bool((num_nodes < 1).any()):
        raise ValueError(f"num_nodes must be a 1-D int64 tensor of node counts >= 1, one "
                         f"per graph, got {num_nodes!r}")
    if edge_ptr.shape != (num_nodes.numel() + 1,) or edge_ptr.dtype != torch.long \
            or int(edge_ptr[0]) != 0 or int(edge_ptr[-1]) != edge_index.size(1) \
            or bool((edge_ptr.diff() < 0).any()):
        raise ValueError(f"edge_ptr must be an int64 tensor of shape [{num_nodes.numel() + 1}]"
                         f" rising from 0 to the number of edges, got {edge_ptr!r}")
    limit = num_nodes.repeat_interleave(edge_ptr.diff()).to(edge_index.device)
    outside = ((edge_index < 0) | (edge_index >= limit)).any(dim=0).nonzero()
    if outside.numel() > 0:
        graph = int(torch.searchsorted(edge_ptr, outside[0].cpu(), right=True)) - 1
        raise ValueError(f"edge_index holds node indices outside [0, "
                         f"{int(num_nodes[graph])}) (graph {graph}); pass the graph's "
                         f"num_nodes or fix its edges")
