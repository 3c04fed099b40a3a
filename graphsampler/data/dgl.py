r"""DGL interop: a dataset wrapper whose items carry their dataset index.

The batch samplers are plain :class:`torch.utils.data.Sampler` objects, so
:class:`dgl.dataloading.GraphDataLoader` takes them as :obj:`batch_sampler` as it is, and
its default collate turns an int item field into a long tensor. What a DGL user lacks is
the index itself, to key :meth:`~graphsampler.UniformBatchSampler.update` by:
:class:`IndexedDGLDataset` appends it to every item. dgl is an optional dependency
(``pip install 'graphsampler[dgl]'``), imported only when the wrapper is built.
"""
from __future__ import annotations

import operator
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from torch.utils.data import Dataset


def _import_dgl() -> ModuleType:
    r"""Imports dgl, or says how to install it."""
    try:
        import dgl
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"graphsampler's DGL support needs dgl ({err}); install it with "
            "pip install 'graphsampler[dgl]'"
        ) from err
    return dgl


class IndexedDGLDataset(Dataset[tuple[Any, ...]]):
    r"""Wraps a DGL-style dataset of :obj:`(graph, label)` pairs so that :obj:`ds[i]` is
    :obj:`(graph, label, i)`.

    Any item that is a tuple or list starting with a :class:`dgl.DGLGraph` works: the
    index is appended as a last field (negative indices are normalised to
    :math:`i + N`). :class:`dgl.dataloading.GraphDataLoader` collates a batch into
    :obj:`(batched_graph, labels, idx)` with :obj:`idx` a long tensor of shape
    :math:`[B]` holding the dataset indices in batch order, the DGL counterpart of
    :obj:`batch.sample_idx` of :class:`~graphsampler.data.IndexedDataset`. Samplers key
    their embedding updates by it. Items are not copied; picklable, so it works with
    :obj:`num_workers > 0`. PyG graphs convert with
    :func:`torch_geometric.utils.to_dgl`.

    Args:
        dataset (Sequence): A DGL dataset (e.g. :class:`dgl.data.TUDataset`) or a list
            of :obj:`(DGLGraph, label)` pairs.

    Example:
        .. code-block:: python

            from dgl.dataloading import GraphDataLoader
            from torch_geometric.utils import to_dgl
            ds = IndexedDGLDataset([(to_dgl(d), d.y) for d in load_tu("MUTAG")])
            sampler = ProximityBatchSampler(len(ds), batch_size=128, num_candidates=100,
                                            num_neighbors=20, seed=0)
            loader = GraphDataLoader(ds, batch_sampler=sampler)
            for graph, y, idx in loader:
                z = model(graph, graph.ndata["x"])          # [B, d]
                sampler.update(idx, z.detach())
    """

    def __init__(self, dataset: Sequence[Any]) -> None:
        self._graph_type = _import_dgl().DGLGraph
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise ValueError(
                "IndexedDGLDataset needs a dataset with __getitem__ and __len__ (a DGL "
                f"dataset or a list of (graph, label) pairs), got {type(dataset).__name__}"
            )
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> tuple[Any, ...]:
        index = operator.index(idx)
        item = self.dataset[index]
        if not isinstance(item, (tuple, list)) or not item or \
                not isinstance(item[0], self._graph_type):
            kind = ("(" + ", ".join(type(f).__name__ for f in item) + ")"
                    if isinstance(item, (tuple, list)) else type(item).__name__)
            raise TypeError(
                f"IndexedDGLDataset items must be (DGLGraph, label) pairs, item {index} is "
                f"{kind}; convert PyG graphs with torch_geometric.utils.to_dgl"
            )
        return (*item, index % len(self.dataset))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dataset!r})"
