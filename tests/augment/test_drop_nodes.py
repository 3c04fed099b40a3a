import math

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import erdos_renyi_graph

from graphsampler.augment.drop_nodes import DropNodes

SIZES = [1, 2, 9, 10, 11, 19, 20, 37]


def id_batch(sizes=SIZES, seed=0) -> Batch:
    """Random graphs whose x[:, 0] is the node's index in the batch and edge_attr[:, 0]
    the edge's, so a view tells which nodes and edges it kept."""
    torch.manual_seed(seed)
    data, first = [], 0
    for i, n in enumerate(sizes):
        edge_index = erdos_renyi_graph(n, 0.3)
        ids = torch.arange(first, first + n, dtype=torch.float)
        data.append(Data(
            x=torch.stack([ids, torch.randn(n)], dim=1),
            edge_index=edge_index,
            edge_attr=torch.randn(edge_index.size(1), 3),
            y=torch.tensor([i % 2]),
            sample_idx=torch.tensor(100 + i),
        ))
        first += n
    return Batch.from_data_list(data)


def assert_consistent(view: Batch, num_graphs: int) -> None:
    counts = view.ptr.diff()
    assert view.num_graphs == num_graphs and (counts >= 1).all()
    assert torch.equal(view.batch, torch.arange(num_graphs).repeat_interleave(counts))
    assert view.x.size(0) == view.batch.numel() == int(view.ptr[-1])
    src_graph, dst_graph = view.batch[view.edge_index]
    assert torch.equal(src_graph, dst_graph)  # edges stay inside their graph
    assert (src_graph.diff() >= 0).all()  # and stay grouped by graph
    assert view.edge_attr.size(0) == view.edge_index.size(1)


@pytest.mark.parametrize("ratio", [0.1, 0.35, 0.0, 0.75])
def test_matches_per_graph_subgraph_reference(ratio):
    batch = id_batch()
    view = DropNodes(ratio)(batch, torch.Generator().manual_seed(1))
    assert_consistent(view, batch.num_graphs)
    for original, augmented in zip(batch.to_data_list(), view.to_data_list()):
        n = original.num_nodes
        kept = augmented.x[:, 0].long() - int(original.x[0, 0])
        assert kept.tolist() == sorted(set(kept.tolist()))  # distinct, order kept
        assert n - kept.numel() == int(n * ratio)
        if ratio == 0.1:
            assert n - kept.numel() == int(n / 10)  # GraphCL's drop_num
        reference = original.subgraph(kept)
        for key in ("x", "edge_index", "edge_attr", "y", "sample_idx"):
            assert torch.equal(augmented[key], reference[key]), key


def test_edges_and_graph_attributes_checked_by_hand():
    # Path 0-1-2-3 plus an isolated-edge graph; dropping node 1 of a 10-node path.
    path = torch.tensor([[i for i in range(9)], [i + 1 for i in range(9)]])
    batch = Batch.from_data_list([
        Data(x=torch.arange(10.0).view(-1, 1), edge_index=path, sample_idx=torch.tensor(7)),
        Data(x=torch.zeros(3, 1), edge_index=torch.tensor([[0], [2]]),
             sample_idx=torch.tensor(9)),
    ])
    view = DropNodes(0.1)(batch, torch.Generator().manual_seed(3))
    dropped = sorted(set(range(10)) - set(view.x[:10 - 1, 0].long().tolist()))
    assert len(dropped) == 1
    d = dropped[0]
    relabel = {old: new for new, old in enumerate(i for i in range(10) if i != d)}
    expected = [(relabel[i], relabel[i + 1]) for i in range(9) if d not in (i, i + 1)]
    assert view.edge_index[:, :len(expected)].t().tolist() == [list(e) for e in expected]
    assert view.edge_index[:, len(expected):].tolist() == [[9], [11]]  # graph 2 untouched
    assert view.sample_idx.tolist() == [7, 9]


@pytest.mark.parametrize("ratio", [0.3, 0.8])  # 0.8 draws the 2 kept nodes instead
def test_drops_each_node_equally_often(ratio):
    graph = Data(x=torch.arange(10.0).view(-1, 1), edge_index=erdos_renyi_graph(10, 0.5))
    batch = Batch.from_data_list([graph] * 2000)
    view = DropNodes(ratio)(batch, torch.Generator().manual_seed(0))
    assert view.num_nodes == 2000 * (10 - int(10 * ratio))
    kept = torch.bincount(view.x[:, 0].long(), minlength=10).double()
    drop_rate = 1 - kept / 2000
    # sd of each rate is at most 0.011
    assert torch.allclose(drop_rate, torch.full((10,), ratio, dtype=torch.double), atol=0.05)


def test_graph_mask_leaves_other_graphs_unchanged():
    batch = id_batch()
    mask = torch.tensor([True, False] * 4)
    view = DropNodes(0.3)(batch, torch.Generator().manual_seed(2), graph_mask=mask)
    for i, (original, augmented) in enumerate(zip(batch.to_data_list(), view.to_data_list())):
        n = original.num_nodes
        assert augmented.num_nodes == (n - int(0.3 * n) if mask[i] else n)
        if not mask[i]:
            assert torch.equal(augmented.x, original.x)
            assert torch.equal(augmented.edge_index, original.edge_index)


