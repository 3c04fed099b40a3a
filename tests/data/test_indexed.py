import pickle

import numpy as np
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.datasets import FakeDataset
from torch_geometric.loader import DataLoader

from graphsampler.data import IndexedDataset


def _data_list(n: int = 6) -> list[Data]:
    # Graph i has i + 1 nodes on a path and label i, so every item is recognisable.
    out = []
    for i in range(n):
        src = torch.arange(i)
        ei = torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])
        out.append(Data(x=torch.full((i + 1, 1), float(i)), edge_index=ei, y=torch.tensor([i])))
    return out


def test_getitem_adds_sample_idx_without_touching_the_source():
    items = _data_list()
    ds = IndexedDataset(items)
    assert len(ds) == 6
    for i in range(6):
        d = ds[i]
        assert d.sample_idx.dtype == torch.long and d.sample_idx.tolist() == [i]
        assert d.y.item() == i and d.num_nodes == i + 1
    assert ds[np.int64(2)].sample_idx.item() == 2
    assert ds[torch.tensor(3)].sample_idx.item() == 3
    assert ds[-1].sample_idx.item() == 5 and ds[-1].y.item() == 5
    assert all("sample_idx" not in d for d in items)


def test_bad_index_raises_index_error():
    ds = IndexedDataset(_data_list())
    with pytest.raises(IndexError, match=r"index 6 is out of range for a dataset of 6 items"):
        ds[6]
    with pytest.raises(IndexError, match=r"index -7 is out of range for a dataset of 6 items"):
        ds[-7]
    with pytest.raises(IndexError, match=r"index must be an integer .*got str"):
        ds["0"]
    with pytest.raises(IndexError, match=r"index must be an integer .*got slice"):
        ds[0:2]
    with pytest.raises(IndexError, match=r"index must be an integer .*got float"):
        ds[1.0]
    with pytest.raises(IndexError, match=r"index must be an integer, got True"):
        ds[True]


def test_rejects_non_sequences():
    with pytest.raises(ValueError, match=r"needs a dataset with __getitem__ and __len__.*got int"):
        IndexedDataset(3)


def test_attributes_pass_through_to_pyg_dataset():
    inner = FakeDataset(num_graphs=8, avg_num_nodes=6, num_channels=3, num_classes=3)
    ds = IndexedDataset(inner)
    assert len(ds) == len(inner) == 8
    assert ds.num_features == inner.num_features == 3
    assert ds.num_classes == inner.num_classes
    torch.testing.assert_close(ds.y, inner.y)
    with pytest.raises(AttributeError):
        ds.no_such_attribute


def test_pickle_round_trip():
    ds = IndexedDataset(FakeDataset(num_graphs=5, avg_num_nodes=4, num_channels=2))
    clone = pickle.loads(pickle.dumps(ds))
    assert len(clone) == 5
    for i in range(5):
        torch.testing.assert_close(clone[i].x, ds[i].x)
        assert clone[i].sample_idx.item() == i


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_with_batch_sampler_yields_requested_indices(num_workers):
    inner = FakeDataset(num_graphs=12, avg_num_nodes=5, num_channels=2, num_classes=4)
    ds = IndexedDataset(inner)
    batches = [[3, 0, 7], [11], [1, 2, 10, 4], [9, 8, 6, 5]]
    loader = DataLoader(ds, batch_sampler=batches, num_workers=num_workers)

    seen = list(loader)

    assert len(seen) == len(batches)
    for batch, idx in zip(seen, batches):
        assert batch.sample_idx.shape == (len(idx),)
        assert batch.sample_idx.tolist() == idx
        assert batch.y.tolist() == inner.y[idx].tolist()
        sizes = torch.bincount(batch.batch, minlength=len(idx)).tolist()
        assert sizes == [inner[i].num_nodes for i in idx]
