r"""Personalized PageRank (PPR) diffusion: the second view of MVGRL (Hassani &
Khasahmadi, 2020), computed once per graph, sparsified, and cached with the dataset.

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

import hashlib
import json
import os
import os.path as osp
from typing import Iterator, Optional

import torch
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits
from torch import Tensor
from torch_geometric.data import InMemoryDataset
from torch_geometric.data.dataset import MISSING  # the root of a root-less dataset
from torch_geometric.utils import cumsum
from tqdm.auto import tqdm

SPARSIFY_METHODS = ("topk", "threshold")
DEFAULT_K = 32
DEFAULT_EPS = 1e-4
DEFAULT_MEMORY_BUDGET = 64 * 2**20
_CACHE_FORMAT = 1
_FLOAT64_BYTES = 8
# Dense float64 buffers per matrix entry a chunk may hold: the system (inverted in
# place), and the row block and sparsification temporaries.
_DENSE_COPIES = 3

_Rows = tuple[Tensor, Tensor, Tensor, Tensor]  # graph position, row, column, weight


def ppr_diffusion(
    edge_index: Tensor,
    num_nodes: int,
    alpha: float = 0.2,
    sparsify: str = "topk",
    k: int = DEFAULT_K,
    eps: float = DEFAULT_EPS,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> tuple[Tensor, Tensor]:
    r"""The sparsified PPR diffusion :math:`\mathbf{S}` of one graph (see the module
    docstring for the formula, the sparsification and the edge direction).

    The graph is taken as unweighted and undirected, as the reference code's
    ``networkx.Graph`` does: duplicate edges count once and either direction of an edge
    connects both nodes. Isolated nodes (which the reference drops) get the single
    entry :math:`\mathbf{S}_{ii} = 1`.

    Args:
        edge_index (torch.Tensor): Edges, shape :math:`[2, E]`, int64, node indices in
            :math:`[0, n)`.
        num_nodes (int): Number of nodes :math:`n \geq 1`.
        alpha (float, optional): Teleport (restart) probability in :math:`(0, 1)`.
            (default: :obj:`0.2`, MVGRL's value)
        sparsify (str, optional): ``"topk"`` or ``"threshold"``.
            (default: :obj:`"topk"`)
        k (int, optional): Entries kept per row with ``"topk"``, :math:`\geq 1`; ties
            at the :math:`k`-th value are broken arbitrarily. (default: :obj:`32`)
        eps (float, optional): Smallest entry kept with ``"threshold"``, :math:`> 0`.
            (default: :obj:`1e-4`)
        memory_budget (int, optional): Bytes of dense float64 work per chunk of
            graphs. A larger graph is processed alone: its :math:`n \times n` matrix
            plus row blocks within the budget. (default: 64 MiB)

    Returns:
        (torch.Tensor, torch.Tensor): ``edge_index`` of shape :math:`[2, E']` (int64,
        ``[source, target]``) and ``edge_weight`` of shape :math:`[E']` (float32,
        computed in float64), on the device of the input.

    Example:
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0-1-2
        >>> diff_index, diff_weight = ppr_diffusion(edge_index, 3, k=2)
        >>> diff_index.size(1)  # two entries per row
        6
    """
    _check_params(alpha, sparsify, k, eps, memory_budget)
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 1:
        raise ValueError(f"num_nodes must be a positive int, got {num_nodes!r}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.dtype != torch.long:
        raise ValueError(f"edge_index must be an int64 tensor of shape [2, num_edges], "
                         f"got shape {tuple(edge_index.shape)} and dtype "
                         f"{edge_index.dtype}")
    if edge_index.numel() > 0 and (edge_index.min() < 0 or edge_index.max() >= num_nodes):
        raise ValueError(f"edge_index holds node indices outside [0, {num_nodes}); "
                         f"pass the graph's num_nodes or fix its edges")
    out_index, out_weight, _ = _ppr_graphs(
        edge_index, torch.tensor([0, edge_index.size(1)]), torch.tensor([num_nodes]),
        alpha, sparsify, k, eps, memory_budget, progress=False)
    return out_index, out_weight


def add_diffusion(
    dataset: InMemoryDataset,
    alpha: float = 0.2,
    sparsify: str = "topk",
    k: int = DEFAULT_K,
    eps: float = DEFAULT_EPS,
    cache_dir: Optional[str] = None,
    progress: bool = True,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> InMemoryDataset:
    r"""Computes :func:`ppr_diffusion` once for every graph of an in-memory dataset
    and stores it on every graph as ``diff_edge_index`` (:math:`[2, E'_g]`, local node
    indices) and ``diff_edge_weight`` (:math:`[E'_g]`).

    PyG increments every attribute whose name contains ``"index"`` by the graph's
    number of nodes when batching, so ``batch.diff_edge_index`` indexes the collated
    nodes like ``batch.edge_index`` does. The dataset is modified in place (its
    storage, also when :obj:`dataset` is a subset view) and returned. Apply it before
    wrapping the dataset (e.g. in :class:`graphsampler.data.IndexedDataset`).

    The result is cached in :obj:`cache_dir` under a name derived from the parameters
    that change it (:obj:`alpha`, :obj:`sparsify`, :obj:`k` or :obj:`eps`, and a SHA-256
    fingerprint of every graph's node count and edges): a later call with the same
    parameters on the same graphs loads it, any change computes (and caches) anew.

    Args:
        dataset (torch_geometric.data.InMemoryDataset): E.g. a
            :class:`~torch_geometric.datasets.TUDataset`.
        alpha (float, optional): Teleport probability in :math:`(0, 1)`.
            (default: :obj:`0.2`)
        sparsify (str, optional): ``"topk"`` or ``"threshold"``.
            (default: :obj:`"topk"`)
        k (int, optional): Entries kept per row with ``"topk"``. (default: :obj:`32`)
        eps (float, optional): Smallest entry kept with ``"threshold"``.
            (default: :obj:`1e-4`)
        cache_dir (str, optional): Folder of the cache file. (default: :obj:`None`,
            the dataset's ``processed_dir``, or no cache for a dataset without a
            ``root``)
        progress (bool, optional): Show a progress bar while computing.
            (default: :obj:`True`)
        memory_budget (int, optional): See :func:`ppr_diffusion`. (default: 64 MiB)

    Returns:
        torch_geometric.data.InMemoryDataset: :obj:`dataset`.

    Example:
        >>> from torch_geometric.datasets import TUDataset
        >>> from torch_geometric.loader import DataLoader
        >>> dataset = add_diffusion(TUDataset(root, "MUTAG"), k=32)
        >>> batch = next(iter(DataLoader(dataset, batch_size=64)))
        >>> batch.diff_edge_index, batch.diff_edge_weight  # the diffusion view
    """
    _check_params(alpha, sparsify, k, eps, memory_budget)
    if not isinstance(dataset, InMemoryDataset):
        raise ValueError(f"dataset must be a torch_geometric InMemoryDataset (e.g. a "
                         f"TUDataset), got {type(dataset).__name__}")
    # PyG keeps an in-memory dataset as one collated Data (`_data`) plus `slices`;
    # the diffusion is added to both so that every graph it separates carries it.
    storage, slices = dataset._data, dataset.slices
    if slices is None or "edge_index" not in slices:
        raise ValueError("dataset must hold its graphs' edge_index in collated storage "
                         "(an InMemoryDataset built by collate or TUDataset)")
    num_graphs = dataset.len()
    num_nodes = torch.tensor([dataset.get(i).num_nodes for i in range(num_graphs)])
    if num_nodes.min() < 1:
        raise ValueError(f"graph {int(num_nodes.argmin())} has no nodes; remove empty "
                         f"graphs before adding the diffusion")
    edge_ptr = slices["edge_index"]
    edge_index = storage.edge_index

    params: dict[str, object] = {"format": _CACHE_FORMAT, "alpha": float(alpha),
                                 "sparsify": sparsify}
    params.update({"k": k} if sparsify == "topk" else {"eps": float(eps)})
    params["graphs"] = _fingerprint(num_nodes, edge_ptr, edge_index)
    key = json.dumps(params, sort_keys=True)
    if cache_dir is None and dataset.root not in (None, MISSING):
        cache_dir = dataset.processed_dir
    path = None if cache_dir is None else osp.join(
        cache_dir, f"ppr_diffusion_{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt")

    cached = _load_cache(path, key)
    if cached is None:
        cached = _ppr_graphs(edge_index, edge_ptr, num_nodes, alpha, sparsify, k, eps,
                             memory_budget, progress)
        if path is not None:
            _save_cache(path, key, cached)
    diff_index, diff_weight, diff_ptr = cached
    storage.diff_edge_index = diff_index.to(edge_index.device)
    storage.diff_edge_weight = diff_weight.to(edge_index.device)
    slices["diff_edge_index"] = diff_ptr
    slices["diff_edge_weight"] = diff_ptr.clone()
    dataset._data_list = None  # drop graphs that PyG cached without the diffusion
    return dataset


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


def _ppr_graphs(edge_index: Tensor, edge_ptr: Tensor, num_nodes: Tensor,
                alpha: float, sparsify: str, k: int, eps: float, memory_budget: int,
                progress: bool) -> tuple[Tensor, Tensor, Tensor]:
    r"""Sparsified PPR of many graphs: graph :math:`g` has ``num_nodes[g]`` nodes and
    the edges ``edge_index[:, edge_ptr[g]:edge_ptr[g + 1]]`` (local indices). Returns
    the kept entries as edges (local indices, graph after graph) and their weights on
    the device of ``edge_index``, and the per-graph pointer ``[G + 1]``."""
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


def _fingerprint(num_nodes: Tensor, edge_ptr: Tensor, edge_index: Tensor) -> str:
    digest = hashlib.sha256()
    for tensor in (num_nodes, edge_ptr, edge_index):
        digest.update(tensor.detach().to("cpu", torch.long).contiguous().numpy())
    return digest.hexdigest()


def _load_cache(path: Optional[str], key: str) -> Optional[tuple[Tensor, Tensor, Tensor]]:
    if path is None or not osp.exists(path):
        return None
    cached = torch.load(path, weights_only=True)
    if cached.get("key") != key:
        return None
    return cached["edge_index"], cached["edge_weight"], cached["ptr"]


def _save_cache(path: str, key: str, value: tuple[Tensor, Tensor, Tensor]) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    edge_index, edge_weight, ptr = value
    tmp = f"{path}.tmp{os.getpid()}"
    torch.save({"key": key, "edge_index": edge_index.cpu(),
                "edge_weight": edge_weight.cpu(), "ptr": ptr}, tmp)
    os.replace(tmp, path)
