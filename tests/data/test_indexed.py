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


def _pairs(n: int = 6) -> list[tuple[Data, Data]]:
    # GraphCL's unsupervised_TU dataset yields (data, data_aug): two views of graph i.
    return [(d, Data(x=d.x + 100, edge_index=d.edge_index, y=d.y)) for d in _data_list(n)]


@pytest.mark.parametrize("kind", [tuple, list])
def test_tuple_and_list_items_index_every_graph(kind):
    items = [kind(pair) + kind(["extra"]) for pair in _pairs()]
    ds = IndexedDataset(items)
    item = ds[-2]
    assert type(item) is kind and len(item) == 3 and item[2] == "extra"
    assert [g.sample_idx.tolist() for g in item[:2]] == [[4], [4]]
    assert item[1].x[0, 0].item() == 104  # the second view, untouched otherwise
    assert all("sample_idx" not in g for pair in items for g in pair[:2])

    batches = [[3, 0, 5], [1, 2, 4]]
    for (data, data_aug, extra), idx in zip(DataLoader(ds, batch_sampler=batches), batches):
        assert data.sample_idx.tolist() == data_aug.sample_idx.tolist() == idx
        assert data.y.tolist() == idx and (data_aug.x[:, 0] - data.x[:, 0] == 100).all()
        assert list(extra) == ["extra"] * len(idx)


def test_namedtuple_and_dict_items():
    from collections import namedtuple

    Views = namedtuple("Views", "data aug")
    ds = IndexedDataset([Views(*pair) for pair in _pairs()])
    assert type(ds[1]) is Views and ds[1].aug.sample_idx.tolist() == [1]

    ds = IndexedDataset([{"graph": d, "weight": float(i)} for i, d in enumerate(_data_list())])
    batch = next(iter(DataLoader(ds, batch_sampler=[[5, 1]])))
    assert batch["graph"].sample_idx.tolist() == [5, 1]
    assert batch["graph"].y.tolist() == [5, 1]
    assert batch["weight"].tolist() == [5.0, 1.0]


def test_items_without_data_are_refused_when_wrapping():
    with pytest.raises(ValueError, match=r"^IndexedDataset items must be Data, or tuples, "
                                         r"lists or dicts holding Data; item 0 is tuple "
                                         r"\(Tensor, int\): wrap the graphs in "
                                         r"torch_geometric\.data\.Data$"):
        IndexedDataset([(torch.zeros(3), 1)])
    with pytest.raises(ValueError, match=r"item 0 is int: wrap"):
        IndexedDataset([7, 8])
    ds = IndexedDataset(_data_list(2) + [{"x": torch.zeros(1)}])  # a bad item later on
    with pytest.raises(ValueError, match=r"item 2 is dict \(Tensor\): wrap"):
        ds[2]
    assert len(IndexedDataset([])) == 0


class _Augmenting(torch.utils.data.Dataset):
    r"""A dataset whose items are drawn anew on each access (numpy's global state), as
    an augmenting dataset's are."""

    def __init__(self, graphs):
        self.graphs = graphs

    def __len__(self):
        return len(self.graphs)

    def __getitem__(self, i):
        data = self.graphs[i].clone()
        data.x = data.x * float(np.random.rand())
        return data


def test_wrapping_draws_nothing_from_any_random_state():
    np.random.seed(0)
    expected = np.random.rand()
    np.random.seed(0)
    torch_state = torch.get_rng_state()
    ds = IndexedDataset(_Augmenting(_data_list(3)))
    assert np.random.rand() == expected  # the first draw is still the seed's first
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert ds[1].sample_idx.tolist() == [1]
    numbers = _Augmenting([7, 8])
    numbers.__class__ = type("Numbers", (_Augmenting,), {"__getitem__": lambda s, i: 7})
    bad = IndexedDataset(numbers)  # no Data: found when an item is served
    with pytest.raises(ValueError, match=r"item 0 is int: wrap"):
        bad[0]
