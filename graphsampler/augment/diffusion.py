r"""MVGRL's diffusion view: the sparsified PPR diffusion (:mod:`graphsampler.augment.ppr`
has the formula) of one graph, and of every graph of a dataset, computed once, stored on
the graphs as ``diff_edge_index`` / ``diff_edge_weight`` and cached with the processed
dataset."""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp

import torch
from torch import Tensor
from torch_geometric.data import InMemoryDataset
from torch_geometric.data.dataset import MISSING  # the root of a root-less dataset

from graphsampler.augment.ppr import (
    DEFAULT_EPS,
    DEFAULT_K,
    DEFAULT_MEMORY_BUDGET,
    _check_params,
    ppr_diffusion_graphs,
)

_CACHE_FORMAT = 1


def ppr_diffusion(
    edge_index: Tensor,
    num_nodes: int,
    alpha: float = 0.2,
    sparsify: str = "topk",
    k: int = DEFAULT_K,
    eps: float = DEFAULT_EPS,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> tuple[Tensor, Tensor]:
    r"""The sparsified PPR diffusion :math:`\mathbf{S}` of one graph (see
    :mod:`graphsampler.augment.ppr` for the formula, the sparsification and the edge
    direction).

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
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 1:
        raise ValueError(f"num_nodes must be a positive int, got {num_nodes!r}")
    num_edges = edge_index.size(1) if edge_index.dim() == 2 else 0
    out_index, out_weight, _ = ppr_diffusion_graphs(
        edge_index, torch.tensor([0, num_edges]), torch.tensor([num_nodes]),
        alpha, sparsify, k, eps, memory_budget)
    return out_index, out_weight


def add_diffusion(
    dataset: InMemoryDataset,
    alpha: float = 0.2,
    sparsify: str = "topk",
    k: int = DEFAULT_K,
    eps: float = DEFAULT_EPS,
    cache_dir: str | None = None,
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
        .. code-block:: python

            from torch_geometric.datasets import TUDataset
            from torch_geometric.loader import DataLoader
            dataset = add_diffusion(TUDataset(root, "MUTAG"), k=32)
            batch = next(iter(DataLoader(dataset, batch_size=64)))
            batch.diff_edge_index, batch.diff_edge_weight  # the diffusion view
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
        cached = ppr_diffusion_graphs(edge_index, edge_ptr, num_nodes, alpha, sparsify, k,
                                      eps, memory_budget, progress)
        if path is not None:
            _save_cache(path, key, cached)
    diff_index, diff_weight, diff_ptr = cached
    storage.diff_edge_index = diff_index.to(edge_index.device)
    storage.diff_edge_weight = diff_weight.to(edge_index.device)
    slices["diff_edge_index"] = diff_ptr
    slices["diff_edge_weight"] = diff_ptr.clone()
    dataset._data_list = None  # drop graphs that PyG cached without the diffusion
    return dataset


def _fingerprint(num_nodes: Tensor, edge_ptr: Tensor, edge_index: Tensor) -> str:
    digest = hashlib.sha256()
    for tensor in (num_nodes, edge_ptr, edge_index):
        digest.update(tensor.detach().to("cpu", torch.long).contiguous().numpy())
    return digest.hexdigest()


def _load_cache(path: str | None, key: str) -> tuple[Tensor, Tensor, Tensor] | None:
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

