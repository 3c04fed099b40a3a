r"""Copies: graphs of a dataset that are isomorphic, found from structure once, at load.

Copies are false negatives for every sampler and every encoder (Ivanov et al., 2019,
"Understanding Isomorphism Bias in Graph Data Sets": 80.8% of IMDB-MULTI's graphs have
an isomorphic copy). :func:`dataset_copy_ids` gives every graph a class id, the smallest
index of the graphs isomorphic to it
(:func:`~graphsampler.data.isomorphism.isomorphism_classes`: 1-WL buckets computed over
the collated dataset, split exactly by networkx's VF2++ where every graph of a bucket
has at most ``exact_max_nodes`` nodes), and caches them beside PyG's processed files,
keyed by a hash of the graphs.

Node labels are the distinct rows of ``x``: one-hot node labels give the label, a
constant feature gives unlabelled graphs (degree features give the same classes as none,
being structural). Edge labels are ignored. :func:`attach_copy_ids` stores the ids as
``copy_id`` so that a batch carries ``batch.copy_id`` of shape :math:`[B]`;
:func:`copy_summary` gives the numbers a report needs.

Example:
    .. code-block:: python

        ds = load_tu("IMDB-BINARY")
        copy_summary(dataset_copy_ids(ds), ds.y)  # computed once, cached after
        # {'copy_share': 0.579, 'largest_group': 48, 'ceiling_accuracy': 88.6}
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import InMemoryDataset
from torch_geometric.data.dataset import MISSING  # the root of a root-less dataset

from .features import collated_edge_index
from .isomorphism import DEFAULT_EXACT_MAX_NODES, isomorphism_classes, node_labels

_CACHE_FORMAT = 1


def dataset_copy_ids(dataset: InMemoryDataset, *,
                     exact_max_nodes: int = DEFAULT_EXACT_MAX_NODES,
                     cache_dir: str | os.PathLike[str] | None = None) -> Tensor:
    r"""The isomorphism-class id of every graph of an in-memory PyG dataset
    (:func:`isomorphism_classes` over its collated storage, labels from its ``x``),
    computed once and cached in ``cache_dir`` as ``copy_ids_<hash>.pt``, the hash
    covering the graphs, their labels and ``exact_max_nodes``.

    Args:
        dataset (InMemoryDataset): E.g. a :class:`~torch_geometric.datasets.TUDataset`.
        exact_max_nodes (int): As :func:`isomorphism_classes`. (default: :obj:`200`)
        cache_dir (str or PathLike, optional): Cache folder. (default: the dataset's
            ``processed_dir``; no cache for a dataset without a root)

    Returns:
        torch.Tensor: Shape :math:`[G]`, int64.

    Example:
        .. code-block:: python

            ids = dataset_copy_ids(load_tu("MUTAG"))  # cached in datasets/MUTAG/processed
    """
    if not isinstance(dataset, InMemoryDataset) or dataset.slices is None \
            or "edge_index" not in dataset.slices:
        raise ValueError("dataset must be a torch_geometric InMemoryDataset with collated "
                         f"edge_index (e.g. a TUDataset), got {type(dataset).__name__}")
    if dataset._indices is not None:
        raise ValueError("dataset is a view (an index or a slice of another dataset): "
                         "compute the ids on the whole dataset, then index them")
    data, slices = dataset._data, dataset.slices
    sizes = torch.tensor([dataset.get(i).num_nodes for i in range(dataset.len())]) \
        if "x" not in slices else slices["x"].diff()
    ptr = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)])
    edge_index = collated_edge_index(data.edge_index, slices["edge_index"], ptr)
    labels = node_labels(data.x, int(ptr[-1]))
    digest = hashlib.sha256()
    for tensor in (ptr, slices["edge_index"], data.edge_index, labels):
        digest.update(tensor.detach().to("cpu", torch.long).contiguous().numpy())
    key = json.dumps({"format": _CACHE_FORMAT, "exact_max_nodes": exact_max_nodes,
                      "graphs": digest.hexdigest()}, sort_keys=True)
    if cache_dir is None and dataset.root not in (None, MISSING):
        cache_dir = dataset.processed_dir
    path = None if cache_dir is None else os.path.join(
        cache_dir, f"copy_ids_{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt")
    if path is not None and os.path.exists(path):
        cached = torch.load(path, weights_only=True)
        if cached.get("key") == key:
            return cached["copy_ids"]
    ids = isomorphism_classes(edge_index, labels, ptr, exact_max_nodes=exact_max_nodes)
    if path is not None:
        os.makedirs(cache_dir, exist_ok=True)  # type: ignore[arg-type]
        tmp = f"{path}.tmp{os.getpid()}"
        torch.save({"key": key, "copy_ids": ids}, tmp)
        os.replace(tmp, path)
    return ids


def attach_copy_ids(dataset: InMemoryDataset, **kwargs: Any) -> InMemoryDataset:
    r"""Stores :func:`dataset_copy_ids` in the dataset as ``copy_id``: graph :math:`i`
    gets ``data.copy_id`` of shape :math:`[1]`, a batch ``batch.copy_id`` of shape
    :math:`[B]`, and ``dataset.copy_id`` is the :math:`[G]` tensor. Keyword arguments go
    to :func:`dataset_copy_ids`. Returns the same dataset.

    Example:
        .. code-block:: python

            ds = attach_copy_ids(load_tu("MUTAG"))
            ds[0].copy_id  # tensor([0])
    """
    ids = dataset_copy_ids(dataset, **kwargs)
    dataset._data.copy_id = ids
    dataset.slices["copy_id"] = torch.arange(ids.numel() + 1)
    dataset._data_list = None  # drop graphs that PyG cached without copy_id
    return dataset


def dataset_copy_summary(dataset: InMemoryDataset, **kwargs: Any) -> dict[str, float | int]:
    r""":func:`copy_summary` of a dataset's :func:`dataset_copy_ids` (cached) and its
    labels ``y``; keyword arguments go to :func:`dataset_copy_ids`.

    Example:
        .. code-block:: python

            dataset_copy_summary(load_tu("IMDB-MULTI"))
            # {'copy_share': 0.808, 'largest_group': 307, 'ceiling_accuracy': 63.27}
    """
    return copy_summary(dataset_copy_ids(dataset, **kwargs), dataset._data.y)


def copy_summary(copy_ids: Tensor, y: Tensor) -> dict[str, float | int]:
    r"""What copies cost a dataset: ``copy_share``, the fraction of graphs in a copy
    group of two or more; ``largest_group``, its size; ``ceiling_accuracy``, the best
    accuracy (in %) any classifier can reach, being a function of the graph: the
    majority label of each group counted right, the others wrong.

    Args:
        copy_ids (torch.Tensor): Class ids, shape :math:`[G]`.
        y (torch.Tensor): Graph labels, shape :math:`[G]`.

    Returns:
        dict: ``{"copy_share": float, "largest_group": int, "ceiling_accuracy": float}``.

    Example:
        >>> copy_summary(torch.tensor([0, 0, 0, 3]), torch.tensor([1, 1, 0, 0]))
        {'copy_share': 0.75, 'largest_group': 3, 'ceiling_accuracy': 75.0}
    """
    copy_ids, y = copy_ids.reshape(-1).cpu(), y.reshape(-1).cpu()
    if copy_ids.numel() != y.numel() or copy_ids.numel() == 0:
        raise ValueError(f"copy_ids and y must hold one entry per graph (and some), got "
                         f"{copy_ids.numel()} and {y.numel()}")
    group = torch.unique(copy_ids, return_inverse=True)[1]
    sizes = torch.bincount(group)
    label = torch.unique(y, return_inverse=True)[1]
    width = int(label.max()) + 1
    counts = torch.bincount(group * width + label, minlength=sizes.numel() * width)
    majority = counts.view(-1, width).max(dim=1).values
    return {"copy_share": float((sizes[group] >= 2).double().mean()),
            "largest_group": int(sizes.max()),
            "ceiling_accuracy": 100.0 * float(majority.sum()) / copy_ids.numel()}
