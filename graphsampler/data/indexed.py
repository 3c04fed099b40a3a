r"""A dataset wrapper that tells every graph its own dataset index."""
from __future__ import annotations

import copy
import operator
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset
from torch_geometric.data import Data


class IndexedDataset(Dataset[Data]):
    r"""Wraps a PyG dataset (or any sequence of :class:`~torch_geometric.data.Data`)
    so that :obj:`ds[i]` carries its index as :obj:`sample_idx`.

    :obj:`ds[i].sample_idx` is a long tensor of shape :math:`[1]` holding :math:`i`
    (negative indices are normalised to :math:`i + N`), so a collated
    :class:`~torch_geometric.data.Batch` has :obj:`batch.sample_idx` of shape
    :math:`[B]` with the dataset indices of its graphs, in batch order. Samplers key
    their embedding updates by it, which stays correct with worker processes and
    prefetching. The wrapped item is shallow-copied (tensors are shared, not cloned),
    so the wrapped dataset is never modified. :obj:`len()` and every other attribute
    (:obj:`num_features`, :obj:`num_classes`, :obj:`y`, ...) pass through to the
    wrapped dataset. Picklable, so it works with :obj:`num_workers > 0`.

    Args:
        dataset (Sequence[Data]): A PyG dataset or a list of :obj:`Data` objects.

    Example:
        >>> from torch_geometric.datasets import TUDataset
        >>> from torch_geometric.loader import DataLoader
        >>> ds = IndexedDataset(TUDataset(root, "MUTAG"))
        >>> loader = DataLoader(ds, batch_sampler=[[5, 0, 7], [1, 2]])
        >>> next(iter(loader)).sample_idx
        tensor([5, 0, 7])
    """

    def __init__(self, dataset: Sequence[Data]) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise ValueError(
                "IndexedDataset needs a dataset with __getitem__ and __len__ (a PyG "
                f"dataset or a list of Data), got {type(dataset).__name__}"
            )
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: Any) -> Data:
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
        data = copy.copy(self.dataset[index])
        data.sample_idx = torch.tensor([index], dtype=torch.long)
        return data

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails. Guard 'dataset' and dunders so that
        # unpickling (which probes __setstate__ before 'dataset' exists) cannot recurse.
        if name == "dataset" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dataset!r})"
