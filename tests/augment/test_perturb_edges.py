import math

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import erdos_renyi_graph

from graphsampler.augment.perturb_edges import PerturbEdges


def edge_id_batch(sizes=(1, 3, 8, 10, 15, 24), seed=0) -> Batch:
    """Random graphs whose edge_attr[:, 0] is 1 + the edge's index in the batch (added
    edges get zero rows, so a view tells kept edges from added ones)."""
    torch.manual_seed(seed)
    graphs, first = [], 0
    for i, n in enumerate(sizes):
        edge_index = erdos_renyi_graph(n, 0.4)
        m = edge_index.size(1)
        ids = torch.arange(first + 1, first + m + 1, dtype=torch.float)
        graphs.append(Data(x=torch.randn(n, 2), edge_index=edge_index,
                           edge_attr=torch.stack([ids, torch.randn(m)], dim=1),
                           sample_idx=torch.tensor(i)))
        first += m
    return Batch.from_data_list(graphs)


@pytest.mark.parametrize("ratio", [0.1, 0.45])
def test_replaces_the_specified_edges_within_each_graph(ratio):
    batch = edge_id_batch()
    view = PerturbEdges(ratio)(batch, torch.Generator().manual_seed(1))
    assert torch.equal(view.x, batch.x) and torch.equal(view.batch, batch.batch)
    assert torch.equal(view.ptr, batch.ptr) and torch.equal(view.sample_idx, batch.sample_idx)
    edge_graph = view.batch[view.edge_index[0]]
    assert torch.equal(edge_graph, view.batch[view.edge_index[1]])
    assert (edge_graph.diff() >= 0).all()
    first = 0  # batch index of the graph's first edge
    for original, augmented in zip(batch.to_data_list(), view.to_data_list()):
        m = original.num_edges
        assert augmented.num_edges == m  # edge count kept
        added = augmented.edge_attr[:, 0] == 0
        assert int(added.sum()) == int(m * ratio)
        if ratio == 0.1:
            assert int(added.sum()) == int(m / 10)  # GraphCL's permute_num
        assert (augmented.edge_attr[added] == 0).all()
        # Kept edges are distinct edges of this graph with their endpoints and attributes.
        kept_ids = augmented.edge_attr[~added, 0].long() - 1 - first
        assert kept_ids.unique().numel() == kept_ids.numel()
        assert torch.equal(augmented.edge_index[:, ~added], original.edge_index[:, kept_ids])
        assert torch.equal(augmented.edge_attr[~added], original.edge_attr[kept_ids])
        assert (augmented.edge_index[:, added] < original.num_nodes).all()
        first += m


def test_dropped_edges_and_added_endpoints_are_uniform():
    n = 6
    ring = torch.tensor([[i for i in range(n)], [(i + 1) % n for i in range(n)]])
    graph = Data(x=torch.zeros(n, 1), edge_index=ring, edge_attr=torch.arange(1.0, n + 1)[:, None])
    copies = 4000
    view = PerturbEdges(0.5)(Batch.from_data_list([graph] * copies),
                             torch.Generator().manual_seed(0))
    added = view.edge_attr[:, 0] == 0
    kept = torch.bincount(view.edge_attr[~added, 0].long() - 1, minlength=n) / copies
    # Each ring edge is replaced with probability 3/6 (sd 0.008).
    assert torch.allclose(kept, torch.full((n,), 0.5), atol=0.04)
    local = view.edge_index[:, added] - view.ptr[view.batch[view.edge_index[0, added]]]
    pairs = torch.bincount(local[0] * n + local[1], minlength=n * n).double()
    expected = 3 * copies / n**2  # uniform over the 36 ordered pairs, self-loops included
    chi2 = ((pairs - expected) ** 2 / expected).sum()
    assert chi2 < 35 + 5 * math.sqrt(2 * 35)


def test_graph_mask_leaves_other_graphs_unchanged():
    batch = edge_id_batch()
    mask = torch.tensor([True, True, False, True, False, False])
    view = PerturbEdges(0.3)(batch, torch.Generator().manual_seed(3), graph_mask=mask)
    for g, (original, augmented) in enumerate(zip(batch.to_data_list(), view.to_data_list())):
        changed = int((augmented.edge_attr[:, 0] == 0).sum())
        assert changed == (int(0.3 * original.num_edges) if mask[g] else 0)
        if not mask[g]:
            assert torch.equal(augmented.edge_index, original.edge_index)


def test_graph_without_edges_and_single_node_graph():
    graphs = [Data(x=torch.ones(1, 1), edge_index=torch.tensor([[0] * 10, [0] * 10])),
              Data(x=torch.ones(4, 1), edge_index=torch.empty(2, 0, dtype=torch.long))]
    view = PerturbEdges(0.2)(Batch.from_data_list(graphs), torch.Generator().manual_seed(0))
    assert view.edge_index.tolist() == [[0] * 10, [0] * 10]  # 2 of 10 self-loops replaced
    assert view.ptr.tolist() == [0, 1, 5]


def test_seeded_reproducible_and_input_untouched():
    batch = edge_id_batch()
    edge_index, edge_attr = batch.edge_index.clone(), batch.edge_attr.clone()
    aug = PerturbEdges(0.2)
    first = aug(batch, torch.Generator().manual_seed(9))
    second = aug(batch, torch.Generator().manual_seed(9))
    other = aug(batch, torch.Generator().manual_seed(10))
    assert torch.equal(first.edge_index, second.edge_index)
    assert torch.equal(first.edge_attr, second.edge_attr)
    assert not torch.equal(first.edge_index, other.edge_index)
    assert torch.equal(batch.edge_index, edge_index) and torch.equal(batch.edge_attr, edge_attr)


@pytest.mark.parametrize("ratio", [-0.5, 1.0, math.inf, None])
def test_rejects_bad_ratio(ratio):
    with pytest.raises(ValueError, match=r"ratio must be a number in \[0, 1\) \(the fraction "
                                         r"of edges replaced per graph\)"):
        PerturbEdges(ratio)


@pytest.mark.cuda
def test_cuda_keeps_edge_counts():
    batch = edge_id_batch().to("cuda")
    view = PerturbEdges(0.3)(batch, torch.Generator(device="cuda").manual_seed(0))
    assert view.edge_index.is_cuda
    assert torch.equal(view.batch[view.edge_index[0]], view.batch[view.edge_index[1]])
    assert torch.equal(view.batch[view.edge_index[0]].bincount(minlength=6),
                       batch.batch[batch.edge_index[0]].bincount(minlength=6))