def test_seeded_reproducible_and_input_untouched():
    batch = id_batch()
    before = {key: value.clone() for key, value in batch.items() if torch.is_tensor(value)}
    aug = DropNodes(0.3)
    first = aug(batch, torch.Generator().manual_seed(5))
    second = aug(batch, torch.Generator().manual_seed(5))
    other = aug(batch, torch.Generator().manual_seed(6))
    assert torch.equal(first.x, second.x) and torch.equal(first.edge_index, second.edge_index)
    assert not torch.equal(first.x[:, 0], other.x[:, 0])
    for key, value in before.items():
        assert torch.equal(batch[key], value), key
    assert first is not batch


def test_batch_without_features_updates_num_nodes():
    graphs = [Data(edge_index=erdos_renyi_graph(n, 0.4), num_nodes=n) for n in (12, 30, 5)]
    batch = Batch.from_data_list(graphs)
    assert batch.x is None
    view = DropNodes(0.1)(batch, torch.Generator().manual_seed(0))
    assert [d.num_nodes for d in view.to_data_list()] == [11, 27, 5]
    assert view.num_nodes == 43 == view.batch.numel()
    assert int(view.edge_index.max()) < 43


def test_attribute_levels_come_from_the_collation_record():
    # One edge and one graph-level value per graph: sizes alone cannot tell
    # sample_idx (graph-level) from edge_attr (edge-level).
    graphs = [Data(x=torch.arange(10.0).view(-1, 1), edge_index=torch.tensor([[k], [k + 1]]),
                   edge_attr=torch.tensor([[float(k)]]), sample_idx=torch.tensor(k))
              for k in range(6)]
    batch = Batch.from_data_list(graphs)
    view = DropNodes(0.5)(batch, torch.Generator().manual_seed(0))
    assert view.sample_idx.tolist() == list(range(6))
    for k, data in enumerate(view.to_data_list()):
        ends = {k, k + 1}
        survives = ends <= set(data.x[:, 0].long().tolist())
        assert data.edge_attr.tolist() == ([[float(k)]] if survives else [])


def test_node_count_equal_to_edge_count_keeps_levels():
    # As many edges as nodes in every graph: x is still node-level, edge_weight edge-level.
    ring = torch.tensor([[i for i in range(10)], [(i + 1) % 10 for i in range(10)]])
    graph = Data(x=torch.arange(10.0).view(-1, 1), edge_index=ring,
                 edge_weight=torch.arange(10.0))
    view = DropNodes(0.2)(Batch.from_data_list([graph] * 3), torch.Generator().manual_seed(4))
    for data in view.to_data_list():
        kept = set(data.x[:, 0].long().tolist())
        assert len(kept) == 8
        assert data.edge_weight.long().tolist() == [i for i in range(10)
                                                   if {i, (i + 1) % 10} <= kept]


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, math.nan, "0.1", True])
def test_rejects_bad_ratio(ratio):
    with pytest.raises(ValueError, match=r"ratio must be a number in \[0, 1\) \(the fraction "
                                         r"of nodes dropped per graph\)"):
        DropNodes(ratio)


def test_rejects_bad_inputs():
    batch = id_batch()
    aug = DropNodes()
    with pytest.raises(ValueError, match="take a collated torch_geometric.data.Batch"):
        aug(batch.to_data_list()[0])
    with pytest.raises(ValueError, match=r"graph_mask must be a bool tensor of shape \[8\] "
                                         r"\(one entry per graph\), got dtype torch.bool, "
                                         r"shape \[7\]"):
        aug(batch, graph_mask=torch.ones(7, dtype=torch.bool))
    with pytest.raises(ValueError, match="got dtype torch.float32, shape"):
        aug(batch, graph_mask=torch.ones(8))
    with pytest.raises(ValueError, match="got list"):
        aug(batch, graph_mask=[True] * 8)
    no_edges = Batch.from_data_list([Data(x=torch.ones(3, 1))])
    with pytest.raises(ValueError, match="needs 'batch' and 'edge_index' attributes"):
        aug(no_edges)
    shuffled = id_batch()
    shuffled.edge_index = shuffled.edge_index.flip(1)
    with pytest.raises(ValueError, match="nodes and edges must be grouped by graph"):
        aug(shuffled)
    late = id_batch()
    late.score = torch.zeros(late.num_nodes)
    with pytest.raises(ValueError, match="attribute 'score' has no per-graph slices"):
        aug(late)
    faces = Batch.from_data_list([Data(x=torch.ones(3, 1), edge_index=torch.tensor([[0], [1]]),
                                       face=torch.tensor([[0], [1], [2]]))] * 2)
    with pytest.raises(ValueError, match="attribute 'face' holds node indices"):
        aug(faces)


@pytest.mark.cuda
def test_cuda_matches_reference_and_checks_generator_device():
    batch = id_batch().to("cuda")
    with pytest.raises(ValueError, match="the generator is on cpu but the batch is on cuda"):
        DropNodes()(batch, torch.Generator())
    view = DropNodes(0.3)(batch, torch.Generator(device="cuda").manual_seed(0))
    assert view.x.is_cuda and view.edge_index.is_cuda and view.ptr.is_cuda
    view = view.cpu()
    assert_consistent(view, batch.num_graphs)
    for original, augmented in zip(batch.cpu().to_data_list(), view.to_data_list()):
        kept = augmented.x[:, 0].long() - int(original.x[0, 0])
        assert torch.equal(augmented.edge_index, original.subgraph(kept).edge_index)
