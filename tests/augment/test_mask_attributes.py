import math

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import erdos_renyi_graph

from graphsampler.augment.mask_attributes import MaskAttributes

SIZES = (1, 5, 9, 10, 11, 20, 33)


def feature_batch(sizes=SIZES, seed=0) -> Batch:
    torch.manual_seed(seed)
    return Batch.from_data_list([
        Data(x=torch.randn(n, 4) + 10, edge_index=erdos_renyi_graph(n, 0.3),
             sample_idx=torch.tensor(i))
        for i, n in enumerate(sizes)])


def changed_rows(view: Batch, batch: Batch) -> torch.Tensor:
    return (view.x != batch.x).any(dim=1)


@pytest.mark.parametrize("ratio", [0.1, 0.4])
@pytest.mark.parametrize("fill", ["gaussian", "zeros", "mean"])
def test_masks_the_expected_rows_per_graph(ratio, fill):
    batch = feature_batch()
    view = MaskAttributes(ratio, fill)(batch, torch.Generator().manual_seed(0))
    assert torch.equal(view.edge_index, batch.edge_index)
    assert torch.equal(view.ptr, batch.ptr) and torch.equal(view.sample_idx, batch.sample_idx)
    changed = changed_rows(view, batch)  # x is around 10, fills around 0.5: all differ
    for g, (original, augmented) in enumerate(zip(batch.to_data_list(), view.to_data_list())):
        n = original.num_nodes
        rows = changed[batch.ptr[g]:batch.ptr[g + 1]]
        assert int(rows.sum()) == int(n * ratio)
        if ratio == 0.1:
            assert int(rows.sum()) == int(n / 10)  # GraphCL's mask_num
        assert torch.equal(augmented.x[~rows], original.x[~rows])  # other rows untouched
        if fill == "zeros":
            assert (augmented.x[rows] == 0).all()
        elif fill == "mean":
            mean = sum(original.x[i] for i in range(n)) / n  # before masking
            for row in augmented.x[rows]:
                assert torch.allclose(row, mean, atol=1e-5)


def test_gaussian_fill_is_normal_half_half():
    graph = Data(x=torch.full((20, 50), 10.0), edge_index=torch.empty(2, 0, dtype=torch.long))
    batch = Batch.from_data_list([graph] * 100)
    view = MaskAttributes(0.1)(batch, torch.Generator().manual_seed(0))
    values = view.x[changed_rows(view, batch)]
    assert values.shape == (200, 50)
    # GraphCL's np.random.normal(loc=0.5, scale=0.5); 10,000 draws.
    assert values.mean().item() == pytest.approx(0.5, abs=0.03)
    assert values.std().item() == pytest.approx(0.5, abs=0.03)


def test_masks_each_node_equally_often():
    graph = Data(x=torch.full((10, 1), 10.0), edge_index=erdos_renyi_graph(10, 0.5))
    batch = Batch.from_data_list([graph] * 3000)
    view = MaskAttributes(0.2, "zeros")(batch, torch.Generator().manual_seed(1))
    rate = (view.x[:, 0] == 0).view(3000, 10).double().mean(dim=0)
    assert torch.allclose(rate, torch.full((10,), 0.2, dtype=torch.double), atol=0.03)


def test_graph_mask_and_reproducibility_and_input_untouched():
    batch = feature_batch()
    x = batch.x.clone()
    mask = torch.tensor([False, True, True, False, True, False, True])
    aug = MaskAttributes(0.3)
    first = aug(batch, torch.Generator().manual_seed(4), graph_mask=mask)
    second = aug(batch, torch.Generator().manual_seed(4), graph_mask=mask)
    assert torch.equal(first.x, second.x)
    assert torch.equal(batch.x, x)
    per_graph = torch.zeros(batch.num_graphs, dtype=torch.long).index_add_(
        0, batch.batch, changed_rows(first, batch).long())
    expected = [int(0.3 * n) if m else 0 for n, m in zip(SIZES, mask.tolist())]
    assert per_graph.tolist() == expected


def test_rejects_missing_or_integer_features():
    edges = torch.tensor([[0], [1]])
    no_x = Batch.from_data_list([Data(edge_index=edges, num_nodes=2)])
    with pytest.raises(ValueError, match=r"needs floating-point node features batch.x of shape "
                                         r"\[N, F\], got none"):
        MaskAttributes()(no_x)
    labels = Batch.from_data_list([Data(x=torch.ones(2, 3, dtype=torch.long), edge_index=edges)])
    with pytest.raises(ValueError, match="got dtype torch.int64, shape"):
        MaskAttributes()(labels)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"ratio must be a number in \[0, 1\) \(the fraction "
                                         r"of nodes masked per graph\)"):
        MaskAttributes(1.0)
    with pytest.raises(ValueError, match=r"ratio must be a number in \[0, 1\)"):
        MaskAttributes(math.nan)
    with pytest.raises(ValueError, match="fill must be one of gaussian, mean, zeros, got 'noise'"):
        MaskAttributes(0.1, "noise")


@pytest.mark.cuda
def test_cuda_masks_on_device():
    batch = feature_batch().to("cuda")
    for fill in ("gaussian", "mean", "zeros"):
        view = MaskAttributes(0.4, fill)(batch, torch.Generator(device="cuda").manual_seed(0))
        assert view.x.is_cuda
        assert int(changed_rows(view, batch).sum()) == sum(int(0.4 * n) for n in SIZES)
