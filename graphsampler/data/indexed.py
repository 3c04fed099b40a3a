r"""A dataset wrapper that tells every graph its own dataset index."""
from __future__ import annotations

import copy
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset
from torch_geometric.data.data import BaseData

Item = Any  # a Data, or a tuple, list or dict holding Data


class IndexedDataset(Dataset[Item]):
    r"""Wraps a PyG dataset (or any sequence of :class:`~torch_geometric.data.Data`,
    or of tuples or dicts holding them) so that each graph of :obj:`ds[i]` carries its
    index as :obj:`sample_idx`.

    :obj:`ds[i].sample_idx` is a long tensor of shape :math:`[1]` holding :math:`i`
    (negative indices are normalised to :math:`i + N`), so a collated
    :class:`~torch_geometric.data.Batch` has :obj:`batch.sample_idx` of shape
    :math:`[B]` with the dataset indices of its graphs, in batch order. Samplers key
    their embedding updates by it, which stays correct with worker processes and
    prefetching. Items that are tuples, lists or dicts (e.g. GraphCL's
    :obj:`(data, data_aug)` pairs) get :obj:`sample_idx` on every
    :class:`~torch_geometric.data.Data` they hold, other fields unchanged; PyG's
    :class:`~torch_geometric.loader.DataLoader` collates them into a list (or dict) of
    batches, each with its :obj:`sample_idx`, so :obj:`for data, data_aug in loader`
    finds the indices in :obj:`data.sample_idx`. The wrapped items are shallow-copied
    (tensors are shared, not cloned), so the wrapped dataset is never modified.
    :obj:`len()` and every other attribute (:obj:`num_features`, :obj:`num_classes`,
    :obj:`y`, ...) pass through to the wrapped dataset. Picklable, so it works with
    :obj:`num_workers > 0`.

    Args:
        dataset (Sequence): A PyG dataset, or a sequence of :obj:`Data` objects or of
            tuples, lists or dicts holding them.

    Raises:
        ValueError: If :obj:`dataset` is no sequence, or an item holds no :obj:`Data`
            (checked on each item served, and on the first item when wrapping a
            list or tuple; wrapping a dataset fetches nothing, so it draws nothing from
            any random state its :obj:`__getitem__` uses).

    Example:
        .. code-block:: python

            from torch_geometric.datasets import TUDataset
            from torch_geometric.loader import DataLoader
            ds = IndexedDataset(TUDataset(root, "MUTAG"))
            loader = DataLoader(ds, batch_sampler=[[5, 0, 7], [1, 2]])
            next(iter(loader)).sample_idx  # tensor([5, 0, 7])
            pairs = IndexedDataset([(d, d.clone()) for d in TUDataset(root, "MUTAG")])
            data, data_aug = next(iter(DataLoader(pairs, batch_sampler=[[4, 2]])))
            data.sample_idx, data_aug.sample_idx  # (tensor([4, 2]), tensor([4, 2]))
    """

    def __init__(self, dataset: Sequence[Item]) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise ValueError(
                "IndexedDataset needs a dataset with __getitem__ and __len__ (a PyG "
                f"dataset or a list of Data), got {type(dataset).__name__}"
            )
        self.dataset = dataset
        if isinstance(dataset, (list, tuple)) and len(dataset) > 0:
            # A list's items are there already: a type it cannot index fails here, before
            # any work. A dataset's __getitem__ may augment (draw random numbers) or load:
            # its items are checked as they are served, so wrapping draws nothing.
            self[0]

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: Any) -> Item:
        if isinstance(idx, bool):
            raise IndexError(f"IndexedDataset index must be an integer, got {idx!r}")
        try:
            index = operator.index(idx)
        except TypeError:
            raise IndexError(
                "IndexedDataset index must be an integer (int, numpy integer or 0-d "
                f"integer tensor), got {type(idx).__name__}"
            ) from None
        size = len(self.dataset)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for a dataset of {size} items")
        index %= size
        return _with_index(self.dataset[index], index)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails. Guard 'dataset' and dunders so that
        # unpickling (which probes __setstate__ before 'dataset' exists) cannot recurse.
        if name == "dataset" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dataset!r})"


def _with_index(item: Item, index: int) -> Item:
    r"""A shallow copy of ``item`` whose every :obj:`Data` carries ``sample_idx``."""
    def tag(field: Any) -> Any:
        if not isinstance(field, BaseData):
            return field
        field = copy.copy(field)
        field.sample_idx = torch.tensor([index], dtype=torch.long)
        return field

    if isinstance(item, BaseData):
        return tag(item)
    if isinstance(item, Mapping):
        fields = list(item.values())
        tagged: Any = {key: tag(value) for key, value in item.items()}
    elif isinstance(item, (tuple, list)):
        fields = list(item)
        values = [tag(value) for value in item]
        tagged = type(item)(*values) if hasattr(item, "_fields") else type(item)(values)
    else:
        fields = []
    if not any(isinstance(field, BaseData) for field in fields):
        inner = f" ({', '.join(type(f).__name__ for f in fields)})" if fields else ""
        raise ValueError(
            "IndexedDataset items must be Data, or tuples, lists or dicts holding Data; "
            f"item {index} is {type(item).__name__}{inner}: wrap the graphs in "
            "torch_geometric.data.Data"
        )
    return tagged
